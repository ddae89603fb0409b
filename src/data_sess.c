/* data_sess.c — the "data" module of the registry (app.h): a session records a reference to the
 * dataset (loader kind, source paths, shape and count, splits, binarisation mode and seed), not
 * the pixels; loading re-reads the files and fails clearly if they are gone or changed. */
#include "app.h"
#include "data.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"idx", "npm", "amat", "mnist"};

static int data_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    const struct dataset *ds = st->data;
    cJSON_AddBoolToObject(sec, "loaded", ds != NULL);
    if (!ds) return 0;
    cJSON_AddStringToObject(sec, "kind", kind_names[ds->kind]);
    cJSON_AddStringToObject(sec, "name", ds->name);
    cJSON *src = cJSON_AddArrayToObject(sec, "source");
    char buf[sizeof ds->source];
    snprintf(buf, sizeof buf, "%s", ds->source);
    for (char *s = buf, *save = NULL, *t; (t = strtok_r(s, "\n", &save)); s = NULL)
        cJSON_AddItemToArray(src, cJSON_CreateString(t));
    cJSON_AddNumberToObject(sec, "count", (double)ds->count);
    cJSON_AddNumberToObject(sec, "h", ds->h);
    cJSON_AddNumberToObject(sec, "w", ds->w);
    double sp[3] = {(double)ds->split_count[0], (double)ds->split_count[1], (double)ds->split_count[2]};
    cJSON_AddItemToObject(sec, "splits", cJSON_CreateDoubleArray(sp, 3));
    cJSON_AddStringToObject(sec, "binarize", data_binarize_name(ds->binarize));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)ds->bin_seed);
    cJSON_AddStringToObject(sec, "bin_seed", seed);   /* string: 64-bit exact */
    return 0;
}

static bool get_long(const cJSON *sec, const char *key, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12) return false;
    *out = (long)v->valuedouble;
    return true;
}

static int data_load_hook(struct qv_app *app, struct qv_state *st, const cJSON *sec,
                          struct sess_io *io)
{
    const cJSON *loaded = cJSON_GetObjectItemCaseSensitive(sec, "loaded");
    if (!cJSON_IsBool(loaded)) return qv_seterr("missing \"loaded\"");
    if (cJSON_IsFalse(loaded)) return 0;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(sec, "kind");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(sec, "name");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(sec, "source");
    const cJSON *splits = cJSON_GetObjectItemCaseSensitive(sec, "splits");
    const cJSON *bin = cJSON_GetObjectItemCaseSensitive(sec, "binarize");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(sec, "bin_seed");
    long count, h, w;
    if (!cJSON_IsString(kind) || !cJSON_IsString(name) || !cJSON_IsArray(src) ||
        !cJSON_IsArray(splits) || cJSON_GetArraySize(splits) != 3 || !cJSON_IsString(bin) ||
        !cJSON_IsString(seed) || !get_long(sec, "count", &count) || !get_long(sec, "h", &h) ||
        !get_long(sec, "w", &w))
        return qv_seterr("incomplete dataset reference");
    int k = -1;
    for (int i = 0; i < (int)QV_ARRAY_LEN(kind_names); i++)
        if (strcmp(kind->valuestring, kind_names[i]) == 0) k = i;
    if (k < 0) return qv_seterr("unknown dataset kind '%s'", kind->valuestring);
    enum data_binarize b;
    if (strcmp(bin->valuestring, "dynamic") == 0) b = DATA_BIN_DYNAMIC;
    else if (strcmp(bin->valuestring, "static") == 0) b = DATA_BIN_STATIC;
    else if (strcmp(bin->valuestring, "none") == 0) b = DATA_BIN_NONE;
    else return qv_seterr("unknown binarisation '%s'", bin->valuestring);
    char source[sizeof ((struct dataset *)0)->source] = "";
    size_t o = 0;
    for (const cJSON *s = src->child; s; s = s->next) {
        if (!cJSON_IsString(s) || strchr(s->valuestring, '\n'))
            return qv_seterr("bad source path");
        o += (size_t)snprintf(source + o, sizeof source - QV_MIN(o, sizeof source),
                              "%s%s", o ? "\n" : "", s->valuestring);
        if (o >= sizeof source) return qv_seterr("source paths too long");
    }
    struct dataset *ds = data_reload((enum data_kind)k, source, name->valuestring);
    if (!ds) return -1;
    if (ds->count != count || ds->h != h || ds->w != w) {
        qv_seterr("%s now holds %ld images of %d×%d; the session had %ld of %ld×%ld", ds->name,
                  ds->count, ds->h, ds->w, count, h, w);
        data_free(ds);
        return -1;
    }
    long sp[3];
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetArrayItem(splits, i);
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e12) {
            data_free(ds);
            return qv_seterr("bad split sizes");
        }
        sp[i] = (long)v->valuedouble;
    }
    if (data_set_splits(ds, sp[0], sp[1], sp[2])) {
        data_free(ds);
        return -1;
    }
    snprintf(ds->name, sizeof ds->name, "%s", name->valuestring);
    ds->binarize = b;
    ds->bin_seed = strtoull(seed->valuestring, NULL, 10);
    st->data = ds;
    return 0;
}

static void data_module_free(struct qv_state *st)
{
    data_free(st->data);
    st->data = NULL;
}

const struct qv_module data_module = {"data", data_save, data_load_hook, data_module_free};
