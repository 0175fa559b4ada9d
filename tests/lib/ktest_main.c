/* The runner of the QEMU test suites (see ktest.h); each suite names
 * itself with kt_suite_name. */
#include "ktest.h"

extern const struct kt_test __start_kt_tests[], __stop_kt_tests[];

int kt_failures;
const struct uk_bootinfo *kt_bi;

void kt_fail(const char *file, int line, const char *what, long a, long b)
{
    kt_failures++;
    if (a || b)
        printf("    %s:%d: %s (%ld vs %ld)\n", file, line, what, a, b);
    else
        printf("    %s:%d: %s\n", file, line, what);
}

void kt_destroy(uk_word_t slot)
{
    uk_word_t type = 0;
    if (uk_cap_info(slot, &type, 0, 0) == UK_OK && type != UK_CAP_NULL) {
        if (type != UK_CAP_IOPORT && type != UK_CAP_IRQ_CONTROL && type != UK_CAP_REPLY)
            uk_obj_destroy(slot);
        uk_cap_delete(UK_SLOT_SELF_TASK, slot);
    }
}

uk_word_t kt_endpoint(void)
{
    uk_word_t s = uk_slot_alloc();
    long err = uk_endpoint_create(s);
    KT_EQ(err, UK_OK);
    return err ? 0 : s;
}

uk_word_t kt_notification(void)
{
    uk_word_t s = uk_slot_alloc();
    long err = uk_notif_create(s);
    KT_EQ(err, UK_OK);
    return err ? 0 : s;
}

uk_word_t kt_us_to_tsc(uk_word_t us) { return us * (kt_bi->tsc_hz / 1000000); }
uk_word_t kt_tsc_to_us(uk_word_t t)  { return t / (kt_bi->tsc_hz / 1000000); }

static uk_word_t sleep_slot;

void kt_sleep_us(uk_word_t us)
{
    if (!sleep_slot)
        sleep_slot = uk_slot_alloc();
    if (uk_notif_create(sleep_slot) != UK_OK) {
        KT_CHECK(!"kt_sleep_us: no notification");
        return;
    }
    uk_wait(sleep_slot, uk_timeout_us(us), 0);
    kt_destroy(sleep_slot);
}

long kt_wait_flag(volatile long *flag, uk_word_t us)
{
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(us);
    while (!*flag && uk_rdtsc() < end)
        kt_sleep_us(1000);
    return *flag;
}

uk_word_t kt_cap_type(uk_word_t slot)
{
    uk_word_t type = ~0ul;
    uk_cap_info(slot, &type, 0, 0);
    return type;
}

struct uk_stats kt_stats(void)
{
    struct uk_stats s;
    uk_debug_stats();
    memcpy(&s, uk_ipc_buf->data, sizeof s);
    return s;
}

int main(const struct uk_bootinfo *bi)
{
    kt_bi = bi;
    uk_pages_init(bi);
    printf("ktest: the %s suite\n", kt_suite_name);
    struct uk_stats before = kt_stats();
    int passed = 0, failed = 0;
    for (const struct kt_test *t = __start_kt_tests; t < __stop_kt_tests; t++) {
        kt_failures = 0;
        t->fn();
        if (kt_failures) {
            failed++;
            printf("FAIL %s\n", t->name);
        } else {
            passed++;
            printf("ok   %s\n", t->name);
        }
    }
    struct uk_stats after = kt_stats();
    int leak_ok = after.kmem_bytes_used == before.kmem_bytes_used &&
                  after.free_frames == before.free_frames &&
                  after.caller_kmem_used == before.caller_kmem_used;
    printf("%s leak_check: kernel memory %lu -> %lu bytes, free pool pages %lu -> %lu\n",
           leak_ok ? "ok  " : "FAIL", before.kmem_bytes_used, after.kmem_bytes_used,
           before.free_frames, after.free_frames);
    leak_ok ? passed++ : failed++;
    printf("%s: %d passed, %d failed\n", kt_suite_name, passed, failed);
    uk_exit_qemu(UK_SLOT_IOPORT_ALL, failed ? 1 : 0);
}
