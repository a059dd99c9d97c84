#!/bin/sh
# Runs every benchmark in bench/*.sh in name order, each given the release bin folder.
# A benchmark prints its ratios measured side by side in this one run; none is a pass/fail test.
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
cd "$(dirname "$0")/.."
status=0
for bench in bench/*.sh; do
    [ -e "$bench" ] || continue
    echo "== $(basename "$bench" .sh)"
    CELLOTA_BIN=$bin CELLOTA_SOURCE=$(pwd) sh "$bench" || { echo "bench: $bench failed" >&2; status=1; }
done
exit $status
