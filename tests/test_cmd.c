/* test_cmd.c — the command language: splitting, quoting, comments, resolution by unique prefix,
 * ambiguity, argument counts, option parsing and typing, dispatch status, completion, redaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* capture sink */
static char logbuf[65536];
static void cap_log(void *ud, enum qv_level lv, const char *line)
{
    size_t o = strlen(logbuf);
    snprintf(logbuf + o, sizeof logbuf - o, "%s%s\n", lv == QV_LOG_ERROR ? "error: " : "", line);
}
static void app_setup(struct qv_app *app)
{
    app_init(app, &qv_workbench);
    app->sink.log = cap_log;
    logbuf[0] = 0;
}

static void test_split(void **st)
{
    char buf[256];
    char *w[16];
    int n = cmd_split("  data load  \"a b\" 'c;d' e\\ f ", buf, sizeof buf, w, 16);
    assert_int_equal(n, 5);
    assert_string_equal(w[0], "data");
    assert_string_equal(w[2], "a b");
    assert_string_equal(w[3], "c;d");
    assert_string_equal(w[4], "e f");
    assert_int_equal(cmd_split("echo \"open", buf, sizeof buf, w, 16), -1);
    assert_non_null(strstr(qv_errmsg(), "unterminated"));
    assert_int_equal(cmd_split("", buf, sizeof buf, w, 16), 0);
}

static void test_split_line(void **st)
{
    char **p;
    int n = cmd_split_line("seed 3; echo 'x;y' # comment; ignored\n ; ", &p);
    assert_int_equal(n, 2);
    assert_string_equal(p[0], "seed 3");
    assert_string_equal(p[1], " echo 'x;y' ");
    for (int i = 0; i < n; i++) free(p[i]);
    free(p);
    n = cmd_split_line("# only a comment", &p);
    assert_int_equal(n, 0);
    free(p);
}

static int parse(const char *text, struct cmd_args *a, char *buf, size_t bufsz, char **w)
{
    int n = cmd_split(text, buf, bufsz, w, CMD_MAX_WORDS);
    assert_true(n >= 0);
    return cmd_parse(n, w, a);
}

static void test_parse(void **st)
{
    char buf[512];
    char *w[CMD_MAX_WORDS];
    struct cmd_args a;
    assert_int_equal(parse("see 5", &a, buf, sizeof buf, w), 0);   /* unique prefix */
    assert_string_equal(a.cmd->name, "seed");
    assert_int_equal(a.npos, 1);
    assert_int_equal(parse("e x", &a, buf, sizeof buf, w), -1);   /* echo / exit */
    assert_non_null(strstr(qv_errmsg(), "ambiguous"));
    assert_non_null(strstr(qv_errmsg(), "echo"));
    assert_int_equal(parse("nosuch", &a, buf, sizeof buf, w), -1);
    assert_non_null(strstr(qv_errmsg(), "unknown command 'nosuch'"));
    assert_int_equal(parse("seed 1 2", &a, buf, sizeof buf, w), -1);
    assert_non_null(strstr(qv_errmsg(), "usage: seed [N]"));
    assert_int_equal(parse("seed --bogus 1", &a, buf, sizeof buf, w), -1);
    assert_non_null(strstr(qv_errmsg(), "unknown option --bogus"));
    assert_int_equal(parse("version extra", &a, buf, sizeof buf, w), -1);
    assert_non_null(strstr(qv_errmsg(), "takes no arguments"));
    /* negative numbers are positionals, "--" ends options */
    assert_int_equal(parse("echo -3 -- --notanoption", &a, buf, sizeof buf, w), 0);
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[1], "--notanoption");
}

/* a private table exercising typed options through cmd_parse is not possible (the root is
 * global), so option typing is checked through accessors on a hand-built args struct. */
static void test_accessors(void **st)
{
    static const struct cmd_opt opts[] = {
        {"lr", CMD_OPT_FLOAT, "learning rate"}, {"n", CMD_OPT_INT, "count"},
        {"png", CMD_OPT_PATH, "file"}, {"quiet", CMD_OPT_FLAG, "flag"}, {NULL, 0, NULL}};
    struct cmd_args a;
    memset(&a, 0, sizeof a);
    a.opt[0].opt = &opts[0]; a.opt[0].val = "3e-3";
    a.opt[1].opt = &opts[1]; a.opt[1].val = "1e5";
    a.opt[2].opt = &opts[3]; a.opt[2].val = "1";
    a.nopt = 3;
    assert_true(cmd_float(&a, "lr", 0) == 3e-3);
    assert_int_equal(cmd_int(&a, "n", 0), 100000);
    assert_true(cmd_has(&a, "quiet"));
    assert_false(cmd_has(&a, "png"));
    assert_string_equal(cmd_str(&a, "png", "dflt"), "dflt");
}

static void test_run(void **st)
{
    struct qv_app app;
    app_setup(&app);
    assert_int_equal(cmd_run_line(&app, "seed 42; seed", false), 0);
    assert_true(app.st.seed == 42);
    assert_non_null(strstr(logbuf, "seed 42"));
    /* first error stops the line; keep_going runs on but still reports failure */
    logbuf[0] = 0;
    assert_int_equal(cmd_run_line(&app, "seed 7; bogus; seed 9", false), -1);
    assert_true(app.st.seed == 7);
    assert_non_null(strstr(logbuf, "error: unknown command 'bogus'"));
    assert_int_equal(cmd_run_line(&app, "seed 7; bogus; seed 9", true), -1);
    assert_true(app.st.seed == 9);
    assert_int_equal(cmd_run_line(&app, "seed -4", false), -1);
    assert_true(app.st.seed == 9);
    assert_int_equal(cmd_run_line(&app, "quit; seed 1", false), CMD_QUIT);
    assert_true(app.st.seed == 9);
    logbuf[0] = 0;
    assert_int_equal(cmd_run_line(&app, "help seed", false), 0);
    assert_non_null(strstr(logbuf, "seed [N]"));
    /* help columns line up in terminal columns, "…" (3 bytes) counting as one */
    logbuf[0] = 0;
    assert_int_equal(cmd_run_line(&app, "help data", false), 0);
    assert_non_null(strstr(logbuf, "\n  data load KIND …                   load a dataset"));
    assert_non_null(strstr(logbuf, "\n  data info                          counts"));
    app_free(&app);
}

/* Candidates joined by spaces ("" for none); frees them. */
static const char *joined(char **c)
{
    static char buf[1024];
    buf[0] = 0;
    for (int i = 0; c && c[i]; i++) {
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", c[i]);
        free(c[i]);
    }
    free(c);
    return buf;
}

static void test_complete(void **st)
{
    struct qv_app app;
    app_setup(&app);
    char **c = cmd_complete_words(&app, 0, NULL, "se");
    assert_non_null(c);
    bool seen = false;
    for (int i = 0; c[i]; i++) {
        if (!strcmp(c[i], "seed")) seen = true;
        assert_int_equal(strncmp(c[i], "se", 2), 0);
        free(c[i]);
    }
    free(c);
    assert_true(seen);
    char *before[] = {"help"};
    assert_string_equal(joined(cmd_complete_words(&app, 1, before, "ech")), "echo");
    assert_null(cmd_complete_words(&app, 0, NULL, "zzz"));
    /* after `help CMD` the subcommands of CMD complete, as on a command line */
    char *before2[] = {"help", "data"};
    assert_string_equal(joined(cmd_complete_words(&app, 2, before2, "lo")), "load");
    char *before3[] = {"help", "schedule"};
    assert_non_null(strstr(joined(cmd_complete_words(&app, 2, before3, "")), " quench "));
    /* option values spelled out in the usage: `prior logz --method exact|pa|ais` */
    char *before4[] = {"prior", "logz", "--method"};
    assert_string_equal(joined(cmd_complete_words(&app, 3, before4, "")), "ais exact pa");
    char *before6[] = {"schedule", "solver"};
    assert_string_equal(joined(cmd_complete_words(&app, 2, before6, "")),
                        "Advantage2_system1.5 Advantage_system4.1 DW_2000Q_5 default");
    char *before5[] = {"train", "--lr"};   /* a number: nothing to offer */
    assert_null(cmd_complete_words(&app, 2, before5, ""));
    /* from a line editor's buffer: only the last ';' piece counts, text after start is ignored */
    const char *line = "seed 3; data lo xyz";
    assert_string_equal(joined(cmd_complete_line(&app, line, strlen("seed 3; data "), "lo")), "load");
    /* an open quote: completes as a first word */
    assert_non_null(strstr(joined(cmd_complete_line(&app, "echo \"open; se", 12, "se")), "seed"));
    app_free(&app);
}

/* Every command has a usage line, a one-line summary and a long help text. */
static const char *const help_pending[] = {NULL};
static int walk_entries(const struct cmd_entry *e, const char *path)
{
    char p[256];
    snprintf(p, sizeof p, "%s%s%s", path, path[0] ? " " : "", e->name);
    int bad = 0;
    if (!e->usage || !e->usage[0] || !e->summary || !e->summary[0]) {
        fprintf(stderr, "command '%s': missing usage or summary\n", p);
        bad++;
    }
    bool pending = false;
    for (int i = 0; help_pending[i]; i++) pending |= !strcmp(help_pending[i], p);
    if (!pending && (!e->help || !e->help[0])) {
        fprintf(stderr, "command '%s': no long help\n", p);
        bad++;
    }
    if (e->opts)
        for (int k = 0; e->opts[k].name; k++)
            if (!e->opts[k].help || !e->opts[k].help[0]) {
                fprintf(stderr, "command '%s': option --%s has no help\n", p, e->opts[k].name);
                bad++;
            }
    if (e->sub)
        for (int i = 0; e->sub[i].name; i++) bad += walk_entries(&e->sub[i], p);
    return bad;
}

static void test_help_complete(void **st)
{
    int bad = 0;
    for (int i = 0; cmd_root[i]; i++) bad += walk_entries(cmd_root[i], "");
    assert_int_equal(bad, 0);
}

static void test_redact(void **st)
{
    char out[512];
    cmd_redact("qpu config --token DEV-0123456789abcdef0123456789abcdef0123 --x 1", out, sizeof out);
    assert_null(strstr(out, "0123456789abcdef"));
    assert_non_null(strstr(out, "--token ***"));
    assert_non_null(strstr(out, "--x 1"));
    cmd_redact("qpu config --token=abc; echo DWAVE_API_TOKEN=xyz", out, sizeof out);
    assert_null(strstr(out, "abc"));
    assert_null(strstr(out, "xyz"));
    cmd_redact("echo ABC-9f8e7d6c5b4a39281706f5e4d3c2b1a0", out, sizeof out);
    assert_string_equal(out, "echo ***");
    cmd_redact("train 5 --lr 3e-3", out, sizeof out);
    assert_string_equal(out, "train 5 --lr 3e-3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),     cmocka_unit_test(test_split_line),
        cmocka_unit_test(test_parse),     cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_run),       cmocka_unit_test(test_complete),
        cmocka_unit_test(test_redact),    cmocka_unit_test(test_help_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
