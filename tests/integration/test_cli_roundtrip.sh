#!/bin/sh
# cellota pack -> cellota verify gives back the firmware, for sizes around the AES block and a
# 512 KiB image, signed and unsigned, fed in pieces of many sizes.
. "$(dirname "$0")/cli_common.sh"
cd "$scratch"

expect 0 "" "$cellota" keygen --out operator.pem
check "keygen writes the private key" test -s operator.pem
check "keygen writes the public key" test -s operator.pub.pem
check "the private key is private" sh -c '[ "$(stat -c %a operator.pem)" = 600 ]'

for size in 0 1 15 16 17 4095 4096 4097 524288; do
    head -c "$size" /dev/urandom >"fw-$size.bin"
    expect 0 "" "$cellota" pack "fw-$size.bin" --version "1.2.$((size % 1000))" --out "out-$size" \
        --sign operator.pem --url "http://127.0.0.1/$size/image.ebin" --id "campaign-$size"
    padded=$(((size / 16 + 1) * 16))
    check "image.ebin of $size bytes is $padded" [ "$(size_of "out-$size/image.ebin")" -eq "$padded" ]
    check "ota.json of $size bytes is private" sh -c "[ \"\$(stat -c %a out-$size/ota.json)\" = 600 ]"
    expect 0 "" "$cellota" verify --request "out-$size/ota.json" --image "out-$size/image.ebin" \
        --pub operator.pub.pem --out "plain-$size.bin"
    check "verify reports the signature" grep -q "signature valid" "$scratch/out"
    check "the $size-byte firmware comes back" cmp -s "fw-$size.bin" "plain-$size.bin"
done

# Any split of the download gives the same result.
for chunk in 1 7 16 100 4096 1MiB; do
    expect 0 "" "$cellota" verify --request out-4097/ota.json --image out-4097/image.ebin \
        --chunk "$chunk" --out "plain-chunk-$chunk.bin"
    check "pieces of $chunk give the firmware" cmp -s fw-4097.bin "plain-chunk-$chunk.bin"
done

# The plain image on standard output, the report on standard error.
"$cellota" verify --request out-17/ota.json --image out-17/image.ebin --out - >stdout.bin 2>report.txt
check "--out - writes the image to standard output" cmp -s fw-17.bin stdout.bin
check "--out - reports on standard error" grep -q verified report.txt

# Unsigned requests verify without --pub; every pack makes a fresh key and IV.
expect 0 "" "$cellota" pack fw-1.bin --version 2.0.0-rc.1 --out unsigned --alt-url http://h/i.ebin
check "an unsigned request has no sig" sh -c '! grep -q "\"sig\"" unsigned/ota.json'
expect 0 "" "$cellota" verify --request unsigned/ota.json --image unsigned/image.ebin
check "verify says the signature is absent" grep -q "signature absent" "$scratch/out"
expect 0 "" "$cellota" pack fw-1.bin --version 2.0.0 --out again --url http://h/i.ebin
"$cellota" inspect --json unsigned/ota.json >first.json
"$cellota" inspect --json again/ota.json >second.json
check "each pack has its own key" [ "$(json_field key first.json)" != "$(json_field key second.json)" ]
check "each pack has its own IV" [ "$(json_field iv first.json)" != "$(json_field iv second.json)" ]
check "the same firmware has the same plain hash" \
    [ "$(json_field plain_sha256 first.json)" = "$(json_field plain_sha256 second.json)" ]

# Security version: derived from the semver, or given; the load address.
"$cellota" inspect --json out-17/ota.json >derived.json
check "1.2.17 is security version 1002017" grep -q '"security_version":[[:space:]]*1002017' derived.json
check "the default load address is 0 (the slot's own)" grep -q '"load_address":[[:space:]]*0,' derived.json
expect 0 "" "$cellota" pack fw-1.bin --version 1.0.0 --security-version 77 --load-addr 0x27000 \
    --out given --url http://h/i.ebin
"$cellota" inspect --json given/ota.json >given.json
check "--security-version sets fw_info's version" grep -q '"security_version":[[:space:]]*77' given.json
check "--load-addr sets the load address" grep -q '"load_address":[[:space:]]*159744' given.json

# A downgrade is refused as a device would refuse it; the same or a newer version passes.
expect 1 IMAGE_DOWNGRADE "$cellota" verify --request out-17/ota.json --image out-17/image.ebin \
    --current 1.2.18
expect 0 "" "$cellota" verify --request out-17/ota.json --image out-17/image.ebin --current 1.2.17
expect 0 "" "$cellota" verify --request out-17/ota.json --image out-17/image.ebin \
    --current 1.2.17-beta
expect 1 IMAGE_DOWNGRADE "$cellota" verify --request unsigned/ota.json \
    --image unsigned/image.ebin --current 2.0.0

finish
