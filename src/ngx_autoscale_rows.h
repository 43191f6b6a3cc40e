
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The collector's work on the shared zone: each collect window's metrics
 * rows taken from the live counters and queued in the zone until the
 * database has them, the agents' reports to write, and what the database
 * says of the clusters afterwards.
 */


#ifndef _NGX_AUTOSCALE_ROWS_H_INCLUDED_
#define _NGX_AUTOSCALE_ROWS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_str_t       rows;        /* JSON array of every queued row */
    ngx_str_t       agents;      /* JSON array of agents to write */
    ngx_uint_t      last_seq;    /* the newest batch in rows */
    ngx_uint_t      nrows;
    ngx_uint_t      nagents;
} ngx_autoscale_collection_t;


/* a window's rows, taken at once and formatted a slice at a time */
typedef struct {
    void           *records;
    ngx_uint_t      nrecords;
    ngx_uint_t      formatted;
    u_char          ts[sizeof("1970-01-01T00:00:00.000Z")];
} ngx_autoscale_window_rows_t;


/* ends the window of every measured cluster, and begins the next */
ngx_int_t ngx_autoscale_rows_window(ngx_shm_zone_t *shm_zone,
    ngx_msec_t interval, ngx_autoscale_window_rows_t *rows, ngx_log_t *log);
/*
 * up to max rows join the queue (the oldest dropped if it is full):
 * NGX_AGAIN while some are left
 */
ngx_int_t ngx_autoscale_rows_format(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_window_rows_t *rows, ngx_uint_t max, ngx_log_t *log);
void ngx_autoscale_rows_discard(ngx_autoscale_window_rows_t *rows);

/* the statement's parameters, allocated with ngx_alloc() */
ngx_int_t ngx_autoscale_rows_params(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_collection_t *col, ngx_log_t *log);
void ngx_autoscale_rows_free(ngx_autoscale_collection_t *col);

/* the statement succeeded: its batches leave the queue */
void ngx_autoscale_rows_written(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_collection_t *col);
/* it failed: the rows stay queued, every agent is written next time */
void ngx_autoscale_rows_failed(ngx_shm_zone_t *shm_zone);

/*
 * "id current target load health,..." of every cluster not destroyed, max
 * at a time: where to go on, or NULL
 */
const char *ngx_autoscale_rows_refresh(ngx_shm_zone_t *shm_zone,
    const char *p, ngx_uint_t max, ngx_log_t *log);


#endif /* _NGX_AUTOSCALE_ROWS_H_INCLUDED_ */
