/* test_ocean.c — dimod interchange: COO and BQM JSON round trips (BINARY bitwise, SPIN to 1e-12
 * relative, through bm_from_ising's arithmetic), the energy convention checked state by state
 * against the BQM's own formula evaluated from the parsed file, fixtures written by hand from
 * dimod's documented examples (tests/data/dimod_*), every kind of malformed input (one line,
 * naming the place), and the SampleSet JSON read back with cJSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* cmocka before 1.1.6 has no assert_double_equal */
#ifndef assert_double_equal
#define assert_double_equal(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (double)(eps))
#endif
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocean.h"
#include "rng.h"

/* The fixtures: QVAE_HOME/tests/data (the Makefile compiles the source folder in). */
static const char *fixture(const char *name)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/%s", qv_home(), name);
    return path;
}

static char *slurp(const char *path, size_t *len)
{
    unsigned char *buf;
    assert_int_equal(qv_read_file(path, false, &buf, len), 0);
    return (char *)buf;
}

/* C(2,2,4) with random parameters plus awkward values (tiny, huge, −0, many digits). */
static struct bm *awkward_bm(void)
{
    struct bm *bm = bm_new(graph_chimera(2, 2, 4));
    assert_int_equal(bm_random(bm, 1.7, 11), 0);
    bm->b[0] = 1e-300;
    bm->b[1] = -0.0;
    bm->b[2] = 123456789.123456789;
    bm->w[0] = -3.3e-9;
    bm->w[1] = 1.0 / 3.0;
    return bm;
}

/* The BQM's energy of 0/1 state z as dimod defines it, from the parsed file alone. */
static double bqm_energy(const struct ocean_bqm *q, const struct graph *g, const uint8_t *z)
{
    double e = q->offset;
    double *v = malloc(sizeof(double) * (size_t)q->nv);
    for (int i = 0; i < q->nv; i++) {
        int node = graph_find_label(g, q->label[i]);
        assert_true(node >= 0);
        v[i] = q->vt == OCEAN_SPIN ? 2.0 * z[node] - 1 : z[node];
        e += q->linear[i] * v[i];
    }
    for (long k = 0; k < q->nq; k++) e += q->quad[k] * v[q->pair[k][0]] * v[q->pair[k][1]];
    free(v);
    return e;
}

/* Write bm in vartype vt and format f, read it back into a fresh prior on the same graph. */
static struct bm *round_trip(const struct bm *bm, enum ocean_vartype vt, enum ocean_format f,
                             struct ocean_bqm *parsed)
{
    struct ocean_bqm q;
    assert_int_equal(ocean_bqm_from_bm(bm, vt, &q), 0);
    char *txt;
    size_t len;
    if (f == OCEAN_COO) assert_int_equal(ocean_coo_format(&q, &txt, &len), 0);
    else assert_int_equal(ocean_bqm_json_format(&q, &txt, &len), 0);
    assert_int_equal(strlen(txt), len);
    ocean_bqm_free(&q);
    if (f == OCEAN_COO) assert_int_equal(ocean_coo_parse(txt, "rt", NULL, parsed), 0);
    else assert_int_equal(ocean_bqm_json_parse(txt, len, "rt", parsed), 0);
    assert_int_equal(parsed->vt, vt);
    free(txt);
    struct bm *back = bm_new(graph_clone(bm->g));
    assert_int_equal(ocean_bqm_to_bm(parsed, back, "rt"), 0);
    return back;
}

static void test_round_trips(void **st)
{
    (void)st;
    struct bm *bm = awkward_bm();
    for (int f = OCEAN_COO; f <= OCEAN_BQM_JSON; f++) {
        /* BINARY: a = −b, q = −W, so the trip is bitwise (−0 comes back as +0) */
        struct ocean_bqm q;
        struct bm *back = round_trip(bm, OCEAN_BINARY, f, &q);
        assert_true(signbit(bm->b[1]) && back->b[1] == 0 && !signbit(back->b[1]));
        back->b[1] = -0.0;
        assert_memory_equal(back->b, bm->b, sizeof(double) * (size_t)bm->n);
        assert_memory_equal(back->w, bm->w, sizeof(double) * (size_t)bm->ne);
        ocean_bqm_free(&q);
        bm_free(back);
        /* SPIN: h, J through bm_to_ising and back: equal to rounding */
        back = round_trip(bm, OCEAN_SPIN, f, &q);
        for (int i = 0; i < bm->n; i++)
            assert_true(fabs(back->b[i] - bm->b[i]) <= 1e-12 * (1 + fabs(bm->b[i])) * 8);
        for (long k = 0; k < bm->ne; k++) assert_true(fabs(back->w[k] - bm->w[k]) <= 1e-12 * (1 + fabs(bm->w[k])));
        /* the convention: the file's BQM energy of a state is the prior's E(z) — COO keeps no
         * offset (dimod's format has no line for it), so there E(z) = E_file + the offset */
        double h0[32], J0[128], off = 0;
        if (f == OCEAN_COO) bm_to_ising(bm, h0, J0, &off);
        struct rng r;
        rng_init(&r, 5, 0);
        uint8_t z[32];
        for (int t = 0; t < 50; t++) {
            for (int i = 0; i < bm->n; i++) z[i] = (uint8_t)(rng_uniform(&r) < 0.5);
            double e = bm_energy(bm, z);
            double eq = bqm_energy(&q, bm->g, z) + off;
            if (!(fabs(eq - e) <= 1e-6 * (1 + fabs(e))))   /* 1.2e8-sized b */
                fail_msg("format %d, state %d: BQM energy %.17g, prior %.17g", f, t, eq, e);
        }
        ocean_bqm_free(&q);
        bm_free(back);
    }
    /* --new: a prior on the file's own graph carries the same parameters label by label */
    struct ocean_bqm q;
    assert_int_equal(ocean_bqm_from_bm(bm, OCEAN_BINARY, &q), 0);
    struct bm *nb = ocean_bqm_new_bm(&q, "rt");
    assert_non_null(nb);
    assert_int_equal(nb->n, bm->n);
    assert_int_equal(nb->ne, bm->ne);
    for (int i = 0; i < nb->n; i++) {
        int o = graph_find_label(bm->g, nb->g->label[i]);
        assert_true(nb->b[i] == bm->b[o] && (bm->b[o] == 0 || !memcmp(&nb->b[i], &bm->b[o], sizeof(double))));
    }
    for (long k = 0; k < nb->ne; k++) {
        int u = graph_find_label(bm->g, nb->g->label[nb->g->edges[k][0]]);
        int v = graph_find_label(bm->g, nb->g->label[nb->g->edges[k][1]]);
        assert_memory_equal(&nb->w[k], &bm->w[graph_edge_index(bm->g, u, v)], sizeof(double));
    }
    ocean_bqm_free(&q);
    bm_free(nb);
    bm_free(bm);
}

/* COO lines are dimod's: header first, "u v bias" sorted, fixed decimals, no exponent. */
static void test_coo_text(void **st)
{
    (void)st;
    struct bm *bm = bm_new(graph_chimera(1, 1, 2));   /* units 0,1 | 2,3; couplers 0-2 0-3 1-2 1-3 */
    bm->b[0] = 1;
    bm->b[3] = -0.25;
    for (long k = 0; k < bm->ne; k++) bm->w[k] = -(double)(k + 1) / 2;
    bm->w[0] = 1e-9;
    struct ocean_bqm q;
    assert_int_equal(ocean_bqm_from_bm(bm, OCEAN_BINARY, &q), 0);
    char *txt;
    size_t len;
    assert_int_equal(ocean_coo_format(&q, &txt, &len), 0);
    /* a = −b, q = −W; labels of C(1,1,2) are 0..3; the tiny coupler needs 9 decimals */
    assert_string_equal(txt, "# vartype=BINARY\n"
                             "0 0 -1.000000\n0 2 -0.000000001\n0 3 1.000000\n"
                             "1 1 0.000000\n1 2 1.500000\n1 3 2.000000\n"
                             "2 2 0.000000\n3 3 0.250000\n");
    assert_null(strchr(strchr(txt, '\n'), 'e'));   /* no exponent after the header */
    free(txt);
    ocean_bqm_free(&q);
    bm_free(bm);
}

/* Hand-written from dimod's documented examples (coo.py's docstring, coo.dump's ising example,
 * to_serializable's schema as dimod's own tests spell it). */
static void test_fixtures(void **st)
{
    (void)st;
    size_t len;
    /* Q = {(0,0): -1, (0,1): 1, (1,2): -4.5} as COO (with header, and without + --vartype) and JSON */
    for (int f = 0; f < 3; f++) {
        const char *name = f == 0 ? "dimod_coo_qubo.txt" : f == 1 ? "dimod_coo_noheader.txt" : "dimod_bqm_binary.json";
        char *txt = slurp(fixture(name), &len);
        struct ocean_bqm q;
        enum ocean_vartype bin = OCEAN_BINARY;
        if (f < 2) assert_int_equal(ocean_coo_parse(txt, name, f == 1 ? &bin : NULL, &q), 0);
        else assert_int_equal(ocean_bqm_json_parse(txt, len, name, &q), 0);
        free(txt);
        assert_int_equal(q.vt, OCEAN_BINARY);
        assert_int_equal(q.nv, 3);
        struct bm *bm = ocean_bqm_new_bm(&q, name);
        assert_non_null(bm);
        assert_int_equal(bm->n, 3);
        assert_int_equal(bm->ne, 2);
        /* b = −a = (1, 0, 0); W01 = −1, W12 = 4.5 */
        assert_double_equal(bm->b[graph_find_label(bm->g, 0)], 1, 0);
        assert_double_equal(bm->b[graph_find_label(bm->g, 1)], 0, 0);
        assert_double_equal(bm->w[graph_edge_index(bm->g, 0, 1)], -1, 0);
        assert_double_equal(bm->w[graph_edge_index(bm->g, 1, 2)], 4.5, 0);
        /* all 8 states: E(z) = −z0 + z0 z1 − 4.5 z1 z2, the QUBO's own value */
        for (int s = 0; s < 8; s++) {
            uint8_t z[3] = { (uint8_t)(s & 1), (uint8_t)(s >> 1 & 1), (uint8_t)(s >> 2 & 1) };
            assert_double_equal(bm_energy(bm, z), -z[0] + z[0] * z[1] - 4.5 * z[1] * z[2], 1e-12);
        }
        bm_free(bm);
        ocean_bqm_free(&q);
    }
    /* from_ising({0: 1, 1: 2}, {(0, 1): -1}): E(z) − E_s(s) is one constant over the 4 states */
    char *txt = slurp(fixture("dimod_coo_ising.txt"), &len);
    struct ocean_bqm q;
    assert_int_equal(ocean_coo_parse(txt, "ising", NULL, &q), 0);
    free(txt);
    assert_int_equal(q.vt, OCEAN_SPIN);
    struct bm *bm = ocean_bqm_new_bm(&q, "ising");
    double c = NAN;
    for (int s = 0; s < 4; s++) {
        uint8_t z[2] = { (uint8_t)(s & 1), (uint8_t)(s >> 1) };
        double s0 = 2 * z[0] - 1, s1 = 2 * z[1] - 1, es = s0 + 2 * s1 - s0 * s1;
        if (s == 0) c = bm_energy(bm, z) - es;
        assert_double_equal(bm_energy(bm, z) - es, c, 1e-12);
    }
    bm_free(bm);
    ocean_bqm_free(&q);
    /* dimod's test_from_serializable_v3 (SPIN, offset 3) with its labels renamed to integers
     * a→10, c→12, b→11 and the tuple → 7: h and J land on the right qubits */
    txt = slurp(fixture("dimod_bqm_spin.json"), &len);
    assert_int_equal(ocean_bqm_json_parse(txt, len, "spin", &q), 0);
    free(txt);
    assert_double_equal(q.offset, 3, 0);
    bm = ocean_bqm_new_bm(&q, "spin");
    assert_int_equal(bm->n, 6);
    double h[6], J[3], off;
    bm_to_ising(bm, h, J, &off);
    const long hl[3] = { 10, 4, 7 };
    const double hv[3] = { -1, 1, 3 };
    for (int i = 0; i < 3; i++) assert_double_equal(h[graph_find_label(bm->g, hl[i])], hv[i], 1e-12);
    const long jl[3][3] = { { 10, 12, 1 }, { 11, 12, 3 }, { 3, 10, -1 } };
    for (int k = 0; k < 3; k++) {
        long e = graph_edge_index(bm->g, graph_find_label(bm->g, jl[k][0]), graph_find_label(bm->g, jl[k][1]));
        assert_true(e >= 0);
        assert_double_equal(J[e], (double)jl[k][2], 1e-12);
    }
    bm_free(bm);
    ocean_bqm_free(&q);
    /* the same example with its string and tuple labels: qvae needs integer qubit labels */
    txt = slurp(fixture("dimod_bqm_strlabels.json"), &len);
    assert_int_equal(ocean_bqm_json_parse(txt, len, "strlabels.json", &q), -1);
    free(txt);
    assert_string_equal(qv_errmsg(), "strlabels.json: \"variable_labels\"[0] is not a non-negative integer");
}

static void expect_coo_error(const char *text, const enum ocean_vartype *vt, const char *part)
{
    struct ocean_bqm q;
    assert_int_equal(ocean_coo_parse(text, "f.coo", vt, &q), -1);
    if (!strstr(qv_errmsg(), part) || strchr(qv_errmsg(), '\n') || strncmp(qv_errmsg(), "f.coo: ", 7))
        fail_msg("COO %s: message '%s' lacks '%s'", text, qv_errmsg(), part);
}

static void expect_json_error(const char *text, const char *part)
{
    struct ocean_bqm q;
    assert_int_equal(ocean_bqm_json_parse(text, strlen(text), "f.json", &q), -1);
    if (!strstr(qv_errmsg(), part) || strchr(qv_errmsg(), '\n') || strncmp(qv_errmsg(), "f.json: ", 8))
        fail_msg("JSON %s: message '%s' lacks '%s'", text, qv_errmsg(), part);
}

#define BQM_HEAD "{\"type\": \"BinaryQuadraticModel\", \"version\": {\"bqm_schema\": \"3.0.0\"}, "

static void test_malformed(void **st)
{
    (void)st;
    const enum ocean_vartype spin = OCEAN_SPIN;
    expect_coo_error("# vartype=SPIN\n0 1\n", NULL, "line 2: expected 'i j bias'");
    expect_coo_error("# vartype=SPIN\na b 1.0\n", NULL, "line 2");
    expect_coo_error("# vartype=SPIN\n-1 0 2\n", NULL, "line 2");
    expect_coo_error("# vartype=SPIN\n0 0 1.0 extra\n", NULL, "got '0 0 1.0 extra'");
    expect_coo_error("# vartype=SPIN\n0 0 nan\n", NULL, "line 2");
    expect_coo_error("# vartype=SPIN\n0 0 1e999\n", NULL, "line 2");
    expect_coo_error("# vartype=FOO\n0 0 1\n", NULL, "unknown vartype 'FOO'");
    expect_coo_error("# vartype=BINARY\n0 0 1\n", &spin, "the header says BINARY, but SPIN");
    expect_coo_error("0 0 1\n", NULL, "no vartype");
    expect_coo_error("# vartype=SPIN\n\n", NULL, "no 'i j bias' lines");
    expect_json_error("{", "not JSON");
    expect_json_error("[]", "not a JSON object");
    expect_json_error("{\"type\": \"DiscreteQuadraticModel\"}", "\"type\" is not");
    expect_json_error("{\"type\": \"BinaryQuadraticModel\", \"version\": {\"bqm_schema\": \"2.0.0\"}}", "only schema 3.x");
    expect_json_error(BQM_HEAD "\"use_bytes\": true}", "use_bytes");
    expect_json_error(BQM_HEAD "\"variable_type\": \"DISCRETE\"}", "\"variable_type\"");
    const char *vt = "\"use_bytes\": false, \"variable_type\": \"SPIN\", ";
    char buf[1024];
#define BODY(rest) (snprintf(buf, sizeof buf, BQM_HEAD "%s%s}", vt, rest), buf)
    expect_json_error(BODY("\"variable_labels\": [0, 1]"), "\"linear_biases\" is missing");
    expect_json_error(BODY("\"variable_labels\": [0, 1.5], \"linear_biases\": [0, 0], \"quadratic_biases\": [], "
                           "\"quadratic_head\": [], \"quadratic_tail\": []"), "\"variable_labels\"[1]");
    expect_json_error(BODY("\"variable_labels\": [0, 0], \"linear_biases\": [0, 0], \"quadratic_biases\": [], "
                           "\"quadratic_head\": [], \"quadratic_tail\": []"), "label 0 appears twice");
    expect_json_error(BODY("\"variable_labels\": [0, 1], \"linear_biases\": [0], \"quadratic_biases\": [], "
                           "\"quadratic_head\": [], \"quadratic_tail\": []"), "2 variable labels, 1 linear");
    expect_json_error(BODY("\"variable_labels\": [0, 1], \"linear_biases\": [0, \"x\"], \"quadratic_biases\": [], "
                           "\"quadratic_head\": [], \"quadratic_tail\": []"), "\"linear_biases\"[1] is not a finite number");
    expect_json_error(BODY("\"variable_labels\": [0, 1], \"linear_biases\": [0, 0], \"quadratic_biases\": [1], "
                           "\"quadratic_head\": [0], \"quadratic_tail\": [2]"), "interaction 0 joins variable indices 0 and 2");
    expect_json_error(BODY("\"variable_labels\": [0, 1], \"linear_biases\": [0, 0], \"quadratic_biases\": [1], "
                           "\"quadratic_head\": [1], \"quadratic_tail\": [1]"), "interaction 0");
    expect_json_error(BODY("\"variable_labels\": [0, 1], \"linear_biases\": [0, 0], \"quadratic_biases\": [1, 2], "
                           "\"quadratic_head\": [0], \"quadratic_tail\": [1]"), "have 2, 1, 1 entries");
    expect_json_error(BODY("\"variable_labels\": [0, 1], \"linear_biases\": [0, 0], \"quadratic_biases\": [], "
                           "\"quadratic_head\": [], \"quadratic_tail\": [], \"offset\": \"3\""), "\"offset\" is not a number");
#undef BODY
    /* a BQM whose qubits or couplers the prior lacks: named, prior unchanged */
    struct bm *bm = bm_new(graph_chimera(1, 1, 4));
    bm->b[0] = 0.5;
    struct ocean_bqm q;
    assert_int_equal(ocean_coo_parse("# vartype=SPIN\n0 0 1\n9 9 1\n", "x.coo", NULL, &q), 0);
    assert_int_equal(ocean_bqm_to_bm(&q, bm, "x.coo"), -1);
    assert_non_null(strstr(qv_errmsg(), "x.coo: qubit 9 is not in the prior's graph"));
    ocean_bqm_free(&q);
    assert_int_equal(ocean_coo_parse("# vartype=SPIN\n0 1 -1\n", "x.coo", NULL, &q), 0);   /* same shore */
    assert_int_equal(ocean_bqm_to_bm(&q, bm, "x.coo"), -1);
    assert_non_null(strstr(qv_errmsg(), "coupler 0–1 is not in the prior's graph"));
    assert_double_equal(bm->b[0], 0.5, 0);
    ocean_bqm_free(&q);
    bm_free(bm);
}

/* The SampleSet JSON, read back: shape, ±1 or 0/1 rows, energies, labels, weights. */
static void test_sampleset(void **st)
{
    (void)st;
    struct bm *bm = awkward_bm();
    enum { C = 5 };
    const int n = bm->n;
    uint8_t *z = malloc((size_t)C * n);
    double e[C], lw[C];
    struct rng r;
    rng_init(&r, 9, 1);
    for (int k = 0; k < C; k++) {
        for (int i = 0; i < n; i++) z[k * n + i] = (uint8_t)(rng_uniform(&r) < 0.5);
        e[k] = bm_energy(bm, z + k * n);
        lw[k] = -0.1 * k;
    }
    for (int vt = OCEAN_SPIN; vt <= OCEAN_BINARY; vt++) {
        char *txt;
        size_t len;
        assert_int_equal(ocean_sampleset_format(bm->g->label, n, z, C, e, vt == OCEAN_SPIN ? lw : NULL,
                                                vt, &txt, &len), 0);
        cJSON *root = cJSON_ParseWithLength(txt, len);
        assert_non_null(root);
        free(txt);
        assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring, "SampleSet");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "version"), "sampleset_schema")->valuestring, "3.2.0");
        assert_int_equal(cJSON_GetObjectItem(root, "num_rows")->valueint, C);
        assert_int_equal(cJSON_GetObjectItem(root, "num_variables")->valueint, n);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(root, "sample_packed")));
        assert_string_equal(cJSON_GetObjectItem(root, "variable_type")->valuestring, vt == OCEAN_SPIN ? "SPIN" : "BINARY");
        cJSON *sd = cJSON_GetObjectItem(root, "sample_data");
        assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(sd, "shape"), 0)->valueint, C);
        assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(sd, "shape"), 1)->valueint, n);
        cJSON *rows = cJSON_GetObjectItem(sd, "data");
        assert_int_equal(cJSON_GetArraySize(rows), C);
        cJSON *labels = cJSON_GetObjectItem(root, "variable_labels");
        cJSON *vec = cJSON_GetObjectItem(root, "vectors");
        cJSON *en = cJSON_GetObjectItem(cJSON_GetObjectItem(vec, "energy"), "data");
        cJSON *occ = cJSON_GetObjectItem(cJSON_GetObjectItem(vec, "num_occurrences"), "data");
        for (int k = 0; k < C; k++) {
            cJSON *row = cJSON_GetArrayItem(rows, k);
            for (int i = 0; i < n; i++) {
                int want = vt == OCEAN_SPIN ? 2 * z[k * n + i] - 1 : z[k * n + i];
                assert_int_equal(cJSON_GetArrayItem(row, i)->valueint, want);
            }
            assert_memory_equal(&cJSON_GetArrayItem(en, k)->valuedouble, &e[k], sizeof(double));
            assert_int_equal(cJSON_GetArrayItem(occ, k)->valueint, 1);
        }
        for (int i = 0; i < n; i++) assert_int_equal(cJSON_GetArrayItem(labels, i)->valuedouble, (double)bm->g->label[i]);
        cJSON *w = cJSON_GetObjectItem(vec, "log_weight");
        if (vt == OCEAN_SPIN) assert_double_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(w, "data"), 4)->valuedouble, -0.4, 1e-15);
        else assert_null(w);
        cJSON_Delete(root);
    }
    char *txt;
    size_t len;
    e[2] = NAN;
    assert_int_equal(ocean_sampleset_format(bm->g->label, n, z, C, e, NULL, OCEAN_SPIN, &txt, &len), -1);
    assert_non_null(strstr(qv_errmsg(), "state 2"));
    free(z);
    bm_free(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_coo_text),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_sampleset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
