#!/bin/sh
# The power-fail campaign on every layout x strategy with a 512 KiB image (docs/boot.md):
# a power cut during every flash operation of the update (at least 1000 of them), every
# operation of the rollbacks, and random runs of up to five cuts; every one must recover and
# none may brick. Also: the one combination that does not apply is refused with its reason,
# forking at the cut points gives what replaying the update does, and bad usage exits 2.
set -eu
sim="$CELLOTA_BIN/cellota-sim"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
status=0

# value KEY LINE: the value of KEY=... in LINE
value() {
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

fail() {
    echo "test_powerfail: $*" >&2
    status=1
}

check() {
    line=$1
    points=$(value points "$line")
    case "$line" in
    "powerfail: layout=$2 strategy=$3 ${4:+encoding=$4 }points="*) ;;
    *) fail "unexpected summary for $2 $3 ${4:-}: $line"; return ;;
    esac
    [ "$points" -ge 1000 ] || fail "$2 $3: only $points cut points"
    [ "$(value recovered "$line")" = "$points" ] || fail "$2 $3: not every cut recovered"
    [ "$(value bricked "$line")" = 0 ] || fail "$2 $3: bricked"
    [ "$(value failed "$line")" = 0 ] || fail "$2 $3: failed"
    [ "$(value rollback_points "$line")" -ge 1 ] || fail "$2 $3: no rollback cuts"
    [ "$(value rollback_recovered "$line")" = "$(value rollback_points "$line")" ] ||
        fail "$2 $3: a rollback cut did not recover"
    [ "$(value random_recovered "$line")" = "$(value random_runs "$line")" ] ||
        fail "$2 $3: a random run did not recover"
    [ "$(value random_cuts "$line")" -gt "$(value random_runs "$line")" ] ||
        fail "$2 $3: the random runs did not cut more than once per run"
    [ "$(value watchdog_bites "$line")" = 0 ] || fail "$2 $3: the watchdog bit: a step is unbounded"
}

for combination in "esp32-4mb ab" "esp32-4mb modem" "esp32-4mb bootloader" \
    "nrf52840-1mb modem" "nrf52840-1mb bootloader"; do
    # shellcheck disable=SC2086
    set -- $combination
    if ! line=$("$sim" powerfail --layout "$1" --strategy "$2" --image-size 512KiB \
        --random-runs 30 --seed 7); then
        fail "$1 $2 exited non-zero"
    fi
    echo "$line"
    check "$line" "$1" "$2"
done

# Compressed images and patches (A/B): the decoder's checkpoints at segment ends, resumed mid
# block after every cut. Image sizes give at least 1000 cut points each.
for combination in "compressed 168KiB" "patch 240KiB"; do
    # shellcheck disable=SC2086
    set -- $combination
    if ! line=$("$sim" powerfail --layout esp32-4mb --strategy ab --encoding "$1" \
        --image-size "$2" --random-runs 30 --seed 7); then
        fail "esp32-4mb ab $1 exited non-zero"
    fi
    echo "$line"
    check "$line" esp32-4mb ab "$1"
done
if "$sim" powerfail --layout nrf52840-1mb --strategy modem --encoding patch >/dev/null 2>"$tmp/err"; then
    fail "a patch with modem staging was not refused"
else
    grep -q "only with --strategy ab" "$tmp/err" || fail "modem staging with a patch: no reason given"
fi

# nRF52840 has no second application slot: A/B is refused, with the reason.
if "$sim" powerfail --layout nrf52840-1mb --strategy ab >"$tmp/out" 2>"$tmp/err"; then
    fail "ab on nrf52840-1mb was not refused"
else
    [ $? -eq 2 ] || fail "ab on nrf52840-1mb: exit status is not 2"
    grep -q "one application slot" "$tmp/err" || fail "ab on nrf52840-1mb: no reason given"
fi

# Forking at each cut point is the same campaign as replaying the update up to it.
forked=$("$sim" powerfail --layout nrf52840-1mb --strategy modem --image-size 24KiB \
    --random-runs 0 --seed 3)
replayed=$("$sim" powerfail --layout nrf52840-1mb --strategy modem --image-size 24KiB \
    --random-runs 0 --seed 3 --replay)
for key in points recovered rollback_points rollback_recovered; do
    [ "$(value $key "$forked")" = "$(value $key "$replayed")" ] ||
        fail "fork and replay differ in $key: $forked / $replayed"
done

# Usage errors.
for arguments in "powerfail --layout nope --strategy ab" "powerfail --layout esp32-4mb" \
    "powerfail --layout esp32-4mb --strategy ab --image-size 3MiB" "frobnicate"; do
    # shellcheck disable=SC2086
    if "$sim" $arguments >/dev/null 2>&1; then
        fail "accepted: $arguments"
    elif [ $? -ne 2 ]; then
        fail "not exit status 2: $arguments"
    fi
done
"$sim" --help | grep -q "powerfail" || fail "--help does not describe powerfail"
exit $status
