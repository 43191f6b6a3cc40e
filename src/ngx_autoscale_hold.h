
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Scale from zero: requests held while their cluster has no worker.
 */


#ifndef _NGX_AUTOSCALE_HOLD_H_INCLUDED_
#define _NGX_AUTOSCALE_HOLD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the precontent phase handler, when an autoscale_upstream may hold */
ngx_int_t ngx_autoscale_hold_init(ngx_conf_t *cf);
ngx_int_t ngx_autoscale_hold_handler(ngx_http_request_t *r);


#endif /* _NGX_AUTOSCALE_HOLD_H_INCLUDED_ */
