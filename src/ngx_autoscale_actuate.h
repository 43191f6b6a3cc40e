
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_actuate: the leader sends every change of a cluster's target
 * to a location of nginx.conf, as an internal request of its own (no
 * client connection), so that the location's directives (proxy_pass,
 * proxy_method, proxy_set_header, proxy_set_body) talk to the orchestrator.
 * scaling_events is the ledger of what was sent and what became of it.
 */


#ifndef _NGX_AUTOSCALE_ACTUATE_H_INCLUDED_
#define _NGX_AUTOSCALE_ACTUATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_leader.h"


/* how a request ended, as GET metrics counts them */
#define NGX_AUTOSCALE_ACTUATE_SUCCESS     0
#define NGX_AUTOSCALE_ACTUATE_FAILURE     1
#define NGX_AUTOSCALE_ACTUATE_TIMEOUT     2
#define NGX_AUTOSCALE_ACTUATE_NRESULTS    3

/* what became of an event, likewise */
#define NGX_AUTOSCALE_ACTUATE_ACTUATED    0
#define NGX_AUTOSCALE_ACTUATE_FAILED      1
#define NGX_AUTOSCALE_ACTUATE_SUPERSEDED  2
#define NGX_AUTOSCALE_ACTUATE_NOUTCOMES   3

#define NGX_AUTOSCALE_ACTUATE_ERROR_LEN   160


typedef struct {
    ngx_str_t                  uri;          /* a path, or "@name" */
    ngx_uint_t                 tries;
    ngx_msec_t                 backoff;
    ngx_msec_t                 backoff_max;
    ngx_msec_t                 timeout;
    ngx_uint_t                 concurrency;
    ngx_http_conf_ctx_t       *server;       /* the location's server */
} ngx_autoscale_actuate_conf_t;


typedef enum {
    NGX_AUTOSCALE_ACTUATE_IDLE = 0,
    NGX_AUTOSCALE_ACTUATE_SENDING,           /* its request runs */
    NGX_AUTOSCALE_ACTUATE_RECORDING          /* its outcome is written */
} ngx_autoscale_actuate_state_e;


typedef struct ngx_autoscale_actuator_s  ngx_autoscale_actuator_t;

/* one event being sent, and the request that sends it */
typedef struct {
    ngx_autoscale_actuator_t  *actuator;
    ngx_autoscale_actuate_state_e  state;
    ngx_http_request_t        *request;      /* the fake main request */
    ngx_event_t                timeout_ev;
    u_char                    *mem;          /* the strings below */

    /* the variables' values */
    ngx_str_t                  id;
    ngx_str_t                  cluster;
    ngx_str_t                  action;
    ngx_str_t                  from;
    ngx_str_t                  to;
    ngx_str_t                  drain;
    ngx_str_t                  body;
    ngx_str_t                  tries;        /* before this one */

    ngx_uint_t                 result;       /* NGX_AUTOSCALE_ACTUATE_* */
    ngx_int_t                  status;       /* HTTP; 0: none */
    size_t                     error_len;    /* 0: none */
    u_char                     error[NGX_AUTOSCALE_ACTUATE_ERROR_LEN];
    unsigned                   answered:1;
} ngx_autoscale_actuate_req_t;


struct ngx_autoscale_actuator_s {
    ngx_autoscale_leader_t        *leader;
    ngx_autoscale_actuate_conf_t  *conf;
    ngx_event_t                    tick_ev;
    ngx_atomic_uint_t              kicks;    /* the zone's, when last seen */
    ngx_msec_t                     next_poll;
    ngx_uint_t                     sending;  /* requests that run */
    ngx_autoscale_actuate_req_t   *reqs;     /* conf->concurrency */
    unsigned                       claiming:1;
};


/* ngx_autoscale_actuate_conf.c: the directive, variables and filters */
char *ngx_autoscale_actuate_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_autoscale_actuate_postconfiguration(ngx_conf_t *cf,
    ngx_http_autoscale_main_conf_t *amcf);

/* ngx_autoscale_actuate.c: the leader's claims and outcomes */
ngx_int_t ngx_autoscale_actuate_init(ngx_cycle_t *cycle,
    ngx_autoscale_leader_t *ld);
void ngx_autoscale_actuate_exit(void);
/* the request of an event that is being sent, if r is one */
ngx_autoscale_actuate_req_t *ngx_autoscale_actuate_find(
    ngx_http_request_t *r);
/* the request ended (or never started): its outcome is written */
void ngx_autoscale_actuate_ended(ngx_autoscale_actuate_req_t *ar);

/* ngx_autoscale_actuate_request.c: the request without a client */
ngx_int_t ngx_autoscale_actuate_start(ngx_autoscale_actuate_req_t *ar);
/* ends a request that runs, without an outcome: timeout or exit */
void ngx_autoscale_actuate_abort(ngx_autoscale_actuate_req_t *ar);


#endif /* _NGX_AUTOSCALE_ACTUATE_H_INCLUDED_ */
