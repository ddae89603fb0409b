/* prior_sess.c — the "prior" module of the registry (app.h): a session stores the Boltzmann
 * machine (graph and parameters) as a blob, or the unit count of a Bernoulli prior, and the
 * description the status line shows. */
#include "app.h"
#include "bm.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int prior_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    if (st->prior) {
        unsigned char *buf;
        size_t len;
        if (bm_serialize(st->prior, &buf, &len) < 0) return -1;
        int rc = sess_blob_put(io, "prior", buf, len);
        free(buf);
        if (rc < 0) return -1;
        cJSON_AddStringToObject(sec, "type", "bm");
        cJSON_AddNumberToObject(sec, "units", st->prior->n);
    } else if (st->prior_bernoulli_n > 0) {
        cJSON_AddStringToObject(sec, "type", "bernoulli");
        cJSON_AddNumberToObject(sec, "units", st->prior_bernoulli_n);
    } else {
        cJSON_AddStringToObject(sec, "type", "none");
    }
    cJSON_AddStringToObject(sec, "desc", st->prior_desc);
    return 0;
}

static int prior_load(struct qv_app *app, struct qv_state *st, const cJSON *sec, struct sess_io *io)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(sec, "type");
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(sec, "units");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(sec, "desc");
    if (!cJSON_IsString(type)) return qv_seterr("prior: missing type");
    if (!strcmp(type->valuestring, "none")) return 0;
    if (!strcmp(type->valuestring, "bernoulli")) {
        if (!cJSON_IsNumber(units) || units->valuedouble < 1 || units->valuedouble > QV_PRIOR_BERNOULLI_MAX ||
            units->valuedouble != (int)units->valuedouble)
            return qv_seterr("prior: bad bernoulli unit count");
        st->prior_bernoulli_n = (int)units->valuedouble;
        snprintf(st->prior_desc, sizeof st->prior_desc, "bernoulli %d", st->prior_bernoulli_n);
        return 0;
    }
    if (strcmp(type->valuestring, "bm")) return qv_seterr("prior: unknown type '%s'", type->valuestring);
    void *data;
    size_t len;
    if (sess_blob_get(io, "prior", &data, &len) < 0) return -1;
    struct bm *bm = bm_deserialize(data, len);
    free(data);
    if (!bm) return qv_preferr("prior");
    if (cJSON_IsNumber(units) && units->valuedouble != bm->n) {
        bm_free(bm);
        return qv_seterr("prior: unit count does not match the stored graph");
    }
    st->prior = bm;
    snprintf(st->prior_desc, sizeof st->prior_desc, "%s",
             cJSON_IsString(desc) ? desc->valuestring : bm->g->desc);
    return 0;
}

static void prior_free_state(struct qv_state *st)
{
    bm_free(st->prior);
    st->prior = NULL;
    st->prior_bernoulli_n = 0;
    st->prior_desc[0] = 0;
}

const struct qv_module prior_module = {"prior", prior_save, prior_load, prior_free_state};
