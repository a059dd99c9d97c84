#!/bin/sh
# The README's commands in order, every program with its defaults: mosquitto on 127.0.0.1:1883,
# `cellota-server` with no options (127.0.0.1:8080, ./cellota-store), the server's public key
# fetched for provisioning, `cellota-modem`, `cellota-device` with no --server and no --mqtt,
# then `cellota release upload`, `cellota campaign create` and `cellota campaign wait` with no
# --server and no token given (./cellota-store/token). It passes only if the defaults agree end
# to end: the device installs and confirms the release.
#
# The fixed ports must not meet anything else on this machine, so the test runs in a network
# namespace of its own (unshare -n, as root) with only a loopback interface.
set -eu
: "${CELLOTA_BIN:?CELLOTA_BIN must name the folder holding the binaries}"
: "${CELLOTA_SOURCE:?CELLOTA_SOURCE must name the source tree}"
if [ -z "${CELLOTA_IN_NAMESPACE:-}" ]; then
    if ! unshare -n true 2>/dev/null; then
        echo "FAIL: this test needs a network namespace of its own (unshare -n, as root)" >&2
        exit 1
    fi
    CELLOTA_IN_NAMESPACE=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up

work=$(mktemp -d "${TMPDIR:-/tmp}/cellota-readme.XXXXXX")
pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    if [ -z "${KEEP_SCRATCH:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$work"
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
# wait_for FILE TEXT SECONDS
wait_for() {
    tries=0
    while [ $tries -lt $(($3 * 10)) ]; do
        if grep -qF -- "$2" "$1" 2>/dev/null; then return 0; fi
        tries=$((tries + 1))
        sleep 0.1
    done
    return 1
}
show_logs() {
    for log in "$work"/*.log; do
        echo "--- $log" >&2
        tail -n 20 "$log" >&2
    done
}

# A broker on 127.0.0.1:1883 (the Debian package's own port). Started as root, mosquitto drops
# to its user before opening its log.
chmod o+x "$work"
mkdir -m 1777 broker
printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest file %s\n' \
    "$work/broker/mosquitto.log" >broker/mosquitto.conf
/usr/sbin/mosquitto -c broker/mosquitto.conf >/dev/null 2>&1 &
pids="$pids $!"
wait_for broker/mosquitto.log "listen socket on port 1883" 5 || fail "mosquitto did not start"

"$CELLOTA_BIN/cellota-server" >server.log 2>&1 &
pids="$pids $!"
wait_for server.log "http on 127.0.0.1:8080" 10 || fail "cellota-server did not start on its default"
wait_for server.log "mqtt: connected" 10 || fail "cellota-server did not reach the default broker"
curl -sf http://127.0.0.1:8080/keys/server.pub.pem >server.pub.pem || fail "no public key"

"$CELLOTA_BIN/cellota-modem" --model sim7600 >modem.log 2>&1 &
pids="$pids $!"
wait_for modem.log /dev/ 5 || fail "cellota-modem did not start"
pty=$(head -n 1 modem.log)
"$CELLOTA_BIN/cellota-device" --port "$pty" --modem sim7600 --flash device.flash \
    --pub server.pub.pem >device.log 2>&1 &
pids="$pids $!"
wait_for device.log "state: up_to_date" 60 || fail "the device's first check did not end up to date"

head -c 40000 /dev/urandom >fw.bin
"$CELLOTA_BIN/cellota" release upload fw.bin --version 1.1.0 >upload.log 2>&1 ||
    fail "release upload with the defaults: $(cat upload.log)"
"$CELLOTA_BIN/cellota" campaign create --release 1.1.0 >campaign.log 2>&1 ||
    fail "campaign create with the defaults: $(cat campaign.log)"
"$CELLOTA_BIN/cellota" campaign wait 1 --interval 1 --timeout 120 >wait.log 2>&1 ||
    fail "the campaign did not complete: $(tail -n 3 wait.log)"
grep -q "running 1.1.0, the newest version, confirmed" device.log ||
    fail "the device does not say it runs 1.1.0"
"$CELLOTA_BIN/cellota" devices >devices.log 2>&1 || fail "devices with the defaults"
grep -q "^cellota-device  *sim7600  *1.1.0 " devices.log ||
    fail "the server does not list cellota-device on 1.1.0: $(cat devices.log)"

if [ "$failures" -ne 0 ]; then
    show_logs
    exit 1
fi
echo "the README's commands with every default: the device confirmed 1.1.0"
