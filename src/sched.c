/* sched.c — anneal schedules: builders, point editing, JSON, and QPU-exact validation
 * (qpu-protocol.md §2.2 rules as Ocean's validate_anneal_schedule checks them plus the server
 * rules from the D-Wave docs, §2.4 run-duration limit). */
#include "schedule.h"
#include "graph.h"
#include "solver.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sched_init(struct sched *s)
{
    memset(s, 0, sizeof *s);
    s->num_reads = 100;
    s->readout_thermalization = -1;
    s->programming_thermalization = -1;
    s->reinitialize = true;
}

struct sched *sched_new(void)
{
    struct sched *s = qv_malloc(sizeof *s);
    sched_init(s);
    return s;
}

void sched_free(struct sched *s) { free(s); }

void sched_copy(struct sched *dst, const struct sched *src)
{
    if (dst != src) memcpy(dst, src, sizeof *dst);
}

static const struct solver_props *limits(const struct solver_props *sp)
{
    return sp ? sp : solver_defaults();
}

/* Times go to the QPU rounded to 0.01 µs; ramps we build are rounded *up* so that rounding never
 * makes them steeper than the limit. */
static double ceil_cs(double t) { return ceil(t * 100.0 - 1e-7) / 100.0; }

static int check_point(const char *what, int i, double t, double sv)
{
    if (!isfinite(t) || !isfinite(sv))
        return qv_seterr("%s: point %d: t and s must be finite numbers (got t = %g, s = %g)", what, i, t, sv);
    if (t < 0) return qv_seterr("%s: point %d: negative time t = %g µs", what, i, t);
    if (sv < 0 || sv > 1) return qv_seterr("%s: point %d: s = %g is outside [0, 1]", what, i, sv);
    return 0;
}

int sched_set_points(struct sched *s, const struct sched_point *pts, int n)
{
    if (n < 2) return qv_seterr("schedule: needs at least 2 points (got %d)", n);
    if (n > SCHED_CAP) return qv_seterr("schedule: too many points (%d, at most %d)", n, SCHED_CAP);
    for (int i = 0; i < n; i++) {
        if (check_point("schedule", i, pts[i].t, pts[i].s) < 0) return -1;
        if (i > 0 && !(pts[i].t > pts[i - 1].t))
            return qv_seterr("schedule: point %d: time %g µs is not after the previous point's %g µs "
                             "(times must strictly increase)", i, pts[i].t, pts[i - 1].t);
    }
    double old = sched_duration(s);
    memmove(s->pt, pts, (size_t)n * sizeof *pts);
    s->n = n;
    sched_hgain_fit(s, old);
    return 0;
}

int sched_forward(struct sched *s, double T)
{
    if (!isfinite(T) || T <= 0) return qv_seterr("schedule new forward: T must be a positive time in µs (got %g)", T);
    struct sched_point p[2] = {{0, 0}, {T, 1}};
    if (sched_set_points(s, p, 2) < 0) return -1;
    snprintf(s->name, sizeof s->name, "forward %g", T);
    s->initial_state = false;
    return 0;
}

/* First time at which the schedule's s(t) reaches `target` (segment index in *seg, the time in
 * *tq); -1 if it never does. */
static int first_reach(const struct sched *s, double target, int *seg, double *tq)
{
    for (int i = 0; i < s->n; i++)
        if (s->pt[i].s == target) { *seg = i; *tq = s->pt[i].t; return 1; }   /* exact point */
    for (int i = 0; i + 1 < s->n; i++) {
        double s0 = s->pt[i].s, s1 = s->pt[i + 1].s;
        if ((s0 < target && target < s1) || (s1 < target && target < s0)) {
            double w = (target - s0) / (s1 - s0);
            *seg = i;
            *tq = s->pt[i].t + w * (s->pt[i + 1].t - s->pt[i].t);
            return 0;   /* inside segment i */
        }
    }
    return -1;
}

/* Where a builder acting "at s = target" starts: the END of the first stretch the schedule spends
 * at target.  A pause or an earlier hold there is a plateau of points with s == target; a quench
 * or a further pause must follow it, not cut it off (`schedule pause 0.45 50; schedule quench
 * 0.45` keeps the 50 µs).  Returns as first_reach, or 2 when a plateau of ≥ 2 points was
 * walked (*seg is then its last point). */
static int reach_end(const struct sched *s, double target, int *seg, double *tq)
{
    int r = first_reach(s, target, seg, tq);
    if (r != 1) return r;
    while (*seg + 1 < s->n && s->pt[*seg + 1].s == target) {
        ++*seg;
        r = 2;
    }
    *tq = s->pt[*seg].t;
    return r;
}

int sched_pause(struct sched *s, double s_p, double duration)
{
    if (!isfinite(s_p) || s_p <= 0 || s_p >= 1)
        return qv_seterr("schedule pause: S_P must be strictly between 0 and 1 (got %g)", s_p);
    if (!isfinite(duration) || duration <= 0)
        return qv_seterr("schedule pause: DURATION must be a positive time in µs (got %g)", duration);
    struct sched w;
    sched_copy(&w, s);
    if (w.n < 2 && sched_forward(&w, 20) < 0) return -1;
    int seg;
    double tq;
    int r = reach_end(&w, s_p, &seg, &tq);
    if (r < 0) return qv_seterr("schedule pause: the schedule never reaches s = %g", s_p);
    struct sched_point out[SCHED_CAP];
    int n = 0;
    /* points 0..keep are copied unchanged, the rest move later by duration; on a plateau the
     * plateau's last point moves too (the hold grows, no point is added) */
    int keep = r == 2 ? seg - 1 : seg;
    if (w.n + 2 > SCHED_CAP) return qv_seterr("schedule pause: too many points (at most %d)", SCHED_CAP);
    for (int i = 0; i <= keep; i++) out[n++] = w.pt[i];
    if (r == 0) out[n++] = (struct sched_point){tq, s_p};
    if (r != 2) out[n++] = (struct sched_point){tq + duration, s_p};
    for (int i = keep + 1; i < w.n; i++) out[n++] = (struct sched_point){w.pt[i].t + duration, w.pt[i].s};
    if (sched_set_points(&w, out, n) < 0) return qv_preferr("schedule pause");
    char nm[192];
    snprintf(nm, sizeof nm, "%.60s + pause %g %g", w.name[0] ? w.name : "schedule", s_p, duration);
    snprintf(w.name, sizeof w.name, "%.63s", nm);
    sched_copy(s, &w);
    return 0;
}

int sched_quench(struct sched *s, double s_q, double max_slope, const struct solver_props *sp)
{
    sp = limits(sp);
    if (!isfinite(s_q) || s_q <= 0 || s_q >= 1)
        return qv_seterr("schedule quench: S_Q must be strictly between 0 and 1 (got %g)", s_q);
    double lim = 1.0 / sp->annealing_time_range[0];
    if (!isfinite(max_slope)) return qv_seterr("schedule quench: --slope must be a number");
    if (max_slope <= 0) max_slope = lim;
    struct sched w;
    sched_copy(&w, s);
    if (w.n < 2 && sched_forward(&w, 20) < 0) return -1;
    int seg;
    double tq;
    int r = reach_end(&w, s_q, &seg, &tq);
    if (r < 0) return qv_seterr("schedule quench: the schedule never reaches s = %g", s_q);
    struct sched_point out[SCHED_CAP];
    int n = 0;
    for (int i = 0; i <= seg; i++) out[n++] = w.pt[i];
    if (r == 0) out[n++] = (struct sched_point){tq, s_q};
    out[n++] = (struct sched_point){ceil_cs(tq + (1.0 - s_q) / max_slope), 1.0};
    if (sched_set_points(&w, out, n) < 0) return qv_preferr("schedule quench");
    char nm[192];
    snprintf(nm, sizeof nm, "%.60s + quench %g", w.name[0] ? w.name : "schedule", s_q);
    snprintf(w.name, sizeof w.name, "%.63s", nm);
    sched_copy(s, &w);
    return 0;
}

int sched_reverse(struct sched *s, double s_target, double hold, double ramp,
                  const struct solver_props *sp)
{
    sp = limits(sp);
    if (!isfinite(s_target) || s_target < 0 || s_target >= 1)
        return qv_seterr("schedule reverse: S_TARGET must be in [0, 1) (got %g)", s_target);
    if (!isfinite(hold) || hold < 0)
        return qv_seterr("schedule reverse: HOLD must be a time >= 0 µs (got %g)", hold);
    if (!isfinite(ramp)) return qv_seterr("schedule reverse: --ramp must be a number");
    if (ramp <= 0) ramp = ceil_cs((1.0 - s_target) * sp->annealing_time_range[0]);
    struct sched_point out[4];
    int n = 0;
    out[n++] = (struct sched_point){0, 1};
    out[n++] = (struct sched_point){ramp, s_target};
    if (hold > 0) out[n++] = (struct sched_point){ramp + hold, s_target};
    out[n++] = (struct sched_point){2 * ramp + hold, 1};
    struct sched w;
    sched_copy(&w, s);
    if (sched_set_points(&w, out, n) < 0) return qv_preferr("schedule reverse");
    snprintf(w.name, sizeof w.name, "reverse %g %g", s_target, hold);
    w.initial_state = true;
    sched_copy(s, &w);
    return 0;
}

int sched_add(struct sched *s, double t, double sv)
{
    if (check_point("schedule add", s->n, t, sv) < 0) return -1;
    if (s->n >= SCHED_CAP) return qv_seterr("schedule add: the schedule is full (%d points)", SCHED_CAP);
    int at = s->n;
    for (int i = 0; i < s->n; i++) {
        if (s->pt[i].t == t)
            return qv_seterr("schedule add: there is already point %d at t = %g µs (use schedule move)", i, t);
        if (s->pt[i].t > t) { at = i; break; }
    }
    double old = sched_duration(s);
    memmove(s->pt + at + 1, s->pt + at, (size_t)(s->n - at) * sizeof *s->pt);
    s->pt[at] = (struct sched_point){t, sv};
    s->n++;
    sched_hgain_fit(s, old);
    return at;
}

int sched_del(struct sched *s, int i)
{
    if (i < 0 || i >= s->n)
        return qv_seterr("schedule del: no point %d (points are 0..%d)", i, s->n - 1);
    if (s->n <= 2) return qv_seterr("schedule del: a schedule needs at least 2 points");
    double old = sched_duration(s);
    memmove(s->pt + i, s->pt + i + 1, (size_t)(s->n - i - 1) * sizeof *s->pt);
    s->n--;
    sched_hgain_fit(s, old);
    return 0;
}

int sched_move(struct sched *s, int i, double t, double sv)
{
    if (i < 0 || i >= s->n)
        return qv_seterr("schedule move: no point %d (points are 0..%d)", i, s->n - 1);
    if (check_point("schedule move", i, t, sv) < 0) return -1;
    for (int k = 0; k < s->n; k++)
        if (k != i && s->pt[k].t == t)
            return qv_seterr("schedule move: point %d is already at t = %g µs", k, t);
    struct sched w;
    sched_copy(&w, s);
    memmove(w.pt + i, w.pt + i + 1, (size_t)(w.n - i - 1) * sizeof *w.pt);
    w.n--;
    int at = sched_add(&w, t, sv);
    if (at < 0) return -1;
    w.ctl = s->ctl;   /* the curve follows the end once, from the schedule's old end */
    sched_hgain_fit(&w, sched_duration(s));
    sched_copy(s, &w);
    return at;
}

double sched_duration(const struct sched *s) { return s->n > 0 ? s->pt[s->n - 1].t : 0; }

bool sched_is_reverse(const struct sched *s) { return s->n > 0 && s->pt[0].s == 1.0; }

double sched_s_at(const struct sched *s, double t)
{
    if (s->n == 0) return 0;
    if (t <= s->pt[0].t) return s->pt[0].s;
    for (int i = 1; i < s->n; i++)
        if (t <= s->pt[i].t) {
            double dt = s->pt[i].t - s->pt[i - 1].t;
            double w = dt > 0 ? (t - s->pt[i - 1].t) / dt : 1;
            return s->pt[i - 1].s + w * (s->pt[i].s - s->pt[i - 1].s);
        }
    return s->pt[s->n - 1].s;
}

/* ---- advanced controls: JSON (the editing functions are in sched_ctl.c) ---- */

static int points_from_list(const cJSON *list, struct sched_point *pts, int *n);

int sched_ctl_to_params(const struct sched *s, const struct graph *g, const int *qubit_of, int num_qubits,
                        cJSON *params)
{
    const struct sched_ctl *c = &s->ctl;
    if (c->fast_anneal) cJSON_AddBoolToObject(params, "fast_anneal", true);
    if (c->nhg) {
        cJSON *l = cJSON_AddArrayToObject(params, "h_gain_schedule");
        for (int i = 0; i < c->nhg; i++) {
            double v[2] = {c->hg[i].t, c->hg[i].s};
            cJSON_AddItemToArray(l, cJSON_CreateDoubleArray(v, 2));
        }
    }
    int missing = 0;
    for (int k = 0; k < 2; k++) {
        int n = k ? c->nflux : c->noff;
        if (!n) continue;
        double *a = qv_calloc((size_t)num_qubits + 1, sizeof *a);
        for (int i = 0; i < n; i++) {
            const struct sched_qval *e = k ? &c->flux[i] : &c->off[i];
            int v = graph_find_label(g, e->q), hw = v >= 0 ? qubit_of[v] : -1;
            if (hw >= 0 && hw < num_qubits) a[hw] = e->v;
            else missing++;
        }
        cJSON_AddItemToObject(params, k ? "flux_biases" : "anneal_offsets", cJSON_CreateDoubleArray(a, num_qubits));
        free(a);
    }
    return missing;
}

/* JSON of the controls: "h_gain_schedule" [[t, g], …]; "anneal_offsets" and "flux_biases" as
 * [[qubit, value], …] (only the non-zero ones; SAPI's per-qubit arrays are built from them by
 * the QPU client); "fast_anneal" true.  Absent keys leave the control off. */
static void ctl_to_cjson(const struct sched *s, cJSON *o)
{
    const struct sched_ctl *c = &s->ctl;
    if (c->fast_anneal) cJSON_AddBoolToObject(o, "fast_anneal", true);
    if (c->nhg) {
        cJSON *l = cJSON_AddArrayToObject(o, "h_gain_schedule");
        for (int i = 0; i < c->nhg; i++) {
            double v[2] = {c->hg[i].t, c->hg[i].s};
            cJSON_AddItemToArray(l, cJSON_CreateDoubleArray(v, 2));
        }
    }
    const char *key[2] = {"anneal_offsets", "flux_biases"};
    for (int k = 0; k < 2; k++) {
        int n = k ? c->nflux : c->noff;
        if (!n) continue;
        cJSON *l = cJSON_AddArrayToObject(o, key[k]);
        for (int i = 0; i < n; i++) {
            const struct sched_qval *e = k ? &c->flux[i] : &c->off[i];
            double v[2] = {(double)e->q, e->v};
            cJSON_AddItemToArray(l, cJSON_CreateDoubleArray(v, 2));
        }
    }
}

static int ctl_from_cjson(struct sched *w, const cJSON *obj)
{
    memset(&w->ctl, 0, sizeof w->ctl);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "fast_anneal");
    if (v && !cJSON_IsBool(v)) return qv_seterr("schedule JSON: \"fast_anneal\" must be true or false");
    w->ctl.fast_anneal = cJSON_IsTrue(v);
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "h_gain_schedule"))) {
        struct sched_point pts[SCHED_CAP];
        int n = 0;
        if (cJSON_GetArraySize(v) > SCHED_HG_CAP)
            return qv_seterr("schedule JSON: \"h_gain_schedule\" has more than %d points", SCHED_HG_CAP);
        if (points_from_list(v, pts, &n) < 0) return qv_preferr("\"h_gain_schedule\"");
        if (sched_set_hgain(w, pts, n) < 0) return -1;
    }
    const char *key[2] = {"anneal_offsets", "flux_biases"};
    for (int k = 0; k < 2; k++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(obj, key[k]), *e;
        if (!l) continue;
        if (!cJSON_IsArray(l)) return qv_seterr("schedule JSON: \"%s\" must be a list of [qubit, value]", key[k]);
        int i = 0;
        cJSON_ArrayForEach(e, l) {
            const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
            if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b)
                || a->valuedouble != floor(a->valuedouble))
                return qv_seterr("schedule JSON: \"%s\" element %d is not a [qubit, value] pair", key[k], i);
            if ((k ? sched_set_flux : sched_set_offset)(w, (long)a->valuedouble, b->valuedouble) < 0)
                return qv_preferr("schedule JSON");
            i++;
        }
    }
    return 0;
}

/* ---- JSON ---- */

static int points_from_list(const cJSON *list, struct sched_point *pts, int *n)
{
    if (!cJSON_IsArray(list)) return qv_seterr("schedule JSON: expected a list [[t, s], …]");
    int cnt = cJSON_GetArraySize(list);
    if (cnt > SCHED_CAP) return qv_seterr("schedule JSON: too many points (%d, at most %d)", cnt, SCHED_CAP);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
            return qv_seterr("schedule JSON: element %d is not a [t, s] pair", i);
        const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsNumber(a)) return qv_seterr("schedule JSON: point %d: t is not a number", i);
        if (!cJSON_IsNumber(b)) return qv_seterr("schedule JSON: point %d: s is not a number", i);
        pts[i].t = a->valuedouble;
        pts[i].s = b->valuedouble;
        i++;
    }
    *n = i;
    return 0;
}

int sched_from_cjson(struct sched *s, const cJSON *obj)
{
    struct sched w;
    sched_copy(&w, s);
    const cJSON *list = obj;
    if (cJSON_IsObject(obj)) {
        list = cJSON_GetObjectItemCaseSensitive(obj, "anneal_schedule");
        if (!list) return qv_seterr("schedule JSON: missing \"anneal_schedule\"");
        const cJSON *v;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "initial_state"))) w.initial_state = cJSON_IsTrue(v);
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "reinitialize_state"))) w.reinitialize = cJSON_IsTrue(v);
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "num_reads"))) {
            if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9)
                return qv_seterr("schedule JSON: \"num_reads\" must be a positive integer");
            w.num_reads = (long)v->valuedouble;
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "readout_thermalization")) && cJSON_IsNumber(v))
            w.readout_thermalization = v->valuedouble;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "programming_thermalization")) && cJSON_IsNumber(v))
            w.programming_thermalization = v->valuedouble;
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "solver")) && cJSON_IsString(v))
            snprintf(w.solver, sizeof w.solver, "%s", v->valuestring);
        if ((v = cJSON_GetObjectItemCaseSensitive(obj, "name")) && cJSON_IsString(v))
            snprintf(w.name, sizeof w.name, "%s", v->valuestring);
        if (ctl_from_cjson(&w, obj) < 0) return -1;
    } else {
        /* A bare list: a reverse schedule implies the user supplies an initial state. */
    }
    struct sched_point pts[SCHED_CAP];
    int n = 0;
    if (points_from_list(list, pts, &n) < 0) return -1;
    if (sched_set_points(&w, pts, n) < 0) return -1;
    if (!cJSON_IsObject(obj)) w.initial_state = sched_is_reverse(&w) ? w.initial_state : false;
    sched_copy(s, &w);
    return 0;
}

int sched_from_json_text(struct sched *s, const char *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *e = cJSON_GetErrorPtr();
        long off = e && e >= text && e <= text + len ? (long)(e - text) : -1;
        return qv_seterr("schedule JSON: malformed JSON near byte %ld", off);
    }
    int r = sched_from_cjson(s, root);
    cJSON_Delete(root);
    return r;
}

char *sched_to_json(const struct sched *s)
{
    size_t cap = 64 + (size_t)s->n * 64;
    char *buf = qv_malloc(cap);
    size_t l = 0;
    l += (size_t)snprintf(buf + l, cap - l, "[");
    for (int i = 0; i < s->n; i++)
        l += (size_t)snprintf(buf + l, cap - l, "%s[%.10g, %.10g]", i ? ", " : "", s->pt[i].t, s->pt[i].s);
    snprintf(buf + l, cap - l, "]");
    return buf;
}

cJSON *sched_to_cjson(const struct sched *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(o, "anneal_schedule");
    for (int i = 0; i < s->n; i++) {
        double v[2] = {s->pt[i].t, s->pt[i].s};
        cJSON_AddItemToArray(list, cJSON_CreateDoubleArray(v, 2));
    }
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "solver", s->solver);
    cJSON_AddNumberToObject(o, "num_reads", (double)s->num_reads);
    cJSON_AddNumberToObject(o, "readout_thermalization", s->readout_thermalization);
    cJSON_AddNumberToObject(o, "programming_thermalization", s->programming_thermalization);
    cJSON_AddBoolToObject(o, "initial_state", s->initial_state);
    cJSON_AddBoolToObject(o, "reinitialize_state", s->reinitialize);
    ctl_to_cjson(s, o);
    return o;
}

int sched_load_file(struct sched *s, const char *path)
{
    unsigned char *buf;
    size_t len;
    if (qv_read_file(path, true, &buf, &len) < 0) return -1;
    int r = sched_from_json_text(s, (const char *)buf, len);
    free(buf);
    if (r < 0) return qv_preferr("%s", path);
    return 0;
}

int sched_save_file(const struct sched *s, const char *path)
{
    /* the bare QPU list unless controls need the object form */
    char *j = NULL;
    if (sched_has_controls(s) || s->ctl.fast_anneal) {
        cJSON *o = sched_to_cjson(s);
        j = cJSON_Print(o);
        cJSON_Delete(o);
    } else {
        j = sched_to_json(s);
    }
    size_t l = strlen(j);
    j = qv_realloc(j, l + 2);
    j[l] = '\n';
    j[l + 1] = 0;
    int r = qv_write_file_atomic(path, j, l + 1);
    free(j);
    return r;
}

/* ---- validation ---- */

static const char *const rule_names[SCHED_RULE_COUNT] = {
    [SCHED_RULE_POINTS] = "points",        [SCHED_RULE_FINITE] = "finite",
    [SCHED_RULE_S_RANGE] = "s-range",      [SCHED_RULE_TIME_ORDER] = "time-order",
    [SCHED_RULE_START] = "start",          [SCHED_RULE_FIRST_S] = "first-s",
    [SCHED_RULE_MAX_TIME] = "max-time",    [SCHED_RULE_FINAL_S] = "final-s",
    [SCHED_RULE_MONOTONIC] = "monotonic",  [SCHED_RULE_SLOPE] = "slope",
    [SCHED_RULE_INITIAL_STATE] = "initial-state", [SCHED_RULE_DURATION] = "run-duration",
    [SCHED_RULE_FAST] = "fast-anneal",     [SCHED_RULE_HGAIN] = "h-gain",
    [SCHED_RULE_OFFSET] = "anneal-offset",
};

const char *sched_rule_name(enum sched_rule r)
{
    return r >= 0 && r < SCHED_RULE_COUNT ? rule_names[r] : "?";
}

struct vlist { struct sched_violation *out; int maxv, n; };

static void QV_PRINTF(5, 6) add_v(struct vlist *v, enum sched_rule rule, int point, int segment,
                                 const char *fmt, ...)
{
    if (v->n < v->maxv && v->out) {
        struct sched_violation *x = &v->out[v->n];
        x->rule = rule;
        x->point = point;
        x->segment = segment;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->msg, sizeof x->msg, fmt, ap);
        va_end(ap);
    }
    v->n++;
}

/* Python's round(x, 10), as Ocean applies it before comparing slopes. */
static double round10(double x) { return round(x * 1e10) / 1e10; }

/* The advanced controls (qpu-protocol.md §2.1 table, §2.3): fast anneal (exactly 2 points, not
 * reverse, no h-gain, a solver that has it), h-gain (≥ 2 points, first t = 0, last t = the
 * schedule's end, g within h_gain_schedule_range, ≤ max_h_gain_schedule_points; the slope limit
 * is not published, so it is not checked) and anneal offsets (within the qubit's range). */
static void validate_ctl(const struct sched *s, const struct solver_props *sp, struct vlist *v)
{
    const struct sched_ctl *c = &s->ctl;
    bool reverse = s->n > 0 && s->pt[0].s == 1.0;
    if (c->fast_anneal) {
        if (!sp->has_fast_anneal)
            add_v(v, SCHED_RULE_FAST, -1, -1, "solver %s does not support fast_anneal", sp->name);
        if (s->n != 2)
            add_v(v, SCHED_RULE_FAST, s->n > 2 ? 2 : -1, -1,
                  "fast_anneal requires an anneal_schedule of exactly 2 points (it has %d)", s->n);
        if (reverse) add_v(v, SCHED_RULE_FAST, 0, -1, "fast_anneal does not support reverse annealing");
        if (c->nhg) add_v(v, SCHED_RULE_FAST, -1, -1, "fast_anneal does not allow an h_gain_schedule");
    }
    if (c->nhg) {
        double end = sched_duration(s);
        if (c->nhg > sp->max_h_gain_schedule_points)
            add_v(v, SCHED_RULE_HGAIN, -1, -1, "h_gain_schedule has %d points; %s accepts at most %d",
                  c->nhg, sp->name, sp->max_h_gain_schedule_points);
        if (c->hg[0].t != 0)
            add_v(v, SCHED_RULE_HGAIN, -1, -1, "h_gain_schedule must start at t = 0 (got %g µs)", c->hg[0].t);
        if (s->n >= 2 && c->hg[c->nhg - 1].t != end)
            add_v(v, SCHED_RULE_HGAIN, -1, -1,
                  "h_gain_schedule must end at the anneal schedule's last time %g µs (got %g µs)",
                  end, c->hg[c->nhg - 1].t);
        for (int i = 0; i < c->nhg; i++)
            if (c->hg[i].s < sp->h_gain_schedule_range[0] || c->hg[i].s > sp->h_gain_schedule_range[1])
                add_v(v, SCHED_RULE_HGAIN, -1, -1, "h_gain_schedule point %d: g = %g is outside [%g, %g]", i,
                      c->hg[i].s, sp->h_gain_schedule_range[0], sp->h_gain_schedule_range[1]);
    }
    for (int i = 0; i < c->noff; i++) {
        long q = c->off[i].q;
        if (sp->n_anneal_offset_ranges <= 0) continue;   /* no per-qubit ranges published */
        const double *r = q < sp->n_anneal_offset_ranges ? sp->anneal_offset_ranges[q] : NULL;
        if (!r) add_v(v, SCHED_RULE_OFFSET, -1, -1, "anneal offset on qubit %ld: %s has no such qubit", q, sp->name);
        else if (c->off[i].v < r[0] || c->off[i].v > r[1])
            add_v(v, SCHED_RULE_OFFSET, -1, -1, "anneal offset %g on qubit %ld is outside its range [%g, %g]",
                  c->off[i].v, q, r[0], r[1]);
    }
}

int sched_validate(const struct sched *s, const struct solver_props *sp,
                   struct sched_violation *out, int maxv)
{
    sp = limits(sp);
    struct vlist v = {out, maxv, 0};
    int n = s->n;
    int P = sp->max_anneal_schedule_points;
    double tmin = sp->annealing_time_range[0], tmax = sp->annealing_time_range[1];
    if (s->ctl.fast_anneal && sp->has_fast_anneal) {   /* the fast-anneal protocol's own range */
        tmin = sp->fast_anneal_time_range[0];
        tmax = sp->fast_anneal_time_range[1];
    }
    bool finite = true;
    for (int i = 0; i < n; i++)
        if (!isfinite(s->pt[i].t) || !isfinite(s->pt[i].s)) {
            add_v(&v, SCHED_RULE_FINITE, i, -1, "point %d: t and s must be finite numbers (got t = %g, s = %g)",
                  i, s->pt[i].t, s->pt[i].s);
            finite = false;
        }
    bool reverse = n > 0 && s->pt[0].s == 1.0;
    if (n < 2) {
        add_v(&v, SCHED_RULE_POINTS, n - 1, -1,
              "anneal_schedule must contain at least 2 points (it has %d)", n);
    } else if (n > P + (reverse ? 1 : 0)) {
        add_v(&v, SCHED_RULE_POINTS, P + (reverse ? 1 : 0), -1,
              "anneal_schedule has %d points; %s accepts at most %d for a %s anneal",
              n, sp->name, P + (reverse ? 1 : 0), reverse ? "reverse" : "forward");
    }
    for (int i = 0; i < n; i++)
        if (isfinite(s->pt[i].s) && (s->pt[i].s < 0 || s->pt[i].s > 1))
            add_v(&v, SCHED_RULE_S_RANGE, i, -1,
                  "point %d: anneal fraction s = %g is outside [0, 1]", i, s->pt[i].s);
    for (int i = 0; i + 1 < n; i++)
        if (!(s->pt[i + 1].t > s->pt[i].t) && isfinite(s->pt[i].t) && isfinite(s->pt[i + 1].t))
            add_v(&v, SCHED_RULE_TIME_ORDER, i + 1, i,
                  "Time t must increase for all points in the schedule: point %d (t = %g µs) is not after point %d (t = %g µs)",
                  i + 1, s->pt[i + 1].t, i, s->pt[i].t);
    if (n == 0) return v.n;
    const struct sched_point *p0 = &s->pt[0], *pl = &s->pt[n - 1];
    if (isfinite(p0->t) && p0->t != 0)
        add_v(&v, SCHED_RULE_START, 0, -1,
              reverse ? "the first point must be at t = 0 (got t = %g µs)"
                      : "For forward annealing, the first point must be (0, 0) (got t = %g µs)", p0->t);
    if (isfinite(p0->s) && p0->s != 0 && p0->s != 1)
        add_v(&v, SCHED_RULE_FIRST_S, 0, -1,
              "In the first point, anneal fraction s must equal 0 for forward annealing or 1 for reverse annealing (got s = %g)",
              p0->s);
    if (isfinite(pl->t) && pl->t > tmax)
        add_v(&v, SCHED_RULE_MAX_TIME, n - 1, -1,
              "schedule cannot be longer than the maximum anneal time of %g µs (point %d at t = %g µs)",
              tmax, n - 1, pl->t);
    if (isfinite(pl->s) && pl->s != 1)
        add_v(&v, SCHED_RULE_FINAL_S, n - 1, -1,
              "In the final point, anneal fraction s must equal 1 (point %d has s = %g)%s", n - 1, pl->s,
              reverse ? "; a reverse anneal must start and end at s = 1" : "");
    if (p0->s == 0)
        for (int i = 0; i + 1 < n; i++)
            if (s->pt[i + 1].s < s->pt[i].s)
                add_v(&v, SCHED_RULE_MONOTONIC, i + 1, i,
                      "For forward anneals, anneal fraction s must monotonically increase: segment %d (s %g → %g) decreases",
                      i, s->pt[i].s, s->pt[i + 1].s);
    double max_slope = 1.0 / tmin;
    for (int i = 0; i + 1 < n; i++) {
        double dt = s->pt[i + 1].t - s->pt[i].t, ds = s->pt[i + 1].s - s->pt[i].s;
        if (!(dt > 0) || !isfinite(ds)) continue;   /* reported as time order / finiteness */
        double slope = round10(fabs(ds / dt));
        if (slope > max_slope)
            add_v(&v, SCHED_RULE_SLOPE, -1, i,
                  "the maximum slope cannot exceed %g µs⁻¹ (1/min annealing time %g µs): segment %d "
                  "(t %g → %g µs, s %g → %g) has slope %.4g", max_slope, tmin, i,
                  s->pt[i].t, s->pt[i + 1].t, s->pt[i].s, s->pt[i + 1].s, slope);
    }
    validate_ctl(s, sp, &v);
    if (reverse && !s->initial_state)
        add_v(&v, SCHED_RULE_INITIAL_STATE, 0, -1,
              "reverse annealing requested (first s = 1) but initial_state not provided");
    if (finite && isfinite(pl->t)) {
        double dur = solver_run_duration(sp, pl->t, s->num_reads, s->readout_thermalization,
                                         s->programming_thermalization);
        if (dur > sp->problem_run_duration_range[1])
            add_v(&v, SCHED_RULE_DURATION, n - 1, -1,
                  "Upper limit on user-specified timing related parameters exceeded: %.10g > %.10g "
                  "((%g µs anneal + readout thermalization) × %ld reads + programming thermalization)",
                  dur, sp->problem_run_duration_range[1], pl->t, s->num_reads);
    }
    return v.n;
}
