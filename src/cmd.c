/* cmd.c — the command language: splitting, resolution against the one command table (exact
 * name or unique prefix), option parsing against each entry's declared options, dispatch, help
 * text and secret redaction (completion candidates: cmd_complete.c).  Front ends (batch,
 * readline, TUI) all come through cmd_run_line / cmd_complete_words. */
#include "cmd.h"
#include "par.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- splitting ---- */

int cmd_split(const char *text, char *buf, size_t bufsz, char **words, int maxwords)
{
    size_t o = 0;
    int nw = 0;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        if (nw == maxwords) return qv_seterr("too many words (at most %d)", maxwords);
        words[nw++] = buf + o;
        char quote = 0;
        while (*p) {
            char c = *p;
            if (quote) {
                if (c == quote) { quote = 0; p++; continue; }
                if (c == '\\' && quote == '"' && p[1]) { p++; c = *p; }
            } else {
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') break;
                if (c == '"' || c == '\'') { quote = c; p++; continue; }
                if (c == '\\' && p[1]) { p++; c = *p; }
            }
            if (o + 2 >= bufsz) return qv_seterr("command too long");
            buf[o++] = c;
            p++;
        }
        if (quote) return qv_seterr("unterminated %c quote", quote);
        buf[o++] = 0;
    }
    return nw;
}

int cmd_split_line(const char *line, char ***pieces)
{
    int cap = 4, n = 0;
    char **out = qv_malloc(sizeof(char *) * (size_t)cap);
    size_t len = strlen(line);
    char *cur = qv_malloc(len + 1);
    size_t c = 0;
    char quote = 0;
    for (const char *p = line;; p++) {
        char ch = *p;
        if (ch && quote) {
            if (ch == quote) quote = 0;
            else if (ch == '\\' && quote == '"' && p[1]) cur[c++] = *p++;
            cur[c++] = *p;
            continue;
        }
        if (ch == '\\' && p[1]) { cur[c++] = *p++; cur[c++] = *p; continue; }
        if (ch == '"' || ch == '\'') { quote = ch; cur[c++] = ch; continue; }
        if (ch == '#') { while (p[1] && p[1] != '\n') p++; continue; }
        if (ch == ';' || ch == '\n' || ch == 0) {
            cur[c] = 0;
            /* keep non-blank pieces */
            const char *q = cur;
            while (*q == ' ' || *q == '\t' || *q == '\r') q++;
            if (*q) {
                if (n == cap) { cap *= 2; out = qv_realloc(out, sizeof(char *) * (size_t)cap); }
                out[n++] = qv_strdup(cur);
            }
            c = 0;
            if (!ch) break;
            continue;
        }
        cur[c++] = ch;
    }
    free(cur);
    if (quote) {
        for (int i = 0; i < n; i++) free(out[i]);
        free(out);
        return qv_seterr("unterminated %c quote", quote);
    }
    *pieces = out;
    return n;
}

/* ---- resolution ---- */

static void list_children(const struct cmd_entry *table, char *buf, size_t n, const char *prefix)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; table[i].name; i++) {
        if (table[i].flags & CMD_HIDDEN) continue;
        if (prefix && strncmp(table[i].name, prefix, strlen(prefix))) continue;
        int w = snprintf(buf + o, n - o, "%s%s", o ? ", " : "", table[i].name);
        if (w < 0 || (size_t)w >= n - o) break;
        o += (size_t)w;
    }
}

/* root is an array of pointers; groups are arrays of entries: one accessor for each, so both
 * are searched by qv_unique_prefix. */
static const struct cmd_entry *root_at(int i) { return cmd_root[i]; }
static const char *root_name(const void *list, int i)
{
    (void)list;
    return cmd_root[i] ? cmd_root[i]->name : NULL;
}
static const char *group_name(const void *list, int i) { return ((const struct cmd_entry *)list)[i].name; }

static const struct cmd_entry *find_in(const struct cmd_entry *table, const char *word,
                                       const char *ctx)
{
    char list[512];
    int i = qv_unique_prefix(word, table ? group_name : root_name, table, list, sizeof list);
    if (i >= 0) return table ? &table[i] : root_at(i);
    if (i == -2) {
        if (ctx && *ctx) return qv_seterr("%s: '%s' is ambiguous: %s", ctx, word, list), NULL;
        return qv_seterr("'%s' is ambiguous: %s", word, list), NULL;
    }
    if (ctx && *ctx) {
        list_children(table, list, sizeof list, NULL);
        qv_seterr("%s: unknown subcommand '%s' (one of: %s)", ctx, word, list);
    } else {
        qv_seterr("unknown command '%s' (type 'help' for the list)", word);
    }
    return NULL;
}

const struct cmd_entry *cmd_find(const struct cmd_entry *table, const char *word, const char *ctx)
{
    return find_in(table, word, ctx);
}

const struct cmd_opt *cmd_find_opt(const struct cmd_entry *e, const char *name, size_t len)
{
    if (!e->opts) return NULL;
    for (int i = 0; e->opts[i].name; i++)
        if (strlen(e->opts[i].name) == len && !strncmp(e->opts[i].name, name, len))
            return &e->opts[i];
    return NULL;
}

static void opt_list(const struct cmd_entry *e, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    if (!e->opts || !e->opts[0].name) { snprintf(buf, n, "it takes none"); return; }
    o += (size_t)snprintf(buf, n, "options: ");
    for (int i = 0; e->opts[i].name && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s--%s", i ? ", " : "", e->opts[i].name);
}

/* Is w one of the '|'-separated words of list? */
static bool word_in(const char *list, const char *w)
{
    size_t wl = strlen(w);
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, "|");
        if (l == wl && !strncmp(p, w, l)) return true;
        p += l + (p[l] == '|');
    }
    return false;
}

int cmd_parse(int nwords, char **words, struct cmd_args *a)
{
    memset(a, 0, sizeof *a);
    if (nwords <= 0) return qv_seterr("empty command");
    const struct cmd_entry *e = find_in(NULL, words[0], NULL);
    if (!e) return -1;
    snprintf(a->path, sizeof a->path, "%s", e->name);
    int i = 1;
    while (e->sub) {
        if (i >= nwords || !strncmp(words[i], "--", 2) ||
            (e->run && e->max_pos != 0 && words[i][0] >= '0' && words[i][0] <= '9')) {  /* `train 10` */
            if (e->run) break;   /* a group that also runs on its own (e.g. `sampler` = info) */
            char list[512];
            list_children(e->sub, list, sizeof list, NULL);
            return qv_seterr("%s: needs a subcommand: %s", a->path, list);
        }
        const struct cmd_entry *c = find_in(e->sub, words[i], a->path);
        if (!c) return -1;
        e = c;
        size_t l = strlen(a->path);
        snprintf(a->path + l, sizeof a->path - l, " %s", e->name);
        i++;
    }
    a->cmd = e;
    bool opts_done = false;
    for (; i < nwords; i++) {
        const char *w = words[i];
        if (!opts_done && !strcmp(w, "--")) { opts_done = true; continue; }
        if (!opts_done && w[0] == '-' && w[1] == '-' && w[2]) {
            const char *name = w + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const struct cmd_opt *o = cmd_find_opt(e, name, len);
            if (!o) {
                char list[512];
                opt_list(e, list, sizeof list);
                return qv_seterr("%s: unknown option --%.*s (%s)", a->path, (int)len, name, list);
            }
            const char *val = NULL;
            if (o->type == CMD_OPT_FLAG) {
                if (eq) return qv_seterr("%s: --%s takes no value", a->path, o->name);
                val = "1";
            } else if (eq) {
                val = eq + 1;
            } else {
                if (i + 1 >= nwords) return qv_seterr("%s: --%s needs a value", a->path, o->name);
                val = words[++i];
            }
            if (o->type == CMD_OPT_INT) {
                long v;
                if (qv_parse_long(val, &v)) return qv_seterr("%s: --%s: '%s' is not an integer", a->path, o->name, val);
            } else if (o->type == CMD_OPT_FLOAT) {
                double v;
                if (qv_parse_double(val, &v)) return qv_seterr("%s: --%s: '%s' is not a number", a->path, o->name, val);
            }
            if (o->values && !word_in(o->values, val))
                return qv_seterr("%s: --%s: unknown value '%s' (one of %s)", a->path, o->name, val, o->values);
            if (a->nopt == CMD_MAX_OPTS) return qv_seterr("%s: too many options", a->path);
            /* a repeated option: the last one wins */
            int k;
            for (k = 0; k < a->nopt; k++) if (a->opt[k].opt == o) break;
            a->opt[k].opt = o;
            a->opt[k].val = val;
            if (k == a->nopt) a->nopt++;
            continue;
        }
        if (a->npos == CMD_MAX_WORDS) return qv_seterr("%s: too many arguments", a->path);
        a->pos[a->npos++] = w;
    }
    if (!e->run) return qv_seterr("%s: not a command on its own", a->path);
    if (a->npos < e->min_pos || (e->max_pos >= 0 && a->npos > e->max_pos)) {
        if (e->max_pos == 0)
            return qv_seterr("%s: takes no arguments (usage: %s)", a->path, e->usage ? e->usage : a->path);
        if (e->min_pos == e->max_pos)
            return qv_seterr("%s: expects %d argument%s, got %d (usage: %s)", a->path, e->min_pos,
                             e->min_pos == 1 ? "" : "s", a->npos, e->usage ? e->usage : a->path);
        if (e->max_pos < 0)
            return qv_seterr("%s: expects at least %d argument%s, got %d (usage: %s)", a->path, e->min_pos,
                             e->min_pos == 1 ? "" : "s", a->npos, e->usage ? e->usage : a->path);
        return qv_seterr("%s: expects %d to %d arguments, got %d (usage: %s)", a->path, e->min_pos,
                         e->max_pos, a->npos, e->usage ? e->usage : a->path);
    }
    return 0;
}

/* ---- accessors ---- */

static const char *opt_val(const struct cmd_args *a, const char *name)
{
    for (int i = 0; i < a->nopt; i++)
        if (!strcmp(a->opt[i].opt->name, name)) return a->opt[i].val;
    return NULL;
}

bool cmd_has(const struct cmd_args *a, const char *name) { return opt_val(a, name) != NULL; }

long cmd_int(const struct cmd_args *a, const char *name, long def)
{
    const char *v = opt_val(a, name);
    long r;
    return v && qv_parse_long(v, &r) == 0 ? r : def;
}

double cmd_float(const struct cmd_args *a, const char *name, double def)
{
    const char *v = opt_val(a, name);
    double r;
    return v && qv_parse_double(v, &r) == 0 ? r : def;
}

const char *cmd_str(const struct cmd_args *a, const char *name, const char *def)
{
    const char *v = opt_val(a, name);
    return v ? v : def;
}

int cmd_pos_double(struct qv_app *app, const struct cmd_args *a, int i, double *out)
{
    if (i >= a->npos) return qv_error(app, "%s: missing argument %d", a->path, i + 1);
    if (qv_parse_double(a->pos[i], out)) return qv_error(app, "%s: %s", a->path, qv_errmsg());
    return 0;
}

int cmd_pos_long(struct qv_app *app, const struct cmd_args *a, int i, long *out)
{
    if (i >= a->npos) return qv_error(app, "%s: missing argument %d", a->path, i + 1);
    if (qv_parse_long(a->pos[i], out)) return qv_error(app, "%s: %s", a->path, qv_errmsg());
    return 0;
}

/* ---- running ---- */

int cmd_run_one(struct qv_app *app, const char *text)
{
    size_t n = strlen(text) + 1;
    char *buf = qv_malloc(n + 1);
    char *words[CMD_MAX_WORDS];
    int nw = cmd_split(text, buf, n + 1, words, CMD_MAX_WORDS);
    if (nw < 0) {
        free(buf);
        return qv_error(app, "%s", qv_errmsg());
    }
    if (nw == 0) {
        free(buf);
        return 0;
    }
    struct cmd_args a;
    if (cmd_parse(nw, words, &a)) {
        free(buf);
        return qv_error(app, "%s", qv_errmsg());
    }
    qv_clearerr();
    int rc = a.cmd->run(app, &a);
    /* an MPI job: a command that failed on one rank fails on every rank (the failing one showed
     * the message), so the ranks go on, or stop, in lockstep */
    const bool ok = rc == 0 || rc == CMD_QUIT;
    if (par_agree(ok) >= 0 && ok) rc = -1;
    free(buf);
    if (rc == CMD_QUIT) return CMD_QUIT;
    return rc ? -1 : 0;
}

int cmd_run_line(struct qv_app *app, const char *line, bool keep_going)
{
    char **pieces;
    int n = cmd_split_line(line, &pieces);
    if (n < 0) return qv_error(app, "%s", qv_errmsg());
    int status = 0;
    for (int i = 0; i < n; i++) {
        int rc = status == CMD_QUIT || (status && !keep_going) ? 0 : cmd_run_one(app, pieces[i]);
        if (rc == CMD_QUIT) status = CMD_QUIT;
        else if (rc && status == 0) status = -1;
        free(pieces[i]);
    }
    free(pieces);
    return status;
}

const struct cmd_entry *cmd_lookup_line(const char *text)
{
    size_t n = strlen(text) + 1;
    char *buf = qv_malloc(n + 1);
    char *words[CMD_MAX_WORDS];
    int nw = cmd_split(text, buf, n + 1, words, CMD_MAX_WORDS);
    const struct cmd_entry *e = NULL;
    struct cmd_args a;
    if (nw > 0 && cmd_parse(nw, words, &a) == 0) e = a.cmd;
    free(buf);
    return e;
}

/* ---- help ---- */

static const char *opt_type_meta(enum cmd_opt_type t)
{
    switch (t) {
    case CMD_OPT_FLAG: return "";
    case CMD_OPT_INT: return " N";
    case CMD_OPT_FLOAT: return " X";
    case CMD_OPT_PATH: return " FILE";
    case CMD_OPT_LIST: return " A,B,…";
    default: return " VALUE";
    }
}

/* printf field width that pads s to `cols` terminal columns: UTF-8 continuation bytes
 * ("…", "µ") take no column of their own. */
static int pad_width(const char *s, int cols)
{
    int extra = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) extra += (*p & 0xC0) == 0x80;
    return cols + extra;
}

void cmd_list_help(bool subs, void (*emit)(void *ud, const char *text), void *ud)
{
    emit(ud, "Commands (help COMMAND for details; unique prefixes work, ';' separates commands):");
    for (int i = 0; cmd_root[i]; i++) {
        const struct cmd_entry *c = cmd_root[i];
        if (c->flags & CMD_HIDDEN) continue;
        char buf[512];
        snprintf(buf, sizeof buf, "  %-10s %s", c->name, c->summary ? c->summary : "");
        emit(ud, buf);
        if (!subs || !c->sub) continue;
        size_t o = (size_t)snprintf(buf, sizeof buf, "             ");
        for (int k = 0; c->sub[k].name && o < sizeof buf - 40; k++)
            if (!(c->sub[k].flags & CMD_HIDDEN))
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o > 13 ? " \xc2\xb7 " : "", c->sub[k].name);
        emit(ud, buf);
    }
}

static void help_line(void *ud, const char *text) { qv_printf(ud, "%s", text); }

void cmd_print_help(struct qv_app *app, const struct cmd_entry *e, const char *path)
{
    if (!e) {
        cmd_list_help(false, help_line, app);
        return;
    }
    qv_printf(app, "%s — %s", e->usage ? e->usage : path, e->summary ? e->summary : "");
    if (e->help) qv_printf(app, "%s", e->help);
    if (e->opts && e->opts[0].name) {
        qv_printf(app, "Options:");
        for (int i = 0; e->opts[i].name; i++) {
            char lhs[64];
            const struct cmd_opt *o = &e->opts[i];
            if (o->values) snprintf(lhs, sizeof lhs, "--%s %s", o->name, o->values);
            else snprintf(lhs, sizeof lhs, "--%s%s", o->name, opt_type_meta(o->type));
            const char *h = o->help ? o->help : "";
            if ((int)strlen(lhs) - pad_width(lhs, 0) <= 22) qv_printf(app, "  %-*s %s", pad_width(lhs, 22), lhs, h);
            else qv_printf(app, "  %s\n  %-22s %s", lhs, "", h);   /* a long value list: help below */
        }
    }
    if (e->sub) {
        qv_printf(app, "Subcommands:");
        for (int i = 0; e->sub[i].name; i++) {
            if (e->sub[i].flags & CMD_HIDDEN) continue;
            const char *u = e->sub[i].usage ? e->sub[i].usage : e->sub[i].name;
            const char *sm = e->sub[i].summary ? e->sub[i].summary : "";
            if ((int)strlen(u) - pad_width(u, 0) <= 34)   /* fits in 34 columns */
                qv_printf(app, "  %-*s %s", pad_width(u, 34), u, sm);
            else qv_printf(app, "  %s\n  %-34s %s", u, "", sm);   /* long usage: summary below */
        }
    }
}

/* ---- redaction ---- */

static bool looks_like_token(const char *w, size_t n)
{
    /* D-Wave API tokens: a short prefix, a dash, then a long hex/alnum string (e.g. DEV-0a1b…). */
    size_t i = 0;
    while (i < n && isalpha((unsigned char)w[i])) i++;
    if (i < 2 || i > 5 || i >= n || w[i] != '-') return false;
    size_t run = 0;
    for (size_t k = i + 1; k < n; k++) {
        if (!isalnum((unsigned char)w[k])) return false;
        run++;
    }
    return run >= 24;
}

static bool secret_opt(const char *w, size_t n)
{
    static const char *names[] = {"--token", "--api-token", "--password", "--secret", "--auth"};
    for (size_t i = 0; i < QV_ARRAY_LEN(names); i++)
        if (strlen(names[i]) == n && !strncmp(w, names[i], n)) return true;
    return false;
}

void cmd_redact(const char *line, char *out, size_t outsz)
{
    size_t o = 0;
    bool next_secret = false;
    const char *p = line;
#define PUT(c) do { if (o + 1 < outsz) out[o++] = (c); } while (0)
    while (*p) {
        if (*p == ' ' || *p == '\t' || *p == ';') {
            if (*p == ';') next_secret = false;
            PUT(*p);
            p++;
            continue;
        }
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ';') p++;
        size_t n = (size_t)(p - w);
        const char *eq = memchr(w, '=', n);
        bool redact_all = next_secret || looks_like_token(w, n);
        next_secret = false;
        if (redact_all) {
            for (const char *s = "***"; *s; s++) PUT(*s);
            continue;
        }
        if (eq && (secret_opt(w, (size_t)(eq - w)) || (eq - w >= 5 && !strncmp(eq - 5, "TOKEN", 5)))) {
            for (const char *s = w; s <= eq; s++) PUT(*s);
            for (const char *s = "***"; *s; s++) PUT(*s);
            continue;
        }
        if (secret_opt(w, n)) next_secret = true;
        for (const char *s = w; s < p; s++) PUT(*s);
    }
    out[o < outsz ? o : outsz - 1] = 0;
#undef PUT
}
