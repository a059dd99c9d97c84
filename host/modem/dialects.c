/*
 * Routing between the engine and the dialects: socket events go to the dialect that owns the
 * socket; a network loss and a reset reach every dialect the model speaks.
 */
#include "emulator_internal.h"

void dialect_link_event(modem_emulator *emulator, modem_link *link, unsigned events)
{
    switch (link_get_owner(link)) {
    case OWNER_SIM7600_SOCKET:
    case OWNER_SIM7600_SSL:
        sim7600_link_event(emulator, link, events);
        break;
    case OWNER_HTTP:
        http_link_event(emulator, link, events);
        break;
    case OWNER_CIP:
        cip_link_event(emulator, link, events);
        break;
    case OWNER_CA:
        ca_link_event(emulator, link, events);
        break;
    }
}

void dialects_network_lost(modem_emulator *emulator)
{
    unsigned dialects = emulator->profile->dialects;
    emulator_note(emulator, "network lost: data contexts drop");
    if (dialects & DIALECT_SIM7600) {
        sim7600_network_lost(emulator);
        http_network_lost(emulator);
    }
    if (dialects & DIALECT_CIP)
        cip_network_lost(emulator);
    if (dialects & DIALECT_CA)
        ca_network_lost(emulator);
}

void dialects_reset(modem_emulator *emulator)
{
    sim7600_reset(emulator);
    http_reset(emulator);
    cip_reset(emulator);
    ca_reset(emulator);
}

void links_close_all(modem_emulator *emulator)
{
    while (emulator->link_count > 0)
        link_abort(emulator, emulator->links[emulator->link_count - 1]);
    /* the dialects' pointers are cleared by dialects_reset, which always follows */
}
