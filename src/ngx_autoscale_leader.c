
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The leader's lease and lock, and the start and end of the jobs.  Every
 * job statement re-checks the lock in SQL, so a leader that lost its
 * session changes nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_actuate.h"
#include "ngx_autoscale_collector.h"
#include "ngx_autoscale_leader.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_scaler.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_sql_jobs.h"
#include "ngx_autoscale_waker.h"


#define NGX_AUTOSCALE_LEASE_TICK     1000    /* ms: renew, or try to take */
#define NGX_AUTOSCALE_LEASE_PERIOD   3000    /* ms: a silent leader's term */


static void ngx_autoscale_leader_lease_handler(ngx_event_t *ev);
static void ngx_autoscale_leader_resign(ngx_autoscale_leader_t *ld,
    const char *why, ngx_uint_t drop_session);
static void ngx_autoscale_leader_lock(ngx_autoscale_leader_t *ld);
static ngx_int_t ngx_autoscale_leader_lock_done(void *data, ngx_int_t status,
    PGresult *res);


static const char  ngx_autoscale_leader_sql_lock[] = NGX_AUTOSCALE_SQL_LOCK;

static ngx_autoscale_leader_t  *ngx_autoscale_leader;


ngx_int_t
ngx_autoscale_leader_init(ngx_cycle_t *cycle,
    ngx_http_autoscale_main_conf_t *amcf)
{
    ngx_autoscale_leader_t  *ld;

    if (!amcf->collector && !amcf->scaler) {
        return NGX_OK;
    }

    ld = ngx_pcalloc(cycle->pool, sizeof(ngx_autoscale_leader_t));
    if (ld == NULL) {
        return NGX_ERROR;
    }

    ld->amcf = amcf;
    ld->log = cycle->log;
    ld->pgcf = *amcf->pg;
    ld->pgcf.pool_size = 1;

    /* every change of a check is queued at once: the fleet is the bound */
    ld->pgcf.max_waiting = NGX_MAX_INT32_VALUE;

    ld->pool = ngx_autoscale_pg_pool_create(cycle, &ld->pgcf);
    if (ld->pool == NULL) {
        return NGX_ERROR;
    }

    ld->node.data = ngx_pnalloc(cycle->pool, cycle->hostname.len + 2
                                             + NGX_INT64_LEN);
    if (ld->node.data == NULL) {
        return NGX_ERROR;
    }

    /* NUL-terminated as well, for cJSON */
    ld->node.len = ngx_sprintf(ld->node.data, "%V:%P%Z", &cycle->hostname,
                               ngx_pid)
                   - ld->node.data - 1;

    ngx_autoscale_leader_event(ld, &ld->lease_ev,
                               ngx_autoscale_leader_lease_handler, ld,
                               NGX_AUTOSCALE_LEASE_TICK);

    if (amcf->collector && ngx_autoscale_collector_init(cycle, ld) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (amcf->scaler && ngx_autoscale_scaler_init(cycle, ld) != NGX_OK) {
        return NGX_ERROR;
    }

    /* held requests wake their clusters: a decision, like the scaler's */
    if (amcf->scaler && !amcf->dry_run && amcf->upstreams
        && ngx_autoscale_waker_init(cycle, ld) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (amcf->actuate && ngx_autoscale_actuate_init(cycle, ld) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_autoscale_leader = ld;

    return NGX_OK;
}


void
ngx_autoscale_leader_exit(ngx_cycle_t *cycle)
{
    ngx_autoscale_leader_t  *ld = ngx_autoscale_leader;

    if (ld == NULL) {
        return;
    }

    ngx_autoscale_leader_resign(ld, "the worker exits", 0);

    ngx_autoscale_scaler_exit();
    ngx_autoscale_waker_exit();
    ngx_autoscale_actuate_exit();
    ngx_autoscale_pg_pool_destroy(ld->pool);
    ngx_autoscale_collector_exit();

    ngx_autoscale_leader = NULL;
}


void
ngx_autoscale_leader_event(ngx_autoscale_leader_t *ld, ngx_event_t *ev,
    ngx_event_handler_pt handler, void *data, ngx_msec_t first)
{
    ev->handler = handler;
    ev->data = data;
    ev->log = ld->log;
    ev->cancelable = 1;

    if (first) {
        ngx_add_timer(ev, 1 + ngx_random() % first);
    }
}


void
ngx_autoscale_leader_lock_lost(ngx_autoscale_leader_t *ld)
{
    ngx_log_debug0(NGX_LOG_DEBUG_EVENT, ld->log, 0,
                   "autoscale leader: lock lost with the session");

    ld->locked = 0;
}


static void
ngx_autoscale_leader_lease_handler(ngx_event_t *ev)
{
    ngx_autoscale_leader_t  *ld = ev->data;

    ngx_pid_t              previous;
    ngx_autoscale_lease_e  lease;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        /*
         * Let a worker of the new generation lead at once: the database
         * lock goes with this worker's session, and a statement cut short
         * is one transaction, done or undone whole.
         */
        ngx_autoscale_leader_resign(ld, "the worker is shutting down", 1);
        return;
    }

    lease = ngx_autoscale_shm_lease(ld->amcf->shm_zone,
                                    NGX_AUTOSCALE_LEASE_PERIOD, &previous);

    switch (lease) {

    case NGX_AUTOSCALE_LEASE_NONE:
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ld->log, 0,
                       "autoscale leader: lease held by worker %P", previous);

        if (ld->leading) {
            ngx_autoscale_leader_resign(ld, "its lease was taken over", 1);
        }
        break;

    case NGX_AUTOSCALE_LEASE_RENEWED:
        ngx_log_debug0(NGX_LOG_DEBUG_EVENT, ld->log, 0,
                       "autoscale leader: lease renewed");
        break;

    case NGX_AUTOSCALE_LEASE_VACANT:
        ld->leading = 1;
        ngx_log_error(NGX_LOG_NOTICE, ld->log, 0,
                      "autoscale: worker %P became the leader: the lease "
                      "was free", ngx_pid);
        break;

    default:
        ld->leading = 1;
        ngx_log_error(NGX_LOG_NOTICE, ld->log, 0,
                      "autoscale: worker %P became the leader: the lease "
                      "of worker %P %s", ngx_pid, previous,
                      lease == NGX_AUTOSCALE_LEASE_EXPIRED
                      ? "expired" : "ended with its process");
    }

    if (ld->leading && !ld->locking
        && (!ld->locked || ngx_autoscale_pg_generation(ld->pool)
                           != ld->lock_generation))
    {
        ngx_autoscale_leader_lock(ld);
    }

    ngx_add_timer(ev, NGX_AUTOSCALE_LEASE_TICK);
}


static void
ngx_autoscale_leader_resign(ngx_autoscale_leader_t *ld, const char *why,
    ngx_uint_t drop_session)
{
    if (!ld->leading) {
        return;
    }

    ld->leading = 0;
    ld->locked = 0;

    ngx_autoscale_shm_release(ld->amcf->shm_zone);

    ngx_log_error(NGX_LOG_NOTICE, ld->log, 0,
                  "autoscale: worker %P is no longer the leader: %s",
                  ngx_pid, why);

    if (drop_session) {
        /* the advisory lock goes with the session */
        ngx_autoscale_pg_pool_reset(ld->pool);
    }
}


static void
ngx_autoscale_leader_lock(ngx_autoscale_leader_t *ld)
{
    ld->locking = 1;

    ngx_log_debug0(NGX_LOG_DEBUG_EVENT, ld->log, 0,
                   "autoscale leader: lock asked");

    if (ngx_autoscale_pg_query(ld->pool, ngx_autoscale_leader_sql_lock, 0,
                               NULL, ngx_autoscale_leader_lock_done, ld)
        == NULL)
    {
        ld->locking = 0;
    }
}


static ngx_int_t
ngx_autoscale_leader_lock_done(void *data, ngx_int_t status, PGresult *res)
{
    ngx_autoscale_leader_t  *ld = data;

    ld->locking = 0;

    if (!ld->leading || status != NGX_AUTOSCALE_PG_OK) {
        /* the pool logs an unreachable database; the next tick retries */
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ld->log, 0,
                       "autoscale leader: lock not taken: %i", status);
        ld->locked = 0;
        return NGX_OK;
    }

    if (PQntuples(res) == 1
        && PQgetvalue(res, 0, NGX_AUTOSCALE_LOCK_GRANTED)[0] == 't')
    {
        ld->locked = 1;
        ld->lock_refused = 0;
        ld->lock_generation = ngx_autoscale_pg_generation(ld->pool);

        ngx_log_error(NGX_LOG_NOTICE, ld->log, 0,
                      "autoscale: worker %P holds the database lock: it "
                      "collects and scales", ngx_pid);
        return NGX_OK;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_EVENT, ld->log, 0,
                   "autoscale leader: lock refused");

    ld->locked = 0;

    if (!ld->lock_refused) {
        ld->lock_refused = 1;

        ngx_log_error(NGX_LOG_NOTICE, ld->log, 0,
                      "autoscale: worker %P stands by: another server "
                      "holds the database lock", ngx_pid);
    }

    return NGX_OK;
}


ngx_uint_t
ngx_autoscale_leader_ready(ngx_autoscale_leader_t *ld)
{
    return ld->leading && ld->locked && !ngx_exiting
           && ngx_autoscale_pg_generation(ld->pool) == ld->lock_generation;
}


void
ngx_autoscale_leader_job_failed(ngx_autoscale_leader_t *ld, const char *job,
    ngx_int_t status, PGresult *res)
{
    if (!ld->leading) {
        /* cut short by the resignation itself, not by the database */
        ngx_log_error(NGX_LOG_INFO, ld->log, 0,
                      "autoscale: %s abandoned: no longer the leader", job);
        return;
    }

    ngx_autoscale_shm_count(ld->amcf->shm_zone, db_errors);

    ngx_log_error(NGX_LOG_WARN, ld->log, 0,
                  "autoscale: %s failed: %s", job,
                  status == NGX_AUTOSCALE_PG_SQL_ERROR && res
                  ? PQresultErrorMessage(res)
                  : status == NGX_AUTOSCALE_PG_TIMEOUT
                    ? "the database did not answer in time"
                    : "the database cannot be reached");
}


/*
 * A statement refused for what it carries, not for the state of the
 * server: a data exception, a broken constraint, a limit passed.  Others
 * (a read-only server, a missing column) would fail for every part.
 */
ngx_uint_t
ngx_autoscale_leader_data_error(PGresult *res)
{
    const char  *state;

    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    return state
           && (ngx_strncmp(state, "22", 2) == 0
               || ngx_strncmp(state, "23", 2) == 0
               || ngx_strncmp(state, "54", 2) == 0);
}
