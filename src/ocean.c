/* ocean.c — dimod's COO text, BQM JSON and SampleSet JSON, read and written (conventions:
 * ocean.h).  Writers build the text by hand (a sample set may hold millions of numbers, too many
 * for a cJSON tree); the BQM JSON reader uses cJSON.  Every number written reads back to the same
 * double. */
#include "ocean.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers ---------------------------------------------------------------------------- */

int ocean_format_parse(const char *s, enum ocean_format *out)
{
    if (!strcasecmp(s, "text")) *out = OCEAN_TEXT;
    else if (!strcasecmp(s, "coo")) *out = OCEAN_COO;
    else if (!strcasecmp(s, "bqm-json")) *out = OCEAN_BQM_JSON;
    else return qv_seterr("--format: unknown '%s' (text, coo, bqm-json)", s);
    return 0;
}

int ocean_vartype_parse(const char *s, enum ocean_vartype *out)
{
    if (!strcasecmp(s, "spin")) *out = OCEAN_SPIN;
    else if (!strcasecmp(s, "binary")) *out = OCEAN_BINARY;
    else return qv_seterr("vartype: unknown '%s' (SPIN, BINARY)", s);
    return 0;
}

const char *ocean_vartype_name(enum ocean_vartype v) { return v == OCEAN_SPIN ? "SPIN" : "BINARY"; }

void ocean_bqm_free(struct ocean_bqm *q)
{
    free(q->label);
    free(q->linear);
    free(q->pair);
    free(q->quad);
    memset(q, 0, sizeof *q);
}

/* A growing text buffer (aborts on exhaustion like every qv allocation). */
struct sbuf { char *p; size_t n, cap; };

static void sb_put(struct sbuf *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        b->cap = QV_MAX(b->cap * 2, b->n + len + 1024);
        b->p = qv_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

#define SB_LIT(b, s) sb_put((b), (s), sizeof(s) - 1)

static void sb_printf(struct sbuf *b, const char *fmt, ...) QV_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[640];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)QV_MIN(k, (int)sizeof tmp - 1));
}

static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Fixed-point decimals, at least 6 (dimod's "%f"), as many more as reading back needs. */
static void fixed_num(double v, char *buf, size_t n)
{
    for (int d = 6; d <= 360; d++) {
        snprintf(buf, n, "%.*f", d, v);
        if (same_double(strtod(buf, NULL), v)) return;
    }
}

/* JSON number: the shortest of %.15g/%.16g/%.17g that reads back exactly (v finite). */
static void json_num(double v, char *buf, size_t n)
{
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (same_double(strtod(buf, NULL), v)) return;
    }
}

static void sb_json_doubles(struct sbuf *b, const double *v, long n)
{
    char num[64];
    SB_LIT(b, "[");
    for (long i = 0; i < n; i++) {
        json_num(v[i], num, sizeof num);
        if (i) SB_LIT(b, ", ");
        sb_put(b, num, strlen(num));
    }
    SB_LIT(b, "]");
}

/* ---- a prior as a BQM and back ----------------------------------------------------------------- */

int ocean_bqm_from_bm(const struct bm *bm, enum ocean_vartype vt, struct ocean_bqm *out)
{
    memset(out, 0, sizeof *out);
    if (bm_check_finite(bm)) return -1;
    const struct graph *g = bm->g;
    out->vt = vt;
    out->nv = bm->n;
    out->nq = bm->ne;
    out->label = qv_mallocarray((size_t)QV_MAX(bm->n, 1), sizeof *out->label);
    out->linear = qv_mallocarray((size_t)QV_MAX(bm->n, 1), sizeof *out->linear);
    out->pair = qv_mallocarray((size_t)QV_MAX(bm->ne, 1), sizeof *out->pair);
    out->quad = qv_mallocarray((size_t)QV_MAX(bm->ne, 1), sizeof *out->quad);
    for (int i = 0; i < bm->n; i++) out->label[i] = g->label[i];
    for (long k = 0; k < bm->ne; k++) {
        out->pair[k][0] = g->edges[k][0];
        out->pair[k][1] = g->edges[k][1];
    }
    if (vt == OCEAN_BINARY) {   /* E = Σ(−b)z + Σ(−W)zz: sign flips, exact (0 − x: a zero stays +0) */
        for (int i = 0; i < bm->n; i++) out->linear[i] = 0.0 - bm->b[i];
        for (long k = 0; k < bm->ne; k++) out->quad[k] = 0.0 - bm->w[k];
        out->offset = 0;
    } else {
        bm_to_ising(bm, out->linear, out->quad, &out->offset);
    }
    return 0;
}

/* Sums q's terms onto the nodes and edges of g: lin [nv], quad [ne] (with seen flags so a single
 * term is copied, not added to +0 — keeps −0 and every bit).  -1 naming what is missing. */
static int gather(const struct ocean_bqm *q, const struct graph *g, const char *what, double *lin,
                  double *quad)
{
    int *node = qv_mallocarray((size_t)QV_MAX(q->nv, 1), sizeof *node);
    bool *seen_l = qv_calloc((size_t)QV_MAX(g->nv, 1), 1), *seen_q = qv_calloc((size_t)QV_MAX(g->ne, 1), 1);
    int rc = 0;
    for (int i = 0; i < q->nv && !rc; i++) {
        node[i] = graph_find_label(g, q->label[i]);
        if (node[i] < 0) {
            rc = qv_seterr("%s: qubit %ld is not in the prior's graph (%s); `prior import … --new` builds "
                           "a prior on the file's graph", what, q->label[i], g->desc);
            break;
        }
        lin[node[i]] = seen_l[node[i]] ? lin[node[i]] + q->linear[i] : q->linear[i];
        seen_l[node[i]] = true;
    }
    for (long k = 0; k < q->nq && !rc; k++) {
        int u = node[q->pair[k][0]], v = node[q->pair[k][1]];
        long e = graph_edge_index(g, u, v);
        if (e < 0) {
            rc = qv_seterr("%s: coupler %ld–%ld is not in the prior's graph (%s); `prior import … --new` "
                           "builds a prior on the file's graph", what, q->label[q->pair[k][0]],
                           q->label[q->pair[k][1]], g->desc);
            break;
        }
        quad[e] = seen_q[e] ? quad[e] + q->quad[k] : q->quad[k];
        seen_q[e] = true;
    }
    free(node);
    free(seen_l);
    free(seen_q);
    return rc;
}

int ocean_bqm_to_bm(const struct ocean_bqm *q, struct bm *bm, const char *what)
{
    double *lin = qv_calloc((size_t)QV_MAX(bm->n, 1), sizeof *lin);
    double *quad = qv_calloc((size_t)QV_MAX(bm->ne, 1), sizeof *quad);
    int rc = gather(q, bm->g, what, lin, quad);
    for (int i = 0; i < bm->n && !rc; i++)
        if (!isfinite(lin[i])) rc = qv_seterr("%s: the linear biases of qubit %ld sum to %g", what, bm->g->label[i], lin[i]);
    for (long k = 0; k < bm->ne && !rc; k++)
        if (!isfinite(quad[k])) rc = qv_seterr("%s: a coupler's biases sum to %g", what, quad[k]);
    if (!rc && q->vt == OCEAN_BINARY) {
        for (int i = 0; i < bm->n; i++) bm->b[i] = 0.0 - lin[i];
        for (long k = 0; k < bm->ne; k++) bm->w[k] = 0.0 - quad[k];
    } else if (!rc) {
        bm_from_ising(bm, lin, quad);
    }
    free(lin);
    free(quad);
    return rc;
}

struct bm *ocean_bqm_new_bm(const struct ocean_bqm *q, const char *what)
{
    long (*ed)[2] = qv_mallocarray((size_t)QV_MAX(q->nq, 1), sizeof *ed);
    for (long k = 0; k < q->nq; k++) {
        ed[k][0] = q->label[q->pair[k][0]];
        ed[k][1] = q->label[q->pair[k][1]];
    }
    struct graph *g = graph_from_edges(q->nv, q->label, q->nq, (const long (*)[2])ed);
    free(ed);
    if (!g) {
        qv_preferr("%s", what);
        return NULL;
    }
    struct bm *bm = bm_new(g);
    if (ocean_bqm_to_bm(q, bm, what)) {
        bm_free(bm);
        return NULL;
    }
    return bm;
}

/* ---- COO -------------------------------------------------------------------------------------- */

struct coo_ent { long u, v; double w; };

static int cmp_ent(const void *a, const void *b)
{
    const struct coo_ent *x = a, *y = b;
    if (x->u != y->u) return x->u < y->u ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

int ocean_coo_format(const struct ocean_bqm *q, char **out, size_t *len)
{
    long n = q->nv + q->nq;
    struct coo_ent *e = qv_mallocarray((size_t)QV_MAX(n, 1), sizeof *e);
    for (int i = 0; i < q->nv; i++) e[i] = (struct coo_ent){ q->label[i], q->label[i], q->linear[i] };
    for (long k = 0; k < q->nq; k++) {
        long a = q->label[q->pair[k][0]], b = q->label[q->pair[k][1]];
        e[q->nv + k] = (struct coo_ent){ QV_MIN(a, b), QV_MAX(a, b), q->quad[k] };
    }
    qsort(e, (size_t)n, sizeof *e, cmp_ent);
    struct sbuf b = {0};
    sb_printf(&b, "# vartype=%s\n", ocean_vartype_name(q->vt));
    char num[512];
    for (long k = 0; k < n; k++) {
        if (!isfinite(e[k].w)) {
            qv_seterr("COO: the bias of %ld %ld is not finite", e[k].u, e[k].v);
            free(e);
            free(b.p);
            return -1;
        }
        fixed_num(e[k].w, num, sizeof num);
        sb_printf(&b, "%ld %ld %s\n", e[k].u, e[k].v, num);
    }
    free(e);
    *out = b.p;
    *len = b.n;
    return 0;
}

/* The "# … vartype=NAME" header of a comment line, or NULL. */
static const char *coo_header(const char *line, char *name, size_t n)
{
    const char *p = strstr(line, "vartype");
    if (!p || (p[7] != '=' && p[7] != ':')) return NULL;
    p += 8;
    while (*p == ' ' || *p == '\t') p++;
    size_t k = 0;
    while ((isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.') && k + 1 < n) name[k++] = *p++;
    name[k] = 0;
    return name;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* Index of label l in the sorted, distinct labels [n]. */
static int label_index(const long *labels, int n, long l)
{
    const long *p = bsearch(&l, labels, (size_t)n, sizeof *labels, cmp_long);
    return (int)(p - labels);
}

/* One "u v bias" line: -1 unless exactly two non-negative integers and a finite number. */
static int coo_triplet(const char *s, struct coo_ent *e)
{
    char *end;
    for (int k = 0; k < 2; k++) {
        while (*s == ' ' || *s == '\t') s++;
        if (!isdigit((unsigned char)*s)) return -1;
        long v = strtol(s, &end, 10);
        if (v < 0 || v == LONG_MAX) return -1;
        if (k == 0) e->u = v; else e->v = v;
        s = end;
        if (*s != ' ' && *s != '\t') return -1;
    }
    e->w = strtod(s, &end);
    if (end == s || !isfinite(e->w)) return -1;
    for (s = end; *s; s++)
        if (!isspace((unsigned char)*s)) return -1;
    return 0;
}

/* The BQM of parsed entries: sorted distinct labels, summed linear terms, interactions as read. */
static void coo_build(struct coo_ent *e, long n, enum ocean_vartype vt, struct ocean_bqm *out)
{
    long *lab = qv_mallocarray((size_t)QV_MAX(2 * n, 1), sizeof *lab);
    long nl = 0;
    for (long k = 0; k < n; k++) { lab[nl++] = e[k].u; lab[nl++] = e[k].v; }
    qsort(lab, (size_t)nl, sizeof *lab, cmp_long);
    int nv = 0;
    for (long k = 0; k < nl; k++)
        if (k == 0 || lab[k] != lab[k - 1]) lab[nv++] = lab[k];
    memset(out, 0, sizeof *out);
    out->vt = vt;
    out->nv = nv;
    out->label = qv_realloc(lab, (size_t)QV_MAX(nv, 1) * sizeof *lab);
    out->linear = qv_calloc((size_t)QV_MAX(nv, 1), sizeof *out->linear);
    bool *seen = qv_calloc((size_t)QV_MAX(nv, 1), 1);
    long nq = 0;
    for (long k = 0; k < n; k++) nq += e[k].u != e[k].v;
    out->pair = qv_mallocarray((size_t)QV_MAX(nq, 1), sizeof *out->pair);
    out->quad = qv_mallocarray((size_t)QV_MAX(nq, 1), sizeof *out->quad);
    for (long k = 0; k < n; k++) {
        int a = label_index(out->label, nv, e[k].u), b = label_index(out->label, nv, e[k].v);
        if (a == b) {   /* repeated linear terms add, as dimod's add_variable does */
            out->linear[a] = seen[a] ? out->linear[a] + e[k].w : e[k].w;
            seen[a] = true;
        } else {
            out->pair[out->nq][0] = QV_MIN(a, b);
            out->pair[out->nq][1] = QV_MAX(a, b);
            out->quad[out->nq++] = e[k].w;
        }
    }
    free(seen);
}

int ocean_coo_parse(const char *text, const char *what, const enum ocean_vartype *vt_given,
                    struct ocean_bqm *out)
{
    memset(out, 0, sizeof *out);
    long cap = 1024, n = 0, lineno = 0;
    struct coo_ent *e = qv_mallocarray((size_t)cap, sizeof *e);
    bool have_vt = vt_given != NULL;
    enum ocean_vartype vt = vt_given ? *vt_given : OCEAN_SPIN;
    int rc = 0;
    for (const char *p = text; *p && !rc; ) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        lineno++;
        if (ll >= sizeof line) { rc = qv_seterr("%s: line %ld: longer than %zu characters", what, lineno, sizeof line - 1); break; }
        memcpy(line, p, ll);
        line[ll] = 0;
        if (ll && line[ll - 1] == '\r') line[ll - 1] = 0;
        p = nl ? nl + 1 : p + ll;
        const char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (!*s) continue;
        if (*s == '#') {
            char name[32];
            enum ocean_vartype hv = OCEAN_SPIN;
            if (!coo_header(s, name, sizeof name)) continue;
            if (ocean_vartype_parse(name, &hv)) { rc = qv_seterr("%s: line %ld: unknown vartype '%s' (SPIN, BINARY)", what, lineno, name); break; }
            if (have_vt && hv != vt) {
                rc = qv_seterr("%s: line %ld: the header says %s, but %s was asked for", what, lineno,
                               ocean_vartype_name(hv), ocean_vartype_name(vt));
                break;
            }
            vt = hv;
            have_vt = true;
            continue;
        }
        if (n == cap) e = qv_realloc(e, (size_t)(cap *= 2) * sizeof *e);
        if (coo_triplet(s, &e[n])) {
            rc = qv_seterr("%s: line %ld: expected 'i j bias' (two non-negative integer labels and a "
                           "number), got '%.40s'", what, lineno, s);
            break;
        }
        n++;
    }
    if (!rc && !have_vt)
        rc = qv_seterr("%s: no vartype: the file has no '# vartype=SPIN|BINARY' header; give --vartype", what);
    if (!rc && n == 0) rc = qv_seterr("%s: no 'i j bias' lines", what);
    if (!rc) coo_build(e, n, vt, out);
    free(e);
    return rc;
}

/* ---- BQM JSON --------------------------------------------------------------------------------- */

int ocean_bqm_json_format(const struct ocean_bqm *q, char **out, size_t *len)
{
    for (int i = 0; i < q->nv; i++)
        if (!isfinite(q->linear[i])) return qv_seterr("BQM: the bias of %ld is not finite", q->label[i]);
    for (long k = 0; k < q->nq; k++)
        if (!isfinite(q->quad[k])) return qv_seterr("BQM: an interaction's bias is not finite");
    struct sbuf b = {0};
    char num[64];
    sb_printf(&b, "{\"type\": \"BinaryQuadraticModel\", \"version\": {\"bqm_schema\": \"3.0.0\"}, "
                  "\"use_bytes\": false, \"index_type\": \"int32\", \"bias_type\": \"float64\", "
                  "\"num_variables\": %d, \"num_interactions\": %ld,\n \"variable_labels\": [",
              q->nv, q->nq);
    for (int i = 0; i < q->nv; i++) sb_printf(&b, i ? ", %ld" : "%ld", q->label[i]);
    json_num(q->offset, num, sizeof num);
    sb_printf(&b, "],\n \"variable_type\": \"%s\", \"offset\": %s, \"info\": {},\n \"linear_biases\": ",
              ocean_vartype_name(q->vt), num);
    sb_json_doubles(&b, q->linear, q->nv);
    SB_LIT(&b, ",\n \"quadratic_biases\": ");
    sb_json_doubles(&b, q->quad, q->nq);
    SB_LIT(&b, ",\n \"quadratic_head\": [");
    for (long k = 0; k < q->nq; k++) sb_printf(&b, k ? ", %d" : "%d", q->pair[k][0]);
    SB_LIT(&b, "],\n \"quadratic_tail\": [");
    for (long k = 0; k < q->nq; k++) sb_printf(&b, k ? ", %d" : "%d", q->pair[k][1]);
    SB_LIT(&b, "]}\n");
    *out = b.p;
    *len = b.n;
    return 0;
}

/* Member `key` of obj as an array of finite numbers [*n] (malloc'ed), integers when `integral`. */
static double *json_numbers(const cJSON *obj, const char *key, bool integral, long *n, const char *what)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(a)) {
        qv_seterr("%s: \"%s\" is missing or not a list", what, key);
        return NULL;
    }
    *n = cJSON_GetArraySize(a);
    double *v = qv_mallocarray((size_t)QV_MAX(*n, 1), sizeof *v);
    long i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        double x = cJSON_IsNumber(it) ? it->valuedouble : NAN;
        if (!isfinite(x) || (integral && (x != floor(x) || x < 0 || x > 9007199254740992.0))) {
            qv_seterr("%s: \"%s\"[%ld] is not %s", what, key, i,
                      integral ? "a non-negative integer" : "a finite number");
            free(v);
            return NULL;
        }
        v[i++] = x;
    }
    return v;
}

/* The header members: type, schema, use_bytes, vartype.  -1 with an error. */
static int bqm_json_head(const cJSON *root, const char *what, enum ocean_vartype *vt)
{
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(ty) || strcmp(ty->valuestring, "BinaryQuadraticModel"))
        return qv_seterr("%s: \"type\" is not \"BinaryQuadraticModel\"", what);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *sch = cJSON_GetObjectItemCaseSensitive(ver, "bqm_schema");
    if (!cJSON_IsString(sch) || strncmp(sch->valuestring, "3.", 2))
        return qv_seterr("%s: version.bqm_schema %s: only schema 3.x is read", what,
                         cJSON_IsString(sch) ? sch->valuestring : "missing");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "use_bytes")))
        return qv_seterr("%s: use_bytes is true (raw bytes do not survive JSON); write it with "
                         "to_serializable(use_bytes=False)", what);
    const cJSON *vty = cJSON_GetObjectItemCaseSensitive(root, "variable_type");
    if (!cJSON_IsString(vty) || ocean_vartype_parse(vty->valuestring, vt))
        return qv_seterr("%s: \"variable_type\" must be \"SPIN\" or \"BINARY\"", what);
    return 0;
}

static int bqm_json_body(const cJSON *root, const char *what, struct ocean_bqm *q)
{
    long nl, nlin, nb, nh, nt;
    double *lab = NULL, *lin = NULL, *qb = NULL, *hd = NULL, *tl = NULL;
    int rc = -1;
    if (!(lab = json_numbers(root, "variable_labels", true, &nl, what))) goto out;
    if (!(lin = json_numbers(root, "linear_biases", false, &nlin, what))) goto out;
    if (!(qb = json_numbers(root, "quadratic_biases", false, &nb, what))) goto out;
    if (!(hd = json_numbers(root, "quadratic_head", true, &nh, what))) goto out;
    if (!(tl = json_numbers(root, "quadratic_tail", true, &nt, what))) goto out;
    const cJSON *nv = cJSON_GetObjectItemCaseSensitive(root, "num_variables");
    const cJSON *ni = cJSON_GetObjectItemCaseSensitive(root, "num_interactions");
    if (nlin != nl || (cJSON_IsNumber(nv) && nv->valuedouble != (double)nl)) {
        qv_seterr("%s: %ld variable labels, %ld linear biases, num_variables %g", what, nl, nlin,
                  cJSON_IsNumber(nv) ? nv->valuedouble : (double)nl);
        goto out;
    }
    if (nh != nb || nt != nb || (cJSON_IsNumber(ni) && ni->valuedouble != (double)nb)) {
        qv_seterr("%s: quadratic_biases, _head and _tail have %ld, %ld, %ld entries", what, nb, nh, nt);
        goto out;
    }
    if (nl > INT32_MAX / 2) { qv_seterr("%s: too many variables (%ld)", what, nl); goto out; }
    q->nv = (int)nl;
    q->nq = nb;
    q->label = qv_mallocarray((size_t)QV_MAX(nl, 1), sizeof *q->label);
    q->linear = lin;
    q->quad = qb;
    lin = qb = NULL;
    q->pair = qv_mallocarray((size_t)QV_MAX(nb, 1), sizeof *q->pair);
    for (long i = 0; i < nl; i++) q->label[i] = (long)lab[i];
    long *sorted = qv_mallocarray((size_t)QV_MAX(nl, 1), sizeof *sorted);
    memcpy(sorted, q->label, (size_t)nl * sizeof *sorted);
    qsort(sorted, (size_t)nl, sizeof *sorted, cmp_long);
    for (long i = 1; i < nl; i++)
        if (sorted[i] == sorted[i - 1]) {
            qv_seterr("%s: variable label %ld appears twice", what, sorted[i]);
            free(sorted);
            goto out;
        }
    free(sorted);
    for (long k = 0; k < nb; k++) {
        if (hd[k] >= (double)nl || tl[k] >= (double)nl || hd[k] == tl[k]) {
            qv_seterr("%s: interaction %ld joins variable indices %g and %g (of %ld)", what, k, hd[k], tl[k], nl);
            goto out;
        }
        q->pair[k][0] = (int)hd[k];
        q->pair[k][1] = (int)tl[k];
    }
    rc = 0;
out:
    free(lab); free(lin); free(qb); free(hd); free(tl);
    return rc;
}

int ocean_bqm_json_parse(const char *text, size_t len, const char *what, struct ocean_bqm *out)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        return qv_seterr("%s: not JSON (at byte %ld)", what, at && at >= text && at <= text + len ? (long)(at - text) : 0L);
    }
    int rc = -1;
    if (!cJSON_IsObject(root)) qv_seterr("%s: not a JSON object", what);
    else if (!bqm_json_head(root, what, &out->vt) && !bqm_json_body(root, what, out)) {
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(root, "offset");
        if (off && !(cJSON_IsNumber(off) && isfinite(off->valuedouble))) qv_seterr("%s: \"offset\" is not a number", what);
        else {
            out->offset = off ? off->valuedouble : 0;
            rc = 0;
        }
    }
    cJSON_Delete(root);
    if (rc) ocean_bqm_free(out);
    return rc;
}

/* ---- SampleSet JSON ----------------------------------------------------------------------------- */

static void sb_array_head(struct sbuf *b)
{
    SB_LIT(b, "{\"type\": \"array\", \"data\": ");
}

int ocean_sampleset_format(const long *labels, int n, const uint8_t *z, long count,
                           const double *energy, const double *logw, enum ocean_vartype vt,
                           char **out, size_t *len)
{
    if (n < 1 || count < 1) return qv_seterr("sample set: nothing to write (%ld states of %d units)", count, n);
    if (!qv_size_ok((size_t)count, (size_t)n * 4, (size_t)1 << 34, "sample set")) return -1;
    for (long k = 0; k < count; k++)
        if (!isfinite(energy[k]) || (logw && !isfinite(logw[k])))
            return qv_seterr("sample set: the energy or weight of state %ld is not finite", k);
    struct sbuf b = {0};
    sb_printf(&b, "{\"type\": \"SampleSet\", \"version\": {\"sampleset_schema\": \"3.2.0\"}, "
                  "\"num_variables\": %d, \"num_rows\": %ld,\n \"sample_data\": ", n, count);
    sb_array_head(&b);
    SB_LIT(&b, "[");
    char *row = qv_malloc((size_t)n * 4 + 8);   /* "[-1, 1, …]": at most 4 bytes a unit */
    for (long k = 0; k < count; k++) {
        size_t o = 0;
        row[o++] = '[';
        for (int i = 0; i < n; i++) {
            uint8_t v = z[(size_t)k * n + i];
            if (i) { row[o++] = ','; row[o++] = ' '; }
            if (vt == OCEAN_SPIN && !v) row[o++] = '-';
            row[o++] = (char)('0' + (vt == OCEAN_SPIN ? 1 : v));
        }
        row[o++] = ']';
        if (k) SB_LIT(&b, ", ");
        sb_put(&b, row, o);
    }
    free(row);
    sb_printf(&b, "], \"data_type\": \"int8\", \"shape\": [%ld, %d], \"use_bytes\": false},\n"
                  " \"sample_type\": \"int8\", \"sample_packed\": false,\n \"vectors\": {\"energy\": ",
              count, n);
    sb_array_head(&b);
    sb_json_doubles(&b, energy, count);
    sb_printf(&b, ", \"data_type\": \"float64\", \"shape\": [%ld], \"use_bytes\": false},\n"
                  "  \"num_occurrences\": ", count);
    sb_array_head(&b);
    SB_LIT(&b, "[");
    for (long k = 0; k < count; k++) { if (k) SB_LIT(&b, ", "); SB_LIT(&b, "1"); }
    sb_printf(&b, "], \"data_type\": \"int64\", \"shape\": [%ld], \"use_bytes\": false}", count);
    if (logw) {
        SB_LIT(&b, ",\n  \"log_weight\": ");
        sb_array_head(&b);
        sb_json_doubles(&b, logw, count);
        sb_printf(&b, ", \"data_type\": \"float64\", \"shape\": [%ld], \"use_bytes\": false}", count);
    }
    SB_LIT(&b, "},\n \"variable_labels\": [");
    for (int i = 0; i < n; i++) sb_printf(&b, i ? ", %ld" : "%ld", labels[i]);
    sb_printf(&b, "], \"variable_type\": \"%s\", \"info\": {}}\n", ocean_vartype_name(vt));
    *out = b.p;
    *len = b.n;
    return 0;
}
