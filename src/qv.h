/* qv.h — what every engine module shares: allocation that fails fast, the thread-local error
 * message, small string helpers, and the fixed-width types.
 *
 * Error convention (whole engine): a function that can fail returns int (0 ok, -1 error) or a
 * pointer (NULL on error) and, on error, has called qv_seterr() with one line naming the thing
 * (file, command, parameter) and the problem.  Callers either pass the failure up unchanged or
 * prefix context with qv_preferr().  The command layer prints "error: <message>".  Library code
 * never calls exit().  The message buffer is thread-local, so worker threads do not race the UI. */
#ifndef QV_H
#define QV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

#define QV_VERSION "0.1.0"
#define QV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define QV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define QV_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define QV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define QV_PRINTF(f, a)
#endif

/* Allocation: abort with a message on exhaustion (nothing sensible can continue), reject
 * size overflow.  Sizes that come from user input must be checked with qv_size_ok() first so
 * that "too large for memory" is a normal error, not an abort. */
void *qv_malloc(size_t n);
void *qv_calloc(size_t count, size_t size);
void *qv_realloc(void *p, size_t n);
void *qv_mallocarray(size_t count, size_t size);
char *qv_strdup(const char *s);
/* 64-byte aligned, zeroed; free with qv_free_aligned (= free). */
void *qv_alloc_aligned(size_t n);
#define qv_free_aligned free
/* true when count*size fits and is below a sane cap (limit bytes); else sets an error. */
bool qv_size_ok(size_t count, size_t size, size_t limit, const char *what);

/* Thread-local last error. */
int qv_seterr(const char *fmt, ...) QV_PRINTF(1, 2);   /* always returns -1 */
int qv_preferr(const char *fmt, ...) QV_PRINTF(1, 2);  /* "ctx: old message"; returns -1 */
const char *qv_errmsg(void);
void qv_clearerr(void);

/* Strict number parsing: whole string must be a finite number / integer in range. */
int qv_parse_double(const char *s, double *out);
int qv_parse_long(const char *s, long *out);

/* Paths. qv_home(): the install root (QVAE_HOME env, else compiled-in source dir);
 * qv_data_dir(): QVAE_DATA or <home>/data; qv_state_dir(): $XDG_STATE_HOME/qvae or
 * ~/.local/state/qvae (history); qv_shared_dir(): QVAE_SHARED or <home>/../shared (tests and
 * benchmarks only; the product never depends on it). Returned strings are static. */
const char *qv_home(void);
const char *qv_data_dir(void);
const char *qv_state_dir(void);
const char *qv_shared_dir(void);
/* Unique-prefix matching, the one rule for command words, panel and sampler names: an exact
 * name wins, else the only name that starts with word.  at(list, i) gives the i-th name (NULL
 * ends the list; a NULL list element may be skipped by returning ""), so tables of any shape can
 * be searched.  Returns the index, -1 when nothing matches, -2 when several names do; cands (may
 * be NULL) then receives the candidates, or on -1 every name, as "a, b, c" (whole names only
 * when cn is too small). */
typedef const char *(*qv_name_at)(const void *list, int i);
int qv_unique_prefix(const char *word, qv_name_at at, const void *list, char *cands, size_t cn);
/* at() for a NULL-terminated array of strings. */
const char *qv_name_of_strv(const void *list, int i);

/* snprintf into buf; error if truncated. */
int qv_path(char *buf, size_t n, const char *fmt, ...) QV_PRINTF(3, 4);
int qv_mkdirs(const char *path);            /* mkdir -p */
bool qv_file_exists(const char *path);

/* Read a whole file (transparently gunzips .gz or gzip-magic files when gunzip is true).
 * *out is malloc'ed with a terminating NUL after *len bytes. */
int qv_read_file(const char *path, bool gunzip, unsigned char **out, size_t *len);
/* Atomic files, the one way the engine replaces a file: a temporary "<path>.tmp.<pid>" in the
 * same folder is written, fsync'ed, renamed over path, and the folder fsync'ed, so a reader (or
 * a crash) sees the old file or the whole new one, never a part.  The folder sync is best
 * effort: once renamed, the file counts as written.  Usage: qv_atomic_open, any number of
 * qv_atomic_write, then qv_atomic_commit; on an error of one's own, qv_atomic_abort.  Every
 * failing call has removed the temporary and set an error naming path. */
struct qv_atomic {
    int fd;              /* the temporary, open for writing; -1 once committed or aborted */
    char path[4096];     /* the target */
    char tmp[4200];      /* the temporary beside it */
};
int qv_atomic_open(struct qv_atomic *a, const char *path);
int qv_atomic_write(struct qv_atomic *a, const void *data, size_t len);
int qv_atomic_commit(struct qv_atomic *a);
void qv_atomic_abort(struct qv_atomic *a);   /* safe after a failed call or twice */
/* The whole file in one go (open, write, commit). */
int qv_write_file_atomic(const char *path, const void *data, size_t len);
/* fsync a folder, so renames and creations in it reach the disk. */
int qv_fsync_dir(const char *dir);
/* Line-by-line parsing of a NUL-terminated text buffer (modified in place): returns the next
 * line with its newline and any '#' comment cut off, and advances *cursor; NULL at the end. */
char *qv_next_line(char **cursor);

uint32_t qv_crc32(const void *data, size_t len);
double qv_now(void);       /* monotonic seconds */
double qv_cpu_now(void);   /* this process's CPU seconds, all threads */

/* Online CPUs (read once per process; at least 1). */
int qv_ncpu(void);
/* Run fn(ctx, job) for job = 0..njobs-1 over nthreads threads (static contiguous partition, the
 * calling thread takes the first share).  Falls back to serial work for any thread that cannot
 * start, so the result never depends on whether threads were available. */
void qv_parallel(int nthreads, long njobs, void (*fn)(void *ctx, long job), void *ctx);

#endif
