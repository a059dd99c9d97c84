/*
 * What a bootloader links, for `make size`: the board's reset handler runs the bootloader core
 * to its decision and jumps. The staged image is read from the SIM7600's file system through
 * the AT engine (when the at module provides it; SIZE_HAVE_SIM7600_FS). The board's port and
 * the jump are the target's (unresolved here, so not counted); the contexts are static RAM.
 */
#include "boot/boot.h"
#include "core/error.h"

#ifdef SIZE_HAVE_SIM7600_FS
#include "at/engine.h"
#include "at/sim7600_fs.h"
static cellota_at at;
static cellota_sim7600_fs files;
static const cellota_boot_source modem_source = {&files, cellota_sim7600_fs_source_size,
                                                 cellota_sim7600_fs_source_read,
                                                 cellota_sim7600_fs_source_cancel};
#else
extern const cellota_boot_source modem_source;
#endif

extern const cellota_port size_board_port;
void size_jump(uint32_t address);

static cellota_boot boot;

void size_bootloader_main(void);
void size_bootloader_main(void)
{
#ifdef SIZE_HAVE_SIM7600_FS
    cellota_at_init(&at, &size_board_port, NULL, 0, NULL);
    cellota_sim7600_fs_init(&files, &at);
#endif
    cellota_boot_init(&boot, &size_board_port, &cellota_boot_layout_nrf52840_1mb, &modem_source);
    while (cellota_boot_step(&boot) == CELLOTA_IN_PROGRESS)
        ;
    size_jump(cellota_boot_result(&boot)->address);
}
