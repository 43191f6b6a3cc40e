
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Inside the scaling decision: the rules that propose a worker count once
 * the checks have passed (ngx_autoscale_policy_threshold.c,
 * ngx_autoscale_policy_target.c and ngx_autoscale_policy_demand.c), and
 * what they share from the decision's core (ngx_autoscale_policy.c): the
 * bounds and cooldowns a proposal goes through, the reason's wording and
 * the rounding of worker counts.
 */


#ifndef _NGX_AUTOSCALE_POLICY_RULE_H_INCLUDED_
#define _NGX_AUTOSCALE_POLICY_RULE_H_INCLUDED_


#include "ngx_autoscale_policy.h"


#define NGX_AUTOSCALE_POLICY_NUM_LEN   32
#define NGX_AUTOSCALE_POLICY_NOTE_LEN  96


/* the rules: the metrics are fresh and the settings valid */
void ngx_autoscale_policy_threshold(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out);
void ngx_autoscale_policy_target(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out);
void ngx_autoscale_policy_demand(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out);

/* proposal > current: max_workers, then the cooldown */
void ngx_autoscale_policy_up(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int proposal);

/* down, but current_workers is at min_workers already: hold */
void ngx_autoscale_policy_at_min(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger);

/* down to "to" (note: what it is), raised to min_workers if below */
void ngx_autoscale_policy_down(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger, int to,
    const char *note);

/* a move to "to" within the bounds: held by its cooldown, or made */
void ngx_autoscale_policy_move(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, ngx_autoscale_action_e action,
    const char *trigger, int to, const char *note);

void ngx_autoscale_policy_set(ngx_autoscale_decision_t *out,
    ngx_autoscale_action_e action, int to, unsigned constraints,
    const char *fmt, ...)
#ifdef __GNUC__
    __attribute__ ((format (printf, 5, 6)))
#endif
    ;

/* holds on a value that no valid row has; returns -1 */
int ngx_autoscale_policy_invalid(ngx_autoscale_decision_t *out,
    const char *name, double value);

int ngx_autoscale_policy_floor(double x);
int ngx_autoscale_policy_ceil(double x);
int ngx_autoscale_policy_bad_metric(double v);
const char *ngx_autoscale_policy_num(char *buf, double v);
const char *ngx_autoscale_policy_secs(char *buf, double v);
const char *ngx_autoscale_policy_s(int n);


#endif /* _NGX_AUTOSCALE_POLICY_RULE_H_INCLUDED_ */
