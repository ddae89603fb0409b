/* test_sched.c — anneal schedules, solver properties and annealing functions (issue 5).
 *
 * Validation: every rule of qpu-protocol.md §2.2–2.4 is broken by one schedule and the test
 * checks the rule, the offending point/segment and the QPU-like message (including the docs'
 * slope example: min anneal time 0.5 µs, [30, 0.7]→[30.06, 0.8] passes, →[30.04, 0.8] fails).
 * Builders: forward, pause, quench (slope = limit), reverse produce the expected points and
 * validate.  Bad input (NaN, negative time, one point, unsorted, s outside [0, 1], malformed
 * JSON): clear error, previous schedule unchanged.  Solver files: the shipped property files
 * have the published qubit/coupler counts; the access-time estimate reproduces the documented
 * test vector (15945.51 µs, Advantage_system4.1, 2 qubits, 10 reads).  A(s)/B(s): interpolation,
 * β_phys at 15.4 mK (3.116 GHz⁻¹) and the documented T_eff = 0.164 example, a CSV with a
 * missing column is rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anneal.h"
#include "schedule.h"
#include "solver.h"

static void set_pts(struct sched *s, const double (*p)[2], int n)
{
    s->n = n;
    for (int i = 0; i < n; i++) s->pt[i] = (struct sched_point){p[i][0], p[i][1]};
}

/* Validate and expect exactly one violation of `rule` whose message contains `text`. */
static void expect_rule(const struct sched *s, const struct solver_props *sp, enum sched_rule rule,
                        int point, int segment, const char *text)
{
    struct sched_violation v[8];
    int n = sched_validate(s, sp, v, 8);
    bool found = false;
    for (int i = 0; i < n && i < 8; i++) {
        if (v[i].rule != rule) continue;
        found = true;
        if (!strstr(v[i].msg, text)) fail_msg("rule %s: message '%s' lacks '%s'", sched_rule_name(rule), v[i].msg, text);
        assert_int_equal(v[i].point, point);
        assert_int_equal(v[i].segment, segment);
    }
    if (!found) fail_msg("rule %s not reported (%d violations, first: %s)", sched_rule_name(rule), n,
                         n ? v[0].msg : "-");
}

static int nviol(const struct sched *s, const struct solver_props *sp)
{
    return sched_validate(s, sp, NULL, 0);
}

static void test_rules(void **state)
{
    const struct solver_props *sp = solver_defaults();   /* [0.5, 2000] µs, 12 points, 1e6 µs */
    struct sched s;
    sched_init(&s);

    static const double ok[][2] = {{0, 0}, {20, 1}};
    set_pts(&s, ok, 2);
    assert_int_equal(nviol(&s, sp), 0);

    static const double one[][2] = {{0, 1}};
    set_pts(&s, one, 1);
    s.initial_state = true;
    expect_rule(&s, sp, SCHED_RULE_POINTS, 0, -1, "at least 2 points");

    /* 13 points forward > 12; the same count is fine for a reverse anneal (P + 1) */
    sched_init(&s);
    s.n = 13;
    for (int i = 0; i < 13; i++) s.pt[i] = (struct sched_point){i * 1.0, i / 12.0};
    expect_rule(&s, sp, SCHED_RULE_POINTS, 12, -1, "at most 12");
    for (int i = 0; i < 13; i++) s.pt[i] = (struct sched_point){i * 1.0, i == 0 || i == 12 ? 1.0 : 0.9};
    s.initial_state = true;
    assert_int_equal(nviol(&s, sp), 0);
    s.n = 14;
    s.pt[13] = (struct sched_point){13, 1};
    s.pt[12].s = 0.9;
    expect_rule(&s, sp, SCHED_RULE_POINTS, 13, -1, "at most 13 for a reverse anneal");

    static const double nan_pt[][2] = {{0, 0}, {5, NAN}, {20, 1}};
    sched_init(&s);
    set_pts(&s, nan_pt, 3);
    expect_rule(&s, sp, SCHED_RULE_FINITE, 1, -1, "finite");

    static const double srange[][2] = {{0, 0}, {5, 1.2}, {20, 1}};
    set_pts(&s, srange, 3);
    expect_rule(&s, sp, SCHED_RULE_S_RANGE, 1, -1, "outside [0, 1]");

    static const double order[][2] = {{0, 0}, {5, 0.3}, {5, 0.4}, {20, 1}};
    set_pts(&s, order, 4);
    expect_rule(&s, sp, SCHED_RULE_TIME_ORDER, 2, 1, "Time t must increase");

    static const double start[][2] = {{1, 0}, {20, 1}};
    set_pts(&s, start, 2);
    expect_rule(&s, sp, SCHED_RULE_START, 0, -1, "first point must be (0, 0)");

    static const double firsts[][2] = {{0, 0.3}, {20, 1}};
    set_pts(&s, firsts, 2);
    expect_rule(&s, sp, SCHED_RULE_FIRST_S, 0, -1, "must equal 0 for forward annealing or 1 for reverse");

    static const double maxt[][2] = {{0, 0}, {2500, 1}};
    set_pts(&s, maxt, 2);
    s.num_reads = 1;
    expect_rule(&s, sp, SCHED_RULE_MAX_TIME, 1, -1, "maximum anneal time of 2000");

    static const double finals[][2] = {{0, 0}, {20, 0.8}};
    set_pts(&s, finals, 2);
    expect_rule(&s, sp, SCHED_RULE_FINAL_S, 1, -1, "final point, anneal fraction s must equal 1");
    static const double rfinal[][2] = {{0, 1}, {5, 0.5}, {10, 0.7}};
    set_pts(&s, rfinal, 3);
    s.initial_state = true;
    expect_rule(&s, sp, SCHED_RULE_FINAL_S, 2, -1, "reverse anneal must start and end at s = 1");

    static const double mono[][2] = {{0, 0}, {5, 0.6}, {10, 0.4}, {20, 1}};
    sched_init(&s);
    set_pts(&s, mono, 4);
    expect_rule(&s, sp, SCHED_RULE_MONOTONIC, 2, 1, "monotonically increase");

    /* the docs' example: slope 1/0.5 = 2 µs⁻¹ */
    static const double slope_ok[][2] = {{0, 0}, {30, 0.7}, {30.06, 0.8}, {40, 1}};
    set_pts(&s, slope_ok, 4);
    assert_int_equal(nviol(&s, sp), 0);
    static const double slope_bad[][2] = {{0, 0}, {30, 0.7}, {30.04, 0.8}, {40, 1}};
    set_pts(&s, slope_bad, 4);
    expect_rule(&s, sp, SCHED_RULE_SLOPE, -1, 1, "maximum slope cannot exceed 2");
    /* exactly at the limit passes (Ocean rounds to 10 decimals before comparing) */
    static const double slope_edge[][2] = {{0, 0}, {0.5, 1}};
    set_pts(&s, slope_edge, 2);
    assert_int_equal(nviol(&s, sp), 0);

    static const double rev[][2] = {{0, 1}, {1, 0.5}, {11, 0.5}, {12, 1}};
    set_pts(&s, rev, 4);
    s.initial_state = false;
    expect_rule(&s, sp, SCHED_RULE_INITIAL_STATE, 0, -1, "initial_state not provided");
    s.initial_state = true;
    assert_int_equal(nviol(&s, sp), 0);

    /* (2000 + 0)·1000 + 1000 > 1e6 µs */
    static const double longs[][2] = {{0, 0}, {2000, 1}};
    set_pts(&s, longs, 2);
    s.num_reads = 1000;
    expect_rule(&s, sp, SCHED_RULE_DURATION, 1, -1, "Upper limit on user-specified timing related parameters exceeded: 2001000 > 1000000");
    s.num_reads = 499;
    assert_int_equal(nviol(&s, sp), 0);

    /* several violations at once are all reported, in a bounded buffer */
    static const double many[][2] = {{1, 0.2}, {1, 0.1}, {3000, 0.5}};
    set_pts(&s, many, 3);
    struct sched_violation v[2];
    int n = sched_validate(&s, sp, v, 2);
    assert_true(n >= 5);
    for (int r = 0; r < SCHED_RULE_COUNT; r++) assert_string_not_equal(sched_rule_name(r), "?");
}

static void test_rules_real_solver(void **state)
{
    struct solver_props *sp = solver_load("DW_2000Q_5");
    if (!sp) fail_msg("%s", qv_errmsg());
    assert_string_equal(sp->name, "DW_2000Q_5");
    assert_int_equal(sp->nq, 2030);
    assert_int_equal(sp->nc, 5909);
    assert_true(sp->annealing_time_range[0] == 1 && sp->annealing_time_range[1] == 2000);
    struct sched s;
    sched_init(&s);
    /* 2000Q: max slope 1 µs⁻¹, so the Advantage-valid quench is refused */
    static const double q[][2] = {{0, 0}, {9, 0.45}, {9.28, 1}};
    set_pts(&s, q, 3);
    expect_rule(&s, sp, SCHED_RULE_SLOPE, -1, 1, "maximum slope cannot exceed 1 ");
    assert_int_equal(nviol(&s, NULL), 0);
    /* the quench builder with this solver's limit produces a valid schedule */
    assert_int_equal(sched_forward(&s, 20), 0);
    assert_int_equal(sched_quench(&s, 0.45, 0, sp), 0);
    assert_int_equal(nviol(&s, sp), 0);
    assert_int_equal(s.n, 3);
    assert_true(fabs(s.pt[2].t - (9 + 0.55)) < 1e-9);
    solver_free(sp);

    struct solver_props *adv = solver_load("Advantage_system4.1");
    if (!adv) fail_msg("%s", qv_errmsg());
    assert_int_equal(adv->nq, 5627);
    assert_int_equal(adv->nc, 40279);
    assert_string_equal(adv->topology, "pegasus");
    assert_true(fabs(adv->temperature_mk - 15.4) < 1e-9);
    /* documented test vector (qpu-protocol §2.4): 2 qubits, 10 reads, defaults */
    double est = solver_estimate_access_time(adv, 2, 10, -1, false, true, -1, -1, false);
    assert_true(fabs(est - 15945.51) < 0.01);
    est = solver_estimate_access_time(adv, 5627, 10, -1, false, true, -1, -1, false);
    assert_true(fabs(est - 17831.28) < 0.01);
    assert_int_equal(solver_max_num_reads(adv, 20, -1, -1), 10000);
    assert_int_equal(solver_max_num_reads(adv, 2000, -1, -1), 499);
    assert_true(solver_accepts_param(adv, "anneal_schedule"));
    assert_true(solver_accepts_param(adv, "x_anything"));
    assert_false(solver_accepts_param(adv, "chains"));
    assert_true(solver_qubit_index(adv, adv->qubits[100]) == 100);
    assert_int_equal(solver_qubit_index(adv, 0), -1);
    solver_free(adv);

    struct solver_props *z = solver_load("Advantage2");
    if (!z) fail_msg("%s", qv_errmsg());
    assert_string_equal(z->name, "Advantage2_system1.5");
    assert_string_equal(z->graph_id, "018d6fa6d0");
    assert_int_equal(z->nq, 4594);
    assert_int_equal(z->nc, 41813);
    assert_int_equal(z->nshape, 2);
    solver_free(z);

    assert_null(solver_load("Advantage"));            /* ambiguous prefix */
    assert_non_null(strstr(qv_errmsg(), "ambiguous"));
    assert_null(solver_load("NoSuchQPU"));
    assert_non_null(strstr(qv_errmsg(), "unknown"));
}

static void test_solver_bad(void **state)
{
    const char *bad[] = {
        "{",                                                            /* malformed */
        "{\"id\": \"x\"}",                                                /* no properties */
        "{\"id\": \"x\", \"properties\": {\"j_range\": [-1, 1]}}",      /* no h_range */
        "{\"id\": \"x\", \"properties\": {\"h_range\": [2, -2], \"j_range\": [-1, 1]}}",
        "{\"id\": \"x\", \"properties\": {\"h_range\": [-2, 2], \"j_range\": [-1, 1], "
        "\"annealing_time_range\": [0, 2000], \"max_anneal_schedule_points\": 12}}",
        "{\"id\": \"x\", \"properties\": {\"h_range\": [-2, 2], \"j_range\": [-1, 1], \"qubits\": [0, 1], "
        "\"couplers\": [[0, 5]], \"annealing_time_range\": [1, 2000], \"max_anneal_schedule_points\": 12}}",
        /* counts too large for the int / long they are stored in (found by fuzz_solver) */
        "{\"id\": \"x\", \"properties\": {\"num_qubits\": 1500217998314891, \"h_range\": [-2, 2], "
        "\"j_range\": [-1, 1], \"annealing_time_range\": [1, 2000], \"max_anneal_schedule_points\": 12}}",
        "{\"id\": \"x\", \"properties\": {\"h_range\": [-2, 2], \"j_range\": [-1, 1], "
        "\"annealing_time_range\": [1, 2000], \"max_anneal_schedule_points\": 1e300}}",
        "{\"id\": \"x\", \"properties\": {\"h_range\": [-2, 2], \"j_range\": [-1, 1], \"num_reads_range\": [1, 1e300], "
        "\"annealing_time_range\": [1, 2000], \"max_anneal_schedule_points\": 12}}",
    };
    const char *want[] = {"malformed JSON", "missing \"properties\"", "missing \"h_range\"", "min > max",
                          "minimum must be > 0", "inactive qubit", "\"num_qubits\": expected a whole number",
                          "\"max_anneal_schedule_points\": expected a whole number", "\"num_reads_range\": expected counts"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct solver_props *sp = solver_parse_text(bad[i], strlen(bad[i]));
        assert_null(sp);
        if (!strstr(qv_errmsg(), want[i])) fail_msg("case %zu: '%s' lacks '%s'", i, qv_errmsg(), want[i]);
    }
    const char *good = "{\"id\": \"toy\", \"properties\": {\"h_range\": [-2, 2], \"j_range\": [-1, 1], "
                       "\"qubits\": [0, 1, 3], \"couplers\": [[0, 1], [1, 3]], "
                       "\"annealing_time_range\": [1, 2000], \"max_anneal_schedule_points\": 12}}";
    struct solver_props *sp = solver_parse_text(good, strlen(good));
    assert_non_null(sp);
    assert_int_equal(sp->num_qubits, 4);
    assert_int_equal(sp->nc, 2);
    assert_int_equal(sp->num_reads_range[1], 10000);
    assert_true(isnan(solver_estimate_access_time(sp, 3, 10, 20, false, false, -1, -1, false)));
    solver_free(sp);
}

/* Compositions of builders at the same s: a quench or a pause at a hold's s starts at the END of
 * the hold.  Expected points are worked by hand from the definitions: forward 20 reaches s = 0.45
 * at t = 9; the default limits allow slope 2 µs⁻¹ (min annealing time 0.5 µs), so a quench from
 * 0.45 takes 0.55 / 2 = 0.275 µs, rounded up to the 0.01 µs grid: 0.28. */
static void test_compositions(void **state)
{
    struct sched s;
    sched_init(&s);
    /* pause then quench: 0 → 0.45 in 9 µs, hold 50 µs, then the quench */
    assert_int_equal(sched_forward(&s, 20), 0);
    assert_int_equal(sched_pause(&s, 0.45, 50), 0);
    assert_int_equal(sched_quench(&s, 0.45, 0, NULL), 0);
    assert_int_equal(s.n, 4);
    assert_true(s.pt[1].t == 9 && s.pt[1].s == 0.45);
    assert_true(s.pt[2].t == 59 && s.pt[2].s == 0.45);
    assert_true(fabs(s.pt[3].t - 59.28) < 1e-9 && s.pt[3].s == 1);
    assert_true(fabs(sched_s_at(&s, 58.9) - 0.45) < 1e-12);   /* still holding just before */
    assert_non_null(strstr(s.name, "pause 0.45 50 + quench 0.45"));
    assert_int_equal(nviol(&s, NULL), 0);
    /* a quench at an s reached mid-segment after the hold is unaffected: 0.45 → 1 over 59..70,
     * s = 0.7 at 59 + 11 · 0.25 / 0.55 = 64 µs, then 0.3 / 2 = 0.15 µs to s = 1 */
    assert_int_equal(sched_forward(&s, 20), 0);
    assert_int_equal(sched_pause(&s, 0.45, 50), 0);
    assert_int_equal(sched_quench(&s, 0.7, 0, NULL), 0);
    assert_int_equal(s.n, 5);
    assert_true(fabs(s.pt[3].t - 64) < 1e-9 && fabs(s.pt[3].s - 0.7) < 1e-12);
    assert_true(fabs(s.pt[4].t - 64.15) < 1e-9);
    /* reverse then pause at its target: the 10 µs hold becomes 40 µs (ramp 0.55 / 2 → 0.28) */
    assert_int_equal(sched_reverse(&s, 0.45, 10, 0, NULL), 0);
    assert_int_equal(sched_pause(&s, 0.45, 30), 0);
    assert_int_equal(s.n, 4);
    assert_true(fabs(s.pt[1].t - 0.28) < 1e-12 && s.pt[1].s == 0.45);
    assert_true(fabs(s.pt[2].t - 40.28) < 1e-9 && s.pt[2].s == 0.45);
    assert_true(fabs(s.pt[3].t - 40.56) < 1e-9 && s.pt[3].s == 1);
    assert_true(s.initial_state && sched_is_reverse(&s));
    assert_int_equal(nviol(&s, NULL), 0);
    /* reverse without a hold, then pause at the target: a hold appears at the turning point */
    assert_int_equal(sched_reverse(&s, 0.45, 0, 0, NULL), 0);
    assert_int_equal(sched_pause(&s, 0.45, 30), 0);
    assert_int_equal(s.n, 4);
    assert_true(fabs(s.pt[2].t - 30.28) < 1e-9 && s.pt[2].s == 0.45);
    assert_true(fabs(s.pt[3].t - 30.56) < 1e-9 && s.pt[3].s == 1);
    /* reverse then pause on the way down (s = 0.7 first reached at 0.3 / 0.55 of the ramp) */
    assert_int_equal(sched_reverse(&s, 0.45, 10, 0, NULL), 0);
    assert_int_equal(sched_pause(&s, 0.7, 5), 0);
    assert_int_equal(s.n, 6);
    assert_true(fabs(s.pt[1].t - 0.28 * 0.3 / 0.55) < 1e-12 && fabs(s.pt[1].s - 0.7) < 1e-12);
    assert_true(fabs(s.pt[2].t - (0.28 * 0.3 / 0.55 + 5)) < 1e-12);
    assert_true(fabs(s.pt[5].t - 15.56) < 1e-9 && s.pt[5].s == 1);
}

static void test_builders(void **state)
{
    struct sched s;
    sched_init(&s);
    assert_int_equal(sched_forward(&s, 20), 0);
    assert_int_equal(sched_pause(&s, 0.4, 10), 0);
    assert_int_equal(s.n, 4);
    assert_true(s.pt[1].t == 8 && s.pt[1].s == 0.4 && s.pt[2].t == 18 && s.pt[2].s == 0.4);
    assert_true(s.pt[3].t == 30 && s.pt[3].s == 1);
    assert_int_equal(nviol(&s, NULL), 0);
    /* pausing again at the hold's s lengthens the hold: no point is added */
    assert_int_equal(sched_pause(&s, 0.4, 2), 0);
    assert_int_equal(s.n, 4);
    assert_true(s.pt[1].t == 8 && s.pt[2].t == 20 && s.pt[2].s == 0.4 && s.pt[3].t == 32);
    assert_int_equal(nviol(&s, NULL), 0);
    /* quench at the limit slope 2 µs⁻¹ from s = 0.7 */
    assert_int_equal(sched_quench(&s, 0.7, 0, NULL), 0);
    assert_true(s.pt[s.n - 1].s == 1 && fabs(s.pt[s.n - 1].t - (s.pt[s.n - 2].t + 0.15)) < 1e-9);
    assert_int_equal(nviol(&s, NULL), 0);
    double sq = sched_s_at(&s, s.pt[s.n - 2].t + 0.075);
    assert_true(fabs(sq - 0.85) < 1e-9);
    /* reverse with the fastest ramp */
    assert_int_equal(sched_reverse(&s, 0.45, 10, 0, NULL), 0);
    assert_int_equal(s.n, 4);
    assert_true(s.initial_state && sched_is_reverse(&s));
    assert_true(fabs(s.pt[1].t - 0.28) < 1e-12 && s.pt[1].s == 0.45);
    assert_int_equal(nviol(&s, NULL), 0);
    /* builders refuse bad arguments and keep the schedule */
    struct sched keep;
    sched_copy(&keep, &s);
    assert_int_equal(sched_pause(&s, 1.5, 10), -1);
    assert_int_equal(sched_pause(&s, 0.5, -1), -1);
    assert_int_equal(sched_quench(&s, NAN, 0, NULL), -1);
    assert_int_equal(sched_reverse(&s, 0.5, NAN, 0, NULL), -1);
    assert_int_equal(sched_forward(&s, 0), -1);
    assert_non_null(strstr(qv_errmsg(), "positive"));
    assert_memory_equal(&keep, &s, sizeof s);
    /* editing */
    assert_int_equal(sched_forward(&s, 20), 0);
    assert_int_equal(sched_add(&s, 10, 0.3), 1);
    assert_int_equal(sched_add(&s, 10, 0.5), -1);
    assert_non_null(strstr(qv_errmsg(), "already point 1"));
    assert_int_equal(sched_move(&s, 1, 15, 0.6), 1);
    assert_true(s.pt[1].t == 15 && s.pt[1].s == 0.6);
    assert_int_equal(sched_add(&s, -1, 0.3), -1);
    assert_non_null(strstr(qv_errmsg(), "negative time"));
    assert_int_equal(sched_add(&s, 5, 1.5), -1);
    assert_non_null(strstr(qv_errmsg(), "outside [0, 1]"));
    assert_int_equal(sched_del(&s, 7), -1);
    assert_int_equal(sched_del(&s, 1), 0);
    assert_int_equal(sched_del(&s, 0), -1);   /* would leave one point */
    assert_int_equal(s.n, 2);
}

static void test_json(void **state)
{
    struct sched s;
    sched_init(&s);
    const char *ok = "[[0, 0], [8, 0.4], [18, 0.4], [30, 1]]";
    assert_int_equal(sched_from_json_text(&s, ok, strlen(ok)), 0);
    assert_int_equal(s.n, 4);
    char *j = sched_to_json(&s);
    assert_string_equal(j, ok);
    free(j);
    struct sched keep;
    sched_copy(&keep, &s);
    struct { const char *text, *err; } bad[] = {
        {"[[0, 0], [20, 1]", "malformed JSON"},
        {"[[0, 0], [NaN, 1]]", "malformed JSON"},
        {"[[0, 0]]", "at least 2 points"},
        {"[[0, 0], [-5, 0.5], [20, 1]]", "negative time"},
        {"[[0, 0], [10, 0.5], [5, 0.6], [20, 1]]", "strictly increase"},
        {"[[0, 0], [10, 1.5], [20, 1]]", "outside [0, 1]"},
        {"[[0, 0], [10], [20, 1]]", "element 1 is not a [t, s] pair"},
        {"[[0, 0], [10, \"x\"], [20, 1]]", "point 1: s is not a number"},
        {"{\"x\": 1}", "missing \"anneal_schedule\""},
        {"3", "expected a list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(sched_from_json_text(&s, bad[i].text, strlen(bad[i].text)), -1);
        if (!strstr(qv_errmsg(), bad[i].err)) fail_msg("'%s': '%s' lacks '%s'", bad[i].text, qv_errmsg(), bad[i].err);
        assert_memory_equal(&keep, &s, sizeof s);
    }
    /* object form round trip (what sessions store) */
    s.num_reads = 42;
    s.initial_state = true;
    snprintf(s.solver, sizeof s.solver, "DW_2000Q_5");
    struct cJSON *o = sched_to_cjson(&s);
    struct sched t;
    sched_init(&t);
    assert_int_equal(sched_from_cjson(&t, o), 0);
    assert_int_equal(t.num_reads, 42);
    assert_true(t.initial_state);
    assert_string_equal(t.solver, "DW_2000Q_5");
    assert_int_equal(t.n, 4);
    for (int i = 0; i < 4; i++) assert_true(t.pt[i].t == s.pt[i].t && t.pt[i].s == s.pt[i].s);
    extern void cJSON_Delete(struct cJSON *);
    cJSON_Delete(o);
    /* save / load a file */
    const char *tmp = getenv("QVAE_TMP");
    char path[512];
    snprintf(path, sizeof path, "%s/sched_test.json", tmp ? tmp : "/tmp");
    assert_int_equal(sched_save_file(&s, path), 0);
    sched_init(&t);
    assert_int_equal(sched_load_file(&t, path), 0);
    assert_int_equal(t.n, 4);
    assert_true(t.pt[2].t == 18);
    remove(path);
    assert_int_equal(sched_load_file(&t, path), -1);
}

static void test_presets(void **state)
{
    const char *names[] = {"standard", "pause", "quench", "reverse"};
    for (int i = 0; i < 4; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/assets/schedules/%s.json", qv_home(), names[i]);
        struct sched s;
        sched_init(&s);
        if (sched_load_file(&s, path)) fail_msg("%s", qv_errmsg());
        s.initial_state = sched_is_reverse(&s);
        struct sched_violation v;
        if (sched_validate(&s, NULL, &v, 1)) fail_msg("preset %s: %s", names[i], v.msg);
    }
}

static void test_anneal_functions(void **state)
{
    const struct anneal_table *t = anneal_table_get("dw2000q6");
    if (!t) fail_msg("%s", qv_errmsg());
    assert_true(fabs(anneal_A(t, 0) - 9.965879) < 1e-6);
    assert_true(fabs(anneal_B(t, 1) - 11.97718) < 1e-4);
    /* s = 0.500 is missing from the table: interpolated between 0.499 and 0.501 */
    double a = anneal_A(t, 0.5), b = anneal_B(t, 0.5);
    assert_true(fabs(a - 1.2476) < 0.01 && fabs(b - 3.4443) < 0.01);
    assert_true(fabs(anneal_A(t, 0.612) - 0.28565) < 2e-3);
    assert_true(fabs(anneal_B(t, 0.612) - 4.90237) < 2e-3);
    /* β_phys = h/(k_B T): 3.116 GHz⁻¹ at 15.4 mK; the docs' T_eff = 2 k_B T / B(s*) = 0.164 */
    double bp = anneal_beta_phys(15.4);
    assert_true(fabs(bp - 3.116) < 0.002);
    assert_true(fabs(1.0 / (bp * 3.91 / 2) - 0.164) < 0.001);
    /* freeze-out of the standard anneal is the calibration point */
    struct sched s;
    sched_init(&s);
    sched_forward(&s, 20);
    struct freezeout fo;
    assert_int_equal(anneal_freezeout(&s, NULL, NULL, &fo), 0);
    assert_true(fabs(fo.s_star - 0.612) < 0.002);
    /* a slower anneal freezes later, an early quench earlier, a long pause past s* moves it there */
    sched_forward(&s, 2000);
    struct freezeout slow;
    anneal_freezeout(&s, NULL, NULL, &slow);
    assert_true(slow.s_star > fo.s_star + 0.02);
    sched_forward(&s, 20);
    sched_quench(&s, 0.4, 0, NULL);
    struct freezeout q;
    anneal_freezeout(&s, NULL, NULL, &q);
    assert_true(q.s_star < fo.s_star - 0.05 && q.beta_eff < fo.beta_eff);   /* 2 µs⁻¹ is not instant */
    sched_forward(&s, 20);
    sched_pause(&s, 0.65, 1000);
    struct freezeout p;
    anneal_freezeout(&s, NULL, NULL, &p);
    assert_true(fabs(p.s_star - 0.65) < 1e-6);

    /* a CSV with a missing column, and one with a bad number */
    const char *tmp = getenv("QVAE_TMP");
    char path[512];
    snprintf(path, sizeof path, "%s/ab_bad.csv", tmp ? tmp : "/tmp");
    FILE *f = fopen(path, "w");
    fputs("s,A_GHz,c\n0,9,0\n1,0,1\n", f);
    fclose(f);
    assert_null(anneal_table_load(path, 0.6));
    assert_non_null(strstr(qv_errmsg(), "missing column B"));
    f = fopen(path, "w");
    fputs("s,A_GHz,B_GHz\n0,9,0.1\n0.5,x,1\n1,0,10\n", f);
    fclose(f);
    assert_null(anneal_table_load(path, 0.6));
    assert_non_null(strstr(qv_errmsg(), "line 3"));
    f = fopen(path, "w");
    fputs("B_GHz,s,A_GHz\n0.1,0,9\n10,1,0\n", f);
    fclose(f);
    struct anneal_table *ok = anneal_table_load(path, 0.6);
    assert_non_null(ok);
    assert_true(fabs(anneal_A(ok, 0.5) - 4.5) < 1e-12 && fabs(anneal_B(ok, 0.5) - 5.05) < 1e-12);
    anneal_table_free(ok);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_rules_real_solver),
        cmocka_unit_test(test_solver_bad),
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_compositions),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_anneal_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
