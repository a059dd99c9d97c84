#!/bin/sh
# Socket goodput through the modem emulator (issue 4): for each dialect, a 512 KiB file fetched
# over a device socket, as a percentage of the UART line rate (8N1) at 115200 and 921600 baud.
# The radio is LTE Cat-1 for all four so the UART and the driver are what is measured (SIM7000
# and SIM800L cannot reach it on their own radios: bench/link.sh measures those limits).
# One line per case: socket: model=M baud=B goodput=P%
# Then the SIM7600 with RTS/CTS, where it pushes its data (cellota_sim7600_pushed):
# socket-pushed: model=sim7600 baud=B goodput=P%
set -eu
: "${CELLOTA_BIN:?}" "${CELLOTA_SOURCE:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/cellota-bench-socket.XXXXXX")
. "$CELLOTA_SOURCE/scripts/servers.sh"
trap 'stop_servers; rm -rf "$work"' EXIT
mkdir -p "$work/www"
head -c 524288 /dev/urandom >"$work/www/firmware.bin"
start_nginx "$work/www" "$work"
# fetch LABEL MODEL BAUD [options]: one 512 KiB fetch, printed as "LABEL: model=M baud=B goodput=P%".
fetch() {
    label=$1 model=$2 baud=$3
    shift 3
    line=$("$CELLOTA_BIN/cellota-link" fetch --model "$model" --baud "$baud" --radio cat1 "$@" \
        --url "http://127.0.0.1:$nginx_port/firmware.bin" --expect "$work/www/firmware.bin")
    goodput=$(echo "$line" | sed -n 's/.* goodput=\([0-9.]*%\).*/\1/p')
    echo "$label: model=$model baud=$baud goodput=$goodput"
}
for model in sim7600 sim7000 sim7070 sim800; do
    for baud in 115200 921600; do
        fetch socket "$model" "$baud"
    done
done
for baud in 115200 921600; do
    fetch socket-pushed sim7600 "$baud" --flow-control
done
