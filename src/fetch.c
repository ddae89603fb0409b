/* fetch.c — libcurl downloads with retries, stall timeouts, MD5 checks (OpenSSL EVP) and atomic
 * placement.  See fetch.h for the contract. */
#include "fetch.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Canonical mirrors and published MD5 sums of the gzipped files (MNIST: LeCun's page, as also
 * used by torchvision; Fashion-MNIST: zalandoresearch/fashion-mnist README). */
static const struct fetch_set fetch_sets[] = {
    {"mnist", "mnist",
     {"https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/", NULL},
     {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz"},
     {"f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
      "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"}},
    {"fashion-mnist", "fashion-mnist",
     {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", NULL},
     {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz"},
     {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
      "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"}},
};

const struct fetch_set *fetch_set_find(const char *name)
{
    for (size_t i = 0; i < QV_ARRAY_LEN(fetch_sets); i++)
        if (strcmp(fetch_sets[i].name, name) == 0) return &fetch_sets[i];
    qv_seterr("%s: unknown dataset (known: %s)", name, fetch_set_names());
    return NULL;
}

const char *fetch_set_names(void) { return "mnist, fashion-mnist"; }

void fetch_opts_default(struct fetch_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_s = 30;
    o->retries = 3;
    o->backoff_s = 1.0;
}

/* curl_global_init is reference-counted and thread-safe in libcurl ≥ 7.84 (Debian 12: 7.88),
 * so each download brackets itself with init/cleanup. */

/* ---------------------------------------------------------------- one attempt */

struct xfer {
    FILE *f;
    EVP_MD_CTX *md;
    const struct fetch_opts *o;
    const char *file;       /* for progress */
    bool cancelled, write_failed;
    int write_errno;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (fwrite(ptr, 1, n, x->f) != n) {
        x->write_failed = true;
        x->write_errno = errno;
        return 0;
    }
    EVP_DigestUpdate(x->md, ptr, n);
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct xfer *x = ud;
    if (x->o->progress && x->o->progress(x->o->ud, x->file, (double)dlnow, (double)dltotal)) {
        x->cancelled = true;
        return 1;
    }
    return 0;
}

static void md5_hex(EVP_MD_CTX *md, char out[33])
{
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md, dig, &n);
    for (unsigned i = 0; i < n && i < 16; i++) snprintf(out + 2 * i, 3, "%02x", dig[i]);
    out[32] = 0;
}

int fetch_md5_file(const char *path, char out[33])
{
    FILE *f = fopen(path, "rb");
    if (!f) return qv_seterr("%s: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_md5(), NULL)) {
        EVP_MD_CTX_free(md);
        fclose(f);
        return qv_seterr("%s: cannot start an MD5 digest (OpenSSL)", path);
    }
    unsigned char buf[1 << 16];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(md, buf, r);
    int bad = ferror(f);
    fclose(f);
    md5_hex(md, out);
    EVP_MD_CTX_free(md);
    return bad ? qv_seterr("%s: read error", path) : 0;
}

enum attempt_result { ATT_OK, ATT_RETRY, ATT_FATAL };

/* One GET of url into tmp (created/truncated).  On failure the error is set and tmp removed. */
static enum attempt_result attempt(const char *url, const char *tmp, const char *file,
                                   const char *md5_want, const struct fetch_opts *o)
{
    struct xfer x = {.o = o, .file = file};
    x.f = fopen(tmp, "wb");
    if (!x.f) {
        qv_seterr("%s: %s", tmp, strerror(errno));
        return ATT_FATAL;
    }
    x.md = EVP_MD_CTX_new();
    CURL *c = x.md && EVP_DigestInit_ex(x.md, EVP_md5(), NULL) ? curl_easy_init() : NULL;
    if (!c) {   /* out of memory or a broken OpenSSL/libcurl: retrying would not help */
        qv_seterr("%s: cannot start the download (%s failed)", url,
                  x.md ? "curl_easy_init" : "EVP_MD_CTX_new");
        EVP_MD_CTX_free(x.md);
        fclose(x.f);
        unlink(tmp);
        return ATT_FATAL;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "qvae/" QV_VERSION);
    long t = o->timeout_s > 0 ? o->timeout_s : 30;
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t);
    /* a stall timeout, not a total one: a slow but moving download of 10 MB is fine */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, t);
    CURLcode rc = curl_easy_perform(c);
    long http = 0, oserr = 0;
    curl_off_t got = 0, want = -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &want);
    curl_easy_cleanup(c);
    /* flushed to the disk before the caller renames it into place: a crash after the rename
     * must not leave a verified name on an empty or partial file */
    bool closed_ok = fflush(x.f) == 0 && fsync(fileno(x.f)) == 0;
    closed_ok &= fclose(x.f) == 0;
    enum attempt_result res = ATT_OK;
    char got_md5[33];
    md5_hex(x.md, got_md5);
    EVP_MD_CTX_free(x.md);

    if (rc == CURLE_OK && !closed_ok) {
        qv_seterr("%s: %s", tmp, strerror(errno));
        res = ATT_FATAL;
    } else if (rc == CURLE_OK) {
        if (md5_want && strcasecmp(got_md5, md5_want) != 0) {
            qv_seterr("%s: checksum mismatch (got md5 %s, expected %s)", url, got_md5, md5_want);
            res = ATT_RETRY;
        }
    } else if (x.cancelled || rc == CURLE_ABORTED_BY_CALLBACK) {
        qv_seterr("%s: cancelled", url);
        res = ATT_FATAL;
    } else if (x.write_failed) {
        qv_seterr("%s: %s", tmp, strerror(x.write_errno));
        res = ATT_FATAL;
    } else if (rc == CURLE_HTTP_RETURNED_ERROR) {
        qv_seterr("%s: HTTP %ld", url, http);
        res = http >= 500 || http == 408 || http == 429 ? ATT_RETRY : ATT_FATAL;
    } else if (rc == CURLE_COULDNT_CONNECT) {
        qv_seterr("%s: %s", url, oserr == ECONNREFUSED || oserr == 0 ? "connection refused"
                                                                        : strerror((int)oserr));
        res = ATT_RETRY;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        qv_seterr("%s: timed out after %ld s", url, t);
        res = ATT_RETRY;
    } else if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING) {
        if (want > 0)
            qv_seterr("%s: transfer stopped after %lld of %lld bytes", url, (long long)got,
                      (long long)want);
        else
            qv_seterr("%s: transfer stopped after %lld bytes (%s)", url, (long long)got,
                      *errbuf ? errbuf : curl_easy_strerror(rc));
        res = ATT_RETRY;
    } else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
        qv_seterr("%s: could not resolve host", url);
        res = ATT_RETRY;
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
        qv_seterr("%s: %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
        res = ATT_FATAL;
    } else {
        qv_seterr("%s: %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
        res = ATT_RETRY;
    }
    if (res != ATT_OK) unlink(tmp);
    return res;
}

/* Sleep s seconds in small steps; true if cancelled meanwhile (progress callback says so). */
static bool pause_s(double s, const struct fetch_opts *o, const char *file)
{
    double end = qv_now() + s;
    while (qv_now() < end) {
        if (o->progress && o->progress(o->ud, file, 0, 0)) return true;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void note(const struct fetch_opts *o, const char *fmt, ...) QV_PRINTF(2, 3);
static void note(const struct fetch_opts *o, const char *fmt, ...)
{
    if (!o->note) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->note(o->ud, buf);
}

/* Download with retries into tmp (verified on success). */
static int fetch_to_tmp(const char *const *urls, int nurls, const char *tmp, const char *file,
                        const char *md5_want, const struct fetch_opts *o)
{
    double wait = o->backoff_s > 0 ? o->backoff_s : 0;
    for (int u = 0; u < nurls; u++) {
        for (int k = 0; k <= (o->retries > 0 ? o->retries : 0); k++) {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            enum attempt_result r = attempt(urls[u], tmp, file, md5_want, o);
            curl_global_cleanup();
            if (r == ATT_OK) return 0;
            if (r == ATT_FATAL && strstr(qv_errmsg(), ": cancelled")) return -1;
            if (r == ATT_FATAL) break;   /* e.g. 404: try the next mirror */
            if (k < o->retries) {
                note(o, "retrying in %g s: %s", wait, qv_errmsg());
                if (pause_s(wait, o, file)) return qv_seterr("%s: cancelled", urls[u]);
                wait *= 2;
            }
        }
        if (u + 1 < nurls) note(o, "trying the next mirror after: %s", qv_errmsg());
    }
    return -1;
}

/* Remove ".<file>.part.<pid>" temporaries left by a fetch that was killed (its pid is gone). */
static void remove_stale_parts(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *p = strstr(e->d_name, ".part.");
        if (e->d_name[0] != '.' || !p) continue;
        char *end;
        long pid = strtol(p + 6, &end, 10);
        bool gone = *end == 0 && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        if (!gone) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

int fetch_dataset(const struct fetch_set *set, const char *base_url, const char *data_dir,
                  const struct fetch_opts *o)
{
    struct fetch_opts def;
    if (!o) {
        fetch_opts_default(&def);
        o = &def;
    }
    char dir[4096];
    if (qv_path(dir, sizeof dir, "%s/%s", data_dir, set->dir) || qv_mkdirs(dir)) return -1;
    remove_stale_parts(dir);
    char tmp[4][4096], dest[4][4096];
    bool need[4] = {false};
    int nget = 0;
    for (int i = 0; i < 4; i++) {
        if (qv_path(dest[i], sizeof dest[i], "%s/%s", dir, set->files[i]) ||
            qv_path(tmp[i], sizeof tmp[i], "%s/.%s.part.%ld", dir, set->files[i], (long)getpid()))
            return -1;
        char have[33];
        need[i] = !(qv_file_exists(dest[i]) && fetch_md5_file(dest[i], have) == 0 &&
                    strcmp(have, set->md5[i]) == 0);
        nget += need[i];
    }
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        if (!need[i]) continue;
        char urls[4][4096];
        const char *up[4];
        int nu = 0;
        if (base_url) {
            size_t bl = strlen(base_url);
            rc = qv_path(urls[0], sizeof urls[0], "%s%s%s", base_url,
                         bl && base_url[bl - 1] == '/' ? "" : "/", set->files[i]);
            up[nu++] = urls[0];
        } else {
            for (int m = 0; m < 4 && set->mirrors[m] && rc == 0; m++) {
                rc = qv_path(urls[nu], sizeof urls[nu], "%s%s", set->mirrors[m], set->files[i]);
                up[nu] = urls[nu];
                nu++;
            }
        }
        if (rc == 0) rc = fetch_to_tmp(up, nu, tmp[i], set->files[i], set->md5[i], o);
    }
    /* Only a complete, verified set is moved into place. */
    for (int i = 0; i < 4 && rc == 0; i++)
        if (need[i] && rename(tmp[i], dest[i])) rc = qv_seterr("%s: %s", dest[i], strerror(errno));
    if (rc == 0 && nget && qv_fsync_dir(dir))   /* best effort: the verified files are in place */
        qv_clearerr();
    if (rc) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", qv_errmsg());
        for (int i = 0; i < 4; i++) unlink(tmp[i]);
        qv_seterr("%s", keep);
        return -1;
    }
    return nget;
}
