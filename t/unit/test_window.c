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


static ngx_autoscale_mark_t
mark(uint64_t at, uint64_t started, uint64_t finished, uint64_t start_ms,
    uint64_t finish_ms)
{
    ngx_autoscale_mark_t  m;

    memset(&m, 0, sizeof(m));

    m.at = at;
    m.started = started;
    m.finished = finished;
    m.start_ms = start_ms;
    m.finish_ms = finish_ms;

    return m;
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
assert_exact(double got, double want)
{
    if (got != want) {
        print_error("got %.17g, want %.17g\n", got, want);
    }

    assert_true(got == want);
}


static void
assert_window(const ngx_autoscale_window_t *w, double seconds,
    uint64_t started, uint64_t finished, double avg, uint64_t end)
{
    assert_exact(w->seconds, seconds);
    assert_int_equal(w->started, started);
    assert_int_equal(w->finished, finished);
    assert_exact(w->inflight_avg, avg);
    assert_int_equal(w->inflight_end, end);
}


static void
assert_empty(const ngx_autoscale_window_t *w)
{
    assert_window(w, 0, 0, 0, 0, 0);
    assert_int_equal(w->errors_5xx, 0);
    assert_int_equal(w->latency_ms, 0);
}


static void
test_no_traffic(void **state)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    from = mark(T0, 0, 0, 0, 0);
    to = mark(T1, 0, 0, 0, 0);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 0, 0, 0);
    assert_int_equal(w.errors_5xx, 0);
    assert_int_equal(w.latency_ms, 0);

    /* traffic before the window, none in it */
    from = mark(T0, 7, 7, 50000, 52000);
    from.latency_ms = 2000;
    from.errors_5xx = 3;
    to = from;
    to.at = T1;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 0, 0, 0);
    assert_int_equal(w.errors_5xx, 0);
    assert_int_equal(w.latency_ms, 0);
}


static void
test_empty_window(void **state)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    /* whatever the counters say, no time is no window */
    from = mark(T0, 1, 0, 9000, 0);
    to = mark(T0, 4, 2, 9000 + 3 * T0, 2 * T0);
    to.latency_ms = 10;
    to.errors_5xx = 1;
    assert_int_equal(window(&from, &to, &w), 0);
    assert_empty(&w);

    to.at = T0 - 1;
    assert_int_equal(window(&from, &to, &w), 0);
    assert_empty(&w);

    /* 2^63 ms apart or more: the readings are taken as out of order */
    to.at = T0 + ((uint64_t) 1 << 63);
    assert_int_equal(window(&from, &to, &w), 0);
    assert_empty(&w);

    from.at = 5;
    to.at = UINT64_MAX;
    assert_int_equal(window(&from, &to, &w), 0);
    assert_empty(&w);

    /* and the shortest window there is */
    from = mark(T0, 1, 0, 9000, 0);
    to = mark(T0 + 1, 1, 0, 9000, 0);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 0.001, 0, 0, 1, 1);
}


static void
test_one_inside(void **state)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    /* 10200 to 10700: 500 ms of one request in 1000 */
    from = mark(T0, 3, 3, 20000, 21000);
    to = mark(T1, 4, 4, 20000 + 10200, 21000 + 10700);
    to.latency_ms = 500;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1, 1, 0.5, 0);
    assert_int_equal(w.latency_ms, 500);
    assert_int_equal(w.errors_5xx, 0);

    /* the same in a 4 s window */
    from.at = 9000;
    to.at = 13000;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 4, 1, 1, 0.125, 0);
}


static void
test_across(void **state)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    /* started at 9000, still running at the end: in flight throughout */
    from = mark(T0, 1, 0, 9000, 0);
    to = mark(T1, 1, 0, 9000, 0);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 0, 1, 1);
    assert_int_equal(w.latency_ms, 0);

    /* the history before it does not count, only what is in flight */
    from = mark(T0, 101, 100, 123456, 654321);
    to = from;
    to.at = T1;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 0, 1, 1);
}


static void
test_edges(void **state)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    /* started at 9500, finished at 10250: 250 ms of the window */
    from = mark(T0, 1, 0, 9500, 0);
    to = mark(T1, 1, 1, 9500, 10250);
    to.latency_ms = 750;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 1, 0.25, 0);
    assert_int_equal(w.latency_ms, 750);

    /* started at 10500, running at the end: 500 ms */
    from = mark(T0, 0, 0, 0, 0);
    to = mark(T1, 1, 0, 10500, 0);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1, 0, 0.5, 1);
    assert_int_equal(w.latency_ms, 0);

    /* both in one window */
    from = mark(T0, 1, 0, 9500, 0);
    to = mark(T1, 2, 1, 9500 + 10500, 10250);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1, 1, 0.75, 1);

    /* started at the window's end: nothing yet */
    from = mark(T0, 0, 0, 0, 0);
    to = mark(T1, 1, 0, T1, 0);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1, 0, 0, 1);

    /* and at its start: in flight throughout */
    to = mark(T1, 1, 0, T0, 0);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1, 0, 1, 1);
}


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
    assert_window(&w, 1, 5, 5, 3.25, 2);
    assert_int_equal(w.errors_5xx, 2);
    assert_int_equal(w.latency_ms, 500 + 500 + 500 + 0 + 150);

    /*
     * 10000..10400: 200 + 300 + 400 + 300 = 1200 in 400 ms; C, D and E
     * (at the very end) started, B finished, A, C, D and E remain
     */
    observe(&to, base, overlap, NOVERLAP, shift, 10400);

    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 0.4, 3, 1, 3, 4);
    assert_int_equal(w.errors_5xx, 0);
    assert_int_equal(w.latency_ms, 500);

    /* 10400..11000: 3250 - 1200 = 2050 in 600 ms */
    from = to;
    observe(&to, base, overlap, NOVERLAP, shift, T1);

    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 0.6, 2, 4, 2050.0 / 600, 2);
    assert_int_equal(w.errors_5xx, 2);
    assert_int_equal(w.latency_ms, 500 + 500 + 0 + 150);
}


static void
test_overlap(void **state)
{
    ngx_autoscale_mark_t  base;

    (void) state;

    memset(&base, 0, sizeof(base));
    assert_overlap(&base, 0);

    /* with history before, all of it over: the same */
    base.started = 1000;
    base.finished = 1000;
    base.start_ms = 5000000;
    base.finish_ms = 4900000;
    base.latency_ms = 77777;
    base.errors_5xx = 12;
    assert_overlap(&base, 0);
}


/* every counter crosses 2^64 inside the window */
static void
test_wrap_counters(void **state)
{
    ngx_autoscale_mark_t    base, from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    /* 2 started by 10000, 7 by 11000; 0 then 5 finished */
    base.at = 0;
    base.started = UINT64_MAX - 2;
    base.finished = UINT64_MAX - 2;
    base.start_ms = UINT64_MAX - 20000;
    base.finish_ms = UINT64_MAX - 10000;
    base.latency_ms = UINT64_MAX - 1000;
    base.errors_5xx = UINT64_MAX - 1;

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

    /* in flight across the window, counts one short of wrapping */
    from = mark(T0, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 5, 17);
    to = from;
    to.at = T1;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 0, 1, 1);

    /* started at 10500 with start_ms at UINT64_MAX - 9999: 500 ms */
    from = mark(T0, UINT64_MAX, UINT64_MAX, UINT64_MAX - 9999, 3);
    to = mark(T1, 0, UINT64_MAX, 500, 3);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1, 0, 0.5, 1);
}


/* the clock itself wrapping: not expected of a ms clock, but it holds */
static void
test_wrap_clock(void **state)
{
    ngx_autoscale_mark_t  base;

    (void) state;

    /* 10000 is 2^64 - 500, 10500 is 0, 11000 is 500 */
    memset(&base, 0, sizeof(base));
    assert_overlap(&base, UINT64_MAX - 10499);

    base.started = UINT64_MAX - 2;
    base.finished = UINT64_MAX - 2;
    base.start_ms = UINT64_MAX - 20000;
    base.finish_ms = UINT64_MAX - 10000;
    assert_overlap(&base, UINT64_MAX - 10499);
}


/* workers' clocks a few ms apart: never below nothing */
static void
test_skew(void **state)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    /* a start stamped 3 ms after the reading that counted it */
    from = mark(T0, 0, 0, 0, 0);
    to = mark(T1, 1, 0, T1 + 3, 0);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1, 0, 0, 1);

    /* a finish counted before its start: -10 ms, and -1 in flight */
    from = mark(T0, 5, 5, 40000, 45000);
    to = mark(T1, 5, 6, 40000, 45000 + 10990);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 1, 0, 0);

    /* both near 2^64: still -1 */
    from = mark(T0, UINT64_MAX - 1, UINT64_MAX - 1, 0, 0);
    to = mark(T1, UINT64_MAX - 1, UINT64_MAX, 0, 10990);
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 0, 1, 0, 0);
}


static void
test_deltas(void **state)
{
    ngx_autoscale_mark_t    from, to;
    ngx_autoscale_window_t  w;

    (void) state;

    from = mark(T0, 10, 8, 0, 0);
    from.latency_ms = 1000;
    from.errors_5xx = 4;
    to = mark(T1, 13, 10, 3 * T0, 2 * T0);
    to.latency_ms = 1750;
    to.errors_5xx = 6;

    /* 2 + (3 - 2) at the end; the area: 2000 + 11000 - 30000 + 20000 */
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 3, 2, 3, 3);
    assert_int_equal(w.latency_ms, 750);
    assert_int_equal(w.errors_5xx, 2);

    /* across 2^64 */
    from.latency_ms = UINT64_MAX - 99;
    from.errors_5xx = UINT64_MAX - 1;
    to.latency_ms = 400;
    to.errors_5xx = 3;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_int_equal(w.latency_ms, 500);
    assert_int_equal(w.errors_5xx, 5);

    /* inflight_end is of the end only, not of the window */
    from = mark(T0, 0, 0, 0, 0);
    to = mark(T1, 1000, 958, 0, 0);
    to.start_ms = 1000 * (uint64_t) T0;
    to.finish_ms = 958 * (uint64_t) T1;
    assert_int_equal(window(&from, &to, &w), 1);
    assert_window(&w, 1, 1000, 958, 1000, 42);
}


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
        cmocka_unit_test(test_no_traffic),
        cmocka_unit_test(test_empty_window),
        cmocka_unit_test(test_one_inside),
        cmocka_unit_test(test_across),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_wrap_counters),
        cmocka_unit_test(test_wrap_clock),
        cmocka_unit_test(test_skew),
        cmocka_unit_test(test_deltas),
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_tasks_step),
        cmocka_unit_test(test_tasks_add),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
