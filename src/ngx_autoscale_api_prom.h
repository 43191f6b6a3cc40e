
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The Prometheus endpoint: metrics, read from the shared zone only.
 */


#ifndef _NGX_AUTOSCALE_API_PROM_H_INCLUDED_
#define _NGX_AUTOSCALE_API_PROM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_api_query.h"


ngx_int_t ngx_autoscale_api_prom(ngx_autoscale_api_ctx_t *ctx);


#endif /* _NGX_AUTOSCALE_API_PROM_H_INCLUDED_ */
