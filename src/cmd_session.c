/* cmd_session.c — the `session` command group: save, load, list. */
#include "cmd.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir_opt(struct qv_app *app, const struct cmd_args *a)
{
    return cmd_str(a, "dir", app->session_dir);
}

static int run_save(struct qv_app *app, const struct cmd_args *a)
{
    const char *dir = dir_opt(app, a);
    if (session_save(app, a->pos[0], dir)) return qv_error(app, "session save: %s", qv_errmsg());
    qv_printf(app, "saved session %s in %s/%s", a->pos[0], dir, a->pos[0]);
    return 0;
}

static int run_load(struct qv_app *app, const struct cmd_args *a)
{
    const char *dir = dir_opt(app, a);
    if (session_load(app, a->pos[0], dir))
        return qv_error(app, "session load: %s (current state kept)", qv_errmsg());
    qv_printf(app, "loaded session %s from %s/%s", a->pos[0], dir, a->pos[0]);
    return 0;
}

static int run_list(struct qv_app *app, const struct cmd_args *a)
{
    const char *dir = dir_opt(app, a);
    char **v = session_list(dir);
    if (!v) return qv_error(app, "session list: %s", qv_errmsg());
    int n = 0;
    for (; v[n]; n++) {
        qv_printf(app, "%s%s", v[n], strcmp(v[n], app->session_name) == 0 ? "  (current)" : "");
        free(v[n]);
    }
    free(v);
    if (n == 0) qv_printf(app, "no sessions in %s", dir);
    return 0;
}

static const struct cmd_opt sess_opts[] = {
    {"dir", CMD_OPT_PATH, "folder holding sessions (default: sessions/ or $QVAE_SESSIONS)", NULL},
    {NULL},
};

static const struct cmd_entry session_sub[] = {
    {.name = "save", .usage = "session save NAME [--dir D]",
     .summary = "save the workbench state as a named session",
     .help = "Writes D/NAME/session.json (versioned, with a checksum) and binary blobs of a new\n"
             "generation: blobs first, then session.json by temporary file, fsync and rename, then\n"
             "older generations are removed.  An interrupted save leaves the previous session\n"
             "loadable.  API tokens are never written.",
     .min_pos = 1, .max_pos = 1, .opts = sess_opts, .complete = CMD_COMPLETE_SESSION,
     .run = run_save, .flags = CMD_LONG},
    {.name = "load", .usage = "session load NAME [--dir D]",
     .summary = "replace the workbench state by a saved session",
     .help = "Checks the format version, the checksum and every blob before building a new state;\n"
             "a missing, corrupt, truncated or newer-version session is an error and the current\n"
             "state stays as it was.  The dataset is re-read from its recorded files.",
     .min_pos = 1, .max_pos = 1, .opts = sess_opts, .complete = CMD_COMPLETE_SESSION,
     .run = run_load, .flags = CMD_LONG},
    {.name = "list", .usage = "session list [--dir D]", .summary = "list saved sessions",
     .help = "Names of the folders of D holding a session.json; the current one is marked.",
     .min_pos = 0, .max_pos = 0, .opts = sess_opts, .run = run_list, .flags = CMD_WHILEJOB},
    {0},
};

const struct cmd_entry cmd_session_entry = {
    .name = "session", .usage = "session save|load|list …",
    .summary = "save, load and list sessions", .sub = session_sub,
    .help = "Sessions live under sessions/ (QVAE_SESSIONS or --dir overrides): one folder per name\n"
            "with session.json and binary blobs (dataset reference, prior, model, sampler, schedule).",
};
