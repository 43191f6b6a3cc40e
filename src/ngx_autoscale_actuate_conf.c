
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_actuate's directive, its variables and the filters that
 * swallow the output of its requests (nobody reads it).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_actuate.h"
#include "ngx_autoscale_pg_conf.h"


typedef struct {
    const char  *name;
    size_t       len;
    ngx_uint_t   msec;        /* a time, else a number */
    ngx_uint_t   min;
    ngx_uint_t   max;
    size_t       offset;
} ngx_autoscale_actuate_param_t;


static ngx_int_t ngx_autoscale_actuate_param(ngx_conf_t *cf,
    ngx_autoscale_actuate_conf_t *acf, ngx_str_t *value);
static ngx_http_conf_ctx_t *ngx_autoscale_actuate_server(ngx_conf_t *cf,
    ngx_str_t *uri, ngx_http_core_loc_conf_t **clcfp);
static ngx_http_core_loc_conf_t *ngx_autoscale_actuate_static(
    ngx_http_location_tree_node_t *node, u_char *uri, size_t len);
static ngx_int_t ngx_autoscale_actuate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_autoscale_actuate_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_autoscale_actuate_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


#define ngx_autoscale_actuate_field(f)                                        \
    offsetof(ngx_autoscale_actuate_conf_t, f)

static ngx_autoscale_actuate_param_t  ngx_autoscale_actuate_params[] = {
    { "tries=", 6, 0, 1, 1000, ngx_autoscale_actuate_field(tries) },
    { "backoff=", 8, 1, 10, 3600000, ngx_autoscale_actuate_field(backoff) },
    { "backoff_max=", 12, 1, 10, 86400000,
      ngx_autoscale_actuate_field(backoff_max) },
    { "timeout=", 8, 1, 1000, 3600000, ngx_autoscale_actuate_field(timeout) },
    { "concurrency=", 12, 0, 1, 256,
      ngx_autoscale_actuate_field(concurrency) },
    { NULL, 0, 0, 0, 0, 0 }
};


static ngx_http_variable_t  ngx_autoscale_actuate_vars[] = {

    { ngx_string("autoscale_cluster_id"), NULL,
      ngx_autoscale_actuate_variable,
      offsetof(ngx_autoscale_actuate_req_t, cluster),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("autoscale_target_workers"), NULL,
      ngx_autoscale_actuate_variable,
      offsetof(ngx_autoscale_actuate_req_t, to),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("autoscale_from_workers"), NULL,
      ngx_autoscale_actuate_variable,
      offsetof(ngx_autoscale_actuate_req_t, from),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("autoscale_event_id"), NULL,
      ngx_autoscale_actuate_variable,
      offsetof(ngx_autoscale_actuate_req_t, id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("autoscale_action"), NULL,
      ngx_autoscale_actuate_variable,
      offsetof(ngx_autoscale_actuate_req_t, action),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("autoscale_drain"), NULL,
      ngx_autoscale_actuate_variable,
      offsetof(ngx_autoscale_actuate_req_t, drain),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_output_header_filter_pt  ngx_autoscale_actuate_next_header;
static ngx_http_output_body_filter_pt    ngx_autoscale_actuate_next_body;


/* autoscale_actuate uri [tries=] [backoff=] [backoff_max=] [timeout=] ... */
char *
ngx_autoscale_actuate_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_autoscale_main_conf_t  *amcf = conf;

    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_autoscale_actuate_conf_t  *acf;

    if (amcf->actuate) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len < 2
        || (value[1].data[0] != '/' && value[1].data[0] != '@'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"autoscale_actuate\": "
                           "a location's path (\"/...\") or a named "
                           "location (\"@...\") is expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    acf = ngx_pcalloc(cf->pool, sizeof(ngx_autoscale_actuate_conf_t));
    if (acf == NULL) {
        return NGX_CONF_ERROR;
    }

    acf->uri = value[1];
    acf->tries = 8;
    acf->backoff = 1000;
    acf->backoff_max = 60000;
    acf->timeout = 30000;
    acf->concurrency = 16;

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_autoscale_actuate_param(cf, acf, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (acf->backoff_max < acf->backoff) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_actuate\": backoff_max is less "
                           "than backoff");
        return NGX_CONF_ERROR;
    }

    amcf->actuate = acf;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_autoscale_actuate_param(ngx_conf_t *cf, ngx_autoscale_actuate_conf_t *acf,
    ngx_str_t *value)
{
    ngx_int_t                       n;
    ngx_str_t                       s;
    ngx_autoscale_actuate_param_t  *p;

    for (p = ngx_autoscale_actuate_params; p->name; p++) {
        if (value->len > p->len
            && ngx_strncmp(value->data, p->name, p->len) == 0)
        {
            break;
        }
    }

    if (p->name == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in "
                           "\"autoscale_actuate\": tries=, backoff=, "
                           "backoff_max=, timeout= or concurrency= is "
                           "expected", value);
        return NGX_ERROR;
    }

    s.data = value->data + p->len;
    s.len = value->len - p->len;

    n = p->msec ? ngx_parse_time(&s, 0) : ngx_atoi(s.data, s.len);

    if (n == NGX_ERROR || (ngx_uint_t) n < p->min || (ngx_uint_t) n > p->max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"autoscale_actuate\": "
                           "%s %ui%s to %ui%s is expected", value,
                           p->msec ? "a time from" : "a number from",
                           p->msec ? p->min : p->min, p->msec ? "ms" : "",
                           p->max, p->msec ? "ms" : "");
        return NGX_ERROR;
    }

    if (p->msec) {
        *(ngx_msec_t *) ((u_char *) acf + p->offset) = (ngx_msec_t) n;

    } else {
        *(ngx_uint_t *) ((u_char *) acf + p->offset) = (ngx_uint_t) n;
    }

    return NGX_OK;
}


/*
 * The variables exist whether autoscale_actuate is set or not (empty
 * outside its requests); the filters and the location only with it.
 */
ngx_int_t
ngx_autoscale_actuate_postconfiguration(ngx_conf_t *cf,
    ngx_http_autoscale_main_conf_t *amcf)
{
    ngx_http_variable_t           *var, *v;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_autoscale_actuate_conf_t  *acf;

    for (v = ngx_autoscale_actuate_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    acf = amcf->actuate;

    if (acf == NULL) {
        return NGX_OK;
    }

    if (amcf->pg->conninfo.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_actuate\" needs "
                           "\"autoscale_postgres\" in the http block");
        return NGX_ERROR;
    }

    acf->server = ngx_autoscale_actuate_server(cf, &acf->uri, &clcf);

    if (acf->server == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_actuate\": no server has the "
                           "location \"%V\"", &acf->uri);
        return NGX_ERROR;
    }

    if (!clcf->internal && !clcf->named) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"autoscale_actuate\": the location \"%V\" is "
                           "not \"internal\": clients can call the "
                           "orchestrator through it", &acf->uri);
    }

    ngx_autoscale_actuate_next_header = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_autoscale_actuate_header_filter;

    ngx_autoscale_actuate_next_body = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_autoscale_actuate_body_filter;

    return NGX_OK;
}


/* the first server that has the location, by its exact name */
static ngx_http_conf_ctx_t *
ngx_autoscale_actuate_server(ngx_conf_t *cf, ngx_str_t *uri,
    ngx_http_core_loc_conf_t **clcfp)
{
    ngx_uint_t                  s;
    ngx_http_core_loc_conf_t   *clcf, **named;
    ngx_http_core_srv_conf_t  **cscfp;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        clcf = NULL;

        if (uri->data[0] == '@') {
            for (named = cscfp[s]->named_locations;
                 named && *named;
                 named++)
            {
                if ((*named)->name.len == uri->len
                    && ngx_strncmp((*named)->name.data, uri->data, uri->len)
                       == 0)
                {
                    clcf = *named;
                    break;
                }
            }

        } else {
            clcf = cscfp[s]->ctx->loc_conf[ngx_http_core_module.ctx_index];
            clcf = ngx_autoscale_actuate_static(clcf->static_locations,
                                                uri->data, uri->len);
        }

        if (clcf) {
            *clcfp = clcf;
            return cscfp[s]->ctx;
        }
    }

    return NULL;
}


/* as nginx finds a prefix location, but only one of exactly this name */
static ngx_http_core_loc_conf_t *
ngx_autoscale_actuate_static(ngx_http_location_tree_node_t *node,
    u_char *uri, size_t len)
{
    size_t     n;
    ngx_int_t  rc;

    while (node) {
        n = ngx_min(len, (size_t) node->len);

        rc = ngx_filename_cmp(uri, node->name, n);

        if (rc != 0) {
            node = (rc < 0) ? node->left : node->right;
            continue;
        }

        if (len == (size_t) node->len) {
            return node->exact ? node->exact : node->inclusive;
        }

        if (len > (size_t) node->len) {
            if (node->inclusive) {
                /* the nodes below hold the rest of the names */
                node = node->tree;
                uri += n;
                len -= n;
                continue;
            }

            node = node->right;
            continue;
        }

        node = node->left;
    }

    return NULL;
}


static ngx_int_t
ngx_autoscale_actuate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                    *s;
    ngx_autoscale_actuate_req_t  *ar;

    ar = ngx_autoscale_actuate_find(r);

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    if (ar == NULL) {
        v->len = 0;
        v->data = (u_char *) "";
        return NGX_OK;
    }

    s = (ngx_str_t *) ((u_char *) ar + data);

    v->len = s->len;
    v->data = s->data;

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_actuate_header_filter(ngx_http_request_t *r)
{
    ngx_autoscale_actuate_req_t  *ar;

    ar = ngx_autoscale_actuate_find(r);

    if (ar == NULL) {
        return ngx_autoscale_actuate_next_header(r);
    }

    if (r != r->main && ar->status == 0) {
        ar->status = r->headers_out.status;
    }

    r->header_sent = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_actuate_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                  *cl;
    ngx_autoscale_actuate_req_t  *ar;

    ar = ngx_autoscale_actuate_find(r);

    if (ar == NULL) {
        return ngx_autoscale_actuate_next_body(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;

        if (cl->buf->in_file) {
            cl->buf->file_pos = cl->buf->file_last;
        }
    }

    return NGX_OK;
}
