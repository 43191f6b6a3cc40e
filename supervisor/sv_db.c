/*
 * The database, never waited on: a non-blocking libpq connection whose
 * socket the main loop polls.  After each connection: LISTEN autoscale,
 * then a read of every cluster's target and of the agents draining, so
 * that a NOTIFY missed while away changes nothing; then each NOTIFY as it
 * comes.  Draining workers' rows are read every second until they stop.
 */

#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv.h"


typedef struct {
    char    *data;
    size_t   len;
    size_t   size;
    int      failed;
} sv_db_buf_t;


static void sv_db_connect(sv_t *sv, sv_msec_t now);
static void sv_db_line(char *dst, size_t size, const char *src);
static void sv_db_notice(void *arg, const char *message);
static void sv_db_lost(sv_t *sv, const char *why);
static void sv_db_up(sv_t *sv);
static void sv_db_flush(sv_t *sv);
static int sv_db_send(sv_t *sv, sv_query_e q, const char *sql,
    const char *p1, const char *p2);
static int sv_db_next(sv_t *sv, sv_msec_t now);
static int sv_db_draining(sv_t *sv);
static void sv_db_add(sv_db_buf_t *b, const char *s, int how);
static void sv_db_results(sv_t *sv);
static void sv_db_synced(sv_t *sv, PGresult *res);
static void sv_db_agents(sv_t *sv, PGresult *res);
static void sv_db_notify(sv_t *sv, const char *payload);


/*
 * Each followed cluster: its status and target, its latest event, and the
 * agents named to drain by the events after $2 (the latest one applied;
 * 0 the first time, when no worker runs yet).
 */
static const char  sv_db_sync_sql[] =
    "SELECT u.id, coalesce(c.status, ''), coalesce(c.target_workers, 0), "
    "c.id IS NOT NULL, "
    "coalesce((SELECT max(e.id) FROM scaling_events e "
    "WHERE e.cluster_id = u.id), 0), "
    "(SELECT string_agg(d.name, ',' ORDER BY e.id) FROM scaling_events e "
    "CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN "
    "jsonb_typeof(e.inputs -> 'drain') = 'array' THEN e.inputs -> 'drain' "
    "ELSE '[]'::jsonb END) AS d(name) "
    "WHERE e.cluster_id = u.id AND u.seen > 0 AND e.id > u.seen) "
    "FROM unnest($1::text[], $2::bigint[]) AS u(id, seen) "
    "LEFT JOIN clusters c ON c.id = u.id";

/* the workers' rows, with their versions: a row written again is news */
static const char  sv_db_agents_sql[] =
    "SELECT a.cluster_id, a.agent_id, a.status, a.xmin::text "
    "FROM unnest($1::text[], $2::text[]) AS u(cluster_id, agent_id) "
    "JOIN cluster_agents a ON a.cluster_id = u.cluster_id "
    "AND a.agent_id = u.agent_id";


int
sv_db_fd(sv_t *sv)
{
    return sv->conn ? PQsocket(sv->conn) : -1;
}


short
sv_db_events(sv_t *sv)
{
    if (sv->conn == NULL || PQsocket(sv->conn) < 0) {
        return 0;
    }

    if (sv->db == SV_DB_CONNECTING) {
        return sv->connect_want == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    }

    return sv->flush ? (POLLIN | POLLOUT) : POLLIN;
}


void
sv_db_close(sv_t *sv)
{
    if (sv->conn) {
        PQfinish(sv->conn);
        sv->conn = NULL;
    }

    sv->db = SV_DB_DOWN;
    sv->query = SV_Q_NONE;
    sv->flush = 0;
}


static void
sv_db_connect(sv_t *sv, sv_msec_t now)
{
    sv->conn = PQconnectStart(sv->conninfo);

    if (sv->conn == NULL) {
        sv_db_lost(sv, "out of memory");
        return;
    }

    if (PQstatus(sv->conn) == CONNECTION_BAD) {
        sv_db_lost(sv, PQerrorMessage(sv->conn));
        return;
    }

    PQsetNoticeProcessor(sv->conn, sv_db_notice, NULL);

    sv->db = SV_DB_CONNECTING;
    sv->connect_want = PGRES_POLLING_WRITING;
    sv->deadline = now + SV_DB_DEADLINE;
}


/* libpq's message on one line: one line per action in the log */
static void
sv_db_line(char *dst, size_t size, const char *src)
{
    size_t  n;

    for (n = 0; *src && n + 1 < size; src++) {
        if (*src == '\n' || *src == '\t' || *src == '\r') {
            if (n && dst[n - 1] != ' ') {
                dst[n++] = ' ';
            }

        } else {
            dst[n++] = *src;
        }
    }

    while (n && dst[n - 1] == ' ') {
        n--;
    }

    dst[n] = '\0';
}


static void
sv_db_notice(void *arg, const char *message)
{
    char  msg[512];

    (void) arg;

    sv_db_line(msg, sizeof(msg), message);
    sv_log("database: %s", msg);
}


/* the connection is gone or never came: workers run on, we try again */
static void
sv_db_lost(sv_t *sv, const char *why)
{
    char  msg[512];

    sv_db_line(msg, sizeof(msg), why);

    if (sv->synced) {
        sv_log("lost database: %s; workers keep running; reconnect in %llds",
               msg, (long long) (sv->retry / 1000));

    } else {
        sv_log("cannot reach the database: %s; retry in %llds", msg,
               (long long) (sv->retry / 1000));
    }

    sv_db_close(sv);

    sv->synced = 0;
    sv->retry_at = sv_now() + sv->retry;
    sv->retry = sv->retry * 2 > SV_DB_RETRY_MAX ? SV_DB_RETRY_MAX
                                                : sv->retry * 2;
}


static void
sv_db_up(sv_t *sv)
{
    if (PQsetnonblocking(sv->conn, 1) != 0) {
        sv_db_lost(sv, PQerrorMessage(sv->conn));
        return;
    }

    sv->db = SV_DB_UP;
    sv->need_listen = 1;
    sv->need_sync = 1;

    sv_log("connected to the database: LISTEN autoscale");
}


static void
sv_db_flush(sv_t *sv)
{
    int  rc;

    rc = PQflush(sv->conn);

    if (rc < 0) {
        sv_db_lost(sv, PQerrorMessage(sv->conn));
        return;
    }

    sv->flush = (rc == 1);
}


static int
sv_db_send(sv_t *sv, sv_query_e q, const char *sql, const char *p1,
    const char *p2)
{
    const char  *values[2];

    values[0] = p1;
    values[1] = p2;

    if (!PQsendQueryParams(sv->conn, sql, p1 ? 2 : 0, NULL, values, NULL,
                           NULL, 0))
    {
        sv_db_lost(sv, PQerrorMessage(sv->conn));
        return -1;
    }

    sv->query = q;
    sv->deadline = sv_now() + SV_DB_DEADLINE;
    sv_db_flush(sv);

    return 0;
}


/*
 * Builds a text[] or bigint[] literal: how is 0 for a brace, 1 for a
 * number, 2 for a quoted text.
 */
static void
sv_db_add(sv_db_buf_t *b, const char *s, int how)
{
    char    *p;
    size_t   need;

    need = b->len + strlen(s) + 4;

    if (need > b->size) {
        p = realloc(b->data, need * 2);
        if (p == NULL) {
            b->failed = 1;
            return;
        }

        b->data = p;
        b->size = need * 2;
    }

    /* ids hold no quote nor backslash: they need no escaping */
    b->len += (size_t) sprintf(b->data + b->len, "%s%s%s%s",
                               how && b->len > 1 ? "," : "",
                               how == 2 ? "\"" : "", s,
                               how == 2 ? "\"" : "");
}


static int
sv_db_draining(sv_t *sv)
{
    int  i;

    for (i = 0; i < sv->nworkers; i++) {
        if (sv->workers[i].state == SV_DRAINING) {
            return 1;
        }
    }

    return 0;
}


/* the next query, if one is due; 1 if one was sent */
static int
sv_db_next(sv_t *sv, sv_msec_t now)
{
    int           i, rc;
    char          num[24];
    sv_db_buf_t   a, b;

    if (sv->need_listen) {
        sv->need_listen = 0;
        return sv_db_send(sv, SV_Q_LISTEN, "LISTEN autoscale", NULL, NULL)
               == 0;
    }

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    sv_db_add(&a, "{", 0);
    sv_db_add(&b, "{", 0);

    if (sv->need_sync || now >= sv->next_sync) {
        for (i = 0; i < sv->nclusters; i++) {
            snprintf(num, sizeof(num), "%lld",
                     (long long) sv->clusters[i].event_id);
            sv_db_add(&a, sv->clusters[i].id, 2);
            sv_db_add(&b, num, 1);
        }

        sv_db_add(&a, "}", 0);
        sv_db_add(&b, "}", 0);

        rc = a.failed || b.failed ? -1
             : sv_db_send(sv, SV_Q_SYNC, sv_db_sync_sql, a.data, b.data);

        sv->need_sync = 0;
        sv->next_sync = now + SV_DB_SYNC_EVERY;
        free(a.data);
        free(b.data);

        return rc == 0;
    }

    rc = 1;

    if (sv->need_agents || (sv_db_draining(sv) && now >= sv->next_agents)) {
        sv->need_agents = 0;
        sv->next_agents = now + SV_DB_AGENTS_EVERY;

        for (i = 0; i < sv->nworkers; i++) {
            if (sv->workers[i].state == SV_RUNNING
                || sv->workers[i].state == SV_DRAINING)
            {
                sv_db_add(&a, sv->clusters[sv->workers[i].cluster].id, 2);
                sv_db_add(&b, sv->workers[i].agent_id, 2);
            }
        }

        sv_db_add(&a, "}", 0);
        sv_db_add(&b, "}", 0);

        rc = a.failed || b.failed ? -1
             : (a.len > 2 ? sv_db_send(sv, SV_Q_AGENTS, sv_db_agents_sql,
                                       a.data, b.data)
                          : 1);
    }

    free(a.data);
    free(b.data);

    return rc == 0;
}


/* what is due now; returns when something will be */
sv_msec_t
sv_db_tick(sv_t *sv, sv_msec_t now)
{
    sv_msec_t  next;

    if (sv->retry == 0) {
        sv->retry = SV_DB_RETRY_MIN;
    }

    if (sv->db == SV_DB_DOWN) {
        if (now < sv->retry_at) {
            return sv->retry_at;
        }

        sv_db_connect(sv, now);

        return sv->db == SV_DB_DOWN ? sv->retry_at : sv->deadline;
    }

    if (sv->db == SV_DB_CONNECTING || sv->query != SV_Q_NONE) {
        if (now >= sv->deadline) {
            sv_db_lost(sv, sv->db == SV_DB_CONNECTING
                           ? "no connection within 10s"
                           : "no answer within 10s");
            return sv->retry_at;
        }

        return sv->deadline;
    }

    if (sv_db_next(sv, now)) {
        return sv->deadline;
    }

    if (sv->db == SV_DB_DOWN) {
        return sv->retry_at;
    }

    next = sv->next_sync;

    if (sv_db_draining(sv) && sv->next_agents < next) {
        next = sv->next_agents;
    }

    return next;
}


void
sv_db_io(sv_t *sv, short revents)
{
    PGnotify  *nt;

    if (sv->db == SV_DB_CONNECTING) {
        sv->connect_want = PQconnectPoll(sv->conn);

        if (sv->connect_want == PGRES_POLLING_OK) {
            sv_db_up(sv);

        } else if (sv->connect_want == PGRES_POLLING_FAILED) {
            sv_db_lost(sv, PQerrorMessage(sv->conn));
        }

        return;
    }

    if (sv->db != SV_DB_UP) {
        return;
    }

    if (revents & POLLOUT) {
        sv_db_flush(sv);
    }

    if (sv->db != SV_DB_UP || !(revents & (POLLIN | POLLERR | POLLHUP))) {
        return;
    }

    if (!PQconsumeInput(sv->conn)) {
        sv_db_lost(sv, PQerrorMessage(sv->conn));
        return;
    }

    sv_db_results(sv);

    while (sv->db == SV_DB_UP && (nt = PQnotifies(sv->conn)) != NULL) {
        if (strcmp(nt->relname, "autoscale") == 0) {
            sv_db_notify(sv, nt->extra);
        }

        PQfreemem(nt);
    }
}


static void
sv_db_results(sv_t *sv)
{
    PGresult        *res;
    ExecStatusType   st;

    while (sv->db == SV_DB_UP && sv->query != SV_Q_NONE
           && !PQisBusy(sv->conn))
    {
        res = PQgetResult(sv->conn);

        if (res == NULL) {
            sv->query = SV_Q_NONE;
            break;
        }

        st = PQresultStatus(res);

        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            sv_db_lost(sv, PQresultErrorMessage(res));
            PQclear(res);
            return;
        }

        if (sv->query == SV_Q_SYNC) {
            sv_db_synced(sv, res);

        } else if (sv->query == SV_Q_AGENTS) {
            sv_db_agents(sv, res);
        }

        PQclear(res);
    }
}


static void
sv_db_synced(sv_t *sv, PGresult *res)
{
    int            i, ci, first;
    size_t         len;
    int64_t        latest;
    const char    *id, *p, *end, *name;
    sv_cluster_t  *c;

    first = !sv->synced;

    for (i = 0; i < PQntuples(res); i++) {
        id = PQgetvalue(res, i, 0);
        ci = sv_cluster_find(sv, id, strlen(id));
        latest = strtoll(PQgetvalue(res, i, 4), NULL, 10);

        /* a NOTIFY newer than this read was applied already */
        if (ci < 0 || latest < sv->clusters[ci].event_id) {
            continue;
        }

        c = &sv->clusters[ci];

        /* agents named while we were away */
        p = PQgetvalue(res, i, 5);
        end = p + strlen(p);
        while (*p) {
            name = p;
            p = strchr(p, ',');
            p = p ? p : end;
            len = (size_t) (p - name);
            if (sv_notify_id_valid(name, len)) {
                sv_worker_drain(sv, ci, name, len);
            }
            p += (*p == ',');
        }

        c->exists = PQgetvalue(res, i, 3)[0] == 't';
        snprintf(c->status, sizeof(c->status), "%s", PQgetvalue(res, i, 1));
        c->target = atoi(PQgetvalue(res, i, 2));
        c->event_id = latest;

        if (first) {
            if (!c->exists) {
                sv_log("%s: no such cluster: no worker", c->id);
            }

            sv_log("%s: caught up (target %d, status %s, running %d, "
                   "draining %d)", c->id, c->target,
                   c->exists ? c->status : "none",
                   sv_worker_count(sv, ci, SV_RUNNING),
                   sv_worker_count(sv, ci, SV_DRAINING));
        }

        c->known = 1;
        sv_worker_reconcile(sv, ci);
    }

    sv->synced = 1;
    sv->retry = SV_DB_RETRY_MIN;

    if (first) {
        sv->need_agents = 1;
        sv->agents_after_sync = 1;
    }
}


static void
sv_db_agents(sv_t *sv, PGresult *res)
{
    int          i, ci;
    const char  *id;

    for (i = 0; i < PQntuples(res); i++) {
        id = PQgetvalue(res, i, 0);
        ci = sv_cluster_find(sv, id, strlen(id));

        if (ci >= 0) {
            sv_worker_row(sv, ci, PQgetvalue(res, i, 1),
                          PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                          sv->agents_after_sync);
        }
    }

    sv->agents_after_sync = 0;
}


static void
sv_db_notify(sv_t *sv, const char *payload)
{
    int            ci;
    size_t         len;
    const char    *p, *end, *name;
    sv_notify_t    n;
    sv_cluster_t  *c;

    if (sv_notify_parse(payload, &n) != 0) {
        sv_log("a NOTIFY autoscale that is no event: %.200s", payload);
        return;
    }

    ci = sv_cluster_find(sv, n.cluster, n.cluster_len);

    /* an update changes no target; an older event was read already */
    if (ci < 0 || n.event_id < 0 || n.event_id <= sv->clusters[ci].event_id
        || n.target < 0 || n.status == NULL)
    {
        return;
    }

    c = &sv->clusters[ci];

    sv_log("%s: event %lld %.*s: target %d, status %.*s", c->id,
           (long long) n.event_id, (int) n.event_len,
           n.event ? n.event : "", n.target,
           (int) n.status_len, n.status);

    if (n.drain) {
        p = n.drain;
        end = n.drain + n.drain_len;

        while (sv_notify_drain_next(&p, end, &name, &len)) {
            sv_worker_drain(sv, ci, name, len);
        }
    }

    c->event_id = n.event_id;
    c->exists = 1;
    c->known = 1;
    c->target = n.target;
    len = n.status_len < SV_STATUS_MAX ? n.status_len : SV_STATUS_MAX;
    memcpy(c->status, n.status, len);
    c->status[len] = '\0';

    sv_worker_reconcile(sv, ci);
}
