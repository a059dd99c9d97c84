/* Commands every model shares: result codes (ATV0), A/, concatenation, the command-line limit,
 * radio on and off, resets and power down, the PDP context and UART settings, and a modem
 * that is busy while the device keeps writing. */
#include "modem_harness.h"

static void start(harness *h, modem_model model)
{
    modem_emulator_options options = exact_options();
    harness_start(h, model, &options);
    CHECK(harness_ready(h));
}

static void test_result_codes_and_lines(void)
{
    harness h;
    char line[700];
    start(&h, MODEM_MODEL_SIM800);
    CHECK(harness_command(&h, "AT+CSQ;+CREG?", "\r\n+CSQ: 18,99\r\n\r\n+CREG: 0,1\r\n\r\nOK\r\n",
                          1000));
    CHECK(harness_command(&h, "AT+CGMM", "\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "A/", "\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "ATV0", "0\r", 1000));
    CHECK(harness_command(&h, "AT+CGMR", "Revision:1418B04SIM800L24\r\n0\r", 1000));
    CHECK(harness_command(&h, "AT+NOPE", "4\r", 1000));
    CHECK(harness_command(&h, "ATV1", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CREG=5", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CGDCONT=1,\"IP\",\"iot.example\"", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CGDCONT?", "\r\n+CGDCONT: 1,\"IP\",\"iot.example\",", 1000));
    CHECK(harness_command(&h, "AT+CGDCONT=1,\"IP\",\"unterminated", "\r\nERROR\r\n", 1000));
    /* the SIM800 takes 556 characters on a line */
    memset(line, 'A', sizeof(line));
    memcpy(line, "AT+CGDCONT=1,\"IP\",\"", 19);
    line[600] = 0;
    CHECK(harness_command(&h, line, "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+CGATT?", "\r\n+CGATT: 1\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+IPR?", "\r\n+IPR: 115200\r\n\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+IPR=12345", "\r\nERROR\r\n", 1000));
    CHECK(harness_command(&h, "AT+IFC=2,2", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+IFC?", "\r\n+IFC: 2,2\r\n\r\nOK\r\n", 1000));
    harness_stop(&h);
}

static void test_radio_off_and_on(void)
{
    harness h;
    start(&h, MODEM_MODEL_SIM7600);
    CHECK(harness_command(&h, "AT+CREG=1", "OK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CFUN=0", "\r\nOK\r\n", 1000));
    CHECK(harness_command(&h, "AT+CREG?", "\r\n+CREG: 1,0\r\n", 1000));
    CHECK(harness_command(&h, "AT+CFUN?", "\r\n+CFUN: 0\r\n", 1000));
    CHECK(harness_command(&h, "AT+NETOPEN", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+NETOPEN: 1\r\n", 3000));
    CHECK(harness_command(&h, "AT+CFUN=1", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\n+CREG: 1\r\n", 3000));
    harness_stop(&h);
}

static void test_resets_and_power_down(void)
{
    harness h;
    modem_emulator_stats stats;
    start(&h, MODEM_MODEL_SIM7600);
    CHECK(harness_command(&h, "AT+CRESET", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\nRDY\r\n", 5000));
    CHECK(harness_wait_for(&h, "PB DONE", 5000));
    CHECK(harness_command(&h, "AT", "AT\r\r\nOK\r\n", 1000)); /* echo is back on */
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK_EQ_INT(stats.boots, 2);
    harness_stop(&h);

    start(&h, MODEM_MODEL_SIM7070);
    CHECK(harness_command(&h, "AT+CFUN=1,1", "\r\nOK\r\n", 1000));
    CHECK(harness_wait_for(&h, "\r\nRDY\r\n", 5000));
    CHECK(harness_wait_for(&h, "SMS Ready", 5000));
    CHECK(harness_command(&h, "AT+CPOWD=1", "\r\nNORMAL POWER DOWN\r\n", 1000));
    harness_advance(&h, 100);
    CHECK(!modem_emulator_powered(h.emulator));
    harness_send(&h, "AT\r");
    harness_advance(&h, 500);
    CHECK(!find_bytes(h.output + h.cursor, h.length - h.cursor, "OK"));
    harness_stop(&h);
}

static void test_busy_modem_buffers_input(void)
{
    harness h;
    modem_emulator_stats stats;
    char flood[3000];
    start(&h, MODEM_MODEL_SIM800);
    CHECK(harness_command(&h, "AT+CSTT", "OK\r\n", 1000));
    /* while AT+CIICR runs, the next command waits in the modem's buffer ... */
    harness_send(&h, "AT+CIICR\rAT+CGMM\r");
    CHECK(harness_wait_for(&h, "\r\nOK\r\n\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n", 3000));
    /* ... and what does not fit in it is lost */
    CHECK(harness_command(&h, "AT+CIPSHUT", "SHUT OK", 2000));
    CHECK(harness_command(&h, "AT+CSTT", "OK\r\n", 1000));
    harness_send(&h, "AT+CIICR\r");
    memset(flood, 'x', sizeof(flood));
    harness_send_bytes(&h, flood, sizeof(flood));
    CHECK(harness_wait_for(&h, "\r\nOK\r\n", 3000));
    modem_emulator_get_stats(h.emulator, &stats);
    CHECK(stats.modem_overruns > 900); /* 3000 bytes into a 2 KiB buffer */
    harness_stop(&h);
}

int main(void)
{
    RUN(test_result_codes_and_lines);
    RUN(test_radio_off_and_on);
    RUN(test_resets_and_power_down);
    RUN(test_busy_modem_buffers_input);
    return test_summary();
}
