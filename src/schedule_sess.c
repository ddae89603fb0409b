/* schedule_sess.c — the "schedule" module of the registry (app.h): a session stores the current
 * anneal schedule in the JSON form of `schedule save` (schedule.h). */
#include "app.h"
#include "schedule.h"

#include <cjson/cJSON.h>

static int sched_mod_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    if (!st->schedule) return 0;
    cJSON *o = sched_to_cjson(st->schedule);
    cJSON *it = o->child;
    while (it) {
        cJSON *next = it->next;
        cJSON_AddItemToObject(sec, it->string, cJSON_DetachItemViaPointer(o, it));
        it = next;
    }
    cJSON_Delete(o);
    return 0;
}

static int sched_mod_load(struct qv_app *app, struct qv_state *st, const cJSON *sec, struct sess_io *io)
{
    if (!cJSON_GetObjectItemCaseSensitive(sec, "anneal_schedule")) return 0;
    struct sched *s = sched_new();
    if (sched_from_cjson(s, sec)) {
        sched_free(s);
        return qv_preferr("schedule");
    }
    sched_free(st->schedule);
    st->schedule = s;
    return 0;
}

static void sched_mod_free(struct qv_state *st)
{
    sched_free(st->schedule);
    st->schedule = NULL;
}

const struct qv_module schedule_module = {"schedule", sched_mod_save, sched_mod_load, sched_mod_free};
