
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <signal.h>

#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_window.h"


typedef ngx_int_t (*ngx_autoscale_shm_cmp_pt)(ngx_rbtree_node_t *a,
    ngx_rbtree_node_t *b);

static void ngx_autoscale_shm_cluster_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_autoscale_shm_agent_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_autoscale_shm_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel,
    ngx_autoscale_shm_cmp_pt cmp);
static ngx_int_t ngx_autoscale_shm_cluster_cmp(ngx_rbtree_node_t *a,
    ngx_rbtree_node_t *b);
static ngx_int_t ngx_autoscale_shm_agent_node_cmp(ngx_rbtree_node_t *a,
    ngx_rbtree_node_t *b);
static ngx_int_t ngx_autoscale_shm_agent_cmp(ngx_autoscale_agent_t *a,
    ngx_autoscale_cluster_t *cluster, const u_char *id, size_t len);
static void *ngx_autoscale_shm_node_alloc(ngx_shm_zone_t *shm_zone,
    size_t size);
static ngx_autoscale_agent_t *ngx_autoscale_shm_agent(
    ngx_shm_zone_t *shm_zone, ngx_autoscale_cluster_t *cluster,
    const u_char *id, size_t len, uint32_t hash);
static void ngx_autoscale_shm_unlink(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_cluster_t *cluster);
static ngx_int_t ngx_autoscale_shm_drain_cmp(const void *one,
    const void *two);
static ngx_uint_t ngx_autoscale_shm_drain_serving(
    ngx_autoscale_cluster_t *cluster);


const char *const  ngx_autoscale_agent_statuses[] = {
    "active", "idle", "busy", "failed", "stopped", "lost", NULL
};


ngx_int_t
ngx_autoscale_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t      *shpool;
    ngx_autoscale_shm_t  *sh;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data) {
        /* a reload: the zone and what it holds carry over as they are */
        sh = shpool->data;

        if (sh->layout != NGX_AUTOSCALE_SHM_LAYOUT) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "autoscale: zone \"%V\" was made by another "
                          "build of the module: restart nginx to use this "
                          "one", &shm_zone->shm.name);
            return NGX_ERROR;
        }

        shm_zone->data = sh;
        sh->generation++;

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "autoscale: zone \"%V\" kept across reload, "
                      "generation %uA", &shm_zone->shm.name, sh->generation);
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        /* Windows: attached to the master's zone */
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_autoscale_shm_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->layout = NGX_AUTOSCALE_SHM_LAYOUT;
    sh->created = ngx_time();
    sh->generation = 1;

    ngx_rbtree_init(&sh->clusters, &sh->clusters_sentinel,
                    ngx_autoscale_shm_cluster_insert);
    ngx_rbtree_init(&sh->agents, &sh->agents_sentinel,
                    ngx_autoscale_shm_agent_insert);
    ngx_queue_init(&sh->cluster_list);
    ngx_queue_init(&sh->cluster_dead);
    ngx_queue_init(&sh->cluster_free);
    ngx_queue_init(&sh->agent_list);
    ngx_queue_init(&sh->pending);

    shpool->data = sh;
    shm_zone->data = sh;

    shpool->log_ctx = ngx_slab_alloc(shpool,
                                     sizeof(" in autoscale zone \"\"")
                                     + shm_zone->shm.name.len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in autoscale zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a refusal is counted and logged once by the module, not each time */
    shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * Takes or renews the lease.  The zone's mutex is held only for these few
 * lines, never across I/O: a leader killed at any point leaves a lease
 * that simply expires, or whose holder is seen to be gone.
 */
ngx_autoscale_lease_e
ngx_autoscale_shm_lease(ngx_shm_zone_t *shm_zone, ngx_msec_t period,
    ngx_pid_t *previous)
{
    ngx_pid_t              holder;
    ngx_autoscale_shm_t   *sh;
    ngx_autoscale_lease_e  rc;

    sh = shm_zone->data;

    ngx_autoscale_shm_lock(shm_zone);

    holder = sh->leader;
    *previous = holder;

    if (holder == ngx_pid) {
        rc = NGX_AUTOSCALE_LEASE_RENEWED;

    } else if (holder == 0) {
        rc = NGX_AUTOSCALE_LEASE_VACANT;

    } else if ((ngx_msec_int_t) (ngx_current_msec - sh->lease_until) > 0) {
        rc = NGX_AUTOSCALE_LEASE_EXPIRED;

    } else if (kill(holder, 0) == -1 && ngx_errno == NGX_ESRCH) {
        rc = NGX_AUTOSCALE_LEASE_GONE;

    } else {
        ngx_autoscale_shm_unlock(shm_zone);
        return NGX_AUTOSCALE_LEASE_NONE;
    }

    if (rc != NGX_AUTOSCALE_LEASE_RENEWED) {
        sh->leader = ngx_pid;
        sh->leader_changes++;
    }

    sh->lease_until = ngx_current_msec + period;

    ngx_autoscale_shm_unlock(shm_zone);

    return rc;
}


void
ngx_autoscale_shm_release(ngx_shm_zone_t *shm_zone)
{
    ngx_autoscale_shm_t  *sh;

    sh = shm_zone->data;

    ngx_autoscale_shm_lock(shm_zone);

    if (sh->leader == ngx_pid) {
        sh->leader = 0;
    }

    ngx_autoscale_shm_unlock(shm_zone);
}


ngx_autoscale_cluster_t *
ngx_autoscale_shm_cluster(ngx_shm_zone_t *shm_zone, const u_char *id,
    size_t len, ngx_uint_t create)
{
    return ngx_autoscale_shm_find(shm_zone, id, len,
                                  create ? NGX_AUTOSCALE_MAKE
                                         : NGX_AUTOSCALE_FIND,
                                  NULL);
}


/* keyed by the id's crc32; equal keys are ordered by the ids */
ngx_autoscale_cluster_t *
ngx_autoscale_shm_cluster_locked(ngx_shm_zone_t *shm_zone, const u_char *id,
    size_t len, ngx_uint_t create)
{
    uint32_t                  hash;
    ngx_int_t                 rc;
    ngx_rbtree_node_t        *node, *sentinel;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_cluster_t  *cluster;

    sh = shm_zone->data;

    hash = ngx_crc32_short((u_char *) id, len);

    node = sh->clusters.root;
    sentinel = sh->clusters.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        cluster = (ngx_autoscale_cluster_t *) node;

        rc = ngx_memn2cmp((u_char *) id, cluster->id, len, cluster->len);

        if (rc == 0) {
            return cluster;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    if (!create) {
        return NULL;
    }

    if (!ngx_queue_empty(&sh->cluster_free)) {
        /* a reclaimed node: nothing holds it, its old gen is gone */
        cluster = ngx_queue_data(ngx_queue_head(&sh->cluster_free),
                                 ngx_autoscale_cluster_t, queue);
        ngx_queue_remove(&cluster->queue);

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                       "autoscale zone: node %p of \"%*s\" reused",
                       cluster, (size_t) cluster->len, cluster->id);

        ngx_memzero(cluster, sizeof(ngx_autoscale_cluster_t));

    } else {
        cluster = ngx_autoscale_shm_node_alloc(shm_zone,
                                               sizeof(ngx_autoscale_cluster_t));
        if (cluster == NULL) {
            ngx_autoscale_shm_full(shm_zone, "a cluster");
            return NULL;
        }
    }

    cluster->gen = ++sh->cluster_gen;
    sh->births++;
    cluster->node.key = hash;
    cluster->len = (u_char) len;
    ngx_memcpy(cluster->id, id, len);
    cluster->current_workers = -1;
    cluster->target_workers = -1;
    cluster->health_score = 1;

    /* its first window begins now */
    cluster->mark.at = ngx_current_msec;
    ngx_queue_init(&cluster->agent_queue);

    ngx_rbtree_insert(&sh->clusters, &cluster->node);
    ngx_queue_insert_tail(&sh->cluster_list, &cluster->queue);
    sh->nclusters++;

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                   "autoscale zone: node %p made for \"%*s\", gen %uA, "
                   "%ui clusters", cluster, len, id, cluster->gen,
                   sh->nclusters);

    return cluster;
}


ngx_autoscale_cluster_t *
ngx_autoscale_shm_find(ngx_shm_zone_t *shm_zone, const u_char *id,
    size_t len, ngx_autoscale_find_e how, ngx_atomic_uint_t *gen)
{
    ngx_autoscale_cluster_t  *cluster;

    ngx_autoscale_shm_lock(shm_zone);

    cluster = ngx_autoscale_shm_find_locked(shm_zone, id, len, how);

    if (cluster && gen) {
        /* read under the mutex: the node is linked, its gen not 0 */
        *gen = cluster->gen;
    }

    ngx_autoscale_shm_unlock(shm_zone);

    return cluster;
}


ngx_autoscale_cluster_t *
ngx_autoscale_shm_find_locked(ngx_shm_zone_t *shm_zone, const u_char *id,
    size_t len, ngx_autoscale_find_e how)
{
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_cluster_t  *cluster;

    sh = shm_zone->data;

    cluster = ngx_autoscale_shm_cluster_locked(shm_zone, id, len,
                                               how != NGX_AUTOSCALE_FIND
                                               && how != NGX_AUTOSCALE_GONE);
    if (cluster == NULL) {
        return NULL;
    }

    switch (how) {

    case NGX_AUTOSCALE_FIXED:
        cluster->fixed = 1;
        cluster->observed = 1;
        break;

    case NGX_AUTOSCALE_KEEP:
        cluster->fixed = 1;
        break;

    case NGX_AUTOSCALE_EXISTS:
        if (!cluster->exists) {
            /* workers' "no such cluster" answers are stale now */
            sh->births++;
        }

        cluster->exists = 1;
        cluster->absent = 0;
        break;

    case NGX_AUTOSCALE_GONE:
        cluster->exists = 0;
        break;

    default:
        break;
    }

    return cluster;
}


ngx_int_t
ngx_autoscale_shm_heartbeat(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_cluster_t *cluster, const u_char *agent_id, size_t len,
    const ngx_autoscale_report_t *report, ngx_uint_t *draining)
{
    uint32_t                hash;
    ngx_time_t             *tp;
    ngx_autoscale_shm_t    *sh;
    ngx_autoscale_agent_t  *agent;

    sh = shm_zone->data;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, cluster->id, cluster->len);
    ngx_crc32_update(&hash, (u_char *) "/", 1);
    ngx_crc32_update(&hash, (u_char *) agent_id, len);
    ngx_crc32_final(hash);

    ngx_autoscale_shm_lock(shm_zone);

    /* gen 0: reclaimed since the caller found it */
    if (!cluster->exists || cluster->gen == 0) {
        ngx_autoscale_shm_unlock(shm_zone);
        return NGX_DECLINED;
    }

    agent = ngx_autoscale_shm_agent(shm_zone, cluster, agent_id, len, hash);

    if (agent == NULL) {
        agent = ngx_autoscale_shm_node_alloc(shm_zone,
                                             sizeof(ngx_autoscale_agent_t));
        if (agent == NULL) {
            ngx_autoscale_shm_unlock(shm_zone);
            ngx_autoscale_shm_full(shm_zone, "an agent");
            return NGX_BUSY;
        }

        agent->node.key = hash;
        agent->cluster = cluster;
        agent->len = (u_char) len;
        ngx_memcpy(agent->id, agent_id, len);
        agent->started = ngx_time();

        /* its totals so far are its baseline, not this window's work */
        agent->report.tasks_completed = report->tasks_completed;
        agent->report.tasks_failed = report->tasks_failed;
        agent->status = report->status;

        ngx_rbtree_insert(&sh->agents, &agent->node);
        ngx_queue_insert_tail(&sh->agent_list, &agent->queue);
        sh->nagents++;
        cluster->agents[agent->status]++;

        ngx_rwlock_wlock(&cluster->agents_lock);
        ngx_queue_insert_tail(&cluster->agent_queue, &agent->cluster_queue);
        ngx_rwlock_unlock(&cluster->agents_lock);

        ngx_log_debug5(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                       "autoscale zone: node %p made for agent \"%*s\" "
                       "of \"%*s\"", agent, len, agent_id,
                       (size_t) cluster->len, cluster->id);
    }

    /* bounded per report, and never past a bigint: see window.h */
    agent->window_completed = ngx_autoscale_window_tasks_add(
        agent->window_completed,
        ngx_autoscale_window_tasks_step(agent->report.tasks_completed,
                                        report->tasks_completed));
    agent->window_failed = ngx_autoscale_window_tasks_add(
        agent->window_failed,
        ngx_autoscale_window_tasks_step(agent->report.tasks_failed,
                                        report->tasks_failed));

    cluster->agents[agent->status]--;
    cluster->agents[report->status]++;

    /* the balancer reads an agent's address and status under this lock */
    ngx_rwlock_wlock(&cluster->agents_lock);

    /*
     * live again after it said it stopped, or after a silence: a new
     * process under the same id, not the one that was told to drain
     */
    if (agent->draining && report->status <= NGX_AUTOSCALE_AGENT_BUSY
        && (agent->report.status == NGX_AUTOSCALE_AGENT_STOPPED
            || agent->silent))
    {
        agent->draining = 0;
        agent->started = ngx_time();
    }

    agent->report = *report;
    agent->status = report->status;
    ngx_rwlock_unlock(&cluster->agents_lock);
    agent->lost_windows = 0;
    agent->silent = 0;
    agent->dirty = 1;
    *draining = agent->draining;

    tp = ngx_timeofday();
    agent->heartbeat = tp->sec;
    agent->heartbeat_ms = tp->msec;
    agent->seen = ngx_current_msec;

    ngx_autoscale_shm_unlock(shm_zone);

    return NGX_OK;
}


static ngx_autoscale_agent_t *
ngx_autoscale_shm_agent(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_cluster_t *cluster, const u_char *id, size_t len,
    uint32_t hash)
{
    ngx_int_t               rc;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_autoscale_shm_t    *sh;
    ngx_autoscale_agent_t  *agent;

    sh = shm_zone->data;

    node = sh->agents.root;
    sentinel = sh->agents.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        agent = (ngx_autoscale_agent_t *) node;

        rc = ngx_autoscale_shm_agent_cmp(agent, cluster, id, len);

        if (rc == 0) {
            return agent;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * A zeroed node for a cluster or an agent, with the mutex held.  Nodes
 * leave a quarter of the zone free: the rows that wait for the database
 * go there, so a zone full of nodes still collects.
 */
static void *
ngx_autoscale_shm_node_alloc(ngx_shm_zone_t *shm_zone, size_t size)
{
    if (ngx_autoscale_shm_free_bytes(shm_zone) <= shm_zone->shm.size / 4) {
        return NULL;
    }

    return ngx_slab_calloc_locked((ngx_slab_pool_t *) shm_zone->shm.addr,
                                  size);
}


ngx_int_t
ngx_autoscale_shm_agent_live(ngx_autoscale_cluster_t *cluster,
    const u_char *agent_id, size_t len, ngx_autoscale_agent_live_t *live)
{
    ngx_int_t               rc;
    ngx_queue_t            *q;
    ngx_autoscale_agent_t  *agent;

    rc = NGX_DECLINED;

    ngx_rwlock_rlock(&cluster->agents_lock);

    for (q = ngx_queue_head(&cluster->agent_queue);
         q != ngx_queue_sentinel(&cluster->agent_queue);
         q = ngx_queue_next(q))
    {
        agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);

        if (agent->len == len && ngx_memcmp(agent->id, agent_id, len) == 0) {
            live->inflight = agent->inflight;
            live->requests = agent->requests;
            live->draining = agent->draining;
            rc = NGX_OK;
            break;
        }
    }

    ngx_rwlock_unlock(&cluster->agents_lock);

    return rc;
}


ngx_int_t
ngx_autoscale_shm_forget(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_agent_t *agent)
{
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_cluster_t  *cluster;

    sh = shm_zone->data;
    cluster = agent->cluster;

    /* the balancer counts a request in flight under the read lock */
    ngx_rwlock_wlock(&cluster->agents_lock);

    if (agent->inflight) {
        ngx_rwlock_unlock(&cluster->agents_lock);
        return NGX_DECLINED;
    }

    ngx_queue_remove(&agent->cluster_queue);
    ngx_rwlock_unlock(&cluster->agents_lock);

    cluster->agents[agent->status]--;
    sh->nagents--;

    ngx_rbtree_delete(&sh->agents, &agent->node);
    ngx_queue_remove(&agent->queue);

    ngx_slab_free_locked((ngx_slab_pool_t *) shm_zone->shm.addr, agent);

    return NGX_OK;
}


/* an agent that may drain, as it was when chosen */
typedef struct {
    ngx_autoscale_agent_t     *agent;
    ngx_atomic_uint_t          inflight;
    time_t                     started;
} ngx_autoscale_shm_candidate_t;


ngx_int_t
ngx_autoscale_shm_drain_choose(ngx_shm_zone_t *shm_zone, const u_char *id,
    size_t len, ngx_int_t target, ngx_str_t *json, ngx_log_t *log)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_uint_t                      i, n, size;
    ngx_queue_t                    *q;
    ngx_autoscale_agent_t          *agent;
    ngx_autoscale_cluster_t        *cluster;
    ngx_autoscale_shm_candidate_t  *cand;

    ngx_str_null(json);

    if (target < 0) {
        target = 0;
    }

    ngx_autoscale_shm_lock(shm_zone);

    cluster = ngx_autoscale_shm_find_locked(shm_zone, id, len,
                                            NGX_AUTOSCALE_FIND);

    size = cluster ? ngx_autoscale_shm_cluster_agents(cluster) : 0;

    if (size <= (ngx_uint_t) target) {
        ngx_autoscale_shm_unlock(shm_zone);
        return NGX_DECLINED;
    }

    cand = ngx_alloc(size * sizeof(ngx_autoscale_shm_candidate_t), log);
    if (cand == NULL) {
        ngx_autoscale_shm_unlock(shm_zone);
        return NGX_ERROR;
    }

    /* from the tail: of two started in the same second, the later first */
    n = 0;

    for (q = ngx_queue_last(&cluster->agent_queue);
         q != ngx_queue_sentinel(&cluster->agent_queue) && n < size;
         q = ngx_queue_prev(q))
    {
        agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);

        if (ngx_autoscale_shm_agent_serving(agent)) {
            cand[n].agent = agent;
            cand[n].inflight = agent->inflight;
            cand[n].started = agent->started;
            n++;
        }
    }

    rc = NGX_DECLINED;

    if (n > (ngx_uint_t) target) {
        ngx_sort(cand, n, sizeof(ngx_autoscale_shm_candidate_t),
                 ngx_autoscale_shm_drain_cmp);

        n -= target;

        json->data = ngx_alloc(n * (NGX_AUTOSCALE_AGENT_ID_MAX + 3) + 3,
                               log);

        if (json->data == NULL) {
            rc = NGX_ERROR;

        } else {
            /* agent ids need no escaping: see ngx_autoscale_route.c */
            p = json->data;
            *p++ = '[';

            for (i = 0; i < n; i++) {
                p = ngx_sprintf(p, "%s\"%*s\"", i ? "," : "",
                                (size_t) cand[i].agent->len,
                                cand[i].agent->id);
            }

            *p++ = ']';
            json->len = p - json->data;
            *p = '\0';
            rc = NGX_OK;
        }
    }

    ngx_autoscale_shm_unlock(shm_zone);

    ngx_free(cand);

    return rc;
}


static ngx_int_t
ngx_autoscale_shm_drain_cmp(const void *one, const void *two)
{
    const ngx_autoscale_shm_candidate_t  *a = one, *b = two;

    if (a->inflight != b->inflight) {
        return a->inflight < b->inflight ? -1 : 1;
    }

    if (a->started != b->started) {
        return a->started > b->started ? -1 : 1;
    }

    return 0;
}


ngx_uint_t
ngx_autoscale_shm_drain(ngx_shm_zone_t *shm_zone, const u_char *id,
    size_t len, ngx_int_t target, ngx_str_t *drain)
{
    u_char                   *p, *last, *name;
    ngx_uint_t                serving, changed;
    ngx_queue_t              *q;
    ngx_autoscale_agent_t    *agent, *best;
    ngx_autoscale_cluster_t  *cluster;

    changed = 0;

    ngx_autoscale_shm_lock(shm_zone);

    cluster = ngx_autoscale_shm_find_locked(shm_zone, id, len,
                                            NGX_AUTOSCALE_FIND);
    if (cluster == NULL) {
        ngx_autoscale_shm_unlock(shm_zone);
        return 0;
    }

    serving = ngx_autoscale_shm_drain_serving(cluster);

    /* the balancer reads the flag under this lock */
    ngx_rwlock_wlock(&cluster->agents_lock);

    /*
     * Another decision may have changed the agents since these were named:
     * never below the target, and a name that no longer serves is skipped.
     */
    p = drain ? drain->data : NULL;
    last = drain ? drain->data + drain->len : NULL;

    /* ids hold no quote and no escape: each is the text between two */
    while (serving > (ngx_uint_t) target) {

        name = p ? ngx_strlchr(p, last, '"') : NULL;
        p = name ? ngx_strlchr(++name, last, '"') : NULL;

        if (p == NULL) {
            break;
        }

        for (q = ngx_queue_head(&cluster->agent_queue);
             q != ngx_queue_sentinel(&cluster->agent_queue);
             q = ngx_queue_next(q))
        {
            agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);

            if (agent->len == (size_t) (p - name)
                && ngx_memcmp(agent->id, name, agent->len) == 0)
            {
                if (ngx_autoscale_shm_agent_serving(agent)) {
                    agent->draining = 1;
                    agent->dirty = 1;
                    serving--;
                    changed++;
                }

                break;
            }
        }

        p++;
    }

    /* a scale-up takes back those still at work, the busiest first */
    while (serving < (ngx_uint_t) target) {
        best = NULL;

        for (q = ngx_queue_head(&cluster->agent_queue);
             q != ngx_queue_sentinel(&cluster->agent_queue);
             q = ngx_queue_next(q))
        {
            agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);

            if (agent->draining
                && agent->status <= NGX_AUTOSCALE_AGENT_BUSY
                && agent->report.addr.socklen
                && (best == NULL || agent->inflight > best->inflight))
            {
                best = agent;
            }
        }

        if (best == NULL) {
            break;
        }

        best->draining = 0;
        best->dirty = 1;
        serving++;
        changed++;
    }

    ngx_rwlock_unlock(&cluster->agents_lock);

    ngx_autoscale_shm_unlock(shm_zone);

    return changed;
}


/* agents the balancer may send to; with the mutex held */
static ngx_uint_t
ngx_autoscale_shm_drain_serving(ngx_autoscale_cluster_t *cluster)
{
    ngx_uint_t              n;
    ngx_queue_t            *q;
    ngx_autoscale_agent_t  *agent;

    n = 0;

    for (q = ngx_queue_head(&cluster->agent_queue);
         q != ngx_queue_sentinel(&cluster->agent_queue);
         q = ngx_queue_next(q))
    {
        agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);
        n += ngx_autoscale_shm_agent_serving(agent);
    }

    return n;
}


/* a full zone is counted every time and logged once */
void
ngx_autoscale_shm_full(ngx_shm_zone_t *shm_zone, const char *what)
{
    ngx_autoscale_shm_t  *sh = shm_zone->data;

    ngx_autoscale_shm_count(shm_zone, zone_full);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                   "autoscale zone: \"%V\" full, no room for %s",
                   &shm_zone->shm.name, what);

    if (ngx_atomic_cmp_set(&sh->zone_full_logged, 0, 1)) {
        ngx_log_error(NGX_LOG_ALERT, shm_zone->shm.log, 0,
                      "autoscale: zone \"%V\" is full: no room for %s; "
                      "a larger \"autoscale_zone\" size makes room",
                      &shm_zone->shm.name, what);
    }
}


static void
ngx_autoscale_shm_cluster_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_autoscale_shm_insert(temp, node, sentinel,
                             ngx_autoscale_shm_cluster_cmp);
}


static void
ngx_autoscale_shm_agent_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_autoscale_shm_insert(temp, node, sentinel,
                             ngx_autoscale_shm_agent_node_cmp);
}


static void
ngx_autoscale_shm_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel, ngx_autoscale_shm_cmp_pt cmp)
{
    ngx_rbtree_node_t  **p;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            p = (cmp(node, temp) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* the order of (cluster id, agent id) against an agent's */
static ngx_int_t
ngx_autoscale_shm_agent_cmp(ngx_autoscale_agent_t *a,
    ngx_autoscale_cluster_t *cluster, const u_char *id, size_t len)
{
    ngx_int_t  rc;

    rc = ngx_memn2cmp(cluster->id, a->cluster->id, cluster->len,
                      a->cluster->len);
    if (rc == 0) {
        rc = ngx_memn2cmp((u_char *) id, a->id, len, a->len);
    }

    return rc;
}


static ngx_int_t
ngx_autoscale_shm_cluster_cmp(ngx_rbtree_node_t *a, ngx_rbtree_node_t *b)
{
    ngx_autoscale_cluster_t  *ca = (ngx_autoscale_cluster_t *) a;
    ngx_autoscale_cluster_t  *cb = (ngx_autoscale_cluster_t *) b;

    return ngx_memn2cmp(ca->id, cb->id, ca->len, cb->len);
}


static ngx_int_t
ngx_autoscale_shm_agent_node_cmp(ngx_rbtree_node_t *a, ngx_rbtree_node_t *b)
{
    ngx_autoscale_agent_t  *aa = (ngx_autoscale_agent_t *) a;

    return ngx_autoscale_shm_agent_cmp((ngx_autoscale_agent_t *) b,
                                       aa->cluster, aa->id, aa->len);
}


void
ngx_autoscale_shm_reclaim(ngx_shm_zone_t *shm_zone, ngx_uint_t *unlinked,
    ngx_uint_t *reusable)
{
    ngx_uint_t                i, j, n, freed;
    ngx_queue_t              *q, *next;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_agent_t    *agent;
    ngx_autoscale_ledger_t   *e;
    ngx_autoscale_cluster_t  *cluster;

    sh = shm_zone->data;

    sh->refreshes++;
    n = 0;
    *unlinked = 0;
    *reusable = 0;

    for (q = ngx_queue_head(&sh->cluster_list);
         q != ngx_queue_sentinel(&sh->cluster_list);
         q = next)
    {
        next = ngx_queue_next(q);
        cluster = ngx_queue_data(q, ngx_autoscale_cluster_t, queue);

        if (cluster->exists || cluster->fixed) {
            cluster->absent = 0;
            continue;
        }

        /* a refresh may miss a cluster made while it ran: wait for more */
        if (++cluster->absent < NGX_AUTOSCALE_UNLINK_AFTER) {
            continue;
        }

        ngx_autoscale_shm_unlink(shm_zone, cluster);
        n++;
    }

    *unlinked = n;

    if (n) {
        /* the agents of clusters just unlinked go with them */
        for (q = ngx_queue_head(&sh->agent_list);
             q != ngx_queue_sentinel(&sh->agent_list);
             q = next)
        {
            next = ngx_queue_next(q);
            agent = ngx_queue_data(q, ngx_autoscale_agent_t, queue);

            if (agent->cluster->gen != 0) {
                continue;
            }

            /*
             * never in flight: a balancer's cluster is kept, and only a
             * cluster's own agents are its peers
             */
            (void) ngx_autoscale_shm_forget(shm_zone, agent);
        }
    }

    if (ngx_queue_empty(&sh->cluster_dead)) {
        return;
    }

    /* requests in flight in a ledger, a crashed worker's included */
    for (i = 0; i < NGX_AUTOSCALE_SLOTS; i++) {
        if (sh->slots[i].ledger == NULL) {
            continue;
        }

        for (j = 0; j < NGX_AUTOSCALE_LEDGER; j++) {
            e = &sh->slots[i].ledger[j];

            if (e->cluster && e->inflight && e->cluster->gen == 0) {
                e->cluster->held = sh->refreshes;
            }
        }
    }

    freed = 0;

    for (q = ngx_queue_head(&sh->cluster_dead);
         q != ngx_queue_sentinel(&sh->cluster_dead);
         q = next)
    {
        next = ngx_queue_next(q);
        cluster = ngx_queue_data(q, ngx_autoscale_cluster_t, queue);

        /*
         * A worker that found it before it was unlinked has long counted
         * its request by now; a request still in flight, in a ledger or
         * not, keeps it until it ends.
         */
        if (sh->refreshes - cluster->dead < NGX_AUTOSCALE_REUSE_AFTER
            || cluster->held == sh->refreshes
            || (ngx_atomic_int_t) (cluster->traffic.started
                                   - cluster->traffic.finished) > 0)
        {
            continue;
        }

        ngx_queue_remove(q);
        ngx_queue_insert_tail(&sh->cluster_free, q);
        freed++;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                       "autoscale zone: node %p of \"%*s\" reclaimed, "
                       "free for reuse",
                       cluster, (size_t) cluster->len, cluster->id);
    }

    (void) ngx_atomic_fetch_add(&sh->reclaimed, freed);

    *reusable = freed;
}


/* out of lookups and collections; whoever held its gen sees it change */
static void
ngx_autoscale_shm_unlink(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_cluster_t *cluster)
{
    ngx_autoscale_shm_t  *sh = shm_zone->data;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                   "autoscale zone: node %p of \"%*s\" unlinked, absent "
                   "from %ui refreshes",
                   cluster, (size_t) cluster->len, cluster->id,
                   cluster->absent);

    cluster->gen = 0;
    cluster->dead = sh->refreshes;

    ngx_rbtree_delete(&sh->clusters, &cluster->node);
    ngx_queue_remove(&cluster->queue);
    ngx_queue_insert_tail(&sh->cluster_dead, &cluster->queue);
    sh->nclusters--;
}
