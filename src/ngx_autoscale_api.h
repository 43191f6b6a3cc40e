
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The HTTP API served where "autoscale_api" is set.
 */


#ifndef _NGX_AUTOSCALE_API_H_INCLUDED_
#define _NGX_AUTOSCALE_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_autoscale_api_handler(ngx_http_request_t *r);


#endif /* _NGX_AUTOSCALE_API_H_INCLUDED_ */
