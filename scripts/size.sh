#!/bin/sh
# make size: libcellota's device code for a Cortex-M4, against its budgets (docs/boot.md).
#
# Every device/<module>/*.c is compiled with Debian's arm-none-eabi-gcc (-mcpu=cortex-m4 -mthumb
# -Os -ffunction-sections -fdata-sections), against mbedTLS's headers only (mbedTLS itself,
# like the C library, is not counted). Modules are picked up by their folder: nothing to edit
# when one lands. Only one modem profile counts: files in device/at/ named after another modem
# are left out (MODEM_PROFILE, default sim7600).
#
# Printed: text/data/bss per module (every function, before the linker drops any), then three
# real links with --gc-sections, each of a small entry file in scripts/size/:
#   first stage  scripts/size/first_stage.c: stage0 and what it calls
#   bootloader   scripts/size/bootloader.c: the bootloader core and what it calls (pipeline...),
#                its AT engine built as CELLOTA_AT_FILE_READER_ONLY (at/engine.h; the same source),
#                with the SIM7600 file reader of the at module as its staged image source (also
#                printed without it, the reader being the board's)
#   agent        every public function and constant (the modem profile) of every module except
#                the bootloader core and the first stage (what an application links), plus the
#                contexts it holds in static RAM (scripts/size/agent.c). Not roots:
#                cellota_error_sentence and cellota_error_name_text (core/error.h) -- the agent's
#                status message calls them, so the link counts them through it.
#   application  scripts/size/application.c: a whole A/B device with a SIM7600, MQTT and HTTP --
#                only what its main reaches, and the RAM it holds with every buffer (printed
#                for information: the budget lines stay the two below)
# flash = text + data, ram = data + bss. libgcc's helpers are linked and counted; the board's
# port and the C library's mem*/str* are not. The last two lines:
#   size: agent flash=BYTES ram=BYTES
#   size: bootloader flash=BYTES ram=BYTES
#   (and before them: size: decoding flash=BYTES ram=BYTES -- compressed images and patches)
# Exit status 1 when a budget is exceeded (agent 16 KiB flash, 3 KiB RAM; bootloader 8 KiB;
# decoding 8 KiB RAM).
set -eu
cd "$(dirname "$0")/.."

CC=arm-none-eabi-gcc
SIZE=arm-none-eabi-size
NM=arm-none-eabi-nm
PROFILE=${MODEM_PROFILE:-sim7600}
MODEMS="sim7600 sim7000 sim7070 sim800"
AGENT_FLASH_BUDGET=16384
AGENT_RAM_BUDGET=3072
BOOTLOADER_FLASH_BUDGET=8192
# The bootloader's build of the AT engine (at/engine.h: parts a build may leave out).
READER_DEFINES="-DCELLOTA_AT_FILE_READER_ONLY"
CFLAGS="-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections -std=c99 -Wall -Wextra
-Werror -Wno-unused-function"

work=${SIZE_WORK:-$(mktemp -d)}
[ -n "${SIZE_WORK:-}" ] || trap 'rm -rf "$work"' EXIT INT TERM
# mbedTLS's headers and nothing else from the host's /usr/include.
mkdir -p "$work/include"
ln -s /usr/include/mbedtls "$work/include/mbedtls"
# The generated error table (core/error.c), as the CMake build makes it.
mkdir -p "$work/include/core"
python3 scripts/error_text.py device "$work/include/core/error_text.h"
INCLUDES="-Idevice -I$work/include"

# Is device/<module>/<file> part of a device build?
wanted() {
    case "$(basename "$1")" in
    test_* | *_test.c | *_sim.c) return 1 ;;
    esac
    case "$1" in
    device/at/*)
        for modem in $MODEMS; do
            if [ "$modem" != "$PROFILE" ]; then
                case "$(basename "$1")" in *"$modem"*) return 1 ;; esac
            fi
        done
        ;;
    esac
    return 0
}

printf '%-10s %8s %8s %8s\n' module text data bss
for dir in device/*/; do
    module=$(basename "$dir")
    objects=""
    for source in "$dir"*.c; do
        [ -e "$source" ] || continue
        wanted "$source" || continue
        object="$work/$module-$(basename "$source" .c).o"
        # shellcheck disable=SC2086
        $CC $CFLAGS $INCLUDES -c "$source" -o "$object"
        objects="$objects $object"
    done
    [ -n "$objects" ] || continue
    # shellcheck disable=SC2086
    $SIZE -t $objects | awk -v m="$module" 'END { printf "%-10s %8d %8d %8d\n", m, $1, $2, $3 }'
done

# link NAME ENTRY-SYMBOL OBJECTS...: a real link, unused sections dropped; prints flash and ram.
link() {
    name=$1
    entry=$2
    shift 2
    # shellcheck disable=SC2086
    $CC -mcpu=cortex-m4 -mthumb -nostdlib -Wl,--gc-sections -Wl,-e,"$entry" \
        -Wl,--unresolved-symbols=ignore-all -Wl,-Map="$work/$name.map" -o "$work/$name.elf" \
        "$@" -lgcc
    $SIZE "$work/$name.elf" | awk 'NR == 2 { print $1 + $2, $2 + $3 }'
}

# by_module NAME: what each module brings into link NAME (flash: text, rodata, data).
by_module() {
    awk -v name="$1" '
        function hex(text,    value, index_, digit) {
            value = 0
            text = tolower(substr(text, 3))
            for (index_ = 1; index_ <= length(text); index_++) {
                digit = index("0123456789abcdef", substr(text, index_, 1)) - 1
                value = value * 16 + digit
            }
            return value
        }
        /^Linker script and memory map/ { mapped = 1 }
        mapped && /^ \.(text|rodata|data)/ {
            if (NF >= 4) { size = $3; object = $4 }
            else { getline; size = $2; object = $3 }
            n = split(object, parts, "/"); file = parts[n]
            if (file ~ /^entry-/) module = "entry"
            else if (file ~ /-.*\.o$/) { sub(/-.*/, "", file); module = file }
            else module = "libgcc"
            total[module] += hex(size)
        }
        END {
            line = "size: " name " by module:"
            for (module in total) if (total[module] > 0) line = line " " module "=" total[module]
            print line
        }' "$work/$1.map"
}

entry() {
    # shellcheck disable=SC2086
    $CC $CFLAGS $INCLUDES $3 -c "scripts/size/$1.c" -o "$work/entry-$2.o"
    echo "$work/entry-$2.o"
}

core_objects=""
agent_objects=""
for object in "$work"/*-*.o; do
    case "$(basename "$object")" in
    entry-*) ;;
    boot-boot.o | boot-stage0.o) core_objects="$core_objects $object" ;;
    *) agent_objects="$agent_objects $object" ;;
    esac
done

# shellcheck disable=SC2086
set -- $(link first_stage size_first_stage_main "$(entry first_stage stage0 "")" $core_objects \
    $agent_objects)
first_flash=$1
first_ram=$2
# shellcheck disable=SC2086
set -- $(link bootloader_core size_bootloader_main "$(entry bootloader bootloader_core "")" \
    $core_objects $agent_objects)
core_flash=$1
core_ram=$2
bootloader_define=""
if [ -e device/at/sim7600_fs.h ]; then
    bootloader_define="-DSIZE_HAVE_SIM7600_FS"
fi
# The bootloader is its own firmware build: the AT engine without the parts the file reader does
# not use (URC table, prompt and payload, inline data; at/engine.h), the same source.
mkdir -p "$work/reader"
# shellcheck disable=SC2086
$CC $CFLAGS $INCLUDES $READER_DEFINES -c device/at/engine.c -o "$work/reader/at-engine.o"
reader_objects=""
for object in $agent_objects; do
    case "$(basename "$object")" in
    at-engine.o) reader_objects="$reader_objects $work/reader/at-engine.o" ;;
    *) reader_objects="$reader_objects $object" ;;
    esac
done
# shellcheck disable=SC2086
set -- $(link bootloader size_bootloader_main \
    "$(entry bootloader bootloader "$bootloader_define")" $core_objects $reader_objects)
bootloader_flash=$1
bootloader_ram=$2

# The agent side: every global function and constant of its modules is a root (constants too:
# the modem profile, cellota_sim7600, is a table of steps and handlers no function names).
roots=""
# shellcheck disable=SC2086
for symbol in $($NM --defined-only -g $agent_objects |
    awk '$2 ~ /^[TRD]$/ && $3 != "cellota_error_sentence" && $3 != "cellota_error_name_text" {
        print $3 }' | sort -u); do
    roots="$roots -Wl,-u,$symbol"
done
agent_define=""
if grep -qs '} cellota_agent;' device/agent/*.h; then
    agent_define="-DSIZE_HAVE_AGENT"
fi
agent_entry=$(entry agent agent "$agent_define")
# shellcheck disable=SC2086
set -- $(link agent size_agent_contexts $roots -Wl,-u,size_agent_contexts "$agent_entry" \
    $agent_objects)
agent_flash=$1
agent_ram=$2

# A whole application (scripts/size/application.c, A/B with both transports): only what its
# main reaches, and the RAM it holds with its buffers. Printed for information, no budget.
application_flash=""
if [ -n "$agent_define" ]; then
    # shellcheck disable=SC2086
    set -- $(link application size_application_main \
        "$(entry application application "-DSIZE_PROFILE=cellota_$PROFILE")" $agent_objects)
    application_flash=$1
    application_ram=$2
fi

# Decoding compressed images and patches (image/delta.c and image/pipeline_decode.c): its code,
# and the RAM it adds -- cellota_pipeline_decoder, the pipeline's pointer to it, the copy buffer
# on the stack (CELLOTA_PIPELINE_DECODE_RAM) -- against its own budget of 8 KiB.
DECODING_RAM_BUDGET=8192
# shellcheck disable=SC2086
decoding_flash=$($SIZE -t "$work/image-delta.o" "$work/image-pipeline_decode.o" | awk 'END { print $1 + $2 }')
printf '#include "image/pipeline.h"\nconst unsigned size_decoding_ram = CELLOTA_PIPELINE_DECODE_RAM;\n' \
    >"$work/decoding_ram.c"
# shellcheck disable=SC2086
$CC $CFLAGS $INCLUDES -S "$work/decoding_ram.c" -o "$work/decoding_ram.s"
decoding_ram=$(awk '/^size_decoding_ram:/ { found = 1; next } found && /\.word/ { print $2; exit }' \
    "$work/decoding_ram.s")

status=0
over() {
    echo "size: $1 is $2 bytes, over its budget of $3 by $(($2 - $3))" >&2
    status=1
}
[ "$agent_flash" -le $AGENT_FLASH_BUDGET ] || over "agent flash" "$agent_flash" $AGENT_FLASH_BUDGET
[ "$agent_ram" -le $AGENT_RAM_BUDGET ] || over "agent ram" "$agent_ram" $AGENT_RAM_BUDGET
[ "$bootloader_flash" -le $BOOTLOADER_FLASH_BUDGET ] ||
    over "bootloader flash" "$bootloader_flash" $BOOTLOADER_FLASH_BUDGET
[ "$decoding_ram" -le $DECODING_RAM_BUDGET ] || over "decoding ram" "$decoding_ram" $DECODING_RAM_BUDGET
by_module bootloader
by_module agent
echo "size: decoding flash=$decoding_flash ram=$decoding_ram (compressed images and patches, in the agent's figures; ram budget $DECODING_RAM_BUDGET)"
echo "size: first-stage flash=$first_flash ram=$first_ram"
echo "size: bootloader-without-modem-reader flash=$core_flash ram=$core_ram"
if [ -n "$application_flash" ]; then
    by_module application
    echo "size: application flash=$application_flash ram=$application_ram"
fi
echo "size: agent flash=$agent_flash ram=$agent_ram"
echo "size: bootloader flash=$bootloader_flash ram=$bootloader_ram"
exit $status
