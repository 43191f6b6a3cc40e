
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Every worker arms the same cancelable timers.  One of them, the leader,
 * holds a lease in the shared zone; across several nginx servers on one
 * database the leader also holds a PostgreSQL advisory lock on its own
 * connection, and only the holder of both collects and scales.  Every job
 * statement re-checks that lock in SQL, so a leader that lost its session
 * changes nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <math.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_collect.h"
#include "ngx_autoscale_jobs.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_shm.h"


#define NGX_AUTOSCALE_LEASE_TICK     1000    /* ms: renew, or try to take */
#define NGX_AUTOSCALE_LEASE_PERIOD   3000    /* ms: a silent leader's term */

/* rows decided per turn of the event loop, so a big fleet never holds it */
#define NGX_AUTOSCALE_CHECK_SLICE    128

/*
 * A check's statements in flight at once: the rest wait in the check, not
 * in the pool, so that none of them waits out its timeout behind the
 * others, and the lease and the collection are not queued behind a
 * fleet's changes.
 */
#define NGX_AUTOSCALE_CHECK_INFLIGHT 16

/* decisions written by one statement: held ones, and changes */
#define NGX_AUTOSCALE_HOLDS_CHUNK    1000
#define NGX_AUTOSCALE_CHANGES_CHUNK  64

/* and rows formatted, and clusters learnt from the database, per turn */
#define NGX_AUTOSCALE_COLLECT_SLICE  1000

#define NGX_AUTOSCALE_LOCK_KEY       "1313294401"    /* "NGXA" */

/*
 * A collection that fails on what it carries is tried once more as a
 * whole, then halved until the rows or agents that fail are found and
 * dropped, so that one bad item never stops every cluster's rows.  After
 * such a split the next failure is split at once, until one collection
 * goes through whole.
 */
#define NGX_AUTOSCALE_COLLECT_TRIES  2
#define NGX_AUTOSCALE_SPLIT_DEPTH    64

/*
 * Rows and agents written by one statement at most: a backlog after a
 * long outage, or a large fleet, goes in parts that each end well within
 * the statement timeout, instead of one that never does.
 */
#define NGX_AUTOSCALE_COLLECT_PART   5000

/* where sums that could pass a bigint stop */
#define NGX_AUTOSCALE_INT64_MAX      "9223372036854775807"

/* true in the session that holds the lock, whichever statement asks */
#define NGX_AUTOSCALE_HOLDS_LOCK                                              \
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "             \
    "AND pid = pg_backend_pid() AND classid = 0 "                             \
    "AND objid = " NGX_AUTOSCALE_LOCK_KEY " AND objsubid = 1 AND granted)"


/* decisions as one JSON parameter: [{"id": ..., "d": ..., "k": ...}, ...] */
typedef struct {
    u_char                          *data;
    size_t                           len;
    size_t                           size;
    ngx_uint_t                       n;
} ngx_autoscale_decisions_t;


typedef struct {
    ngx_http_autoscale_main_conf_t  *amcf;
    ngx_autoscale_pg_conf_t          pgcf;       /* one connection: the
                                                    lock's session */
    ngx_autoscale_pg_pool_t         *pool;
    ngx_log_t                       *log;
    ngx_str_t                        node;

    ngx_event_t                      lease_ev;
    ngx_event_t                      collect_ev;
    ngx_event_t                      check_ev;
    ngx_event_t                      slice_ev;
    ngx_event_t                      format_ev;
    ngx_event_t                      refresh_ev;

    ngx_uint_t                       lock_generation;

    /* the check in progress */
    PGresult                        *rows;
    int                              row;
    ngx_uint_t                       pending;    /* writes in flight */
    ngx_autoscale_decisions_t        holds;      /* built a slice at a */
    ngx_autoscale_decisions_t        changes;    /* time, sent by chunks */
    ngx_msec_t                       started;
    ngx_msec_t                       read_time;
    ngx_uint_t                       round_trips;
    ngx_uint_t                       decided;    /* changes sent */
    ngx_uint_t                       changed;    /* and made */
    ngx_uint_t                       held;
    ngx_uint_t                       rewritten;  /* held, and said anew */
    ngx_uint_t                       failed;

    ngx_msec_t                       collect_started;
    ngx_autoscale_collection_t       col;        /* the one in flight */
    ngx_uint_t                       collect_failures;  /* on data, in a
                                                           row */
    ngx_uint_t                       split_depth;  /* 0: sent whole */
    ngx_uint_t                       split[NGX_AUTOSCALE_SPLIT_DEPTH][2];
    ngx_uint_t                       split_written;
    ngx_autoscale_window_rows_t      window;     /* its rows, formatted a
                                                    slice at a time */
    PGresult                        *refresh;    /* the clusters, learnt a
                                                    slice at a time */
    const char                      *refresh_at;

    unsigned                         leader:1;
    unsigned                         locked:1;
    unsigned                         locking:1;
    unsigned                         lock_refused:1;
    unsigned                         collecting:1;
    unsigned                         splitting:1;
    unsigned                         formatting:1;
    unsigned                         checking:1;
} ngx_autoscale_jobs_t;


/* one statement of a check in flight, with what it carries */
typedef struct {
    ngx_autoscale_jobs_t            *jobs;
    const char                      *sql;
    ngx_uint_t                       n;          /* decisions */
    size_t                           len;
    u_char                           json[1];
} ngx_autoscale_check_stmt_t;


static void ngx_autoscale_lease_handler(ngx_event_t *ev);
static void ngx_autoscale_resign(ngx_autoscale_jobs_t *jobs, const char *why,
    ngx_uint_t drop_session);
static void ngx_autoscale_lock(ngx_autoscale_jobs_t *jobs);
static ngx_int_t ngx_autoscale_lock_done(void *data, ngx_int_t status,
    PGresult *res);
static ngx_uint_t ngx_autoscale_ready(ngx_autoscale_jobs_t *jobs);
static void ngx_autoscale_collect_handler(ngx_event_t *ev);
static void ngx_autoscale_collect_format_slice(ngx_event_t *ev);
static void ngx_autoscale_collect_send(ngx_autoscale_jobs_t *jobs);
static void ngx_autoscale_collect_send_range(ngx_autoscale_jobs_t *jobs);
static ngx_uint_t ngx_autoscale_collect_split(ngx_autoscale_jobs_t *jobs,
    PGresult *res);
static void ngx_autoscale_collect_drop(ngx_autoscale_jobs_t *jobs,
    ngx_uint_t item, PGresult *res);
static ngx_uint_t ngx_autoscale_data_error(PGresult *res);
static void ngx_autoscale_collect_refresh_slice(ngx_event_t *ev);
static ngx_int_t ngx_autoscale_collect_done(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_check_handler(ngx_event_t *ev);
static ngx_int_t ngx_autoscale_check_read(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_check_slice(ngx_event_t *ev);
static void ngx_autoscale_check_one(ngx_autoscale_jobs_t *jobs, int row);
static ngx_int_t ngx_autoscale_check_written(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_check_end(ngx_autoscale_jobs_t *jobs);
static void ngx_autoscale_job_failed(ngx_autoscale_jobs_t *jobs,
    const char *job, ngx_int_t status, PGresult *res);
static ngx_int_t ngx_autoscale_decisions_add(ngx_autoscale_jobs_t *jobs,
    ngx_autoscale_decisions_t *list, const char *id, const char *decision,
    uint64_t key);
static void ngx_autoscale_decisions_flush(ngx_autoscale_jobs_t *jobs,
    ngx_autoscale_decisions_t *list, const char *sql);
static void ngx_autoscale_decisions_free(ngx_autoscale_jobs_t *jobs);
static void ngx_autoscale_check_send(ngx_autoscale_jobs_t *jobs,
    const char *sql, u_char *json, size_t len, ngx_uint_t n);
static void ngx_autoscale_check_one_by_one(ngx_autoscale_check_stmt_t *st);
static double ngx_autoscale_number(PGresult *res, int row, int col);
static ngx_int_t ngx_autoscale_history(const char *text,
    ngx_autoscale_policy_sample_t **samples, size_t *n, ngx_log_t *log);


static ngx_autoscale_jobs_t  *ngx_autoscale_jobs;


/*
 * One collection in one statement.  $1 the queued metrics rows, oldest
 * first, with what the zone measured in each window (SPEC 7 derives the
 * row from it here, with the cluster's workers and capacity); $2 the
 * agents to write; $3 the metrics' retention in seconds; $4 this node;
 * $5..$6 and $7..$8, when not NULL, the rows and agents (1-based) to take
 * of $1 and $2, for a collection split to find the one that fails;
 * $9 and $10 the retention of events and of stopped or lost agents;
 * $11 whether to return the clusters (the last part of a collection).
 * Sums that could pass a bigint (a hostile agent's task totals) saturate.
 *
 * A row already written (a batch sent again after an answer that was
 * lost) is skipped by its cluster and timestamp.  The newest new row of
 * each cluster updates the cluster, unless it is idle and nothing would
 * change: load, health, tasks, and for "reported" actuation the workers
 * its live agents make, with status back to active at the target, or
 * after the cooldown with a "timeout" event.
 * What the database then says of every cluster goes back to the zone.
 */
static const char  ngx_autoscale_sql_collect[] =
    "WITH lk AS (SELECT " NGX_AUTOSCALE_HOLDS_LOCK " AS held), "
    "r AS (SELECT d.* FROM lk, jsonb_to_recordset(CASE WHEN $5::int IS NULL "
    "THEN $1::jsonb ELSE (SELECT jsonb_agg(x.e ORDER BY x.n) "
    "FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n) "
    "WHERE x.n BETWEEN $5::int AND $6::int) END) AS d(id text, "
    "ts timestamptz, secs float8, started bigint, finished bigint, "
    "avg float8, peak int, lat bigint, e5 bigint, live int, active int, "
    "idle int, busy int, failed int, done bigint, fail bigint, cpu float8, "
    "mem float8, queue float8) WHERE lk.held AND d.secs > 0), "
    "v AS (SELECT r.*, k.workers, k.workers::float8 * c.worker_capacity "
    "AS cap FROM r JOIN clusters c ON c.id = r.id "
    "AND c.status IN ('active', 'scaling_up', 'scaling_down'), "
    "LATERAL (SELECT least(CASE WHEN c.actuation = 'reported' THEN r.live "
    "ELSE c.current_workers END, 1000) AS workers) k), "
    "q AS (SELECT v.*, CASE WHEN v.cap > 0 THEN least(100, 100 * v.avg "
    "/ v.cap) WHEN v.avg > 0 THEN 100 ELSE 0 END AS util, "
    "coalesce(v.queue, greatest(0, v.avg - v.cap)) AS qlen, "
    "(v.finished::float8 + v.done) / v.secs AS rate FROM v), "
    "ins AS (INSERT INTO cluster_metrics (cluster_id, \"timestamp\", "
    "cpu_usage, memory_usage, queue_length, queue_wait_time, active_agents, "
    "idle_agents, busy_agents, failed_agents, tasks_per_minute, "
    "avg_response_time, error_rate, requests_started, requests_finished, "
    "inflight_avg, inflight_peak, errors_5xx, window_seconds, "
    "current_workers) SELECT q.id, q.ts, coalesce(q.cpu, q.util), q.mem, "
    "q.qlen, CASE WHEN q.qlen = 0 THEN 0 WHEN q.rate > 0 "
    "THEN q.qlen / q.rate END, q.active, q.idle, q.busy, q.failed, "
    "60 * q.rate, CASE WHEN q.finished > 0 THEN q.lat::float8 / q.finished "
    "END, CASE WHEN q.finished > 0 THEN least(100, 100.0 * q.e5 "
    "/ q.finished) ELSE 0 END, q.started, q.finished, q.avg, q.peak, q.e5, "
    "q.secs, q.workers FROM q WHERE NOT EXISTS (SELECT 1 "
    "FROM cluster_metrics x WHERE x.cluster_id = q.id "
    "AND x.\"timestamp\" = q.ts) ORDER BY q.ts, q.id "
    "RETURNING cluster_id, \"timestamp\"), "
    "l AS (SELECT DISTINCT ON (q.id) q.*, "
    "sum(q.done) OVER (PARTITION BY q.id) AS done_all, "
    "sum(q.fail) OVER (PARTITION BY q.id) AS fail_all "
    "FROM q JOIN ins ON ins.cluster_id = q.id AND ins.\"timestamp\" = q.ts "
    "ORDER BY q.id, q.ts DESC), "
    "s AS (SELECT c.id, l.id IS NOT NULL AS measured, l.util, l.live, "
    "l.failed, l.finished, l.e5, l.done_all, l.fail_all, "
    "CASE WHEN c.actuation = 'reported' AND l.id IS NOT NULL "
    "THEN least(l.live, 1000) ELSE c.current_workers END AS cur, "
    "(CASE WHEN l.live + l.failed > 0 THEN l.live::float8 "
    "/ (l.live + l.failed) ELSE 1 END) * (1 - CASE WHEN l.finished > 0 "
    "THEN least(1, l.e5::float8 / l.finished) ELSE 0 END) AS health, "
    "(c.actuation = 'reported' AND c.status IN ('scaling_up', "
    "'scaling_down') AND c.last_scaled_at < now() - make_interval(secs => "
    "CASE WHEN c.status = 'scaling_up' THEN c.scale_up_cooldown "
    "ELSE c.scale_down_cooldown END)) AS late "
    "FROM lk, clusters c LEFT JOIN l ON l.id = c.id WHERE lk.held "
    "AND (l.id IS NOT NULL OR (c.actuation = 'reported' "
    "AND c.status IN ('scaling_up', 'scaling_down')))), "
    "upd AS (UPDATE clusters c SET "
    "load_percentage = CASE WHEN s.measured THEN s.util "
    "ELSE c.load_percentage END, "
    "health_score = CASE WHEN s.measured THEN s.health "
    "ELSE c.health_score END, "
    "current_workers = s.cur, "
    "status = CASE WHEN c.actuation = 'reported' AND c.status IN "
    "('scaling_up', 'scaling_down') AND (s.cur = c.target_workers "
    "OR s.late) THEN 'active' ELSE c.status END, "
    "tasks_completed = least(c.tasks_completed + coalesce(s.done_all, 0), "
    NGX_AUTOSCALE_INT64_MAX ")::bigint, "
    "tasks_failed = least(c.tasks_failed + coalesce(s.fail_all, 0), "
    NGX_AUTOSCALE_INT64_MAX ")::bigint, "
    "last_active = CASE WHEN s.finished > 0 OR s.live > 0 THEN now() "
    "ELSE c.last_active END "
    "FROM s WHERE c.id = s.id AND (s.late OR (c.actuation = 'reported' "
    "AND c.status IN ('scaling_up', 'scaling_down') "
    "AND s.cur = c.target_workers) OR (s.measured AND (s.finished > 0 "
    "OR s.live > 0 OR s.done_all + s.fail_all > 0 "
    "OR s.cur <> c.current_workers OR s.util <> c.load_percentage "
    "OR s.health <> c.health_score))) "
    "RETURNING c.id, c.current_workers, c.target_workers, "
    "c.load_percentage, c.health_score, "
    "s.late AND s.cur <> c.target_workers AS timed_out), "
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "
    "to_workers, reason, node) SELECT u.id, 'timeout', u.current_workers, "
    "u.current_workers, format('reported workers reached %s of the target "
    "%s within the cooldown', u.current_workers, u.target_workers), $4 "
    "FROM upd u WHERE u.timed_out RETURNING id, cluster_id, to_workers, "
    "reason), "
    "g AS (SELECT * FROM jsonb_to_recordset(CASE WHEN $7::int IS NULL "
    "THEN $2::jsonb ELSE (SELECT jsonb_agg(x.e ORDER BY x.n) "
    "FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, n) "
    "WHERE x.n BETWEEN $7::int AND $8::int) END) AS g(cluster text, "
    "agent text, status text, done bigint, fail bigint, hb timestamptz, "
    "cpu float8, mem float8, queue float8)), "
    "ag AS (INSERT INTO cluster_agents AS a (cluster_id, agent_id, status, "
    "health_score, cpu_usage, memory_usage, queue_length, tasks_completed, "
    "tasks_failed, last_heartbeat, last_active, stopped_at) "
    "SELECT g.cluster, g.agent, g.status, CASE WHEN g.status IN ('failed', "
    "'lost') THEN 0 ELSE 1 END, g.cpu, g.mem, g.queue, g.done, g.fail, "
    "g.hb, g.hb, CASE WHEN g.status = 'stopped' THEN g.hb END "
    "FROM lk, g WHERE lk.held AND EXISTS (SELECT 1 "
    "FROM clusters c WHERE c.id = g.cluster AND c.status <> 'destroyed') "
    "ON CONFLICT (cluster_id, agent_id) DO UPDATE SET "
    "status = excluded.status, health_score = excluded.health_score, "
    "cpu_usage = excluded.cpu_usage, memory_usage = excluded.memory_usage, "
    "queue_length = excluded.queue_length, "
    "tasks_completed = excluded.tasks_completed, "
    "tasks_failed = excluded.tasks_failed, "
    "last_heartbeat = excluded.last_heartbeat, "
    "last_active = CASE WHEN excluded.status IN ('active', 'busy') "
    "THEN excluded.last_heartbeat ELSE a.last_active END, "
    "stopped_at = CASE WHEN excluded.status = 'stopped' "
    "THEN coalesce(a.stopped_at, excluded.stopped_at) END RETURNING 1), "
    "del AS (DELETE FROM cluster_metrics WHERE id IN (SELECT m.id "
    "FROM cluster_metrics m, lk WHERE lk.held "
    "AND m.\"timestamp\" < now() - make_interval(secs => $3::float8) "
    "LIMIT 10000) RETURNING 1), "
    "dev AS (DELETE FROM scaling_events WHERE id IN (SELECT e.id "
    "FROM scaling_events e, lk WHERE lk.held "
    "AND e.at < now() - make_interval(secs => $9::float8) "
    "LIMIT 10000) RETURNING 1), "
    "dag AS (DELETE FROM cluster_agents WHERE id IN (SELECT a.id "
    "FROM cluster_agents a, lk WHERE lk.held "
    "AND a.status IN ('stopped', 'lost') "
    "AND a.last_heartbeat < now() - make_interval(secs => $10::float8) "
    "AND NOT EXISTS (SELECT 1 FROM g WHERE g.cluster = a.cluster_id "
    "AND g.agent = a.agent_id) LIMIT 10000) RETURNING 1) "
    "SELECT (SELECT held FROM lk), (SELECT count(*) FROM ins), "
    "(SELECT count(*) FROM ag), (SELECT count(*) FROM del) "
    "+ (SELECT count(*) FROM dev) + (SELECT count(*) FROM dag), "
    "(SELECT count(pg_notify('autoscale', json_build_object('event', "
    "'timeout', 'cluster_id', e.cluster_id, 'event_id', e.id, "
    "'current_workers', e.to_workers, 'status', 'active', 'reason', "
    "e.reason)::text)) FROM ev e), "
    "(SELECT string_agg(concat_ws(' ', c.id, coalesce(u.current_workers, "
    "c.current_workers), coalesce(u.target_workers, c.target_workers), "
    "coalesce(u.load_percentage, c.load_percentage), "
    "coalesce(u.health_score, c.health_score)), ',') "
    "FROM lk, clusters c LEFT JOIN upd u ON u.id = c.id "
    "WHERE lk.held AND $11::bool AND c.status <> 'destroyed')";


/*
 * Every active cluster with its latest metrics row and, for target
 * tracking, the rows of its stabilization window as "value age workers"
 * triples; nothing unless this session holds the lock.
 */
static const char  ngx_autoscale_sql_check[] =
    "SELECT c.id, c.status, c.paused, c.min_workers, c.max_workers, "
    "c.current_workers, c.target_workers, c.policy, c.scale_up_queue, "
    "c.scale_up_cpu, c.scale_down_queue, c.scale_down_cpu, "
    "c.scale_up_factor, c.scale_down_factor, c.scale_up_cooldown, "
    "c.scale_down_cooldown, c.target_metric, c.target_value, c.tolerance, "
    "c.stabilization_window, "
    "extract(epoch FROM now() - c.last_scaled_at), "
    "m.cluster_id IS NOT NULL, extract(epoch FROM now() - m.\"timestamp\"), "
    "m.queue_length, m.cpu_usage, c.load_percentage, h.samples, "
    "c.decision_key "
    "FROM clusters c "
    "LEFT JOIN LATERAL (SELECT * FROM cluster_metrics "
    "WHERE cluster_id = c.id ORDER BY \"timestamp\" DESC LIMIT 1) m ON true "
    "LEFT JOIN LATERAL (SELECT string_agg(concat_ws(' ', "
    "CASE c.target_metric WHEN 'queue_per_worker' THEN w.queue_length "
    "WHEN 'cpu_usage' THEN w.cpu_usage ELSE least(100, 100 * w.inflight_avg "
    "/ greatest(coalesce(w.current_workers, c.current_workers) "
    "* c.worker_capacity, 1)) END, "
    "extract(epoch FROM now() - w.\"timestamp\"), "
    "coalesce(w.current_workers, c.current_workers)), ',') AS samples "
    "FROM cluster_metrics w WHERE c.policy = 'target' "
    "AND w.cluster_id = c.id AND w.\"timestamp\" >= now() "
    "- make_interval(secs => c.stabilization_window)) h ON true "
    "WHERE c.status IN ('active', 'scaling_up', 'scaling_down') "
    "AND " NGX_AUTOSCALE_HOLDS_LOCK " ORDER BY c.id";


/*
 * Decisions that change their clusters, a chunk at a time: $1 [{"id": ...,
 * "d": {...}}], the decision's result saying from, to and action; $2 this
 * node.  The rows are locked in order and checked again: still active,
 * unpaused, at the size decided from, out of the cooldown, and this
 * session still holds the lock.  Each change that passes gets its event
 * and its NOTIFY in the same transaction; one that does not is left alone.
 */
#define NGX_AUTOSCALE_SQL_DECISIONS                                           \
    "WITH d AS (SELECT x.id, (x.d #>> '{result,from}')::int AS f, "           \
    "(x.d #>> '{result,to}')::int AS t, x.d #>> '{result,action}' AS a, "     \
    "x.d ->> 'reason' AS r, x.d AS dec "                                      \
    "FROM jsonb_to_recordset($1::jsonb) AS x(id text, d jsonb)), "

static const char  ngx_autoscale_sql_change[] =
    NGX_AUTOSCALE_SQL_DECISIONS
    "cur AS (SELECT c.id, c.actuation, c.status, c.paused, "
    "c.current_workers, c.last_scaled_at, c.scale_up_cooldown, "
    "c.scale_down_cooldown, d.f, d.t, d.a, d.r, d.dec "
    "FROM clusters c JOIN d ON d.id = c.id ORDER BY c.id FOR UPDATE OF c), "
    "upd AS (UPDATE clusters u SET target_workers = cur.t, "
    "current_workers = CASE WHEN cur.actuation = 'immediate' THEN cur.t "
    "ELSE u.current_workers END, "
    "status = CASE WHEN cur.actuation = 'immediate' "
    "OR cur.t = cur.current_workers THEN 'active' "
    "WHEN cur.t > cur.current_workers THEN 'scaling_up' "
    "ELSE 'scaling_down' END, "
    "last_scaled_at = now(), last_decision = cur.dec, "
    "decision_key = NULL, updated_at = now() "
    "FROM cur WHERE u.id = cur.id AND " NGX_AUTOSCALE_HOLDS_LOCK " "
    "AND cur.status IN ('active', 'scaling_up', 'scaling_down') "
    "AND NOT cur.paused AND cur.current_workers = cur.f "
    "AND (cur.a = 'bounds' OR cur.last_scaled_at IS NULL "
    "OR now() - cur.last_scaled_at >= make_interval(secs => "
    "CASE WHEN cur.t > cur.f THEN cur.scale_up_cooldown "
    "ELSE cur.scale_down_cooldown END)) "
    "RETURNING u.id, u.status, u.current_workers, u.target_workers, "
    "cur.f, cur.t, cur.a, cur.r, cur.dec), "
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "
    "to_workers, reason, inputs, dry_run, node) SELECT id, a, f, t, r, dec, "
    "false, $2 FROM upd RETURNING id, cluster_id) "
    "SELECT (SELECT count(*) FROM upd), "
    "(SELECT count(pg_notify('autoscale', json_build_object('event', upd.a, "
    "'cluster_id', upd.id, 'event_id', ev.id, 'from_workers', upd.f, "
    "'to_workers', upd.t, 'status', upd.status, 'current_workers', "
    "upd.current_workers, 'target_workers', upd.target_workers, 'reason', "
    "upd.r)::text)) FROM upd JOIN ev ON ev.cluster_id = upd.id)";

/* the same decisions under autoscale_dry_run: recorded, nothing changed */
static const char  ngx_autoscale_sql_dry_run[] =
    NGX_AUTOSCALE_SQL_DECISIONS
    "upd AS (UPDATE clusters c SET last_decision = d.dec, "
    "decision_key = NULL FROM d "
    "WHERE c.id = d.id AND " NGX_AUTOSCALE_HOLDS_LOCK " "
    "RETURNING c.id, d.f, d.t, d.a, d.r, d.dec), "
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "
    "to_workers, reason, inputs, dry_run, node) SELECT id, a, f, t, r, dec, "
    "true, $2 FROM upd RETURNING id) "
    "SELECT count(*) FROM ev";

/*
 * Held decisions that say something new, a chunk at a time:
 * $1 [{"id": ..., "d": {...}, "k": key}]
 */
static const char  ngx_autoscale_sql_holds[] =
    "UPDATE clusters c SET last_decision = d.d, decision_key = d.k "
    "FROM jsonb_to_recordset($1::jsonb) AS d(id text, d jsonb, k bigint) "
    "WHERE c.id = d.id AND " NGX_AUTOSCALE_HOLDS_LOCK;

static const char  ngx_autoscale_sql_lock[] =
    "SELECT pg_try_advisory_lock(" NGX_AUTOSCALE_LOCK_KEY ")";


ngx_int_t
ngx_autoscale_jobs_init(ngx_cycle_t *cycle,
    ngx_http_autoscale_main_conf_t *amcf)
{
    ngx_autoscale_jobs_t  *jobs;

    if (!amcf->collector && !amcf->scaler) {
        return NGX_OK;
    }

    jobs = ngx_pcalloc(cycle->pool, sizeof(ngx_autoscale_jobs_t));
    if (jobs == NULL) {
        return NGX_ERROR;
    }

    jobs->amcf = amcf;
    jobs->log = cycle->log;
    jobs->pgcf = *amcf->pg;
    jobs->pgcf.pool_size = 1;

    /* every change of a check is queued at once: the fleet is the bound */
    jobs->pgcf.max_waiting = NGX_MAX_INT32_VALUE;

    jobs->pool = ngx_autoscale_pg_pool_create(cycle, &jobs->pgcf);
    if (jobs->pool == NULL) {
        return NGX_ERROR;
    }

    jobs->node.data = ngx_pnalloc(cycle->pool, cycle->hostname.len + 2
                                               + NGX_INT64_LEN);
    if (jobs->node.data == NULL) {
        return NGX_ERROR;
    }

    /* NUL-terminated as well, for cJSON */
    jobs->node.len = ngx_sprintf(jobs->node.data, "%V:%P%Z", &cycle->hostname,
                                 ngx_pid)
                     - jobs->node.data - 1;

    jobs->lease_ev.handler = ngx_autoscale_lease_handler;
    jobs->collect_ev.handler = ngx_autoscale_collect_handler;
    jobs->check_ev.handler = ngx_autoscale_check_handler;
    jobs->slice_ev.handler = ngx_autoscale_check_slice;
    jobs->format_ev.handler = ngx_autoscale_collect_format_slice;
    jobs->refresh_ev.handler = ngx_autoscale_collect_refresh_slice;

    jobs->lease_ev.data = jobs;
    jobs->collect_ev.data = jobs;
    jobs->check_ev.data = jobs;
    jobs->slice_ev.data = jobs;
    jobs->format_ev.data = jobs;
    jobs->refresh_ev.data = jobs;

    jobs->lease_ev.log = cycle->log;
    jobs->collect_ev.log = cycle->log;
    jobs->check_ev.log = cycle->log;
    jobs->slice_ev.log = cycle->log;
    jobs->format_ev.log = cycle->log;
    jobs->refresh_ev.log = cycle->log;

    /* none of them keeps a worker that is shutting down */
    jobs->lease_ev.cancelable = 1;
    jobs->collect_ev.cancelable = 1;
    jobs->check_ev.cancelable = 1;
    jobs->slice_ev.cancelable = 1;
    jobs->format_ev.cancelable = 1;
    jobs->refresh_ev.cancelable = 1;

    /* random first delays, so that the workers do not fire together */
    ngx_add_timer(&jobs->lease_ev,
                  1 + ngx_random() % NGX_AUTOSCALE_LEASE_TICK);

    if (amcf->collector) {
        ngx_add_timer(&jobs->collect_ev,
                      1 + ngx_random() % amcf->collect_interval);
    }

    if (amcf->scaler) {
        ngx_add_timer(&jobs->check_ev,
                      1 + ngx_random() % amcf->check_interval);
    }

    ngx_autoscale_jobs = jobs;

    return NGX_OK;
}


void
ngx_autoscale_jobs_exit(ngx_cycle_t *cycle)
{
    ngx_autoscale_jobs_t  *jobs = ngx_autoscale_jobs;

    if (jobs == NULL) {
        return;
    }

    ngx_autoscale_resign(jobs, "the worker exits", 0);

    if (jobs->rows) {
        PQclear(jobs->rows);
        jobs->rows = NULL;
    }

    ngx_autoscale_decisions_free(jobs);

    ngx_autoscale_pg_pool_destroy(jobs->pool);
    ngx_autoscale_collect_free(&jobs->col);
    ngx_autoscale_collect_discard(&jobs->window);

    if (jobs->refresh) {
        PQclear(jobs->refresh);
        jobs->refresh = NULL;
    }

    if (jobs->format_ev.posted) {
        ngx_delete_posted_event(&jobs->format_ev);
    }

    if (jobs->refresh_ev.posted) {
        ngx_delete_posted_event(&jobs->refresh_ev);
    }

    if (jobs->slice_ev.posted) {
        ngx_delete_posted_event(&jobs->slice_ev);
    }
    ngx_autoscale_jobs = NULL;
}


/* leadership */

static void
ngx_autoscale_lease_handler(ngx_event_t *ev)
{
    ngx_autoscale_jobs_t  *jobs = ev->data;

    ngx_pid_t              previous;
    ngx_autoscale_lease_e  lease;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        /*
         * Let a worker of the new generation lead at once: the database
         * lock goes with this worker's session, and a statement cut short
         * is one transaction, done or undone whole.
         */
        ngx_autoscale_resign(jobs, "the worker is shutting down", 1);
        return;
    }

    lease = ngx_autoscale_shm_lease(jobs->amcf->shm_zone,
                                    NGX_AUTOSCALE_LEASE_PERIOD, &previous);

    switch (lease) {

    case NGX_AUTOSCALE_LEASE_NONE:
        if (jobs->leader) {
            ngx_autoscale_resign(jobs, "its lease was taken over", 1);
        }
        break;

    case NGX_AUTOSCALE_LEASE_RENEWED:
        break;

    case NGX_AUTOSCALE_LEASE_VACANT:
        jobs->leader = 1;
        ngx_log_error(NGX_LOG_NOTICE, jobs->log, 0,
                      "autoscale: worker %P became the leader: the lease "
                      "was free", ngx_pid);
        break;

    default:
        jobs->leader = 1;
        ngx_log_error(NGX_LOG_NOTICE, jobs->log, 0,
                      "autoscale: worker %P became the leader: the lease "
                      "of worker %P %s", ngx_pid, previous,
                      lease == NGX_AUTOSCALE_LEASE_EXPIRED
                      ? "expired" : "ended with its process");
    }

    if (jobs->leader && !jobs->locking
        && (!jobs->locked || ngx_autoscale_pg_generation(jobs->pool)
                             != jobs->lock_generation))
    {
        ngx_autoscale_lock(jobs);
    }

    ngx_add_timer(ev, NGX_AUTOSCALE_LEASE_TICK);
}


static void
ngx_autoscale_resign(ngx_autoscale_jobs_t *jobs, const char *why,
    ngx_uint_t drop_session)
{
    if (!jobs->leader) {
        return;
    }

    jobs->leader = 0;
    jobs->locked = 0;

    ngx_autoscale_shm_release(jobs->amcf->shm_zone);

    ngx_log_error(NGX_LOG_NOTICE, jobs->log, 0,
                  "autoscale: worker %P is no longer the leader: %s",
                  ngx_pid, why);

    if (drop_session) {
        /* the advisory lock goes with the session */
        ngx_autoscale_pg_pool_reset(jobs->pool);
    }
}


static void
ngx_autoscale_lock(ngx_autoscale_jobs_t *jobs)
{
    jobs->locking = 1;

    if (ngx_autoscale_pg_query(jobs->pool, ngx_autoscale_sql_lock, 0, NULL,
                               ngx_autoscale_lock_done, jobs)
        == NULL)
    {
        jobs->locking = 0;
    }
}


static ngx_int_t
ngx_autoscale_lock_done(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_jobs_t  *jobs = data;

    jobs->locking = 0;

    if (!jobs->leader || status != NGX_AUTOSCALE_PG_OK) {
        /* the pool logs an unreachable database; the next tick retries */
        jobs->locked = 0;
        return NGX_OK;
    }

    if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't') {
        jobs->locked = 1;
        jobs->lock_refused = 0;
        jobs->lock_generation = ngx_autoscale_pg_generation(jobs->pool);

        ngx_log_error(NGX_LOG_NOTICE, jobs->log, 0,
                      "autoscale: worker %P holds the database lock: it "
                      "collects and scales", ngx_pid);
        return NGX_OK;
    }

    jobs->locked = 0;

    if (!jobs->lock_refused) {
        jobs->lock_refused = 1;

        ngx_log_error(NGX_LOG_NOTICE, jobs->log, 0,
                      "autoscale: worker %P stands by: another server "
                      "holds the database lock", ngx_pid);
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_autoscale_ready(ngx_autoscale_jobs_t *jobs)
{
    return jobs->leader && jobs->locked && !ngx_exiting
           && ngx_autoscale_pg_generation(jobs->pool) == jobs->lock_generation;
}


/* the collector */

static void
ngx_autoscale_collect_handler(ngx_event_t *ev)
{
    ngx_autoscale_jobs_t  *jobs = ev->data;

    if (ngx_exiting) {
        return;
    }

    ngx_add_timer(ev, jobs->amcf->collect_interval);

    /*
     * The window ends even while the database is away: its rows wait in
     * the zone.  A server that stands by for another leaves its own.
     */
    if (!jobs->leader || jobs->lock_refused) {
        return;
    }

    if (jobs->formatting) {
        /* the last window is still being formatted: this one waits */
        return;
    }

    /* requests a crashed worker left in flight end before the window */
    (void) ngx_autoscale_shm_slots_sweep(jobs->amcf->shm_zone);

    if (ngx_autoscale_collect_window(jobs->amcf->shm_zone,
                                     jobs->amcf->collect_interval,
                                     &jobs->window, jobs->log)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, jobs->log, 0,
                      "autoscale: collection: out of memory");
        return;
    }

    jobs->formatting = 1;

    ngx_autoscale_collect_format_slice(&jobs->format_ev);
}


static void
ngx_autoscale_collect_format_slice(ngx_event_t *ev)
{
    ngx_autoscale_jobs_t  *jobs = ev->data;

    ngx_int_t  rc;

    rc = ngx_autoscale_collect_format(jobs->amcf->shm_zone, &jobs->window,
                                      NGX_AUTOSCALE_COLLECT_SLICE, jobs->log);

    if (rc == NGX_AGAIN) {
        /* the rest on the next turn of the loop, after other events */
        ngx_post_event(ev, &ngx_posted_next_events);
        return;
    }

    jobs->formatting = 0;

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, jobs->log, 0,
                      "autoscale: collection: out of memory");
    }

    ngx_autoscale_collect_send(jobs);
}


static void
ngx_autoscale_collect_send(ngx_autoscale_jobs_t *jobs)
{
    ngx_shm_zone_t  *zone = jobs->amcf->shm_zone;

    if (!ngx_autoscale_ready(jobs) || jobs->collecting) {
        return;
    }

    if (ngx_autoscale_collect_params(zone, &jobs->col, jobs->log) != NGX_OK) {
        ngx_autoscale_collect_failed(zone);
        return;
    }

    jobs->collecting = 1;
    jobs->collect_started = ngx_current_msec;
    jobs->split_depth = 0;
    jobs->split_written = 0;

    if (jobs->col.nrows + jobs->col.nagents > NGX_AUTOSCALE_COLLECT_PART) {
        /* sent a part at a time, as a split is */
        jobs->split[0][0] = 0;
        jobs->split[0][1] = jobs->col.nrows + jobs->col.nagents;
        jobs->split_depth = 1;
    }

    ngx_autoscale_collect_send_range(jobs);
}


/* the whole collection, or the part on top of the split's stack */
static void
ngx_autoscale_collect_send_range(ngx_autoscale_jobs_t *jobs)
{
    u_char          *p;
    u_char           num[7][NGX_INT_T_LEN];
    ngx_str_t        params[11];
    ngx_uint_t       i, lo, hi, nrows, range[4];
    ngx_shm_zone_t  *zone = jobs->amcf->shm_zone;

    if (jobs->split_depth) {
        lo = jobs->split[jobs->split_depth - 1][0];
        hi = jobs->split[jobs->split_depth - 1][1];

        if (hi - lo > NGX_AUTOSCALE_COLLECT_PART) {
            /* the first part on top, the rest below it */
            jobs->split[jobs->split_depth - 1][0] = lo
                                                 + NGX_AUTOSCALE_COLLECT_PART;
            jobs->split[jobs->split_depth][0] = lo;
            jobs->split[jobs->split_depth][1] = lo
                                                + NGX_AUTOSCALE_COLLECT_PART;
            jobs->split_depth++;
        }
    }

    params[0] = jobs->col.rows;
    params[1] = jobs->col.agents;
    params[3] = jobs->node;

    for (i = 4; i < 8; i++) {
        ngx_str_null(&params[i]);
    }

    if (jobs->split_depth) {
        /* items lo..hi-1: the rows first, then the agents; 1-based */
        lo = jobs->split[jobs->split_depth - 1][0];
        hi = jobs->split[jobs->split_depth - 1][1];
        nrows = jobs->col.nrows;

        range[0] = lo + 1;
        range[1] = ngx_min(hi, nrows);
        range[2] = (lo > nrows ? lo - nrows : 0) + 1;
        range[3] = hi > nrows ? hi - nrows : 0;

        for (i = 0; i < 4; i++) {
            params[4 + i].data = num[i];
            params[4 + i].len = ngx_sprintf(num[i], "%ui", range[i])
                                - num[i];
        }
    }

    p = num[4];
    params[2].data = p;
    params[2].len = ngx_sprintf(p, "%T", jobs->amcf->metrics_retention) - p;

    p = num[5];
    params[8].data = p;
    params[8].len = ngx_sprintf(p, "%T", jobs->amcf->events_retention) - p;

    p = num[6];
    params[9].data = p;
    params[9].len = ngx_sprintf(p, "%T", jobs->amcf->agents_retention) - p;

    /* what the database says of the clusters: after the last part */
    params[10].data = (u_char *) (jobs->split_depth > 1 ? "f" : "t");
    params[10].len = 1;

    if (ngx_autoscale_pg_query(jobs->pool, ngx_autoscale_sql_collect, 11,
                               params, ngx_autoscale_collect_done, jobs)
        == NULL)
    {
        ngx_autoscale_collect_failed(zone);
        ngx_autoscale_collect_free(&jobs->col);
        jobs->collecting = 0;
    }
}


static ngx_int_t
ngx_autoscale_collect_done(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_jobs_t  *jobs = data;

    ngx_uint_t            written;
    ngx_shm_zone_t       *zone = jobs->amcf->shm_zone;
    ngx_autoscale_shm_t  *sh = zone->data;

    if (status == NGX_AUTOSCALE_PG_SQL_ERROR && jobs->leader
        && ngx_autoscale_data_error(res))
    {
        if (ngx_autoscale_collect_split(jobs, res)) {
            ngx_autoscale_collect_send_range(jobs);
            return NGX_OK;
        }

        if (jobs->collecting) {
            /* every part written or dropped */
            goto written;
        }

        return NGX_OK;
    }

    if (status != NGX_AUTOSCALE_PG_OK) {
        ngx_autoscale_job_failed(jobs, "collection", status, res);
        goto failed;
    }

    if (PQgetvalue(res, 0, 0)[0] != 't') {
        jobs->locked = 0;
        goto failed;
    }

    written = ngx_atoi((u_char *) PQgetvalue(res, 0, 1),
                       PQgetlength(res, 0, 1));

    (void) ngx_atomic_fetch_add(&sh->rows_written, written);

    jobs->split_written += written;

    if (jobs->split_depth) {
        /* this part is written: on to the next */
        if (--jobs->split_depth) {
            ngx_autoscale_collect_send_range(jobs);
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_INFO, jobs->log, 0,
                  "autoscale: collection: %ui rows written of %ui sent, "
                  "%s agents written, %s pruned, %s timeouts, %M ms",
                  jobs->split_written, jobs->col.nrows,
                  PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
                  PQgetvalue(res, 0, 4),
                  ngx_current_msec - jobs->collect_started);

    ngx_autoscale_collect_written(zone, &jobs->col);
    ngx_autoscale_collect_free(&jobs->col);
    jobs->collect_failures = jobs->splitting ? NGX_AUTOSCALE_COLLECT_TRIES - 1
                                         : 0;
    jobs->splitting = 0;

    /* kept, and learnt a slice at a time; the next collection waits */
    jobs->refresh = res;
    jobs->refresh_at = PQgetvalue(res, 0, 5);

    ngx_autoscale_collect_refresh_slice(&jobs->refresh_ev);

    return NGX_DONE;

written:

    ngx_autoscale_collect_written(zone, &jobs->col);
    ngx_autoscale_collect_free(&jobs->col);
    jobs->collect_failures = NGX_AUTOSCALE_COLLECT_TRIES - 1;
    jobs->splitting = 0;
    jobs->collecting = 0;

    return NGX_OK;

failed:

    ngx_autoscale_collect_failed(zone);
    ngx_autoscale_collect_free(&jobs->col);
    jobs->split_depth = 0;
    jobs->splitting = 0;
    jobs->collecting = 0;

    return NGX_OK;
}


/*
 * The statement failed on what it carries.  1 when a part is to be sent
 * next; 0 when the collection waits for the next interval (its first
 * failure) or when nothing is left (collecting still set).
 */
static ngx_uint_t
ngx_autoscale_collect_split(ngx_autoscale_jobs_t *jobs, PGresult *res)
{
    ngx_uint_t  lo, hi, mid, n;

    if (jobs->split_depth == 0) {
        if (++jobs->collect_failures < NGX_AUTOSCALE_COLLECT_TRIES) {
            ngx_autoscale_job_failed(jobs, "collection",
                                     NGX_AUTOSCALE_PG_SQL_ERROR, res);
            ngx_autoscale_collect_failed(jobs->amcf->shm_zone);
            ngx_autoscale_collect_free(&jobs->col);
            jobs->collecting = 0;
            return 0;
        }

        n = jobs->col.nrows + jobs->col.nagents;
        jobs->splitting = 1;

        ngx_log_error(NGX_LOG_WARN, jobs->log, 0,
                      "autoscale: collection failed %ui times on its data, "
                      "split to find what fails among %ui rows and "
                      "%ui agents: %s",
                      jobs->collect_failures, jobs->col.nrows,
                      jobs->col.nagents, PQresultErrorMessage(res));

        lo = 0;
        hi = n;

    } else {
        jobs->split_depth--;
        lo = jobs->split[jobs->split_depth][0];
        hi = jobs->split[jobs->split_depth][1];
    }

    if (hi - lo <= 1 || jobs->split_depth + 2 > NGX_AUTOSCALE_SPLIT_DEPTH) {
        /* found; or, past any real need, the whole part goes */
        for ( /* void */ ; lo < hi; lo++) {
            ngx_autoscale_collect_drop(jobs, lo, res);
        }

        return jobs->split_depth > 0;
    }

    /* the second half below the first: parts go oldest first */
    mid = lo + (hi - lo) / 2;

    jobs->split[jobs->split_depth][0] = mid;
    jobs->split[jobs->split_depth][1] = hi;
    jobs->split[jobs->split_depth + 1][0] = lo;
    jobs->split[jobs->split_depth + 1][1] = mid;
    jobs->split_depth += 2;

    return 1;
}


/* item: a row, or past the rows an agent; named in the log */
static void
ngx_autoscale_collect_drop(ngx_autoscale_jobs_t *jobs, ngx_uint_t item,
    PGresult *res)
{
    cJSON       *doc, *one, *a, *b;
    ngx_str_t   *list;
    ngx_uint_t   row;

    row = (item < jobs->col.nrows);
    list = row ? &jobs->col.rows : &jobs->col.agents;

    doc = cJSON_ParseWithLength((char *) list->data, list->len);
    one = cJSON_GetArrayItem(doc, row ? item : item - jobs->col.nrows);
    a = cJSON_GetObjectItemCaseSensitive(one, row ? "id" : "cluster");
    b = cJSON_GetObjectItemCaseSensitive(one, row ? "ts" : "agent");

    if (row) {
        ngx_autoscale_shm_count(jobs->amcf->shm_zone, rows_dropped);
    }

    ngx_log_error(NGX_LOG_ERR, jobs->log, 0,
                  "autoscale: collection: %s of cluster \"%s\" %s \"%s\" "
                  "dropped, the database refuses it: %s",
                  row ? "the row" : "the agent report",
                  cJSON_IsString(a) ? a->valuestring : "?",
                  row ? "at" : "from",
                  cJSON_IsString(b) ? b->valuestring : "?",
                  PQresultErrorMessage(res));

    cJSON_Delete(doc);
}


/*
 * A statement refused for what it carries, not for the state of the
 * server: a data exception, a broken constraint, a limit passed.  Others
 * (a read-only server, a missing column) would fail for every part.
 */
static ngx_uint_t
ngx_autoscale_data_error(PGresult *res)
{
    const char  *state;

    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    return state
           && (ngx_strncmp(state, "22", 2) == 0
               || ngx_strncmp(state, "23", 2) == 0
               || ngx_strncmp(state, "54", 2) == 0);
}


static void
ngx_autoscale_collect_refresh_slice(ngx_event_t *ev)
{
    ngx_autoscale_jobs_t  *jobs = ev->data;

    jobs->refresh_at = ngx_autoscale_collect_refresh(
                           jobs->amcf->shm_zone, jobs->refresh_at,
                           NGX_AUTOSCALE_COLLECT_SLICE, jobs->log);
    if (jobs->refresh_at) {
        ngx_post_event(ev, &ngx_posted_next_events);
        return;
    }

    PQclear(jobs->refresh);
    jobs->refresh = NULL;
    jobs->collecting = 0;
}


/* the scaler */

static void
ngx_autoscale_check_handler(ngx_event_t *ev)
{
    ngx_autoscale_jobs_t  *jobs = ev->data;

    if (ngx_exiting) {
        return;
    }

    ngx_add_timer(ev, jobs->amcf->check_interval);

    if (!ngx_autoscale_ready(jobs) || jobs->checking) {
        return;
    }

    if (ngx_autoscale_pg_query(jobs->pool, ngx_autoscale_sql_check, 0, NULL,
                               ngx_autoscale_check_read, jobs)
        == NULL)
    {
        return;
    }

    jobs->checking = 1;
    jobs->started = ngx_current_msec;
    jobs->round_trips = 1;
    jobs->decided = 0;
    jobs->changed = 0;
    jobs->held = 0;
    jobs->rewritten = 0;
    jobs->failed = 0;
    jobs->pending = 0;
}


static ngx_int_t
ngx_autoscale_check_read(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_jobs_t  *jobs = data;

    jobs->read_time = ngx_current_msec - jobs->started;

    if (status != NGX_AUTOSCALE_PG_OK) {
        ngx_autoscale_job_failed(jobs, "check", status, res);
        jobs->checking = 0;
        return NGX_OK;
    }

    /* kept, and decided a slice at a time */
    jobs->rows = res;
    jobs->row = 0;

    ngx_autoscale_check_slice(&jobs->slice_ev);

    return NGX_DONE;
}


static void
ngx_autoscale_check_slice(ngx_event_t *ev)
{
    ngx_autoscale_jobs_t  *jobs = ev->data;

    int  end;

    if (!ngx_autoscale_ready(jobs)) {
        /* no longer the leader: the next one decides afresh */
        PQclear(jobs->rows);
        jobs->rows = NULL;
        ngx_autoscale_decisions_free(jobs);

        if (jobs->pending == 0) {
            jobs->checking = 0;
        }

        return;
    }

    end = ngx_min(jobs->row + NGX_AUTOSCALE_CHECK_SLICE,
                  PQntuples(jobs->rows));

    for ( /* void */ ;
         jobs->row < end && jobs->pending < NGX_AUTOSCALE_CHECK_INFLIGHT;
         jobs->row++)
    {
        ngx_autoscale_check_one(jobs, jobs->row);
    }

    if (jobs->row < PQntuples(jobs->rows)) {
        if (jobs->pending < NGX_AUTOSCALE_CHECK_INFLIGHT) {
            /* the rest on the next turn of the loop, after other events */
            ngx_post_event(ev, &ngx_posted_next_events);
        }

        /* else an answer brings the check back */
        return;
    }

    PQclear(jobs->rows);
    jobs->rows = NULL;

    ngx_autoscale_decisions_flush(jobs, &jobs->holds,
                                  ngx_autoscale_sql_holds);
    ngx_autoscale_decisions_flush(jobs, &jobs->changes,
                                  jobs->amcf->dry_run
                                  ? ngx_autoscale_sql_dry_run
                                  : ngx_autoscale_sql_change);
    ngx_autoscale_decisions_free(jobs);

    if (jobs->pending == 0) {
        ngx_autoscale_check_end(jobs);
    }
}


static void
ngx_autoscale_check_one(ngx_autoscale_jobs_t *jobs, int row)
{
    PGresult  *res = jobs->rows;

    uint64_t                       key;
    u_char                         decided[sizeof("1970-01-01T00:00:00Z")];
    char                          *text;
    cJSON                         *doc;
    size_t                         nsamples;
    ngx_tm_t                       tm;
    ngx_uint_t                     hold;
    ngx_autoscale_decision_t       d;
    ngx_autoscale_decisions_t     *list;
    ngx_autoscale_policy_input_t   in;
    ngx_autoscale_policy_sample_t *samples;

    ngx_memzero(&in, sizeof(ngx_autoscale_policy_input_t));

    in.status = PQgetvalue(res, row, 1);
    in.paused = PQgetvalue(res, row, 2)[0] == 't';
    in.min_workers = (int) ngx_autoscale_number(res, row, 3);
    in.max_workers = (int) ngx_autoscale_number(res, row, 4);
    in.current_workers = (int) ngx_autoscale_number(res, row, 5);
    in.target_workers = (int) ngx_autoscale_number(res, row, 6);
    in.policy = PQgetvalue(res, row, 7);
    in.scale_up_queue = ngx_autoscale_number(res, row, 8);
    in.scale_up_cpu = ngx_autoscale_number(res, row, 9);
    in.scale_down_queue = ngx_autoscale_number(res, row, 10);
    in.scale_down_cpu = ngx_autoscale_number(res, row, 11);
    in.scale_up_factor = ngx_autoscale_number(res, row, 12);
    in.scale_down_factor = ngx_autoscale_number(res, row, 13);
    in.scale_up_cooldown = ngx_autoscale_number(res, row, 14);
    in.scale_down_cooldown = ngx_autoscale_number(res, row, 15);
    in.target_metric = PQgetvalue(res, row, 16);
    in.target_value = ngx_autoscale_number(res, row, 17);
    in.tolerance = ngx_autoscale_number(res, row, 18);
    in.stabilization_window = ngx_autoscale_number(res, row, 19);
    in.since_scaled = PQgetisnull(res, row, 20)
                      ? -1 : ngx_autoscale_number(res, row, 20);
    in.has_metrics = PQgetvalue(res, row, 21)[0] == 't';
    in.metrics_age = ngx_autoscale_number(res, row, 22);
    in.max_age = 2.0 * jobs->amcf->collect_interval / 1000.0;
    in.queue_length = ngx_autoscale_number(res, row, 23);
    in.cpu_usage = ngx_autoscale_number(res, row, 24);
    in.load_percentage = ngx_autoscale_number(res, row, 25);

    samples = NULL;
    nsamples = 0;

    if (!PQgetisnull(res, row, 26)
        && ngx_autoscale_history(PQgetvalue(res, row, 26), &samples,
                                 &nsamples, jobs->log)
           != NGX_OK)
    {
        jobs->failed++;
        return;
    }

    in.history = samples;
    in.nhistory = nsamples;

    ngx_autoscale_policy_decide(&in, &d);

    if ((ngx_uint_t) d.action < NGX_AUTOSCALE_NACTIONS) {
        ngx_autoscale_shm_count(jobs->amcf->shm_zone, decisions[d.action]);
    }

    key = ngx_autoscale_policy_key(&in, &d, jobs->amcf->dry_run);

    if (d.action == NGX_AUTOSCALE_HOLD && !PQgetisnull(res, row, 27)
        && (uint64_t) strtoll(PQgetvalue(res, row, 27), NULL, 10) == key)
    {
        /* the stored explanation still tells the truth */
        jobs->held++;

        if (samples) {
            ngx_free(samples);
        }

        return;
    }

    doc = ngx_autoscale_policy_json(&in, &d);

    if (samples) {
        ngx_free(samples);
    }

    if (doc == NULL) {
        jobs->failed++;
        return;
    }

    ngx_gmtime(ngx_time(), &tm);
    ngx_sprintf(decided, "%4d-%02d-%02dT%02d:%02d:%02dZ%Z",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

    if (cJSON_AddStringToObject(doc, "decided_at", (char *) decided) == NULL
        || cJSON_AddStringToObject(doc, "node", (char *) jobs->node.data)
           == NULL
        || cJSON_AddBoolToObject(doc, "dry_run", jobs->amcf->dry_run) == NULL)
    {
        cJSON_Delete(doc);
        jobs->failed++;
        return;
    }

    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);

    if (text == NULL) {
        jobs->failed++;
        return;
    }

    hold = (d.action == NGX_AUTOSCALE_HOLD);
    list = hold ? &jobs->holds : &jobs->changes;

    if (ngx_autoscale_decisions_add(jobs, list, PQgetvalue(res, row, 0), text,
                                    key)
        != NGX_OK)
    {
        jobs->failed++;
        cJSON_free(text);
        return;
    }

    cJSON_free(text);

    if (hold) {
        jobs->held++;
        jobs->rewritten++;

        if (list->n == NGX_AUTOSCALE_HOLDS_CHUNK) {
            ngx_autoscale_decisions_flush(jobs, list,
                                          ngx_autoscale_sql_holds);
        }

        return;
    }

    /* the pool pipelines the chunks: a change costs no round trip */
    if (list->n == NGX_AUTOSCALE_CHANGES_CHUNK) {
        ngx_autoscale_decisions_flush(jobs, list,
                                      jobs->amcf->dry_run
                                      ? ngx_autoscale_sql_dry_run
                                      : ngx_autoscale_sql_change);
    }
}


static ngx_int_t
ngx_autoscale_check_written(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_check_stmt_t  *st = data;

    ngx_autoscale_jobs_t  *jobs = st->jobs;

    jobs->pending--;

    if (status == NGX_AUTOSCALE_PG_SQL_ERROR && st->n > 1
        && st->sql != ngx_autoscale_sql_holds && jobs->leader
        && ngx_autoscale_data_error(res))
    {
        /* one refused change must not take its chunk with it */
        ngx_autoscale_check_one_by_one(st);

    } else if (status != NGX_AUTOSCALE_PG_OK) {
        jobs->failed += st->n;
        ngx_autoscale_job_failed(jobs, "scaling", status, res);

    } else if (st->sql == ngx_autoscale_sql_change) {
        jobs->changed += ngx_atoi((u_char *) PQgetvalue(res, 0, 0),
                                  PQgetlength(res, 0, 0));
    }

    ngx_free(st);

    if (jobs->rows) {
        /* rows wait: a place is free for the next statement */
        if (!jobs->slice_ev.posted) {
            ngx_post_event(&jobs->slice_ev, &ngx_posted_events);
        }

        return NGX_OK;
    }

    if (jobs->pending == 0 && jobs->holds.data == NULL) {
        ngx_autoscale_check_end(jobs);
    }

    return NGX_OK;
}


/* each change of a refused chunk on its own */
static void
ngx_autoscale_check_one_by_one(ngx_autoscale_check_stmt_t *st)
{
    char                  *one;
    cJSON                 *doc, *item;
    ngx_uint_t             sent;
    ngx_autoscale_jobs_t  *jobs = st->jobs;

    doc = cJSON_ParseWithLength((char *) st->json, st->len);
    sent = 0;

    cJSON_ArrayForEach(item, doc) {
        one = cJSON_PrintUnformatted(item);
        if (one == NULL) {
            break;
        }

        ngx_autoscale_check_send(jobs, st->sql, (u_char *) one,
                                 ngx_strlen(one), 1);
        cJSON_free(one);
        sent++;
    }

    cJSON_Delete(doc);

    jobs->failed += st->n - sent;
}


static void
ngx_autoscale_check_end(ngx_autoscale_jobs_t *jobs)
{
    jobs->checking = 0;

    ngx_log_error(NGX_LOG_INFO, jobs->log, 0,
                  "autoscale: check: %ui decided to change, %ui changed%s, "
                  "%ui held (%ui said anew), %ui failed, %ui round trips "
                  "besides changes, read %M ms, all %M ms",
                  jobs->decided, jobs->changed,
                  jobs->amcf->dry_run ? " (dry run)" : "",
                  jobs->held, jobs->rewritten, jobs->failed,
                  jobs->round_trips,
                  jobs->read_time, ngx_current_msec - jobs->started);
}


static void
ngx_autoscale_job_failed(ngx_autoscale_jobs_t *jobs, const char *job,
    ngx_int_t status, PGresult *res)
{
    if (!jobs->leader) {
        /* cut short by the resignation itself, not by the database */
        ngx_log_error(NGX_LOG_INFO, jobs->log, 0,
                      "autoscale: %s abandoned: no longer the leader", job);
        return;
    }

    ngx_autoscale_shm_count(jobs->amcf->shm_zone, db_errors);

    ngx_log_error(NGX_LOG_WARN, jobs->log, 0,
                  "autoscale: %s failed: %s", job,
                  status == NGX_AUTOSCALE_PG_SQL_ERROR && res
                  ? PQresultErrorMessage(res)
                  : status == NGX_AUTOSCALE_PG_TIMEOUT
                    ? "the database did not answer in time"
                    : "the database cannot be reached");
}


/*
 * Appends {"id":..., "d":..., "k":...} to a chunk of decisions.  Ids are
 * lowercase letters, digits and '-' (a CHECK of the schema), so they need
 * no escaping.
 */
static ngx_int_t
ngx_autoscale_decisions_add(ngx_autoscale_jobs_t *jobs,
    ngx_autoscale_decisions_t *list, const char *id, const char *decision,
    uint64_t key)
{
    u_char  *p;
    size_t   need, size;

    need = ngx_strlen(id) + ngx_strlen(decision) + NGX_INT64_LEN
           + sizeof("[,{\"id\":\"\",\"d\":,\"k\":}]");

    if (list->len + need > list->size) {
        size = ngx_max(2 * list->size, list->len + need + 4096);

        p = ngx_alloc(size, jobs->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (list->data) {
            ngx_memcpy(p, list->data, list->len);
            ngx_free(list->data);
        }

        list->data = p;
        list->size = size;
    }

    p = ngx_sprintf(list->data + list->len,
                    "%s{\"id\":\"%s\",\"d\":%s,\"k\":%L}",
                    list->n ? "," : "[", id, decision, (int64_t) key);

    list->len = p - list->data;
    list->n++;

    return NGX_OK;
}


/* the chunk's statement; the buffer is kept for the next chunk */
static void
ngx_autoscale_decisions_flush(ngx_autoscale_jobs_t *jobs,
    ngx_autoscale_decisions_t *list, const char *sql)
{
    if (list->n == 0) {
        return;
    }

    list->data[list->len++] = ']';

    ngx_autoscale_check_send(jobs, sql, list->data, list->len, list->n);

    if (sql == ngx_autoscale_sql_holds) {
        jobs->round_trips++;

    } else {
        jobs->decided += list->n;
    }

    list->len = 0;
    list->n = 0;
}


static void
ngx_autoscale_check_send(ngx_autoscale_jobs_t *jobs, const char *sql,
    u_char *json, size_t len, ngx_uint_t n)
{
    ngx_str_t                    params[2];
    ngx_autoscale_check_stmt_t  *st;

    /* a lone change from a refused chunk comes without its brackets */
    st = ngx_alloc(sizeof(ngx_autoscale_check_stmt_t) + len + 2, jobs->log);
    if (st == NULL) {
        jobs->failed += n;
        return;
    }

    st->jobs = jobs;
    st->sql = sql;
    st->n = n;

    if (json[0] == '[') {
        st->len = ngx_cpymem(st->json, json, len) - st->json;

    } else {
        st->json[0] = '[';
        st->len = ngx_cpymem(st->json + 1, json, len) - st->json;
        st->json[st->len++] = ']';
    }

    params[0].data = st->json;
    params[0].len = st->len;
    params[1] = jobs->node;

    if (ngx_autoscale_pg_query(jobs->pool, sql,
                               sql == ngx_autoscale_sql_holds ? 1 : 2, params,
                               ngx_autoscale_check_written, st)
        == NULL)
    {
        jobs->failed += n;
        ngx_free(st);
        return;
    }

    jobs->pending++;
}


static void
ngx_autoscale_decisions_free(ngx_autoscale_jobs_t *jobs)
{
    if (jobs->holds.data) {
        ngx_free(jobs->holds.data);
    }

    if (jobs->changes.data) {
        ngx_free(jobs->changes.data);
    }

    ngx_memzero(&jobs->holds, sizeof(ngx_autoscale_decisions_t));
    ngx_memzero(&jobs->changes, sizeof(ngx_autoscale_decisions_t));
}


static double
ngx_autoscale_number(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return NAN;
    }

    return strtod(PQgetvalue(res, row, col), NULL);
}


/* "value age workers,value age workers,..." as samples */
static ngx_int_t
ngx_autoscale_history(const char *text, ngx_autoscale_policy_sample_t **out,
    size_t *n, ngx_log_t *log)
{
    char                           *end;
    size_t                          count, i;
    const char                     *p;
    ngx_autoscale_policy_sample_t  *samples;

    count = 1;
    for (p = text; *p; p++) {
        count += (*p == ',');
    }

    samples = ngx_alloc(count * sizeof(ngx_autoscale_policy_sample_t), log);
    if (samples == NULL) {
        return NGX_ERROR;
    }

    p = text;

    for (i = 0; i < count && *p; i++) {
        samples[i].value = strtod(p, &end);
        samples[i].age = strtod(end, &end);
        samples[i].workers = (int) strtol(end, &end, 10);

        p = (*end == ',') ? end + 1 : end;
    }

    *out = samples;
    *n = i;

    return NGX_OK;
}
