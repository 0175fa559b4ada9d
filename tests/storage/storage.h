/*
 * What the storage suite's test image and its host check (tests/storage/run,
 * check-disks) agree on: the two disks' sizes, where each client writes,
 * and the bytes it writes there.
 */
#ifndef STORAGE_TEST_H
#define STORAGE_TEST_H

#define DISK0_SECTORS 8192ul    /* 4 MiB: client 1's disk */
#define DISK1_SECTORS 4096ul    /* 2 MiB: client 2's disk */
#define PATTERN_FIRST 100ul     /* each client writes sectors PATTERN_FIRST.. */
#define PATTERN_COUNT 64ul
#define TAIL_COUNT    8ul       /* and the last TAIL_COUNT sectors of its disk */
#define STREAM_FIRST  1000ul    /* client 2's stream during the malformed requests */
#define STREAM_COUNT  256ul

/* Byte i of sector s as client c writes it: never 0 (the rest of a disk is),
 * and no sector of one client equals any sector of the other (a hash, not a
 * linear formula: those repeat across clients). */
static inline unsigned char pattern_byte(unsigned long c, unsigned long s, unsigned long i)
{
    unsigned long x = c * 0x100000001b3ul ^ s * 0x9e3779b97f4a7c15ul ^ i;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ul;
    x ^= x >> 32;
    return (unsigned char)(x % 255 + 1);
}

#endif
