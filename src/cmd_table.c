/* cmd_table.c — the root of the command table: every top-level command or group, in the order
 * `help` lists them.  Each module defines its entries in its own cmd_<area>.c and exports one
 * `const struct cmd_entry` per top-level command; register it here with one line. */
#include "cmd.h"

extern const struct cmd_entry cmd_help_entry, cmd_quit_entry, cmd_exit_entry, cmd_seed_entry,
    cmd_echo_entry, cmd_version_entry;
extern const struct cmd_entry cmd_data_entry;
extern const struct cmd_entry cmd_session_entry;
extern const struct cmd_entry cmd_prior_entry;
extern const struct cmd_entry cmd_sampler_entry, cmd_sample_entry;
extern const struct cmd_entry cmd_model_entry, cmd_train_entry, cmd_eval_entry;
extern const struct cmd_entry cmd_view_entry, cmd_tour_entry;
extern const struct cmd_entry cmd_schedule_entry;
extern const struct cmd_entry cmd_qpu_entry, cmd_serve_qpu_entry;
extern const struct cmd_entry cmd_compare_entry;

const struct cmd_entry *const cmd_root[] = {
    /* module commands, one line each (keep this order: data, prior, sampler, sample, model,
     * train, eval, schedule, qpu, session, view …) */
    &cmd_data_entry,
    &cmd_prior_entry,
    &cmd_sampler_entry, &cmd_sample_entry,
    &cmd_model_entry, &cmd_train_entry, &cmd_eval_entry,
    &cmd_schedule_entry,
    &cmd_qpu_entry, &cmd_serve_qpu_entry,
    &cmd_compare_entry,
    &cmd_session_entry,
    &cmd_view_entry, &cmd_tour_entry,
    &cmd_help_entry,
    &cmd_seed_entry,
    &cmd_echo_entry,
    &cmd_version_entry,
    &cmd_quit_entry,
    &cmd_exit_entry,
    NULL,
};
