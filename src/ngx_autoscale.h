
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * What the parts of the module share: its configuration and the module
 * itself.
 */


#ifndef _NGX_AUTOSCALE_H_INCLUDED_
#define _NGX_AUTOSCALE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_AUTOSCALE_VERSION  "0.1.0"


/* what an API location lets write: autoscale_api write=off|agents|on */
#define NGX_AUTOSCALE_WRITE_OFF     0
#define NGX_AUTOSCALE_WRITE_AGENTS  1      /* heartbeats only */
#define NGX_AUTOSCALE_WRITE_ON      2


/*
 * The database layer's conf and pool, opaque here: the parts that include
 * this header, the data-plane hook among them, do not see that layer.
 */
struct ngx_autoscale_pg_conf_s;
struct ngx_autoscale_pg_pool_s;


typedef struct {
    struct ngx_autoscale_pg_conf_s  *pg;   /* pg->conninfo.len 0: unset */
    ngx_shm_zone_t                  *shm_zone;

    ngx_msec_t                       collect_interval;
    ngx_msec_t                       check_interval;
    ngx_flag_t                       collector;
    ngx_flag_t                       scaler;
    ngx_flag_t                       dry_run;
    ngx_uint_t                       db_pool;
    ngx_msec_t                       db_timeout;
    time_t                           metrics_retention;
    time_t                           events_retention;
    time_t                           agents_retention;   /* stopped or lost */

    ngx_uint_t                       api_locations;
    ngx_uint_t                       observe_locations;
    ngx_array_t                      observe_ids; /* of ngx_str_t: fixed ids */
    ngx_uint_t                       upstreams;   /* autoscale_upstream */
    ngx_uint_t                       upstream_holds;  /* of them, holding */
    ngx_array_t                      upstream_confs;  /* of their confs */
    void                            *actuate;    /* autoscale_actuate */

    struct ngx_autoscale_pg_pool_s  *pool;       /* this worker's */
} ngx_http_autoscale_main_conf_t;


typedef struct {
    ngx_flag_t                 api;
    ngx_uint_t                 write;       /* NGX_AUTOSCALE_WRITE_* */
    ngx_str_t                  prefix;
    ngx_http_complex_value_t  *observe;
    ngx_str_t                  observe_id;  /* a fixed one; else a variable */
    void                      *observe_cluster;   /* its node, once found */
    ngx_msec_t                 observe_retry;     /* no room: not before */
    void                      *upstream;   /* autoscale_upstream proxied to */
    ngx_uint_t                 upstream_known;    /* this worker looked */
} ngx_http_autoscale_loc_conf_t;


extern ngx_module_t  ngx_http_autoscale_module;


#endif /* _NGX_AUTOSCALE_H_INCLUDED_ */
