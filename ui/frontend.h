/* frontend.h — shared pieces of the non-curses front ends (batch runner, plain readline REPL). */
#ifndef QV_FRONTEND_H
#define QV_FRONTEND_H
#include "app.h"
#include <stdio.h>

/* The batch sink: log lines to stdout/stderr (errors as "error: …", prefixed with the script
 * position when one is set), a progress bar on stderr when it is a terminal. */
void frontend_sink_init(struct qv_app *app);
void frontend_set_position(const char *file, long line);   /* file NULL = none */

/* Run every line of a stream as commands (script or non-terminal stdin).  Returns the exit
 * status: 0, 1 (an error; stops at the first unless keep_going). */
int frontend_run_stream(struct qv_app *app, FILE *f, const char *name, bool keep_going);

/* Plain readline prompt (history, completion from the command table). */
int repl_main(struct qv_app *app);
/* History file path (under qv_state_dir()); lines are redacted before they are stored. */
const char *frontend_history_path(void);
/* SIGINT sets app->cancel (a second one while nothing stops terminates). */
void frontend_install_sigint(struct qv_app *app);

#endif
