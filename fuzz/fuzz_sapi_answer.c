/* fuzz_sapi_answer.c — libFuzzer harness for SAPI answer decoding: a response body (or a bare
 * answer object) through cJSON and sapi_answer_decode, strict and lenient, Ising and QUBO.  An
 * accepted answer must be self-consistent: values in the declared domain, Σ occurrences equal to
 * total_reads, active labels ascending and below num_variables. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "sapi_codec.h"

static void check(const struct sapi_answer *a)
{
    long reads = 0;
    for (int i = 0; i < a->nact; i++) {
        if (a->active[i] < 0 || a->active[i] >= a->num_variables) abort();
        if (i && a->active[i] <= a->active[i - 1]) abort();
    }
    for (long r = 0; r < a->nsol; r++) {
        for (int i = 0; i < a->nact; i++) {
            int v = a->sol[r * a->nact + i];
            if (a->qubo ? (v != 0 && v != 1) : (v != -1 && v != 1)) abort();
        }
        reads += a->occ[r];
    }
    if (reads != a->total_reads) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root) return 0;
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(root, "answer");
    if (!ans) ans = root;
    for (int mode = 0; mode < 4; mode++) {
        struct sapi_answer a;
        if (sapi_answer_decode(ans, mode & 1, mode & 2, &a) == 0) check(&a);
        sapi_answer_free(&a);
    }
    cJSON_Delete(root);
    return 0;
}
