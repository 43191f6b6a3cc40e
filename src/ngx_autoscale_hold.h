
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Requests held before proxy_pass: while their cluster has no worker, or
 * while every worker has max_conns requests in flight.
 */


#ifndef _NGX_AUTOSCALE_HOLD_H_INCLUDED_
#define _NGX_AUTOSCALE_HOLD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale_upstream.h"


/* the precontent phase handler, when an autoscale_upstream may hold */
ngx_int_t ngx_autoscale_hold_init(ngx_conf_t *cf);
ngx_int_t ngx_autoscale_hold_handler(ngx_http_request_t *r);
/* the place at an agent the request was given before proxy_pass, if any */
ngx_autoscale_agent_t *ngx_autoscale_hold_take(ngx_http_request_t *r,
    ngx_autoscale_addr_t *addr);
/* a place at an agent of this upstream came free */
void ngx_autoscale_hold_kick(ngx_autoscale_upstream_conf_t *ascf);


#endif /* _NGX_AUTOSCALE_HOLD_H_INCLUDED_ */
