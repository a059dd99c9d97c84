/*
 * The operator's API (docs/server.md): the routes are api_routes (http.h). Here, the parsing of
 * the request bodies it takes, apart from the server, so a fuzz target can reach it.
 */
#ifndef CELLOTA_SERVER_API_H
#define CELLOTA_SERVER_API_H

#include "campaigns.h"
#include "server.h"

#include <cjson/cJSON.h>

#include <stddef.h>

/* A campaign's creation body, parsed: the spec's strings point into `json`. */
typedef struct api_campaign_body {
    campaign_spec spec;
    cJSON *json;
} api_campaign_body;

/* POST /api/campaigns's body into parsed->spec, with the defaults for what it leaves out.
 * 0, or -1 with *error (400 BAD_JSON, BAD_CAMPAIGN, BAD_DEVICE, BAD_STAGES) and nothing to
 * free. What it does not check (the release exists, stages ascend, ids are valid) is left to
 * campaign_create. */
int api_parse_campaign_body(const char *text, size_t size, api_campaign_body *parsed,
                            api_error *error);
void api_campaign_body_free(api_campaign_body *parsed);

/* PUT /api/devices/<id>/tags's body {"tags":[...]} into the stored form ",a,b," ("," for
 * none). 0, or -1 with *error (400 BAD_JSON, BAD_TAG) and tags ",". */
int api_parse_tags(const char *text, size_t size, char tags[STORAGE_TEXT_SIZE], api_error *error);

#endif
