# What the benchmarks share: stopping nginx, the exit trap that stops
# everything they started, and free loopback ports.  Sourced; the caller
# sets TMP, PGDIR, NGXDIR and WRK_PID as it starts things.

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

    client_body_temp_path $NGXDIR/tmp/body;
    proxy_temp_path $NGXDIR/tmp/proxy;
    fastcgi_temp_path $NGXDIR/tmp/fastcgi;
    uwsgi_temp_path $NGXDIR/tmp/uwsgi;
    scgi_temp_path $NGXDIR/tmp/scgi;
CONF
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
