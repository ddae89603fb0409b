/* dwconf.c — SAPI configuration as D-Wave's cloud client resolves it: dwave.conf INI files
 * (system, user, local; or one named file), profiles with a [defaults] section, and the
 * DWAVE_API_* environment variables on top.  See sapi.h for the precedence rules.  The token is
 * kept in the struct and never appears in any text produced here. */
#include "sapi.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

void sapi_config_init(struct sapi_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->endpoint, sizeof c->endpoint, "%s", SAPI_DEFAULT_ENDPOINT);
    snprintf(c->endpoint_src, sizeof c->endpoint_src, "default");
    c->connect_timeout = 30;
    c->request_timeout = 60;
    c->job_timeout = 600;
    c->poll_wait = 10;
    c->max_retries = 6;
    c->backoff_base = 0.05;
    c->backoff_max = 30;
}

/* ---- INI ---- */

struct ini_ent { char sec[64], key[64]; char *val; };
struct ini { struct ini_ent *e; int n, cap; char first[64]; };

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

static void ini_set(struct ini *in, const char *sec, const char *key, const char *val)
{
    for (int i = 0; i < in->n; i++)
        if (!strcmp(in->e[i].sec, sec) && !strcmp(in->e[i].key, key)) {
            free(in->e[i].val);
            in->e[i].val = qv_strdup(val);
            return;
        }
    if (in->n == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 16;
        in->e = qv_realloc(in->e, (size_t)in->cap * sizeof *in->e);
    }
    struct ini_ent *e = &in->e[in->n++];
    snprintf(e->sec, sizeof e->sec, "%s", sec);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->val = qv_strdup(val);
}

static const char *ini_get(const struct ini *in, const char *sec, const char *key)
{
    for (int i = 0; i < in->n; i++)
        if (!strcmp(in->e[i].sec, sec) && !strcmp(in->e[i].key, key)) return in->e[i].val;
    return NULL;
}

static bool ini_has_section(const struct ini *in, const char *sec)
{
    for (int i = 0; i < in->n; i++)
        if (!strcmp(in->e[i].sec, sec)) return true;
    return false;
}

static void ini_free(struct ini *in)
{
    for (int i = 0; i < in->n; i++) free(in->e[i].val);
    free(in->e);
    memset(in, 0, sizeof *in);
}

/* Parse one file's text; sections are case-sensitive, keys are lower-cased (configparser). */
static int ini_parse(struct ini *in, const char *text, const char *srcname)
{
    char *copy = qv_strdup(text), *save = NULL;
    char sec[64] = "";
    bool have_sec = false;
    int lineno = 0, rc = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e) { rc = qv_seterr("%s: line %d: unterminated section header", srcname, lineno); break; }
            *e = 0;
            snprintf(sec, sizeof sec, "%s", trim(s + 1));
            have_sec = true;
            if (strcmp(sec, "defaults") && !in->first[0]) snprintf(in->first, sizeof in->first, "%s", sec);
            /* an empty section still counts as a profile */
            if (strcmp(sec, "defaults")) ini_set(in, sec, "\x01", "");
            continue;
        }
        if (!have_sec) { rc = qv_seterr("%s: line %d: key outside a [section]", srcname, lineno); break; }
        char *eq = strpbrk(s, "=:");
        if (!eq) { rc = qv_seterr("%s: line %d: expected key = value", srcname, lineno); break; }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        for (char *p = k; *p; p++) *p = (char)tolower((unsigned char)*p);
        ini_set(in, sec, k, v);
    }
    free(copy);
    return rc;
}

static void set_str(char *dst, size_t n, char *src_dst, size_t srcn, const char *val, const char *src)
{
    snprintf(dst, n, "%s", val);
    snprintf(src_dst, srcn, "%s", src);
}

static void normalise_endpoint(struct sapi_config *c)
{
    size_t l = strlen(c->endpoint);
    if (l && c->endpoint[l - 1] != '/' && l + 1 < sizeof c->endpoint) {
        c->endpoint[l] = '/'; c->endpoint[l + 1] = 0;
    }
}

/* Solver in dwave.conf may be a name or a JSON feature filter ({"name": "…"} or
 * {"name__eq": "…"}); other filters cannot be honoured here and are ignored. */
static void set_solver(struct sapi_config *c, const char *val, const char *src)
{
    if (val[0] == '{') {
        cJSON *j = cJSON_Parse(val);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "name");
        if (!cJSON_IsString(n)) n = cJSON_GetObjectItemCaseSensitive(j, "name__eq");
        if (cJSON_IsString(n)) set_str(c->solver, sizeof c->solver, c->solver_src, sizeof c->solver_src, n->valuestring, src);
        cJSON_Delete(j);
        return;
    }
    set_str(c->solver, sizeof c->solver, c->solver_src, sizeof c->solver_src, val, src);
}

static int apply_ini(struct sapi_config *c, const struct ini *in, const char *profile, const char *srcname)
{
    const char *prof = profile && *profile ? profile : NULL;
    if (!prof) prof = ini_get(in, "defaults", "profile");
    if (!prof && in->first[0]) prof = in->first;
    if (prof && *prof && strcmp(prof, "defaults") && !ini_has_section(in, prof))
        return qv_seterr("%s: profile [%s] not found", srcname, prof);
    if (prof && strcmp(prof, "defaults")) snprintf(c->profile, sizeof c->profile, "%s", prof);
    char src[96];
    static const char *const keys[] = {"token", "endpoint", "region", "solver", "proxy",
                                       "request_timeout", "polling_timeout", "connect_timeout"};
    for (size_t i = 0; i < QV_ARRAY_LEN(keys); i++) {
        const char *v = NULL;
        if (prof) v = ini_get(in, prof, keys[i]);
        if (v) snprintf(src, sizeof src, "dwave.conf [%s]", prof);
        else if ((v = ini_get(in, "defaults", keys[i]))) snprintf(src, sizeof src, "dwave.conf [defaults]");
        if (!v || !*v) continue;
        if (i == 0) set_str(c->token, sizeof c->token, c->token_src, sizeof c->token_src, v, src);
        else if (i == 1) set_str(c->endpoint, sizeof c->endpoint, c->endpoint_src, sizeof c->endpoint_src, v, src);
        else if (i == 2) snprintf(c->region, sizeof c->region, "%s", v);
        else if (i == 3) set_solver(c, v, src);
        else if (i == 4) snprintf(c->proxy, sizeof c->proxy, "%s", v);
        else {
            double d;
            if (qv_parse_double(v, &d) || d <= 0)
                return qv_seterr("%s: %s: must be a positive number of seconds", srcname, keys[i]);
            if (i == 5) c->request_timeout = d;
            else if (i == 6) c->job_timeout = d;
            else c->connect_timeout = d;
        }
    }
    return 0;
}

int dwconf_parse(struct sapi_config *c, const char *text, const char *profile, const char *srcname)
{
    struct ini in = {0};
    int rc = ini_parse(&in, text, srcname ? srcname : "dwave.conf");
    if (!rc) rc = apply_ini(c, &in, profile, srcname ? srcname : "dwave.conf");
    ini_free(&in);
    normalise_endpoint(c);
    return rc;
}

static void add_file(struct sapi_config *c, const char *p)
{
    size_t l = strlen(c->files);
    snprintf(c->files + l, sizeof c->files - l, "%s%s", l ? ":" : "", p);
}

int dwconf_load(struct sapi_config *c, const char *path, const char *profile)
{
    sapi_config_init(c);
    const char *env_file = getenv("DWAVE_CONFIG_FILE");
    if ((!path || !*path) && env_file && *env_file) path = env_file;
    if (!profile || !*profile) profile = getenv("DWAVE_PROFILE");

    struct ini in = {0};
    int rc = 0;
    char cand[8][PATH_MAX];
    int ncand = 0;
    if (path && *path) {
        if (!qv_file_exists(path)) return qv_seterr("config %s: no such file", path);
        snprintf(cand[ncand++], PATH_MAX, "%s", path);
    } else {
        const char *dirs = getenv("XDG_CONFIG_DIRS");
        char sys[PATH_MAX];
        snprintf(sys, sizeof sys, "%s", dirs && *dirs ? dirs : "/etc/xdg");
        /* XDG order: first listed is most important, so read them last */
        char *parts[4]; int np = 0; char *sv = NULL;
        for (char *t = strtok_r(sys, ":", &sv); t && np < 4; t = strtok_r(NULL, ":", &sv)) parts[np++] = t;
        for (int i = np - 1; i >= 0; i--) snprintf(cand[ncand++], PATH_MAX, "%s/dwave/dwave.conf", parts[i]);
        const char *xh = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        if (xh && *xh) snprintf(cand[ncand++], PATH_MAX, "%s/dwave/dwave.conf", xh);
        else if (home && *home) snprintf(cand[ncand++], PATH_MAX, "%s/.config/dwave/dwave.conf", home);
        snprintf(cand[ncand++], PATH_MAX, "./dwave.conf");
    }
    for (int i = 0; i < ncand && !rc; i++) {
        if (!qv_file_exists(cand[i])) continue;
        unsigned char *text = NULL; size_t len;
        if (qv_read_file(cand[i], false, &text, &len)) { rc = -1; break; }
        rc = ini_parse(&in, (const char *)text, cand[i]);
        free(text);
        if (!rc) add_file(c, cand[i]);
    }
    if (!rc && in.n) rc = apply_ini(c, &in, profile, c->files);
    else if (!rc && profile && *profile)
        rc = qv_seterr("config: profile [%s] not found (no dwave.conf read)", profile);
    ini_free(&in);
    if (rc) return rc;

    static const struct { const char *env; int which; } E[] = {
        {"DWAVE_API_TOKEN", 0}, {"DWAVE_API_ENDPOINT", 1}, {"DWAVE_API_REGION", 2},
        {"DWAVE_API_SOLVER", 3}, {"DWAVE_API_PROXY", 4},
    };
    for (size_t i = 0; i < QV_ARRAY_LEN(E); i++) {
        const char *v = getenv(E[i].env);
        if (!v || !*v) continue;
        switch (E[i].which) {
        case 0: set_str(c->token, sizeof c->token, c->token_src, sizeof c->token_src, v, E[i].env); break;
        case 1: set_str(c->endpoint, sizeof c->endpoint, c->endpoint_src, sizeof c->endpoint_src, v, E[i].env);
                c->region[0] = 0; break;   /* endpoint and region are mutually exclusive */
        case 2: snprintf(c->region, sizeof c->region, "%s", v);
                if (strcmp(c->endpoint_src, "DWAVE_API_ENDPOINT")) {
                    snprintf(c->endpoint, sizeof c->endpoint, "%s", SAPI_DEFAULT_ENDPOINT);
                    snprintf(c->endpoint_src, sizeof c->endpoint_src, "default");
                }
                break;
        case 3: set_solver(c, v, E[i].env); break;
        case 4: snprintf(c->proxy, sizeof c->proxy, "%s", v); break;
        }
    }
    /* A region other than the default selects the regional endpoint (no metadata API call). */
    if (c->region[0] && strcmp(c->region, "na-west-1") && !strcmp(c->endpoint_src, "default")) {
        snprintf(c->endpoint, sizeof c->endpoint, "https://%s.cloud.dwavesys.com/sapi/v2/", c->region);
        snprintf(c->endpoint_src, sizeof c->endpoint_src, "region %s", c->region);
    }
    normalise_endpoint(c);
    return 0;
}

void sapi_config_describe(const struct sapi_config *c, char *buf, size_t n)
{
    snprintf(buf, n,
             "endpoint: %s (%s)\n"
             "token:    %s%s%s%s\n"
             "solver:   %s%s%s%s\n"
             "profile:  %s\n"
             "files:    %s\n"
             "timeouts: connect %gs, request %gs, job %gs, long-poll %ds; retries %d",
             c->endpoint, c->endpoint_src,
             c->token[0] ? "set" : "not set", c->token[0] ? " (from " : "",
             c->token[0] ? c->token_src : "", c->token[0] ? ")" : "",
             c->solver[0] ? c->solver : "(first online QPU)", c->solver[0] ? " (from " : "",
             c->solver[0] ? c->solver_src : "", c->solver[0] ? ")" : "",
             c->profile[0] ? c->profile : "(none)",
             c->files[0] ? c->files : "(none)",
             c->connect_timeout, c->request_timeout, c->job_timeout, c->poll_wait, c->max_retries);
}
