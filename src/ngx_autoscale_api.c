
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api.h"
#include "ngx_autoscale_api_agents.h"
#include "ngx_autoscale_api_blueprints.h"
#include "ngx_autoscale_api_clusters.h"
#include "ngx_autoscale_api_history.h"
#include "ngx_autoscale_api_prom.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_route.h"


typedef struct {
    ngx_uint_t                    status;
    const char                   *code;
    const char                   *text;
} ngx_autoscale_api_page_t;


static ngx_int_t ngx_autoscale_api_dispatch(ngx_autoscale_api_ctx_t *ctx);
static void ngx_autoscale_api_body_handler(ngx_http_request_t *r);
static void ngx_autoscale_api_body_wait(ngx_http_request_t *r);
static ngx_int_t ngx_autoscale_api_read_body(ngx_http_request_t *r,
    ngx_autoscale_api_ctx_t *ctx, ngx_autoscale_err_t *err);
static ngx_int_t ngx_autoscale_api_json_type(ngx_http_request_t *r);
static unsigned ngx_autoscale_api_method(ngx_http_request_t *r);
static const char *ngx_autoscale_api_write_refused(
    ngx_http_autoscale_loc_conf_t *alcf, ngx_autoscale_route_t *rt);
static void ngx_autoscale_api_allow(ngx_http_request_t *r, unsigned methods);
static ngx_int_t ngx_autoscale_api_refuse(ngx_http_request_t *r,
    ngx_autoscale_err_t *err);
static ngx_int_t ngx_autoscale_api_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_autoscale_api_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


/* what nginx's own error pages say in an API location */
static ngx_autoscale_api_page_t  ngx_autoscale_api_pages[] = {
    { NGX_HTTP_BAD_REQUEST, "BadRequest",
      "the request is malformed (e.g. a broken chunked body)" },
    { NGX_HTTP_UNAUTHORIZED, "Unauthorized", "authentication is required" },
    { NGX_HTTP_FORBIDDEN, "Forbidden", "access is denied" },
    { NGX_HTTP_NOT_FOUND, "NotFound", "no such API path" },
    { NGX_HTTP_NOT_ALLOWED, "MethodNotAllowed",
      "the method is not allowed here" },
    { NGX_HTTP_REQUEST_TIME_OUT, "RequestTimeout",
      "the request body did not arrive in time" },
    { NGX_HTTP_LENGTH_REQUIRED, "LengthRequired",
      "the request body needs a length" },
    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "BodyTooLarge",
      "the request body is larger than client_max_body_size" },
    { 429, "TooManyRequests", "too many requests" },
    { NGX_HTTP_INTERNAL_SERVER_ERROR, "InternalError",
      "the server could not answer this request" },
    { NGX_HTTP_NOT_IMPLEMENTED, "NotImplemented",
      "the request is not supported" },
    { NGX_HTTP_SERVICE_UNAVAILABLE, "ServiceUnavailable",
      "the service is unavailable" },
    { 0, "HTTPError", "the server refused the request" }
};


static ngx_http_output_header_filter_pt  ngx_autoscale_api_next_header;
static ngx_http_output_body_filter_pt    ngx_autoscale_api_next_body;


ngx_int_t
ngx_autoscale_api_handler(ngx_http_request_t *r)
{
    unsigned                        method;
    ngx_int_t                       rc;
    ngx_str_t                       path;
    const char                     *refused;
    ngx_pool_cleanup_t             *cln;
    ngx_autoscale_err_t             err;
    ngx_autoscale_api_ctx_t        *ctx;
    ngx_http_autoscale_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_autoscale_api_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (ctx == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* frees the body and drops a query of a request that goes away */
    cln->handler = ngx_autoscale_api_query_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ngx_http_set_ctx(r, ctx, ngx_http_autoscale_module);

    path = r->uri;

    if (path.len >= alcf->prefix.len) {
        path.data += alcf->prefix.len;
        path.len -= alcf->prefix.len;

    } else {
        ngx_str_null(&path);
    }

    /* "location /v1" serves /v1/clusters, not /v1clusters */
    if (path.len && path.data[0] != '/' && alcf->prefix.len
        && alcf->prefix.data[alcf->prefix.len - 1] != '/')
    {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_NOT_FOUND, "NotFound",
                                    "no such API path");
        return ngx_autoscale_api_refuse(r, &err);
    }

    if (ngx_autoscale_route((const char *) path.data, path.len, &ctx->route,
                            &err)
        != 0)
    {
        return ngx_autoscale_api_refuse(r, &err);
    }

    method = ngx_autoscale_api_method(r);

    if (!(method & ctx->route.methods)) {
        ngx_autoscale_api_allow(r, ctx->route.methods);
        ngx_autoscale_route_set_err(&err, NGX_HTTP_NOT_ALLOWED,
                                    "MethodNotAllowed",
                                    "method %.*s is not allowed here",
                                    (int) ngx_min(r->method_name.len, 16),
                                    r->method_name.data);
        return ngx_autoscale_api_refuse(r, &err);
    }

    refused = (method & NGX_AUTOSCALE_WRITES)
              ? ngx_autoscale_api_write_refused(alcf, &ctx->route) : NULL;

    if (refused) {
        ngx_autoscale_api_allow(r, ctx->route.methods & NGX_AUTOSCALE_READS);
        ngx_autoscale_route_set_err(&err, NGX_HTTP_NOT_ALLOWED,
                                    "MethodDisabled", "%s", refused);
        return ngx_autoscale_api_refuse(r, &err);
    }

    if (!(method & (NGX_AUTOSCALE_POST | NGX_AUTOSCALE_PUT))) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_autoscale_api_dispatch(ctx);
    }

    if (r->headers_in.content_length_n > NGX_AUTOSCALE_BODY_MAX) {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "BodyTooLarge",
                                    "the request body is larger than %d bytes",
                                    NGX_AUTOSCALE_BODY_MAX);
        return ngx_autoscale_api_refuse(r, &err);
    }

    if ((r->headers_in.content_length_n > 0 || r->headers_in.chunked)
        && ngx_autoscale_api_json_type(r) != NGX_OK)
    {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                    "UnsupportedMediaType",
                                    "the request body must be "
                                    "application/json");
        return ngx_autoscale_api_refuse(r, &err);
    }

    /* the whole body, in memory or in a temporary file, is parsed at once */
    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_autoscale_api_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /*
     * nginx closes a connection whose body stops arriving without a word:
     * its reader is wrapped so that a 408 is answered first.  HTTP/2
     * reads bodies otherwise, and keeps its own way.
     */
    if (rc == NGX_AGAIN && r->http_version < NGX_HTTP_VERSION_20
        && r->read_event_handler != ngx_http_block_reading)
    {
        ctx->read_body = r->read_event_handler;
        r->read_event_handler = ngx_autoscale_api_body_wait;
    }

    return NGX_DONE;
}


static void
ngx_autoscale_api_body_wait(ngx_http_request_t *r)
{
    ngx_event_t              *rev;
    ngx_autoscale_err_t       err;
    ngx_autoscale_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_autoscale_module);
    rev = r->connection->read;

    if (!rev->timedout) {
        ctx->read_body(r);
        return;
    }

    /* the rest of the body is not awaited: lingering close drains it */
    rev->timedout = 0;
    r->read_event_handler = ngx_http_block_reading;
    r->keepalive = 0;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT,
                  "autoscale: client timed out sending the request body");

    ngx_autoscale_route_set_err(&err, NGX_HTTP_REQUEST_TIME_OUT,
                                "RequestTimeout",
                                "the request body did not arrive in time");

    ngx_http_finalize_request(r, ngx_autoscale_api_reply_error(r, &err));
}


static void
ngx_autoscale_api_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_autoscale_err_t       err;
    ngx_autoscale_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_autoscale_module);

    rc = ngx_autoscale_api_read_body(r, ctx, &err);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api body read: %i", rc);

    if (rc == NGX_OK) {
        rc = ngx_autoscale_api_dispatch(ctx);

    } else if (rc == NGX_DECLINED) {
        rc = ngx_autoscale_api_reply_error(r, &err);
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_autoscale_api_dispatch(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "autoscale api %V \"%V\": route %d",
                   &ctx->request->method_name, &ctx->request->uri,
                   (int) ctx->route.route);

    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_BLUEPRINTS:
    case NGX_AUTOSCALE_ROUTE_BLUEPRINT:
        return ngx_autoscale_api_blueprints(ctx);

    case NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS:
    case NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS:
    case NGX_AUTOSCALE_ROUTE_CLUSTER_AGENTS:
        return ngx_autoscale_api_history(ctx);

    case NGX_AUTOSCALE_ROUTE_HEARTBEAT:
        return ngx_autoscale_api_agents_heartbeat(ctx);

    case NGX_AUTOSCALE_ROUTE_PROMETHEUS:
        return ngx_autoscale_api_prom(ctx);

    default:
        return ngx_autoscale_api_clusters(ctx);
    }
}


/*
 * The body as JSON into ctx->body: NGX_OK, or NGX_DECLINED with the
 * client's error in err (nothing is sent here), or an HTTP status.
 */
static ngx_int_t
ngx_autoscale_api_read_body(ngx_http_request_t *r,
    ngx_autoscale_api_ctx_t *ctx, ngx_autoscale_err_t *err)
{
    off_t                 len;
    u_char               *buf, *p;
    ssize_t               n;
    ngx_buf_t            *b;
    ngx_chain_t          *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (len > NGX_AUTOSCALE_BODY_MAX) {
        ngx_autoscale_route_set_err(err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "BodyTooLarge",
                                    "the request body is larger than %d bytes",
                                    NGX_AUTOSCALE_BODY_MAX);
        r->keepalive = 0;
        return NGX_DECLINED;
    }

    if (ngx_autoscale_api_json_type(r) != NGX_OK) {
        ngx_autoscale_route_set_err(err, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                    "UnsupportedMediaType",
                                    "the request body must be "
                                    "application/json");
        return NGX_DECLINED;
    }

    buf = ngx_pnalloc(r->pool, (size_t) len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = buf;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        /* a large body that nginx kept in a temporary file */
        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "autoscale: cannot read the request body from "
                          "\"%V\"", &b->file->name);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    ctx->body = ngx_autoscale_body_parse((const char *) buf, p - buf, err);

    if (ctx->body == NULL) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_api_json_type(ngx_http_request_t *r)
{
    size_t      len;
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    type = &r->headers_in.content_type->value;
    len = sizeof("application/json") - 1;

    if (type->len < len
        || ngx_strncasecmp(type->data, (u_char *) "application/json", len)
           != 0
        || (type->len > len && type->data[len] != ';'
            && type->data[len] != ' '))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* an error before the body is read: the body is dropped unread */
static ngx_int_t
ngx_autoscale_api_refuse(ngx_http_request_t *r, ngx_autoscale_err_t *err)
{
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    return ngx_autoscale_api_reply_error(r, err);
}


static unsigned
ngx_autoscale_api_method(ngx_http_request_t *r)
{
    switch (r->method) {
    case NGX_HTTP_GET:
        return NGX_AUTOSCALE_GET;
    case NGX_HTTP_HEAD:
        return NGX_AUTOSCALE_HEAD;
    case NGX_HTTP_POST:
        return NGX_AUTOSCALE_POST;
    case NGX_HTTP_PUT:
        return NGX_AUTOSCALE_PUT;
    case NGX_HTTP_DELETE:
        return NGX_AUTOSCALE_DELETE;
    default:
        return 0;
    }
}


/*
 * NULL when this location takes a write to this route, else the reason:
 * "write=agents" lets agents report and keeps every other change of the
 * registry for the operators' location.
 */
static const char *
ngx_autoscale_api_write_refused(ngx_http_autoscale_loc_conf_t *alcf,
    ngx_autoscale_route_t *rt)
{
    switch (alcf->write) {

    case NGX_AUTOSCALE_WRITE_ON:
        return NULL;

    case NGX_AUTOSCALE_WRITE_AGENTS:
        if (rt->route == NGX_AUTOSCALE_ROUTE_HEARTBEAT) {
            return NULL;
        }

        return "only agent heartbeats are allowed here: the location has "
               "\"autoscale_api write=agents\"";

    default:
        return "writes are disabled here: \"autoscale_api write=on\" "
               "enables them";
    }
}


static void
ngx_autoscale_api_allow(ngx_http_request_t *r, unsigned methods)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    if (methods == 0) {
        return;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return;
    }

    p = ngx_pnalloc(r->pool, sizeof("GET, HEAD, POST, PUT, DELETE"));
    if (p == NULL) {
        h->hash = 0;
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = p;

    if (methods & NGX_AUTOSCALE_GET) {
        p = ngx_cpymem(p, "GET, ", 5);
    }
    if (methods & NGX_AUTOSCALE_HEAD) {
        p = ngx_cpymem(p, "HEAD, ", 6);
    }
    if (methods & NGX_AUTOSCALE_POST) {
        p = ngx_cpymem(p, "POST, ", 6);
    }
    if (methods & NGX_AUTOSCALE_PUT) {
        p = ngx_cpymem(p, "PUT, ", 5);
    }
    if (methods & NGX_AUTOSCALE_DELETE) {
        p = ngx_cpymem(p, "DELETE, ", 8);
    }

    h->value.len = (p - h->value.data) - 2;
}


/*
 * nginx's own errors in an API location (400 for a broken chunked body,
 * 413 over client_max_body_size, 500, ...) come from its special response
 * handler as text/html with r->err_status set, after any error_page of the
 * location has had its turn; they are rewritten here to the API's JSON
 * error, {"error": {"status", "code", "text"}}, keeping the status and
 * every other header.
 */
ngx_int_t
ngx_autoscale_api_filter_init(ngx_conf_t *cf)
{
    ngx_autoscale_api_next_header = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_autoscale_api_header_filter;

    ngx_autoscale_api_next_body = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_autoscale_api_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_api_header_filter(ngx_http_request_t *r)
{
    ngx_buf_t                      *b;
    ngx_str_t                      *type;
    ngx_autoscale_api_ctx_t        *ctx;
    ngx_autoscale_api_page_t       *page;
    ngx_http_autoscale_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);
    type = &r->headers_out.content_type;

    if (!alcf->api || r->err_status < NGX_HTTP_BAD_REQUEST
        || type->len != sizeof("text/html") - 1
        || ngx_strncmp(type->data, "text/html", type->len) != 0)
    {
        return ngx_autoscale_api_next_header(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_autoscale_module);

    if (ctx == NULL) {
        /* refused before the handler ran, e.g. by Content-Length */
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_autoscale_api_ctx_t));
        if (ctx == NULL) {
            /* out of memory: nginx's page is better than none */
            return ngx_autoscale_api_next_header(r);
        }

        ctx->request = r;
        ngx_http_set_ctx(r, ctx, ngx_http_autoscale_module);
    }

    for (page = ngx_autoscale_api_pages; page->status; page++) {
        if (page->status == (ngx_uint_t) r->err_status) {
            break;
        }
    }

    b = ngx_autoscale_api_reply_json_buf(r,
                                         ngx_autoscale_json_error(r->err_status,
                                                                  page->code,
                                                                  page->text));
    if (b == NULL) {
        return ngx_autoscale_api_next_header(r);
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ctx->nginx_error = b;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api nginx's error page %i as JSON",
                   r->err_status);

    ngx_str_set(type, "application/json");
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    return ngx_autoscale_api_next_header(r);
}


static ngx_int_t
ngx_autoscale_api_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                     out, *cl;
    ngx_autoscale_api_ctx_t        *ctx;
    ngx_http_autoscale_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);

    /* elsewhere the module's ctx is another's (a held request's) */
    ctx = alcf->api ? ngx_http_get_module_ctx(r, ngx_http_autoscale_module)
                    : NULL;

    if (ctx == NULL || ctx->nginx_error == NULL || in == NULL) {
        return ngx_autoscale_api_next_body(r, in);
    }

    /* nginx's page is dropped, and the JSON goes once in its place */
    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->nginx_error_sent) {
        return ngx_autoscale_api_next_body(r, NULL);
    }

    ctx->nginx_error_sent = 1;

    out.buf = ctx->nginx_error;
    out.next = NULL;

    return ngx_autoscale_api_next_body(r, &out);
}
