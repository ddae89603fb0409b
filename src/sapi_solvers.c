/* sapi_solvers.c — the SAPI client's solver side: the solver list (both the v2 form with a
 * string `id` and the v3 form with `identity` objects; entries of the wrong shape are dropped and
 * named), solver properties with caching, the current solver, and index helpers that map
 * hardware labels to wire positions. */
#include "sapi_int.h"
#include "solver.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- solvers */

/* The wrong type of a field present in a solver entry, or NULL when it has none. */
static const char *type_name(const cJSON *v)
{
    return cJSON_IsString(v) ? "a string" : cJSON_IsNumber(v) ? "a number" : cJSON_IsBool(v) ? "a boolean"
         : cJSON_IsArray(v) ? "an array" : cJSON_IsObject(v) ? "an object" : "null";
}

static int reject(char *why, size_t wn, const char *fmt, ...) QV_PRINTF(3, 4);
static int reject(char *why, size_t wn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, wn, fmt, ap);
    va_end(ap);
    return -1;
}

/* One entry of a solver list, v3 (identity {name, version {graph_id}}) or v2 (string id).  Fields
 * may be absent (filtered out); a field present with the wrong type rejects the entry: -1 with
 * the reason in why. */
static int brief_from_json(const cJSON *o, struct sapi_solver_brief *b, char *why, size_t wn)
{
    memset(b, 0, sizeof *b);
    b->avg_load = NAN;
    if (!cJSON_IsObject(o)) return reject(why, wn, "is %s, not an object", type_name(o));
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "identity");
    if (id && !cJSON_IsObject(id)) return reject(why, wn, "identity is %s, expected an object", type_name(id));
    const char *nk = id ? "identity.name" : "id";
    const cJSON *nm = id ? cJSON_GetObjectItemCaseSensitive(id, "name") : cJSON_GetObjectItemCaseSensitive(o, "id");
    if (!nm) return reject(why, wn, "has no name (neither identity.name nor id)");
    if (!cJSON_IsString(nm) || !nm->valuestring[0] || strlen(nm->valuestring) >= sizeof b->name)
        return reject(why, wn, "%s is %s, expected a non-empty string of < %zu characters", nk,
                        cJSON_IsString(nm) ? "a string of the wrong length" : type_name(nm), sizeof b->name);
    snprintf(b->name, sizeof b->name, "%s", nm->valuestring);
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "properties");
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(pr, "topology");
    struct { const char *key; const cJSON *v; bool str; } f[] = {
        {"identity.version.graph_id", cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(id, "version"), "graph_id"), true},
        {"status", cJSON_GetObjectItemCaseSensitive(o, "status"), true},
        {"properties.category", cJSON_GetObjectItemCaseSensitive(pr, "category"), true},
        {"properties.topology.type", cJSON_GetObjectItemCaseSensitive(topo, "type"), true},
        {"avg_load", cJSON_GetObjectItemCaseSensitive(o, "avg_load"), false},
        {"properties.num_qubits", cJSON_GetObjectItemCaseSensitive(pr, "num_qubits"), false}};
    if (pr && !cJSON_IsObject(pr)) return reject(why, wn, "properties is %s, expected an object", type_name(pr));
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const cJSON *v = f[i].v;
        bool ok = !v || (f[i].str ? cJSON_IsString(v) : cJSON_IsNumber(v) || (cJSON_IsNull(v) && i == 4));
        if (!ok) return reject(why, wn, "%s is %s, expected %s", f[i].key, type_name(v), f[i].str ? "a string" : "a number");
    }
    if (f[0].v) snprintf(b->graph_id, sizeof b->graph_id, "%s", f[0].v->valuestring);
    if (f[1].v) snprintf(b->status, sizeof b->status, "%s", f[1].v->valuestring);
    if (f[2].v) snprintf(b->category, sizeof b->category, "%s", f[2].v->valuestring);
    if (f[3].v) snprintf(b->topology, sizeof b->topology, "%s", f[3].v->valuestring);
    if (cJSON_IsNumber(f[4].v)) b->avg_load = f[4].v->valuedouble;
    if (f[5].v) b->num_qubits = f[5].v->valueint;
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(topo, "shape"), *e;
    cJSON_ArrayForEach(e, sh) if (b->nshape < 4 && cJSON_IsNumber(e)) b->shape[b->nshape++] = e->valueint;
    if (!b->category[0] && b->topology[0]) snprintf(b->category, sizeof b->category, "qpu");
    return 0;
}

int sapi_solver_list_parse(const char *text, size_t n, struct sapi_solver_brief **out, int *count,
                           char *why, size_t wn)
{
    *out = NULL; *count = 0;
    if (why && wn) why[0] = 0;
    cJSON *j = cJSON_ParseWithLength(text, n);
    if (!j) return qv_seterr("solver list: not valid JSON");
    if (!cJSON_IsArray(j)) { cJSON_Delete(j); return qv_seterr("solver list: expected a JSON array"); }
    int cnt = cJSON_GetArraySize(j), k = 0, i = 0;
    struct sapi_solver_brief *L = qv_calloc((size_t)cnt + 1, sizeof *L);
    size_t o = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        char r[200];
        if (!brief_from_json(e, &L[k], r, sizeof r)) k++;
        else if (why && o < wn) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "identity"), "name");
            if (!cJSON_IsString(nm)) nm = cJSON_GetObjectItemCaseSensitive(e, "id");
            o += (size_t)snprintf(why + o, wn - o, "%ssolver list entry %d%s%.64s%s dropped: %s", o ? "\n" : "", i,
                                  cJSON_IsString(nm) ? " (" : "", cJSON_IsString(nm) ? nm->valuestring : "",
                                  cJSON_IsString(nm) ? ")" : "", r);
        }
        i++;
    }
    cJSON_Delete(j);
    *out = L; *count = k;
    return 0;
}

int sapi_list_solvers(struct sapi_client *c, bool refresh, struct sapi_solver_brief **out, int *n)
{
    *out = NULL; *n = 0;
    if (refresh || !c->list || qv_now() - c->list_time > 300) {
        struct resp r;
        const char *path = "solvers/remote/?filter=none%2C%2Bid%2C%2Bidentity%2C%2Bstatus%2C%2Bavg_load"
                           "%2C%2Bdescription%2C%2Bproperties.category%2C%2Bproperties.topology"
                           "%2C%2Bproperties.num_qubits";
        if (sapi_request(c, "GET", path, MT("solver-definition-list"), NULL, 0, false, 0, &r)) return -1;
        struct sapi_solver_brief *L;
        int k;
        char why[2048];
        int rc = sapi_solver_list_parse(r.body ? r.body : "", r.n, &L, &k, why, sizeof why);
        free(r.body);
        if (rc) return qv_preferr("qpu: GET solvers/remote/");
        /* never silently: each dropped entry is named with its reason */
        for (char *line = why, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (nl) *nl = 0;
            sapi_logf(c, "qpu: %s", line);
            if (!nl) break;
        }
        free(c->list);
        c->list = L; c->nlist = k; c->list_time = qv_now();
    }
    *out = qv_mallocarray((size_t)c->nlist + 1, sizeof **out);
    memcpy(*out, c->list, (size_t)c->nlist * sizeof **out);
    *n = c->nlist;
    return 0;
}

const struct solver_props *sapi_solver(struct sapi_client *c, const char *name)
{
    for (int i = 0; i < c->ncache; i++)
        if (!strcmp(c->cache[i].sp->name, name) && qv_now() - c->cache[i].fetched < 3600)
            return c->cache[i].sp;
    char *esc = curl_easy_escape(c->curl, name, 0);
    char path[400];
    snprintf(path, sizeof path, "solvers/remote/%s", esc ? esc : name);
    curl_free(esc);
    struct resp r;
    if (sapi_request(c, "GET", path, MT("solver-definition"), NULL, 0, false, 0, &r)) return NULL;
    struct solver_props *sp = solver_parse_text(r.body, r.n);
    free(r.body);
    if (!sp) { qv_preferr("qpu: solver %s", name); return NULL; }
    for (int i = 0; i < c->ncache; i++)
        if (!strcmp(c->cache[i].sp->name, sp->name)) {
            /* keep the old object alive: a sampler may still point at it */
            c->retired = qv_realloc(c->retired, (size_t)(c->nretired + 1) * sizeof *c->retired);
            c->retired[c->nretired++] = c->cache[i].sp;
            c->cache[i].sp = sp; c->cache[i].fetched = qv_now();
            return sp;
        }
    c->cache = qv_realloc(c->cache, (size_t)(c->ncache + 1) * sizeof *c->cache);
    c->cache[c->ncache].sp = sp;
    c->cache[c->ncache].fetched = qv_now();
    c->ncache++;
    return sp;
}

int sapi_use(struct sapi_client *c, const char *name)
{
    if (!sapi_solver(c, name)) return -1;
    snprintf(c->current, sizeof c->current, "%s", name);
    return 0;
}

const struct solver_props *sapi_current_solver(struct sapi_client *c)
{
    if (c->current[0]) return sapi_solver(c, c->current);
    if (c->cfg.solver[0]) {
        const struct solver_props *sp = sapi_solver(c, c->cfg.solver);
        if (sp) snprintf(c->current, sizeof c->current, "%s", sp->name);
        return sp;
    }
    struct sapi_solver_brief *L; int n;
    if (sapi_list_solvers(c, false, &L, &n)) return NULL;
    const char *pick = NULL;
    for (int i = 0; i < n && !pick; i++)
        if (!strcmp(L[i].category, "qpu") && (!L[i].status[0] || !strcmp(L[i].status, "ONLINE")))
            pick = L[i].name;
    if (!pick) { free(L); qv_seterr("qpu: no online QPU solver at %s", c->cfg.endpoint); return NULL; }
    char name[64];
    snprintf(name, sizeof name, "%s", pick);
    free(L);
    if (sapi_use(c, name)) return NULL;
    return sapi_solver(c, name);
}

/* ---------------------------------------------------------------- index helpers */

int *sapi_qubit_pos(const struct solver_props *sp)
{
    int *pos = qv_mallocarray((size_t)sp->num_qubits + 1, sizeof *pos);
    for (int i = 0; i < sp->num_qubits; i++) pos[i] = -1;
    for (int i = 0; i < sp->nq; i++)
        if (sp->qubits[i] >= 0 && sp->qubits[i] < sp->num_qubits) pos[sp->qubits[i]] = i;
    return pos;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int sapi_coupler_index_build(const struct solver_props *sp, struct sapi_coupler_index *ix)
{
    ix->n = sp->nc;
    /* key = (min << 32 | max) << 24 | … would overflow; pack (a,b) in the top bits and keep the
     * coupler position in a parallel array sorted together via one combined 64-bit word:
     * key = a·2^42 + b·2^21 + (pos has its own array). */
    uint64_t *tmp = qv_mallocarray((size_t)sp->nc + 1, sizeof *tmp);
    for (long k = 0; k < sp->nc; k++) {
        uint64_t a = (uint64_t)QV_MIN(sp->couplers[k][0], sp->couplers[k][1]);
        uint64_t b = (uint64_t)QV_MAX(sp->couplers[k][0], sp->couplers[k][1]);
        tmp[k] = (a << 42) | (b << 21) | (uint64_t)k;   /* labels < 2^21, positions < 2^21 */
    }
    qsort(tmp, (size_t)sp->nc, sizeof *tmp, cmp_u64);
    ix->key = qv_mallocarray((size_t)sp->nc + 1, sizeof *ix->key);
    ix->pos = qv_mallocarray((size_t)sp->nc + 1, sizeof *ix->pos);
    for (long k = 0; k < sp->nc; k++) {
        ix->key[k] = tmp[k] >> 21;
        ix->pos[k] = (long)(tmp[k] & ((1u << 21) - 1));
    }
    free(tmp);
    return 0;
}

long sapi_coupler_find(const struct sapi_coupler_index *ix, int a, int b)
{
    if (a > b) { int t = a; a = b; b = t; }
    if (a < 0) return -1;
    uint64_t key = ((uint64_t)a << 21) | (uint64_t)b;
    long lo = 0, hi = ix->n - 1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (ix->key[mid] == key) return ix->pos[mid];
        if (ix->key[mid] < key) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

void sapi_coupler_index_free(struct sapi_coupler_index *ix)
{
    free(ix->key); free(ix->pos);
    memset(ix, 0, sizeof *ix);
}
