# cellota-server's HTTP API with curl (docs/server.md): exit codes, the token, bad inputs and
# their JSON errors, release upload (pack, sign, store) checked with `cellota verify` against the
# server's public key, images (Range, suffix, 416, ETag/304, If-Range, HEAD, no traversal),
# per-device polling and polling without identity, /firmware.bin opt-in, campaigns' operator
# commands and errors, devices and tags, /api/summary and /metrics. Quick: no device agents.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

server_bin=$CELLOTA_BIN/cellota-server
cellota=$CELLOTA_BIN/cellota
w=$lib_scratch/work
mkdir -p "$w"

# expect_status WHAT STATUS: the last lib_api call answered STATUS.
expect_status() {
    if [ "$api_status" != "$2" ]; then fail "$1: status $api_status, expected $2 ($(cat "$lib_scratch/api.out"))"; fi
}

# expect_error WHAT STATUS NAME: ... with {"error":"NAME",...}
expect_error() {
    expect_status "$1" "$2"
    name=$(lib_json error <"$lib_scratch/api.out" 2>/dev/null || true)
    message=$(lib_json message <"$lib_scratch/api.out" 2>/dev/null || true)
    if [ "$name" != "$3" ] || [ -z "$message" ]; then
        fail "$1: error '$name' ('$message'), expected $3 with a sentence"
    fi
}

# http STATUS-FILE URL [curl options]: a request without the token; the status into $http_status.
http() {
    url=$1
    shift
    http_status=$(curl -s -o "$lib_scratch/http.out" -D "$lib_scratch/http.headers" \
        -w '%{http_code}' "$@" "$url")
}

header() { tr -d '\r' <"$lib_scratch/http.headers" | grep -i "^$1:" | head -n 1 | cut -d' ' -f2-; }

# --- the program's contract -----------------------------------------------------------------
"$server_bin" --help >"$w/help.out" || fail "--help exits 0"
grep -q -- "--public-url" "$w/help.out" || fail "--help lists --public-url"
set +e
"$server_bin" --no-such-option >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown option exits 2"
"$server_bin" --http nonsense >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --http exits 2"
"$server_bin" --store "$w/bad" --db mysql://x --http 127.0.0.1:1 >"$w/baddb.out" 2>&1
[ $? -eq 3 ] || fail "a bad --db exits 3"
grep -q "cellota-server: database:" "$w/baddb.out" || fail "a bad --db says why in one line"
set -e

# No broker: every request a device gets here is the answer to its poll, so counts are exact
# (the MQTT path is test_server_campaign.sh's).
lib_start_server api --mqtt 127.0.0.1:1
set +e
"$server_bin" --http "127.0.0.1:$server_port" --store "$w/second" --token x123456789 \
    >"$w/busy.out" 2>&1
[ $? -eq 4 ] || fail "a port in use exits 4"
set -e

# --- the token ------------------------------------------------------------------------------
http "$server_url/api/releases"
[ "$http_status" = 401 ] || fail "no token: $http_status, expected 401"
grep -q '"error":"UNAUTHORIZED"' "$lib_scratch/http.out" || fail "no token: JSON error"
http "$server_url/api/releases" -H "Authorization: Bearer wrong-token-0123456789"
[ "$http_status" = 401 ] || fail "wrong token: $http_status, expected 401"
http "$server_url/api/releases" -H "Authorization: Basic dGVzdA=="
[ "$http_status" = 401 ] || fail "not a bearer token: $http_status, expected 401"
lib_api GET /api/releases >/dev/null
expect_status "the token" 200
lib_api GET /api/nothing-here >/dev/null
expect_error "unknown path" 404 NOT_FOUND
lib_api DELETE /api/releases >/dev/null
expect_error "wrong method" 405 METHOD_NOT_ALLOWED

# --- releases -------------------------------------------------------------------------------
head -c 70000 /dev/urandom >"$w/fw-1.1.0.bin"
head -c 80000 /dev/urandom >"$w/fw-1.2.0.bin"
: >"$w/empty.bin"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero >"$w/huge.bin"
lib_api POST "/api/releases?version=banana" --data-binary @"$w/fw-1.1.0.bin" >/dev/null
expect_error "not semver" 400 BAD_VERSION
lib_api POST "/api/releases" --data-binary @"$w/fw-1.1.0.bin" >/dev/null
expect_error "no version" 400 BAD_VERSION
lib_api POST "/api/releases?version=1.1.0" --data-binary @"$w/empty.bin" >/dev/null
expect_error "empty image" 400 EMPTY_IMAGE
lib_api POST "/api/releases?version=1.1.0" --data-binary @"$w/huge.bin" >/dev/null
expect_error "oversize image" 413 IMAGE_TOO_LARGE
lib_api POST "/api/releases?version=1.1.0&load_address=banana" --data-binary @"$w/fw-1.1.0.bin" >/dev/null
expect_error "bad load address" 400 BAD_LOAD_ADDRESS
lib_api POST "/api/releases?version=1.1.0&notes=first" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$w/fw-1.1.0.bin" >"$w/release.json"
expect_status "upload 1.1.0" 201
sha=$(lib_json sha256 <"$w/release.json")
[ "$(lib_json load_address <"$w/release.json")" = 0 ] || fail "the default load address is 0 (the slot's)"
[ "$(lib_json plain_size <"$w/release.json")" = 70000 ] || fail "plain_size"
[ "$(lib_json url <"$w/release.json")" = "$server_url/images/$sha.ebin" ] || fail "url"
lib_api POST "/api/releases?version=1.1.0" --data-binary @"$w/fw-1.1.0.bin" >/dev/null
expect_error "duplicate version" 409 VERSION_EXISTS
lib_api GET /api/releases/1.1.0 >/dev/null
expect_status "one release" 200
lib_api GET /api/releases/9.9.9 >/dev/null
expect_error "unknown release" 404 UNKNOWN_RELEASE
[ -f "$server_store/images/$sha.ebin" ] || fail "the image is stored under its sha256"

# Polling without identity (seed 000): the newest release and its signed request.
http "$server_url/version"
[ "$http_status" = 200 ] && [ "$(cat "$lib_scratch/http.out")" = 1.1.0 ] || fail "/version: 1.1.0"
curl -s -o "$w/ota.json" "$server_url/ota.json"
curl -s -o "$w/server.pub.pem" "$server_url/keys/server.pub.pem"
curl -s -o "$w/image.ebin" "$server_url/images/$sha.ebin"
"$cellota" verify --request "$w/ota.json" --image "$w/image.ebin" --pub "$w/server.pub.pem" \
    --out "$w/plain.bin" >"$w/verify.out" 2>&1 || fail "cellota verify of the server's release: $(cat "$w/verify.out")"
cmp -s "$w/plain.bin" "$w/fw-1.1.0.bin" || fail "the release decrypts to the uploaded image"
# The image key (fw_info bytes 16..31) lives only in the stored request, never in a log line.
image_key=$(lib_json fw_info <"$w/ota.json" | cut -c 33-64)
[ ${#image_key} -eq 32 ] || fail "the request's fw_info has a key"
if grep -qi "$image_key" "$server_log"; then fail "the log holds the image key"; fi
http "$server_url/firmware.bin"
[ "$http_status" = 404 ] || fail "/firmware.bin without plain=1: $http_status, expected 404"

lib_api POST "/api/releases?version=1.2.0&plain=1" --data-binary @"$w/fw-1.2.0.bin" >"$w/release2.json"
expect_status "upload 1.2.0 plain" 201
sha2=$(lib_json sha256 <"$w/release2.json")
curl -s -o "$w/firmware.bin" "$server_url/firmware.bin"
cmp -s "$w/firmware.bin" "$w/fw-1.2.0.bin" || fail "/firmware.bin serves the plain 1.2.0"
[ "$(curl -s "$server_url/version")" = 1.2.0 ] || fail "/version: the newest is 1.2.0"
lib_api GET "/api/releases?limit=1" >"$w/list.json"
[ "$(lib_json total <"$w/list.json")" = 2 ] || fail "two releases"
[ "$(lib_json items.0.version <"$w/list.json")" = 1.2.0 ] || fail "newest first, limit 1"
lib_api GET "/api/releases?limit=0" >/dev/null
expect_error "limit 0" 400 BAD_LIMIT

# --- images ---------------------------------------------------------------------------------
size=$(wc -c <"$w/image.ebin" | tr -d ' ')
http "$server_url/images/$sha.ebin" -H "Range: bytes=100-199"
[ "$http_status" = 206 ] || fail "Range: $http_status, expected 206"
[ "$(header Content-Range)" = "bytes 100-199/$size" ] || fail "Content-Range: $(header Content-Range)"
dd if="$w/image.ebin" bs=1 skip=100 count=100 2>/dev/null | cmp -s - "$lib_scratch/http.out" || fail "the range's bytes"
http "$server_url/images/$sha.ebin" -H "Range: bytes=-16"
[ "$http_status" = 206 ] && [ "$(wc -c <"$lib_scratch/http.out" | tr -d ' ')" = 16 ] || fail "suffix range"
http "$server_url/images/$sha.ebin" -H "Range: bytes=$size-"
[ "$http_status" = 416 ] || fail "unsatisfiable range: $http_status"
[ "$(header Content-Range)" = "bytes */$size" ] || fail "416 Content-Range"
[ "$(header ETag)" = "\"$sha\"" ] || true
http "$server_url/images/$sha.ebin" -H "If-None-Match: \"$sha\""
[ "$http_status" = 304 ] || fail "If-None-Match: $http_status, expected 304"
http "$server_url/images/$sha.ebin" -H "Range: bytes=0-9" -H "If-Range: \"$sha\""
[ "$http_status" = 206 ] || fail "If-Range with the tag keeps the range"
http "$server_url/images/$sha.ebin" -H "Range: bytes=0-9" -H "If-Range: \"other\""
[ "$http_status" = 200 ] || fail "If-Range with another tag: the whole image"
http "$server_url/images/$sha.ebin" -I
[ "$http_status" = 200 ] && [ "$(header Content-Length)" = "$size" ] || fail "HEAD: $http_status"
[ "$(header ETag)" = "\"$sha\"" ] || fail "ETag: $(header ETag)"
http "$server_url/images/..%2Fserver.pem"
[ "$http_status" = 404 ] || fail "traversal: $http_status"
http "$server_url/images/$(echo "$sha" | tr a-f A-F).ebin"
[ "$http_status" = 404 ] || fail "upper-case name: $http_status"
http "$server_url/images/../server.pem" --path-as-is
[ "$http_status" = 404 ] || fail "../ in the path: $http_status"
grep -q "EC PRIVATE KEY" "$lib_scratch/http.out" && fail "the signing key was served"

# --- per-device polling and campaigns -------------------------------------------------------
[ "$(curl -s "$server_url/version?device=d1")" = 0.0.0 ] || fail "an unknown device: 0.0.0 (nothing newer)"
curl -s "$server_url/version?device=d2" >/dev/null
http "$server_url/version?device=bad/id"
[ "$http_status" = 400 ] || fail "a bad device id: $http_status"
http "$server_url/ota.json?device=d1"
[ "$http_status" = 404 ] && grep -q NO_UPDATE "$lib_scratch/http.out" || fail "no campaign: 404 NO_UPDATE"

lib_api POST /api/campaigns -d '{"release":"1.1.0",' >/dev/null
expect_error "malformed JSON" 400 BAD_JSON
lib_api POST /api/campaigns -d '{"release":"7.7.7"}' >/dev/null
expect_error "unknown release" 404 UNKNOWN_RELEASE
lib_api POST /api/campaigns -d '{"release":"1.1.0","stages":[50,10]}' >/dev/null
expect_error "falling stages" 400 BAD_STAGES
lib_api POST /api/campaigns -d '{"release":"1.1.0","halt_failure_percent":101}' >/dev/null
expect_error "a bad percentage" 400 BAD_CAMPAIGN
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["d1","d1"]}' >/dev/null
expect_error "a device twice" 400 BAD_DEVICE
lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["d1","d2"],"stages":[50,100],"name":"first"}' >"$w/campaign.json"
expect_status "create" 201
campaign=$(lib_json id <"$w/campaign.json")
[ "$(lib_json state <"$w/campaign.json")" = running ] || fail "a new campaign runs"
[ "$(lib_json targeted <"$w/campaign.json")" = 2 ] || fail "two targets"
lib_api POST /api/campaigns -d '{"release":"1.2.0","devices":["d2"]}' >/dev/null
expect_error "one active campaign per device" 409 DEVICE_BUSY
grep -q d2 "$lib_scratch/api.out" || fail "DEVICE_BUSY names the device"

# Stage 1 is 50% of 2 devices: d1 is offered 1.1.0, d2 nothing yet.
[ "$(curl -s "$server_url/version?device=d1")" = 1.1.0 ] || fail "d1 polls: 1.1.0"
[ "$(curl -s "$server_url/version?device=d2")" = 0.0.0 ] || fail "d2 polls: not yet"
curl -s -o "$w/d1.json" "$server_url/ota.json?device=d1"
[ "$(lib_json id <"$w/d1.json")" = "$campaign" ] || fail "d1's request carries the campaign id"
case "$(lib_json url <"$w/d1.json")" in *"/images/$sha.ebin?c=$campaign") ;; *) fail "d1's url names the campaign" ;; esac
"$cellota" verify --request "$w/d1.json" --image "$w/image.ebin" --pub "$w/server.pub.pem" >/dev/null 2>&1 ||
    fail "d1's request verifies with the server's key"
http "$server_url/ota.json?device=d2"
[ "$http_status" = 404 ] || fail "d2: no request yet"
[ "$(curl -s "$server_url/d/d1/version")" = 1.1.0 ] || fail "the path form /d/d1/version"
http "$server_url/d/d2/ota.json"
[ "$http_status" = 404 ] || fail "the path form /d/d2/ota.json: no request yet"
curl -s -o /dev/null "$server_url/images/$sha.ebin?c=$campaign"
sleep 0.3
lib_api GET "/api/campaigns/$campaign" >"$w/show.json"
[ "$(lib_json counts.notified <"$w/show.json")" = 1 ] || fail "d1 counted notified after its poll"
[ "$(lib_json requests_published <"$w/show.json")" = 1 ] || fail "one request handed out"
[ "$(lib_json bytes_served <"$w/show.json")" = "$size" ] || fail "bytes served counted: $(lib_json bytes_served <"$w/show.json")"
lib_json cost.projected_total_usd <"$w/show.json" >/dev/null || fail "cost shown"
lib_api GET "/api/campaigns/$campaign/devices?state=notified" >"$w/targets.json"
[ "$(lib_json items.0.device <"$w/targets.json")" = d1 ] || fail "the notified device listed"
lib_api GET "/api/campaigns/$campaign/devices?state=banana" >/dev/null
expect_error "a bad state filter" 400 BAD_STATE

lib_api POST "/api/campaigns/$campaign/pause" >"$w/paused.json"
expect_status "pause" 200
[ "$(lib_json state <"$w/paused.json")" = paused ] || fail "paused"
[ "$(curl -s "$server_url/version?device=d1")" = 0.0.0 ] || fail "a paused campaign offers nothing"
lib_api POST "/api/campaigns/$campaign/pause" >/dev/null
expect_error "pause twice" 409 BAD_STATE
lib_api POST "/api/campaigns/$campaign/resume" >/dev/null
expect_status "resume" 200
lib_api POST "/api/campaigns/$campaign/abort" >"$w/aborted.json"
[ "$(lib_json state <"$w/aborted.json")" = aborted ] || fail "aborted"
lib_api POST "/api/campaigns/$campaign/resume" >/dev/null
expect_error "resume an aborted campaign" 409 BAD_STATE
lib_api GET /api/campaigns/424242 >/dev/null
expect_error "unknown campaign" 404 UNKNOWN_CAMPAIGN
lib_api GET /api/campaigns/abc >/dev/null
expect_error "a campaign id that is not one" 404 UNKNOWN_CAMPAIGN

# --- devices --------------------------------------------------------------------------------
lib_api PUT /api/devices/d1/tags -d '{"tags":["north","beta"]}' >/dev/null
expect_status "tags" 200
lib_api PUT /api/devices/d1/tags -d '{"tags":["no spaces"]}' >/dev/null
expect_error "a bad tag" 400 BAD_TAG
lib_api PUT /api/devices/nobody/tags -d '{"tags":["a"]}' >/dev/null
expect_error "tags of an unknown device" 404 UNKNOWN_DEVICE
lib_api GET "/api/devices?tag=beta" >"$w/tagged.json"
[ "$(lib_json total <"$w/tagged.json")" = 1 ] || fail "filter by tag"
lib_api GET "/api/devices/d1" >"$w/d1-device.json"
expect_status "one device" 200
[ "$(lib_json online <"$w/d1-device.json")" = true ] || fail "a polling device counts as online"
lib_api GET /api/devices/nobody >/dev/null
expect_error "unknown device" 404 UNKNOWN_DEVICE
lib_api POST /api/campaigns -d '{"release":"1.1.0","tag":"beta"}' >"$w/by-tag.json"
expect_status "a campaign by tag" 201
[ "$(lib_json targeted <"$w/by-tag.json")" = 1 ] || fail "the tag's one device targeted"

lib_api GET /api/summary >"$w/summary.json"
[ "$(lib_json devices <"$w/summary.json")" = 2 ] || fail "summary: 2 devices"
[ "$(lib_json releases <"$w/summary.json")" = 2 ] || fail "summary: 2 releases"
[ "$(lib_json campaigns_active <"$w/summary.json")" = 1 ] || fail "summary: 1 active campaign"
curl -s "$server_url/metrics" >"$w/metrics.txt"
grep -q "^cellota_bytes_served_total [1-9]" "$w/metrics.txt" || fail "metrics: bytes served"
grep -q "^cellota_campaign_devices{campaign=\"$campaign\",state=\"notified\"} 1" "$w/metrics.txt" || fail "metrics: the campaign's notified device"
grep -q "^cellota_requests_published_total 1" "$w/metrics.txt" || fail "metrics: requests published"
grep -q "^cellota_devices_online 2" "$w/metrics.txt" || fail "metrics: devices online"

# --- a clean stop ---------------------------------------------------------------------------
kill -TERM "$server_pid"
set +e
wait "$server_pid"
status=$?
set -e
[ "$status" = 0 ] || fail "SIGTERM: exit $status, expected 0"

if [ "$failures" -ne 0 ]; then
    echo "server log:" >&2
    cat "$server_log" >&2
    exit 1
fi
echo "server api: every check passed"
