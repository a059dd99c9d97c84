#!/bin/sh
# Writes the seed corpora of fuzz_delta_patch and fuzz_delta_decompress: real streams made by
# `cellota diff` (from the base fuzz_delta_patch.c builds in) behind the harness's two leading
# bytes (chunk seed; 0x80 = the input is a whole stream). Run after `make`; the output is
# committed, so this is only needed when the format changes.
# usage: scripts/fuzz-corpus-delta.sh [BIN_DIR]
set -eu
bin=${1:-build/bin}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys, random
work = sys.argv[1]
base = bytearray(((i * 7 + 3) ^ (i >> 8)) & 0xFF for i in range(6144))
for at in range(32, 6144 - 4, 64):                            # Thumb BLs (fuzz_delta_patch.c)
    base[at:at + 4] = bytes([at >> 3 & 0xFF, 0xF0, at & 0xFF, 0xF8])
open(f"{work}/base", "wb").write(base)
rng = random.Random(11)
new = bytearray(base)
for at in range(3008 + 32, 6144 - 4, 64):                     # calls whose target moved
    new[at + 2] = (new[at + 2] + 6) & 0xFF
new[100:100] = bytes(rng.randrange(256) for _ in range(40))    # an insertion
for at in range(600, 6000, 97):                               # pointers that moved
    new[at] = (new[at] + 8) & 0xFF
open(f"{work}/new", "wb").write(bytes(new))
text = b"".join(rng.choice([b"update ", b"modem ", b"slot ", b"\n", b"0x0800"]) for _ in range(900))
open(f"{work}/text", "wb").write(text)
open(f"{work}/random", "wb").write(bytes(rng.randrange(256) for _ in range(1500)))
PY
prefix() { printf "\\$(printf %o "$1")\\200" | cat - "$2" > "$3"; }
"$bin/cellota" diff "$work/base" "$work/new" --out "$work/patch" --unit 10 >/dev/null
"$bin/cellota" diff "$work/base" "$work/base" --out "$work/same" --unit 10 >/dev/null
"$bin/cellota" diff "$work/base" "$work/new" --out "$work/small" --unit 10 --segment-bytes 256 >/dev/null
"$bin/cellota" diff --compress "$work/text" --out "$work/text.clz" --unit 10 >/dev/null
"$bin/cellota" diff --compress "$work/random" --out "$work/random.clz" --unit 10 >/dev/null
"$bin/cellota" diff --compress "$work/new" --out "$work/new.clz" --unit 10 --segment-bytes 512 >/dev/null
patch="$here/fuzz/corpus/fuzz_delta_patch"
compressed="$here/fuzz/corpus/fuzz_delta_decompress"
mkdir -p "$patch" "$compressed"
prefix 1 "$work/patch" "$patch/patch"
prefix 3 "$work/patch" "$patch/patch_small_chunks"
prefix 2 "$work/same" "$patch/same"
prefix 5 "$work/small" "$patch/small_segments"
prefix 1 "$work/text.clz" "$compressed/text"
prefix 3 "$work/text.clz" "$compressed/text_small_chunks"
prefix 2 "$work/random.clz" "$compressed/stored"
prefix 4 "$work/new.clz" "$compressed/segments"
