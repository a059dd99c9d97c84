/*
 * The one event loop that runs every device of cellota-fleet: epoll for the emulators' real
 * sockets, a ready queue for devices with work at their virtual instant, and a timer heap for
 * devices that wait.
 *
 * Time. Each device has its own virtual clock. After a service the device is either
 *   - ready: the emulator has work within JUMP_MS of virtual time (bytes on the UART, radio air
 *     time, a command's answer, a modem timer) -- its clock jumps there and it runs again at
 *     once: pacing is modelled, never waited for; or it has no connection open (the modem
 *     booting, registering, a back-off with the sockets closed), and its clock steps on by up
 *     to STEP_MS (the agent's own timers are not visible from outside, so time moves in steps
 *     it can see);
 *   - parked: it has connections and nothing emulated to do soon, so it waits for the network:
 *     its descriptors are armed in epoll (one shot) and a timer is set. While parked its clock
 *     runs with real time, times `time_scale`, up to its next emulated event or a tick (so the
 *     agent's timers -- keep-alive, back-off -- are seen). Network latency is real time.
 * So a server that answers slowly is seen by the devices as slow, and nothing else costs real
 * time.
 */
#ifndef CELLOTA_HOST_FLEET_LOOP_H
#define CELLOTA_HOST_FLEET_LOOP_H

#include "fleet_device.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fleet_wake {
    uint64_t at_ms; /* real */
    fleet_device *device;
    uint32_t generation;
} fleet_wake;

typedef struct fleet_loop {
    int epoll_fd;
    double time_scale;
    fleet_device **ready; /* ring of devices to service */
    size_t ready_capacity, ready_head, ready_count;
    fleet_wake *heap;
    size_t heap_count, heap_capacity;
    fleet_device **owners; /* by descriptor: the device that armed it last */
    size_t owners_capacity;
    uint64_t services, parks, wakes_by_network, wakes_by_timer;
} fleet_loop;

/* Real milliseconds (monotonic). */
uint64_t fleet_real_ms(void);

/* A loop for up to `devices` devices and descriptors below `max_fds`. 0, or -1 (errno). */
int fleet_loop_init(fleet_loop *loop, size_t devices, size_t max_fds, double time_scale);
void fleet_loop_destroy(fleet_loop *loop);

/* Hands a started device to the loop (it runs at once). */
void fleet_loop_add(fleet_loop *loop, fleet_device *device);

/* Waits at most `wait_ms` real milliseconds for work, then services every device that has some.
 * Returns the number of services done. */
size_t fleet_loop_run_once(fleet_loop *loop, int wait_ms);

/* Runs a parked device at once (its owner changed something: asked it to stop). */
void fleet_loop_wake(fleet_loop *loop, fleet_device *device);

/* Stops watching a device that is about to be destroyed. */
void fleet_loop_remove(fleet_loop *loop, fleet_device *device);

#endif
