
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader's decisions, kept in the zone for GET metrics.  The zone
 * outlives reloads and a change of leader worker, so the counters do too;
 * they start again from 0 when nginx restarts, and count only what this
 * nginx's leader decided.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>

#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_shm_decided.h"


static double ngx_autoscale_shm_decided_left(double cooldown, double since);


/* the constraint that says most about why: bad input, then the lowest bit */
ngx_uint_t
ngx_autoscale_shm_decided_reason(unsigned constraints)
{
    ngx_uint_t  i;

    if (constraints & NGX_AUTOSCALE_C_INVALID_INPUT) {
        constraints = NGX_AUTOSCALE_C_INVALID_INPUT;
    }

    for (i = 0; i < NGX_AUTOSCALE_NREASONS - 1; i++) {
        if (constraints & (1u << i)) {
            return i + 1;
        }
    }

    return 0;
}


const char *
ngx_autoscale_shm_decided_reason_name(ngx_uint_t reason)
{
    const char  *name;

    if (reason == 0 || reason >= NGX_AUTOSCALE_NREASONS) {
        return "none";
    }

    name = ngx_autoscale_policy_constraint_name(1u << (reason - 1));

    return name ? name : "none";
}


void
ngx_autoscale_shm_decided(ngx_shm_zone_t *shm_zone, const char *id,
    const ngx_autoscale_policy_input_t *in, const ngx_autoscale_decision_t *d)
{
    size_t                               len;
    ngx_int_t                            i;
    ngx_autoscale_decided_t              dc;
    ngx_autoscale_cluster_t             *cluster;
    ngx_autoscale_policy_demand_seen_t   seen;

    if ((ngx_uint_t) d->action >= NGX_AUTOSCALE_NACTIONS) {
        return;
    }

    dc.at = ngx_time();
    dc.status = -1;

    for (i = 0; in->status && ngx_autoscale_cluster_statuses[i]; i++) {
        if (ngx_strcmp(in->status, ngx_autoscale_cluster_statuses[i]) == 0) {
            dc.status = i;
            break;
        }
    }

    dc.policy = 0;

    if (in->policy && ngx_strcmp(in->policy, "target") == 0) {
        dc.policy = 1;

    } else if (in->policy && ngx_strcmp(in->policy, "demand") == 0) {
        dc.policy = 2;
    }

    dc.action = d->action;
    dc.reason = ngx_autoscale_shm_decided_reason(d->constraints);
    dc.paused = in->paused ? 1 : 0;
    dc.min_workers = in->min_workers;
    dc.max_workers = in->max_workers;
    dc.to = d->to;
    dc.queue_length = in->has_metrics ? in->queue_length : NAN;
    dc.cpu_usage = in->has_metrics ? in->cpu_usage : NAN;
    dc.load_percentage = in->load_percentage;
    dc.metrics_age = in->has_metrics ? in->metrics_age : NAN;
    dc.up_left = ngx_autoscale_shm_decided_left(in->scale_up_cooldown,
                                                in->since_scaled);
    dc.down_left = ngx_autoscale_shm_decided_left(in->scale_down_cooldown,
                                                  in->since_scaled);

    dc.arrivals = NAN;
    dc.service = NAN;
    dc.backlog = NAN;
    dc.need = (d->need >= 0) ? d->need : NAN;
    dc.window_need = (d->window_need >= 0) ? d->window_need : NAN;

    if (dc.policy == 2) {
        ngx_autoscale_policy_demand_seen(in, &seen);

        if (seen.has_now) {
            dc.arrivals = seen.now.arrivals;
            dc.service = seen.now.service;
            dc.backlog = seen.now.backlog;
        }

        /* the decision looks over the window only to scale down */
        if (d->window_need < 0 && seen.highest >= 0) {
            dc.window_need = seen.highest;
        }
    }

    len = ngx_strlen(id);

    ngx_autoscale_shm_lock(shm_zone);

    cluster = ngx_autoscale_shm_find_locked(shm_zone, (u_char *) id, len,
                                            NGX_AUTOSCALE_FIND);
    if (cluster) {
        cluster->decided = dc;
        cluster->decisions[dc.action][dc.reason]++;
    }

    ngx_autoscale_shm_unlock(shm_zone);
}


/* seconds of a cooldown left as the check saw it: 0 when never scaled */
static double
ngx_autoscale_shm_decided_left(double cooldown, double since)
{
    if (!(cooldown > 0) || !(since >= 0) || since >= cooldown) {
        return 0;
    }

    return cooldown - since;
}
