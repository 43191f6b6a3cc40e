
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The agents' endpoint: clusters/{id}/agents/{agent_id}/heartbeat.
 */


#ifndef _NGX_AUTOSCALE_API_AGENTS_H_INCLUDED_
#define _NGX_AUTOSCALE_API_AGENTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_autoscale_api_query.h"


ngx_int_t ngx_autoscale_api_agents_heartbeat(ngx_autoscale_api_ctx_t *ctx);


#endif /* _NGX_AUTOSCALE_API_AGENTS_H_INCLUDED_ */
