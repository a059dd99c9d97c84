#!/bin/sh
# make bench-delta: compressed images and patches on real firmware -- consecutive releases of
# the Pybricks firmware (npm package @pybricks/firmware; each tarball holds one zip per hub with
# its firmware-base.bin). Fetched with `npm pack` into build/bench-delta (once; reused after).
# Not part of `make test` or `make bench`: it needs the npm registry.
#
# Per pair, one line for scripts:
#   delta: pair=OLD..NEW cellota=P% bsdiff=P% xdelta3=P% compressed=P% gzip=P% ram=BYTES
# (sizes as % of the new image: cellota's patch, bsdiff's, xdelta3 -9's; cellota's compressed
# full image, gzip -9's), then xz -9, the times to make and apply the patch, and what a campaign
# to 50,000 devices costs (cellota cost, AWS) with the full, the compressed and the delta image.
# usage: scripts/bench-delta.sh [BIN_DIR]   (HUB=primehub by default; PAIRS to override)
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$here/build/bench-delta
hub=${HUB:-primehub}
# A small step, a few releases, and a major version apart.
pairs=${PAIRS:-"7.27.0..7.28.0 7.22.0..7.28.0 7.2.0..7.22.0 6.2.0..7.2.0"}
mkdir -p "$cache"
for tool in npm unzip bsdiff xdelta3 gzip xz; do
    command -v "$tool" >/dev/null || { echo "bench-delta: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

# firmware VERSION: the path of that release's firmware-base.bin for $hub, fetched if needed.
firmware() {
    dir=$cache/$1
    if [ ! -f "$dir/$hub/firmware-base.bin" ]; then
        mkdir -p "$dir"
        (cd "$dir" && npm pack --silent "@pybricks/firmware@$1" >/dev/null)
        tar -xzf "$dir/pybricks-firmware-$1.tgz" -C "$dir" "package/build/$hub.zip"
        unzip -o -q "$dir/package/build/$hub.zip" firmware-base.bin -d "$dir/$hub"
    fi
    echo "$dir/$hub/firmware-base.bin"
}

size_of() { wc -c <"$1" | tr -d ' '; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", 100 * a / b }'; }
seconds() { sed -n 's/.* in \([0-9.]*\) s.*/\1/p'; }
cost() { # cost BYTES: the campaign's total in dollars
    "$bin/cellota" cost --devices 50000 --image-size "$1" --provider aws --json |
        sed -n '/"total"/,/}/s/.*"billed":[[:space:]]*\([0-9.]*\).*/\1/p'
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "bench-delta: @pybricks/firmware $hub firmware-base.bin; sizes as % of the new image"
for pair in $pairs; do
    old_version=${pair%..*}
    new_version=${pair#*..}
    old=$(firmware "$old_version")
    new=$(firmware "$new_version")
    new_size=$(size_of "$new")
    made=$("$bin/cellota" diff "$old" "$new" --out "$work/patch")
    applied=$("$bin/cellota" patch "$old" "$work/patch" --out "$work/new")
    cmp -s "$work/new" "$new" || { echo "bench-delta: $pair: the patch did not give NEW" >&2; exit 1; }
    ram=$(echo "$made" | sed -n 's/.* in \([0-9]*\) bytes of RAM.*/\1/p')
    "$bin/cellota" diff --compress "$new" --out "$work/compressed" >/dev/null
    "$bin/cellota" patch "$work/compressed" --out "$work/new" >/dev/null
    cmp -s "$work/new" "$new" || { echo "bench-delta: $pair: decompression failed" >&2; exit 1; }
    bsdiff "$old" "$new" "$work/bsdiff"
    xdelta3 -9 -e -f -s "$old" "$new" "$work/xdelta3"
    gzip -9 -c "$new" >"$work/gzip"
    xz -9 -c "$new" >"$work/xz"
    patch_size=$(size_of "$work/patch")
    compressed_size=$(size_of "$work/compressed")
    bsdiff_size=$(size_of "$work/bsdiff")
    echo "delta: pair=$old_version..$new_version cellota=$(percent "$patch_size" "$new_size")%" \
        "bsdiff=$(percent "$bsdiff_size" "$new_size")%" \
        "xdelta3=$(percent "$(size_of "$work/xdelta3")" "$new_size")%" \
        "compressed=$(percent "$compressed_size" "$new_size")%" \
        "gzip=$(percent "$(size_of "$work/gzip")" "$new_size")%" "ram=$ram"
    echo "  bytes: new $new_size, cellota patch $patch_size (x$(awk -v a="$patch_size" -v b="$bsdiff_size" 'BEGIN { printf "%.2f", a / b }') bsdiff's $bsdiff_size)," \
        "compressed $compressed_size, xz -9 $(size_of "$work/xz") ($(percent "$(size_of "$work/xz")" "$new_size")%)"
    echo "  time (host): patch made in $(echo "$made" | seconds) s, applied in $(echo "$applied" | seconds) s"
    # A patch or compressed image travels encrypted: padded to whole 16-byte blocks.
    echo "  cost, 50,000 devices (AWS): full \$$(cost $(((new_size / 16 + 1) * 16)))," \
        "compressed \$$(cost $(((compressed_size / 16 + 1) * 16)))," \
        "delta \$$(cost $(((patch_size / 16 + 1) * 16)))"
done
