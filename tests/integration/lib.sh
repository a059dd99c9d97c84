# Shared by the end-to-end tests and the demo (sourced, not a test itself): a scratch folder and
# everything a device test runs on 127.0.0.1 -- nginx and mosquitto on random free ports (through
# scripts/servers.sh), an emulated modem on a pty, background processes -- all stopped on exit.
# POSIX sh.
#
#   . "$CELLOTA_SOURCE/tests/integration/lib.sh"
#   lib_start_nginx "$root"          -> $nginx_port       (serves $root, Range and all)
#   lib_start_mosquitto              -> $mosquitto_port, $mosquitto_log
#   lib_start_modem sim7600 [OPTS]   -> $modem_pty, $modem_pid (cellota-modem's options)
#   lib_stop_modem
# Every started process is killed by lib_cleanup (the EXIT trap); a test that sets its own EXIT
# trap calls lib_cleanup from it.
set -eu
: "${CELLOTA_BIN:?CELLOTA_BIN must name the folder holding the binaries}"
: "${CELLOTA_SOURCE:?CELLOTA_SOURCE must name the source tree}"
. "$CELLOTA_SOURCE/scripts/servers.sh"
lib_scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellota-e2e.XXXXXX")
lib_pids=""

. "$CELLOTA_SOURCE/tests/integration/checks.sh" # fail, check, contains

lib_cleanup() {
    for pid in $lib_pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $lib_pids; do
        # wait only for our own children; nginx daemonises, so it is not one
        wait "$pid" 2>/dev/null || true
    done
    stop_servers
    if [ -z "${KEEP_SCRATCH:-}" ]; then rm -rf "$lib_scratch"; else echo "kept $lib_scratch" >&2; fi
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM

# lib_start_nginx ROOT [EXTRA_SERVER_CONFIG]: nginx serving ROOT (HTTP/1.1, keep-alive, Range, as
# Debian builds it); EXTRA_SERVER_CONFIG goes into its server block (a TLS listener).
# Sets nginx_port and nginx_log (its access log).
lib_start_nginx() {
    root=$(cd "$1" && pwd)
    # nginx's workers run as another user: every folder down to ROOT must let them through.
    folder=$root
    while [ "$folder" != "/" ] && [ "$folder" != "$(dirname "$lib_scratch")" ]; do
        chmod o+x "$folder"
        folder=$(dirname "$folder")
    done
    start_nginx "$root" "$lib_scratch" "${2:-}"
    nginx_log=$lib_scratch/nginx/access.log
}

# lib_start_mosquitto: an anonymous broker on 127.0.0.1 without persistence. Sets mosquitto_port.
lib_start_mosquitto() {
    # Started as root, mosquitto drops to its own user before it opens its log.
    mkdir -p "$lib_scratch/mosquitto"
    chmod o+x "$lib_scratch"
    chmod 1777 "$lib_scratch/mosquitto"
    start_mosquitto "$lib_scratch"
    mosquitto_log=$lib_scratch/mosquitto/mosquitto.log
}

# lib_start_modem MODEL [cellota-modem options]: the emulator on a pty. Sets modem_pty and
# modem_pid; its output goes to $lib_scratch/modem.out.
lib_start_modem() {
    lib_launch_modem "$lib_scratch/modem.out" "$@"
}

# lib_launch_modem OUTPUT MODEL [cellota-modem options]: the same with its output in OUTPUT (for
# a test that runs several modems at once).
lib_launch_modem() {
    output=$1
    model=$2
    shift 2
    : >"$output"
    "$CELLOTA_BIN/cellota-modem" --model "$model" "$@" >"$output" 2>&1 &
    modem_pid=$!
    lib_pids="$lib_pids $modem_pid"
    tries=0
    modem_pty=""
    while [ $tries -lt 50 ]; do
        modem_pty=$(head -n 1 "$output" 2>/dev/null || true)
        case $modem_pty in /dev/*) return 0 ;; esac
        if ! kill -0 "$modem_pid" 2>/dev/null; then break; fi
        tries=$((tries + 1))
        sleep 0.1
    done
    echo "lib: cellota-modem did not start:" >&2
    cat "$output" >&2
    return 1
}

lib_stop_modem() {
    if [ -n "${modem_pid:-}" ]; then
        kill "$modem_pid" 2>/dev/null || true
        wait "$modem_pid" 2>/dev/null || true
        modem_pid=""
    fi
}

# lib_background NAME COMMAND...: starts COMMAND with its output in $lib_scratch/NAME.log;
# sets background_pid. Killed at exit. The log exists when this returns (the background
# shell's own redirection would create it only once that shell runs: a caller reading the log
# at once could find no file).
lib_background() {
    name=$1
    shift
    : >"$lib_scratch/$name.log"
    "$@" >>"$lib_scratch/$name.log" 2>&1 &
    background_pid=$!
    lib_pids="$lib_pids $background_pid"
}

# lib_wait_for FILE TEXT SECONDS: true once FILE contains TEXT.
lib_wait_for() {
    tries=0
    limit=$(($3 * 10))
    while [ $tries -lt "$limit" ]; do
        if grep -qF -- "$2" "$1" 2>/dev/null; then return 0; fi
        tries=$((tries + 1))
        sleep 0.1
    done
    return 1
}

# lib_start_server NAME [cellota-server options]: cellota-server on a free loopback port with its
# store in $lib_scratch/NAME (the broker: --mqtt 127.0.0.1:$mosquitto_port when one was started
# and no --mqtt is given). Sets server_url, server_port, server_pid, server_log, server_token and
# server_store. Started again on the same port and store by lib_restart_server.
lib_start_server() {
    server_name=$1
    shift
    server_store=$lib_scratch/$server_name
    server_log=$lib_scratch/$server_name.log
    server_token=${server_token:-test-token-0123456789}
    server_options="$*"
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        server_port=$(random_port "s$attempt")
        if lib_restart_server; then return 0; fi
    done
    echo "lib: cellota-server did not start; its log:" >&2
    cat "$server_log" >&2
    return 1
}

lib_restart_server() {
    mqtt_option=""
    case " $server_options " in
    *" --mqtt "*) ;;
    *) if [ -n "${mosquitto_port:-}" ]; then mqtt_option="--mqtt 127.0.0.1:$mosquitto_port"; fi ;;
    esac
    # shellcheck disable=SC2086
    "$CELLOTA_BIN/cellota-server" --http "127.0.0.1:$server_port" --store "$server_store" \
        --token "$server_token" $mqtt_option $server_options >>"$server_log" 2>&1 &
    server_pid=$!
    lib_pids="$lib_pids $server_pid"
    server_url=http://127.0.0.1:$server_port
    tries=0
    while [ $tries -lt 100 ]; do
        if curl -s -o /dev/null "$server_url/metrics" 2>/dev/null; then return 0; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" 2>/dev/null || true
            return 1
        fi
        sleep 0.1
        tries=$((tries + 1))
    done
    return 1
}

# lib_api METHOD PATH [curl options]: the operator API with the token; prints the body and
# leaves the status in $api_status.
lib_api() {
    method=$1
    path=$2
    shift 2
    api_status=$(curl -s -o "$lib_scratch/api.out" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer $server_token" "$@" "$server_url$path")
    cat "$lib_scratch/api.out"
}

# lib_json FIELD: a top-level field of the JSON on stdin (numbers and strings; "a.b" for a
# member of an object).
lib_python=python3
[ -x /usr/bin/python3 ] && lib_python=/usr/bin/python3 # a version manager's shim costs 0.3 s a call
lib_json() {
    "$lib_python" -c 'import json,sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[int(part)] if isinstance(value, list) else value.get(part)
print("" if value is None else (json.dumps(value) if isinstance(value, (dict, list, bool)) else value))' "$1"
}
# lib_start_tls_mosquitto CERT_DIR: mosquitto with the configuration `cellota certs mosquitto`
# writes into CERT_DIR (made by `cellota certs init`): TLS, client certificates, the topic ACL.
# Sets mosquitto_port and mosquitto_log. mosquitto started as root drops to its own user before
# it reads the server's key, so the key is handed to that user, as on a Debian broker.
lib_start_tls_mosquitto() {
    certificates=$1
    mosquitto_log=$lib_scratch/mosquitto-tls.log
    chmod o+x "$lib_scratch" "$certificates"
    if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
        chown mosquitto "$certificates/server.key"
    fi
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        mosquitto_port=$(random_port "t$attempt")
        "$CELLOTA_BIN/cellota" certs mosquitto --dir "$certificates" --port "$mosquitto_port" \
            --bind 127.0.0.1 >/dev/null
        /usr/sbin/mosquitto -c "$certificates/mosquitto.conf" >"$mosquitto_log" 2>&1 &
        mosquitto_pid=$!
        if mosquitto_listening "$mosquitto_log"; then return 0; fi
    done
    echo "lib: the TLS mosquitto did not start; its log:" >&2
    cat "$mosquitto_log" >&2
    return 1
}

# lib_check_json FILE "FIELD VALUE"...: each FIELD (as lib_json names it) of the JSON in FILE has
# its VALUE, else `fail` (the caller's) says which does not.
lib_check_json() {
    file=$1
    shift
    for check in "$@"; do
        set -- $check
        [ "$(lib_json "$1" <"$file")" = "$2" ] || fail "$(basename "$file" .json) $1 is $(lib_json "$1" <"$file"), not $2"
    done
}
