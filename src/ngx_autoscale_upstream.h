
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_upstream: a cluster's serving agents as an upstream's peers.
 */


#ifndef _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_
#define _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale_addr.h"
#include "ngx_autoscale_shm.h"


/* an autoscale_upstream block's own configuration */
typedef struct {
    ngx_str_t                      cluster_id;
    ngx_uint_t                     max_fails;
    ngx_uint_t                     fail_timeout;  /* s */
    ngx_msec_t                     hold;          /* 0: never */
    ngx_uint_t                     hold_max;      /* held at once */
    ngx_uint_t                     max_conns;     /* per agent; 0: any */
    ngx_uint_t                     placeholder;   /* its index in servers */
    ngx_http_upstream_srv_conf_t  *backup;        /* NULL: none */
    ngx_http_upstream_srv_conf_t  *upstream;

    /* this worker's: the cluster's node, kept once found */
    ngx_autoscale_cluster_t       *cluster;
    ngx_msec_t                     retry;
    ngx_queue_t                    waiting;       /* held, oldest first */
} ngx_autoscale_upstream_conf_t;


/*
 * "autoscale_upstream <cluster id> [max_fails=N] [fail_timeout=T]
 * [hold=T] [hold_max=N] [max_conns=N]"
 */
char *ngx_autoscale_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* the cluster's node (NULL: the zone had no room), found once per worker */
ngx_autoscale_cluster_t *ngx_autoscale_upstream_cluster(
    ngx_http_request_t *r, ngx_autoscale_upstream_conf_t *ascf);
/* how many of the cluster's agents may take a request now */
ngx_uint_t ngx_autoscale_upstream_serving(ngx_autoscale_cluster_t *cluster);
/*
 * A request's place at an agent below max_conns, taken before proxy_pass
 * runs (its address copied to addr); NULL: every agent is full.
 */
ngx_autoscale_agent_t *ngx_autoscale_upstream_reserve(
    ngx_autoscale_upstream_conf_t *ascf, ngx_autoscale_cluster_t *cluster,
    ngx_autoscale_addr_t *addr);
/* a place reserve() took and no request used */
void ngx_autoscale_upstream_unreserve(ngx_autoscale_agent_t *agent);


#endif /* _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_ */
