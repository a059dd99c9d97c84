/* The small helpers every part of the server shares (server.h). */
#include "server.h"

#include "revoked.h"

#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void api_error_set(api_error *error, int status, const char *name, const char *format, ...)
{
    va_list list;
    error->status = status;
    snprintf(error->name, sizeof(error->name), "%s", name);
    va_start(list, format);
    vsnprintf(error->message, sizeof(error->message), format, list);
    va_end(list);
}

bool server_valid_name(const char *text)
{
    size_t length = strlen(text);
    if (length == 0 || length > 32)
        return false;
    for (const char *c = text; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return false;
    return true;
}

bool server_device_revoked(server *self, const char *id)
{
    return self->revocations && revocations_device(self->revocations, id);
}

void server_add_time(cJSON *object, const char *name, int64_t seconds)
{
    char text[32];
    if (seconds == 0) {
        cJSON_AddNullToObject(object, name);
        return;
    }
    server_time_text(seconds, text);
    cJSON_AddStringToObject(object, name, text);
}

int64_t server_now(void)
{
    return (int64_t)time(NULL);
}

void server_time_text(int64_t seconds, char text[32])
{
    struct tm parts;
    time_t value = (time_t)seconds;
    text[0] = '\0';
    if (seconds == 0 || !gmtime_r(&value, &parts))
        return;
    strftime(text, 32, "%Y-%m-%dT%H:%M:%SZ", &parts);
}
