
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <sys/stat.h>
#include <libpq-fe.h>

#include "ngx_autoscale_pg_conn.h"


#define NGX_AUTOSCALE_PG_BACKOFF_MIN   100     /* ms */
#define NGX_AUTOSCALE_PG_BACKOFF_MAX   5000    /* ms */


static void ngx_autoscale_pg_conn_step(ngx_autoscale_pg_conn_t *conn);
static void ngx_autoscale_pg_conn_failed(ngx_autoscale_pg_conn_t *conn,
    const char *why);
static void ngx_autoscale_pg_conn_timeout(ngx_event_t *ev);
static ngx_int_t ngx_autoscale_pg_conn_attach(ngx_autoscale_pg_conn_t *conn);
static void ngx_autoscale_pg_conn_detach(ngx_autoscale_pg_conn_t *conn);
static ngx_int_t ngx_autoscale_pg_conn_want(ngx_autoscale_pg_conn_t *conn,
    ngx_uint_t read, ngx_uint_t write);
static void ngx_autoscale_pg_conn_event(ngx_event_t *ev);
static size_t ngx_autoscale_pg_conn_message(PGconn *pg, u_char *buf,
    size_t size);


/* connecting */

void
ngx_autoscale_pg_conn_init(ngx_autoscale_pg_conn_t *conn,
    ngx_autoscale_pg_pool_t *pool)
{
    conn->pool = pool;
    ngx_queue_init(&conn->inflight);

    conn->connect_timer.handler = ngx_autoscale_pg_conn_timeout;
    conn->connect_timer.data = conn;
    conn->connect_timer.log = pool->log;
    conn->connect_timer.cancelable = 1;
}


void
ngx_autoscale_pg_conn_open(ngx_autoscale_pg_conn_t *conn)
{
    ngx_autoscale_pg_pool_t  *pool = conn->pool;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, pool->log, 0,
                   "autoscale pg conn #%ui connect started",
                   (ngx_uint_t) (conn - pool->conns));

    /* cannot block: host names were turned into hostaddr at config time */
    conn->pg = PQconnectStartParams(pool->conf->keywords, pool->conf->values,
                                    0);
    if (conn->pg == NULL) {
        ngx_autoscale_pg_conn_failed(conn, "out of memory");
        return;
    }

    if (PQstatus(conn->pg) == CONNECTION_BAD) {
        ngx_autoscale_pg_conn_failed(conn, NULL);
        return;
    }

    conn->state = NGX_AUTOSCALE_PG_CONNECTING;

    if (ngx_autoscale_pg_conn_attach(conn) != NGX_OK
        || ngx_autoscale_pg_conn_want(conn, 0, 1) != NGX_OK)
    {
        ngx_autoscale_pg_conn_failed(conn, "cannot watch the socket");
        return;
    }

    ngx_add_timer(&conn->connect_timer, pool->conf->timeout);
}

static void
ngx_autoscale_pg_conn_step(ngx_autoscale_pg_conn_t *conn)
{
    ngx_int_t                  rc;
    struct stat                st;
    PostgresPollingStatusType  poll;

    poll = PQconnectPoll(conn->pg);

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, conn->pool->log, 0,
                   "autoscale pg conn #%ui connect poll: %s",
                   (ngx_uint_t) (conn - conn->pool->conns),
                   poll == PGRES_POLLING_READING ? "reading"
                   : poll == PGRES_POLLING_WRITING ? "writing"
                   : poll == PGRES_POLLING_OK ? "done" : "failed");

    /* libpq may open a new socket, e.g. for the next address */
    if (PQsocket(conn->pg) != -1
        && (conn->c == NULL || PQsocket(conn->pg) != conn->c->fd
            || fstat(PQsocket(conn->pg), &st) == -1
            || st.st_ino != conn->sock_ino))
    {
        ngx_autoscale_pg_conn_detach(conn);

        if (ngx_autoscale_pg_conn_attach(conn) != NGX_OK) {
            ngx_autoscale_pg_conn_failed(conn, "cannot watch the socket");
            return;
        }
    }

    switch (poll) {

    case PGRES_POLLING_READING:
        rc = ngx_autoscale_pg_conn_want(conn, 1, 0);
        break;

    case PGRES_POLLING_WRITING:
        rc = ngx_autoscale_pg_conn_want(conn, 0, 1);
        break;

    case PGRES_POLLING_OK:
        if (PQsetnonblocking(conn->pg, 1) != 0
            || PQenterPipelineMode(conn->pg) != 1
            || ngx_autoscale_pg_conn_want(conn, 1, 0) != NGX_OK)
        {
            ngx_autoscale_pg_conn_failed(conn, NULL);
            return;
        }

        if (conn->connect_timer.timer_set) {
            ngx_del_timer(&conn->connect_timer);
        }

        if (conn->pool->failing) {
            ngx_log_error(NGX_LOG_NOTICE, conn->pool->log, 0,
                          "autoscale: database connection restored");
        }

        conn->state = NGX_AUTOSCALE_PG_READY;
        conn->pool->failing = 0;
        conn->pool->backoff = 0;
        conn->pool->generation++;

        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, conn->pool->log, 0,
                       "autoscale pg conn #%ui ready, generation %ui",
                       (ngx_uint_t) (conn - conn->pool->conns),
                       conn->pool->generation);

        ngx_autoscale_pg_dispatch(conn->pool);
        return;

    default: /* PGRES_POLLING_FAILED */
        ngx_autoscale_pg_conn_failed(conn, NULL);
        return;
    }

    if (rc != NGX_OK) {
        ngx_autoscale_pg_conn_failed(conn, "cannot watch the socket");
    }
}

static void
ngx_autoscale_pg_conn_failed(ngx_autoscale_pg_conn_t *conn,
    const char *why)
{
    u_char                    msg[256];
    size_t                    len;
    ngx_uint_t                level;
    ngx_autoscale_pg_pool_t  *pool = conn->pool;

    if (why) {
        len = ngx_cpystrn(msg, (u_char *) why, sizeof(msg)) - msg;
    } else {
        len = ngx_autoscale_pg_conn_message(conn->pg, msg, sizeof(msg));
    }

    ngx_autoscale_pg_conn_close(conn);

    pool->backoff = pool->backoff
                    ? ngx_min(pool->backoff * 2, NGX_AUTOSCALE_PG_BACKOFF_MAX)
                    : NGX_AUTOSCALE_PG_BACKOFF_MIN;
    pool->retry_at = ngx_current_msec + pool->backoff;

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, pool->log, 0,
                   "autoscale pg conn #%ui failed, backoff %Mms",
                   (ngx_uint_t) (conn - pool->conns), pool->backoff);

    /* one line per failed attempt; attempts are spaced by the backoff */
    level = pool->failing ? NGX_LOG_WARN : NGX_LOG_ERR;

    ngx_log_error(level, pool->log, 0,
                  "autoscale: cannot connect to database \"%V\": %*s, "
                  "next attempt in %Mms",
                  &pool->conf->conninfo, len, msg, pool->backoff);

    pool->failing = 1;

    ngx_autoscale_pg_dispatch(pool);
}

static void
ngx_autoscale_pg_conn_timeout(ngx_event_t *ev)
{
    ngx_autoscale_pg_conn_t  *conn = ev->data;

    if (conn->state == NGX_AUTOSCALE_PG_CONNECTING) {
        ngx_autoscale_pg_conn_failed(conn, "connection timed out");
    }
}


/* the socket on nginx's event loop */

static ngx_int_t
ngx_autoscale_pg_conn_attach(ngx_autoscale_pg_conn_t *conn)
{
    int                fd;
    struct stat        st;
    ngx_connection_t  *c;

    fd = PQsocket(conn->pg);
    if (fd == -1 || fstat(fd, &st) == -1) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, conn->pool->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = conn;
    c->log = conn->pool->log;
    c->read->log = c->log;
    c->write->log = c->log;
    c->read->handler = ngx_autoscale_pg_conn_event;
    c->write->handler = ngx_autoscale_pg_conn_event;

    conn->c = c;
    conn->sock_ino = st.st_ino;

    return NGX_OK;
}


static void
ngx_autoscale_pg_conn_detach(ngx_autoscale_pg_conn_t *conn)
{
    ngx_connection_t  *c = conn->c;

    if (c == NULL) {
        return;
    }

    /* libpq owns the socket and closes it: no system calls on it here */
    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }
    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }
    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }
    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    conn->c = NULL;
}


/*
 * Level-triggered: libpq does not always read a socket dry, so an edge
 * could be lost.  The write event is armed only while output is pending.
 */
static ngx_int_t
ngx_autoscale_pg_conn_want(ngx_autoscale_pg_conn_t *conn, ngx_uint_t read,
    ngx_uint_t write)
{
    ngx_connection_t  *c = conn->c;

    if (read && !c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (!read && c->read->active) {
        if (ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (write && !c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (!write && c->write->active) {
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_autoscale_pg_conn_close(ngx_autoscale_pg_conn_t *conn)
{
    if (conn->state != NGX_AUTOSCALE_PG_CLOSED) {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, conn->pool->log, 0,
                       "autoscale pg conn #%ui closed, %ui in flight",
                       (ngx_uint_t) (conn - conn->pool->conns),
                       conn->ninflight);
    }

    ngx_autoscale_pg_conn_detach(conn);

    if (conn->connect_timer.timer_set) {
        ngx_del_timer(&conn->connect_timer);
    }

    if (conn->pg) {
        PQfinish(conn->pg);
        conn->pg = NULL;
    }

    conn->prepared = 0;
    conn->state = NGX_AUTOSCALE_PG_CLOSED;
}


/* a connection that worked and broke: its queries fail, others go on */
void
ngx_autoscale_pg_conn_lost(ngx_autoscale_pg_conn_t *conn, const char *why)
{
    u_char  msg[256];
    size_t  len;

    len = ngx_autoscale_pg_conn_message(conn->pg, msg, sizeof(msg));

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, conn->pool->log, 0,
                   "autoscale pg conn #%ui lost, %ui in flight",
                   (ngx_uint_t) (conn - conn->pool->conns), conn->ninflight);

    ngx_log_error(NGX_LOG_ERR, conn->pool->log, 0,
                  "autoscale: database connection lost%s%s: %*s",
                  why ? " " : "", why ? why : "", len, msg);

    ngx_autoscale_pg_conn_close(conn);
    ngx_autoscale_pg_fail_inflight(conn, NGX_AUTOSCALE_PG_UNAVAILABLE);
    ngx_autoscale_pg_dispatch(conn->pool);
}


ngx_int_t
ngx_autoscale_pg_conn_flush(ngx_autoscale_pg_conn_t *conn)
{
    int  rc;

    rc = PQflush(conn->pg);

    if (rc == -1) {
        return NGX_ERROR;
    }

    return ngx_autoscale_pg_conn_want(conn, 1, rc == 1);
}


static void
ngx_autoscale_pg_conn_event(ngx_event_t *ev)
{
    PGnotify                 *notify;
    ngx_connection_t         *c = ev->data;
    ngx_autoscale_pg_conn_t  *conn = c->data;

    if (conn->state == NGX_AUTOSCALE_PG_CONNECTING) {
        ngx_autoscale_pg_conn_step(conn);
        return;
    }

    if (conn->state != NGX_AUTOSCALE_PG_READY) {
        return;
    }

    if (c->write->active && ngx_autoscale_pg_conn_flush(conn) != NGX_OK) {
        ngx_autoscale_pg_conn_lost(conn, "while sending");
        return;
    }

    if (ev->write) {
        return;
    }

    if (!PQconsumeInput(conn->pg) || PQstatus(conn->pg) == CONNECTION_BAD) {
        if (conn->ninflight) {
            ngx_autoscale_pg_conn_lost(conn, "while reading");

        } else {
            /* an idle connection speaks only to say it is going away */
            ngx_log_error(NGX_LOG_INFO, conn->pool->log, 0,
                          "autoscale: idle database connection closed");
            ngx_autoscale_pg_conn_close(conn);
        }

        return;
    }

    while ((notify = PQnotifies(conn->pg)) != NULL) {
        PQfreemem(notify);
    }

    if (conn->ninflight) {
        ngx_autoscale_pg_read_results(conn);
    }
}


static size_t
ngx_autoscale_pg_conn_message(PGconn *pg, u_char *buf, size_t size)
{
    u_char  *p, *last;

    p = (u_char *) (pg ? PQerrorMessage(pg) : "");
    last = ngx_cpystrn(buf, p, size);

    /* one line in the log: libpq's messages end with, and contain, \n */
    for (p = buf; p < last; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }

    while (last > buf && last[-1] == ' ') {
        last--;
    }

    return last - buf;
}
