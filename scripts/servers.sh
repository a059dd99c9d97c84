# Real servers on loopback for the demo and the integration tests (sourced, not run): nginx and
# mosquitto on random free ports of 127.0.0.1, every file in a private folder, stopped by
# stop_servers (call it from the caller's EXIT trap). POSIX sh.
#
#   . "$CELLOTA_SOURCE/scripts/servers.sh"
#   start_nginx "$folder_to_serve" "$state_folder"     # sets nginx_port
#   start_mosquitto "$state_folder"                     # sets mosquitto_port
#   start_postgres "$state_folder"                      # sets postgres_port, postgres_url
#   ...
#   stop_servers

nginx_pid=""
mosquitto_pid=""
postgres_pid=""

# A port number to try; the server's own bind decides whether it was free.
random_port() {
    # mawk's srand wants a number it can hold: the concatenated digits overflow to one seed
    # (and so one port for every caller); keep the seed small.
    awk -v pid="$$" -v nanoseconds="$(date +%N)" -v attempt="$1" \
        'BEGIN { srand((pid * 7919 + nanoseconds % 1000000 + attempt * 104729) % 2147483647);
                 print 20000 + int(rand() * 40000) }'
}

# start_nginx ROOT STATE_DIR [EXTRA_SERVER_CONFIG]: nginx serving ROOT; sets nginx_port.
# nginx_workers and nginx_connections (environment) size it for a benchmark: 1 and 256 otherwise.
# nginx_http_extra (environment) goes into the http block (an upstream for a load balancer);
# nginx_wanted_port (environment) is the one port to listen on (else a free one is found).
start_nginx() {
    root=$1
    state=$2/nginx
    mkdir -p "$state"
    # nginx's workers may run as another user: what they serve must be readable.
    chmod o+rx "$root" "$2" "$state" 2>/dev/null || true
    nginx_binary=$(command -v nginx || echo /usr/sbin/nginx)
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        nginx_port=${nginx_wanted_port:-$(random_port "$attempt")}
        cat >"$state/nginx.conf" <<CONF
daemon on;
pid $state/nginx.pid;
error_log $state/error.log;
worker_processes ${nginx_workers:-1};
events { worker_connections ${nginx_connections:-256}; }
http {
    access_log $state/access.log;
    client_body_temp_path $state/body;
    proxy_temp_path $state/proxy;
    fastcgi_temp_path $state/fastcgi;
    uwsgi_temp_path $state/uwsgi;
    scgi_temp_path $state/scgi;
    types { application/json json; application/octet-stream ebin bin; }
    ${nginx_http_extra:-}
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

# mosquitto_listening LOG: true once the broker started as $mosquitto_pid on $mosquitto_port says
# in LOG that it listens (and has logged no error: a TLS listener may fail after that line);
# false, with the broker stopped, when it died or did not get there within 5 s.
mosquitto_listening() {
    tries=0
    while [ $tries -lt 50 ]; do
        if grep -q "Opening ipv4 listen socket on port $mosquitto_port" "$1" 2>/dev/null &&
            ! grep -q "Error" "$1"; then
            sleep 0.2
            if kill -0 "$mosquitto_pid" 2>/dev/null; then return 0; fi
        fi
        if ! kill -0 "$mosquitto_pid" 2>/dev/null; then break; fi
        sleep 0.1
        tries=$((tries + 1))
    done
    kill "$mosquitto_pid" 2>/dev/null || true
    mosquitto_pid=""
    return 1
}

# start_mosquitto STATE_DIR: an anonymous broker on loopback; sets mosquitto_port.
# mosquitto_extra (environment) is appended to its configuration (a fleet raises its queues).
start_mosquitto() {
    state=$1/mosquitto
    mkdir -p "$state"
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        mosquitto_port=$(random_port "m$attempt")
        mosquitto_log=$state/mosquitto.log
        cat >"$state/mosquitto.conf" <<CONF
listener $mosquitto_port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $state/mosquitto.log
log_type all
${mosquitto_extra:-}
CONF
        if launch_mosquitto "$state"; then return 0; fi
    done
    echo "servers: mosquitto did not start; its log:" >&2
    cat "$state/mosquitto.log" >&2 2>/dev/null || true
    return 1
}

# restart_mosquitto: stops the broker start_mosquitto began (its sessions and retained messages
# go with it: persistence is off) and starts it again on the same port.
restart_mosquitto() {
    kill "$mosquitto_pid" 2>/dev/null || true
    wait "$mosquitto_pid" 2>/dev/null || true
    state=$(dirname "$mosquitto_log")
    : >"$state/mosquitto.log"
    if launch_mosquitto "$state"; then return 0; fi
    echo "servers: mosquitto did not start again" >&2
    return 1
}

# launch_mosquitto STATE: runs the broker on STATE/mosquitto.conf; true once it listens
# (mosquitto_listening; false with the broker stopped).
launch_mosquitto() {
    /usr/sbin/mosquitto -c "$1/mosquitto.conf" >/dev/null 2>&1 &
    mosquitto_pid=$!
    mosquitto_listening "$1/mosquitto.log"
}

# start_postgres STATE_DIR: a fresh PostgreSQL cluster on loopback (trust authentication, no
# fsync: test data), run as the "postgres" user when we are root (PostgreSQL refuses root).
# Sets postgres_port and postgres_url (a libpq URI for its "postgres" database). Stopped by
# stop_servers; stop_postgres stops it alone (a test of a database restart starts it again
# with start_postgres_again).
start_postgres() {
    state=$1/postgres
    postgres_bin=""
    for major in 20 19 18 17 16 15 14 13 12; do
        if [ -x "/usr/lib/postgresql/$major/bin/initdb" ]; then
            postgres_bin=/usr/lib/postgresql/$major/bin
            break
        fi
    done
    if [ -z "$postgres_bin" ]; then
        echo "servers: PostgreSQL is not installed (scripts/install-deps.sh)" >&2
        return 1
    fi
    as_postgres=""
    mkdir -p "$state"
    if [ "$(id -u)" = 0 ]; then
        as_postgres="setpriv --reuid=postgres --regid=postgres --init-groups --"
        chmod o+x "$1"
        chown postgres:postgres "$state"
    fi
    if ! $as_postgres "$postgres_bin/initdb" -D "$state/data" -U postgres --auth=trust \
        --no-sync -E UTF8 --locale=C >"$state/initdb.log" 2>&1; then
        echo "servers: initdb failed:" >&2
        cat "$state/initdb.log" >&2
        return 1
    fi
    postgres_state=$state
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        postgres_port=$(random_port "p$attempt")
        if start_postgres_again; then return 0; fi
    done
    echo "servers: PostgreSQL did not start; its log:" >&2
    cat "$state/postgres.log" >&2 2>/dev/null || true
    return 1
}

# start_postgres_again: (re)starts the cluster start_postgres made, on the same port.
start_postgres_again() {
    : >"$postgres_state/postgres.log"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$postgres_state/postgres.log"
    $as_postgres "$postgres_bin/postgres" -D "$postgres_state/data" -p "$postgres_port" \
        -h 127.0.0.1 -k "$postgres_state" -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off >>"$postgres_state/postgres.log" 2>&1 &
    postgres_pid=$!
    tries=0
    while [ $tries -lt 100 ]; do
        if grep -q "ready to accept connections" "$postgres_state/postgres.log" 2>/dev/null; then
            postgres_url="postgresql://postgres@127.0.0.1:$postgres_port/postgres"
            return 0
        fi
        if ! kill -0 "$postgres_pid" 2>/dev/null; then break; fi
        sleep 0.1
        tries=$((tries + 1))
    done
    kill -INT "$postgres_pid" 2>/dev/null || true
    postgres_pid=""
    return 1
}

# stop_postgres: its fast shutdown (SIGINT; SIGTERM would wait for every client to leave).
stop_postgres() {
    if [ -n "$postgres_pid" ]; then
        kill -INT "$postgres_pid" 2>/dev/null || true
        tries=0
        while kill -0 "$postgres_pid" 2>/dev/null && [ $tries -lt 100 ]; do
            sleep 0.1
            tries=$((tries + 1))
        done
    fi
    postgres_pid=""
}

stop_servers() {
    if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
    if [ -n "$mosquitto_pid" ]; then kill "$mosquitto_pid" 2>/dev/null || true; fi
    stop_postgres
    nginx_pid=""
    mosquitto_pid=""
}
