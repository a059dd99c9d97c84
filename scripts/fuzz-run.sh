#!/bin/sh
# Runs one libFuzzer target for SECONDS against its committed seed corpus (read-only: new inputs
# go to a scratch folder, so a test run never edits the tree). A crash fails the run and leaves
# the reproducer in the scratch folder, whose path is printed.
# usage: fuzz-run.sh FUZZER CORPUS_DIR SECONDS
set -eu
fuzzer=$1; corpus=$2; seconds=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellota-fuzz.XXXXXX")
mkdir -p "$scratch/new"
set -- "$scratch/new"
[ -d "$corpus" ] && set -- "$@" "$corpus"
if "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$scratch/" "$@" >"$scratch/log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|Done)' "$scratch/log" || true
    rm -rf "$scratch"
    exit 0
fi
tail -n 40 "$scratch/log"
echo "fuzz-run: $(basename "$fuzzer") failed; reproducer and log in $scratch" >&2
exit 1
