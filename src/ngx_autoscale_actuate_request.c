
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * An internal request without a client.  A timer has no request to hang
 * a subrequest on, so the leader makes a connection that has no socket
 * (fd -1) and a main request on it that never runs itself: it holds the
 * request body, the headers and the variables.  The location runs as a
 * subrequest of it, whose output the module's filters swallow; its status
 * comes back to the post-subrequest handler.  When the subrequest is done
 * nginx posts the main request, whose handler frees it all.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale_actuate.h"


static ngx_connection_t *ngx_autoscale_actuate_connection(ngx_log_t *log);
static void ngx_autoscale_actuate_close(ngx_connection_t *c);
static ngx_http_request_t *ngx_autoscale_actuate_request(
    ngx_autoscale_actuate_req_t *ar, ngx_connection_t *c);
static ngx_int_t ngx_autoscale_actuate_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_autoscale_actuate_header(ngx_http_request_t *r,
    const char *key, ngx_str_t *value, ngx_table_elt_t **h);
static void ngx_autoscale_actuate_named(ngx_http_request_t *r);
static ngx_int_t ngx_autoscale_actuate_answered(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_autoscale_actuate_main_done(ngx_http_request_t *r);
static void ngx_autoscale_actuate_free(ngx_autoscale_actuate_req_t *ar);


static ngx_str_t  ngx_autoscale_actuate_post = ngx_string("POST");
static ngx_str_t  ngx_autoscale_actuate_json = ngx_string("application/json");

/* the address variables of the request read: nobody, not a null pointer */
static struct sockaddr_in  ngx_autoscale_actuate_sin;


ngx_int_t
ngx_autoscale_actuate_start(ngx_autoscale_actuate_req_t *ar)
{
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_http_request_t            *r, *sr;
    ngx_http_post_subrequest_t    *ps;
    ngx_autoscale_actuate_conf_t  *acf;

    acf = ar->actuator->conf;

    c = ngx_autoscale_actuate_connection(ar->actuator->leader->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    r = ngx_autoscale_actuate_request(ar, c);
    if (r == NULL) {
        ngx_autoscale_actuate_close(c);
        return NGX_ERROR;
    }

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        ngx_autoscale_actuate_close(c);
        return NGX_ERROR;
    }

    ps->handler = ngx_autoscale_actuate_answered;
    ps->data = ar;

    rc = ngx_http_subrequest(r, &acf->uri, NULL, &sr, ps, 0);
    if (rc != NGX_OK) {
        ngx_autoscale_actuate_close(c);
        return NGX_ERROR;
    }

    /* subrequests are GETs; the location may still say proxy_method */
    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_autoscale_actuate_post;

    if (acf->uri.data[0] == '@') {
        sr->write_event_handler = ngx_autoscale_actuate_named;
    }

    ar->request = r;
    ar->state = NGX_AUTOSCALE_ACTUATE_SENDING;
    ar->actuator->sending++;

    ngx_add_timer(&ar->timeout_ev, acf->timeout);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "autoscale actuate: event %V of \"%V\" sent to \"%V\"",
                   &ar->id, &ar->cluster, &acf->uri);

    /* the subrequest runs now; it may end before this returns */
    ngx_http_run_posted_requests(c);

    return NGX_OK;
}


void
ngx_autoscale_actuate_abort(ngx_autoscale_actuate_req_t *ar)
{
    if (ar->state != NGX_AUTOSCALE_ACTUATE_SENDING || ar->request == NULL) {
        return;
    }

    ngx_autoscale_actuate_free(ar);
}


/* a connection of the free list with no socket behind it */
static ngx_connection_t *
ngx_autoscale_actuate_connection(ngx_log_t *log)
{
    ngx_log_t           *clog;
    ngx_pool_t          *pool;
    ngx_connection_t    *c, *saved;
    ngx_http_log_ctx_t  *ctx;

    /* ngx_get_connection() files the connection under its fd: lend it 0 */
    saved = ngx_cycle->files ? ngx_cycle->files[0] : NULL;

    c = ngx_get_connection(0, log);

    if (ngx_cycle->files) {
        ngx_cycle->files[0] = saved;
    }

    if (c == NULL) {
        return NULL;
    }

    c->fd = (ngx_socket_t) -1;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        c->pool = NULL;
        ngx_autoscale_actuate_close(c);
        return NULL;
    }

    c->pool = pool;

    clog = ngx_palloc(pool, sizeof(ngx_log_t));
    ctx = ngx_pcalloc(pool, sizeof(ngx_http_log_ctx_t));
    if (clog == NULL || ctx == NULL) {
        ngx_autoscale_actuate_close(c);
        return NULL;
    }

    *clog = *log;
    clog->connection = c->number;
    clog->handler = NULL;
    clog->data = ctx;
    clog->action = "actuating";

    ctx->connection = c;

    c->log = clog;
    c->log_error = NGX_ERROR_INFO;
    c->read->log = clog;
    c->write->log = clog;

    ngx_autoscale_actuate_sin.sin_family = AF_INET;
    c->sockaddr = (struct sockaddr *) &ngx_autoscale_actuate_sin;
    c->socklen = sizeof(struct sockaddr_in);
    c->local_sockaddr = c->sockaddr;
    c->local_socklen = c->socklen;

    /*
     * Nothing is ever read from it or written to it: the filters swallow
     * the output.  Its events are "active" so that nothing registers the
     * missing socket, and the write one "ready" so that the event pipe
     * passes its buffers to the filters at once.
     */
    c->read->active = 1;
    c->write->active = 1;
    c->write->ready = 1;
    c->tcp_nodelay = NGX_TCP_NODELAY_DISABLED;
    c->tcp_nopush = NGX_TCP_NOPUSH_DISABLED;

    return c;
}


static void
ngx_autoscale_actuate_close(ngx_connection_t *c)
{
    ngx_pool_t        *pool;
    ngx_connection_t  *saved;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;
    c->destroyed = 1;

    pool = c->pool;

    /* ngx_free_connection() clears files[fd]: lend it 0 again */
    saved = ngx_cycle->files ? ngx_cycle->files[0] : NULL;
    c->fd = 0;

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;

    if (ngx_cycle->files) {
        ngx_cycle->files[0] = saved;
    }

    if (pool) {
        ngx_destroy_pool(pool);
    }
}


static ngx_http_request_t *
ngx_autoscale_actuate_request(ngx_autoscale_actuate_req_t *ar,
    ngx_connection_t *c)
{
    ngx_http_request_t         *r;
    ngx_http_connection_t      *hc;
    ngx_http_conf_ctx_t        *server;
    ngx_http_core_main_conf_t  *cmcf;

    server = ar->actuator->conf->server;

    r = ngx_pcalloc(c->pool, sizeof(ngx_http_request_t));
    hc = ngx_pcalloc(c->pool, sizeof(ngx_http_connection_t));
    if (r == NULL || hc == NULL) {
        return NULL;
    }

    hc->conf_ctx = server;

    r->pool = c->pool;
    r->connection = c;
    r->http_connection = hc;
    r->signature = NGX_HTTP_MODULE;
    r->main = r;
    r->count = 1;

    r->main_conf = server->main_conf;
    r->srv_conf = server->srv_conf;
    r->loc_conf = server->loc_conf;

    r->ctx = ngx_pcalloc(r->pool, sizeof(void *) * ngx_http_max_module);
    if (r->ctx == NULL) {
        return NULL;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    r->variables = ngx_pcalloc(r->pool, cmcf->variables.nelts
                                        * sizeof(ngx_http_variable_value_t));
    if (r->variables == NULL) {
        return NULL;
    }

    if (ngx_list_init(&r->headers_in.headers, r->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK
        || ngx_list_init(&r->headers_out.headers, r->pool, 4,
                         sizeof(ngx_table_elt_t))
           != NGX_OK
        || ngx_list_init(&r->headers_out.trailers, r->pool, 1,
                         sizeof(ngx_table_elt_t))
           != NGX_OK)
    {
        return NULL;
    }

    r->headers_in.keep_alive_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    r->method = NGX_HTTP_POST;
    r->method_name = ngx_autoscale_actuate_post;
    r->http_version = NGX_HTTP_VERSION_11;
    r->uri = ar->actuator->conf->uri;
    r->unparsed_uri = r->uri;
    r->internal = 1;

    r->uri_changes = NGX_HTTP_MAX_URI_CHANGES + 1;
    r->subrequests = NGX_HTTP_MAX_SUBREQUESTS + 1;
    r->http_state = NGX_HTTP_PROCESS_REQUEST_STATE;
    r->start_sec = ngx_time();
    r->start_msec = ngx_current_msec % 1000;

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_autoscale_actuate_main_done;

    ((ngx_http_log_ctx_t *) c->log->data)->request = r;
    ((ngx_http_log_ctx_t *) c->log->data)->current_request = r;

    c->data = r;
    c->requests++;

    if (ngx_autoscale_actuate_body(r, &ar->body) != NGX_OK) {
        return NULL;
    }

    return r;
}


/* the NOTIFY payload as a request body that proxy_pass sends as it is */
static ngx_int_t
ngx_autoscale_actuate_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char     *p;
    ngx_buf_t  *b;
    ngx_str_t   len;

    r->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    if (r->request_body == NULL || b == NULL) {
        return NGX_ERROR;
    }

    r->request_body->bufs = ngx_alloc_chain_link(r->pool);
    if (r->request_body->bufs == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;

    r->request_body->bufs->buf = b;
    r->request_body->bufs->next = NULL;

    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len.data = p;
    len.len = ngx_sprintf(p, "%uz", body->len) - p;

    r->headers_in.content_length_n = body->len;

    if (ngx_autoscale_actuate_header(r, "Content-Type",
                                     &ngx_autoscale_actuate_json,
                                     &r->headers_in.content_type)
        != NGX_OK
        || ngx_autoscale_actuate_header(r, "Content-Length", &len,
                                        &r->headers_in.content_length)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_actuate_header(ngx_http_request_t *r, const char *key,
    ngx_str_t *value, ngx_table_elt_t **h)
{
    size_t            n;
    ngx_table_elt_t  *e;

    e = ngx_list_push(&r->headers_in.headers);
    if (e == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(e, sizeof(ngx_table_elt_t));

    n = ngx_strlen(key);

    e->key.data = (u_char *) key;
    e->key.len = n;
    e->value = *value;

    e->lowcase_key = ngx_pnalloc(r->pool, n);
    if (e->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    e->hash = ngx_hash_strlow(e->lowcase_key, e->key.data, n);

    *h = e;

    return NGX_OK;
}


/* the first run of a subrequest for a named location */
static void
ngx_autoscale_actuate_named(ngx_http_request_t *r)
{
    ngx_autoscale_actuate_req_t  *ar;

    ar = ngx_autoscale_actuate_find(r);
    if (ar == NULL) {
        return;
    }

    /* as error_page does: the named location's phases, then DONE */
    ngx_http_finalize_request(r, ngx_http_named_location(
                                     r, &ar->actuator->conf->uri));
}


/*
 * The location's answer.  Whatever it is, the subrequest ends as a
 * success for nginx, so that nothing tries to close the client connection
 * it does not have: the outcome is the module's alone.
 */
static ngx_int_t
ngx_autoscale_actuate_answered(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_autoscale_actuate_req_t  *ar = data;

    ngx_int_t             status;
    ngx_http_upstream_t  *u;

    if (ar->answered || ar->state != NGX_AUTOSCALE_ACTUATE_SENDING) {
        return NGX_OK;
    }

    ar->answered = 1;

    status = (rc >= NGX_HTTP_OK && rc < 1000) ? rc : ar->status;

    if (status == 0 && rc == NGX_OK) {
        status = r->headers_out.status;
    }

    ar->status = status;

    u = r->upstream;

    if (status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE) {
        ar->result = NGX_AUTOSCALE_ACTUATE_SUCCESS;
        ar->error_len = 0;

    } else if (status && u && u->headers_in.status_n == 0) {
        /* nginx's own status: nothing came back from the upstream */
        ar->result = NGX_AUTOSCALE_ACTUATE_FAILURE;
        ar->error_len = ngx_snprintf(ar->error, sizeof(ar->error),
                                     "no answer from the orchestrator (%i)",
                                     status)
                        - ar->error;

    } else if (status) {
        ar->result = NGX_AUTOSCALE_ACTUATE_FAILURE;
        ar->error_len = ngx_snprintf(ar->error, sizeof(ar->error),
                                     "the location answered %i", status)
                        - ar->error;

    } else {
        ar->result = NGX_AUTOSCALE_ACTUATE_FAILURE;
        ar->error_len = ngx_snprintf(ar->error, sizeof(ar->error),
                                     "the location failed (%i)", rc)
                        - ar->error;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale actuate: event %V answered: rc %i, status %i",
                   &ar->id, rc, status);

    return NGX_OK;
}


/* the subrequest is done: nginx posted its parent, the fake main request */
static void
ngx_autoscale_actuate_main_done(ngx_http_request_t *r)
{
    ngx_autoscale_actuate_req_t  *ar;

    ar = ngx_autoscale_actuate_find(r);
    if (ar == NULL || !ar->answered) {
        return;
    }

    ngx_autoscale_actuate_free(ar);
    ngx_autoscale_actuate_ended(ar);
}


static void
ngx_autoscale_actuate_free(ngx_autoscale_actuate_req_t *ar)
{
    ngx_http_request_t  *r;
    ngx_http_cleanup_t  *cln;

    r = ar->request;

    if (ar->timeout_ev.timer_set) {
        ngx_del_timer(&ar->timeout_ev);
    }

    /*
     * The upstream's cleanup closes a connection still open, as when a
     * client goes away; the filters still know the request meanwhile.
     */
    cln = r->cleanup;
    r->cleanup = NULL;

    while (cln) {
        if (cln->handler) {
            cln->handler(cln->data);
        }

        cln = cln->next;
    }

    ar->request = NULL;
    ar->actuator->sending--;

    ngx_autoscale_actuate_close(r->connection);
}
