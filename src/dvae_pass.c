/* dvae_pass.c — one training or evaluation pass of the DVAE over a batch, as named stages, and
 * the data-parallel machinery around it (blocks of rows on threads, the ordered gradient sum, the
 * parallel Adam step).  The objective and the batch contract: dvae.h.
 *
 * A pass over a block of rows runs, forward:
 *   post_forward    encoder → logits l [nb × n] (one encoder row per image, repeated K times),
 *                   relaxation ζ(l, noise) [nb × n]
 *   dec_forward     decoder → pixel logits [nb × D]; reconstruction rec [nb] and ∂(−rec)/∂logits
 *   prior_forward   the prior term klr [nb] with its per-row gradients wrt ζ (dzeta) and l (dl)
 *   bound_weights   per image: the ELBO or the IW bound; the rows' importance weights ω into klr
 * and, with gradients:
 *   weight_rows     scales each row's gradients by ω (K > 1)
 *   prior_params    the prior parameters' sums over rows (BM positive phase, Bernoulli ∂/∂a)
 *   dec_backward    decoder weights; returns ∂(−rec)/∂ζ
 *   post_backward   ζ → l chain, K samples' logit gradients summed per image, encoder weights.
 * Every stage reads and writes only the block's rows of the model's buffers. */
#include "dvae.h"
#include "par.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One block of a pass: rows [r0, r0 + nb) of a batch of io->B rows; with K importance samples per
 * image the block holds whole images [e0, e0 + ni), rows eK..eK+K−1 being image e's samples. */
struct blk {
    struct dvae *m;
    const struct bm *bm;
    const struct dvae_batch *io;
    int r0, nb, K, e0, ni, n, D;
    int shard;        /* the block's index: its scratch buffers */
    bool isbm;
    bool on_q;        /* analytic KL of a BM prior: the prior term at q = σ(l), ζ feeds the decoder only */
    bool hard;        /* binary z = [l + g > 0] in the forward pass (discrete pass, straight-through) */
    bool per_sample;  /* the prior term is a function of the sample ζ (its gradient reaches ζ) */
    bool mix;         /* a mixture relaxation's sample (log-densities, relaxed BM prior) */
    float sB, kb;            /* 1/B; β/B */
    const float *x;          /* [ni × D] this block's images */
    const float *noise;      /* [nb × n] logistic noise */
    const float *rho;        /* [nb × n] mixture: the uniforms that pick ζ₀ (else NULL) */
    const float *l;          /* [nb × n] logits per row (set by post_forward) */
    float *zeta, *dzeta, *dl;                 /* [nb × n] */
    float *g1, *g2;                           /* [nb × widest] */
    double *rec, *klr;                        /* [nb] */
    float *g;                                 /* the block's gradient vector (layout of m->grads) */
    struct dvae_scr sc;                       /* the block's batch-norm statistics and conv work */
};

static void blk_init(struct blk *b, struct dvae *m, const struct bm *bm, const struct dvae_batch *io,
                     int r0, int nb, int shard, float *g, const struct dvae_scr *sc)
{
    const struct dvae_config *c = &m->cfg;
    memset(b, 0, sizeof *b);
    b->m = m;
    b->bm = bm;
    b->io = io;
    b->n = c->n;
    b->D = c->D;
    b->isbm = c->prior == DVAE_PRIOR_BM;
    b->K = io->iw > 1 ? io->iw : 1;
    b->r0 = r0;
    b->nb = nb;
    b->e0 = r0 / b->K;
    b->ni = nb / b->K;
    /* a discrete pass keeps z: E(z) + log q(z) is already the exact single-sample term */
    b->on_q = b->isbm && c->kl == DVAE_KL_ANALYTIC && !io->discrete && !io->rws;
    b->hard = io->discrete || io->rws || c->relax == DVAE_RELAX_ST;
    /* a BM's relaxed proxy; with K > 1 also a Bernoulli prior's log q(ζ|x) − log p(ζ) */
    b->per_sample = b->isbm ? !b->on_q : b->K > 1;
    b->sB = 1.0f / (float)io->B;
    b->kb = (float)(io->kl_weight / io->B);
    const size_t rn = (size_t)r0 * b->n, rw = (size_t)r0 * m->widest;
    b->x = io->x + (size_t)b->e0 * b->D;
    b->noise = io->noise + rn;
    b->mix = dvae_mixture(m) && !b->hard;
    b->rho = b->mix ? io->noise + (size_t)io->B * b->n + rn : NULL;
    b->zeta = m->zeta + rn;
    b->dzeta = m->dzeta + rn;
    b->dl = m->dl + rn;
    b->g1 = m->g1 + rw;
    b->g2 = m->g2 + rw;
    b->rec = m->rowv + r0;
    b->klr = m->rowk + r0;
    b->g = g;
    b->sc = *sc;
    b->shard = shard;
}

/* the posterior: every row's logits l [nb × n] (group 0's encoder once per image, later groups
 * per row) and the relaxation ζ = σ((l + g)/τ), or its τ → 0 limit z = [l + g > 0] */
static void post_forward(struct blk *b)
{
    dvae_post_forward(b->m, b->r0, b->nb, b->K, b->x, b->noise, b->rho, NULL, b->hard, b->zeta, &b->sc);
    b->l = b->m->lx + (size_t)b->r0 * b->n;
}

/* decoder → pixel logits [nb × D]; rec [nb] and, with gradients, g1 = ∂(−rec)/∂logits · 1/B.
 * The K rows of image e are all scored against image e. */
static void dec_forward(struct blk *b)
{
    const int K = b->K, D = b->D;
    const float *px = dvae_net_forward(&b->m->dec, b->r0, b->nb, b->zeta, &b->sc);
    for (int e = 0; e < b->ni; e++)
        nn_bernoulli_ll(px + (size_t)e * K * D, b->x + (size_t)e * D, K > 1 ? 0 : (size_t)D, K, D,
                        b->rec + (size_t)e * K, b->io->grad ? b->g1 + (size_t)e * K * D : NULL, b->sB);
}

/* E(z) = −Σ b_i z_i − Σ_e W_e z_u z_v for one row; if dz is not NULL it gets ∂E/∂z. */
static double bm_energy_grad_row(const struct bm *bm, const float *z, float *dz)
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

/* A Bernoulli prior's term for row r: the closed-form KL, or (per_sample) GumBolt's one-sample
 * proxy log q(ζ|x) − log p(ζ).  spa = Σ softplus(a). */
static double prior_row_bernoulli(const struct blk *b, int r, float spa)
{
    const int n = b->n;
    const float *lr = b->l + (size_t)r * n, *zr = b->zeta + (size_t)r * n, *a = b->m->prior_a;
    float *dzr = b->dzeta + (size_t)r * n, *dlr = b->dl + (size_t)r * n;
    const bool grad = b->io->grad;
    const float kb = b->kb;
    double kl = spa;
    if (!b->per_sample) {
        /* KL = Σ q(l − a) − sp(l) + sp(a);  ∂/∂l = q(1−q)(l−a) */
        for (int i = 0; i < n; i++) {
            float q = nn_fsigmoid(lr[i]);
            kl += q * (lr[i] - a[i]) - nn_fsoftplus(lr[i]);
            if (grad) dlr[i] = kb * q * (1.0f - q) * (lr[i] - a[i]);
        }
        return kl;
    }
    /* Σ ζ(l − a) − sp(l) + sp(a);  ∂/∂ζ = l − a, ∂/∂l = ζ − σ(l) */
    for (int i = 0; i < n; i++) {
        kl += zr[i] * (lr[i] - a[i]) - nn_fsoftplus(lr[i]);
        if (grad) {
            dzr[i] = kb * (lr[i] - a[i]);
            dlr[i] = kb * (zr[i] - nn_fsigmoid(lr[i]));
        }
    }
    return kl;
}

/* A BM prior's term for row r: log q(·|x) + E_θ(·) at ζ (relaxed proxy) or at q = σ(l) (analytic:
 * E_q[E(z)] = E(q) because the energy is affine in each z_i and q is factorial).  dE [n] scratch.
 * With on_q, q is left in the row's dzeta (the positive phase reads it there). */
static double prior_row_bm(const struct blk *b, int r, float *dE)
{
    const int n = b->n;
    const float *lr = b->l + (size_t)r * n, *zr = b->zeta + (size_t)r * n;
    float *dzr = b->dzeta + (size_t)r * n, *dlr = b->dl + (size_t)r * n;
    const bool grad = b->io->grad;
    const float kb = b->kb;
    if (b->on_q) {
        for (int i = 0; i < n; i++) dzr[i] = nn_fsigmoid(lr[i]);
        zr = dzr;
    }
    double kl = bm_energy_grad_row(b->bm, zr, grad ? dE : NULL);
    /* log q(ζ|x) = Σ ζ l − softplus(l); ∂/∂ζ = l, ∂/∂l (explicit) = ζ − σ(l).  At ζ = q it is
     * −H[q] and the explicit ∂/∂l vanishes: ∂KL/∂l all goes through dq/dl = q(1−q).  softplus
     * and σ by vector helpers (the scalar calls' bits, ~3 % of a step faster); sums in order. */
    float t[64];   /* a chunk of units' softplus */
    for (int i0 = 0; i0 < n; i0 += (int)QV_ARRAY_LEN(t)) {
        const int m = QV_MIN((int)QV_ARRAY_LEN(t), n - i0);
        nn_softplus_n(lr + i0, t, (size_t)m);
        for (int i = 0; i < m; i++) kl += zr[i0 + i] * lr[i0 + i] - t[i];
    }
    if (!grad) return kl;
    if (b->on_q) {
        for (int i = 0; i < n; i++) dlr[i] = kb * (lr[i] + dE[i]) * zr[i] * (1.0f - zr[i]);
    } else {
        nn_sigmoid_n(lr, dlr, (size_t)n);   /* σ(l) into dlr, then the gradient in place */
        for (int i = 0; i < n; i++) {
            dzr[i] = kb * (lr[i] + dE[i]);
            dlr[i] = kb * (zr[i] - dlr[i]);
        }
    }
    return kl;
}

/* A mixture relaxation's prior term for all rows of the block, per sample: log q(ζ|x) − log p(ζ)
 * with the mixture's log-density (relax_logq) and, for a Bernoulli prior, the factorial mixture
 * at the prior's logits a; for a BM prior the relaxed Boltzmann prior p(ζ) = Z(ζ)/Z Π r(ζ_i|0)
 * without log Z, log Z(ζ) by mean field (bm_mf_logp).  Gradients (× β/B): dl = ∂/∂l, dzeta =
 * ∂/∂ζ; per row into m->mfm the BM's mean-field marginals (positive phase) or the Bernoulli
 * prior's ∂log p(ζ)/∂a. */
static void prior_forward_mix(struct blk *b, double *lp)
{
    struct dvae *m = b->m;
    const int n = b->n, nb = b->nb;
    const size_t rn = (size_t)b->r0 * n, bn = (size_t)nb * n;
    float *gpz = m->ubuf + rn, *mfm = m->mfm + rn;   /* u is spent once ζ is drawn */
    double *lq = m->rowk + b->r0;                     /* log q per row, then the prior term */
    relax_logq(&m->rx, nb, n, b->l, b->zeta, lq, b->dl, b->dzeta);
    if (b->isbm) {
        bm_mf_logp(b->bm, &m->rx, m->cfg.mf_sweeps > 0 ? m->cfg.mf_sweeps : BM_MF_SWEEPS, nb, b->zeta,
                   lp, mfm, gpz, m->mfscr[b->shard]);
    } else {
        for (int r = 0; r < nb; r++)   /* the factorial mixture at the prior's logits */
            relax_logq(&m->rx, 1, n, m->prior_a, b->zeta + (size_t)r * n, lp + r, mfm + (size_t)r * n,
                       gpz + (size_t)r * n);
    }
    const float kb = b->kb;
    for (size_t i = 0; i < bn; i++) {
        b->dzeta[i] = kb * (b->dzeta[i] - gpz[i]);
        b->dl[i] = kb * b->dl[i];
    }
    for (int r = 0; r < nb; r++) {
        lq[r] -= lp[r];
        if (b->io->ex_elbo) b->io->ex_elbo[b->r0 + r] = b->rec[r] - lq[r];
    }
}

/* The prior term per row into klr [nb], its per-row gradients wrt ζ (dzeta) and l (dl) scaled by
 * β/B, and io->ex_elbo.  g2 is free until the decoder backward: the BM term's dE scratch. */
static void prior_forward(struct blk *b)
{
    if (b->mix && b->per_sample) {
        prior_forward_mix(b, b->m->rowp + b->r0);
        return;
    }
    float spa = 0.0f;
    if (!b->isbm)
        for (int i = 0; i < b->n; i++) spa += nn_fsoftplus(b->m->prior_a[i]);
    for (int r = 0; r < b->nb; r++) {
        double kl = b->isbm ? prior_row_bm(b, r, b->g2) : prior_row_bernoulli(b, r, spa);
        b->klr[r] = kl;
        if (b->io->ex_elbo) b->io->ex_elbo[b->r0 + r] = b->rec[r] - kl;
    }
}

/* Per image: the ELBO (K = 1) or the importance-weighted bound log (1/K) Σ_k exp(rec_k − kl_k),
 * whose gradient is Σ_k w̃_k ∇(rec_k − β·kl_k) with normalised weights w̃ ∝ exp(rec_k − β·kl_k):
 * row k's gradient is scaled by ω_k = K·w̃_k (mean 1, so 1/B stays the per-row scale).  ω replaces
 * the prior term in klr.  Sums over the block's rows: sums[0] KL, sums[1] rec, sums[2] bound. */
static void bound_weights(struct blk *b, double sums[3])
{
    const int K = b->K;
    const double beta = b->io->kl_weight;
    double ks = 0.0, rs = 0.0, bs = 0.0;
    for (int e = 0; e < b->ni; e++) {
        const double *re = b->rec + (size_t)e * K;
        double *ke = b->klr + (size_t)e * K;
        double mx = -INFINITY, mw = -INFINITY;
        for (int k = 0; k < K; k++) {
            ks += ke[k];
            rs += re[k];
            mx = fmax(mx, re[k] - ke[k]);
            mw = fmax(mw, re[k] - beta * ke[k]);
        }
        if (K == 1) {
            bs += re[0] - ke[0];
            ke[0] = 1.0;
            continue;
        }
        double se = 0.0, sw = 0.0;
        for (int k = 0; k < K; k++) {
            se += exp(re[k] - ke[k] - mx);
            sw += exp(re[k] - beta * ke[k] - mw);
        }
        bs += mx + log(se / K);
        for (int k = 0; k < K; k++) ke[k] = K * exp(re[k] - beta * ke[k] - mw) / sw;
    }
    sums[0] = ks;
    sums[1] = rs;
    sums[2] = bs;
}

/* Scales each row's gradients (pixel logits, ζ, l) by its weight ω (K > 1 only).  Under
 * reweighted wake-sleep the logit gradient becomes that of −(1/B)·ω·log q(z|x) instead,
 * −ω/B·(z − σ(l)), not scaled by β: the wake-phase update of q is not part of the annealed bound. */
static void weight_rows(struct blk *b)
{
    const int n = b->n, D = b->D;
    for (int r = 0; r < b->nb; r++) {
        const float w = (float)b->klr[r];
        float *gr = b->g1 + (size_t)r * D, *dzr = b->dzeta + (size_t)r * n, *dlr = b->dl + (size_t)r * n;
        const float *lr = b->l + (size_t)r * n, *zr = b->zeta + (size_t)r * n;
        for (int i = 0; i < D; i++) gr[i] *= w;
        for (int i = 0; i < n; i++) {
            dzr[i] *= w;
            dlr[i] = b->io->rws ? -w * b->sB * (zr[i] - nn_fsigmoid(lr[i])) : dlr[i] * w;
        }
    }
}

/* Sums over rows: a BM's positive phase Σ ω ζ_i, Σ ω ζ_u ζ_v (at q when analytic) into bmacc
 * [n + ne]; a Bernoulli prior's ∂/∂a = β/B Σ ω (σ(a) − q or ζ) into the block's gradient vector. */
static void prior_params(struct blk *b, double *bmacc)
{
    const int n = b->n;
    const double *om = b->klr;
    if (b->isbm) {
        const struct bm *bm = b->bm;
        const int (*ed)[2] = (const int (*)[2])bm->g->edges;
        memset(bmacc, 0, sizeof(double) * (size_t)(n + bm->ne));
        double *acw = bmacc + n;
        /* the sample's statistics: ζ, q (analytic), or a relaxed prior's mean-field marginals */
        const float *src = b->on_q ? b->dzeta : b->mix && b->per_sample ? b->m->mfm + (size_t)b->r0 * n : b->zeta;
        for (int r = 0; r < b->nb; r++) {
            const float *zr = src + (size_t)r * n;
            const double w = om[r];   /* 1 when K = 1: the products are then exact copies */
            for (int i = 0; i < n; i++) bmacc[i] += w * zr[i];
            for (long k = 0; k < bm->ne; k++) acw[k] += w * zr[ed[k][0]] * zr[ed[k][1]];
        }
        return;
    }
    const float *a = b->m->prior_a;
    float *gpa = b->g + (b->m->g_prior_a - b->m->grads);
    memset(gpa, 0, sizeof(float) * n);
    for (int r = 0; r < b->nb; r++) {
        const float *lr = b->l + (size_t)r * n, *zr = b->zeta + (size_t)r * n;
        const float kw = b->kb * (float)om[r];
        if (b->mix && b->per_sample) {   /* −∂log p(ζ)/∂a of the factorial mixture */
            const float *ga = b->m->mfm + (size_t)(b->r0 + r) * n;
            for (int i = 0; i < n; i++) gpa[i] -= kw * ga[i];
            continue;
        }
        for (int i = 0; i < n; i++)
            gpa[i] += kw * (nn_fsigmoid(a[i]) - (b->per_sample ? zr[i] : nn_fsigmoid(lr[i])));
    }
}

/* Decoder backward from g1 = ∂loss/∂(pixel logits), ping-ponging between g1 and g2; returns
 * ∂(−rec)/∂ζ [nb × n] (in g1 or g2). */
static float *dec_backward(struct blk *b)
{
    /* reweighted wake-sleep sends nothing through ζ: the decoder's input gradient is not needed */
    return dvae_net_backward(&b->m->dec, b->m, b->g, b->r0, b->nb, b->zeta, b->g1, b->g1, b->g2,
                             !b->io->rws, &b->sc);
}

/* dy = ∂(−rec)/∂ζ [nb × n] (in g1 or g2): the prior's ∂/∂ζ added, into dacc (the encoders'
 * backward needs g1 and g2); then back through the relaxation and the group encoders. */
static void post_backward(struct blk *b, const float *dy)
{
    struct dvae *m = b->m;
    const size_t bn = (size_t)b->nb * b->n;
    float *dz = b->io->rws ? NULL : m->dacc + (size_t)b->r0 * b->n;
    for (size_t i = 0; i < bn && dz; i++) dz[i] = b->per_sample ? dy[i] + b->dzeta[i] : dy[i];
    dvae_post_backward(m, b->g, b->r0, b->nb, b->K, b->x, b->noise, b->hard, b->zeta, dz, b->dl,
                       b->g1, b->g2, &b->sc);
}

/* Rows [r0, r0 + nb) of the batch: forward, the prior term and (io->grad) the backward pass into
 * the gradient vector g (layout of m->grads) and, for a BM prior, the positive-phase sums into
 * bmacc [n + ne].  sums: KL, reconstruction and per-image bound summed over the block.  Gradients
 * are scaled by 1/B, so the blocks of a batch add up to the whole-batch gradient. */
static void run_rows(struct dvae *m, const struct bm *bm, const struct dvae_batch *io, int r0,
                     int nb, int shard, float *g, double *bmacc, double sums[3],
                     const struct dvae_scr *sc)
{
    struct blk b;
    blk_init(&b, m, bm, io, r0, nb, shard, g, sc);
    post_forward(&b);
    dec_forward(&b);
    prior_forward(&b);
    bound_weights(&b, sums);
    if (!io->grad) return;
    if (b.K > 1) weight_rows(&b);
    prior_params(&b, bmacc);
    const float *dy = dec_backward(&b);
    post_backward(&b, dy);
}

struct shard_ctx {
    struct dvae *m;
    const struct bm *bm;
    const struct dvae_batch *io;
    int S, K;
    int s0;           /* this rank's first block (0 outside an MPI job) */
    double sums[DVAE_MAX_SHARDS][3];
};

static void shard_job(void *p, long j)
{
    struct shard_ctx *c = p;
    const long s = c->s0 + j;
    /* blocks are cut between images, so an image's K samples stay in one block */
    const long G = c->io->B / c->K;
    const int r0 = (int)(c->K * (G * s / c->S)), r1 = (int)(c->K * (G * (s + 1) / c->S));
    /* batch norm: a training pass normalises each block by its own rows */
    const struct dvae_scr sc = {.stats = c->io->grad && c->m->nbn ? c->m->bnstat[s] : NULL,
                                .work = c->m->cwork[s]};
    run_rows(c->m, c->bm, c->io, r0, r1 - r0, (int)s, c->m->sgrad[s], c->m->sbm[s], c->sums[s], &sc);
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

/* Rows [r0, r1) of block s of a batch of G images × K samples cut into S blocks. */
static void block_rows(long G, int K, int S, int s, int *r0, int *r1)
{
    *r0 = (int)(K * (G * s / S));
    *r1 = (int)(K * (G * (s + 1) / S));
}

/* Bytes of block s's record in the exchange: its gradient vector [nparams floats], its sums
 * [3 doubles], its BM positive-phase sums [sbm_len doubles], its batch-norm statistics [nbn
 * floats] and its rows' logits [rows × n floats] (the trainer's activity reads every row's). */
static size_t rec_bytes(const struct dvae *m, bool isbm, int rows)
{
    return m->nparams * sizeof(float) + 3 * sizeof(double) +
           (isbm ? (size_t)m->sbm_len * sizeof(double) : 0) + m->nbn * sizeof(float) +
           (size_t)rows * (size_t)m->cfg.n * sizeof(float);
}

/* Packs (dir > 0) block s's results into rec or unpacks (dir < 0) them from it. */
static void rec_copy(struct dvae *m, struct shard_ctx *c, bool isbm, int s, unsigned char *rec, int dir)
{
    int r0, r1;
    block_rows(c->io->B / c->K, c->K, c->S, s, &r0, &r1);
    struct { void *p; size_t n; } part[5] = {
        {s == 0 ? m->grads : m->sgrad[s], m->nparams * sizeof(float)},
        {c->sums[s], 3 * sizeof(double)},
        {isbm ? m->sbm[s] : NULL, isbm ? (size_t)m->sbm_len * sizeof(double) : 0},
        {m->nbn ? m->bnstat[s] : NULL, m->nbn * sizeof(float)},
        {m->lx + (size_t)r0 * m->cfg.n, (size_t)(r1 - r0) * (size_t)m->cfg.n * sizeof(float)},
    };
    for (int k = 0; k < 5; k++) {
        if (!part[k].n) continue;
        if (dir > 0) memcpy(rec, part[k].p, part[k].n);
        else memcpy(part[k].p, rec, part[k].n);
        rec += part[k].n;
    }
}

/* An MPI job: every rank ran its share of the S blocks; afterwards every rank holds every
 * block's record, exactly as if it had run them all, so the reduction below sums the same
 * vectors in the same order on every rank and the step's bits depend on S alone.  -1 + error. */
static int exchange_blocks(struct dvae *m, struct shard_ctx *c, bool isbm)
{
    const int P = par_size(), S = c->S;
    size_t off[DVAE_MAX_SHARDS + 1];
    off[0] = 0;
    for (int s = 0; s < S; s++) {
        int r0, r1;
        block_rows(c->io->B / c->K, c->K, S, s, &r0, &r1);
        off[s + 1] = off[s] + rec_bytes(m, isbm, r1 - r0);
    }
    size_t *counts = qv_malloc(sizeof(size_t) * 2 * (size_t)P), *displs = counts + P;
    for (int r = 0; r < P; r++) {
        long lo = (long)S * r / P, hi = (long)S * (r + 1) / P;
        displs[r] = off[lo];
        counts[r] = off[hi] - off[lo];
    }
    /* one buffer per process, kept between steps (a fresh one would page-fault its megabytes in
     * every step); MPI is driven from the main thread only (par.h) */
    static struct { unsigned char *p; size_t n; } xb;
    if (xb.n < off[S]) {
        free(xb.p);
        xb.p = qv_malloc(off[S]);
        xb.n = off[S];
    }
    unsigned char *buf = xb.p;
    long lo, hi;
    par_share(S, &lo, &hi);
    for (long s = lo; s < hi; s++) rec_copy(m, c, isbm, (int)s, buf + off[s], 1);
    char err[200];
    int rc = par_allgather_bytes(buf, counts, displs, err, sizeof err);
    for (int s = 0; s < S && rc == 0; s++)
        if (s < lo || s >= hi) rec_copy(m, c, isbm, s, buf + off[s], -1);
    free(counts);
    return rc ? qv_seterr("%s", err) : 0;
}

/* The batch's arguments against the model: -1 + error naming the problem. */
static int batch_check(const struct dvae *m, const struct bm *bm, const struct dvae_batch *io)
{
    const struct dvae_config *c = &m->cfg;
    const bool isbm = c->prior == DVAE_PRIOR_BM;
    if (io->B < 1 || io->B > c->bmax) return qv_seterr("model: batch of %d rows (capacity %d)", io->B, c->bmax);
    if (isbm && !bm) return qv_seterr("model: a Boltzmann-machine prior is needed (prior new …)");
    if (isbm && bm->n != c->n)
        return qv_seterr("model: the prior has %d units but the model has %d latents", bm->n, c->n);
    if (isbm && io->grad && (!io->neg_mean || !io->neg_corr || !io->g_b || !io->g_w))
        return qv_seterr("model: BM gradient needs negative-phase statistics");
    if (io->grad && io->discrete)
        return qv_seterr("model: discrete latents have no reparameterised gradient");
    const int K = io->iw > 1 ? io->iw : 1;
    if (io->iw < 0 || io->B % K != 0)
        return qv_seterr("model: %d rows are not whole images of %d importance samples", io->B, io->iw);
    if (io->rws && (!io->grad || K < 2))
        return qv_seterr("model: reweighted wake-sleep trains on importance samples (--iw 2 or more)");
    if (K > 1 && isbm && c->kl == DVAE_KL_ANALYTIC && !io->discrete && !io->rws)
        return qv_seterr("model: importance weighting needs a per-sample prior term (--kl relaxed), "
                         "not the analytic KL");
    const int S = io->grad ? QV_MIN(m->nshard, io->B / K) : 1;
    if (c->bn && io->grad && io->B / K / S < 2)
        return qv_seterr("batch norm: needs a batch of at least 2 in training mode (%d image%s in "
                         "%d data-parallel block%s)", io->B / K, io->B / K == 1 ? "" : "s", S,
                         S == 1 ? "" : "s");
    return 0;
}

/* After a training pass: the running batch-norm statistics absorb the blocks' statistics, pooled
 * exactly into those of the whole batch (nn_bn_update_running). */
static void bn_running(struct dvae *m, int B, int K, int S)
{
    const long G = B / K;
    const float *st[DVAE_MAX_SHARDS];
    int rows_img[DVAE_MAX_SHARDS], rows_all[DVAE_MAX_SHARDS];
    for (int s = 0; s < S; s++) {
        rows_img[s] = (int)(G * (s + 1) / S - G * s / S);
        rows_all[s] = rows_img[s] * K;
    }
    for (int k = 0; k <= m->ngroup; k++) {
        const struct dvae_net *N = k == m->ngroup ? &m->dec : &m->enc[k];
        /* group 0's encoder runs once per image, the others once per row */
        const int *rows = k == 0 ? rows_img : rows_all;
        for (int i = 0; i < N->nl; i++) {
            if (i == N->nl - 1 && !(N->conv_last && N->nconv)) break;   /* the network's last */
            for (int s = 0; s < S; s++) st[s] = m->bnstat[s] + N->boff[i];
            nn_bn_update_running(&N->N[i], S, st, rows);
        }
        for (int j = 0; j < N->nconv; j++) {
            if (N->conv_last && j == N->nconv - 1) break;
            for (int s = 0; s < S; s++) st[s] = m->bnstat[s] + N->cboff[j];
            nn_bn_update_running(&N->CN[j], S, st, rows);
        }
    }
}

/* The blocks' positive-phase sums (sbm) → the BM gradients: ∂E/∂b_i = −ζ_i and ∂log Z/∂b_i = ⟨z_i⟩,
 * so ∂(β·mean E(ζ) + β·log Z)/∂b_i = β(−mean ζ_i + ⟨z_i⟩); likewise for W. */
static void bm_grads(const struct dvae *m, struct dvae_batch *io, int S)
{
    const int n = m->cfg.n;
    const double beta = io->kl_weight;
    for (long k = 0; k < m->sbm_len; k++) {
        double acc = 0.0;
        for (int s = 0; s < S; s++) acc -= m->sbm[s][k];
        if (k < n) io->g_b[k] = beta * (acc / io->B + io->neg_mean[k]);
        else io->g_w[k - n] = beta * (acc / io->B + io->neg_corr[k - n]);
    }
}

int dvae_batch_run(struct dvae *m, const struct bm *bm, struct dvae_batch *io)
{
    if (batch_check(m, bm, io) < 0) return -1;
    const int B = io->B, n = m->cfg.n, K = io->iw > 1 ? io->iw : 1;
    const bool isbm = m->cfg.prior == DVAE_PRIOR_BM;
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

    if (isbm && dvae_mixture(m) && m->mfscr_len != bm_mf_scratch_size(bm)) {
        for (int s = 0; s < DVAE_MAX_SHARDS; s++) {
            free(m->mfscr[s]);
            m->mfscr[s] = NULL;
        }
        m->mfscr_len = bm_mf_scratch_size(bm);
    }
    if (isbm && dvae_mixture(m))
        for (int s = 0; s < S; s++)
            if (!m->mfscr[s]) m->mfscr[s] = qv_malloc(sizeof(double) * m->mfscr_len);
    struct shard_ctx sc = {.m = m, .bm = bm, .io = io, .S = S, .K = K};
    /* in an MPI job a training pass runs this rank's share of the blocks only (the same cut as
     * threads make), then gathers the others' (exchange_blocks) */
    const bool dist = io->grad && par_size() > 1;
    long lo = 0, hi = S;
    if (dist) par_share(S, &lo, &hi);
    sc.s0 = (int)lo;
    const int T = (int)QV_MIN((long)m->nthread, hi - lo);
    int blas = T > 1 ? nn_blas_threads(1) : 0;
    if (hi > lo) qv_parallel(QV_MAX(T, 1), hi - lo, shard_job, &sc);
    if (dist && exchange_blocks(m, &sc, isbm) < 0) {
        if (T > 1) nn_blas_threads(blas);
        return -1;
    }
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
        klsum += sc.sums[s][0];
        recsum += sc.sums[s][1];
        bndsum += sc.sums[s][2];
    }
    if (isbm && io->grad) bm_grads(m, io, S);
    if (m->nbn && io->grad) bn_running(m, B, K, S);
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

struct adam_part { const struct adam_ctx *c; size_t lo, hi; };

static void adam_part_seg(void *ctx, const float *seg, size_t len, float wd)
{
    const struct adam_part *a = ctx;
    adam_seg(a->c, a->lo, a->hi, seg, len, wd);
}

static void adam_job(void *p, long part)
{
    const struct adam_ctx *c = p;
    struct dvae *m = c->m;
    struct adam_part a = {.c = c};
    flat_part(m->nparams, part, c->parts, 16, &a.lo, &a.hi);
    for (int g = 0; g < m->ngroup; g++) dvae_net_adam(&m->enc[g], adam_part_seg, &a, c->wd);
    dvae_net_adam(&m->dec, adam_part_seg, &a, c->wd);
    if (m->prior_a) adam_seg(c, a.lo, a.hi, m->prior_a, (size_t)m->cfg.n, 0.0f);
}

void dvae_adam_step(struct dvae *m, struct nn_adam *o, double lr, float wd)
{
    nn_adam_begin(o, lr);
    struct adam_ctx c = {.m = m, .o = o, .wd = wd, .parts = m->nthread > 1 ? 4L * m->nthread : 1};
    qv_parallel(m->nthread, c.parts, adam_job, &c);
}
