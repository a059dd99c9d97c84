# Shared by the end-to-end tests and scripts (sourced, not a test itself): real servers on
# 127.0.0.1 -- nginx and mosquitto on random free ports, an emulated modem on a pty -- each in a
# private scratch folder, all stopped on exit. POSIX sh.
#
#   . "$CELLOTA_SOURCE/tests/integration/lib.sh"
#   lib_start_nginx "$root"          -> $nginx_port       (serves $root, Range and all)
#   lib_start_mosquitto              -> $mosquitto_port
#   lib_start_modem sim7600 [OPTS]   -> $modem_pty, $modem_pid (cellota-modem's options)
#   lib_stop_modem
# Every started process is killed by lib_cleanup (the EXIT trap); a test that sets its own EXIT
# trap calls lib_cleanup from it.
set -eu
: "${CELLOTA_BIN:?CELLOTA_BIN must name the folder holding the binaries}"
lib_scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellota-e2e.XXXXXX")
lib_pids=""
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)

lib_cleanup() {
    for pid in $lib_pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $lib_pids; do
        # wait only for our own children; nginx daemonises, so it is not one
        wait "$pid" 2>/dev/null || true
    done
    if [ -f "$lib_scratch/nginx/nginx.pid" ]; then
        kill "$(cat "$lib_scratch/nginx/nginx.pid")" 2>/dev/null || true
    fi
    if [ -z "${KEEP_SCRATCH:-}" ]; then rm -rf "$lib_scratch"; else echo "kept $lib_scratch" >&2; fi
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM

# A port on 127.0.0.1 that nothing listens on now; the caller retries when its server cannot
# bind it after all.
lib_random_port() {
    while :; do
        port=$(shuf -i 20000-60999 -n 1)
        if ! ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
            echo "$port"
            return 0
        fi
    done
}

# lib_wait_port PORT: true once 127.0.0.1:PORT accepts connections (5 s at most).
lib_wait_port() {
    tries=0
    while [ $tries -lt 50 ]; do
        if ss -Htln "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
        tries=$((tries + 1))
        sleep 0.1
    done
    return 1
}

# lib_start_nginx ROOT: nginx serving ROOT (HTTP/1.1, keep-alive, Range, as Debian builds it),
# logging each request with its Range header and the bytes sent. Sets nginx_port.
lib_start_nginx() {
    root=$(cd "$1" && pwd)
    mkdir -p "$lib_scratch/nginx"
    # nginx's workers may run as another user: the files they serve must be readable.
    chmod 755 "$lib_scratch" "$root"
    attempt=0
    while [ $attempt -lt 10 ]; do
        attempt=$((attempt + 1))
        nginx_port=$(lib_random_port)
        cat >"$lib_scratch/nginx/nginx.conf" <<CONF
daemon on;
pid $lib_scratch/nginx/nginx.pid;
error_log $lib_scratch/nginx/error.log;
worker_processes 1;
events { worker_connections 64; }
http {
    log_format ranges '\$request_uri range="\$http_range" status=\$status bytes=\$body_bytes_sent';
    access_log $lib_scratch/nginx/access.log ranges;
    client_body_temp_path $lib_scratch/nginx/body;
    proxy_temp_path $lib_scratch/nginx/proxy;
    fastcgi_temp_path $lib_scratch/nginx/fastcgi;
    uwsgi_temp_path $lib_scratch/nginx/uwsgi;
    scgi_temp_path $lib_scratch/nginx/scgi;
    types { application/json json; application/octet-stream ebin; text/plain version; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$nginx_port;
        root $root;
    }
}
CONF
        if "$nginx_bin" -e "$lib_scratch/nginx/error.log" -p "$lib_scratch/nginx" \
            -c "$lib_scratch/nginx/nginx.conf" 2>/dev/null && lib_wait_port "$nginx_port"; then
            nginx_log=$lib_scratch/nginx/access.log
            return 0
        fi
    done
    echo "lib: nginx did not start; its log:" >&2
    cat "$lib_scratch/nginx/error.log" >&2 || true
    return 1
}

# lib_start_mosquitto: an anonymous broker on 127.0.0.1 without persistence. Sets mosquitto_port.
lib_start_mosquitto() {
    mkdir -p "$lib_scratch/mosquitto"
    attempt=0
    while [ $attempt -lt 10 ]; do
        attempt=$((attempt + 1))
        mosquitto_port=$(lib_random_port)
        cat >"$lib_scratch/mosquitto/mosquitto.conf" <<CONF
listener $mosquitto_port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $lib_scratch/mosquitto/mosquitto.log
CONF
        "$mosquitto_bin" -c "$lib_scratch/mosquitto/mosquitto.conf" \
            >>"$lib_scratch/mosquitto/out.log" 2>&1 &
        pid=$!
        if lib_wait_port "$mosquitto_port" && sleep 0.2 && kill -0 "$pid" 2>/dev/null; then
            lib_pids="$lib_pids $pid"
            mosquitto_pid=$pid
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "lib: mosquitto did not start; its log:" >&2
    cat "$lib_scratch/mosquitto/out.log" "$lib_scratch/mosquitto/mosquitto.log" >&2 || true
    return 1
}

# lib_start_modem MODEL [cellota-modem options]: the emulator on a pty. Sets modem_pty and
# modem_pid; its output goes to $lib_scratch/modem.out.
lib_start_modem() {
    model=$1
    shift
    : >"$lib_scratch/modem.out"
    "$CELLOTA_BIN/cellota-modem" --model "$model" "$@" >"$lib_scratch/modem.out" 2>&1 &
    modem_pid=$!
    lib_pids="$lib_pids $modem_pid"
    tries=0
    modem_pty=""
    while [ $tries -lt 50 ]; do
        modem_pty=$(head -n 1 "$lib_scratch/modem.out" 2>/dev/null || true)
        case $modem_pty in /dev/*) return 0 ;; esac
        if ! kill -0 "$modem_pid" 2>/dev/null; then break; fi
        tries=$((tries + 1))
        sleep 0.1
    done
    echo "lib: cellota-modem did not start:" >&2
    cat "$lib_scratch/modem.out" >&2
    return 1
}

lib_stop_modem() {
    if [ -n "${modem_pid:-}" ]; then
        kill "$modem_pid" 2>/dev/null || true
        wait "$modem_pid" 2>/dev/null || true
        modem_pid=""
    fi
}

# lib_background NAME COMMAND...: starts COMMAND with its output in $lib_scratch/NAME.log;
# sets background_pid. Killed at exit.
lib_background() {
    name=$1
    shift
    "$@" >"$lib_scratch/$name.log" 2>&1 &
    background_pid=$!
    lib_pids="$lib_pids $background_pid"
}

# lib_wait_for FILE TEXT SECONDS: true once FILE contains TEXT.
lib_wait_for() {
    tries=0
    limit=$(($3 * 10))
    while [ $tries -lt "$limit" ]; do
        if grep -qF -- "$2" "$1" 2>/dev/null; then return 0; fi
        tries=$((tries + 1))
        sleep 0.1
    done
    return 1
}
