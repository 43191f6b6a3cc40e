
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader's collector: each collect interval it ends the window of
 * every measured cluster, formats the window's rows into the zone's queue,
 * writes the queue and the agents' reports in one statement (in parts, or
 * split to find what the database refuses), and learns back what the
 * database says of every cluster.
 */


#ifndef _NGX_AUTOSCALE_COLLECTOR_H_INCLUDED_
#define _NGX_AUTOSCALE_COLLECTOR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_leader.h"


/* arms the collect timer of this worker */
ngx_int_t ngx_autoscale_collector_init(ngx_cycle_t *cycle,
    ngx_autoscale_leader_t *ld);
/* after the jobs' pool is destroyed: frees what a collection held */
void ngx_autoscale_collector_exit(void);


#endif /* _NGX_AUTOSCALE_COLLECTOR_H_INCLUDED_ */
