/* cmd_core.c — commands that belong to no engine module: help, seed, echo, version, quit. */
#include "cmd.h"
#include "nn.h"
#include "simd.h"

#include <stdio.h>
#include <string.h>

static int run_help(struct qv_app *app, const struct cmd_args *a)
{
    if (a->npos == 0) {
        cmd_print_help(app, NULL, NULL);
        return 0;
    }
    const struct cmd_entry *e = cmd_find(NULL, a->pos[0], NULL);
    if (!e) return qv_fail(app);
    char path[256];
    snprintf(path, sizeof path, "%s", e->name);
    for (int i = 1; i < a->npos; i++) {
        if (!e->sub) return qv_error(app, "help: '%s' has no subcommand '%s'", path, a->pos[i]);
        const struct cmd_entry *c = cmd_find(e->sub, a->pos[i], path);
        if (!c) return qv_fail(app);
        e = c;
        size_t l = strlen(path);
        snprintf(path + l, sizeof path - l, " %s", e->name);
    }
    cmd_print_help(app, e, path);
    return 0;
}

const struct cmd_entry cmd_help_entry = {
    .name = "help", .usage = "help [COMMAND [SUBCOMMAND …]]",
    .summary = "list commands, or explain one",
    .help = "Without arguments lists every command with a one-line summary.  With a command (a\n"
            "unique prefix is enough) shows its usage, long help, options and subcommands.",
    .min_pos = 0, .max_pos = -1, .complete = CMD_COMPLETE_COMMAND, .run = run_help,
    .flags = CMD_WHILEJOB | CMD_NOSTATE,
};

static int run_seed(struct qv_app *app, const struct cmd_args *a)
{
    if (a->npos == 0) {
        qv_printf(app, "seed %llu", (unsigned long long)app->st.seed);
        return 0;
    }
    long v;
    if (cmd_pos_long(app, a, 0, &v)) return -1;
    if (v < 0) return qv_error(app, "seed: must be a non-negative integer, got %ld", v);
    app->st.seed = (uint64_t)v;
    qv_printf(app, "seed %llu", (unsigned long long)app->st.seed);
    return 0;
}

const struct cmd_entry cmd_seed_entry = {
    .name = "seed", .usage = "seed [N]", .summary = "show or set the master random seed",
    .help = "Every random choice (initialisation, data order, binarisation, sampler chains) derives\n"
            "from this seed, so the same seed reproduces a run bit for bit.",
    .min_pos = 0, .max_pos = 1, .run = run_seed,
};

static int run_echo(struct qv_app *app, const struct cmd_args *a)
{
    char buf[2048];
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < a->npos && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "", a->pos[i]);
    qv_printf(app, "%s", buf);
    return 0;
}

const struct cmd_entry cmd_echo_entry = {
    .name = "echo", .usage = "echo [TEXT …]", .summary = "print text (useful in scripts)",
    .help = "Prints its arguments separated by single spaces.",
    .min_pos = 0, .max_pos = -1, .run = run_echo, .flags = CMD_WHILEJOB | CMD_NOSTATE,
};

#ifndef QVAE_ARCH
#define QVAE_ARCH "x86-64 (the compiler's default)"
#endif

static int run_version(struct qv_app *app, const struct cmd_args *a)
{
    char blas[256];
    nn_blas_describe(blas, sizeof blas);
    qv_printf(app, "qvae %s", QV_VERSION);
    qv_printf(app, "%s", blas);
    qv_printf(app, "denormal floats: %s",
              nn_fp_denormals_flushed() ? "flushed to zero (faster; nn.h)" : "IEEE (kept)");
    char have[64];
    simd_cpu_paths(have, sizeof have);
    const struct simd_kernels *k = simd_kernels();
    qv_printf(app, "SIMD kernels: %s (this CPU runs %s; QVAE_ISA=sse2|avx2|avx512 forces one); "
              "other code compiled for -march=%s", k ? k->name : "none", have, QVAE_ARCH);
    if (!k) {
        qv_seterr("%s", simd_isa_error());
        return qv_fail(app);
    }
    return 0;
}

const struct cmd_entry cmd_version_entry = {
    .name = "version", .usage = "version", .summary = "print the qvae version",
    .help = "Prints the qvae version (also stored in every saved session) and the BLAS in use: OpenBLAS's "
            "build and the kernel set it runs (a CPU OpenBLAS does not know gets AVX2/AVX-512 kernels "
            "chosen by qvae; OPENBLAS_CORETYPE overrides), whether denormal floats are "
            "flushed to zero (they are: a trained model has many, and they slow x86 cores down), and "
            "the SIMD path of the sampler kernels: the best this CPU runs, or the one the environment "
            "variable QVAE_ISA (sse2, avx2, avx512) names; an error if the CPU cannot run it.",
    .min_pos = 0, .max_pos = 0, .run = run_version, .flags = CMD_WHILEJOB | CMD_NOSTATE,
};

static int run_quit(struct qv_app *app, const struct cmd_args *a)
{
    return CMD_QUIT;
}

const struct cmd_entry cmd_quit_entry = {
    .name = "quit", .usage = "quit", .summary = "leave qvae (a running job is stopped first)",
    .help = "In a script, stops reading further commands.  A running training is stopped cleanly\n"
            "first (its last checkpoint is kept).",
    .min_pos = 0, .max_pos = 0, .run = run_quit, .flags = CMD_WHILEJOB | CMD_NOSTATE,
};

const struct cmd_entry cmd_exit_entry = {
    .name = "exit", .usage = "exit", .summary = "same as quit",
    .help = "Same as `quit`.",
    .min_pos = 0, .max_pos = 0, .run = run_quit, .flags = CMD_WHILEJOB | CMD_NOSTATE | CMD_HIDDEN,
};
