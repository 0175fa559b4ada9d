/* The vCPU mechanism in its simplest form: a guest kernel resumes one
 * process, maps its code and stack on demand, serves two system calls. */
#include "ktest.h"

#define STATE_VA   0x0000500000000000ul   /* the state page in the guest kernel */
#define PROC_STACK 0x0000600000000000ul   /* the process's stack page */
#define SLOT_PROC  10                     /* the process task, in the guest's table */

static volatile long smoke_done, smoke_calls, smoke_faults, smoke_arg;
static unsigned char *smoke_stack_page;   /* guest-kernel page behind PROC_STACK */

/* The process: only its registers and its stack. */
static void smoke_process(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(42L), "D"(7L) : "rcx", "r11", "memory");
    __asm__ volatile("syscall" : : "a"(60L), "D"(r) : "rcx", "r11", "memory");
    for (;;)
        ;
}

void smoke_entry(struct uk_vcpu_state *s);
__asm__(".globl smoke_entry_stub\nsmoke_entry_stub:\n  call smoke_entry\n  ud2\n");
extern char smoke_entry_stub[];

void smoke_entry(struct uk_vcpu_state *s)
{
    uk_word_t src = 0, dst = 0, rights = 0;
    switch (s->exit_reason) {
    case UK_VCPU_EXIT_PAGE_FAULT:
        smoke_faults++;
        dst = s->exit_addr & ~4095ul;
        if (dst == PROC_STACK) {
            src = (uk_word_t)smoke_stack_page;
            rights = UK_MAP_READ | UK_MAP_WRITE;
        } else {
            src = dst;                    /* code: the guest's own image page */
            rights = UK_MAP_READ | UK_MAP_EXEC;
        }
        break;
    case UK_VCPU_EXIT_SYSCALL:
        smoke_calls++;
        if (s->user.rax == 42) {
            smoke_arg = (long)s->user.rdi;
            s->user.rax = 1000 + s->user.rdi;
        } else if (s->user.rax == 60) {
            smoke_done = (long)s->user.rdi;
            for (;;)
                uk_thread_suspend(0);
        }
        break;
    default:
        printf("smoke: unexpected exit %lu\n", s->exit_reason);
        smoke_done = -1;
        for (;;)
            uk_thread_suspend(0);
    }
    long err = uk_vcpu_resume(SLOT_PROC, src, dst, rights);
    printf("smoke: resume failed %ld\n", err);
    smoke_done = -2;
    for (;;)
        uk_thread_suspend(0);
}

static void smoke_guest(uk_word_t entry_stack_top)
{
    struct uk_vcpu_state *s = (struct uk_vcpu_state *)STATE_VA;
    s->entry_ip = (uk_word_t)smoke_entry_stub;
    s->entry_sp = entry_stack_top;
    memset(&s->user, 0, sizeof s->user);
    s->user.rip = (uk_word_t)smoke_process;
    s->user.rsp = PROC_STACK + 4096 - 8;
    long err = uk_vcpu_resume(SLOT_PROC, 0, 0, 0);
    printf("smoke: first resume failed %ld\n", err);
    smoke_done = -3;
}

KT_TEST(vcpu_smoke_process_syscalls_and_faults)
{
    uk_word_t guest, proc;
    KT_EQ(uk_task_new(1ul << 20, 64, 1, &guest), UK_OK);
    KT_EQ(uk_task_new(256ul << 10, 4, 0, &proc), UK_OK);
    KT_EQ(uk_cap_copy(proc, guest, SLOT_PROC, UK_R_ALL, 0), UK_OK);
    smoke_stack_page = uk_pages_alloc(1);
    KT_EQ(uk_map(guest, (uk_word_t)smoke_stack_page, (uk_word_t)smoke_stack_page, 1,
                 UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    unsigned char *entry_stack = uk_pages_alloc(4);
    KT_EQ(uk_map(guest, (uk_word_t)entry_stack, (uk_word_t)entry_stack, 4,
                 UK_MAP_READ | UK_MAP_WRITE), UK_OK);
    struct uk_spawned s;
    KT_EQ(uk_spawn_prepare(guest, smoke_guest, (uk_word_t)(entry_stack + 4 * 4096), 200, 0, &s), UK_OK);
    KT_EQ(uk_vcpu_config(s.thread, STATE_VA, 0), UK_OK);
    KT_EQ(uk_vcpu_config(s.thread, STATE_VA, 0), UK_E_BUSY);
    KT_EQ(uk_spawn_go(&s), UK_OK);
    uk_word_t n = kt_notification(), bits;
    for (int i = 0; i < 100 && !smoke_done; i++)
        uk_wait(n, uk_timeout_us(1000), &bits);
    KT_EQ(smoke_done, 1007);
    KT_EQ(smoke_arg, 7);
    KT_EQ(smoke_calls, 2);
    KT_CHECK(smoke_faults >= 1);          /* its code page, at least */
    kt_destroy(s.thread);
    kt_destroy(guest);
    kt_destroy(proc);
    kt_destroy(n);
}
