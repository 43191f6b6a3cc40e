
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <libpq-fe.h>

#include "ngx_autoscale_pg_conf.h"


#define NGX_AUTOSCALE_PG_OPTIONS                                              \
    "-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=1"


/* what the parameters say about where and how to connect */
typedef struct {
    ngx_int_t                    host;      /* index of "host", or -1 */
    ngx_int_t                    port;
    ngx_int_t                    options;
    ngx_uint_t                   hostaddr;  /* "hostaddr" given */
    ngx_uint_t                   gssencmode;
    const char                  *host_origin;
} ngx_autoscale_pg_conf_found_t;


static ngx_int_t ngx_autoscale_pg_conf_copy(ngx_conf_t *cf,
    ngx_autoscale_pg_conf_t *pgcf, PQconninfoOption *opts,
    PQconninfoOption *with, PQconninfoOption *without, char *service,
    ngx_autoscale_pg_conf_found_t *found);
static ngx_int_t ngx_autoscale_pg_conf_session(ngx_conf_t *cf,
    ngx_autoscale_pg_conf_t *pgcf, ngx_autoscale_pg_conf_found_t *found);
static char *ngx_autoscale_pg_conf_defaults(ngx_conf_t *cf,
    ngx_str_t *conninfo, PQconninfoOption *opts, PQconninfoOption **with,
    PQconninfoOption **without, char **service);
static const char *ngx_autoscale_pg_conf_default(ngx_pool_t *pool,
    const char *keyword, PQconninfoOption *with, PQconninfoOption *without,
    char *service, const char **origin);
static char *ngx_autoscale_pg_conf_env_lines(ngx_conf_t *cf,
    ngx_str_t *conninfo);
static void ngx_autoscale_pg_conf_setenv(const char *name, const char *value);
static char *ngx_autoscale_pg_conf_resolve(ngx_conf_t *cf,
    ngx_autoscale_pg_conf_t *pgcf, ngx_int_t host, ngx_int_t port,
    const char *origin);
static ngx_int_t ngx_autoscale_pg_conf_split(ngx_pool_t *pool,
    const char *list, ngx_array_t *a);
static char *ngx_autoscale_pg_conf_join(ngx_pool_t *pool, ngx_array_t *a);
static char *ngx_autoscale_pg_conf_strdup(ngx_pool_t *pool, const char *s);
static char *ngx_autoscale_pg_conf_trim(char *s);


char *
ngx_autoscale_pg_conf_parse(ngx_conf_t *cf, ngx_str_t *conninfo,
    ngx_autoscale_pg_conf_t *pgcf)
{
    char                           *err, *cstr, *service;
    ngx_int_t                       rc;
    PQconninfoOption               *opts, *with, *without;
    ngx_autoscale_pg_conf_found_t   found;

    cstr = (char *) ngx_pnalloc(cf->pool, conninfo->len + 1);
    if (cstr == NULL) {
        return NGX_CONF_ERROR;
    }
    (void) ngx_cpystrn((u_char *) cstr, conninfo->data, conninfo->len + 1);

    if (ngx_strlen(cstr) != conninfo->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_postgres\" value \"%V\" contains "
                           "a NUL byte", conninfo);
        return NGX_CONF_ERROR;
    }

    err = NULL;
    opts = PQconninfoParse(cstr, &err);
    if (opts == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_postgres\" value \"%V\" is invalid: "
                           "%s", conninfo,
                           err ? ngx_autoscale_pg_conf_trim(err)
                               : "out of memory");
        if (err) {
            PQfreemem(err);
        }
        return NGX_CONF_ERROR;
    }

    if (ngx_autoscale_pg_conf_defaults(cf, conninfo, opts, &with, &without,
                                       &service)
        != NGX_CONF_OK)
    {
        PQconninfoFree(opts);
        return NGX_CONF_ERROR;
    }

    rc = ngx_autoscale_pg_conf_copy(cf, pgcf, opts, with, without, service,
                                    &found);

    PQconninfoFree(opts);
    PQconninfoFree(with);

    if (without) {
        PQconninfoFree(without);
    }

    if (rc != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    pgcf->conninfo = *conninfo;

    if (ngx_autoscale_pg_conf_session(cf, pgcf, &found) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (found.host == -1 && !found.hostaddr) {
        return ngx_autoscale_pg_conf_env_lines(cf, conninfo);
    }

    if (found.hostaddr) {
        return NGX_CONF_OK;
    }

    return ngx_autoscale_pg_conf_resolve(cf, pgcf, found.host, found.port,
                                         found.host_origin);
}


/*
 * The parameters libpq parsed, each filled from the service or the
 * environment where the string left it out, into pgcf's NULL-terminated
 * lists, noting where the host, port and options are.
 */
static ngx_int_t
ngx_autoscale_pg_conf_copy(ngx_conf_t *cf, ngx_autoscale_pg_conf_t *pgcf,
    PQconninfoOption *opts, PQconninfoOption *with,
    PQconninfoOption *without, char *service,
    ngx_autoscale_pg_conf_found_t *found)
{
    ngx_uint_t         n, i;
    const char        *val, *origin;
    PQconninfoOption  *o;

    n = 0;
    for (o = opts; o->keyword; o++) {
        n++;
    }

    /* room for hostaddr, gssencmode and options, and the NULL */
    pgcf->keywords = ngx_pcalloc(cf->pool, (n + 4) * sizeof(char *));
    pgcf->values = ngx_pcalloc(cf->pool, (n + 4) * sizeof(char *));
    if (pgcf->keywords == NULL || pgcf->values == NULL) {
        return NGX_ERROR;
    }

    found->host = -1;
    found->port = -1;
    found->options = -1;
    found->hostaddr = 0;
    found->gssencmode = 0;
    found->host_origin = NULL;
    i = 0;

    for (o = opts; o->keyword; o++) {
        val = o->val;
        origin = NULL;

        /* what the service gave is all here: libpq need not read it */
        if (service && ngx_strcmp(o->keyword, "service") == 0) {
            continue;
        }

        if (val == NULL || val[0] == '\0') {
            val = ngx_autoscale_pg_conf_default(cf->pool, o->keyword, with,
                                                without, service, &origin);
            if (val == NULL) {
                continue;
            }
        }

        pgcf->keywords[i] = ngx_autoscale_pg_conf_strdup(cf->pool,
                                                         o->keyword);
        pgcf->values[i] = ngx_autoscale_pg_conf_strdup(cf->pool, val);
        if (pgcf->keywords[i] == NULL || pgcf->values[i] == NULL) {
            return NGX_ERROR;
        }

        if (ngx_strcmp(o->keyword, "host") == 0) {
            found->host = i;
            found->host_origin = origin;

        } else if (ngx_strcmp(o->keyword, "port") == 0) {
            found->port = i;

        } else if (ngx_strcmp(o->keyword, "hostaddr") == 0) {
            found->hostaddr = 1;

        } else if (ngx_strcmp(o->keyword, "gssencmode") == 0) {
            found->gssencmode = 1;

        } else if (ngx_strcmp(o->keyword, "options") == 0) {
            found->options = i;
        }

        i++;
    }

    return NGX_OK;
}


/* what every session needs, added after the parameters copied */
static ngx_int_t
ngx_autoscale_pg_conf_session(ngx_conf_t *cf, ngx_autoscale_pg_conf_t *pgcf,
    ngx_autoscale_pg_conf_found_t *found)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i;

    for (i = 0; pgcf->keywords[i]; i++) { /* void */ }

    /* Kerberos may look host names up, blocking, while it connects */
    if (!found->gssencmode) {
        pgcf->keywords[i] = "gssencmode";
        pgcf->values[i++] = "disable";
    }

    /*
     * Times in UTC and ISO form, floats in their shortest exact form: the
     * text then goes into JSON as it is, without a conversion in SQL.
     */
    if (found->options == -1) {
        pgcf->keywords[i] = "options";
        pgcf->values[i] = NGX_AUTOSCALE_PG_OPTIONS;
        return NGX_OK;
    }

    len = ngx_strlen(pgcf->values[found->options]);
    p = ngx_pnalloc(cf->pool, len + sizeof(" " NGX_AUTOSCALE_PG_OPTIONS));
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(p, "%s %s%Z", pgcf->values[found->options],
                NGX_AUTOSCALE_PG_OPTIONS);
    pgcf->values[found->options] = (char *) p;

    return NGX_OK;
}


/*
 * libpq fills what a conninfo leaves out from a service (service= or
 * PGSERVICE) and from the environment (PGHOST, PGPORT, ...) when it
 * connects.  That is read here, in the master, where host names can be
 * resolved once: workers see only what "env" keeps, and must not look
 * names up.  "with" gets libpq's defaults with the service, "without"
 * (when there is a service) those without it, telling what it gave.
 */
static char *
ngx_autoscale_pg_conf_defaults(ngx_conf_t *cf, ngx_str_t *conninfo,
    PQconninfoOption *opts, PQconninfoOption **with,
    PQconninfoOption **without, char **service)
{
    char              *env, *saved;
    ngx_uint_t         given, from_env;
    PQconninfoOption  *o, *w;

    *with = NULL;
    *without = NULL;
    *service = NULL;
    from_env = 0;

    for (o = opts; o->keyword; o++) {
        if (ngx_strcmp(o->keyword, "service") == 0 && o->val && o->val[0]) {
            *service = ngx_autoscale_pg_conf_strdup(cf->pool, o->val);
            if (*service == NULL) {
                return NGX_CONF_ERROR;
            }
        }
    }

    env = getenv("PGSERVICE");
    saved = NULL;

    if (env && env[0]) {
        saved = ngx_autoscale_pg_conf_strdup(cf->pool, env);
        if (saved == NULL) {
            return NGX_CONF_ERROR;
        }

        if (*service == NULL) {
            *service = saved;
            from_env = 1;
        }
    }

    if (*service == NULL) {
        *with = PQconndefaults();
        goto done;
    }

    /*
     * PQconndefaults() reads the service only from the environment.  An
     * empty name stands for none: a variable nginx started with is only
     * ever replaced, as nginx keeps the start's environ for its workers.
     */
    ngx_autoscale_pg_conf_setenv("PGSERVICE", *service);
    *with = PQconndefaults();
    ngx_autoscale_pg_conf_setenv("PGSERVICE", "");
    *without = PQconndefaults();
    ngx_autoscale_pg_conf_setenv("PGSERVICE", saved);

    if (*without == NULL) {
        goto done;
    }

    given = 0;

    for (w = *with; w && w->keyword; w++) {
        if (ngx_strcmp(w->keyword, "service") != 0
            && ngx_autoscale_pg_conf_default(cf->pool, w->keyword, *with,
                                        *without, *service, NULL)
               != NULL)
        {
            given++;
        }
    }

    if (*with && given == 0) {
        /* libpq itself would fail every connection, and say so */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_postgres\" value \"%V\" is invalid: "
                           "service \"%s\"%s is not defined or sets "
                           "nothing", conninfo, *service,
                           from_env ? " (from PGSERVICE)" : "");
        PQconninfoFree(*with);
        PQconninfoFree(*without);
        return NGX_CONF_ERROR;
    }

done:

    if (*with == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_postgres\" value \"%V\": libpq "
                           "gave no defaults (out of memory)", conninfo);

        if (*without) {
            PQconninfoFree(*without);
        }

        return NGX_CONF_ERROR;
    }

    if (*service && *without == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_postgres\" value \"%V\": libpq "
                           "gave no defaults (out of memory)", conninfo);
        PQconninfoFree(*with);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The value libpq would give the option keyword, left out of the conninfo,
 * from the service or the environment, with where it came from in origin
 * (if not NULL); NULL if neither gives one.  Compiled-in defaults are left
 * to libpq in the worker: they name no host, and "user" is the worker's.
 */
static const char *
ngx_autoscale_pg_conf_default(ngx_pool_t *pool, const char *keyword,
    PQconninfoOption *with, PQconninfoOption *without, char *service,
    const char **origin)
{
    u_char            *p;
    char              *env;
    PQconninfoOption  *w, *wo;

    for (w = with; w->keyword; w++) {
        if (ngx_strcmp(w->keyword, keyword) == 0) {
            break;
        }
    }

    if (w->keyword == NULL || w->val == NULL || w->val[0] == '\0') {
        return NULL;
    }

    wo = NULL;

    for (wo = without; wo && wo->keyword; wo++) {
        if (ngx_strcmp(wo->keyword, keyword) == 0) {
            break;
        }
    }

    if (service
        && (wo == NULL || wo->keyword == NULL || wo->val == NULL
            || ngx_strcmp(wo->val, w->val) != 0))
    {
        if (origin) {
            p = ngx_pnalloc(pool, sizeof(" (from service \"\")")
                                  + ngx_strlen(service));
            if (p == NULL) {
                return NULL;
            }

            ngx_sprintf(p, " (from service \"%s\")%Z", service);
            *origin = (const char *) p;
        }

        return w->val;
    }

    env = w->envvar ? getenv(w->envvar) : NULL;

    if (env == NULL || env[0] == '\0') {
        return NULL;
    }

    if (origin) {
        p = ngx_pnalloc(pool, sizeof(" (from )") + ngx_strlen(w->envvar));
        if (p == NULL) {
            return NULL;
        }

        ngx_sprintf(p, " (from %s)%Z", w->envvar);
        *origin = (const char *) p;
    }

    return w->val;
}


/*
 * With no host from the string or the environment, libpq in a worker would
 * take one from an "env NAME=value" of nginx.conf, which only workers get,
 * and look it up there.  Only the lines before the http block are known.
 */
static char *
ngx_autoscale_pg_conf_env_lines(ngx_conf_t *cf, ngx_str_t *conninfo)
{
    size_t            len;
    ngx_str_t        *var;
    ngx_uint_t        i, k;
    ngx_core_conf_t  *ccf;

    static const char  *names[] = {
        "PGHOST", "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR", NULL
    };

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);
    var = ccf->env.elts;

    for (i = 0; i < ccf->env.nelts; i++) {
        for (k = 0; names[k]; k++) {
            len = ngx_strlen(names[k]);

            /* nginx keeps the name in len, "=value" after it */
            if (var[i].len == len && var[i].data[len] == '='
                && ngx_strncmp(var[i].data, names[k], len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"autoscale_postgres\" value \"%V\" "
                                   "names no host, and \"env %s\" would "
                                   "give the workers one to look up at run "
                                   "time: write it in the value or in the "
                                   "environment nginx starts with",
                                   conninfo, var[i].data);
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}


static void
ngx_autoscale_pg_conf_setenv(const char *name, const char *value)
{
    if (value) {
        (void) setenv(name, value, 1);

    } else {
        (void) unsetenv(name);
    }
}


/*
 * Host names are resolved here, once, at configuration time: libpq would
 * otherwise resolve them with a blocking lookup inside a worker.  Each name
 * becomes one host entry per address, with the address in hostaddr, so
 * libpq still tries every address in turn.  Socket directories stay.
 */
static char *
ngx_autoscale_pg_conf_resolve(ngx_conf_t *cf, ngx_autoscale_pg_conf_t *pgcf,
    ngx_int_t host, ngx_int_t port, const char *origin)
{
    ngx_str_t    *hosts, *ports, *h, *pt, *host_entry, *port_entry;
    ngx_str_t    *addr_entry;
    ngx_url_t     u;
    ngx_uint_t    i, k, nports, socket;
    ngx_array_t   in_hosts, in_ports, out_hosts, out_addrs, out_ports;

    if (ngx_autoscale_pg_conf_split(cf->pool, pgcf->values[host], &in_hosts)
        != NGX_OK
        || ngx_autoscale_pg_conf_split(cf->pool,
                                  port == -1 ? "" : pgcf->values[port],
                                  &in_ports)
           != NGX_OK
        || ngx_array_init(&out_hosts, cf->pool, 4, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&out_addrs, cf->pool, 4, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&out_ports, cf->pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    hosts = in_hosts.elts;
    ports = in_ports.elts;
    nports = (port == -1) ? 0 : in_ports.nelts;

    if (nports > 1 && nports != in_hosts.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_postgres\" value \"%V\" is invalid: "
                           "%ui ports for %ui hosts",
                           &pgcf->conninfo, nports, in_hosts.nelts);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < in_hosts.nelts; i++) {
        h = &hosts[i];
        pt = (nports > 1) ? &ports[i] : NULL;

        ngx_memzero(&u, sizeof(ngx_url_t));
        socket = (h->len == 0 || h->data[0] == '/' || h->data[0] == '@');

        if (!socket) {
            u.url = *h;
            u.default_port = 5432;
            u.no_port = 1;

            if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"autoscale_postgres\" host \"%V\"%s in "
                                   "\"%V\" cannot be resolved%s%s",
                                   h, origin ? origin : "", &pgcf->conninfo,
                                   u.err ? ": " : "", u.err ? u.err : "");
                return NGX_CONF_ERROR;
            }
        }

        /* a socket directory is one entry with no address */
        for (k = 0; k < (socket ? 1 : u.naddrs); k++) {
            host_entry = ngx_array_push(&out_hosts);
            port_entry = ngx_array_push(&out_ports);
            addr_entry = ngx_array_push(&out_addrs);
            if (host_entry == NULL || port_entry == NULL
                || addr_entry == NULL)
            {
                return NGX_CONF_ERROR;
            }

            *host_entry = *h;

            if (pt) {
                *port_entry = *pt;
            } else {
                ngx_str_null(port_entry);
            }

            ngx_str_null(addr_entry);

            if (socket) {
                continue;
            }

            addr_entry->data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN);
            if (addr_entry->data == NULL) {
                return NGX_CONF_ERROR;
            }
            addr_entry->len = ngx_sock_ntop(u.addrs[k].sockaddr,
                                            u.addrs[k].socklen,
                                            addr_entry->data,
                                            NGX_SOCKADDR_STRLEN, 0);
        }
    }

    pgcf->values[host] = ngx_autoscale_pg_conf_join(cf->pool, &out_hosts);

    if (nports > 1) {
        pgcf->values[port] = ngx_autoscale_pg_conf_join(cf->pool, &out_ports);
    }

    for (i = 0; pgcf->keywords[i]; i++) { /* void */ }

    pgcf->keywords[i] = "hostaddr";
    pgcf->values[i] = ngx_autoscale_pg_conf_join(cf->pool, &out_addrs);

    if (pgcf->values[host] == NULL || pgcf->values[port == -1 ? host : port]
        == NULL || pgcf->values[i] == NULL)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* libpq's comma-separated lists */

static ngx_int_t
ngx_autoscale_pg_conf_split(ngx_pool_t *pool, const char *list,
    ngx_array_t *a)
{
    u_char     *p, *last, *start;
    ngx_str_t  *item;

    if (ngx_array_init(a, pool, 4, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    p = (u_char *) list;
    last = p + ngx_strlen(list);

    for ( ;; ) {
        start = p;
        while (p < last && *p != ',') {
            p++;
        }

        item = ngx_array_push(a);
        if (item == NULL) {
            return NGX_ERROR;
        }
        item->data = start;
        item->len = p - start;

        if (p == last) {
            return NGX_OK;
        }

        p++;
    }
}


static char *
ngx_autoscale_pg_conf_join(ngx_pool_t *pool, ngx_array_t *a)
{
    u_char      *p, *s;
    size_t       len;
    ngx_str_t   *item;
    ngx_uint_t   i;

    item = a->elts;
    len = a->nelts;

    for (i = 0; i < a->nelts; i++) {
        len += item[i].len;
    }

    s = ngx_pnalloc(pool, len);
    if (s == NULL) {
        return NULL;
    }

    p = s;
    for (i = 0; i < a->nelts; i++) {
        if (i) {
            *p++ = ',';
        }
        p = ngx_cpymem(p, item[i].data, item[i].len);
    }
    *p = '\0';

    return (char *) s;
}



static char *
ngx_autoscale_pg_conf_strdup(ngx_pool_t *pool, const char *s)
{
    size_t   len;
    u_char  *p;

    len = ngx_strlen(s);

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len + 1);

    return (char *) p;
}


/* libpq's parse errors end with a newline; a config error is one line */
static char *
ngx_autoscale_pg_conf_trim(char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    while (len && (s[len - 1] == '\n' || s[len - 1] == ' ')) {
        s[--len] = '\0';
    }

    return s;
}
