
/*
 * Built by "make unit" twice: with a 64-bit stand-in for ngx_atomic_t it
 * must compile, with a 32-bit one it must not.
 */

#include <stdint.h>

#include "ngx_autoscale_atomic.h"


typedef NGX_ATOMIC_STAND_IN  ngx_atomic_t;

ngx_autoscale_require_atomic64(ngx_atomic_t);

int
main(void)
{
    return 0;
}
