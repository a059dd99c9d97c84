/*
 * libFuzzer target for fw_info: the input as 112 binary bytes and as hex text. Whatever decodes
 * must encode back to the same bytes (and lowercase hex to the same digits).
 */
#include "core/error.h"
#include "image/fw_info.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cellota_fw_info info;
    uint8_t bytes[CELLOTA_FW_INFO_SIZE];
    char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1], *text;
    size_t index;

    if (size >= CELLOTA_FW_INFO_SIZE) {
        int result = cellota_fw_info_decode(&info, data);
        cellota_fw_info_encode(&info, bytes);
        if (memcmp(bytes, data, CELLOTA_FW_INFO_SIZE) != 0)
            abort(); /* decode keeps every byte, valid or not */
        if ((result == CELLOTA_OK) !=
            (info.encrypted_size > info.plain_size && info.encrypted_size - info.plain_size <= 16 &&
             info.encrypted_size % 16 == 0))
            abort();
    }
    text = malloc(size ? size : 1);
    memcpy(text, data, size);
    if (cellota_fw_info_from_hex(&info, text, size) == CELLOTA_OK) {
        cellota_fw_info_to_hex(&info, hex);
        if (size != CELLOTA_FW_INFO_HEX_LENGTH || strlen(hex) != size)
            abort();
        for (index = 0; index < size; index++) {
            if (tolower((unsigned char)text[index]) != hex[index])
                abort();
        }
    }
    free(text);
    return 0;
}
