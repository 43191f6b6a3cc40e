
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The API's SQL statements, one clause to a line.  Each write is one
 * statement, so one transaction: it locks the row it changes (FOR UPDATE)
 * so that concurrent writes to a cluster queue up, checks again what it
 * needs in its WHERE clause, writes the scaling_events row and sends
 * NOTIFY autoscale, all or nothing; what it returns tells a refused write
 * apart from the rule it broke.  Beside each SELECT, an enum of its
 * columns.  Times come in the session's zone, UTC (see ngx_autoscale_pg.c).
 */


#ifndef _NGX_AUTOSCALE_SQL_API_H_INCLUDED_
#define _NGX_AUTOSCALE_SQL_API_H_INCLUDED_


#include "ngx_autoscale_policy_vocab.h"
#include "ngx_autoscale_sql_notify.h"


/*
 * The columns of NGX_AUTOSCALE_CHECK_COLUMNS (the policy's vocabulary),
 * which a write returns so that a refused write can be told apart from
 * the rules it broke, as they would have been after it.
 */
typedef enum {
    NGX_AUTOSCALE_CHECK_COL_MIN_WORKERS = 0,
    NGX_AUTOSCALE_CHECK_COL_MAX_WORKERS,
    NGX_AUTOSCALE_CHECK_COL_SCALE_UP_QUEUE,
    NGX_AUTOSCALE_CHECK_COL_SCALE_DOWN_QUEUE,
    NGX_AUTOSCALE_CHECK_COL_SCALE_UP_CPU,
    NGX_AUTOSCALE_CHECK_COL_SCALE_DOWN_CPU,
    NGX_AUTOSCALE_CHECK_COL_TARGET_METRIC,
    NGX_AUTOSCALE_CHECK_COL_TARGET_VALUE,
    NGX_AUTOSCALE_CHECK_COL_POLICY
} ngx_autoscale_sql_check_col_e;

/* a page of a list: the total in every row, a row from the next column */
typedef enum {
    NGX_AUTOSCALE_PAGE_COL_TOTAL = 0,
    NGX_AUTOSCALE_PAGE_COL_ROW
} ngx_autoscale_sql_page_col_e;


/* clusters */

/* a cluster as the API shows it: ngx_autoscale_cluster_cols */
#define NGX_AUTOSCALE_CLUSTER_SELECT                                          \
    "c.id, c.name, c.type, c.status, c.description, "                         \
    "c.blueprint_id, c.blueprint_version, "                                   \
    "c.min_workers, c.max_workers, c.current_workers, c.target_workers, "     \
    "(SELECT count(*) FROM cluster_agents a "                                 \
    "  WHERE a.cluster_id = c.id "                                            \
    "    AND a.status NOT IN ('stopped', 'lost')), "                          \
    "c.health_score, c.load_percentage, c.tasks_completed, c.tasks_failed, "  \
    "c.paused, c.tags, c.config, "                                            \
    "c.policy, c.scale_up_queue, c.scale_up_cpu, "                            \
    "c.scale_down_queue, c.scale_down_cpu, "                                  \
    "c.scale_up_factor, c.scale_down_factor, "                                \
    "c.scale_up_cooldown, c.scale_down_cooldown, "                            \
    "c.target_metric, c.target_value, c.tolerance, "                          \
    "c.stabilization_window, c.actuation, c.worker_capacity, "                \
    "c.last_decision, "                                                       \
    "c.created_at, c.started_at, c.hibernated_at, c.destroyed_at, "           \
    "c.last_active, c.last_scaled_at, c.updated_at"

typedef enum {
    NGX_AUTOSCALE_CLUSTER_COL_ID = 0,
    NGX_AUTOSCALE_CLUSTER_COL_NAME,
    NGX_AUTOSCALE_CLUSTER_COL_TYPE,
    NGX_AUTOSCALE_CLUSTER_COL_STATUS,
    NGX_AUTOSCALE_CLUSTER_COL_DESCRIPTION,
    NGX_AUTOSCALE_CLUSTER_COL_BLUEPRINT_ID,
    NGX_AUTOSCALE_CLUSTER_COL_BLUEPRINT_VERSION,
    NGX_AUTOSCALE_CLUSTER_COL_MIN_WORKERS,
    NGX_AUTOSCALE_CLUSTER_COL_MAX_WORKERS,
    NGX_AUTOSCALE_CLUSTER_COL_CURRENT_WORKERS,
    NGX_AUTOSCALE_CLUSTER_COL_TARGET_WORKERS,
    NGX_AUTOSCALE_CLUSTER_COL_AGENTS_COUNT,
    NGX_AUTOSCALE_CLUSTER_COL_HEALTH_SCORE,
    NGX_AUTOSCALE_CLUSTER_COL_LOAD_PERCENTAGE,
    NGX_AUTOSCALE_CLUSTER_COL_TASKS_COMPLETED,
    NGX_AUTOSCALE_CLUSTER_COL_TASKS_FAILED,
    NGX_AUTOSCALE_CLUSTER_COL_PAUSED,
    NGX_AUTOSCALE_CLUSTER_COL_TAGS,
    NGX_AUTOSCALE_CLUSTER_COL_CONFIG,
    NGX_AUTOSCALE_CLUSTER_COL_POLICY,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_UP_QUEUE,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_UP_CPU,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_DOWN_QUEUE,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_DOWN_CPU,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_UP_FACTOR,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_DOWN_FACTOR,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_UP_COOLDOWN,
    NGX_AUTOSCALE_CLUSTER_COL_SCALE_DOWN_COOLDOWN,
    NGX_AUTOSCALE_CLUSTER_COL_TARGET_METRIC,
    NGX_AUTOSCALE_CLUSTER_COL_TARGET_VALUE,
    NGX_AUTOSCALE_CLUSTER_COL_TOLERANCE,
    NGX_AUTOSCALE_CLUSTER_COL_STABILIZATION_WINDOW,
    NGX_AUTOSCALE_CLUSTER_COL_ACTUATION,
    NGX_AUTOSCALE_CLUSTER_COL_WORKER_CAPACITY,
    NGX_AUTOSCALE_CLUSTER_COL_LAST_DECISION,
    NGX_AUTOSCALE_CLUSTER_COL_CREATED_AT,
    NGX_AUTOSCALE_CLUSTER_COL_STARTED_AT,
    NGX_AUTOSCALE_CLUSTER_COL_HIBERNATED_AT,
    NGX_AUTOSCALE_CLUSTER_COL_DESTROYED_AT,
    NGX_AUTOSCALE_CLUSTER_COL_LAST_ACTIVE,
    NGX_AUTOSCALE_CLUSTER_COL_LAST_SCALED_AT,
    NGX_AUTOSCALE_CLUSTER_COL_UPDATED_AT
} ngx_autoscale_sql_cluster_col_e;


/*
 * A page of clusters, newest first: $1 status or NULL (all but
 * destroyed), $2 type or NULL, $3 limit, $4 offset.  The total comes alone
 * in a row of NULLs when the page is past the end.  Columns: the page's.
 */
#define NGX_AUTOSCALE_SQL_CLUSTER_LIST                                        \
    "WITH f AS ( "                                                            \
    "  SELECT * FROM clusters "                                               \
    "  WHERE ($1::text IS NULL AND status <> 'destroyed' OR status = $1) "    \
    "    AND ($2::text IS NULL OR type = $2)) "                               \
    "SELECT t.total, p.* "                                                    \
    "FROM (SELECT count(*) AS total FROM f) t "                               \
    "LEFT JOIN LATERAL ( "                                                    \
    "  SELECT "                                                               \
    NGX_AUTOSCALE_CLUSTER_SELECT " "                                          \
    "  FROM f c "                                                             \
    "  ORDER BY c.created_at DESC, c.id "                                     \
    "  LIMIT $3::int OFFSET $4::bigint) p "                                   \
    "ON true"

/* $1 id.  Columns: the cluster's, no row if there is no such cluster */
#define NGX_AUTOSCALE_SQL_CLUSTER_GET                                         \
    "SELECT "                                                                 \
    NGX_AUTOSCALE_CLUSTER_SELECT " "                                          \
    "FROM clusters c "                                                        \
    "WHERE c.id = $1"


/*
 * $1 blueprint_id, $2 name, $3 type, $4 min_workers, $5 max_workers,
 * $6 target_workers, $7 description, $8 tags, $9 config, $10 .. $24 the
 * policy, $25 node.  Unset fields come from the blueprint.  A "reported"
 * cluster starts with no workers, heading for its target: they are counted
 * as they come.
 */
#define NGX_AUTOSCALE_SQL_CLUSTER_CREATE                                      \
    "WITH b AS ( "                                                            \
    "  SELECT * FROM cluster_blueprints "                                     \
    "  WHERE id = $1 AND is_active), "                                        \
    "v AS ( "                                                                 \
    "  SELECT COALESCE($2, b.name) AS name, "                                 \
    "    COALESCE($3, 'persistent') AS type, "                                \
    "    COALESCE($4::int, b.min_workers) AS min_workers, "                   \
    "    COALESCE($5::int, b.max_workers) AS max_workers, "                   \
    "    COALESCE($6::int, b.default_workers) AS target_workers, "            \
    "    COALESCE($10, b.policy) AS policy, "                                 \
    "    COALESCE($11::float8, b.scale_up_queue) AS scale_up_queue, "         \
    "    COALESCE($12::float8, b.scale_up_cpu) AS scale_up_cpu, "             \
    "    COALESCE($13::float8, b.scale_down_queue) AS scale_down_queue, "     \
    "    COALESCE($14::float8, b.scale_down_cpu) AS scale_down_cpu, "         \
    "    COALESCE($15::float8, b.scale_up_factor) AS scale_up_factor, "       \
    "    COALESCE($16::float8, b.scale_down_factor) AS scale_down_factor, "   \
    "    COALESCE($17::int, b.scale_up_cooldown) AS scale_up_cooldown, "      \
    "    COALESCE($18::int, b.scale_down_cooldown) AS scale_down_cooldown, "  \
    "    COALESCE($19, b.target_metric) AS target_metric, "                   \
    "    COALESCE($20::float8, b.target_value) AS target_value, "             \
    "    COALESCE($21::float8, b.tolerance) AS tolerance, "                   \
    "    COALESCE($22::int, b.stabilization_window) AS stabilization_window, " \
    "    COALESCE($23, b.actuation) AS actuation, "                           \
    "    COALESCE($24::int, b.worker_capacity) AS worker_capacity "           \
    "  FROM b), "                                                             \
    "ins AS ( "                                                               \
    "  INSERT INTO clusters (name, type, status, blueprint_id, "              \
    "    blueprint_version, min_workers, max_workers, current_workers, "      \
    "    target_workers, description, tags, config, started_at, "             \
    "    last_scaled_at, " NGX_AUTOSCALE_POLICY_COLUMNS ") "                  \
    "  SELECT v.name, v.type, CASE WHEN v.actuation = 'reported' "            \
    "      AND v.target_workers > 0 THEN 'scaling_up' ELSE 'active' END, "    \
    "    b.id, b.version, v.min_workers, v.max_workers, "                     \
    "    CASE WHEN v.actuation = 'reported' THEN 0 "                          \
    "      ELSE v.target_workers END, v.target_workers, NULLIF($7, ''), "     \
    "    COALESCE($8::jsonb, b.tags), COALESCE($9::jsonb, b.config), now(), " \
    "    CASE WHEN v.actuation = 'reported' THEN now() END, "                 \
    "    v.policy, v.scale_up_queue, v.scale_up_cpu, v.scale_down_queue, "    \
    "    v.scale_down_cpu, v.scale_up_factor, v.scale_down_factor, "          \
    "    v.scale_up_cooldown, v.scale_down_cooldown, v.target_metric, "       \
    "    v.target_value, v.tolerance, v.stabilization_window, v.actuation, "  \
    "    v.worker_capacity "                                                  \
    "  FROM v, b "                                                            \
    "  WHERE char_length(v.name) BETWEEN 3 AND 200 "                          \
    "    AND v.target_workers BETWEEN v.min_workers AND v.max_workers "       \
    "    AND " NGX_AUTOSCALE_CHECK_RULES("v") " "                             \
    "  RETURNING *), "                                                        \
    "ev AS ( "                                                                \
    "  INSERT INTO scaling_events (cluster_id, action, from_workers, "        \
    "    to_workers, reason, node, actuation, after_status, after_current) "  \
    "  SELECT id, 'create', 0, target_workers, "                              \
    "    'created from blueprint ' || blueprint_id, $25, 'pending', status, " \
    "    current_workers "                                                    \
    "  FROM ins "                                                             \
    "  RETURNING id, reason) "                                                \
    "SELECT (SELECT count(*) FROM b), "                                       \
    NGX_AUTOSCALE_CHECK_COLUMNS("v") ", "                                     \
    "  v.name, v.target_workers, "                                            \
    "  (SELECT "                                                              \
    NGX_AUTOSCALE_SQL_NOTIFY("'create'", "ins.id", "ev.id", "0",              \
                             "ins.target_workers", "ins.status",              \
                             "ins.current_workers", "ins.target_workers",     \
                             "ev.reason", "NULL") " "                         \
    "   FROM ins, ev), "                                                      \
    NGX_AUTOSCALE_CLUSTER_SELECT " "                                          \
    "FROM (SELECT 1) one "                                                    \
    "LEFT JOIN v ON true "                                                    \
    "LEFT JOIN ins c ON true"

typedef enum {
    NGX_AUTOSCALE_CLUSTER_CREATE_COL_BLUEPRINT = 0,  /* 1: it is active */
    NGX_AUTOSCALE_CLUSTER_CREATE_COL_CHECK,    /* NGX_AUTOSCALE_CHECK_COL_ */
    NGX_AUTOSCALE_CLUSTER_CREATE_COL_NAME =
        NGX_AUTOSCALE_CLUSTER_CREATE_COL_CHECK + NGX_AUTOSCALE_CHECK_NCOLUMNS,
    NGX_AUTOSCALE_CLUSTER_CREATE_COL_TARGET,
    NGX_AUTOSCALE_CLUSTER_CREATE_COL_NOTIFY,
    NGX_AUTOSCALE_CLUSTER_CREATE_COL_CLUSTER   /* NULL: not created */
} ngx_autoscale_sql_cluster_create_col_e;


/*
 * $1 id, $2 name, $3 description, $4 tags, $5 min_workers, $6 max_workers,
 * $7 .. $21 the policy, $22 paused.  The bounds must hold the workers the
 * cluster has and is heading for; a hibernated cluster has none, and the
 * workers a "reported" cluster has are only counted.
 */
#define NGX_AUTOSCALE_SQL_CLUSTER_UPDATE                                      \
    "WITH cur AS ( "                                                          \
    "  SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "                    \
    "v AS ( "                                                                 \
    "  SELECT COALESCE($5::int, cur.min_workers) AS min_workers, "            \
    "    COALESCE($6::int, cur.max_workers) AS max_workers, "                 \
    "    COALESCE($7, cur.policy) AS policy, "                                \
    "    COALESCE($8::float8, cur.scale_up_queue) AS scale_up_queue, "        \
    "    COALESCE($9::float8, cur.scale_up_cpu) AS scale_up_cpu, "            \
    "    COALESCE($10::float8, cur.scale_down_queue) AS scale_down_queue, "   \
    "    COALESCE($11::float8, cur.scale_down_cpu) AS scale_down_cpu, "       \
    "    COALESCE($12::float8, cur.scale_up_factor) AS scale_up_factor, "     \
    "    COALESCE($13::float8, cur.scale_down_factor) AS scale_down_factor, " \
    "    COALESCE($14::int, cur.scale_up_cooldown) AS scale_up_cooldown, "    \
    "    COALESCE($15::int, cur.scale_down_cooldown) AS scale_down_cooldown, " \
    "    COALESCE($16, cur.target_metric) AS target_metric, "                 \
    "    COALESCE($17::float8, cur.target_value) AS target_value, "           \
    "    COALESCE($18::float8, cur.tolerance) AS tolerance, "                 \
    "    COALESCE($19::int, cur.stabilization_window) "                       \
    "      AS stabilization_window, "                                         \
    "    COALESCE($20, cur.actuation) AS actuation, "                         \
    "    COALESCE($21::int, cur.worker_capacity) AS worker_capacity, "        \
    "    cur.status, cur.current_workers, cur.target_workers "                \
    "  FROM cur), "                                                           \
    "upd AS ( "                                                               \
    "  UPDATE clusters u "                                                    \
    "  SET name = COALESCE($2, u.name), "                                     \
    "    description = CASE WHEN $3::text IS NULL THEN u.description "        \
    "                  ELSE NULLIF($3, '') END, "                             \
    "    tags = COALESCE($4::jsonb, u.tags), "                                \
    "    min_workers = v.min_workers, "                                       \
    "    max_workers = v.max_workers, "                                       \
    "    policy = v.policy, "                                                 \
    "    scale_up_queue = v.scale_up_queue, "                                 \
    "    scale_up_cpu = v.scale_up_cpu, "                                     \
    "    scale_down_queue = v.scale_down_queue, "                             \
    "    scale_down_cpu = v.scale_down_cpu, "                                 \
    "    scale_up_factor = v.scale_up_factor, "                               \
    "    scale_down_factor = v.scale_down_factor, "                           \
    "    scale_up_cooldown = v.scale_up_cooldown, "                           \
    "    scale_down_cooldown = v.scale_down_cooldown, "                       \
    "    target_metric = v.target_metric, "                                   \
    "    target_value = v.target_value, "                                     \
    "    tolerance = v.tolerance, "                                           \
    "    stabilization_window = v.stabilization_window, "                     \
    "    actuation = v.actuation, "                                           \
    "    worker_capacity = v.worker_capacity, "                               \
    "    paused = COALESCE($22::bool, u.paused), "                            \
    "    updated_at = now() "                                                 \
    "  FROM v "                                                               \
    "  WHERE u.id = $1 AND v.status <> 'destroyed' "                          \
    "    AND " NGX_AUTOSCALE_CHECK_RULES("v") " "                             \
    "    AND (v.status = 'hibernated' "                                       \
    "      OR ((v.actuation = 'reported' "                                    \
    "          OR v.current_workers BETWEEN v.min_workers "                   \
    "            AND v.max_workers) "                                         \
    "        AND v.target_workers BETWEEN v.min_workers AND v.max_workers)) " \
    "  RETURNING u.*) "                                                       \
    "SELECT v.status, "                                                       \
    NGX_AUTOSCALE_CHECK_COLUMNS("v") ", "                                     \
    "  v.current_workers, v.target_workers, "                                 \
    NGX_AUTOSCALE_CLUSTER_SELECT ", "                                         \
    "  (SELECT "                                                              \
    NGX_AUTOSCALE_SQL_NOTIFY("'update'", "upd.id", "NULL", "NULL", "NULL",    \
                             "upd.status", "upd.current_workers",             \
                             "upd.target_workers", "NULL", "NULL") " "        \
    "   FROM upd) "                                                           \
    "FROM v "                                                                 \
    "LEFT JOIN upd c ON true"

typedef enum {
    NGX_AUTOSCALE_CLUSTER_UPDATE_COL_STATUS = 0,  /* before: no row, none */
    NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CHECK,    /* NGX_AUTOSCALE_CHECK_COL_ */
    NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CURRENT =
        NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CHECK + NGX_AUTOSCALE_CHECK_NCOLUMNS,
    NGX_AUTOSCALE_CLUSTER_UPDATE_COL_TARGET,
    NGX_AUTOSCALE_CLUSTER_UPDATE_COL_CLUSTER   /* NULL: not updated */
} ngx_autoscale_sql_cluster_update_col_e;


/* a soft delete: $1 id, $2 node */
#define NGX_AUTOSCALE_SQL_CLUSTER_DELETE                                      \
    "WITH cur AS ( "                                                          \
    "  SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "                    \
    "upd AS ( "                                                               \
    "  UPDATE clusters u "                                                    \
    "  SET status = 'destroyed', "                                            \
    "    destroyed_at = now(), "                                              \
    "    target_workers = 0, "                                                \
    "    current_workers = CASE WHEN u.actuation = 'immediate' THEN 0 "       \
    "                      ELSE u.current_workers END, "                      \
    "    updated_at = now() "                                                 \
    "  FROM cur "                                                             \
    "  WHERE u.id = cur.id AND cur.status <> 'destroyed' "                    \
    "  RETURNING u.*, cur.current_workers AS from_workers), "                 \
    "ev AS ( "                                                                \
    "  INSERT INTO scaling_events (cluster_id, action, from_workers, "        \
    "    to_workers, reason, node, actuation, after_status, after_current) "  \
    "  SELECT id, 'destroy', from_workers, 0, 'deleted through the API', $2, " \
    "    'pending', status, current_workers "                                 \
    "  FROM upd "                                                             \
    "  RETURNING id, reason) "                                                \
    "SELECT (SELECT count(*) FROM cur), "                                     \
    "  (SELECT "                                                              \
    NGX_AUTOSCALE_SQL_NOTIFY("'destroy'", "upd.id", "ev.id",                  \
                             "upd.from_workers", "0", "upd.status",           \
                             "upd.current_workers", "upd.target_workers",     \
                             "ev.reason", "NULL") " "                         \
    "   FROM upd, ev)"

typedef enum {
    NGX_AUTOSCALE_CLUSTER_DELETE_COL_FOUND = 0,
    NGX_AUTOSCALE_CLUSTER_DELETE_COL_NOTIFY
} ngx_autoscale_sql_cluster_delete_col_e;


/*
 * The transitions: each is $1 id, $2 the new target, $3 reason, $4 node,
 * $5 the agents a scale-down drains (a JSON array, or NULL), named in the
 * event's inputs and the NOTIFY, and returns the same columns: the
 * cluster before (status, min, max, current, target), the event (id, at)
 * if one was written, the NOTIFY, and the cluster after, or as it was
 * when nothing changed.  The event goes to the workers "to", an
 * expression of upd; "drain" is the expression of the drained agents.
 */
#define NGX_AUTOSCALE_SQL_TRANSITION_TAIL(action, to, drain)                  \
    "ev AS ( "                                                                \
    "  INSERT INTO scaling_events (cluster_id, action, from_workers, "        \
    "    to_workers, reason, inputs, node, actuation, after_status, "         \
    "    after_current) "                                                     \
    "  SELECT upd.id, '" action "', cur.current_workers, " to ", "            \
    "    $3, jsonb_build_object('status', cur.status, "                       \
    "      'target_workers', cur.target_workers, "                            \
    "      'actuation', cur.actuation) "                                      \
    "      || jsonb_strip_nulls(jsonb_build_object('drain', " drain ")), "    \
    "    $4, CASE WHEN '" action "' <> 'report' THEN 'pending' END, "         \
    "    upd.status, upd.current_workers "                                    \
    "  FROM upd, cur "                                                        \
    "  RETURNING id, at, to_workers) "                                        \
    "SELECT cur.status, cur.min_workers, cur.max_workers, "                   \
    "  cur.current_workers, cur.target_workers, ev.id, ev.at, "               \
    "  ev.to_workers, "                                                       \
    "  (SELECT "                                                              \
    NGX_AUTOSCALE_SQL_NOTIFY("'" action "'", "upd.id", "ev.id",               \
                             "cur.current_workers", to,                       \
                             "upd.status", "upd.current_workers",             \
                             "upd.target_workers", "$3::text", drain) " "     \
    "   FROM upd, ev), "                                                      \
    NGX_AUTOSCALE_CLUSTER_SELECT " "                                          \
    "FROM cur "                                                               \
    "LEFT JOIN ev ON true, "                                                  \
    "  (SELECT * FROM upd "                                                   \
    "   UNION ALL "                                                           \
    "   SELECT * FROM cur WHERE NOT EXISTS (SELECT 1 FROM upd)) c"

typedef enum {
    NGX_AUTOSCALE_TRANSITION_COL_STATUS = 0,
    NGX_AUTOSCALE_TRANSITION_COL_MIN_WORKERS,
    NGX_AUTOSCALE_TRANSITION_COL_MAX_WORKERS,
    NGX_AUTOSCALE_TRANSITION_COL_CURRENT_WORKERS,
    NGX_AUTOSCALE_TRANSITION_COL_TARGET_WORKERS,
    NGX_AUTOSCALE_TRANSITION_COL_EVENT_ID,     /* NULL: nothing changed */
    NGX_AUTOSCALE_TRANSITION_COL_EVENT_AT,
    NGX_AUTOSCALE_TRANSITION_COL_EVENT_TO,
    NGX_AUTOSCALE_TRANSITION_COL_NOTIFY,
    NGX_AUTOSCALE_TRANSITION_COL_CLUSTER
} ngx_autoscale_sql_transition_col_e;

/* a manual scale bypasses the cooldown but not the bounds */
#define NGX_AUTOSCALE_SQL_CLUSTER_SCALE                                       \
    "WITH cur AS ( "                                                          \
    "  SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "                    \
    "upd AS ( "                                                               \
    "  UPDATE clusters u "                                                    \
    "  SET target_workers = $2::int, "                                        \
    "    current_workers = CASE WHEN cur.actuation = 'immediate' "            \
    "                      THEN $2::int ELSE u.current_workers END, "         \
    "    status = CASE WHEN cur.actuation = 'immediate' "                     \
    "        OR $2::int = cur.current_workers THEN 'active' "                 \
    "      WHEN $2::int > cur.current_workers THEN 'scaling_up' "             \
    "      ELSE 'scaling_down' END, "                                         \
    "    last_scaled_at = now(), "                                            \
    "    last_active = now(), "                                               \
    "    updated_at = now() "                                                 \
    "  FROM cur "                                                             \
    "  WHERE u.id = cur.id "                                                  \
    "    AND cur.status IN ('active', 'scaling_up', 'scaling_down') "         \
    "    AND $2::int BETWEEN cur.min_workers AND cur.max_workers "            \
    "    AND $2::int <> cur.target_workers "                                  \
    "  RETURNING u.*), "                                                      \
    NGX_AUTOSCALE_SQL_TRANSITION_TAIL("manual", "upd.target_workers",         \
                                      "$5::jsonb")

#define NGX_AUTOSCALE_SQL_CLUSTER_HIBERNATE                                   \
    "WITH cur AS ( "                                                          \
    "  SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "                    \
    "upd AS ( "                                                               \
    "  UPDATE clusters u "                                                    \
    "  SET status = 'hibernated', "                                           \
    "    hibernated_at = now(), "                                             \
    "    target_workers = $2::int, "                                          \
    "    current_workers = CASE WHEN cur.actuation = 'immediate' "            \
    "                      THEN $2::int ELSE u.current_workers END, "         \
    "    last_scaled_at = now(), "                                            \
    "    updated_at = now() "                                                 \
    "  FROM cur "                                                             \
    "  WHERE u.id = cur.id "                                                  \
    "    AND cur.status IN ('active', 'scaling_up', 'scaling_down') "         \
    "  RETURNING u.*), "                                                      \
    NGX_AUTOSCALE_SQL_TRANSITION_TAIL("hibernate", "upd.target_workers",      \
                                      "$5::jsonb")

/* back at min_workers; $2 and $5 are unused but keep the parameters alike */
#define NGX_AUTOSCALE_SQL_CLUSTER_REACTIVATE                                  \
    "WITH cur AS ( "                                                          \
    "  SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "                    \
    "upd AS ( "                                                               \
    "  UPDATE clusters u "                                                    \
    "  SET target_workers = cur.min_workers, "                                \
    "    current_workers = CASE WHEN cur.actuation = 'immediate' "            \
    "                      THEN cur.min_workers ELSE u.current_workers END, " \
    "    status = CASE WHEN cur.actuation = 'immediate' "                     \
    "        OR cur.min_workers = cur.current_workers THEN 'active' "         \
    "      WHEN cur.min_workers > cur.current_workers THEN 'scaling_up' "     \
    "      ELSE 'scaling_down' END, "                                         \
    "    last_scaled_at = now(), "                                            \
    "    last_active = now(), "                                               \
    "    updated_at = now() "                                                 \
    "  FROM cur "                                                             \
    "  WHERE u.id = cur.id AND cur.status = 'hibernated' "                    \
    "    AND $2::int IS NOT NULL AND $5::jsonb IS NULL "                      \
    "  RETURNING u.*), "                                                      \
    NGX_AUTOSCALE_SQL_TRANSITION_TAIL("reactivate", "upd.target_workers",     \
                                      "NULL::jsonb")

/*
 * $2 the workers an orchestrator counts, for a "reported" cluster in any
 * state: an active one is active again at its target, else scaling.  The
 * count holds until the cluster's serving agents change in number.
 */
#define NGX_AUTOSCALE_SQL_CLUSTER_WORKERS                                     \
    "WITH cur AS ( "                                                          \
    "  SELECT * FROM clusters WHERE id = $1 FOR UPDATE), "                    \
    "upd AS ( "                                                               \
    "  UPDATE clusters u "                                                    \
    "  SET current_workers = $2::int, "                                       \
    "    status = CASE WHEN cur.status NOT IN ('active', 'scaling_up', "      \
    "        'scaling_down') THEN cur.status "                                \
    "      WHEN $2::int = cur.target_workers THEN 'active' "                  \
    "      WHEN $2::int < cur.target_workers THEN 'scaling_up' "              \
    "      ELSE 'scaling_down' END, "                                         \
    "    updated_at = now() "                                                 \
    "  FROM cur "                                                             \
    "  WHERE u.id = cur.id AND cur.actuation = 'reported' "                   \
    "    AND $2::int BETWEEN 0 AND cur.max_workers AND $5::jsonb IS NULL "    \
    "    AND $2::int <> cur.current_workers "                                 \
    "  RETURNING u.*), "                                                      \
    NGX_AUTOSCALE_SQL_TRANSITION_TAIL("report", "upd.current_workers",        \
                                      "NULL::jsonb")


/*
 * A cluster's history: whether the cluster exists in every row, then a row
 * of the history, or NULLs when there is none.
 */
typedef enum {
    NGX_AUTOSCALE_HISTORY_COL_FOUND = 0,
    NGX_AUTOSCALE_HISTORY_COL_ROW
} ngx_autoscale_sql_history_col_e;


/* $1 id; the agents in the order of ngx_autoscale_agent_cols */
#define NGX_AUTOSCALE_SQL_CLUSTER_AGENTS                                      \
    "SELECT (SELECT count(*) FROM clusters WHERE id = $1), "                  \
    "  a.agent_id, a.role, a.status, a.health_score, a.cpu_usage, "           \
    "  a.memory_usage, a.queue_length, a.tasks_completed, a.tasks_failed, "   \
    "  a.last_heartbeat, a.spawned_at, a.last_active, a.address, a.weight "   \
    "FROM (SELECT 1) one "                                                    \
    "LEFT JOIN cluster_agents a ON a.cluster_id = $1 "                        \
    "ORDER BY a.agent_id"

/*
 * $1 id, $2 limit, $3 since or NULL; newest first, in the order of
 * ngx_autoscale_metric_cols
 */
#define NGX_AUTOSCALE_SQL_CLUSTER_METRICS                                     \
    "SELECT (SELECT count(*) FROM clusters WHERE id = $1), m.* "              \
    "FROM (SELECT 1) one "                                                    \
    "LEFT JOIN LATERAL ( "                                                    \
    "  SELECT \"timestamp\", cpu_usage, memory_usage, "                       \
    "    queue_length, queue_wait_time, active_agents, idle_agents, "         \
    "    busy_agents, failed_agents, tasks_per_minute, avg_response_time, "   \
    "    error_rate, requests_started, requests_finished, inflight_avg, "     \
    "    inflight_peak, errors_5xx, window_seconds, current_workers "         \
    "  FROM cluster_metrics "                                                 \
    "  WHERE cluster_id = $1 "                                                \
    "    AND ($3::timestamptz IS NULL OR \"timestamp\" >= $3::timestamptz) "  \
    "  ORDER BY \"timestamp\" DESC, id DESC "                                 \
    "  LIMIT $2::int) m "                                                     \
    "ON true"

/* a time of an event as the API writes times: RFC 3339 in UTC */
#define NGX_AUTOSCALE_SQL_EVENT_TIME(t)                                       \
    "rtrim(rtrim(to_char(" t " AT TIME ZONE 'UTC', "                          \
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '0'), '.') || 'Z'"

/* $1 id, $2 limit; newest first, in the order of ngx_autoscale_event_cols */
#define NGX_AUTOSCALE_SQL_CLUSTER_EVENTS                                      \
    "SELECT (SELECT count(*) FROM clusters WHERE id = $1), e.* "              \
    "FROM (SELECT 1) one "                                                    \
    "LEFT JOIN LATERAL ( "                                                    \
    "  SELECT id, at, action, from_workers, to_workers, reason, "             \
    "    inputs, dry_run, node, "                                             \
    "    CASE WHEN actuation IS NOT NULL THEN json_build_object( "            \
    "      'state', actuation, 'tries', actuate_tries, "                      \
    "      'status', actuate_status, 'error', actuate_error, "                \
    "      'at', " NGX_AUTOSCALE_SQL_EVENT_TIME("actuated_at") ", "           \
    "      'next_at', CASE WHEN actuation = 'pending' THEN "                  \
    NGX_AUTOSCALE_SQL_EVENT_TIME("coalesce(actuate_next_at, at)") " END, "    \
    "      'node', actuate_node) END "                                        \
    "  FROM scaling_events "                                                  \
    "  WHERE cluster_id = $1 "                                                \
    "  ORDER BY at DESC, id DESC "                                            \
    "  LIMIT $2::int) e "                                                     \
    "ON true"

/* $1 id: whether the cluster is there for an agent's heartbeat */
#define NGX_AUTOSCALE_SQL_CLUSTER_EXISTS                                      \
    "SELECT status "                                                          \
    "FROM clusters "                                                          \
    "WHERE id = $1 AND status <> 'destroyed'"

typedef enum {
    NGX_AUTOSCALE_CLUSTER_EXISTS_COL_STATUS = 0  /* no row: none */
} ngx_autoscale_sql_cluster_exists_col_e;


/* blueprints */

/* a blueprint as the API shows it: ngx_autoscale_blueprint_cols */
#define NGX_AUTOSCALE_BLUEPRINT_SELECT                                        \
    "b.id, b.name, b.version, b.description, b.author, b.tags, b.config, "    \
    "b.is_active, b.min_workers, b.max_workers, b.default_workers, "          \
    "b.policy, b.scale_up_queue, b.scale_up_cpu, "                            \
    "b.scale_down_queue, b.scale_down_cpu, "                                  \
    "b.scale_up_factor, b.scale_down_factor, "                                \
    "b.scale_up_cooldown, b.scale_down_cooldown, "                            \
    "b.target_metric, b.target_value, b.tolerance, "                          \
    "b.stabilization_window, b.actuation, b.worker_capacity, "                \
    "b.created_at, b.updated_at"

/* a page of blueprints: $1 limit, $2 offset.  Columns: the page's. */
#define NGX_AUTOSCALE_SQL_BLUEPRINT_LIST                                      \
    "SELECT t.total, p.* "                                                    \
    "FROM (SELECT count(*) AS total FROM cluster_blueprints) t "              \
    "LEFT JOIN LATERAL ( "                                                    \
    "  SELECT "                                                               \
    NGX_AUTOSCALE_BLUEPRINT_SELECT " "                                        \
    "  FROM cluster_blueprints b "                                            \
    "  ORDER BY b.id "                                                        \
    "  LIMIT $1::int OFFSET $2::bigint) p "                                   \
    "ON true"

/* $1 id.  Columns: the blueprint's, no row if there is no such one */
#define NGX_AUTOSCALE_SQL_BLUEPRINT_GET                                       \
    "SELECT "                                                                 \
    NGX_AUTOSCALE_BLUEPRINT_SELECT " "                                        \
    "FROM cluster_blueprints b "                                              \
    "WHERE b.id = $1"

/*
 * $1 id, $2 name, $3 version, $4 description, $5 author, $6 tags,
 * $7 config, $8 min_workers, $9 max_workers, $10 default_workers,
 * $11 .. $25 the policy.  What is not given takes the schema's defaults,
 * repeated here because a row cannot take some defaults and not others.
 */
#define NGX_AUTOSCALE_SQL_BLUEPRINT_CREATE                                    \
    "WITH v AS ( "                                                            \
    "  SELECT COALESCE($8::int, 1) AS min_workers, "                          \
    "    COALESCE($9::int, 10) AS max_workers, "                              \
    "    COALESCE($10::int, $8::int, 1) AS default_workers, "                 \
    "    COALESCE($11, 'threshold') AS policy, "                              \
    "    COALESCE($12::float8, 10) AS scale_up_queue, "                       \
    "    COALESCE($13::float8, 80) AS scale_up_cpu, "                         \
    "    COALESCE($14::float8, 2) AS scale_down_queue, "                      \
    "    COALESCE($15::float8, 20) AS scale_down_cpu, "                       \
    "    COALESCE($16::float8, 1.2) AS scale_up_factor, "                     \
    "    COALESCE($17::float8, 0.8) AS scale_down_factor, "                   \
    "    COALESCE($18::int, 300) AS scale_up_cooldown, "                      \
    "    COALESCE($19::int, 300) AS scale_down_cooldown, "                    \
    "    COALESCE($20, 'cpu_usage') AS target_metric, "                       \
    "    COALESCE($21::float8, 70) AS target_value, "                         \
    "    COALESCE($22::float8, 0.1) AS tolerance, "                           \
    "    COALESCE($23::int, 300) AS stabilization_window, "                   \
    "    COALESCE($24, 'immediate') AS actuation, "                           \
    "    COALESCE($25::int, 1) AS worker_capacity), "                         \
    "ins AS ( "                                                               \
    "  INSERT INTO cluster_blueprints (id, name, version, "                   \
    "    description, author, tags, config, min_workers, max_workers, "       \
    "    default_workers, " NGX_AUTOSCALE_POLICY_COLUMNS ") "                 \
    "  SELECT $1, $2, COALESCE($3, '1.0.0'), NULLIF($4, ''), NULLIF($5, ''), " \
    "    COALESCE($6::jsonb, '[]'), COALESCE($7::jsonb, '{}'), "              \
    "    v.min_workers, v.max_workers, v.default_workers, "                   \
    "    v.policy, v.scale_up_queue, v.scale_up_cpu, "                        \
    "    v.scale_down_queue, v.scale_down_cpu, "                              \
    "    v.scale_up_factor, v.scale_down_factor, "                            \
    "    v.scale_up_cooldown, v.scale_down_cooldown, "                        \
    "    v.target_metric, v.target_value, v.tolerance, "                      \
    "    v.stabilization_window, v.actuation, v.worker_capacity "             \
    "  FROM v "                                                               \
    "  WHERE v.default_workers BETWEEN v.min_workers AND v.max_workers "      \
    "    AND " NGX_AUTOSCALE_CHECK_RULES("v") " "                             \
    "  ON CONFLICT (id) DO NOTHING "                                          \
    "  RETURNING *) "                                                         \
    "SELECT (SELECT count(*) FROM cluster_blueprints WHERE id = $1), "        \
    NGX_AUTOSCALE_CHECK_COLUMNS("v") ", "                                     \
    "  v.default_workers, "                                                   \
    NGX_AUTOSCALE_BLUEPRINT_SELECT " "                                        \
    "FROM v "                                                                 \
    "LEFT JOIN ins b ON true"

typedef enum {
    NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_EXISTS = 0,  /* 1: the id is taken */
    NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_CHECK,  /* NGX_AUTOSCALE_CHECK_COL_ */
    NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_DEFAULT =
        NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_CHECK
        + NGX_AUTOSCALE_CHECK_NCOLUMNS,
    NGX_AUTOSCALE_BLUEPRINT_CREATE_COL_BLUEPRINT   /* NULL: not created */
} ngx_autoscale_sql_blueprint_create_col_e;


#endif /* _NGX_AUTOSCALE_SQL_API_H_INCLUDED_ */
