
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Limits that several layers share: the router checks ids against them,
 * the zone sizes its nodes by them, the collector its buffers.  Plain C,
 * no headers: the unit-tested parts include it too.
 */


#ifndef _NGX_AUTOSCALE_LIMITS_H_INCLUDED_
#define _NGX_AUTOSCALE_LIMITS_H_INCLUDED_


/* the longest cluster id and agent id, in bytes */
#define NGX_AUTOSCALE_ID_MAX        100
#define NGX_AUTOSCALE_AGENT_ID_MAX  100


#endif /* _NGX_AUTOSCALE_LIMITS_H_INCLUDED_ */
