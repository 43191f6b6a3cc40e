/*
 * Unit tests of the scaling policy: the decision (src/ngx_autoscale_policy.c),
 * its last_decision JSON (_json.c), its key (_key.c) and its vocabulary
 * (_vocab.c).
 */

#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_policy_vocab.h"
#include "policy_seed.h"


#define HOLD        NGX_AUTOSCALE_HOLD
#define UP          NGX_AUTOSCALE_SCALE_UP
#define DOWN        NGX_AUTOSCALE_SCALE_DOWN
#define BOUNDS      NGX_AUTOSCALE_BOUNDS

#define C_NOT_ACTIVE   NGX_AUTOSCALE_C_NOT_ACTIVE
#define C_PAUSED       NGX_AUTOSCALE_C_PAUSED
#define C_NO_METRICS   NGX_AUTOSCALE_C_NO_METRICS
#define C_STALE        NGX_AUTOSCALE_C_STALE_METRICS
#define C_COOL_UP      NGX_AUTOSCALE_C_COOLDOWN_UP
#define C_COOL_DOWN    NGX_AUTOSCALE_C_COOLDOWN_DOWN
#define C_AT_MAX       NGX_AUTOSCALE_C_AT_MAX
#define C_AT_MIN       NGX_AUTOSCALE_C_AT_MIN
#define C_TOLERANCE    NGX_AUTOSCALE_C_WITHIN_TOLERANCE
#define C_STABILIZED   NGX_AUTOSCALE_C_STABILIZED
#define C_CLAMP_MAX    NGX_AUTOSCALE_C_CLAMPED_MAX
#define C_CLAMP_MIN    NGX_AUTOSCALE_C_CLAMPED_MIN
#define C_NO_TRIGGER   NGX_AUTOSCALE_C_NO_TRIGGER
#define C_INVALID      NGX_AUTOSCALE_C_INVALID_INPUT


/* target tracking of cpu_usage at 50 for a cluster of 1..20 workers */
static ngx_autoscale_policy_input_t
target_input(int current, const char *metric, double value)
{
    ngx_autoscale_policy_input_t  in;

    in = threshold_input(current, 0, 0);

    in.min_workers = 1;
    in.policy = "target";
    in.target_metric = metric;
    in.target_value = 50;

    if (strcmp(metric, "queue_per_worker") == 0) {
        in.queue_length = value;

    } else if (strcmp(metric, "cpu_usage") == 0) {
        in.cpu_usage = value;

    } else {
        in.load_percentage = value;
    }

    return in;
}


static ngx_autoscale_decision_t
decide(const ngx_autoscale_policy_input_t *in)
{
    ngx_autoscale_decision_t  d;

    /* garbage first: every field must be written */
    memset(&d, 0x5a, sizeof(d));
    ngx_autoscale_policy_decide(in, &d);

    assert_non_null(memchr(d.reason, '\0', sizeof(d.reason)));
    assert_true(strlen(d.reason) > 0);

    return d;
}


/* the decision on in; name, if any, is the case a failure is of */
static void
expect_named(const char *name, const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_action_e action, int to, int proposal, unsigned constraints,
    const char *reason)
{
    ngx_autoscale_decision_t  d;

    d = decide(in);

    if (d.action != action || d.to != to || d.proposal != proposal
        || d.constraints != constraints)
    {
        print_error("got %s %d -> %d, proposal %d, constraints 0x%x: %s\n",
                    ngx_autoscale_policy_action_name(d.action), d.from, d.to,
                    d.proposal, d.constraints, d.reason);
    }

    assert_case_int(name, d.action, action);
    assert_case_int(name, d.from, in->current_workers);
    assert_case_int(name, d.to, to);
    assert_case_int(name, d.proposal, proposal);
    assert_case_int(name, d.constraints, constraints);

    if (reason) {
        assert_case_string(name, d.reason, reason);
    }
}

#define expect(in, action, to, proposal, constraints, reason)                 \
    expect_named(NULL, in, action, to, proposal, constraints, reason)


/*
 * A case of the decision: the input, named by its own text, and what the
 * policy must decide on it.  The inputs replace fields of the example
 * cluster with designated initializers, which gcc's -Woverride-init takes
 * for a mistake.
 */
typedef struct {
    const char                    *name;
    ngx_autoscale_policy_input_t   in;
    ngx_autoscale_action_e         action;
    int                            to;
    int                            proposal;
    unsigned                       constraints;
    const char                    *reason;     /* NULL: not checked */
} decide_case_t;

#pragma GCC diagnostic ignored "-Woverride-init"

#define CASE(in, action, to, proposal, constraints, reason)                   \
    { #in, in, action, to, proposal, constraints, reason }

/* target tracking at 50 of one metric for a cluster of 1..20 workers */
#define TARGET(current, metric, ...)                                          \
    POLICY_SEED(current, 0, 0, .min_workers = 1, .policy = "target",          \
                .target_metric = metric, .target_value = 50, __VA_ARGS__)

#define TARGET_CPU(current, value, ...)                                       \
    TARGET(current, "cpu_usage", .cpu_usage = (value), __VA_ARGS__)
#define TARGET_LOAD(current, value, ...)                                      \
    TARGET(current, "load_percentage", .load_percentage = (value),            \
           __VA_ARGS__)
#define TARGET_QUEUE(current, value, ...)                                     \
    TARGET(current, "queue_per_worker", .queue_length = (value), __VA_ARGS__)


typedef struct {
    const decide_case_t           *cases;
    size_t                         n;
} decide_table_t;


/* a test of one table, given as the test's state */
static void
test_decide_table(void **state)
{
    size_t                 i;
    const decide_case_t   *c;
    const decide_table_t  *t;

    t = *state;

    for (i = 0; i < t->n; i++) {
        c = &t->cases[i];
        expect_named(c->name, &c->in, c->action, c->to, c->proposal,
                     c->constraints, c->reason);
    }
}

#define DECIDE_TABLE(cases)                                                   \
    { "test_" #cases, test_decide_table, NULL, NULL,                          \
      &(decide_table_t) { cases, n_cases(cases) } }


/* the table of AUTOSCALING_VERIFICATION.md */

static const decide_case_t  seed_up_queue[] = {
    CASE(POLICY_SEED(6, 11, 10), UP, 8, 8, 0,
         "queue_length 11 > 10: scale up from 6 to 8 workers"),
    CASE(POLICY_SEED(6, 15, 10), UP, 8, 8, 0,
         "queue_length 15 > 10: scale up from 6 to 8 workers"),

    /* > is strict */
    CASE(POLICY_SEED(6, 10, 10), HOLD, 6, 6, C_NO_TRIGGER,
         "queue_length 10 >= 2: hold at 6 workers (no trigger)"),
    CASE(POLICY_SEED(6, 10.5, 10), UP, 8, 8, 0,
         "queue_length 10.5 > 10: scale up from 6 to 8 workers")
};


static const decide_case_t  seed_up_cpu[] = {
    CASE(POLICY_SEED(6, 0, 81), UP, 8, 8, 0,
         "cpu_usage 81 > 80: scale up from 6 to 8 workers"),
    CASE(POLICY_SEED(6, 11, 80.5), UP, 8, 8, 0,
         "queue_length 11 > 10 and cpu_usage 80.5 > 80: "
         "scale up from 6 to 8 workers"),
    CASE(POLICY_SEED(6, 0, 80), HOLD, 6, 6, C_NO_TRIGGER,
         "cpu_usage 80 >= 20: hold at 6 workers (no trigger)")
};


static const decide_case_t  seed_hold[] = {
    CASE(POLICY_SEED(8, 5, 50), HOLD, 8, 8, C_NO_TRIGGER,
         "queue_length 5 >= 2 and cpu_usage 50 >= 20: "
         "hold at 8 workers (no trigger)"),
    CASE(POLICY_SEED(8, 1, 25), HOLD, 8, 8, C_NO_TRIGGER,
         "cpu_usage 25 >= 20: hold at 8 workers (no trigger)"),
    CASE(POLICY_SEED(8, 2, 10), HOLD, 8, 8, C_NO_TRIGGER,
         "queue_length 2 >= 2: hold at 8 workers (no trigger)"),
    CASE(POLICY_SEED(8, 1, 20), HOLD, 8, 8, C_NO_TRIGGER,
         "cpu_usage 20 >= 20: hold at 8 workers (no trigger)")
};


static const decide_case_t  seed_down[] = {
    CASE(POLICY_SEED(8, 1, 19), DOWN, 6, 6, 0,
         "queue_length 1 < 2 and cpu_usage 19 < 20: "
         "scale down from 8 to 6 workers"),
    CASE(POLICY_SEED(8, 0, 0), DOWN, 6, 6, 0, NULL),
    CASE(POLICY_SEED(10, 0, 0), DOWN, 8, 8, 0, NULL)
};


static const decide_case_t  at_max[] = {
    CASE(POLICY_SEED(20, 11, 10), HOLD, 20, 25, C_AT_MAX,
         "queue_length 11 > 10, but already at max_workers 20: "
         "hold at 20 workers"),

    /* at max, the cooldown is not what holds */
    CASE(POLICY_SEED(20, 11, 10, .since_scaled = 10), HOLD, 20, 25,
         C_AT_MAX, NULL),
    CASE(POLICY_SEED(18, 11, 10), UP, 20, 22, C_CLAMP_MAX,
         "queue_length 11 > 10: scale up from 18 to 20 workers "
         "(22 capped at max_workers 20)"),
    CASE(POLICY_SEED(16, 11, 10), UP, 20, 20, 0, NULL),

    /* down from max is allowed */
    CASE(POLICY_SEED(20, 0, 0), DOWN, 16, 16, 0, NULL)
};


static const decide_case_t  at_min[] = {
    CASE(POLICY_SEED(3, 0, 0), HOLD, 3, 2, C_AT_MIN,
         "queue_length 0 < 2 and cpu_usage 0 < 20, but already at "
         "min_workers 3: hold at 3 workers"),
    CASE(POLICY_SEED(3, 0, 0, .since_scaled = 10), HOLD, 3, 2, C_AT_MIN,
         NULL),
    CASE(POLICY_SEED(4, 0, 0), DOWN, 3, 3, 0, NULL),
    CASE(POLICY_SEED(10, 0, 0, .min_workers = 9), DOWN, 9, 8, C_CLAMP_MIN,
         "queue_length 0 < 2 and cpu_usage 0 < 20: scale down from 10 "
         "to 9 workers (8 raised to min_workers 9)"),

    /* up from min is allowed */
    CASE(POLICY_SEED(3, 11, 0), UP, 4, 4, 0, NULL)
};


static const decide_case_t  bounds[] = {
    CASE(POLICY_SEED(1, 5, 50), BOUNDS, 3, 3, C_CLAMP_MIN,
         "current_workers 1 below min_workers 3: back to 3"),
    CASE(POLICY_SEED(25, 5, 50), BOUNDS, 20, 20, C_CLAMP_MAX,
         "current_workers 25 above max_workers 20: back to 20"),

    /* the metrics would scale the other way: the bound comes first */
    CASE(POLICY_SEED(25, 50, 100), BOUNDS, 20, 20, C_CLAMP_MAX, NULL),
    CASE(POLICY_SEED(0, 0, 0), BOUNDS, 3, 3, C_CLAMP_MIN, NULL),

    /* neither metrics nor cooldowns are needed */
    CASE(POLICY_SEED(1, 5, 50, .has_metrics = 0, .since_scaled = 1), BOUNDS,
         3, 3, C_CLAMP_MIN, NULL),
    CASE(POLICY_SEED(25, 0, 0, .metrics_age = 1000, .since_scaled = 0),
         BOUNDS, 20, 20, C_CLAMP_MAX, NULL),

    /* a bad policy does not keep the bounds from holding */
    CASE(POLICY_SEED(25, 0, 0, .scale_up_factor = NAN), BOUNDS, 20, 20,
         C_CLAMP_MAX, NULL),

    /* but a paused or inactive cluster is left alone */
    CASE(POLICY_SEED(25, 0, 0, .paused = 1), HOLD, 25, 25, C_PAUSED, NULL),
    CASE(POLICY_SEED(1, 0, 0, .status = "hibernated"), HOLD, 1, 1,
         C_NOT_ACTIVE, NULL)
};


static const decide_case_t  cooldown_up[] = {
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = 299.999), HOLD, 6, 8,
         C_COOL_UP,
         "queue_length 15 > 10, but in cooldown: scaled 299.999 s ago, "
         "scale_up_cooldown is 300 s: hold at 6 workers"),
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = 120), HOLD, 6, 8, C_COOL_UP,
         "queue_length 15 > 10, but in cooldown: scaled 120 s ago, "
         "scale_up_cooldown is 300 s: hold at 6 workers"),
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = 0), HOLD, 6, 8, C_COOL_UP,
         NULL),
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = 300), UP, 8, 8, 0, NULL),
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = 300.001),
         UP, 8, 8, 0, NULL),

    /* the down cooldown does not hold up */
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = 120,
             .scale_up_cooldown = 60, .scale_down_cooldown = 600), UP, 8, 8,
         0, NULL),
    CASE(POLICY_SEED(6, 15, 10, .scale_down_cooldown = 600,
             .scale_up_cooldown = 0, .since_scaled = 0), UP, 8, 8, 0, NULL),

    /* clamped and in cooldown: both said */
    CASE(POLICY_SEED(18, 15, 10, .since_scaled = 100), HOLD, 18, 22,
         C_CLAMP_MAX | C_COOL_UP, NULL)
};


static const decide_case_t  cooldown_down[] = {
    CASE(POLICY_SEED(8, 1, 10, .since_scaled = 120), HOLD, 8, 6,
         C_COOL_DOWN,
         "queue_length 1 < 2 and cpu_usage 10 < 20, but in cooldown: "
         "scaled 120 s ago, scale_down_cooldown is 300 s: "
         "hold at 8 workers"),
    CASE(POLICY_SEED(8, 1, 10, .since_scaled = 299.999), HOLD, 8, 6,
         C_COOL_DOWN, NULL),
    CASE(POLICY_SEED(8, 1, 10, .since_scaled = 300), DOWN, 6, 6, 0, NULL),
    CASE(POLICY_SEED(8, 1, 10, .since_scaled = 300.001), DOWN, 6, 6, 0,
         NULL),

    /* each direction its own */
    CASE(POLICY_SEED(8, 1, 10, .since_scaled = 120,
             .scale_up_cooldown = 600, .scale_down_cooldown = 60), DOWN, 6,
         6, 0, NULL),
    CASE(POLICY_SEED(8, 1, 10, .since_scaled = 120,
             .scale_up_cooldown = 600, .scale_down_cooldown = 120.5), HOLD,
         8, 6, C_COOL_DOWN,
         "queue_length 1 < 2 and cpu_usage 10 < 20, but in cooldown: "
         "scaled 120 s ago, scale_down_cooldown is 120.5 s: "
         "hold at 8 workers")
};


static const decide_case_t  never_scaled[] = {
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = -1), UP, 8, 8, 0, NULL),
    CASE(POLICY_SEED(8, 0, 0, .since_scaled = -0.001), DOWN, 6, 6, 0, NULL),
    CASE(POLICY_SEED(8, 0, 0, .since_scaled = -INFINITY), DOWN, 6, 6, 0,
         NULL),

    /* long ago */
    CASE(POLICY_SEED(8, 0, 0, .since_scaled = INFINITY), DOWN, 6, 6, 0,
         NULL)
};


static const decide_case_t  paused[] = {
    CASE(POLICY_SEED(6, 15, 90, .paused = 1), HOLD, 6, 6, C_PAUSED,
         "cluster is paused: hold"),
    CASE(POLICY_SEED(8, 0, 0, .paused = 1, .has_metrics = 0), HOLD, 8, 8,
         C_PAUSED,
         "cluster is paused: hold")
};


static void
test_not_active(void **state)
{
    char                          reason[NGX_AUTOSCALE_REASON_LEN];
    size_t                        i;
    ngx_autoscale_policy_input_t  in;

    static const char *const  statuses[] = {
        "planning", "spawning", "scaling_up", "scaling_down", "hibernated",
        "destroying", "destroyed", "", "ACTIVE", "active "
    };

    (void) state;

    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        in = threshold_input(6, 15, 90);
        in.status = statuses[i];
        snprintf(reason, sizeof(reason), "status is %s, not active: hold",
                 statuses[i]);
        expect(&in, HOLD, 6, 6, C_NOT_ACTIVE, reason);

        /* before paused */
        in.paused = 1;
        expect(&in, HOLD, 6, 6, C_NOT_ACTIVE, reason);
    }

    in = threshold_input(8, 0, 0);
    in.status = NULL;
    expect(&in, HOLD, 8, 8, C_NOT_ACTIVE,
           "status is unknown, not active: hold");
}


static const decide_case_t  no_metrics[] = {
    CASE(POLICY_SEED(8, 0, 0, .has_metrics = 0), HOLD, 8, 8, C_NO_METRICS,
         "no metrics yet: hold"),
    CASE(POLICY_SEED(6, 15, 90, .has_metrics = 0), HOLD, 6, 6, C_NO_METRICS,
         "no metrics yet: hold"),

    /* the values of no row are not looked at */
    CASE(POLICY_SEED(6, 15, 90, .has_metrics = 0, .queue_length = NAN,
             .metrics_age = NAN), HOLD, 6, 6, C_NO_METRICS, NULL)
};


static const decide_case_t  stale_metrics[] = {
    CASE(POLICY_SEED(8, 0, 0, .metrics_age = 60), DOWN, 6, 6, 0, NULL),
    CASE(POLICY_SEED(8, 0, 0, .metrics_age = 60.001), HOLD, 8, 8, C_STALE,
         "metrics are 60.001 s old (older than 60 s): hold"),
    CASE(POLICY_SEED(8, 0, 0, .metrics_age = 75), HOLD, 8, 8, C_STALE,
         "metrics are 75 s old (older than 60 s): hold"),
    CASE(POLICY_SEED(6, 15, 90, .metrics_age = 0), UP, 8, 8, 0, NULL),
    CASE(POLICY_SEED(6, 15, 90, .metrics_age = 60.001), HOLD, 6, 6, C_STALE,
         NULL),
    CASE(POLICY_SEED(6, 15, 90, .metrics_age = INFINITY), HOLD, 6, 6,
         C_STALE,
         "metrics are Infinity s old (older than 60 s): hold"),

    /* stale is checked before the cooldown */
    CASE(POLICY_SEED(6, 15, 90, .metrics_age = 61, .since_scaled = 10),
         HOLD, 6, 6, C_STALE, NULL)
};


typedef struct {
    int     current;
    int     min;
    int     up;
    int     down;
} small_t;


static void
test_rounding_small(void **state)
{
    size_t                        i;
    ngx_autoscale_policy_input_t  in;

    /* up: floor(c * 1.2) + 1; down: floor(c * 0.8), -1 when it holds */
    static const small_t  cases[] = {
        { 0, 0, 1, -1 }, { 1, 0, 2, 0 }, { 2, 0, 3, 1 }, { 3, 0, 4, 2 },
        { 1, 1, 2, -1 }, { 2, 1, 3, 1 }, { 3, 1, 4, 2 },
        { 4, 0, 5, 3 }, { 5, 0, 7, 4 }, { 6, 0, 8, 4 }, { 8, 0, 10, 6 },
        { 10, 0, 13, 8 }, { 15, 0, 19, 12 }
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        in = threshold_input(cases[i].current, 15, 10);
        in.min_workers = cases[i].min;
        in.max_workers = 100;
        expect(&in, UP, cases[i].up, cases[i].up, 0, NULL);

        in.queue_length = 0;
        in.cpu_usage = 0;

        if (cases[i].down < 0) {
            expect(&in, HOLD, cases[i].current, cases[i].current * 8 / 10,
                   C_AT_MIN, NULL);

        } else {
            expect(&in, DOWN, cases[i].down, cases[i].down, 0, NULL);
        }
    }

    in = threshold_input(1, 0, 0);
    in.min_workers = 0;
    expect(&in, DOWN, 0, 0, 0,
           "queue_length 0 < 2 and cpu_usage 0 < 20: "
           "scale down from 1 to 0 workers");

    in = threshold_input(2, 0, 0);
    in.min_workers = 1;
    expect(&in, DOWN, 1, 1, 0,
           "queue_length 0 < 2 and cpu_usage 0 < 20: "
           "scale down from 2 to 1 worker");

    in = threshold_input(0, 15, 0);
    in.min_workers = 0;
    expect(&in, UP, 1, 1, 0,
           "queue_length 15 > 10: scale up from 0 to 1 worker");
}


/* the factors as the database holds them, against integer arithmetic */
static void
test_rounding_sweep(void **state)
{
    int                           c, k, up, down;
    size_t                        i;
    ngx_autoscale_policy_input_t  in;
    ngx_autoscale_decision_t      d;

    static const int  ups[] = {
        100, 101, 105, 110, 115, 120, 125, 130, 150, 175, 199, 200, 250,
        333, 1000
    };
    static const int  downs[] = {
        0, 1, 10, 25, 29, 33, 50, 57, 66, 70, 75, 80, 90, 95, 99
    };

    (void) state;

    for (c = 0; c <= 1000; c++) {
        in = threshold_input(c, 15, 10);
        in.min_workers = 0;
        in.max_workers = 100000;

        up = c * 12 / 10 + 1;
        d = decide(&in);
        assert_int_equal(d.action, UP);
        assert_int_equal(d.to, up);
        assert_int_equal(d.proposal, up);

        in.queue_length = 0;
        in.cpu_usage = 0;
        down = c * 8 / 10;
        d = decide(&in);
        assert_int_equal(d.action, c == 0 ? HOLD : DOWN);
        assert_int_equal(d.to, down);
        assert_int_equal(d.proposal, down);

        for (i = 0; i < sizeof(ups) / sizeof(ups[0]); i++) {
            k = ups[i];
            in.queue_length = 15;
            in.scale_up_factor = k / 100.0;
            d = decide(&in);
            assert_int_equal(d.action, UP);
            assert_int_equal(d.proposal, c * k / 100 + 1);
            assert_int_equal(d.to, c * k / 100 + 1);
        }

        for (i = 0; i < sizeof(downs) / sizeof(downs[0]); i++) {
            k = downs[i];
            in.queue_length = 0;
            in.scale_down_factor = k / 100.0;
            d = decide(&in);
            assert_int_equal(d.proposal, c * k / 100);
            assert_int_equal(d.to, c == 0 ? 0 : c * k / 100);
        }
    }
}


static const decide_case_t  down_factor_one[] = {
    CASE(POLICY_SEED(8, 0, 0, .scale_down_factor = 1), HOLD, 8, 8,
         C_NO_TRIGGER,
         "queue_length 0 < 2 and cpu_usage 0 < 20, but scale_down_factor "
         "1 keeps 8 workers: hold"),
    CASE(POLICY_SEED(8, 0, 0, .scale_down_factor = 0), DOWN, 3, 0,
         C_CLAMP_MIN,
         "queue_length 0 < 2 and cpu_usage 0 < 20: scale down from 8 "
         "to 3 workers (0 raised to min_workers 3)")
};


static const decide_case_t  target_tolerance[] = {
    CASE(TARGET_CPU(10, 54), HOLD, 10, 10, C_TOLERANCE,
         "cpu_usage 54 within tolerance 0.1 of target_value 50: "
         "hold at 10 workers"),

    /* 55 / 50 - 1 is 0.10000000000000009 in binary: still the edge */
    CASE(TARGET_CPU(10, 55), HOLD, 10, 10, C_TOLERANCE, NULL),
    CASE(TARGET_CPU(10, 45), HOLD, 10, 10, C_TOLERANCE, NULL),
    CASE(TARGET_CPU(10, 55.001), UP, 12, 12, 0,
         "cpu_usage 55.001 vs target_value 50: "
         "scale up from 10 to 12 workers"),
    CASE(TARGET_CPU(10, 44.999), DOWN, 9, 9, 0,
         "cpu_usage 44.999 vs target_value 50: "
         "scale down from 10 to 9 workers"),

    /* 2.2 per worker against 2 */
    CASE(TARGET_QUEUE(10, 22, .target_value = 2), HOLD, 10, 10, C_TOLERANCE,
         "queue_per_worker 2.2 within tolerance 0.1 of target_value 2: "
         "hold at 10 workers"),
    CASE(TARGET_QUEUE(10, 22, .target_value = 2, .queue_length = 22.01), UP,
         12, 12, 0, NULL),

    /* no tolerance: only the exact value holds */
    CASE(TARGET_CPU(10, 50, .tolerance = 0), HOLD, 10, 10, C_TOLERANCE,
         NULL),
    CASE(TARGET_CPU(10, 50, .tolerance = 0, .cpu_usage = 51), UP, 11, 11, 0,
         NULL)
};


static const decide_case_t  target_metrics[] = {
    CASE(TARGET_CPU(10, 80), UP, 16, 16, 0,
         "cpu_usage 80 vs target_value 50: scale up from 10 to 16 workers"),

    /* the other columns are not this policy's */
    CASE(TARGET_CPU(10, 80, .queue_length = 1000, .load_percentage = NAN),
         UP, 16, 16, 0, NULL),
    CASE(TARGET_LOAD(10, 25, .cpu_usage = 100), DOWN, 5, 5, 0,
         "load_percentage 25 vs target_value 50: "
         "scale down from 10 to 5 workers"),

    /* 40 in the queue of 10 workers: 4 each, 2 wanted */
    CASE(TARGET_QUEUE(10, 40, .target_value = 2), UP, 20, 20, 0,
         "queue_per_worker 4 vs target_value 2: "
         "scale up from 10 to 20 workers"),
    CASE(TARGET_QUEUE(10, 40, .target_value = 2, .queue_length = 5), DOWN,
         3, 3, 0,
         "queue_per_worker 0.5 vs target_value 2: "
         "scale down from 10 to 3 workers"),

    /* 25 * 19.6 / 70 is 7.000000000000001 in binary */
    CASE(TARGET_LOAD(25, 19.6, .target_value = 70, .max_workers = 30), DOWN,
         7, 7, 0, NULL),

    /* near the target, a worker more would be too many */
    CASE(TARGET_CPU(1, 40, .target_value = 60), HOLD, 1, 1, C_NO_TRIGGER,
         "cpu_usage 40 vs target_value 60 asks for 1 worker: "
         "hold at 1 worker (no trigger)")
};


static const decide_case_t  target_bounds[] = {
    CASE(TARGET_CPU(15, 100), UP, 20, 30, C_CLAMP_MAX,
         "cpu_usage 100 vs target_value 50: scale up from 15 to 20 "
         "workers (30 capped at max_workers 20)"),
    CASE(TARGET_CPU(15, 100, .current_workers = 20), HOLD, 20, 40, C_AT_MAX,
         "cpu_usage 100 vs target_value 50, but already at max_workers "
         "20: hold at 20 workers"),
    CASE(TARGET_CPU(10, 0, .min_workers = 3), DOWN, 3, 0, C_CLAMP_MIN,
         "cpu_usage 0 vs target_value 50: scale down from 10 to 3 "
         "workers (0 raised to min_workers 3)"),
    CASE(TARGET_CPU(10, 0, .min_workers = 3, .current_workers = 3), HOLD, 3,
         0, C_AT_MIN,
         "cpu_usage 0 vs target_value 50, but already at min_workers 3: "
         "hold at 3 workers"),

    /* from zero, any load needs a worker */
    CASE(TARGET_CPU(0, 10, .min_workers = 0), UP, 1, 1, 0,
         "cpu_usage 10 vs target_value 50: scale up from 0 to 1 worker"),
    CASE(TARGET_QUEUE(0, 5, .min_workers = 0, .target_value = 2), UP, 3, 3,
         0, NULL),
    CASE(TARGET_CPU(0, 0, .min_workers = 0),
         HOLD, 0, 0, C_NO_TRIGGER, NULL),
    CASE(TARGET_CPU(1, 0, .min_workers = 0), DOWN, 0, 0, 0,
         "cpu_usage 0 vs target_value 50: scale down from 1 to 0 workers")
};


static const decide_case_t  target_cooldown[] = {
    CASE(TARGET_CPU(10, 80, .since_scaled = 100), HOLD, 10, 16, C_COOL_UP,
         "cpu_usage 80 vs target_value 50, but in cooldown: scaled 100 s "
         "ago, scale_up_cooldown is 300 s: hold at 10 workers"),
    CASE(TARGET_CPU(10, 80, .since_scaled = 300), UP, 16, 16, 0, NULL),
    CASE(TARGET_CPU(10, 25, .since_scaled = 299.5), HOLD, 10, 5,
         C_COOL_DOWN, NULL),
    CASE(TARGET_CPU(10, 25, .since_scaled = 300), DOWN, 5, 5, 0, NULL)
};


static void
test_target_stabilization(void **state)
{
    ngx_autoscale_policy_input_t   in;
    ngx_autoscale_policy_sample_t  h[4];

    (void) state;

    /* desired 5; 40 % of 10 workers 200 s ago recommended 8 */
    in = target_input(10, "cpu_usage", 25);
    h[0].value = 40;
    h[0].age = 200;
    h[0].workers = 10;
    h[1].value = 20;
    h[1].age = 100;
    h[1].workers = 10;
    in.history = h;
    in.nhistory = 2;
    expect(&in, DOWN, 8, 5, C_STABILIZED,
           "cpu_usage 25 vs target_value 50: scale down from 10 to 8 "
           "workers (the highest recommendation of the last 300 s; 5 now)");

    /* one at the edge of the window recommending 10: hold */
    h[2].value = 50;
    h[2].age = 300;
    h[2].workers = 10;
    in.nhistory = 3;
    expect(&in, HOLD, 10, 5, C_STABILIZED,
           "cpu_usage 25 vs target_value 50 asks for 5 workers, but the "
           "last 300 s (stabilization_window) asked for 10: "
           "hold at 10 workers");

    /* just outside: ignored */
    h[2].age = 300.001;
    expect(&in, DOWN, 8, 5, C_STABILIZED, NULL);

    /* what the window held, above the current size */
    h[2].value = 90;
    h[2].age = 10;
    h[2].workers = 12;
    expect(&in, HOLD, 10, 5, C_STABILIZED, NULL);

    /* broken rows tell nothing */
    h[0].value = NAN;
    h[1].value = -1;
    h[2].workers = -1;
    h[3].value = INFINITY;
    h[3].age = 1;
    h[3].workers = 10;
    in.nhistory = 4;
    expect(&in, DOWN, 5, 5, 0, NULL);

    h[3].value = 30;
    h[3].age = NAN;
    expect(&in, DOWN, 5, 5, 0, NULL);

    /* a lower recommendation does not push down further */
    h[3].value = 10;
    h[3].age = 0;
    expect(&in, DOWN, 5, 5, 0,
           "cpu_usage 25 vs target_value 50: "
           "scale down from 10 to 5 workers");

    /* the window only damps down, never up */
    in = target_input(10, "cpu_usage", 80);
    h[0].value = 100;
    h[0].age = 10;
    h[0].workers = 20;
    in.history = h;
    in.nhistory = 1;
    expect(&in, UP, 16, 16, 0, NULL);

    /* a window of 0 keeps only rows of this instant */
    in = target_input(10, "cpu_usage", 25);
    in.stabilization_window = 0;
    h[0].value = 40;
    h[0].age = 1;
    h[0].workers = 10;
    in.history = h;
    in.nhistory = 1;
    expect(&in, DOWN, 5, 5, 0, NULL);

    h[0].age = 0;
    expect(&in, DOWN, 8, 5, C_STABILIZED, NULL);

    /* queue per worker, from the sample's own workers */
    in = target_input(10, "queue_per_worker", 5);
    in.target_value = 2;
    h[0].value = 12;
    h[0].age = 60;
    h[0].workers = 4;
    in.history = h;
    in.nhistory = 1;
    expect(&in, DOWN, 6, 3, C_STABILIZED, NULL);

    /* stabilized to below min: the bound says it */
    in = target_input(10, "cpu_usage", 0);
    in.min_workers = 4;
    h[0].value = 10;
    h[0].age = 60;
    h[0].workers = 10;
    in.history = h;
    in.nhistory = 1;
    expect(&in, DOWN, 4, 0, C_STABILIZED | C_CLAMP_MIN, NULL);

    /* a NULL history with a count is no history */
    in.history = NULL;
    in.nhistory = 5;
    expect(&in, DOWN, 4, 0, C_CLAMP_MIN, NULL);
}


static const decide_case_t  invalid[] = {
    CASE(POLICY_SEED(6, NAN, 10), HOLD, 6, 6, C_INVALID,
         "invalid queue_length NaN: hold"),
    CASE(POLICY_SEED(6, 15, NAN), HOLD, 6, 6, C_INVALID,
         "invalid cpu_usage NaN: hold"),
    CASE(POLICY_SEED(6, -1, 10), HOLD, 6, 6, C_INVALID,
         "invalid queue_length -1: hold"),
    CASE(POLICY_SEED(6, 0, -0.5), HOLD, 6, 6, C_INVALID,
         "invalid cpu_usage -0.5: hold"),
    CASE(POLICY_SEED(6, INFINITY, 10), HOLD, 6, 6, C_INVALID,
         "invalid queue_length Infinity: hold"),
    CASE(POLICY_SEED(6, 15, 10, .min_workers = 5, .max_workers = 3), HOLD,
         6, 6, C_INVALID,
         "min_workers 5 above max_workers 3: hold"),
    CASE(POLICY_SEED(6, 15, 10, .min_workers = -1), HOLD, 6, 6, C_INVALID,
         "invalid min_workers -1: hold"),
    CASE(POLICY_SEED(-2, 15, 10), HOLD, -2, -2, C_INVALID,
         "invalid current_workers -2: hold"),
    CASE(POLICY_SEED(6, 15, 10, .metrics_age = NAN), HOLD, 6, 6, C_INVALID,
         "invalid metrics_age NaN: hold"),
    CASE(POLICY_SEED(6, 15, 10, .metrics_age = -5), HOLD, 6, 6, C_INVALID,
         "invalid metrics_age -5: hold"),
    CASE(POLICY_SEED(6, 15, 10, .max_age = 0), HOLD, 6, 6, C_INVALID,
         "invalid max_age 0: hold"),
    CASE(POLICY_SEED(6, 15, 10, .since_scaled = NAN), HOLD, 6, 6, C_INVALID,
         "invalid since_scaled NaN: hold"),
    CASE(POLICY_SEED(6, 15, 10, .scale_up_cooldown = -1), HOLD, 6, 6,
         C_INVALID,
         "invalid scale_up_cooldown -1: hold"),
    CASE(POLICY_SEED(6, 15, 10, .scale_down_cooldown = NAN), HOLD, 6, 6,
         C_INVALID, NULL),
    CASE(POLICY_SEED(6, 15, 10, .scale_up_queue = NAN), HOLD, 6, 6,
         C_INVALID,
         "invalid scale_up_queue NaN: hold"),
    CASE(POLICY_SEED(6, 15, 10, .scale_down_cpu = INFINITY), HOLD, 6, 6,
         C_INVALID, NULL),
    CASE(POLICY_SEED(6, 15, 10, .scale_up_factor = 0.9), HOLD, 6, 6,
         C_INVALID,
         "invalid scale_up_factor 0.9: hold"),
    CASE(POLICY_SEED(6, 15, 10, .scale_up_factor = INFINITY), HOLD, 6, 6,
         C_INVALID, NULL),
    CASE(POLICY_SEED(8, 0, 0, .scale_down_factor = 1.5), HOLD, 8, 8,
         C_INVALID,
         "invalid scale_down_factor 1.5: hold"),
    CASE(POLICY_SEED(8, 0, 0, .scale_down_factor = NAN), HOLD, 8, 8,
         C_INVALID, NULL),
    CASE(POLICY_SEED(6, 15, 10, .policy = "magic"), HOLD, 6, 6, C_INVALID,
         "unknown policy 'magic': hold"),

    /* NULL is the column's default */
    CASE(POLICY_SEED(6, 15, 10, .policy = NULL), UP, 8, 8, 0, NULL),

    /* invalid config is said before missing metrics */
    CASE(POLICY_SEED(6, 15, 10, .scale_up_factor = NAN, .has_metrics = 0),
         HOLD, 6, 6, C_INVALID, NULL),

    /* a huge factor or size does not overflow */
    CASE(POLICY_SEED(6, 15, 10, .scale_up_factor = 1e300,
             .max_workers = 2147483647), UP, 2147483647, 2147483647, 0,
         NULL),
    CASE(POLICY_SEED(2147483647, 15, 10, .max_workers = 2147483647), HOLD,
         2147483647, 2147483647, C_AT_MAX, NULL)
};


static const decide_case_t  target_invalid[] = {
    CASE(TARGET_CPU(10, NAN), HOLD, 10, 10, C_INVALID,
         "invalid cpu_usage NaN: hold"),
    CASE(TARGET_LOAD(10, -3), HOLD, 10, 10, C_INVALID,
         "invalid load_percentage -3: hold"),
    CASE(TARGET_QUEUE(10, NAN), HOLD, 10, 10, C_INVALID,
         "invalid queue_length NaN: hold"),
    CASE(TARGET_CPU(10, 80, .target_value = 0), HOLD, 10, 10, C_INVALID,
         "invalid target_value 0: hold"),
    CASE(TARGET_CPU(10, 80, .target_value = -50), HOLD, 10, 10, C_INVALID,
         "invalid target_value -50: hold"),
    CASE(TARGET_CPU(10, 80, .target_value = NAN), HOLD, 10, 10, C_INVALID,
         NULL),
    CASE(TARGET_CPU(10, 80, .target_value = INFINITY), HOLD, 10, 10,
         C_INVALID, NULL),
    CASE(TARGET_CPU(10, 80, .tolerance = NAN), HOLD, 10, 10, C_INVALID,
         "invalid tolerance NaN: hold"),
    CASE(TARGET_CPU(10, 80, .tolerance = -0.1), HOLD, 10, 10, C_INVALID,
         NULL),
    CASE(TARGET_CPU(10, 80, .stabilization_window = NAN), HOLD, 10, 10,
         C_INVALID,
         "invalid stabilization_window NaN: hold"),
    CASE(TARGET_CPU(10, 80, .target_metric = "memory_usage"), HOLD, 10, 10,
         C_INVALID,
         "unknown target_metric 'memory_usage': hold"),
    CASE(TARGET_CPU(10, 80, .target_metric = NULL), HOLD, 10, 10, C_INVALID,
         "unknown target_metric '(none)': hold"),

    /* the threshold columns are not target tracking's */
    CASE(TARGET_CPU(10, 80, .scale_up_factor = NAN, .scale_up_queue = NAN),
         UP, 16, 16, 0, NULL),

    /* a tiny target and a huge value do not overflow */
    CASE(TARGET_CPU(10, 1e300, .target_value = 1e-300), UP, 20, 2147483647,
         C_CLAMP_MAX, NULL)
};


static char *
json_text(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d)
{
    return print_and_free(ngx_autoscale_policy_json(in, d));
}


static void
expect_json(const ngx_autoscale_policy_input_t *in, const char *expected)
{
    char                      *s, got[4096];
    ngx_autoscale_decision_t   d;

    d = decide(in);

    /* freed before asserting, so a failure leaks nothing */
    s = json_text(in, &d);
    snprintf(got, sizeof(got), "%s", s);
    free(s);

    assert_string_equal(got, expected);
}


static void
test_json_up(void **state)
{
    ngx_autoscale_policy_input_t  in;

    (void) state;

    in = threshold_input(6, 15, 10);
    expect_json(&in,
        "{\"inputs\":{\"status\":\"active\",\"paused\":false,"
        "\"policy\":\"threshold\",\"min_workers\":3,\"max_workers\":20,"
        "\"current_workers\":6,\"target_workers\":6,"
        "\"scale_up_queue\":10,\"scale_up_cpu\":80,"
        "\"scale_down_queue\":2,\"scale_down_cpu\":20,"
        "\"scale_up_factor\":1.2,\"scale_down_factor\":0.8,"
        "\"scale_up_cooldown\":300,\"scale_down_cooldown\":300,"
        "\"since_scaled\":null,\"metrics_age\":10,\"max_age\":60,"
        "\"queue_length\":15,\"cpu_usage\":10,\"load_percentage\":40},"
        "\"proposal\":8,\"constraints\":[],"
        "\"result\":{\"action\":\"scale_up\",\"from\":6,\"to\":8},"
        "\"reason\":\"queue_length 15 > 10: scale up from 6 to 8 workers\"}");

    /* clamped: the proposal and the constraint are kept */
    in = threshold_input(18, 15, 10);
    in.since_scaled = 400.5;
    expect_json(&in,
        "{\"inputs\":{\"status\":\"active\",\"paused\":false,"
        "\"policy\":\"threshold\",\"min_workers\":3,\"max_workers\":20,"
        "\"current_workers\":18,\"target_workers\":18,"
        "\"scale_up_queue\":10,\"scale_up_cpu\":80,"
        "\"scale_down_queue\":2,\"scale_down_cpu\":20,"
        "\"scale_up_factor\":1.2,\"scale_down_factor\":0.8,"
        "\"scale_up_cooldown\":300,\"scale_down_cooldown\":300,"
        "\"since_scaled\":400.5,\"metrics_age\":10,\"max_age\":60,"
        "\"queue_length\":15,\"cpu_usage\":10,\"load_percentage\":40},"
        "\"proposal\":22,\"constraints\":[\"clamped_max\"],"
        "\"result\":{\"action\":\"scale_up\",\"from\":18,\"to\":20},"
        "\"reason\":\"queue_length 15 > 10: scale up from 18 to 20 workers "
        "(22 capped at max_workers 20)\"}");
}


static void
test_json_hold(void **state)
{
    ngx_autoscale_policy_input_t  in;

    (void) state;

    /* no row: its values are null, not zeros */
    in = threshold_input(8, 0, 0);
    in.has_metrics = 0;
    in.since_scaled = 120;
    expect_json(&in,
        "{\"inputs\":{\"status\":\"active\",\"paused\":false,"
        "\"policy\":\"threshold\",\"min_workers\":3,\"max_workers\":20,"
        "\"current_workers\":8,\"target_workers\":8,"
        "\"scale_up_queue\":10,\"scale_up_cpu\":80,"
        "\"scale_down_queue\":2,\"scale_down_cpu\":20,"
        "\"scale_up_factor\":1.2,\"scale_down_factor\":0.8,"
        "\"scale_up_cooldown\":300,\"scale_down_cooldown\":300,"
        "\"since_scaled\":120,\"metrics_age\":null,\"max_age\":60,"
        "\"queue_length\":null,\"cpu_usage\":null,"
        "\"load_percentage\":null},"
        "\"proposal\":8,\"constraints\":[\"no_metrics\"],"
        "\"result\":{\"action\":\"hold\",\"from\":8,\"to\":8},"
        "\"reason\":\"no metrics yet: hold\"}");

    in = threshold_input(8, 1, 10);
    in.since_scaled = 120;
    expect_json(&in,
        "{\"inputs\":{\"status\":\"active\",\"paused\":false,"
        "\"policy\":\"threshold\",\"min_workers\":3,\"max_workers\":20,"
        "\"current_workers\":8,\"target_workers\":8,"
        "\"scale_up_queue\":10,\"scale_up_cpu\":80,"
        "\"scale_down_queue\":2,\"scale_down_cpu\":20,"
        "\"scale_up_factor\":1.2,\"scale_down_factor\":0.8,"
        "\"scale_up_cooldown\":300,\"scale_down_cooldown\":300,"
        "\"since_scaled\":120,\"metrics_age\":10,\"max_age\":60,"
        "\"queue_length\":1,\"cpu_usage\":10,\"load_percentage\":40},"
        "\"proposal\":6,\"constraints\":[\"cooldown_down\"],"
        "\"result\":{\"action\":\"hold\",\"from\":8,\"to\":8},"
        "\"reason\":\"queue_length 1 < 2 and cpu_usage 10 < 20, but in "
        "cooldown: scaled 120 s ago, scale_down_cooldown is 300 s: "
        "hold at 8 workers\"}");

    /* NaN has no JSON form; an unknown policy shows no parameters */
    in = threshold_input(6, NAN, 10);
    in.policy = "magic";
    in.status = NULL;
    in.paused = 1;
    expect_json(&in,
        "{\"inputs\":{\"status\":null,\"paused\":true,"
        "\"policy\":\"magic\",\"min_workers\":3,\"max_workers\":20,"
        "\"current_workers\":6,\"target_workers\":6,"
        "\"scale_up_cooldown\":300,\"scale_down_cooldown\":300,"
        "\"since_scaled\":null,\"metrics_age\":10,\"max_age\":60,"
        "\"queue_length\":null,\"cpu_usage\":10,\"load_percentage\":40},"
        "\"proposal\":6,\"constraints\":[\"not_active\"],"
        "\"result\":{\"action\":\"hold\",\"from\":6,\"to\":6},"
        "\"reason\":\"status is unknown, not active: hold\"}");
}


static void
test_json_target(void **state)
{
    ngx_autoscale_policy_input_t   in;
    ngx_autoscale_policy_sample_t  h[3];

    (void) state;

    in = target_input(10, "queue_per_worker", 5);
    in.target_value = 2;
    h[0].value = 12;
    h[0].age = 60;
    h[0].workers = 4;
    h[1].value = 100;
    h[1].age = 301;
    h[1].workers = 10;
    h[2].value = 2;
    h[2].age = 30;
    h[2].workers = 10;
    in.history = h;
    in.nhistory = 3;

    expect_json(&in,
        "{\"inputs\":{\"status\":\"active\",\"paused\":false,"
        "\"policy\":\"target\",\"min_workers\":1,\"max_workers\":20,"
        "\"current_workers\":10,\"target_workers\":10,"
        "\"target_metric\":\"queue_per_worker\",\"target_value\":2,"
        "\"tolerance\":0.1,\"stabilization_window\":300,"
        "\"scale_up_cooldown\":300,\"scale_down_cooldown\":300,"
        "\"since_scaled\":null,\"metrics_age\":10,\"max_age\":60,"
        "\"queue_length\":5,\"cpu_usage\":0,\"load_percentage\":40,"
        "\"value\":0.5,\"window_samples\":2,\"window_recommendation\":6},"
        "\"proposal\":3,\"constraints\":[\"stabilized\"],"
        "\"result\":{\"action\":\"scale_down\",\"from\":10,\"to\":6},"
        "\"reason\":\"queue_per_worker 0.5 vs target_value 2: scale down "
        "from 10 to 6 workers (the highest recommendation of the last "
        "300 s; 3 now)\"}");
}


static void
test_json_target_hold(void **state)
{
    ngx_autoscale_policy_input_t  in;

    (void) state;

    in = target_input(10, "cpu_usage", 54);
    in.has_metrics = 0;

    expect_json(&in,
        "{\"inputs\":{\"status\":\"active\",\"paused\":false,"
        "\"policy\":\"target\",\"min_workers\":1,\"max_workers\":20,"
        "\"current_workers\":10,\"target_workers\":10,"
        "\"target_metric\":\"cpu_usage\",\"target_value\":50,"
        "\"tolerance\":0.1,\"stabilization_window\":300,"
        "\"scale_up_cooldown\":300,\"scale_down_cooldown\":300,"
        "\"since_scaled\":null,\"metrics_age\":null,\"max_age\":60,"
        "\"queue_length\":null,\"cpu_usage\":null,\"load_percentage\":null,"
        "\"value\":null,\"window_samples\":0,"
        "\"window_recommendation\":null},"
        "\"proposal\":10,\"constraints\":[\"no_metrics\"],"
        "\"result\":{\"action\":\"hold\",\"from\":10,\"to\":10},"
        "\"reason\":\"no metrics yet: hold\"}");
}


/* a decision put together by hand: every bit is named, in order */
static void
test_json_constraints(void **state)
{
    char                          *s;
    cJSON                         *doc, *arr;
    unsigned                       bit;
    ngx_autoscale_policy_input_t   in;
    ngx_autoscale_decision_t       d;

    (void) state;

    in = threshold_input(6, 15, 10);
    memset(&d, 0, sizeof(d));
    d.action = NGX_AUTOSCALE_BOUNDS;
    d.from = 6;
    d.to = 7;
    d.proposal = 9;
    d.constraints = 0;
    snprintf(d.reason, sizeof(d.reason), "quote \" and \\ kept");

    for (bit = 1; bit <= NGX_AUTOSCALE_C_LAST; bit <<= 1) {
        d.constraints |= bit;
    }

    doc = ngx_autoscale_policy_json(&in, &d);
    assert_non_null(doc);

    arr = cJSON_GetObjectItemCaseSensitive(doc, "constraints");
    s = cJSON_PrintUnformatted(arr);
    assert_non_null(s);
    assert_string_equal(s,
        "[\"not_active\",\"paused\",\"no_metrics\",\"stale_metrics\","
        "\"cooldown_up\",\"cooldown_down\",\"at_max\",\"at_min\","
        "\"within_tolerance\",\"stabilized\",\"clamped_max\","
        "\"clamped_min\",\"no_trigger\",\"invalid_input\"]");
    free(s);

    s = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(doc, "result"));
    assert_non_null(s);
    assert_string_equal(s, "{\"action\":\"bounds\",\"from\":6,\"to\":7}");
    free(s);

    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(doc, "reason")->valuestring,
        "quote \" and \\ kept");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(doc, "proposal")->valueint, 9);

    cJSON_Delete(doc);
}


/* every allocation failing in turn: NULL and no leak, then the document */
static void
test_json_oom(void **state)
{
    char                          *s, *full;
    size_t                         n;
    cJSON                         *doc;
    ngx_autoscale_policy_input_t   in;
    ngx_autoscale_policy_sample_t  h[1];
    ngx_autoscale_decision_t       d;

    (void) state;

    in = target_input(10, "cpu_usage", 25);
    h[0].value = 40;
    h[0].age = 1;
    h[0].workers = 10;
    in.history = h;
    in.nhistory = 1;
    d = decide(&in);
    full = json_text(&in, &d);

    for (n = 0; n < 500; n++) {
        set_alloc_limit(n);
        doc = ngx_autoscale_policy_json(&in, &d);
        reset_alloc();

        if (doc == NULL) {
            assert_true(alloc_failed > 0);
            continue;
        }

        s = cJSON_PrintUnformatted(doc);
        cJSON_Delete(doc);
        assert_non_null(s);
        assert_string_equal(s, full);
        free(s);
        assert_int_equal(alloc_failed, 0);
        break;
    }

    free(full);
    assert_true(n > 20 && n < 500);
}


static void
test_names(void **state)
{
    (void) state;

    assert_string_equal(
        ngx_autoscale_policy_action_name(NGX_AUTOSCALE_HOLD), "hold");
    assert_string_equal(
        ngx_autoscale_policy_action_name(NGX_AUTOSCALE_SCALE_UP), "scale_up");
    assert_string_equal(
        ngx_autoscale_policy_action_name(NGX_AUTOSCALE_SCALE_DOWN),
        "scale_down");
    assert_string_equal(
        ngx_autoscale_policy_action_name(NGX_AUTOSCALE_BOUNDS), "bounds");
    assert_string_equal(
        ngx_autoscale_policy_action_name((ngx_autoscale_action_e) 9),
        "unknown");

    assert_string_equal(ngx_autoscale_policy_constraint_name(C_NOT_ACTIVE),
                        "not_active");
    assert_string_equal(ngx_autoscale_policy_constraint_name(C_STALE),
                        "stale_metrics");
    assert_string_equal(ngx_autoscale_policy_constraint_name(C_INVALID),
                        "invalid_input");
    assert_null(ngx_autoscale_policy_constraint_name(0));
    assert_null(ngx_autoscale_policy_constraint_name(C_PAUSED | C_AT_MAX));
    assert_null(
        ngx_autoscale_policy_constraint_name(NGX_AUTOSCALE_C_LAST << 1));
}


/* the vocabulary: each list's words in the order of its enum */

static void
test_vocab(void **state)
{
    size_t  i;

    (void) state;

    assert_int_equal(ngx_autoscale_policy_vocab_policy(NULL),
                     NGX_AUTOSCALE_POLICY_THRESHOLD);
    assert_int_equal(ngx_autoscale_policy_vocab_policy("target"),
                     NGX_AUTOSCALE_POLICY_TARGET);
    assert_int_equal(ngx_autoscale_policy_vocab_policy("Target"),
                     NGX_AUTOSCALE_POLICY_UNKNOWN);
    assert_int_equal(ngx_autoscale_policy_vocab_policy(""),
                     NGX_AUTOSCALE_POLICY_UNKNOWN);

    assert_int_equal(ngx_autoscale_policy_vocab_metric(NULL),
                     NGX_AUTOSCALE_METRIC_UNKNOWN);
    assert_int_equal(ngx_autoscale_policy_vocab_metric("load_percentage"),
                     NGX_AUTOSCALE_METRIC_LOAD_PERCENTAGE);
    assert_int_equal(ngx_autoscale_policy_vocab_metric("queue"),
                     NGX_AUTOSCALE_METRIC_UNKNOWN);

    for (i = 0; ngx_autoscale_policy_vocab_policies[i]; i++) {
        assert_int_equal(ngx_autoscale_policy_vocab_policy(
                             ngx_autoscale_policy_vocab_policies[i]),
                         (int) i + 1);
    }
    assert_int_equal(i, NGX_AUTOSCALE_POLICY_DEMAND);

    for (i = 0; ngx_autoscale_policy_vocab_metrics[i]; i++) {
        assert_int_equal(ngx_autoscale_policy_vocab_metric(
                             ngx_autoscale_policy_vocab_metrics[i]),
                         (int) i + 1);
    }
    assert_int_equal(i, NGX_AUTOSCALE_METRIC_LOAD_PERCENTAGE);

    assert_string_equal(ngx_autoscale_policy_vocab_actuations[0],
                        "immediate");
    assert_string_equal(ngx_autoscale_policy_vocab_actuations[1],
                        "reported");
    assert_null(ngx_autoscale_policy_vocab_actuations[2]);
}


/* the key of a held decision: what it says, not when */

static uint64_t
key_of(const ngx_autoscale_policy_input_t *in, int dry_run)
{
    ngx_autoscale_decision_t  d;

    ngx_autoscale_policy_decide(in, &d);

    return ngx_autoscale_policy_key(in, &d, dry_run);
}


static void
test_key_same_decision(void **state)
{
    ngx_autoscale_policy_input_t  a, b;

    (void) state;

    /* queue 5, cpu 50: no trigger, held at 6 */
    a = threshold_input(6, 5, 50);
    b = a;
    assert_int_equal(key_of(&a, 0), key_of(&b, 0));

    /* ages pass on their own */
    b.metrics_age = 55;
    b.since_scaled = 4000;
    assert_int_equal(key_of(&a, 0), key_of(&b, 0));

    /* measured inputs within a bucket: 50 and 51 % (log1p 3.93, 3.95) */
    b.cpu_usage = 51;
    b.queue_length = 5.05;
    b.load_percentage = 40.5;
    assert_int_equal(key_of(&a, 0), key_of(&b, 0));

    /* no metrics: the measured numbers do not count at all */
    a.has_metrics = 0;
    b.has_metrics = 0;
    b.cpu_usage = NAN;
    assert_int_equal(key_of(&a, 0), key_of(&b, 0));
}


static void
test_key_other_decision(void **state)
{
    uint64_t                      k;
    ngx_autoscale_policy_input_t  a, b;

    (void) state;

    a = threshold_input(6, 5, 50);
    k = key_of(&a, 0);

    /* a measured input beyond the tolerance */
    b = a;
    b.cpu_usage = 60;
    assert_true(key_of(&b, 0) != k);

    /* a setting of the cluster, however small the change */
    b = a;
    b.scale_up_queue = 10.5;
    assert_true(key_of(&b, 0) != k);

    b = a;
    b.min_workers = 4;
    assert_true(key_of(&b, 0) != k);

    b = a;
    b.status = "scaling_up";
    assert_true(key_of(&b, 0) != k);

    b = a;
    b.paused = 1;
    assert_true(key_of(&b, 0) != k);

    /* another constraint: metrics become stale */
    b = a;
    b.metrics_age = 61;
    assert_true(key_of(&b, 0) != k);

    /* dry run is said in the decision */
    assert_true(key_of(&a, 1) != k);
}



/*
 * The demand policy for a cluster of 1..20 workers of capacity 1, at a
 * utilization of 50 %, checked every 4 s: the rows newest first, each
 * ROW(age, secs, started, finished, inflight, workers, queue, cpu).
 */
#define DEMAND(current, ...)                                                  \
    POLICY_SEED(current, 0, 0, .min_workers = 1, .policy = "demand",          \
                .target_value = 50, .worker_capacity = 1, .drain_time = 4,    \
                __VA_ARGS__)

#define ROW(age, secs, started, finished, inflight, workers, queue, cpu)      \
    { age, secs, started, finished, inflight, workers, queue, cpu, 0 }

#define ROW_LIVE(age, secs, started, finished, inflight, workers, queue, cpu,  \
                 live)                                                        \
    { age, secs, started, finished, inflight, workers, queue, cpu, live }

#define ROWS(...)                                                             \
    .rows = (const ngx_autoscale_policy_row_t[]) { __VA_ARGS__ },             \
    .nrows = sizeof((const ngx_autoscale_policy_row_t[]) { __VA_ARGS__ })     \
             / sizeof(ngx_autoscale_policy_row_t)

/* 20 req/s, 5 done/s, 12 in flight on 1 worker: S 0.2, Q 11, need 9.1 */
#define STEP  ROW(1, 2, 40, 10, 12, 1, 11, 100)


static const decide_case_t  demand_formula[] = {
    /* (20 x 0.2 + 11 x 0.2 / 4) / 0.5 = 9.1: at once, not a step at a time */
    CASE(DEMAND(1, ROWS(STEP)), UP, 10, 10, 0,
         "demand needs 10 workers (20 req/s x 0.2 s, backlog 11): "
         "scale up from 1 to 10 workers"),

    /* unsaturated: 10 req/s x 0.2 s = 2 busy of 8; 4 needed at 50 % */
    CASE(DEMAND(8, ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25))), DOWN, 4, 4, 0,
         NULL),

    /* the need is the cluster: hold */
    CASE(DEMAND(4, ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25))), HOLD, 4, 4,
         C_NO_TRIGGER, NULL),

    /* a worker that has not reported does not serve: 2 of 10 live, S 0.2 */
    CASE(DEMAND(12, ROWS({ 1, 2, 40, 20, 12, 10, 10, 100, 2 })), DOWN, 9,
         9, 0, NULL),

    /* tiny load still needs a worker */
    CASE(DEMAND(2, .min_workers = 0, ROWS(ROW(1, 2, 1, 1, 0.001, 2, 0, 0))),
         DOWN, 1, 1, 0, NULL),

    /* a capacity of 4 at 100 %: S 4 / 5, (20 x 0.8 + 8 x 0.8 / 4) / 4 */
    CASE(DEMAND(1, .worker_capacity = 4, .target_value = 100,
                ROWS(ROW(1, 2, 40, 10, 12, 1, 8, 100))),
         UP, 5, 5, 0, NULL),
};


static const decide_case_t  demand_edges[] = {
    /* no traffic, no report: nothing needed, down to min_workers */
    CASE(DEMAND(4, ROWS(ROW(1, 2, 0, 0, 0, 4, 0, 0))), DOWN, 1, 0,
         C_CLAMP_MIN, NULL),

    /* no traffic observed: the agents' cpu 50 % of 4 and queue 3 */
    CASE(DEMAND(4, ROWS(ROW(1, NAN, 0, 0, 0, 4, 3, 50))), UP, 10, 10, 0,
         "no observed traffic; the agents' cpu and queue 3 need 10 "
         "workers: scale up from 4 to 10 workers"),

    /* no rows at all: the latest metrics are the agents' */
    CASE(DEMAND(4, .queue_length = 3, .cpu_usage = 50), UP, 10, 10, 0,
         NULL),

    /* a worker count of 0, all in queue, no service time: 8 / 0.5 */
    CASE(DEMAND(0, .min_workers = 0, ROWS(ROW(1, 2, 10, 0, 8, 0, 8, 100))),
         UP, 16, 16, 0, NULL),

    /* the same with the service time of an earlier row, 2 / 5 per s */
    CASE(DEMAND(0, .min_workers = 0,
                ROWS(ROW(1, 2, 10, 0, 8, 0, 8, 100),
                     ROW(30, 2, 10, 10, 2, 2, 0, 100))),
         UP, 6, 6, 0, NULL),

    /* no completion in the window: the earlier S 0.4; 2 x 0.4 / 0.5 */
    CASE(DEMAND(2, ROWS(ROW(1, 2, 4, 0, 2, 2, 0, 100),
                        ROW(30, 2, 10, 10, 2, 2, 0, 100))),
         HOLD, 2, 2, C_NO_TRIGGER, NULL),

    /* and none known: what is in flight, at once */
    CASE(DEMAND(2, ROWS(ROW(1, 2, 4, 0, 2, 2, 0, 100))), UP, 4, 4, 0,
         NULL),

    /* beyond max: 200 req/s x 0.2 s needs 80 */
    CASE(DEMAND(5, ROWS(ROW(1, 2, 400, 50, 5, 5, 0, 100))), UP, 20, 80,
         C_CLAMP_MAX, NULL),

    CASE(DEMAND(20, ROWS(ROW(1, 2, 400, 50, 5, 5, 0, 100))), HOLD, 20, 80,
         C_AT_MAX, NULL),

    /* outside the bounds: back first */
    CASE(DEMAND(25, ROWS(STEP)), BOUNDS, 20, 20, C_CLAMP_MAX, NULL),

    /* settings and rows no database holds */
    CASE(DEMAND(1, .target_value = 150, ROWS(STEP)), HOLD, 1, 1, C_INVALID,
         NULL),
    CASE(DEMAND(1, .worker_capacity = 0, ROWS(STEP)), HOLD, 1, 1,
         C_INVALID, NULL),
    CASE(DEMAND(1, .drain_time = 0, ROWS(STEP)), HOLD, 1, 1, C_INVALID,
         NULL),
    CASE(DEMAND(1, ROWS(ROW(1, 2, 40, 10, NAN, 1, 0, 0))), HOLD, 1, 1,
         C_INVALID, "the latest metrics row has a value no row may have: "
         "hold"),
    CASE(DEMAND(1, ROWS(ROW(1, -2, 40, 10, 1, 1, 0, 0))), HOLD, 1, 1,
         C_INVALID, NULL),

    /* stale or missing metrics hold, above all a scale-down */
    CASE(DEMAND(8, .metrics_age = 100, ROWS(ROW(1, 2, 0, 0, 0, 8, 0, 0))),
         HOLD, 8, 8, C_STALE, NULL),
    CASE(DEMAND(8, .has_metrics = 0), HOLD, 8, 8, C_NO_METRICS, NULL),
};


static const decide_case_t  demand_cooldowns[] = {
    /* the arrivals alone need 8 > 1: the up cooldown does not hold */
    CASE(DEMAND(1, .since_scaled = 10, ROWS(STEP)), UP, 10, 10, 0,
         "demand needs 10 workers (20 req/s x 0.2 s, backlog 11); the "
         "arrivals alone need 8, so the up cooldown (scaled 10 s ago) does "
         "not hold: scale up from 1 to 10 workers"),

    /* only the backlog needs more than 8: it waits for the cooldown */
    CASE(DEMAND(8, .since_scaled = 10, ROWS(STEP)), HOLD, 8, 10, C_COOL_UP,
         NULL),

    /* out of the cooldown */
    CASE(DEMAND(8, .since_scaled = 300, ROWS(STEP)), UP, 10, 10, 0, NULL),

    /*
     * the change has shown: all 8 served in a window that began after it,
     * and 20 still wait: the backlog's need does not wait either
     */
    CASE(DEMAND(8, .since_scaled = 10,
                ROWS(ROW_LIVE(1, 2, 40, 80, 28, 8, 0, 100, 8))),
         UP, 10, 10, 0,
         "demand needs 10 workers (20 req/s x 0.2 s, backlog 20); all 8 "
         "workers served in the latest window, which began after the last "
         "change, so the up cooldown (scaled 10 s ago) does not hold: scale "
         "up from 8 to 10 workers"),

    /* one of the 8 did not report yet: the cooldown holds */
    CASE(DEMAND(8, .since_scaled = 10,
                ROWS(ROW_LIVE(1, 2, 40, 80, 28, 8, 0, 100, 7))),
         HOLD, 8, 9, C_COOL_UP, NULL),

    /* the window began before the change: the cooldown holds */
    CASE(DEMAND(8, .since_scaled = 10,
                ROWS(ROW_LIVE(9, 2, 40, 80, 28, 8, 0, 100, 8))),
         HOLD, 8, 10, C_COOL_UP, NULL),

    /* the down cooldown holds */
    CASE(DEMAND(8, .since_scaled = 10,
                ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25))),
         HOLD, 8, 4, C_COOL_DOWN, NULL),
};


static const decide_case_t  demand_window[] = {
    /* 100 s ago the arrivals needed 8 (and their backlog 2 more) */
    CASE(DEMAND(8, ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25),
                        ROW(100, 2, 40, 10, 12, 1, 11, 100))),
         HOLD, 8, 4, C_STABILIZED,
         "demand needs 4 workers (10 req/s x 0.2 s, backlog 0), but the "
         "arrivals of the last 300 s (stabilization_window) needed 8: hold "
         "at 8 workers"),

    /* 15 of 16: within the tolerance of 0.1, chance in the arrivals */
    CASE(DEMAND(16, ROWS(ROW(1, 2, 75, 75, 7.5, 16, 0, 25))), HOLD, 16, 15,
         C_TOLERANCE,
         "demand needs 15 workers (37.5 req/s x 0.2 s, backlog 0); 15 is "
         "within tolerance 0.1 of 16 workers: hold"),

    /* 14 of 16 is not */
    CASE(DEMAND(16, ROWS(ROW(1, 2, 70, 70, 7, 16, 0, 25))), DOWN, 14, 14,
         0, NULL),

    /* nor is 15 with no tolerance */
    CASE(DEMAND(16, .tolerance = 0, ROWS(ROW(1, 2, 75, 75, 7.5, 16, 0, 25))),
         DOWN, 15, 15, 0, NULL),

    /* a drained backlog holds no worker: from 10 down to the arrivals' 8 */
    CASE(DEMAND(10, ROWS(ROW(1, 2, 20, 20, 2, 10, 0, 25),
                         ROW(100, 2, 40, 10, 12, 1, 11, 100))),
         DOWN, 8, 4, C_STABILIZED, NULL),

    /* a backlog that is still there counts: the latest row's whole need */
    CASE(DEMAND(12, ROWS(ROW(1, 2, 40, 10, 12, 1, 11, 100),
                         ROW(100, 2, 20, 20, 2, 10, 0, 25))),
         DOWN, 10, 10, 0, NULL),

    /* 6 were: down to 6 */
    CASE(DEMAND(8, ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25),
                        ROW(100, 2, 30, 30, 3, 8, 0, 25))),
         DOWN, 6, 4, C_STABILIZED, NULL),

    /* a row older than the window tells nothing */
    CASE(DEMAND(8, ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25),
                        ROW(400, 2, 40, 10, 12, 1, 11, 100))),
         DOWN, 4, 4, 0, NULL),

    /* a broken row neither holds nor releases */
    CASE(DEMAND(8, ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25),
                        ROW(100, 2, 40, 10, NAN, 1, 11, 100))),
         DOWN, 4, 4, 0, NULL),

    /* the older row's own S: it had no completion, the one before did */
    CASE(DEMAND(8, ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25),
                        ROW(50, 2, 60, 0, 1, 1, 0, 100),
                        ROW(100, 2, 10, 10, 1, 1, 0, 100))),
         HOLD, 8, 4, C_STABILIZED, NULL),
};


static void
test_demand_estimate(void **state)
{
    ngx_autoscale_policy_input_t        in = DEMAND(1, ROWS(STEP));
    ngx_autoscale_policy_demand_seen_t  seen;

    (void) state;

    ngx_autoscale_policy_demand_seen(&in, &seen);

    assert_true(seen.has_now);
    assert_true(seen.now.observed);
    assert_int_equal(seen.now.service_from, NGX_AUTOSCALE_SERVICE_WINDOW);
    assert_true(fabs(seen.now.arrivals - 20) < 1e-9);
    assert_true(fabs(seen.now.completions - 5) < 1e-9);
    assert_true(fabs(seen.now.busy - 1) < 1e-9);
    assert_true(fabs(seen.now.backlog - 11) < 1e-9);
    assert_true(fabs(seen.now.service - 0.2) < 1e-9);
    assert_true(fabs(seen.now.raw - 9.1) < 1e-9);
    assert_int_equal(seen.now.need, 10);
    assert_int_equal(seen.now.arrival_need, 8);
    assert_int_equal(seen.nsamples, 1);
    assert_int_equal(seen.highest, 10);
}


static void
test_demand_rows(void **state)
{
    size_t                       n;
    ngx_autoscale_policy_row_t  *r;

    (void) state;

    assert_int_equal(ngx_autoscale_policy_demand_rows(
                         "1.5 2 40 10 12.5 1 11 100 3,"
                         "20 NaN 0 0 0 NaN 0 0 0", &r, &n), 0);
    assert_int_equal(n, 2);
    assert_true(r[0].age == 1.5 && r[0].secs == 2 && r[0].started == 40
                && r[0].finished == 10 && r[0].inflight == 12.5
                && r[0].workers == 1 && r[0].queue == 11 && r[0].cpu == 100
                && r[0].live == 3);
    assert_true(isnan(r[1].secs) && isnan(r[1].workers) && r[1].age == 20);
    free(r);

    /* short or garbled: the missing fields are NaN, a broken row */
    assert_int_equal(ngx_autoscale_policy_demand_rows("1 2 x", &r, &n), 0);
    assert_int_equal(n, 1);
    assert_true(r[0].secs == 2 && isnan(r[0].started) && isnan(r[0].live));
    free(r);

    assert_int_equal(ngx_autoscale_policy_demand_rows("", &r, &n), 0);
    assert_int_equal(n, 0);
    assert_null(r);
}


static void
test_json_demand(void **state)
{
    char                          *s;
    ngx_autoscale_decision_t       d;
    ngx_autoscale_policy_input_t   in = DEMAND(8, .since_scaled = 400,
                                      ROWS(ROW(1, 2, 20, 20, 2, 8, 0, 25),
                                           ROW(100, 2, 30, 30, 3, 8, 0, 25)));

    (void) state;

    d = decide(&in);
    s = json_text(&in, &d);

    assert_non_null(strstr(s,
        "\"policy\":\"demand\",\"min_workers\":1,\"max_workers\":20,"
        "\"current_workers\":8,\"target_workers\":8,\"target_value\":50,"
        "\"worker_capacity\":1,\"stabilization_window\":300,"));
    assert_non_null(strstr(s,
        "\"proposal\":4,\"estimate\":{\"source\":\"observed\","
        "\"arrivals\":10,\"completions\":10,\"workers\":8,\"busy\":2,"
        "\"backlog\":0,\"service_time\":0.2,\"service_time_from\":\"window\","
        "\"drain_time\":4,\"utilization\":0.5,\"need\":4,"
        "\"arrival_need\":4,\"window_rows\":2,\"window_need\":6,"
        "\"up_cooldown_passed\":false},"));
    assert_non_null(strstr(s, "\"result\":{\"action\":\"scale_down\","
                              "\"from\":8,\"to\":6}"));
    free(s);

    /* the agents' reports: no service time */
    in = (ngx_autoscale_policy_input_t) DEMAND(4, .queue_length = 3,
                                               .cpu_usage = 50);
    d = decide(&in);
    s = json_text(&in, &d);
    assert_non_null(strstr(s, "\"estimate\":{\"source\":\"agents\","
                              "\"arrivals\":0,\"completions\":0,"
                              "\"workers\":4,\"busy\":2,\"backlog\":3,"
                              "\"service_time\":null,"
                              "\"service_time_from\":null,"));
    free(s);
}


static void
test_key_demand(void **state)
{
    ngx_autoscale_policy_input_t  a = DEMAND(20,
                                       ROWS(ROW(1, 2, 200, 50, 5, 5, 0, 100)));
    ngx_autoscale_policy_input_t  b = DEMAND(20,
                                       ROWS(ROW(1, 2, 400, 50, 5, 5, 0, 100)));

    (void) state;

    /* both held at max, with the same queue and cpu: the need differs */
    assert_int_equal(decide(&a).action, HOLD);
    assert_int_equal(decide(&b).action, HOLD);
    a.queue_length = b.queue_length;
    assert_true(key_of(&a, 0) != key_of(&b, 0));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        DECIDE_TABLE(seed_up_queue),
        DECIDE_TABLE(seed_up_cpu),
        DECIDE_TABLE(seed_hold),
        DECIDE_TABLE(seed_down),
        DECIDE_TABLE(at_max),
        DECIDE_TABLE(at_min),
        DECIDE_TABLE(bounds),
        DECIDE_TABLE(cooldown_up),
        DECIDE_TABLE(cooldown_down),
        DECIDE_TABLE(never_scaled),
        DECIDE_TABLE(paused),
        cmocka_unit_test(test_not_active),
        DECIDE_TABLE(no_metrics),
        DECIDE_TABLE(stale_metrics),
        cmocka_unit_test(test_rounding_small),
        cmocka_unit_test(test_rounding_sweep),
        DECIDE_TABLE(down_factor_one),
        DECIDE_TABLE(target_tolerance),
        DECIDE_TABLE(target_metrics),
        DECIDE_TABLE(target_bounds),
        DECIDE_TABLE(target_cooldown),
        cmocka_unit_test(test_target_stabilization),
        DECIDE_TABLE(invalid),
        DECIDE_TABLE(target_invalid),
        cmocka_unit_test(test_json_up),
        cmocka_unit_test(test_json_hold),
        cmocka_unit_test(test_json_target),
        cmocka_unit_test(test_json_target_hold),
        cmocka_unit_test(test_json_constraints),
        cmocka_unit_test(test_json_oom),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_vocab),
        cmocka_unit_test(test_key_same_decision),
        cmocka_unit_test(test_key_other_decision),
        DECIDE_TABLE(demand_formula),
        DECIDE_TABLE(demand_edges),
        DECIDE_TABLE(demand_cooldowns),
        DECIDE_TABLE(demand_window),
        cmocka_unit_test(test_demand_estimate),
        cmocka_unit_test(test_demand_rows),
        cmocka_unit_test(test_json_demand),
        cmocka_unit_test(test_key_demand),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
