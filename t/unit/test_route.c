/*
 * Unit tests of src/ngx_autoscale_route.c: API routing, ids, query strings.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_autoscale_route.h"


#define NOT_FOUND_TEXT   "no such API path"
#define BAD_ID_TEXT      "cluster id must be 1 to 100 letters, digits, " \
                         "'-' or '_'"
#define BAD_BP_ID_TEXT   "blueprint id must be 1 to 100 letters, digits, " \
                         "'-' or '_'"
#define UNKNOWN_TEXT     "unknown query parameter"
#define PAGE_TEXT        "query parameter 'page' must be an integer " \
                         "from 1 to 1000000"
#define PAGE_SIZE_TEXT   "query parameter 'page_size' must be an integer " \
                         "from 1 to 100"
#define STATUS_TEXT      "query parameter 'status' has an unknown value"
#define TYPE_TEXT        "query parameter 'type' must be 1 to 50 letters, " \
                         "digits, '-' or '_'"


#define CLUSTERS_METHODS    (NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD        \
                             | NGX_AUTOSCALE_POST)
#define CLUSTER_METHODS     (NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD        \
                             | NGX_AUTOSCALE_PUT | NGX_AUTOSCALE_DELETE)
#define BLUEPRINTS_METHODS  (NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD        \
                             | NGX_AUTOSCALE_POST)


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


/* what one call to ngx_autoscale_route() gave */
typedef struct {
    int                     rc;
    ngx_autoscale_route_t   rt;
    ptrdiff_t               id_off;        /* -1: no id */
    ngx_autoscale_err_t     err;
} routed_t;


/* routes path[0..len) on an exact copy, freed before anything is asserted */
static void
route_n(const char *path, size_t len, routed_t *r)
{
    char  *buf;

    buf = exact(path, len);
    memset(&r->rt, 0x5a, sizeof(r->rt));
    err_init(&r->err);

    r->rc = ngx_autoscale_route(buf, len, &r->rt, &r->err);
    r->id_off = r->rt.id ? r->rt.id - buf : -1;

    free(buf);
}


static void
expect_route_n(const char *path, size_t len, ngx_autoscale_route_e route,
    unsigned methods, ptrdiff_t id_off, size_t id_len)
{
    routed_t  r;

    route_n(path, len, &r);

    assert_int_equal(r.rc, 0);
    assert_int_equal(r.rt.route, route);
    assert_int_equal(r.rt.methods, methods);
    assert_int_equal(r.id_off, id_off);
    assert_int_equal(r.rt.id_len, id_len);
    assert_err_untouched(&r.err);
}


static void
expect_route(const char *path, ngx_autoscale_route_e route, unsigned methods,
    ptrdiff_t id_off, size_t id_len)
{
    expect_route_n(path, strlen(path), route, methods, id_off, id_len);
}


static void
expect_clusters(const char *path)
{
    expect_route(path, NGX_AUTOSCALE_ROUTE_CLUSTERS, CLUSTERS_METHODS, -1, 0);
}


static void
expect_cluster_n(const char *path, size_t len, ptrdiff_t id_off,
    size_t id_len)
{
    expect_route_n(path, len, NGX_AUTOSCALE_ROUTE_CLUSTER, CLUSTER_METHODS,
                   id_off, id_len);
}


static void
expect_cluster(const char *path, ptrdiff_t id_off, size_t id_len)
{
    expect_cluster_n(path, strlen(path), id_off, id_len);
}


static void
expect_route_err_n(const char *path, size_t len, int status,
    const char *code, const char *text)
{
    routed_t  r;

    route_n(path, len, &r);

    assert_int_equal(r.rc, -1);
    assert_err(&r.err, status, code, text);

    /* nothing half-filled is left behind */
    assert_int_equal(r.rt.route, 0);
    assert_int_equal(r.rt.methods, 0);
    assert_null(r.rt.id);
    assert_int_equal(r.rt.id_len, 0);
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
expect_bad_bp_id(const char *path)
{
    expect_route_err_n(path, strlen(path), 400, "InvalidId", BAD_BP_ID_TEXT);
}


static void
test_method_bits(void **state)
{
    (void) state;

    assert_int_equal(NGX_AUTOSCALE_GET, 0x01);
    assert_int_equal(NGX_AUTOSCALE_HEAD, 0x02);
    assert_int_equal(NGX_AUTOSCALE_POST, 0x04);
    assert_int_equal(NGX_AUTOSCALE_PUT, 0x08);
    assert_int_equal(NGX_AUTOSCALE_DELETE, 0x10);
    assert_int_equal(NGX_AUTOSCALE_READS, 0x03);
    assert_int_equal(NGX_AUTOSCALE_WRITES, 0x1c);
    assert_int_equal(NGX_AUTOSCALE_READS & NGX_AUTOSCALE_WRITES, 0);
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


static const struct {
    const char             *name;
    ngx_autoscale_route_e   route;
    unsigned                methods;
} subs[] = {
    { "scale", NGX_AUTOSCALE_ROUTE_SCALE, NGX_AUTOSCALE_POST },
    { "hibernate", NGX_AUTOSCALE_ROUTE_HIBERNATE, NGX_AUTOSCALE_POST },
    { "reactivate", NGX_AUTOSCALE_ROUTE_REACTIVATE, NGX_AUTOSCALE_POST },
    { "workers", NGX_AUTOSCALE_ROUTE_WORKERS, NGX_AUTOSCALE_POST },
    { "metrics", NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS,
      NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD },
    { "events", NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS,
      NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD },
    { "agents", NGX_AUTOSCALE_ROUTE_CLUSTER_AGENTS,
      NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD }
};

#define AGENT_ID_TEXT                                                         \
    "agent id must be 1 to 100 letters, digits, '.', '-' or '_', "          \
    "beginning with a letter or digit"

#define NSUBS  (sizeof(subs) / sizeof(subs[0]))


static void
test_route_sub(void **state)
{
    char    path[256];
    size_t  i;

    (void) state;

    /* all thirteen routes are distinct */
    assert_int_equal(NGX_AUTOSCALE_ROUTE_CLUSTERS, 1);
    assert_int_equal(NGX_AUTOSCALE_ROUTE_PROMETHEUS, 13);

    for (i = 0; i < NSUBS; i++) {
        snprintf(path, sizeof(path), "clusters/c-1/%s", subs[i].name);
        expect_route(path, subs[i].route, subs[i].methods, 9, 3);

        snprintf(path, sizeof(path), "/clusters/c-1/%s", subs[i].name);
        expect_route(path, subs[i].route, subs[i].methods, 10, 3);

        snprintf(path, sizeof(path), "/clusters/c-1/%s/", subs[i].name);
        expect_route(path, subs[i].route, subs[i].methods, 10, 3);

        snprintf(path, sizeof(path), "/clusters/Z/%s", subs[i].name);
        expect_route(path, subs[i].route, subs[i].methods, 10, 1);
    }
}


static void
test_route_sub_bad_id(void **state)
{
    char    path[512], *id;
    size_t  i;

    (void) state;

    id = repeat("i", 101);

    for (i = 0; i < NSUBS; i++) {
        snprintf(path, sizeof(path), "/clusters/a.b/%s", subs[i].name);
        expect_bad_id(path);

        snprintf(path, sizeof(path), "/clusters/%%41/%s/", subs[i].name);
        expect_bad_id(path);

        snprintf(path, sizeof(path), "/clusters/%s/%s", id, subs[i].name);
        expect_bad_id(path);

        /* 100 is still an id */
        snprintf(path, sizeof(path), "/clusters/%.100s/%s", id,
                 subs[i].name);
        expect_route(path, subs[i].route, subs[i].methods, 10, 100);
    }

    free(id);
}


/* an unknown sub-resource is 404 even with a bad id */
static void
test_route_sub_unknown(void **state)
{
    char    path[256];
    size_t  i;

    (void) state;

    expect_404("/clusters/x/y");
    expect_404("/clusters/x/scal");
    expect_404("/clusters/x/scales");
    expect_404("/clusters/x/Scale");
    expect_404("/clusters/x/SCALE");
    expect_404("/clusters/x/metric");
    expect_404("/clusters/x/agents.json");
    expect_404("/clusters/x/scale%20");
    expect_404("/clusters/x/ scale");
    expect_404("/clusters/x/clusters");
    expect_404("/clusters/x/blueprints");
    expect_404("/clusters/a.b/nope");
    expect_404("/clusters/../nope");
    expect_404("/clusters//scale");
    expect_404("/clusters/x//");
    expect_404("/clusters/x/scale//");
    expect_404("//clusters/x/scale");

    for (i = 0; i < NSUBS; i++) {
        snprintf(path, sizeof(path), "/clusters/x/%s/y", subs[i].name);
        expect_404(path);
        snprintf(path, sizeof(path), "/clusters/x/%s/%s", subs[i].name,
                 subs[i].name);
        expect_404(path);
        snprintf(path, sizeof(path), "/clusters/%s", subs[i].name);
        expect_cluster(path, 10, strlen(subs[i].name));
        snprintf(path, sizeof(path), "/%s/x", subs[i].name);
        expect_404(path);
        snprintf(path, sizeof(path), "/blueprints/x/%s", subs[i].name);
        expect_404(path);
    }
}


static void
test_route_blueprints(void **state)
{
    char  *id, path[512];

    (void) state;

    expect_route("blueprints", NGX_AUTOSCALE_ROUTE_BLUEPRINTS,
                 BLUEPRINTS_METHODS, -1, 0);
    expect_route("/blueprints", NGX_AUTOSCALE_ROUTE_BLUEPRINTS,
                 BLUEPRINTS_METHODS, -1, 0);
    expect_route("/blueprints/", NGX_AUTOSCALE_ROUTE_BLUEPRINTS,
                 BLUEPRINTS_METHODS, -1, 0);

    expect_route("blueprints/bp-1", NGX_AUTOSCALE_ROUTE_BLUEPRINT,
                 NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, 11, 4);
    expect_route("/blueprints/bp-1", NGX_AUTOSCALE_ROUTE_BLUEPRINT,
                 NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, 12, 4);
    expect_route("/blueprints/aZ09-_/", NGX_AUTOSCALE_ROUTE_BLUEPRINT,
                 NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, 12, 6);

    id = repeat("b", 101);
    snprintf(path, sizeof(path), "/blueprints/%.100s", id);
    expect_route(path, NGX_AUTOSCALE_ROUTE_BLUEPRINT,
                 NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, 12, 100);
    snprintf(path, sizeof(path), "/blueprints/%s", id);
    expect_bad_bp_id(path);
    free(id);

    expect_bad_bp_id("/blueprints/a.b");
    expect_bad_bp_id("/blueprints/..");
    expect_bad_bp_id("/blueprints/a b/");
    expect_bad_bp_id("/blueprints/%41");
    expect_bad_bp_id("/blueprints/\xc3\xa9");
    expect_route_err_n("/blueprints/a\0b", 15, 400, "InvalidId",
                       BAD_BP_ID_TEXT);

    expect_404("blueprint");
    expect_404("Blueprints");
    expect_404("blueprintsx");
    expect_404("/blueprints//");
    expect_404("/blueprints//x");
    expect_404("/blueprints/x/y");
    expect_404("/blueprints/a.b/y");
    expect_404("/blueprints/x/y/z");
    expect_404("//blueprints");
    expect_404("/clusters/x/blueprints/y");
}


static void
test_route_heartbeat(void **state)
{
    routed_t  r;

    (void) state;

    route_n("clusters/c-1/agents/a.1_x-2/heartbeat",
            sizeof("clusters/c-1/agents/a.1_x-2/heartbeat") - 1, &r);

    assert_int_equal(r.rc, 0);
    assert_int_equal(r.rt.route, NGX_AUTOSCALE_ROUTE_HEARTBEAT);
    assert_int_equal(r.rt.methods, NGX_AUTOSCALE_POST);
    assert_int_equal(r.rt.id_len, 3);
    assert_int_equal(r.rt.agent_len, 7);
    assert_memory_equal(r.rt.agent, "a.1_x-2", 7);

    expect_route("/metrics", NGX_AUTOSCALE_ROUTE_PROMETHEUS,
                 NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, -1, 0);
    expect_route("metrics/", NGX_AUTOSCALE_ROUTE_PROMETHEUS,
                 NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, -1, 0);

    /* "." and ".." never name an agent; ids as the schema's CHECK */
    expect_route_err_n("clusters/c-1/agents/../heartbeat",
                       sizeof("clusters/c-1/agents/../heartbeat") - 1, 400,
                       "InvalidId", AGENT_ID_TEXT);
    expect_route_err_n("clusters/c-1/agents/-a/heartbeat",
                       sizeof("clusters/c-1/agents/-a/heartbeat") - 1, 400,
                       "InvalidId", AGENT_ID_TEXT);
    expect_route_err_n("clusters/c-1/agents/a b/heartbeat",
                       sizeof("clusters/c-1/agents/a b/heartbeat") - 1, 400,
                       "InvalidId", AGENT_ID_TEXT);
    expect_bad_id("clusters/c.1/agents/a/heartbeat");

    expect_404("clusters/c-1/agents/a");
    expect_404("clusters/c-1/agents/a/beat");
    expect_404("clusters/c-1/events/a/heartbeat");
    expect_404("clusters/c-1/agents/a/heartbeat/x");
    expect_404("metrics/x");
}


static void
test_valid_agent_id(void **state)
{
    char  id[102];

    (void) state;

    assert_true(ngx_autoscale_route_valid_agent_id("a", 1));
    assert_true(ngx_autoscale_route_valid_agent_id("9.x-y_z", 7));
    assert_false(ngx_autoscale_route_valid_agent_id("", 0));
    assert_false(ngx_autoscale_route_valid_agent_id(".", 1));
    assert_false(ngx_autoscale_route_valid_agent_id("_a", 2));
    assert_false(ngx_autoscale_route_valid_agent_id("a/b", 3));

    memset(id, 'a', sizeof(id));
    assert_true(ngx_autoscale_route_valid_agent_id(id, 100));
    assert_false(ngx_autoscale_route_valid_agent_id(id, 101));
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


/* every byte value inside an id, alone and before a sub-resource */
static void
test_route_id_every_byte(void **state)
{
    int          c, valid, slash, status;
    char         path[] = "/clusters/aXb";
    char         sub[] = "/clusters/aXb/events";
    char         bp[] = "/blueprints/aXb";
    const char  *code;

    (void) state;

    for (c = 0; c < 256; c++) {
        path[11] = (char) c;
        sub[11] = (char) c;
        bp[12] = (char) c;

        valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '-' || c == '_';

        if (valid) {
            expect_cluster_n(path, sizeof(path) - 1, 10, 3);
            expect_route_n(sub, sizeof(sub) - 1,
                           NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS,
                           NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, 10, 3);
            expect_route_n(bp, sizeof(bp) - 1,
                           NGX_AUTOSCALE_ROUTE_BLUEPRINT,
                           NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, 12, 3);

        } else {
            /* a '/': "b" is no sub-resource; four segments; blueprint 3 */
            slash = (c == '/');
            status = slash ? 404 : 400;
            code = slash ? "NotFound" : "InvalidId";

            expect_route_err_n(path, sizeof(path) - 1, status, code,
                               slash ? NOT_FOUND_TEXT : BAD_ID_TEXT);
            expect_route_err_n(sub, sizeof(sub) - 1, status, code,
                               slash ? NOT_FOUND_TEXT : BAD_ID_TEXT);
            expect_route_err_n(bp, sizeof(bp) - 1, status, code,
                               slash ? NOT_FOUND_TEXT : BAD_BP_ID_TEXT);
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
    expect_route_err_n("/clusters/a\0b/scale", 19, 400, "InvalidId",
                       BAD_ID_TEXT);
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
    (void) state;

    expect_cluster_n("/clusters/abcdef", 13, 10, 3);
    expect_cluster_n("/clusters/abc/def", 14, 10, 3);
    expect_route_err_n("/clusters/abc", 0, 404, "NotFound", NOT_FOUND_TEXT);
    expect_route_err_n("/clusters/abc", 5, 404, "NotFound", NOT_FOUND_TEXT);
    expect_route_n("/clusters/abc", 9, NGX_AUTOSCALE_ROUTE_CLUSTERS,
                   CLUSTERS_METHODS, -1, 0);
    expect_route_n("/clusters/abc", 10, NGX_AUTOSCALE_ROUTE_CLUSTERS,
                   CLUSTERS_METHODS, -1, 0);

    /* a longer word cut to a known one, and the other way round */
    expect_route_n("/clusters/abc/scalex", 19, NGX_AUTOSCALE_ROUTE_SCALE,
                   NGX_AUTOSCALE_POST, 10, 3);
    expect_route_n("/clusters/abc/scale/x", 20, NGX_AUTOSCALE_ROUTE_SCALE,
                   NGX_AUTOSCALE_POST, 10, 3);
    expect_route_err_n("/clusters/abc/scale", 18, 404, "NotFound",
                       NOT_FOUND_TEXT);
    expect_route_n("/blueprints/bp/x", 14, NGX_AUTOSCALE_ROUTE_BLUEPRINT,
                   NGX_AUTOSCALE_GET | NGX_AUTOSCALE_HEAD, 12, 2);
    expect_route_n("/blueprintsx", 11, NGX_AUTOSCALE_ROUTE_BLUEPRINTS,
                   BLUEPRINTS_METHODS, -1, 0);
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

    assert_int_equal(ngx_autoscale_route_valid_id("", 0), 0);
    assert_int_equal(ngx_autoscale_route_valid_id("abc", 0), 0);

    for (c = 0; c < 256; c++) {
        one = (char) c;
        valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '-' || c == '_';
        assert_int_equal(ngx_autoscale_route_valid_id(&one, 1), valid);
    }

    /* the neighbours of each range, inside a longer id */
    assert_int_equal(ngx_autoscale_route_valid_id("ab/", 3), 0);
    assert_int_equal(ngx_autoscale_route_valid_id("ab:", 3), 0);
    assert_int_equal(ngx_autoscale_route_valid_id("ab@", 3), 0);
    assert_int_equal(ngx_autoscale_route_valid_id("ab[", 3), 0);
    assert_int_equal(ngx_autoscale_route_valid_id("ab`", 3), 0);
    assert_int_equal(ngx_autoscale_route_valid_id("ab{", 3), 0);
    assert_int_equal(ngx_autoscale_route_valid_id("azAZ09-_", 8), 1);

    /* only len bytes are looked at */
    assert_int_equal(ngx_autoscale_route_valid_id("ab.", 2), 1);

    buf = repeat("x", 101);
    assert_int_equal(ngx_autoscale_route_valid_id(buf, 100), 1);
    assert_int_equal(ngx_autoscale_route_valid_id(buf, 101), 0);
    assert_int_equal(ngx_autoscale_route_valid_id(buf, 1), 1);
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
    ngx_autoscale_route_set_err(&err, 418, code, "x=%d y=%s z=%.*s", 5, "s", 2,
                                "abc");
    assert_int_equal(err.status, 418);
    assert_ptr_equal(err.code, code);
    assert_string_equal(err.text, "x=5 y=s z=ab");

    /* truncated to the buffer, still terminated */
    long_text = repeat("q", 1000);
    ngx_autoscale_route_set_err(&err, 500, "Long", "%s", long_text);
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

    rc = ngx_autoscale_route_parse_args(buf, len, spec, nspec, out, err);

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


/* args that spec refuses, as a client error with text */
static void
expect_args_err(const ngx_autoscale_arg_spec_t *spec, size_t nspec,
    const char *args, const char *text)
{
    ngx_autoscale_arg_t   out[NLIST + NWIDE];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_n(args, strlen(args), spec, nspec, out, &err), -1);
    assert_err(&err, 400, "InvalidQuery", text);
}

#define expect_list_err(args, text)                                           \
    expect_args_err(list_spec, NLIST, args, text)


/* args that list_spec refuses, and the text it says */
typedef struct {
    const char  *args;
    const char  *text;
} args_case_t;


static void
expect_list_errs(const args_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        expect_list_err(cases[i].args, cases[i].text);
    }
}
#define expect_wide_err(args, text)                                           \
    expect_args_err(wide_spec, NWIDE, args, text)


/* args parse against list_spec, and only the one at idx is present */
static void
parse_list_one(const char *args, size_t idx, ngx_autoscale_arg_t *out)
{
    size_t                i;
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_list(args, out, &err), 0);
    assert_err_untouched(&err);

    for (i = 0; i < NLIST; i++) {
        assert_int_equal(out[i].present, i == idx);
    }
}


static void
expect_list_num(const char *args, size_t idx, long long num)
{
    ngx_autoscale_arg_t  out[NLIST];

    parse_list_one(args, idx, out);
    assert_true(out[idx].num == num);
}


static void
expect_list_str(const char *args, size_t idx, const char *str)
{
    ngx_autoscale_arg_t  out[NLIST];

    parse_list_one(args, idx, out);
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
    assert_int_equal(ngx_autoscale_route_parse_args(NULL, 0, list_spec, NLIST,
                                                    out, &err), 0);
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
    static const args_case_t  cases[] = {
        { "page", PAGE_TEXT },
        { "page=", PAGE_TEXT },
        { "page=+5", PAGE_TEXT },
        { "page=%2B5", PAGE_TEXT },
        { "page=-5", PAGE_TEXT },
        { "page=-0", PAGE_TEXT },
        { "page=%2D1", PAGE_TEXT },
        { "page=5+", PAGE_TEXT },
        { "page=%205", PAGE_TEXT },
        { "page=5a", PAGE_TEXT },
        { "page=a5", PAGE_TEXT },
        { "page=0x10", PAGE_TEXT },
        { "page=1e3", PAGE_TEXT },
        { "page=1.0", PAGE_TEXT },
        { "page=1,2", PAGE_TEXT },
        { "page=5=6", PAGE_TEXT },
        { "page=5%00", PAGE_TEXT },
        { "page=%", PAGE_TEXT },
        { "page=%3", PAGE_TEXT },
        { "page=%3g", PAGE_TEXT },
        { "page=%g3", PAGE_TEXT },
        { "page=1%", PAGE_TEXT },
        { "page=1%3", PAGE_TEXT },
        { "page=\xd9\xa1", PAGE_TEXT }
    };

    (void) state;

    expect_list_errs(cases, n_cases(cases));
}


static void
test_args_int_overflow(void **state)
{
    char                 *digits, args[256];
    size_t                i;
    ngx_autoscale_arg_t   out[NWIDE];
    ngx_autoscale_err_t   err;

    static const char *const  refused[] = {
        "n=1000000000000000000", "n=9223372036854775807",
        "n=0000000000000000001", "n=18446744073709551617", "n=-1"
    };

    static const args_case_t  cases[] = {
        /* 18 digits, just over the page bound */
        { "page=999999999999999999", PAGE_TEXT }
    };

    (void) state;

    expect_wide_num("n=0", 0);
    expect_wide_num("n=999999999999999999", 999999999999999999LL);
    expect_wide_num("n=000000000000000001", 1);
    expect_wide_num("n=123456789012345678", 123456789012345678LL);

    /* 19 digits and more are refused, not wrapped */
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_case_int(refused[i], parse_wide(refused[i], out, &err), -1);
        assert_err(&err, 400, "InvalidQuery",
                   "query parameter 'n' must be an integer from 0 to "
                   "9223372036854775807");
    }

    digits = repeat("9", 200);
    snprintf(args, sizeof(args), "page=%s", digits);
    expect_list_err(args, PAGE_TEXT);
    free(digits);

    expect_list_errs(cases, n_cases(cases));
}


static void
test_args_choices(void **state)
{
    size_t  i;
    char    args[64];

    static const args_case_t  cases[] = {
        { "status", STATUS_TEXT },
        { "status=", STATUS_TEXT },
        { "status=ACTIVE", STATUS_TEXT },
        { "status=activ", STATUS_TEXT },
        { "status=actives", STATUS_TEXT },
        { "status=active+", STATUS_TEXT },
        { "status=+active", STATUS_TEXT },
        { "status=active%00", STATUS_TEXT },
        { "status=scaling+up", STATUS_TEXT },
        { "status=%zz", STATUS_TEXT },
        { "status=activ%", STATUS_TEXT },
        { "status=activ%6", STATUS_TEXT },
        { "status=unknown", STATUS_TEXT }
    };

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

    expect_list_errs(cases, n_cases(cases));
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

    static const args_case_t  cases[] = {
        { "type", TYPE_TEXT },
        { "type=", TYPE_TEXT },
        { "type=a.b", TYPE_TEXT },
        { "type=a%2Fb", TYPE_TEXT },
        { "type=..%2Fx", TYPE_TEXT },
        { "type=a+b", TYPE_TEXT },
        { "type=a%20b", TYPE_TEXT },
        { "type=a%26b", TYPE_TEXT },
        { "type=a%3Db", TYPE_TEXT },
        { "type=%00", TYPE_TEXT },
        { "type=a%00b", TYPE_TEXT },
        { "type=%C3%A9", TYPE_TEXT },
        { "type=a'b", TYPE_TEXT },
        { "type=a=b", TYPE_TEXT },
        { "type=ab%", TYPE_TEXT },
        { "type=ab%4", TYPE_TEXT },
        { "type=ab%4x", TYPE_TEXT }
    };

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

    expect_list_errs(cases, n_cases(cases));
}


/* args "id=%41%41..." with n times the encoded 'A' */
static char *
id_of(size_t n)
{
    char  *args, *val;

    val = repeat("%41", n);
    args = malloc(strlen(val) + 4);
    assert_non_null(args);
    sprintf(args, "id=%s", val);
    free(val);

    return args;
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
    args = id_of(100);
    assert_int_equal(parse_wide(args, out, &err), 0);
    assert_int_equal(out[1].present, 1);
    assert_int_equal(strlen(out[1].str), 100);
    assert_int_equal(strspn(out[1].str, "A"), 100);
    free(args);

    args = id_of(101);
    expect_wide_err(args, "query parameter 'id' must be 1 to 100 letters, "
                    "digits, '-' or '_'");
    free(args);

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
    static const args_case_t  cases[] = {
        /* a well-formed unknown name is echoed */
        { "foo=1", UNKNOWN_TEXT " 'foo'" },
        { "foo", UNKNOWN_TEXT " 'foo'" },
        { "PAGE=1", UNKNOWN_TEXT " 'PAGE'" },
        { "pages=1", UNKNOWN_TEXT " 'pages'" },
        { "pag=1", UNKNOWN_TEXT " 'pag'" },
        { "f%6Fo=1", UNKNOWN_TEXT " 'foo'" },
        { "page=1&limit=2", UNKNOWN_TEXT " 'limit'" },
        { "a-b_C9=1", UNKNOWN_TEXT " 'a-b_C9'" }
    };

    (void) state;

    expect_list_num("pa%67e=3", A_PAGE, 3);
    expect_list_num("%70%61%67%65=3", A_PAGE, 3);
    expect_list_num("page%5Fsize=4", A_PAGE_SIZE, 4);
    expect_list_num("page%5fsize=4", A_PAGE_SIZE, 4);

    expect_list_errs(cases, n_cases(cases));
}


/* an odd name is never put into the message */
static void
test_args_odd_keys(void **state)
{
    char  *name, args[2048];

    static const args_case_t  cases[] = {
        { "=1", UNKNOWN_TEXT },
        { "=", UNKNOWN_TEXT },
        { "==", UNKNOWN_TEXT },
        { "a'b=1", UNKNOWN_TEXT },
        { "a%27b=1", UNKNOWN_TEXT },
        { "%3Cscript%3E=1", UNKNOWN_TEXT },
        { "<script>=1", UNKNOWN_TEXT },
        { "a+b=1", UNKNOWN_TEXT },
        { "a%20b=1", UNKNOWN_TEXT },
        { "a%22b=1", UNKNOWN_TEXT },
        { "a%0Ab=1", UNKNOWN_TEXT },
        { "page%00=1", UNKNOWN_TEXT },
        { "%00=1", UNKNOWN_TEXT },
        { "%=1", UNKNOWN_TEXT },
        { "%zz=1", UNKNOWN_TEXT },
        { "pag%=1", UNKNOWN_TEXT },
        { "pag%6=1", UNKNOWN_TEXT },
        { "%25s%25s%25n=1", UNKNOWN_TEXT },
        { "%s%n=1", UNKNOWN_TEXT },
        { "\xc3\xa9=1", UNKNOWN_TEXT },
        { "page.=1", UNKNOWN_TEXT },
        { " page=1", UNKNOWN_TEXT }
    };

    (void) state;

    expect_list_errs(cases, n_cases(cases));

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
    static const args_case_t  cases[] = {
        { "page=1&page=2", "query parameter 'page' is given twice" },
        { "page=1&page=1", "query parameter 'page' is given twice" },
        { "page=1&pa%67e=2", "query parameter 'page' is given twice" },
        { "page=1&page", "query parameter 'page' is given twice" },
        { "page=1&page=bad", "query parameter 'page' is given twice" },
        { "status=active&type=x&status=active",
          "query parameter 'status' is given twice" },
        { "type=a&&type=b", "query parameter 'type' is given twice" },
        { "page_size=5&page=1&page_size=5",
          "query parameter 'page_size' is given twice" }
    };

    (void) state;

    expect_list_errs(cases, n_cases(cases));
}


/* the first problem is the one reported */
static void
test_args_first_error(void **state)
{
    static const args_case_t  cases[] = {
        { "page=0&foo=1", PAGE_TEXT },
        { "foo=1&page=0", UNKNOWN_TEXT " 'foo'" },
        { "page=1&page_size=0&page=2", PAGE_SIZE_TEXT },
        { "type=ok&status=bad&x%00=1", STATUS_TEXT }
    };

    (void) state;

    expect_list_errs(cases, n_cases(cases));
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


#define expect_time_n(s, len, valid)                                          \
    expect_valid(ngx_autoscale_route_valid_time, "valid_time", s, len, valid)


static void
expect_time(const char *s, int valid)
{
    expect_time_n(s, strlen(s), valid);
}


/* a time as a query gives it, and whether it is valid */
typedef struct {
    const char  *s;
    int          valid;
} time_case_t;


static void
expect_times(const time_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        expect_time(cases[i].s, cases[i].valid);
    }
}


static void
test_time_valid(void **state)
{
    static const time_case_t  cases[] = {
        { "2026-02-18T21:50:00Z", 1 },
        { "2026-02-18t21:50:00Z", 1 },
        { "2026-02-18 21:50:00Z", 1 },
        { "2026-02-18T21:50:00z", 1 },
        { "2026-02-18T21:50:00.5Z", 1 },
        { "2026-02-18T21:50:00.000000Z", 1 },
        { "2026-02-18T21:50:00.123456789Z", 1 },
        { "2026-02-18T21:50:00+05:30", 1 },
        { "2026-02-18T21:50:00-08:00", 1 },
        { "2026-02-18T21:50:00+00:00", 1 },
        { "2026-02-18T21:50:00-00:00", 1 },
        { "2026-02-18T21:50:00+23:59", 1 },
        { "2026-02-18T21:50:00.1-23:59", 1 },
        { "0001-01-01T00:00:00Z", 1 },
        { "9999-12-31T23:59:59.999999999+23:59", 1 },
        { "2026-01-31T00:00:00Z", 1 },
        { "2026-12-31T00:00:00Z", 1 }
    };

    (void) state;

    expect_times(cases, n_cases(cases));
}


static void
test_time_invalid(void **state)
{
    char  *s;

    static const time_case_t  cases[] = {
        /* too short, too long */
        { "", 0 },
        { "2026-02-18", 0 },
        { "2026-02-18T21:50:00", 0 },
        { "2026-02-18T21:50Z", 0 },
        { "2026-02-18T21:50:00.5", 0 },
        { "2026-02-18T21:50:00.1234567890Z", 0 },
        { "2026-02-18T21:50:00.123456789012345678901Z", 0 },

        /* out of range */
        { "0000-01-01T00:00:00Z", 0 },
        { "2026-00-18T21:50:00Z", 0 },
        { "2026-13-18T21:50:00Z", 0 },
        { "2026-02-00T21:50:00Z", 0 },
        { "2026-01-32T21:50:00Z", 0 },
        { "2026-02-18T24:00:00Z", 0 },
        { "2026-02-18T21:60:00Z", 0 },
        { "2026-02-18T21:50:60Z", 0 },
        { "2026-02-18T21:50:00+24:00", 0 },
        { "2026-02-18T21:50:00+05:60", 0 },
        { "2026-02-18T99:99:99Z", 0 },

        /* zone */
        { "2026-02-18T21:50:00ZZ", 0 },
        { "2026-02-18T21:50:00Z ", 0 },
        { "2026-02-18T21:50:00 Z", 0 },
        { "2026-02-18T21:50:00UTC", 0 },
        { "2026-02-18T21:50:00+0530", 0 },
        { "2026-02-18T21:50:00+05", 0 },
        { "2026-02-18T21:50:00+5:30", 0 },
        { "2026-02-18T21:50:00+05:3", 0 },
        { "2026-02-18T21:50:00+05:300", 0 },
        { "2026-02-18T21:50:00+05-30", 0 },
        { "2026-02-18T21:50:00 05:30", 0 },
        { "2026-02-18T21:50:00*05:30", 0 },
        { "2026-02-18T21:50:00+05:30Z", 0 },
        { "2026-02-18T21:50:00Z+05:30", 0 },
        { "2026-02-18T21:50:00+aa:30", 0 },
        { "2026-02-18T21:50:00+05:a0", 0 },

        /* fraction */
        { "2026-02-18T21:50:00.Z", 0 },
        { "2026-02-18T21:50:00.+05:30", 0 },
        { "2026-02-18T21:50:00,5Z", 0 },
        { "2026-02-18T21:50:00.5.5Z", 0 },
        { "2026-02-18T21:50:00.5aZ", 0 },
        { "2026-02-18T21:50:00..5Z", 0 },

        /* shape */
        { "2026-02-18X21:50:00Z", 0 },
        { "2026-02-18_21:50:00Z", 0 },
        { "2026-02-18T21:50:00.5T", 0 },
        { "2026/02/18T21:50:00Z", 0 },
        { "2026-2-18T21:50:00.5Z", 0 },
        { "26-02-18T21:50:00.5Z", 0 },
        { "-2026-02-18T21:50:00Z", 0 },
        { "+2026-02-18T21:50:00Z", 0 },
        { " 2026-02-18T21:50:00Z", 0 },
        { "20260-02-18T21:50:00Z", 0 },
        { "2026-02-18T21:50:0.5Z", 0 },
        { "2026-02-18T1:50:00.5Z", 0 },
        { "2026-+2-18T21:50:00Z", 0 },
        { "2026--2-18T21:50:00Z", 0 },
        { "2026-02-18T21:50:00\0Z", 0 },
        { "\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa6-02-18T21:50:00Z", 0 }
    };

    (void) state;

    expect_times(cases, n_cases(cases));

    expect_time_n("2026-02-18T21:50:00\0", 20, 0);
    expect_time_n("2026-02-18T21:50:00Z\0", 21, 0);
    expect_time_n("2026-02\0018T21:50:00Z", 20, 0);

    /* very long: no overread */
    s = repeat("2", 5000);
    expect_time(s, 0);
    memcpy(s, "2026-02-18T21:50:00Z", 20);
    expect_time(s, 0);
    expect_time_n(s, 20, 1);
    expect_time_n(s, 19, 0);
    expect_time_n(s, 21, 0);
    free(s);
}


static int
days_in(int year, int month)
{
    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };

    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) {
        return 29;
    }

    return days[month - 1];
}


/* every day 0..32 of every month, in plain and leap years */
static void
test_time_calendar(void **state)
{
    int     y, m, d;
    char    s[64];
    size_t  i;

    static const int  years[] = { 2023, 2024, 1900, 2000, 2100, 2400, 1,
                                  4, 9999, 1600 };

    static const time_case_t  cases[] = {
        { "2024-02-29T00:00:00Z", 1 },
        { "2000-02-29T00:00:00Z", 1 },
        { "1900-02-29T00:00:00Z", 0 },
        { "2023-02-29T00:00:00Z", 0 },
        { "2026-04-31T00:00:00Z", 0 },
        { "2026-06-31T00:00:00Z", 0 },
        { "2026-09-31T00:00:00Z", 0 },
        { "2026-11-31T00:00:00Z", 0 },
        { "2026-08-31T00:00:00Z", 1 }
    };

    (void) state;

    for (i = 0; i < sizeof(years) / sizeof(years[0]); i++) {
        y = years[i];
        for (m = 0; m <= 13; m++) {
            for (d = 0; d <= 32; d++) {
                snprintf(s, sizeof(s), "%04d-%02d-%02dT12:00:00Z", y, m, d);
                expect_time(s, m >= 1 && m <= 12 && d >= 1
                               && d <= days_in(y, m));
            }
        }
    }

    /* the spot checks */
    assert_int_equal(days_in(2024, 2), 29);
    assert_int_equal(days_in(1900, 2), 28);
    assert_int_equal(days_in(2000, 2), 29);
    expect_times(cases, n_cases(cases));
}


/* every hour, minute and second, and every offset */
static void
test_time_clock(void **state)
{
    int   h, m;
    char  s[64];

    (void) state;

    for (h = 0; h <= 25; h++) {
        for (m = 0; m <= 61; m++) {
            snprintf(s, sizeof(s), "2026-02-18T%02d:%02d:00Z", h, m);
            expect_time(s, h <= 23 && m <= 59);
            snprintf(s, sizeof(s), "2026-02-18T00:00:%02d.5Z", m);
            expect_time(s, m <= 59);
            snprintf(s, sizeof(s), "2026-02-18T00:00:00+%02d:%02d", h, m);
            expect_time(s, h <= 23 && m <= 59);
            snprintf(s, sizeof(s), "2026-02-18T00:00:00.25-%02d:%02d", h, m);
            expect_time(s, h <= 23 && m <= 59);
        }
    }
}


/* every byte in each separator and digit position */
static void
test_time_every_byte(void **state)
{
    int     c, valid;
    char    s[] = "2026-02-18T21:50:00Z";
    size_t  i;

    static const char  digit_pos[] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14,
                                       15, 17, 18 };

    (void) state;

    for (c = 0; c < 256; c++) {
        for (i = 0; i < sizeof(s) - 1; i++) {
            if (memchr(digit_pos, (int) i, sizeof(digit_pos))
                && c >= '0' && c <= '9')
            {
                /* digits are range-checked elsewhere */
                continue;
            }

            strcpy(s, "2026-02-18T21:50:00Z");
            s[i] = (char) c;

            switch (i) {
            case 4: case 7:
                valid = (c == '-');
                break;
            case 10:
                valid = (c == 'T' || c == 't' || c == ' ');
                break;
            case 13: case 16:
                valid = (c == ':');
                break;
            case 19:
                valid = (c == 'Z' || c == 'z');
                break;
            default:
                valid = 0;
            }

            expect_time_n(s, sizeof(s) - 1, valid);
        }
    }
}


#define SINCE_TEXT  "query parameter 'since' must be an RFC 3339 time, " \
                    "e.g. 2026-02-18T21:50:00Z"


static const ngx_autoscale_arg_spec_t  time_spec[] = {
    { "since", NGX_AUTOSCALE_ARG_TIME, 0, 0, NULL },
    { "until", NGX_AUTOSCALE_ARG_TIME, 0, 0, NULL },
    { "page", NGX_AUTOSCALE_ARG_INT, 1, 10, NULL }
};

#define NTIME  (sizeof(time_spec) / sizeof(time_spec[0]))


static void
expect_since(const char *args, const char *since)
{
    ngx_autoscale_arg_t   out[NTIME];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_n(args, strlen(args), time_spec, NTIME, out, &err),
                     0);
    assert_err_untouched(&err);
    assert_int_equal(out[0].present, 1);
    assert_string_equal(out[0].str, since);
    assert_int_equal(out[0].num, 0);
    assert_int_equal(out[1].present, 0);
    assert_int_equal(out[2].present, 0);
}


static void
expect_time_err(const char *args, const char *text)
{
    ngx_autoscale_arg_t   out[NTIME];
    ngx_autoscale_err_t   err;

    assert_int_equal(parse_n(args, strlen(args), time_spec, NTIME, out, &err),
                     -1);
    assert_err(&err, 400, "InvalidQuery", text);
}


static void
test_args_time(void **state)
{
    char                 *val, *buf;
    size_t                n;
    const char           *args;
    ngx_autoscale_arg_t   out[NTIME];
    ngx_autoscale_err_t   err;

    (void) state;

    expect_since("since=2026-02-18T21:50:00Z", "2026-02-18T21:50:00Z");
    expect_since("since=2026-02-18T21:50:00.123456789z",
                 "2026-02-18T21:50:00.123456789z");
    expect_since("since=2026-02-18T21%3A50%3A00Z", "2026-02-18T21:50:00Z");
    expect_since("since=2026-02-18T21%3a50%3a00Z", "2026-02-18T21:50:00Z");
    expect_since("since=2026-02-18T21:50:00-08:00",
                 "2026-02-18T21:50:00-08:00");

    /* a plus must be sent as %2B: '+' is a space */
    expect_since("since=2026-02-18T21:50:00%2B05:30",
                 "2026-02-18T21:50:00+05:30");
    expect_since("since=2026-02-18T21:50:00%2b05:30",
                 "2026-02-18T21:50:00+05:30");
    expect_time_err("since=2026-02-18T21:50:00+05:30", SINCE_TEXT);
    expect_since("since=2026-02-18+21:50:00Z", "2026-02-18 21:50:00Z");
    expect_since("since=2026-02-18%2021:50:00Z", "2026-02-18 21:50:00Z");

    expect_time_err("since", SINCE_TEXT);
    expect_time_err("since=", SINCE_TEXT);
    expect_time_err("since=now", SINCE_TEXT);
    expect_time_err("since=1771451400", SINCE_TEXT);
    expect_time_err("since=2026-02-18", SINCE_TEXT);
    expect_time_err("since=2026-02-18T21:50:00", SINCE_TEXT);
    expect_time_err("since=2026-02-30T21:50:00Z", SINCE_TEXT);
    expect_time_err("since=2026-02-18T21:50:00Z%00", SINCE_TEXT);
    expect_time_err("since=2026-02-18T21:50:00Z%", SINCE_TEXT);
    expect_time_err("since=2026-02-18T21:50:00%2", SINCE_TEXT);
    expect_time_err("until=2026-02-18T21:50:00.Z",
                    "query parameter 'until' must be an RFC 3339 time, "
                    "e.g. 2026-02-18T21:50:00Z");
    expect_time_err("since=2026-02-18T21:50:00Z&since=2026-02-18T21:50:00Z",
                    "query parameter 'since' is given twice");
    expect_time_err("since=2026-02-18T21:50:00Z&page=0",
                    "query parameter 'page' must be an integer from 1 to 10");

    /* both, with another kind */
    args = "until=2024-02-29T23:59:59.5%2B01:00&page=3"
           "&since=2000-01-01T00:00:00Z";
    assert_int_equal(parse_n(args, strlen(args), time_spec, NTIME, out, &err),
                     0);
    assert_err_untouched(&err);
    assert_string_equal(out[0].str, "2000-01-01T00:00:00Z");
    assert_string_equal(out[1].str, "2024-02-29T23:59:59.5+01:00");
    assert_int_equal(out[2].num, 3);
    assert_int_equal(out[0].present + out[1].present + out[2].present, 3);

    /* longer than any time, and longer than the buffer */
    val = repeat("1", 5000);
    n = strlen(val) + 16;
    buf = malloc(n);
    assert_non_null(buf);
    snprintf(buf, n, "since=%s", val);
    free(val);
    n = strlen(buf);
    assert_int_equal(parse_n(buf, n, time_spec, NTIME, out, &err), -1);
    free(buf);
    assert_int_equal(n, 5006);
    assert_err(&err, 400, "InvalidQuery", SINCE_TEXT);

    expect_time_err("since=2026-02-18T21:50:00.123456789012345678901234567Z",
                    SINCE_TEXT);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_method_bits),
        cmocka_unit_test(test_route_clusters),
        cmocka_unit_test(test_route_cluster_id),
        cmocka_unit_test(test_route_sub),
        cmocka_unit_test(test_route_sub_bad_id),
        cmocka_unit_test(test_route_sub_unknown),
        cmocka_unit_test(test_route_blueprints),
        cmocka_unit_test(test_route_heartbeat),
        cmocka_unit_test(test_valid_agent_id),
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
        cmocka_unit_test(test_time_valid),
        cmocka_unit_test(test_time_invalid),
        cmocka_unit_test(test_time_calendar),
        cmocka_unit_test(test_time_clock),
        cmocka_unit_test(test_time_every_byte),
        cmocka_unit_test(test_args_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
