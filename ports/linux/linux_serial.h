/*
 * A serial line on Linux for the port's UART functions: a real UART (a USB modem on
 * /dev/ttyUSB*) or the pseudo-terminal of cellota-modem, in raw mode, non-blocking.
 *
 * Damaged bytes. With parity on, the link runs 8E1 and the kernel marks what the UART flags
 * (termios PARMRK): a byte with a parity or framing error arrives as "\377\0<byte>", a break as
 * "\377\0\0", and a real 0xFF byte as "\377\377". On a pty there is no UART: cellota-modem
 * reads these settings and writes the same marking itself (with EXTPROC set on the pty so the
 * kernel leaves its marks alone). Either way the reader decodes the marking (across reads of any
 * split): the data keeps each byte once, and the damaged ones are counted for
 * linux_serial_take_errors, so the AT layer refuses them.
 * On a real UART the kernel's overrun counters (TIOCGICOUNT) are added to the count: an overrun
 * loses bytes without marking any.
 */
#ifndef CELLOTA_PORTS_LINUX_LINUX_SERIAL_H
#define CELLOTA_PORTS_LINUX_LINUX_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct linux_serial {
    int fd;               /* -1 when closed */
    bool pseudo_terminal; /* the other end is a program (cellota-modem), not a UART */
    bool parity;          /* 8E1 */
    bool flow_control;    /* RTS/CTS */
    uint32_t baud;
    uint8_t marking;        /* decoder: 0 plain, 1 after \377, 2 after \377 \0 */
    uint32_t errors;        /* damaged bytes since the last take */
    bool has_counters;      /* TIOCGICOUNT works (a real UART) */
    uint32_t overruns_seen; /* the kernel's overrun counters at the last look */
    uint64_t bytes_read, bytes_written;
} linux_serial;

/*
 * Opens `path` (a tty or a pty) non-blocking in raw mode at `baud` (a standard rate up to
 * 4000000), 8E1 when `parity` else 8N1, RTS/CTS when `flow_control`. Returns 0, or -1 with
 * errno set (ENOENT, EACCES, ENOTTY, EINVAL for an unsupported rate).
 */
int linux_serial_open(linux_serial *serial, const char *path, uint32_t baud, bool parity,
                      bool flow_control);

/* Changes rate, parity or flow control of an open line (after AT+IPR, AT+ICF, AT+IFC told the
 * modem to). Bytes not yet read keep their marking. 0, or -1 with errno set. */
int linux_serial_configure(linux_serial *serial, uint32_t baud, bool parity, bool flow_control);

void linux_serial_close(linux_serial *serial);

/* cellota_port signatures, `context` the linux_serial. A read that finds the line closed (the
 * emulator exited, the USB modem was unplugged) returns 0, like a quiet line. */
size_t linux_serial_read(void *context, uint8_t *buffer, size_t capacity);
size_t linux_serial_write(void *context, const uint8_t *data, size_t length);
uint32_t linux_serial_take_errors(void *context);

/*
 * The marking decoder on its own (tests, and anything else that reads marked bytes): decodes
 * `length` raw bytes into `output` (at most `length` bytes come out), continuing the state in
 * *marking, adding damaged bytes to *errors. Returns the number of bytes written to `output`.
 */
size_t linux_serial_decode(uint8_t *marking, uint32_t *errors, const uint8_t *raw, size_t length,
                           uint8_t *output);

#endif
