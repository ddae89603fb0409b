/* train_sched.c — the learning-rate schedules of a `train` call (train.h: enum train_lrs). */
#include "train.h"
#include <math.h>
#include <string.h>

int train_lrs_parse(const char *s, enum train_lrs *out)
{
    if (!strcmp(s, "const")) *out = TRAIN_LRS_CONST;
    else if (!strcmp(s, "dvae")) *out = TRAIN_LRS_DVAE;
    else if (!strcmp(s, "cosine")) *out = TRAIN_LRS_COSINE;
    else return qv_seterr("--lr-schedule: unknown schedule '%s' (const, dvae, cosine)", s);
    return 0;
}

double train_lrs_mult(enum train_lrs s, double p)
{
    p = p < 0 ? 0 : p > 1 ? 1 : p;
    switch (s) {
    case TRAIN_LRS_DVAE:
        return p < 0.02 ? 0.1 : p < 0.6 ? 1.0 : p < 0.75 ? 1.0 / 3 : p < 0.95 ? 0.1 : 1.0 / 33;
    case TRAIN_LRS_COSINE: return 0.5 * (1.0 + cos(M_PI * p));
    default: return 1.0;
    }
}
