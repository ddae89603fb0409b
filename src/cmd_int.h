/* cmd_int.h — the command layer's private declarations (cmd_groups.c: `model new --groups`), and what the `schedule` group
 * (cmd_schedule.c: building and editing the points; its table) shares with cmd_sched_ctl.c
 * (the advanced controls, `schedule try` and `schedule scan`).  Include only from cmd_*.c. */
#ifndef QV_CMD_INT_H
#define QV_CMD_INT_H
#include "cmd.h"

struct sched;

/* The current schedule (a 20 µs forward anneal is made when there is none). */
struct sched *cmd_sched_cur(struct qv_app *app);
/* After a change: print the table and the validation, tell the front end. */
int cmd_sched_after_edit(struct qv_app *app, struct sched *s);

int cmd_schedule_hgain(struct qv_app *app, const struct cmd_args *a);
int cmd_schedule_offset(struct qv_app *app, const struct cmd_args *a);
int cmd_schedule_flux(struct qv_app *app, const struct cmd_args *a);
int cmd_schedule_fast(struct qv_app *app, const struct cmd_args *a);
extern const struct cmd_opt cmd_sched_lab_opts[];    /* try and scan */
extern const struct cmd_opt cmd_sched_show_opts[];   /* show */
extern const struct cmd_opt cmd_sched_scan_opts[];   /* scan (try's and --png) */
int cmd_schedule_try(struct qv_app *app, const struct cmd_args *a);
int cmd_schedule_scan(struct qv_app *app, const struct cmd_args *a);
/* The controls of s in one line ("" when none), for `schedule show`. */
void cmd_sched_ctl_line(const struct sched *s, char *buf, size_t n);

struct dvae_config;
/* `model new --groups S` (cmd_groups.c): fills c's group count; *out the unit → group map
 * (malloc'ed, the caller frees) for an explicit partition.  0, or -1 with the error reported. */
int cmd_parse_groups(struct qv_app *app, const char *s, struct dvae_config *c, int **out);

#endif
