
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <limits.h>
#include <stdio.h>

#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_policy_rule.h"


static void ngx_autoscale_policy_threshold_up(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out);
static void ngx_autoscale_policy_threshold_down(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out);


/*
 * The threshold rule: above either scale-up threshold, grow by
 * scale_up_factor; below both scale-down thresholds, shrink by
 * scale_down_factor; in between, hold.
 */

void
ngx_autoscale_policy_threshold(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    if (ngx_autoscale_policy_bad_metric(in->queue_length)) {
        (void) ngx_autoscale_policy_invalid(out, "queue_length",
                                            in->queue_length);
        return;
    }

    if (ngx_autoscale_policy_bad_metric(in->cpu_usage)) {
        (void) ngx_autoscale_policy_invalid(out, "cpu_usage", in->cpu_usage);
        return;
    }

    if (in->queue_length > in->scale_up_queue
        || in->cpu_usage > in->scale_up_cpu)
    {
        ngx_autoscale_policy_threshold_up(in, out);
        return;
    }

    ngx_autoscale_policy_threshold_down(in, out);
}


/* above either scale-up threshold */

static void
ngx_autoscale_policy_threshold_up(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int   up_queue, up_cpu, proposal;
    char  q[NGX_AUTOSCALE_POLICY_NUM_LEN], qt[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char  c[NGX_AUTOSCALE_POLICY_NUM_LEN], ct[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char  trigger[NGX_AUTOSCALE_REASON_LEN];

    ngx_autoscale_policy_num(q, in->queue_length);
    ngx_autoscale_policy_num(c, in->cpu_usage);
    ngx_autoscale_policy_num(qt, in->scale_up_queue);
    ngx_autoscale_policy_num(ct, in->scale_up_cpu);

    up_queue = in->queue_length > in->scale_up_queue;
    up_cpu = in->cpu_usage > in->scale_up_cpu;

    if (up_queue && up_cpu) {
        snprintf(trigger, sizeof(trigger),
                 "queue_length %s > %s and cpu_usage %s > %s", q, qt, c, ct);

    } else if (up_queue) {
        snprintf(trigger, sizeof(trigger), "queue_length %s > %s", q, qt);

    } else {
        snprintf(trigger, sizeof(trigger), "cpu_usage %s > %s", c, ct);
    }

    /* current x factor rounded down, plus one so that 1, 2, 3 grow */
    proposal = ngx_autoscale_policy_floor(in->current_workers
                                          * in->scale_up_factor);
    proposal = proposal < INT_MAX ? proposal + 1 : INT_MAX;

    ngx_autoscale_policy_up(in, out, trigger, proposal);
}


/* below both scale-down thresholds, or in between: hold */

static void
ngx_autoscale_policy_threshold_down(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int   cur, min, proposal, to, down_queue, down_cpu;
    char  q[NGX_AUTOSCALE_POLICY_NUM_LEN], qt[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char  c[NGX_AUTOSCALE_POLICY_NUM_LEN], ct[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char  f[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char  trigger[NGX_AUTOSCALE_REASON_LEN];
    char  note[NGX_AUTOSCALE_POLICY_NOTE_LEN];

    cur = in->current_workers;
    min = in->min_workers;

    ngx_autoscale_policy_num(q, in->queue_length);
    ngx_autoscale_policy_num(c, in->cpu_usage);
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
            ngx_autoscale_policy_at_min(in, out, trigger);
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

    ngx_autoscale_policy_move(in, out, NGX_AUTOSCALE_SCALE_DOWN, trigger, to,
                              note);
}
