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
 * Each read costs a few microkernel entries.
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

	if (err)
		return snprintf(buf, size, "error %ld\n", err);
	memcpy(&st, IPC->data, sizeof st);
	unsigned long p_used, p_room, p_tasks;
	ukvm_process_kmem(&p_used, &p_room, &p_tasks);
	return snprintf(buf, size,
			"kernel_entries %lu\nas_switches %lu\ntlb_flushes %lu\n"
			"ipc_fastpath %lu\nipc_slowpath %lu\ntimer_ticks %lu\n"
			"fpu_switches %lu\nidle_tsc %lu\nboot_tsc %lu\ntsc %llu\n"
			"kmem_used %lu\nkmem_quota %lu\nprocess_kmem_used %lu\n"
			"process_kmem_room %lu\nprocess_tasks %lu\n",
			(unsigned long)st.kernel_entries, (unsigned long)st.as_switches,
			(unsigned long)st.tlb_flushes, (unsigned long)st.ipc_fastpath,
			(unsigned long)st.ipc_slowpath, (unsigned long)st.timer_ticks,
			(unsigned long)st.fpu_switches, (unsigned long)st.idle_tsc,
			(unsigned long)ukvm_gi->boot_tsc, now,
			(unsigned long)st.caller_kmem_used, (unsigned long)st.caller_kmem_quota,
			p_used, p_room, p_tasks);
}
