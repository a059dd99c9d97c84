#!/bin/sh
# `make demo`: cellota's job end to end on this machine, until the device agent exists. An
# operator makes a signing key and packs a firmware image; nginx serves it on 127.0.0.1 (a
# random free port, stopped on exit); the update request and the image are downloaded over
# HTTP with curl, as a device would fetch them; `cellota verify` runs the device library's
# checks on what arrived; a tampered download is refused; and the seed's fleet is priced.
# usage: demo.sh BIN_DIR
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
cellota=$bin/cellota
nginx=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d "${TMPDIR:-/tmp}/cellota-demo.XXXXXX")
nginx_pid=""

cleanup() {
    if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

heading() {
    printf '\n== %s\n' "$*"
}

# Starts nginx serving $work/www on a free port; sets port and nginx_pid.
start_nginx() {
    mkdir -p "$work/www" "$work/nginx"
    # nginx's workers may run as another user: the files they serve must be readable.
    chmod 755 "$work" "$work/www"
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$(awk -v seed="$$$attempt" 'BEGIN { srand(seed); print 20000 + int(rand() * 40000) }')
        cat >"$work/nginx/nginx.conf" <<CONF
daemon on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    types { application/json json; application/octet-stream ebin; }
    server {
        listen 127.0.0.1:$port;
        root $work/www;
    }
}
CONF
        if "$nginx" -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" \
            2>/dev/null; then
            nginx_pid=$(cat "$work/nginx/nginx.pid")
            return 0
        fi
    done
    echo "demo: nginx did not start; its log:" >&2
    cat "$work/nginx/error.log" >&2
    exit 1
}

cd "$work"

heading "1. The operator makes a signing key (devices embed the public point)"
"$cellota" keygen --out operator.pem

heading "2. A firmware image (random bytes, the size of seed 002's example: 67512)"
head -c 67512 /dev/urandom >firmware.bin
ls -l firmware.bin

heading "3. nginx serves the release folder on 127.0.0.1"
start_nginx
base=http://127.0.0.1:$port
echo "nginx on $base (pid $nginx_pid)"

heading "4. cellota pack: encrypt with a fresh key and IV, write the signed update request"
"$cellota" pack firmware.bin --version 1.4.2 --out www --sign operator.pem \
    --url "$base/image.ebin" --id demo-campaign
chmod 644 www/ota.json # served over loopback for the demo; in the field it goes over MQTT/TLS

heading "5. A device downloads the request and the image over HTTP (curl)"
mkdir device
curl -sS --fail -o device/ota.json -w 'GET /ota.json    -> %{http_code}, %{size_download} bytes\n' \
    "$base/ota.json"
url=$(sed -n 's/.*"url":[[:space:]]*"\([^"]*\)".*/\1/p' device/ota.json | head -n 1)
curl -sS --fail -o device/image.ebin -w "GET ${url#"$base"} -> %{http_code}, %{size_download} bytes\n" "$url"

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
sed "s|$base/image.ebin|http://attacker.example/image.ebin|" device/ota.json >device/forged.json
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

heading "done: packed, served, downloaded and verified end to end"
