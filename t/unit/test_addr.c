/*
 * Unit tests of src/ngx_autoscale_addr.c: an agent's "ip:port", strictly.
 */

#define _DEFAULT_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ngx_autoscale_addr.h"


typedef struct {
    const char  *in;
    const char  *canonical;       /* NULL: refused */
    int          family;
    unsigned     port;
} addr_case_t;


static const addr_case_t  cases[] = {
    { "127.0.0.1:9000", "127.0.0.1:9000", AF_INET, 9000 },
    { "10.1.2.3:1", "10.1.2.3:1", AF_INET, 1 },
    { "192.168.0.255:65535", "192.168.0.255:65535", AF_INET, 65535 },
    { "[::1]:8080", "[::1]:8080", AF_INET6, 8080 },
    { "[2001:DB8::0:1]:443", "[2001:db8::1]:443", AF_INET6, 443 },
    { "[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.1]:80", AF_INET6, 80 },
    { "[fe80:0:0:0:0:0:0:1]:80", "[fe80::1]:80", AF_INET6, 80 },

    /* names: nothing is looked up at run time */
    { "localhost:80", NULL, 0, 0 },
    { "example.com:80", NULL, 0, 0 },
    { "abc:80", NULL, 0, 0 },
    { "deadbeef:80", NULL, 0, 0 },
    /* ports */
    { "1.2.3.4:0", NULL, 0, 0 },
    { "1.2.3.4:65536", NULL, 0, 0 },
    { "1.2.3.4:99999", NULL, 0, 0 },
    { "1.2.3.4:080", NULL, 0, 0 },
    { "1.2.3.4:", NULL, 0, 0 },
    { "1.2.3.4", NULL, 0, 0 },
    { "1.2.3.4:8a", NULL, 0, 0 },
    { "1.2.3.4:123456", NULL, 0, 0 },
    { "[::1]:0", NULL, 0, 0 },
    { "[::1]", NULL, 0, 0 },
    { "[::1]:", NULL, 0, 0 },
    /* IPv4 forms inet_aton() would take */
    { "1.2.3:80", NULL, 0, 0 },
    { "01.2.3.4:80", NULL, 0, 0 },
    { "1.2.3.256:80", NULL, 0, 0 },
    { "0x7f.0.0.1:80", NULL, 0, 0 },
    { "2130706433:80", NULL, 0, 0 },
    /* not one host */
    { "0.0.0.0:80", NULL, 0, 0 },
    { "255.255.255.255:80", NULL, 0, 0 },
    { "224.0.0.1:80", NULL, 0, 0 },
    { "[::]:80", NULL, 0, 0 },
    { "[ff02::1]:80", NULL, 0, 0 },
    /* IPv6 must be bracketed, with nothing else inside */
    { "::1:80", NULL, 0, 0 },
    { "2001:db8::1:80", NULL, 0, 0 },
    { "[::1:80", NULL, 0, 0 },
    { "::1]:80", NULL, 0, 0 },
    { "[]:80", NULL, 0, 0 },
    { "[1.2.3.4]:80", NULL, 0, 0 },
    { "[::1]x:80", NULL, 0, 0 },
    { "[::1]:80]", NULL, 0, 0 },
    { "[[::1]]:80", NULL, 0, 0 },
    /* junk */
    { "", NULL, 0, 0 },
    { " 1.2.3.4:80", NULL, 0, 0 },
    { "1.2.3.4:80 ", NULL, 0, 0 },
    { "1.2.3.4 :80", NULL, 0, 0 },
    { "1.2.3.4:80 ; x", NULL, 0, 0 },
    { "1.2.3.4:80\n", NULL, 0, 0 },
    { "1.2.3.4:+80", NULL, 0, 0 },
    { "1.2.3.4:-1", NULL, 0, 0 },
    { "http://1.2.3.4:80", NULL, 0, 0 },
    { "unix:/tmp/x.sock", NULL, 0, 0 },
    { "[fe80::1%eth0]:80", NULL, 0, 0 },
    { "1.2.3.4:80:80", NULL, 0, 0 }
};


static void
test_addr_table(void **state)
{
    int                    rc;
    char                  *in, msg[256];
    size_t                 i, len;
    unsigned               port;
    const char            *why;
    ngx_autoscale_addr_t   addr;

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        len = strlen(cases[i].in);
        /* no NUL after it: ASan sees any overread */
        in = malloc(len ? len : 1);
        assert_non_null(in);
        memcpy(in, cases[i].in, len);

        why = NULL;
        rc = ngx_autoscale_addr_parse(in, len, &addr, &why);
        free(in);

        snprintf(msg, sizeof(msg), "case \"%s\"", cases[i].in);

        if (cases[i].canonical == NULL) {
            if (rc != -1 || why == NULL || addr.socklen != 0) {
                fail_msg("%s: taken, refusal expected", msg);
            }

            continue;
        }

        if (rc != 0) {
            fail_msg("%s: refused (%s)", msg, why);
        }

        if (strcmp(addr.text, cases[i].canonical) != 0
            || addr.len != strlen(cases[i].canonical)
            || addr.u.sa.sa_family != cases[i].family)
        {
            fail_msg("%s: \"%s\" (family %d), expected \"%s\"", msg,
                     addr.text, addr.u.sa.sa_family, cases[i].canonical);
        }

        port = ntohs(cases[i].family == AF_INET ? addr.u.sin.sin_port
                                                : addr.u.sin6.sin6_port);

        if (port != cases[i].port
            || addr.socklen != (cases[i].family == AF_INET
                                ? sizeof(struct sockaddr_in)
                                : sizeof(struct sockaddr_in6)))
        {
            fail_msg("%s: port %u socklen %u", msg, port,
                     (unsigned) addr.socklen);
        }
    }
}


static void
test_addr_long(void **state)
{
    char                   buf[300];
    const char            *why;
    ngx_autoscale_addr_t   addr;

    (void) state;

    memset(buf, '1', sizeof(buf));
    assert_int_equal(ngx_autoscale_addr_parse(buf, sizeof(buf), &addr, &why),
                     -1);
    assert_string_equal(why, "it must be 1 to 47 characters");

    /* the longest IPv6 text fits, canonical or not */
    snprintf(buf, sizeof(buf), "[2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"
             ":65535");
    assert_int_equal(ngx_autoscale_addr_parse(buf, strlen(buf), &addr, &why),
                     0);
    assert_string_equal(addr.text, buf);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_addr_table),
        cmocka_unit_test(test_addr_long)
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
