
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The decision's core: the checks every cluster goes through before a rule
 * is asked (status, paused, bounds, settings, fresh metrics), the bounds
 * and cooldowns a proposal goes through after, and the reason's wording.
 */


#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ngx_autoscale_json.h"
#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_policy_rule.h"
#include "ngx_autoscale_policy_vocab.h"


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
static int ngx_autoscale_policy_check_demand(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out);
static int ngx_autoscale_policy_int(double x);


void
ngx_autoscale_policy_decide(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int   cur;
    char  a[NGX_AUTOSCALE_POLICY_NUM_LEN], b[NGX_AUTOSCALE_POLICY_NUM_LEN];

    cur = in->current_workers;

    out->action = NGX_AUTOSCALE_HOLD;
    out->from = cur;
    out->to = cur;
    out->proposal = cur;
    out->constraints = 0;
    out->need = -1;
    out->window_need = -1;
    out->cooldown_passed = 0;
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

    switch (ngx_autoscale_policy_vocab_policy(in->policy)) {

    case NGX_AUTOSCALE_POLICY_TARGET:
        ngx_autoscale_policy_target(in, out);
        break;

    case NGX_AUTOSCALE_POLICY_DEMAND:
        ngx_autoscale_policy_demand(in, out);
        break;

    default:
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

    if (kind == NGX_AUTOSCALE_POLICY_DEMAND) {
        return ngx_autoscale_policy_check_demand(in, out);
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


/* target_value is the utilization aimed at, in % */

static int
ngx_autoscale_policy_check_demand(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    if (!(in->target_value > 0
          && in->target_value <= NGX_AUTOSCALE_POLICY_PERCENT_MAX))
    {
        return ngx_autoscale_policy_invalid(out, "target_value",
                                            in->target_value);
    }

    if (!(in->worker_capacity >= 1 && isfinite(in->worker_capacity))) {
        return ngx_autoscale_policy_invalid(out, "worker_capacity",
                                            in->worker_capacity);
    }

    if (!(in->drain_time > 0 && isfinite(in->drain_time))) {
        return ngx_autoscale_policy_invalid(out, "drain_time",
                                            in->drain_time);
    }

    if (!(in->stabilization_window >= 0)) {
        return ngx_autoscale_policy_invalid(out, "stabilization_window",
                                            in->stabilization_window);
    }

    return 0;
}


/* proposal > current: the bound, then the cooldown */

void
ngx_autoscale_policy_up(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int proposal)
{
    int   cur, max, to;
    char  note[NGX_AUTOSCALE_POLICY_NOTE_LEN];

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

    ngx_autoscale_policy_move(in, out, NGX_AUTOSCALE_SCALE_UP, trigger, to,
                              note);
}


/* a proposal below min_workers for a cluster already there: hold */

void
ngx_autoscale_policy_at_min(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger)
{
    int  cur;

    cur = in->current_workers;

    ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                             NGX_AUTOSCALE_C_AT_MIN,
                             "%s, but already at min_workers %d: hold at %d "
                             "worker%s", trigger, in->min_workers, cur,
                             ngx_autoscale_policy_s(cur));
}


/* a proposal below current: min_workers holds, then the down cooldown */

void
ngx_autoscale_policy_down(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int to,
    const char *note)
{
    int   cur, min;
    char  raised[NGX_AUTOSCALE_POLICY_NOTE_LEN];

    cur = in->current_workers;
    min = in->min_workers;

    if (to < min) {
        if (cur <= min) {
            ngx_autoscale_policy_at_min(in, out, trigger);
            return;
        }

        out->constraints |= NGX_AUTOSCALE_C_CLAMPED_MIN;
        snprintf(raised, sizeof(raised), " (%d raised to min_workers %d)",
                 to, min);
        ngx_autoscale_policy_move(in, out, NGX_AUTOSCALE_SCALE_DOWN, trigger,
                                  min, raised);
        return;
    }

    ngx_autoscale_policy_move(in, out, NGX_AUTOSCALE_SCALE_DOWN, trigger, to,
                              note);
}


/* within the bounds: each direction has its own cooldown */

void
ngx_autoscale_policy_move(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, ngx_autoscale_action_e action,
    const char *trigger, int to, const char *note)
{
    int          cur;
    char         since[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char         cool[NGX_AUTOSCALE_POLICY_NUM_LEN];
    double       cooldown;
    unsigned     constraint;
    const char  *way;

    cur = in->current_workers;

    if (action == NGX_AUTOSCALE_SCALE_UP) {
        cooldown = in->scale_up_cooldown;
        constraint = NGX_AUTOSCALE_C_COOLDOWN_UP;
        way = "up";

    } else {
        cooldown = in->scale_down_cooldown;
        constraint = NGX_AUTOSCALE_C_COOLDOWN_DOWN;
        way = "down";
    }

    if (in->since_scaled >= 0 && in->since_scaled < cooldown) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur, constraint,
                                 "%s, but in cooldown: scaled %s s ago, "
                                 "scale_%s_cooldown is %s s: hold at %d "
                                 "worker%s", trigger,
                                 ngx_autoscale_policy_secs(since,
                                                           in->since_scaled),
                                 way,
                                 ngx_autoscale_policy_secs(cool, cooldown),
                                 cur, ngx_autoscale_policy_s(cur));
        return;
    }

    ngx_autoscale_policy_set(out, action, to, 0,
                             "%s: scale %s from %d to %d worker%s%s",
                             trigger, way, cur, to,
                             ngx_autoscale_policy_s(to), note);
}


void
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


int
ngx_autoscale_policy_invalid(ngx_autoscale_decision_t *out, const char *name,
    double value)
{
    char  v[NGX_AUTOSCALE_POLICY_NUM_LEN];

    ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, out->from,
                             NGX_AUTOSCALE_C_INVALID_INPUT,
                             "invalid %s %s: hold", name,
                             ngx_autoscale_policy_num(v, value));
    return -1;
}


/*
 * A product such as 100 * 0.29 is 28.999999999999996: a margin far above
 * the error of one product and far below any real fraction gives the
 * integer that the decimals promise.
 */

int
ngx_autoscale_policy_floor(double x)
{
    /* the margin of an infinity would be NaN */
    if (!isfinite(x)) {
        return ngx_autoscale_policy_int(x);
    }

    return ngx_autoscale_policy_int(floor(x + 1e-9 + 1e-12 * fabs(x)));
}


int
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


int
ngx_autoscale_policy_bad_metric(double v)
{
    return !(v >= 0 && isfinite(v));
}


/* the shortest text that reads back as v: "15", "80.5", "0.1" */

const char *
ngx_autoscale_policy_num(char *buf, double v)
{
    if (isnan(v) || isinf(v) || v == 0) {
        /* JSON's names; and no "-0" */
        snprintf(buf, NGX_AUTOSCALE_POLICY_NUM_LEN, "%s",
                 isnan(v) ? "NaN" : v > 0 ? "Infinity"
                                  : v < 0 ? "-Infinity" : "0");
        return buf;
    }

    return ngx_autoscale_json_number(buf, NGX_AUTOSCALE_POLICY_NUM_LEN, v);
}


/* seconds to the millisecond: ages are differences of timestamps */

const char *
ngx_autoscale_policy_secs(char *buf, double v)
{
    if (isfinite(v)) {
        v = round(v * 1000) / 1000;
    }

    return ngx_autoscale_policy_num(buf, v);
}


const char *
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
