
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The shared zone: state that every worker of one nginx sees, kept across
 * "nginx -s reload".  The leader's lease, every cluster's live traffic
 * counters, the latest report of every agent, and the metrics rows that
 * wait for the database.
 */


#ifndef _NGX_AUTOSCALE_SHM_H_INCLUDED_
#define _NGX_AUTOSCALE_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_addr.h"
#include "ngx_autoscale_atomic.h"
#include "ngx_autoscale_limits.h"
#include "ngx_autoscale_window.h"


ngx_autoscale_require_atomic64(ngx_atomic_t);


/* agent statuses, as heartbeats report them; "lost" is the zone's own */
typedef enum {
    NGX_AUTOSCALE_AGENT_ACTIVE = 0,
    NGX_AUTOSCALE_AGENT_IDLE,
    NGX_AUTOSCALE_AGENT_BUSY,
    NGX_AUTOSCALE_AGENT_FAILED,
    NGX_AUTOSCALE_AGENT_STOPPED,
    NGX_AUTOSCALE_AGENT_LOST,
    NGX_AUTOSCALE_AGENT_NSTATUS
} ngx_autoscale_agent_status_e;

/* worker processes at once, old generations still finishing included */
#define NGX_AUTOSCALE_SLOTS          64

/* a worker's ledger: clusters it has requests in flight for */
#define NGX_AUTOSCALE_LEDGER         256     /* one page of 4k */
#define NGX_AUTOSCALE_LEDGER_PROBES  8

/*
 * A cluster that is neither in the database nor observed by a fixed id
 * leaves the zone: its node is unlinked once this many refreshes in a row
 * have not listed it, and reused for another cluster once this many more
 * have passed with nothing in flight on it.
 */
#define NGX_AUTOSCALE_UNLINK_AFTER   2
#define NGX_AUTOSCALE_REUSE_AFTER    2

/* the scaler's decisions, counted by action */
#define NGX_AUTOSCALE_NACTIONS       4

/*
 * and per cluster by action and reason: the constraint that held or
 * bounded the decision (one per constraint bit), or none
 */
#define NGX_AUTOSCALE_NREASONS       15


/*
 * Counters of observed traffic.  They only grow: the collector reads them
 * and subtracts its previous reading, so the hot path never takes a lock.
 */
typedef struct {
    ngx_atomic_t               started;
    ngx_atomic_t               finished;
    ngx_atomic_t               start_ms;      /* see ngx_autoscale_window.h */
    ngx_atomic_t               finish_ms;
    ngx_atomic_t               latency_ms;
    ngx_atomic_t               peak;          /* in flight, this window */
    ngx_atomic_t               status[6];     /* none, 1xx .. 5xx */
    ngx_atomic_t               buckets[NGX_AUTOSCALE_BUCKETS];
} ngx_autoscale_traffic_t;


/*
 * The leader's last decision on a cluster, as GET metrics shows it: what
 * the policy saw and what it did.  NaN where a value was not known.  Small
 * types: the cluster's node stays within the slab's 1k size class.
 */
typedef struct {
    time_t                     at;            /* wall clock; 0: none */
    int32_t                    status;        /* of the cluster statuses;
                                                 -1: another */
    int32_t                    policy;        /* 0 threshold, 1 target,
                                                 2 demand */
    int32_t                    action;
    int32_t                    reason;        /* 0: none, else 1 + bit */
    int32_t                    paused;
    int32_t                    min_workers;
    int32_t                    max_workers;
    int32_t                    to;
    float                      queue_length;
    float                      cpu_usage;     /* % */
    float                      load_percentage;
    float                      metrics_age;   /* s; NaN: no metrics */
    float                      up_left;       /* cooldowns' seconds left */
    float                      down_left;
    /* the demand policy's estimate, all NaN for the other policies */
    float                      arrivals;      /* per second */
    float                      service;       /* s */
    float                      backlog;
    float                      need;
    float                      window_need;
} ngx_autoscale_decided_t;


/*
 * A cluster's node.  Nodes are type-stable: a reclaimed node is only ever
 * reused as another cluster's node, never returned to the slab, so that a
 * worker still holding a pointer reads a cluster node, and tells by its
 * gen whether it is still the one it found.
 */
typedef struct {
    ngx_rbtree_node_t          node;          /* key: crc32 of the id */
    ngx_queue_t                queue;         /* linked, dead or free */
    ngx_autoscale_traffic_t    traffic;
    ngx_atomic_t               gen;           /* this life; 0: reclaimed */

    /* under the zone's mutex */
    ngx_autoscale_mark_t       mark;          /* the window's start */
    ngx_uint_t                 agents[NGX_AUTOSCALE_AGENT_NSTATUS];
    ngx_uint_t                 slot;          /* the collector's, briefly */
    ngx_uint_t                 absent;        /* refreshes in a row */
    ngx_uint_t                 dead;          /* the refresh it left at */
    ngx_uint_t                 held;          /* in a ledger at refresh */

    /*
     * its agents, for the balancer: changed with the mutex and this lock
     * taken for writing, read with only the lock taken for reading
     */
    ngx_queue_t                agent_queue;
    ngx_atomic_t               agents_lock;
    ngx_atomic_t               vtime;         /* the balancer's clock */

    /* scale from zero: requests the balancer holds, and its call */
    ngx_atomic_t               holding;
    ngx_atomic_t               wake;          /* 1: for the leader */
    ngx_atomic_t               waking;        /* 1: until an agent serves */

    /* as the last collection found it in the database */
    ngx_uint_t                 seen;          /* that collection; 0: never */
    ngx_int_t                  current_workers;     /* -1: not known */
    ngx_int_t                  target_workers;
    double                     load_percentage;
    double                     health_score;

    /* the leader's last decision, and every decision by action and
       reason: written under the mutex, the counters read without it */
    ngx_autoscale_decided_t    decided;
    uint32_t                   decisions[NGX_AUTOSCALE_NACTIONS]
                                        [NGX_AUTOSCALE_NREASONS];

    /* bytes, not bits: set by different processes without one lock */
    u_char                     observed;      /* traffic is counted for it */
    u_char                     exists;        /* in the database, not
                                                 destroyed */
    u_char                     fixed;         /* a fixed id in nginx.conf */
    u_char                     len;
    u_char                     id[NGX_AUTOSCALE_ID_MAX];
} ngx_autoscale_cluster_t;


/*
 * What one worker has in flight, per cluster.  Only the worker writes its
 * ledger; once it is gone (a crash, SIGKILL), whoever finds its slot
 * settles the requests it left in flight, so they do not stay counted.
 */
typedef struct {
    ngx_autoscale_cluster_t   *cluster;
    ngx_uint_t                 inflight;
} ngx_autoscale_ledger_t;


typedef struct {
    ngx_pid_t                  pid;
    ngx_autoscale_ledger_t    *ledger;        /* NGX_AUTOSCALE_LEDGER */
} ngx_autoscale_slot_t;


/* what a heartbeat reports; NaN for a number not sent */
typedef struct {
    ngx_autoscale_agent_status_e  status;
    double                     cpu_usage;
    double                     memory_usage;
    double                     queue_length;
    int64_t                    tasks_completed;     /* -1: not sent */
    int64_t                    tasks_failed;
    ngx_autoscale_addr_t       addr;          /* socklen 0: none sent */
    ngx_uint_t                 weight;        /* 1 .. 100 */
} ngx_autoscale_report_t;


typedef struct {
    ngx_rbtree_node_t          node;          /* key: crc32 of both ids */
    ngx_queue_t                queue;
    ngx_queue_t                cluster_queue; /* in cluster->agent_queue */
    ngx_autoscale_cluster_t   *cluster;
    ngx_autoscale_report_t     report;
    ngx_autoscale_agent_status_e  status;     /* reported, or lost */

    /* tasks reported since the window began, for tasks_per_minute */
    uint64_t                   window_completed;
    uint64_t                   window_failed;

    time_t                     heartbeat;     /* wall clock */
    ngx_msec_t                 heartbeat_ms;  /* its milliseconds */
    ngx_msec_t                 seen;          /* monotonic clock */
    ngx_uint_t                 lost_windows;  /* collections since lost */
    time_t                     started;       /* its first heartbeat */

    /* the balancer's, shared by every worker (see ngx_autoscale_upstream.c) */
    ngx_atomic_t               inflight;      /* sent it, not finished */
    ngx_atomic_t               requests;      /* sent it, ever */
    ngx_atomic_t               vtime;         /* its turn comes at */
    ngx_atomic_t               fails;         /* in a row, as max_fails */
    time_t                     accessed;      /* its last failure */
    time_t                     checked;       /* its fail_timeout began */
    u_char                     draining;      /* takes nothing new */

    unsigned                   dirty:1;       /* its row is not written */
    unsigned                   silent:1;      /* lost or stopped by silence */
    u_char                     len;
    u_char                     id[NGX_AUTOSCALE_AGENT_ID_MAX];
} ngx_autoscale_agent_t;


/* one collection's metrics rows that are not written yet, as JSON */
typedef struct {
    ngx_queue_t                queue;
    ngx_uint_t                 seq;
    ngx_uint_t                 rows;
    size_t                     len;
    u_char                     text[1];
} ngx_autoscale_batch_t;


/* a zone of another layout (another build of the module) is not reused */
#define NGX_AUTOSCALE_SHM_LAYOUT                                              \
    (0x4e475841UL ^ sizeof(ngx_autoscale_shm_t)                              \
     ^ sizeof(ngx_autoscale_cluster_t) << 16)


typedef struct {
    ngx_uint_t                 layout;        /* first, in every version */
    time_t                     created;
    ngx_atomic_t               generation;   /* configurations that used it */

    /* the leader's lease: who, and until when (ngx_current_msec) */
    ngx_pid_t                  leader;
    ngx_msec_t                 lease_until;
    ngx_atomic_t               leader_changes;

    ngx_rbtree_t               clusters;
    ngx_rbtree_node_t          clusters_sentinel;
    ngx_queue_t                cluster_list;
    ngx_uint_t                 nclusters;
    ngx_queue_t                cluster_dead;  /* unlinked, in their grace */
    ngx_queue_t                cluster_free;  /* ready for another cluster */
    ngx_atomic_t               cluster_gen;   /* the last life given */
    ngx_uint_t                 refreshes;
    /*
     * nodes made, and clusters that began to exist: each makes workers'
     * "not found" answers stale
     */
    ngx_atomic_t               births;

    ngx_rbtree_t               agents;
    ngx_rbtree_node_t          agents_sentinel;
    ngx_queue_t                agent_list;
    ngx_uint_t                 nagents;
    ngx_uint_t                 agents_resend; /* a write failed: all again */

    ngx_queue_t                pending;       /* of ngx_autoscale_batch_t */
    ngx_uint_t                 pending_rows;
    size_t                     pending_bytes;
    ngx_uint_t                 batch_seq;
    ngx_uint_t                 collections;   /* that reached the database */

    ngx_autoscale_slot_t       slots[NGX_AUTOSCALE_SLOTS];

    /* the module's own counters */
    ngx_atomic_t               abandoned;     /* settled for gone workers */
    ngx_atomic_t               observe_unknown;
    ngx_atomic_t               reclaimed;     /* nodes of gone clusters */
    ngx_atomic_t               zone_full;
    ngx_atomic_t               zone_full_logged;
    ngx_atomic_t               db_errors;
    ngx_atomic_t               rows_written;
    ngx_atomic_t               rows_dropped;
    ngx_atomic_t               decisions[NGX_AUTOSCALE_NACTIONS];

    /* clusters whose wake was set: the leader looks when this moves */
    ngx_atomic_t               wakes;

    /* autoscale_actuate: changes were written (it claims when this moves),
       its requests by result and its events by outcome */
    ngx_atomic_t               actuate_kicks;
    ngx_atomic_t               actuate_requests[3];  /* by result */
    ngx_atomic_t               actuate_events[3];    /* by outcome */
} ngx_autoscale_shm_t;


/* why a worker holds the lease after ngx_autoscale_shm_lease() */
typedef enum {
    NGX_AUTOSCALE_LEASE_NONE = 0,     /* another worker holds it */
    NGX_AUTOSCALE_LEASE_RENEWED,      /* this worker held it already */
    NGX_AUTOSCALE_LEASE_VACANT,       /* nobody held it */
    NGX_AUTOSCALE_LEASE_EXPIRED,      /* its holder did not renew it */
    NGX_AUTOSCALE_LEASE_GONE          /* its holder's process is gone */
} ngx_autoscale_lease_e;


/* what ngx_autoscale_shm_find() does besides finding the node */
typedef enum {
    NGX_AUTOSCALE_FIND = 0,           /* nothing: NULL when missing */
    NGX_AUTOSCALE_MAKE,               /* makes it when missing */
    NGX_AUTOSCALE_FIXED,              /* the same; a fixed id of nginx.conf,
                                         never reclaimed */
    NGX_AUTOSCALE_EXISTS,             /* the same; the database, or the
                                         API, says it exists */
    NGX_AUTOSCALE_KEEP,               /* made when missing, never
                                         reclaimed: a balancer's cluster */
    NGX_AUTOSCALE_GONE                /* they say it is gone (no node made) */
} ngx_autoscale_find_e;


extern const char *const  ngx_autoscale_agent_statuses[];


ngx_int_t ngx_autoscale_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data);

ngx_autoscale_lease_e ngx_autoscale_shm_lease(ngx_shm_zone_t *shm_zone,
    ngx_msec_t period, ngx_pid_t *previous);
void ngx_autoscale_shm_release(ngx_shm_zone_t *shm_zone);

/*
 * The cluster's node; with create, made when missing (NULL: the zone is
 * full, which is counted and logged once).  A pointer to a node stays a
 * pointer to some cluster's node, but it is only this cluster's while the
 * node's gen is what it was; a holder that keeps it across events checks
 * that (see ngx_autoscale_shm_find) or, like a request in flight, is
 * waited for (see ngx_autoscale_shm_reclaim).
 */
ngx_autoscale_cluster_t *ngx_autoscale_shm_cluster(ngx_shm_zone_t *shm_zone,
    const u_char *id, size_t len, ngx_uint_t create);
/* the same, with the zone's mutex held by the caller */
ngx_autoscale_cluster_t *ngx_autoscale_shm_cluster_locked(
    ngx_shm_zone_t *shm_zone, const u_char *id, size_t len,
    ngx_uint_t create);

/* the node, and with gen not NULL its gen, for a lock-free check later */
ngx_autoscale_cluster_t *ngx_autoscale_shm_find(ngx_shm_zone_t *shm_zone,
    const u_char *id, size_t len, ngx_autoscale_find_e how,
    ngx_atomic_uint_t *gen);
/* the same, with the zone's mutex held */
ngx_autoscale_cluster_t *ngx_autoscale_shm_find_locked(
    ngx_shm_zone_t *shm_zone, const u_char *id, size_t len,
    ngx_autoscale_find_e how);

/*
 * After a refresh, with the mutex held: the nodes of clusters gone long
 * enough are unlinked with their agents, and unlinked ones nothing holds
 * any longer are made ready for reuse.  How many of each.
 */
void ngx_autoscale_shm_reclaim(ngx_shm_zone_t *shm_zone,
    ngx_uint_t *unlinked, ngx_uint_t *reusable);

/*
 * Stores an agent's report: NGX_OK, NGX_DECLINED when the zone does not
 * know the cluster to exist, NGX_BUSY when the zone is full.  With NGX_OK,
 * draining says whether a scale-down chose the agent to go.
 */
ngx_int_t ngx_autoscale_shm_heartbeat(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_cluster_t *cluster, const u_char *agent_id, size_t len,
    const ngx_autoscale_report_t *report, ngx_uint_t *draining);

/*
 * With the mutex held: the agent leaves the zone; NGX_DECLINED while the
 * balancer has requests in flight on it (their ends still count on it)
 */
ngx_int_t ngx_autoscale_shm_forget(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_agent_t *agent);

/* what the balancer counts for one agent, as GET .../agents shows it */
typedef struct {
    ngx_atomic_uint_t          inflight;
    ngx_atomic_uint_t          requests;
    ngx_uint_t                 draining;
} ngx_autoscale_agent_live_t;

/* NGX_DECLINED: the zone does not hold the agent */
ngx_int_t ngx_autoscale_shm_agent_live(ngx_autoscale_cluster_t *cluster,
    const u_char *agent_id, size_t len, ngx_autoscale_agent_live_t *live);

/*
 * Scale-down: the ids of the agents to drain for the target, as a JSON
 * array in json (ngx_alloc'ed, null-terminated): those that serve beyond
 * it, fewest in flight first, then the latest started.  NGX_DECLINED:
 * none to drain.
 */
ngx_int_t ngx_autoscale_shm_drain_choose(ngx_shm_zone_t *shm_zone,
    const u_char *id, size_t len, ngx_int_t target, ngx_str_t *json,
    ngx_log_t *log);

/*
 * Once the database took a change to the target: the agents named in
 * drain (a JSON array of ids, as chosen; NULL: none) drain while more
 * than target serve, or draining ones serve again while fewer do.  How
 * many agents changed.
 */
ngx_uint_t ngx_autoscale_shm_drain(ngx_shm_zone_t *shm_zone,
    const u_char *id, size_t len, ngx_int_t target, ngx_str_t *drain);

/* whether the balancer may send the agent a new request */
#define ngx_autoscale_shm_agent_serving(agent)                                \
    ((agent)->status <= NGX_AUTOSCALE_AGENT_BUSY                              \
     && (agent)->report.addr.socklen && !(agent)->draining)

void ngx_autoscale_shm_full(ngx_shm_zone_t *shm_zone, const char *what);

/*
 * ngx_autoscale_shm_slots.c: this worker's ledger (NULL: none was free),
 * and its return at exit
 */
ngx_autoscale_ledger_t *ngx_autoscale_shm_slots_claim(
    ngx_shm_zone_t *shm_zone, ngx_log_t *log);
void ngx_autoscale_shm_slots_release(ngx_shm_zone_t *shm_zone);
/* settles the slots of workers that are gone; how many requests */
ngx_uint_t ngx_autoscale_shm_slots_sweep(ngx_shm_zone_t *shm_zone);

/* the agents the zone holds for the cluster, whatever their status */
static ngx_inline ngx_uint_t
ngx_autoscale_shm_cluster_agents(ngx_autoscale_cluster_t *cluster)
{
    ngx_uint_t  i, n;

    for (n = 0, i = 0; i < NGX_AUTOSCALE_AGENT_NSTATUS; i++) {
        n += cluster->agents[i];
    }

    return n;
}


/* bytes in the zone's free pages; with the mutex held, an exact figure */
static ngx_inline size_t
ngx_autoscale_shm_free_bytes(ngx_shm_zone_t *shm_zone)
{
    return ((ngx_slab_pool_t *) shm_zone->shm.addr)->pfree * ngx_pagesize;
}


/*
 * The zone's mutex, held for what the zone's structures say is written
 * under it; every worker of every generation takes the same one.
 */
static ngx_inline void
ngx_autoscale_shm_lock(ngx_shm_zone_t *shm_zone)
{
    ngx_shmtx_lock(&((ngx_slab_pool_t *) shm_zone->shm.addr)->mutex);
}


static ngx_inline void
ngx_autoscale_shm_unlock(ngx_shm_zone_t *shm_zone)
{
    ngx_shmtx_unlock(&((ngx_slab_pool_t *) shm_zone->shm.addr)->mutex);
}


#define ngx_autoscale_shm_count(shm_zone, counter)                          \
    (void) ngx_atomic_fetch_add(                                              \
        &((ngx_autoscale_shm_t *) (shm_zone)->data)->counter, 1)


#endif /* _NGX_AUTOSCALE_SHM_H_INCLUDED_ */
