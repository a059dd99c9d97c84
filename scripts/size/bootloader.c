/*
 * What a bootloader links, for `make size`: the board's reset handler runs the bootloader core
 * to its decision and jumps. The board's port, the modem file reader and the jump are the
 * target's (unresolved here, so not counted); the core's context is its static RAM.
 */
#include "boot/boot.h"
#include "core/error.h"

extern const cellota_port size_board_port;
extern const cellota_boot_source size_modem_source;
void size_jump(uint32_t address);

static cellota_boot boot;

void size_bootloader_main(void);
void size_bootloader_main(void)
{
    cellota_boot_init(&boot, &size_board_port, cellota_boot_layouts[1], &size_modem_source);
    while (cellota_boot_step(&boot) == CELLOTA_IN_PROGRESS)
        ;
    size_jump(cellota_boot_result(&boot)->address);
}
