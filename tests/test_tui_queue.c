/* test_tui_queue.c — the TUI's event plumbing without a terminal: the sink queue copies
 * payloads (the engine's buffers may change right after the call), keeps order, coalesces image
 * and activity events (newest wins), caps pending log lines, wakes the UI through its pipe, and
 * survives concurrent producers; the metric history restarts when the step counter goes back;
 * `view` settings strings are applied. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui_priv.h"

static int count_items(struct tq_item *it, int kind)
{
    int n = 0;
    for (; it; it = it->next)
        if ((int)it->kind == kind) n++;
    return n;
}

static void free_items(struct tq_item *it)
{
    while (it) {
        struct tq_item *nx = it->next;
        tq_item_free(it);
        it = nx;
    }
}

static void test_copy_order_coalesce(void **state)
{
    (void)state;
    struct tui_queue q;
    assert_int_equal(tq_init(&q), 0);
    tq_push_log(&q, QV_LOG_INFO, "first");
    float pix[4] = { 0.1f, 0.2f, 0.3f, 0.4f };
    char title[16] = "epoch 1";
    struct qv_event ev = { .kind = QV_EV_IMAGES, .job = title, .n = 1, .h = 2, .w = 2, .values = pix };
    tq_push_event(&q, &ev);
    /* the producer reuses its buffers at once: the queued copy must not change */
    pix[0] = 9;
    strcpy(title, "changed");
    tq_push_log(&q, QV_LOG_ERROR, "second");
    float pix2[4] = { 1, 1, 1, 1 };
    struct qv_event ev2 = { .kind = QV_EV_IMAGES, .job = "epoch 2", .n = 1, .h = 2, .w = 2, .values = pix2 };
    tq_push_event(&q, &ev2);   /* replaces the pending image event in place */
    struct qv_event m = { .kind = QV_EV_METRICS };
    m.m.step = 3;
    tq_push_event(&q, &m);
    tq_push_event(&q, &m);     /* metrics are never coalesced */

    struct pollfd p = { .fd = q.wake_fd[0], .events = POLLIN };
    assert_int_equal(poll(&p, 1, 0), 1);   /* the UI thread would wake */

    long dropped = -1;
    struct tq_item *it = tq_take_all(&q, &dropped);
    assert_int_equal(dropped, 0);
    assert_int_equal(poll(&p, 1, 0), 0);   /* pipe drained */
    assert_int_equal(count_items(it, TQ_LOG), 2);
    assert_int_equal(count_items(it, TQ_EVENT), 3);
    struct tq_item *a = it;
    assert_int_equal(a->kind, TQ_LOG);
    assert_string_equal(a->text, "first");
    a = a->next;
    assert_int_equal(a->kind, TQ_EVENT);
    assert_int_equal(a->ev.kind, QV_EV_IMAGES);
    assert_string_equal(a->ev.job, "epoch 2");              /* newest image won */
    assert_float_equal(a->ev.values[0], 1.0, 0);
    assert_ptr_not_equal(a->ev.values, pix2);                /* a copy */
    a = a->next;
    assert_string_equal(a->text, "second");
    assert_int_equal(a->level, QV_LOG_ERROR);
    free_items(it);

    /* a single image event keeps its own copy */
    pix[0] = 0.5f;
    struct qv_event ev3 = { .kind = QV_EV_IMAGES, .job = title, .n = 1, .h = 2, .w = 2, .values = pix };
    tq_push_event(&q, &ev3);
    pix[0] = 7;
    it = tq_take_all(&q, &dropped);
    assert_float_equal(it->ev.values[0], 0.5, 1e-7);
    free_items(it);
    tq_free(&q);
}

static void test_log_cap(void **state)
{
    (void)state;
    struct tui_queue q;
    assert_int_equal(tq_init(&q), 0);
    for (int i = 0; i < TQ_MAX_PENDING + 10; i++)
        tq_push_log(&q, QV_LOG_INFO, "x");
    long dropped = 0;
    struct tq_item *it = tq_take_all(&q, &dropped);
    assert_int_equal(dropped, 10);
    assert_int_equal(count_items(it, TQ_LOG), TQ_MAX_PENDING);
    free_items(it);
    tq_free(&q);
}

struct prod { struct tui_queue *q; int id; };

static void *producer(void *arg)
{
    struct prod *p = arg;
    for (int i = 0; i < 2000; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d %d", p->id, i);
        tq_push_log(p->q, QV_LOG_INFO, buf);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct tui_queue q;
    assert_int_equal(tq_init(&q), 0);
    pthread_t th[3];
    struct prod pr[3];
    for (int k = 0; k < 3; k++) {
        pr[k].q = &q;
        pr[k].id = k;
        pthread_create(&th[k], NULL, producer, &pr[k]);
    }
    /* consume concurrently: each producer's lines arrive complete and in order */
    int next[3] = { 0, 0, 0 }, total = 0;
    while (total < 6000) {
        long d;
        struct tq_item *it = tq_take_all(&q, &d);
        assert_int_equal(d, 0);
        for (struct tq_item *x = it; x; x = x->next) {
            int id, i;
            assert_int_equal(sscanf(x->text, "%d %d", &id, &i), 2);
            assert_int_equal(i, next[id]);
            next[id]++;
            total++;
        }
        free_items(it);
    }
    for (int k = 0; k < 3; k++)
        pthread_join(th[k], NULL);
    tq_free(&q);
}

static void test_metrics_and_view(void **state)
{
    (void)state;
    struct tui_metrics m;
    memset(&m, 0, sizeof m);
    struct qv_metrics x = { .step = 1, .epoch = 0.1, .elbo = -200, .rec = -180, .kl = 20,
                            .val_elbo = NAN, .val_elbo_z = NAN, .val_ll = NAN, .active_units = -1 };
    for (int i = 1; i <= 3000; i++) {   /* grows past the first allocation */
        x.step = i;
        tui_metrics_add(&m, &x);
    }
    assert_int_equal(m.n, 3000);
    assert_float_equal(m.v[SER_ELBO][0], 200, 0);    /* plotted as a loss: −ELBO */
    assert_float_equal(m.v[SER_REC][0], 180, 0);
    assert_float_equal(m.v[SER_KL][0], 20, 0);
    assert_true(isnan(m.v[SER_VAL_LL][0]));
    x.step = 1;                                       /* a new run starts over */
    x.val_ll = -95;
    tui_metrics_add(&m, &x);
    assert_int_equal(m.n, 1);
    assert_float_equal(m.v[SER_VAL_LL][0], 95, 0);
    assert_true(isnan(m.v[SER_ELBO][0]));             /* epoch summary: train terms not plotted */
    tui_metrics_free(&m);

    struct tui *t = calloc(1, sizeof *t);
    tui_apply_view_opts(t, "logy=1 ema=0.9 window=200 x=epoch mean=1 edit=1 bogus junk=3");
    assert_true(t->lopt.logy);
    assert_float_equal(t->lopt.ema, 0.9, 1e-12);
    assert_int_equal(t->lopt.window, 200);
    assert_true(t->lopt.x_epoch);
    assert_true(t->lat_show_mean);
    assert_true(t->sched_edit);
    tui_apply_view_opts(t, "logy=0 ema=1.5 window=0 x=step mean=0");
    assert_false(t->lopt.logy);
    assert_float_equal(t->lopt.ema, 0, 0);           /* out of range: off */
    assert_int_equal(t->lopt.window, 0);
    assert_false(t->lopt.x_epoch);
    assert_false(t->lat_show_mean);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_order_coalesce),
        cmocka_unit_test(test_log_cap),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_metrics_and_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
