/* emu_http.c — the emulator's HTTP face: the dispatcher (faults, token, routing), content
 * negotiation, replies (gzip for large bodies, as SAPI does) and the solver resources.
 *
 * Versions (qpu-protocol §1.11 point 3, media types as in the recorded exchanges under
 * shared/data/sapi/exchanges): an Accept header asking for version 3 gets v3 bodies (solver
 * `identity` objects) typed "…; version=3.0.0"; one asking for version 2, naming no version
 * (Ocean clients before 0.14 send the bare media type or any-type) gets the v2 form (string `id`,
 * `status`, `avg_load`) typed "…; version=2.0.0" for solvers and "…; version=2.1.0" for
 * problems; any other version is refused with 415. */
#include "emu_int.h"
#include "solver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>


/* gzip a large body when the client accepts it, as SAPI does for solver lists (NULL = no). */
static unsigned char *gzip_body(const char *body, size_t n, size_t *outn)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&zs, (uLong)n);
    unsigned char *out = qv_malloc(cap);
    zs.next_in = (Bytef *)body; zs.avail_in = (uInt)n;
    zs.next_out = out; zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *outn = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) { free(out); return NULL; }
    return out;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *ctype,
                                  char *body, const char *retry_after)
{
    size_t n = strlen(body), zn = 0;
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    unsigned char *z = n > 65536 && ae && strstr(ae, "gzip") ? gzip_body(body, n, &zn) : NULL;
    struct MHD_Response *r;
    if (z) {
        free(body);
        r = MHD_create_response_from_buffer(zn, z, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    } else {
        r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result emu_reply_json(struct MHD_Connection *c, unsigned status, const char *ctype, cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return reply_text(c, status, ctype, s, NULL);
}

enum MHD_Result emu_reply_err(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap; va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "error_code", status);
    cJSON_AddStringToObject(j, "error_msg", msg);
    return emu_reply_json(c, status, "application/json", j);
}

/* ---------------------------------------------------------------- solvers */

const char *emu_media(const char *kind, enum emu_ver v)
{
    /* media types served, by resource kind and version, as the recorded exchanges show them */
    static const char *const v3[][2] = {
        {"solver-definition-list", "application/vnd.dwave.sapi.solver-definition-list+json; version=3.0.0"},
        {"solver-definition", "application/vnd.dwave.sapi.solver-definition+json; version=3.0.0"},
        {"problems", "application/vnd.dwave.sapi.problems+json; version=3.0.0; charset=utf-8"},
        {"problem", "application/vnd.dwave.sapi.problem+json; version=3.0.0; charset=utf-8"},
        {"problem-data", "application/vnd.dwave.sapi.problem-data+json; version=3.0.0; charset=utf-8"},
        {"problem-answer", "application/vnd.dwave.sapi.problem-answer+json; version=3.0.0; charset=utf-8"},
        {"problem-message", "application/vnd.dwave.sapi.problem-message+json; version=3.0.0; charset=utf-8"}};
    static const char *const v2[][2] = {
        {"solver-definition-list", "application/vnd.dwave.sapi.solver-definition-list+json; version=2.0.0"},
        {"solver-definition", "application/vnd.dwave.sapi.solver-definition+json; version=2.0.0"},
        {"problems", "application/vnd.dwave.sapi.problems+json; version=2.1.0; charset=utf-8"},
        {"problem", "application/vnd.dwave.sapi.problem+json; version=2.1.0; charset=utf-8"},
        {"problem-data", "application/vnd.dwave.sapi.problem-data+json; version=2.1.0; charset=utf-8"},
        {"problem-answer", "application/vnd.dwave.sapi.problem-answer+json; version=2.1.0; charset=utf-8"},
        {"problem-message", "application/vnd.dwave.sapi.problem-message+json; version=2.1.0; charset=utf-8"}};
    const char *const (*t)[2] = v == EMU_V3 ? v3 : v2;
    for (size_t i = 0; i < sizeof v3 / sizeof v3[0]; i++)
        if (!strcmp(t[i][0], kind)) return t[i][1];
    return "application/json";
}

/* The Accept header's version: 2 for version 2 or none, 3 for version 3, -1 for any other
 * (→ 415).  "version=3.0.0", "version=~=2.0" and a quoted value all name their major. */
static int negotiate(struct MHD_Connection *c, enum emu_ver *v)
{
    const char *acc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    *v = EMU_V2;
    const char *p = acc ? strstr(acc, "version") : NULL;
    if (!p) return 0;
    p += 7;
    while (*p && strchr(" =~<>\"", *p)) p++;
    if (*p < '0' || *p > '9') return -1;
    long major = strtol(p, NULL, 10);
    if (major == 3) *v = EMU_V3;
    return major == 2 || major == 3 ? 0 : -1;
}

cJSON *emu_error_object(unsigned code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "error_code", code);
    cJSON_AddStringToObject(o, "error_msg", msg);
    return o;
}

cJSON *emu_solver_ref(const struct emu_solver *s, enum emu_ver v)
{
    if (v == EMU_V2) return cJSON_CreateString(s->sp->name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", s->sp->name);
    cJSON *ver = cJSON_AddObjectToObject(o, "version");
    cJSON_AddStringToObject(ver, "graph_id", s->graph_id);
    return o;
}

/* The solver object as served: v3 {identity, status, avg_load, description, properties};
 * v2 {id, status, description, properties, avg_load}. */
static cJSON *solver_object(const struct emu_solver *s, enum emu_ver v)
{
    const struct solver_props *sp = s->sp;
    cJSON *o = cJSON_CreateObject();
    if (v == EMU_V3) {
        cJSON_AddItemToObject(o, "identity", emu_solver_ref(s, v));
        cJSON_AddStringToObject(o, "status", "ONLINE");
        cJSON_AddNumberToObject(o, "avg_load", 0.0);
    } else {
        cJSON_AddStringToObject(o, "id", sp->name);
        cJSON_AddStringToObject(o, "status", "ONLINE");
    }
    cJSON_AddStringToObject(o, "description", sp->description[0] ? sp->description : "qvae emulated QPU");
    const cJSON *props = sp->json ? cJSON_GetObjectItemCaseSensitive(sp->json, "properties") : NULL;
    cJSON_AddItemToObject(o, "properties", props ? cJSON_Duplicate(props, 1) : cJSON_CreateObject());
    if (v == EMU_V2) cJSON_AddNumberToObject(o, "avg_load", 0.0);
    return o;
}

const cJSON *emu_path_get(const cJSON *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save))
        o = cJSON_GetObjectItemCaseSensitive(o, t);
    return o;
}

static void path_put(cJSON *dst, const char *path, const cJSON *val)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL, *t = strtok_r(buf, ".", &save);
    while (t) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, t);
            cJSON_AddItemToObject(dst, t, cJSON_Duplicate(val, 1));
            return;
        }
        cJSON *sub = cJSON_GetObjectItemCaseSensitive(dst, t);
        if (!cJSON_IsObject(sub)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, t);
            sub = cJSON_AddObjectToObject(dst, t);
        }
        dst = sub;
        t = next;
    }
}

static void path_del(cJSON *dst, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *dot = strrchr(buf, '.');
    cJSON *parent = dst;
    const char *leaf = buf;
    if (dot) {
        *dot = 0;
        parent = (cJSON *)emu_path_get(dst, buf);
        leaf = dot + 1;
    }
    if (cJSON_IsObject(parent)) cJSON_DeleteItemFromObjectCaseSensitive(parent, leaf);
}

/* SAPI filter: {all|none}[,{+|-}field]…, dotted paths reach into nested objects. */
static cJSON *apply_filter(cJSON *full, const char *filter)
{
    if (!filter || !*filter) return full;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", filter);
    char *save = NULL;
    cJSON *out = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!out) {
            if (!strcmp(t, "none")) { out = cJSON_CreateObject(); continue; }
            out = cJSON_Duplicate(full, 1);
            if (!strcmp(t, "all")) continue;
        }
        char sign = t[0] == ' ' ? '+' : t[0];   /* '+' may arrive decoded as a space */
        const char *p = t + 1;
        if (sign == '+') { const cJSON *v = emu_path_get(full, p); if (v) path_put(out, p, v); }
        else if (sign == '-') path_del(out, p);
    }
    cJSON_Delete(full);
    return out ? out : cJSON_CreateObject();
}

struct conn { char *buf; size_t n, cap; bool too_big; };

void emu_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls; (void)c; (void)t;
    struct conn *k = *con_cls;
    if (k) { free(k->buf); free(k); }
    *con_cls = NULL;
}

/* GET solvers/remote/[NAME] (path without the "solvers/remote" prefix: "" or "/NAME"). */
static enum MHD_Result solvers_resource(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v,
                                        const char *method, const char *rest)
{
    if (strcmp(method, "GET")) return emu_reply_err(c, 405, "Method not allowed");
    const char *filter = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filter");
    if (!*rest) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < e->nsv; i++)
            cJSON_AddItemToArray(arr, apply_filter(solver_object(&e->sv[i], v), filter));
        return emu_reply_json(c, 200, emu_media("solver-definition-list", v), arr);
    }
    int si = emu_find_solver(e, rest + 1);
    if (si < 0) return emu_reply_err(c, 404, "Solver does not exist or apitoken does not have access");
    return emu_reply_json(c, 200, emu_media("solver-definition", v), apply_filter(solver_object(&e->sv[si], v), filter));
}

/* Route one authenticated request (path relative to the endpoint, trailing slashes removed). */
static enum MHD_Result route(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v, const char *url,
                             const char *method, const char *path, const struct conn *k)
{
    if (!strncmp(path, "solvers/remote", 14) && (path[14] == 0 || path[14] == '/'))
        return solvers_resource(e, c, v, method, path + 14);
    if (!strcmp(path, "problems")) {
        if (!strcmp(method, "POST")) return emu_submit(e, c, v, k->buf ? k->buf : "", k->n);
        if (!strcmp(method, "GET")) return emu_list_problems(e, c, v);
        if (!strcmp(method, "DELETE")) return emu_delete_problems(e, c, v, NULL, k->buf, k->n);
        return emu_reply_err(c, 405, "Method not allowed");
    }
    if (!strncmp(path, "problems/", 9)) {
        char id[64], sub[32] = "";
        const char *rest = path + 9, *slash = strchr(rest, '/');
        size_t il = slash ? (size_t)(slash - rest) : strlen(rest);
        if (il == 0 || il >= sizeof id) return emu_reply_err(c, 404, "Problem does not exist or apitoken does not have access");
        memcpy(id, rest, il); id[il] = 0;
        if (slash) snprintf(sub, sizeof sub, "%s", slash + 1);
        if (!strcmp(method, "GET")) return emu_get_problem(e, c, v, id, sub);
        if (!strcmp(method, "DELETE") && !sub[0]) return emu_delete_problems(e, c, v, id, NULL, 0);
        return emu_reply_err(c, 405, "Method not allowed");
    }
    return emu_reply_err(c, 404, "Unknown resource %s", url);
}

enum MHD_Result emu_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                            const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct emu_server *e = cls;
    struct conn *k = *con_cls;
    (void)version;
    if (!k) {
        k = qv_calloc(1, sizeof *k);
        *con_cls = k;
        return MHD_YES;
    }
    if (*upload_size) {
        if (k->n + *upload_size > e->max_body) k->too_big = true;
        else {
            if (k->n + *upload_size + 1 > k->cap) {
                k->cap = (k->n + *upload_size + 1) * 2;
                k->buf = qv_realloc(k->buf, k->cap);
            }
            memcpy(k->buf + k->n, upload, *upload_size);
            k->n += *upload_size;
            k->buf[k->n] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }

    /* faults: decided under the lock, applied outside it */
    mtx_lock(&e->mu);
    e->stats.requests++;
    double lat = e->latency;
    bool drop = emu_fault_hit(e, &e->fdrop);
    unsigned fcode = 0;
    if (!drop) fcode = emu_fault_hit(e, &e->f429) ? 429 : emu_fault_hit(e, &e->f503) ? 503 : emu_fault_hit(e, &e->f500) ? 500 : 0;
    mtx_unlock(&e->mu);
    emu_sleep(lat);
    if (drop) return MHD_NO;   /* closes the connection without a reply */
    if (fcode == 429) {
        char *b = qv_strdup("{\"error_code\":429,\"error_msg\":\"Too many requests (emulated rate limit)\"}");
        return reply_text(c, 429, "application/json", b, "0");
    }
    if (fcode) return emu_reply_err(c, fcode, fcode == 503 ? "Service temporarily unavailable (emulated)"
                                                          : "Internal server error (emulated)");

    if (k->too_big) return emu_reply_err(c, 413, "Request body too large (limit %zu bytes)", e->max_body);
    if (strlen(url) > 8192) return emu_reply_err(c, 414, "Request URL too long");

    const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Auth-Token");
    bool tok_ok = tok && *tok && (!e->token[0] || !strcmp(tok, e->token));
    if (!tok_ok) return emu_reply_err(c, 401, "Invalid token or access denied");

    enum emu_ver v;
    if (negotiate(c, &v)) return emu_reply_err(c, 415, "Unsupported media type version in Accept (versions 2 and 3 are served)");

    const char *rel = url;
    if (!strncmp(rel, "/sapi/", 6)) rel += 6;
    else if (!strcmp(rel, "/sapi")) rel += 5;
    while (*rel == '/') rel++;
    char path[1024];
    snprintf(path, sizeof path, "%s", rel);
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/') path[--pl] = 0;
    return route(e, c, v, url, method, path, k);
}
