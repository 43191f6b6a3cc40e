
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The scaling decision: from a cluster, its latest metrics row and, for
 * target tracking and demand, the rows of the stabilization window, what
 * to do and why (ngx_autoscale_policy.c, with its rules in
 * ngx_autoscale_policy_threshold.c, ngx_autoscale_policy_target.c and
 * ngx_autoscale_policy_demand.c);
 * the explanation stored with it
 * (ngx_autoscale_policy_json.c) and the key that tells whether a held
 * decision says anything new (ngx_autoscale_policy_key.c).  Plain C with no
 * nginx or libpq headers, so it is unit-tested on its own; the caller reads
 * the rows and writes the result.
 */


#ifndef _NGX_AUTOSCALE_POLICY_H_INCLUDED_
#define _NGX_AUTOSCALE_POLICY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>


#define NGX_AUTOSCALE_REASON_LEN  256


/*
 * A stored metrics row for target tracking: the raw column of the target
 * metric (queue_length, not per worker, for queue_per_worker), its age in
 * seconds and the workers the cluster had then.
 */
typedef struct {
    double                        value;
    double                        age;
    int                           workers;
} ngx_autoscale_policy_sample_t;


/*
 * A stored metrics row for the demand policy, NaN where NULL: its age and
 * window (s), the requests started and finished in it, the time-average
 * of requests in flight, the workers the cluster had, the queue and cpu
 * of the row, and the live agents that reported (0: none).
 */
typedef struct {
    double                        age;
    double                        secs;
    double                        started;
    double                        finished;
    double                        inflight;
    double                        workers;
    double                        queue;
    double                        cpu;
    double                        live;
} ngx_autoscale_policy_row_t;


typedef struct {
    /* the cluster */
    const char                   *status;       /* "active", ...; NULL: none */
    int                           paused;
    int                           min_workers;
    int                           max_workers;
    int                           current_workers;
    int                           target_workers;  /* shown, not used */
    const char                   *policy;       /* "threshold" | "target" |
                                                   "demand";
                                                   NULL: "threshold" */
    double                        scale_up_queue;
    double                        scale_up_cpu;
    double                        scale_down_queue;
    double                        scale_down_cpu;
    double                        scale_up_factor;
    double                        scale_down_factor;
    double                        scale_up_cooldown;     /* seconds */
    double                        scale_down_cooldown;   /* seconds */
    const char                   *target_metric;  /* "queue_per_worker" |
                                                     "cpu_usage" |
                                                     "load_percentage" */
    double                        target_value;
    double                        tolerance;
    double                        stabilization_window;  /* seconds */
    double                        worker_capacity;  /* requests at once */
    double                        drain_time;   /* s: the check interval */
    double                        since_scaled;  /* s since last_scaled_at;
                                                    < 0: never scaled */

    /* the latest metrics row */
    int                           has_metrics;
    double                        metrics_age;   /* seconds */
    double                        max_age;       /* 2 x collect interval */
    double                        queue_length;
    double                        cpu_usage;
    double                        load_percentage;

    /* target tracking: rows of the stabilization window, in any order */
    const ngx_autoscale_policy_sample_t  *history;
    size_t                        nhistory;

    /* demand: the rows of the window, newest (the latest row) first */
    const ngx_autoscale_policy_row_t     *rows;
    size_t                        nrows;
} ngx_autoscale_policy_input_t;


typedef enum {
    NGX_AUTOSCALE_HOLD = 0,
    NGX_AUTOSCALE_SCALE_UP,
    NGX_AUTOSCALE_SCALE_DOWN,
    NGX_AUTOSCALE_BOUNDS         /* current outside [min, max], brought back */
} ngx_autoscale_action_e;


/* the constraints that applied to a decision, as bits */
#define NGX_AUTOSCALE_C_NOT_ACTIVE        0x0001
#define NGX_AUTOSCALE_C_PAUSED            0x0002
#define NGX_AUTOSCALE_C_NO_METRICS        0x0004
#define NGX_AUTOSCALE_C_STALE_METRICS     0x0008
#define NGX_AUTOSCALE_C_COOLDOWN_UP       0x0010
#define NGX_AUTOSCALE_C_COOLDOWN_DOWN     0x0020
#define NGX_AUTOSCALE_C_AT_MAX            0x0040
#define NGX_AUTOSCALE_C_AT_MIN            0x0080
#define NGX_AUTOSCALE_C_WITHIN_TOLERANCE  0x0100
#define NGX_AUTOSCALE_C_STABILIZED        0x0200
#define NGX_AUTOSCALE_C_CLAMPED_MAX       0x0400
#define NGX_AUTOSCALE_C_CLAMPED_MIN       0x0800
#define NGX_AUTOSCALE_C_NO_TRIGGER        0x1000
#define NGX_AUTOSCALE_C_INVALID_INPUT     0x2000

#define NGX_AUTOSCALE_C_LAST              NGX_AUTOSCALE_C_INVALID_INPUT


typedef struct {
    ngx_autoscale_action_e        action;
    int                           from;
    int                           to;          /* == from when held */
    int                           proposal;    /* what the policy asked for
                                                  before bounds and cooldowns;
                                                  from if it was not asked */
    unsigned                      constraints;
    int                           need;        /* demand: workers needed
                                                  now; -1: not estimated */
    int                           window_need; /* and the highest over the
                                                  window; -1: not asked */
    int                           cooldown_passed; /* a scale-up the up
                                                      cooldown does not
                                                      hold */
    char                          reason[NGX_AUTOSCALE_REASON_LEN];
} ngx_autoscale_decision_t;


/* what target tracking sees now, as the explanation shows it */
typedef struct {
    double                        value;       /* the metric, per worker for
                                                  queue_per_worker */
    int                           has_value;   /* 0: unknown or unmeasured */
    size_t                        nsamples;    /* rows of the window */
    int                           highest;     /* their highest
                                                  recommendation; -1: none */
} ngx_autoscale_policy_seen_t;


/* where the demand estimate's service time came from */
typedef enum {
    NGX_AUTOSCALE_SERVICE_WINDOW = 0,   /* busy / completions of the row */
    NGX_AUTOSCALE_SERVICE_EARLIER,      /* the newest earlier row's */
    NGX_AUTOSCALE_SERVICE_NONE          /* unknown: the need holds what is
                                           in the system at once */
} ngx_autoscale_service_e;


/* the demand estimate of one row, each part as the explanation shows it */
typedef struct {
    int                           observed;    /* 0: the agents' reports */
    ngx_autoscale_service_e       service_from;
    double                        arrivals;    /* lambda, per second */
    double                        completions; /* per second */
    double                        workers;     /* serving */
    double                        busy;
    double                        backlog;     /* Q */
    double                        service;     /* S, seconds; NaN: none */
    double                        drain;       /* seconds */
    double                        utilization; /* target, 0..1 */
    double                        raw;         /* workers, before ceil */
    int                           need;
    int                           arrival_need;  /* lambda x S alone */
} ngx_autoscale_policy_estimate_t;


/* what the demand policy sees now, as the explanation shows it */
typedef struct {
    ngx_autoscale_policy_estimate_t  now;
    int                           has_now;     /* 0: no valid latest row */
    size_t                        nsamples;    /* rows of the window */
    int                           highest;     /* their highest need;
                                                  -1: none */
} ngx_autoscale_policy_demand_seen_t;


void ngx_autoscale_policy_decide(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out);
void ngx_autoscale_policy_target_seen(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_policy_seen_t *seen);
void ngx_autoscale_policy_demand_seen(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_policy_demand_seen_t *seen);

/*
 * The demand rows as the check's statement gives them: "age secs started
 * finished inflight workers queue cpu live,..." with "NaN" for NULL.
 * Returns an array for free(), NULL with *n == 0 for no rows or on out of
 * memory (-1 then).
 */
int ngx_autoscale_policy_demand_rows(const char *text,
    ngx_autoscale_policy_row_t **rows, size_t *n);

/*
 * The object stored in clusters.last_decision: inputs, proposal,
 * constraints (names), result (action, from, to) and reason; NULL on out of
 * memory.
 */
cJSON *ngx_autoscale_policy_json(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d);

/*
 * What a decision says, as 64 bits: equal keys mean the same result,
 * proposal, constraints and settings, with measured inputs within about
 * 5 % of each other; ages are left out.  A held decision whose key is the
 * stored one's need not be written again.
 */
uint64_t ngx_autoscale_policy_key(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d, int dry_run);

/* "hold", "scale_up", "scale_down", "bounds"; "unknown" otherwise */
const char *ngx_autoscale_policy_action_name(ngx_autoscale_action_e a);

/* the name of one constraint bit, as in the JSON; NULL if not one */
const char *ngx_autoscale_policy_constraint_name(unsigned bit);


#endif /* _NGX_AUTOSCALE_POLICY_H_INCLUDED_ */
