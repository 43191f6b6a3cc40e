
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * A cluster's history: clusters/{id}/metrics, events and agents.
 */


#ifndef _NGX_AUTOSCALE_API_HISTORY_H_INCLUDED_
#define _NGX_AUTOSCALE_API_HISTORY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_api_query.h"


ngx_int_t ngx_autoscale_api_history(ngx_autoscale_api_ctx_t *ctx);


#endif /* _NGX_AUTOSCALE_API_HISTORY_H_INCLUDED_ */
