
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ngx_autoscale_route.h"


const char *const  ngx_autoscale_cluster_statuses[] = {
    "planning", "spawning", "active", "scaling_up", "scaling_down",
    "hibernated", "destroying", "destroyed", NULL
};


/* clusters/{id}/agents/{agent}/heartbeat is the longest path */
#define NGX_AUTOSCALE_ROUTE_SEGMENTS  5


static const struct {
    const char             *name;
    ngx_autoscale_route_e   route;
    unsigned                methods;
} ngx_autoscale_subroutes[] = {
    { "scale", NGX_AUTOSCALE_ROUTE_SCALE, NGX_AUTOSCALE_POST },
    { "hibernate", NGX_AUTOSCALE_ROUTE_HIBERNATE, NGX_AUTOSCALE_POST },
    { "reactivate", NGX_AUTOSCALE_ROUTE_REACTIVATE, NGX_AUTOSCALE_POST },
    { "workers", NGX_AUTOSCALE_ROUTE_WORKERS, NGX_AUTOSCALE_POST },
    { "metrics", NGX_AUTOSCALE_ROUTE_CLUSTER_METRICS, NGX_AUTOSCALE_READS },
    { "events", NGX_AUTOSCALE_ROUTE_CLUSTER_EVENTS, NGX_AUTOSCALE_READS },
    { "agents", NGX_AUTOSCALE_ROUTE_CLUSTER_AGENTS, NGX_AUTOSCALE_READS }
};


static size_t ngx_autoscale_route_split(const char *path, size_t len,
    const char **seg, size_t *seglen);
static int ngx_autoscale_route_match(const char **seg, const size_t *seglen,
    size_t n, ngx_autoscale_route_t *rt);
static int ngx_autoscale_route_segment_is(const char *s, size_t len,
    const char *word);
static int ngx_autoscale_route_hex(int c);
static size_t ngx_autoscale_route_unescape(const char *s, size_t len, char *out,
    size_t size);
static int ngx_autoscale_route_digits(const char *s, size_t n, int *value);
static int ngx_autoscale_route_parse_arg(const ngx_autoscale_arg_spec_t *spec,
    const char *value, size_t len, ngx_autoscale_arg_t *out,
    ngx_autoscale_err_t *err);


void
ngx_autoscale_route_set_err(ngx_autoscale_err_t *err, int status,
    const char *code, const char *fmt, ...)
{
    va_list  args;

    err->status = status;
    err->code = code;

    va_start(args, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, args);
    va_end(args);
}


int
ngx_autoscale_route_valid_id(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_AUTOSCALE_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/* as cluster_agents.agent_id's CHECK: no "." or ".." path segments */
int
ngx_autoscale_route_valid_agent_id(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > NGX_AUTOSCALE_AGENT_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9')
              || (i > 0 && (s[i] == '.' || s[i] == '-' || s[i] == '_'))))
        {
            return 0;
        }
    }

    return 1;
}


int
ngx_autoscale_route(const char *path, size_t len, ngx_autoscale_route_t *rt,
    ngx_autoscale_err_t *err)
{
    size_t       n, seglen[NGX_AUTOSCALE_ROUTE_SEGMENTS];
    const char  *seg[NGX_AUTOSCALE_ROUTE_SEGMENTS];

    memset(rt, 0, sizeof(ngx_autoscale_route_t));

    n = ngx_autoscale_route_split(path, len, seg, seglen);

    if (n == 0 || ngx_autoscale_route_match(seg, seglen, n, rt) != 0) {
        memset(rt, 0, sizeof(ngx_autoscale_route_t));
        ngx_autoscale_route_set_err(err, 404, "NotFound", "no such API path");
        return -1;
    }

    if (rt->agent
        && !ngx_autoscale_route_valid_agent_id(rt->agent, rt->agent_len))
    {
        memset(rt, 0, sizeof(ngx_autoscale_route_t));
        ngx_autoscale_route_set_err(err, 400, "InvalidId",
                                    "agent id must be 1 to %d letters, "
                                    "digits, '.', '-' or '_', beginning "
                                    "with a letter or digit",
                                    NGX_AUTOSCALE_AGENT_ID_MAX);
        return -1;
    }

    if (rt->id && !ngx_autoscale_route_valid_id(rt->id, rt->id_len)) {
        ngx_autoscale_route_set_err(err, 400, "InvalidId",
                                    "%s id must be 1 to %d letters, digits, "
                                    "'-' or '_'",
                                    rt->route == NGX_AUTOSCALE_ROUTE_BLUEPRINT
                                    ? "blueprint" : "cluster",
                                    NGX_AUTOSCALE_ID_MAX);
        memset(rt, 0, sizeof(ngx_autoscale_route_t));
        return -1;
    }

    return 0;
}


/*
 * The path's segments, without a leading or a trailing slash (both name
 * the same resource); 0 for an empty segment or too many of them.
 */

static size_t
ngx_autoscale_route_split(const char *path, size_t len, const char **seg,
    size_t *seglen)
{
    size_t       n;
    const char  *end, *p;

    if (len && path[0] == '/') {
        path++;
        len--;
    }

    if (len && path[len - 1] == '/') {
        len--;
    }

    if (len == 0) {
        return 0;
    }

    end = path + len;
    n = 0;
    p = path;

    for ( ;; ) {
        if (n == NGX_AUTOSCALE_ROUTE_SEGMENTS) {
            return 0;
        }

        seg[n] = p;
        while (p < end && *p != '/') {
            p++;
        }
        seglen[n] = p - seg[n];

        if (seglen[n] == 0) {
            return 0;
        }

        n++;

        if (p == end) {
            return n;
        }

        p++;
    }
}


/*
 * The endpoint that n segments name, with its methods and where its ids
 * stand (checked by the caller); -1 if none.
 */

static int
ngx_autoscale_route_match(const char **seg, const size_t *seglen, size_t n,
    ngx_autoscale_route_t *rt)
{
    size_t  i;

    if (n == 1
        && ngx_autoscale_route_segment_is(seg[0], seglen[0], "metrics"))
    {
        rt->route = NGX_AUTOSCALE_ROUTE_PROMETHEUS;
        rt->methods = NGX_AUTOSCALE_READS;
        return 0;
    }

    if (ngx_autoscale_route_segment_is(seg[0], seglen[0], "blueprints")) {
        if (n == 1) {
            rt->route = NGX_AUTOSCALE_ROUTE_BLUEPRINTS;
            rt->methods = NGX_AUTOSCALE_READS | NGX_AUTOSCALE_POST;
            return 0;
        }

        if (n != 2) {
            return -1;
        }

        rt->route = NGX_AUTOSCALE_ROUTE_BLUEPRINT;
        rt->methods = NGX_AUTOSCALE_READS;
        goto id;
    }

    if (!ngx_autoscale_route_segment_is(seg[0], seglen[0], "clusters")) {
        return -1;
    }

    switch (n) {

    case 1:
        rt->route = NGX_AUTOSCALE_ROUTE_CLUSTERS;
        rt->methods = NGX_AUTOSCALE_READS | NGX_AUTOSCALE_POST;
        return 0;

    case 2:
        rt->route = NGX_AUTOSCALE_ROUTE_CLUSTER;
        rt->methods = NGX_AUTOSCALE_READS | NGX_AUTOSCALE_PUT
                      | NGX_AUTOSCALE_DELETE;
        goto id;

    case 4:
        return -1;

    case 5:
        if (!ngx_autoscale_route_segment_is(seg[2], seglen[2], "agents")
            || !ngx_autoscale_route_segment_is(seg[4], seglen[4], "heartbeat"))
        {
            return -1;
        }

        rt->route = NGX_AUTOSCALE_ROUTE_HEARTBEAT;
        rt->methods = NGX_AUTOSCALE_POST;
        rt->agent = seg[3];
        rt->agent_len = seglen[3];
        goto id;
    }

    for (i = 0; i < sizeof(ngx_autoscale_subroutes)
                    / sizeof(ngx_autoscale_subroutes[0]); i++)
    {
        if (ngx_autoscale_route_segment_is(seg[2], seglen[2],
                                           ngx_autoscale_subroutes[i].name))
        {
            rt->route = ngx_autoscale_subroutes[i].route;
            rt->methods = ngx_autoscale_subroutes[i].methods;
            goto id;
        }
    }

    return -1;

id:

    rt->id = seg[1];
    rt->id_len = seglen[1];

    return 0;
}


static int
ngx_autoscale_route_segment_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}


int
ngx_autoscale_route_parse_args(const char *args, size_t len,
    const ngx_autoscale_arg_spec_t *spec, size_t nspec,
    ngx_autoscale_arg_t *out, ngx_autoscale_err_t *err)
{
    char         name[33], value[NGX_AUTOSCALE_ID_MAX * 3 + 1];
    size_t       i, name_len, value_len;
    const char  *p, *end, *pair, *eq, *pair_end;

    memset(out, 0, nspec * sizeof(ngx_autoscale_arg_t));

    if (len == 0) {
        return 0;
    }

    p = args;
    end = args + len;

    while (p < end) {
        pair = p;
        while (p < end && *p != '&') {
            p++;
        }
        pair_end = p;

        if (p < end) {
            p++;
        }

        if (pair == pair_end) {
            continue;
        }

        eq = memchr(pair, '=', pair_end - pair);
        if (eq == NULL) {
            eq = pair_end;
        }

        name_len = ngx_autoscale_route_unescape(pair, eq - pair, name,
                                                sizeof(name));

        for (i = 0; i < nspec; i++) {
            if (name_len != (size_t) -1
                && strlen(spec[i].name) == name_len
                && memcmp(spec[i].name, name, name_len) == 0)
            {
                break;
            }
        }

        if (i == nspec) {
            if (name_len != (size_t) -1
                && ngx_autoscale_route_valid_id(name, name_len))
            {
                ngx_autoscale_route_set_err(err, 400, "InvalidQuery",
                                            "unknown query parameter '%.*s'",
                                            (int) name_len, name);
            } else {
                ngx_autoscale_route_set_err(err, 400, "InvalidQuery",
                                            "unknown query parameter");
            }
            return -1;
        }

        if (out[i].present) {
            ngx_autoscale_route_set_err(err, 400, "InvalidQuery",
                                        "query parameter '%s' is given twice",
                                        spec[i].name);
            return -1;
        }

        value_len = (size_t) -1;
        if (eq < pair_end) {
            value_len = ngx_autoscale_route_unescape(eq + 1, pair_end - eq - 1,
                                                     value, sizeof(value));
        }

        if (ngx_autoscale_route_parse_arg(&spec[i], value, value_len, &out[i],
                                          err)
            != 0)
        {
            return -1;
        }

        out[i].present = 1;
    }

    return 0;
}


static int
ngx_autoscale_route_parse_arg(const ngx_autoscale_arg_spec_t *spec,
    const char *value, size_t len, ngx_autoscale_arg_t *out,
    ngx_autoscale_err_t *err)
{
    size_t      i;
    long long   n;

    if (spec->kind == NGX_AUTOSCALE_ARG_INT) {
        n = 0;

        /* at most 18 digits, so n cannot overflow */
        if (len == (size_t) -1 || len == 0 || len > 18) {
            goto bad_int;
        }

        for (i = 0; i < len; i++) {
            if (value[i] < '0' || value[i] > '9') {
                goto bad_int;
            }
            n = n * 10 + (value[i] - '0');
        }

        if (n < spec->min || n > spec->max) {
            goto bad_int;
        }

        out->num = n;
        return 0;

    bad_int:

        ngx_autoscale_route_set_err(err, 400, "InvalidQuery",
                                    "query parameter '%s' must be an integer "
                                    "from %lld to %lld",
                                    spec->name, spec->min, spec->max);
        return -1;
    }

    if (spec->kind == NGX_AUTOSCALE_ARG_TIME) {
        if (len == (size_t) -1 || !ngx_autoscale_route_valid_time(value, len)) {
            ngx_autoscale_route_set_err(err, 400, "InvalidQuery",
                                        "query parameter '%s' must be an RFC "
                                        "3339 time, e.g. 2026-02-18T21:50:00Z",
                                        spec->name);
            return -1;
        }

        memcpy(out->str, value, len);
        out->str[len] = '\0';
        return 0;
    }

    if (spec->choices) {
        for (i = 0; len != (size_t) -1 && spec->choices[i]; i++) {
            if (strlen(spec->choices[i]) == len
                && memcmp(spec->choices[i], value, len) == 0)
            {
                memcpy(out->str, value, len);
                out->str[len] = '\0';
                return 0;
            }
        }

        ngx_autoscale_route_set_err(err, 400, "InvalidQuery",
                                    "query parameter '%s' has an unknown value",
                                    spec->name);
        return -1;
    }

    if (len == (size_t) -1 || (long long) len > spec->max
        || !ngx_autoscale_route_valid_id(value, len))
    {
        ngx_autoscale_route_set_err(err, 400, "InvalidQuery",
                                    "query parameter '%s' must be 1 to %lld "
                                    "letters, digits, '-' or '_'",
                                    spec->name, spec->max);
        return -1;
    }

    memcpy(out->str, value, len);
    out->str[len] = '\0';

    return 0;
}


static int
ngx_autoscale_route_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* percent-decodes into out; (size_t) -1 when malformed or too long */
static size_t
ngx_autoscale_route_unescape(const char *s, size_t len, char *out, size_t size)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (n + 1 >= size) {
            return (size_t) -1;
        }

        if (s[i] == '+') {
            out[n++] = ' ';
            continue;
        }

        if (s[i] != '%') {
            out[n++] = s[i];
            continue;
        }

        if (len - i < 3) {
            return (size_t) -1;
        }

        hi = ngx_autoscale_route_hex((unsigned char) s[i + 1]);
        lo = ngx_autoscale_route_hex((unsigned char) s[i + 2]);

        if (hi < 0 || lo < 0) {
            return (size_t) -1;
        }

        out[n++] = (char) (hi * 16 + lo);
        i += 2;
    }

    out[n] = '\0';

    return n;
}


static int
ngx_autoscale_route_digits(const char *s, size_t n, int *value)
{
    size_t  i;

    *value = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        *value = *value * 10 + (s[i] - '0');
    }

    return 1;
}


/*
 * YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), with real calendar days,
 * so that the database never sees a time it would reject
 */
int
ngx_autoscale_route_valid_time(const char *s, size_t len)
{
    int          year, month, day, hour, minute, second, oh, om, mdays;
    size_t       i;
    const char  *p, *end;

    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };

    if (len < 20 || len > 40
        || !ngx_autoscale_route_digits(s, 4, &year) || s[4] != '-'
        || !ngx_autoscale_route_digits(s + 5, 2, &month) || s[7] != '-'
        || !ngx_autoscale_route_digits(s + 8, 2, &day)
        || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || !ngx_autoscale_route_digits(s + 11, 2, &hour) || s[13] != ':'
        || !ngx_autoscale_route_digits(s + 14, 2, &minute) || s[16] != ':'
        || !ngx_autoscale_route_digits(s + 17, 2, &second))
    {
        return 0;
    }

    if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59
        || second > 59)
    {
        return 0;
    }

    mdays = days[month - 1];
    if (month == 2
        && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
    {
        mdays = 29;
    }

    if (day < 1 || day > mdays) {
        return 0;
    }

    p = s + 19;
    end = s + len;

    if (*p == '.') {
        for (i = 1; p + i < end && p[i] >= '0' && p[i] <= '9'; i++) {
            /* void */
        }

        if (i == 1 || i > 10) {
            return 0;
        }

        p += i;
    }

    if (p + 1 == end && (*p == 'Z' || *p == 'z')) {
        return 1;
    }

    return end - p == 6 && (*p == '+' || *p == '-')
           && ngx_autoscale_route_digits(p + 1, 2, &oh) && p[3] == ':'
           && ngx_autoscale_route_digits(p + 4, 2, &om) && oh <= 23 && om <= 59;
}
