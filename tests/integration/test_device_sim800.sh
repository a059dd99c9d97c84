#!/bin/sh
# cellota-device updating itself end to end over an emulated SIM800L (see device_e2e.sh).
MODEL=sim800
. "$CELLOTA_SOURCE/tests/integration/device_e2e.sh"
