#!/bin/sh
# cellota-device updating itself end to end over an emulated SIM7600 with RTS/CTS, where the
# driver runs the modem in push mode (cellota_sim7600_pushed: no read command per 1500 bytes);
# every fault of device_e2e.sh must be caught the same way without the read replies' framing.
MODEL=sim7600
LINK_OPTIONS=--flow-control
. "$CELLOTA_SOURCE/tests/integration/device_e2e.sh"
