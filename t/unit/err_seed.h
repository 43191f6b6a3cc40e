
/*
 * A client error in a state no refusal leaves it in, so that the unit
 * tests and the fuzz targets see whether a call set it, and how.
 */


#ifndef _ERR_SEED_H_INCLUDED_
#define _ERR_SEED_H_INCLUDED_


#include <string.h>

#include "ngx_autoscale_route.h"


static inline void
err_init(ngx_autoscale_err_t *err)
{
    memset(err, 0, sizeof(*err));
    err->status = -7;
    err->code = "untouched";
}


#endif /* _ERR_SEED_H_INCLUDED_ */
