/*
 * /proc/ukvm, the host half: the microkernel's event counters
 * (UK_SYS_DEBUG_STATS, struct uk_stats) and the TSC, now and at the
 * microkernel's first instruction, as "name value" lines -- the format
 * lbench -e reads (docs/benchmarks.md).  Under QEMU's -icount shift=0 the
 * TSC counts instructions while the CPU runs and nanoseconds of virtual
 * time while it is halted, so `tsc - boot_tsc - idle_tsc` is how many
 * instructions the whole machine has run since the microkernel started
 * (tests/guest-linux/init prints it at "shell ready").  Then kernel
 * memory: ours (kmem_used, our processes' included; kmem_quota) and the
 * processes' account (process.c): charged, room left, process tasks.
 * Ours too: our vCPU's exits (a process's system call, fault or event
 * each), and the console's flow control (vdev.c): how often it made us
 * wait, and bytes dropped after waiting too long (0 unless it is broken).
 * Each read costs a few microkernel entries.  The machine's counters are
 * the whole machine's, so reading them takes the debug cap, which the
 * vmm-server passes on (READ only) when the root's guest line says
 * `stats`; without it the file has the TSC and kernel-memory lines and
 * says why the counters are missing.
 */
#include <stdio.h>
#include <string.h>
#include "ukvm.h"
#include "stats.h"

#define IPC ((struct uk_ipc_buffer *)UK_ROOT_IPC_BUFFER)

int ukvm_stats_text(char *buf, int size)
{
	struct uk_stats st;
	unsigned long long now = uk_rdtsc();
	long err = uk_debug_stats();         /* into our IPC buffer's data */
	uk_word_t used = 0, quota = 0;
	unsigned long p_used, p_room, p_tasks;
	int n;

	uk_kmem_info(UK_GUEST_SLOT_SELF, &used, &quota);   /* ours: no cap needed */
	ukvm_process_kmem(&p_used, &p_room, &p_tasks);
	if (err) {
		n = snprintf(buf, size, "counters_unavailable %ld\n", err);
	} else {
		memcpy(&st, IPC->data, sizeof st);
		n = snprintf(buf, size,
			     "kernel_entries %lu\nas_switches %lu\ntlb_flushes %lu\n"
			     "ipc_fastpath %lu\nipc_slowpath %lu\ntimer_ticks %lu\n"
			     "fpu_switches %lu\nidle_tsc %lu\n",
			     (unsigned long)st.kernel_entries, (unsigned long)st.as_switches,
			     (unsigned long)st.tlb_flushes, (unsigned long)st.ipc_fastpath,
			     (unsigned long)st.ipc_slowpath, (unsigned long)st.timer_ticks,
			     (unsigned long)st.fpu_switches, (unsigned long)st.idle_tsc);
	}
	if (n < 0 || n >= size)
		return n;
	return n + snprintf(buf + n, size - n,
			    "vcpu_exits %lu\nconsole_waits %lu\nconsole_lost_bytes %lu\n"
			    "boot_tsc %lu\ntsc %llu\n"
			    "kmem_used %lu\nkmem_quota %lu\nprocess_kmem_used %lu\n"
			    "process_kmem_room %lu\nprocess_tasks %lu\n",
			    (unsigned long)ukvm_vcpu->exits, ukvm_console_waits,
			    ukvm_console_lost_bytes,
			    (unsigned long)ukvm_gi->boot_tsc, now,
			    (unsigned long)used, (unsigned long)quota,
			    p_used, p_room, p_tasks);
}
