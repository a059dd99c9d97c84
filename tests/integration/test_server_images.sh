#!/bin/sh
# Image hosting checked with the curl command, as an operator or a CDN would see it: GET and HEAD
# of /images/<sha256>.ebin with Range (A-B, A-, suffix, past the end, several, malformed), ETag,
# If-None-Match, If-Range, keep-alive, unknown and malformed names; the bytes compared with the
# file, the answer's image bytes compared with what the server counted, and the file sent with
# sendfile (strace, when this machine lets it attach). Served by cellota-images-harness: the
# server's image code on the server's daemon configuration.
. "$CELLOTA_SOURCE/tests/integration/lib.sh"
cd "$lib_scratch"

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

mkdir -p store/images
head -c 524304 /dev/urandom >image
sha=$(sha256sum image | cut -d' ' -f1)
cp image "store/images/$sha.ebin"
size=524304

# strace -f shows whether the body left by sendfile; without ptrace rights, run it bare.
tracer=""
if command -v strace >/dev/null 2>&1 && strace -f -e trace=none -o /dev/null true 2>/dev/null; then
    tracer="strace -f -e trace=sendfile,read,pread64 -o $lib_scratch/trace"
    # LeakSanitizer cannot run under ptrace (the ASan build of make test): leave it out here.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    export ASAN_OPTIONS
fi
$tracer "$CELLOTA_BIN/cellota-images-harness" --store store --http 127.0.0.1:0 >harness.out 2>&1 &
harness_pid=$!
lib_pids="$lib_pids $harness_pid"
tries=0
until grep -q '^listening on' harness.out 2>/dev/null; do
    tries=$((tries + 1))
    if [ $tries -gt 200 ]; then
        cat harness.out >&2
        exit 1
    fi
    sleep 0.05
done
base=$(sed -n 's/^listening on \(http:.*\)$/\1/p' harness.out)
url="$base/images/$sha.ebin"
served=0 # image bytes the answers below carried, to compare with the harness's count

# fetch NAME [curl arguments]: one request; sets status, and leaves NAME.headers, NAME.body.
fetch() {
    name=$1
    shift
    status=$(curl -s -D "$name.headers" -o "$name.body" -w '%{http_code}' "$@") || status=curl-failed
}

# header NAME FIELD: the field's value in NAME.headers (case-insensitive name, no CR).
header() {
    tr -d '\r' <"$1.headers" | awk -v field="$2" 'BEGIN { field = tolower(field) }
        { split($0, part, ": "); if (tolower(part[1]) == field) { sub(/^[^:]*: /, ""); print } }'
}

expect_status() {
    [ "$status" = "$2" ] || fail "$1: status $status, expected $2"
}

expect_header() {
    value=$(header "$1" "$2")
    [ "$value" = "$3" ] || fail "$1: $2 is '$value', expected '$3'"
}

# expect_bytes NAME FIRST COUNT: NAME.body is COUNT bytes of the image from FIRST.
expect_bytes() {
    dd if=image of="$1.expected" bs=4096 iflag=skip_bytes,count_bytes skip="$2" count="$3" 2>/dev/null
    cmp -s "$1.body" "$1.expected" || fail "$1: the body is not bytes $2+$3 of the image"
    served=$((served + $3))
}

expect_validators() {
    expect_header "$1" ETag "\"$sha\""
    expect_header "$1" Accept-Ranges bytes
    expect_header "$1" Cache-Control "public, max-age=31536000, immutable"
}

# partial NAME RANGE FIRST LAST
partial() {
    fetch "$1" -H "Range: $2" "$url"
    expect_status "$1" 206
    expect_header "$1" Content-Range "bytes $3-$4/$size"
    expect_header "$1" Content-Length $(($4 - $3 + 1))
    expect_header "$1" Content-Type application/octet-stream
    expect_validators "$1"
    expect_bytes "$1" "$3" $(($4 - $3 + 1))
}

# whole NAME [curl arguments]
whole() {
    name=$1
    shift
    fetch "$name" "$@" "$url"
    expect_status "$name" 200
    expect_header "$name" Content-Length "$size"
    [ -z "$(header "$name" Content-Range)" ] || fail "$name: a Content-Range on a 200"
    expect_validators "$name"
    expect_bytes "$name" 0 "$size"
}

# unsatisfiable NAME RANGE
unsatisfiable() {
    fetch "$1" -H "Range: $2" "$url"
    expect_status "$1" 416
    expect_header "$1" Content-Range "bytes */$size"
    grep -q '"error":"RANGE_NOT_SATISFIABLE"' "$1.body" || fail "$1: no JSON error body"
}

# not_modified NAME IF-NONE-MATCH
not_modified() {
    fetch "$1" -H "If-None-Match: $2" "$url"
    expect_status "$1" 304
    expect_validators "$1"
    [ ! -s "$1.body" ] || fail "$1: a 304 with a body"
}

whole whole_get
partial first_byte "bytes=0-0" 0 0
partial first_block "bytes=0-4095" 0 4095
partial middle "bytes=100000-299999" 100000 299999
partial resume "bytes=524288-" 524288 $((size - 1))
partial last_past_end "bytes=524000-999999" 524000 $((size - 1))
partial suffix "bytes=-16" $((size - 16)) $((size - 1))
partial suffix_longer "bytes=-1000000" 0 $((size - 1))
partial huge_last "bytes=10-99999999999999999999999999" 10 $((size - 1))
unsatisfiable at_end "bytes=$size-"
unsatisfiable past_end "bytes=600000-700000"
unsatisfiable zero_suffix "bytes=-0"
unsatisfiable huge_first "bytes=99999999999999999999999999-"
whole several_ranges -H "Range: bytes=0-9,20-29"
whole malformed_range -H "Range: bytes=0 - 9"
whole inverted_range -H "Range: bytes=9-0"
whole other_unit -H "Range: items=0-9"
not_modified etag_match "\"$sha\""
not_modified etag_weak "W/\"$sha\""
not_modified etag_list "\"old\", \"$sha\""
not_modified etag_star "*"
whole etag_other -H 'If-None-Match: "old"'
fetch if_range_match -H "Range: bytes=5-9" -H "If-Range: \"$sha\"" "$url"
expect_status if_range_match 206
expect_header if_range_match Content-Range "bytes 5-9/$size"
expect_bytes if_range_match 5 5
whole if_range_other -H "Range: bytes=5-9" -H 'If-Range: "old"'
whole if_range_weak -H "Range: bytes=5-9" -H "If-Range: W/\"$sha\""
whole if_range_date -H "Range: bytes=5-9" -H "If-Range: Mon, 07 Dec 2026 09:30:00 GMT"

# HEAD: the GET's headers, no body
fetch head -I "$url"
expect_status head 200
expect_header head Content-Length "$size"
expect_validators head
fetch head_range -I -H "Range: bytes=10-19" "$url"
expect_status head_range 206
expect_header head_range Content-Range "bytes 10-19/$size"
expect_header head_range Content-Length 10

# unknown image, a name that is no image's, traversal
fetch unknown "$base/images/$(printf '%064d' 0).ebin"
expect_status unknown 404
grep -q '^{"error":"UNKNOWN_IMAGE","message":"' unknown.body || fail "unknown: no JSON error"
fetch traversal --path-as-is "$base/images/../images/$sha.ebin"
expect_status traversal 404
fetch short_name "$base/images/${sha%?}.ebin"
expect_status short_name 404

# keep-alive: four answers on one connection; a body after the 304 or the HEAD would be read as
# the next answer
curl -sv -o keepalive1.body -r 0-99 "$url" --next -o /dev/null -H "If-None-Match: \"$sha\"" \
    "$url" --next -o /dev/null -I "$url" --next -o keepalive3.body -r 200-299 "$url" \
    2>keepalive.log || fail "keep-alive: curl failed"
[ "$(grep -c 'Re-using existing connection' keepalive.log)" -eq 3 ] ||
    fail "keep-alive: the connection was not reused for every request"
grep -q '^< HTTP/1.1 304' keepalive.log || fail "keep-alive: no 304 in the middle"
expect_bytes keepalive1 0 100
expect_bytes keepalive3 200 100

# What the server counted as image bytes sent equals what curl received above. (Under strace,
# the harness is strace's child: stop the harness itself so that it prints its count.)
server_pid=$harness_pid
[ -n "$tracer" ] && server_pid=$(pgrep -P "$harness_pid")
kill "$server_pid"
wait "$harness_pid" 2>/dev/null || true
counted=$(sed -n 's/^requests=[0-9]* image_bytes=\([0-9]*\)$/\1/p' harness.out)
[ "$counted" = "$served" ] || fail "the server counted $counted image bytes, curl received $served"

if [ -n "$tracer" ]; then
    # The image's bytes went out through sendfile, never through a read into memory.
    grep -q 'sendfile(' trace || fail "no sendfile call while serving"
    if grep -E '(read|pread64)\([0-9]+, ' trace | grep -v 'TZif' | awk -F'= ' '$NF + 0 >= 4096' | grep -q .; then
        fail "the server read a large block into memory: $(grep -E 'read' trace | head -3)"
    fi
else
    echo "test_server_images: strace cannot attach here; the sendfile check was skipped"
fi

if [ $failures -ne 0 ]; then
    echo "test_server_images: $failures failures" >&2
    exit 1
fi
echo "test_server_images: ok"
