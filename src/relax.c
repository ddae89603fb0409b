/* relax.c — relaxations of binary latents: samplers, implicit gradients, mixture log-densities and
 * the shifted bias of the relaxed Boltzmann prior.  The formulas and their derivations are in
 * relax.h; this file is their careful evaluation in double. */
#include "relax.h"
#include "qv.h"

#include <float.h>
#include <math.h>
#include <string.h>

static const char *const relax_names[RELAX_NKINDS] = {"gumbolt", "st", "power", "exp", "spike-exp"};
static const double relax_betas[RELAX_NKINDS] = {2.0, 2.0, 30.0, 12.0, 5.0};

const char *relax_name(enum relax_kind k)
{
    return (unsigned)k < RELAX_NKINDS ? relax_names[k] : "?";
}

int relax_parse(const char *s, enum relax_kind *out)
{
    for (int k = 0; k < RELAX_NKINDS; k++)
        if (strcmp(s, relax_names[k]) == 0) { *out = (enum relax_kind)k; return 0; }
    return qv_seterr("--relax: unknown relaxation '%s' (gumbolt, st, power, exp, spike-exp)", s);
}

double relax_default_beta(enum relax_kind k)
{
    return (unsigned)k < RELAX_NKINDS ? relax_betas[k] : NAN;
}

bool relax_is_mixture(enum relax_kind k)
{
    return k == RELAX_POWER || k == RELAX_EXP || k == RELAX_SPIKE_EXP;
}

static int relax_check_beta(double beta)
{
    if (!(beta > 0)) return qv_seterr("--relax-beta must be > 0 (got %g)", beta);
    if (!(beta <= RELAX_BETA_MAX))
        return qv_seterr("--relax-beta must be at most %g (got %g)", RELAX_BETA_MAX, beta);
    return 0;
}

int relax_parse_beta(const char *s, double *out)
{
    double v;
    if (qv_parse_double(s, &v)) return qv_preferr("--relax-beta");
    if (relax_check_beta(v)) return -1;
    *out = v;
    return 0;
}

int relax_init(struct relax *r, enum relax_kind kind, double beta)
{
    if ((unsigned)kind >= RELAX_NKINDS) return qv_seterr("--relax: unknown relaxation %d", (int)kind);
    if (relax_check_beta(beta)) return -1;
    if (kind == RELAX_POWER && beta < 1)
        return qv_seterr("--relax-beta must be >= 1 for power (got %g): below 1, r(ζ|0) piles up near 1",
                         beta);
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->beta = beta;
    if (kind == RELAX_POWER) {
        const double eps = RELAX_POWER_EPS;
        r->lam = 1.0 / beta;
        r->c0 = exp(r->lam * log(eps));
        r->c1 = exp(r->lam * log1p(eps));
        /* D = c1 − c0 = c0 ((1+ε)/ε)^λ − c0 without cancelling for small λ */
        r->d = r->c0 * expm1(r->lam * (log1p(eps) - log(eps)));
        r->logn = log(r->lam / r->d);
    } else {
        r->k = -expm1(-beta);
        r->logn = log(beta / r->k);
    }
    return 0;
}

/* ---- scalar pieces --------------------------------------------------------------------------- */

static inline float relax_f32(double x)   /* saturating: no Inf from a finite double */
{
    return x > FLT_MAX ? FLT_MAX : x < -FLT_MAX ? -FLT_MAX : (float)x;
}

static inline double relax_softplus(double x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

/* log r(x|0) and its derivative, power and exp, x ∈ [0,1]. */
static inline double r0_log(const struct relax *r, double x, double *d)
{
    if (r->kind == RELAX_POWER) {
        double xe = x + RELAX_POWER_EPS;
        *d = (r->lam - 1.0) / xe;
        return r->logn + (r->lam - 1.0) * log(xe);
    }
    *d = -r->beta;
    return r->logn - r->beta * x;
}

/* F₀(x) = ∫₀ˣ r(t|0) dt, accurate for small x (no 1 − (1 − …)). */
static inline double r0_cdf(const struct relax *r, double x)
{
    if (r->kind == RELAX_POWER)
        return r->c0 * expm1(r->lam * log1p(x / RELAX_POWER_EPS)) / r->d;
    return -expm1(-r->beta * x) / r->k;
}

/* F₁(x) = 1 − F₀(1−x), written so that it stays accurate when x is small (F₁ ≪ 1). */
static inline double r0_cdf1(const struct relax *r, double x)
{
    if (r->kind == RELAX_POWER)
        return -r->c1 * expm1(r->lam * log1p(-x / (1.0 + RELAX_POWER_EPS))) / r->d;
    return exp(-r->beta * (1.0 - x)) * -expm1(-r->beta * x) / r->k;
}

/* F₀⁻¹(ρ) for ρ ∈ [0,1], clamped to [0,1]. */
static inline double r0_icdf(const struct relax *r, double rho)
{
    double x = r->kind == RELAX_POWER
                   ? RELAX_POWER_EPS * expm1(r->beta * log1p(rho * r->d / r->c0))
                   : -log1p(-rho * r->k) / r->beta;
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Spike-exp's continuous component r(ζ|1) = β e^(β(ζ−1))/K is exp's r(1−ζ|0); its CDF is exp's F₁. */
static inline double spike_icdf1(const struct relax *r, double rho)
{
    double x = -log1p(-rho * r->k) / r->beta;
    return x > 1 ? 0 : 1.0 - x;
}

/* ---- one unit ---------------------------------------------------------------------------------- */

double relax_cdf1(const struct relax *r, double l, double zeta)
{
    if (zeta < 0) return 0;
    if (zeta >= 1) return 1;
    double q = exp(-relax_softplus(-l)), p = exp(-relax_softplus(l));   /* q, 1 − q */
    if (r->kind == RELAX_SPIKE_EXP)
        return p + q * exp(-r->beta * (1.0 - zeta)) * -expm1(-r->beta * zeta) / r->k;
    if (!relax_is_mixture(r->kind)) return NAN;
    return p * r0_cdf(r, zeta) + q * r0_cdf1(r, zeta);
}

double relax_logq1(const struct relax *r, double l, double zeta, double *dl, double *dz)
{
    double lq = -relax_softplus(-l), lp = -relax_softplus(l);        /* log q, log(1−q) */
    double q = exp(lq), gl, gz, v;
    if (r->kind == RELAX_SPIKE_EXP) {
        if (zeta <= 0) { v = lp; gl = -q; gz = 0; }
        else { v = lq + r->logn - r->beta * (1.0 - zeta); gl = 1.0 - q; gz = r->beta; }
    } else if (relax_is_mixture(r->kind)) {
        double d0, d1;
        double a = lp + r0_log(r, zeta, &d0);              /* z = 0 branch */
        double b = lq + r0_log(r, 1.0 - zeta, &d1);        /* z = 1 branch, ∂/∂ζ = −d1 */
        double m = a > b ? a : b;
        v = m + log1p(exp(-fabs(a - b)));
        double w = exp(b - v);                             /* P(z = 1 | ζ) */
        gl = w - q;
        gz = (1.0 - w) * d0 - w * d1;
    } else {
        v = gl = gz = NAN;
    }
    if (dl) *dl = gl;
    if (dz) *dz = gz;
    return v;
}

double relax_dzdl1(const struct relax *r, double l, double zeta)
{
    if (r->kind == RELAX_GUMBOLT || r->kind == RELAX_ST) return r->beta * zeta * (1.0 - zeta);
    double lq = -relax_softplus(-l), lp = -relax_softplus(l);
    if (r->kind == RELAX_SPIKE_EXP)
        return zeta <= 0 ? 0 : exp(lp) * expm1(r->beta * (1.0 - zeta)) / r->beta;
    double logq = relax_logq1(r, l, zeta, NULL, NULL);
    /* F₀ ≥ F₁ for a decreasing r(ζ|0); at β = 1 (power) both are ζ and rounding could go below 0 */
    double dF = r0_cdf(r, zeta) - r0_cdf1(r, zeta);
    return (dF > 0 ? dF : 0) * exp(lq + lp - logq);
}

double relax_sample1(const struct relax *r, double l, double u, double rho, double *dzdl)
{
    double zeta;
    if (r->kind == RELAX_GUMBOLT || r->kind == RELAX_ST) {
        double g = log(u) - log1p(-u);                     /* logistic noise */
        double s = 1.0 / (1.0 + exp(-r->beta * (l + g)));
        if (dzdl) *dzdl = r->beta * s * (1.0 - s);
        return r->kind == RELAX_ST ? (l + g > 0 ? 1.0 : 0.0) : s;
    }
    bool z = u < exp(-relax_softplus(-l));
    if (r->kind == RELAX_SPIKE_EXP) zeta = z ? spike_icdf1(r, rho) : 0.0;
    else {
        double x = r0_icdf(r, rho);
        zeta = z ? 1.0 - x : x;
    }
    if (dzdl) *dzdl = relax_dzdl1(r, l, zeta);
    return zeta;
}

double relax_logr1(const struct relax *r, int z, double zeta, double *dz)
{
    double d = 0, v;
    if (r->kind == RELAX_SPIKE_EXP) {
        if (z == 0) v = zeta <= 0 ? 0 : -INFINITY;
        else if (zeta <= 0) v = -INFINITY;
        else { v = r->logn - r->beta * (1.0 - zeta); d = r->beta; }
    } else if (relax_is_mixture(r->kind)) {
        if (z == 0) v = r0_log(r, zeta, &d);
        else { v = r0_log(r, 1.0 - zeta, &d); d = -d; }
    } else {
        v = d = NAN;
    }
    if (dz) *dz = d;
    return v;
}

/* ---- batches ----------------------------------------------------------------------------------- */

void relax_sample(const struct relax *r, int rows, int n, const float *l, const float *u,
                  const float *rho, float *zeta, float *dzdl)
{
    long count = (long)rows * n;
    for (long i = 0; i < count; i++) {
        double g, z = relax_sample1(r, l[i], u[i], rho ? rho[i] : 0.5, &g);
        zeta[i] = (float)z;
        if (dzdl) dzdl[i] = relax_f32(g);
    }
}

int relax_logq(const struct relax *r, int rows, int n, const float *l, const float *zeta,
               double *logq, float *dl, float *dz)
{
    if (!relax_is_mixture(r->kind))
        return qv_seterr("relax: %s has no mixture log-density (power, exp, spike-exp have)",
                         relax_name(r->kind));
    for (int b = 0; b < rows; b++) {
        double s = 0;
        for (long i = (long)b * n; i < (long)(b + 1) * n; i++) {
            double gl, gz;
            s += relax_logq1(r, l[i], zeta[i], &gl, &gz);
            if (dl) dl[i] = relax_f32(gl);
            if (dz) dz[i] = relax_f32(gz);
        }
        logq[b] = s;
    }
    return 0;
}

int relax_bias(const struct relax *r, int rows, int n, const float *zeta, double *logr0,
               float *bias, float *dbias, float *dlogr0)
{
    if (r->kind != RELAX_POWER && r->kind != RELAX_EXP)
        return qv_seterr("relax: %s has no finite shifted bias b(ζ) (power, exp have)",
                         relax_name(r->kind));
    for (int b = 0; b < rows; b++) {
        double s = 0;
        for (long i = (long)b * n; i < (long)(b + 1) * n; i++) {
            double d0, d1;
            double a0 = r0_log(r, zeta[i], &d0);
            double a1 = r0_log(r, 1.0 - (double)zeta[i], &d1);   /* log r(ζ|1), ∂ = −d1 */
            s += a0;
            bias[i] = relax_f32(a1 - a0);
            if (dbias) dbias[i] = relax_f32(-d1 - d0);
            if (dlogr0) dlogr0[i] = relax_f32(d0);
        }
        if (logr0) logr0[b] = s;
    }
    return 0;
}
