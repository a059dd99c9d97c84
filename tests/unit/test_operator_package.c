/* Packaging: AES-128-CBC with PKCS#7 against a NIST vector, sizes around the block boundary
 * accepted by the device pipeline, fresh keys per image, and the security version mapping. */
#include "test.h"

#include "common/cli.h"
#include "core/error.h"
#include "flash_sim.h"
#include "image/pipeline.h"
#include "operator/package.h"

static const cellota_flash_area slot = {0, 8 * 4096, 4096, 4, 0xFF};

static void test_nist_vector(void)
{
    /* NIST SP 800-38A, F.2.1 CBC-AES128.Encrypt, first block. */
    static const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                    0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    static const uint8_t iv[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t plain[16] = {0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
                                      0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a};
    static const uint8_t expected[16] = {0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46,
                                         0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9, 0x19, 0x7d};
    cellota_fw_info info;
    uint8_t *encrypted;
    memset(&info, 0, sizeof(info));
    CHECK_EQ_INT(operator_encrypt(plain, 16, key, iv, &info, &encrypted), HOST_EXIT_OK);
    CHECK_EQ_MEM(encrypted, expected, 16);
    CHECK_EQ_INT(info.plain_size, 16);
    CHECK_EQ_INT(info.encrypted_size, 32); /* a whole block of padding */
    CHECK_EQ_MEM(info.key, key, 16);
    CHECK_EQ_MEM(info.iv, iv, 16);
    free(encrypted);
}

static void install_and_compare(const uint8_t *plain, size_t size, const cellota_fw_info *info,
                                const uint8_t *encrypted)
{
    flash_sim flash;
    cellota_port port;
    cellota_pipeline pipeline;
    uint8_t back[20000];

    memset(&port, 0, sizeof(port));
    CHECK_EQ_INT(flash_sim_create(&flash, &slot), CELLOTA_OK);
    port.context = &flash;
    port.flash_read = flash_sim_read;
    port.flash_write = flash_sim_write;
    port.flash_erase = flash_sim_erase;
    CHECK_EQ_INT(cellota_pipeline_begin(&pipeline, &port, &slot, info), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_feed(&pipeline, encrypted, info->encrypted_size), CELLOTA_OK);
    CHECK_EQ_INT(cellota_pipeline_finish(&pipeline), CELLOTA_OK);
    CHECK_EQ_INT(flash_sim_read(&flash, 0, back, size), CELLOTA_OK);
    CHECK_EQ_MEM(back, plain, size);
    flash_sim_destroy(&flash);
}

static void test_sizes_round_trip(void)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 4095, 4096, 4097, 20000};
    host_random random;
    uint8_t plain[20000];
    size_t index;

    for (index = 0; index < sizeof(plain); index++)
        plain[index] = (uint8_t)(index * 7 + 3);
    CHECK_EQ_INT(host_random_open(&random, "test"), HOST_EXIT_OK);
    for (index = 0; index < sizeof(sizes) / sizeof(sizes[0]); index++) {
        cellota_fw_info info;
        uint8_t *encrypted;
        memset(&info, 0, sizeof(info));
        CHECK_EQ_INT(operator_package(&random, plain, sizes[index], &info, &encrypted),
                     HOST_EXIT_OK);
        CHECK_EQ_INT(info.plain_size, sizes[index]);
        CHECK_EQ_INT(info.encrypted_size, (sizes[index] / 16 + 1) * 16);
        install_and_compare(plain, sizes[index], &info, encrypted);
        free(encrypted);
    }
    host_random_close(&random);
}

static void test_fresh_key_per_image(void)
{
    host_random random;
    cellota_fw_info first, second;
    uint8_t *one, *two, plain[64] = {0};
    memset(&first, 0, sizeof(first));
    memset(&second, 0, sizeof(second));
    CHECK_EQ_INT(host_random_open(&random, "test"), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_package(&random, plain, sizeof(plain), &first, &one), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_package(&random, plain, sizeof(plain), &second, &two), HOST_EXIT_OK);
    CHECK(memcmp(first.key, second.key, 16) != 0);
    CHECK(memcmp(first.iv, second.iv, 16) != 0);
    CHECK(memcmp(one, two, 64) != 0);
    CHECK_EQ_MEM(first.plain_sha256, second.plain_sha256, 32);
    free(one);
    free(two);
    host_random_close(&random);
}

static void test_security_version(void)
{
    uint32_t value = 0;
    CHECK_EQ_INT(operator_security_version("1.2.3", &value), HOST_EXIT_OK);
    CHECK_EQ_INT(value, 1002003);
    CHECK_EQ_INT(operator_security_version("0.0.0", &value), HOST_EXIT_OK);
    CHECK_EQ_INT(value, 0);
    CHECK_EQ_INT(operator_security_version("2.0.0-rc.1+build.5", &value), HOST_EXIT_OK);
    CHECK_EQ_INT(value, 2000000);
    CHECK_EQ_INT(operator_security_version("4293.999.999", &value), HOST_EXIT_OK);
    CHECK_EQ_INT(value, 4293999999u);
    CHECK_EQ_INT(operator_security_version("4295.0.0", &value), HOST_EXIT_USAGE);
    CHECK_EQ_INT(operator_security_version("1.1000.0", &value), HOST_EXIT_USAGE);
    CHECK_EQ_INT(operator_security_version("1.0.1000", &value), HOST_EXIT_USAGE);
    CHECK_EQ_INT(operator_security_version("1.2", &value), HOST_EXIT_USAGE);
    CHECK_EQ_INT(operator_security_version("v1.2.3", &value), HOST_EXIT_USAGE);
}

int main(void)
{
    RUN(test_nist_vector);
    RUN(test_sizes_round_trip);
    RUN(test_fresh_key_per_image);
    RUN(test_security_version);
    return test_summary();
}
