# Two cellota-servers on one PostgreSQL run one campaign between them (issue 10, item 4), and
# one is killed (-9) halfway: the other finishes it with exact counts.
#
#   PostgreSQL, one mosquitto, servers A and B on the same database and the same store (images,
#   signing key), both subscribed; nginx on loopback balances the image downloads over A and B
#   (the campaign's `url` is nginx: --public-url), as a load balancer or CDN does in front of a
#   deployment (docs/operations.md). cellota-fleet runs TWO_DEVICES devices that poll through
#   nginx at every start (--poll: about half reach each server; after the kill, B) and take
#   their requests over MQTT. The campaign is created
#   through A's API at a rate that spreads it over twenty seconds; when an eighth of the devices
#   began downloading, A is killed with SIGKILL: B publishes the rest and serves every image after.
#
# Checked: every device confirmed, none failed; the campaign completed with
# targeted = confirmed = N, failed 0; every target notified at most once (attempts <= 1) and
# requests_published = N + R where R is at most the requests A had in flight (claimed, PUBACK
# not recorded) when it died -- read from the database right after the kill -- plus the
# requests handed to devices that polled (/ota.json) after the campaign began; both servers
# recorded statuses and published requests; the image bytes the campaign counts (both servers
# add to it) are at most what the devices received and fall short of it by at most the answers
# A was sending when it died (one image per device downloading then).
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

devices=${TWO_DEVICES:-400}
w=$lib_scratch
fail() {
    echo "FAIL: $*"
    for log in a b fleet; do
        [ -f "$w/$log.log" ] && { echo "--- $log"; tail -n 8 "$w/$log.log"; }
    done
    exit 1
}
head -c "${TWO_IMAGE_SIZE:-65536}" /dev/urandom >"$w/firmware.bin"

start_postgres "$lib_scratch"
psql_binary=$postgres_bin/psql
sql() { "$psql_binary" -X -q -t -A -d "$postgres_url" -c "$1"; }

mosquitto_extra="max_queued_messages 1000000
max_inflight_messages 1000"
lib_start_mosquitto

# The load balancer's port is chosen first: it is the servers' public URL.
balancer_port=$(random_port balancer)
CELLOTA_LEASE_S=5
export CELLOTA_LEASE_S
lib_start_server a --db "$postgres_url" --public-url "http://127.0.0.1:$balancer_port"
a_url=$server_url a_pid=$server_pid a_port=$server_port a_log=$server_log a_store=$server_store
ln -s "$a_store" "$w/b" # one store: the images and the signing key
lib_start_server b --db "$postgres_url" --public-url "http://127.0.0.1:$balancer_port"
b_url=$server_url b_pid=$server_pid b_port=$server_port b_log=$server_log
a_id=$(sed -n 's/^cellota-server: server id \([^,]*\),.*/\1/p' "$a_log")
[ -n "$a_id" ] || fail "server A logged no id"
lib_wait_for "$a_log" "2 servers on the database" 10 || fail "A does not see B"

nginx_wanted_port=$balancer_port
nginx_http_extra="upstream cellota { server 127.0.0.1:$a_port max_fails=1 fail_timeout=60s;
        server 127.0.0.1:$b_port max_fails=1 fail_timeout=60s; keepalive 64; }
    log_format upstream '\$status \$body_bytes_sent \$uri \$upstream_addr';"
lib_start_nginx "$w" "access_log $w/upstream.log upstream;
        location / { proxy_pass http://cellota; proxy_http_version 1.1;
            proxy_set_header Connection \"\"; proxy_buffering off;
            proxy_next_upstream error timeout http_502; }"

server_url=$a_url
lib_api POST "/api/releases?version=1.0.0&load_address=0" --data-binary @"$w/firmware.bin" \
    -H "Content-Type: application/octet-stream" >"$w/release.json"
[ "$api_status" = 201 ] || fail "upload: $api_status $(cat "$w/release.json")"
image_size=$(lib_json size <"$w/release.json")

lib_background fleet "$CELLOTA_BIN/cellota-fleet" --devices "$devices" --seed 5 \
    --server "http://127.0.0.1:$balancer_port" --poll --mqtt "127.0.0.1:$mosquitto_port" \
    --expect 1.0.0 --pub "$a_store/server.pub.pem" --timeout 240 --quiet
fleet_pid=$background_pid

limit=$(($(date +%s) + 90))
until [ "$(lib_api GET /api/summary | lib_json devices)" = "$devices" ]; do
    [ "$(date +%s)" -le "$limit" ] || fail "the servers know $(lib_api GET /api/summary | lib_json devices) of $devices devices"
    sleep 0.5
done
# A rate that spreads the requests over about twenty seconds (each server has its own
# allowance: together twice the rate), so A dies with some in flight and B has most to publish.
lib_api POST /api/campaigns -d "{\"release\":\"1.0.0\",\"devices\":\"all\",
    \"rate_per_minute\":$((devices * 3 / 2)),\"halt_failure_percent\":100,\"name\":\"two\"}" >"$w/campaign.json"
[ "$api_status" = 201 ] || fail "campaign: $api_status $(cat "$w/campaign.json")"
campaign=$(lib_json id <"$w/campaign.json")

limit=$(($(date +%s) + 120))
begun() { # devices the servers heard downloading or further
    lib_api GET "/api/campaigns/$campaign" >"$w/now.json"
    echo $(($(lib_json counts.downloading <"$w/now.json") + $(lib_json counts.installing <"$w/now.json") + $(lib_json counts.confirmed <"$w/now.json")))
}
published() { sql "SELECT requests_published FROM campaigns WHERE id = $campaign"; }
# An eighth downloading, or half the requests out on a machine where downloads start slowly:
# either way B has requests left to publish after the kill.
until [ "$(begun)" -ge $((devices / 8)) ] || [ "$(published)" -ge $((devices / 2)) ]; do
    [ "$(date +%s)" -le "$limit" ] || fail "an eighth not begun: $(lib_json counts <"$w/now.json")"
    sleep 0.2
done
kill -9 "$a_pid"
killed_at=$(date +%s)
# A's claims whose PUBACK it had not recorded: the requests it may have had in flight.
in_flight=$(sql "SELECT count(*) FROM targets WHERE campaign = $campaign AND state = 'pending'
                 AND leased_by = '$a_id' AND lease_until >= $killed_at - 1")
confirmed_at_kill=$(sql "SELECT confirmed FROM campaigns WHERE id = $campaign")
published_at_kill=$(sql "SELECT requests_published FROM campaigns WHERE id = $campaign")
downloading=$(sql "SELECT count(*) FROM targets WHERE campaign = $campaign AND state IN ('notified', 'downloading')")
echo "killed A ($a_id) with $published_at_kill requests published, $confirmed_at_kill devices confirmed: $in_flight of its requests in flight, $downloading devices notified or downloading"
server_url=$b_url

status=0
wait "$fleet_pid" || status=$?
grep -q "^fleet: devices=$devices confirmed=$devices failed=0 " "$w/fleet.log" ||
    fail "$(grep -A2 '^cellota-fleet' "$w/fleet.log") (exit $status)"

limit=$(($(date +%s) + 60))
until [ "$(lib_api GET "/api/campaigns/$campaign" | lib_json state)" = completed ]; do
    [ "$(date +%s)" -le "$limit" ] || fail "not completed: $(lib_api GET "/api/campaigns/$campaign")"
    sleep 0.5
done
lib_api GET "/api/campaigns/$campaign" >"$w/final.json"
lib_check_json "$w/final.json" "targeted $devices" "counts.confirmed $devices" "counts.failed 0"
# A device that polls after the campaign began fetches its request (/ota.json): one more request
# counted, besides the one published to it over MQTT.
handed_out=$(awk '$1 == 200 && $3 == "/ota.json" { n++ } END { print n + 0 }' "$w/upstream.log")
# A device that connected to the broker while its request was in flight (the broker may have
# dropped it: no session yet) is sent it again, once; each such is logged.
sent_again=$(cat "$a_log" "$b_log" | grep -c "^campaign $campaign: device .*: request sent again" || true)
published=$(lib_json requests_published <"$w/final.json")
# Fewer when A died before recording acknowledgements of requests the devices got (their
# targets went from pending to downloading on the status); more by A's requests in flight
# published again, by requests handed to polls and by those sent again.
[ "$published" -ge $((devices - in_flight)) ] && [ "$published" -le $((devices + in_flight + handed_out + sent_again)) ] ||
    fail "requests published $published: not within $devices +- $in_flight in flight at the kill (+ $handed_out handed to polls, + $sent_again sent again)"
twice=$(sql "SELECT count(*) FROM targets WHERE campaign = $campaign AND attempts > 1")
[ "$twice" = 0 ] || fail "$twice devices notified twice"

# Both servers took part: each published requests and recorded statuses.
grep -q "campaign $campaign: device .* pending -> notified" "$a_log" || fail "A recorded no request"
grep -q "campaign $campaign: device .* pending -> notified" "$b_log" || fail "B recorded no request"
grep -q "campaign $campaign: device .* notified -> downloading" "$a_log" || fail "A recorded no status"
grep -q "campaign $campaign: device .* -> confirmed" "$b_log" || fail "B recorded no confirmation"
grep -q "mqtt: subscribed again" "$b_log" || fail "B did not read the retained statuses again"
# Exactly once: no target moved twice into the same state (a transition is logged by the one
# server whose conditional write made it).
duplicates=$(cat "$a_log" "$b_log" | grep "^campaign $campaign: device .* -> confirmed" | sort | uniq -d | wc -l)
[ "$duplicates" = 0 ] || fail "$duplicates confirmations recorded twice"
confirmations=$(cat "$a_log" "$b_log" | grep -c "^campaign $campaign: device .* -> confirmed")
[ "$confirmations" = "$devices" ] || fail "$confirmations confirmations logged, not $devices"

# Bytes: the devices' count against the campaign's (both servers add to it) and nginx's, per
# server.
received=$(sed -n 's/^  image bytes downloaded \([0-9]*\),.*/\1/p' "$w/fleet.log")
served=$(lib_json bytes_served <"$w/final.json")
# The last address is the server that answered (nginx lists the ones it tried before).
served_by() {
    awk -v at="127.0.0.1:$1" -v path="$2" '$NF == at && ($1 == 200 || $1 == 206) && index($3, path) == 1 { n++; s += $2 }
        END { print (path == "/images/" ? s : n) + 0 }' "$w/upstream.log"
}
from_a=$(served_by "$a_port" /images/)
from_b=$(served_by "$b_port" /images/)
echo "bytes: devices received $received, campaign counts $served, nginx passed on $from_a from A and $from_b from B"
[ "$from_a" -gt 0 ] && [ "$from_b" -gt 0 ] || fail "one server served no image bytes"
for port in "$a_port" "$b_port"; do
    [ "$(served_by "$port" /version)" -gt 0 ] || fail "the server on $port answered no poll"
done
[ "$served" -le "$received" ] || fail "the campaign counts $served bytes, more than the devices received ($received)"
[ $((received - served)) -le $((downloading * image_size)) ] ||
    fail "the campaign counts $served bytes, $((received - served)) short of the devices' $received (at most $downloading answers in progress at the kill)"
[ $((from_a + from_b)) -eq "$received" ] || fail "nginx passed on $((from_a + from_b)) bytes, the devices received $received"
echo "PASS: two servers on one PostgreSQL, A killed with $published_at_kill published and $confirmed_at_kill confirmed: $devices confirmed, requests published $published (in flight at the kill $in_flight, handed to polls $handed_out, sent again $sent_again), each device notified at most once"
