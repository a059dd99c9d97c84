/*
 * Commands every emulated model answers: V.250 basics (ATE, ATV, ATI, ATZ, AT&W), identity,
 * error reporting (AT+CMEE), SIM (AT+CPIN?, AT+CCID), signal and registration (AT+CSQ,
 * AT+CREG/CGREG/CEREG, AT+COPS), radio on/off and resets (AT+CFUN, AT+CRESET, AT+CPOWD), the
 * packet context (AT+CGDCONT, AT+CGATT, AT+CGACT), the UART (AT+IPR, AT+ICF, AT+IFC) and the
 * band and mode commands of the LTE-M models (AT+CNMP, AT+CMNB, AT+CBANDCFG).
 */
#include "emulator_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int reply_number_setting(modem_emulator *emulator, const at_command *command, int *setting,
                                long low, long high, const char *name)
{
    long value;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "%s: %d", name, *setting);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "%s: (%ld-%ld)", name, low, high);
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &value) || value < low || value > high)
            return RESULT_ERROR;
        *setting = (int)value;
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

/* ---- V.250 basics ------------------------------------------------------------------------------
 */

static int basic_flag(const at_command *command, bool *flag)
{
    long value = 0;
    if (command->type == COMMAND_SET && !argument_int(command, 0, &value))
        return RESULT_ERROR;
    if (value != 0 && value != 1)
        return RESULT_ERROR;
    *flag = value == 1;
    return RESULT_OK;
}

static int command_echo(modem_emulator *emulator, const at_command *command)
{
    return basic_flag(command, &emulator->echo);
}

static int command_verbose(modem_emulator *emulator, const at_command *command)
{
    return basic_flag(command, &emulator->verbose);
}

static int command_quiet(modem_emulator *emulator, const at_command *command)
{
    return basic_flag(command, &emulator->quiet);
}

int command_accept(modem_emulator *emulator, const at_command *command)
{
    (void)emulator;
    (void)command;
    return RESULT_OK;
}

int command_mode_zero_only(modem_emulator *emulator, const at_command *command, const char *name)
{
    long mode;
    if (command->type == COMMAND_READ) {
        out_line(emulator, "%s: 0", name);
        return RESULT_OK;
    }
    if (command->type == COMMAND_SET)
        return argument_int(command, 0, &mode) && mode == 0 ? RESULT_OK : RESULT_ERROR;
    return RESULT_OK;
}

static int command_reset_settings(modem_emulator *emulator, const at_command *command)
{
    (void)command;
    /* ATZ and AT&F restore the user profile: echo on, verbose results, no registration URCs */
    emulator->echo = true;
    emulator->verbose = true;
    emulator->quiet = false;
    emulator->cmee = emulator->profile->default_cmee;
    emulator->creg_mode = emulator->cgreg_mode = emulator->cereg_mode = 0;
    return RESULT_OK;
}

static const char *imei = "867584030221463";

static int command_information(modem_emulator *emulator, const at_command *command)
{
    (void)command;
    if (emulator->model == MODEM_MODEL_SIM800) {
        out_line(emulator, "SIM800 R14.18");
        return RESULT_OK;
    }
    if (emulator->verbose)
        out_text(emulator, "\r\n");
    out_text(emulator, "Manufacturer: SIMCOM INCORPORATED\r\nModel: ");
    out_text(emulator, emulator->profile->product);
    out_text(emulator, "\r\nRevision: ");
    out_text(emulator, strchr(emulator->profile->revision, ':')
                           ? strchr(emulator->profile->revision, ':') + 1
                           : emulator->profile->revision);
    out_text(emulator, "\r\nIMEI: ");
    out_text(emulator, imei);
    out_text(emulator, "\r\n+GCAP: +CGSM\r\n");
    out_safe_point(emulator);
    return RESULT_OK;
}

static int command_manufacturer(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    out_line(emulator, "%s",
             emulator->model == MODEM_MODEL_SIM800 ? "SIMCOM_Ltd" : "SIMCOM INCORPORATED");
    return RESULT_OK;
}

static int command_product(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    out_line(emulator, "%s", emulator->profile->product);
    return RESULT_OK;
}

static int command_revision(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    out_line(emulator, "%s", emulator->profile->revision);
    return RESULT_OK;
}

static int command_imei(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    out_line(emulator, "%s", imei);
    return RESULT_OK;
}

/* ---- errors and SIM
 * ------------------------------------------------------------------------------ */

static int command_cmee(modem_emulator *emulator, const at_command *command)
{
    return reply_number_setting(emulator, command, &emulator->cmee, 0, 2, "+CMEE");
}

static int command_cpin(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CPIN: READY");
        return RESULT_OK;
    }
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    /* a PIN for a SIM that asks for none */
    return command_cme(CME_NOT_ALLOWED);
}

static int command_ccid(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (emulator->model == MODEM_MODEL_SIM7600 && strcmp(command->name, "+CICCID") == 0)
        out_line(emulator, "+ICCID: 89883030000012345678");
    else if (strcmp(command->name, "+CICCID") == 0)
        out_line(emulator, "+ICCID: 89883030000012345678");
    else
        out_line(emulator, "89883030000012345678");
    return RESULT_OK;
}

static int command_cimi(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    out_line(emulator, "001010123456789");
    return RESULT_OK;
}

static int command_cnum(modem_emulator *emulator, const at_command *command)
{
    (void)emulator;
    (void)command;
    return RESULT_OK;
}

/* ---- signal and registration -------------------------------------------------------------------
 */

static int command_csq(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST) {
        out_line(emulator, "+CSQ: (0-31,99),(0-7,99)");
        return RESULT_OK;
    }
    if (emulator->cfun != 1 || emulator->registration_lost || emulator->registration == 0)
        out_line(emulator, "+CSQ: 99,99");
    else
        out_line(emulator, "+CSQ: %d,99", emulator->model == MODEM_MODEL_SIM800 ? 18 : 21);
    return RESULT_OK;
}

static int registration_command(modem_emulator *emulator, const at_command *command, int *mode,
                                const char *name)
{
    long value;
    int stat = emulator->registration;
    bool lte = emulator->profile->access_technology != 0;
    switch (command->type) {
    case COMMAND_TEST:
        out_line(emulator, "%s: (0-2)", name);
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &value) || value < 0 || value > 2)
            return RESULT_ERROR;
        *mode = (int)value;
        return RESULT_OK;
    case COMMAND_READ:
        if (*mode == 2 && (stat == 1 || stat == 5)) {
            if (lte)
                out_line(emulator, "%s: %d,%d,\"1A2B\",\"01C3D4E5\",%d", name, *mode, stat,
                         emulator->profile->access_technology);
            else
                out_line(emulator, "%s: %d,%d,\"1A2B\",\"3C4D\"", name, *mode, stat);
        } else {
            out_line(emulator, "%s: %d,%d", name, *mode, stat);
        }
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static int command_creg(modem_emulator *emulator, const at_command *command)
{
    return registration_command(emulator, command, &emulator->creg_mode, "+CREG");
}

static int command_cgreg(modem_emulator *emulator, const at_command *command)
{
    return registration_command(emulator, command, &emulator->cgreg_mode, "+CGREG");
}

static int command_cereg(modem_emulator *emulator, const at_command *command)
{
    return registration_command(emulator, command, &emulator->cereg_mode, "+CEREG");
}

static int current_access_technology(const modem_emulator *emulator)
{
    if (emulator->profile->access_technology == 0)
        return 0;
    if (emulator->cat_mode == 2)
        return 9; /* E-UTRAN NB-S1 */
    return emulator->profile->access_technology;
}

static int command_cops(modem_emulator *emulator, const at_command *command)
{
    switch (command->type) {
    case COMMAND_READ:
        if (network_ready(emulator))
            out_line(emulator, "+COPS: 0,0,\"CELLOTA NET\",%d",
                     current_access_technology(emulator));
        else
            out_line(emulator, "+COPS: 0");
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+COPS: (2,\"CELLOTA NET\",\"CELLOTA\",\"00101\",%d),,(0-4),(0-2)",
                 current_access_technology(emulator));
        return RESULT_OK;
    case COMMAND_SET:
        return RESULT_OK; /* automatic or manual selection of the one network there is */
    default:
        return RESULT_ERROR;
    }
}

static int command_cpsi(modem_emulator *emulator, const at_command *command)
{
    if (command->type != COMMAND_READ)
        return command->type == COMMAND_TEST ? RESULT_OK : RESULT_ERROR;
    if (!network_ready(emulator)) {
        out_line(emulator, "+CPSI: NO SERVICE,Online");
        return RESULT_OK;
    }
    switch (emulator->model) {
    case MODEM_MODEL_SIM800:
        out_line(emulator, "+CPSI: GSM,Online,001-01,0x1a2b,15437,41 EGSM 900,-67,0,40-40");
        break;
    case MODEM_MODEL_SIM7600:
        out_line(emulator, "+CPSI: LTE,Online,001-01,0x1A2B,29615333,123,EUTRAN-BAND3,1300,5,5,"
                           "-94,-1051,-730,14");
        break;
    default:
        out_line(emulator,
                 "+CPSI: LTE %s,Online,001-01,0x1A2B,29615333,123,EUTRAN-BAND20,6300,"
                 "0,0,-12,-96,-65,12",
                 emulator->cat_mode == 2 ? "NB-IOT" : "CAT-M1");
        break;
    }
    return RESULT_OK;
}

static void radio_off(modem_emulator *emulator, int cfun)
{
    bool was_ready = network_ready(emulator);
    emulator->cfun = cfun;
    emulator->attached = false;
    if (emulator->registration != 0) {
        emulator->registration = 0;
        registration_changed(emulator);
    }
    if (was_ready)
        dialects_network_lost(emulator);
}

static void cfun_registered(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation != emulator->generation || emulator->cfun != 1 ||
        emulator->registration_lost || emulator->registration != 2)
        return;
    emulator->attached = true;
    emulator->registration = emulator->options.roaming ? 5 : 1;
    registration_changed(emulator);
}

static void reboot_event(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation == emulator->generation)
        emulator_reboot(emulator, true);
}

static int command_cfun(modem_emulator *emulator, const at_command *command)
{
    long value, reset = 0;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CFUN: %d", emulator->cfun);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CFUN: (0,1,4),(0-1)");
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &value) || (value != 0 && value != 1 && value != 4))
            return RESULT_ERROR;
        if (argument_present(command, 1) &&
            (!argument_int(command, 1, &reset) || reset < 0 || reset > 1))
            return RESULT_ERROR;
        if (reset == 1) {
            /* reply first, then the modem restarts */
            schedule(emulator, 100, reboot_event, (int)emulator->generation, NULL);
            return RESULT_OK;
        }
        if (value == emulator->cfun)
            return RESULT_OK;
        if (value != 1) {
            radio_off(emulator, (int)value);
        } else {
            emulator->cfun = 1;
            if (emulator->sim_ready) {
                emulator->registration = 2;
                registration_changed(emulator);
                schedule(emulator, 1500, cfun_registered, (int)emulator->generation, NULL);
            }
        }
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static int command_creset(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    schedule(emulator, 100, reboot_event, (int)emulator->generation, NULL);
    return RESULT_OK;
}

static void power_off_event(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation == emulator->generation)
        emulator_power_off(emulator, false);
}

static int command_cpowd(modem_emulator *emulator, const at_command *command)
{
    long urgent = 1;
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (command->type == COMMAND_SET && !argument_int(command, 0, &urgent))
        return RESULT_ERROR;
    if (urgent == 1)
        out_line(emulator, "NORMAL POWER DOWN");
    schedule(emulator, 50, power_off_event, (int)emulator->generation, NULL);
    return RESULT_DONE;
}

static int command_cpof(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    schedule(emulator, 50, power_off_event, (int)emulator->generation, NULL);
    return RESULT_OK;
}

/* ---- packet context ----------------------------------------------------------------------------
 */

static int command_cgdcont(modem_emulator *emulator, const at_command *command)
{
    long cid;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CGDCONT: 1,\"%s\",\"%s\",\"0.0.0.0\",0,0", emulator->pdp_type,
                 emulator->apn);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CGDCONT: (1-24),\"IP\",,,(0-2),(0-4)");
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &cid) || cid < 1 || cid > 24)
            return RESULT_ERROR;
        if (cid == 1) {
            if (argument_present(command, 1))
                snprintf(emulator->pdp_type, sizeof(emulator->pdp_type), "%s",
                         argument_text(command, 1));
            snprintf(emulator->apn, sizeof(emulator->apn), "%s", argument_text(command, 2));
        }
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static void attach_done(modem_emulator *emulator, int generation, const char *text)
{
    (void)text;
    if ((uint32_t)generation != emulator->generation)
        return;
    if (network_ready(emulator)) {
        emulator->attached = true;
        out_ok(emulator);
    } else {
        out_cme(emulator, CME_NO_NETWORK);
    }
    command_finished(emulator);
}

static int command_cgatt(modem_emulator *emulator, const at_command *command)
{
    long value;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CGATT: %d", emulator->attached && network_ready(emulator) ? 1 : 0);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CGATT: (0,1)");
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &value) || value < 0 || value > 1)
            return RESULT_ERROR;
        if (value == 0) {
            bool was = emulator->attached;
            emulator->attached = false;
            if (was)
                dialects_network_lost(emulator);
            return RESULT_OK;
        }
        /* attaching takes a moment; it fails when there is no network */
        emulator->busy = true;
        schedule(emulator, network_ready(emulator) ? 200 : 3000, attach_done,
                 (int)emulator->generation, NULL);
        return RESULT_PENDING;
    default:
        return RESULT_ERROR;
    }
}

static int command_cgact(modem_emulator *emulator, const at_command *command)
{
    long state;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CGACT: 1,%d", emulator->attached && network_ready(emulator) ? 1 : 0);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CGACT: (0,1)");
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &state) || state < 0 || state > 1)
            return RESULT_ERROR;
        if (state == 1 && !network_ready(emulator))
            return command_cme(CME_NO_NETWORK);
        emulator->attached = state == 1 || emulator->attached;
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static int command_cgpaddr(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    out_line(emulator, "+CGPADDR: 1,%s", network_ready(emulator) ? "10.64.12.7" : "0.0.0.0");
    return RESULT_OK;
}

/* ---- UART settings -----------------------------------------------------------------------------
 */

static bool supported_baud(long baud)
{
    static const long rates[] = {0,      300,    600,     1200,    2400,   4800,
                                 9600,   19200,  38400,   57600,   115200, 230400,
                                 460800, 921600, 3000000, 3200000, 3686400};
    size_t index;
    for (index = 0; index < sizeof(rates) / sizeof(rates[0]); index++)
        if (rates[index] == baud)
            return true;
    return false;
}

static int command_ipr(modem_emulator *emulator, const at_command *command)
{
    long baud;
    const char *name = strcmp(command->name, "+IPREX") == 0 ? "+IPREX" : "+IPR";
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "%s: %u", name, (unsigned)emulator->baud);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator,
                 "%s: (0,300,600,1200,2400,4800,9600,19200,38400,57600,115200,230400,"
                 "460800,921600)",
                 name);
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &baud) || !supported_baud(baud))
            return RESULT_ERROR;
        if (baud == 0 || (uint32_t)baud == emulator->baud)
            return RESULT_OK; /* autobauding keeps the rate the device already uses */
        schedule_line_change(emulator, (uint32_t)baud, -1);
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static int command_icf(modem_emulator *emulator, const at_command *command)
{
    long format, parity = 3;
    switch (command->type) {
    case COMMAND_READ:
        if (emulator->parity)
            out_line(emulator, "+ICF: 2,1");
        else
            out_line(emulator, "+ICF: 3,3");
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+ICF: (1-6),(0-3)");
        return RESULT_OK;
    case COMMAND_SET:
        /* format 2 is 8 data bits, a parity bit and 1 stop bit; 3 is 8N1 */
        if (!argument_int(command, 0, &format) || (format != 2 && format != 3))
            return RESULT_ERROR;
        if (argument_present(command, 1) &&
            (!argument_int(command, 1, &parity) || parity < 0 || parity > 3))
            return RESULT_ERROR;
        schedule_line_change(emulator, 0, format == 2 ? 1 : 0);
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static int command_ifc(modem_emulator *emulator, const at_command *command)
{
    long device_side, modem_side;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+IFC: %d,%d", emulator->flow_control ? 2 : 0,
                 emulator->flow_control ? 2 : 0);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+IFC: (0,2),(0,2)");
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &device_side) || !argument_int(command, 1, &modem_side) ||
            (device_side != 0 && device_side != 2) || device_side != modem_side)
            return RESULT_ERROR;
        emulator->flow_control = device_side == 2;
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

/* ---- band and mode (SIM7000, SIM7070; AT+CNMP also on SIM7600)
 * ----------------------------------- */

static int command_cnmp(modem_emulator *emulator, const at_command *command)
{
    long mode;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CNMP: %d", emulator->network_mode);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CNMP: (2,13,38,51)");
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &mode) ||
            (mode != 2 && mode != 13 && mode != 38 && mode != 51 && mode != 14 && mode != 48))
            return RESULT_ERROR;
        emulator->network_mode = (int)mode;
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static int command_cmnb(modem_emulator *emulator, const at_command *command)
{
    long mode;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CMNB: %d", emulator->cat_mode);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CMNB: (1-3)");
        return RESULT_OK;
    case COMMAND_SET:
        if (!argument_int(command, 0, &mode) || mode < 1 || mode > 3)
            return RESULT_ERROR;
        emulator->cat_mode = (int)mode;
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static bool valid_band_list(const at_command *command, int first)
{
    static const int lte_bands[] = {1,  2,  3,  4,  5,  8,  12, 13, 14, 17, 18,
                                    19, 20, 25, 26, 27, 28, 31, 66, 71, 72, 85};
    int index;
    if (command->count <= first)
        return false;
    for (index = first; index < command->count; index++) {
        long band;
        size_t known;
        bool found = false;
        if (!argument_int(command, index, &band))
            return false;
        for (known = 0; known < sizeof(lte_bands) / sizeof(lte_bands[0]); known++)
            found = found || lte_bands[known] == band;
        if (!found)
            return false;
    }
    return true;
}

static int command_cbandcfg(modem_emulator *emulator, const at_command *command)
{
    char list[96] = "";
    int index;
    const char *mode;
    switch (command->type) {
    case COMMAND_READ:
        out_line(emulator, "+CBANDCFG: \"CAT-M\",%s", emulator->bands_catm);
        out_line(emulator, "+CBANDCFG: \"NB-IOT\",%s", emulator->bands_nb);
        return RESULT_OK;
    case COMMAND_TEST:
        out_line(emulator, "+CBANDCFG: (\"CAT-M\",\"NB-IOT\"),(1,2,3,4,5,8,12,13,14,18,19,20,25,"
                           "26,27,28,66,85)");
        return RESULT_OK;
    case COMMAND_SET:
        mode = argument_text(command, 0);
        if (!valid_band_list(command, 1))
            return RESULT_ERROR;
        for (index = 1; index < command->count; index++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof(list) - used, "%s%s", index > 1 ? "," : "",
                     argument_text(command, index));
        }
        if (strcasecmp(mode, "CAT-M") == 0)
            snprintf(emulator->bands_catm, sizeof(emulator->bands_catm), "%s", list);
        else if (strcasecmp(mode, "NB-IOT") == 0)
            snprintf(emulator->bands_nb, sizeof(emulator->bands_nb), "%s", list);
        else
            return RESULT_ERROR;
        return RESULT_OK;
    default:
        return RESULT_ERROR;
    }
}

static int command_cband(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_READ) {
        out_line(emulator, "+CBAND: ALL_MODE");
        return RESULT_OK;
    }
    if (command->type == COMMAND_SET)
        return argument_present(command, 0) ? RESULT_OK : RESULT_ERROR;
    return RESULT_OK;
}

/* ---- odds and ends drivers send during setup
 * ------------------------------------------------------ */

static int command_cclk(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_READ)
        out_line(emulator, "+CCLK: \"24/06/01,12:00:00+00\"");
    return RESULT_OK;
}

static int command_cbc(modem_emulator *emulator, const at_command *command)
{
    if (command->type == COMMAND_TEST)
        return RESULT_OK;
    if (emulator->model == MODEM_MODEL_SIM7600)
        out_line(emulator, "+CBC: 3.912V");
    else
        out_line(emulator, "+CBC: 0,82,4012");
    return RESULT_OK;
}

static int command_csub(modem_emulator *emulator, const at_command *command)
{
    (void)command;
    out_line(emulator, "+CSUB: B04V02");
    return RESULT_OK;
}

static int command_cgnapn(modem_emulator *emulator, const at_command *command)
{
    (void)command;
    out_line(emulator, "+CGNAPN: 1,\"%s\"", emulator->apn);
    return RESULT_OK;
}

const command_entry general_commands[] = {{"E", command_echo, 0},
                                          {"V", command_verbose, 0},
                                          {"Q", command_quiet, 0},
                                          {"I", command_information, 0},
                                          {"Z", command_reset_settings, 0},
                                          {"&F", command_reset_settings, 0},
                                          {"&W", command_accept, 0},
                                          {"&D", command_accept, 0},
                                          {"&C", command_accept, 0},
                                          {"+CGMI", command_manufacturer, 0},
                                          {"+GMI", command_manufacturer, 0},
                                          {"+CGMM", command_product, 0},
                                          {"+GMM", command_product, 0},
                                          {"+CGMR", command_revision, 0},
                                          {"+GMR", command_revision, 0},
                                          {"+CGSN", command_imei, 0},
                                          {"+GSN", command_imei, 0},
                                          {"+CMEE", command_cmee, 0},
                                          {"+CPIN", command_cpin, COMMAND_NEEDS_SIM},
                                          {"+CCID", command_ccid, COMMAND_NEEDS_SIM},
                                          {"+CICCID", command_ccid, COMMAND_NEEDS_SIM},
                                          {"+CIMI", command_cimi, COMMAND_NEEDS_SIM},
                                          {"+CNUM", command_cnum, COMMAND_NEEDS_SIM},
                                          {"+CMGF", command_accept, COMMAND_NEEDS_SIM},
                                          {"+CPMS", command_accept, COMMAND_NEEDS_SIM},
                                          {"+CSQ", command_csq, 0},
                                          {"+CREG", command_creg, 0},
                                          {"+CGREG", command_cgreg, 0},
                                          {"+COPS", command_cops, COMMAND_NEEDS_SIM},
                                          {"+CPSI", command_cpsi, 0},
                                          {"+CFUN", command_cfun, 0},
                                          {"+CPOWD", command_cpowd, 0},
                                          {"+CGDCONT", command_cgdcont, 0},
                                          {"+CGATT", command_cgatt, 0},
                                          {"+CGACT", command_cgact, 0},
                                          {"+CGPADDR", command_cgpaddr, 0},
                                          {"+IPR", command_ipr, 0},
                                          {"+ICF", command_icf, 0},
                                          {"+IFC", command_ifc, 0},
                                          {"+CCLK", command_cclk, 0},
                                          {"+CBC", command_cbc, 0},
                                          {"+CSCS", command_accept, 0},
                                          {"+CNMI", command_accept, 0},
                                          {"+CLTS", command_accept, 0},
                                          {"+CTZU", command_accept, 0},
                                          {"+CSCLK", command_accept, 0},
                                          {"+CGEREP", command_accept, 0},
                                          {NULL, NULL, 0}};

/* Commands the LTE models (SIM7600, SIM7000, SIM7070) know. */
const command_entry lte_commands[] = {
    {"+CEREG", command_cereg, 0}, {"+CNMP", command_cnmp, 0}, {NULL, NULL, 0}};

/* The LTE-M models' band and mode selection (SIM7000, SIM7070). */
const command_entry band_commands[] = {
    {"+CMNB", command_cmnb, 0},      {"+CBANDCFG", command_cbandcfg, 0},
    {"+CBAND", command_cband, 0},    {"+CGNAPN", command_cgnapn, 0},
    {"+CBATCHK", command_accept, 0}, {NULL, NULL, 0}};

/* SIM7600 only. */
const command_entry sim7600_general_commands[] = {{"+CRESET", command_creset, 0},
                                                  {"+CPOF", command_cpof, 0},
                                                  {"+IPREX", command_ipr, 0},
                                                  {"+CSUB", command_csub, 0},
                                                  {NULL, NULL, 0}};
