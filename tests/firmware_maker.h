/*
 * Real-shaped firmware pairs for delta tests, reproducible from a seed: Thumb-2-like code made
 * of functions with BL calls between them (PC-relative offsets) and literal pools of absolute
 * addresses, laid out back to back from a load address. A "next release" inserts a function,
 * rewrites one and drops another, so everything after the change moves and every reference
 * into moved code changes -- what a real rebuild does to a binary, and what a patch format
 * must carry cheaply. Header-only: tests and fuzz targets share it.
 */
#ifndef CELLOTA_TESTS_FIRMWARE_MAKER_H
#define CELLOTA_TESTS_FIRMWARE_MAKER_H

#include "image_maker.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRMWARE_LOAD_ADDRESS 0x08008000u
#define FIRMWARE_FUNCTIONS_MAX 1024

typedef struct firmware_function {
    uint32_t id;   /* what calls and pointers name; stable across releases */
    uint32_t size; /* bytes, even */
    uint64_t seed; /* its instructions */
} firmware_function;

typedef struct firmware_plan {
    firmware_function functions[FIRMWARE_FUNCTIONS_MAX];
    size_t count;
    uint32_t ids; /* ids handed out so far */
} firmware_plan;

static inline void firmware_plan_make(firmware_plan *plan, size_t count, uint64_t seed)
{
    size_t index;
    memset(plan, 0, sizeof(*plan));
    for (index = 0; index < count && index < FIRMWARE_FUNCTIONS_MAX; index++) {
        firmware_function *function = &plan->functions[index];
        function->id = plan->ids++;
        function->size = (uint32_t)(24 + test_random(&seed) % 400) & ~1u;
        function->seed = test_random(&seed);
    }
    plan->count = index;
}

/* The next release: a new function at `insert`, function `rewrite` recompiled, `drop` gone. */
static inline void firmware_plan_next(firmware_plan *plan, size_t insert, size_t rewrite,
                                      size_t drop, uint64_t seed)
{
    firmware_function added;
    added.id = plan->ids++;
    added.size = (uint32_t)(64 + test_random(&seed) % 300) & ~1u;
    added.seed = test_random(&seed);
    if (rewrite < plan->count)
        plan->functions[rewrite].seed ^= test_random(&seed) | 1;
    if (drop < plan->count) {
        memmove(&plan->functions[drop], &plan->functions[drop + 1],
                (plan->count - drop - 1) * sizeof(added));
        plan->count--;
    }
    if (insert > plan->count)
        insert = plan->count;
    if (plan->count < FIRMWARE_FUNCTIONS_MAX) {
        memmove(&plan->functions[insert + 1], &plan->functions[insert],
                (plan->count - insert) * sizeof(added));
        plan->functions[insert] = added;
        plan->count++;
    }
}

/* Lays the plan out into a malloc'd image; returns its size. */
static inline uint32_t firmware_build(const firmware_plan *plan, uint8_t **out)
{
    uint32_t *address = calloc(plan->ids + 1, sizeof(uint32_t)), total = 0, at;
    uint16_t vocabulary[64];
    uint64_t words = 0x5eed;
    size_t index;
    uint8_t *image;

    for (index = 0; index < 64; index++)
        vocabulary[index] = (uint16_t)test_random(&words);
    for (index = 0; index < plan->count; index++) {
        address[plan->functions[index].id] = FIRMWARE_LOAD_ADDRESS + total;
        total += plan->functions[index].size;
    }
    image = malloc(total ? total : 1);
    for (index = 0, at = 0; index < plan->count; index++) {
        const firmware_function *function = &plan->functions[index];
        uint64_t state = function->seed;
        uint32_t pool = 4 * (1 + (uint32_t)(state % 3)), code = function->size - pool, offset;
        for (offset = 0; offset < code;) {
            uint64_t choice = test_random(&state);
            uint32_t pc = FIRMWARE_LOAD_ADDRESS + at + offset;
            if (choice % 8 == 0 && offset + 4 <= code) {
                /* BL to another function: a signed halfword offset in two halves. */
                const firmware_function *callee =
                    &plan->functions[(choice >> 8) % plan->count];
                int32_t relative = (int32_t)(address[callee->id] - (pc + 4)) / 2;
                uint16_t high = (uint16_t)(0xF000 | ((uint32_t)(relative >> 11) & 0x7FF));
                uint16_t low = (uint16_t)(0xF800 | ((uint32_t)relative & 0x7FF));
                image[at + offset] = (uint8_t)high;
                image[at + offset + 1] = (uint8_t)(high >> 8);
                image[at + offset + 2] = (uint8_t)low;
                image[at + offset + 3] = (uint8_t)(low >> 8);
                offset += 4;
            } else {
                uint16_t word = vocabulary[(choice >> 16) % 64];
                image[at + offset] = (uint8_t)word;
                image[at + offset + 1] = (uint8_t)(word >> 8);
                offset += 2;
            }
        }
        for (offset = code; offset + 4 <= function->size; offset += 4) {
            /* A literal pool entry: a function pointer (Thumb bit set). */
            const firmware_function *target =
                &plan->functions[test_random(&state) % plan->count];
            uint32_t pointer = address[target->id] | 1u;
            image[at + offset] = (uint8_t)pointer;
            image[at + offset + 1] = (uint8_t)(pointer >> 8);
            image[at + offset + 2] = (uint8_t)(pointer >> 16);
            image[at + offset + 3] = (uint8_t)(pointer >> 24);
        }
        at += function->size;
    }
    free(address);
    *out = image;
    return total;
}

#endif
