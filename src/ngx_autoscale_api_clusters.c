
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The cluster endpoints.  Every write is one statement, so one transaction
 * (see ngx_autoscale_sql_api.h); what the statement returns tells a refused
 * write apart from the rule it broke.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api_clusters.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_policy_vocab.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_sql_api.h"


/*
 * The cluster as the API shows it, in the order of
 * NGX_AUTOSCALE_CLUSTER_SELECT and its columns' enum.
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
    NGX_AUTOSCALE_POLICY_COLS,
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


/* request fields, in the order of each statement's parameters */

static const ngx_autoscale_field_t  ngx_autoscale_cluster_create_fields[] = {
    { "blueprint_id", NGX_AUTOSCALE_FIELD_STRING, 3, 100,
      NGX_AUTOSCALE_CHARS_SLUG, NULL, 1, 0 },
    { "name", NGX_AUTOSCALE_FIELD_STRING, 3, 200,
      NGX_AUTOSCALE_CHARS_NAME, NULL, 0, 0 },
    { "type", NGX_AUTOSCALE_FIELD_STRING, 1, 50,
      NGX_AUTOSCALE_CHARS_TYPE, NULL, 0, 0 },
    { "min_workers", NGX_AUTOSCALE_FIELD_INT, 0, 100, 0, NULL, 0, 0 },
    { "max_workers", NGX_AUTOSCALE_FIELD_INT, 1, 1000, 0, NULL, 0, 0 },
    { "target_workers", NGX_AUTOSCALE_FIELD_INT, 0, 1000, 0, NULL, 0, 0 },
    { "description", NGX_AUTOSCALE_FIELD_STRING, 0, 2000,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 1 },
    { "tags", NGX_AUTOSCALE_FIELD_TAGS, 0, 64, 0, NULL, 0, 0 },
    { "config", NGX_AUTOSCALE_FIELD_OBJECT, 0, 0, 0, NULL, 0, 0 },
    NGX_AUTOSCALE_POLICY_FIELDS
};

#define NGX_AUTOSCALE_CLUSTER_CREATE_NFIELDS  (9 + NGX_AUTOSCALE_POLICY_NFIELDS)

static const ngx_autoscale_field_t  ngx_autoscale_cluster_update_fields[] = {
    { "name", NGX_AUTOSCALE_FIELD_STRING, 3, 200,
      NGX_AUTOSCALE_CHARS_NAME, NULL, 0, 0 },
    { "description", NGX_AUTOSCALE_FIELD_STRING, 0, 2000,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 1 },
    { "tags", NGX_AUTOSCALE_FIELD_TAGS, 0, 64, 0, NULL, 0, 0 },
    { "min_workers", NGX_AUTOSCALE_FIELD_INT, 0, 100, 0, NULL, 0, 0 },
    { "max_workers", NGX_AUTOSCALE_FIELD_INT, 1, 1000, 0, NULL, 0, 0 },
    NGX_AUTOSCALE_POLICY_FIELDS,
    { "paused", NGX_AUTOSCALE_FIELD_BOOL, 0, 0, 0, NULL, 0, 0 }
};

#define NGX_AUTOSCALE_CLUSTER_UPDATE_NFIELDS  (6 + NGX_AUTOSCALE_POLICY_NFIELDS)

static const ngx_autoscale_field_t  ngx_autoscale_cluster_scale_fields[] = {
    { "target_workers", NGX_AUTOSCALE_FIELD_INT, 0, 1000, 0, NULL, 1, 0 },
    { "reason", NGX_AUTOSCALE_FIELD_STRING, 1, 500,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 0 }
};

static const ngx_autoscale_field_t  ngx_autoscale_cluster_workers_fields[] = {
    { "current_workers", NGX_AUTOSCALE_FIELD_INT, 0, 1000, 0, NULL, 1, 0 },
    { "reason", NGX_AUTOSCALE_FIELD_STRING, 1, 500,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 0 }
};

static const ngx_autoscale_field_t  ngx_autoscale_cluster_reason_fields[] = {
    { "reason", NGX_AUTOSCALE_FIELD_STRING, 1, 500,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 0 }
};


static const ngx_autoscale_arg_spec_t  ngx_autoscale_cluster_list_args[] = {
    { "status", NGX_AUTOSCALE_ARG_WORD, 0, 0,
      ngx_autoscale_cluster_statuses },
    { "type", NGX_AUTOSCALE_ARG_WORD, 1, 50, NULL },
    { "page", NGX_AUTOSCALE_ARG_INT, 1, 1000000, NULL },
    { "page_size", NGX_AUTOSCALE_ARG_INT, 1, 100, NULL }
};


static ngx_int_t ngx_autoscale_api_clusters_list(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_clusters_list_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_clusters_get(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_clusters_get_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_clusters_create(
    ngx_autoscale_api_ctx_t *ctx);
static void ngx_autoscale_api_clusters_zone_knows(ngx_http_request_t *r,
    const char *id, size_t len, ngx_uint_t exists);
static ngx_int_t ngx_autoscale_api_clusters_create_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_clusters_update(
    ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_clusters_update_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_clusters_delete(
    ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_clusters_delete_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_clusters_transition(
    ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_clusters_drain_choose(
    ngx_autoscale_api_ctx_t *ctx, ngx_str_t *drain);
static ngx_int_t ngx_autoscale_api_clusters_target(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static void ngx_autoscale_api_clusters_drain(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);
static ngx_int_t ngx_autoscale_api_clusters_transition_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_uint_t ngx_autoscale_api_clusters_transition_refused(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res, ngx_autoscale_err_t *err);
static const char *ngx_autoscale_api_clusters_transition_message(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res, int changed, u_char *buf,
    size_t size);
static cJSON *ngx_autoscale_api_clusters_transition_doc(PGresult *res,
    int changed, const char *message, const char *action);
static cJSON *ngx_autoscale_api_clusters_transition_event(PGresult *res,
    const char *action);
static cJSON *ngx_autoscale_api_clusters_row(PGresult *res, int first);
static ngx_int_t ngx_autoscale_api_clusters_location(ngx_http_request_t *r,
    const char *id);


ngx_int_t
ngx_autoscale_api_clusters(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_uint_t  method = ctx->request->method;

    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_CLUSTERS:
        return method == NGX_HTTP_POST ? ngx_autoscale_api_clusters_create(ctx)
                                       : ngx_autoscale_api_clusters_list(ctx);

    case NGX_AUTOSCALE_ROUTE_CLUSTER:
        if (method == NGX_HTTP_PUT) {
            return ngx_autoscale_api_clusters_update(ctx);
        }

        if (method == NGX_HTTP_DELETE) {
            return ngx_autoscale_api_clusters_delete(ctx);
        }

        return ngx_autoscale_api_clusters_get(ctx);

    default: /* SCALE, HIBERNATE, REACTIVATE, WORKERS */
        return ngx_autoscale_api_clusters_transition(ctx);
    }
}


/* GET clusters */

static ngx_int_t
ngx_autoscale_api_clusters_list(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t             params[4];
    ngx_autoscale_err_t   err;
    ngx_autoscale_arg_t   args[4];
    ngx_http_request_t   *r = ctx->request;

    if (ngx_autoscale_route_parse_args((const char *) r->args.data,
                                       r->args.len,
                                       ngx_autoscale_cluster_list_args, 4,
                                       args, &err)
        != 0)
    {
        return ngx_autoscale_api_reply_error(r, &err);
    }


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

    if (ngx_autoscale_api_query_paging(ctx, &args[2], &args[3], &params[2])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_CLUSTER_LIST,
                                        4, params,
                                        ngx_autoscale_api_clusters_list_done);
}


static ngx_int_t
ngx_autoscale_api_clusters_list_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    return ngx_autoscale_api_query_send_page(ctx, res, "clusters",
                                             ngx_autoscale_cluster_cols,
                                             NGX_AUTOSCALE_CLUSTER_NCOLS);
}


/* GET clusters/{id} */

static ngx_int_t
ngx_autoscale_api_clusters_get(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t  id;

    if (ctx->request->args.len) {
        return ngx_autoscale_api_reply_args_error(ctx->request);
    }

    id.data = (u_char *) ctx->route.id;
    id.len = ctx->route.id_len;

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_CLUSTER_GET,
                                        1, &id,
                                        ngx_autoscale_api_clusters_get_done);
}


static ngx_int_t
ngx_autoscale_api_clusters_get_done(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    if (PQntuples(res) == 0) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    return ngx_autoscale_api_reply_send(ctx->request, NGX_HTTP_OK,
                                        ngx_autoscale_api_clusters_row(res,
                                                NGX_AUTOSCALE_CLUSTER_COL_ID));
}


/* POST clusters */

static ngx_int_t
ngx_autoscale_api_clusters_create(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  params[NGX_AUTOSCALE_CLUSTER_CREATE_NFIELDS + 1];

    if (ngx_autoscale_api_query_write_fields(ctx,
                                        ngx_autoscale_cluster_create_fields,
                                        NGX_AUTOSCALE_CLUSTER_CREATE_NFIELDS,
                                        params, &rc)
        != NGX_OK)
    {
        return rc;
    }

    if (ngx_autoscale_api_query_node(ctx->request,
                                &params[NGX_AUTOSCALE_CLUSTER_CREATE_NFIELDS])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_CLUSTER_CREATE,
               NGX_AUTOSCALE_CLUSTER_CREATE_NFIELDS + 1, params,
               ngx_autoscale_api_clusters_create_done);
}


static ngx_int_t
ngx_autoscale_api_clusters_create_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    int                   col;
    cJSON                *blueprint;
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (ngx_autoscale_api_query_int(res, 0,
                                    NGX_AUTOSCALE_CLUSTER_CREATE_COL_BLUEPRINT)
        == 0)
    {
        blueprint = cJSON_GetObjectItemCaseSensitive(ctx->body,
                                                     "blueprint_id");
        ngx_autoscale_route_set_err(&err, NGX_HTTP_BAD_REQUEST,
                                    "BlueprintNotFound",
                                    "blueprint '%s' not found",
                                    blueprint->valuestring);
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (PQgetisnull(res, 0, NGX_AUTOSCALE_CLUSTER_CREATE_COL_CLUSTER)) {
        if (ngx_autoscale_api_query_check_error(res,
                                         NGX_AUTOSCALE_CLUSTER_CREATE_COL_CHECK,
                                         &err)
            != NGX_OK)
        {
            return ngx_autoscale_api_reply_error(r, &err);
        }

        if (PQgetlength(res, 0, NGX_AUTOSCALE_CLUSTER_CREATE_COL_NAME) < 3) {
            ngx_autoscale_route_set_err(&err, NGX_HTTP_BAD_REQUEST,
                                        "MissingField",
                                        "field 'name' is required: the "
                                        "blueprint's name is too short");
            return ngx_autoscale_api_reply_error(r, &err);
        }

        ngx_autoscale_api_query_bounds_error(res, "target_workers",
                                     NGX_AUTOSCALE_CLUSTER_CREATE_COL_TARGET,
                                     NGX_AUTOSCALE_CLUSTER_CREATE_COL_CHECK,
                                     &err);

        return ngx_autoscale_api_reply_error(r, &err);
    }

    col = NGX_AUTOSCALE_CLUSTER_CREATE_COL_CLUSTER
          + NGX_AUTOSCALE_CLUSTER_COL_ID;

    if (ngx_autoscale_api_clusters_location(r, PQgetvalue(res, 0, col))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_autoscale_api_clusters_zone_knows(r, PQgetvalue(res, 0, col),
                                          PQgetlength(res, 0, col), 1);

    return ngx_autoscale_api_reply_send(r, NGX_HTTP_CREATED,
               ngx_autoscale_api_clusters_row(res,
                                     NGX_AUTOSCALE_CLUSTER_CREATE_COL_CLUSTER));
}


/* PUT clusters/{id} */

static ngx_int_t
ngx_autoscale_api_clusters_update(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  params[NGX_AUTOSCALE_CLUSTER_UPDATE_NFIELDS + 1];

    if (ngx_autoscale_api_query_write_fields(ctx,
                                        ngx_autoscale_cluster_update_fields,
                                        NGX_AUTOSCALE_CLUSTER_UPDATE_NFIELDS,
                                        &params[1], &rc)
        != NGX_OK)
    {
        return rc;
    }

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_CLUSTER_UPDATE,
               NGX_AUTOSCALE_CLUSTER_UPDATE_NFIELDS + 1, params,
               ngx_autoscale_api_clusters_update_done);
}


static ngx_int_t
ngx_autoscale_api_clusters_update_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (PQntuples(res) == 0) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    if (!PQgetisnull(res, 0, NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CLUSTER)) {
        return ngx_autoscale_api_reply_send(r, NGX_HTTP_OK,
                   ngx_autoscale_api_clusters_row(res,
                                     NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CLUSTER));
    }

    if (ngx_strcmp(PQgetvalue(res, 0, NGX_AUTOSCALE_CLUSTER_UPDATE_COL_STATUS),
                   "destroyed")
        == 0)
    {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_CONFLICT, "ClusterDestroyed",
                                    "cluster '%.*s' is destroyed",
                                    (int) ctx->route.id_len, ctx->route.id);
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (ngx_autoscale_api_query_check_error(res,
                                         NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CHECK,
                                         &err)
        == NGX_OK)
    {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_CONFLICT, "BoundsConflict",
                                    "min_workers (%s) and max_workers (%s) "
                                    "must hold current_workers (%s) and "
                                    "target_workers (%s): scale the cluster "
                                    "first",
                                    PQgetvalue(res, 0,
                                        NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CHECK
                                        + NGX_AUTOSCALE_CHECK_COL_MIN_WORKERS),
                                    PQgetvalue(res, 0,
                                        NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CHECK
                                        + NGX_AUTOSCALE_CHECK_COL_MAX_WORKERS),
                                    PQgetvalue(res, 0,
                                     NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CURRENT),
                                    PQgetvalue(res, 0,
                                      NGX_AUTOSCALE_CLUSTER_UPDATE_COL_TARGET));
    }

    return ngx_autoscale_api_reply_error(r, &err);
}


/*
 * What this nginx's zone knows of a cluster the API made or destroyed,
 * before the next collection tells it: traffic by a $variable id and
 * heartbeats count from now on, or no longer.
 */
static void
ngx_autoscale_api_clusters_zone_knows(ngx_http_request_t *r, const char *id,
    size_t len, ngx_uint_t exists)
{
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api zone told cluster \"%*s\" %s",
                   len, id, exists ? "exists" : "is gone");

    /* under the mutex: also clears workers' "no such cluster" answers */
    (void) ngx_autoscale_shm_find(amcf->shm_zone, (u_char *) id, len,
                                  exists ? NGX_AUTOSCALE_EXISTS
                                         : NGX_AUTOSCALE_GONE, NULL);
}


/* DELETE clusters/{id}: a soft delete */

static ngx_int_t
ngx_autoscale_api_clusters_delete(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t  params[2];

    if (ctx->request->args.len) {
        return ngx_autoscale_api_reply_args_error(ctx->request);
    }

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;

    if (ngx_autoscale_api_query_node(ctx->request, &params[1]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_CLUSTER_DELETE,
                                        2, params,
                                        ngx_autoscale_api_clusters_delete_done);
}


static ngx_int_t
ngx_autoscale_api_clusters_delete_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    if (ngx_autoscale_api_query_int(res, 0,
                                    NGX_AUTOSCALE_CLUSTER_DELETE_COL_FOUND)
        != 1)
    {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    /* heartbeats find it gone at once, not at the next collection */
    ngx_autoscale_api_clusters_zone_knows(ctx->request, ctx->route.id,
                                          ctx->route.id_len, 0);

    /* deleting a destroyed cluster again changes nothing and says so alike */
    return ngx_autoscale_api_reply_no_content(ctx->request);
}


/* POST clusters/{id}/scale, hibernate, reactivate, workers */

static ngx_int_t
ngx_autoscale_api_clusters_transition(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_int_t    rc, read;
    ngx_str_t    params[5], fields[2];
    const char  *sql;

    if (ctx->route.route == NGX_AUTOSCALE_ROUTE_SCALE) {
        read = ngx_autoscale_api_query_write_fields(ctx,
                                          ngx_autoscale_cluster_scale_fields,
                                          2, fields, &rc);
        sql = NGX_AUTOSCALE_SQL_CLUSTER_SCALE;

    } else if (ctx->route.route == NGX_AUTOSCALE_ROUTE_WORKERS) {
        read = ngx_autoscale_api_query_write_fields(ctx,
                                          ngx_autoscale_cluster_workers_fields,
                                          2, fields, &rc);
        sql = NGX_AUTOSCALE_SQL_CLUSTER_WORKERS;

    } else {
        ngx_str_set(&fields[0], "0");
        read = ngx_autoscale_api_query_write_fields(ctx,
                                          ngx_autoscale_cluster_reason_fields,
                                          1, &fields[1], &rc);
        sql = (ctx->route.route == NGX_AUTOSCALE_ROUTE_HIBERNATE)
              ? NGX_AUTOSCALE_SQL_CLUSTER_HIBERNATE
              : NGX_AUTOSCALE_SQL_CLUSTER_REACTIVATE;
    }

    if (read != NGX_OK) {
        return rc;
    }

    if (ngx_autoscale_api_query_node(ctx->request, &params[3]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->target = ngx_atoi(fields[0].data, fields[0].len);

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;
    params[1] = fields[0];
    params[2] = fields[1];

    if (params[2].data == NULL) {
        switch (ctx->route.route) {
        case NGX_AUTOSCALE_ROUTE_SCALE:
            ngx_str_set(&params[2], "manual scale through the API");
            break;
        case NGX_AUTOSCALE_ROUTE_HIBERNATE:
            ngx_str_set(&params[2], "hibernated through the API");
            break;
        case NGX_AUTOSCALE_ROUTE_WORKERS:
            ngx_str_set(&params[2], "workers reported through the API");
            break;
        default:
            ngx_str_set(&params[2], "reactivated through the API");
        }
    }

    if (ngx_autoscale_api_clusters_drain_choose(ctx, &params[4]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, sql, 5, params,
               ngx_autoscale_api_clusters_transition_done);
}


/*
 * A scale-down's agents to drain, chosen before the change is sent so
 * that its event names them; marked only once the database took it.
 */
static ngx_int_t
ngx_autoscale_api_clusters_drain_choose(ngx_autoscale_api_ctx_t *ctx,
    ngx_str_t *drain)
{
    ngx_int_t                        rc, target;
    ngx_str_t                        json, *keep;
    ngx_http_request_t              *r = ctx->request;
    ngx_http_autoscale_main_conf_t  *amcf;

    ngx_str_null(drain);

    keep = ngx_pcalloc(r->pool, sizeof(ngx_str_t));
    if (keep == NULL) {
        return NGX_ERROR;
    }

    ctx->data = keep;

    /* a reactivation scales up: nothing to drain */
    target = ngx_autoscale_api_clusters_target(ctx, NULL);
    if (target < 0) {
        return NGX_OK;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    rc = ngx_autoscale_shm_drain_choose(amcf->shm_zone,
                                        (u_char *) ctx->route.id,
                                        ctx->route.id_len, target, &json,
                                        r->connection->log);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_OK : NGX_ERROR;
    }

    keep->data = ngx_pstrdup(r->pool, &json);
    keep->len = json.len;
    ngx_free(json.data);

    if (keep->data == NULL) {
        return NGX_ERROR;
    }

    *drain = *keep;

    return NGX_OK;
}


/* a transition's new target; a reactivation's only from its answer (-1) */
static ngx_int_t
ngx_autoscale_api_clusters_target(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_SCALE:
        return ctx->target;

    case NGX_AUTOSCALE_ROUTE_HIBERNATE:
        return 0;

    case NGX_AUTOSCALE_ROUTE_WORKERS:
        /* a report counts workers: the target, and who serves, stay */
        return -1;

    default: /* NGX_AUTOSCALE_ROUTE_REACTIVATE */
        return res ? ngx_autoscale_api_query_int(res, 0,
                                      NGX_AUTOSCALE_TRANSITION_COL_MIN_WORKERS)
                   : -1;
    }
}


/* the change was taken: the zone drains the chosen, or takes some back */
static void
ngx_autoscale_api_clusters_drain(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    ngx_int_t                        target;
    ngx_uint_t                       changed;
    ngx_http_request_t              *r = ctx->request;
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);
    target = ngx_autoscale_api_clusters_target(ctx, res);

    if (target < 0) {
        return;
    }

    changed = ngx_autoscale_shm_drain(amcf->shm_zone,
                                      (u_char *) ctx->route.id,
                                      ctx->route.id_len, target, ctx->data);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale drain: cluster \"%*s\": %ui agents changed",
                   ctx->route.id_len, ctx->route.id, changed);
}


static ngx_int_t
ngx_autoscale_api_clusters_transition_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    int                   changed;
    char                  message[128];
    cJSON                *doc;
    const char           *action;
    ngx_autoscale_err_t   err;

    if (PQntuples(res) == 0) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    changed = !PQgetisnull(res, 0, NGX_AUTOSCALE_TRANSITION_COL_EVENT_ID);

    if (changed) {
        ngx_autoscale_api_clusters_drain(ctx, res);
    }

    if (!changed
        && ngx_autoscale_api_clusters_transition_refused(ctx, res, &err))
    {
        return ngx_autoscale_api_reply_error(ctx->request, &err);
    }

    action = ngx_autoscale_api_clusters_transition_message(ctx, res, changed,
                                                           (u_char *) message,
                                                           sizeof(message));

    doc = ngx_autoscale_api_clusters_transition_doc(res, changed, message,
                                                    action);
    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_reply_send(ctx->request, NGX_HTTP_OK, doc);
}


/*
 * Why a transition that changed nothing was refused, in err; 0 if it was
 * not: the cluster is in that state already.
 */

static ngx_uint_t
ngx_autoscale_api_clusters_transition_refused(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res, ngx_autoscale_err_t *err)
{
    ngx_int_t    min, max;
    ngx_uint_t   active;
    const char  *status, *verb, *actuation;

    status = PQgetvalue(res, 0, NGX_AUTOSCALE_TRANSITION_COL_STATUS);

    active = ngx_strcmp(status, "active") == 0
             || ngx_strcmp(status, "scaling_up") == 0
             || ngx_strcmp(status, "scaling_down") == 0;

    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_SCALE:
        if (!active) {
            verb = "scaled";
            break;
        }

        min = ngx_autoscale_api_query_int(res, 0,
                                      NGX_AUTOSCALE_TRANSITION_COL_MIN_WORKERS);
        max = ngx_autoscale_api_query_int(res, 0,
                                      NGX_AUTOSCALE_TRANSITION_COL_MAX_WORKERS);

        if (ctx->target >= min && ctx->target <= max) {
            return 0;
        }

        ngx_autoscale_route_set_err(err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                    "target_workers (%d) must be between "
                                    "min_workers (%d) and max_workers (%d)",
                                    (int) ctx->target, (int) min, (int) max);
        return 1;

    case NGX_AUTOSCALE_ROUTE_WORKERS:
        actuation = PQgetvalue(res, 0, NGX_AUTOSCALE_TRANSITION_COL_CLUSTER
                                       + NGX_AUTOSCALE_CLUSTER_COL_ACTUATION);

        if (ngx_strcmp(actuation, "reported") != 0) {
            ngx_autoscale_route_set_err(err, NGX_HTTP_CONFLICT, "NotReported",
                                        "cluster '%.*s' has %s actuation: "
                                        "its workers follow its target, only "
                                        "a \"reported\" cluster's are "
                                        "reported", (int) ctx->route.id_len,
                                        ctx->route.id, actuation);
            return 1;
        }

        max = ngx_autoscale_api_query_int(res, 0,
                                      NGX_AUTOSCALE_TRANSITION_COL_MAX_WORKERS);

        if (ctx->target <= max) {
            return 0;
        }

        ngx_autoscale_route_set_err(err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                    "current_workers (%d) must be between 0 "
                                    "and max_workers (%d)",
                                    (int) ctx->target, (int) max);
        return 1;

    case NGX_AUTOSCALE_ROUTE_HIBERNATE:
        if (ngx_strcmp(status, "hibernated") == 0) {
            return 0;
        }

        verb = "hibernated";
        break;

    default: /* NGX_AUTOSCALE_ROUTE_REACTIVATE */
        if (active) {
            return 0;
        }

        ngx_autoscale_route_set_err(err, NGX_HTTP_CONFLICT,
                                    "ClusterNotHibernated",
                                    "cluster '%.*s' is %s: only a "
                                    "hibernated cluster can be reactivated",
                                    (int) ctx->route.id_len, ctx->route.id,
                                    status);
        return 1;
    }

    ngx_autoscale_route_set_err(err, NGX_HTTP_CONFLICT, "ClusterNotActive",
                                "cluster '%.*s' is %s: only an active cluster "
                                "can be %s", (int) ctx->route.id_len,
                                ctx->route.id, status, verb);
    return 1;
}


/* the reply's message into buf; returns the event's action */

static const char *
ngx_autoscale_api_clusters_transition_message(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res, int changed, u_char *buf, size_t size)
{
    ngx_int_t  n;

    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_SCALE:
        n = ngx_autoscale_api_query_int(res, 0,
                                   NGX_AUTOSCALE_TRANSITION_COL_TARGET_WORKERS);
        ngx_snprintf(buf, size,
                     changed ? "target set from %i to %i workers%Z"
                             : "the target is %i workers already%Z",
                     n, ctx->target);
        return "manual";

    case NGX_AUTOSCALE_ROUTE_WORKERS:
        n = ngx_autoscale_api_query_int(res, 0,
                                  NGX_AUTOSCALE_TRANSITION_COL_CURRENT_WORKERS);
        ngx_snprintf(buf, size,
                     changed ? "workers reported: from %i to %i%Z"
                             : "the cluster has %i workers already%Z",
                     n, ctx->target);
        return "report";

    case NGX_AUTOSCALE_ROUTE_HIBERNATE:
        ngx_snprintf(buf, size, "%s%Z",
                     changed ? "hibernated: the target is 0 workers"
                             : "the cluster is hibernated already");
        return "hibernate";

    default: /* NGX_AUTOSCALE_ROUTE_REACTIVATE */
        n = ngx_autoscale_api_query_int(res, 0,
                                      NGX_AUTOSCALE_TRANSITION_COL_MIN_WORKERS);
        ngx_snprintf(buf, size,
                     changed ? "reactivated: the target is %i workers%Z"
                             : "the cluster is active already%Z", n);
        return "reactivate";
    }
}


/* { "changed", "message", "event": the event or null, "cluster" } */

static cJSON *
ngx_autoscale_api_clusters_transition_doc(PGresult *res, int changed,
    const char *message, const char *action)
{
    cJSON  *doc, *event, *cluster;

    doc = cJSON_CreateObject();
    cluster = ngx_autoscale_api_clusters_row(res,
                                        NGX_AUTOSCALE_TRANSITION_COL_CLUSTER);
    event = changed ? ngx_autoscale_api_clusters_transition_event(res, action)
                    : cJSON_CreateNull();

    if (doc == NULL || cluster == NULL || event == NULL
        || cJSON_AddBoolToObject(doc, "changed", changed) == NULL
        || cJSON_AddStringToObject(doc, "message", message) == NULL
        || !cJSON_AddItemToObject(doc, "event", event))
    {
        goto failed;
    }

    event = NULL;

    if (!cJSON_AddItemToObject(doc, "cluster", cluster)) {
        goto failed;
    }

    return doc;

failed:

    cJSON_Delete(doc);
    cJSON_Delete(event);
    cJSON_Delete(cluster);
    return NULL;
}


/* the event the transition wrote, as the events endpoint shows it */

static cJSON *
ngx_autoscale_api_clusters_transition_event(PGresult *res, const char *action)
{
    char    at[48];
    cJSON  *event;

    event = cJSON_CreateObject();
    if (event == NULL) {
        return NULL;
    }

    if (cJSON_AddNumberToObject(event, "id",
               ngx_autoscale_api_query_int(res, 0,
                                       NGX_AUTOSCALE_TRANSITION_COL_EVENT_ID))
            == NULL
        || cJSON_AddStringToObject(event, "action", action) == NULL
        || cJSON_AddNumberToObject(event, "from_workers",
               ngx_autoscale_api_query_int(res, 0,
                                  NGX_AUTOSCALE_TRANSITION_COL_CURRENT_WORKERS))
            == NULL
        || cJSON_AddNumberToObject(event, "to_workers",
               ngx_autoscale_api_query_int(res, 0,
                                       NGX_AUTOSCALE_TRANSITION_COL_EVENT_TO))
            == NULL
        || ngx_autoscale_json_rfc3339(PQgetvalue(res, 0,
                                       NGX_AUTOSCALE_TRANSITION_COL_EVENT_AT),
                                      at, sizeof(at))
            != 0
        || cJSON_AddStringToObject(event, "at", at) == NULL)
    {
        cJSON_Delete(event);
        return NULL;
    }

    return event;
}


static cJSON *
ngx_autoscale_api_clusters_row(PGresult *res, int first)
{
    return ngx_autoscale_api_query_row(res, 0, first,
                                       ngx_autoscale_cluster_cols,
                                       NGX_AUTOSCALE_CLUSTER_NCOLS);
}


/* Location: where the new cluster is read, under this API's prefix */
static ngx_int_t
ngx_autoscale_api_clusters_location(ngx_http_request_t *r, const char *id)
{
    u_char                         *p;
    size_t                          len;
    ngx_str_t                      *prefix;
    ngx_table_elt_t                *h;
    ngx_http_autoscale_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);
    prefix = &alcf->prefix;

    len = prefix->len + sizeof("/clusters/") - 1 + ngx_strlen(id);

    p = ngx_pnalloc(r->pool, len);
    h = ngx_list_push(&r->headers_out.headers);
    if (p == NULL || h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value.data = p;

    p = ngx_cpymem(p, prefix->data, prefix->len);
    if (prefix->len == 0 || prefix->data[prefix->len - 1] != '/') {
        *p++ = '/';
    }
    p = ngx_cpymem(p, "clusters/", sizeof("clusters/") - 1);
    p = ngx_cpymem(p, id, ngx_strlen(id));

    h->value.len = p - h->value.data;

    return NGX_OK;
}
