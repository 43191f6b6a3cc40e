/*
 * The workers: how many each cluster runs, started, drained, stopped,
 * killed, reaped and restarted.  Every worker is a process group of its
 * own, so that a terminal's ^C reaches the supervisor alone and a signal
 * to a worker reaches what it started too.
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sv.h"


static int sv_worker_want(sv_cluster_t *c);
static int sv_worker_live(sv_t *sv, int ci);
static sv_worker_t *sv_worker_latest(sv_t *sv, int ci);
static sv_worker_t *sv_worker_add(sv_t *sv, int ci);
static void sv_worker_remove(sv_t *sv, sv_worker_t *w);
static int sv_worker_port_free(sv_t *sv, sv_worker_t *self, int port);
static int sv_worker_port(sv_t *sv, sv_worker_t *w, int wanted);
static void sv_worker_start(sv_t *sv, sv_worker_t *w, const char *verb);
static void sv_worker_exec(sv_t *sv, sv_worker_t *w);
static void sv_worker_term(sv_t *sv, sv_worker_t *w, const char *why);
static void sv_worker_exited(sv_t *sv, sv_worker_t *w, int status);


/* the workers a cluster should run */
static int
sv_worker_want(sv_cluster_t *c)
{
    if (!c->exists || strcmp(c->status, "hibernated") == 0
        || strcmp(c->status, "destroyed") == 0)
    {
        return 0;
    }

    return c->target;
}


int
sv_worker_count(sv_t *sv, int ci, sv_state_e state)
{
    int  i, n;

    n = 0;

    for (i = 0; i < sv->nworkers; i++) {
        n += (sv->workers[i].cluster == ci
              && sv->workers[i].state == state);
    }

    return n;
}


/* the workers not draining nor stopping: a crashed one restarts */
static int
sv_worker_live(sv_t *sv, int ci)
{
    return sv_worker_count(sv, ci, SV_RUNNING)
           + sv_worker_count(sv, ci, SV_BACKOFF);
}


/* the latest started of a cluster's live workers; one in backoff first */
static sv_worker_t *
sv_worker_latest(sv_t *sv, int ci)
{
    int           i;
    sv_worker_t  *w, *best;

    best = NULL;

    for (i = 0; i < sv->nworkers; i++) {
        w = &sv->workers[i];

        if (w->cluster != ci
            || (w->state != SV_RUNNING && w->state != SV_BACKOFF))
        {
            continue;
        }

        if (best == NULL
            || (w->state == SV_BACKOFF && best->state != SV_BACKOFF)
            || (w->state == best->state && w->seq > best->seq))
        {
            best = w;
        }
    }

    return best;
}


/*
 * Brings a cluster to its target.  Draining workers count as workers
 * until they stop: the module takes draining agents back first on a
 * scale-up, and a new worker started meanwhile would be one too many.
 */
void
sv_worker_reconcile(sv_t *sv, int ci)
{
    int            i, want, live, draining;
    sv_worker_t   *w;
    sv_cluster_t  *c;

    c = &sv->clusters[ci];

    if (!c->known || sv->stopping) {
        return;
    }

    want = sv_worker_want(c);

    /* a destroyed cluster's agents are no longer collected: no drain */
    for (i = 0; i < sv->nworkers; i++) {
        if (sv->workers[i].cluster == ci
            && sv->workers[i].state == SV_DRAINING
            && (!c->exists || strcmp(c->status, "destroyed") == 0))
        {
            sv_worker_term(sv, &sv->workers[i], "cluster gone, ");
        }
    }

    live = sv_worker_live(sv, ci);
    draining = sv_worker_count(sv, ci, SV_DRAINING);

    /* no agents named: the latest started go */
    while (live > want) {
        w = sv_worker_latest(sv, ci);

        if (w->state == SV_BACKOFF) {
            sv_log("%s: drop %s: not restarted (target %d, running %d)",
                   c->id, w->agent_id, want, live);
            sv_worker_remove(sv, w);

        } else {
            sv_worker_term(sv, w, "");
        }

        live--;
    }

    while (live + draining < want) {
        w = sv_worker_add(sv, ci);
        if (w == NULL) {
            return;
        }

        if (sv_worker_port(sv, w, 0) != 0) {
            sv_worker_remove(sv, w);
            return;
        }

        sv_worker_start(sv, w, "start");
        live++;
    }
}


/* an agent the module named to stop: it finishes its work first */
void
sv_worker_drain(sv_t *sv, int ci, const char *name, size_t len)
{
    int           i;
    sv_worker_t  *w;

    for (i = 0; i < sv->nworkers; i++) {
        w = &sv->workers[i];

        if (w->cluster != ci || strlen(w->agent_id) != len
            || memcmp(w->agent_id, name, len) != 0)
        {
            continue;
        }

        if (w->state == SV_RUNNING) {
            sv_log("%s: drain %s pid %d: stops once its work is done",
                   sv->clusters[ci].id, w->agent_id, (int) w->pid);
            w->state = SV_DRAINING;
            w->xmin[0] = '\0';

        } else if (w->state == SV_BACKOFF) {
            sv_log("%s: drop %s: drained while down", sv->clusters[ci].id,
                   w->agent_id);
            sv_worker_remove(sv, w);
        }

        return;
    }
}


/*
 * An agent's row in cluster_agents.  A draining worker stops when its row
 * says stopped (the module saw it with nothing in flight), and is kept
 * when its row, written again since the drain, says it serves: the module
 * took it back.  A row is told new from its version (xmin).
 */
void
sv_worker_row(sv_t *sv, int ci, const char *agent_id, const char *status,
    const char *xmin, int after_sync)
{
    int           i, live;
    sv_worker_t  *w;

    live = strcmp(status, "active") == 0 || strcmp(status, "idle") == 0
           || strcmp(status, "busy") == 0;

    for (i = 0; i < sv->nworkers; i++) {
        w = &sv->workers[i];

        if (w->cluster != ci || strcmp(w->agent_id, agent_id) != 0) {
            continue;
        }

        if (w->state == SV_RUNNING && after_sync
            && strcmp(status, "draining") == 0)
        {
            /* named while the supervisor was away */
            sv_worker_drain(sv, ci, agent_id, strlen(agent_id));
            snprintf(w->xmin, sizeof(w->xmin), "%s", xmin);
            return;
        }

        if (w->state != SV_DRAINING) {
            return;
        }

        if (strcmp(status, "draining") == 0) {
            snprintf(w->xmin, sizeof(w->xmin), "%s", xmin);

        } else if (!live) {
            sv_worker_term(sv, w, "drained, ");
            sv_worker_reconcile(sv, ci);

        } else if (w->xmin[0] == '\0') {
            snprintf(w->xmin, sizeof(w->xmin), "%s", xmin);

        } else if (strcmp(w->xmin, xmin) != 0) {
            sv_log("%s: keep %s pid %d: taken back (target %d, running %d)",
                   sv->clusters[ci].id, w->agent_id, (int) w->pid,
                   sv_worker_want(&sv->clusters[ci]),
                   sv_worker_live(sv, ci));
            w->state = SV_RUNNING;
            sv_worker_reconcile(sv, ci);
        }

        return;
    }
}


static sv_worker_t *
sv_worker_add(sv_t *sv, int ci)
{
    int           n;
    sv_worker_t  *w;

    if (sv->nworkers == sv->aworkers) {
        n = sv->aworkers ? sv->aworkers * 2 : 16;
        w = realloc(sv->workers, sizeof(sv_worker_t) * (size_t) n);
        if (w == NULL) {
            sv_log("no memory for another worker");
            return NULL;
        }

        sv->workers = w;
        sv->aworkers = n;
    }

    w = &sv->workers[sv->nworkers++];
    memset(w, 0, sizeof(sv_worker_t));
    w->cluster = ci;
    w->seq = ++sv->seq;
    w->state = SV_RUNNING;
    w->backoff = SV_BACKOFF_MIN;

    return w;
}


static void
sv_worker_remove(sv_t *sv, sv_worker_t *w)
{
    *w = sv->workers[--sv->nworkers];
}


/* no worker of ours holds the port, and it can be bound now */
static int
sv_worker_port_free(sv_t *sv, sv_worker_t *self, int port)
{
    int                  i, fd, on, ok;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    for (i = 0; i < sv->nworkers; i++) {
        if (&sv->workers[i] != self && sv->workers[i].port == port) {
            return 0;
        }
    }

    fd = socket(sv->ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd == -1) {
        return 0;
    }

    /* as the worker's own listener will: a TIME_WAIT is no owner */
    on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));

    if (sv->ipv6) {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t) port);
        inet_pton(AF_INET6, sv->host, &sin6.sin6_addr);
        ok = bind(fd, (struct sockaddr *) &sin6, sizeof(sin6)) == 0;

    } else {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t) port);
        inet_pton(AF_INET, sv->host, &sin.sin_addr);
        ok = bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0;
    }

    close(fd);

    return ok;
}


/* a port for w, the one wanted if free, and the agent id that goes with it */
static int
sv_worker_port(sv_t *sv, sv_worker_t *w, int wanted)
{
    int  p, port;

    port = 0;

    if (wanted && sv_worker_port_free(sv, w, wanted)) {
        port = wanted;
    }

    for (p = sv->port_base; port == 0 && p <= 65535; p++) {
        if (sv_worker_port_free(sv, w, p)) {
            port = p;
        }
    }

    if (port == 0) {
        sv_log("%s: no free port from %d up", sv->clusters[w->cluster].id,
               sv->port_base);
        return -1;
    }

    w->port = port;
    snprintf(w->agent_id, sizeof(w->agent_id), "%.*s-%u",
             SV_CLUSTER_ID_MAX, sv->clusters[w->cluster].id,
             (unsigned) (uint16_t) port);

    return 0;
}


static void
sv_worker_start(sv_t *sv, sv_worker_t *w, const char *verb)
{
    int            live;
    pid_t          pid;
    sv_cluster_t  *c = &sv->clusters[w->cluster];

    /* the others, for the log */
    live = sv_worker_live(sv, w->cluster) - 1;

    pid = fork();

    if (pid == -1) {
        sv_log("%s: fork: %s", c->id, strerror(errno));
        w->pid = 0;
        w->state = SV_BACKOFF;
        w->due = sv_now() + w->backoff;
        return;
    }

    if (pid == 0) {
        sv_worker_exec(sv, w);
    }

    /* both sides set the group: neither has to wait for the other */
    setpgid(pid, pid);

    w->pid = pid;
    w->state = SV_RUNNING;
    w->started = sv_now();
    w->killed = 0;

    sv_log("%s: %s %s pid %d port %d (target %d, running %d)", c->id, verb,
           w->agent_id, (int) pid, w->port, sv_worker_want(c), live);
}


/* in the child: never returns */
static void
sv_worker_exec(sv_t *sv, sv_worker_t *w)
{
    char              num[16], addr[80];
    sigset_t          none;
    struct sigaction  sa;

    setpgid(0, 0);

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    snprintf(num, sizeof(num), "%d", w->port);
    snprintf(addr, sizeof(addr), sv->ipv6 ? "[%s]:%d" : "%s:%d", sv->host,
             w->port);

    if (setenv("AUTOSCALE_CLUSTER_ID", sv->clusters[w->cluster].id, 1)
        || setenv("AUTOSCALE_AGENT_ID", w->agent_id, 1)
        || setenv("AUTOSCALE_PORT", num, 1)
        || setenv("AUTOSCALE_ADDRESS", addr, 1))
    {
        _exit(127);
    }

    execvp(sv->command[0], sv->command);

    sv_log("%s: %s: cannot run \"%s\": %s", sv->clusters[w->cluster].id,
           w->agent_id, sv->command[0], strerror(errno));
    _exit(127);
}


static void
sv_worker_term(sv_t *sv, sv_worker_t *w, const char *why)
{
    sv_cluster_t  *c = &sv->clusters[w->cluster];

    sv_log("%s: stop %s pid %d: %sSIGTERM, SIGKILL after %ds (target %d, "
           "running %d)", c->id, w->agent_id, (int) w->pid, why, sv->grace,
           sv_worker_want(c), sv_worker_live(sv, w->cluster));

    kill(-w->pid, SIGTERM);
    w->state = SV_STOPPING;
    w->due = sv_now() + (sv_msec_t) sv->grace * 1000;
}


/* SIGTERM or SIGINT to the supervisor: every worker goes */
void
sv_worker_stop_all(sv_t *sv)
{
    int           i, n;
    sv_worker_t  *w;

    n = 0;

    for (i = 0; i < sv->nworkers; /* void */) {
        w = &sv->workers[i];

        if (w->state == SV_BACKOFF) {
            sv_worker_remove(sv, w);
            continue;
        }

        if (w->state != SV_STOPPING) {
            kill(-w->pid, SIGTERM);
            w->state = SV_STOPPING;
            n++;
        }

        if (sv->grace == 0 && !w->killed) {
            kill(-w->pid, SIGKILL);
            w->killed = 1;
        }

        w->due = sv_now() + (sv_msec_t) sv->grace * 1000;
        i++;
    }

    sv_log("stopping: SIGTERM to %d worker%s, SIGKILL after %ds", n,
           n == 1 ? "" : "s", sv->grace);
}


void
sv_worker_reap(sv_t *sv)
{
    int    i, status;
    pid_t  pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < sv->nworkers; i++) {
            if (sv->workers[i].pid == pid) {
                sv_worker_exited(sv, &sv->workers[i], status);
                break;
            }
        }
    }
}


static void
sv_worker_exited(sv_t *sv, sv_worker_t *w, int status)
{
    int            ci;
    char           how[64];
    sv_msec_t      now, ran;
    sv_cluster_t  *c;

    ci = w->cluster;
    c = &sv->clusters[ci];
    now = sv_now();
    ran = now - w->started;

    if (WIFSIGNALED(status)) {
        snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));

    } else {
        snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
    }

    /* whatever it started goes with it */
    kill(-w->pid, SIGKILL);

    if (w->state == SV_STOPPING) {
        sv_log("%s: stopped %s pid %d (%s)", c->id, w->agent_id,
               (int) w->pid, how);
        sv_worker_remove(sv, w);
        return;
    }

    if (w->state == SV_DRAINING || sv->stopping) {
        sv_log("%s: exited %s pid %d while draining (%s)", c->id,
               w->agent_id, (int) w->pid, how);
        sv_worker_remove(sv, w);
        return;
    }

    if (ran >= SV_RAN_WELL) {
        w->backoff = SV_BACKOFF_MIN;
    }

    sv_log("%s: %s %s pid %d (%s) after %.1fs; restart in %llds", c->id,
           WIFSIGNALED(status) ? "crashed" : "exited", w->agent_id,
           (int) w->pid, how, (double) ran / 1000,
           (long long) (w->backoff / 1000));

    w->pid = 0;
    w->state = SV_BACKOFF;
    w->due = now + w->backoff;
    w->backoff = w->backoff * 2 > SV_BACKOFF_MAX ? SV_BACKOFF_MAX
                                                 : w->backoff * 2;
}


/* restarts and kills that are due; returns when the next one is */
sv_msec_t
sv_worker_timers(sv_t *sv, sv_msec_t now)
{
    int           i;
    sv_msec_t     next;
    sv_worker_t  *w;

    next = now + 60000;

    for (i = 0; i < sv->nworkers; i++) {
        w = &sv->workers[i];

        if (w->state == SV_BACKOFF && w->due <= now) {
            if (sv_worker_port(sv, w, w->port) != 0) {
                w->due = now + SV_BACKOFF_MAX;

            } else {
                sv_worker_start(sv, w, "restart");
            }

        } else if (w->state == SV_STOPPING && !w->killed && w->due <= now) {
            sv_log("%s: kill %s pid %d: still running %ds after SIGTERM",
                   sv->clusters[w->cluster].id, w->agent_id, (int) w->pid,
                   sv->grace);
            kill(-w->pid, SIGKILL);
            w->killed = 1;
        }

        if ((w->state == SV_BACKOFF
             || (w->state == SV_STOPPING && !w->killed))
            && w->due < next)
        {
            next = w->due;
        }
    }

    return next;
}
