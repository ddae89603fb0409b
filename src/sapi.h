/* sapi.h — client of D-Wave's Solver API (SAPI, REST over HTTPS with libcurl + cJSON) and its
 * configuration (environment variables and dwave.conf, as D-Wave's own tools read them).
 * Wire protocol: shared docs qpu-protocol.md §1; encodings in sapi_codec.h.
 *
 * Ownership: the client (app->sapi, never part of a session because it holds the token) owns
 * its curl handle, the solver cache and the config copy.  Solver properties returned by
 * sapi_solver() stay owned by the client and live until sapi_client_free().
 *
 * Secrets: the token is only ever put in the X-Auth-Token header.  No message, log line or
 * describe text produced here contains it (sapi_config_describe prints "set"/"not set").
 *
 * Retry policy: GET and DELETE are retried on connection errors, timeouts, 429 and 5xx with
 * exponential back-off (backoff_base·2^n, capped at backoff_max, at most max_retries times)
 * honouring Retry-After.  POST problems/ is never re-sent blindly: only when the server
 * explicitly refused it (429 or 503 reply) or the connection could not be opened at all, i.e.
 * when no problem can have been created. */
#ifndef QV_SAPI_H
#define QV_SAPI_H
#include "qv.h"
#include "sapi_codec.h"
#include <limits.h>
#include <stdatomic.h>

struct cJSON;
struct solver_props;

#define SAPI_DEFAULT_ENDPOINT "https://cloud.dwavesys.com/sapi/"

struct sapi_config {
    char token[512];          /* SECRET: never print, log or save */
    char endpoint[512];       /* normalised to end with '/' */
    char region[64];
    char solver[128];         /* default solver name ("" = first online QPU) */
    char proxy[256];
    char profile[64];         /* profile used ("" = none) */
    char files[1024];         /* config files read, ':'-separated ("" = none) */
    char token_src[96], endpoint_src[96], solver_src[96];   /* "DWAVE_API_TOKEN", "dwave.conf [prod]" */
    double connect_timeout;   /* s (default 30) */
    double request_timeout;   /* s per request, long-poll wait excluded (default 60) */
    double job_timeout;       /* s overall per job (default 600; 0 = none) */
    int poll_wait;            /* long-poll timeout sent to the server, 1..30 s (default 10) */
    int max_retries;          /* default 6 */
    double backoff_base;      /* s (default 0.05) */
    double backoff_max;       /* s (default 30) */
};

void sapi_config_init(struct sapi_config *c);
/* Resolve the configuration like D-Wave's cloud client: config file(s) (path, else
 * DWAVE_CONFIG_FILE, else the usual locations /etc/xdg/dwave/dwave.conf (XDG_CONFIG_DIRS),
 * ~/.config/dwave/dwave.conf (XDG_CONFIG_HOME), ./dwave.conf, later ones overriding), the
 * profile (argument, else DWAVE_PROFILE, else "profile" in [defaults], else the first section,
 * else [defaults]), then environment variables DWAVE_API_TOKEN, DWAVE_API_ENDPOINT,
 * DWAVE_API_REGION, DWAVE_API_SOLVER, DWAVE_API_PROXY over the file's values.  A missing
 * explicitly named file or profile is an error; missing usual files are not. */
int dwconf_load(struct sapi_config *c, const char *path, const char *profile);
/* Parse INI text into c for `profile` (used by dwconf_load and tests). */
int dwconf_parse(struct sapi_config *c, const char *text, const char *profile, const char *srcname);
/* One line per setting, token shown only as "set (from …)" / "not set". */
void sapi_config_describe(const struct sapi_config *c, char *buf, size_t n);

/* ---- client ---- */
struct sapi_client;

struct sapi_client *sapi_client_new(const struct sapi_config *cfg);   /* NULL + error */
void sapi_client_free(struct sapi_client *c);
const struct sapi_config *sapi_client_config(const struct sapi_client *c);
/* Cancel flag polled during transfers and waits (e.g. &app->cancel); may be NULL. */
void sapi_client_set_cancel(struct sapi_client *c, atomic_int *cancel);
/* Change limits of a live client; negative values keep the current setting. */
void sapi_client_set_limits(struct sapi_client *c, double job_timeout, double request_timeout, int max_retries);
/* Log callback for retries and deprecation notices (may be NULL). */
void sapi_client_set_log(struct sapi_client *c, void (*log)(void *ud, const char *line), void *ud);

struct sapi_solver_brief {
    char name[64], graph_id[32], status[16], topology[16], category[16];
    int nshape, shape[4];
    int num_qubits;
    double avg_load;          /* NAN when not sent */
};
/* GET solvers/remote/ (filtered, cached for 5 min unless refresh).  *out malloc'ed.  Entries
 * of the wrong shape are left out and each is named, with the reason, through the log hook. */
int sapi_list_solvers(struct sapi_client *c, bool refresh, struct sapi_solver_brief **out, int *n);
/* Parse a solver list body (v2 entries with a string "id" or v3 ones with "identity"); entries
 * whose fields have the wrong type are dropped, and why (if not NULL) receives one line per
 * dropped entry ("solver list entry 2 (NAME) dropped: status is a number, expected a string").
 * *out malloc'ed.  -1 + error when the text is not a JSON array. */
int sapi_solver_list_parse(const char *text, size_t n, struct sapi_solver_brief **out, int *count,
                           char *why, size_t wn);
/* Full properties of one solver (GET solvers/remote/NAME, cached 1 h).  NULL + error. */
const struct solver_props *sapi_solver(struct sapi_client *c, const char *name);
/* Current solver: set by sapi_use (checked to exist), else the config's solver, else the first
 * online QPU of the list.  NULL + error. */
int sapi_use(struct sapi_client *c, const char *name);
const struct solver_props *sapi_current_solver(struct sapi_client *c);

/* One problem for POST problems/.  lin[nq] in wire order (NaN inactive), quad[nc] per coupler. */
struct sapi_job {
    const struct solver_props *sp;
    bool qubo;
    const double *lin, *quad;
    double offset;
    const struct cJSON *params;   /* solver parameters object (borrowed) */
    const char *label;            /* may be NULL */
};
/* Build the JSON body of one job (what POST sends), for tests and replay. */
struct cJSON *sapi_job_json(const struct sapi_job *job, int *err);
/* Submit njobs in one POST; ids[k] receive the problem ids.  Per-job errors from the server
 * fail the call (message of the first). */
int sapi_submit(struct sapi_client *c, const struct sapi_job *jobs, int njobs, char (*ids)[64]);
/* Long-poll one problem until COMPLETED and decode its answer; FAILED/CANCELLED and timeouts are
 * errors.  On cancel (flag set) the problem is cancelled on the server and -1 "cancelled". */
int sapi_wait(struct sapi_client *c, const char *id, bool qubo, struct sapi_answer *ans);
/* Submit + wait for all jobs.  answers[njobs] initialised by the call. */
int sapi_sample(struct sapi_client *c, const struct sapi_job *jobs, int njobs,
                struct sapi_answer *answers);
/* DELETE problems/ID: 0 when cancelled or already finished/unknown is reported as an error. */
int sapi_cancel(struct sapi_client *c, const char *id);

struct sapi_stats {
    long requests, retries, jobs;
    double last_request_s;      /* wall time of the last HTTP exchange */
    struct sapi_timing last;    /* QPU timing of the last answer */
    double total_access_us;     /* Σ qpu_access_time over answers */
};
void sapi_client_stats(const struct sapi_client *c, struct sapi_stats *st);

/* Map of hardware label -> wire position for a solver (malloc'ed, size num_qubits, -1 = not a
 * working qubit).  Coupler lookup: sorted keys for bsearch. */
int *sapi_qubit_pos(const struct solver_props *sp);
struct sapi_coupler_index { long n; uint64_t *key; long *pos; };
int  sapi_coupler_index_build(const struct solver_props *sp, struct sapi_coupler_index *ix);
long sapi_coupler_find(const struct sapi_coupler_index *ix, int a, int b);   /* -1 if absent */
void sapi_coupler_index_free(struct sapi_coupler_index *ix);

/* ---- qpu sampler helpers (samp_qpu.c) ---- */
struct graph;
/* `prior new … --fit-solver`: the subgraph of g (a Chimera/Pegasus/Zephyr lattice or an edge
 * list of hardware labels) whose qubits and couplers all work on solver sp; family, dimensions,
 * drawing coordinates and colouring are kept.  report says what was dropped.  NULL + error on a
 * topology mismatch. */
struct graph *qpu_fit_graph(const struct graph *g, const struct solver_props *sp, char *report, size_t rn);
/* A Chimera prior g smaller than the Chimera chip sp: the first cell (*r0, *c0), scanning rows
 * from the origin, where the whole lattice works (every qubit and coupler); lab [g->nv] ← the
 * chip's linear labels of its nodes there.  false when g is no such prior or no place is clean. */
bool qpu_place_chimera(const struct graph *g, const struct solver_props *sp, long *lab, int *r0, int *c0);

#endif
