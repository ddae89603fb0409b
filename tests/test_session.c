/* test_session.c — sessions: round trip of the registered modules (seed, dataset reference,
 * splits, binarisation), generational blobs through a test module, and every way a session can
 * be bad (missing, corrupt JSON, checksum, wrong version, flipped/truncated/missing blob, data
 * files gone, failing save, bad names) — each with its message, and the current state kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "session.h"

static char tmpdir[1024], sessdir[1100];
static char logbuf[65536];

static void cap_log(void *ud, enum qv_level lv, const char *line)
{
    (void)ud;
    size_t o = strlen(logbuf);
    snprintf(logbuf + o, sizeof logbuf - o, "%s%s\n", lv == QV_LOG_ERROR ? "error: " : "", line);
}

static void app_setup(struct qv_app *app)
{
    app_init(app, &qv_workbench);
    app->sink.log = cap_log;
    logbuf[0] = 0;
}

static void expect_err(const char *a, const char *b)
{
    const char *m = qv_errmsg();
    if (!strstr(m, a) || (b && !strstr(m, b)))
        fail_msg("error message \"%s\" lacks \"%s\" / \"%s\"", m, a, b ? b : "");
}

static void write_idx(const char *path, int n, int h, int w, unsigned salt)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char hdr[16] = {0, 0, 8, 3};
    uint32_t d[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++) hdr[4 + 4 * i + b] = (unsigned char)(d[i] >> (24 - 8 * b));
    fwrite(hdr, 1, 16, f);
    for (long i = 0; i < (long)n * h * w; i++) fputc((int)((i * 13 + salt) & 255), f);
    fclose(f);
}

static const char *tpath(const char *name)
{
    static char buf[4][1300];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* ---------------------------------------------------------------- registered modules */

static void test_roundtrip(void **st)
{
    (void)st;
    struct qv_app app;
    app_setup(&app);
    write_idx(tpath("s.idx"), 50, 6, 5, 1);
    app.st.seed = 1234567890123ULL;
    app.st.data = data_load_idx(tpath("s.idx"), NULL);
    assert_non_null(app.st.data);
    assert_int_equal(data_set_splits(app.st.data, 30, 12, 8), 0);
    app.st.data->binarize = DATA_BIN_STATIC;
    app.st.data->bin_seed = 0xfedcba9876543210ULL;
    assert_int_equal(session_save(&app, "rt", sessdir), 0);
    assert_string_equal(app.session_name, "rt");

    /* change everything, then load */
    app.st.seed = 5;
    data_free(app.st.data);
    app.st.data = NULL;
    assert_int_equal(session_load(&app, "rt", sessdir), 0);
    assert_true(app.st.seed == 1234567890123ULL);
    struct dataset *ds = app.st.data;
    assert_non_null(ds);
    assert_int_equal(ds->count, 50);
    assert_int_equal(ds->h, 6);
    assert_int_equal(ds->split_count[DATA_VALID], 12);
    assert_int_equal(ds->split_count[DATA_TEST], 8);
    assert_int_equal(ds->binarize, DATA_BIN_STATIC);
    assert_true(ds->bin_seed == 0xfedcba9876543210ULL);
    assert_true(ds->pixels[7] == (float)((7 * 13 + 1) & 255) / 255.0f);

    /* the data files change or go: loading fails, naming the file, and the state is kept */
    struct dataset *before = app.st.data;
    write_idx(tpath("s.idx"), 40, 6, 5, 1);
    assert_int_equal(session_load(&app, "rt", sessdir), -1);
    expect_err("session rt: data:", "now holds 40 images");
    unlink(tpath("s.idx"));
    app.st.seed = 77;
    assert_int_equal(session_load(&app, "rt", sessdir), -1);
    expect_err("s.idx", "No such file");
    assert_ptr_equal(app.st.data, before);
    assert_true(app.st.seed == 77);

    /* missing session */
    assert_int_equal(session_load(&app, "nosuch", sessdir), -1);
    expect_err("session nosuch", "not found");
    assert_ptr_equal(app.st.data, before);

    /* session with no dataset */
    data_free(app.st.data);
    app.st.data = NULL;
    assert_int_equal(session_save(&app, "empty", sessdir), 0);
    app.st.data = data_load_idx(tpath("s.idx"), NULL);   /* gone: NULL */
    assert_null(app.st.data);
    assert_int_equal(session_load(&app, "empty", sessdir), 0);
    assert_null(app.st.data);
    app_free(&app);
}

static void test_names_and_list(void **st)
{
    (void)st;
    struct qv_app app;
    app_setup(&app);
    const char *bad[] = {"", "../x", "a/b", "..", ".hidden", "-x", "a..b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(session_save(&app, bad[i], sessdir), -1);
        assert_int_equal(session_load(&app, bad[i], sessdir), -1);
    }
    assert_int_equal(session_save(&app, "a..b", sessdir), -1);
    expect_err("a..b", "'..'");
    assert_int_equal(session_save(&app, "a/b", sessdir), -1);
    expect_err("a/b", "'/'");
    char sub[1300];
    snprintf(sub, sizeof sub, "%s/listdir", tmpdir);
    assert_int_equal(session_save(&app, "zeta", sub), 0);
    assert_int_equal(session_save(&app, "alpha", sub), 0);
    char junk[1400];
    snprintf(junk, sizeof junk, "%s/notasession", sub);
    mkdir(junk, 0755);
    char **v = session_list(sub);
    assert_non_null(v);
    assert_string_equal(v[0], "alpha");
    assert_string_equal(v[1], "zeta");
    assert_null(v[2]);
    for (int i = 0; v[i]; i++) free(v[i]);
    free(v);
    assert_null(session_list(tpath("no/such/dir")));
    app_free(&app);
}

/* ---------------------------------------------------------------- blobs via a test module */

static unsigned char blob_src[3000], blob_got[3000];
static size_t blob_len, got_len;
static int save_fails;

static int tm_save(struct qv_app *app, const struct qv_state *s, cJSON *sec, struct sess_io *io)
{
    (void)app;
    (void)s;
    cJSON_AddNumberToObject(sec, "n", (double)blob_len);
    if (sess_blob_put(io, "w", blob_src, blob_len)) return -1;
    if (sess_blob_put(io, "z", blob_src, 10)) return -1;
    if (save_fails) return qv_seterr("simulated failure");
    return 0;
}

static int tm_load(struct qv_app *app, struct qv_state *s, const cJSON *sec, struct sess_io *io)
{
    (void)app;
    (void)s;
    void *p;
    size_t n;
    if (sess_blob_get(io, "w", &p, &n)) return -1;
    if (n > sizeof blob_got) {
        free(p);
        return qv_seterr("too big");
    }
    memcpy(blob_got, p, n);
    got_len = n;
    free(p);
    if (sess_blob_get(io, "nope", &p, &n) == 0) return qv_seterr("missing blob was found");
    return 0;
}

static const struct qv_module tm = {"tm", tm_save, tm_load, NULL};
static const struct qv_module *const tm_mods[] = {&tm, NULL};

static int count_bins(const char *dir, long gen)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    char suffix[32];
    snprintf(suffix, sizeof suffix, ".%ld.bin", gen);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), ls = strlen(suffix);
        if (gen < 0 ? strstr(e->d_name, ".bin") != NULL : (l > ls && !strcmp(e->d_name + l - ls, suffix))) n++;
    }
    closedir(d);
    return n;
}

static void flip_byte(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, off, off < 0 ? SEEK_END : SEEK_SET);
    int c = fgetc(f);
    fseek(f, -1, SEEK_CUR);
    fputc(c ^ 0x21, f);
    fclose(f);
}

static void truncate_by(const char *path, long by)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size - by), 0);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    int c;
    while ((c = fgetc(a)) != EOF) fputc(c, b);
    fclose(a);
    fclose(b);
}

static void test_blobs(void **st)
{
    (void)st;
    struct qv_app app;
    app_setup(&app);
    char dir[1300], js[1400], blob[1400], saved[1400];
    snprintf(dir, sizeof dir, "%s/b", sessdir);
    snprintf(js, sizeof js, "%s/session.json", dir);
    blob_len = 2500;
    for (size_t i = 0; i < blob_len; i++) blob_src[i] = (unsigned char)(i * 31 + 7);
    assert_int_equal(session_save_modules(&app, "b", sessdir, tm_mods), 0);
    assert_int_equal(count_bins(dir, 1), 2);
    /* second save: generation 2 replaces generation 1 */
    blob_src[0] ^= 0xff;
    assert_int_equal(session_save_modules(&app, "b", sessdir, tm_mods), 0);
    assert_int_equal(count_bins(dir, 1), 0);
    assert_int_equal(count_bins(dir, 2), 2);
    assert_int_equal(count_bins(dir, -1), 2);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), 0);
    assert_int_equal(got_len, blob_len);
    assert_memory_equal(blob_got, blob_src, blob_len);

    /* a save that fails half-way leaves the previous session intact and no new blobs */
    save_fails = 1;
    unsigned char keep0 = blob_src[0];
    blob_src[0] ^= 0x0f;
    assert_int_equal(session_save_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("session b: tm", "simulated failure");
    save_fails = 0;
    assert_int_equal(count_bins(dir, 3), 0);
    memset(blob_got, 0, sizeof blob_got);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), 0);
    assert_int_equal(blob_got[0], keep0);
    blob_src[0] = keep0;

    /* keep a good copy of session.json to restore between corruptions */
    snprintf(saved, sizeof saved, "%s/good.json", tmpdir);
    copy_file(js, saved);
    snprintf(blob, sizeof blob, "%s/tm-w.2.bin", dir);
    char blob_saved[1400];
    snprintf(blob_saved, sizeof blob_saved, "%s/good.bin", tmpdir);
    copy_file(blob, blob_saved);
    app.st.seed = 4242;   /* the current state, which failed loads must keep */

    /* a flipped byte in a blob's data */
    flip_byte(blob, -100);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("session b: blob tm-w.2.bin", "crc32 mismatch");
    copy_file(blob_saved, blob);
    /* a truncated blob */
    truncate_by(blob, 7);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("blob tm-w.2.bin", "truncated (2493 of 2500 bytes)");
    /* a missing blob */
    unlink(blob);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("tm-w.2.bin", "No such file");
    copy_file(blob_saved, blob);
    assert_true(app.st.seed == 4242);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), 0);
    app.st.seed = 4242;

    /* session.json: a changed value under the checksum */
    FILE *f = fopen(js, "rb");
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *p = strstr(text, "\"n\":");
    assert_non_null(p);
    p = strchr(p, '2');   /* "n": 2500 → 3500 */
    assert_non_null(p);
    *p = '3';
    f = fopen(js, "wb");
    fwrite(text, 1, n, f);
    fclose(f);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("session.json", "checksum mismatch");
    /* malformed JSON (truncated file) */
    copy_file(saved, js);
    truncate_by(js, 20);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("session.json", "malformed JSON");
    /* a newer format version */
    copy_file(saved, js);
    f = fopen(js, "rb");
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    p = strstr(text, "\"version\":");
    assert_non_null(p);
    p = strchr(p, '1');
    *p = '2';
    f = fopen(js, "wb");
    fwrite(text, 1, n, f);
    fclose(f);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("session b:", "format version 2 is not supported");
    /* not a session at all */
    f = fopen(js, "wb");
    fputs("{\"hello\": 1}", f);
    fclose(f);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), -1);
    expect_err("session.json", "not a qvae session");
    assert_true(app.st.seed == 4242);
    copy_file(saved, js);
    assert_int_equal(session_load_modules(&app, "b", sessdir, tm_mods), 0);
    app_free(&app);
}

static void test_manifest_parse(void **st)
{
    (void)st;
    const char *bad[] = {"", "{", "[]", "null", "{\"format\":\"qvae-session\"}",
                         "{\"format\":\"qvae-session\",\"version\":1,\"modules\":{},\"blobs\":{},"
                         "\"generation\":1,\"checksum\":5}",
                         "{\"format\":\"qvae-session\",\"version\":1,\"modules\":{\"a\":3},\"blobs\":{},"
                         "\"generation\":1,\"checksum\":5}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *root = NULL;
        assert_int_equal(sess_manifest_parse(bad[i], strlen(bad[i]), "x", true, &root), -1);
        assert_null(root);
    }
    /* a consistent one: checksum of "{}" + "{}" */
    char good[256];
    snprintf(good, sizeof good,
             "{\"format\":\"qvae-session\",\"version\":1,\"modules\":{},\"blobs\":{},"
             "\"generation\":1,\"checksum\":%u}", qv_crc32("{}{}", 4));
    cJSON *root = NULL;
    assert_int_equal(sess_manifest_parse(good, strlen(good), "x", true, &root), 0);
    cJSON_Delete(root);
}

int main(void)
{
    const char *t = getenv("QVAE_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_session.%d", t && *t ? t : "/tmp", (int)getpid());
    mkdir(tmpdir, 0755);
    snprintf(sessdir, sizeof sessdir, "%s/sessions", tmpdir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_names_and_list),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_manifest_parse),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {}
    return rc;
}
