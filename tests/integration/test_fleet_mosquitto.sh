# cellota-fleet against the real broker and nginx, without the server: a fleet of simulated
# devices (the four modem models in turn, some meeting a dropped connection, a modem reset or a
# power cut during their download) gets one update request each through mosquitto, downloads
# the image from nginx, installs it through its bootloader, reboots and confirms. Checked twice:
# by the fleet's own count and by what the broker carried -- every device's last status on
# cellota/<id>/status says "confirmed" on the new version.
# FLEET_DEVICES (default 200), FLEET_FAULTS (default 0.3) and FLEET_IMAGE_SIZE (bytes, default
# 65536) change the size of the fleet, the fault rate and the image.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

devices=${FLEET_DEVICES:-200}
faults=${FLEET_FAULTS:-0.3}
work=$lib_scratch
mkdir -p "$work/www"
head -c "${FLEET_IMAGE_SIZE:-65536}" /dev/urandom >"$work/firmware.bin"

nginx_connections=$((devices * 2 + 64)) # every device may download at once
lib_start_nginx "$work/www"
# A broker keeps 1,000 QoS 1 messages queued for one client and drops the rest: the server (or
# the test's watcher) takes a status from every device at once.
mosquitto_extra="max_queued_messages 1000000
max_inflight_messages 1000"
lib_start_mosquitto
# Devices install only signed requests (the agent's default): the operator's key signs it.
"$CELLOTA_BIN/cellota" keygen --out "$work/operator.pem" >/dev/null
"$CELLOTA_BIN/cellota" pack "$work/firmware.bin" --version 1.0.0 --sign "$work/operator.pem" \
    --url "http://127.0.0.1:$nginx_port/image.ebin" --load-addr 0 --out "$work/release" >/dev/null
cp "$work/release/image.ebin" "$work/www/"
chmod o+r "$work/www/image.ebin"

# What the broker carries: every status message, with its topic.
lib_background statuses mosquitto_sub -h 127.0.0.1 -p "$mosquitto_port" -v -t 'cellota/+/status'
statuses_pid=$background_pid
sleep 0.3

status=0
"$CELLOTA_BIN/cellota-fleet" --devices "$devices" --faults "$faults" --seed 7 \
    --server "http://127.0.0.1:$nginx_port" --mqtt "127.0.0.1:$mosquitto_port" \
    --request "$work/release/ota.json" --pub "$work/operator.pub.pem" --timeout 600 --quiet >"$work/summary.txt" || status=$?
cat "$work/summary.txt"
[ "$status" -eq 0 ] || { echo "FAIL: cellota-fleet exited $status"; exit 1; }
grep -q "^fleet: devices=$devices confirmed=$devices failed=0 " "$work/summary.txt" ||
    { echo "FAIL: not every device confirmed"; exit 1; }
# The fault plan was carried out: with this seed and rate some of each kind happen.
for kind in "dropped connections" "modem resets" "power cuts"; do
    grep -Eq "$kind [1-9]" "$work/summary.txt" || { echo "FAIL: no $kind injected"; exit 1; }
done
grep -q "rule violations" "$work/summary.txt" && grep -q " 0 rule violations" "$work/summary.txt" ||
    { echo "FAIL: the flash rules were broken"; exit 1; }

# The broker's view: the last status of each device is confirmed on 1.0.0.
sleep 0.5
kill "$statuses_pid" 2>/dev/null || true
confirmed=$(awk '{ last[$1] = $0 } END { for (t in last) print last[t] }' "$work/statuses.log" |
    grep '"state":"confirmed"' | grep -c '"version":"1.0.0"' || true)
echo "broker: $confirmed devices' last status is confirmed on 1.0.0"
[ "$confirmed" -eq "$devices" ] || { echo "FAIL: the broker saw $confirmed of $devices confirm"; exit 1; }
echo "PASS: $devices devices confirmed 1.0.0 through mosquitto and nginx"
