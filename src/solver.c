/* solver.c — parse SAPI solver definitions (v2 "id" / v3 "identity") into struct solver_props,
 * load shipped property files from assets/solvers/, and the limits and timing formulas of
 * qpu-protocol.md §2.4 that depend only on solver properties. */
#include "solver.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Advantage_system4.1 published values (qpu-protocol §1.4), used when no solver is chosen. */
static const struct solver_props defaults_props = {
    .name = "default",
    .category = "qpu",
    .topology = "pegasus",
    .nshape = 1, .shape = {16},
    .h_range = {-4, 4}, .j_range = {-1, 1},
    .has_extended_j = true, .extended_j_range = {-2, 1},
    .has_per_qubit_coupling = true, .per_qubit_coupling_range = {-18, 15},
    .annealing_time_range = {0.5, 2000},
    .has_fast_anneal = true, .fast_anneal_time_range = {0.005, 2000},
    .default_annealing_time = 20,
    .max_anneal_schedule_points = 12,
    .max_h_gain_schedule_points = 20,
    .h_gain_schedule_range = {-3, 3},
    .num_reads_range = {1, 10000},
    .problem_run_duration_range = {0, 1000000},
    .default_programming_thermalization = 1000,
    .default_readout_thermalization = 0,
    .programming_thermalization_range = {0, 10000},
    .readout_thermalization_range = {0, 10000},
    .timing = {.present = false},
    .temperature_mk = 15.4,
    .anneal_table = "advantage4",
    .freezeout_s = 0.612,
};

const struct solver_props *solver_defaults(void) { return &defaults_props; }

void solver_guess_physics(const char *name, double *temperature_mk, char *table, size_t tablesz,
                          double *freezeout_s)
{
    /* Published temperatures and single-qubit freeze-out points (annealing.md §4.2–4.3); the
     * 2000Q temperature is third-party and its s* a guess (no published figure found). */
    double t = 15.4, sf = 0.612;
    const char *tab = "advantage4";
    if (name && strncasecmp(name, "DW_2000Q", 8) == 0) { t = 12.0; tab = "dw2000q6"; sf = 0.62; }
    else if (name && strncasecmp(name, "Advantage_system6", 17) == 0) { t = 16.0; sf = 0.616; }
    else if (name && strncasecmp(name, "Advantage2_system4", 18) == 0) { t = 18.0; sf = 0.671; }
    else if (name && strncasecmp(name, "Advantage2", 10) == 0) { t = 20.0; sf = 0.684; }
    if (temperature_mk) *temperature_mk = t;
    if (table && tablesz) snprintf(table, tablesz, "%s", tab);
    if (freezeout_s) *freezeout_s = sf;
}

void solver_free(struct solver_props *sp)
{
    if (!sp) return;
    free(sp->qubits);
    free(sp->couplers);
    free(sp->anneal_offset_ranges);
    for (int i = 0; i < sp->nparams; i++) free(sp->params[i]);
    free(sp->params);
    for (int i = 0; i < sp->nproblem_types; i++) free(sp->problem_types[i]);
    free(sp->problem_types);
    for (int i = 0; i < sp->ntags; i++) free(sp->tags[i]);
    free(sp->tags);
    free(sp->timing.readout_params);
    cJSON_Delete(sp->json);
    free(sp);
}

/* ---- small JSON helpers: each returns -1 with an error naming the key ---- */

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int get_num(const cJSON *o, const char *k, double *out, bool required)
{
    const cJSON *v = get(o, k);
    if (!v) return required ? qv_seterr("solver properties: missing \"%s\"", k) : 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return qv_seterr("solver properties: \"%s\": not a number", k);
    *out = v->valuedouble;
    return 1;
}

/* A whole number in [lo, hi]: counts stored in an int or long (a larger value would overflow the
 * conversion, undefined behaviour). */
static int get_int(const cJSON *o, const char *k, double lo, double hi, double *out, bool required)
{
    int r = get_num(o, k, out, required);
    if (r > 0 && !(*out >= lo && *out <= hi && *out == floor(*out)))
        return qv_seterr("solver properties: \"%s\": expected a whole number in [%.0f, %.0f]", k, lo, hi);
    return r;
}

static int get_range(const cJSON *o, const char *k, double out[2], bool required)
{
    const cJSON *v = get(o, k);
    if (!v) return required ? qv_seterr("solver properties: missing \"%s\"", k) : 0;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
        return qv_seterr("solver properties: \"%s\": expected [min, max]", k);
    for (int i = 0; i < 2; i++) {
        const cJSON *e = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return qv_seterr("solver properties: \"%s\": expected [min, max]", k);
        out[i] = e->valuedouble;
    }
    if (out[0] > out[1]) return qv_seterr("solver properties: \"%s\": min > max", k);
    return 1;
}

static void get_str(const cJSON *o, const char *k, char *buf, size_t n)
{
    const cJSON *v = get(o, k);
    if (cJSON_IsString(v)) snprintf(buf, n, "%s", v->valuestring);
}

static int get_strlist(const cJSON *v, const char *k, char ***out, int *n, bool keys)
{
    *out = NULL; *n = 0;
    if (!v) return 0;
    if (keys ? !cJSON_IsObject(v) : !cJSON_IsArray(v))
        return qv_seterr("solver properties: \"%s\": wrong type", k);
    int cnt = cJSON_GetArraySize(v);
    *out = qv_calloc((size_t)cnt + 1, sizeof(char *));
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (keys) (*out)[(*n)++] = qv_strdup(e->string);
        else if (cJSON_IsString(e)) (*out)[(*n)++] = qv_strdup(e->valuestring);
    }
    return 1;
}

static int parse_timing(const cJSON *t, struct solver_timing *tm)
{
    if (!t) return 0;
    if (!cJSON_IsObject(t)) return qv_seterr("solver properties: \"problem_timing_data\": not an object");
    tm->present = true;
    get_str(t, "version", tm->version, sizeof tm->version);
    get_str(t, "readout_time_model", tm->readout_time_model, sizeof tm->readout_time_model);
    struct { const char *k; double *p; } nums[] = {
        {"typical_programming_time", &tm->typical_programming_time},
        {"reverse_annealing_with_reinit_prog_time_delta", &tm->ra_with_reinit_prog_delta},
        {"reverse_annealing_without_reinit_prog_time_delta", &tm->ra_without_reinit_prog_delta},
        {"default_programming_thermalization", &tm->default_programming_thermalization},
        {"default_annealing_time", &tm->default_annealing_time},
        {"qpu_delay_time_per_sample", &tm->qpu_delay_time_per_sample},
        {"reverse_annealing_with_reinit_delay_time_delta", &tm->ra_with_reinit_delay_delta},
        {"reverse_annealing_without_reinit_delay_time_delta", &tm->ra_without_reinit_delay_delta},
        {"default_readout_thermalization", &tm->default_readout_thermalization},
        {"decorrelation_max_nominal_anneal_time", &tm->decorrelation_max_nominal_anneal_time},
    };
    for (size_t i = 0; i < QV_ARRAY_LEN(nums); i++)
        if (get_num(t, nums[i].k, nums[i].p, false) < 0) return -1;
    if (get_range(t, "decorrelation_time_range", tm->decorrelation_time_range, false) < 0) return -1;
    const cJSON *rp = get(t, "readout_time_model_parameters");
    if (rp) {
        if (!cJSON_IsArray(rp) || cJSON_GetArraySize(rp) % 2)
            return qv_seterr("solver properties: \"readout_time_model_parameters\": expected an even-length list");
        tm->n_readout_params = cJSON_GetArraySize(rp);
        tm->readout_params = qv_calloc((size_t)tm->n_readout_params + 1, sizeof(double));
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, rp) {
            if (!cJSON_IsNumber(e))
                return qv_seterr("solver properties: \"readout_time_model_parameters\": not a number");
            tm->readout_params[i++] = e->valuedouble;
        }
    }
    return 1;
}

/* num_qubits, the working qubits (strictly ascending, below num_qubits) and the couplers
 * (between working qubits when those are listed). */
static int parse_working_graph(struct solver_props *sp, const cJSON *p)
{
    double v;
    int r = get_int(p, "num_qubits", 1, 1e7, &v, false);
    if (r < 0) return -1;
    if (r > 0) sp->num_qubits = (int)v;

    const cJSON *qs = get(p, "qubits");
    if (qs) {
        if (!cJSON_IsArray(qs)) return qv_seterr("solver properties: \"qubits\": not a list");
        int n = cJSON_GetArraySize(qs);
        sp->qubits = qv_calloc((size_t)n + 1, sizeof(int));
        const cJSON *e;
        cJSON_ArrayForEach(e, qs) {
            if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1e7)
                return qv_seterr("solver properties: \"qubits\": bad entry");
            int q = (int)e->valuedouble;
            if (sp->nq > 0 && q <= sp->qubits[sp->nq - 1])
                return qv_seterr("solver properties: \"qubits\": not strictly ascending at %d", q);
            sp->qubits[sp->nq++] = q;
        }
        if (sp->num_qubits <= 0 && sp->nq > 0) sp->num_qubits = sp->qubits[sp->nq - 1] + 1;
        if (sp->nq > 0 && sp->qubits[sp->nq - 1] >= sp->num_qubits)
            return qv_seterr("solver properties: qubit %d >= num_qubits %d",
                             sp->qubits[sp->nq - 1], sp->num_qubits);
    }
    const cJSON *cs = get(p, "couplers");
    if (cs) {
        if (!cJSON_IsArray(cs)) return qv_seterr("solver properties: \"couplers\": not a list");
        long n = cJSON_GetArraySize(cs);
        sp->couplers = qv_calloc((size_t)n + 1, sizeof *sp->couplers);
        const cJSON *e;
        cJSON_ArrayForEach(e, cs) {
            const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
            if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b))
                return qv_seterr("solver properties: \"couplers\": entry %ld is not a pair", sp->nc);
            int q1 = a->valueint, q2 = b->valueint;
            if (sp->qubits && (solver_qubit_index(sp, q1) < 0 || solver_qubit_index(sp, q2) < 0))
                return qv_seterr("solver properties: coupler [%d, %d] uses an inactive qubit", q1, q2);
            sp->couplers[sp->nc][0] = q1;
            sp->couplers[sp->nc][1] = q2;
            sp->nc++;
        }
    }
    return 0;
}

static int parse_into(struct solver_props *sp, const cJSON *obj)
{
    if (!cJSON_IsObject(obj)) return qv_seterr("solver definition: not a JSON object");
    const cJSON *id = get(obj, "identity");
    if (cJSON_IsObject(id)) {
        get_str(id, "name", sp->name, sizeof sp->name);
        const cJSON *ver = get(id, "version");
        if (cJSON_IsObject(ver)) get_str(ver, "graph_id", sp->graph_id, sizeof sp->graph_id);
    } else {
        get_str(obj, "id", sp->name, sizeof sp->name);
    }
    get_str(obj, "status", sp->status, sizeof sp->status);
    get_str(obj, "description", sp->description, sizeof sp->description);
    const cJSON *p = get(obj, "properties");
    if (!cJSON_IsObject(p)) return qv_seterr("solver definition: missing \"properties\"");
    if (!sp->name[0]) get_str(p, "chip_id", sp->name, sizeof sp->name);
    if (!sp->name[0]) return qv_seterr("solver definition: no \"id\", \"identity\" or \"chip_id\"");
    get_str(p, "chip_id", sp->chip_id, sizeof sp->chip_id);
    get_str(p, "category", sp->category, sizeof sp->category);

    const cJSON *topo = get(p, "topology");
    if (cJSON_IsObject(topo)) {
        get_str(topo, "type", sp->topology, sizeof sp->topology);
        const cJSON *sh = get(topo, "shape"), *e;
        if (cJSON_IsArray(sh))
            cJSON_ArrayForEach(e, sh)
                if (cJSON_IsNumber(e) && sp->nshape < 4) sp->shape[sp->nshape++] = e->valueint;
    }

    if (parse_working_graph(sp, p) < 0) return -1;

    double v;
    int r;
    if (get_range(p, "h_range", sp->h_range, true) < 0) return -1;
    if (get_range(p, "j_range", sp->j_range, true) < 0) return -1;
    if ((r = get_range(p, "extended_j_range", sp->extended_j_range, false)) < 0) return -1;
    sp->has_extended_j = r > 0;
    if ((r = get_range(p, "per_qubit_coupling_range", sp->per_qubit_coupling_range, false)) < 0) return -1;
    sp->has_per_qubit_coupling = r > 0;
    if ((r = get_range(p, "per_group_coupling_range", sp->per_group_coupling_range, false)) < 0) return -1;
    sp->has_per_group_coupling = r > 0;
    if (get_range(p, "annealing_time_range", sp->annealing_time_range, true) < 0) return -1;
    if (sp->annealing_time_range[0] <= 0)
        return qv_seterr("solver properties: \"annealing_time_range\": minimum must be > 0");
    if ((r = get_range(p, "fast_anneal_time_range", sp->fast_anneal_time_range, false)) < 0) return -1;
    sp->has_fast_anneal = r > 0;
    if (get_num(p, "max_anneal_schedule_points", &v, true) < 0) return -1;
    if (v < 2) return qv_seterr("solver properties: \"max_anneal_schedule_points\": must be >= 2");
    if (get_int(p, "max_anneal_schedule_points", 2, 1e6, &v, true) < 0) return -1;
    sp->max_anneal_schedule_points = (int)v;
    if ((r = get_int(p, "max_h_gain_schedule_points", 0, 1e6, &v, false)) < 0) return -1;
    if (r > 0) sp->max_h_gain_schedule_points = (int)v;
    if (get_range(p, "h_gain_schedule_range", sp->h_gain_schedule_range, false) < 0) return -1;
    double rr[2] = {1, 10000};
    if (get_range(p, "num_reads_range", rr, false) < 0) return -1;
    if (!(rr[0] >= 0 && rr[1] <= 1e12))
        return qv_seterr("solver properties: \"num_reads_range\": expected counts in [0, 1e12]");
    sp->num_reads_range[0] = (long)rr[0];
    sp->num_reads_range[1] = (long)rr[1];
    if (get_range(p, "problem_run_duration_range", sp->problem_run_duration_range, false) < 0) return -1;
    if (get_num(p, "default_annealing_time", &sp->default_annealing_time, false) < 0) return -1;
    if (get_num(p, "default_programming_thermalization", &sp->default_programming_thermalization, false) < 0) return -1;
    if (get_num(p, "default_readout_thermalization", &sp->default_readout_thermalization, false) < 0) return -1;
    if (get_range(p, "programming_thermalization_range", sp->programming_thermalization_range, false) < 0) return -1;
    if (get_range(p, "readout_thermalization_range", sp->readout_thermalization_range, false) < 0) return -1;
    if (get_num(p, "anneal_offset_step", &sp->anneal_offset_step, false) < 0) return -1;
    if (get_num(p, "anneal_offset_step_phi0", &sp->anneal_offset_step_phi0, false) < 0) return -1;
    const cJSON *aor = get(p, "anneal_offset_ranges");
    if (cJSON_IsArray(aor)) {
        int n = cJSON_GetArraySize(aor);
        sp->anneal_offset_ranges = qv_calloc((size_t)n + 1, sizeof *sp->anneal_offset_ranges);
        const cJSON *e;
        cJSON_ArrayForEach(e, aor) {
            const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
            double lo = cJSON_IsNumber(a) ? a->valuedouble : 0, hi = cJSON_IsNumber(b) ? b->valuedouble : 0;
            sp->anneal_offset_ranges[sp->n_anneal_offset_ranges][0] = lo;
            sp->anneal_offset_ranges[sp->n_anneal_offset_ranges][1] = hi;
            sp->n_anneal_offset_ranges++;
        }
    }
    if (get_strlist(get(p, "parameters"), "parameters", &sp->params, &sp->nparams, true) < 0) return -1;
    if (get_strlist(get(p, "supported_problem_types"), "supported_problem_types",
                    &sp->problem_types, &sp->nproblem_types, false) < 0) return -1;
    if (get_strlist(get(p, "tags"), "tags", &sp->tags, &sp->ntags, false) < 0) return -1;
    sp->vfyc = cJSON_IsTrue(get(p, "vfyc"));
    if (parse_timing(get(p, "problem_timing_data"), &sp->timing) < 0) return -1;

    solver_guess_physics(sp->name, &sp->temperature_mk, sp->anneal_table, sizeof sp->anneal_table,
                         &sp->freezeout_s);
    const cJSON *x = get(obj, "x_qvae");
    if (cJSON_IsObject(x)) {
        double t;
        if (get_num(x, "temperature_mk", &t, false) < 0) return -1;
        if (get(x, "temperature_mk")) {
            if (t <= 0) return qv_seterr("solver properties: x_qvae.temperature_mk: must be > 0");
            sp->temperature_mk = t;
        }
        get_str(x, "annealing_schedule", sp->anneal_table, sizeof sp->anneal_table);
        double f = sp->freezeout_s;
        if (get_num(x, "freezeout_s", &f, false) < 0) return -1;
        if (!(f > 0 && f < 1)) return qv_seterr("solver properties: x_qvae.freezeout_s: must be in (0, 1)");
        sp->freezeout_s = f;
    }
    return 0;
}

struct solver_props *solver_parse(const cJSON *obj)
{
    struct solver_props *sp = qv_calloc(1, sizeof *sp);
    /* Defaults for optional keys. */
    sp->num_reads_range[0] = 1;
    sp->num_reads_range[1] = 10000;
    sp->problem_run_duration_range[1] = 1000000;
    sp->default_annealing_time = 20;
    sp->default_programming_thermalization = 1000;
    sp->programming_thermalization_range[1] = 10000;
    sp->readout_thermalization_range[1] = 10000;
    if (parse_into(sp, obj) < 0) {
        solver_free(sp);
        return NULL;
    }
    sp->json = cJSON_Duplicate(obj, 1);
    return sp;
}

struct solver_props *solver_parse_text(const char *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *e = cJSON_GetErrorPtr();
        long off = e && e >= text && e <= text + len ? (long)(e - text) : -1;
        qv_seterr("solver definition: malformed JSON near byte %ld", off);
        return NULL;
    }
    const cJSON *obj = root;
    if (cJSON_IsArray(root)) {
        obj = cJSON_GetArrayItem(root, 0);
        if (!obj) {
            cJSON_Delete(root);
            qv_seterr("solver definition: empty list");
            return NULL;
        }
    }
    struct solver_props *sp = solver_parse(obj);
    cJSON_Delete(root);
    return sp;
}

struct solver_props *solver_load_file(const char *path)
{
    unsigned char *buf;
    size_t len;
    if (qv_read_file(path, true, &buf, &len) < 0) return NULL;
    struct solver_props *sp = solver_parse_text((const char *)buf, len);
    free(buf);
    if (!sp) qv_preferr("%s", path);
    return sp;
}

static int solver_dir(char *buf, size_t n)
{
    return qv_path(buf, n, "%s/assets/solvers", qv_home());
}

char **solver_list(void)
{
    char dir[PATH_MAX];
    size_t cap = 8, n = 0;
    char **out = qv_calloc(cap, sizeof(char *));
    if (solver_dir(dir, sizeof dir) < 0) return out;
    DIR *d = opendir(dir);
    if (!d) return out;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        const char *ext = NULL;
        if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0) ext = ".json";
        else if (l > 8 && strcmp(de->d_name + l - 8, ".json.gz") == 0) ext = ".json.gz";
        if (!ext) continue;
        if (n + 2 > cap) { cap *= 2; out = qv_realloc(out, cap * sizeof(char *)); }
        out[n] = qv_strdup(de->d_name);
        out[n][l - strlen(ext)] = 0;
        n++;
        out[n] = NULL;
    }
    closedir(d);
    /* sort for stable listing */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(out[j - 1], out[j]) > 0; j--) {
            char *t = out[j]; out[j] = out[j - 1]; out[j - 1] = t;
        }
    return out;
}

void solver_list_free(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) free(*p);
    free(list);
}

struct solver_props *solver_load(const char *name)
{
    if (!name || !*name) { qv_seterr("solver: empty name"); return NULL; }
    if (strchr(name, '/') || qv_file_exists(name)) return solver_load_file(name);
    char dir[PATH_MAX], path[PATH_MAX];
    if (solver_dir(dir, sizeof dir) < 0) return NULL;
    char **list = solver_list();
    const char *match = NULL;
    int nmatch = 0;
    for (char **p = list; *p; p++) {
        if (strcasecmp(*p, name) == 0) { match = *p; nmatch = 1; break; }
        if (strncasecmp(*p, name, strlen(name)) == 0) { match = *p; nmatch++; }
    }
    struct solver_props *sp = NULL;
    if (nmatch == 1) {
        if (qv_path(path, sizeof path, "%s/%s.json", dir, match) == 0) {
            if (!qv_file_exists(path)) qv_path(path, sizeof path, "%s/%s.json.gz", dir, match);
            sp = solver_load_file(path);
        }
    } else if (nmatch > 1) {
        qv_seterr("solver %s: ambiguous (several property files in assets/solvers match)", name);
    } else {
        char known[512] = "";
        for (char **p = list; *p; p++) {
            size_t l = strlen(known);
            snprintf(known + l, sizeof known - l, "%s%s", l ? ", " : "", *p);
        }
        qv_seterr("solver %s: unknown (known: %s)", name, known[0] ? known : "none");
    }
    solver_list_free(list);
    return sp;
}

int solver_qubit_index(const struct solver_props *sp, int q)
{
    int lo = 0, hi = sp->nq - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (sp->qubits[mid] == q) return mid;
        if (sp->qubits[mid] < q) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

bool solver_accepts_param(const struct solver_props *sp, const char *param)
{
    if (strncmp(param, "x_", 2) == 0) return true;
    for (int i = 0; i < sp->nparams; i++)
        if (strcmp(sp->params[i], param) == 0) return true;
    return false;
}

long solver_max_num_reads(const struct solver_props *sp, double anneal_time,
                          double readout_therm, double prog_therm)
{
    if (anneal_time < 0) anneal_time = sp->default_annealing_time;
    if (readout_therm < 0) readout_therm = sp->default_readout_thermalization;
    if (prog_therm < 0) prog_therm = sp->default_programming_thermalization;
    double per = anneal_time + readout_therm;
    long cap = sp->num_reads_range[1];
    if (per <= 0) return cap;
    double m = floor((sp->problem_run_duration_range[1] - prog_therm) / per);
    if (m < 0) m = 0;
    return m < (double)cap ? (long)m : cap;
}

double solver_run_duration(const struct solver_props *sp, double anneal_time, long num_reads,
                           double readout_therm, double prog_therm)
{
    if (anneal_time < 0) anneal_time = sp->default_annealing_time;
    if (readout_therm < 0) readout_therm = sp->default_readout_thermalization;
    if (prog_therm < 0) prog_therm = sp->default_programming_thermalization;
    return (anneal_time + readout_therm) * (double)num_reads + prog_therm;
}

/* Piecewise-linear interpolation clamped at the ends. */
static double interp(double x, const double *xs, const double *ys, int n)
{
    if (n <= 0) return 0;
    if (x <= xs[0]) return ys[0];
    if (x >= xs[n - 1]) return ys[n - 1];
    for (int i = 1; i < n; i++)
        if (x <= xs[i]) {
            double w = xs[i] > xs[i - 1] ? (x - xs[i - 1]) / (xs[i] - xs[i - 1]) : 0;
            return ys[i - 1] + w * (ys[i] - ys[i - 1]);
        }
    return ys[n - 1];
}

double solver_estimate_access_time(const struct solver_props *sp, int num_qubits_used,
                                   long num_reads, double anneal_time, bool reverse, bool reinit,
                                   double readout_therm, double prog_therm,
                                   bool reduce_intersample_correlation)
{
    const struct solver_timing *tm = &sp->timing;
    if (!tm->present) {
        qv_seterr("solver %s: no problem_timing_data", sp->name);
        return NAN;
    }
    if (prog_therm < 0) prog_therm = tm->default_programming_thermalization;
    if (readout_therm < 0) readout_therm = tm->default_readout_thermalization;
    if (anneal_time < 0) anneal_time = tm->default_annealing_time;
    double prog = tm->typical_programming_time + prog_therm;
    if (reverse) prog += reinit ? tm->ra_with_reinit_prog_delta : tm->ra_without_reinit_prog_delta;
    int n = tm->n_readout_params / 2;
    double tr = 0;
    if (n > 0) {
        const double *q = tm->readout_params, *t = tm->readout_params + n;
        if (strcmp(tm->readout_time_model, "pwl_linear") == 0)
            tr = interp((double)num_qubits_used, q, t, n);
        else
            tr = pow(10.0, interp(log10((double)QV_MAX(num_qubits_used, 1)), q, t, n));
    }
    double decor = 0;
    if (reduce_intersample_correlation && tm->decorrelation_max_nominal_anneal_time > 0) {
        double lo = tm->decorrelation_time_range[0], hi = tm->decorrelation_time_range[1];
        decor = anneal_time / tm->decorrelation_max_nominal_anneal_time * (hi - lo) + lo;
    }
    double per_read = anneal_time + tr + tm->qpu_delay_time_per_sample +
                      (reverse ? (reinit ? tm->ra_with_reinit_delay_delta : tm->ra_without_reinit_delay_delta) : 0) +
                      QV_MAX(readout_therm, decor);
    return (double)num_reads * per_read + prog;
}
