# What the benchmarks share: their checks of settings and tools, stopping
# nginx, the exit trap that stops everything they started, free loopback
# ports, the build and PostgreSQL, and the environment they report.
# Sourced from the repository's root ($REPO); TMP, PGDIR, NGXDIR and
# WRK_PID are set as things start.

NGINX=/usr/sbin/nginx
MODULE=$REPO/build/ngx_http_autoscale_module.so
TMP=
PGDIR=
NGXDIR=
WRK_PID=

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/${0##*/}: error: $*"; exit 1; }

pg() { util/pgctl psql "$PGDIR" "$@"; }

# need_durations NAME...: each variable a wrk duration (10, 10s, 2m)
need_durations() {
    local v
    for v in "$@"; do
        [[ ${!v} =~ ^[1-9][0-9]*[smh]?$ ]] \
            || die "BENCH_$v='${!v}': expected e.g. 10 or 10s"
    done
}

# need_counts NAME...: each variable a positive integer
need_counts() {
    local v
    for v in "$@"; do
        [[ ${!v} =~ ^[1-9][0-9]*$ ]] \
            || die "$v='${!v}': expected a positive integer (see the BENCH_ variables in bench/${0##*/})"
    done
}

# wrk_settings DURATION ROUNDS CONNS: the wrk knobs of a benchmark that
# alternates its targets, from BENCH_DURATION, BENCH_ROUNDS, BENCH_WARMUP
# (2s), BENCH_THREADS (2) and BENCH_CONNS, or these defaults; checked
wrk_settings() {
    DURATION=${BENCH_DURATION:-$1}
    ROUNDS=${BENCH_ROUNDS:-$2}
    WARMUP=${BENCH_WARMUP:-2s}
    THREADS=${BENCH_THREADS:-2}
    CONNS=${BENCH_CONNS:-$3}
    need_durations DURATION WARMUP
    need_counts ROUNDS THREADS CONNS
    [ "$CONNS" -ge "$THREADS" ] \
        || die "BENCH_CONNS must be at least BENCH_THREADS (wrk's rule)"
}

# need_tools [TOOL...]: wrk, curl, the TOOLs given, and nginx
need_tools() {
    local t
    for t in wrk curl "$@"; do
        command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install $t)"
    done
    [ -x "$NGINX" ] || die "$NGINX not found"
}

stop_nginx() {
    local pid f=$NGXDIR/nginx.pid i
    [ -n "$NGXDIR" ] && [ -s "$f" ] || return 0
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -TERM "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
    # the master exits after its workers; give it 10 s, then force
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        pkill -KILL -P "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$f"
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM HUP
    if [ -n "$WRK_PID" ]; then
        kill -TERM "$WRK_PID" 2>/dev/null
        wait "$WRK_PID" 2>/dev/null
    fi
    stop_nginx
    if [ -n "$PGDIR" ] && [ -e "$PGDIR/data" ]; then
        util/pgctl stop "$PGDIR" 2>/dev/null
    fi
    [ -n "$TMP" ] && rm -rf -- "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A loopback port nobody accepts on; callers retry if it is taken meanwhile.
# Below the kernel's ephemeral ports: proxying without keepalive leaves them
# in TIME_WAIT by the thousand, where connect() is refused but bind() fails.
free_port() {
    local p i lo
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range || lo=32768
    [ "$lo" -gt 12000 ] || lo=12000
    for ((i = 0; i < 100; i++)); do
        p=$((10000 + RANDOM % (lo - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}

# conf_head WORKERS ERROR_LOG: nginx.conf up to the http block's own
# directives: the module, the processes, no access log, and temp paths
# inside $NGXDIR (Debian's build points them at /var/lib/nginx)
conf_head() {
    cat <<CONF
load_module $NGXDIR/module.so;

daemon on;
master_process on;
worker_processes $1;
pid $NGXDIR/nginx.pid;
error_log $2;

events {
    worker_connections 1024;
}

http {
    access_log off;

CONF
    temp_paths "$NGXDIR"
}

# temp_paths DIR: nginx's temp paths inside DIR/tmp
temp_paths() {
    local t
    for t in client_body:body proxy:proxy fastcgi:fastcgi uwsgi:uwsgi \
             scgi:scgi; do
        printf '    %s_temp_path %s/tmp/%s;\n' "${t%%:*}" "$1" "${t#*:}"
    done
}

# check_logs LOG...: a broken run, whatever the figures, on an alert or a
# crashed worker in a log; each warning printed once, with its count
check_logs() {
    local bad
    bad=$(grep -hE '\[(alert|crit|emerg)\]|exited on signal' "$@" || true)
    [ -z "$bad" ] || { printf '%s\n' "$bad" | tail -n 5 >&2; die "nginx logged errors"; }
    grep -hF '[warn]' "$@" | sed 's/^.*\[warn\] [0-9]*#[0-9]*: //' \
        | sort | uniq -c | sort -rn | head -n 5 \
        | awk '{ n = $1; sub(/^ *[0-9]+ /, ""); printf "  nginx warned %d times: %s\n", n, $0 }' || true
}

# median FILE COL: the median of column COL of FILE
median() {
    awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '
        { a[NR] = $1 }
        END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# request NAME FILE CURL_ARGS...: body to FILE, 0 on a 200; workers may still
# be connecting to PostgreSQL, so retry for a few seconds
request() {
    local name=$1 file=$2 code i
    shift 2
    for ((i = 0; i < 50; i++)); do
        code=$(curl -sS -o "$file" -w '%{http_code}' --max-time 5 "$@" 2>/dev/null) || code=000
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    say "$name: HTTP $code"
    [ -s "$file" ] && head -c 500 "$file" >&2 && echo >&2
    return 1
}

# bench_environment PG_NOTE: the "== environment" lines every benchmark
# starts its report with (the machine, the versions, the module's build and
# the load before the run); the caller adds its own settings after them
bench_environment() {
    echo "== environment"
    echo "cores:       $(nproc) ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)); wrk, nginx and PostgreSQL share them"
    echo "kernel:      $(uname -sr)"
    echo "nginx:       $("$NGINX" -v 2>&1)"
    echo "wrk:         $(wrk -v 2>&1 | head -n1)"
    echo "PostgreSQL:  $(pg -Atc 'SHOW server_version') ($1)"
    echo "module:      ${MODULE#"$REPO"/} built $(date -r "$NGXDIR/module.so" '+%F %T'), sha256 $(sha256sum <"$NGXDIR/module.so" | cut -c1-12)"
    echo "load:        $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run)"
}

# wrk_report_lua FILE: a wrk script whose done() prints the run as one line
# for wrk_result.  errors.status counts responses above 399, every failure
# of these targets; no response() callback, which would cost wrk a Lua
# call per response on cores it shares with nginx.  wrk corrects its
# histogram for coordinated omission before done(): a stall of the loop
# counts once per request a connection would have sent meanwhile.
wrk_report_lua() {
    cat >"$1" <<'EOF'
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d max_us=%d bad=%d sockerr=%d\n",
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
        latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
EOF
}

# wrk_result OUT WHAT FIELD...: waits for the wrk of $WRK_PID, whose Lua
# script wrote "BENCH requests=.. bad=.. sockerr=.. ..." to OUT; dies
# (naming WHAT) if it failed, answered nothing, or saw non-2xx or socket
# errors; else prints the FIELDs on one line: rps as %.1f, a *_us field
# in ms as %.2f, any other as an integer
wrk_result() {
    local out=$1 what=$2 line
    shift 2
    wait "$WRK_PID" || { WRK_PID=; cat "$out" >&2; die "wrk failed $what"; }
    WRK_PID=
    line=$(grep '^BENCH ' "$out") || { cat "$out" >&2; die "no BENCH line from wrk"; }
    printf '%s\n' "$line" | awk -v fields="$*" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["requests"] == 0 || v["bad"] != 0 || v["sockerr"] != 0) {
            printf "wrk: %d requests, %d non-2xx, %d socket errors\n",
                   v["requests"], v["bad"], v["sockerr"] > "/dev/stderr"
            exit 1
        }
        n = split(fields, f, " ")
        for (i = 1; i <= n; i++) {
            if (f[i] == "rps") {
                printf "%.1f", v[f[i]]
            } else if (f[i] ~ /_us$/) {
                printf "%.2f", v[f[i]] / 1000
            } else {
                printf "%d", v[f[i]]
            }
            printf "%s", i < n ? " " : "\n"
        }
    }' || die "wrk saw errors $what"
}

# start_on_free_ports LOG WRITE_CONF [ARGS]: WRITE_CONF picks free ports and
# writes nginx.conf (non-zero: pick again); nginx starts with LOG as its
# error log, and again on other ports if one was taken meanwhile
start_on_free_ports() {
    local log=$1 _
    shift
    for _ in 1 2 3; do
        "$@" || continue
        : >"$log"
        if "$NGINX" -p "$NGXDIR/" -c "$NGXDIR/nginx.conf" -e "$log" \
            2>"$NGXDIR/start.err"; then
            return 0
        fi
        grep -q 'Address already in use' "$NGXDIR/start.err" || break
    done
    tail -n 20 "$NGXDIR/start.err" >&2
    die "nginx did not start (error above)"
}

# bench_setup NAME: builds the module, makes $TMP (/tmp/bench-NAME.*) with
# nginx's directory and a private copy of the module in it ("make"
# elsewhere rewrites build/*.so in place, which crashes workers that have
# the old file mapped), and starts PostgreSQL in $PGDIR; sets TMP, PGDIR,
# NGXDIR and conninfo
bench_setup() {
    local _

    make -s || die "make failed"
    [ -f "$MODULE" ] || die "$MODULE not built"

    TMP=$(mktemp -d "/tmp/bench-$1.XXXXXX")
    chmod 0755 "$TMP"        # as root, the postgres user must reach $TMP/pg
    PGDIR=$TMP/pg
    NGXDIR=$TMP/nginx
    mkdir -p "$NGXDIR/logs" "$NGXDIR/tmp"
    cp -p "$MODULE" "$NGXDIR/module.so"

    conninfo=
    for _ in 1 2 3 4 5; do
        pgport=$(free_port) || die "no free loopback port"
        if conninfo=$(util/pgctl start "$PGDIR" "$pgport" 2>>"$TMP/pgctl.log" | tail -n1) \
            && [ -n "$conninfo" ]; then
            return 0
        fi
        conninfo=
        sleep 1
    done
    cat "$TMP/pgctl.log" >&2
    die "PostgreSQL did not start"
}
