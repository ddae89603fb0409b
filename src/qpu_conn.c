/* qpu_conn.c — the qpu module's connection (qpu_conn.h). */
#include "qpu_conn.h"
#include "app.h"
#include "sapi.h"

#include <string.h>

static void client_warn(void *ud, const char *line)
{
    qv_warn((struct qv_app *)ud, "%s", line);
}

struct sapi_client *qpu_client(struct qv_app *app)
{
    if (!app->sapi) {
        struct sapi_config cfg;
        if (dwconf_load(&cfg, NULL, NULL)) return NULL;
        app->sapi = sapi_client_new(&cfg);
        memset(cfg.token, 0, sizeof cfg.token);
        if (!app->sapi) return NULL;
        sapi_client_set_log(app->sapi, client_warn, app);
    }
    sapi_client_set_cancel(app->sapi, &app->cancel);
    return app->sapi;
}
