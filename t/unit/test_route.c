/*
 * Unit tests of src/ngx_autoscale_route.c: API routing, ids, query strings.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_autoscale_route.h"


#define NOT_FOUND_TEXT   "no such API path"
#define BAD_ID_TEXT      "cluster id must be 1 to 100 letters, digits, " \
                         "'-' or '_'"
#define UNKNOWN_TEXT     "unknown query parameter"
#define PAGE_TEXT        "query parameter 'page' must be an integer " \
                         "from 1 to 1000000"
#define PAGE_SIZE_TEXT   "query parameter 'page_size' must be an integer " \
                         "from 1 to 100"
#define STATUS_TEXT      "query parameter 'status' has an unknown value"
#define TYPE_TEXT        "query parameter 'type' must be 1 to 50 letters, " \
                         "digits, '-' or '_'"


/* the same table as the list endpoint uses */
static const ngx_autoscale_arg_spec_t  list_spec[] = {
    { "status", NGX_AUTOSCALE_ARG_WORD, 0, 0,
      ngx_autoscale_cluster_statuses },
    { "type", NGX_AUTOSCALE_ARG_WORD, 1, 50, NULL },
    { "page", NGX_AUTOSCALE_ARG_INT, 1, 1000000, NULL },
    { "page_size", NGX_AUTOSCALE_ARG_INT, 1, 100, NULL }
};

#define NLIST  (sizeof(list_spec) / sizeof(list_spec[0]))

enum { A_STATUS, A_TYPE, A_PAGE, A_PAGE_SIZE };


/* wide bounds and a 100-long id */
static const ngx_autoscale_arg_spec_t  wide_spec[] = {
    { "n", NGX_AUTOSCALE_ARG_INT, 0, LLONG_MAX, NULL },
    { "id", NGX_AUTOSCALE_ARG_WORD, 1, NGX_AUTOSCALE_ID_MAX, NULL }
};

#define NWIDE  (sizeof(wide_spec) / sizeof(wide_spec[0]))


/* a copy with no terminating NUL, so ASan sees any overread */
static char *
exact(const char *s, size_t len)
{
    char  *p;

    p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);

    return p;
}


static char *
repeat(const char *unit, size_t times)
{
    char    *p;
    size_t   i, n;

    n = strlen(unit);
    p = malloc(n * times + 1);
    assert_non_null(p);

    for (i = 0; i < times; i++) {
        memcpy(p + i * n, unit, n);
    }

    p[n * times] = '\0';

    return p;
}


static void
err_init(ngx_autoscale_err_t *err)
{
    memset(err, 0, sizeof(*err));
    err->status = -7;
    err->code = "untouched";
}


static void
assert_err(const ngx_autoscale_err_t *err, int status, const char *code,
    const char *text)
{
    assert_int_equal(err->status, status);
    assert_non_null(err->code);
    assert_string_equal(err->code, code);
    assert_string_equal(err->text, text);
}


static void
assert_err_untouched(const ngx_autoscale_err_t *err)
{
    assert_int_equal(err->status, -7);
    assert_string_equal(err->code, "untouched");
    assert_string_equal(err->text, "");
}


/* routes path[0..len), on an exact copy */
static int
route_n(const char *path, size_t len, ngx_autoscale_route_t *rt,
    ngx_autoscale_err_t *err, char **buf)
{
    *buf = exact(path, len);
    memset(rt, 0x5a, sizeof(*rt));
    err_init(err);

    return ngx_autoscale_route(*buf, len, rt, err);
}


static void
expect_clusters(const char *path)
{
    char                   *buf;
    ngx_autoscale_err_t     err;
    ngx_autoscale_route_t   rt;

    assert_int_equal(route_n(path, strlen(path), &rt, &err, &buf), 0);
    assert_int_equal(rt.route, NGX_AUTOSCALE_ROUTE_CLUSTERS);
    assert_int_equal(rt.methods, NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD);
    assert_null(rt.id);
    assert_int_equal(rt.id_len, 0);
    assert_err_untouched(&err);

    free(buf);
}


static void
expect_cluster_n(const char *path, size_t len, size_t id_off, size_t id_len)
{
    char                   *buf;
    ngx_autoscale_err_t     err;
    ngx_autoscale_route_t   rt;

    assert_int_equal(route_n(path, len, &rt, &err, &buf), 0);
    assert_int_equal(rt.route, NGX_AUTOSCALE_ROUTE_CLUSTER);
    assert_int_equal(rt.methods, NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD);
    assert_ptr_equal(rt.id, buf + id_off);
    assert_int_equal(rt.id_len, id_len);
    assert_err_untouched(&err);

    free(buf);
}


static void
expect_cluster(const char *path, size_t id_off, size_t id_len)
{
    expect_cluster_n(path, strlen(path), id_off, id_len);
}


static void
expect_route_err_n(const char *path, size_t len, int status,
    const char *code, const char *text)
{
    char                   *buf;
    ngx_autoscale_err_t     err;
    ngx_autoscale_route_t   rt;

    assert_int_equal(route_n(path, len, &rt, &err, &buf), -1);
    assert_err(&err, status, code, text);

    /* nothing half-filled is left behind */
    assert_int_equal(rt.route, 0);
    assert_int_equal(rt.methods, 0);
    assert_null(rt.id);
    assert_int_equal(rt.id_len, 0);

    free(buf);
}


static void
expect_404(const char *path)
{
    expect_route_err_n(path, strlen(path), 404, "NotFound", NOT_FOUND_TEXT);
}


static void
expect_bad_id(const char *path)
{
    expect_route_err_n(path, strlen(path), 400, "InvalidId", BAD_ID_TEXT);
}


static void
test_route_clusters(void **state)
{
    (void) state;

    expect_clusters("clusters");
    expect_clusters("/clusters");
    expect_clusters("clusters/");
    expect_clusters("/clusters/");
}


static void
test_route_cluster_id(void **state)
{
    (void) state;

    expect_cluster("clusters/abc", 9, 3);
    expect_cluster("/clusters/abc", 10, 3);
    expect_cluster("/clusters/abc/", 10, 3);
    expect_cluster("clusters/x/", 9, 1);
    expect_cluster("/clusters/x", 10, 1);
    expect_cluster("/clusters/aZ09-_", 10, 6);
    expect_cluster("/clusters/-", 10, 1);
    expect_cluster("/clusters/_", 10, 1);
    expect_cluster("/clusters/0", 10, 1);
}


static void
test_route_id_length(void **state)
{
    char  *id, path[1100];

    (void) state;

    id = repeat("a", 100);
    snprintf(path, sizeof(path), "/clusters/%s", id);
    expect_cluster(path, 10, 100);
    snprintf(path, sizeof(path), "/clusters/%s/", id);
    expect_cluster(path, 10, 100);
    free(id);

    id = repeat("a", 101);
    snprintf(path, sizeof(path), "/clusters/%s", id);
    expect_bad_id(path);
    snprintf(path, sizeof(path), "/clusters/%s/", id);
    expect_bad_id(path);
    free(id);

    id = repeat("Z", 1000);
    snprintf(path, sizeof(path), "/clusters/%s", id);
    expect_bad_id(path);
    free(id);
}


/* every byte value inside an id */
static void
test_route_id_every_byte(void **state)
{
    int                     c, valid;
    char                    path[] = "/clusters/aXb";
    size_t                  len = sizeof(path) - 1;

    (void) state;

    for (c = 0; c < 256; c++) {
        path[11] = (char) c;

        valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '-' || c == '_';

        if (valid) {
            expect_cluster_n(path, len, 10, 3);

        } else if (c == '/') {
            /* three segments */
            expect_route_err_n(path, len, 404, "NotFound", NOT_FOUND_TEXT);

        } else {
            expect_route_err_n(path, len, 400, "InvalidId", BAD_ID_TEXT);
        }
    }
}


static void
test_route_id_odd(void **state)
{
    (void) state;

    expect_bad_id("/clusters/%00");
    expect_bad_id("/clusters/a%2Fb");
    expect_bad_id("/clusters/..");
    expect_bad_id("/clusters/.");
    expect_bad_id("/clusters/..%2F");
    expect_bad_id("/clusters/a b");
    expect_bad_id("/clusters/a+b");
    expect_bad_id("/clusters/a.json");
    expect_bad_id("/clusters/a?b");
    expect_bad_id("/clusters/\xc3\xa9");

    /* a NUL byte in the middle of a decoded uri */
    expect_route_err_n("/clusters/a\0b", 13, 400, "InvalidId", BAD_ID_TEXT);
}


static void
test_route_not_found(void **state)
{
    (void) state;

    expect_404("");
    expect_404("/");
    expect_404("//");
    expect_404("///");
    expect_404("//clusters");
    expect_404("clusters//");
    expect_404("/clusters//");
    expect_404("clusters//x");
    expect_404("/clusters//x");
    expect_404("clusters/x//");
    expect_404("clusters/x/y");
    expect_404("clusters/x/y/");
    expect_404("clusters/x/y/z");
    expect_404("clusters/x/y/z/w/v");
    expect_404("clusters/../x");
    expect_404("../clusters");
    expect_404("/../clusters/x");
    expect_404("Clusters");
    expect_404("CLUSTERS");
    expect_404("cluster");
    expect_404("clustersx");
    expect_404("clusters.json");
    expect_404("x/clusters");
    expect_404("x");
    expect_404("/clusters%2Fx");
    expect_404(" clusters");

    /* the name is checked before the id */
    expect_404("/nodes/bad.id");
}


/* only len bytes count */
static void
test_route_len(void **state)
{
    char                   *buf;
    ngx_autoscale_err_t     err;
    ngx_autoscale_route_t   rt;

    (void) state;

    expect_cluster_n("/clusters/abcdef", 13, 10, 3);
    expect_cluster_n("/clusters/abc/def", 14, 10, 3);
    expect_route_err_n("/clusters/abc", 0, 404, "NotFound", NOT_FOUND_TEXT);
    expect_route_err_n("/clusters/abc", 5, 404, "NotFound", NOT_FOUND_TEXT);

    assert_int_equal(route_n("/clusters/abc", 9, &rt, &err, &buf), 0);
    assert_int_equal(rt.route, NGX_AUTOSCALE_ROUTE_CLUSTERS);
    free(buf);

    assert_int_equal(route_n("/clusters/abc", 10, &rt, &err, &buf), 0);
    assert_int_equal(rt.route, NGX_AUTOSCALE_ROUTE_CLUSTERS);
    free(buf);
}


/* the handler passes NULL, 0 when the uri is shorter than the prefix */
static void
test_route_null_empty(void **state)
{
    ngx_autoscale_err_t     err;
    ngx_autoscale_route_t   rt;

    (void) state;

    err_init(&err);
    assert_int_equal(ngx_autoscale_route(NULL, 0, &rt, &err), -1);
    assert_err(&err, 404, "NotFound", NOT_FOUND_TEXT);
}


static void
test_valid_id(void **state)
{
    int    c, valid;
    char  *buf, one;

    (void) state;

    assert_int_equal(ngx_autoscale_valid_id("", 0), 0);
    assert_int_equal(ngx_autoscale_valid_id("abc", 0), 0);

    for (c = 0; c < 256; c++) {
        one = (char) c;
        valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '-' || c == '_';
        assert_int_equal(ngx_autoscale_valid_id(&one, 1), valid);
    }

    /* the neighbours of each range, inside a longer id */
    assert_int_equal(ngx_autoscale_valid_id("ab/", 3), 0);
    assert_int_equal(ngx_autoscale_valid_id("ab:", 3), 0);
    assert_int_equal(ngx_autoscale_valid_id("ab@", 3), 0);
    assert_int_equal(ngx_autoscale_valid_id("ab[", 3), 0);
    assert_int_equal(ngx_autoscale_valid_id("ab`", 3), 0);
    assert_int_equal(ngx_autoscale_valid_id("ab{", 3), 0);
    assert_int_equal(ngx_autoscale_valid_id("azAZ09-_", 8), 1);

    /* only len bytes are looked at */
    assert_int_equal(ngx_autoscale_valid_id("ab.", 2), 1);

    buf = repeat("x", 101);
    assert_int_equal(ngx_autoscale_valid_id(buf, 100), 1);
    assert_int_equal(ngx_autoscale_valid_id(buf, 101), 0);
    assert_int_equal(ngx_autoscale_valid_id(buf, 1), 1);
    free(buf);
}


static void
test_set_err(void **state)
{
    char                 *long_text;
    const char           *code = "SomeCode";
    ngx_autoscale_err_t   err;

    (void) state;

    err_init(&err);
    ngx_autoscale_set_err(&err, 418, code, "x=%d y=%s z=%.*s", 5, "s", 2,
                          "abc");
    assert_int_equal(err.status, 418);
    assert_ptr_equal(err.code, code);
    assert_string_equal(err.text, "x=5 y=s z=ab");

    /* truncated to the buffer, still terminated */
    long_text = repeat("q", 1000);
    ngx_autoscale_set_err(&err, 500, "Long", "%s", long_text);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.code, "Long");
    assert_int_equal(strlen(err.text), NGX_AUTOSCALE_ERR_TEXT - 1);
    assert_memory_equal(err.text, long_text, NGX_AUTOSCALE_ERR_TEXT - 1);
    free(long_text);
}


/* parses args[0..len) on an exact copy; out is filled with junk first */
static int
parse_n(const char *args, size_t len, const ngx_autoscale_arg_spec_t *spec,
    size_t nspec, ngx_autoscale_arg_t *out, ngx_autoscale_err_t *err)
{
    int    rc;
    char  *buf;

    buf = exact(args, len);
    memset(out, 0x5a, nspec * sizeof(ngx_autoscale_arg_t));
    err_init(err);

    rc = ngx_autoscale_parse_args(buf, len, spec, nspec, out, err);

    free(buf);

    return rc;
}


static int
parse_list(const char *args, ngx_autoscale_arg_t *out,
    ngx_autoscale_err_t *err)
{
    return parse_n(args, strlen(args), list_spec, NLIST, out, err);
}


static int
parse_wide(const char *args, ngx_autoscale_arg_t *out,
    ngx_autoscale_err_t *err)
{
    return parse_n(args, strlen(args), wide_spec, NWIDE, out, err);
}


static void
expect_list_ok_none(const char *args)
{
    size_t                i;
    ngx_autoscale_arg_t   out[NLIST];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_list(args, out, &err), 0);
    assert_err_untouched(&err);

    for (i = 0; i < NLIST; i++) {
        assert_int_equal(out[i].present, 0);
        assert_int_equal(out[i].num, 0);
        assert_string_equal(out[i].str, "");
    }
}


static void
expect_list_err(const char *args, const char *text)
{
    ngx_autoscale_arg_t   out[NLIST];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_list(args, out, &err), -1);
    assert_err(&err, 400, "InvalidQuery", text);
}


static void
expect_wide_err(const char *args, const char *text)
{
    ngx_autoscale_arg_t   out[NWIDE];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_wide(args, out, &err), -1);
    assert_err(&err, 400, "InvalidQuery", text);
}


static void
expect_list_num(const char *args, size_t idx, long long num)
{
    size_t                i;
    ngx_autoscale_arg_t   out[NLIST];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_list(args, out, &err), 0);
    assert_err_untouched(&err);

    for (i = 0; i < NLIST; i++) {
        assert_int_equal(out[i].present, i == idx);
    }

    assert_true(out[idx].num == num);
}


static void
expect_list_str(const char *args, size_t idx, const char *str)
{
    size_t                i;
    ngx_autoscale_arg_t   out[NLIST];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_list(args, out, &err), 0);
    assert_err_untouched(&err);

    for (i = 0; i < NLIST; i++) {
        assert_int_equal(out[i].present, i == idx);
    }

    assert_string_equal(out[idx].str, str);
}


static void
expect_wide_num(const char *args, long long num)
{
    ngx_autoscale_arg_t   out[NWIDE];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_wide(args, out, &err), 0);
    assert_int_equal(out[0].present, 1);
    assert_int_equal(out[1].present, 0);
    assert_true(out[0].num == num);
}


static void
test_args_empty(void **state)
{
    ngx_autoscale_arg_t   out[NLIST];
    ngx_autoscale_err_t   err;

    (void) state;

    expect_list_ok_none("");
    expect_list_ok_none("&");
    expect_list_ok_none("&&");
    expect_list_ok_none("&&&&&");

    /* nginx has NULL data when there are no args */
    memset(out, 0x5a, sizeof(out));
    err_init(&err);
    assert_int_equal(ngx_autoscale_parse_args(NULL, 0, list_spec, NLIST, out,
                                              &err), 0);
    assert_int_equal(out[0].present, 0);
    assert_int_equal(out[3].present, 0);
    assert_err_untouched(&err);
}


static void
test_args_all(void **state)
{
    ngx_autoscale_arg_t   out[NLIST];
    ngx_autoscale_err_t   err;

    (void) state;

    assert_int_equal(parse_list("status=active&type=web-1_X&page=7"
                                "&page_size=100", out, &err), 0);
    assert_err_untouched(&err);
    assert_int_equal(out[A_STATUS].present, 1);
    assert_string_equal(out[A_STATUS].str, "active");
    assert_int_equal(out[A_TYPE].present, 1);
    assert_string_equal(out[A_TYPE].str, "web-1_X");
    assert_int_equal(out[A_PAGE].present, 1);
    assert_int_equal(out[A_PAGE].num, 7);
    assert_int_equal(out[A_PAGE_SIZE].present, 1);
    assert_int_equal(out[A_PAGE_SIZE].num, 100);

    /* any order, empty pairs around */
    assert_int_equal(parse_list("&&page_size=3&&&page=2&", out, &err), 0);
    assert_int_equal(out[A_STATUS].present, 0);
    assert_int_equal(out[A_TYPE].present, 0);
    assert_int_equal(out[A_PAGE].num, 2);
    assert_int_equal(out[A_PAGE_SIZE].num, 3);
}


static void
test_args_int_bounds(void **state)
{
    (void) state;

    expect_list_err("page=0", PAGE_TEXT);
    expect_list_num("page=1", A_PAGE, 1);
    expect_list_num("page=2", A_PAGE, 2);
    expect_list_num("page=999999", A_PAGE, 999999);
    expect_list_num("page=1000000", A_PAGE, 1000000);
    expect_list_err("page=1000001", PAGE_TEXT);

    expect_list_err("page_size=0", PAGE_SIZE_TEXT);
    expect_list_num("page_size=1", A_PAGE_SIZE, 1);
    expect_list_num("page_size=100", A_PAGE_SIZE, 100);
    expect_list_err("page_size=101", PAGE_SIZE_TEXT);

    /* leading zeros and encoded digits are still decimal */
    expect_list_num("page=0007", A_PAGE, 7);
    expect_list_num("page_size=000000000000000100", A_PAGE_SIZE, 100);
    expect_list_num("page=%31%32", A_PAGE, 12);
}


static void
test_args_int_malformed(void **state)
{
    (void) state;

    expect_list_err("page", PAGE_TEXT);
    expect_list_err("page=", PAGE_TEXT);
    expect_list_err("page=+5", PAGE_TEXT);
    expect_list_err("page=%2B5", PAGE_TEXT);
    expect_list_err("page=-5", PAGE_TEXT);
    expect_list_err("page=-0", PAGE_TEXT);
    expect_list_err("page=%2D1", PAGE_TEXT);
    expect_list_err("page=5+", PAGE_TEXT);
    expect_list_err("page=%205", PAGE_TEXT);
    expect_list_err("page=5a", PAGE_TEXT);
    expect_list_err("page=a5", PAGE_TEXT);
    expect_list_err("page=0x10", PAGE_TEXT);
    expect_list_err("page=1e3", PAGE_TEXT);
    expect_list_err("page=1.0", PAGE_TEXT);
    expect_list_err("page=1,2", PAGE_TEXT);
    expect_list_err("page=5=6", PAGE_TEXT);
    expect_list_err("page=5%00", PAGE_TEXT);
    expect_list_err("page=%", PAGE_TEXT);
    expect_list_err("page=%3", PAGE_TEXT);
    expect_list_err("page=%3g", PAGE_TEXT);
    expect_list_err("page=%g3", PAGE_TEXT);
    expect_list_err("page=1%", PAGE_TEXT);
    expect_list_err("page=1%3", PAGE_TEXT);
    expect_list_err("page=\xd9\xa1", PAGE_TEXT);
}


static void
test_args_int_overflow(void **state)
{
    char  *digits, args[256];

    (void) state;

    expect_wide_num("n=0", 0);
    expect_wide_num("n=999999999999999999", 999999999999999999LL);
    expect_wide_num("n=000000000000000001", 1);
    expect_wide_num("n=123456789012345678", 123456789012345678LL);

    /* 19 digits and more are refused, not wrapped */
    expect_wide_err("n=1000000000000000000",
                    "query parameter 'n' must be an integer from 0 to "
                    "9223372036854775807");
    expect_wide_err("n=9223372036854775807",
                    "query parameter 'n' must be an integer from 0 to "
                    "9223372036854775807");
    expect_wide_err("n=0000000000000000001",
                    "query parameter 'n' must be an integer from 0 to "
                    "9223372036854775807");
    expect_wide_err("n=18446744073709551617",
                    "query parameter 'n' must be an integer from 0 to "
                    "9223372036854775807");
    expect_wide_err("n=-1",
                    "query parameter 'n' must be an integer from 0 to "
                    "9223372036854775807");

    digits = repeat("9", 200);
    snprintf(args, sizeof(args), "page=%s", digits);
    expect_list_err(args, PAGE_TEXT);
    free(digits);

    /* 18 digits, just over the page bound */
    expect_list_err("page=999999999999999999", PAGE_TEXT);
}


static void
test_args_choices(void **state)
{
    size_t  i;
    char    args[64];

    (void) state;

    for (i = 0; ngx_autoscale_cluster_statuses[i]; i++) {
        snprintf(args, sizeof(args), "status=%s",
                 ngx_autoscale_cluster_statuses[i]);
        expect_list_str(args, A_STATUS, ngx_autoscale_cluster_statuses[i]);
    }

    assert_int_equal(i, 8);

    expect_list_str("status=act%69ve", A_STATUS, "active");
    expect_list_str("status=%61%63%74%69%76%65", A_STATUS, "active");
    expect_list_str("status=scaling%5Fup", A_STATUS, "scaling_up");
    expect_list_str("status=scaling%5fup", A_STATUS, "scaling_up");

    expect_list_err("status", STATUS_TEXT);
    expect_list_err("status=", STATUS_TEXT);
    expect_list_err("status=ACTIVE", STATUS_TEXT);
    expect_list_err("status=activ", STATUS_TEXT);
    expect_list_err("status=actives", STATUS_TEXT);
    expect_list_err("status=active+", STATUS_TEXT);
    expect_list_err("status=+active", STATUS_TEXT);
    expect_list_err("status=active%00", STATUS_TEXT);
    expect_list_err("status=scaling+up", STATUS_TEXT);
    expect_list_err("status=%zz", STATUS_TEXT);
    expect_list_err("status=activ%", STATUS_TEXT);
    expect_list_err("status=activ%6", STATUS_TEXT);
    expect_list_err("status=unknown", STATUS_TEXT);
}


/* '+' is a space, "%2B" a plus */
static void
test_args_plus(void **state)
{
    ngx_autoscale_arg_t   out[1];
    ngx_autoscale_err_t   err;

    static const char *const  choices[] = { "a b", "c+d", NULL };
    static const ngx_autoscale_arg_spec_t  spec[] = {
        { "v", NGX_AUTOSCALE_ARG_WORD, 0, 0, choices }
    };

    (void) state;

    assert_int_equal(parse_n("v=a+b", 5, spec, 1, out, &err), 0);
    assert_string_equal(out[0].str, "a b");
    assert_int_equal(parse_n("v=a%20b", 7, spec, 1, out, &err), 0);
    assert_string_equal(out[0].str, "a b");
    assert_int_equal(parse_n("v=c%2Bd", 7, spec, 1, out, &err), 0);
    assert_string_equal(out[0].str, "c+d");
    assert_int_equal(parse_n("v=c%2bd", 7, spec, 1, out, &err), 0);
    assert_string_equal(out[0].str, "c+d");

    assert_int_equal(parse_n("v=c+d", 5, spec, 1, out, &err), -1);
    assert_err(&err, 400, "InvalidQuery",
               "query parameter 'v' has an unknown value");
    assert_int_equal(parse_n("v=a%2Bb", 7, spec, 1, out, &err), -1);
    assert_err(&err, 400, "InvalidQuery",
               "query parameter 'v' has an unknown value");
}


static void
test_args_words(void **state)
{
    char  *word, args[512];

    (void) state;

    expect_list_str("type=web", A_TYPE, "web");
    expect_list_str("type=a", A_TYPE, "a");
    expect_list_str("type=aZ09-_", A_TYPE, "aZ09-_");
    expect_list_str("type=w%65b", A_TYPE, "web");
    expect_list_str("type=web&", A_TYPE, "web");

    word = repeat("a", 50);
    snprintf(args, sizeof(args), "type=%s", word);
    expect_list_str(args, A_TYPE, word);
    free(word);

    word = repeat("a", 51);
    snprintf(args, sizeof(args), "type=%s", word);
    expect_list_err(args, TYPE_TEXT);
    free(word);

    expect_list_err("type", TYPE_TEXT);
    expect_list_err("type=", TYPE_TEXT);
    expect_list_err("type=a.b", TYPE_TEXT);
    expect_list_err("type=a%2Fb", TYPE_TEXT);
    expect_list_err("type=..%2Fx", TYPE_TEXT);
    expect_list_err("type=a+b", TYPE_TEXT);
    expect_list_err("type=a%20b", TYPE_TEXT);
    expect_list_err("type=a%26b", TYPE_TEXT);
    expect_list_err("type=a%3Db", TYPE_TEXT);
    expect_list_err("type=%00", TYPE_TEXT);
    expect_list_err("type=a%00b", TYPE_TEXT);
    expect_list_err("type=%C3%A9", TYPE_TEXT);
    expect_list_err("type=a'b", TYPE_TEXT);
    expect_list_err("type=a=b", TYPE_TEXT);
    expect_list_err("type=ab%", TYPE_TEXT);
    expect_list_err("type=ab%4", TYPE_TEXT);
    expect_list_err("type=ab%4x", TYPE_TEXT);
}


/* the value buffer holds 300 decoded bytes */
static void
test_args_long_values(void **state)
{
    char                  *val, *args;
    size_t                 n;
    ngx_autoscale_arg_t    out[NWIDE];
    ngx_autoscale_err_t    err;

    (void) state;

    /* 300 encoded bytes decode to a 100-long id */
    val = repeat("%41", 100);
    n = strlen(val) + 4;
    args = malloc(n);
    assert_non_null(args);
    snprintf(args, n, "id=%s", val);
    assert_int_equal(parse_wide(args, out, &err), 0);
    assert_int_equal(out[1].present, 1);
    assert_int_equal(strlen(out[1].str), 100);
    assert_int_equal(strspn(out[1].str, "A"), 100);
    free(args);
    free(val);

    val = repeat("%41", 101);
    n = strlen(val) + 4;
    args = malloc(n);
    assert_non_null(args);
    snprintf(args, n, "id=%s", val);
    expect_wide_err(args, "query parameter 'id' must be 1 to 100 letters, "
                    "digits, '-' or '_'");
    free(args);
    free(val);

    /* longer than the buffer: refused, for each kind */
    val = repeat("b", 5000);
    n = strlen(val) + 16;
    args = malloc(n);
    assert_non_null(args);

    snprintf(args, n, "id=%s", val);
    expect_wide_err(args, "query parameter 'id' must be 1 to 100 letters, "
                    "digits, '-' or '_'");
    snprintf(args, n, "type=%s", val);
    expect_list_err(args, TYPE_TEXT);
    snprintf(args, n, "status=%s", val);
    expect_list_err(args, STATUS_TEXT);
    snprintf(args, n, "page=%s", val);
    expect_list_err(args, PAGE_TEXT);

    /* exactly 300 and 301 bytes, both too long for a word */
    val[300] = '\0';
    snprintf(args, n, "type=%s", val);
    expect_list_err(args, TYPE_TEXT);
    val[300] = 'b';
    val[301] = '\0';
    snprintf(args, n, "type=%s", val);
    expect_list_err(args, TYPE_TEXT);

    free(args);
    free(val);
}


static void
test_args_keys(void **state)
{
    (void) state;

    expect_list_num("pa%67e=3", A_PAGE, 3);
    expect_list_num("%70%61%67%65=3", A_PAGE, 3);
    expect_list_num("page%5Fsize=4", A_PAGE_SIZE, 4);
    expect_list_num("page%5fsize=4", A_PAGE_SIZE, 4);

    /* a well-formed unknown name is echoed */
    expect_list_err("foo=1", UNKNOWN_TEXT " 'foo'");
    expect_list_err("foo", UNKNOWN_TEXT " 'foo'");
    expect_list_err("PAGE=1", UNKNOWN_TEXT " 'PAGE'");
    expect_list_err("pages=1", UNKNOWN_TEXT " 'pages'");
    expect_list_err("pag=1", UNKNOWN_TEXT " 'pag'");
    expect_list_err("f%6Fo=1", UNKNOWN_TEXT " 'foo'");
    expect_list_err("page=1&limit=2", UNKNOWN_TEXT " 'limit'");
    expect_list_err("a-b_C9=1", UNKNOWN_TEXT " 'a-b_C9'");
}


/* an odd name is never put into the message */
static void
test_args_odd_keys(void **state)
{
    char  *name, args[2048];

    (void) state;

    expect_list_err("=1", UNKNOWN_TEXT);
    expect_list_err("=", UNKNOWN_TEXT);
    expect_list_err("==", UNKNOWN_TEXT);
    expect_list_err("a'b=1", UNKNOWN_TEXT);
    expect_list_err("a%27b=1", UNKNOWN_TEXT);
    expect_list_err("%3Cscript%3E=1", UNKNOWN_TEXT);
    expect_list_err("<script>=1", UNKNOWN_TEXT);
    expect_list_err("a+b=1", UNKNOWN_TEXT);
    expect_list_err("a%20b=1", UNKNOWN_TEXT);
    expect_list_err("a%22b=1", UNKNOWN_TEXT);
    expect_list_err("a%0Ab=1", UNKNOWN_TEXT);
    expect_list_err("page%00=1", UNKNOWN_TEXT);
    expect_list_err("%00=1", UNKNOWN_TEXT);
    expect_list_err("%=1", UNKNOWN_TEXT);
    expect_list_err("%zz=1", UNKNOWN_TEXT);
    expect_list_err("pag%=1", UNKNOWN_TEXT);
    expect_list_err("pag%6=1", UNKNOWN_TEXT);
    expect_list_err("%25s%25s%25n=1", UNKNOWN_TEXT);
    expect_list_err("%s%n=1", UNKNOWN_TEXT);
    expect_list_err("\xc3\xa9=1", UNKNOWN_TEXT);
    expect_list_err("page.=1", UNKNOWN_TEXT);
    expect_list_err(" page=1", UNKNOWN_TEXT);

    /* 32 decoded bytes fit the name buffer, 33 do not */
    name = repeat("k", 32);
    snprintf(args, sizeof(args), "%s=1", name);
    expect_list_err(args, UNKNOWN_TEXT " 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'");
    free(name);

    name = repeat("k", 33);
    snprintf(args, sizeof(args), "%s=1", name);
    expect_list_err(args, UNKNOWN_TEXT);
    free(name);

    name = repeat("%6B", 33);
    snprintf(args, sizeof(args), "%s=1", name);
    expect_list_err(args, UNKNOWN_TEXT);
    free(name);

    name = repeat("k", 1000);
    snprintf(args, sizeof(args), "%s=1", name);
    expect_list_err(args, UNKNOWN_TEXT);
    free(name);
}


static void
test_args_duplicates(void **state)
{
    (void) state;

    expect_list_err("page=1&page=2",
                    "query parameter 'page' is given twice");
    expect_list_err("page=1&page=1",
                    "query parameter 'page' is given twice");
    expect_list_err("page=1&pa%67e=2",
                    "query parameter 'page' is given twice");
    expect_list_err("page=1&page",
                    "query parameter 'page' is given twice");
    expect_list_err("page=1&page=bad",
                    "query parameter 'page' is given twice");
    expect_list_err("status=active&type=x&status=active",
                    "query parameter 'status' is given twice");
    expect_list_err("type=a&&type=b",
                    "query parameter 'type' is given twice");
    expect_list_err("page_size=5&page=1&page_size=5",
                    "query parameter 'page_size' is given twice");
}


/* the first problem is the one reported */
static void
test_args_first_error(void **state)
{
    (void) state;

    expect_list_err("page=0&foo=1", PAGE_TEXT);
    expect_list_err("foo=1&page=0", UNKNOWN_TEXT " 'foo'");
    expect_list_err("page=1&page_size=0&page=2", PAGE_SIZE_TEXT);
    expect_list_err("type=ok&status=bad&x%00=1", STATUS_TEXT);
}


/* only len bytes are parsed */
static void
test_args_len(void **state)
{
    ngx_autoscale_arg_t   out[NLIST];
    ngx_autoscale_err_t   err;

    (void) state;

    assert_int_equal(parse_n("page=12345", 6, list_spec, NLIST, out, &err),
                     0);
    assert_int_equal(out[A_PAGE].present, 1);
    assert_int_equal(out[A_PAGE].num, 1);

    assert_int_equal(parse_n("page=1&foo=2", 6, list_spec, NLIST, out, &err),
                     0);
    assert_int_equal(out[A_PAGE].num, 1);

    /* a '%' cut off by len is malformed */
    assert_int_equal(parse_n("page=1%32", 7, list_spec, NLIST, out, &err),
                     -1);
    assert_err(&err, 400, "InvalidQuery", PAGE_TEXT);

    /* cut before '=': a name with no value */
    assert_int_equal(parse_n("type=ab", 4, list_spec, NLIST, out, &err), -1);
    assert_err(&err, 400, "InvalidQuery", TYPE_TEXT);
    assert_int_equal(parse_n("pageX=1", 4, list_spec, NLIST, out, &err), -1);
    assert_err(&err, 400, "InvalidQuery", PAGE_TEXT);

    assert_int_equal(parse_n("type=ab", 6, list_spec, NLIST, out, &err), 0);
    assert_string_equal(out[A_TYPE].str, "a");
    assert_int_equal(out[A_PAGE].present, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_route_clusters),
        cmocka_unit_test(test_route_cluster_id),
        cmocka_unit_test(test_route_id_length),
        cmocka_unit_test(test_route_id_every_byte),
        cmocka_unit_test(test_route_id_odd),
        cmocka_unit_test(test_route_not_found),
        cmocka_unit_test(test_route_len),
        cmocka_unit_test(test_route_null_empty),
        cmocka_unit_test(test_valid_id),
        cmocka_unit_test(test_set_err),
        cmocka_unit_test(test_args_empty),
        cmocka_unit_test(test_args_all),
        cmocka_unit_test(test_args_int_bounds),
        cmocka_unit_test(test_args_int_malformed),
        cmocka_unit_test(test_args_int_overflow),
        cmocka_unit_test(test_args_choices),
        cmocka_unit_test(test_args_plus),
        cmocka_unit_test(test_args_words),
        cmocka_unit_test(test_args_long_values),
        cmocka_unit_test(test_args_keys),
        cmocka_unit_test(test_args_odd_keys),
        cmocka_unit_test(test_args_duplicates),
        cmocka_unit_test(test_args_first_error),
        cmocka_unit_test(test_args_len),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
