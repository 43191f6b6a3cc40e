
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * A request of the API and the queries it waits for: the request's
 * context, the statement's parameters from the body and the query string,
 * and the result's rows as JSON.  Below the endpoints, above the replies.
 */


#ifndef _NGX_AUTOSCALE_API_QUERY_H_INCLUDED_
#define _NGX_AUTOSCALE_API_QUERY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>
#include <cjson/cJSON.h>

#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_route.h"


typedef struct ngx_autoscale_api_ctx_s  ngx_autoscale_api_ctx_t;

typedef ngx_int_t (*ngx_autoscale_api_done_pt)(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);


struct ngx_autoscale_api_ctx_s {
    ngx_http_request_t           *request;
    ngx_autoscale_pg_query_t     *query;
    ngx_autoscale_api_done_pt     done;
    ngx_autoscale_route_t         route;
    cJSON                        *body;        /* NULL: none was sent */
    ngx_int_t                     page;
    ngx_int_t                     page_size;
    ngx_int_t                     target;      /* for a done handler */
    void                         *data;        /* the same */
    ngx_http_event_handler_pt     read_body;   /* nginx's body reader */
    ngx_buf_t                    *nginx_error; /* its JSON, to be sent */
    unsigned                      nginx_error_sent:1;
};


ngx_int_t ngx_autoscale_api_query_send(ngx_autoscale_api_ctx_t *ctx,
    const char *sql, ngx_uint_t nparams, ngx_str_t *params,
    ngx_autoscale_api_done_pt done);

/* a pool cleanup: drops the query of a request that goes away */
void ngx_autoscale_api_query_cleanup(void *data);

/* validated body fields as parameters, from params[0]; NULL when absent */
ngx_int_t ngx_autoscale_api_query_fields(ngx_autoscale_api_ctx_t *ctx,
    const ngx_autoscale_field_t *fields, size_t n, ngx_str_t *params,
    ngx_autoscale_err_t *err);

/* the same for a write: a query string or a refused field is answered */
ngx_int_t ngx_autoscale_api_query_write_fields(ngx_autoscale_api_ctx_t *ctx,
    const ngx_autoscale_field_t *fields, size_t n, ngx_str_t *params,
    ngx_int_t *rc);

ngx_int_t ngx_autoscale_api_query_check_error(PGresult *res, int first,
    ngx_autoscale_err_t *err);
void ngx_autoscale_api_query_bounds_error(PGresult *res, const char *name,
    int col, int check, ngx_autoscale_err_t *err);

cJSON *ngx_autoscale_api_query_row(PGresult *res, int row, int first,
    const ngx_autoscale_col_t *cols, size_t ncols);
cJSON *ngx_autoscale_api_query_rows(PGresult *res, int first,
    const ngx_autoscale_col_t *cols, size_t ncols);
ngx_int_t ngx_autoscale_api_query_int(PGresult *res, int row, int col);
ngx_int_t ngx_autoscale_api_query_paging(ngx_autoscale_api_ctx_t *ctx,
    ngx_autoscale_arg_t *page, ngx_autoscale_arg_t *page_size,
    ngx_str_t *params);
ngx_int_t ngx_autoscale_api_query_send_page(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res, const char *key, const ngx_autoscale_col_t *cols,
    size_t ncols);

ngx_int_t ngx_autoscale_api_query_number(ngx_http_request_t *r,
    ngx_str_t *s, ngx_int_t n);
ngx_int_t ngx_autoscale_api_query_node(ngx_http_request_t *r,
    ngx_str_t *node);


#endif /* _NGX_AUTOSCALE_API_QUERY_H_INCLUDED_ */
