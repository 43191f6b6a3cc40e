
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * An agent's address, "ip:port" or "[ipv6]:port": literals only, so that
 * nothing is looked up at run time, and parsed strictly, so that what the
 * zone keeps is exactly one address that connect() takes as it is.  Plain
 * C with no nginx headers, so it is unit-tested on its own.
 */


#ifndef _NGX_AUTOSCALE_ADDR_H_INCLUDED_
#define _NGX_AUTOSCALE_ADDR_H_INCLUDED_


#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>


/* "[" 39 characters of IPv6 "]:65535", and more than any IPv4 needs */
#define NGX_AUTOSCALE_ADDR_MAX    48


typedef struct {
    union {
        struct sockaddr        sa;
        struct sockaddr_in     sin;
        struct sockaddr_in6    sin6;
    } u;
    socklen_t                  socklen;      /* 0: no address */
    unsigned char              len;
    char                       text[NGX_AUTOSCALE_ADDR_MAX];  /* canonical */
} ngx_autoscale_addr_t;


/*
 * 0 and addr filled, or -1 and why set to what is wrong with s (a
 * constant string)
 */
int ngx_autoscale_addr_parse(const char *s, size_t len,
    ngx_autoscale_addr_t *addr, const char **why);


#endif /* _NGX_AUTOSCALE_ADDR_H_INCLUDED_ */
