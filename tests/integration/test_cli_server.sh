#!/bin/sh
# `cellota release|campaign|devices` against a real cellota-server and mosquitto on loopback:
# upload (and its refusals), list and show; devices registered by their polls, listed, filtered,
# shown and tagged; a campaign created, shown, paused and resumed, refused when the state does
# not allow it, aborted; `campaign wait` exiting 0 when every device confirmed and 1 when the
# campaign halted; and the exit codes: a refused request 1, usage 2, a missing file 3, the
# server down 5, no token or a wrong one 6. Device statuses are published with mosquitto_pub as
# an agent publishes them (the agents themselves are the demo's and the device tests' part).
. "$CELLOTA_SOURCE/tests/integration/cli_common.sh"
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
trap 'lib_cleanup; rm -rf "$scratch"' EXIT

lib_start_mosquitto
lib_start_server cli
export CELLOTA_TOKEN=$server_token
S="--server $server_url"
w=$scratch/work
mkdir -p "$w"
head -c 70000 /dev/urandom >"$w/fw-1.1.0.bin"
head -c 50000 /dev/urandom >"$w/fw-1.2.0.bin"

# status DEVICE JSON-MEMBERS: a status message on cellota/DEVICE/status, as the agent sends it.
status() {
    mosquitto_pub -h 127.0.0.1 -p "$mosquitto_port" -q 1 -t "cellota/$1/status" \
        -m "{$2,\"progress\":100,\"offset\":0,\"size\":0,\"downloaded\":0,\"redownloaded\":0,\"model\":\"sim7600\"}"
}

# expect_wait CODE TEXT ARGS...: `cellota campaign wait ARGS` exits CODE; its progress lines come
# first on standard error, so the one-line error (with TEXT) is the last line there.
expect_wait() {
    code=$1
    text=$2
    shift 2
    checks=$((checks + 1))
    set +e
    "$cellota" campaign wait "$@" >"$scratch/out" 2>"$scratch/err"
    actual=$?
    set -e
    if [ "$actual" -ne "$code" ] ||
        ! tail -n 1 "$scratch/err" | grep -q "^cellota: .*$text"; then
        fail "campaign wait $*: exit $actual, expected $code with '$text' last"
        sed 's/^/    /' "$scratch/err" >&2
    fi
}

# --- releases -------------------------------------------------------------------------------
# shellcheck disable=SC2086
expect 0 "" "$cellota" release upload "$w/fw-1.1.0.bin" --version 1.1.0 --notes "first one" $S
check "upload: prints the release" grep -q "^release 1.1.0" "$scratch/out"
check "upload: prints its image URL" grep -q "url .*$server_url/images/[0-9a-f]\{64\}\.ebin" "$scratch/out"
# shellcheck disable=SC2086
expect 0 "" "$cellota" release upload "$w/fw-1.2.0.bin" --version 1.2.0 --plain --json $S
check "upload --json: the API's JSON" grep -q '"version":"1.2.0"' "$scratch/out"
check "upload --json: plain download on" grep -q '"plain_download":true' "$scratch/out"
check "upload --plain: /firmware.bin serves it" sh -c "curl -sf '$server_url/firmware.bin' | cmp -s - '$w/fw-1.2.0.bin'"
# shellcheck disable=SC2086
expect 1 "[VERSION_EXISTS] (409)" "$cellota" release upload "$w/fw-1.1.0.bin" --version 1.1.0 $S
# shellcheck disable=SC2086
expect 1 "[BAD_VERSION]" "$cellota" release upload "$w/fw-1.1.0.bin" --version one $S
: >"$w/empty.bin"
# shellcheck disable=SC2086
expect 1 "empty" "$cellota" release upload "$w/empty.bin" --version 1.3.0 $S
# shellcheck disable=SC2086
expect 3 "cannot read" "$cellota" release upload "$w/missing.bin" --version 1.3.0 $S
expect 2 "missing --version" "$cellota" release upload "$w/fw-1.1.0.bin"
# shellcheck disable=SC2086
expect 0 "" "$cellota" release list $S
check "list: a header" grep -q "^VERSION  *SIZE" "$scratch/out"
check "list: both releases, newest first" sh -c "sed -n '2s/ .*//p;3s/ .*//p' '$scratch/out' | tr '\n' ' ' | grep -qx '1.2.0 1.1.0 '"
check "list: the notes" grep -q "first one" "$scratch/out"
# shellcheck disable=SC2086
expect 0 "" "$cellota" release list --json $S
check "list --json: total" [ "$(lib_json total <"$scratch/out")" = 2 ]
# shellcheck disable=SC2086
expect 0 "" "$cellota" release show 1.1.0 $S
check "show: the security version" grep -q "version 1001000" "$scratch/out"
# shellcheck disable=SC2086
expect 1 "[UNKNOWN_RELEASE] (404)" "$cellota" release show 9.9.9 $S

# --- devices (registered by their polls) ----------------------------------------------------
for device in dev-a dev-b dev-c; do
    curl -sf -o /dev/null "$server_url/version?device=$device" || fail "$device polls"
done
# shellcheck disable=SC2086
expect 0 "" "$cellota" devices $S
check "devices: three listed" sh -c "grep -c '^dev-[abc] ' '$scratch/out' | grep -qx 3"
check "devices: online" sh -c "grep '^dev-a ' '$scratch/out' | grep -q ' yes '"
# shellcheck disable=SC2086
expect 0 "" "$cellota" devices tag dev-c canary,red $S
check "tag: shown" grep -q "tags  *canary red" "$scratch/out"
# shellcheck disable=SC2086
expect 0 "" "$cellota" devices --tag canary $S
check "devices --tag: only dev-c" sh -c "tail -n +2 '$scratch/out' | cut -d' ' -f1 | tr '\n' ' ' | grep -qx 'dev-c '"
expect 2 "--online" "$cellota" devices --online maybe
expect 2 "not a device id" "$cellota" devices show "../api"

# --- campaigns ------------------------------------------------------------------------------
expect 2 "give one of them" "$cellota" campaign create --release 1.1.0 --tag a --devices b
expect 2 "--stages" "$cellota" campaign create --release 1.1.0 --stages 10,x
expect 2 "campaign number" "$cellota" campaign show seven
# shellcheck disable=SC2086
expect 1 "[UNKNOWN_RELEASE]" "$cellota" campaign create --release 9.9.9 $S
# shellcheck disable=SC2086
expect 0 "" "$cellota" campaign create --release 1.1.0 --devices dev-a,dev-b --stages 50,100 \
    --name pipeline --json $S
campaign=$(lib_json id <"$scratch/out")
check "create --json: an id ($campaign)" [ -n "$campaign" ]
# shellcheck disable=SC2086
expect 1 "[DEVICE_BUSY]" "$cellota" campaign create --release 1.1.0 --devices dev-a $S
# shellcheck disable=SC2086
expect 0 "" "$cellota" campaign show "$campaign" --devices $S
check "show: release and state" grep -q "^campaign $campaign pipeline: release 1.1.0, running" "$scratch/out"
check "show: stages" grep -q "stages  *50,100 (% of 2 devices: 1,2)" "$scratch/out"
check "show --devices: both targets" sh -c "grep -c '^dev-[ab] ' '$scratch/out' | grep -qx 2"
# shellcheck disable=SC2086
expect 0 "" "$cellota" campaign pause "$campaign" $S
check "pause: paused" grep -q "^campaign $campaign paused" "$scratch/out"
# shellcheck disable=SC2086
expect 1 "[BAD_STATE] (409)" "$cellota" campaign pause "$campaign" $S
# shellcheck disable=SC2086
expect 0 "" "$cellota" campaign resume "$campaign" $S
check "resume: running" grep -q "^campaign $campaign running" "$scratch/out"
# shellcheck disable=SC2086
expect 0 "" "$cellota" campaign list $S
check "list: the campaign" grep -q "^$campaign  *1.1.0  *running" "$scratch/out"

# Both devices confirm the release: the campaign completes, `wait` exits 0.
status dev-a '"state":"confirmed","version":"1.1.0","target":"","error":0,"error_name":"OK","message":"success","campaign":"'"$campaign"'"'
status dev-b '"state":"confirmed","version":"1.1.0","target":"","error":0,"error_name":"OK","message":"success","campaign":"'"$campaign"'"'
# shellcheck disable=SC2086
expect 0 "confirmed" "$cellota" campaign wait "$campaign" --interval 1 --timeout 30 $S
check "wait: progress on stderr" grep -q "^campaign $campaign .*2/2 confirmed" "$scratch/err"
check "wait: completed" grep -q "^campaign $campaign pipeline: release 1.1.0, completed" "$scratch/out"
# shellcheck disable=SC2086
expect 0 "" "$cellota" devices --state confirmed $S
check "devices --state: the two that confirmed, with their model" sh -c "grep -c '^dev-[ab]  *sim7600  *1.1.0  *confirmed' '$scratch/out' | grep -qx 2"

# A device rolls back: the campaign halts, `wait` exits 1 and says so.
# shellcheck disable=SC2086
expect 0 "" "$cellota" campaign create --release 1.2.0 --tag canary --json $S
halting=$(lib_json id <"$scratch/out")
status dev-c '"state":"rolled_back","version":"0.0.0","target":"1.2.0","error":501,"error_name":"AGENT_SELF_TEST_FAILED","message":"the new image failed its self-test","campaign":"'"$halting"'"'
# shellcheck disable=SC2086
expect_wait 1 "halted: 1 of 1 devices" "$halting" --interval 1 --timeout 30 $S
check "wait: the failure's reason" grep -q "failed .*ROLLED_BACK" "$scratch/out"
# shellcheck disable=SC2086
expect 0 "" "$cellota" devices show dev-c $S
check "devices show: the rollback in its timeline" grep -q "rolled_back .*AGENT_SELF_TEST_FAILED" "$scratch/out"
# shellcheck disable=SC2086
expect 0 "" "$cellota" campaign abort "$halting" $S
check "abort: aborted" grep -q "^campaign $halting aborted" "$scratch/out"
# shellcheck disable=SC2086
expect_wait 1 "aborted" "$halting" --interval 1 $S

# --- the token and the server ---------------------------------------------------------------
# shellcheck disable=SC2086
expect 6 "[UNAUTHORIZED] (401)" env CELLOTA_TOKEN=wrong-token-0123456789 "$cellota" release list $S
(
    # No CELLOTA_TOKEN: ./cellota-store/token is read, as cellota-server writes it.
    unset CELLOTA_TOKEN
    before=$failures
    mkdir -p "$w/here/cellota-store"
    cd "$w/here"
    # shellcheck disable=SC2086
    expect 6 "no token" "$cellota" devices $S
    printf '%s\n' "$server_token" >cellota-store/token
    # shellcheck disable=SC2086
    expect 0 "" "$cellota" devices $S
    [ "$failures" -eq "$before" ]
) || failures=$((failures + 1))
down=$(random_port down)
expect 5 "cannot reach" "$cellota" campaign list --server "http://127.0.0.1:$down"
expect 2 "--server" "$cellota" campaign list --server "127.0.0.1:$down"
# The server is stopped mid-way: a waiting pipeline learns it at once.
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
# shellcheck disable=SC2086
expect 5 "cannot reach" "$cellota" campaign wait "$campaign" $S

finish
