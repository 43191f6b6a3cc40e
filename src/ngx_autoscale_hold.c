
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Requests that wait in nginx before proxy_pass runs, bounded in time and
 * in how many wait, then 503 JSON:
 * - scale from zero: a request for a cluster at zero workers whose
 *   autoscale_upstream has no serving agent and no backup waits for an
 *   agent, and marks the cluster for the leader's waker;
 * - max_conns: a request that finds every agent with max_conns in flight
 *   waits for a place, so that a backlog stays in one queue that a new
 *   agent drains, not in the queues of the agents that were busy.
 * Each worker lets its own held requests go oldest first.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_hold.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_upstream.h"


/* ms between two looks for an agent while a request is held */
#define NGX_AUTOSCALE_HOLD_POLL   20


/*
 * The proxy module's location conf begins with its ngx_http_upstream_conf_t,
 * which begins with the upstream{} block proxy_pass names: how a held
 * request finds its upstream before proxy_pass runs.
 */
extern ngx_module_t  ngx_http_proxy_module;


/* a request held, or one that holds a place at an agent */
typedef struct {
    ngx_http_request_t             *request;
    ngx_autoscale_upstream_conf_t  *conf;
    ngx_autoscale_cluster_t        *cluster;
    ngx_msec_t                      deadline;
    ngx_queue_t                     queue;      /* in conf->waiting */
    ngx_autoscale_agent_t          *agent;      /* its place; NULL: none */
    ngx_autoscale_addr_t            addr;
    unsigned                        counted:1;  /* in cluster->holding */
    unsigned                        queued:1;
    unsigned                        released:1;
    unsigned                        admitted:1;
} ngx_autoscale_hold_t;


static ngx_autoscale_upstream_conf_t *ngx_autoscale_hold_upstream(
    ngx_http_request_t *r);
static ngx_autoscale_hold_t *ngx_autoscale_hold_ctx(ngx_http_request_t *r,
    ngx_autoscale_upstream_conf_t *ascf, ngx_autoscale_cluster_t *cluster);
static ngx_int_t ngx_autoscale_hold_start(ngx_http_request_t *r,
    ngx_autoscale_hold_t *hold, ngx_uint_t wake);
static void ngx_autoscale_hold_poll(ngx_http_request_t *r);
static void ngx_autoscale_hold_admit(ngx_autoscale_upstream_conf_t *ascf,
    ngx_http_request_t *r);
static void ngx_autoscale_hold_release(ngx_autoscale_hold_t *hold);
static void ngx_autoscale_hold_cleanup(void *data);
static ngx_int_t ngx_autoscale_hold_refuse(ngx_http_request_t *r,
    ngx_autoscale_upstream_conf_t *ascf, const char *why);


ngx_int_t
ngx_autoscale_hold_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_autoscale_hold_handler;

    return NGX_OK;
}


/*
 * Before proxy_pass: a request takes a place at an agent below max_conns,
 * or waits for one; a request for a cluster at zero, with no agent serving
 * and no backup, waits for an agent and wakes the leader, instead of a 502.
 */
ngx_int_t
ngx_autoscale_hold_handler(ngx_http_request_t *r)
{
    ngx_uint_t                      hold_on;
    ngx_autoscale_hold_t           *hold;
    ngx_autoscale_cluster_t        *cluster;
    ngx_autoscale_upstream_conf_t  *ascf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    hold = ngx_http_get_module_ctx(r, ngx_http_autoscale_module);

    if (hold) {
        /* back after the wait: an agent serves, or has a place for it */
        return NGX_DECLINED;
    }

    ascf = ngx_autoscale_hold_upstream(r);

    if (ascf == NULL || ascf->backup) {
        return NGX_DECLINED;
    }

    cluster = ngx_autoscale_upstream_cluster(r, ascf);

    if (cluster == NULL) {
        return NGX_DECLINED;
    }

    hold_on = (ascf->hold && ascf->hold_max);

    if (ascf->max_conns && ngx_autoscale_upstream_serving(cluster)) {
        hold = ngx_autoscale_hold_ctx(r, ascf, cluster);
        if (hold == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* nobody waits: a free place is this request's */
        if (cluster->holding == 0) {
            hold->agent = ngx_autoscale_upstream_reserve(ascf, cluster,
                                                         &hold->addr);
        }

        if (hold->agent || !hold_on) {
            /* without a wait, the balancer's pick over full agents */
            return NGX_DECLINED;
        }

        return ngx_autoscale_hold_start(r, hold, 0);
    }

    /*
     * only a cluster at zero as the last refresh saw it, or woken and not
     * served yet, may make a request wait: the others cost no walk of
     * their agents here, the balancer walks them anyway
     */
    if (!hold_on || (cluster->target_workers != 0 && !cluster->waking)) {
        return NGX_DECLINED;
    }

    if (ngx_autoscale_upstream_serving(cluster)) {
        /* served: the wake is over */
        cluster->waking = 0;
        return NGX_DECLINED;
    }

    hold = ngx_autoscale_hold_ctx(r, ascf, cluster);
    if (hold == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_hold_start(r, hold, 1);
}


/* the place at an agent this request holds, now the balancer's */
ngx_autoscale_agent_t *
ngx_autoscale_hold_take(ngx_http_request_t *r, ngx_autoscale_addr_t *addr)
{
    ngx_autoscale_agent_t  *agent;
    ngx_autoscale_hold_t   *hold;

    if (r != r->main) {
        return NULL;
    }

    hold = ngx_http_get_module_ctx(r, ngx_http_autoscale_module);

    if (hold == NULL || hold->agent == NULL) {
        return NULL;
    }

    agent = hold->agent;
    hold->agent = NULL;
    *addr = hold->addr;

    return agent;
}


/* a place came free: this worker's oldest held request looks for it */
void
ngx_autoscale_hold_kick(ngx_autoscale_upstream_conf_t *ascf)
{
    if (!ngx_queue_empty(&ascf->waiting)) {
        ngx_autoscale_hold_admit(ascf, NULL);
    }
}


/* the autoscale_upstream that proxy_pass of this location names, if any */
static ngx_autoscale_upstream_conf_t *
ngx_autoscale_hold_upstream(ngx_http_request_t *r)
{
    ngx_uint_t                       i;
    ngx_http_upstream_conf_t        *upcf;
    ngx_autoscale_upstream_conf_t  **confs;
    ngx_http_autoscale_loc_conf_t   *alcf;
    ngx_http_autoscale_main_conf_t  *amcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);

    /* this worker's answer for the location, found once */
    if (alcf->upstream_known) {
        return alcf->upstream;
    }

    alcf->upstream_known = 1;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);
    upcf = ngx_http_get_module_loc_conf(r, ngx_http_proxy_module);
    confs = amcf->upstream_confs.elts;

    for (i = 0; upcf && i < amcf->upstream_confs.nelts; i++) {
        if (confs[i]->upstream == upcf->upstream) {
            alcf->upstream = confs[i];
            break;
        }
    }

    return alcf->upstream;
}


static ngx_autoscale_hold_t *
ngx_autoscale_hold_ctx(ngx_http_request_t *r,
    ngx_autoscale_upstream_conf_t *ascf, ngx_autoscale_cluster_t *cluster)
{
    ngx_pool_cleanup_t    *cln;
    ngx_autoscale_hold_t  *hold;

    hold = ngx_pcalloc(r->pool, sizeof(ngx_autoscale_hold_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (hold == NULL || cln == NULL) {
        return NULL;
    }

    hold->request = r;
    hold->conf = ascf;
    hold->cluster = cluster;

    cln->handler = ngx_autoscale_hold_cleanup;
    cln->data = hold;

    ngx_http_set_ctx(r, hold, ngx_http_autoscale_module);

    return hold;
}


static ngx_int_t
ngx_autoscale_hold_start(ngx_http_request_t *r, ngx_autoscale_hold_t *hold,
    ngx_uint_t wake)
{
    ngx_autoscale_shm_t             *sh;
    ngx_autoscale_cluster_t         *cluster = hold->cluster;
    ngx_autoscale_upstream_conf_t   *ascf = hold->conf;
    ngx_http_autoscale_main_conf_t  *amcf;

    hold->deadline = ngx_current_msec + ascf->hold;

    if ((ngx_uint_t) ngx_atomic_fetch_add(&cluster->holding, 1)
        >= ascf->hold_max)
    {
        (void) ngx_atomic_fetch_add(&cluster->holding, (ngx_atomic_int_t) -1);
        hold->released = 1;

        return ngx_autoscale_hold_refuse(r, ascf,
                                         wake ? "too many requests wait "
                                                "for its first worker"
                                              : "too many requests wait "
                                                "for a worker");
    }

    hold->counted = 1;
    hold->queued = 1;
    ngx_queue_insert_tail(&ascf->waiting, &hold->queue);

    /* the first to wait calls the leader; later ones find it called */
    if (wake) {
        cluster->waking = 1;

        if (ngx_atomic_cmp_set(&cluster->wake, 0, 1)) {
            amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);
            sh = amcf->shm_zone->data;
            (void) ngx_atomic_fetch_add(&sh->wakes, 1);
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale upstream: \"%V\" has %s: request held "
                   "for %M ms", &ascf->cluster_id,
                   wake ? "no worker" : "no free worker", ascf->hold);

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_autoscale_hold_poll;

    r->connection->write->delayed = 1;
    ngx_add_timer(r->connection->write, NGX_AUTOSCALE_HOLD_POLL);

    return NGX_AGAIN;
}


static void
ngx_autoscale_hold_poll(ngx_http_request_t *r)
{
    ngx_event_t           *wev;
    ngx_autoscale_hold_t  *hold;

    wev = r->connection->write;

    /* a write event before the timer: keep waiting */
    if (wev->delayed) {
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    hold = ngx_http_get_module_ctx(r, ngx_http_autoscale_module);

    if (!hold->admitted) {
        ngx_autoscale_hold_admit(hold->conf, r);
    }

    if (hold->admitted) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "autoscale upstream: \"%V\" serves: request "
                       "released", &hold->conf->cluster_id);

        r->read_event_handler = ngx_http_block_reading;
        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
        return;
    }

    if ((ngx_msec_int_t) (ngx_current_msec - hold->deadline) >= 0) {
        ngx_autoscale_hold_release(hold);
        ngx_http_finalize_request(r,
            ngx_autoscale_hold_refuse(r, hold->conf,
                                      hold->conf->max_conns
                                      && ngx_autoscale_upstream_serving(
                                             hold->cluster)
                                      ? "no worker was free in time"
                                      : "no worker served in time"));
        return;
    }

    wev->delayed = 1;
    ngx_add_timer(wev, NGX_AUTOSCALE_HOLD_POLL);
}


/*
 * This worker's held requests go, oldest first, while an agent serves (or,
 * with max_conns, has a place for one more).  Each is woken by a posted
 * event, except the request r that looks.
 */
static void
ngx_autoscale_hold_admit(ngx_autoscale_upstream_conf_t *ascf,
    ngx_http_request_t *r)
{
    ngx_queue_t           *q;
    ngx_event_t           *wev;
    ngx_autoscale_hold_t  *hold;

    while (!ngx_queue_empty(&ascf->waiting)) {
        q = ngx_queue_head(&ascf->waiting);
        hold = ngx_queue_data(q, ngx_autoscale_hold_t, queue);

        if (ascf->max_conns) {
            hold->agent = ngx_autoscale_upstream_reserve(ascf, hold->cluster,
                                                         &hold->addr);
            if (hold->agent == NULL) {
                return;
            }

        } else if (!ngx_autoscale_upstream_serving(hold->cluster)) {
            return;
        }

        ngx_autoscale_hold_release(hold);
        hold->admitted = 1;

        if (hold->request == r) {
            continue;
        }

        wev = hold->request->connection->write;

        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        wev->delayed = 0;
        ngx_post_event(wev, &ngx_posted_events);
    }
}


/* out of the wait: admitted, refused, or the request ended */
static void
ngx_autoscale_hold_release(ngx_autoscale_hold_t *hold)
{
    if (hold->released) {
        return;
    }

    hold->released = 1;

    if (hold->queued) {
        hold->queued = 0;
        ngx_queue_remove(&hold->queue);
    }

    if (hold->counted) {
        (void) ngx_atomic_fetch_add(&hold->cluster->holding,
                                    (ngx_atomic_int_t) -1);
    }
}


/* the request's end: a place it took and the balancer did not use */
static void
ngx_autoscale_hold_cleanup(void *data)
{
    ngx_autoscale_hold_t  *hold = data;

    ngx_autoscale_hold_release(hold);

    if (hold->agent) {
        ngx_autoscale_upstream_unreserve(hold->agent);
        hold->agent = NULL;
    }
}


/* 503 JSON, and when to come back */
static ngx_int_t
ngx_autoscale_hold_refuse(ngx_http_request_t *r,
    ngx_autoscale_upstream_conf_t *ascf, const char *why)
{
    ngx_table_elt_t      *h;
    ngx_autoscale_err_t   err;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, "1");

    ngx_autoscale_route_set_err(&err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "NoWorker", "no worker of cluster \"%.*s\" "
                                "took the request: %s",
                                (int) ascf->cluster_id.len,
                                (char *) ascf->cluster_id.data, why);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "autoscale: request for cluster \"%V\" refused: %s",
                  &ascf->cluster_id, why);

    return ngx_autoscale_api_reply_send(r, err.status,
                                        ngx_autoscale_json_error(err.status,
                                                                 err.code,
                                                                 err.text));
}
