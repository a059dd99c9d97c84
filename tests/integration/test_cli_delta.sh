#!/bin/sh
# cellota diff / patch and delta releases (pack --base, pack --compress, verify --base): round
# trips, and a patch for another base, a cut-short stream and a flipped byte each refused with
# the device's own error name.
. "$(dirname "$0")/cli_common.sh"
cd "$scratch"

# Two releases: 1.1.0 is 1.0.0 with code inserted and scattered bytes changed.
python3 - <<'PY'
import random
rng = random.Random(3)
old = bytearray(rng.randrange(256) for _ in range(60000))
new = bytearray(old)
new[20000:20000] = bytes(rng.randrange(256) for _ in range(500))
for at in range(700, len(new), 1100):
    new[at] = (new[at] + 4) & 0xFF
open("old.bin", "wb").write(old)
open("new.bin", "wb").write(new)
open("other.bin", "wb").write(bytes(rng.randrange(256) for _ in range(60000)))
open("text.bin", "wb").write(b"".join(rng.choice([b"modem ", b"update ", b"slot\n"]) for _ in range(8000)))
PY

# diff and patch.
expect 0 "" "$cellota" diff old.bin new.bin --out new.patch
check "diff reports its size" grep -q "^patch: 60500 bytes -> " "$scratch/out"
check "the patch is small" [ "$(size_of new.patch)" -lt 6000 ]
expect 0 "" "$cellota" patch old.bin new.patch --out patched.bin
check "patch gives NEW" cmp -s patched.bin new.bin
expect 0 "" "$cellota" diff --compress text.bin --out text.clz
expect 0 "" "$cellota" patch text.clz --out text.out
check "a compressed file comes back" cmp -s text.out text.bin
check "text compresses" [ "$(size_of text.clz)" -lt "$(($(size_of text.bin) / 4))" ]

# The three refusals, each with its own name.
expect 1 IMAGE_DELTA_WRONG_BASE "$cellota" patch other.bin new.patch --out x.bin
expect 1 IMAGE_DELTA_WRONG_BASE "$cellota" patch text.bin new.patch --out x.bin
head -c $(($(size_of new.patch) - 10)) new.patch >short.patch
expect 1 IMAGE_DELTA_TRUNCATED "$cellota" patch old.bin short.patch --out x.bin
python3 -c "
d = bytearray(open('new.patch', 'rb').read()); d[len(d) // 2] ^= 0x40
open('flipped.patch', 'wb').write(d)"
set +e
"$cellota" patch old.bin flipped.patch --out x.bin 2>"$scratch/err"
flipped=$?
set -e
check "a flipped byte is refused (exit $flipped)" [ "$flipped" -eq 1 ]
check "a flipped byte is named" grep -qE "IMAGE_DELTA_CORRUPT|IMAGE_PLAIN_HASH_MISMATCH" "$scratch/err"
check "nothing written for a refused patch" test ! -e x.bin

# A delta release and a compressed one, checked as a device would.
expect 0 "" "$cellota" keygen --out operator.pem
expect 0 "" "$cellota" pack new.bin --version 1.1.0 --out delta --sign operator.pem \
    --url http://127.0.0.1/delta/image.ebin --base old.bin
check "pack says it is a patch" grep -q "patch from the base" "$scratch/out"
check "the request names its encoding" grep -q '"encoding":[[:space:]]*"patch"' delta/ota.json
check "the request names its base" grep -q "\"base\":[[:space:]]*\"60000:$(sha256_of old.bin)\"" delta/ota.json
expect 0 "" "$cellota" verify --request delta/ota.json --image delta/image.ebin \
    --pub operator.pub.pem --base old.bin --out verified.bin
check "verify gives NEW from the delta release" cmp -s verified.bin new.bin
expect 1 IMAGE_DELTA_WRONG_BASE "$cellota" verify --request delta/ota.json \
    --image delta/image.ebin --base other.bin
expect 2 "give --base" "$cellota" verify --request delta/ota.json --image delta/image.ebin
python3 -c "
d = bytearray(open('delta/image.ebin', 'rb').read()); d[len(d) // 3] ^= 1
open('flipped.ebin', 'wb').write(d)"
expect 1 IMAGE_ENCRYPTED_HASH_MISMATCH "$cellota" verify --request delta/ota.json \
    --image flipped.ebin --base old.bin
expect 0 "" "$cellota" inspect delta/ota.json
check "inspect shows the encoding" grep -q "encoding          patch" "$scratch/out"
expect 0 "" "$cellota" pack new.bin --version 1.1.0 --out compressed --sign operator.pem \
    --url http://127.0.0.1/compressed/image.ebin --compress
expect 0 "" "$cellota" verify --request compressed/ota.json --image compressed/image.ebin \
    --pub operator.pub.pem --out verified2.bin
check "verify gives NEW from the compressed release" cmp -s verified2.bin new.bin
finish
