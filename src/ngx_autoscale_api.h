
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The HTTP API served where "autoscale_api" is set: the handler reads the
 * request and dispatches it to the endpoints (ngx_autoscale_api_clusters.c,
 * _blueprints.c, _agents.c, _prometheus.c), which query and answer through
 * ngx_autoscale_api_query.c and ngx_autoscale_api_reply.c.
 */


#ifndef _NGX_AUTOSCALE_API_H_INCLUDED_
#define _NGX_AUTOSCALE_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale_body.h"


/*
 * The policy fields of SPEC 8.1, as clusters and blueprints take them, in
 * the order of NGX_AUTOSCALE_POLICY_COLUMNS.
 */
#define NGX_AUTOSCALE_POLICY_FIELDS                                           \
    { "policy", NGX_AUTOSCALE_FIELD_ENUM, 0, 0, 0,                            \
      ngx_autoscale_policies, 0, 0 },                                         \
    { "scale_up_queue", NGX_AUTOSCALE_FIELD_NUMBER, 0, 1e6, 0, NULL, 0, 0 },  \
    { "scale_up_cpu", NGX_AUTOSCALE_FIELD_NUMBER, 0, 100, 0, NULL, 0, 0 },    \
    { "scale_down_queue", NGX_AUTOSCALE_FIELD_NUMBER, 0, 1e6, 0, NULL, 0, 0 },\
    { "scale_down_cpu", NGX_AUTOSCALE_FIELD_NUMBER, 0, 100, 0, NULL, 0, 0 },  \
    { "scale_up_factor", NGX_AUTOSCALE_FIELD_NUMBER, 1, 10, 0, NULL, 0, 0 },  \
    { "scale_down_factor", NGX_AUTOSCALE_FIELD_NUMBER, 0, 1, 0, NULL, 0, 0 }, \
    { "scale_up_cooldown", NGX_AUTOSCALE_FIELD_INT, 0, 86400, 0, NULL, 0, 0 },\
    { "scale_down_cooldown", NGX_AUTOSCALE_FIELD_INT, 0, 86400, 0, NULL,      \
      0, 0 },                                                                 \
    { "target_metric", NGX_AUTOSCALE_FIELD_ENUM, 0, 0, 0,                     \
      ngx_autoscale_target_metrics, 0, 0 },                                   \
    { "target_value", NGX_AUTOSCALE_FIELD_NUMBER, 0.01, 1e6, 0, NULL, 0, 0 }, \
    { "tolerance", NGX_AUTOSCALE_FIELD_NUMBER, 0, 0.99, 0, NULL, 0, 0 },      \
    { "stabilization_window", NGX_AUTOSCALE_FIELD_INT, 0, 86400, 0, NULL,     \
      0, 0 },                                                                 \
    { "actuation", NGX_AUTOSCALE_FIELD_ENUM, 0, 0, 0,                         \
      ngx_autoscale_actuations, 0, 0 },                                       \
    { "worker_capacity", NGX_AUTOSCALE_FIELD_INT, 1, 100000, 0, NULL, 0, 0 }

#define NGX_AUTOSCALE_POLICY_NFIELDS  15

#define NGX_AUTOSCALE_POLICY_COLUMNS                                          \
    "policy, scale_up_queue, scale_up_cpu, scale_down_queue, "                \
    "scale_down_cpu, scale_up_factor, scale_down_factor, "                    \
    "scale_up_cooldown, scale_down_cooldown, target_metric, target_value, "   \
    "tolerance, stabilization_window, actuation, worker_capacity"

/*
 * The columns a statement returns so that a refused write can be told
 * apart from the rules it broke: min_workers, max_workers, scale_up_queue,
 * scale_down_queue, scale_up_cpu, scale_down_cpu, target_metric,
 * target_value, as they would have been.
 */
#define NGX_AUTOSCALE_CHECK_COLUMNS(t)                                        \
    t ".min_workers, " t ".max_workers, " t ".scale_up_queue, "               \
    t ".scale_down_queue, " t ".scale_up_cpu, " t ".scale_down_cpu, "         \
    t ".target_metric, " t ".target_value"

#define NGX_AUTOSCALE_CHECK_NCOLUMNS  8

/* the same rules, for the WHERE clause of the write */
#define NGX_AUTOSCALE_CHECK_RULES(t)                                          \
    t ".min_workers <= " t ".max_workers "                                    \
    "AND " t ".scale_down_queue <= " t ".scale_up_queue "                     \
    "AND " t ".scale_down_cpu <= " t ".scale_up_cpu "                         \
    "AND (" t ".target_metric = 'queue_per_worker' "                          \
    "OR " t ".target_value <= 100)"


extern const char *const  ngx_autoscale_policies[];
extern const char *const  ngx_autoscale_target_metrics[];
extern const char *const  ngx_autoscale_actuations[];


ngx_int_t ngx_autoscale_api_handler(ngx_http_request_t *r);

/* nginx's own error pages in API locations become JSON */
ngx_int_t ngx_autoscale_api_filter_init(ngx_conf_t *cf);


#endif /* _NGX_AUTOSCALE_API_H_INCLUDED_ */
