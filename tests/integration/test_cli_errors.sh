#!/bin/sh
# Every error a user can hit through the CLI: its exit code (1 check failed, 2 usage, 3 I/O)
# and, for the device's own checks, the error's name next to its sentence.
. "$(dirname "$0")/cli_common.sh"
cd "$scratch"

# A fixed firmware, key and IV, so every outcome below is the same on every run.
seq 1 3000 >fw.bin
key=000102030405060708090a0b0c0d0e0f
iv=f0e0d0c0b0a090807060504030201000
openssl enc -aes-128-cbc -K "$key" -iv "$iv" -in fw.bin -out image.ebin
good_info=$(fw_info_hex 7 4096 fw.bin image.ebin "$key" "$iv")
request_json http://127.0.0.1/image.ebin "$good_info" 1.0.0 >ota.json
expect 0 "" "$cellota" verify --request ota.json --image image.ebin

# verify_with NAME FW_INFO_HEX CODE TEXT: a request with this fw_info and the good image.
verify_with() {
    request_json http://127.0.0.1/image.ebin "$2" 1.0.0 >"$1.json"
    expect "$3" "$4" "$cellota" verify --request "$1.json" --image image.ebin
}

# --- the image ---------------------------------------------------------------------------
size=$(size_of image.ebin)
cp image.ebin flipped.ebin
printf '\377' | dd of=flipped.ebin bs=1 seek=100 conv=notrunc 2>/dev/null
expect 1 IMAGE_ENCRYPTED_HASH_MISMATCH "$cellota" verify --request ota.json --image flipped.ebin
head -c $((size - 1)) image.ebin >short.ebin
expect 1 IMAGE_TRUNCATED "$cellota" verify --request ota.json --image short.ebin
head -c $((size - 16)) image.ebin >short-block.ebin
expect 1 IMAGE_TRUNCATED "$cellota" verify --request ota.json --image short-block.ebin
: >empty.ebin
expect 1 IMAGE_TRUNCATED "$cellota" verify --request ota.json --image empty.ebin
cat image.ebin >long.ebin
printf 'x' >>long.ebin
expect 1 IMAGE_TOO_LONG "$cellota" verify --request ota.json --image long.ebin
expect 1 IMAGE_TOO_LARGE "$cellota" verify --request ota.json --image image.ebin --slot-size 4KiB

# --- fw_info that does not describe the image --------------------------------------------
# Wrong key: the ciphertext hash matches, the decryption does not. openssl tells what the
# padding looks like under that key, so the expected error is computed, not assumed.
wrong_key=ffeeddccbbaa99887766554433221100
if openssl enc -d -aes-128-cbc -K "$wrong_key" -iv "$iv" -in image.ebin -out /dev/null 2>/dev/null; then
    wrong_key_error=IMAGE_PLAIN_HASH_MISMATCH
else
    wrong_key_error=IMAGE_BAD_PADDING
fi
verify_with wrong-key "$(fw_info_hex 7 4096 fw.bin image.ebin "$wrong_key" "$iv")" 1 "$wrong_key_error"
# Wrong IV: only the first block decrypts wrongly, the padding survives.
verify_with wrong-iv "$(fw_info_hex 7 4096 fw.bin image.ebin "$key" "$(openssl rand -hex 16)")" \
    1 IMAGE_PLAIN_HASH_MISMATCH
# Wrong plain hash.
printf 'other firmware' >other.bin
verify_with wrong-plain-hash "$(printf '%s' "$good_info" | cut -c1-160)$(sha256_of other.bin)" \
    1 IMAGE_PLAIN_HASH_MISMATCH
# Wrong encrypted hash.
verify_with wrong-encrypted-hash \
    "$(printf '%s' "$good_info" | cut -c1-96)$(sha256_of other.bin)$(printf '%s' "$good_info" | cut -c161-224)" \
    1 IMAGE_ENCRYPTED_HASH_MISMATCH
# A plain size that pads to the same encrypted size but is not what the padding says.
plain=$(size_of fw.bin)
other_plain=$((plain / 16 * 16 + (plain % 16 == 15 ? 0 : 15)))
verify_with wrong-plain-size "$(le32 7)$(le32 4096)$(le32 $other_plain)$(printf '%s' "$good_info" | cut -c25-224)" \
    1 IMAGE_SIZE_MISMATCH
# Sizes that contradict each other.
verify_with bad-sizes "$(le32 7)$(le32 4096)$(le32 $((plain + 16)))$(printf '%s' "$good_info" | cut -c25-224)" \
    1 IMAGE_FW_INFO_SIZES
verify_with short-fw-info "$(printf '%s' "$good_info" | cut -c1-222)" 1 IMAGE_FW_INFO_HEX
verify_with non-hex-fw-info "$(printf '%s' "$good_info" | cut -c1-223)g" 1 IMAGE_FW_INFO_HEX

# An image packed with PKCS#7 padding corrupted inside the last block: bad padding, found
# after the ciphertext hash passes (fw_info describes the corrupted ciphertext).
printf '%s' "$(head -c $((plain / 16 * 16)) fw.bin | xxd -p | tr -d '\n')" | xxd -r -p >aligned.bin
{ cat aligned.bin; printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020'; } >badpad.bin
openssl enc -aes-128-cbc -nopad -K "$key" -iv "$iv" -in badpad.bin -out badpad.ebin
request_json http://127.0.0.1/image.ebin "$(fw_info_hex 7 4096 aligned.bin badpad.ebin "$key" "$iv")" \
    1.0.0 >badpad.json
expect 1 IMAGE_BAD_PADDING "$cellota" verify --request badpad.json --image badpad.ebin

# --- the request ------------------------------------------------------------------------
printf '{"type": "update_fw", "url": "x", ' >malformed.json
expect 1 JSON_INVALID "$cellota" verify --request malformed.json --image image.ebin
printf '["update_fw"]\n' >array.json
expect 1 IMAGE_REQUEST_NOT_OBJECT "$cellota" verify --request array.json --image image.ebin
printf '{"type": "install", "url": "x", "fw_info": "%s"}\n' "$good_info" >type.json
expect 1 IMAGE_REQUEST_BAD_TYPE "$cellota" verify --request type.json --image image.ebin
printf '{"type": "update_fw", "url": "x"}\n' >no-info.json
expect 1 IMAGE_REQUEST_NO_FW_INFO "$cellota" verify --request no-info.json --image image.ebin
printf '{"type": "update_fw", "url": "", "fw_info": "%s"}\n' "$good_info" >no-url.json
expect 1 IMAGE_REQUEST_NO_URL "$cellota" verify --request no-url.json --image image.ebin
printf '{"type": "update_fw", "url": "a", "url": "b", "fw_info": "%s"}\n' "$good_info" >twice.json
expect 1 IMAGE_REQUEST_DUPLICATE_KEY "$cellota" verify --request twice.json --image image.ebin
printf '{"type": "update_fw", "url": 5, "fw_info": "%s"}\n' "$good_info" >number-url.json
expect 1 IMAGE_REQUEST_FIELD_TYPE "$cellota" verify --request number-url.json --image image.ebin
printf '{"type": "update_fw", "url": "http://h/%0300d", "fw_info": "%s"}\n' 0 "$good_info" >long-url.json
expect 1 IMAGE_REQUEST_FIELD_TOO_LONG "$cellota" verify --request long-url.json --image image.ebin
request_json http://127.0.0.1/image.ebin "$good_info" 1.2 >bad-semver.json
expect 1 IMAGE_SEMVER_INVALID "$cellota" verify --request bad-semver.json --image image.ebin
request_json http://127.0.0.1/image.ebin "$good_info" 1.0.0 abcd >short-sig.json
expect 1 IMAGE_REQUEST_BAD_SIGNATURE_FORMAT "$cellota" verify --request short-sig.json --image image.ebin

# --- signatures ---------------------------------------------------------------------------
expect 0 "" "$cellota" keygen --out operator.pem
expect 0 "" "$cellota" keygen --out other.pem
expect 0 "" "$cellota" pack fw.bin --version 1.0.0 --out signed --sign operator.pem --url http://h/i
expect 0 "" "$cellota" verify --request signed/ota.json --image signed/image.ebin --pub operator.pub.pem
expect 1 IMAGE_SIGNATURE_MISSING "$cellota" verify --request ota.json --image image.ebin \
    --pub operator.pub.pem
expect 1 IMAGE_SIGNATURE_INVALID "$cellota" verify --request signed/ota.json --image signed/image.ebin \
    --pub other.pub.pem
sed 's|"url":\(.*\)http://h/i|"url":\1http://evil/i|' signed/ota.json >redirected.json
check "the request was changed" sh -c '! cmp -s redirected.json signed/ota.json'
expect 1 IMAGE_SIGNATURE_INVALID "$cellota" verify --request redirected.json --image signed/image.ebin \
    --pub operator.pub.pem
sig=$(json_field sig signed/ota.json)
flipped_sig=$(printf '%s' "$sig" | cut -c1-127)$(printf '%s' "$sig" | cut -c128 | tr '0-9a-f' '123456789abcdef0')
sed "s/$sig/$flipped_sig/" signed/ota.json >flipped-sig.json
expect 1 IMAGE_SIGNATURE_INVALID "$cellota" verify --request flipped-sig.json --image signed/image.ebin \
    --pub operator.pub.pem
printf 'not a key\n' >garbage.pem
expect 1 "not a public key" "$cellota" verify --request signed/ota.json --image signed/image.ebin \
    --pub garbage.pem
expect 1 "not a private key" "$cellota" pack fw.bin --version 1.0.0 --out x --sign garbage.pem --url u
openssl genpkey -algorithm ED25519 -out ed25519.pem 2>/dev/null
expect 1 "" "$cellota" pack fw.bin --version 1.0.0 --out x --sign ed25519.pem --url u
openssl ecparam -name secp384r1 -genkey -noout -out p384.pem
expect 1 "not an ECDSA P-256 key" "$cellota" pack fw.bin --version 1.0.0 --out x --sign p384.pem --url u
expect 3 "exists already" "$cellota" keygen --out operator.pem

# --- pack inputs ----------------------------------------------------------------------------
expect 2 "not a semantic version" "$cellota" pack fw.bin --version 1.2 --out x --url u
expect 2 "not a semantic version" "$cellota" pack fw.bin --version v1.2.3 --out x --url u
expect 2 "security version" "$cellota" pack fw.bin --version 1.1000.0 --out x --url u
expect 2 "security-version" "$cellota" pack fw.bin --version 1.0.0 --security-version 4294967296 --out x --url u
expect 2 "load-addr" "$cellota" pack fw.bin --version 1.0.0 --load-addr 0x100000000 --out x --url u
expect 2 "--url or --alt-url" "$cellota" pack fw.bin --version 1.0.0 --out x
expect 3 "cannot read 'old.bin'" "$cellota" pack fw.bin --version 1.0.0 --out x --url u --base old.bin
expect 2 "give one of --base and --compress" "$cellota" pack fw.bin --version 1.0.0 --out x --url u \
    --base fw.bin --compress
expect 1 IMAGE_REQUEST_FIELD_TOO_LONG "$cellota" pack fw.bin --version 1.0.0 --out x \
    --url "http://h/$(printf '%0300d' 0)"
check "a refused pack writes nothing" test ! -e x
: >folder-is-a-file
expect 3 "cannot create folder" "$cellota" pack fw.bin --version 1.0.0 --out folder-is-a-file --url u

# --- files ---------------------------------------------------------------------------------
expect 3 "cannot read 'missing.bin'" "$cellota" pack missing.bin --version 1.0.0 --out x --url u
expect 3 "cannot read 'missing.json'" "$cellota" verify --request missing.json --image image.ebin
expect 3 "cannot read 'missing.ebin'" "$cellota" verify --request ota.json --image missing.ebin
expect 3 "cannot read 'missing.pem'" "$cellota" verify --request ota.json --image image.ebin --pub missing.pem
expect 3 "cannot read 'missing.pem'" "$cellota" pack fw.bin --version 1.0.0 --out x --url u --sign missing.pem
expect 3 "" "$cellota" verify --request ota.json --image image.ebin --out no/such/folder/plain.bin
expect 3 "" "$cellota" keygen --out no/such/folder/key.pem
expect 3 "cannot read 'missing-file'" "$cellota" inspect missing-file
expect 3 "it is a folder" "$cellota" verify --request signed --image image.ebin

# --- inspect ---------------------------------------------------------------------------------
expect 1 IMAGE_FW_INFO_HEX "$cellota" inspect "$(printf '%s' "$good_info" | cut -c1-200)"
expect 1 IMAGE_FW_INFO_SIZES "$cellota" inspect \
    "$(le32 7)$(le32 4096)$(le32 100)$(le32 100)$(printf '%s' "$good_info" | cut -c33-224)"
expect 1 JSON_INVALID "$cellota" inspect malformed.json
expect 0 "" "$cellota" inspect image.ebin --request ota.json
check "inspect matches the image to its request" grep -q matches "$scratch/out"
expect 1 "SHA-256 differs" "$cellota" inspect flipped.ebin --request ota.json
expect 1 "shorter" "$cellota" inspect short.ebin --request ota.json
expect 1 "longer" "$cellota" inspect long.ebin --request ota.json
expect 0 "" "$cellota" inspect short.ebin
check "inspect flags a length no CBC image has" grep -q INVALID "$scratch/out"
expect 0 "" "$cellota" inspect --json short.ebin
check "inspect --json flags it too" grep -q '"cbc_length_valid":[[:space:]]*false' "$scratch/out"
expect 2 "--request checks an image" "$cellota" inspect ota.json --request ota.json

# --- usage ---------------------------------------------------------------------------------
expect 2 "missing COMMAND" "$cellota"
expect 2 "unknown command 'frobnicate'" "$cellota" frobnicate
expect 3 "cannot read 'a'" "$cellota" diff a b --out c
expect 2 "give OLD and NEW" "$cellota" diff a --out c
expect 2 "--compress takes one FIRMWARE" "$cellota" diff --compress a b --out c
expect 2 "--unit '8' is not a number from 9 to 16" "$cellota" diff --compress a --out c --unit 8
expect 2 "unknown option '--colour'" "$cellota" verify --request ota.json --image image.ebin --colour
expect 2 "missing --image" "$cellota" verify --request ota.json
expect 2 "--request needs a value" "$cellota" verify --image image.ebin --request
expect 2 "given twice" "$cellota" verify --request ota.json --request ota.json --image image.ebin
expect 2 "unexpected argument" "$cellota" verify extra --request ota.json --image image.ebin
expect 2 "missing FIRMWARE" "$cellota" pack --version 1.0.0 --out x --url u
expect 2 "options are long" "$cellota" pack fw.bin -v 1.0.0 --out x --url u
expect 2 "takes no value" "$cellota" inspect ota.json --json=yes
expect 2 "--chunk" "$cellota" verify --request ota.json --image image.ebin --chunk 0
expect 2 "--slot-size" "$cellota" verify --request ota.json --image image.ebin --slot-size lots
expect 2 "--current" "$cellota" verify --request ota.json --image image.ebin --current 1.0
expect 2 "must name a file" "$cellota" keygen --out -
expect 2 "--provider 'azure'" "$cellota" cost --devices 1 --image-size 1 --provider azure
expect 2 "--devices" "$cellota" cost --devices -5 --image-size 1 --provider aws
expect 2 "--image-size" "$cellota" cost --devices 5 --image-size 512XB --provider aws
expect 2 "--days" "$cellota" cost --devices 5 --image-size 1 --provider aws --days soon
expect 2 "--request-size" "$cellota" cost --devices 5 --image-size 1 --provider aws --request-size x
expect 2 "missing --provider" "$cellota" cost --devices 5 --image-size 1
expect 2 "--runs" "$cellota" bench --request ota.json --image image.ebin --runs 0

# --- cost prices files ------------------------------------------------------------------
printf '{"aws": {"egress_per_gb": ' >prices-malformed.json
expect 1 "not a JSON object" "$cellota" cost --devices 5 --image-size 1 --provider aws --prices prices-malformed.json
printf '{"aws": {"egres_per_gb": 0.1}}' >prices-typo.json
expect 1 "unknown price" "$cellota" cost --devices 5 --image-size 1 --provider aws --prices prices-typo.json
printf '{"gcp": {"egress_per_gb": -0.1}}' >prices-negative.json
expect 1 "not a number" "$cellota" cost --devices 5 --image-size 1 --provider aws --prices prices-negative.json
expect 3 "cannot read 'prices-missing.json'" "$cellota" cost --devices 5 --image-size 1 --provider aws \
    --prices prices-missing.json

finish
