/* Thousands of emulators in one process, as the fleet simulator runs them: no shared state,
 * each steps on its own virtual clock, and an idle one costs little memory. */
#include "modem_harness.h"

#define COUNT 2000

static long resident_kib(void)
{
    long pages = 0, resident = 0;
    FILE *file = fopen("/proc/self/statm", "r");
    if (file) {
        if (fscanf(file, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(file);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_many_instances(void)
{
    static modem_emulator *emulators[COUNT];
    static const modem_model models[] = {MODEM_MODEL_SIM7600, MODEM_MODEL_SIM7000,
                                         MODEM_MODEL_SIM7070, MODEM_MODEL_SIM800};
    modem_emulator_options options;
    long before = resident_kib(), after;
    int index, ready = 0;
    modem_emulator_default_options(&options);
    for (index = 0; index < COUNT; index++) {
        options.seed = (uint64_t)index;
        options.boot_ms = 1000 + (uint32_t)(index % 50); /* staggered boots */
        emulators[index] = modem_emulator_create(models[index % 4], &options, 0);
        CHECK(emulators[index] != NULL);
    }
    for (index = 0; index < COUNT; index++) {
        uint8_t buffer[512];
        size_t length = 0, count;
        uint64_t now = 0;
        /* step each one from event to event, as an event loop would */
        while (now < 8000) {
            uint64_t next = modem_emulator_next_event_ms(emulators[index]);
            now = next > 8000 ? 8000 : next;
            modem_emulator_poll(emulators[index], now);
            while ((count = modem_emulator_uart_read(emulators[index], buffer + length,
                                                     sizeof(buffer) - 1 - length)) > 0)
                length += count;
        }
        buffer[length] = 0;
        ready += strstr((char *)buffer, index % 4 == 0 ? "PB DONE" : "SMS Ready") != NULL;
    }
    CHECK_EQ_INT(ready, COUNT);
    after = resident_kib();
    printf("many: %d booted emulators, about %ld KiB each\n", COUNT, (after - before) / COUNT);
    CHECK((after - before) / COUNT < 64);
    for (index = 0; index < COUNT; index++)
        modem_emulator_destroy(emulators[index]);
}

int main(void)
{
    RUN(test_many_instances);
    return test_summary();
}
