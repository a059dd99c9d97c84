#!/bin/sh
# The image download path beside nginx (issue 10, item 3): one 512 KiB firmware's image on
# loopback, served by cellota-server itself (a release uploaded through its API, no broker), by
# cellota-images-harness (images_answer alone on the daemon configuration the server uses: the
# image module without the server's routing and accounting around it) and by Debian's nginx with
# sendfile on the same cores, each driven by wrk with the same workload (bench/images.lua:
# whole-image GETs, resumes "bytes=A-", blocks "bytes=A-B"). Rounds alternate the servers so a
# noisy neighbour on this shared machine hits them alike.
# Throughput on a machine shared with other work is noisy, so each run also reports the CPU time
# the server's processes used per request (user + system, from /proc), which is not.
# Lines:
#   images: server=S round=R requests_s=N mb_s=N cpu_us_per_request=N   (MB = 10^6 bytes)
#   images: server=S median requests_s=N mb_s=N cpu_us_per_request=N
#   images: ratio S/nginx requests=X mb=X cpu_per_request=X   (X >= 0.9 is the goal; for
#                                                               CPU, lower is better)
# Environment: BENCH_SECONDS (per run, 10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32).
set -eu
: "${CELLOTA_BIN:?}" "${CELLOTA_SOURCE:?}"
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
connections=${BENCH_CONNECTIONS:-32}
cores=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/cellota-bench-images.XXXXXX")
harness_pid=""
server_pid=""
. "$CELLOTA_SOURCE/scripts/servers.sh"
stop_ours() {
    for pid in $harness_pid $server_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in $harness_pid $server_pid; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_servers; stop_ours; rm -rf "$work"' EXIT

fail() {
    echo "bench images: $*" >&2
    exit 1
}

command -v wrk >/dev/null 2>&1 || fail "wrk is not installed (scripts/install-deps.sh)"
[ -x "$CELLOTA_BIN/cellota-server" ] || fail "no $CELLOTA_BIN/cellota-server (make)"
mkdir -p "$work/store/images"
head -c 524288 /dev/urandom >"$work/firmware.bin"

# cellota-server with the firmware uploaded as a release; the others serve the image it made.
token=bench-images-token
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    server_port=$(random_port "images$attempt")
    "$CELLOTA_BIN/cellota-server" --http "127.0.0.1:$server_port" --store "$work/server-store" \
        --mqtt 127.0.0.1:1 --token "$token" --http-threads "$cores" >>"$work/server.log" 2>&1 &
    server_pid=$!
    tries=0
    until curl -s -o /dev/null "http://127.0.0.1:$server_port/metrics" 2>/dev/null; do
        tries=$((tries + 1))
        if [ $tries -gt 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
            kill "$server_pid" 2>/dev/null || true
            wait "$server_pid" 2>/dev/null || true
            server_pid=""
            break
        fi
        sleep 0.1
    done
    [ -n "$server_pid" ] && break
done
[ -n "$server_pid" ] || fail "cellota-server did not start: $(tail -5 "$work/server.log")"
curl -sf -H "Authorization: Bearer $token" --data-binary @"$work/firmware.bin" \
    -o "$work/release.json" "http://127.0.0.1:$server_port/api/releases?version=1.0.0" ||
    fail "the release upload failed: $(cat "$work/release.json" 2>/dev/null)"
sha=$(sed -n 's/.*"sha256":"\([0-9a-f]\{64\}\)".*/\1/p' "$work/release.json")
[ -n "$sha" ] || fail "no sha256 in the release: $(cat "$work/release.json")"
cp "$work/server-store/images/$sha.ebin" "$work/store/images/$sha.ebin"
image_size=$(wc -c <"$work/store/images/$sha.ebin")
image_path="/images/$sha.ebin"

# nginx at its fastest measured here for this workload: a worker per core, sendfile in pieces of
# 128 KiB (its default 2 MiB answered 20-35% fewer requests), a cache of open descriptors, no
# access log, and no tcp_nopush (Debian's default, which corks: 3x the CPU per answer).
nginx_workers=$cores nginx_connections=4096 start_nginx "$work/store" "$work" \
    "sendfile on; sendfile_max_chunk 128k; open_file_cache max=1000 inactive=60s; access_log off; keepalive_requests 1000000;"

"$CELLOTA_BIN/cellota-images-harness" --store "$work/store" --http 127.0.0.1:0 \
    --http-threads "$cores" >"$work/harness.out" 2>&1 &
harness_pid=$!
tries=0
until grep -q '^listening on' "$work/harness.out" 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] && kill -0 "$harness_pid" 2>/dev/null || fail "the harness did not start: $(cat "$work/harness.out")"
    sleep 0.05
done
harness_port=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$work/harness.out")

# The servers to compare: "name port pid..." lines (the processes whose CPU time is theirs).
nginx_workers_pids=$(pgrep -P "$nginx_pid" | tr '\n' ' ')
printf 'nginx %s %s\ncellota-server %s %s\ncellota-images %s %s\n' "$nginx_port" \
    "$nginx_workers_pids" "$server_port" "$server_pid" "$harness_port" "$harness_pid" \
    >"$work/servers"

# Each answers the same bytes before anything is timed.
dd if="$work/store/images/$sha.ebin" of="$work/expected" bs=1 skip=1000 count=5000 2>/dev/null
while read -r name port pids; do
    curl -sf -r 1000-5999 -o "$work/got" "http://127.0.0.1:$port$image_path" ||
        fail "$name did not answer a range"
    cmp -s "$work/got" "$work/expected" || fail "$name answered other bytes"
done <"$work/servers"

# cpu_ticks PID...: user + system clock ticks the processes have used so far.
cpu_ticks() {
    for pid in "$@"; do
        # after the ")" ending the name: state is field 1, utime field 12, stime field 13
        sed 's/^.*) //' "/proc/$pid/stat"
    done | awk '{ total += $12 + $13 } END { print total }'
}

# run NAME PORT SECONDS PID...: prints "requests_s mb_s cpu_us_per_request"; fails on any error
# or bad status.
run() {
    name=$1 port=$2 duration=$3
    shift 3
    ticks_before=$(cpu_ticks "$@")
    output=$(IMAGE_PATH=$image_path IMAGE_SIZE=$image_size \
        wrk -t "$cores" -c "$connections" -d "${duration}s" -s "$CELLOTA_SOURCE/bench/images.lua" \
        "http://127.0.0.1:$port$image_path" 2>&1) || fail "wrk against $name failed: $output"
    ticks=$(($(cpu_ticks "$@") - ticks_before))
    result=$(echo "$output" | grep '^result ') || fail "wrk against $name printed no result: $output"
    echo "$result" | awk -v name="$name" -v ticks="$ticks" -v hertz="$(getconf CLK_TCK)" '{
        for (i = 2; i <= NF; i++) { split($i, pair, "="); value[pair[1]] = pair[2] }
        if (value["errors"] > 0 || value["requests"] == 0) {
            printf "bench images: %s: %d errors in %d requests\n", name, value["errors"],
                   value["requests"] > "/dev/stderr"
            exit 1
        }
        seconds = value["duration_us"] / 1e6
        printf "%.0f %.1f %.1f\n", value["requests"] / seconds, value["bytes"] / seconds / 1e6,
               ticks / hertz * 1e6 / value["requests"]
    }' || fail "$name answered with errors"
}

while read -r name port pids; do
    run "$name" "$port" 1 $pids >/dev/null # warm-up
done <"$work/servers"
round=1
while [ $round -le "$rounds" ]; do
    while read -r name port pids; do
        set -- $(run "$name" "$port" "$seconds" $pids)
        echo "images: server=$name round=$round requests_s=$1 mb_s=$2 cpu_us_per_request=$3"
        echo "$name $1 $2 $3" >>"$work/results"
    done <"$work/servers"
    round=$((round + 1))
done

# median NAME COLUMN (2: requests/s, 3: MB/s, 4: CPU microseconds per request)
median() {
    awk -v name="$1" -v column="$2" '$1 == name { print $column }' "$work/results" | sort -n |
        awk '{ value[NR] = $1 } END { print (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2 }'
}
while read -r name port pids; do
    echo "images: server=$name median requests_s=$(median "$name" 2) mb_s=$(median "$name" 3)" \
        "cpu_us_per_request=$(median "$name" 4)"
done <"$work/servers"
while read -r name port pids; do
    [ "$name" = nginx ] && continue
    awk -v name="$name" -v r="$(median "$name" 2)" -v m="$(median "$name" 3)" \
        -v u="$(median "$name" 4)" -v nr="$(median nginx 2)" -v nm="$(median nginx 3)" \
        -v nu="$(median nginx 4)" -v c="$connections" -v s="$seconds" -v n="$rounds" \
        'BEGIN { printf "images: ratio %s/nginx requests=%.2f mb=%.2f cpu_per_request=%.2f (medians of %d rounds of %d s, %d connections)\n", name, r / nr, m / nm, u / nu, n, s, c }'
done <"$work/servers"
