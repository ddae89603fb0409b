/* fuzz_solver.c — libFuzzer harness for solver definitions: one solver object's JSON text through
 * solver_parse_text.  An accepted solver must have working qubits ascending below num_qubits,
 * couplers between working qubits when a qubit list is given, and qubit lookups that agree with the list. */
#include <stdint.h>
#include <stdlib.h>

#include "solver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct solver_props *sp = solver_parse_text((const char *)data, size);
    if (!sp) return 0;
    for (int i = 0; i < sp->nq; i++) {
        int q = sp->qubits[i];
        if (q < 0 || q >= sp->num_qubits || (i && q <= sp->qubits[i - 1])) abort();
        if (solver_qubit_index(sp, q) != i) abort();
    }
    for (long c = 0; sp->qubits && c < sp->nc; c++)
        for (int e = 0; e < 2; e++)
            if (solver_qubit_index(sp, sp->couplers[c][e]) < 0) abort();
    solver_accepts_param(sp, "anneal_schedule");
    solver_free(sp);
    return 0;
}
