#!/bin/sh
# A delta update end to end: cellota-device on an emulated SIM7600 (cellota-modem, pty) polls
# nginx, installs 1.1.0 (a plain image), then 1.2.0 packed as a patch from 1.1.0 -- the patch
# is downloaded, decrypted, decoded against the running slot into the other slot, booted on
# trial by the bootloader and confirmed. A device running another image is offered the same
# patch and refuses it before downloading a byte (IMAGE_DELTA_WRONG_BASE); a compressed full
# image installs too.
set -eu
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
lib_label=delta

cellota=$CELLOTA_BIN/cellota
device_bin=$CELLOTA_BIN/cellota-device
w=$lib_scratch/work
mkdir -p "$w/www"
PAGE=4096




# Does flash file $1 hold firmware $2 at page $3?
holds() {
    size=$(wc -c <"$2" | tr -d ' ')
    dd if="$1" bs=$PAGE skip="$3" count=$(((size + PAGE - 1) / PAGE)) 2>/dev/null |
        head -c "$size" | cmp -s - "$2"
}

device() {
    name=$1
    shift
    set +e
    timeout 600 "$device_bin" --port "$modem_pty" --modem sim7600 --flash "$w/$name.flash" \
        --server "$base" --mqtt "127.0.0.1:$mosquitto_port" --id "$name" \
        --pub "$w/operator.pub.pem" "$@" >>"$w/$name.out" 2>&1
    device_status=$?
    set -e
}

offer() { # offer DIR VERSION: what GET /ota.json and /version answer
    cp "$w/www/$1/ota.json" "$w/www/ota.json"
    echo "$2" >"$w/www/version"
    chmod -R a+rX "$w/www"
}

image_gets() { grep -c "GET /$1/image.ebin" "$nginx_log" || true; }

# Two releases of one product: 1.2.0 is 1.1.0 with code inserted, a region rewritten and
# scattered bytes changed (pointers that moved).
python3 - "$w" <<'PY'
import random, sys
rng = random.Random(5)
old = bytearray(rng.randrange(256) for _ in range(90000))
new = bytearray(old)
new[30000:30000] = bytes(rng.randrange(256) for _ in range(700))
new[60000:60400] = bytes(rng.randrange(256) for _ in range(400))
for at in range(1000, len(new), 1500):
    new[at] = (new[at] + 8) & 0xFF
open(sys.argv[1] + "/firmware-1.1.0.bin", "wb").write(old)
open(sys.argv[1] + "/firmware-1.2.0.bin", "wb").write(new)
PY

"$cellota" keygen --out "$w/operator.pem" >/dev/null
lib_start_nginx "$w/www"
lib_start_mosquitto
base=http://127.0.0.1:$nginx_port
pack() { # pack VERSION DIR [options]
    version=$1
    dir=$2
    shift 2
    "$cellota" pack "$w/firmware-$version.bin" --version "$version" --out "$w/www/$dir" \
        --sign "$w/operator.pem" --url "$base/$dir/image.ebin" --load-addr 0 "$@" >/dev/null
}
pack 1.1.0 1.1.0
pack 1.2.0 1.2.0-patch --base "$w/firmware-1.1.0.bin"
pack 1.1.0 1.1.0-compressed --compress
patch_size=$(wc -c <"$w/www/1.2.0-patch/image.ebin" | tr -d ' ')
full_size=$(wc -c <"$w/firmware-1.2.0.bin" | tr -d ' ')
check "the patch is much smaller than the image ($patch_size of $full_size)" \
    [ "$patch_size" -lt $((full_size / 10)) ]
lib_start_modem sim7600

# 1.1.0 as a plain image into slot 1, then 1.2.0 as a patch from it into slot 0.
offer 1.1.0 1.1.0
device patched --once
check "plain: runs 1.1.0" contains "$w/patched.out" "running 1.1.0, the newest version, confirmed"
offer 1.2.0-patch 1.2.0
device patched --once
check "patch: --once exits 0 (status $device_status)" [ "$device_status" -eq 0 ]
check "patch: runs 1.2.0" contains "$w/patched.out" "running 1.2.0, the newest version, confirmed"
check "patch: slot 0 holds 1.2.0 exactly" holds "$w/patched.flash" "$w/firmware-1.2.0.bin" 32
check "patch: downloaded the patch only ($patch_size bytes)" sh -c \
    "tr '\r' '\n' <'$w/patched.out' | grep -q 'download 1.2.0: $patch_size/$patch_size bytes 100%'"
echo "delta: 1.1.0 -> 1.2.0 as a $patch_size-byte patch (image $full_size bytes): installed, booted, confirmed"

# A device still on its factory image is offered the patch: refused before downloading.
gets_before=$(image_gets 1.2.0-patch)
device factory --once
gets_after=$(image_gets 1.2.0-patch)
check "wrong base: --once fails (status $device_status)" [ "$device_status" -ne 0 ]
check "wrong base: named" contains "$w/factory.out" "IMAGE_DELTA_WRONG_BASE"
check "wrong base: nothing downloaded ($gets_before then $gets_after requests)" \
    [ "$gets_before" -eq "$gets_after" ]
echo "delta: a device on another base refused the patch before downloading (IMAGE_DELTA_WRONG_BASE)"

# A compressed full image.
offer 1.1.0-compressed 1.1.0
device compressed --once
check "compressed: runs 1.1.0" contains "$w/compressed.out" "running 1.1.0, the newest version, confirmed"
check "compressed: slot 1 holds 1.1.0 exactly" holds "$w/compressed.flash" "$w/firmware-1.1.0.bin" $((0x210000 / PAGE))
lib_stop_modem
echo "delta: a compressed full image installed and confirmed"

if [ "$failures" -ne 0 ]; then
    echo "delta: $failures of $checks checks failed; device outputs:" >&2
    for out in "$w"/*.out; do
        echo "--- $out" >&2
        tr '\r' '\n' <"$out" | grep -v '^download ' | tail -n 30 >&2
    done
    exit 1
fi
echo "delta: $checks checks passed"
