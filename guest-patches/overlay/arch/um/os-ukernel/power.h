/* The power button (docs/shutdown.md): what the host half (signal.c, on
 * UK_VDEV_EVENT_POWER) asks of the kernel half (power_kern.c).  The only
 * declaration the two share. */
#ifndef UKVM_POWER_H
#define UKVM_POWER_H

/* Linux's orderly power-off (orderly_poweroff: its poweroff_cmd, then, if
 * that cannot be run, a sync and a forced power-off), queued to a worker:
 * safe from an event handler. */
void ukvm_power_button(void);

#endif
