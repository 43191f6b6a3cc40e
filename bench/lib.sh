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
free_port() {
    local p i
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}
