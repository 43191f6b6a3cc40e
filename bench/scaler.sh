#!/usr/bin/env bash
# bench/scaler.sh: the leader's scaler and collector jobs on a synthetic
# fleet, timed from nginx's log and from PostgreSQL's, while wrk measures a
# static location served by the same two workers.
#
#   bench/scaler.sh                          run from anywhere in the repo
#   BENCH_CLUSTERS=10000 bench/scaler.sh     the fleet (10000); the zone is
#                                            sized for it (3m per 1000)
#   BENCH_SMALL_CLUSTERS=1000 ...            a small fleet, for scale (1000)
#   BENCH_COLLECT_CLUSTERS=...               the collector's fleet (the
#                                            fleet, at most 20000)
#   BENCH_INTERVAL=5 ...                     check/collect interval, s (5)
#   BENCH_CYCLES=5 ...                       cycles measured under wrk (5)
#   BENCH_SMALL_CYCLES=3 ...                 cycles of the small fleet (3)
#   BENCH_THREADS=2 BENCH_CONNS=32 ...       wrk's threads and connections
#   BENCH_PROBE_CYCLES=2 ...                 cycles of the leader probe (2)
#
# Phases, one nginx each, on one private PostgreSQL:
#   baseline   scaler and collector off; wrk on /static
#   scaler     the big fleet; collector off so the bench's metrics stay the
#              latest rows; wrk on /static over BENCH_CYCLES cycles, then the
#              leader probe over BENCH_PROBE_CYCLES more
#   small      the small fleet, scaler only; the same
#   collector  the big fleet, collector only; once the first collection has
#              told the zone which clusters exist, one request per cluster
#              to /obs (autoscale_observe $arg_c) has the zone measure
#              every one, so that each later collection writes a row per
#              cluster; then the same
#
# The leader probe tells a held event loop from a busy CPU: wrk's p99 rises
# with either. With wrk stopped, one keep-alive connection that the leader
# worker itself serves (found through $pid) sends a request every 5 ms; its
# worst latency is about the longest stretch the jobs kept the loop busy.
#
# The database's side: log_min_duration_statement = 0 (ALTER SYSTEM, then a
# reload) makes PostgreSQL log the server time of every parse, bind and
# execute message. Summed per backend and per cycle (a cycle starts at the
# check's or the collection's statement), that is the time the server spent
# on the cycle's statements, network and nginx's own work excluded (the
# logging itself, a line per message, is included).
#
# Targets are printed with PASS/MISS as information. The exit code is
# non-zero only when something broke: a tool missing, the build, PostgreSQL
# or nginx failing, no cycle logged in time, socket errors or non-2xx from
# wrk, or nginx logging an alert or a crashed worker.

set -euo pipefail

REPO=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$REPO"
. "$REPO/bench/lib.sh"

CLUSTERS=${BENCH_CLUSTERS:-10000}
SMALL=${BENCH_SMALL_CLUSTERS:-1000}
# the collector's fleet: every cluster of it writes a row per interval,
# which a 2-core machine under wrk does not keep up with much past 20 000
# clusters at a few seconds' interval
COLLECT=${BENCH_COLLECT_CLUSTERS:-$((CLUSTERS < 20000 ? CLUSTERS : 20000))}
INTERVAL=${BENCH_INTERVAL:-5}
CYCLES=${BENCH_CYCLES:-5}
SMALL_CYCLES=${BENCH_SMALL_CYCLES:-3}
PROBE_CYCLES=${BENCH_PROBE_CYCLES:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
WORKERS=2
# a cluster's node takes about 700 bytes (the default 10m holds some
# 15 000), a window's row about 350, and the rows that wait for the
# database may fill a quarter of the zone: 3m per 1000 clusters
ZONE_MB=$(((CLUSTERS > COLLECT ? CLUSTERS : COLLECT) * 3 / 1000 + 10))
TARGET_P99_MS=5

need_counts CLUSTERS SMALL COLLECT INTERVAL CYCLES SMALL_CYCLES PROBE_CYCLES \
            THREADS CONNS
# below 20 the 5 % shares round to nothing
[ "$CLUSTERS" -ge 20 ] && [ "$SMALL" -ge 20 ] || die "fleets of at least 20 clusters, please"
[ "$CLUSTERS" -le 9999999 ] && [ "$SMALL" -le 9999999 ] || die "at most 9999999 clusters (ids have 7 digits)"

# python3: the leader probe
need_tools python3

# ---- build, PostgreSQL ------------------------------------------------------

bench_setup scaler
PGLOG=$PGDIR/postgres.log

# every message's server time in the log; parameters left out, since the
# held decisions travel as one multi-megabyte JSON parameter
pg -c "ALTER SYSTEM SET log_min_duration_statement = 0" \
   -c "ALTER SYSTEM SET log_parameter_max_length = 0" \
   -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] '" \
   -c "SELECT pg_reload_conf()" >/dev/null || die "configuring PostgreSQL's log failed"

# ---- environment ------------------------------------------------------------

bench_environment "private, fsync off, log_min_duration_statement 0"
echo "settings:    fleets $CLUSTERS and $SMALL clusters ($COLLECT for the collector), interval ${INTERVAL}s, $CYCLES measured cycles" \
     "($SMALL_CYCLES for the small fleet), worker_processes $WORKERS"
echo "wrk:         -t$THREADS -c$CONNS --latency on /static, $((CYCLES * INTERVAL + 2))s per phase ($((SMALL_CYCLES * INTERVAL + 2))s for the small fleet)"
echo

# ---- the fleet --------------------------------------------------------------

# load_fleet N: N active clusters of varied sizes, cooldowns 0, and one
# fresh metrics row each: every 20th queues (scales up), every 20th + 10
# idles at a size well above its minimum (scales down), the rest hold.
# The sizes leave room for more than a dozen cycles before a bound.
load_fleet() {
    pg -v n="$1" >/dev/null <<'EOF'
SET client_min_messages = warning;
BEGIN;
TRUNCATE clusters CASCADE;
INSERT INTO cluster_blueprints (id, name, min_workers, max_workers, default_workers,
                                scale_up_cooldown, scale_down_cooldown)
VALUES ('bench-fleet', 'Benchmark fleet', 1, 1000, 10, 0, 0)
ON CONFLICT (id) DO NOTHING;
INSERT INTO clusters (id, name, status, blueprint_id, blueprint_version,
                      min_workers, max_workers, current_workers, target_workers, started_at,
                      policy, scale_up_queue, scale_up_cpu, scale_down_queue, scale_down_cpu,
                      scale_up_factor, scale_down_factor, scale_up_cooldown, scale_down_cooldown)
SELECT 'bench-' || lpad(i::text, 7, '0'), 'Bench cluster ' || i, 'active', b.id, b.version,
       b.min_workers, b.max_workers, s.w, s.w, now(),
       b.policy, b.scale_up_queue, b.scale_up_cpu, b.scale_down_queue, b.scale_down_cpu,
       b.scale_up_factor, b.scale_down_factor, b.scale_up_cooldown, b.scale_down_cooldown
  FROM cluster_blueprints b, generate_series(1, :n) i,
       LATERAL (SELECT CASE WHEN i % 20 = 10 THEN 100 + i % 400 ELSE 1 + i % 60 END AS w) s
 WHERE b.id = 'bench-fleet';
INSERT INTO cluster_metrics (cluster_id, "timestamp", queue_length, cpu_usage, current_workers)
SELECT id, now(),
       CASE WHEN k % 20 = 0 THEN 15 WHEN k % 20 = 10 THEN 1 ELSE 5 END,
       CASE WHEN k % 20 = 10 THEN 5 ELSE 50 END,
       current_workers
  FROM (SELECT id, current_workers, substr(id, 7)::int AS k FROM clusters) c;
COMMIT;
ANALYZE clusters;
ANALYZE cluster_metrics;
EOF
}

# what the policy must decide on the first cycle, counted by SQL
expected_changes() {
    pg -Atc "SELECT count(*) FILTER (WHERE m.queue_length > c.scale_up_queue
                                      AND c.current_workers < c.max_workers)
                  + count(*) FILTER (WHERE m.queue_length < c.scale_down_queue
                                      AND m.cpu_usage < c.scale_down_cpu
                                      AND c.current_workers > c.min_workers)
               FROM clusters c JOIN cluster_metrics m ON m.cluster_id = c.id"
}

# ---- nginx ------------------------------------------------------------------

# write_conf SCALER COLLECTOR: nginx.conf on a free port
write_conf() {
    local scaler=$1 collector=$2 collect_interval
    # with the collector off, its interval only sets how old metrics may be
    # (twice the interval); an hour keeps the bench's rows fresh
    if [ "$collector" = on ]; then collect_interval=${INTERVAL}s; else collect_interval=1h; fi
    port=$(free_port) || die "no free loopback port"
    { conf_head "$WORKERS" "logs/error.log info"; cat <<EOF

    autoscale_postgres "$conninfo";
    autoscale_zone autoscale:${ZONE_MB}m;
    autoscale_scaler $scaler;
    autoscale_collector $collector;
    autoscale_check_interval ${INTERVAL}s;
    autoscale_collect_interval $collect_interval;

    server {
        listen 127.0.0.1:$port;

        location /static {
            return 200 "ok";
        }

        # the probe's: which worker serves this connection; one connection
        # serves the whole probe
        location = /probe {
            keepalive_requests 1000000;
            return 200 "\$pid";
        }

        # the collector phase's: a request per cluster has the zone measure
        # it, and a collection writes rows only for measured clusters
        location = /obs {
            autoscale_observe \$arg_c;
            return 204;
        }
    }
}
EOF
    } >"$NGXDIR/nginx.conf"
}

# start_nginx SCALER COLLECTOR: one nginx in $NGXDIR with a fresh error log
start_nginx() {
    start_on_free_ports "$NGXDIR/logs/error.log" write_conf "$1" "$2"
    curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$port/static" \
        || die "nginx does not serve /static"
}

log_count() {
    grep -c -- "$1" "$NGXDIR/logs/error.log" || true
}

# wait_log PATTERN COUNT SECONDS: until nginx has logged PATTERN COUNT times
wait_log() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(log_count "$1")" -ge "$2" ] && return 0
        kill -0 "$(<"$NGXDIR/nginx.pid")" 2>/dev/null || die "nginx exited"
        sleep 0.1
    done
    tail -n 20 "$NGXDIR/logs/error.log" >&2
    die "nginx did not log '$1' $2 times within $3 s"
}

# an alert or a crashed worker is a broken run, whatever the figures
check_nginx_log() {
    check_logs "$NGXDIR/logs/error.log"
    cp "$NGXDIR/logs/error.log" "$TMP/error.$1.log"
}

# ---- wrk --------------------------------------------------------------------

# one line per run: every non-200 of "return 200" here is above 399, and a
# stall of the loop shows in p99
wrk_report_lua "$TMP/report.lua"

# start_wrk NAME CYCLES: long enough for CYCLES cycles after a finished one,
# in the background so that bash's traps still run on ^C
start_wrk() {
    wrk -t"$THREADS" -c"$CONNS" -d"$(($2 * INTERVAL + 2))s" --latency -s "$TMP/report.lua" \
        "http://127.0.0.1:$port/static" >"$TMP/wrk.$1.out" 2>&1 &
    WRK_PID=$!
}

# finish_wrk NAME: wait, check, keep "rps p50 p99 p999 max" (ms) in $TMP/wrk.NAME
finish_wrk() {
    local out=$TMP/wrk.$1.out line
    wrk_result "$out" "in phase $1" rps p50_us p99_us p999_us max_us \
               requests >"$TMP/wrk.$1"
    read -r rps p50 p99 p999 max reqs <"$TMP/wrk.$1"
    printf '  wrk /static: %s req/s, p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms (%s requests)\n' \
        "$rps" "$p50" "$p99" "$p999" "$max" "$reqs"
}

# ---- the leader probe -------------------------------------------------------

cat >"$TMP/probe.py" <<'EOF'
import socket, sys, time

port, leader, seconds, every = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), 0.005


def get(s):
    s.sendall(b"GET /probe HTTP/1.1\r\nHost: probe\r\n\r\n")
    buf = b""
    while True:
        head, sep, body = buf.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            if len(body) >= n:
                return body[:n].decode()
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("nginx closed the probe connection")
        buf += chunk


# connections until one lands on the leader; the others stay open meanwhile
# so that each new one may wake another worker
conn, others = None, []
for _ in range(64):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if get(s) == leader:
        conn = s
        break
    others.append(s)
for s in others:
    s.close()
if conn is None:
    print("PROBE none")
    sys.exit(0)

lat = []
end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic()
    get(conn)
    lat.append((time.monotonic() - t) * 1000)
    time.sleep(max(0.0, every - (time.monotonic() - t)))
lat.sort()
print("PROBE %d %.2f %.2f %.2f" % (len(lat), lat[len(lat) // 2], lat[len(lat) * 99 // 100], lat[-1]))
EOF

# probe_leader NAME CYCLES: "requests p50 p99 max" (ms) in $TMP/probe.NAME
probe_leader() {
    local leader out
    leader=$(sed -n 's/.*autoscale: worker \([0-9]*\) holds the database lock.*/\1/p' \
        "$NGXDIR/logs/error.log" | tail -n1)
    [ -n "$leader" ] || die "no worker took the database lock"
    out=$(python3 "$TMP/probe.py" "$port" "$leader" $(($2 * INTERVAL + 1))) \
        || die "the leader probe failed"
    if [ "$out" = "PROBE none" ]; then
        echo "- - - -" >"$TMP/probe.$1"
        echo "  leader probe: no connection reached worker $leader"
        return 0
    fi
    echo "${out#PROBE }" >"$TMP/probe.$1"
    read -r n p50 p99 max <"$TMP/probe.$1"
    echo "  leader probe (worker $leader, no wrk): p50 $p50 ms, p99 $p99 ms, max $max ms ($n requests)"
}

# ---- the observations -------------------------------------------------------

# observe_fleet N: one request to /obs per cluster of the fleet (ids as
# load_fleet names them), 16 at a time over kept-alive connections; the zone
# knows the ids once the first collection has run, and measures each
# cluster from the next collection on
observe_fleet() {
    local n=$1 t0 t1 ok
    awk -v n="$n" -v port="$port" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "url = \"http://127.0.0.1:%s/obs?c=bench-%07d\"\noutput = \"/dev/null\"\n", port, i
    }' >"$TMP/obs.curl"
    t0=$(date +%s%N)
    curl -sS --parallel --parallel-max 16 -K "$TMP/obs.curl" -w '%{http_code}\n' \
        >"$TMP/obs.codes" 2>"$TMP/obs.err" || { tail -n 5 "$TMP/obs.err" >&2; die "curl failed on /obs"; }
    t1=$(date +%s%N)
    ok=$(grep -c '^204$' "$TMP/obs.codes" || true)
    [ "$ok" -eq "$n" ] || die "/obs answered 204 to $ok of $n requests"
    echo "  observed: $n requests to /obs?c=<id>, one per cluster, all 204, in" \
         "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e9 }') s"
}

# ---- logs -------------------------------------------------------------------

# nginx's check lines as "changed held failed round_trips read_ms all_ms
# held_written"
parse_checks() {
    sed -n 's/.*autoscale: check: [0-9]* decided to change, \([0-9]*\) changed[^,]*, \([0-9]*\) held (\([0-9]*\) said anew), \([0-9]*\) failed, \([0-9]*\) round trips besides changes, read \([0-9]*\) ms, all \([0-9]*\) ms.*/\1 \2 \4 \5 \6 \7 \3/p' "$1"
}

# nginx's collection lines as "rows pruned ms"
parse_collections() {
    sed -n 's/.*autoscale: collection: \([0-9]*\) rows written of [0-9]* sent, [0-9]* agents written, \([0-9]*\) pruned, [0-9]* timeouts, \([0-9]*\) ms.*/\1 \2 \3/p' "$1"
}

# pg_cycles FROM_BYTE: PostgreSQL's server time per job cycle, in order, as
# "statements read_ms changes changes_ms holds_ms total_ms" (check cycles)
# or "statements collect_ms total_ms" (collections). A cycle opens at the
# parse or bind of the check (or collection) statement on its backend and
# takes every later message of that backend until the next one.
pg_cycles() {
    tail -c +"$(($1 + 1))" "$PGLOG" | awk -v gap="$((INTERVAL / 2))" '
    {
        p = index($0, "] LOG:  duration: ")
        if (p == 0) next
        # "2026-11-30 10:57:02.123 UTC [pid]": seconds of the day
        split(substr($0, 12, 12), hms, ":")
        now = hms[1] * 3600 + hms[2] * 60 + hms[3]
        pid = substr($0, 1, p - 1); sub(/.*\[/, "", pid)
        rest = substr($0, p + 18)
        ms = rest; sub(/ ms .*/, "", ms)
        sub(/^[0-9.]+ ms  /, "", rest)
        phase = rest; sub(/ .*/, "", phase)
        if (phase != "parse" && phase != "bind" && phase != "execute") next
        sql = rest; sub(/^[^:]*: /, "", sql)

        if (index(sql, "SELECT c.id, c.status, c.paused") == 1) kind = "check"
        else if (index(sql, "WITH lk AS (SELECT EXISTS") == 1) kind = "collect"
        else if (index(sql, "WITH d AS (SELECT x.id, (x.d #>> ") == 1) kind = "change"
        else if (index(sql, "UPDATE clusters c SET last_decision = d.d") == 1) kind = "holds"
        else kind = "other"

        # a bind right after its own parse is the same statement
        opens = (kind == "check" || kind == "collect") && phase != "execute"
        if (opens && phase == "bind" && lk[pid] == kind && lp[pid] == "parse") opens = 0
        # a collection goes 5 000 rows a statement: its parts follow each
        # other closely, collections are an interval apart
        if (opens && kind == "collect" && type[n] == "collect" \
            && now - began[n] < gap && now >= began[n]) {
            opens = 0; cyc[pid] = n
        }
        if (opens) { n++; cyc[pid] = n; type[n] = kind; began[n] = now }
        lk[pid] = kind; lp[pid] = phase
        c = cyc[pid]
        if (c == 0 || kind == "other") next

        total[c] += ms; t[c, kind] += ms
        if (phase == "execute") { stmts[c]++; if (kind == "change") changes[c]++ }
    }
    END {
        for (c = 1; c <= n; c++) {
            if (type[c] == "check")
                printf "%d %.1f %d %.1f %.1f %.1f\n", stmts[c], t[c, "check"],
                       changes[c], t[c, "change"], t[c, "holds"], total[c]
            else
                printf "%d %.1f %.1f\n", stmts[c], t[c, "collect"], total[c]
        }
    }'
}

# median and max of column COL of FILE as "median max", "- -" when empty
stats() {
    awk -v col="$2" '{ print $col }' "$1" | sort -g | awk '
        { a[NR] = $1 }
        END {
            if (NR == 0) { print "- -"; exit }
            m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            print m, a[NR]
        }'
}

# ---- phases -----------------------------------------------------------------

# run_scaler NAME FLEET MEASURED: nginx with the scaler alone, one
# unmeasured first cycle (statements prepared, caches cold), MEASURED
# cycles with wrk running over them, then the probe's
run_scaler() {
    local name=$1 fleet=$2 measured=$3 pg_from expected all
    echo "== scaler, $fleet clusters"
    load_fleet "$fleet" || die "loading the fleet failed"
    expected=$(expected_changes)
    echo "  fleet loaded: $fleet active clusters, $expected decide to scale on the first cycle, the rest hold"
    pg_from=$(stat -c %s "$PGLOG")
    start_nginx on off
    # the lease (1 s ticks), the lock, then the first check at a random
    # point of the first interval
    wait_log 'autoscale: check: ' 1 $((3 * INTERVAL + 15))
    start_wrk "$name" "$measured"
    finish_wrk "$name"
    wait_log 'autoscale: check: ' $((measured + 1)) $(((measured + 2) * INTERVAL + 15))
    probe_leader "$name" "$PROBE_CYCLES"
    all=$((1 + measured + PROBE_CYCLES))
    wait_log 'autoscale: check: ' "$all" $(((PROBE_CYCLES + 2) * INTERVAL + 15))
    stop_nginx
    check_nginx_log "$name"

    # the figures are the wrk cycles'; the table shows the probe's too
    parse_checks "$TMP/error.$name.log" | head -n "$all" >"$TMP/checks.$name.all"
    pg_cycles "$pg_from" | head -n "$all" >"$TMP/pg.$name.all"
    sed -n "2,$((measured + 1))p" "$TMP/checks.$name.all" >"$TMP/checks.$name"
    sed -n "2,$((measured + 1))p" "$TMP/pg.$name.all" >"$TMP/pg.$name"

    printf '  %-9s %8s %6s %8s %6s %11s %8s %8s | %10s %8s %8s %10s %8s %9s\n' \
        cycle changed held written failed "round trips" "read ms" "all ms" \
        "PG stmts" "read ms" changes "changes ms" "holds ms" "total ms"
    paste -d' ' "$TMP/checks.$name.all" "$TMP/pg.$name.all" | awk -v m="$measured" '{
        label = NR == 1 ? "warm" : NR > m + 1 ? "probe" : "wrk"
        printf "  %-9s %8d %6d %8d %6d %11d %8d %8d | %10s %8s %8s %10s %8s %9s\n",
               NR " " label, $1, $2, $7, $3, $4, $5, $6,
               $8, $9, $10, $11, $12, $13
    }'
    [ "$(wc -l <"$TMP/checks.$name")" -ge "$measured" ] || die "fewer cycles than asked in phase $name"
    echo "  $(sed -n 1p "$TMP/checks.$name.all" | awk -v e="$expected" \
        '{ print "first cycle: " $1 " changed, SQL expected " e }')"
    echo
}

# baseline: the same nginx with both jobs off
echo "== baseline, scaler and collector off"
load_fleet "$CLUSTERS" || die "loading the fleet failed"
start_nginx off off
start_wrk baseline "$CYCLES"
finish_wrk baseline
stop_nginx
check_nginx_log baseline
echo

run_scaler scaler "$CLUSTERS" "$CYCLES"
run_scaler small "$SMALL" "$SMALL_CYCLES"

echo "== collector, $COLLECT clusters, scaler off"
load_fleet "$COLLECT" || die "loading the fleet failed"
pg_from=$(stat -c %s "$PGLOG")
start_nginx off on
# the first collection tells the zone the clusters that exist; it measures
# none of them yet, so it writes no row
wait_log 'autoscale: collection: ' 1 $((3 * INTERVAL + 15))
echo "  first collection: $(parse_collections "$NGXDIR/logs/error.log" | head -n1 | cut -d' ' -f1) rows written (nothing observed yet)"
observe_fleet "$COLLECT"
# the collections logged so far, and the next (it may have begun before the
# last observation), are warm-up; the measured ones follow
warm=$(($(log_count 'autoscale: collection: ') + 1))
wait_log 'autoscale: collection: ' "$warm" $((2 * INTERVAL + 15))
start_wrk collector "$CYCLES"
finish_wrk collector
wait_log 'autoscale: collection: ' $((warm + CYCLES)) $(((CYCLES + 2) * INTERVAL + 15))
probe_leader collector "$PROBE_CYCLES"
all=$((warm + CYCLES + PROBE_CYCLES))
wait_log 'autoscale: collection: ' "$all" $(((PROBE_CYCLES + 2) * INTERVAL + 15))
stop_nginx
check_nginx_log collector
parse_collections "$TMP/error.collector.log" | head -n "$all" >"$TMP/coll.all"
pg_cycles "$pg_from" | awk 'NF == 3' | head -n "$all" >"$TMP/pgcoll.all"
sed -n "$((warm + 1)),$((warm + CYCLES))p" "$TMP/coll.all" >"$TMP/coll"
sed -n "$((warm + 1)),$((warm + CYCLES))p" "$TMP/pgcoll.all" >"$TMP/pgcoll"
printf '  %-9s %8s %7s %6s | %9s %9s\n' cycle rows pruned ms "PG stmts" "PG ms"
paste -d' ' "$TMP/coll.all" "$TMP/pgcoll.all" | awk -v w="$warm" -v m="$CYCLES" '{
    label = NR <= w ? "warm" : NR > w + m ? "probe" : "wrk"
    printf "  %-9s %8d %7d %6d | %9s %9s\n", NR " " label, $1, $2, $3, $4, $6
}'
[ "$(wc -l <"$TMP/coll")" -ge "$CYCLES" ] || die "fewer collections than asked in phase collector"
# fewest rows a measured collection wrote: every cluster, if all went well
col_rows_min=$(cut -d' ' -f1 "$TMP/coll" | sort -n | head -n1)
echo "  measured collections wrote $col_rows_min to $(cut -d' ' -f1 "$TMP/coll" | sort -n | tail -n1) rows each ($COLLECT clusters observed)"
echo

# ---- summary ----------------------------------------------------------------

# med_max FILE COL: "median / max"
med_max() { stats "$1" "$2" | awk '{ printf "%s / %s", $1, $2 }'; }

# a check reads in one round trip and writes held decisions 1000 a statement
rt_off=$(cat "$TMP/checks.scaler" "$TMP/checks.small" \
    | awk '$4 != 1 + int(($7 + 999) / 1000) { n++ } END { print n + 0 }')
pg_check_max=$(stats "$TMP/pg.scaler" 6 | cut -d' ' -f2)
failed=$(cat "$TMP/checks.scaler" "$TMP/checks.small" | awk '{ s += $3 } END { print s + 0 }')
read -r _ _ base_p99 _ base_max _ <"$TMP/wrk.baseline"
read -r _ _ cyc_p99 _ cyc_max _ <"$TMP/wrk.scaler"
read -r _ _ small_p99 _ small_max _ <"$TMP/wrk.small"
read -r _ _ probe_p99 probe_max <"$TMP/probe.scaler"
read -r _ _ sprobe_p99 sprobe_max <"$TMP/probe.small"
read -r _ _ cprobe_p99 cprobe_max <"$TMP/probe.collector"
# changes go 64 a statement: chunks nginx sent that PostgreSQL never ran
lost=$(paste -d' ' <(cat "$TMP/checks.scaler" "$TMP/checks.small") <(cat "$TMP/pg.scaler" "$TMP/pg.small") \
    | awk '{ s += int(($1 + 63) / 64) - $10 } END { print s + 0 }')
read -r _ _ col_p99 _ col_max _ <"$TMP/wrk.collector"

verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }

echo "== summary (median / max over the cycles under wrk)"
printf '  %-40s %18s %18s\n' "scaler" "$CLUSTERS clusters" "$SMALL clusters"
printf '  %-40s %18s %18s\n' "cycles measured" \
    "$(wc -l <"$TMP/checks.scaler")" "$(wc -l <"$TMP/checks.small")"
printf '  %-40s %18s %18s\n' "changed per cycle" \
    "$(med_max "$TMP/checks.scaler" 1)" "$(med_max "$TMP/checks.small" 1)"
printf '  %-40s %18s %18s\n' "held per cycle" \
    "$(med_max "$TMP/checks.scaler" 2)" "$(med_max "$TMP/checks.small" 2)"
printf '  %-40s %18s %18s\n' "held decisions written per cycle" \
    "$(med_max "$TMP/checks.scaler" 7)" "$(med_max "$TMP/checks.small" 7)"
printf '  %-40s %18s %18s\n' "round trips besides changes" \
    "$(med_max "$TMP/checks.scaler" 4)" "$(med_max "$TMP/checks.small" 4)"
printf '  %-40s %18s %18s\n' "read ms (nginx)" \
    "$(med_max "$TMP/checks.scaler" 5)" "$(med_max "$TMP/checks.small" 5)"
printf '  %-40s %18s %18s\n' "whole cycle ms (nginx wall time)" \
    "$(med_max "$TMP/checks.scaler" 6)" "$(med_max "$TMP/checks.small" 6)"
printf '  %-40s %18s %18s\n' "failed per cycle (nginx)" \
    "$(med_max "$TMP/checks.scaler" 3)" "$(med_max "$TMP/checks.small" 3)"
printf '  %-40s %18s %18s\n' "PG statements executed per cycle" \
    "$(med_max "$TMP/pg.scaler" 1)" "$(med_max "$TMP/pg.small" 1)"
printf '  %-40s %18s %18s\n' "PG change statements executed" \
    "$(med_max "$TMP/pg.scaler" 3)" "$(med_max "$TMP/pg.small" 3)"
printf '  %-40s %18s %18s\n' "PG server ms: read statement" \
    "$(med_max "$TMP/pg.scaler" 2)" "$(med_max "$TMP/pg.small" 2)"
printf '  %-40s %18s %18s\n' "PG server ms: change statements" \
    "$(med_max "$TMP/pg.scaler" 4)" "$(med_max "$TMP/pg.small" 4)"
printf '  %-40s %18s %18s\n' "PG server ms: held decisions written" \
    "$(med_max "$TMP/pg.scaler" 5)" "$(med_max "$TMP/pg.small" 5)"
printf '  %-40s %18s %18s\n' "PG server ms: whole cycle" \
    "$(med_max "$TMP/pg.scaler" 6)" "$(med_max "$TMP/pg.small" 6)"
echo
printf '  %-40s %18s\n' "collector ($COLLECT clusters)" ""
printf '  %-40s %18s\n' "cycles measured" "$(wc -l <"$TMP/coll")"
printf '  %-40s %18s\n' "rows written per collection" "$(med_max "$TMP/coll" 1)"
printf '  %-40s %18s\n' "rows pruned per collection" "$(med_max "$TMP/coll" 2)"
printf '  %-40s %18s\n' "collection ms (nginx wall time)" "$(med_max "$TMP/coll" 3)"
printf '  %-40s %18s\n' "PG server ms: collect statements" "$(med_max "$TMP/pgcoll" 2)"
echo
printf '  %-40s %10s %10s\n' "wrk /static, -t$THREADS -c$CONNS" "p99 ms" "max ms"
printf '  %-40s %10s %10s\n' "baseline (jobs off)" "$base_p99" "$base_max"
printf '  %-40s %10s %10s\n' "during scaler cycles ($CLUSTERS)" "$cyc_p99" "$cyc_max"
printf '  %-40s %10s %10s\n' "during scaler cycles ($SMALL)" "$small_p99" "$small_max"
printf '  %-40s %10s %10s\n' "during collections ($COLLECT)" "$col_p99" "$col_max"
printf '  %-40s %10s %10s\n' "leader probe, no wrk, every 5 ms" "p99 ms" "max ms"
printf '  %-40s %10s %10s\n' "during scaler cycles ($CLUSTERS)" "$probe_p99" "$probe_max"
printf '  %-40s %10s %10s\n' "during scaler cycles ($SMALL)" "$sprobe_p99" "$sprobe_max"
printf '  %-40s %10s %10s\n' "during collections ($COLLECT)" "$cprobe_p99" "$cprobe_max"
echo
echo "== targets (information; they do not set the exit code)"
printf '  %-62s %-14s %s\n' "cycles not read in 1 round trip + 1 per 1000 held written" \
    "$rt_off" "$(verdict "$([ "$rt_off" -eq 0 ] && echo 1)")"
printf '  %-62s %-14s %s\n' "PG server time of a $CLUSTERS-cluster check < 3000 ms (max)" \
    "$pg_check_max ms" \
    "$(verdict "$(awk -v a="$pg_check_max" 'BEGIN { if (a < 3000) print 1 }')")"
printf '  %-62s %-14s %s\n' "failed decisions in every cycle: 0" "$failed" \
    "$(verdict "$([ "$failed" -eq 0 ] && echo 1)")"
printf '  %-62s %-14s %s\n' "chunks of changes never executed by PostgreSQL: 0" "$lost" \
    "$(verdict "$([ "$lost" -eq 0 ] && echo 1)")"
printf '  %-62s %-14s %s\n' "static p99 < $TARGET_P99_MS ms during scaler cycles" "$cyc_p99 ms" \
    "$(verdict "$(awk -v a="$cyc_p99" -v t="$TARGET_P99_MS" 'BEGIN { if (a < t) print 1 }')")"
printf '  %-62s %-14s %s\n' "leader loop never held $TARGET_P99_MS ms: probe max, scaler cycles" "$probe_max ms" \
    "$(verdict "$(awk -v a="$probe_max" -v t="$TARGET_P99_MS" 'BEGIN { if (a < t) print 1 }')")"
printf '  %-62s %-14s %s\n' "static p99 < $TARGET_P99_MS ms during scaler cycles, small fleet" "$small_p99 ms" \
    "$(verdict "$(awk -v a="$small_p99" -v t="$TARGET_P99_MS" 'BEGIN { if (a < t) print 1 }')")"
printf '  %-62s %-14s %s\n' "rows written by every measured collection: $COLLECT" "$col_rows_min" \
    "$(verdict "$([ "$col_rows_min" -eq "$COLLECT" ] && echo 1)")"
printf '  %-62s %-14s %s\n' "static p99 < $TARGET_P99_MS ms during collections" "$col_p99 ms" \
    "$(verdict "$(awk -v a="$col_p99" -v t="$TARGET_P99_MS" 'BEGIN { if (a < t) print 1 }')")"
printf '  %-62s %-14s %s\n' "(reference) static p99 with the jobs off" "$base_p99 ms" \
    "$(verdict "$(awk -v a="$base_p99" -v t="$TARGET_P99_MS" 'BEGIN { if (a < t) print 1 }')")"
# closed-loop wrk saturates a small machine by itself; say so rather than
# let the module take the blame
if ! awk -v a="$base_p99" -v t="$TARGET_P99_MS" 'BEGIN { exit !(a < t) }'; then
    echo "  note: p99 misses $TARGET_P99_MS ms with the jobs off too: on $(nproc) cores wrk, nginx and"
    echo "        PostgreSQL contend for the CPU; read the rows above against the baseline"
fi
