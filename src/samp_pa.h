/* samp_pa.h — private to samp_pa*.c (and its unit test): the process layer of population
 * annealing across the ranks of an MPI job (samp_pa_mpi.c) and the engine's sample gather.
 *
 * Every run of R members is split over the ranks by a fixed partition (pa_split): rank r holds
 * members [lo_r, lo_r + n_r) of each run, n_r = ⌊R/size⌋ or one more.  After each resampling a
 * rank holds some number of children ("have"); pa_plan says how many surplus children each rank
 * sends to each rank short of its share ("want") so that every rank holds n_r again.
 *
 * The collectives below are the identity on one process outside a job (par_active() false) and
 * on any thread but the one that may call MPI (there a call runs on its rank alone), so the
 * engine runs one code path and `mpirun -np 1` equals the plain binary bit for bit.  Every rank
 * calls them in the same order (collective); they return 0, or -1 with an error set. */
#ifndef QV_SAMP_PA_H
#define QV_SAMP_PA_H
#include "samp_kernel.h"

#include <stddef.h>

/* This rank's share of R members: [*lo, *lo + *n). */
void pa_split(long R, int size, int rank, long *lo, long *n);
/* The rank holding member i (0 ≤ i < R) of a run under pa_split. */
int  pa_owner(long R, int size, long i);

/* The rebalancing plan of one run (pure arithmetic, no communication).  have[size] children per
 * rank after resampling, want[size] the shares, Σ have = Σ want.  Surplus children (have − want
 * > 0) in global order (by rank, then local order) fill deficit slots in global order; rank me
 * sends send[r] of its surplus to rank r and receives recv[r] from rank r (both [size]).
 * -1 with an error when the sums differ or a count is negative. */
int  pa_plan(int size, const long *have, const long *want, int me, long *send, long *recv);

/* Systematic resampling on the global cumulative weight (samp_pa.c): the number of points
 * (u + j)·step, 0 ≤ j < R, below x; and the children of nl members with weights w whose stretch
 * starts at pfx, given this rank's points [j0, j1) (its last member takes rounding leftovers). */
long pa_points_below(double x, double u, double step, long R);
void pa_count_children(const double *w, long nl, double pfx, long j0, long j1, double u,
                       double step, long *cnt);

int  pa_ranks(void);   /* par_size() on the MPI thread of a job, else 1 */
int  pa_rank(void);    /* par_rank() there, else 0 */
/* Agree on failure: rc (0 or -1) of this rank → -1 on every rank if any rank failed, with the
 * message of the lowest failing rank ("rank 2: …" on the others); else 0. */
int  pa_agree(int rc);
int  pa_min(double *x, int n);                 /* in place, element-wise over the ranks */
int  pa_max(double *x, int n);
int  pa_sum_int(int *x, long n);               /* in place, exact */
/* all[r·n + j] ← mine[j] of rank r (all: [size × n]). */
int  pa_gather_d(const double *mine, int n, double *all);
int  pa_gather_l(const long *mine, int n, long *all);
/* Records of rec bytes: rank r receives scnt[r] records from this rank (sbuf grouped by
 * destination rank, ascending) into rbuf grouped by source rank (rcnt[r] from rank r). */
int  pa_exchange(const void *sbuf, const long *scnt, void *rbuf, const long *rcnt, size_t rec);
/* Every rank gets every rank's records: rbuf = rank 0's rcnt[0] records, then rank 1's, … */
int  pa_gather_rec(const void *sbuf, void *rbuf, const long *rcnt, size_t rec);

/* Local member l's state as P->W 64-bit words: unit i = bit i%64 of word i/64 (samp_pa.c). */
void pa_member_get(const struct pa_engine *P, long l, uint64_t *w);
/* The engine's final states of `count` samples in the order samp_pop_sample interleaves runs,
 * gathered on every rank: out->z, energy, logw (allocated by samples_alloc).  Collective. */
int  pa_engine_gather(const struct pa_engine *P, long count, struct samples *out);

#endif
