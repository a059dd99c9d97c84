/*
 * fw_info: the 112 bytes that describe one encrypted image (seed 002's layout, little-endian),
 * carried hex-encoded in the update request. design.md fixes the layout:
 *
 *   0  u32 version         security version: monotonic, checked by anti-rollback
 *   4  u32 load_address    where the application runs from (0x1000 after the nRF52840 MBR)
 *   8  u32 plain_size      bytes of the plain image
 *  12  u32 encrypted_size  plain_size padded by PKCS#7 to the next multiple of 16 (always > plain)
 *  16  16  key             AES-128 key
 *  32  16  iv              CBC initialisation vector
 *  48  32  encrypted_sha256  SHA-256 of the encrypted image, checked before anything installs
 *  80  32  plain_sha256      SHA-256 of the plain image, checked after writing and at every boot
 */
#ifndef CELLOTA_IMAGE_FW_INFO_H
#define CELLOTA_IMAGE_FW_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CELLOTA_FW_INFO_SIZE 112
#define CELLOTA_FW_INFO_HEX_LENGTH (2 * CELLOTA_FW_INFO_SIZE)

typedef struct cellota_fw_info {
    uint32_t version;
    uint32_t load_address;
    uint32_t plain_size;
    uint32_t encrypted_size;
    uint8_t key[16];
    uint8_t iv[16];
    uint8_t encrypted_sha256[32];
    uint8_t plain_sha256[32];
} cellota_fw_info;

/* The PKCS#7-padded size of a plain image of `plain_size` bytes (always 1..16 bytes more). */
uint32_t cellota_fw_info_padded_size(uint32_t plain_size);

/* The size rule: for the plain image, encrypted_size is plain_size padded (CELLOTA_OK or
 * CELLOTA_IMAGE_FW_INFO_SIZES); for a compressed image or patch (`encoded`), plain_size is the
 * NEW image's and encrypted_size the padded stream's, which needs whole blocks and room for a
 * stream header. */
int cellota_fw_info_check_sizes(const cellota_fw_info *info, bool encoded);

/* Decodes 112 bytes. CELLOTA_OK, or CELLOTA_IMAGE_FW_INFO_SIZES when encrypted_size is not
 * the padded plain_size. */
int cellota_fw_info_decode(cellota_fw_info *info, const uint8_t bytes[CELLOTA_FW_INFO_SIZE]);
void cellota_fw_info_encode(const cellota_fw_info *info, uint8_t bytes[CELLOTA_FW_INFO_SIZE]);

/* Decodes exactly CELLOTA_FW_INFO_HEX_LENGTH hex digits (either case).
 * CELLOTA_IMAGE_FW_INFO_HEX for a wrong length or a non-hex character, else as decode. */
int cellota_fw_info_from_hex(cellota_fw_info *info, const char *hex, size_t length);

/* As cellota_fw_info_from_hex, leaving the size rule to cellota_fw_info_check_sizes (the update
 * request knows whether the image is encoded only once it has read every member). */
int cellota_fw_info_from_hex_unchecked(cellota_fw_info *info, const char *hex, size_t length);

/* Writes CELLOTA_FW_INFO_HEX_LENGTH lowercase hex digits and a terminating NUL. */
void cellota_fw_info_to_hex(const cellota_fw_info *info, char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1]);

#endif
