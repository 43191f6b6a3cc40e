
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The statements of the leader's jobs: the advisory lock, the collection,
 * the check and the decisions it writes.  Each is a macro, one clause a
 * line, with its parameters above it and, for what it returns, an enum of
 * the result's columns below it.  Every statement that writes re-checks in
 * SQL that its session holds the lock, so that a leader that lost its
 * session changes nothing.
 */


#ifndef _NGX_AUTOSCALE_SQL_JOBS_H_INCLUDED_
#define _NGX_AUTOSCALE_SQL_JOBS_H_INCLUDED_


#include "ngx_autoscale_sql_notify.h"


#define NGX_AUTOSCALE_SQL_LOCK_KEY   "1313294401"    /* "NGXA" */

/* where sums that could pass a bigint stop */
#define NGX_AUTOSCALE_SQL_INT64_MAX  "9223372036854775807"


/* true in the session that holds the lock, whichever statement asks */
#define NGX_AUTOSCALE_SQL_HOLDS_LOCK                                          \
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "             \
    "AND pid = pg_backend_pid() AND classid = 0 "                             \
    "AND objid = " NGX_AUTOSCALE_SQL_LOCK_KEY " AND objsubid = 1 AND granted)"


/* the lock of the session, taken if free: no parameters */
#define NGX_AUTOSCALE_SQL_LOCK                                                \
    "SELECT pg_try_advisory_lock(" NGX_AUTOSCALE_SQL_LOCK_KEY ")"

typedef enum {
    NGX_AUTOSCALE_LOCK_GRANTED = 0                  /* 't' or 'f' */
} ngx_autoscale_sql_lock_col_e;


/*
 * One collection in one statement.
 *
 *   $1   the queued metrics rows, oldest first, with what the zone
 *        measured in each window; the row is derived from it here, with
 *        the cluster's workers and capacity
 *   $2   the agents to write
 *   $3   the metrics' retention, s
 *   $4   this node
 *   $5   $6  when not NULL, the rows (1-based, inclusive) to take of $1
 *   $7   $8  and the agents to take of $2: a collection split to find
 *            the one that fails
 *   $9   the retention of events, s
 *   $10  the retention of stopped or lost agents, s
 *   $11  whether this is a collection's last part (or the whole of it):
 *        only that part prunes past the retentions, at most 10 000 rows
 *        of each kind, and returns the clusters
 *
 * Sums that could pass a bigint (a hostile agent's task totals) saturate.
 * A row already written (a batch sent again after an answer that was
 * lost) is skipped by its cluster and timestamp.  The newest new row of
 * each cluster updates the cluster, unless it is idle and nothing would
 * change: load, health, tasks, and for "reported" actuation the workers
 * (below), with status back to active at the target, or after the
 * cooldown with a "timeout" event.
 * What the database then says of every cluster goes back to the zone.
 */
typedef enum {
    NGX_AUTOSCALE_COLLECT_ARG_ROWS = 0,               /* $1 */
    NGX_AUTOSCALE_COLLECT_ARG_AGENTS,                 /* $2 */
    NGX_AUTOSCALE_COLLECT_ARG_METRICS_RETENTION,      /* $3 */
    NGX_AUTOSCALE_COLLECT_ARG_NODE,                   /* $4 */
    NGX_AUTOSCALE_COLLECT_ARG_ROWS_FROM,              /* $5 */
    NGX_AUTOSCALE_COLLECT_ARG_ROWS_TO,                /* $6 */
    NGX_AUTOSCALE_COLLECT_ARG_AGENTS_FROM,            /* $7 */
    NGX_AUTOSCALE_COLLECT_ARG_AGENTS_TO,              /* $8 */
    NGX_AUTOSCALE_COLLECT_ARG_EVENTS_RETENTION,       /* $9 */
    NGX_AUTOSCALE_COLLECT_ARG_AGENTS_RETENTION,       /* $10 */
    NGX_AUTOSCALE_COLLECT_ARG_LAST,                   /* $11 */
    NGX_AUTOSCALE_COLLECT_NARGS
} ngx_autoscale_sql_collect_arg_e;

/*
 * A "reported" cluster's workers, as of a row's count of running agents
 * (NULL: the cluster has no agent): that count when it changed since the
 * collection saw it last, else the count the cluster has, which an
 * orchestrator may have reported since.
 */
#define NGX_AUTOSCALE_SQL_REPORTED_WORKERS(running)                           \
    "CASE WHEN c.actuation = 'reported' AND " running " IS NOT NULL "         \
    "AND " running " IS DISTINCT FROM c.agents_running "                      \
    "THEN least(" running ", 1000) ELSE c.current_workers END"

#define NGX_AUTOSCALE_SQL_COLLECT                                             \
    "WITH lk AS (SELECT " NGX_AUTOSCALE_SQL_HOLDS_LOCK " AS held), "          \
                                                                              \
    "r AS (SELECT d.* "                                                       \
        "FROM lk, jsonb_to_recordset(CASE WHEN $5::int IS NULL "              \
        "THEN $1::jsonb ELSE (SELECT jsonb_agg(x.e ORDER BY x.n) "            \
        "FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n) "    \
        "WHERE x.n BETWEEN $5::int AND $6::int) END) "                        \
        "AS d(id text, "                                                      \
        "ts timestamptz, secs float8, started bigint, finished bigint, "      \
        "avg float8, peak int, lat bigint, e5 bigint, live int, active int, " \
        "idle int, busy int, failed int, done bigint, fail bigint, "          \
        "running int, cpu float8, mem float8, queue float8) "                 \
        "WHERE lk.held AND d.secs > 0), "                                     \
                                                                              \
    "v AS (SELECT r.*, k.workers, k.workers::float8 * c.worker_capacity "     \
        "AS cap "                                                             \
        "FROM r JOIN clusters c ON c.id = r.id "                              \
        "AND c.status IN ('active', 'scaling_up', 'scaling_down'), "          \
        "LATERAL (SELECT "                                                    \
        NGX_AUTOSCALE_SQL_REPORTED_WORKERS("r.running") " AS workers) k), "   \
                                                                              \
    "q AS (SELECT v.*, "                                                      \
        "CASE WHEN v.cap > 0 THEN least(100, 100 * v.avg "                    \
        "/ v.cap) WHEN v.avg > 0 THEN 100 ELSE 0 END AS util, "               \
        "coalesce(v.queue, greatest(0, v.avg - v.cap)) AS qlen, "             \
        "(v.finished::float8 + v.done) / v.secs AS rate "                     \
        "FROM v), "                                                           \
                                                                              \
    "ins AS (INSERT INTO cluster_metrics (cluster_id, \"timestamp\", "        \
        "cpu_usage, memory_usage, queue_length, queue_wait_time, "            \
        "active_agents, idle_agents, busy_agents, failed_agents, "            \
        "tasks_per_minute, avg_response_time, error_rate, requests_started, " \
        "requests_finished, inflight_avg, inflight_peak, errors_5xx, "        \
        "window_seconds, current_workers) "                                   \
        "SELECT q.id, q.ts, coalesce(q.cpu, q.util), q.mem, "                 \
        "q.qlen, CASE WHEN q.qlen = 0 THEN 0 WHEN q.rate > 0 "                \
        "THEN q.qlen / q.rate END, q.active, q.idle, q.busy, q.failed, "      \
        "60 * q.rate, "                                                       \
        "CASE WHEN q.finished > 0 THEN q.lat::float8 / q.finished "           \
        "END, CASE WHEN q.finished > 0 THEN least(100, 100.0 * q.e5 "         \
        "/ q.finished) ELSE 0 END, q.started, q.finished, q.avg, q.peak, "    \
        "q.e5, q.secs, q.workers "                                            \
        "FROM q "                                                             \
        "WHERE NOT EXISTS (SELECT 1 "                                         \
        "FROM cluster_metrics x WHERE x.cluster_id = q.id "                   \
        "AND x.\"timestamp\" = q.ts) "                                        \
        "ORDER BY q.ts, q.id "                                                \
        "RETURNING cluster_id, \"timestamp\"), "                              \
                                                                              \
    "l AS (SELECT DISTINCT ON (q.id) q.*, "                                   \
        "sum(q.done) OVER (PARTITION BY q.id) AS done_all, "                  \
        "sum(q.fail) OVER (PARTITION BY q.id) AS fail_all "                   \
        "FROM q JOIN ins ON ins.cluster_id = q.id "                           \
        "AND ins.\"timestamp\" = q.ts "                                       \
        "ORDER BY q.id, q.ts DESC), "                                         \
                                                                              \
    /* running agents count for a hibernated cluster too, measured or not */  \
    "n AS (SELECT DISTINCT ON (r.id) r.id, r.running "                        \
        "FROM r ORDER BY r.id, r.ts DESC), "                                  \
                                                                              \
    "s AS (SELECT c.id, l.id IS NOT NULL AS measured, l.util, l.live, "       \
        "l.failed, l.finished, l.e5, l.done_all, l.fail_all, n.running, "     \
        NGX_AUTOSCALE_SQL_REPORTED_WORKERS("n.running") " AS cur, "           \
        "(c.actuation = 'reported' AND n.running IS NOT NULL "                \
        "AND n.running IS DISTINCT FROM c.agents_running) AS seen, "          \
        "(CASE WHEN l.live + l.failed > 0 THEN l.live::float8 "               \
        "/ (l.live + l.failed) ELSE 1 END) * (1 - CASE WHEN l.finished > 0 "  \
        "THEN least(1, l.e5::float8 / l.finished) ELSE 0 END) AS health, "    \
        "(c.actuation = 'reported' AND c.status IN ('scaling_up', "           \
        "'scaling_down') AND c.last_scaled_at < now() "                       \
        "- make_interval(secs => "                                            \
        "CASE WHEN c.status = 'scaling_up' THEN c.scale_up_cooldown "         \
        "ELSE c.scale_down_cooldown END)) AS late "                           \
        "FROM lk, clusters c LEFT JOIN l ON l.id = c.id "                     \
        "LEFT JOIN n ON n.id = c.id "                                         \
        "WHERE lk.held "                                                      \
        "AND (l.id IS NOT NULL OR (c.actuation = 'reported' "                 \
        "AND (n.id IS NOT NULL OR c.status IN ('scaling_up', "                \
        "'scaling_down'))))), "                                               \
                                                                              \
    "upd AS (UPDATE clusters c SET "                                          \
        "load_percentage = CASE WHEN s.measured THEN s.util "                 \
        "ELSE c.load_percentage END, "                                        \
        "health_score = CASE WHEN s.measured THEN s.health "                  \
        "ELSE c.health_score END, "                                           \
        "current_workers = s.cur, "                                           \
        "agents_running = CASE WHEN s.seen THEN s.running "                   \
        "ELSE c.agents_running END, "                                         \
        "status = CASE WHEN c.actuation = 'reported' AND c.status IN "        \
        "('scaling_up', 'scaling_down') AND (s.cur = c.target_workers "       \
        "OR s.late) THEN 'active' ELSE c.status END, "                        \
        "tasks_completed = least(c.tasks_completed "                          \
        "+ coalesce(s.done_all, 0), "                                         \
        NGX_AUTOSCALE_SQL_INT64_MAX ")::bigint, "                             \
        "tasks_failed = least(c.tasks_failed + coalesce(s.fail_all, 0), "     \
        NGX_AUTOSCALE_SQL_INT64_MAX ")::bigint, "                             \
        "last_active = CASE WHEN s.finished > 0 OR s.live > 0 THEN now() "    \
        "ELSE c.last_active END "                                             \
        "FROM s "                                                             \
        "WHERE c.id = s.id AND (s.late OR s.seen "                            \
        "OR (c.actuation = 'reported' "                                       \
        "AND c.status IN ('scaling_up', 'scaling_down') "                     \
        "AND s.cur = c.target_workers) OR (s.measured AND (s.finished > 0 "   \
        "OR s.live > 0 OR s.done_all + s.fail_all > 0 "                       \
        "OR s.cur <> c.current_workers OR s.util <> c.load_percentage "       \
        "OR s.health <> c.health_score))) "                                   \
        "RETURNING c.id, c.current_workers, c.target_workers, "               \
        "c.load_percentage, c.health_score, "                                 \
        "s.late AND s.cur <> c.target_workers AS timed_out), "                \
                                                                              \
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "   \
        "to_workers, reason, node) "                                          \
        "SELECT u.id, 'timeout', u.current_workers, "                         \
        "u.current_workers, "                                                 \
        "format('reported workers reached %s of the target %s within "        \
        "the cooldown', u.current_workers, u.target_workers), $4 "            \
        "FROM upd u WHERE u.timed_out "                                       \
        "RETURNING id, cluster_id, from_workers, to_workers, reason), "       \
                                                                              \
    "g AS (SELECT * "                                                         \
        "FROM jsonb_to_recordset(CASE WHEN $7::int IS NULL "                  \
        "THEN $2::jsonb ELSE (SELECT jsonb_agg(x.e ORDER BY x.n) "            \
        "FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, n) "    \
        "WHERE x.n BETWEEN $7::int AND $8::int) END) AS g(cluster text, "     \
        "agent text, status text, done bigint, fail bigint, hb timestamptz, " \
        "cpu float8, mem float8, queue float8, addr text, weight int)), "     \
                                                                              \
    "ag AS (INSERT INTO cluster_agents AS a (cluster_id, agent_id, status, "  \
        "health_score, cpu_usage, memory_usage, queue_length, "               \
        "tasks_completed, tasks_failed, last_heartbeat, last_active, "        \
        "stopped_at, address, weight) "                                       \
        "SELECT g.cluster, g.agent, g.status, "                               \
        "CASE WHEN g.status IN ('failed', 'lost') THEN 0 ELSE 1 END, "        \
        "g.cpu, g.mem, g.queue, g.done, g.fail, "                             \
        "g.hb, g.hb, CASE WHEN g.status = 'stopped' THEN g.hb END, "          \
        "g.addr, g.weight "                                                   \
        "FROM lk, g "                                                         \
        "WHERE lk.held AND EXISTS (SELECT 1 "                                 \
        "FROM clusters c WHERE c.id = g.cluster "                             \
        "AND c.status <> 'destroyed') "                                       \
        "ON CONFLICT (cluster_id, agent_id) DO UPDATE SET "                   \
        "status = excluded.status, health_score = excluded.health_score, "    \
        "cpu_usage = excluded.cpu_usage, "                                    \
        "memory_usage = excluded.memory_usage, "                              \
        "queue_length = excluded.queue_length, "                              \
        "tasks_completed = excluded.tasks_completed, "                        \
        "tasks_failed = excluded.tasks_failed, "                              \
        "last_heartbeat = excluded.last_heartbeat, "                          \
        "address = excluded.address, weight = excluded.weight, "              \
        "last_active = CASE WHEN excluded.status IN ('active', 'busy') "      \
        "THEN excluded.last_heartbeat ELSE a.last_active END, "               \
        "stopped_at = CASE WHEN excluded.status = 'stopped' "                 \
        "THEN coalesce(a.stopped_at, excluded.stopped_at) END "               \
        "RETURNING 1), "                                                      \
                                                                              \
    "del AS (DELETE FROM cluster_metrics WHERE id IN (SELECT m.id "           \
        "FROM cluster_metrics m, lk "                                         \
        "WHERE lk.held AND $11::bool "                                        \
        "AND m.\"timestamp\" < now() - make_interval(secs => $3::float8) "    \
        "LIMIT 10000) "                                                       \
        "RETURNING 1), "                                                      \
                                                                              \
    "dev AS (DELETE FROM scaling_events WHERE id IN (SELECT e.id "            \
        "FROM scaling_events e, lk "                                          \
        "WHERE lk.held AND $11::bool "                                        \
        "AND e.at < now() - make_interval(secs => $9::float8) "               \
        "LIMIT 10000) "                                                       \
        "RETURNING 1), "                                                      \
                                                                              \
    "dag AS (DELETE FROM cluster_agents WHERE id IN (SELECT a.id "            \
        "FROM cluster_agents a, lk "                                          \
        "WHERE lk.held AND $11::bool "                                        \
        "AND a.status IN ('stopped', 'lost') "                                \
        "AND a.last_heartbeat < now() - make_interval(secs => $10::float8) "  \
        "AND NOT EXISTS (SELECT 1 FROM g WHERE g.cluster = a.cluster_id "     \
        "AND g.agent = a.agent_id) "                                          \
        "LIMIT 10000) "                                                       \
        "RETURNING 1) "                                                       \
                                                                              \
    "SELECT (SELECT held FROM lk), "                                          \
        "(SELECT count(*) FROM ins), "                                        \
        "(SELECT count(*) FROM ag), "                                         \
        "(SELECT count(*) FROM del) "                                         \
        "+ (SELECT count(*) FROM dev) + (SELECT count(*) FROM dag), "         \
        "(SELECT count("                                                      \
        NGX_AUTOSCALE_SQL_NOTIFY("'timeout'", "e.cluster_id", "e.id",         \
                                 "e.from_workers", "e.to_workers",            \
                                 "'active'", "e.to_workers",                  \
                                 "u.target_workers", "e.reason", "NULL")      \
        ") FROM ev e JOIN upd u ON u.id = e.cluster_id), "                    \
        "(SELECT string_agg(concat_ws(' ', c.id, "                            \
        "coalesce(u.current_workers, c.current_workers), "                    \
        "coalesce(u.target_workers, c.target_workers), "                      \
        "coalesce(u.load_percentage, c.load_percentage), "                    \
        "coalesce(u.health_score, c.health_score)), ',') "                    \
        "FROM lk, clusters c LEFT JOIN upd u ON u.id = c.id "                 \
        "WHERE lk.held AND $11::bool AND c.status <> 'destroyed')"

typedef enum {
    NGX_AUTOSCALE_COLLECT_HELD = 0,       /* 'f': the lock was lost */
    NGX_AUTOSCALE_COLLECT_ROWS,           /* metrics rows written */
    NGX_AUTOSCALE_COLLECT_AGENTS,         /* agents written */
    NGX_AUTOSCALE_COLLECT_PRUNED,         /* rows, events, agents deleted */
    NGX_AUTOSCALE_COLLECT_TIMEOUTS,       /* "timeout" events */
    NGX_AUTOSCALE_COLLECT_CLUSTERS        /* "id current target load
                                             health,...", or NULL */
} ngx_autoscale_sql_collect_col_e;


/*
 * Every active cluster with its latest metrics row and, for target
 * tracking, the rows of its stabilization window as "value age workers"
 * triples; for the demand policy, those rows and the latest, newest
 * first, as "age secs started finished inflight workers queue cpu live"
 * (NaN where NULL); nothing unless this session holds the lock.  No
 * parameters.
 */
#define NGX_AUTOSCALE_SQL_CHECK                                               \
    "SELECT c.id, c.status, c.paused, c.min_workers, c.max_workers, "         \
        "c.current_workers, c.target_workers, c.policy, c.scale_up_queue, "   \
        "c.scale_up_cpu, c.scale_down_queue, c.scale_down_cpu, "              \
        "c.scale_up_factor, c.scale_down_factor, c.scale_up_cooldown, "       \
        "c.scale_down_cooldown, c.target_metric, c.target_value, "            \
        "c.tolerance, c.stabilization_window, "                               \
        "extract(epoch FROM now() - c.last_scaled_at), "                      \
        "m.cluster_id IS NOT NULL, "                                          \
        "extract(epoch FROM now() - m.\"timestamp\"), "                       \
        "m.queue_length, m.cpu_usage, c.load_percentage, h.samples, "         \
        "c.decision_key, c.worker_capacity, dm.rows "                         \
    "FROM clusters c "                                                        \
    "LEFT JOIN LATERAL (SELECT * FROM cluster_metrics "                       \
        "WHERE cluster_id = c.id "                                            \
        "ORDER BY \"timestamp\" DESC LIMIT 1) m ON true "                     \
    "LEFT JOIN LATERAL (SELECT string_agg(concat_ws(' ', "                    \
        "CASE c.target_metric WHEN 'queue_per_worker' THEN w.queue_length "   \
        "WHEN 'cpu_usage' THEN w.cpu_usage "                                  \
        "ELSE least(100, 100 * w.inflight_avg "                               \
        "/ greatest(coalesce(w.current_workers, c.current_workers) "          \
        "* c.worker_capacity, 1)) END, "                                      \
        "extract(epoch FROM now() - w.\"timestamp\"), "                       \
        "coalesce(w.current_workers, c.current_workers)), ',') AS samples "   \
        "FROM cluster_metrics w "                                             \
        "WHERE c.policy = 'target' "                                          \
        "AND w.cluster_id = c.id AND w.\"timestamp\" >= now() "               \
        "- make_interval(secs => c.stabilization_window)) h ON true "         \
    "LEFT JOIN LATERAL (SELECT string_agg(concat_ws(' ', "                    \
        "extract(epoch FROM now() - w.\"timestamp\"), "                       \
        "coalesce(w.window_seconds::text, 'NaN'), w.requests_started, "       \
        "w.requests_finished, w.inflight_avg, "                               \
        "coalesce(w.current_workers::text, 'NaN'), w.queue_length, "          \
        "w.cpu_usage, w.active_agents + w.idle_agents + w.busy_agents), "     \
        "',' ORDER BY w.\"timestamp\" DESC) AS rows "                         \
        "FROM cluster_metrics w "                                             \
        "WHERE c.policy = 'demand' "                                          \
        "AND w.cluster_id = c.id "                                            \
        "AND w.\"timestamp\" >= least(m.\"timestamp\", now() "                \
        "- make_interval(secs => c.stabilization_window))) dm ON true "       \
    "WHERE c.status IN ('active', 'scaling_up', 'scaling_down') "             \
        "AND " NGX_AUTOSCALE_SQL_HOLDS_LOCK " "                               \
    "ORDER BY c.id"

typedef enum {
    NGX_AUTOSCALE_CHECK_ID = 0,
    NGX_AUTOSCALE_CHECK_STATUS,
    NGX_AUTOSCALE_CHECK_PAUSED,
    NGX_AUTOSCALE_CHECK_MIN_WORKERS,
    NGX_AUTOSCALE_CHECK_MAX_WORKERS,
    NGX_AUTOSCALE_CHECK_CURRENT_WORKERS,
    NGX_AUTOSCALE_CHECK_TARGET_WORKERS,
    NGX_AUTOSCALE_CHECK_POLICY,
    NGX_AUTOSCALE_CHECK_SCALE_UP_QUEUE,
    NGX_AUTOSCALE_CHECK_SCALE_UP_CPU,
    NGX_AUTOSCALE_CHECK_SCALE_DOWN_QUEUE,
    NGX_AUTOSCALE_CHECK_SCALE_DOWN_CPU,
    NGX_AUTOSCALE_CHECK_SCALE_UP_FACTOR,
    NGX_AUTOSCALE_CHECK_SCALE_DOWN_FACTOR,
    NGX_AUTOSCALE_CHECK_SCALE_UP_COOLDOWN,
    NGX_AUTOSCALE_CHECK_SCALE_DOWN_COOLDOWN,
    NGX_AUTOSCALE_CHECK_TARGET_METRIC,
    NGX_AUTOSCALE_CHECK_TARGET_VALUE,
    NGX_AUTOSCALE_CHECK_TOLERANCE,
    NGX_AUTOSCALE_CHECK_STABILIZATION_WINDOW,
    NGX_AUTOSCALE_CHECK_SINCE_SCALED,         /* s; NULL: never scaled */
    NGX_AUTOSCALE_CHECK_HAS_METRICS,
    NGX_AUTOSCALE_CHECK_METRICS_AGE,          /* s */
    NGX_AUTOSCALE_CHECK_QUEUE_LENGTH,
    NGX_AUTOSCALE_CHECK_CPU_USAGE,
    NGX_AUTOSCALE_CHECK_LOAD_PERCENTAGE,
    NGX_AUTOSCALE_CHECK_SAMPLES,              /* "value age workers,..." */
    NGX_AUTOSCALE_CHECK_DECISION_KEY,         /* of the stored decision */
    NGX_AUTOSCALE_CHECK_WORKER_CAPACITY,
    NGX_AUTOSCALE_CHECK_DEMAND_ROWS,          /* "age secs started ...,..." */
    NGX_AUTOSCALE_CHECK_NCOLUMNS
} ngx_autoscale_sql_check_col_e;


/*
 * The decisions of a chunk, as rows: $1 [{"id": ..., "d": {...}}], each
 * decision's result saying from, to and action.
 */
#define NGX_AUTOSCALE_SQL_DECISIONS                                           \
    "WITH d AS (SELECT x.id, (x.d #>> '{result,from}')::int AS f, "           \
        "(x.d #>> '{result,to}')::int AS t, x.d #>> '{result,action}' AS a, " \
        "x.d ->> 'reason' AS r, x.d AS dec "                                  \
        "FROM jsonb_to_recordset($1::jsonb) AS x(id text, d jsonb)), "

/*
 * Decisions that change their clusters, a chunk at a time: $1 as above,
 * $2 this node.  The rows are locked in order and checked again: still
 * active, unpaused, at the size decided from, out of the cooldown (or a
 * demand scale-up that the policy let pass it), and
 * this session still holds the lock.  Each change that passes gets its
 * event and its NOTIFY in the same transaction; one that does not is left
 * alone.  The changes made come back with their targets and the agents
 * their decisions drain, for the zone.
 */
#define NGX_AUTOSCALE_SQL_CHANGE                                              \
    NGX_AUTOSCALE_SQL_DECISIONS                                               \
                                                                              \
    "cur AS (SELECT c.id, c.actuation, c.status, c.paused, "                  \
        "c.current_workers, c.last_scaled_at, c.scale_up_cooldown, "          \
        "c.scale_down_cooldown, d.f, d.t, d.a, d.r, d.dec "                   \
        "FROM clusters c JOIN d ON d.id = c.id "                              \
        "ORDER BY c.id "                                                      \
        "FOR UPDATE OF c), "                                                  \
                                                                              \
    "upd AS (UPDATE clusters u SET target_workers = cur.t, "                  \
        "current_workers = CASE WHEN cur.actuation = 'immediate' THEN cur.t " \
        "ELSE u.current_workers END, "                                        \
        "status = CASE WHEN cur.actuation = 'immediate' "                     \
        "OR cur.t = cur.current_workers THEN 'active' "                       \
        "WHEN cur.t > cur.current_workers THEN 'scaling_up' "                 \
        "ELSE 'scaling_down' END, "                                           \
        "last_scaled_at = now(), last_decision = cur.dec, "                   \
        "decision_key = NULL, updated_at = now() "                            \
        "FROM cur "                                                           \
        "WHERE u.id = cur.id AND " NGX_AUTOSCALE_SQL_HOLDS_LOCK " "           \
        "AND cur.status IN ('active', 'scaling_up', 'scaling_down') "         \
        "AND NOT cur.paused AND cur.current_workers = cur.f "                 \
        "AND (cur.a = 'bounds' OR cur.last_scaled_at IS NULL "                \
        "OR (cur.t > cur.f "                                                  \
        "AND cur.dec #> '{estimate,up_cooldown_passed}' = 'true') "           \
        "OR now() - cur.last_scaled_at >= make_interval(secs => "             \
        "CASE WHEN cur.t > cur.f THEN cur.scale_up_cooldown "                 \
        "ELSE cur.scale_down_cooldown END)) "                                 \
        "RETURNING u.id, u.status, u.current_workers, u.target_workers, "     \
        "cur.f, cur.t, cur.a, cur.r, cur.dec), "                              \
                                                                              \
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "   \
        "to_workers, reason, inputs, dry_run, node, actuation, "              \
        "after_status, after_current) "                                       \
        "SELECT id, a, f, t, r, dec, false, $2, 'pending', status, "          \
        "current_workers FROM upd "                                           \
        "RETURNING id, cluster_id) "                                          \
                                                                              \
    "SELECT (SELECT count(*) FROM upd), "                                     \
        "(SELECT count("                                                      \
        NGX_AUTOSCALE_SQL_NOTIFY("upd.a", "upd.id", "ev.id", "upd.f",         \
                                 "upd.t", "upd.status",                       \
                                 "upd.current_workers", "upd.target_workers", \
                                 "upd.r", "upd.dec -> 'drain'") ") "          \
        "FROM upd JOIN ev ON ev.cluster_id = upd.id), "                       \
        "(SELECT json_agg(json_build_object('id', upd.id, 't', upd.t, "       \
        "'drain', (upd.dec -> 'drain')::text)) FROM upd)"

typedef enum {
    NGX_AUTOSCALE_CHANGE_CHANGED = 0,     /* clusters changed */
    NGX_AUTOSCALE_CHANGE_NOTIFIED,
    NGX_AUTOSCALE_CHANGE_TARGETS          /* [{id, t, drain}] or NULL */
} ngx_autoscale_sql_change_col_e;


/*
 * The same decisions under autoscale_dry_run: recorded, nothing changed.
 * $1 and $2 as above.
 */
#define NGX_AUTOSCALE_SQL_DRY_RUN                                             \
    NGX_AUTOSCALE_SQL_DECISIONS                                               \
                                                                              \
    "upd AS (UPDATE clusters c SET last_decision = d.dec, "                   \
        "decision_key = NULL "                                                \
        "FROM d "                                                             \
        "WHERE c.id = d.id AND " NGX_AUTOSCALE_SQL_HOLDS_LOCK " "             \
        "RETURNING c.id, d.f, d.t, d.a, d.r, d.dec), "                        \
                                                                              \
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "   \
        "to_workers, reason, inputs, dry_run, node) "                         \
        "SELECT id, a, f, t, r, dec, true, $2 FROM upd "                      \
        "RETURNING id) "                                                      \
                                                                              \
    "SELECT count(*) FROM ev"

typedef enum {
    NGX_AUTOSCALE_DRY_RUN_RECORDED = 0
} ngx_autoscale_sql_dry_run_col_e;


/*
 * Held decisions that say something new, a chunk at a time:
 * $1 [{"id": ..., "d": {...}, "k": key}].  Returns no rows.
 */
#define NGX_AUTOSCALE_SQL_HOLDS                                               \
    "UPDATE clusters c SET last_decision = d.d, decision_key = d.k "          \
    "FROM jsonb_to_recordset($1::jsonb) AS d(id text, d jsonb, k bigint) "    \
    "WHERE c.id = d.id AND " NGX_AUTOSCALE_SQL_HOLDS_LOCK


/*
 * Scale from zero: a request arrived for each cluster of $1 (a text[])
 * while none of its agents served.  Each that is still active, unpaused
 * and at a target of 0 goes to 1 at once, cooldown or not, with its event
 * and NOTIFY as any change; $2 this node, $3 the decision's inputs.
 */
#define NGX_AUTOSCALE_SQL_WAKE                                                \
    "WITH cur AS (SELECT c.id, c.actuation, c.current_workers "               \
        "FROM clusters c "                                                    \
        "WHERE c.id = ANY($1::text[]) AND c.status = 'active' "               \
        "AND NOT c.paused AND c.target_workers = 0 AND c.max_workers >= 1 "   \
        "ORDER BY c.id "                                                      \
        "FOR UPDATE OF c), "                                                  \
                                                                              \
    "upd AS (UPDATE clusters u SET target_workers = 1, "                      \
        "current_workers = CASE WHEN cur.actuation = 'immediate' THEN 1 "     \
        "ELSE u.current_workers END, "                                        \
        "status = CASE WHEN cur.actuation = 'immediate' "                     \
        "OR cur.current_workers = 1 THEN 'active' ELSE 'scaling_up' END, "    \
        "last_scaled_at = now(), last_decision = $3::jsonb, "                 \
        "decision_key = NULL, updated_at = now() "                            \
        "FROM cur "                                                           \
        "WHERE u.id = cur.id AND " NGX_AUTOSCALE_SQL_HOLDS_LOCK " "           \
        "RETURNING u.id, u.status, u.current_workers, u.target_workers, "     \
        "cur.current_workers AS f), "                                         \
                                                                              \
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "   \
        "to_workers, reason, inputs, dry_run, node, actuation, "              \
        "after_status, after_current) "                                       \
        "SELECT id, 'scale_up', f, 1, $3::jsonb ->> 'reason', $3::jsonb, "    \
        "false, $2, 'pending', status, current_workers FROM upd "             \
        "RETURNING id, cluster_id) "                                          \
                                                                              \
    "SELECT (SELECT count(*) FROM upd), "                                     \
        "(SELECT string_agg(id, ',') FROM upd), "                             \
        "(SELECT count("                                                      \
        NGX_AUTOSCALE_SQL_NOTIFY("'scale_up'", "upd.id", "ev.id", "upd.f",    \
                                 "1", "upd.status", "upd.current_workers",    \
                                 "upd.target_workers",                        \
                                 "$3::jsonb ->> 'reason'", "NULL") ") "       \
        "FROM upd JOIN ev ON ev.cluster_id = upd.id)"

typedef enum {
    NGX_AUTOSCALE_WAKE_CHANGED = 0,       /* clusters woken */
    NGX_AUTOSCALE_WAKE_WOKEN,             /* their ids, "a,b"; NULL: none */
    NGX_AUTOSCALE_WAKE_NOTIFIED
} ngx_autoscale_sql_wake_col_e;


#endif /* _NGX_AUTOSCALE_SQL_JOBS_H_INCLUDED_ */
