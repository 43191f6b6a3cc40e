
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * autoscale_upstream: the peers of an upstream{} block are a cluster's
 * serving agents, as their heartbeats put them in the shared zone, so a
 * worker that starts takes traffic at its first heartbeat and every nginx
 * worker sees the same peers without a reload.  A request goes to the
 * agent with the fewest requests in flight for its weight (counted in the
 * zone, so across workers); failures take an agent out as max_fails and
 * fail_timeout do for servers.  "server ... backup" lines of the block
 * serve, by nginx's own round robin, while no agent does.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_autoscale.h"
#include "ngx_autoscale_addr.h"
#include "ngx_autoscale_hold.h"
#include "ngx_autoscale_route.h"
#include "ngx_autoscale_shm.h"
#include "ngx_autoscale_upstream.h"


/* agents one request tries at most, besides the backup servers */
#define NGX_AUTOSCALE_UPSTREAM_TRIES  32

/* a turn of an agent of weight 1; divisible by every weight up to 12 */
#define NGX_AUTOSCALE_UPSTREAM_TURN   27720

/* a cluster the zone had no room for is looked for again after this */
#define NGX_AUTOSCALE_UPSTREAM_RETRY  1000


typedef enum {
    NGX_AUTOSCALE_UPSTREAM_COUNT = 0,
    NGX_AUTOSCALE_UPSTREAM_SECONDS,
    NGX_AUTOSCALE_UPSTREAM_MSEC
} ngx_autoscale_upstream_unit_e;


/* the directive's parameters: each an ngx_uint_t of the conf */
typedef struct {
    const char                    *name;
    ngx_autoscale_upstream_unit_e  unit;
    ngx_uint_t                     max;
    size_t                         offset;
} ngx_autoscale_upstream_param_t;


/* one request's */
typedef struct {
    ngx_autoscale_upstream_conf_t  *conf;
    ngx_autoscale_cluster_t        *cluster;
    ngx_autoscale_agent_t          *agent;       /* this try's; NULL: none */
    ngx_autoscale_agent_t          *reserved;    /* the first try's */
    ngx_uint_t                      ntried;
    ngx_autoscale_agent_t          *tried[NGX_AUTOSCALE_UPSTREAM_TRIES];

    /* a copy: a heartbeat may move the agent while nginx connects */
    ngx_autoscale_addr_t            addr;
    ngx_str_t                       name;

    /* nginx's round robin over the backup servers */
    void                           *backup_data;
    ngx_event_get_peer_pt           backup_get;
    ngx_event_free_peer_pt          backup_free;
    unsigned                        on_backup:1;
} ngx_autoscale_upstream_peer_t;


static ngx_int_t ngx_autoscale_upstream_param(
    ngx_autoscale_upstream_conf_t *ascf, ngx_str_t *param);
static ngx_int_t ngx_autoscale_upstream_init(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_autoscale_upstream_init_backup(ngx_conf_t *cf,
    ngx_autoscale_upstream_conf_t *ascf, ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_autoscale_upstream_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_autoscale_upstream_get(ngx_peer_connection_t *pc,
    void *data);
static ngx_autoscale_agent_t *ngx_autoscale_upstream_pick(
    ngx_autoscale_upstream_conf_t *ascf, ngx_autoscale_cluster_t *cluster,
    ngx_autoscale_upstream_peer_t *pd, ngx_uint_t cap,
    ngx_autoscale_addr_t *addr);
static ngx_uint_t ngx_autoscale_upstream_tried(
    ngx_autoscale_upstream_peer_t *pd, ngx_autoscale_agent_t *agent);
static void ngx_autoscale_upstream_free(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);


static const ngx_autoscale_upstream_param_t  ngx_autoscale_upstream_params[] =
{
    { "max_fails", NGX_AUTOSCALE_UPSTREAM_COUNT, 1000,
      offsetof(ngx_autoscale_upstream_conf_t, max_fails) },
    { "fail_timeout", NGX_AUTOSCALE_UPSTREAM_SECONDS, 86400,
      offsetof(ngx_autoscale_upstream_conf_t, fail_timeout) },
    { "hold", NGX_AUTOSCALE_UPSTREAM_MSEC, 3600000,
      offsetof(ngx_autoscale_upstream_conf_t, hold) },
    { "hold_max", NGX_AUTOSCALE_UPSTREAM_COUNT, 1000000,
      offsetof(ngx_autoscale_upstream_conf_t, hold_max) },
    { "max_conns", NGX_AUTOSCALE_UPSTREAM_COUNT, 1000000,
      offsetof(ngx_autoscale_upstream_conf_t, max_conns) },
    { NULL, 0, 0, 0 }
};
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_autoscale_upstream_set_session(
    ngx_peer_connection_t *pc, void *data);
static void ngx_autoscale_upstream_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif


char *
ngx_autoscale_upstream_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                       *value;
    ngx_uint_t                       i;
    ngx_http_upstream_server_t      *placeholder;
    ngx_http_upstream_srv_conf_t    *uscf;
    ngx_autoscale_upstream_conf_t   *ascf, **confs;
    ngx_http_autoscale_main_conf_t  *amcf;

    uscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_upstream_module);
    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_autoscale_module);

    /* keepalive wraps the method it finds: it must find this one */
    if (uscf->peer.init_upstream) {
        return "must come first in the upstream block: before "
               "\"keepalive\", and instead of another balancing method";
    }

    value = cf->args->elts;

    if (!ngx_autoscale_route_valid_id((const char *) value[1].data,
                                      value[1].len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"autoscale_upstream\": \"%V\" is not a cluster "
                           "id (1 to %d of A-Z, a-z, 0-9, - and _)",
                           &value[1], NGX_AUTOSCALE_ID_MAX);
        return NGX_CONF_ERROR;
    }

    ascf = ngx_pcalloc(cf->pool, sizeof(ngx_autoscale_upstream_conf_t));
    if (ascf == NULL) {
        return NGX_CONF_ERROR;
    }

    ascf->cluster_id = value[1];
    ascf->upstream = uscf;
    ascf->max_fails = 1;
    ascf->fail_timeout = 10;
    ascf->hold = 30000;
    ascf->hold_max = 1000;
    ngx_queue_init(&ascf->waiting);

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_autoscale_upstream_param(ascf, &value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"autoscale_upstream\": invalid parameter "
                               "\"%V\" (max_fails=0..1000, "
                               "fail_timeout=0s..1d, hold=0s..1h, "
                               "hold_max=0..1000000, "
                               "max_conns=0..1000000)", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    /* an upstream block must hold a server: this one stands for the agents */
    placeholder = ngx_array_push(uscf->servers);
    if (placeholder == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(placeholder, sizeof(ngx_http_upstream_server_t));
    placeholder->name = value[1];
    ascf->placeholder = uscf->servers->nelts - 1;

    uscf->peer.init_upstream = ngx_autoscale_upstream_init;
    uscf->peer.data = ascf;

    confs = ngx_array_push(&amcf->upstream_confs);
    if (confs == NULL) {
        return NGX_CONF_ERROR;
    }

    *confs = ascf;
    amcf->upstreams++;

    /* the precontent phase holds requests for both */
    if ((ascf->hold && ascf->hold_max) || ascf->max_conns) {
        amcf->upstream_holds++;
    }

    return NGX_CONF_OK;
}


/* "name=value", checked against its range and stored */
static ngx_int_t
ngx_autoscale_upstream_param(ngx_autoscale_upstream_conf_t *ascf,
    ngx_str_t *param)
{
    size_t                                 len;
    ngx_str_t                              v;
    ngx_int_t                              n;
    const ngx_autoscale_upstream_param_t  *p;

    for (p = ngx_autoscale_upstream_params; p->name; p++) {
        len = ngx_strlen(p->name);

        if (param->len > len
            && ngx_strncmp(param->data, p->name, len) == 0
            && param->data[len] == '=')
        {
            break;
        }
    }

    if (p->name == NULL) {
        return NGX_ERROR;
    }

    v.data = param->data + len + 1;
    v.len = param->len - len - 1;

    switch (p->unit) {
    case NGX_AUTOSCALE_UPSTREAM_SECONDS:
        n = ngx_parse_time(&v, 1);
        break;
    case NGX_AUTOSCALE_UPSTREAM_MSEC:
        n = ngx_parse_time(&v, 0);
        break;
    default:
        n = ngx_atoi(v.data, v.len);
    }

    if (n == NGX_ERROR || (ngx_uint_t) n > p->max) {
        return NGX_ERROR;
    }

    *(ngx_uint_t *) ((char *) ascf + p->offset) = n;

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_upstream_init(ngx_conf_t *cf, ngx_http_upstream_srv_conf_t *us)
{
    ngx_autoscale_upstream_conf_t  *ascf = us->peer.data;

    if (us->shm_zone) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "upstream \"%V\": \"autoscale_upstream\" keeps "
                           "its peers in the autoscale zone: remove "
                           "\"zone\"", &us->host);
        return NGX_ERROR;
    }

    if (ngx_autoscale_upstream_init_backup(cf, ascf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_autoscale_upstream_init_peer;

    return NGX_OK;
}


/* the block's "server ... backup" lines, as round robin's primary peers */
static ngx_int_t
ngx_autoscale_upstream_init_backup(ngx_conf_t *cf,
    ngx_autoscale_upstream_conf_t *ascf, ngx_http_upstream_srv_conf_t *us)
{
    ngx_uint_t                     i;
    ngx_array_t                   *servers;
    ngx_http_upstream_server_t    *server, *s;
    ngx_http_upstream_srv_conf_t  *backup;

    server = us->servers->elts;

    servers = ngx_array_create(cf->pool, us->servers->nelts,
                               sizeof(ngx_http_upstream_server_t));
    if (servers == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < us->servers->nelts; i++) {
        if (i == ascf->placeholder) {
            continue;
        }

        if (!server[i].backup) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "upstream \"%V\": \"server %V\" must be "
                               "\"backup\": the peers are the agents of "
                               "cluster \"%V\"", &us->host, &server[i].name,
                               &ascf->cluster_id);
            return NGX_ERROR;
        }

        s = ngx_array_push(servers);
        if (s == NULL) {
            return NGX_ERROR;
        }

        *s = server[i];
        s->backup = 0;
    }

    if (servers->nelts == 0) {
        return NGX_OK;
    }

    backup = ngx_palloc(cf->pool, sizeof(ngx_http_upstream_srv_conf_t));
    if (backup == NULL) {
        return NGX_ERROR;
    }

    *backup = *us;
    backup->servers = servers;
    backup->peer.init_upstream = NULL;
    backup->peer.data = NULL;

    if (ngx_http_upstream_init_round_robin(cf, backup) != NGX_OK) {
        return NGX_ERROR;
    }

    ascf->backup = backup;

    return NGX_OK;
}


static ngx_int_t
ngx_autoscale_upstream_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_uint_t                      n, backup_tries;
    ngx_http_upstream_t            *u;
    ngx_autoscale_cluster_t        *cluster;
    ngx_autoscale_upstream_conf_t  *ascf = us->peer.data;
    ngx_autoscale_upstream_peer_t  *pd;

    u = r->upstream;

    pd = ngx_pcalloc(r->pool, sizeof(ngx_autoscale_upstream_peer_t));
    if (pd == NULL) {
        return NGX_ERROR;
    }

    pd->conf = ascf;
    backup_tries = 0;

    if (ascf->backup) {
        if (ngx_http_upstream_init_round_robin_peer(r, ascf->backup)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        pd->backup_data = u->peer.data;
        pd->backup_get = u->peer.get;
        pd->backup_free = u->peer.free;
        backup_tries = u->peer.tries;
    }

    cluster = ngx_autoscale_upstream_cluster(r, ascf);
    pd->cluster = cluster;
    n = cluster ? ngx_autoscale_upstream_serving(cluster) : 0;

    /* a place at an agent that the wait before proxy_pass took */
    pd->reserved = ngx_autoscale_hold_take(r, &pd->addr);

    u->peer.data = pd;
    u->peer.get = ngx_autoscale_upstream_get;
    u->peer.free = ngx_autoscale_upstream_free;

    /* with nothing to try, one try that finds nothing: 502 at once */
    u->peer.tries = ngx_min(n, NGX_AUTOSCALE_UPSTREAM_TRIES) + backup_tries;
    if (u->peer.tries == 0) {
        u->peer.tries = 1;
    }

#if (NGX_HTTP_SSL)
    u->peer.set_session = ngx_autoscale_upstream_set_session;
    u->peer.save_session = ngx_autoscale_upstream_save_session;
#endif

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "autoscale upstream: cluster \"%V\", %ui serving "
                   "agents, %ui tries", &ascf->cluster_id, n,
                   u->peer.tries);

    return NGX_OK;
}


/* the cluster's node in the zone: found once per worker, then kept */
ngx_autoscale_cluster_t *
ngx_autoscale_upstream_cluster(ngx_http_request_t *r,
    ngx_autoscale_upstream_conf_t *ascf)
{
    ngx_http_autoscale_main_conf_t  *amcf;

    if (ascf->cluster) {
        return ascf->cluster;
    }

    /* the zone was full: not a lock per request meanwhile */
    if ((ngx_msec_int_t) (ngx_current_msec - ascf->retry) < 0) {
        return NULL;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_autoscale_module);

    /* kept: never reclaimed, so the pointer stays this cluster's */
    ascf->cluster = ngx_autoscale_shm_find(amcf->shm_zone,
                                           ascf->cluster_id.data,
                                           ascf->cluster_id.len,
                                           NGX_AUTOSCALE_KEEP, NULL);
    if (ascf->cluster == NULL) {
        ascf->retry = ngx_current_msec + NGX_AUTOSCALE_UPSTREAM_RETRY;
    }

    return ascf->cluster;
}


static ngx_int_t
ngx_autoscale_upstream_get(ngx_peer_connection_t *pc, void *data)
{
    ngx_autoscale_upstream_peer_t  *pd = data;

    ngx_autoscale_agent_t  *agent;

    pd->agent = NULL;
    pd->on_backup = 0;

    if (pd->reserved) {
        agent = pd->reserved;
        pd->reserved = NULL;

    } else {
        agent = ngx_autoscale_upstream_pick(pd->conf, pd->cluster, pd, 0,
                                            &pd->addr);
    }

    if (agent) {
        pd->agent = agent;

        if (pd->ntried < NGX_AUTOSCALE_UPSTREAM_TRIES) {
            pd->tried[pd->ntried++] = agent;
        }

        pd->name.data = (u_char *) pd->addr.text;
        pd->name.len = pd->addr.len;

        pc->sockaddr = &pd->addr.u.sa;
        pc->socklen = pd->addr.socklen;
        pc->name = &pd->name;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "autoscale upstream: agent \"%*s\" at %V",
                       (size_t) agent->len, agent->id, &pd->name);

        return NGX_OK;
    }

    if (pd->backup_get) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "autoscale upstream: no agent of \"%V\" serves, "
                       "a backup server", &pd->conf->cluster_id);

        pd->on_backup = 1;
        return pd->backup_get(pc, pd->backup_data);
    }

    /* "no live upstreams while connecting to upstream ..., upstream: id" */
    pc->name = &pd->conf->cluster_id;

    return NGX_BUSY;
}


/*
 * The serving agent with the fewest requests in flight for its weight;
 * among those, the one whose turn comes first.  A turn is 1/weight of the
 * cluster's clock, and an agent behind the clock (new, or idle) starts at
 * it: equal agents take turns, a new one joins the round without a burst.
 * With a cap, only agents with fewer than cap in flight; pd, when there is
 * one, names the agents this request tried.
 */
static ngx_autoscale_agent_t *
ngx_autoscale_upstream_pick(ngx_autoscale_upstream_conf_t *ascf,
    ngx_autoscale_cluster_t *cluster, ngx_autoscale_upstream_peer_t *pd,
    ngx_uint_t cap, ngx_autoscale_addr_t *addr)
{
    time_t                  now;
    ngx_uint_t              failed;
    ngx_queue_t            *q;
    ngx_atomic_uint_t       a, b, now_v, turn, best_turn;
    ngx_autoscale_agent_t  *agent, *best;

    if (cluster == NULL) {
        return NULL;
    }

    now = ngx_time();
    best = NULL;
    best_turn = 0;
    failed = 0;

    ngx_rwlock_rlock(&cluster->agents_lock);

    now_v = cluster->vtime;

    for (q = ngx_queue_head(&cluster->agent_queue);
         q != ngx_queue_sentinel(&cluster->agent_queue);
         q = ngx_queue_next(q))
    {
        agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);

        if (!ngx_autoscale_shm_agent_serving(agent)
            || (pd && ngx_autoscale_upstream_tried(pd, agent))
            || (cap && agent->inflight >= cap))
        {
            continue;
        }

        if (ascf->max_fails
            && agent->fails >= ascf->max_fails
            && now - agent->checked <= (time_t) ascf->fail_timeout)
        {
            failed++;
            continue;
        }

        turn = ngx_max(agent->vtime, now_v);

        if (best == NULL) {
            best = agent;
            best_turn = turn;
            continue;
        }

        a = agent->inflight * best->report.weight;
        b = best->inflight * agent->report.weight;

        if (a < b || (a == b && turn < best_turn)) {
            best = agent;
            best_turn = turn;
        }
    }

    if (best && cap
        && (ngx_uint_t) ngx_atomic_fetch_add(&best->inflight, 1) >= cap)
    {
        /* another worker took the last place meanwhile */
        (void) ngx_atomic_fetch_add(&best->inflight, (ngx_atomic_int_t) -1);
        best = NULL;

    } else if (best && cap == 0) {
        (void) ngx_atomic_fetch_add(&best->inflight, 1);
    }

    if (best) {
        (void) ngx_atomic_fetch_add(&best->requests, 1);

        /* other workers pick meanwhile: a turn taken twice is no harm */
        best->vtime = best_turn + NGX_AUTOSCALE_UPSTREAM_TURN
                                  / best->report.weight;
        cluster->vtime = best_turn;

        if (now - best->checked > (time_t) ascf->fail_timeout) {
            best->checked = now;
        }

        *addr = best->report.addr;

    } else if (failed && (pd == NULL || pd->backup_get == NULL)) {
        /* all failed: the next request tries them again, as nginx does */
        for (q = ngx_queue_head(&cluster->agent_queue);
             q != ngx_queue_sentinel(&cluster->agent_queue);
             q = ngx_queue_next(q))
        {
            agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);
            agent->fails = 0;
        }
    }

    ngx_rwlock_unlock(&cluster->agents_lock);

    return best;
}


static ngx_uint_t
ngx_autoscale_upstream_tried(ngx_autoscale_upstream_peer_t *pd,
    ngx_autoscale_agent_t *agent)
{
    ngx_uint_t  i;

    for (i = 0; i < pd->ntried; i++) {
        if (pd->tried[i] == agent) {
            return 1;
        }
    }

    return 0;
}


static void
ngx_autoscale_upstream_free(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_autoscale_upstream_peer_t  *pd = data;

    time_t                  now;
    ngx_autoscale_agent_t  *agent;

    if (pd->on_backup) {
        pd->on_backup = 0;
        pd->backup_free(pc, pd->backup_data, state);
        return;
    }

    agent = pd->agent;

    if (agent == NULL) {
        return;
    }

    pd->agent = NULL;
    now = ngx_time();

    if (state & NGX_PEER_FAILED) {
        (void) ngx_atomic_fetch_add(&agent->fails, 1);
        agent->accessed = now;
        agent->checked = now;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "autoscale upstream: agent \"%*s\" failed",
                       (size_t) agent->len, agent->id);

    } else if (agent->accessed < agent->checked) {
        agent->fails = 0;
    }

    /* the last thing: from here on the zone may forget the agent */
    (void) ngx_atomic_fetch_add(&agent->inflight, (ngx_atomic_int_t) -1);

    if (pc->tries) {
        pc->tries--;
    }

    /* a place came free: this worker's oldest held request may take it */
    if (pd->conf->max_conns) {
        ngx_autoscale_hold_kick(pd->conf);
    }
}


ngx_autoscale_agent_t *
ngx_autoscale_upstream_reserve(ngx_autoscale_upstream_conf_t *ascf,
    ngx_autoscale_cluster_t *cluster, ngx_autoscale_addr_t *addr)
{
    return ngx_autoscale_upstream_pick(ascf, cluster, NULL, ascf->max_conns,
                                       addr);
}


void
ngx_autoscale_upstream_unreserve(ngx_autoscale_agent_t *agent)
{
    (void) ngx_atomic_fetch_add(&agent->requests, (ngx_atomic_int_t) -1);
    (void) ngx_atomic_fetch_add(&agent->inflight, (ngx_atomic_int_t) -1);
}


/* how many of the cluster's agents may take a request now */
ngx_uint_t
ngx_autoscale_upstream_serving(ngx_autoscale_cluster_t *cluster)
{
    ngx_uint_t              n;
    ngx_queue_t            *q;
    ngx_autoscale_agent_t  *agent;

    n = 0;

    ngx_rwlock_rlock(&cluster->agents_lock);

    for (q = ngx_queue_head(&cluster->agent_queue);
         q != ngx_queue_sentinel(&cluster->agent_queue);
         q = ngx_queue_next(q))
    {
        agent = ngx_queue_data(q, ngx_autoscale_agent_t, cluster_queue);
        n += ngx_autoscale_shm_agent_serving(agent);
    }

    ngx_rwlock_unlock(&cluster->agents_lock);

    return n;
}


#if (NGX_HTTP_SSL)

/* sessions are not reused across agents that come and go */

static ngx_int_t
ngx_autoscale_upstream_set_session(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


static void
ngx_autoscale_upstream_save_session(ngx_peer_connection_t *pc, void *data)
{
}

#endif
