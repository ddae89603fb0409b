/* test_sapi_codec.c — SAPI wire encodings against the test vectors of qpu-protocol.md §1.12, and
 * every recorded real exchange in $QVAE_SHARED/data/sapi/exchanges/ replayed: our encoding of
 * the recorded problems equals the recorded request bodies, and decoding the recorded answers
 * reproduces the recorded samples and energies (recomputed independently from h, J). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sapi.h"
#include "sapi_codec.h"
#include "solver.h"

static char *b64_doubles(const double *v, int n)
{
    unsigned char buf[64];
    for (int i = 0; i < n; i++) memcpy(buf + 8 * i, &v[i], 8);   /* x86: little-endian */
    return sapi_b64_encode(buf, (size_t)n * 8);
}

static void test_b64_vectors(void **st)
{
    double lin[4] = {1, 1, NAN, NAN};
    uint64_t qnan = 0x7FF8000000000000ull; memcpy(&lin[2], &qnan, 8); memcpy(&lin[3], &qnan, 8);
    char *s = b64_doubles(lin, 4);
    assert_string_equal(s, "AAAAAAAA8D8AAAAAAADwPwAAAAAAAPh/AAAAAAAA+H8=");
    free(s);
    double q[1] = {-1};
    s = b64_doubles(q, 1);
    assert_string_equal(s, "AAAAAAAA8L8=");
    free(s);
    double l2[2] = {-0.5, 0.5};
    s = b64_doubles(l2, 2);
    assert_string_equal(s, "AAAAAAAA4L8AAAAAAADgPw==");
    free(s);
    s = sapi_b64_encode(NULL, 0);
    assert_string_equal(s, "");
    free(s);

    /* decode: whitespace skipped, all lengths round-trip */
    unsigned char *out; size_t n;
    assert_int_equal(sapi_b64_decode("AAAA\r\nAAAA\n8L8=", &out, &n), 0);
    assert_int_equal(n, 8);
    double d; memcpy(&d, out, 8);
    assert_true(d == -1.0);
    free(out);
    for (size_t len = 0; len < 20; len++) {
        unsigned char src[20];
        for (size_t i = 0; i < len; i++) src[i] = (unsigned char)(i * 37 + 11);
        char *e = sapi_b64_encode(src, len);
        assert_int_equal(sapi_b64_decode(e, &out, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(out, src, len);
        free(out); free(e);
    }
    /* malformed */
    assert_int_equal(sapi_b64_decode("AA!A", &out, &n), -1);
    assert_non_null(strstr(qv_errmsg(), "invalid character"));
    assert_int_equal(sapi_b64_decode("AAA", &out, &n), -1);
    assert_non_null(strstr(qv_errmsg(), "truncated"));
    assert_int_equal(sapi_b64_decode("A=AA", &out, &n), -1);
}

/* The 4-qubit toy solver of qpu-protocol §1.5: qubits 0..3, couplers (0,1),(1,2),(2,3),(3,0). */
static const int toy_couplers[4][2] = {{0, 1}, {1, 2}, {2, 3}, {0, 3}};
static const int toy_pos[4] = {0, 1, 2, 3};

static void test_qp_encode_vectors(void **st)
{
    double lin[4] = {1, 1, NAN, NAN};
    double quad[4] = {-1, 0, 0, 0};
    char *lb, *qb;
    assert_int_equal(sapi_qp_encode(4, lin, 4, toy_couplers, toy_pos, quad, &lb, &qb), 0);
    assert_string_equal(lb, "AAAAAAAA8D8AAAAAAADwPwAAAAAAAPh/AAAAAAAA+H8=");
    assert_string_equal(qb, "AAAAAAAA8L8=");
    /* server-side mirror */
    double *L, *Q;
    assert_int_equal(sapi_qp_decode(lb, qb, 4, 4, toy_couplers, toy_pos, &L, &Q), 0);
    assert_true(L[0] == 1 && L[1] == 1 && isnan(L[2]) && isnan(L[3]));
    assert_true(Q[0] == -1 && Q[1] == 0 && Q[2] == 0 && Q[3] == 0);
    free(L); free(Q); free(lb); free(qb);

    /* only J(0,3) = -1: lin [0,NaN,NaN,0], quad [-1] */
    double lin2[4] = {0, NAN, NAN, 0};
    double quad2[4] = {0, 0, 0, -1};
    assert_int_equal(sapi_qp_encode(4, lin2, 4, toy_couplers, toy_pos, quad2, &lb, &qb), 0);
    double want[4] = {0, NAN, NAN, 0};
    uint64_t qnan = 0x7FF8000000000000ull; memcpy(&want[1], &qnan, 8); memcpy(&want[2], &qnan, 8);
    char *w = b64_doubles(want, 4);
    assert_string_equal(lb, w);
    assert_string_equal(qb, "AAAAAAAA8L8=");
    free(w); free(lb); free(qb);

    /* a coupling on a coupler with an inactive endpoint is refused */
    double quad3[4] = {0, 0.5, 0, 0};
    assert_int_equal(sapi_qp_encode(4, lin, 4, toy_couplers, toy_pos, quad3, &lb, &qb), -1);
    /* decode: wrong lin length and wrong quad count are errors naming the field */
    assert_int_equal(sapi_qp_decode("AAAAAAAA8L8=", "", 4, 4, toy_couplers, toy_pos, &L, &Q), -1);
    assert_non_null(strstr(qv_errmsg(), "data.lin"));
    assert_int_equal(sapi_qp_decode("AAAAAAAA8D8AAAAAAADwPwAAAAAAAPh/AAAAAAAA+H8=", "", 4, 4,
                                    toy_couplers, toy_pos, &L, &Q), -1);
    assert_non_null(strstr(qv_errmsg(), "data.quad"));
}

static cJSON *answer_obj(const char *sol, const char *en, const char *act, const char *occ, int nv)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "format", "qp");
    cJSON_AddStringToObject(a, "solutions", sol);
    cJSON_AddStringToObject(a, "energies", en);
    cJSON_AddStringToObject(a, "active_variables", act);
    if (occ) cJSON_AddStringToObject(a, "num_occurrences", occ);
    cJSON_AddNumberToObject(a, "num_variables", nv);
    return a;
}

static void test_answer_vectors(void **st)
{
    struct sapi_answer A;
    cJSON *a = answer_obj("AMA=", "AAAAAAAA8L8AAAAAAADwvw==", "HgAAAB8AAAA=", "BgAAAAQAAAA=", 5760);
    assert_int_equal(sapi_answer_decode(a, false, true, &A), 0);
    assert_int_equal(A.nact, 2);
    assert_int_equal(A.active[0], 30);
    assert_int_equal(A.active[1], 31);
    assert_int_equal(A.nsol, 2);
    assert_int_equal(A.sol[0], -1); assert_int_equal(A.sol[1], -1);
    assert_int_equal(A.sol[2], 1);  assert_int_equal(A.sol[3], 1);
    assert_true(A.energies[0] == -1 && A.energies[1] == -1);
    assert_int_equal(A.occ[0], 6); assert_int_equal(A.occ[1], 4);
    assert_int_equal(A.total_reads, 10);
    sapi_answer_free(&A);
    cJSON_Delete(a);

    /* 5-qubit clique: 4 solution bytes for 1 sample — tolerated unless strict */
    a = answer_obj("AAAAAA==", "AAAAAAAALsA=", "AAAAAAEAAAACAAAAAwAAAAQAAAA=", "ZAAAAA==", 5);
    assert_int_equal(sapi_answer_decode(a, false, true, &A), -1);
    assert_int_equal(sapi_answer_decode(a, false, false, &A), 0);
    assert_int_equal(A.nsol, 1);
    assert_true(A.energies[0] == -15);
    assert_int_equal(A.occ[0], 100);
    for (int k = 0; k < 5; k++) assert_int_equal(A.sol[k], -1);
    sapi_answer_free(&A);
    cJSON_Delete(a);

    /* real 2000Q answer: 8 samples, occurrences 13,15,2,8,13,17,21,11 */
    a = answer_obj("INCAwKBwUDA=",
                   "AAAAAAAAAMAAAAAAAAAAwAAAAAAAAADAAAAAAAAAAMAAAAAAAAAAwAAAAAAAAADAAAAAAAAAAMAAAAAAAAAAwA==",
                   "AAAAAAEAAAAEAAAABQAAAA==", "DQAAAA8AAAACAAAACAAAAA0AAAARAAAAFQAAAAsAAAA=", 2048);
    assert_int_equal(sapi_answer_decode(a, false, true, &A), 0);
    static const int occ[8] = {13, 15, 2, 8, 13, 17, 21, 11};
    /* J on (0,4),(1,4),(0,5),(1,5) = 1,1,1,-1; active order 0,1,4,5 */
    for (int r = 0; r < 8; r++) {
        const int8_t *s = A.sol + 4 * r;
        double e = s[0] * s[2] + s[1] * s[2] + s[0] * s[3] - s[1] * s[3];
        assert_true(e == -2.0);
        assert_true(A.energies[r] == -2.0);
        assert_int_equal(A.occ[r], occ[r]);
    }
    assert_int_equal(A.total_reads, 100);
    sapi_answer_free(&A);
    cJSON_Delete(a);

    /* truncated solutions and malformed base64 give clear messages */
    a = answer_obj("INCAwKBw", "AAAAAAAAAMAAAAAAAAAAwAAAAAAAAADAAAAAAAAAAMAAAAAAAAAAwAAAAAAAAADAAAAAAAAAAMAAAAAAAAAAwA==",
                   "AAAAAAEAAAAEAAAABQAAAA==", NULL, 2048);
    assert_int_equal(sapi_answer_decode(a, false, false, &A), -1);
    assert_non_null(strstr(qv_errmsg(), "solutions: truncated"));
    cJSON_Delete(a);
    a = answer_obj("IN*AwKBwUDA=", "AAAAAAAAAMA=", "AAAAAA==", NULL, 2048);
    assert_int_equal(sapi_answer_decode(a, false, false, &A), -1);
    assert_non_null(strstr(qv_errmsg(), "answer: solutions: base64: invalid character"));
    cJSON_Delete(a);
}

static void test_packing(void **st)
{
    uint8_t bits[20] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    unsigned char out[4];
    sapi_pack_bits(10, 2, bits, out);
    char *s = sapi_b64_encode(out, 4);
    assert_string_equal(s, "sYAAQA==");
    free(s);
    /* encode → decode round trip (qubo values) */
    int active[10] = {0, 3, 4, 7, 9, 10, 11, 20, 30, 31};
    double en[2] = {-1.5, 2.25};
    int oc[2] = {3, 7};
    cJSON *a = cJSON_CreateObject();
    sapi_answer_encode(a, 40, 10, active, 2, bits, en, oc);
    struct sapi_answer A;
    assert_int_equal(sapi_answer_decode(a, true, true, &A), 0);
    assert_int_equal(A.nact, 10);
    for (int k = 0; k < 20; k++) assert_int_equal(A.sol[k], bits[k]);
    assert_true(A.energies[1] == 2.25);
    assert_int_equal(A.occ[1], 7);
    assert_int_equal(A.active[9], 31);
    sapi_answer_free(&A);
    cJSON_Delete(a);
}

static void test_zlib(void **st)
{
    char text[5000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = "AAAA+H8=\"lin\""[i % 13];
    unsigned char *z, *back; size_t zn, bn;
    assert_int_equal(sapi_deflate(text, sizeof text, &z, &zn), 0);
    assert_true(z[0] == 0x78);   /* zlib stream header */
    assert_int_equal(sapi_inflate(z, zn, 1 << 20, &back, &bn), 0);
    assert_int_equal(bn, sizeof text);
    assert_memory_equal(back, text, sizeof text);
    free(back);
    /* size limit and truncation */
    assert_int_equal(sapi_inflate(z, zn, 100, &back, &bn), -1);
    assert_non_null(strstr(qv_errmsg(), "larger than"));
    assert_int_equal(sapi_inflate(z, zn / 2, 1 << 20, &back, &bn), -1);
    assert_non_null(strstr(qv_errmsg(), "truncated"));
    /* raw deflate (no zlib header) is accepted too: strip header and adler32 */
    assert_int_equal(sapi_inflate(z + 2, zn - 6, 1 << 20, &back, &bn), 0);
    assert_int_equal(bn, sizeof text);
    free(back);
    free(z);
}

/* ---------------------------------------------------------------- recorded exchanges */

static cJSON *load_json(const char *path)
{
    unsigned char *t; size_t n;
    if (qv_read_file(path, false, &t, &n)) return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)t, n);
    free(t);
    return j;
}

static int replayed_posts, replayed_answers;

static void replay_one(const char *dir)
{
    char path[2048];
    cJSON *post = NULL, *answer_resp = NULL;
    for (int k = 1; k <= 9; k++) {
        snprintf(path, sizeof path, "%s/%02d-request.json", dir, k);
        cJSON *rq = load_json(path);
        if (!rq) break;
        const cJSON *m = cJSON_GetObjectItem(rq, "method");
        if (!strcmp(m->valuestring, "POST") && !post) { post = rq; continue; }
        cJSON_Delete(rq);
        snprintf(path, sizeof path, "%s/%02d-response.json", dir, k);
        cJSON *rs = load_json(path);
        const cJSON *b = cJSON_GetObjectItem(rs, "body");
        if (cJSON_IsObject(b) && cJSON_GetObjectItem(b, "answer") && !answer_resp) answer_resp = rs;
        else cJSON_Delete(rs);
    }
    assert_non_null(post);
    const cJSON *derived = cJSON_GetObjectItem(post, "derived");
    snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(derived, "solver_definition_file")->valuestring);
    struct solver_props *sp = solver_load_file(path);
    if (!sp) fail_msg("%s: %s", path, qv_errmsg());

    /* rebuild the problem from the derived h and J (hardware labels) */
    double *lin = malloc(sizeof(double) * (size_t)sp->nq);
    double *quad = calloc((size_t)sp->nc + 1, sizeof(double));
    for (int i = 0; i < sp->nq; i++) lin[i] = NAN;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(derived, "h")) {
        int q = cJSON_GetArrayItem(e, 0)->valueint;
        int p = solver_qubit_index(sp, q);
        assert_true(p >= 0);
        lin[p] = cJSON_GetArrayItem(e, 1)->valuedouble;
    }
    struct sapi_coupler_index ix;
    sapi_coupler_index_build(sp, &ix);
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(derived, "J")) {
        long k = sapi_coupler_find(&ix, cJSON_GetArrayItem(e, 0)->valueint, cJSON_GetArrayItem(e, 1)->valueint);
        assert_true(k >= 0);
        quad[k] += cJSON_GetArrayItem(e, 2)->valuedouble;
    }
    const cJSON *body = cJSON_GetArrayItem(cJSON_GetObjectItem(post, "body"), 0);
    const cJSON *rtype = cJSON_GetObjectItem(body, "type");
    bool qubo = !strcmp(rtype->valuestring, "qubo");
    const cJSON *label = cJSON_GetObjectItem(body, "label");
    struct sapi_job job = {.sp = sp, .qubo = qubo, .lin = lin, .quad = quad,
                           .offset = cJSON_GetNumberValue(cJSON_GetObjectItem(derived, "offset")),
                           .params = cJSON_GetObjectItem(body, "params"),
                           .label = cJSON_IsString(label) ? label->valuestring : NULL};
    int err;
    cJSON *mine = sapi_job_json(&job, &err);
    assert_non_null(mine);
    const cJSON *rd = cJSON_GetObjectItem(body, "data"), *md = cJSON_GetObjectItem(mine, "data");
    assert_string_equal(cJSON_GetObjectItem(md, "format")->valuestring, cJSON_GetObjectItem(rd, "format")->valuestring);
    assert_string_equal(cJSON_GetObjectItem(md, "lin")->valuestring, cJSON_GetObjectItem(rd, "lin")->valuestring);
    assert_string_equal(cJSON_GetObjectItem(md, "quad")->valuestring, cJSON_GetObjectItem(rd, "quad")->valuestring);
    const cJSON *roff = cJSON_GetObjectItem(rd, "offset");
    assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(md, "offset")) == (roff ? roff->valuedouble : 0.0));
    assert_string_equal(cJSON_GetObjectItem(mine, "type")->valuestring, rtype->valuestring);
    assert_true(cJSON_Compare(cJSON_GetObjectItem(mine, "params"), cJSON_GetObjectItem(body, "params"), 1));
    if (cJSON_IsString(label)) assert_string_equal(cJSON_GetObjectItem(mine, "label")->valuestring, label->valuestring);
    else assert_null(cJSON_GetObjectItem(mine, "label"));
    const cJSON *rs = cJSON_GetObjectItem(body, "solver"), *ms = cJSON_GetObjectItem(mine, "solver");
    if (cJSON_IsString(rs)) {   /* v2 request: our v3 identity must name the same solver */
        const char *mn = cJSON_IsString(ms) ? ms->valuestring : cJSON_GetObjectItem(ms, "name")->valuestring;
        assert_string_equal(mn, rs->valuestring);
    } else {
        assert_true(cJSON_Compare(ms, rs, 1));
    }
    replayed_posts++;
    cJSON_Delete(mine);

    if (answer_resp) {
        const cJSON *ans = cJSON_GetObjectItem(cJSON_GetObjectItem(answer_resp, "body"), "answer");
        const cJSON *dv = cJSON_GetObjectItem(answer_resp, "derived");
        struct sapi_answer A;
        if (sapi_answer_decode(ans, qubo, false, &A)) fail_msg("%s: %s", dir, qv_errmsg());
        assert_int_equal(A.nsol, cJSON_GetObjectItem(dv, "num_samples")->valueint);
        assert_int_equal(A.total_reads, cJSON_GetObjectItem(dv, "num_occurrences_sum")->valueint);
        int *pos = sapi_qubit_pos(sp);
        for (long r = 0; r < A.nsol; r++) {
            const cJSON *ds = cJSON_GetArrayItem(cJSON_GetObjectItem(dv, "solutions"), (int)r);
            const int8_t *s = A.sol + r * A.nact;
            for (int k = 0; k < A.nact; k++) assert_int_equal(s[k], cJSON_GetArrayItem(ds, k)->valueint);
            /* independent energy: Σ lin·x + Σ quad·x·x over active qubits/couplers */
            double val[64] = {0}; int lab[64];
            for (int k = 0; k < A.nact; k++) { lab[k] = A.active[k]; val[k] = s[k]; }
            double E = 0;
            for (int k = 0; k < A.nact; k++) E += lin[pos[lab[k]]] * val[k];
            for (long c = 0; c < sp->nc; c++) {
                if (quad[c] == 0) continue;
                int ka = -1, kb = -1;
                for (int k = 0; k < A.nact; k++) {
                    if (lab[k] == sp->couplers[c][0]) ka = k;
                    if (lab[k] == sp->couplers[c][1]) kb = k;
                }
                assert_true(ka >= 0 && kb >= 0);
                E += quad[c] * val[ka] * val[kb];
            }
            assert_true(fabs(E - A.energies[r]) < 1e-12);
            assert_true(A.energies[r] == cJSON_GetArrayItem(cJSON_GetObjectItem(dv, "energies"), (int)r)->valuedouble);
        }
        free(pos);
        sapi_answer_free(&A);
        replayed_answers++;
    }
    sapi_coupler_index_free(&ix);
    free(lin); free(quad);
    solver_free(sp);
    cJSON_Delete(post);
    cJSON_Delete(answer_resp);
}

static void test_recorded_exchanges(void **st)
{
    const char *sh = getenv("QVAE_SHARED");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/sapi/exchanges", sh ? sh : "../shared");
    DIR *d = opendir(dir);
    if (!d) { print_message("QVAE_SHARED data not found (%s): skipping exchange replay\n", dir); skip(); }
    struct dirent *de;
    char names[32][256]; int n = 0;
    while ((de = readdir(d)) && n < 32)
        if (de->d_name[0] != '.') snprintf(names[n++], 256, "%s", de->d_name);
    closedir(d);
    for (int i = 0; i < n; i++) {
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        replay_one(p);
    }
    print_message("replayed %d recorded problems, %d recorded answers\n", replayed_posts, replayed_answers);
    assert_int_equal(replayed_posts, n);
    assert_int_equal(replayed_answers, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_qp_encode_vectors),
        cmocka_unit_test(test_answer_vectors),
        cmocka_unit_test(test_packing),
        cmocka_unit_test(test_zlib),
        cmocka_unit_test(test_recorded_exchanges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
