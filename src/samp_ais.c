/* samp_ais.c — the `ais` sampler: annealed importance sampling from β = 0 to the target β
 * (samplers-and-metrics.md §2).  It is population annealing without resampling, so it shares
 * samp_pa.c's engine: every chain carries its log-weight Σ −Δβ·E to the end.  As a sampler it
 * returns weighted samples (logw, mean exp(logw) = 1); `prior logz --method ais` gets
 * log Z = n ln 2 + ln mean w with the delta-method error sd(w)/(√N·mean w) and the weight ESS. */
#include "samp_kernel.h"

static const char *const ais_keys[] = {"population", "runs", "steps", "sweeps", "threads", NULL};
static const char *const ais_help[] = {
    "chains per run, 0 = just enough for the samples asked (default 0)",
    "runs (chains are pooled; default 4)",
    "β steps from 0 to the target (default 1000)",
    "heat-bath sweeps after each step (default 1)",
    "worker threads, 0 = all cores when it pays (default 0)",
    NULL,
};

static void *ais_create(uint64_t seed)
{
    return samp_pop_create(seed, false);
}

const struct sampler_vtab samp_ais_vtab = {
    .name = "ais",
    .summary = "annealed importance sampling: weighted samples, log Z with error bar",
    .keys = ais_keys,
    .key_help = ais_help,
    .create = ais_create,
    .clone_config = samp_pop_clone,
    .set = samp_pop_set,
    .describe = samp_pop_describe,
    .sample = samp_pop_sample,
    .reset = samp_pop_reset,
    .destroy = samp_pop_destroy,
};
