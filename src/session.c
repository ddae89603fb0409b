/* session.c — sessions on disk (format in session.h): save through the qv_modules[] hooks into a
 * new blob generation, then session.json atomically; load verifies everything (format, version,
 * checksum, every blob's size and crc) before any module sees it, builds a fresh qv_state, and
 * swaps it in only when every module loaded. */
#include "session.h"
#include "par.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SESS_FORMAT "qvae-session"
#define SESS_VERSION 1
#define SESS_MANIFEST "session.json"
#define BLOB_MAGIC "QVBLOB01"
#define BLOB_HDR 24

struct sess_io {
    char dir[4096];          /* the session folder */
    const char *module;      /* module whose hook is running (blob names are prefixed by it) */
    long gen;                /* blob generation being written / read */
    cJSON *blobs;            /* save: manifest "blobs" object being built; load: the parsed one */
    bool saving;
};


/* ---------------------------------------------------------------- names and paths */

int session_name_check(const char *name)
{
    size_t n = strlen(name);
    if (n == 0) return qv_seterr("session: empty name");
    if (n > 100) return qv_seterr("session %.40s…: name longer than 100 characters", name);
    if (strchr(name, '/')) return qv_seterr("session %s: name must not contain '/'", name);
    if (strstr(name, "..")) return qv_seterr("session %s: name must not contain '..'", name);
    if (name[0] == '.' || name[0] == '-')
        return qv_seterr("session %s: name must not start with '%c'", name, name[0]);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return qv_seterr("session %s: name holds a control character or backslash", name);
    return 0;
}

static const char *sess_root(struct qv_app *app, const char *dir)
{
    return dir && *dir ? dir : app->session_dir;
}

static void blob_file(char *buf, size_t n, const char *module, const char *name, long gen)
{
    snprintf(buf, n, "%s-%s.%ld.bin", module, name, gen);
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ---------------------------------------------------------------- blobs */

int sess_blob_put(struct sess_io *io, const char *name, const void *data, size_t len)
{
    if (!io->saving) return qv_seterr("blob %s: not saving", name);
    if (!*name || strchr(name, '/') || strchr(name, '.'))
        return qv_seterr("blob '%s': invalid name", name);
    char file[256], path[4400];
    blob_file(file, sizeof file, io->module, name, io->gen);
    if (cJSON_GetObjectItemCaseSensitive(io->blobs, file))
        return qv_seterr("blob %s: stored twice", file);
    snprintf(path, sizeof path, "%s/%s", io->dir, file);
    uint32_t crc = qv_crc32(data, len);
    unsigned char hdr[BLOB_HDR] = {0};
    memcpy(hdr, BLOB_MAGIC, 8);
    put_le(hdr + 8, len, 8);
    put_le(hdr + 16, crc, 4);
    struct qv_atomic f;
    if (qv_atomic_open(&f, path) || qv_atomic_write(&f, hdr, sizeof hdr) ||
        qv_atomic_write(&f, data, len) || qv_atomic_commit(&f))
        return -1;
    cJSON *b = cJSON_AddObjectToObject(io->blobs, file);
    cJSON_AddNumberToObject(b, "size", (double)len);
    cJSON_AddNumberToObject(b, "crc32", (double)crc);
    return 0;
}

/* Read and verify one blob file against its manifest entry; *data malloc'ed (may be NULL to
 * only verify). */
static int blob_read(const char *dir, const char *file, const cJSON *ent, void **data, size_t *len)
{
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(ent, "size");
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(ent, "crc32");
    if (!cJSON_IsNumber(js) || !cJSON_IsNumber(jc) || js->valuedouble < 0 ||
        js->valuedouble > 9e15 || jc->valuedouble < 0 || jc->valuedouble > 4294967295.0)
        return qv_seterr("blob %s: bad manifest entry", file);
    size_t want = (size_t)js->valuedouble;
    uint32_t want_crc = (uint32_t)jc->valuedouble;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    unsigned char *buf;
    size_t n;
    if (qv_read_file(path, false, &buf, &n)) return -1;
    int rc = 0;
    if (n < BLOB_HDR) rc = qv_seterr("blob %s: truncated (%zu bytes, no header)", file, n);
    else if (memcmp(buf, BLOB_MAGIC, 8) != 0) rc = qv_seterr("blob %s: not a qvae blob (bad magic)", file);
    else if (get_le(buf + 8, 8) != want || get_le(buf + 16, 4) != want_crc)
        rc = qv_seterr("blob %s: header does not match the manifest", file);
    else if (n - BLOB_HDR < want)
        rc = qv_seterr("blob %s: truncated (%zu of %zu bytes)", file, n - BLOB_HDR, want);
    else if (n - BLOB_HDR > want)
        rc = qv_seterr("blob %s: %zu bytes of trailing data", file, n - BLOB_HDR - want);
    else if (qv_crc32(buf + BLOB_HDR, want) != want_crc)
        rc = qv_seterr("blob %s: crc32 mismatch (corrupt data)", file);
    if (rc == 0 && data) {
        *data = qv_malloc(want ? want : 1);
        memcpy(*data, buf + BLOB_HDR, want);
        *len = want;
    }
    free(buf);
    return rc;
}

int sess_blob_get(struct sess_io *io, const char *name, void **data, size_t *len)
{
    char file[256];
    blob_file(file, sizeof file, io->module, name, io->gen);
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(io->blobs, file);
    if (!ent) return qv_seterr("blob %s-%s: missing from the session", io->module, name);
    return blob_read(io->dir, file, ent, data, len);
}

/* ---------------------------------------------------------------- manifest */

/* crc32 of PrintUnformatted(modules) followed by PrintUnformatted(blobs).  cJSON fails to print
 * only when out of memory; that is an error, never a checksum of an empty text. */
static int manifest_checksum(const cJSON *modules, const cJSON *blobs, const char *what,
                             uint32_t *out)
{
    char *a = cJSON_PrintUnformatted(modules), *b = cJSON_PrintUnformatted(blobs);
    int rc = 0;
    if (!a || !b) {
        rc = qv_seterr("%s: cannot serialise the manifest (out of memory)", what);
    } else {
        size_t la = strlen(a), lb = strlen(b);
        char *cat = qv_malloc(la + lb + 1);
        memcpy(cat, a, la);
        memcpy(cat + la, b, lb);
        *out = qv_crc32(cat, la + lb);
        free(cat);
    }
    cJSON_free(a);
    cJSON_free(b);
    return rc;
}

int sess_manifest_parse(const char *text, size_t len, const char *what, bool verify_checksum,
                        cJSON **out)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        return qv_seterr("%s: malformed JSON near byte %zu", what, at);
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(root, "modules");
    const cJSON *blobs = cJSON_GetObjectItemCaseSensitive(root, "blobs");
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(root, "checksum");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(root, "generation");
    int rc = 0;
    if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, SESS_FORMAT))
        rc = qv_seterr("%s: not a qvae session file", what);
    else if (!cJSON_IsNumber(ver))
        rc = qv_seterr("%s: missing format version", what);
    else if (ver->valuedouble != SESS_VERSION)
        rc = qv_seterr("%s: format version %g is not supported (this qvae reads version %d)", what,
                       ver->valuedouble, SESS_VERSION);
    else if (!cJSON_IsObject(mods) || !cJSON_IsObject(blobs) || !cJSON_IsNumber(sum) ||
             !cJSON_IsNumber(gen) || gen->valuedouble < 0 || gen->valuedouble > 1e15)
        rc = qv_seterr("%s: incomplete manifest (modules, blobs, generation, checksum)", what);
    else if (verify_checksum) {
        uint32_t want = 0;
        if (manifest_checksum(mods, blobs, what, &want))
            rc = -1;
        else if (sum->valuedouble < 0 || sum->valuedouble > 4294967295.0 ||
                 (uint32_t)sum->valuedouble != want)
            rc = qv_seterr("%s: checksum mismatch (the file is corrupt)", what);
    }
    if (rc == 0) {
        for (const cJSON *b = blobs->child; b && rc == 0; b = b->next)
            if (!cJSON_IsObject(b) || !b->string || strchr(b->string, '/') || b->string[0] == '.')
                rc = qv_seterr("%s: bad blob entry", what);
        for (const cJSON *m = mods->child; m && rc == 0; m = m->next)
            if (!cJSON_IsObject(m)) rc = qv_seterr("%s: module %s: not an object", what, m->string);
    }
    if (rc) {
        cJSON_Delete(root);
        return -1;
    }
    *out = root;
    return 0;
}

/* Generation of the session in dir (0 if none or unreadable). */
static long current_generation(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/" SESS_MANIFEST, dir);
    unsigned char *txt;
    size_t n;
    long g = 0;
    if (qv_read_file(path, false, &txt, &n)) return 0;
    cJSON *root = cJSON_ParseWithLength((const char *)txt, n);
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(root, "generation");
    if (cJSON_IsNumber(gen) && gen->valuedouble >= 0 && gen->valuedouble < 1e15)
        g = (long)gen->valuedouble;
    cJSON_Delete(root);
    free(txt);
    return g;
}

/* Generation encoded in a blob file name "<module>-<name>.<gen>.bin", or -1. */
static long blob_gen(const char *file)
{
    size_t n = strlen(file);
    if (n < 6 || strcmp(file + n - 4, ".bin") != 0) return -1;
    const char *dot = NULL;
    for (const char *p = file + n - 5; p > file; p--)
        if (*p == '.') {
            dot = p;
            break;
        }
    if (!dot) return -1;
    char *end;
    long g = strtol(dot + 1, &end, 10);
    return end == file + n - 4 && g >= 0 ? g : -1;
}

/* Remove blob files (and stale temporaries) of generations other than keep. */
static void remove_other_generations(const char *dir, long keep)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long g = blob_gen(e->d_name);
        bool stale_tmp = strstr(e->d_name, ".bin.tmp.") != NULL;
        if ((g >= 0 && g != keep) || stale_tmp) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

/* Highest blob generation present in dir (leftovers of an interrupted save count too). */
static long max_blob_gen(const char *dir)
{
    long m = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) m = QV_MAX(m, blob_gen(e->d_name));
    closedir(d);
    return m;
}

/* The saved/loaded session becomes the current one (its folder receives metrics.csv, grids …). */
static void set_current(struct qv_app *app, const char *name, const char *dir)
{
    if (name != app->session_name)   /* callers may pass the current name itself */
        snprintf(app->session_name, sizeof app->session_name, "%s", name);
    if (dir && *dir && dir != app->session_dir)
        snprintf(app->session_dir, sizeof app->session_dir, "%s", dir);
}

/* ---------------------------------------------------------------- save */

int session_save(struct qv_app *app, const char *name, const char *dir)
{
    if (!par_active()) return session_save_modules(app, name, dir, qv_modules);
    /* an MPI job: the ranks hold the same state, rank 0 writes it and all learn the outcome */
    int rc = par_root() ? session_save_modules(app, name, dir, qv_modules) : 0;
    if (par_agree(rc == 0) == 0 && !par_root()) return qv_seterr("session %s: rank 0 could not save it", name);
    if (rc == 0) set_current(app, name, dir);
    return rc;
}

int session_save_modules(struct qv_app *app, const char *name, const char *dir,
                         const struct qv_module *const *modlist)
{
    if (session_name_check(name)) return -1;
    struct sess_io io = {.saving = true};
    if (qv_path(io.dir, sizeof io.dir, "%s/%s", sess_root(app, dir), name)) return -1;
    if (qv_mkdirs(io.dir)) return qv_preferr("session %s", name);
    io.gen = QV_MAX(current_generation(io.dir), max_blob_gen(io.dir)) + 1;

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", SESS_FORMAT);
    cJSON_AddNumberToObject(root, "version", SESS_VERSION);
    cJSON_AddStringToObject(root, "qvae", QV_VERSION);
    cJSON_AddNumberToObject(root, "generation", (double)io.gen);
    cJSON *mods = cJSON_AddObjectToObject(root, "modules");
    io.blobs = cJSON_AddObjectToObject(root, "blobs");
    int rc = 0;
    for (int i = 0; modlist[i] && rc == 0; i++) {
        const struct qv_module *m = modlist[i];
        if (!m->save) continue;
        cJSON *sec = cJSON_AddObjectToObject(mods, m->name);
        io.module = m->name;
        if (m->save(app, &app->st, sec, &io)) rc = qv_preferr("session %s: %s", name, m->name);
    }
    uint32_t sum = 0;
    if (rc == 0) rc = qv_fsync_dir(io.dir);
    if (rc == 0) rc = manifest_checksum(mods, io.blobs, name, &sum);
    if (rc == 0) {
        cJSON_AddNumberToObject(root, "checksum", (double)sum);
        char *txt = cJSON_Print(root);
        char path[4400];
        snprintf(path, sizeof path, "%s/" SESS_MANIFEST, io.dir);
        if (!txt)
            rc = qv_seterr("session %s: cannot serialise the manifest (out of memory)", name);
        else if ((rc = qv_write_file_atomic(path, txt, strlen(txt))))
            qv_preferr("session %s", name);
        cJSON_free(txt);
    }
    /* success: drop older generations; failure: drop what this save wrote, keep the old one */
    if (rc == 0) {
        remove_other_generations(io.dir, io.gen);
        set_current(app, name, dir);
    } else {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", qv_errmsg());
        for (const cJSON *b = io.blobs->child; b; b = b->next) {
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", io.dir, b->string);
            unlink(p);
        }
        qv_seterr("%s", keep);
    }
    cJSON_Delete(root);
    return rc;
}

/* ---------------------------------------------------------------- load */

int session_load(struct qv_app *app, const char *name, const char *dir)
{
    return session_load_modules(app, name, dir, qv_modules);
}

int session_load_modules(struct qv_app *app, const char *name, const char *dir,
                         const struct qv_module *const *modlist)
{
    if (session_name_check(name)) return -1;
    struct sess_io io = {.saving = false};
    char path[4400];
    if (qv_path(io.dir, sizeof io.dir, "%s/%s", sess_root(app, dir), name)) return -1;
    snprintf(path, sizeof path, "%s/" SESS_MANIFEST, io.dir);
    struct stat sb;
    if (stat(io.dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return qv_seterr("session %s: not found in %s", name, sess_root(app, dir));
    unsigned char *txt;
    size_t n;
    if (qv_read_file(path, false, &txt, &n)) return qv_preferr("session %s", name);
    cJSON *root;
    int rc = sess_manifest_parse((const char *)txt, n, path, true, &root);
    free(txt);
    if (rc) return qv_preferr("session %s", name);
    io.gen = (long)cJSON_GetObjectItemCaseSensitive(root, "generation")->valuedouble;
    io.blobs = cJSON_GetObjectItemCaseSensitive(root, "blobs");
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(root, "modules");
    /* every blob verified before any module runs */
    for (const cJSON *b = io.blobs->child; b && rc == 0; b = b->next)
        rc = blob_read(io.dir, b->string, b, NULL, NULL);
    if (rc) {
        cJSON_Delete(root);
        return qv_preferr("session %s", name);
    }
    struct qv_state st;
    memset(&st, 0, sizeof st);
    app_state_free(app, &st);   /* zeroed state → defaults */
    for (int i = 0; modlist[i] && rc == 0; i++) {
        const struct qv_module *m = modlist[i];
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(mods, m->name);
        if (!m->load || !sec) continue;   /* section absent: module keeps its defaults */
        io.module = m->name;
        if (m->load(app, &st, sec, &io)) rc = qv_preferr("session %s: %s", name, m->name);
    }
    cJSON_Delete(root);
    if (rc) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", qv_errmsg());
        app_state_free(app, &st);
        return qv_seterr("%s", keep);
    }
    app_state_free(app, &app->st);
    app->st = st;
    set_current(app, name, dir);
    struct qv_event ev = {.kind = QV_EV_STATE};
    qv_emit(app, &ev);
    return 0;
}

/* ---------------------------------------------------------------- list, current */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **session_list(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        qv_seterr("%s: %s", dir, strerror(errno));
        return NULL;
    }
    size_t n = 0, cap = 8;
    char **v = qv_mallocarray(cap, sizeof *v);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s/" SESS_MANIFEST, dir, e->d_name);
        if (!qv_file_exists(p)) continue;
        if (n + 1 >= cap) v = qv_realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = qv_strdup(e->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_str);
    v[n] = NULL;
    return v;
}

int session_current_dir(struct qv_app *app, char *buf, size_t n)
{
    if (qv_path(buf, n, "%s/%s", app->session_dir, app->session_name)) return -1;
    return qv_mkdirs(buf);
}
