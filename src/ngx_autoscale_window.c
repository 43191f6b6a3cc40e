
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <string.h>

#include "ngx_autoscale_window.h"


/* Prometheus' usual latency buckets, from 5 ms to 10 s */
const uint64_t  ngx_autoscale_window_bucket_ms[NGX_AUTOSCALE_BUCKETS - 1] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};


/*
 * With N0 requests in flight at the window's start T0 and the window
 * ending at T1, the area under the in-flight curve is
 *
 *     N0 (T1 - T0) + sum over starts (T1 - s) - sum over finishes (T1 - f)
 *
 * which needs only counts and sums of times.  The sums wrap at 2^64; the
 * differences are small, so unsigned arithmetic gives them exactly.
 */
int
ngx_autoscale_window(const ngx_autoscale_mark_t *from,
    const ngx_autoscale_mark_t *to, ngx_autoscale_window_t *w)
{
    int64_t   area, span;
    uint64_t  inflight0, started, finished;

    span = (int64_t) (to->at - from->at);

    memset(w, 0, sizeof(ngx_autoscale_window_t));

    if (span <= 0) {
        return 0;
    }

    w->seconds = span / 1000.0;

    started = to->started - from->started;
    finished = to->finished - from->finished;
    inflight0 = from->started - from->finished;

    area = (int64_t) (inflight0 * (uint64_t) span
                      + (started - finished) * to->at
                      - (to->start_ms - from->start_ms)
                      + (to->finish_ms - from->finish_ms));

    /* workers' clocks are read a few ms apart: never below nothing */
    if (area < 0) {
        area = 0;
    }

    w->started = started;
    w->finished = finished;
    w->errors_5xx = to->errors_5xx - from->errors_5xx;
    w->latency_ms = to->latency_ms - from->latency_ms;
    w->inflight_avg = (double) area / span;
    w->inflight_end = to->started - to->finished;

    if ((int64_t) w->inflight_end < 0) {
        w->inflight_end = 0;
    }

    return 1;
}


size_t
ngx_autoscale_window_bucket(uint64_t ms)
{
    size_t  i;

    for (i = 0; i < NGX_AUTOSCALE_BUCKETS - 1; i++) {
        if (ms <= ngx_autoscale_window_bucket_ms[i]) {
            return i;
        }
    }

    return NGX_AUTOSCALE_BUCKETS - 1;
}


uint64_t
ngx_autoscale_window_tasks_step(int64_t last, int64_t now)
{
    uint64_t  step;

    if (last < 0 || now < 0) {
        return 0;
    }

    step = (uint64_t) (now >= last ? now - last : now);

    return step < NGX_AUTOSCALE_TASKS_STEP_MAX
           ? step : NGX_AUTOSCALE_TASKS_STEP_MAX;
}


uint64_t
ngx_autoscale_window_tasks_add(uint64_t a, uint64_t b)
{
    const uint64_t  max = NGX_AUTOSCALE_TASKS_SUM_MAX;

    if (a >= max || b >= max - a) {
        return max;
    }

    return a + b;
}
