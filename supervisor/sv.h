/*
 * autoscale-supervisor: runs a command once per worker of one or more
 * clusters, as many as each cluster's target_workers, on one machine.
 * Plain C99 with libpq; one thread, one poll() loop.
 */

#ifndef SV_H
#define SV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>


#define SV_PROG            "autoscale-supervisor"

/* the module's ids: 1-100 of A-Za-z0-9 . _ -; an agent's is "<cluster>-N" */
#define SV_ID_MAX          100
#define SV_CLUSTER_ID_MAX  (SV_ID_MAX - 6)
#define SV_STATUS_MAX      15

/* restarts of a crashed worker: 1 s doubling to 30 s */
#define SV_BACKOFF_MIN     1000
#define SV_BACKOFF_MAX     30000
/* a worker that ran this long starts its backoff again from the minimum */
#define SV_RAN_WELL        30000

/* the database: reconnection backoff, deadlines, periodic reads */
#define SV_DB_RETRY_MIN    1000
#define SV_DB_RETRY_MAX    30000
#define SV_DB_DEADLINE     10000
#define SV_DB_SYNC_EVERY   15000
#define SV_DB_AGENTS_EVERY 1000


typedef int64_t  sv_msec_t;


typedef struct {
    char           id[SV_ID_MAX + 1];
    int            known;        /* read from the database at least once */
    int            exists;
    int            target;
    char           status[SV_STATUS_MAX + 1];
    int64_t        event_id;     /* the latest of its events applied */
} sv_cluster_t;


typedef enum {
    SV_RUNNING = 0,   /* serves, or will once it is up */
    SV_BACKOFF,       /* exited untold: restarts at "due" */
    SV_DRAINING,      /* named to stop: waits until its row says stopped */
    SV_STOPPING       /* sent SIGTERM: SIGKILL at "due" */
} sv_state_e;


typedef struct {
    int            cluster;      /* index into sv_t.clusters */
    char           agent_id[SV_ID_MAX + 1];
    int            port;
    pid_t          pid;          /* 0 in backoff */
    sv_state_e     state;
    uint64_t       seq;          /* start order: the latest goes first */
    sv_msec_t      started;
    sv_msec_t      due;
    sv_msec_t      backoff;
    int            killed;
    char           xmin[24];     /* draining: its row's version first seen */
} sv_worker_t;


typedef enum {
    SV_DB_DOWN = 0,
    SV_DB_CONNECTING,
    SV_DB_UP
} sv_db_state_e;


typedef enum {
    SV_Q_NONE = 0,
    SV_Q_LISTEN,
    SV_Q_SYNC,
    SV_Q_AGENTS
} sv_query_e;


typedef struct {
    /* options */
    const char    *conninfo;
    int            port_base;
    int            grace;        /* seconds */
    const char    *host;
    int            ipv6;
    char         **command;

    sv_cluster_t  *clusters;
    int            nclusters;

    sv_worker_t   *workers;
    int            nworkers;
    int            aworkers;
    uint64_t       seq;

    int            stopping;     /* SIGTERM or SIGINT: every worker goes */

    /* the database */
    PGconn        *conn;
    sv_db_state_e  db;
    int            connect_want; /* PGRES_POLLING_READING or _WRITING */
    int            flush;        /* output waits for the socket */
    sv_query_e     query;
    int            need_listen;
    int            need_sync;
    int            need_agents;
    int            synced;       /* the read after connecting is done */
    int            agents_after_sync;
    sv_msec_t      deadline;     /* for the connection or the query */
    sv_msec_t      retry_at;
    sv_msec_t      retry;
    sv_msec_t      next_sync;
    sv_msec_t      next_agents;
} sv_t;


/* a NOTIFY autoscale payload: the fields the supervisor follows */
typedef struct {
    const char    *event;
    size_t         event_len;
    const char    *cluster;
    size_t         cluster_len;
    const char    *status;
    size_t         status_len;
    int64_t        event_id;     /* -1: null (an update) */
    int            target;       /* -1: absent */
    const char    *drain;        /* the JSON array's text, or NULL */
    size_t         drain_len;
} sv_notify_t;


/* sv_main.c */
void sv_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
sv_msec_t sv_now(void);
int sv_cluster_find(sv_t *sv, const char *id, size_t len);

/* sv_notify.c */
int sv_notify_parse(const char *payload, sv_notify_t *n);
int sv_notify_drain_next(const char **p, const char *end,
    const char **name, size_t *len);
int sv_notify_id_valid(const char *id, size_t len);

/* sv_worker.c */
void sv_worker_reconcile(sv_t *sv, int ci);
void sv_worker_drain(sv_t *sv, int ci, const char *name, size_t len);
void sv_worker_row(sv_t *sv, int ci, const char *agent_id,
    const char *status, const char *xmin, int after_sync);
void sv_worker_reap(sv_t *sv);
sv_msec_t sv_worker_timers(sv_t *sv, sv_msec_t now);
void sv_worker_stop_all(sv_t *sv);
int sv_worker_count(sv_t *sv, int ci, sv_state_e state);

/* sv_db.c */
sv_msec_t sv_db_tick(sv_t *sv, sv_msec_t now);
short sv_db_events(sv_t *sv);
int sv_db_fd(sv_t *sv);
void sv_db_io(sv_t *sv, short revents);
void sv_db_close(sv_t *sv);

#endif /* SV_H */
