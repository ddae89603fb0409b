/* rlglue.c — readline completion and history for both front ends; see rlglue.h. */
#include "rlglue.h"
#include "cmd.h"
#include "frontend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/readline.h>
#include <readline/history.h>

static struct qv_app *rl_app;
static char **cands;   /* candidates of the current completion (owned), NULL-terminated */
static int cand_idx;

void rlglue_free(void)
{
    if (cands) {
        for (int i = 0; cands[i]; i++) free(cands[i]);
        free(cands);
    }
    cands = NULL;
    cand_idx = 0;
}

/* readline's generator: hands out the precomputed candidates one by one (readline frees them) */
static char *cand_gen(const char *text, int state)
{
    (void)text;
    (void)state;
    if (!cands || !cands[cand_idx]) return NULL;
    return strdup(cands[cand_idx++]);
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;   /* never fall back to file names of the cwd */
    rlglue_free();
    cands = cmd_complete_line(rl_app, rl_line_buffer, (size_t)start, text);
    if (!cands || !cands[0]) return NULL;
    size_t l = strlen(cands[0]);
    if (!cands[1] && l && cands[0][l - 1] == '/')   /* a folder: keep typing inside it */
        rl_completion_suppress_append = 1;
    return rl_completion_matches(text, cand_gen);
}

void rlglue_init(struct qv_app *app)
{
    rl_app = app;
    rl_readline_name = "qvae";
    rl_attempted_completion_function = complete;
    using_history();
    qv_mkdirs(qv_state_dir());
    const char *hist = frontend_history_path();
    if (read_history(hist) != 0) write_history(hist);   /* create it so lines can be appended */
    stifle_history(RLGLUE_HISTORY_MAX);
}

void rlglue_history_add(const char *line, char *red, size_t n)
{
    red[0] = 0;
    if (!line[strspn(line, " \t")]) return;
    cmd_redact(line, red, n);
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last && !strcmp(last->line, red)) return;   /* kept once, but still run (red is set) */
    add_history(red);
    /* appended at once, so a crash or a killed terminal keeps the history */
    const char *hist = frontend_history_path();
    if (append_history(1, hist) == 0) history_truncate_file(hist, RLGLUE_HISTORY_MAX);
}
