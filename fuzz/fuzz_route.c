
/*
 * The router and the query-string parser: the first byte picks an
 * endpoint's query spec, the rest is a path and, after the first '?', its
 * query string, each given to the parser in an exact copy.  What is
 * accepted must be what the route and the spec allow; a refusal must be a
 * whole client error.
 */


#include "fuzz.h"
#include "ngx_autoscale_route.h"
#include "tables.h"


#define FUZZ_ALL_METHODS                                                      \
    (NGX_AUTOSCALE_READS | NGX_AUTOSCALE_WRITES)


static void fuzz_path(const char *path, size_t len);
static void fuzz_args(const char *args, size_t len,
    const ngx_autoscale_arg_spec_t *spec, size_t n);
static int fuzz_within(const char *p, size_t n, const char *buf,
    size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char        *path, *args;
    size_t       len, plen;
    const char  *q;

    if (size == 0) {
        return 0;
    }

    len = size - 1;
    q = memchr(data + 1, '?', len);
    plen = q ? (size_t) (q - (const char *) data - 1) : len;

    path = fuzz_exact(data + 1, plen);
    fuzz_path(path, plen);
    free(path);

    if (q) {
        args = fuzz_exact(q + 1, len - plen - 1);
        fuzz_args(args, len - plen - 1,
                  fuzz_arg_spec_tables[data[0] % FUZZ_NARGSPEC_TABLES].table,
                  fuzz_arg_spec_tables[data[0] % FUZZ_NARGSPEC_TABLES].n);
        free(args);
    }

    return 0;
}


static void
fuzz_path(const char *path, size_t len)
{
    int                    rc;
    ngx_autoscale_err_t    err;
    ngx_autoscale_route_t  rt;

    memset(&rt, 0x5a, sizeof(rt));
    err_init(&err);

    rc = ngx_autoscale_route(path, len, &rt, &err);

    if (rc != 0) {
        fuzz_assert(rc == -1);
        fuzz_assert_err(&err, 400, 404, 404);
        fuzz_assert(strcmp(err.code, err.status == 404 ? "NotFound"
                                                       : "InvalidId") == 0);
        return;
    }

    fuzz_assert(rt.route >= NGX_AUTOSCALE_ROUTE_CLUSTERS
                && rt.route <= NGX_AUTOSCALE_ROUTE_PROMETHEUS);
    fuzz_assert(rt.methods != 0 && (rt.methods & ~FUZZ_ALL_METHODS) == 0);
    fuzz_assert(err.status == -7);

    switch (rt.route) {

    case NGX_AUTOSCALE_ROUTE_CLUSTERS:
    case NGX_AUTOSCALE_ROUTE_BLUEPRINTS:
    case NGX_AUTOSCALE_ROUTE_PROMETHEUS:
        fuzz_assert(rt.id == NULL && rt.agent == NULL);
        return;

    default:
        break;
    }

    fuzz_assert(fuzz_within(rt.id, rt.id_len, path, len));
    fuzz_assert(ngx_autoscale_route_valid_id(rt.id, rt.id_len));

    if (rt.route == NGX_AUTOSCALE_ROUTE_HEARTBEAT) {
        fuzz_assert(rt.methods == NGX_AUTOSCALE_POST);
        fuzz_assert(fuzz_within(rt.agent, rt.agent_len, path, len));
        fuzz_assert(ngx_autoscale_route_valid_agent_id(rt.agent, rt.agent_len));
        fuzz_assert(rt.agent > rt.id);

    } else {
        fuzz_assert(rt.agent == NULL);
    }
}


static void
fuzz_args(const char *args, size_t len, const ngx_autoscale_arg_spec_t *spec,
    size_t n)
{
    int                    rc, found;
    size_t                 i, k, slen;
    ngx_autoscale_err_t    err;
    ngx_autoscale_arg_t   *out;

    out = malloc(n * sizeof(ngx_autoscale_arg_t));
    fuzz_assert(out != NULL);
    memset(out, 0x5a, n * sizeof(ngx_autoscale_arg_t));
    err_init(&err);

    rc = ngx_autoscale_route_parse_args(args, len, spec, n, out, &err);

    if (rc != 0) {
        fuzz_assert(rc == -1);
        fuzz_assert_err(&err, 400, 400, 400);
        fuzz_assert(strcmp(err.code, "InvalidQuery") == 0);
        free(out);
        return;
    }

    fuzz_assert(err.status == -7);

    for (i = 0; i < n; i++) {
        if (!out[i].present) {
            fuzz_assert(out[i].num == 0 && out[i].str[0] == '\0');
            continue;
        }

        fuzz_assert(out[i].present == 1);

        if (spec[i].kind == NGX_AUTOSCALE_ARG_INT) {
            fuzz_assert(out[i].num >= spec[i].min
                        && out[i].num <= spec[i].max);
            continue;
        }

        fuzz_assert(memchr(out[i].str, '\0', sizeof(out[i].str)) != NULL);
        slen = strlen(out[i].str);

        if (spec[i].kind == NGX_AUTOSCALE_ARG_TIME) {
            fuzz_assert(ngx_autoscale_route_valid_time(out[i].str, slen));
            continue;
        }

        if (spec[i].choices == NULL) {
            fuzz_assert(ngx_autoscale_route_valid_id(out[i].str, slen));
            fuzz_assert((long long) slen <= spec[i].max);
            continue;
        }

        found = 0;
        for (k = 0; spec[i].choices[k]; k++) {
            found |= (strcmp(spec[i].choices[k], out[i].str) == 0);
        }

        fuzz_assert(found);
    }

    free(out);
}


/* p[0..n) lies inside buf[0..len) */
static int
fuzz_within(const char *p, size_t n, const char *buf, size_t len)
{
    return p != NULL && n > 0 && p >= buf && n <= len
           && (size_t) (p - buf) <= len - n;
}
