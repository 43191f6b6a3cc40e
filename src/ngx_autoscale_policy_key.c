
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ngx_autoscale_policy.h"


/* the width of a bucket of the measured inputs, on a log scale */
#define NGX_AUTOSCALE_POLICY_KEY_BUCKET  0.05


static uint64_t ngx_autoscale_policy_key_mix(uint64_t h, const void *data,
    size_t len);
static uint64_t ngx_autoscale_policy_key_double(uint64_t h, double v);
static uint64_t ngx_autoscale_policy_key_measured(uint64_t h, double v);
static uint64_t ngx_autoscale_policy_key_string(uint64_t h, const char *s);


/*
 * What a held decision says, as 64 bits: the same key means the stored
 * explanation still tells the truth, so the scaler need not write it
 * again.  Exact: the result, proposal, the demand policy's needs,
 * constraints and every setting of the cluster.  Within a tolerance: the
 * measured inputs, as the bucket of a log scale whose buckets are about
 * 5 % wide (0.05 wide near 0).  Left out: the ages (since_scaled,
 * metrics_age), which pass on their own.
 */

static uint64_t
ngx_autoscale_policy_key_mix(uint64_t h, const void *data, size_t len)
{
    size_t          i;
    const uint8_t  *p = data;

    /* FNV-1a */
    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


static uint64_t
ngx_autoscale_policy_key_double(uint64_t h, double v)
{
    if (v == 0) {
        v = 0;    /* -0 and 0 alike */
    }

    if (isnan(v)) {
        v = NAN;  /* every NaN alike */
    }

    return ngx_autoscale_policy_key_mix(h, &v, sizeof(double));
}


static uint64_t
ngx_autoscale_policy_key_measured(uint64_t h, double v)
{
    double  bucket;

    bucket = isfinite(v) ? floor(log1p(fabs(v))
                                 / log1p(NGX_AUTOSCALE_POLICY_KEY_BUCKET))
                           * (v < 0 ? -1 : 1)
                         : v;

    return ngx_autoscale_policy_key_double(h, bucket);
}


static uint64_t
ngx_autoscale_policy_key_string(uint64_t h, const char *s)
{
    /* the NUL too: "ab","c" is not "a","bc"; NULL is not "" */
    return s ? ngx_autoscale_policy_key_mix(h, s, strlen(s) + 1)
             : ngx_autoscale_policy_key_mix(h, "\xff", 1);
}


uint64_t
ngx_autoscale_policy_key(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d, int dry_run)
{
    int       ints[13];
    double    settings[15];
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    ints[0] = (int) d->action;
    ints[1] = d->from;
    ints[2] = d->to;
    ints[3] = d->proposal;
    ints[4] = (int) d->constraints;
    ints[5] = in->paused != 0;
    ints[6] = in->min_workers;
    ints[7] = in->max_workers;
    ints[8] = in->current_workers;
    ints[9] = in->target_workers;
    ints[10] = d->need;
    ints[11] = d->window_need;
    ints[12] = d->cooldown_passed;

    settings[0] = in->scale_up_queue;
    settings[1] = in->scale_up_cpu;
    settings[2] = in->scale_down_queue;
    settings[3] = in->scale_down_cpu;
    settings[4] = in->scale_up_factor;
    settings[5] = in->scale_down_factor;
    settings[6] = in->scale_up_cooldown;
    settings[7] = in->scale_down_cooldown;
    settings[8] = in->target_value;
    settings[9] = in->tolerance;
    settings[10] = in->stabilization_window;
    settings[11] = in->max_age;
    settings[12] = dry_run != 0;
    settings[13] = in->worker_capacity;
    settings[14] = in->drain_time;

    h = ngx_autoscale_policy_key_mix(h, ints, sizeof(ints));

    for (i = 0; i < sizeof(settings) / sizeof(double); i++) {
        h = ngx_autoscale_policy_key_double(h, settings[i]);
    }

    h = ngx_autoscale_policy_key_string(h, in->status);
    h = ngx_autoscale_policy_key_string(h, in->policy);
    h = ngx_autoscale_policy_key_string(h, in->target_metric);

    h = ngx_autoscale_policy_key_mix(h, &in->has_metrics, sizeof(int));

    if (in->has_metrics) {
        h = ngx_autoscale_policy_key_measured(h, in->queue_length);
        h = ngx_autoscale_policy_key_measured(h, in->cpu_usage);
        h = ngx_autoscale_policy_key_measured(h, in->load_percentage);
    }

    return h;
}
