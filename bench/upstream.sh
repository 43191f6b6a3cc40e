#!/usr/bin/env bash
# bench/upstream.sh: proxy_pass through "autoscale_upstream" to 4 agents
# against a static "upstream" block of the same 4 servers, measured with wrk
# on loopback in one run, through one front nginx.
#
#   bench/upstream.sh                        run from anywhere in the repo
#   BENCH_DURATION=10s bench/upstream.sh     each measured wrk run (5s)
#   BENCH_RUNS=3 bench/upstream.sh           runs of each target (5)
#   BENCH_CONNECTIONS=128 bench/upstream.sh  wrk's connections (64)
#   BENCH_THREADS=2 bench/upstream.sh        wrk's threads (2)
#   BENCH_WARMUP=2s bench/upstream.sh        unmeasured run per target (2s)
#   BENCH_KEEPALIVE=on bench/upstream.sh     on, off or both (both)
#   BENCH_WORKERS=2 bench/upstream.sh        worker_processes of each nginx (2)
#   BENCH_HEARTBEAT=0.5 bench/upstream.sh    seconds between heartbeats (0.5)
#   BENCH_STATIC=least_conn bench/upstream.sh  the static block's balancing:
#                                            round_robin (nginx's default)
#                                            or least_conn
#
# The agents are a second nginx, without the module, with four servers that
# "return 200", so that the balancer is measured and not the backends; each
# heartbeats to the front nginx with its address every BENCH_HEARTBEAT
# seconds for as long as the run lasts (a real agent keeps reporting).  The
# front nginx has, for each keep-alive variant, two locations with the same
# proxy settings: "static" (the four as "server" lines, balanced by nginx:
# round robin, or least_conn) and "autoscale" (the same four, as the agents
# of cluster c-bench).
# The two targets of a variant alternate BENCH_RUNS times, each round in
# the other order, so that a slower stretch of the machine weighs on both.
# Besides req/s and latency, each run prints the CPU time the front nginx's
# workers spent per request: the balancer's own cost, which moves far less
# than req/s when other work shares the cores.
#
# The ratio autoscale/static and its target are printed as information.  The
# exit code is non-zero only when something broke: a tool missing, the build,
# PostgreSQL or nginx failing, a heartbeat refused, a wrong answer or an agent
# never chosen before or after the runs, non-2xx responses or socket errors
# in a run, nginx logging an alert or a crashed worker.

set -euo pipefail

REPO=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$REPO"

DURATION=${BENCH_DURATION:-5s}
RUNS=${BENCH_RUNS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2s}
KEEPALIVE=${BENCH_KEEPALIVE:-both}
WORKERS=${BENCH_WORKERS:-2}
HEARTBEAT=${BENCH_HEARTBEAT:-0.5}
STATIC=${BENCH_STATIC:-round_robin}
AGENTS=4
CLUSTER=c-bench
NGINX=/usr/sbin/nginx
MODULE=$REPO/build/ngx_http_autoscale_module.so
TARGET_RATIO=0.95

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/upstream.sh: error: $*"; exit 1; }

for v in DURATION WARMUP; do
    [[ ${!v} =~ ^[1-9][0-9]*[smh]?$ ]] || die "BENCH_$v='${!v}': expected e.g. 5 or 5s"
done
for v in RUNS THREADS WORKERS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v='${!v}': expected a positive integer"
done
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_CONNECTIONS='$CONNS': expected a positive integer"
[ "$CONNS" -ge "$THREADS" ] || die "BENCH_CONNECTIONS must be at least BENCH_THREADS (wrk's rule)"
[[ $HEARTBEAT =~ ^(0|[1-9][0-9]*)(\.[0-9]+)?$ ]] \
    || die "BENCH_HEARTBEAT='$HEARTBEAT': expected seconds, e.g. 0.5"
# the zone loses an agent after 3 collect intervals (1s here) of silence
awk -v s="$HEARTBEAT" 'BEGIN { exit !(s > 0 && s <= 1) }' \
    || die "BENCH_HEARTBEAT='$HEARTBEAT': at most 1 second, or the agents are lost"
case $STATIC in
    round_robin) static_line= ;;
    # fewest connections, as each worker counts them (no zone); the
    # agents' in-flight counts are shared by the workers
    least_conn)  static_line="        least_conn;
" ;;
    *)           die "BENCH_STATIC='$STATIC': expected round_robin or least_conn" ;;
esac
case $KEEPALIVE in
    both) VARIANTS="ka plain" ;;
    on)   VARIANTS=ka ;;
    off)  VARIANTS=plain ;;
    *)    die "BENCH_KEEPALIVE='$KEEPALIVE': expected on, off or both" ;;
esac

command -v wrk >/dev/null 2>&1 || die "wrk not found (apt-get install wrk)"
command -v curl >/dev/null 2>&1 || die "curl not found"
[ -x "$NGINX" ] || die "$NGINX not found"

TMP=
PGDIR=
NGXDIR=
WRK_PID=
AGENTDIR=
HB_PID=

. "$REPO/bench/lib.sh"

# lib.sh's cleanup knows one nginx: the heartbeats and the agents' nginx
# stop first, then the rest as lib.sh does it, with this exit code
upstream_cleanup() {
    local rc=$?
    set +e
    if [ -n "$HB_PID" ]; then
        kill -TERM "$HB_PID" 2>/dev/null
        wait "$HB_PID" 2>/dev/null
    fi
    [ -z "$AGENTDIR" ] || NGXDIR=$AGENTDIR stop_nginx
    (exit "$rc")
    cleanup
}
trap upstream_cleanup EXIT

pg() { util/pgctl psql "$PGDIR" "$@"; }

# ---- build, PostgreSQL ------------------------------------------------------

bench_setup upstream
AGENTDIR=$TMP/agents
mkdir -p "$AGENTDIR/logs" "$AGENTDIR/tmp"

# the agents' cluster: active, with room for them
pg -v id="$CLUSTER" >/dev/null <<'EOF' || die "creating cluster $CLUSTER failed"
INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, started_at)
VALUES (:'id', 'Balancer benchmark', 'active', 1, 10, 4, 4, now());
EOF

# ---- environment ------------------------------------------------------------

case $KEEPALIVE in
    both) ka_words="with keepalive to the agents, then without" ;;
    on)   ka_words="with keepalive to the agents" ;;
    off)  ka_words="without keepalive to the agents" ;;
esac
echo "== environment"
echo "cores:       $(nproc) ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)); wrk, both nginx and PostgreSQL share them"
echo "kernel:      $(uname -sr)"
echo "nginx:       $("$NGINX" -v 2>&1), worker_processes $WORKERS in the front and in the agents' nginx"
echo "wrk:         $(wrk -v 2>&1 | head -n1)"
echo "PostgreSQL:  $(pg -Atc 'SHOW server_version') (private)"
echo "module:      ${MODULE#"$REPO"/} built $(date -r "$NGXDIR/module.so" '+%F %T'), sha256 $(sha256sum <"$NGXDIR/module.so" | cut -c1-12)"
echo "load:        $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run)"
echo "wrk runs:    -t$THREADS -c$CONNS -d$DURATION --latency, $RUNS run(s) of each target," \
     "alternating, warm-up $WARMUP each"
echo "proxying:    $ka_words; $AGENTS agents heartbeating every ${HEARTBEAT}s;" \
     "the static block by $STATIC"
echo

# ---- the agents: a second nginx, without the module ---------------------------

# write_agents_conf: AGENTS servers on free ports, each answering its number
write_agents_conf() {
    local i p
    agent_ports=()
    for ((i = 1; i <= AGENTS; i++)); do
        p=$(free_port) || die "no free loopback port"
        [[ " ${agent_ports[*]} " != *" $p "* ]] || return 1
        agent_ports+=("$p")
    done
    {
        cat <<EOF
daemon on;
master_process on;
worker_processes $WORKERS;
pid $AGENTDIR/nginx.pid;
error_log $AGENTDIR/logs/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    keepalive_requests 1000000;

EOF
        temp_paths "$AGENTDIR"
        # reuseport: each worker its share of the connections, as below
        for ((i = 1; i <= AGENTS; i++)); do
            cat <<EOF

    server {
        listen 127.0.0.1:${agent_ports[i - 1]} reuseport;
        return 200 "agent $i\n";
    }
EOF
        done
        echo "}"
    } >"$AGENTDIR/nginx.conf"
}

# lib.sh's start, with the agents' directory for the front nginx's
NGXDIR=$AGENTDIR start_on_free_ports "$AGENTDIR/logs/error.log" write_agents_conf

# ---- the front nginx ----------------------------------------------------------

# upstream_blocks SUFFIX KEEPALIVE_LINES: the static and the autoscale block
upstream_blocks() {
    local i
    echo
    echo "    upstream static_$1 {"
    printf '%s' "$static_line"
    for ((i = 0; i < AGENTS; i++)); do
        echo "        server 127.0.0.1:${agent_ports[i]};"
    done
    printf '%s' "$2"
    echo "    }"
    echo
    echo "    upstream autoscale_$1 {"
    echo "        autoscale_upstream $CLUSTER;"
    printf '%s' "$2"
    echo "    }"
}

write_conf() {
    local b
    port=$(free_port) || die "no free loopback port"
    [[ " ${agent_ports[*]} " != *" $port "* ]] || return 1
    { conf_head "$WORKERS" "logs/error.log warn"; cat <<EOF

    # wrk's connections stay open for a whole run
    keepalive_requests 1000000;

    log_format bench_agent \$upstream_addr;

    autoscale_postgres "$conninfo";
    # the collector marks a silent agent lost; the scaler plays no part
    autoscale_collect_interval 1s;
    autoscale_collector on;
    autoscale_scaler off;
EOF
    # idle connections kept per worker: as many as wrk opens, so that no
    # proxied request waits for a connect
    upstream_blocks ka "        keepalive $CONNS;
        keepalive_requests 1000000;
"
    upstream_blocks plain ""
    cat <<EOF

    server {
        # reuseport: the kernel spreads wrk's connections over the workers
        # about evenly, where otherwise whichever wakes first takes them
        listen 127.0.0.1:$port reuseport;

        # the same for every location; "Connection" cleared so that the
        # keep-alive blocks can keep their connections
        proxy_http_version 1.1;
        proxy_set_header Connection "";

EOF
    # a location for each block, and one logging each request's agent: a
    # run there, not measured, shows how the load was spread
    for b in static_ka autoscale_ka static_plain autoscale_plain; do
        cat <<EOF
        location /$b/ { proxy_pass http://$b; }
        location /spread_$b/ {
            access_log logs/spread_$b.log bench_agent;
            proxy_pass http://$b;
        }
EOF
    done
    cat <<EOF

        location /api/ {
            autoscale_api write=on;
        }
    }
}
EOF
    } >"$NGXDIR/nginx.conf"
}

start_on_free_ports "$NGXDIR/logs/error.log" write_conf
base=http://127.0.0.1:$port

# ---- heartbeats -----------------------------------------------------------------

# one curl for the four reports, --next between them
hb_args=()
for ((i = 1; i <= AGENTS; i++)); do
    [ "$i" -eq 1 ] || hb_args+=(--next)
    hb_args+=(-sS -o /dev/null -w '%{http_code}\n' --max-time 2 -X POST
              -H 'Content-Type: application/json'
              --data-binary "{\"status\":\"active\",\"address\":\"127.0.0.1:${agent_ports[i - 1]}\"}"
              "$base/api/clusters/$CLUSTER/agents/agent-$i/heartbeat")
done

# the first reports, until all are answered 200: the workers may still be
# connecting to PostgreSQL
want=200
for ((i = 1; i < AGENTS; i++)); do want="$want 200"; done
for ((i = 0; i < 50; i++)); do
    codes=$(curl "${hb_args[@]}" 2>/dev/null | paste -sd' ') || true
    [ "$codes" = "$want" ] && break
    sleep 0.1
done
[ "$i" -lt 50 ] || { tail -n 20 "$NGXDIR/logs/error.log" >&2; die "heartbeats answered '$codes', not 200 each"; }

heartbeats() {
    while :; do
        curl "${hb_args[@]}" >/dev/null 2>&1 || true
        sleep "$HEARTBEAT"
    done
}
heartbeats &
HB_PID=$!

# spread LOCATION: sequential requests till every agent has answered once
# (the bodies say which); equal agents take turns, so 4 times their number
# is plenty
spread() {
    local i body seen=" "
    for ((i = 0; i < 4 * AGENTS; i++)); do
        body=$(curl -sS --max-time 5 "$base/$1/x" 2>/dev/null) || body=
        [[ $body =~ ^agent\ [0-9]+$ ]] || { say "GET /$1/x: '$body'"; return 1; }
        [[ $seen == *" ${body#agent } "* ]] || seen="$seen${body#agent } "
        [ "$(wc -w <<<"$seen")" -lt "$AGENTS" ] || return 0
    done
    say "GET /$1/x: in $i requests only agent(s)$seen answered"
    return 1
}

for v in $VARIANTS; do
    for t in static autoscale; do
        spread "${t}_$v" || { tail -n 20 "$NGXDIR/logs/error.log" >&2; die "/${t}_$v/ does not reach all $AGENTS agents"; }
    done
done
echo "checked:     every location reaches all $AGENTS agents"
echo

# ---- wrk --------------------------------------------------------------------

# one line per run (bench/lib.sh); a 502, if no agent served, is an error
wrk_report_lua "$TMP/report.lua"

# front_cpu: the CPU time the front nginx's workers have used, in clock
# ticks; per request, it is what the balancer costs, and unlike req/s it
# hardly moves when other work takes the cores
front_cpu() {
    local pid t=0 stat
    for pid in $(pgrep -P "$(<"$NGXDIR/nginx.pid")"); do
        # utime and stime; "(nginx)" has no space to shift the fields
        read -r -a stat <"/proc/$pid/stat" || die "no worker $pid of the front nginx"
        t=$((t + stat[13] + stat[14]))
    done
    echo "$t"
}
tick=$(getconf CLK_TCK)

# run_wrk TARGET DURATION MEASURED: a measured run appends "rps p50_ms
# p99_ms requests cpu_us_per_request" to $TMP/runs.TARGET and prints it
run_wrk() {
    local out=$TMP/wrk.$1.out line cpu
    cpu=$(front_cpu)
    # in the background: wrk catches SIGINT and exits 0, so bash would not
    # run its INT trap for a foreground wrk; "wait" is interrupted at once
    wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency -s "$TMP/report.lua" \
        "$base/$1/x" >"$out" 2>&1 &
    WRK_PID=$!
    # into a file: a $(...) subshell could not wait for wrk
    wrk_result "$out" "against /$1/" rps p50_us p99_us requests >"$out.line"
    line=$(<"$out.line")
    cpu=$(($(front_cpu) - cpu))
    line=$(awk -v cpu="$cpu" -v tick="$tick" '{
        printf "%s %s %s %d %.2f\n", $1, $2, $3, $4, cpu * 1e6 / tick / $4
    }' <<<"$line")
    [ "$3" = yes ] || return 0
    printf '%s\n' "$line" >>"$TMP/runs.$1"
    awk -v n="$1" '{ printf "  %-16s %10.1f req/s   p50 %6.2f ms   p99 %6.2f ms   %5.2f us CPU/req   (%d requests)\n",
                     n, $1, $2, $3, $5, $4 }' <<<"$line"
}

echo "== warm-up ($WARMUP each, not counted)"
for v in $VARIANTS; do
    run_wrk "static_$v" "$WARMUP" no
    run_wrk "autoscale_$v" "$WARMUP" no
done
echo

for v in $VARIANTS; do
    for ((r = 1; r <= RUNS; r++)); do
        echo "== $v, round $r/$RUNS"
        if ((r % 2)); then
            run_wrk "static_$v" "$DURATION" yes
            run_wrk "autoscale_$v" "$DURATION" yes
        else
            run_wrk "autoscale_$v" "$DURATION" yes
            run_wrk "static_$v" "$DURATION" yes
        fi
        # the round's own ratio: its two runs were back to back
        paste -d' ' <(tail -n1 "$TMP/runs.static_$v") <(tail -n1 "$TMP/runs.autoscale_$v") \
            | awk '{ printf "%.3f\n", $(NF / 2 + 1) / $1 }' >>"$TMP/ratios.$v"
        printf '  %-16s %10.3f         (autoscale/static, this round)\n' ratio \
            "$(tail -n1 "$TMP/ratios.$v")"
    done
    echo
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# the agents' shares in a run through the logging locations; a request
# tried on a second agent ("a, b" in the log) is counted apart
echo "== spread under load (a $WARMUP run through each block, not measured)"
for v in $VARIANTS; do
    for t in static autoscale; do
        run_wrk "spread_${t}_$v" "$WARMUP" no
        awk -v ports="${agent_ports[*]}" -v n="${t}_$v" '
            { c[$0]++; all++ }
            END {
                split(ports, p, " ")
                printf "  %-16s", n
                for (i = 1; i in p; i++) {
                    a = "127.0.0.1:" p[i]
                    printf " agent %d %5.1f%%", i, 100 * c[a] / all
                    other = other + c[a]
                }
                printf "   retried %d of %d requests\n", all - other, all
            }' "$NGXDIR/logs/spread_${t}_$v.log"
    done
done
echo

# the agents served throughout, and still do
for v in $VARIANTS; do
    spread "autoscale_$v" || die "after the runs, /autoscale_$v/ does not reach all $AGENTS agents"
done

check_logs "$NGXDIR/logs/error.log" "$AGENTDIR/logs/error.log"

# ---- report -----------------------------------------------------------------

# figures TARGET: "best_rps its_p99 median_rps median_p50 median_p99
# median_cpu"
figures() {
    local f=$TMP/runs.$1
    echo "$(sort -g -k1,1 "$f" | tail -n1 | cut -d' ' -f1,3)" \
         "$(median "$f" 1) $(median "$f" 2) $(median "$f" 3) $(median "$f" 5)"
}

echo "== result ($RUNS run(s) of $DURATION each per target, wrk -t$THREADS -c$CONNS," \
     "nginx $WORKERS worker(s), 0 non-2xx)"
printf '  %-44s %11s %9s %12s %9s %9s %11s\n' "" "best req/s" "its p99" "median req/s" \
    "p50 ms" "p99 ms" "CPU us/req"
for v in $VARIANTS; do
    if [ "$v" = ka ]; then words="keepalive $CONNS"; else words="no keepalive"; fi
    read -r sb sb99 sm sm50 sm99 sc < <(figures "static_$v")
    read -r ab ab99 am am50 am99 ac < <(figures "autoscale_$v")
    awk -v w="$words" -v t="$TARGET_RATIO" -v m="$STATIC" \
        -v sb="$sb" -v sb99="$sb99" -v sm="$sm" -v sm50="$sm50" -v sm99="$sm99" -v sc="$sc" \
        -v ab="$ab" -v ab99="$ab99" -v am="$am" -v am50="$am50" -v am99="$am99" -v ac="$ac" \
        -v rm="$(median "$TMP/ratios.$v" 1)" \
        -v rl="$(sort -g "$TMP/ratios.$v" | head -n1)" \
        -v rh="$(sort -g "$TMP/ratios.$v" | tail -n1)" '
    function verdict(ok) { return ok ? "PASS" : "MISS" }
    function row(name, b, b99, m, m50, m99, c) {
        printf "  %-44s %11.1f %9.2f %12.1f %9.2f %9.2f %11.2f\n", name, b, b99, m, m50, m99, c
    }
    BEGIN {
        row("static    (" m ", " w ")", sb, sb99, sm, sm50, sm99, sc)
        row("autoscale (" w ")", ab, ab99, am, am50, am99, ac)
        printf "  %-44s %11.3f %9s %12.3f %9s %9s %11.3f\n",
               "ratio autoscale/static", ab / sb, "", am / sm, "", "", ac / sc
        printf "  %-44s %11s %9s %12.3f   (%.3f to %.3f)\n",
               "ratio, round by round", "", "", rm, rl, rh
        printf "  target >= %s (information): best %s, median %s, round by round %s\n",
               t, verdict(ab / sb >= t), verdict(am / sm >= t), verdict(rm >= t)
        print ""
    }'
done
echo "  (best: the run with the most req/s, and its p99; median: each figure's"
echo "  own median over the runs; CPU us/req: the front nginx workers' CPU time"
echo "  over the requests answered, median; round by round: the median, lowest"
echo "  and highest of the req/s ratios of the two back-to-back runs of a round)"
echo "  load average after the runs (1/5/15 min): $load_after"
