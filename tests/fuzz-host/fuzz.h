/*
 * What every parser harness of tests/fuzz-host shares.  A harness defines
 * LLVMFuzzerTestOneInput and checks, for each input, the properties its
 * parser promises beyond "no crash" with CHECK: a failed one prints what
 * failed and aborts, which libFuzzer reports as a crash (and keeps the
 * input) and the corpus replay (replay.c) counts as a failed test.
 */
#ifndef FUZZ_H
#define FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* Reading the input as a stream of fields: what is past the end reads as 0. */
struct input {
    const uint8_t *p;
    size_t n;
};

static inline uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint64_t b = 0;
        if (in->n) {
            b = *in->p++;
            in->n--;
        }
        v |= b << (8 * i);
    }
    return v;
}
#endif
