/*
 * Packaging a plain firmware image for devices (seed 002's format, design.md): AES-128-CBC
 * with PKCS#7 padding under a fresh random key and IV, and the fw_info that describes it.
 * Shared by `cellota pack` and the server's release upload. Functions print their own error
 * and return a HOST_EXIT_* code.
 */
#ifndef CELLOTA_HOST_OPERATOR_PACKAGE_H
#define CELLOTA_HOST_OPERATOR_PACKAGE_H

#include "common/random.h"
#include "image/fw_info.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The load address a package gets when none is given: 0 means "the address of the slot the image
 * is written to", which every layout accepts (the agent checks 0 or the slot's own address). A
 * fixed address such as seed 002's 0x1000 fits one layout only, and cellota-device's default
 * layout (esp32-4mb) refused it. `cellota pack` and the server's release upload both use it.
 */
#define OPERATOR_LOAD_ADDRESS_DEFAULT 0u

/* The largest plain image fw_info can describe (its sizes are 32-bit, padding included). */
#define OPERATOR_PLAIN_SIZE_MAX (UINT32_MAX - 16)

/*
 * The security version (fw_info.version) a semantic version maps to when none is given:
 * major * 1000000 + minor * 1000 + patch, so it grows with every release. Pre-releases of a
 * version share its number. HOST_EXIT_USAGE, after printing why, when `version` is not a
 * semantic version or minor or patch is above 999 or the result above 2^32 - 1.
 */
int operator_security_version(const char *version, uint32_t *security_version);

/*
 * Encrypts `plain` under `key` and `iv` into a malloc'd buffer of
 * cellota_fw_info_padded_size(plain_size) bytes and fills fw_info's sizes, key, IV and both
 * SHA-256 values (version and load address are left as they are).
 */
int operator_encrypt(const uint8_t *plain, size_t plain_size, const uint8_t key[16],
                     const uint8_t iv[16], cellota_fw_info *info, uint8_t **encrypted);

/* As operator_encrypt, with a fresh key and IV from `random` (never reused across images). */
int operator_package(host_random *random, const uint8_t *plain, size_t plain_size,
                     cellota_fw_info *info, uint8_t **encrypted);

#endif
