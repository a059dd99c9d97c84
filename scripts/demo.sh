#!/bin/sh
# `make demo`: cellota's main job end to end on this machine. An operator makes a signing key and
# packs a release; nginx serves it and mosquitto carries status reports, both on 127.0.0.1
# (random free ports, stopped on exit); a device -- cellota-device on an emulated SIM7600 --
# learns of the release by polling, downloads it over the modem with progress, reboots through
# its bootloader into it, confirms it and reports over MQTT. Then the operator's tool checks
# the same files as a device would, refuses a tampered image and a forged request, and prices
# the seed's fleet.
# usage: demo.sh BIN_DIR
set -eu
CELLOTA_BIN=$(cd "${1:-build/bin}" && pwd)
CELLOTA_SOURCE=$(cd "$(dirname "$0")/.." && pwd)
export CELLOTA_BIN CELLOTA_SOURCE
cellota=$CELLOTA_BIN/cellota
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
work=$lib_scratch/demo
mkdir -p "$work/www"

heading() {
    printf '\n== %s\n' "$*"
}

cd "$work"

heading "1. The operator makes a signing key (devices embed the public point)"
"$cellota" keygen --out operator.pem

heading "2. A firmware image (random bytes, the size of seed 002's example: 67512)"
head -c 67512 /dev/urandom >firmware.bin
ls -l firmware.bin

heading "3. nginx serves the release, mosquitto carries status reports (127.0.0.1)"
lib_start_nginx www
lib_start_mosquitto
base=http://127.0.0.1:$nginx_port
echo "nginx on $base, mosquitto on 127.0.0.1:$mosquitto_port"
lib_background status mosquitto_sub -h 127.0.0.1 -p "$mosquitto_port" -v -t 'cellota/#'

heading "4. cellota pack: encrypt with a fresh key and IV, write the signed update request"
"$cellota" pack firmware.bin --version 1.4.2 --out www/1.4.2 --sign operator.pem \
    --url "$base/1.4.2/image.ebin" --load-addr 0 --id demo-campaign
cp www/1.4.2/ota.json www/ota.json
echo 1.4.2 >www/version
# served over loopback for the demo; in the field the request goes over MQTT/TLS or HTTPS
chmod -R a+rX www

heading "5. A device on an emulated SIM7600 learns of 1.4.2, installs it, reboots, confirms"
lib_start_modem sim7600 --flow-control
echo "cellota-modem: SIM7600 on $modem_pty (115200 baud, RTS/CTS: the modem pushes its data; LTE Cat-1)"
"$CELLOTA_BIN/cellota-device" --port "$modem_pty" --modem sim7600 --flash device.flash \
    --server "$base" --mqtt "127.0.0.1:$mosquitto_port" --id demo-device \
    --pub operator.pub.pem --flow-control --once
sleep 0.5
echo
echo "status reports the broker received (cellota/demo-device/...):"
sed -n 's/^cellota\/demo-device\/\([a-z]*\) \(.*\)$/  \1: \2/p' "$lib_scratch/status.log" |
    sed 's/"message":"[^"]*",//' | cut -c 1-150
echo
echo "run again: the device is up to date and downloads nothing"
"$CELLOTA_BIN/cellota-device" --port "$modem_pty" --modem sim7600 --flash device.flash \
    --server "$base" --mqtt "127.0.0.1:$mosquitto_port" --id demo-device \
    --pub operator.pub.pem --flow-control --once
lib_stop_modem
# The device's flash: esp32-4mb, the second application slot (ota_1) at 0x210000.
if dd if=device.flash bs=4096 skip=528 count=17 2>/dev/null | head -c 67512 | cmp -s - firmware.bin
then
    echo "the device's second slot holds the operator's firmware, byte for byte"
else
    echo "demo: the device's slot differs from the firmware" >&2
    exit 1
fi
mkdir -p device
cp www/ota.json device/ota.json
cp www/1.4.2/image.ebin device/image.ebin

heading "6. cellota verify: the device library checks the signature, both hashes, the padding"
"$cellota" verify --request device/ota.json --image device/image.ebin --pub operator.pub.pem \
    --out device/firmware.bin
if cmp -s firmware.bin device/firmware.bin; then
    echo "the device holds the operator's firmware, byte for byte"
else
    echo "demo: the decrypted firmware differs from the original" >&2
    exit 1
fi

heading "7. A tampered image and a forged request are refused"
cp device/image.ebin device/tampered.ebin
printf '\000' | dd of=device/tampered.ebin bs=1 seek=1000 conv=notrunc 2>/dev/null
echo "one byte of the image changed in transit:"
if "$cellota" verify --request device/ota.json --image device/tampered.ebin \
    --pub operator.pub.pem 2>&1; then
    echo "demo: a tampered image was accepted" >&2
    exit 1
fi
sed "s|$base/1.4.2/image.ebin|http://attacker.example/image.ebin|" device/ota.json >device/forged.json
echo "the request's url pointed elsewhere by someone without the operator's key:"
if "$cellota" verify --request device/forged.json --image device/image.ebin \
    --pub operator.pub.pem 2>&1; then
    echo "demo: a forged request was accepted" >&2
    exit 1
fi

heading "8. cellota inspect: what the request carries"
"$cellota" inspect device/ota.json

heading "9. cellota cost: seed 002's fleet (50,000 devices, 512 KiB image, 7 days)"
"$cellota" cost --devices 50000 --image-size 512KiB --provider aws
echo
"$cellota" cost --devices 50000 --image-size 512KiB --provider gcp

heading "done: packed, served, installed over an emulated modem, confirmed, verified"
