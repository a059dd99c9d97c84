/*
 * The power-fail campaign (powerfail.h). One campaign: a layout, a strategy, an image size.
 *
 *   1. Provision a device: the old application in slot 0, the old bootloader in its region and
 *      as its backup in the staging area, random bytes standing for the MBR / first stage and
 *      the reserved regions, the encrypted images in the modem's file system, the journal.
 *   2. Reference run: the agent updates to the new image with no cut; its N flash operations
 *      (writes in 256-byte program operations, erases per page) are the cut points.
 *   3. For every i in 1..N: the same update with power cut at operation i (torn the way
 *      flash_sim tears), then reset after reset through the first stage and the bootloader
 *      until the device settles. After every boot the harness checks, on its own, that the
 *      started slot holds a known image byte for byte, that the bootloader region holds the old or
 * the new bootloader, and that the first stage and the reserved regions are untouched. Recovered:
 * the device settled on the new image, confirmed (and on the new bootloader).
 *   4. Rollback: the new image fails its self-test (it resets before confirming, or asks for
 *      a rollback); the device must settle back on the old image. Power is cut at every
 *      operation from the moment the failing image first runs.
 *   5. Random runs: up to 5 cuts in one update, some of them clean resets (a watchdog bite
 *      between two flash operations), some with the modem failing reads, a third of them with
 *      the failing image.
 *
 * The harness plays the application: it confirms a new image, resumes a download after a
 * reset, and retries an update that a cut during the trial rolled back.
 */
#include "powerfail.h"

#include "boot/control.h"
#include "core/error.h"
#include "delta/delta.h"
#include "image/pipeline.h"
#include "image_maker.h"
#include "sim_device.h"

#include <inttypes.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOOTS_MAX 40
#define EXTRA_CUTS_MAX 4 /* a random run has 1 + up to 4 cuts */
#define BOOTLOADER_SIZE (12 * 1024)
#define WATCHDOG_MS 4000
#define DOWNLOAD_CHUNK 1024 /* what the agent gets from the network at a time */

typedef enum strategy { STRATEGY_AB, STRATEGY_MODEM, STRATEGY_BOOTLOADER } strategy;
static const char *const strategy_names[] = {"ab", "modem", "bootloader"};

enum known { KNOWN_OLD, KNOWN_NEW, KNOWN_BAD, KNOWN_NONE };
static const char *const modem_names[] = {"old.ebin", "new.ebin", "bad.ebin"};

typedef struct run_plan {
    bool rollback;          /* the new image fails its self-test */
    bool explicit_rollback; /* ... and asks for the rollback (otherwise it resets) */
    uint64_t first_cut;     /* power cut during this flash operation of the run; 0: none */
    unsigned extra_cuts;    /* then this many more, random */
    uint64_t horizon;       /* random cuts land within this many operations */
    unsigned failing_reads; /* the modem fails this many reads first */
    uint64_t seed;
} run_plan;

typedef struct run_result {
    bool settled, correct, bricked;
    char reason[200];
    uint64_t operations, rollback_start, watchdog_bites;
    uint64_t rollback_handoff; /* operations when the first boot after rollback_start began */
    unsigned boots, cuts;
} run_result;

typedef struct tally {
    uint64_t runs, recovered, bricked, failed, cuts, watchdog_bites;
} tally;

/* Loop state that must survive a longjmp: kept in memory, not in registers. */
typedef struct run_state {
    unsigned cuts_left;
    uint64_t random;
    uint64_t start; /* the flash operation count when the run began */
} run_state;

typedef struct campaign {
    const cellota_boot_layout *layout;
    uint8_t encoding; /* of the application images: 0 plain, CELLOTA_DELTA_COMPRESSED, _PATCH */
    cellota_pipeline_encoding pipeline_encoding; /* a patch's base: the old image */
    cellota_pipeline_decoder decoder;
    strategy strategy;
    strategy application_strategy; /* AB or MODEM */
    uint32_t image_size;
    test_image applications[3]; /* old, new, bad (fails its self-test) */
    test_image bootloaders[2];  /* old, new */
    sim_device provisioned, device;
    run_plan plan;      /* of the run under way */
    run_state state;    /* of the run under way */
    run_result *result; /* of the run under way */
    /* Fork mode (see fork_point). */
    bool child;                /* this process is a forked cut point */
    run_result *shared;        /* where a child leaves its result (shared memory) */
    tally *tally;              /* where the sweep under way counts */
    const char *what;          /* and how it names a point */
    uint64_t sweep_after;      /* fork only after this operation */
    bool sweep_after_rollback; /* ... and after the failing image first ran */
    bool sweep_until_handoff;  /* ... until the application hands over to the bootloader */
    uint64_t forked;
} campaign;

/* --- the campaign's images and provisioned device ----------------------------------------- */

static const cellota_boot_region *region_of(const cellota_boot_layout *layout,
                                            cellota_boot_region_kind kind, unsigned index)
{
    return cellota_boot_layout_region(layout, kind, index);
}

static void make_image(test_image *image, uint32_t size, uint64_t seed, uint32_t version,
                       uint32_t load_address)
{
    test_image_make(image, size, seed);
    image->info.version = version;
    image->info.load_address = load_address;
}

static void describe(cellota_boot_image *image, const test_image *from)
{
    cellota_boot_image_from(image, &from->info);
}

/* The new and the failing image as compressed images, or as patches from the old one: each
 * then a release of the old one (code inserted, a region rewritten, bytes changed), so the
 * patch is what a real one is, a fraction of the image. */
static int encode_applications(campaign *c, uint64_t seed, uint32_t load)
{
    const test_image *old = &c->applications[0];
    uint64_t random = seed * 31 + 5;
    size_t index;

    for (index = 1; index < 3; index++) {
        test_image *image = &c->applications[index];
        uint8_t *plain = malloc(c->image_size), *stream = NULL;
        size_t stream_size = 0, at;
        int status;
        memcpy(plain, old->plain, c->image_size);
        at = c->image_size / 3 + index * 1000;
        memmove(plain + at + 600, plain + at, c->image_size - at - 600);
        for (; at < c->image_size / 3 + index * 1000 + 600; at++)
            plain[at] = (uint8_t)test_random(&random);
        for (at = 700 * index; at < c->image_size; at += 1500)
            plain[at] = (uint8_t)(plain[at] + 8);
        status = delta_encode(c->encoding == CELLOTA_DELTA_PATCH ? old->plain : NULL,
                              c->image_size, plain, c->image_size, NULL, &stream, &stream_size);
        if (status == 0) {
            test_image_free(image);
            test_image_make_encoded(image, plain, c->image_size, stream, (uint32_t)stream_size,
                                    seed * 16 + index);
            image->info.version = (uint32_t)index + 1;
            image->info.load_address = load;
        }
        free(plain);
        free(stream);
        if (status != 0)
            return CELLOTA_CRYPTO_FAILED;
    }
    c->pipeline_encoding.kind = c->encoding;
    c->pipeline_encoding.base = &region_of(c->layout, CELLOTA_BOOT_REGION_APPLICATION, 0)->area;
    c->pipeline_encoding.base_size = c->image_size;
    mbedtls_sha256_ret(old->plain, c->image_size, c->pipeline_encoding.base_sha256, 0);
    return CELLOTA_OK;
}

static int provision(campaign *c, uint64_t seed)
{
    const cellota_boot_layout *layout = c->layout;
    const cellota_boot_region *slot0 = region_of(layout, CELLOTA_BOOT_REGION_APPLICATION, 0);
    const cellota_boot_region *bootloader = region_of(layout, CELLOTA_BOOT_REGION_BOOTLOADER, 0);
    const cellota_boot_region *staging =
        region_of(layout, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0);
    sim_device *device = &c->provisioned;
    cellota_boot_image application, boot_image;
    cellota_boot_known modem_image;
    uint32_t load = strncmp(layout->name, "nrf", 3) == 0 ? slot0->area.address : 0;
    uint64_t random = seed;
    size_t index;
    int result;

    for (index = 0; index < 3; index++)
        make_image(&c->applications[index], c->image_size, seed * 16 + index, (uint32_t)index + 1,
                   load);
    if (c->encoding && (result = encode_applications(c, seed, load)) != CELLOTA_OK)
        return result;
    for (index = 0; index < 2; index++)
        make_image(&c->bootloaders[index], BOOTLOADER_SIZE, seed * 16 + 8 + index,
                   (uint32_t)index + 1, bootloader ? bootloader->area.address : 0);

    if ((result = sim_device_create(device, layout)) != CELLOTA_OK ||
        (result = sim_device_create(&c->device, layout)) != CELLOTA_OK)
        return result;
    /* The regions no update may touch get contents, so a stray write or erase shows. */
    for (index = 0; index < layout->region_count; index++) {
        const cellota_boot_region *region = &layout->regions[index];
        if (region->kind == CELLOTA_BOOT_REGION_FIRST_STAGE ||
            region->kind == CELLOTA_BOOT_REGION_RESERVED) {
            uint8_t *bytes = malloc(region->area.size);
            uint32_t at;
            for (at = 0; at < region->area.size; at++)
                bytes[at] = (uint8_t)test_random(&random);
            result =
                sim_device_factory_write(device, region->area.address, bytes, region->area.size);
            free(bytes);
            if (result != CELLOTA_OK)
                return result;
        }
    }
    result = sim_device_factory_write(device, slot0->area.address, c->applications[0].plain,
                                      c->image_size);
    if (result == CELLOTA_OK && bootloader)
        result = sim_device_factory_write(device, bootloader->area.address, c->bootloaders[0].plain,
                                          BOOTLOADER_SIZE);
    if (result == CELLOTA_OK && staging)
        result = sim_device_factory_write(device, staging->area.address, c->bootloaders[0].plain,
                                          BOOTLOADER_SIZE);
    if (result != CELLOTA_OK)
        return result;
    describe(&application, &c->applications[0]);
    describe(&boot_image, &c->bootloaders[0]);
    memset(&modem_image, 0, sizeof(modem_image));
    modem_image.info = c->applications[0].info;
    strcpy(modem_image.name, modem_names[0]);
    result =
        cellota_boot_provision(&device->port, layout, &application, bootloader ? &boot_image : NULL,
                               c->application_strategy == STRATEGY_MODEM ? &modem_image : NULL);
    for (index = 0; result == CELLOTA_OK && index < 3; index++)
        result =
            modem_files_sim_put(&c->device.modem, modem_names[index], c->applications[index].cipher,
                                c->applications[index].cipher_size);
    return result;
}

static void campaign_free(campaign *c)
{
    size_t index;
    for (index = 0; index < 3; index++)
        test_image_free(&c->applications[index]);
    for (index = 0; index < 2; index++)
        test_image_free(&c->bootloaders[index]);
    sim_device_destroy(&c->provisioned);
    sim_device_destroy(&c->device);
}

/* --- what the harness checks on its own, from the flash's bytes --------------------------- */

/* Byte for byte: stronger than a hash, and independent of everything the device computes. */
static bool region_holds(const sim_device *device, uint32_t address, const test_image *image)
{
    const uint8_t *bytes = device->flash.memory + (address - device->flash.geometry.address);
    return memcmp(bytes, image->plain, image->plain_size) == 0;
}

static enum known started_image(const campaign *c, const cellota_boot_decision *decision)
{
    int index;
    for (index = 0; index < 3; index++) {
        if (decision->size == c->applications[index].plain_size &&
            region_holds(&c->device, decision->address, &c->applications[index]))
            return (enum known)index;
    }
    return KNOWN_NONE;
}

static enum known installed_bootloader(const campaign *c)
{
    const cellota_boot_region *region = region_of(c->layout, CELLOTA_BOOT_REGION_BOOTLOADER, 0);
    if (region_holds(&c->device, region->area.address, &c->bootloaders[KNOWN_NEW]))
        return KNOWN_NEW;
    if (region_holds(&c->device, region->area.address, &c->bootloaders[KNOWN_OLD]))
        return KNOWN_OLD;
    return KNOWN_NONE;
}

/* Regions no update may write still hold what the factory put there. */
static bool protected_intact(const campaign *c)
{
    size_t index;
    for (index = 0; index < c->layout->region_count; index++) {
        const cellota_boot_region *region = &c->layout->regions[index];
        uint32_t offset = region->area.address - c->layout->flash.address;
        if ((region->kind == CELLOTA_BOOT_REGION_FIRST_STAGE ||
             region->kind == CELLOTA_BOOT_REGION_RESERVED) &&
            memcmp(c->device.flash.memory + offset, c->provisioned.flash.memory + offset,
                   region->area.size) != 0)
            return false;
    }
    return true;
}

/* --- the application, as the harness plays it --------------------------------------------- */

enum life { LIFE_REBOOT, LIFE_SETTLED, LIFE_FAILED };

/* `bricked`: the device is not running a verified image, or damaged beyond its own repair. */
static enum life fail(run_result *result, bool bricked, const char *what, int code)
{
    result->bricked = bricked;
    snprintf(result->reason, sizeof(result->reason), "%s: %s", what, cellota_error_name(code));
    return LIFE_FAILED;
}

/* Downloads (the rest of) `image` into the pipeline, recording progress, and marks it ready. */
static int download(sim_device *device, cellota_boot_control *control, cellota_pipeline *pipeline,
                    const test_image *image)
{
    uint32_t offset = cellota_pipeline_offset(pipeline);
    int result;
    while (offset < image->cipher_size) {
        uint32_t chunk = image->cipher_size - offset;
        if (chunk > DOWNLOAD_CHUNK)
            chunk = DOWNLOAD_CHUNK;
        if ((result = cellota_pipeline_feed(pipeline, image->cipher + offset, chunk)) != CELLOTA_OK)
            return result;
        offset += chunk;
        device->port.watchdog_kick(device->port.context);
        if ((result = cellota_boot_save_progress(control, pipeline)) != CELLOTA_OK)
            return result;
    }
    if ((result = cellota_pipeline_finish(pipeline)) != CELLOTA_OK)
        return result;
    return cellota_boot_mark_ready(control);
}

/* The application images' encoding for the pipeline; NULL when plain. */
static const cellota_pipeline_encoding *encoding(const campaign *c)
{
    return c->encoding ? &c->pipeline_encoding : NULL;
}

static enum life application(campaign *c, const run_plan *plan, run_result *result,
                             const cellota_boot_decision *decision)
{
    sim_device *device = &c->device;
    enum known running = started_image(c, decision),
               target = plan->rollback ? KNOWN_BAD : KNOWN_NEW;
    const test_image *wanted = &c->applications[target];
    cellota_boot_control control;
    const cellota_boot_state *state;
    cellota_boot_status status;
    cellota_pipeline pipeline;
    int code;

    if (running == KNOWN_NONE)
        return fail(result, true, "started an image that is not a known image", CELLOTA_OK);
    if (region_of(c->layout, CELLOTA_BOOT_REGION_BOOTLOADER, 0) &&
        installed_bootloader(c) == KNOWN_NONE)
        return fail(result, true, "the bootloader region holds neither bootloader", CELLOTA_OK);
    if (!protected_intact(c))
        return fail(result, true, "the first stage or a reserved region was written", CELLOTA_OK);
    if ((code = cellota_boot_control_open(&control, &device->port, c->layout)) != CELLOTA_OK)
        return fail(result, true, "the application cannot read the journal", code);
    cellota_boot_control_status(&control, &status);
    state = cellota_boot_control_state(&control);
    if (status.on_trial != decision->trial || status.running_slot != decision->slot)
        return fail(result, false, "the journal disagrees with what the bootloader started",
                    CELLOTA_OK);

    if (status.on_trial) {
        if (running == KNOWN_BAD) {
            /* The self-test fails. */
            if (!result->rollback_start)
                result->rollback_start = device->flash.operations - c->state.start;
            if (plan->explicit_rollback &&
                (code = cellota_boot_request_rollback(&control, 0)) != CELLOTA_OK)
                return fail(result, false, "request_rollback", code);
            return LIFE_REBOOT;
        }
        if ((code = cellota_boot_confirm(&control)) != CELLOTA_OK)
            return fail(result, false, "confirm", code);
    }

    if (c->strategy == STRATEGY_BOOTLOADER && installed_bootloader(c) != KNOWN_NEW) {
        if (state->operation == CELLOTA_BOOT_OPERATION_BOOTLOADER_COPY)
            return LIFE_REBOOT;
        if (state->operation == CELLOTA_BOOT_OPERATION_STAGING)
            code = cellota_boot_resume_install(&control, &pipeline);
        else
            code = cellota_boot_begin_install(&control, &c->bootloaders[KNOWN_NEW].info,
                                              CELLOTA_BOOT_TARGET_BOOTLOADER, &pipeline);
        if (code == CELLOTA_OK)
            code = download(device, &control, &pipeline, &c->bootloaders[KNOWN_NEW]);
        return code == CELLOTA_OK ? LIFE_REBOOT : fail(result, false, "bootloader staging", code);
    }

    if (running == target)
        return LIFE_SETTLED;
    if (plan->rollback && state->last_error == CELLOTA_BOOT_TRIAL_NOT_CONFIRMED &&
        memcmp(state->images[CELLOTA_BOOT_CANDIDATE].info.plain_sha256, wanted->info.plain_sha256,
               32) == 0)
        return LIFE_SETTLED; /* the agent reports the failure and does not try it again */

    if (state->operation == CELLOTA_BOOT_OPERATION_STAGING) {
        code = cellota_boot_resume_install_encoded(&control, &pipeline, encoding(c),
                                                   &c->decoder);
    } else if (state->operation != CELLOTA_BOOT_OPERATION_NONE) {
        return LIFE_REBOOT; /* the bootloader's to finish */
    } else if (c->application_strategy == STRATEGY_MODEM) {
        code = cellota_boot_stage_modem(&control, &wanted->info, modem_names[target], 0);
        return code == CELLOTA_OK ? LIFE_REBOOT : fail(result, false, "stage_modem", code);
    } else {
        code = cellota_boot_begin_install_encoded(&control, &wanted->info, 0, &pipeline,
                                                  encoding(c), &c->decoder);
    }
    if (code == CELLOTA_OK)
        code = download(device, &control, &pipeline, wanted);
    return code == CELLOTA_OK ? LIFE_REBOOT : fail(result, false, "install", code);
}

/* Is the settled device where it should be? */
static void judge(campaign *c, const run_plan *plan, run_result *result,
                  const cellota_boot_decision *decision)
{
    cellota_boot_control control;
    cellota_boot_status status;
    enum known running = started_image(c, decision);
    const cellota_boot_state *state;

    result->settled = true;
    if (cellota_boot_control_open(&control, &c->device.port, c->layout) != CELLOTA_OK) {
        snprintf(result->reason, sizeof(result->reason), "journal unreadable after settling");
        return;
    }
    cellota_boot_control_status(&control, &status);
    state = cellota_boot_control_state(&control);
    if (plan->rollback) {
        if (running != KNOWN_OLD || status.on_trial ||
            status.last_error != CELLOTA_BOOT_TRIAL_NOT_CONFIRMED ||
            status.security_version != c->applications[KNOWN_OLD].info.version) {
            snprintf(result->reason, sizeof(result->reason),
                     "rollback settled on image %d, trial %d, error %s", (int)running,
                     status.on_trial, cellota_error_name(status.last_error));
            return;
        }
    } else if (running != KNOWN_NEW || status.on_trial ||
               status.security_version != c->applications[KNOWN_NEW].info.version) {
        snprintf(result->reason, sizeof(result->reason),
                 "settled on image %d, trial %d, security version %" PRIu32, (int)running,
                 status.on_trial, status.security_version);
        return;
    }
    if (c->strategy == STRATEGY_BOOTLOADER &&
        (installed_bootloader(c) != KNOWN_NEW ||
         memcmp(state->bootloader.sha256, c->bootloaders[KNOWN_NEW].info.plain_sha256, 32) != 0 ||
         state->bootloader_security_version != c->bootloaders[KNOWN_NEW].info.version)) {
        snprintf(result->reason, sizeof(result->reason), "the new bootloader is not installed");
        return;
    }
    result->correct = true;
}

/* --- one run: an update, with cuts, until the device settles ------------------------------ */

static void schedule_random_cut(sim_device *device, run_state *state, uint64_t horizon)
{
    uint64_t distance = 1 + test_random(&state->random) % (horizon ? horizon : 1);
    /* One in five is a clean reset (a watchdog bite between two flash operations). */
    if (test_random(&state->random) % 5 == 0)
        device->reset_at = device->flash.operations + distance;
    else
        flash_sim_schedule_cut(&device->flash, distance);
}

static void run(campaign *c, run_result *result)
{
    const run_plan *plan = &c->plan;
    sim_device *device = &c->device;
    jmp_buf landing;
    run_state *state = &c->state;
    cellota_boot_decision decision;
    int stage0_result;

    memset(result, 0, sizeof(*result));
    c->result = result;
    state->cuts_left = plan->extra_cuts;
    state->random = plan->seed;
    sim_device_copy_flash(device, &c->provisioned);
    device->now_us = device->last_kick_us = 0;
    device->watchdog_ms = WATCHDOG_MS;
    device->reset_at = 0;
    device->modem.fail_calls = plan->failing_reads;
    device->modem.polls = 0;
    device->watchdog_bites = 0;
    flash_sim_power_on(&device->flash);
    flash_sim_seed(&device->flash, plan->seed);
    state->start = device->flash.operations;
    if (plan->first_cut)
        flash_sim_schedule_cut(&device->flash, plan->first_cut);
    device->landing = &landing;

    if (setjmp(landing) != 0) {
        result->cuts++;
        flash_sim_power_on(&device->flash);
        device->modem.polls = 0;
        if (state->cuts_left > 0) {
            state->cuts_left--;
            schedule_random_cut(device, state, plan->horizon);
        }
    }
    while (result->boots < BOOTS_MAX) {
        enum life life;
        int code;
        result->boots++;
        if (result->rollback_start && !result->rollback_handoff)
            result->rollback_handoff = device->flash.operations - state->start;
        code = sim_device_boot(device, &decision, &stage0_result);
        if (code != CELLOTA_OK) {
            result->bricked = true;
            snprintf(result->reason, sizeof(result->reason), "bootloader: %s (first stage: %s)",
                     cellota_error_name(code), cellota_error_name(stage0_result));
            break;
        }
        life = application(c, plan, result, &decision);
        if (life == LIFE_FAILED)
            break;
        if (life == LIFE_SETTLED) {
            judge(c, plan, result, &decision);
            break;
        }
    }
    device->landing = NULL;
    flash_sim_schedule_cut(&device->flash, 0);
    device->reset_at = 0;
    if (!result->settled && !result->reason[0]) {
        result->bricked = true; /* a boot loop: the device never gets to run its application */
        snprintf(result->reason, sizeof(result->reason), "never settled in %d boots", BOOTS_MAX);
    }
    result->operations = device->flash.operations - state->start;
    result->watchdog_bites = device->watchdog_bites;
    if (c->child) {
        /* A forked cut point: hand the result to the campaign and vanish. */
        *c->shared = *result;
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
}

/* --- the campaign ------------------------------------------------------------------------- */

static void count(tally *t, const run_result *result, const char *what, uint64_t point)
{
    t->runs++;
    t->cuts += result->cuts;
    t->watchdog_bites += result->watchdog_bites;
    if (result->correct) {
        t->recovered++;
        return;
    }
    if (result->bricked)
        t->bricked++;
    else
        t->failed++;
    if (t->bricked + t->failed <= 5)
        fprintf(stderr, "powerfail: %s %" PRIu64 ": %s%s\n", what, point,
                result->bricked ? "BRICKED: " : "", result->reason);
}

/*
 * Fork mode: called before every flash operation of a reference run. The child process is the
 * same device at the same instant: it cuts power during this operation and recovers; the
 * reference goes on uncut in the parent. Equivalent to replaying the update up to the cut
 * (the update is deterministic), without paying for the replay.
 */
static void fork_point(void *user)
{
    campaign *c = user;
    sim_device *device = &c->device;
    uint64_t point = device->flash.operations + 1 - c->state.start;
    int status = 0;
    pid_t child;

    if (c->child || point <= c->sweep_after)
        return;
    if (c->sweep_after_rollback &&
        (!c->result->rollback_start || point <= c->result->rollback_start))
        return;
    if (c->sweep_until_handoff && c->result->rollback_handoff &&
        point > c->result->rollback_handoff)
        return;
    memset(c->shared, 0, sizeof(*c->shared));
    fflush(stdout);
    fflush(stderr);
    child = fork();
    if (child < 0) {
        perror("cellota-sim powerfail: fork");
        exit(1);
    }
    if (child == 0) {
        c->child = true;
        device->before_operation = NULL;
        flash_sim_seed(&device->flash, c->plan.seed * 1000003 + point);
        flash_sim_schedule_cut(&device->flash, 1); /* this very operation */
        return;
    }
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        c->shared->correct = false;
        c->shared->bricked = false;
        snprintf(c->shared->reason, sizeof(c->shared->reason), "the simulation crashed");
    }
    c->forked++;
    count(c->tally, c->shared, c->what, point);
}

/* Runs c->plan once uncut as the reference, and sweeps a cut over its operations: forking at
 * each one, or replaying the update with the cut for each (`replay`). Returns the reference. */
static void sweep(campaign *c, bool replay, tally *t, const char *what, bool after_rollback,
                  bool until_handoff, run_result *reference)
{
    sim_device *device = &c->device;
    uint64_t from, to, point;

    c->tally = t;
    c->what = what;
    c->sweep_after = 0;
    c->sweep_after_rollback = after_rollback;
    c->sweep_until_handoff = until_handoff;
    c->forked = 0;
    if (!replay) {
        device->before_operation = fork_point;
        device->before_operation_user = c;
    }
    run(c, reference);
    device->before_operation = NULL;
    if (!reference->correct || !replay)
        return;
    from = after_rollback ? reference->rollback_start + 1 : 1;
    to = until_handoff ? reference->rollback_handoff : reference->operations;
    for (point = from; point <= to; point++) {
        run_plan plan = c->plan;
        run_result result;
        c->plan.first_cut = point;
        c->plan.seed = plan.seed * 1000003 + point;
        run(c, &result);
        c->plan = plan;
        count(t, &result, what, point);
    }
}

static bool parse_size(const char *text, uint32_t *size)
{
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (end == text)
        return false;
    if (strcmp(end, "KiB") == 0 || strcmp(end, "K") == 0 || strcmp(end, "k") == 0)
        value *= 1024;
    else if (strcmp(end, "MiB") == 0 || strcmp(end, "M") == 0)
        value *= 1024 * 1024;
    else if (*end != '\0')
        return false;
    if (value == 0 || value > UINT32_MAX)
        return false;
    *size = (uint32_t)value;
    return true;
}

void powerfail_usage(void)
{
    size_t index;
    printf("\nusage: cellota-sim powerfail --layout LAYOUT --strategy ab|modem|bootloader\n"
           "                           [--encoding plain|compressed|patch]\n"
           "                            [--image-size SIZE] [--random-runs N] [--seed S]\n"
           "                            [--replay]\n"
           "\n"
           "Updates a simulated device, cutting power at every flash operation of the update\n"
           "in turn (writes in 256-byte program operations, erases per page), at up to 5\n"
           "random points of one update, and during rollbacks; after each cut it reboots\n"
           "through the first stage and the bootloader until the device settles and checks\n"
           "that it runs a verified image, the new one once the update completed.\n"
           "\n"
           "  --layout       ");
    for (index = 0; index < cellota_boot_layout_count; index++)
        printf("%s%s", index ? " | " : "", cellota_boot_layouts[index]->name);
    printf("\n"
           "  --strategy     ab: the agent writes the inactive slot, trial boot, confirm\n"
           "                 modem: the image waits in the modem's file system, the bootloader\n"
           "                        installs it in place page by page under the journal\n"
           "                 bootloader: a new bootloader (staged, switched by the first\n"
           "                        stage), then the application through the layout's own way\n"
           "  --encoding     plain (default), compressed or patch (from the old image): the\n"
           "                 application images as compressed images or patches (ab only)\n"
           "  --image-size   the application image, e.g. 512KiB (default)\n"
           "  --random-runs  random multi-cut runs (default 40)\n"
           "  --seed         seed for images, torn contents and random cuts (default 1)\n"
           "  --replay       replay the update up to each cut point instead of forking the\n"
           "                 simulation at it (slower; the same cuts)\n"
           "\n"
           "Prints one line: powerfail: layout=L strategy=S points=N recovered=N bricked=0 ...\n"
           "Exit status: 0 all recovered, 1 anything bricked or failed, 2 usage or a\n"
           "combination the layout does not support (ab needs two application slots).\n");
}

static int usage_error(const char *message, const char *detail)
{
    fprintf(stderr, "cellota-sim powerfail: %s%s (try --help)\n", message, detail ? detail : "");
    return 2;
}

static int reference_failed(campaign *c, const char *what, const run_result *result)
{
    fprintf(stderr, "cellota-sim powerfail: %s fails with no power cut: %s\n", what,
            result->reason);
    campaign_free(c);
    return 1;
}

int powerfail_main(int argc, char **argv)
{
    static campaign c;
    const char *layout_name = NULL, *strategy_name = NULL, *encoding_name = "plain";
    uint32_t image_size = 512 * 1024;
    unsigned long random_runs = 40;
    uint64_t seed = 1, points, rollback_operations = 0;
    tally updates = {0}, rollbacks = {0}, randoms = {0};
    run_result reference, result;
    struct timespec began, ended;
    bool replay = false;
    int index, code;

    for (index = 1; index < argc; index++) {
        const char *option = argv[index], *value = index + 1 < argc ? argv[index + 1] : NULL;
        if (strcmp(option, "--help") == 0 || strcmp(option, "-h") == 0) {
            powerfail_usage();
            return 0;
        }
        if (strcmp(option, "--replay") == 0) {
            replay = true;
            continue;
        }
        if (!value)
            return usage_error("missing value for ", option);
        index++;
        if (strcmp(option, "--layout") == 0)
            layout_name = value;
        else if (strcmp(option, "--strategy") == 0)
            strategy_name = value;
        else if (strcmp(option, "--encoding") == 0)
            encoding_name = value;
        else if (strcmp(option, "--image-size") == 0) {
            if (!parse_size(value, &image_size))
                return usage_error("bad --image-size ", value);
        } else if (strcmp(option, "--random-runs") == 0)
            random_runs = strtoul(value, NULL, 10);
        else if (strcmp(option, "--seed") == 0)
            seed = strtoull(value, NULL, 10);
        else
            return usage_error("unknown option ", option);
    }
    if (!layout_name || !strategy_name)
        return usage_error("--layout and --strategy are required", NULL);
    memset(&c, 0, sizeof(c));
    if (!(c.layout = cellota_boot_layout_find(layout_name)))
        return usage_error("unknown layout ", layout_name);
    for (index = 0; index < 3 && strcmp(strategy_names[index], strategy_name) != 0; index++)
        ;
    if (index == 3)
        return usage_error("unknown strategy ", strategy_name);
    c.strategy = (strategy)index;
    c.image_size = image_size;
    if (strcmp(encoding_name, "compressed") == 0)
        c.encoding = CELLOTA_DELTA_COMPRESSED;
    else if (strcmp(encoding_name, "patch") == 0)
        c.encoding = CELLOTA_DELTA_PATCH;
    else if (strcmp(encoding_name, "plain") != 0)
        return usage_error("unknown encoding ", encoding_name);
    if (c.encoding && c.strategy != STRATEGY_AB)
        return usage_error("compressed images and patches install only with --strategy ab "
                           "(modem staging refuses them, docs/image-format.md)",
                           NULL);
    {
        bool two_slots =
            cellota_boot_layout_count_of(c.layout, CELLOTA_BOOT_REGION_APPLICATION) == 2;
        const cellota_boot_region *slot0 = region_of(c.layout, CELLOTA_BOOT_REGION_APPLICATION, 0);
        if (c.strategy == STRATEGY_AB && !two_slots) {
            fprintf(stderr,
                    "cellota-sim powerfail: strategy ab is not applicable to layout %s: it has "
                    "one application slot and A/B needs two (use --strategy modem)\n",
                    layout_name);
            return 2;
        }
        if (c.strategy == STRATEGY_BOOTLOADER &&
            !region_of(c.layout, CELLOTA_BOOT_REGION_BOOTLOADER_STAGING, 0))
            return usage_error("the layout has no bootloader staging area: ", layout_name);
        if (image_size > slot0->area.size)
            return usage_error("the image is larger than the application slot", NULL);
        c.application_strategy =
            c.strategy == STRATEGY_MODEM || !two_slots ? STRATEGY_MODEM : STRATEGY_AB;
    }
    c.shared =
        mmap(NULL, sizeof(*c.shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (c.shared == MAP_FAILED) {
        perror("cellota-sim powerfail: mmap");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &began);
    if ((code = provision(&c, seed)) != CELLOTA_OK) {
        fprintf(stderr, "cellota-sim powerfail: provisioning failed: %s\n", cellota_strerror(code));
        campaign_free(&c);
        return 1;
    }

    /* The update: a cut during every one of its flash operations. */
    memset(&c.plan, 0, sizeof(c.plan));
    c.plan.seed = seed;
    sweep(&c, replay, &updates, "cut at operation", false, false, &reference);
    if (!reference.correct)
        return reference_failed(&c, "the update", &reference);
    points = reference.operations;

    /* Rollback: the new image fails its self-test. It resets before it confirms: a cut during
     * every operation from when it first runs (the bootloader's rollback to the end). It asks
     * for the rollback: a cut during every operation of the request (what follows is the same
     * as after a reset). */
    for (index = 0; index < 2; index++) {
        memset(&c.plan, 0, sizeof(c.plan));
        c.plan.rollback = true;
        c.plan.explicit_rollback = index == 1;
        c.plan.seed = seed + 17 + (uint64_t)index;
        sweep(&c, replay, &rollbacks, "rollback cut at operation", true, index == 1, &reference);
        if (!reference.correct)
            return reference_failed(&c, "the rollback", &reference);
        if (reference.operations > rollback_operations)
            rollback_operations = reference.operations;
    }

    /* Random runs: several cuts and clean resets in one update, flaky modem reads. */
    {
        uint64_t random_state = seed ^ 0x5DEECE66Dull;
        unsigned long run_index;
        for (run_index = 0; run_index < random_runs; run_index++) {
            memset(&c.plan, 0, sizeof(c.plan));
            c.plan.rollback = run_index % 3 == 2;
            c.plan.explicit_rollback = test_random(&random_state) % 2 == 0;
            c.plan.horizon = c.plan.rollback ? rollback_operations : points;
            c.plan.first_cut = 1 + test_random(&random_state) % c.plan.horizon;
            c.plan.extra_cuts = (unsigned)(test_random(&random_state) % (EXTRA_CUTS_MAX + 1));
            c.plan.failing_reads = (unsigned)(test_random(&random_state) % 4);
            c.plan.seed = test_random(&random_state);
            run(&c, &result);
            count(&randoms, &result, "random run", run_index);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &ended);

    printf("powerfail: layout=%s strategy=%s%s%s points=%" PRIu64 " recovered=%" PRIu64
           " bricked=%" PRIu64 " failed=%" PRIu64 " rollback_points=%" PRIu64
           " rollback_recovered=%" PRIu64 " random_runs=%" PRIu64 " random_cuts=%" PRIu64
           " random_recovered=%" PRIu64 " watchdog_bites=%" PRIu64 " image_size=%" PRIu32
           " mode=%s seconds=%.1f\n",
           c.layout->name, strategy_names[c.strategy], c.encoding ? " encoding=" : "",
           c.encoding ? encoding_name : "", points, updates.recovered,
           updates.bricked + rollbacks.bricked + randoms.bricked,
           updates.failed + rollbacks.failed + randoms.failed, rollbacks.runs, rollbacks.recovered,
           randoms.runs, randoms.cuts, randoms.recovered,
           updates.watchdog_bites + rollbacks.watchdog_bites + randoms.watchdog_bites, image_size,
           replay ? "replay" : "fork",
           (double)(ended.tv_sec - began.tv_sec) + (ended.tv_nsec - began.tv_nsec) / 1e9);
    code = updates.runs == points && updates.recovered == points &&
                   rollbacks.recovered == rollbacks.runs && randoms.recovered == randoms.runs
               ? 0
               : 1;
    campaign_free(&c);
    return code;
}
