#!/bin/sh
# The operator API's tokens and what a stolen one, or a tampered dashboard session, can do
# (docs/security.md):
#   1. first start: an operate token is made and printed; the store keeps only its SHA-256
#      (<store>/tokens), never the token, apart from the <store>/token copy for a local CLI;
#   2. `--new-token read`: reads every view (releases, campaigns, devices, summary) and gets 403
#      on an upload, a campaign, a pause and a tag change -- before the server reads the body;
#      `--new-token operate` does them; tokens made and revoked while the server runs count
#      within a second, and a revoked token gets 401;
#   3. a tampered session: a forged, truncated or extended token, the token in a cookie or in
#      the query string instead of the Authorization header (what a cross-site form could send),
#      another scheme -- each 401; a cross-origin preflight gets no CORS permission, and the
#      dashboard's pages may not be framed.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
lib_label="auth"

server=$CELLOTA_BIN/cellota-server
w=$lib_scratch/work
mkdir -p "$w"

# code TOKEN METHOD PATH [curl options]: the HTTP status only.
code() {
    token=$1
    method=$2
    path=$3
    shift 3
    curl -s -o "$w/answer.json" -w '%{http_code}' -X "$method" ${token:+-H "Authorization: Bearer $token"} \
        "$@" "$server_url$path"
}

# --- 1. first start: a token made, only its hash kept -----------------------------------------
server_token="" # lib_start_server gives --token; this test wants the first-start token
store=$lib_scratch/auth
port=$(random_port auth)
"$server" --http "127.0.0.1:$port" --store "$store" --mqtt 127.0.0.1:1 >"$w/first.log" 2>&1 &
first=$!
lib_pids="$lib_pids $first"
server_url=http://127.0.0.1:$port
lib_wait_for "$w/first.log" "made the API token (operate)" 10 || fail "no first token: $(cat "$w/first.log")"
operate=$(sed -n 's/.*made the API token (operate) [^:]*: \([0-9a-f]*\)$/\1/p' "$w/first.log")
[ ${#operate} = 64 ] || fail "the first token is not 64 hex digits: '$operate'"
[ "$(stat -c %a "$store/tokens")" = 600 ] || fail "<store>/tokens is not 0600"
grep -q "$operate" "$store/tokens" && fail "<store>/tokens holds the token in the clear"
hash=$(printf '%s' "$operate" | sha256sum | cut -d' ' -f1)
grep -qx "$hash operate first" "$store/tokens" || fail "<store>/tokens lacks the token's hash: $(cat "$store/tokens")"
# the copy for the CLI can go: the hash is enough
rm "$store/token"
kill "$first"
wait "$first" 2>/dev/null || true
"$server" --http "127.0.0.1:$port" --store "$store" --mqtt 127.0.0.1:1 >"$w/second.log" 2>&1 &
first=$!
lib_pids="$lib_pids $first"
tries=0
until curl -s -o /dev/null "$server_url/metrics" || [ $tries -gt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
grep -q "made the API token" "$w/second.log" && fail "a second start made another token"
[ "$(code "$operate" GET /api/summary)" = 200 ] || fail "the first token, known by its hash only, is refused"
echo "auth: the first token is printed once; the store keeps only its SHA-256"

# --- 2. scopes ---------------------------------------------------------------------------------
read=$("$server" --store "$store" --new-token read --token-name viewer 2>"$w/new.err")
[ ${#read} = 64 ] || fail "--new-token read printed '$read' ($(cat "$w/new.err"))"
grep -q "$read" "$store/tokens" && fail "the read token is stored in the clear"
"$server" --store "$store" --new-token read --token-name viewer >/dev/null 2>"$w/twice.err" &&
    fail "a second token named viewer"
grep -q "exists already" "$w/twice.err" || fail "the duplicate name's refusal: $(cat "$w/twice.err")"
"$server" --store "$store" --new-token admin >/dev/null 2>&1 && fail "--new-token admin accepted"
operate2=$("$server" --store "$store" --new-token operate --token-name pipeline 2>/dev/null)
sleep 1.2 # the running server reads <store>/tokens again within a second
head -c 4000 /dev/urandom >"$w/firmware.bin"
for path in /api/summary /api/releases /api/campaigns /api/devices; do
    [ "$(code "$read" GET "$path")" = 200 ] || fail "the read token cannot GET $path"
done
[ "$(code "$read" POST "/api/releases?version=1.0.0" --data-binary @"$w/firmware.bin")" = 403 ] ||
    fail "a read token uploaded a release"
grep -q '"error":"FORBIDDEN"' "$w/answer.json" || fail "403's body: $(cat "$w/answer.json")"
[ "$(code "$read" POST /api/campaigns -d '{"release":"1.0.0","devices":["d1"]}')" = 403 ] ||
    fail "a read token created a campaign"
[ "$(code "$read" PUT /api/devices/d1/tags -d '{"tags":["x"]}')" = 403 ] || fail "a read token changed tags"
# a 16 MiB upload with a read token: refused without the server holding it (answered at once)
head -c 16000000 /dev/zero >"$w/large.bin"
[ "$(code "$read" POST "/api/releases?version=9.0.0" --data-binary @"$w/large.bin")" = 403 ] ||
    fail "a large upload with a read token"
[ "$(code "$operate2" POST "/api/releases?version=1.0.0" --data-binary @"$w/firmware.bin")" = 201 ] ||
    fail "an operate token made while the server runs cannot upload: $(cat "$w/answer.json")"
[ "$(code "$operate2" POST /api/campaigns -d '{"release":"1.0.0","devices":["d1"]}')" = 201 ] ||
    fail "the operate token cannot create a campaign: $(cat "$w/answer.json")"
campaign=$(lib_json id <"$w/answer.json")
[ "$(code "$read" POST "/api/campaigns/$campaign/pause")" = 403 ] || fail "a read token paused a campaign"
[ "$(code "$read" GET "/api/campaigns/$campaign")" = 200 ] || fail "a read token cannot show a campaign"
[ "$(code "$operate" POST "/api/campaigns/$campaign/pause")" = 200 ] || fail "the operate token cannot pause"
"$server" --store "$store" --revoke-token viewer 2>/dev/null || fail "--revoke-token viewer"
"$server" --store "$store" --revoke-token viewer 2>/dev/null && fail "viewer revoked twice"
sleep 1.2
[ "$(code "$read" GET /api/summary)" = 401 ] || fail "a revoked token still reads"
[ "$(code "$operate2" GET /api/summary)" = 200 ] || fail "revoking viewer removed another token"
echo "auth: a read token reads and gets 403 on upload, campaign, pause and tags; tokens made and revoked while running"

# --- 3. a tampered session -----------------------------------------------------------------
truncated=$(printf '%s' "$operate" | cut -c1-63)
flipped=$(printf '%s' "$operate" | cut -c1-63)$(printf '%s' "$operate" | cut -c64 | tr '0-9a-f' '1-9a-f0')
for forged in "$truncated" "${operate}0" "$flipped" "$hash" "x"; do
    [ "$(code "$forged" GET /api/summary)" = 401 ] || fail "a forged token '$forged' was taken"
    [ "$(code "$forged" POST /api/campaigns -d '{"release":"1.0.0","devices":["d2"]}')" = 401 ] ||
        fail "a forged token created a campaign"
done
# what a form on another site makes a browser send: cookies, a query, no Authorization header
[ "$(code "" POST /api/campaigns -H "Cookie: token=$operate; cellota.token=$operate" \
    -H 'Content-Type: text/plain' -d '{"release":"1.0.0","devices":["d2"]}')" = 401 ] ||
    fail "a cookie alone created a campaign"
[ "$(code "" POST "/api/campaigns?token=$operate&access_token=$operate" \
    -d '{"release":"1.0.0","devices":["d2"]}')" = 401 ] || fail "a token in the query was taken"
[ "$(code "" GET /api/summary -H "Authorization: Basic $(printf 'x:%s' "$operate" | base64 -w0)")" = 401 ] ||
    fail "the token under another scheme was taken"
[ "$(code "" GET /api/summary -H "Authorization: bearer$operate")" = 401 ] || fail "a header without the space"
# a preflight from another origin is given no permission to send the Authorization header
curl -s -D "$w/preflight.txt" -o /dev/null -X OPTIONS -H "Origin: https://evil.example" \
    -H "Access-Control-Request-Method: POST" -H "Access-Control-Request-Headers: authorization" \
    "$server_url/api/campaigns"
grep -qi "^access-control-allow" "$w/preflight.txt" && fail "CORS permission given: $(cat "$w/preflight.txt")"
curl -s -D "$w/page.txt" -o /dev/null "$server_url/"
grep -qi "^x-frame-options: DENY" "$w/page.txt" || fail "the dashboard may be framed: $(cat "$w/page.txt")"
grep -qi "^content-security-policy:.*frame-ancestors 'none'" "$w/page.txt" ||
    fail "the dashboard has no Content-Security-Policy"
# no campaign came of any of it
code "$operate" GET /api/campaigns >/dev/null
lib_json total <"$w/answer.json" | grep -qx 1 || fail "a forged request made a campaign: $(cat "$w/answer.json")"
echo "auth: forged, truncated, cookie, query and Basic tokens refused (401); no CORS; no framing"

if [ "$failures" -ne 0 ]; then
    echo "auth: $failures failures; logs in $lib_scratch" >&2
    KEEP_SCRATCH=1
    exit 1
fi
echo "auth: every check passed"
