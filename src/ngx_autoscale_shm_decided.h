
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader keeps each decision on its cluster's node in the zone, for
 * GET metrics: what the policy saw and did, and every decision counted by
 * action and reason.
 */


#ifndef _NGX_AUTOSCALE_SHM_DECIDED_H_INCLUDED_
#define _NGX_AUTOSCALE_SHM_DECIDED_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_policy.h"


void ngx_autoscale_shm_decided(ngx_shm_zone_t *shm_zone, const char *id,
    const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d);

/* the reason a decision is counted by: 0 none, else 1 + its bit's place */
ngx_uint_t ngx_autoscale_shm_decided_reason(unsigned constraints);

/* the reason's name, as the constraints of last_decision name it */
const char *ngx_autoscale_shm_decided_reason_name(ngx_uint_t reason);


#endif /* _NGX_AUTOSCALE_SHM_DECIDED_H_INCLUDED_ */
