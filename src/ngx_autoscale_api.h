
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The HTTP API served where "autoscale_api" is set: the handler reads the
 * request and dispatches it to the endpoints (ngx_autoscale_api_clusters.c,
 * _history.c, _blueprints.c, _agents.c, _prom.c), which query and answer
 * through ngx_autoscale_api_query.c and ngx_autoscale_api_reply.c.
 */


#ifndef _NGX_AUTOSCALE_API_H_INCLUDED_
#define _NGX_AUTOSCALE_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale_body.h"


ngx_int_t ngx_autoscale_api_handler(ngx_http_request_t *r);

/* nginx's own error pages in API locations become JSON */
ngx_int_t ngx_autoscale_api_filter_init(ngx_conf_t *cf);


#endif /* _NGX_AUTOSCALE_API_H_INCLUDED_ */
