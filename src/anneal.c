/* anneal.c — A(s)/B(s) tables (CSV load, cache, interpolation), physical temperature, and the
 * freeze-out model described in anneal.h. */
#include "anneal.h"
#include "schedule.h"
#include "solver.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void anneal_table_free(struct anneal_table *t)
{
    if (!t) return;
    free(t->s);
    free(t->A);
    free(t->B);
    free(t);
}

static int interp_idx(const struct anneal_table *t, double s)
{
    /* index i with s[i] <= s < s[i+1] (binary search; grid may be non-uniform) */
    int lo = 0, hi = t->n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (t->s[mid] <= s) lo = mid; else hi = mid;
    }
    return lo;
}

static double interp(const struct anneal_table *t, const double *y, double s)
{
    if (s <= t->s[0]) return y[0];
    if (s >= t->s[t->n - 1]) return y[t->n - 1];
    int i = interp_idx(t, s);
    double w = (s - t->s[i]) / (t->s[i + 1] - t->s[i]);
    return y[i] + w * (y[i + 1] - y[i]);
}

double anneal_A(const struct anneal_table *t, double s) { return interp(t, t->A, s); }
double anneal_B(const struct anneal_table *t, double s) { return interp(t, t->B, s); }

double anneal_beta_phys(double temperature_mk)
{
    return ANNEAL_H_PLANCK * 1e9 / (ANNEAL_K_B * temperature_mk * 1e-3);
}

double anneal_rate(const struct anneal_table *t, double s, double nu0)
{
    double a = anneal_A(t, s) / t->a_c;
    double r = a * a;
    return r < nu0 ? r : nu0;
}

/* A_c² = 20 µs · ∫_{s*}^{1} A(s)² ds: one sweep left after s* on a linear 20 µs anneal. */
static void calibrate(struct anneal_table *t, double s_freeze)
{
    t->s_freeze = s_freeze;
    const int steps = 4000;
    double h = (1.0 - s_freeze) / steps, acc = 0;
    for (int i = 0; i <= steps; i++) {
        double a = anneal_A(t, s_freeze + i * h);
        acc += (i == 0 || i == steps ? 0.5 : 1.0) * a * a;
    }
    acc *= h;
    t->a_c = sqrt(20.0 * acc);
    if (!(t->a_c > 0)) t->a_c = 1e-12;
}

/* Column index by header name: "s", then names starting with A / B (A_GHz, A(s), …). */
static int find_col(char **cols, int ncol, char which)
{
    for (int i = 0; i < ncol; i++) {
        const char *c = cols[i];
        while (*c == ' ' || *c == '"') c++;
        if (which == 's') {
            if ((c[0] == 's' || c[0] == 'S') && (c[1] == 0 || c[1] == ' ' || c[1] == '"' || c[1] == '\r'))
                return i;
        } else if (toupper((unsigned char)c[0]) == which && (c[1] == '_' || c[1] == '(' || c[1] == ' ' ||
                                                             c[1] == 0 || c[1] == '"' || c[1] == '\r')) {
            return i;
        }
    }
    return -1;
}

static int split_csv(char *line, char **cols, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        cols[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

struct anneal_table *anneal_table_load(const char *path, double s_freeze)
{
    unsigned char *buf;
    size_t len;
    if (qv_read_file(path, true, &buf, &len) < 0) return NULL;
    struct anneal_table *t = qv_calloc(1, sizeof *t);
    const char *base = strrchr(path, '/');
    snprintf(t->name, sizeof t->name, "%s", base ? base + 1 : path);
    char *dot = strrchr(t->name, '.');
    if (dot && !strcmp(dot, ".csv")) *dot = 0;
    int cap = 1024;
    t->s = qv_mallocarray((size_t)cap, sizeof(double));
    t->A = qv_mallocarray((size_t)cap, sizeof(double));
    t->B = qv_mallocarray((size_t)cap, sizeof(double));
    char *save = NULL, *line = strtok_r((char *)buf, "\n", &save);
    int cs = -1, ca = -1, cb = -1, lineno = 1, ncol_hdr = 0;
    char *cols[32];
    if (!line) { qv_seterr("%s: empty file", path); goto fail; }
    ncol_hdr = split_csv(line, cols, 32);
    cs = find_col(cols, ncol_hdr, 's');
    ca = find_col(cols, ncol_hdr, 'A');
    cb = find_col(cols, ncol_hdr, 'B');
    if (cs < 0 || ca < 0 || cb < 0) {
        qv_seterr("%s: missing column %s in the header (need s, A(s), B(s); e.g. \"s,A_GHz,B_GHz\")", path,
                  cs < 0 ? "s" : ca < 0 ? "A" : "B");
        goto fail;
    }
    while ((line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        char *q = line;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (!*q || *q == '#') continue;
        int nc = split_csv(line, cols, 32);
        int need = QV_MAX(cs, QV_MAX(ca, cb));
        if (nc <= need) { qv_seterr("%s: line %d: missing columns (%d of %d)", path, lineno, nc, ncol_hdr); goto fail; }
        double v[3];
        int idx[3] = {cs, ca, cb};
        for (int k = 0; k < 3; k++) {
            char *c = cols[idx[k]], *e;
            while (*c == ' ') c++;
            size_t l = strlen(c);
            while (l && (c[l - 1] == '\r' || c[l - 1] == ' ')) c[--l] = 0;
            if (qv_parse_double(c, &v[k]) < 0) {
                qv_seterr("%s: line %d: \"%s\" is not a number", path, lineno, c);
                goto fail;
            }
            (void)e;
        }
        if (v[1] < 0 || v[2] < 0) { qv_seterr("%s: line %d: negative A or B", path, lineno); goto fail; }
        if (t->n > 0 && !(v[0] > t->s[t->n - 1])) {
            qv_seterr("%s: line %d: s = %g is not increasing", path, lineno, v[0]);
            goto fail;
        }
        if (t->n == cap) {
            cap *= 2;
            t->s = qv_realloc(t->s, (size_t)cap * sizeof(double));
            t->A = qv_realloc(t->A, (size_t)cap * sizeof(double));
            t->B = qv_realloc(t->B, (size_t)cap * sizeof(double));
        }
        t->s[t->n] = v[0];
        t->A[t->n] = v[1];
        t->B[t->n] = v[2];
        t->n++;
    }
    if (t->n < 2) { qv_seterr("%s: needs at least 2 rows", path); goto fail; }
    if (fabs(t->s[0]) > 1e-9 || fabs(t->s[t->n - 1] - 1) > 1e-9) {
        qv_seterr("%s: s must run from 0 to 1 (got %g .. %g)", path, t->s[0], t->s[t->n - 1]);
        goto fail;
    }
    free(buf);
    calibrate(t, s_freeze > 0 && s_freeze < 1 ? s_freeze : 0.612);
    return t;
fail:
    free(buf);
    anneal_table_free(t);
    return NULL;
}

/* Process-wide cache of shipped tables, keyed by (name, calibration point). */
#define CACHE_MAX 64
static struct { char name[64]; double sf; struct anneal_table *t; } cache[CACHE_MAX];
static int ncache;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

const struct anneal_table *anneal_table_calibrated(const char *name, double sf)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < ncache; i++)
        if (!strcmp(cache[i].name, name) && cache[i].sf == sf) {
            pthread_mutex_unlock(&cache_lock);
            return cache[i].t;
        }
    char path[PATH_MAX];
    struct anneal_table *t = NULL;
    if (strchr(name, '/')) {
        t = anneal_table_load(name, sf);
    } else if (qv_path(path, sizeof path, "%s/assets/annealing/%s.csv", qv_home(), name) == 0) {
        if (!qv_file_exists(path)) qv_seterr("annealing table %s: not found (%s)", name, path);
        else t = anneal_table_load(path, sf);
    }
    if (t && ncache < CACHE_MAX) {
        snprintf(cache[ncache].name, sizeof cache[ncache].name, "%s", name);
        cache[ncache].sf = sf;
        cache[ncache].t = t;
        ncache++;
    } else if (t) {
        /* cache full: replace the oldest custom entry would invalidate callers' pointers, so
         * refuse instead (64 distinct tables in one process is not a real use). */
        anneal_table_free(t);
        t = NULL;
        qv_seterr("annealing table %s: too many distinct tables loaded", name);
    }
    pthread_mutex_unlock(&cache_lock);
    return t;
}

const struct anneal_table *anneal_table_get(const char *name)
{
    return anneal_table_calibrated(name, 0.612);
}

const struct anneal_table *anneal_table_for(const struct solver_props *sp)
{
    if (!sp) sp = solver_defaults();
    double sf = sp->freezeout_s > 0 && sp->freezeout_s < 1 ? sp->freezeout_s : 0.612;
    return anneal_table_calibrated(sp->anneal_table[0] ? sp->anneal_table : "advantage4", sf);
}

int anneal_freezeout(const struct sched *s, const struct solver_props *sp,
                     const struct anneal_table *t, struct freezeout *out)
{
    if (!sp) sp = solver_defaults();
    if (s->n < 2) return qv_seterr("freeze-out: the schedule has fewer than 2 points");
    if (!t) t = anneal_table_for(sp);
    if (!t) return -1;
    double T = sched_duration(s), t0 = s->pt[0].t;
    /* Walk backwards from the end, accumulating (A/A_c)² dt, until one relaxation is left. */
    int steps = 20000;
    double dt = (T - t0) / steps, acc = 0, tstar = t0;
    for (int k = steps - 1; k >= 0; k--) {
        double tm = t0 + (k + 0.5) * dt;
        double a = anneal_A(t, sched_s_at(s, tm)) / t->a_c;
        double inc = a * a * dt;
        if (acc + inc >= 1.0) {
            tstar = t0 + (k + 1) * dt - (1.0 - acc) / (a * a);   /* inside this step */
            break;
        }
        acc += inc;
    }
    out->t_star = tstar;
    out->s_star = sched_s_at(s, tstar);
    double bphys = anneal_beta_phys(sp->temperature_mk);
    double B = anneal_B(t, out->s_star), A = anneal_A(t, out->s_star);
    out->beta_eff = bphys * B / 2;
    out->a_over_b = B > 0 ? A / B : INFINITY;
    return 0;
}
