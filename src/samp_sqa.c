/* samp_sqa.c — the `sqa` sampler: an emulated quantum annealer.  Path-integral Monte Carlo of
 * the transverse-field Ising model H(s) = −A(s)/2 Σσx + B(s)/2 (Σ h σz + Σ J σzσz)
 * (annealing.md §4.1) at the solver's temperature, following the anneal schedule s(t).
 *
 * Trotter mapping (samplers-and-metrics.md §4.1), P slices, β_phys = h/(k_B T) in GHz⁻¹:
 *   action S = a Σ_k E_s(σ^k) − K Σ_k Σ_i σ_i^k σ_i^{k+1}  (periodic in k),
 *   a = β_phys B(s) / (2P),  K = −½ ln tanh(β_phys A(s) / (2P)).
 * One sweep = for every spin i (in order): its P slice fields f_k = h_i + Σ_j J_ij σ_j^k, then
 *   (local)   heat-bath on each slice, even slices then odd slices;
 *   (cluster) Swendsen–Wang along imaginary time: bond equal neighbouring slices with
 *             p = 1 − tanh(β_phys A/(2P)), heat-bath flip of every segment on its integrated
 *             field (a whole-worldline flip when every bond is set).
 * MC time (anneal.h relaxation model): sweeps happen at ν(s) = min(ν0, (A(s)/A_c)²) per µs of
 * the schedule — ν0 = sweeps_per_us early in the anneal, slowing as tunnelling dies out, so the
 * state freezes near the solver's freeze-out point as on hardware.  Pauses, quenches and reverse
 * anneals are just schedules.  Reverse anneals start every slice at the classical initial state
 * (ctx->initial, else the previous call's samples, else random); without reinitialisation each
 * read of a chain of 16 starts from the previous read's output.  The sample is slice 0.
 *
 * Scale: the problem programmed is (β/β_eff)·(h, J) clipped to the solver's h_range / j_range,
 * plus Gaussian control noise σ (per read, absolute, default 0.02) as on hardware.  β_eff starts
 * at the schedule's freeze-out estimate and is re-estimated by MPL (beta.h) on the programmed
 * problem every `beta_every` calls.  Reads run in parallel (read r uses random stream r).
 *
 * Advanced controls (schedule.h struct sched_ctl): h-gain, per-qubit anneal offsets and flux
 * biases enter each step's fields (sqa_ctl.h has the model); the fast-anneal protocol is held to
 * its rules (two points, its own time range, h = 0, no h-gain, not reverse) and then annealed
 * like any schedule, on the solver's standard A(s), B(s) (the fast-anneal tables are not
 * published in annealing.md). */
#include "samp_kernel.h"
#include "simd_sqa.h"
#include "anneal.h"
#include "session.h"
#include "beta.h"
#include "schedule.h"
#include "solver.h"
#include "sqa_ctl.h"
#include "qv.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SQA_MAX_SWEEPS 1e8   /* sweeps per read: 2000 µs at 100 per µs is 2e5 */

#define RW SIMD_W      /* lanes of the vector RNG */
#define CHAIN 16       /* reads per chain when reverse anneals do not reinitialise */

struct sqa {
    uint64_t seed;
    /* options */
    long trotter;
    double sweeps_per_us;
    double anneal_time;        /* default forward anneal when no schedule is given, µs */
    double noise;
    double temperature;        /* mK, 0 = solver's */
    double beta_eff_fixed;     /* > 0 fixes β_eff; 0 = auto */
    long beta_every;
    long local, cluster;
    long reinit;               /* -1 = schedule's reinitialize_state, else 0/1 */
    long threads;
    char solver[64];
    char table[256];
    /* state */
    long calls;
    double beta_eff, beta_err;
    struct solver_props *sp;   /* cached solver named by `solver` (or the schedule's) */
    char sp_name[64];
    int nlast;
    long clast;
    uint8_t *last;             /* previous call's samples [clast × nlast] */
};

static const char *const sqa_keys[] = {"trotter", "sweeps_per_us", "anneal_time", "noise",
    "temperature", "beta_eff", "beta_every", "local", "cluster", "reinit", "threads", "solver",
    "table", NULL};
static const char *const sqa_help[] = {
    "Trotter slices P, even (default 16)",
    "MC sweeps per µs early in the anneal, ν0 (default 10); the freeze-out does not depend on it",
    "forward anneal time in µs when no schedule is given (default 20)",
    "σ of Gaussian control noise on programmed h and J, per read (default 0.02; 0 = off)",
    "operating temperature in mK (default: the solver's)",
    "fixed β_eff used to scale the problem (default auto: freeze-out estimate, then MPL)",
    "re-estimate β_eff every K calls (default 10)",
    "local slice updates 1/0 (default 1)",
    "imaginary-time cluster updates 1/0 (default 1)",
    "reverse anneal: 1 restart every read from the initial state, 0 continue, -1 = schedule's",
    "worker threads, 0 = all cores (default 0)",
    "solver whose temperature, A(s)/B(s) and h/J ranges are emulated (default: the schedule's)",
    "A(s)/B(s) table: name in assets/annealing or a CSV path (default: the solver's)",
    NULL,
};

static void *sqa_create(uint64_t seed)
{
    struct sqa *q = qv_calloc(1, sizeof *q);
    q->seed = seed;
    q->trotter = 16;
    q->sweeps_per_us = 10;
    q->anneal_time = 20;
    q->noise = 0.02;
    q->beta_every = 10;
    q->local = 1;
    q->cluster = 1;
    q->reinit = -1;
    q->beta_eff = NAN;
    q->beta_err = NAN;
    return q;
}

static void *sqa_clone(const void *impl, uint64_t seed)
{
    const struct sqa *o = impl;
    struct sqa *q = sqa_create(seed);
    q->trotter = o->trotter;
    q->sweeps_per_us = o->sweeps_per_us;
    q->anneal_time = o->anneal_time;
    q->noise = o->noise;
    q->temperature = o->temperature;
    q->beta_eff_fixed = o->beta_eff_fixed;
    q->beta_every = o->beta_every;
    q->local = o->local;
    q->cluster = o->cluster;
    q->reinit = o->reinit;
    q->threads = o->threads;
    memcpy(q->solver, o->solver, sizeof q->solver);
    memcpy(q->table, o->table, sizeof q->table);
    return q;
}

static void sqa_drop_state(struct sqa *q)
{
    free(q->last);
    q->last = NULL;
    q->nlast = 0;
    q->clast = 0;
    q->calls = 0;
    q->beta_eff = NAN;
    q->beta_err = NAN;
}

static int sqa_set(void *impl, const char *key, const char *val)
{
    struct sqa *q = impl;
    long v;
    if (!strcmp(key, "trotter")) {
        if (sk_parse_long("sqa", key, val, 2, 4096, &v)) return -1;
        if (v % 2) return qv_seterr("sampler sqa: --trotter: must be even, got %ld", v);
        q->trotter = v;
    } else if (!strcmp(key, "sweeps_per_us")) {
        if (sk_parse_double("sqa", key, val, 0.01, 100000, &q->sweeps_per_us)) return -1;
    } else if (!strcmp(key, "anneal_time")) {
        if (sk_parse_double("sqa", key, val, 0.001, 1e6, &q->anneal_time)) return -1;
    } else if (!strcmp(key, "noise")) {
        if (sk_parse_double("sqa", key, val, 0, 10, &q->noise)) return -1;
    } else if (!strcmp(key, "temperature")) {
        if (sk_parse_double("sqa", key, val, 0, 1e6, &q->temperature)) return -1;
    } else if (!strcmp(key, "beta_eff")) {
        if (!strcmp(val ? val : "", "auto")) q->beta_eff_fixed = 0;
        else if (sk_parse_double("sqa", key, val, 0, 1e6, &q->beta_eff_fixed)) return -1;
        q->beta_eff = NAN;
    } else if (!strcmp(key, "beta_every")) {
        if (sk_parse_long("sqa", key, val, 1, 1000000, &q->beta_every)) return -1;
    } else if (!strcmp(key, "local")) {
        if (sk_parse_long("sqa", key, val, 0, 1, &q->local)) return -1;
    } else if (!strcmp(key, "cluster")) {
        if (sk_parse_long("sqa", key, val, 0, 1, &q->cluster)) return -1;
    } else if (!strcmp(key, "reinit")) {
        if (sk_parse_long("sqa", key, val, -1, 1, &q->reinit)) return -1;
    } else if (!strcmp(key, "threads")) {
        if (sk_parse_long("sqa", key, val, 0, 256, &q->threads)) return -1;
    } else if (!strcmp(key, "solver")) {
        if (!val || strlen(val) >= sizeof q->solver) return qv_seterr("sampler sqa: --solver: bad name");
        if (*val && strcmp(val, "default")) {
            struct solver_props *sp = solver_load(val);
            if (!sp) return qv_preferr("sampler sqa: --solver");
            solver_free(q->sp);
            q->sp = sp;
            snprintf(q->sp_name, sizeof q->sp_name, "%s", val);
        }
        snprintf(q->solver, sizeof q->solver, "%s", strcmp(val, "default") ? val : "");
        q->beta_eff = NAN;
    } else if (!strcmp(key, "table")) {
        if (!val || strlen(val) >= sizeof q->table) return qv_seterr("sampler sqa: --table: bad name");
        if (*val && strcmp(val, "default") && !anneal_table_get(val)) return qv_preferr("sampler sqa: --table");
        snprintf(q->table, sizeof q->table, "%s", strcmp(val, "default") ? val : "");
        q->beta_eff = NAN;
    } else {
        return qv_seterr("sampler sqa: unknown option --%s", key);
    }
    return 0;
}

/* In the emulator: follow the emulated solver's A(s), B(s) and temperature with β_eff fixed to
 * 1, and sample at β = 1, so that the problem is programmed exactly as the client scaled it. */
static int sqa_stand_in(void *impl, const char *solver, long reads, double *beta)
{
    struct sqa *q = impl;
    if (strcmp(q->solver, solver) || q->beta_eff_fixed != 1)
        if (sqa_set(impl, "solver", solver) || sqa_set(impl, "beta_eff", "1")) return -1;
    *beta = 1;
    return 0;
}

static void sqa_describe(void *impl, char *buf, size_t n)
{
    struct sqa *q = impl;
    char be[32];
    if (q->beta_eff_fixed > 0) snprintf(be, sizeof be, "%g", q->beta_eff_fixed);
    else snprintf(be, sizeof be, "auto");
    snprintf(buf, n, "trotter=%ld sweeps_per_us=%g anneal_time=%g noise=%g temperature=%g beta_eff=%s "
             "beta_every=%ld local=%ld cluster=%ld reinit=%ld threads=%ld solver=%s table=%s",
             q->trotter, q->sweeps_per_us, q->anneal_time, q->noise, q->temperature, be, q->beta_every,
             q->local, q->cluster, q->reinit, q->threads, q->solver[0] ? q->solver : "default",
             q->table[0] ? q->table : "default");
}

/* ---------------------------------------------------------------- numerics */

/* Seed a read's lane RNG (SIMD_W lanes of xoshiro128+, simd.h) from its stream. */
static void vrng_seed(uint32_t *s, uint64_t seed, uint64_t stream)
{
    struct rng r;
    rng_init(&r, seed, stream);
    for (int i = 0; i < 4 * RW; i++) {
        s[i] = (uint32_t)(rng_u64(&r) >> 32);
        if (!s[i]) s[i] = 0x9E3779B9u;
    }
}

/* One MC step of the plan: coefficients at the s where it happens (and s, g(t) there for the
 * advanced controls). */
struct step { float a, K, pbond, s, g; };

/* Build the sweep plan of a schedule (see header comment).  Returns the number of sweeps. */
/* soff ≤ 0: steps come at the rate of s + soff, the fastest qubit's under anneal offsets
 * (sqa_ctl.h); 0 without offsets. */
static long make_plan(const struct sched *s, const struct anneal_table *t, double bphys, int P,
                      double nu0, double soff, struct step **out)
{
    double t0 = s->pt[0].t, T = sched_duration(s);
    double span = T - t0;
    long nfine = (long)ceil(span * nu0);
    if (nfine < 1) nfine = 1;
    double dt = span / (double)nfine, clock = 0;
    long cap = 1024, n = 0;
    struct step *st = qv_mallocarray((size_t)cap, sizeof *st);
    for (long f = 0; f < nfine; f++) {
        double tf = t0 + (f + 0.5) * dt, sv = sched_s_at(s, tf);
        clock += anneal_rate(t, soff < 0 ? fmax(0.0, sv + soff) : sv, nu0) * dt;
        while (clock >= 1.0) {
            clock -= 1.0;
            if (n == cap) {
                cap *= 2;
                st = qv_realloc(st, (size_t)cap * sizeof *st);
            }
            double A = anneal_A(t, sv), B = anneal_B(t, sv);
            double x = bphys * A / (2.0 * P);
            double th = tanh(x);
            double K = th > 0 ? -0.5 * log(th) : 40.0;
            if (K > 40) K = 40;
            st[n].a = (float)(bphys * B / (2.0 * P));
            st[n].K = (float)K;
            st[n].pbond = (float)(1.0 - th);
            st[n].s = (float)sv;
            st[n].g = (float)sched_hgain_at(s, tf);
            n++;
        }
    }
    *out = st;
    return n;
}

/* Everything a read needs, shared read-only across threads. */
struct sqa_job {
    struct sqa *q;
    const struct graph *g;
    int n, P;
    const double *h0, *J0;      /* programmed (scaled, clipped) problem */
    const struct step *plan;
    long nsteps;
    const struct sqa_ctl *ctl;  /* advanced controls, NULL when none */
    bool reverse, reinit;
    const uint8_t *init;        /* [ninit × n] initial states or NULL (random) */
    long ninit;
    long count;
    uint64_t seed;
    struct samples *out;
    const struct sample_ctx *ctx;
    atomic_long done;
    atomic_int stop;
    pthread_t caller;
};

struct sqa_work {              /* per-thread scratch */
    float *sp;                  /* [n × P] spins ±1 */
    float *h, *Jadj;            /* [n], [2 ne] noisy programmed problem of this read */
    float *f, *pad, *u, *u2, *u3;
    uint8_t *bond;
    uint32_t rs[4 * RW];
    struct sqa_ctl_work cw;     /* a step's fields under advanced controls */
};

/* One sweep of one read, by the SIMD kernel chosen at start (kern_isa_sqa.c). */
static void sweep(const struct sqa_job *J, struct sqa_work *w, const struct step *st)
{
    struct sqa_sweep sw = {
        .n = J->n, .P = J->P, .adj_start = J->g->adj_start, .adj = J->g->adj,
        .h = w->h, .Jadj = w->Jadj, .a = st->a, .K = st->K, .pbond = st->pbond,
        .local = J->q->local != 0, .cluster = J->q->cluster != 0, .sp = w->sp, .rs = w->rs,
        .f = w->f, .pad = w->pad, .u = w->u, .u2 = w->u2, .bond = w->bond,
    };
    if (J->ctl) {
        sw.h = w->cw.hs;
        if (sqa_ctl_step(J->ctl, st->s, st->g, st->K, st->pbond, w->h, w->Jadj, &w->cw)) {
            sw.Jadj = w->cw.Js;
            sw.Kv = w->cw.Kv;
            sw.pbv = w->cw.pbv;
            sw.skip = w->cw.skip;
        }
    }
    simd_kernels()->sqa_sweep(&sw);   /* non-NULL: sqa_sample checked */
}

/* Program read r's noisy problem into w->h / w->Jadj. */
static void program_read(const struct sqa_job *J, struct sqa_work *w, struct rng *r)
{
    const struct graph *g = J->g;
    double sig = J->q->noise;
    for (int i = 0; i < J->n; i++) w->h[i] = (float)(J->h0[i] + (sig > 0 ? sig * rng_normal(r) : 0));
    float *Je = qv_mallocarray((size_t)g->ne + 1, sizeof(float));
    for (long e = 0; e < g->ne; e++) Je[e] = (float)(J->J0[e] + (sig > 0 ? sig * rng_normal(r) : 0));
    for (long e = 0; e < 2 * g->ne; e++) w->Jadj[e] = Je[g->adj_edge[e]];
    free(Je);
}

static void set_classical(const struct sqa_job *J, struct sqa_work *w, const uint8_t *z)
{
    for (int i = 0; i < J->n; i++) {
        float v = z[i] ? 1.0f : -1.0f;
        for (int k = 0; k < J->P; k++) w->sp[(size_t)i * J->P + k] = v;
    }
}

/* One job = one read (reinit) or a chain of CHAIN consecutive reads (reverse, no reinit). */
static void sqa_job_run(void *p, long job)
{
    struct sqa_job *J = p;
    if (atomic_load(&J->stop)) return;
    int n = J->n, P = J->P;
    struct sqa_work w;
    memset(&w, 0, sizeof w);
    w.sp = qv_mallocarray((size_t)n * P, sizeof(float));
    w.h = qv_mallocarray((size_t)n, sizeof(float));
    w.Jadj = qv_mallocarray((size_t)(2 * J->g->ne + 1), sizeof(float));
    int Pr = (P + RW - 1) / RW * RW;
    w.f = qv_mallocarray((size_t)Pr, sizeof(float));
    w.pad = qv_mallocarray((size_t)Pr + 2, sizeof(float));
    w.u = qv_mallocarray((size_t)Pr, sizeof(float));
    w.u2 = qv_mallocarray((size_t)2 * Pr, sizeof(float));
    w.bond = qv_mallocarray((size_t)Pr, 1);
    if (J->ctl) sqa_ctl_work_init(J->ctl, &w.cw);
    long per = J->reverse && !J->reinit ? CHAIN : 1;
    long r0 = job * per, r1 = QV_MIN(J->count, r0 + per);
    for (long r = r0; r < r1; r++) {
        if (sk_cancelled(J->ctx) || atomic_load(&J->stop)) {
            atomic_store(&J->stop, 1);
            break;
        }
        struct rng rg;
        rng_init(&rg, J->seed, (uint64_t)r);
        vrng_seed(w.rs, J->seed ^ 0x5eed5eedULL, (uint64_t)r);
        program_read(J, &w, &rg);
        uint8_t *zout = J->out->z + (size_t)r * n;
        if (J->reverse) {
            if (r > r0 && !J->reinit) set_classical(J, &w, zout - n);   /* previous read's output */
            else if (J->init) set_classical(J, &w, J->init + (size_t)(r % J->ninit) * n);
            else {
                uint8_t *z = qv_malloc((size_t)n);
                for (int i = 0; i < n; i++) z[i] = (uint8_t)(rng_u64(&rg) >> 63);
                set_classical(J, &w, z);
                free(z);
            }
        } else {
            /* s = 0: slices nearly independent (K small); start them i.i.d. uniform */
            for (size_t x = 0; x < (size_t)n * P; x++) w.sp[x] = (rng_u64(&rg) >> 63) ? 1.0f : -1.0f;
        }
        if (J->ctl) sqa_ctl_read_start(J->ctl, &w.cw);
        for (long k = 0; k < J->nsteps; k++) sweep(J, &w, &J->plan[k]);
        for (int i = 0; i < n; i++) zout[i] = w.sp[(size_t)i * P] > 0;
        long d = atomic_fetch_add(&J->done, 1) + 1;
        if (J->ctx && J->ctx->progress && pthread_equal(pthread_self(), J->caller))
            J->ctx->progress(J->ctx->ud, (double)d, (double)J->count);
    }
    free(w.sp); free(w.h); free(w.Jadj); free(w.f); free(w.pad); free(w.u); free(w.u2); free(w.bond);
    if (J->ctl) sqa_ctl_work_free(&w.cw);
}

/* The solver in force: option, else the schedule's, else defaults. */
static const struct solver_props *sqa_solver(struct sqa *q, const struct sched *s)
{
    const char *want = q->solver[0] ? q->solver : (s && s->solver[0] ? s->solver : "");
    if (!*want) return solver_defaults();
    if (q->sp && !strcmp(q->sp_name, want)) return q->sp;
    struct solver_props *sp = solver_load(want);
    if (!sp) return NULL;
    solver_free(q->sp);
    q->sp = sp;
    snprintf(q->sp_name, sizeof q->sp_name, "%s", want);
    return sp;
}

/* The problem as programmed: (h, J)·scale clipped to the solver's ranges; h0 [n], J0 [ne]
 * malloc'ed; returns how many values were clipped. */
static long program_problem(const struct bm *bm, const struct solver_props *sp, double scale,
                            double **h0, double **J0)
{
    *h0 = qv_mallocarray((size_t)bm->n, sizeof(double));
    *J0 = qv_mallocarray((size_t)bm->ne + 1, sizeof(double));
    bm_to_ising(bm, *h0, *J0, NULL);
    long clipped = 0;
    for (int i = 0; i < bm->n; i++) {
        double v = (*h0)[i] * scale;
        if (v < sp->h_range[0]) { v = sp->h_range[0]; clipped++; }
        if (v > sp->h_range[1]) { v = sp->h_range[1]; clipped++; }
        (*h0)[i] = v;
    }
    for (long e = 0; e < bm->ne; e++) {
        double v = (*J0)[e] * scale;
        if (v < sp->j_range[0]) { v = sp->j_range[0]; clipped++; }
        if (v > sp->j_range[1]) { v = sp->j_range[1]; clipped++; }
        (*J0)[e] = v;
    }
    return clipped;
}

/* The fast-anneal protocol's rules (qpu-protocol.md §2.1–2.2): the schedule's fast-anneal,
 * slope and time rules against the solver, and no linear bias on the problem. */
static int check_fast(const struct sched *s, const struct solver_props *sp, const struct bm *bm)
{
    struct sched_violation v[8];
    int nv = sched_validate(s, sp, v, 8);
    for (int i = 0; i < QV_MIN(nv, 8); i++)
        if (v[i].rule == SCHED_RULE_FAST || v[i].rule == SCHED_RULE_SLOPE || v[i].rule == SCHED_RULE_MAX_TIME)
            return qv_seterr("sampler sqa: fast anneal: %s", v[i].msg);
    double *h = qv_mallocarray((size_t)bm->n, sizeof *h), *J = qv_mallocarray((size_t)bm->ne + 1, sizeof *J);
    bm_to_ising(bm, h, J, NULL);
    int bad = -1;
    for (int i = 0; i < bm->n && bad < 0; i++)
        if (h[i] != 0) bad = i;
    double hb = bad >= 0 ? h[bad] : 0;
    free(h);
    free(J);
    if (bad >= 0)
        return qv_seterr("sampler sqa: fast anneal requires all linear biases to be zero (unit %d has h = %g; "
                         "flux biases can stand in)", bad, hb);
    return 0;
}

/* A schedule may break a QPU's rules here (warnings, not errors), but not ask for an anneal no
 * machine could run: its sweep count must fit the plan's arithmetic and finish. */
static int check_sweeps(const struct sqa *q, const struct sched *s)
{
    const double span = sched_duration(s) - s->pt[0].t, fine = span * q->sweeps_per_us;
    if (isfinite(fine) && fine <= SQA_MAX_SWEEPS) return 0;
    return qv_seterr("sampler sqa: the schedule's %g µs at %g sweeps per µs is %.3g sweeps per read; at most "
                     "%.0e (QPUs anneal for at most 2000 µs): shorten it or lower sweeps_per_us",
                     span, q->sweeps_per_us, fine, SQA_MAX_SWEEPS);
}

static int sqa_sample(void *impl, const struct bm *bm, double beta, long count,
                      const struct sample_ctx *ctx, struct samples *out)
{
    struct sqa *q = impl;
    double t_start = qv_now();
    if (!(beta > 0) || !isfinite(beta)) return qv_seterr("sampler sqa: β must be positive (got %g)", beta);
    if (count <= 0) return qv_seterr("sampler sqa: count must be positive");
    if (!simd_kernels()) return qv_seterr("sampler sqa: %s", simd_isa_error());
    if (bm_check_finite(bm)) return -1;
    struct sched defs;
    /* The schedule in force: the one passed (sampler_sample fills in the workbench's). */
    const struct sched *s = ctx ? ctx->schedule : NULL;
    if (!s || s->n < 2) {
        sched_init(&defs);
        if (sched_forward(&defs, q->anneal_time) < 0) return -1;
        s = &defs;
    }
    if (s->pt[0].t < 0 || !(sched_duration(s) > s->pt[0].t))
        return qv_seterr("sampler sqa: the schedule has no duration");
    const struct solver_props *sp = sqa_solver(q, s);
    if (!sp) return qv_preferr("sampler sqa");
    struct solver_props spc;          /* shallow copy with option overrides, never freed */
    memcpy(&spc, sp, sizeof spc);
    if (q->temperature > 0) spc.temperature_mk = q->temperature;
    const struct anneal_table *tab = q->table[0]
        ? anneal_table_calibrated(q->table, spc.freezeout_s > 0 ? spc.freezeout_s : 0.612)
        : anneal_table_for(&spc);
    if (!tab) return qv_preferr("sampler sqa");
    if (s->ctl.fast_anneal && check_fast(s, &spc, bm)) return -1;
    double bphys = anneal_beta_phys(spc.temperature_mk);

    /* β_eff in force: fixed, else current estimate, else the freeze-out estimate. */
    double beff = q->beta_eff_fixed > 0 ? q->beta_eff_fixed : q->beta_eff;
    if (!(beff > 0) || !isfinite(beff)) {
        struct freezeout fo;
        if (anneal_freezeout(s, &spc, tab, &fo) < 0) return -1;
        beff = fo.beta_eff;
        if (q->beta_eff_fixed <= 0) q->beta_eff = beff;
    }
    if (check_sweeps(q, s)) return -1;
    double scale = beta / beff;
    int n = bm->n;
    const struct graph *g = bm->g;
    double *h0, *J0;
    long clipped = program_problem(bm, &spc, scale, &h0, &J0);
    struct sqa_ctl ctl;
    bool have_ctl = sqa_ctl_init(&ctl, s, g, tab, bphys, (int)q->trotter, sqa_mafm_ph(spc.name),
                                 q->sweeps_per_us);
    struct step *plan = NULL;
    long nsteps = make_plan(s, tab, bphys, (int)q->trotter, q->sweeps_per_us, ctl.minoff, &plan);
    if (samples_alloc(out, n, count, false)) {
        free(h0); free(J0); free(plan);
        if (have_ctl) sqa_ctl_free(&ctl);
        return -1;
    }
    bool reverse = sched_is_reverse(s);
    bool reinit = q->reinit >= 0 ? q->reinit != 0 : s->reinitialize;
    struct sqa_job J = {.q = q, .g = g, .n = n, .P = (int)q->trotter, .h0 = h0, .J0 = J0,
                        .plan = plan, .nsteps = nsteps, .reverse = reverse, .reinit = reinit,
                        .count = count, .out = out, .ctx = ctx, .caller = pthread_self(),
                        .ctl = have_ctl ? &ctl : NULL};
    J.seed = q->seed * 0x9E3779B97F4A7C15ULL + (uint64_t)q->calls;
    const char *initsrc = "none";
    if (reverse) {
        if (ctx && ctx->initial) { J.init = ctx->initial; J.ninit = count; initsrc = "given"; }
        else if (q->last && q->nlast == n) { J.init = q->last; J.ninit = q->clast; initsrc = "previous samples"; }
        else initsrc = "random";
    }
    long njobs = reverse && !reinit ? (count + CHAIN - 1) / CHAIN : count;
    int nt = sk_threads(ctx && ctx->threads > 0 ? ctx->threads : (int)q->threads, njobs,
                        (double)nsteps * n * q->trotter * (double)(count / QV_MAX(njobs, 1)));
    qv_parallel(nt, njobs, sqa_job_run, &J);
    free(plan);
    char ctlinfo[160] = "";
    if (have_ctl || s->ctl.fast_anneal)
        snprintf(ctlinfo, sizeof ctlinfo, ", controls:%s%s %d offsets, %d flux biases%s",
                 s->ctl.fast_anneal ? " fast anneal," : "", s->ctl.nhg ? " h-gain," : "", ctl.noff, ctl.nflux,
                 ctl.ignored ? " (some on qubits outside the problem, ignored)" : "");
    if (have_ctl) sqa_ctl_free(&ctl);
    if (atomic_load(&J.stop)) {
        free(h0); free(J0);
        return qv_seterr("sample: cancelled");
    }
    samples_energies(bm, out);
    out->beta_eff = beff;
    q->calls++;
    /* Keep the samples for reverse anneals that continue from them. */
    free(q->last);
    q->last = qv_malloc((size_t)count * n);
    memcpy(q->last, out->z, (size_t)count * n);
    q->nlast = n;
    q->clast = count;
    /* Re-estimate β_eff on the programmed (noise-free) problem. */
    bool est = q->beta_eff_fixed <= 0 && (q->calls == 1 || q->calls % q->beta_every == 0);
    if (est) {
        struct beta_result br;
        if (beta_estimate_ising(g, h0, J0, out->z, count, 10, q->seed + (uint64_t)q->calls, &br) == 0 &&
            isfinite(br.beta) && br.beta > 0) {
            q->beta_eff = br.beta;
            q->beta_err = br.err;
        }
    }
    free(h0);
    free(J0);
    out->seconds = qv_now() - t_start;
    snprintf(out->info, sizeof out->info,
             "sqa: P=%ld, %ld sweeps over %g µs, T=%g mK, β_eff %.3g (next %.3g±%.2g), scale %.3g%s%s, noise %g%s%s%s",
             q->trotter, nsteps, sched_duration(s) - s->pt[0].t, spc.temperature_mk, beff, q->beta_eff,
             q->beta_err, scale, clipped ? ", clipped " : "", clipped ? "yes" : "", q->noise,
             reverse ? ", reverse from " : "", reverse ? initsrc : "", ctlinfo);
    if (ctx && ctx->report) {
        struct sampler_report r = {q->beta_eff, q->beta_err, NAN, sched_duration(s), NAN, NAN, NAN};
        ctx->report(ctx->out_ud, &r);
    }
    return 0;
}

static void sqa_reset(void *impl)
{
    sqa_drop_state(impl);
}

static void sqa_destroy(void *impl)
{
    struct sqa *q = impl;
    sqa_drop_state(q);
    solver_free(q->sp);
    free(q);
}

/* Sessions keep the β_eff estimate and the last samples (reverse anneals continue from them). */
static int sqa_save(void *impl, struct cJSON *sec, struct sess_io *io)
{
    struct sqa *q = impl;
    if (isfinite(q->beta_eff)) cJSON_AddNumberToObject(sec, "beta_eff_estimate", q->beta_eff);
    if (isfinite(q->beta_err)) cJSON_AddNumberToObject(sec, "beta_eff_error", q->beta_err);
    cJSON_AddNumberToObject(sec, "calls", (double)q->calls);
    if (q->last && q->nlast > 0) {
        if (sess_blob_put(io, "sqa_last", q->last, (size_t)q->clast * q->nlast)) return -1;
        cJSON_AddNumberToObject(sec, "last_units", q->nlast);
        cJSON_AddNumberToObject(sec, "last_count", (double)q->clast);
    }
    return 0;
}

static int sqa_load(void *impl, const struct cJSON *sec, struct sess_io *io)
{
    struct sqa *q = impl;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(sec, "beta_eff_estimate")) && cJSON_IsNumber(v) && v->valuedouble > 0)
        q->beta_eff = v->valuedouble;
    if ((v = cJSON_GetObjectItemCaseSensitive(sec, "beta_eff_error")) && cJSON_IsNumber(v)) q->beta_err = v->valuedouble;
    if ((v = cJSON_GetObjectItemCaseSensitive(sec, "calls")) && cJSON_IsNumber(v) && v->valuedouble >= 0)
        q->calls = (long)v->valuedouble;
    const cJSON *ju = cJSON_GetObjectItemCaseSensitive(sec, "last_units");
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(sec, "last_count");
    if (cJSON_IsNumber(ju) && cJSON_IsNumber(jc)) {
        void *data;
        size_t len;
        if (sess_blob_get(io, "sqa_last", &data, &len)) return -1;
        if (ju->valuedouble < 1 || jc->valuedouble < 1 || len != (size_t)ju->valuedouble * (size_t)jc->valuedouble) {
            free(data);
            return qv_seterr("sampler sqa: saved samples have %zu bytes, expected units × count", len);
        }
        free(q->last);
        q->last = data;
        q->nlast = ju->valueint;
        q->clast = (long)jc->valuedouble;
    }
    return 0;
}

const struct sampler_vtab samp_sqa_vtab = {
    .name = "sqa",
    .summary = "emulated quantum annealer: path-integral Monte Carlo following the anneal schedule",
    .keys = sqa_keys,
    .key_help = sqa_help,
    .create = sqa_create,
    .clone_config = sqa_clone,
    .stand_in = sqa_stand_in,
    .set = sqa_set,
    .describe = sqa_describe,
    .sample = sqa_sample,
    .reset = sqa_reset,
    .destroy = sqa_destroy,
    .save = sqa_save,
    .load = sqa_load,
};
