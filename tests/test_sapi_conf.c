/* test_sapi_conf.c — SAPI configuration like D-Wave's cloud client: dwave.conf profiles with a
 * [defaults] section, profile selection order, several files overriding key by key, environment
 * variables on top, region endpoints, errors naming file and line; and the description never
 * shows the token. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sapi.h"

#define TOK_A "ABC-0123456789abcdef0123456789abcdef"
#define TOK_B "DEF-fedcba9876543210fedcba9876543210"

static const char *conf =
    "# dwave.conf\n"
    "[defaults]\n"
    "endpoint = https://example.invalid/sapi\n"
    "token = " TOK_A "\n"
    "\n"
    "[prod]\n"
    "solver = Advantage_system4.1\n"
    "\n"
    "[alt]\n"
    "token: " TOK_B "\n"
    "Solver = {\"name__eq\": \"DW_2000Q_5\"}\n"
    "request_timeout = 12.5\n";

static void clear_env(void)
{
    const char *v[] = {"DWAVE_API_TOKEN", "DWAVE_API_ENDPOINT", "DWAVE_API_REGION", "DWAVE_API_SOLVER",
                       "DWAVE_API_PROXY", "DWAVE_CONFIG_FILE", "DWAVE_PROFILE", "XDG_CONFIG_HOME",
                       "XDG_CONFIG_DIRS"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) unsetenv(v[i]);
}

static void test_profiles(void **st)
{
    struct sapi_config c;
    /* no profile: the first section after [defaults] */
    sapi_config_init(&c);
    assert_int_equal(dwconf_parse(&c, conf, NULL, "t.conf"), 0);
    assert_string_equal(c.profile, "prod");
    assert_string_equal(c.token, TOK_A);              /* inherited from [defaults] */
    assert_string_equal(c.solver, "Advantage_system4.1");
    assert_string_equal(c.endpoint, "https://example.invalid/sapi/");   /* normalised */
    /* named profile; keys are case-insensitive; a JSON feature filter naming the solver */
    sapi_config_init(&c);
    assert_int_equal(dwconf_parse(&c, conf, "alt", "t.conf"), 0);
    assert_string_equal(c.token, TOK_B);
    assert_string_equal(c.solver, "DW_2000Q_5");
    assert_true(c.request_timeout == 12.5);
    /* [defaults] profile= key */
    char text[1024];
    snprintf(text, sizeof text, "[defaults]\nprofile = alt\n%s", conf + strlen("# dwave.conf\n[defaults]\n"));
    sapi_config_init(&c);
    assert_int_equal(dwconf_parse(&c, text, NULL, "t.conf"), 0);
    assert_string_equal(c.profile, "alt");
    /* errors */
    sapi_config_init(&c);
    assert_int_equal(dwconf_parse(&c, conf, "nope", "t.conf"), -1);
    assert_non_null(strstr(qv_errmsg(), "profile [nope] not found"));
    assert_int_equal(dwconf_parse(&c, "token = x\n", NULL, "t.conf"), -1);
    assert_non_null(strstr(qv_errmsg(), "t.conf: line 1: key outside a [section]"));
    assert_int_equal(dwconf_parse(&c, "[a]\njunk\n", NULL, "t.conf"), -1);
    assert_non_null(strstr(qv_errmsg(), "line 2"));
    assert_int_equal(dwconf_parse(&c, "[a]\nrequest_timeout = soon\n", NULL, "t.conf"), -1);
}

static void write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_files_and_env(void **st)
{
    const char *tmp = getenv("QVAE_TMP");
    char dir[512], path[1600], sys[700], user[700];
    snprintf(dir, sizeof dir, "%s/conf", tmp ? tmp : "/tmp");
    snprintf(path, sizeof path, "mkdir -p %s/sys/dwave %s/user/dwave", dir, dir);
    assert_int_equal(system(path), 0);
    snprintf(sys, sizeof sys, "%s/sys/dwave/dwave.conf", dir);
    snprintf(user, sizeof user, "%s/user/dwave/dwave.conf", dir);
    write(sys, "[prod]\nendpoint = https://sys.invalid/sapi/\nsolver = SYS\n");
    write(user, "[prod]\nsolver = USER\ntoken = " TOK_A "\n");
    clear_env();
    char d1[600], d2[600];
    snprintf(d1, sizeof d1, "%s/sys", dir);
    snprintf(d2, sizeof d2, "%s/user", dir);
    setenv("XDG_CONFIG_DIRS", d1, 1);
    setenv("XDG_CONFIG_HOME", d2, 1);
    struct sapi_config c;
    assert_int_equal(dwconf_load(&c, NULL, NULL), 0);
    assert_string_equal(c.solver, "USER");                       /* user overrides system */
    assert_string_equal(c.endpoint, "https://sys.invalid/sapi/");  /* key by key */
    assert_non_null(strstr(c.files, "sys/dwave/dwave.conf"));
    assert_non_null(strstr(c.files, "user/dwave/dwave.conf"));
    /* environment on top */
    setenv("DWAVE_API_TOKEN", TOK_B, 1);
    setenv("DWAVE_API_SOLVER", "ENV_SOLVER", 1);
    setenv("DWAVE_API_ENDPOINT", "http://127.0.0.1:9/sapi", 1);
    assert_int_equal(dwconf_load(&c, NULL, NULL), 0);
    assert_string_equal(c.token, TOK_B);
    assert_string_equal(c.token_src, "DWAVE_API_TOKEN");
    assert_string_equal(c.solver, "ENV_SOLVER");
    assert_string_equal(c.endpoint, "http://127.0.0.1:9/sapi/");
    /* the description never contains the token */
    char buf[2048];
    sapi_config_describe(&c, buf, sizeof buf);
    assert_null(strstr(buf, TOK_B));
    assert_null(strstr(buf, "fedcba"));
    assert_non_null(strstr(buf, "token:    set (from DWAVE_API_TOKEN)"));
    /* --config names one file: only that one; missing file and profile are errors */
    unsetenv("DWAVE_API_SOLVER");
    assert_int_equal(dwconf_load(&c, sys, NULL), 0);
    assert_string_equal(c.solver, "SYS");
    assert_int_equal(dwconf_load(&c, "/nonexistent/dwave.conf", NULL), -1);
    assert_non_null(strstr(qv_errmsg(), "no such file"));
    assert_int_equal(dwconf_load(&c, sys, "other"), -1);
    /* region selects the regional endpoint when no endpoint is given */
    clear_env();
    setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
    setenv("XDG_CONFIG_DIRS", "/nonexistent", 1);
    setenv("DWAVE_API_REGION", "eu-central-1", 1);
    assert_int_equal(dwconf_load(&c, NULL, NULL), 0);
    assert_string_equal(c.endpoint, "https://eu-central-1.cloud.dwavesys.com/sapi/v2/");
    unsetenv("DWAVE_API_REGION");
    assert_int_equal(dwconf_load(&c, NULL, NULL), 0);
    assert_string_equal(c.endpoint, SAPI_DEFAULT_ENDPOINT);
    assert_string_equal(c.token, "");
    clear_env();
}

static void test_client_refuses_plain_http(void **st)
{
    struct sapi_config c;
    sapi_config_init(&c);
    snprintf(c.endpoint, sizeof c.endpoint, "http://example.invalid/sapi/");
    snprintf(c.token, sizeof c.token, TOK_A);
    assert_null(sapi_client_new(&c));
    assert_non_null(strstr(qv_errmsg(), "must be https://"));
    assert_null(strstr(qv_errmsg(), TOK_A));
    snprintf(c.endpoint, sizeof c.endpoint, "http://127.0.0.1:1/sapi");
    struct sapi_client *cl = sapi_client_new(&c);
    assert_non_null(cl);
    /* nothing listens on port 1: a clear connection error, retried, without the token */
    struct sapi_config *cc = (struct sapi_config *)sapi_client_config(cl);
    cc->max_retries = 1; cc->backoff_base = 0.01;
    struct sapi_solver_brief *L; int n;
    assert_int_equal(sapi_list_solvers(cl, false, &L, &n), -1);
    assert_non_null(strstr(qv_errmsg(), "cannot connect"));
    assert_null(strstr(qv_errmsg(), TOK_A));
    sapi_client_free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_files_and_env),
        cmocka_unit_test(test_client_refuses_plain_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
