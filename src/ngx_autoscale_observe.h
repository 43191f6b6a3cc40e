
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The data-plane hook of "autoscale_observe": each client request that
 * passes an observed location is counted once, in the shared zone, from
 * the location's rewrite phase until the request is freed.
 */


#ifndef _NGX_AUTOSCALE_OBSERVE_H_INCLUDED_
#define _NGX_AUTOSCALE_OBSERVE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_autoscale_observe_init(ngx_conf_t *cf);

/*
 * At a worker's start: its ledger of requests in flight is claimed (and
 * given back at exit), and the nodes of the fixed ids (ngx_str_t) made.
 */
void ngx_autoscale_observe_process(ngx_shm_zone_t *shm_zone,
    ngx_array_t *ids, ngx_log_t *log);
void ngx_autoscale_observe_exit(ngx_shm_zone_t *shm_zone);


#endif /* _NGX_AUTOSCALE_OBSERVE_H_INCLUDED_ */
