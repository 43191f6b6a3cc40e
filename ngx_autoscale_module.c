
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Glue to nginx: directives, configuration, the shared zone and the
 * per-worker start and stop.  The work is done under src/.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_actuate.h"
#include "ngx_autoscale_api.h"
#include "ngx_autoscale_hold.h"
#include "ngx_autoscale_leader.h"
#include "ngx_autoscale_limits.h"
#include "ngx_autoscale_pg_conf.h"
#include "ngx_autoscale_observe.h"
#include "ngx_autoscale_pg.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_upstream.h"


typedef struct {
    ngx_msec_t   min;
    ngx_msec_t   max;
    const char  *range;       /* the same bounds, for the message */
} ngx_http_autoscale_time_bounds_t;


typedef struct {
    ngx_uint_t   min;
    ngx_uint_t   max;
} ngx_http_autoscale_num_bounds_t;


static void *ngx_http_autoscale_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_autoscale_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_autoscale_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_autoscale_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_autoscale_postgres(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_autoscale_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_autoscale_set_time(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_autoscale_set_num(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_autoscale_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_autoscale_observe(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_autoscale_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_autoscale_init_process(ngx_cycle_t *cycle);
static void ngx_http_autoscale_exit_process(ngx_cycle_t *cycle);
static ngx_http_autoscale_main_conf_t *ngx_http_autoscale_cycle_conf(
    ngx_cycle_t *cycle);
static ngx_int_t ngx_http_autoscale_add_zone(ngx_conf_t *cf,
    ngx_http_autoscale_main_conf_t *amcf, ngx_str_t *name, size_t size);


static ngx_http_autoscale_time_bounds_t  ngx_http_autoscale_interval_bounds =
    { 1000, 86400000, "from 1s to 1d" };

static ngx_http_autoscale_time_bounds_t  ngx_http_autoscale_timeout_bounds =
    { 10, 3600000, "from 10ms to 1h" };

/* in seconds */
static ngx_http_autoscale_time_bounds_t  ngx_http_autoscale_retention_bounds =
    { 60, 3650 * 86400, "from 1m to 3650d" };

static ngx_http_autoscale_num_bounds_t  ngx_http_autoscale_pool_bounds =
    { 1, 64 };

static ngx_conf_enum_t  ngx_http_autoscale_api_writes[] = {
    { ngx_string("write=off"), NGX_AUTOSCALE_WRITE_OFF },
    { ngx_string("write=agents"), NGX_AUTOSCALE_WRITE_AGENTS },
    { ngx_string("write=on"), NGX_AUTOSCALE_WRITE_ON },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_autoscale_commands[] = {

    { ngx_string("autoscale_postgres"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_postgres,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("autoscale_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("autoscale_collect_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_set_time,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, collect_interval),
      &ngx_http_autoscale_interval_bounds },

    { ngx_string("autoscale_check_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_set_time,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, check_interval),
      &ngx_http_autoscale_interval_bounds },

    { ngx_string("autoscale_collector"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, collector),
      NULL },

    { ngx_string("autoscale_scaler"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, scaler),
      NULL },

    { ngx_string("autoscale_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, dry_run),
      NULL },

    { ngx_string("autoscale_db_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_set_num,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, db_pool),
      &ngx_http_autoscale_pool_bounds },

    { ngx_string("autoscale_db_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_set_time,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, db_timeout),
      &ngx_http_autoscale_timeout_bounds },

    { ngx_string("autoscale_metrics_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_set_time,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, metrics_retention),
      &ngx_http_autoscale_retention_bounds },

    { ngx_string("autoscale_events_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_set_time,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, events_retention),
      &ngx_http_autoscale_retention_bounds },

    { ngx_string("autoscale_agents_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_set_time,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_autoscale_main_conf_t, agents_retention),
      &ngx_http_autoscale_retention_bounds },

    { ngx_string("autoscale_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_autoscale_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("autoscale_observe"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_autoscale_observe,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("autoscale_upstream"),
      NGX_HTTP_UPS_CONF|NGX_CONF_1MORE,
      ngx_autoscale_upstream_directive,
      0,
      0,
      NULL },

    { ngx_string("autoscale_actuate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_autoscale_actuate_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_autoscale_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_autoscale_postconfiguration,  /* postconfiguration */

    ngx_http_autoscale_create_main_conf,   /* create main configuration */
    ngx_http_autoscale_init_main_conf,     /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_autoscale_create_loc_conf,    /* create location configuration */
    ngx_http_autoscale_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_autoscale_module = {
    NGX_MODULE_V1,
    &ngx_http_autoscale_module_ctx,        /* module context */
    ngx_http_autoscale_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_autoscale_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_autoscale_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_autoscale_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_autoscale_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->shm_zone = NULL;
     *     amcf->api_locations = 0;
     *     amcf->pool = NULL;
     */

    amcf->collect_interval = NGX_CONF_UNSET_MSEC;
    amcf->check_interval = NGX_CONF_UNSET_MSEC;
    amcf->collector = NGX_CONF_UNSET;
    amcf->scaler = NGX_CONF_UNSET;
    amcf->dry_run = NGX_CONF_UNSET;
    amcf->db_pool = NGX_CONF_UNSET_UINT;
    amcf->db_timeout = NGX_CONF_UNSET_MSEC;
    amcf->metrics_retention = NGX_CONF_UNSET;
    amcf->events_retention = NGX_CONF_UNSET;
    amcf->agents_retention = NGX_CONF_UNSET;

    amcf->pg = ngx_pcalloc(cf->pool, sizeof(ngx_autoscale_pg_conf_t));
    if (amcf->pg == NULL) {
        return NULL;
    }

    if (ngx_array_init(&amcf->observe_ids, cf->pool, 4, sizeof(ngx_str_t))
        != NGX_OK
        || ngx_array_init(&amcf->upstream_confs, cf->pool, 4,
                          sizeof(void *))
           != NGX_OK)
    {
        return NULL;
    }

    return amcf;
}


static char *
ngx_http_autoscale_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_autoscale_main_conf_t  *amcf = conf;

    ngx_str_t  name = ngx_string("autoscale");

    ngx_conf_init_msec_value(amcf->collect_interval, 30000);
    ngx_conf_init_msec_value(amcf->check_interval, 60000);
    ngx_conf_init_value(amcf->collector, 1);
    ngx_conf_init_value(amcf->scaler, 1);
    ngx_conf_init_value(amcf->dry_run, 0);
    ngx_conf_init_uint_value(amcf->db_pool, 4);
    ngx_conf_init_msec_value(amcf->db_timeout, 5000);
    ngx_conf_init_value(amcf->metrics_retention, 7 * 86400);
    ngx_conf_init_value(amcf->events_retention, 90 * 86400);
    ngx_conf_init_value(amcf->agents_retention, 7 * 86400);

    amcf->pg->pool_size = amcf->db_pool;
    amcf->pg->timeout = amcf->db_timeout;

    /* requests beyond this wait for nothing: they are answered 503 */
    amcf->pg->max_waiting = 256 * amcf->db_pool;

    if (amcf->api_locations && amcf->pg->conninfo.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_api\" needs \"autoscale_postgres\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    if (amcf->observe_locations && amcf->pg->conninfo.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_observe\" needs "
                           "\"autoscale_postgres\" in the http block");
        return NGX_CONF_ERROR;
    }

    if (amcf->upstreams && amcf->pg->conninfo.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_upstream\" needs "
                           "\"autoscale_postgres\" in the http block");
        return NGX_CONF_ERROR;
    }

    if (amcf->shm_zone == NULL && amcf->pg->conninfo.len) {
        if (ngx_http_autoscale_add_zone(cf, amcf, &name, 10 * 1024 * 1024)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_autoscale_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_autoscale_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_autoscale_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->prefix = { 0, NULL };
     *     alcf->observe = NULL;
     */

    alcf->api = NGX_CONF_UNSET;
    alcf->write = NGX_CONF_UNSET_UINT;

    return alcf;
}


static char *
ngx_http_autoscale_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_autoscale_loc_conf_t  *prev = parent;
    ngx_http_autoscale_loc_conf_t  *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /*
     * The API is served only where it is named, not in nested locations;
     * a limit_except block is the same location, for the other methods.
     */
    if (clcf->lmt_excpt && conf->api == NGX_CONF_UNSET && prev->api == 1) {
        conf->api = 1;
        conf->prefix = prev->prefix;
        clcf->handler = ngx_autoscale_api_handler;
    }

    ngx_conf_merge_value(conf->api, 0, 0);
    ngx_conf_merge_uint_value(conf->write, prev->write,
                              NGX_AUTOSCALE_WRITE_OFF);

    if (conf->observe == NULL) {
        conf->observe = prev->observe;
        conf->observe_id = prev->observe_id;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_autoscale_postgres(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_autoscale_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->pg->conninfo.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_postgres\" value \"\" is invalid: "
                           "a libpq connection string or URI is expected");
        return NGX_CONF_ERROR;
    }

    return ngx_autoscale_pg_conf_parse(cf, &value[1], amcf->pg);
}


static char *
ngx_http_autoscale_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_autoscale_main_conf_t  *amcf = conf;

    u_char     *colon;
    ssize_t     size;
    ngx_str_t  *value, name, s;

    if (amcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    colon = ngx_strlchr(value[1].data, value[1].data + value[1].len, ':');

    name.data = value[1].data;
    name.len = colon ? (size_t) (colon - value[1].data) : value[1].len;

    size = 10 * 1024 * 1024;

    if (colon) {
        s.data = colon + 1;
        s.len = value[1].data + value[1].len - s.data;
        size = ngx_parse_size(&s);
    }

    if (name.len == 0 || size == NGX_ERROR
        || size < (ssize_t) (8 * ngx_pagesize))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"autoscale_zone\": "
                           "name:size with a size of at least %uzk "
                           "is expected",
                           &value[1], 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_autoscale_add_zone(cf, amcf, &name, size) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* times with bounds, so that a bad value is named in the error */
static char *
ngx_http_autoscale_set_time(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t                          t;
    ngx_str_t                         *value;
    ngx_uint_t                         seconds;
    ngx_http_autoscale_time_bounds_t  *bounds = cmd->post;

    value = cf->args->elts;

    seconds = (bounds == &ngx_http_autoscale_retention_bounds);

    if (seconds ? *(time_t *) (p + cmd->offset) != NGX_CONF_UNSET
                : *(ngx_msec_t *) (p + cmd->offset) != NGX_CONF_UNSET_MSEC)
    {
        return "is duplicate";
    }

    t = ngx_parse_time(&value[1], seconds);

    if (t == NGX_ERROR || (ngx_msec_t) t < bounds->min
        || (ngx_msec_t) t > bounds->max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": a time %s "
                           "is expected",
                           &value[1], &cmd->name, bounds->range);
        return NGX_CONF_ERROR;
    }

    if (seconds) {
        *(time_t *) (p + cmd->offset) = (time_t) t;

    } else {
        *(ngx_msec_t *) (p + cmd->offset) = (ngx_msec_t) t;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_autoscale_set_num(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t                         n;
    ngx_str_t                        *value;
    ngx_uint_t                       *field;
    ngx_http_autoscale_num_bounds_t  *bounds = cmd->post;

    field = (ngx_uint_t *) (p + cmd->offset);

    if (*field != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || (ngx_uint_t) n < bounds->min
        || (ngx_uint_t) n > bounds->max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": a number "
                           "from %ui to %ui is expected",
                           &value[1], &cmd->name, bounds->min, bounds->max);
        return NGX_CONF_ERROR;
    }

    *field = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_autoscale_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_autoscale_loc_conf_t  *alcf = conf;

    ngx_str_t                       *value;
    ngx_conf_enum_t                 *w;
    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_autoscale_main_conf_t  *amcf;

    if (alcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    alcf->write = NGX_AUTOSCALE_WRITE_OFF;

    if (cf->args->nelts == 2) {
        for (w = ngx_http_autoscale_api_writes; w->name.len; w++) {
            if (w->name.len == value[1].len
                && ngx_strcmp(w->name.data, value[1].data) == 0)
            {
                break;
            }
        }

        if (w->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"autoscale_api\": "
                               "\"write=on\", \"write=agents\" or "
                               "\"write=off\" is expected", &value[1]);
            return NGX_CONF_ERROR;
        }

        alcf->write = w->value;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

#if (NGX_PCRE)
    if (clcf->regex) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_api\" needs a prefix location, "
                           "not the regular expression \"%V\"", &clcf->name);
        return NGX_CONF_ERROR;
    }
#endif

    if (clcf->named) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_api\" cannot serve the named "
                           "location \"%V\"", &clcf->name);
        return NGX_CONF_ERROR;
    }

    alcf->api = 1;
    alcf->prefix = clcf->name;
    clcf->handler = ngx_autoscale_api_handler;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_autoscale_module);
    amcf->api_locations++;

    return NGX_CONF_OK;
}


static char *
ngx_http_autoscale_observe(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_autoscale_loc_conf_t  *alcf = conf;

    ngx_str_t                         *value, *id;
    ngx_http_compile_complex_value_t   ccv;
    ngx_http_autoscale_main_conf_t    *amcf;

    if (alcf->observe) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_script_variables_count(&value[1]) == 0
        && !ngx_autoscale_route_valid_id((const char *) value[1].data,
                                         value[1].len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"autoscale_observe\": "
                           "a cluster id of 1 to %d letters, digits, '-' "
                           "or '_', or a variable, is expected",
                           &value[1], NGX_AUTOSCALE_ID_MAX);
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_autoscale_module);
    amcf->observe_locations++;

    if (ngx_http_script_variables_count(&value[1]) == 0) {
        /* the observe layer makes its node at start */
        alcf->observe_id = value[1];

        id = ngx_array_push(&amcf->observe_ids);
        if (id == NULL) {
            return NGX_CONF_ERROR;
        }

        *id = value[1];
    }

    alcf->observe = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (alcf->observe == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = alcf->observe;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_autoscale_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_autoscale_module);

    if (ngx_autoscale_actuate_postconfiguration(cf, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (amcf->api_locations
        && ngx_autoscale_api_filter_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (amcf->upstream_holds
        && ngx_autoscale_hold_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (amcf->observe_locations == 0) {
        return NGX_OK;
    }

    return ngx_autoscale_observe_init(cf);
}


static ngx_int_t
ngx_http_autoscale_init_process(ngx_cycle_t *cycle)
{
    ngx_http_autoscale_main_conf_t  *amcf;

    /* the cache manager and loader serve nothing and decide nothing */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_autoscale_cycle_conf(cycle);

    if (amcf == NULL || amcf->pg->conninfo.len == 0) {
        return NGX_OK;
    }

    amcf->pool = ngx_autoscale_pg_pool_create(cycle, amcf->pg);
    if (amcf->pool == NULL) {
        return NGX_ERROR;
    }

    if (amcf->observe_locations) {
        ngx_autoscale_observe_process(amcf->shm_zone, &amcf->observe_ids,
                                      cycle->log);
    }

    return ngx_autoscale_leader_init(cycle, amcf);
}


static void
ngx_http_autoscale_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_autoscale_main_conf_t  *amcf;

    amcf = ngx_http_autoscale_cycle_conf(cycle);

    ngx_autoscale_leader_exit(cycle);

    if (amcf && amcf->shm_zone && amcf->observe_locations) {
        ngx_autoscale_observe_exit(amcf->shm_zone);
    }

    if (amcf && amcf->pool) {
        ngx_autoscale_pg_pool_destroy(amcf->pool);
        amcf->pool = NULL;
    }
}


/* NULL where nginx.conf has no http block */
static ngx_http_autoscale_main_conf_t *
ngx_http_autoscale_cycle_conf(ngx_cycle_t *cycle)
{
    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NULL;
    }

    return ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_autoscale_module);
}


static ngx_int_t
ngx_http_autoscale_add_zone(ngx_conf_t *cf,
    ngx_http_autoscale_main_conf_t *amcf, ngx_str_t *name, size_t size)
{
    amcf->shm_zone = ngx_shared_memory_add(cf, name, size,
                                           &ngx_http_autoscale_module);
    if (amcf->shm_zone == NULL) {
        return NGX_ERROR;
    }

    if (amcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "autoscale zone \"%V\" is already used", name);
        return NGX_ERROR;
    }

    amcf->shm_zone->init = ngx_autoscale_shm_init_zone;
    amcf->shm_zone->data = amcf;

    return NGX_OK;
}
