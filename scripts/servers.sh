# Real servers on loopback for the demo and the integration tests (sourced, not run): nginx and
# mosquitto on random free ports of 127.0.0.1, every file in a private folder, stopped by
# stop_servers (call it from the caller's EXIT trap). POSIX sh.
#
#   . "$CELLOTA_SOURCE/scripts/servers.sh"
#   start_nginx "$folder_to_serve" "$state_folder"     # sets nginx_port
#   start_mosquitto "$state_folder"                     # sets mosquitto_port
#   ...
#   stop_servers

nginx_pid=""
mosquitto_pid=""

# A port number to try; the server's own bind decides whether it was free.
random_port() {
    # mawk's srand wants a number it can hold: the concatenated digits overflow to one seed
    # (and so one port for every caller); keep the seed small.
    awk -v pid="$$" -v nanoseconds="$(date +%N)" -v attempt="$1" \
        'BEGIN { srand((pid * 7919 + nanoseconds % 1000000 + attempt * 104729) % 2147483647);
                 print 20000 + int(rand() * 40000) }'
}

# start_nginx ROOT STATE_DIR [EXTRA_SERVER_CONFIG]: nginx serving ROOT; sets nginx_port.
# NGINX_WORKER_CONNECTIONS (default 256) raises its connection limit for a fleet.
start_nginx() {
    root=$1
    state=$2/nginx
    mkdir -p "$state"
    # nginx's workers may run as another user: what they serve must be readable.
    chmod o+rx "$root" "$2" "$state" 2>/dev/null || true
    nginx_binary=$(command -v nginx || echo /usr/sbin/nginx)
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        nginx_port=$(random_port "$attempt")
        cat >"$state/nginx.conf" <<CONF
daemon on;
pid $state/nginx.pid;
error_log $state/error.log;
worker_processes 1;
events { worker_connections ${NGINX_WORKER_CONNECTIONS:-256}; }
http {
    access_log $state/access.log;
    client_body_temp_path $state/body;
    proxy_temp_path $state/proxy;
    fastcgi_temp_path $state/fastcgi;
    uwsgi_temp_path $state/uwsgi;
    scgi_temp_path $state/scgi;
    types { application/json json; application/octet-stream ebin bin; }
    server {
        listen 127.0.0.1:$nginx_port;
        root $root;
        ${3:-}
    }
}
CONF
        if "$nginx_binary" -e "$state/error.log" -p "$state" -c "$state/nginx.conf" 2>/dev/null; then
            nginx_pid=$(cat "$state/nginx.pid")
            return 0
        fi
    done
    echo "servers: nginx did not start; its log:" >&2
    cat "$state/error.log" >&2
    return 1
}

# start_mosquitto STATE_DIR: an anonymous broker on loopback; sets mosquitto_port.
start_mosquitto() {
    state=$1/mosquitto
    mkdir -p "$state"
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        mosquitto_port=$(random_port "m$attempt")
        cat >"$state/mosquitto.conf" <<CONF
listener $mosquitto_port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $state/mosquitto.log
log_type all
CONF
        /usr/sbin/mosquitto -c "$state/mosquitto.conf" >/dev/null 2>&1 &
        mosquitto_pid=$!
        tries=0
        while [ $tries -lt 50 ]; do
            if grep -q "Opening ipv4 listen socket on port $mosquitto_port" "$state/mosquitto.log" 2>/dev/null; then
                return 0
            fi
            if ! kill -0 "$mosquitto_pid" 2>/dev/null; then break; fi
            sleep 0.1
            tries=$((tries + 1))
        done
        kill "$mosquitto_pid" 2>/dev/null || true
        mosquitto_pid=""
    done
    echo "servers: mosquitto did not start; its log:" >&2
    cat "$state/mosquitto.log" >&2 2>/dev/null || true
    return 1
}

stop_servers() {
    if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
    if [ -n "$mosquitto_pid" ]; then kill "$mosquitto_pid" 2>/dev/null || true; fi
    nginx_pid=""
    mosquitto_pid=""
}
