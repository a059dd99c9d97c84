#!/bin/sh
# `make demo`: cellota's main job as an operator sees it, on this machine. mosquitto and
# cellota-server (SQLite) start on 127.0.0.1 (random free ports); a dozen devices start --
# cellota-device over cellota-modem, three of each SIMCom model (SIM7600 with RTS/CTS, one of
# them staging into the modem's own files on an nRF52840 layout; SIM7000 and SIM7070 on LTE-M;
# SIM800L on GPRS), each long-running with MQTT and polling. The operator uploads a release with
# `cellota release upload`, rolls it out in three stages (10%, 50%, 100%) with `cellota campaign
# create`, and follows it to completion with `cellota campaign wait`. A summary follows (devices,
# confirmed, wall time, bytes, cost); then the device-level story, shorter: the same request and
# image checked as a device checks them, a tampered image and a forged request refused, and seed
# 002's fleet priced.
#
# From a terminal it then leaves the dashboard up, its URL and token printed, until Ctrl-C;
# without one (a script, CI) it stops everything and exits 0.
# usage: demo.sh BIN_DIR
set -eu
CELLOTA_BIN=$(cd "${1:-build/bin}" && pwd)
CELLOTA_SOURCE=$(cd "$(dirname "$0")/.." && pwd)
export CELLOTA_BIN CELLOTA_SOURCE
cellota=$CELLOTA_BIN/cellota
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
work=$lib_scratch/demo
mkdir -p "$work"
cd "$work"
demo_started=$(date +%s)

DEVICE_COUNT=12
RELEASE=1.1.0

heading() {
    printf '\n== %s\n' "$*"
}

die() {
    echo "demo: $*" >&2
    exit 1
}

# json FIELD: a field of the JSON on stdin ("a.b" inside an object).
json() {
    lib_json "$1"
}

heading "1. mosquitto and cellota-server (SQLite) on 127.0.0.1"
lib_start_mosquitto
# The dashboard's files are where the build put them (<bin>/../share/cellota/dashboard).
lib_start_server server
export CELLOTA_TOKEN=$server_token
server="--server $server_url"
echo "cellota-server on $server_url (store $server_store), mosquitto on 127.0.0.1:$mosquitto_port"
# Provisioning: devices verify update requests with the server's public key.
curl -sf "$server_url/keys/server.pub.pem" >server.pub.pem || die "no /keys/server.pub.pem"
echo "devices are provisioned with the server's public key: curl $server_url/keys/server.pub.pem"

heading "2. $DEVICE_COUNT devices on emulated SIMCom modems (3 x SIM7600, SIM7000, SIM7070, SIM800L)"
# start_device ID MODEL "MODEM OPTIONS" "DEVICE OPTIONS" DESCRIPTION: cellota-modem on a pty,
# then cellota-device on it, polling every minute and listening on MQTT; both stopped on exit.
start_device() {
    mkdir -p "$1"
    # shellcheck disable=SC2086
    "$CELLOTA_BIN/cellota-modem" --model "$2" $3 >"$1/modem.out" 2>&1 &
    lib_pids="$lib_pids $!"
    tries=0
    while ! head -n 1 "$1/modem.out" 2>/dev/null | grep -q '^/dev/'; do
        tries=$((tries + 1))
        [ $tries -lt 100 ] || die "cellota-modem for $1 did not start: $(cat "$1/modem.out")"
        sleep 0.1
    done
    pty=$(head -n 1 "$1/modem.out")
    # shellcheck disable=SC2086
    "$CELLOTA_BIN/cellota-device" --port "$pty" --modem "$2" --flash "$1/flash" --id "$1" \
        --server "$server_url" --mqtt "127.0.0.1:$mosquitto_port" --pub server.pub.pem \
        --poll-interval 60 $4 >"$1/device.out" 2>&1 &
    lib_pids="$lib_pids $!"
    printf '  %-10s %-8s on %-12s %s\n' "$1" "$2" "$pty" "$5"
}
mkdir -p modem-files
# RTS/CTS wired, as we recommend: the SIM7600 pushes its data.
start_device sim7600-1 sim7600 --flow-control --flow-control "LTE Cat-1, RTS/CTS (pushed data)"
start_device sim7600-2 sim7600 --flow-control --flow-control "LTE Cat-1, RTS/CTS (pushed data)"
# Seed 002: an nRF52840 whose image is staged in the modem's own files, installed by the
# bootloader into its one application slot.
start_device sim7600-3 sim7600 "--fs-dir modem-files" "--layout nrf52840-1mb --strategy modem" \
    "nRF52840, the image staged in the modem's files (seed 002)"
for number in 1 2 3; do
    start_device "sim7000-$number" sim7000 "" "" "LTE-M"
    start_device "sim7070-$number" sim7070 "" "" "LTE-M"
    start_device "sim800-$number" sim800 "" "" "GPRS"
done
echo "waiting for every device to register (its first poll and status) ..."
tries=0
while :; do
    known=$("$cellota" devices --state up_to_date --json $server | json total)
    [ "$known" -ge "$DEVICE_COUNT" ] && break
    tries=$((tries + 1))
    [ $tries -lt 240 ] || die "only $known of $DEVICE_COUNT devices registered after 2 minutes"
    sleep 0.5
done
"$cellota" devices $server

heading "3. The operator uploads a firmware: the server encrypts it, signs its request, hosts it"
head -c 67512 /dev/urandom >firmware.bin # the size of seed 002's example
"$cellota" release upload firmware.bin --version "$RELEASE" --notes "make demo" $server

heading "4. A staged campaign: 10% of the fleet, then 50%, then everyone"
campaign_started=$(date +%s)
campaign=$("$cellota" campaign create --release "$RELEASE" --stages 10,50,100 \
    --name "make demo" --json $server | json id)
echo "campaign $campaign created; each stage starts when the previous one has confirmed"
"$cellota" campaign wait "$campaign" --interval 1 --timeout 900 $server >campaign.txt ||
    { cat campaign.txt; die "the campaign did not complete with every device confirmed"; }
campaign_seconds=$(($(date +%s) - campaign_started))
cat campaign.txt
echo
"$cellota" devices $server

heading "5. Summary"
"$cellota" campaign show "$campaign" --json $server >campaign.json
confirmed=$(json counts.confirmed <campaign.json)
targeted=$(json targeted <campaign.json)
bytes=$(json bytes_served <campaign.json)
cost=$(json cost.total_usd <campaign.json)
printf '  devices        %s (SIM7600 x3, SIM7000 x3, SIM7070 x3, SIM800L x3)\n' "$targeted"
printf '  confirmed      %s of %s, each after a reboot into %s and its self-test\n' \
    "$confirmed" "$targeted" "$RELEASE"
printf '  campaign time  %s s for 3 stages (10%%, 50%%, 100%%)\n' "$campaign_seconds"
image_size=$("$cellota" release show "$RELEASE" --json $server | json size)
printf '  bytes served   %s (the image is %s bytes: %s devices x %s = %s)\n' "$bytes" \
    "$image_size" "$targeted" "$image_size" "$((targeted * image_size))"
printf '  cost           $%s with the seed-002 model (AWS prices)\n' "$cost"
[ "$confirmed" = "$DEVICE_COUNT" ] || die "$confirmed of $DEVICE_COUNT devices confirmed"

heading "6. What a device checks: the same request and image, with the device's own library"
mkdir -p device
curl -sf "$server_url/ota.json" >device/ota.json # the newest release's request (seed 000)
url=$(json url <device/ota.json)
curl -sf "$url" >device/image.ebin
"$cellota" verify --request device/ota.json --image device/image.ebin --pub server.pub.pem \
    --out device/firmware.bin
cmp -s firmware.bin device/firmware.bin || die "the decrypted firmware differs from the upload"
echo "the device decrypts the operator's firmware, byte for byte"
cp device/image.ebin device/tampered.ebin
printf '\000' | dd of=device/tampered.ebin bs=1 seek=1000 conv=notrunc 2>/dev/null
echo "one byte of the image changed in transit:"
if "$cellota" verify --request device/ota.json --image device/tampered.ebin \
    --pub server.pub.pem 2>&1; then
    die "a tampered image was accepted"
fi
"$lib_python" -c 'import json,sys
request = json.load(sys.stdin)
request["url"] = "http://attacker.example/image.ebin"
print(json.dumps(request))' <device/ota.json >device/forged.json
echo "the request's url pointed elsewhere by someone without the server's key:"
if "$cellota" verify --request device/forged.json --image device/image.ebin \
    --pub server.pub.pem 2>&1; then
    die "a forged request was accepted"
fi
echo
echo "seed 002's fleet: 50,000 devices, a 512 KiB image:"
"$cellota" cost --devices 50000 --image-size 512KiB --provider aws

heading "done in $(($(date +%s) - demo_started)) s: $confirmed of $targeted devices confirmed $RELEASE"
if [ -t 1 ]; then
    echo
    if [ -d "$CELLOTA_BIN/../share/cellota/dashboard" ]; then
        echo "The dashboard: $server_url/   token: $server_token"
    else
        echo "This build has no dashboard files; the API: $server_url/api/   token: $server_token"
    fi
    echo "(the devices keep running; try 'CELLOTA_TOKEN=$server_token $cellota devices $server')"
    echo "Ctrl-C stops everything."
    trap 'exit 0' INT TERM
    while kill -0 "$server_pid" 2>/dev/null; do sleep 1; done
fi
