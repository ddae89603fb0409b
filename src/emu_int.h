/* emu_int.h — the SAPI emulator's shared internals (not a public API: include only from emu*.c).
 *
 * The emulator is cut along its seams:
 *   emu.c          lifetime, solvers served, problem ids, fault injection, the worker thread
 *   emu_http.c     the dispatcher, content negotiation (v2/v3 bodies), replies, solver resources
 *   emu_valid.c    one job of a POST: solver, type, qp data and parameters checked (§1.5, §2)
 *   emu_anneal.c   answering a problem with the emulated annealer, the timing model
 *   emu_problems.c problem resources: submit, status, long poll, answer, info, cancel
 *
 * Locking: everything in struct emu_server that changes after emu_start (problems, faults,
 * stats) is guarded by mu; functions documented "locked" expect mu held. */
#ifndef QV_EMU_INT_H
#define QV_EMU_INT_H
#include "emu.h"
#include "rng.h"
#include "schedule.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <threads.h>

#define EMU_MAX_PROBLEMS 4096     /* finished problems beyond this are forgotten, oldest first */

struct emu_solver {
    struct solver_props *sp;
    int *pos;                     /* [num_qubits] label → wire position, -1 */
    char spec[512];               /* name or path it was loaded from (for the sqa option) */
    char graph_id[16];            /* 10 hex digits hashed from the working graph (emu_graph_id) */
    struct sampler *smp;          /* the annealer, created by the worker on first use */
};

enum pstat { P_PENDING, P_PROGRESS, P_COMPLETED, P_FAILED, P_CANCELLED };
extern const char *const emu_pstat_name[];

struct emu_problem {
    char id[40];
    enum pstat st;
    int solver;
    bool qubo;
    char *label;
    char submitted[40], solved[40];
    double *lin, *quad;           /* decoded: [nq] wire order (NaN inactive), [nc] */
    cJSON *params;
    cJSON *answer;
    char errmsg[256];
};

struct fault { double rate; long count; long at; };   /* at: fire on request number `at` */

struct emu_server {
    struct MHD_Daemon *d;
    int port;
    char endpoint[64];
    char token[512];
    struct emu_solver *sv; int nsv;
    char sampler[32];
    uint64_t seed;
    bool realtime;
    size_t max_body;
    mtx_t mu;
    cnd_t cv;
    thrd_t worker;
    bool worker_started, stop;
    struct emu_problem **pr; int npr;
    long nsubmitted;
    double latency;
    struct fault f503, f500, f429, fdrop, fmal, ftrunc;
    struct rng rng;               /* fault draws only; problem ids come from getrandom */
    struct emu_stats stats;
};

/* Solver-resource API version a request negotiated from its Accept header (qpu-protocol §1.11
 * point 3): 3 = identity objects, 2 = string ids (also for no version or any media type). */
enum emu_ver { EMU_V2 = 2, EMU_V3 = 3 };

/* ---- emu.c */
void emu_now_iso(char *buf, size_t n);
int  emu_make_uuid(char out[40]);          /* UUID4 from getrandom; -1 + error */
void emu_sleep(double s);
void emu_problem_free(struct emu_problem *p);
struct emu_problem *emu_find_problem(struct emu_server *e, const char *id);   /* locked */
bool emu_terminal(enum pstat s);
bool emu_fault_hit(struct emu_server *e, struct fault *f);                   /* locked */
int  emu_find_solver(const struct emu_server *e, const char *name);          /* index or -1 */
void emu_graph_id(const struct solver_props *sp, char out[16]);

/* ---- emu_http.c */
const char *emu_media(const char *kind, enum emu_ver v);    /* e.g. "problems" → full type */
enum MHD_Result emu_reply_json(struct MHD_Connection *c, unsigned status, const char *ctype, cJSON *j);
enum MHD_Result emu_reply_err(struct MHD_Connection *c, unsigned status, const char *fmt, ...) QV_PRINTF(3, 4);
cJSON *emu_error_object(unsigned code, const char *msg);
const cJSON *emu_path_get(const cJSON *o, const char *path);
cJSON *emu_solver_ref(const struct emu_solver *s, enum emu_ver v);   /* "solver" of a status */
enum MHD_Result emu_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload, size_t *upload_size, void **con_cls);
void emu_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t);

/* ---- emu_valid.c */
struct job_params {
    long num_reads;
    double anneal_time;           /* µs: annealing_time or schedule end */
    bool have_schedule;
    struct sched sched;           /* forward [[0,0],[T,1]] when only annealing_time given */
    bool raw;
    long max_answers;             /* 0 = all */
    bool auto_scale;
    bool reverse, reinit;
    const cJSON *initial;         /* initial_state array or NULL */
    double prog_therm, read_therm;
    bool reduce_corr;
};
int emu_validate_params(const struct solver_props *sp, const cJSON *params, bool qubo,
                        const double *lin, const double *quad, struct job_params *jp);
/* ---- emu_anneal.c: the advanced controls (anneal_offsets, h_gain_schedule, flux_biases,
 * fast_anneal) of a job's params into jp->sched.ctl (emu_params_ctl, before the schedule is
 * checked), and their rules once the schedule is known (emu_check_ctl). */
int emu_params_ctl(const struct solver_props *sp, const cJSON *params, bool fast, const double *lin,
                   struct job_params *jp);
int emu_check_ctl(const struct solver_props *sp, const struct job_params *jp);
/* One job of a POST body → a new problem (not yet queued), or NULL with *code (HTTP-like,
 * 400/404) and the message in qv_errmsg(). */
struct emu_problem *emu_job_parse(const struct emu_server *e, const cJSON *job, unsigned *code);

/* ---- emu_anneal.c */
int emu_worker_main(void *arg);

/* ---- emu_problems.c (HTTP resources; ver picks the solver form in status objects) */
enum MHD_Result emu_submit(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v,
                           const char *body, size_t n);
enum MHD_Result emu_get_problem(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v,
                                const char *id, const char *sub);
enum MHD_Result emu_list_problems(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v);
enum MHD_Result emu_delete_problems(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v,
                                    const char *id, const char *body, size_t n);
#endif
