# A request in flight keeps its claim (issue 10, the re-publishing defect): cellota-server
# publishes a campaign's requests to 3,000 devices while the broker is stopped (SIGSTOP) for
# longer than the claim lease -- the server's own lease (CELLOTA_LEASE_S=3) and the first build's
# fixed 10 s one -- so no PUBACK comes back. The server must keep renewing the leases of the
# requests in flight instead of claiming the targets again; when the broker wakes up, each
# request is acknowledged once and the acknowledgements are recorded in batches. Checked:
# requests_published == targeted == notified, and no request was handed to the broker twice
# (the broker's log counts the PUBLISH packets the server sent).
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

devices=${IN_FLIGHT_DEVICES:-3000}
w=$lib_scratch
fail() { echo "FAIL: $*"; kill -CONT "$mosquitto_pid" 2>/dev/null || true; tail -n 20 "$server_log"; exit 1; }
head -c 4096 /dev/urandom >"$w/firmware.bin"

mosquitto_extra="max_queued_messages 1000000"
lib_start_mosquitto
CELLOTA_LEASE_S=3
export CELLOTA_LEASE_S
lib_start_server lease
lib_api POST "/api/releases?version=1.0.0&load_address=0" --data-binary @"$w/firmware.bin" \
    -H "Content-Type: application/octet-stream" >"$w/release.json"
[ "$api_status" = 201 ] || fail "upload: $api_status $(cat "$w/release.json")"
grep -q "lease 3 s" "$server_log" || fail "the server did not take CELLOTA_LEASE_S"

"$lib_python" -c 'import json, sys
n = int(sys.argv[1])
print(json.dumps({"release": "1.0.0", "devices": ["in-flight-%05d" % i for i in range(n)],
                  "rate_per_minute": 1000000, "name": "in flight"}))' "$devices" >"$w/campaign.in"

# The broker stops answering: whatever the server publishes now stays in flight.
kill -STOP "$mosquitto_pid"
lib_api POST /api/campaigns -d @"$w/campaign.in" >"$w/campaign.json"
[ "$api_status" = 201 ] || fail "campaign: $api_status $(cat "$w/campaign.json")"
campaign=$(lib_json id <"$w/campaign.json")
# Longer than four of the server's leases and than the first build's 10 s lease.
sleep 13
kill -CONT "$mosquitto_pid"

limit=$(($(date +%s) + 60))
until [ "$(lib_api GET "/api/campaigns/$campaign" | lib_json counts.notified)" = "$devices" ]; do
    [ "$(date +%s)" -le "$limit" ] || fail "notified: $(lib_api GET "/api/campaigns/$campaign" | lib_json counts)"
    sleep 0.5
done
sleep 2 # anything published twice would be acknowledged by now
lib_api GET "/api/campaigns/$campaign" >"$w/final.json"
for check in "targeted $devices" "counts.notified $devices" "requests_published $devices"; do
    set -- $check
    [ "$(lib_json "$1" <"$w/final.json")" = "$2" ] ||
        fail "campaign $1 is $(lib_json "$1" <"$w/final.json"), not $2"
done
# The broker's own count of requests received (log_type all logs each PUBLISH it receives).
sent=$(grep -c "Received PUBLISH from cellota-server.*cellota/in-flight-[0-9]*/update" "$mosquitto_log" || true)
[ "$sent" = "$devices" ] || fail "the broker received $sent requests, not $devices"
grep -q "not sent" "$server_log" && fail "a request was not sent: $(grep "not sent" "$server_log" | head -n 1)"
echo "PASS: $devices requests held in flight for 13 s (lease 3 s), each published and counted once"
