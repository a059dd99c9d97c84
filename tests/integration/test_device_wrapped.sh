#!/bin/sh
# What protects a SIM800L, which has no usable TLS: everything it receives travels in the clear
# (plain MQTT, plain HTTP), so the request must be signed and its image key wrapped to the
# device's own key. Through an emulated SIM800 against a real (anonymous, plain) mosquitto and
# nginx:
#   - an eavesdropper's copy of the request decrypts nothing (`cellota verify` of it fails);
#   - unsigned, tampered, replayed (older) and other-device requests are each refused with
#     their own error, before any image byte is fetched;
#   - the request wrapped for this device installs and is confirmed;
#   - cellota-device refuses to start without --pub unless told to trust the channel.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
lib_label=wrapped

cellota=$CELLOTA_BIN/cellota
device_bin=$CELLOTA_BIN/cellota-device
w=$lib_scratch/work
mkdir -p "$w/www"

"$cellota" keygen --out "$w/operator.pem" >/dev/null
"$cellota" certs init --dir "$w/pki" >/dev/null
"$cellota" certs device wrap-a --dir "$w/pki" >/dev/null
"$cellota" certs device wrap-b --dir "$w/pki" >/dev/null
lib_start_nginx "$w/www"
lib_start_mosquitto
base=http://127.0.0.1:$nginx_port
head -c 20000 /dev/urandom >"$w/firmware-1.1.0.bin"
head -c 21000 /dev/urandom >"$w/firmware-0.5.0.bin"
for version in 1.1.0 0.5.0; do
    "$cellota" pack "$w/firmware-$version.bin" --version "$version" --out "$w/www/$version" \
        --sign "$w/operator.pem" --url "$base/$version/image.ebin" --load-addr 0 >/dev/null
done
# no polling answer: the requests come over MQTT only
echo 0.0.0 >"$w/www/version"
chmod -R a+rX "$w/www"
r=$w/www/1.1.0/ota.json
"$cellota" wrap "$r" --device wrap-a --cert "$w/pki/wrap-a.crt" --sign "$w/operator.pem" \
    --out "$w/for-a.json"
"$cellota" wrap "$r" --device wrap-b --cert "$w/pki/wrap-b.crt" --sign "$w/operator.pem" \
    --out "$w/for-b.json"
"$cellota" wrap "$w/www/0.5.0/ota.json" --device wrap-a --cert "$w/pki/wrap-a.crt" \
    --sign "$w/operator.pem" --out "$w/old-for-a.json"
"$cellota" wrap "$r" --device wrap-a --cert "$w/pki/wrap-a.crt" --out "$w/unsigned-for-a.json"
sed 's/"version":\t*"1.1.0"/"version":"1.1.1"/; s/"version": *"1.1.0"/"version":"1.1.1"/' \
    "$w/for-a.json" >"$w/tampered-for-a.json"
cmp -s "$w/for-a.json" "$w/tampered-for-a.json" && fail "the tampered request is not tampered"

# The eavesdropper: the request on the wire carries no usable key.
if "$cellota" verify --request "$w/for-a.json" --image "$w/www/1.1.0/image.ebin" \
    --out "$w/stolen.bin" 2>"$w/eavesdropper.txt"; then
    fail "the wrapped request decrypts the image without the device's key"
fi
grep -q "IMAGE_BAD_PADDING\|IMAGE_PLAIN_HASH_MISMATCH" "$w/eavesdropper.txt" ||
    fail "eavesdropper: $(cat "$w/eavesdropper.txt")"

# Signed requests by default.
if "$device_bin" --port /dev/null --modem sim800 --flash "$w/x.flash" --server "$base" \
    2>"$w/nopub.txt"; then fail "cellota-device started without --pub"; fi
grep -q -- "--pub is required" "$w/nopub.txt" || fail "no --pub: $(cat "$w/nopub.txt")"

lib_background status mosquitto_sub -h 127.0.0.1 -p "$mosquitto_port" -v -t 'cellota/#'
status_log=$lib_scratch/status.log
sleep 0.3
lib_start_modem sim800
lib_background device "$device_bin" --port "$modem_pty" --modem sim800 --flash "$w/a.flash" \
    --server "$base" --mqtt "127.0.0.1:$mosquitto_port" --id wrap-a --pub "$w/operator.pub.pem" \
    --device-key "$w/pki/wrap-a.key" --require-wrapped --poll-interval 0
device_pid=$background_pid
device_log=$lib_scratch/device.log

# send FILE ERROR_NAME: publish a request; the device must refuse it with that error.
send() {
    before=$(grep -c "\"error_name\":\"$2\"" "$status_log" || true)
    mosquitto_pub -h 127.0.0.1 -p "$mosquitto_port" -q 1 -t cellota/wrap-a/update -f "$1"
    tries=0
    while [ $tries -lt 300 ]; do
        now=$(grep -c "\"error_name\":\"$2\"" "$status_log" || true)
        [ "$now" -gt "$before" ] && return 0
        tries=$((tries + 1))
        sleep 0.1
    done
    fail "$(basename "$1"): not refused with $2"
}

if lib_wait_for "$status_log" 'cellota/wrap-a/status {"state":"' 120; then
    sleep 1 # subscribed
    send "$w/unsigned-for-a.json" IMAGE_SIGNATURE_MISSING
    send "$w/tampered-for-a.json" IMAGE_SIGNATURE_INVALID
    send "$w/for-b.json" IMAGE_REQUEST_OTHER_DEVICE
    send "$w/www/1.1.0/ota.json" IMAGE_KEY_NOT_WRAPPED
    if grep -q "GET /1.1.0/image.ebin" "$nginx_log"; then
        fail "an image was fetched for a refused request"
    fi
    mosquitto_pub -h 127.0.0.1 -p "$mosquitto_port" -q 1 -t cellota/wrap-a/update -f "$w/for-a.json"
    lib_wait_for "$status_log" 'cellota/wrap-a/status {"state":"confirmed","version":"1.1.0"' 180 ||
        fail "the wrapped request was not installed: $(tail -n 5 "$device_log")"
    # replayed: an older release's request, validly signed and wrapped for this device
    sleep 1
    send "$w/old-for-a.json" AGENT_NOT_NEWER
    if grep -q "GET /0.5.0/image.ebin" "$nginx_log"; then fail "the replayed image was fetched"; fi
else
    fail "the device did not come up: $(tail -n 5 "$device_log")"
fi
kill -TERM "$device_pid" 2>/dev/null || true
wait "$device_pid" 2>/dev/null || true
if [ "$failures" -ne 0 ]; then
    echo "wrapped: $failures failures; logs in $lib_scratch" >&2
    KEEP_SCRATCH=1
    exit 1
fi
echo "wrapped: SIM800 over plain MQTT/HTTP: unsigned, tampered, replayed, other-device and clear-key requests refused; the wrapped request installed; the eavesdropped request decrypts nothing"
