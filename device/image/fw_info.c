/*
 * fw_info: encode and decode the 112-byte image description (layout in fw_info.h), and its hex
 * form as the update request carries it. Byte order is explicit so the code is the same on any
 * host or MCU.
 */
#include "image/fw_info.h"

#include "core/error.h"
#include "core/encoding.h"

#include <string.h>

uint32_t cellota_fw_info_padded_size(uint32_t plain_size)
{
    /* PKCS#7 always adds 1..16 bytes; wraps to a value <= plain_size only above 2^32-17. */
    return (plain_size & ~(uint32_t)15) + 16;
}

int cellota_fw_info_check_sizes(const cellota_fw_info *info, bool encoded)
{
    if (encoded) /* a compressed image or patch: whole blocks holding a stream header at least */
        return info->encrypted_size % 16 == 0 && info->encrypted_size >= 96
                   ? CELLOTA_OK
                   : CELLOTA_IMAGE_FW_INFO_SIZES;
    if (info->encrypted_size <= info->plain_size ||
        info->encrypted_size != cellota_fw_info_padded_size(info->plain_size))
        return CELLOTA_IMAGE_FW_INFO_SIZES;
    return CELLOTA_OK;
}

static void read_fields(cellota_fw_info *info, const uint8_t bytes[CELLOTA_FW_INFO_SIZE])
{
    cellota_load_u32(bytes, &info->version);
    cellota_load_u32(bytes + 4, &info->load_address);
    cellota_load_u32(bytes + 8, &info->plain_size);
    cellota_load_u32(bytes + 12, &info->encrypted_size);
    memcpy(info->key, bytes + 16, 16);
    memcpy(info->iv, bytes + 32, 16);
    memcpy(info->encrypted_sha256, bytes + 48, 32);
    memcpy(info->plain_sha256, bytes + 80, 32);
}

int cellota_fw_info_decode(cellota_fw_info *info, const uint8_t bytes[CELLOTA_FW_INFO_SIZE])
{
    read_fields(info, bytes);
    return cellota_fw_info_check_sizes(info, false);
}

void cellota_fw_info_encode(const cellota_fw_info *info, uint8_t bytes[CELLOTA_FW_INFO_SIZE])
{
    cellota_store_u32(bytes, info->version);
    cellota_store_u32(bytes + 4, info->load_address);
    cellota_store_u32(bytes + 8, info->plain_size);
    cellota_store_u32(bytes + 12, info->encrypted_size);
    memcpy(bytes + 16, info->key, 16);
    memcpy(bytes + 32, info->iv, 16);
    memcpy(bytes + 48, info->encrypted_sha256, 32);
    memcpy(bytes + 80, info->plain_sha256, 32);
}

int cellota_fw_info_from_hex_unchecked(cellota_fw_info *info, const char *hex, size_t length)
{
    uint8_t bytes[CELLOTA_FW_INFO_SIZE];
    if (length != CELLOTA_FW_INFO_HEX_LENGTH ||
        cellota_hex_decode(bytes, hex, CELLOTA_FW_INFO_SIZE) != CELLOTA_OK)
        return CELLOTA_IMAGE_FW_INFO_HEX;
    read_fields(info, bytes);
    return CELLOTA_OK;
}

int cellota_fw_info_from_hex(cellota_fw_info *info, const char *hex, size_t length)
{
    int result = cellota_fw_info_from_hex_unchecked(info, hex, length);
    return result != CELLOTA_OK ? result : cellota_fw_info_check_sizes(info, false);
}

void cellota_fw_info_to_hex(const cellota_fw_info *info, char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1])
{
    uint8_t bytes[CELLOTA_FW_INFO_SIZE];
    cellota_fw_info_encode(info, bytes);
    cellota_hex_encode(hex, bytes, CELLOTA_FW_INFO_SIZE);
    hex[CELLOTA_FW_INFO_HEX_LENGTH] = '\0';
}
