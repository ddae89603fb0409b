/* test_relax.c — relaxations of binary latents (relax.h), each against independent truth:
 *  - every mixture density integrates to 1 (adaptive Simpson quadrature, plus spike-exp's atom);
 *  - log q(ζ|l) equals the closed-form mixture written here naively in long double;
 *  - the sampler's empirical CDF matches the naive mixture CDF (Kolmogorov–Smirnov, 10⁵ draws at
 *    a fixed seed; the same draws are rejected against a shifted logit, so the check has power);
 *  - the float SIMD batch path agrees with the double functions over extreme logits and uniforms;
 *  - the implicit gradient ∂ζ/∂l against a central difference of ζ(l, ρ) obtained by inverting the
 *    naive mixture CDF by bisection in long double (no use of the module's sampler or CDF);
 *  - ∂log q/∂l, ∂log q/∂ζ, b(ζ) and ∂b/∂ζ against finite differences / the naive densities;
 *  - no NaN or Inf for l ∈ [−30, 30], β ∈ (0, 100], ζ at and next to both ends;
 *  - bad names and β give the one-line errors.
 * The relaxed Boltzmann prior built on it is tested in test_bm_mf.c. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relax.h"
#include "rng.h"

typedef long double LD;
static const enum relax_kind MIX[3] = {RELAX_POWER, RELAX_EXP, RELAX_SPIKE_EXP};

static struct relax mk(enum relax_kind k, double beta)
{
    struct relax r;
    assert_int_equal(relax_init(&r, k, beta), 0);
    return r;
}

/* ---- naive truth, straight from the definitions in relax.h, long double -------------------- */

static LD t_sig(LD l) { return 1.0L / (1.0L + expl(-l)); }

static LD t_r0(enum relax_kind k, LD beta, LD x)        /* r(x|0), power and exp */
{
    if (k == RELAX_POWER) {
        LD lam = 1.0L / beta, e = 1e-7L, D = powl(1 + e, lam) - powl(e, lam);
        return lam * powl(x + e, lam - 1) / D;
    }
    return beta * expl(-beta * x) / (1 - expl(-beta));
}

/* F₀(x) = ∫₀ˣ r(t|0) dt and F₁(x) = 1 − F₀(1−x), each written as a product with expm1 so that a
 * value ≪ 1 keeps its relative precision (at l = ±30 the mixture CDF's l-dependence lives in a
 * term 1e-13 times smaller than the CDF). */
static LD t_F0(enum relax_kind k, LD beta, LD x)
{
    if (k == RELAX_POWER) {
        LD lam = 1.0L / beta, e = 1e-7L, D = powl(1 + e, lam) - powl(e, lam);
        return powl(e, lam) * expm1l(lam * log1pl(x / e)) / D;
    }
    return -expm1l(-beta * x) / -expm1l(-beta);
}

static LD t_F1(enum relax_kind k, LD beta, LD x)
{
    if (k == RELAX_POWER) {
        LD lam = 1.0L / beta, e = 1e-7L, D = powl(1 + e, lam) - powl(e, lam);
        return -powl(1 + e, lam) * expm1l(lam * log1pl(-x / (1 + e))) / D;
    }
    return expl(-beta * (1 - x)) * -expm1l(-beta * x) / -expm1l(-beta);
}

/* Mixture CDF F(x; σ(l)); spike-exp: atom 1 − q at 0, then q·∫₀ˣ β e^(β(t−1))/K dt. */
static LD t_F(enum relax_kind k, LD beta, LD l, LD x)
{
    if (x < 0) return 0;
    if (x >= 1) return 1;
    LD q = t_sig(l), p = t_sig(-l);                        /* q, 1 − q without cancelling */
    if (k == RELAX_SPIKE_EXP)
        return p + q * t_F1(RELAX_EXP, beta, x);
    return p * t_F0(k, beta, x) + q * t_F1(k, beta, x);
}

static LD t_dens(enum relax_kind k, LD beta, LD l, LD x)   /* continuous part */
{
    LD q = t_sig(l), p = t_sig(-l);
    if (k == RELAX_SPIKE_EXP) return q * beta * expl(beta * (x - 1)) / (1 - expl(-beta));
    return p * t_r0(k, beta, x) + q * t_r0(k, beta, 1 - x);
}

/* G(y) = 1 − F(1 − y; σ(l)), the upper tail, accurate when it is ≪ 1: for the symmetric kinds
 * G(y; l) = F(y; −l); for spike-exp G(y) = q F₀ᵉˣᵖ(y) below y = 1 (the atom sits at y = 1). */
static LD t_G(enum relax_kind k, LD beta, LD l, LD y)
{
    if (k != RELAX_SPIKE_EXP) return t_F(k, beta, -l, y);
    if (y < 0) return 0;
    return y >= 1 ? 1 : t_sig(l) * t_F0(RELAX_EXP, beta, y);
}

/* Smallest x with F(x) ≥ ρ (upper = false), or smallest y with G(y) ≥ 1 − ρ (upper = true, then
 * ζ = 1 − y), by bisection to the last bit. */
static LD t_inv(enum relax_kind k, LD beta, LD l, LD rho, bool upper)
{
    LD target = upper ? 1 - rho : rho;
    if ((upper ? t_G(k, beta, l, 0) : t_F(k, beta, l, 0)) >= target) return 0;   /* an atom at 0 */
    LD lo = 0, hi = 1;
    for (int it = 0; it < 400; it++) {
        LD mid = lo + (hi - lo) / 2;
        if (mid <= lo || mid >= hi) break;
        if ((upper ? t_G(k, beta, l, mid) : t_F(k, beta, l, mid)) < target) lo = mid;
        else hi = mid;
    }
    return hi;
}

/* ζ(l, ρ) = F⁻¹(ρ; σ(l)) and its central difference in l.  For ρ > ½ both go through y = 1 − ζ
 * (solved on the upper tail), which keeps full relative precision when ζ is within 1e-9 of 1. */
static LD t_zeta(enum relax_kind k, LD beta, LD l, LD rho)
{
    if (rho > 0.5L && !(k == RELAX_SPIKE_EXP && rho <= t_F(k, beta, l, 0)))
        return 1 - t_inv(k, beta, l, rho, true);
    return t_inv(k, beta, l, rho, false);
}

static double t_dzdl_fd(enum relax_kind k, double beta, double l, LD rho, double h)
{
    if (rho > 0.5L && !(k == RELAX_SPIKE_EXP && rho <= t_F(k, beta, l, 0))) {
        LD yp = t_inv(k, beta, l + h, rho, true), ym = t_inv(k, beta, l - h, rho, true);
        return (double)(-(yp - ym) / (2 * h));
    }
    return (double)((t_inv(k, beta, l + h, rho, false) - t_inv(k, beta, l - h, rho, false)) / (2 * h));
}

/* ---- tests ------------------------------------------------------------------------------------ */

static double simpson_rec(const struct relax *r, double l, double a, double b, double fa,
                          double fm, double fb, double whole, int depth)
{
    double m = (a + b) / 2, lm = (a + m) / 2, rm = (m + b) / 2;
    double flm = exp(relax_logq1(r, l, lm, NULL, NULL)), frm = exp(relax_logq1(r, l, rm, NULL, NULL));
    double left = (m - a) / 6 * (fa + 4 * flm + fm), right = (b - m) / 6 * (fm + 4 * frm + fb);
    if (depth <= 0 || fabs(left + right - whole) < 1e-13) return left + right + (left + right - whole) / 15;
    return simpson_rec(r, l, a, m, fa, flm, fm, left, depth - 1) +
           simpson_rec(r, l, m, b, fm, frm, fb, right, depth - 1);
}

/* ∫ over (0,1) of the module's density, on geometric pieces toward both ends (the power density
 * varies on the scale ε = 1e-7 there). */
static double integrate(const struct relax *r, double l)
{
    double cut[40];
    int nc = 0;
    cut[nc++] = 0;
    for (int e = -14; e <= -1; e++) cut[nc++] = pow(10, e);
    cut[nc++] = 0.5;
    for (int e = -1; e >= -14; e--) cut[nc++] = 1 - pow(10, e);
    cut[nc++] = 1;
    double s = 0;
    for (int i = 0; i + 1 < nc; i++) {
        double a = cut[i], b = cut[i + 1], m = (a + b) / 2;
        if (r->kind == RELAX_SPIKE_EXP && a == 0) a = 0x1p-1000;   /* the continuous part only */
        double fa = exp(relax_logq1(r, l, a, NULL, NULL)), fb = exp(relax_logq1(r, l, b, NULL, NULL));
        double fm = exp(relax_logq1(r, l, m, NULL, NULL));
        s += simpson_rec(r, l, a, b, fa, fm, fb, (b - a) / 6 * (fa + 4 * fm + fb), 40);
    }
    if (r->kind == RELAX_SPIKE_EXP) s += exp(relax_logq1(r, l, 0.0, NULL, NULL));   /* the atom */
    return s;
}

static void test_density_normalised(void **st)
{
    (void)st;
    const double L[] = {-30, -3, 0, 2, 30}, B[] = {1, 0, 100};   /* 0: the kind's default */
    for (int k = 0; k < 3; k++)
        for (size_t b = 0; b < 3; b++)
            for (size_t i = 0; i < 5; i++) {
                struct relax r = mk(MIX[k], B[b] ? B[b] : relax_default_beta(MIX[k]));
                double s = integrate(&r, L[i]);
                if (fabs(s - 1) > 1e-7)
                    fail_msg("%s β=%g l=%g: ∫q = %.12f", relax_name(r.kind), r.beta, L[i], s);
            }
}

static void test_logq_closed_form(void **st)
{
    (void)st;
    const double Z[] = {0, 1e-12, 3e-8, 1e-4, 0.02, 0.3, 0.5, 0.77, 0.999, 1 - 1e-9, 1};
    const double L[] = {-30, -5, -0.5, 0, 1.5, 8, 30};
    for (int k = 0; k < 3; k++)
        for (int bi = 0; bi < 3; bi++) {
            double beta = bi == 0 ? (k == 0 ? 1 : 0.7) : bi == 1 ? relax_default_beta(MIX[k]) : 100;
            struct relax r = mk(MIX[k], beta);
            for (size_t li = 0; li < 7; li++)
                for (size_t zi = 0; zi < 11; zi++) {
                    double l = L[li], z = Z[zi], got = relax_logq1(&r, l, z, NULL, NULL);
                    LD want = MIX[k] == RELAX_SPIKE_EXP && z == 0 ? logl(t_sig(-l))
                                                                  : logl(t_dens(MIX[k], beta, l, z));
                    if (fabs(got - (double)want) > 1e-9 * fmax(1, fabs((double)want)))
                        fail_msg("%s β=%g l=%g ζ=%g: log q %.12g, closed form %.12Lg",
                                 relax_name(r.kind), beta, l, z, got, want);
                }
        }
}

/* KS distance of float samples from the naive CDF, each sample standing for its rounding cell
 * [x − ½ulp, x + ½ulp] (ζ = 1 − ζ₀ rounds to 1.0f whenever ζ₀ < 3e-8, so ties are real). */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double ks(enum relax_kind k, double beta, double l, float *s, long N)
{
    double D = 0;
    for (long i = 0; i < N;) {
        long j = i;
        while (j < N && s[j] == s[i]) j++;               /* tie group [i, j) */
        double x = s[i];
        double lo = (x + (double)nextafterf(s[i], -1.0f)) / 2, hi = (x + (double)nextafterf(s[i], 2.0f)) / 2;
        if (x == 0) lo = -1;
        double Flo = (double)t_F(k, beta, l, lo), Fhi = (double)t_F(k, beta, l, hi);
        D = fmax(D, fmax((double)j / N - Fhi, Flo - (double)i / N));
        i = j;
    }
    return D;
}

static void test_sampler_ks(void **st)
{
    (void)st;
    enum { N = 100000 };
    float *l = malloc(N * sizeof(float)), *u = malloc(N * sizeof(float)), *rho = malloc(N * sizeof(float));
    float *z = malloc(N * sizeof(float)), *g = malloc(N * sizeof(float));
    const double L[] = {-2, 0.5, 3};
    const double bound = 1.95 / sqrt((double)N);           /* P(D > bound) ≈ 0.001 for a true CDF */
    struct rng rg;
    rng_init(&rg, 2024, 7);
    for (int k = 0; k < 3; k++)
        for (int li = 0; li < 3; li++) {
            struct relax r = mk(MIX[k], relax_default_beta(MIX[k]));
            for (long i = 0; i < N; i++) {
                l[i] = (float)L[li];
                u[i] = rng_uniformf(&rg);
                rho[i] = rng_uniformf(&rg);
            }
            relax_sample(&r, 1, N, l, u, rho, z, g);
            for (long i = 0; i < N; i++) {
                assert_true(z[i] >= 0 && z[i] <= 1 && isfinite(g[i]) && g[i] >= 0);
            }
            qsort(z, N, sizeof(float), cmp_float);
            double D = ks(MIX[k], r.beta, L[li], z, N), Dwrong = ks(MIX[k], r.beta, L[li] + 0.3, z, N);
            if (D > bound || Dwrong < bound)
                fail_msg("%s l=%g: KS %.5f (bound %.5f), against l+0.3: %.5f",
                         relax_name(r.kind), L[li], D, bound, Dwrong);
        }
    free(l); free(u); free(rho); free(z); free(g);
}

/* The batch path (float SIMD for power and exp) against the double functions tested above, on a
 * grid with extreme logits and uniforms, in blocks whose length is not a multiple of the vector
 * width: ζ (its distance to the nearer end, relative), ∂ζ/∂l, log q and its derivatives. */
static void test_batch_vs_double(void **st)
{
    (void)st;
    enum { NL = 9, NU = 7, N = NL * NU * NU };
    const float L[NL] = {-30, -11, -2.5f, -0.3f, 0, 0.8f, 4, 17, 30};
    const float U[NU] = {0, 1e-7f, 0.01f, 0.31f, 0.5f, 0.97f, 1 - 0x1p-24f};
    float l[N], u[N], rho[N], z[N], g[N], gl[N], gz[N];
    double v[N], worst[4] = {0};
    for (int i = 0; i < N; i++) l[i] = L[i / (NU * NU)], u[i] = U[i / NU % NU], rho[i] = U[i % NU];
    for (int k = 0; k < 3; k++)
        for (int bi = 0; bi < 3; bi++) {
            struct relax r = mk(MIX[k], bi == 0 ? 1 : bi == 1 ? relax_default_beta(MIX[k]) : 100);
            relax_sample(&r, 1, N, l, u, rho, z, g);
            assert_int_equal(relax_logq(&r, N, 1, l, z, v, gl, gz), 0);
            for (int i = 0; i < N; i++) {
                double gs, zs = relax_sample1(&r, l[i], u[i], rho[i], &gs);
                /* ζ relative to its distance from the nearer end: the float path gets ~16 ulps
                 * (an exp of an argument up to 16), plus the rounding of ζ itself */
                double e0 = fabs(z[i] - zs) / (2e-6 * fmin(zs, 1 - zs) + 6e-8);
                double dl, dz, vs = relax_logq1(&r, l[i], z[i], &dl, &dz);
                /* ∂ζ/∂l = (F₀ − F₁)·q(1−q)/q(ζ): ~10 float ulps (6e-7) absolute on F₀ − F₁ (which nears 0
                 * at both ends) is the error floor */
                double qs = 1 / (1 + exp(-(double)l[i])), ls = relax_logq1(&r, l[i], zs, NULL, NULL);
                double scale = exp(log(qs) + log1p(-qs) - ls);
                double e1 = fabs(g[i] - gs) / (1e-4 * gs + 6e-7 * scale + 1e-30);
                double e2 = fabs(v[i] - vs) / (4e-6 * fmax(1, fabs(vs)));
                double e3 = fmax(fabs(gl[i] - dl) / (1e-5 + 1e-4 * fabs(dl)), fabs(gz[i] - dz) / (1e-4 * fmax(1, fabs(dz))));
                if (e0 > 1 || e1 > 1 || e2 > 1 || e3 > 1)
                    fail_msg("%s β=%g l=%g u=%g ρ=%g: ζ %.9g / %.9g, ∂ζ/∂l %.9g / %.9g, log q %.9g / %.9g, ∂l %.7g / %.7g, ∂ζ %.7g / %.7g",
                             relax_name(r.kind), r.beta, l[i], u[i], rho[i], z[i], zs, g[i], gs, v[i], vs, gl[i], dl, gz[i], dz);
                worst[0] = fmax(worst[0], e0), worst[1] = fmax(worst[1], e1);
                worst[2] = fmax(worst[2], e2), worst[3] = fmax(worst[3], e3);
            }
        }
    printf("batch vs double, worst error / tolerance: ζ %.3f, ∂ζ/∂l %.3f, log q %.3f, ∂log q %.3f\n",
           worst[0], worst[1], worst[2], worst[3]);
}

static void test_implicit_gradient(void **st)
{
    (void)st;
    const double L[] = {-30, -12, -4, -1, -0.1, 0, 0.3, 2, 7, 15, 30};
    const LD R[] = {1e-12L, 1e-6L, 0.01L, 0.2L, 0.5L, 0.8L, 0.99L, 1 - 1e-6L, 1 - 1e-12L};
    double worst = 0;
    int checked = 0, skipped = 0;
    for (int k = 0; k < 3; k++)
        for (int bi = 0; bi < 3; bi++) {
            double beta = bi == 0 ? 1.0 : bi == 1 ? relax_default_beta(MIX[k]) : 100;
            struct relax r = mk(MIX[k], beta);
            for (size_t li = 0; li < sizeof L / sizeof *L; li++)
                for (size_t ri = 0; ri < sizeof R / sizeof *R; ri++) {
                    double l = L[li];
                    LD zeta = t_zeta(MIX[k], beta, l, R[ri]);
                    /* On a plateau of the CDF (exp at β = 100 between its two peaks: density
                     * ~e^-45) ζ(l, ρ) jumps across the plateau within any usable step h; with
                     * spike-exp, ρ = 1 − q (l = 0, ρ = ½) is the kink at the atom's edge. */
                    if ((MIX[k] != RELAX_SPIKE_EXP && t_dens(MIX[k], beta, l, zeta) < 1e-6L) ||
                        (MIX[k] == RELAX_SPIKE_EXP && fabsl(R[ri] - t_sig(-l)) < 1e-4L)) {
                        skipped++;
                        continue;
                    }
                    checked++;
                    double an = relax_dzdl1(&r, l, (double)zeta);
                    double fd = t_dzdl_fd(MIX[k], beta, l, R[ri], 1e-5);
                    /* 1e-13: the rounding floor of the difference (long double ζ / h) */
                    double err = fabs(an - fd), tol = 1e-5 * fabs(fd) + 1e-13;
                    worst = fmax(worst, err / tol);
                    if (!(err <= tol))
                        fail_msg("%s β=%g l=%g ρ=%.3Lg ζ=%.17Lg: ∂ζ/∂l %.10g, bisection FD %.10g",
                                 relax_name(r.kind), beta, l, R[ri], zeta, an, fd);
                }
        }
    printf("implicit gradient: %d points, worst error / tolerance %.3f; %d on a CDF plateau\n",
           checked, worst, skipped);
    assert_true(skipped < checked / 20);
}

static void test_logq_derivatives(void **st)
{
    (void)st;
    const double Z[] = {1e-9, 2e-6, 1e-3, 0.1, 0.45, 0.6, 0.93, 0.9999};
    const double L[] = {-30, -6, -0.7, 0, 0.4, 3, 30};
    for (int k = 0; k < 3; k++)
        for (int bi = 0; bi < 2; bi++) {
            double beta = bi == 0 ? 2.5 : relax_default_beta(MIX[k]);
            struct relax r = mk(MIX[k], beta);
            for (size_t li = 0; li < 7; li++)
                for (size_t zi = 0; zi < 8; zi++) {
                    double l = L[li], z = Z[zi], dl, dz;
                    double v = relax_logq1(&r, l, z, &dl, &dz);
                    /* steps on the scale the density varies on; tolerances include the rounding
                     * floor of a central difference, ~4 ulp(log q) / h */
                    double hl = 1e-5, hz = 1e-4 * (fmin(z, 1 - z) + (k == 0 ? 1e-7 : 0));
                    double nl = 4 * DBL_EPSILON * fmax(1, fabs(v)) / hl, nz = 4 * DBL_EPSILON * fmax(1, fabs(v)) / hz;
                    double fl = (relax_logq1(&r, l + hl, z, NULL, NULL) - relax_logq1(&r, l - hl, z, NULL, NULL)) / (2 * hl);
                    double fz = (relax_logq1(&r, l, z + hz, NULL, NULL) - relax_logq1(&r, l, z - hz, NULL, NULL)) / (2 * hz);
                    if (fabs(dl - fl) > 1e-6 * fmax(1, fabs(fl)) + nl || fabs(dz - fz) > 1e-5 * fmax(1, fabs(fz)) + nz)
                        fail_msg("%s β=%g l=%g ζ=%g: ∂l %.9g vs %.9g, ∂ζ %.9g vs %.9g",
                                 relax_name(r.kind), beta, l, z, dl, fl, dz, fz);
                }
        }
}

static void test_bias(void **st)
{
    (void)st;
    enum { N = 9 };
    const float Z[N] = {0, 1e-10f, 1e-7f, 0.01f, 0.5f, 0.73f, 0.999f, 0.99999994f, 1};
    float bias[N], db[N], dl0[N];
    double lr0;
    for (int k = 0; k < 2; k++)
        for (int bi = 0; bi < 3; bi++) {
            double beta = bi == 0 ? (k == 0 ? 1 : 0.3) : bi == 1 ? relax_default_beta(MIX[k]) : 100;
            struct relax r = mk(MIX[k], beta);
            assert_int_equal(relax_bias(&r, 1, N, Z, &lr0, bias, db, dl0), 0);
            LD sum = 0;
            for (int i = 0; i < N; i++) {
                LD a0 = logl(t_r0(MIX[k], beta, Z[i])), a1 = logl(t_r0(MIX[k], beta, 1 - (LD)Z[i]));
                sum += a0;
                if (fabsl(bias[i] - (a1 - a0)) > 1e-5L * fmaxl(1, fabsl(a1 - a0)))
                    fail_msg("%s β=%g ζ=%g: b %.8g, closed form %.8Lg", relax_name(r.kind), beta, Z[i], bias[i], a1 - a0);
                double z = Z[i], h = 1e-4 * (fmin(z, 1 - z) + (k == 0 ? 1e-7 : 0)), fb, f0;
                double noise = 8 * DBL_EPSILON * (fabs((double)a0) + fabs((double)a1) + 1) / h;
                if (z == 0 || z == 1) continue;            /* one-sided ends: covered by the closed form */
                fb = (relax_logr1(&r, 1, z + h, NULL) - relax_logr1(&r, 0, z + h, NULL) -
                      relax_logr1(&r, 1, z - h, NULL) + relax_logr1(&r, 0, z - h, NULL)) / (2 * h);
                f0 = (relax_logr1(&r, 0, z + h, NULL) - relax_logr1(&r, 0, z - h, NULL)) / (2 * h);
                if (fabs(db[i] - fb) > 1e-4 * fmax(1, fabs(fb)) + noise || fabs(dl0[i] - f0) > 1e-4 * fmax(1, fabs(f0)) + noise)
                    fail_msg("%s β=%g ζ=%g: ∂b %.8g vs %.8g, ∂log r0 %.8g vs %.8g",
                             relax_name(r.kind), beta, z, db[i], fb, dl0[i], f0);
            }
            assert_true(fabs(lr0 - (double)sum) < 1e-9 * fmax(1, fabs(lr0)));
        }
}

/* Every batch output finite over the whole documented range. */
static void test_no_nan(void **st)
{
    (void)st;
    enum { NL = 13, NZ = 12 };
    const float L[NL] = {-30, -29.9f, -17, -5, -1, -1e-3f, 0, 1e-3f, 1, 5, 17, 29.9f, 30};
    const float Z[NZ] = {0, 1e-38f, 1e-30f, 1e-12f, 1e-7f, 1e-3f, 0.5f, 0.999f, 0.9999999f,
                         0.99999994f, 1, 0.25f};
    const float U[3] = {0, 0.37f, 1};
    float l[NL * NZ], z[NL * NZ], u[NL * NZ], rho[NL * NZ], a[NL * NZ], b[NL * NZ], c[NL * NZ];
    double rows[NL];
    const double B[] = {1e-3, 0.05, 1, 7, 33, 100};
    for (int i = 0; i < NL * NZ; i++) l[i] = L[i / NZ], z[i] = Z[i % NZ];
    for (int k = 0; k < RELAX_NKINDS; k++)
        for (size_t bi = 0; bi < sizeof B / sizeof *B; bi++) {
            struct relax r = mk((enum relax_kind)k, k == RELAX_POWER ? fmax(B[bi], 1) : B[bi]);
            for (int ui = 0; ui < 9; ui++) {
                for (int i = 0; i < NL * NZ; i++) u[i] = U[ui % 3], rho[i] = U[ui / 3];
                relax_sample(&r, NL, NZ, l, u, rho, a, b);
                for (int i = 0; i < NL * NZ; i++) assert_true(a[i] >= 0 && a[i] <= 1 && isfinite(b[i]));
            }
            for (int i = 0; i < NL * NZ; i++) u[i] = (float)((i * 37 % 101) + 0.5) / 101.0f;
            relax_sample(&r, NL, NZ, l, u, u, a, b);
            for (int i = 0; i < NL * NZ; i++) assert_true(isfinite(a[i]) && isfinite(b[i]));
            if (!relax_is_mixture(r.kind)) continue;
            assert_int_equal(relax_logq(&r, NL, NZ, l, z, rows, a, b), 0);
            for (int i = 0; i < NL; i++) assert_true(isfinite(rows[i]));
            for (int i = 0; i < NL * NZ; i++) {
                assert_true(isfinite(a[i]) && isfinite(b[i]));
                assert_true(isfinite(relax_dzdl1(&r, l[i], z[i])) && relax_dzdl1(&r, l[i], z[i]) >= 0);
            }
            if (r.kind == RELAX_SPIKE_EXP) continue;
            assert_int_equal(relax_bias(&r, NL, NZ, z, rows, a, b, c), 0);
            for (int i = 0; i < NL * NZ; i++) assert_true(isfinite(a[i]) && isfinite(b[i]) && isfinite(c[i]));
            for (int i = 0; i < NL; i++) assert_true(isfinite(rows[i]));
        }
}

static void test_names_and_errors(void **st)
{
    (void)st;
    enum relax_kind k;
    double beta;
    struct relax r;
    for (int i = 0; i < RELAX_NKINDS; i++) assert_true(relax_default_beta((enum relax_kind)i) > 0);
    for (int i = 0; i < RELAX_NKINDS; i++) {
        assert_int_equal(relax_parse(relax_name((enum relax_kind)i), &k), 0);
        assert_int_equal(k, i);
        assert_int_equal(relax_init(&r, k, relax_default_beta(k)), 0);
    }
    assert_int_equal(relax_parse("powr", &k), -1);
    assert_string_equal(qv_errmsg(), "--relax: unknown relaxation 'powr' (gumbolt, st, power, exp, spike-exp)");
    assert_int_equal(relax_parse_beta("0", &beta), -1);
    assert_string_equal(qv_errmsg(), "--relax-beta must be > 0 (got 0)");
    assert_int_equal(relax_parse_beta("-3", &beta), -1);
    assert_string_equal(qv_errmsg(), "--relax-beta must be > 0 (got -3)");
    assert_int_equal(relax_parse_beta("1e3", &beta), -1);
    assert_string_equal(qv_errmsg(), "--relax-beta must be at most 100 (got 1000)");
    assert_int_equal(relax_parse_beta("30x", &beta), -1);
    assert_string_equal(qv_errmsg(), "--relax-beta: '30x' is not a number");
    assert_int_equal(relax_parse_beta("40", &beta), 0);
    assert_true(beta == 40);
    assert_int_equal(relax_init(&r, RELAX_POWER, NAN), -1);
    assert_string_equal(qv_errmsg(), "--relax-beta must be > 0 (got nan)");
    assert_int_equal(relax_init(&r, RELAX_EXP, -1), -1);
    assert_int_equal(relax_init(&r, RELAX_POWER, 0.5), -1);
    assert_string_equal(qv_errmsg(), "--relax-beta must be >= 1 for power (got 0.5): below 1, r(ζ|0) piles up near 1");
    r = mk(RELAX_GUMBOLT, 2);
    float f = 0, g = 0.5f, out[2];
    double row;
    assert_int_equal(relax_logq(&r, 1, 1, &f, &g, &row, NULL, NULL), -1);
    assert_string_equal(qv_errmsg(), "relax: gumbolt has no mixture log-density (power, exp, spike-exp have)");
    r = mk(RELAX_SPIKE_EXP, 5);
    assert_int_equal(relax_bias(&r, 1, 1, &g, &row, out, NULL, NULL), -1);
    assert_string_equal(qv_errmsg(), "relax: spike-exp has no finite shifted bias b(ζ) (power, exp have)");
}

/* GumBolt and straight-through: ζ = σ(β(l + g)), ∂ζ/∂l by finite differences of the same noise. */
static void test_gumbolt(void **st)
{
    (void)st;
    struct relax g = mk(RELAX_GUMBOLT, 2), s = mk(RELAX_ST, 2);
    const double L[] = {-3, -0.2, 0, 1.1, 4}, U[] = {0.01, 0.3, 0.5, 0.9};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++) {
            double d, ds, h = 1e-6;
            double z = relax_sample1(&g, L[i], U[j], 0, &d), zs = relax_sample1(&s, L[i], U[j], 0, &ds);
            double want = 1 / (1 + exp(-2 * (L[i] + log(U[j] / (1 - U[j])))));
            assert_true(fabs(z - want) < 1e-12);
            double fd = (relax_sample1(&g, L[i] + h, U[j], 0, NULL) - relax_sample1(&g, L[i] - h, U[j], 0, NULL)) / (2 * h);
            assert_true(fabs(d - fd) < 1e-7 && d == ds);
            assert_true(zs == (want > 0.5 ? 1.0 : 0.0));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_density_normalised),
        cmocka_unit_test(test_logq_closed_form),
        cmocka_unit_test(test_sampler_ks),
        cmocka_unit_test(test_batch_vs_double),
        cmocka_unit_test(test_implicit_gradient),
        cmocka_unit_test(test_logq_derivatives),
        cmocka_unit_test(test_bias),
        cmocka_unit_test(test_no_nan),
        cmocka_unit_test(test_gumbolt),
        cmocka_unit_test(test_names_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
