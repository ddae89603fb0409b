/* samp_pa_mpi.c — the process layer of distributed population annealing (see samp_pa.h): the
 * split of each run over the ranks, the rebalancing plan, and the few collectives the engine
 * calls.  Outside an MPI job every collective copies its input (one rank), so the engine has a
 * single code path.  MPI is called from the calling (main) thread only (par.h). */
#include "samp_pa.h"
#include "par.h"
#include "qv.h"
#include "sampler.h"

#include <limits.h>
#include <mpi.h>
#include <string.h>

void pa_split(long R, int size, int rank, long *lo, long *n)
{
    long q = R / size, rem = R % size;
    *lo = q * rank + QV_MIN((long)rank, rem);
    *n = q + (rank < rem);
}

int pa_owner(long R, int size, long i)
{
    long q = R / size, rem = R % size;
    if (i < (q + 1) * rem) return (int)(i / (q + 1));
    return (int)(rem + (i - (q + 1) * rem) / q);   /* q > 0 here: i < R = q·size + rem */
}

/* |[a0, a1) ∩ [b0, b1)| */
static long overlap(long a0, long a1, long b0, long b1)
{
    long lo = QV_MAX(a0, b0), hi = QV_MIN(a1, b1);
    return hi > lo ? hi - lo : 0;
}

int pa_plan(int size, const long *have, const long *want, int me, long *send, long *recv)
{
    /* the surplus of rank r occupies [sp_r, sp_r + s_r) of the global surplus order, its deficit
     * [dp_r, dp_r + d_r) of the deficit order; unit u of one goes to slot u of the other */
    long sh = 0, sw = 0, sp = 0, dp = 0, my_s0 = 0, my_s1 = 0, my_d0 = 0, my_d1 = 0;
    for (int r = 0; r < size; r++) {
        if (have[r] < 0 || want[r] < 0) return qv_seterr("population annealing: negative count");
        sh += have[r];
        sw += want[r];
        long s = QV_MAX(0, have[r] - want[r]), d = QV_MAX(0, want[r] - have[r]);
        if (r == me) {
            my_s0 = sp, my_s1 = sp + s;
            my_d0 = dp, my_d1 = dp + d;
        }
        sp += s;
        dp += d;
    }
    if (sh != sw)
        return qv_seterr("population annealing: %ld children for %ld places", sh, sw);
    sp = dp = 0;
    for (int r = 0; r < size; r++) {
        long s = QV_MAX(0, have[r] - want[r]), d = QV_MAX(0, want[r] - have[r]);
        send[r] = overlap(my_s0, my_s1, dp, dp + d);
        recv[r] = overlap(sp, sp + s, my_d0, my_d1);
        sp += s;
        dp += d;
    }
    return 0;
}

/* ---------------------------------------------------------------- collectives */

/* Distributed only on the thread that may call MPI (MPI_THREAD_FUNNELED): a PA call made on
 * another thread inside a job (the SAPI emulator's server threads) runs on its rank alone. */
static int local_depth;   /* samp_pa_local: > 0 while PA must stay on this rank */

void samp_pa_local(bool on)
{
    local_depth += on ? 1 : -1;
}

static bool dist(void)
{
    int main_thread = 0;
    return local_depth <= 0 && par_active() &&
           MPI_Is_thread_main(&main_thread) == MPI_SUCCESS && main_thread;
}

int pa_ranks(void) { return dist() ? par_size() : 1; }
int pa_rank(void) { return dist() ? par_rank() : 0; }

static int mpi_fail(const char *what, int code)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "code %d", code);
    return qv_seterr("population annealing: %s failed: %s", what, s);
}

int pa_agree(int rc)
{
    if (!dist()) return rc;
    int me = par_rank(), first = rc ? me : INT_MAX;
    int c = MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (c != MPI_SUCCESS) return mpi_fail("MPI_Allreduce", c);
    if (first == INT_MAX) return 0;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", me == first ? qv_errmsg() : "");
    c = MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, MPI_COMM_WORLD);
    if (c != MPI_SUCCESS) return mpi_fail("MPI_Bcast", c);
    if (me == first) return -1;
    msg[sizeof msg - 1] = 0;
    return qv_seterr("rank %d: %s", first, msg);
}

static int reduce(void *x, long n, MPI_Datatype t, MPI_Op op, size_t esz)
{
    if (!dist()) return 0;
    for (long at = 0; at < n;) {   /* counts are int: large arrays go in pieces */
        int c = (int)QV_MIN(n - at, (long)1 << 28);
        int e = MPI_Allreduce(MPI_IN_PLACE, (char *)x + (size_t)at * esz, c, t, op, MPI_COMM_WORLD);
        if (e != MPI_SUCCESS) return mpi_fail("MPI_Allreduce", e);
        at += c;
    }
    return 0;
}

int pa_min(double *x, int n) { return reduce(x, n, MPI_DOUBLE, MPI_MIN, sizeof *x); }
int pa_max(double *x, int n) { return reduce(x, n, MPI_DOUBLE, MPI_MAX, sizeof *x); }
int pa_sum_int(int *x, long n) { return reduce(x, n, MPI_INT, MPI_SUM, sizeof *x); }

int pa_gather_d(const double *mine, int n, double *all)
{
    if (!dist()) {
        memcpy(all, mine, (size_t)n * sizeof *all);
        return 0;
    }
    int e = MPI_Allgather(mine, n, MPI_DOUBLE, all, n, MPI_DOUBLE, MPI_COMM_WORLD);
    return e == MPI_SUCCESS ? 0 : mpi_fail("MPI_Allgather", e);
}

int pa_gather_l(const long *mine, int n, long *all)
{
    if (!dist()) {
        memcpy(all, mine, (size_t)n * sizeof *all);
        return 0;
    }
    int e = MPI_Allgather(mine, n, MPI_LONG, all, n, MPI_LONG, MPI_COMM_WORLD);
    return e == MPI_SUCCESS ? 0 : mpi_fail("MPI_Allgather", e);
}

/* Counts and displacements in records for the v-collectives; -1 past MPI's int range. */
static int to_int(const long *cnt, int size, int *c, int *d)
{
    long at = 0;
    for (int r = 0; r < size; r++) {
        if (cnt[r] < 0 || cnt[r] > INT_MAX || at > INT_MAX)
            return qv_seterr("population annealing: too many members to exchange at once");
        c[r] = (int)cnt[r];
        d[r] = (int)at;
        at += cnt[r];
    }
    return 0;
}

/* A contiguous datatype of one record, so counts stay in records (not bytes). */
static int rec_type(size_t rec, MPI_Datatype *t)
{
    int e = MPI_Type_contiguous((int)rec, MPI_BYTE, t);
    if (e == MPI_SUCCESS) e = MPI_Type_commit(t);
    return e == MPI_SUCCESS ? 0 : mpi_fail("MPI_Type_commit", e);
}

int pa_exchange(const void *sbuf, const long *scnt, void *rbuf, const long *rcnt, size_t rec)
{
    if (!dist()) {
        if (scnt[0] != rcnt[0]) return qv_seterr("population annealing: exchange counts differ");
        if (scnt[0]) memcpy(rbuf, sbuf, (size_t)scnt[0] * rec);
        return 0;
    }
    int size = par_size();
    int *v = qv_mallocarray((size_t)size * 4, sizeof *v);
    int rc = to_int(scnt, size, v, v + size);
    if (!rc) rc = to_int(rcnt, size, v + 2 * size, v + 3 * size);
    MPI_Datatype t;
    if (!rc) rc = rec_type(rec, &t);
    if (!rc) {
        int e = MPI_Alltoallv(sbuf, v, v + size, t, rbuf, v + 2 * size, v + 3 * size, t,
                              MPI_COMM_WORLD);
        MPI_Type_free(&t);
        if (e != MPI_SUCCESS) rc = mpi_fail("MPI_Alltoallv", e);
    }
    free(v);
    return rc;
}

int pa_gather_rec(const void *sbuf, void *rbuf, const long *rcnt, size_t rec)
{
    if (!dist()) {
        if (rcnt[0]) memcpy(rbuf, sbuf, (size_t)rcnt[0] * rec);
        return 0;
    }
    int size = par_size(), me = par_rank();
    int *v = qv_mallocarray((size_t)size * 2, sizeof *v);
    int rc = to_int(rcnt, size, v, v + size);
    MPI_Datatype t;
    if (!rc) rc = rec_type(rec, &t);
    if (!rc) {
        int e = MPI_Allgatherv(sbuf, v[me], t, rbuf, v, v + size, t, MPI_COMM_WORLD);
        MPI_Type_free(&t);
        if (e != MPI_SUCCESS) rc = mpi_fail("MPI_Allgatherv", e);
    }
    free(v);
    return rc;
}
