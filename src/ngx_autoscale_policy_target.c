
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_policy_rule.h"
#include "ngx_autoscale_policy_vocab.h"


static double ngx_autoscale_policy_target_raw(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_metric_e metric);
static double ngx_autoscale_policy_target_value(ngx_autoscale_metric_e metric,
    double raw, int workers);
static int ngx_autoscale_policy_target_recommend(
    ngx_autoscale_metric_e metric, double raw, int workers, double target);
static int ngx_autoscale_policy_target_window(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_metric_e metric,
    size_t *nsamples);


/*
 * Target tracking: as many workers as bring the metric to target_value,
 * outside the tolerance only, and down no further than the highest
 * recommendation of the stabilization window.
 */

void
ngx_autoscale_policy_target(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int                      cur, desired, highest, to;
    char                     v[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                     t[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                     tol[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                     w[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                     trigger[NGX_AUTOSCALE_REASON_LEN];
    char                     note[NGX_AUTOSCALE_POLICY_NOTE_LEN];
    double                   raw, value;
    size_t                   nsamples;
    const char              *name;
    ngx_autoscale_metric_e   metric;

    metric = ngx_autoscale_policy_vocab_metric(in->target_metric);
    raw = ngx_autoscale_policy_target_raw(in, metric);

    name = (metric == NGX_AUTOSCALE_METRIC_QUEUE_PER_WORKER)
           ? "queue_length" : in->target_metric;

    if (ngx_autoscale_policy_bad_metric(raw)) {
        (void) ngx_autoscale_policy_invalid(out, name, raw);
        return;
    }

    cur = in->current_workers;
    value = ngx_autoscale_policy_target_value(metric, raw, cur);

    ngx_autoscale_policy_num(v, value);
    ngx_autoscale_policy_num(t, in->target_value);

    /* 2.2 / 2 is 1.1000000000000001: the edge is inside */
    if (fabs(value / in->target_value - 1) <= in->tolerance + 1e-9) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_WITHIN_TOLERANCE,
                                 "%s %s within tolerance %s of target_value "
                                 "%s: hold at %d worker%s",
                                 in->target_metric, v,
                                 ngx_autoscale_policy_num(tol, in->tolerance),
                                 t, cur, ngx_autoscale_policy_s(cur));
        return;
    }

    snprintf(trigger, sizeof(trigger), "%s %s vs target_value %s",
             in->target_metric, v, t);

    desired = ngx_autoscale_policy_target_recommend(metric, raw, cur,
                                                    in->target_value);

    if (desired > cur) {
        ngx_autoscale_policy_up(in, out, trigger, desired);
        return;
    }

    out->proposal = desired;

    if (desired == cur) {
        /* outside the tolerance, but a whole worker more or less is wrong */
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_NO_TRIGGER,
                                 "%s asks for %d worker%s: hold at %d "
                                 "worker%s (no trigger)", trigger, desired,
                                 ngx_autoscale_policy_s(desired), cur,
                                 ngx_autoscale_policy_s(cur));
        return;
    }

    /* down only as far as the highest recommendation of the window */

    highest = ngx_autoscale_policy_target_window(in, metric, &nsamples);
    ngx_autoscale_policy_secs(w, in->stabilization_window);

    to = desired;
    note[0] = '\0';

    if (highest > desired) {
        to = highest;
        out->constraints |= NGX_AUTOSCALE_C_STABILIZED;

        if (to >= cur) {
            ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur, 0,
                                     "%s asks for %d worker%s, but the "
                                     "last %s s (stabilization_window) "
                                     "asked for %d: hold at %d worker%s",
                                     trigger, desired,
                                     ngx_autoscale_policy_s(desired), w,
                                     highest, cur,
                                     ngx_autoscale_policy_s(cur));
            return;
        }

        snprintf(note, sizeof(note),
                 " (the highest recommendation of the last %s s; %d now)",
                 w, desired);
    }

    ngx_autoscale_policy_down(in, out, trigger, to, note);
}


/* what target tracking sees now, for the explanation */

void
ngx_autoscale_policy_target_seen(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_policy_seen_t *seen)
{
    ngx_autoscale_metric_e  metric;

    metric = ngx_autoscale_policy_vocab_metric(in->target_metric);

    seen->value = ngx_autoscale_policy_target_value(metric,
                               ngx_autoscale_policy_target_raw(in, metric),
                               in->current_workers);
    seen->has_value = in->has_metrics
                      && metric != NGX_AUTOSCALE_METRIC_UNKNOWN;
    seen->highest = -1;
    seen->nsamples = 0;

    if (metric != NGX_AUTOSCALE_METRIC_UNKNOWN && in->target_value > 0) {
        seen->highest = ngx_autoscale_policy_target_window(in, metric,
                                                      &seen->nsamples);
    }
}


/* the column of the latest row that the metric is computed from */

static double
ngx_autoscale_policy_target_raw(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_metric_e metric)
{
    switch (metric) {

    case NGX_AUTOSCALE_METRIC_QUEUE_PER_WORKER:
        return in->queue_length;

    case NGX_AUTOSCALE_METRIC_CPU_USAGE:
        return in->cpu_usage;

    case NGX_AUTOSCALE_METRIC_LOAD_PERCENTAGE:
        return in->load_percentage;

    default:
        return NAN;
    }
}


static double
ngx_autoscale_policy_target_value(ngx_autoscale_metric_e metric, double raw,
    int workers)
{
    if (metric == NGX_AUTOSCALE_METRIC_QUEUE_PER_WORKER) {
        return raw / (workers > 1 ? workers : 1);
    }

    return raw;
}


/*
 * ceil(workers * value / target); with no workers any load needs one, and
 * the queue as many as it holds targets.
 */

static int
ngx_autoscale_policy_target_recommend(ngx_autoscale_metric_e metric,
    double raw, int workers, double target)
{
    double  value;

    value = ngx_autoscale_policy_target_value(metric, raw, workers);

    if (workers < 1) {
        if (!(value > 0)) {
            return 0;
        }

        workers = 1;
    }

    return ngx_autoscale_policy_ceil(workers * value / target);
}


/* the highest recommendation of the samples in the window, or -1 */

static int
ngx_autoscale_policy_target_window(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_metric_e metric, size_t *nsamples)
{
    int                                   highest, rec;
    size_t                                i;
    const ngx_autoscale_policy_sample_t  *s;

    highest = -1;
    *nsamples = 0;

    if (in->history == NULL) {
        return highest;
    }

    for (i = 0; i < in->nhistory; i++) {
        s = &in->history[i];

        /* a broken row tells nothing: it neither holds nor releases */
        if (!(s->age <= in->stabilization_window)
            || s->workers < 0
            || ngx_autoscale_policy_bad_metric(s->value))
        {
            continue;
        }

        (*nsamples)++;

        rec = ngx_autoscale_policy_target_recommend(metric, s->value,
                                                    s->workers,
                                                    in->target_value);
        if (rec > highest) {
            highest = rec;
        }
    }

    return highest;
}
