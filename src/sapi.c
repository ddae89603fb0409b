/* sapi.c — the SAPI client: HTTP with libcurl (TLS verification always on, retries with
 * back-off, cancellation), solver listing and properties with caching, problem submission,
 * long-polling, answer decoding and cancel.  Protocol: shared docs qpu-protocol.md §1. */
#include "sapi_int.h"
#include "solver.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <threads.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RESP_LIMIT (256u << 20)   /* refuse response bodies above 256 MiB */

static int curl_ready;
static once_flag curl_once = ONCE_FLAG_INIT;
static void curl_init_once(void) { curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == 0; }

void sapi_logf(struct sapi_client *c, const char *fmt, ...)
{
    if (!c->log) return;
    char line[512];
    va_list ap; va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->log(c->log_ud, line);
}

static bool cancelled(const struct sapi_client *c)
{
    return c->cancel && atomic_load(c->cancel);
}

/* True for http:// URLs whose host is the loopback interface. */
static bool is_loopback_http(const char *url)
{
    if (strncmp(url, "http://", 7)) return false;
    const char *h = url + 7;
    return !strncmp(h, "127.0.0.1", 9) || !strncmp(h, "localhost", 9) || !strncmp(h, "[::1]", 5);
}

struct sapi_client *sapi_client_new(const struct sapi_config *cfg)
{
    call_once(&curl_once, curl_init_once);
    if (!curl_ready) { qv_seterr("qpu: libcurl initialisation failed"); return NULL; }
    if (strncmp(cfg->endpoint, "https://", 8) && !is_loopback_http(cfg->endpoint)) {
        qv_seterr("qpu: endpoint %s: must be https:// (plain http only for 127.0.0.1, so the token "
                  "never travels unencrypted)", cfg->endpoint);
        return NULL;
    }
    struct sapi_client *c = qv_calloc(1, sizeof *c);
    c->cfg = *cfg;
    size_t l = strlen(c->cfg.endpoint);
    if (l && c->cfg.endpoint[l - 1] != '/' && l + 1 < sizeof c->cfg.endpoint) strcat(c->cfg.endpoint, "/");
    if (c->cfg.poll_wait < 1) c->cfg.poll_wait = 1;
    if (c->cfg.poll_wait > 30) c->cfg.poll_wait = 30;
    sapi_timing_init(&c->stats.last);
    c->curl = curl_easy_init();
    if (!c->curl) { free(c); qv_seterr("qpu: cannot create a libcurl handle"); return NULL; }
    mtx_init(&c->mu, mtx_plain);
    return c;
}

void sapi_client_free(struct sapi_client *c)
{
    if (!c) return;
    curl_easy_cleanup(c->curl);
    for (int i = 0; i < c->ncache; i++) solver_free(c->cache[i].sp);
    for (int i = 0; i < c->nretired; i++) solver_free(c->retired[i]);
    free(c->cache); free(c->retired); free(c->list);
    mtx_destroy(&c->mu);
    /* wipe the token from memory before release */
    volatile char *t = c->cfg.token;
    for (size_t i = 0; i < sizeof c->cfg.token; i++) t[i] = 0;
    free(c);
}

const struct sapi_config *sapi_client_config(const struct sapi_client *c) { return &c->cfg; }
void sapi_client_set_cancel(struct sapi_client *c, atomic_int *cancel) { c->cancel = cancel; }
void sapi_client_set_log(struct sapi_client *c, void (*log)(void *, const char *), void *ud)
{
    c->log = log; c->log_ud = ud;
}
void sapi_client_stats(const struct sapi_client *c, struct sapi_stats *st) { *st = c->stats; }

void sapi_client_set_limits(struct sapi_client *c, double job_timeout, double request_timeout, int max_retries)
{
    mtx_lock(&c->mu);
    if (job_timeout >= 0) c->cfg.job_timeout = job_timeout;
    if (request_timeout > 0) c->cfg.request_timeout = request_timeout;
    if (max_retries >= 0) c->cfg.max_retries = max_retries;
    mtx_unlock(&c->mu);
}

/* ---------------------------------------------------------------- HTTP */

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct resp *r = ud;
    size_t k = sz * nm;
    if (r->n + k > RESP_LIMIT) { r->overflow = true; return 0; }
    if (r->n + k + 1 > r->cap) {
        r->cap = (r->n + k + 1) * 2;
        r->body = qv_realloc(r->body, r->cap);
    }
    memcpy(r->body + r->n, p, k);
    r->n += k;
    r->body[r->n] = 0;
    return k;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct resp *r = ud;
    size_t k = sz * nm;
    char line[512];
    size_t l = k < sizeof line - 1 ? k : sizeof line - 1;
    memcpy(line, p, l); line[l] = 0;
    while (l && (line[l - 1] == '\r' || line[l - 1] == '\n')) line[--l] = 0;
    if (!strncasecmp(line, "HTTP/", 5)) { r->retry_after = -1; r->ctype[0] = 0; }   /* new response */
    else if (!strncasecmp(line, "Retry-After:", 12)) {
        const char *v = line + 12;
        while (*v == ' ') v++;
        char *end;
        double d = strtod(v, &end);
        if (end != v && *end == 0) r->retry_after = d;
        else {
            time_t t = curl_getdate(v, NULL);
            if (t > 0) r->retry_after = difftime(t, time(NULL));
        }
        if (r->retry_after < 0) r->retry_after = 0;
    } else if (!strncasecmp(line, "X-Deprecation:", 14)) {
        const char *v = line + 14;
        while (*v == ' ') v++;
        snprintf(r->deprecation, sizeof r->deprecation, "%.255s", v);
    } else if (!strncasecmp(line, "Content-Type:", 13)) {
        const char *v = line + 13;
        while (*v == ' ') v++;
        snprintf(r->ctype, sizeof r->ctype, "%.159s", v);
    }
    return k;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t cc, curl_off_t d)
{
    return cancelled(ud) ? 1 : 0;
}

/* Server error text: JSON error_msg, else the first line of the body (trimmed). */
static void server_message(const struct resp *r, char *out, size_t n)
{
    out[0] = 0;
    if (!r->body || !r->n) return;
    cJSON *j = cJSON_ParseWithLength(r->body, r->n);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "error_msg");
    if (!cJSON_IsString(m)) m = cJSON_GetObjectItemCaseSensitive(j, "error_message");
    if (cJSON_IsString(m)) snprintf(out, n, "%s", m->valuestring);
    else {
        size_t k = 0;
        for (size_t i = 0; i < r->n && k + 1 < n && k < 200; i++) {
            char ch = r->body[i];
            if (ch == '\n' || ch == '\r') { if (k) break; else continue; }
            out[k++] = (ch >= 32 && ch < 127) ? ch : '?';
        }
        out[k] = 0;
    }
    cJSON_Delete(j);
}

/* Sleep up to s seconds in small steps; false if cancelled meanwhile. */
static bool nap(const struct sapi_client *c, double s)
{
    double end = qv_now() + s;
    while (qv_now() < end) {
        if (cancelled(c)) return false;
        double left = end - qv_now();
        if (left > 0.05) left = 0.05;
        if (left <= 0) break;
        struct timespec ts = {0, (long)(left * 1e9)};
        nanosleep(&ts, NULL);
    }
    return !cancelled(c);
}

enum { POST_NEVER_RETRY = 0 };

/* What a failed transfer means to the user. */
static const char *transfer_failure(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: return "timed out";
    case CURLE_COULDNT_CONNECT: return "cannot connect";
    case CURLE_COULDNT_RESOLVE_HOST: return "cannot resolve host";
    case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE: return "connection dropped";
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR: return "TLS verification failed";
    default: return "transfer failed";
    }
}

/* One SAPI request with the retry policy of sapi.h.  path is relative to the endpoint.
 * wait_s: server-side long-poll time to add to the request timeout.  On success (2xx) r holds
 * the body; otherwise the error is set ("qpu: GET problems/…: HTTP 503: message"). */
int sapi_request(struct sapi_client *c, const char *method, const char *path, const char *accept,
                 const void *body, size_t n, bool deflated, double wait_s, struct resp *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    char url[1536];
    if (snprintf(url, sizeof url, "%s%s", c->cfg.endpoint, path) >= (int)sizeof url)
        return qv_seterr("qpu: URL too long");
    bool is_post = !strcmp(method, "POST");
    char what[256];
    /* messages name the resource, not the long ?filter=… query string */
    snprintf(what, sizeof what, "%s %.*s", method, (int)strcspn(path, "?") < 200 ? (int)strcspn(path, "?") : 200, path);
    /* without a token every request would only come back 401 after the retries: say so now */
    if (!c->cfg.token[0])
        return qv_seterr("qpu: %s: no API token (set DWAVE_API_TOKEN, token in dwave.conf, or use `qpu emulate`)", what);

    mtx_lock(&c->mu);
    CURL *h = c->curl;
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        free(r->body);
        r->body = NULL; r->n = r->cap = 0; r->status = 0; r->retry_after = -1; r->overflow = false;
        curl_easy_reset(h);
        char errbuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *hd = NULL;
        char tok[600];
        snprintf(tok, sizeof tok, "X-Auth-Token: %s", c->cfg.token);
        hd = curl_slist_append(hd, tok);
        memset(tok, 0, sizeof tok);
        char acc[200];
        snprintf(acc, sizeof acc, "Accept: %s", accept ? accept : "application/json");
        hd = curl_slist_append(hd, acc);
        hd = curl_slist_append(hd, "User-Agent: qvae/" QV_VERSION " libcurl");
        if (body) {
            hd = curl_slist_append(hd, "Content-Type: application/json");
            if (deflated) hd = curl_slist_append(hd, "Content-Encoding: deflate");
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (!strcmp(method, "GET")) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);   /* always: never configurable */
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);     /* the token must not follow redirects */
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->cfg.connect_timeout * 1000));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)((c->cfg.request_timeout + wait_s) * 1000));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
        if (c->cfg.proxy[0]) curl_easy_setopt(h, CURLOPT_PROXY, c->cfg.proxy);
        /* libcurl silently re-sends a request once when a reused connection turns out dead;
         * for POST that would be a blind re-submission, so POSTs get a fresh connection */
        if (is_post) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        double t0 = qv_now();
        CURLcode cc = curl_easy_perform(h);
        c->stats.last_request_s = qv_now() - t0;
        c->stats.requests++;
        curl_slist_free_all(hd);
        if (cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);

        bool retry = false;
        char msg[1024];
        if (cc == CURLE_ABORTED_BY_CALLBACK || (cc != CURLE_OK && cancelled(c))) {
            qv_seterr("qpu: %s: cancelled", what);
            break;
        }
        if (cc != CURLE_OK) {
            if (r->overflow) { qv_seterr("qpu: %s: response larger than %u MiB", what, RESP_LIMIT >> 20); break; }
            snprintf(msg, sizeof msg, "qpu: %s: %s (%s)", what, transfer_failure(cc),
                     errbuf[0] ? errbuf : curl_easy_strerror(cc));
            /* Nothing reached the server only when the connection could not be opened. */
            bool nothing_sent = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
            retry = !is_post || nothing_sent;
            if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR) retry = false;
        } else if (r->status >= 200 && r->status < 300) {
            if (r->deprecation[0] && !c->deprecation_logged) {
                c->deprecation_logged = true;
                sapi_logf(c, "qpu: server deprecation notice: %s", r->deprecation);
            }
            rc = 0;
            break;
        } else {
            char sm[300];
            server_message(r, sm, sizeof sm);
            snprintf(msg, sizeof msg, "qpu: %s: HTTP %ld%s%s", what, r->status, sm[0] ? ": " : "", sm);
            if (r->status == 429 || r->status == 503) retry = true;        /* explicit refusal */
            else if (r->status >= 500) retry = !is_post;                   /* may have been applied */
        }
        if (!retry || attempt >= c->cfg.max_retries) {
            if (retry) qv_seterr("%s (gave up after %d retries)", msg, attempt);
            else qv_seterr("%s", msg);
            break;
        }
        double delay = c->cfg.backoff_base * pow(2.0, attempt);
        if (delay > c->cfg.backoff_max) delay = c->cfg.backoff_max;
        if (r->retry_after >= 0) delay = r->retry_after < c->cfg.backoff_max ? r->retry_after : c->cfg.backoff_max;
        c->stats.retries++;
        sapi_logf(c, "%s; retrying in %.2f s (%d/%d)", msg, delay, attempt + 1, c->cfg.max_retries);
        if (!nap(c, delay)) { qv_seterr("qpu: %s: cancelled", what); break; }
    }
    mtx_unlock(&c->mu);
    if (rc) { free(r->body); r->body = NULL; r->n = 0; }
    return rc;
}

cJSON *sapi_parse_body(const struct resp *r, const char *what)
{
    cJSON *j = r->body ? cJSON_ParseWithLength(r->body, r->n) : NULL;
    if (!j) qv_seterr("qpu: %s: response is not valid JSON", what);
    return j;
}

/* ---------------------------------------------------------------- problems */

cJSON *sapi_job_json(const struct sapi_job *job, int *err)
{
    *err = 0;
    const struct solver_props *sp = job->sp;
    int *pos = sapi_qubit_pos(sp);
    char *lb = NULL, *qb = NULL;
    if (sapi_qp_encode(sp->nq, job->lin, sp->nc, (const int (*)[2])sp->couplers, pos, job->quad, &lb, &qb)) {
        free(pos); *err = -1;
        return NULL;
    }
    free(pos);
    cJSON *o = cJSON_CreateObject();
    if (sp->graph_id[0]) {
        cJSON *s = cJSON_AddObjectToObject(o, "solver");
        cJSON_AddStringToObject(s, "name", sp->name);
        cJSON *v = cJSON_AddObjectToObject(s, "version");
        cJSON_AddStringToObject(v, "graph_id", sp->graph_id);
    } else {
        cJSON_AddStringToObject(o, "solver", sp->name);
    }
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    cJSON_AddStringToObject(d, "format", "qp");
    cJSON_AddStringToObject(d, "lin", lb);
    cJSON_AddStringToObject(d, "quad", qb);
    cJSON_AddNumberToObject(d, "offset", job->offset);
    free(lb); free(qb);
    cJSON_AddStringToObject(o, "type", job->qubo ? "qubo" : "ising");
    cJSON_AddItemToObject(o, "params", job->params ? cJSON_Duplicate(job->params, 1) : cJSON_CreateObject());
    if (job->label) cJSON_AddStringToObject(o, "label", job->label);
    return o;
}

static void status_error(const cJSON *m, const char *id, char *buf, size_t n)
{
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(m, "error_message");
    if (!cJSON_IsString(em)) em = cJSON_GetObjectItemCaseSensitive(m, "error_msg");
    snprintf(buf, n, "%s", cJSON_IsString(em) ? em->valuestring : "An unknown error has occurred.");
}

int sapi_submit(struct sapi_client *c, const struct sapi_job *jobs, int njobs, char (*ids)[64])
{
    if (!c->cfg.token[0])
        return qv_seterr("qpu: no API token (set DWAVE_API_TOKEN or token in dwave.conf)");
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < njobs; k++) {
        int err;
        cJSON *o = sapi_job_json(&jobs[k], &err);
        if (!o) { cJSON_Delete(arr); return qv_preferr("qpu: problem %d", k); }
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (!text) return qv_seterr("qpu: POST problems/: out of memory printing the request body");
    unsigned char *z = NULL; size_t zn = 0;
    if (sapi_deflate(text, strlen(text), &z, &zn)) { free(text); return -1; }
    free(text);
    struct resp r;
    int rc = sapi_request(c, "POST", "problems/", MT("problems"), z, zn, true, 0, &r);
    free(z);
    if (rc) return -1;
    cJSON *j = sapi_parse_body(&r, "POST problems/");
    free(r.body);
    if (!j) return -1;
    if (cJSON_IsObject(j)) {   /* a single object answers a single job on some servers */
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, j);
        j = a;
    }
    if (cJSON_GetArraySize(j) != njobs) {
        cJSON_Delete(j);
        return qv_seterr("qpu: POST problems/: %d replies for %d problems", cJSON_GetArraySize(j), njobs);
    }
    /* The reply is aligned with the jobs: a status, or an error object for a job the server
     * refused (qpu-protocol §1.5).  The first failure is the call's error; the jobs the server
     * did accept are cancelled so they cost no QPU time. */
    rc = 0;
    char err[512] = "";
    for (int k = 0; k < njobs; k++) {
        const cJSON *m = cJSON_GetArrayItem(j, k);
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(m, "error_code");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "status");
        char em[300];
        ids[k][0] = 0;
        if (ec) {
            status_error(m, "", em, sizeof em);
            char which[48] = "";
            if (njobs > 1) snprintf(which, sizeof which, "problem %d of %d: ", k + 1, njobs);
            if (!rc) snprintf(err, sizeof err, "qpu: POST problems/: %sHTTP %d: %s", which, (int)cJSON_GetNumberValue(ec), em);
            rc = -1;
        } else if (!cJSON_IsString(id) || !cJSON_IsString(st)) {
            if (!rc) snprintf(err, sizeof err, "qpu: POST problems/: reply %d has no id/status", k);
            rc = -1;
        } else if (!strcmp(st->valuestring, "FAILED")) {
            status_error(m, id->valuestring, em, sizeof em);
            if (!rc) snprintf(err, sizeof err, "qpu: problem %s failed: %s", id->valuestring, em);
            rc = -1;
        } else {
            snprintf(ids[k], 64, "%s", id->valuestring);
        }
    }
    cJSON_Delete(j);
    if (!rc) { c->stats.jobs += njobs; return 0; }
    for (int k = 0; k < njobs; k++)
        if (ids[k][0]) sapi_cancel(c, ids[k]);
    return qv_seterr("%s", err);
}

/* Per-job QPU timing is kept in the stats; the sampler shows and logs it. */
static void log_timing(struct sapi_client *c, const char *id, const struct sapi_answer *a)
{
    c->stats.last = a->timing;
    c->stats.total_access_us += isfinite(a->timing.qpu_access_time) ? a->timing.qpu_access_time : 0;
}

int sapi_cancel(struct sapi_client *c, const char *id)
{
    char path[160];
    snprintf(path, sizeof path, "problems/%s", id);
    atomic_int *save = c->cancel;
    c->cancel = NULL;    /* the cancel request itself must not be aborted */
    double rt = c->cfg.request_timeout;
    c->cfg.request_timeout = rt < 10 ? rt : 10;
    int maxr = c->cfg.max_retries;
    c->cfg.max_retries = maxr < 2 ? maxr : 2;
    struct resp r;
    int rc = sapi_request(c, "DELETE", path, MT("problem"), NULL, 0, false, 0, &r);
    c->cfg.request_timeout = rt;
    c->cfg.max_retries = maxr;
    c->cancel = save;
    free(r.body);
    return rc;
}

int sapi_wait(struct sapi_client *c, const char *id, bool qubo, struct sapi_answer *ans)
{
    sapi_answer_init(ans);
    double t0 = qv_now();
    char path[200];
    for (;;) {
        if (cancelled(c)) {
            sapi_cancel(c, id);
            return qv_seterr("qpu: problem %.8s: cancelled", id);
        }
        int wait = c->cfg.poll_wait;
        if (c->cfg.job_timeout > 0) {
            double left = c->cfg.job_timeout - (qv_now() - t0);
            if (left <= 0) {
                sapi_cancel(c, id);
                return qv_seterr("qpu: problem %.8s: no answer after %g s (job timeout; problem cancelled)",
                                 id, c->cfg.job_timeout);
            }
            if (left < wait) wait = (int)ceil(left);
            if (wait < 1) wait = 1;
        }
        snprintf(path, sizeof path, "problems/%s/?timeout=%d", id, wait);
        struct resp r;
        if (sapi_request(c, "GET", path, MT("problem"), NULL, 0, false, wait, &r)) {
            if (cancelled(c)) { sapi_cancel(c, id); return qv_seterr("qpu: problem %.8s: cancelled", id); }
            return -1;
        }
        cJSON *m = sapi_parse_body(&r, "GET problems/ID/");
        free(r.body);
        if (!m) return -1;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "status");
        const char *s = cJSON_IsString(st) ? st->valuestring : "";
        if (cJSON_GetObjectItemCaseSensitive(m, "error_code")) {
            char em[300]; status_error(m, id, em, sizeof em);
            cJSON_Delete(m);
            return qv_seterr("qpu: problem %.8s: %s", id, em);
        }
        if (!strcmp(s, "COMPLETED")) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "answer");
            cJSON *extra = NULL;
            if (!a) {
                snprintf(path, sizeof path, "problems/%s/answer/", id);
                if (sapi_request(c, "GET", path, MT("problem-answer"), NULL, 0, false, 0, &r)) { cJSON_Delete(m); return -1; }
                extra = sapi_parse_body(&r, "GET problems/ID/answer/");
                free(r.body);
                if (!extra) { cJSON_Delete(m); return -1; }
                a = cJSON_GetObjectItemCaseSensitive(extra, "answer");
            }
            int rc = sapi_answer_decode(a, qubo, false, ans);
            cJSON_Delete(extra);
            cJSON_Delete(m);
            if (rc) return qv_preferr("qpu: problem %.8s", id);
            log_timing(c, id, ans);
            return 0;
        }
        if (!strcmp(s, "PENDING") || !strcmp(s, "IN_PROGRESS")) { cJSON_Delete(m); continue; }
        char em[300];
        status_error(m, id, em, sizeof em);
        cJSON_Delete(m);
        if (!strcmp(s, "CANCELLED") || !strcmp(s, "CANCELED"))
            return qv_seterr("qpu: problem %.8s was cancelled", id);
        if (!strcmp(s, "FAILED")) return qv_seterr("qpu: problem %.8s failed: %s", id, em);
        return qv_seterr("qpu: problem %.8s: unknown status \"%s\"", id, s);
    }
}

int sapi_sample(struct sapi_client *c, const struct sapi_job *jobs, int njobs, struct sapi_answer *answers)
{
    for (int k = 0; k < njobs; k++) sapi_answer_init(&answers[k]);
    char (*ids)[64] = qv_calloc((size_t)njobs, sizeof *ids);
    if (sapi_submit(c, jobs, njobs, ids)) { free(ids); return -1; }
    int rc = 0;
    for (int k = 0; k < njobs; k++) {
        if (sapi_wait(c, ids[k], jobs[k].qubo, &answers[k])) {
            char keep[600];
            snprintf(keep, sizeof keep, "%s", qv_errmsg());
            for (int m = k + 1; m < njobs; m++) sapi_cancel(c, ids[m]);
            for (int m = 0; m <= k; m++) sapi_answer_free(&answers[m]);
            rc = qv_seterr("%s", keep);
            break;
        }
    }
    free(ids);
    return rc;
}
