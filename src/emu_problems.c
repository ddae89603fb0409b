/* emu_problems.c — the problem resources of the emulator (qpu-protocol §1.3–§1.9): submit a
 * batch, status and long poll (one id or a list), answer, info, messages, cancel (one or a list).
 * Status objects name the solver in the form the request negotiated (emu_http.c). */
#include "emu_int.h"
#include "sapi.h"
#include "sapi_codec.h"
#include "solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---------------------------------------------------------------- problem resources (locked) */

static cJSON *status_json(struct emu_server *e, const struct emu_problem *p, enum emu_ver v, bool with_answer)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", emu_pstat_name[p->st]);
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddItemToObject(o, "solver", emu_solver_ref(&e->sv[p->solver], v));
    cJSON_AddStringToObject(o, "type", p->qubo ? "qubo" : "ising");
    cJSON_AddStringToObject(o, "submitted_on", p->submitted);
    if (p->label) cJSON_AddStringToObject(o, "label", p->label);
    else cJSON_AddNullToObject(o, "label");
    if (emu_terminal(p->st)) cJSON_AddStringToObject(o, "solved_on", p->solved);
    if (p->st == P_FAILED) cJSON_AddStringToObject(o, "error_message", p->errmsg);
    if (with_answer && p->st == P_COMPLETED && p->answer) {
        cJSON *a = cJSON_Duplicate(p->answer, 1);
        /* answer faults: corrupt base64 or cut the solutions short */
        cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "solutions");
        if (emu_fault_hit(e, &e->fmal)) cJSON_SetValuestring(s, "!!not*base64!!");
        else if (emu_fault_hit(e, &e->ftrunc) && cJSON_IsString(s)) {
            size_t l = strlen(s->valuestring);
            char *cut = qv_strdup(s->valuestring);
            cut[(l / 8) * 4 > 4 ? (l / 8) * 4 - 4 : 0] = 0;
            cJSON_SetValuestring(s, cut);
            free(cut);
        }
        cJSON_AddItemToObject(o, "answer", a);
    }
    return o;
}

/* Wait (locked) until one of ps[] is terminal or the deadline passes. */
static void wait_any(struct emu_server *e, struct emu_problem **ps, int n, double seconds)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    double end = dl.tv_sec + dl.tv_nsec * 1e-9 + seconds;
    dl.tv_sec = (time_t)end;
    dl.tv_nsec = (long)((end - floor(end)) * 1e9);
    for (;;) {
        for (int i = 0; i < n; i++) if (emu_terminal(ps[i]->st)) return;
        if (e->stop) return;
        if (cnd_timedwait(&e->cv, &e->mu, &dl) == thrd_timedout) return;
    }
}

static int parse_timeout(struct MHD_Connection *c, double *secs)
{
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout");
    *secs = 1;
    if (!t) return 0;
    long v;
    if (qv_parse_long(t, &v) || v < 1 || v > 30) return -1;
    *secs = (double)v;
    return 0;
}

static void forget_old(struct emu_server *e)
{
    while (e->npr > EMU_MAX_PROBLEMS) {
        int k = -1;
        for (int i = 0; i < e->npr && k < 0; i++) if (emu_terminal(e->pr[i]->st)) k = i;
        if (k < 0) return;
        emu_problem_free(e->pr[k]);
        memmove(e->pr + k, e->pr + k + 1, (size_t)(e->npr - k - 1) * sizeof *e->pr);
        e->npr--;
    }
}

/* POST problems/: a bare 400 only for a body that is not a JSON array of jobs; each job that
 * fails validation becomes an error object at its place in the 200 reply, so the other jobs of
 * the batch still run (qpu-protocol §1.11 point 6). */
enum MHD_Result emu_submit(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v, const char *body, size_t n)
{
    const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    unsigned char *plain = NULL; size_t pn = 0;
    if (enc && (!strcasecmp(enc, "deflate") || !strcasecmp(enc, "gzip"))) {
        if (sapi_inflate(body, n, e->max_body, &plain, &pn)) {
            if (strstr(qv_errmsg(), "larger than")) return emu_reply_err(c, 413, "Request body too large");
            return emu_reply_err(c, 400, "Invalid %s request body: %s", enc, qv_errmsg());
        }
    } else if (enc && strcasecmp(enc, "identity")) {
        return emu_reply_err(c, 415, "Unsupported Content-Encoding %s", enc);
    }
    cJSON *j = plain ? cJSON_ParseWithLength((const char *)plain, pn) : cJSON_ParseWithLength(body, n);
    free(plain);
    if (!j) return emu_reply_err(c, 400, "Request body is not valid JSON");
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) == 0) {
        cJSON_Delete(j);
        return emu_reply_err(c, 400, "Request body must be a non-empty JSON array of problems");
    }
    int nj = cJSON_GetArraySize(j);
    struct emu_problem **np = qv_calloc((size_t)nj, sizeof *np);
    cJSON **err = qv_calloc((size_t)nj, sizeof *err);
    int k = 0;
    const cJSON *job;
    cJSON_ArrayForEach(job, j) {
        unsigned code;
        np[k] = emu_job_parse(e, job, &code);
        if (np[k] && emu_make_uuid(np[k]->id)) { emu_problem_free(np[k]); np[k] = NULL; code = 500; }
        if (!np[k]) err[k] = emu_error_object(code, qv_errmsg());
        k++;
    }
    cJSON_Delete(j);
    cJSON *out = cJSON_CreateArray();
    mtx_lock(&e->mu);
    for (k = 0; k < nj; k++) {
        if (!np[k]) { cJSON_AddItemToArray(out, err[k]); continue; }
        emu_now_iso(np[k]->submitted, sizeof np[k]->submitted);
        np[k]->st = P_PENDING;
        e->pr = qv_realloc(e->pr, (size_t)(e->npr + 1) * sizeof *e->pr);
        e->pr[e->npr++] = np[k];
        e->nsubmitted++;
        cJSON_AddItemToArray(out, status_json(e, np[k], v, false));
    }
    forget_old(e);
    cnd_broadcast(&e->cv);
    mtx_unlock(&e->mu);
    free(np); free(err);
    return emu_reply_json(c, 200, emu_media("problems", v), out);
}

enum MHD_Result emu_get_problem(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v,
                                const char *id, const char *sub)
{
    double secs;
    if (!sub[0] && parse_timeout(c, &secs)) return emu_reply_err(c, 400, "timeout must be an integer number of seconds in [1, 30]");
    mtx_lock(&e->mu);
    struct emu_problem *p = emu_find_problem(e, id);
    if (!p) { mtx_unlock(&e->mu); return emu_reply_err(c, 404, "Problem does not exist or apitoken does not have access"); }
    if (!sub[0]) {
        if (!emu_terminal(p->st)) wait_any(e, &p, 1, secs);
        p = emu_find_problem(e, id);   /* still there: problems are only forgotten when terminal */
        cJSON *o = p ? status_json(e, p, v, true) : NULL;
        mtx_unlock(&e->mu);
        if (!o) return emu_reply_err(c, 410, "Problem is no longer accessible");
        return emu_reply_json(c, 200, emu_media("problem", v), o);
    }
    if (!strcmp(sub, "answer")) {
        if (p->st != P_COMPLETED) {
            mtx_unlock(&e->mu);
            return emu_reply_err(c, 404, "Problem has no answer (status %s)", emu_pstat_name[p->st]);
        }
        cJSON *st = status_json(e, p, v, true);
        mtx_unlock(&e->mu);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "answer", cJSON_DetachItemFromObject(st, "answer"));
        cJSON_Delete(st);
        return emu_reply_json(c, 200, emu_media("problem-answer", v), o);
    }
    if (!strcmp(sub, "messages")) {
        mtx_unlock(&e->mu);
        return emu_reply_json(c, 200, emu_media("problem-message", v), cJSON_CreateArray());
    }
    if (!strcmp(sub, "info")) {
        const struct emu_solver *S = &e->sv[p->solver];
        char *lb = NULL, *qb = NULL;
        sapi_qp_encode(S->sp->nq, p->lin, S->sp->nc, (const int (*)[2])S->sp->couplers, S->pos, p->quad, &lb, &qb);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", p->id);
        cJSON *d = cJSON_AddObjectToObject(o, "data");
        cJSON_AddStringToObject(d, "format", "qp");
        cJSON_AddStringToObject(d, "lin", lb ? lb : "");
        cJSON_AddStringToObject(d, "quad", qb ? qb : "");
        free(lb); free(qb);
        cJSON_AddItemToObject(o, "params", cJSON_Duplicate(p->params, 1));
        cJSON *st = status_json(e, p, v, true);
        cJSON *ans = cJSON_DetachItemFromObject(st, "answer");
        cJSON_AddItemToObject(o, "metadata", st);
        if (ans) cJSON_AddItemToObject(o, "answer", ans);
        mtx_unlock(&e->mu);
        return emu_reply_json(c, 200, emu_media("problem-data", v), o);
    }
    mtx_unlock(&e->mu);
    return emu_reply_err(c, 404, "Unknown resource problems/%s/%s", id, sub);
}

enum MHD_Result emu_list_problems(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v)
{
    double secs;
    bool has_timeout = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout") != NULL;
    if (parse_timeout(c, &secs)) return emu_reply_err(c, 400, "timeout must be an integer number of seconds in [1, 30]");
    const char *ids = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
    const char *fst = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    const char *flabel = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "label");
    const char *fsolver = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "solver");
    cJSON *out = cJSON_CreateArray();
    mtx_lock(&e->mu);
    if (ids) {
        char *copy = qv_strdup(ids), *save = NULL;
        struct emu_problem **ps = qv_calloc(1001, sizeof *ps);
        int n = 0;
        for (char *t = strtok_r(copy, ",", &save); t && n < 1000; t = strtok_r(NULL, ",", &save)) {
            struct emu_problem *p = emu_find_problem(e, t);
            if (p) ps[n++] = p;
        }
        (void)has_timeout;
        bool any_done = false;
        for (int i = 0; i < n; i++) any_done |= emu_terminal(ps[i]->st);
        if (n && !any_done) wait_any(e, ps, n, secs);
        /* re-resolve: pointers stay valid while locked and unfinished problems are never freed */
        char *copy2 = qv_strdup(ids);
        save = NULL;
        for (char *t = strtok_r(copy2, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            struct emu_problem *p = emu_find_problem(e, t);
            if (p) cJSON_AddItemToArray(out, status_json(e, p, v, false));
        }
        free(copy); free(copy2); free(ps);
    } else {
        for (int i = e->npr - 1; i >= 0 && cJSON_GetArraySize(out) < 1000; i--) {
            const struct emu_problem *p = e->pr[i];
            if (fst && strcmp(fst, emu_pstat_name[p->st])) continue;
            if (flabel && (!p->label || strcmp(flabel, p->label))) continue;
            if (fsolver && strcmp(fsolver, e->sv[p->solver].sp->name)) continue;
            cJSON_AddItemToArray(out, status_json(e, p, v, false));
        }
    }
    mtx_unlock(&e->mu);
    return emu_reply_json(c, 200, emu_media("problems", v), out);
}

/* Cancel one (locked): returns HTTP-like code and fills msg/status. */
static unsigned cancel_one(struct emu_server *e, enum emu_ver v, const char *id, cJSON **item)
{
    struct emu_problem *p = emu_find_problem(e, id);
    *item = NULL;
    if (!p) return 404;
    if (p->st == P_PENDING) {
        p->st = P_CANCELLED;
        emu_now_iso(p->solved, sizeof p->solved);
        cnd_broadcast(&e->cv);
        *item = status_json(e, p, v, false);
        return 200;
    }
    if (p->st == P_PROGRESS) return 202;
    return 409;
}

static cJSON *cancel_error(unsigned code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "error_code", code);
    cJSON_AddStringToObject(o, "error_msg", code == 202 ? "Attempting to cancel problem in progress."
                                            : code == 409 ? "Problem has been finished."
                                            : "Problem does not exist or apitoken does not have access");
    return o;
}

enum MHD_Result emu_delete_problems(struct emu_server *e, struct MHD_Connection *c, enum emu_ver v,
                                    const char *id, const char *body, size_t n)
{
    if (id) {
        cJSON *item;
        mtx_lock(&e->mu);
        unsigned code = cancel_one(e, v, id, &item);
        mtx_unlock(&e->mu);
        if (code == 200) return emu_reply_json(c, 200, emu_media("problem", v), item);
        cJSON *err = cancel_error(code);
        return emu_reply_json(c, code, code == 202 ? emu_media("problem", v) : "application/json", err);
    }
    cJSON *j = body ? cJSON_ParseWithLength(body, n) : NULL;
    if (!cJSON_IsArray(j)) { cJSON_Delete(j); return emu_reply_err(c, 400, "DELETE problems/ needs a JSON list of problem ids"); }
    cJSON *out = cJSON_CreateArray();
    const cJSON *it;
    mtx_lock(&e->mu);
    cJSON_ArrayForEach(it, j) {
        cJSON *item = NULL;
        unsigned code = cJSON_IsString(it) ? cancel_one(e, v, it->valuestring, &item) : 404;
        cJSON_AddItemToArray(out, code == 200 ? item : cancel_error(code));
    }
    mtx_unlock(&e->mu);
    cJSON_Delete(j);
    return emu_reply_json(c, 200, emu_media("problems", v), out);
}

/* ---------------------------------------------------------------- dispatcher */

