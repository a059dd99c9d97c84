#!/bin/sh
# Interoperability with the openssl command, both ways, so cellota's format is the standard
# one and not just self-consistent:
#   (a) an image encrypted by `openssl enc -aes-128-cbc`, with fw_info and ota.json written by
#       hand here (printf, sha256sum), is accepted by `cellota verify`;
#   (b) an image packed by cellota decrypts with `openssl enc -d`, and its hashes match;
#   (c) signing keys and signatures: openssl reads cellota's keys, a request signed by openssl
#       over the canonical bytes of image/request.h verifies in cellota, and cellota's
#       signature verifies in openssl.
. "$(dirname "$0")/cli_common.sh"
cd "$scratch"

# --- (a) openssl encrypts, cellota verifies ------------------------------------------------
for size in 0 1 15 16 17 1000 524288; do
    head -c "$size" /dev/urandom >"fw-$size.bin"
    key=$(openssl rand -hex 16)
    iv=$(openssl rand -hex 16)
    openssl enc -aes-128-cbc -K "$key" -iv "$iv" -in "fw-$size.bin" -out "openssl-$size.ebin"
    info=$(fw_info_hex 5 4096 "fw-$size.bin" "openssl-$size.ebin" "$key" "$iv")
    request_json "http://127.0.0.1/image.ebin" "$info" "1.0.$size" >"openssl-$size.json"
    expect 0 "" "$cellota" verify --request "openssl-$size.json" --image "openssl-$size.ebin" \
        --out "plain-$size.bin"
    check "openssl's $size-byte image decrypts to the firmware" cmp -s "fw-$size.bin" "plain-$size.bin"
done

# The seed's own example fw_info decodes to its values.
seed=0000000000100000b8070100c0070100000102030405060708090a0b0c0d0e0f00112233445566778899aabbccddeeffba40d96777aeaf3901e3d3eb7db8b9939938c981e18286bd61b3350d00ff6816dd10918635ca7bf00c3dafe76f2a280891f107f4569b11b5d732d630819abebf
"$cellota" inspect --json "$seed" >seed.json
check "seed fw_info: plain size 67512" grep -q '"plain_size":[[:space:]]*67512' seed.json
check "seed fw_info: encrypted size 67520" grep -q '"encrypted_size":[[:space:]]*67520' seed.json
check "seed fw_info: load address 0x1000" grep -q '"load_address":[[:space:]]*4096' seed.json
check "seed fw_info: version 0" grep -q '"security_version":[[:space:]]*0' seed.json
check "seed fw_info: key" [ "$(json_field key seed.json)" = 000102030405060708090a0b0c0d0e0f ]

# --- (b) cellota packs, openssl decrypts -----------------------------------------------------
for size in 0 1 16 33 524288; do
    expect 0 "" "$cellota" pack "fw-$((size == 33 ? 17 : size)).bin" --version 1.0.0 \
        --out "packed-$size" --url http://127.0.0.1/image.ebin
    "$cellota" inspect --json "packed-$size/ota.json" >"packed-$size.json"
    key=$(json_field key "packed-$size.json")
    iv=$(json_field iv "packed-$size.json")
    check "inspect --json gives a 16-byte key" [ ${#key} -eq 32 ]
    openssl enc -d -aes-128-cbc -K "$key" -iv "$iv" -in "packed-$size/image.ebin" \
        -out "openssl-plain-$size.bin"
    check "openssl decrypts cellota's $size-byte image" \
        cmp -s "fw-$((size == 33 ? 17 : size)).bin" "openssl-plain-$size.bin"
    check "fw_info's encrypted SHA-256 is sha256sum's" \
        [ "$(json_field encrypted_sha256 "packed-$size.json")" = "$(sha256_of "packed-$size/image.ebin")" ]
    check "fw_info's plain SHA-256 is sha256sum's" \
        [ "$(json_field plain_sha256 "packed-$size.json")" = "$(sha256_of "openssl-plain-$size.bin")" ]
    # load address 0: cellota pack's default, "the slot's own" (docs/cli.md)
    check "the fw_info in ota.json is what inspect decodes" \
        [ "$(json_field fw_info "packed-$size/ota.json")" = "$(fw_info_hex 1000000 0 \
            "openssl-plain-$size.bin" "packed-$size/image.ebin" "$key" "$iv")" ]
done

# --- (c) keys and signatures -----------------------------------------------------------------
expect 0 "" "$cellota" keygen --out cellota.pem
openssl pkey -in cellota.pem -pubout -outform DER -out derived.der
openssl pkey -pubin -in cellota.pub.pem -outform DER -out written.der
check "openssl reads cellota's keys and they pair" cmp -s derived.der written.der

# canonical FILE URL FW_INFO VERSION: the signed bytes, as image/request.h documents them.
canonical() {
    printf 'cellota-request-v1\nupdate_fw\n%s\n\n%s\n%s\n\n' "$2" "$3" "$4" >"$1"
}

# openssl signs a hand-written request; cellota verifies it.
openssl ecparam -name prime256v1 -genkey -noout -out openssl.pem
openssl ec -in openssl.pem -pubout -out openssl.pub.pem 2>/dev/null
key=$(openssl rand -hex 16)
iv=$(openssl rand -hex 16)
openssl enc -aes-128-cbc -K "$key" -iv "$iv" -in fw-1000.bin -out signed.ebin
info=$(fw_info_hex 5 4096 fw-1000.bin signed.ebin "$key" "$iv")
canonical signed.txt http://127.0.0.1/image.ebin "$info" 1.0.0
openssl dgst -sha256 -sign openssl.pem -out signed.der signed.txt
# DER SEQUENCE { INTEGER r, INTEGER s } -> r||s, each 32 bytes big-endian.
signature=$(openssl asn1parse -inform DER -in signed.der |
    sed -n 's/.*INTEGER *:\([0-9A-Fa-f]*\).*/\1/p' |
    while read -r number; do printf '%064s' "$number" | tr ' ' 0; done | tr 'A-F' 'a-f')
check "the openssl signature is 64 bytes" [ ${#signature} -eq 128 ]
request_json http://127.0.0.1/image.ebin "$info" 1.0.0 "$signature" >openssl-signed.json
expect 0 "" "$cellota" verify --request openssl-signed.json --image signed.ebin \
    --pub openssl.pub.pem --out signed-plain.bin
check "an openssl signature verifies in cellota" grep -q "signature valid" "$scratch/out"
check "and the image with it" cmp -s fw-1000.bin signed-plain.bin
expect 1 IMAGE_SIGNATURE_INVALID "$cellota" verify --request openssl-signed.json \
    --image signed.ebin --pub cellota.pub.pem

# cellota signs; openssl verifies over the same canonical bytes.
expect 0 "" "$cellota" pack fw-17.bin --version 3.1.4 --out signed --sign cellota.pem \
    --url http://127.0.0.1/image.ebin
canonical cellota-signed.txt http://127.0.0.1/image.ebin "$(json_field fw_info signed/ota.json)" 3.1.4
# r||s -> DER: each integer without leading zero bytes, with one 00 when its top bit is set.
der_integer() {
    number=$(printf '%s' "$1" | sed 's/^\(00\)*//')
    case $number in [89a-f]*) number=00$number ;; esac
    printf '02%02x%s' $((${#number} / 2)) "$number"
}
sig=$(json_field sig signed/ota.json)
body="$(der_integer "$(printf '%s' "$sig" | cut -c1-64)")$(der_integer "$(printf '%s' "$sig" | cut -c65-128)")"
printf '30%02x%s' $((${#body} / 2)) "$body" | xxd -r -p >cellota-signed.der
check "cellota's signature verifies in openssl" sh -c "openssl dgst -sha256 -verify \
    cellota.pub.pem -signature cellota-signed.der cellota-signed.txt >/dev/null"
check "openssl refuses it over other bytes" sh -c "! openssl dgst -sha256 -verify \
    cellota.pub.pem -signature cellota-signed.der signed.txt >/dev/null"

finish
