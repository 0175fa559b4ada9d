/*
 * /proc/ukvm, the host half: the microkernel's event counters
 * (UK_SYS_DEBUG_STATS, struct uk_stats) and the TSC, now and at the
 * microkernel's first instruction, as "name value" lines -- the format
 * lbench -e reads (docs/benchmarks.md).  Under QEMU's -icount shift=0 the
 * TSC counts instructions while the CPU runs and nanoseconds of virtual
 * time while it is halted, so `tsc - boot_tsc - idle_tsc` is how many
 * instructions the whole machine has run since the microkernel started
 * (tests/guest-linux/init prints it at "shell ready").  Each read costs
 * one microkernel entry.  The counters are the whole machine's, so reading
 * them takes the debug cap, which the vmm-server passes on (READ only)
 * when the root's guest line says `stats`; without it the file has the two
 * TSC lines and says why the counters are missing.
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
		return snprintf(buf, size, "boot_tsc %lu\ntsc %llu\n"
				"counters_unavailable %ld\n",
				(unsigned long)ukvm_gi->boot_tsc, now, err);
	memcpy(&st, IPC->data, sizeof st);
	return snprintf(buf, size,
			"kernel_entries %lu\nas_switches %lu\ntlb_flushes %lu\n"
			"ipc_fastpath %lu\nipc_slowpath %lu\ntimer_ticks %lu\n"
			"fpu_switches %lu\nidle_tsc %lu\nboot_tsc %lu\ntsc %llu\n",
			(unsigned long)st.kernel_entries, (unsigned long)st.as_switches,
			(unsigned long)st.tlb_flushes, (unsigned long)st.ipc_fastpath,
			(unsigned long)st.ipc_slowpath, (unsigned long)st.timer_ticks,
			(unsigned long)st.fpu_switches, (unsigned long)st.idle_tsc,
			(unsigned long)ukvm_gi->boot_tsc, now);
}
