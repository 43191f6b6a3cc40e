
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Non-blocking PostgreSQL access on nginx's event loop: a small pool of
 * keep-alive libpq connections per worker, one parameterised statement per
 * query, a timeout per query on nginx timers, and reconnection with capped
 * exponential backoff.  Handlers are always called from the event loop,
 * never from inside ngx_autoscale_pg_query().
 *
 * Timeouts: a query waiting for a connection fails with TIMEOUT after
 * conf->timeout; once sent, it gets a fresh conf->timeout for the server's
 * answer.  A sent query that times out drops its connection: it fails with
 * TIMEOUT, the others sent on that connection with UNAVAILABLE (they may
 * have run: never sent again), and those still waiting go to another one.
 * A connection that breaks fails the queries sent on it the same way.
 */


#ifndef _NGX_AUTOSCALE_PG_H_INCLUDED_
#define _NGX_AUTOSCALE_PG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <libpq-fe.h>


/* how a query ended, as passed to its handler */
#define NGX_AUTOSCALE_PG_OK           0  /* res: TUPLES_OK or COMMAND_OK */
#define NGX_AUTOSCALE_PG_SQL_ERROR    1  /* res: the server's error */
#define NGX_AUTOSCALE_PG_UNAVAILABLE  2  /* res NULL: no connection, or
                                             it broke: ran or not, unknown */
#define NGX_AUTOSCALE_PG_TIMEOUT      3  /* res NULL: no answer in time */


typedef struct ngx_autoscale_pg_pool_s   ngx_autoscale_pg_pool_t;
typedef struct ngx_autoscale_pg_query_s  ngx_autoscale_pg_query_t;

/*
 * res belongs to the layer and is cleared when the handler returns NGX_OK;
 * a handler that returns NGX_DONE keeps it and PQclear()s it later.  The
 * query itself is freed when the handler returns.
 */
typedef ngx_int_t (*ngx_autoscale_pg_handler_pt)(void *data,
    ngx_int_t status, PGresult *res);


typedef struct ngx_autoscale_pg_conf_s {
    ngx_str_t                    conninfo;   /* as written, for messages */
    const char                 **keywords;   /* NULL-terminated */
    const char                 **values;
    ngx_uint_t                   pool_size;
    ngx_uint_t                   max_waiting;  /* queries queued at most */
    ngx_msec_t                   timeout;
} ngx_autoscale_pg_conf_t;


char *ngx_autoscale_pg_parse_conninfo(ngx_conf_t *cf, ngx_str_t *conninfo,
    ngx_autoscale_pg_conf_t *pgcf);

ngx_autoscale_pg_pool_t *ngx_autoscale_pg_pool_create(ngx_cycle_t *cycle,
    ngx_autoscale_pg_conf_t *pgcf);
void ngx_autoscale_pg_pool_destroy(ngx_autoscale_pg_pool_t *pool);

/*
 * Sends sql with nparams text parameters (a NULL data pointer is SQL NULL).
 * sql must outlive the query (a string literal); params are copied.
 * Returns NULL only when out of memory.
 */
ngx_autoscale_pg_query_t *ngx_autoscale_pg_query(
    ngx_autoscale_pg_pool_t *pool, const char *sql, ngx_uint_t nparams,
    ngx_str_t *params, ngx_autoscale_pg_handler_pt handler, void *data);

/* the handler will not be called; a statement already sent runs on */
void ngx_autoscale_pg_cancel(ngx_autoscale_pg_query_t *q);

ngx_uint_t ngx_autoscale_pg_generation(ngx_autoscale_pg_pool_t *pool);
void ngx_autoscale_pg_pool_reset(ngx_autoscale_pg_pool_t *pool);

/* seconds until the pool tries the database again, at least 1 */
time_t ngx_autoscale_pg_retry_after(ngx_autoscale_pg_pool_t *pool);


#endif /* _NGX_AUTOSCALE_PG_H_INCLUDED_ */
