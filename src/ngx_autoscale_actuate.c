
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader's actuator: it claims due events from scaling_events, sends
 * each through its own request, and writes back what became of it.  It
 * claims when its scaler changed something or any worker's API write did
 * (a counter in the zone), and otherwise every second.  At most one
 * request per cluster and conf->concurrency in all are in flight; a slow
 * orchestrator holds only its own requests' places.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_actuate.h"
#include "ngx_autoscale_actuate_sql.h"
#include "ngx_autoscale_leader.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_shm.h"


/* ms between two looks at the zone's counter, and between two polls */
#define NGX_AUTOSCALE_ACTUATE_TICK   50
#define NGX_AUTOSCALE_ACTUATE_POLL   1000

/* s a lease outlasts the request's timeout, so that its outcome is ours */
#define NGX_AUTOSCALE_ACTUATE_LEASE_MARGIN  5


static void ngx_autoscale_actuate_tick(ngx_event_t *ev);
static void ngx_autoscale_actuate_claim(ngx_autoscale_actuator_t *ac,
    ngx_uint_t n);
static ngx_int_t ngx_autoscale_actuate_claimed(void *data, ngx_int_t status,
    PGresult *res);
static ngx_int_t ngx_autoscale_actuate_take(ngx_autoscale_actuator_t *ac,
    PGresult *res, int row);
static void ngx_autoscale_actuate_timeout(ngx_event_t *ev);
static ngx_int_t ngx_autoscale_actuate_recorded(void *data, ngx_int_t status,
    PGresult *res);
static void ngx_autoscale_actuate_idle(ngx_autoscale_actuate_req_t *ar);


static const char  ngx_autoscale_actuate_sql_claim[] =
    NGX_AUTOSCALE_SQL_ACTUATE_CLAIM;
static const char  ngx_autoscale_actuate_sql_done[] =
    NGX_AUTOSCALE_SQL_ACTUATE_DONE;

/* where the claim's columns go, from NGX_AUTOSCALE_ACTUATE_COL_ID on */
static const size_t  ngx_autoscale_actuate_fields[] = {
    offsetof(ngx_autoscale_actuate_req_t, id),
    offsetof(ngx_autoscale_actuate_req_t, cluster),
    offsetof(ngx_autoscale_actuate_req_t, action),
    offsetof(ngx_autoscale_actuate_req_t, from),
    offsetof(ngx_autoscale_actuate_req_t, to),
    offsetof(ngx_autoscale_actuate_req_t, tries),
    offsetof(ngx_autoscale_actuate_req_t, drain),
    offsetof(ngx_autoscale_actuate_req_t, body)
};

static ngx_autoscale_actuator_t  *ngx_autoscale_actuator;


ngx_int_t
ngx_autoscale_actuate_init(ngx_cycle_t *cycle, ngx_autoscale_leader_t *ld)
{
    ngx_uint_t                 i;
    ngx_autoscale_actuator_t  *ac;

    ac = ngx_pcalloc(cycle->pool, sizeof(ngx_autoscale_actuator_t));
    if (ac == NULL) {
        return NGX_ERROR;
    }

    ac->leader = ld;
    ac->conf = ld->amcf->actuate;

    ac->reqs = ngx_pcalloc(cycle->pool, ac->conf->concurrency
                                        * sizeof(ngx_autoscale_actuate_req_t));
    if (ac->reqs == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ac->conf->concurrency; i++) {
        ac->reqs[i].actuator = ac;
        ngx_autoscale_leader_event(ld, &ac->reqs[i].timeout_ev,
                                   ngx_autoscale_actuate_timeout,
                                   &ac->reqs[i], 0);
    }

    ngx_autoscale_leader_event(ld, &ac->tick_ev, ngx_autoscale_actuate_tick,
                               ac, NGX_AUTOSCALE_ACTUATE_TICK);

    ngx_autoscale_actuator = ac;

    return NGX_OK;
}


void
ngx_autoscale_actuate_exit(void)
{
    ngx_uint_t                 i;
    ngx_autoscale_actuator_t  *ac = ngx_autoscale_actuator;

    if (ac == NULL) {
        return;
    }

    /* requests in flight lose their lease: another leader sends again */
    for (i = 0; i < ac->conf->concurrency; i++) {
        ngx_autoscale_actuate_abort(&ac->reqs[i]);

        if (ac->reqs[i].mem) {
            ngx_free(ac->reqs[i].mem);
            ac->reqs[i].mem = NULL;
        }
    }

    ngx_autoscale_actuator = NULL;
}


ngx_autoscale_actuate_req_t *
ngx_autoscale_actuate_find(ngx_http_request_t *r)
{
    ngx_uint_t                 i;
    ngx_autoscale_actuator_t  *ac = ngx_autoscale_actuator;

    if (ac == NULL || ac->sending == 0) {
        return NULL;
    }

    for (i = 0; i < ac->conf->concurrency; i++) {
        if (ac->reqs[i].request == r->main) {
            return &ac->reqs[i];
        }
    }

    return NULL;
}


static void
ngx_autoscale_actuate_tick(ngx_event_t *ev)
{
    ngx_autoscale_actuator_t  *ac = ev->data;

    ngx_uint_t            i, n;
    ngx_autoscale_shm_t  *sh;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        /* an upstream's timers must not keep the worker */
        for (i = 0; i < ac->conf->concurrency; i++) {
            ngx_autoscale_actuate_abort(&ac->reqs[i]);
        }

        return;
    }

    ngx_add_timer(ev, NGX_AUTOSCALE_ACTUATE_TICK);

    sh = ac->leader->amcf->shm_zone->data;

    if (ac->claiming || !ac->leader->leading) {
        return;
    }

    if (sh->actuate_kicks == ac->kicks
        && (ngx_msec_int_t) (ngx_current_msec - ac->next_poll) < 0)
    {
        return;
    }

    n = 0;

    for (i = 0; i < ac->conf->concurrency; i++) {
        if (ac->reqs[i].state == NGX_AUTOSCALE_ACTUATE_IDLE) {
            n++;
        }
    }

    if (n == 0) {
        return;
    }

    ac->kicks = sh->actuate_kicks;
    ac->next_poll = ngx_current_msec + NGX_AUTOSCALE_ACTUATE_POLL;

    ngx_autoscale_actuate_claim(ac, n);
}


static void
ngx_autoscale_actuate_claim(ngx_autoscale_actuator_t *ac, ngx_uint_t n)
{
    u_char     lease[NGX_INT_T_LEN], limit[NGX_INT_T_LEN];
    ngx_str_t  params[3];

    params[0] = ac->leader->node;
    params[1].data = lease;
    params[1].len = ngx_sprintf(lease, "%M", ac->conf->timeout / 1000
                                + NGX_AUTOSCALE_ACTUATE_LEASE_MARGIN)
                    - lease;
    params[2].data = limit;
    params[2].len = ngx_sprintf(limit, "%ui", n) - limit;

    if (ngx_autoscale_pg_query(ac->leader->pool,
                               ngx_autoscale_actuate_sql_claim, 3, params,
                               ngx_autoscale_actuate_claimed, ac)
        != NULL)
    {
        ac->claiming = 1;
    }
}


static ngx_int_t
ngx_autoscale_actuate_claimed(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_actuator_t  *ac = data;

    int                   row, rows;
    ngx_int_t             superseded;
    ngx_autoscale_shm_t  *sh;

    ac->claiming = 0;

    if (status != NGX_AUTOSCALE_PG_OK) {
        ngx_autoscale_leader_job_failed(ac->leader, "actuation", status, res);

        /* not before the pool tries the database again */
        ac->next_poll = ngx_current_msec
                        + 1000 * ngx_autoscale_pg_retry_after(ac->leader->pool);
        return NGX_OK;
    }

    rows = PQntuples(res);

    if (rows == 0) {
        return NGX_OK;
    }

    sh = ac->leader->amcf->shm_zone->data;

    superseded = ngx_atoi((u_char *) PQgetvalue(res, 0,
                                      NGX_AUTOSCALE_ACTUATE_COL_SUPERSEDED),
                          PQgetlength(res, 0,
                                      NGX_AUTOSCALE_ACTUATE_COL_SUPERSEDED));
    if (superseded > 0) {
        (void) ngx_atomic_fetch_add(
            &sh->actuate_events[NGX_AUTOSCALE_ACTUATE_SUPERSEDED],
            superseded);
    }

    for (row = 0; row < rows; row++) {
        if (PQgetisnull(res, row, NGX_AUTOSCALE_ACTUATE_COL_ID)) {
            continue;
        }

        if (ngx_autoscale_actuate_take(ac, res, row) != NGX_OK) {
            /* its lease runs out; the next leader sends it */
            ngx_log_error(NGX_LOG_ERR, ac->leader->log, 0,
                          "autoscale: actuation of event %s not started",
                          PQgetvalue(res, row, NGX_AUTOSCALE_ACTUATE_COL_ID));
        }
    }

    return NGX_OK;
}


/* copies a claimed event into an idle place and sends it */
static ngx_int_t
ngx_autoscale_actuate_take(ngx_autoscale_actuator_t *ac, PGresult *res,
    int row)
{
    int                           col;
    size_t                        size;
    u_char                       *p;
    ngx_str_t                    *s;
    ngx_uint_t                    i;
    ngx_autoscale_actuate_req_t  *ar;

    ar = NULL;

    for (i = 0; i < ac->conf->concurrency; i++) {
        if (ac->reqs[i].state == NGX_AUTOSCALE_ACTUATE_IDLE) {
            ar = &ac->reqs[i];
            break;
        }
    }

    if (ar == NULL) {
        return NGX_ERROR;
    }

    size = 0;

    for (col = NGX_AUTOSCALE_ACTUATE_COL_ID;
         col <= NGX_AUTOSCALE_ACTUATE_COL_BODY;
         col++)
    {
        size += PQgetlength(res, row, col);
    }

    p = ngx_alloc(size + 1, ac->leader->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ar->mem = p;

    for (col = NGX_AUTOSCALE_ACTUATE_COL_ID;
         col <= NGX_AUTOSCALE_ACTUATE_COL_BODY;
         col++)
    {
        s = (ngx_str_t *) ((u_char *) ar + ngx_autoscale_actuate_fields[
                               col - NGX_AUTOSCALE_ACTUATE_COL_ID]);
        s->data = p;
        s->len = PQgetlength(res, row, col);
        p = ngx_cpymem(p, PQgetvalue(res, row, col), s->len);
    }

    ar->status = 0;
    ar->error_len = 0;
    ar->answered = 0;
    ar->result = NGX_AUTOSCALE_ACTUATE_FAILURE;

    if (ngx_autoscale_actuate_start(ar) != NGX_OK) {
        ar->error_len = ngx_snprintf(ar->error, sizeof(ar->error),
                                     "the request could not be made")
                        - ar->error;
        ngx_autoscale_actuate_ended(ar);
    }

    return NGX_OK;
}


static void
ngx_autoscale_actuate_timeout(ngx_event_t *ev)
{
    ngx_autoscale_actuate_req_t  *ar = ev->data;

    if (ar->state != NGX_AUTOSCALE_ACTUATE_SENDING) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "autoscale: event %V of \"%V\": no answer within %M ms",
                  &ar->id, &ar->cluster, ar->actuator->conf->timeout);

    ar->answered = 1;
    ar->result = NGX_AUTOSCALE_ACTUATE_TIMEOUT;
    ar->status = 0;
    ar->error_len = ngx_snprintf(ar->error, sizeof(ar->error),
                                 "no answer within %M ms",
                                 ar->actuator->conf->timeout)
                    - ar->error;

    ngx_autoscale_actuate_abort(ar);
    ngx_autoscale_actuate_ended(ar);
}


/* the try is over: its outcome goes to the event, if still leased to us */
void
ngx_autoscale_actuate_ended(ngx_autoscale_actuate_req_t *ar)
{
    u_char                     *p;
    u_char                      buf[3 * NGX_INT_T_LEN + 8];
    ngx_str_t                   params[8];
    ngx_uint_t                  tries;
    ngx_msec_t                  delay;
    ngx_autoscale_shm_t        *sh;
    ngx_autoscale_actuator_t   *ac = ar->actuator;

    sh = ac->leader->amcf->shm_zone->data;

    (void) ngx_atomic_fetch_add(&sh->actuate_requests[ar->result], 1);

    if (ar->result != NGX_AUTOSCALE_ACTUATE_SUCCESS) {
        ngx_log_error(NGX_LOG_WARN, ac->leader->log, 0,
                      "autoscale: event %V of \"%V\" not actuated: %*s",
                      &ar->id, &ar->cluster, ar->error_len, ar->error);
    }

    ar->state = NGX_AUTOSCALE_ACTUATE_RECORDING;

    /* the backoff doubles with each try, up to backoff_max */
    tries = ngx_atoi(ar->tries.data, ar->tries.len);
    delay = ac->conf->backoff;

    while (tries-- > 0 && delay < ac->conf->backoff_max) {
        delay *= 2;
    }

    delay = ngx_min(delay, ac->conf->backoff_max);

    params[0] = ar->id;
    params[1] = ac->leader->node;
    ngx_str_set(&params[2], "f");

    if (ar->result == NGX_AUTOSCALE_ACTUATE_SUCCESS) {
        ngx_str_set(&params[2], "t");
    }

    p = buf;

    params[3].data = p;
    p = ngx_sprintf(p, "%i", ar->status);
    params[3].len = p - params[3].data;

    if (ar->status == 0) {
        params[3].data = NULL;
    }

    params[4].data = ar->error_len ? ar->error : NULL;
    params[4].len = ar->error_len;

    params[5].data = p;
    p = ngx_sprintf(p, "%ui", ac->conf->tries);
    params[5].len = p - params[5].data;

    params[6].data = p;
    p = ngx_sprintf(p, "%M.%03M", delay / 1000, delay % 1000);
    params[6].len = p - params[6].data;

    params[7] = ar->tries;

    if (ngx_autoscale_pg_query(ac->leader->pool,
                               ngx_autoscale_actuate_sql_done, 8, params,
                               ngx_autoscale_actuate_recorded, ar)
        == NULL)
    {
        ngx_autoscale_actuate_idle(ar);
    }
}


static ngx_int_t
ngx_autoscale_actuate_recorded(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_actuate_req_t  *ar = data;

    char                 *state;
    ngx_autoscale_shm_t  *sh;

    sh = ar->actuator->leader->amcf->shm_zone->data;

    if (status != NGX_AUTOSCALE_PG_OK) {
        /* the lease runs out and the event is sent again */
        ngx_autoscale_leader_job_failed(ar->actuator->leader,
                                        "recording an actuation", status,
                                        res);

    } else if (PQntuples(res) == 1) {
        state = PQgetvalue(res, 0, 0);

        if (ngx_strcmp(state, "actuated") == 0) {
            (void) ngx_atomic_fetch_add(
                &sh->actuate_events[NGX_AUTOSCALE_ACTUATE_ACTUATED], 1);

        } else if (ngx_strcmp(state, "failed") == 0) {
            (void) ngx_atomic_fetch_add(
                &sh->actuate_events[NGX_AUTOSCALE_ACTUATE_FAILED], 1);

            ngx_log_error(NGX_LOG_ERR, ar->actuator->leader->log, 0,
                          "autoscale: event %V of \"%V\" failed after %ui "
                          "tries", &ar->id, &ar->cluster,
                          ar->actuator->conf->tries);
        }

    } else {
        ngx_log_error(NGX_LOG_INFO, ar->actuator->leader->log, 0,
                      "autoscale: event %V: its lease had passed to "
                      "another node; outcome not recorded", &ar->id);
    }

    ngx_autoscale_actuate_idle(ar);

    /* a place is free: whatever waits for one is due */
    ar->actuator->next_poll = ngx_current_msec;

    return NGX_OK;
}


static void
ngx_autoscale_actuate_idle(ngx_autoscale_actuate_req_t *ar)
{
    if (ar->mem) {
        ngx_free(ar->mem);
        ar->mem = NULL;
    }

    ngx_str_null(&ar->id);
    ngx_str_null(&ar->cluster);
    ngx_str_null(&ar->action);
    ngx_str_null(&ar->from);
    ngx_str_null(&ar->to);
    ngx_str_null(&ar->drain);
    ngx_str_null(&ar->body);
    ngx_str_null(&ar->tries);

    ar->state = NGX_AUTOSCALE_ACTUATE_IDLE;
}
