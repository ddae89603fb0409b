/* samp_kernel.h — the shared Monte Carlo engine of the classical samplers (gibbs, sa, pt, pa,
 * ais): a Boltzmann machine flattened for speed, blocks of SK_W chains updated together in
 * float lanes (one chain per lane, one SIMD vector: the kernels are kern_isa.c, chosen per CPU
 * at run time, bit-identical on every path), a per-lane xoshiro128+ random stream, and a small
 * parallel-for over blocks.
 *
 * Layout of a block of SK_W chains ("lanes"): z[i*SK_W + l] ∈ {0.0f, 1.0f} is unit i of lane l
 * (binary convention of bm.h), rs[r*SK_W + l] (r = 0..3) is lane l's 128-bit RNG state.
 * Every lane is seeded from its own identity (rng_init(seed, stream)), never from its position,
 * so results do not depend on how lanes are grouped into blocks or blocks into threads.
 *
 * A sweep visits the colour classes of a proper colouring in turn; units of one class are
 * conditionally independent, so updating them one after another equals block Gibbs.  Private
 * to the sampler modules (src/samp_*.c, src/sampler.c). */
#ifndef QV_SAMP_KERNEL_H
#define QV_SAMP_KERNEL_H
#include "sampler.h"
#include "rng.h"
#include "simd.h"

#include <stdio.h>

#define SK_W SIMD_W   /* lanes per block: one AVX-512 register of floats, two AVX2 ones */

/* The model as the kernel sees it.  Parameters are float (relative rounding 6e-8). */
struct sk_model {
    int n;
    long ne;
    int ncolors;
    int *order;        /* [n] units grouped by colour class, ascending inside a class */
    int *cstart;       /* [ncolors+1] class c = order[cstart[c] .. cstart[c+1]) */
    long *adj_start;   /* [n+1] CSR */
    int *adj;          /* [2 ne] neighbour */
    float *wadj;       /* [2 ne] W of that adjacency */
    float *b;          /* [n] */
    double *bd, *wd;   /* [n], [2 ne]: the same parameters in double, for exact energies */
    float fmax;        /* max_i |b_i| + Σ_j |W_ij|: the largest |field| at β = 1 (struct sk_fac) */
    const struct simd_kernels *kern;   /* the SIMD path in use when the model was built */
};
/* Build from bm (checks finiteness; uses the graph's colouring when proper, else a greedy one;
 * fails if QVAE_ISA names a SIMD path this CPU cannot run). */
int  sk_model_init(struct sk_model *m, const struct bm *bm);
/* Refresh b / W only (same graph): cheap, for PCD where parameters move every call. */
void sk_model_update(struct sk_model *m, const struct bm *bm);
void sk_model_free(struct sk_model *m);

/* Seed one lane of a block: RNG from rng_init(seed, stream); when z != NULL also a uniform
 * random initial state (the exact β = 0 distribution). */
void sk_lane_seed(const struct sk_model *m, float *z, uint32_t *rs, int lane,
                  uint64_t seed, uint64_t stream, bool init_z);

enum sk_rule { SK_HEATBATH = 0, SK_METROPOLIS = 1 };
/* The Boltzmann factors of a model at one inverse temperature β ≥ 0: f[k] = e^{−β W} of adjacency
 * k (m->adj's order), then f[2 ne + i] = e^{−β b_i}.  Given to sk_sweep when every lane runs at
 * that β, they let the kernel form e^{−x} as a product of the factors selected by the neighbours'
 * states instead of summing the field and taking its exp, which sat on each update's critical path
 * (kern_isa.c: 2× on a Zen 3 EPYC).  ok is false for β < 0 or when a product could leave float's
 * normal range (β·fmax > SK_FAC_MAX): sk_sweep then takes the exp path.  Stale once the model's
 * parameters change: set again after sk_model_update. */
#define SK_FAC_MAX 80.0f
struct sk_fac {
    float beta;
    bool ok;
    float *f;   /* [2 ne + n], owned */
};
void sk_fac_init(struct sk_fac *F, const struct sk_model *m);
/* Compute the factors of m at beta; returns F->ok. */
bool sk_fac_set(struct sk_fac *F, const struct sk_model *m, float beta);
void sk_fac_free(struct sk_fac *F);
/* nsweeps full sweeps of one block at per-lane inverse temperatures beta[SK_W].  fac may be
 * NULL; it is used when fac->ok and every beta[l] == fac->beta. */
void sk_sweep(const struct sk_model *m, const struct sk_fac *fac, float *restrict z,
              uint32_t *restrict rs, const float *restrict beta, enum sk_rule rule, int nsweeps);
/* nsteps steps of one block, step s at facs[s].beta for nsweeps sweeps (sa's β schedule): the
 * same samples as sk_sweep step by step, but the lanes' states stay in the kernel's bit form
 * from one step to the next. */
void sk_sweep_steps(const struct sk_model *m, const struct sk_fac *facs, long nsteps,
                    float *restrict z, uint32_t *restrict rs, enum sk_rule rule, int nsweeps);
/* A block's states as lane bits zs [n] (bit l of zs[i] = unit i of lane l) and back. */
void sk_bits_from_lines(const struct sk_model *m, const float *z, uint16_t *zs);
void sk_lines_from_bits(const struct sk_model *m, const uint16_t *zs, float *z);
/* sk_sweep_steps on a block kept as lane bits between calls; every facs[s].ok must hold. */
void sk_sweep_bits(const struct sk_model *m, const struct sk_fac *facs, long nsteps, uint16_t *zs,
                   uint32_t *restrict rs, enum sk_rule rule, int nsweeps);
/* Energies E(z) (bm.h binary convention, double parameters and sums, so they agree with
 * bm_energy to rounding) of the SK_W lanes of a block: e[SK_W]. */
void sk_energy(const struct sk_model *m, const float *restrict z, double *restrict e);
/* Copy lane `l` of a block into a uint8 state [n], and back. */
void sk_get_lane(const struct sk_model *m, const float *z, int l, uint8_t *out);
/* Copy lane ls of block zs into lane ld of block zd. */
void sk_copy_lane(int n, const float *zs, int ls, float *zd, int ld);

/* Number of threads to use for njobs independent jobs of `work` unit updates each. */
int  sk_threads(int requested, long njobs, double work_per_job);

/* Default β range of D-Wave's SimulatedAnnealingSampler for the Ising form of bm
 * (annealing.md §5.1): hot = ln2 / (2 max_v Σ|h,J|), cold = ln(N/0.01) / (2 g_min). */
void sk_default_beta_range(const struct bm *bm, double *hot, double *cold);
void sk_default_beta_range_ising(int n, long ne, const int (*edges)[2], const double *h,
                                 const double *J, double *hot, double *cold);

/* Small helpers shared by the samplers. */
bool sk_cancelled(const struct sample_ctx *ctx);
int  sk_parse_long(const char *who, const char *key, const char *val, long lo, long hi, long *out);
int  sk_parse_double(const char *who, const char *key, const char *val, double lo, double hi,
                     double *out);
double sk_logsumexp(const double *x, long n);

/* Population annealing (resample = true) or annealed importance sampling (false) from β = 0
 * (uniform, exact) to β along a linear β grid of `steps` steps; samp_pa.c.  K independent runs
 * of R members each, every run split over the ranks of an MPI job (samp_pa.h): this rank holds
 * members [lo, lo+nl) of each run as local members k·nl .. k·nl+nl−1.  PA resamples each run
 * systematically over the whole job at every step and rebalances; AIS carries log-weights.
 * After pa_engine_run the final states stay bit-packed in zb, with energies e and logw. */
struct pa_engine {
    /* inputs */
    double beta;
    long R, K, steps, sweeps;
    bool resample;
    uint64_t seed, stream;   /* lane g uses stream + g */
    int threads;
    atomic_int *cancel;
    void (*progress)(void *ud, double done, double total);
    void *ud;
    /* outputs */
    double logz, err;        /* combined estimate and one-sigma error */
    double ess;              /* PA: mean effective number of families R/ρ_t; AIS: weight ESS */
    double fam_entropy;      /* PA: mean e^{S_f} per run */
    long families;           /* PA: surviving families over all runs */
    double *lnz_run;         /* [K] */
    double moved;            /* PA: members sent between ranks per step, whole job */
    /* state */
    struct sk_model m;
    long T, nb;              /* members K·R of the whole job; local blocks of SK_W lanes */
    long lo, nl, L;          /* this rank's share of each run; local members K·nl */
    int W, ranks, rank;      /* 64-bit words of a packed state (exchanges); the job's ranks, ours */
    uint16_t *zb;            /* [nb × n] states: bit l of zb[b·n + i] = unit i of lane b·SK_W + l */
    uint32_t *rs;            /* [nb × 4 × SK_W] lane RNG states (block layout above) */
    double *e, *logw;        /* [nb·SK_W] energies; AIS: [L] log-weights (NULL for PA) */
    int *fam;                /* [nb·SK_W] family: the member's index in its run at β = 0 */
};
/* Collective over the ranks of a job (every rank calls it with the same inputs). */
int  pa_engine_run(struct pa_engine *P, const struct bm *bm);
void pa_engine_free(struct pa_engine *P);
/* The pa and ais sampler objects (one implementation, resample on/off). */
void *samp_pop_create(uint64_t seed, bool resample);
void *samp_pop_clone(const void *impl, uint64_t seed);   /* options, not runs */
int  samp_pop_set(void *impl, const char *key, const char *val);
void samp_pop_describe(void *impl, char *buf, size_t n);
int  samp_pop_sample(void *impl, const struct bm *bm, double beta, long count,
                     const struct sample_ctx *ctx, struct samples *out);
void samp_pop_reset(void *impl);
void samp_pop_destroy(void *impl);
int samp_pa_logz(const struct bm *bm, double beta, const struct logz_opts *o,
                 struct logz_result *r, bool resample);

#endif
