
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * The traffic counters in the zone hold sums of millisecond timestamps,
 * and the window's arithmetic relies on them wrapping at 2^64: with a
 * 32-bit ngx_atomic_t they would wrap within hours and every figure would
 * be nonsense.  Such a build stops here instead.
 */


#ifndef _NGX_AUTOSCALE_ATOMIC_H_INCLUDED_
#define _NGX_AUTOSCALE_ATOMIC_H_INCLUDED_


#define ngx_autoscale_require_atomic64(type)                                  \
    _Static_assert(sizeof(type) >= 8,                                         \
                   "ngx_autoscale_module needs 64-bit atomics, and "          \
                   "ngx_atomic_t is narrower on this platform")


#endif /* _NGX_AUTOSCALE_ATOMIC_H_INCLUDED_ */
