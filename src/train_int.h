/* train_int.h — shared inside the training module (train.c, train_val.c); not for callers. */
#ifndef QV_TRAIN_INT_H
#define QV_TRAIN_INT_H

#include "app.h"
#include <stdbool.h>

/* Whether model, prior and (need_data) data fit together: 0, or -1 with an error naming the
 * problem (no model, no data, widths, prior kind and size). */
int train_check_setup(struct qv_app *app, bool need_data);
/* log Z of bm for reporting: exact up to 20 units, else a small population annealing run (NaN on
 * failure or cancel). */
void train_quick_logz(struct qv_app *app, const struct bm *bm, uint64_t seed, double *logz, double *err);

#endif
