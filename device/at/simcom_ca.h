/*
 * The CA* TCP/SSL application commands SIM7000 and SIM7070 share (AT+CASEND, AT+CARECV,
 * AT+CARECV?, AT+CACLOSE and their URCs), written once; each is its own object so a device
 * with another modem does not carry them. They differ in how a connection is opened and how
 * the network is activated; those steps stay in sim7000.c and sim7070.c.
 *
 * Sources: SIM7000 Series TCP/IP Application Note and SIM7070_SIM7080_SIM7090 Series AT Command
 * Manual -- AT+CASEND, AT+CARECV, AT+CACLOSE, +CADATAIND, +CASTATE, +CAOPEN result codes.
 */
#ifndef CELLOTA_AT_SIMCOM_CA_H
#define CELLOTA_AT_SIMCOM_CA_H

#include "at/profile.h"

extern const cellota_at_step cellota_simcom_ca_send[1];
extern const cellota_at_step cellota_simcom_ca_receive[1];
extern const cellota_at_step cellota_simcom_ca_query[1];
extern const cellota_at_step cellota_simcom_ca_close[1];
/* TLS credentials: a file into the "customer" folder (AT+CFSINIT, AT+CFSWFILE, AT+CFSTERM),
 * then AT+CSSLCFG="convert" of the CA and of the client's certificate with its key. */
extern const cellota_at_step cellota_simcom_ca_store_file[3];
extern const cellota_at_step cellota_simcom_ca_install_files[2];
#define CELLOTA_SIMCOM_CA_CREDENTIALS                                                              \
    .store_file = {cellota_simcom_ca_store_file, 3},                                               \
    .install_files = {cellota_simcom_ca_install_files, 2}

#define CELLOTA_SIMCOM_CA_SEND                                                                     \
    {                                                                                              \
        cellota_simcom_ca_send, 1                                                                  \
    }
#define CELLOTA_SIMCOM_CA_RECEIVE                                                                  \
    {                                                                                              \
        cellota_simcom_ca_receive, 1                                                               \
    }
#define CELLOTA_SIMCOM_CA_QUERY                                                                    \
    {                                                                                              \
        cellota_simcom_ca_query, 1                                                                 \
    }
#define CELLOTA_SIMCOM_CA_CLOSE                                                                    \
    {                                                                                              \
        cellota_simcom_ca_close, 1                                                                 \
    }

/* URC handlers: +CADATAIND, +CASTATE, +CAOPEN, +CASEND, +APP PDP (DEACTIVE: network lost). */
int cellota_simcom_ca_on_data(void *modem, cellota_at *at, const char *arguments);
int cellota_simcom_ca_on_state(void *modem, cellota_at *at, const char *arguments);
int cellota_simcom_ca_on_open(void *modem, cellota_at *at, const char *arguments);
int cellota_simcom_ca_on_sent(void *modem, cellota_at *at, const char *arguments);
int cellota_simcom_ca_on_network(void *modem, cellota_at *at, const char *arguments);

#endif
