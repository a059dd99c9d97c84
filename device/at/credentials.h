/*
 * TLS credentials into the modem: the CA that signs the servers, and the device's own
 * certificate and private key, written into the modem's store the way its dialect does it,
 * then named in cellota_modem_config (ca_file, certificate_file, key_file) so every TLS
 * connection verifies the server and presents the certificate.
 *
 *   SIM7600            AT+CCERTDOWN="<name>",<len> '>' bytes           (per file)
 *   SIM7000, SIM7070   AT+CFSINIT, AT+CFSWFILE=3,"<name>",0,<len>,10000 "DOWNLOAD" bytes,
 *                      AT+CFSTERM (per file); AT+CSSLCFG="convert",2,"<ca>" and
 *                      "convert",1,"<certificate>","<key>"
 *   SIM800             no usable TLS: CELLOTA_AT_TLS_UNSUPPORTED
 *
 * A factory writes them once; writing them again (at every start) only costs their bytes on
 * the UART. The private key crosses the UART in the clear: the modem is inside the device.
 * Runs on the modem driver's engine when the driver is idle (the modem must answer: after
 * cellota_modem_start, typically once it is READY); poll it like everything else.
 */
#ifndef CELLOTA_AT_CREDENTIALS_H
#define CELLOTA_AT_CREDENTIALS_H

#include "at/modem.h"

/* One file: its name in the modem and its bytes (PEM). NULL data: not written. */
typedef struct cellota_modem_file {
    const char *name;
    const uint8_t *data;
    uint32_t length;
} cellota_modem_file;

typedef struct cellota_modem_credentials {
    cellota_modem_file ca, certificate, key;
} cellota_modem_credentials;

typedef struct cellota_credentials_writer {
    cellota_modem *modem;
    const cellota_modem_credentials *credentials;
    uint8_t stage;
    int result; /* of the script running (CELLOTA_IN_PROGRESS) or the last one */
    cellota_at_parameters parameters;
} cellota_credentials_writer;

/*
 * Prepares the writing of `credentials` (kept by pointer until done) into the modem.
 * CELLOTA_OK; CELLOTA_AT_TLS_UNSUPPORTED for a profile without TLS credentials;
 * CELLOTA_INVALID_ARGUMENT when a certificate comes without its key or the other way round,
 * or a file has data but no name.
 */
int cellota_credentials_writer_init(cellota_credentials_writer *writer, cellota_modem *modem,
                                    const cellota_modem_credentials *credentials);

/*
 * Advances the writing (the caller also polls the modem). CELLOTA_IN_PROGRESS until every file
 * is written and installed, then CELLOTA_OK; or the error of the step that failed (the modem's
 * ERROR: CELLOTA_AT_ERROR...). Call again after an error to start over.
 */
int cellota_credentials_writer_poll(cellota_credentials_writer *writer, uint32_t now);

#endif
