/* dvae.h — the discrete VAE: encoder networks → logits of q(z|x) for n binary latents (one group,
 * or a hierarchical posterior of L groups, each conditioned on the earlier groups' samples), a
 * relaxation ζ of z (GumBolt, straight-through, or DVAE#'s overlapping power/exp/spike-exp
 * mixtures), a decoder → Bernoulli pixel logits, and a prior that is either a factorised Bernoulli
 * (learnable logits owned by the model) or a Boltzmann machine (struct bm, owned by the prior
 * module) whose log-partition gradient comes from negative-phase statistics supplied by the caller
 * (any sampler, or exact marginals).  Networks: dense layers, optionally batch-normalised, with
 * optional strided convolutions (dvae_net.c); the posterior: dvae_post.c; one pass: dvae_pass.c.
 *
 * Objective per example (model.md §2, §2b–§2c), maximised:
 *   ELBO ≈ log p(x|ζ) − β·KL,  GumBolt ζ_i = σ((l_i + g_i)/τ),  g_i ~ Logistic(0,1)
 *   Bernoulli prior:  KL = Σ_i q_i (l_i − a_i) − softplus(l_i) + softplus(a_i),  q = σ(l)  (exact
 *                     given the earlier groups' sample)
 *   BM prior:         KL = log q(ζ|x) + E_θ(ζ) + log Z_θ,  log q(ζ|x) = Σ ζ_i l_i − softplus(l_i)
 *                     (--kl relaxed), or the same expression at ζ = q (--kl analytic, exact; one
 *                     group only; enum dvae_kl)
 *   mixture relaxations: per sample log q(ζ|x) − log p(ζ) with the mixture's density and, for a BM,
 *                     the relaxed prior Z(ζ)/Z · Π r(ζ_i|0) by mean field (bm_mf.h): a proper
 *                     density, so the importance-weighted bound is a bound
 * with ∂log Z/∂b_i = ⟨z_i⟩, ∂log Z/∂W_ij = ⟨z_i z_j⟩ taken from prior samples (constants).
 *
 * Why GumBolt with τ = 0.5 by default: it evaluates every term at the relaxed ζ, so the BM energy
 * needs no special treatment, its τ → 0 limit is the discrete ELBO, and GumBolt reports its best
 * results around τ ≈ 0.5 and below.  The mixtures (DVAE#) keep the relaxed and discrete objectives
 * within a nat of each other, at about 1.2× the cost per image (more on the IW bound: a mean-field
 * prior per sample; bench/results/). */
#ifndef QV_DVAE_H
#define QV_DVAE_H

#include "nn.h"
#include "nn_bn.h"
#include "nn_conv.h"
#include "bm.h"
#include "bm_mf.h"
#include "relax.h"

#define DVAE_MAX_HIDDEN 4
#define DVAE_MAX_SHARDS 8
#define DVAE_MAX_ROWS 100000           /* largest batch capacity (rows = images × samples) */
#define DVAE_MAX_GROUPS 8              /* latent groups of a hierarchical posterior */
#define DVAE_MAX_CONV 4                /* convolution layers per network */

enum dvae_prior { DVAE_PRIOR_BERNOULLI, DVAE_PRIOR_BM };
/* How the binary latents are relaxed for the reparameterised gradient:
 *  gumbolt  ζ = σ((l + g)/τ) everywhere (forward and backward);
 *  st       straight-through: the forward pass uses the binary z = [l + g > 0], so the decoder and
 *           the prior term see exactly the latents evaluation scores (no information can pass
 *           through continuous values of ζ); the backward pass uses ∂ζ/∂l of the GumBolt ζ at the
 *           same noise (biased, as every straight-through estimator). */
/*  power, exp, spike-exp   the overlapping (mixture) relaxations of DVAE#/DVAE++/DVAE (relax.h),
 *           sharpness --relax-beta: ζ from the mixture (1−q) r(ζ|0) + q r(ζ|1), the implicit
 *           gradient, the mixture's log-density in the prior term, and for a BM prior the relaxed
 *           Boltzmann prior p(ζ) = Z(ζ)/Z · Π r(ζ_i|0) with log Z(ζ) by mean field (bm_mf.h), so the
 *           importance-weighted bound is a proper bound (DVAE#).  The enum values equal relax.h's. */
enum dvae_relax { DVAE_RELAX_GUMBOLT = RELAX_GUMBOLT, DVAE_RELAX_ST = RELAX_ST,
                  DVAE_RELAX_POWER = RELAX_POWER, DVAE_RELAX_EXP = RELAX_EXP,
                  DVAE_RELAX_SPIKE_EXP = RELAX_SPIKE_EXP };
const char *dvae_relax_name(enum dvae_relax r);
int dvae_relax_parse(const char *s, enum dvae_relax *out);   /* -1 + error "--relax: …" */
/* How a BM prior's term is charged during training (a Bernoulli prior always uses its closed form):
 *  relaxed   GumBolt's proxy log q(ζ|x) + E_θ(ζ) at the relaxed ζ (one sample, as published);
 *  analytic  the exact discrete KL for the factorial q: Σ q_i l_i − softplus(l_i) + E_θ(q), since
 *            E_q[E_θ(z)] = E_θ(q) for an energy affine in each z_i; ζ then feeds only the decoder,
 *            and the positive phase is ⟨q_i⟩, ⟨q_u q_v⟩ — the statistics of the discrete posterior
 *            the prior must match at evaluation, not those of ζ (which at τ = 0.5 differ). */
enum dvae_kl { DVAE_KL_RELAXED, DVAE_KL_ANALYTIC };
/* "relaxed"/"analytic" ↔ enum; parse returns -1 + error "--kl: …" on unknown text. */
const char *dvae_kl_name(enum dvae_kl k);
int dvae_kl_parse(const char *s, enum dvae_kl *out);

struct dvae_config {
    int D;                          /* pixels per image */
    int n;                          /* latent units (= prior nodes) */
    int nhidden;                    /* hidden layers per network, 1..DVAE_MAX_HIDDEN */
    int hidden[DVAE_MAX_HIDDEN];    /* encoder widths, input side first; decoder mirrors them */
    enum nn_act act;
    enum dvae_relax relax;
    float tau;                      /* relaxation temperature (gumbolt, st) */
    float relax_beta;               /* mixture relaxations' β (0: relax.h's default) */
    int mf_sweeps;                  /* mean-field sweeps of the relaxed BM prior (0: 5) */
    enum dvae_kl kl;                /* BM prior term: GumBolt proxy at ζ, or analytic at q */
    enum dvae_prior prior;
    int bmax;                       /* largest batch the work buffers hold */
    int groups;                     /* hierarchical posterior: L latent groups, 1..DVAE_MAX_GROUPS */
    const int *group_of;            /* [n] group of each unit, 0..L-1, every group non-empty
                                     * (borrowed: read by dvae_new only; NULL: L contiguous blocks) */
    bool center;                    /* encoder sees x − mean(x); dvae_set_data_mean sets the mean
                                     * and the decoder's output bias logit(mean) */
    bool bn;                        /* batch norm before every hidden nonlinearity (DVAE#) */
    int h, w;                       /* image height and width (h·w = D; needed by convolutions) */
    int nconv;                      /* convolution layers before the encoder's dense ones; the
                                     * decoder ends in their mirror, transposed (1 group only) */
    struct dvae_conv_cfg { int ch, k, stride, pad; } conv[DVAE_MAX_CONV];
};
/* "32:4:2:1,64:4:2:1" (channels:kernel:stride:padding per layer) → conv[]; error "--conv: …". */
int dvae_parse_conv(const char *s, struct dvae_config *c);
/* Defaults: D 784, n 288, hidden 512,256, tanh, gumbolt, τ 0.5, Bernoulli, bmax 500, 1 group,
 * no centring. */
void dvae_config_default(struct dvae_config *c);
/* "512,256" → hidden[]; error "--hidden: …" on bad text. */
int dvae_parse_hidden(const char *s, struct dvae_config *c);

/* One network: a stack of dense layers (hidden layers with the model's activation, the last one
 * linear), the hidden ones optionally batch-normalised before the activation, with its work
 * buffers.  Row r of every buffer belongs to row r of a pass, so the data-parallel blocks of a
 * batch use disjoint rows of the same buffers. */
struct dvae_net {
    int nl;                               /* dense layers = nhidden + 1 */
    bool bn;                              /* hidden layers batch-normalised */
    struct nn_dense L[DVAE_MAX_HIDDEN + 1];
    struct nn_bn N[DVAE_MAX_HIDDEN + 1];  /* bn: dense layer i's normalisation (applies act) */
    size_t boff[DVAE_MAX_HIDDEN + 1];     /* bn: its offset in running / block statistics */
    float *a[DVAE_MAX_HIDDEN + 1];        /* bn: pre-normalisation outputs [bmax × L[i].out] */
    float *h[DVAE_MAX_HIDDEN + 1];        /* layer outputs [bmax × L[i].out] */
    /* convolutions: before the dense layers (encoder) or after them (decoder, transposed); every
     * conv layer but the network's last has the activation (and batch norm per channel) */
    int nconv;
    bool conv_last;
    struct nn_conv C[DVAE_MAX_CONV];
    struct nn_bn CN[DVAE_MAX_CONV];
    size_t cboff[DVAE_MAX_CONV];
    float *ca[DVAE_MAX_CONV], *ch[DVAE_MAX_CONV];   /* pre-bn and outputs [bmax × C[j].out] */
};

/* A block's scratch for one pass: batch-norm statistics (a training pass; NULL: the running
 * statistics, evaluation) and the convolutions' work buffer. */
struct dvae_scr { float *stats; float *work; };

/* Binds N's dense layers (widths w[0] → … → w[nl]) and, with conv (cfg.nconv layers; the
 * decoder's transposed, after the dense ones), its convolutions at params + *off (advanced),
 * batch-norm statistics at *boff (advanced); params NULL while planning.  -1 + error if the
 * convolutions do not fit the image. */
int dvae_net_bind(struct dvae_net *N, const struct dvae_config *c, const int *w, bool conv,
                  bool decoder, float *params, float *grads, size_t *off, size_t *boff);
/* Floats of convolution work a block of `rows` needs (0 without convolutions). */
size_t dvae_net_work(const struct dvae_net *N, int rows);
/* Widest row of any layer's input or output. */
int dvae_net_widest(const struct dvae_net *N);
void dvae_net_bind_running(struct dvae_net *N, float *run);   /* the model's running statistics */
void dvae_net_take(struct dvae_net *N, struct nn_arena *a, int rows);   /* work buffers */
void dvae_net_init(struct dvae_net *N, struct rng *r);
/* Calls seg(ctx, tensor, length, decay) for every parameter tensor (kernels decay by wd). */
void dvae_net_adam(const struct dvae_net *N, void (*seg)(void *ctx, const float *p, size_t len, float wd),
                   void *ctx, float wd);
bool dvae_net_owns(const struct dvae_net *N, const float *p);   /* p inside N's parameters */

/* The hierarchical posterior (model.md §2c): the n latents are cut into L groups; group g's
 * logits come from its own encoder network enc[g] whose input is the centred image x − mean(x)
 * [D] followed by the relaxed samples ζ of groups 0..g−1 in group order [n_<g]; so
 *   q(z|x) = Π_g Π_{i∈g} Bernoulli(σ(l_i(x, ζ_<g))),  log q = Σ_i z_i l_i − softplus(l_i)
 * with each unit's own logit.  L = 1 is the factorial posterior. */
struct dvae {
    struct dvae_config cfg;               /* cfg.group_of is NULL here: the partition is below */
    int ngroup;                           /* L */
    int *unit_group;                      /* [n] owned: group of each unit */
    int *gunits;                          /* [n] owned: the units group by group, index order within */
    int gstart[DVAE_MAX_GROUPS + 1];      /* group g is gunits[gstart[g] .. gstart[g+1]) */
    struct dvae_net enc[DVAE_MAX_GROUPS]; /* group g: [D + n_<g] → its logits [n_g] */
    struct dvae_net dec;                  /* ζ [n] → pixel logits [D] */
    float *xmean;                         /* [D] owned: the mean image the encoder subtracts (zeros
                                           * until dvae_set_data_mean; saved with the model) */
    size_t nbn;                           /* floats of batch-norm statistics (0 without bn) */
    float *bnrun;                         /* [nbn] owned: running means/variances (saved) */
    float *bnstat[DVAE_MAX_SHARDS];       /* [nbn] owned: block s's statistics of the last pass */
    struct relax rx;                      /* the mixture relaxation (relax_is_mixture) */
    float *dzdl;                          /* [bmax × n] mixture: ∂ζ/∂l of the sample */
    float *ubuf;                          /* [bmax × n] mixture: u = σ(−g); then ∂logp̃/∂ζ */
    float *mfm;                           /* [bmax × n] BM: mean-field marginals; Bernoulli:
                                           * ∂log p(ζ)/∂a per row */
    double *mfscr[DVAE_MAX_SHARDS];       /* owned: block s's mean-field scratch (BM, mixture) */
    size_t mfscr_len;                     /* doubles each (bm_mf_scratch_size of the last prior) */
    double *rowp;                         /* [bmax] per-row scratch: log p(ζ) (mixture) */
    size_t nwork;                         /* floats of convolution work per block */
    float *cwork[DVAE_MAX_SHARDS];        /* [nwork] block s's convolution work (in the arena) */
    float *prior_a, *g_prior_a;           /* Bernoulli prior logits [n] (NULL for a BM prior) */
    size_t nparams;                       /* floats in params (= in grads) */
    float *params, *grads;                /* one vector each, same layout */
    /* work buffers for up to bmax rows, besides the networks' layer outputs */
    float *zeta;                          /* [bmax × n] relaxed latents */
    float *dzeta, *dl;                    /* [bmax × n] gradients */
    float *lx;                            /* [bmax × n] every row's logits, in unit order */
    float *ein[DVAE_MAX_GROUPS];          /* encoder inputs: [bmax × D] centred images (g = 0),
                                           * [bmax × (D + n_<g)] image and earlier groups' ζ (g ≥ 1) */
    float *dacc;                          /* [bmax × n] ∂loss/∂ζ gathered while going back */
    float *dlg;                           /* [bmax × n] a group's logit gradients, gathered */
    float *g1, *g2;                       /* [bmax × widest] backward ping-pong */
    double *rowv, *rowk;                  /* [bmax] per-row scratch: reconstruction, prior term */
    int widest;                           /* widest layer or input (g1/g2 rows are this long) */
    struct nn_arena arena;
    /* Data parallelism (dvae_set_parallel).  Block s of a batch writes its gradients into
     * sgrad[s] (sgrad[0] = grads) and, for a BM prior, Σζ_i then Σζ_uζ_v into sbm[s] [n + ne];
     * all work buffers above are row-indexed, so block s simply uses its own rows of them. */
    int nshard, nthread;
    float *sgrad[DVAE_MAX_SHARDS];        /* owned for s ≥ 1, nparams floats each */
    double *sbm[DVAE_MAX_SHARDS];         /* owned, sbm_len doubles each */
    long sbm_len;
};

/* 0 if tau is a usable relaxation temperature, in (0, 10]; else -1 + error "--tau must be …". */
int dvae_tau_check(double tau);
/* New model with initialised weights (seeded); NULL + error on bad configuration. */
struct dvae *dvae_new(const struct dvae_config *cfg, uint64_t seed);
void dvae_free(struct dvae *m);
/* A new model with m's configuration and parameters and work buffers of its own (for evaluating
 * on several threads).  NULL + error if memory runs out. */
struct dvae *dvae_clone(const struct dvae *m);
/* Grow the work buffers to hold `rows` rows per pass (batch × importance samples), keeping the
 * parameters; nothing to do if they already do.  The capacity is saved with the model.  Error
 * (model unchanged) above DVAE_MAX_ROWS or when memory runs out.  Pointers into the old buffers
 * (params, layer outputs) are invalid afterwards. */
int dvae_reserve(struct dvae *m, int rows);
/* Check every parameter is finite: error "model: parameter LAYER[i] is NaN" otherwise. */
int dvae_check_finite(const struct dvae *m);
/* "784-512-256-288 tanh gumbolt τ=0.5 bernoulli" */
void dvae_describe(const struct dvae *m, char *buf, size_t n);

/* Logistic noise g = log u − log(1−u), u uniform strictly inside (0,1): n floats. */
void dvae_noise(struct rng *r, float *g, size_t n);
/* Noise planes a pass reads: 1 (logistic noise [rows × n]) or, for a mixture relaxation, 2 (then
 * uniforms ρ [rows × n] that pick ζ₀ follow the whole first plane). */
int dvae_noise_planes(const struct dvae *m);
/* Fills noise [planes × rows × n] for `rows` rows (the first plane exactly as dvae_noise). */
void dvae_noise_rows(const struct dvae *m, struct rng *r, float *noise, size_t rows);
/* Rows [row0, row0 + nrows) of such noise for `rows` rows in all (both planes), from r. */
void dvae_noise_part(const struct dvae *m, struct rng *r, float *noise, size_t rows, size_t row0,
                     size_t nrows);
bool dvae_mixture(const struct dvae *m);   /* the relaxation is power, exp or spike-exp */

/* Data-parallel training passes: dvae_batch_run cuts a batch into `shards` row blocks
 * (1..DVAE_MAX_SHARDS), runs them on up to `threads` threads — each block with single-threaded
 * sgemm, which at batch 100 scales better than OpenBLAS's own threading of small products — and
 * sums the blocks' gradients in block order.  The arithmetic depends on the shard count alone:
 * any thread count gives the same bits, and 1 shard is the plain serial pass.  Error on a bad
 * count (nothing changed). */
int dvae_set_parallel(struct dvae *m, int shards, int threads);

/* One forward (and optionally backward) pass over a batch. */
struct dvae_batch {
    int B;                     /* rows, ≤ cfg.bmax */
    const float *x;            /* [B × D] binary pixels */
    const float *noise;        /* [planes × B × n] noise (dvae_noise_rows) */
    double kl_weight;          /* β (KL warm-up) */
    bool grad;                 /* compute gradients into m->grads (overwritten) */
    bool discrete;             /* forward only: binary z = [l + g > 0] instead of ζ (the τ → 0
                                * limit), so elbo is the single-sample discrete ELBO that
                                * evaluation scores; the relaxed one can sit nats above it */
    const double *neg_mean;    /* BM, grad: ⟨z_i⟩ under the prior [n] */
    const double *neg_corr;    /* BM, grad: ⟨z_i z_j⟩ [ne] in edge order */
    double *g_b, *g_w;         /* BM, grad: out ∂loss/∂b [n], ∂loss/∂W [ne] (overwritten) */
    int iw;                    /* importance samples per image, K (0 or 1: the plain ELBO).  With
                                * K > 1, x holds B/K images and rows kK..kK+K−1 of noise (and of
                                * every output) are image k's samples; the objective per image is
                                * the importance-weighted bound log (1/K) Σ_k exp(rec_k − kl_k)
                                * (Burda et al.), with the prior term per sample: a BM's relaxed
                                * proxy (not --kl analytic: error), a Bernoulli prior's
                                * log q(ζ|x) − log p(ζ) (GumBolt's form) instead of its closed
                                * form.  The encoder runs once per image. */
    bool rws;                  /* grad, iw = K ≥ 2: reweighted wake-sleep (Bornschein & Bengio)
                                * on binary z = [l + g > 0]: the decoder and the prior follow
                                * the importance-weighted bound's gradient with the samples held
                                * (exact for discrete z: nothing is relaxed), the encoder
                                * maximises Σ_k w̃_k log q(z_k|x) — the inclusive KL to the
                                * posterior, the proposal eval ll wants — with no gradient
                                * through z */
    double *ex_elbo;           /* optional out [B]: per-row ELBO rec − kl (BM: without −log Z) */
    /* outputs: means over rows, and the objective per image */
    double rec;                /* E log p(x|ζ) */
    double kl;                 /* KL term (BM: log q(ζ|x) + E(ζ), i.e. without log Z) */
    double elbo;               /* rec − kl, or the IW bound's mean over images when iw > 1
                                * (β not applied: the true objective; BM: without −log Z) */
    bool grads_finite;         /* grad: every element of m->grads is finite (no NaN/Inf) */
};
/* The loss minimised is mean_b(−rec_b + β·kl_b) (+ β·log Z for a BM prior); with iw = K > 1,
 * −mean over images of log (1/K) Σ_k exp(rec_k − β·kl_k) (+ β·log Z).  bm must be NULL for a
 * Bernoulli model and match n for a BM model (checked: error). */
int dvae_batch_run(struct dvae *m, const struct bm *bm, struct dvae_batch *io);

/* A network's forward pass over rows [row0, row0 + rows) of its buffers: in [rows × L[0].in] →
 * returns the last layer's output rows.  sc: the block's scratch (sc->stats: training, each block
 * normalised by its own rows, ≥ 2; NULL: the running statistics, evaluation). */
const float *dvae_net_forward(const struct dvae_net *N, int row0, int rows, const float *in,
                              const struct dvae_scr *sc);
/* Its backward pass: dy [rows × out] holds ∂loss/∂output (overwritten); weight gradients go into
 * the gradient vector g (layout of m->grads); the layers ping-pong between the scratch buffers s1
 * and s2 ([rows × widest] each, dy may be one of them).  Returns ∂loss/∂in [rows × L[0].in] (in
 * s1 or s2) when want_dx, else NULL.  sc as the forward pass had it. */
float *dvae_net_backward(const struct dvae_net *N, const struct dvae *m, float *g, int row0,
                         int rows, const float *in, float *dy, float *s1, float *s2, bool want_dx,
                         const struct dvae_scr *sc);

/* Encoder only: q [B × n] = σ(logits) (B ≤ bmax).  With several groups, a later group's input is
 * the earlier groups' q (the posterior's mean path; exact for one group).  Returns the internal
 * logits [B × n]. */
const float *dvae_encode(struct dvae *m, int B, const float *x, float *q);

/* The posterior's forward pass over rows [r0, r0 + nb) (K rows per image; images x [nb/K × D]):
 * every row's logits into m->lx and its relaxed sample into zeta [nb × n] (row r0 first): with
 * dnoise NULL, ζ = σ((l + noise)/τ) or, hard, z = [l + noise > 0] from float logistic noise
 * [nb × n] — or, with rho (uniforms [nb × n]) for a mixture relaxation, ζ from the mixture with
 * u = σ(−noise) and its ∂ζ/∂l in m->dzdl; with dnoise (double logistic noise [nb × n]),
 * z = [l + dnoise > 0] in double.  Group
 * 0's encoder runs once per image, later groups once per row.  sc: the block's scratch. */
void dvae_post_forward(struct dvae *m, int r0, int nb, int K, const float *x, const float *noise,
                       const float *rho, const double *dnoise, bool hard, float *zeta,
                       const struct dvae_scr *sc);
/* Its backward pass.  dz [nb × n] holds ∂loss/∂ζ from the decoder and the prior term
 * (overwritten), dl [nb × n] the explicit ∂loss/∂l (updated in place to the total); ζ, noise and
 * hard as the forward pass had them (x: the block's images [nb/K × D]) (the chain ζ → l uses the relaxed ζ, recomputed from the
 * noise when the forward pass was hard: straight-through).  dz NULL: nothing flows through ζ —
 * dl alone reaches the encoders (score-function updates, io->rws).  Weight gradients go into g (layout of
 * m->grads); s1, s2 are scratch [nb × widest]; dz, dl, s1, s2 must not overlap. */
void dvae_post_backward(struct dvae *m, float *g, int r0, int nb, int K, const float *x,
                        const float *noise, bool hard, const float *zeta, float *dz, float *dl,
                        float *s1, float *s2, const struct dvae_scr *sc);
/* K samples z ~ q(z|x) for one image x [D] (K ≤ bmax), drawn in double from rng r:
 * z [K × n] (0/1) and log q(z|x) [K] in double. */
void dvae_post_sample(struct dvae *m, const float *x, int K, struct rng *r, float *z, double *lq);
/* The mean image (mean [D], the training split's mean pixel values) for a centring model: the
 * encoder subtracts it, and the decoder's output bias starts at logit(mean) (clamped to ±9; call
 * it on a new model).  A model without cfg.center ignores it (0). */
void dvae_set_data_mean(struct dvae *m, const float *mean);
/* Decoder only: pixel logits for latents z [B × n] (0/1 or relaxed); returns the internal buffer
 * [B × D], valid until the next call. */
const float *dvae_decode(struct dvae *m, int B, const float *z);
/* Decoder means σ(logits) into out [B × D] (generation). */
void dvae_decode_means(struct dvae *m, int B, const float *z, float *out);

/* log p(z) of binary states under the prior without log Z: Bernoulli Σ z a − softplus(a) (exact,
 * normalised), BM −E(z).  z [B × n] as floats. out [B]. */
void dvae_prior_logp(const struct dvae *m, const struct bm *bm, int B, const float *z, double *out);

/* Adam step over the network (and Bernoulli prior) parameters: weight decay on kernels only;
 * runs on the model's threads (dvae_set_parallel), same result for any count. */
void dvae_adam_step(struct dvae *m, struct nn_adam *o, double lr, float wd);

#endif
