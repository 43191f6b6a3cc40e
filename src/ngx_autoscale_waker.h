
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader's waker: scale from zero for clusters whose requests the
 * balancer holds.
 */


#ifndef _NGX_AUTOSCALE_WAKER_H_INCLUDED_
#define _NGX_AUTOSCALE_WAKER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_leader.h"


/* arms this worker's tick; it acts while the worker leads */
ngx_int_t ngx_autoscale_waker_init(ngx_cycle_t *cycle,
    ngx_autoscale_leader_t *ld);
/* before the jobs' pool is destroyed */
void ngx_autoscale_waker_exit(void);


#endif /* _NGX_AUTOSCALE_WAKER_H_INCLUDED_ */
