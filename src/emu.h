/* emu.h — a local emulator of D-Wave's Solver API: an HTTP server (libmicrohttpd) bound to
 * 127.0.0.1 only, speaking the endpoints, media types and status codes of qpu-protocol.md §1
 * (solvers list/definition with filters, problem submit/poll/answer/cancel, long polling),
 * checking the X-Auth-Token, validating parameters with the QPU's rules, and answering problems
 * with the emulated annealer (`sqa` sampler, the solver's A(s)/B(s) and temperature) on the
 * solver's real working graph.  Timing fields follow the solver's timing model.
 *
 * A drop-in for D-Wave's own clients (qpu-protocol §1.11): solver resources in the v3 form
 * (`identity` objects, "version=3.0.0") when Accept asks for version 3 and in the v2 form (string
 * `id`, what Ocean clients before 0.14 read) otherwise; a POST's reply is aligned with its jobs,
 * an error object in the place of each job that fails validation; problem ids are UUID4s from
 * the OS random source; each solver's graph id is hashed from its working graph.
 *
 * Fault injection (tests): added latency, a rate (or a count) of 429/500/503 replies, malformed
 * or truncated answers, dropped connections.  Spec text, comma-separated:
 *   latency=S      add S seconds before every reply
 *   503=P, 500=P, 429=P, drop=P, malformed=P, truncated=P   rate P in [0,1]
 *   503*N, 429*N, drop*N, …                                   the next N eligible replies
 *   503@N, drop@N, …                                          the N-th request from now
 *   none           clear all faults
 * 429/5xx/drop apply to every request; malformed/truncated to answers only.
 *
 * Threads: libmicrohttpd runs one thread per connection; one worker thread anneals problems in
 * submission order.  All shared state is behind one mutex.  Internals: emu_int.h. */
#ifndef QV_EMU_H
#define QV_EMU_H
#include "qv.h"

struct emu_server;
struct solver_props;

struct emu_opts {
    int port;                     /* 0 = any free port (see emu_port) */
    const char *token;            /* token clients must send; NULL/"" = any non-empty token */
    const char *const *solvers;   /* solver names/paths (solver_load); NULL = all shipped files */
    int nsolvers;
    const char *sampler;          /* "sqa" (default) or any registered sampler name */
    uint64_t seed;
    bool realtime;                /* sleep for the emulated QPU access time before answering */
    size_t max_body;              /* request body limit, wire and inflated (default 16 MiB) */
    const char *faults;           /* initial fault spec (may be NULL) */
};

struct emu_stats {
    long requests, problems, completed, faults_injected;
    double anneal_seconds;        /* wall time spent computing answers */
};

/* Start serving; NULL + error (port in use, no solver files, bad fault spec …). */
struct emu_server *emu_start(const struct emu_opts *o);
void emu_stop(struct emu_server *e);        /* NULL ok; cancels pending problems */
int  emu_port(const struct emu_server *e);
/* Base URL of the SAPI endpoint, "http://127.0.0.1:PORT/sapi/" (static per server). */
const char *emu_endpoint(const struct emu_server *e);
int  emu_set_faults(struct emu_server *e, const char *spec);
void emu_describe_faults(const struct emu_server *e, char *buf, size_t n);
void emu_get_stats(const struct emu_server *e, struct emu_stats *st);
/* Names of the solvers served, one per line. */
void emu_describe(const struct emu_server *e, char *buf, size_t n);

#endif
