/* bm.h — Boltzmann machines on a graph.
 * CONTRACT shared by the samplers, training, evaluation, the annealer and the QPU modules.
 *
 * Binary convention (primary, what training updates):  z ∈ {0,1}^n,
 *     E(z) = −Σ_i b_i z_i − Σ_(i,j)∈edges W_ij z_i z_j,     p_β(z) = exp(−β E(z)) / Z(β).
 * Ising (spin) convention (what samplers and QPUs see), s = 2z − 1 ∈ {−1,+1}^n, D-Wave's sign:
 *     E_s(s) = Σ_i h_i s_i + Σ_(i,j) J_ij s_i s_j,   with  E(z) = E_s(s) + offset,
 *     J_ij = −W_ij/4,   h_i = −b_i/2 − Σ_j W_ij/4,   offset = −Σ b_i/2 − Σ W_ij/4.
 * Sample states are stored as uint8_t z values (0/1), row-major [count × n]. */
#ifndef QV_BM_H
#define QV_BM_H
#include "graph.h"

struct bm {
    struct graph *g;   /* owned */
    int n;             /* = g->nv */
    long ne;           /* = g->ne */
    double *b;         /* [n]  biases */
    double *w;         /* [ne] couplings, in g->edges order */
};

struct bm *bm_new(struct graph *g);           /* takes ownership of g; parameters zero */
struct bm *bm_clone(const struct bm *bm);
void bm_free(struct bm *bm);
/* NaN/Inf check: error naming the parameter. */
int bm_check_finite(const struct bm *bm);

void bm_to_ising(const struct bm *bm, double *h, double *J, double *offset);   /* h[n], J[ne] */
void bm_from_ising(struct bm *bm, const double *h, const double *J);

double bm_energy(const struct bm *bm, const uint8_t *z);                 /* one state */
void   bm_energy_batch(const struct bm *bm, const uint8_t *z, long count, double *e);
/* Continuous states (relaxed ζ ∈ [0,1]^n, row stride n): energies [count]. */
void   bm_energy_f(const struct bm *bm, const float *z, long count, double *e);
/* Sufficient statistics averaged over a batch: mean[n] = ⟨z_i⟩, corr[ne] = ⟨z_i z_j⟩. */
void   bm_stats(const struct bm *bm, const uint8_t *z, long count, double *mean, double *corr);
void   bm_stats_f(const struct bm *bm, const float *z, long count, double *mean, double *corr);
/* The same weighted by exp(logw[c]) (PA/AIS samples; NULL: uniform, = bm_stats). */
void   bm_stats_weighted(const struct bm *bm, const uint8_t *z, const double *logw, long count,
                         double *mean, double *corr);

/* Exact enumeration (n ≤ BM_EXACT_MAX). logZ at β; probabilities p[2^n] indexed by the state
 * with bit i = z_i; marginals. */
#define BM_EXACT_MAX 28
int bm_logz_exact(const struct bm *bm, double beta, double *logz);
int bm_probs_exact(const struct bm *bm, double beta, double *p /* [1<<n] */);
int bm_marginals_exact(const struct bm *bm, double beta, double *mean, double *corr);

/* --- added by the bm module --- */
struct rng;
/* Exact i.i.d. samples by enumeration (n <= BM_EXACT_MAX, memory O(count), not O(2^n)):
 * z_out [count × n] 0/1.  Deterministic in the rng state, independent of the thread count. */
int bm_sample_exact(const struct bm *bm, double beta, long count, struct rng *r, uint8_t *z_out);
/* Units bm_logz_exact / bm_marginals_exact / bm_sample_exact actually enumerate: n minus a
 * maximal independent set that is summed out analytically (about n/2 on Chimera, ~3n/4 on
 * Pegasus/Zephyr).  Those three accept any n for which this is <= BM_EXACT_MAX (e.g. a 48-unit
 * Chimera cut); bm_probs_exact needs n <= BM_EXACT_MAX itself. */
int bm_exact_enum_units(const struct bm *bm);
/* Threads used by the exact enumerations (0 = all online cores, capped at 8). */
void bm_set_exact_threads(int threads);
/* Random Ising parameters h_i, J_ij ~ U(−scale, scale), stored in the binary convention.
 * Deterministic in seed. */
int bm_random(struct bm *bm, double scale, uint64_t seed);
/* Ranges of the parameters in both conventions (min/max of b, W, h, J). */
struct bm_ranges { double bmin, bmax, wmin, wmax, hmin, hmax, jmin, jmax, offset; };
void bm_ranges(const struct bm *bm, struct bm_ranges *r);
/* Binary form for sessions: graph (graph_serialize) followed by b and W.  *out malloc'ed. */
int bm_serialize(const struct bm *bm, unsigned char **out, size_t *len);
struct bm *bm_deserialize(const unsigned char *buf, size_t len);
/* Text form, one parameter a line with hardware labels: "h LABEL VALUE", "J LABEL LABEL VALUE"
 * (Ising, D-Wave's sign) or "b …", "W …" (binary); '#' comments.  bm_format_text writes every
 * parameter (malloc'ed text); bm_parse_text replaces all parameters of bm (unlisted ones 0) —
 * labels must be in the graph, couplers must exist; on error bm is unchanged. */
int bm_format_text(const struct bm *bm, bool binary, char **out, size_t *len);
int bm_parse_text(struct bm *bm, const char *path);

#endif
