/* The flash simulator enforces flash rules and tears operations at a power cut. */
#include "test.h"

#include "core/error.h"
#include "flash_sim.h"

static const cellota_flash_area geometry = {0x1000, 4 * 4096, 4096, 4, 0xFF};

static void test_write_once_and_alignment(void)
{
    flash_sim flash;
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8];
    CHECK_EQ_INT(flash_sim_create(&flash, &geometry), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_write(&flash, 0x1000, data, 8), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_read(&flash, 0x1000, back, 8), CELLOTA_OK);
    CHECK_EQ_MEM(back, data, 8);
    CHECK_EQ_INT(flash_sim_write(&flash, 0x1004, data, 4), CELLOTA_FLASH_WRITE_FAILED);
    CHECK_EQ_INT(flash_sim_write(&flash, 0x1009, data, 4), CELLOTA_FLASH_MISALIGNED);
    CHECK_EQ_INT(flash_sim_write(&flash, 0x0FFC, data, 4), CELLOTA_FLASH_OUT_OF_RANGE);
    CHECK_EQ_INT(flash.violations, 2);
    CHECK_EQ_INT(flash_sim_erase(&flash, 0x1000, 4096), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_write(&flash, 0x1004, data, 4), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_erase(&flash, 0x1100, 4096), CELLOTA_FLASH_MISALIGNED);
    CHECK_EQ_INT(flash.operations, 3);
    flash_sim_destroy(&flash);
}

static void test_power_cut_tears_and_stops(void)
{
    flash_sim flash;
    uint8_t data[4096], back[4096];
    size_t index, differing = 0;
    memset(data, 0, sizeof(data));
    CHECK_EQ_INT(flash_sim_create(&flash, &geometry), CELLOTA_OK);
    flash_sim_seed(&flash, 7);
    flash_sim_schedule_cut(&flash, 2);
    CHECK_EQ_INT(flash_sim_write(&flash, 0x1000, data, 4096), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_erase(&flash, 0x1000, 4096), CELLOTA_FLASH_WRITE_FAILED);
    CHECK(!flash.powered);
    CHECK_EQ_INT(flash_sim_read(&flash, 0x1000, back, 16), CELLOTA_FLASH_READ_FAILED);
    flash_sim_power_on(&flash);
    CHECK_EQ_INT(flash_sim_read(&flash, 0x1000, back, sizeof(back)), CELLOTA_OK);
    for (index = 0; index < sizeof(back); index++)
        differing += back[index] != 0xFF;
    CHECK(differing > 0); /* a torn erase is not an erase */
    CHECK_EQ_INT(flash_sim_write(&flash, 0x1000, data, 4), CELLOTA_FLASH_WRITE_FAILED);
    CHECK_EQ_INT(flash_sim_erase(&flash, 0x1000, 4096), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_write(&flash, 0x1000, data, 4), CELLOTA_OK);
    flash_sim_destroy(&flash);
}

static void test_error_table(void)
{
    CHECK_EQ_STR(cellota_error_name(CELLOTA_FLASH_MISALIGNED), "FLASH_MISALIGNED");
    CHECK_EQ_STR(cellota_strerror(CELLOTA_OK), "success");
    CHECK_EQ_STR(cellota_strerror(-12345), "unknown error");
}

int main(void)
{
    RUN(test_write_once_and_alignment);
    RUN(test_power_cut_tears_and_stops);
    RUN(test_error_table);
    return test_summary();
}
