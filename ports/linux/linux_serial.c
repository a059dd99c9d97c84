/* A raw, non-blocking serial line with parity-error marking decoded; see linux_serial.h. */
#define _GNU_SOURCE
#include "linux_serial.h"

#include <asm/termbits.h> /* struct termios2 for any rate (BOTHER) */
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Unix 98 pty slaves have these majors (Documentation/admin-guide/devices.txt). */
static bool is_pseudo_terminal(int fd)
{
    struct stat status;
    if (fstat(fd, &status) != 0 || !S_ISCHR(status.st_mode))
        return false;
    return major(status.st_rdev) >= 136 && major(status.st_rdev) <= 143;
}

/* Raw mode with termios2 so any rate up to 4 Mbit/s can be asked for (BOTHER). */
static int apply(linux_serial *serial, uint32_t baud, bool parity, bool flow_control)
{
    struct termios2 settings;

    if (baud == 0 || baud > 4000000) {
        errno = EINVAL;
        return -1;
    }
    if (ioctl(serial->fd, TCGETS2, &settings) != 0)
        return -1;
    settings.c_iflag = PARMRK; /* flagged bytes come marked; a real 0xFF comes doubled */
    settings.c_oflag = 0;
    /* EXTPROC is how the program on a pty's other side (cellota-modem) tells the kernel that it
     * marks parity errors itself: keep it, or the kernel would escape the marks again. */
    settings.c_lflag &= EXTPROC;
    settings.c_cflag = CS8 | CREAD | CLOCAL | BOTHER;
    if (parity) {
        settings.c_cflag |= PARENB; /* even */
        settings.c_iflag |= INPCK;
    }
    if (flow_control)
        settings.c_cflag |= CRTSCTS;
    settings.c_ispeed = baud;
    settings.c_ospeed = baud;
    settings.c_cc[VMIN] = 0;
    settings.c_cc[VTIME] = 0;
    if (ioctl(serial->fd, TCSETS2, &settings) != 0)
        return -1;
    serial->baud = baud;
    serial->parity = parity;
    serial->flow_control = flow_control;
    return 0;
}

static uint32_t kernel_overruns(linux_serial *serial)
{
    struct serial_icounter_struct counters;
    if (!serial->has_counters || ioctl(serial->fd, TIOCGICOUNT, &counters) != 0)
        return serial->overruns_seen;
    return (uint32_t)counters.overrun + (uint32_t)counters.buf_overrun;
}

int linux_serial_open(linux_serial *serial, const char *path, uint32_t baud, bool parity,
                      bool flow_control)
{
    memset(serial, 0, sizeof(*serial));
    serial->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (serial->fd < 0)
        return -1;
    if (!isatty(serial->fd)) {
        close(serial->fd);
        serial->fd = -1;
        errno = ENOTTY;
        return -1;
    }
    serial->pseudo_terminal = is_pseudo_terminal(serial->fd);
    if (apply(serial, baud, parity, flow_control) != 0) {
        int saved = errno;
        close(serial->fd);
        serial->fd = -1;
        errno = saved;
        return -1;
    }
    if (!serial->pseudo_terminal) {
        struct serial_icounter_struct counters;
        serial->has_counters = ioctl(serial->fd, TIOCGICOUNT, &counters) == 0;
        serial->overruns_seen = kernel_overruns(serial);
    }
    return 0;
}

int linux_serial_configure(linux_serial *serial, uint32_t baud, bool parity, bool flow_control)
{
    if (serial->fd < 0) {
        errno = EBADF;
        return -1;
    }
    /* Let what the modem still sends at the old settings go out before switching. */
    ioctl(serial->fd, TCSBRK, 1);
    return apply(serial, baud, parity, flow_control);
}

void linux_serial_close(linux_serial *serial)
{
    if (serial->fd >= 0)
        close(serial->fd);
    serial->fd = -1;
}

size_t linux_serial_decode(uint8_t *marking, uint32_t *errors, const uint8_t *raw, size_t length,
                           uint8_t *output)
{
    size_t index, produced = 0;
    for (index = 0; index < length; index++) {
        uint8_t byte = raw[index];
        switch (*marking) {
        case 0:
            if (byte == 0xFF)
                *marking = 1;
            else
                output[produced++] = byte;
            break;
        case 1:
            if (byte == 0xFF) { /* "\377\377": a real 0xFF */
                output[produced++] = 0xFF;
                *marking = 0;
            } else if (byte == 0) { /* "\377\0": the next byte was flagged */
                *marking = 2;
            } else { /* not a marking the kernel makes: keep the byte, but flag it (and one
                      * output byte per input byte keeps in-place decoding safe) */
                output[produced++] = byte;
                (*errors)++;
                *marking = 0;
            }
            break;
        default: /* "\377\0<byte>": damaged (a break reads as a damaged 0) */
            output[produced++] = byte;
            (*errors)++;
            *marking = 0;
            break;
        }
    }
    return produced;
}

size_t linux_serial_read(void *context, uint8_t *buffer, size_t capacity)
{
    linux_serial *serial = context;
    ssize_t count;

    if (serial->fd < 0 || capacity == 0)
        return 0;
    /* Decoding never makes data longer, so the raw bytes are read into the caller's buffer
     * and decoded in place (output index never passes the input index). */
    count = read(serial->fd, buffer, capacity);
    if (count <= 0)
        return 0; /* EAGAIN, or EIO when the other end of a pty closed: a quiet line */
    serial->bytes_read += (uint64_t)count;
    return linux_serial_decode(&serial->marking, &serial->errors, buffer, (size_t)count, buffer);
}

size_t linux_serial_write(void *context, const uint8_t *data, size_t length)
{
    linux_serial *serial = context;
    ssize_t count;
    if (serial->fd < 0 || length == 0)
        return 0;
    count = write(serial->fd, data, length);
    if (count <= 0)
        return 0;
    serial->bytes_written += (uint64_t)count;
    return (size_t)count;
}

uint32_t linux_serial_take_errors(void *context)
{
    linux_serial *serial = context;
    uint32_t errors = serial->errors, overruns = kernel_overruns(serial);
    errors += overruns - serial->overruns_seen;
    serial->overruns_seen = overruns;
    serial->errors = 0;
    return errors;
}
