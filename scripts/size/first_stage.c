/*
 * What the first stage links, for `make size` (it must fit the nRF52840's 4 KiB MBR region):
 * finish or repair the bootloader, then jump to it.
 */
#include "boot/stage0.h"
#include "core/error.h"

extern const cellota_port size_board_port;
void size_jump(uint32_t address);

static cellota_stage0 stage0;

void size_first_stage_main(void);
void size_first_stage_main(void)
{
    cellota_stage0_init(&stage0, &size_board_port, &cellota_boot_layout_nrf52840_1mb);
    while (cellota_stage0_step(&stage0) == CELLOTA_IN_PROGRESS)
        ;
    size_jump(0xFC000);
}
