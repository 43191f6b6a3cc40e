
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The Prometheus endpoint: metrics, read from the shared zone only.
 */


#ifndef _NGX_AUTOSCALE_API_PROM_H_INCLUDED_
#define _NGX_AUTOSCALE_API_PROM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_api_query.h"
#include "ngx_autoscale_shm.h"


typedef struct {
    const char                *name;
    const char                *type;
    const char                *help;
} ngx_autoscale_prom_family_t;


/* a cluster's last decision and the leader's lease, copied under the mutex */
typedef struct {
    ngx_autoscale_cluster_t   *cluster;      /* for its counters */
    ngx_autoscale_decided_t    decided;
    ngx_uint_t                 exists;
} ngx_autoscale_prom_decided_t;

typedef struct {
    ngx_pid_t                  pid;          /* 0: no worker leads */
    ngx_msec_t                 until;
} ngx_autoscale_prom_lease_t;


ngx_int_t ngx_autoscale_api_prom(ngx_autoscale_api_ctx_t *ctx);

/* a family's HELP and TYPE lines, and the bytes of those of n families */
u_char *ngx_autoscale_api_prom_family_head(u_char *p,
    const ngx_autoscale_prom_family_t *fam);
size_t ngx_autoscale_api_prom_family_heads(
    const ngx_autoscale_prom_family_t *fam, ngx_uint_t n);

/*
 * ngx_autoscale_api_prom_policy.c: what the policy saw and did, per
 * cluster, and who leads; fresh: decisions older than this many seconds
 * are not shown (the leader no longer checks that cluster)
 */
u_char *ngx_autoscale_api_prom_policy(u_char *p,
    ngx_autoscale_prom_decided_t *dc, ngx_uint_t n, time_t fresh);
u_char *ngx_autoscale_api_prom_policy_leader(u_char *p,
    ngx_autoscale_prom_lease_t *lease);
size_t ngx_autoscale_api_prom_policy_size(ngx_uint_t n);


#endif /* _NGX_AUTOSCALE_API_PROM_H_INCLUDED_ */
