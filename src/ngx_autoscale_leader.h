
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader of the workers, and the timers and the database session of
 * the jobs it runs.  Every worker arms the same cancelable timers; one of
 * them holds a lease in the shared zone and, across several nginx servers
 * on one database, a PostgreSQL advisory lock on its own connection.  Only
 * the holder of both collects and scales.
 */


#ifndef _NGX_AUTOSCALE_LEADER_H_INCLUDED_
#define _NGX_AUTOSCALE_LEADER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <libpq-fe.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_pg.h"


typedef struct {
    ngx_http_autoscale_main_conf_t  *amcf;
    ngx_autoscale_pg_conf_t          pgcf;       /* one connection: the
                                                    lock's session */
    ngx_autoscale_pg_pool_t         *pool;       /* the jobs' statements */
    ngx_log_t                       *log;
    ngx_str_t                        node;       /* "host:pid", and NUL */

    ngx_event_t                      lease_ev;
    ngx_uint_t                       lock_generation;

    unsigned                         leading:1;  /* holds the lease */
    unsigned                         locked:1;
    unsigned                         locking:1;
    unsigned                         lock_refused:1;
} ngx_autoscale_leader_t;


ngx_int_t ngx_autoscale_leader_init(ngx_cycle_t *cycle,
    ngx_http_autoscale_main_conf_t *amcf);
void ngx_autoscale_leader_exit(ngx_cycle_t *cycle);

/*
 * A job's timer or posted event: cancelable, so none keeps an exiting
 * worker.  With first not 0, its first timer fires at a random point of
 * that interval, so that the workers do not fire together.
 */
void ngx_autoscale_leader_event(ngx_autoscale_leader_t *ld, ngx_event_t *ev,
    ngx_event_handler_pt handler, void *data, ngx_msec_t first);

/* the lease and the lock are held on the current session: a job may run */
ngx_uint_t ngx_autoscale_leader_ready(ngx_autoscale_leader_t *ld);
/* a job's statement found that its session no longer holds the lock */
void ngx_autoscale_leader_lock_lost(ngx_autoscale_leader_t *ld);
/* counts and logs a job's statement that failed */
void ngx_autoscale_leader_job_failed(ngx_autoscale_leader_t *ld,
    const char *job, ngx_int_t status, PGresult *res);
/* the statement was refused for what it carries, not for the server */
ngx_uint_t ngx_autoscale_leader_data_error(PGresult *res);


#endif /* _NGX_AUTOSCALE_LEADER_H_INCLUDED_ */
