
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The statements of autoscale_actuate.  scaling_events is the ledger: a
 * claim leases due events to one node (FOR UPDATE SKIP LOCKED, so two
 * servers never take the same one), and the outcome is written only by
 * the node that holds the lease, at the try it claimed.
 */


#ifndef _NGX_AUTOSCALE_ACTUATE_SQL_H_INCLUDED_
#define _NGX_AUTOSCALE_ACTUATE_SQL_H_INCLUDED_


#include "ngx_autoscale_sql_notify.h"


/* a pending event is due: not waiting for its backoff, not leased */
#define NGX_AUTOSCALE_SQL_ACTUATE_FREE(e)                                     \
    "(" e ".actuate_lease_until IS NULL "                                     \
    "OR " e ".actuate_lease_until < now())"

/* a later event changed the cluster's target again */
#define NGX_AUTOSCALE_SQL_ACTUATE_NEWER(e)                                    \
    "EXISTS (SELECT 1 FROM scaling_events n "                                 \
        "WHERE n.cluster_id = " e ".cluster_id AND n.id > " e ".id "          \
        "AND n.actuation IS NOT NULL)"

/*
 * $1 node, $2 lease in seconds, $3 events to take at most.  Pending events
 * a later change made moot are superseded; of the rest, the latest of
 * each cluster is taken when it is due and no earlier one of its cluster
 * is in flight.  One row: how many were superseded, then the event taken,
 * or NULLs; more rows for more events.
 */
#define NGX_AUTOSCALE_SQL_ACTUATE_CLAIM                                       \
    "WITH sup AS (UPDATE scaling_events s SET actuation = 'superseded' "      \
        "WHERE s.id IN (SELECT e.id FROM scaling_events e "                   \
        "WHERE e.actuation = 'pending' "                                      \
        "AND " NGX_AUTOSCALE_SQL_ACTUATE_FREE("e") " "                        \
        "AND " NGX_AUTOSCALE_SQL_ACTUATE_NEWER("e") " "                       \
        "FOR UPDATE SKIP LOCKED) "                                            \
        "RETURNING s.id), "                                                   \
                                                                              \
    "c AS (UPDATE scaling_events s SET actuate_node = $1, "                   \
        "actuate_lease_until = now() + make_interval(secs => $2::float8) "    \
        "WHERE s.id IN (SELECT e.id FROM scaling_events e "                   \
        "WHERE e.actuation = 'pending' "                                      \
        "AND (e.actuate_next_at IS NULL OR e.actuate_next_at <= now()) "      \
        "AND " NGX_AUTOSCALE_SQL_ACTUATE_FREE("e") " "                        \
        "AND NOT " NGX_AUTOSCALE_SQL_ACTUATE_NEWER("e") " "                   \
        "AND NOT EXISTS (SELECT 1 FROM scaling_events o "                     \
        "WHERE o.cluster_id = e.cluster_id AND o.id < e.id "                  \
        "AND o.actuation = 'pending' AND o.actuate_lease_until >= now()) "    \
        "ORDER BY e.id LIMIT $3::int "                                        \
        "FOR UPDATE SKIP LOCKED) "                                            \
        "RETURNING s.*) "                                                     \
                                                                              \
    "SELECT (SELECT count(*) FROM sup), c.id, c.cluster_id, c.action, "       \
        "c.from_workers, c.to_workers, c.actuate_tries, "                     \
        "coalesce((SELECT string_agg(x, ',') "                                \
        "FROM jsonb_array_elements_text(CASE WHEN "                           \
        "jsonb_typeof(c.inputs -> 'drain') = 'array' "                        \
        "THEN c.inputs -> 'drain' END) AS x), ''), "                          \
        NGX_AUTOSCALE_SQL_NOTIFY_JSON("c.action", "c.cluster_id", "c.id",     \
                                      "c.from_workers", "c.to_workers",       \
                                      "c.after_status", "c.after_current",    \
                                      "c.to_workers", "c.reason",             \
                                      "c.inputs -> 'drain'") " "              \
    "FROM (SELECT 1) one LEFT JOIN c ON true "                                \
    "ORDER BY c.id"

typedef enum {
    NGX_AUTOSCALE_ACTUATE_COL_SUPERSEDED = 0,
    NGX_AUTOSCALE_ACTUATE_COL_ID,               /* NULL: none taken */
    NGX_AUTOSCALE_ACTUATE_COL_CLUSTER,
    NGX_AUTOSCALE_ACTUATE_COL_ACTION,
    NGX_AUTOSCALE_ACTUATE_COL_FROM,
    NGX_AUTOSCALE_ACTUATE_COL_TO,
    NGX_AUTOSCALE_ACTUATE_COL_TRIES,            /* before this one */
    NGX_AUTOSCALE_ACTUATE_COL_DRAIN,            /* "a,b", or "" */
    NGX_AUTOSCALE_ACTUATE_COL_BODY
} ngx_autoscale_sql_actuate_col_e;


/*
 * What became of a try: $1 event, $2 node, $3 actuated, $4 HTTP status or
 * NULL, $5 error or NULL, $6 tries allowed, $7 seconds to the next try,
 * $8 tries before this one, as claimed.  Returns the event's state, or no
 * row when the lease was no longer this node's.
 */
#define NGX_AUTOSCALE_SQL_ACTUATE_DONE                                        \
    "UPDATE scaling_events SET actuate_tries = actuate_tries + 1, "           \
        "actuate_status = $4::int, actuate_error = $5, "                      \
        "actuation = CASE WHEN $3::bool THEN 'actuated' "                     \
        "WHEN actuate_tries + 1 >= $6::int THEN 'failed' "                    \
        "ELSE 'pending' END, "                                                \
        "actuated_at = CASE WHEN $3::bool OR actuate_tries + 1 >= $6::int "   \
        "THEN now() END, "                                                    \
        "actuate_next_at = now() + make_interval(secs => $7::float8), "       \
        "actuate_lease_until = NULL "                                         \
    "WHERE id = $1::bigint AND actuate_node = $2 "                            \
        "AND actuate_tries = $8::int AND actuation = 'pending' "              \
    "RETURNING actuation"


#endif /* _NGX_AUTOSCALE_ACTUATE_SQL_H_INCLUDED_ */
