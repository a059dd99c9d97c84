/*
 * SIM800L profile against recorded transcripts (tests/transcripts/sim800_NAME.txt): the shared
 * scenarios of modem_scenarios.h; TLS is refused with a named error.
 */
#include "test.h"

#include "modem_scenarios.h"

static const scenario_model sim800 = {"sim800", &cellota_sim800, &config, "< +CIPRXGET: 1,5"};

/* SIM800L's SSL is too old for current servers: a TLS socket is refused before any command. */
static void test_tls_refused(void)
{
    int error;
    CHECK(begin("tcp", &config, SPLIT_ALL, 1, NULL, 0));
    CHECK_EQ_INT(rig_open(&rig, 0, CELLOTA_SOCKET_TLS, "example.com", 443),
                 CELLOTA_AT_TLS_UNSUPPORTED);
    CHECK_EQ_INT(rig_state(&rig, 0, &error), CELLOTA_SOCKET_STATE_CLOSED);
    CHECK_EQ_INT(rig.t.write_position, 0);
    {
        /* nor can credentials go into it: what protects a SIM800 is docs/security.md's */
        cellota_credentials_writer writer;
        CHECK_EQ_INT(cellota_credentials_writer_init(&writer, &rig.modem, &credentials),
                     CELLOTA_AT_TLS_UNSUPPORTED);
    }
    CHECK(strstr(cellota_strerror(CELLOTA_AT_TLS_UNSUPPORTED), "SIM800L") != NULL);
}

int main(void)
{
    model = &sim800;
    RUN(test_tcp_session);
    RUN(test_urc_everywhere);
    RUN(test_boot);
    RUN(test_registration_denied);
    RUN(test_network_drop);
    RUN(test_damaged_data);
    RUN(test_lost_bytes);
    RUN(test_tls_refused);
    RUN(test_modem_restart);
    return test_summary();
}
