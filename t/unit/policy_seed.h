
/*
 * The example cluster that the policy's unit tests and fuzz/fuzz_policy.c
 * start from.
 */


#ifndef _POLICY_SEED_H_INCLUDED_
#define _POLICY_SEED_H_INCLUDED_


#include <string.h>

#include "ngx_autoscale_policy.h"


/* the example cluster: 3..20 workers, default thresholds, fresh metrics */
static inline ngx_autoscale_policy_input_t
threshold_input(int current, double queue, double cpu)
{
    ngx_autoscale_policy_input_t  in;

    memset(&in, 0, sizeof(in));

    in.status = "active";
    in.paused = 0;
    in.min_workers = 3;
    in.max_workers = 20;
    in.current_workers = current;
    in.target_workers = current;
    in.policy = "threshold";
    in.scale_up_queue = 10;
    in.scale_up_cpu = 80;
    in.scale_down_queue = 2;
    in.scale_down_cpu = 20;
    in.scale_up_factor = 1.2;
    in.scale_down_factor = 0.8;
    in.scale_up_cooldown = 300;
    in.scale_down_cooldown = 300;
    in.target_metric = "cpu_usage";
    in.target_value = 70;
    in.tolerance = 0.1;
    in.stabilization_window = 300;
    in.since_scaled = -1;
    in.has_metrics = 1;
    in.metrics_age = 10;
    in.max_age = 60;
    in.queue_length = queue;
    in.cpu_usage = cpu;
    in.load_percentage = 40;
    in.history = NULL;
    in.nhistory = 0;

    return in;
}


#endif /* _POLICY_SEED_H_INCLUDED_ */
