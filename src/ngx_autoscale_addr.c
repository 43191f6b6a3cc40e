
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "ngx_autoscale_addr.h"


static const char *ngx_autoscale_addr_v6(const char *s, size_t len,
    ngx_autoscale_addr_t *addr, const char **why);
static const char *ngx_autoscale_addr_v4(const char *s, size_t len,
    ngx_autoscale_addr_t *addr, const char **why);
static int ngx_autoscale_addr_port(const char *s, size_t len,
    unsigned *port);


int
ngx_autoscale_addr_parse(const char *s, size_t len,
    ngx_autoscale_addr_t *addr, const char **why)
{
    char         canon[INET6_ADDRSTRLEN];
    size_t       i;
    unsigned     port;
    const char  *p;

    memset(addr, 0, sizeof(ngx_autoscale_addr_t));

    if (len == 0 || len >= NGX_AUTOSCALE_ADDR_MAX) {
        *why = "it must be 1 to 47 characters";
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')
              || (s[i] >= 'A' && s[i] <= 'F') || s[i] == '.' || s[i] == ':'
              || s[i] == '[' || s[i] == ']'))
        {
            *why = "it may hold only an IP literal and a port (no names, "
                   "no spaces)";
            return -1;
        }
    }

    p = (s[0] == '[') ? ngx_autoscale_addr_v6(s, len, addr, why)
                      : ngx_autoscale_addr_v4(s, len, addr, why);
    if (p == NULL) {
        return -1;
    }

    if (ngx_autoscale_addr_port(p, s + len - p, &port) != 0) {
        addr->socklen = 0;
        *why = "the port must be a number from 1 to 65535";
        return -1;
    }

    if (addr->u.sa.sa_family == AF_INET6) {
        addr->u.sin6.sin6_port = htons((unsigned short) port);
        inet_ntop(AF_INET6, &addr->u.sin6.sin6_addr, canon, sizeof(canon));
        addr->len = (unsigned char) snprintf(addr->text, sizeof(addr->text),
                                             "[%s]:%u", canon, port);

    } else {
        addr->u.sin.sin_port = htons((unsigned short) port);
        inet_ntop(AF_INET, &addr->u.sin.sin_addr, canon, sizeof(canon));
        addr->len = (unsigned char) snprintf(addr->text, sizeof(addr->text),
                                             "%s:%u", canon, port);
    }

    return 0;
}


/* "[ipv6]:": the address in addr, and where the port begins; NULL: why */
static const char *
ngx_autoscale_addr_v6(const char *s, size_t len, ngx_autoscale_addr_t *addr,
    const char **why)
{
    char         host[INET6_ADDRSTRLEN];
    size_t       hlen;
    const char  *close;

    close = memchr(s, ']', len);

    if (close == NULL || close + 1 == s + len || close[1] != ':') {
        *why = "an IPv6 address is written \"[ipv6]:port\"";
        return NULL;
    }

    hlen = close - s - 1;

    if (hlen == 0 || hlen >= sizeof(host)) {
        *why = "the IPv6 address is not valid";
        return NULL;
    }

    memcpy(host, s + 1, hlen);
    host[hlen] = '\0';

    if (inet_pton(AF_INET6, host, &addr->u.sin6.sin6_addr) != 1) {
        *why = "the IPv6 address is not valid";
        return NULL;
    }

    if (IN6_IS_ADDR_UNSPECIFIED(&addr->u.sin6.sin6_addr)
        || IN6_IS_ADDR_MULTICAST(&addr->u.sin6.sin6_addr))
    {
        *why = "the address must be one host's (not :: nor multicast)";
        return NULL;
    }

    addr->u.sin6.sin6_family = AF_INET6;
    addr->socklen = sizeof(struct sockaddr_in6);

    return close + 2;
}


/* "a.b.c.d:": the address in addr, and where the port begins; NULL: why */
static const char *
ngx_autoscale_addr_v4(const char *s, size_t len, ngx_autoscale_addr_t *addr,
    const char **why)
{
    char         host[INET_ADDRSTRLEN];
    size_t       i, hlen, colons;
    const char  *p;

    for (colons = 0, i = 0; i < len; i++) {
        colons += (s[i] == ':');
    }

    if (colons > 1 || memchr(s, '[', len) || memchr(s, ']', len)) {
        *why = "an IPv6 address is written \"[ipv6]:port\"";
        return NULL;
    }

    p = colons ? memchr(s, ':', len) : NULL;

    if (p == NULL) {
        *why = "the port is missing (\"ip:port\")";
        return NULL;
    }

    hlen = p - s;

    if (hlen == 0 || hlen >= sizeof(host)) {
        *why = "the IPv4 address is not valid";
        return NULL;
    }

    memcpy(host, s, hlen);
    host[hlen] = '\0';

    /* inet_pton() takes four decimal parts only, no leading zeros */
    if (inet_pton(AF_INET, host, &addr->u.sin.sin_addr) != 1) {
        *why = "the IPv4 address is not valid";
        return NULL;
    }

    if (addr->u.sin.sin_addr.s_addr == htonl(INADDR_ANY)
        || addr->u.sin.sin_addr.s_addr == htonl(INADDR_BROADCAST)
        || IN_MULTICAST(ntohl(addr->u.sin.sin_addr.s_addr)))
    {
        *why = "the address must be one host's (not 0.0.0.0, broadcast "
               "nor multicast)";
        return NULL;
    }

    addr->u.sin.sin_family = AF_INET;
    addr->socklen = sizeof(struct sockaddr_in);

    return p + 1;
}


/* 1 to 65535, decimal, no sign and no leading zero */
static int
ngx_autoscale_addr_port(const char *s, size_t len, unsigned *port)
{
    size_t  i;

    if (len == 0 || len > 5 || s[0] == '0') {
        return -1;
    }

    for (*port = 0, i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        *port = *port * 10 + (s[i] - '0');
    }

    return *port > 65535 ? -1 : 0;
}
