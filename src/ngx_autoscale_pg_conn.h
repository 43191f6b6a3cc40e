
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Inside the database layer: the pool and its connections, shared by the
 * queries (ngx_autoscale_pg.c) and the connections' lifecycle on nginx's
 * event loop (ngx_autoscale_pg_conn.c).  Nothing outside the layer
 * includes this.
 */


#ifndef _NGX_AUTOSCALE_PG_CONN_H_INCLUDED_
#define _NGX_AUTOSCALE_PG_CONN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <sys/types.h>
#include <libpq-fe.h>

#include "ngx_autoscale_pg.h"


/* statements prepared once per connection: parsing and planning dominate */
#define NGX_AUTOSCALE_PG_STATEMENTS    64


typedef enum {
    NGX_AUTOSCALE_PG_CLOSED = 0,
    NGX_AUTOSCALE_PG_CONNECTING,
    NGX_AUTOSCALE_PG_READY
} ngx_autoscale_pg_state_e;


typedef struct {
    ngx_autoscale_pg_pool_t     *pool;
    PGconn                      *pg;
    ngx_connection_t            *c;
    ino_t                        sock_ino;
    ngx_autoscale_pg_state_e     state;
    ngx_queue_t                  inflight;    /* queries, oldest first */
    ngx_uint_t                   ninflight;
    ngx_event_t                  connect_timer;
    uint64_t                     prepared;    /* bit n: statement n */
} ngx_autoscale_pg_conn_t;


struct ngx_autoscale_pg_pool_s {
    ngx_autoscale_pg_conf_t     *conf;
    ngx_log_t                   *log;
    ngx_autoscale_pg_conn_t     *conns;
    ngx_uint_t                   nconns;
    ngx_queue_t                  waiting;
    ngx_uint_t                   nwaiting;
    ngx_msec_t                   backoff;
    ngx_msec_t                   retry_at;
    const char                  *statements[NGX_AUTOSCALE_PG_STATEMENTS];
    ngx_uint_t                   nstatements;
    ngx_uint_t                   generation;  /* connections opened */
    unsigned                     failing:1;
};


/* the connection's lifecycle: ngx_autoscale_pg_conn.c */
void ngx_autoscale_pg_conn_init(ngx_autoscale_pg_conn_t *conn,
    ngx_autoscale_pg_pool_t *pool);
void ngx_autoscale_pg_conn_open(ngx_autoscale_pg_conn_t *conn);
void ngx_autoscale_pg_conn_close(ngx_autoscale_pg_conn_t *conn);
void ngx_autoscale_pg_conn_lost(ngx_autoscale_pg_conn_t *conn,
    const char *why);
ngx_int_t ngx_autoscale_pg_conn_flush(ngx_autoscale_pg_conn_t *conn);

/* the queries on it: ngx_autoscale_pg.c */
void ngx_autoscale_pg_dispatch(ngx_autoscale_pg_pool_t *pool);
void ngx_autoscale_pg_fail_inflight(ngx_autoscale_pg_conn_t *conn,
    ngx_int_t status);
void ngx_autoscale_pg_read_results(ngx_autoscale_pg_conn_t *conn);


#endif /* _NGX_AUTOSCALE_PG_CONN_H_INCLUDED_ */
