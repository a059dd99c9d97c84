#!/bin/sh
# Link efficiency of a whole update (issue 5): for each modem, UART rate and radio, one device
# updates itself -- GET /version, GET /ota.json, the 512 KiB image with Range through the image
# pipeline into its inactive slot -- over the modem emulator on virtual time, against nginx on
# loopback (cellota-update-bench). Efficiency = image bytes per second from the start of the
# check to the staged image, as a percentage of min(UART line rate at 8N1, radio downlink rate).
# One line per case: link: model=M baud=B radio=R efficiency=P%
# Every case runs with RTS/CTS hardware flow control, the wiring docs/agent.md recommends: with
# it the SIM7600 pushes its data (no read command per 1500 bytes); the other three read in
# manual mode either way. The SIM7600 without RTS/CTS (manual reads) is printed after, as
# "link-manual:" lines, for comparison.
set -eu
: "${CELLOTA_BIN:?}" "${CELLOTA_SOURCE:?}"
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
www=$lib_scratch/www
mkdir -p "$www"
head -c 524288 /dev/urandom >"$lib_scratch/firmware.bin"
lib_start_nginx "$www"
"$CELLOTA_BIN/cellota" pack "$lib_scratch/firmware.bin" --version 1.0.0 --out "$www/1.0.0" \
    --url "http://127.0.0.1:$nginx_port/1.0.0/image.ebin" --load-addr 0 >/dev/null
cp "$www/1.0.0/ota.json" "$www/ota.json"
echo 1.0.0 >"$www/version"
chmod -R a+rX "$www"
status=0
# measure LABEL MODEL BAUD RADIO [options]: one whole update, its line printed as "LABEL: ...";
# a failed update prints why and makes the script fail.
measure() {
    label=$1 model=$2 baud=$3 radio=$4
    shift 4
    if line=$("$CELLOTA_BIN/cellota-update-bench" --model "$model" --baud "$baud" \
        --radio "$radio" --server "http://127.0.0.1:$nginx_port" "$@" 2>"$lib_scratch/details"); then
        echo "$line" | sed "s/^link:/$label:/"
    else
        echo "$label: model=$model baud=$baud radio=$radio failed:" >&2
        cat "$lib_scratch/details" >&2
        status=1
    fi
}
for model in sim7600 sim7000 sim7070 sim800; do
    for baud in 115200 921600; do
        for radio in cat1 catm1 gprs; do
            measure link "$model" "$baud" "$radio" --flow-control
        done
    done
done
for baud in 115200 921600; do
    for radio in cat1 catm1 gprs; do
        measure link-manual sim7600 "$baud" "$radio"
    done
done
exit $status
