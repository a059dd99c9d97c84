# Each device gets the request built for it (issue 11 item 4, issue 12 item 4), end to end with
# REAL device agents (cellota-device over its own cellota-modem), mosquitto and cellota-server:
#   1. release 1.0.0 goes to prev-1, which decodes and runs its factory image (a base the server
#      does not hold): it is sent the compressed image;
#   2. release 1.1.0 (kept with a delta from 1.0.0) goes to four devices on mixed versions:
#        prev-1    on 1.0.0, decodes            -> the delta (bytes served ~ the patch's size)
#        old-1     on its factory image, decodes -> compressed
#        plain-1   modem-staged nRF52840 (does not decode) -> the full image
#        wrapped-1 its certificate in --device-certs -> its key wrapped: the request on its topic
#                  (caught with mosquitto_sub) holds no clear key and decrypts nothing
#      all confirm, and the campaign's split (devices and bytes per variant) says so;
#   3. a device whose certificate is revoked (cellota certs revoke) is sent nothing: skipped
#      REVOKED.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
lib_label="requests"

cellota=$CELLOTA_BIN/cellota
device_bin=$CELLOTA_BIN/cellota-device
w=$lib_scratch/work
mkdir -p "$w/modem-files"
started=$(date +%s)

say() { echo "requests test ($(($(date +%s) - started)) s): $*"; }

# start_device NAME MODEL "MODEM OPTIONS" [cellota-device options]
start_device() {
    name=$1
    model=$2
    modem_options=$3
    shift 3
    # shellcheck disable=SC2086
    lib_launch_modem "$w/$name.modem" "$model" $modem_options
    "$device_bin" --port "$modem_pty" --modem "$model" --flash "$w/$name.flash" \
        --server "$server_url/d/$name" --mqtt "127.0.0.1:$mosquitto_port" --id "$name" \
        --pub "$w/server.pub.pem" --poll-interval 0 "$@" >>"$w/$name.out" 2>&1 &
    lib_pids="$lib_pids $!"
}

wait_campaign() {
    limit=$(($(date +%s) + $4))
    while [ "$(date +%s)" -le "$limit" ]; do
        if [ "$(lib_api GET "/api/campaigns/$1" | lib_json "$2" 2>/dev/null)" = "$3" ]; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

# wait_reported NAME...: each device has reported its running image.
wait_reported() {
    for name in "$@"; do
        limit=$(($(date +%s) + 60))
        until lib_api GET "/api/devices/$name" | grep -q '"image":"[0-9]'; do
            if [ "$(date +%s)" -gt "$limit" ]; then
                fail "device $name never reported its image"
                return 1
            fi
            sleep 0.3
        done
    done
}

# Releases of one product: 1.1.0 changes a few places of 1.0.0.
"$lib_python" - "$w" <<'EOF'
import random, sys
r = random.Random(7)
words = [bytes(r.getrandbits(8) for _ in range(r.randint(4, 24))) for _ in range(300)]
old = bytearray(b"".join(r.choice(words) for _ in range(3000))[:24000])
new = bytearray(old)
for at in (500, 9000, 20000):
    new[at:at + 32] = bytes(r.getrandbits(8) for _ in range(32))
open(sys.argv[1] + "/fw-1.0.0.bin", "wb").write(old)
open(sys.argv[1] + "/fw-1.1.0.bin", "wb").write(new)
EOF

"$cellota" certs init --dir "$w/pki" >/dev/null
"$cellota" certs device wrapped-1 --dir "$w/pki" >/dev/null
"$cellota" certs device revoked-1 --dir "$w/pki" >/dev/null
"$cellota" certs revoke revoked-1 --dir "$w/pki" >/dev/null
lib_start_mosquitto
# every request as published, one line each: topic and payload in hex (a request spans lines)
lib_background updates mosquitto_sub -h 127.0.0.1 -p "$mosquitto_port" -q 1 -F '%t %x' \
    -t 'cellota/+/update'
updates=$lib_scratch/updates.log
# last_request DEVICE: the last request published to it.
last_request() {
    grep "^cellota/$1/update " "$updates" | tail -n 1 | cut -d' ' -f2 |
        "$lib_python" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))'
}
lib_start_server requests --device-certs "$w/pki"
curl -s -o "$w/server.pub.pem" "$server_url/keys/server.pub.pem"
export CELLOTA_TOKEN="$server_token"

# --- 1. 1.0.0 to prev-1: compressed -----------------------------------------------------------
start_device prev-1 sim7600 ""
wait_reported prev-1
"$cellota" release upload "$w/fw-1.0.0.bin" --version 1.0.0 --server "$server_url" >/dev/null ||
    fail "upload 1.0.0"
lib_api POST /api/campaigns -d '{"release":"1.0.0","devices":["prev-1"]}' >"$w/c1.json"
c1=$(lib_json id <"$w/c1.json")
wait_campaign "$c1" state completed 120 || fail "1.0.0 to prev-1: $(lib_api GET "/api/campaigns/$c1")"
lib_api GET "/api/campaigns/$c1" >"$w/c1-done.json"
[ "$(lib_json sent.compressed.devices <"$w/c1-done.json")" = 1 ] ||
    fail "prev-1 (decodes, unknown base) was sent the compressed 1.0.0: $(lib_json sent <"$w/c1-done.json")"
say "campaign $c1: prev-1 on 1.0.0, sent compressed"

# --- 2. 1.1.0 to four devices on mixed versions -------------------------------------------------
start_device old-1 sim7070 ""
start_device plain-1 sim7600 "--fs-dir $w/modem-files" --layout nrf52840-1mb --strategy modem
start_device wrapped-1 sim7000 "" --device-key "$w/pki/wrapped-1.key" --require-wrapped
wait_reported prev-1 old-1 plain-1 wrapped-1
lib_api GET /api/devices/prev-1 | grep -q '"version":"1.0.0"' || fail "prev-1 reports 1.0.0"
"$cellota" release upload "$w/fw-1.1.0.bin" --version 1.1.0 --server "$server_url" --json \
    >"$w/r2.json" || fail "upload 1.1.0"
full_size=$("$lib_python" -c 'import json,sys
r = json.load(open(sys.argv[1]))
sizes = {v["encoding"]: v["size"] for v in r["variants"]}
print(sizes["full"], sizes["compressed"], sizes.get("delta", 0))' "$w/r2.json")
set -- $full_size
full_size=$1 compressed_size=$2 delta_size=$3
[ "$delta_size" -gt 0 ] && [ "$delta_size" -lt "$compressed_size" ] &&
    [ "$compressed_size" -lt "$full_size" ] ||
    fail "1.1.0's variants: full $full_size > compressed $compressed_size > delta $delta_size"
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["prev-1","old-1","plain-1",
    "wrapped-1"],"timeout_s":300}' >"$w/c2.json"
c2=$(lib_json id <"$w/c2.json")
say "campaign $c2: 1.1.0 to four devices; variants full $full_size, compressed $compressed_size, delta $delta_size bytes"
wait_campaign "$c2" state completed 240 || fail "1.1.0: not completed: $(lib_api GET "/api/campaigns/$c2")"
sleep 0.3 # the bytes' batch
lib_api GET "/api/campaigns/$c2" >"$w/c2-done.json"
[ "$(lib_json counts.confirmed <"$w/c2-done.json")" = 4 ] || fail "four confirmed: $(cat "$w/c2-done.json")"
lib_api GET "/api/campaigns/$c2/devices" >"$w/c2-devices.json"
for pair in prev-1:delta old-1:compressed plain-1:full wrapped-1:compressed; do
    device=${pair%%:*} expected=${pair#*:}
    sent=$("$lib_python" -c 'import json,sys
items = json.load(open(sys.argv[1]))["items"]
print([t["sent"] for t in items if t["device"] == sys.argv[2]][0])' "$w/c2-devices.json" "$device")
    [ "$sent" = "$expected" ] || fail "$device was sent $sent, expected $expected"
done
"$lib_python" - "$w/c2-done.json" "$full_size" "$compressed_size" "$delta_size" <<'EOF' || fail "the campaign's split"
import json, sys
c = json.load(open(sys.argv[1]))
full, compressed, delta = (int(x) for x in sys.argv[2:5])
sent = c["sent"]
ok = True
def check(what, value, low, high):
    global ok
    if not (low <= value <= high):
        print("%s: %d, expected %d..%d" % (what, value, low, high), file=sys.stderr)
        ok = False
check("devices sent the full image", sent["full"]["devices"], 1, 1)
check("devices sent compressed", sent["compressed"]["devices"], 2, 2)
check("devices sent the delta", sent["delta"]["devices"], 1, 1)
# what was really downloaded: each variant once per device, a resume at most a block more
check("delta bytes", sent["delta"]["bytes"], delta, delta + 4096)
check("compressed bytes", sent["compressed"]["bytes"], 2 * compressed, 2 * compressed + 8192)
check("full bytes", sent["full"]["bytes"], full, full + 4096)
check("bytes served", c["bytes_served"], full + 2 * compressed + delta, full + 2 * compressed + delta + 16384)
print("split: full %d B, compressed %d B, delta %d B (patch %d B)" % (sent["full"]["bytes"],
      sent["compressed"]["bytes"], sent["delta"]["bytes"], delta))
sys.exit(0 if ok else 1)
EOF
"$cellota" campaign show "$c2" --server "$server_url" >"$w/c2-show.out" 2>&1 || fail "campaign show"
grep -q "delta" "$w/c2-show.out" || fail "campaign show has the split: $(cat "$w/c2-show.out")"
for device in prev-1 old-1 plain-1 wrapped-1; do
    lib_api GET "/api/devices/$device" | grep -q '"version":"1.1.0"' || fail "$device runs 1.1.0"
done
# What the choice rested on, as the operator sees it: prev-1 now runs 1.1.0's image.
"$cellota" devices show prev-1 --server "$server_url" >"$w/prev-show.out" 2>&1 || fail "devices show"
grep -q "image       $(wc -c <"$w/fw-1.1.0.bin" | tr -d ' '):$(sha256sum "$w/fw-1.1.0.bin" | cut -d' ' -f1) (decodes" \
    "$w/prev-show.out" || fail "devices show prev-1: its running image: $(cat "$w/prev-show.out")"
"$cellota" devices show plain-1 --server "$server_url" | grep -q "(full images only)" ||
    fail "devices show plain-1: it does not decode"

# wrapped-1's request on the wire: its key wrapped, fw_info's key zero, useless to a listener.
last_request wrapped-1 >"$w/wrapped.json"
[ -s "$w/wrapped.json" ] || fail "no request seen on wrapped-1's topic"
[ -n "$(lib_json wrapped_key <"$w/wrapped.json")" ] || fail "wrapped-1's request has a wrapped_key"
[ "$(lib_json device <"$w/wrapped.json")" = wrapped-1 ] || fail "wrapped-1's request names it"
[ "$(lib_json fw_info <"$w/wrapped.json" | cut -c 33-64)" = 00000000000000000000000000000000 ] ||
    fail "wrapped-1's request carries a clear key"
curl -s -o "$w/wrapped.ebin" "$(lib_json url <"$w/wrapped.json")"
if "$cellota" verify --request "$w/wrapped.json" --image "$w/wrapped.ebin" --out "$w/stolen.bin" \
    >/dev/null 2>&1; then
    fail "the request on wrapped-1's topic decrypts the image without the device's key"
fi
for device in prev-1 old-1 plain-1; do
    last_request "$device" >"$w/$device-req.json"
    [ -z "$(lib_json wrapped_key <"$w/$device-req.json")" ] || fail "$device has no certificate: key not wrapped"
done
say "campaign $c2: 4 of 4 confirmed; delta to prev-1, compressed to old-1 and wrapped-1 (wrapped), full to plain-1"

# --- 3. a revoked device is sent nothing ---------------------------------------------------------
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["revoked-1"]}' >"$w/c3.json"
c3=$(lib_json id <"$w/c3.json")
wait_campaign "$c3" counts.skipped 1 30 || fail "the revoked device was not skipped: $(lib_api GET "/api/campaigns/$c3")"
[ "$(lib_api GET "/api/campaigns/$c3/devices" | lib_json items.0.reason)" = REVOKED ] ||
    fail "reason REVOKED: $(lib_api GET "/api/campaigns/$c3/devices")"
curl -s -o /dev/null -w '%{http_code}' "$server_url/ota.json?device=revoked-1" >"$w/revoked-poll.txt"
[ "$(cat "$w/revoked-poll.txt")" = 404 ] || fail "a poll of the revoked device is offered nothing"
if grep -q "^cellota/revoked-1/update " "$updates"; then fail "a request was published to the revoked device"; fi
say "campaign $c3: the revoked device skipped (REVOKED), nothing published or answered to it"

if [ "$failures" -ne 0 ]; then
    echo "--- server log" >&2
    tail -n 60 "$server_log" >&2
    exit 1
fi
say "every check passed"
