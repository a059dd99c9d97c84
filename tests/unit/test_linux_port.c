/* The Linux port: the parity-marking decoder at every split, a real pty in raw mode, the clock,
 * flash and store files that persist across opens, and the reboot callback. */
#define _GNU_SOURCE
#include "test.h"

#include "core/error.h"
#include "linux_port.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* Raw marked bytes and what they decode to: a damaged 'B', a real 0xFF, a break, plain bytes. */
static const uint8_t marked[] = {'A', 0xFF, 0x00, 'B', 'C', 0xFF, 0xFF, 0xFF, 0x00, 0x00, 'D'};
static const uint8_t decoded[] = {'A', 'B', 'C', 0xFF, 0x00, 'D'};

static void test_decode_at_every_split(void)
{
    size_t split;
    for (split = 0; split <= sizeof(marked); split++) {
        uint8_t marking = 0, output[sizeof(marked)];
        uint32_t errors = 0;
        size_t produced = linux_serial_decode(&marking, &errors, marked, split, output);
        produced += linux_serial_decode(&marking, &errors, marked + split, sizeof(marked) - split,
                                        output + produced);
        CHECK_EQ_INT(produced, sizeof(decoded));
        CHECK_EQ_MEM(output, decoded, sizeof(decoded));
        CHECK_EQ_INT(errors, 2);
        CHECK_EQ_INT(marking, 0);
    }
}

static void test_decode_in_place_and_malformed(void)
{
    /* A 0xFF followed by something the kernel never sends after it: the byte is kept, flagged,
     * and nothing ever comes out longer than it went in (decoding in place is safe). */
    uint8_t buffer[] = {0xFF, 'x', 'y', 0xFF};
    uint8_t marking = 0;
    uint32_t errors = 0;
    size_t produced = linux_serial_decode(&marking, &errors, buffer, sizeof(buffer), buffer);
    CHECK_EQ_INT(produced, 2);
    CHECK_EQ_INT(buffer[0], 'x');
    CHECK_EQ_INT(buffer[1], 'y');
    CHECK_EQ_INT(errors, 1);
    CHECK_EQ_INT(marking, 1); /* the trailing 0xFF waits for its partner */
}

static int open_pty(char *name, size_t size)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        return -1;
    if (ptsname_r(master, name, size) != 0)
        return -1;
    return master;
}

/* Reads until `want` bytes came or half a second passed. */
static size_t read_some(linux_serial *serial, uint8_t *buffer, size_t want)
{
    size_t got = 0;
    uint32_t start = linux_now_ms(NULL);
    while (got < want && linux_now_ms(NULL) - start < 500)
        got += linux_serial_read(serial, buffer + got, want - got);
    return got;
}

static void test_pty_round_trip(void)
{
    char name[128];
    int master = open_pty(name, sizeof(name));
    linux_serial serial;
    uint8_t buffer[64];
    char echo[8] = {0};
    CHECK(master >= 0);
    if (master < 0)
        return;
    CHECK_EQ_INT(linux_serial_open(&serial, name, 115200, true, false), 0);
    CHECK(serial.pseudo_terminal);
    /* The emulator's side sets EXTPROC and writes marked bytes; the line discipline passes
     * them unchanged, also across a reconfiguration by the device. */
    {
        struct termios settings;
        CHECK_EQ_INT(tcgetattr(master, &settings), 0);
        settings.c_lflag |= EXTPROC;
        CHECK_EQ_INT(tcsetattr(master, TCSANOW, &settings), 0);
        CHECK_EQ_INT(linux_serial_configure(&serial, 115200, true, false), 0);
        CHECK_EQ_INT(tcgetattr(master, &settings), 0);
        CHECK((settings.c_lflag & EXTPROC) != 0);
        CHECK((settings.c_iflag & (PARMRK | INPCK)) == (PARMRK | INPCK));
    }
    CHECK_EQ_INT(write(master, marked, sizeof(marked)), (ssize_t)sizeof(marked));
    CHECK_EQ_INT(read_some(&serial, buffer, sizeof(decoded)), sizeof(decoded));
    CHECK_EQ_MEM(buffer, decoded, sizeof(decoded));
    CHECK_EQ_INT(linux_serial_take_errors(&serial), 2);
    CHECK_EQ_INT(linux_serial_take_errors(&serial), 0);
    /* Nothing more: a quiet line reads 0 without blocking. */
    CHECK_EQ_INT(linux_serial_read(&serial, buffer, sizeof(buffer)), 0);
    /* Raw mode out: CR and LF go as they are. */
    CHECK_EQ_INT(linux_serial_write(&serial, (const uint8_t *)"AT\r\n", 4), 4);
    usleep(20000);
    CHECK_EQ_INT(read(master, echo, sizeof(echo)), 4);
    CHECK_EQ_STR(echo, "AT\r\n");
    CHECK_EQ_INT(linux_serial_configure(&serial, 921600, false, true), 0);
    CHECK_EQ_INT(serial.baud, 921600);
    /* The modem went away: reads return 0, like a quiet line. */
    close(master);
    CHECK_EQ_INT(linux_serial_read(&serial, buffer, sizeof(buffer)), 0);
    linux_serial_close(&serial);
}

static void test_open_failures(void)
{
    linux_serial serial;
    CHECK_EQ_INT(linux_serial_open(&serial, "/nonexistent/tty", 115200, false, false), -1);
    CHECK_EQ_INT(linux_serial_open(&serial, "/dev/null", 115200, false, false), -1);
}

static int reboots_seen;
static void on_reboot(void *user)
{
    reboots_seen += *(int *)user;
}

static void test_port_files_persist(void)
{
    static const cellota_flash_area flash = {0, 8 * 4096, 4096, 4, 0xFF};
    char directory[] = "/tmp/cellota-linux-port-XXXXXX", flash_path[64], store_path[64];
    static linux_port port; /* large: the store table */
    cellota_port cellota;
    linux_port_options options;
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8];
    size_t length = 0;
    int increment = 1;
    uint32_t before, after;

    CHECK(mkdtemp(directory) != NULL);
    snprintf(flash_path, sizeof(flash_path), "%s/flash.bin", directory);
    snprintf(store_path, sizeof(store_path), "%s/store.bin", directory);
    memset(&options, 0, sizeof(options));
    options.flash = &flash;
    options.flash_path = flash_path;
    options.store_path = store_path;
    options.reboot = on_reboot;
    options.reboot_user = &increment;

    CHECK_EQ_INT(linux_port_open(&port, &options), 0);
    linux_port_fill(&port, &cellota);
    CHECK_EQ_INT(cellota.flash_erase(cellota.context, 4096, 4096), CELLOTA_OK);
    CHECK_EQ_INT(cellota.flash_write(cellota.context, 4096, data, sizeof(data)), CELLOTA_OK);
    CHECK_EQ_INT(cellota.store_set(cellota.context, "checkpoint", data, 5), CELLOTA_OK);
    /* No UART: nothing moves, nothing is flagged. */
    CHECK_EQ_INT(cellota.uart_write(cellota.context, data, 1), 0);
    CHECK_EQ_INT(cellota.uart_read(cellota.context, back, 1), 0);
    CHECK_EQ_INT(cellota.uart_take_errors(cellota.context), 0);
    cellota.reboot(cellota.context);
    CHECK_EQ_INT(reboots_seen, 1);
    CHECK_EQ_INT(port.reboots, 1);
    before = cellota.now_ms(cellota.context);
    usleep(30000);
    after = cellota.now_ms(cellota.context);
    CHECK(after - before >= 25 && after - before < 1000);
    linux_port_close(&port);

    /* Open again: the flash page and the key are still there. */
    CHECK_EQ_INT(linux_port_open(&port, &options), 0);
    linux_port_fill(&port, &cellota);
    CHECK_EQ_INT(cellota.flash_read(cellota.context, 4096, back, sizeof(back)), CELLOTA_OK);
    CHECK_EQ_MEM(back, data, sizeof(data));
    CHECK_EQ_INT(cellota.store_get(cellota.context, "checkpoint", back, sizeof(back), &length),
                 CELLOTA_OK);
    CHECK_EQ_INT(length, 5);
    CHECK_EQ_MEM(back, data, 5);
    /* Flash rules still hold on the file: the written unit cannot be written again. */
    CHECK(cellota.flash_write(cellota.context, 4096, data, 4) != CELLOTA_OK);
    linux_port_close(&port);

    options.tty = "/nonexistent/tty";
    CHECK_EQ_INT(linux_port_open(&port, &options), -1);
    CHECK(strstr(port.message, "/nonexistent/tty") != NULL);

    unlink(flash_path);
    unlink(store_path);
    rmdir(directory);
}

int main(void)
{
    RUN(test_decode_at_every_split);
    RUN(test_decode_in_place_and_malformed);
    RUN(test_pty_round_trip);
    RUN(test_open_failures);
    RUN(test_port_files_persist);
    return test_summary();
}
