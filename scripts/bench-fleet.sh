#!/bin/sh
# make bench-fleet: one campaign of a 512 KiB image to 50,000 simulated devices, end to end, on
# this machine -- the real broker (mosquitto), the real server when it is built
# (cellota-server: the release uploaded, a campaign to every device, requests published by the
# server, status counted by it), and cellota-fleet running every device. Without cellota-server
# in the bin folder, nginx serves the image and cellota-fleet publishes the request itself
# (--request), so the devices' side can be measured on its own.
#
# Ends with one line for scripts:
#   fleet: devices=N confirmed=N wall_s=S server_rss_mb=M nginx_ratio=R
# server_rss_mb is the server's peak resident memory (n/a without the server); nginx_ratio comes
# from bench/images.sh (the server's image download path beside nginx) when it exists.
#
# One process holds at most `ulimit -Hn` descriptors (20,000 in some containers, where even
# root may not raise it): the devices are then shared among several cellota-fleet processes
# (--first-index; each device needs two descriptors while it downloads), and among several
# mosquitto brokers bridged to a core broker the server talks to (requests in, status and
# online out), as a clustered broker would serve them. With the server, the processes' device
# numbers interleave (--index-step): the campaign goes through the devices in id order, and
# every fleet process has its share of the devices in flight at any moment.
#
# Why a window: every device in flight holds a connection to the server (libmicrohttpd takes at
# most 10,000 and the process 20,000 descriptors here) and memory in it; the work is done by the
# same two cores however many are in flight, so a few thousand keep them busy.
#
# Environment: FLEET_DEVICES (50000), FLEET_IMAGE_SIZE (524288), FLEET_FAULTS (0),
# FLEET_SHARD (devices per fleet process; default from the descriptor limit),
# FLEET_BROKER (devices per broker; default from the descriptor limit),
# FLEET_NO_SERVER=1 (nginx and the fleet's publisher even when the server is built),
# FLEET_TIMEOUT (3600 s), FLEET_PROFILE=1 records the fleet with perf (perf.data kept),
# FLEET_WINDOW (800): with the server, devices in flight at once (notified or downloading,
# as the server counts them: each holds or is about to hold a connection to it) -- the script
# pauses the campaign above it and resumes it below three quarters of
# it, as an operator's rollout window; 0: no window. FLEET_RATE (6000): the campaign's
# rate_per_minute (requests published a minute at most): above what this machine confirms in a
# minute (about 3,600 at best), so the window decides -- and it bounds what a minute in which the
# server's API does not answer (busy, on a loaded machine) can add beyond the window.
# FLEET_NO_IMAGES=1 skips the nginx comparison (bench/images.sh) after the fleet,
# KEEP_SCRATCH=1 keeps the scratch folder (logs, summary).
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
source_dir=${CELLOTA_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
devices=${FLEET_DEVICES:-50000}
image_size=${FLEET_IMAGE_SIZE:-524288}
faults=${FLEET_FAULTS:-0}
timeout_s=${FLEET_TIMEOUT:-3600}
window=${FLEET_WINDOW:-800}
rate=${FLEET_RATE:-6000}
echo "bench-fleet: load at the start:$(uptime | sed 's/.*load average//')"

# Every device holds an MQTT connection and, while it downloads, an HTTP one; the broker and the
# server hold the other ends. Raised here for everything this script starts, as far as allowed.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellota-fleet-bench.XXXXXX")
chmod 755 "$scratch"
pids=""
broker_pids=""
server_perf=""
cleanup() {
    [ -z "$server_perf" ] || kill -INT "$server_perf" 2>/dev/null || true
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    if [ -f "$scratch/nginx/nginx.pid" ]; then kill "$(cat "$scratch/nginx/nginx.pid")" 2>/dev/null || true; fi
    if [ -z "${KEEP_SCRATCH:-}" ]; then rm -rf "$scratch"; else echo "kept $scratch" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$source_dir/scripts/servers.sh"

hard_limit=$(ulimit -Hn)
[ "$hard_limit" = unlimited ] && hard_limit=1048576
shard_size=${FLEET_SHARD:-$(((hard_limit - 512) / 2))}
broker_size=${FLEET_BROKER:-$((hard_limit - 1024))}
shards=$(((devices + shard_size - 1) / shard_size))
brokers=$(((devices + broker_size - 1) / broker_size))

# --- the brokers: many connections, logging only what goes wrong --------------------------------
# start_broker NAME [BRIDGE_TO_PORT]: sets broker_port (a few ports tried: another program on
# this machine may hold one)
port_attempts=0
start_broker() {
    mkdir -p "$scratch/$1"
    chmod 1777 "$scratch/$1"
    for attempt in 1 2 3 4 5; do
        try_broker "$@" && return 0
    done
    echo "bench-fleet: mosquitto $1 did not start" >&2
    cat "$scratch/$1/mosquitto.log" >&2
    exit 1
}
try_broker() {
    port_attempts=$((port_attempts + 1))
    broker_port=$(random_port "$port_attempts")
    rm -f "$scratch/$1/mosquitto.log"
    cat >"$scratch/$1/mosquitto.conf" <<CONF
listener $broker_port 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
# the server takes every status with QoS 1: queue them all, many in flight at once
max_queued_messages 1000000
max_inflight_messages 1000
set_tcp_nodelay true
log_dest file $scratch/$1/mosquitto.log
log_type error
log_type warning
CONF
    if [ -n "${2:-}" ]; then
        cat >>"$scratch/$1/mosquitto.conf" <<CONF
connection core-$1
remote_clientid bridge-$1
address 127.0.0.1:$2
cleansession true
try_private true
topic cellota/+/update in 1
topic cellota/+/status out 1
topic cellota/+/online out 1
CONF
    fi
    /usr/sbin/mosquitto -c "$scratch/$1/mosquitto.conf" >/dev/null 2>&1 &
    sleep 0.5
    kill -0 "$!" 2>/dev/null || return 1
    pids="$pids $!"
    broker_pids="$broker_pids $!"
}
start_broker core
mqtt_port=$broker_port
edge_ports=$mqtt_port
if [ "$brokers" -gt 1 ]; then
    edge_ports=""
    broker=0
    while [ $broker -lt "$brokers" ]; do
        start_broker "edge$broker" "$mqtt_port"
        edge_ports="$edge_ports $broker_port"
        broker=$((broker + 1))
    done
fi
echo "bench-fleet: $devices devices in $shards fleet process(es), $brokers broker(s) for them (descriptor limit $hard_limit)"

head -c "$image_size" /dev/urandom >"$scratch/firmware.bin"
server_pid=""
if [ -x "$bin/cellota-server" ] && [ -z "${FLEET_NO_SERVER:-}" ]; then
    # --- the server: release, campaign, requests over MQTT, status counted ----------------------
    http_port=$(random_port server)
    server_url=http://127.0.0.1:$http_port
    mkdir -p "$scratch/store"
    CELLOTA_TOKEN=bench-fleet-token "$bin/cellota-server" --http "127.0.0.1:$http_port" \
        --mqtt "127.0.0.1:$mqtt_port" --store "$scratch/store" >"$scratch/server.log" 2>&1 &
    server_pid=$!
    pids="$pids $server_pid"
    tries=0
    until curl -sf "$server_url/metrics" >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ $tries -lt 100 ] || { echo "bench-fleet: the server did not start" >&2; cat "$scratch/server.log" >&2; exit 1; }
        sleep 0.1
    done
    curl -sf -H "Authorization: Bearer bench-fleet-token" -H "Content-Type: application/octet-stream" \
        --data-binary "@$scratch/firmware.bin" \
        "$server_url/api/releases?version=1.0.0&load_address=0" >"$scratch/release.json"
    fleet_mode="--expect 1.0.0 --pub $scratch/store/server.pub.pem"
else
    # --- without the server: nginx serves the image, the fleet publishes the request ------------
    mkdir -p "$scratch/www" "$scratch/nginx"
    nginx_port=$(random_port nginx)
    cat >"$scratch/nginx/nginx.conf" <<CONF
daemon on;
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log;
worker_processes 4;
events { worker_connections $((hard_limit - 512)); }
http {
    access_log off;
    client_body_temp_path $scratch/nginx/body;
    proxy_temp_path $scratch/nginx/proxy;
    fastcgi_temp_path $scratch/nginx/fastcgi;
    uwsgi_temp_path $scratch/nginx/uwsgi;
    scgi_temp_path $scratch/nginx/scgi;
    sendfile on;
    server { listen 127.0.0.1:$nginx_port backlog=65535; root $scratch/www; }
}
CONF
    nginx -e "$scratch/nginx/error.log" -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf"
    server_url=http://127.0.0.1:$nginx_port
    "$bin/cellota" keygen --out "$scratch/operator.pem" >/dev/null
    "$bin/cellota" pack "$scratch/firmware.bin" --version 1.0.0 --load-addr 0 \
        --sign "$scratch/operator.pem" --url "$server_url/image.ebin" --out "$scratch/release" >/dev/null
    cp "$scratch/release/image.ebin" "$scratch/www/"
    chmod -R o+rX "$scratch/www"
    fleet_mode="--request $scratch/release/ota.json --pub $scratch/operator.pub.pem"
fi

# --- the fleet ------------------------------------------------------------------------------
profile=""
if [ -n "${FLEET_PROFILE:-}" ]; then profile="perf record -F 250 -o $scratch/perf.data --"; fi
server_perf=
started=$(date +%s.%N)
fleet_pids=""
shard=0
while [ $shard -lt "$shards" ]; do
    if [ -n "$server_pid" ]; then
        # devices shard, shard + shards, ...: the ids interleave
        first=$shard
        step=$shards
        count=$(((devices - shard + shards - 1) / shards))
    else
        # the fleet's own publisher numbers its devices one by one
        first=$((shard * shard_size))
        step=1
        count=$shard_size
        [ $((first + count)) -le "$devices" ] || count=$((devices - first))
    fi
    port=$(echo $edge_ports | cut -d' ' -f$((shard * brokers / shards + 1)))
    run_profile=""
    [ $shard -eq 0 ] && run_profile=$profile
    $run_profile "$bin/cellota-fleet" --devices "$count" --first-index "$first" \
        --index-step "$step" --faults "$faults" \
        --server "$server_url" --mqtt "127.0.0.1:$port" $fleet_mode --timeout "$timeout_s" \
        --seed $((shard + 1)) >"$scratch/fleet$shard.txt" 2>"$scratch/fleet$shard.err" &
    fleet_pids="$fleet_pids $!"
    shard=$((shard + 1))
done
pids="$pids $fleet_pids"

if [ -n "$server_pid" ]; then
    # The server learns of the devices from their status; the campaign targets them all.
    tries=0
    while :; do
        known=$(curl -sf -H "Authorization: Bearer bench-fleet-token" "$server_url/api/summary" |
            sed -n 's/.*"devices":\([0-9]*\).*/\1/p')
        [ "${known:-0}" -ge "$devices" ] && break
        tries=$((tries + 1))
        [ $tries -lt 6000 ] || { echo "bench-fleet: the server knows ${known:-0} of $devices devices" >&2; exit 1; }
        sleep 0.5
    done
    code=$(curl -s -o "$scratch/campaign.json" -w '%{http_code}' \
        -H "Authorization: Bearer bench-fleet-token" -H "Content-Type: application/json" \
        -d "{\"release\":\"1.0.0\",\"devices\":\"all\",\"rate_per_minute\":$rate,\"halt_failure_percent\":100}" \
        "$server_url/api/campaigns")
    [ "$code" = 201 ] || { echo "bench-fleet: campaign refused ($code): $(cat "$scratch/campaign.json")" >&2; exit 1; }
    campaign_id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$scratch/campaign.json")
    echo "bench-fleet: campaign $campaign_id created $(date -u +%T), $known devices known, rate $rate a minute, window $window"
    if [ -n "$profile" ]; then
        # the server during the campaign, by function (stopped when the fleet is done)
        perf record -F 250 -o "$scratch/server.perf" -p "$server_pid" >/dev/null 2>&1 &
        server_perf=$!
    fi
fi

# campaign_count NAME FILE: a number among the campaign's counts
campaign_count() {
    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | head -n 1
}
# The rollout window: pause above it, resume below three quarters of it.
running_fleets() {
    for pid in $fleet_pids; do kill -0 "$pid" 2>/dev/null && return 0; done
    return 1
}
# campaign_action pause|resume: true once the server did it
campaign_action() {
    curl -sf -m 10 -o /dev/null -X POST -H "Authorization: Bearer bench-fleet-token" \
        "$server_url/api/campaigns/$campaign_id/$1"
}
paused=""
pauses=0
if [ -n "$server_pid" ] && [ "$window" -gt 0 ]; then
    while running_fleets; do
        sleep 1
        curl -sf -m 5 -H "Authorization: Bearer bench-fleet-token" \
            "$server_url/api/campaigns/$campaign_id" >"$scratch/campaign-now.json" 2>/dev/null || continue
        flight=0
        for state in notified downloading; do
            number=$(campaign_count $state "$scratch/campaign-now.json")
            flight=$((flight + ${number:-0}))
        done
        if [ -z "$paused" ] && [ "$flight" -ge "$window" ] && campaign_action pause; then
            paused=1
            pauses=$((pauses + 1))
        elif [ -n "$paused" ] && [ "$flight" -lt $((window * 3 / 4)) ] && campaign_action resume; then
            paused=""
        fi
    done
    echo "bench-fleet: the window paused the campaign $pauses time(s)"
fi
status=0
for pid in $fleet_pids; do wait "$pid" || status=$?; done
if [ -n "$server_perf" ]; then kill -INT "$server_perf" 2>/dev/null || true; wait "$server_perf" || true; fi
ended=$(date +%s.%N)
shard=0
while [ $shard -lt "$shards" ]; do
    cat "$scratch/fleet$shard.txt"
    shard=$((shard + 1))
done
[ "$status" -eq 0 ] || { echo "bench-fleet: a cellota-fleet exited $status" >&2; tail -n 3 "$scratch"/fleet*.err >&2; }

server_done=n/a
if [ -n "$server_pid" ]; then
    # The server's count: the devices' last statuses may still be on their way through the
    # brokers when the fleet is done; the campaign completes once they are all counted.
    tries=0
    while :; do
        curl -sf -H "Authorization: Bearer bench-fleet-token" "$server_url/api/campaigns/$campaign_id" \
            >"$scratch/campaign-final.json" 2>/dev/null || true
        grep -q '"state":"completed"' "$scratch/campaign-final.json" && break
        tries=$((tries + 1))
        [ $tries -lt 600 ] || { echo "bench-fleet: the campaign did not complete within 300 s of the fleet's end" >&2; break; }
        sleep 0.5
    done
    server_done=$(echo "$started $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
    echo "server: $(cat "$scratch/campaign-final.json")"
    echo "bench-fleet: the server counted the campaign $(sed -n 's/.*"state":"\([a-z]*\)".*/\1/p' "$scratch/campaign-final.json") $server_done s after the first start"
fi
# processor time of a running process in seconds (user + system), from /proc
clock_ticks=$(getconf CLK_TCK)
cpu_seconds() {
    awk -v ticks="$clock_ticks" '{ sub(/.*\) /, ""); printf "%.1f", ($12 + $13) / ticks }' \
        "/proc/$1/stat" 2>/dev/null || echo n/a
}
brokers_cpu=""
for pid in $broker_pids; do brokers_cpu="$brokers_cpu $(cpu_seconds "$pid")"; done
echo "bench-fleet: processor time: brokers (core, edges):$brokers_cpu s${server_pid:+; server $(cpu_seconds "$server_pid") s}"
echo "bench-fleet: load at the end:$(uptime | sed 's/.*load average//')"
server_rss=n/a
if [ -n "$server_pid" ]; then
    server_rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status" 2>/dev/null || echo n/a)
fi

if [ -n "$profile" ]; then
    echo "profile of cellota-fleet (perf, by library and function):"
    perf report -i "$scratch/perf.data" --no-children --sort dso,symbol 2>/dev/null |
        grep '%' | head -40
    if [ -n "$server_perf" ]; then
        echo "profile of cellota-server during the campaign (perf, by library and function):"
        perf report -i "$scratch/server.perf" --no-children --sort dso,symbol 2>/dev/null |
            grep '%' | head -25
    fi
fi

confirmed=$(cat "$scratch"/fleet*.txt | sed -n 's/^fleet: .* confirmed=\([0-9]*\).*/\1/p' |
    awk '{ sum += $1 } END { print sum + 0 }')
fleet_rss=$(cat "$scratch"/fleet*.txt | sed -n 's/^fleet: .* fleet_rss_mb=\([0-9]*\).*/\1/p' |
    awk '{ sum += $1 } END { print sum + 0 }')
# the campaign's time: from the start until the last device confirmed (each process's own
# figure; they start together), not the clean stop that follows
wall=$(cat "$scratch"/fleet*.txt | sed -n 's/^fleet: .* wall_s=\([0-9.]*\).*/\1/p' |
    awk '$1 > max { max = $1 } END { printf "%.1f", max }')
echo "bench-fleet: $(echo "$started $ended" | awk '{ printf "%.1f", $2 - $1 }') s from the first start to the last process's clean stop"
echo "bench-fleet: fleet processes' peak memory together: $fleet_rss MB"
ratio=n/a
if [ -f "$source_dir/bench/images.sh" ] && [ -z "${FLEET_NO_IMAGES:-}" ]; then
    # the server's image path beside nginx, same Range workload (requests/s ratio)
    CELLOTA_BIN=$bin CELLOTA_SOURCE=$source_dir sh "$source_dir/bench/images.sh" \
        >"$scratch/images.txt" 2>&1 || true
    grep '^images: ' "$scratch/images.txt" || tail -n 5 "$scratch/images.txt"
    ratio=$(sed -n 's|^images: ratio [^/]*/nginx requests=\([0-9.]*\).*|\1|p' "$scratch/images.txt" |
        head -n 1)
    ratio=${ratio:-n/a}
fi
echo "fleet: devices=$devices confirmed=$confirmed wall_s=$wall server_rss_mb=$server_rss nginx_ratio=$ratio"
[ "$status" -eq 0 ]
