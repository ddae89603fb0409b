/* tui_job.c — the TUI's job rules without a terminal: how a typed line is classified (long →
 * worker thread; while a job runs only CMD_WHILEJOB commands), the worker's body, and how a
 * command runs on the UI thread while the worker holds the state (app.h, "the state lock").
 * Kept apart from tui.c so that tests drive exactly this code against a running job. */
#include "tui_priv.h"
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tui_line_classify(const char *line, struct tui_line_kind *k)
{
    memset(k, 0, sizeof *k);
    k->all_while = true;
    char **pieces = NULL;
    int np = cmd_split_line(line, &pieces);
    if (np < 0) return -1;
    for (int i = 0; i < np; i++) {
        const struct cmd_entry *e = cmd_lookup_line(pieces[i]);
        if (e) {
            if (e->flags & CMD_LONG) k->is_long = true;
            if (!(e->flags & CMD_NOSTATE)) k->needs_state = true;
            if (!(e->flags & CMD_WHILEJOB) && k->all_while) {
                k->all_while = false;
                const char *w = pieces[i] + strspn(pieces[i], " \t");
                snprintf(k->blocked, sizeof k->blocked, "%.*s", (int)strcspn(w, " \t"), w);
            }
            if (!strcmp(e->name, "quit") || !strcmp(e->name, "exit")) k->has_quit = true;
        } else {
            k->needs_state = true;   /* unknown: cmd_run_line reports it; no harm in locking */
        }
        free(pieces[i]);
    }
    free(pieces);
    qv_clearerr();
    k->empty = np == 0;
    return 0;
}

int tui_job_body(struct qv_app *app, const char *line, bool keep_going,
                 struct tui_snapshot **snap)
{
    app_job_begin(app);
    int rc = cmd_run_line(app, line, keep_going);
    if (snap) *snap = tui_snapshot_take(app);   /* still under the lock: a consistent state */
    app_job_end(app);
    return rc;
}

int tui_run_during_job(struct qv_app *app, const char *line, const struct tui_line_kind *k,
                       double wait)
{
    if (!k->needs_state) return cmd_run_line(app, line, false);   /* flags, views, help */
    if (app_state_lock(app, wait)) {
        char w[64];
        snprintf(w, sizeof w, "%.*s", (int)strcspn(line + strspn(line, " \t"), " \t;"),
                 line + strspn(line, " \t"));
        return qv_error(app, "%s: %s", w, qv_errmsg());
    }
    int rc = cmd_run_line(app, line, false);
    app_state_unlock(app);
    return rc;
}
