#!/bin/sh
# The image download path beside nginx (issue 10, item 3): one 512 KiB image on loopback, served
# by cellota's image hosting (cellota-images-harness: images_answer on the daemon configuration
# cellota-server uses; and cellota-server itself when it is built and has an image route) and by
# Debian's nginx with sendfile on the same cores, each driven by wrk with the same workload
# (bench/images.lua: whole-image GETs, resumes "bytes=A-", blocks "bytes=A-B"). Rounds
# alternate the servers so a noisy neighbour on this shared machine hits both alike.
# Lines:
#   images: server=S round=R requests_s=N mb_s=N        (MB = 10^6 bytes, headers included)
#   images: server=S median requests_s=N mb_s=N
#   images: ratio server/nginx requests=X mb=X          (X >= 0.9 is the goal)
# Environment: BENCH_SECONDS (per run, 10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32).
set -eu
: "${CELLOTA_BIN:?}" "${CELLOTA_SOURCE:?}"
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
connections=${BENCH_CONNECTIONS:-32}
cores=$(nproc)
image_size=524288
work=$(mktemp -d "${TMPDIR:-/tmp}/cellota-bench-images.XXXXXX")
harness_pid=""
. "$CELLOTA_SOURCE/scripts/servers.sh"
trap 'stop_servers; if [ -n "$harness_pid" ]; then kill "$harness_pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

fail() {
    echo "bench images: $*" >&2
    exit 1
}

command -v wrk >/dev/null 2>&1 || fail "wrk is not installed (scripts/install-deps.sh)"
mkdir -p "$work/store/images"
head -c "$image_size" /dev/urandom >"$work/image"
sha=$(sha256sum "$work/image" | cut -d' ' -f1)
mv "$work/image" "$work/store/images/$sha.ebin"
image_path="/images/$sha.ebin"

# nginx as one would deploy it for static files: a worker per core, sendfile, no access log.
nginx_workers=$cores nginx_connections=4096 start_nginx "$work/store" "$work" \
    "sendfile on; tcp_nopush on; access_log off; keepalive_requests 1000000;"

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

# The servers to compare: "name port" lines.
printf 'nginx %s\ncellota-images %s\n' "$nginx_port" "$harness_port" >"$work/servers"

# Each answers the same bytes before anything is timed.
dd if="$work/store/images/$sha.ebin" of="$work/expected" bs=1 skip=1000 count=5000 2>/dev/null
while read -r name port; do
    curl -sf -r 1000-5999 -o "$work/got" "http://127.0.0.1:$port$image_path" ||
        fail "$name did not answer a range"
    cmp -s "$work/got" "$work/expected" || fail "$name answered other bytes"
done <"$work/servers"

# run NAME PORT SECONDS: prints "requests_s mb_s"; fails on any error or bad status.
run() {
    output=$(IMAGE_PATH=$image_path IMAGE_SIZE=$image_size \
        wrk -t "$cores" -c "$connections" -d "${3}s" -s "$CELLOTA_SOURCE/bench/images.lua" \
        "http://127.0.0.1:$2$image_path" 2>&1) || fail "wrk against $1 failed: $output"
    result=$(echo "$output" | grep '^result ') || fail "wrk against $1 printed no result: $output"
    echo "$result" | awk -v name="$1" '{
        for (i = 2; i <= NF; i++) { split($i, pair, "="); value[pair[1]] = pair[2] }
        if (value["errors"] > 0 || value["requests"] == 0) {
            printf "bench images: %s: %d errors in %d requests\n", name, value["errors"],
                   value["requests"] > "/dev/stderr"
            exit 1
        }
        seconds = value["duration_us"] / 1e6
        printf "%.0f %.1f\n", value["requests"] / seconds, value["bytes"] / seconds / 1e6
    }' || fail "$1 answered with errors"
}

while read -r name port; do
    run "$name" "$port" 1 >/dev/null # warm-up
done <"$work/servers"
round=1
while [ $round -le "$rounds" ]; do
    while read -r name port; do
        set -- $(run "$name" "$port" "$seconds")
        echo "images: server=$name round=$round requests_s=$1 mb_s=$2"
        echo "$name $1 $2" >>"$work/results"
    done <"$work/servers"
    round=$((round + 1))
done

# median NAME COLUMN (2: requests/s, 3: MB/s)
median() {
    awk -v name="$1" -v column="$2" '$1 == name { print $column }' "$work/results" | sort -n |
        awk '{ value[NR] = $1 } END { print (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2 }'
}
while read -r name port; do
    echo "images: server=$name median requests_s=$(median "$name" 2) mb_s=$(median "$name" 3)"
done <"$work/servers"
nginx_requests=$(median nginx 2)
nginx_mb=$(median nginx 3)
while read -r name port; do
    [ "$name" = nginx ] && continue
    awk -v name="$name" -v r="$(median "$name" 2)" -v m="$(median "$name" 3)" \
        -v nr="$nginx_requests" -v nm="$nginx_mb" -v c="$connections" -v s="$seconds" -v n="$rounds" \
        'BEGIN { printf "images: ratio %s/nginx requests=%.2f mb=%.2f (medians of %d rounds of %d s, %d connections)\n", name, r / nr, m / nm, n, s, c }'
done <"$work/servers"
