
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <math.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_leader.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_policy.h"
#include "ngx_autoscale_scaler.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_shm_decided.h"
#include "ngx_autoscale_sql_jobs.h"


/* rows decided per turn of the event loop, so a big fleet never holds it */
#define NGX_AUTOSCALE_SCALER_SLICE          128

/*
 * A check's statements in flight at once: the rest wait in the check, not
 * in the pool, so that none of them waits out its timeout behind the
 * others, and the lease and the collection are not queued behind a
 * fleet's changes.
 */
#define NGX_AUTOSCALE_SCALER_INFLIGHT       16

/* decisions written by one statement: held ones, and changes */
#define NGX_AUTOSCALE_SCALER_HOLDS_CHUNK    1000
#define NGX_AUTOSCALE_SCALER_CHANGES_CHUNK  64


/* decisions as one JSON parameter: [{"id": ..., "d": ..., "k": ...}, ...] */
typedef struct {
    u_char                          *data;
    size_t                           len;
    size_t                           size;
    ngx_uint_t                       n;
} ngx_autoscale_scaler_decisions_t;


typedef struct {
    ngx_autoscale_leader_t          *leader;
    ngx_http_autoscale_main_conf_t  *amcf;
    ngx_log_t                       *log;
    const char                      *change_sql;  /* or the dry run's */

    ngx_event_t                      check_ev;
    ngx_event_t                      slice_ev;

    /* the check in progress */
    PGresult                        *rows;
    int                              row;
    ngx_uint_t                       pending;    /* writes in flight */
    ngx_autoscale_scaler_decisions_t holds;      /* built a slice at a */
    ngx_autoscale_scaler_decisions_t changes;    /* time, sent by chunks */
    ngx_msec_t                       started;
    ngx_msec_t                       read_time;
    ngx_uint_t                       round_trips;
    ngx_uint_t                       decided;    /* changes sent */
    ngx_uint_t                       changed;    /* and made */
    ngx_uint_t                       held;
    ngx_uint_t                       rewritten;  /* held, and said anew */
    ngx_uint_t                       failed;

    unsigned                         checking:1;
} ngx_autoscale_scaler_t;


/* one statement of a check in flight, with what it carries */
typedef struct {
    ngx_autoscale_scaler_t          *sc;
    const char                      *sql;
    ngx_uint_t                       n;          /* decisions */
    size_t                           len;
    u_char                           json[1];
} ngx_autoscale_scaler_stmt_t;


static void ngx_autoscale_scaler_handler(ngx_event_t *ev);
static ngx_int_t ngx_autoscale_scaler_read(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_scaler_slice(ngx_event_t *ev);
static void ngx_autoscale_scaler_one(ngx_autoscale_scaler_t *sc, int row);
static void ngx_autoscale_scaler_input(ngx_autoscale_scaler_t *sc,
    PGresult *res, int row, ngx_autoscale_policy_input_t *in);
static ngx_int_t ngx_autoscale_scaler_windows(ngx_autoscale_scaler_t *sc,
    PGresult *res, int row, ngx_autoscale_policy_input_t *in);
static void ngx_autoscale_scaler_windows_free(
    ngx_autoscale_policy_input_t *in);
static char *ngx_autoscale_scaler_explain(ngx_autoscale_scaler_t *sc,
    const char *id, ngx_autoscale_policy_input_t *in,
    ngx_autoscale_decision_t *d);
static void ngx_autoscale_scaler_drain(ngx_autoscale_scaler_t *sc,
    PGresult *res);
static ngx_int_t ngx_autoscale_scaler_written(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_scaler_one_by_one(ngx_autoscale_scaler_stmt_t *st);
static void ngx_autoscale_scaler_end(ngx_autoscale_scaler_t *sc);
static ngx_int_t ngx_autoscale_scaler_decisions_add(ngx_autoscale_scaler_t *sc,
    ngx_autoscale_scaler_decisions_t *list, const char *id,
    const char *decision, uint64_t key);
static void ngx_autoscale_scaler_decisions_flush(ngx_autoscale_scaler_t *sc,
    ngx_autoscale_scaler_decisions_t *list, const char *sql);
static void ngx_autoscale_scaler_send(ngx_autoscale_scaler_t *sc,
    const char *sql, u_char *json, size_t len, ngx_uint_t n);
static void ngx_autoscale_scaler_decisions_free(ngx_autoscale_scaler_t *sc);
static double ngx_autoscale_scaler_number(PGresult *res, int row, int col);
static ngx_int_t ngx_autoscale_scaler_history(const char *text,
    ngx_autoscale_policy_sample_t **samples, size_t *n, ngx_log_t *log);


static const char  ngx_autoscale_scaler_sql_check[] = NGX_AUTOSCALE_SQL_CHECK;
static const char  ngx_autoscale_scaler_sql_change[] =
    NGX_AUTOSCALE_SQL_CHANGE;
static const char  ngx_autoscale_scaler_sql_dry_run[] =
    NGX_AUTOSCALE_SQL_DRY_RUN;
static const char  ngx_autoscale_scaler_sql_holds[] = NGX_AUTOSCALE_SQL_HOLDS;

static ngx_autoscale_scaler_t  *ngx_autoscale_scaler;


ngx_int_t
ngx_autoscale_scaler_init(ngx_cycle_t *cycle, ngx_autoscale_leader_t *ld)
{
    ngx_autoscale_scaler_t  *sc;

    sc = ngx_pcalloc(cycle->pool, sizeof(ngx_autoscale_scaler_t));
    if (sc == NULL) {
        return NGX_ERROR;
    }

    sc->leader = ld;
    sc->amcf = ld->amcf;
    sc->log = ld->log;
    sc->change_sql = sc->amcf->dry_run ? ngx_autoscale_scaler_sql_dry_run
                                       : ngx_autoscale_scaler_sql_change;

    ngx_autoscale_leader_event(ld, &sc->check_ev,
                               ngx_autoscale_scaler_handler, sc,
                               sc->amcf->check_interval);
    ngx_autoscale_leader_event(ld, &sc->slice_ev,
                               ngx_autoscale_scaler_slice, sc, 0);

    ngx_autoscale_scaler = sc;

    return NGX_OK;
}


void
ngx_autoscale_scaler_exit(void)
{
    ngx_autoscale_scaler_t  *sc = ngx_autoscale_scaler;

    if (sc == NULL) {
        return;
    }

    if (sc->rows) {
        PQclear(sc->rows);
        sc->rows = NULL;
    }

    ngx_autoscale_scaler_decisions_free(sc);

    if (sc->slice_ev.posted) {
        ngx_delete_posted_event(&sc->slice_ev);
    }

    ngx_autoscale_scaler = NULL;
}


static void
ngx_autoscale_scaler_handler(ngx_event_t *ev)
{
    ngx_autoscale_scaler_t  *sc = ev->data;

    if (ngx_exiting) {
        return;
    }

    ngx_add_timer(ev, sc->amcf->check_interval);

    if (!ngx_autoscale_leader_ready(sc->leader) || sc->checking) {
        return;
    }

    if (ngx_autoscale_pg_query(sc->leader->pool, ngx_autoscale_scaler_sql_check,
                               0, NULL, ngx_autoscale_scaler_read, sc)
        == NULL)
    {
        return;
    }

    sc->checking = 1;
    sc->started = ngx_current_msec;
    sc->round_trips = 1;
    sc->decided = 0;
    sc->changed = 0;
    sc->held = 0;
    sc->rewritten = 0;
    sc->failed = 0;
    sc->pending = 0;
}


static ngx_int_t
ngx_autoscale_scaler_read(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_scaler_t  *sc = data;

    sc->read_time = ngx_current_msec - sc->started;

    if (status != NGX_AUTOSCALE_PG_OK) {
        ngx_autoscale_leader_job_failed(sc->leader, "check", status, res);
        sc->checking = 0;
        return NGX_OK;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, sc->log, 0,
                   "autoscale scaler: check read: %d clusters, %M ms",
                   PQntuples(res), sc->read_time);

    /* kept, and decided a slice at a time */
    sc->rows = res;
    sc->row = 0;

    ngx_autoscale_scaler_slice(&sc->slice_ev);

    return NGX_DONE;
}


static void
ngx_autoscale_scaler_slice(ngx_event_t *ev)
{
    ngx_autoscale_scaler_t  *sc = ev->data;

    int  end;

    if (!ngx_autoscale_leader_ready(sc->leader)) {
        /* no longer the leader: the next one decides afresh */
        PQclear(sc->rows);
        sc->rows = NULL;
        ngx_autoscale_scaler_decisions_free(sc);

        if (sc->pending == 0) {
            sc->checking = 0;
        }

        return;
    }

    end = ngx_min(sc->row + NGX_AUTOSCALE_SCALER_SLICE,
                  PQntuples(sc->rows));

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, sc->log, 0,
                   "autoscale scaler: slice of rows %d up to %d, %ui in flight",
                   sc->row, end, sc->pending);

    for ( /* void */ ;
         sc->row < end && sc->pending < NGX_AUTOSCALE_SCALER_INFLIGHT;
         sc->row++)
    {
        ngx_autoscale_scaler_one(sc, sc->row);
    }

    if (sc->row < PQntuples(sc->rows)) {
        if (sc->pending < NGX_AUTOSCALE_SCALER_INFLIGHT) {
            /* the rest on the next turn of the loop, after other events */
            ngx_post_event(ev, &ngx_posted_next_events);
        }

        /* else an answer brings the check back */
        return;
    }

    PQclear(sc->rows);
    sc->rows = NULL;

    ngx_autoscale_scaler_decisions_flush(sc, &sc->holds,
                                         ngx_autoscale_scaler_sql_holds);
    ngx_autoscale_scaler_decisions_flush(sc, &sc->changes, sc->change_sql);
    ngx_autoscale_scaler_decisions_free(sc);

    if (sc->pending == 0) {
        ngx_autoscale_scaler_end(sc);
    }
}


static void
ngx_autoscale_scaler_one(ngx_autoscale_scaler_t *sc, int row)
{
    PGresult  *res = sc->rows;

    char                              *text;
    uint64_t                           key;
    ngx_uint_t                         hold;
    ngx_autoscale_decision_t           d;
    ngx_autoscale_policy_input_t       in;
    ngx_autoscale_scaler_decisions_t  *list;

    ngx_autoscale_scaler_input(sc, res, row, &in);

    if (ngx_autoscale_scaler_windows(sc, res, row, &in) != NGX_OK) {
        sc->failed++;
        return;
    }

    ngx_autoscale_policy_decide(&in, &d);

    if ((ngx_uint_t) d.action < NGX_AUTOSCALE_NACTIONS) {
        ngx_autoscale_shm_count(sc->amcf->shm_zone, decisions[d.action]);
    }

    ngx_autoscale_shm_decided(sc->amcf->shm_zone,
                              PQgetvalue(res, row, NGX_AUTOSCALE_CHECK_ID),
                              &in, &d);

    key = ngx_autoscale_policy_key(&in, &d, sc->amcf->dry_run);

    if (d.action == NGX_AUTOSCALE_HOLD
        && !PQgetisnull(res, row, NGX_AUTOSCALE_CHECK_DECISION_KEY)
        && (uint64_t) strtoll(PQgetvalue(res, row,
                                         NGX_AUTOSCALE_CHECK_DECISION_KEY),
                              NULL, 10)
           == key)
    {
        /* the stored explanation still tells the truth */
        sc->held++;
        text = NULL;

    } else {
        text = ngx_autoscale_scaler_explain(sc,
                                            PQgetvalue(res, row,
                                                       NGX_AUTOSCALE_CHECK_ID),
                                            &in, &d);
        if (text == NULL) {
            sc->failed++;
        }
    }

    ngx_autoscale_scaler_windows_free(&in);

    if (text == NULL) {
        return;
    }

    hold = (d.action == NGX_AUTOSCALE_HOLD);
    list = hold ? &sc->holds : &sc->changes;

    if (ngx_autoscale_scaler_decisions_add(sc, list,
                                           PQgetvalue(res, row,
                                                      NGX_AUTOSCALE_CHECK_ID),
                                           text, key)
        != NGX_OK)
    {
        sc->failed++;
        cJSON_free(text);
        return;
    }

    cJSON_free(text);

    if (hold) {
        sc->held++;
        sc->rewritten++;

        if (list->n == NGX_AUTOSCALE_SCALER_HOLDS_CHUNK) {
            ngx_autoscale_scaler_decisions_flush(sc, list,
                                                ngx_autoscale_scaler_sql_holds);
        }

        return;
    }

    /* the pool pipelines the chunks: a change costs no round trip */
    if (list->n == NGX_AUTOSCALE_SCALER_CHANGES_CHUNK) {
        ngx_autoscale_scaler_decisions_flush(sc, list, sc->change_sql);
    }
}


/* a row of the check's statement as the policy's input */
static void
ngx_autoscale_scaler_input(ngx_autoscale_scaler_t *sc, PGresult *res, int row,
    ngx_autoscale_policy_input_t *in)
{
    int     col;
    double  v[NGX_AUTOSCALE_CHECK_NCOLUMNS];

    /* every column as a number, NaN where NULL; the text ones unused */
    for (col = 0; col < NGX_AUTOSCALE_CHECK_NCOLUMNS; col++) {
        v[col] = ngx_autoscale_scaler_number(res, row, col);
    }

    ngx_memzero(in, sizeof(ngx_autoscale_policy_input_t));

    in->status = PQgetvalue(res, row, NGX_AUTOSCALE_CHECK_STATUS);
    in->paused = PQgetvalue(res, row, NGX_AUTOSCALE_CHECK_PAUSED)[0] == 't';
    in->min_workers = (int) v[NGX_AUTOSCALE_CHECK_MIN_WORKERS];
    in->max_workers = (int) v[NGX_AUTOSCALE_CHECK_MAX_WORKERS];
    in->current_workers = (int) v[NGX_AUTOSCALE_CHECK_CURRENT_WORKERS];
    in->target_workers = (int) v[NGX_AUTOSCALE_CHECK_TARGET_WORKERS];
    in->policy = PQgetvalue(res, row, NGX_AUTOSCALE_CHECK_POLICY);
    in->scale_up_queue = v[NGX_AUTOSCALE_CHECK_SCALE_UP_QUEUE];
    in->scale_up_cpu = v[NGX_AUTOSCALE_CHECK_SCALE_UP_CPU];
    in->scale_down_queue = v[NGX_AUTOSCALE_CHECK_SCALE_DOWN_QUEUE];
    in->scale_down_cpu = v[NGX_AUTOSCALE_CHECK_SCALE_DOWN_CPU];
    in->scale_up_factor = v[NGX_AUTOSCALE_CHECK_SCALE_UP_FACTOR];
    in->scale_down_factor = v[NGX_AUTOSCALE_CHECK_SCALE_DOWN_FACTOR];
    in->scale_up_cooldown = v[NGX_AUTOSCALE_CHECK_SCALE_UP_COOLDOWN];
    in->scale_down_cooldown = v[NGX_AUTOSCALE_CHECK_SCALE_DOWN_COOLDOWN];
    in->target_metric = PQgetvalue(res, row, NGX_AUTOSCALE_CHECK_TARGET_METRIC);
    in->target_value = v[NGX_AUTOSCALE_CHECK_TARGET_VALUE];
    in->tolerance = v[NGX_AUTOSCALE_CHECK_TOLERANCE];
    in->stabilization_window = v[NGX_AUTOSCALE_CHECK_STABILIZATION_WINDOW];
    in->since_scaled = PQgetisnull(res, row, NGX_AUTOSCALE_CHECK_SINCE_SCALED)
                       ? -1 : v[NGX_AUTOSCALE_CHECK_SINCE_SCALED];
    in->has_metrics =
        PQgetvalue(res, row, NGX_AUTOSCALE_CHECK_HAS_METRICS)[0] == 't';
    in->metrics_age = v[NGX_AUTOSCALE_CHECK_METRICS_AGE];
    in->max_age = 2.0 * sc->amcf->collect_interval / 1000.0;
    in->queue_length = v[NGX_AUTOSCALE_CHECK_QUEUE_LENGTH];
    in->cpu_usage = v[NGX_AUTOSCALE_CHECK_CPU_USAGE];
    in->load_percentage = v[NGX_AUTOSCALE_CHECK_LOAD_PERCENTAGE];
    in->worker_capacity = v[NGX_AUTOSCALE_CHECK_WORKER_CAPACITY];
    in->drain_time = sc->amcf->check_interval / 1000.0;
}


/*
 * The rows of the window a policy needs: target tracking's samples, the
 * demand policy's rows; freed by ngx_autoscale_scaler_windows_free()
 */
static ngx_int_t
ngx_autoscale_scaler_windows(ngx_autoscale_scaler_t *sc, PGresult *res,
    int row, ngx_autoscale_policy_input_t *in)
{
    size_t                          n;
    ngx_autoscale_policy_row_t     *rows;
    ngx_autoscale_policy_sample_t  *samples;

    if (!PQgetisnull(res, row, NGX_AUTOSCALE_CHECK_SAMPLES)) {
        if (ngx_autoscale_scaler_history(PQgetvalue(res, row,
                                                  NGX_AUTOSCALE_CHECK_SAMPLES),
                                         &samples, &n, sc->log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        in->history = samples;
        in->nhistory = n;
    }

    if (!PQgetisnull(res, row, NGX_AUTOSCALE_CHECK_DEMAND_ROWS)) {
        if (ngx_autoscale_policy_demand_rows(PQgetvalue(res, row,
                                              NGX_AUTOSCALE_CHECK_DEMAND_ROWS),
                                             &rows, &n)
            != 0)
        {
            ngx_autoscale_scaler_windows_free(in);
            return NGX_ERROR;
        }

        in->rows = rows;
        in->nrows = n;
    }

    return NGX_OK;
}


static void
ngx_autoscale_scaler_windows_free(ngx_autoscale_policy_input_t *in)
{
    if (in->history) {
        ngx_free((void *) in->history);
        in->history = NULL;
    }

    /* the policy allocates the rows as plain C: free() */
    free((void *) in->rows);
    in->rows = NULL;
}


/* the decision as stored, with when, where and how it was made */
static char *
ngx_autoscale_scaler_explain(ngx_autoscale_scaler_t *sc, const char *id,
    ngx_autoscale_policy_input_t *in, ngx_autoscale_decision_t *d)
{
    char       *text;
    u_char      decided[sizeof("1970-01-01T00:00:00Z")];
    cJSON      *doc;
    ngx_tm_t    tm;
    ngx_int_t   rc;
    ngx_str_t   drain;

    doc = ngx_autoscale_policy_json(in, d);
    if (doc == NULL) {
        return NULL;
    }

    /*
     * A scale-down names the agents it drains in its event; they are
     * marked once the change is made (see ngx_autoscale_scaler_drain)
     */
    if (d->action != NGX_AUTOSCALE_HOLD && d->to < d->from
        && !sc->amcf->dry_run)
    {
        rc = ngx_autoscale_shm_drain_choose(sc->amcf->shm_zone,
                                            (u_char *) id, ngx_strlen(id),
                                            d->to, &drain, sc->log);
        if (rc == NGX_OK) {
            if (cJSON_AddRawToObject(doc, "drain", (char *) drain.data)
                == NULL)
            {
                rc = NGX_ERROR;
            }

            ngx_free(drain.data);
        }

        if (rc == NGX_ERROR) {
            cJSON_Delete(doc);
            return NULL;
        }
    }

    ngx_gmtime(ngx_time(), &tm);
    ngx_sprintf(decided, "%4d-%02d-%02dT%02d:%02d:%02dZ%Z",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

    if (cJSON_AddStringToObject(doc, "decided_at", (char *) decided) == NULL
        || cJSON_AddStringToObject(doc, "node", (char *) sc->leader->node.data)
           == NULL
        || cJSON_AddBoolToObject(doc, "dry_run", sc->amcf->dry_run) == NULL)
    {
        cJSON_Delete(doc);
        return NULL;
    }

    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);

    return text;
}


static ngx_int_t
ngx_autoscale_scaler_written(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_scaler_stmt_t  *st = data;

    char                    *changed;
    ngx_autoscale_scaler_t  *sc = st->sc;

    sc->pending--;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, sc->log, 0,
                   "autoscale scaler: chunk answered: %i, %ui decisions, "
                   "%ui in flight", status, st->n, sc->pending);

    if (status == NGX_AUTOSCALE_PG_SQL_ERROR && st->n > 1
        && st->sql != ngx_autoscale_scaler_sql_holds && sc->leader->leading
        && ngx_autoscale_leader_data_error(res))
    {
        /* one refused change must not take its chunk with it */
        ngx_autoscale_scaler_one_by_one(st);

    } else if (status != NGX_AUTOSCALE_PG_OK) {
        sc->failed += st->n;
        ngx_autoscale_leader_job_failed(sc->leader, "scaling", status, res);

    } else if (st->sql == ngx_autoscale_scaler_sql_change) {
        changed = PQgetvalue(res, 0, NGX_AUTOSCALE_CHANGE_CHANGED);
        sc->changed += ngx_atoi((u_char *) changed, ngx_strlen(changed));
        ngx_autoscale_shm_count(sc->amcf->shm_zone, actuate_kicks);
        ngx_autoscale_scaler_drain(sc, res);
    }

    ngx_free(st);

    if (sc->rows) {
        /* rows wait: a place is free for the next statement */
        if (!sc->slice_ev.posted) {
            ngx_post_event(&sc->slice_ev, &ngx_posted_events);
        }

        return NGX_OK;
    }

    if (sc->pending == 0 && sc->holds.data == NULL) {
        ngx_autoscale_scaler_end(sc);
    }

    return NGX_OK;
}


/* the changes made: the zone drains their agents, or takes some back */
static void
ngx_autoscale_scaler_drain(ngx_autoscale_scaler_t *sc, PGresult *res)
{
    cJSON       *doc, *item, *id, *t, *drain;
    ngx_str_t    names;
    ngx_uint_t   n;

    if (PQgetisnull(res, 0, NGX_AUTOSCALE_CHANGE_TARGETS)) {
        return;
    }

    doc = cJSON_Parse(PQgetvalue(res, 0, NGX_AUTOSCALE_CHANGE_TARGETS));

    n = 0;

    cJSON_ArrayForEach(item, doc) {
        id = cJSON_GetObjectItemCaseSensitive(item, "id");
        t = cJSON_GetObjectItemCaseSensitive(item, "t");
        drain = cJSON_GetObjectItemCaseSensitive(item, "drain");

        if (!cJSON_IsString(id) || !cJSON_IsNumber(t)) {
            continue;
        }

        if (cJSON_IsString(drain)) {
            names.data = (u_char *) drain->valuestring;
            names.len = ngx_strlen(drain->valuestring);
        }

        n += ngx_autoscale_shm_drain(sc->amcf->shm_zone,
                                     (u_char *) id->valuestring,
                                     ngx_strlen(id->valuestring),
                                     (ngx_int_t) t->valuedouble,
                                     cJSON_IsString(drain) ? &names : NULL);
    }

    cJSON_Delete(doc);

    if (n) {
        ngx_log_error(NGX_LOG_INFO, sc->log, 0,
                      "autoscale: check: %ui agents drained or taken back",
                      n);
    }
}


/* each change of a refused chunk on its own */
static void
ngx_autoscale_scaler_one_by_one(ngx_autoscale_scaler_stmt_t *st)
{
    char                    *one;
    cJSON                   *doc, *item;
    ngx_uint_t               sent;
    ngx_autoscale_scaler_t  *sc = st->sc;

    doc = cJSON_ParseWithLength((char *) st->json, st->len);
    sent = 0;

    cJSON_ArrayForEach(item, doc) {
        one = cJSON_PrintUnformatted(item);
        if (one == NULL) {
            break;
        }

        ngx_autoscale_scaler_send(sc, st->sql, (u_char *) one,
                                  ngx_strlen(one), 1);
        cJSON_free(one);
        sent++;
    }

    cJSON_Delete(doc);

    sc->failed += st->n - sent;
}


static void
ngx_autoscale_scaler_end(ngx_autoscale_scaler_t *sc)
{
    sc->checking = 0;

    ngx_log_error(NGX_LOG_INFO, sc->log, 0,
                  "autoscale: check: %ui decided to change, %ui changed%s, "
                  "%ui held (%ui said anew), %ui failed, %ui round trips "
                  "besides changes, read %M ms, all %M ms",
                  sc->decided, sc->changed,
                  sc->amcf->dry_run ? " (dry run)" : "",
                  sc->held, sc->rewritten, sc->failed,
                  sc->round_trips,
                  sc->read_time, ngx_current_msec - sc->started);
}


/*
 * Appends {"id":..., "d":..., "k":...} to a chunk of decisions.  Ids are
 * lowercase letters, digits and '-' (a CHECK of the schema), so they need
 * no escaping.
 */
static ngx_int_t
ngx_autoscale_scaler_decisions_add(ngx_autoscale_scaler_t *sc,
    ngx_autoscale_scaler_decisions_t *list, const char *id,
    const char *decision, uint64_t key)
{
    u_char  *p;
    size_t   need, size;

    need = ngx_strlen(id) + ngx_strlen(decision) + NGX_INT64_LEN
           + sizeof("[,{\"id\":\"\",\"d\":,\"k\":}]");

    if (list->len + need > list->size) {
        size = ngx_max(2 * list->size, list->len + need + 4096);

        p = ngx_alloc(size, sc->log);
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
ngx_autoscale_scaler_decisions_flush(ngx_autoscale_scaler_t *sc,
    ngx_autoscale_scaler_decisions_t *list, const char *sql)
{
    if (list->n == 0) {
        return;
    }

    list->data[list->len++] = ']';

    ngx_autoscale_scaler_send(sc, sql, list->data, list->len, list->n);

    if (sql == ngx_autoscale_scaler_sql_holds) {
        sc->round_trips++;

    } else {
        sc->decided += list->n;
    }

    list->len = 0;
    list->n = 0;
}


static void
ngx_autoscale_scaler_send(ngx_autoscale_scaler_t *sc, const char *sql,
    u_char *json, size_t len, ngx_uint_t n)
{
    ngx_str_t                     params[2];
    ngx_autoscale_scaler_stmt_t  *st;

    /* a lone change from a refused chunk comes without its brackets */
    st = ngx_alloc(sizeof(ngx_autoscale_scaler_stmt_t) + len + 2, sc->log);
    if (st == NULL) {
        sc->failed += n;
        return;
    }

    st->sc = sc;
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
    params[1] = sc->leader->node;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, sc->log, 0,
                   "autoscale scaler: chunk sent: %ui %s, %ui in flight",
                   n, sql == ngx_autoscale_scaler_sql_holds
                      ? "held" : "changes", sc->pending);

    if (ngx_autoscale_pg_query(sc->leader->pool, sql,
                               sql == ngx_autoscale_scaler_sql_holds ? 1 : 2,
                               params, ngx_autoscale_scaler_written, st)
        == NULL)
    {
        sc->failed += n;
        ngx_free(st);
        return;
    }

    sc->pending++;
}


static void
ngx_autoscale_scaler_decisions_free(ngx_autoscale_scaler_t *sc)
{
    if (sc->holds.data) {
        ngx_free(sc->holds.data);
    }

    if (sc->changes.data) {
        ngx_free(sc->changes.data);
    }

    ngx_memzero(&sc->holds, sizeof(ngx_autoscale_scaler_decisions_t));
    ngx_memzero(&sc->changes, sizeof(ngx_autoscale_scaler_decisions_t));
}


static double
ngx_autoscale_scaler_number(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return NAN;
    }

    return strtod(PQgetvalue(res, row, col), NULL);
}


/* "value age workers,value age workers,..." as samples */
static ngx_int_t
ngx_autoscale_scaler_history(const char *text,
    ngx_autoscale_policy_sample_t **out, size_t *n, ngx_log_t *log)
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
