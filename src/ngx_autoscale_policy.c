
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_autoscale_json.h"
#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_policy_vocab.h"


#define NGX_AUTOSCALE_NUM_LEN    32
#define NGX_AUTOSCALE_NOTE_LEN   96


/* in the order of the bits, from NGX_AUTOSCALE_C_NOT_ACTIVE up */
static const char *const  ngx_autoscale_policy_constraint_names[] = {
    "not_active", "paused", "no_metrics", "stale_metrics", "cooldown_up",
    "cooldown_down", "at_max", "at_min", "within_tolerance", "stabilized",
    "clamped_max", "clamped_min", "no_trigger", "invalid_input"
};


static int ngx_autoscale_policy_check_workers(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out);
static int ngx_autoscale_policy_check_config(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out);
static void ngx_autoscale_policy_threshold(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out);
static void ngx_autoscale_policy_target(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out);
static void ngx_autoscale_policy_up(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int proposal);
static void ngx_autoscale_policy_down(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int to,
    const char *note);
static void ngx_autoscale_policy_set(ngx_autoscale_decision_t *out,
    ngx_autoscale_action_e action, int to, unsigned constraints,
    const char *fmt, ...)
#ifdef __GNUC__
    __attribute__ ((format (printf, 5, 6)))
#endif
    ;
static int ngx_autoscale_policy_invalid(ngx_autoscale_decision_t *out,
    const char *name, double value);
static double ngx_autoscale_policy_raw(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_metric_e metric);
static double ngx_autoscale_policy_value(ngx_autoscale_metric_e metric,
    double raw, int workers);
static int ngx_autoscale_policy_recommend(ngx_autoscale_metric_e metric,
    double raw, int workers, double target);
static int ngx_autoscale_policy_window(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_metric_e metric, size_t *nsamples);
static int ngx_autoscale_policy_floor(double x);
static int ngx_autoscale_policy_ceil(double x);
static int ngx_autoscale_policy_int(double x);
static int ngx_autoscale_policy_bad_metric(double v);
static const char *ngx_autoscale_policy_num(char *buf, double v);
static const char *ngx_autoscale_policy_secs(char *buf, double v);
static const char *ngx_autoscale_policy_s(int n);


void
ngx_autoscale_policy_decide(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int   cur;
    char  a[NGX_AUTOSCALE_NUM_LEN], b[NGX_AUTOSCALE_NUM_LEN];

    cur = in->current_workers;

    out->action = NGX_AUTOSCALE_HOLD;
    out->from = cur;
    out->to = cur;
    out->proposal = cur;
    out->constraints = 0;
    out->reason[0] = '\0';

    if (in->status == NULL || strcmp(in->status, "active") != 0) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_NOT_ACTIVE,
                                 "status is %s, not active: hold",
                                 in->status ? in->status : "unknown");
        return;
    }

    if (in->paused) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_PAUSED,
                                 "cluster is paused: hold");
        return;
    }

    if (ngx_autoscale_policy_check_workers(in, out) != 0) {
        return;
    }

    /* the bounds hold whatever the metrics or the cooldowns say */

    if (cur > in->max_workers) {
        out->proposal = in->max_workers;
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_BOUNDS, in->max_workers,
                                 NGX_AUTOSCALE_C_CLAMPED_MAX,
                                 "current_workers %d above max_workers %d: "
                                 "back to %d", cur, in->max_workers,
                                 in->max_workers);
        return;
    }

    if (cur < in->min_workers) {
        out->proposal = in->min_workers;
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_BOUNDS, in->min_workers,
                                 NGX_AUTOSCALE_C_CLAMPED_MIN,
                                 "current_workers %d below min_workers %d: "
                                 "back to %d", cur, in->min_workers,
                                 in->min_workers);
        return;
    }

    if (ngx_autoscale_policy_check_config(in, out) != 0) {
        return;
    }

    /* never scale, and above all never down, on missing or stale data */

    if (!in->has_metrics) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_NO_METRICS,
                                 "no metrics yet: hold");
        return;
    }

    if (!(in->metrics_age >= 0)) {
        (void) ngx_autoscale_policy_invalid(out, "metrics_age",
                                            in->metrics_age);
        return;
    }

    if (in->metrics_age > in->max_age) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_STALE_METRICS,
                                 "metrics are %s s old (older than %s s): "
                                 "hold",
                                 ngx_autoscale_policy_secs(a, in->metrics_age),
                                 ngx_autoscale_policy_secs(b, in->max_age));
        return;
    }

    if (ngx_autoscale_policy_vocab_policy(in->policy)
        == NGX_AUTOSCALE_POLICY_TARGET)
    {
        ngx_autoscale_policy_target(in, out);

    } else {
        ngx_autoscale_policy_threshold(in, out);
    }
}


static int
ngx_autoscale_policy_check_workers(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    if (in->min_workers < 0) {
        return ngx_autoscale_policy_invalid(out, "min_workers",
                                            in->min_workers);
    }

    if (in->current_workers < 0) {
        return ngx_autoscale_policy_invalid(out, "current_workers",
                                            in->current_workers);
    }

    if (in->max_workers < in->min_workers) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, out->from,
                                 NGX_AUTOSCALE_C_INVALID_INPUT,
                                 "min_workers %d above max_workers %d: hold",
                                 in->min_workers, in->max_workers);
        return -1;
    }

    return 0;
}


/* what the database checks, again: a bad row holds, it does not scale */

static int
ngx_autoscale_policy_check_config(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    ngx_autoscale_policy_e  kind;

    kind = ngx_autoscale_policy_vocab_policy(in->policy);

    if (kind == NGX_AUTOSCALE_POLICY_UNKNOWN) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, out->from,
                                 NGX_AUTOSCALE_C_INVALID_INPUT,
                                 "unknown policy '%s': hold", in->policy);
        return -1;
    }

    /* the comparisons are false for NaN too */

    if (!(in->scale_up_cooldown >= 0)) {
        return ngx_autoscale_policy_invalid(out, "scale_up_cooldown",
                                            in->scale_up_cooldown);
    }

    if (!(in->scale_down_cooldown >= 0)) {
        return ngx_autoscale_policy_invalid(out, "scale_down_cooldown",
                                            in->scale_down_cooldown);
    }

    if (isnan(in->since_scaled)) {
        return ngx_autoscale_policy_invalid(out, "since_scaled",
                                            in->since_scaled);
    }

    if (!(in->max_age > 0)) {
        return ngx_autoscale_policy_invalid(out, "max_age", in->max_age);
    }

    if (kind == NGX_AUTOSCALE_POLICY_THRESHOLD) {

        if (!isfinite(in->scale_up_queue)) {
            return ngx_autoscale_policy_invalid(out, "scale_up_queue",
                                                in->scale_up_queue);
        }

        if (!isfinite(in->scale_up_cpu)) {
            return ngx_autoscale_policy_invalid(out, "scale_up_cpu",
                                                in->scale_up_cpu);
        }

        if (!isfinite(in->scale_down_queue)) {
            return ngx_autoscale_policy_invalid(out, "scale_down_queue",
                                                in->scale_down_queue);
        }

        if (!isfinite(in->scale_down_cpu)) {
            return ngx_autoscale_policy_invalid(out, "scale_down_cpu",
                                                in->scale_down_cpu);
        }

        /* below 1 "up" would shrink, above 1 "down" would grow */

        if (!(in->scale_up_factor >= 1 && isfinite(in->scale_up_factor))) {
            return ngx_autoscale_policy_invalid(out, "scale_up_factor",
                                                in->scale_up_factor);
        }

        if (!(in->scale_down_factor >= 0 && in->scale_down_factor <= 1)) {
            return ngx_autoscale_policy_invalid(out, "scale_down_factor",
                                                in->scale_down_factor);
        }

        return 0;
    }

    if (ngx_autoscale_policy_vocab_metric(in->target_metric)
        == NGX_AUTOSCALE_METRIC_UNKNOWN)
    {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, out->from,
                                 NGX_AUTOSCALE_C_INVALID_INPUT,
                                 "unknown target_metric '%s': hold",
                                 in->target_metric ? in->target_metric
                                                   : "(none)");
        return -1;
    }

    if (!(in->target_value > 0 && isfinite(in->target_value))) {
        return ngx_autoscale_policy_invalid(out, "target_value",
                                            in->target_value);
    }

    if (!(in->tolerance >= 0 && isfinite(in->tolerance))) {
        return ngx_autoscale_policy_invalid(out, "tolerance", in->tolerance);
    }

    if (!(in->stabilization_window >= 0)) {
        return ngx_autoscale_policy_invalid(out, "stabilization_window",
                                            in->stabilization_window);
    }

    return 0;
}


static void
ngx_autoscale_policy_threshold(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int     cur, min, proposal, to, up_queue, up_cpu, down_queue, down_cpu;
    char    q[NGX_AUTOSCALE_NUM_LEN], qt[NGX_AUTOSCALE_NUM_LEN];
    char    c[NGX_AUTOSCALE_NUM_LEN], ct[NGX_AUTOSCALE_NUM_LEN];
    char    f[NGX_AUTOSCALE_NUM_LEN];
    char    trigger[NGX_AUTOSCALE_REASON_LEN], note[NGX_AUTOSCALE_NOTE_LEN];

    if (ngx_autoscale_policy_bad_metric(in->queue_length)) {
        (void) ngx_autoscale_policy_invalid(out, "queue_length",
                                            in->queue_length);
        return;
    }

    if (ngx_autoscale_policy_bad_metric(in->cpu_usage)) {
        (void) ngx_autoscale_policy_invalid(out, "cpu_usage", in->cpu_usage);
        return;
    }

    cur = in->current_workers;
    min = in->min_workers;

    ngx_autoscale_policy_num(q, in->queue_length);
    ngx_autoscale_policy_num(c, in->cpu_usage);

    up_queue = in->queue_length > in->scale_up_queue;
    up_cpu = in->cpu_usage > in->scale_up_cpu;

    if (up_queue || up_cpu) {
        ngx_autoscale_policy_num(qt, in->scale_up_queue);
        ngx_autoscale_policy_num(ct, in->scale_up_cpu);

        if (up_queue && up_cpu) {
            snprintf(trigger, sizeof(trigger),
                     "queue_length %s > %s and cpu_usage %s > %s",
                     q, qt, c, ct);

        } else if (up_queue) {
            snprintf(trigger, sizeof(trigger), "queue_length %s > %s", q, qt);

        } else {
            snprintf(trigger, sizeof(trigger), "cpu_usage %s > %s", c, ct);
        }

        /* current x factor rounded down, plus one so that 1, 2, 3 grow */
        proposal = ngx_autoscale_policy_floor(cur * in->scale_up_factor);
        proposal = proposal < INT_MAX ? proposal + 1 : INT_MAX;

        ngx_autoscale_policy_up(in, out, trigger, proposal);
        return;
    }

    ngx_autoscale_policy_num(qt, in->scale_down_queue);
    ngx_autoscale_policy_num(ct, in->scale_down_cpu);

    down_queue = in->queue_length < in->scale_down_queue;
    down_cpu = in->cpu_usage < in->scale_down_cpu;

    if (!down_queue || !down_cpu) {
        if (!down_queue && !down_cpu) {
            snprintf(trigger, sizeof(trigger),
                     "queue_length %s >= %s and cpu_usage %s >= %s",
                     q, qt, c, ct);

        } else if (!down_queue) {
            snprintf(trigger, sizeof(trigger), "queue_length %s >= %s",
                     q, qt);

        } else {
            snprintf(trigger, sizeof(trigger), "cpu_usage %s >= %s", c, ct);
        }

        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_NO_TRIGGER,
                                 "%s: hold at %d worker%s (no trigger)",
                                 trigger, cur, ngx_autoscale_policy_s(cur));
        return;
    }

    snprintf(trigger, sizeof(trigger),
             "queue_length %s < %s and cpu_usage %s < %s", q, qt, c, ct);

    proposal = ngx_autoscale_policy_floor(cur * in->scale_down_factor);
    out->proposal = proposal;

    to = proposal < min ? min : proposal;

    if (to >= cur) {
        if (cur <= min) {
            ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                     NGX_AUTOSCALE_C_AT_MIN,
                                     "%s, but already at min_workers %d: "
                                     "hold at %d worker%s", trigger, min,
                                     cur, ngx_autoscale_policy_s(cur));
            return;
        }

        /* only a factor of 1 gets here: the operator turned scale-down off */
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_NO_TRIGGER,
                                 "%s, but scale_down_factor %s keeps %d "
                                 "worker%s: hold", trigger,
                                 ngx_autoscale_policy_num(f,
                                                       in->scale_down_factor),
                                 cur, ngx_autoscale_policy_s(cur));
        return;
    }

    note[0] = '\0';

    if (proposal < min) {
        out->constraints |= NGX_AUTOSCALE_C_CLAMPED_MIN;
        snprintf(note, sizeof(note), " (%d raised to min_workers %d)",
                 proposal, min);
    }

    ngx_autoscale_policy_down(in, out, trigger, to, note);
}


static void
ngx_autoscale_policy_target(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int                      cur, min, desired, highest, to;
    char                     v[NGX_AUTOSCALE_NUM_LEN];
    char                     t[NGX_AUTOSCALE_NUM_LEN];
    char                     tol[NGX_AUTOSCALE_NUM_LEN];
    char                     w[NGX_AUTOSCALE_NUM_LEN];
    char                     trigger[NGX_AUTOSCALE_REASON_LEN];
    char                     note[NGX_AUTOSCALE_NOTE_LEN];
    double                   raw, value;
    size_t                   nsamples;
    const char              *name;
    ngx_autoscale_metric_e   metric;

    metric = ngx_autoscale_policy_vocab_metric(in->target_metric);
    raw = ngx_autoscale_policy_raw(in, metric);

    name = (metric == NGX_AUTOSCALE_METRIC_QUEUE_PER_WORKER)
           ? "queue_length" : in->target_metric;

    if (ngx_autoscale_policy_bad_metric(raw)) {
        (void) ngx_autoscale_policy_invalid(out, name, raw);
        return;
    }

    cur = in->current_workers;
    min = in->min_workers;
    value = ngx_autoscale_policy_value(metric, raw, cur);

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

    desired = ngx_autoscale_policy_recommend(metric, raw, cur,
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

    highest = ngx_autoscale_policy_window(in, metric, &nsamples);
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

    if (to < min) {
        if (cur <= min) {
            ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                     NGX_AUTOSCALE_C_AT_MIN,
                                     "%s, but already at min_workers %d: "
                                     "hold at %d worker%s", trigger, min,
                                     cur, ngx_autoscale_policy_s(cur));
            return;
        }

        out->constraints |= NGX_AUTOSCALE_C_CLAMPED_MIN;
        snprintf(note, sizeof(note), " (%d raised to min_workers %d)",
                 to, min);
        to = min;
    }

    ngx_autoscale_policy_down(in, out, trigger, to, note);
}


/* proposal > current: the bound, then the cooldown */

static void
ngx_autoscale_policy_up(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int proposal)
{
    int   cur, max, to;
    char  since[NGX_AUTOSCALE_NUM_LEN], cool[NGX_AUTOSCALE_NUM_LEN];
    char  note[NGX_AUTOSCALE_NOTE_LEN];

    cur = in->current_workers;
    max = in->max_workers;

    out->proposal = proposal;

    if (cur >= max) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_AT_MAX,
                                 "%s, but already at max_workers %d: "
                                 "hold at %d worker%s", trigger, max, cur,
                                 ngx_autoscale_policy_s(cur));
        return;
    }

    to = proposal;
    note[0] = '\0';

    if (proposal > max) {
        to = max;
        out->constraints |= NGX_AUTOSCALE_C_CLAMPED_MAX;
        snprintf(note, sizeof(note), " (%d capped at max_workers %d)",
                 proposal, max);
    }

    if (in->since_scaled >= 0 && in->since_scaled < in->scale_up_cooldown) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_COOLDOWN_UP,
                                 "%s, but in cooldown: scaled %s s ago, "
                                 "scale_up_cooldown is %s s: hold at %d "
                                 "worker%s", trigger,
                                 ngx_autoscale_policy_secs(since,
                                                           in->since_scaled),
                                 ngx_autoscale_policy_secs(cool,
                                                      in->scale_up_cooldown),
                                 cur, ngx_autoscale_policy_s(cur));
        return;
    }

    ngx_autoscale_policy_set(out, NGX_AUTOSCALE_SCALE_UP, to, 0,
                             "%s: scale up from %d to %d worker%s%s",
                             trigger, cur, to, ngx_autoscale_policy_s(to),
                             note);
}


/* to < current, within the bounds: the cooldown */

static void
ngx_autoscale_policy_down(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int to,
    const char *note)
{
    int   cur;
    char  since[NGX_AUTOSCALE_NUM_LEN], cool[NGX_AUTOSCALE_NUM_LEN];

    cur = in->current_workers;

    if (in->since_scaled >= 0 && in->since_scaled < in->scale_down_cooldown) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_COOLDOWN_DOWN,
                                 "%s, but in cooldown: scaled %s s ago, "
                                 "scale_down_cooldown is %s s: hold at %d "
                                 "worker%s", trigger,
                                 ngx_autoscale_policy_secs(since,
                                                           in->since_scaled),
                                 ngx_autoscale_policy_secs(cool,
                                                    in->scale_down_cooldown),
                                 cur, ngx_autoscale_policy_s(cur));
        return;
    }

    ngx_autoscale_policy_set(out, NGX_AUTOSCALE_SCALE_DOWN, to, 0,
                             "%s: scale down from %d to %d worker%s%s",
                             trigger, cur, to, ngx_autoscale_policy_s(to),
                             note);
}


static void
ngx_autoscale_policy_set(ngx_autoscale_decision_t *out,
    ngx_autoscale_action_e action, int to, unsigned constraints,
    const char *fmt, ...)
{
    va_list  args;

    out->action = action;
    out->to = to;
    out->constraints |= constraints;

    va_start(args, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, args);
    va_end(args);
}


static int
ngx_autoscale_policy_invalid(ngx_autoscale_decision_t *out, const char *name,
    double value)
{
    char  v[NGX_AUTOSCALE_NUM_LEN];

    ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, out->from,
                             NGX_AUTOSCALE_C_INVALID_INPUT,
                             "invalid %s %s: hold", name,
                             ngx_autoscale_policy_num(v, value));
    return -1;
}


/* the column of the latest row that the metric is computed from */

static double
ngx_autoscale_policy_raw(const ngx_autoscale_policy_input_t *in,
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
ngx_autoscale_policy_value(ngx_autoscale_metric_e metric, double raw,
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
ngx_autoscale_policy_recommend(ngx_autoscale_metric_e metric, double raw,
    int workers, double target)
{
    double  value;

    value = ngx_autoscale_policy_value(metric, raw, workers);

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
ngx_autoscale_policy_window(const ngx_autoscale_policy_input_t *in,
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

        rec = ngx_autoscale_policy_recommend(metric, s->value, s->workers,
                                             in->target_value);
        if (rec > highest) {
            highest = rec;
        }
    }

    return highest;
}


/* what target tracking sees now, for the explanation */

void
ngx_autoscale_policy_seen(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_policy_seen_t *seen)
{
    ngx_autoscale_metric_e  metric;

    metric = ngx_autoscale_policy_vocab_metric(in->target_metric);

    seen->value = ngx_autoscale_policy_value(metric,
                                    ngx_autoscale_policy_raw(in, metric),
                                    in->current_workers);
    seen->has_value = in->has_metrics
                      && metric != NGX_AUTOSCALE_METRIC_UNKNOWN;
    seen->highest = -1;
    seen->nsamples = 0;

    if (metric != NGX_AUTOSCALE_METRIC_UNKNOWN && in->target_value > 0) {
        seen->highest = ngx_autoscale_policy_window(in, metric,
                                                    &seen->nsamples);
    }
}


/*
 * A product such as 100 * 0.29 is 28.999999999999996: a margin far above
 * the error of one product and far below any real fraction gives the
 * integer that the decimals promise.
 */

static int
ngx_autoscale_policy_floor(double x)
{
    /* the margin of an infinity would be NaN */
    if (!isfinite(x)) {
        return ngx_autoscale_policy_int(x);
    }

    return ngx_autoscale_policy_int(floor(x + 1e-9 + 1e-12 * fabs(x)));
}


static int
ngx_autoscale_policy_ceil(double x)
{
    if (!isfinite(x)) {
        return ngx_autoscale_policy_int(x);
    }

    return ngx_autoscale_policy_int(ceil(x - 1e-9 - 1e-12 * fabs(x)));
}


static int
ngx_autoscale_policy_int(double x)
{
    if (!(x > 0)) {
        return 0;
    }

    if (x >= (double) INT_MAX) {
        return INT_MAX;
    }

    return (int) x;
}


static int
ngx_autoscale_policy_bad_metric(double v)
{
    return !(v >= 0 && isfinite(v));
}


/* the shortest text that reads back as v: "15", "80.5", "0.1" */

static const char *
ngx_autoscale_policy_num(char *buf, double v)
{
    if (isnan(v) || isinf(v) || v == 0) {
        /* JSON's names; and no "-0" */
        snprintf(buf, NGX_AUTOSCALE_NUM_LEN, "%s",
                 isnan(v) ? "NaN" : v > 0 ? "Infinity"
                                  : v < 0 ? "-Infinity" : "0");
        return buf;
    }

    return ngx_autoscale_json_number(buf, NGX_AUTOSCALE_NUM_LEN, v);
}


/* seconds to the millisecond: ages are differences of timestamps */

static const char *
ngx_autoscale_policy_secs(char *buf, double v)
{
    if (isfinite(v)) {
        v = round(v * 1000) / 1000;
    }

    return ngx_autoscale_policy_num(buf, v);
}


static const char *
ngx_autoscale_policy_s(int n)
{
    return n == 1 ? "" : "s";
}


const char *
ngx_autoscale_policy_action_name(ngx_autoscale_action_e a)
{
    switch (a) {

    case NGX_AUTOSCALE_HOLD:
        return "hold";

    case NGX_AUTOSCALE_SCALE_UP:
        return "scale_up";

    case NGX_AUTOSCALE_SCALE_DOWN:
        return "scale_down";

    case NGX_AUTOSCALE_BOUNDS:
        return "bounds";

    default:
        return "unknown";
    }
}


const char *
ngx_autoscale_policy_constraint_name(unsigned bit)
{
    size_t  i;

    for (i = 0;
         i < sizeof(ngx_autoscale_policy_constraint_names)
             / sizeof(ngx_autoscale_policy_constraint_names[0]);
         i++)
    {
        if (bit == 1u << i) {
            return ngx_autoscale_policy_constraint_names[i];
        }
    }

    return NULL;
}
