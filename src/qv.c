/* qv.c — allocation, the thread-local error message, number parsing, paths and whole-file I/O
 * shared by every engine module (see qv.h for the conventions). */
#include "qv.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static _Noreturn void qv_oom(size_t n)
{
    fprintf(stderr, "qvae: out of memory allocating %zu bytes\n", n);
    abort();
}

void *qv_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) qv_oom(n);
    return p;
}

void *qv_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) qv_oom(count * size);
    return p;
}

void *qv_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) qv_oom(n);
    return q;
}

void *qv_mallocarray(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) qv_oom(SIZE_MAX);
    return qv_malloc(count * size);
}

char *qv_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = qv_malloc(n);
    memcpy(d, s, n);
    return d;
}

void *qv_alloc_aligned(size_t n)
{
    size_t r = (n + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, r ? r : 64);
    if (!p) qv_oom(n);
    memset(p, 0, r ? r : 64);
    return p;
}

bool qv_size_ok(size_t count, size_t size, size_t limit, const char *what)
{
    if (size && count > SIZE_MAX / size) {
        qv_seterr("%s: size overflows", what);
        return false;
    }
    if (count * size > limit) {
        qv_seterr("%s: needs %.1f GiB, more than the %.1f GiB allowed", what,
                  (double)count * (double)size / 1073741824.0, (double)limit / 1073741824.0);
        return false;
    }
    return true;
}

/* ---- errors ---- */

static _Thread_local char qv_err_buf[1024];

int qv_seterr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(qv_err_buf, sizeof qv_err_buf, fmt, ap);
    va_end(ap);
    return -1;
}

int qv_preferr(const char *fmt, ...)
{
    char pre[512], old[sizeof qv_err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, qv_err_buf, sizeof old);
    if (snprintf(qv_err_buf, sizeof qv_err_buf, "%s: %s", pre, old[0] ? old : "failed") < 0)
        qv_err_buf[0] = 0;
    return -1;
}

const char *qv_errmsg(void) { return qv_err_buf[0] ? qv_err_buf : "unknown error"; }
void qv_clearerr(void) { qv_err_buf[0] = 0; }

/* ---- numbers ---- */

int qv_parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s) return qv_seterr("empty number");
    errno = 0;
    double v = strtod(s, &end);
    if (*end || end == s) return qv_seterr("'%s' is not a number", s);
    if (errno == ERANGE || !isfinite(v)) return qv_seterr("'%s' is not a finite number", s);
    *out = v;
    return 0;
}

int qv_parse_long(const char *s, long *out)
{
    char *end;
    if (!s || !*s) return qv_seterr("empty number");
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || end == s) {
        /* accept "1e5" style integers that are exact */
        double d;
        if (qv_parse_double(s, &d) == 0 && d == floor(d) && fabs(d) < 9.0e15) {
            *out = (long)d;
            return 0;
        }
        return qv_seterr("'%s' is not an integer", s);
    }
    if (errno == ERANGE) return qv_seterr("'%s' is out of range", s);
    *out = v;
    return 0;
}

/* ---- paths ---- */

const char *qv_home(void)
{
    static char buf[PATH_MAX];
    const char *e = getenv("QVAE_HOME");
    if (e && *e) return e;
    if (!buf[0]) {
#ifdef QVAE_HOME
        snprintf(buf, sizeof buf, "%s", QVAE_HOME);
#else
        snprintf(buf, sizeof buf, ".");
#endif
    }
    return buf;
}

const char *qv_data_dir(void)
{
    static _Thread_local char buf[PATH_MAX];
    const char *e = getenv("QVAE_DATA");
    if (e && *e) return e;
    if (snprintf(buf, sizeof buf, "%s/data", qv_home()) >= (int)sizeof buf) return "data";
    return buf;
}

const char *qv_state_dir(void)
{
    static _Thread_local char buf[PATH_MAX];
    const char *e = getenv("XDG_STATE_HOME");
    if (e && *e) {
        snprintf(buf, sizeof buf, "%s/qvae", e);
    } else {
        const char *h = getenv("HOME");
        snprintf(buf, sizeof buf, "%s/.local/state/qvae", h && *h ? h : ".");
    }
    return buf;
}

const char *qv_shared_dir(void)
{
    static _Thread_local char buf[PATH_MAX];
    const char *e = getenv("QVAE_SHARED");
    if (e && *e) return e;
    if (snprintf(buf, sizeof buf, "%s/../shared", qv_home()) >= (int)sizeof buf) return "../shared";
    return buf;
}

int qv_path(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= n) return qv_seterr("path too long");
    return 0;
}

int qv_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    if (qv_path(tmp, sizeof tmp, "%s", path)) return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST) return qv_seterr("%s: %s", tmp, strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) && errno != EEXIST) return qv_seterr("%s: %s", tmp, strerror(errno));
    return 0;
}

bool qv_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- files ---- */

static int read_plain(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return qv_seterr("%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = qv_malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = qv_realloc(buf, cap + 1);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return qv_seterr("%s: read error", path);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

/* gunzip a buffer holding one or more gzip members; truncated or corrupt input is an error. */
static int gunzip_buf(const char *path, const unsigned char *in, size_t inlen, unsigned char **out,
                      size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return qv_seterr("%s: zlib init failed", path);
    size_t cap = inlen * 4 + 1024, n = 0;
    unsigned char *buf = qv_malloc(cap + 1);
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)inlen;
    int rc;
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = qv_realloc(buf, cap + 1);
        }
        zs.next_out = buf + n;
        zs.avail_out = (uInt)(cap - n);
        rc = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0) break;
            /* concatenated members */
            if (inflateReset(&zs) != Z_OK) break;
            continue;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && zs.avail_out != 0) {
            inflateEnd(&zs);
            free(buf);
            return qv_seterr("%s: truncated gzip data", path);
        }
        if (rc == Z_BUF_ERROR) continue;
        inflateEnd(&zs);
        free(buf);
        return qv_seterr("%s: corrupt gzip data (%s)", path, zs.msg ? zs.msg : "inflate error");
    }
    inflateEnd(&zs);
    buf[n] = 0;
    *out = buf;
    *outlen = n;
    return 0;
}

int qv_read_file(const char *path, bool gunzip, unsigned char **out, size_t *len)
{
    unsigned char *raw = NULL;
    size_t n = 0;
    if (read_plain(path, &raw, &n)) return -1;
    if (gunzip && n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        int r = gunzip_buf(path, raw, n, out, len);
        free(raw);
        return r;
    }
    *out = raw;
    *len = n;
    return 0;
}

char *qv_next_line(char **cursor)
{
    char *p = *cursor;
    if (!*p) return NULL;
    char *eol = strchr(p, '\n');
    *cursor = eol ? eol + 1 : p + strlen(p);
    if (eol) *eol = 0;
    char *hash = strchr(p, '#');
    if (hash) *hash = 0;
    return p;
}

const char *qv_name_of_strv(const void *list, int i) { return ((const char *const *)list)[i]; }

int qv_unique_prefix(const char *word, qv_name_at at, const void *list, char *cands, size_t cn)
{
    size_t wl = strlen(word), o = 0;
    int hit = -1, nhit = 0;
    const char *nm;
    for (int i = 0; (nm = at(list, i)); i++) {
        if (!*nm) continue;
        if (!strcmp(nm, word)) return i;
        if (!strncmp(nm, word, wl)) {
            hit = i;
            nhit++;
        }
    }
    if (nhit == 1) return hit;
    if (cands && cn) {   /* the candidates, or every name when none matched */
        cands[0] = 0;
        for (int i = 0; (nm = at(list, i)); i++) {
            if (!*nm || (nhit && strncmp(nm, word, wl))) continue;
            int w = snprintf(cands + o, cn - o, "%s%s", o ? ", " : "", nm);
            if (w < 0 || (size_t)w >= cn - o) {
                cands[o] = 0;   /* whole names only */
                break;
            }
            o += (size_t)w;
        }
    }
    return nhit ? -2 : -1;
}

int qv_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return qv_seterr("%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* some file systems cannot sync a folder (EINVAL): the rename is then as durable as it gets */
    if (rc && e != EINVAL) return qv_seterr("%s: %s", dir, strerror(e));
    return 0;
}

int qv_atomic_open(struct qv_atomic *a, const char *path)
{
    a->fd = -1;
    if (qv_path(a->path, sizeof a->path, "%s", path) ||
        qv_path(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid()))
        return -1;
    a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (a->fd < 0) return qv_seterr("%s: %s", path, strerror(errno));
    return 0;
}

void qv_atomic_abort(struct qv_atomic *a)
{
    if (a->fd < 0) return;
    close(a->fd);
    unlink(a->tmp);
    a->fd = -1;
}

/* Abort with errno e as the reason. */
static int atomic_fail(struct qv_atomic *a, int e)
{
    qv_atomic_abort(a);
    return qv_seterr("%s: %s", a->path, strerror(e));
}

int qv_atomic_write(struct qv_atomic *a, const void *data, size_t len)
{
    if (a->fd < 0) return qv_seterr("%s: write after the file was closed", a->path);
    const unsigned char *p = data;
    while (len) {
        ssize_t w = write(a->fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return atomic_fail(a, errno);
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int qv_atomic_commit(struct qv_atomic *a)
{
    if (a->fd < 0) return qv_seterr("%s: commit after the file was closed", a->path);
    if (fsync(a->fd)) return atomic_fail(a, errno);
    int fd = a->fd;
    a->fd = -1;
    if (close(fd) || rename(a->tmp, a->path)) {
        int e = errno;
        unlink(a->tmp);
        return qv_seterr("%s: %s", a->path, strerror(e));
    }
    /* the new file is in place: syncing the folder makes the rename durable, but its failure
     * must not turn a completed replacement into an error (callers would undo their work) */
    char dir[sizeof a->path];
    memcpy(dir, a->path, sizeof dir);
    if (qv_fsync_dir(dirname(dir))) qv_clearerr();
    return 0;
}

int qv_write_file_atomic(const char *path, const void *data, size_t len)
{
    struct qv_atomic a;
    if (qv_atomic_open(&a, path) || qv_atomic_write(&a, data, len)) return -1;
    return qv_atomic_commit(&a);
}

uint32_t qv_crc32(const void *data, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *p = data;
    while (len) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)c;
}

double qv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double qv_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int qv_ncpu(void)
{
    static atomic_int cached;   /* sysconf reads /sys: once per process is enough */
    int n = atomic_load(&cached);
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)QV_MIN(c, 1024) : 1;
        atomic_store(&cached, n);
    }
    return n;
}

struct par_arg {
    void (*fn)(void *ctx, long job);
    void *ctx;
    long lo, hi;
};

static void par_run(const struct par_arg *a)
{
    for (long j = a->lo; j < a->hi; j++) a->fn(a->ctx, j);
}

static void *par_main(void *p)
{
    par_run(p);
    return NULL;
}

/* A pool of worker threads kept for the process: starting and joining threads costs ~20-50 µs a
 * call, and a training step makes four parallel calls (blocks, reduction, Adam, the PCD
 * sampler).  One caller at a time uses the pool (try-lock); a second one meanwhile (another
 * thread, or a job calling qv_parallel itself) starts threads of its own as before.  Workers
 * block every signal (the UI's SIGWINCH must reach the thread that reads the terminal) and,
 * after a short spin (par_spin), sleep on a condition variable between calls. */
#define PAR_POOL_MAX 64
static struct {
    pthread_mutex_t use;        /* held by the caller whose work the pool runs */
    pthread_mutex_t m;
    pthread_cond_t go, done;
    int nworkers;
    _Atomic unsigned long gen;  /* bumped per call: workers run args[1 + their index] */
    int nargs;
    _Atomic unsigned long pending;   /* workers still running the call */
    const struct par_arg *args;
} par_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
              PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL};

/* Bounded busy-waits of the pool: up to PAR_SPIN_S seconds before a thread falls back to its
 * condition variable.  A training step's parallel calls come tens to hundreds of microseconds
 * apart, and waking a sleeping thread — on a virtual machine, a halted vCPU — costs as much as a
 * short call's work (measured: Adam on 2 threads 0.78 ms against 0.87 ms on one). */
#define PAR_SPIN_S 200e-6
static inline void qv_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spins until (*x == v) == equal, or PAR_SPIN_S seconds have passed (the caller then sleeps). */
static void par_spin(const _Atomic unsigned long *x, unsigned long v, bool equal)
{
    const double t0 = qv_now();
    for (int i = 1; (atomic_load_explicit(x, memory_order_acquire) == v) != equal; i++) {
        qv_cpu_relax();
        if (i % 64 == 0 && qv_now() - t0 > PAR_SPIN_S) return;
    }
}

static void *par_worker(void *p)
{
    const int me = (int)(intptr_t)p;   /* runs args[me + 1] */
    unsigned long seen = 0;
    pthread_mutex_lock(&par_pool.m);
    for (;;) {
        if (par_pool.gen == seen) {
            /* the next call of a training step comes within tens of microseconds: watch for it
             * a little before sleeping (waking a sleeping vCPU costs as much as a call's work) */
            pthread_mutex_unlock(&par_pool.m);
            par_spin(&par_pool.gen, seen, false);
            pthread_mutex_lock(&par_pool.m);
        }
        while (par_pool.gen == seen) pthread_cond_wait(&par_pool.go, &par_pool.m);
        seen = par_pool.gen;
        if (me + 1 >= par_pool.nargs) continue;
        const struct par_arg *a = &par_pool.args[me + 1];
        pthread_mutex_unlock(&par_pool.m);
        par_run(a);
        pthread_mutex_lock(&par_pool.m);
        if (--par_pool.pending == 0) pthread_cond_signal(&par_pool.done);
    }
    return NULL;
}

/* Grow the pool to n workers (the caller holds par_pool.use); false if a thread would not start. */
static bool par_pool_grow(int n)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* inherited by the workers */
    bool ok = true;
    while (par_pool.nworkers < n && ok) {
        pthread_t t;
        ok = pthread_create(&t, NULL, par_worker, (void *)(intptr_t)par_pool.nworkers) == 0;
        if (ok) {
            pthread_detach(t);
            pthread_mutex_lock(&par_pool.m);
            par_pool.nworkers++;
            pthread_mutex_unlock(&par_pool.m);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

static void par_spawn(int nthreads, struct par_arg *args)
{
    pthread_t *tid = qv_mallocarray((size_t)nthreads, sizeof *tid);
    bool *started = qv_calloc((size_t)nthreads, sizeof *started);
    for (int t = 1; t < nthreads; t++)
        started[t] = pthread_create(&tid[t], NULL, par_main, &args[t]) == 0;
    par_run(&args[0]);
    for (int t = 1; t < nthreads; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        else par_run(&args[t]);   /* could not start a thread: do its share here */
    }
    free(started);
    free(tid);
}

void qv_parallel(int nthreads, long njobs, void (*fn)(void *ctx, long job), void *ctx)
{
    if (nthreads > njobs) nthreads = (int)njobs;
    if (nthreads <= 1) {
        for (long j = 0; j < njobs; j++) fn(ctx, j);
        return;
    }
    struct par_arg *args = qv_mallocarray((size_t)nthreads, sizeof *args);
    for (int t = 0; t < nthreads; t++)
        args[t] = (struct par_arg){fn, ctx, njobs * t / nthreads, njobs * (t + 1) / nthreads};
    if (nthreads - 1 > PAR_POOL_MAX || pthread_mutex_trylock(&par_pool.use) != 0) {
        par_spawn(nthreads, args);
        free(args);
        return;
    }
    if (!par_pool_grow(nthreads - 1)) {
        pthread_mutex_unlock(&par_pool.use);
        par_spawn(nthreads, args);
        free(args);
        return;
    }
    pthread_mutex_lock(&par_pool.m);
    par_pool.args = args;
    par_pool.nargs = nthreads;
    par_pool.pending = nthreads - 1;
    par_pool.gen++;
    pthread_cond_broadcast(&par_pool.go);
    pthread_mutex_unlock(&par_pool.m);
    par_run(&args[0]);
    par_spin(&par_pool.pending, 0, true);
    pthread_mutex_lock(&par_pool.m);
    while (par_pool.pending > 0) pthread_cond_wait(&par_pool.done, &par_pool.m);
    par_pool.args = NULL;
    pthread_mutex_unlock(&par_pool.m);
    pthread_mutex_unlock(&par_pool.use);
    free(args);
}
