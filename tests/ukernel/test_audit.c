/* Regressions for what the first security audit found (and reproduced);
 * each test failed, crashed or hung the kernel before its fix. */
#include "ktest.h"

/* A user-set direction flag must not reach the kernel's C code on a trap:
 * its rep-movs copies would run backwards, below the destination. */
static void df_fault_thread(uk_word_t arg)
{
    (void)arg;
    __asm__ volatile("std\n\tud2\n" ::: "memory");
}

KT_TEST(audit_direction_flag_does_not_reach_the_kernel)
{
    uk_word_t ep = kt_endpoint();
    unsigned char *pages = uk_pages_alloc(2);       /* contiguous in the window */
    unsigned long *before = (unsigned long *)pages;
    unsigned long *ipcbuf = (unsigned long *)(pages + UK_PAGE_SIZE);
    for (int i = 0; i < 512; i++)
        before[i] = 0xa5a5a5a5a5a5a5a5ul;
    /* the fault message (23 words) is copied into this IPC buffer */
    KT_EQ(uk_thread_config(UK_SLOT_SELF_THREAD, 255, 0, (uk_word_t)ipcbuf), UK_OK);
    uk_ipc_buffer_init((struct uk_ipc_buffer *)ipcbuf);
    struct uk_spawned s;
    KT_EQ(uk_spawn(UK_SLOT_SELF_TASK, df_fault_thread, 0, 100, ep, &s), UK_OK);
    struct uk_msg m = { .info = uk_msginfo(0, 0, uk_timeout_us(500000)) };
    KT_EQ(uk_recv(ep, &m), UK_OK);
    KT_EQ(uk_msg_label(m.info), UK_FAULT_EXCEPTION);
    int changed = 0;
    for (int i = 0; i < 512; i++)
        changed += before[i] != 0xa5a5a5a5a5a5a5a5ul;
    KT_EQ(changed, 0);                               /* nothing written below it */
    KT_EQ(uk_thread_config(UK_SLOT_SELF_THREAD, 255, 0, UK_ROOT_IPC_BUFFER), UK_OK);
    uk_ipc_buffer_init((struct uk_ipc_buffer *)UK_ROOT_IPC_BUFFER);
    kt_destroy(s.thread);
    kt_destroy(ep);
}

/* VCPU_CONFIG by another task than the thread's owner: charged to the
 * owner, refunded to the owner; destroying either task must not panic. */
static volatile long vq_err = -1, vq_done;

static void vq_child(uk_word_t thread_slot)
{
    /* the top page of the boot-info page's 2 MiB region, which has had its
     * page table since boot: nothing new is charged to the root for it */
    vq_err = uk_vcpu_config(thread_slot, UK_BOOTINFO_VADDR + 0x1ff000, 0);
    vq_done = 1;
}

static void vq_idle(uk_word_t a)
{
    (void)a;
    for (;;)
        uk_thread_suspend(0);
}

KT_TEST(audit_vcpu_config_charges_and_refunds_the_owner)
{
    uk_word_t child, root0 = 0, root1 = 0, root2 = 0, child0 = 0, child1 = 0;
    KT_EQ(uk_task_new(1ul << 20, 16, 1, &child), UK_OK);
    struct uk_spawned t;                         /* owned by the root, in the root task */
    KT_EQ(uk_spawn_prepare(UK_SLOT_SELF_TASK, vq_idle, 0, 100, 0, &t), UK_OK);
    KT_EQ(uk_cap_copy(t.thread, child, 2, UK_R_ALL, 0), UK_OK);
    struct uk_spawned x;                         /* the child's thread that configures t */
    KT_EQ(uk_spawn_prepare(child, vq_child, 2, 100, 0, &x), UK_OK);
    uk_kmem_info(UK_SLOT_SELF_TASK, &root0, 0);
    uk_kmem_info(child, &child0, 0);
    vq_done = 0;
    KT_EQ(uk_spawn_go(&x), UK_OK);
    KT_CHECK(kt_wait_flag(&vq_done, 500000));
    KT_EQ(vq_err, UK_OK);
    uk_kmem_info(UK_SLOT_SELF_TASK, &root1, 0);
    uk_kmem_info(child, &child1, 0);
    KT_CHECK(root1 >= root0 + UK_PAGE_SIZE);             /* the owner paid for the state page */
    KT_EQ(child1, child0);                       /* the caller paid nothing */
    kt_destroy(t.thread);
    uk_kmem_info(UK_SLOT_SELF_TASK, &root2, 0);
    KT_CHECK(root2 + UK_PAGE_SIZE <= root1);             /* refunded with the thread */
    kt_destroy(x.thread);
    kt_destroy(child);                           /* panicked before the fix */
}
/* The root may unmask the 8259 (its I/O-port cap covers it): the lines must
 * arrive on vectors the kernel ignores, not as exceptions 8-15. */
KT_TEST(audit_unmasked_8259_is_harmless)
{
    uk_word_t cap = uk_slot_alloc();
    KT_EQ(uk_ioport_issue(UK_SLOT_IOPORT_ALL, 0x20, 2, cap), UK_OK);
    KT_EQ(uk_out(cap, 0x21, 1, 0xfe), UK_OK);     /* the PIT's line, unmasked */
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(50000);
    while (uk_rdtsc() < end)
        ;                                        /* interrupted in user mode */
    kt_sleep_us(20000);                          /* and while the kernel idles */
    KT_EQ(uk_out(cap, 0x21, 1, 0xff), UK_OK);
    kt_destroy(cap);
}
