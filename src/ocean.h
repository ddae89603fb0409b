/* ocean.h — interchange with D-Wave's Ocean tools (dimod): binary quadratic models as COO text
 * (dimod.serialization.coo) and as the serialisable JSON of BinaryQuadraticModel.to_serializable()
 * (bqm_schema 3.0.0), and sample sets as the JSON of SampleSet.to_serializable()
 * (sampleset_schema 3.2.0, samples unpacked).  README "Ocean interchange" has the formats with a
 * worked example.
 *
 * Energy conventions (bm.h): qvae's prior has E(z) = −Σ b_i z_i − Σ W_ij z_i z_j and p ∝ e^{−E}.
 * dimod's BQM has E(v) = Σ a_i v_i + Σ q_ij v_i v_j + offset, lower is likelier, v ∈ {0,1}
 * (BINARY) or {−1,+1} (SPIN).  So
 *     BINARY: a_i = −b_i, q_ij = −W_ij, offset 0     (exact: sign flips only; −0 becomes +0)
 *     SPIN:   a_i = h_i, q_ij = J_ij, offset = bm_to_ising's offset   (s = 2z − 1)
 * and in both the BQM's energy of a state equals E(z) exactly as qvae computes it.  Reading, the
 * offset is dropped (it shifts every energy alike, so p(z) does not change); SPIN goes through
 * bm_from_ising.  Labels are qvae's hardware labels (non-negative integers), so a BQM exported
 * from a Chimera prior is already in the QPU's qubit numbering.
 *
 * Library code: nothing prints; errors are one line naming the file (`what`) and the place. */
#ifndef QV_OCEAN_H
#define QV_OCEAN_H

#include "bm.h"

enum ocean_vartype { OCEAN_SPIN, OCEAN_BINARY };
enum ocean_format { OCEAN_TEXT, OCEAN_COO, OCEAN_BQM_JSON };

/* "text" | "coo" | "bqm-json"; "spin" | "binary" (any case).  -1 with an error naming what. */
int ocean_format_parse(const char *s, enum ocean_format *out);
int ocean_vartype_parse(const char *s, enum ocean_vartype *out);
const char *ocean_vartype_name(enum ocean_vartype v);   /* "SPIN", "BINARY" */

/* A BQM with integer labels, as read from a file or made from a prior.  Owns its arrays. */
struct ocean_bqm {
    enum ocean_vartype vt;
    int nv;
    long *label;          /* [nv] distinct, ≥ 0 */
    double *linear;       /* [nv] a_i */
    long nq;
    int (*pair)[2];       /* [nq] indices into label, pair[k][0] != pair[k][1] */
    double *quad;         /* [nq] q_ij (duplicates of a pair are summed when applied) */
    double offset;
};
void ocean_bqm_free(struct ocean_bqm *q);   /* frees the arrays; q itself is the caller's */

/* The prior as a BQM of vartype vt (conventions above); nodes in the graph's compact order. */
int ocean_bqm_from_bm(const struct bm *bm, enum ocean_vartype vt, struct ocean_bqm *out);
/* Set bm's parameters from q (every unit and coupler named must be in bm's graph; unnamed ones
 * become 0).  On error bm is unchanged. */
int ocean_bqm_to_bm(const struct ocean_bqm *q, struct bm *bm, const char *what);
/* A new prior on q's own graph (an edge list over q's labels and interacting pairs). */
struct bm *ocean_bqm_new_bm(const struct ocean_bqm *q, const char *what);

/* COO text: "# vartype=NAME" then one "i j bias" line per linear term (i i) and interaction
 * (i < j), sorted by (i, j); biases in fixed-point decimals (no exponent, which dimod's reader
 * does not take), the shortest that read back to the same double.  *out malloc'ed. */
int ocean_coo_format(const struct ocean_bqm *q, char **out, size_t *len);
/* Parse COO text (NUL-terminated).  vt_given: the vartype when the text has no header (NULL:
 * the header is required); a header that disagrees with it is an error. */
int ocean_coo_parse(const char *text, const char *what, const enum ocean_vartype *vt_given,
                    struct ocean_bqm *out);
/* BinaryQuadraticModel.to_serializable() JSON (use_bytes false).  *out malloc'ed. */
int ocean_bqm_json_format(const struct ocean_bqm *q, char **out, size_t *len);
int ocean_bqm_json_parse(const char *text, size_t len, const char *what, struct ocean_bqm *out);

/* SampleSet.to_serializable() JSON of count states z [count × n] (0/1) over the units with
 * labels [n]: samples as vt values, energy [count], num_occurrences 1 per row, and log_weight
 * [count] when logw is not NULL (PA/AIS weights).  *out malloc'ed. */
int ocean_sampleset_format(const long *labels, int n, const uint8_t *z, long count,
                           const double *energy, const double *logw, enum ocean_vartype vt,
                           char **out, size_t *len);

#endif
