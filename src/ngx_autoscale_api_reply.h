
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The API's responses: a JSON document, an error in the API's shape, no
 * content.  The bottom of the API: it knows no endpoint and no query.
 */


#ifndef _NGX_AUTOSCALE_API_REPLY_H_INCLUDED_
#define _NGX_AUTOSCALE_API_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <cjson/cJSON.h>

#include "ngx_autoscale_route.h"


ngx_int_t ngx_autoscale_api_reply_error(ngx_http_request_t *r,
    ngx_autoscale_err_t *err);
ngx_int_t ngx_autoscale_api_reply_send(ngx_http_request_t *r,
    ngx_uint_t status, cJSON *doc);
ngx_int_t ngx_autoscale_api_reply_send_buf(ngx_http_request_t *r,
    ngx_uint_t status, const char *type, ngx_buf_t *b);
ngx_int_t ngx_autoscale_api_reply_no_content(ngx_http_request_t *r);
ngx_buf_t *ngx_autoscale_api_reply_json_buf(ngx_http_request_t *r,
    cJSON *doc);

/* the response to a query string where none is taken */
ngx_int_t ngx_autoscale_api_reply_args_error(ngx_http_request_t *r);
ngx_int_t ngx_autoscale_api_reply_cluster_not_found(ngx_http_request_t *r,
    ngx_autoscale_route_t *route);


#endif /* _NGX_AUTOSCALE_API_REPLY_H_INCLUDED_ */
