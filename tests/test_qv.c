/* test_qv.c — the shared helpers of qv.h that every module leans on: the unique-prefix rule
 * (exact name wins, a single prefix match, ambiguity and absence reported with the names) and
 * atomic files (a committed file holds exactly what was written; an aborted or failed one leaves
 * the old file and no temporary behind; errors name the target). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qv.h"

static char tmpdir[1024];

static void test_unique_prefix(void **st)
{
    (void)st;
    static const char *const names[] = {"loss", "latent", "log", "logz", "digits", NULL};
    char c[128];
    assert_int_equal(qv_unique_prefix("digits", qv_name_of_strv, names, c, sizeof c), 4);
    assert_int_equal(qv_unique_prefix("d", qv_name_of_strv, names, c, sizeof c), 4);
    assert_int_equal(qv_unique_prefix("la", qv_name_of_strv, names, c, sizeof c), 1);
    /* "log" is exact although "logz" also starts with it */
    assert_int_equal(qv_unique_prefix("log", qv_name_of_strv, names, c, sizeof c), 2);
    assert_int_equal(qv_unique_prefix("lo", qv_name_of_strv, names, c, sizeof c), -2);
    assert_string_equal(c, "loss, log, logz");
    assert_int_equal(qv_unique_prefix("x", qv_name_of_strv, names, c, sizeof c), -1);
    assert_string_equal(c, "loss, latent, log, logz, digits");
    /* a full candidate buffer is cut at a whole name, never mid-name */
    char small[12];
    assert_int_equal(qv_unique_prefix("l", qv_name_of_strv, names, small, sizeof small), -2);
    assert_string_equal(small, "loss");
    assert_int_equal(qv_unique_prefix("", qv_name_of_strv, (const char *const[]){"only", NULL}, NULL, 0), 0);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void read_back(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t r = fread(buf, 1, n - 1, f);
    buf[r] = 0;
    fclose(f);
}

static void test_atomic(void **st)
{
    (void)st;
    char dir[1100], path[1200], got[64];
    snprintf(dir, sizeof dir, "%s/atomic", tmpdir);
    assert_int_equal(qv_mkdirs(dir), 0);
    snprintf(path, sizeof path, "%s/f.txt", dir);
    /* written in parts, committed: exactly the parts, and only the target in the folder */
    struct qv_atomic a;
    assert_int_equal(qv_atomic_open(&a, path), 0);
    assert_int_equal(qv_atomic_write(&a, "hello ", 6), 0);
    assert_int_equal(qv_atomic_write(&a, "world", 5), 0);
    assert_int_equal(qv_atomic_commit(&a), 0);
    read_back(path, got, sizeof got);
    assert_string_equal(got, "hello world");
    assert_int_equal(count_entries(dir), 1);
    /* aborted: the old content stays, the temporary is gone; abort twice is harmless */
    assert_int_equal(qv_atomic_open(&a, path), 0);
    assert_int_equal(qv_atomic_write(&a, "half", 4), 0);
    qv_atomic_abort(&a);
    qv_atomic_abort(&a);
    read_back(path, got, sizeof got);
    assert_string_equal(got, "hello world");
    assert_int_equal(count_entries(dir), 1);
    /* writing after the end is refused with the path named */
    assert_int_equal(qv_atomic_write(&a, "x", 1), -1);
    assert_non_null(strstr(qv_errmsg(), path));
    /* the one-shot form replaces the file */
    assert_int_equal(qv_write_file_atomic(path, "new", 3), 0);
    read_back(path, got, sizeof got);
    assert_string_equal(got, "new");
    /* a missing folder: an error naming the target, nothing created */
    char bad[1300];
    snprintf(bad, sizeof bad, "%s/missing/f.txt", dir);
    assert_int_equal(qv_write_file_atomic(bad, "x", 1), -1);
    assert_non_null(strstr(qv_errmsg(), bad));
    assert_non_null(strstr(qv_errmsg(), "No such file"));
    assert_int_equal(count_entries(dir), 1);
    /* the target is a folder: rename fails, the temporary is removed */
    char sub[1300];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(qv_write_file_atomic(sub, "x", 1), -1);
    assert_non_null(strstr(qv_errmsg(), sub));
    assert_int_equal(count_entries(dir), 2);   /* f.txt and adir, no temporary */
}

int main(void)
{
    const char *t = getenv("QVAE_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_qv.%d", t && *t ? t : "/tmp", (int)getpid());
    mkdir(tmpdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique_prefix),
        cmocka_unit_test(test_atomic),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {}
    return rc;
}
