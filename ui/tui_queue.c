/* tui_queue.c — the queue between the engine (any thread, through the TUI's sink) and the UI
 * thread: a mutex-protected linked list of copied log lines and events, plus a self-pipe whose
 * read end the UI thread polls.  Payloads are copied on push because event pointers are only
 * valid during the sink call (app.h). */
#include "tui_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tq_init(struct tui_queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    if (pipe(q->wake_fd) != 0) {
        q->wake_fd[0] = q->wake_fd[1] = -1;
        return qv_seterr("tui: pipe: %s", strerror(errno));
    }
    for (int i = 0; i < 2; i++) {
        fcntl(q->wake_fd[i], F_SETFL, fcntl(q->wake_fd[i], F_GETFL) | O_NONBLOCK);
        fcntl(q->wake_fd[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

void tq_item_free(struct tq_item *it)
{
    if (!it)
        return;
    free(it->text);
    free(it->text2);
    free(it->values);
    free(it->values2);
    tui_snapshot_free(it->snap);
    free(it);
}

void tq_free(struct tui_queue *q)
{
    long d;
    struct tq_item *it = tq_take_all(q, &d);
    while (it) {
        struct tq_item *nx = it->next;
        tq_item_free(it);
        it = nx;
    }
    for (int i = 0; i < 2; i++)
        if (q->wake_fd[i] >= 0)
            close(q->wake_fd[i]);
    q->wake_fd[0] = q->wake_fd[1] = -1;
    pthread_mutex_destroy(&q->mu);
}

void tq_wake(struct tui_queue *q)
{
    if (q->wake_fd[1] >= 0) {
        char c = 1;
        ssize_t r = write(q->wake_fd[1], &c, 1);   /* EAGAIN: already awake enough */
        (void)r;
    }
}

static void push(struct tui_queue *q, struct tq_item *it)
{
    pthread_mutex_lock(&q->mu);
    if (it->kind == TQ_EVENT &&
        (it->ev.kind == QV_EV_IMAGES || it->ev.kind == QV_EV_ACTIVITY || it->ev.kind == QV_EV_PROGRESS)) {
        /* newest wins: replace a pending event of the same kind in place */
        for (struct tq_item *p = q->head; p; p = p->next) {
            if (p->kind == TQ_EVENT && p->ev.kind == it->ev.kind) {
                struct tq_item *nx = p->next;
                free(p->text); free(p->text2); free(p->values); free(p->values2);
                *p = *it;
                p->next = nx;
                free(it);
                pthread_mutex_unlock(&q->mu);
                tq_wake(q);
                return;
            }
        }
    }
    if (it->kind == TQ_LOG && q->count >= TQ_MAX_PENDING) {
        q->dropped++;
        pthread_mutex_unlock(&q->mu);
        tq_item_free(it);
        return;
    }
    it->next = NULL;
    if (q->tail) q->tail->next = it;
    else q->head = it;
    q->tail = it;
    q->count++;
    pthread_mutex_unlock(&q->mu);
    tq_wake(q);
}

void tq_push_log(struct tui_queue *q, enum qv_level level, const char *line)
{
    struct tq_item *it = qv_calloc(1, sizeof *it);
    it->kind = TQ_LOG;
    it->level = level;
    it->text = qv_strdup(line ? line : "");
    push(q, it);
}

void tq_push_event(struct tui_queue *q, const struct qv_event *ev)
{
    struct tq_item *it = qv_calloc(1, sizeof *it);
    it->kind = TQ_EVENT;
    it->ev = *ev;
    it->text = ev->job ? qv_strdup(ev->job) : NULL;
    it->text2 = ev->unit ? qv_strdup(ev->unit) : NULL;
    size_t n = 0;
    if (ev->kind == QV_EV_IMAGES && ev->n > 0 && ev->h > 0 && ev->w > 0 && ev->values)
        n = (size_t)ev->n * (size_t)ev->h * (size_t)ev->w;
    else if (ev->kind == QV_EV_ACTIVITY && ev->n > 0 && ev->values)
        n = (size_t)ev->n;
    else if (ev->kind == QV_EV_HIST && ev->n > 0 && ev->w > 0 && ev->values)
        n = (size_t)ev->n * (size_t)ev->w;
    if (n) {
        it->values = qv_mallocarray(n, sizeof(float));
        memcpy(it->values, ev->values, n * sizeof(float));
        if (ev->kind == QV_EV_ACTIVITY && ev->values2) {
            it->values2 = qv_mallocarray(n, sizeof(float));
            memcpy(it->values2, ev->values2, n * sizeof(float));
        }
    }
    it->ev.job = it->text;
    it->ev.unit = it->text2;
    it->ev.values = it->values;
    it->ev.values2 = it->values2;
    push(q, it);
}

void tq_push_snapshot(struct tui_queue *q, struct tui_snapshot *snap)
{
    struct tq_item *it = qv_calloc(1, sizeof *it);
    it->kind = TQ_SNAPSHOT;
    it->snap = snap;
    push(q, it);
}

void tq_push_jobend(struct tui_queue *q, int rc)
{
    struct tq_item *it = qv_calloc(1, sizeof *it);
    it->kind = TQ_JOBEND;
    it->rc = rc;
    push(q, it);
}

struct tq_item *tq_take_all(struct tui_queue *q, long *dropped)
{
    pthread_mutex_lock(&q->mu);
    struct tq_item *h = q->head;
    q->head = q->tail = NULL;
    q->count = 0;
    *dropped = q->dropped;
    q->dropped = 0;
    pthread_mutex_unlock(&q->mu);
    if (q->wake_fd[0] >= 0) {
        char buf[256];
        while (read(q->wake_fd[0], buf, sizeof buf) > 0) {}
    }
    return h;
}
