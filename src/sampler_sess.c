/* sampler_sess.c — the "sampler" module of the registry (app.h): the current sampler in
 * app->st.sampler, created as the default on first use, and its session section (name, options
 * as describe() text, seed, and the sampler's own persistent state: chains, β_eff). */
#include "app.h"
#include "qpu_conn.h"
#include "sampler.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t sampler_seed(uint64_t master)
{
    return master ^ 0x53414D5000000000ull;   /* "SAMP": its stream differs from the trainer's */
}

struct sampler *sampler_current(struct qv_app *app)
{
    if (!app->st.sampler) app->st.sampler = sampler_new("gibbs", sampler_seed(app->st.seed));
    return app->st.sampler;
}

static void ctx_note(void *ud, const char *line)
{
    qv_printf(ud, "%s", line);
}

static void ctx_report(void *ud, const struct sampler_report *r)
{
    struct qv_event ev = {.kind = QV_EV_SAMPLER, .beta_eff = r->beta_eff, .beta_err = r->beta_err};
    ev.qpu = (struct qv_qpu_timing){r->programming, r->anneal, r->readout, r->access, r->total_real};
    qv_emit(ud, &ev);
}

int sampler_ctx_fill(struct qv_app *app, const struct sampler *s, struct sample_ctx *ctx)
{
    if (!ctx->schedule) ctx->schedule = app->st.schedule;
    if (!ctx->cancel) ctx->cancel = &app->cancel;
    if (!ctx->note && !ctx->report) {
        ctx->note = ctx_note;
        ctx->report = ctx_report;
        ctx->out_ud = app;
    }
    if (s->vt->needs_client && !ctx->client && !(ctx->client = qpu_client(app)))
        return qv_preferr("sampler %s", s->vt->name);
    return 0;
}

static int sampler_mod_save(struct qv_app *app, const struct qv_state *st, cJSON *sec,
                            struct sess_io *io)
{
    const struct sampler *s = st->sampler;
    if (!s) return 0;
    char desc[1024], seed[32];
    s->vt->describe(s->impl, desc, sizeof desc);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    cJSON_AddStringToObject(sec, "name", s->vt->name);
    cJSON_AddStringToObject(sec, "options", desc);
    cJSON_AddStringToObject(sec, "seed", seed);
    if (s->vt->save) {
        cJSON *state = cJSON_AddObjectToObject(sec, "state");
        if (!state || s->vt->save(s->impl, state, io)) return -1;
    }
    return 0;
}

static int sampler_mod_load(struct qv_app *app, struct qv_state *st, const cJSON *sec,
                            struct sess_io *io)
{
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(sec, "name");
    if (!jn) return 0;   /* no sampler in this session */
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(sec, "options");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(sec, "seed");
    if (!cJSON_IsString(jn) || !cJSON_IsString(jo) || !cJSON_IsString(js))
        return qv_seterr("sampler: malformed session section");
    struct sampler *s = sampler_new(jn->valuestring, strtoull(js->valuestring, NULL, 10));
    if (!s) return -1;
    if (sampler_set_desc(s, jo->valuestring)) {
        sampler_free(s);
        return qv_preferr("sampler (session)");
    }
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(sec, "state");
    if (state && s->vt->load && s->vt->load(s->impl, state, io)) {
        sampler_free(s);
        return -1;
    }
    sampler_free(st->sampler);
    st->sampler = s;
    return 0;
}

static void sampler_mod_free(struct qv_state *st)
{
    sampler_free(st->sampler);
    st->sampler = NULL;
}

const struct qv_module sampler_module = {"sampler", sampler_mod_save, sampler_mod_load,
                                         sampler_mod_free};
