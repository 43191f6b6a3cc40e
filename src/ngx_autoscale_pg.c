
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <libpq-fe.h>

#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_pg_conn.h"


/*
 * Statements in flight on one connection, each followed by its own sync so
 * that an error stays with its statement.
 */
#define NGX_AUTOSCALE_PG_PIPELINE      16

/*
 * Statements a connection takes before another one is opened or used: a
 * few full pipelines keep fewer server processes busy than many short ones.
 */
#define NGX_AUTOSCALE_PG_PACK          8


struct ngx_autoscale_pg_query_s {
    ngx_queue_t                  queue;
    ngx_event_t                  ev;        /* timeout, or posted finish */
    ngx_autoscale_pg_pool_t     *pool;
    ngx_autoscale_pg_conn_t     *conn;
    ngx_autoscale_pg_handler_pt  handler;
    void                        *data;
    const char                  *sql;
    ngx_int_t                    statement;  /* -1: sent unprepared */
    int                          nparams;
#if (NGX_DEBUG)
    u_char                       name[40];  /* for the debug log */
#endif
    const char                 **values;
    ngx_int_t                    status;    /* for a posted finish */
    PGresult                    *result;    /* what came back so far */
    unsigned                     queued:1;
    unsigned                     prepare:1; /* sent with its PREPARE */
    unsigned                     results:2;
};


static ngx_int_t ngx_autoscale_pg_send(ngx_autoscale_pg_conn_t *conn,
    ngx_autoscale_pg_query_t *q);
static ngx_int_t ngx_autoscale_pg_finish(ngx_autoscale_pg_query_t *q,
    ngx_int_t status, PGresult *res);
static void ngx_autoscale_pg_post_finish(ngx_autoscale_pg_query_t *q,
    ngx_int_t status);
static void ngx_autoscale_pg_query_event(ngx_event_t *ev);
static void ngx_autoscale_pg_fail_waiting(ngx_autoscale_pg_pool_t *pool);
#if (NGX_DEBUG)
static void ngx_autoscale_pg_name(ngx_autoscale_pg_query_t *q);
#endif


/* the pool */

ngx_autoscale_pg_pool_t *
ngx_autoscale_pg_pool_create(ngx_cycle_t *cycle,
    ngx_autoscale_pg_conf_t *pgcf)
{
    ngx_uint_t                i;
    ngx_autoscale_pg_pool_t  *pool;

    pool = ngx_pcalloc(cycle->pool, sizeof(ngx_autoscale_pg_pool_t));
    if (pool == NULL) {
        return NULL;
    }

    pool->conns = ngx_pcalloc(cycle->pool, pgcf->pool_size
                                           * sizeof(ngx_autoscale_pg_conn_t));
    if (pool->conns == NULL) {
        return NULL;
    }

    pool->conf = pgcf;
    pool->log = cycle->log;
    pool->nconns = pgcf->pool_size;
    ngx_queue_init(&pool->waiting);

    for (i = 0; i < pool->nconns; i++) {
        ngx_autoscale_pg_conn_init(&pool->conns[i], pool);
    }

    return pool;
}


/*
 * The worker is exiting: queries are dropped without their handlers, whose
 * requests and timers are going away with the process.
 */
void
ngx_autoscale_pg_pool_destroy(ngx_autoscale_pg_pool_t *pool)
{
    ngx_uint_t                 i;
    ngx_queue_t               *head;
    ngx_autoscale_pg_query_t  *q;

    while (!ngx_queue_empty(&pool->waiting)) {
        head = ngx_queue_head(&pool->waiting);
        q = ngx_queue_data(head, ngx_autoscale_pg_query_t, queue);
        q->handler = NULL;
        ngx_autoscale_pg_finish(q, NGX_AUTOSCALE_PG_UNAVAILABLE, NULL);
    }

    for (i = 0; i < pool->nconns; i++) {
        ngx_autoscale_pg_fail_inflight(&pool->conns[i], -1);
        ngx_autoscale_pg_conn_close(&pool->conns[i]);
    }
}


/* a new value means a new session: its locks and settings are gone */
ngx_uint_t
ngx_autoscale_pg_generation(ngx_autoscale_pg_pool_t *pool)
{
    return pool->generation;
}


/* drops every connection, and with them their sessions' locks */
void
ngx_autoscale_pg_pool_reset(ngx_autoscale_pg_pool_t *pool)
{
    ngx_uint_t  i;

    for (i = 0; i < pool->nconns; i++) {
        ngx_autoscale_pg_conn_close(&pool->conns[i]);
        ngx_autoscale_pg_fail_inflight(&pool->conns[i],
                                       NGX_AUTOSCALE_PG_UNAVAILABLE);
    }
}


time_t
ngx_autoscale_pg_retry_after(ngx_autoscale_pg_pool_t *pool)
{
    ngx_msec_int_t  left;

    left = (ngx_msec_int_t) (pool->retry_at - ngx_current_msec);

    return left > 1000 ? (time_t) ((left + 999) / 1000) : 1;
}


ngx_autoscale_pg_query_t *
ngx_autoscale_pg_query(ngx_autoscale_pg_pool_t *pool, const char *sql,
    ngx_uint_t nparams, ngx_str_t *params,
    ngx_autoscale_pg_handler_pt handler, void *data)
{
    size_t                     size;
    u_char                    *p;
    ngx_uint_t                 i;
    ngx_autoscale_pg_query_t  *q;

    size = sizeof(ngx_autoscale_pg_query_t) + nparams * sizeof(char *);
    for (i = 0; i < nparams; i++) {
        size += params[i].len + 1;
    }

    q = ngx_alloc(size, pool->log);
    if (q == NULL) {
        return NULL;
    }

    ngx_memzero(q, sizeof(ngx_autoscale_pg_query_t));

    q->pool = pool;
    q->handler = handler;
    q->data = data;
    q->sql = sql;
    q->nparams = (int) nparams;
    q->values = (const char **) (q + 1);

    p = (u_char *) (q->values + nparams);
    for (i = 0; i < nparams; i++) {
        if (params[i].data == NULL) {
            q->values[i] = NULL;
            continue;
        }
        q->values[i] = (const char *) p;
        p = ngx_cpymem(p, params[i].data, params[i].len);
        *p++ = '\0';
    }

    /* statements are string literals: the pointer names one */
    q->statement = -1;

    for (i = 0; i < pool->nstatements; i++) {
        if (pool->statements[i] == sql) {
            q->statement = i;
            break;
        }
    }

    if (q->statement == -1 && pool->nstatements < NGX_AUTOSCALE_PG_STATEMENTS)
    {
        q->statement = pool->nstatements;
        pool->statements[pool->nstatements++] = sql;
    }

    q->ev.handler = ngx_autoscale_pg_query_event;
    q->ev.data = q;
    q->ev.log = pool->log;

#if (NGX_DEBUG)
    if (pool->log->log_level & NGX_LOG_DEBUG_EVENT) {
        ngx_autoscale_pg_name(q);
    }
#endif

    if (pool->nwaiting >= pool->conf->max_waiting) {
        ngx_log_error(NGX_LOG_WARN, pool->log, 0,
                      "autoscale: database queue full, query refused");
        ngx_autoscale_pg_post_finish(q, NGX_AUTOSCALE_PG_UNAVAILABLE);
        return q;
    }

    ngx_queue_insert_tail(&pool->waiting, &q->queue);
    q->queued = 1;
    pool->nwaiting++;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, pool->log, 0,
                   "autoscale pg query %p \"%s\" queued, %ui waiting",
                   q, q->name, pool->nwaiting);

    /*
     * The wait for a connection is bounded too; sending starts a fresh
     * timeout.  Not cancelable: a request waiting for the database keeps
     * a worker that is shutting down gracefully alive, for a while at most.
     */
    ngx_add_timer(&q->ev, pool->conf->timeout);

    ngx_autoscale_pg_dispatch(pool);

    return q;
}


/*
 * A query is on one list at a time: waiting in the pool, in flight on a
 * connection, or on none with its end posted.
 */
void
ngx_autoscale_pg_cancel(ngx_autoscale_pg_query_t *q)
{
    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, q->pool->log, 0,
                   "autoscale pg query %p \"%s\" canceled%s",
                   q, q->name, q->conn ? ", in flight" : "");

    if (q->conn) {
        /* in flight: the connection delivers the result to nobody */
        q->handler = NULL;
        return;
    }

    if (q->queued) {
        ngx_queue_remove(&q->queue);
        q->pool->nwaiting--;
    }

    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    if (q->ev.posted) {
        ngx_delete_posted_event(&q->ev);
    }

    ngx_free(q);
}


void
ngx_autoscale_pg_dispatch(ngx_autoscale_pg_pool_t *pool)
{
    ngx_int_t                  rc;
    ngx_uint_t                 i, connecting, live, closed, backing_off;
    ngx_queue_t               *head;
    ngx_autoscale_pg_conn_t   *conn, *idle, *least;
    ngx_autoscale_pg_query_t  *q;

    backing_off = pool->failing
                  && (ngx_msec_int_t) (pool->retry_at - ngx_current_msec) > 0;

    while (!ngx_queue_empty(&pool->waiting)) {
        idle = NULL;
        least = NULL;
        closed = 0;

        for (i = 0; i < pool->nconns; i++) {
            conn = &pool->conns[i];

            if (conn->state == NGX_AUTOSCALE_PG_CLOSED) {
                closed++;

            } else if (conn->state == NGX_AUTOSCALE_PG_READY) {
                /* the fullest pipeline with room: fewer server processes */
                if (conn->ninflight < NGX_AUTOSCALE_PG_PACK
                    && (idle == NULL || conn->ninflight > idle->ninflight))
                {
                    idle = conn;
                }

                if (conn->ninflight < NGX_AUTOSCALE_PG_PIPELINE
                    && (least == NULL || conn->ninflight < least->ninflight))
                {
                    least = conn;
                }
            }
        }

        conn = idle;

        if (conn == NULL) {
            /* a connection of its own is worth the wait while one can open */
            if (closed && !backing_off) {
                break;
            }

            conn = least;
        }

        if (conn == NULL) {
            break;
        }

        head = ngx_queue_head(&pool->waiting);
        q = ngx_queue_data(head, ngx_autoscale_pg_query_t, queue);
        ngx_queue_remove(head);
        q->queued = 0;
        pool->nwaiting--;

        rc = ngx_autoscale_pg_send(conn, q);

        if (rc == NGX_DECLINED) {
            /* libpq took none of it: back to the front, for another one */
            ngx_queue_insert_head(&pool->waiting, &q->queue);
            q->queued = 1;
            pool->nwaiting++;
            ngx_autoscale_pg_conn_lost(conn, "before sending");
            return;
        }

        if (rc != NGX_OK) {
            /* q is in flight on conn, and fails with the rest of it */
            ngx_autoscale_pg_conn_lost(conn, "while sending");
            return;
        }
    }

    if (ngx_queue_empty(&pool->waiting)) {
        return;
    }

    connecting = 0;
    live = 0;
    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state == NGX_AUTOSCALE_PG_CONNECTING) {
            connecting++;
        } else if (pool->conns[i].state != NGX_AUTOSCALE_PG_CLOSED) {
            live++;
        }
    }

    if (backing_off) {
        if (live + connecting == 0) {
            /* fail fast while backing off: answer 503 now, not later */
            ngx_autoscale_pg_fail_waiting(pool);
        }
        return;
    }

    for (i = 0; i < pool->nconns && connecting < pool->nwaiting; i++) {
        conn = &pool->conns[i];

        if (conn->state == NGX_AUTOSCALE_PG_CLOSED) {
            connecting++;
            ngx_autoscale_pg_conn_open(conn);

            if (pool->failing && conn->state == NGX_AUTOSCALE_PG_CLOSED) {
                /* failed at once; the backoff now holds */
                return;
            }
        }
    }
}


static void
ngx_autoscale_pg_fail_waiting(ngx_autoscale_pg_pool_t *pool)
{
    ngx_queue_t               *head;
    ngx_autoscale_pg_query_t  *q;

    while (!ngx_queue_empty(&pool->waiting)) {
        head = ngx_queue_head(&pool->waiting);
        q = ngx_queue_data(head, ngx_autoscale_pg_query_t, queue);
        ngx_queue_remove(head);
        q->queued = 0;
        pool->nwaiting--;

        ngx_autoscale_pg_post_finish(q, NGX_AUTOSCALE_PG_UNAVAILABLE);
    }
}


/*
 * Each ends by a posted event: this runs inside ngx_autoscale_pg_query()
 * too, whose caller must not see a handler run.  Status -1: the worker is
 * exiting, and nobody is told.
 */
void
ngx_autoscale_pg_fail_inflight(ngx_autoscale_pg_conn_t *conn,
    ngx_int_t status)
{
    ngx_queue_t               *head;
    ngx_autoscale_pg_query_t  *q;

    while (!ngx_queue_empty(&conn->inflight)) {
        head = ngx_queue_head(&conn->inflight);
        q = ngx_queue_data(head, ngx_autoscale_pg_query_t, queue);
        ngx_queue_remove(head);
        conn->ninflight--;
        q->conn = NULL;

        if (q->result) {
            PQclear(q->result);
            q->result = NULL;
        }

        if (status == -1) {
            q->handler = NULL;
            ngx_autoscale_pg_finish(q, NGX_AUTOSCALE_PG_UNAVAILABLE, NULL);
            continue;
        }

        ngx_autoscale_pg_post_finish(q, status);
    }
}


/* queries */

/*
 * The statement, preceded by its PREPARE the first time on this
 * connection, and a sync.  NGX_DECLINED: the connection is broken and
 * libpq took nothing, q is as it was.  NGX_ERROR: the connection broke
 * while libpq took q, which is in flight on it and must fail with it.
 */
static ngx_int_t
ngx_autoscale_pg_send(ngx_autoscale_pg_conn_t *conn,
    ngx_autoscale_pg_query_t *q)
{
    int       sent;
    char      name[32];
    uint64_t  bit;

    if (PQstatus(conn->pg) != CONNECTION_OK) {
        return NGX_DECLINED;
    }

    /*
     * In flight from the first byte libpq takes: the server may run it
     * from then on, so it ends with this connection and is never sent
     * again elsewhere.
     */
    ngx_queue_insert_tail(&conn->inflight, &q->queue);
    conn->ninflight++;
    q->conn = conn;

    /* a fresh timeout: the wait for a connection was not the server's */
    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }
    ngx_add_timer(&q->ev, conn->pool->conf->timeout);

    ngx_sprintf((u_char *) name, "ngx_autoscale_%i%Z", q->statement);
    bit = (q->statement == -1) ? 0 : (uint64_t) 1 << q->statement;

    q->prepare = 0;
    q->results = 0;

    if (q->statement == -1) {
        sent = PQsendQueryParams(conn->pg, q->sql, q->nparams, NULL,
                                 q->values, NULL, NULL, 0);

    } else {
        sent = 1;

        if (!(conn->prepared & bit)) {
            sent = PQsendPrepare(conn->pg, name, q->sql, q->nparams, NULL);
            q->prepare = 1;
            conn->prepared |= bit;
        }

        sent = sent && PQsendQueryPrepared(conn->pg, name, q->nparams,
                                           q->values, NULL, NULL, 0);
    }

    ngx_log_debug5(NGX_LOG_DEBUG_EVENT, conn->pool->log, 0,
                   "autoscale pg query %p \"%s\" sent on conn #%ui%s, "
                   "%ui in flight", q, q->name,
                   (ngx_uint_t) (conn - conn->pool->conns),
                   q->prepare ? " with its prepare" : "", conn->ninflight);

    if (!sent || !PQpipelineSync(conn->pg)) {
        return NGX_ERROR;
    }

    return ngx_autoscale_pg_conn_flush(conn);
}


/*
 * Results arrive in order: each query's (its PREPARE's, then its own) up to
 * its sync.  The first error is kept, else the last result.
 */
void
ngx_autoscale_pg_read_results(ngx_autoscale_pg_conn_t *conn)
{
    PGresult                  *res, *kept;
    ngx_int_t                  status;
    ngx_uint_t                 nulls;
    ngx_queue_t               *head;
    ngx_autoscale_pg_pool_t   *pool = conn->pool;
    ngx_autoscale_pg_query_t  *q;

    nulls = 0;

    while (conn->ninflight && !PQisBusy(conn->pg)) {
        res = PQgetResult(conn->pg);

        if (res == NULL) {
            /* one between statements; two in a row: nothing more yet */
            if (++nulls > 1) {
                break;
            }
            continue;
        }

        nulls = 0;

        head = ngx_queue_head(&conn->inflight);
        q = ngx_queue_data(head, ngx_autoscale_pg_query_t, queue);

        if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
            if (q->prepare && q->results == 0
                && PQresultStatus(res) != PGRES_COMMAND_OK)
            {
                /* the server has no such statement after all */
                conn->prepared &= ~((uint64_t) 1 << q->statement);
            }

            if (q->results < 3) {
                q->results++;
            }

            kept = q->result;

            if (kept == NULL
                || (PQresultStatus(kept) != PGRES_FATAL_ERROR
                    && PQresultStatus(res) != PGRES_PIPELINE_ABORTED))
            {
                q->result = res;
                res = kept;
            }

            if (res) {
                PQclear(res);
            }

            continue;
        }

        PQclear(res);

        /* the sync: this query is complete */
        ngx_queue_remove(head);
        conn->ninflight--;
        q->conn = NULL;

        res = q->result;
        q->result = NULL;

        status = (res && (PQresultStatus(res) == PGRES_TUPLES_OK
                          || PQresultStatus(res) == PGRES_COMMAND_OK))
                 ? NGX_AUTOSCALE_PG_OK : NGX_AUTOSCALE_PG_SQL_ERROR;

        ngx_log_debug4(NGX_LOG_DEBUG_EVENT, pool->log, 0,
                       "autoscale pg query %p \"%s\" result: %s, %d rows",
                       q, q->name,
                       status == NGX_AUTOSCALE_PG_OK ? "ok" : "sql error",
                       res ? PQntuples(res) : 0);

        if (ngx_autoscale_pg_finish(q, status, res) != NGX_DONE && res) {
            PQclear(res);
        }

        if (conn->state != NGX_AUTOSCALE_PG_READY) {
            /* a handler's new query found the connection broken */
            break;
        }
    }

    ngx_autoscale_pg_dispatch(pool);
}


/* NGX_DONE when the handler keeps res */
static ngx_int_t
ngx_autoscale_pg_finish(ngx_autoscale_pg_query_t *q, ngx_int_t status,
    PGresult *res)
{
    ngx_int_t                    rc;
    ngx_autoscale_pg_handler_pt  handler;

    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    if (q->ev.posted) {
        ngx_delete_posted_event(&q->ev);
    }

    if (q->queued) {
        ngx_queue_remove(&q->queue);
        q->queued = 0;
        q->pool->nwaiting--;
    }

    handler = q->handler;
    rc = NGX_OK;

    if (handler) {
        rc = handler(q->data, status, res);
    }

    ngx_free(q);

    return rc;
}


static void
ngx_autoscale_pg_post_finish(ngx_autoscale_pg_query_t *q, ngx_int_t status)
{
    if (q->ev.timer_set) {
        ngx_del_timer(&q->ev);
    }

    q->status = status;
    ngx_post_event(&q->ev, &ngx_posted_events);
}


static void
ngx_autoscale_pg_query_event(ngx_event_t *ev)
{
    ngx_autoscale_pg_conn_t   *conn;
    ngx_autoscale_pg_pool_t   *pool;
    ngx_autoscale_pg_query_t  *q = ev->data;

    if (!ev->timedout) {
        /* a posted finish */
        ngx_log_debug3(NGX_LOG_DEBUG_EVENT, q->pool->log, 0,
                       "autoscale pg query %p \"%s\" failed: %s",
                       q, q->name,
                       q->status == NGX_AUTOSCALE_PG_TIMEOUT ? "timeout"
                                                            : "unavailable");
        ngx_autoscale_pg_finish(q, q->status, NULL);
        return;
    }

    ev->timedout = 0;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, q->pool->log, 0,
                   "autoscale pg query %p \"%s\" timed out%s",
                   q, q->name, q->conn ? "" : ", waiting");

    ngx_log_error(NGX_LOG_ERR, q->pool->log, 0,
                  "autoscale: database query timed out after %Mms%s",
                  q->pool->conf->timeout,
                  q->conn ? "" : " waiting for a connection");

    conn = q->conn;
    pool = q->pool;

    if (conn == NULL) {
        ngx_autoscale_pg_finish(q, NGX_AUTOSCALE_PG_TIMEOUT, NULL);
        return;
    }

    /*
     * The only way to abandon a running statement without blocking is to
     * drop its connection.  The others sent on it may have run or not:
     * they fail, never sent again; those still waiting go elsewhere.
     */
    ngx_queue_remove(&q->queue);
    conn->ninflight--;
    q->conn = NULL;

    if (q->result) {
        PQclear(q->result);
        q->result = NULL;
    }

    ngx_autoscale_pg_conn_close(conn);
    ngx_autoscale_pg_fail_inflight(conn, NGX_AUTOSCALE_PG_UNAVAILABLE);
    ngx_autoscale_pg_finish(q, NGX_AUTOSCALE_PG_TIMEOUT, NULL);
    ngx_autoscale_pg_dispatch(pool);
}


#if (NGX_DEBUG)

/*
 * "#3 UPDATE clusters": the statement's number, its first word and the
 * first table it names, enough to follow it in the debug log.
 */
static void
ngx_autoscale_pg_name(ngx_autoscale_pg_query_t *q)
{
    u_char      *p, *verb, *rel, *found, *last;
    ngx_uint_t   k;

    static const char  *keys[] = { " FROM ", " INTO ", "UPDATE ", NULL };

    for (verb = (u_char *) q->sql; *verb == ' '; verb++) { /* void */ }
    for (p = verb; *p >= 'A' && *p <= 'Z'; p++) { /* void */ }

    rel = NULL;
    last = NULL;

    for (k = 0; keys[k]; k++) {
        found = (u_char *) ngx_strstr(q->sql, keys[k]);

        if (found && (rel == NULL || found < rel)) {
            rel = found + ngx_strlen(keys[k]);
        }
    }

    if (rel) {
        for (last = rel;
             *last == '_' || (*last >= 'a' && *last <= 'z'); last++)
        {
            /* void */
        }
    }

    last = ngx_snprintf(q->name, sizeof(q->name) - 1, "#%i %*s%s%*s",
                        q->statement, (size_t) (p - verb), verb,
                        rel && last > rel ? " " : "",
                        (size_t) (rel && last > rel ? last - rel : 0), rel);
    *last = '\0';
}

#endif
