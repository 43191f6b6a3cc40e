
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The shared zone: state that every worker of one nginx sees, kept across
 * "nginx -s reload".
 */


#ifndef _NGX_AUTOSCALE_SHM_H_INCLUDED_
#define _NGX_AUTOSCALE_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    time_t                     created;
    ngx_atomic_t               generation;   /* configurations that used it */

    /* the leader's lease: who, and until when (ngx_current_msec) */
    ngx_pid_t                  leader;
    ngx_msec_t                 lease_until;
    ngx_atomic_t               leader_changes;
} ngx_autoscale_shm_t;


/* why a worker holds the lease after ngx_autoscale_shm_lease() */
typedef enum {
    NGX_AUTOSCALE_LEASE_NONE = 0,     /* another worker holds it */
    NGX_AUTOSCALE_LEASE_RENEWED,      /* this worker held it already */
    NGX_AUTOSCALE_LEASE_VACANT,       /* nobody held it */
    NGX_AUTOSCALE_LEASE_EXPIRED,      /* its holder did not renew it */
    NGX_AUTOSCALE_LEASE_GONE          /* its holder's process is gone */
} ngx_autoscale_lease_e;


ngx_int_t ngx_autoscale_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data);

ngx_autoscale_lease_e ngx_autoscale_shm_lease(ngx_shm_zone_t *shm_zone,
    ngx_msec_t period, ngx_pid_t *previous);
void ngx_autoscale_shm_release(ngx_shm_zone_t *shm_zone);


#endif /* _NGX_AUTOSCALE_SHM_H_INCLUDED_ */
