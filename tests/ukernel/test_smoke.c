/* First tests: the boot-info page and the simplest IPC. */
#include "ktest.h"

KT_TEST(bootinfo_is_sane)
{
    KT_EQ(kt_bi->magic, UK_BOOTINFO_MAGIC);
    KT_EQ(kt_bi->abi_version, UK_ABI_VERSION);
    KT_CHECK(kt_bi->tsc_hz > 1000000);
    KT_CHECK(kt_bi->nranges > 0);
    KT_EQ(kt_bi->nmodules, 1);
    KT_CHECK(!strncmp(kt_bi->strings + kt_bi->modules[0].cmdline, "second-module", 13));
    KT_CHECK(!strncmp(kt_bi->strings + kt_bi->root_cmdline, "ktest", 5));
}

KT_TEST(null_syscall_and_unknown_number)
{
    KT_EQ(uk_null(), UK_OK);
    KT_EQ(uk_sys(UK_SYS_COUNT, 0, 0, 0, 0, 0, 0).err, UK_E_NOSYS);
    KT_EQ(uk_sys(~0ul, 0, 0, 0, 0, 0, 0).err, UK_E_NOSYS);
}

static void echo_server(uk_word_t ep)
{
    struct uk_msg m = { .info = KT_INF };
    uk_recv(ep, &m);
    for (;;) {
        m.info = uk_msginfo(uk_msg_label(m.info), uk_msg_len(m.info), UK_TIMEOUT_INFINITE);
        m.w[0] = m.badge;                 /* echo the badge in word 0 */
        uk_reply_recv(ep, &m);
    }
}

KT_TEST(call_reply_in_same_task)
{
    uk_word_t ep = kt_endpoint();
    struct uk_spawned srv;
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, echo_server, ep, 200, 0, &srv), UK_OK);
    uk_word_t badged = uk_slot_alloc();
    KT_EQ(uk_cap_copy(ep, UK_SLOT_SELF_TASK, badged, UK_R_ALL, 0x77), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(5, 3, UK_TIMEOUT_INFINITE), .w = { 1, 2, 3, 4 } };
    KT_EQ(uk_call(badged, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), 5);
    KT_EQ(uk_msg_len(m.info), 3);
    KT_EQ(m.w[0], 0x77);
    KT_EQ(m.w[1], 2);
    KT_EQ(m.w[2], 3);
    kt_destroy(srv.thread);
    kt_destroy(badged);
    kt_destroy(ep);
}
