/* A process task destroyed while vCPUs run it: each vCPU running it (and
 * only those) goes back to its guest kernel with UK_VCPU_EXIT_EVENT, also
 * after another vCPU was taken out of the kernel's list of all vCPUs
 * (vcpu.c: a dying task's marker walks that list in parts,
 * docs/ABI.md §9.10), and kernel memory comes back whole. */
#include "ktest.h"

#define DY_STATE_VA 0x0000510000000000ul  /* vCPU i's state page: + i pages */
#define DY_SLOT_P   10                    /* the process three vCPUs run */
#define DY_SLOT_Q   11                    /* the process one vCPU runs */
#define DY_VCPUS    5                     /* 0-2 run P, 3 runs Q, 4 never starts */

static volatile long dy_started[DY_VCPUS], dy_events[DY_VCPUS], dy_other[DY_VCPUS];
static uk_word_t dy_entry_sp[DY_VCPUS];

/* The processes: a loop of two instructions, no stack. */
extern char dy_spin[];
__asm__(".globl dy_spin\ndy_spin:\n  pause\n  jmp dy_spin\n");

static int dy_index(struct uk_vcpu_state *s)
{
    return (int)(((uk_word_t)s - DY_STATE_VA) / 4096);
}

static uk_word_t dy_slot(int i)
{
    return i < 3 ? DY_SLOT_P : DY_SLOT_Q;
}

void dy_entry(struct uk_vcpu_state *s);
__asm__(".globl dy_entry_stub\ndy_entry_stub:\n  call dy_entry\n  ud2\n");
extern char dy_entry_stub[];

void dy_entry(struct uk_vcpu_state *s)
{
    int i = dy_index(s);
    uk_word_t src = 0, dst = 0, rights = 0;
    if (s->exit_reason == UK_VCPU_EXIT_PAGE_FAULT) {   /* its code page */
        dst = s->exit_addr & ~4095ul;
        src = dst;
        rights = UK_MAP_READ | UK_MAP_EXEC;
    } else {
        if (s->exit_reason == UK_VCPU_EXIT_EVENT)
            dy_events[i]++;                  /* sent back: its process is dying */
        else
            dy_other[i] = (long)s->exit_reason + 1;
        for (;;)
            uk_thread_suspend(0);
    }
    long err = uk_vcpu_resume(dy_slot(i), src, dst, rights);
    dy_other[i] = 1000 + err;                /* the process went before the resume */
    for (;;)
        uk_thread_suspend(0);
}

static void dy_guest(uk_word_t i)
{
    struct uk_vcpu_state *s = (struct uk_vcpu_state *)(DY_STATE_VA + i * 4096);
    s->entry_ip = (uk_word_t)dy_entry_stub;
    s->entry_sp = dy_entry_sp[i];
    memset(&s->user, 0, sizeof s->user);
    s->user.rip = (uk_word_t)dy_spin;
    dy_started[i] = 1;
    long err = uk_vcpu_resume(dy_slot(i), 0, 0, 0);
    dy_other[i] = 2000 + err;
    for (;;)
        uk_thread_suspend(0);
}

/* Until vCPU i is back in its kernel (an event, or an exit of another
 * kind), 5 s at most: a bound for a hang, not a time the test needs. */
static void dy_wait_back(int i)
{
    uk_word_t end = uk_rdtsc() + kt_us_to_tsc(5000000);
    while (!dy_events[i] && !dy_other[i] && uk_rdtsc() < end)
        kt_sleep_us(1000);
}

KT_TEST(vcpu_process_destroyed_sends_back_the_vcpus_running_it)
{
    struct uk_stats s0 = kt_stats();
    uk_word_t guest, p, q;
    KT_EQ(uk_task_new(1ul << 20, 64, 1, &guest), UK_OK);
    KT_EQ(uk_task_new(256ul << 10, 4, 0, &p), UK_OK);
    KT_EQ(uk_task_new(256ul << 10, 4, 0, &q), UK_OK);
    KT_EQ(uk_cap_copy(p, guest, DY_SLOT_P, UK_R_ALL, 0), UK_OK);
    KT_EQ(uk_cap_copy(q, guest, DY_SLOT_Q, UK_R_ALL, 0), UK_OK);
    unsigned char *stacks = uk_pages_alloc(2 * DY_VCPUS);
    KT_EQ(uk_map(guest, (uk_word_t)stacks, (uk_word_t)stacks, 2 * DY_VCPUS,
                 UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    struct uk_spawned v[DY_VCPUS];
    for (int i = 0; i < DY_VCPUS; i++) {
        dy_started[i] = dy_events[i] = dy_other[i] = 0;
        dy_entry_sp[i] = (uk_word_t)(stacks + (2 * i + 2) * 4096);
        /* priority 50: below the root, which preempts their spinning */
        KT_EQ(uk_spawn_prepare(guest, dy_guest, (uk_word_t)i, 50, 0, &v[i]), UK_OK);
        KT_EQ(uk_vcpu_config(v[i].thread, DY_STATE_VA + (uk_word_t)i * 4096, 0), UK_OK);
    }
    /* vCPU 4 leaves the list of all vCPUs from its middle (O(1) unlink):
     * the walks below must still find everyone else */
    kt_destroy(v[DY_VCPUS - 1].thread);
    for (int i = 0; i < DY_VCPUS - 1; i++)
        KT_EQ(uk_spawn_go(&v[i]), UK_OK);
    for (int i = 0; i < DY_VCPUS - 1; i++)
        KT_EQ(kt_wait_flag(&dy_started[i], 1000000), 1);
    kt_sleep_us(50000);                      /* each had slices: all in their process */
    for (int i = 0; i < DY_VCPUS - 1; i++)
        KT_EQ(dy_other[i], 0);
    KT_EQ(dy_events[0] + dy_events[1] + dy_events[2] + dy_events[3], 0);

    /* Each vCPU sent back counts its event when it next runs, which on a
     * loaded host (QEMU not running for a while) may be later than any
     * fixed sleep: wait for the events themselves (bounded), then give
     * Q's vCPU the time to show a wrong one. */
    KT_EQ(uk_obj_destroy(p), UK_OK);         /* P goes: vCPUs 0-2 back to their kernel */
    for (int i = 0; i < 3; i++)
        dy_wait_back(i);
    kt_sleep_us(20000);
    for (int i = 0; i < 3; i++) {
        KT_EQ(dy_events[i], 1);
        KT_EQ(dy_other[i], 0);
    }
    KT_EQ(dy_events[3], 0);                  /* Q's vCPU runs on */
    KT_EQ(dy_other[3], 0);

    KT_EQ(uk_obj_destroy(q), UK_OK);
    dy_wait_back(3);
    KT_EQ(dy_events[3], 1);
    KT_EQ(dy_other[3], 0);

    for (int i = 0; i < DY_VCPUS - 1; i++)
        kt_destroy(v[i].thread);
    kt_destroy(guest);
    kt_destroy(p);
    kt_destroy(q);
    struct uk_stats s1 = kt_stats();
    KT_EQ(s1.kmem_bytes_used, s0.kmem_bytes_used);
    KT_EQ(s1.free_frames, s0.free_frames);
}
