
/*
 * The example cluster that the policy's unit tests and fuzz/fuzz_policy.c
 * start from.
 */


#ifndef _POLICY_SEED_H_INCLUDED_
#define _POLICY_SEED_H_INCLUDED_


#include "ngx_autoscale_policy.h"


/*
 * The example cluster: 3..20 workers, default thresholds, fresh metrics.
 * The fields after cpu, if any, are designated initializers that replace
 * the example's own: POLICY_SEED(6, 15, 10, .since_scaled = 120).
 */
#define POLICY_SEED(current, queue, cpu, ...)                                 \
    {                                                                         \
        .status = "active", .paused = 0,                                      \
        .min_workers = 3, .max_workers = 20,                                  \
        .current_workers = (current), .target_workers = (current),            \
        .policy = "threshold",                                                \
        .scale_up_queue = 10, .scale_up_cpu = 80,                             \
        .scale_down_queue = 2, .scale_down_cpu = 20,                          \
        .scale_up_factor = 1.2, .scale_down_factor = 0.8,                     \
        .scale_up_cooldown = 300, .scale_down_cooldown = 300,                 \
        .target_metric = "cpu_usage", .target_value = 70, .tolerance = 0.1,   \
        .stabilization_window = 300,                                          \
        .since_scaled = -1,                                                   \
        .has_metrics = 1, .metrics_age = 10, .max_age = 60,                   \
        .queue_length = (queue), .cpu_usage = (cpu), .load_percentage = 40,   \
        .history = NULL, .nhistory = 0,                                       \
        __VA_ARGS__                                                           \
    }


static inline ngx_autoscale_policy_input_t
threshold_input(int current, double queue, double cpu)
{
    ngx_autoscale_policy_input_t  in = POLICY_SEED(current, queue, cpu);

    return in;
}


#endif /* _POLICY_SEED_H_INCLUDED_ */
