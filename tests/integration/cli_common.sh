# Shared by the cellota CLI's integration tests (sourced, not a test itself): a scratch folder
# removed on exit, checks that say what failed and go on, and the byte-level helpers the tests
# use to build fw_info and requests by hand, independently of cellota's own code.
set -eu
: "${CELLOTA_BIN:?CELLOTA_BIN must name the folder holding the cellota binary}"
cellota=$CELLOTA_BIN/cellota
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellota-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM
. "$(dirname "$0")/checks.sh" # fail, check, contains

# expect CODE TEXT COMMAND...: runs COMMAND, which must exit with CODE and, unless TEXT is
# empty, print TEXT on standard error. A failure's first line must be "cellota: ...".
# Standard output goes to $scratch/out, standard error to $scratch/err.
expect() {
    expected=$1
    text=$2
    shift 2
    checks=$((checks + 1))
    set +e
    "$@" >"$scratch/out" 2>"$scratch/err"
    actual=$?
    set -e
    if [ "$actual" -ne "$expected" ]; then
        fail "exit $actual, expected $expected: $*"
        sed 's/^/    /' "$scratch/err" >&2
    elif [ -n "$text" ] && ! grep -qF -- "$text" "$scratch/err"; then
        fail "'$text' not on standard error of: $*"
        sed 's/^/    /' "$scratch/err" >&2
    elif [ "$expected" -ne 0 ] && ! head -n 1 "$scratch/err" | grep -q '^cellota: '; then
        fail "the error is not one 'cellota: ...' line: $*"
        sed 's/^/    /' "$scratch/err" >&2
    fi
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures of $checks checks failed" >&2
        exit 1
    fi
    echo "$checks checks passed"
}

# le32 N: N as 8 hex digits, little-endian (fw_info's integers).
le32() {
    printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) \
        $(($1 >> 24 & 255))
}

sha256_of() {
    sha256sum "$1" | cut -d' ' -f1
}

size_of() {
    wc -c <"$1" | tr -d ' '
}

# fw_info_hex VERSION LOAD PLAIN_FILE ENCRYPTED_FILE KEY IV: design.md's 112 bytes, in hex.
fw_info_hex() {
    printf '%s%s%s%s%s%s%s%s' "$(le32 "$1")" "$(le32 "$2")" "$(le32 "$(size_of "$3")")" \
        "$(le32 "$(size_of "$4")")" "$5" "$6" "$(sha256_of "$4")" "$(sha256_of "$3")"
}

# request_json URL FW_INFO VERSION [SIG]: an update request written by hand.
request_json() {
    printf '{\n  "type": "update_fw",\n  "url": "%s",\n  "alt_url": "",\n  "fw_info": "%s",\n  "version": "%s"' \
        "$1" "$2" "$3"
    if [ $# -ge 4 ]; then printf ',\n  "sig": "%s"' "$4"; fi
    printf '\n}\n'
}

# json_field NAME FILE: the string value of "NAME" in a JSON file printed one member a line.
json_field() {
    sed -n "s/.*\"$1\":[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -n 1
}
