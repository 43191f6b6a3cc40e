#!/usr/bin/env bash
# bench/observe.sh: what autoscale_observe costs proxied traffic, and what an
# agent's heartbeat costs against nginx's own "return 200", measured with wrk
# on loopback in one run, through one nginx.
#
#   bench/observe.sh                      run from anywhere in the repo
#   BENCH_DURATION=10s bench/observe.sh   length of each measured wrk run (5s)
#   BENCH_ROUNDS=5 bench/observe.sh       alternations of each pair (3)
#   BENCH_WARMUP=2s bench/observe.sh      unmeasured wrk run per target first (2s)
#   BENCH_THREADS=2 BENCH_CONNS=64 ...    wrk's threads and connections
#   BENCH_WORKERS=1 bench/observe.sh      nginx's worker_processes (2)
#
# The pairs, each alternated BENCH_ROUNDS times (A, B, A, B, ...):
#   plain / observed   GET through proxy_pass to an upstream server block of
#                      the same nginx over keep-alive connections; "observed"
#                      is the same location with autoscale_observe c-bench
#   ok / heartbeat     POST of an agent's report with wrk's Lua script:
#                      "return 200" of the heartbeat's own answer, and
#                      POST /api/clusters/c-bench/agents/agent-1/heartbeat
# The best and the median req/s of each target are reported, the ratios
# observed/plain and heartbeat/ok of both, and the median of the ratios the
# two runs of each round make (they ran back to back).
#
# The collector runs every second meanwhile (autoscale_collect_interval 1s),
# reading the zone's counters that the observed requests and the heartbeats
# write. Afterwards GET /api/metrics (read from the zone) must show the
# observed requests counted for c-bench, or the run measured nothing.
#
# Targets are printed with PASS/MISS as information. The exit code is
# non-zero only when something broke: a tool missing, the build, PostgreSQL
# or nginx failing, a wrong answer before the runs, non-2xx responses or
# socket errors in a run, nginx logging an alert or a crashed worker, or no
# observed request counted.

set -euo pipefail

REPO=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$REPO"
. "$REPO/bench/lib.sh"

wrk_settings 5s 3 64
# Two workers, as the other benchmarks run: the observed counters are atomics
# in shared memory, and only with a second process touching their cache
# lines does an increment cost what it costs in production; one worker would
# hide that. The price: nginx, wrk's threads and PostgreSQL contend for the
# 2 cores, and the runs vary more (see the round-by-round ratios).
WORKERS=${BENCH_WORKERS:-2}
CLUSTER=c-bench
AGENT=agent-1
TARGET_OBSERVE=0.97
TARGET_HEARTBEAT=0.5

need_counts WORKERS
need_tools

# ---- build, PostgreSQL ------------------------------------------------------

bench_setup observe

# the one cluster, active, room to scale both ways
pg -v id="$CLUSTER" >/dev/null <<'EOF' || die "creating cluster $CLUSTER failed"
INSERT INTO clusters (id, name, status, min_workers, max_workers,
                      current_workers, target_workers, started_at)
VALUES (:'id', 'Benchmark cluster', 'active', 1, 100, 1, 1, now());
EOF

# ---- environment ------------------------------------------------------------

bench_environment "private, fsync off"
echo "workers:     worker_processes $WORKERS"
echo "wrk runs:    -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS round(s) of each pair," \
     "warm-up $WARMUP each; collector every 1s, scaler off"
echo

# ---- nginx ------------------------------------------------------------------

# The heartbeat's answer for a collect interval of 1s ("lost_after" is 3
# intervals), less the API's final newline; "ok" returns the same bytes,
# checked below.
OK_BODY='{"accepted":true,"lost_after":3}'

# write_conf: on two free ports, the proxy and its upstream
write_conf() {
    port=$(free_port) || die "no free loopback port"
    upstream_port=$(free_port) || die "no free loopback port"
    [ "$port" != "$upstream_port" ] || return 1
    { conf_head "$WORKERS" "logs/error.log info"; cat <<EOF

    # wrk's connections stay open for a whole run
    keepalive_requests 1000000;

    autoscale_postgres "$conninfo";
    # the collector reads the zone's counters during every run; the scaler
    # plays no part in observation, and its checks would land in some
    # rounds and not others
    autoscale_collect_interval 1s;
    autoscale_collector on;
    autoscale_scaler off;

    # idle connections kept per worker: as many as wrk opens, so that no
    # proxied request waits for a connect
    upstream backend {
        server 127.0.0.1:$upstream_port;
        keepalive $CONNS;
        keepalive_requests 1000000;
    }

    server {
        # reuseport here and below: the kernel spreads the connections over
        # the workers by their addresses, about evenly; without it, whichever
        # worker wakes first takes each, and the split (seen as 49/37 of a
        # run's connections) changes from run to run with what else runs
        listen 127.0.0.1:$upstream_port reuseport;

        location / {
            return 200 "ok\n";
        }
    }

    server {
        listen 127.0.0.1:$port reuseport;

        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location /plain/ {
            proxy_pass http://backend;
        }

        location /observed/ {
            autoscale_observe $CLUSTER;
            proxy_pass http://backend;
        }

        location /api/ {
            autoscale_api write=on;
        }

        location = /ok {
            default_type application/json;
            return 200 '$OK_BODY\n';
        }
    }
}
EOF
    } >"$NGXDIR/nginx.conf"
}

# start_nginx: retried on other ports if one is taken meanwhile
start_nginx() {
    start_on_free_ports "$NGXDIR/logs/error.log" write_conf
}

HB_BODY='{"status":"busy","cpu_usage":50,"queue_length":1}'

start_nginx
base=http://127.0.0.1:$port
hb_url=$base/api/clusters/$CLUSTER/agents/$AGENT/heartbeat

request "GET /plain/" "$TMP/plain.out" "$base/plain/" \
    || { tail -n 20 "$NGXDIR/logs/error.log" >&2; die "/plain/ did not answer 200"; }
[ "$(cat "$TMP/plain.out")" = ok ] || die "/plain/ did not answer the upstream's \"ok\""
request "GET /observed/" "$TMP/observed.out" "$base/observed/" \
    || { tail -n 20 "$NGXDIR/logs/error.log" >&2; die "/observed/ did not answer 200"; }
[ "$(cat "$TMP/observed.out")" = ok ] || die "/observed/ did not answer the upstream's \"ok\""
request "POST heartbeat" "$TMP/heartbeat.json" -X POST -H 'Content-Type: application/json' \
    --data-binary "$HB_BODY" "$hb_url" \
    || { tail -n 20 "$NGXDIR/logs/error.log" >&2; die "the heartbeat did not answer 200"; }
request "POST /ok" "$TMP/ok.json" -X POST -H 'Content-Type: application/json' \
    --data-binary "$HB_BODY" "$base/ok" || die "/ok did not answer 200"
if cmp -s "$TMP/heartbeat.json" "$TMP/ok.json"; then
    echo "bodies:      heartbeat and ok answer the same $(wc -c <"$TMP/ok.json") bytes"
else
    echo "bodies:      heartbeat answers $(cat "$TMP/heartbeat.json"), ok $(cat "$TMP/ok.json")" \
         "(they differ; the figures stand, but say so)"
fi
echo

# ---- wrk --------------------------------------------------------------------

# one line per run: every non-200 of these targets is above 399
wrk_report_lua "$TMP/report.lua"
# the agent's report, the same request for "heartbeat" and its baseline "ok"
{
    printf '%s\n' 'wrk.method = "POST"'
    printf "wrk.body = '%s'\n" "$HB_BODY"
    printf '%s\n' 'wrk.headers["Content-Type"] = "application/json"'
    cat "$TMP/report.lua"
} >"$TMP/post.lua"

declare -A url script
url[plain]=$base/plain/
url[observed]=$base/observed/
url[ok]=$base/ok
url[heartbeat]=$hb_url
script[plain]=$TMP/report.lua
script[observed]=$TMP/report.lua
script[ok]=$TMP/post.lua
script[heartbeat]=$TMP/post.lua

# requests wrk saw answered per target, warm-up included
declare -A answered=([plain]=0 [observed]=0 [ok]=0 [heartbeat]=0)

# run_wrk NAME DURATION MEASURED: measured runs append "rps p50_ms p99_ms
# requests" to $TMP/runs.NAME
run_wrk() {
    local name=$1 dur=$2 measured=$3 out=$TMP/wrk.$1.out line
    # in the background: wrk catches SIGINT and exits 0, so bash would not
    # run its INT trap for a foreground wrk; "wait" is interrupted at once
    wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency -s "${script[$name]}" \
        "${url[$name]}" >"$out" 2>&1 &
    WRK_PID=$!
    # into a file: a $(...) subshell could not wait for wrk
    wrk_result "$out" "against ${url[$name]}" rps p50_us p99_us requests \
               >"$out.line"
    line=$(<"$out.line")
    answered[$name]=$((answered[$name] + ${line##* }))
    [ "$measured" = yes ] || return 0
    printf '%s\n' "$line" >>"$TMP/runs.$name"
    printf '%s\n' "$line" | awk -v n="$name" \
        '{ printf "  %-10s %10.1f req/s   p50 %6.2f ms   p99 %6.2f ms   (%d requests)\n", n, $1, $2, $3, $4 }'
}

collections() { grep -c 'autoscale: collection: ' "$NGXDIR/logs/error.log" || true; }

# pair_ratio BASE OTHER: OTHER's req/s over BASE's in the round just run,
# kept in $TMP/ratios.OTHER; the two ran back to back, so a slower stretch
# of the machine weighs on both alike more often than on the best or median
pair_ratio() {
    paste -d' ' <(tail -n1 "$TMP/runs.$1") <(tail -n1 "$TMP/runs.$2") \
        | awk '{ printf "%.3f\n", $5 / $1 }' >>"$TMP/ratios.$2"
    printf '  %-10s %10.3f         (%s/%s, this round)\n' ratio "$(tail -n1 "$TMP/ratios.$2")" "$2" "$1"
}

coll_from=$(collections)

echo "== warm-up ($WARMUP each, not counted)"
for name in plain observed ok heartbeat; do
    run_wrk "$name" "$WARMUP" no
done
echo

for ((r = 1; r <= ROUNDS; r++)); do
    echo "== proxy_pass, round $r/$ROUNDS"
    run_wrk plain "$DURATION" yes
    run_wrk observed "$DURATION" yes
    pair_ratio plain observed
done
echo
for ((r = 1; r <= ROUNDS; r++)); do
    echo "== heartbeat, round $r/$ROUNDS"
    run_wrk ok "$DURATION" yes
    run_wrk heartbeat "$DURATION" yes
    pair_ratio ok heartbeat
done
echo

coll_runs=$(($(collections) - coll_from))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- what the zone counted --------------------------------------------------

request "GET /api/metrics" "$TMP/metrics.txt" "$base/api/metrics" || die "GET /api/metrics failed"

# prom SAMPLE: the value of the sample named (with its labels) SAMPLE, or ""
prom() {
    awk -v s="$1" 'index($0, s " ") == 1 { print $2; exit }' "$TMP/metrics.txt"
}

started=$(prom "autoscale_requests_started_total{cluster=\"$CLUSTER\"}")
finished=$(prom "autoscale_requests_finished_total{cluster=\"$CLUSTER\"}")
ok2xx=$(prom "autoscale_responses_total{cluster=\"$CLUSTER\",class=\"2xx\"}")
busy=$(prom "autoscale_agents{cluster=\"$CLUSTER\",status=\"busy\"}")
unknown=$(prom autoscale_observe_unknown_total)
written=$(prom autoscale_metrics_rows_written_total)
# the curl of the check above, and every request wrk saw answered
sent=$((answered[observed] + 1))

echo "== what the zone counted (GET /api/metrics, after the runs)"
printf '  %-58s %s\n' "autoscale_requests_started_total{cluster=\"$CLUSTER\"}" "${started:-missing}"
printf '  %-58s %s\n' "autoscale_requests_finished_total{cluster=\"$CLUSTER\"}" "${finished:-missing}"
printf '  %-58s %s\n' "autoscale_responses_total{cluster=\"$CLUSTER\",class=\"2xx\"}" "${ok2xx:-missing}"
printf '  %-58s %s\n' "answered to wrk and curl on /observed/" "$sent"
printf '  %-58s %s\n' "autoscale_agents{cluster=\"$CLUSTER\",status=\"busy\"}" "${busy:-missing}"
printf '  %-58s %s\n' "autoscale_observe_unknown_total" "${unknown:-missing}"
printf '  %-58s %s\n' "autoscale_metrics_rows_written_total" "${written:-missing}"
printf '  %-58s %s\n' "collections logged during the runs" "$coll_runs"
printf '  %-58s %s\n' "load average after the runs (1/5/15 min)" "$load_after"
echo

[[ $started =~ ^[0-9]+$ ]] && [ "$started" -gt 0 ] \
    || die "autoscale_requests_started_total for $CLUSTER is '${started:-missing}': nothing was observed, the figures are void"
# wrk does not count what is in flight when it stops; nginx does
[ "$started" -ge "$sent" ] \
    || die "the zone counted $started observed requests, fewer than the $sent answered"

check_logs "$NGXDIR/logs/error.log"

# ---- report -----------------------------------------------------------------

# summary NAME: "best_rps best_p99 median_rps median_p50 median_p99"; the
# best run's p99 with its req/s, each median over the rounds on its own
summary() {
    local f=$TMP/runs.$1
    echo "$(sort -g -k1,1 "$f" | tail -n1 | cut -d' ' -f1,3)" \
         "$(median "$f" 1) $(median "$f" 2) $(median "$f" 3)"
}

# ratios NAME: "median min max" of the rounds' own ratios
ratios() {
    echo "$(median "$TMP/ratios.$1" 1) $(sort -g "$TMP/ratios.$1" | sed -n '1p;$p' | paste -sd' ')"
}

read -r p_best p_best99 p_med p_med50 p_med99 < <(summary plain)
read -r o_best o_best99 o_med o_med50 o_med99 < <(summary observed)
read -r k_best k_best99 k_med k_med50 k_med99 < <(summary ok)
read -r h_best h_best99 h_med h_med50 h_med99 < <(summary heartbeat)
read -r or_med or_min or_max < <(ratios observed)
read -r hr_med hr_min hr_max < <(ratios heartbeat)

awk -v rounds="$ROUNDS" -v dur="$DURATION" -v conns="$CONNS" -v threads="$THREADS" \
    -v workers="$WORKERS" -v tobs="$TARGET_OBSERVE" -v thb="$TARGET_HEARTBEAT" \
    -v pb="$p_best" -v pb99="$p_best99" -v pm="$p_med" -v pm50="$p_med50" -v pm99="$p_med99" \
    -v ob="$o_best" -v ob99="$o_best99" -v om="$o_med" -v om50="$o_med50" -v om99="$o_med99" \
    -v kb="$k_best" -v kb99="$k_best99" -v km="$k_med" -v km50="$k_med50" -v km99="$k_med99" \
    -v hb="$h_best" -v hb99="$h_best99" -v hm="$h_med" -v hm50="$h_med50" -v hm99="$h_med99" \
    -v orm="$or_med" -v orl="$or_min" -v orh="$or_max" \
    -v hrm="$hr_med" -v hrl="$hr_min" -v hrh="$hr_max" '
function verdict(ok) { return ok ? "PASS" : "MISS" }
function row(name, b, b99, m, m50, m99) {
    printf "  %-44s %11.1f %9.2f %12.1f %9.2f %9.2f\n", name, b, b99, m, m50, m99
}
function ratio(name, b, m, rm, rl, rh) {
    printf "  %-44s %11.3f %9s %12.3f\n", "ratio     " name, b, "", m
    printf "  %-44s %11s %9s %12.3f   (%.3f to %.3f)\n", "          " name ", round by round", "", "", rm, rl, rh
}
BEGIN {
    obs_best = ob / pb; obs_med = om / pm
    hb_best = hb / kb; hb_med = hm / km
    printf "== result (%d round(s) of %s each, wrk -t%d -c%d, nginx %d worker(s), 0 non-2xx)\n",
           rounds, dur, threads, conns, workers
    printf "  %-44s %11s %9s %12s %9s %9s\n", "", "best req/s", "its p99", "median req/s", "p50 ms", "p99 ms"
    row("plain     (proxy_pass)", pb, pb99, pm, pm50, pm99)
    row("observed  (proxy_pass, autoscale_observe)", ob, ob99, om, om50, om99)
    ratio("observed/plain", obs_best, obs_med, orm, orl, orh)
    print ""
    row("ok        (POST, nginx return 200)", kb, kb99, km, km50, km99)
    row("heartbeat (POST, autoscale_api)", hb, hb99, hm, hm50, hm99)
    ratio("heartbeat/ok", hb_best, hb_med, hrm, hrl, hrh)
    print "  (best: the round with the most req/s, and its p99; median: the median over"
    print "  the rounds of each figure on its own; round by round: the median, lowest and"
    print "  highest of the ratios of the two runs of each round)"
    print ""
    print "== targets (information; they do not set the exit code)"
    printf "  req/s ratio observed/plain >= %s:  best %.3f  %s, median %.3f  %s\n",
           tobs, obs_best, verdict(obs_best >= tobs), obs_med, verdict(obs_med >= tobs)
    printf "  req/s ratio heartbeat/ok   >= %s:   best %.3f  %s, median %.3f  %s\n",
           thb, hb_best, verdict(hb_best >= thb), hb_med, verdict(hb_med >= thb)
}'
