
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * GET metrics: the Prometheus text exposition (format 0.0.4) of every
 * cluster's live counters and gauges and of the module's own counters.
 * It is read from the shared zone only: a scrape never waits for, nor
 * adds to the load of, the database.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_actuate.h"
#include "ngx_autoscale_api_prom.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_shm.h"


/* the longest sample line beside the cluster's id, with room to spare */
#define NGX_AUTOSCALE_PROM_LINE                                               \
    (128 + NGX_AUTOSCALE_ID_MAX + 2 * NGX_INT64_LEN)

/* sample lines of one cluster, at most: see the per-cluster families */
#define NGX_AUTOSCALE_PROM_CLUSTER_LINES                                      \
    (3 + 6 + NGX_AUTOSCALE_BUCKETS + 2 + NGX_AUTOSCALE_AGENT_NSTATUS + 4)

/* sample lines of the module's own families, at most */
#define NGX_AUTOSCALE_PROM_MODULE_LINES                                       \
    (16 + NGX_AUTOSCALE_NACTIONS + NGX_AUTOSCALE_ACTUATE_NRESULTS              \
     + NGX_AUTOSCALE_ACTUATE_NOUTCOMES)

/* gauges read from the database arrive as doubles: nothing wild is shown */
#define NGX_AUTOSCALE_PROM_MAX_DOUBLE    1e12

/* clusters made between the count and the copy wait for the next scrape */
#define NGX_AUTOSCALE_PROM_SPARE         64


typedef enum {
    NGX_AUTOSCALE_PROM_BUILD_INFO = 0,
    NGX_AUTOSCALE_PROM_STARTED,
    NGX_AUTOSCALE_PROM_FINISHED,
    NGX_AUTOSCALE_PROM_IN_FLIGHT,
    NGX_AUTOSCALE_PROM_RESPONSES,
    NGX_AUTOSCALE_PROM_DURATION,
    NGX_AUTOSCALE_PROM_AGENTS,
    NGX_AUTOSCALE_PROM_CURRENT,
    NGX_AUTOSCALE_PROM_TARGET,
    NGX_AUTOSCALE_PROM_LOAD,
    NGX_AUTOSCALE_PROM_HEALTH,
    NGX_AUTOSCALE_PROM_AGENT_IN_FLIGHT,
    NGX_AUTOSCALE_PROM_AGENT_REQUESTS,
    NGX_AUTOSCALE_PROM_LEADER_CHANGES,
    NGX_AUTOSCALE_PROM_DECISIONS,
    NGX_AUTOSCALE_PROM_ACTUATE_REQUESTS,
    NGX_AUTOSCALE_PROM_ACTUATE_EVENTS,
    NGX_AUTOSCALE_PROM_DB_ERRORS,
    NGX_AUTOSCALE_PROM_ROWS_WRITTEN,
    NGX_AUTOSCALE_PROM_ROWS_DROPPED,
    NGX_AUTOSCALE_PROM_ROWS_PENDING,
    NGX_AUTOSCALE_PROM_PENDING_BYTES,
    NGX_AUTOSCALE_PROM_OBSERVE_UNKNOWN,
    NGX_AUTOSCALE_PROM_ABANDONED,
    NGX_AUTOSCALE_PROM_ZONE_FULL,
    NGX_AUTOSCALE_PROM_ZONE_CLUSTERS,
    NGX_AUTOSCALE_PROM_ZONE_AGENTS,
    NGX_AUTOSCALE_PROM_ZONE_SIZE,
    NGX_AUTOSCALE_PROM_ZONE_USED,
    NGX_AUTOSCALE_PROM_NFAMILIES
} ngx_autoscale_prom_family_e;


/* a cluster as the zone had it, copied under the mutex */
typedef struct {
    ngx_autoscale_cluster_t   *cluster;      /* for the atomic counters */
    ngx_uint_t                 agents[NGX_AUTOSCALE_AGENT_NSTATUS];
    ngx_uint_t                 seen;         /* 0: not read from the
                                                database yet */
    ngx_int_t                  current_workers;
    ngx_int_t                  target_workers;
    double                     load_percentage;
    double                     health_score;
} ngx_autoscale_prom_cluster_t;


/* an upstream peer, copied under the mutex: it may leave the zone after */
typedef struct {
    ngx_atomic_uint_t          inflight;
    ngx_atomic_uint_t          requests;
    u_char                     cluster_len;
    u_char                     len;
    u_char                     cluster[NGX_AUTOSCALE_ID_MAX];
    u_char                     id[NGX_AUTOSCALE_AGENT_ID_MAX];
} ngx_autoscale_prom_agent_t;


/* the module's own figures, the ones written under the mutex */
typedef struct {
    ngx_uint_t                 pending_rows;
    size_t                     pending_bytes;
    ngx_uint_t                 nclusters;
    ngx_uint_t                 nagents;
    size_t                     free_bytes;

    ngx_autoscale_prom_agent_t *peers;        /* agents with an address */
    ngx_uint_t                 npeers;
    ngx_uint_t                 peers_size;

    ngx_autoscale_prom_decided_t *decided;    /* one a cluster of snap */
    ngx_autoscale_prom_lease_t  lease;
} ngx_autoscale_prom_zone_t;


static ngx_uint_t ngx_autoscale_api_prom_snapshot(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_prom_cluster_t *snap, ngx_uint_t size,
    ngx_autoscale_prom_zone_t *zone);
static u_char *ngx_autoscale_api_prom_clusters(u_char *p,
    ngx_autoscale_prom_cluster_t *snap, ngx_uint_t n);
static u_char *ngx_autoscale_api_prom_requests(u_char *p,
    ngx_autoscale_prom_cluster_t *snap, ngx_uint_t n, ngx_uint_t family);
static uint64_t ngx_autoscale_api_prom_count(ngx_autoscale_traffic_t *t,
    ngx_uint_t family);
static u_char *ngx_autoscale_api_prom_gauge(u_char *p,
    ngx_autoscale_prom_cluster_t *snap, ngx_uint_t n, ngx_uint_t family);
static u_char *ngx_autoscale_api_prom_histogram(u_char *p,
    ngx_autoscale_prom_cluster_t *snap, ngx_uint_t n);
static u_char *ngx_autoscale_api_prom_peers(u_char *p,
    ngx_autoscale_prom_zone_t *zone);
static u_char *ngx_autoscale_api_prom_module(u_char *p,
    ngx_shm_zone_t *shm_zone, ngx_autoscale_prom_zone_t *zone);
static u_char *ngx_autoscale_api_prom_one(u_char *p,
    ngx_autoscale_prom_family_e f, uint64_t value);
static u_char *ngx_autoscale_api_prom_head(u_char *p,
    ngx_autoscale_prom_family_e f);
static u_char *ngx_autoscale_api_prom_name(u_char *p,
    ngx_autoscale_prom_family_e f, const char *suffix,
    ngx_autoscale_prom_cluster_t *c, const char *key, const char *value);
static u_char *ngx_autoscale_api_prom_counters(u_char *p,
    ngx_autoscale_prom_family_e f, const char *key, const char *const *values,
    ngx_atomic_t *counters, ngx_uint_t n);
static u_char *ngx_autoscale_api_prom_double(u_char *p, double v);
static u_char *ngx_autoscale_api_prom_seconds(u_char *p, uint64_t ms);
static size_t ngx_autoscale_api_prom_size(ngx_uint_t nclusters,
    ngx_uint_t npeers);


static const ngx_autoscale_prom_family_t
    ngx_autoscale_prom_families[NGX_AUTOSCALE_PROM_NFAMILIES] =
{
    { "autoscale_build_info", "gauge",
      "The module's version, as a label; always 1." },

    { "autoscale_requests_started_total", "counter",
      "Requests counted by autoscale_observe for the cluster that started." },
    { "autoscale_requests_finished_total", "counter",
      "Requests counted by autoscale_observe for the cluster that finished "
      "(answered, aborted or timed out)." },
    { "autoscale_requests_in_flight", "gauge",
      "Requests counted by autoscale_observe for the cluster that started "
      "and have not finished." },
    { "autoscale_responses_total", "counter",
      "Finished observed requests by status class; class \"none\": freed "
      "without a status." },
    { "autoscale_request_duration_seconds", "histogram",
      "Time from the start of an observed request to its end, in seconds." },
    { "autoscale_agents", "gauge",
      "The cluster's agents by the status of their latest heartbeat; "
      "\"lost\": no heartbeat for 3 collect intervals." },
    { "autoscale_cluster_current_workers", "gauge",
      "The cluster's current_workers, as the latest collection read it." },
    { "autoscale_cluster_target_workers", "gauge",
      "The cluster's target_workers, as the latest collection read it." },
    { "autoscale_cluster_load_ratio", "gauge",
      "The cluster's load_percentage as a ratio (1 is 100%), as the latest "
      "collection read it." },
    { "autoscale_cluster_health_score", "gauge",
      "The cluster's health_score (0 to 1), as the latest collection read "
      "it." },

    { "autoscale_agent_requests_in_flight", "gauge",
      "Requests autoscale_upstream sent the agent that have not finished." },
    { "autoscale_agent_requests_total", "counter",
      "Requests autoscale_upstream sent the agent." },

    { "autoscale_leader_changes_total", "counter",
      "Times a worker took the lease of the leader, the first one included."
    },
    { "autoscale_scaling_decisions_total", "counter",
      "Decisions the scaler made, by action." },
    { "autoscale_actuation_requests_total", "counter",
      "Requests autoscale_actuate sent this nginx's actuation location, by "
      "result: \"success\" (a 2xx), \"failure\" (another status, or no "
      "answer), \"timeout\" (none within its timeout)." },
    { "autoscale_actuation_events_total", "counter",
      "Changes of a target that this nginx's leader settled, by outcome: "
      "\"actuated\" (a try succeeded), \"failed\" (its tries ran out), "
      "\"superseded\" (a later change made it moot before it was "
      "sent)." },
    { "autoscale_database_errors_total", "counter",
      "Queries, of the API and of the jobs, that PostgreSQL failed or that "
      "could not reach it." },
    { "autoscale_metrics_rows_written_total", "counter",
      "Metrics rows written to the database." },
    { "autoscale_metrics_rows_dropped_total", "counter",
      "Metrics rows dropped unwritten: the rows waiting for the database "
      "outgrew their share of the zone, or the database refused one "
      "for what it holds." },
    { "autoscale_metrics_rows_pending", "gauge",
      "Metrics rows waiting in the zone for the database." },
    { "autoscale_metrics_pending_bytes", "gauge",
      "Bytes of the zone that the metrics rows waiting for the database "
      "take." },
    { "autoscale_observe_unknown_total", "counter",
      "Requests that autoscale_observe did not count: the zone knows no "
      "cluster of that id." },
    { "autoscale_requests_abandoned_total", "counter",
      "Requests a worker had in flight when it died (a crash, SIGKILL), "
      "counted as finished without an answer." },
    { "autoscale_zone_full_total", "counter",
      "Allocations the shared zone refused for want of room." },
    { "autoscale_zone_clusters", "gauge",
      "Clusters the shared zone holds, destroyed ones included." },
    { "autoscale_zone_agents", "gauge",
      "Agents the shared zone holds." },
    { "autoscale_zone_size_bytes", "gauge",
      "Size of the shared zone." },
    { "autoscale_zone_used_bytes", "gauge",
      "Bytes of the shared zone not free for allocation, its own bookkeeping "
      "included." }
};


static const char *const  ngx_autoscale_prom_classes[] = {
    "none", "1xx", "2xx", "3xx", "4xx", "5xx"
};

/* in the order of NGX_AUTOSCALE_ACTUATE_SUCCESS .. and _ACTUATED .. */
static const char *const  ngx_autoscale_prom_results[] = {
    "success", "failure", "timeout"
};

static const char *const  ngx_autoscale_prom_outcomes[] = {
    "actuated", "failed", "superseded"
};


ngx_int_t
ngx_autoscale_api_prom(ngx_autoscale_api_ctx_t *ctx)
{
    size_t                           len;
    u_char                          *p;
    ngx_buf_t                       *b;
    ngx_uint_t                       n, size;
    ngx_http_request_t              *r;
    ngx_autoscale_err_t              err;
    ngx_autoscale_shm_t             *sh;
    ngx_autoscale_prom_zone_t        zone;
    ngx_autoscale_prom_cluster_t    *snap;
    ngx_http_autoscale_main_conf_t  *amcf;

    r = ctx->request;
    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    if (amcf->shm_zone == NULL || amcf->shm_zone->data == NULL) {
        ngx_autoscale_route_set_err(&err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "ZoneUnavailable",
                                    "the shared zone is not available");
        return ngx_autoscale_api_reply_error(r, &err);
    }

    sh = amcf->shm_zone->data;

    /* room for every cluster the zone has, allocated without the lock */
    size = sh->nclusters + NGX_AUTOSCALE_PROM_SPARE;

    snap = ngx_palloc(r->pool, size * sizeof(ngx_autoscale_prom_cluster_t));
    zone.peers_size = sh->nagents + NGX_AUTOSCALE_PROM_SPARE;
    zone.peers = ngx_palloc(r->pool, zone.peers_size
                                     * sizeof(ngx_autoscale_prom_agent_t));
    zone.decided = ngx_palloc(r->pool,
                              size * sizeof(ngx_autoscale_prom_decided_t));
    if (snap == NULL || zone.peers == NULL || zone.decided == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_autoscale_api_prom_snapshot(amcf->shm_zone, snap, size, &zone);

    len = ngx_autoscale_api_prom_size(n, zone.npeers)
          + ngx_autoscale_api_prom_policy_size(n);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    p = ngx_autoscale_api_prom_head(p, NGX_AUTOSCALE_PROM_BUILD_INFO);
    p = ngx_autoscale_api_prom_name(p, NGX_AUTOSCALE_PROM_BUILD_INFO, "", NULL,
                                    "version", NGX_AUTOSCALE_VERSION);
    *p++ = '1';
    *p++ = LF;

    p = ngx_autoscale_api_prom_clusters(p, snap, n);

    /* a decision older than three checks is not the leader's last word */
    p = ngx_autoscale_api_prom_policy(p, zone.decided, n,
                                      (time_t) (3 * amcf->check_interval
                                                / 1000 + 2));
    p = ngx_autoscale_api_prom_peers(p, &zone);
    p = ngx_autoscale_api_prom_module(p, amcf->shm_zone, &zone);
    p = ngx_autoscale_api_prom_policy_leader(p, &zone.lease);

    b->last = p;

    return ngx_autoscale_api_reply_send_buf(r, NGX_HTTP_OK,
                                            "text/plain; version=0.0.4; "
                                            "charset=utf-8", b);
}


/*
 * Copies what is written under the mutex: the list of clusters changes
 * under it, and so do their agents and database gauges.  The atomic
 * counters are read later, without the lock, as the collector does.
 */
static ngx_uint_t
ngx_autoscale_api_prom_snapshot(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_prom_cluster_t *snap, ngx_uint_t size,
    ngx_autoscale_prom_zone_t *zone)
{
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_autoscale_shm_t         *sh;
    ngx_autoscale_agent_t       *agent;
    ngx_autoscale_cluster_t     *cluster;
    ngx_autoscale_prom_agent_t  *peer;

    sh = shm_zone->data;
    n = 0;

    ngx_autoscale_shm_lock(shm_zone);

    for (q = ngx_queue_head(&sh->cluster_list);
         q != ngx_queue_sentinel(&sh->cluster_list) && n < size;
         q = ngx_queue_next(q))
    {
        cluster = ngx_queue_data(q, ngx_autoscale_cluster_t, queue);

        /* a destroyed cluster nobody measures any longer is not shown */
        if (!cluster->exists && !cluster->observed
            && ngx_autoscale_shm_cluster_agents(cluster) == 0)
        {
            continue;
        }

        snap[n].cluster = cluster;
        ngx_memcpy(snap[n].agents, cluster->agents, sizeof(cluster->agents));
        snap[n].seen = cluster->seen;
        snap[n].current_workers = cluster->current_workers;
        snap[n].target_workers = cluster->target_workers;
        snap[n].load_percentage = cluster->load_percentage;
        snap[n].health_score = cluster->health_score;
        zone->decided[n].cluster = cluster;
        zone->decided[n].decided = cluster->decided;
        zone->decided[n].exists = cluster->exists;
        n++;
    }

    zone->npeers = 0;

    for (q = ngx_queue_head(&sh->agent_list);
         q != ngx_queue_sentinel(&sh->agent_list)
         && zone->npeers < zone->peers_size;
         q = ngx_queue_next(q))
    {
        agent = ngx_queue_data(q, ngx_autoscale_agent_t, queue);

        if (agent->report.addr.socklen == 0 && agent->requests == 0) {
            continue;
        }

        peer = &zone->peers[zone->npeers++];
        peer->inflight = agent->inflight;
        peer->requests = agent->requests;
        peer->cluster_len = agent->cluster->len;
        peer->len = agent->len;
        ngx_memcpy(peer->cluster, agent->cluster->id, agent->cluster->len);
        ngx_memcpy(peer->id, agent->id, agent->len);
    }

    zone->pending_rows = sh->pending_rows;
    zone->pending_bytes = sh->pending_bytes;
    zone->nclusters = sh->nclusters;
    zone->nagents = sh->nagents;
    zone->free_bytes = ngx_autoscale_shm_free_bytes(shm_zone);
    zone->lease.pid = sh->leader;
    zone->lease.until = sh->lease_until;

    ngx_autoscale_shm_unlock(shm_zone);

    return n;
}


/* each family's HELP and TYPE once, then all its samples: promtool asks it */
static u_char *
ngx_autoscale_api_prom_clusters(u_char *p, ngx_autoscale_prom_cluster_t *snap,
    ngx_uint_t n)
{
    ngx_uint_t                 i, k;
    ngx_autoscale_traffic_t   *t;

    if (n == 0) {
        return p;
    }

    p = ngx_autoscale_api_prom_requests(p, snap, n,
                                        NGX_AUTOSCALE_PROM_STARTED);
    p = ngx_autoscale_api_prom_requests(p, snap, n,
                                        NGX_AUTOSCALE_PROM_FINISHED);
    p = ngx_autoscale_api_prom_requests(p, snap, n,
                                        NGX_AUTOSCALE_PROM_IN_FLIGHT);

    p = ngx_autoscale_api_prom_head(p, NGX_AUTOSCALE_PROM_RESPONSES);

    for (i = 0; i < n; i++) {
        t = &snap[i].cluster->traffic;

        for (k = 0; k < sizeof(t->status) / sizeof(t->status[0]); k++) {
            p = ngx_autoscale_api_prom_name(p, NGX_AUTOSCALE_PROM_RESPONSES, "",
                                            &snap[i], "class",
                                            ngx_autoscale_prom_classes[k]);
            p = ngx_sprintf(p, "%uL\n", (uint64_t) t->status[k]);
        }
    }

    p = ngx_autoscale_api_prom_histogram(p, snap, n);

    p = ngx_autoscale_api_prom_head(p, NGX_AUTOSCALE_PROM_AGENTS);

    for (i = 0; i < n; i++) {
        for (k = 0; k < NGX_AUTOSCALE_AGENT_NSTATUS; k++) {
            p = ngx_autoscale_api_prom_name(p, NGX_AUTOSCALE_PROM_AGENTS, "",
                                            &snap[i], "status",
                                            ngx_autoscale_agent_statuses[k]);
            p = ngx_sprintf(p, "%ui\n", snap[i].agents[k]);
        }
    }

    /* the database's gauges: none until a collection has read them */
    p = ngx_autoscale_api_prom_gauge(p, snap, n, NGX_AUTOSCALE_PROM_CURRENT);
    p = ngx_autoscale_api_prom_gauge(p, snap, n, NGX_AUTOSCALE_PROM_TARGET);
    p = ngx_autoscale_api_prom_gauge(p, snap, n, NGX_AUTOSCALE_PROM_LOAD);
    p = ngx_autoscale_api_prom_gauge(p, snap, n, NGX_AUTOSCALE_PROM_HEALTH);

    return p;
}


/* a family of request counts, read from the atomic counters without a lock */
static u_char *
ngx_autoscale_api_prom_requests(u_char *p, ngx_autoscale_prom_cluster_t *snap,
    ngx_uint_t n, ngx_uint_t family)
{
    ngx_uint_t  i;

    p = ngx_autoscale_api_prom_head(p, family);

    for (i = 0; i < n; i++) {
        p = ngx_autoscale_api_prom_name(p, family, "", &snap[i], NULL, NULL);
        p = ngx_sprintf(p, "%uL\n",
                        ngx_autoscale_api_prom_count(&snap[i].cluster->traffic,
                                                     family));
    }

    return p;
}


static uint64_t
ngx_autoscale_api_prom_count(ngx_autoscale_traffic_t *t, ngx_uint_t family)
{
    uint64_t  started, finished;

    switch (family) {

    case NGX_AUTOSCALE_PROM_STARTED:
        return t->started;

    case NGX_AUTOSCALE_PROM_FINISHED:
        return t->finished;

    default: /* NGX_AUTOSCALE_PROM_IN_FLIGHT */

        /*
         * finished before started: a request's start is counted before its
         * end, so in flight never reads below 0; clamped all the same
         */
        finished = t->finished;
        ngx_memory_barrier();
        started = t->started;

        return started > finished ? started - finished : 0;
    }
}


/*
 * One of the gauges the last collection read from the database; a value
 * not known (never read, -1 workers, or not a sane number) is left out,
 * and a family of no samples has no header either.
 */
static u_char *
ngx_autoscale_api_prom_gauge(u_char *p, ngx_autoscale_prom_cluster_t *snap,
    ngx_uint_t n, ngx_uint_t family)
{
    double                         v;
    ngx_uint_t                     i, shown;
    ngx_autoscale_prom_cluster_t  *c;

    for (shown = 0, i = 0; i < n; i++) {
        c = &snap[i];

        switch (family) {

        case NGX_AUTOSCALE_PROM_CURRENT:
            v = c->current_workers;
            break;

        case NGX_AUTOSCALE_PROM_TARGET:
            v = c->target_workers;
            break;

        case NGX_AUTOSCALE_PROM_LOAD:
            v = c->load_percentage / 100;
            break;

        default: /* NGX_AUTOSCALE_PROM_HEALTH */
            v = c->health_score;
        }

        /* NaN fails both comparisons */
        if (c->seen == 0
            || !(v >= 0 && v <= NGX_AUTOSCALE_PROM_MAX_DOUBLE))
        {
            continue;
        }

        if (shown++ == 0) {
            p = ngx_autoscale_api_prom_head(p, family);
        }

        p = ngx_autoscale_api_prom_name(p, family, "", c, NULL, NULL);

        if (family == NGX_AUTOSCALE_PROM_CURRENT
            || family == NGX_AUTOSCALE_PROM_TARGET)
        {
            p = ngx_sprintf(p, "%i\n", (ngx_int_t) v);

        } else {
            p = ngx_autoscale_api_prom_double(p, v);
        }
    }

    return p;
}


/*
 * The zone keeps a count per bucket; Prometheus wants them cumulative.
 * _count is the sum of the buckets rather than "finished", which is
 * counted after them: the +Inf bucket and _count then always agree.
 */
static u_char *
ngx_autoscale_api_prom_histogram(u_char *p, ngx_autoscale_prom_cluster_t *snap,
    ngx_uint_t n)
{
    u_char                    *e;
    uint64_t                   ms, count;
    ngx_uint_t                 i, k;
    ngx_autoscale_traffic_t   *t;
    u_char                     le[NGX_AUTOSCALE_BUCKETS][NGX_INT64_LEN + 8];

    /* bounds in seconds, as Prometheus writes them: 0.005, 0.01, 1, 2.5 */
    for (k = 0; k < NGX_AUTOSCALE_BUCKETS - 1; k++) {
        ms = ngx_autoscale_window_bucket_ms[k];

        if (ms % 1000 == 0) {
            e = ngx_sprintf(le[k], "%uL", ms / 1000);

        } else {
            e = ngx_sprintf(le[k], "%uL.%03uL", ms / 1000, ms % 1000);

            while (e[-1] == '0') {
                e--;
            }
        }

        *e = '\0';
    }

    ngx_memcpy(le[k], "+Inf", sizeof("+Inf"));

    p = ngx_autoscale_api_prom_head(p, NGX_AUTOSCALE_PROM_DURATION);

    for (i = 0; i < n; i++) {
        t = &snap[i].cluster->traffic;

        /* the sum first: it is added after the buckets */
        ms = t->latency_ms;
        ngx_memory_barrier();

        count = 0;

        for (k = 0; k < NGX_AUTOSCALE_BUCKETS; k++) {
            count += t->buckets[k];

            p = ngx_autoscale_api_prom_name(p, NGX_AUTOSCALE_PROM_DURATION,
                                            "_bucket", &snap[i], "le",
                                            (char *) le[k]);
            p = ngx_sprintf(p, "%uL\n", count);
        }

        p = ngx_autoscale_api_prom_name(p, NGX_AUTOSCALE_PROM_DURATION, "_sum",
                                        &snap[i], NULL, NULL);
        p = ngx_autoscale_api_prom_seconds(p, ms);

        p = ngx_autoscale_api_prom_name(p, NGX_AUTOSCALE_PROM_DURATION,
                                        "_count", &snap[i], NULL, NULL);
        p = ngx_sprintf(p, "%uL\n", count);
    }

    return p;
}


static u_char *
ngx_autoscale_api_prom_module(u_char *p, ngx_shm_zone_t *shm_zone,
    ngx_autoscale_prom_zone_t *zone)
{
    size_t                 size, avail;
    uint64_t               v[NGX_AUTOSCALE_PROM_NFAMILIES];
    ngx_uint_t             k, f;
    ngx_autoscale_shm_t   *sh;

    sh = shm_zone->data;

    p = ngx_autoscale_api_prom_one(p, NGX_AUTOSCALE_PROM_LEADER_CHANGES,
                                   sh->leader_changes);

    p = ngx_autoscale_api_prom_head(p, NGX_AUTOSCALE_PROM_DECISIONS);

    for (k = 0; k < NGX_AUTOSCALE_NACTIONS; k++) {
        p = ngx_autoscale_api_prom_name(p, NGX_AUTOSCALE_PROM_DECISIONS, "",
                                        NULL, "action",
                                        ngx_autoscale_policy_action_name(
                                            (ngx_autoscale_action_e) k));
        p = ngx_sprintf(p, "%uL\n", (uint64_t) sh->decisions[k]);
    }

    p = ngx_autoscale_api_prom_counters(p, NGX_AUTOSCALE_PROM_ACTUATE_REQUESTS,
                                        "result", ngx_autoscale_prom_results,
                                        sh->actuate_requests,
                                        NGX_AUTOSCALE_ACTUATE_NRESULTS);
    p = ngx_autoscale_api_prom_counters(p, NGX_AUTOSCALE_PROM_ACTUATE_EVENTS,
                                        "outcome", ngx_autoscale_prom_outcomes,
                                        sh->actuate_events,
                                        NGX_AUTOSCALE_ACTUATE_NOUTCOMES);

    /* the slab pool's header and page table count as used: never free */
    size = shm_zone->shm.size;
    avail = zone->free_bytes;

    /* the families of one sample, in the order of the enum */
    v[NGX_AUTOSCALE_PROM_DB_ERRORS] = sh->db_errors;
    v[NGX_AUTOSCALE_PROM_ROWS_WRITTEN] = sh->rows_written;
    v[NGX_AUTOSCALE_PROM_ROWS_DROPPED] = sh->rows_dropped;
    v[NGX_AUTOSCALE_PROM_ROWS_PENDING] = zone->pending_rows;
    v[NGX_AUTOSCALE_PROM_PENDING_BYTES] = zone->pending_bytes;
    v[NGX_AUTOSCALE_PROM_OBSERVE_UNKNOWN] = sh->observe_unknown;
    v[NGX_AUTOSCALE_PROM_ABANDONED] = sh->abandoned;
    v[NGX_AUTOSCALE_PROM_ZONE_FULL] = sh->zone_full;
    v[NGX_AUTOSCALE_PROM_ZONE_CLUSTERS] = zone->nclusters;
    v[NGX_AUTOSCALE_PROM_ZONE_AGENTS] = zone->nagents;
    v[NGX_AUTOSCALE_PROM_ZONE_SIZE] = size;
    v[NGX_AUTOSCALE_PROM_ZONE_USED] = size > avail ? size - avail : 0;

    for (f = NGX_AUTOSCALE_PROM_DB_ERRORS; f < NGX_AUTOSCALE_PROM_NFAMILIES;
         f++)
    {
        p = ngx_autoscale_api_prom_one(p, f, v[f]);
    }

    return p;
}


/* a family of the zone's counters, one sample for each value of its label */
static u_char *
ngx_autoscale_api_prom_counters(u_char *p, ngx_autoscale_prom_family_e f,
    const char *key, const char *const *values, ngx_atomic_t *counters,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    p = ngx_autoscale_api_prom_head(p, f);

    for (i = 0; i < n; i++) {
        p = ngx_autoscale_api_prom_name(p, f, "", NULL, key, values[i]);
        p = ngx_sprintf(p, "%uL\n", (uint64_t) counters[i]);
    }

    return p;
}


/*
 * The balancer's counts of each agent that is, or was, an upstream peer.
 * Agent ids are [A-Za-z0-9._-]: label values that need no escaping.
 */
static u_char *
ngx_autoscale_api_prom_peers(u_char *p, ngx_autoscale_prom_zone_t *zone)
{
    ngx_uint_t                   i, f;
    ngx_autoscale_prom_agent_t  *peer;

    if (zone->npeers == 0) {
        return p;
    }

    for (f = NGX_AUTOSCALE_PROM_AGENT_IN_FLIGHT;
         f <= NGX_AUTOSCALE_PROM_AGENT_REQUESTS;
         f++)
    {
        p = ngx_autoscale_api_prom_head(p, f);

        for (i = 0; i < zone->npeers; i++) {
            peer = &zone->peers[i];

            p = ngx_sprintf(p, "%s{cluster=\"%*s\",agent=\"%*s\"} %uA\n",
                            ngx_autoscale_prom_families[f].name,
                            (size_t) peer->cluster_len, peer->cluster,
                            (size_t) peer->len, peer->id,
                            f == NGX_AUTOSCALE_PROM_AGENT_IN_FLIGHT
                            ? peer->inflight : peer->requests);
        }
    }

    return p;
}


/* a family of one sample without labels */
static u_char *
ngx_autoscale_api_prom_one(u_char *p, ngx_autoscale_prom_family_e f,
    uint64_t value)
{
    p = ngx_autoscale_api_prom_head(p, f);
    p = ngx_autoscale_api_prom_name(p, f, "", NULL, NULL, NULL);

    return ngx_sprintf(p, "%uL\n", value);
}


static u_char *
ngx_autoscale_api_prom_head(u_char *p, ngx_autoscale_prom_family_e f)
{
    return ngx_autoscale_api_prom_family_head(p,
                                              &ngx_autoscale_prom_families[f]);
}


/* the help texts hold no backslash nor newline: they need no escaping */
u_char *
ngx_autoscale_api_prom_family_head(u_char *p,
    const ngx_autoscale_prom_family_t *fam)
{
    return ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n",
                       fam->name, fam->help, fam->name, fam->type);
}


size_t
ngx_autoscale_api_prom_family_heads(const ngx_autoscale_prom_family_t *fam,
    ngx_uint_t n)
{
    size_t      len;
    ngx_uint_t  i;

    for (len = 0, i = 0; i < n; i++) {
        len += sizeof("# HELP  \n# TYPE  \n") - 1 + 2 * ngx_strlen(fam[i].name)
               + ngx_strlen(fam[i].help) + ngx_strlen(fam[i].type);
    }

    return len;
}


/*
 * The sample's name and labels and the space before its value.  Label
 * values need no escaping: cluster ids are [A-Za-z0-9_-] only (the API
 * and autoscale_observe take no other), and the other values are ours.
 */
static u_char *
ngx_autoscale_api_prom_name(u_char *p, ngx_autoscale_prom_family_e f,
    const char *suffix, ngx_autoscale_prom_cluster_t *c, const char *key,
    const char *value)
{
    p = ngx_sprintf(p, "%s%s", ngx_autoscale_prom_families[f].name, suffix);

    if (c) {
        p = ngx_sprintf(p, "{cluster=\"%*s\"", (size_t) c->cluster->len,
                        c->cluster->id);
    }

    if (key) {
        p = ngx_sprintf(p, "%c%s=\"%s\"", c ? ',' : '{', key, value);
    }

    if (c || key) {
        *p++ = '}';
    }

    *p++ = ' ';

    return p;
}


static u_char *
ngx_autoscale_api_prom_double(u_char *p, double v)
{
    return ngx_sprintf(p, "%.6f\n", v);
}


/* ms as seconds, exactly: 1234 is 1.234 */
static u_char *
ngx_autoscale_api_prom_seconds(u_char *p, uint64_t ms)
{
    return ngx_sprintf(p, "%uL.%03uL\n", ms / 1000, ms % 1000);
}


/* an upper bound of the body: every family's head, every sample line */
static size_t
ngx_autoscale_api_prom_size(ngx_uint_t nclusters, ngx_uint_t npeers)
{
    size_t  len;

    len = ngx_autoscale_api_prom_family_heads(ngx_autoscale_prom_families,
                                              NGX_AUTOSCALE_PROM_NFAMILIES);

    len += (1 + NGX_AUTOSCALE_PROM_MODULE_LINES) * NGX_AUTOSCALE_PROM_LINE;
    len += nclusters * NGX_AUTOSCALE_PROM_CLUSTER_LINES
           * NGX_AUTOSCALE_PROM_LINE;
    len += npeers * 2 * (NGX_AUTOSCALE_PROM_LINE + NGX_AUTOSCALE_AGENT_ID_MAX);

    return len;
}
