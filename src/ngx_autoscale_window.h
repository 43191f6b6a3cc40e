
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

extern const uint64_t
    ngx_autoscale_window_bucket_ms[NGX_AUTOSCALE_BUCKETS - 1];


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

size_t ngx_autoscale_window_bucket(uint64_t ms);


/*
 * Task totals that agents report.  A report adds at most this many tasks
 * to its window (a million a second for a quarter of an hour): a total
 * that jumps, or goes down and up again, cannot push the sums far.
 */
#define NGX_AUTOSCALE_TASKS_STEP_MAX  1000000000LL

/* what a bigint column holds: the window's sums stop there */
#define NGX_AUTOSCALE_TASKS_SUM_MAX   INT64_MAX

/*
 * The tasks a report adds to its window: the rise since the last total,
 * or the new total when it went down (the agent restarted and counts from
 * zero again), at most NGX_AUTOSCALE_TASKS_STEP_MAX; 0 when either total
 * is not known (negative).
 */
uint64_t ngx_autoscale_window_tasks_step(int64_t last, int64_t now);

/* a + b, at most NGX_AUTOSCALE_TASKS_SUM_MAX */
uint64_t ngx_autoscale_window_tasks_add(uint64_t a, uint64_t b);


#endif /* _NGX_AUTOSCALE_WINDOW_H_INCLUDED_ */
