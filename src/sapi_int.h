/* sapi_int.h — the SAPI client's shared internals (include only from sapi*.c): the client
 * object, one HTTP exchange with the retry policy of sapi.h, and the log hook.
 *   sapi.c          configuration of the client, HTTP, problems (submit, poll, answers, cancel)
 *   sapi_solvers.c  solver listing (v2 `id` and v3 `identity` forms), properties cache, the
 *                   current solver, qubit and coupler index helpers */
#ifndef QV_SAPI_INT_H
#define QV_SAPI_INT_H
#include "sapi.h"

#include <curl/curl.h>
#include <threads.h>

#define MT(x) "application/vnd.dwave.sapi." x "+json; version=3.0.0"

struct solver_cache_ent { struct solver_props *sp; double fetched; };

struct sapi_client {
    struct sapi_config cfg;
    CURL *curl;
    mtx_t mu;            /* one transfer at a time on the handle */
    atomic_int *cancel;
    void (*log)(void *ud, const char *line);
    void *log_ud;
    struct solver_cache_ent *cache; int ncache;
    struct solver_props **retired; int nretired;
    struct sapi_solver_brief *list; int nlist; double list_time;
    char current[128];
    struct sapi_stats stats;
    bool deprecation_logged;
};

struct resp {
    char *body; size_t n, cap;
    long status;
    double retry_after;      /* s, <0 when absent */
    char ctype[160];
    char deprecation[256];   /* X-Deprecation header (logged once per client) */
    bool overflow;
};

/* One SAPI request with the retry policy of sapi.h.  path is relative to the endpoint.
 * wait_s: server-side long-poll time to add to the request timeout.  On success (2xx) r holds
 * the body; otherwise the error is set ("qpu: GET problems/…: HTTP 503: message"). */
int sapi_request(struct sapi_client *c, const char *method, const char *path, const char *accept,
                 const void *body, size_t n, bool deflated, double wait_s, struct resp *r);
struct cJSON *sapi_parse_body(const struct resp *r, const char *what);   /* NULL + error */
void sapi_logf(struct sapi_client *c, const char *fmt, ...) QV_PRINTF(2, 3);   /* to the log hook */
#endif
