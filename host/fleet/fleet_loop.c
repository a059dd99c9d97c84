/* The fleet's event loop: epoll, a ready queue and a timer heap; see fleet_loop.h. */
#include "fleet_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define JUMP_MS 1000u        /* emulated work this close is jumped to at once */
#define STEP_MS 250u         /* without connections: virtual time moves this far per service */
#define TICK_BUSY_MS 200u    /* parked during a job: seen at least this often (virtual) */
#define TICK_IDLE_MS 5000u   /* parked while idle */
#define EVENTS_PER_WAIT 1024

uint64_t fleet_real_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

int fleet_loop_init(fleet_loop *loop, size_t devices, size_t max_fds, double time_scale)
{
    memset(loop, 0, sizeof(*loop));
    loop->time_scale = time_scale > 0 ? time_scale : 1.0;
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->ready_capacity = devices + 1;
    loop->ready = calloc(loop->ready_capacity, sizeof(*loop->ready));
    loop->owners_capacity = max_fds;
    loop->owners = calloc(max_fds, sizeof(*loop->owners));
    if (loop->epoll_fd < 0 || !loop->ready || !loop->owners) {
        fleet_loop_destroy(loop);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void fleet_loop_destroy(fleet_loop *loop)
{
    if (loop->epoll_fd >= 0)
        close(loop->epoll_fd);
    free(loop->ready);
    free(loop->heap);
    free(loop->owners);
    memset(loop, 0, sizeof(*loop));
    loop->epoll_fd = -1;
}

/* --- ready queue and timer heap -------------------------------------------------------------- */

static void make_ready(fleet_loop *loop, fleet_device *device)
{
    if (device->ready)
        return;
    device->ready = true;
    device->parked = false;
    loop->ready[(loop->ready_head + loop->ready_count) % loop->ready_capacity] = device;
    loop->ready_count++;
}

static fleet_device *take_ready(fleet_loop *loop)
{
    fleet_device *device = loop->ready[loop->ready_head];
    loop->ready_head = (loop->ready_head + 1) % loop->ready_capacity;
    loop->ready_count--;
    device->ready = false;
    return device;
}

static void heap_push(fleet_loop *loop, fleet_wake wake)
{
    size_t at;
    if (loop->heap_count == loop->heap_capacity) {
        size_t capacity = loop->heap_capacity ? loop->heap_capacity * 2 : 1024;
        fleet_wake *grown = realloc(loop->heap, capacity * sizeof(*grown));
        if (!grown)
            abort(); /* a parked device without a timer could wait for ever */
        loop->heap = grown;
        loop->heap_capacity = capacity;
    }
    at = loop->heap_count++;
    while (at > 0 && loop->heap[(at - 1) / 2].at_ms > wake.at_ms) {
        loop->heap[at] = loop->heap[(at - 1) / 2];
        at = (at - 1) / 2;
    }
    loop->heap[at] = wake;
}

static fleet_wake heap_pop(fleet_loop *loop)
{
    fleet_wake top = loop->heap[0], last = loop->heap[--loop->heap_count];
    size_t at = 0;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= loop->heap_count)
            break;
        if (child + 1 < loop->heap_count && loop->heap[child + 1].at_ms < loop->heap[child].at_ms)
            child++;
        if (loop->heap[child].at_ms >= last.at_ms)
            break;
        loop->heap[at] = loop->heap[child];
        at = child;
    }
    if (loop->heap_count)
        loop->heap[at] = last;
    return top;
}

/* --- parking ------------------------------------------------------------------------------ */

/* Arms the device's descriptors (one shot each) and forgets those it no longer has. */
static void arm(fleet_loop *loop, fleet_device *device, const struct pollfd *fds, size_t count)
{
    unsigned old;
    size_t index;
    for (old = 0; old < device->fd_count; old++) {
        int fd = device->fds[old];
        bool kept = false;
        for (index = 0; index < count; index++)
            kept = kept || fds[index].fd == fd;
        /* A descriptor closed since is out of epoll already, and its number may be another
         * device's now: only the device that armed it last may remove it. */
        if (!kept && (size_t)fd < loop->owners_capacity && loop->owners[fd] == device) {
            epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
            loop->owners[fd] = NULL;
        }
    }
    device->fd_count = 0;
    for (index = 0; index < count && index < FLEET_DEVICE_FDS; index++) {
        struct epoll_event event;
        int fd = fds[index].fd;
        memset(&event, 0, sizeof(event));
        event.events = EPOLLONESHOT;
        if (fds[index].events & POLLIN)
            event.events |= EPOLLIN | EPOLLRDHUP;
        if (fds[index].events & POLLOUT)
            event.events |= EPOLLOUT;
        event.data.ptr = device;
        if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &event) != 0 &&
            epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
            continue;
        if ((size_t)fd < loop->owners_capacity)
            loop->owners[fd] = device;
        device->fds[device->fd_count++] = fd;
    }
}

/* After a service: where the device's clock goes and whether it waits for the network. */
static void schedule(fleet_loop *loop, fleet_device *device, uint64_t real_now)
{
    struct pollfd fds[FLEET_DEVICE_FDS];
    size_t count;
    uint64_t next;
    uint32_t limit;

    if (device->stopped) {
        arm(loop, device, NULL, 0);
        return;
    }
    next = fleet_device_next_event(device);
    if (next <= device->now + JUMP_MS) {
        device->now = next > device->now ? next : device->now + 1;
        make_ready(loop, device);
        return;
    }
    count = fleet_device_poll_fds(device, fds, FLEET_DEVICE_FDS);
    if (count == 0) {
        device->now = next < device->now + STEP_MS ? next : device->now + STEP_MS;
        arm(loop, device, NULL, 0);
        make_ready(loop, device);
        return;
    }
    limit = fleet_device_busy(device) ? TICK_BUSY_MS : TICK_IDLE_MS;
    if (next != UINT64_MAX && next - device->now < limit)
        limit = (uint32_t)(next - device->now);
    arm(loop, device, fds, count);
    device->parked = true;
    device->park_real_ms = real_now;
    device->park_limit_ms = limit;
    device->generation++;
    loop->parks++;
    heap_push(loop, (fleet_wake){real_now + (uint64_t)(limit / loop->time_scale) + 1, device,
                                 device->generation});
}

/* A parked device's clock has run with real time. */
static void unpark(fleet_loop *loop, fleet_device *device, uint64_t real_now)
{
    double passed = (double)(real_now - device->park_real_ms) * loop->time_scale;
    if (!device->parked)
        return;
    device->now += passed < device->park_limit_ms ? (uint64_t)passed : device->park_limit_ms;
    make_ready(loop, device);
}

void fleet_loop_add(fleet_loop *loop, fleet_device *device)
{
    make_ready(loop, device);
}

void fleet_loop_wake(fleet_loop *loop, fleet_device *device)
{
    unpark(loop, device, fleet_real_ms());
}

void fleet_loop_remove(fleet_loop *loop, fleet_device *device)
{
    arm(loop, device, NULL, 0);
    device->parked = false;
    device->generation++;
    /* a device in the ready ring is skipped when it comes up stopped */
    device->stopped = true;
}

size_t fleet_loop_run_once(fleet_loop *loop, int wait_ms)
{
    struct epoll_event events[EVENTS_PER_WAIT];
    uint64_t real_now = fleet_real_ms();
    size_t batch, index, services = 0;
    int count, timeout = wait_ms;

    if (loop->ready_count)
        timeout = 0;
    else if (loop->heap_count) {
        uint64_t first = loop->heap[0].at_ms;
        int until = first > real_now ? (int)(first - real_now) : 0;
        if (until < timeout)
            timeout = until;
    }
    count = epoll_wait(loop->epoll_fd, events, EVENTS_PER_WAIT, timeout);
    real_now = fleet_real_ms();
    for (index = 0; count > 0 && index < (size_t)count; index++) {
        fleet_device *device = events[index].data.ptr;
        if (device->parked) {
            loop->wakes_by_network++;
            unpark(loop, device, real_now);
        }
    }
    while (loop->heap_count && loop->heap[0].at_ms <= real_now) {
        fleet_wake wake = heap_pop(loop);
        if (wake.device->parked && wake.device->generation == wake.generation) {
            loop->wakes_by_timer++;
            unpark(loop, wake.device, real_now);
        }
    }
    /* Every device ready now runs once; those that become ready again wait for the next round,
     * so a device pacing its UART cannot starve the others. */
    batch = loop->ready_count;
    for (index = 0; index < batch; index++) {
        fleet_device *device = take_ready(loop);
        if (device->stopped)
            continue;
        fleet_device_service(device);
        loop->services++;
        services++;
        schedule(loop, device, fleet_real_ms());
    }
    return services;
}
