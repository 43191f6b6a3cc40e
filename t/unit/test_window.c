/*
 * Unit tests of src/ngx_autoscale_window.c: one collect window of observed
 * traffic, its time-averaged in-flight requests, and the latency buckets.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ngx_autoscale_window.h"
#include "unit.h"


/* the window most cases use: 1 s, so the average is the area / 1000 */
#define T0  10000
#define T1  11000


/* one request as the module sees it: times in ms of the monotonic clock */
typedef struct {
    uint64_t    start;
    uint64_t    finish;
    int         done;
    int         error;
} req_t;


/*
 * The counters as of the clock reading "at", with what came before them in
 * "base" (its at is not used) and every time moved by "shift": built the
 * way the module builds them, so that a case only lists its requests.
 */
static void
observe(ngx_autoscale_mark_t *m, const ngx_autoscale_mark_t *base,
    const req_t *reqs, size_t n, uint64_t shift, uint64_t at)
{
    size_t  i;

    *m = *base;
    m->at = at + shift;

    for (i = 0; i < n; i++) {
        if (reqs[i].start > at) {
            continue;
        }

        m->started++;
        m->start_ms += reqs[i].start + shift;

        if (!reqs[i].done || reqs[i].finish > at) {
            continue;
        }

        m->finished++;
        m->finish_ms += reqs[i].finish + shift;
        m->latency_ms += reqs[i].finish - reqs[i].start;
        m->errors_5xx += reqs[i].error ? 1 : 0;
    }
}


static int
window(const ngx_autoscale_mark_t *from, const ngx_autoscale_mark_t *to,
    ngx_autoscale_window_t *w)
{
    /* garbage first: every field must be written */
    memset(w, 0x5a, sizeof(*w));

    return ngx_autoscale_window(from, to, w);
}


/* the values are sums and quotients of small integers: no tolerance */
static void
assert_exact(const char *name, double got, double want)
{
    if (got != want) {
        print_error("case %s: got %.17g, want %.17g\n", name, got, want);
    }

    assert_true(got == want);
}


static void
assert_window(const char *name, const ngx_autoscale_window_t *w,
    double seconds, uint64_t started, uint64_t finished, double avg,
    uint64_t end)
{
    assert_exact(name, w->seconds, seconds);
    assert_case_int(name, w->started, started);
    assert_case_int(name, w->finished, finished);
    assert_exact(name, w->inflight_avg, avg);
    assert_case_int(name, w->inflight_end, end);
}


/* what a case of windows[] checks besides the result */
#define W_WINDOW   1               /* seconds, counts and in flight */
#define W_LATENCY  2
#define W_ERRORS   4
#define W_ALL      (W_WINDOW | W_LATENCY | W_ERRORS)


/*
 * Two readings of the counters, as { at, started, finished, start_ms,
 * finish_ms, latency_ms, errors_5xx }, and the window between them
 */
typedef struct {
    const char            *name;
    ngx_autoscale_mark_t   from;
    ngx_autoscale_mark_t   to;
    int                    rc;
    unsigned               check;
    double                 seconds;
    uint64_t               started;
    uint64_t               finished;
    double                 avg;
    uint64_t               end;
    uint64_t               latency_ms;
    uint64_t               errors_5xx;
} window_case_t;


static const window_case_t  windows[] = {

    { "no traffic",
      { T0, 0, 0, 0, 0, 0, 0 }, { T1, 0, 0, 0, 0, 0, 0 },
      1, W_ALL, 1, 0, 0, 0, 0, 0, 0 },

    { "traffic before the window, none in it",
      { T0, 7, 7, 50000, 52000, 2000, 3 },
      { T1, 7, 7, 50000, 52000, 2000, 3 },
      1, W_ALL, 1, 0, 0, 0, 0, 0, 0 },

    /* whatever the counters say, no time is no window */
    { "no time",
      { T0, 1, 0, 9000, 0, 0, 0 }, { T0, 4, 2, 9000 + 3 * T0, 2 * T0, 10, 1 },
      0, W_ALL, 0, 0, 0, 0, 0, 0, 0 },

    { "the end before the start",
      { T0, 1, 0, 9000, 0, 0, 0 },
      { T0 - 1, 4, 2, 9000 + 3 * T0, 2 * T0, 10, 1 },
      0, W_ALL, 0, 0, 0, 0, 0, 0, 0 },

    /* 2^63 ms apart or more: the readings are taken as out of order */
    { "2^63 ms apart",
      { T0, 1, 0, 9000, 0, 0, 0 },
      { T0 + ((uint64_t) 1 << 63), 4, 2, 9000 + 3 * T0, 2 * T0, 10, 1 },
      0, W_ALL, 0, 0, 0, 0, 0, 0, 0 },

    { "5 to UINT64_MAX",
      { 5, 1, 0, 9000, 0, 0, 0 },
      { UINT64_MAX, 4, 2, 9000 + 3 * T0, 2 * T0, 10, 1 },
      0, W_ALL, 0, 0, 0, 0, 0, 0, 0 },

    { "the shortest window there is",
      { T0, 1, 0, 9000, 0, 0, 0 }, { T0 + 1, 1, 0, 9000, 0, 0, 0 },
      1, W_WINDOW, 0.001, 0, 0, 1, 1, 0, 0 },

    /* 10200 to 10700: 500 ms of one request in 1000 */
    { "one inside",
      { T0, 3, 3, 20000, 21000, 0, 0 },
      { T1, 4, 4, 20000 + 10200, 21000 + 10700, 500, 0 },
      1, W_ALL, 1, 1, 1, 0.5, 0, 500, 0 },

    { "one inside a 4 s window",
      { 9000, 3, 3, 20000, 21000, 0, 0 },
      { 13000, 4, 4, 20000 + 10200, 21000 + 10700, 500, 0 },
      1, W_WINDOW, 4, 1, 1, 0.125, 0, 0, 0 },

    /* started at 9000, still running at the end: in flight throughout */
    { "across",
      { T0, 1, 0, 9000, 0, 0, 0 }, { T1, 1, 0, 9000, 0, 0, 0 },
      1, W_WINDOW | W_LATENCY, 1, 0, 0, 1, 1, 0, 0 },

    /* the history before it does not count, only what is in flight */
    { "across, with history",
      { T0, 101, 100, 123456, 654321, 0, 0 },
      { T1, 101, 100, 123456, 654321, 0, 0 },
      1, W_WINDOW, 1, 0, 0, 1, 1, 0, 0 },

    /* started at 9500, finished at 10250: 250 ms of the window */
    { "finished inside",
      { T0, 1, 0, 9500, 0, 0, 0 }, { T1, 1, 1, 9500, 10250, 750, 0 },
      1, W_WINDOW | W_LATENCY, 1, 0, 1, 0.25, 0, 750, 0 },

    /* started at 10500, running at the end: 500 ms */
    { "started inside",
      { T0, 0, 0, 0, 0, 0, 0 }, { T1, 1, 0, 10500, 0, 0, 0 },
      1, W_WINDOW | W_LATENCY, 1, 1, 0, 0.5, 1, 0, 0 },

    { "finished and started inside",
      { T0, 1, 0, 9500, 0, 0, 0 }, { T1, 2, 1, 9500 + 10500, 10250, 0, 0 },
      1, W_WINDOW, 1, 1, 1, 0.75, 1, 0, 0 },

    /* nothing yet */
    { "started at the window's end",
      { T0, 0, 0, 0, 0, 0, 0 }, { T1, 1, 0, T1, 0, 0, 0 },
      1, W_WINDOW, 1, 1, 0, 0, 1, 0, 0 },

    /* in flight throughout */
    { "started at the window's start",
      { T0, 0, 0, 0, 0, 0, 0 }, { T1, 1, 0, T0, 0, 0, 0 },
      1, W_WINDOW, 1, 1, 0, 1, 1, 0, 0 },

    { "in flight, counts one short of wrapping",
      { T0, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 5, 17, 0, 0 },
      { T1, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 5, 17, 0, 0 },
      1, W_WINDOW, 1, 0, 0, 1, 1, 0, 0 },

    /* started at 10500 with start_ms at UINT64_MAX - 9999: 500 ms */
    { "start_ms wraps",
      { T0, UINT64_MAX, UINT64_MAX, UINT64_MAX - 9999, 3, 0, 0 },
      { T1, 0, UINT64_MAX, 500, 3, 0, 0 },
      1, W_WINDOW, 1, 1, 0, 0.5, 1, 0, 0 },

    /* workers' clocks a few ms apart: never below nothing */
    { "a start stamped 3 ms after the reading that counted it",
      { T0, 0, 0, 0, 0, 0, 0 }, { T1, 1, 0, T1 + 3, 0, 0, 0 },
      1, W_WINDOW, 1, 1, 0, 0, 1, 0, 0 },

    /* -10 ms, and -1 in flight */
    { "a finish counted before its start",
      { T0, 5, 5, 40000, 45000, 0, 0 },
      { T1, 5, 6, 40000, 45000 + 10990, 0, 0 },
      1, W_WINDOW, 1, 0, 1, 0, 0, 0, 0 },

    { "a finish before its start, near 2^64",
      { T0, UINT64_MAX - 1, UINT64_MAX - 1, 0, 0, 0, 0 },
      { T1, UINT64_MAX - 1, UINT64_MAX, 0, 10990, 0, 0 },
      1, W_WINDOW, 1, 0, 1, 0, 0, 0, 0 },

    /* 2 + (3 - 2) at the end; the area: 2000 + 11000 - 30000 + 20000 */
    { "deltas",
      { T0, 10, 8, 0, 0, 1000, 4 }, { T1, 13, 10, 3 * T0, 2 * T0, 1750, 6 },
      1, W_ALL, 1, 3, 2, 3, 3, 750, 2 },

    { "deltas across 2^64",
      { T0, 10, 8, 0, 0, UINT64_MAX - 99, UINT64_MAX - 1 },
      { T1, 13, 10, 3 * T0, 2 * T0, 400, 3 },
      1, W_LATENCY | W_ERRORS, 0, 0, 0, 0, 0, 500, 5 },

    /* inflight_end is of the end only, not of the window */
    { "in flight at the end",
      { T0, 0, 0, 0, 0, 0, 0 },
      { T1, 1000, 958, 1000 * (uint64_t) T0, 958 * (uint64_t) T1, 0, 0 },
      1, W_WINDOW, 1, 1000, 958, 1000, 42, 0, 0 }
};


/*
 * Seven requests around the window 10000..11000, errors on C and G.  The
 * curve: 2 until 10100, 3 until 10200, 4 until 10300, 3 until 10400, 4
 * until 10600 (F takes no time), 3 until 10850, 4 until 10900, 3 until the
 * end: 200 + 300 + 400 + 300 + 800 + 750 + 200 + 300 = 3250.
 */
static const req_t  overlap[] = {
    { 9000, 0, 0, 0 },                      /* A: 1000 ms */
    { 9800, 10300, 1, 0 },                  /* B: 300 */
    { 10100, 10600, 1, 1 },                 /* C: 500 */
    { 10200, 0, 0, 0 },                     /* D: 800 */
    { 10400, 10900, 1, 0 },                 /* E: 500 */
    { 10500, 10500, 1, 0 },                 /* F: 0 */
    { 10850, 11000, 1, 1 }                  /* G: 150 */
};

#define NOVERLAP  (sizeof(overlap) / sizeof(overlap[0]))


/* the overlap from base, with every time moved by shift */
static void
assert_overlap(const ngx_autoscale_mark_t *base, uint64_t shift)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    observe(&from, base, overlap, NOVERLAP, shift, T0);
    observe(&to, base, overlap, NOVERLAP, shift, T1);

    assert_int_equal(window(&from, &to, &w), 1);

    /* C, D, E, F, G started; B, C, E, F, G finished; A and D remain */
    assert_window("overlap", &w, 1, 5, 5, 3.25, 2);
    assert_int_equal(w.errors_5xx, 2);
    assert_int_equal(w.latency_ms, 500 + 500 + 500 + 0 + 150);

    /*
     * 10000..10400: 200 + 300 + 400 + 300 = 1200 in 400 ms; C, D and E
     * (at the very end) started, B finished, A, C, D and E remain
     */
    observe(&to, base, overlap, NOVERLAP, shift, 10400);

    assert_int_equal(window(&from, &to, &w), 1);
    assert_window("overlap to 10400", &w, 0.4, 3, 1, 3, 4);
    assert_int_equal(w.errors_5xx, 0);
    assert_int_equal(w.latency_ms, 500);

    /* 10400..11000: 3250 - 1200 = 2050 in 600 ms */
    from = to;
    observe(&to, base, overlap, NOVERLAP, shift, T1);

    assert_int_equal(window(&from, &to, &w), 1);
    assert_window("overlap from 10400", &w, 0.6, 2, 4, 2050.0 / 600,
                  2);
    assert_int_equal(w.errors_5xx, 2);
    assert_int_equal(w.latency_ms, 500 + 500 + 0 + 150);
}


static void
test_windows(void **state)
{
    size_t                  i;
    ngx_autoscale_window_t  w;
    const window_case_t    *c;

    (void) state;

    for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
        c = &windows[i];

        assert_case_int(c->name, window(&c->from, &c->to, &w), c->rc);

        if (c->check & W_WINDOW) {
            assert_window(c->name, &w, c->seconds, c->started, c->finished,
                          c->avg, c->end);
        }

        if (c->check & W_LATENCY) {
            assert_case_int(c->name, w.latency_ms, c->latency_ms);
        }

        if (c->check & W_ERRORS) {
            assert_case_int(c->name, w.errors_5xx, c->errors_5xx);
        }
    }
}


static void
test_overlap(void **state)
{
    /* with history before, all of it over: the same */
    static const ngx_autoscale_mark_t  none = { 0, 0, 0, 0, 0, 0, 0 };
    static const ngx_autoscale_mark_t  history = {
        0, 1000, 1000, 5000000, 4900000, 77777, 12
    };

    (void) state;

    assert_overlap(&none, 0);
    assert_overlap(&history, 0);
}


/* every counter crosses 2^64 inside the window */
static void
test_wrap_counters(void **state)
{
    ngx_autoscale_mark_t  from, to;

    /* 2 started by 10000, 7 by 11000; 0 then 5 finished */
    static const ngx_autoscale_mark_t  base = {
        0, UINT64_MAX - 2, UINT64_MAX - 2, UINT64_MAX - 20000,
        UINT64_MAX - 10000, UINT64_MAX - 1000, UINT64_MAX - 1
    };

    (void) state;

    observe(&from, &base, overlap, NOVERLAP, 0, T0);
    observe(&to, &base, overlap, NOVERLAP, 0, T1);

    /* the case is what it says */
    assert_int_equal(from.started, UINT64_MAX);
    assert_int_equal(to.started, 4);
    assert_int_equal(from.finished, UINT64_MAX - 2);
    assert_int_equal(to.finished, 2);
    assert_true(to.start_ms < from.start_ms);
    assert_true(to.finish_ms < from.finish_ms);
    assert_true(to.latency_ms < from.latency_ms);
    assert_true(to.errors_5xx < from.errors_5xx);

    assert_overlap(&base, 0);
}


/* the clock itself wrapping: not expected of a ms clock, but it holds */
static void
test_wrap_clock(void **state)
{
    static const ngx_autoscale_mark_t  none = { 0, 0, 0, 0, 0, 0, 0 };
    static const ngx_autoscale_mark_t  wrapping = {
        0, UINT64_MAX - 2, UINT64_MAX - 2, UINT64_MAX - 20000,
        UINT64_MAX - 10000, 0, 0
    };

    (void) state;

    /* 10000 is 2^64 - 500, 10500 is 0, 11000 is 500 */
    assert_overlap(&none, UINT64_MAX - 10499);
    assert_overlap(&wrapping, UINT64_MAX - 10499);
}


/* workers' clocks a few ms apart: never below nothing */


static void
test_bucket(void **state)
{
    size_t  i;

    /* every bound in its bucket, one more in the next */
    static const struct {
        uint64_t    ms;
        size_t      bucket;
    } cases[] = {
        { 0, 0 }, { 1, 0 }, { 5, 0 }, { 6, 1 }, { 10, 1 }, { 11, 2 },
        { 25, 2 }, { 26, 3 }, { 50, 3 }, { 51, 4 }, { 100, 4 }, { 101, 5 },
        { 250, 5 }, { 251, 6 }, { 500, 6 }, { 501, 7 }, { 1000, 7 },
        { 1001, 8 }, { 2500, 8 }, { 2501, 9 }, { 5000, 9 }, { 5001, 10 },
        { 10000, 10 }, { 10001, 11 }, { 86400000, 11 }, { UINT64_MAX, 11 }
    };

    (void) state;

    assert_int_equal(NGX_AUTOSCALE_BUCKETS, 12);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (ngx_autoscale_window_bucket(cases[i].ms) != cases[i].bucket) {
            print_error("%llu ms\n", (unsigned long long) cases[i].ms);
        }

        assert_int_equal(ngx_autoscale_window_bucket(cases[i].ms),
                         cases[i].bucket);
    }

    /* the bounds as exported, for the histogram's "le" labels */
    assert_int_equal(ngx_autoscale_window_bucket_ms[0], 5);
    assert_int_equal(ngx_autoscale_window_bucket_ms[4], 100);
    assert_int_equal(ngx_autoscale_window_bucket_ms[7], 1000);
    assert_int_equal(ngx_autoscale_window_bucket_ms[NGX_AUTOSCALE_BUCKETS - 2],
                     10000);
}


static void
test_tasks_step(void **state)
{
    const int64_t  big = 9000000000000000LL;

    (void) state;

    /* a rise, none, and a restart counting from zero again */
    assert_int_equal(ngx_autoscale_window_tasks_step(100, 130), 30);
    assert_int_equal(ngx_autoscale_window_tasks_step(100, 100), 0);
    assert_int_equal(ngx_autoscale_window_tasks_step(100, 7), 7);
    assert_int_equal(ngx_autoscale_window_tasks_step(0, 0), 0);

    /* a total not sent, then or now: nothing */
    assert_int_equal(ngx_autoscale_window_tasks_step(-1, 50), 0);
    assert_int_equal(ngx_autoscale_window_tasks_step(50, -1), 0);
    assert_int_equal(ngx_autoscale_window_tasks_step(-1, -1), 0);

    /* at most the bound, whichever way the total jumps */
    assert_int_equal(ngx_autoscale_window_tasks_step(0,
                         NGX_AUTOSCALE_TASKS_STEP_MAX),
                     NGX_AUTOSCALE_TASKS_STEP_MAX);
    assert_int_equal(ngx_autoscale_window_tasks_step(0,
                         NGX_AUTOSCALE_TASKS_STEP_MAX + 1),
                     NGX_AUTOSCALE_TASKS_STEP_MAX);
    assert_int_equal(ngx_autoscale_window_tasks_step(0, big),
                     NGX_AUTOSCALE_TASKS_STEP_MAX);
    assert_int_equal(ngx_autoscale_window_tasks_step(big, big - 1),
                     NGX_AUTOSCALE_TASKS_STEP_MAX);
    assert_int_equal(ngx_autoscale_window_tasks_step(0, INT64_MAX),
                     NGX_AUTOSCALE_TASKS_STEP_MAX);
    assert_int_equal(ngx_autoscale_window_tasks_step(INT64_MAX, 0), 0);
}


static void
test_tasks_add(void **state)
{
    size_t    i;
    uint64_t  sum;

    const uint64_t  max = INT64_MAX;

    (void) state;

    assert_int_equal(ngx_autoscale_window_tasks_add(0, 0), 0);
    assert_int_equal(ngx_autoscale_window_tasks_add(2, 3), 5);
    assert_int_equal(ngx_autoscale_window_tasks_add(max - 1, 1), max);
    assert_int_equal(ngx_autoscale_window_tasks_add(max - 1, 2), max);
    assert_int_equal(ngx_autoscale_window_tasks_add(max, 0), max);
    assert_int_equal(ngx_autoscale_window_tasks_add(0, max), max);
    assert_int_equal(ngx_autoscale_window_tasks_add(max, max), max);

    /* past 2^63 and 2^64 the sum would read negative, or small again */
    assert_int_equal(ngx_autoscale_window_tasks_add(max, UINT64_MAX), max);
    assert_int_equal(ngx_autoscale_window_tasks_add(UINT64_MAX, UINT64_MAX),
                     max);
    assert_int_equal(ngx_autoscale_window_tasks_add((uint64_t) 1 << 63, 1),
                     max);

    /* the heartbeats that broke collection: 9e15 and 0 in turn */
    sum = 0;

    for (i = 0; i < 2100; i++) {
        sum = ngx_autoscale_window_tasks_add(sum,
                  ngx_autoscale_window_tasks_step(
                      i % 2 ? 9000000000000000LL : 0,
                      i % 2 ? 0 : 9000000000000000LL));
    }

    assert_int_equal(sum, 1050 * (uint64_t) NGX_AUTOSCALE_TASKS_STEP_MAX);

    /* and with no bound per report, still never past a bigint */
    sum = 0;

    for (i = 0; i < 2100; i++) {
        sum = ngx_autoscale_window_tasks_add(sum, 9000000000000000ULL);
    }

    assert_int_equal(sum, max);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_wrap_counters),
        cmocka_unit_test(test_wrap_clock),
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_tasks_step),
        cmocka_unit_test(test_tasks_add),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
