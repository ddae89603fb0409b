/* par.h — the process layer: one qvae process, or one rank of an Open MPI job.
 *
 * The plain binary never touches MPI: par_init() calls MPI_Init_thread only when the process was
 * started by mpirun/mpiexec (Open MPI's launcher exports OMPI_COMM_WORLD_SIZE; PMIx launchers
 * export PMIX_RANK), so `qvae` on a laptop starts as fast as before and needs no launcher.
 * Inside a job every rank runs the same commands; MPI is called only from the main thread
 * (MPI_THREAD_FUNNELED), the worker threads of a rank (qv_parallel) never call it.
 *
 * Ownership: the layer's state is process-global (MPI's is too); par_init once at start,
 * par_finalize once at exit.  Functions return 0 or -1 with a message in err (≥ 160 bytes). */
#ifndef QV_PAR_H
#define QV_PAR_H

#include <stdbool.h>
#include <stddef.h>

/* Starts MPI if launched by mpirun (argc/argv as main's).  0, or -1 with err set. */
int par_init(int *argc, char ***argv, char *err, size_t errn);
void par_finalize(void);

bool par_active(void);   /* true inside an MPI job (even of one rank) */
int par_rank(void);      /* 0 outside a job */
int par_size(void);      /* 1 outside a job */
static inline bool par_root(void) { return par_rank() == 0; }

/* Collectives.  Every rank must call them in the same order (all ranks run the same commands
 * in lockstep); outside a job they are the one-process answers.  A failed collective (a peer
 * gone) returns -1 with err set. */

/* Agreement after a step that can fail on one rank only: -1 when every rank passed ok, else the
 * lowest rank whose ok was false (so every rank takes the same branch). */
int par_agree(bool ok);
/* A function par_agree calls on every rank with the outcome (the lowest failing rank, or -1):
 * the front end shows, or drops, the error lines a rank held back (ui/main.c).  NULL: none. */
void par_set_agree_hook(void (*hook)(int low));
/* true on every rank if flag is true on any (a cancel seen by one rank stops all at one step). */
bool par_any(bool flag);
/* Rank 0's *v on every rank (its clock, when a decision depends on time). */
void par_bcast_double(double *v);
/* All-gather of byte ranges: buf [Σ counts] holds rank r's part at displs[r] (counts[r] bytes);
 * on return every rank's buf holds every part.  Counts above INT_MAX are refused.  0 or -1. */
int par_allgather_bytes(void *buf, const size_t *counts, const size_t *displs, char *err, size_t errn);
/* Rank r's share [*lo, *hi) of n items cut in rank order (the same cut as threads use). */
void par_share(long n, long *lo, long *hi);

/* Ends every rank of the job with status code (MPI_Abort); outside a job, exit(code). */
_Noreturn void par_abort(int code);

#endif
