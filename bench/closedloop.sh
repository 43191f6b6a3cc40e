#!/usr/bin/env bash
# bench/closedloop.sh: the scaling policies judged on a closed loop.  nginx
# with the module observes one location per cluster and balances it over
# the cluster's agents (autoscale_upstream); the supervisor runs demo
# workers of a fixed service time and a start-up delay, as many as each
# cluster's target; an open-loop load generator (Poisson arrivals whose
# rate follows a trace) sends the requests, and a scorer says what each
# policy made of them.
#
#   bench/closedloop.sh                  every trace (about 12 minutes)
#   bench/closedloop.sh --quick          one short trace, to try it (2 min)
#   bench/closedloop.sh --trace ramp     the traces named (bench/closedloop/
#                                        traces/NAME.trace) or given as files
#   bench/closedloop.sh --out DIR        where the results go (build/
#                                        closedloop-DATE)
#   BENCH_SLO=1 BENCH_TIMEOUT=10 ...     a request's SLO and its time-out (s)
#   BENCH_SERVICE_TIME=0.2               a request's time at a worker (s)
#   BENCH_STARTUP_DELAY=2                a worker's time to start (s)
#   BENCH_SEED=1                         the arrivals' seed (each trace adds
#                                        its own)
#
# Each trace runs the policies side by side, one cluster each, at the same
# time, with the same arrivals: threshold (the default), target tracking on
# load_percentage 70, demand with target_value 70 (where the API accepts
# that policy: otherwise its row says "not built") and a fixed pool at the
# maximum.  Every cluster scales from 1 to 20 workers (the pool stays at
# 20), actuation "reported" (its workers are the agents that heartbeat),
# one request at a time per worker (worker_capacity 1), cooldowns and the
# stabilization window 20 s, with nginx collecting every 2 s and deciding
# every 4 s: the defaults (30 s, 60 s, 300 s) compressed 15 times.
#
# Per trace and policy it prints SLO-violating 5 s windows, failed
# requests, p50 / p99, worker-seconds, peak workers and direction
# reversals (bench/closedloop/score.py says how each is counted), writes
# that table to OUT/results.md, and draws OUT/closedloop.png (gnuplot):
# workers, target and load over time, one panel per trace.  The figures
# are printed, not asserted: the exit code is non-zero only when something
# broke (a tool missing, the build, PostgreSQL, nginx or the supervisor
# failing, a cluster that never got its first workers, nginx logging an
# alert or a crashed worker).

set -euo pipefail

REPO=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$REPO"
. "$REPO/bench/lib.sh"

HERE=$REPO/bench/closedloop
SUPERVISOR=$REPO/build/autoscale-supervisor
WORKER=$REPO/supervisor/autoscale-demo-worker
POLICIES=(threshold target demand fixed)
SLO=${BENCH_SLO:-1}
TIMEOUT=${BENCH_TIMEOUT:-10}
SERVICE_TIME=${BENCH_SERVICE_TIME:-0.2}
STARTUP_DELAY=${BENCH_STARTUP_DELAY:-2}
SEED=${BENCH_SEED:-1}
MAX_WORKERS=20
COOLDOWN=20
GRACE=5
TRACES=()
OUT=

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        --quick) TRACES+=("$HERE/traces/quick.trace") ;;
        --trace) [ $# -ge 2 ] || usage; shift
                 if [ -f "$1" ]; then TRACES+=("$(readlink -f -- "$1")")
                 else TRACES+=("$HERE/traces/$1.trace"); fi ;;
        --out)   [ $# -ge 2 ] || usage; shift; OUT=$1 ;;
        *)       usage ;;
    esac
    shift
done
[ ${#TRACES[@]} -gt 0 ] || for t in step ramp spike wave tail; do
    TRACES+=("$HERE/traces/$t.trace")
done
for t in "${TRACES[@]}"; do
    [ -f "$t" ] || die "no trace $t"
    [[ $(basename "$t" .trace) =~ ^[a-z0-9]{1,20}$ ]] \
        || die "$t: a trace's name is 1-20 of a-z0-9"
done
for v in SLO TIMEOUT SERVICE_TIME STARTUP_DELAY; do
    [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?$ ]] \
        || die "BENCH_$v='${!v}': expected seconds, e.g. 0.5"
done
awk -v x="$TIMEOUT" -v s="$SERVICE_TIME" 'BEGIN { exit !(x > 0 && x <= 60 && s > 0) }' \
    || die "BENCH_TIMEOUT is 0 to 60 s, BENCH_SERVICE_TIME above 0"
need_counts SEED
for t in curl python3 gnuplot; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found (util/deps installs it)"
done
[ -x "$NGINX" ] || die "$NGINX not found"
OUT=${OUT:-$REPO/build/closedloop-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(readlink -f -- "$OUT")

# ---- what runs, and how it stops ---------------------------------------------

SUP_PID=
BG_PIDS=()
TOKEN=

# pids of the workers started for this run: they carry the run's token
run_pids() {
    local f pid
    [ -n "$TOKEN" ] || return 0
    for f in /proc/[0-9]*/environ; do
        pid=${f#/proc/}
        pid=${pid%/environ}
        grep -qzxF "BENCH_CLOSEDLOOP_RUN=$TOKEN" "$f" 2>/dev/null \
            && echo "$pid"
    done
    return 0
}

# stop_supervisor: SIGTERM (it stops its workers), then by pid whatever
# of this run is left once the grace is over
stop_supervisor() {
    local i left
    if [ -n "$SUP_PID" ]; then
        kill -TERM "$SUP_PID" 2>/dev/null || true
        for ((i = 0; i < (GRACE + 5) * 10; i++)); do
            kill -0 "$SUP_PID" 2>/dev/null || break
            sleep 0.1
        done
        wait "$SUP_PID" 2>/dev/null || true
        SUP_PID=
    fi
    left=$(run_pids)
    [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
}

closedloop_cleanup() {
    local rc=$? p
    set +e
    for p in "${BG_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    stop_supervisor
    (exit "$rc")
    cleanup
}
trap closedloop_cleanup EXIT

# ---- build, PostgreSQL, nginx -----------------------------------------------

bench_setup closedloop
[ -x "$SUPERVISOR" ] || die "$SUPERVISOR not built"
TOKEN=$TMP

cluster_id() { printf 'cl-%s-%s' "$1" "$2"; }

# every trace's clusters have an upstream block and a location of their
# own: /c/CLUSTER/, observed and balanced over the cluster's agents
write_conf() {
    local t p id
    port=$(free_port) || die "no free loopback port"
    {
        # a backlog of requests is two connections each, client and agent
        conf_head 2 "logs/error.log warn" \
            | sed -e 's/worker_connections 1024;/worker_connections 8192;/' \
                  -e 's/^daemon on;/worker_rlimit_nofile 20000;\ndaemon on;/'
        cat <<EOF

    autoscale_postgres "$conninfo";
    autoscale_zone autoscale:16m;
    autoscale_collect_interval 2s;
    autoscale_check_interval 4s;
EOF
        for t in "${TRACES[@]}"; do
            for p in "${POLICIES[@]}"; do
                id=$(cluster_id "$(basename "$t" .trace)" "$p")
                # one request at a time per worker, as it serves: a
                # backlog waits in nginx for the first free worker
                printf '\n    upstream %s {\n        autoscale_upstream %s max_conns=1;\n    }\n' \
                    "$id" "$id"
            done
        done
        cat <<EOF

    server {
        listen 127.0.0.1:$port;
        location /api/ { autoscale_api; }
        location /admin/api/ { autoscale_api write=on; }
        location /agents/ { autoscale_api write=agents; }
EOF
        for t in "${TRACES[@]}"; do
            for p in "${POLICIES[@]}"; do
                id=$(cluster_id "$(basename "$t" .trace)" "$p")
                cat <<EOF
        location /c/$id/ {
            autoscale_observe $id;
            proxy_pass http://$id;
            proxy_next_upstream error timeout;
            proxy_read_timeout 60s;
        }
EOF
            done
        done
        echo "    }"
        echo "}"
    } >"$NGXDIR/nginx.conf"
}
start_on_free_ports "$NGXDIR/logs/error.log" write_conf
BASE=http://127.0.0.1:$port

bench_environment "private" | grep -v '^wrk:'
echo "workers:     supervisor/autoscale-demo-worker, --service-time $SERVICE_TIME" \
     "--concurrency 1 --startup-delay $STARTUP_DELAY; 1..$MAX_WORKERS a cluster"
echo "scaling:     collect 2s, check 4s, cooldowns and stabilization ${COOLDOWN}s," \
     "actuation reported, worker_capacity 1"
echo "load:        open loop, Poisson arrivals, time-out ${TIMEOUT}s, SLO p95 <= ${SLO}s" \
     "per 5 s window; seed $SEED"
echo "results:     $OUT"
echo

# ---- one trace ----------------------------------------------------------------

# create_cluster TRACE POLICY: its row, paused until its load has begun, at
# 0 workers heading for its first (WARM: what the trace's first rate keeps
# 70 % busy, as a cluster that had that load for a while would have); the
# demand policy through the API,
# which may refuse it (a module without it): then POLICY.notbuilt says why,
# and the cluster is destroyed
create_cluster() {
    local id min=1 target=$WARM policy=threshold d=$OUT/$1
    id=$(cluster_id "$1" "$2")
    case $2 in
        target) policy=target ;;
        fixed)  min=$MAX_WORKERS target=$MAX_WORKERS ;;
    esac
    pg -v id="$id" -v min="$min" -v max="$MAX_WORKERS" -v target="$target" \
       -v policy="$policy" -v cool="$COOLDOWN" >/dev/null <<'EOF' \
        || die "creating cluster $id failed"
INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, actuation,
                      worker_capacity, policy, target_metric, target_value,
                      scale_up_cooldown, scale_down_cooldown,
                      stabilization_window, started_at, paused)
VALUES (:'id', 'closed loop ' || :'id', 'scaling_up', :min, :max, 0,
        :target, 'reported', 1, :'policy', 'load_percentage', 70,
        :cool, :cool, :cool, now(), true);
EOF
    echo "start.$2	$target" >>"$d/meta"
    echo "cluster.$2	$id" >>"$d/meta"
    [ "$2" = demand ] || return 0
    local code
    code=$(curl -sS -o "$d/demand.put" -w '%{http_code}' --max-time 10 \
                -X PUT -H 'Content-Type: application/json' \
                -d '{"policy":"demand","target_value":70}' \
                "$BASE/admin/api/clusters/$id") || code=000
    [ "$code" = 200 ] && return 0
    say "  the API refused policy demand (HTTP $code): not built"
    cp "$d/demand.put" "$d/demand.notbuilt"
    curl -sS -o /dev/null -X DELETE "$BASE/admin/api/clusters/$id" || true
    return 1
}

# ready IDS...: every cluster active at its target, its workers counted
ready() {
    local id
    for id in "$@"; do
        curl -sS --max-time 5 "$BASE/api/clusters/$id" 2>/dev/null \
            | python3 -c 'import json, sys
c = json.load(sys.stdin)
sys.exit(not (c["status"] == "active"
              and c["current_workers"] == c["target_workers"]))' \
            || return 1
    done
}

run_trace() {
    local file=$1 name d duration p id ids=() run=() seed t0 i
    name=$(basename "$file" .trace)
    d=$OUT/$name
    rm -rf "$d"
    mkdir -p "$d"
    cp "$file" "$d/trace"
    duration=$(awk '!/^[[:space:]]*(#|$)/ { t = $1 } END { print t }' "$file")
    # the same arrivals for every policy of the trace
    seed=$((SEED + $(printf '%s' "$name" | cksum | cut -d' ' -f1) % 1000))
    say "== $name: $duration s ($(python3 "$HERE/loadgen.py" --trace "$file" \
        --seed "$seed" --url http://127.0.0.1/ --out /dev/null --count) requests a policy)"

    WARM=$(awk -v s="$SERVICE_TIME" -v max="$MAX_WORKERS" \
               '!/^[[:space:]]*(#|$)/ { n = $2 * s / 0.7
                                        n = (n == int(n)) ? n : int(n) + 1
                                        if (n < 1) n = 1
                                        print (n > max ? max : n); exit }' \
               "$file")
    for p in "${POLICIES[@]}"; do
        if create_cluster "$name" "$p"; then
            ids+=("$(cluster_id "$name" "$p")")
            run+=("$p")
        fi
    done

    # one supervisor for the trace's clusters; its workers carry the token
    local args=() base
    for id in "${ids[@]}"; do args+=(--cluster "$id"); done
    # below the kernel's ephemeral ports, which nginx's connections to the
    # workers take by the thousand
    base=$((12000 + RANDOM % 10000))
    BENCH_CLOSEDLOOP_RUN=$TOKEN AUTOSCALE_API=$BASE/agents/ \
        "$SUPERVISOR" --db "$conninfo" "${args[@]}" --port-base "$base" \
            --grace "$GRACE" -- "$WORKER" --service-time "$SERVICE_TIME" \
            --concurrency 1 --startup-delay "$STARTUP_DELAY" --interval 0.5 \
            </dev/null >>"$d/supervisor.log" 2>&1 &
    SUP_PID=$!

    for ((i = 0; i < 600; i++)); do
        ready "${ids[@]}" && break
        kill -0 "$SUP_PID" 2>/dev/null \
            || { tail -n 20 "$d/supervisor.log" >&2; die "the supervisor exited"; }
        sleep 0.2
    done
    ready "${ids[@]}" || { tail -n 20 "$d/supervisor.log" >&2;
                           die "$name: the clusters did not get their workers in 120 s"; }

    # every generator from one start
    t0=$(awk -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", n + 2 }')
    printf 't0\t%s\nduration\t%s\n' "$t0" "$duration" >>"$d/meta"
    BG_PIDS=()
    python3 "$HERE/sampler.py" --api "$BASE/api/" \
        --token "$TOKEN" --out "$d/samples.tsv" \
        --until "$(awk -v t="$t0" -v d="$duration" -v x="$TIMEOUT" \
                       'BEGIN { printf "%.3f", t + d + x + 2 }')" \
        "${ids[@]}" &
    BG_PIDS+=($!)
    for p in "${run[@]}"; do
        python3 "$HERE/loadgen.py" --trace "$file" --seed "$seed" \
            --url "$BASE/c/$(cluster_id "$name" "$p")/" --start-at "$t0" \
            --timeout "$TIMEOUT" --out "$d/$p.req" &
        BG_PIDS+=($!)
    done
    # paused until the load starts, and a collection (2 s) has a window
    # with it: idle, they would scale down first
    sleep 6
    pg -v ids="${ids[*]}" >/dev/null <<'EOF' || die "unpausing failed"
UPDATE clusters SET paused = false
 WHERE id = ANY (string_to_array(:'ids', ' '));
EOF
    for p in "${BG_PIDS[@]}"; do
        wait "$p" || die "$name: a load generator or the sampler failed"
    done
    BG_PIDS=()

    stop_supervisor
    pg -AtF $'\t' -v ids="${ids[*]}" >"$d/events.tsv" <<'EOF' \
        || die "reading the events failed"
SELECT cluster_id, extract(epoch FROM at), action, from_workers, to_workers
  FROM scaling_events
 WHERE cluster_id = ANY (string_to_array(:'ids', ' '))
 ORDER BY id;
EOF
    # the trace is over: its clusters leave the scaler and the zone
    for id in "${ids[@]}"; do
        curl -sS -o /dev/null -X DELETE "$BASE/admin/api/clusters/$id" || true
    done
    grep -h 'crashed' "$d/supervisor.log" | head -n 3 >&2 || true
    python3 "$HERE/score.py" --slo "$SLO" --service-time "$SERVICE_TIME" \
        "$OUT" "$name" | tail -n +3 >&2
}

names=()
for t in "${TRACES[@]}"; do
    run_trace "$t"
    names+=("$(basename "$t" .trace)")
done

# ---- the table, the plot, the logs ---------------------------------------------

echo "== closed loop ($(date -u '+%F %H:%M UTC'), $(nproc) cores, the run took" \
     "$((SECONDS / 60)) min $((SECONDS % 60)) s)"
python3 "$HERE/score.py" --slo "$SLO" --service-time "$SERVICE_TIME" \
    "$OUT" "${names[@]}" | tee "$OUT/results.md"
gnuplot -e "outdir='$OUT'; traces='${names[*]}'" \
        -e "st=$SERVICE_TIME; png='$OUT/closedloop.png'" "$HERE/plot.gp" \
    || die "gnuplot failed"
echo
echo "plot: $OUT/closedloop.png"
check_logs "$NGXDIR/logs/error.log"
