
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The blueprint endpoints: blueprints and blueprints/{id}.
 */


#ifndef _NGX_AUTOSCALE_API_BLUEPRINTS_H_INCLUDED_
#define _NGX_AUTOSCALE_API_BLUEPRINTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_api_query.h"


ngx_int_t ngx_autoscale_api_blueprints(ngx_autoscale_api_ctx_t *ctx);


#endif /* _NGX_AUTOSCALE_API_BLUEPRINTS_H_INCLUDED_ */
