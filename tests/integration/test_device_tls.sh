#!/bin/sh
# Devices over TLS through their modems' own TLS: cellota-device writes the project's CA and its
# certificate and key into the emulated modem (AT+CCERTDOWN on a SIM7600; AT+CFSWFILE and
# AT+CSSLCFG="convert" on a SIM7070), which presents the certificate and verifies the servers
# with mbedTLS. Against a real mosquitto configured by `cellota certs mosquitto` (client
# certificates required, the topic ACL) and nginx over HTTPS with the project's server
# certificate:
#   1. SIM7600: polls /version and /ota.json and downloads the image over HTTPS, reports over
#      MQTT/TLS, then installs an update request the server's certificate publishes on its
#      update topic;
#   2. SIM7070 and SIM7000: the same poll and report through the CA dialect's certificate
#      commands;
#   3. a device whose modem holds another CA refuses the HTTPS server (AT_TLS_FAILED);
#   4. the broker saw each device under its certificate's name, and refused none of them.
MODEL=sim7600
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
lib_label=tls

cellota=$CELLOTA_BIN/cellota
device_bin=$CELLOTA_BIN/cellota-device
w=$lib_scratch/work
mkdir -p "$w/www"


# --- the project's certificates, the broker, the HTTPS server ---------------------------------
"$cellota" certs init --dir "$w/pki" --hosts localhost,127.0.0.1 >/dev/null
for id in tls-a tls-b tls-c tls-e; do "$cellota" certs device "$id" --dir "$w/pki" >/dev/null; done
"$cellota" certs init --dir "$w/rogue" >/dev/null
"$cellota" certs device tls-d --dir "$w/rogue" >/dev/null
# a device certificate whose name is the server's: only its key usage (clientAuth) tells
"$cellota" certs device localhost --dir "$w/pki" >/dev/null
lib_start_tls_mosquitto "$w/pki"

https_port=$(random_port https)
impostor_port=$(random_port impostor)
# A second server block serves the same files with a device's certificate (closing the block
# lib_start_nginx opens and opening another).
lib_start_nginx "$w/www" "listen 127.0.0.1:$https_port ssl; ssl_certificate $w/pki/server.crt; ssl_certificate_key $w/pki/server.key; } server { listen 127.0.0.1:$impostor_port ssl; root $w/www; ssl_certificate $w/pki/localhost.crt; ssl_certificate_key $w/pki/localhost.key;"
base=https://localhost:$https_port

"$cellota" keygen --out "$w/operator.pem" >/dev/null
head -c 30000 /dev/urandom >"$w/firmware-1.1.0.bin"
head -c 32000 /dev/urandom >"$w/firmware-1.2.0.bin"
for version in 1.1.0 1.2.0; do
    "$cellota" pack "$w/firmware-$version.bin" --version "$version" --out "$w/www/$version" \
        --sign "$w/operator.pem" --url "$base/$version/image.ebin" --load-addr 0 >/dev/null
done
cp "$w/www/1.1.0/ota.json" "$w/www/ota.json"
echo 1.1.0 >"$w/www/version"
chmod -R a+rX "$w/www"

tls="-h localhost -p $mosquitto_port --cafile $w/pki/ca.crt"
# shellcheck disable=SC2086
lib_background status mosquitto_sub $tls --cert "$w/pki/server.crt" --key "$w/pki/server.key" \
    -v -t 'cellota/#'
status_log=$lib_scratch/status.log
sleep 0.5

# device NAME MODEL [options]: one cellota-device run on a fresh emulated modem.
device() {
    name=$1
    model=$2
    shift 2
    lib_start_modem "$model"
    set +e
    timeout 300 "$device_bin" --port "$modem_pty" --modem "$model" --flash "$w/$name.flash" \
        --server "$base" --mqtt "localhost:$mosquitto_port" --mqtt-tls --id "$name" \
        --pub "$w/operator.pub.pem" "$@" >>"$w/$name.out" 2>&1
    device_status=$?
    set -e
    lib_stop_modem
}

# --- 1. SIM7600: HTTPS poll and download, MQTT/TLS status, then an MQTT request --------------
device tls-a sim7600 --certs "$w/pki" --once
[ "$device_status" -eq 0 ] || fail "sim7600: --once exits $device_status: $(tail -n 5 "$w/tls-a.out")"
contains "$w/tls-a.out" "TLS credentials written into the modem: CA certificate and key" ||
    fail "sim7600: credentials not written"
contains "$w/tls-a.out" "running 1.1.0, the newest version, confirmed" || fail "sim7600: not 1.1.0"
lib_wait_for "$status_log" 'cellota/tls-a/status {"state":"confirmed","version":"1.1.0"' 10 ||
    fail "sim7600: no confirmed status over MQTT/TLS"
grep -q 'GET /1.1.0/image.ebin' "$nginx_log" || fail "sim7600: the image did not come over HTTPS"

lib_start_modem sim7600
lib_background mqtt_device "$device_bin" --port "$modem_pty" --modem sim7600 \
    --flash "$w/tls-a.flash" --server "$base" --mqtt "localhost:$mosquitto_port" --mqtt-tls \
    --id tls-a --certs "$w/pki" --pub "$w/operator.pub.pem" --poll-interval 0
mqtt_device=$background_pid
if lib_wait_for "$lib_scratch/mqtt_device.log" "running 1.1.0, the newest version" 120; then
    sleep 1 # subscribed
    # shellcheck disable=SC2086
    mosquitto_pub $tls --cert "$w/pki/server.crt" --key "$w/pki/server.key" -q 1 \
        -t cellota/tls-a/update -f "$w/www/1.2.0/ota.json"
    lib_wait_for "$status_log" 'cellota/tls-a/status {"state":"confirmed","version":"1.2.0"' 120 ||
        fail "sim7600: the MQTT/TLS request for 1.2.0 was not installed"
else
    fail "sim7600: the MQTT device did not come up: $(tail -n 5 "$lib_scratch/mqtt_device.log")"
fi
kill -TERM "$mqtt_device" 2>/dev/null || true
wait "$mqtt_device" 2>/dev/null || true
lib_stop_modem
echo "tls: sim7600: HTTPS poll and download, MQTT/TLS status and request, mutual TLS"

# --- 2. SIM7070: the CA dialect's certificate files ------------------------------------------
device tls-b sim7070 --certs "$w/pki" --once
[ "$device_status" -eq 0 ] || fail "sim7070: --once exits $device_status: $(tail -n 5 "$w/tls-b.out")"
lib_wait_for "$status_log" 'cellota/tls-b/status {"state":"confirmed","version":"1.1.0"' 10 ||
    fail "sim7070: no confirmed status over MQTT/TLS"
echo "tls: sim7070: HTTPS poll and download, MQTT/TLS status"
device tls-e sim7000 --certs "$w/pki" --once
[ "$device_status" -eq 0 ] || fail "sim7000: --once exits $device_status: $(tail -n 5 "$w/tls-e.out")"
lib_wait_for "$status_log" 'cellota/tls-e/status {"state":"confirmed","version":"1.1.0"' 10 ||
    fail "sim7000: no confirmed status over MQTT/TLS"
echo "tls: sim7000: HTTPS poll and download, MQTT/TLS status"

# --- 3. another CA in the modem: the HTTPS server is refused ---------------------------------
# The device retries with back-off for minutes before it gives up: the first refusal is enough.
lib_start_modem sim7600
lib_background rogue "$device_bin" --port "$modem_pty" --modem sim7600 --flash "$w/tls-c.flash" \
    --server "$base" --mqtt "localhost:$mosquitto_port" --mqtt-tls --id tls-c \
    --ca "$w/rogue/ca.crt" --cert "$w/pki/tls-c.crt" --key "$w/pki/tls-c.key" \
    --pub "$w/operator.pub.pem" --once
rogue=$background_pid
lib_wait_for "$lib_scratch/rogue.log" "AT_TLS_FAILED" 90 ||
    fail "rogue CA: not refused as a TLS failure: $(tail -n 3 "$lib_scratch/rogue.log")"
kill -TERM "$rogue" 2>/dev/null || true
wait "$rogue" 2>/dev/null || true
lib_stop_modem
if grep -q 'cellota/tls-c/' "$status_log"; then fail "rogue CA: the device reached the broker"; fi
if grep -q "running 1.1.0" "$lib_scratch/rogue.log"; then fail "rogue CA: the device updated"; fi
echo "tls: a server certificate from another CA is refused (AT_TLS_FAILED)"

# --- 3b. a server presenting a device's certificate (right CA, right name, clientAuth only) ---
lib_start_modem sim7600
lib_background impostor "$device_bin" --port "$modem_pty" --modem sim7600 --flash "$w/tls-f.flash" \
    --server "https://localhost:$impostor_port" --id tls-c --ca "$w/pki/ca.crt" \
    --cert "$w/pki/tls-c.crt" --key "$w/pki/tls-c.key" --pub "$w/operator.pub.pem" --once
impostor=$background_pid
lib_wait_for "$lib_scratch/impostor.log" "AT_TLS_FAILED" 90 ||
    fail "a device certificate served as the server's was not refused: $(tail -n 3 "$lib_scratch/impostor.log")"
kill -TERM "$impostor" 2>/dev/null || true
wait "$impostor" 2>/dev/null || true
lib_stop_modem
if grep -q "running 1.1.0" "$lib_scratch/impostor.log"; then fail "impostor: the device updated"; fi
echo "tls: a device's certificate posing as the server is refused (clientAuth only)"

# --- 4. a device certificate from another CA: the broker refuses the modem's handshake --------
lib_start_modem sim7600
lib_background rogue_device "$device_bin" --port "$modem_pty" --modem sim7600 \
    --flash "$w/tls-d.flash" --server "$base" --mqtt "localhost:$mosquitto_port" --mqtt-tls \
    --id tls-d --ca "$w/pki/ca.crt" --cert "$w/rogue/tls-d.crt" --key "$w/rogue/tls-d.key" \
    --pub "$w/operator.pub.pem" --poll-interval 0
rogue=$background_pid
refusals=$(grep -c "certificate verify failed" "$mosquitto_log" || true)
tries=0
while [ "$(grep -c "certificate verify failed" "$mosquitto_log" || true)" -le "$refusals" ] &&
    [ $tries -lt 600 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
[ $tries -lt 600 ] || fail "another CA's device certificate: the broker did not refuse it"
kill -TERM "$rogue" 2>/dev/null || true
wait "$rogue" 2>/dev/null || true
lib_stop_modem
if grep -q 'cellota/tls-d/' "$status_log"; then fail "another CA's device reached the broker"; fi
echo "tls: a device certificate from another CA is refused by the broker"

# --- 5. what the broker saw --------------------------------------------------------------------
grep -q "as tls-a (p2, c0, k" "$mosquitto_log" || grep -q "u'tls-a'" "$mosquitto_log" ||
    fail "broker: tls-a not identified by its certificate"
if [ "$failures" -ne 0 ]; then
    echo "tls: $failures failures; logs in $lib_scratch" >&2
    KEEP_SCRATCH=1
    exit 1
fi
echo "tls: every check passed"
