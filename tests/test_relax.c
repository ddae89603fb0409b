/* test_relax.c — relaxations of binary latents (relax.h) and the relaxed Boltzmann prior's mean
 * field (bm_mf.h), each against independent truth:
 *  - every mixture density integrates to 1 (adaptive Simpson quadrature, plus spike-exp's atom);
 *  - log q(ζ|l) equals the closed-form mixture written here naively in long double;
 *  - the sampler's empirical CDF matches the naive mixture CDF (Kolmogorov–Smirnov, 10⁵ draws at
 *    a fixed seed; the same draws are rejected against a shifted logit, so the check has power);
 *  - the implicit gradient ∂ζ/∂l against a central difference of ζ(l, ρ) obtained by inverting the
 *    naive mixture CDF by bisection in long double (no use of the module's sampler or CDF);
 *  - ∂log q/∂l, ∂log q/∂ζ, b(ζ) and ∂b/∂ζ against finite differences / the naive densities;
 *  - no NaN or Inf for l ∈ [−30, 30], β ∈ (0, 100], ζ at and next to both ends;
 *  - bad names and β give the one-line errors. */
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

#include "bm_mf.h"
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
                double want = relax_sample1(&r, L[li], u[i], rho[i], NULL);
                assert_true(z[i] == (float)want);          /* batch = scalar */
            }
            qsort(z, N, sizeof(float), cmp_float);
            double D = ks(MIX[k], r.beta, L[li], z, N), Dwrong = ks(MIX[k], r.beta, L[li] + 0.3, z, N);
            if (D > bound || Dwrong < bound)
                fail_msg("%s l=%g: KS %.5f (bound %.5f), against l+0.3: %.5f",
                         relax_name(r.kind), L[li], D, bound, Dwrong);
        }
    free(l); free(u); free(rho); free(z); free(g);
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

/* ---- the relaxed Boltzmann prior (bm_mf.h) ---------------------------------------------------- */

/* ζ [n] drawn from the relaxation with logits uniform in [−3, 3]. */
static void draw_zeta(const struct relax *r, int n, uint64_t seed, float *z)
{
    struct rng rg;
    rng_init(&rg, seed, 3);
    for (int i = 0; i < n; i++) {
        double l = 6 * rng_uniform(&rg) - 3, u = rng_uniform(&rg), rho = rng_uniform(&rg);
        z[i] = (float)relax_sample1(r, l, u, rho, NULL);
    }
}

/* Exact logp̃(ζ) = log Z(ζ) + Σ log r(ζ_i|0): bm's exact enumeration of the machine with biases
 * shifted by b(ζ), the shift computed here from the naive densities. */
static double exact_logp(const struct bm *bm, const struct relax *r, const float *z)
{
    struct bm *c = bm_clone(bm);
    LD lr0 = 0;
    for (int i = 0; i < bm->n; i++) {
        LD a0 = logl(t_r0(r->kind, r->beta, z[i])), a1 = logl(t_r0(r->kind, r->beta, 1 - (LD)z[i]));
        c->b[i] += (double)(a1 - a0);
        lr0 += a0;
    }
    double lz;
    assert_int_equal(bm_logz_exact(c, 1.0, &lz), 0);
    bm_free(c);
    return lz + (double)lr0;
}

/* Mean field never exceeds the exact value (any sweep count), never loses from one sweep to the
 * next, and comes within 0.5 nats on a weakly coupled machine — Chimera, Pegasus and Zephyr cuts. */
static void test_mf_bound(void **st)
{
    (void)st;
    const int S[] = {0, 1, 2, 5, 20};
    double worst_weak = 0, worst_strong = 0;
    for (int topo = 0; topo < 3; topo++)
        for (int k = 0; k < 2; k++)
            for (int seed = 1; seed <= 3; seed++)
                for (int strong = 0; strong < 2; strong++) {
                    struct bm *bm = test_random_cut_bm(topo, 16, 100 * topo + seed, strong ? 1.5 : 0.1, 5);
                    struct relax r = mk(MIX[k], relax_default_beta(MIX[k]));
                    float z[16];
                    double *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), prev = -INFINITY, lp;
                    draw_zeta(&r, 16, 7 * seed + topo, z);
                    if (seed == 3)                          /* b(ζ) = 0: the prior's own mean field */
                        for (int i = 0; i < 16; i++) z[i] = 0.5f;
                    double ex = exact_logp(bm, &r, z);
                    for (int si = 0; si < 5; si++) {
                        assert_int_equal(bm_mf_logp(bm, &r, S[si], 1, z, &lp, NULL, NULL, scr), 0);
                        if (lp > ex + 1e-9 || lp < prev - 1e-10)
                            fail_msg("topo %d %s seed %d: %d sweeps %.12f, exact %.12f, previous %.12f",
                                     topo, relax_name(r.kind), seed, S[si], lp, ex, prev);
                        prev = lp;
                        if (S[si] == BM_MF_SWEEPS) {
                            if (strong) worst_strong = fmax(worst_strong, ex - lp);
                            else worst_weak = fmax(worst_weak, ex - lp);
                        }
                    }
                    free(scr);
                    bm_free(bm);
                }
    printf("mean field (%d sweeps) below exact by at most %.4f nats (|W| ≤ 0.1), %.4f (|W| ≤ 1.5)\n",
           BM_MF_SWEEPS, worst_weak, worst_strong);
    assert_true(worst_weak < 0.5);
}

/* The gradients hold m fixed.  A finite difference of the bound with m re-converged is a different
 * quantity in general (it includes ∂B/∂m · ∂m/∂θ); at a converged fixed point ∂B/∂m = 0, so by the
 * envelope theorem the two agree — tested here after many sweeps on weakly coupled machines. */
static void test_mf_envelope(void **st)
{
    (void)st;
    enum { SW = 3000 };
    for (int topo = 0; topo < 3; topo++)
        for (int k = 0; k < 2; k++) {
            struct bm *bm = test_random_cut_bm(topo, 16, 40 + topo, 0.3, 6);
            struct relax r = mk(MIX[k], relax_default_beta(MIX[k]));
            float z[16], m[16], dz[16];
            double *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), lp, lpp, lpm, h = 1e-5;
            draw_zeta(&r, 16, 11 + topo, z);
            assert_int_equal(bm_mf_logp(bm, &r, SW, 1, z, &lp, m, dz, scr), 0);
            for (int i = 0; i < bm->n; i++) {
                double b0 = bm->b[i];
                bm->b[i] = b0 + h; bm_mf_logp(bm, &r, SW, 1, z, &lpp, NULL, NULL, scr);
                bm->b[i] = b0 - h; bm_mf_logp(bm, &r, SW, 1, z, &lpm, NULL, NULL, scr);
                bm->b[i] = b0;
                double fd = (lpp - lpm) / (2 * h);
                if (fabs(fd - m[i]) > 1e-5) fail_msg("topo %d %s ∂/∂b_%d: m %.8f, FD %.8f", topo, relax_name(r.kind), i, m[i], fd);
                float z0 = z[i];
                if (fminf(z0, 1 - z0) < 1e-3f) continue;
                float zp = z0 * (1 + 1e-4f), zm = z0 * (1 - 1e-4f);
                if (z0 > 0.5f) zp = 1 - (1 - z0) * (1 - 1e-4f), zm = 1 - (1 - z0) * (1 + 1e-4f);
                z[i] = zp; bm_mf_logp(bm, &r, SW, 1, z, &lpp, NULL, NULL, scr);
                z[i] = zm; bm_mf_logp(bm, &r, SW, 1, z, &lpm, NULL, NULL, scr);
                z[i] = z0;
                fd = (lpp - lpm) / ((double)zp - zm);
                if (fabs(fd - dz[i]) > 1e-4 * fmax(1, fabs(fd)))
                    fail_msg("topo %d %s ∂/∂ζ_%d (ζ = %g): %.8f, FD %.8f", topo, relax_name(r.kind), i, z0, dz[i], fd);
            }
            for (long e = 0; e < bm->ne; e++) {
                double w0 = bm->w[e], want = (double)m[bm->g->edges[e][0]] * m[bm->g->edges[e][1]];
                bm->w[e] = w0 + h; bm_mf_logp(bm, &r, SW, 1, z, &lpp, NULL, NULL, scr);
                bm->w[e] = w0 - h; bm_mf_logp(bm, &r, SW, 1, z, &lpm, NULL, NULL, scr);
                bm->w[e] = w0;
                if (fabs((lpp - lpm) / (2 * h) - want) > 1e-5)
                    fail_msg("topo %d ∂/∂W_%ld: %.8f, FD %.8f", topo, e, want, (lpp - lpm) / (2 * h));
            }
            free(scr);
            bm_free(bm);
        }
}

/* After the default 5 sweeps (not converged, strong couplings): the returned value is the bound at
 * the returned m, and ∂/∂ζ is the derivative of that bound with m held fixed. */
static void test_mf_fixed_m(void **st)
{
    (void)st;
    for (int topo = 0; topo < 3; topo++)
        for (int k = 0; k < 2; k++) {
            struct bm *bm = test_random_cut_bm(topo, 20, 60 + topo, 1.5, 8);
            struct relax r = mk(MIX[k], k == 0 ? 40 : 10);
            float z[20], m[20], dz[20];
            double md[20], *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), lp;
            draw_zeta(&r, 20, 21 + topo, z);
            z[0] = 0; z[1] = 1; z[2] = 1e-6f;                    /* the ends and next to them */
            assert_int_equal(bm_mf_logp(bm, &r, BM_MF_SWEEPS, 1, z, &lp, m, dz, scr), 0);
            for (int i = 0; i < 20; i++) md[i] = m[i];
            double b = bm_mf_bound(bm, &r, z, md, scr);
            assert_true(fabs(b - lp) < 1e-5 * fmax(1, fabs(lp)));   /* m rounded to float */
            for (int i = 2; i < 20; i++) {
                float z0 = z[i], zp = z0 * (1 + 1e-4f), zm = z0 * (1 - 1e-4f);
                if (z0 > 0.5f) zp = 1 - (1 - z0) * (1 - 1e-4f), zm = 1 - (1 - z0) * (1 + 1e-4f);
                if (zp == zm) continue;
                z[i] = zp; double bp = bm_mf_bound(bm, &r, z, md, scr);
                z[i] = zm; double bmn = bm_mf_bound(bm, &r, z, md, scr);
                z[i] = z0;
                double fd = (bp - bmn) / ((double)zp - zm);
                if (fabs(fd - dz[i]) > 1e-3 * fmax(1, fabs(fd)))
                    fail_msg("topo %d %s ∂/∂ζ_%d (ζ = %g), m fixed: %.8g, FD %.8g", topo, relax_name(r.kind), i, z0, dz[i], fd);
            }
            free(scr);
            bm_free(bm);
        }
}

/* Spike-and-exponential: exact, −E(z*) + Σ_(ζ_i > 0) log r(ζ_i|1) with z* = [ζ > 0]. */
static void test_mf_spike(void **st)
{
    (void)st;
    struct bm *bm = test_random_cut_bm(1, 24, 5, 1.0, 9);
    struct relax r = mk(RELAX_SPIKE_EXP, 5);
    float z[24], m[24], dz[24];
    uint8_t zs[24];
    double *scr = malloc(bm_mf_scratch_size(bm) * sizeof(double)), lp;
    draw_zeta(&r, 24, 77, z);
    LD want = 0;
    for (int i = 0; i < 24; i++) {
        zs[i] = z[i] > 0;
        if (zs[i]) want += logl(5 * expl(5 * ((LD)z[i] - 1)) / (1 - expl(-5.0L)));
    }
    want -= bm_energy(bm, zs);
    assert_int_equal(bm_mf_logp(bm, &r, 0, 1, z, &lp, m, dz, scr), 0);
    assert_true(fabs(lp - (double)want) < 1e-9);
    for (int i = 0; i < 24; i++) assert_true(m[i] == zs[i] && dz[i] == (zs[i] ? 5.0f : 0.0f));
    free(scr);
    bm_free(bm);
}

/* Batches: rows at once = rows one by one = rows on two threads with their own scratch;
 * bm_mf_accum against a direct sum. */
struct mf_job { const struct bm *bm; const struct relax *r; const float *z; double *lp; float *m, *dz; double *scr; };

static void mf_job_run(void *ctx, long j)
{
    struct mf_job *J = ctx;
    int n = J->bm->n;
    bm_mf_logp(J->bm, J->r, BM_MF_SWEEPS, 1, J->z + j * n, J->lp + j, J->m + j * n, J->dz + j * n,
               J->scr + j * bm_mf_scratch_size(J->bm));
}

static void test_mf_batch(void **st)
{
    (void)st;
    enum { R = 6 };
    struct graph *g = graph_zephyr(2, 4);
    struct bm *bm = bm_new(g);
    assert_int_equal(bm_random(bm, 0.8, 3), 0);
    int n = bm->n;
    struct relax r = mk(RELAX_POWER, 30);
    size_t ss = bm_mf_scratch_size(bm);
    float *z = malloc(sizeof(float) * R * n), *m1 = malloc(sizeof(float) * R * n), *m2 = malloc(sizeof(float) * R * n);
    float *d1 = malloc(sizeof(float) * R * n), *d2 = malloc(sizeof(float) * R * n);
    double l1[R], l2[R], w[R], *scr = malloc(sizeof(double) * ss * R);
    for (int j = 0; j < R; j++) draw_zeta(&r, n, 300 + j, z + j * n), w[j] = 0.1 * (j + 1);
    assert_int_equal(bm_mf_logp(bm, &r, BM_MF_SWEEPS, R, z, l1, m1, d1, scr), 0);
    struct mf_job J = {bm, &r, z, l2, m2, d2, scr};
    qv_parallel(2, R, mf_job_run, &J);
    assert_memory_equal(l1, l2, sizeof l1);
    assert_memory_equal(m1, m2, sizeof(float) * R * n);
    assert_memory_equal(d1, d2, sizeof(float) * R * n);
    double *gb = calloc(n, sizeof(double)), *gw = calloc(bm->ne, sizeof(double));
    bm_mf_accum(bm, R, m1, w, gb, gw);
    for (int i = 0; i < n; i += 7) {
        double s = 0;
        for (int j = 0; j < R; j++) s += w[j] * m1[j * n + i];
        assert_true(fabs(gb[i] - s) < 1e-12);
    }
    for (long e = 0; e < bm->ne; e += 11) {
        double s = 0;
        for (int j = 0; j < R; j++) s += w[j] * m1[j * n + bm->g->edges[e][0]] * m1[j * n + bm->g->edges[e][1]];
        assert_true(fabs(gw[e] - s) < 1e-12);
    }
    free(z); free(m1); free(m2); free(d1); free(d2); free(scr); free(gb); free(gw);
    bm_free(bm);
}

static void test_mf_errors(void **st)
{
    (void)st;
    struct bm *bm = test_random_cut_bm(0, 8, 1, 1.0, 1);
    struct relax g = mk(RELAX_GUMBOLT, 2), p = mk(RELAX_POWER, 30);
    float z[8] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    double lp = 42, scr[32];
    assert_int_equal(bm_mf_logp(bm, &g, 5, 1, z, &lp, NULL, NULL, scr), -1);
    assert_string_equal(qv_errmsg(), "relaxed prior: gumbolt has no r(ζ|z) (use --relax power, exp or spike-exp)");
    assert_int_equal(bm_mf_logp(bm, &p, -1, 1, z, &lp, NULL, NULL, scr), -1);
    assert_string_equal(qv_errmsg(), "relaxed prior: mean-field sweeps must be >= 0 (got -1)");
    assert_true(lp == 42);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_density_normalised),
        cmocka_unit_test(test_logq_closed_form),
        cmocka_unit_test(test_sampler_ks),
        cmocka_unit_test(test_implicit_gradient),
        cmocka_unit_test(test_logq_derivatives),
        cmocka_unit_test(test_bias),
        cmocka_unit_test(test_no_nan),
        cmocka_unit_test(test_gumbolt),
        cmocka_unit_test(test_names_and_errors),
        cmocka_unit_test(test_mf_bound),
        cmocka_unit_test(test_mf_envelope),
        cmocka_unit_test(test_mf_fixed_m),
        cmocka_unit_test(test_mf_spike),
        cmocka_unit_test(test_mf_batch),
        cmocka_unit_test(test_mf_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
