/* sampler.c — the sampler registry, the `samples` batch type, the generic sampler object
 * (create / set options / sample / free) and the log Z dispatcher bm_logz (exact, pa, ais). */
#include "sampler.h"
#include "qv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct sampler_vtab samp_exact_vtab, samp_gibbs_vtab, samp_sa_vtab, samp_pt_vtab,
    samp_pa_vtab, samp_ais_vtab;
extern const struct sampler_vtab samp_sqa_vtab;
extern const struct sampler_vtab samp_qpu_vtab;
/* Population annealing / AIS estimate of log Z (samp_pa.c).  Declared here as well as in
 * samp_kernel.h: the interface must not include the kernels, which include the interface. */
int samp_pa_logz(const struct bm *bm, double beta, const struct logz_opts *o,
                 struct logz_result *r, bool resample);

const struct sampler_vtab *const sampler_registry[] = {
    &samp_gibbs_vtab,
    &samp_sa_vtab,
    &samp_pt_vtab,
    &samp_pa_vtab,
    &samp_ais_vtab,
    &samp_exact_vtab,
    &samp_sqa_vtab,
    &samp_qpu_vtab,
    NULL,
};

/* ---------------------------------------------------------------- samples */

void samples_init(struct samples *s)
{
    memset(s, 0, sizeof *s);
    s->beta_eff = NAN;
}

int samples_alloc(struct samples *s, int n, long count, bool with_logw)
{
    if (n <= 0 || count <= 0) return qv_seterr("samples: need n > 0 and count > 0");
    if (!qv_size_ok((size_t)count, (size_t)n, (size_t)1 << 32, "samples")) return -1;
    free(s->z);
    free(s->energy);
    free(s->logw);
    s->z = qv_malloc((size_t)count * (size_t)n);
    s->energy = qv_mallocarray((size_t)count, sizeof *s->energy);
    s->logw = with_logw ? qv_mallocarray((size_t)count, sizeof *s->logw) : NULL;
    s->n = n;
    s->count = count;
    s->info[0] = 0;
    return 0;
}

void samples_free(struct samples *s)
{
    free(s->z);
    free(s->energy);
    free(s->logw);
    samples_init(s);
}

/* E(z) of every state (bm.h convention) in double.  Branch-free with four partial sums: with
 * random 0/1 states the branches of a direct loop mispredict half the time, and the energies of
 * a PCD call would cost more than its sweeps.  Agrees with bm_energy to rounding (~1e-15). */
void samples_energies(const struct bm *bm, struct samples *s)
{
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    const double *b = bm->b, *w = bm->w;
    int n = bm->n;
    long ne = bm->ne;
    for (long k = 0; k < s->count; k++) {
        const uint8_t *z = s->z + (size_t)k * (size_t)n;
        double e0 = 0, e1 = 0, e2 = 0, e3 = 0;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            e0 -= (double)z[i] * b[i];
            e1 -= (double)z[i + 1] * b[i + 1];
        }
        if (i < n) e0 -= (double)z[i] * b[i];
        long j = 0;
        for (; j + 1 < ne; j += 2) {
            e2 -= (double)(z[ed[j][0]] & z[ed[j][1]]) * w[j];
            e3 -= (double)(z[ed[j + 1][0]] & z[ed[j + 1][1]]) * w[j + 1];
        }
        if (j < ne) e2 -= (double)(z[ed[j][0]] & z[ed[j][1]]) * w[j];
        s->energy[k] = (e0 + e1) + (e2 + e3);
    }
}

/* ---------------------------------------------------------------- registry */

static const char *registry_name(const void *list, int i)
{
    (void)list;
    return sampler_registry[i] ? sampler_registry[i]->name : NULL;
}

const struct sampler_vtab *sampler_lookup(const char *name)
{
    if (!name || !*name) {
        qv_seterr("sampler: no name given");
        return NULL;
    }
    char list[512];
    int i = qv_unique_prefix(name, registry_name, NULL, list, sizeof list);
    if (i >= 0) return sampler_registry[i];
    qv_seterr("sampler '%s': %s (%s)", name, i == -2 ? "ambiguous" : "unknown", list);
    return NULL;
}

struct sampler *sampler_new(const char *name, uint64_t seed)
{
    const struct sampler_vtab *vt = sampler_lookup(name);
    if (!vt) return NULL;
    void *impl = vt->create(seed);
    if (!impl) return NULL;
    struct sampler *s = qv_calloc(1, sizeof *s);
    s->vt = vt;
    s->impl = impl;
    s->seed = seed;
    return s;
}

struct sampler *sampler_clone_config(const struct sampler *s, uint64_t seed)
{
    void *impl = s->vt->clone_config(s->impl, seed);
    if (!impl) return NULL;
    struct sampler *c = qv_calloc(1, sizeof *c);
    c->vt = s->vt;
    c->impl = impl;
    c->seed = seed;
    return c;
}

int sampler_stand_in(struct sampler *s, const char *solver, long reads, double *beta)
{
    return s->vt->stand_in ? s->vt->stand_in(s->impl, solver, reads, beta) : 0;
}

void sampler_free(struct sampler *s)
{
    if (!s) return;
    s->vt->destroy(s->impl);
    free(s);
}

int sampler_set(struct sampler *s, const char *key, const char *val)
{
    if (!key) return qv_seterr("sampler %s: missing option name", s->vt->name);
    while (*key == '-') key++;
    bool known = false;
    for (int i = 0; s->vt->keys && s->vt->keys[i]; i++)
        if (!strcmp(s->vt->keys[i], key)) known = true;
    if (!known) {
        char list[512];
        size_t o = 0;
        list[0] = 0;
        for (int i = 0; s->vt->keys && s->vt->keys[i] && o < sizeof list; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s--%s", i ? ", " : "",
                                  s->vt->keys[i]);
        return qv_seterr("sampler %s: unknown option --%s (accepted: %s)", s->vt->name, key,
                         o ? list : "none");
    }
    if (!val) return qv_seterr("sampler %s: --%s: missing value", s->vt->name, key);
    return s->vt->set(s->impl, key, val);
}

int sampler_set_desc(struct sampler *s, const char *desc)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", desc);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) continue;   /* "(no options…)" */
        *eq = 0;
        if (sampler_set(s, tok, eq + 1)) return -1;
    }
    return 0;
}

int sampler_sample(struct sampler *s, const struct bm *bm, double beta, long count,
                   const struct sample_ctx *ctx, struct samples *out)
{
    if (!s) return qv_seterr("sample: no sampler selected");
    if (!bm) return qv_seterr("sample: no Boltzmann machine prior (use `prior new …`)");
    if (!isfinite(beta) || beta < 0)
        return qv_seterr("sample: beta must be a finite number >= 0, got %g", beta);
    if (count <= 0) return qv_seterr("sample: the number of samples must be positive, got %ld", count);
    if (bm_check_finite(bm)) return -1;
    struct sample_ctx c = {0};
    if (ctx) c = *ctx;
    if (c.app && sampler_ctx_fill(c.app, s, &c)) return -1;
    c.app = NULL;   /* samplers see only the fields */
    if (s->vt->needs_client && !c.client)
        return qv_seterr("sampler %s: not connected (`qpu config` or `qpu emulate`)", s->vt->name);
    double t0 = qv_now();
    out->info[0] = 0;
    out->beta_eff = NAN;
    int rc = s->vt->sample(s->impl, bm, beta, count, &c, out);
    if (rc) return rc;
    out->seconds = qv_now() - t0;
    return 0;
}

/* ---------------------------------------------------------------- log Z */

int bm_logz(const struct bm *bm, double beta, const char *method, const struct logz_opts *o,
            struct logz_result *r)
{
    memset(r, 0, sizeof *r);
    if (!bm) return qv_seterr("logz: no Boltzmann machine");
    if (!isfinite(beta) || beta < 0)
        return qv_seterr("logz: beta must be a finite number >= 0, got %g", beta);
    if (bm_check_finite(bm)) return -1;
    struct logz_opts def = {0};
    if (!o) o = &def;
    if (!method || !strcmp(method, "exact")) {
        /* One colour class is summed out analytically, so what is enumerated is the rest. */
        int enum_units = bm_exact_enum_units(bm);
        if (enum_units > BM_EXACT_MAX)
            return qv_seterr("logz: exact enumeration would visit 2^%d states, more than 2^%d "
                             "(use --method pa or ais)", enum_units, BM_EXACT_MAX);
        double t0 = qv_now();
        if (bm_logz_exact(bm, beta, &r->logz)) return -1;
        r->err = 0;
        r->ess = NAN;
        r->seconds = qv_now() - t0;
        snprintf(r->info, sizeof r->info, "exact enumeration of 2^%d states", enum_units);
        return 0;
    }
    if (!strcmp(method, "pa")) return samp_pa_logz(bm, beta, o, r, true);
    if (!strcmp(method, "ais")) return samp_pa_logz(bm, beta, o, r, false);
    return qv_seterr("logz: unknown method '%s' (exact, pa, ais)", method);
}

void samples_weights(const struct samples *s, double *w)
{
    double mx = -INFINITY;
    if (s->logw)
        for (long k = 0; k < s->count; k++) mx = fmax(mx, s->logw[k]);
    for (long k = 0; k < s->count; k++) w[k] = s->logw ? exp(s->logw[k] - mx) : 1.0;
}

void samples_energy_stats(const struct samples *s, double *mean, double *sd, double *emin, double *emax)
{
    double *w = qv_mallocarray((size_t)s->count + 1, sizeof *w);
    samples_weights(s, w);
    double sw = 0, m = 0, m2 = 0, lo = INFINITY, hi = -INFINITY;
    for (long k = 0; k < s->count; k++) {
        const double e = s->energy[k];
        sw += w[k];
        m += w[k] * e;
        m2 += w[k] * e * e;
        lo = fmin(lo, e);
        hi = fmax(hi, e);
    }
    free(w);
    const bool none = s->count == 0 || !(sw > 0);
    m = none ? NAN : m / sw;
    if (mean) *mean = m;
    if (sd) *sd = none ? NAN : sqrt(fmax(0.0, m2 / sw - m * m));
    if (emin) *emin = none ? NAN : lo;
    if (emax) *emax = none ? NAN : hi;
}
