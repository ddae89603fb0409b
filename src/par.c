/* par.c — see par.h. */
#include "par.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    bool active;
    int rank, size;
    void (*hook)(int low);
} par = {false, 0, 1, NULL};

static bool par_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK");
}

int par_init(int *argc, char ***argv, char *err, size_t errn)
{
    if (!par_launched()) return 0;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(err, errn, "mpi: MPI_Init_thread failed");
        return -1;
    }
    if (provided < MPI_THREAD_FUNNELED) {
        snprintf(err, errn, "mpi: the MPI library does not provide MPI_THREAD_FUNNELED");
        MPI_Finalize();
        return -1;
    }
    /* errors come back as codes, so a failed collective ends in a message, not a core dump */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &par.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &par.size);
    par.active = true;
    return 0;
}

void par_finalize(void)
{
    if (!par.active) return;
    par.active = false;
    MPI_Finalize();
}

bool par_active(void) { return par.active; }
int par_rank(void) { return par.rank; }
int par_size(void) { return par.size; }

void par_set_agree_hook(void (*hook)(int low)) { par.hook = hook; }

int par_agree(bool ok)
{
    if (!par.active) return ok ? -1 : 0;
    int mine = ok ? par.size : par.rank, low = mine;
    if (MPI_Allreduce(&mine, &low, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        low = ok ? 0 : par.rank;   /* the job is broken: fail, on every rank that gets here */
    low = low == par.size ? -1 : low;
    if (par.hook) par.hook(low);
    return low;
}

bool par_any(bool flag)
{
    if (!par.active) return flag;
    int mine = flag ? 1 : 0, any = mine;
    if (MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) return true;
    return any != 0;
}

void par_bcast_double(double *v)
{
    if (par.active) MPI_Bcast(v, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

int par_allgather_bytes(void *buf, const size_t *counts, const size_t *displs, char *err, size_t errn)
{
    if (!par.active || par.size == 1) return 0;
    int *c = malloc(sizeof(int) * 2 * (size_t)par.size);
    if (!c) {
        snprintf(err, errn, "mpi: out of memory");
        return -1;
    }
    int *d = c + par.size, rc = 0;
    for (int r = 0; r < par.size && !rc; r++) {
        if (counts[r] > INT_MAX || displs[r] > INT_MAX) rc = -1;
        c[r] = (int)counts[r];
        d[r] = (int)displs[r];
    }
    if (rc) snprintf(err, errn, "mpi: a gather of more than %d bytes per rank", INT_MAX);
    else if (MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, c, d, MPI_BYTE, MPI_COMM_WORLD)
             != MPI_SUCCESS) {
        snprintf(err, errn, "mpi: the gradient exchange failed (a rank has gone)");
        rc = -1;
    }
    free(c);
    return rc;
}

void par_share(long n, long *lo, long *hi)
{
    *lo = n * par.rank / par.size;
    *hi = n * (par.rank + 1) / par.size;
}

_Noreturn void par_abort(int code)
{
    if (par.active) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}
