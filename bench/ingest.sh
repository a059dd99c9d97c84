# The server's status ingestion rate (docs/operations.md): statuses recorded per second by one
# cellota-server, on SQLite (WAL, synchronous=FULL) and on PostgreSQL (started on loopback by
# scripts/servers.sh; fsync off, as every test's). INGEST_DEVICES devices (default 200) each
# publish INGEST_STATUSES (default 25) distinct download statuses at QoS 1 as fast as
# mosquitto_pub sends them, all devices at once; the server's cellota_status_messages_total
# (counted as each batch is recorded) is read every 50 ms. The rate is the statuses over the
# time from the first publisher's start to the last status counted; published_s is when the
# last publisher was done (well before the end: the server, not the publishers, set the pace).
# Prints one line per backend, for scripts:
#   ingest: backend=B statuses=N seconds=S per_second=R published_s=P server_cpu_ms_per_status=C
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

devices=${INGEST_DEVICES:-200}
statuses=${INGEST_STATUSES:-25}
total=$((devices * statuses))
w=$lib_scratch
mosquitto_extra="max_queued_messages 1000000
max_inflight_messages 1000"
lib_start_mosquitto
start_postgres "$lib_scratch" >/dev/null

# One file of status lines per device (mosquitto_pub -l sends each line as a message).
"$lib_python" - "$w" "$devices" "$statuses" <<'PY'
import json, sys
folder, devices, statuses = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(devices):
    with open("%s/statuses-%d" % (folder, d), "w") as out:
        for s in range(statuses):
            print(json.dumps({"state": "downloading", "version": "1.0.0", "target": "1.1.0",
                              "progress": s * 100 // statuses, "offset": s * 4096,
                              "size": statuses * 4096, "downloaded": s * 4096,
                              "redownloaded": 0, "error": 0, "error_name": "OK",
                              "message": "success", "model": "sim7600"}), file=out)
PY

counted() { curl -s "$server_url/metrics" | awk '$1 == "cellota_status_messages_total" { print $2 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now_ms() { date +%s%3N; }

for backend in sqlite postgres; do
    if [ $backend = sqlite ]; then lib_start_server ingest-sqlite; else lib_start_server ingest-postgres --db "$postgres_url"; fi
    ticks_before=$(cpu_ticks "$server_pid")
    start=$(now_ms)
    d=0
    publishers=""
    while [ $d -lt "$devices" ]; do
        mosquitto_pub -p "$mosquitto_port" -h 127.0.0.1 -q 1 -t "cellota/bench-$d/status" \
            -l <"$w/statuses-$d" &
        publishers="$publishers $!"
        d=$((d + 1))
    done
    published=""
    limit=$(($(date +%s) + 300))
    while :; do
        n=$(counted)
        t=$(now_ms)
        if [ -z "$published" ]; then
            running=0
            for pid in $publishers; do kill -0 "$pid" 2>/dev/null && running=1 && break; done
            [ $running = 1 ] || published=$t
        fi
        if [ "${n:-0}" -ge "$total" ]; then break; fi
        [ "$(date +%s)" -le "$limit" ] || { echo "ingest: $backend: only ${n:-0} of $total counted" >&2; exit 1; }
        sleep 0.05
    done
    for pid in $publishers; do wait "$pid" 2>/dev/null || true; done
    [ -n "$published" ] || published=$t
    ticks=$(($(cpu_ticks "$server_pid") - ticks_before))
    hz=$(getconf CLK_TCK)
    awk -v b=$backend -v n="$total" -v s0="$start" -v p="$published" -v l="$t" -v c="$ticks" -v hz="$hz" 'BEGIN {
        s = (l - s0) / 1000
        printf "ingest: backend=%s statuses=%d seconds=%.2f per_second=%.0f published_s=%.2f server_cpu_ms_per_status=%.3f\n",
            b, n, s, n / s, (p - s0) / 1000, 1000 * c / hz / n }'
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
done
