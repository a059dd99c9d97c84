#!/bin/sh
# cellota-server over MQTT/TLS with its own certificate (--certs, the folder of `cellota certs
# init`), against mosquitto configured by `cellota certs mosquitto` (client certificates
# required, the per-device ACL, the CRL):
#   1. a campaign of two devices, one revoked before it began: the other -- cellota-device over
#      an emulated SIM7600's own TLS with its device certificate -- is sent the request over
#      MQTT/TLS and confirms; the revoked one is skipped (reason REVOKED) and the API shows it
#      revoked;
#   2. a device revoked while the server runs: the server sees it without a restart, and the
#      broker, given the new CRL, refuses its certificate;
#   3. a server whose --mqtt-ca is another CA refuses the broker with a clear error and never
#      connects; a --mqtt-key that is not the certificate's is refused at start (exit 3).
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
lib_label="server tls"

cellota=$CELLOTA_BIN/cellota
device_bin=$CELLOTA_BIN/cellota-device
w=$lib_scratch/work
mkdir -p "$w"
started=$(date +%s)

say() { echo "server tls ($(($(date +%s) - started)) s): $*"; }

# wait_json PATH FIELD VALUE SECONDS: the API's answer at PATH has FIELD = VALUE.
wait_json() {
    limit=$(($(date +%s) + $4))
    while [ "$(date +%s)" -le "$limit" ]; do
        if [ "$(lib_api GET "$1" | lib_json "$2" 2>/dev/null)" = "$3" ]; then return 0; fi
        sleep 0.3
    done
    return 1
}

# --- the project's certificates, the broker, the server over TLS ------------------------------
"$cellota" certs init --dir "$w/pki" --hosts localhost,127.0.0.1 >/dev/null
for id in tls-1 tls-2 tls-3; do "$cellota" certs device "$id" --dir "$w/pki" >/dev/null; done
"$cellota" certs init --dir "$w/rogue" --hosts localhost,127.0.0.1 >/dev/null
lib_start_tls_mosquitto "$w/pki"
lib_start_server tls --certs "$w/pki" --mqtt "localhost:$mosquitto_port"
lib_wait_for "$server_log" "mqtt: connected" 10 ||
    fail "the server did not connect over TLS: $(tail -n 5 "$server_log")"
grep -q "mqtt over TLS localhost:$mosquitto_port" "$server_log" || fail "the start line does not say TLS"
grep -q "u'cellota-server'" "$mosquitto_log" || fail "the broker did not see the server's certificate"
curl -s -o "$w/server.pub.pem" "$server_url/keys/server.pub.pem"
head -c 12000 /dev/urandom >"$w/firmware.bin"
lib_api POST "/api/releases?version=1.1.0" --data-binary @"$w/firmware.bin" >/dev/null
[ "$api_status" = 201 ] || fail "upload: $api_status"
say "server connected to the broker over TLS as cellota-server"

# --- 1. a campaign over MQTT/TLS; tls-2 revoked before it -------------------------------------
"$cellota" certs revoke tls-2 --dir "$w/pki" >/dev/null
lib_launch_modem "$w/tls-1.modem" sim7600
lib_background tls-1 "$device_bin" --port "$modem_pty" --modem sim7600 --flash "$w/tls-1.flash" \
    --server "$server_url/mqtt-only" --mqtt "localhost:$mosquitto_port" --mqtt-tls --id tls-1 \
    --certs "$w/pki" --pub "$w/server.pub.pem" --poll-interval 0
wait_json /api/devices/tls-1 online true 90 ||
    fail "tls-1 never reported over MQTT/TLS: $(tail -n 5 "$lib_scratch/tls-1.log")"
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["tls-1","tls-2"],"timeout_s":300}' \
    >"$w/c.json"
[ "$api_status" = 201 ] || fail "campaign: $api_status $(cat "$w/c.json")"
c=$(lib_json id <"$w/c.json")
wait_json "/api/campaigns/$c" state completed 150 ||
    fail "campaign not completed: $(lib_api GET "/api/campaigns/$c")"
lib_api GET "/api/campaigns/$c" >"$w/c-done.json"
[ "$(lib_json counts.confirmed <"$w/c-done.json")" = 1 ] || fail "tls-1 confirmed: $(cat "$w/c-done.json")"
[ "$(lib_json counts.skipped <"$w/c-done.json")" = 1 ] || fail "tls-2 skipped: $(cat "$w/c-done.json")"
lib_api GET "/api/campaigns/$c/devices?state=skipped" >"$w/skipped.json"
grep -q '"device":"tls-2"' "$w/skipped.json" && grep -q '"reason":"REVOKED"' "$w/skipped.json" ||
    fail "tls-2 not skipped as REVOKED: $(cat "$w/skipped.json")"
[ "$(lib_api GET /api/devices/tls-2 | lib_json revoked)" = True ] ||
    [ "$(lib_api GET /api/devices/tls-2 | lib_json revoked)" = true ] || fail "the API does not show tls-2 revoked"
lib_api GET /api/devices/tls-1 | grep -q '"revoked":false' || fail "the API shows tls-1 revoked"
grep -q "cellota/tls-1/update" "$mosquitto_log" || grep -q "campaign $c: device tls-1 pending -> notified" "$server_log" ||
    fail "the request did not go over the broker"
grep -q "campaign $c: device tls-2 .*notified" "$server_log" && fail "a request was sent to the revoked tls-2"
say "campaign $c: tls-1 confirmed over MQTT/TLS, tls-2 skipped REVOKED"

# --- 2. revoked while the server runs; the broker refuses it once it has the new CRL ----------
"$cellota" certs revoke tls-1 --dir "$w/pki" >/dev/null
wait_json /api/devices/tls-1 revoked true 5 || fail "the server did not see tls-1's revocation"
grep -q "revocation: 2 devices revoked" "$server_log" || fail "the server did not log the new CRL"
kill -TERM "$background_pid" 2>/dev/null || true
wait "$background_pid" 2>/dev/null || true
# SIGHUP makes mosquitto read its configuration again, the CRL with it
kill -HUP "$mosquitto_pid"
lib_wait_for "$mosquitto_log" "Reloading config" 5 || fail "the broker did not reload"
sleep 0.5
tls="-h localhost -p $mosquitto_port --cafile $w/pki/ca.crt"
# shellcheck disable=SC2086
mosquitto_pub $tls --cert "$w/pki/tls-1.crt" --key "$w/pki/tls-1.key" -t cellota/tls-1/status \
    -m revoked -q 1 2>/dev/null && fail "the broker still takes tls-1's certificate"
# shellcheck disable=SC2086
mosquitto_pub $tls --cert "$w/pki/tls-3.crt" --key "$w/pki/tls-3.key" -t cellota/tls-3/status \
    -m '{"state":"idle","version":"1.0.0"}' -q 1 || fail "the broker refuses tls-3 too"
wait_json /api/devices/tls-3 version 1.0.0 20 || fail "the server did not hear tls-3 after the reload"
say "tls-1 revoked while running: the server knows it, the broker refuses it, tls-3 still reports"

# --- 3. the wrong CA; a key that is not the certificate's --------------------------------------
"$CELLOTA_BIN/cellota-server" --http 127.0.0.1:0 --store "$w/wrong-store" --token test-token-0123456789 \
    --certs "$w/pki" --mqtt-ca "$w/rogue/ca.crt" --mqtt "localhost:$mosquitto_port" \
    >"$w/wrong.log" 2>&1 &
wrong=$!
lib_pids="$lib_pids $wrong"
lib_wait_for "$w/wrong.log" "TLS with the broker failed" 15 ||
    fail "a server with another CA did not say why it cannot connect: $(cat "$w/wrong.log")"
grep -q "certificate verify failed" "$w/wrong.log" || fail "the error does not say the certificate failed"
sleep 2
grep -q "mqtt: connected" "$w/wrong.log" && fail "a server with another CA connected"
kill -TERM "$wrong" 2>/dev/null || true
wait "$wrong" 2>/dev/null || true
set +e
"$CELLOTA_BIN/cellota-server" --http 127.0.0.1:0 --store "$w/key-store" --token test-token-0123456789 \
    --mqtt-ca "$w/pki/ca.crt" --mqtt-cert "$w/pki/server.crt" --mqtt-key "$w/pki/tls-3.key" \
    >"$w/key.log" 2>&1
status=$?
set -e
[ "$status" = 3 ] || fail "a key of another certificate: exit $status (expected 3)"
grep -q "is not the key of" "$w/key.log" || fail "the key refusal: $(cat "$w/key.log")"
say "another CA refused with 'certificate verify failed'; a mismatched key refused at start"

if [ "$failures" -ne 0 ]; then
    echo "server tls: $failures failures; logs in $lib_scratch" >&2
    KEEP_SCRATCH=1
    exit 1
fi
echo "server tls: every check passed"
