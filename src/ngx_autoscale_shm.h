
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The shared zone: state that every worker of one nginx sees, kept across
 * "nginx -s reload".
 */


#ifndef _NGX_AUTOSCALE_SHM_H_INCLUDED_
#define _NGX_AUTOSCALE_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    time_t                     created;
    ngx_atomic_t               generation;   /* configurations that used it */
} ngx_autoscale_shm_t;


ngx_int_t ngx_autoscale_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data);


#endif /* _NGX_AUTOSCALE_SHM_H_INCLUDED_ */
