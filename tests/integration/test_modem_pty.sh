#!/bin/sh
# cellota-modem on its pty, in real time, against nginx on 127.0.0.1 (plain and TLS): each model
# fetches a file through its own socket commands and the SHA-256 must match; the SIM7600 also
# fetches it with its HTTP client, over HTTPS and into its file system; the SIM800 must fail to
# reach a TLS 1.2 server (its SSL stops at TLS 1.0); with parity on and the corrupt fault, damaged
# bytes must arrive marked the way termios PARMRK marks parity errors.
set -eu
bin=${CELLOTA_BIN:?}
source_dir=${CELLOTA_SOURCE:?}
client="python3 $source_dir/tests/integration/modem_client.py"
work=$(mktemp -d "${TMPDIR:-/tmp}/cellota-modem-test.XXXXXX")
modem_pid=""
nginx_pid=""

cleanup() {
    [ -n "$modem_pid" ] && kill "$modem_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- the servers ------------------------------------------------------------------------------
mkdir -p "$work/www" "$work/nginx"
head -c 196608 /dev/urandom > "$work/www/file.bin"
sha=$(sha256sum "$work/www/file.bin" | cut -d' ' -f1)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$work/nginx/key.pem" -out "$work/nginx/cert.pem" 2>/dev/null
http_port=$(free_port)
https_port=$(free_port)
cat > "$work/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$http_port;
        root $work/www;
    }
    server {
        listen 127.0.0.1:$https_port ssl;
        ssl_certificate $work/nginx/cert.pem;
        ssl_certificate_key $work/nginx/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $work/www;
    }
}
EOF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
tries=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $http_port), 1)" 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -lt 50 ] || { echo "nginx did not start"; cat "$work/nginx/error.log"; exit 1; }
    sleep 0.1
done

# --- one modem at a time --------------------------------------------------------------------------
start_modem() {
    rm -f "$work/modem.out"
    "$bin/cellota-modem" "$@" --log "$work/modem.log" > "$work/modem.out" &
    modem_pid=$!
    tries=0
    until [ -s "$work/modem.out" ]; do
        tries=$((tries + 1))
        [ $tries -lt 50 ] || { echo "cellota-modem printed no pty"; exit 1; }
        sleep 0.1
    done
    pty=$(head -n 1 "$work/modem.out")
    [ -c "$pty" ] || { echo "cellota-modem: $pty is not a terminal"; exit 1; }
}

stop_modem() {
    kill "$modem_pid"
    wait "$modem_pid" || { echo "cellota-modem did not exit cleanly"; exit 1; }
    modem_pid=""
}

run() {
    if ! $client --pty "$pty" "$@"; then
        echo "--- the modem's log (tail):"
        tail -n 40 "$work/modem.log"
        exit 1
    fi
}

fast="--baud 921600 --bandwidth 8000000 --latency 20 --boot-ms 300"

for model in sim7600 sim7000 sim7070 sim800; do
    start_modem --model $model $fast
    run --model $model --port "$http_port" --sha256 "$sha"
    stop_modem
done

start_modem --model sim7600 $fast --fs-dir "$work/fs"
run --model sim7600 --http "http://127.0.0.1:$http_port/file.bin" --sha256 "$sha"
stop_modem
[ "$(sha256sum "$work/fs/image.bin" | cut -d' ' -f1)" = "$sha" ] ||
    { echo "the SIM7600 file system directory does not hold the image"; exit 1; }

start_modem --model sim7600 $fast
run --model sim7600 --http "https://127.0.0.1:$https_port/file.bin" --sha256 "$sha"
stop_modem

start_modem --model sim7600 $fast
run --model sim7600 --tls --port "$https_port" --sha256 "$sha"
stop_modem

start_modem --model sim7070 $fast
run --model sim7070 --tls --port "$https_port" --sha256 "$sha"
stop_modem

start_modem --model sim800 $fast
run --model sim800 --tls --port "$https_port" --expect-fail
stop_modem

start_modem --model sim800 --boot-ms 300 --parity --corrupt-rate 0.03 --seed 7
run --model sim800 --parity-check 40
stop_modem

"$bin/cellota-modem" --help | grep -q -- "--model" || { echo "--help says nothing"; exit 1; }
if "$bin/cellota-modem" --model nokia 2>"$work/error"; then
    echo "an unknown model was accepted"
    exit 1
fi
grep -q "unknown model" "$work/error" || { echo "no one-line error for an unknown model"; exit 1; }
echo "test_modem_pty: all passed"
