/*
 * A simulated device for the host: the flash of one layout (ports/sim/flash_sim), the modem's
 * file system (ports/sim/modem_files_sim), a virtual clock, a watchdog, and the port that ties
 * them together. The device code it runs does not know it is simulated:
 *
 *   - flash writes are carried out in 256-byte program operations (the SPI NOR page program; a
 *     chunk size for the nRF52's word-at-a-time NVMC) and erases page by page, each one flash
 *     operation that a power cut can tear;
 *   - time advances with what the hardware would take (page erase, page program, reading and
 *     hashing flash, the UART at 115200 baud); a watchdog that is not kicked for watchdog_ms
 *     resets the device;
 *   - a power cut (flash_sim's cut), a watchdog bite, an injected reset before a chosen flash
 *     operation and a reboot all longjmp to `landing`, like a reset abandons whatever ran.
 *     The caller then boots again with fresh RAM: sim_device_boot runs the first stage and the
 *     bootloader from nothing but the flash.
 */
#ifndef CELLOTA_HOST_SIM_DEVICE_H
#define CELLOTA_HOST_SIM_DEVICE_H

#include "boot/boot.h"
#include "boot/layout.h"
#include "core/port.h"
#include "flash_sim.h"
#include "modem_files_sim.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#define SIM_PROGRAM_SIZE 256u

/* Why the device last reset (the value longjmp delivers to `landing`). */
enum { SIM_RESET_POWER_CUT = 1, SIM_RESET_WATCHDOG, SIM_RESET_INJECTED, SIM_RESET_REBOOT };

typedef struct sim_device {
    const cellota_boot_layout *layout;
    flash_sim flash;
    modem_files_sim modem;
    cellota_boot_source source;
    cellota_port port;

    uint64_t now_us, last_kick_us;
    uint32_t watchdog_ms; /* 0: no watchdog */
    uint32_t erase_us, program_us;
    uint32_t read_ns_per_byte; /* reading flash and doing something with it (hashing) */

    uint64_t reset_at; /* a clean reset instead of flash operation number reset_at; 0: never */
    void (*before_operation)(void *user); /* called before every flash operation; may be NULL */
    void *before_operation_user;
    jmp_buf *landing; /* where resets go; NULL: a cut only makes flash calls fail */
    uint64_t power_cuts, watchdog_bites, injected_resets, reboots;
} sim_device;

/* A device of `layout` with erased flash and the layout's timings. 0 or an error code. */
int sim_device_create(sim_device *device, const cellota_boot_layout *layout);
void sim_device_destroy(sim_device *device);

/* Makes `to`'s flash contents, write-once state and operation count those of `from`. */
void sim_device_copy_flash(sim_device *to, const sim_device *from);

/* Sends the device to its landing as a reset of `kind` would (does not return when landing is
 * set). */
void sim_device_reset(sim_device *device, int kind);

/* A reset: runs the first stage, then the bootloader, to their end. Returns the bootloader's
 * result (CELLOTA_OK with *decision set), and the first stage's in *stage0_result. */
int sim_device_boot(sim_device *device, cellota_boot_decision *decision, int *stage0_result);

/* Writes `data` into flash at `address` for the factory (erasing the pages it covers first),
 * bypassing protection: provisioning and tests only. 0 or an error code. */
int sim_device_factory_write(sim_device *device, uint32_t address, const uint8_t *data,
                             uint32_t size);

#endif
