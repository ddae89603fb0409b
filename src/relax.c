/* relax.c — relaxations of binary latents: samplers, implicit gradients, mixture log-densities and
 * the shifted bias of the relaxed Boltzmann prior.  The formulas and their derivations are in
 * relax.h; this file evaluates them in double, one unit at a time (the reference), and in float
 * SIMD for the batch sampler and log q of power and exp (the hot loops of a training step). */
#include "relax.h"
#include "nn.h"
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
        r->le0 = log(eps);
        r->le1 = log1p(eps);
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

/* q = σ(l) and p = 1 − q without cancelling, from one exp; log q, log p (one log1p) if logs. */
struct relax_q { double q, p, lq, lp; };

static inline void relax_qp(double l, bool logs, struct relax_q *o)
{
    double e = exp(-fabs(l)), s = 1.0 / (1.0 + e);
    o->q = l >= 0 ? s : e * s;
    o->p = l >= 0 ? e * s : s;
    if (logs) {
        double sp = log1p(e);                              /* softplus(−|l|) */
        o->lq = l >= 0 ? -sp : l - sp;
        o->lp = l >= 0 ? -l - sp : -sp;
    }
}

/* Both components at ζ (power, exp): log r(ζ|z), ∂/∂ζ of each and, if cdf, the densities and
 * F₀(ζ), F₁(ζ), with the logarithms and exponentials shared between the pieces (about 8 libm calls
 * per unit for power, 5 for exp). */
struct relax_at { double lr0, lr1, d0, d1, r0, r1, F0, F1; };

static inline void relax_eval(const struct relax *r, double z, bool cdf, struct relax_at *o)
{
    if (r->kind == RELAX_POWER) {
        const double eps = RELAX_POWER_EPS, lm = r->lam - 1.0;
        double x0 = z + eps, x1 = (1.0 - z) + eps, L0 = log(x0), L1 = log(x1);
        o->lr0 = r->logn + lm * L0;
        o->lr1 = r->logn + lm * L1;
        o->d0 = lm / x0;
        o->d1 = -lm / x1;
        if (!cdf) return;
        /* log((ζ+ε)/ε), log((1−ζ+ε)/(1+ε)) from L0, L1, except where the difference would cancel */
        double t0 = z < 1e-3 * eps ? log1p(z / eps) : L0 - r->le0;
        double t1 = z < 1e-3 ? log1p(-z / (1.0 + eps)) : L1 - r->le1;
        o->F0 = r->c0 * expm1(r->lam * t0) / r->d;
        o->F1 = -r->c1 * expm1(r->lam * t1) / r->d;
        o->r0 = exp(o->lr0);
        o->r1 = exp(o->lr1);
    } else {
        o->lr0 = r->logn - r->beta * z;
        o->lr1 = r->logn - r->beta * (1.0 - z);
        o->d0 = -r->beta;
        o->d1 = r->beta;
        if (!cdf) return;
        double em = -expm1(-r->beta * z);                  /* 1 − e^(−βζ) */
        o->r0 = exp(o->lr0);
        o->r1 = exp(o->lr1);
        o->F0 = em / r->k;
        o->F1 = o->r1 * em / r->beta;                      /* e^(−β(1−ζ)) (1 − e^(−βζ)) / K */
    }
}

/* Implicit ∂ζ/∂l of the overlapping kinds (relax.h): (F₀ − F₁) q (1−q) / ((1−q) r₀ + q r₁).
 * F₀ ≥ F₁ for a decreasing r(ζ|0); at β = 1 (power) both are ζ and rounding could dip below 0. */
static inline double relax_dzdl_mix(const struct relax *r, const struct relax_q *Q, double z)
{
    struct relax_at A;
    relax_eval(r, z, true, &A);
    double dF = A.F0 - A.F1;
    return (dF > 0 ? dF : 0) * Q->q * Q->p / (Q->p * A.r0 + Q->q * A.r1);
}

double relax_cdf1(const struct relax *r, double l, double zeta)
{
    if (zeta < 0) return 0;
    if (zeta >= 1) return 1;
    struct relax_q Q;
    relax_qp(l, false, &Q);
    if (r->kind == RELAX_SPIKE_EXP)
        return Q.p + Q.q * exp(-r->beta * (1.0 - zeta)) * -expm1(-r->beta * zeta) / r->k;
    if (!relax_is_mixture(r->kind)) return NAN;
    struct relax_at A;
    relax_eval(r, zeta, true, &A);
    return Q.p * A.F0 + Q.q * A.F1;
}

double relax_logq1(const struct relax *r, double l, double zeta, double *dl, double *dz)
{
    struct relax_q Q;
    relax_qp(l, true, &Q);
    double gl, gz, v;
    if (r->kind == RELAX_SPIKE_EXP) {
        if (zeta <= 0) { v = Q.lp; gl = -Q.q; gz = 0; }
        else { v = Q.lq + r->logn - r->beta * (1.0 - zeta); gl = Q.p; gz = r->beta; }
    } else if (relax_is_mixture(r->kind)) {
        struct relax_at A;
        relax_eval(r, zeta, false, &A);
        double a = Q.lp + A.lr0, b = Q.lq + A.lr1;         /* the z = 0 and z = 1 branches */
        double m = a > b ? a : b;
        v = m + log1p(exp(-fabs(a - b)));
        /* P(z = 0 | ζ), P(z = 1 | ζ) each from its own exp, and w₁ − q = (1 − q) − w₀ in the
         * form that does not cancel */
        double w0 = exp(a - v), w1 = exp(b - v);
        gl = l >= 0 ? Q.p - w0 : w1 - Q.q;
        gz = w0 * A.d0 + w1 * A.d1;
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
    struct relax_q Q;
    relax_qp(l, false, &Q);
    if (r->kind == RELAX_SPIKE_EXP) return zeta <= 0 ? 0 : Q.p * expm1(r->beta * (1.0 - zeta)) / r->beta;
    return relax_dzdl_mix(r, &Q, zeta);
}

double relax_sample1(const struct relax *r, double l, double u, double rho, double *dzdl)
{
    if (r->kind == RELAX_GUMBOLT || r->kind == RELAX_ST) {
        double g = log(u) - log1p(-u);                     /* logistic noise */
        double s = 1.0 / (1.0 + exp(-r->beta * (l + g)));
        if (dzdl) *dzdl = r->beta * s * (1.0 - s);
        return r->kind == RELAX_ST ? (l + g > 0 ? 1.0 : 0.0) : s;
    }
    struct relax_q Q;
    relax_qp(l, false, &Q);
    bool z = u < Q.q;
    if (r->kind == RELAX_SPIKE_EXP) {
        double zeta = z ? spike_icdf1(r, rho) : 0.0;
        if (dzdl) *dzdl = zeta <= 0 ? 0 : Q.p * expm1(r->beta * (1.0 - zeta)) / r->beta;
        return zeta;
    }
    double x = r0_icdf(r, rho), zeta = z ? 1.0 - x : x;
    if (dzdl) *dzdl = relax_dzdl_mix(r, &Q, zeta);
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

/* ---- batches: power and exp in float SIMD ---------------------------------------------------
 * The hot loops of a training step (a sample with its ∂ζ/∂l, and log q, per latent unit) run NN_VL
 * lanes at a time on nn.h's inline exp/log, with expm1 and log1p by Kahan's corrections so that
 * small arguments keep their relative precision.  Uniforms are used in [0, 1 − 2⁻²⁴] (what 24-bit
 * float uniforms give; ρ = 1 is read as 1 − 2⁻²⁴).  Spike-exp, GumBolt and ST are cheap and go
 * through the double functions above; the tests hold the two paths together. */

static inline nn_vf rv_log1p(nn_vf x)                      /* x > −1 */
{
    nn_vf u = 1.0f + x;
    nn_vi one = u == 1.0f;
    nn_vf den = nn_vsel(one, nn_vset1(1.0f), u - 1.0f);
    return nn_vsel(one, x, nn_vlog(nn_vsel(one, nn_vset1(2.0f), u)) * x / den);
}

static inline nn_vf rv_expm1(nn_vf x)                      /* x ≤ 88 */
{
    nn_vf u = nn_vexp(x), um1 = u - 1.0f;
    nn_vi one = u == 1.0f;
    nn_vf lg = nn_vlog(nn_vsel(one, nn_vset1(2.0f), u));
    nn_vf r = nn_vsel(um1 == -1.0f, nn_vset1(-1.0f), um1 * x / lg);
    return nn_vsel(one, x, r);
}

static inline nn_vf rv_clamp01(nn_vf x)
{
    x = nn_vsel(x > 0.0f, x, nn_vset1(0.0f));              /* also NaN → 0 */
    return nn_vsel(x < 1.0f, x, nn_vset1(1.0f));
}

/* q = σ(l), p = 1 − q per lane. */
static inline void rv_qp(nn_vf l, nn_vf *q, nn_vf *p, nn_vf *e)
{
    *e = nn_vexp(-nn_vabs(l));
    nn_vf s = 1.0f / (1.0f + *e);
    nn_vi pos = l >= 0.0f;
    *q = nn_vsel(pos, s, *e * s);
    *p = nn_vsel(pos, *e * s, s);
}

/* One block of NN_VL samples.  ζ₀ = x = F₀⁻¹(ρ) is computed from ρ when ρ ≤ ½, and its complement
 * y = 1 − x = F₁⁻¹(1 − ρ) from 1 − ρ (exact in float) when ρ > ½, so whichever end ζ lands near
 * keeps its relative precision; the other is a complement ≥ ½ (exact, or well rounded).  Then
 * F₀(x) = ρ, F₁(x) = 1 − F₀(y), and F₀(ζ) − F₁(ζ) = ρ − F₁(x) = F₀(y) − (1 − ρ) on both branches
 * (ζ = x or y), evaluated on the side where it does not cancel:
 *   power  ρ + (c₁/D)·expm1(λ log1p(−x/(1+ε)))  (ρ ≤ ½),  (c₀/D)·expm1(λ log1p(y/ε)) − (1 − ρ);
 *   exp    −ρ·expm1(−βy)  (ρ ≤ ½),  (1 − ρ)·expm1(βx)  (from K·F₀(x)·F₀(y)). */
static void rv_sample(const struct relax *r, const float *lp, const float *up, const float *rp,
                      float *zo, float *go)
{
    const float rmax = 1.0f - 0x1p-24f, b = (float)r->beta, logn = (float)r->logn;
    nn_vf l = nn_vload(lp), u = nn_vload(up), rho = nn_vload(rp), q, p, e;
    rho = nn_vsel(rho < rmax, nn_vsel(rho > 0.0f, rho, nn_vset1(0.0f)), nn_vset1(rmax));
    nn_vf rc = 1.0f - rho;                                 /* exact for ρ ≥ ½ */
    nn_vi lo = rho <= 0.5f;
    rv_qp(l, &q, &p, &e);
    nn_vi z = u < q;
    nn_vf x, y, dF, rown, roth;                            /* r(x|0), r(y|0) */
    if (r->kind == RELAX_POWER) {
        const float eps = (float)RELAX_POWER_EPS, lm = (float)(r->lam - 1.0), lam = (float)r->lam;
        /* x = ε·expm1(β log1p(ρD/c₀));  y = −(1+ε)·expm1(β log1p(−(1−ρ)D/c₁)) */
        nn_vf t = rv_expm1(b * rv_log1p(nn_vsel(lo, rho * (float)(r->d / r->c0),
                                                 rc * (float)(-r->d / r->c1))));
        x = rv_clamp01(nn_vsel(lo, eps * t, 1.0f - (float)(-1.0 - RELAX_POWER_EPS) * t));
        y = rv_clamp01(nn_vsel(lo, 1.0f - eps * t, (float)(-1.0 - RELAX_POWER_EPS) * t));
        nn_vf m = rv_expm1(lam * rv_log1p(nn_vsel(lo, x * (float)(-1.0 / (1.0 + RELAX_POWER_EPS)),
                                                  y * (float)(1.0 / RELAX_POWER_EPS))));
        dF = nn_vsel(lo, rho + (float)(r->c1 / r->d) * m, (float)(r->c0 / r->d) * m - rc);
        rown = nn_vexp(logn + lm * nn_vlog(x + eps));
        roth = nn_vexp(logn + lm * nn_vlog(y + eps));
    } else {
        /* x = −log1p(−ρK)/β;  y = log1p((1−ρ)·expm1(β))/β, or 1 + log((1−ρ)K)/β once e^β
         * would overflow a float (then e^−β ≪ (1−ρ)K ≥ 6e-8 is dropped) */
        nn_vf t = rv_log1p(nn_vsel(lo, -rho * (float)r->k, rc * (float)expm1(fmin(r->beta, 80.0))));
        x = -t / b;
        y = t / b;
        if (r->beta > 80) y = 1.0f + nn_vlog(rc * (float)r->k) / b;
        x = rv_clamp01(nn_vsel(lo, x, 1.0f - y));
        y = rv_clamp01(nn_vsel(lo, 1.0f - x, y));
        nn_vf m = rv_expm1(nn_vsel(lo, -b * y, b * x));
        dF = nn_vsel(lo, -rho * m, rc * m);
        rown = nn_vexp(logn - b * x);
        roth = nn_vexp(logn - b * y);
    }
    dF = nn_vsel(dF > 0.0f, dF, nn_vset1(0.0f));
    nn_vf qz = nn_vsel(z, p * roth + q * rown, p * rown + q * roth);
    nn_vstore(zo, nn_vsel(z, y, x));
    if (go) nn_vstore(go, dF * q * p / qz);
}

static void rv_logq(const struct relax *r, const float *lp, const float *zp, float *vo, float *glo,
                    float *gzo)
{
    const float b = (float)r->beta, logn = (float)r->logn;
    nn_vf l = nn_vload(lp), zt = nn_vload(zp), q, p, e, lr0, lr1, d0, d1;
    rv_qp(l, &q, &p, &e);
    nn_vf sp = rv_log1p(e);                                /* softplus(−|l|) */
    nn_vi pos = l >= 0.0f;
    nn_vf lq = nn_vsel(pos, -sp, l - sp), lpp = nn_vsel(pos, -l - sp, -sp);
    if (r->kind == RELAX_POWER) {
        const float eps = (float)RELAX_POWER_EPS, lm = (float)(r->lam - 1.0);
        nn_vf x0 = zt + eps, x1 = (1.0f - zt) + eps;
        lr0 = logn + lm * nn_vlog(x0);
        lr1 = logn + lm * nn_vlog(x1);
        d0 = lm / x0;
        d1 = -lm / x1;
    } else {
        lr0 = logn - b * zt;
        lr1 = logn - b * (1.0f - zt);
        d0 = nn_vset1(-b);
        d1 = nn_vset1(b);
    }
    nn_vf a0 = lpp + lr0, a1 = lq + lr1;
    nn_vf mx = nn_vsel(a0 > a1, a0, a1);
    nn_vf v = mx + rv_log1p(nn_vexp(-nn_vabs(a0 - a1)));
    /* P(z = 0 | ζ), P(z = 1 | ζ) each from its own exp (1 − w would lose a small w₀ to rounding),
     * and w₁ − q = (1 − q) − w₀ taken in the form that does not cancel */
    nn_vf w0 = nn_vexp(a0 - v), w1 = nn_vexp(a1 - v);
    nn_vstore(vo, v);
    nn_vstore(glo, nn_vsel(pos, p - w0, w1 - q));
    nn_vstore(gzo, w0 * d0 + w1 * d1);
}

void relax_sample(const struct relax *r, int rows, int n, const float *l, const float *u,
                  const float *rho, float *zeta, float *dzdl)
{
    long count = (long)rows * n, i = 0;
    if ((r->kind == RELAX_POWER || r->kind == RELAX_EXP) && rho) {
        for (; i + NN_VL <= count; i += NN_VL)
            rv_sample(r, l + i, u + i, rho + i, zeta + i, dzdl ? dzdl + i : NULL);
        if (i < count) {                                   /* tail through a padded block */
            float L[NN_VL] = {0}, U[NN_VL] = {0}, R[NN_VL] = {0}, Z[NN_VL], G[NN_VL];
            for (long j = i; j < count; j++) L[j - i] = l[j], U[j - i] = u[j], R[j - i] = rho[j];
            rv_sample(r, L, U, R, Z, G);
            for (long j = i; j < count; j++) {
                zeta[j] = Z[j - i];
                if (dzdl) dzdl[j] = G[j - i];
            }
        }
        return;
    }
    for (; i < count; i++) {
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
    bool vec = r->kind == RELAX_POWER || r->kind == RELAX_EXP;
    for (int b = 0; b < rows; b++) {
        double s = 0;
        long i = (long)b * n, end = i + n;
        for (; vec && i < end; i += NN_VL) {
            float L[NN_VL] = {0}, Z[NN_VL] = {0}, V[NN_VL], GL[NN_VL], GZ[NN_VL];
            int k = end - i < NN_VL ? (int)(end - i) : NN_VL;
            memcpy(L, l + i, k * sizeof(float));
            memcpy(Z, zeta + i, k * sizeof(float));
            rv_logq(r, L, Z, V, GL, GZ);
            for (int j = 0; j < k; j++) s += V[j];
            if (dl) memcpy(dl + i, GL, k * sizeof(float));
            if (dz) memcpy(dz + i, GZ, k * sizeof(float));
        }
        for (; i < end; i++) {
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
            struct relax_at A;
            relax_eval(r, zeta[i], false, &A);
            s += A.lr0;
            bias[i] = relax_f32(A.lr1 - A.lr0);
            if (dbias) dbias[i] = relax_f32(A.d1 - A.d0);
            if (dlogr0) dlogr0[i] = relax_f32(A.d0);
        }
        if (logr0) logr0[b] = s;
    }
    return 0;
}
