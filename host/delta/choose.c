/* Choosing what to send a device; see delta.h. */
#include "delta/delta.h"

#include <string.h>

static bool applies(const delta_variant *variant, const delta_device *device)
{
    if (variant->encoding == CELLOTA_REQUEST_PLAIN)
        return true;
    if (!device->decodes)
        return false;
    return variant->encoding != CELLOTA_DELTA_PATCH ||
           (variant->base_size == device->running_size &&
            memcmp(variant->base_sha256, device->running_sha256, 32) == 0);
}

ptrdiff_t delta_choose(const delta_variant *variants, size_t count, const delta_device *device)
{
    ptrdiff_t best = -1;
    size_t index;
    for (index = 0; index < count; index++) {
        if (applies(&variants[index], device) &&
            (best < 0 || variants[index].size < variants[best].size))
            best = (ptrdiff_t)index;
    }
    return best;
}
