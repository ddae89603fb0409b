/* sapi_codec.c — SAPI wire encodings: base64, qp problems, bit-packed answers, zlib bodies.
 * Rules and test vectors: shared docs qpu-protocol.md §1.5, §1.8, §1.12. */
#include "sapi_codec.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---------------------------------------------------------------- base64 */

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sapi_b64_encode(const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t outn = 4 * ((n + 2) / 3);
    char *out = qv_malloc(outn + 1), *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = b64_alpha[v >> 18]; *o++ = b64_alpha[(v >> 12) & 63];
        *o++ = b64_alpha[(v >> 6) & 63]; *o++ = b64_alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *o++ = b64_alpha[v >> 18]; *o++ = b64_alpha[(v >> 12) & 63]; *o++ = '='; *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = b64_alpha[v >> 18]; *o++ = b64_alpha[(v >> 12) & 63];
        *o++ = b64_alpha[(v >> 6) & 63]; *o++ = '=';
    }
    *o = 0;
    return out;
}

/* base64 value of each byte: 0..63, -1 invalid, -2 whitespace (skipped), -3 padding */
static const signed char b64_dec[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -2, -2, -1, -1, -2, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -3, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int sapi_b64_decode(const char *text, unsigned char **out, size_t *n)
{
    *out = NULL; *n = 0;
    if (!text) return qv_seterr("base64: missing text");
    size_t len = strlen(text);
    unsigned char *buf = qv_malloc(len / 4 * 3 + 4);
    size_t o = 0, quad = 0, pad = 0;
    uint32_t acc = 0;
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    /* fast path: whole groups of 4 plain characters */
    while (i + 4 <= len) {
        int a = b64_dec[p[i]], b = b64_dec[p[i + 1]], c = b64_dec[p[i + 2]], d = b64_dec[p[i + 3]];
        if ((a | b | c | d) < 0) break;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        buf[o++] = (unsigned char)(v >> 16); buf[o++] = (unsigned char)(v >> 8); buf[o++] = (unsigned char)v;
        i += 4;
    }
    for (; i < len; i++) {
        int v = b64_dec[p[i]];
        if (v == -2) continue;
        if (v == -3) {
            if (quad < 2) { free(buf); return qv_seterr("base64: misplaced '=' at offset %zu", i); }
            pad++;
            acc <<= 6; quad++;
            if (quad == 4) {
                buf[o++] = (unsigned char)(acc >> 16);
                if (pad == 1) buf[o++] = (unsigned char)(acc >> 8);
                quad = 0; acc = 0;
            }
            continue;
        }
        if (v < 0 || pad) {
            free(buf);
            return qv_seterr("base64: invalid character at offset %zu", i);
        }
        acc = acc << 6 | (uint32_t)v;
        if (++quad == 4) {
            buf[o++] = (unsigned char)(acc >> 16); buf[o++] = (unsigned char)(acc >> 8); buf[o++] = (unsigned char)acc;
            quad = 0; acc = 0;
        }
    }
    if (quad != 0) { free(buf); return qv_seterr("base64: truncated (length not a multiple of 4)"); }
    buf[o] = 0;
    *out = buf; *n = o;
    return 0;
}

/* ---------------------------------------------------------------- little-endian numbers */

static void put_f64(unsigned char *p, double d)
{
    uint64_t u; memcpy(&u, &d, 8);
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(u >> (8 * k));
}
static double get_f64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int k = 0; k < 8; k++) u |= (uint64_t)p[k] << (8 * k);
    double d; memcpy(&d, &u, 8);
    return d;
}
static void put_i32(unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(u >> (8 * k));
}
static int32_t get_i32(const unsigned char *p)
{
    uint32_t u = 0;
    for (int k = 0; k < 4; k++) u |= (uint32_t)p[k] << (8 * k);
    return (int32_t)u;
}

/* The canonical quiet NaN of the wire (0x7FF8000000000000): "AAAAAAAA+H8=". */
static double wire_nan(void)
{
    uint64_t u = 0x7FF8000000000000ull; double d; memcpy(&d, &u, 8);
    return d;
}

/* ---------------------------------------------------------------- zlib */

int sapi_deflate(const void *in, size_t n, unsigned char **out, size_t *outn)
{
    uLongf cap = compressBound((uLong)n);
    unsigned char *buf = qv_malloc(cap ? cap : 1);
    int rc = compress2(buf, &cap, in, (uLong)n, Z_DEFAULT_COMPRESSION);
    if (rc != Z_OK) { free(buf); *out = NULL; return qv_seterr("deflate: zlib error %d", rc); }
    *out = buf; *outn = cap;
    return 0;
}

static int inflate_with(const void *in, size_t n, size_t limit, int wbits,
                        unsigned char **out, size_t *outn)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, wbits) != Z_OK) return qv_seterr("inflate: zlib init failed");
    size_t cap = n * 4 + 1024, len = 0;
    if (cap > limit + 1) cap = limit + 1;
    unsigned char *buf = qv_malloc(cap + 1);
    zs.next_in = (Bytef *)in; zs.avail_in = (uInt)n;
    int rc;
    for (;;) {
        if (len == cap) {
            if (cap > limit) { rc = Z_MEM_ERROR; break; }
            cap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
            buf = qv_realloc(buf, cap + 1);
        }
        zs.next_out = buf + len; zs.avail_out = (uInt)(cap - len);
        rc = inflate(&zs, Z_NO_FLUSH);
        len = cap - zs.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) { rc = Z_DATA_ERROR; break; }   /* truncated */
        if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(buf);
        if (len > limit) return qv_seterr("inflate: body larger than %zu bytes", limit);
        return qv_seterr("inflate: corrupt or truncated compressed body");
    }
    if (len > limit) { free(buf); return qv_seterr("inflate: body larger than %zu bytes", limit); }
    buf[len] = 0;
    *out = buf; *outn = len;
    return 0;
}

int sapi_inflate(const void *in, size_t n, size_t limit, unsigned char **out, size_t *outn)
{
    *out = NULL; *outn = 0;
    const unsigned char *p = in;
    /* zlib header: CMF=0x?8 with (CMF*256+FLG) % 31 == 0; gzip: 1f 8b; else raw deflate. */
    bool zlib_hdr = n >= 2 && (p[0] & 15) == 8 && ((p[0] << 8) | p[1]) % 31 == 0;
    bool gzip_hdr = n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
    int wbits = gzip_hdr ? 15 + 16 : zlib_hdr ? 15 : -15;
    return inflate_with(in, n, limit, wbits, out, outn);
}

/* ---------------------------------------------------------------- qp problems */

int sapi_qp_encode(int nq, const double *lin, long nc, const int (*couplers)[2],
                   const int *qubit_pos, const double *quad, char **lin_b64, char **quad_b64)
{
    *lin_b64 = *quad_b64 = NULL;
    unsigned char *lb = qv_mallocarray((size_t)nq + 1, 8);
    for (int i = 0; i < nq; i++) {
        if (isnan(lin[i])) put_f64(lb + 8 * i, wire_nan());
        else if (!isfinite(lin[i])) { free(lb); return qv_seterr("qp encode: bias of qubit #%d is not finite", i); }
        else put_f64(lb + 8 * i, lin[i]);
    }
    unsigned char *qb = qv_mallocarray((size_t)nc + 1, 8);
    long m = 0;
    for (long k = 0; k < nc; k++) {
        int pa = qubit_pos[couplers[k][0]], pb = qubit_pos[couplers[k][1]];
        bool act = pa >= 0 && pb >= 0 && !isnan(lin[pa]) && !isnan(lin[pb]);
        double v = quad ? quad[k] : 0.0;
        if (!act) {
            if (v != 0.0 && !isnan(v)) {
                free(lb); free(qb);
                return qv_seterr("qp encode: coupler (%d,%d) has a coupling but an inactive qubit",
                                 couplers[k][0], couplers[k][1]);
            }
            continue;
        }
        if (!isfinite(v)) {
            free(lb); free(qb);
            return qv_seterr("qp encode: coupling on (%d,%d) is not finite", couplers[k][0], couplers[k][1]);
        }
        put_f64(qb + 8 * m++, v);
    }
    *lin_b64 = sapi_b64_encode(lb, (size_t)nq * 8);
    *quad_b64 = sapi_b64_encode(qb, (size_t)m * 8);
    free(lb); free(qb);
    return 0;
}

int sapi_qp_decode(const char *lin_b64, const char *quad_b64, int nq, long nc,
                   const int (*couplers)[2], const int *qubit_pos, double **lin, double **quad)
{
    *lin = *quad = NULL;
    unsigned char *lb = NULL, *qb = NULL;
    size_t ln, qn;
    if (sapi_b64_decode(lin_b64, &lb, &ln)) return qv_preferr("data.lin");
    if (ln != (size_t)nq * 8) {
        free(lb);
        return qv_seterr("data.lin: %zu bytes, expected %d doubles (%d bytes) for the solver's qubits",
                         ln, nq, nq * 8);
    }
    if (sapi_b64_decode(quad_b64 ? quad_b64 : "", &qb, &qn)) { free(lb); return qv_preferr("data.quad"); }
    if (qn % 8) { free(lb); free(qb); return qv_seterr("data.quad: length %zu is not a multiple of 8", qn); }
    double *L = qv_mallocarray((size_t)nq + 1, sizeof *L);
    for (int i = 0; i < nq; i++) L[i] = get_f64(lb + 8 * i);
    for (int i = 0; i < nq; i++)
        if (isinf(L[i])) { free(lb); free(qb); free(L); return qv_seterr("data.lin: infinite bias"); }
    double *Q = qv_calloc((size_t)nc + 1, sizeof *Q);
    size_t m = 0, have = qn / 8;
    for (long k = 0; k < nc; k++) {
        int pa = qubit_pos[couplers[k][0]], pb = qubit_pos[couplers[k][1]];
        if (pa < 0 || pb < 0 || isnan(L[pa]) || isnan(L[pb])) continue;
        if (m >= have) { m++; continue; }
        Q[k] = get_f64(qb + 8 * m++);
        if (!isfinite(Q[k])) {
            free(lb); free(qb); free(L); free(Q);
            return qv_seterr("data.quad: coupling %zu is not a finite number", m - 1);
        }
    }
    free(lb); free(qb);
    if (m != have) {
        free(L); free(Q);
        return qv_seterr("data.quad: %zu couplings for %zu active couplers", have, m);
    }
    *lin = L; *quad = Q;
    return 0;
}

/* ---------------------------------------------------------------- answers */

void sapi_timing_init(struct sapi_timing *t)
{
    t->qpu_sampling_time = t->qpu_anneal_time_per_sample = t->qpu_readout_time_per_sample = NAN;
    t->qpu_access_time = t->qpu_access_overhead_time = t->qpu_programming_time = NAN;
    t->qpu_delay_time_per_sample = t->total_post_processing_time = NAN;
    t->post_processing_overhead_time = t->total_real_time = NAN;
}

void sapi_answer_init(struct sapi_answer *a)
{
    memset(a, 0, sizeof *a);
    sapi_timing_init(&a->timing);
}

void sapi_answer_free(struct sapi_answer *a)
{
    free(a->active); free(a->sol); free(a->energies); free(a->occ);
    sapi_answer_init(a);
}

static int get_b64_field(const cJSON *ans, const char *name, bool required,
                         unsigned char **buf, size_t *n)
{
    *buf = NULL; *n = 0;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(ans, name);
    if (!f || cJSON_IsNull(f)) {
        if (required) return qv_seterr("answer: missing %s", name);
        return 1;
    }
    if (!cJSON_IsString(f)) return qv_seterr("answer: %s: not a base64 string", name);
    if (sapi_b64_decode(f->valuestring, buf, n)) return qv_preferr("answer: %s", name);
    return 0;
}

static void timing_decode(const cJSON *t, struct sapi_timing *out)
{
    sapi_timing_init(out);
    if (!cJSON_IsObject(t)) return;
    static const struct { const char *k; size_t off; } F[] = {
#define TF(x) {#x, offsetof(struct sapi_timing, x)}
        TF(qpu_sampling_time), TF(qpu_anneal_time_per_sample), TF(qpu_readout_time_per_sample),
        TF(qpu_access_time), TF(qpu_access_overhead_time), TF(qpu_programming_time),
        TF(qpu_delay_time_per_sample), TF(total_post_processing_time),
        TF(post_processing_overhead_time), TF(total_real_time),
#undef TF
    };
    for (size_t i = 0; i < QV_ARRAY_LEN(F); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, F[i].k);
        if (cJSON_IsNumber(v)) *(double *)((char *)out + F[i].off) = v->valuedouble;
    }
}

int sapi_answer_decode(const cJSON *ans, bool qubo, bool strict, struct sapi_answer *a)
{
    sapi_answer_init(a);
    a->qubo = qubo;
    if (!cJSON_IsObject(ans)) return qv_seterr("answer: not a JSON object");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(ans, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "qp") != 0)
        return qv_seterr("answer: unsupported format %s",
                         cJSON_IsString(fmt) ? fmt->valuestring : "(missing)");
    const cJSON *nv = cJSON_GetObjectItemCaseSensitive(ans, "num_variables");
    if (!cJSON_IsNumber(nv) || nv->valuedouble < 0 || nv->valuedouble > 1e7)
        return qv_seterr("answer: missing or invalid num_variables");
    a->num_variables = (int)nv->valuedouble;

    unsigned char *ab = NULL, *eb = NULL, *sb = NULL, *ob = NULL;
    size_t an, en, sn, on;
    int rc = -1;
    if (get_b64_field(ans, "active_variables", true, &ab, &an)) goto out;
    if (get_b64_field(ans, "energies", true, &eb, &en)) goto out;
    if (get_b64_field(ans, "solutions", true, &sb, &sn)) goto out;
    int orc = get_b64_field(ans, "num_occurrences", false, &ob, &on);
    if (orc < 0) goto out;
    if (an % 4) { qv_seterr("answer: active_variables: %zu bytes is not a whole number of int32", an); goto out; }
    if (en % 8) { qv_seterr("answer: energies: %zu bytes is not a whole number of doubles", en); goto out; }
    a->nact = (int)(an / 4);
    a->nsol = (long)(en / 8);
    a->active = qv_mallocarray((size_t)a->nact + 1, sizeof *a->active);
    for (int k = 0; k < a->nact; k++) {
        a->active[k] = get_i32(ab + 4 * k);
        if (a->active[k] < 0 || a->active[k] >= a->num_variables || (k && a->active[k] <= a->active[k - 1])) {
            qv_seterr("answer: active_variables: entry %d (%d) out of order or out of range", k, a->active[k]);
            goto out;
        }
    }
    size_t bper = ((size_t)a->nact + 7) / 8;
    size_t need = bper * (size_t)a->nsol;
    if (sn < need || (strict && sn != need)) {
        qv_seterr("answer: solutions: %s: %zu bytes for %ld samples of %d variables (need %zu)",
                  sn < need ? "truncated" : "wrong length", sn, a->nsol, a->nact, need);
        goto out;
    }
    a->energies = qv_mallocarray((size_t)a->nsol + 1, sizeof(double));
    for (long r = 0; r < a->nsol; r++) a->energies[r] = get_f64(eb + 8 * r);
    a->occ = qv_mallocarray((size_t)a->nsol + 1, sizeof(int));
    if (orc == 0) {
        if (on != 4 * (size_t)a->nsol) {
            qv_seterr("answer: num_occurrences: %zu entries for %ld samples", on / 4, a->nsol);
            goto out;
        }
        for (long r = 0; r < a->nsol; r++) {
            a->occ[r] = get_i32(ob + 4 * r);
            if (a->occ[r] < 0) { qv_seterr("answer: num_occurrences: negative count"); goto out; }
        }
    } else {
        for (long r = 0; r < a->nsol; r++) a->occ[r] = 1;
    }
    a->total_reads = 0;
    for (long r = 0; r < a->nsol; r++) a->total_reads += a->occ[r];
    a->sol = qv_mallocarray((size_t)a->nsol * (size_t)a->nact + 1, 1);
    int8_t zero = qubo ? 0 : -1;
    /* MSB first: byte value → its 8 values, so whole bytes unpack by one copy */
    int8_t lut[256][8];
    for (int v = 0; v < 256; v++)
        for (int k = 0; k < 8; k++) lut[v][k] = (v >> (7 - k)) & 1 ? 1 : zero;
    int full = a->nact / 8;
    for (long r = 0; r < a->nsol; r++) {
        const unsigned char *blk = sb + (size_t)r * bper;
        int8_t *row = a->sol + (size_t)r * a->nact;
        for (int b = 0; b < full; b++) memcpy(row + 8 * b, lut[blk[b]], 8);
        for (int k = 8 * full; k < a->nact; k++) row[k] = lut[blk[k >> 3]][k & 7];
    }
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(ans, "offset");
    if (cJSON_IsNumber(off) && off->valuedouble != 0.0)
        for (long r = 0; r < a->nsol; r++) a->energies[r] += off->valuedouble;
    timing_decode(cJSON_GetObjectItemCaseSensitive(ans, "timing"), &a->timing);
    rc = 0;
out:
    free(ab); free(eb); free(sb); free(ob);
    if (rc) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", qv_errmsg());
        sapi_answer_free(a);
        qv_seterr("%s", keep);
    }
    return rc;
}

void sapi_pack_bits(int nact, long nsol, const uint8_t *bits, unsigned char *out)
{
    size_t bper = ((size_t)nact + 7) / 8;
    memset(out, 0, bper * (size_t)nsol);
    for (long r = 0; r < nsol; r++) {
        const uint8_t *row = bits + (size_t)r * nact;
        unsigned char *blk = out + (size_t)r * bper;
        for (int k = 0; k < nact; k++)
            if (row[k]) blk[k >> 3] |= (unsigned char)(0x80 >> (k & 7));
    }
}

int sapi_answer_encode(cJSON *obj, int num_variables, int nact, const int *active,
                       long nsol, const uint8_t *bits, const double *energies, const int *occ)
{
    cJSON_AddStringToObject(obj, "format", "qp");
    cJSON_AddNumberToObject(obj, "num_variables", num_variables);
    unsigned char *ab = qv_mallocarray((size_t)nact + 1, 4);
    for (int k = 0; k < nact; k++) put_i32(ab + 4 * k, active[k]);
    char *s = sapi_b64_encode(ab, (size_t)nact * 4);
    cJSON_AddStringToObject(obj, "active_variables", s);
    free(s); free(ab);
    unsigned char *eb = qv_mallocarray((size_t)nsol + 1, 8);
    for (long r = 0; r < nsol; r++) put_f64(eb + 8 * r, energies[r]);
    s = sapi_b64_encode(eb, (size_t)nsol * 8);
    cJSON_AddStringToObject(obj, "energies", s);
    free(s); free(eb);
    size_t bper = ((size_t)nact + 7) / 8;
    unsigned char *sb = qv_malloc(bper * (size_t)nsol + 1);
    sapi_pack_bits(nact, nsol, bits, sb);
    s = sapi_b64_encode(sb, bper * (size_t)nsol);
    cJSON_AddStringToObject(obj, "solutions", s);
    free(s); free(sb);
    if (occ) {
        unsigned char *ob = qv_mallocarray((size_t)nsol + 1, 4);
        for (long r = 0; r < nsol; r++) put_i32(ob + 4 * r, occ[r]);
        s = sapi_b64_encode(ob, (size_t)nsol * 4);
        cJSON_AddStringToObject(obj, "num_occurrences", s);
        free(s); free(ob);
    }
    return 0;
}
