/*
 * Per-device key wrapping (image/key_wrap.h, operator/device_request.h): RFC 3394's own test
 * vector, the host's wrap against the device's unwrap, and every way a wrapped key must fail
 * -- another device's key, another device id, an altered byte, an ephemeral key off the curve;
 * then whole per-device requests: key zeroed in fw_info, device and wrapped_key signed (v2
 * digest), unchanged v1 digest for requests without them, a patch's encoding and base kept.
 */
#include "test.h"

#include "common/cli.h"
#include "common/hex.h"
#include "common/random.h"
#include "core/error.h"
#include "image/key_wrap.h"
#include "image/request.h"
#include "operator/device_request.h"
#include "operator/keys.h"

#include <mbedtls/ecp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void from_hex(const char *hex, uint8_t *bytes, size_t size)
{
    CHECK(strlen(hex) == 2 * size && host_hex_decode(hex, strlen(hex), bytes, size));
}

/* RFC 3394 4.1: 128-bit key data with a 128-bit KEK. */
static void test_rfc3394_vector(void)
{
    uint8_t kek[16], key[16], expected[24], wrapped[24], unwrapped[16];
    from_hex("000102030405060708090A0B0C0D0E0F", kek, 16);
    from_hex("00112233445566778899AABBCCDDEEFF", key, 16);
    from_hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5", expected, 24);
    CHECK_EQ_INT(cellota_aes_key_wrap(kek, key, wrapped), CELLOTA_OK);
    CHECK_EQ_MEM(wrapped, expected, 24);
    CHECK_EQ_INT(cellota_aes_key_unwrap(kek, wrapped, unwrapped), CELLOTA_OK);
    CHECK_EQ_MEM(unwrapped, key, 16);
    wrapped[3] ^= 1;
    CHECK_EQ_INT(cellota_aes_key_unwrap(kek, wrapped, unwrapped), CELLOTA_IMAGE_KEY_UNWRAP_FAILED);
    CHECK(memcmp(unwrapped, key, 16) != 0);
}

typedef struct device_keys {
    mbedtls_pk_context pair;
    uint8_t secret[CELLOTA_DEVICE_KEY_SIZE];
    uint8_t point[CELLOTA_PUBLIC_KEY_SIZE];
} device_keys;

static void device_keys_make(device_keys *keys, host_random *random)
{
    mbedtls_pk_init(&keys->pair);
    CHECK_EQ_INT(operator_key_generate(&keys->pair, random), HOST_EXIT_OK);
    CHECK_EQ_INT(operator_key_public_point(&keys->pair, keys->point), HOST_EXIT_OK);
    CHECK_EQ_INT(mbedtls_mpi_write_binary(&mbedtls_pk_ec(keys->pair)->d, keys->secret, 32), 0);
}

static void test_wrap_unwrap(void)
{
    host_random random;
    device_keys a, b;
    uint8_t key[16] = "image key 16 byt", wrapped[CELLOTA_WRAPPED_KEY_SIZE], again[89], out[16];

    CHECK_EQ_INT(host_random_open(&random, "test_key_wrap"), HOST_EXIT_OK);
    device_keys_make(&a, &random);
    device_keys_make(&b, &random);
    CHECK_EQ_INT(operator_key_wrap(a.point, "dev-a", key, &random, wrapped), HOST_EXIT_OK);
    CHECK_EQ_INT(cellota_key_unwrap(a.secret, "dev-a", wrapped, out), CELLOTA_OK);
    CHECK_EQ_MEM(out, key, 16);
    /* a fresh ephemeral key per wrap: two wraps of one key differ */
    CHECK_EQ_INT(operator_key_wrap(a.point, "dev-a", key, &random, again), HOST_EXIT_OK);
    CHECK(memcmp(again, wrapped, sizeof(wrapped)) != 0);
    /* another device's key, another id under the same key, an altered wrap */
    CHECK_EQ_INT(cellota_key_unwrap(b.secret, "dev-a", wrapped, out),
                 CELLOTA_IMAGE_KEY_UNWRAP_FAILED);
    CHECK_EQ_INT(cellota_key_unwrap(a.secret, "dev-b", wrapped, out),
                 CELLOTA_IMAGE_KEY_UNWRAP_FAILED);
    wrapped[80] ^= 0x40;
    CHECK_EQ_INT(cellota_key_unwrap(a.secret, "dev-a", wrapped, out),
                 CELLOTA_IMAGE_KEY_UNWRAP_FAILED);
    wrapped[80] ^= 0x40;
    /* an ephemeral key off the curve (an invalid-curve attack on the device's key) */
    wrapped[40] ^= 1;
    CHECK_EQ_INT(cellota_key_unwrap(a.secret, "dev-a", wrapped, out),
                 CELLOTA_IMAGE_PUBLIC_KEY_INVALID);
    mbedtls_pk_free(&a.pair);
    mbedtls_pk_free(&b.pair);
    host_random_close(&random);
}

static const char release_json[] =
    "{\"type\":\"update_fw\",\"url\":\"http://cdn.example/image.ebin\",\"alt_url\":\"\","
    "\"fw_info\":\"00000000001000000807010010070100"
    "000102030405060708090a0b0c0d0e0f" /* the image key */
    "f0e0d0c0b0a090807060504030201000"
    "1111111111111111111111111111111111111111111111111111111111111111"
    "2222222222222222222222222222222222222222222222222222222222222222\","
    "\"version\":\"1.4.0\",\"id\":\"campaign-9\"}";

/* Changes one character of `json` (at `offset` into the first `text`) and returns what a
 * device's verify says of the request then. */
static int verify_altered(char *json, const char *text, size_t offset, char with,
                          const uint8_t point[CELLOTA_PUBLIC_KEY_SIZE])
{
    cellota_update_request request;
    char *place = strstr(json, text);
    CHECK(place != NULL);
    if (!place)
        return CELLOTA_OK;
    place[offset] = with;
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    return cellota_request_verify(&request, point);
}

static void test_request_for_device(void)
{
    host_random random;
    device_keys device, operator_keys;
    cellota_update_request release, request;
    uint8_t digest_v1[32], digest[32], key[16];
    char *json = NULL;

    CHECK_EQ_INT(host_random_open(&random, "test_key_wrap"), HOST_EXIT_OK);
    device_keys_make(&device, &random);
    device_keys_make(&operator_keys, &random);
    CHECK_EQ_INT(cellota_request_parse(&release, release_json, strlen(release_json)), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_digest(&release, digest_v1), CELLOTA_OK);

    CHECK_EQ_INT(operator_request_for_device(release_json, strlen(release_json), "dev-a",
                                             device.point, &operator_keys.pair, &random, &json),
                 HOST_EXIT_OK);
    CHECK(strstr(json, "000102030405060708090a0b0c0d0e0f") == NULL); /* no clear key */
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    CHECK_EQ_STR(request.device, "dev-a");
    CHECK(request.has_wrapped_key);
    CHECK(memcmp(request.fw_info.key, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
    CHECK_EQ_INT(cellota_request_verify(&request, operator_keys.point), CELLOTA_OK);
    CHECK_EQ_INT(cellota_key_unwrap(device.secret, "dev-a", request.wrapped_key, key), CELLOTA_OK);
    CHECK_EQ_MEM(key, release.fw_info.key, 16);
    /* v2: the device and the wrapped key are signed; without them the v1 digest is unchanged */
    CHECK_EQ_INT(cellota_request_digest(&request, digest), CELLOTA_OK);
    request.device[0] = '\0';
    request.has_wrapped_key = false;
    CHECK_EQ_INT(cellota_request_digest(&request, digest_v1 + 0), CELLOTA_OK);
    CHECK(memcmp(digest, digest_v1, 32) != 0);
    CHECK_EQ_INT(cellota_request_digest(&release, digest), CELLOTA_OK);
    /* the release differs only in fw_info's key, so its digest differs too */
    CHECK(memcmp(digest, digest_v1, 32) != 0);

    /* moved to another device: the signature no longer verifies */
    CHECK_EQ_INT(verify_altered(json, "\"dev-a\"", 5, 'b', operator_keys.point),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);
    free(json);

    /* a request already for one device is not wrapped again */
    CHECK_EQ_INT(operator_request_for_device(release_json, strlen(release_json), "dev-a",
                                             device.point, NULL, &random, &json),
                 HOST_EXIT_OK);
    {
        char *twice = NULL;
        CHECK_EQ_INT(operator_request_for_device(json, strlen(json), "dev-a", device.point, NULL,
                                                 &random, &twice),
                     HOST_EXIT_FAILED);
        CHECK(twice == NULL);
    }
    free(json);
    mbedtls_pk_free(&device.pair);
    mbedtls_pk_free(&operator_keys.pair);
    host_random_close(&random);
}

static void test_bad_wrapped_key_field(void)
{
    char json[1024];
    cellota_update_request request;
    snprintf(json, sizeof(json), "%.*s,\"wrapped_key\":\"abcd\"}", (int)strlen(release_json) - 1,
             release_json);
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)),
                 CELLOTA_IMAGE_REQUEST_BAD_WRAPPED_KEY);
    snprintf(json, sizeof(json), "%.*s,\"device\":\"%s\"}", (int)strlen(release_json) - 1,
             release_json, "a-device-id-that-is-longer-than-32-characters");
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)),
                 CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG);
}

/* A patch release made for one device stays a patch from the same base: its encoding and base
 * are kept and signed with the device and the wrapped key (the one v2, image/request.h). */
static void test_patch_for_device(void)
{
    host_random random;
    device_keys device, operator_keys;
    cellota_update_request release, request;
    char patch_json[1024], *json = NULL;

    CHECK_EQ_INT(host_random_open(&random, "test_key_wrap patch"), HOST_EXIT_OK);
    device_keys_make(&device, &random);
    device_keys_make(&operator_keys, &random);
    snprintf(patch_json, sizeof(patch_json),
             "%.*s,\"encoding\":\"patch\",\"base\":\"4096:%s\"}", (int)strlen(release_json) - 1,
             release_json, "3333333333333333333333333333333333333333333333333333333333333333");
    CHECK_EQ_INT(cellota_request_parse(&release, patch_json, strlen(patch_json)), CELLOTA_OK);
    CHECK_EQ_INT(operator_request_for_device(patch_json, strlen(patch_json), "dev-a",
                                             device.point, &operator_keys.pair, &random, &json),
                 HOST_EXIT_OK);
    CHECK_EQ_INT(cellota_request_parse(&request, json, strlen(json)), CELLOTA_OK);
    CHECK_EQ_INT(request.encoding, release.encoding);
    CHECK_EQ_INT(request.base_size, 4096);
    CHECK_EQ_MEM(request.base_sha256, release.base_sha256, 32);
    CHECK_EQ_STR(request.device, "dev-a");
    CHECK(request.has_wrapped_key);
    CHECK_EQ_INT(cellota_request_verify(&request, operator_keys.point), CELLOTA_OK);
    /* another base under the same signature: refused */
    CHECK_EQ_INT(verify_altered(json, "\"4096:", 1, '5', operator_keys.point),
                 CELLOTA_IMAGE_SIGNATURE_INVALID);
    free(json);
    mbedtls_pk_free(&device.pair);
    mbedtls_pk_free(&operator_keys.pair);
    host_random_close(&random);
}

int main(void)
{
    RUN(test_rfc3394_vector);
    RUN(test_wrap_unwrap);
    RUN(test_request_for_device);
    RUN(test_bad_wrapped_key_field);
    RUN(test_patch_for_device);
    return test_summary();
}
