
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <signal.h>

#include "ngx_autoscale_shm.h"


ngx_int_t
ngx_autoscale_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t      *shpool;
    ngx_autoscale_shm_t  *sh;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data) {
        /* a reload: the zone and what it holds carry over as they are */
        sh = shpool->data;
        shm_zone->data = sh;
        sh->generation++;

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "autoscale: zone \"%V\" kept across reload, "
                      "generation %uA", &shm_zone->shm.name, sh->generation);
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        /* Windows: attached to the master's zone */
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_autoscale_shm_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    sh->created = ngx_time();
    sh->generation = 1;

    shpool->data = sh;
    shm_zone->data = sh;

    shpool->log_ctx = ngx_slab_alloc(shpool,
                                     sizeof(" in autoscale zone \"\"")
                                     + shm_zone->shm.name.len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in autoscale zone \"%V\"%Z",
                &shm_zone->shm.name);

    return NGX_OK;
}


/*
 * Takes or renews the lease.  The zone's mutex is held only for these few
 * lines, never across I/O: a leader killed at any point leaves a lease
 * that simply expires, or whose holder is seen to be gone.
 */
ngx_autoscale_lease_e
ngx_autoscale_shm_lease(ngx_shm_zone_t *shm_zone, ngx_msec_t period,
    ngx_pid_t *previous)
{
    ngx_pid_t              holder;
    ngx_slab_pool_t       *shpool;
    ngx_autoscale_shm_t   *sh;
    ngx_autoscale_lease_e  rc;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    sh = shm_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    holder = sh->leader;
    *previous = holder;

    if (holder == ngx_pid) {
        rc = NGX_AUTOSCALE_LEASE_RENEWED;

    } else if (holder == 0) {
        rc = NGX_AUTOSCALE_LEASE_VACANT;

    } else if ((ngx_msec_int_t) (ngx_current_msec - sh->lease_until) > 0) {
        rc = NGX_AUTOSCALE_LEASE_EXPIRED;

    } else if (kill(holder, 0) == -1 && ngx_errno == NGX_ESRCH) {
        rc = NGX_AUTOSCALE_LEASE_GONE;

    } else {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_AUTOSCALE_LEASE_NONE;
    }

    if (rc != NGX_AUTOSCALE_LEASE_RENEWED) {
        sh->leader = ngx_pid;
        sh->leader_changes++;
    }

    sh->lease_until = ngx_current_msec + period;

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


void
ngx_autoscale_shm_release(ngx_shm_zone_t *shm_zone)
{
    ngx_slab_pool_t      *shpool;
    ngx_autoscale_shm_t  *sh;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    sh = shm_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->leader == ngx_pid) {
        sh->leader = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}
