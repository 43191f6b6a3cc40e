/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_policy_rule.h"


/* the fields of a row in the check's text, in their order */
#define NGX_AUTOSCALE_DEMAND_NFIELDS  9


static int ngx_autoscale_policy_demand_estimate(
    const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_policy_row_t *row, double last_service,
    ngx_autoscale_policy_estimate_t *est);
static int ngx_autoscale_policy_demand_bad_row(
    const ngx_autoscale_policy_row_t *row);
static void ngx_autoscale_policy_demand_latest(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_policy_row_t *row);
static double ngx_autoscale_policy_demand_service(
    const ngx_autoscale_policy_input_t *in, size_t from);
static void ngx_autoscale_policy_demand_up(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out,
    const ngx_autoscale_policy_estimate_t *est,
    const ngx_autoscale_policy_row_t *latest, const char *trigger);
static void ngx_autoscale_policy_demand_down(
    const ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *out,
    const char *trigger);


/*
 * The demand rule: the workers that the requests offered need, not the
 * ones they keep busy, so that a saturated cluster still says how far it
 * is from enough.  Up at once to the need; down no further than the
 * highest need of the stabilization window.
 */

void
ngx_autoscale_policy_demand(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out)
{
    int                                 cur, need;
    char                                trigger[NGX_AUTOSCALE_REASON_LEN];
    char                                l[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                                s[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                                q[NGX_AUTOSCALE_POLICY_NUM_LEN];
    ngx_autoscale_policy_row_t          latest;
    ngx_autoscale_policy_estimate_t     est;

    cur = in->current_workers;

    ngx_autoscale_policy_demand_latest(in, &latest);

    if (ngx_autoscale_policy_demand_estimate(in, &latest,
                                ngx_autoscale_policy_demand_service(in, 1),
                                &est)
        != 0)
    {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_INVALID_INPUT,
                                 "the latest metrics row has a value no "
                                 "row may have: hold");
        return;
    }

    need = est.need;
    out->need = need;

    ngx_autoscale_policy_num(l, round(est.arrivals * 1000) / 1000);
    ngx_autoscale_policy_num(s, round(est.service * 1000) / 1000);
    ngx_autoscale_policy_num(q, round(est.backlog * 1000) / 1000);

    if (est.observed) {
        snprintf(trigger, sizeof(trigger),
                 "demand needs %d worker%s (%s req/s x %s s, backlog %s%s)",
                 need, ngx_autoscale_policy_s(need), l,
                 est.service_from == NGX_AUTOSCALE_SERVICE_NONE ? "?" : s, q,
                 est.service_from == NGX_AUTOSCALE_SERVICE_NONE
                 ? ", no service time yet: what is in flight"
                 : est.service_from == NGX_AUTOSCALE_SERVICE_EARLIER
                 ? ", service time of an earlier row" : "");

    } else {
        snprintf(trigger, sizeof(trigger),
                 "no observed traffic; the agents' cpu and queue %s need "
                 "%d worker%s", q, need, ngx_autoscale_policy_s(need));
    }

    if (need > cur) {
        ngx_autoscale_policy_demand_up(in, out, &est, &latest, trigger);
        return;
    }

    out->proposal = need;

    if (need == cur) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_NO_TRIGGER,
                                 "%s: hold at %d worker%s (no trigger)",
                                 trigger, cur, ngx_autoscale_policy_s(cur));
        return;
    }

    ngx_autoscale_policy_demand_down(in, out, trigger);
}


/*
 * The up cooldown waits for a change to show in the metrics.  The arrivals
 * do not depend on the workers: when they alone need more than the
 * cluster has, waiting only grows the backlog, so the cooldown does not
 * hold.  Nor does it once the change has shown: the latest window began
 * after the last change and every worker served in it, so its backlog is
 * one those workers could not drain, not one counted before they came.
 * Until then the backlog part waits: new workers take time to drain it.
 */

static void
ngx_autoscale_policy_demand_up(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const ngx_autoscale_policy_estimate_t *est,
    const ngx_autoscale_policy_row_t *latest, const char *trigger)
{
    int                           cur, shown;
    char                          since[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                          passed[2 * NGX_AUTOSCALE_REASON_LEN];
    ngx_autoscale_policy_input_t  unheld;

    cur = in->current_workers;

    shown = est->observed && cur > 0 && latest->live >= cur
            && latest->age + latest->secs < in->since_scaled;

    if (!(in->since_scaled >= 0 && in->since_scaled < in->scale_up_cooldown)
        || (est->arrival_need <= cur && !shown) || cur >= in->max_workers)
    {
        ngx_autoscale_policy_up(in, out, trigger, est->need);
        return;
    }

    ngx_autoscale_policy_secs(since, in->since_scaled);

    if (est->arrival_need > cur) {
        snprintf(passed, sizeof(passed),
                 "%s; the arrivals alone need %d, so the up cooldown "
                 "(scaled %s s ago) does not hold", trigger,
                 est->arrival_need, since);

    } else {
        snprintf(passed, sizeof(passed),
                 "%s; all %d workers served in the latest window, which "
                 "began after the last change, so the up cooldown (scaled "
                 "%s s ago) does not hold", trigger, cur, since);
    }

    unheld = *in;
    unheld.since_scaled = -1;

    ngx_autoscale_policy_up(&unheld, out, passed, est->need);

    out->cooldown_passed = (out->action == NGX_AUTOSCALE_SCALE_UP);
}


/*
 * Down only as far as the highest need of the window, and min_workers; and
 * not by tolerance x workers or less
 */

static void
ngx_autoscale_policy_demand_down(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *out, const char *trigger)
{
    int                                  cur, to, highest;
    char                                 w[NGX_AUTOSCALE_POLICY_NUM_LEN];
    char                                 note[NGX_AUTOSCALE_POLICY_NOTE_LEN];
    ngx_autoscale_policy_demand_seen_t   seen;

    cur = in->current_workers;

    ngx_autoscale_policy_demand_seen(in, &seen);

    highest = seen.highest > out->need ? seen.highest : out->need;
    out->window_need = highest;

    ngx_autoscale_policy_secs(w, in->stabilization_window);

    to = out->need;
    note[0] = '\0';

    if (highest > to) {
        to = highest;
        out->constraints |= NGX_AUTOSCALE_C_STABILIZED;

        if (to >= cur) {
            ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur, 0,
                                     "%s, but the arrivals of the last %s s "
                                     "(stabilization_window) needed %d: "
                                     "hold at %d worker%s", trigger, w,
                                     highest, cur,
                                     ngx_autoscale_policy_s(cur));
            return;
        }

        snprintf(note, sizeof(note),
                 " (the arrivals' highest need of the last %s s; %d now)",
                 w, out->need);
    }

    /* the arrivals of a window vary by chance: a step that small is noise */
    if (to > in->min_workers && cur - to <= cur * in->tolerance + 1e-9) {
        ngx_autoscale_policy_set(out, NGX_AUTOSCALE_HOLD, cur,
                                 NGX_AUTOSCALE_C_WITHIN_TOLERANCE,
                                 "%s; %d is within tolerance %s of %d "
                                 "workers: hold", trigger, to,
                                 ngx_autoscale_policy_num(w, in->tolerance),
                                 cur);
        return;
    }

    ngx_autoscale_policy_down(in, out, trigger, to, note);
}


/*
 * One row's need:
 *
 *   lambda = started / s, completions = finished / s
 *   busy = min(in flight, serving workers x capacity)
 *   S = busy / completions (Little's law on the busy part)
 *   Q = max(in flight beyond capacity, the row's queue)
 *   need = ceil((lambda x S + Q x S / drain) / (capacity x utilization))
 *
 * With no completion in the row, S is the newest earlier row's
 * (last_service); with none known, the need holds everything in the
 * system at once: (busy + Q) / (capacity x utilization).  A row with no
 * observed traffic takes the agents' reports instead: busy from their
 * cpu, Q their queue, the same way.
 */

static int
ngx_autoscale_policy_demand_estimate(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_policy_row_t *row, double last_service,
    ngx_autoscale_policy_estimate_t *est)
{
    double  cap, slots, per;

    if (ngx_autoscale_policy_demand_bad_row(row)) {
        return -1;
    }

    cap = in->worker_capacity;

    est->workers = isnan(row->workers) ? in->current_workers : row->workers;

    /* a worker that has not reported yet does not serve */
    if (row->live > 0 && row->live < est->workers) {
        est->workers = row->live;
    }

    est->drain = in->drain_time;
    est->utilization = in->target_value / 100;
    est->service = NAN;
    est->service_from = NGX_AUTOSCALE_SERVICE_NONE;
    est->arrivals = 0;
    est->completions = 0;

    slots = est->workers * cap;
    per = cap * est->utilization;

    est->observed = row->secs > 0
                    && (row->started > 0 || row->finished > 0
                        || row->inflight > 0);

    if (!est->observed) {
        est->busy = slots * row->cpu / 100;
        est->backlog = row->queue;
        est->raw = (est->busy + est->backlog) / per;

    } else {
        est->arrivals = row->started / row->secs;
        est->completions = row->finished / row->secs;
        est->busy = row->inflight < slots ? row->inflight : slots;
        est->backlog = row->inflight > slots ? row->inflight - slots : 0;

        if (row->queue > est->backlog) {
            est->backlog = row->queue;
        }

        if (est->completions > 0 && est->busy > 0) {
            est->service = est->busy / est->completions;
            est->service_from = NGX_AUTOSCALE_SERVICE_WINDOW;

        } else if (last_service > 0) {
            est->service = last_service;
            est->service_from = NGX_AUTOSCALE_SERVICE_EARLIER;
        }

        if (est->service_from == NGX_AUTOSCALE_SERVICE_NONE) {
            est->raw = (est->busy + est->backlog) / per;

        } else {
            est->raw = (est->arrivals * est->service
                        + est->backlog * est->service / est->drain) / per;
        }
    }

    est->need = ngx_autoscale_policy_ceil(est->raw);

    est->arrival_need = (est->service_from == NGX_AUTOSCALE_SERVICE_NONE)
                        ? 0
                        : ngx_autoscale_policy_ceil(est->arrivals
                                                    * est->service / per);

    /* whatever arrives or waits needs a worker, however short */
    if (est->need == 0 && (est->arrivals > 0 || est->backlog > 0)) {
        est->need = 1;
    }

    return 0;
}


static int
ngx_autoscale_policy_demand_bad_row(const ngx_autoscale_policy_row_t *row)
{
    /* secs and workers may be unknown (a row written by hand), not bad */
    return ngx_autoscale_policy_bad_metric(row->started)
           || ngx_autoscale_policy_bad_metric(row->finished)
           || ngx_autoscale_policy_bad_metric(row->inflight)
           || ngx_autoscale_policy_bad_metric(row->queue)
           || ngx_autoscale_policy_bad_metric(row->cpu)
           || ngx_autoscale_policy_bad_metric(row->live)
           || (!isnan(row->workers)
               && ngx_autoscale_policy_bad_metric(row->workers))
           || (!isnan(row->secs) && !(row->secs > 0 && isfinite(row->secs)));
}


/* the latest row; without rows, what the cluster's latest metrics say */

static void
ngx_autoscale_policy_demand_latest(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_policy_row_t *row)
{
    if (in->rows != NULL && in->nrows > 0) {
        *row = in->rows[0];
        return;
    }

    row->age = in->metrics_age;
    row->secs = NAN;
    row->started = 0;
    row->finished = 0;
    row->inflight = 0;
    row->workers = NAN;
    row->queue = in->queue_length;
    row->cpu = in->cpu_usage;
    row->live = 0;
}


/* the service time of the newest valid row from "from" on; 0: none */

static double
ngx_autoscale_policy_demand_service(const ngx_autoscale_policy_input_t *in,
    size_t from)
{
    size_t                           i;
    ngx_autoscale_policy_estimate_t  est;

    for (i = from; in->rows != NULL && i < in->nrows; i++) {
        if (ngx_autoscale_policy_demand_estimate(in, &in->rows[i], 0, &est)
            == 0
            && est.service_from == NGX_AUTOSCALE_SERVICE_WINDOW)
        {
            return est.service;
        }
    }

    return 0;
}


/*
 * What the demand policy sees: the latest row's estimate and the highest
 * need of the window's rows, each with the service time it knew then.
 */

void
ngx_autoscale_policy_demand_seen(const ngx_autoscale_policy_input_t *in,
    ngx_autoscale_policy_demand_seen_t *seen)
{
    int                              held;
    size_t                           i;
    double                           last;
    ngx_autoscale_policy_row_t       latest;
    ngx_autoscale_policy_estimate_t  est;

    seen->nsamples = 0;
    seen->highest = -1;

    ngx_autoscale_policy_demand_latest(in, &latest);

    seen->has_now = in->has_metrics && in->worker_capacity >= 1
                    && in->target_value > 0 && in->drain_time > 0
                    && ngx_autoscale_policy_demand_estimate(in, &latest,
                                  ngx_autoscale_policy_demand_service(in, 1),
                                  &seen->now)
                       == 0;

    if (!seen->has_now || in->rows == NULL) {
        return;
    }

    /* oldest first, so that each row knows the service time before it */

    last = 0;

    for (i = in->nrows; i-- > 0; /* void */) {
        if (ngx_autoscale_policy_demand_estimate(in, &in->rows[i], last,
                                                 &est)
            != 0)
        {
            /* a broken row tells nothing: it neither holds nor releases */
            continue;
        }

        if (est.service_from == NGX_AUTOSCALE_SERVICE_WINDOW) {
            last = est.service;
        }

        if (i > 0 && !(in->rows[i].age <= in->stabilization_window)) {
            continue;
        }

        seen->nsamples++;

        /*
         * an earlier row's backlog was the workers' to drain, and they did
         * or the latest row still shows it: an earlier row holds what its
         * arrivals needed
         */
        held = (i == 0 || !est.observed
                || est.service_from == NGX_AUTOSCALE_SERVICE_NONE)
               ? est.need : est.arrival_need;

        if (held > seen->highest) {
            seen->highest = held;
        }
    }
}


int
ngx_autoscale_policy_demand_rows(const char *text,
    ngx_autoscale_policy_row_t **rows, size_t *n)
{
    char                        *end;
    size_t                       count, i, f;
    double                       v[NGX_AUTOSCALE_DEMAND_NFIELDS];
    const char                  *p;
    ngx_autoscale_policy_row_t  *r;

    *rows = NULL;
    *n = 0;

    count = 1;
    for (p = text; *p; p++) {
        count += (*p == ',');
    }

    r = malloc(count * sizeof(ngx_autoscale_policy_row_t));
    if (r == NULL) {
        return -1;
    }

    p = text;

    for (i = 0; i < count && *p; i++) {

        for (f = 0; f < NGX_AUTOSCALE_DEMAND_NFIELDS; f++) {
            v[f] = strtod(p, &end);

            /* a field missing: NaN, which makes the row a broken one */
            if (end == p) {
                v[f] = NAN;
            }

            p = end;
        }

        r[i].age = v[0];
        r[i].secs = v[1];
        r[i].started = v[2];
        r[i].finished = v[3];
        r[i].inflight = v[4];
        r[i].workers = v[5];
        r[i].queue = v[6];
        r[i].cpu = v[7];
        r[i].live = v[8];

        /* the rest of a row, up to its comma */
        while (*p && *p != ',') {
            p++;
        }

        if (*p == ',') {
            p++;
        }
    }

    if (i == 0) {
        free(r);
        return 0;
    }

    *rows = r;
    *n = i;

    return 0;
}
