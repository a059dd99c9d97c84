# The dashboard in a real browser (issue 9): headless Chromium driven by playwright-core
# (tests/browser/dashboard.test.mjs) against cellota-server (SQLite) with mosquitto and four
# real device agents -- cellota-device over cellota-modem on a pty, one per SIMCom model, the
# SIM7000 one with a self-test that fails. The page does what an operator does: log in, upload a
# release, run a staged campaign (50,100) to 100% confirmed with a pause and a resume, and read
# the failed device's sentence. Afterwards the API is asked whether the page told the truth.
#
# Screenshots are kept in the scratch folder (KEEP_SCRATCH=1) or copied to $DASHBOARD_SCREENSHOTS.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

browser_folder=$CELLOTA_SOURCE/tests/browser
w=$lib_scratch/work
mkdir -p "$w"
started=$(date +%s)

for tool in node npm /usr/bin/chromium; do
    command -v "$tool" >/dev/null 2>&1 || { echo "test_dashboard: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
# playwright-core, exactly as the lockfile pins it (installed again when what is there differs);
# its own browser download is never used.
wanted=$(node -p "require('$browser_folder/package-lock.json').packages['node_modules/playwright-core'].version")
installed=$(node -p "require('$browser_folder/node_modules/playwright-core/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$wanted" ]; then
    (cd "$browser_folder" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
        { echo "test_dashboard: npm ci failed in tests/browser" >&2; exit 1; }
fi

# --- the fleet ----------------------------------------------------------------------------------
lib_start_mosquitto
lib_start_server server --dashboard "$CELLOTA_SOURCE/host/server/dashboard"
curl -sf -o "$w/server.pub.pem" "$server_url/keys/server.pub.pem" || { echo "no server key" >&2; exit 1; }

# device ID MODEL [cellota-device options]: an emulated modem of MODEL on its own pty and the
# agent on it, running until the test ends; it learns of updates over MQTT.
device() {
    id=$1
    model=$2
    shift 2
    lib_launch_modem "$lib_scratch/modem-$id.out" "$model"
    lib_background "device-$id" "$CELLOTA_BIN/cellota-device" --port "$modem_pty" --modem "$model" \
        --flash "$w/$id.flash" --server "$server_url" --mqtt "127.0.0.1:$mosquitto_port" \
        --id "$id" --pub "$w/server.pub.pem" --poll-interval 0 "$@"
}
device dash-sim7600 sim7600
device dash-sim7070 sim7070
device dash-sim800 sim800
device dash-sim7000 sim7000 --self-test-fail
good=dash-sim7600,dash-sim7070,dash-sim800
failing=dash-sim7000

head -c 24576 /dev/urandom >"$w/firmware.bin"
version=1.1.0

# --- the browser -----------------------------------------------------------------------------
set +e
SCRATCH=$lib_scratch DASHBOARD_URL=$server_url CELLOTA_TOKEN=$server_token \
    FIRMWARE=$w/firmware.bin VERSION=$version GOOD_DEVICES=$good FAILING_DEVICE=$failing \
    timeout 300 node "$browser_folder/dashboard.test.mjs"
browser_status=$?
set -e
[ "$browser_status" -eq 0 ] || fail "the browser test (status $browser_status)"
if [ -n "${DASHBOARD_SCREENSHOTS:-}" ]; then
    mkdir -p "$DASHBOARD_SCREENSHOTS"
    cp "$lib_scratch"/screenshots/*.png "$DASHBOARD_SCREENSHOTS"/ 2>/dev/null || true
fi

# --- what the API says happened --------------------------------------------------------------
lib_api GET "/api/campaigns?limit=10" >"$w/campaigns.json"
"$lib_python" - "$w/campaigns.json" "$version" "$good" "$failing" >"$w/verdict.out" 2>&1 <<'PY' || fail "$(cat "$w/verdict.out")"
import json, sys
campaigns = {c["id"]: c for c in json.load(open(sys.argv[1]))["items"]}
version, good, failing = sys.argv[2], sys.argv[3].split(","), sys.argv[4]
problems = []
rollout = [c for c in campaigns.values() if c["targeted"] == len(good)]
if len(rollout) != 1:
    problems.append(f"one campaign over the {len(good)} good devices, found {len(rollout)}")
else:
    c = rollout[0]
    if c["state"] != "completed" or c["counts"]["confirmed"] != len(good) or c["stages"] != [50, 100]:
        problems.append(f"rollout: {c['state']}, {c['counts']}, stages {c['stages']}")
    if c["bytes_served"] <= 0:
        problems.append("rollout: no bytes served counted")
single = [c for c in campaigns.values() if c["targeted"] == 1]
if len(single) != 1 or single[0]["counts"]["failed"] != 1:
    problems.append(f"the failing device's campaign: {[(c['state'], c['counts']) for c in single]}")
elif not any("self-test" in f["message"] for f in single[0]["failures"]):
    problems.append(f"the failure's sentence: {single[0]['failures']}")
print("; ".join(problems) or "ok")
sys.exit(1 if problems else 0)
PY
for id in $(echo "$good" | tr ',' ' '); do
    lib_api GET "/api/devices/$id" >"$w/$id.json"
    [ "$(lib_json version <"$w/$id.json")" = "$version" ] || fail "$id runs $(lib_json version <"$w/$id.json"), not $version"
done
lib_api GET "/api/devices/$failing" >"$w/$failing.json"
[ "$(lib_json version <"$w/$failing.json")" = 0.0.0 ] || fail "$failing should have rolled back to 0.0.0"

elapsed=$(($(date +%s) - started))
if [ "$failures" -ne 0 ]; then
    echo "test_dashboard: $failures failures; the server's log:" >&2
    tail -n 40 "$server_log" >&2
    for log in "$lib_scratch"/device-*.log; do
        echo "--- $log" >&2
        tr '\r' '\n' <"$log" | grep -v '^download ' | tail -n 15 >&2
    done
    exit 1
fi
echo "test_dashboard: the dashboard ran a staged campaign over 4 device agents in a browser, ${elapsed} s"
