
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The cluster endpoints.  Every write is one statement, so one transaction:
 * it locks the row (FOR UPDATE) so concurrent writes to a cluster queue up,
 * re-checks what it needs in its WHERE clause, writes the scaling_events
 * row and sends NOTIFY autoscale, all or nothing.  What the statement
 * returns tells a refused write apart from the rule it broke.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api.h"
#include "ngx_autoscale_api_clusters.h"
#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"


/*
 * The cluster as the API shows it, in the order of the select list below.
 * Times come in the session's zone, UTC (see ngx_autoscale_pg.c).
 */

static const ngx_autoscale_col_t  ngx_autoscale_cluster_cols[] = {
    { "id", NGX_AUTOSCALE_COL_TEXT },
    { "name", NGX_AUTOSCALE_COL_TEXT },
    { "type", NGX_AUTOSCALE_COL_TEXT },
    { "status", NGX_AUTOSCALE_COL_TEXT },
    { "description", NGX_AUTOSCALE_COL_TEXT },
    { "blueprint_id", NGX_AUTOSCALE_COL_TEXT },
    { "blueprint_version", NGX_AUTOSCALE_COL_TEXT },
    { "min_workers", NGX_AUTOSCALE_COL_INT },
    { "max_workers", NGX_AUTOSCALE_COL_INT },
    { "current_workers", NGX_AUTOSCALE_COL_INT },
    { "target_workers", NGX_AUTOSCALE_COL_INT },
    { "agents_count", NGX_AUTOSCALE_COL_INT },
    { "health_score", NGX_AUTOSCALE_COL_FLOAT },
    { "load_percentage", NGX_AUTOSCALE_COL_FLOAT },
    { "tasks_completed", NGX_AUTOSCALE_COL_INT },
    { "tasks_failed", NGX_AUTOSCALE_COL_INT },
    { "paused", NGX_AUTOSCALE_COL_BOOL },
    { "tags", NGX_AUTOSCALE_COL_JSON },
    { "config", NGX_AUTOSCALE_COL_JSON },
    { "policy", NGX_AUTOSCALE_COL_TEXT },
    { "scale_up_queue", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_up_cpu", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_down_queue", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_down_cpu", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_up_factor", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_down_factor", NGX_AUTOSCALE_COL_FLOAT },
    { "scale_up_cooldown", NGX_AUTOSCALE_COL_INT },
    { "scale_down_cooldown", NGX_AUTOSCALE_COL_INT },
    { "target_metric", NGX_AUTOSCALE_COL_TEXT },
    { "target_value", NGX_AUTOSCALE_COL_FLOAT },
    { "tolerance", NGX_AUTOSCALE_COL_FLOAT },
    { "stabilization_window", NGX_AUTOSCALE_COL_INT },
    { "actuation", NGX_AUTOSCALE_COL_TEXT },
    { "worker_capacity", NGX_AUTOSCALE_COL_INT },
    { "last_decision", NGX_AUTOSCALE_COL_JSON },
    { "created_at", NGX_AUTOSCALE_COL_TIME },
    { "started_at", NGX_AUTOSCALE_COL_TIME },
    { "hibernated_at", NGX_AUTOSCALE_COL_TIME },
    { "destroyed_at", NGX_AUTOSCALE_COL_TIME },
    { "last_active", NGX_AUTOSCALE_COL_TIME },
    { "last_scaled_at", NGX_AUTOSCALE_COL_TIME },
    { "updated_at", NGX_AUTOSCALE_COL_TIME }
};

#define NGX_AUTOSCALE_CLUSTER_NCOLS                                           \
    (sizeof(ngx_autoscale_cluster_cols) / sizeof(ngx_autoscale_col_t))

/* where target_workers stands among the columns above */
#define NGX_AUTOSCALE_CLUSTER_TARGET  10

#define NGX_AUTOSCALE_CLUSTER_SELECT                                          \
    "c.id, c.name, c.type, c.status, c.description, c.blueprint_id, "         \
    "c.blueprint_version, c.min_workers, c.max_workers, c.current_workers, "  \
    "c.target_workers, "                                                      \
    "(SELECT count(*) FROM cluster_agents a WHERE a.cluster_id = c.id "       \
    "AND a.status NOT IN ('stopped', 'lost')), "                              \
    "c.health_score, c.load_percentage, c.tasks_completed, c.tasks_failed, "  \
    "c.paused, c.tags, c.config, c.policy, c.scale_up_queue, "                \
    "c.scale_up_cpu, c.scale_down_queue, c.scale_down_cpu, "                  \
    "c.scale_up_factor, c.scale_down_factor, c.scale_up_cooldown, "           \
    "c.scale_down_cooldown, c.target_metric, c.target_value, c.tolerance, "   \
    "c.stabilization_window, c.actuation, c.worker_capacity, "                \
    "c.last_decision, "                                                       \
    "c.created_at, c.started_at, "      \
    "c.hibernated_at, c.destroyed_at, " \
    "c.last_active, c.last_scaled_at, " \
    "c.updated_at"



/*
 * $1 status or NULL (all but destroyed), $2 type or NULL, $3 limit,
 * $4 offset.  The total comes in every row, and alone in a row of NULLs
 * when the page is past the end.
 */
static const char  ngx_autoscale_sql_list[] =
    "WITH f AS (SELECT * FROM clusters "
    "WHERE ($1::text IS NULL AND status <> 'destroyed' OR status = $1) "
    "AND ($2::text IS NULL OR type = $2)) "
    "SELECT t.total, p.* FROM (SELECT count(*) AS total FROM f) t "
    "LEFT JOIN LATERAL (SELECT " NGX_AUTOSCALE_CLUSTER_SELECT " FROM f c "
    "ORDER BY c.created_at DESC, c.id LIMIT $3::int OFFSET $4::bigint) p "
    "ON true";

static const char  ngx_autoscale_sql_get[] =
    "SELECT " NGX_AUTOSCALE_CLUSTER_SELECT " FROM clusters c WHERE c.id = $1";


/*
 * $1 blueprint_id, $2 name, $3 type, $4 min_workers, $5 max_workers,
 * $6 target_workers, $7 description, $8 tags, $9 config, $10 .. $24 the
 * policy, $25 node.  Unset fields come from the blueprint.
 */
static const char  ngx_autoscale_sql_create[] =
    "WITH b AS (SELECT * FROM cluster_blueprints "
    "WHERE id = $1 AND is_active), "
    "v AS (SELECT COALESCE($2, b.name) AS name, "
    "COALESCE($3, 'persistent') AS type, "
    "COALESCE($4::int, b.min_workers) AS min_workers, "
    "COALESCE($5::int, b.max_workers) AS max_workers, "
    "COALESCE($6::int, b.default_workers) AS target_workers, "
    "COALESCE($10, b.policy) AS policy, "
    "COALESCE($11::float8, b.scale_up_queue) AS scale_up_queue, "
    "COALESCE($12::float8, b.scale_up_cpu) AS scale_up_cpu, "
    "COALESCE($13::float8, b.scale_down_queue) AS scale_down_queue, "
    "COALESCE($14::float8, b.scale_down_cpu) AS scale_down_cpu, "
    "COALESCE($15::float8, b.scale_up_factor) AS scale_up_factor, "
    "COALESCE($16::float8, b.scale_down_factor) AS scale_down_factor, "
    "COALESCE($17::int, b.scale_up_cooldown) AS scale_up_cooldown, "
    "COALESCE($18::int, b.scale_down_cooldown) AS scale_down_cooldown, "
    "COALESCE($19, b.target_metric) AS target_metric, "
    "COALESCE($20::float8, b.target_value) AS target_value, "
    "COALESCE($21::float8, b.tolerance) AS tolerance, "
    "COALESCE($22::int, b.stabilization_window) AS stabilization_window, "
    "COALESCE($23, b.actuation) AS actuation, "
    "COALESCE($24::int, b.worker_capacity) AS worker_capacity "
    "FROM b), "
    "ins AS (INSERT INTO clusters (name, type, status, blueprint_id, "
    "blueprint_version, min_workers, max_workers, current_workers, "
    "target_workers, description, tags, config, started_at, "
    NGX_AUTOSCALE_POLICY_COLUMNS ") "
    "SELECT v.name, v.type, 'active', b.id, b.version, v.min_workers, "
    "v.max_workers, v.target_workers, v.target_workers, NULLIF($7, ''), "
    "COALESCE($8::jsonb, b.tags), COALESCE($9::jsonb, b.config), now(), "
    "v.policy, v.scale_up_queue, v.scale_up_cpu, v.scale_down_queue, "
    "v.scale_down_cpu, v.scale_up_factor, v.scale_down_factor, "
    "v.scale_up_cooldown, v.scale_down_cooldown, v.target_metric, "
    "v.target_value, v.tolerance, v.stabilization_window, v.actuation, "
    "v.worker_capacity FROM v, b "
    "WHERE char_length(v.name) BETWEEN 3 AND 200 "
    "AND v.target_workers BETWEEN v.min_workers AND v.max_workers "
    "AND " NGX_AUTOSCALE_CHECK_RULES("v") " RETURNING *), "
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "
    "to_workers, reason, node) SELECT id, 'create', 0, target_workers, "
    "'created from blueprint ' || blueprint_id, $25 FROM ins) "
    "SELECT (SELECT count(*) FROM b), "
    NGX_AUTOSCALE_CHECK_COLUMNS("v") ", v.name, v.target_workers, "
    "(SELECT pg_notify('autoscale', json_build_object('event', 'create', "
    "'cluster_id', id, 'status', status, 'current_workers', "
    "current_workers, 'target_workers', target_workers)::text) FROM ins), "
    NGX_AUTOSCALE_CLUSTER_SELECT " "
    "FROM (SELECT 1) one LEFT JOIN v ON true LEFT JOIN ins c ON true";


/*
 * $1 id, $2 name, $3 description, $4 tags, $5 min_workers, $6 max_workers,
 * $7 .. $21 the policy, $22 paused.  The bounds must hold the workers the
 * cluster has and is heading for; a hibernated cluster has none.
 */
static const char  ngx_autoscale_sql_update[] =
    "WITH cur AS (SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "
    "v AS (SELECT COALESCE($5::int, cur.min_workers) AS min_workers, "
    "COALESCE($6::int, cur.max_workers) AS max_workers, "
    "COALESCE($7, cur.policy) AS policy, "
    "COALESCE($8::float8, cur.scale_up_queue) AS scale_up_queue, "
    "COALESCE($9::float8, cur.scale_up_cpu) AS scale_up_cpu, "
    "COALESCE($10::float8, cur.scale_down_queue) AS scale_down_queue, "
    "COALESCE($11::float8, cur.scale_down_cpu) AS scale_down_cpu, "
    "COALESCE($12::float8, cur.scale_up_factor) AS scale_up_factor, "
    "COALESCE($13::float8, cur.scale_down_factor) AS scale_down_factor, "
    "COALESCE($14::int, cur.scale_up_cooldown) AS scale_up_cooldown, "
    "COALESCE($15::int, cur.scale_down_cooldown) AS scale_down_cooldown, "
    "COALESCE($16, cur.target_metric) AS target_metric, "
    "COALESCE($17::float8, cur.target_value) AS target_value, "
    "COALESCE($18::float8, cur.tolerance) AS tolerance, "
    "COALESCE($19::int, cur.stabilization_window) AS stabilization_window, "
    "COALESCE($20, cur.actuation) AS actuation, "
    "COALESCE($21::int, cur.worker_capacity) AS worker_capacity, "
    "cur.status, cur.current_workers, cur.target_workers FROM cur), "
    "upd AS (UPDATE clusters u SET name = COALESCE($2, u.name), "
    "description = CASE WHEN $3::text IS NULL THEN u.description "
    "ELSE NULLIF($3, '') END, "
    "tags = COALESCE($4::jsonb, u.tags), min_workers = v.min_workers, "
    "max_workers = v.max_workers, policy = v.policy, "
    "scale_up_queue = v.scale_up_queue, scale_up_cpu = v.scale_up_cpu, "
    "scale_down_queue = v.scale_down_queue, "
    "scale_down_cpu = v.scale_down_cpu, "
    "scale_up_factor = v.scale_up_factor, "
    "scale_down_factor = v.scale_down_factor, "
    "scale_up_cooldown = v.scale_up_cooldown, "
    "scale_down_cooldown = v.scale_down_cooldown, "
    "target_metric = v.target_metric, target_value = v.target_value, "
    "tolerance = v.tolerance, stabilization_window = v.stabilization_window, "
    "actuation = v.actuation, worker_capacity = v.worker_capacity, "
    "paused = COALESCE($22::bool, u.paused), updated_at = now() "
    "FROM v WHERE u.id = $1 AND v.status <> 'destroyed' "
    "AND " NGX_AUTOSCALE_CHECK_RULES("v") " "
    "AND (v.status = 'hibernated' OR (v.current_workers "
    "BETWEEN v.min_workers AND v.max_workers AND v.target_workers "
    "BETWEEN v.min_workers AND v.max_workers)) RETURNING u.*) "
    "SELECT v.status, " NGX_AUTOSCALE_CHECK_COLUMNS("v") ", "
    "v.current_workers, v.target_workers, " NGX_AUTOSCALE_CLUSTER_SELECT ", "
    "(SELECT pg_notify('autoscale', json_build_object('event', 'update', "
    "'cluster_id', id, 'status', status, 'current_workers', "
    "current_workers, 'target_workers', target_workers, 'min_workers', "
    "min_workers, 'max_workers', max_workers, 'paused', paused)::text) "
    "FROM upd) FROM v LEFT JOIN upd c ON true";


/* $1 id, $2 node */
static const char  ngx_autoscale_sql_delete[] =
    "WITH cur AS (SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "
    "upd AS (UPDATE clusters u SET status = 'destroyed', "
    "destroyed_at = now(), target_workers = 0, "
    "current_workers = CASE WHEN u.actuation = 'immediate' THEN 0 "
    "ELSE u.current_workers END, updated_at = now() FROM cur "
    "WHERE u.id = cur.id AND cur.status <> 'destroyed' "
    "RETURNING u.*, cur.current_workers AS from_workers), "
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "
    "to_workers, reason, node) SELECT id, 'destroy', from_workers, 0, "
    "'deleted through the API', $2 FROM upd) "
    "SELECT (SELECT count(*) FROM cur), "
    "(SELECT pg_notify('autoscale', json_build_object('event', 'destroy', "
    "'cluster_id', id, 'status', status, 'current_workers', "
    "current_workers, 'target_workers', target_workers)::text) FROM upd)";


/*
 * The transitions: each is $1 id, $2 the new target, $3 reason, $4 node,
 * and returns the same columns: the cluster before (status, min, max,
 * current, target), the event (id, at) if one was written, the NOTIFY, and
 * the cluster after, or as it was when nothing changed.
 */
#define NGX_AUTOSCALE_TRANSITION_TAIL(action)                                 \
    "ev AS (INSERT INTO scaling_events (cluster_id, action, from_workers, "   \
    "to_workers, reason, inputs, node) SELECT upd.id, '" action "', "         \
    "cur.current_workers, upd.target_workers, $3, "                           \
    "jsonb_build_object('status', cur.status, 'target_workers', "             \
    "cur.target_workers, 'actuation', cur.actuation), $4 "                    \
    "FROM upd, cur RETURNING id, at) "                                        \
    "SELECT cur.status, cur.min_workers, cur.max_workers, "                   \
    "cur.current_workers, cur.target_workers, ev.id, "                        \
    "ev.at, "                                              \
    "(SELECT pg_notify('autoscale', json_build_object('event', '" action     \
    "', 'cluster_id', upd.id, 'event_id', ev.id, 'from_workers', "            \
    "cur.current_workers, 'to_workers', upd.target_workers, 'status', "       \
    "upd.status, 'current_workers', upd.current_workers, 'target_workers', "  \
    "upd.target_workers, 'reason', $3::text)::text) FROM upd, ev), "          \
    NGX_AUTOSCALE_CLUSTER_SELECT " "                                          \
    "FROM cur LEFT JOIN ev ON true, (SELECT * FROM upd UNION ALL "            \
    "SELECT * FROM cur WHERE NOT EXISTS (SELECT 1 FROM upd)) c"

/* a manual scale bypasses the cooldown but not the bounds */
static const char  ngx_autoscale_sql_scale[] =
    "WITH cur AS (SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "
    "upd AS (UPDATE clusters u SET target_workers = $2::int, "
    "current_workers = CASE WHEN cur.actuation = 'immediate' THEN $2::int "
    "ELSE u.current_workers END, "
    "status = CASE WHEN cur.actuation = 'immediate' "
    "OR $2::int = cur.current_workers THEN 'active' "
    "WHEN $2::int > cur.current_workers THEN 'scaling_up' "
    "ELSE 'scaling_down' END, "
    "last_scaled_at = now(), last_active = now(), updated_at = now() "
    "FROM cur WHERE u.id = cur.id "
    "AND cur.status IN ('active', 'scaling_up', 'scaling_down') "
    "AND $2::int BETWEEN cur.min_workers AND cur.max_workers "
    "AND $2::int <> cur.target_workers RETURNING u.*), "
    NGX_AUTOSCALE_TRANSITION_TAIL("manual");

static const char  ngx_autoscale_sql_hibernate[] =
    "WITH cur AS (SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "
    "upd AS (UPDATE clusters u SET status = 'hibernated', "
    "hibernated_at = now(), target_workers = $2::int, "
    "current_workers = CASE WHEN cur.actuation = 'immediate' THEN $2::int "
    "ELSE u.current_workers END, "
    "last_scaled_at = now(), updated_at = now() FROM cur "
    "WHERE u.id = cur.id "
    "AND cur.status IN ('active', 'scaling_up', 'scaling_down') "
    "RETURNING u.*), "
    NGX_AUTOSCALE_TRANSITION_TAIL("hibernate");

/* back at min_workers; $2 is unused but keeps the parameters alike */
static const char  ngx_autoscale_sql_reactivate[] =
    "WITH cur AS (SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "
    "upd AS (UPDATE clusters u SET target_workers = cur.min_workers, "
    "current_workers = CASE WHEN cur.actuation = 'immediate' "
    "THEN cur.min_workers ELSE u.current_workers END, "
    "status = CASE WHEN cur.actuation = 'immediate' "
    "OR cur.min_workers = cur.current_workers THEN 'active' "
    "WHEN cur.min_workers > cur.current_workers THEN 'scaling_up' "
    "ELSE 'scaling_down' END, "
    "last_scaled_at = now(), last_active = now(), updated_at = now() "
    "FROM cur WHERE u.id = cur.id AND cur.status = 'hibernated' "
    "AND $2::int IS NOT NULL RETURNING u.*), "
    NGX_AUTOSCALE_TRANSITION_TAIL("reactivate");


/* $1 id; one row with found and NULLs when the cluster has no agents */
static const char  ngx_autoscale_sql_agents[] =
    "SELECT (SELECT count(*) FROM clusters WHERE id = $1), a.agent_id, "
    "a.role, a.status, a.health_score, a.cpu_usage, a.memory_usage, "
    "a.queue_length, a.tasks_completed, a.tasks_failed, "
    "a.last_heartbeat, a.spawned_at, "
    "a.last_active "
    "FROM (SELECT 1) one LEFT JOIN cluster_agents a ON a.cluster_id = $1 "
    "ORDER BY a.agent_id";

static const ngx_autoscale_col_t  ngx_autoscale_agent_cols[] = {
    { "agent_id", NGX_AUTOSCALE_COL_TEXT },
    { "role", NGX_AUTOSCALE_COL_TEXT },
    { "status", NGX_AUTOSCALE_COL_TEXT },
    { "health_score", NGX_AUTOSCALE_COL_FLOAT },
    { "cpu_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "memory_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "queue_length", NGX_AUTOSCALE_COL_FLOAT },
    { "tasks_completed", NGX_AUTOSCALE_COL_INT },
    { "tasks_failed", NGX_AUTOSCALE_COL_INT },
    { "last_heartbeat", NGX_AUTOSCALE_COL_TIME },
    { "spawned_at", NGX_AUTOSCALE_COL_TIME },
    { "last_active", NGX_AUTOSCALE_COL_TIME }
};


/* $1 id, $2 limit, $3 since or NULL; newest first */
static const char  ngx_autoscale_sql_metrics[] =
    "SELECT (SELECT count(*) FROM clusters WHERE id = $1), m.* "
    "FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT "
    "\"timestamp\", cpu_usage, memory_usage, "
    "queue_length, queue_wait_time, active_agents, idle_agents, "
    "busy_agents, failed_agents, tasks_per_minute, avg_response_time, "
    "error_rate, requests_started, requests_finished, inflight_avg, "
    "inflight_peak, errors_5xx, window_seconds, current_workers "
    "FROM cluster_metrics WHERE cluster_id = $1 "
    "AND ($3::timestamptz IS NULL OR \"timestamp\" >= $3::timestamptz) "
    "ORDER BY \"timestamp\" DESC, id DESC LIMIT $2::int) m ON true";

static const ngx_autoscale_col_t  ngx_autoscale_metric_cols[] = {
    { "timestamp", NGX_AUTOSCALE_COL_TIME },
    { "cpu_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "memory_usage", NGX_AUTOSCALE_COL_FLOAT },
    { "queue_length", NGX_AUTOSCALE_COL_FLOAT },
    { "queue_wait_time", NGX_AUTOSCALE_COL_FLOAT },
    { "active_agents", NGX_AUTOSCALE_COL_INT },
    { "idle_agents", NGX_AUTOSCALE_COL_INT },
    { "busy_agents", NGX_AUTOSCALE_COL_INT },
    { "failed_agents", NGX_AUTOSCALE_COL_INT },
    { "tasks_per_minute", NGX_AUTOSCALE_COL_FLOAT },
    { "avg_response_time", NGX_AUTOSCALE_COL_FLOAT },
    { "error_rate", NGX_AUTOSCALE_COL_FLOAT },
    { "requests_started", NGX_AUTOSCALE_COL_INT },
    { "requests_finished", NGX_AUTOSCALE_COL_INT },
    { "inflight_avg", NGX_AUTOSCALE_COL_FLOAT },
    { "inflight_peak", NGX_AUTOSCALE_COL_INT },
    { "errors_5xx", NGX_AUTOSCALE_COL_INT },
    { "window_seconds", NGX_AUTOSCALE_COL_FLOAT },
    { "current_workers", NGX_AUTOSCALE_COL_INT }
};


/* $1 id, $2 limit; newest first */
static const char  ngx_autoscale_sql_events[] =
    "SELECT (SELECT count(*) FROM clusters WHERE id = $1), e.* "
    "FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT id, "
    "at, action, from_workers, to_workers, reason, "
    "inputs, dry_run, node FROM scaling_events WHERE cluster_id = $1 "
    "ORDER BY at DESC, id DESC LIMIT $2::int) e ON true";

static const ngx_autoscale_col_t  ngx_autoscale_event_cols[] = {
    { "id", NGX_AUTOSCALE_COL_INT },
    { "at", NGX_AUTOSCALE_COL_TIME },
    { "action", NGX_AUTOSCALE_COL_TEXT },
    { "from_workers", NGX_AUTOSCALE_COL_INT },
    { "to_workers", NGX_AUTOSCALE_COL_INT },
    { "reason", NGX_AUTOSCALE_COL_TEXT },
    { "inputs", NGX_AUTOSCALE_COL_JSON },
    { "dry_run", NGX_AUTOSCALE_COL_BOOL },
    { "node", NGX_AUTOSCALE_COL_TEXT }
};


/* request fields, in the order of each statement's parameters */

static const ngx_autoscale_field_t  ngx_autoscale_create_fields[] = {
    { "blueprint_id", NGX_AUTOSCALE_FIELD_STRING, 3, 100,
      NGX_AUTOSCALE_CHARS_SLUG, NULL, 1, 0 },
    { "name", NGX_AUTOSCALE_FIELD_STRING, 3, 200,
      NGX_AUTOSCALE_CHARS_NAME, NULL, 0, 0 },
    { "type", NGX_AUTOSCALE_FIELD_STRING, 1, 50,
      NGX_AUTOSCALE_CHARS_TYPE, NULL, 0, 0 },
    { "min_workers", NGX_AUTOSCALE_FIELD_INT, 0, 100, 0, NULL, 0, 0 },
    { "max_workers", NGX_AUTOSCALE_FIELD_INT, 1, 1000, 0, NULL, 0, 0 },
    { "target_workers", NGX_AUTOSCALE_FIELD_INT, 0, 1000, 0, NULL, 0, 0 },
    { "description", NGX_AUTOSCALE_FIELD_STRING, 0, 2000,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 1 },
    { "tags", NGX_AUTOSCALE_FIELD_TAGS, 0, 64, 0, NULL, 0, 0 },
    { "config", NGX_AUTOSCALE_FIELD_OBJECT, 0, 0, 0, NULL, 0, 0 },
    NGX_AUTOSCALE_POLICY_FIELDS
};

#define NGX_AUTOSCALE_CREATE_NFIELDS  (9 + NGX_AUTOSCALE_POLICY_NFIELDS)

static const ngx_autoscale_field_t  ngx_autoscale_update_fields[] = {
    { "name", NGX_AUTOSCALE_FIELD_STRING, 3, 200,
      NGX_AUTOSCALE_CHARS_NAME, NULL, 0, 0 },
    { "description", NGX_AUTOSCALE_FIELD_STRING, 0, 2000,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 1 },
    { "tags", NGX_AUTOSCALE_FIELD_TAGS, 0, 64, 0, NULL, 0, 0 },
    { "min_workers", NGX_AUTOSCALE_FIELD_INT, 0, 100, 0, NULL, 0, 0 },
    { "max_workers", NGX_AUTOSCALE_FIELD_INT, 1, 1000, 0, NULL, 0, 0 },
    NGX_AUTOSCALE_POLICY_FIELDS,
    { "paused", NGX_AUTOSCALE_FIELD_BOOL, 0, 0, 0, NULL, 0, 0 }
};

#define NGX_AUTOSCALE_UPDATE_NFIELDS  (6 + NGX_AUTOSCALE_POLICY_NFIELDS)

static const ngx_autoscale_field_t  ngx_autoscale_scale_fields[] = {
    { "target_workers", NGX_AUTOSCALE_FIELD_INT, 0, 1000, 0, NULL, 1, 0 },
    { "reason", NGX_AUTOSCALE_FIELD_STRING, 1, 500,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 0 }
};

static const ngx_autoscale_field_t  ngx_autoscale_reason_fields[] = {
    { "reason", NGX_AUTOSCALE_FIELD_STRING, 1, 500,
      NGX_AUTOSCALE_CHARS_ANY, NULL, 0, 0 }
};


static const ngx_autoscale_arg_spec_t  ngx_autoscale_list_args[] = {
    { "status", NGX_AUTOSCALE_ARG_WORD, 0, 0,
      ngx_autoscale_cluster_statuses },
    { "type", NGX_AUTOSCALE_ARG_WORD, 1, 50, NULL },
    { "page", NGX_AUTOSCALE_ARG_INT, 1, 1000000, NULL },
    { "page_size", NGX_AUTOSCALE_ARG_INT, 1, 100, NULL }
};

static const ngx_autoscale_arg_spec_t  ngx_autoscale_history_args[] = {
    { "limit", NGX_AUTOSCALE_ARG_INT, 1, 1000, NULL },
    { "since", NGX_AUTOSCALE_ARG_TIME, 0, 0, NULL }
};


static ngx_int_t ngx_autoscale_api_list(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_list_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);
static ngx_int_t ngx_autoscale_api_get(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_get_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);
static ngx_int_t ngx_autoscale_api_create(ngx_autoscale_api_ctx_t *ctx);
static void ngx_autoscale_api_zone_knows(ngx_http_request_t *r,
    const char *id, size_t len, ngx_uint_t exists);
static ngx_int_t ngx_autoscale_api_create_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);
static ngx_int_t ngx_autoscale_api_update(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_update_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);
static ngx_int_t ngx_autoscale_api_delete(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_delete_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);
static ngx_int_t ngx_autoscale_api_transition(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_transition_done(
    ngx_autoscale_api_ctx_t *ctx, PGresult *res);
static ngx_int_t ngx_autoscale_api_history(ngx_autoscale_api_ctx_t *ctx);
static ngx_int_t ngx_autoscale_api_history_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res);
static cJSON *ngx_autoscale_api_cluster(PGresult *res, int first);
static ngx_int_t ngx_autoscale_api_location(ngx_http_request_t *r,
    const char *id);


ngx_int_t
ngx_autoscale_api_clusters(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_uint_t  method = ctx->request->method;

    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_CLUSTERS:
        return method == NGX_HTTP_POST ? ngx_autoscale_api_create(ctx)
                                       : ngx_autoscale_api_list(ctx);

    case NGX_AUTOSCALE_ROUTE_CLUSTER:
        if (method == NGX_HTTP_PUT) {
            return ngx_autoscale_api_update(ctx);
        }

        if (method == NGX_HTTP_DELETE) {
            return ngx_autoscale_api_delete(ctx);
        }

        return ngx_autoscale_api_get(ctx);

    case NGX_AUTOSCALE_ROUTE_SCALE:
    case NGX_AUTOSCALE_ROUTE_HIBERNATE:
    case NGX_AUTOSCALE_ROUTE_REACTIVATE:
        return ngx_autoscale_api_transition(ctx);

    default:
        return ngx_autoscale_api_history(ctx);
    }
}


/* GET clusters */

static ngx_int_t
ngx_autoscale_api_list(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t             params[4];
    ngx_autoscale_err_t   err;
    ngx_autoscale_arg_t   args[4];
    ngx_http_request_t   *r = ctx->request;

    if (ngx_autoscale_parse_args((const char *) r->args.data, r->args.len,
                                 ngx_autoscale_list_args, 4, args, &err)
        != 0)
    {
        return ngx_autoscale_api_reply_error(r, &err);
    }


    /* the query copies its parameters: pointing into args is enough */
    ngx_memzero(params, sizeof(params));

    if (args[0].present) {
        params[0].data = (u_char *) args[0].str;
        params[0].len = ngx_strlen(args[0].str);
    }

    if (args[1].present) {
        params[1].data = (u_char *) args[1].str;
        params[1].len = ngx_strlen(args[1].str);
    }

    if (ngx_autoscale_api_query_paging(ctx, &args[2], &args[3], &params[2])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, ngx_autoscale_sql_list, 4, params,
                                        ngx_autoscale_api_list_done);
}


static ngx_int_t
ngx_autoscale_api_list_done(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    return ngx_autoscale_api_query_send_page(ctx, res, "clusters",
                                             ngx_autoscale_cluster_cols,
                                             NGX_AUTOSCALE_CLUSTER_NCOLS);
}


/* GET clusters/{id} */

static ngx_int_t
ngx_autoscale_api_get(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t  id;

    if (ctx->request->args.len) {
        return ngx_autoscale_api_reply_args_error(ctx->request);
    }

    id.data = (u_char *) ctx->route.id;
    id.len = ctx->route.id_len;

    return ngx_autoscale_api_query_send(ctx, ngx_autoscale_sql_get, 1, &id,
                                        ngx_autoscale_api_get_done);
}


static ngx_int_t
ngx_autoscale_api_get_done(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    if (PQntuples(res) == 0) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    return ngx_autoscale_api_reply_send(ctx->request, NGX_HTTP_OK,
                                        ngx_autoscale_api_cluster(res, 0));
}


/* POST clusters */

static ngx_int_t
ngx_autoscale_api_create(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_int_t             rc;
    ngx_str_t             params[NGX_AUTOSCALE_CREATE_NFIELDS + 1];
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (r->args.len) {
        return ngx_autoscale_api_reply_args_error(r);
    }

    rc = ngx_autoscale_api_query_fields(ctx, ngx_autoscale_create_fields,
                                        NGX_AUTOSCALE_CREATE_NFIELDS, params,
                                        &err);
    if (rc == NGX_DECLINED) {
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (rc != NGX_OK
        || ngx_autoscale_api_query_node(r,
                                        &params[NGX_AUTOSCALE_CREATE_NFIELDS])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, ngx_autoscale_sql_create,
                                        NGX_AUTOSCALE_CREATE_NFIELDS + 1,
                                        params,
                                        ngx_autoscale_api_create_done);
}


static ngx_int_t
ngx_autoscale_api_create_done(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    int                   first;
    cJSON                *blueprint;
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    /* found, the checks, name, target, notify, then the cluster */
    first = 1 + NGX_AUTOSCALE_CHECK_NCOLUMNS + 3;

    if (ngx_autoscale_api_query_int(res, 0, 0) == 0) {
        blueprint = cJSON_GetObjectItemCaseSensitive(ctx->body,
                                                     "blueprint_id");
        ngx_autoscale_set_err(&err, NGX_HTTP_BAD_REQUEST, "BlueprintNotFound",
                              "blueprint '%s' not found",
                              blueprint->valuestring);
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (PQgetisnull(res, 0, first)) {
        if (ngx_autoscale_api_query_check_error(res, 1, &err) == NGX_OK) {
            if (PQgetlength(res, 0, first - 3) < 3) {
                ngx_autoscale_set_err(&err, NGX_HTTP_BAD_REQUEST,
                                      "MissingField",
                                      "field 'name' is required: the "
                                      "blueprint's name is too short");
            } else {
                ngx_autoscale_set_err(&err, NGX_HTTP_BAD_REQUEST,
                                      "InvalidField",
                                      "target_workers (%s) must be between "
                                      "min_workers (%s) and max_workers (%s)",
                                      PQgetvalue(res, 0, first - 2),
                                      PQgetvalue(res, 0, 1),
                                      PQgetvalue(res, 0, 2));
            }
        }

        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (ngx_autoscale_api_location(r, PQgetvalue(res, 0, first)) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_autoscale_api_zone_knows(r, PQgetvalue(res, 0, first),
                                 PQgetlength(res, 0, first), 1);

    return ngx_autoscale_api_reply_send(r, NGX_HTTP_CREATED,
                                        ngx_autoscale_api_cluster(res, first));
}


/* PUT clusters/{id} */

static ngx_int_t
ngx_autoscale_api_update(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_int_t             rc;
    ngx_str_t             params[NGX_AUTOSCALE_UPDATE_NFIELDS + 1];
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (r->args.len) {
        return ngx_autoscale_api_reply_args_error(r);
    }

    rc = ngx_autoscale_api_query_fields(ctx, ngx_autoscale_update_fields,
                                        NGX_AUTOSCALE_UPDATE_NFIELDS,
                                        &params[1], &err);
    if (rc == NGX_DECLINED) {
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;

    return ngx_autoscale_api_query_send(ctx, ngx_autoscale_sql_update,
                                        NGX_AUTOSCALE_UPDATE_NFIELDS + 1,
                                        params,
                                        ngx_autoscale_api_update_done);
}


static ngx_int_t
ngx_autoscale_api_update_done(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    int                   first;
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    /* status, the checks, current and target, then the cluster */
    first = 1 + NGX_AUTOSCALE_CHECK_NCOLUMNS + 2;

    if (PQntuples(res) == 0) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    if (!PQgetisnull(res, 0, first)) {
        return ngx_autoscale_api_reply_send(r, NGX_HTTP_OK,
                                            ngx_autoscale_api_cluster(res,
                                                                      first));
    }

    if (ngx_strcmp(PQgetvalue(res, 0, 0), "destroyed") == 0) {
        ngx_autoscale_set_err(&err, NGX_HTTP_CONFLICT, "ClusterDestroyed",
                              "cluster '%.*s' is destroyed",
                              (int) ctx->route.id_len, ctx->route.id);
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (ngx_autoscale_api_query_check_error(res, 1, &err) == NGX_OK) {
        ngx_autoscale_set_err(&err, NGX_HTTP_CONFLICT, "BoundsConflict",
                              "min_workers (%s) and max_workers (%s) must "
                              "hold current_workers (%s) and target_workers "
                              "(%s): scale the cluster first",
                              PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                              PQgetvalue(res, 0, first - 2),
                              PQgetvalue(res, 0, first - 1));
    }

    return ngx_autoscale_api_reply_error(r, &err);
}


/*
 * What this nginx's zone knows of a cluster the API made or destroyed,
 * before the next collection tells it: traffic by a $variable id and
 * heartbeats count from now on, or no longer.
 */
static void
ngx_autoscale_api_zone_knows(ngx_http_request_t *r, const char *id,
    size_t len, ngx_uint_t exists)
{
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    /* under the mutex: also clears workers' "no such cluster" answers */
    (void) ngx_autoscale_shm_find(amcf->shm_zone, (u_char *) id, len,
                                  exists ? NGX_AUTOSCALE_EXISTS
                                         : NGX_AUTOSCALE_GONE, NULL);
}


/* DELETE clusters/{id}: a soft delete */

static ngx_int_t
ngx_autoscale_api_delete(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_str_t  params[2];

    if (ctx->request->args.len) {
        return ngx_autoscale_api_reply_args_error(ctx->request);
    }

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;

    if (ngx_autoscale_api_query_node(ctx->request, &params[1]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_query_send(ctx, ngx_autoscale_sql_delete, 2,
                                        params, ngx_autoscale_api_delete_done);
}


static ngx_int_t
ngx_autoscale_api_delete_done(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    if (ngx_autoscale_api_query_int(res, 0, 0) != 1) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    /* heartbeats find it gone at once, not at the next collection */
    ngx_autoscale_api_zone_knows(ctx->request, ctx->route.id,
                                 ctx->route.id_len, 0);

    /* deleting a destroyed cluster again changes nothing and says so alike */
    return ngx_autoscale_api_reply_no_content(ctx->request);
}


/* POST clusters/{id}/scale, hibernate, reactivate */

static ngx_int_t
ngx_autoscale_api_transition(ngx_autoscale_api_ctx_t *ctx)
{
    ngx_int_t             rc;
    ngx_str_t             params[4], fields[2];
    const char           *sql;
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (r->args.len) {
        return ngx_autoscale_api_reply_args_error(r);
    }

    if (ctx->route.route == NGX_AUTOSCALE_ROUTE_SCALE) {
        rc = ngx_autoscale_api_query_fields(ctx, ngx_autoscale_scale_fields, 2,
                                            fields, &err);
        sql = ngx_autoscale_sql_scale;

    } else {
        ngx_str_set(&fields[0], "0");
        rc = ngx_autoscale_api_query_fields(ctx, ngx_autoscale_reason_fields, 1,
                                            &fields[1], &err);
        sql = (ctx->route.route == NGX_AUTOSCALE_ROUTE_HIBERNATE)
              ? ngx_autoscale_sql_hibernate : ngx_autoscale_sql_reactivate;
    }

    if (rc == NGX_DECLINED) {
        return ngx_autoscale_api_reply_error(r, &err);
    }

    if (rc != NGX_OK || ngx_autoscale_api_query_node(r, &params[3]) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->target = ngx_atoi(fields[0].data, fields[0].len);

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;
    params[1] = fields[0];
    params[2] = fields[1];

    if (params[2].data == NULL) {
        switch (ctx->route.route) {
        case NGX_AUTOSCALE_ROUTE_SCALE:
            ngx_str_set(&params[2], "manual scale through the API");
            break;
        case NGX_AUTOSCALE_ROUTE_HIBERNATE:
            ngx_str_set(&params[2], "hibernated through the API");
            break;
        default:
            ngx_str_set(&params[2], "reactivated through the API");
        }
    }

    return ngx_autoscale_api_query_send(ctx, sql, 4, params,
                                        ngx_autoscale_api_transition_done);
}


static ngx_int_t
ngx_autoscale_api_transition_done(ngx_autoscale_api_ctx_t *ctx,
    PGresult *res)
{
    int                   changed;
    char                  message[128], at[48];
    cJSON                *doc, *event, *cluster;
    ngx_int_t             min, max, current, target, active;
    const char           *status, *verb, *action;

    verb = "changed";
    ngx_autoscale_err_t   err;
    ngx_http_request_t   *r = ctx->request;

    if (PQntuples(res) == 0) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    status = PQgetvalue(res, 0, 0);
    min = ngx_autoscale_api_query_int(res, 0, 1);
    max = ngx_autoscale_api_query_int(res, 0, 2);
    current = ngx_autoscale_api_query_int(res, 0, 3);
    target = ngx_autoscale_api_query_int(res, 0, 4);
    changed = !PQgetisnull(res, 0, 5);

    active = ngx_strcmp(status, "active") == 0
             || ngx_strcmp(status, "scaling_up") == 0
             || ngx_strcmp(status, "scaling_down") == 0;

    switch (ctx->route.route) {

    case NGX_AUTOSCALE_ROUTE_SCALE:
        verb = "scaled";
        action = "manual";

        if (!changed && !active) {
            goto not_active;
        }

        if (!changed && (ctx->target < min || ctx->target > max)) {
            ngx_autoscale_set_err(&err, NGX_HTTP_BAD_REQUEST, "InvalidField",
                                  "target_workers (%d) must be between "
                                  "min_workers (%d) and max_workers (%d)",
                                  (int) ctx->target, (int) min, (int) max);
            return ngx_autoscale_api_reply_error(r, &err);
        }

        ngx_snprintf((u_char *) message, sizeof(message),
                     changed ? "target set from %i to %i workers%Z"
                             : "the target is %i workers already%Z",
                     target, ctx->target);
        break;

    case NGX_AUTOSCALE_ROUTE_HIBERNATE:
        verb = "hibernated";
        action = "hibernate";

        if (!changed && ngx_strcmp(status, "hibernated") != 0) {
            goto not_active;
        }

        ngx_snprintf((u_char *) message, sizeof(message), "%s%Z",
                     changed ? "hibernated: the target is 0 workers"
                             : "the cluster is hibernated already");
        break;

    default: /* NGX_AUTOSCALE_ROUTE_REACTIVATE */
        action = "reactivate";

        if (!changed && !active) {
            ngx_autoscale_set_err(&err, NGX_HTTP_CONFLICT,
                                  "ClusterNotHibernated",
                                  "cluster '%.*s' is %s: only a hibernated "
                                  "cluster can be reactivated",
                                  (int) ctx->route.id_len, ctx->route.id,
                                  status);
            return ngx_autoscale_api_reply_error(r, &err);
        }

        ngx_snprintf((u_char *) message, sizeof(message),
                     changed ? "reactivated: the target is %i workers%Z"
                             : "the cluster is active already%Z", min);
        break;
    }

    doc = cJSON_CreateObject();
    cluster = ngx_autoscale_api_cluster(res, 8);
    event = changed ? cJSON_CreateObject() : cJSON_CreateNull();

    if (doc == NULL || cluster == NULL || event == NULL
        || cJSON_AddBoolToObject(doc, "changed", changed) == NULL
        || cJSON_AddStringToObject(doc, "message", message) == NULL)
    {
        goto failed;
    }

    if (changed
        && (cJSON_AddNumberToObject(event, "id",
                                    ngx_autoscale_api_query_int(res, 0, 5))
            == NULL
            || cJSON_AddStringToObject(event, "action", action) == NULL
            || cJSON_AddNumberToObject(event, "from_workers", current) == NULL
            || cJSON_AddNumberToObject(event, "to_workers",
                   ngx_autoscale_api_query_int(res, 0, 8
                                               + NGX_AUTOSCALE_CLUSTER_TARGET))
               == NULL
            || ngx_autoscale_rfc3339(PQgetvalue(res, 0, 6), at, sizeof(at))
               != 0
            || cJSON_AddStringToObject(event, "at", at) == NULL))
    {
        goto failed;
    }

    if (!cJSON_AddItemToObject(doc, "event", event)) {
        goto failed;
    }

    event = NULL;

    if (!cJSON_AddItemToObject(doc, "cluster", cluster)) {
        goto failed;
    }

    return ngx_autoscale_api_reply_send(r, NGX_HTTP_OK, doc);

failed:

    cJSON_Delete(doc);
    cJSON_Delete(event);
    cJSON_Delete(cluster);
    return NGX_HTTP_INTERNAL_SERVER_ERROR;

not_active:

    ngx_autoscale_set_err(&err, NGX_HTTP_CONFLICT, "ClusterNotActive",
                          "cluster '%.*s' is %s: only an active cluster "
                          "can be %s", (int) ctx->route.id_len,
                          ctx->route.id, status, verb);
    return ngx_autoscale_api_reply_error(r, &err);
}


/* GET clusters/{id}/metrics, events, agents */

static ngx_int_t
ngx_autoscale_api_history(ngx_autoscale_api_ctx_t *ctx)
{
    size_t                nargs;
    ngx_str_t             params[3];
    const char           *sql;
    ngx_autoscale_err_t   err;
    ngx_autoscale_arg_t   args[2];
    ngx_http_request_t   *r = ctx->request;

    switch (ctx->route.route) {
    case NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS:
        sql = ngx_autoscale_sql_metrics;
        nargs = 2;
        break;
    case NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS:
        sql = ngx_autoscale_sql_events;
        nargs = 1;
        break;
    default:
        sql = ngx_autoscale_sql_agents;
        nargs = 0;
    }

    if (ngx_autoscale_parse_args((const char *) r->args.data, r->args.len,
                                 ngx_autoscale_history_args, nargs, args,
                                 &err)
        != 0)
    {
        return ngx_autoscale_api_reply_error(r, &err);
    }

    ngx_memzero(params, sizeof(params));

    params[0].data = (u_char *) ctx->route.id;
    params[0].len = ctx->route.id_len;

    if (nargs
        && ngx_autoscale_api_query_number(r, &params[1],
                                          args[0].present ? args[0].num : 100)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (nargs == 2 && args[1].present) {
        params[2].data = (u_char *) args[1].str;
        params[2].len = ngx_strlen(args[1].str);
    }

    return ngx_autoscale_api_query_send(ctx, sql, nargs + 1, params,
                                        ngx_autoscale_api_history_done);
}


static ngx_int_t
ngx_autoscale_api_history_done(ngx_autoscale_api_ctx_t *ctx, PGresult *res)
{
    char                        id[NGX_AUTOSCALE_ID_MAX + 1];
    cJSON                      *doc, *list;
    size_t                      ncols;
    const char                 *key;
    const ngx_autoscale_col_t  *cols;

    if (ngx_autoscale_api_query_int(res, 0, 0) != 1) {
        return ngx_autoscale_api_reply_cluster_not_found(ctx->request,
                                                         &ctx->route);
    }

    switch (ctx->route.route) {
    case NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS:
        key = "metrics";
        cols = ngx_autoscale_metric_cols;
        ncols = sizeof(ngx_autoscale_metric_cols) / sizeof(cols[0]);
        break;
    case NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS:
        key = "events";
        cols = ngx_autoscale_event_cols;
        ncols = sizeof(ngx_autoscale_event_cols) / sizeof(cols[0]);
        break;
    default:
        key = "agents";
        cols = ngx_autoscale_agent_cols;
        ncols = sizeof(ngx_autoscale_agent_cols) / sizeof(cols[0]);
    }

    ngx_memcpy(id, ctx->route.id, ctx->route.id_len);
    id[ctx->route.id_len] = '\0';

    doc = cJSON_CreateObject();
    list = ngx_autoscale_api_query_rows(res, 1, cols, ncols);

    if (doc == NULL || list == NULL
        || cJSON_AddStringToObject(doc, "cluster_id", id) == NULL
        || !cJSON_AddItemToObject(doc, key, list))
    {
        cJSON_Delete(list);
        cJSON_Delete(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_autoscale_api_reply_send(ctx->request, NGX_HTTP_OK, doc);
}




static cJSON *
ngx_autoscale_api_cluster(PGresult *res, int first)
{
    return ngx_autoscale_api_query_row(res, 0, first,
                                       ngx_autoscale_cluster_cols,
                                       NGX_AUTOSCALE_CLUSTER_NCOLS);
}


/* Location: where the new cluster is read, under this API's prefix */
static ngx_int_t
ngx_autoscale_api_location(ngx_http_request_t *r, const char *id)
{
    u_char                         *p;
    size_t                          len;
    ngx_str_t                      *prefix;
    ngx_table_elt_t                *h;
    ngx_http_autoscale_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_module);
    prefix = &alcf->prefix;

    len = prefix->len + sizeof("/clusters/") - 1 + ngx_strlen(id);

    p = ngx_pnalloc(r->pool, len);
    h = ngx_list_push(&r->headers_out.headers);
    if (p == NULL || h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value.data = p;

    p = ngx_cpymem(p, prefix->data, prefix->len);
    if (prefix->len == 0 || prefix->data[prefix->len - 1] != '/') {
        *p++ = '/';
    }
    p = ngx_cpymem(p, "clusters/", sizeof("clusters/") - 1);
    p = ngx_cpymem(p, id, ngx_strlen(id));

    h->value.len = p - h->value.data;

    return NGX_OK;
}
