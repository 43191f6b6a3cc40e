
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <stddef.h>
#include <string.h>

#include "ngx_autoscale_policy_vocab.h"


static int ngx_autoscale_policy_vocab_find(const char *const *names,
    const char *name);


const char *const  ngx_autoscale_policy_vocab_policies[] = {
    "threshold", "target", "demand", NULL
};

const char *const  ngx_autoscale_policy_vocab_metrics[] = {
    "queue_per_worker", "cpu_usage", "load_percentage", NULL
};

const char *const  ngx_autoscale_policy_vocab_actuations[] = {
    "immediate", "reported", NULL
};


ngx_autoscale_policy_e
ngx_autoscale_policy_vocab_policy(const char *name)
{
    /* none is the column's default */
    return name ? (ngx_autoscale_policy_e) ngx_autoscale_policy_vocab_find(
                      ngx_autoscale_policy_vocab_policies, name)
                : NGX_AUTOSCALE_POLICY_THRESHOLD;
}


ngx_autoscale_metric_e
ngx_autoscale_policy_vocab_metric(const char *name)
{
    return name ? (ngx_autoscale_metric_e) ngx_autoscale_policy_vocab_find(
                      ngx_autoscale_policy_vocab_metrics, name)
                : NGX_AUTOSCALE_METRIC_UNKNOWN;
}


/* 1 + the index of name in the NULL-terminated names, 0 if not there */

static int
ngx_autoscale_policy_vocab_find(const char *const *names, const char *name)
{
    int  i;

    for (i = 0; names[i]; i++) {
        if (strcmp(names[i], name) == 0) {
            return i + 1;
        }
    }

    return 0;
}
