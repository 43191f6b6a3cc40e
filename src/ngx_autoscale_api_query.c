
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_sql_api.h"


static ngx_int_t ngx_autoscale_api_query_done(void *data, ngx_int_t status,
    PGresult *res);
static ngx_int_t ngx_autoscale_api_query_check_order(const char **row,
    int down, int up, ngx_autoscale_err_t *err);


ngx_int_t
ngx_autoscale_api_query_send(ngx_autoscale_api_ctx_t *ctx, const char *sql,
    ngx_uint_t nparams, ngx_str_t *params, ngx_autoscale_api_done_pt done)
{
    ngx_http_request_t              *r = ctx->request;
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    ctx->done = done;
    ctx->query = ngx_autoscale_pg_query(amcf->pool, sql, nparams, params,
                                        ngx_autoscale_api_query_done, ctx);
    if (ctx->query == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;

    /* the statement's first words are enough to tell which it is */
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api query sent, %ui parameters: \"%*s ...\"",
                   nparams, ngx_min(ngx_strlen(sql), 48), sql);

    return NGX_DONE;
}


static ngx_int_t
ngx_autoscale_api_query_done(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_api_ctx_t  *ctx = data;

    ngx_int_t                        rc;
    ngx_connection_t                *c;
    ngx_http_request_t              *r;
    ngx_autoscale_err_t              err;
    ngx_http_autoscale_main_conf_t  *amcf;

    r = ctx->request;
    c = r->connection;
    ctx->query = NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "autoscale api query answered: status %i, %d rows",
                   status, res ? PQntuples(res) : -1);

    if (status != NGX_AUTOSCALE_PG_OK) {
        amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);
        ngx_autoscale_shm_count(amcf->shm_zone, db_errors);
    }

    switch (status) {

    case NGX_AUTOSCALE_PG_OK:
        if (r->method != NGX_HTTP_GET
            && ctx->route.route <= NGX_AUTOSCALE_ROUTE_REACTIVATE)
        {
            /* a change of a target may wait for autoscale_actuate */
            amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);
            ngx_autoscale_shm_count(amcf->shm_zone, actuate_kicks);
        }

        rc = ctx->done(ctx, res);
        break;

    case NGX_AUTOSCALE_PG_SQL_ERROR:
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "autoscale: database error: %s",
                      res ? PQresultErrorMessage(res) : "no result");
        ngx_autoscale_route_set_err(&err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                    "DatabaseError",
                                    "the database could not answer this "
                                    "request");
        rc = ngx_autoscale_api_reply_error(r, &err);
        break;

    default:
        ngx_autoscale_route_set_err(&err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "DatabaseUnavailable",
                                    status == NGX_AUTOSCALE_PG_TIMEOUT
                                    ? "the database did not answer in time"
                                    : "the database cannot be reached");
        rc = ngx_autoscale_api_reply_error(r, &err);
        break;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);

    return NGX_OK;
}


void
ngx_autoscale_api_query_cleanup(void *data)
{
    ngx_autoscale_api_ctx_t  *ctx = data;

    if (ctx->query) {
        /* the request is freed: its connection's log may be gone */
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "autoscale api query dropped: the request went away");

        ngx_autoscale_pg_cancel(ctx->query);
        ctx->query = NULL;
    }

    if (ctx->body) {
        cJSON_Delete(ctx->body);
        ctx->body = NULL;
    }
}


ngx_int_t
ngx_autoscale_api_query_fields(ngx_autoscale_api_ctx_t *ctx,
    const ngx_autoscale_field_t *fields, size_t n, ngx_str_t *params,
    ngx_autoscale_err_t *err)
{
    size_t                  i;
    ngx_int_t               rc;
    ngx_autoscale_value_t  *values;

    values = ngx_palloc(ctx->request->pool,
                        n * sizeof(ngx_autoscale_value_t));
    if (values == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_OK;

    if (ngx_autoscale_body_fields(ctx->body, fields, n, values, err) != 0)
    {
        rc = NGX_DECLINED;
        goto done;
    }

    for (i = 0; i < n; i++) {
        ngx_str_null(&params[i]);

        if (values[i].text == NULL) {
            if (values[i].present) {
                /* an explicit null clears: the statements read '' so */
                ngx_str_set(&params[i], "");
            }
            continue;
        }

        params[i].len = ngx_strlen(values[i].text);
        params[i].data = ngx_pnalloc(ctx->request->pool, params[i].len + 1);
        if (params[i].data == NULL) {
            rc = NGX_ERROR;
            goto done;
        }

        ngx_memcpy(params[i].data, values[i].text, params[i].len + 1);
    }

done:

    ngx_autoscale_body_free(values, n);

    return rc;
}


/*
 * The fields of a write, which takes no query string: NGX_OK with params
 * set, or NGX_DONE with what the handler returns in *rc, the refusal sent.
 */
ngx_int_t
ngx_autoscale_api_query_write_fields(ngx_autoscale_api_ctx_t *ctx,
    const ngx_autoscale_field_t *fields, size_t n, ngx_str_t *params,
    ngx_int_t *rc)
{
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (r->args.len) {
        *rc = ngx_autoscale_api_reply_args_error(r);
        return NGX_DONE;
    }

    switch (ngx_autoscale_api_query_fields(ctx, fields, n, params, &err)) {

    case NGX_OK:
        return NGX_OK;

    case NGX_DECLINED:
        *rc = ngx_autoscale_api_reply_error(r, &err);
        return NGX_DONE;

    default:
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }
}


/*
 * Which rule a refused write broke, from NGX_AUTOSCALE_CHECK_COLUMNS at
 * column first: NGX_DECLINED with err set, or NGX_OK if none.
 */
ngx_int_t
ngx_autoscale_api_query_check_error(PGresult *res, int first,
    ngx_autoscale_err_t *err)
{
    int          i;
    double       value;
    ngx_int_t    min, max;
    const char  *row[NGX_AUTOSCALE_CHECK_NCOLUMNS];

    if (PQntuples(res) == 0 || PQgetisnull(res, 0, first)) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_AUTOSCALE_CHECK_NCOLUMNS; i++) {
        row[i] = PQgetvalue(res, 0, first + i);
    }

    min = ngx_autoscale_api_query_int(res, 0, first
                                      + NGX_AUTOSCALE_CHECK_COL_MIN_WORKERS);
    max = ngx_autoscale_api_query_int(res, 0, first
                                      + NGX_AUTOSCALE_CHECK_COL_MAX_WORKERS);

    if (min > max) {
        ngx_autoscale_route_set_err(err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                    "min_workers (%ld) must not exceed "
                                    "max_workers (%ld)",
                                    (long) min, (long) max);
        return NGX_DECLINED;
    }

    if (ngx_autoscale_api_query_check_order(row,
                                       NGX_AUTOSCALE_CHECK_COL_SCALE_DOWN_QUEUE,
                                       NGX_AUTOSCALE_CHECK_COL_SCALE_UP_QUEUE,
                                       err)
        != NGX_OK
        || ngx_autoscale_api_query_check_order(row,
                                       NGX_AUTOSCALE_CHECK_COL_SCALE_DOWN_CPU,
                                       NGX_AUTOSCALE_CHECK_COL_SCALE_UP_CPU,
                                       err)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    value = strtod(row[NGX_AUTOSCALE_CHECK_COL_TARGET_VALUE], NULL);

    if (ngx_autoscale_policy_vocab_policy(row[NGX_AUTOSCALE_CHECK_COL_POLICY])
        == NGX_AUTOSCALE_POLICY_DEMAND
        && value > NGX_AUTOSCALE_POLICY_PERCENT_MAX)
    {
        ngx_autoscale_route_set_err(err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                    "target_value (%s) must be at most 100 for "
                                    "policy 'demand' (a utilization in %%)",
                                    row[NGX_AUTOSCALE_CHECK_COL_TARGET_VALUE]);
        return NGX_DECLINED;
    }

    if (ngx_autoscale_policy_vocab_metric(
            row[NGX_AUTOSCALE_CHECK_COL_TARGET_METRIC])
        != NGX_AUTOSCALE_METRIC_QUEUE_PER_WORKER
        && value > NGX_AUTOSCALE_POLICY_PERCENT_MAX)
    {
        ngx_autoscale_route_set_err(err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                    "target_value (%s) must be at most 100 for "
                                    "target_metric '%s'",
                                    row[NGX_AUTOSCALE_CHECK_COL_TARGET_VALUE],
                                    row[NGX_AUTOSCALE_CHECK_COL_TARGET_METRIC]);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A refused create whose workers (column col) fell outside the bounds
 * among the check columns at column check.
 */
void
ngx_autoscale_api_query_bounds_error(PGresult *res, const char *name, int col,
    int check, ngx_autoscale_err_t *err)
{
    ngx_autoscale_route_set_err(err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                "%s (%s) must be between min_workers (%s) "
                                "and max_workers (%s)", name,
                                PQgetvalue(res, 0, col),
                                PQgetvalue(res, 0, check
                                    + NGX_AUTOSCALE_CHECK_COL_MIN_WORKERS),
                                PQgetvalue(res, 0, check
                                    + NGX_AUTOSCALE_CHECK_COL_MAX_WORKERS));
}


/* a scale-down threshold must not exceed its scale-up one */
static ngx_int_t
ngx_autoscale_api_query_check_order(const char **row, int down, int up,
    ngx_autoscale_err_t *err)
{
    static const char *const  names[NGX_AUTOSCALE_CHECK_NCOLUMNS] = {
        "min_workers", "max_workers", "scale_up_queue", "scale_down_queue",
        "scale_up_cpu", "scale_down_cpu", "target_metric", "target_value",
        "policy"
    };

    if (strtod(row[down], NULL) <= strtod(row[up], NULL)) {
        return NGX_OK;
    }

    ngx_autoscale_route_set_err(err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                "%s (%s) must not exceed %s (%s)",
                                names[down], row[down], names[up], row[up]);

    return NGX_DECLINED;
}


/* columns first .. first + ncols - 1 of a row, as a JSON object */
cJSON *
ngx_autoscale_api_query_row(PGresult *res, int row, int first,
    const ngx_autoscale_col_t *cols, size_t ncols)
{
    size_t        i;
    const char  **values;
    cJSON        *obj;

    if (PQnfields(res) < first + (int) ncols) {
        return NULL;
    }

    values = ngx_alloc(ncols * sizeof(char *), ngx_cycle->log);
    if (values == NULL) {
        return NULL;
    }

    for (i = 0; i < ncols; i++) {
        values[i] = PQgetisnull(res, row, first + i)
                    ? NULL : PQgetvalue(res, row, first + i);
    }

    obj = ngx_autoscale_json_row(cols, ncols, values);

    ngx_free(values);

    return obj;
}


/* every row whose column "first" is not NULL, as an array */
cJSON *
ngx_autoscale_api_query_rows(PGresult *res, int first,
    const ngx_autoscale_col_t *cols, size_t ncols)
{
    int     row;
    cJSON  *list, *item;

    list = cJSON_CreateArray();
    if (list == NULL) {
        return NULL;
    }

    for (row = 0; row < PQntuples(res); row++) {
        if (PQgetisnull(res, row, first)) {
            continue;
        }

        item = ngx_autoscale_api_query_row(res, row, first, cols, ncols);
        if (item == NULL) {
            cJSON_Delete(list);
            return NULL;
        }

        cJSON_AddItemToArray(list, item);
    }

    return list;
}


/* page and page_size into ctx, and as LIMIT and OFFSET into params */
ngx_int_t
ngx_autoscale_api_query_paging(ngx_autoscale_api_ctx_t *ctx,
    ngx_autoscale_arg_t *page, ngx_autoscale_arg_t *page_size,
    ngx_str_t *params)
{
    ctx->page = page->present ? (ngx_int_t) page->num : 1;
    ctx->page_size = page_size->present ? (ngx_int_t) page_size->num : 50;

    if (ngx_autoscale_api_query_number(ctx->request, &params[0], ctx->page_size)
        != NGX_OK
        || ngx_autoscale_api_query_number(ctx->request, &params[1],
                                          (ctx->page - 1) * ctx->page_size)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* {"<key>": [the rows], "total", "page", "page_size"} of a page's result */
ngx_int_t
ngx_autoscale_api_query_send_page(ngx_autoscale_api_ctx_t *ctx, PGresult *res,
    const char *key, const ngx_autoscale_col_t *cols, size_t ncols)
{
    cJSON  *doc, *list;

    doc = cJSON_CreateObject();
    list = ngx_autoscale_api_query_rows(res, NGX_AUTOSCALE_PAGE_COL_ROW, cols,
                                        ncols);

    if (doc == NULL || list == NULL || !cJSON_AddItemToObject(doc, key, list))
    {
        cJSON_Delete(list);
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cJSON_AddNumberToObject(doc, "total",
                                ngx_autoscale_api_query_int(res, 0,
                                                NGX_AUTOSCALE_PAGE_COL_TOTAL))
        == NULL
        || cJSON_AddNumberToObject(doc, "page", ctx->page) == NULL
        || cJSON_AddNumberToObject(doc, "page_size", ctx->page_size) == NULL)
    {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_reply_send(ctx->request, NGX_HTTP_OK, doc);
}


ngx_int_t
ngx_autoscale_api_query_int(PGresult *res, int row, int col)
{
    if (row >= PQntuples(res) || col >= PQnfields(res)
        || PQgetisnull(res, row, col))
    {
        return NGX_ERROR;
    }

    return ngx_atoi((u_char *) PQgetvalue(res, row, col),
                    PQgetlength(res, row, col));
}


ngx_int_t
ngx_autoscale_api_query_number(ngx_http_request_t *r, ngx_str_t *s, ngx_int_t n)
{
    s->data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    s->len = ngx_sprintf(s->data, "%i", n) - s->data;

    return NGX_OK;
}


/* who acted, for scaling_events.node: host:pid */
ngx_int_t
ngx_autoscale_api_query_node(ngx_http_request_t *r, ngx_str_t *node)
{
    node->data = ngx_pnalloc(r->pool, ngx_cycle->hostname.len + 1
                                      + NGX_INT64_LEN);
    if (node->data == NULL) {
        return NGX_ERROR;
    }

    node->len = ngx_sprintf(node->data, "%V:%P", &ngx_cycle->hostname,
                            ngx_pid)
                - node->data;

    return NGX_OK;
}

