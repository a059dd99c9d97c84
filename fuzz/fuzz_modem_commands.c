/*
 * libFuzzer target for the modem emulator's input side: whatever a device might write (command
 * lines, payloads after '>' prompts, garbage, truncated commands) fed in pieces to one of the
 * four models while virtual time runs, with sockets that fail at once instead of connecting.
 * The first byte picks the model; the rest is the device's output, split at 0xFF bytes into
 * writes with a few milliseconds between them.
 */
#include "modem_emulator.h"

#include <stddef.h>
#include <stdint.h>

static void drain(modem_emulator *emulator)
{
    uint8_t buffer[4096];
    while (modem_emulator_uart_read(emulator, buffer, sizeof(buffer)) > 0)
        ;
    modem_emulator_uart_take_errors(emulator);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    modem_emulator_options options;
    modem_emulator *emulator;
    uint64_t now = 0;
    size_t position = 1, start;
    int step;
    if (size < 1)
        return 0;
    modem_emulator_default_options(&options);
    options.network_disabled = true;
    options.boot_ms = 1;
    options.sim_ready_ms = 1;
    options.registration_ms = 1;
    options.quirk_rate = 0.5;
    options.baud = 921600;
    options.fs_capacity = 1 << 20;
    options.seed = data[0];
    emulator = modem_emulator_create((modem_model)(data[0] % 4), &options, now);
    if (!emulator)
        return 0;
    for (step = 0; step < 20; step++) {
        now += 100;
        modem_emulator_poll(emulator, now);
        drain(emulator);
    }
    while (position < size) {
        start = position;
        while (position < size && data[position] != 0xFF)
            position++;
        modem_emulator_uart_write(emulator, data + start, position - start);
        position++; /* the separator */
        now += 3;
        modem_emulator_poll(emulator, now);
        drain(emulator);
    }
    for (step = 0; step < 30; step++) {
        now += 200;
        modem_emulator_poll(emulator, now);
        drain(emulator);
    }
    modem_emulator_destroy(emulator);
    return 0;
}
