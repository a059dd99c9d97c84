#!/bin/sh
# cellota-device updating itself end to end over an emulated SIM7600 (see device_e2e.sh).
MODEL=sim7600
. "$CELLOTA_SOURCE/tests/integration/device_e2e.sh"
