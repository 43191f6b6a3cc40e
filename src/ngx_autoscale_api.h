
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The HTTP API served where "autoscale_api" is set: the handler reads the
 * request and dispatches it to the endpoints (ngx_autoscale_api_clusters.c,
 * _history.c, _blueprints.c, _agents.c, _prom.c), which query and answer
 * through ngx_autoscale_api_query.c and ngx_autoscale_api_reply.c.
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


extern const char *const  ngx_autoscale_policies[];
extern const char *const  ngx_autoscale_target_metrics[];
extern const char *const  ngx_autoscale_actuations[];


ngx_int_t ngx_autoscale_api_handler(ngx_http_request_t *r);

/* nginx's own error pages in API locations become JSON */
ngx_int_t ngx_autoscale_api_filter_init(ngx_conf_t *cf);


#endif /* _NGX_AUTOSCALE_API_H_INCLUDED_ */
