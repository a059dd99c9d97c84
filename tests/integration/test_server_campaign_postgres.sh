# test_server_campaign.sh with the server's state in PostgreSQL (started on loopback).
CELLOTA_SERVER_DB=postgres
. "$CELLOTA_SOURCE/tests/integration/test_server_campaign.sh"
