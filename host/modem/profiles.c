/*
 * The four models side by side: identity strings, boot lines and timing, buffer sizes, the
 * largest read and send each accepts, and which command tables (dialects) each one answers.
 * Boot times are shorter than the hardware's (a SIM7600 takes 10-15 s to RDY) so that tests on
 * the pty run quickly; options.boot_ms and friends set real figures.
 */
#include "emulator_internal.h"

#include <stddef.h>

static const char *const sim7600_ready[] = {"SMS DONE", "PB DONE", NULL};
static const char *const lte_m_after_rdy[] = {"+CFUN: 1", NULL};
static const char *const lte_m_ready[] = {"SMS Ready", NULL};
static const char *const sim800_after_rdy[] = {"+CFUN: 1", NULL};
static const char *const sim800_ready[] = {"Call Ready", "SMS Ready", NULL};

static const command_entry *const sim7600_tables[] = {
    general_commands, lte_commands,        sim7600_general_commands,     sim7600_commands,
    http_commands,    filesystem_commands, sim7600_certificate_commands, NULL};
static const command_entry *const sim7000_tables[] = {
    general_commands,        lte_commands, band_commands, cip_commands, ca_commands,
    ca_certificate_commands, NULL};
static const command_entry *const sim7070_tables[] = {
    general_commands, lte_commands, band_commands, ca_commands, ca_certificate_commands, NULL};
static const command_entry *const sim800_tables[] = {general_commands, cip_commands, NULL};

static const model_profile profiles[] = {
    {
        .model = MODEM_MODEL_SIM7600,
        .name = "SIM7600",
        .product = "SIMCOM_SIM7600E-H",
        .revision = "+CGMR: LE20B04SIM7600M22",
        .dialects = DIALECT_SIM7600,
        .radio = MODEM_RADIO_CAT1,
        .boot_ms = 2500,
        .sim_ready_ms = 1000,
        .ready_lines_ms = 1500,
        .registration_ms = 1500,
        .after_rdy = NULL,
        .ready_lines = sim7600_ready,
        .default_cmee = 2,
        .line_limit = 1024,
        .rx_buffer = 8192,
        .socket_buffer = 16384,
        .max_read = 1500,
        .max_send = 1500,
        .links = 10,
        .prompt = "\r\n>",
        .power_on_ms = 500,
        .power_off_ms = 2500,
        .access_technology = 7,
        .has_cereg = true,
        .tables = sim7600_tables,
    },
    {
        .model = MODEM_MODEL_SIM7000,
        .name = "SIM7000",
        .product = "SIMCOM_SIM7000G",
        .revision = "Revision:1529B11SIM7000G",
        .dialects = DIALECT_CIP | DIALECT_CA,
        .radio = MODEM_RADIO_CATM1,
        .boot_ms = 2000,
        .sim_ready_ms = 600,
        .ready_lines_ms = 1000,
        .registration_ms = 2500,
        .after_rdy = lte_m_after_rdy,
        .ready_lines = lte_m_ready,
        .default_cmee = 0,
        .line_limit = 1024,
        .rx_buffer = 4096,
        .socket_buffer = 8192,
        .max_read = 1460,
        .max_send = 1460,
        .links = 8,
        .prompt = "\r\n> ",
        .power_on_ms = 1000,
        .power_off_ms = 1200,
        .access_technology = 7,
        .has_cereg = true,
        .tables = sim7000_tables,
    },
    {
        .model = MODEM_MODEL_SIM7070,
        .name = "SIM7070",
        .product = "SIMCOM_SIM7070G",
        .revision = "Revision:1951B08SIM7070",
        .dialects = DIALECT_CA,
        .radio = MODEM_RADIO_CATM1,
        .boot_ms = 2000,
        .sim_ready_ms = 600,
        .ready_lines_ms = 1000,
        .registration_ms = 2500,
        .after_rdy = lte_m_after_rdy,
        .ready_lines = lte_m_ready,
        .default_cmee = 0,
        .line_limit = 1024,
        .rx_buffer = 4096,
        .socket_buffer = 8192,
        .max_read = 1460,
        .max_send = 1460,
        .links = 13,
        .prompt = "\r\n> ",
        .power_on_ms = 1000,
        .power_off_ms = 1200,
        .access_technology = 7,
        .has_cereg = true,
        .tables = sim7070_tables,
    },
    {
        .model = MODEM_MODEL_SIM800,
        .name = "SIM800",
        .product = "SIMCOM_SIM800L",
        .revision = "Revision:1418B04SIM800L24",
        .dialects = DIALECT_CIP,
        .radio = MODEM_RADIO_GPRS,
        .boot_ms = 1500,
        .sim_ready_ms = 800,
        .ready_lines_ms = 1200,
        .registration_ms = 2000,
        .after_rdy = sim800_after_rdy,
        .ready_lines = sim800_ready,
        .default_cmee = 0,
        .line_limit = 556,
        .rx_buffer = 2048,
        .socket_buffer = 8192,
        .max_read = 1460,
        .max_send = 1460,
        .links = 6,
        .prompt = "\r\n> ",
        .power_on_ms = 1000,
        .power_off_ms = 1000,
        .access_technology = 0,
        .has_cereg = false,
        .tables = sim800_tables,
    },
};

const model_profile *profile_for_model(modem_model model)
{
    if ((unsigned)model >= sizeof(profiles) / sizeof(profiles[0]))
        return NULL;
    return &profiles[model];
}
