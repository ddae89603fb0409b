/* sapi_codec.h — the wire encodings of D-Wave's Solver API (shared docs qpu-protocol.md §1.5,
 * §1.8): base64, the "qp" problem format (little-endian doubles, NaN for inactive qubits,
 * couplers in the solver's order), bit-packed answers (MSB first), and zlib/deflate bodies.
 * Used by the client (sapi.c), the emulator (emu.c) and the qpu sampler.  No I/O here.
 *
 * Index spaces: a solver has nq working qubits (solver_props.qubits, ascending hardware labels
 * < num_qubits) and nc couplers (solver_props.couplers, in the server's order).  "lin" arrays are
 * indexed by position in qubits[] (wire order); "quad" values by coupler position. */
#ifndef QV_SAPI_CODEC_H
#define QV_SAPI_CODEC_H
#include "qv.h"

/* ---- base64 (standard alphabet, '=' padding; the decoder skips whitespace) ---- */
/* malloc'ed NUL-terminated text ("" for n == 0). */
char *sapi_b64_encode(const void *data, size_t n);
/* *out malloc'ed (n bytes, plus a NUL); error "base64: invalid character at offset N". */
int sapi_b64_decode(const char *text, unsigned char **out, size_t *n);

/* ---- compression ---- */
/* zlib stream (RFC 1950, the "Content-Encoding: deflate" SAPI clients send). */
int sapi_deflate(const void *in, size_t n, unsigned char **out, size_t *outn);
/* Inflate zlib, gzip or raw deflate (detected); refuses output above limit bytes. */
int sapi_inflate(const void *in, size_t n, size_t limit, unsigned char **out, size_t *outn);

/* ---- qp problem format ---- */
/* Encode.  lin[nq]: bias per working qubit in wire order, NaN = inactive.  quad[nc]: coupling per
 * solver coupler (both directions already summed); only couplers whose two endpoints are active
 * are emitted.  qubit_pos maps a hardware label to its wire position (-1 = not working), size
 * num_qubits.  Returns malloc'ed base64 texts.  Error if an active coupler value is not finite or
 * a non-zero coupling sits on a coupler with an inactive endpoint. */
int sapi_qp_encode(int nq, const double *lin, long nc, const int (*couplers)[2],
                   const int *qubit_pos, const double *quad, char **lin_b64, char **quad_b64);
/* Decode (server side, the mirror of the above): lin must hold exactly nq doubles; quad one
 * double per coupler whose endpoints are both active.  Outputs malloc'ed lin[nq] (NaN inactive)
 * and quad[nc] (0 for couplers not carried). */
int sapi_qp_decode(const char *lin_b64, const char *quad_b64, int nq, long nc,
                   const int (*couplers)[2], const int *qubit_pos, double **lin, double **quad);

/* ---- answers ---- */
struct sapi_timing {   /* µs; NAN when the server did not send the field */
    double qpu_sampling_time, qpu_anneal_time_per_sample, qpu_readout_time_per_sample;
    double qpu_access_time, qpu_access_overhead_time, qpu_programming_time;
    double qpu_delay_time_per_sample, total_post_processing_time, post_processing_overhead_time;
    double total_real_time;
};
void sapi_timing_init(struct sapi_timing *t);   /* all NAN */

struct sapi_answer {
    bool qubo;                /* values 0/1 (else ±1) */
    int num_variables;        /* solver num_qubits */
    int nact;                 /* active variables */
    int *active;              /* [nact] ascending hardware labels */
    long nsol;                /* returned samples R */
    int8_t *sol;              /* [nsol × nact] values: ±1 (ising) or 0/1 (qubo) */
    double *energies;         /* [nsol] as sent (plus the answer's offset if any) */
    int *occ;                 /* [nsol] occurrences (all 1 when absent) */
    long total_reads;         /* Σ occ */
    struct sapi_timing timing;
};
void sapi_answer_init(struct sapi_answer *a);
void sapi_answer_free(struct sapi_answer *a);
/* Decode an answer object ({"format":"qp", …}).  strict: solutions must be exactly R blocks
 * (else ≥ R blocks are accepted, as Ocean does).  Errors name the field ("answer: energies:
 * invalid base64 …", "answer: solutions: truncated: 12 bytes for 8 samples of 100 variables"). */
struct cJSON;
int sapi_answer_decode(const struct cJSON *answer, bool qubo, bool strict, struct sapi_answer *a);

/* Encode an answer (emulator): bits[nsol × nact] 0/1 (1 = +1 spin or qubo 1), energies, occ
 * (NULL = omit num_occurrences).  Adds the base64 fields and num_variables/format to obj. */
int sapi_answer_encode(struct cJSON *obj, int num_variables, int nact, const int *active,
                       long nsol, const uint8_t *bits, const double *energies, const int *occ);
/* Pack bits MSB first, each sample padded to whole bytes: out[nsol × ceil(nact/8)]. */
void sapi_pack_bits(int nact, long nsol, const uint8_t *bits, unsigned char *out);

#endif
