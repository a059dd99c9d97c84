# Image keys at rest (issue 12 item 5; docs/server.md "Keys at rest"): after uploads, neither the
# SQLite file (and its WAL) nor PostgreSQL's rows hold any image key -- not the full image's,
# the compressed one's, nor a delta's -- in hex (either case) or in binary; requests are built
# when a device asks (the keys learned here from those requests); the master key file is made
# 0600 and a readable one is refused; `cellota release retire` destroys the sealed keys (refused
# while an active campaign offers the release), after which the release is offered to nobody, a
# campaign for it is refused and the newest release is the one before; a certificate registered
# through the API makes that device's request wrapped; a release stored before sealing (its
# request, key in the clear) is sealed at start. No device agents: a
# device's status (its running image, that it decodes) is published with mosquitto_pub.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"

cellota=$CELLOTA_BIN/cellota
w=$lib_scratch/work
mkdir -p "$w"

expect_error() {
    error_name=$(lib_json error <"$lib_scratch/api.out" 2>/dev/null || true)
    if [ "$api_status" != "$2" ] || [ "$error_name" != "$3" ]; then
        fail "$1: $api_status $error_name, expected $2 $3 ($(cat "$lib_scratch/api.out"))"
    fi
}

# Two releases of one product: 1.1.0 changes a few places of 1.0.0.
"$lib_python" - "$w" <<'EOF'
import random, sys
r = random.Random(11)
words = [bytes(r.getrandbits(8) for _ in range(r.randint(4, 24))) for _ in range(400)]
old = bytearray(b"".join(r.choice(words) for _ in range(6000))[:90000])
new = bytearray(old)
for at in (1000, 30000, 61000):
    new[at:at + 40] = bytes(r.getrandbits(8) for _ in range(40))
open(sys.argv[1] + "/fw-1.0.0.bin", "wb").write(old)
open(sys.argv[1] + "/fw-1.1.0.bin", "wb").write(new)
EOF
base_sha=$(sha256sum "$w/fw-1.0.0.bin" | cut -d' ' -f1)
base_size=$(wc -c <"$w/fw-1.0.0.bin" | tr -d ' ')

# keys_absent WHAT FILE...: no key of keys.txt (hex) in FILE, as text in either case or as bytes.
keys_absent() {
    what=$1
    shift
    "$lib_python" - "$w/keys.txt" "$@" <<'EOF' || fail "$what holds an image key"
import sys
keys = [k.strip() for k in open(sys.argv[1]) if k.strip()]
found = False
for path in sys.argv[2:]:
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        continue
    for key in keys:
        for needle in (key.lower().encode(), key.upper().encode(), bytes.fromhex(key)):
            if needle in data:
                print("found key %s... in %s" % (key[:8], path), file=sys.stderr)
                found = True
sys.exit(1 if found else 0)
EOF
}

# key_of REQUEST: the clear key in a request's fw_info (bytes 16..31).
key_of() { lib_json fw_info <"$1" | cut -c 33-64; }

"$cellota" certs init --dir "$w/pki" >/dev/null
"$cellota" certs device api-1 --dir "$w/pki" >/dev/null
"$cellota" certs device other-1 --dir "$w/pki" >/dev/null
lib_start_mosquitto

# scenario NAME [--db SPEC]: everything above on one database.
scenario() {
    name=$1
    shift
    : >"$w/keys.txt"
    lib_start_server "$name" "$@"
    store=$server_store
    export CELLOTA_TOKEN="$server_token"
    [ -f "$store/master.key" ] || fail "$name: the master key is made on first start"
    [ "$(stat -c %a "$store/master.key")" = 600 ] || fail "$name: the master key is 0600"
    for version in 1.0.0 1.1.0; do
        lib_api POST "/api/releases?version=$version" --data-binary @"$w/fw-$version.bin" \
            >"$w/$name-$version.json"
        [ "$api_status" = 201 ] || fail "$name: upload $version: $api_status"
    done
    "$cellota" release show 1.1.0 --server "$server_url" >"$w/$name-show.out" 2>&1 ||
        fail "$name: release show"
    grep -q "variant     delta from 1.0.0" "$w/$name-show.out" ||
        fail "$name: 1.1.0 keeps a delta from 1.0.0: $(cat "$w/$name-show.out")"
    grep -q "variant     compressed" "$w/$name-show.out" || fail "$name: 1.1.0 is compressed too"

    # The keys, from requests built for devices: anyone (full), a device that does not decode
    # (full), one that decodes but runs an unknown image (compressed), one on 1.0.0 (delta).
    curl -s -o "$w/$name-anyone.json" "$server_url/ota.json"
    key_of "$w/$name-anyone.json" >>"$w/keys.txt"
    devices="plain-1 packs-1 delta-1"
    for device in $devices; do curl -s -o /dev/null "$server_url/version?device=$device"; done
    mosquitto_pub -p "$mosquitto_port" -q 1 -t cellota/packs-1/status \
        -m '{"state":"idle","version":"0.9.0","image":"4096:'"$base_sha"'","decodes":true}'
    mosquitto_pub -p "$mosquitto_port" -q 1 -t cellota/delta-1/status \
        -m '{"state":"idle","version":"1.0.0","image":"'"$base_size:$base_sha"'","decodes":true}'
    mosquitto_pub -p "$mosquitto_port" -q 1 -t cellota/plain-1/status \
        -m '{"state":"idle","version":"1.0.0","image":"'"$base_size:$base_sha"'"}'
    tries=0
    until lib_api GET /api/devices/delta-1 | grep -q '"decodes":true' &&
        lib_api GET /api/devices/packs-1 | grep -q '"decodes":true'; do
        tries=$((tries + 1))
        [ $tries -lt 50 ] || { fail "$name: the statuses were not recorded"; break; }
        sleep 0.1
    done
    lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["plain-1","packs-1","delta-1"]}' \
        >"$w/$name-campaign.json"
    [ "$api_status" = 201 ] || fail "$name: campaign: $api_status $(cat "$lib_scratch/api.out")"
    campaign=$(lib_json id <"$w/$name-campaign.json")
    for device in $devices; do
        curl -s -o "$w/$name-$device.json" "$server_url/ota.json?device=$device"
        key_of "$w/$name-$device.json" >>"$w/keys.txt"
    done
    [ "$(lib_json encoding <"$w/$name-plain-1.json")" = "" ] ||
        fail "$name: a device that does not decode gets the full image"
    [ "$(lib_json encoding <"$w/$name-packs-1.json")" = compressed ] ||
        fail "$name: a decoding device on an unknown base gets the compressed image"
    [ "$(lib_json encoding <"$w/$name-delta-1.json")" = patch ] ||
        fail "$name: a decoding device on 1.0.0 gets the delta"
    [ "$(lib_json base <"$w/$name-delta-1.json")" = "$base_size:$base_sha" ] ||
        fail "$name: the delta names 1.0.0 as its base"
    lib_json url <"$w/$name-delta-1.json" | grep -q "?c=$campaign&e=delta$" ||
        fail "$name: the delta's URL counts its bytes as the campaign's delta bytes"
    # Each variant's request decrypts with its key (the delta against 1.0.0).
    for device in $devices; do
        curl -s -o "$w/$name-$device.ebin" "$(lib_json url <"$w/$name-$device.json")"
        base_option=""
        [ "$device" = delta-1 ] && base_option="--base $w/fw-1.0.0.bin"
        # shellcheck disable=SC2086
        "$cellota" verify --request "$w/$name-$device.json" --image "$w/$name-$device.ebin" \
            --pub "$store/server.pub.pem" $base_option --out "$w/$name-$device.out" \
            >"$w/verify.out" 2>&1 || fail "$name: verify $device's request: $(cat "$w/verify.out")"
        cmp -s "$w/$name-$device.out" "$w/fw-1.1.0.bin" || fail "$name: $device's image is 1.1.0"
    done
    # A certificate registered through the API: that device's request is wrapped to it.
    lib_api PUT /api/devices/api-1/certificate --data-binary "not a certificate" >/dev/null
    expect_error "$name: a body that is no certificate" 400 BAD_CERTIFICATE
    lib_api PUT /api/devices/api-1/certificate --data-binary @"$w/pki/other-1.crt" >/dev/null
    expect_error "$name: another device's certificate" 400 BAD_CERTIFICATE
    lib_api PUT /api/devices/api-1/certificate --data-binary @"$w/pki/api-1.crt" >/dev/null
    [ "$api_status" = 200 ] || fail "$name: register api-1's certificate: $api_status"
    lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["api-1"]}' >/dev/null
    curl -s -o "$w/$name-api-1.json" "$server_url/ota.json?device=api-1"
    [ "$(lib_json device <"$w/$name-api-1.json")" = api-1 ] &&
        [ -n "$(lib_json wrapped_key <"$w/$name-api-1.json")" ] &&
        [ "$(key_of "$w/$name-api-1.json")" = 00000000000000000000000000000000 ] ||
        fail "$name: api-1's request is wrapped to its registered certificate: $(cat "$w/$name-api-1.json")"
    [ "$(sort -u "$w/keys.txt" | wc -l)" = 3 ] ||
        fail "$name: three variants under three keys: $(sort -u "$w/keys.txt" | tr '\n' ' ')"
    sleep 0.3 # the byte counters' batch

    # At rest: no key anywhere in the database.
    if [ "$name" = sqlite ]; then
        keys_absent "$name: the SQLite file" "$store/cellota.db" "$store/cellota.db-wal"
        sqlite3 "$store/cellota.db" "SELECT count(*) FROM release_variants WHERE length(sealed_key) = 88" \
            >"$w/sealed.out"
    else
        pg_dump -h 127.0.0.1 -p "$postgres_port" -U postgres postgres >"$w/pg.sql" 2>&1 ||
            fail "pg_dump: $(head -3 "$w/pg.sql")"
        keys_absent "$name: PostgreSQL's rows (pg_dump)" "$w/pg.sql"
        psql -h 127.0.0.1 -p "$postgres_port" -U postgres -At \
            -c "SELECT count(*) FROM release_variants WHERE length(sealed_key) = 88" >"$w/sealed.out"
    fi
    # 1.0.0: full + compressed; 1.1.0: full + compressed + delta
    [ "$(cat "$w/sealed.out")" = 5 ] || fail "$name: five sealed keys: $(cat "$w/sealed.out")"
    keys_absent "$name: the server's log" "$server_log"

    # Retiring: refused while the campaign is active, then the keys go.
    lib_api POST /api/releases/1.1.0/retire >/dev/null
    expect_error "$name: retire during a campaign" 409 RELEASE_IN_USE
    lib_api POST "/api/campaigns/$campaign/abort" >/dev/null
    lib_api POST "/api/campaigns/$((campaign + 1))/abort" >/dev/null
    "$cellota" release retire 1.1.0 --server "$server_url" >"$w/$name-retire.out" 2>&1 ||
        fail "$name: cellota release retire: $(cat "$w/$name-retire.out")"
    grep -q "retired" "$w/$name-retire.out" || fail "$name: retire shows the release retired"
    if [ "$name" = sqlite ]; then
        sqlite3 "$store/cellota.db" \
            "SELECT count(*) FROM release_variants WHERE release = '1.1.0' AND sealed_key <> ''" \
            >"$w/sealed.out"
    else
        psql -h 127.0.0.1 -p "$postgres_port" -U postgres -At -c \
            "SELECT count(*) FROM release_variants WHERE release = '1.1.0' AND sealed_key <> ''" \
            >"$w/sealed.out"
    fi
    [ "$(cat "$w/sealed.out")" = 0 ] || fail "$name: retired: no sealed key of 1.1.0 is left"
    lib_api POST /api/campaigns -d '{"release":"1.1.0","devices":["plain-1"]}' >/dev/null
    expect_error "$name: a campaign for a retired release" 409 RELEASE_RETIRED
    [ "$(curl -s "$server_url/version")" = 1.0.0 ] ||
        fail "$name: the newest release offered is 1.0.0 after 1.1.0 is retired"
    curl -s -o "$w/$name-after.json" "$server_url/ota.json"
    [ "$(lib_json version <"$w/$name-after.json")" = 1.0.0 ] || fail "$name: /ota.json offers 1.0.0"
    lib_api GET /api/releases/1.1.0 >"$w/$name-retired.json"
    [ -n "$(lib_json retired_at <"$w/$name-retired.json")" ] || fail "$name: retired_at is shown"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
}

scenario sqlite

# A database from before sealing: a release whose request (key in the clear) is stored and which
# has no variants. At start the server seals its key and clears the request.
db=$lib_scratch/sqlite/cellota.db
key_of "$w/sqlite-after.json" >"$w/keys.txt" # 1.0.0's key, answered to anyone above
sqlite3 "$db" "DELETE FROM release_variants WHERE release = '1.0.0';
    UPDATE releases SET request = readfile('$w/sqlite-after.json') WHERE version = '1.0.0'"
lib_start_server sqlite
grep -q "release 1.0.0: stored before keys were sealed: its key is sealed now" "$server_log" ||
    fail "a stored request's key is sealed at start"
[ "$(sqlite3 "$db" "SELECT length(request) FROM releases WHERE version = '1.0.0'")" = 0 ] ||
    fail "the stored request is cleared"
curl -s -o "$w/upgraded.json" "$server_url/ota.json"
[ "$(key_of "$w/upgraded.json")" = "$(cat "$w/keys.txt")" ] ||
    fail "the upgraded release is offered with its own key"
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
# secure_delete: the overwritten request is zeroed, not left in a free page (after the
# server's last connection closed and checkpointed its WAL)
keys_absent "the upgraded SQLite file" "$db" "$db-wal"
start_postgres "$lib_scratch"
scenario postgres --db "$postgres_url"

# A master key others can read is refused (exit 3), as is one that is not a key.
lib_start_server loose --mqtt 127.0.0.1:1
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
chmod 644 "$server_store/master.key"
set +e
"$CELLOTA_BIN/cellota-server" --http 127.0.0.1:1 --store "$server_store" --mqtt 127.0.0.1:1 \
    >"$w/loose.out" 2>&1
[ $? -eq 3 ] || fail "a master key readable by others exits 3"
set -e

if [ $failures -ne 0 ]; then
    echo "test_server_sealed: $failures failure(s)" >&2
    exit 1
fi
echo "test_server_sealed: ok"
