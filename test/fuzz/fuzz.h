/*
 * fuzz.h: the libFuzzer entry point every fuzz target defines.
 *
 * A target must accept any bytes, never crash, leak or hang, and may
 * abort() when it finds a broken invariant.  driver.c runs targets without
 * libFuzzer; clang -fsanitize=fuzzer links them with libFuzzer instead.
 */
#ifndef ROAM_FUZZ_H
#define ROAM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run the target over one input; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
