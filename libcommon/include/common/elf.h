/*
 * Checking and loading a static ELF64 x86-64 executable from memory.
 * Shared by the microkernel (the root task) and the vmm-server (guest
 * kernels): both must refuse a malformed file with a clear reason and
 * touch nothing outside it.  Freestanding; no libc.
 */
#ifndef UK_ELF_H
#define UK_ELF_H

#include <uk/abi.h>

#define UK_ELF_MAX_SEGMENTS 16

struct uk_elf_segment {
    uk_word_t vaddr;      /* where it goes */
    uk_word_t memsz;      /* bytes in memory (>= filesz; the rest is zero) */
    uk_word_t offset;     /* where its bytes start in the file */
    uk_word_t filesz;     /* bytes taken from the file */
    unsigned  flags;      /* UK_MAP_READ / WRITE / EXEC */
};

struct uk_elf_image {
    uk_word_t entry;
    unsigned  nsegments;                 /* PT_LOAD segments, sorted by vaddr */
    struct uk_elf_segment seg[UK_ELF_MAX_SEGMENTS];
    uk_word_t lowest, highest;           /* page-aligned span of all segments */
};

enum uk_elf_error {
    UK_ELF_OK = 0,
    UK_ELF_TRUNCATED,     /* file shorter than a header or table says */
    UK_ELF_BAD_MAGIC,     /* not ELF */
    UK_ELF_BAD_CLASS,     /* not 64-bit little-endian x86-64 */
    UK_ELF_BAD_TYPE,      /* not ET_EXEC (static, not relocatable) */
    UK_ELF_BAD_PHDR,      /* program header size or count unusable */
    UK_ELF_NO_SEGMENTS,   /* no PT_LOAD */
    UK_ELF_TOO_MANY,      /* more than UK_ELF_MAX_SEGMENTS PT_LOAD */
    UK_ELF_BAD_SEGMENT,   /* filesz > memsz, offset+filesz past the file, wraps */
    UK_ELF_OVERLAP,       /* two segments share a page */
    UK_ELF_OUT_OF_RANGE,  /* a segment or the entry outside [lo, hi) */
    UK_ELF_BAD_ENTRY,     /* entry point not inside an executable segment */
};

/* Check the file of size bytes at data and fill img.  Every PT_LOAD must lie
 * within [lo, hi) (e.g. user space below the kernel; the guest-kernel area).
 * Returns UK_ELF_OK or the first problem found; img is then not to be used. */
int uk_elf_check(const void *data, uk_word_t size, uk_word_t lo, uk_word_t hi,
                 struct uk_elf_image *img);

/* A short English reason for an error code ("truncated", ...). */
const char *uk_elf_strerror(int err);

#endif
