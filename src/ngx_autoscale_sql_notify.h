
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The one shape of every NOTIFY autoscale payload, whichever statement
 * sends it: the same keys in the same order, null where one does not
 * apply, so that a listener reads every event alike.  Each argument is an
 * SQL expression of the statement that sends it.
 */


#ifndef _NGX_AUTOSCALE_SQL_NOTIFY_H_INCLUDED_
#define _NGX_AUTOSCALE_SQL_NOTIFY_H_INCLUDED_


/* the payload alone, as text: autoscale_actuate sends it as the body */
#define NGX_AUTOSCALE_SQL_NOTIFY_JSON(event, cluster_id, event_id, from, to, \
                                      status, current, target, reason,      \
                                      drain)                                \
    "json_build_object("                                                      \
        "'event', " event ", "                                                \
        "'cluster_id', " cluster_id ", "                                      \
        "'event_id', " event_id ", "                                          \
        "'from_workers', " from ", "                                          \
        "'to_workers', " to ", "                                              \
        "'status', " status ", "                                              \
        "'current_workers', " current ", "                                    \
        "'target_workers', " target ", "                                      \
        "'reason', " reason ", "                                              \
        "'drain', " drain ")::text"

#define NGX_AUTOSCALE_SQL_NOTIFY(event, cluster_id, event_id, from, to,     \
                                 status, current, target, reason, drain)    \
    "pg_notify('autoscale', "                                                 \
    NGX_AUTOSCALE_SQL_NOTIFY_JSON(event, cluster_id, event_id, from, to,      \
                                  status, current, target, reason, drain)     \
    ")"


#endif /* _NGX_AUTOSCALE_SQL_NOTIFY_H_INCLUDED_ */
