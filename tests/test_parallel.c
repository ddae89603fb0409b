/* test_parallel.c — qv_parallel (src/qv.c) with its persistent worker pool: every job runs
 * exactly once for any thread and job count, the calling thread takes the first share, two
 * callers at once (one gets the pool, the other its own threads) and calls from inside a job
 * (nested) do not deadlock or lose jobs, and the pool threads run with every signal blocked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "qv.h"

#define MAXJ 200
struct count { atomic_int hit[MAXJ]; pthread_t caller, job0; atomic_int blocked_ok; };

static void job_count(void *p, long j)
{
    struct count *c = p;
    atomic_fetch_add(&c->hit[j], 1);
    if (j == 0) c->job0 = pthread_self();   /* read after qv_parallel returned */
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    if (!pthread_equal(pthread_self(), c->caller) && !sigismember(&cur, SIGWINCH))
        atomic_store(&c->blocked_ok, 0);
}

static void check_once(struct count *c, long njobs)
{
    for (long j = 0; j < njobs; j++) assert_int_equal(atomic_load(&c->hit[j]), 1);
    for (long j = njobs; j < MAXJ; j++) assert_int_equal(atomic_load(&c->hit[j]), 0);
}

static void test_every_job_once(void **st)
{
    (void)st;
    for (int t = 1; t <= 9; t++)
        for (long n = 0; n <= 37; n += 1 + n / 4) {
            struct count *c = calloc(1, sizeof *c);
            c->caller = pthread_self();
            qv_parallel(t, n, job_count, c);
            check_once(c, n);
            if (n > 0) assert_true(pthread_equal(c->job0, pthread_self()));
            free(c);
        }
}

static void *caller(void *p)
{
    for (int r = 0; r < 300; r++) {
        struct count *c = calloc(1, sizeof *c);
        c->caller = pthread_self();
        qv_parallel(3, MAXJ, job_count, c);
        for (long j = 0; j < MAXJ; j++)
            if (atomic_load(&c->hit[j]) != 1) *(int *)p = 1;
        free(c);
    }
    return NULL;
}

static void test_two_callers(void **st)
{
    (void)st;
    int bad[2] = {0, 0};
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, caller, &bad[0]), 0);
    assert_int_equal(pthread_create(&b, NULL, caller, &bad[1]), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    assert_int_equal(bad[0], 0);
    assert_int_equal(bad[1], 0);
}

struct nest { atomic_int inner[8][16]; };
struct nest_arg { struct nest *n; long outer; };
static void inner_job(void *p, long j)
{
    struct nest_arg *a = p;
    atomic_fetch_add(&a->n->inner[a->outer][j], 1);
}
static void outer_job(void *p, long j)
{
    struct nest_arg a = {p, j};
    qv_parallel(2, 16, inner_job, &a);
}

static void test_nested(void **st)
{
    (void)st;
    struct nest *n = calloc(1, sizeof *n);
    qv_parallel(4, 8, outer_job, n);
    for (int o = 0; o < 8; o++)
        for (int j = 0; j < 16; j++) assert_int_equal(atomic_load(&n->inner[o][j]), 1);
    free(n);
}

static void test_pool_blocks_signals(void **st)
{
    (void)st;
    /* SIGWINCH unblocked here: the pool's threads must still block it */
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGWINCH);
    pthread_sigmask(SIG_UNBLOCK, &s, &old);
    struct count *c = calloc(1, sizeof *c);
    c->caller = pthread_self();
    atomic_store(&c->blocked_ok, 1);
    qv_parallel(4, 64, job_count, c);
    check_once(c, 64);
    assert_int_equal(atomic_load(&c->blocked_ok), 1);
    free(c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_job_once),
        cmocka_unit_test(test_two_callers),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_pool_blocks_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
