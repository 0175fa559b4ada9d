// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/ukvm, the kernel half: one read-only file whose text the host half
 * (stats_user.c) makes afresh at every read -- the microkernel's event
 * counters for lbench -e, and the TSC since the microkernel started.
 */
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include "stats.h"

static int ukvm_stats_show(struct seq_file *m, void *v)
{
	char buf[UKVM_STATS_TEXT_MAX];
	int n = ukvm_stats_text(buf, sizeof(buf));

	if (n < 0 || n >= (int)sizeof(buf))
		return -EIO;
	seq_write(m, buf, n);
	return 0;
}

static int __init ukvm_stats_init(void)
{
	return proc_create_single("ukvm", 0444, NULL, ukvm_stats_show) ? 0 : -ENOMEM;
}
device_initcall(ukvm_stats_init);
