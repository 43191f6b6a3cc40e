
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The words and ranges of a cluster's scaling policy, defined once: the
 * policies, target metrics and actuation kinds, the fields that clusters
 * and blueprints take with the range of each, their columns, and the rules
 * across fields that the database checks on a write.  Used by the policy,
 * the request body tables and the API's statements.  Plain C.
 */


#ifndef _NGX_AUTOSCALE_POLICY_VOCAB_H_INCLUDED_
#define _NGX_AUTOSCALE_POLICY_VOCAB_H_INCLUDED_


#include "ngx_autoscale_body.h"


/* in the order of the NULL-terminated ngx_autoscale_policy_vocab_policies */
typedef enum {
    NGX_AUTOSCALE_POLICY_UNKNOWN = 0,
    NGX_AUTOSCALE_POLICY_THRESHOLD,
    NGX_AUTOSCALE_POLICY_TARGET,
    NGX_AUTOSCALE_POLICY_DEMAND
} ngx_autoscale_policy_e;


/* in the order of ngx_autoscale_policy_vocab_metrics */
typedef enum {
    NGX_AUTOSCALE_METRIC_UNKNOWN = 0,
    NGX_AUTOSCALE_METRIC_QUEUE_PER_WORKER,
    NGX_AUTOSCALE_METRIC_CPU_USAGE,
    NGX_AUTOSCALE_METRIC_LOAD_PERCENTAGE
} ngx_autoscale_metric_e;


/*
 * A percentage's highest value: the cpu thresholds, and target_value for
 * every target metric but queue_per_worker.
 */
#define NGX_AUTOSCALE_POLICY_PERCENT_MAX  100
#define NGX_AUTOSCALE_POLICY_PERCENT_SQL  "100"


/*
 * The policy fields as clusters and blueprints take them, in the order of
 * NGX_AUTOSCALE_POLICY_COLUMNS.
 */
#define NGX_AUTOSCALE_POLICY_FIELDS                                           \
    { "policy", NGX_AUTOSCALE_FIELD_ENUM, 0, 0, 0,                            \
      ngx_autoscale_policy_vocab_policies, 0, 0 },                            \
    { "scale_up_queue", NGX_AUTOSCALE_FIELD_NUMBER, 0, 1e6, 0, NULL, 0, 0 },  \
    { "scale_up_cpu", NGX_AUTOSCALE_FIELD_NUMBER, 0,                          \
      NGX_AUTOSCALE_POLICY_PERCENT_MAX, 0, NULL, 0, 0 },                      \
    { "scale_down_queue", NGX_AUTOSCALE_FIELD_NUMBER, 0, 1e6, 0, NULL, 0, 0 },\
    { "scale_down_cpu", NGX_AUTOSCALE_FIELD_NUMBER, 0,                        \
      NGX_AUTOSCALE_POLICY_PERCENT_MAX, 0, NULL, 0, 0 },                      \
    { "scale_up_factor", NGX_AUTOSCALE_FIELD_NUMBER, 1, 10, 0, NULL, 0, 0 },  \
    { "scale_down_factor", NGX_AUTOSCALE_FIELD_NUMBER, 0, 1, 0, NULL, 0, 0 }, \
    { "scale_up_cooldown", NGX_AUTOSCALE_FIELD_INT, 0, 86400, 0, NULL, 0, 0 },\
    { "scale_down_cooldown", NGX_AUTOSCALE_FIELD_INT, 0, 86400, 0, NULL,      \
      0, 0 },                                                                 \
    { "target_metric", NGX_AUTOSCALE_FIELD_ENUM, 0, 0, 0,                     \
      ngx_autoscale_policy_vocab_metrics, 0, 0 },                             \
    { "target_value", NGX_AUTOSCALE_FIELD_NUMBER, 0.01, 1e6, 0, NULL, 0, 0 }, \
    { "tolerance", NGX_AUTOSCALE_FIELD_NUMBER, 0, 0.99, 0, NULL, 0, 0 },      \
    { "stabilization_window", NGX_AUTOSCALE_FIELD_INT, 0, 86400, 0, NULL,     \
      0, 0 },                                                                 \
    { "actuation", NGX_AUTOSCALE_FIELD_ENUM, 0, 0, 0,                         \
      ngx_autoscale_policy_vocab_actuations, 0, 0 },                          \
    { "worker_capacity", NGX_AUTOSCALE_FIELD_INT, 1, 100000, 0, NULL, 0, 0 }

#define NGX_AUTOSCALE_POLICY_NFIELDS  15

/*
 * The policy columns as the API shows them (ngx_autoscale_col_t), in the
 * order of NGX_AUTOSCALE_POLICY_COLUMNS.
 */
#define NGX_AUTOSCALE_POLICY_COLS                                             \
    { "policy", NGX_AUTOSCALE_COL_TEXT },                                     \
    { "scale_up_queue", NGX_AUTOSCALE_COL_FLOAT },                            \
    { "scale_up_cpu", NGX_AUTOSCALE_COL_FLOAT },                              \
    { "scale_down_queue", NGX_AUTOSCALE_COL_FLOAT },                          \
    { "scale_down_cpu", NGX_AUTOSCALE_COL_FLOAT },                            \
    { "scale_up_factor", NGX_AUTOSCALE_COL_FLOAT },                           \
    { "scale_down_factor", NGX_AUTOSCALE_COL_FLOAT },                         \
    { "scale_up_cooldown", NGX_AUTOSCALE_COL_INT },                           \
    { "scale_down_cooldown", NGX_AUTOSCALE_COL_INT },                         \
    { "target_metric", NGX_AUTOSCALE_COL_TEXT },                              \
    { "target_value", NGX_AUTOSCALE_COL_FLOAT },                              \
    { "tolerance", NGX_AUTOSCALE_COL_FLOAT },                                 \
    { "stabilization_window", NGX_AUTOSCALE_COL_INT },                        \
    { "actuation", NGX_AUTOSCALE_COL_TEXT },                                  \
    { "worker_capacity", NGX_AUTOSCALE_COL_INT }

#define NGX_AUTOSCALE_POLICY_COLUMNS                                          \
    "policy, scale_up_queue, scale_up_cpu, scale_down_queue, "                \
    "scale_down_cpu, scale_up_factor, scale_down_factor, "                    \
    "scale_up_cooldown, scale_down_cooldown, target_metric, target_value, "   \
    "tolerance, stabilization_window, actuation, worker_capacity"

/*
 * The columns a statement returns so that a refused write can be told
 * apart from the rules it broke: min_workers, max_workers, scale_up_queue,
 * scale_down_queue, scale_up_cpu, scale_down_cpu, target_metric,
 * target_value, policy, as they would have been.
 */
#define NGX_AUTOSCALE_CHECK_COLUMNS(t)                                        \
    t ".min_workers, " t ".max_workers, " t ".scale_up_queue, "               \
    t ".scale_down_queue, " t ".scale_up_cpu, " t ".scale_down_cpu, "         \
    t ".target_metric, " t ".target_value, " t ".policy"

#define NGX_AUTOSCALE_CHECK_NCOLUMNS  9

/*
 * The same rules, for the WHERE clause of the write; the demand policy
 * takes target_value as a utilization in %, whatever the target metric.
 */
#define NGX_AUTOSCALE_CHECK_RULES(t)                                          \
    t ".min_workers <= " t ".max_workers "                                    \
    "AND " t ".scale_down_queue <= " t ".scale_up_queue "                     \
    "AND " t ".scale_down_cpu <= " t ".scale_up_cpu "                         \
    "AND ((" t ".target_metric = 'queue_per_worker' "                         \
    "AND " t ".policy <> 'demand') "                                          \
    "OR " t ".target_value <= " NGX_AUTOSCALE_POLICY_PERCENT_SQL ")"


extern const char *const  ngx_autoscale_policy_vocab_policies[];
extern const char *const  ngx_autoscale_policy_vocab_metrics[];
extern const char *const  ngx_autoscale_policy_vocab_actuations[];


/* NULL is "threshold", the column's default */
ngx_autoscale_policy_e ngx_autoscale_policy_vocab_policy(const char *name);
ngx_autoscale_metric_e ngx_autoscale_policy_vocab_metric(const char *name);


#endif /* _NGX_AUTOSCALE_POLICY_VOCAB_H_INCLUDED_ */
