/* qpu_conn.h — the qpu module's connection: app->sapi, made from dwave.conf on first use when
 * no `qpu config` / `qpu emulate` made it.  Not part of a session (it holds a token); modules.c
 * releases it at exit. */
#ifndef QV_QPU_CONN_H
#define QV_QPU_CONN_H

struct qv_app;
struct sapi_client;

/* The connection (owned by app), its warnings going to the app's log and its waits cancelled
 * by app->cancel.  NULL with error when dwave.conf gives none. */
struct sapi_client *qpu_client(struct qv_app *app);

#endif
