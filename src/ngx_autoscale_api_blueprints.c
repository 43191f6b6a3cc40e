
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The blueprint endpoints: the templates clusters are created from.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale_api_blueprints.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_policy_vocab.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_sql_api.h"


static const ngx_autoscale_col_t  ngx_autoscale_blueprint_cols[] = {
    { "id", NGX_AUTOSCALE_COL_TEXT },
    { "name", NGX_AUTOSCALE_COL_TEXT },
    { "version", NGX_AUTOSCALE_COL_TEXT },
    { "description", NGX_AUTOSCALE_COL_TEXT },
    { "author", NGX_AUTOSCALE_COL_TEXT },
    { "tags", NGX_AUTOSCALE_COL_JSON },
    { "config", NGX_AUTOSCALE_COL_JSON },
    { "is_active", NGX_AUTOSCALE_COL_BOOL },
    { "min_workers", NGX_AUTOSCALE_COL_INT },
    { "max_workers", NGX_AUTOSCALE_COL_INT },
    { "default_workers", NGX_AUTOSCALE_COL_INT },
    NGX_AUTOSCALE_POLICY_COLS,
    { "created_at", NGX_AUTOSCALE_COL_TIME },
    { "updated_at", NGX_AUTOSCALE_COL_TIME }
};

#define NGX_AUTOSCALE_BLUEPRINT_NCOLS                                         \
    (sizeof(ngx_autoscale_blueprint_cols) / sizeof(ngx_autoscale_col_t))

static const ngx_autoscale_field_t  ngx_autoscale_blueprint_create_fields[] = {
    { "id", NGX_AUTOSCALE_FIELD_STRING, 3, 100,
      NGX_AUTOSCALE_CHARS_SLUG, NULL, 1, 0 },
    { "name", NGX_AUTOSCALE_FIELD_STRING, 1, 200,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 1, 0 },
    { "version", NGX_AUTOSCALE_FIELD_STRING, 5, 64,
      NGX_AUTOSCALE_CHARS_SEMVER, NULL, 0, 0 },
    { "description", NGX_AUTOSCALE_FIELD_STRING, 0, 2000,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 1 },
    { "author", NGX_AUTOSCALE_FIELD_STRING, 0, 200,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 1 },
    { "tags", NGX_AUTOSCALE_FIELD_TAGS, 0, 64, 0, NULL, 0, 0 },
    { "config", NGX_AUTOSCALE_FIELD_OBJECT, 0, 0, 0, NULL, 0, 0 },
    { "min_workers", NGX_AUTOSCALE_FIELD_INT, 0, 100, 0, NULL, 0, 0 },
    { "max_workers", NGX_AUTOSCALE_FIELD_INT, 1, 1000, 0, NULL, 0, 0 },
    { "default_workers", NGX_AUTOSCALE_FIELD_INT, 0, 1000, 0, NULL, 0, 0 },
    NGX_AUTOSCALE_POLICY_FIELDS
};

#define NGX_AUTOSCALE_BLUEPRINT_CREATE_NFIELDS                                \
    (10 + NGX_AUTOSCALE_POLICY_NFIELDS)


static const ngx_autoscale_arg_spec_t  ngx_autoscale_blueprint_list_args[] = {
    { "page", NGX_AUTOSCALE_ARG_INT, 1, 1000000, NULL },
    { "page_size", NGX_AUTOSCALE_ARG_INT, 1, 100, NULL }
};


static ngx_int_t ngx_autoscale_api_blueprints_list(
    ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_blueprints_list_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_blueprints_get_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_blueprints_create(
    ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_blueprints_create_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);


ngx_int_t
ngx_autoscale_api_blueprints(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t  id;

    if (ctx->route.route == NGX_AUTOSCALE_ROUTE_BLUEPRINTS) {
        return ctx->request->method == NGX_HTTP_POST
               ? ngx_autoscale_api_blueprints_create(ctx)
               : ngx_autoscale_api_blueprints_list(ctx);
    }

    if (ctx->request->args.len) {
        return ngx_autoscale_api_reply_args_error(ctx->request);
    }

    id.data = (u_char *) ctx->route.id;
    id.len = ctx->route.id_len;

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_BLUEPRINT_GET,
                                        1, &id,
                                        ngx_autoscale_api_blueprints_get_done);
}


static ngx_int_t
ngx_autoscale_api_blueprints_list(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t             params[2];
    ngx_autoscale_err_t   err;
    ngx_autoscale_arg_t   args[2];
    ngx_http_request_t   *r = ctx->request;

    if (ngx_autoscale_route_parse_args((const char *) r->args.data,
                                       r->args.len,
                                       ngx_autoscale_blueprint_list_args, 2,
                                       args, &err)
        != 0)
    {
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (ngx_autoscale_api_query_paging(ctx, &args[0], &args[1], params)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_BLUEPRINT_LIST,
                                        2, params,
                                        ngx_autoscale_api_blueprints_list_done);
}


static ngx_int_t
ngx_autoscale_api_blueprints_list_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    return ngx_autoscale_api_query_send_page(ctx, res, "blueprints",
                                             ngx_autoscale_blueprint_cols,
                                             NGX_AUTOSCALE_BLUEPRINT_NCOLS);
}


static ngx_int_t
ngx_autoscale_api_blueprints_get_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    ngx_autoscale_err_t  err;

    if (PQntuples(res) == 0) {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_NOT_FOUND,
                                    "BlueprintNotFound",
                                    "blueprint '%.*s' not found",
                                    (int) ctx->route.id_len, ctx->route.id);
        return ngx_autoscale_api_reply_error(ctx->request, &err);
    }

    return ngx_autoscale_api_reply_send(ctx->request, NGX_HTTP_OK,
                                        ngx_autoscale_api_query_row(res, 0, 0,
                                            ngx_autoscale_blueprint_cols,
                                            NGX_AUTOSCALE_BLUEPRINT_NCOLS));
}


static ngx_int_t
ngx_autoscale_api_blueprints_create(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  params[NGX_AUTOSCALE_BLUEPRINT_CREATE_NFIELDS];

    if (ngx_autoscale_api_query_write_fields(ctx,
                                       ngx_autoscale_blueprint_create_fields,
                                       NGX_AUTOSCALE_BLUEPRINT_CREATE_NFIELDS,
                                       params, &rc)
        != NGX_OK)
    {
        return rc;
    }

    return ngx_autoscale_api_query_send(ctx, NGX_AUTOSCALE_SQL_BLUEPRINT_CREATE,
               NGX_AUTOSCALE_BLUEPRINT_CREATE_NFIELDS, params,
               ngx_autoscale_api_blueprints_create_done);
}


static ngx_int_t
ngx_autoscale_api_blueprints_create_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    cJSON                *id;
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (!PQgetisnull(res, 0, NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_BLUEPRINT)) {
        return ngx_autoscale_api_reply_send(r, NGX_HTTP_CREATED,
                   ngx_autoscale_api_query_row(res, 0,
                                   NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_BLUEPRINT,
                                   ngx_autoscale_blueprint_cols,
                                   NGX_AUTOSCALE_BLUEPRINT_NCOLS));
    }

    if (ngx_autoscale_api_query_check_error(res,
                                       NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_CHECK,
                                       &err)
        != NGX_OK)
    {
        return ngx_autoscale_api_reply_error(r, &err);
    }

    id = cJSON_GetObjectItemCaseSensitive(ctx->body, "id");

    if (ngx_autoscale_api_query_int(res, 0,
                                    NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_EXISTS)
        != 0)
    {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_CONFLICT, "BlueprintExists",
                                    "blueprint '%s' exists already",
                                    id->valuestring);
        return ngx_autoscale_api_reply_error(r, &err);
    }

    ngx_autoscale_api_query_bounds_error(res, "default_workers",
                                 NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_DEFAULT,
                                 NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_CHECK,
                                 &err);

    return ngx_autoscale_api_reply_error(r, &err);
}
