/* fetch.h — downloads with libcurl: retries with back-off, stall timeout, MD5 verification and
 * atomic placement (temporary file in the target folder, verified, then renamed), so a failed or
 * interrupted download never leaves a file that a loader would pick up.
 *
 * Errors (qv_seterr) name the URL and the problem: "URL: HTTP 404", "URL: connection refused",
 * "URL: timed out after 30 s", "URL: checksum mismatch (got md5 …, expected …)",
 * "URL: transfer stopped after N of M bytes". */
#ifndef QV_FETCH_H
#define QV_FETCH_H

#include "qv.h"

struct fetch_opts {
    int timeout_s;        /* connect timeout and stall timeout (no byte for this long); 30 */
    int retries;          /* further attempts after the first (not after HTTP 4xx); 3 */
    double backoff_s;     /* first pause between attempts, doubled each time; 1.0 */
    /* Progress of the current file (total 0 = unknown).  Return true to cancel.  May be NULL. */
    bool (*progress)(void *ud, const char *file, double done, double total);
    /* One-line notes ("retrying in 2 s: URL: HTTP 503").  May be NULL. */
    void (*note)(void *ud, const char *line);
    void *ud;
};
void fetch_opts_default(struct fetch_opts *o);

/* A known dataset: its files, their MD5 sums and the canonical mirrors. */
struct fetch_set {
    const char *name;            /* "mnist", "fashion-mnist" */
    const char *dir;             /* folder under the data dir: "mnist", "fashion-mnist" */
    const char *mirrors[4];      /* base URLs ending in '/', NULL-terminated */
    const char *files[4];        /* file names */
    const char *md5[4];          /* MD5 of each file as served (gzipped) */
};
const struct fetch_set *fetch_set_find(const char *name);   /* NULL (error set) if unknown */
const char *fetch_set_names(void);                          /* "mnist, fashion-mnist" */

/* Fetch all files of a set into data_dir/<set dir>/ from base_url (NULL: the mirrors in
 * turn).  All files are downloaded and verified before any is moved into place; files already
 * present with the right checksum are kept.  Returns the number of files downloaded or -1. */
int fetch_dataset(const struct fetch_set *set, const char *base_url, const char *data_dir,
                  const struct fetch_opts *o);

/* MD5 of a file as 32 lowercase hex digits (out[33]). */
int fetch_md5_file(const char *path, char out[33]);

#endif
