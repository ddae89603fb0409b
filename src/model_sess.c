/* model_sess.c — the "model" and "trainer" session modules: a DVAE's configuration and weights,
 * and the trainer's position, random streams and optimiser moments, so that a loaded session
 * continues training bit for bit.  Registered in qv_modules[] (train.h declares them). */
#include "train.h"
#include "session.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a, 64 bits, continued from h over n bytes. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* One hash of everything (train.h) a training step changes, so two runs compare at a glance: the networks
 * (and the Bernoulli prior's logits) [nparams], the mean image [D], batch norm's running
 * statistics [nbn], a BM prior's b [n] and W [ne], and the trainer's counters, noise stream,
 * block count and Adam moments (network [nparams] × 2, BM [pn] × 2). */
uint64_t model_digest(const struct qv_state *st)
{
    const struct dvae *m = st->model;
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a(h, m->params, sizeof(float) * m->nparams);
    h = fnv1a(h, m->xmean, sizeof(float) * (size_t)m->cfg.D);
    if (m->nbn) h = fnv1a(h, m->bnrun, sizeof(float) * m->nbn);
    const struct bm *bm = st->prior;
    if (m->cfg.prior == DVAE_PRIOR_BM && bm) {
        h = fnv1a(h, bm->b, sizeof(double) * (size_t)bm->n);
        h = fnv1a(h, bm->w, sizeof(double) * (size_t)bm->ne);
    }
    const struct trainer *t = st->trainer;
    if (!t) return h;
    const long cnt[6] = {t->step, t->epoch, t->batch_pos, t->adam.t, t->pt, t->shards};
    h = fnv1a(h, cnt, sizeof cnt);
    h = fnv1a(h, t->rng.s, sizeof t->rng.s);
    h = fnv1a(h, t->adam.m, sizeof(float) * t->adam.n);
    h = fnv1a(h, t->adam.v, sizeof(float) * t->adam.n);
    if (t->pn) {
        h = fnv1a(h, t->pm, sizeof(double) * (size_t)t->pn);
        h = fnv1a(h, t->pv, sizeof(double) * (size_t)t->pn);
    }
    return h;
}

static int model_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    const struct dvae *m = st->model;
    if (!m) return 0;
    const struct dvae_config *c = &m->cfg;
    cJSON_AddNumberToObject(sec, "pixels", c->D);
    cJSON_AddNumberToObject(sec, "latents", c->n);
    cJSON *h = cJSON_AddArrayToObject(sec, "hidden");
    for (int i = 0; i < c->nhidden; i++) cJSON_AddItemToArray(h, cJSON_CreateNumber(c->hidden[i]));
    cJSON_AddStringToObject(sec, "act", nn_act_name(c->act));
    cJSON_AddStringToObject(sec, "relax", dvae_relax_name(c->relax));
    if (dvae_mixture(m)) cJSON_AddNumberToObject(sec, "relax_beta", m->rx.beta);
    cJSON_AddNumberToObject(sec, "tau", c->tau);
    cJSON_AddStringToObject(sec, "kl", dvae_kl_name(c->kl));
    cJSON_AddStringToObject(sec, "prior", c->prior == DVAE_PRIOR_BM ? "boltzmann" : "bernoulli");
    cJSON_AddNumberToObject(sec, "batch_capacity", c->bmax);
    cJSON_AddNumberToObject(sec, "parameters", (double)m->nparams);
    cJSON_AddNumberToObject(sec, "groups", m->ngroup);
    if (m->ngroup > 1) {
        cJSON *g = cJSON_AddArrayToObject(sec, "group_of");
        for (int i = 0; i < c->n; i++) cJSON_AddItemToArray(g, cJSON_CreateNumber(m->unit_group[i]));
    }
    cJSON_AddBoolToObject(sec, "center", c->center);
    cJSON_AddBoolToObject(sec, "bn", c->bn);
    cJSON_AddNumberToObject(sec, "height", c->h);
    cJSON_AddNumberToObject(sec, "width", c->w);
    if (c->nconv) {
        cJSON *cv = cJSON_AddArrayToObject(sec, "conv");
        for (int j = 0; j < c->nconv; j++) {
            const int v[4] = {c->conv[j].ch, c->conv[j].k, c->conv[j].stride, c->conv[j].pad};
            cJSON_AddItemToArray(cv, cJSON_CreateIntArray(v, 4));
        }
    }
    if (m->nbn && sess_blob_put(io, "bn_running", m->bnrun, sizeof(float) * m->nbn) < 0) return -1;
    if (c->center && sess_blob_put(io, "xmean", m->xmean, sizeof(float) * (size_t)c->D) < 0) return -1;
    return sess_blob_put(io, "weights", m->params, sizeof(float) * m->nparams);
}

static int json_num(const cJSON *sec, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, key);
    if (!cJSON_IsNumber(v)) return qv_seterr("model: session field '%s' is missing or not a number", key);
    *out = v->valuedouble;
    return 0;
}

/* "groups" and "group_of" into c (and *group_of, malloc'ed, for more than one group). */
static int load_groups(const cJSON *sec, struct dvae_config *c, int **group_of)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(sec, "groups");
    c->groups = 1;
    if (!g) return 0;
    if (!cJSON_IsNumber(g) || g->valuedouble < 1 || g->valuedouble > DVAE_MAX_GROUPS)
        return qv_seterr("model: bad 'groups' (1..%d)", DVAE_MAX_GROUPS);
    c->groups = (int)g->valuedouble;
    if (c->groups == 1) return 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(sec, "group_of");
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != c->n)
        return qv_seterr("model: 'group_of' must list the group of each of the %d latents", c->n);
    int *go = qv_malloc(sizeof(int) * (size_t)c->n);
    for (int i = 0; i < c->n; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(v)) {
            free(go);
            return qv_seterr("model: 'group_of' entry %d is not a number", i);
        }
        go[i] = (int)v->valuedouble;
    }
    *group_of = go;
    c->group_of = go;
    return 0;
}

/* Image size and convolutions (absent before they existed: no convolutions). */
static int load_conv(const cJSON *sec, struct dvae_config *c)
{
    double v = 0;
    if (!json_num(sec, "height", &v)) c->h = (int)v;
    if (!json_num(sec, "width", &v)) c->w = (int)v;
    qv_clearerr();
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(sec, "conv");
    if (!cv) return 0;
    const int n = cJSON_GetArraySize(cv);
    if (!cJSON_IsArray(cv) || n < 1 || n > DVAE_MAX_CONV)
        return qv_seterr("model: bad 'conv' (1..%d layers)", DVAE_MAX_CONV);
    for (int j = 0; j < n; j++) {
        const cJSON *l = cJSON_GetArrayItem(cv, j);
        int x[4];
        for (int k = 0; k < 4; k++) {
            const cJSON *e = cJSON_GetArrayItem(l, k);
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 4096)
                return qv_seterr("model: bad 'conv' layer %d (CHANNELS, KERNEL, STRIDE, PAD)", j + 1);
            x[k] = (int)e->valuedouble;
        }
        c->conv[j] = (struct dvae_conv_cfg){.ch = x[0], .k = x[1], .stride = x[2], .pad = x[3]};
    }
    c->nconv = n;
    return 0;
}

/* Blob `name` of exactly n floats into dst. */
static int load_floats(struct sess_io *io, const char *name, float *dst, size_t n)
{
    void *blob = NULL;
    size_t len = 0;
    if (sess_blob_get(io, name, &blob, &len) < 0) return -1;
    if (len != sizeof(float) * n) {
        free(blob);
        return qv_seterr("model: blob %s has %zu bytes, expected %zu", name, len, sizeof(float) * n);
    }
    memcpy(dst, blob, len);
    free(blob);
    return 0;
}

/* The centring model's mean image (blob "xmean", D floats). */
static int load_xmean(struct sess_io *io, struct dvae *m)
{
    return load_floats(io, "xmean", m->xmean, (size_t)m->cfg.D);
}

static int model_load(struct qv_app *app, struct qv_state *st, const cJSON *sec, struct sess_io *io)
{
    if (!sec || !cJSON_GetObjectItemCaseSensitive(sec, "latents")) return 0;   /* no model saved */
    struct dvae_config c;
    dvae_config_default(&c);
    double v = 0;
    if (json_num(sec, "pixels", &v)) return -1;
    c.D = (int)v;
    if (json_num(sec, "latents", &v)) return -1;
    c.n = (int)v;
    if (json_num(sec, "tau", &v)) return -1;
    c.tau = (float)v;
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(sec, "relax_beta");
    if (rb) {
        if (!cJSON_IsNumber(rb) || !(rb->valuedouble > 0)) return qv_seterr("model: bad 'relax_beta'");
        c.relax_beta = (float)rb->valuedouble;
    }
    const cJSON *rx = cJSON_GetObjectItemCaseSensitive(sec, "relax");
    if (rx && (!cJSON_IsString(rx) || dvae_relax_parse(rx->valuestring, &c.relax)))
        return qv_seterr("model: bad 'relax' (gumbolt or st)");
    /* absent in sessions saved before the analytic term existed: they trained with the proxy */
    const cJSON *kl = cJSON_GetObjectItemCaseSensitive(sec, "kl");
    if (kl && (!cJSON_IsString(kl) || dvae_kl_parse(kl->valuestring, &c.kl)))
        return qv_seterr("model: bad 'kl' (relaxed or analytic)");
    if (json_num(sec, "batch_capacity", &v)) return -1;
    c.bmax = (int)v;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(sec, "hidden");
    int nh = cJSON_GetArraySize(h);
    if (!cJSON_IsArray(h) || nh < 1 || nh > DVAE_MAX_HIDDEN) return qv_seterr("model: bad 'hidden' list");
    c.nhidden = nh;
    for (int i = 0; i < nh; i++) {
        const cJSON *w = cJSON_GetArrayItem(h, i);
        if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 16384)
            return qv_seterr("model: bad hidden width");
        c.hidden[i] = (int)w->valuedouble;
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(sec, "act");
    if (!cJSON_IsString(a) || nn_act_parse(a->valuestring, &c.act)) return qv_seterr("model: bad 'act'");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(sec, "prior");
    if (!cJSON_IsString(p)) return qv_seterr("model: bad 'prior'");
    c.prior = !strcmp(p->valuestring, "boltzmann") ? DVAE_PRIOR_BM : DVAE_PRIOR_BERNOULLI;
    /* sessions saved before hierarchical posteriors and centring: one group, no centring */
    int *group_of = NULL;
    if (load_groups(sec, &c, &group_of) < 0) return -1;
    const cJSON *ce = cJSON_GetObjectItemCaseSensitive(sec, "center");
    c.center = cJSON_IsTrue(ce);
    c.bn = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sec, "bn"));
    if (load_conv(sec, &c) < 0) { free(group_of); return -1; }
    struct dvae *m = dvae_new(&c, 0);
    free(group_of);
    if (!m) return -1;
    if (c.center && load_xmean(io, m) < 0) { dvae_free(m); return -1; }
    if (m->nbn && load_floats(io, "bn_running", m->bnrun, m->nbn) < 0) { dvae_free(m); return -1; }
    void *blob = NULL;
    size_t len = 0;
    if (sess_blob_get(io, "weights", &blob, &len) < 0) { dvae_free(m); return -1; }
    if (len != sizeof(float) * m->nparams) {
        free(blob);
        dvae_free(m);
        return qv_seterr("model: weights blob has %zu bytes, the configuration needs %zu", len,
                         sizeof(float) * m->nparams);
    }
    memcpy(m->params, blob, len);
    free(blob);
    if (dvae_check_finite(m) < 0) { dvae_free(m); return -1; }
    st->model = m;
    return 0;
}

static void model_free_st(struct qv_state *st)
{
    dvae_free(st->model);
    st->model = NULL;
}

const struct qv_module dvae_module = {"model", model_save, model_load, model_free_st};

static void put_u64(cJSON *o, const char *k, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%016" PRIx64, v);
    cJSON_AddStringToObject(o, k, b);
}

static int get_u64(const cJSON *o, const char *k, uint64_t *v)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, k);
    char *end;
    if (!cJSON_IsString(s) || !*s->valuestring) return qv_seterr("trainer: session field '%s' is missing", k);
    *v = strtoull(s->valuestring, &end, 16);
    if (*end) return qv_seterr("trainer: session field '%s' is not hexadecimal", k);
    return 0;
}

static int trainer_save(struct qv_app *app, const struct qv_state *st, cJSON *sec, struct sess_io *io)
{
    const struct trainer *t = st->trainer;
    if (!t || !st->model) return 0;
    put_u64(sec, "seed", t->seed);
    cJSON_AddNumberToObject(sec, "step", (double)t->step);
    cJSON_AddNumberToObject(sec, "epoch", (double)t->epoch);
    cJSON_AddNumberToObject(sec, "batch_pos", (double)t->batch_pos);
    for (int i = 0; i < 4; i++) {
        char k[16];
        snprintf(k, sizeof k, "rng%d", i);
        put_u64(sec, k, t->rng.s[i]);
    }
    cJSON_AddNumberToObject(sec, "adam_t", (double)t->adam.t);
    cJSON_AddNumberToObject(sec, "prior_adam_t", (double)t->pt);
    cJSON_AddNumberToObject(sec, "prior_parameters", (double)t->pn);
    cJSON_AddNumberToObject(sec, "lr", t->lr);
    cJSON_AddNumberToObject(sec, "batch", t->batch);
    cJSON_AddNumberToObject(sec, "iw", t->iw);
    cJSON_AddNumberToObject(sec, "kl_warmup", t->kl_warmup);
    cJSON_AddNumberToObject(sec, "neg", (double)t->neg);
    cJSON_AddNumberToObject(sec, "shards", t->shards);
    if (isfinite(t->val_elbo)) cJSON_AddNumberToObject(sec, "val_elbo", t->val_elbo);
    if (isfinite(t->val_elbo_z)) cJSON_AddNumberToObject(sec, "val_elbo_z", t->val_elbo_z);
    if (t->best && isfinite(t->best_val)) {
        cJSON_AddNumberToObject(sec, "best_val_elbo_z", t->best_val);
        cJSON_AddNumberToObject(sec, "best_epoch", (double)t->best_epoch);
        if (sess_blob_put(io, "best", t->best, sizeof(float) * t->adam.n) < 0) return -1;
        if (t->best_prior &&
            sess_blob_put(io, "best_prior", t->best_prior, sizeof(double) * (size_t)t->pn) < 0)
            return -1;
    }
    size_t nb = sizeof(float) * t->adam.n;
    unsigned char *buf = qv_malloc(2 * nb + 1);
    memcpy(buf, t->adam.m, nb);
    memcpy(buf + nb, t->adam.v, nb);
    int rc = sess_blob_put(io, "adam", buf, 2 * nb);
    free(buf);
    if (rc == 0 && t->pn > 0) {
        size_t pb = sizeof(double) * (size_t)t->pn;
        unsigned char *b2 = qv_malloc(2 * pb);
        memcpy(b2, t->pm, pb);
        memcpy(b2 + pb, t->pv, pb);
        rc = sess_blob_put(io, "prior_adam", b2, 2 * pb);
        free(b2);
    }
    return rc;
}

/* The best-validation copy (sessions saved before it existed have none). */
static int load_best(const cJSON *sec, struct sess_io *io, struct trainer *t)
{
    double v = 0, ep = 0;
    if (json_num(sec, "best_val_elbo_z", &v) < 0 || json_num(sec, "best_epoch", &ep) < 0) {
        qv_clearerr();
        return 0;
    }
    void *blob = NULL;
    size_t len = 0;
    if (sess_blob_get(io, "best", &blob, &len) < 0) return -1;
    if (len != sizeof(float) * t->adam.n) {
        free(blob);
        return qv_seterr("trainer: best-parameters blob has %zu bytes, expected %zu", len,
                         sizeof(float) * t->adam.n);
    }
    t->best = blob;
    if (t->pn > 0) {
        if (sess_blob_get(io, "best_prior", &blob, &len) < 0) return -1;
        if (len != sizeof(double) * (size_t)t->pn) {
            free(blob);
            return qv_seterr("trainer: best-prior blob has %zu bytes, expected %zu", len,
                             sizeof(double) * (size_t)t->pn);
        }
        t->best_prior = blob;
    }
    t->best_val = v;
    t->best_epoch = (long)ep;
    return 0;
}

static int trainer_load(struct qv_app *app, struct qv_state *st, const cJSON *sec, struct sess_io *io)
{
    if (!sec || !cJSON_GetObjectItemCaseSensitive(sec, "step")) return 0;
    if (!st->model) return qv_seterr("trainer: saved optimiser state but no model");
    uint64_t seed;
    if (get_u64(sec, "seed", &seed)) return -1;
    double step = 0, epoch = 0, pos = 0, at = 0, pt = 0, pn = 0;
    if (json_num(sec, "step", &step) || json_num(sec, "epoch", &epoch) ||
        json_num(sec, "batch_pos", &pos) || json_num(sec, "adam_t", &at) ||
        json_num(sec, "prior_adam_t", &pt) || json_num(sec, "prior_parameters", &pn))
        return qv_preferr("trainer");
    struct trainer *t = qv_calloc(1, sizeof *t);
    if (nn_adam_init(&t->adam, st->model->nparams) < 0) { free(t); return -1; }
    t->seed = seed;
    t->step = (long)step;
    t->epoch = (long)epoch;
    t->batch_pos = (long)pos;
    t->adam.t = (long)at;
    t->pt = (long)pt;
    t->pn = (long)pn;
    t->val_elbo = t->val_elbo_z = t->logz = t->logz_err = t->best_val = NAN;
    double v = 0;
    if (!json_num(sec, "lr", &v)) t->lr = v;
    if (!json_num(sec, "batch", &v)) t->batch = (int)v;
    t->iw = !json_num(sec, "iw", &v) && v >= 1 && v <= 100000 ? (int)v : 1;
    if (!json_num(sec, "kl_warmup", &v)) t->kl_warmup = v;
    if (!json_num(sec, "neg", &v)) t->neg = (long)v;
    if (!json_num(sec, "shards", &v)) {
        if (!(v >= 1 && v <= DVAE_MAX_SHARDS)) {
            trainer_free(t);
            return qv_seterr("trainer: session field 'shards' must be 1..%d", DVAE_MAX_SHARDS);
        }
        t->shards = (int)v;
    } else {
        t->shards = 1;   /* sessions from before data-parallel steps ran one block */
    }
    if (!json_num(sec, "val_elbo", &v)) t->val_elbo = v;
    if (!json_num(sec, "val_elbo_z", &v)) t->val_elbo_z = v;
    qv_clearerr();
    for (int i = 0; i < 4; i++) {
        char k[16];
        snprintf(k, sizeof k, "rng%d", i);
        if (get_u64(sec, k, &t->rng.s[i])) { trainer_free(t); return -1; }
    }
    void *blob = NULL;
    size_t len = 0;
    size_t nb = sizeof(float) * t->adam.n;
    if (sess_blob_get(io, "adam", &blob, &len) < 0) { trainer_free(t); return -1; }
    if (len != 2 * nb) {
        free(blob);
        trainer_free(t);
        return qv_seterr("trainer: optimiser blob has %zu bytes, expected %zu", len, 2 * nb);
    }
    memcpy(t->adam.m, blob, nb);
    memcpy(t->adam.v, (unsigned char *)blob + nb, nb);
    free(blob);
    if (t->pn > 0) {
        if (t->pn > 100000000) { trainer_free(t); return qv_seterr("trainer: bad prior_parameters"); }
        size_t pb = sizeof(double) * (size_t)t->pn;
        if (sess_blob_get(io, "prior_adam", &blob, &len) < 0) { trainer_free(t); return -1; }
        if (len != 2 * pb) {
            free(blob);
            trainer_free(t);
            return qv_seterr("trainer: prior optimiser blob has %zu bytes, expected %zu", len, 2 * pb);
        }
        t->pm = qv_malloc(pb);
        t->pv = qv_malloc(pb);
        memcpy(t->pm, blob, pb);
        memcpy(t->pv, (unsigned char *)blob + pb, pb);
        free(blob);
    }
    if (load_best(sec, io, t) < 0) { trainer_free(t); return -1; }
    st->trainer = t;
    return 0;
}

static void trainer_free_st(struct qv_state *st)
{
    trainer_free(st->trainer);
    st->trainer = NULL;
}

const struct qv_module trainer_module = {"trainer", trainer_save, trainer_load, trainer_free_st};
