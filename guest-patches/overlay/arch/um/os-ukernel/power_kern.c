// SPDX-License-Identifier: GPL-2.0
/*
 * The power button, the kernel half (docs/shutdown.md): our vmm-server
 * signals UK_VDEV_EVENT_POWER when the machine's power button was pressed
 * (QEMU's ACPI power button, taken by the root task), and the host half
 * (signal.c) calls us from its event handler.  What a PC's ACPI button
 * driver leaves to user space (acpid, logind) has nobody to go to in a
 * small guest, so we do what Xen's and Hyper-V's shutdown requests do:
 * orderly_poweroff(), which runs the userland's poweroff_cmd
 * (/proc/sys/kernel/poweroff_cmd, /sbin/poweroff by default: the init's
 * orderly shutdown, processes stopped, file systems synced and unmounted)
 * and only if that cannot be started syncs and powers off by force.
 */
#include <linux/printk.h>
#include <linux/reboot.h>
#include "power.h"

void ukvm_power_button(void)
{
	static bool pressed;

	if (pressed)
		return;		/* one orderly power-off is on its way */
	pressed = true;
	pr_info("ukvm: power button: orderly power-off (kernel.poweroff_cmd)\n");
	orderly_poweroff(true);
}
