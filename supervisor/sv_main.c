/*
 * autoscale-supervisor: options, signals and the one poll() loop that
 * waits on the database's socket, the signals and the workers' timers.
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sv.h"


static volatile sig_atomic_t  sv_got_child;
static volatile sig_atomic_t  sv_got_stop;
static int                    sv_signal_pipe[2];


static void sv_usage(int code);
static int sv_number(const char *name, const char *text, int min, int max);
static void sv_options(sv_t *sv, int argc, char **argv);
static void sv_cluster_add(sv_t *sv, const char *id);
static void sv_signal(int signo);
static void sv_signals(void);
static void sv_loop(sv_t *sv);


void
sv_log(const char *fmt, ...)
{
    char     line[1024];
    int      n;
    va_list  args;

    n = snprintf(line, sizeof(line), "%s: ", SV_PROG);

    va_start(args, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t) n - 1, fmt, args);
    va_end(args);

    if (n > (int) sizeof(line) - 2) {
        n = (int) sizeof(line) - 2;
    }

    line[n++] = '\n';

    /* one write a line: lines of the workers' output do not cut in */
    (void) !write(STDERR_FILENO, line, (size_t) n);
}


sv_msec_t
sv_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (sv_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int
sv_cluster_find(sv_t *sv, const char *id, size_t len)
{
    int  i;

    for (i = 0; i < sv->nclusters; i++) {
        if (strlen(sv->clusters[i].id) == len
            && memcmp(sv->clusters[i].id, id, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


static void
sv_usage(int code)
{
    fprintf(code ? stderr : stdout,
        "usage: " SV_PROG " [--db CONNINFO] --cluster ID [--cluster ID ...]\n"
        "           --port-base N [--grace SECONDS] [--address-host IP]\n"
        "           -- COMMAND [ARGS...]\n"
        "\n"
        "Runs COMMAND once per worker of each cluster, as many as its\n"
        "target_workers, following LISTEN autoscale.  Each worker gets\n"
        "AUTOSCALE_CLUSTER_ID, AUTOSCALE_AGENT_ID, AUTOSCALE_PORT and\n"
        "AUTOSCALE_ADDRESS in its environment.  CONNINFO defaults to the\n"
        "PG* environment; --grace (30) is how long a worker may take to\n"
        "stop after SIGTERM; --address-host (127.0.0.1) where workers\n"
        "listen.\n");
    exit(code);
}


static int
sv_number(const char *name, const char *text, int min, int max)
{
    char  *end;
    long   n;

    errno = 0;
    n = strtol(text, &end, 10);

    if (errno || end == text || *end != '\0' || n < min || n > max) {
        fprintf(stderr, "%s: %s \"%s\": a whole number from %d to %d is "
                "expected\n", SV_PROG, name, text, min, max);
        exit(2);
    }

    return (int) n;
}


static void
sv_cluster_add(sv_t *sv, const char *id)
{
    size_t         len;
    sv_cluster_t  *c;

    len = strlen(id);

    if (!sv_notify_id_valid(id, len) || strchr(id, '.') != NULL
        || len > SV_CLUSTER_ID_MAX)
    {
        fprintf(stderr, "%s: --cluster \"%s\": 1 to %d letters, digits, "
                "\"-\" or \"_\" are expected\n", SV_PROG, id,
                SV_CLUSTER_ID_MAX);
        exit(2);
    }

    if (sv_cluster_find(sv, id, len) >= 0) {
        fprintf(stderr, "%s: --cluster \"%s\" given twice\n", SV_PROG, id);
        exit(2);
    }

    c = realloc(sv->clusters, sizeof(sv_cluster_t) * (sv->nclusters + 1));
    if (c == NULL) {
        perror(SV_PROG);
        exit(1);
    }

    sv->clusters = c;
    c = &sv->clusters[sv->nclusters++];
    memset(c, 0, sizeof(sv_cluster_t));
    memcpy(c->id, id, len + 1);
}


static void
sv_options(sv_t *sv, int argc, char **argv)
{
    int             i;
    const char     *opt, *val;
    unsigned char   addr[16];

    sv->grace = 30;
    sv->host = "127.0.0.1";
    sv->port_base = 0;
    sv->conninfo = "";

    for (i = 1; i < argc; i++) {
        opt = argv[i];

        if (strcmp(opt, "--") == 0) {
            i++;
            break;
        }

        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            sv_usage(0);
        }

        if (i + 1 >= argc) {
            fprintf(stderr, "%s: \"%s\" needs a value (see --help)\n",
                    SV_PROG, opt);
            exit(2);
        }

        val = argv[++i];

        if (strcmp(opt, "--db") == 0) {
            sv->conninfo = val;

        } else if (strcmp(opt, "--cluster") == 0) {
            sv_cluster_add(sv, val);

        } else if (strcmp(opt, "--port-base") == 0) {
            sv->port_base = sv_number(opt, val, 1, 65535);

        } else if (strcmp(opt, "--grace") == 0) {
            sv->grace = sv_number(opt, val, 0, 86400);

        } else if (strcmp(opt, "--address-host") == 0) {
            sv->host = val;

        } else {
            fprintf(stderr, "%s: unknown option \"%s\" (see --help)\n",
                    SV_PROG, opt);
            exit(2);
        }
    }

    if (sv->nclusters == 0 || sv->port_base == 0 || i >= argc) {
        fprintf(stderr, "%s: --cluster, --port-base and a command after "
                "\"--\" are required (see --help)\n", SV_PROG);
        exit(2);
    }

    /* a literal: where workers listen, and what they report */
    if (inet_pton(AF_INET, sv->host, addr) == 1) {
        sv->ipv6 = 0;

    } else if (inet_pton(AF_INET6, sv->host, addr) == 1) {
        sv->ipv6 = 1;

    } else {
        fprintf(stderr, "%s: --address-host \"%s\": an IPv4 or IPv6 "
                "literal is expected\n", SV_PROG, sv->host);
        exit(2);
    }

    sv->command = &argv[i];
}


static void
sv_signal(int signo)
{
    int  saved = errno;

    if (signo == SIGCHLD) {
        sv_got_child = 1;

    } else {
        sv_got_stop++;
    }

    /* wakes poll(); a full pipe already will */
    (void) !write(sv_signal_pipe[1], "", 1);

    errno = saved;
}


static void
sv_signals(void)
{
    int               i;
    struct sigaction  sa;

    if (pipe(sv_signal_pipe) == -1) {
        perror(SV_PROG ": pipe");
        exit(1);
    }

    for (i = 0; i < 2; i++) {
        fcntl(sv_signal_pipe[i], F_SETFL,
              fcntl(sv_signal_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sv_signal_pipe[i], F_SETFD, FD_CLOEXEC);
    }

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = sv_signal;
    sa.sa_flags = SA_RESTART;

    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /* a worker or the database gone mid-write is an error, not an end */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}


static void
sv_loop(sv_t *sv)
{
    int            n, timeout, stops;
    char           buf[64];
    short          events;
    sv_msec_t      now, next, t;
    struct pollfd  fds[2];

    stops = 0;

    for ( ;; ) {
        if (sv_got_child) {
            sv_got_child = 0;
            sv_worker_reap(sv);
        }

        if (sv_got_stop != stops) {
            stops = sv_got_stop;

            if (!sv->stopping) {
                sv->stopping = 1;
                sv_db_close(sv);
                sv_worker_stop_all(sv);

            } else {
                /* a second signal: no more grace */
                sv_log("stop asked again: SIGKILL to every worker");
                sv->grace = 0;
                sv_worker_stop_all(sv);
            }
        }

        if (sv->stopping && sv->nworkers == 0) {
            sv_log("every worker stopped: exit");
            return;
        }

        now = sv_now();
        next = sv_worker_timers(sv, now);

        if (!sv->stopping) {
            t = sv_db_tick(sv, now);
            if (t < next) {
                next = t;
            }
        }

        n = 0;
        fds[n].fd = sv_signal_pipe[0];
        fds[n++].events = POLLIN;

        events = sv->stopping ? 0 : sv_db_events(sv);
        if (events) {
            fds[n].fd = sv_db_fd(sv);
            fds[n++].events = events;
        }

        now = sv_now();
        timeout = next <= now ? 0
                  : (next - now > 60000 ? 60000 : (int) (next - now));

        if (poll(fds, (nfds_t) n, timeout) == -1 && errno != EINTR) {
            sv_log("poll: %s", strerror(errno));
            /*
             * The supervisor's own loop, not an nginx worker's: a poll()
             * that keeps failing would spin, so it waits a second; the
             * signal handlers still record what arrives meanwhile.
             */
            sleep(1);
            continue;
        }

        while (read(sv_signal_pipe[0], buf, sizeof(buf)) > 0) {
            /* the flags say what came */
        }

        if (n > 1 && fds[1].revents) {
            sv_db_io(sv, fds[1].revents);
        }
    }
}


int
main(int argc, char **argv)
{
    sv_t  sv;

    memset(&sv, 0, sizeof(sv_t));

    sv_options(&sv, argc, argv);
    sv_signals();

    sv_log("following %d cluster%s: workers run \"%s\" from port %d",
           sv.nclusters, sv.nclusters > 1 ? "s" : "", sv.command[0],
           sv.port_base);

    sv_loop(&sv);

    sv_db_close(&sv);
    free(sv.workers);
    free(sv.clusters);

    return 0;
}
