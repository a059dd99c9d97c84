#!/bin/sh
# Installs the Debian 12 packages cellota needs to build, test, fuzz, benchmark and demo.
# Every make target that needs a package calls this first; it does nothing when all are present,
# so it is cheap to call and safe to call again.
set -eu

packages="cmake make gcc clang libclang-rt-14-dev pkg-config
libmbedtls-dev libcjson-dev libsqlite3-dev libmicrohttpd-dev libpq-dev
mosquitto mosquitto-clients libmosquitto-dev nginx-light openssl
gcc-arm-none-eabi libnewlib-arm-none-eabi bsdiff valgrind xxd curl python3
libcurl4-openssl-dev postgresql chromium wrk xdelta3 xz-utils"

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done
# Node.js and npm drive the dashboard's browser test (playwright-core); a machine that has them
# from elsewhere (NodeSource) keeps its own.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install packages (run as root or install:$missing)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
# Debian starts these services on install; cellota's tests start their own on random ports.
for service in nginx mosquitto postgresql; do
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$service" >/dev/null 2>&1 || true; fi
    service "$service" stop >/dev/null 2>&1 || true
done
exit 0
