/* emu.c — the SAPI emulator: libmicrohttpd on 127.0.0.1, the resources and status codes of
 * qpu-protocol.md §1, parameter validation (§2), answers from the emulated annealer on the
 * solver's working graph, timing from the solver's timing model, and fault injection.
 * See emu.h for the fault spec and the threading model. */
#include "emu.h"
#include "anneal.h"
#include "bm.h"
#include "rng.h"
#include "sampler.h"
#include "sapi.h"
#include "sapi_codec.h"
#include "schedule.h"
#include "solver.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <threads.h>
#include <time.h>
#include <zlib.h>

#define MT(x) "application/vnd.dwave.sapi." x "+json; version=3.0.0"
#define EMU_MAX_PROBLEMS 4096     /* finished problems beyond this are forgotten, oldest first */

struct emu_solver {
    struct solver_props *sp;
    int *pos;                     /* [num_qubits] label → wire position, -1 */
    char spec[512];               /* name or path it was loaded from (for the sqa option) */
    struct sampler *smp;          /* the annealer, created by the worker on first use */
};

enum pstat { P_PENDING, P_PROGRESS, P_COMPLETED, P_FAILED, P_CANCELLED };
static const char *const pstat_name[] = {"PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"};

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
    struct rng rng;
    struct emu_stats stats;
};

/* ---------------------------------------------------------------- small helpers */

static void now_iso(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%.20s.%06dZ", b, (int)(ts.tv_nsec / 1000) % 1000000);
}

static void make_uuid(struct emu_server *e, char out[40])
{
    unsigned char b[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rng_u64(&e->rng);
        memcpy(b + i, &r, 8);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

static void problem_free(struct emu_problem *p)
{
    if (!p) return;
    free(p->label); free(p->lin); free(p->quad);
    cJSON_Delete(p->params); cJSON_Delete(p->answer);
    free(p);
}

static struct emu_problem *find_problem(struct emu_server *e, const char *id)
{
    for (int i = 0; i < e->npr; i++)
        if (!strcmp(e->pr[i]->id, id)) return e->pr[i];
    return NULL;
}

static bool terminal(enum pstat s) { return s == P_COMPLETED || s == P_FAILED || s == P_CANCELLED; }

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
static bool fault_hit(struct emu_server *e, struct fault *f)
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

/* gzip a large body when the client accepts it, as SAPI does for solver lists (NULL = no). */
static unsigned char *gzip_body(const char *body, size_t n, size_t *outn)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&zs, (uLong)n);
    unsigned char *out = qv_malloc(cap);
    zs.next_in = (Bytef *)body; zs.avail_in = (uInt)n;
    zs.next_out = out; zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *outn = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) { free(out); return NULL; }
    return out;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *ctype,
                                  char *body, const char *retry_after)
{
    size_t n = strlen(body), zn = 0;
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    unsigned char *z = n > 65536 && ae && strstr(ae, "gzip") ? gzip_body(body, n, &zn) : NULL;
    struct MHD_Response *r;
    if (z) {
        free(body);
        r = MHD_create_response_from_buffer(zn, z, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    } else {
        r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, const char *ctype, cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return reply_text(c, status, ctype, s, NULL);
}

static enum MHD_Result reply_err(struct MHD_Connection *c, unsigned status, const char *fmt, ...) QV_PRINTF(3, 4);
static enum MHD_Result reply_err(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap; va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "error_code", status);
    cJSON_AddStringToObject(j, "error_msg", msg);
    return reply_json(c, status, "application/json", j);
}

/* ---------------------------------------------------------------- solvers */

static cJSON *solver_identity(const struct solver_props *sp)
{
    if (!sp->graph_id[0]) return cJSON_CreateString(sp->name);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", sp->name);
    cJSON *v = cJSON_AddObjectToObject(s, "version");
    cJSON_AddStringToObject(v, "graph_id", sp->graph_id);
    return s;
}

/* The solver object as served (v3 form: identity, status, avg_load, description, properties). */
static cJSON *solver_object(const struct emu_solver *s)
{
    const struct solver_props *sp = s->sp;
    cJSON *o = cJSON_CreateObject();
    cJSON *id = cJSON_AddObjectToObject(o, "identity");
    cJSON_AddStringToObject(id, "name", sp->name);
    cJSON *v = cJSON_AddObjectToObject(id, "version");
    cJSON_AddStringToObject(v, "graph_id", sp->graph_id[0] ? sp->graph_id : "emulated");
    cJSON_AddStringToObject(o, "status", "ONLINE");
    cJSON_AddNumberToObject(o, "avg_load", 0.0);
    cJSON_AddStringToObject(o, "description", sp->description[0] ? sp->description : "qvae emulated QPU");
    const cJSON *props = sp->json ? cJSON_GetObjectItemCaseSensitive(sp->json, "properties") : NULL;
    cJSON_AddItemToObject(o, "properties", props ? cJSON_Duplicate(props, 1) : cJSON_CreateObject());
    return o;
}

static const cJSON *path_get(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save))
        o = cJSON_GetObjectItemCaseSensitive(o, t);
    return o;
}

static void path_put(cJSON *dst, const char *path, const cJSON *val)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL, *t = strtok_r(buf, ".", &save);
    while (t) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, t);
            cJSON_AddItemToObject(dst, t, cJSON_Duplicate(val, 1));
            return;
        }
        cJSON *sub = cJSON_GetObjectItemCaseSensitive(dst, t);
        if (!cJSON_IsObject(sub)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, t);
            sub = cJSON_AddObjectToObject(dst, t);
        }
        dst = sub;
        t = next;
    }
}

static void path_del(cJSON *dst, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *dot = strrchr(buf, '.');
    cJSON *parent = dst;
    const char *leaf = buf;
    if (dot) {
        *dot = 0;
        parent = (cJSON *)path_get(dst, buf);
        leaf = dot + 1;
    }
    if (cJSON_IsObject(parent)) cJSON_DeleteItemFromObjectCaseSensitive(parent, leaf);
}

/* SAPI filter: {all|none}[,{+|-}field]…, dotted paths reach into nested objects. */
static cJSON *apply_filter(cJSON *full, const char *filter)
{
    if (!filter || !*filter) return full;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", filter);
    char *save = NULL;
    cJSON *out = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!out) {
            if (!strcmp(t, "none")) { out = cJSON_CreateObject(); continue; }
            out = cJSON_Duplicate(full, 1);
            if (!strcmp(t, "all")) continue;
        }
        char sign = t[0] == ' ' ? '+' : t[0];   /* '+' may arrive decoded as a space */
        const char *p = t + 1;
        if (sign == '+') { const cJSON *v = path_get(full, p); if (v) path_put(out, p, v); }
        else if (sign == '-') path_del(out, p);
    }
    cJSON_Delete(full);
    return out ? out : cJSON_CreateObject();
}

static int find_solver(struct emu_server *e, const char *name)
{
    for (int i = 0; i < e->nsv; i++)
        if (!strcmp(e->sv[i].sp->name, name)) return i;
    return -1;
}

/* ---------------------------------------------------------------- problems: validation */

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

static int get_bool(const cJSON *p, const char *k, bool def, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    *out = def;
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v); return 0; }
    return qv_seterr("Parameter %s must be a boolean", k);
}

static int get_number(const cJSON *p, const char *k, double def, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
    *out = def;
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) { *out = v->valuedouble; return 0; }
    return qv_seterr("Parameter %s must be a number", k);
}

static int check_range(const char *k, double v, const double r[2])
{
    if (v < r[0] || v > r[1])
        return qv_seterr("Parameter %s = %g is out of range [%g, %g]", k, v, r[0], r[1]);
    return 0;
}

static int validate_params(const struct solver_props *sp, const cJSON *params, bool qubo,
                           const double *lin, const double *quad, struct job_params *jp)
{
    memset(jp, 0, sizeof *jp);
    if (params && !cJSON_IsObject(params)) return qv_seterr("params must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
        if (!solver_accepts_param(sp, it->string))
            return qv_seterr("Parameter %s is not supported by solver %s", it->string, sp->name);
    double d;
    if (get_number(params, "num_reads", 1, &d)) return -1;
    if (d != floor(d)) return qv_seterr("Parameter num_reads must be an integer");
    jp->num_reads = (long)d;
    double rr[2] = {(double)sp->num_reads_range[0], (double)sp->num_reads_range[1]};
    if (check_range("num_reads", d, rr)) return -1;
    bool fast;
    if (get_bool(params, "fast_anneal", false, &fast)) return -1;
    if (get_bool(params, "auto_scale", true, &jp->auto_scale)) return -1;
    if (get_bool(params, "reinitialize_state", true, &jp->reinit)) return -1;
    if (get_bool(params, "reduce_intersample_correlation", false, &jp->reduce_corr)) return -1;
    if (get_number(params, "programming_thermalization", sp->default_programming_thermalization, &jp->prog_therm)) return -1;
    if (check_range("programming_thermalization", jp->prog_therm, sp->programming_thermalization_range)) return -1;
    if (get_number(params, "readout_thermalization", sp->default_readout_thermalization, &jp->read_therm)) return -1;
    if (check_range("readout_thermalization", jp->read_therm, sp->readout_thermalization_range)) return -1;
    const cJSON *am = cJSON_GetObjectItemCaseSensitive(params, "answer_mode");
    const cJSON *is = cJSON_GetObjectItemCaseSensitive(params, "initial_state");
    jp->initial = is && !cJSON_IsNull(is) ? is : NULL;
    jp->raw = jp->initial != NULL;
    if (am && !cJSON_IsNull(am)) {
        if (!cJSON_IsString(am) || (strcmp(am->valuestring, "raw") && strcmp(am->valuestring, "histogram")))
            return qv_seterr("Parameter answer_mode must be \"raw\" or \"histogram\"");
        jp->raw = !strcmp(am->valuestring, "raw");
    }
    if (get_number(params, "max_answers", 0, &d)) return -1;
    if (d < 0 || d != floor(d) || (d == 0 && cJSON_GetObjectItemCaseSensitive(params, "max_answers")))
        return qv_seterr("Parameter max_answers must be a positive integer");
    jp->max_answers = (long)d;
    if (jp->raw && jp->max_answers > jp->num_reads)
        return qv_seterr("Parameter max_answers (%ld) exceeds num_reads (%ld) in raw answer mode",
                         jp->max_answers, jp->num_reads);

    const cJSON *at = cJSON_GetObjectItemCaseSensitive(params, "annealing_time");
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(params, "anneal_schedule");
    bool have_at = at && !cJSON_IsNull(at), have_as = as && !cJSON_IsNull(as);
    if (have_at && have_as) return qv_seterr("annealing_time and anneal_schedule are mutually exclusive");
    sched_init(&jp->sched);
    jp->sched.num_reads = jp->num_reads;
    jp->sched.readout_thermalization = jp->read_therm;
    jp->sched.programming_thermalization = jp->prog_therm;
    jp->sched.initial_state = jp->initial != NULL;
    jp->sched.reinitialize = jp->reinit;
    if (have_as) {
        if (!cJSON_IsArray(as)) return qv_seterr("Parameter anneal_schedule must be a list of [time, s] points");
        if (sched_from_cjson(&jp->sched, as)) return qv_preferr("anneal_schedule");
        jp->sched.num_reads = jp->num_reads;
        jp->sched.readout_thermalization = jp->read_therm;
        jp->sched.programming_thermalization = jp->prog_therm;
        jp->sched.initial_state = jp->initial != NULL;
        jp->sched.reinitialize = jp->reinit;
        struct sched_violation v;
        if (sched_validate(&jp->sched, sp, &v, 1) > 0) return qv_seterr("anneal_schedule: %s", v.msg);
        jp->have_schedule = true;
        jp->reverse = sched_is_reverse(&jp->sched);
        jp->anneal_time = sched_duration(&jp->sched);
        if (fast && jp->sched.n != 2) return qv_seterr("fast_anneal requires an anneal_schedule of exactly 2 points");
    } else {
        if (get_number(params, "annealing_time", sp->default_annealing_time, &jp->anneal_time)) return -1;
        if (check_range("annealing_time", jp->anneal_time,
                        fast && sp->has_fast_anneal ? sp->fast_anneal_time_range : sp->annealing_time_range))
            return -1;
        if (sched_forward(&jp->sched, jp->anneal_time)) return qv_preferr("annealing_time");
        double dur = solver_run_duration(sp, jp->anneal_time, jp->num_reads, jp->read_therm, jp->prog_therm);
        if (dur > sp->problem_run_duration_range[1])
            return qv_seterr("Upper limit on user-specified timing related parameters exceeded: %.0f > %.0f",
                             dur, sp->problem_run_duration_range[1]);
    }
    if (jp->initial && !jp->reverse)
        return qv_seterr("initial_state requires a reverse anneal_schedule (starting at s = 1)");
    if (jp->initial) {
        if (!cJSON_IsArray(jp->initial) || cJSON_GetArraySize(jp->initial) != sp->num_qubits)
            return qv_seterr("Parameter initial_state must list %d values (one per qubit, 3 = unused)", sp->num_qubits);
        for (int i = 0; i < sp->nq; i++) {
            if (isnan(lin[i])) continue;
            const cJSON *v = cJSON_GetArrayItem(jp->initial, sp->qubits[i]);
            int x = cJSON_IsNumber(v) ? v->valueint : 99;
            bool ok = qubo ? (x == 0 || x == 1) : (x == -1 || x == 1);
            if (!ok)
                return qv_seterr("Parameter initial_state: active qubit %d has value %d (expected %s)",
                                 sp->qubits[i], x, qubo ? "0 or 1" : "-1 or +1");
        }
    }
    if (fast) {
        for (int i = 0; i < sp->nq; i++)
            if (!isnan(lin[i]) && lin[i] != 0)
                return qv_seterr("fast_anneal requires all linear biases to be zero");
        if (jp->reverse) return qv_seterr("fast_anneal does not support reverse annealing");
    }
    if (!jp->auto_scale && !qubo) {
        for (int i = 0; i < sp->nq; i++)
            if (!isnan(lin[i]) && (lin[i] < sp->h_range[0] || lin[i] > sp->h_range[1]))
                return qv_seterr("h value %g on qubit %d is out of h_range [%g, %g] (auto_scale is off)",
                                 lin[i], sp->qubits[i], sp->h_range[0], sp->h_range[1]);
        const double *jr = sp->has_extended_j ? sp->extended_j_range : sp->j_range;
        for (long k = 0; k < sp->nc; k++)
            if (quad[k] < jr[0] || quad[k] > jr[1])
                return qv_seterr("J value %g on coupler (%d, %d) is out of range [%g, %g] (auto_scale is off)",
                                 quad[k], sp->couplers[k][0], sp->couplers[k][1], jr[0], jr[1]);
    }
    return 0;
}

/* ---------------------------------------------------------------- annealing */

struct timing_out { double prog, anneal, readout, delay, sampling, access; };

static void timing_model(const struct solver_props *sp, const struct job_params *jp, int nact,
                         struct timing_out *t)
{
    const struct solver_timing *tm = &sp->timing;
    if (tm->present) {
        double ra_prog = jp->reverse ? (jp->reinit ? tm->ra_with_reinit_prog_delta : tm->ra_without_reinit_prog_delta) : 0;
        double ra_delay = jp->reverse ? (jp->reinit ? tm->ra_with_reinit_delay_delta : tm->ra_without_reinit_delay_delta) : 0;
        t->prog = tm->typical_programming_time + ra_prog + jp->prog_therm;
        int nr = tm->n_readout_params / 2;
        double x = nact > 0 ? (double)nact : 1.0;
        bool loglog = !strcmp(tm->readout_time_model, "pwl_log_log");
        if (loglog) x = log10(x);
        const double *q = tm->readout_params, *r = tm->readout_params + nr;
        double y = nr ? r[0] : 0;
        if (nr && x >= q[nr - 1]) y = r[nr - 1];
        else for (int i = 0; i + 1 < nr; i++)
            if (x >= q[i] && x <= q[i + 1]) { y = r[i] + (r[i + 1] - r[i]) * (x - q[i]) / (q[i + 1] - q[i]); break; }
        t->readout = loglog ? pow(10, y) : y;
        t->delay = tm->qpu_delay_time_per_sample + ra_delay + jp->read_therm;
    } else {   /* 2020-era 2000Q answers: typical values from the recorded DW_2000Q_5 answer */
        t->prog = 8361 + jp->prog_therm;
        t->readout = 274;
        t->delay = 21 + jp->read_therm;
    }
    t->anneal = jp->anneal_time;
    t->sampling = (double)jp->num_reads * (t->anneal + t->readout + t->delay);
    t->access = t->prog + t->sampling;
}

static cJSON *timing_json(const struct timing_out *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "qpu_sampling_time", round(t->sampling * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_anneal_time_per_sample", t->anneal);
    cJSON_AddNumberToObject(o, "qpu_readout_time_per_sample", round(t->readout * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_access_time", round(t->access * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_access_overhead_time", 1000.0);
    cJSON_AddNumberToObject(o, "qpu_programming_time", round(t->prog * 100) / 100);
    cJSON_AddNumberToObject(o, "qpu_delay_time_per_sample", round(t->delay * 100) / 100);
    cJSON_AddNumberToObject(o, "total_post_processing_time", 0.0);
    cJSON_AddNumberToObject(o, "post_processing_overhead_time", 0.0);
    return o;
}

struct row_sort { double e; long idx; };
static int cmp_row(const void *a, const void *b)
{
    const struct row_sort *x = a, *y = b;
    if (x->e != y->e) return x->e < y->e ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Anneal one problem: returns the answer object or NULL with the error (→ FAILED). */
static cJSON *anneal_problem(struct emu_server *e, const struct emu_problem *p, double *access_us)
{
    const struct emu_solver *S = &e->sv[p->solver];
    const struct solver_props *sp = S->sp;
    struct job_params jp;
    if (validate_params(sp, p->params, p->qubo, p->lin, p->quad, &jp)) return NULL;

    /* active qubits (ascending labels, as qubits[] is ascending) and couplers */
    int nact = 0;
    long *lab = qv_mallocarray((size_t)sp->nq + 1, sizeof *lab);
    int *wire = qv_mallocarray((size_t)sp->nq + 1, sizeof *wire);
    for (int i = 0; i < sp->nq; i++)
        if (!isnan(p->lin[i])) { lab[nact] = sp->qubits[i]; wire[nact] = i; nact++; }
    long ne = 0;
    long (*ed)[2] = qv_mallocarray((size_t)sp->nc + 1, sizeof *ed);
    long *ek = qv_mallocarray((size_t)sp->nc + 1, sizeof *ek);
    for (long k = 0; k < sp->nc; k++) {
        if (p->quad[k] == 0) continue;
        int pa = S->pos[sp->couplers[k][0]], pb = S->pos[sp->couplers[k][1]];
        if (pa < 0 || pb < 0 || isnan(p->lin[pa]) || isnan(p->lin[pb])) continue;
        ed[ne][0] = sp->couplers[k][0]; ed[ne][1] = sp->couplers[k][1]; ek[ne] = k; ne++;
    }
    cJSON *ans = NULL;
    struct graph *g = graph_from_edges(nact, lab, ne, (const long (*)[2])ed);
    struct bm *bm = g ? bm_new(g) : NULL;
    double *h = NULL, *J = NULL;
    uint8_t *init = NULL;
    struct sampler *smp = NULL;
    struct samples out;
    samples_init(&out);
    if (!bm) goto done;
    /* Ising problem on the bm's node/edge order (QUBO converted: h = Q_ii/2 + Σ Q_ij/4, J = Q_ij/4) */
    h = qv_calloc((size_t)nact + 1, sizeof *h);
    J = qv_calloc((size_t)bm->ne + 1, sizeof *J);
    for (int a = 0; a < nact; a++) {
        int u = graph_find_label(g, lab[a]);
        h[u] = p->qubo ? p->lin[wire[a]] / 2 : p->lin[wire[a]];
    }
    for (long m = 0; m < ne; m++) {
        int u = graph_find_label(g, ed[m][0]), v = graph_find_label(g, ed[m][1]);
        long gi = graph_edge_index(g, u, v);
        double q = p->quad[ek[m]];
        if (p->qubo) { J[gi] += q / 4; h[u] += q / 4; h[v] += q / 4; }
        else J[gi] += q;
    }
    /* auto_scale (qpu-protocol §2.5 without the per-qubit coupling term) */
    if (jp.auto_scale) {
        double r = 0;
        for (int u = 0; u < nact; u++) {
            r = fmax(r, h[u] / sp->h_range[1]);
            r = fmax(r, h[u] / sp->h_range[0]);
        }
        for (long m = 0; m < bm->ne; m++) {
            r = fmax(r, J[m] / sp->j_range[1]);
            r = fmax(r, J[m] / sp->j_range[0]);
        }
        if (r > 0) {
            for (int u = 0; u < nact; u++) h[u] /= r;
            for (long m = 0; m < bm->ne; m++) J[m] /= r;
        }
    }
    bm_from_ising(bm, h, J);
    /* Classical stand-ins sample at the freeze-out β of a standard anneal (β_phys·B(s*)/2 with
     * the published Advantage freeze-out point s* ≈ 0.612, annealing.md §4.1). */
    const struct anneal_table *tab = anneal_table_for(sp);
    double beta_fo = tab ? anneal_beta_phys(sp->temperature_mk) * anneal_B(tab, 0.612) / 2 : 6.0;
    qv_clearerr();

    /* The emulated annealer: sqa follows the schedule with the solver's A(s), B(s) and temperature;
     * β = its freeze-out β_eff makes it program the problem unscaled (sampler.h convention). */
    if (!S->smp) {
        struct sampler *ns = sampler_new(e->sampler, e->seed + 1000003u * (uint64_t)(p->solver + 1));
        if (!ns) goto done;
        ((struct emu_solver *)S)->smp = ns;
    }
    smp = S->smp;
    double beta = beta_fo;   /* the sampler's stand_in hook knows its own settings (sampler.h) */
    if (sampler_stand_in(smp, S->spec, jp.num_reads, &beta)) goto done;
    if (jp.initial) {
        init = qv_mallocarray((size_t)jp.num_reads * (size_t)nact + 1, 1);
        for (int a = 0; a < nact; a++) {
            int u = graph_find_label(g, lab[a]);
            int x = cJSON_GetArrayItem(jp.initial, (int)lab[a])->valueint;
            for (long r = 0; r < jp.num_reads; r++) init[(size_t)r * nact + u] = x > 0;
        }
    }
    struct sample_ctx ctx = {.schedule = &jp.sched, .initial = init, .threads = 0};
    if (sampler_sample(smp, bm, beta, jp.num_reads, &ctx, &out)) goto done;

    /* energies of the submitted (unscaled) problem, values ±1 (ising) or 0/1 (qubo) */
    long R = out.count;
    uint8_t *bits = qv_mallocarray((size_t)R * (size_t)nact + 1, 1);
    double *en = qv_mallocarray((size_t)R + 1, sizeof *en);
    int *node_of = qv_mallocarray((size_t)nact + 1, sizeof *node_of);
    for (int a = 0; a < nact; a++) node_of[a] = graph_find_label(g, lab[a]);
    for (long r = 0; r < R; r++) {
        const uint8_t *z = out.z + (size_t)r * bm->n;
        uint8_t *row = bits + (size_t)r * nact;
        double E = 0;
        for (int a = 0; a < nact; a++) {
            row[a] = z[node_of[a]];
            double x = p->qubo ? row[a] : (row[a] ? 1.0 : -1.0);
            E += p->lin[wire[a]] * x;
        }
        for (long m = 0; m < ne; m++) {
            int ua = graph_find_label(g, ed[m][0]), ub = graph_find_label(g, ed[m][1]);
            double xa = p->qubo ? z[ua] : (z[ua] ? 1.0 : -1.0), xb = p->qubo ? z[ub] : (z[ub] ? 1.0 : -1.0);
            E += p->quad[ek[m]] * xa * xb;
        }
        en[r] = E;
    }
    long nrow = R;
    int *occ = qv_mallocarray((size_t)R + 1, sizeof *occ);
    uint8_t *obits = bits;
    double *oen = en;
    if (!jp.raw) {   /* histogram: distinct samples, ascending energy, with counts */
        struct row_sort *rs = qv_mallocarray((size_t)R + 1, sizeof *rs);
        for (long r = 0; r < R; r++) { rs[r].e = en[r]; rs[r].idx = r; }
        qsort(rs, (size_t)R, sizeof *rs, cmp_row);
        obits = qv_mallocarray((size_t)R * (size_t)nact + 1, 1);
        oen = qv_mallocarray((size_t)R + 1, sizeof *oen);
        nrow = 0;
        for (long i = 0; i < R; i++) {
            const uint8_t *row = bits + (size_t)rs[i].idx * nact;
            long found = -1;
            for (long j = nrow - 1; j >= 0 && oen[j] == rs[i].e; j--)
                if (!memcmp(obits + (size_t)j * nact, row, (size_t)nact)) { found = j; break; }
            if (found >= 0) { occ[found]++; continue; }
            memcpy(obits + (size_t)nrow * nact, row, (size_t)nact);
            oen[nrow] = rs[i].e;
            occ[nrow] = 1;
            nrow++;
        }
        free(rs);
    } else {
        for (long r = 0; r < R; r++) occ[r] = 1;
    }
    if (jp.max_answers > 0 && nrow > jp.max_answers) nrow = jp.max_answers;
    int *act = qv_mallocarray((size_t)nact + 1, sizeof *act);
    for (int a = 0; a < nact; a++) act[a] = (int)lab[a];
    ans = cJSON_CreateObject();
    sapi_answer_encode(ans, sp->num_qubits, nact, act, nrow, obits, oen, occ);
    struct timing_out tmo;
    timing_model(sp, &jp, nact, &tmo);
    cJSON_AddItemToObject(ans, "timing", timing_json(&tmo));
    *access_us = tmo.access;
    free(act); free(occ); free(node_of);
    if (obits != bits) free(obits);
    if (oen != en) free(oen);
    free(bits); free(en);
done:
    samples_free(&out);
    free(init); free(h); free(J);
    if (bm) bm_free(bm); else graph_free(g);
    free(lab); free(wire); free(ed); free(ek);
    return ans;
}

static int worker_main(void *arg)
{
    struct emu_server *e = arg;
    mtx_lock(&e->mu);
    for (;;) {
        struct emu_problem *p = NULL;
        while (!e->stop) {
            for (int i = 0; i < e->npr && !p; i++)
                if (e->pr[i]->st == P_PENDING) p = e->pr[i];
            if (p) break;
            cnd_wait(&e->cv, &e->mu);
        }
        if (e->stop) break;
        p->st = P_PROGRESS;
        e->stats.problems++;
        mtx_unlock(&e->mu);
        double t0 = qv_now(), access = 0;
        cJSON *ans = anneal_problem(e, p, &access);
        double dt = qv_now() - t0;
        char err[256] = "";
        if (!ans) snprintf(err, sizeof err, "%s", qv_errmsg());
        if (e->realtime && ans && access * 1e-6 > dt) sleep_s(access * 1e-6 - dt);
        mtx_lock(&e->mu);
        e->stats.anneal_seconds += dt;
        if (ans) { p->answer = ans; p->st = P_COMPLETED; e->stats.completed++; }
        else { snprintf(p->errmsg, sizeof p->errmsg, "%s", err); p->st = P_FAILED; }
        now_iso(p->solved, sizeof p->solved);
        cnd_broadcast(&e->cv);
    }
    mtx_unlock(&e->mu);
    return 0;
}

/* ---------------------------------------------------------------- problem resources (locked) */

static cJSON *status_json(struct emu_server *e, const struct emu_problem *p, bool with_answer)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", pstat_name[p->st]);
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddItemToObject(o, "solver", solver_identity(e->sv[p->solver].sp));
    cJSON_AddStringToObject(o, "type", p->qubo ? "qubo" : "ising");
    cJSON_AddStringToObject(o, "submitted_on", p->submitted);
    if (p->label) cJSON_AddStringToObject(o, "label", p->label);
    else cJSON_AddNullToObject(o, "label");
    if (terminal(p->st)) cJSON_AddStringToObject(o, "solved_on", p->solved);
    if (p->st == P_FAILED) cJSON_AddStringToObject(o, "error_message", p->errmsg);
    if (with_answer && p->st == P_COMPLETED && p->answer) {
        cJSON *a = cJSON_Duplicate(p->answer, 1);
        /* answer faults: corrupt base64 or cut the solutions short */
        cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "solutions");
        if (fault_hit(e, &e->fmal)) cJSON_SetValuestring(s, "!!not*base64!!");
        else if (fault_hit(e, &e->ftrunc) && cJSON_IsString(s)) {
            size_t l = strlen(s->valuestring);
            char *cut = qv_strdup(s->valuestring);
            cut[(l / 8) * 4 > 4 ? (l / 8) * 4 - 4 : 0] = 0;
            cJSON_SetValuestring(s, cut);
            free(cut);
        }
        cJSON_AddItemToObject(o, "answer", a);
    }
    return o;
}

/* Wait (locked) until one of ps[] is terminal or the deadline passes. */
static void wait_any(struct emu_server *e, struct emu_problem **ps, int n, double seconds)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    double end = dl.tv_sec + dl.tv_nsec * 1e-9 + seconds;
    dl.tv_sec = (time_t)end;
    dl.tv_nsec = (long)((end - floor(end)) * 1e9);
    for (;;) {
        for (int i = 0; i < n; i++) if (terminal(ps[i]->st)) return;
        if (e->stop) return;
        if (cnd_timedwait(&e->cv, &e->mu, &dl) == thrd_timedout) return;
    }
}

static int parse_timeout(struct MHD_Connection *c, double *secs)
{
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout");
    *secs = 1;
    if (!t) return 0;
    long v;
    if (qv_parse_long(t, &v) || v < 1 || v > 30) return -1;
    *secs = (double)v;
    return 0;
}

static void forget_old(struct emu_server *e)
{
    while (e->npr > EMU_MAX_PROBLEMS) {
        int k = -1;
        for (int i = 0; i < e->npr && k < 0; i++) if (terminal(e->pr[i]->st)) k = i;
        if (k < 0) return;
        problem_free(e->pr[k]);
        memmove(e->pr + k, e->pr + k + 1, (size_t)(e->npr - k - 1) * sizeof *e->pr);
        e->npr--;
    }
}

static enum MHD_Result submit(struct emu_server *e, struct MHD_Connection *c, const char *body, size_t n)
{
    const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    unsigned char *plain = NULL; size_t pn = 0;
    if (enc && (!strcasecmp(enc, "deflate") || !strcasecmp(enc, "gzip"))) {
        if (sapi_inflate(body, n, e->max_body, &plain, &pn)) {
            if (strstr(qv_errmsg(), "larger than")) return reply_err(c, 413, "Request body too large");
            return reply_err(c, 400, "Invalid %s request body: %s", enc, qv_errmsg());
        }
    } else if (enc && strcasecmp(enc, "identity")) {
        return reply_err(c, 415, "Unsupported Content-Encoding %s", enc);
    }
    cJSON *j = plain ? cJSON_ParseWithLength((const char *)plain, pn) : cJSON_ParseWithLength(body, n);
    free(plain);
    if (!j) return reply_err(c, 400, "Request body is not valid JSON");
    if (cJSON_IsObject(j)) { cJSON *a = cJSON_CreateArray(); cJSON_AddItemToArray(a, j); j = a; }
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0) {
        cJSON_Delete(j);
        return reply_err(c, 400, "Request body must be a non-empty list of problems");
    }
    int nj = cJSON_GetArraySize(j);
    struct emu_problem **np = qv_calloc((size_t)nj, sizeof *np);
    unsigned code = 0;
    char msg[512] = "";
    for (int k = 0; k < nj && !code; k++) {
        const cJSON *job = cJSON_GetArrayItem(j, k);
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(job, "solver");
        const char *name = cJSON_IsString(sv) ? sv->valuestring
                         : cJSON_IsString(cJSON_GetObjectItemCaseSensitive(sv, "name"))
                         ? cJSON_GetObjectItemCaseSensitive(sv, "name")->valuestring : NULL;
        int si = name ? find_solver(e, name) : -1;
        if (si < 0) { code = 404; snprintf(msg, sizeof msg, "Solver does not exist or apitoken does not have access"); break; }
        const struct solver_props *sp = e->sv[si].sp;
        const cJSON *gid = path_get(sv, "version.graph_id");
        if (cJSON_IsString(gid) && strcmp(gid->valuestring, sp->graph_id[0] ? sp->graph_id : "emulated")) {
            code = 400;
            snprintf(msg, sizeof msg, "Solver %s graph_id %s does not match the current graph (%s)", sp->name,
                     gid->valuestring, sp->graph_id[0] ? sp->graph_id : "emulated");
            break;
        }
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(job, "type");
        bool supported = false;
        for (int i = 0; cJSON_IsString(ty) && i < sp->nproblem_types; i++)
            if (!strcmp(sp->problem_types[i], ty->valuestring)) supported = true;
        if (!supported) {
            code = 400;
            snprintf(msg, sizeof msg, "Problem type (%s) is not supported by the solver.",
                     cJSON_IsString(ty) ? ty->valuestring : "missing");
            break;
        }
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(job, "data");
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(data, "format");
        if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "qp")) {
            code = 400; snprintf(msg, sizeof msg, "Problem data format must be \"qp\" for solver %s", sp->name); break;
        }
        const cJSON *lb = cJSON_GetObjectItemCaseSensitive(data, "lin"), *qb = cJSON_GetObjectItemCaseSensitive(data, "quad");
        struct emu_problem *p = qv_calloc(1, sizeof *p);
        np[k] = p;
        p->solver = si;
        p->qubo = !strcmp(ty->valuestring, "qubo");
        if (!cJSON_IsString(lb) || (qb && !cJSON_IsString(qb))) {
            code = 400; snprintf(msg, sizeof msg, "Problem data must carry base64 lin and quad"); break;
        }
        if (sapi_qp_decode(lb->valuestring, qb ? qb->valuestring : "", sp->nq, sp->nc,
                           (const int (*)[2])sp->couplers, e->sv[si].pos, &p->lin, &p->quad)) {
            code = 400; snprintf(msg, sizeof msg, "%s", qv_errmsg()); break;
        }
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(job, "params");
        p->params = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
        struct job_params jp;
        if (validate_params(sp, p->params, p->qubo, p->lin, p->quad, &jp)) {
            code = 400; snprintf(msg, sizeof msg, "%s", qv_errmsg()); break;
        }
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(job, "label");
        if (cJSON_IsString(label)) p->label = qv_strdup(label->valuestring);
    }
    cJSON_Delete(j);
    if (code) {
        for (int k = 0; k < nj; k++) problem_free(np[k]);
        free(np);
        return reply_err(c, code, "%s", msg);
    }
    cJSON *out = cJSON_CreateArray();
    mtx_lock(&e->mu);
    for (int k = 0; k < nj; k++) {
        make_uuid(e, np[k]->id);
        now_iso(np[k]->submitted, sizeof np[k]->submitted);
        np[k]->st = P_PENDING;
        e->pr = qv_realloc(e->pr, (size_t)(e->npr + 1) * sizeof *e->pr);
        e->pr[e->npr++] = np[k];
        e->nsubmitted++;
        cJSON_AddItemToArray(out, status_json(e, np[k], false));
    }
    forget_old(e);
    cnd_broadcast(&e->cv);
    mtx_unlock(&e->mu);
    free(np);
    return reply_json(c, 200, MT("problems"), out);
}

static enum MHD_Result get_problem(struct emu_server *e, struct MHD_Connection *c, const char *id,
                                   const char *sub)
{
    double secs;
    if (!sub[0] && parse_timeout(c, &secs)) return reply_err(c, 400, "timeout must be an integer number of seconds in [1, 30]");
    mtx_lock(&e->mu);
    struct emu_problem *p = find_problem(e, id);
    if (!p) { mtx_unlock(&e->mu); return reply_err(c, 404, "Problem does not exist or apitoken does not have access"); }
    if (!sub[0]) {
        if (!terminal(p->st)) wait_any(e, &p, 1, secs);
        p = find_problem(e, id);   /* still there: problems are only forgotten when terminal */
        cJSON *o = p ? status_json(e, p, true) : NULL;
        mtx_unlock(&e->mu);
        if (!o) return reply_err(c, 410, "Problem is no longer accessible");
        return reply_json(c, 200, MT("problem"), o);
    }
    if (!strcmp(sub, "answer")) {
        if (p->st != P_COMPLETED) {
            mtx_unlock(&e->mu);
            return reply_err(c, 404, "Problem has no answer (status %s)", pstat_name[p->st]);
        }
        cJSON *st = status_json(e, p, true);
        mtx_unlock(&e->mu);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "answer", cJSON_DetachItemFromObject(st, "answer"));
        cJSON_Delete(st);
        return reply_json(c, 200, MT("problem-answer"), o);
    }
    if (!strcmp(sub, "messages")) {
        mtx_unlock(&e->mu);
        return reply_json(c, 200, MT("problem-message"), cJSON_CreateArray());
    }
    if (!strcmp(sub, "info")) {
        const struct emu_solver *S = &e->sv[p->solver];
        char *lb = NULL, *qb = NULL;
        sapi_qp_encode(S->sp->nq, p->lin, S->sp->nc, (const int (*)[2])S->sp->couplers, S->pos, p->quad, &lb, &qb);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", p->id);
        cJSON *d = cJSON_AddObjectToObject(o, "data");
        cJSON_AddStringToObject(d, "format", "qp");
        cJSON_AddStringToObject(d, "lin", lb ? lb : "");
        cJSON_AddStringToObject(d, "quad", qb ? qb : "");
        free(lb); free(qb);
        cJSON_AddItemToObject(o, "params", cJSON_Duplicate(p->params, 1));
        cJSON *st = status_json(e, p, true);
        cJSON *ans = cJSON_DetachItemFromObject(st, "answer");
        cJSON_AddItemToObject(o, "metadata", st);
        if (ans) cJSON_AddItemToObject(o, "answer", ans);
        mtx_unlock(&e->mu);
        return reply_json(c, 200, MT("problem-data"), o);
    }
    mtx_unlock(&e->mu);
    return reply_err(c, 404, "Unknown resource problems/%s/%s", id, sub);
}

static enum MHD_Result list_problems(struct emu_server *e, struct MHD_Connection *c)
{
    double secs;
    bool has_timeout = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout") != NULL;
    if (parse_timeout(c, &secs)) return reply_err(c, 400, "timeout must be an integer number of seconds in [1, 30]");
    const char *ids = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
    const char *fst = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    const char *flabel = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "label");
    const char *fsolver = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "solver");
    cJSON *out = cJSON_CreateArray();
    mtx_lock(&e->mu);
    if (ids) {
        char *copy = qv_strdup(ids), *save = NULL;
        struct emu_problem **ps = qv_calloc(1001, sizeof *ps);
        int n = 0;
        for (char *t = strtok_r(copy, ",", &save); t && n < 1000; t = strtok_r(NULL, ",", &save)) {
            struct emu_problem *p = find_problem(e, t);
            if (p) ps[n++] = p;
        }
        (void)has_timeout;
        bool any_done = false;
        for (int i = 0; i < n; i++) any_done |= terminal(ps[i]->st);
        if (n && !any_done) wait_any(e, ps, n, secs);
        /* re-resolve: pointers stay valid while locked and unfinished problems are never freed */
        char *copy2 = qv_strdup(ids);
        save = NULL;
        for (char *t = strtok_r(copy2, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            struct emu_problem *p = find_problem(e, t);
            if (p) cJSON_AddItemToArray(out, status_json(e, p, false));
        }
        free(copy); free(copy2); free(ps);
    } else {
        for (int i = e->npr - 1; i >= 0 && cJSON_GetArraySize(out) < 1000; i--) {
            const struct emu_problem *p = e->pr[i];
            if (fst && strcmp(fst, pstat_name[p->st])) continue;
            if (flabel && (!p->label || strcmp(flabel, p->label))) continue;
            if (fsolver && strcmp(fsolver, e->sv[p->solver].sp->name)) continue;
            cJSON_AddItemToArray(out, status_json(e, p, false));
        }
    }
    mtx_unlock(&e->mu);
    return reply_json(c, 200, MT("problems"), out);
}

/* Cancel one (locked): returns HTTP-like code and fills msg/status. */
static unsigned cancel_one(struct emu_server *e, const char *id, cJSON **item)
{
    struct emu_problem *p = find_problem(e, id);
    *item = NULL;
    if (!p) return 404;
    if (p->st == P_PENDING) {
        p->st = P_CANCELLED;
        now_iso(p->solved, sizeof p->solved);
        cnd_broadcast(&e->cv);
        *item = status_json(e, p, false);
        return 200;
    }
    if (p->st == P_PROGRESS) return 202;
    return 409;
}

static cJSON *cancel_error(unsigned code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "error_code", code);
    cJSON_AddStringToObject(o, "error_msg", code == 202 ? "Attempting to cancel problem in progress."
                                            : code == 409 ? "Problem has been finished."
                                            : "Problem does not exist or apitoken does not have access");
    return o;
}

static enum MHD_Result delete_problems(struct emu_server *e, struct MHD_Connection *c, const char *id,
                                       const char *body, size_t n)
{
    if (id) {
        cJSON *item;
        mtx_lock(&e->mu);
        unsigned code = cancel_one(e, id, &item);
        mtx_unlock(&e->mu);
        if (code == 200) return reply_json(c, 200, MT("problem"), item);
        cJSON *err = cancel_error(code);
        return reply_json(c, code, code == 202 ? MT("problem") : "application/json", err);
    }
    cJSON *j = body ? cJSON_ParseWithLength(body, n) : NULL;
    if (!cJSON_IsArray(j)) { cJSON_Delete(j); return reply_err(c, 400, "DELETE problems/ needs a JSON list of problem ids"); }
    cJSON *out = cJSON_CreateArray();
    const cJSON *it;
    mtx_lock(&e->mu);
    cJSON_ArrayForEach(it, j) {
        cJSON *item = NULL;
        unsigned code = cJSON_IsString(it) ? cancel_one(e, it->valuestring, &item) : 404;
        cJSON_AddItemToArray(out, code == 200 ? item : cancel_error(code));
    }
    mtx_unlock(&e->mu);
    cJSON_Delete(j);
    return reply_json(c, 200, MT("problems"), out);
}

/* ---------------------------------------------------------------- dispatcher */

struct conn { char *buf; size_t n, cap; bool too_big; };

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    struct conn *k = *con_cls;
    if (k) { free(k->buf); free(k); }
    *con_cls = NULL;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct emu_server *e = cls;
    struct conn *k = *con_cls;
    if (!k) {
        k = qv_calloc(1, sizeof *k);
        *con_cls = k;
        return MHD_YES;
    }
    if (*upload_size) {
        if (k->n + *upload_size > e->max_body) k->too_big = true;
        else {
            if (k->n + *upload_size + 1 > k->cap) {
                k->cap = (k->n + *upload_size + 1) * 2;
                k->buf = qv_realloc(k->buf, k->cap);
            }
            memcpy(k->buf + k->n, upload, *upload_size);
            k->n += *upload_size;
            k->buf[k->n] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }

    /* faults: decided under the lock, applied outside it */
    mtx_lock(&e->mu);
    e->stats.requests++;
    double lat = e->latency;
    bool drop = fault_hit(e, &e->fdrop);
    unsigned fcode = 0;
    if (!drop) fcode = fault_hit(e, &e->f429) ? 429 : fault_hit(e, &e->f503) ? 503 : fault_hit(e, &e->f500) ? 500 : 0;
    mtx_unlock(&e->mu);
    sleep_s(lat);
    if (drop) return MHD_NO;   /* closes the connection without a reply */
    if (fcode == 429) {
        char *b = qv_strdup("{\"error_code\":429,\"error_msg\":\"Too many requests (emulated rate limit)\"}");
        return reply_text(c, 429, "application/json", b, "0");
    }
    if (fcode) return reply_err(c, fcode, fcode == 503 ? "Service temporarily unavailable (emulated)"
                                                      : "Internal server error (emulated)");

    if (k->too_big) return reply_err(c, 413, "Request body too large (limit %zu bytes)", e->max_body);
    if (strlen(url) > 8192) return reply_err(c, 414, "Request URL too long");

    const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Auth-Token");
    bool tok_ok = tok && *tok && (!e->token[0] || !strcmp(tok, e->token));
    if (!tok_ok) return reply_err(c, 401, "Invalid token or access denied");

    const char *acc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    const char *ver = acc && strstr(acc, "vnd.dwave.sapi") ? strstr(acc, "version=") : NULL;
    if (ver && atoi(ver + 8) < 3) return reply_err(c, 415, "Unsupported media type version (SAPI 3.0.0 is served)");

    const char *rel = url;
    if (!strncmp(rel, "/sapi/", 6)) rel += 6;
    else if (!strcmp(rel, "/sapi")) rel += 5;
    while (*rel == '/') rel++;
    char path[1024];
    snprintf(path, sizeof path, "%s", rel);
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/') path[--pl] = 0;

    if (!strncmp(path, "solvers/remote", 14) && (path[14] == 0 || path[14] == '/')) {
        if (strcmp(method, "GET")) return reply_err(c, 405, "Method not allowed");
        const char *filter = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filter");
        if (path[14] == 0) {
            cJSON *arr = cJSON_CreateArray();
            for (int i = 0; i < e->nsv; i++) cJSON_AddItemToArray(arr, apply_filter(solver_object(&e->sv[i]), filter));
            return reply_json(c, 200, MT("solver-definition-list"), arr);
        }
        int si = find_solver(e, path + 15);
        if (si < 0) return reply_err(c, 404, "Solver does not exist or apitoken does not have access");
        return reply_json(c, 200, MT("solver-definition"), apply_filter(solver_object(&e->sv[si]), filter));
    }
    if (!strcmp(path, "problems")) {
        if (!strcmp(method, "POST")) return submit(e, c, k->buf ? k->buf : "", k->n);
        if (!strcmp(method, "GET")) return list_problems(e, c);
        if (!strcmp(method, "DELETE")) return delete_problems(e, c, NULL, k->buf, k->n);
        return reply_err(c, 405, "Method not allowed");
    }
    if (!strncmp(path, "problems/", 9)) {
        char id[64], sub[32] = "";
        const char *rest = path + 9, *slash = strchr(rest, '/');
        size_t il = slash ? (size_t)(slash - rest) : strlen(rest);
        if (il == 0 || il >= sizeof id) return reply_err(c, 404, "Problem does not exist or apitoken does not have access");
        memcpy(id, rest, il); id[il] = 0;
        if (slash) snprintf(sub, sizeof sub, "%s", slash + 1);
        if (!strcmp(method, "GET")) return get_problem(e, c, id, sub);
        if (!strcmp(method, "DELETE") && !sub[0]) return delete_problems(e, c, id, NULL, 0);
        return reply_err(c, 405, "Method not allowed");
    }
    return reply_err(c, 404, "Unknown resource %s", url);
}

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

    if (thrd_create(&e->worker, worker_main, e) != thrd_success) {
        qv_seterr("emulator: cannot start the worker thread"); emu_stop(e); return NULL;
    }
    e->worker_started = true;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* 127.0.0.1 only, never other interfaces */
    e->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                            (uint16_t)o->port, NULL, NULL, handler, e,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
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
    for (int i = 0; i < e->npr; i++) problem_free(e->pr[i]);
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
