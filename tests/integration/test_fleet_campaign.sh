# A campaign of cellota-server to a simulated fleet: mosquitto and cellota-server on loopback,
# cellota-fleet running FLEET_DEVICES devices (default 1000, the four modem models in turn) of
# which FLEET_FAULTS (default 0.3) meet a dropped connection, a modem reset or a power cut during
# their download. The devices make themselves known by their status; the operator uploads a
# release and starts a campaign to "all"; the server publishes the requests, serves the image
# and counts. Exact counts are checked on both sides: every device confirmed 1.0.0 (the fleet's
# count) and the campaign says targeted = confirmed = N, failed = 0, completed.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

devices=${FLEET_DEVICES:-1000}
faults=${FLEET_FAULTS:-0.3}
w=$lib_scratch
fail() { echo "FAIL: $*"; [ -f "$w/fleet.err" ] && tail -n 3 "$w/fleet.err"; tail -n 20 "$server_log"; exit 1; }
head -c "${FLEET_IMAGE_SIZE:-65536}" /dev/urandom >"$w/firmware.bin"

# A broker keeps 1,000 QoS 1 messages queued for one client and drops the rest: the server (or
# the test's watcher) takes a status from every device at once.
mosquitto_extra="max_queued_messages 1000000
max_inflight_messages 1000"
lib_start_mosquitto
lib_start_server fleet
lib_api POST "/api/releases?version=1.0.0&load_address=0" --data-binary @"$w/firmware.bin" \
    -H "Content-Type: application/octet-stream" >"$w/release.json"
[ "$api_status" = 201 ] || fail "upload: $api_status $(cat "$w/release.json")"

lib_background fleet "$CELLOTA_BIN/cellota-fleet" --devices "$devices" --faults "$faults" \
    --seed 11 --server "$server_url" --mqtt "127.0.0.1:$mosquitto_port" --expect 1.0.0 \
    --pub "$server_store/server.pub.pem" \
    --timeout 600 --server-pid "$server_pid" --quiet
fleet_pid=$background_pid

# The server learns of each device from its first status.
limit=$(($(date +%s) + 120))
until [ "$(lib_api GET /api/summary | lib_json devices)" = "$devices" ]; do
    [ "$(date +%s)" -le "$limit" ] || fail "the server knows $(lib_api GET /api/summary | lib_json devices) of $devices devices"
    sleep 0.5
done
lib_api POST /api/campaigns -d '{"release":"1.0.0","devices":"all","rate_per_minute":1000000,
    "halt_failure_percent":100,"name":"fleet"}' >"$w/campaign.json"
[ "$api_status" = 201 ] || fail "campaign: $api_status $(cat "$w/campaign.json")"
campaign=$(lib_json id <"$w/campaign.json")

status=0
wait "$fleet_pid" || status=$?
cat "$w/fleet.log"
[ "$status" -eq 0 ] || fail "cellota-fleet exited $status"
grep -q "^fleet: devices=$devices confirmed=$devices failed=0 " "$w/fleet.log" ||
    fail "not every device confirmed"

# The server's count: every status delivered, each device counted once.
limit=$(($(date +%s) + 60))
until [ "$(lib_api GET "/api/campaigns/$campaign" | lib_json state)" = completed ]; do
    [ "$(date +%s)" -le "$limit" ] || fail "campaign not completed: $(lib_api GET "/api/campaigns/$campaign")"
    sleep 0.5
done
lib_api GET "/api/campaigns/$campaign" >"$w/final.json"
for check in "targeted $devices" "counts.confirmed $devices" "counts.failed 0"; do
    set -- $check
    [ "$(lib_json "$1" <"$w/final.json")" = "$2" ] || fail "campaign $1 is $(lib_json "$1" <"$w/final.json"), not $2"
done
echo "server: campaign $campaign completed: targeted $devices, confirmed $devices, failed 0, requests published $(lib_json requests_published <"$w/final.json"), bytes served $(lib_json bytes_served <"$w/final.json")"
echo "PASS: a campaign of cellota-server to $devices simulated devices, every one confirmed"
