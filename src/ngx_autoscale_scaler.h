
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader's scaler: each check interval it reads every active cluster
 * with its latest metrics, decides a slice of them at a time with the
 * policy, and writes the decisions in chunks: the changes, checked again
 * by the database, and the held ones that say something new.
 */


#ifndef _NGX_AUTOSCALE_SCALER_H_INCLUDED_
#define _NGX_AUTOSCALE_SCALER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_leader.h"


/* arms the check timer of this worker */
ngx_int_t ngx_autoscale_scaler_init(ngx_cycle_t *cycle,
    ngx_autoscale_leader_t *ld);
/* before the jobs' pool is destroyed: frees what a check held */
void ngx_autoscale_scaler_exit(void);


#endif /* _NGX_AUTOSCALE_SCALER_H_INCLUDED_ */
