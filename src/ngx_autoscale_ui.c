
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_ui [api=/path/]: serves the live page (ui/index.html, made
 * into ngx_autoscale_ui_page.h at build time) with the API's path written
 * into its data-api attribute.  The page is the same bytes for every
 * request of a location, so its ETag is computed once, at configuration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_api_reply.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_ui.h"
#include "ngx_autoscale_ui_page.h"


typedef struct {
    ngx_str_t   api;        /* the API's path, as the page fetches it */
    ngx_str_t   etag;       /* of the page as this location serves it */
} ngx_autoscale_ui_loc_conf_t;


static void *ngx_autoscale_ui_create_loc_conf(ngx_conf_t *cf);
static char *ngx_autoscale_ui_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_autoscale_ui_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_autoscale_ui_valid_api(ngx_str_t *api);
static ngx_int_t ngx_autoscale_ui_handler(ngx_http_request_t *r);
static ngx_int_t ngx_autoscale_ui_refuse(ngx_http_request_t *r);
static ngx_table_elt_t *ngx_autoscale_ui_header(ngx_http_request_t *r,
    const char *key, ngx_str_t *value);


/*
 * The page may load nothing but itself and talk to nothing but its own
 * origin: a browser refuses any other script, font, image or fetch.
 */
static ngx_str_t  ngx_autoscale_ui_csp = ngx_string(
    "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");

/* revalidated on every load: a new module or api= shows at once */
static ngx_str_t  ngx_autoscale_ui_cache = ngx_string("no-cache");
static ngx_str_t  ngx_autoscale_ui_nosniff = ngx_string("nosniff");
static ngx_str_t  ngx_autoscale_ui_referrer = ngx_string("no-referrer");


static ngx_command_t  ngx_autoscale_ui_commands[] = {

    { ngx_string("autoscale_ui"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_autoscale_ui_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_autoscale_ui_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_autoscale_ui_create_loc_conf,      /* create location configuration */
    ngx_autoscale_ui_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_autoscale_ui_module = {
    NGX_MODULE_V1,
    &ngx_autoscale_ui_module_ctx,          /* module context */
    ngx_autoscale_ui_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_autoscale_ui_create_loc_conf(ngx_conf_t *cf)
{
    ngx_autoscale_ui_loc_conf_t  *uicf;

    /* api and etag: empty until the directive sets them */
    uicf = ngx_pcalloc(cf->pool, sizeof(ngx_autoscale_ui_loc_conf_t));

    return uicf;
}


/* a location's page is its own: nothing is inherited */
static char *
ngx_autoscale_ui_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    return NGX_CONF_OK;
}


static char *
ngx_autoscale_ui_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_autoscale_ui_loc_conf_t  *uicf = conf;

    uint32_t                   crc;
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (uicf->api.len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_set(&uicf->api, "/api/");

    if (cf->args->nelts == 2) {
        if (value[1].len <= 4
            || ngx_strncmp(value[1].data, "api=", 4) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in "
                               "\"autoscale_ui\": \"api=/path/\" is "
                               "expected", &value[1]);
            return NGX_CONF_ERROR;
        }

        uicf->api.data = value[1].data + 4;
        uicf->api.len = value[1].len - 4;

        if (ngx_autoscale_ui_valid_api(&uicf->api) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid api path \"%V\" in "
                               "\"autoscale_ui\": a path on this server "
                               "is expected, starting with one \"/\", of "
                               "at most %d letters, digits and "
                               "\"/._~-\", e.g. api=/api/",
                               &uicf->api, NGX_AUTOSCALE_UI_API_MAX);
            return NGX_CONF_ERROR;
        }
    }

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) ngx_autoscale_ui_head,
                     sizeof(ngx_autoscale_ui_head));
    ngx_crc32_update(&crc, uicf->api.data, uicf->api.len);
    ngx_crc32_update(&crc, (u_char *) ngx_autoscale_ui_tail,
                     sizeof(ngx_autoscale_ui_tail));
    ngx_crc32_final(crc);

    uicf->etag.data = ngx_pnalloc(cf->pool, sizeof("\"12345678\"") - 1);
    if (uicf->etag.data == NULL) {
        return NGX_CONF_ERROR;
    }

    uicf->etag.len = ngx_sprintf(uicf->etag.data, "\"%08xD\"", crc)
                     - uicf->etag.data;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_autoscale_ui_handler;

    return NGX_CONF_OK;
}


/*
 * The path goes into an HTML attribute and a fetch() unescaped, so only
 * characters that need no escaping in either; "//" would name another host.
 */
static ngx_int_t
ngx_autoscale_ui_valid_api(ngx_str_t *api)
{
    u_char      c;
    ngx_uint_t  i;

    if (api->len == 0 || api->len > NGX_AUTOSCALE_UI_API_MAX
        || api->data[0] != '/'
        || (api->len > 1 && api->data[1] == '/'))
    {
        return NGX_ERROR;
    }

    for (i = 0; i < api->len; i++) {
        c = api->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '/' || c == '.' || c == '_' || c == '~' || c == '-')
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_ui_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_uint_t                    i;
    ngx_chain_t                   out[3];
    ngx_autoscale_ui_loc_conf_t  *uicf;

    static ngx_str_t  type = ngx_string("text/html; charset=utf-8");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_autoscale_ui_refuse(r);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    uicf = ngx_http_get_module_loc_conf(r, ngx_http_autoscale_ui_module);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = sizeof(ngx_autoscale_ui_head)
                                      + uicf->api.len
                                      + sizeof(ngx_autoscale_ui_tail);

    /* with the ETag known, nginx answers If-None-Match with a 304 */
    r->headers_out.etag = ngx_autoscale_ui_header(r, "ETag", &uicf->etag);

    if (r->headers_out.etag == NULL
        || ngx_autoscale_ui_header(r, "Cache-Control",
                                   &ngx_autoscale_ui_cache) == NULL
        || ngx_autoscale_ui_header(r, "Content-Security-Policy",
                                   &ngx_autoscale_ui_csp) == NULL
        || ngx_autoscale_ui_header(r, "X-Content-Type-Options",
                                   &ngx_autoscale_ui_nosniff) == NULL
        || ngx_autoscale_ui_header(r, "Referrer-Policy",
                                   &ngx_autoscale_ui_referrer) == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    for (i = 0; i < 3; i++) {
        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->memory = 1;
        out[i].buf = b;
        out[i].next = (i < 2) ? &out[i + 1] : NULL;
    }

    out[0].buf->pos = (u_char *) ngx_autoscale_ui_head;
    out[0].buf->last = out[0].buf->pos + sizeof(ngx_autoscale_ui_head);
    out[1].buf->pos = uicf->api.data;
    out[1].buf->last = uicf->api.data + uicf->api.len;
    out[2].buf->pos = (u_char *) ngx_autoscale_ui_tail;
    out[2].buf->last = out[2].buf->pos + sizeof(ngx_autoscale_ui_tail);
    out[2].buf->last_buf = (r == r->main) ? 1 : 0;
    out[2].buf->last_in_chain = 1;

    return ngx_http_output_filter(r, &out[0]);
}


/* any method but GET and HEAD: 405 in the API's JSON shape */
static ngx_int_t
ngx_autoscale_ui_refuse(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_str_t            allow = ngx_string("GET, HEAD");
    ngx_autoscale_err_t  err;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_autoscale_ui_header(r, "Allow", &allow) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_autoscale_route_set_err(&err, NGX_HTTP_NOT_ALLOWED,
                                "MethodNotAllowed",
                                "method %.*s is not allowed here",
                                (int) ngx_min(r->method_name.len, 16),
                                r->method_name.data);

    return ngx_autoscale_api_reply_error(r, &err);
}


static ngx_table_elt_t *
ngx_autoscale_ui_header(ngx_http_request_t *r, const char *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value = *value;

    return h;
}
