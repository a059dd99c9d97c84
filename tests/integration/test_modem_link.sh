#!/bin/sh
# The modem layer end to end (issue 4): for each of the four SIMCom dialects, the device's modem
# driver opens a TCP socket through the modem emulator (in-process, virtual time, real sockets)
# to nginx on loopback and fetches a 512 KiB file byte-exact; then again with each fault on.
# Every byte the socket passes up is compared with the file as it arrives (cellota-link exits 1
# and says "corrupt" if one differs), and each fault must be reported by the socket layer and
# resumed with an HTTP Range request.
set -eu
: "${CELLOTA_BIN:?}" "${CELLOTA_SOURCE:?}"
link=$CELLOTA_BIN/cellota-link
work=$(mktemp -d "${TMPDIR:-/tmp}/cellota-link.XXXXXX")
. "$CELLOTA_SOURCE/scripts/servers.sh"
trap 'stop_servers; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

mkdir -p "$work/www"
head -c 524288 /dev/urandom >"$work/www/firmware.bin"
start_nginx "$work/www" "$work"
url=http://127.0.0.1:$nginx_port/firmware.bin
failures=0

# run NAME MIN_FAULTS ARGS...: the fetch must succeed byte-exact with at least MIN_FAULTS faults
# reported (so a fault that was never injected cannot pass for one that was handled).
run() {
    name=$1
    min_faults=$2
    shift 2
    if ! "$link" fetch --url "$url" --expect "$work/www/firmware.bin" "$@" >"$work/out" 2>"$work/err"; then
        echo "FAIL: $name: $*" >&2
        cat "$work/out" "$work/err" >&2
        failures=$((failures + 1))
        return 0
    fi
    faults=$(sed -n 's/.* faults=\([0-9]*\) .*/\1/p' "$work/out")
    if [ "$faults" -lt "$min_faults" ]; then
        echo "FAIL: $name: expected at least $min_faults faults, saw $faults" >&2
        failures=$((failures + 1))
    fi
    echo "$name: $(cat "$work/out")"
}

# faults LABEL OPTIONS...: a clean fetch, then one with each fault on.
faults() {
    label=$1
    shift
    run "$label clean" 0 "$@" --radio cat1
    run "$label corrupt" 1 "$@" --radio cat1 --parity --corrupt-rate 0.00002 --seed 3
    run "$label drop" 1 "$@" --radio cat1 --drop-rate 0.00002 --seed 5
    run "$label close" 1 "$@" --radio cat1 --close-after 150000
    run "$label reset" 1 "$@" --radio cat1 --reset-after 200000
    run "$label registration" 1 "$@" --radio cat1 \
        --lose-registration-at 20000 --lose-registration-for 5000
}

for model in sim7600 sim7000 sim7070 sim800; do
    faults "$model" --model "$model"
done
# With RTS/CTS the SIM7600 pushes its data (cellota_sim7600_pushed): no read replies frame the
# bytes, so a dropped byte must be caught by the block's trailer or the lost header's text.
faults "sim7600 pushed" --model sim7600 --flow-control

# With bit errors and no parity the UART cannot tell: the socket may pass damaged bytes up, which
# is why cellota runs the link 8E1 and why the image hashes exist. cellota-link must notice.
if "$link" fetch --url "$url" --expect "$work/www/firmware.bin" --model sim7600 --radio cat1 \
    --corrupt-rate 0.0001 --seed 9 >"$work/out" 2>"$work/err"; then
    echo "FAIL: undetectable corruption went unnoticed by the byte comparison" >&2
    failures=$((failures + 1))
elif ! grep -q "result=corrupt" "$work/out"; then
    echo "FAIL: without parity, expected result=corrupt" >&2
    cat "$work/out" "$work/err" >&2
    failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] || { echo "$failures failures" >&2; exit 1; }
echo "modem link: every dialect fetched 512 KiB byte-exact, clean and under each fault"
