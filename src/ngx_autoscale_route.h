
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Request routing and query-string validation for the API.  Plain C with no
 * nginx or libpq headers, so it is unit-tested on its own.
 */


#ifndef _NGX_AUTOSCALE_ROUTE_H_INCLUDED_
#define _NGX_AUTOSCALE_ROUTE_H_INCLUDED_


#include <stddef.h>

#include "ngx_autoscale_limits.h"


#define NGX_AUTOSCALE_ERR_TEXT    256


/* methods, as bits of the set a route allows */
#define NGX_AUTOSCALE_GET         0x01
#define NGX_AUTOSCALE_HEAD        0x02
#define NGX_AUTOSCALE_POST        0x04
#define NGX_AUTOSCALE_PUT         0x08
#define NGX_AUTOSCALE_DELETE      0x10

#define NGX_AUTOSCALE_READS       (NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD)
#define NGX_AUTOSCALE_WRITES                                                  \
    (NGX_AUTOSCALE_POST | NGX_AUTOSCALE_PUT | NGX_AUTOSCALE_DELETE)


typedef enum {
    NGX_AUTOSCALE_ROUTE_CLUSTERS = 1,      /* clusters */
    NGX_AUTOSCALE_ROUTE_CLUSTER,           /* clusters/{id} */
    NGX_AUTOSCALE_ROUTE_SCALE,             /* clusters/{id}/scale */
    NGX_AUTOSCALE_ROUTE_HIBERNATE,         /* clusters/{id}/hibernate */
    NGX_AUTOSCALE_ROUTE_REACTIVATE,        /* clusters/{id}/reactivate */
    NGX_AUTOSCALE_ROUTE_WORKERS,           /* clusters/{id}/workers */
    NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS,   /* clusters/{id}/metrics */
    NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS,    /* clusters/{id}/events */
    NGX_AUTOSCALE_ROUTE_CLUSTER_AGENTS,    /* clusters/{id}/agents */
    NGX_AUTOSCALE_ROUTE_HEARTBEAT,         /* clusters/{id}/agents/{agent}/
                                              heartbeat */
    NGX_AUTOSCALE_ROUTE_BLUEPRINTS,        /* blueprints */
    NGX_AUTOSCALE_ROUTE_BLUEPRINT,         /* blueprints/{id} */
    NGX_AUTOSCALE_ROUTE_PROMETHEUS         /* metrics */
} ngx_autoscale_route_e;


typedef struct {
    ngx_autoscale_route_e   route;
    unsigned                methods;
    const char             *id;            /* points into the path */
    size_t                  id_len;
    const char             *agent;         /* HEARTBEAT's agent id */
    size_t                  agent_len;
} ngx_autoscale_route_t;


/* an error for the client: HTTP status, a stable code, a sentence */
typedef struct {
    int                     status;
    const char             *code;
    char                    text[NGX_AUTOSCALE_ERR_TEXT];
} ngx_autoscale_err_t;


typedef enum {
    NGX_AUTOSCALE_ARG_INT = 1,             /* decimal, within [min, max] */
    NGX_AUTOSCALE_ARG_WORD,                /* one of choices, or an id */
    NGX_AUTOSCALE_ARG_TIME                 /* RFC 3339 date and time */
} ngx_autoscale_arg_kind_e;


typedef struct {
    const char                *name;
    ngx_autoscale_arg_kind_e   kind;
    long long                  min;
    long long                  max;        /* INT: bound; WORD: length */
    const char *const         *choices;    /* WORD: NULL-terminated, or NULL
                                              for letters, digits, - and _ */
} ngx_autoscale_arg_spec_t;


typedef struct {
    int                        present;
    long long                  num;
    char                       str[NGX_AUTOSCALE_ID_MAX + 1];
} ngx_autoscale_arg_t;


extern const char *const  ngx_autoscale_cluster_statuses[];


int ngx_autoscale_route(const char *path, size_t len,
    ngx_autoscale_route_t *rt, ngx_autoscale_err_t *err);

int ngx_autoscale_route_valid_id(const char *s, size_t len);
int ngx_autoscale_route_valid_agent_id(const char *s, size_t len);
int ngx_autoscale_route_valid_time(const char *s, size_t len);

int ngx_autoscale_route_parse_args(const char *args, size_t len,
    const ngx_autoscale_arg_spec_t *spec, size_t nspec,
    ngx_autoscale_arg_t *out, ngx_autoscale_err_t *err);

void ngx_autoscale_route_set_err(ngx_autoscale_err_t *err, int status,
    const char *code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__ ((format (printf, 4, 5)))
#endif
    ;


#endif /* _NGX_AUTOSCALE_ROUTE_H_INCLUDED_ */
