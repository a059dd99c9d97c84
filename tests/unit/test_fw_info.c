/* fw_info: seed 002's example decodes to its values; encode/decode and hex round trips. */
#include "test.h"

#include "core/error.h"
#include "image/fw_info.h"

#include <ctype.h>

/* The "fw_info" of seed 002's Listing-1, byte for byte. */
static const char seed_fw_info[] =
    "0000000000100000b8070100c0070100000102030405060708090a0b0c0d0e0f00112233445566778899aabbcc"
    "ddeeffba40d96777aeaf3901e3d3eb7db8b9939938c981e18286bd61b3350d00ff6816dd10918635ca7bf00c3d"
    "afe76f2a280891f107f4569b11b5d732d630819abebf";

static void test_seed_example(void)
{
    static const uint8_t iv[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    static const uint8_t encrypted_start[4] = {0xba, 0x40, 0xd9, 0x67};
    static const uint8_t plain_start[4] = {0xdd, 0x10, 0x91, 0x86};
    uint8_t key[16];
    cellota_fw_info info;
    char hex[CELLOTA_FW_INFO_HEX_LENGTH + 1];
    int index;

    for (index = 0; index < 16; index++)
        key[index] = (uint8_t)index;
    CHECK_EQ_INT(sizeof(seed_fw_info) - 1, CELLOTA_FW_INFO_HEX_LENGTH);
    CHECK_EQ_INT(cellota_fw_info_from_hex(&info, seed_fw_info, strlen(seed_fw_info)), CELLOTA_OK);
    CHECK_EQ_INT(info.version, 0);
    CHECK_EQ_INT(info.load_address, 0x1000);
    CHECK_EQ_INT(info.plain_size, 67512);
    CHECK_EQ_INT(info.encrypted_size, 67520);
    CHECK_EQ_MEM(info.key, key, 16);
    CHECK_EQ_MEM(info.iv, iv, 16);
    CHECK_EQ_MEM(info.encrypted_sha256, encrypted_start, 4);
    CHECK_EQ_INT(info.encrypted_sha256[31], 0x16);
    CHECK_EQ_MEM(info.plain_sha256, plain_start, 4);
    CHECK_EQ_INT(info.plain_sha256[31], 0xbf);
    cellota_fw_info_to_hex(&info, hex);
    CHECK_EQ_STR(hex, seed_fw_info);
}

static void test_hex_case_and_errors(void)
{
    char upper[CELLOTA_FW_INFO_HEX_LENGTH + 1], hex[CELLOTA_FW_INFO_HEX_LENGTH + 1];
    cellota_fw_info info;
    size_t index;

    for (index = 0; index < CELLOTA_FW_INFO_HEX_LENGTH; index++)
        upper[index] = (char)toupper((unsigned char)seed_fw_info[index]);
    upper[CELLOTA_FW_INFO_HEX_LENGTH] = '\0';
    CHECK_EQ_INT(cellota_fw_info_from_hex(&info, upper, CELLOTA_FW_INFO_HEX_LENGTH), CELLOTA_OK);
    cellota_fw_info_to_hex(&info, hex);
    CHECK_EQ_STR(hex, seed_fw_info); /* written back lowercase */

    CHECK_EQ_INT(cellota_fw_info_from_hex(&info, seed_fw_info, CELLOTA_FW_INFO_HEX_LENGTH - 2),
                 CELLOTA_IMAGE_FW_INFO_HEX);
    CHECK_EQ_INT(cellota_fw_info_from_hex(&info, seed_fw_info, 0), CELLOTA_IMAGE_FW_INFO_HEX);
    upper[100] = 'g';
    CHECK_EQ_INT(cellota_fw_info_from_hex(&info, upper, CELLOTA_FW_INFO_HEX_LENGTH),
                 CELLOTA_IMAGE_FW_INFO_HEX);
    upper[100] = ' ';
    CHECK_EQ_INT(cellota_fw_info_from_hex(&info, upper, CELLOTA_FW_INFO_HEX_LENGTH),
                 CELLOTA_IMAGE_FW_INFO_HEX);
}

static void test_sizes_checked(void)
{
    cellota_fw_info info;
    uint8_t bytes[CELLOTA_FW_INFO_SIZE];

    CHECK_EQ_INT(cellota_fw_info_padded_size(0), 16);
    CHECK_EQ_INT(cellota_fw_info_padded_size(15), 16);
    CHECK_EQ_INT(cellota_fw_info_padded_size(16), 32);
    CHECK_EQ_INT(cellota_fw_info_padded_size(67512), 67520);

    CHECK_EQ_INT(cellota_fw_info_from_hex(&info, seed_fw_info, CELLOTA_FW_INFO_HEX_LENGTH),
                 CELLOTA_OK);
    info.encrypted_size = 67512; /* unpadded: PKCS#7 always adds at least one byte */
    cellota_fw_info_encode(&info, bytes);
    CHECK_EQ_INT(cellota_fw_info_decode(&info, bytes), CELLOTA_IMAGE_FW_INFO_SIZES);
    info.plain_size = 67520;
    info.encrypted_size = 67536;
    cellota_fw_info_encode(&info, bytes);
    CHECK_EQ_INT(cellota_fw_info_decode(&info, bytes), CELLOTA_OK);
    /* The padded size would wrap around 2^32: refused, not accepted as 0. */
    info.plain_size = 0xFFFFFFF8u;
    info.encrypted_size = cellota_fw_info_padded_size(info.plain_size);
    cellota_fw_info_encode(&info, bytes);
    CHECK_EQ_INT(cellota_fw_info_decode(&info, bytes), CELLOTA_IMAGE_FW_INFO_SIZES);
}

static void test_round_trip(void)
{
    cellota_fw_info info, back;
    uint8_t bytes[CELLOTA_FW_INFO_SIZE], again[CELLOTA_FW_INFO_SIZE];
    size_t index;

    for (index = 0; index < sizeof(bytes); index++)
        bytes[index] = (uint8_t)(index * 37 + 11);
    bytes[8] = 0x10, bytes[9] = 0x32, bytes[10] = 0x54, bytes[11] = 0x00; /* 0x543210 */
    bytes[12] = 0x20, bytes[13] = 0x32, bytes[14] = 0x54, bytes[15] = 0x00;
    CHECK_EQ_INT(cellota_fw_info_decode(&info, bytes), CELLOTA_OK);
    CHECK_EQ_INT(info.plain_size, 0x543210);
    CHECK_EQ_INT(info.version, 0x7a55300b);
    cellota_fw_info_encode(&info, again);
    CHECK_EQ_MEM(again, bytes, sizeof(bytes));
    CHECK_EQ_INT(cellota_fw_info_decode(&back, again), CELLOTA_OK);
    CHECK_EQ_MEM(&back, &info, sizeof(info));
}

int main(void)
{
    RUN(test_seed_example);
    RUN(test_hex_case_and_errors);
    RUN(test_sizes_checked);
    RUN(test_round_trip);
    return test_summary();
}
