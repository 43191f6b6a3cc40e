
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <math.h>
#include <stddef.h>

#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_policy_vocab.h"


static int ngx_autoscale_policy_json_inputs(cJSON *obj,
    const ngx_autoscale_policy_input_t *in);
static int ngx_autoscale_policy_json_settings(cJSON *obj,
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_policy_e kind);
static int ngx_autoscale_policy_json_demand(cJSON *obj,
    const ngx_autoscale_policy_input_t *in, const ngx_autoscale_decision_t *d);
static int ngx_autoscale_policy_json_number(cJSON *obj, const char *name,
    double v, int present);
static int ngx_autoscale_policy_json_string(cJSON *obj, const char *name,
    const char *s);


cJSON *
ngx_autoscale_policy_json(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d)
{
    unsigned   bit;
    cJSON     *doc, *inputs, *constraints, *result, *item;

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return NULL;
    }

    inputs = cJSON_AddObjectToObject(doc, "inputs");

    if (inputs == NULL
        || ngx_autoscale_policy_json_inputs(inputs, in) != 0
        || ngx_autoscale_policy_json_number(doc, "proposal", d->proposal, 1)
           != 0)
    {
        goto failed;
    }

    if (ngx_autoscale_policy_vocab_policy(in->policy)
        == NGX_AUTOSCALE_POLICY_DEMAND
        && ngx_autoscale_policy_json_demand(doc, in, d) != 0)
    {
        goto failed;
    }

    constraints = cJSON_AddArrayToObject(doc, "constraints");
    if (constraints == NULL) {
        goto failed;
    }

    for (bit = 1; bit <= NGX_AUTOSCALE_C_LAST; bit <<= 1) {
        if (!(d->constraints & bit)) {
            continue;
        }

        item = cJSON_CreateString(ngx_autoscale_policy_constraint_name(bit));

        if (item == NULL || !cJSON_AddItemToArray(constraints, item)) {
            cJSON_Delete(item);
            goto failed;
        }
    }

    result = cJSON_AddObjectToObject(doc, "result");

    if (result == NULL
        || ngx_autoscale_policy_json_string(result, "action",
                               ngx_autoscale_policy_action_name(d->action))
           != 0
        || ngx_autoscale_policy_json_number(result, "from", d->from, 1) != 0
        || ngx_autoscale_policy_json_number(result, "to", d->to, 1) != 0
        || ngx_autoscale_policy_json_string(doc, "reason", d->reason) != 0)
    {
        goto failed;
    }

    return doc;

failed:

    cJSON_Delete(doc);

    return NULL;
}


/* the inputs of the cluster's policy; what was not measured is null */

static int
ngx_autoscale_policy_json_inputs(cJSON *obj,
    const ngx_autoscale_policy_input_t *in)
{
    int                           m;
    cJSON                        *item;
    ngx_autoscale_policy_e        kind;
    ngx_autoscale_policy_seen_t   seen;

    kind = ngx_autoscale_policy_vocab_policy(in->policy);
    m = in->has_metrics;

    if (ngx_autoscale_policy_json_string(obj, "status", in->status) != 0) {
        return -1;
    }

    item = cJSON_CreateBool(in->paused != 0);
    if (item == NULL || !cJSON_AddItemToObject(obj, "paused", item)) {
        cJSON_Delete(item);
        return -1;
    }

    if (ngx_autoscale_policy_json_string(obj, "policy",
                                         in->policy ? in->policy
                                                    : "threshold") != 0
        || ngx_autoscale_policy_json_number(obj, "min_workers",
                                            in->min_workers, 1) != 0
        || ngx_autoscale_policy_json_number(obj, "max_workers",
                                            in->max_workers, 1) != 0
        || ngx_autoscale_policy_json_number(obj, "current_workers",
                                            in->current_workers, 1) != 0
        || ngx_autoscale_policy_json_number(obj, "target_workers",
                                            in->target_workers, 1) != 0)
    {
        return -1;
    }

    if (ngx_autoscale_policy_json_settings(obj, in, kind) != 0) {
        return -1;
    }

    if (ngx_autoscale_policy_json_number(obj, "scale_up_cooldown",
                                         in->scale_up_cooldown, 1) != 0
        || ngx_autoscale_policy_json_number(obj, "scale_down_cooldown",
                                            in->scale_down_cooldown, 1) != 0
        || ngx_autoscale_policy_json_number(obj, "since_scaled",
                                            in->since_scaled,
                                            !(in->since_scaled < 0)) != 0
        || ngx_autoscale_policy_json_number(obj, "metrics_age",
                                            in->metrics_age, m) != 0
        || ngx_autoscale_policy_json_number(obj, "max_age", in->max_age, 1)
           != 0
        || ngx_autoscale_policy_json_number(obj, "queue_length",
                                            in->queue_length, m) != 0
        || ngx_autoscale_policy_json_number(obj, "cpu_usage",
                                            in->cpu_usage, m) != 0
        || ngx_autoscale_policy_json_number(obj, "load_percentage",
                                            in->load_percentage, m) != 0)
    {
        return -1;
    }

    if (kind != NGX_AUTOSCALE_POLICY_TARGET) {
        return 0;
    }

    /* what the decision saw of the metric and of the window */

    ngx_autoscale_policy_target_seen(in, &seen);

    if (ngx_autoscale_policy_json_number(obj, "value", seen.value,
                                         seen.has_value) != 0
        || ngx_autoscale_policy_json_number(obj, "window_samples",
                                            (double) seen.nsamples, 1) != 0
        || ngx_autoscale_policy_json_number(obj, "window_recommendation",
                                            seen.highest, seen.highest >= 0)
           != 0)
    {
        return -1;
    }

    return 0;
}


/* the settings of the cluster's policy */

static int
ngx_autoscale_policy_json_settings(cJSON *obj,
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_policy_e kind)
{
    if (kind == NGX_AUTOSCALE_POLICY_THRESHOLD
        && (ngx_autoscale_policy_json_number(obj, "scale_up_queue",
                                             in->scale_up_queue, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "scale_up_cpu",
                                                in->scale_up_cpu, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "scale_down_queue",
                                                in->scale_down_queue, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "scale_down_cpu",
                                                in->scale_down_cpu, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "scale_up_factor",
                                                in->scale_up_factor, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "scale_down_factor",
                                                in->scale_down_factor, 1)
               != 0))
    {
        return -1;
    }

    if (kind == NGX_AUTOSCALE_POLICY_DEMAND
        && (ngx_autoscale_policy_json_number(obj, "target_value",
                                             in->target_value, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "worker_capacity",
                                                in->worker_capacity, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "stabilization_window",
                                                in->stabilization_window, 1)
               != 0))
    {
        return -1;
    }

    if (kind == NGX_AUTOSCALE_POLICY_TARGET
        && (ngx_autoscale_policy_json_string(obj, "target_metric",
                                             in->target_metric) != 0
            || ngx_autoscale_policy_json_number(obj, "target_value",
                                                in->target_value, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "tolerance",
                                                in->tolerance, 1) != 0
            || ngx_autoscale_policy_json_number(obj, "stabilization_window",
                                                in->stabilization_window, 1)
               != 0))
    {
        return -1;
    }

    return 0;
}


/*
 * The demand estimate's parts: "estimate": {source, arrivals, completions,
 * workers, busy, backlog, service_time, service_time_from, drain_time,
 * utilization, need, arrival_need, window_rows, window_need,
 * up_cooldown_passed}; null where not measured.
 */

static int
ngx_autoscale_policy_json_demand(cJSON *obj,
    const ngx_autoscale_policy_input_t *in, const ngx_autoscale_decision_t *d)
{
    int                                  h;
    cJSON                               *est, *item;
    const char                          *from;
    ngx_autoscale_policy_demand_seen_t   seen;

    static const char *const  froms[] = { "window", "earlier_row", "none" };

    ngx_autoscale_policy_demand_seen(in, &seen);

    est = cJSON_AddObjectToObject(obj, "estimate");
    if (est == NULL) {
        return -1;
    }

    h = seen.has_now;
    from = froms[seen.now.service_from <= NGX_AUTOSCALE_SERVICE_NONE
                 ? seen.now.service_from : NGX_AUTOSCALE_SERVICE_NONE];

    if (ngx_autoscale_policy_json_string(est, "source",
                                         !h ? NULL
                                         : seen.now.observed ? "observed"
                                                             : "agents")
           != 0
        || ngx_autoscale_policy_json_number(est, "arrivals",
                                            seen.now.arrivals, h) != 0
        || ngx_autoscale_policy_json_number(est, "completions",
                                            seen.now.completions, h) != 0
        || ngx_autoscale_policy_json_number(est, "workers",
                                            seen.now.workers, h) != 0
        || ngx_autoscale_policy_json_number(est, "busy", seen.now.busy, h)
           != 0
        || ngx_autoscale_policy_json_number(est, "backlog",
                                            seen.now.backlog, h) != 0
        || ngx_autoscale_policy_json_number(est, "service_time",
                                            seen.now.service, h) != 0
        || ngx_autoscale_policy_json_string(est, "service_time_from",
                                            h && seen.now.observed ? from
                                                                   : NULL)
           != 0
        || ngx_autoscale_policy_json_number(est, "drain_time",
                                            in->drain_time, 1) != 0
        || ngx_autoscale_policy_json_number(est, "utilization",
                                            in->target_value / 100, 1) != 0
        || ngx_autoscale_policy_json_number(est, "need", seen.now.need, h)
           != 0
        || ngx_autoscale_policy_json_number(est, "arrival_need",
                                            seen.now.arrival_need, h) != 0
        || ngx_autoscale_policy_json_number(est, "window_rows",
                                            (double) seen.nsamples, 1) != 0
        || ngx_autoscale_policy_json_number(est, "window_need",
                                            d->window_need,
                                            d->window_need >= 0) != 0)
    {
        return -1;
    }

    item = cJSON_CreateBool(d->cooldown_passed != 0);
    if (item == NULL
        || !cJSON_AddItemToObject(est, "up_cooldown_passed", item))
    {
        cJSON_Delete(item);
        return -1;
    }

    return 0;
}


/* NaN and infinities have no JSON form: null */

static int
ngx_autoscale_policy_json_number(cJSON *obj, const char *name, double v,
    int present)
{
    cJSON  *item;

    item = (present && isfinite(v)) ? cJSON_CreateNumber(v)
                                    : cJSON_CreateNull();

    if (item == NULL || !cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return -1;
    }

    return 0;
}


static int
ngx_autoscale_policy_json_string(cJSON *obj, const char *name, const char *s)
{
    cJSON  *item;

    item = s ? cJSON_CreateString(s) : cJSON_CreateNull();

    if (item == NULL || !cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return -1;
    }

    return 0;
}
