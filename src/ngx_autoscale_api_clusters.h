
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The cluster endpoints: clusters, clusters/{id}, its transitions (scale,
 * hibernate, reactivate) and its history (metrics, events, agents).
 */


#ifndef _NGX_AUTOSCALE_API_CLUSTERS_H_INCLUDED_
#define _NGX_AUTOSCALE_API_CLUSTERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_api_query.h"


ngx_int_t ngx_autoscale_api_clusters(ngx_autoscale_api_ctx_t *ctx);


#endif /* _NGX_AUTOSCALE_API_CLUSTERS_H_INCLUDED_ */
