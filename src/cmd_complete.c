/* cmd_complete.c — completion candidates from the one command table: command and subcommand
 * names, declared options and their value lists, and positionals by kind (files, sessions,
 * schedules, solvers, samplers, panels, literal words).  Every front end's Tab comes here
 * through cmd_complete_line. */
#include "cmd.h"
#include "sampler.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct strvec { char **v; int n, cap; };

static void sv_push(struct strvec *s, const char *str)
{
    for (int i = 0; i < s->n; i++) if (!strcmp(s->v[i], str)) return;
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = qv_realloc(s->v, sizeof(char *) * (size_t)s->cap);
    }
    s->v[s->n++] = qv_strdup(str);
    s->v[s->n] = NULL;
}

static int sv_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void complete_files(struct strvec *out, const char *partial)
{
    char dir[4096];
    const char *slash = strrchr(partial, '/');
    const char *base = slash ? slash + 1 : partial;
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - partial + 1), partial);
    else dir[0] = 0;
    DIR *d = opendir(dir[0] ? dir : ".");
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (de->d_name[0] == '.' && base[0] != '.') continue;
        if (strncmp(de->d_name, base, strlen(base))) continue;
        char full[8192];
        snprintf(full, sizeof full, "%s%s", dir, de->d_name);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) strcat(full, "/");
        sv_push(out, full);
    }
    closedir(d);
}

/* Names (file stems) of *.json in a folder, or subfolders holding session.json. */
static void complete_dir_names(struct strvec *out, const char *dir, const char *partial, bool sessions)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (strncmp(de->d_name, partial, strlen(partial))) continue;
        char full[8192];
        if (sessions) {
            snprintf(full, sizeof full, "%s/%s/session.json", dir, de->d_name);
            if (qv_file_exists(full)) sv_push(out, de->d_name);
        } else {
            size_t l = strlen(de->d_name);
            if (l > 5 && !strcmp(de->d_name + l - 5, ".json")) {
                snprintf(full, sizeof full, "%.*s", (int)(l - 5), de->d_name);
                sv_push(out, full);
            }
        }
    }
    closedir(d);
}

extern const struct sampler_vtab *const sampler_registry[] __attribute__((weak));

/* Each '|'-separated word of `words` that starts with partial. */
static void complete_word_list(struct strvec *out, const char *words, const char *partial)
{
    for (const char *p = words; p && *p;) {
        size_t l = strcspn(p, "|");
        if (!strncmp(p, partial, strlen(partial)) && l >= strlen(partial)) {
            char w[128];
            snprintf(w, sizeof w, "%.*s", (int)l, p);
            sv_push(out, w);
        }
        p += l + (p[l] == '|');
    }
}

static void complete_positional(struct qv_app *app, struct strvec *out, const struct cmd_entry *e,
                                const char *partial)
{
    char dir[8192];
    complete_word_list(out, e->words, partial);   /* literal words first ("default") */
    switch (e->complete) {
    case CMD_COMPLETE_FILE: complete_files(out, partial); break;
    case CMD_COMPLETE_SESSION:
        complete_dir_names(out, app ? app->session_dir : "sessions", partial, true);
        break;
    case CMD_COMPLETE_SCHEDULE:
        if (app) {
            snprintf(dir, sizeof dir, "%s/%s/schedules", app->session_dir, app->session_name);
            complete_dir_names(out, dir, partial, false);
        }
        snprintf(dir, sizeof dir, "%s/assets/schedules", qv_home());
        complete_dir_names(out, dir, partial, false);
        break;
    case CMD_COMPLETE_SOLVER:
        snprintf(dir, sizeof dir, "%s/assets/solvers", qv_home());
        complete_dir_names(out, dir, partial, false);
        break;
    case CMD_COMPLETE_PANEL:
        for (int i = 0; cmd_view_panels[i]; i++)
            if (!strncmp(cmd_view_panels[i], partial, strlen(partial))) sv_push(out, cmd_view_panels[i]);
        break;
    case CMD_COMPLETE_SAMPLER:
        if (sampler_registry)
            for (int i = 0; sampler_registry[i]; i++)
                if (!strncmp(sampler_registry[i]->name, partial, strlen(partial)))
                    sv_push(out, sampler_registry[i]->name);
        break;
    case CMD_COMPLETE_COMMAND:
        for (int i = 0; cmd_root[i]; i++)
            if (!strncmp(cmd_root[i]->name, partial, strlen(partial)) && !(cmd_root[i]->flags & CMD_HIDDEN))
                sv_push(out, cmd_root[i]->name);
        break;
    default: break;
    }
}

char **cmd_complete_words(struct qv_app *app, int nbefore, char **before, const char *partial)
{
    struct strvec out = {0};
    const struct cmd_entry *e = NULL;
    const struct cmd_entry *table = NULL;   /* NULL = root */
    int i = 0;
    /* walk the command words */
    for (; i < nbefore; i++) {
        if (!strncmp(before[i], "--", 2)) break;
        if (e && !e->sub) break;
        const struct cmd_entry *c = cmd_find(table, before[i], NULL);
        if (!c) {
            qv_clearerr();
            if (e && e->run) break;   /* a group that runs on its own: `train 10 --…` */
            goto done;
        }
        e = c;
        table = e->sub;
        if (!table) { i++; break; }
    }
    /* `help data lo<TAB>`: the words after a command-naming leaf complete as a command line */
    if (e && !e->sub && e->complete == CMD_COMPLETE_COMMAND && i <= nbefore && partial[0] != '-')
        return cmd_complete_words(app, nbefore - i, before + i, partial);
    if (!e) {
        for (int k = 0; cmd_root[k]; k++)
            if (!strncmp(cmd_root[k]->name, partial, strlen(partial)) && !(cmd_root[k]->flags & CMD_HIDDEN))
                sv_push(&out, cmd_root[k]->name);
        goto done;
    }
    /* previous word an option expecting a value? */
    if (nbefore > 0 && !strncmp(before[nbefore - 1], "--", 2) && !strchr(before[nbefore - 1], '=')) {
        const struct cmd_opt *o = cmd_find_opt(e, before[nbefore - 1] + 2, strlen(before[nbefore - 1] + 2));
        if (o && o->type != CMD_OPT_FLAG) {
            if (o->type == CMD_OPT_PATH) complete_files(&out, partial);
            else complete_word_list(&out, o->values, partial);
            goto done;
        }
    }
    if (partial[0] == '-' ) {
        if (e->opts)
            for (int k = 0; e->opts[k].name; k++) {
                char w[128];
                snprintf(w, sizeof w, "--%s", e->opts[k].name);
                if (!strncmp(w, partial, strlen(partial))) sv_push(&out, w);
            }
        goto done;
    }
    if (e->sub && i >= nbefore) {
        for (int k = 0; e->sub[k].name; k++)
            if (!strncmp(e->sub[k].name, partial, strlen(partial)) && !(e->sub[k].flags & CMD_HIDDEN))
                sv_push(&out, e->sub[k].name);
        goto done;
    }
    {
        /* positionals already given (options and their values do not count) */
        int npos = 0;
        for (int k = i; k < nbefore; k++) {
            if (!strncmp(before[k], "--", 2)) {
                const struct cmd_opt *o = strchr(before[k], '=') ? NULL
                    : cmd_find_opt(e, before[k] + 2, strlen(before[k] + 2));
                if (o && o->type != CMD_OPT_FLAG) k++;
                continue;
            }
            npos++;
        }
        if (e->max_pos >= 0 && npos >= e->max_pos) goto done;
    }
    complete_positional(app, &out, e, partial);
done:
    if (!out.n) return NULL;
    qsort(out.v, (size_t)out.n, sizeof(char *), sv_cmp);
    return out.v;
}

char **cmd_complete_line(struct qv_app *app, const char *line, size_t start, const char *partial)
{
    char *upto = qv_malloc(start + 1);
    memcpy(upto, line, start);
    upto[start] = 0;
    char *piece = strrchr(upto, ';');
    piece = piece ? piece + 1 : upto;
    char buf[4096];
    char *words[CMD_MAX_WORDS];
    int nw = cmd_split(piece, buf, sizeof buf, words, CMD_MAX_WORDS);
    if (nw < 0) { nw = 0; qv_clearerr(); }   /* an open quote: complete as a first word */
    char **c = cmd_complete_words(app, nw, words, partial);
    free(upto);
    return c;
}
