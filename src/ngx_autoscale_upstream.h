
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_upstream: a cluster's serving agents as an upstream's peers.
 */


#ifndef _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_
#define _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * "autoscale_upstream <cluster id> [max_fails=N] [fail_timeout=T]
 * [hold=T] [hold_max=N]"
 */
char *ngx_autoscale_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* when an autoscale_upstream may hold requests: the phase handler */
ngx_int_t ngx_autoscale_upstream_init_hold(ngx_conf_t *cf);
ngx_int_t ngx_autoscale_upstream_hold_handler(ngx_http_request_t *r);


#endif /* _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_ */
