/* samp_exact.c — the `exact` sampler: independent draws from the enumerated Boltzmann
 * distribution (bm_sample_exact).  The ground truth the other samplers are
 * checked against; limited to BM_EXACT_MAX units (enumeration time 2^n). */
#include "samp_kernel.h"
#include "qv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SAMP_EXACT_MAX BM_EXACT_MAX

struct exact {
    uint64_t seed;
    uint64_t calls;   /* successive calls draw from successive streams */
};

static const char *const exact_keys[] = {NULL};
static const char *const exact_help[] = {NULL};

static void *exact_create(uint64_t seed)
{
    struct exact *e = qv_calloc(1, sizeof *e);
    e->seed = seed;
    return e;
}

static void *exact_clone(const void *impl, uint64_t seed)
{
    return exact_create(seed);   /* no options */
}

static int exact_set(void *impl, const char *key, const char *val)
{
    return qv_seterr("sampler exact: no options (got --%s)", key);
}

static void exact_describe(void *impl, char *buf, size_t n)
{
    snprintf(buf, n, "(no options; at most 2^%d states enumerated)", SAMP_EXACT_MAX);
}

static int exact_sample(void *impl, const struct bm *bm, double beta, long count,
                        const struct sample_ctx *ctx, struct samples *out)
{
    struct exact *e = impl;
    int n = bm->n;
    int enum_units = bm_exact_enum_units(bm);   /* one colour class is summed out */
    if (enum_units > SAMP_EXACT_MAX)
        return qv_seterr("sampler exact: enumeration would visit 2^%d states of the %d units, "
                         "more than 2^%d", enum_units, n, SAMP_EXACT_MAX);
    if (samples_alloc(out, n, count, false)) return -1;
    struct rng r;
    rng_init(&r, e->seed, e->calls++);
    if (bm_sample_exact(bm, beta, count, &r, out->z)) return -1;
    samples_energies(bm, out);
    double lz;
    if (bm_logz_exact(bm, beta, &lz) == 0)
        snprintf(out->info, sizeof out->info, "exact: %ld independent draws, log Z = %.6f", count,
                 lz);
    return 0;
}

static void exact_reset(void *impl)
{
    ((struct exact *)impl)->calls = 0;
}

static void exact_destroy(void *impl)
{
    free(impl);
}

const struct sampler_vtab samp_exact_vtab = {
    .name = "exact",
    .summary = "independent draws by enumeration of all 2^n states (n <= 28)",
    .keys = exact_keys,
    .key_help = exact_help,
    .create = exact_create,
    .clone_config = exact_clone,
    .set = exact_set,
    .describe = exact_describe,
    .sample = exact_sample,
    .reset = exact_reset,
    .destroy = exact_destroy,
};
