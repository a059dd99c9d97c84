# The end-to-end test of one modem model, sourced by test_device_<model>.sh with MODEL set:
# cellota-modem (pty) + cellota-device + nginx serving what `cellota pack` made + mosquitto, all
# on 127.0.0.1.
#   1. polling: the device finds 1.1.0, downloads, reboots into it through the bootloader,
#      confirms, reports over MQTT; run again: up to date, nothing downloaded;
#   2. an MQTT request (mosquitto_pub -q 1) for 1.2.0 while the server still says 1.1.0;
#   3. faults: corrupted UART bytes (8E1), sockets closed after N bytes, modem resets after N
#      bytes, a registration loss, a power cut (kill -9) in the middle of the download -- each
#      update completes, the installed image is byte-exact, and the bytes fetched again are
#      printed (at most one erase page each);
#   4. a failing self-test rolls back to the factory image and is reported;
#   5. (SIM7600) the modem-staged strategy: the image downloaded into the modem's file system,
#      installed by the bootloader into the one slot of nrf52840-1mb, and a rollback from there.
: "${MODEL:?MODEL must name the modem}"
# LINK_OPTIONS: given to both cellota-modem and cellota-device (e.g. --flow-control: RTS/CTS,
# with which a SIM7600 pushes its data -- test_device_sim7600_pushed.sh).
LINK_OPTIONS=${LINK_OPTIONS:-}
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
lib_label=$MODEL

cellota=$CELLOTA_BIN/cellota
device_bin=$CELLOTA_BIN/cellota-device
w=$lib_scratch/work
mkdir -p "$w/www"
PAGE=4096
SLOT1=$((0x210000)) # esp32-4mb ota_1




# The device's output with its progress line broken into lines.
output_of() { tr '\r' '\n' <"$w/$1.out"; }

# The image in esp32-4mb's second slot of flash file $1 equals firmware $2?
slot1_holds() {
    size=$(wc -c <"$2" | tr -d ' ')
    dd if="$1" bs=$PAGE skip=$((SLOT1 / PAGE)) count=$(((size + PAGE - 1) / PAGE)) 2>/dev/null |
        head -c "$size" | cmp -s - "$2"
}

# device NAME [options]: cellota-device for device NAME (its own flash) on the current modem.
device() {
    name=$1
    shift
    set +e
    # shellcheck disable=SC2086
    timeout 600 "$device_bin" --port "$modem_pty" --modem "$MODEL" --flash "$w/$name.flash" \
        --server "$base" --mqtt "127.0.0.1:$mosquitto_port" --id "$name" \
        --pub "$w/operator.pub.pem" $LINK_OPTIONS "$@" >>"$w/$name.out" 2>&1
    device_status=$?
    set -e
}

# Bytes fetched again in a run, as the device counted them.
redownloaded() {
    output_of "$1" | sed -n 's/.*bytes received, \([0-9]*\) of them re-downloaded.*/\1/p' |
        awk '{ total += $1 } END { print total + 0 }'
}

faults_seen() {
    output_of "$1" | grep -c "attempt failed at byte" || true
}

# --- the release ------------------------------------------------------------------------------
"$cellota" keygen --out "$w/operator.pem" >/dev/null
head -c 65636 /dev/urandom >"$w/firmware-1.1.0.bin"
head -c 70000 /dev/urandom >"$w/firmware-1.2.0.bin"
lib_start_nginx "$w/www"
lib_start_mosquitto
base=http://127.0.0.1:$nginx_port
for version in 1.1.0 1.2.0; do
    "$cellota" pack "$w/firmware-$version.bin" --version "$version" --out "$w/www/$version" \
        --sign "$w/operator.pem" --url "$base/$version/image.ebin" --load-addr 0 \
        --id "campaign-$version" >/dev/null
done
chmod -R a+rX "$w/www"
cp "$w/www/1.1.0/ota.json" "$w/www/ota.json"
echo 1.1.0 >"$w/www/version"
chmod a+r "$w/www/ota.json" "$w/www/version"
image_size=$(wc -c <"$w/www/1.1.0/image.ebin" | tr -d ' ')

lib_background status mosquitto_sub -h 127.0.0.1 -p "$mosquitto_port" -v -t 'cellota/#'
status_log=$lib_scratch/status.log
sleep 0.3

# --- 1. polling ------------------------------------------------------------------------------
lib_start_modem "$MODEL" $LINK_OPTIONS
device poll --once
check "poll: --once exits 0 (status $device_status)" [ "$device_status" -eq 0 ]
check "poll: runs 1.1.0" contains "$w/poll.out" "running 1.1.0, the newest version, confirmed"
check "poll: rebooted into slot 1 on trial" contains "$w/poll.out" "slot 1 (security version 1001000) on trial"
check "poll: slot 1 holds 1.1.0" slot1_holds "$w/poll.flash" "$w/firmware-1.1.0.bin"
check "poll: progress shown" sh -c "tr '\r' '\n' <'$w/poll.out' | grep -q 'download 1.1.0: $image_size/$image_size bytes 100%'"
check "poll: status downloading over MQTT" lib_wait_for "$status_log" 'cellota/poll/status {"state":"downloading"' 5
check "poll: status confirmed over MQTT" lib_wait_for "$status_log" 'cellota/poll/status {"state":"confirmed","version":"1.1.0"' 5
check "poll: online announced" contains "$status_log" "cellota/poll/online online"
check "poll: the device named itself to nginx" contains "$nginx_log" 'GET /version?device=poll '
check "poll: its model reported" contains "$status_log" "\"model\":\"$MODEL\""
images_before=$(grep -c 'GET /1.1.0/image.ebin' "$nginx_log" || true)
device poll --once
check "again: --once exits 0" [ "$device_status" -eq 0 ]
check "again: up to date" lib_wait_for "$status_log" 'cellota/poll/status {"state":"up_to_date","version":"1.1.0"' 5
images_after=$(grep -c 'GET /1.1.0/image.ebin' "$nginx_log" || true)
check "again: nothing downloaded ($images_before then $images_after image requests)" \
    [ "$images_before" -eq "$images_after" ]
echo "$MODEL: poll: updated to 1.1.0 and confirmed; second run up to date, 0 image bytes"

# --- 2. an MQTT request ----------------------------------------------------------------------
lib_background mqtt_device "$device_bin" --port "$modem_pty" --modem "$MODEL" \
    --flash "$w/poll.flash" --server "$base" --mqtt "127.0.0.1:$mosquitto_port" --id poll \
    --pub "$w/operator.pub.pem" --poll-interval 0 $LINK_OPTIONS
mqtt_device=$background_pid
if lib_wait_for "$lib_scratch/mqtt_device.log" "running 1.1.0, the newest version" 120; then
    sleep 1 # subscribed
    mosquitto_pub -h 127.0.0.1 -p "$mosquitto_port" -q 1 -t cellota/poll/update \
        -f "$w/www/1.2.0/ota.json"
    check "mqtt: confirmed 1.2.0" lib_wait_for "$status_log" \
        'cellota/poll/status {"state":"confirmed","version":"1.2.0"' 300
else
    fail "mqtt: the device did not come up"
fi
kill -TERM "$mqtt_device" 2>/dev/null || true
set +e
wait "$mqtt_device"
mqtt_status=$?
set -e
check "mqtt: stops cleanly on SIGTERM (status $mqtt_status)" [ "$mqtt_status" -eq 0 ]
check "mqtt: campaign reported" contains "$status_log" '"campaign":"campaign-1.2.0"'
check "mqtt: offline published on a clean stop" sh -c "tail -n 3 '$status_log' | grep -q 'cellota/poll/online offline'"
# Every stop of device "poll" was clean: an MQTT DISCONNECT, never a dropped connection that
# makes the broker publish the last will (a second "offline").
check "mqtt: every disconnect clean, no last will" sh -c "grep -q 'Client poll disconnected' '$mosquitto_log' && ! grep -q 'Client poll closed its connection' '$mosquitto_log'"
check "mqtt: slot 0 holds 1.2.0" sh -c "dd if='$w/poll.flash' bs=$PAGE skip=32 count=18 2>/dev/null | head -c 70000 | cmp -s - '$w/firmware-1.2.0.bin'"
echo "$MODEL: mqtt: request over MQTT (QoS 1) installed 1.2.0 and confirmed"
lib_stop_modem

# --- 3. faults -------------------------------------------------------------------------------
# fault NAME DEVICE_OPTIONS -- MODEM_OPTIONS: one update with the fault on.
fault() {
    name=$1
    device_options=$2
    shift 2
    # shellcheck disable=SC2086
    lib_start_modem "$MODEL" $LINK_OPTIONS "$@"
    # shellcheck disable=SC2086
    device "$name" --once $device_options
    lib_stop_modem
    check "$name: --once exits 0 (status $device_status)" [ "$device_status" -eq 0 ]
    check "$name: runs 1.1.0" contains "$w/$name.out" "running 1.1.0, the newest version, confirmed"
    check "$name: slot 1 holds 1.1.0 exactly" slot1_holds "$w/$name.flash" "$w/firmware-1.1.0.bin"
    trials=$(grep -c "on trial" "$w/$name.out" || true)
    check "$name: one image staged and booted ($trials)" [ "$trials" -eq 1 ]
    seen=$(faults_seen "$name")
    again=$(redownloaded "$name")
    check "$name: the fault happened ($seen failed attempts)" [ "$seen" -ge 1 ]
    check "$name: at most a page fetched again per fault ($again bytes, $seen faults)" \
        [ "$again" -le $((seen * PAGE)) ]
    echo "$MODEL: fault $name: $seen failed attempts, $again bytes re-downloaded, update completed"
}

fault corrupt "--parity" --parity --corrupt-rate 0.0002 --seed 7
fault close "" --close-after 20000
fault reset "" --reset-after 30000
fault registration "" --lose-registration-after 25000 --lose-registration-for 4000

# A power cut: kill -9 in the middle of the download, then power on again.
lib_start_modem "$MODEL" $LINK_OPTIONS
lib_background cut "$device_bin" --port "$modem_pty" --modem "$MODEL" --flash "$w/cut.flash" \
    --server "$base" --mqtt "127.0.0.1:$mosquitto_port" --id cut --pub "$w/operator.pub.pem" --once \
    $LINK_OPTIONS
cut_pid=$background_pid
reached=0
tries=0
while [ "$reached" -lt 30000 ] && [ $tries -lt 1200 ]; do
    reached=$(tr '\r' '\n' <"$lib_scratch/cut.log" | sed -n 's/^download 1.1.0: \([0-9]*\)\/.*/\1/p' | tail -n 1)
    reached=${reached:-0}
    tries=$((tries + 1))
    sleep 0.1
done
kill -KILL "$cut_pid" 2>/dev/null || true
wait "$cut_pid" 2>/dev/null || true
cp "$lib_scratch/cut.log" "$w/cut.out"
device cut --once
lib_stop_modem
resumed=$(output_of cut | sed -n 's/.*resuming the download of 1.1.0 at byte \([0-9]*\).*/\1/p' | tail -n 1)
resumed=${resumed:-0}
check "power cut: killed mid-download (at >= $reached bytes)" [ "$reached" -ge 30000 ]
check "power cut: --once exits 0 after power on" [ "$device_status" -eq 0 ]
check "power cut: resumed from a checkpoint ($resumed)" [ "$resumed" -gt 0 ]
check "power cut: resumed on a page boundary" [ $((resumed % PAGE)) -eq 0 ]
check "power cut: at most a page fetched again ($reached - $resumed)" [ $((reached - resumed)) -le $PAGE ]
check "power cut: slot 1 holds 1.1.0 exactly" slot1_holds "$w/cut.flash" "$w/firmware-1.1.0.bin"
again=$((reached - resumed))
[ "$again" -ge 0 ] || again=0 # the progress line is printed at most every 250 ms
echo "$MODEL: fault power-cut: killed at >= $reached bytes, resumed at $resumed: at least $again bytes re-downloaded (<= $PAGE by design)"

# --- 4. a failing self-test ------------------------------------------------------------------
lib_start_modem "$MODEL" $LINK_OPTIONS
device selftest --once --self-test-fail
check "self-test: --once fails (status $device_status)" [ "$device_status" -eq 1 ]
check "self-test: says why" contains "$w/selftest.out" "failed its self-test"
check "self-test: rolled back to 0.0.0" contains "$w/selftest.out" "application: version 0.0.0"
check "self-test: rolled_back over MQTT" lib_wait_for "$status_log" \
    'cellota/selftest/status {"state":"rolled_back","version":"0.0.0","target":"1.1.0"' 5
check "self-test: error named" contains "$status_log" '"error_name":"AGENT_SELF_TEST_FAILED"'
device selftest --once
check "self-test: not taken again (status $device_status)" [ "$device_status" -eq 1 ]
check "self-test: rejected version named" contains "$w/selftest.out" "AGENT_VERSION_REJECTED"
lib_stop_modem
echo "$MODEL: self-test failure: rolled back to 0.0.0 and reported"

# --- 5. modem-staged (SIM7600 only: the image waits in the modem's own files) ---------------
if [ "$MODEL" = sim7600 ]; then
    mkdir -p "$w/www/nrf" "$w/modemfs"
    # nrf52840-1mb: one application slot at 0x1000; cellota pack's default load address (0: the
    # slot's own) fits it as it fits esp32-4mb
    "$cellota" pack "$w/firmware-1.1.0.bin" --version 1.1.0 --out "$w/www/nrf/1.1.0" \
        --sign "$w/operator.pem" --url "$base/nrf/1.1.0/image.ebin" >/dev/null
    cp "$w/www/nrf/1.1.0/ota.json" "$w/www/nrf/ota.json"
    echo 1.1.0 >"$w/www/nrf/version"
    chmod -R a+rX "$w/www/nrf"
    slot0_holds() {
        dd if="$1" bs=$PAGE skip=1 count=17 2>/dev/null | head -c 65636 | cmp -s - "$2"
    }
    modem_device() {
        name=$1
        shift
        set +e
        timeout 600 "$device_bin" --port "$modem_pty" --modem sim7600 --flash "$w/$name.flash" \
            --server "$base/nrf" --mqtt "127.0.0.1:$mosquitto_port" --id "$name" \
            --pub "$w/operator.pub.pem" --layout nrf52840-1mb --strategy modem $LINK_OPTIONS "$@" \
            >>"$w/$name.out" 2>&1
        device_status=$?
        set -e
    }
    lib_start_modem sim7600 --fs-dir "$w/modemfs" $LINK_OPTIONS
    modem_device staged --once
    check "modem-staged: --once exits 0 (status $device_status)" [ "$device_status" -eq 0 ]
    check "modem-staged: runs 1.1.0" contains "$w/staged.out" "running 1.1.0, the newest version, confirmed"
    check "modem-staged: installed by the bootloader into the one slot" slot0_holds "$w/staged.flash" "$w/firmware-1.1.0.bin"
    check "modem-staged: the image waits in the modem's files" [ -f "$w/modemfs/cellota_a.bin.0" ]
    check "modem-staged: the factory image too, for rollback" [ -f "$w/modemfs/cellota_f.bin.0" ]
    echo "$MODEL: modem-staged: 1.1.0 downloaded into the modem's files, installed by the bootloader, confirmed"

    # A failing self-test: the bootloader reinstalls the factory image from the modem.
    modem_device staged_rollback --once --self-test-fail
    check "modem-staged rollback: --once fails" [ "$device_status" -eq 1 ]
    check "modem-staged rollback: back on 0.0.0" contains "$w/staged_rollback.out" "application: version 0.0.0"
    check "modem-staged rollback: reported" contains "$w/staged_rollback.out" "AGENT_SELF_TEST_FAILED"
    check "modem-staged rollback: the slot no longer holds 1.1.0" sh -c "! dd if='$w/staged_rollback.flash' bs=$PAGE skip=1 count=17 2>/dev/null | head -c 65636 | cmp -s - '$w/firmware-1.1.0.bin'"
    lib_stop_modem
    echo "$MODEL: modem-staged: a failing self-test reinstalled the factory image from the modem"
fi

if [ "$failures" -ne 0 ]; then
    echo "$MODEL: $failures of $checks checks failed; device outputs:" >&2
    for out in "$w"/*.out; do
        echo "--- $out" >&2
        tr '\r' '\n' <"$out" | grep -v '^download ' | tail -n 40 >&2
    done
    exit 1
fi
echo "$MODEL: $checks checks passed"
