#!/bin/sh
# The device pipeline on a 512 KiB image, beside `openssl enc -d -aes-128-cbc` + `sha256sum`
# doing the same work (SHA-256 of the ciphertext, decryption, SHA-256 of the plaintext) on the
# same data in the same run. Prints MB/s (medians; MB = 10^6 bytes) and instructions per byte
# (valgrind's callgrind; `perf stat` has no hardware counters in most containers), and their
# ratios. Process start-up (about 5 ms for openssl, more than its work on 512 KiB) is left out
# of every figure: the pipeline is timed in process (`cellota bench`); the openssl side streams
# 16 copies of the same image through one process each (CBC decryption of concatenated
# ciphertexts does the same work per block, and the last copy's padding stays valid) and the
# time of a 16-byte image is subtracted; instructions are counted on the 512 KiB image minus
# the 16-byte one.
set -eu
: "${CELLOTA_BIN:?CELLOTA_BIN must name the folder holding cellota}"
cellota=$CELLOTA_BIN/cellota
runs=${BENCH_RUNS:-21}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellota-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM
cd "$scratch"

head -c 524288 /dev/urandom >big.bin
: >small.bin
for name in big small; do
    "$cellota" pack "$name.bin" --version 1.0.0 --out "$name" --url http://127.0.0.1/image.ebin >/dev/null
    "$cellota" inspect --json "$name/ota.json" >"$name.json"
    sed -n 's/.*"key":[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$name.json" >"$name.key"
    sed -n 's/.*"iv":[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$name.json" >"$name.iv"
done
big_bytes=$(wc -c <big/image.ebin | tr -d ' ')
small_bytes=$(wc -c <small/image.ebin | tr -d ' ')
marginal_bytes=$((big_bytes - small_bytes))
copies=16
mkdir stream
for copy in $(seq $copies); do cat big/image.ebin; done >stream/image.ebin
cp big.key stream.key
cp big.iv stream.iv
stream_bytes=$((copies * big_bytes - small_bytes))

# The two sides, on image NAME (big or small).
run_cellota() {
    "$cellota" verify --request "$1/ota.json" --image "$1/image.ebin" >/dev/null
}
run_reference() {
    sha256sum "$1/image.ebin" >/dev/null
    openssl enc -d -aes-128-cbc -K "$(cat "$1.key")" -iv "$(cat "$1.iv")" -in "$1/image.ebin" |
        sha256sum >/dev/null
}

# median_seconds FUNCTION NAME: the median wall time of `runs` runs, in seconds.
median_seconds() {
    : >times
    run=0
    while [ "$run" -lt "$runs" ]; do
        start=$(date +%s%N)
        "$1" "$2"
        end=$(date +%s%N)
        echo $((end - start)) >>times
        run=$((run + 1))
    done
    sort -n times | sed -n "$(((runs + 1) / 2))p" | awk '{ printf "%.9f", $1 / 1e9 }'
}

# instructions COMMAND...: instructions the command executes, counted by callgrind.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>callgrind.log >/dev/null
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' callgrind.log
}
reference_instructions() {
    openssl enc -d -aes-128-cbc -K "$(cat "$1.key")" -iv "$(cat "$1.iv")" -in "$1/image.ebin" \
        -out "$1.plain"
    echo $(($(instructions sha256sum "$1/image.ebin") +
        $(instructions openssl enc -d -aes-128-cbc -K "$(cat "$1.key")" -iv "$(cat "$1.iv")" \
            -in "$1/image.ebin" -out "$1.plain") +
        $(instructions sha256sum "$1.plain")))
}

# --- throughput -----------------------------------------------------------------------------
"$cellota" bench --request big/ota.json --image big/image.ebin --runs "$runs" >inprocess.txt
pipeline_mbps=$(sed -n 's/^pipeline_mb_per_second=//p' inprocess.txt)
direct_mbps=$(sed -n 's/^direct_mb_per_second=//p' inprocess.txt)

throughput() { # BYTES BIG_SECONDS SMALL_SECONDS -> marginal MB/s
    awk -v bytes="$1" -v big="$2" -v small="$3" \
        'BEGIN { d = big - small; if (d <= 0) print "n/a"; else printf "%.1f", bytes / d / 1e6 }'
}
cellota_mbps=$(throughput "$marginal_bytes" "$(median_seconds run_cellota big)" \
    "$(median_seconds run_cellota small)")
reference_mbps=$(throughput "$stream_bytes" "$(median_seconds run_reference stream)" \
    "$(median_seconds run_reference small)")

# --- instructions per byte ----------------------------------------------------------------
if command -v valgrind >/dev/null 2>&1; then
    cellota_ipb=$(awk -v big="$(instructions "$cellota" verify --request big/ota.json --image big/image.ebin)" \
        -v small="$(instructions "$cellota" verify --request small/ota.json --image small/image.ebin)" \
        -v bytes="$marginal_bytes" 'BEGIN { printf "%.1f", (big - small) / bytes }')
    reference_ipb=$(awk -v big="$(reference_instructions big)" -v small="$(reference_instructions small)" \
        -v bytes="$marginal_bytes" 'BEGIN { printf "%.1f", (big - small) / bytes }')
else
    cellota_ipb=n/a
    reference_ipb=n/a
fi

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

printf 'image: %s bytes encrypted (512 KiB plain); %s runs each, medians; MB = 10^6 bytes\n' \
    "$big_bytes" "$runs"
printf '%-52s %10s %12s\n' "" "MB/s" "instr/byte"
printf '%-52s %10s %12s\n' "cellota pipeline, in process (cellota bench)" "$pipeline_mbps" "-"
printf '%-52s %10s %12s\n' "cellota verify, whole command, start-up subtracted" "$cellota_mbps" \
    "$cellota_ipb"
printf '%-52s %10s %12s\n' "openssl enc -d + sha256sum x2, start-up subtracted" "$reference_mbps" \
    "$reference_ipb"
printf '%-52s %10s %12s\n' "the pipeline's work as mbedTLS calls, in process" "$direct_mbps" "-"
printf 'ratio cellota / (openssl enc -d + sha256sum): throughput %s (pipeline in process),\n' \
    "$(ratio "$pipeline_mbps" "$reference_mbps")"
printf '    %s (verify command); instructions per byte %s\n' \
    "$(ratio "$cellota_mbps" "$reference_mbps")" "$(ratio "$cellota_ipb" "$reference_ipb")"
printf 'ratio pipeline / the same mbedTLS calls, in process: throughput %s\n' \
    "$(ratio "$pipeline_mbps" "$direct_mbps")"
echo "(instructions are counted under valgrind, whose emulated CPU decides which AES and"
echo " SHA-256 code paths the libraries pick; wall times share the machine with other work)"
