# The dashboard's pure modules (stage parsing, version order, formats, the chart's history) under
# node's test runner (tests/browser/units.test.mjs); no browser, no server. Under a second.
set -eu
: "${CELLOTA_SOURCE:?CELLOTA_SOURCE must name the source tree}"
command -v node >/dev/null 2>&1 || { echo "test_dashboard_units: node is missing (scripts/install-deps.sh)" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cellota-dashboard-units.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
SCRATCH=$scratch node --test "$CELLOTA_SOURCE/tests/browser/units.test.mjs"
