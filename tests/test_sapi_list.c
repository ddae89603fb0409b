/* test_sapi_list.c — the client reads both solver-list forms: the recorded real responses in
 * $QVAE_SHARED/data/sapi/exchanges (v2 with a string "id", 2020 and 2025; v3 with "identity"),
 * checked against the values in the recordings themselves; and a list with wrongly typed fields
 * keeps its good entries and names every dropped one with the reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sapi.h"

/* The body of a recorded response, re-serialised as the text the server sent (NULL = skip). */
static char *recorded_body(const char *exchange, int n)
{
    const char *sh = getenv("QVAE_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/sapi/exchanges/%s/%02d-response.json", sh ? sh : "../shared", exchange, n);
    unsigned char *raw; size_t len;
    if (qv_read_file(path, false, &raw, &len)) return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)raw, len);
    free(raw);
    assert_non_null(j);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "body"));
    cJSON_Delete(j);
    assert_non_null(text);
    return text;
}

/* Parse a recorded list and compare every entry with the recording's own JSON. */
static void check_recorded(const char *exchange, int n, int want_count)
{
    char *text = recorded_body(exchange, n);
    if (!text) { print_message("QVAE_SHARED data not found: skipping %s\n", exchange); skip(); }
    struct sapi_solver_brief *L; int cnt;
    char why[512];
    assert_int_equal(sapi_solver_list_parse(text, strlen(text), &L, &cnt, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_int_equal(cnt, want_count);
    cJSON *arr = cJSON_Parse(text);
    for (int i = 0; i < cnt; i++) {
        const cJSON *o = cJSON_GetArrayItem(arr, i), *id = cJSON_GetObjectItemCaseSensitive(o, "identity");
        const cJSON *nm = id ? cJSON_GetObjectItemCaseSensitive(id, "name") : cJSON_GetObjectItemCaseSensitive(o, "id");
        assert_string_equal(L[i].name, nm->valuestring);
        const cJSON *gid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(id, "version"), "graph_id");
        assert_string_equal(L[i].graph_id, gid ? gid->valuestring : "");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
        assert_string_equal(L[i].status, st ? st->valuestring : "");
        const cJSON *al = cJSON_GetObjectItemCaseSensitive(o, "avg_load");
        if (cJSON_IsNumber(al)) assert_true(L[i].avg_load == al->valuedouble);
        else assert_true(isnan(L[i].avg_load));
        const cJSON *nq = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "properties"), "num_qubits");
        assert_int_equal(L[i].num_qubits, nq ? nq->valueint : 0);
    }
    cJSON_Delete(arr);
    free(L);
    free(text);
}

static void test_recorded_forms(void **st)
{
    (void)st;
    check_recorded("advantage2_v2_triangle-ising", 1, 1);     /* v2 full definitions (2025) */
    check_recorded("advantage2_v2_triangle-ising", 2, 1);     /* v2 id/status/avg_load */
    check_recorded("advantage2_v3_triangle-ising", 1, 1);     /* v3 full definitions */
    check_recorded("advantage2_v3_triangle-ising", 2, 1);     /* v3 identity/status/avg_load */
    check_recorded("dw2000q5_single-qubit-ising", 2, 7);      /* 2020 v2 list, QPUs and software */
}

static void test_wrong_types(void **st)
{
    (void)st;
    const char *text =
        "[{\"id\": 5},"
        " {\"id\": \"A\", \"status\": 3},"
        " {\"identity\": {\"name\": \"B\", \"version\": {\"graph_id\": 7}}},"
        " {\"identity\": {\"name\": \"C\"}, \"avg_load\": \"high\"},"
        " {\"id\": \"D\", \"properties\": {\"num_qubits\": \"2048\"}},"
        " \"E\","
        " {\"status\": \"ONLINE\"},"
        " {\"id\": \"Good_v2\", \"status\": \"ONLINE\", \"avg_load\": 0.25,"
        "  \"properties\": {\"num_qubits\": 8, \"topology\": {\"type\": \"chimera\", \"shape\": [1, 1, 4]}}},"
        " {\"identity\": {\"name\": \"Good_v3\", \"version\": {\"graph_id\": \"abc\"}}, \"avg_load\": null}]";
    struct sapi_solver_brief *L; int n;
    char why[2048];
    assert_int_equal(sapi_solver_list_parse(text, strlen(text), &L, &n, why, sizeof why), 0);
    assert_int_equal(n, 2);
    assert_string_equal(L[0].name, "Good_v2");
    assert_string_equal(L[0].category, "qpu");
    assert_int_equal(L[0].nshape, 3);
    assert_true(L[0].avg_load == 0.25);
    assert_string_equal(L[1].name, "Good_v3");
    assert_string_equal(L[1].graph_id, "abc");
    assert_true(isnan(L[1].avg_load));
    const char *want[] = {
        "solver list entry 0 dropped: id is a number, expected a non-empty string",
        "solver list entry 1 (A) dropped: status is a number, expected a string",
        "solver list entry 2 (B) dropped: identity.version.graph_id is a number, expected a string",
        "solver list entry 3 (C) dropped: avg_load is a string, expected a number",
        "solver list entry 4 (D) dropped: properties.num_qubits is a string, expected a number",
        "solver list entry 5 dropped: is a string, not an object",
        "solver list entry 6 dropped: has no name (neither identity.name nor id)",
    };
    int lines = 1;
    for (const char *p = why; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 7);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(why, want[i])) fail_msg("missing '%s' in:\n%s", want[i], why);
    free(L);

    assert_int_equal(sapi_solver_list_parse("{\"id\": \"X\"}", 11, &L, &n, why, sizeof why), -1);
    assert_non_null(strstr(qv_errmsg(), "expected a JSON array"));
    assert_int_equal(sapi_solver_list_parse("[{\"id\"", 6, &L, &n, NULL, 0), -1);
    assert_non_null(strstr(qv_errmsg(), "not valid JSON"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_forms),
        cmocka_unit_test(test_wrong_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
