
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * POST clusters/{id}/agents/{agent_id}/heartbeat: an agent's report goes
 * to the shared zone, and the leader writes the agents' rows once per
 * collection.  Only a cluster the zone has not met yet costs a query; one
 * the database said it does not have costs none for a few seconds.
 */


#include <math.h>
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_addr.h"
#include "ngx_autoscale_api_agents.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_body.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_sql_api.h"


/* a request's report, and the zone's births when its query was sent */
typedef struct {
    ngx_autoscale_report_t     report;
    ngx_atomic_uint_t          births;
} ngx_autoscale_heartbeat_t;


static ngx_int_t ngx_autoscale_api_agents_store(ngx_autoscale_api_ctx_t *ctx,
    ngx_autoscale_cluster_t *cluster);
static ngx_int_t ngx_autoscale_api_agents_exists_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_uint_t ngx_autoscale_api_agents_missing(ngx_shm_zone_t *shm_zone,
    ngx_str_t *id, ngx_autoscale_heartbeat_t *remember);


/*
 * This worker's ids the database did not have: not asked again until the
 * entry expires, or until any cluster begins to exist in the zone (the
 * API made one, a refresh found one): then every entry is stale.
 */
#define NGX_AUTOSCALE_MISSING       256
#define NGX_AUTOSCALE_MISSING_TTL   5000

typedef struct {
    ngx_msec_t                 expires;
    ngx_atomic_uint_t          births;
    u_char                     len;
    u_char                     id[NGX_AUTOSCALE_ID_MAX];
} ngx_autoscale_missing_t;


static ngx_autoscale_missing_t
    ngx_autoscale_missing[NGX_AUTOSCALE_MISSING];


/* agents report these; "lost" is the collector's verdict, not theirs */
static const char *const  ngx_autoscale_reported_statuses[] = {
    "active", "idle", "busy", "failed", "stopped", NULL
};


static const ngx_autoscale_field_t  ngx_autoscale_heartbeat_fields[] = {
    { "status", NGX_AUTOSCALE_FIELD_ENUM, 0, 0, 0,
      ngx_autoscale_reported_statuses, 1, 0 },
    { "cpu_usage", NGX_AUTOSCALE_FIELD_NUMBER, 0, 100, 0, NULL, 0, 0 },
    { "memory_usage", NGX_AUTOSCALE_FIELD_NUMBER, 0, 100, 0, NULL, 0, 0 },
    { "queue_length", NGX_AUTOSCALE_FIELD_NUMBER, 0, 1e9, 0, NULL, 0, 0 },
    /* exact in a double, and in bigint */
    { "tasks_completed", NGX_AUTOSCALE_FIELD_INT, 0, 9007199254740991.0, 0,
      NULL, 0, 0 },
    { "tasks_failed", NGX_AUTOSCALE_FIELD_INT, 0, 9007199254740991.0, 0,
      NULL, 0, 0 },
    /* parsed strictly below: a literal, so nothing is looked up */
    { "address", NGX_AUTOSCALE_FIELD_STRING, 1, 47, 0, NULL, 0, 1 },
    { "weight", NGX_AUTOSCALE_FIELD_INT, 1, 100, 0, NULL, 0, 0 }
};

#define NGX_AUTOSCALE_HEARTBEAT_NFIELDS                                       \
    (sizeof(ngx_autoscale_heartbeat_fields)                                   \
     / sizeof(ngx_autoscale_heartbeat_fields[0]))


ngx_int_t
ngx_autoscale_api_agents_heartbeat(ngx_autoscale_api_ctx_t *ctx)
{
    size_t                           i;
    ngx_str_t                        id;
    const char                      *why;
    ngx_http_request_t              *r = ctx->request;
    ngx_autoscale_err_t              err;
    ngx_autoscale_value_t            values[NGX_AUTOSCALE_HEARTBEAT_NFIELDS];
    ngx_autoscale_report_t          *report;
    ngx_autoscale_cluster_t         *cluster;
    ngx_autoscale_heartbeat_t       *hb;
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    if (ngx_autoscale_body_fields(ctx->body, ngx_autoscale_heartbeat_fields,
                                  NGX_AUTOSCALE_HEARTBEAT_NFIELDS, values,
                                  &err)
        != 0)
    {
        ngx_autoscale_body_free(values, NGX_AUTOSCALE_HEARTBEAT_NFIELDS);
        return ngx_autoscale_api_reply_error(r, &err);
    }

    hb = ngx_pcalloc(r->pool, sizeof(ngx_autoscale_heartbeat_t));
    if (hb == NULL) {
        ngx_autoscale_body_free(values, NGX_AUTOSCALE_HEARTBEAT_NFIELDS);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; ngx_autoscale_reported_statuses[i]; i++) {
        if (ngx_strcmp(values[0].text, ngx_autoscale_reported_statuses[i])
            == 0)
        {
            break;
        }
    }

    /* the same order as ngx_autoscale_agent_status_e */
    report = &hb->report;
    report->status = (ngx_autoscale_agent_status_e) i;
    report->cpu_usage = values[1].present ? values[1].number : NAN;
    report->memory_usage = values[2].present ? values[2].number : NAN;
    report->queue_length = values[3].present ? values[3].number : NAN;
    report->tasks_completed = values[4].present
                              ? (int64_t) values[4].number : -1;
    report->tasks_failed = values[5].present
                           ? (int64_t) values[5].number : -1;
    report->weight = values[7].present ? (ngx_uint_t) values[7].number : 1;

    if (values[6].text
        && ngx_autoscale_addr_parse(values[6].text,
                                    ngx_strlen(values[6].text),
                                    &report->addr, &why)
           != 0)
    {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_BAD_REQUEST,
                                    "InvalidField",
                                    "field 'address' must be \"ip:port\" "
                                    "or \"[ipv6]:port\": %s", why);
        ngx_autoscale_body_free(values, NGX_AUTOSCALE_HEARTBEAT_NFIELDS);
        return ngx_autoscale_api_reply_error(r, &err);
    }

    ngx_autoscale_body_free(values, NGX_AUTOSCALE_HEARTBEAT_NFIELDS);

    ctx->data = hb;

    cluster = ngx_autoscale_shm_cluster(amcf->shm_zone,
                                        (u_char *) ctx->route.id,
                                        ctx->route.id_len, 0);

    if (cluster && cluster->exists) {
        return ngx_autoscale_api_agents_store(ctx, cluster);
    }

    /* a cluster the zone has not met: one query, then never again */
    id.data = (u_char *) ctx->route.id;
    id.len = ctx->route.id_len;

    if (ngx_autoscale_api_agents_missing(amcf->shm_zone, &id, NULL)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "autoscale api heartbeat: cluster \"%V\" is known "
                       "to be missing", &id);

        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale api heartbeat: cluster \"%V\" is new to the "
                   "zone, asking the database", &id);

    /* a cluster born while the query runs makes its answer stale */
    hb->births = ((ngx_autoscale_shm_t *) amcf->shm_zone->data)->births;

    return ngx_autoscale_api_query_send(ctx,
                                        NGX_AUTOSCALE_SQL_CLUSTER_EXISTS, 1,
                                        &id,
                                        ngx_autoscale_api_agents_exists_done);
}


static ngx_int_t
ngx_autoscale_api_agents_exists_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    ngx_str_t                        id;
    ngx_autoscale_cluster_t         *cluster;
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(ctx->request,
                                         ngx_http_autoscale_module);

    if (PQntuples(res) == 0) {
        id.data = (u_char *) ctx->route.id;
        id.len = ctx->route.id_len;

        (void) ngx_autoscale_api_agents_missing(amcf->shm_zone, &id,
                                                ctx->data);

        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    /* exists until the next collection says otherwise */
    cluster = ngx_autoscale_shm_find(amcf->shm_zone,
                                     (u_char *) ctx->route.id,
                                     ctx->route.id_len, NGX_AUTOSCALE_EXISTS,
                                     NULL);

    return ngx_autoscale_api_agents_store(ctx, cluster);
}


/* whether the id is known to be missing; or, with remember, note that */
static ngx_uint_t
ngx_autoscale_api_agents_missing(ngx_shm_zone_t *shm_zone, ngx_str_t *id,
    ngx_autoscale_heartbeat_t *remember)
{
    ngx_autoscale_shm_t      *sh = shm_zone->data;
    ngx_autoscale_missing_t  *m;

    m = &ngx_autoscale_missing[ngx_crc32_short(id->data, id->len)
                               % NGX_AUTOSCALE_MISSING];

    if (remember) {
        m->expires = ngx_current_msec + NGX_AUTOSCALE_MISSING_TTL;
        m->births = remember->births;
        m->len = (u_char) id->len;
        ngx_memcpy(m->id, id->data, id->len);
        return 1;
    }

    return m->len == id->len
           && ngx_memcmp(m->id, id->data, id->len) == 0
           && m->births == sh->births
           && (ngx_msec_int_t) (m->expires - ngx_current_msec) > 0;
}


static ngx_int_t
ngx_autoscale_api_agents_store(ngx_autoscale_api_ctx_t *ctx,
    ngx_autoscale_cluster_t *cluster)
{
    cJSON                           *doc;
    ngx_int_t                        rc;
    ngx_http_request_t              *r = ctx->request;
    ngx_autoscale_err_t              err;
    ngx_autoscale_heartbeat_t       *hb = ctx->data;
    ngx_uint_t                       draining;
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    rc = cluster ? ngx_autoscale_shm_heartbeat(amcf->shm_zone, cluster,
                                               (u_char *) ctx->route.agent,
                                               ctx->route.agent_len,
                                               &hb->report, &draining)
                 : NGX_BUSY;

    if (rc == NGX_DECLINED) {
        /* destroyed since the zone last heard of it */
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    if (rc != NGX_OK) {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "ZoneFull",
                                    "the shared zone has no room for this "
                                    "agent");
        return ngx_autoscale_api_reply_error(r, &err);
    }

    doc = cJSON_CreateObject();

    /*
     * the agent learns how long the zone waits before calling it lost,
     * and whether a scale-down chose it to finish its work and stop
     */
    if (doc == NULL
        || cJSON_AddTrueToObject(doc, "accepted") == NULL
        || cJSON_AddNumberToObject(doc, "lost_after",
                                   3 * amcf->collect_interval / 1000.0)
           == NULL
        || (draining && cJSON_AddTrueToObject(doc, "drain") == NULL))
    {
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_reply_send(r, NGX_HTTP_OK, doc);
}
