
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>

#include "ngx_autoscale_rows.h"
#include "ngx_autoscale_addr.h"
#include "ngx_autoscale_limits.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"


/* an agent silent this many collect intervals is lost */
#define NGX_AUTOSCALE_LOST_AFTER     3

/* and leaves the zone this many collections later, its row written */
#define NGX_AUTOSCALE_FORGET_AFTER   10


typedef struct {
    ngx_autoscale_window_t     w;
    uint64_t                   peak;
    ngx_uint_t                 observed;
    ngx_uint_t                 agents[NGX_AUTOSCALE_AGENT_NSTATUS];
    ngx_uint_t                 live;
    ngx_uint_t                 known;         /* agents of any status */
    double                     cpu, memory, queue;
    ngx_uint_t                 ncpu, nmemory, nqueue;
    uint64_t                   done, fail;
    u_char                     id[NGX_AUTOSCALE_ID_MAX];
    size_t                     len;
} ngx_autoscale_record_t;


static void ngx_autoscale_rows_cluster(ngx_autoscale_cluster_t *cluster,
    ngx_autoscale_record_t *rec, ngx_msec_t now);
static void ngx_autoscale_rows_agents(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_record_t *recs, ngx_msec_t now, ngx_msec_t interval);
static void ngx_autoscale_rows_status(ngx_autoscale_agent_t *agent,
    ngx_autoscale_agent_status_e status);
static u_char *ngx_autoscale_rows_format_row(u_char *p,
    ngx_autoscale_record_t *rec, u_char *ts);
static u_char *ngx_autoscale_rows_number(u_char *p, const char *name,
    double sum, ngx_uint_t n);
static ngx_int_t ngx_autoscale_rows_queue(ngx_shm_zone_t *shm_zone,
    u_char *text, size_t len, ngx_uint_t rows, ngx_log_t *log);
static void ngx_autoscale_rows_unqueue(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_batch_t *batch);
static u_char *ngx_autoscale_rows_time(u_char *p, time_t sec,
    ngx_msec_t msec);


/* per record: fixed text, numbers and the id */
#define NGX_AUTOSCALE_RECORD_LEN                                              \
    (512 + 20 * NGX_INT64_LEN + NGX_AUTOSCALE_ID_MAX)

#define NGX_AUTOSCALE_AGENT_LEN                                               \
    (256 + 9 * NGX_INT64_LEN + NGX_AUTOSCALE_ID_MAX                           \
     + NGX_AUTOSCALE_AGENT_ID_MAX + NGX_AUTOSCALE_ADDR_MAX)


ngx_int_t
ngx_autoscale_rows_window(ngx_shm_zone_t *shm_zone, ngx_msec_t interval,
    ngx_autoscale_window_rows_t *rows, ngx_log_t *log)
{
    ngx_uint_t                n, size;
    ngx_msec_t                now;
    ngx_time_t               *tp;
    ngx_queue_t              *q;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_record_t   *recs;
    ngx_autoscale_cluster_t  *cluster;

    sh = shm_zone->data;

    ngx_memzero(rows, sizeof(ngx_autoscale_window_rows_t));

    /* room for every cluster the zone has, allocated without the lock */
    size = sh->nclusters + 64;

    recs = ngx_alloc(size * sizeof(ngx_autoscale_record_t), log);
    if (recs == NULL) {
        return NGX_ERROR;
    }

    ngx_autoscale_shm_lock(shm_zone);

    now = ngx_current_msec;
    tp = ngx_timeofday();
    n = 0;

    for (q = ngx_queue_head(&sh->cluster_list);
         q != ngx_queue_sentinel(&sh->cluster_list);
         q = ngx_queue_next(q))
    {
        cluster = ngx_queue_data(q, ngx_autoscale_cluster_t, queue);
        cluster->slot = NGX_MAX_UINT32_VALUE;

        if (n == size || (ngx_msec_int_t) (now - cluster->mark.at) <= 0) {
            /* made since the count, or this very millisecond: next time */
            continue;
        }

        ngx_autoscale_rows_cluster(cluster, &recs[n], now);

        /* a cluster nobody measures has no row: metrics are not invented */
        if (recs[n].observed || ngx_autoscale_shm_cluster_agents(cluster)) {
            cluster->slot = n++;
        }
    }

    ngx_autoscale_rows_agents(shm_zone, recs, now, interval);

    ngx_autoscale_shm_unlock(shm_zone);

    (void) ngx_autoscale_rows_time(rows->ts, tp->sec, tp->msec);

    rows->records = recs;
    rows->nrecords = n;

    return NGX_OK;
}


/*
 * Up to max of the window's rows as JSON, queued as one batch: a large
 * fleet is formatted over several turns of the event loop.
 */
ngx_int_t
ngx_autoscale_rows_format(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_window_rows_t *rows, ngx_uint_t max, ngx_log_t *log)
{
    u_char                  *text, *p;
    ngx_int_t                rc;
    ngx_uint_t               i, n;
    ngx_autoscale_record_t  *recs = rows->records;

    n = ngx_min(max, rows->nrecords - rows->formatted);

    if (n == 0) {
        ngx_autoscale_rows_discard(rows);
        return NGX_OK;
    }

    text = ngx_alloc(n * NGX_AUTOSCALE_RECORD_LEN, log);
    if (text == NULL) {
        ngx_autoscale_rows_discard(rows);
        return NGX_ERROR;
    }

    p = text;

    for (i = rows->formatted; i < rows->formatted + n; i++) {
        if (p != text) {
            *p++ = ',';
        }

        p = ngx_autoscale_rows_format_row(p, &recs[i], rows->ts);
    }

    rows->formatted += n;

    rc = ngx_autoscale_rows_queue(shm_zone, text, p - text, n, log);

    ngx_free(text);

    if (rc != NGX_OK || rows->formatted == rows->nrecords) {
        ngx_autoscale_rows_discard(rows);
        return rc;
    }

    return NGX_AGAIN;
}


void
ngx_autoscale_rows_discard(ngx_autoscale_window_rows_t *rows)
{
    if (rows->records) {
        ngx_free(rows->records);
    }

    rows->records = NULL;
    rows->nrecords = 0;
    rows->formatted = 0;
}


/* the cluster's window ends now and the next begins; the zone is locked */
static void
ngx_autoscale_rows_cluster(ngx_autoscale_cluster_t *cluster,
    ngx_autoscale_record_t *rec, ngx_msec_t now)
{
    ngx_autoscale_mark_t      mark;
    ngx_autoscale_traffic_t  *t = &cluster->traffic;

    ngx_memzero(rec, sizeof(ngx_autoscale_record_t));

    rec->observed = cluster->observed;
    rec->len = cluster->len;
    ngx_memcpy(rec->id, cluster->id, cluster->len);

    /* finished before started: in flight never reads below its truth */
    mark.at = now;
    mark.finished = t->finished;
    mark.finish_ms = t->finish_ms;
    mark.latency_ms = t->latency_ms;
    mark.errors_5xx = t->status[5];
    mark.started = t->started;
    mark.start_ms = t->start_ms;

    (void) ngx_autoscale_window(&cluster->mark, &mark, &rec->w);

    rec->peak = ngx_max(t->peak, rec->w.inflight_end);

    /* the next window's peak starts from what is in flight now */
    t->peak = rec->w.inflight_end;

    cluster->mark = mark;
}


/*
 * Each agent's report joins its cluster's record; silent agents become
 * lost, and long-lost or stopped ones leave the zone once written.
 */
static void
ngx_autoscale_rows_agents(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_record_t *recs, ngx_msec_t now, ngx_msec_t interval)
{
    ngx_queue_t              *q, *next;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_agent_t    *agent;
    ngx_autoscale_record_t   *rec;
    ngx_autoscale_cluster_t  *cluster;

    sh = shm_zone->data;

    for (q = ngx_queue_head(&sh->agent_list);
         q != ngx_queue_sentinel(&sh->agent_list);
         q = next)
    {
        next = ngx_queue_next(q);

        agent = ngx_queue_data(q, ngx_autoscale_agent_t, queue);
        cluster = agent->cluster;

        /* signed: another worker may have stamped a later millisecond */
        if ((ngx_msec_int_t) (now - agent->seen)
            >= (ngx_msec_int_t) (NGX_AUTOSCALE_LOST_AFTER * interval))
        {

            if (agent->status != NGX_AUTOSCALE_AGENT_LOST
                && agent->status != NGX_AUTOSCALE_AGENT_STOPPED)
            {
                /* told to go, it went */
                ngx_autoscale_rows_status(agent, agent->draining
                                          ? NGX_AUTOSCALE_AGENT_STOPPED
                                          : NGX_AUTOSCALE_AGENT_LOST);
                agent->silent = 1;

            } else if (++agent->lost_windows > NGX_AUTOSCALE_FORGET_AFTER
                       && !agent->dirty && !sh->agents_resend)
            {
                if (ngx_autoscale_shm_forget(shm_zone, agent) == NGX_OK) {
                    continue;
                }
            }
        }

        /* a drained agent with nothing left to do is done */
        if (agent->draining
            && agent->status <= NGX_AUTOSCALE_AGENT_BUSY
            && agent->inflight == 0
            && (isnan(agent->report.queue_length)
                || agent->report.queue_length == 0))
        {
            ngx_autoscale_rows_status(agent, NGX_AUTOSCALE_AGENT_STOPPED);
        }

        if (cluster->slot == NGX_MAX_UINT32_VALUE) {
            continue;
        }

        rec = &recs[cluster->slot];

        rec->agents[agent->status]++;
        rec->known++;
        /* many agents' sums stop at a bigint too */
        rec->done = ngx_autoscale_window_tasks_add(rec->done,
                                                   agent->window_completed);
        rec->fail = ngx_autoscale_window_tasks_add(rec->fail,
                                                   agent->window_failed);
        agent->window_completed = 0;
        agent->window_failed = 0;

        if (agent->status > NGX_AUTOSCALE_AGENT_BUSY) {
            continue;
        }

        /* active, idle or busy, and heard from: live */
        rec->live++;

        if (!isnan(agent->report.cpu_usage)) {
            rec->cpu += agent->report.cpu_usage;
            rec->ncpu++;
        }

        if (!isnan(agent->report.memory_usage)) {
            rec->memory += agent->report.memory_usage;
            rec->nmemory++;
        }

        if (!isnan(agent->report.queue_length)) {
            rec->queue += agent->report.queue_length;
            rec->nqueue++;
        }
    }
}


/* the collector's own verdict on an agent, with the mutex held */
static void
ngx_autoscale_rows_status(ngx_autoscale_agent_t *agent,
    ngx_autoscale_agent_status_e status)
{
    ngx_autoscale_cluster_t  *cluster = agent->cluster;

    cluster->agents[agent->status]--;
    cluster->agents[status]++;

    ngx_rwlock_wlock(&cluster->agents_lock);
    agent->status = status;
    ngx_rwlock_unlock(&cluster->agents_lock);

    agent->dirty = 1;
}


static u_char *
ngx_autoscale_rows_format_row(u_char *p, ngx_autoscale_record_t *rec,
    u_char *ts)
{
    p = ngx_sprintf(p, "{\"id\":\"%*s\",\"ts\":\"%s\",\"secs\":%.3f,"
                    "\"started\":%uL,\"finished\":%uL,\"avg\":%.6f,"
                    "\"peak\":%uL,\"lat\":%uL,\"e5\":%uL,"
                    "\"live\":%ui,\"active\":%ui,\"idle\":%ui,\"busy\":%ui,"
                    "\"failed\":%ui,\"done\":%uL,\"fail\":%uL",
                    rec->len, rec->id, ts, rec->w.seconds,
                    rec->w.started, rec->w.finished, rec->w.inflight_avg,
                    rec->peak, rec->w.latency_ms, rec->w.errors_5xx,
                    rec->live, rec->agents[NGX_AUTOSCALE_AGENT_ACTIVE],
                    rec->agents[NGX_AUTOSCALE_AGENT_IDLE],
                    rec->agents[NGX_AUTOSCALE_AGENT_BUSY],
                    rec->agents[NGX_AUTOSCALE_AGENT_FAILED]
                    + rec->agents[NGX_AUTOSCALE_AGENT_LOST],
                    rec->done, rec->fail);

    /*
     * the workers that run: live agents, draining ones until they stop;
     * null: no agent reports for the cluster, so none counts its workers
     */
    p = rec->known ? ngx_sprintf(p, ",\"running\":%ui", rec->live)
                   : ngx_sprintf(p, ",\"running\":null");

    /* means of what live agents reported; queue is their sum */
    p = ngx_autoscale_rows_number(p, "cpu", rec->cpu, rec->ncpu);
    p = ngx_autoscale_rows_number(p, "mem", rec->memory, rec->nmemory);
    p = ngx_autoscale_rows_number(p, "queue", rec->queue,
                                  rec->nqueue ? 1 : 0);

    *p++ = '}';

    return p;
}


static u_char *
ngx_autoscale_rows_number(u_char *p, const char *name, double sum,
    ngx_uint_t n)
{
    if (n == 0) {
        return ngx_sprintf(p, ",\"%s\":null", name);
    }

    return ngx_sprintf(p, ",\"%s\":%.6f", name, sum / n);
}


/*
 * The batch joins the queue.  The queue holds at most a quarter of the
 * zone; beyond that the oldest rows give way, counted and logged.
 */
static ngx_int_t
ngx_autoscale_rows_queue(ngx_shm_zone_t *shm_zone, u_char *text,
    size_t len, ngx_uint_t rows, ngx_log_t *log)
{
    size_t                  limit;
    ngx_uint_t              dropped, refused;
    ngx_queue_t            *q;
    ngx_slab_pool_t        *shpool;
    ngx_autoscale_shm_t    *sh;
    ngx_autoscale_batch_t  *batch, *old;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    sh = shm_zone->data;

    limit = shm_zone->shm.size / 4;
    dropped = 0;
    refused = 0;

    ngx_autoscale_shm_lock(shm_zone);

    for ( ;; ) {
        batch = NULL;

        if (sh->pending_bytes + len <= limit) {
            batch = ngx_slab_alloc_locked(shpool,
                                          sizeof(ngx_autoscale_batch_t) + len);
            if (batch) {
                break;
            }

            /* within the bound, but the zone itself is full */
            refused = 1;
        }

        if (ngx_queue_empty(&sh->pending)) {
            break;
        }

        q = ngx_queue_head(&sh->pending);
        old = ngx_queue_data(q, ngx_autoscale_batch_t, queue);

        dropped += old->rows;
        ngx_autoscale_rows_unqueue(shm_zone, old);
    }

    if (batch) {
        batch->seq = ++sh->batch_seq;
        batch->rows = rows;
        batch->len = len;
        ngx_memcpy(batch->text, text, len);

        ngx_queue_insert_tail(&sh->pending, &batch->queue);
        sh->pending_rows += rows;
        sh->pending_bytes += len;

    } else {
        dropped += rows;
    }

    ngx_autoscale_shm_unlock(shm_zone);

    if (refused) {
        ngx_autoscale_shm_full(shm_zone, "a window's metrics rows");
    }

    if (dropped) {
        (void) ngx_atomic_fetch_add(&sh->rows_dropped, dropped);

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "autoscale: %ui metrics rows dropped: the rows waiting "
                      "for the database outgrew %s zone \"%V\"",
                      dropped, refused ? "the room left in" : "a quarter of",
                      &shm_zone->shm.name);
    }

    return NGX_OK;
}


ngx_int_t
ngx_autoscale_rows_params(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_collection_t *col, ngx_log_t *log)
{
    u_char                 *p;
    size_t                  size;
    ngx_queue_t            *q;
    ngx_autoscale_shm_t    *sh;
    ngx_autoscale_agent_t  *agent;
    ngx_autoscale_batch_t  *batch;

    sh = shm_zone->data;

    ngx_memzero(col, sizeof(ngx_autoscale_collection_t));

    ngx_autoscale_shm_lock(shm_zone);

    /* the batches, a comma between each two, and the brackets */
    col->rows.data = ngx_alloc(sh->pending_bytes + sh->pending_rows + 2, log);
    size = sh->nagents * NGX_AUTOSCALE_AGENT_LEN + 2;
    col->agents.data = ngx_alloc(size, log);

    if (col->rows.data == NULL || col->agents.data == NULL) {
        ngx_autoscale_shm_unlock(shm_zone);
        ngx_autoscale_rows_free(col);
        return NGX_ERROR;
    }

    p = col->rows.data;
    *p++ = '[';

    for (q = ngx_queue_head(&sh->pending);
         q != ngx_queue_sentinel(&sh->pending);
         q = ngx_queue_next(q))
    {
        batch = ngx_queue_data(q, ngx_autoscale_batch_t, queue);

        if (p != col->rows.data + 1) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, batch->text, batch->len);
        col->nrows += batch->rows;
        col->last_seq = batch->seq;
    }

    *p++ = ']';
    col->rows.len = p - col->rows.data;

    p = col->agents.data;
    *p++ = '[';

    for (q = ngx_queue_head(&sh->agent_list);
         q != ngx_queue_sentinel(&sh->agent_list);
         q = ngx_queue_next(q))
    {
        agent = ngx_queue_data(q, ngx_autoscale_agent_t, queue);

        if (!agent->dirty && !sh->agents_resend) {
            continue;
        }

        agent->dirty = 0;

        if (col->nagents++) {
            *p++ = ',';
        }

        p = ngx_sprintf(p, "{\"cluster\":\"%*s\",\"agent\":\"%*s\","
                        "\"status\":\"%s\",\"done\":%L,\"fail\":%L,"
                        "\"weight\":%ui,\"addr\":",
                        (size_t) agent->cluster->len, agent->cluster->id,
                        (size_t) agent->len, agent->id,
                        (agent->draining
                         && agent->status <= NGX_AUTOSCALE_AGENT_BUSY)
                        ? "draining"
                        : ngx_autoscale_agent_statuses[agent->status],
                        ngx_max(agent->report.tasks_completed, 0),
                        ngx_max(agent->report.tasks_failed, 0),
                        agent->report.weight);

        /* a parsed literal: nothing in it needs escaping */
        if (agent->report.addr.socklen) {
            p = ngx_sprintf(p, "\"%*s\"", (size_t) agent->report.addr.len,
                            agent->report.addr.text);

        } else {
            p = ngx_cpymem(p, "null", 4);
        }

        p = ngx_cpymem(p, ",\"hb\":\"", 7);

        p = ngx_autoscale_rows_time(p, agent->heartbeat,
                                    agent->heartbeat_ms);
        *p++ = '"';

        p = ngx_autoscale_rows_number(p, "cpu", agent->report.cpu_usage,
                                      !isnan(agent->report.cpu_usage));
        p = ngx_autoscale_rows_number(p, "mem",
                                      agent->report.memory_usage,
                                      !isnan(agent->report.memory_usage));
        p = ngx_autoscale_rows_number(p, "queue",
                                      agent->report.queue_length,
                                      !isnan(agent->report.queue_length));
        *p++ = '}';
    }

    sh->agents_resend = 0;

    ngx_autoscale_shm_unlock(shm_zone);

    *p++ = ']';
    col->agents.len = p - col->agents.data;

    return NGX_OK;
}


void
ngx_autoscale_rows_free(ngx_autoscale_collection_t *col)
{
    if (col->rows.data) {
        ngx_free(col->rows.data);
    }

    if (col->agents.data) {
        ngx_free(col->agents.data);
    }

    ngx_memzero(col, sizeof(ngx_autoscale_collection_t));
}


void
ngx_autoscale_rows_written(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_collection_t *col)
{
    ngx_queue_t            *q;
    ngx_autoscale_shm_t    *sh;
    ngx_autoscale_batch_t  *batch;

    sh = shm_zone->data;

    ngx_autoscale_shm_lock(shm_zone);

    /* by sequence: a batch another leader wrote meanwhile is gone already */
    while (!ngx_queue_empty(&sh->pending)) {
        q = ngx_queue_head(&sh->pending);
        batch = ngx_queue_data(q, ngx_autoscale_batch_t, queue);

        if (batch->seq > col->last_seq) {
            break;
        }

        ngx_autoscale_rows_unqueue(shm_zone, batch);
    }

    sh->collections++;

    ngx_autoscale_shm_unlock(shm_zone);
}


void
ngx_autoscale_rows_failed(ngx_shm_zone_t *shm_zone)
{
    ngx_autoscale_shm_t  *sh = shm_zone->data;

    /* latest-wins state: writing every agent again loses nothing */
    sh->agents_resend = 1;
}


/*
 * "id current target load health,...": what the database now says of
 * every cluster that is not destroyed, max of them a call; returns where
 * to go on, or NULL at the end.  Clusters the zone has not met get a node,
 * so that their traffic and heartbeats count from now on.
 */
const char *
ngx_autoscale_rows_refresh(ngx_shm_zone_t *shm_zone, const char *p,
    ngx_uint_t max, ngx_log_t *log)
{
    char                     *end;
    size_t                    len;
    ngx_uint_t                seen, n, reusable;
    const char               *id;
    ngx_queue_t              *q;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_cluster_t  *cluster;

    sh = shm_zone->data;

    seen = sh->collections;

    for (n = 0; *p && n < max; n++) {
        id = p;
        while (*p && *p != ' ') {
            p++;
        }

        len = p - id;

        if (*p != ' ' || !ngx_autoscale_route_valid_id(id, len)) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "autoscale: unexpected cluster list from the "
                          "database");
            return NULL;
        }

        ngx_autoscale_shm_lock(shm_zone);

        cluster = ngx_autoscale_shm_find_locked(shm_zone, (u_char *) id,
                                                len, NGX_AUTOSCALE_EXISTS);
        if (cluster) {
            cluster->current_workers = strtol(p, &end, 10);
            cluster->target_workers = strtol(end, &end, 10);
            cluster->load_percentage = strtod(end, &end);
            cluster->health_score = strtod(end, &end);
            cluster->seen = seen;

        } else {
            end = (char *) p;
        }

        ngx_autoscale_shm_unlock(shm_zone);

        p = end;
        while (*p && *p != ',') {
            p++;
        }

        if (*p == ',') {
            p++;
        }
    }

    if (*p) {
        return p;
    }

    /* gone from the list: destroyed, or deleted */
    ngx_autoscale_shm_lock(shm_zone);

    for (q = ngx_queue_head(&sh->cluster_list);
         q != ngx_queue_sentinel(&sh->cluster_list);
         q = ngx_queue_next(q))
    {
        cluster = ngx_queue_data(q, ngx_autoscale_cluster_t, queue);

        if (cluster->seen != seen) {
            cluster->exists = 0;
        }
    }

    /* their nodes go, once long enough gone: room for new clusters */
    ngx_autoscale_shm_reclaim(shm_zone, &n, &reusable);

    ngx_autoscale_shm_unlock(shm_zone);

    if (n || reusable) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "autoscale: zone \"%V\": nodes of gone clusters: %ui "
                      "unlinked, %ui ready for reuse",
                      &shm_zone->shm.name, n, reusable);
    }

    return NULL;
}


/* a batch leaves the queue, written or dropped; the zone is locked */
static void
ngx_autoscale_rows_unqueue(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_batch_t *batch)
{
    ngx_autoscale_shm_t  *sh = shm_zone->data;

    ngx_queue_remove(&batch->queue);
    sh->pending_rows -= batch->rows;
    sh->pending_bytes -= batch->len;

    ngx_slab_free_locked((ngx_slab_pool_t *) shm_zone->shm.addr, batch);
}


static u_char *
ngx_autoscale_rows_time(u_char *p, time_t sec, ngx_msec_t msec)
{
    ngx_tm_t  tm;

    ngx_gmtime(sec, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ%Z",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec, msec)
           - 1;
}
