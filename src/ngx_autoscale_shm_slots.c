
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The zone's slots: one per worker, each with the ledger of the requests
 * the worker has in flight, so that those of a worker that is gone are
 * settled by whoever finds its slot.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <signal.h>

#include "ngx_autoscale_shm.h"


static ngx_uint_t ngx_autoscale_shm_slots_sweep_locked(
    ngx_shm_zone_t *shm_zone);
static ngx_uint_t ngx_autoscale_shm_slots_settle(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_slot_t *slot);


ngx_autoscale_ledger_t *
ngx_autoscale_shm_slots_claim(ngx_shm_zone_t *shm_zone, ngx_log_t *log)
{
    ngx_uint_t              i;
    ngx_slab_pool_t        *shpool;
    ngx_autoscale_shm_t    *sh;
    ngx_autoscale_slot_t   *slot;
    ngx_autoscale_ledger_t *ledger;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    sh = shm_zone->data;

    ngx_autoscale_shm_lock(shm_zone);

    /* the worker this one replaces may have crashed: settle it first */
    (void) ngx_autoscale_shm_slots_sweep_locked(shm_zone);

    ledger = NULL;

    for (i = 0; i < NGX_AUTOSCALE_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid != 0) {
            continue;
        }

        if (slot->ledger == NULL) {
            /* kept when the slot is given back, for the next worker */
            slot->ledger = ngx_slab_calloc_locked(shpool,
                               NGX_AUTOSCALE_LEDGER
                               * sizeof(ngx_autoscale_ledger_t));
            if (slot->ledger == NULL) {
                ngx_autoscale_shm_full(shm_zone, "a worker's ledger");
                break;
            }
        }

        slot->pid = ngx_pid;
        ledger = slot->ledger;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "autoscale zone: worker %P took slot %ui",
                       ngx_pid, i);
        break;
    }

    ngx_autoscale_shm_unlock(shm_zone);

    if (ledger == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "autoscale: no ledger for worker %P: the requests it "
                      "has in flight are not settled if it crashes", ngx_pid);
    }

    return ledger;
}


void
ngx_autoscale_shm_slots_release(ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t            i;
    ngx_autoscale_shm_t  *sh;

    sh = shm_zone->data;

    ngx_autoscale_shm_lock(shm_zone);

    for (i = 0; i < NGX_AUTOSCALE_SLOTS; i++) {
        if (sh->slots[i].pid == ngx_pid) {
            /* every request has been freed by now: nothing to settle */
            (void) ngx_autoscale_shm_slots_settle(shm_zone, &sh->slots[i]);
            sh->slots[i].pid = 0;
        }
    }

    ngx_autoscale_shm_unlock(shm_zone);
}


ngx_uint_t
ngx_autoscale_shm_slots_sweep(ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t  n;

    ngx_autoscale_shm_lock(shm_zone);
    n = ngx_autoscale_shm_slots_sweep_locked(shm_zone);
    ngx_autoscale_shm_unlock(shm_zone);

    return n;
}


static ngx_uint_t
ngx_autoscale_shm_slots_sweep_locked(ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t             i, n;
    ngx_pid_t              pid;
    ngx_autoscale_shm_t   *sh;

    sh = shm_zone->data;
    n = 0;

    for (i = 0; i < NGX_AUTOSCALE_SLOTS; i++) {
        pid = sh->slots[i].pid;

        if (pid == 0 || pid == ngx_pid
            || kill(pid, 0) == 0 || ngx_errno != NGX_ESRCH)
        {
            continue;
        }

        n += ngx_autoscale_shm_slots_settle(shm_zone, &sh->slots[i]);
        sh->slots[i].pid = 0;

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "autoscale: worker %P is gone: its requests in flight "
                      "are counted as finished without an answer", pid);
    }

    return n;
}


/*
 * A gone worker's requests end now, with no answer: they leave the
 * in-flight count, and the window's area stops growing for them.
 */
static ngx_uint_t
ngx_autoscale_shm_slots_settle(ngx_shm_zone_t *shm_zone,
    ngx_autoscale_slot_t *slot)
{
    ngx_uint_t                i, n, total;
    ngx_autoscale_shm_t      *sh;
    ngx_autoscale_ledger_t   *e;
    ngx_autoscale_traffic_t  *t;

    sh = shm_zone->data;
    total = 0;

    if (slot->ledger == NULL) {
        return 0;
    }

    for (i = 0; i < NGX_AUTOSCALE_LEDGER; i++) {
        e = &slot->ledger[i];
        n = e->inflight;

        if (e->cluster && n) {
            t = &e->cluster->traffic;

            (void) ngx_atomic_fetch_add(&t->status[0], n);
            (void) ngx_atomic_fetch_add(&t->finish_ms, n * ngx_current_msec);
            (void) ngx_atomic_fetch_add(&t->finished, n);

            total += n;
        }

        e->cluster = NULL;
        e->inflight = 0;
    }

    (void) ngx_atomic_fetch_add(&sh->abandoned, total);

    return total;
}
