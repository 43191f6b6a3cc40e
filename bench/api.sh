#!/usr/bin/env bash
# bench/api.sh: GET /api/clusters/{id} served by the module (PostgreSQL
# behind it) against the same bytes from nginx's own "return 200", measured
# with wrk on loopback in one run.
#
#   bench/api.sh                      run from the repo root, as root or not
#   BENCH_DURATION=30s bench/api.sh   length of each measured wrk run (10s)
#   BENCH_ROUNDS=1 bench/api.sh       static/module alternations; best kept (2)
#   BENCH_WARMUP=2s bench/api.sh      unmeasured wrk run per target first (2s)
#   BENCH_THREADS=2 BENCH_CONNS=32 ...    wrk's threads and connections
#
# The targets are printed with PASS/MISS as information only. The exit code
# is non-zero only when something broke: a tool missing, the build, PostgreSQL
# or nginx failing, a wrong body, non-2xx responses or socket errors.

set -euo pipefail

REPO=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)
cd "$REPO"
. "$REPO/bench/lib.sh"

wrk_settings 10s 2 32
CLUSTER=cluster-test-001
URI=/api/clusters/$CLUSTER
TARGET_RATIO=0.2
TARGET_P99_MS=5

need_tools

# ---- build, PostgreSQL ------------------------------------------------------

bench_setup api
pg -f sql/demo.sql >/dev/null 2>>"$TMP/pgctl.log" \
    || { cat "$TMP/pgctl.log" >&2; die "loading sql/demo.sql failed"; }

# ---- environment ------------------------------------------------------------

bench_environment "private, fsync off"
echo "wrk runs:    -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS round(s)" \
     "static then module, best req/s kept; warm-up $WARMUP each"
echo

# ---- nginx ------------------------------------------------------------------

# nginx's single-quoted strings: \ and ' need a backslash; "$" has no escape
# in a "return" text (it starts a variable), so it comes from $bench_dollar.
nginx_quote() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\'/\\\'}
    s=${s//\$/\$\{bench_dollar\}}
    printf "'%s'" "$s"
}

# write_conf STATIC_BODY: on two free ports; the static server returns
# STATIC_BODY verbatim
write_conf() {
    local body
    static_port=$(free_port) || die "no free loopback port"
    module_port=$(free_port) || die "no free loopback port"
    [ "$static_port" != "$module_port" ] || return 1
    body=$(nginx_quote "$1")
    { conf_head "$(nproc)" "$NGXDIR/error.log warn"; cat <<EOF

    autoscale_postgres "$conninfo";

    geo \$bench_dollar {
        default "\$";
    }

    server {
        listen 127.0.0.1:$static_port;

        location = $URI {
            default_type application/json;
            return 200 $body;
        }
    }

    server {
        listen 127.0.0.1:$module_port;

        location /api/ {
            autoscale_api;
        }
    }
}
EOF
    } >"$NGXDIR/nginx.conf"
}

# start_nginx STATIC_BODY
start_nginx() {
    start_on_free_ports "$NGXDIR/error.log" write_conf "$1"
}

# fetch URL FILE: body to FILE, 0 on a 200 (see request)
fetch() { request "GET $1" "$2" "$1"; }

# The real body first, from nginx with a placeholder static body.
start_nginx '{}'
fetch "http://127.0.0.1:$module_port$URI" "$TMP/module.json" \
    || { tail -n 20 "$NGXDIR/error.log" >&2; die "the module did not serve $URI"; }
grep -q "\"$CLUSTER\"" "$TMP/module.json" || die "the module's body does not name $CLUSTER"
stop_nginx

# Read it whole, trailing newlines included (plain $(...) would strip them).
body=$(cat "$TMP/module.json"; printf x)
body=${body%x}
start_nginx "$body"
fetch "http://127.0.0.1:$static_port$URI" "$TMP/static.json" || die "the static location failed"
fetch "http://127.0.0.1:$module_port$URI" "$TMP/module2.json" || die "the module failed"
cmp "$TMP/module.json" "$TMP/static.json" >&2 \
    || die "the static body differs from the module's (escaping in nginx.conf?)"
echo "body:        $(wc -c <"$TMP/module.json") bytes, identical from both servers"
echo

# ---- wrk --------------------------------------------------------------------

# One line per run. response() counts what is not 2xx exactly (wrk's own
# counter skips 3xx); per-thread globals are summed in done().
cat >"$TMP/report.lua" <<'EOF'
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    non2xx = 0
end

function response(status, headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
    end
end

function done(summary, latency, requests)
    local bad = 0
    for _, t in ipairs(threads) do
        bad = bad + t:get("non2xx")
    end
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d sockerr=%d\n",
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), bad,
        e.connect + e.read + e.write + e.timeout))
end
EOF

declare -A best_rps best_p50 best_p99
failed=0

# run_wrk NAME URL DURATION MEASURED
run_wrk() {
    local name=$1 url=$2 dur=$3 measured=$4 out=$TMP/wrk.$1.out line kv
    local requests='' rps='' p50='' p99='' non2xx='' sockerr=''
    # In the background: wrk catches SIGINT and exits 0, so bash would not
    # run its INT trap for a foreground wrk; "wait" is interrupted at once.
    wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency -s "$TMP/report.lua" "$url" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || { WRK_PID=; cat "$out" >&2; die "wrk failed against $url"; }
    WRK_PID=
    line=$(grep '^BENCH ' "$out") || { cat "$out" >&2; die "no BENCH line from wrk"; }
    for kv in ${line#BENCH }; do
        case ${kv%%=*} in
            requests) requests=${kv#*=} ;;
            rps)      rps=${kv#*=} ;;
            p50_us)   p50=${kv#*=} ;;
            p99_us)   p99=${kv#*=} ;;
            non2xx)   non2xx=${kv#*=} ;;
            sockerr)  sockerr=${kv#*=} ;;
        esac
    done
    if [ "$non2xx" -ne 0 ] || [ "$sockerr" -ne 0 ] || [ "$requests" -eq 0 ]; then
        say "$name: $requests requests, $non2xx non-2xx, $sockerr socket errors"
        failed=1
    fi
    [ "$measured" = yes ] || return 0
    printf '  %-7s %10.1f req/s   p50 %6.2f ms   p99 %6.2f ms   (%d requests)\n' \
        "$name" "$rps" "$(awk -v u="$p50" 'BEGIN { print u / 1000 }')" \
        "$(awk -v u="$p99" 'BEGIN { print u / 1000 }')" "$requests"
    if [ -z "${best_rps[$name]:-}" ] \
        || awk -v a="$rps" -v b="${best_rps[$name]}" 'BEGIN { exit !(a > b) }'; then
        best_rps[$name]=$rps
        best_p50[$name]=$p50
        best_p99[$name]=$p99
    fi
}

static_url=http://127.0.0.1:$static_port$URI
module_url=http://127.0.0.1:$module_port$URI

echo "== warm-up ($WARMUP each, not counted)"
run_wrk static "$static_url" "$WARMUP" no
run_wrk module "$module_url" "$WARMUP" no
echo

for ((r = 1; r <= ROUNDS; r++)); do
    echo "== round $r/$ROUNDS"
    run_wrk static "$static_url" "$DURATION" yes
    run_wrk module "$module_url" "$DURATION" yes
done
echo

[ "$failed" -eq 0 ] || die "non-2xx responses or socket errors (see above)"
! grep -qE '\[(alert|emerg|crit)\]' "$NGXDIR/error.log" \
    || { grep -E '\[(alert|emerg|crit)\]' "$NGXDIR/error.log" | tail -n 5 >&2; die "nginx logged errors"; }

# ---- report -----------------------------------------------------------------

awk -v srps="${best_rps[static]}" -v sp50="${best_p50[static]}" -v sp99="${best_p99[static]}" \
    -v mrps="${best_rps[module]}" -v mp50="${best_p50[module]}" -v mp99="${best_p99[module]}" \
    -v tratio="$TARGET_RATIO" -v tp99="$TARGET_P99_MS" -v conns="$CONNS" -v dur="$DURATION" \
    -v rounds="$ROUNDS" '
function verdict(ok) { return ok ? "PASS" : "MISS" }
BEGIN {
    ratio = mrps / srps
    printf "== result (best of %d run(s) of %s each, %d connections, 0 non-2xx)\n", rounds, dur, conns
    printf "  %-28s %12s %10s %10s\n", "", "req/s", "p50 ms", "p99 ms"
    printf "  %-28s %12.1f %10.2f %10.2f\n", "static  (nginx return 200)", srps, sp50 / 1000, sp99 / 1000
    printf "  %-28s %12.1f %10.2f %10.2f\n", "module  (autoscale_api)", mrps, mp50 / 1000, mp99 / 1000
    printf "  %-28s %12.3f\n", "ratio   module/static", ratio
    print ""
    print "== targets (information; they do not set the exit code)"
    printf "  req/s ratio module/static >= %s at %d connections: %.3f  %s\n", tratio, conns, ratio, verdict(ratio >= tratio)
    printf "  module p99 < %s ms:                             %.2f ms  %s\n", tp99, mp99 / 1000, verdict(mp99 / 1000 < tp99)
}'
