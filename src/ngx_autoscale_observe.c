
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_limits.h"
#include "ngx_autoscale_observe.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_window.h"


typedef struct {
    ngx_http_request_t        *request;     /* the main one */
    ngx_autoscale_traffic_t   *traffic;
    ngx_autoscale_ledger_t    *entry;       /* NULL: not in the ledger */
    ngx_msec_t                 start;
} ngx_autoscale_observation_t;


/*
 * This worker's cache of $variable ids: the node each was found at, and
 * the node's gen then.  A hit whose gen still holds needs no lock; a node
 * reclaimed since has another gen (see ngx_autoscale_shm.h), so the entry
 * is looked up again.  An id the zone did not know stays unknown until the
 * zone's births change.  One entry per slot: a collision costs a lookup.
 */
#define NGX_AUTOSCALE_OBSERVE_CACHE  1024

typedef struct {
    ngx_autoscale_cluster_t   *cluster;     /* NULL: not in the zone */
    ngx_atomic_uint_t          gen;         /* or the zone's births */
    u_char                     len;
    u_char                     id[NGX_AUTOSCALE_ID_MAX];
} ngx_autoscale_observe_cached_t;


/* a fixed id that found the zone full tries again after this long */
#define NGX_AUTOSCALE_OBSERVE_RETRY  1000


/* this worker's, in the zone: what it has in flight, per cluster */
static ngx_autoscale_ledger_t  *ngx_autoscale_observe_ledger;

static ngx_autoscale_observe_cached_t
    ngx_autoscale_observe_cache[NGX_AUTOSCALE_OBSERVE_CACHE];


static ngx_int_t ngx_autoscale_observe_handler(ngx_http_request_t *r);
static ngx_autoscale_cluster_t *ngx_autoscale_observe_cluster(
    ngx_http_request_t *r, ngx_http_autoscale_main_conf_t *amcf,
    ngx_http_autoscale_loc_conf_t *alcf);
static ngx_autoscale_ledger_t *ngx_autoscale_observe_entry(
    ngx_autoscale_cluster_t *cluster);
static void ngx_autoscale_observe_done(void *data);


ngx_int_t
ngx_autoscale_observe_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * The rewrite phase runs once the location is known, and before
     * "return" of the rewrite module (a handler added later runs first).
     */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_autoscale_observe_handler;

    return NGX_OK;
}


void
ngx_autoscale_observe_process(ngx_shm_zone_t *shm_zone, ngx_array_t *ids,
    ngx_log_t *log)
{
    ngx_str_t   *id;
    ngx_uint_t   i;

    ngx_autoscale_observe_ledger = ngx_autoscale_shm_slots_claim(shm_zone,
                                                                 log);

    /* fixed ids get their nodes now, so that silence is measured too */
    id = ids->elts;

    for (i = 0; i < ids->nelts; i++) {
        (void) ngx_autoscale_shm_find(shm_zone, id[i].data, id[i].len,
                                      NGX_AUTOSCALE_FIXED, NULL);
    }
}


void
ngx_autoscale_observe_exit(ngx_shm_zone_t *shm_zone)
{
    if (ngx_autoscale_observe_ledger) {
        ngx_autoscale_shm_slots_release(shm_zone);
        ngx_autoscale_observe_ledger = NULL;
    }
}


static ngx_int_t
ngx_autoscale_observe_handler(ngx_http_request_t *r)
{
    ngx_atomic_uint_t                 inflight, peak;
    ngx_pool_cleanup_t               *cln;
    ngx_autoscale_traffic_t          *t;
    ngx_autoscale_cluster_t          *cluster;
    ngx_autoscale_observation_t      *obs;
    ngx_http_autoscale_loc_conf_t    *alcf;
    ngx_http_autoscale_main_conf_t   *amcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);

    if (alcf->observe == NULL) {
        return NGX_DECLINED;
    }

    /*
     * Once per client request: subrequests share its pool, and internal
     * redirects clear module contexts but not the pool's cleanups.
     */
    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_autoscale_observe_done) {
            return NGX_DECLINED;
        }
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    cluster = ngx_autoscale_observe_cluster(r, amcf, alcf);
    if (cluster == NULL) {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_autoscale_observation_t));
    if (cln == NULL) {
        return NGX_DECLINED;
    }

    t = &cluster->traffic;

    obs = cln->data;
    obs->request = r->main;
    obs->traffic = t;
    obs->start = ngx_current_msec;
    obs->entry = ngx_autoscale_observe_entry(cluster);

    if (obs->entry) {
        obs->entry->inflight++;
    }

    cln->handler = ngx_autoscale_observe_done;

    (void) ngx_atomic_fetch_add(&t->start_ms, obs->start);
    inflight = ngx_atomic_fetch_add(&t->started, 1) + 1 - t->finished;

    for ( ;; ) {
        peak = t->peak;

        if ((ngx_atomic_int_t) inflight <= (ngx_atomic_int_t) peak
            || ngx_atomic_cmp_set(&t->peak, peak, inflight))
        {
            break;
        }
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale observe: request counted for \"%*s\", "
                   "%uA in flight%s",
                   (size_t) cluster->len, cluster->id, inflight,
                   obs->entry ? "" : ", not in the ledger");

    return NGX_DECLINED;
}


static ngx_autoscale_cluster_t *
ngx_autoscale_observe_cluster(ngx_http_request_t *r,
    ngx_http_autoscale_main_conf_t *amcf, ngx_http_autoscale_loc_conf_t *alcf)
{
    ngx_str_t                        id;
    ngx_atomic_uint_t                gen, births;
    ngx_autoscale_shm_t             *sh;
    ngx_autoscale_cluster_t         *cluster;
    ngx_autoscale_observe_cached_t  *c;

    if (alcf->observe_id.len) {
        /* an id fixed in the configuration: never reclaimed, found once */
        if (alcf->observe_cluster == NULL) {

            /* the zone was full: not a lock per request meanwhile */
            if ((ngx_msec_int_t) (ngx_current_msec - alcf->observe_retry)
                < 0)
            {
                return NULL;
            }

            cluster = ngx_autoscale_shm_find(amcf->shm_zone,
                                             alcf->observe_id.data,
                                             alcf->observe_id.len,
                                             NGX_AUTOSCALE_FIXED, NULL);
            if (cluster == NULL) {
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "autoscale observe: no node for \"%V\", "
                               "not counted until a retry",
                               &alcf->observe_id);

                alcf->observe_retry = ngx_current_msec
                                      + NGX_AUTOSCALE_OBSERVE_RETRY;
                return NULL;
            }

            alcf->observe_cluster = cluster;
        }

        return alcf->observe_cluster;
    }

    if (ngx_http_complex_value(r, alcf->observe, &id) != NGX_OK) {
        return NULL;
    }

    if (!ngx_autoscale_route_valid_id((const char *) id.data, id.len)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "autoscale observe: invalid id \"%V\", "
                       "not counted", &id);

        ngx_autoscale_shm_count(amcf->shm_zone, observe_unknown);
        return NULL;
    }

    c = &ngx_autoscale_observe_cache[ngx_crc32_short(id.data, id.len)
                                     % NGX_AUTOSCALE_OBSERVE_CACHE];

    sh = amcf->shm_zone->data;
    births = sh->births;

    if (c->len != id.len
        || ngx_memcmp(c->id, id.data, id.len) != 0
        || (c->cluster ? c->cluster->gen : births) != c->gen)
    {
        /* only clusters the zone knows: a client cannot make it grow */
        cluster = ngx_autoscale_shm_find(amcf->shm_zone, id.data, id.len,
                                         NGX_AUTOSCALE_FIND, &gen);

        /* births read before the lookup: one during it is seen next time */
        c->cluster = cluster;
        c->gen = cluster ? gen : births;
        c->len = (u_char) id.len;
        ngx_memcpy(c->id, id.data, id.len);
    }

    cluster = c->cluster;

    if (cluster == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "autoscale observe: unknown cluster \"%V\", "
                       "not counted", &id);

        ngx_autoscale_shm_count(amcf->shm_zone, observe_unknown);
        return NULL;
    }

    if (!cluster->observed) {
        cluster->observed = 1;
    }

    return cluster;
}


/*
 * The cluster's place in this worker's ledger: a few probes from its
 * pointer's hash, taking a free place or one with nothing in flight.
 * None: the request is counted, but not settled should the worker crash.
 */
static ngx_autoscale_ledger_t *
ngx_autoscale_observe_entry(ngx_autoscale_cluster_t *cluster)
{
    ngx_uint_t               i, h;
    ngx_autoscale_ledger_t  *e, *idle;

    if (ngx_autoscale_observe_ledger == NULL) {
        return NULL;
    }

    h = ((uintptr_t) cluster / sizeof(ngx_autoscale_cluster_t));
    idle = NULL;

    for (i = 0; i < NGX_AUTOSCALE_LEDGER_PROBES; i++) {
        e = &ngx_autoscale_observe_ledger[(h + i) % NGX_AUTOSCALE_LEDGER];

        if (e->cluster == cluster) {
            return e;
        }

        if (idle == NULL && e->inflight == 0) {
            idle = e;
        }
    }

    if (idle) {
        idle->cluster = cluster;
    }

    return idle;
}


/* the request is freed: whether it was answered, aborted or timed out */
static void
ngx_autoscale_observe_done(void *data)
{
    ngx_autoscale_observation_t  *obs = data;

    ngx_uint_t                status, class;
    ngx_msec_t                now, latency;
    ngx_http_request_t       *r;
    ngx_autoscale_traffic_t  *t;

    r = obs->request;
    t = obs->traffic;

    now = ngx_current_msec;
    latency = now - obs->start;

    status = r->err_status ? r->err_status : r->headers_out.status;
    class = (status >= 100 && status < 600) ? status / 100 : 0;

    (void) ngx_atomic_fetch_add(&t->status[class], 1);
    (void) ngx_atomic_fetch_add(
               &t->buckets[ngx_autoscale_window_bucket(latency)], 1);
    (void) ngx_atomic_fetch_add(&t->latency_ms, latency);
    (void) ngx_atomic_fetch_add(&t->finish_ms, now);

    if (obs->entry) {
        obs->entry->inflight--;
    }

    /* last: what is in flight never reads below its truth */
    (void) ngx_atomic_fetch_add(&t->finished, 1);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale observe: request finished, status %ui, "
                   "%M ms", status, latency);
}
