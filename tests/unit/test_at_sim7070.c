/*
 * SIM7070 profile against recorded transcripts (tests/transcripts/sim7070_NAME.txt): the shared
 * scenarios of modem_scenarios.h, with network mode, category and bands set at boot.
 */
#include "test.h"

#include "modem_scenarios.h"

static const cellota_modem_config lte_m = {
    .apn = "internet", .network_mode = 38, .lte_category = 1, .catm_bands = "3,8,20"};
static const scenario_model sim7070 = {"sim7070", &cellota_sim7070, &lte_m, "< +CADATAIND: 9"};

int main(void)
{
    model = &sim7070;
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
