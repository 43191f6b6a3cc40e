
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * One collect window of observed traffic, from two readings of a cluster's
 * counters.  Plain C, no nginx headers: unit-tested on its own.
 */


#ifndef _NGX_AUTOSCALE_WINDOW_H_INCLUDED_
#define _NGX_AUTOSCALE_WINDOW_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* upper bounds of the latency histogram, in ms; one more bucket: +Inf */
#define NGX_AUTOSCALE_BUCKETS  12

extern const uint64_t  ngx_autoscale_bucket_ms[NGX_AUTOSCALE_BUCKETS - 1];


/*
 * A reading of counters that only grow (and wrap at 2^64).  start_ms and
 * finish_ms are sums of the monotonic clock at each start and finish: the
 * area under the in-flight curve follows from them without a lock.
 */
typedef struct {
    uint64_t    at;              /* ms, monotonic clock */
    uint64_t    started;
    uint64_t    finished;
    uint64_t    start_ms;
    uint64_t    finish_ms;
    uint64_t    latency_ms;
    uint64_t    errors_5xx;
} ngx_autoscale_mark_t;


typedef struct {
    double      seconds;
    uint64_t    started;
    uint64_t    finished;
    uint64_t    errors_5xx;
    uint64_t    latency_ms;      /* of the requests finished in it */
    double      inflight_avg;    /* time average */
    uint64_t    inflight_end;    /* at its end */
} ngx_autoscale_window_t;


/* 0 when the readings are not in order (the window is then empty) */
int ngx_autoscale_window(const ngx_autoscale_mark_t *from,
    const ngx_autoscale_mark_t *to, ngx_autoscale_window_t *w);

size_t ngx_autoscale_bucket(uint64_t ms);


#endif /* _NGX_AUTOSCALE_WINDOW_H_INCLUDED_ */
