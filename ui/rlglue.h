/* rlglue.h — the readline glue both front ends share (the plain prompt of frontend.c and the
 * workbench's callback-driven line editor in tui_rl.c): completion from the command table,
 * and the history file (redacted lines, appended at once, capped at RLGLUE_HISTORY_MAX).
 * Readline keeps global state, so so does this: one front end at a time. */
#ifndef QV_RLGLUE_H
#define QV_RLGLUE_H

#include "app.h"

#define RLGLUE_HISTORY_MAX 2000

/* Program name, completion from cmd_complete_line for app, and the history loaded (the file
 * is created so later lines can be appended). */
void rlglue_init(struct qv_app *app);
/* Record a typed line: redacted into red[n] (what may be logged), added to the history and
 * appended to the file unless it repeats the previous entry.  Blank lines are skipped
 * (red = ""). */
void rlglue_history_add(const char *line, char *red, size_t n);
/* Free the completion candidates still held. */
void rlglue_free(void);

#endif
