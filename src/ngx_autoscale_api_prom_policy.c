
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * GET metrics, the part that says why a cluster did or did not scale:
 * per cluster, what the policy saw at the leader's last decision and what
 * it did, every decision by action and reason; and who leads.  Read from
 * the zone, as the rest of GET metrics.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>

#include "ngx_autoscale_api_prom.h"
#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm_decided.h"


/* the longest sample line beside the cluster's id, with room to spare */
#define NGX_AUTOSCALE_PROM_POLICY_LINE                                        \
    (160 + NGX_AUTOSCALE_ID_MAX + 2 * NGX_INT64_LEN)

#define NGX_AUTOSCALE_PROM_POLICY_NSTATUS  8

/* a cluster's sample lines, at most */
#define NGX_AUTOSCALE_PROM_POLICY_LINES                                       \
    (NGX_AUTOSCALE_PROM_POLICY_NSTATUS + 16                                   \
     + NGX_AUTOSCALE_NACTIONS * NGX_AUTOSCALE_NREASONS)


typedef enum {
    NGX_AUTOSCALE_PP_STATUS = 0,
    NGX_AUTOSCALE_PP_PAUSED,
    NGX_AUTOSCALE_PP_MIN,
    NGX_AUTOSCALE_PP_MAX,
    NGX_AUTOSCALE_PP_QUEUE,
    NGX_AUTOSCALE_PP_CPU,
    NGX_AUTOSCALE_PP_LOAD,
    NGX_AUTOSCALE_PP_AGE,
    NGX_AUTOSCALE_PP_ARRIVALS,
    NGX_AUTOSCALE_PP_SERVICE,
    NGX_AUTOSCALE_PP_BACKLOG,
    NGX_AUTOSCALE_PP_NEED,
    NGX_AUTOSCALE_PP_WINDOW_NEED,
    NGX_AUTOSCALE_PP_DECIDED_TARGET,
    NGX_AUTOSCALE_PP_COOLDOWN,
    NGX_AUTOSCALE_PP_INFO,
    NGX_AUTOSCALE_PP_TIMESTAMP,
    NGX_AUTOSCALE_PP_DECISIONS,
    NGX_AUTOSCALE_PP_LEADER,
    NGX_AUTOSCALE_PP_LEADER_INFO,
    NGX_AUTOSCALE_PP_NFAMILIES
} ngx_autoscale_prom_policy_e;


static u_char *ngx_autoscale_api_prom_policy_values(u_char *p,
    ngx_autoscale_prom_decided_t *dc, ngx_uint_t n,
    ngx_autoscale_prom_policy_e f);
static double ngx_autoscale_api_prom_policy_value(ngx_autoscale_decided_t *d,
    ngx_autoscale_prom_policy_e f);
static u_char *ngx_autoscale_api_prom_policy_labeled(u_char *p,
    ngx_autoscale_prom_decided_t *dc, ngx_uint_t n,
    ngx_autoscale_prom_policy_e f);
static u_char *ngx_autoscale_api_prom_policy_decisions(u_char *p,
    ngx_autoscale_prom_decided_t *dc, ngx_uint_t n);
static u_char *ngx_autoscale_api_prom_policy_head(u_char *p,
    ngx_autoscale_prom_policy_e f);
static u_char *ngx_autoscale_api_prom_policy_name(u_char *p,
    ngx_autoscale_prom_policy_e f, ngx_autoscale_cluster_t *c);


static const ngx_autoscale_prom_family_t
    ngx_autoscale_prom_policy_families[NGX_AUTOSCALE_PP_NFAMILIES] =
{
    { "autoscale_cluster_status", "gauge",
      "The cluster's status as the leader's last check read it: 1 for the "
      "current one, 0 for the others." },
    { "autoscale_cluster_paused", "gauge",
      "1 when the cluster is paused (nothing scales it), as the leader's "
      "last check read it." },
    { "autoscale_cluster_min_workers", "gauge",
      "The cluster's min_workers, as the leader's last check read it." },
    { "autoscale_cluster_max_workers", "gauge",
      "The cluster's max_workers, as the leader's last check read it." },
    { "autoscale_policy_queue_length", "gauge",
      "The queue_length of the metrics row the last decision used." },
    { "autoscale_policy_cpu_usage_ratio", "gauge",
      "The cpu_usage of the metrics row the last decision used, as a ratio "
      "(1 is 100%)." },
    { "autoscale_policy_load_ratio", "gauge",
      "The cluster's load_percentage the last decision used, as a ratio." },
    { "autoscale_policy_metrics_age_seconds", "gauge",
      "Age of the metrics row the last decision used, when it decided." },
    { "autoscale_demand_arrivals_per_second", "gauge",
      "Demand policy: requests that arrived per second in the latest "
      "row." },
    { "autoscale_demand_service_time_seconds", "gauge",
      "Demand policy: the service time one request takes, by Little's law "
      "on the busy workers." },
    { "autoscale_demand_backlog_requests", "gauge",
      "Demand policy: requests in flight beyond the workers' capacity." },
    { "autoscale_demand_needed_workers", "gauge",
      "Demand policy: the workers the latest row needs." },
    { "autoscale_demand_window_needed_workers", "gauge",
      "Demand policy: the highest need over the stabilization window, what "
      "a scale-down goes to." },
    { "autoscale_decision_target_workers", "gauge",
      "The workers the last decision asked for (its current ones when it "
      "held)." },
    { "autoscale_cooldown_remaining_seconds", "gauge",
      "Seconds left before the cooldown of that direction lets the cluster "
      "scale again; 0 when it does not hold." },
    { "autoscale_last_decision_info", "gauge",
      "The last decision: its policy, action and reason (the constraint "
      "that held or bounded it, \"none\" if none did); always 1." },
    { "autoscale_last_decision_timestamp_seconds", "gauge",
      "When the leader made the last decision, in seconds since the "
      "epoch." },
    { "autoscale_cluster_decisions_total", "counter",
      "Decisions this nginx's leader made on the cluster, by action and "
      "reason; kept across reloads and leader changes, not restarts." },
    { "autoscale_leader_elected", "gauge",
      "1 while a worker of this nginx holds the leader's lease." },
    { "autoscale_leader_info", "gauge",
      "The worker that holds the leader's lease: its node (host name) and "
      "pid; always 1." }
};


static const char *const  ngx_autoscale_prom_policy_names[] = {
    "threshold", "target", "demand"
};


u_char *
ngx_autoscale_api_prom_policy(u_char *p, ngx_autoscale_prom_decided_t *dc,
    ngx_uint_t n, time_t fresh)
{
    time_t      now;
    ngx_uint_t  i, f;

    /* decisions not made lately are not shown: the leader's check no
       longer reads the cluster (it is not active), or nothing leads */
    now = ngx_time();

    for (i = 0; i < n; i++) {
        if (!dc[i].exists || dc[i].decided.at == 0
            || now - dc[i].decided.at > fresh)
        {
            dc[i].decided.at = 0;
        }
    }

    p = ngx_autoscale_api_prom_policy_labeled(p, dc, n,
                                              NGX_AUTOSCALE_PP_STATUS);

    for (f = NGX_AUTOSCALE_PP_PAUSED; f <= NGX_AUTOSCALE_PP_DECIDED_TARGET;
         f++)
    {
        p = ngx_autoscale_api_prom_policy_values(p, dc, n, f);
    }

    p = ngx_autoscale_api_prom_policy_labeled(p, dc, n,
                                              NGX_AUTOSCALE_PP_COOLDOWN);
    p = ngx_autoscale_api_prom_policy_labeled(p, dc, n,
                                              NGX_AUTOSCALE_PP_INFO);
    p = ngx_autoscale_api_prom_policy_values(p, dc, n,
                                             NGX_AUTOSCALE_PP_TIMESTAMP);

    return ngx_autoscale_api_prom_policy_decisions(p, dc, n);
}


/* a gauge of one sample a cluster; none where not known */
static u_char *
ngx_autoscale_api_prom_policy_values(u_char *p,
    ngx_autoscale_prom_decided_t *dc, ngx_uint_t n,
    ngx_autoscale_prom_policy_e f)
{
    double      v;
    ngx_uint_t  i, shown;

    for (shown = 0, i = 0; i < n; i++) {
        if (dc[i].decided.at == 0) {
            continue;
        }

        v = ngx_autoscale_api_prom_policy_value(&dc[i].decided, f);

        /* NaN fails both */
        if (!(v >= 0 && v <= 1e12)) {
            continue;
        }

        if (shown++ == 0) {
            p = ngx_autoscale_api_prom_policy_head(p, f);
        }

        p = ngx_autoscale_api_prom_policy_name(p, f, dc[i].cluster);

        if (v == floor(v)) {
            p = ngx_sprintf(p, "} %uL\n", (uint64_t) v);

        } else {
            p = ngx_sprintf(p, "} %.6f\n", v);
        }
    }

    return p;
}


static double
ngx_autoscale_api_prom_policy_value(ngx_autoscale_decided_t *d,
    ngx_autoscale_prom_policy_e f)
{
    switch (f) {

    case NGX_AUTOSCALE_PP_PAUSED:
        return d->paused;

    case NGX_AUTOSCALE_PP_MIN:
        return d->min_workers;

    case NGX_AUTOSCALE_PP_MAX:
        return d->max_workers;

    case NGX_AUTOSCALE_PP_QUEUE:
        return d->queue_length;

    case NGX_AUTOSCALE_PP_CPU:
        return d->cpu_usage / 100;

    case NGX_AUTOSCALE_PP_LOAD:
        return d->load_percentage / 100;

    case NGX_AUTOSCALE_PP_AGE:
        return d->metrics_age;

    case NGX_AUTOSCALE_PP_ARRIVALS:
        return d->arrivals;

    case NGX_AUTOSCALE_PP_SERVICE:
        return d->service;

    case NGX_AUTOSCALE_PP_BACKLOG:
        return d->backlog;

    case NGX_AUTOSCALE_PP_NEED:
        return d->need;

    case NGX_AUTOSCALE_PP_WINDOW_NEED:
        return d->window_need;

    case NGX_AUTOSCALE_PP_DECIDED_TARGET:
        return d->to;

    default: /* NGX_AUTOSCALE_PP_TIMESTAMP */
        return (double) d->at;
    }
}


/* the families of several samples a cluster, told apart by a label */
static u_char *
ngx_autoscale_api_prom_policy_labeled(u_char *p,
    ngx_autoscale_prom_decided_t *dc, ngx_uint_t n,
    ngx_autoscale_prom_policy_e f)
{
    time_t                    now, left;
    ngx_uint_t                i, k, shown;
    ngx_autoscale_decided_t  *d;

    now = ngx_time();

    for (shown = 0, i = 0; i < n; i++) {
        d = &dc[i].decided;

        if (d->at == 0) {
            continue;
        }

        if (shown++ == 0) {
            p = ngx_autoscale_api_prom_policy_head(p, f);
        }

        switch (f) {

        case NGX_AUTOSCALE_PP_STATUS:
            for (k = 0; k < NGX_AUTOSCALE_PROM_POLICY_NSTATUS; k++) {
                p = ngx_autoscale_api_prom_policy_name(p, f, dc[i].cluster);
                p = ngx_sprintf(p, ",status=\"%s\"} %d\n",
                                ngx_autoscale_cluster_statuses[k],
                                d->status == (ngx_int_t) k);
            }
            break;

        case NGX_AUTOSCALE_PP_COOLDOWN:
            /* as the check saw it, less the time since */
            for (k = 0; k < 2; k++) {
                left = (time_t) ceil(k ? d->down_left : d->up_left)
                       - (now - d->at);
                p = ngx_autoscale_api_prom_policy_name(p, f, dc[i].cluster);
                p = ngx_sprintf(p, ",direction=\"%s\"} %T\n",
                                k ? "down" : "up", left > 0 ? left : 0);
            }
            break;

        default: /* NGX_AUTOSCALE_PP_INFO */
            p = ngx_autoscale_api_prom_policy_name(p, f, dc[i].cluster);
            p = ngx_sprintf(p, ",policy=\"%s\",action=\"%s\","
                            "reason=\"%s\"} 1\n",
                            ngx_autoscale_prom_policy_names[d->policy],
                            ngx_autoscale_policy_action_name(
                                (ngx_autoscale_action_e) d->action),
                            ngx_autoscale_shm_decided_reason_name(d->reason));
        }
    }

    return p;
}


/*
 * Every pair of action and reason that happened, whatever the age of the
 * last decision: a counter's series stays once it began.
 */
static u_char *
ngx_autoscale_api_prom_policy_decisions(u_char *p,
    ngx_autoscale_prom_decided_t *dc, ngx_uint_t n)
{
    uint64_t    v;
    ngx_uint_t  i, a, r, shown;

    shown = 0;

    for (i = 0; i < n; i++) {
        if (!dc[i].exists) {
            continue;
        }

        for (a = 0; a < NGX_AUTOSCALE_NACTIONS; a++) {
            for (r = 0; r < NGX_AUTOSCALE_NREASONS; r++) {
                v = dc[i].cluster->decisions[a][r];

                if (v == 0) {
                    continue;
                }

                if (shown++ == 0) {
                    p = ngx_autoscale_api_prom_policy_head(p,
                                            NGX_AUTOSCALE_PP_DECISIONS);
                }

                p = ngx_autoscale_api_prom_policy_name(p,
                                            NGX_AUTOSCALE_PP_DECISIONS,
                                            dc[i].cluster);
                p = ngx_sprintf(p, ",action=\"%s\",reason=\"%s\"} %uL\n",
                                ngx_autoscale_policy_action_name(
                                    (ngx_autoscale_action_e) a),
                                ngx_autoscale_shm_decided_reason_name(r),
                                v);
            }
        }
    }

    return p;
}


/* host names are letters, digits, dots and dashes: no escaping needed */
u_char *
ngx_autoscale_api_prom_policy_leader(u_char *p,
    ngx_autoscale_prom_lease_t *lease)
{
    ngx_uint_t  elected;

    elected = lease->pid != 0
              && (ngx_msec_int_t) (lease->until - ngx_current_msec) > 0;

    p = ngx_autoscale_api_prom_policy_head(p, NGX_AUTOSCALE_PP_LEADER);
    p = ngx_sprintf(p, "%s %ui\n",
                    ngx_autoscale_prom_policy_families[NGX_AUTOSCALE_PP_LEADER]
                    .name, elected);

    if (!elected) {
        return p;
    }

    p = ngx_autoscale_api_prom_policy_head(p, NGX_AUTOSCALE_PP_LEADER_INFO);

    return ngx_sprintf(p, "%s{node=\"%V\",pid=\"%P\"} 1\n",
                       ngx_autoscale_prom_policy_families[
                           NGX_AUTOSCALE_PP_LEADER_INFO].name,
                       &ngx_cycle->hostname, lease->pid);
}


static u_char *
ngx_autoscale_api_prom_policy_head(u_char *p, ngx_autoscale_prom_policy_e f)
{
    return ngx_autoscale_api_prom_family_head(p,
                                        &ngx_autoscale_prom_policy_families[f]);
}


/* the name and the cluster label, the braces left open for more labels */
static u_char *
ngx_autoscale_api_prom_policy_name(u_char *p, ngx_autoscale_prom_policy_e f,
    ngx_autoscale_cluster_t *c)
{
    return ngx_sprintf(p, "%s{cluster=\"%*s\"",
                       ngx_autoscale_prom_policy_families[f].name,
                       (size_t) c->len, c->id);
}


size_t
ngx_autoscale_api_prom_policy_size(ngx_uint_t n)
{
    size_t  len;

    len = ngx_autoscale_api_prom_family_heads(
                                        ngx_autoscale_prom_policy_families,
                                        NGX_AUTOSCALE_PP_NFAMILIES);

    /* the leader's lines: a host name is at most 255 bytes */
    len += 2 * NGX_AUTOSCALE_PROM_POLICY_LINE + 256;

    return len + n * NGX_AUTOSCALE_PROM_POLICY_LINES
                 * NGX_AUTOSCALE_PROM_POLICY_LINE;
}
