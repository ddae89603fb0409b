/* par.c — see par.h. */
#include "par.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    bool active;
    int rank, size;
} par = {false, 0, 1};

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

_Noreturn void par_abort(int code)
{
    if (par.active) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}
