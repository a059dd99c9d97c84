# Checks shared by every test helper (lib.sh, cli_common.sh; sourced, not a test itself):
# `fail WHAT` counts a failure and says what; `check DESCRIPTION COMMAND...` runs COMMAND and
# fails DESCRIPTION unless it succeeds; `contains FILE TEXT`. Messages are labelled with
# $lib_label (default: the script's name); a test ends with `[ "$failures" -eq 0 ]` (or
# cli_common.sh's `finish`) after printing what it needs. POSIX sh.
failures=0
checks=0
fail() {
    echo "FAIL (${lib_label:-$(basename "$0" .sh)}): $*" >&2
    failures=$((failures + 1))
}
check() {
    description=$1
    shift
    checks=$((checks + 1))
    if ! "$@"; then fail "$description"; fi
}
contains() { grep -qF -- "$2" "$1"; }
