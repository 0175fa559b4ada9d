/* Fixed-size types for the kernel; also compiles for host unit tests. */
#ifndef UK_TYPES_H
#define UK_TYPES_H

#include <uk/abi.h>

typedef __UINT8_TYPE__  u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT64_TYPE__  i64;
typedef uk_word_t       word;   /* unsigned machine word */
typedef __SIZE_TYPE__   usize;

#ifndef __cplusplus
typedef _Bool bool;
#define true  1
#define false 0
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif

#define PAGE_SIZE   UK_PAGE_SIZE     /* the kernel's short names for abi.h's */
#define PAGE_SHIFT  UK_PAGE_SHIFT
#define PAGE_MASK   (~(PAGE_SIZE - 1))
#define ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((word)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((word)(a) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(p, type, member) \
    ((type *)((char *)(p) - __builtin_offsetof(type, member)))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define noreturn    __attribute__((noreturn))
#define noinline    __attribute__((noinline))

#endif
