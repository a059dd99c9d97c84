/*
 * SIM7000 profile against recorded transcripts (tests/transcripts/sim7000_NAME.txt): the shared
 * scenarios of modem_scenarios.h, with network mode, category and NB-IoT bands set at boot.
 */
#include "test.h"

#include "modem_scenarios.h"

static const cellota_modem_config both = {
    .apn = "internet", .network_mode = 2, .lte_category = 3, .nbiot_bands = "8,20"};
static const scenario_model sim7000 = {"sim7000", &cellota_sim7000, &both, "< +CADATAIND: 7"};

int main(void)
{
    model = &sim7000;
    RUN(test_tcp_session);
    RUN(test_urc_everywhere);
    RUN(test_boot);
    RUN(test_registration_denied);
    RUN(test_network_drop);
    RUN(test_damaged_data);
    RUN(test_lost_bytes);
    RUN(test_tls);
    RUN(test_credentials);
    RUN(test_modem_restart);
    return test_summary();
}
