
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The database's connection parameters, read at configuration time in the
 * master: the conninfo string, what a service file and the environment add
 * to it, and its host names resolved to addresses, so that a worker never
 * reads a file or looks a name up when it connects.
 */


#ifndef _NGX_AUTOSCALE_PG_CONF_H_INCLUDED_
#define _NGX_AUTOSCALE_PG_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_autoscale_pg_conf_s {
    ngx_str_t                    conninfo;   /* as written, for messages */
    const char                 **keywords;   /* NULL-terminated */
    const char                 **values;
    ngx_uint_t                   pool_size;
    ngx_uint_t                   max_waiting;  /* queries queued at most */
    ngx_msec_t                   timeout;
} ngx_autoscale_pg_conf_t;


char *ngx_autoscale_pg_conf_parse(ngx_conf_t *cf, ngx_str_t *conninfo,
    ngx_autoscale_pg_conf_t *pgcf);


#endif /* _NGX_AUTOSCALE_PG_CONF_H_INCLUDED_ */
