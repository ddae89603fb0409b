/* dvae.c — the discrete VAE: parameter layout, forward/backward of the relaxed ELBO with a
 * Bernoulli or Boltzmann-machine prior, encoder/decoder passes for evaluation and generation.
 * Model and objective: dvae.h; tensor layout: nn.h. */
#include "dvae.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dvae_config_default(struct dvae_config *c)
{
    memset(c, 0, sizeof *c);
    c->D = 784;
    c->n = 288;
    c->nhidden = 2;
    c->hidden[0] = 512;
    c->hidden[1] = 256;
    c->act = NN_ACT_TANH;
    c->relax = DVAE_RELAX_GUMBOLT;
    c->tau = 0.5f;
    c->prior = DVAE_PRIOR_BERNOULLI;
    c->bmax = 500;
}

int dvae_parse_hidden(const char *s, struct dvae_config *c)
{
    int k = 0;
    const char *p = s;
    while (*p) {
        if (k == DVAE_MAX_HIDDEN)
            return qv_seterr("--hidden: at most %d layers ('%s')", DVAE_MAX_HIDDEN, s);
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 16384)
            return qv_seterr("--hidden: '%s': expected widths 1..16384 separated by commas", s);
        c->hidden[k++] = (int)v;
        p = end;
        if (*p == ',') p++;
        else if (*p) return qv_seterr("--hidden: '%s': expected widths separated by commas", s);
    }
    if (k == 0) return qv_seterr("--hidden: empty list");
    c->nhidden = k;
    return 0;
}

/* Widths along the encoder: D, hidden[0..nh-1], n.  The decoder runs them backwards. */
static int enc_width(const struct dvae_config *c, int i)
{
    if (i == 0) return c->D;
    if (i <= c->nhidden) return c->hidden[i - 1];
    return c->n;
}

static int dvae_carve(struct dvae *m, struct nn_arena *a)
{
    const struct dvae_config *c = &m->cfg;
    int nl = c->nhidden + 1, bm_ = c->bmax, widest = QV_MAX(c->D, c->n);
    for (int i = 0; i <= nl; i++) widest = QV_MAX(widest, enc_width(c, i));
    size_t np = 0;
    for (int i = 0; i < nl; i++) np += nn_dense_size(enc_width(c, i), enc_width(c, i + 1));
    for (int i = 0; i < nl; i++) np += nn_dense_size(enc_width(c, nl - i), enc_width(c, nl - i - 1));
    if (c->prior == DVAE_PRIOR_BERNOULLI) np += nn_round16((size_t)c->n);
    m->nparams = np;
    m->params = nn_arena_take(a, np);
    m->grads = nn_arena_take(a, np);
    size_t off = 0;
    for (int i = 0; i < nl; i++) {
        int in = enc_width(c, i), out = enc_width(c, i + 1);
        nn_dense_bind(&m->enc[i], in, out, i == nl - 1 ? NN_ACT_LINEAR : c->act,
                      m->params ? m->params + off : NULL, m->grads ? m->grads + off : NULL);
        off += nn_dense_size(in, out);
    }
    for (int i = 0; i < nl; i++) {
        int in = enc_width(c, nl - i), out = enc_width(c, nl - i - 1);
        nn_dense_bind(&m->dec[i], in, out, i == nl - 1 ? NN_ACT_LINEAR : c->act,
                      m->params ? m->params + off : NULL, m->grads ? m->grads + off : NULL);
        off += nn_dense_size(in, out);
    }
    m->prior_a = m->g_prior_a = NULL;
    if (c->prior == DVAE_PRIOR_BERNOULLI && m->params) {
        m->prior_a = m->params + off;
        m->g_prior_a = m->grads + off;
    }
    for (int i = 0; i < nl; i++) m->eh[i] = nn_arena_take(a, (size_t)bm_ * enc_width(c, i + 1));
    for (int i = 0; i < nl; i++) m->dh[i] = nn_arena_take(a, (size_t)bm_ * enc_width(c, nl - i - 1));
    m->zeta = nn_arena_take(a, (size_t)bm_ * c->n);
    m->dzeta = nn_arena_take(a, (size_t)bm_ * c->n);
    m->dl = nn_arena_take(a, (size_t)bm_ * c->n);
    m->lx = nn_arena_take(a, (size_t)bm_ * c->n);
    m->g1 = nn_arena_take(a, (size_t)bm_ * widest);
    m->g2 = nn_arena_take(a, (size_t)bm_ * widest);
    float *rv = nn_arena_take(a, 2 * (size_t)bm_);   /* doubles */
    m->rowv = (double *)rv;
    rv = nn_arena_take(a, 2 * (size_t)bm_);
    m->rowk = (double *)rv;
    m->widest = widest;
    return 0;
}

int dvae_tau_check(double tau)
{
    /* τ = 0 divides by zero in the relaxation; the upper bound catches typos (at τ ≫ 1 every ζ is
     * near 1/2 whatever q is, so nothing would be learnt) */
    if (!(tau > 0 && tau <= 10)) return qv_seterr("--tau must be in (0, 10], got %g", tau);
    return 0;
}

/* Sizes m's arena for m->cfg, allocates it (zeroed) and carves the tensors out of it: the
 * parameters and the work buffers for cfg.bmax rows.  -1 + error (m->arena untouched) if memory
 * runs out. */
static int dvae_arena_build(struct dvae *m)
{
    struct nn_arena plan, a;
    nn_arena_plan(&plan);
    dvae_carve(m, &plan);
    if (nn_arena_alloc(&a, plan.used) < 0) return -1;
    m->arena = a;
    dvae_carve(m, &m->arena);
    m->sgrad[0] = m->grads;
    return 0;
}

/* Checks cfg and allocates a model whose parameters are not yet set: dvae_new initialises them,
 * dvae_clone copies them. */
static struct dvae *dvae_alloc(const struct dvae_config *c)
{
    if (c->D < 1 || c->D > 1 << 20) { qv_seterr("model: %d pixels is out of range", c->D); return NULL; }
    if (c->n < 1 || c->n > 1 << 16) { qv_seterr("model: %d latent units is out of range", c->n); return NULL; }
    if (c->nhidden < 1 || c->nhidden > DVAE_MAX_HIDDEN) {
        qv_seterr("model: 1..%d hidden layers", DVAE_MAX_HIDDEN);
        return NULL;
    }
    if (dvae_tau_check(c->tau) < 0) { qv_preferr("model"); return NULL; }
    if (c->bmax < 1 || c->bmax > DVAE_MAX_ROWS) {
        qv_seterr("model: batch capacity out of range");
        return NULL;
    }
    struct dvae *m = qv_calloc(1, sizeof *m);
    m->cfg = *c;
    m->nl = c->nhidden + 1;
    if (dvae_arena_build(m) < 0) { free(m); return NULL; }
    m->nshard = m->nthread = 1;
    return m;
}

struct dvae *dvae_new(const struct dvae_config *cfg, uint64_t seed)
{
    struct dvae *m = dvae_alloc(cfg);
    if (!m) return NULL;
    struct rng r;
    rng_init(&r, seed, 0x6d6f64656cULL);   /* "model" */
    for (int i = 0; i < m->nl; i++) nn_dense_init(&m->enc[i], &r);
    for (int i = 0; i < m->nl; i++) nn_dense_init(&m->dec[i], &r);
    /* prior logits start at 0 (p = 1/2), like the BM parameters (DVAE# initialises them at 0) */
    return m;
}

void dvae_free(struct dvae *m)
{
    if (!m) return;
    for (int s = 1; s < DVAE_MAX_SHARDS; s++) qv_free_aligned(m->sgrad[s]);
    for (int s = 0; s < DVAE_MAX_SHARDS; s++) free(m->sbm[s]);
    nn_arena_free(&m->arena);
    free(m);
}

int dvae_reserve(struct dvae *m, int rows)
{
    if (rows <= m->cfg.bmax) return 0;
    if (rows > DVAE_MAX_ROWS)
        return qv_seterr("model: %d rows per pass is more than a model holds (%d)", rows,
                         DVAE_MAX_ROWS);
    /* Parameters and work buffers share one arena: build a larger one and move the parameters
     * over.  Gradients are overwritten by every pass, and the shard buffers sgrad[s ≥ 1] and sbm
     * do not depend on the capacity.  On failure the old carving is restored (same pointers). */
    struct nn_arena old = m->arena;
    const float *oldp = m->params;
    const int was = m->cfg.bmax;
    m->cfg.bmax = rows;
    if (dvae_arena_build(m) < 0) {
        m->cfg.bmax = was;
        m->arena = old;
        m->arena.used = 0;
        dvae_carve(m, &m->arena);
        return -1;
    }
    memcpy(m->params, oldp, sizeof(float) * m->nparams);
    nn_arena_free(&old);
    return 0;
}

struct dvae *dvae_clone(const struct dvae *m)
{
    struct dvae *c = dvae_alloc(&m->cfg);
    if (c) memcpy(c->params, m->params, sizeof(float) * m->nparams);
    return c;
}

int dvae_check_finite(const struct dvae *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (!isfinite(m->params[i])) {
            const char *what = "prior logit";
            const float *p = m->params + i;
            for (int l = 0; l < m->nl; l++) {
                const struct nn_dense *E = &m->enc[l], *Dl = &m->dec[l];
                if (p >= E->w && p < E->w + nn_dense_size(E->in, E->out)) { what = "encoder parameter"; break; }
                if (p >= Dl->w && p < Dl->w + nn_dense_size(Dl->in, Dl->out)) { what = "decoder parameter"; break; }
            }
            return qv_seterr("model: %s %zu is %s", what, i, isnan(m->params[i]) ? "NaN" : "infinite");
        }
    return 0;
}

void dvae_describe(const struct dvae *m, char *buf, size_t n)
{
    const struct dvae_config *c = &m->cfg;
    char arch[128];
    int k = snprintf(arch, sizeof arch, "%d", c->D);
    for (int i = 0; i < c->nhidden && k < (int)sizeof arch; i++)
        k += snprintf(arch + k, sizeof arch - k, "-%d", c->hidden[i]);
    if (k < (int)sizeof arch) snprintf(arch + k, sizeof arch - k, "-%d", c->n);
    /* trainable floats (the vector's alignment padding excluded) */
    size_t np = c->prior == DVAE_PRIOR_BERNOULLI ? (size_t)c->n : 0;
    for (int i = 0; i < m->nl; i++)
        np += (size_t)m->enc[i].in * m->enc[i].out + m->enc[i].out +
              (size_t)m->dec[i].in * m->dec[i].out + m->dec[i].out;
    const bool bm = c->prior == DVAE_PRIOR_BM;
    snprintf(buf, n, "%s %s %s tau=%g%s %s prior, %zu parameters", arch, nn_act_name(c->act),
             dvae_relax_name(c->relax), (double)c->tau, bm && c->kl == DVAE_KL_ANALYTIC ? " kl=analytic" : "",
             bm ? "boltzmann" : "bernoulli", np);
}

void dvae_noise(struct rng *r, float *g, size_t n)
{
    /* u = (k + ½)/2²⁴ is never 0 or 1, so the logit is finite (|g| ≤ 17.3). */
    size_t i = 0;
    for (; i + NN_VL <= n; i += NN_VL) {
        nn_vf u;
        for (int k = 0; k < NN_VL; k++) u[k] = ((float)(rng_u64(r) >> 40) + 0.5f) * 0x1.0p-24f;
        nn_vstore(g + i, nn_vlog(u) - nn_vlog(1.0f - u));
    }
    for (; i < n; i++) {
        float u = ((float)(rng_u64(r) >> 40) + 0.5f) * 0x1.0p-24f;
        g[i] = nn_flog(u) - nn_flog(1.0f - u);
    }
}

const float *dvae_encode(struct dvae *m, int B, const float *x, float *q)
{
    const float *in = x;
    for (int i = 0; i < m->nl; i++) {
        nn_dense_forward(&m->enc[i], B, in, m->eh[i]);
        in = m->eh[i];
    }
    if (q) {
        size_t n = (size_t)B * m->cfg.n, i = 0;
        for (; i + NN_VL <= n; i += NN_VL) nn_vstore(q + i, nn_vsigmoid(nn_vload(in + i)));
        for (; i < n; i++) q[i] = nn_fsigmoid(in[i]);
    }
    return in;
}

const float *dvae_decode(struct dvae *m, int B, const float *z)
{
    const float *in = z;
    for (int i = 0; i < m->nl; i++) {
        nn_dense_forward(&m->dec[i], B, in, m->dh[i]);
        in = m->dh[i];
    }
    return in;
}

void dvae_decode_means(struct dvae *m, int B, const float *z, float *out)
{
    const float *l = dvae_decode(m, B, z);
    size_t n = (size_t)B * m->cfg.D, i = 0;
    for (; i + NN_VL <= n; i += NN_VL) nn_vstore(out + i, nn_vsigmoid(nn_vload(l + i)));
    for (; i < n; i++) out[i] = nn_fsigmoid(l[i]);
}

/* E(z) = −Σ b_i z_i − Σ_e W_e z_u z_v for one row; if dz is not NULL it gets ∂E/∂z. */
static double bm_energy_row(const struct bm *bm, const float *z, float *dz)
{
    const int n = bm->n;
    double e = 0.0;
    for (int i = 0; i < n; i++) e -= bm->b[i] * z[i];
    if (dz)
        for (int i = 0; i < n; i++) dz[i] = (float)-bm->b[i];
    const int (*ed)[2] = (const int (*)[2])bm->g->edges;
    for (long k = 0; k < bm->ne; k++) {
        int u = ed[k][0], v = ed[k][1];
        double w = bm->w[k];
        e -= w * z[u] * z[v];
        if (dz) {
            dz[u] -= (float)(w * z[v]);
            dz[v] -= (float)(w * z[u]);
        }
    }
    return e;
}

void dvae_prior_logp(const struct dvae *m, const struct bm *bm, int B, const float *z, double *out)
{
    const int n = m->cfg.n;
    if (m->cfg.prior == DVAE_PRIOR_BM) {
        for (int b = 0; b < B; b++) out[b] = -bm_energy_row(bm, z + (size_t)b * n, NULL);
        return;
    }
    /* Σ z a − softplus(a): the normalising constant is part of the closed form */
    double c = 0.0;
    for (int i = 0; i < n; i++) c += nn_fsoftplus(m->prior_a[i]);
    for (int b = 0; b < B; b++) {
        const float *zr = z + (size_t)b * n;
        double s = 0.0;
        for (int i = 0; i < n; i++) s += (double)zr[i] * m->prior_a[i];
        out[b] = s - c;
    }
}

const char *dvae_relax_name(enum dvae_relax r) { return r == DVAE_RELAX_ST ? "st" : "gumbolt"; }

int dvae_relax_parse(const char *s, enum dvae_relax *out)
{
    if (strcmp(s, "gumbolt") == 0) *out = DVAE_RELAX_GUMBOLT;
    else if (strcmp(s, "st") == 0) *out = DVAE_RELAX_ST;
    else return qv_seterr("--relax: unknown relaxation '%s' (gumbolt, st)", s);
    return 0;
}

const char *dvae_kl_name(enum dvae_kl k) { return k == DVAE_KL_ANALYTIC ? "analytic" : "relaxed"; }

int dvae_kl_parse(const char *s, enum dvae_kl *out)
{
    if (strcmp(s, "relaxed") == 0) *out = DVAE_KL_RELAXED;
    else if (strcmp(s, "analytic") == 0) *out = DVAE_KL_ANALYTIC;
    else return qv_seterr("--kl: unknown prior term '%s' (relaxed, analytic)", s);
    return 0;
}

int dvae_set_parallel(struct dvae *m, int shards, int threads)
{
    if (shards < 1 || shards > DVAE_MAX_SHARDS)
        return qv_seterr("model: %d data-parallel blocks (1..%d)", shards, DVAE_MAX_SHARDS);
    if (threads < 1) threads = 1;
    for (int s = 1; s < shards; s++)
        if (!m->sgrad[s]) {
            /* zeroed once: the alignment padding between tensors stays 0 in every block */
            m->sgrad[s] = qv_alloc_aligned(m->nparams * sizeof(float) + 64);
            memset(m->sgrad[s], 0, m->nparams * sizeof(float));
        }
    m->nshard = shards;
    m->nthread = QV_MIN(threads, shards);
    return 0;
}

/* Rows [r0, r0 + nb) of a batch of B: forward, the prior term and (io->grad) the backward pass
 * into the gradient vector g (the layout of m->grads) and, for a BM prior, Σζ_i and Σζ_uζ_v of the
 * block (weighted by ω, below) into bmacc [n + ne].  Per-row values go to rec[r0…] and
 * io->ex_elbo[r0…]; sums over rows of the KL and reconstruction terms to *klsum, *recsum, and the
 * sum over images of the per-image bound (ELBO, or importance-weighted with io->iw = K > 1) to
 * *bndsum.  Gradients are already scaled by 1/B, so the blocks of a batch add up to the
 * whole-batch gradient; with K > 1 the block holds whole images (nb a multiple of K). */
static void run_rows(struct dvae *m, const struct bm *bm, const struct dvae_batch *io, int r0,
                     int nb, float *g, double *bmacc, double *klsum, double *recsum, double *bndsum)
{
    const struct dvae_config *c = &m->cfg;
    const int B = io->B, n = c->n, D = c->D, W = m->widest, nl = m->nl;
    const bool isbm = c->prior == DVAE_PRIOR_BM;
    /* K importance samples per image: rows gK..gK+K−1 are image g's samples (the block holds
     * whole images); the encoder runs once per image, from row e0 of its buffers */
    const int K = io->iw > 1 ? io->iw : 1, e0 = r0 / K, ni = nb / K;
    /* analytic KL of a BM prior: the prior term at q instead of ζ, so ζ feeds the decoder only.
     * A discrete pass keeps z: E(z) + log q(z) is already the exact single-sample term. */
    const bool on_q = isbm && c->kl == DVAE_KL_ANALYTIC && !io->discrete;
    const bool hard = io->discrete || c->relax == DVAE_RELAX_ST;   /* binary z in the forward pass */
    /* the prior term is a function of the sample ζ (its gradient reaches the decoder input):
     * a BM's relaxed proxy, and with K > 1 also a Bernoulli prior's, log q(ζ|x) − log p(ζ) */
    const bool per_sample = isbm ? !on_q : K > 1;
    const float inv_tau = 1.0f / c->tau, sB = 1.0f / (float)B;
    const float kb = (float)(io->kl_weight / B);
    const float *x = io->x + (size_t)e0 * D, *noise = io->noise + (size_t)r0 * n;
    float *zeta = m->zeta + (size_t)r0 * n, *dzeta = m->dzeta + (size_t)r0 * n;
    float *dl = m->dl + (size_t)r0 * n;
    float *g1 = m->g1 + (size_t)r0 * W, *g2 = m->g2 + (size_t)r0 * W;
    double *rec = m->rowv + r0, *klr = m->rowk + r0;
    /* this block's rows of a layer's output buffer: decoder rows from r0, encoder rows from e0 */
#define ROWS(buf, L) ((buf) + (size_t)r0 * (size_t)(L).out)
#define EROWS(buf, L) ((buf) + (size_t)e0 * (size_t)(L).out)

    /* encoder → logits [ni × n], repeated K times into lx when K > 1 → l [nb × n] */
    const float *in = x;
    for (int i = 0; i < nl; i++) {
        nn_dense_forward(&m->enc[i], ni, in, EROWS(m->eh[i], m->enc[i]));
        in = EROWS(m->eh[i], m->enc[i]);
    }
    const float *l = in;
    if (K > 1) {
        float *lx = m->lx + (size_t)r0 * n;
        for (int b = 0; b < nb; b++) memcpy(lx + (size_t)b * n, l + (size_t)(b / K) * n, sizeof(float) * n);
        l = lx;
    }
    /* relaxation ζ = σ((l + g)/τ) [nb × n], or its τ → 0 limit z = [l + g > 0] */
    const size_t bn = (size_t)nb * n;
    if (hard) {
        for (size_t i = 0; i < bn; i++) zeta[i] = l[i] + noise[i] > 0.0f ? 1.0f : 0.0f;
    } else {
        size_t i = 0;
        for (; i + NN_VL <= bn; i += NN_VL)
            nn_vstore(zeta + i, nn_vsigmoid((nn_vload(l + i) + nn_vload(noise + i)) * inv_tau));
        for (; i < bn; i++) zeta[i] = nn_fsigmoid((l[i] + noise[i]) * inv_tau);
    }
    /* decoder → pixel logits [nb × D]; reconstruction and its gradient (scaled by 1/B) */
    in = zeta;
    for (int i = 0; i < nl; i++) {
        nn_dense_forward(&m->dec[i], nb, in, ROWS(m->dh[i], m->dec[i]));
        in = ROWS(m->dh[i], m->dec[i]);
    }
    for (int e = 0; e < ni; e++)   /* K rows scored against image e (xstride 0 when K > 1) */
        nn_bernoulli_ll(in + (size_t)e * K * D, x + (size_t)e * D, K > 1 ? 0 : (size_t)D, K, D,
                        rec + (size_t)e * K, io->grad ? g1 + (size_t)e * K * D : NULL, sB);

    /* prior term per row into klr, and its per-row gradient wrt ζ (dzeta) and l (dl), scaled by
     * β/B; the sums over rows (prior parameters' gradients) follow once the rows' weights are known */
    const int (*ed)[2] = isbm ? (const int (*)[2])bm->g->edges : NULL;
    float spa_tot = 0.0f;
    if (!isbm)
        for (int i = 0; i < n; i++) spa_tot += nn_fsoftplus(m->prior_a[i]);
    float *dE = g2;   /* free until the decoder backward */
    for (int b = 0; b < nb; b++) {
        const float *lr = l + (size_t)b * n;
        float *dzr = dzeta + (size_t)b * n, *dlr = dl + (size_t)b * n;
        double kl;
        if (!isbm && !per_sample) {
            /* closed form: KL = Σ q(l − a) − sp(l) + sp(a);  ∂/∂l = q(1−q)(l−a) */
            kl = spa_tot;
            for (int i = 0; i < n; i++) {
                float q = nn_fsigmoid(lr[i]), a = m->prior_a[i];
                kl += q * (lr[i] - a) - nn_fsoftplus(lr[i]);
                if (io->grad) dlr[i] = kb * q * (1.0f - q) * (lr[i] - a);
            }
        } else if (!isbm) {
            /* one-sample proxy at ζ (GumBolt's form for a factorised prior):
             * log q(ζ|x) − log p(ζ) = Σ ζ(l − a) − sp(l) + sp(a);  ∂/∂ζ = l − a, ∂/∂l = ζ − σ(l) */
            const float *zr = zeta + (size_t)b * n;
            kl = spa_tot;
            for (int i = 0; i < n; i++) {
                kl += zr[i] * (lr[i] - m->prior_a[i]) - nn_fsoftplus(lr[i]);
                if (io->grad) {
                    dzr[i] = kb * (lr[i] - m->prior_a[i]);
                    dlr[i] = kb * (zr[i] - nn_fsigmoid(lr[i]));
                }
            }
        } else {
            /* the point the prior term is evaluated at: ζ (relaxed proxy), or q = σ(l) (analytic:
             * E_q[E(z)] = E(q) because the energy is affine in each z_i and q is factorial) */
            const float *zr = zeta + (size_t)b * n;
            if (on_q) {
                for (int i = 0; i < n; i++) dzr[i] = nn_fsigmoid(lr[i]);
                zr = dzr;
            }
            kl = bm_energy_row(bm, zr, io->grad ? dE : NULL);
            /* log q(ζ|x) = Σ ζ l − softplus(l); ∂/∂ζ = l, ∂/∂l (explicit) = ζ − σ(l).  At ζ = q
             * it is −H[q] and the explicit ∂/∂l vanishes: ∂KL/∂l all goes through dq/dl = q(1−q) */
            for (int i = 0; i < n; i++) kl += zr[i] * lr[i] - nn_fsoftplus(lr[i]);
            if (io->grad) {
                if (on_q) {
                    for (int i = 0; i < n; i++) dlr[i] = kb * (lr[i] + dE[i]) * zr[i] * (1.0f - zr[i]);
                } else {
                    for (int i = 0; i < n; i++) {
                        dzr[i] = kb * (lr[i] + dE[i]);
                        dlr[i] = kb * (zr[i] - nn_fsigmoid(lr[i]));
                    }
                }
            }
        }
        klr[b] = kl;
        if (io->ex_elbo) io->ex_elbo[r0 + b] = rec[b] - kl;
    }
    /* per-image objective: the ELBO (K = 1) or the importance-weighted bound
     * log (1/K) Σ_k exp(rec_k − kl_k), whose gradient is Σ_k w̃_k ∇(rec_k − β·kl_k) with the
     * normalised weights w̃ ∝ exp(rec_k − β·kl_k): row k's gradient is scaled by ω_k = K·w̃_k
     * (mean 1, so 1/B stays the per-row scale).  ω goes into rowk, replacing the prior term. */
    double ks = 0.0, rs = 0.0, bs = 0.0;
    for (int e = 0; e < ni; e++) {
        const double *re = rec + (size_t)e * K;
        double *ke = klr + (size_t)e * K;
        double mx = -INFINITY, mw = -INFINITY;
        for (int k = 0; k < K; k++) {
            ks += ke[k];
            rs += re[k];
            mx = fmax(mx, re[k] - ke[k]);
            mw = fmax(mw, re[k] - io->kl_weight * ke[k]);
        }
        if (K == 1) {
            bs += re[0] - ke[0];
            ke[0] = 1.0;
            continue;
        }
        double se = 0.0, sw = 0.0;
        for (int k = 0; k < K; k++) {
            se += exp(re[k] - ke[k] - mx);
            sw += exp(re[k] - io->kl_weight * ke[k] - mw);
        }
        bs += mx + log(se / K);
        for (int k = 0; k < K; k++) ke[k] = K * exp(re[k] - io->kl_weight * ke[k] - mw) / sw;
    }
    *klsum = ks;
    *recsum = rs;
    *bndsum = bs;
    if (!io->grad) return;

    const double *om = klr;   /* ω per row */
    if (K > 1)
        for (int b = 0; b < nb; b++) {
            const float w = (float)om[b];
            float *gr = g1 + (size_t)b * D, *dzr = dzeta + (size_t)b * n, *dlr = dl + (size_t)b * n;
            for (int i = 0; i < D; i++) gr[i] *= w;
            for (int i = 0; i < n; i++) {
                dzr[i] *= w;
                dlr[i] *= w;
            }
        }
    /* sums over rows: a BM's positive phase Σ ω ζ_i, Σ ω ζ_u ζ_v (at q when analytic); a
     * Bernoulli prior's ∂/∂a = β/B Σ ω (σ(a) − q or ζ) */
    if (isbm) {
        memset(bmacc, 0, sizeof(double) * (size_t)(n + bm->ne));
        double *acw = bmacc + n;
        for (int b = 0; b < nb; b++) {
            const float *zr = on_q ? dzeta + (size_t)b * n : zeta + (size_t)b * n;
            const double w = om[b];   /* 1 when K = 1: the products are then exact copies */
            for (int i = 0; i < n; i++) bmacc[i] += w * zr[i];
            for (long k = 0; k < bm->ne; k++) acw[k] += w * zr[ed[k][0]] * zr[ed[k][1]];
        }
    } else {
        float *gpa = g + (m->g_prior_a - m->grads);
        memset(gpa, 0, sizeof(float) * n);
        for (int b = 0; b < nb; b++) {
            const float *lr = l + (size_t)b * n, *zr = zeta + (size_t)b * n;
            const float kw = kb * (float)om[b];
            for (int i = 0; i < n; i++)
                gpa[i] += kw * (nn_fsigmoid(m->prior_a[i]) - (per_sample ? zr[i] : nn_fsigmoid(lr[i])));
        }
    }

    /* decoder backward: g1 holds ∂loss/∂(pixel logits); layers ping-pong between g1 and g2 and
     * the last input gradient is ∂loss/∂ζ through the decoder.  Layer views point the weight
     * gradients into this block's vector g. */
    float *dy = g1;
    for (int i = nl - 1; i >= 0; i--) {
        struct nn_dense L = m->dec[i];
        L.gw = g + (L.gw - m->grads);
        L.gb = g + (L.gb - m->grads);
        const float *lin = i > 0 ? ROWS(m->dh[i - 1], m->dec[i - 1]) : zeta;
        float *dst = dy == g1 ? g2 : g1;
        nn_dense_backward(&L, nb, lin, ROWS(m->dh[i], m->dec[i]), dy, dst);
        dy = dst;
    }
    /* dy now holds ∂rec-loss/∂ζ [nb × n]; combine with the prior's and chain through ζ(l):
     * ∂ζ/∂l = ζ(1−ζ)/τ, for straight-through with the GumBolt ζ the forward pass did not use */
    for (size_t i = 0; i < bn; i++) {
        float z = hard ? nn_fsigmoid((l[i] + noise[i]) * inv_tau) : zeta[i];
        dl[i] += (per_sample ? dy[i] + dzeta[i] : dy[i]) * z * (1.0f - z) * inv_tau;
    }
    /* K samples of an image share its logits: their gradients add up (into dzeta, now free) */
    float *dle = dl;
    if (K > 1) {
        dle = dzeta;
        for (int e = 0; e < ni; e++) {
            float *d = dle + (size_t)e * n;
            memcpy(d, dl + (size_t)e * K * n, sizeof(float) * n);
            for (int k = 1; k < K; k++) {
                const float *s = dl + ((size_t)e * K + k) * n;
                for (int i = 0; i < n; i++) d[i] += s[i];
            }
        }
    }
    /* encoder backward from dle [ni × n]; the first layer needs no input gradient */
    dy = dle;
    for (int i = nl - 1; i >= 0; i--) {
        struct nn_dense L = m->enc[i];
        L.gw = g + (L.gw - m->grads);
        L.gb = g + (L.gb - m->grads);
        const float *lin = i > 0 ? EROWS(m->eh[i - 1], m->enc[i - 1]) : x;
        float *dst = i > 0 ? (dy == g1 ? g2 : g1) : NULL;
        nn_dense_backward(&L, ni, lin, EROWS(m->eh[i], m->enc[i]), dy, dst);
        dy = dst;
    }
#undef ROWS
#undef EROWS
}

struct shard_ctx {
    struct dvae *m;
    const struct bm *bm;
    const struct dvae_batch *io;
    int S, K;
    double klsum[DVAE_MAX_SHARDS], recsum[DVAE_MAX_SHARDS], bndsum[DVAE_MAX_SHARDS];
};

static void shard_job(void *p, long s)
{
    struct shard_ctx *c = p;
    /* blocks are cut between images, so an image's K samples stay in one block */
    const long G = c->io->B / c->K;
    const int r0 = (int)(c->K * (G * s / c->S)), r1 = (int)(c->K * (G * (s + 1) / c->S));
    run_rows(c->m, c->bm, c->io, r0, r1 - r0, c->m->sgrad[s], c->m->sbm[s], &c->klsum[s],
             &c->recsum[s], &c->bndsum[s]);
}

/* Part `part` of `parts` of the flat parameter vector, [*lo, *hi), cut on multiples of `align`
 * floats (whole vectors per part; the last part takes the tail). */
static void flat_part(size_t n, long part, long parts, size_t align, size_t *lo, size_t *hi)
{
    const size_t nv = n / align;
    *lo = nv * (size_t)part / (size_t)parts * align;
    *hi = part == parts - 1 ? n : nv * (size_t)(part + 1) / (size_t)parts * align;
}

/* grads += Σ_{s≥1} sgrad[s], in block order for every element (deterministic), and in the same
 * pass whether every summed element is finite (x·0 is 0 for finite x and NaN for NaN/±Inf).  The
 * flat vector is cut into parts on NN_VL boundaries; one flag per part. */
#define REDUCE_MAX_PARTS (4 * DVAE_MAX_SHARDS)
struct reduce_ctx { struct dvae *m; int S, parts; bool finite[REDUCE_MAX_PARTS]; };

static void reduce_job(void *p, long part)
{
    struct reduce_ctx *c = p;
    size_t lo, hi;
    flat_part(c->m->nparams, part, c->parts, NN_VL, &lo, &hi);
    float *g = c->m->grads;
    for (int s = 1; s < c->S - 1; s++) {
        const float *gs = c->m->sgrad[s];
        for (size_t i = lo; i < hi; i++) g[i] += gs[i];
    }
    /* last block: add and check together (the vector stays in cache) */
    const float *gs = c->S > 1 ? c->m->sgrad[c->S - 1] : NULL;
    nn_vf acc = nn_vset1(0.0f);
    size_t i = lo;
    for (; i + NN_VL <= hi; i += NN_VL) {
        nn_vf v = nn_vload(g + i);
        if (gs) {
            v += nn_vload(gs + i);
            nn_vstore(g + i, v);
        }
        acc += v * 0.0f;
    }
    float tail = 0.0f;
    for (; i < hi; i++) {
        if (gs) g[i] += gs[i];
        tail += g[i] * 0.0f;
    }
    for (int k = 0; k < NN_VL; k++) tail += acc[k];
    c->finite[part] = isfinite(tail);
}

int dvae_batch_run(struct dvae *m, const struct bm *bm, struct dvae_batch *io)
{
    const struct dvae_config *c = &m->cfg;
    const int B = io->B, n = c->n;
    const bool isbm = c->prior == DVAE_PRIOR_BM;
    if (B < 1 || B > c->bmax) return qv_seterr("model: batch of %d rows (capacity %d)", B, c->bmax);
    if (isbm && !bm) return qv_seterr("model: a Boltzmann-machine prior is needed (prior new …)");
    if (isbm && bm->n != n)
        return qv_seterr("model: the prior has %d units but the model has %d latents", bm->n, n);
    if (isbm && io->grad && (!io->neg_mean || !io->neg_corr || !io->g_b || !io->g_w))
        return qv_seterr("model: BM gradient needs negative-phase statistics");
    if (io->grad && io->discrete)
        return qv_seterr("model: discrete latents have no reparameterised gradient");
    const int K = io->iw > 1 ? io->iw : 1;
    if (io->iw < 0 || B % K != 0)
        return qv_seterr("model: %d rows are not whole images of %d importance samples", B, io->iw);
    if (K > 1 && isbm && c->kl == DVAE_KL_ANALYTIC && !io->discrete)
        return qv_seterr("model: importance weighting needs a per-sample prior term (--kl relaxed), "
                         "not the analytic KL");
    /* a forward-only pass gains nothing from blocks (no gradients to reduce) but the threads */
    const int S = io->grad ? QV_MIN(m->nshard, B / K) : 1;
    if (isbm && io->grad && m->sbm_len != (long)n + bm->ne) {
        for (int s = 0; s < DVAE_MAX_SHARDS; s++) {
            free(m->sbm[s]);
            m->sbm[s] = NULL;
        }
        m->sbm_len = (long)n + bm->ne;
    }
    if (isbm && io->grad)
        for (int s = 0; s < S; s++)
            if (!m->sbm[s]) m->sbm[s] = qv_malloc(sizeof(double) * (size_t)m->sbm_len);

    struct shard_ctx sc = {.m = m, .bm = bm, .io = io, .S = S, .K = K};
    const int T = QV_MIN(m->nthread, S);
    int blas = T > 1 ? nn_blas_threads(1) : 0;
    qv_parallel(T, S, shard_job, &sc);
    if (io->grad) {
        /* the reduction and the NaN/Inf check run on all of the model's threads, even when the
         * batch ran as one block: both are memory-bound passes over every parameter */
        const int TR = m->nthread;
        struct reduce_ctx rc = {.m = m, .S = S, .parts = TR > 1 ? 4 * TR : 1};
        qv_parallel(TR, rc.parts, reduce_job, &rc);
        io->grads_finite = true;
        for (int k = 0; k < rc.parts; k++) io->grads_finite &= rc.finite[k];
    }
    if (T > 1) nn_blas_threads(blas);

    double klsum = 0.0, recsum = 0.0, bndsum = 0.0;
    for (int s = 0; s < S; s++) {
        klsum += sc.klsum[s];
        recsum += sc.recsum[s];
        bndsum += sc.bndsum[s];
    }
    if (isbm && io->grad) {
        /* ∂E/∂b_i = −ζ_i and ∂log Z/∂b_i = ⟨z_i⟩, so
         * ∂(β·mean E(ζ) + β·log Z)/∂b_i = β(−mean ζ_i + ⟨z_i⟩); likewise for W. */
        const double beta = io->kl_weight;
        for (long k = 0; k < m->sbm_len; k++) {
            double acc = 0.0;
            for (int s = 0; s < S; s++) acc -= m->sbm[s][k];
            if (k < n) io->g_b[k] = beta * (acc / B + io->neg_mean[k]);
            else io->g_w[k - n] = beta * (acc / B + io->neg_corr[k - n]);
        }
    }
    io->rec = recsum / B;
    io->kl = klsum / B;
    io->elbo = K > 1 ? bndsum / (B / K) : io->rec - io->kl;
    return 0;
}

/* Adam is element-wise, so the flat parameter vector is cut into parts (on 16-float boundaries)
 * that update side by side; each part walks the segments it overlaps (kernels decay, biases and
 * the Bernoulli prior's logits do not).  Same bits for any part count. */
struct adam_ctx { struct dvae *m; struct nn_adam *o; float wd; long parts; };

static void adam_seg(const struct adam_ctx *c, size_t lo, size_t hi, const float *seg, size_t len,
                     float wd)
{
    size_t a = (size_t)(seg - c->m->params), b = a + len;
    if (a < lo) a = lo;
    if (b > hi) b = hi;
    if (a < b) nn_adam_update(c->o, c->m->params, c->m->grads, a, b - a, wd);
}

static void adam_job(void *p, long part)
{
    const struct adam_ctx *c = p;
    struct dvae *m = c->m;
    size_t lo, hi;
    flat_part(m->nparams, part, c->parts, 16, &lo, &hi);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < m->nl; i++) {
            const struct nn_dense *L = k ? &m->dec[i] : &m->enc[i];
            adam_seg(c, lo, hi, L->w, (size_t)L->in * L->out, c->wd);
            adam_seg(c, lo, hi, L->b, (size_t)L->out, 0.0f);
        }
    if (m->prior_a) adam_seg(c, lo, hi, m->prior_a, (size_t)m->cfg.n, 0.0f);
}

void dvae_adam_step(struct dvae *m, struct nn_adam *o, double lr, float wd)
{
    nn_adam_begin(o, lr);
    struct adam_ctx c = {.m = m, .o = o, .wd = wd, .parts = m->nthread > 1 ? 4L * m->nthread : 1};
    qv_parallel(m->nthread, c.parts, adam_job, &c);
}
