# Campaigns end to end with REAL device agents: cellota-device over its own cellota-modem (the
# four modem models), mosquitto and cellota-server on loopback; the database is SQLite, or
# PostgreSQL with CELLOTA_SERVER_DB=postgres (test_server_campaign_postgres.sh).
#   A. a staged campaign (25% then 100%) of four devices to 100% confirmed, surviving a kill -9
#      of the server and a broker restart in the middle, with exact counts afterwards;
#   B. a device whose self-test fails rolls back: failed ROLLED_BACK, shown on the version it
#      runs, and the campaign halts (its stage's failures pass halt_failure_percent); resumed,
#      the next stage goes on to completion;
#   C. a device killed after it began, with a short timeout_s: failed SILENT;
#   D. a device offline (never started) when its stage began gets its request when it comes
#      online.
# The agents poll as themselves (--server <url>/d/<id>, the path form of ?device=<id>) at start
# only, so requests come over MQTT; the offline device D polls nothing, so only the request sent
# again when it comes online can reach it.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

device_bin=$CELLOTA_BIN/cellota-device
w=$lib_scratch/work
mkdir -p "$w"
failures=0
backend=${CELLOTA_SERVER_DB:-sqlite}
started=$(date +%s)

fail() {
    echo "FAIL ($backend): $*" >&2
    failures=$((failures + 1))
}

say() { echo "campaign test ($backend, $(($(date +%s) - started)) s): $*"; }

# start_device NAME MODEL [cellota-device options]: its own emulated modem and agent, polling
# the server as itself (--server <url>/d/NAME) at start. With POLL=no it learns of updates over
# MQTT only (its --server has nothing to poll).
start_device() {
    name=$1
    model=$2
    shift 2
    poll_url=$server_url/d/$name
    if [ "${POLL:-yes}" = no ]; then poll_url=$server_url/mqtt-only; fi
    lib_launch_modem "$w/$name.modem" "$model"
    modem=$modem_pid
    "$device_bin" --port "$modem_pty" --modem "$model" --flash "$w/$name.flash" \
        --server "$poll_url" --mqtt "127.0.0.1:$mosquitto_port" --id "$name" \
        --pub "$w/server.pub.pem" --poll-interval 0 "$@" >>"$w/$name.out" 2>&1 &
    agent=$!
    lib_pids="$lib_pids $agent"
    eval "modem_of_$name=$modem agent_of_$name=$agent"
}

# stop_device NAME [SIGNAL]
stop_device() {
    eval "agent=\$agent_of_$1 modem=\$modem_of_$1"
    kill "-${2:-TERM}" "$agent" 2>/dev/null || true
    wait "$agent" 2>/dev/null || true
    kill "$modem" 2>/dev/null || true
    wait "$modem" 2>/dev/null || true
}

# stop_devices NAME...: all at once (each ends its MQTT session cleanly).
stop_devices() {
    for name in "$@"; do
        eval "kill \$agent_of_$name" 2>/dev/null || true
    done
    for name in "$@"; do stop_device "$name"; done
}

campaign_field() { lib_api GET "/api/campaigns/$1" | lib_json "$2"; }

# wait_campaign ID FIELD VALUE SECONDS
wait_campaign() {
    limit=$(($(date +%s) + $4))
    while [ "$(date +%s)" -le "$limit" ]; do
        if [ "$(campaign_field "$1" "$2" 2>/dev/null)" = "$3" ]; then return 0; fi
        sleep 0.5
    done
    return 1
}

# wait_registered NAME...: each device has reported a status.
wait_registered() {
    for name in "$@"; do
        limit=$(($(date +%s) + 60))
        until [ -n "$(lib_api GET "/api/devices/$name" | lib_json state 2>/dev/null)" ]; do
            if [ "$(date +%s)" -gt "$limit" ]; then
                fail "device $name never reported"
                return 1
            fi
            sleep 0.3
        done
    done
}

# The devices' flash must really hold what the server counts.
device_confirmed() { grep -q "running $2, the newest version, confirmed\|confirmed $2\|version $2 confirmed" "$w/$1.out" ||
    lib_api GET "/api/devices/$1" | grep -q "\"state\":\"confirmed\",\"online\":[a-z]*,.*" ; }

# --- servers ----------------------------------------------------------------------------------
lib_start_mosquitto
db_option=""
if [ "$backend" = postgres ]; then
    start_postgres "$lib_scratch"
    db_option="--db $postgres_url"
fi
lib_start_server campaign $db_option
curl -s -o "$w/server.pub.pem" "$server_url/keys/server.pub.pem"
head -c 12000 /dev/urandom >"$w/firmware.bin"

# --- A. a staged campaign, kill -9 of the server, a broker restart -----------------------------
start_device a1 sim7600
start_device a2 sim7000
start_device a3 sim7070
start_device a4 sim800
wait_registered a1 a2 a3 a4
lib_api POST "/api/releases?version=1.1.0" --data-binary @"$w/firmware.bin" >/dev/null
[ "$api_status" = 201 ] || fail "upload: $api_status"
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["a1","a2","a3","a4"],
    "stages":[25,100],"halt_failure_percent":50,"timeout_s":300,"name":"staged"}' >"$w/a.json"
[ "$api_status" = 201 ] || fail "create A: $api_status $(cat "$w/a.json")"
a=$(lib_json id <"$w/a.json")
say "campaign $a: 4 devices, stages 25% 100%"
wait_campaign "$a" stage 2 120 || fail "A: stage 2 never started"
say "stage 1 confirmed, stage 2 started"
# kill -9 while stage 2 is under way, then the broker goes away and comes back.
limit=$(($(date +%s) + 60))
until grep -q "device a[234] notified -> downloading\|device a[234] pending -> downloading" "$server_log" ||
    [ "$(date +%s)" -gt "$limit" ]; do sleep 0.2; done
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null || true
say "server killed (-9) mid-campaign"
sleep 1
lib_restart_server || fail "the server did not start again"
restart_mosquitto || fail "the broker did not start again"
say "server restarted, broker restarted"
wait_campaign "$a" state completed 180 || fail "A: not completed ($(lib_api GET "/api/campaigns/$a"))"
lib_api GET "/api/campaigns/$a" >"$w/a-done.json"
[ "$(lib_json counts.confirmed <"$w/a-done.json")" = 4 ] || fail "A: 4 confirmed: $(cat "$w/a-done.json")"
for state in pending notified downloading installing failed skipped; do
    [ "$(lib_json "counts.$state" <"$w/a-done.json")" = 0 ] || fail "A: $state is not 0 after the restart"
done
[ "$(lib_json targeted <"$w/a-done.json")" = 4 ] || fail "A: targeted 4"
for name in a1 a2 a3 a4; do
    lib_api GET "/api/devices/$name" >"$w/$name.json"
    [ "$(lib_json version <"$w/$name.json")" = 1.1.0 ] || fail "A: $name runs 1.1.0 ($(lib_json version <"$w/$name.json"))"
    [ "$(lib_json campaign_state <"$w/$name.json")" = confirmed ] || fail "A: $name confirmed"
done
# Stage 1 was a1 alone: it confirmed, then stage 2 started, then the others were sent requests.
line_of() { grep -n "$1" "$server_log" | head -n 1 | cut -d: -f1; }
a1_confirmed=$(line_of "campaign $a: device a1 .*-> confirmed")
stage_two=$(line_of "campaign $a: stage 2 (100%) started")
others=$(line_of "campaign $a: device a[234] pending -> ")
if [ -z "$a1_confirmed" ] || [ -z "$stage_two" ] || [ -z "$others" ] ||
    [ "$a1_confirmed" -gt "$stage_two" ] || [ "$stage_two" -gt "$others" ]; then
    fail "A: stage order (a1 confirmed at line $a1_confirmed, stage 2 at $stage_two, others at $others)"
fi
confirmed_moves=$(grep -c "campaign $a: device a[1-4] .*-> confirmed" "$server_log" || true)
[ "$confirmed_moves" = 4 ] || fail "A: each device confirmed exactly once ($confirmed_moves moves)"
say "campaign $a completed: 4 of 4 confirmed, counts exact after kill -9 and a broker restart"
stop_devices a1 a2 a3 a4

# --- B, C, D together -------------------------------------------------------------------------
start_device b1 sim7600 --self-test-fail
start_device b2 sim7000
start_device s1 sim7070
wait_registered b1 b2 s1
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["b1","b2"],"stages":[50,100],
    "halt_failure_percent":0,"retries":0,"timeout_s":300,"name":"halts"}' >"$w/b.json"
b=$(lib_json id <"$w/b.json")
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["s1"],"timeout_s":6,"retries":0,
    "name":"silent"}' >"$w/s.json"
s=$(lib_json id <"$w/s.json")
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["late"],"name":"offline"}' >"$w/d.json"
d=$(lib_json id <"$w/d.json")
say "campaigns $b (halts), $s (silent), $d (offline device)"

# C: kill s1 once it has begun.
limit=$(($(date +%s) + 90))
until grep -q "campaign $s: device s1 .*-> downloading\|campaign $s: device s1 .*-> installing" "$server_log" ||
    [ "$(date +%s)" -gt "$limit" ]; do sleep 0.1; done
stop_device s1 KILL
say "s1 killed after it began"

# D: the offline device's request was published to nobody; it comes online now.
wait_campaign "$d" counts.notified 1 30 || fail "D: the offline device was not notified"
POLL=no start_device late sim800
wait_campaign "$d" state completed 120 || fail "D: the late device did not catch up ($(lib_api GET "/api/campaigns/$d"))"
grep -q "device late online again: request sent again" "$server_log" || fail "D: the request was not sent again when late came online"
say "campaign $d: the offline device caught up when it came online"

wait_campaign "$b" state halted 120 || fail "B: not halted ($(lib_api GET "/api/campaigns/$b"))"
lib_api GET "/api/campaigns/$b" >"$w/b-halted.json"
[ "$(lib_json failures.0.reason <"$w/b-halted.json")" = ROLLED_BACK ] || fail "B: failure reason ROLLED_BACK: $(cat "$w/b-halted.json")"
lib_json failures.0.message <"$w/b-halted.json" | grep -q "self-test" || fail "B: the failure's sentence names the self-test"
[ "$(lib_json counts.pending <"$w/b-halted.json")" = 1 ] || fail "B: the second stage's device was not sent a request"
lib_json halt_reason <"$w/b-halted.json" | grep -q "halt_failure_percent" || fail "B: the halt says why"
lib_api GET /api/devices/b1 >"$w/b1.json"
[ "$(lib_json version <"$w/b1.json")" = 0.0.0 ] || fail "B: b1 shown on the version it runs (0.0.0)"
grep -q '"state":"rolled_back","version":"0.0.0","target":"1.1.0"' "$w/b1.json" ||
    fail "B: b1's timeline has its rollback"
say "campaign $b halted: b1 rolled back (ROLLED_BACK), shown on 0.0.0"
lib_api POST "/api/campaigns/$b/resume" >/dev/null
[ "$api_status" = 200 ] || fail "B: resume: $api_status"
wait_campaign "$b" state completed 120 || fail "B: not completed after resume ($(lib_api GET "/api/campaigns/$b"))"
[ "$(campaign_field "$b" counts.confirmed)" = 1 ] || fail "B: b2 confirmed"
[ "$(campaign_field "$b" counts.failed)" = 1 ] || fail "B: b1 failed, once"
say "campaign $b resumed and completed: 1 confirmed, 1 failed"

wait_campaign "$s" counts.failed 1 60 || fail "C: s1 not failed ($(lib_api GET "/api/campaigns/$s"))"
[ "$(campaign_field "$s" failures.0.reason)" = SILENT ] || fail "C: reason SILENT"
say "campaign $s: s1 failed SILENT"

# The metrics agree with the campaigns.
curl -s "$server_url/metrics" >"$w/metrics.txt"
grep -q "^cellota_campaign_devices{campaign=\"$a\",state=\"confirmed\"} 4" "$w/metrics.txt" || fail "metrics: campaign $a confirmed 4"
grep -q "^cellota_status_messages_total [1-9]" "$w/metrics.txt" || fail "metrics: status messages"
grep -q "^cellota_bytes_served_total [1-9]" "$w/metrics.txt" || fail "metrics: bytes served"

if [ "$failures" -ne 0 ]; then
    echo "--- server log" >&2
    cat "$server_log" >&2
    exit 1
fi
say "every check passed"
