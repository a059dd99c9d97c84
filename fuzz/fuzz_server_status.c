/*
 * libFuzzer target for what cellota-server takes from devices over MQTT: the status message
 * (mqtt_parse_status) and the topic it came on (mqtt_topic_device). The first line of the input
 * is the topic, the rest the payload; the whole input is tried as a payload too. Checks that
 * every field comes out NUL-terminated within its buffer, that a refused message leaves the
 * status zeroed, that an accepted topic gives a valid id, and that parsing is deterministic.
 */
#include "server/mqtt.h"
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

static void check_string(const char *text, size_t capacity)
{
    if (strnlen(text, capacity) >= capacity)
        abort(); /* not terminated within its buffer */
}

static void check_status(const char *payload)
{
    device_status status, again;
    static const device_status zero;
    bool accepted = mqtt_parse_status(payload, &status);

    check_string(status.state, sizeof(status.state));
    check_string(status.version, sizeof(status.version));
    check_string(status.target, sizeof(status.target));
    check_string(status.error_name, sizeof(status.error_name));
    check_string(status.model, sizeof(status.model));
    check_string(status.campaign, sizeof(status.campaign));
    check_string(status.message, sizeof(status.message));
    if (!accepted && memcmp(&status, &zero, sizeof(status)) != 0)
        abort(); /* a refused message must leave nothing behind */
    if (mqtt_parse_status(payload, &again) != accepted || memcmp(&status, &again, sizeof(status)))
        abort();
}

static void check_topic(const char *topic)
{
    static const char *const kinds[] = {"status", "online", "update"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char device[STORAGE_ID_SIZE];
        if (!mqtt_topic_device(topic, kinds[i], device))
            continue;
        check_string(device, sizeof(device));
        size_t length = strlen(device), kind_length = strlen(kinds[i]);
        /* The id is what stood between "cellota/" and "/<kind>", and a name safe to pass on. */
        if (!server_valid_name(device) || strlen(topic) != 8 + length + 1 + kind_length ||
            strncmp(topic, "cellota/", 8) != 0 || memcmp(topic + 8, device, length) != 0 ||
            topic[8 + length] != '/' || strcmp(topic + 9 + length, kinds[i]) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NUL-terminated private copies (the server hands both on as C strings), exactly sized so
     * reading past them is caught by AddressSanitizer. */
    const uint8_t *newline = memchr(data, '\n', size);
    size_t topic_size = newline ? (size_t)(newline - data) : size;
    char *whole = malloc(size + 1), *topic = malloc(topic_size + 1);

    memcpy(whole, data, size);
    whole[size] = '\0';
    memcpy(topic, data, topic_size);
    topic[topic_size] = '\0';
    check_topic(topic);
    check_status(newline ? whole + topic_size + 1 : whole);
    if (newline)
        check_status(whole);
    free(topic);
    free(whole);
    return 0;
}
