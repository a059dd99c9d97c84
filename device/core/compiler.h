/*
 * Compiler hints for device code. CELLOTA_OUT_OF_LINE keeps a small static function a call
 * where the compiler would copy it into each caller: at -Os GCC still inlines some helpers
 * used from several places, and the bootloader's 8 KiB flash budget (docs/boot.md) pays for
 * every copy. Compilers without the attribute get a plain function.
 */
#ifndef CELLOTA_CORE_COMPILER_H
#define CELLOTA_CORE_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define CELLOTA_OUT_OF_LINE __attribute__((noinline))
#else
#define CELLOTA_OUT_OF_LINE
#endif

#endif
