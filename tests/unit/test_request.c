/* The update request: seed 002's ota.json, cellota's additions, each error, the canonical digest.
 */
#include "test.h"

#include "core/error.h"
#include "image/request.h"

#include <ctype.h>

#include <mbedtls/sha256.h>

#define SEED_FW_INFO                                                                               \
    "0000000000100000b8070100c0070100000102030405060708090a0b0c0d0e0f00112233445566778899aabbcc"   \
    "ddeeffba40d96777aeaf3901e3d3eb7db8b9939938c981e18286bd61b3350d00ff6816dd10918635ca7bf00c3d"   \
    "afe76f2a280891f107f4569b11b5d732d630819abebf"

/* Listing-1 of seed 002 exactly as printed (its trailing spaces included), inside the braces
 * the article leaves out. */
static const char seed_request[] = "{\n"
                                   "    \"type\": \"update_fw\",\n"
                                   "    \"url\": \"\",\n"
                                   "    \"alt_url\": \"http://host.any/image.ebin\",    \n"
                                   "    \"fw_info\": \"" SEED_FW_INFO "\"\n"
                                   "}\n";

static cellota_update_request request;

static int parse(const char *json)
{
    return cellota_request_parse(&request, json, strlen(json));
}

static void test_seed_request(void)
{
    CHECK_EQ_INT(parse(seed_request), CELLOTA_OK);
    CHECK_EQ_STR(request.type, "update_fw");
    CHECK_EQ_STR(request.url, "");
    CHECK_EQ_STR(request.alt_url, "http://host.any/image.ebin");
    CHECK_EQ_STR(request.version, "");
    CHECK_EQ_STR(request.id, "");
    CHECK(!request.has_signature);
    CHECK_EQ_INT(request.fw_info.version, 0);
    CHECK_EQ_INT(request.fw_info.load_address, 0x1000);
    CHECK_EQ_INT(request.fw_info.plain_size, 67512);
    CHECK_EQ_INT(request.fw_info.encrypted_size, 67520);
    CHECK_EQ_INT(request.fw_info.key[15], 0x0f);
    CHECK_EQ_INT(request.fw_info.iv[15], 0xff);
}

static void test_cellota_fields(void)
{
    static const char json[] =
        "{\"id\":\"campaign-7\",\"version\":\"2.1.0-rc.1+build.5\",\"type\":\"update_fw\","
        "\"url\":\"https://cdn.example.com/images/ab.ebin\",\"alt_url\":\"\","
        "\"future\":{\"nested\":[1,2.5,{\"x\":null}],\"flag\":true},\"count\":5,"
        "\"fw_info\":\"" SEED_FW_INFO "\",\"sig\":\""
        "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\"}";
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_STR(request.id, "campaign-7");
    CHECK_EQ_STR(request.version, "2.1.0-rc.1+build.5");
    CHECK_EQ_STR(request.url, "https://cdn.example.com/images/ab.ebin");
    CHECK_EQ_STR(request.alt_url, "");
    CHECK(request.has_signature);
    CHECK_EQ_INT(request.signature[0], 0);
    CHECK_EQ_INT(request.signature[10], 10);
    CHECK_EQ_INT(request.signature[63], 63);
    /* Escapes in names and values are resolved. */
    CHECK_EQ_INT(parse("{\"\\u0074ype\":\"update\\u005ffw\",\"url\":\"http:\\/\\/h\\/i\","
                       "\"fw_info\":\"" SEED_FW_INFO "\"}"),
                 CELLOTA_OK);
    CHECK_EQ_STR(request.url, "http://h/i");
}

/* Parses "{" members "}". */
static int parse_members(const char *members)
{
    char json[8192];
    snprintf(json, sizeof(json), "{%s}", members);
    return parse(json);
}

#define FW "\"fw_info\":\"" SEED_FW_INFO "\""
#define TYPE "\"type\":\"update_fw\""

static void test_errors(void)
{
    char long_value[600], json[1200];
    size_t index;

    CHECK_EQ_INT(parse("{\"type\":\"update_fw\""), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(parse(""), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(parse("[\"type\",\"update_fw\"]"), CELLOTA_IMAGE_REQUEST_NOT_OBJECT);
    CHECK_EQ_INT(parse("\"update_fw\""), CELLOTA_IMAGE_REQUEST_NOT_OBJECT);
    CHECK_EQ_INT(parse("null"), CELLOTA_IMAGE_REQUEST_NOT_OBJECT);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"x\":[[[[[[[[1]]]]]]]]"),
                 CELLOTA_JSON_TOO_DEEP);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"x\":[[[[[[[1]]]]]]]"), CELLOTA_OK);
    CHECK_EQ_INT(parse_members(TYPE
                               ",\"url\":\"a\"," FW
                               ",\"x\":[0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,"
                               "9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9]"),
                 CELLOTA_JSON_TOO_LARGE);

    /* Longer than a device takes, even though it is white space. */
    {
        char *huge = malloc(CELLOTA_REQUEST_JSON_MAX + 2);
        memset(huge, ' ', CELLOTA_REQUEST_JSON_MAX + 1);
        memcpy(huge, seed_request, strlen(seed_request));
        huge[CELLOTA_REQUEST_JSON_MAX + 1] = '\0';
        CHECK_EQ_INT(parse(huge), CELLOTA_JSON_TOO_LARGE);
        huge[CELLOTA_REQUEST_JSON_MAX] = '\0';
        CHECK_EQ_INT(parse(huge), CELLOTA_OK);
        free(huge);
    }

    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\",\"url\":\"b\"," FW),
                 CELLOTA_IMAGE_REQUEST_DUPLICATE_KEY);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"x\":1,\"\\u0078\":2"),
                 CELLOTA_IMAGE_REQUEST_DUPLICATE_KEY);

    CHECK_EQ_INT(parse_members(TYPE ",\"url\":5," FW), CELLOTA_IMAGE_REQUEST_FIELD_TYPE);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\",\"fw_info\":null"),
                 CELLOTA_IMAGE_REQUEST_FIELD_TYPE);
    CHECK_EQ_INT(parse_members("\"type\":[\"update_fw\"],\"url\":\"a\"," FW),
                 CELLOTA_IMAGE_REQUEST_FIELD_TYPE);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"sig\":false"),
                 CELLOTA_IMAGE_REQUEST_FIELD_TYPE);

    /* Each string at its limit fits; one more byte does not. */
    memset(long_value, 'u', sizeof(long_value));
    long_value[CELLOTA_REQUEST_URL_MAX] = '\0';
    snprintf(json, sizeof(json), TYPE ",\"url\":\"%s\"," FW, long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_OK);
    CHECK_EQ_INT(strlen(request.url), CELLOTA_REQUEST_URL_MAX);
    long_value[CELLOTA_REQUEST_URL_MAX] = 'u';
    long_value[CELLOTA_REQUEST_URL_MAX + 1] = '\0';
    snprintf(json, sizeof(json), TYPE ",\"alt_url\":\"%s\"," FW, long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG);
    long_value[CELLOTA_REQUEST_ID_MAX + 1] = '\0';
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\"," FW ",\"id\":\"%s\"", long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG);
    long_value[CELLOTA_REQUEST_ID_MAX] = '\0';
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\"," FW ",\"id\":\"%s\"", long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_OK);
    /* A 2-byte character counts as 2 bytes of the limit. */
    long_value[CELLOTA_REQUEST_ID_MAX - 1] = '\0';
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\"," FW ",\"id\":\"%s\\u00e9\"", long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG);
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\"," FW ",\"version\":\"1.0.0-%s\"", long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_REQUEST_FIELD_TOO_LONG);

    CHECK_EQ_INT(parse_members("\"url\":\"a\"," FW), CELLOTA_IMAGE_REQUEST_BAD_TYPE);
    CHECK_EQ_INT(parse_members("\"type\":\"update_cfg\",\"url\":\"a\"," FW),
                 CELLOTA_IMAGE_REQUEST_BAD_TYPE);
    CHECK_EQ_INT(parse_members("\"type\":\"update_fw_and_more_than_fits\",\"url\":\"a\"," FW),
                 CELLOTA_IMAGE_REQUEST_BAD_TYPE);
    CHECK_EQ_INT(parse_members("\"type\":\"\",\"url\":\"a\"," FW), CELLOTA_IMAGE_REQUEST_BAD_TYPE);

    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\""), CELLOTA_IMAGE_REQUEST_NO_FW_INFO);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\",\"fw_info\":\"00\""),
                 CELLOTA_IMAGE_FW_INFO_HEX);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\",\"fw_info\":\"" SEED_FW_INFO "00\""),
                 CELLOTA_IMAGE_FW_INFO_HEX);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\",\"fw_info\":\"" SEED_FW_INFO
                                    "0000000000000000000000000000000000000000000000000000000000\""),
                 CELLOTA_IMAGE_FW_INFO_HEX);
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\",\"fw_info\":\"%s\"", SEED_FW_INFO);
    json[strlen(TYPE ",\"url\":\"a\",\"fw_info\":\"") + 50] = 'x';
    CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_FW_INFO_HEX);
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\",\"fw_info\":\"%s\"", SEED_FW_INFO);
    json[strlen(TYPE ",\"url\":\"a\",\"fw_info\":\"") + 24] = '1'; /* encrypted size 67536 */
    CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_FW_INFO_SIZES);

    CHECK_EQ_INT(parse_members(TYPE "," FW), CELLOTA_IMAGE_REQUEST_NO_URL);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"\",\"alt_url\":\"\"," FW),
                 CELLOTA_IMAGE_REQUEST_NO_URL);

    memset(long_value, 'a', 130);
    for (index = 127; index <= 129; index += 2) {
        long_value[index] = '\0';
        snprintf(json, sizeof(json), TYPE ",\"url\":\"a\"," FW ",\"sig\":\"%s\"", long_value);
        CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_REQUEST_BAD_SIGNATURE_FORMAT);
        long_value[index] = 'a';
    }
    long_value[128] = '\0';
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\"," FW ",\"sig\":\"%s\"", long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_OK);
    long_value[77] = 'z';
    snprintf(json, sizeof(json), TYPE ",\"url\":\"a\"," FW ",\"sig\":\"%s\"", long_value);
    CHECK_EQ_INT(parse_members(json), CELLOTA_IMAGE_REQUEST_BAD_SIGNATURE_FORMAT);
    CHECK(!request.has_signature);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"sig\":\"\""),
                 CELLOTA_IMAGE_REQUEST_BAD_SIGNATURE_FORMAT);

    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"version\":\"1.0\""),
                 CELLOTA_IMAGE_SEMVER_INVALID);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"version\":\"99999999999.0.0\""),
                 CELLOTA_IMAGE_SEMVER_TOO_LONG);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"version\":\"\""), CELLOTA_OK);

    /* A control character cannot hide in a value, escaped or not. */
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\\nb\"," FW), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\nb\"," FW), CELLOTA_JSON_INVALID);
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\\u0000b\"," FW), CELLOTA_JSON_INVALID);
    /* ...but an unknown member may hold one: it is never read. */
    CHECK_EQ_INT(parse_members(TYPE ",\"url\":\"a\"," FW ",\"note\":\"x\\ny\""), CELLOTA_OK);
}

static void hex_line(char *out, size_t size, const char *fw_info)
{
    snprintf(out, size, "cellota-request-v1\nupdate_fw\n\nhttp://host.any/image.ebin\n%s\n\n\n",
             fw_info);
}

static void test_digest(void)
{
    char canonical[512], upper[CELLOTA_FW_INFO_HEX_LENGTH + 1], json[1024];
    uint8_t expected[32], digest[32], other[32];
    size_t index;

    CHECK_EQ_INT(parse(seed_request), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_digest(&request, digest), CELLOTA_OK);
    hex_line(canonical, sizeof(canonical), SEED_FW_INFO);
    mbedtls_sha256_ret((const unsigned char *)canonical, strlen(canonical), expected, 0);
    CHECK_EQ_MEM(digest, expected, 32);

    /* fw_info in upper case is the same request: the digest uses lowercase hex. */
    for (index = 0; index < CELLOTA_FW_INFO_HEX_LENGTH; index++)
        upper[index] = (char)toupper((unsigned char)SEED_FW_INFO[index]);
    upper[CELLOTA_FW_INFO_HEX_LENGTH] = '\0';
    snprintf(json, sizeof(json),
             "{\"alt_url\":\"http://host.any/image.ebin\",\"fw_info\":\"%s\",\"url\":\"\","
             "\"type\":\"update_fw\",\"unknown\":1}",
             upper);
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_digest(&request, other), CELLOTA_OK);
    CHECK_EQ_MEM(other, expected, 32);

    /* Moving the URL from alt_url to url changes what is signed. */
    snprintf(json, sizeof(json),
             "{\"url\":\"http://host.any/image.ebin\",\"fw_info\":\"%s\",\"type\":\"update_fw\"}",
             SEED_FW_INFO);
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_digest(&request, other), CELLOTA_OK);
    CHECK(memcmp(other, expected, 32) != 0);

    /* version and id are covered, in that order. */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"alt_url\":\"http://host.any/image.ebin\",\"fw_info\":"
             "\"%s\",\"version\":\"1.2.3\",\"id\":\"c1\"}",
             SEED_FW_INFO);
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_digest(&request, other), CELLOTA_OK);
    snprintf(canonical, sizeof(canonical),
             "cellota-request-v1\nupdate_fw\n\nhttp://host.any/image.ebin\n%s\n1.2.3\nc1\n",
             SEED_FW_INFO);
    mbedtls_sha256_ret((const unsigned char *)canonical, strlen(canonical), expected, 0);
    CHECK_EQ_MEM(other, expected, 32);
}

/* Compressed images and patches: encoding and base, their errors, and the v2 canonical bytes. */
static void test_encoded_requests(void)
{
    /* The seed's fw_info with a 4096-byte stream: a plain image could not have these sizes. */
    char fw_info[CELLOTA_FW_INFO_HEX_LENGTH + 1], json[1024], canonical[1024];
    static const char base[] =
        "294196:c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a75431";
    static const char *bad[] = {
        "294196c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a75431",
        ":c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a75431",
        "0294196:c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a75431",
        "4294967296:c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a75431",
        "294196:c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a7543",
        "294196:c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a7543x",
        "294196:c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a754310",
    };
    uint8_t digest[32], expected[32];
    size_t index;

    memcpy(fw_info, SEED_FW_INFO, sizeof(fw_info));
    memcpy(fw_info + 24, "00100000", 8);
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\","
             "\"version\":\"1.2.3\",\"encoding\":\"patch\",\"base\":\"%s\"}",
             fw_info, base);
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_INT(request.encoding, 2);
    CHECK_EQ_INT(request.base_size, 294196);
    CHECK_EQ_INT(request.base_sha256[0], 0xc3);
    CHECK_EQ_INT(request.base_sha256[31], 0x31);
    CHECK_EQ_INT(request.fw_info.encrypted_size, 4096);
    CHECK_EQ_INT(cellota_request_digest(&request, digest), CELLOTA_OK);
    snprintf(canonical, sizeof(canonical),
             "cellota-request-v2\nupdate_fw\nhttp://h/i\n\n%s\n1.2.3\n\npatch\n%s\n\n\n", fw_info,
             base);
    mbedtls_sha256_ret((const unsigned char *)canonical, strlen(canonical), expected, 0);
    CHECK_EQ_MEM(digest, expected, 32);

    /* Without its encoding the same fw_info is a plain image's, and wrong. */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\"}", fw_info);
    CHECK_EQ_INT(parse(json), CELLOTA_IMAGE_FW_INFO_SIZES);
    /* Compressed: no base. */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\","
             "\"encoding\":\"compressed\"}",
             fw_info);
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_INT(request.encoding, 1);
    CHECK_EQ_INT(cellota_request_digest(&request, digest), CELLOTA_OK);
    snprintf(canonical, sizeof(canonical),
             "cellota-request-v2\nupdate_fw\nhttp://h/i\n\n%s\n\n\ncompressed\n\n\n\n", fw_info);
    mbedtls_sha256_ret((const unsigned char *)canonical, strlen(canonical), expected, 0);
    CHECK_EQ_MEM(digest, expected, 32);
    /* An empty encoding is the plain image. */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\","
             "\"encoding\":\"\"}",
             SEED_FW_INFO);
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_INT(request.encoding, 0);

    /* Errors. */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"u\",\"fw_info\":\"%s\",\"encoding\":\"lzma\"}",
             fw_info);
    CHECK_EQ_INT(parse(json), CELLOTA_IMAGE_REQUEST_BAD_ENCODING);
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"u\",\"fw_info\":\"%s\",\"encoding\":\"patch\"}",
             fw_info);
    CHECK_EQ_INT(parse(json), CELLOTA_IMAGE_REQUEST_BAD_BASE); /* a patch without its base */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"u\",\"fw_info\":\"%s\","
             "\"encoding\":\"compressed\",\"base\":\"%s\"}",
             fw_info, base);
    CHECK_EQ_INT(parse(json), CELLOTA_IMAGE_REQUEST_BAD_BASE); /* a base for no patch */
    for (index = 0; index < sizeof(bad) / sizeof(bad[0]); index++) {
        snprintf(json, sizeof(json),
                 "{\"type\":\"update_fw\",\"url\":\"u\",\"fw_info\":\"%s\","
                 "\"encoding\":\"patch\",\"base\":\"%s\"}",
                 fw_info, bad[index]);
        CHECK_EQ_INT(parse(json), CELLOTA_IMAGE_REQUEST_BAD_BASE);
    }
    /* An encoded fw_info still needs whole blocks and room for a stream. */
    memcpy(fw_info + 24, "50000000", 8); /* 80 bytes */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"u\",\"fw_info\":\"%s\","
             "\"encoding\":\"compressed\"}",
             fw_info);
    CHECK_EQ_INT(parse(json), CELLOTA_IMAGE_FW_INFO_SIZES);
}

/* Parses `json` and checks its digest is the SHA-256 of `canonical`. */
static void check_canonical(const char *json, const char *canonical)
{
    uint8_t digest[32], expected[32];
    CHECK_EQ_INT(parse(json), CELLOTA_OK);
    CHECK_EQ_INT(cellota_request_digest(&request, digest), CELLOTA_OK);
    mbedtls_sha256_ret((const unsigned char *)canonical, strlen(canonical), expected, 0);
    CHECK_EQ_MEM(digest, expected, 32);
}

/* The one v2: encoding, base, device and wrapped_key follow id's line, in that order, each its
 * value or empty, whenever any of them is present. */
static void test_v2_canonical_bytes(void)
{
    char fw_info[CELLOTA_FW_INFO_HEX_LENGTH + 1], wrapped[2 * CELLOTA_WRAPPED_KEY_SIZE + 1];
    char json[2048], canonical[2048];
    static const char base[] =
        "294196:c3a35aac165c75ac5cfb2938ce1253258b9602ab51c128cd3b28dddc85a75431";
    size_t index;

    for (index = 0; index < 2 * CELLOTA_WRAPPED_KEY_SIZE; index++)
        wrapped[index] = "0123456789abcdef"[(index * 7) % 16];
    wrapped[2 * CELLOTA_WRAPPED_KEY_SIZE] = '\0';
    memcpy(fw_info, SEED_FW_INFO, sizeof(fw_info));
    memcpy(fw_info + 24, "00100000", 8); /* a 4096-byte stream: an encoded image's sizes */

    /* all four, the members in another order than the lines */
    snprintf(json, sizeof(json),
             "{\"wrapped_key\":\"%s\",\"device\":\"dev-7\",\"base\":\"%s\","
             "\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\","
             "\"version\":\"1.2.3\",\"id\":\"c9\",\"encoding\":\"patch\"}",
             wrapped, base, fw_info);
    snprintf(canonical, sizeof(canonical),
             "cellota-request-v2\nupdate_fw\nhttp://h/i\n\n%s\n1.2.3\nc9\npatch\n%s\ndev-7\n%s\n",
             fw_info, base, wrapped);
    check_canonical(json, canonical);

    /* device alone: v2 with empty encoding, base and wrapped_key lines */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\","
             "\"device\":\"dev-7\"}",
             SEED_FW_INFO);
    snprintf(canonical, sizeof(canonical),
             "cellota-request-v2\nupdate_fw\nhttp://h/i\n\n%s\n\n\n\n\ndev-7\n\n", SEED_FW_INFO);
    check_canonical(json, canonical);

    /* a wrapped key alone, with a compressed image */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\","
             "\"encoding\":\"compressed\",\"wrapped_key\":\"%s\"}",
             fw_info, wrapped);
    snprintf(canonical, sizeof(canonical),
             "cellota-request-v2\nupdate_fw\nhttp://h/i\n\n%s\n\n\ncompressed\n\n\n%s\n", fw_info,
             wrapped);
    check_canonical(json, canonical);

    /* empty device and encoding are absent ones: v1 */
    snprintf(json, sizeof(json),
             "{\"type\":\"update_fw\",\"url\":\"http://h/i\",\"fw_info\":\"%s\","
             "\"device\":\"\",\"encoding\":\"\"}",
             SEED_FW_INFO);
    snprintf(canonical, sizeof(canonical), "cellota-request-v1\nupdate_fw\nhttp://h/i\n\n%s\n\n\n",
             SEED_FW_INFO);
    check_canonical(json, canonical);
}

int main(void)
{
    RUN(test_seed_request);
    RUN(test_cellota_fields);
    RUN(test_errors);
    RUN(test_digest);
    RUN(test_encoded_requests);
    RUN(test_v2_canonical_bytes);
    return test_summary();
}
