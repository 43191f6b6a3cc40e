
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_pg.h"


ngx_int_t
ngx_autoscale_api_reply_error(ngx_http_request_t *r, ngx_autoscale_err_t *err)
{
    ngx_table_elt_t                 *h;
    ngx_http_autoscale_main_conf_t  *amcf;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api error %d %s: %s",
                   err->status, err->code, err->text);

    if (err->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Retry-After");

        h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (h->value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->value.len = ngx_sprintf(h->value.data, "%T",
                                   ngx_autoscale_pg_retry_after(amcf->pool))
                       - h->value.data;
    }

    return ngx_autoscale_api_reply_send(r, err->status,
                                        ngx_autoscale_json_error(err->status,
                                                                 err->code,
                                                                 err->text));
}


ngx_int_t
ngx_autoscale_api_reply_send(ngx_http_request_t *r, ngx_uint_t status,
    cJSON *doc)
{
    ngx_buf_t  *b;

    b = ngx_autoscale_api_reply_json_buf(r, doc);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_reply_send_buf(r, status, "application/json", b);
}


/* doc, which is freed, as one line of text; NULL on failure */
ngx_buf_t *
ngx_autoscale_api_reply_json_buf(ngx_http_request_t *r, cJSON *doc)
{
    char       *text;
    size_t      len;
    ngx_buf_t  *b;

    if (doc == NULL) {
        return NULL;
    }

    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);

    if (text == NULL) {
        return NULL;
    }

    len = ngx_strlen(text);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b != NULL) {
        b->last = ngx_cpymem(b->last, text, len);
        *b->last++ = '\n';
    }

    cJSON_free(text);

    return b;
}


/* the whole response in one buffer */
ngx_int_t
ngx_autoscale_api_reply_send_buf(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, ngx_buf_t *b)
{
    ngx_int_t     rc;
    ngx_chain_t   out;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api response %ui %s, %O bytes",
                   status, type, r->headers_out.content_length_n);

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_autoscale_api_reply_no_content(ngx_http_request_t *r)
{
    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api response 204, no content");

    return ngx_http_send_header(r);
}


/* the response to a query string where none is taken */
ngx_int_t
ngx_autoscale_api_reply_args_error(ngx_http_request_t *r)
{
    ngx_autoscale_err_t  err;

    ngx_autoscale_route_set_err(&err, NGX_HTTP_BAD_REQUEST, "InvalidQuery",
                                "this path takes no query parameters");

    return ngx_autoscale_api_reply_error(r, &err);
}



ngx_int_t
ngx_autoscale_api_reply_cluster_not_found(ngx_http_request_t *r,
    ngx_autoscale_route_t *route)
{
    ngx_autoscale_err_t  err;

    /* the id passed validation, so it is safe to repeat */
    ngx_autoscale_route_set_err(&err, NGX_HTTP_NOT_FOUND, "ClusterNotFound",
                                "cluster '%.*s' not found",
                                (int) route->id_len, route->id);

    return ngx_autoscale_api_reply_error(r, &err);
}
