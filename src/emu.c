/* emu.c — the SAPI emulator's lifetime: the solvers it serves (each with a graph id hashed from
 * its working graph), problem ids, fault injection and the worker thread's start and stop.
 * HTTP, validation, annealing and the problem resources live in emu_http.c, emu_valid.c,
 * emu_anneal.c and emu_problems.c (map in emu_int.h); emu.h has the fault spec and threads. */
#include "emu_int.h"
#include "sampler.h"
#include "sapi.h"
#include "solver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const char *const emu_pstat_name[] = {"PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"};

/* ---------------------------------------------------------------- small helpers */

void emu_now_iso(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%.20s.%06dZ", b, (int)(ts.tv_nsec / 1000) % 1000000);
}

/* A random (version 4) UUID from the OS's random source: ids must be unique across emulator
 * processes and restarts, as real SAPI ids are (qpu-protocol §1.11 point 4), so never drawn
 * from the seeded generator. */
int emu_make_uuid(char out[40])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return qv_seterr("problem id: the OS random source failed (%s)", strerror(errno));
        got += (size_t)r;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}

/* Graph id of a solver: 64-bit FNV-1a over the working qubits then the couplers (each label as
 * 4 little-endian bytes, in the definition's order), printed as its first 10 hex digits — the
 * length of real ids such as "018d6fa6d0".  Stable for one graph, different when a qubit or
 * coupler is added or removed, the property SAPI's graph versioning relies on. */
void emu_graph_id(const struct solver_props *sp, char out[16])
{
    uint64_t h = 1469598103934665603ull;
    const uint64_t prime = 1099511628211ull;
    for (long k = 0; k < (long)sp->nq + 2 * sp->nc; k++) {
        uint32_t v = k < sp->nq ? (uint32_t)sp->qubits[k]
                   : (uint32_t)sp->couplers[(k - sp->nq) / 2][(k - sp->nq) % 2];
        for (int i = 0; i < 4; i++) { h ^= (v >> (8 * i)) & 0xffu; h *= prime; }
        if (k == sp->nq - 1) { h ^= 0xffu; h *= prime; }   /* separator: qubits | couplers */
    }
    snprintf(out, 16, "%010llx", (unsigned long long)(h >> 24));
}

int emu_find_solver(const struct emu_server *e, const char *name)
{
    for (int i = 0; i < e->nsv; i++)
        if (!strcmp(e->sv[i].sp->name, name)) return i;
    return -1;
}

void emu_sleep(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

void emu_problem_free(struct emu_problem *p)
{
    if (!p) return;
    free(p->label); free(p->lin); free(p->quad);
    cJSON_Delete(p->params); cJSON_Delete(p->answer);
    free(p);
}

struct emu_problem *emu_find_problem(struct emu_server *e, const char *id)
{
    for (int i = 0; i < e->npr; i++)
        if (!strcmp(e->pr[i]->id, id)) return e->pr[i];
    return NULL;
}

bool emu_terminal(enum pstat s) { return s == P_COMPLETED || s == P_FAILED || s == P_CANCELLED; }

/* ---------------------------------------------------------------- faults */

static int parse_faults(struct emu_server *e, const char *spec)
{
    if (!spec || !*spec) return 0;
    char *copy = qv_strdup(spec), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ", ", &save); t && !rc; t = strtok_r(NULL, ", ", &save)) {
        if (!strcmp(t, "none")) {
            e->latency = 0;
            struct fault z = {0};
            e->f503 = e->f500 = e->f429 = e->fdrop = e->fmal = e->ftrunc = z;
            continue;
        }
        char *eq = strchr(t, '='), *st = strchr(t, '*'), *at = strchr(t, '@');
        char *sep = eq ? eq : st ? st : at;
        if (!sep) { rc = qv_seterr("fault '%s': expected KIND=RATE, KIND*COUNT or KIND@N", t); break; }
        *sep = 0;
        const char *val = sep + 1;
        if (!strcmp(t, "latency")) {
            double d;
            if (!eq || qv_parse_double(val, &d) || d < 0 || d > 600)
                rc = qv_seterr("fault latency: '%s' is not a number of seconds in [0, 600]", val);
            else e->latency = d;
            continue;
        }
        struct fault *f = !strcmp(t, "503") ? &e->f503 : !strcmp(t, "500") ? &e->f500
                        : !strcmp(t, "429") ? &e->f429 : !strcmp(t, "drop") ? &e->fdrop
                        : !strcmp(t, "malformed") ? &e->fmal : !strcmp(t, "truncated") ? &e->ftrunc : NULL;
        if (!f) { rc = qv_seterr("fault '%s': unknown kind (latency, 503, 500, 429, drop, malformed, truncated, none)", t); break; }
        if (at && !eq && !st) {
            long n;
            if (qv_parse_long(val, &n) || n < 1) rc = qv_seterr("fault %s: @%s must be a positive request number", t, val);
            else f->at = e->stats.requests + n;
        } else if (eq) {
            double d;
            if (qv_parse_double(val, &d) || d < 0 || d > 1) rc = qv_seterr("fault %s: rate '%s' must be in [0, 1]", t, val);
            else f->rate = d;
        } else {
            long n;
            if (qv_parse_long(val, &n) || n < 0) rc = qv_seterr("fault %s: count '%s' must be a non-negative integer", t, val);
            else f->count = n;
        }
    }
    free(copy);
    return rc;
}

/* Draw one fault: consumes a count first, else a random draw at the rate.  Locked. */
bool emu_fault_hit(struct emu_server *e, struct fault *f)
{
    if (f->at > 0 && e->stats.requests >= f->at) { f->at = 0; e->stats.faults_injected++; return true; }
    if (f->count > 0) { f->count--; e->stats.faults_injected++; return true; }
    if (f->rate > 0 && rng_uniform(&e->rng) < f->rate) { e->stats.faults_injected++; return true; }
    return false;
}

int emu_set_faults(struct emu_server *e, const char *spec)
{
    mtx_lock(&e->mu);
    /* parse into a copy so a bad spec changes nothing */
    struct emu_server tmp = *e;
    int rc = parse_faults(&tmp, spec);
    if (!rc) {
        e->latency = tmp.latency;
        e->f503 = tmp.f503; e->f500 = tmp.f500; e->f429 = tmp.f429;
        e->fdrop = tmp.fdrop; e->fmal = tmp.fmal; e->ftrunc = tmp.ftrunc;
    }
    mtx_unlock(&e->mu);
    return rc;
}

void emu_describe_faults(const struct emu_server *e, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    if (e->latency > 0) o += (size_t)snprintf(buf + o, n - o, "latency=%g ", e->latency);
    const struct fault *F[] = {&e->f503, &e->f500, &e->f429, &e->fdrop, &e->fmal, &e->ftrunc};
    static const char *const N[] = {"503", "500", "429", "drop", "malformed", "truncated"};
    for (int i = 0; i < 6 && o < n; i++) {
        if (F[i]->rate > 0) o += (size_t)snprintf(buf + o, n - o, "%s=%g ", N[i], F[i]->rate);
        if (F[i]->count > 0 && o < n) o += (size_t)snprintf(buf + o, n - o, "%s*%ld ", N[i], F[i]->count);
        if (F[i]->at > 0 && o < n) o += (size_t)snprintf(buf + o, n - o, "%s@%ld ", N[i], F[i]->at - e->stats.requests);
    }
    if (!buf[0]) snprintf(buf, n, "none");
    else if (o && o <= n && buf[o - 1] == ' ') buf[o - 1] = 0;
}

/* ---------------------------------------------------------------- responses */
/* ---------------------------------------------------------------- lifetime */

static int add_solver(struct emu_server *e, struct solver_props *sp, const char *spec)
{
    if (!sp) return -1;
    if (!sp->nq || !sp->qubits) { solver_free(sp); return qv_seterr("solver has no working qubits"); }
    for (int i = 0; i < e->nsv; i++)
        if (!strcmp(e->sv[i].sp->name, sp->name)) { solver_free(sp); return 0; }
    e->sv = qv_realloc(e->sv, (size_t)(e->nsv + 1) * sizeof *e->sv);
    e->sv[e->nsv].sp = sp;
    e->sv[e->nsv].pos = sapi_qubit_pos(sp);
    e->sv[e->nsv].smp = NULL;
    emu_graph_id(sp, e->sv[e->nsv].graph_id);
    snprintf(e->sv[e->nsv].spec, sizeof e->sv[e->nsv].spec, "%s", spec);
    e->nsv++;
    return 0;
}

struct emu_server *emu_start(const struct emu_opts *o)
{
    struct emu_server *e = qv_calloc(1, sizeof *e);
    mtx_init(&e->mu, mtx_plain);
    cnd_init(&e->cv);
    snprintf(e->token, sizeof e->token, "%s", o->token ? o->token : "");
    snprintf(e->sampler, sizeof e->sampler, "%s", o->sampler && *o->sampler ? o->sampler : "sqa");
    if (!sampler_lookup(e->sampler)) {
        if (o->sampler && *o->sampler) { emu_stop(e); return NULL; }
        snprintf(e->sampler, sizeof e->sampler, "sa");   /* sqa not built in: classical stand-in */
        qv_clearerr();
    }
    uint64_t seed = o->seed;
    if (!seed && getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = (uint64_t)time(NULL);
    e->seed = seed;
    rng_init(&e->rng, seed, 0x5a91);
    e->realtime = o->realtime;
    e->max_body = o->max_body ? o->max_body : (16u << 20);
    if (parse_faults(e, o->faults)) { emu_stop(e); return NULL; }
    if (o->solvers && o->nsolvers > 0) {
        for (int i = 0; i < o->nsolvers; i++)
            if (add_solver(e, solver_load(o->solvers[i]), o->solvers[i])) { qv_preferr("solver %s", o->solvers[i]); emu_stop(e); return NULL; }
    } else {
        char **names = solver_list();
        for (int i = 0; names && names[i]; i++) {
            if (add_solver(e, solver_load(names[i]), names[i])) {
                qv_preferr("solver %s", names[i]);
                solver_list_free(names);
                emu_stop(e);
                return NULL;
            }
        }
        solver_list_free(names);
    }
    if (!e->nsv) { qv_seterr("emulator: no solver property files (assets/solvers/ is empty)"); emu_stop(e); return NULL; }

    if (thrd_create(&e->worker, emu_worker_main, e) != thrd_success) {
        qv_seterr("emulator: cannot start the worker thread"); emu_stop(e); return NULL;
    }
    e->worker_started = true;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* 127.0.0.1 only, never other interfaces */
    e->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                            (uint16_t)o->port, NULL, NULL, emu_handler, e,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, emu_on_completed, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
                            MHD_OPTION_END);
    if (!e->d) {
        qv_seterr("emulator: cannot listen on 127.0.0.1:%d (port in use?)", o->port);
        emu_stop(e);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(e->d, MHD_DAEMON_INFO_BIND_PORT);
    e->port = info ? info->port : o->port;
    snprintf(e->endpoint, sizeof e->endpoint, "http://127.0.0.1:%d/sapi/", e->port);
    return e;
}

void emu_stop(struct emu_server *e)
{
    if (!e) return;
    mtx_lock(&e->mu);
    e->stop = true;
    cnd_broadcast(&e->cv);
    mtx_unlock(&e->mu);
    if (e->d) MHD_stop_daemon(e->d);
    if (e->worker_started) thrd_join(e->worker, NULL);
    for (int i = 0; i < e->npr; i++) emu_problem_free(e->pr[i]);
    free(e->pr);
    for (int i = 0; i < e->nsv; i++) { solver_free(e->sv[i].sp); free(e->sv[i].pos); sampler_free(e->sv[i].smp); }
    free(e->sv);
    cnd_destroy(&e->cv);
    mtx_destroy(&e->mu);
    memset(e->token, 0, sizeof e->token);
    free(e);
}

int emu_port(const struct emu_server *e) { return e->port; }
const char *emu_endpoint(const struct emu_server *e) { return e->endpoint; }

void emu_get_stats(const struct emu_server *e, struct emu_stats *st)
{
    mtx_lock((mtx_t *)&e->mu);
    *st = e->stats;
    mtx_unlock((mtx_t *)&e->mu);
}

void emu_describe(const struct emu_server *e, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < e->nsv && o < n; i++) {
        const struct solver_props *sp = e->sv[i].sp;
        o += (size_t)snprintf(buf + o, n - o, "%s%s: %s, %d qubits (%d working), %ld couplers", i ? "\n" : "",
                              sp->name, sp->topology, sp->num_qubits, sp->nq, sp->nc);
    }
}
