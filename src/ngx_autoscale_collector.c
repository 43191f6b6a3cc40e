
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <cjson/cJSON.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_collector.h"
#include "ngx_autoscale_leader.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_rows.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_sql_jobs.h"


/* rows formatted, and clusters learnt from the database, per turn */
#define NGX_AUTOSCALE_COLLECTOR_SLICE        1000

/*
 * A collection that fails on what it carries is tried once more as a
 * whole, then halved until the rows or agents that fail are found and
 * dropped, so that one bad item never stops every cluster's rows.  After
 * such a split the next failure is split at once, until one collection
 * goes through whole.
 */
#define NGX_AUTOSCALE_COLLECTOR_TRIES        2
#define NGX_AUTOSCALE_COLLECTOR_DEPTH        64

/*
 * Rows and agents written by one statement at most: a backlog after a
 * long outage, or a large fleet, goes in parts that each end well within
 * the statement timeout, instead of one that never does.
 */
#define NGX_AUTOSCALE_COLLECTOR_PART         5000

/* the result's columns that count: rows written to timeouts */
#define NGX_AUTOSCALE_COLLECTOR_NCOUNTS                                       \
    (NGX_AUTOSCALE_COLLECT_TIMEOUTS + 1)


typedef struct {
    ngx_autoscale_leader_t          *leader;
    ngx_http_autoscale_main_conf_t  *amcf;
    ngx_log_t                       *log;

    ngx_event_t                      collect_ev;
    ngx_event_t                      format_ev;
    ngx_event_t                      refresh_ev;

    ngx_msec_t                       collect_started;
    ngx_autoscale_collection_t       col;        /* the one in flight */
    ngx_uint_t                       collect_failures;  /* on data, in a
                                                           row */
    ngx_uint_t                       split_depth;  /* 0: sent whole */
    ngx_uint_t                       split[NGX_AUTOSCALE_COLLECTOR_DEPTH][2];
    cJSON                           *parsed[2];  /* its rows and agents,
                                                    once one is dropped */
    /* what its parts wrote and pruned, by the result's column */
    ngx_uint_t                       counts[NGX_AUTOSCALE_COLLECTOR_NCOUNTS];
    ngx_autoscale_window_rows_t      window;     /* its rows, formatted a
                                                    slice at a time */
    PGresult                        *refresh;    /* the clusters, learnt a
                                                    slice at a time */
    const char                      *refresh_at;

    unsigned                         collecting:1;
    unsigned                         splitting:1;
    unsigned                         formatting:1;
} ngx_autoscale_collector_t;


static void ngx_autoscale_collector_handler(ngx_event_t *ev);
static void ngx_autoscale_collector_format(ngx_event_t *ev);
static void ngx_autoscale_collector_send(ngx_autoscale_collector_t *cl);
static void ngx_autoscale_collector_send_range(ngx_autoscale_collector_t *cl);
static ngx_int_t ngx_autoscale_collector_done(void *data, ngx_int_t status,
    PGresult *res);
static ngx_uint_t ngx_autoscale_collector_split(ngx_autoscale_collector_t *cl,
    PGresult *res);
static void ngx_autoscale_collector_drop(ngx_autoscale_collector_t *cl,
    ngx_uint_t item, PGresult *res);
static void ngx_autoscale_collector_refresh(ngx_event_t *ev);
static void ngx_autoscale_collector_free(ngx_autoscale_collector_t *cl);


static const char  ngx_autoscale_collector_sql[] = NGX_AUTOSCALE_SQL_COLLECT;

static ngx_autoscale_collector_t  *ngx_autoscale_collector;


ngx_int_t
ngx_autoscale_collector_init(ngx_cycle_t *cycle, ngx_autoscale_leader_t *ld)
{
    ngx_autoscale_collector_t  *cl;

    cl = ngx_pcalloc(cycle->pool, sizeof(ngx_autoscale_collector_t));
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->leader = ld;
    cl->amcf = ld->amcf;
    cl->log = ld->log;

    ngx_autoscale_leader_event(ld, &cl->collect_ev,
                               ngx_autoscale_collector_handler, cl,
                               cl->amcf->collect_interval);
    ngx_autoscale_leader_event(ld, &cl->format_ev,
                               ngx_autoscale_collector_format, cl, 0);
    ngx_autoscale_leader_event(ld, &cl->refresh_ev,
                               ngx_autoscale_collector_refresh, cl, 0);

    ngx_autoscale_collector = cl;

    return NGX_OK;
}


void
ngx_autoscale_collector_exit(void)
{
    ngx_autoscale_collector_t  *cl = ngx_autoscale_collector;

    if (cl == NULL) {
        return;
    }

    ngx_autoscale_collector_free(cl);
    ngx_autoscale_rows_discard(&cl->window);

    if (cl->refresh) {
        PQclear(cl->refresh);
        cl->refresh = NULL;
    }

    if (cl->format_ev.posted) {
        ngx_delete_posted_event(&cl->format_ev);
    }

    if (cl->refresh_ev.posted) {
        ngx_delete_posted_event(&cl->refresh_ev);
    }

    ngx_autoscale_collector = NULL;
}


static void
ngx_autoscale_collector_handler(ngx_event_t *ev)
{
    ngx_autoscale_collector_t  *cl = ev->data;

    if (ngx_exiting) {
        return;
    }

    ngx_add_timer(ev, cl->amcf->collect_interval);

    /*
     * The window ends even while the database is away: its rows wait in
     * the zone.  A server that stands by for another leaves its own.
     */
    if (!cl->leader->leading || cl->leader->lock_refused) {
        return;
    }

    if (cl->formatting) {
        /* the last window is still being formatted: this one waits */
        return;
    }

    /* requests a crashed worker left in flight end before the window */
    (void) ngx_autoscale_shm_slots_sweep(cl->amcf->shm_zone);

    if (ngx_autoscale_rows_window(cl->amcf->shm_zone,
                                  cl->amcf->collect_interval,
                                  &cl->window, cl->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, cl->log, 0,
                      "autoscale: collection: out of memory");
        return;
    }

    cl->formatting = 1;

    ngx_log_debug0(NGX_LOG_DEBUG_EVENT, cl->log, 0,
                   "autoscale collector: window ended");

    ngx_autoscale_collector_format(&cl->format_ev);
}


static void
ngx_autoscale_collector_format(ngx_event_t *ev)
{
    ngx_autoscale_collector_t  *cl = ev->data;

    ngx_int_t  rc;

    rc = ngx_autoscale_rows_format(cl->amcf->shm_zone, &cl->window,
                                   NGX_AUTOSCALE_COLLECTOR_SLICE, cl->log);

    if (rc == NGX_AGAIN) {
        /* the rest on the next turn of the loop, after other events */
        ngx_post_event(ev, &ngx_posted_next_events);
        return;
    }

    cl->formatting = 0;

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, cl->log, 0,
                      "autoscale: collection: out of memory");
    }

    ngx_autoscale_collector_send(cl);
}


static void
ngx_autoscale_collector_send(ngx_autoscale_collector_t *cl)
{
    ngx_shm_zone_t  *zone = cl->amcf->shm_zone;

    if (!ngx_autoscale_leader_ready(cl->leader) || cl->collecting) {
        return;
    }

    if (ngx_autoscale_rows_params(zone, &cl->col, cl->log) != NGX_OK) {
        ngx_autoscale_rows_failed(zone);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, cl->log, 0,
                   "autoscale collector: collection of %ui rows, %ui agents",
                   cl->col.nrows, cl->col.nagents);

    cl->collecting = 1;
    cl->collect_started = ngx_current_msec;
    cl->split_depth = 0;
    ngx_memzero(cl->counts, sizeof(cl->counts));

    if (cl->col.nrows + cl->col.nagents > NGX_AUTOSCALE_COLLECTOR_PART) {
        /* sent a part at a time, as a split is */
        cl->split[0][0] = 0;
        cl->split[0][1] = cl->col.nrows + cl->col.nagents;
        cl->split_depth = 1;
    }

    ngx_autoscale_collector_send_range(cl);
}


/* the whole collection, or the part on top of the split's stack */
static void
ngx_autoscale_collector_send_range(ngx_autoscale_collector_t *cl)
{
    u_char           num[7][NGX_INT_T_LEN];
    ngx_str_t        params[NGX_AUTOSCALE_COLLECT_NARGS], *arg;
    ngx_uint_t       i, lo, hi, nrows, range[4];
    ngx_shm_zone_t  *zone = cl->amcf->shm_zone;

    if (cl->split_depth) {
        lo = cl->split[cl->split_depth - 1][0];
        hi = cl->split[cl->split_depth - 1][1];

        if (hi - lo > NGX_AUTOSCALE_COLLECTOR_PART) {
            /* the first part on top, the rest below it */
            cl->split[cl->split_depth - 1][0] = lo
                                                + NGX_AUTOSCALE_COLLECTOR_PART;
            cl->split[cl->split_depth][0] = lo;
            cl->split[cl->split_depth][1] = lo + NGX_AUTOSCALE_COLLECTOR_PART;
            cl->split_depth++;
        }
    }

    params[NGX_AUTOSCALE_COLLECT_ARG_ROWS] = cl->col.rows;
    params[NGX_AUTOSCALE_COLLECT_ARG_AGENTS] = cl->col.agents;
    params[NGX_AUTOSCALE_COLLECT_ARG_NODE] = cl->leader->node;

    /* the range: rows from, rows to, agents from, agents to */
    arg = &params[NGX_AUTOSCALE_COLLECT_ARG_ROWS_FROM];

    for (i = 0; i < 4; i++) {
        ngx_str_null(&arg[i]);
    }

    if (cl->split_depth) {
        /* items lo..hi-1: the rows first, then the agents; 1-based */
        lo = cl->split[cl->split_depth - 1][0];
        hi = cl->split[cl->split_depth - 1][1];
        nrows = cl->col.nrows;

        range[0] = lo + 1;
        range[1] = ngx_min(hi, nrows);
        range[2] = (lo > nrows ? lo - nrows : 0) + 1;
        range[3] = hi > nrows ? hi - nrows : 0;

        for (i = 0; i < 4; i++) {
            arg[i].data = num[i];
            arg[i].len = ngx_sprintf(num[i], "%ui", range[i]) - num[i];
        }
    }

    arg = &params[NGX_AUTOSCALE_COLLECT_ARG_METRICS_RETENTION];
    arg->data = num[4];
    arg->len = ngx_sprintf(num[4], "%T", cl->amcf->metrics_retention)
               - num[4];

    arg = &params[NGX_AUTOSCALE_COLLECT_ARG_EVENTS_RETENTION];
    arg->data = num[5];
    arg->len = ngx_sprintf(num[5], "%T", cl->amcf->events_retention) - num[5];

    arg = &params[NGX_AUTOSCALE_COLLECT_ARG_AGENTS_RETENTION];
    arg->data = num[6];
    arg->len = ngx_sprintf(num[6], "%T", cl->amcf->agents_retention) - num[6];

    /* the last part prunes, and brings what the database says of clusters */
    arg = &params[NGX_AUTOSCALE_COLLECT_ARG_LAST];
    arg->data = (u_char *) (cl->split_depth > 1 ? "f" : "t");
    arg->len = 1;

    ngx_log_debug4(NGX_LOG_DEBUG_EVENT, cl->log, 0,
                   "autoscale collector: part sent: rows %V-%V, agents %V-%V "
                   "(none: all)",
                   &params[NGX_AUTOSCALE_COLLECT_ARG_ROWS_FROM],
                   &params[NGX_AUTOSCALE_COLLECT_ARG_ROWS_TO],
                   &params[NGX_AUTOSCALE_COLLECT_ARG_AGENTS_FROM],
                   &params[NGX_AUTOSCALE_COLLECT_ARG_AGENTS_TO]);

    if (ngx_autoscale_pg_query(cl->leader->pool, ngx_autoscale_collector_sql,
                               NGX_AUTOSCALE_COLLECT_NARGS, params,
                               ngx_autoscale_collector_done, cl)
        == NULL)
    {
        ngx_autoscale_rows_failed(zone);
        ngx_autoscale_collector_free(cl);
        cl->collecting = 0;
    }
}


static ngx_int_t
ngx_autoscale_collector_done(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_collector_t  *cl = data;

    ngx_int_t             n;
    ngx_uint_t            i, written;
    ngx_shm_zone_t       *zone = cl->amcf->shm_zone;
    ngx_autoscale_shm_t  *sh = zone->data;

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, cl->log, 0,
                   "autoscale collector: part answered: %i, depth %ui",
                   status, cl->split_depth);

    if (status == NGX_AUTOSCALE_PG_SQL_ERROR && cl->leader->leading
        && ngx_autoscale_leader_data_error(res))
    {
        if (ngx_autoscale_collector_split(cl, res)) {
            ngx_autoscale_collector_send_range(cl);
            return NGX_OK;
        }

        if (cl->collecting) {
            /* every part written or dropped */
            goto written;
        }

        return NGX_OK;
    }

    if (status != NGX_AUTOSCALE_PG_OK) {
        ngx_autoscale_leader_job_failed(cl->leader, "collection", status, res);
        goto failed;
    }

    if (PQgetvalue(res, 0, NGX_AUTOSCALE_COLLECT_HELD)[0] != 't') {
        ngx_autoscale_leader_lock_lost(cl->leader);
        goto failed;
    }

    written = cl->counts[NGX_AUTOSCALE_COLLECT_ROWS];

    for (i = NGX_AUTOSCALE_COLLECT_ROWS; i < NGX_AUTOSCALE_COLLECTOR_NCOUNTS;
         i++)
    {
        n = ngx_atoi((u_char *) PQgetvalue(res, 0, i), PQgetlength(res, 0, i));
        cl->counts[i] += ngx_max(n, 0);
    }

    (void) ngx_atomic_fetch_add(&sh->rows_written,
                                cl->counts[NGX_AUTOSCALE_COLLECT_ROWS]
                                - written);

    if (cl->split_depth) {
        /* this part is written: on to the next */
        if (--cl->split_depth) {
            ngx_autoscale_collector_send_range(cl);
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_INFO, cl->log, 0,
                  "autoscale: collection: %ui rows written of %ui sent, "
                  "%ui agents written, %ui pruned, %ui timeouts, %M ms",
                  cl->counts[NGX_AUTOSCALE_COLLECT_ROWS], cl->col.nrows,
                  cl->counts[NGX_AUTOSCALE_COLLECT_AGENTS],
                  cl->counts[NGX_AUTOSCALE_COLLECT_PRUNED],
                  cl->counts[NGX_AUTOSCALE_COLLECT_TIMEOUTS],
                  ngx_current_msec - cl->collect_started);

    ngx_autoscale_rows_written(zone, &cl->col);
    ngx_autoscale_collector_free(cl);
    cl->collect_failures = cl->splitting ? NGX_AUTOSCALE_COLLECTOR_TRIES - 1
                                         : 0;
    cl->splitting = 0;

    /* kept, and learnt a slice at a time; the next collection waits */
    cl->refresh = res;
    cl->refresh_at = PQgetvalue(res, 0, NGX_AUTOSCALE_COLLECT_CLUSTERS);

    ngx_autoscale_collector_refresh(&cl->refresh_ev);

    return NGX_DONE;

written:

    ngx_autoscale_rows_written(zone, &cl->col);
    ngx_autoscale_collector_free(cl);
    cl->collect_failures = NGX_AUTOSCALE_COLLECTOR_TRIES - 1;
    cl->splitting = 0;
    cl->collecting = 0;

    return NGX_OK;

failed:

    ngx_autoscale_rows_failed(zone);
    ngx_autoscale_collector_free(cl);
    cl->split_depth = 0;
    cl->splitting = 0;
    cl->collecting = 0;

    return NGX_OK;
}


/*
 * The statement failed on what it carries.  1 when a part is to be sent
 * next; 0 when the collection waits for the next interval (its first
 * failure) or when nothing is left (collecting still set).
 */
static ngx_uint_t
ngx_autoscale_collector_split(ngx_autoscale_collector_t *cl, PGresult *res)
{
    ngx_uint_t  lo, hi, mid, n;

    if (cl->split_depth == 0) {
        if (++cl->collect_failures < NGX_AUTOSCALE_COLLECTOR_TRIES) {
            ngx_autoscale_leader_job_failed(cl->leader, "collection",
                                            NGX_AUTOSCALE_PG_SQL_ERROR, res);
            ngx_autoscale_rows_failed(cl->amcf->shm_zone);
            ngx_autoscale_collector_free(cl);
            cl->collecting = 0;
            return 0;
        }

        n = cl->col.nrows + cl->col.nagents;
        cl->splitting = 1;

        ngx_log_error(NGX_LOG_WARN, cl->log, 0,
                      "autoscale: collection failed %ui times on its data, "
                      "split to find what fails among %ui rows and "
                      "%ui agents: %s",
                      cl->collect_failures, cl->col.nrows,
                      cl->col.nagents, PQresultErrorMessage(res));

        lo = 0;
        hi = n;

    } else {
        cl->split_depth--;
        lo = cl->split[cl->split_depth][0];
        hi = cl->split[cl->split_depth][1];
    }

    if (hi - lo <= 1 || cl->split_depth + 2 > NGX_AUTOSCALE_COLLECTOR_DEPTH) {
        /* found; or, past any real need, the whole part goes */
        for ( /* void */ ; lo < hi; lo++) {
            ngx_autoscale_collector_drop(cl, lo, res);
        }

        return cl->split_depth > 0;
    }

    /* the second half below the first: parts go oldest first */
    mid = lo + (hi - lo) / 2;

    cl->split[cl->split_depth][0] = mid;
    cl->split[cl->split_depth][1] = hi;
    cl->split[cl->split_depth + 1][0] = lo;
    cl->split[cl->split_depth + 1][1] = mid;
    cl->split_depth += 2;

    ngx_log_debug4(NGX_LOG_DEBUG_EVENT, cl->log, 0,
                   "autoscale collector: split items %ui-%ui at %ui, "
                   "depth %ui", lo, hi, mid, cl->split_depth);

    return 1;
}


/* item: a row, or past the rows an agent; named in the log */
static void
ngx_autoscale_collector_drop(ngx_autoscale_collector_t *cl, ngx_uint_t item,
    PGresult *res)
{
    cJSON       *one, *a, *b;
    ngx_str_t   *list;
    ngx_uint_t   row;

    row = (item < cl->col.nrows);
    list = row ? &cl->col.rows : &cl->col.agents;

    /* parsed at the first item dropped, and kept for the others */
    if (cl->parsed[row] == NULL) {
        cl->parsed[row] = cJSON_ParseWithLength((char *) list->data,
                                                list->len);
    }

    one = cJSON_GetArrayItem(cl->parsed[row],
                             row ? item : item - cl->col.nrows);
    a = cJSON_GetObjectItemCaseSensitive(one, row ? "id" : "cluster");
    b = cJSON_GetObjectItemCaseSensitive(one, row ? "ts" : "agent");

    if (row) {
        ngx_autoscale_shm_count(cl->amcf->shm_zone, rows_dropped);
    }

    ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                  "autoscale: collection: %s of cluster \"%s\" %s \"%s\" "
                  "dropped, the database refuses it: %s",
                  row ? "the row" : "the agent report",
                  cJSON_IsString(a) ? a->valuestring : "?",
                  row ? "at" : "from",
                  cJSON_IsString(b) ? b->valuestring : "?",
                  PQresultErrorMessage(res));
}


static void
ngx_autoscale_collector_refresh(ngx_event_t *ev)
{
    ngx_autoscale_collector_t  *cl = ev->data;

    cl->refresh_at = ngx_autoscale_rows_refresh(cl->amcf->shm_zone,
                                                cl->refresh_at,
                                                NGX_AUTOSCALE_COLLECTOR_SLICE,
                                                cl->log);
    if (cl->refresh_at) {
        ngx_post_event(ev, &ngx_posted_next_events);
        return;
    }

    PQclear(cl->refresh);
    cl->refresh = NULL;
    cl->collecting = 0;
}


static void
ngx_autoscale_collector_free(ngx_autoscale_collector_t *cl)
{
    ngx_uint_t  i;

    for (i = 0; i < 2; i++) {
        cJSON_Delete(cl->parsed[i]);
        cl->parsed[i] = NULL;
    }

    ngx_autoscale_rows_free(&cl->col);
}
