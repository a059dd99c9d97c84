/*
 * Steps every SIMCom dialect shares (see profile.h). Sources: 3GPP TS 27.007 (AT+CPIN, AT+CREG,
 * AT+CGREG, AT+CEREG, AT+CMEE), and the SIM7500/SIM7600, SIM7000, SIM7070/SIM7080 and SIM800
 * Series AT Command Manuals for AT+IFC, AT+CNMP, AT+CMNB and AT+CBANDCFG.
 */
#include "at/profile.h"

#include "at/modem.h"

/* Timeouts are in tenths of a second. */
const cellota_at_step cellota_modem_probe_steps[1] = {
    {"AT", NULL, NULL, 5, 0, 3},
};

/* After the power key: SIM7600 needs 15-25 s, the others less; 30 tries of 1 s + 1 s pause. */
const cellota_at_step cellota_modem_boot_steps[1] = {
    {"AT", NULL, NULL, 10, 0, 30},
};

const cellota_at_step cellota_modem_setup_steps[8] = {
    {"ATE0", NULL, NULL, 20, 0, 2},
    {"AT+CMEE=2", NULL, NULL, 20, 0, 0},
    {"AT+IFC=%r,%r", NULL, NULL, 20, CELLOTA_AT_OPTIONAL, 0},
    /* "+CME ERROR: SIM busy" (or "+CPIN: NOT READY") for a few seconds after start-up. */
    {"AT+CPIN?", "+CPIN: ", cellota_modem_on_sim, 50, 0, 20},
    {"AT+CNMP=%m", NULL, NULL, 100, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CMNB=%c", NULL, NULL, 100, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CBANDCFG=\"CAT-M\",%t", NULL, NULL, 100, CELLOTA_AT_OPTIONAL, 0},
    {"AT+CBANDCFG=\"NB-IOT\",%b", NULL, NULL, 100, CELLOTA_AT_OPTIONAL, 0},
};

/* A dialect without one of these answers ERROR: that is no reason to stop asking the others. */
const cellota_at_step cellota_modem_registration_steps[3] = {
    {"AT+CREG?", "+CREG: ", cellota_modem_on_registration, 30, CELLOTA_AT_ERROR_OK, 0},
    {"AT+CGREG?", "+CGREG: ", cellota_modem_on_registration, 30, CELLOTA_AT_ERROR_OK, 0},
    {"AT+CEREG?", "+CEREG: ", cellota_modem_on_registration, 30, CELLOTA_AT_ERROR_OK, 0},
};
