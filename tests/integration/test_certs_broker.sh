#!/bin/sh
# `cellota certs` against a real mosquitto with the configuration it writes: a client without a
# certificate, or with one from another CA, is refused; a device receives its own update
# requests and publishes its own status; device A can neither read B's update requests nor
# publish as B; the server's certificate reads and writes every device's topics.
. "$(dirname "$0")/lib.sh"
cd "$lib_scratch"
cellota=$CELLOTA_BIN/cellota

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

"$cellota" certs init --dir pki >/dev/null
"$cellota" certs device dev-a --dir pki >/dev/null
"$cellota" certs device dev-b --dir pki >/dev/null
# what the command refuses: a second CA over the first, a device twice, names the ACL or the
# file system would misread, the server's own name
"$cellota" certs init --dir pki 2>err.txt && fail "a second init overwrote the CA"
grep -q "exists already" err.txt || fail "init's refusal: $(cat err.txt)"
"$cellota" certs device dev-a --dir pki 2>/dev/null && fail "dev-a issued twice"
for bad in 'a/b' '+' '#' '..' cellota-server ''; do
    "$cellota" certs device "$bad" --dir pki 2>/dev/null && fail "device id '$bad' accepted"
done
openssl verify -CAfile pki/ca.crt pki/server.crt pki/dev-a.crt >/dev/null ||
    fail "openssl does not verify the certificates"
openssl x509 -in pki/dev-a.crt -noout -subject | grep -q "CN *= *dev-a" || fail "dev-a's CN"

# another project's CA and a device of it: same names, wrong issuer
"$cellota" certs init --dir rogue >/dev/null
"$cellota" certs device dev-b --dir rogue >/dev/null

lib_start_tls_mosquitto pki
port=$mosquitto_port
tls="-h localhost -p $port --cafile pki/ca.crt"
as_server="--cert pki/server.crt --key pki/server.key"
as_a="--cert pki/dev-a.crt --key pki/dev-a.key"
as_b="--cert pki/dev-b.crt --key pki/dev-b.key"

# refused: no certificate, another CA's certificate
# shellcheck disable=SC2086
mosquitto_pub $tls -t cellota/dev-b/status -m x -q 1 2>/dev/null && fail "no certificate accepted"
# shellcheck disable=SC2086
mosquitto_pub $tls --cert rogue/dev-b.crt --key rogue/dev-b.key -t cellota/dev-b/status -m x \
    -q 1 2>/dev/null && fail "another CA's certificate accepted"

# subscribers: A on its own and on B's update topic, B on its own, the server on every status
# shellcheck disable=SC2086
mosquitto_sub $tls $as_a -t cellota/dev-a/update -C 1 -W 5 >a_own.txt 2>&1 &
a_own=$!
# shellcheck disable=SC2086
mosquitto_sub $tls $as_a -t cellota/dev-b/update -t 'cellota/+/update' -t 'cellota/#' -v -W 4 \
    >a_other.txt 2>&1 &
a_other=$!
# shellcheck disable=SC2086
mosquitto_sub $tls $as_b -t cellota/dev-b/update -C 1 -W 5 >b_own.txt 2>&1 &
b_own=$!
# shellcheck disable=SC2086
mosquitto_sub $tls $as_server -t 'cellota/+/status' -t 'cellota/+/online' -v -W 4 \
    >server.txt 2>&1 &
server=$!
lib_pids="$lib_pids $a_own $a_other $b_own $server"
lib_wait_for "$mosquitto_log" "u'cellota-server'" 5 || true
sleep 0.5

# shellcheck disable=SC2086
mosquitto_pub $tls $as_server -t cellota/dev-b/update -m request-for-b -q 1 ||
    fail "the server cannot publish B's update"
# shellcheck disable=SC2086
mosquitto_pub $tls $as_server -t cellota/dev-a/update -m request-for-a -q 1 ||
    fail "the server cannot publish A's update"
# A publishes as B (denied, silently under MQTT 3.1.1), then as itself; B's will and status
# shellcheck disable=SC2086
mosquitto_pub $tls $as_a -t cellota/dev-b/status -m forged-by-a -q 1 || true
# shellcheck disable=SC2086
mosquitto_pub $tls $as_a -t cellota/dev-b/online -m forged-by-a -q 1 || true
# shellcheck disable=SC2086
mosquitto_pub $tls $as_a -t cellota/dev-a/status -m status-of-a -q 1 || fail "A's own status"
# shellcheck disable=SC2086
mosquitto_pub $tls $as_b -t cellota/dev-b/online -m online-of-b -q 1 || fail "B's own online"
# a device cannot publish update requests, not even its own
# shellcheck disable=SC2086
mosquitto_pub $tls $as_b -t cellota/dev-b/update -m forged-request -q 1 || true

wait $a_own $a_other $b_own $server 2>/dev/null || true
grep -qx request-for-a a_own.txt || fail "A did not get its update: $(cat a_own.txt)"
grep -qx request-for-b b_own.txt || fail "B did not get its update: $(cat b_own.txt)"
grep -q "dev-b/update request-for-b" a_other.txt && fail "A read B's update: $(cat a_other.txt)"
grep -q "cellota/dev-b/status" a_other.txt && fail "A read B's status: $(cat a_other.txt)"
grep -q "dev-a/update request-for-a" a_other.txt || fail "A's wildcard missed its own update"
grep -q forged b_own.txt && fail "B received a request a device published"
grep -qx "cellota/dev-a/status status-of-a" server.txt || fail "the server missed A's status"
grep -qx "cellota/dev-b/online online-of-b" server.txt || fail "the server missed B's online"
grep -q forged server.txt && fail "A published as B: $(cat server.txt)"

# Revocation: B's certificate into the CRL; the broker, restarted, refuses B and still takes A.
"$cellota" certs revoke dev-b --dir pki >/dev/null
openssl verify -crl_check -CAfile pki/ca.crt -CRLfile pki/crl.pem pki/dev-b.crt >/dev/null 2>&1 &&
    fail "openssl still verifies the revoked certificate"
openssl verify -crl_check -CAfile pki/ca.crt -CRLfile pki/crl.pem pki/dev-a.crt >/dev/null ||
    fail "openssl refuses A after B's revocation"
kill "$mosquitto_pid"
wait "$mosquitto_pid" 2>/dev/null || true
lib_start_tls_mosquitto pki
tls="-h localhost -p $mosquitto_port --cafile pki/ca.crt"
grep -q "^crlfile " pki/mosquitto.conf || fail "mosquitto.conf has no crlfile"
# shellcheck disable=SC2086
mosquitto_pub $tls $as_b -t cellota/dev-b/status -m revoked -q 1 2>/dev/null &&
    fail "the revoked certificate still connects"
# shellcheck disable=SC2086
mosquitto_pub $tls $as_a -t cellota/dev-a/status -m after -q 1 || fail "A refused after B's revocation"
echo "certs broker: no certificate, another CA and a revoked certificate refused; A reads only its own update, writes only its own status"
