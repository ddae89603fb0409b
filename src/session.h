/* session.h — sessions on disk: sessions/NAME/session.json plus binary blobs.
 *
 * Format (version 1): session.json = { "format": "qvae-session", "version": 1,
 *   "modules": { "<module>": {…section…}, … }, "blobs": { "<file>": {"size": N, "crc32": C} },
 *   "checksum": crc32 of the canonical (unformatted) JSON text of "modules" + "blobs" }.
 * Blobs are files "<name>.<generation>.bin" with a 24-byte header (magic "QVBLOB01", u64 size,
 * u32 crc32, u32 reserved) — a new generation per save, so an old session.json never points at
 * a half-written blob; session.json is written last (temp, fsync, rename) and old generations are
 * removed after it.  Loading checks format, version, checksum, every blob's size and crc, and
 * builds a fresh state; only a fully loaded state replaces the current one.
 * Blob files are named "<module>-<name>.<generation>.bin" (names are per module); the manifest
 * also records "generation" and the writing "qvae" version.  A module whose section is absent
 * keeps its defaults on load. */
#ifndef QV_SESSION_H
#define QV_SESSION_H
#include "app.h"

struct cJSON;
struct sess_io;   /* opaque: the save/load in progress */

/* Inside a module's save hook: store a blob under a short name ("weights", "chains").  */
int sess_blob_put(struct sess_io *io, const char *name, const void *data, size_t len);
/* Inside a load hook: fetch a blob (malloc'ed copy; caller frees).  Missing = error. */
int sess_blob_get(struct sess_io *io, const char *name, void **data, size_t *len);

int session_save(struct qv_app *app, const char *name, const char *dir /* NULL = default */);
int session_load(struct qv_app *app, const char *name, const char *dir);
/* Names of sessions in dir (malloc'ed array of malloc'ed strings, NULL-terminated). */
char **session_list(const char *dir);
/* The same with an explicit module list (NULL-terminated) instead of qv_modules[] (tests).
 * Note that loading frees/initialises states through app_state_free, i.e. qv_modules[] hooks. */
int session_save_modules(struct qv_app *app, const char *name, const char *dir,
                         const struct qv_module *const *mods);
int session_load_modules(struct qv_app *app, const char *name, const char *dir,
                         const struct qv_module *const *mods);
/* Session names: 1–100 characters, no '/', no '..', no leading '.' or '-', no control
 * characters.  0 or -1 with the error set. */
int session_name_check(const char *name);
/* Parse and validate a session.json text (format, version, required members, blob entries, and
 * the checksum when verify_checksum).  *out: the parsed root (cJSON_Delete it).  Used by
 * session_load and the fuzzer. */
int sess_manifest_parse(const char *text, size_t len, const char *what, bool verify_checksum,
                        struct cJSON **out);

/* Path of the current session's folder (created on demand): for metrics.csv, grids/ … */
int session_current_dir(struct qv_app *app, char *buf, size_t n);

#endif
