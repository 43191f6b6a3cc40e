
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_route.h"


typedef struct ngx_autoscale_api_ctx_s  ngx_autoscale_api_ctx_t;

typedef ngx_int_t (*ngx_autoscale_api_done_pt)(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);


struct ngx_autoscale_api_ctx_s {
    ngx_http_request_t           *request;
    ngx_autoscale_pg_query_t     *query;
    ngx_autoscale_api_done_pt     done;
    ngx_autoscale_route_t         route;
    ngx_int_t                     page;
    ngx_int_t                     page_size;
};


/*
 * The cluster as the API shows it, in the order of the select list below.
 * Times are read in UTC, so that the text needs no zone to be RFC 3339.
 */

static const ngx_autoscale_col_t  ngx_autoscale_cluster_cols[] = {
    { "id", NGX_AUTOSCALE_COL_TEXT },
    { "name", NGX_AUTOSCALE_COL_TEXT },
    { "type", NGX_AUTOSCALE_COL_TEXT },
    { "status", NGX_AUTOSCALE_COL_TEXT },
    { "description", NGX_AUTOSCALE_COL_TEXT },
    { "blueprint_id", NGX_AUTOSCALE_COL_TEXT },
    { "blueprint_version", NGX_AUTOSCALE_COL_TEXT },
    { "min_workers", NGX_AUTOSCALE_COL_INT },
    { "max_workers", NGX_AUTOSCALE_COL_INT },
    { "current_workers", NGX_AUTOSCALE_COL_INT },
    { "target_workers", NGX_AUTOSCALE_COL_INT },
    { "agents_count", NGX_AUTOSCALE_COL_INT },
    { "health_score", NGX_AUTOSCALE_COL_FLOAT },
    { "load_percentage", NGX_AUTOSCALE_COL_FLOAT },
    { "tasks_completed", NGX_AUTOSCALE_COL_INT },
    { "tasks_failed", NGX_AUTOSCALE_COL_INT },
    { "paused", NGX_AUTOSCALE_COL_BOOL },
    { "tags", NGX_AUTOSCALE_COL_JSON },
    { "config", NGX_AUTOSCALE_COL_JSON },
    { "policy", NGX_AUTOSCALE_COL_TEXT },
    { "scale_up_queue", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_up_cpu", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_down_queue", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_down_cpu", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_up_factor", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_down_factor", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_up_cooldown", NGX_AUTOSCALE_COL_INT },
    { "scale_down_cooldown", NGX_AUTOSCALE_COL_INT },
    { "target_metric", NGX_AUTOSCALE_COL_TEXT },
    { "target_value", NGX_AUTOSCALE_COL_FLOAT },
    { "tolerance", NGX_AUTOSCALE_COL_FLOAT },
    { "stabilization_window", NGX_AUTOSCALE_COL_INT },
    { "actuation", NGX_AUTOSCALE_COL_TEXT },
    { "worker_capacity", NGX_AUTOSCALE_COL_INT },
    { "last_decision", NGX_AUTOSCALE_COL_JSON },
    { "created_at", NGX_AUTOSCALE_COL_TIME },
    { "started_at", NGX_AUTOSCALE_COL_TIME },
    { "hibernated_at", NGX_AUTOSCALE_COL_TIME },
    { "destroyed_at", NGX_AUTOSCALE_COL_TIME },
    { "last_active", NGX_AUTOSCALE_COL_TIME },
    { "last_scaled_at", NGX_AUTOSCALE_COL_TIME },
    { "updated_at", NGX_AUTOSCALE_COL_TIME }
};

#define NGX_AUTOSCALE_CLUSTER_NCOLS                                           \
    (sizeof(ngx_autoscale_cluster_cols) / sizeof(ngx_autoscale_col_t))

#define NGX_AUTOSCALE_CLUSTER_SELECT                                          \
    "c.id, c.name, c.type, c.status, c.description, c.blueprint_id, "         \
    "c.blueprint_version, c.min_workers, c.max_workers, c.current_workers, "  \
    "c.target_workers, "                                                      \
    "(SELECT count(*) FROM cluster_agents a WHERE a.cluster_id = c.id "       \
    "AND a.status NOT IN ('stopped', 'lost')), "                              \
    "c.health_score, c.load_percentage, c.tasks_completed, c.tasks_failed, "  \
    "c.paused, c.tags, c.config, c.policy, c.scale_up_queue, "                \
    "c.scale_up_cpu, c.scale_down_queue, c.scale_down_cpu, "                  \
    "c.scale_up_factor, c.scale_down_factor, c.scale_up_cooldown, "           \
    "c.scale_down_cooldown, c.target_metric, c.target_value, c.tolerance, "   \
    "c.stabilization_window, c.actuation, c.worker_capacity, "                \
    "c.last_decision, "                                                       \
    "c.created_at AT TIME ZONE 'UTC', c.started_at AT TIME ZONE 'UTC', "      \
    "c.hibernated_at AT TIME ZONE 'UTC', c.destroyed_at AT TIME ZONE 'UTC', " \
    "c.last_active AT TIME ZONE 'UTC', c.last_scaled_at AT TIME ZONE 'UTC', " \
    "c.updated_at AT TIME ZONE 'UTC'"


/*
 * $1 status or NULL (all but destroyed), $2 type or NULL, $3 limit,
 * $4 offset.  The total comes in every row, and alone in a row of NULLs
 * when the page is past the end.
 */
static const char  ngx_autoscale_sql_list_clusters[] =
    "WITH f AS (SELECT * FROM clusters "
    "WHERE ($1::text IS NULL AND status <> 'destroyed' OR status = $1) "
    "AND ($2::text IS NULL OR type = $2)) "
    "SELECT t.total, p.* FROM (SELECT count(*) AS total FROM f) t "
    "LEFT JOIN LATERAL (SELECT " NGX_AUTOSCALE_CLUSTER_SELECT " FROM f c "
    "ORDER BY c.created_at DESC, c.id LIMIT $3::int OFFSET $4::bigint) p "
    "ON true";

static const char  ngx_autoscale_sql_get_cluster[] =
    "SELECT " NGX_AUTOSCALE_CLUSTER_SELECT " FROM clusters c WHERE c.id = $1";


static const ngx_autoscale_arg_spec_t  ngx_autoscale_list_args[] = {
    { "status", NGX_AUTOSCALE_ARG_WORD, 0, 0,
      ngx_autoscale_cluster_statuses },
    { "type", NGX_AUTOSCALE_ARG_WORD, 1, 50, NULL },
    { "page", NGX_AUTOSCALE_ARG_INT, 1, 1000000, NULL },
    { "page_size", NGX_AUTOSCALE_ARG_INT, 1, 100, NULL }
};


static ngx_int_t ngx_autoscale_api_list_clusters(ngx_http_request_t *r,
    ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_list_clusters_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_get_cluster(ngx_http_request_t *r,
    ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_get_cluster_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static cJSON *ngx_autoscale_api_row(PGresult *res, int row, int first,
    const ngx_autoscale_col_t *cols, size_t ncols);
static ngx_int_t ngx_autoscale_api_query(ngx_http_request_t *r,
    ngx_autoscale_api_ctx_t *ctx, const char *sql, ngx_uint_t nparams,
    ngx_str_t *params, ngx_autoscale_api_done_pt done);
static void ngx_autoscale_api_query_done(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_api_cleanup(void *data);
static ngx_int_t ngx_autoscale_api_error(ngx_http_request_t *r,
    ngx_autoscale_err_t *err);
static ngx_int_t ngx_autoscale_api_send(ngx_http_request_t *r,
    ngx_uint_t status, cJSON *doc);
static unsigned ngx_autoscale_api_method(ngx_http_request_t *r);
static void ngx_autoscale_api_allow(ngx_http_request_t *r, unsigned methods);


ngx_int_t
ngx_autoscale_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       path;
    ngx_autoscale_err_t             err;
    ngx_autoscale_api_ctx_t        *ctx;
    ngx_http_autoscale_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);

    path = r->uri;

    if (path.len >= alcf->prefix.len) {
        path.data += alcf->prefix.len;
        path.len -= alcf->prefix.len;

    } else {
        ngx_str_null(&path);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_autoscale_api_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;

    /* "location /v1" serves /v1/clusters, not /v1clusters */
    if (path.len && path.data[0] != '/' && alcf->prefix.len
        && alcf->prefix.data[alcf->prefix.len - 1] != '/')
    {
        ngx_autoscale_set_err(&err, NGX_HTTP_NOT_FOUND, "NotFound",
                              "no such API path");
        return ngx_autoscale_api_error(r, &err);
    }

    if (ngx_autoscale_route((const char *) path.data, path.len, &ctx->route,
                            &err)
        != 0)
    {
        return ngx_autoscale_api_error(r, &err);
    }

    if (!(ngx_autoscale_api_method(r) & ctx->route.methods)) {
        ngx_autoscale_api_allow(r, ctx->route.methods);
        ngx_autoscale_set_err(&err, NGX_HTTP_NOT_ALLOWED, "MethodNotAllowed",
                              "method %.*s is not allowed here",
                              (int) ngx_min(r->method_name.len, 16),
                              r->method_name.data);
        return ngx_autoscale_api_error(r, &err);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_CLUSTERS:
        return ngx_autoscale_api_list_clusters(r, ctx);

    default: /* NGX_AUTOSCALE_ROUTE_CLUSTER */
        return ngx_autoscale_api_get_cluster(r, ctx);
    }
}


/* GET clusters */

static ngx_int_t
ngx_autoscale_api_list_clusters(ngx_http_request_t *r,
    ngx_autoscale_api_ctx_t *ctx)
{
    u_char               *p;
    ngx_str_t             params[4];
    ngx_autoscale_err_t   err;
    ngx_autoscale_arg_t   args[4];

    if (ngx_autoscale_parse_args((const char *) r->args.data, r->args.len,
                                 ngx_autoscale_list_args, 4, args, &err)
        != 0)
    {
        return ngx_autoscale_api_error(r, &err);
    }

    ctx->page = args[2].present ? (ngx_int_t) args[2].num : 1;
    ctx->page_size = args[3].present ? (ngx_int_t) args[3].num : 50;

    /* the query copies its parameters: pointing into args is enough */
    ngx_memzero(params, sizeof(params));

    if (args[0].present) {
        params[0].data = (u_char *) args[0].str;
        params[0].len = ngx_strlen(args[0].str);
    }

    if (args[1].present) {
        params[1].data = (u_char *) args[1].str;
        params[1].len = ngx_strlen(args[1].str);
    }

    p = ngx_pnalloc(r->pool, 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    params[2].data = p;
    params[2].len = ngx_sprintf(p, "%i", ctx->page_size) - p;

    p += NGX_INT64_LEN;
    params[3].data = p;
    params[3].len = ngx_sprintf(p, "%i", (ctx->page - 1) * ctx->page_size)
                    - p;

    return ngx_autoscale_api_query(r, ctx, ngx_autoscale_sql_list_clusters,
                                   4, params,
                                   ngx_autoscale_api_list_clusters_done);
}


static ngx_int_t
ngx_autoscale_api_list_clusters_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    int      row, rows;
    cJSON   *doc, *list, *item;
    double   total;

    doc = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(doc, "clusters");
    if (list == NULL) {
        goto failed;
    }

    rows = PQntuples(res);
    total = rows ? ngx_atoi((u_char *) PQgetvalue(res, 0, 0),
                            PQgetlength(res, 0, 0))
                 : 0;

    for (row = 0; row < rows; row++) {
        if (PQgetisnull(res, row, 1)) {
            continue;
        }

        item = ngx_autoscale_api_row(res, row, 1, ngx_autoscale_cluster_cols,
                                     NGX_AUTOSCALE_CLUSTER_NCOLS);
        if (item == NULL) {
            goto failed;
        }

        cJSON_AddItemToArray(list, item);
    }

    if (cJSON_AddNumberToObject(doc, "total", total) == NULL
        || cJSON_AddNumberToObject(doc, "page", ctx->page) == NULL
        || cJSON_AddNumberToObject(doc, "page_size", ctx->page_size) == NULL)
    {
        goto failed;
    }

    return ngx_autoscale_api_send(ctx->request, NGX_HTTP_OK, doc);

failed:

    cJSON_Delete(doc);
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* GET clusters/{id} */

static ngx_int_t
ngx_autoscale_api_get_cluster(ngx_http_request_t *r,
    ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t            id;
    ngx_autoscale_err_t  err;

    if (r->args.len) {
        ngx_autoscale_set_err(&err, NGX_HTTP_BAD_REQUEST, "InvalidQuery",
                              "this path takes no query parameters");
        return ngx_autoscale_api_error(r, &err);
    }

    id.data = (u_char *) ctx->route.id;
    id.len = ctx->route.id_len;

    return ngx_autoscale_api_query(r, ctx, ngx_autoscale_sql_get_cluster,
                                   1, &id,
                                   ngx_autoscale_api_get_cluster_done);
}


static ngx_int_t
ngx_autoscale_api_get_cluster_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    cJSON                *doc;
    ngx_autoscale_err_t   err;

    if (PQntuples(res) == 0) {
        /* the id passed validation, so it is safe to repeat */
        ngx_autoscale_set_err(&err, NGX_HTTP_NOT_FOUND, "ClusterNotFound",
                              "cluster '%.*s' not found",
                              (int) ctx->route.id_len, ctx->route.id);
        return ngx_autoscale_api_error(ctx->request, &err);
    }

    doc = ngx_autoscale_api_row(res, 0, 0, ngx_autoscale_cluster_cols,
                                NGX_AUTOSCALE_CLUSTER_NCOLS);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_send(ctx->request, NGX_HTTP_OK, doc);
}


/* columns first .. first + ncols - 1 of a row, as a JSON object */
static cJSON *
ngx_autoscale_api_row(PGresult *res, int row, int first,
    const ngx_autoscale_col_t *cols, size_t ncols)
{
    size_t       i;
    const char  *values[NGX_AUTOSCALE_CLUSTER_NCOLS];

    if (ncols > NGX_AUTOSCALE_CLUSTER_NCOLS
        || PQnfields(res) < first + (int) ncols)
    {
        return NULL;
    }

    for (i = 0; i < ncols; i++) {
        values[i] = PQgetisnull(res, row, first + i)
                    ? NULL : PQgetvalue(res, row, first + i);
    }

    return ngx_autoscale_json_row(cols, ncols, values);
}


/* a query on behalf of a request, which waits for it */

static ngx_int_t
ngx_autoscale_api_query(ngx_http_request_t *r, ngx_autoscale_api_ctx_t *ctx,
    const char *sql, ngx_uint_t nparams, ngx_str_t *params,
    ngx_autoscale_api_done_pt done)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->done = done;
    ctx->query = ngx_autoscale_pg_query(amcf->pool, sql, nparams, params,
                                        ngx_autoscale_api_query_done, ctx);
    if (ctx->query == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a request freed while it waits takes its query with it */
    cln->handler = ngx_autoscale_api_cleanup;
    cln->data = ctx;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_autoscale_api_query_done(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_api_ctx_t  *ctx = data;

    ngx_int_t             rc;
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_autoscale_err_t   err;

    r = ctx->request;
    c = r->connection;
    ctx->query = NULL;

    switch (status) {

    case NGX_AUTOSCALE_PG_OK:
        rc = ctx->done(ctx, res);
        break;

    case NGX_AUTOSCALE_PG_SQL_ERROR:
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "autoscale: database error: %s",
                      res ? PQresultErrorMessage(res) : "no result");
        ngx_autoscale_set_err(&err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                              "DatabaseError",
                              "the database could not answer this request");
        rc = ngx_autoscale_api_error(r, &err);
        break;

    default:
        ngx_autoscale_set_err(&err, NGX_HTTP_SERVICE_UNAVAILABLE,
                              "DatabaseUnavailable",
                              status == NGX_AUTOSCALE_PG_TIMEOUT
                              ? "the database did not answer in time"
                              : "the database cannot be reached");
        rc = ngx_autoscale_api_error(r, &err);
        break;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_autoscale_api_cleanup(void *data)
{
    ngx_autoscale_api_ctx_t  *ctx = data;

    if (ctx->query) {
        ngx_autoscale_pg_cancel(ctx->query);
        ctx->query = NULL;
    }
}


/* responses */

static ngx_int_t
ngx_autoscale_api_error(ngx_http_request_t *r, ngx_autoscale_err_t *err)
{
    ngx_table_elt_t                 *h;
    ngx_http_autoscale_main_conf_t  *amcf;

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

    return ngx_autoscale_api_send(r, err->status,
                                  ngx_autoscale_json_error(err->status,
                                                           err->code,
                                                           err->text));
}


static ngx_int_t
ngx_autoscale_api_send(ngx_http_request_t *r, ngx_uint_t status, cJSON *doc)
{
    char         *text;
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        cJSON_free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text, len);
    *b->last++ = '\n';
    cJSON_free(text);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len + 1;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
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


static void
ngx_autoscale_api_allow(ngx_http_request_t *r, unsigned methods)
{
    u_char           *p;
    ngx_table_elt_t  *h;

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
