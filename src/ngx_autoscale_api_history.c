
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * A cluster's history: GET clusters/{id}/metrics, events and agents, each
 * the newest rows first (agents by id), with the cluster's id.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api_history.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_sql_api.h"


/* the rows, in the order of each statement's select list */

static const ngx_autoscale_col_t  ngx_autoscale_agent_cols[] = {
    { "agent_id", NGX_AUTOSCALE_COL_TEXT },
    { "role", NGX_AUTOSCALE_COL_TEXT },
    { "status", NGX_AUTOSCALE_COL_TEXT },
    { "health_score", NGX_AUTOSCALE_COL_FLOAT },
    { "cpu_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "memory_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "queue_length", NGX_AUTOSCALE_COL_FLOAT },
    { "tasks_completed", NGX_AUTOSCALE_COL_INT },
    { "tasks_failed", NGX_AUTOSCALE_COL_INT },
    { "last_heartbeat", NGX_AUTOSCALE_COL_TIME },
    { "spawned_at", NGX_AUTOSCALE_COL_TIME },
    { "last_active", NGX_AUTOSCALE_COL_TIME },
    { "address", NGX_AUTOSCALE_COL_TEXT },
    { "weight", NGX_AUTOSCALE_COL_INT }
};

static const ngx_autoscale_col_t  ngx_autoscale_metric_cols[] = {
    { "timestamp", NGX_AUTOSCALE_COL_TIME },
    { "cpu_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "memory_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "queue_length", NGX_AUTOSCALE_COL_FLOAT },
    { "queue_wait_time", NGX_AUTOSCALE_COL_FLOAT },
    { "active_agents", NGX_AUTOSCALE_COL_INT },
    { "idle_agents", NGX_AUTOSCALE_COL_INT },
    { "busy_agents", NGX_AUTOSCALE_COL_INT },
    { "failed_agents", NGX_AUTOSCALE_COL_INT },
    { "tasks_per_minute", NGX_AUTOSCALE_COL_FLOAT },
    { "avg_response_time", NGX_AUTOSCALE_COL_FLOAT },
    { "error_rate", NGX_AUTOSCALE_COL_FLOAT },
    { "requests_started", NGX_AUTOSCALE_COL_INT },
    { "requests_finished", NGX_AUTOSCALE_COL_INT },
    { "inflight_avg", NGX_AUTOSCALE_COL_FLOAT },
    { "inflight_peak", NGX_AUTOSCALE_COL_INT },
    { "errors_5xx", NGX_AUTOSCALE_COL_INT },
    { "window_seconds", NGX_AUTOSCALE_COL_FLOAT },
    { "current_workers", NGX_AUTOSCALE_COL_INT }
};

static const ngx_autoscale_col_t  ngx_autoscale_event_cols[] = {
    { "id", NGX_AUTOSCALE_COL_INT },
    { "at", NGX_AUTOSCALE_COL_TIME },
    { "action", NGX_AUTOSCALE_COL_TEXT },
    { "from_workers", NGX_AUTOSCALE_COL_INT },
    { "to_workers", NGX_AUTOSCALE_COL_INT },
    { "reason", NGX_AUTOSCALE_COL_TEXT },
    { "inputs", NGX_AUTOSCALE_COL_JSON },
    { "dry_run", NGX_AUTOSCALE_COL_BOOL },
    { "node", NGX_AUTOSCALE_COL_TEXT },
    { "actuation", NGX_AUTOSCALE_COL_JSON }      /* autoscale_actuate's */
};


static const ngx_autoscale_arg_spec_t  ngx_autoscale_history_args[] = {
    { "limit", NGX_AUTOSCALE_ARG_INT, 1, 1000, NULL },
    { "since", NGX_AUTOSCALE_ARG_TIME, 0, 0, NULL }
};


static ngx_int_t ngx_autoscale_api_history_live(ngx_http_request_t *r,
    ngx_autoscale_route_t *route, cJSON *list);
static ngx_int_t ngx_autoscale_api_history_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);


ngx_int_t
ngx_autoscale_api_history(ngx_autoscale_api_ctx_t *ctx)
{
    size_t                nargs;
    ngx_str_t             params[3];
    const char           *sql;
    ngx_autoscale_err_t   err;
    ngx_autoscale_arg_t   args[2];
    ngx_http_request_t   *r = ctx->request;

    switch (ctx->route.route) {
    case NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS:
        sql = NGX_AUTOSCALE_SQL_CLUSTER_METRICS;
        nargs = 2;
        break;
    case NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS:
        sql = NGX_AUTOSCALE_SQL_CLUSTER_EVENTS;
        nargs = 1;
        break;
    default:
        sql = NGX_AUTOSCALE_SQL_CLUSTER_AGENTS;
        nargs = 0;
    }

    if (ngx_autoscale_route_parse_args((const char *) r->args.data,
                                       r->args.len,
                                       ngx_autoscale_history_args,
                                       nargs, args, &err)
        != 0)
    {
        return ngx_autoscale_api_reply_error(r, &err);
    }

    ngx_memzero(params, sizeof(params));

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;

    if (nargs
        && ngx_autoscale_api_query_number(r, &params[1],
                                          args[0].present ? args[0].num : 100)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (nargs == 2 && args[1].present) {
        params[2].data = (u_char *) args[1].str;
        params[2].len = ngx_strlen(args[1].str);
    }

    return ngx_autoscale_api_query_send(ctx, sql, nargs + 1, params,
               ngx_autoscale_api_history_done);
}


static ngx_int_t
ngx_autoscale_api_history_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    char                        id[NGX_AUTOSCALE_ID_MAX + 1];
    cJSON                      *doc, *list;
    size_t                      ncols;
    const char                 *key;
    const ngx_autoscale_col_t  *cols;

    if (ngx_autoscale_api_query_int(res, 0, NGX_AUTOSCALE_HISTORY_COL_FOUND)
        != 1)
    {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    switch (ctx->route.route) {
    case NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS:
        key = "metrics";
        cols = ngx_autoscale_metric_cols;
        ncols = sizeof(ngx_autoscale_metric_cols) / sizeof(cols[0]);
        break;
    case NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS:
        key = "events";
        cols = ngx_autoscale_event_cols;
        ncols = sizeof(ngx_autoscale_event_cols) / sizeof(cols[0]);
        break;
    default:
        key = "agents";
        cols = ngx_autoscale_agent_cols;
        ncols = sizeof(ngx_autoscale_agent_cols) / sizeof(cols[0]);
    }

    ngx_memcpy(id, ctx->route.id, ctx->route.id_len);
    id[ctx->route.id_len] = '\0';

    doc = cJSON_CreateObject();
    list = ngx_autoscale_api_query_rows(res, NGX_AUTOSCALE_HISTORY_COL_ROW,
                                        cols, ncols);

    if (list && ctx->route.route == NGX_AUTOSCALE_ROUTE_CLUSTER_AGENTS
        && ngx_autoscale_api_history_live(ctx->request, &ctx->route, list)
           != NGX_OK)
    {
        cJSON_Delete(list);
        list = NULL;
    }

    if (doc == NULL || list == NULL
        || cJSON_AddStringToObject(doc, "cluster_id", id) == NULL
        || !cJSON_AddItemToObject(doc, key, list))
    {
        cJSON_Delete(list);
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_reply_send(ctx->request, NGX_HTTP_OK, doc);
}


/*
 * The balancer's live counts join each agent's row: in flight now and
 * sent so far by this nginx, and whether it drains
 */
static ngx_int_t
ngx_autoscale_api_history_live(ngx_http_request_t *r,
    ngx_autoscale_route_t *route, cJSON *list)
{
    cJSON                           *item, *agent_id;
    ngx_autoscale_cluster_t         *cluster;
    ngx_autoscale_agent_live_t       live;
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    cluster = ngx_autoscale_shm_find(amcf->shm_zone, (u_char *) route->id,
                                     route->id_len, NGX_AUTOSCALE_FIND,
                                     NULL);

    cJSON_ArrayForEach(item, list) {
        agent_id = cJSON_GetObjectItemCaseSensitive(item, "agent_id");

        ngx_memzero(&live, sizeof(ngx_autoscale_agent_live_t));

        if (cluster && cJSON_IsString(agent_id)) {
            (void) ngx_autoscale_shm_agent_live(cluster,
                                           (u_char *) agent_id->valuestring,
                                           ngx_strlen(agent_id->valuestring),
                                           &live);
        }

        if (cJSON_AddNumberToObject(item, "in_flight",
                                    (double) live.inflight) == NULL
            || cJSON_AddNumberToObject(item, "requests",
                                       (double) live.requests) == NULL
            || cJSON_AddBoolToObject(item, "draining", live.draining != 0)
               == NULL)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
