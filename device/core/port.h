/*
 * The port: the only contact libcellota has with hardware.
 *
 * A target (an RTOS task, a bare-metal loop, a Linux process, one of 50,000 simulated devices)
 * fills one of these and hands it to the modules that need it. Every function is given back the
 * `context` pointer, so one process can hold many ports with no global state.
 *
 * Rules every implementation keeps:
 *   - UART functions never block: they move what they can now and say how much.
 *   - Flash addresses are absolute device addresses. Writes obey the layout's write alignment and
 *     may only turn erased bits into programmed ones; erase takes whole erase pages. A real port
 *     may take milliseconds inside a flash call (that is the hardware); nothing else may wait.
 *   - Functions that can fail return 0 (CELLOTA_OK) or a cellota_error code.
 */
#ifndef CELLOTA_CORE_PORT_H
#define CELLOTA_CORE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cellota_port {
    void *context;

    /* UART to the modem. Return the number of bytes moved, 0 when none can move now. */
    size_t (*uart_read)(void *context, uint8_t *buffer, size_t capacity);
    size_t (*uart_write)(void *context, const uint8_t *data, size_t length);

    /*
     * Bytes the UART flagged as damaged (parity, framing or overrun errors) among those read
     * since the last call; resets the count. The AT layer runs the link with parity on, so a
     * byte hit by line noise is known to be bad: it refuses to pass it up as data. NULL when
     * the UART cannot tell (then only framing checks and the image hashes catch damage).
     */
    uint32_t (*uart_take_errors)(void *context);

    /* Internal flash. */
    int (*flash_read)(void *context, uint32_t address, void *buffer, size_t length);
    int (*flash_write)(void *context, uint32_t address, const void *data, size_t length);
    int (*flash_erase)(void *context, uint32_t address, size_t length);

    /*
     * Optional (NULL when absent): the SHA-256 of `length` bytes of flash at `address`, found
     * without handing them to the core -- a hash engine that reads the flash itself, or a
     * simulator holding identical pages once that has hashed these very bytes before. CELLOTA_OK
     * with the digest; any other result and the core reads and hashes the bytes itself.
     */
    int (*flash_sha256)(void *context, uint32_t address, size_t length, uint8_t digest[32]);

    /* Milliseconds from any origin; wraps at 2^32 and every user compares with subtraction. */
    uint32_t (*now_ms)(void *context);

    /*
     * Persistent key-value store (NVS on ESP32, FDS on nRF52, a file on Linux). Keys are short
     * ASCII names. get stores up to `capacity` bytes and the stored length in *length; a missing
     * key is CELLOTA_STORE_NOT_FOUND. set replaces the value atomically or not at all.
     */
    int (*store_get)(void *context, const char *key, void *value, size_t capacity, size_t *length);
    int (*store_set)(void *context, const char *key, const void *value, size_t length);

    /* Modem power key line: true = asserted (pressed). May be NULL when not wired. */
    void (*modem_power_key)(void *context, bool pressed);

    /* Resets the MCU. On hardware it does not return; a simulator's may. */
    void (*reboot)(void *context);

    /* Kicks the hardware watchdog. May be NULL when there is none. */
    void (*watchdog_kick)(void *context);
} cellota_port;

/* Wrap-safe: has `now` reached `deadline`? Both from port->now_ms. */
static inline bool cellota_time_reached(uint32_t now, uint32_t deadline)
{
    return (int32_t)(now - deadline) >= 0;
}

#endif
