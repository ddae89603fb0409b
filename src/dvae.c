/* dvae.c — the discrete VAE: parameter layout, forward/backward of the relaxed ELBO with a
 * Bernoulli or Boltzmann-machine prior, encoder/decoder passes for evaluation and generation.
 * Model and objective: dvae.h; tensor layout: nn.h. */
#include "dvae.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dvae_config_default(struct dvae_config *c)
{
    memset(c, 0, sizeof *c);
    c->D = 784;
    c->n = 288;
    c->nhidden = 2;
    c->hidden[0] = 512;
    c->hidden[1] = 256;
    c->act = NN_ACT_TANH;
    c->relax = DVAE_RELAX_GUMBOLT;
    c->tau = 0.5f;
    c->prior = DVAE_PRIOR_BERNOULLI;
    c->bmax = 500;
    c->groups = 1;
}

int dvae_parse_hidden(const char *s, struct dvae_config *c)
{
    int k = 0;
    const char *p = s;
    while (*p) {
        if (k == DVAE_MAX_HIDDEN)
            return qv_seterr("--hidden: at most %d layers ('%s')", DVAE_MAX_HIDDEN, s);
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 16384)
            return qv_seterr("--hidden: '%s': expected widths 1..16384 separated by commas", s);
        c->hidden[k++] = (int)v;
        p = end;
        if (*p == ',') p++;
        else if (*p) return qv_seterr("--hidden: '%s': expected widths separated by commas", s);
    }
    if (k == 0) return qv_seterr("--hidden: empty list");
    c->nhidden = k;
    return 0;
}

/* Lays the model out in arena a (planning or real): the parameter and gradient vectors (group
 * encoders 0..L−1, decoder, Bernoulli prior logits), then the work buffers for cfg.bmax rows. */
static int dvae_carve(struct dvae *m, struct nn_arena *a)
{
    const struct dvae_config *c = &m->cfg;
    const int nl = c->nhidden + 1, bm_ = c->bmax, L = m->ngroup;
    int we[DVAE_MAX_GROUPS][DVAE_MAX_HIDDEN + 2], wd[DVAE_MAX_HIDDEN + 2];   /* widths per net */
    int widest = QV_MAX(c->D + m->gstart[L - 1], c->n);
    for (int i = 1; i < nl; i++) widest = QV_MAX(widest, c->hidden[i - 1]);
    for (int g = 0; g < L; g++) {
        we[g][0] = c->D + m->gstart[g];
        for (int i = 1; i < nl; i++) we[g][i] = c->hidden[i - 1];
        we[g][nl] = m->gstart[g + 1] - m->gstart[g];
    }
    wd[0] = c->n;
    for (int i = 1; i < nl; i++) wd[i] = c->hidden[nl - 1 - i];
    wd[nl] = c->D;
    /* count (binding nothing), then carve and bind */
    size_t np = 0, nbn = 0;
    for (int g = 0; g < L; g++)
        if (dvae_net_bind(&m->enc[g], c, we[g], true, false, NULL, NULL, &np, &nbn) < 0) return -1;
    if (dvae_net_bind(&m->dec, c, wd, true, true, NULL, NULL, &np, &nbn) < 0) return -1;
    for (int g = 0; g < L; g++) widest = QV_MAX(widest, dvae_net_widest(&m->enc[g]));
    widest = QV_MAX(widest, dvae_net_widest(&m->dec));
    size_t nwork = 0;
    for (int g = 0; g < L; g++) nwork = QV_MAX(nwork, dvae_net_work(&m->enc[g], bm_));
    m->nwork = QV_MAX(nwork, dvae_net_work(&m->dec, bm_));
    if (c->prior == DVAE_PRIOR_BERNOULLI) np += nn_round16((size_t)c->n);
    m->nparams = np;
    m->nbn = nbn;
    m->params = nn_arena_take(a, np);
    m->grads = nn_arena_take(a, np);
    size_t off = 0, boff = 0;
    for (int g = 0; g < L; g++) dvae_net_bind(&m->enc[g], c, we[g], true, false, m->params, m->grads, &off, &boff);
    dvae_net_bind(&m->dec, c, wd, true, true, m->params, m->grads, &off, &boff);
    for (int g = 0; g < L; g++) dvae_net_bind_running(&m->enc[g], m->bnrun);
    dvae_net_bind_running(&m->dec, m->bnrun);
    m->prior_a = m->g_prior_a = NULL;
    if (c->prior == DVAE_PRIOR_BERNOULLI && m->params) {
        m->prior_a = m->params + off;
        m->g_prior_a = m->grads + off;
    }
    for (int g = 0; g < L; g++) dvae_net_take(&m->enc[g], a, bm_);
    dvae_net_take(&m->dec, a, bm_);
    m->ein[0] = c->center ? nn_arena_take(a, (size_t)bm_ * c->D) : NULL;
    for (int g = 1; g < L; g++) m->ein[g] = nn_arena_take(a, (size_t)bm_ * (c->D + m->gstart[g]));
    m->zeta = nn_arena_take(a, (size_t)bm_ * c->n);
    m->dzeta = nn_arena_take(a, (size_t)bm_ * c->n);
    m->dl = nn_arena_take(a, (size_t)bm_ * c->n);
    m->lx = nn_arena_take(a, (size_t)bm_ * c->n);
    m->dacc = nn_arena_take(a, (size_t)bm_ * c->n);
    const bool mix = relax_is_mixture((enum relax_kind)c->relax);
    m->dzdl = mix ? nn_arena_take(a, (size_t)bm_ * c->n) : NULL;
    m->ubuf = mix ? nn_arena_take(a, (size_t)bm_ * c->n) : NULL;
    m->mfm = mix ? nn_arena_take(a, (size_t)bm_ * c->n) : NULL;
    m->dlg = nn_arena_take(a, (size_t)bm_ * c->n);
    for (int s = 0; s < DVAE_MAX_SHARDS; s++) m->cwork[s] = m->nwork ? nn_arena_take(a, m->nwork) : NULL;
    m->g1 = nn_arena_take(a, (size_t)bm_ * widest);
    m->g2 = nn_arena_take(a, (size_t)bm_ * widest);
    float *rv = nn_arena_take(a, 2 * (size_t)bm_);   /* doubles */
    m->rowv = (double *)rv;
    rv = nn_arena_take(a, 2 * (size_t)bm_);
    m->rowk = (double *)rv;
    rv = nn_arena_take(a, 2 * (size_t)bm_);
    m->rowp = (double *)rv;
    m->widest = widest;
    return 0;
}

int dvae_parse_conv(const char *s, struct dvae_config *c)
{
    int k = 0;
    const char *p = s;
    while (*p) {
        if (k == DVAE_MAX_CONV) return qv_seterr("--conv: at most %d layers ('%s')", DVAE_MAX_CONV, s);
        int v[4], nv = 0;
        for (; nv < 4; nv++) {
            char *end;
            long x = strtol(p, &end, 10);
            if (end == p || x < 0 || x > 4096)
                return qv_seterr("--conv: '%s': expected CHANNELS:KERNEL:STRIDE:PAD per layer, e.g. "
                                 "32:4:2:1,64:4:2:1", s);
            v[nv] = (int)x;
            p = end;
            if (nv < 3 && *p++ != ':')
                return qv_seterr("--conv: '%s': a layer is CHANNELS:KERNEL:STRIDE:PAD", s);
        }
        if (v[0] < 1 || v[1] < 1 || v[2] < 1)
            return qv_seterr("--conv: '%s': channels, kernel and stride must be at least 1", s);
        c->conv[k++] = (struct dvae_conv_cfg){.ch = v[0], .k = v[1], .stride = v[2], .pad = v[3]};
        if (*p == ',') p++;
        else if (*p) return qv_seterr("--conv: '%s': layers are separated by commas", s);
    }
    c->nconv = k;
    return 0;
}

/* The partition of the n units into cfg.groups groups (cfg.group_of, or contiguous blocks as
 * equal as possible): unit_group, gunits, gstart.  -1 + error if a group is empty or a unit's
 * group is out of range. */
static int dvae_partition(struct dvae *m, const int *group_of)
{
    const int n = m->cfg.n, L = m->cfg.groups;
    if (L < 1 || L > DVAE_MAX_GROUPS || L > n)
        return qv_seterr("model: --groups must be 1..%d (and at most the %d latents), got %d",
                         DVAE_MAX_GROUPS, n, L);
    m->ngroup = L;
    m->unit_group = qv_malloc(sizeof(int) * (size_t)n);
    m->gunits = qv_malloc(sizeof(int) * (size_t)n);
    int count[DVAE_MAX_GROUPS] = {0};
    for (int i = 0; i < n; i++) {
        int g = group_of ? group_of[i] : (int)((long)i * L / n);
        if (g < 0 || g >= L) return qv_seterr("model: unit %d is in group %d; groups are 0..%d", i, g, L - 1);
        m->unit_group[i] = g;
        count[g]++;
    }
    m->gstart[0] = 0;
    for (int g = 0; g < L; g++) {
        if (!count[g]) return qv_seterr("model: latent group %d of %d has no units", g, L);
        m->gstart[g + 1] = m->gstart[g] + count[g];
    }
    int fill[DVAE_MAX_GROUPS];
    memcpy(fill, m->gstart, sizeof fill);
    for (int i = 0; i < n; i++) m->gunits[fill[m->unit_group[i]]++] = i;
    return 0;
}

int dvae_tau_check(double tau)
{
    /* τ = 0 divides by zero in the relaxation; the upper bound catches typos (at τ ≫ 1 every ζ is
     * near 1/2 whatever q is, so nothing would be learnt) */
    if (!(tau > 0 && tau <= 10)) return qv_seterr("--tau must be in (0, 10], got %g", tau);
    return 0;
}

/* Sizes m's arena for m->cfg, allocates it (zeroed) and carves the tensors out of it: the
 * parameters and the work buffers for cfg.bmax rows.  -1 + error (m->arena untouched) if memory
 * runs out. */
static int dvae_arena_build(struct dvae *m)
{
    struct nn_arena plan, a;
    nn_arena_plan(&plan);
    if (dvae_carve(m, &plan) < 0) return -1;
    if (nn_arena_alloc(&a, plan.used) < 0) return -1;
    m->arena = a;
    dvae_carve(m, &m->arena);
    m->sgrad[0] = m->grads;
    return 0;
}

/* Checks cfg and allocates a model whose parameters are not yet set: dvae_new initialises them,
 * dvae_clone copies them. */
static struct dvae *dvae_alloc(const struct dvae_config *c)
{
    if (c->D < 1 || c->D > 1 << 20) { qv_seterr("model: %d pixels is out of range", c->D); return NULL; }
    if (c->n < 1 || c->n > 1 << 16) { qv_seterr("model: %d latent units is out of range", c->n); return NULL; }
    if (c->nhidden < 1 || c->nhidden > DVAE_MAX_HIDDEN) {
        qv_seterr("model: 1..%d hidden layers", DVAE_MAX_HIDDEN);
        return NULL;
    }
    if (dvae_tau_check(c->tau) < 0) { qv_preferr("model"); return NULL; }
    if (c->bmax < 1 || c->bmax > DVAE_MAX_ROWS) {
        qv_seterr("model: batch capacity out of range");
        return NULL;
    }
    if (c->nconv > 0 && (c->h < 1 || c->w < 1 || c->h * c->w != c->D)) {
        qv_seterr("model: --conv needs images of known height and width (%d pixels)", c->D);
        return NULL;
    }
    if (c->nconv > 0 && c->groups > 1) {
        qv_seterr("model: --conv works with one latent group (--groups 1), not %d", c->groups);
        return NULL;
    }
    if (c->groups > 1 && c->kl == DVAE_KL_ANALYTIC && c->prior == DVAE_PRIOR_BM) {
        qv_seterr("model: the analytic KL needs a factorial posterior (--groups 1), not %d groups",
                  c->groups);
        return NULL;
    }
    struct relax rx;
    if (relax_init(&rx, (enum relax_kind)c->relax,
                   c->relax_beta > 0 ? c->relax_beta : relax_default_beta((enum relax_kind)c->relax)) < 0) {
        qv_preferr("model");
        return NULL;
    }
    if (c->relax_beta > 0 && !relax_is_mixture((enum relax_kind)c->relax)) {
        qv_seterr("model: --relax-beta applies to power, exp and spike-exp (gumbolt and st use --tau)");
        return NULL;
    }
    struct dvae *m = qv_calloc(1, sizeof *m);
    m->cfg = *c;
    m->cfg.group_of = NULL;
    m->rx = rx;
    m->xmean = qv_calloc((size_t)c->D, sizeof(float));
    if (dvae_partition(m, c->group_of) < 0 || dvae_arena_build(m) < 0) {
        dvae_free(m);
        return NULL;
    }
    if (m->nbn) {
        /* the running statistics live outside the arena (dvae_reserve moves the arena) */
        m->bnrun = qv_calloc(m->nbn, sizeof(float));
        for (int g = 0; g < m->ngroup; g++) dvae_net_bind_running(&m->enc[g], m->bnrun);
        dvae_net_bind_running(&m->dec, m->bnrun);
        for (int s = 0; s < DVAE_MAX_SHARDS; s++) m->bnstat[s] = qv_calloc(m->nbn, sizeof(float));
    }
    m->nshard = m->nthread = 1;
    return m;
}

struct dvae *dvae_new(const struct dvae_config *cfg, uint64_t seed)
{
    struct dvae *m = dvae_alloc(cfg);
    if (!m) return NULL;
    struct rng r;
    rng_init(&r, seed, 0x6d6f64656cULL);   /* "model" */
    for (int g = 0; g < m->ngroup; g++) dvae_net_init(&m->enc[g], &r);
    dvae_net_init(&m->dec, &r);
    /* prior logits start at 0 (p = 1/2), like the BM parameters (DVAE# initialises them at 0) */
    return m;
}

void dvae_free(struct dvae *m)
{
    if (!m) return;
    for (int s = 1; s < DVAE_MAX_SHARDS; s++) qv_free_aligned(m->sgrad[s]);
    for (int s = 0; s < DVAE_MAX_SHARDS; s++) free(m->sbm[s]);
    nn_arena_free(&m->arena);
    free(m->unit_group);
    free(m->gunits);
    free(m->xmean);
    free(m->bnrun);
    for (int s = 0; s < DVAE_MAX_SHARDS; s++) {
        free(m->bnstat[s]);
        free(m->mfscr[s]);
    }
    free(m);
}

int dvae_reserve(struct dvae *m, int rows)
{
    if (rows <= m->cfg.bmax) return 0;
    if (rows > DVAE_MAX_ROWS)
        return qv_seterr("model: %d rows per pass is more than a model holds (%d)", rows,
                         DVAE_MAX_ROWS);
    /* Parameters and work buffers share one arena: build a larger one and move the parameters
     * over.  Gradients are overwritten by every pass, and the shard buffers sgrad[s ≥ 1] and sbm
     * do not depend on the capacity.  On failure the old carving is restored (same pointers). */
    struct nn_arena old = m->arena;
    const float *oldp = m->params;
    const int was = m->cfg.bmax;
    m->cfg.bmax = rows;
    if (dvae_arena_build(m) < 0) {
        m->cfg.bmax = was;
        m->arena = old;
        m->arena.used = 0;
        dvae_carve(m, &m->arena);
        return -1;
    }
    memcpy(m->params, oldp, sizeof(float) * m->nparams);
    nn_arena_free(&old);
    return 0;
}

struct dvae *dvae_clone(const struct dvae *m)
{
    struct dvae_config cfg = m->cfg;
    cfg.group_of = m->unit_group;
    struct dvae *c = dvae_alloc(&cfg);
    if (!c) return NULL;
    memcpy(c->params, m->params, sizeof(float) * m->nparams);
    memcpy(c->xmean, m->xmean, sizeof(float) * (size_t)m->cfg.D);
    if (m->nbn) memcpy(c->bnrun, m->bnrun, sizeof(float) * m->nbn);
    return c;
}

int dvae_check_finite(const struct dvae *m)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (!isfinite(m->params[i])) {
            const char *what = "prior logit";
            const float *p = m->params + i;
            if (dvae_net_owns(&m->dec, p)) what = "decoder parameter";
            for (int g = 0; g < m->ngroup; g++)
                if (dvae_net_owns(&m->enc[g], p)) what = "encoder parameter";
            return qv_seterr("model: %s %zu is %s", what, i, isnan(m->params[i]) ? "NaN" : "infinite");
        }
    return 0;
}

void dvae_describe(const struct dvae *m, char *buf, size_t n)
{
    const struct dvae_config *c = &m->cfg;
    char arch[128];
    int k = snprintf(arch, sizeof arch, "%d", c->D);
    for (int j = 0; j < c->nconv && k < (int)sizeof arch; j++)
        k += snprintf(arch + k, sizeof arch - k, "-conv%d", c->conv[j].ch);
    for (int i = 0; i < c->nhidden && k < (int)sizeof arch; i++)
        k += snprintf(arch + k, sizeof arch - k, "-%d", c->hidden[i]);
    if (k < (int)sizeof arch) snprintf(arch + k, sizeof arch - k, "-%d", c->n);
    /* trainable floats (the vector's alignment padding excluded) */
    size_t np = c->prior == DVAE_PRIOR_BERNOULLI ? (size_t)c->n : 0;
    for (int i = 0; i < m->dec.nl; i++) {
        np += (size_t)m->dec.L[i].in * m->dec.L[i].out + m->dec.L[i].out;
        for (int g = 0; g < m->ngroup; g++)
            np += (size_t)m->enc[g].L[i].in * m->enc[g].L[i].out + m->enc[g].L[i].out;
        if (c->bn && i < m->dec.nl - 1) {   /* γ and β of every normalised layer */
            np += 2 * (size_t)m->dec.L[i].out;
            for (int g = 0; g < m->ngroup; g++) np += 2 * (size_t)m->enc[g].L[i].out;
        }
    }
    const bool bm = c->prior == DVAE_PRIOR_BM;
    char post[64] = "";
    if (m->ngroup > 1 || c->center || c->bn)
        snprintf(post, sizeof post, "; %d latent group%s%s%s", m->ngroup, m->ngroup > 1 ? "s" : "",
                 c->center ? ", centred input" : "", c->bn ? ", batch norm" : "");
    char rx[48];
    if (dvae_mixture(m)) snprintf(rx, sizeof rx, "%s beta=%g", dvae_relax_name(c->relax), m->rx.beta);
    else snprintf(rx, sizeof rx, "%s tau=%g", dvae_relax_name(c->relax), (double)c->tau);
    snprintf(buf, n, "%s %s %s%s %s prior, %zu parameters%s", arch, nn_act_name(c->act), rx,
             bm && c->kl == DVAE_KL_ANALYTIC ? " kl=analytic" : "", bm ? "boltzmann" : "bernoulli", np, post);
}

void dvae_noise(struct rng *r, float *g, size_t n)
{
    /* u = (k + ½)/2²⁴ is never 0 or 1, so the logit is finite (|g| ≤ 17.3). */
    size_t i = 0;
    for (; i + NN_VL <= n; i += NN_VL) {
        nn_vf u;
        for (int k = 0; k < NN_VL; k++) u[k] = ((float)(rng_u64(r) >> 40) + 0.5f) * 0x1.0p-24f;
        nn_vstore(g + i, nn_vlog(u) - nn_vlog(1.0f - u));
    }
    for (; i < n; i++) {
        float u = ((float)(rng_u64(r) >> 40) + 0.5f) * 0x1.0p-24f;
        g[i] = nn_flog(u) - nn_flog(1.0f - u);
    }
}

const float *dvae_decode(struct dvae *m, int B, const float *z)
{
    const struct dvae_scr sc = {.work = m->cwork[0]};
    return dvae_net_forward(&m->dec, 0, B, z, &sc);
}

void dvae_decode_means(struct dvae *m, int B, const float *z, float *out)
{
    const float *l = dvae_decode(m, B, z);
    size_t n = (size_t)B * m->cfg.D, i = 0;
    for (; i + NN_VL <= n; i += NN_VL) nn_vstore(out + i, nn_vsigmoid(nn_vload(l + i)));
    for (; i < n; i++) out[i] = nn_fsigmoid(l[i]);
}

void dvae_prior_logp(const struct dvae *m, const struct bm *bm, int B, const float *z, double *out)
{
    const int n = m->cfg.n;
    if (m->cfg.prior == DVAE_PRIOR_BM) {
        bm_energy_f(bm, z, B, out);
        for (int b = 0; b < B; b++) out[b] = -out[b];
        return;
    }
    /* Σ z a − softplus(a): the normalising constant is part of the closed form */
    double c = 0.0;
    for (int i = 0; i < n; i++) c += nn_fsoftplus(m->prior_a[i]);
    for (int b = 0; b < B; b++) {
        const float *zr = z + (size_t)b * n;
        double s = 0.0;
        for (int i = 0; i < n; i++) s += (double)zr[i] * m->prior_a[i];
        out[b] = s - c;
    }
}

const char *dvae_relax_name(enum dvae_relax r) { return relax_name((enum relax_kind)r); }

int dvae_relax_parse(const char *s, enum dvae_relax *out)
{
    enum relax_kind k;
    if (relax_parse(s, &k) < 0) return -1;
    *out = (enum dvae_relax)k;
    return 0;
}

bool dvae_mixture(const struct dvae *m) { return relax_is_mixture(m->rx.kind); }

int dvae_noise_planes(const struct dvae *m) { return dvae_mixture(m) ? 2 : 1; }

void dvae_noise_rows(const struct dvae *m, struct rng *r, float *noise, size_t rows)
{
    dvae_noise_part(m, r, noise, rows, 0, rows);
}

void dvae_noise_part(const struct dvae *m, struct rng *r, float *noise, size_t rows, size_t row0,
                     size_t nrows)
{
    const size_t n = (size_t)m->cfg.n, k = rows * n;
    dvae_noise(r, noise + row0 * n, nrows * n);
    if (dvae_mixture(m))
        for (size_t i = row0 * n; i < (row0 + nrows) * n; i++) noise[k + i] = rng_uniformf(r);
}

const char *dvae_kl_name(enum dvae_kl k) { return k == DVAE_KL_ANALYTIC ? "analytic" : "relaxed"; }

int dvae_kl_parse(const char *s, enum dvae_kl *out)
{
    if (strcmp(s, "relaxed") == 0) *out = DVAE_KL_RELAXED;
    else if (strcmp(s, "analytic") == 0) *out = DVAE_KL_ANALYTIC;
    else return qv_seterr("--kl: unknown prior term '%s' (relaxed, analytic)", s);
    return 0;
}

int dvae_set_parallel(struct dvae *m, int shards, int threads)
{
    if (shards < 1 || shards > DVAE_MAX_SHARDS)
        return qv_seterr("model: %d data-parallel blocks (1..%d)", shards, DVAE_MAX_SHARDS);
    if (threads < 1) threads = 1;
    for (int s = 1; s < shards; s++)
        if (!m->sgrad[s]) {
            /* zeroed once: the alignment padding between tensors stays 0 in every block */
            m->sgrad[s] = qv_alloc_aligned(m->nparams * sizeof(float) + 64);
            memset(m->sgrad[s], 0, m->nparams * sizeof(float));
        }
    m->nshard = shards;
    m->nthread = QV_MIN(threads, shards);
    return 0;
}
