
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

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
