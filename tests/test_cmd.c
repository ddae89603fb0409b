/* test_cmd.c — the command language: splitting, quoting, comments, resolution by unique prefix,
 * ambiguity, argument counts, option parsing and typing, dispatch status, completion, redaction,
 * and a walk of the whole table checking every usage string against its declarations. */
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
    /* an option with declared values takes only those */
    assert_int_equal(parse("view --toggle x", &a, buf, sizeof buf, w), 0);
    assert_int_equal(parse("view --toggle=days", &a, buf, sizeof buf, w), -1);
    assert_string_equal(qv_errmsg(), "view: --toggle: unknown value 'days' (one of log|ema|window|x)");
    assert_int_equal(parse("view --toggle ep", &a, buf, sizeof buf, w), -1);   /* no prefixes */
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
        {"lr", CMD_OPT_FLOAT, "learning rate", NULL}, {"n", CMD_OPT_INT, "count", NULL},
        {"png", CMD_OPT_PATH, "file", NULL}, {"quiet", CMD_OPT_FLAG, "flag", NULL}, {NULL, 0, NULL, NULL}};
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
    /* an option's declared values: `prior logz --method exact|pa|ais` */
    char *before4[] = {"prior", "logz", "--method"};
    assert_string_equal(joined(cmd_complete_words(&app, 3, before4, "")), "ais exact pa");
    char *before7[] = {"schedule", "params", "--initial"};
    assert_string_equal(joined(cmd_complete_words(&app, 3, before7, "n")), "no");
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

/* ---- the table walk: every usage string agrees with its entry's declared options, values and
 * positional counts.  The usage grammar: the command path, then words; "[…]" encloses optional
 * parts, "--name" an option (a valued option is followed by its placeholder or by its value
 * list "a|b|c"), "…" means any number of the preceding word, and an upper-case word or a word
 * list is one positional argument.  A group's usage ("data SUBCOMMAND …") is not checked for
 * positionals, only for options. */

static const struct cmd_opt *opt_named(const struct cmd_entry *e, const char *name, size_t len)
{
    for (int k = 0; e->opts && e->opts[k].name; k++)
        if (strlen(e->opts[k].name) == len && !strncmp(e->opts[k].name, name, len)) return &e->opts[k];
    return NULL;
}

/* Length of the usage word at u: up to a blank, a bracket, or the '|' of "--a|--b". */
static size_t word_len(const char *u)
{
    size_t l = 0;
    while (u[l] && !strchr(" []", u[l]) && !(u[l] == '|' && !strncmp(u + l + 1, "--", 2))) l++;
    return l;
}

static int usage_check(const struct cmd_entry *e, const char *path)
{
    int bad = 0, req = 0, any = 0, depth = 0;
    bool unlimited = false;
    size_t pl = strlen(path);
    if (strncmp(e->usage, path, pl) || (e->usage[pl] && e->usage[pl] != ' ')) {
        fprintf(stderr, "'%s': usage \"%s\" does not start with the command\n", path, e->usage);
        return 1;
    }
    bool after_opt = false;   /* "…" after an option repeats options, not positionals */
    for (const char *u = e->usage + pl; *u;) {
        if (*u == ' ' || (*u == '|' && !strncmp(u + 1, "--", 2))) { u++; continue; }   /* --a|--b */
        if (*u == '[') { depth++; u++; continue; }
        if (*u == ']') { depth--; u++; continue; }
        size_t l = word_len(u);
        if (l >= 3 && !strncmp(u, "--", 2) && u[2] >= 'A' && u[2] <= 'Z') {   /* --KEY VALUE: any */
            if (!e->opts || !e->opts[0].name) {
                fprintf(stderr, "'%s': usage shows options, the entry declares none\n", path);
                bad++;
            }
            u += l;
            while (*u == ' ') u++;
            u += word_len(u);
            after_opt = true;
            continue;
        }
        if (l >= 2 && !strncmp(u, "--", 2)) {
            after_opt = true;
            const struct cmd_opt *o = opt_named(e, u + 2, l - 2);
            if (!o) {
                fprintf(stderr, "'%s': usage names --%.*s, which is not declared\n", path, (int)l - 2, u + 2);
                bad++;
                u += l;
                continue;
            }
            u += l;
            while (*u == ' ') u++;
            size_t vl = word_len(u);
            bool has_value = *u && !strchr("[]|", *u) && strncmp(u, "--", 2);
            if (o->type == CMD_OPT_FLAG && has_value && u[0] != '.' && strncmp(u, "\xe2\x80\xa6", 3)) {
                fprintf(stderr, "'%s': flag --%s is followed by a value in the usage\n", path, o->name);
                bad++;
            } else if (o->type != CMD_OPT_FLAG && !has_value) {
                fprintf(stderr, "'%s': --%s takes a value, the usage shows none\n", path, o->name);
                bad++;
            } else if (o->type != CMD_OPT_FLAG) {
                bool list = memchr(u, '|', vl) != NULL;
                if (list != (o->values != NULL) ||
                    (list && (strlen(o->values) != vl || strncmp(u, o->values, vl)))) {
                    fprintf(stderr, "'%s': --%s: usage values \"%.*s\", declared \"%s\"\n", path,
                            o->name, (int)vl, u, o->values ? o->values : "(none)");
                    bad++;
                }
                u += vl;
            }
            continue;
        }
        bool dots = !strncmp(u, "\xe2\x80\xa6", 3);
        if ((dots && !after_opt) || (l >= 3 && !strncmp(u + l - 3, "\xe2\x80\xa6", 3))) unlimited = true;
        if (!dots) {   /* a positional word (or "WORD…") */
            any++;
            if (depth == 0) req++;
            after_opt = false;
        }
        u += l;
    }
    if (depth != 0) {
        fprintf(stderr, "'%s': unbalanced brackets in \"%s\"\n", path, e->usage);
        bad++;
    }
    if (!e->sub && req != e->min_pos) {
        fprintf(stderr, "'%s': usage requires %d positionals, the entry %d\n", path, req, e->min_pos);
        bad++;
    }
    if (!e->sub && !unlimited && e->max_pos >= 0 && any != e->max_pos) {
        fprintf(stderr, "'%s': usage allows %d positionals, the entry %d\n", path, any, e->max_pos);
        bad++;
    }
    if (!e->sub && (unlimited ? e->max_pos >= 0 && e->max_pos < any : e->max_pos < 0)) {
        fprintf(stderr, "'%s': usage and entry disagree on a positional list\n", path);
        bad++;
    }
    return bad;
}

static int walk_usage(const struct cmd_entry *e, const char *path)
{
    char p[256];
    snprintf(p, sizeof p, "%s%s%s", path, path[0] ? " " : "", e->name);
    int bad = e->usage ? usage_check(e, p) : 1;
    for (int i = 0; e->sub && e->sub[i].name; i++) bad += walk_usage(&e->sub[i], p);
    return bad;
}

static void test_usage_table(void **st)
{
    int bad = 0;
    for (int i = 0; cmd_root[i]; i++) bad += walk_usage(cmd_root[i], "");
    assert_int_equal(bad, 0);
    /* a panel positional spells the view command's panel list */
    for (int i = 0; cmd_root[i]; i++) {
        if (cmd_root[i]->complete != CMD_COMPLETE_PANEL) continue;
        char want[256] = "[";
        for (int k = 0; cmd_view_panels[k]; k++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", k ? "|" : "", cmd_view_panels[k]);
        strcat(want, "]");
        if (!strstr(cmd_root[i]->usage, want)) fail_msg("%s: usage lacks %s", cmd_root[i]->name, want);
    }
    /* the checker itself catches each kind of disagreement */
    static const struct cmd_opt o[] = {{"m", CMD_OPT_STR, "method", "a|b"}, {"f", CMD_OPT_FLAG, "flag", NULL},
                                       {"n", CMD_OPT_INT, "count", NULL}, {NULL, 0, NULL, NULL}};
    const struct cmd_entry good = {.name = "x", .usage = "x A [B] [--m a|b] [--f] [--n N]", .min_pos = 1,
                                   .max_pos = 2, .opts = o};
    assert_int_equal(usage_check(&good, "x"), 0);
    const struct cmd_entry alt = {.name = "x", .usage = "x A [B] [--f|--n N] [--KEY VALUE …]", .min_pos = 1,
                                  .max_pos = 2, .opts = o};
    assert_int_equal(usage_check(&alt, "x"), 0);
    const char *wrong[] = {"x A [B] [--m a|c]", "x A [B] [--m M]", "x A [B] [--f F]", "x A [B] [--n]",
                           "x A [B] [--z 1]", "x A B", "x [A] [B]", "x [A…]", "x A [B", "y A [B]",
                           "x A [B] [--f|--z]", "x A [B] [C …]"};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        struct cmd_entry w = good;
        w.usage = wrong[i];
        if (usage_check(&w, "x") == 0) fail_msg("usage \"%s\" was not caught", wrong[i]);
    }
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
        cmocka_unit_test(test_usage_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
