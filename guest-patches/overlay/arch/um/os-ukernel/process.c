/*
 * Processes.  Each Linux mm is a task of the microkernel, named by a slot
 * of our capability table (mm_id.u.pid holds the slot); a process runs
 * when userspace() RESUMEs our vCPU in its task.  This replaces arch/um's
 * skas/process.c, where each mm is a host process driven with ptrace.
 *
 * Kernel threads and their switching are arch/um's own: setjmp/longjmp on
 * kernel stacks (new_thread, switch_threads, start_idle_thread below are
 * those of os-Linux, which need nothing of the host).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <as-layout.h>
#include <init.h>
#include <kern_util.h>
#include <mem.h>
#include <os.h>
#include <registers.h>
#include <skas.h>
#include <sysdep/ptrace.h>
#include <sysdep/ptrace_user.h>
#include <linux/threads.h>
#include "ukvm.h"
#include "kmem.h"

void *calloc(size_t n, size_t size);   /* the link wraps it (util.c) */

int userspace_pid[NR_CPUS];
int kill_userspace_mm[NR_CPUS];

/* --- tasks: slots of our capability table --------------------------------
 * One account task (slot ACCOUNT_SLOT, made at the first process) owns
 * every process task.  Both are shared tasks (UK_TASK_SHARED): nothing is
 * set aside, a process is charged what its address space uses (its task
 * object, PML4, page tables, one mapping node a page) as it maps it, and
 * all processes together at most the account's limit, which is our quota
 * less a reserve for ourselves (our own vmalloc mappings and tables).  A
 * new address space is refused (fork, exec: -ENOMEM) while the account has
 * less than spawn_headroom left (1/16 of it, at least 2 MiB: pages the
 * running processes fault in, the shell among them, when a fork bomb has
 * taken the rest) beyond what the tasks made but not run yet will take.
 * A new task is charged little (its PML4) until it runs: a fork's child
 * maps every present page of its parent before it first runs (arch/um's
 * fork_handler), so it is counted as its parent's charge (at least
 * PROCESS_KMEM_BUDGET; an exec's new task the same, an overestimate) in
 * pending_kmem until its first resume (ukvm_process_ran).  Without that
 * (counting every task as PROCESS_KMEM_BUDGET against the account's
 * total), a burst of forks not run yet, each ~36 KiB short, ate the
 * headroom whenever the tasks that had run were charged more than the
 * budget: the shell's next page fault then failed and arch/um killed it,
 * and init, unable to fork, exited (a guest panic; tests/guest-linux/run's
 * fork bombs, 1 run in 3).
 * A map beyond the account fails and arch/um kills that process.  The
 * vmm-server sizes our table by our quota (gi->cap_slots): slots are never
 * the limit, kernel memory is. */
#define ACCOUNT_SLOT UK_GUEST_SLOT_FIRST_FREE
#define FIRST_SLOT (ACCOUNT_SLOT + 1)
#define PROCESS_SLOTS 2
#define KERNEL_RESERVE_MIN (2ul << 20)      /* or 1/32 of what we have, if more */
#define SPAWN_HEADROOM_MIN (2ul << 20)      /* or 1/16 of the account, if more */
#define PROCESS_KMEM_BUDGET (40ul << 10)    /* an idle static process: ~34 KiB */
static unsigned long *slot_map;             /* bit set: slot in use */
static unsigned int nslots, slot_hint;
static int account_made;
static unsigned long spawn_headroom, live_tasks;
static unsigned long *pending_kmem;         /* per slot: charge expected before its first run */
static unsigned long pending_total;         /* their sum */

/* Before kmalloc works (start.c): the runtime's allocator. */
void ukvm_process_init(unsigned long cap_slots)
{
	nslots = cap_slots >= 256 && cap_slots <= UK_MAX_CAP_SLOTS ? cap_slots : 256;
	slot_map = calloc((nslots + 63) / 64, sizeof *slot_map);
	pending_kmem = calloc(nslots, sizeof *pending_kmem);
	ukvm_mm_init(nslots);
	if (!pending_kmem)
		slot_map = NULL;            /* no slot: no process, rather than no reserve */
	if (!slot_map)
		ukvm_printf("ukvm: no memory for the slot map of %u slots\n", nslots);
	slot_hint = FIRST_SLOT;
}

int ukvm_slot_alloc(void)
{
	if (!slot_map)
		return -1;
	for (unsigned int n = 0, s = slot_hint; n < nslots; n++, s = s + 1 < nslots ? s + 1 : FIRST_SLOT) {
		if (s < FIRST_SLOT)
			s = FIRST_SLOT;
		if (!(slot_map[s / 64] & (1ul << (s % 64)))) {
			slot_map[s / 64] |= 1ul << (s % 64);
			slot_hint = s + 1 < nslots ? s + 1 : FIRST_SLOT;
			return s;
		}
	}
	return -1;
}

static int slot_in_use(int slot)
{
	return slot >= FIRST_SLOT && (unsigned int)slot < nslots &&
	       (slot_map[slot / 64] & (1ul << (slot % 64)));
}

void ukvm_slot_free(int slot)
{
	if (slot_in_use(slot))
		slot_map[slot / 64] &= ~(1ul << (slot % 64));
}

/* The account, once our own memory is mapped (setup_physmem has run). */
static long make_account(void)
{
	uk_word_t room = 0;
	long err = uk_kmem_room(UK_GUEST_SLOT_SELF, &room);
	unsigned long reserve = room / 32 > KERNEL_RESERVE_MIN ? room / 32 : KERNEL_RESERVE_MIN;
	if (!err && room <= reserve + 2 * SPAWN_HEADROOM_MIN)
		err = UK_E_NOMEM;
	if (!err)
		err = uk_task_create_shared(ACCOUNT_SLOT, room - reserve, PROCESS_SLOTS, 0);
	if (err) {
		ukvm_printf("ukvm: cannot make the processes' kernel-memory account "
			    "(%lu KiB left): error %ld\n", (unsigned long)room >> 10, err);
		return err;
	}
	ukvm_printf("ukvm: processes may use %lu KiB of kernel memory, %lu KiB kept for the kernel\n",
		    (unsigned long)(room - reserve) >> 10, reserve >> 10);
	spawn_headroom = (room - reserve) / 16 > SPAWN_HEADROOM_MIN ? (room - reserve) / 16
								     : SPAWN_HEADROOM_MIN;
	account_made = 1;
	return UK_OK;
}

/* The processes' account (for /proc/ukvm): kernel memory charged to it,
 * what it has left, and how many process tasks it owns. */
void ukvm_process_kmem(unsigned long *used, unsigned long *room, unsigned long *tasks)
{
	uk_word_t u = 0, r = 0;
	if (account_made) {
		uk_kmem_info(ACCOUNT_SLOT, &u, 0);
		uk_kmem_room(ACCOUNT_SLOT, &r);
	}
	*used = u;
	*room = r;
	*tasks = live_tasks;
}

/* A task made, not run yet: no longer counted ahead (also when it dies unrun). */
static void pending_done(int slot)
{
	if (pending_kmem[slot]) {
		pending_total -= pending_kmem[slot];
		pending_kmem[slot] = 0;
	}
}

void ukvm_process_ran(int slot)
{
	if (slot_in_use(slot))
		pending_done(slot);
}

/* A new address space, expected to be charged `expect` before it first
 * runs; refused while the account cannot give that, and what the tasks
 * not run yet will take, and keep spawn_headroom for the running ones. */
static int new_address_space(unsigned long expect)
{
	uk_word_t room = 0;
	if (!account_made && make_account())
		return -ENOMEM;
	if (!slot_map || uk_kmem_room(ACCOUNT_SLOT, &room))
		return -ENOMEM;
	if (expect < PROCESS_KMEM_BUDGET)
		expect = PROCESS_KMEM_BUDGET;
	if (room < spawn_headroom || room - spawn_headroom < pending_total + expect)
		return -ENOMEM;
	int slot = ukvm_slot_alloc();
	if (slot < 0) {
		ukvm_printf("ukvm: no capability slot left for a new address space\n");
		return -EAGAIN;
	}
	long err = uk_task_create_shared(slot, ~0ul, PROCESS_SLOTS, ACCOUNT_SLOT);
	ukvm_mm_forget(slot);
	if (err) {
		ukvm_slot_free(slot);
		return err == UK_E_NOMEM ? -ENOMEM : -EINVAL;
	}
	live_tasks++;
	pending_kmem[slot] = expect;
	pending_total += expect;
	return slot;
}

int start_userspace(unsigned long stub_stack)
{
	(void)stub_stack;
	return new_address_space(PROCESS_KMEM_BUDGET);
}

/* fork (and exec, from a process): a new, empty address space; arch/um's
 * fork_handler maps in every present page of the child's page tables
 * (force_flush_all) before it runs, as much as the parent (task `pid`)
 * is charged now. */
int copy_context_skas0(unsigned long stack, int pid)
{
	(void)stack;
	uk_word_t parent = 0;
	if (!slot_in_use(pid) || uk_kmem_info(pid, &parent, 0))
		parent = 0;
	return new_address_space(parent);
}

void os_kill_ptraced_process(int pid, int reap_child)
{
	(void)reap_child;
	if (!slot_in_use(pid))
		return;
	uk_obj_destroy(pid);        /* its mappings go with it */
	ukvm_kmem_given_back();     /* a map waiting for room may go on */
	pending_done(pid);
	ukvm_slot_free(pid);
	live_tasks--;
}

void os_kill_process(int pid, int reap_child)
{
	os_kill_ptraced_process(pid, reap_child);
}

void __switch_mm(struct mm_id *mm_idp)
{
	userspace_pid[0] = mm_idp->u.pid;
	kill_userspace_mm[0] = mm_idp->kill;
}

/* --- running a process ----------------------------------------------------
 * The state page's `user` and arch/um's regs->gp hold the same registers
 * in different orders. */
static void gp_to_uk(const unsigned long *gp, struct uk_regs *u)
{
	u->rax = gp[HOST_AX];
	u->rbx = gp[HOST_BX];
	u->rcx = gp[HOST_CX];
	u->rdx = gp[HOST_DX];
	u->rsi = gp[HOST_SI];
	u->rdi = gp[HOST_DI];
	u->rbp = gp[HOST_BP];
	u->rsp = gp[HOST_SP];
	u->r8 = gp[HOST_R8];
	u->r9 = gp[HOST_R9];
	u->r10 = gp[HOST_R10];
	u->r11 = gp[HOST_R11];
	u->r12 = gp[HOST_R12];
	u->r13 = gp[HOST_R13];
	u->r14 = gp[HOST_R14];
	u->r15 = gp[HOST_R15];
	u->rip = gp[HOST_IP];
	u->rflags = gp[HOST_EFLAGS];
	u->fs_base = gp[HOST_FS_BASE];
	u->gs_base = gp[HOST_GS_BASE];
}


/* A process's exit: its registers back into regs->gp, but for what cannot
 * have changed since gp_to_uk() -- its TLS bases (no FSGSBASE: only
 * arch_prctl changes them, in regs->gp) -- and, after `syscall`, rcx and
 * r11, which the microkernel does not keep (userspace() sets them). */
static inline void exit_frame_to_gp(const struct uk_regs *u, unsigned long *gp, int syscall)
{
	gp[HOST_AX] = u->rax;
	gp[HOST_BX] = u->rbx;
	gp[HOST_DX] = u->rdx;
	gp[HOST_SI] = u->rsi;
	gp[HOST_DI] = u->rdi;
	gp[HOST_BP] = u->rbp;
	gp[HOST_SP] = u->rsp;
	gp[HOST_R8] = u->r8;
	gp[HOST_R9] = u->r9;
	gp[HOST_R10] = u->r10;
	gp[HOST_R12] = u->r12;
	gp[HOST_R13] = u->r13;
	gp[HOST_R14] = u->r14;
	gp[HOST_R15] = u->r15;
	gp[HOST_IP] = u->rip;
	gp[HOST_EFLAGS] = u->rflags;
	if (!syscall) {
		gp[HOST_CX] = u->rcx;
		gp[HOST_R11] = u->r11;
	}
}

/* A whole frame (a guest kernel fault's, signal.c): the exit's stores
 * with rcx and r11, and the TLS bases. */
void ukvm_frame_to_gp(const struct uk_regs *u, unsigned long *gp)
{
	exit_frame_to_gp(u, gp, 0);
	gp[HOST_FS_BASE] = u->fs_base;
	gp[HOST_GS_BASE] = u->gs_base;
}

/* entry.c (ukvm_entry): where an exit goes back to, and where it saves the FPU state */
jmp_buf ukvm_resume_jmp;
void *ukvm_fp_area;
struct uml_pt_regs *ukvm_regs;      /* the registers arch_prctl works on */
extern void ukvm_fp_sanitize(unsigned long *fp);

/* An exception vector as the signal a Linux host would have sent. */
static int vector_signal(unsigned long vector)
{
	switch (vector) {
	case 0:  /* divide error */
	case 16: /* x87 */
	case 19: /* SIMD */
		return SIGFPE;
	case 1:  /* debug */
	case 3:  /* int3 */
		return SIGTRAP;
	case 6:  /* invalid opcode */
		return SIGILL;
	case 17: /* alignment check */
		return SIGBUS;
	default: /* 13 general protection and the rest */
		return SIGSEGV;
	}
}

static void handle_exception(struct uml_pt_regs *regs, unsigned long vector,
			     unsigned long error, unsigned long rip)
{
	siginfo_t si;
	int sig = vector_signal(vector);

	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_addr = (void *)rip;
	regs->faultinfo.trap_no = vector;
	regs->faultinfo.error_code = error;
	regs->faultinfo.cr2 = 0;
	switch (sig) {
	case SIGFPE:
		si.si_code = vector == 0 ? FPE_INTDIV : 0;
		break;
	case SIGILL:
		si.si_code = ILL_ILLOPN;
		break;
	case SIGTRAP:
		si.si_code = vector == 3 ? SI_KERNEL : TRAP_BRKPT;
		break;
	case SIGBUS:
		si.si_code = BUS_ADRALN;
		break;
	default:
		si.si_code = SI_KERNEL;
		break;
	}
	if (sig == SIGBUS)
		bus_handler(sig, (struct siginfo *)&si, regs);
	else
		relay_signal(sig, (struct siginfo *)&si, regs);
}

void userspace(struct uml_pt_regs *regs, unsigned long *aux_fp_regs)
{
	struct uk_vcpu_state *s = ukvm_vcpu;
	/* Is regs->fp to be checked before the next XRSTOR?  XSAVE at each
	 * exit (entry.c) keeps a valid area valid; only what Linux wrote into
	 * it can be malformed: a new process's area (fork, exec: valid, but
	 * checked once) and a sigreturn's, copied from the process's stack
	 * (sys_rt_sigreturn leaves the system call number -1). */
	int fp_unchecked = 1;
	(void)aux_fp_regs;

	interrupt_end();
	for (;;) {
		if (kill_userspace_mm[0])
			fatal_sigsegv();

		/* Interrupts off from here to the resume: an event that comes
		 * now stays pending, and RESUME then exits at once (EVENT). */
		block_signals();
		if (pending_kmem[userspace_pid[0]])     /* its first run: it has mapped its pages */
			ukvm_process_ran(userspace_pid[0]);
		gp_to_uk(regs->gp, &s->user);
		if (fp_unchecked) {
			ukvm_fp_sanitize(regs->fp);
			fp_unchecked = 0;
		}
		ukvm_fp_area = regs->fp;
		if (kernel_setjmp(ukvm_resume_jmp) == 0) {
			long err = uk_vcpu_resume_fpu(regs->fp, s->xsave_features,
						      userspace_pid[0], 0, 0, 0);
			unblock_signals();
			printk(UM_KERN_ERR "userspace: cannot resume address space %d: "
			       "error %ld\n", userspace_pid[0], err);
			fatal_sigsegv();
		}
		/* An exit: ukvm_entry (entry.c) saved the FPU state into regs->fp. */
		unsigned long reason = s->exit_reason;
		exit_frame_to_gp(&s->user, regs->gp, reason == UK_VCPU_EXIT_SYSCALL);
		regs->is_user = 1;
		ukvm_regs = regs;
		UPT_SYSCALL_NR(regs) = -1;   /* not a system call, unless it is */
		/* what the handlers below need, before unblock_signals() runs
		 * event handlers (the registers are in regs->gp already) */
		unsigned long addr = s->exit_addr, access = s->exit_access;
		unsigned long vector = s->user.vector, error = s->user.error;

		/* pending events first, as a host would; those that ended the
		 * process's run (EVENT) interrupted user mode */
		if (reason == UK_VCPU_EXIT_EVENT)
			ukvm_event_user_regs = regs;
		unblock_signals();
		ukvm_event_user_regs = NULL;
		switch (reason) {
		case UK_VCPU_EXIT_SYSCALL:
			/* what `syscall` did to rcx and r11 (the microkernel
			 * does not keep them), and what SYSEMU shows */
			regs->gp[HOST_CX] = regs->gp[HOST_IP];
			regs->gp[HOST_R11] = regs->gp[HOST_EFLAGS];
			regs->gp[HOST_ORIG_AX] = regs->gp[HOST_AX];
			regs->gp[HOST_AX] = -ENOSYS;
			handle_syscall(regs);
			if (UPT_SYSCALL_NR(regs) == -1)
				fp_unchecked = 1;   /* sigreturn (or a call skipped) */
			break;
		case UK_VCPU_EXIT_PAGE_FAULT:
			regs->faultinfo.cr2 = addr;
			regs->faultinfo.error_code = access;
			regs->faultinfo.trap_no = 14;
			segv_handler(SIGSEGV, NULL, regs);
			break;
		case UK_VCPU_EXIT_EXCEPTION:
			handle_exception(regs, vector, error, regs->gp[HOST_IP]);
			break;
		case UK_VCPU_EXIT_EVENT:
			break;                 /* unblock_signals() ran the handlers */
		default:
			printk(UM_KERN_ERR "userspace: unexpected exit %lu\n", reason);
			fatal_sigsegv();
		}
		interrupt_end();
		/* no -ERESTARTSYS handling by a host: not a system call now */
		PT_SYSCALL_NR(regs->gp) = -1;
	}
}

/* --- kernel threads: arch/um's, on setjmp/longjmp ------------------------ */
void new_thread(void *stack, jmp_buf *buf, void (*handler)(void))
{
	(*buf)[0].JB_IP = (unsigned long)handler;
	(*buf)[0].JB_SP = (unsigned long)stack + UM_THREAD_SIZE - sizeof(void *);
}

#define INIT_JMP_NEW_THREAD 0
#define INIT_JMP_CALLBACK 1
#define INIT_JMP_HALT 2
#define INIT_JMP_REBOOT 3

void switch_threads(jmp_buf *me, jmp_buf *you)
{
	if (UML_SETJMP(me) == 0)
		UML_LONGJMP(you, 1);
}

static jmp_buf initial_jmpbuf;
static void (*cb_proc)(void *arg);
static void *cb_arg;
static jmp_buf *cb_back;

int start_idle_thread(void *stack, jmp_buf *switch_buf)
{
	int n = kernel_setjmp(initial_jmpbuf);
	switch (n) {
	case INIT_JMP_NEW_THREAD:
		(*switch_buf)[0].JB_IP = (unsigned long)uml_finishsetup;
		(*switch_buf)[0].JB_SP = (unsigned long)stack + UM_THREAD_SIZE - sizeof(void *);
		break;
	case INIT_JMP_CALLBACK:
		(*cb_proc)(cb_arg);
		kernel_longjmp(*cb_back, 1);
		break;
	case INIT_JMP_HALT:
		kmalloc_ok = 0;
		return 0;
	case INIT_JMP_REBOOT:
		kmalloc_ok = 0;
		return 1;
	default:
		printk(UM_KERN_ERR "start_idle_thread: bad setjmp return %d\n", n);
		fatal_sigsegv();
	}
	kernel_longjmp(*switch_buf, 1);
	return 0;
}

void initial_thread_cb_skas(void (*proc)(void *), void *arg)
{
	jmp_buf here;

	cb_proc = proc;
	cb_arg = arg;
	cb_back = &here;
	block_signals_trace();
	if (UML_SETJMP(&here) == 0)
		UML_LONGJMP(&initial_jmpbuf, INIT_JMP_CALLBACK);
	unblock_signals_trace();
	cb_proc = NULL;
	cb_arg = NULL;
	cb_back = NULL;
}

void halt_skas(void)
{
	block_signals_trace();
	UML_LONGJMP(&initial_jmpbuf, INIT_JMP_HALT);
}

void reboot_skas(void)
{
	block_signals_trace();
	UML_LONGJMP(&initial_jmpbuf, INIT_JMP_REBOOT);
}

int is_skas_winch(int pid, int fd, void *data)
{
	(void)pid; (void)fd; (void)data;
	return 0;
}

/* --- host processes and helpers: there are none ------------------------ */
int os_getpid(void) { return 1; }
int os_getpgrp(void) { return 1; }
unsigned long os_process_pc(int pid) { (void)pid; return -1ul; }
int os_process_parent(int pid) { (void)pid; return -1; }
void os_alarm_process(int pid) { (void)pid; }
void os_stop_process(int pid) { (void)pid; }
int execvp_noalloc(char *buf, const char *file, char *const argv[])
{
	(void)buf; (void)file; (void)argv;
	return -ENOSYS;
}
int run_helper(void (*pre_exec)(void *), void *pre_data, char **argv)
{
	(void)pre_exec; (void)pre_data; (void)argv;
	return -ENOSYS;
}
int run_helper_thread(int (*proc)(void *), void *arg, unsigned int flags,
		      unsigned long *stack_out)
{
	(void)proc; (void)arg; (void)flags; (void)stack_out;
	return -ENOSYS;
}
int helper_wait(int pid) { (void)pid; return -ENOSYS; }
