
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_upstream: a cluster's serving agents as an upstream's peers.
 */


#ifndef _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_
#define _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* "autoscale_upstream <cluster id> [max_fails=N] [fail_timeout=T]" */
char *ngx_autoscale_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_AUTOSCALE_UPSTREAM_H_INCLUDED_ */
