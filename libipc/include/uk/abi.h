/*
 * The one place for every number shared by the microkernel, libipc, the
 * root task, the vmm-server and the guest: system-call numbers, error codes,
 * capability types and rights, the message-info word, fault-message layouts
 * and the boot-info page. docs/ABI.md explains each; this file is the truth.
 *
 * Freestanding: no libc headers, so it compiles into the kernel, user tasks
 * and the host unit tests alike.
 */
#ifndef UK_ABI_H
#define UK_ABI_H

typedef unsigned long uk_word_t;   /* one machine word (64 bits) */

/* ------------------------------------------------------------------ */
/* Memory: pages and the user half of an address space. */
#define UK_PAGE_SHIFT 12
#define UK_PAGE_SIZE  (1ul << UK_PAGE_SHIFT)   /* 4096: the unit of every mapping */
/* The two limits of user space:
 *  - UK_USER_MAP_TOP: the top of what may be mapped.  User code, rip, TLS
 *    bases, IPC buffers and mappings lie below it; the last page below
 *    UK_USER_HALF_END is never mapped, so that sysret never returns to a
 *    non-canonical address (and a bad guest entry point faults there).
 *  - UK_USER_HALF_END: the end of the canonical lower half, the first
 *    address that is no user address at all (non-canonical up to the
 *    kernel half). */
#define UK_USER_MAP_TOP   0x00007ffffffff000ul
#define UK_USER_HALF_END  0x0000800000000000ul

/* ------------------------------------------------------------------ */
/* System calls.  Number in rax; arguments in rdi, rsi, rdx, r10, r8, r9.
 * Results: rax = error code (UK_OK or UK_E*), then per call in rdi, rsi,
 * rdx, r10, r8, r9.  rcx and r11 are clobbered (the syscall instruction);
 * rbx, rbp, rsp, r12-r15 are preserved. */
enum uk_syscall {
    UK_SYS_NULL = 0,          /* no-op; measures kernel entry and exit */
    /* IPC: rdi = cap, rsi = msginfo, rdx/r10/r8/r9 = message words 0-3 */
    UK_SYS_CALL,              /* send to endpoint, wait for the reply */
    UK_SYS_REPLY_RECV,        /* reply to the last caller, then receive */
    UK_SYS_SEND,              /* send to endpoint (or reply cap), no reply */
    UK_SYS_RECV,              /* receive from endpoint or notification */
    UK_SYS_REPLY,             /* reply to the last caller only */
    UK_SYS_SIGNAL,            /* rdi = notification cap: OR its badge in */
    UK_SYS_REPLY_SAVE,        /* rdi = slot: keep the one-shot reply right */
    UK_SYS_YIELD,
    /* Objects and capabilities */
    UK_SYS_ENDPOINT_CREATE,   /* rdi = dst slot */
    UK_SYS_NOTIF_CREATE,      /* rdi = dst slot */
    UK_SYS_TASK_CREATE,       /* rdi = dst slot, rsi = kmem quota bytes, rdx = cap slots
                                 | UK_TASK_* flags, r10 = owner task cap (0: the caller) */
    UK_SYS_THREAD_CREATE,     /* rdi = dst slot, rsi = task cap */
    UK_SYS_OBJ_DESTROY,       /* rdi = cap (needs UK_R_DESTROY); rsi = 0 (the kernel
                                 writes UK_DESTROY_GOING_ON there between parts) */
    UK_SYS_CAP_COPY,          /* rdi = src slot, rsi = dst task cap, rdx = dst slot,
                                 r10 = rights mask, r8 = badge (0: keep) */
    UK_SYS_CAP_DELETE,        /* rdi = task cap, rsi = slot */
    UK_SYS_CAP_INFO,          /* rdi = slot -> rdi = type, rsi = rights, rdx = badge
                                 (IOPORT: first port | count << 32; IRQ: line) */
    /* Threads */
    UK_SYS_THREAD_CONFIG,     /* rdi = thread, rsi = priority, rdx = fault ep cap
                                 (in the caller's table, copied), r10 = IPC buffer vaddr */
    UK_SYS_THREAD_START,      /* rdi = thread, rsi = rip, rdx = rsp, r10 = rdi for it */
    UK_SYS_THREAD_SUSPEND,    /* rdi = thread, or 0 for the calling thread */
    UK_SYS_THREAD_RESUME,     /* rdi = thread: run on with its saved registers */
    UK_SYS_THREAD_READ_REGS,  /* rdi = thread -> struct uk_regs in caller's IPC buffer */
    UK_SYS_THREAD_WRITE_REGS, /* rdi = thread <- struct uk_regs in caller's IPC buffer */
    UK_SYS_THREAD_SET_TLS,    /* rdi = fs base, rsi = gs base (calling thread) */
    UK_SYS_NOTIF_BIND,        /* rdi = notification, rsi = thread (0: unbind) */
    /* Memory: pages of the caller's own address space, by virtual address */
    UK_SYS_MAP,               /* rdi = dst task cap, rsi = src vaddr, rdx = dst vaddr,
                                 r10 = npages, r8 = rights (UK_MAP_*) */
    UK_SYS_UNMAP,             /* rdi = task cap, rsi = vaddr, rdx = npages */
    UK_SYS_PROTECT,           /* rdi = task cap, rsi = vaddr, rdx = npages, r10 = rights */
    UK_SYS_MEM_INFO,          /* rdi = vaddr (own) -> rdi = phys, rsi = rights */
    UK_SYS_KMEM_INFO,         /* rdi = task cap -> rdi = used, rsi = quota, rdx = room
                                 (what it may still be charged, its owners' limits too) */
    /* Devices */
    UK_SYS_IRQ_GET,           /* rdi = irq-control cap, rsi = irq, rdx = dst slot */
    UK_SYS_IRQ_BIND,          /* rdi = irq cap, rsi = notification cap */
    UK_SYS_IRQ_ACK,           /* rdi = irq cap: unmask the line again */
    UK_SYS_IOPORT_ISSUE,      /* rdi = ioport cap, rsi = first port, rdx = count,
                                 r10 = dst slot: a cap for a sub-range */
    UK_SYS_IOPORT_IN,         /* rdi = ioport cap, rsi = port, rdx = width 1/2/4 -> rdi */
    UK_SYS_IOPORT_OUT,        /* rdi = ioport cap, rsi = port, rdx = width, r10 = value */
    /* vCPUs: the paravirtualisation interface (struct uk_vcpu_state) */
    UK_SYS_VCPU_CONFIG,       /* rdi = thread, rsi = address in the thread's task where
                                 the kernel maps the vCPU's state page, rdx = UK_VCPU_F_* */
    UK_SYS_VCPU_RESUME,       /* (calling vCPU) rdi = process task cap: run its user code
                                 with state.user; 0: return to state.saved.  A mapping may
                                 ride along: rsi = source page (caller's task), rdx =
                                 destination page (process task), r10 = UK_MAP_* (0: none).
                                 Does not return on success: the next exit enters the
                                 guest kernel at state.entry_ip. */
    /* Debugging and measurement */
    UK_SYS_DEBUG_PUTS,        /* rdi = debug cap (UK_R_WRITE), rsi = buffer,
                                 rdx = length (<= UK_DEBUG_PUTS_MAX): to the kernel log */
    UK_SYS_DEBUG_STATS,       /* rdi = debug cap (UK_R_READ) -> struct uk_stats (the
                                 whole machine's counters) in caller's IPC buffer */
    UK_SYS_COUNT
};

/* Error codes, returned in rax. */
enum uk_error {
    UK_OK = 0,
    UK_E_CAP,        /* slot out of range or empty */
    UK_E_CAP_TYPE,   /* capability of the wrong type for this call */
    UK_E_RIGHTS,     /* capability lacks a right this call needs */
    UK_E_ADDR,       /* address not user, not canonical, or not mapped as needed */
    UK_E_NOT_MAPPED, /* source memory not mapped in the caller (not its to give) */
    UK_E_NOMEM,      /* kernel-memory quota (of the task charged) or pool exhausted */
    UK_E_INVAL,      /* argument out of range */
    UK_E_NOSYS,      /* unknown system call number */
    UK_E_MSG_LEN,    /* message longer than UK_MSG_MAX_WORDS */
    UK_E_TIMEOUT,    /* the IPC timeout expired (or was zero and no partner) */
    UK_E_DESTROYED,  /* object destroyed while the caller waited on it */
    UK_E_BUSY,       /* destination slot or mapping already in use */
    UK_E_STATE,      /* object in a state that does not allow this call */
    UK_E_NO_REPLY,   /* reply with no caller waiting */
    UK_E_RANGE,      /* I/O port or IRQ outside what the capability covers */
    UK_E_CANCELLED,  /* the thread was suspended while blocked in this call */
    UK_E_COUNT
};

/* ------------------------------------------------------------------ */
/* Capabilities.  A slot index names a capability in the caller's table. */
enum uk_cap_type {
    UK_CAP_NULL = 0,
    UK_CAP_TASK,
    UK_CAP_THREAD,
    UK_CAP_ENDPOINT,
    UK_CAP_NOTIFICATION,
    UK_CAP_REPLY,        /* one-shot right to reply to a blocked caller */
    UK_CAP_IRQ_CONTROL,  /* may create IRQ handler caps */
    UK_CAP_IRQ,          /* one IRQ line */
    UK_CAP_IOPORT,       /* a range of I/O ports */
    UK_CAP_DEBUG,        /* the kernel's debug facilities: UK_R_WRITE writes the
                            kernel log (COM1), UK_R_READ reads the machine-wide
                            counters.  A privilege: the root task holds it and
                            grants it to the servers it trusts, never to a guest
                            kernel (a guest gets READ only with `guest ... stats`) */
    UK_CAP_TYPE_COUNT
};

/* Rights bits (a copy may only drop rights). */
#define UK_R_READ     0x01u  /* endpoint: receive; notification: wait */
#define UK_R_WRITE    0x02u  /* endpoint: send/call; notification: signal */
#define UK_R_CONTROL  0x04u  /* task/thread: configure, map, manage caps */
#define UK_R_DESTROY  0x08u  /* may destroy the object */
#define UK_R_ALL      0x0fu

/* Slots the root task finds filled at start. */
#define UK_SLOT_NULL        0u   /* always empty */
#define UK_SLOT_SELF_TASK   1u
#define UK_SLOT_SELF_THREAD 2u
#define UK_SLOT_IRQ_CONTROL 3u
#define UK_SLOT_IOPORT_ALL  4u
#define UK_SLOT_DEBUG       5u   /* the debug cap, where a task has one: the root
                                    task from boot, every program it trusts at the
                                    same slot (libuser's printf writes through it) */
#define UK_SLOT_FIRST_FREE  8u
#define UK_ROOT_CAP_SLOTS   4096u /* size of the root task's table */
#define UK_MAX_CAP_SLOTS    65536u

/* UK_SYS_TASK_CREATE, rdx: the table size in the low 32 bits, flags above.
 * UK_TASK_SHARED: nothing is set aside; the quota (rsi) is a limit, and
 * each charge to the new task is made at once to the owner's quota too
 * (and up the owner's chain if it is shared as well). */
#define UK_TASK_SLOTS_MASK  0xfffffffful
#define UK_TASK_SHARED      (1ul << 32)

/* ------------------------------------------------------------------ */
/* The message-info word (rsi), in and out of every IPC call:
 *   bits  0-7   length: message words (0..UK_MSG_MAX_WORDS)
 *   bits  8-23  timeout, encoded (UK_TIMEOUT_*), ignored on output
 *   bits 24-31  flags (output only: UK_MSGF_*)
 *   bits 32-63  label: the sender's meaning of the message
 * Words 0-3 travel in rdx, r10, r8, r9; words 4.. in the IPC buffer, at the
 * same index (the buffer's words 0-3 are not used). */
#define UK_MSG_REG_WORDS   4u
#define UK_MSG_MAX_WORDS   64u

#define UK_TIMEOUT_INFINITE 0xffffu
#define UK_TIMEOUT_ZERO     0x0000u
/* A finite timeout is m << e microseconds: e in bits 11-15, m (1..2047) in
 * bits 0-10.  UK_TIMEOUT_US() encodes, rounding up to the next step. */

/* Output flags */
#define UK_MSGF_NOTIFY  0x01u   /* receive returned a bound notification:
                                   badge word = the notification bits */
#define UK_MSGF_FAULT   0x02u   /* message was made by the kernel for a fault */

static inline uk_word_t uk_msginfo(uk_word_t label, uk_word_t len, uk_word_t timeout)
{
    return (label << 32) | ((timeout & 0xffffu) << 8) | (len & 0xffu);
}
/* Tests and masks in place (no shifts), for the kernel's IPC fast path: */
/* info's timeout field is t (an encoded timeout, 16 bits) */
static inline int uk_msg_timeout_is(uk_word_t info, uk_word_t t)
{
    return (info & 0xffff00u) == (t << 8);
}
/* info's label and length, the timeout and flags cleared */
static inline uk_word_t uk_msg_label_len(uk_word_t info)
{
    return info & ~(0xfffffful << 8);
}
/* The word a receiver gets: label, length and output flags, no timeout. */
static inline uk_word_t uk_msginfo_out(uk_word_t label, uk_word_t len, uk_word_t flags)
{
    return (label << 32) | ((flags & 0xffu) << 24) | (len & 0xffu);
}
static inline uk_word_t uk_msg_len(uk_word_t info)     { return info & 0xffu; }
static inline uk_word_t uk_msg_timeout(uk_word_t info) { return (info >> 8) & 0xffffu; }
static inline uk_word_t uk_msg_flags(uk_word_t info)   { return (info >> 24) & 0xffu; }
static inline uk_word_t uk_msg_label(uk_word_t info)   { return info >> 32; }

static inline uk_word_t uk_timeout_us(uk_word_t us)
{
    uk_word_t e = 0;
    if (us == 0)
        return UK_TIMEOUT_ZERO;
    if (us > (2047ul << 30))
        return UK_TIMEOUT_INFINITE - 1;      /* the longest finite one; no overflow below */
    while (e < 32 && ((us + (1ul << e) - 1) >> e) > 2047u)
        e++;
    if (e > 31)
        return UK_TIMEOUT_INFINITE - 1;      /* the longest finite one */
    uk_word_t t = (e << 11) | ((us + (1ul << e) - 1) >> e);
    return t == UK_TIMEOUT_INFINITE ? t - 1 : t;
}
/* Microseconds of an encoded finite timeout. */
static inline uk_word_t uk_timeout_decode(uk_word_t t)
{
    return (t & 0x7ffu) << ((t >> 11) & 0x1fu);
}

/* ------------------------------------------------------------------ */
/* Faults.  A thread's fault endpoint receives a message the kernel builds,
 * flags UK_MSGF_FAULT, badge = the fault endpoint cap's badge. */
enum uk_fault_label {
    UK_FAULT_PAGE = 0xfff0,   /* w0 = address, w1 = access (UK_ACCESS_*),
                                 w2 = rip, w3 = thread's fault badge */
    UK_FAULT_EXCEPTION,       /* words: struct uk_regs (UK_REGS_WORDS) */
};
#define UK_ACCESS_READ   0x1u
#define UK_ACCESS_WRITE  0x2u
#define UK_ACCESS_EXEC   0x4u
#define UK_ACCESS_USER   0x8u
#define UK_ACCESS_PRESENT 0x10u  /* the page was mapped, rights were lacking */

/* Replies to a page fault: label UK_FAULT_REPLY_MAP maps w2 pages with
 * rights w3 from the pager's address w0 to the faulting task's address w1,
 * then resumes the thread; the reply's result (to the pager) is the map's.
 * Any other reply resumes the thread, which retries the access. */
#define UK_FAULT_REPLY_MAP   0xfff8u
/* Replies to an exception: label UK_FAULT_REPLY_REGS with UK_REGS_WORDS
 * words sets the registers then resumes; UK_FAULT_REPLY_STOP leaves the
 * thread stopped; anything else resumes it unchanged. */
#define UK_FAULT_REPLY_REGS  0xfff9u
#define UK_FAULT_REPLY_STOP  0xfffau

/* A thread's user registers, as words of a message or an IPC buffer. */
struct uk_regs {
    uk_word_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uk_word_t r8, r9, r10, r11, r12, r13, r14, r15;
    uk_word_t rip, rflags, fs_base, gs_base;
    uk_word_t vector, error, cr2;   /* read only: the last exception */
};
#define UK_REGS_WORDS (sizeof(struct uk_regs) / sizeof(uk_word_t))
/* The rflags bits a register write may set (CF PF AF ZF SF TF DF OF AC ID);
 * IF is always on, IOPL, NT, RF and VM always off. */
#define UK_RFLAGS_USER 0x240dd5ul

/* Mapping rights (UK_SYS_MAP / PROTECT); a mapping can only lose rights. */
#define UK_MAP_READ   0x1u
#define UK_MAP_WRITE  0x2u
#define UK_MAP_EXEC   0x4u
#define UK_MAP_RWX    0x7u
#define UK_MAP_MAX_PAGES 0x10000u   /* one call covers at most 256 MiB */
#define UK_PREEMPT_PAGES 1024u      /* MAP, UNMAP, PROTECT: a preemption point after this
                                       many (mapped) pages (docs/ABI.md §9.10) */
/* OBJ_DESTROY goes in parts too (docs/ABI.md §9.10): between them the kernel
 * returns to user level with rsi = this, so that the call, going on, knows
 * an empty slot (another call finished the destruction) means done. */
#define UK_DESTROY_GOING_ON 0xd1e5d1e5d1e5d1e5ul
#define UK_MAP_MAX_DEPTH 40u        /* a mapping derives through at most this many others
                                       (more than task nesting, 32: each level may re-map) */

/* ------------------------------------------------------------------ */
/* The IPC buffer: one page per thread, at a page-aligned address chosen
 * with UK_SYS_THREAD_CONFIG. */
struct uk_ipc_buffer {
    uk_word_t msg[UK_MSG_MAX_WORDS];   /* words 4.. of a long message */
    uk_word_t data[512 - UK_MSG_MAX_WORDS - 1]; /* regs, stats and friends */
    uk_word_t user_self;               /* the kernel never touches it: libipc
                                          keeps the buffer's address here and
                                          the thread's gs base at the buffer */
};

/* Event counters kept by the kernel since boot (UK_SYS_DEBUG_STATS). */
struct uk_stats {
    uk_word_t kernel_entries;    /* syscalls, exceptions and interrupts */
    uk_word_t as_switches;       /* writes of cr3 that changed address space */
    uk_word_t tlb_flushes;       /* full flushes plus invlpg page flushes */
    uk_word_t ipc_fastpath;      /* IPCs served by the fast path */
    uk_word_t ipc_slowpath;
    uk_word_t free_frames;       /* kernel pool pages not in use */
    uk_word_t kmem_bytes_used;   /* kernel memory charged to all tasks */
    uk_word_t caller_kmem_used;  /* charged to the calling task */
    uk_word_t caller_kmem_quota;
    uk_word_t timer_ticks;
    uk_word_t fpu_switches;      /* FPU register sets saved and reloaded */
    uk_word_t idle_tsc;          /* TSC ticks spent halted with nothing to run */
    uk_word_t preemptions;       /* long requests (MAP, UNMAP, PROTECT, OBJ_DESTROY) that
                                    stopped at a preemption point, to go on after a return
                                    to user */
    uk_word_t destroy_part_max;  /* TSC ticks (instructions under tcg-icount) of the
                                    longest part of an OBJ_DESTROY since boot, measured
                                    in sys_obj_destroy (entry and exit not included) */
};

#define UK_DEBUG_PUTS_MAX 1024u

/* ------------------------------------------------------------------ */
/* The vCPU state page, shared by a vCPU thread's guest kernel and the
 * microkernel (one page, kernel memory, mapped by UK_SYS_VCPU_CONFIG).
 *
 * The guest kernel runs a guest process with UK_SYS_VCPU_RESUME, which
 * loads `user` and enters the process's address space.  Every exit --
 * a syscall instruction, an exception or page fault of the process, an
 * event -- saves the process's registers in `user`, sets exit_reason and
 * enters the guest kernel at entry_ip with rsp = entry_sp, rdi = the state
 * page's address and irq_enabled = 0.  An event for the vCPU while its
 * guest kernel runs with irq_enabled = 1 is an upcall: the interrupted
 * frame goes to `saved` and the kernel is entered the same way; RESUME
 * with task 0 restores `saved` and sets irq_enabled = 1.  With
 * irq_enabled = 0 an event only sets bits in `pending`: enabling is a store
 * and a check of `pending`, no kernel entry.
 *
 * FPU: a vCPU thread has one FPU context, which its processes share with
 * its guest kernel; the guest kernel keeps each process's FPU state itself
 * with XSAVE/XRSTOR (unprivileged), areas of xsave_size bytes. */
enum uk_vcpu_exit {
    UK_VCPU_EXIT_NONE = 0,
    UK_VCPU_EXIT_SYSCALL,      /* process ran `syscall`; user.rip is after it */
    UK_VCPU_EXIT_EXCEPTION,    /* process exception: user.vector, user.error */
    UK_VCPU_EXIT_PAGE_FAULT,   /* process page fault: exit_addr, exit_access */
    UK_VCPU_EXIT_EVENT,        /* process interrupted by an event (pending) */
    UK_VCPU_EXIT_UPCALL,       /* guest kernel interrupted by an event: frame in saved */
    UK_VCPU_EXIT_KERNEL_FAULT, /* guest kernel faulted (UK_VCPU_F_KERNEL_FAULTS):
                                  frame in saved, exit_addr/exit_access for a page fault */
};

#define UK_VCPU_F_KERNEL_FAULTS 0x1u   /* faults of the guest kernel come as exits
                                          (else as IPC to its fault endpoint) */

struct uk_vcpu_state {
    struct uk_regs user;            /* the process's registers */
    struct uk_regs saved;           /* the guest kernel's interrupted frame */
    uk_word_t exit_reason;          /* enum uk_vcpu_exit */
    uk_word_t exit_addr;            /* page-fault address */
    uk_word_t exit_access;          /* UK_ACCESS_* of a page fault */
    uk_word_t entry_ip;             /* where every exit enters the guest kernel */
    uk_word_t entry_sp;             /* and with which stack */
    volatile uk_word_t irq_enabled; /* the virtual interrupt flag */
    volatile uk_word_t pending;     /* event bits not yet taken */
    uk_word_t xsave_size;           /* bytes of an XSAVE area (CPUID 0xD, XCR0) */
    uk_word_t xsave_features;       /* XCR0: the rfbm for XSAVE/XRSTOR */
    uk_word_t exits;                /* count of exits (for measurement) */
};

/* ------------------------------------------------------------------ */
/* Virtual devices (docs/vmm-server.md).  A guest kernel calls its vmm-server on
 * the endpoint in its slot UK_GUEST_SLOT_VMM; the label is the operation,
 * the reply's rax-level result is the IPC's, its w0 the device's status
 * (0 or a negative UK_VDEV_E*).  Bytes travel packed 8 to a word,
 * little-endian, in message words 1.. (the IPC buffer past word 3). */
enum uk_vdev_op {
    UK_VDEV_CONSOLE_WRITE = 0x100,  /* w0 = byte count (<= UK_VDEV_BYTES_MAX), bytes
                                       from w1 -> w0 = status, w1 = bytes taken; for
                                       UK_VDEV_EAGAIN (flow control) w1 = nanoseconds
                                       until a write of this size would be taken */
    UK_VDEV_CONSOLE_READ,           /* w0 = at most this many bytes -> w0 = status,
                                       w1 = count, bytes from w2; 0 bytes if none:
                                       UK_VDEV_EVENT_CONSOLE says when some came */
    UK_VDEV_TIMER_SET,              /* w0 = first expiry in ns from now (0: stop),
                                       w1 = period in ns (0: one-shot) -> w0 = status;
                                       expiries arrive as UK_VDEV_EVENT_TIMER */
    UK_VDEV_CLOCK_GET,              /* -> w0 = status, w1 = wall clock (ns since 1970)
                                       at TSC w2; w3 = TSC ticks per second */
    UK_VDEV_POWER,                  /* w0 = UK_VDEV_POWER_HALT or _REBOOT, for HALT
                                       w1 = the exit status, 0..UK_VDEV_POWER_STATUS_MAX
                                       (no w1: 0): no reply, the guest stops (and
                                       starts again); the status goes to the root
                                       (UK_VMM_MSG_ENDED) */
    /* The guest's disk (`guest ... disk=N`: the block server's disk N,
     * docs/storage.md), through its vmm-server; a guest without one gets
     * UK_VDEV_ENODEV.  Buffers are guest addresses inside its RAM
     * (uk_guest_info ram_base..: the boot pages below count too). */
    UK_VDEV_BLOCK_INFO,             /* -> w0 = status, w1 = sectors (512 bytes),
                                       w2 = UK_BLK_F_* (uk/blk.h), w3 = sectors one
                                       request may move at most */
    UK_VDEV_BLOCK_READ,             /* w0 = first sector, w1 = sectors (1..w3 of INFO),
                                       w2 = buffer (guest address) -> w0 = status:
                                       0, UK_VDEV_EINVAL (count), _ERANGE (sectors not
                                       on the disk), _EFAULT (buffer not in its RAM),
                                       _EIO (the disk failed) */
    UK_VDEV_BLOCK_WRITE,            /* the same, buffer -> disk */
    UK_VDEV_BLOCK_FLUSH,            /* -> w0 = status: acknowledged writes are stable */

    /* Virtio devices (docs/storage.md "The Linux side"): the guest's own
     * virtio driver (Linux: upstream virtio_blk, virtio_net) on our
     * transport.  The devices are listed in uk_guest_info.virtio[]; w0 is
     * always the device's number there (else UK_VDEV_ENODEV).  Split
     * virtqueues in guest RAM, as in the virtio 1.x spec; the driver gives
     * "bus addresses" and, once per queue, the guest address of bus
     * address 0 (Linux arch/um: its physical address 0); every descriptor
     * is checked against guest RAM when the vmm-server uses it.  A chain
     * the device is done with goes to the used ring and raises event
     * UK_VDEV_EVENT_VIRTIO(device, queue) (unless the avail ring says
     * VRING_AVAIL_F_NO_INTERRUPT).  Separate numbers, so that other
     * operations can grow above without moving these. */
    UK_VDEV_VIRTIO_FEATURES = 0x180, /* -> w0 = status, w1 = the device's feature bits */
    UK_VDEV_VIRTIO_SET_FEATURES,    /* w1 = the driver's: a subset -> w0 = status
                                       (UK_VDEV_EINVAL: not a subset) */
    UK_VDEV_VIRTIO_CONFIG,          /* w1 = offset, w2 = bytes (1, 2, 4 or 8) in the
                                       device's configuration space -> w0 = status,
                                       w1 = the value (little-endian) */
    UK_VDEV_VIRTIO_QUEUE,           /* w1 = queue, w2 = its size (a power of 2 <=
                                       UK_VIRTIO_QUEUE_MAX; 0: the queue is off),
                                       w3, w4, w5 = bus addresses of its descriptor
                                       table, avail ring and used ring, w6 = guest
                                       address of bus address 0 -> w0 = status
                                       (UK_VDEV_EFAULT: a ring not in guest RAM) */
    UK_VDEV_VIRTIO_NOTIFY,          /* w1 = queue: new chains in its avail ring ->
                                       w0 = status; the chains are served after the
                                       reply: done when in the used ring (the event) */
    UK_VDEV_VIRTIO_RESET,           /* -> w0 = status: every queue off, features 0;
                                       no chain of before is touched after the reply */
};
#define UK_VDEV_POWER_HALT    0u
#define UK_VDEV_POWER_REBOOT  1u
#define UK_VDEV_POWER_STATUS_MAX 255u
#define UK_VDEV_POWER_STATUS_PANIC 1u  /* a guest kernel that stopped abnormally (the Linux
                                         guest's panic, abort, a failed exit): the supervisor
                                         repairs it as a guest fault (roottask/supervise.c) */
#define UK_VDEV_BYTES_MAX     ((UK_MSG_MAX_WORDS - 2u) * 8u)   /* 496 bytes a message */
#define UK_VDEV_EINVAL        (-22l)   /* malformed request (length, operation) */
#define UK_VDEV_EFAULT        (-14l)   /* bytes not where the message says */
#define UK_VDEV_EAGAIN        (-11l)   /* try again (flow control) */
#define UK_VDEV_EPERM         (-1l)    /* not this caller's to ask (badge) */
#define UK_VDEV_EIO           (-5l)    /* the device failed the request */
#define UK_VDEV_ENODEV        (-19l)   /* no such device for this guest */
#define UK_VDEV_ERANGE        (-34l)   /* outside the device (sectors past the disk's end) */
/* A request's status when the IPC itself failed, not the server: every
 * program that folds "the call failed with UK_E_x" and "the server answered
 * status st" into one value (a virtual-device or console-server request)
 * reports the former as uk_ipc_failed(x) = UK_IPC_FAILED_BASE - x, below
 * every server status (0, UK_VDEV_E*), never equal to one. */
#define UK_IPC_FAILED_BASE    (-1000l)
static inline long uk_ipc_failed(long err) { return UK_IPC_FAILED_BASE - err; }
static inline int uk_is_ipc_failure(long status) { return status < UK_IPC_FAILED_BASE; }
/* Event bits the vmm-server signals on the guest's event notification
 * (bound to its vCPU: they arrive in uk_vcpu_state.pending). */
#define UK_VDEV_EVENT_TIMER   0x1u
#define UK_VDEV_EVENT_CONSOLE 0x2u
#define UK_VDEV_EVENT_POWER   0x8u   /* the machine's power button (docs/shutdown.md):
                                        power off in an orderly way (UK_VDEV_POWER HALT,
                                        status 0); the vmm-server does not force it, the
                                        root task's timeout does */
/* Virtio (UK_VDEV_VIRTIO_*): one bit per device and queue, from bit 16
 * (bits 16-31; the bits above are TIMER, CONSOLE, POWER: kept below 16). */
#define UK_VIRTIO_MAX_DEVS    4u     /* devices a guest may have */
#define UK_VIRTIO_MAX_QUEUES  4u     /* queues a device may have */
#define UK_VIRTIO_QUEUE_MAX   256u   /* entries a queue may have */
#define UK_VDEV_EVENT_VIRTIO_SHIFT 16u
#define UK_VDEV_EVENT_VIRTIO(dev, q) \
    (1ul << (UK_VDEV_EVENT_VIRTIO_SHIFT + (dev) * UK_VIRTIO_MAX_QUEUES + (q)))
#define UK_VDEV_EVENT_VIRTIO_ALL \
    (((1ul << (UK_VIRTIO_MAX_DEVS * UK_VIRTIO_MAX_QUEUES)) - 1) << UK_VDEV_EVENT_VIRTIO_SHIFT)
_Static_assert(!((UK_VDEV_EVENT_TIMER | UK_VDEV_EVENT_CONSOLE | UK_VDEV_EVENT_POWER)
                 & UK_VDEV_EVENT_VIRTIO_ALL), "event bits overlap");
/* Device types: the virtio spec's device IDs. */
#define UK_VIRTIO_ID_NET      1u
#define UK_VIRTIO_ID_BLOCK    2u
/* The split virtqueue's layout (virtio 1.x, 2.7), little-endian. */
struct uk_vring_desc { unsigned long long addr; unsigned int len; unsigned short flags, next; };
#define UK_VRING_DESC_F_NEXT     1u
#define UK_VRING_DESC_F_WRITE    2u  /* device-writable */
#define UK_VRING_DESC_F_INDIRECT 4u  /* not offered: refused */
struct uk_vring_avail { unsigned short flags, idx, ring[]; };
#define UK_VRING_AVAIL_F_NO_INTERRUPT 1u
struct uk_vring_used_elem { unsigned int id, len; };
struct uk_vring_used { unsigned short flags, idx; struct uk_vring_used_elem ring[]; };
#define UK_VIRTIO_F_VERSION_1 (1ul << 32)
/* virtio-blk (virtio 1.x, 5.2): what the vmm-server's disk offers */
#define UK_VIRTIO_BLK_F_RO       (1ul << 5)
#define UK_VIRTIO_BLK_F_SEG_MAX  (1ul << 2)
#define UK_VIRTIO_BLK_F_BLK_SIZE (1ul << 6)
#define UK_VIRTIO_BLK_F_FLUSH    (1ul << 9)
#define UK_VIRTIO_BLK_CFG_CAPACITY 0u   /* config space: u64, 512-byte sectors */
#define UK_VIRTIO_BLK_CFG_SEG_MAX  12u  /* u32 */
#define UK_VIRTIO_BLK_CFG_BLK_SIZE 20u  /* u32 */
#define UK_VIRTIO_BLK_CFG_SIZE     24u
/* A request: this header (device-readable, the chain's first descriptor),
 * data, and a status byte (the last byte of the last descriptor,
 * device-writable). */
struct uk_virtio_blk_hdr { unsigned int type, reserved; unsigned long long sector; };
#define UK_VIRTIO_BLK_T_IN     0u
#define UK_VIRTIO_BLK_T_OUT    1u
#define UK_VIRTIO_BLK_T_FLUSH  4u
#define UK_VIRTIO_BLK_T_GET_ID 8u
#define UK_VIRTIO_BLK_ID_BYTES 20u
#define UK_VIRTIO_BLK_S_OK     0u
#define UK_VIRTIO_BLK_S_IOERR  1u
#define UK_VIRTIO_BLK_S_UNSUPP 2u
/* virtio-net (virtio 1.x, 5.1): what the vmm-server's NIC offers (no
 * offloads: the guest computes its checksums, frames are at most
 * UK_NET_FRAME_MAX bytes) */
#define UK_VIRTIO_NET_F_MAC      (1ul << 5)
#define UK_VIRTIO_NET_CFG_MAC    0u     /* config space: 6 bytes */
#define UK_VIRTIO_NET_CFG_SIZE   8u     /* mac, and status (not offered: reads 0) */
#define UK_VIRTIO_NET_Q_RX       0u
#define UK_VIRTIO_NET_Q_TX       1u
/* Every frame in either queue comes after this header (12 bytes with
 * VERSION_1; a legacy driver without MRG_RXBUF omits num_buffers: 10). */
struct uk_virtio_net_hdr {
    unsigned char flags, gso_type;
    unsigned short hdr_len, gso_size, csum_start, csum_offset;
    unsigned short num_buffers;
};

/* What a guest kernel finds at start: rdi = the address of this page (in
 * its own task), filled by its vmm-server. */
#define UK_GUEST_INFO_MAGIC   0x5547554553540a00ul
#define UK_GUEST_SLOT_SELF    1u   /* its own task (create process tasks, map) */
#define UK_GUEST_SLOT_VMM     2u   /* endpoint to its vmm-server (badged) */
#define UK_GUEST_SLOT_EVENTS  3u   /* notification bound to its vCPU */
#define UK_GUEST_SLOT_VCPU    4u   /* its vCPU thread */
#define UK_GUEST_SLOT_FIRST_FREE 8u
struct uk_guest_info {
    uk_word_t magic;
    uk_word_t ram_base, ram_size;  /* guest RAM: mapped read/write/execute here */
    uk_word_t initrd_base, initrd_size;   /* inside RAM; size 0: none */
    uk_word_t vcpu_state;          /* the vCPU state page's address */
    uk_word_t tsc_hz;
    uk_word_t kmem_quota;          /* kernel memory the guest task may use */
    char name[32];                 /* the guest's name (console label) */
    char cmdline[1024];            /* its kernel command line */
    /* added after cmdline, so the offsets above stay as they were: */
    uk_word_t boot_tsc;            /* TSC at the microkernel's first instruction; a guest
                                      subtracts it from rdtsc to count instructions since
                                      boot under tcg-icount (-icount shift=0: one TSC tick
                                      per instruction) */
    uk_word_t cap_slots;           /* size of its capability table: one slot for every
                                      UK_GUEST_KMEM_PER_SLOT bytes of kmem_quota (at least
                                      256, at most UK_MAX_CAP_SLOTS), so that a guest
                                      runs out of kernel memory before it runs out of
                                      slots for address spaces (each costs a PML4 and more) */
    uk_word_t virtio_count;        /* virtio devices (UK_VDEV_VIRTIO_*): numbers 0..count-1 */
    struct uk_guest_virtio {
        uk_word_t type;            /* UK_VIRTIO_ID_* */
        uk_word_t queues;          /* 1..UK_VIRTIO_MAX_QUEUES */
    } virtio[UK_VIRTIO_MAX_DEVS];
};
#define UK_GUEST_KMEM_PER_SLOT 4096ul

/* What a vmm-server finds at start (rdi = the address of this page in its
 * task), filled by the root task: its guest's description and where the
 * root put what it needs.  Slots in its table: UK_SLOT_SELF_TASK and
 * UK_SLOT_SELF_THREAD as for any program, plus the ones below. */
#define UK_VMM_INFO_MAGIC     0x564d4d494e464f00ul
#define UK_VMM_SLOT_CONSOLE   8u   /* console server endpoint, send only, badged with
                                      guest_index (empty: no console server; the
                                      vmm-server then prints on the kernel log) */
#define UK_VMM_SLOT_INPUT     9u   /* notification, READ, bound to the main thread: its
                                      bits say who rang: UK_VDEV_EVENT_CONSOLE (the
                                      console server: input for this guest),
                                      UK_VMM_BELL_POWER_OFF (the root task),
                                      UK_VMM_INPUT_NET (the network server) */
#define UK_VMM_SLOT_ROOT     10u   /* the root's endpoint, send only, badged with
                                      guest_index; also the vmm-server's fault endpoint */
#define UK_VMM_SLOT_BLK      11u   /* the block server's endpoint, send only, badged
                                      with guest_index (empty: the guest has no disk) */
#define UK_VMM_BLK_WINDOW    0x0000004000000000ul   /* the window it shares with the
                                      block server: UK_VMM_BLK_WINDOW_PAGES pages here */
#define UK_VMM_BLK_WINDOW_PAGES 128u /* 512 KiB: a batch of UK_BLK_BATCH_MAX largest
                                       requests (UK_BLK_MAX_SECTORS) */
#define UK_VMM_SLOT_NET      12u   /* the network server's endpoint, send only, badged
                                      with guest_index (empty: the guest has no NIC) */
#define UK_VMM_NET_WINDOW    0x0000005000000000ul   /* the window it shares with the
                                      network server (uk/net.h: its receive ring, then
                                      frames to send): UK_VMM_NET_WINDOW_PAGES pages here */
#define UK_VMM_NET_WINDOW_PAGES 18u /* 72 KiB: UK_NET_WINDOW_MIN */
#define UK_VMM_INPUT_NET     0x200u /* the bit the network server signals on
                                      UK_VMM_SLOT_INPUT ("frames in your ring"); the
                                      console server signals UK_VDEV_EVENT_CONSOLE, the
                                      root UK_VMM_BELL_POWER_OFF (0x100, below) */
#define UK_VMM_SLOT_FIRST_FREE 16u
#define UK_VMM_CAP_SLOTS      64u  /* the size of a vmm-server's table (the root makes it) */
/* vmm-server -> root, a send on UK_VMM_SLOT_ROOT: it is done (w0 = enum
 * uk_vmm_end, w1 = the guest's exit status) and suspends itself; the root
 * destroys its task, which takes the guest's tasks with it.  (Labels:
 * 0x100.. virtual devices, 0x200.. console server, 0x300.. vmm-server to
 * root.) */
#define UK_VMM_MSG_ENDED      0x300u
/* root -> vmm-server: the bit the root's copy of UK_VMM_SLOT_INPUT carries.  The
 * power button was pressed (docs/shutdown.md): ask the guest to power off
 * (UK_VDEV_EVENT_POWER); a guest that reboots from then on halts instead. */
#define UK_VMM_BELL_POWER_OFF 0x100u
/* root -> vmm-server: the supervisor's heartbeat (roottask/supervise.c, with
 * an `experiment` module only).  The root writes a new number into `ping` of
 * the page it mapped read/write at UK_VMM_ALIVE_VA and rings this bit; the
 * vmm-server's main thread, in its request loop (the loop that serves its
 * guest, not a thread of its own), copies it into `pong`.  A `pong` that
 * stays behind: its guest loop is stuck (a hung vmm-server). */
#define UK_VMM_BELL_PING      0x400u
#define UK_VMM_ALIVE_VA       0x0000006000000000ul
struct uk_vmm_alive {
    volatile uk_word_t ping;          /* the root writes */
    volatile uk_word_t pong;          /* the vmm-server writes */
};
_Static_assert(!(UK_VMM_BELL_POWER_OFF & (UK_VMM_INPUT_NET | UK_VDEV_EVENT_CONSOLE)) &&
               !(UK_VMM_INPUT_NET & UK_VDEV_EVENT_CONSOLE) &&
               !(UK_VMM_BELL_PING & (UK_VMM_BELL_POWER_OFF | UK_VMM_INPUT_NET |
                                     UK_VDEV_EVENT_CONSOLE)), "input bits overlap");
/* A guest's exit status: what it halted with (UK_VDEV_POWER, 0..255), or,
 * if it stopped any other way, one of these.  The root's exit-after-guests
 * ends QEMU with guest 1's status (isa-debug-exit carries 0..127: a higher
 * one becomes 127).  They lie just below 124 and 125, tools/run/qemu-run's
 * timeout and failure, so each reaches the shell unchanged; a guest kernel
 * may halt with them for the same meaning (nothing else tells them apart). */
#define UK_VMM_STATUS_NO_POWER_OFF 119u /* the power button was pressed and it did not
                                           power off in time: the root stopped it */
#define UK_VMM_STATUS_GUEST_FAULT 120u  /* its kernel faulted and the vmm-server stopped
                                           it (no kfaults, or a fault while handling one) */
#define UK_VMM_STATUS_LOAD_FAILED 121u  /* its kernel was refused (ELF) or could not be
                                           (re)started */
#define UK_VMM_STATUS_VMM_FAILED  122u  /* its vmm-server failed: unusable info, its own
                                           set-up, or a fault of the vmm-server itself */
#define UK_VMM_STATUS_NOT_STARTED 123u  /* the root started no vmm-server for it: its
                                           `guest` line was refused, or the launch failed */
enum uk_vmm_end {
    UK_VMM_END_HALTED = 0,         /* the guest powered off */
    UK_VMM_END_LOAD_FAILED,        /* the guest kernel could not be loaded or started */
    UK_VMM_END_GUEST_FAULT,        /* the guest kernel faulted: stopped */
    UK_VMM_END_BAD_INFO,           /* struct uk_vmm_info unusable */
};
struct uk_vmm_info {
    uk_word_t magic;
    uk_word_t guest_index;         /* 1-based, in boot order */
    char name[32];                 /* the guest's name (console label) */
    uk_word_t mem_base, mem_size;  /* memory for the guest, mapped RW here */
    uk_word_t kernel_base, kernel_size;  /* the guest kernel ELF, mapped read-only */
    uk_word_t initrd_base, initrd_size;  /* its initrd, read-only (size 0: none) */
    uk_word_t guest_kmem_quota;    /* kernel memory to give the guest kernel task */
    uk_word_t tsc_hz;
    uk_word_t wallclock_ns, wallclock_tsc;  /* the RTC's time at that TSC */
    uk_word_t flags;               /* UK_VMM_F_*; other bits: the info is unusable */
    uk_word_t boot_tsc;            /* TSC at the microkernel's first instruction (boot info),
                                      passed on in uk_guest_info.boot_tsc */
    char cmdline[1024];            /* the guest kernel's command line */
};
#define UK_VMM_F_KERNEL_FAULTS 0x1u  /* `guest ... kfaults`: the vCPU gets
                                        UK_VCPU_F_KERNEL_FAULTS, so the guest kernel's own
                                        faults come to it as exits, not to the vmm-server */

/* The console server (docs/vmm-server.md, "The console server"): it owns a UART
 * (COM1, or COM2: UK_CONSOLE_COM_*) and multiplexes it between its clients
 * (one per guest: its vmm-server).
 * Requests come on its endpoint; the badge of the caller's cap says who
 * asks: 1..UK_CONSOLE_MAX_CLIENTS a client (the guest's index), 0 the root
 * task (control).  The reply's w0 is a status (0 or a negative UK_VDEV_E*):
 * EPERM for a badge that may not ask this (or a client not added),
 * EINVAL for a malformed request, EFAULT if the message is shorter than
 * its byte count says.  Bytes are packed as for the virtual devices. */
enum uk_console_op {
    UK_CONSOLE_ADD_CLIENT = 0x200,  /* badge 0: w0 = client n (1..MAX), w1..w4 = its
                                       name, the label of its lines: 1..31 bytes
                                       '!'..'~' but '[' ']', NUL-padded -> w0 = status.
                                       Again for an added n: renames it */
    UK_CONSOLE_REMOVE_CLIENT,       /* badge 0: w0 = n: its output so far is printed,
                                       its input dropped -> w0 = status */
    UK_CONSOLE_WRITE,               /* w0 = byte count (<= UK_VDEV_BYTES_MAX), bytes
                                       from w1 -> w0 = status, w1 = bytes taken (all),
                                       w2 = lines of this client's output lost so far */
    UK_CONSOLE_READ,                /* w0 = at most this many bytes (more: as many as
                                       fit) -> w0 = status, w1 = count, bytes from w2;
                                       never waits: its input notification says when
                                       bytes came */
    UK_CONSOLE_FOCUS,               /* badge 0: w0 = n: input goes to client n */
    UK_CONSOLE_INFO,                /* badge 0: w0 = n; a client: itself -> w0 = status,
                                       w1 = bytes written, w2 = lines printed, w3 = lines
                                       lost, w4 = input bytes queued for it, w5 = input
                                       bytes lost (its ring full), w6 = the focus;
                                       badge 0, w0 = 0: the server's totals over its
                                       clients, w4 = lines queued for the UART (the
                                       supervisor's progress check: lines queued and
                                       none printed for two beats is a stuck server) */
};
#define UK_CONSOLE_MAX_CLIENTS   9u   /* Ctrl-T 1..9 */
#define UK_CONSOLE_NAME_MAX      31u
/* The console server's own label ("[console] ..."): no client may have it
 * as its name (the server refuses it, the root task refuses it as a guest
 * name), or its lines would pass for the server's. */
#define UK_CONSOLE_OWN_LABEL     "console"
/* Slots in the console server's table (the root fills them before starting
 * it; UK_SLOT_SELF_TASK and UK_SLOT_SELF_THREAD as for any program). */
#define UK_CONSOLE_SLOT_EP        8u  /* its endpoint: READ (receive) */
#define UK_CONSOLE_SLOT_PORTS     9u  /* its UART's 8 I/O ports (COM1: 0x3f8-0x3ff) */
#define UK_CONSOLE_SLOT_IRQ      10u  /* its UART's IRQ (COM1: 4): CONTROL (the server
                                         binds and acks) */
#define UK_CONSOLE_SLOT_IRQ_NOTIF 11u /* notification for that IRQ: READ|WRITE (the server
                                         binds it to its thread) */
#define UK_CONSOLE_SLOT_CLIENT0  16u  /* client n's input notification at
                                         UK_CONSOLE_SLOT_CLIENT0 + n - 1: WRITE (it
                                         signals it); may stay empty */
#define UK_CONSOLE_SLOTS (UK_CONSOLE_SLOT_CLIENT0 + UK_CONSOLE_MAX_CLIENTS)  /* table size */
/* The UARTs a console server may drive: COM n (1..UK_CONSOLE_COM_MAX; the root
 * task's `console-server com=N`, one server per UART) is 8 I/O ports from
 * UK_CONSOLE_COM_PORT(n), its interrupt ISA IRQ UK_CONSOLE_COM_IRQ(n).  The
 * server's argument (rdi, main's) is its UART's first port; 0 means COM1. */
#define UK_CONSOLE_COM_MAX       2u
#define UK_CONSOLE_COM_PORT(n)   ((n) == 2 ? 0x2f8u : 0x3f8u)
#define UK_CONSOLE_COM_IRQ(n)    ((n) == 2 ? 3u : 4u)

/* ------------------------------------------------------------------ */
/* Boot info: one read-only page mapped in the root task at UK_BOOTINFO_VADDR,
 * its address also passed in rdi at start.  All physical memory free for
 * user level is mapped (read/write) in the root task at
 * UK_PHYS_WINDOW + physical address; boot modules there too. */
#define UK_BOOTINFO_MAGIC  0x554b424f4f54ul   /* "UKBOOT" */
#define UK_BOOTINFO_VADDR  0x00007ffff0000000ul
#define UK_PHYS_WINDOW     0x0000400000000000ul
/* The root task's stack (256 KiB below the top) and, after a guard page,
 * its IPC buffer. */
#define UK_ROOT_STACK_TOP  0x00007fff00000000ul
#define UK_ROOT_IPC_BUFFER (UK_ROOT_STACK_TOP + UK_PAGE_SIZE)
#define UK_BOOT_MAX_MODULES 16u
#define UK_BOOT_MAX_RANGES  32u
#define UK_BOOT_STRINGS     1024u

struct uk_boot_module {
    uk_word_t phys;         /* start; in the root task at UK_PHYS_WINDOW + phys */
    uk_word_t size;         /* bytes */
    uk_word_t cmdline;      /* offset into strings[]: GRUB's command line */
};
struct uk_boot_range {
    uk_word_t phys;
    uk_word_t size;
};
struct uk_bootinfo {
    uk_word_t magic;
    uk_word_t abi_version;
    char kernel_version[32];
    uk_word_t tsc_hz;              /* TSC ticks per second */
    uk_word_t root_kmem_quota;     /* bytes of kernel memory the root may use */
    uk_word_t nmodules;            /* modules after the root task itself */
    struct uk_boot_module modules[UK_BOOT_MAX_MODULES];
    uk_word_t nranges;             /* free memory given to the root task */
    struct uk_boot_range ranges[UK_BOOT_MAX_RANGES];
    uk_word_t root_cmdline;        /* offset into strings[] */
    char strings[UK_BOOT_STRINGS];
    uk_word_t boot_tsc;            /* TSC at the microkernel's first instruction (boot.asm;
                                      under tcg-icount: instructions run before it) */
};
#define UK_ABI_VERSION 1u

#endif /* UK_ABI_H */
