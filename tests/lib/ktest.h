/*
 * A QEMU test suite (`ukernel`, `vcpu`): a test root task.  Each KT_TEST is a function that
 * runs once; KT_CHECK records failures without stopping the test.  main.c
 * runs them in the order the linker placed them (not source order), prints "ok"/"FAIL" per test, checks that kernel
 * memory and the kernel pool's free pages are the same after the suite as
 * before it (leaks), prints "<suite>: N passed, N failed" and ends QEMU.
 *
 * Rules for tests: destroy every object you create (kt_destroy), so the
 * leak check holds; never block forever (use timeouts); take slots with
 * uk_slot_alloc() and pages with uk_pages_alloc().
 */
#ifndef KTEST_H
#define KTEST_H

#include <user/rt.h>
#include <user/spawn.h>

struct kt_test {
    const char *name;
    void (*fn)(void);
};

#define KT_TEST(name)                                                          \
    static void name(void);                                                    \
    static const struct kt_test kt_rec_##name                                  \
        __attribute__((section("kt_tests"), used, aligned(8))) = { #name, name }; \
    static void name(void)

extern int kt_failures;          /* failures in the running test */
extern const char kt_suite_name[]; /* defined once per suite (suite.c) */
extern const struct uk_bootinfo *kt_bi;

void kt_fail(const char *file, int line, const char *what, long a, long b);

#define KT_CHECK(cond) \
    do { if (!(cond)) kt_fail(__FILE__, __LINE__, #cond, 0, 0); } while (0)
#define KT_EQ(a, b)                                                            \
    do { long _a = (long)(a), _b = (long)(b);                                  \
         if (_a != _b) kt_fail(__FILE__, __LINE__, #a " == " #b, _a, _b); } while (0)

/* Destroys the object a slot names (if any) and empties the slot. */
void kt_destroy(uk_word_t slot);
/* A new endpoint / notification in a fresh slot (0 on failure, recorded). */
uk_word_t kt_endpoint(void);
uk_word_t kt_notification(void);
/* Microseconds to TSC ticks and back. */
uk_word_t kt_us_to_tsc(uk_word_t us);
uk_word_t kt_tsc_to_us(uk_word_t tsc);
/* Blocks about `us` microseconds, so threads of any priority run. */
void kt_sleep_us(uk_word_t us);
/* Blocks (1 ms at a time) until *flag becomes non-zero or `us` pass; returns *flag. */
long kt_wait_flag(volatile long *flag, uk_word_t us);
/* The type of the cap in a slot (~0 if the slot does not exist). */
uk_word_t kt_cap_type(uk_word_t slot);
/* The kernel's counters now (UK_SYS_DEBUG_STATS). */
struct uk_stats kt_stats(void);

#define KT_INF uk_msginfo(0, 0, UK_TIMEOUT_INFINITE)

#endif
