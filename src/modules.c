/* modules.c — the workbench's module registry: every module that carries session state, in
 * load order, and the release of what lives outside sessions (the qpu module's connection).
 * Front ends pass it to app_init; sessions save and load through it.  Each module's section
 * lives in its own <module>_sess.c (model and trainer: train.c); the master seed's "core"
 * section is here. */
#include "app.h"
#include "emu.h"
#include "sapi.h"
#include "train.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

/* The "core" module carries the master seed. */
static int core_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->seed);
    cJSON_AddStringToObject(sec, "seed", buf);   /* string: JSON numbers lose 64-bit precision */
    return 0;
}

static int core_load(struct qv_app *app, struct qv_state *st, const cJSON *sec, struct sess_io *io)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(sec, "seed");
    if (!cJSON_IsString(s)) return qv_seterr("core: missing seed");
    st->seed = strtoull(s->valuestring, NULL, 10);
    return 0;
}

static const struct qv_module core_module = {"core", core_save, core_load, NULL};

/* The qpu module's SAPI connection and emulator hold a token and a server: never in a session,
 * released at exit. */
static void workbench_teardown(struct qv_app *app)
{
    sapi_client_free(app->sapi);
    app->sapi = NULL;
    emu_stop(app->emu);
    app->emu = NULL;
}

extern const struct qv_module prior_module;      /* prior_sess.c */
extern const struct qv_module sampler_module;    /* sampler_sess.c */
extern const struct qv_module data_module;       /* data_sess.c */
extern const struct qv_module schedule_module;   /* schedule_sess.c */

/* Load order matters: data before model, prior before sampler and model. */
const struct qv_module *const qv_modules[] = {
    &core_module,
    &data_module,
    &prior_module,
    &sampler_module,
    &schedule_module,
    &dvae_module, &trainer_module,   /* model, then its optimiser state (train.c) */
    NULL,
};

const struct qv_registry qv_workbench = {qv_modules, workbench_teardown};
