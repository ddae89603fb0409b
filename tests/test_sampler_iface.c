/* test_sampler_iface.c — the sampler interface's generic parts (sampler.h): clone_config copies
 * every option and no state, for every registered sampler; the emulator's stand_in hook sets up
 * the samplers that have one and leaves β and options of the others alone; `sampler use`
 * declares every key of every sampler (its table is built from their key lists) and accepts each
 * sampler's full describe() text back as options.  Truth: hand-written non-default settings,
 * and a fresh sampler of the same seed and options (for "no state"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "sampler.h"

/* Non-default options for each sampler (every key it has where a value is easy to name). */
static const struct { const char *name, *opts; } nondef[] = {
    {"gibbs", "chains=7 sweeps=3 thin=2 burnin=5 threads=1"},
    {"sa", "sweeps=33 sweeps_per_beta=3 schedule=linear beta_range=0.5,4 accept=gibbs threads=1"},
    {"pt", "replicas=5 beta_low=0.2 systems=2 burnin=10 thin=3 threads=1"},
    {"pa", "population=50 runs=2 steps=20 sweeps=3 threads=1"},
    {"ais", "population=40 runs=3 steps=30 sweeps=2 threads=1"},
    {"exact", ""},
    {"sqa", "trotter=8 sweeps_per_us=5 anneal_time=10 noise=0 temperature=20 beta_eff=3 "
            "beta_every=4 local=0 reinit=1 threads=1"},
    {"qpu", "annealing_time=50 beta_eff=3 chains=2 max_reads=100 label=abc"},
};

static void describe(const struct sampler *s, char *buf, size_t n)
{
    s->vt->describe(s->impl, buf, n);
}

static void test_every_sampler_listed(void **state)
{
    (void)state;
    int n = 0;
    for (int i = 0; sampler_registry[i]; i++, n++) {
        bool found = false;
        for (size_t k = 0; k < sizeof nondef / sizeof nondef[0]; k++)
            found |= !strcmp(nondef[k].name, sampler_registry[i]->name);
        assert_true(found);   /* a new sampler gets a line in nondef[] */
        assert_non_null(sampler_registry[i]->clone_config);
    }
    assert_int_equal(n, (int)(sizeof nondef / sizeof nondef[0]));
}

static void test_clone_copies_options(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof nondef / sizeof nondef[0]; k++) {
        struct sampler *s = sampler_new(nondef[k].name, 11);
        assert_non_null(s);
        char d0[1024], d1[1024], d2[1024];
        describe(s, d0, sizeof d0);
        assert_int_equal(sampler_set_desc(s, nondef[k].opts), 0);
        describe(s, d1, sizeof d1);
        if (nondef[k].opts[0]) assert_string_not_equal(d0, d1);   /* the settings took */
        struct sampler *c = sampler_clone_config(s, 99);
        assert_non_null(c);
        assert_ptr_equal(c->vt, s->vt);
        assert_int_equal(c->seed, 99);
        describe(c, d2, sizeof d2);
        assert_string_equal(d1, d2);
        sampler_free(c);
        sampler_free(s);
    }
}

/* A clone of a Gibbs sampler whose chains have run draws what a fresh sampler of the clone's
 * seed and options draws: no chains come along. */
static void test_clone_has_no_state(void **state)
{
    (void)state;
    struct bm *bm = bm_new(graph_chimera(1, 1, 4));
    assert_non_null(bm);
    assert_int_equal(bm_random(bm, 1.0, 5), 0);
    struct sampler *s = sampler_new("gibbs", 3);
    assert_int_equal(sampler_set_desc(s, "chains=16 sweeps=2 burnin=3"), 0);
    struct samples a, b;
    samples_init(&a);
    samples_init(&b);
    assert_int_equal(sampler_sample(s, bm, 1.0, 16, NULL, &a), 0);   /* chains now exist */
    struct sampler *c = sampler_clone_config(s, 77);
    struct sampler *f = sampler_new("gibbs", 77);
    assert_int_equal(sampler_set_desc(f, "chains=16 sweeps=2 burnin=3"), 0);
    assert_int_equal(sampler_sample(c, bm, 1.0, 16, NULL, &a), 0);
    assert_int_equal(sampler_sample(f, bm, 1.0, 16, NULL, &b), 0);
    assert_memory_equal(a.z, b.z, (size_t)16 * bm->n);
    samples_free(&a);
    samples_free(&b);
    sampler_free(c);
    sampler_free(f);
    sampler_free(s);
    bm_free(bm);
}

static void test_stand_in(void **state)
{
    (void)state;
    char d[1024];
    double beta = 6.5;
    struct sampler *g = sampler_new("gibbs", 1);
    assert_int_equal(sampler_stand_in(g, "Advantage_system4.1", 37, &beta), 0);
    describe(g, d, sizeof d);
    assert_non_null(strstr(d, "chains=37"));   /* one chain per read */
    assert_non_null(strstr(d, "burnin=200"));
    assert_true(beta == 6.5);                  /* classical: the freeze-out β stays */
    sampler_free(g);

    struct sampler *sa = sampler_new("sa", 1);
    assert_int_equal(sampler_stand_in(sa, "Advantage_system4.1", 10, &beta), 0);
    describe(sa, d, sizeof d);
    assert_non_null(strstr(d, "sweeps=200"));
    assert_true(beta == 6.5);
    sampler_free(sa);

    struct sampler *pt = sampler_new("pt", 1);   /* no hook: nothing changes */
    char before[1024];
    describe(pt, before, sizeof before);
    assert_int_equal(sampler_stand_in(pt, "Advantage_system4.1", 10, &beta), 0);
    describe(pt, d, sizeof d);
    assert_string_equal(before, d);
    assert_true(beta == 6.5);
    sampler_free(pt);

    struct sampler *q = sampler_new("sqa", 1);
    if (sampler_stand_in(q, "Advantage_system4.1", 10, &beta) == 0) {
        describe(q, d, sizeof d);
        assert_non_null(strstr(d, "solver=Advantage_system4.1"));
        assert_non_null(strstr(d, "beta_eff=1"));
        assert_true(beta == 1.0);   /* programs the problem as scaled */
    } else {
        /* no solver properties in this tree: a clear error and nothing changed */
        assert_true(beta == 6.5);
        assert_non_null(strstr(qv_errmsg(), "sqa"));
    }
    sampler_free(q);
}

/* A physical sampler's report reaches the workbench as a QV_EV_SAMPLER event when the caller
 * gives only `app` (as training does): sqa's default forward anneal lasts its anneal_time. */
struct evcount { int sampler_events; double anneal, beta_eff; };

static void count_event(void *ud, const struct qv_event *ev)
{
    struct evcount *c = ud;
    if (ev->kind != QV_EV_SAMPLER) return;
    c->sampler_events++;
    c->anneal = ev->qpu.anneal;
    c->beta_eff = ev->beta_eff;
}

static void quiet_log(void *ud, enum qv_level level, const char *line) { (void)ud; (void)level; (void)line; }

static void test_report_reaches_app(void **state)
{
    (void)state;
    struct qv_app app;
    app_init(&app, &qv_workbench);
    struct evcount c = {0};
    app.sink = (struct qv_sink){quiet_log, count_event, &c};
    struct bm *bm = bm_new(graph_chimera(1, 1, 4));
    assert_int_equal(bm_random(bm, 0.5, 9), 0);
    struct sampler *q = sampler_new("sqa", 4);
    assert_int_equal(sampler_set_desc(q, "anneal_time=7 trotter=4"), 0);
    struct samples out;
    samples_init(&out);
    struct sample_ctx ctx = {.app = &app};
    assert_int_equal(sampler_sample(q, bm, 1.0, 20, &ctx, &out), 0);
    assert_int_equal(c.sampler_events, 1);
    assert_float_equal(c.anneal, 7.0, 1e-12);
    assert_true(isfinite(c.beta_eff) && c.beta_eff > 0);
    struct sampler *g = sampler_new("gibbs", 4);   /* classical: no report at all */
    assert_int_equal(sampler_sample(g, bm, 1.0, 20, &ctx, &out), 0);
    assert_int_equal(c.sampler_events, 1);
    samples_free(&out);
    sampler_free(g);
    sampler_free(q);
    bm_free(bm);
    app_free(&app);
}

/* `sampler use NAME` accepts every key of every sampler, with the values describe() prints. */
static void test_use_declares_every_key(void **state)
{
    (void)state;
    struct qv_app app;
    app_init(&app, &qv_workbench);
    for (int i = 0; sampler_registry[i]; i++) {
        const struct sampler_vtab *vt = sampler_registry[i];
        struct sampler *s = sampler_new(vt->name, 1);
        char desc[1024], line[2048];
        describe(s, desc, sizeof desc);
        size_t o = (size_t)snprintf(line, sizeof line, "sampler use %s", vt->name);
        int nkeys = 0;
        for (int k = 0; vt->keys && vt->keys[k]; k++) {
            char pat[64];
            snprintf(pat, sizeof pat, "%s=", vt->keys[k]);
            const char *p = strstr(desc, pat);
            assert_non_null(p);   /* describe() shows every key */
            p += strlen(pat);
            o += (size_t)snprintf(line + o, sizeof line - o, " --%s %.*s", vt->keys[k],
                                  (int)strcspn(p, " "), p);
            nkeys++;
        }
        if (!vt->needs_client) {
            assert_int_equal(cmd_run_line(&app, line, false), 0);
            assert_string_equal(app.st.sampler->vt->name, vt->name);
        } else {
            /* parse only: connecting is not this test's business */
            assert_non_null(cmd_lookup_line(line));
        }
        sampler_free(s);
        (void)nkeys;
    }
    app_free(&app);
}

/* The weighted statistics of a sample set: log-weights of 800 (exp overflows a double without the
 * shift) give the same mean and spread as the weights 1, e, e²; no weights, the plain figures. */
static void test_samples_stats(void **state)
{
    (void)state;
    double e[3] = {-2.0, 1.0, 4.0}, lw[3] = {800.0, 801.0, 802.0};
    struct samples s = {.n = 1, .count = 3, .energy = e, .logw = lw};
    double m, sd, lo, hi, w[3];
    samples_weights(&s, w);
    assert_true(fabs(w[2] - 1.0) < 1e-15 && fabs(w[0] - exp(-2.0)) < 1e-15);
    samples_energy_stats(&s, &m, &sd, &lo, &hi);
    const double W = 1 + M_E + M_E * M_E, mref = (-2.0 + M_E * 1.0 + M_E * M_E * 4.0) / W;
    const double vref = (4.0 + M_E * 1.0 + M_E * M_E * 16.0) / W - mref * mref;
    assert_true(fabs(m - mref) < 1e-12 && fabs(sd - sqrt(vref)) < 1e-12);
    assert_true(lo == -2.0 && hi == 4.0);
    s.logw = NULL;
    samples_energy_stats(&s, &m, &sd, NULL, NULL);
    assert_true(fabs(m - 1.0) < 1e-15 && fabs(sd - sqrt(6.0)) < 1e-12);
    s.count = 0;
    samples_energy_stats(&s, &m, NULL, NULL, NULL);
    assert_true(isnan(m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sampler_listed),
        cmocka_unit_test(test_clone_copies_options),
        cmocka_unit_test(test_clone_has_no_state),
        cmocka_unit_test(test_stand_in),
        cmocka_unit_test(test_use_declares_every_key),
        cmocka_unit_test(test_report_reaches_app),
        cmocka_unit_test(test_samples_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
