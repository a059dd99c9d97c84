/*
 * cellota-modem: one emulated SIMCom modem on a pseudo-terminal, in real time.
 *
 * It opens a pty in raw mode, prints the path of its terminal as the first line on stdout, and
 * then runs the emulator with virtual time = the wall clock until SIGTERM or SIGINT. A program
 * (cellota-device, a test script) opens that path as if it were the modem's serial port.
 *
 * Parity errors: a pty carries bytes, not frames, so a byte the corrupt fault damaged while
 * parity is on (AT+ICF=2,1 or --parity) is delivered the way Linux termios reports a parity
 * error to a program that set INPCK and PARMRK on a real tty: as the three bytes 0xFF 0x00
 * <byte>, with a genuine 0xFF byte doubled to 0xFF 0xFF. The emulator reads the terminal's
 * settings as the device set them (IGNPAR drops the byte, INPCK without PARMRK gives 0x00,
 * no INPCK passes it unmarked) and sets EXTPROC on the pty so that the kernel does not escape
 * the marks a second time. A device port written for a real UART therefore works unchanged.
 */
#define _GNU_SOURCE
#include "modem_emulator.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_signal(int number)
{
    (void)number;
    stopping = 1;
}

static void usage(FILE *stream)
{
    fputs("usage: cellota-modem --model sim7600|sim7000|sim7070|sim800 [options]\n"
          "\n"
          "Emulates a SIMCom modem on a pseudo-terminal with real TCP sockets behind it.\n"
          "The first line printed is the path of the terminal to open.\n"
          "\n"
          "  --model M               sim7600, sim7000, sim7070 or sim800 (required)\n"
          "  --baud B                UART rate, bytes paced as 8N1 (8E1 with parity); 115200\n"
          "  --parity                start with parity on (AT+ICF=2,1 also turns it on)\n"
          "  --flow-control          start with RTS/CTS on (AT+IFC=2,2)\n"
          "  --radio R               cat1, catm1 or gprs (default: the model's own)\n"
          "  --bandwidth BPS         downlink bits per second (default: the radio's)\n"
          "  --uplink-bandwidth BPS  uplink bits per second (default: the radio's)\n"
          "  --latency MS            network round-trip time (cat1 50, catm1 150, gprs 600)\n"
          "  --drop-rate R           probability that a UART byte is lost\n"
          "  --corrupt-rate R        probability that a UART byte has a bit flipped\n"
          "  --fault-direction D     to-device (default), to-modem or both\n"
          "  --close-after N         every socket is closed by the server after N bytes\n"
          "  --reset-after N         the modem resets after N network bytes since boot\n"
          "  --lose-registration-at MS   lose the network MS after start ...\n"
          "  --lose-registration-after BYTES  ... or once BYTES came from the network\n"
          "  --lose-registration-for MS  ... for MS milliseconds\n"
          "  --quirk-rate R          how often the optional real-modem quirks show (0.1)\n"
          "  --boot-ms MS            power-on to RDY (default: the model's, shortened)\n"
          "  --roaming               register as roaming (stat 5)\n"
          "  --fs-dir DIR            SIM7600 file system in DIR (default: memory)\n"
          "  --ca-file PEM           CA bundle for TLS sockets the device asks to verify\n"
          "  --seed S                fault generator seed (default 1)\n"
          "  --log FILE              write every byte both ways, and events, to FILE\n"
          "  --help                  this text\n",
          stream);
}

static uint64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* ---- the log
 * -------------------------------------------------------------------------------------- */

typedef struct log_state {
    FILE *file;
    int direction; /* of the line being written, -1 none */
    bool line_start;
    uint64_t started_ms;
} log_state;

static void log_bytes(void *user, uint64_t now_ms, modem_log_direction direction,
                      const uint8_t *data, size_t length)
{
    static const char *const marks[] = {"> ", "< ", "# "};
    log_state *log = user;
    size_t index;
    if (direction == MODEM_LOG_NOTE) {
        if (!log->line_start)
            fputc('\n', log->file);
        fprintf(log->file, "[%9.3f] # %.*s\n", (double)(now_ms - log->started_ms) / 1000.0,
                (int)length, (const char *)data);
        log->line_start = true;
        log->direction = -1;
        fflush(log->file);
        return;
    }
    for (index = 0; index < length; index++) {
        uint8_t byte = data[index];
        if ((int)direction != log->direction) {
            if (!log->line_start)
                fputc('\n', log->file);
            log->line_start = true;
            log->direction = (int)direction;
        }
        if (log->line_start) {
            fprintf(log->file, "[%9.3f] %s", (double)(now_ms - log->started_ms) / 1000.0,
                    marks[direction]);
            log->line_start = false;
        }
        if (byte == '\r') {
            fputs("\\r", log->file);
        } else if (byte == '\n') {
            fputs("\\n\n", log->file);
            log->line_start = true;
        } else if (byte >= 32 && byte < 127 && byte != '\\') {
            fputc(byte, log->file);
        } else {
            fprintf(log->file, "\\x%02X", byte);
        }
    }
    fflush(log->file);
}

/* ---- the pty
 * -------------------------------------------------------------------------------------- */

static int open_pty(int *slave, char *path, size_t capacity)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    struct termios settings;
    const char *name;
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        return -1;
    name = ptsname(master);
    if (!name || strlen(name) >= capacity)
        return -1;
    snprintf(path, capacity, "%s", name);
    /* keep the terminal open ourselves: the device may close and reopen it */
    *slave = open(path, O_RDWR | O_NOCTTY);
    if (*slave < 0 || tcgetattr(*slave, &settings) != 0)
        return -1;
    cfmakeraw(&settings);
    settings.c_lflag |= EXTPROC;
    if (tcsetattr(*slave, TCSANOW, &settings) != 0)
        return -1;
    if (fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) != 0)
        return -1;
    return master;
}

/* Encodes bytes for the terminal per its current settings (see the top of the file). */
static size_t encode(int master, const uint8_t *data, const bool *flags, size_t count, uint8_t *out)
{
    struct termios settings;
    tcflag_t input = 0;
    bool external = false;
    size_t index, used = 0;
    if (tcgetattr(master, &settings) == 0) {
        input = settings.c_iflag;
        external = (settings.c_lflag & EXTPROC) != 0;
        if (!external) {
            /* the device's settings dropped EXTPROC: put it back so our marks pass as they are */
            settings.c_lflag |= EXTPROC;
            external = tcsetattr(master, TCSANOW, &settings) == 0;
        }
    }
    for (index = 0; index < count; index++) {
        uint8_t byte = data[index];
        bool marking = external && (input & PARMRK) && !(input & ISTRIP);
        if (flags[index] && (input & INPCK)) {
            if (input & IGNPAR)
                continue;
            if (marking) {
                out[used++] = 0xFF;
                out[used++] = 0x00;
                out[used++] = byte;
            } else if (!external && (input & PARMRK)) {
                continue; /* the kernel would double our 0xFF: drop it rather than lie */
            } else {
                out[used++] = 0x00;
            }
            continue;
        }
        if (byte == 0xFF && marking)
            out[used++] = 0xFF;
        out[used++] = byte;
    }
    return used;
}

/* ---- options
 * -------------------------------------------------------------------------------------- */

static bool parse_number(const char *text, double low, double high, double *value)
{
    char *end;
    double parsed;
    errno = 0;
    parsed = strtod(text, &end);
    if (errno || *end || end == text || parsed < low || parsed > high)
        return false;
    *value = parsed;
    return true;
}

static int fail(const char *message, const char *detail)
{
    fprintf(stderr, "cellota-modem: %s%s%s\n", message, detail ? ": " : "", detail ? detail : "");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"model", required_argument, 0, 'm'},
        {"baud", required_argument, 0, 'b'},
        {"parity", no_argument, 0, 'P'},
        {"flow-control", no_argument, 0, 'F'},
        {"radio", required_argument, 0, 'r'},
        {"bandwidth", required_argument, 0, 'w'},
        {"uplink-bandwidth", required_argument, 0, 'u'},
        {"latency", required_argument, 0, 'l'},
        {"drop-rate", required_argument, 0, 'd'},
        {"corrupt-rate", required_argument, 0, 'c'},
        {"fault-direction", required_argument, 0, 'D'},
        {"close-after", required_argument, 0, 'C'},
        {"reset-after", required_argument, 0, 'R'},
        {"lose-registration-at", required_argument, 0, 'a'},
        {"lose-registration-for", required_argument, 0, 'f'},
        {"lose-registration-after", required_argument, 0, 'G'},
        {"quirk-rate", required_argument, 0, 'q'},
        {"boot-ms", required_argument, 0, 'B'},
        {"roaming", no_argument, 0, 'o'},
        {"fs-dir", required_argument, 0, 's'},
        {"ca-file", required_argument, 0, 'A'},
        {"seed", required_argument, 0, 'S'},
        {"log", required_argument, 0, 'L'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    modem_emulator_options options;
    modem_model model = MODEM_MODEL_SIM7600;
    bool have_model = false;
    const char *log_path = NULL;
    log_state log = {NULL, -1, true, 0};
    modem_emulator *emulator;
    char path[256];
    int master, slave = -1, option;
    uint8_t to_device[3 * 4096], from_device[4096];
    size_t to_device_length = 0, to_device_sent = 0, from_device_length = 0, from_device_used = 0;
    double value;

    modem_emulator_default_options(&options);
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
        case 'm':
            if (modem_model_from_name(optarg, &model) != 0)
                return fail("unknown model (sim7600, sim7000, sim7070, sim800)", optarg);
            have_model = true;
            break;
        case 'b':
            if (!parse_number(optarg, 300, 4000000, &value))
                return fail("bad --baud", optarg);
            options.baud = (uint32_t)value;
            break;
        case 'P':
            options.parity = true;
            break;
        case 'F':
            options.hardware_flow_control = true;
            break;
        case 'r':
            if (modem_radio_from_name(optarg, &options.radio) != 0)
                return fail("unknown radio (cat1, catm1, gprs)", optarg);
            break;
        case 'w':
        case 'u':
            if (!parse_number(optarg, 1000, 1e10, &value))
                return fail("bad bandwidth", optarg);
            if (option == 'w')
                options.downlink_bps = (uint32_t)(value > 4e9 ? 4e9 : value);
            else
                options.uplink_bps = (uint32_t)(value > 4e9 ? 4e9 : value);
            break;
        case 'l':
            if (!parse_number(optarg, 0, 600000, &value))
                return fail("bad --latency", optarg);
            options.round_trip_ms = (int32_t)value;
            break;
        case 'd':
        case 'c':
        case 'q':
            if (!parse_number(optarg, 0, 1, &value))
                return fail("a rate is a probability from 0 to 1", optarg);
            if (option == 'd')
                options.drop_rate = value;
            else if (option == 'c')
                options.corrupt_rate = value;
            else
                options.quirk_rate = value;
            break;
        case 'D':
            if (strcmp(optarg, "to-device") == 0)
                options.fault_direction = MODEM_FAULTS_TO_DEVICE;
            else if (strcmp(optarg, "to-modem") == 0)
                options.fault_direction = MODEM_FAULTS_TO_MODEM;
            else if (strcmp(optarg, "both") == 0)
                options.fault_direction = MODEM_FAULTS_BOTH;
            else
                return fail("bad --fault-direction (to-device, to-modem, both)", optarg);
            break;
        case 'C':
        case 'R':
        case 'G':
            if (!parse_number(optarg, 1, 1e15, &value))
                return fail("bad byte count", optarg);
            if (option == 'C')
                options.close_after_bytes = (uint64_t)value;
            else if (option == 'R')
                options.reset_after_bytes = (uint64_t)value;
            else
                options.lose_registration_after_bytes = (uint64_t)value;
            break;
        case 'a':
        case 'f':
        case 'B':
            if (!parse_number(optarg, 0, 1e9, &value))
                return fail("bad milliseconds", optarg);
            if (option == 'a')
                options.lose_registration_at_ms = (int64_t)value;
            else if (option == 'f')
                options.lose_registration_for_ms = (uint32_t)value;
            else
                options.boot_ms = (uint32_t)(value < 1 ? 1 : value);
            break;
        case 'o':
            options.roaming = true;
            break;
        case 's':
            options.fs_dir = optarg;
            break;
        case 'A':
            options.tls_ca_file = optarg;
            break;
        case 'S':
            if (!parse_number(optarg, 0, 1e18, &value))
                return fail("bad --seed", optarg);
            options.seed = (uint64_t)value;
            break;
        case 'L':
            log_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc)
        return fail("unexpected argument", argv[optind]);
    if (!have_model)
        return fail("--model is required (sim7600, sim7000, sim7070, sim800)", NULL);
    if (options.fs_dir) {
        struct stat status;
        if (stat(options.fs_dir, &status) != 0 && mkdir(options.fs_dir, 0755) != 0)
            return fail("cannot make --fs-dir", options.fs_dir);
    }
    if (log_path) {
        log.file = fopen(log_path, "w");
        if (!log.file)
            return fail("cannot write --log", log_path);
        log.started_ms = monotonic_ms();
        options.log = log_bytes;
        options.log_user = &log;
    }

    /* On a pty the device's receive buffer is the kernel's tty buffering (64 KiB of flip
     * buffers and the line discipline's 4 KiB), as on a real serial port or USB modem read by a
     * Linux program -- not the 4 KiB UART buffer of the library's default MCU. This matters
     * because time here is the wall clock: when this process is not scheduled for a while (a
     * loaded machine), its next poll carries everything the line would have carried meanwhile
     * in one go, and at 921600 baud 45 ms of that overran 4 KiB although the device was
     * reading all along. Bytes are still lost when the device really stops reading. */
    options.device_rx_capacity = 68 * 1024;
    master = open_pty(&slave, path, sizeof(path));
    if (master < 0)
        return fail("cannot open a pseudo-terminal", strerror(errno));
    emulator = modem_emulator_create(model, &options, monotonic_ms());
    if (!emulator)
        return fail("cannot start the emulator (is --fs-dir a directory, --ca-file readable?)",
                    NULL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    printf("%s\n", path);
    fflush(stdout);

    while (!stopping) {
        struct pollfd fds[40];
        size_t count = 1;
        uint64_t now = monotonic_ms(), next;
        int timeout;
        ssize_t moved;

        /* device -> modem */
        if (from_device_used == from_device_length) {
            moved = read(master, from_device, sizeof(from_device));
            from_device_used = 0;
            from_device_length = moved > 0 ? (size_t)moved : 0;
        }
        if (from_device_used < from_device_length)
            from_device_used += modem_emulator_uart_write(emulator, from_device + from_device_used,
                                                          from_device_length - from_device_used);

        modem_emulator_poll(emulator, now);

        /* modem -> device: everything the line has carried, until the terminal takes no more */
        for (;;) {
            if (to_device_sent == to_device_length) {
                uint8_t bytes[4096];
                bool flags[4096];
                size_t taken =
                    modem_emulator_uart_read_flagged(emulator, bytes, flags, sizeof(bytes));
                modem_emulator_uart_take_errors(emulator); /* the marks carry them */
                to_device_length = taken ? encode(master, bytes, flags, taken, to_device) : 0;
                to_device_sent = 0;
                if (to_device_length == 0)
                    break;
            }
            moved = write(master, to_device + to_device_sent, to_device_length - to_device_sent);
            if (moved <= 0)
                break; /* the terminal's buffer is full (EAGAIN): the rest waits in ours */
            to_device_sent += (size_t)moved;
        }

        fds[0].fd = master;
        fds[0].events = (short)((from_device_used == from_device_length ? POLLIN : 0) |
                                (to_device_sent < to_device_length ? POLLOUT : 0));
        fds[0].revents = 0;
        count += modem_emulator_poll_fds(emulator, fds + 1, sizeof(fds) / sizeof(fds[0]) - 1);
        next = modem_emulator_next_event_ms(emulator);
        now = monotonic_ms();
        timeout = next <= now ? 0 : next - now > 20 ? 20 : (int)(next - now);
        if (from_device_used < from_device_length)
            timeout = timeout > 1 ? 1 : timeout; /* the emulator's buffer is full: retry soon */
        poll(fds, count, timeout);
    }

    modem_emulator_destroy(emulator);
    close(master);
    close(slave);
    if (log.file)
        fclose(log.file);
    return 0;
}
