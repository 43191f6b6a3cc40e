
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The timer jobs of every worker: the leader's lease, and for the leader
 * alone the metrics collector and the autoscaler.
 */


#ifndef _NGX_AUTOSCALE_JOBS_H_INCLUDED_
#define _NGX_AUTOSCALE_JOBS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale.h"


ngx_int_t ngx_autoscale_jobs_init(ngx_cycle_t *cycle,
    ngx_http_autoscale_main_conf_t *amcf);
void ngx_autoscale_jobs_exit(ngx_cycle_t *cycle);


#endif /* _NGX_AUTOSCALE_JOBS_H_INCLUDED_ */
