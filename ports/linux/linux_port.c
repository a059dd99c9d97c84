/* The Linux port: serial line, clock, flash file, store file, reboot callback; see linux_port.h. */
#define _GNU_SOURCE
#include "linux_port.h"

#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint32_t linux_now_ms(void *context)
{
    struct timespec now;
    (void)context;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u);
}

/* The port has one context for all its functions: these forward to the part that does it. */
static size_t port_uart_read(void *context, uint8_t *buffer, size_t capacity)
{
    return linux_serial_read(&((linux_port *)context)->serial, buffer, capacity);
}

static size_t port_uart_write(void *context, const uint8_t *data, size_t length)
{
    return linux_serial_write(&((linux_port *)context)->serial, data, length);
}

static uint32_t port_uart_take_errors(void *context)
{
    return linux_serial_take_errors(&((linux_port *)context)->serial);
}

static int port_flash_read(void *context, uint32_t address, void *buffer, size_t length)
{
    return flash_sim_read(&((linux_port *)context)->flash, address, buffer, length);
}

static int port_flash_write(void *context, uint32_t address, const void *data, size_t length)
{
    return flash_sim_write(&((linux_port *)context)->flash, address, data, length);
}

static int port_flash_erase(void *context, uint32_t address, size_t length)
{
    return flash_sim_erase(&((linux_port *)context)->flash, address, length);
}

static int port_store_get(void *context, const char *key, void *value, size_t capacity,
                          size_t *length)
{
    return store_sim_get(&((linux_port *)context)->store, key, value, capacity, length);
}

static int port_store_set(void *context, const char *key, const void *value, size_t length)
{
    return store_sim_set(&((linux_port *)context)->store, key, value, length);
}

static void port_reboot(void *context)
{
    linux_port *port = context;
    port->reboots++;
    if (port->reboot)
        port->reboot(port->reboot_user);
}

int linux_port_open(linux_port *port, const linux_port_options *options)
{
    int result;

    memset(port, 0, sizeof(*port));
    port->serial.fd = -1;
    port->reboot = options->reboot;
    port->reboot_user = options->reboot_user;
    if (!options->flash || !options->flash_path) {
        snprintf(port->message, sizeof(port->message), "no flash geometry or flash file given");
        return -1;
    }
    errno = 0;
    result = flash_sim_open_file(&port->flash, options->flash, options->flash_path);
    if (result != CELLOTA_OK) {
        snprintf(port->message, sizeof(port->message), "cannot open the flash file %s: %s",
                 options->flash_path, errno ? strerror(errno) : cellota_strerror(result));
        return -1;
    }
    result = store_sim_open(&port->store, options->store_path);
    if (result != CELLOTA_OK) {
        snprintf(port->message, sizeof(port->message), "cannot open the store file %s: %s",
                 options->store_path, cellota_strerror(result));
        flash_sim_destroy(&port->flash);
        return -1;
    }
    if (options->tty &&
        linux_serial_open(&port->serial, options->tty, options->baud ? options->baud : 115200,
                          options->parity, options->flow_control) != 0) {
        snprintf(port->message, sizeof(port->message), "cannot open the serial port %s: %s",
                 options->tty, strerror(errno));
        flash_sim_destroy(&port->flash);
        return -1;
    }
    return 0;
}

void linux_port_close(linux_port *port)
{
    linux_serial_close(&port->serial);
    flash_sim_destroy(&port->flash);
}

void linux_port_fill(linux_port *port, cellota_port *cellota)
{
    memset(cellota, 0, sizeof(*cellota));
    cellota->context = port;
    cellota->uart_read = port_uart_read;
    cellota->uart_write = port_uart_write;
    cellota->uart_take_errors = port_uart_take_errors;
    cellota->flash_read = port_flash_read;
    cellota->flash_write = port_flash_write;
    cellota->flash_erase = port_flash_erase;
    cellota->now_ms = linux_now_ms;
    cellota->store_get = port_store_get;
    cellota->store_set = port_store_set;
    cellota->reboot = port_reboot;
}
