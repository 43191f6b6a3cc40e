
/*
 * An agent's address: whatever is taken is one IPv4 or IPv6 literal and a
 * port 1-65535, written back canonically, and its canonical text parses to
 * the same address; whatever is refused leaves no address and says why.
 */


#include "fuzz.h"
#include "ngx_autoscale_addr.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                  *in;
    const char            *why;
    ngx_autoscale_addr_t   addr, again;

    in = fuzz_exact(data, size);
    why = NULL;

    if (ngx_autoscale_addr_parse(in, size, &addr, &why) != 0) {
        fuzz_assert(why != NULL && why[0] != '\0');
        fuzz_assert(addr.socklen == 0);
        free(in);
        return 0;
    }

    fuzz_assert(size > 0 && size < NGX_AUTOSCALE_ADDR_MAX);
    fuzz_assert(addr.len > 0 && addr.len < NGX_AUTOSCALE_ADDR_MAX);
    fuzz_assert(addr.text[addr.len] == '\0');
    fuzz_assert(strspn(addr.text, "0123456789abcdef.:[]") == addr.len);

    if (addr.u.sa.sa_family == AF_INET) {
        fuzz_assert(addr.socklen == sizeof(struct sockaddr_in));
        fuzz_assert(addr.u.sin.sin_port != 0);

    } else {
        fuzz_assert(addr.u.sa.sa_family == AF_INET6);
        fuzz_assert(addr.socklen == sizeof(struct sockaddr_in6));
        fuzz_assert(addr.u.sin6.sin6_port != 0);
        fuzz_assert(addr.text[0] == '[');
    }

    /* canonical text is a fixed point */
    fuzz_assert(ngx_autoscale_addr_parse(addr.text, addr.len, &again, &why)
                == 0);
    fuzz_assert(again.len == addr.len);
    fuzz_assert(memcmp(again.text, addr.text, addr.len) == 0);
    fuzz_assert(again.socklen == addr.socklen);
    fuzz_assert(memcmp(&again.u, &addr.u, addr.socklen) == 0);

    free(in);

    return 0;
}
