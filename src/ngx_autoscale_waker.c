
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader's waker: a request held by autoscale_upstream for a cluster
 * at zero marks the cluster in the zone, and the leader scales it 0 -> 1
 * within a tick, without waiting for its next check or the cooldown.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_leader.h"
#include "ngx_autoscale_limits.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_sql_jobs.h"
#include "ngx_autoscale_waker.h"


/* ms between two looks at the zone: a held request waits at most this */
#define NGX_AUTOSCALE_WAKER_TICK  50


typedef struct {
    ngx_autoscale_leader_t    *leader;
    ngx_event_t                tick_ev;
    ngx_atomic_uint_t          wakes;      /* the zone's, when last seen */
    ngx_str_t                  params[3];  /* while a statement runs */
    unsigned                   waking:1;
} ngx_autoscale_waker_t;


static void ngx_autoscale_waker_tick(ngx_event_t *ev);
static ngx_uint_t ngx_autoscale_waker_collect(ngx_autoscale_waker_t *wk,
    u_char *p, u_char *last);
static ngx_int_t ngx_autoscale_waker_done(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_waker_take_back(ngx_autoscale_waker_t *wk,
    u_char *ids, size_t len);
static void ngx_autoscale_waker_again(ngx_autoscale_waker_t *wk);


static const char  ngx_autoscale_waker_sql[] = NGX_AUTOSCALE_SQL_WAKE;

static const char  ngx_autoscale_waker_inputs[] =
    "{\"reason\":\"a request arrived while no worker served\","
    "\"trigger\":\"request\"}";

static ngx_autoscale_waker_t  *ngx_autoscale_waker;


ngx_int_t
ngx_autoscale_waker_init(ngx_cycle_t *cycle, ngx_autoscale_leader_t *ld)
{
    ngx_autoscale_waker_t  *wk;

    wk = ngx_pcalloc(cycle->pool, sizeof(ngx_autoscale_waker_t));
    if (wk == NULL) {
        return NGX_ERROR;
    }

    wk->leader = ld;

    ngx_autoscale_leader_event(ld, &wk->tick_ev, ngx_autoscale_waker_tick,
                               wk, NGX_AUTOSCALE_WAKER_TICK);

    ngx_autoscale_waker = wk;

    return NGX_OK;
}


void
ngx_autoscale_waker_exit(void)
{
    ngx_autoscale_waker_t  *wk = ngx_autoscale_waker;

    if (wk == NULL) {
        return;
    }

    if (wk->params[0].data) {
        ngx_free(wk->params[0].data);
        wk->params[0].data = NULL;
    }

    ngx_autoscale_waker = NULL;
}


static void
ngx_autoscale_waker_tick(ngx_event_t *ev)
{
    u_char                 *p;
    size_t                  size;
    ngx_uint_t              n;
    ngx_autoscale_shm_t    *sh;
    ngx_autoscale_waker_t  *wk = ev->data;

    ngx_add_timer(&wk->tick_ev, NGX_AUTOSCALE_WAKER_TICK);

    sh = wk->leader->amcf->shm_zone->data;

    if (wk->waking || sh->wakes == wk->wakes
        || !ngx_autoscale_leader_ready(wk->leader))
    {
        return;
    }

    wk->wakes = sh->wakes;

    /* a text[] literal: ids are of A-Z, a-z, 0-9, - and _ */
    size = sizeof("{}") + sh->nclusters * (NGX_AUTOSCALE_ID_MAX + 1);

    p = ngx_alloc(size, ev->log);
    if (p == NULL) {
        return;
    }

    n = ngx_autoscale_waker_collect(wk, p, p + size);

    if (n == 0) {
        ngx_free(p);
        return;
    }

    wk->params[0].data = p;
    wk->params[0].len = ngx_strlen(p);
    wk->params[1] = wk->leader->node;
    wk->params[2].data = (u_char *) ngx_autoscale_waker_inputs;
    wk->params[2].len = sizeof(ngx_autoscale_waker_inputs) - 1;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ev->log, 0,
                   "autoscale waker: scale from zero: %V", &wk->params[0]);

    if (ngx_autoscale_pg_query(wk->leader->pool, ngx_autoscale_waker_sql, 3,
                               wk->params, ngx_autoscale_waker_done, wk)
        == NULL)
    {
        ngx_autoscale_waker_again(wk);
        return;
    }

    wk->waking = 1;
}


/* the clusters that asked, as "{a,b}" in p; their marks are taken */
static ngx_uint_t
ngx_autoscale_waker_collect(ngx_autoscale_waker_t *wk, u_char *p,
    u_char *last)
{
    ngx_uint_t                n;
    ngx_queue_t              *q;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_cluster_t  *cluster;

    sh = wk->leader->amcf->shm_zone->data;
    n = 0;

    *p++ = '{';

    ngx_autoscale_shm_lock(wk->leader->amcf->shm_zone);

    for (q = ngx_queue_head(&sh->cluster_list);
         q != ngx_queue_sentinel(&sh->cluster_list);
         q = ngx_queue_next(q))
    {
        cluster = ngx_queue_data(q, ngx_autoscale_cluster_t, queue);

        if (!cluster->wake || !ngx_atomic_cmp_set(&cluster->wake, 1, 0)) {
            continue;
        }

        if (last - p < (ssize_t) cluster->len + 3) {
            /* cannot be: room for every cluster was made */
            break;
        }

        if (n++) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, cluster->id, cluster->len);
    }

    ngx_autoscale_shm_unlock(wk->leader->amcf->shm_zone);

    *p++ = '}';
    *p = '\0';

    return n;
}


static ngx_int_t
ngx_autoscale_waker_done(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_waker_t  *wk = data;

    wk->waking = 0;

    if (status != NGX_AUTOSCALE_PG_OK) {
        ngx_autoscale_leader_job_failed(wk->leader, "scale from zero", status,
                                        res);
        ngx_autoscale_waker_again(wk);
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_NOTICE, wk->leader->log, 0,
                  "autoscale: scale from zero: %s of %V went to 1 worker",
                  PQgetvalue(res, 0, NGX_AUTOSCALE_WAKE_CHANGED),
                  &wk->params[0]);

    ngx_autoscale_shm_count(wk->leader->amcf->shm_zone, actuate_kicks);

    ngx_autoscale_waker_take_back(wk,
        (u_char *) PQgetvalue(res, 0, NGX_AUTOSCALE_WAKE_WOKEN),
        PQgetlength(res, 0, NGX_AUTOSCALE_WAKE_WOKEN));

    ngx_free(wk->params[0].data);
    wk->params[0].data = NULL;

    return NGX_OK;
}


/*
 * A woken cluster's agents still draining from its scale-down to zero are
 * its quickest worker: one is taken back, as any scale-up does
 */
static void
ngx_autoscale_waker_take_back(ngx_autoscale_waker_t *wk, u_char *ids,
    size_t len)
{
    u_char  *p, *last, *comma;

    last = ids + len;

    for (p = ids; p < last; p = comma + 1) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        (void) ngx_autoscale_shm_drain(wk->leader->amcf->shm_zone, p,
                                       comma - p, 1, NULL);
    }
}


/* the statement did not run: its clusters ask again */
static void
ngx_autoscale_waker_again(ngx_autoscale_waker_t *wk)
{
    u_char                   *p, *end, *start;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_cluster_t  *cluster;

    sh = wk->leader->amcf->shm_zone->data;

    p = wk->params[0].data + 1;
    end = wk->params[0].data + wk->params[0].len - 1;

    while (p < end) {
        start = p;

        while (p < end && *p != ',') {
            p++;
        }

        cluster = ngx_autoscale_shm_find(wk->leader->amcf->shm_zone, start,
                                         p - start, NGX_AUTOSCALE_FIND, NULL);
        if (cluster) {
            cluster->wake = 1;
        }

        p++;
    }

    (void) ngx_atomic_fetch_add(&sh->wakes, 1);

    ngx_free(wk->params[0].data);
    wk->params[0].data = NULL;
}
