/* cmd.h — the command language.  One table of commands (name, argument spec, usage, summary,
 * long help, handler) drives dispatch, `help`, unique-prefix matching and tab completion.
 *
 * Grammar: a line is commands separated by ';' (outside quotes); '#' starts a comment (outside
 * quotes).  Words split on blanks; "double" and 'single' quotes group, backslash escapes.
 * Options are `--name value`, `--name=value`, or `--flag`; `--` ends options.  Every option a
 * command accepts is declared, so unknown options are errors and completion can offer them.
 *
 * Commands nest: an entry with .sub is a group (`data load idx …`); words are matched against
 * the group's children by exact name or unique prefix.
 *
 * Each module defines its entries in its own cmd_<module>.c and exports one group or entry; the
 * root table in cmd_table.c lists them. */
#ifndef QV_CMD_H
#define QV_CMD_H

#include "app.h"

enum cmd_opt_type {
    CMD_OPT_FLAG,    /* --flag (no value) */
    CMD_OPT_INT,     /* --n 10 */
    CMD_OPT_FLOAT,   /* --lr 3e-3 */
    CMD_OPT_STR,     /* --from URL */
    CMD_OPT_PATH,    /* --png FILE (completes file paths) */
    CMD_OPT_LIST,    /* --hidden 512,256 (string, parsed by the handler) */
};

struct cmd_opt {
    const char *name;          /* without the leading "--" */
    enum cmd_opt_type type;
    const char *help;          /* one line, shown by `help COMMAND` */
    const char *values;        /* the accepted words, "exact|pa|ais" (NULL = free-form): the one
                                  source for parsing (other values are refused), completion and
                                  help; usage strings must agree (test_cmd walks them) */
};

/* Completion kinds for positional arguments (CMD_COMPLETE_WORDS uses .words). */
enum cmd_complete {
    CMD_COMPLETE_NONE, CMD_COMPLETE_FILE, CMD_COMPLETE_SESSION, CMD_COMPLETE_SCHEDULE,
    CMD_COMPLETE_SOLVER, CMD_COMPLETE_WORDS, CMD_COMPLETE_COMMAND, CMD_COMPLETE_SAMPLER,
    CMD_COMPLETE_PANEL,      /* cmd_view_panels */
};

struct cmd_args;
typedef int (*cmd_fn)(struct qv_app *app, const struct cmd_args *a);

enum cmd_flags {
    CMD_LONG     = 1 << 0,  /* may run for long: the TUI runs it on the worker thread */
    CMD_WHILEJOB = 1 << 1,  /* allowed while a long job runs (train stop, view, help …) */
    CMD_HIDDEN   = 1 << 2,  /* not listed by `help` */
    CMD_NOSTATE  = 1 << 3,  /* touches no app->st (flags, views, help): runs during a job
                               without waiting for the state lock (app.h) */
};

struct cmd_entry {
    const char *name;
    const char *usage;         /* "data load idx IMAGES [LABELS]" */
    const char *summary;       /* one line */
    const char *help;          /* long help, may be multi-line; NULL = summary only */
    const struct cmd_entry *sub;  /* children (terminated by an entry with name NULL) */
    int min_pos, max_pos;      /* positional argument counts; max -1 = unlimited */
    const struct cmd_opt *opts;   /* terminated by {NULL}; may be NULL */
    enum cmd_complete complete;   /* what positionals complete to */
    const char *words;         /* literal words positionals complete to, "exact|pa|ais": all of
                                  them for CMD_COMPLETE_WORDS, besides the kind's names else
                                  ("default" beside the solver names) */
    cmd_fn run;                /* NULL for a pure group */
    unsigned flags;
};

#define CMD_MAX_WORDS 64
#define CMD_MAX_OPTS  24

struct cmd_args {
    const struct cmd_entry *cmd;   /* the matched leaf */
    char path[128];                /* full command path, "data load idx" */
    int npos;
    const char *pos[CMD_MAX_WORDS];
    int nopt;
    struct { const struct cmd_opt *opt; const char *val; } opt[CMD_MAX_OPTS];
};

extern const struct cmd_entry *const cmd_root[];   /* cmd_table.c, NULL-terminated */
/* The panels `view` focuses ("overview", "loss", …, NULL-terminated; cmd_view.c): the one list of
 * their names.  After "overview" they are in the order of the TUI's panel ids (ui/layout.h). */
extern const char *const cmd_view_panels[];

/* Option accessors: "has" and typed getters with defaults.  Values were type-checked at parse
 * time, so getters cannot fail. */
bool        cmd_has(const struct cmd_args *a, const char *name);
long        cmd_int(const struct cmd_args *a, const char *name, long def);
double      cmd_float(const struct cmd_args *a, const char *name, double def);
const char *cmd_str(const struct cmd_args *a, const char *name, const char *def);
/* Parse a positional as a number; on failure reports "error: COMMAND: ARG: not a number". */
int cmd_pos_double(struct qv_app *app, const struct cmd_args *a, int i, double *out);
int cmd_pos_long(struct qv_app *app, const struct cmd_args *a, int i, long *out);

/* Split one command (no ';') into words.  Returns word count or -1 (error set). words[] point
 * into buf (a modified copy of the text). */
int cmd_split(const char *text, char *buf, size_t bufsz, char **words, int maxwords);
/* Split a line into commands on ';' outside quotes, dropping '#' comments.  Returns the number
 * of pieces written (malloc'ed strings, caller frees) or -1. */
int cmd_split_line(const char *line, char ***pieces);
/* Resolve and parse words into args; error set on failure (unknown command, ambiguous prefix
 * listing candidates, wrong argument count with usage, unknown option, bad option value). */
int cmd_parse(int nwords, char **words, struct cmd_args *a);
/* Find a child of `table` (NULL = the root) by exact name or unique prefix; NULL with error set. */
const struct cmd_entry *cmd_find(const struct cmd_entry *table, const char *word, const char *ctx);
/* The option of e named name[0..len) (exact); NULL when e declares none such. */
const struct cmd_opt *cmd_find_opt(const struct cmd_entry *e, const char *name, size_t len);

/* Run one command text (no ';').  Returns 0, -1 (error already reported via qv_error), or
 * CMD_QUIT.  Blank/comment-only lines return 0. */
#define CMD_QUIT 2
int cmd_run_one(struct qv_app *app, const char *text);
/* Run a full line (';'-separated).  Stops at the first error unless keep_going. */
int cmd_run_line(struct qv_app *app, const char *line, bool keep_going);
/* Parse only (for the TUI to decide where to run it): resolves the entry; NULL if invalid. */
const struct cmd_entry *cmd_lookup_line(const char *text);

/* Completion: candidates for the word being typed, given the words before it.
 * Returns a malloc'ed NULL-terminated array of malloc'ed strings (caller frees) or NULL. */
char **cmd_complete_words(struct qv_app *app, int nbefore, char **before, const char *partial);
/* The same for a front end's line editor: line holds the text before the word being typed
 * (its first `start` bytes are used); only the last ';'-separated command counts. */
char **cmd_complete_line(struct qv_app *app, const char *line, size_t start, const char *partial);

/* `help` text generation (used by the help command and the TUI overlay).  cmd_list_help is the
 * one command lister: a heading, then "  name       summary" per command, and with subs a line
 * of each group's subcommands; each line goes to emit. */
void cmd_print_help(struct qv_app *app, const struct cmd_entry *e, const char *path);
void cmd_list_help(bool subs, void (*emit)(void *ud, const char *text), void *ud);

/* `train … --ranks N [--hostfile F]`, `eval ll … --ranks N` (cmd_launch.c): the command a, its
 * --ranks/--hostfile dropped, runs under mpirun on a copy of the current session, its lines and
 * metrics streamed back; train: the result is loaded back and checkpointed under the current
 * name.  0, or -1 reported (mpirun missing, --ranks < 1, the job failed: state unchanged). */
int cmd_launch_ranks(struct qv_app *app, const struct cmd_args *a, bool train);
/* Redact secrets from a command line before it reaches history or a log: values of --token and
 * similar options, and anything that looks like a DWave API token, become "***". */
void cmd_redact(const char *line, char *out, size_t outsz);

#endif
