#!/bin/sh
# cellota-device updating itself end to end over an emulated SIM7000 (see device_e2e.sh).
MODEL=sim7000
. "$CELLOTA_SOURCE/tests/integration/device_e2e.sh"
