/*
 * The power button (docs/shutdown.md).  The root task rings our bell
 * (UK_VMM_SLOT_INPUT, bit UK_VMM_BELL_POWER_OFF) when the machine's power
 * button is pressed; we pass it on to the guest as UK_VDEV_EVENT_POWER and
 * leave the rest to it: Linux runs its orderly power-off (its userland's
 * /sbin/poweroff: processes end, file systems are synced and unmounted),
 * the toy guest halts; either way it ends with UK_VDEV_POWER HALT and we
 * end as for any halt.  We do not force anything: the root task's timeout
 * (or a second press) does, by destroying us.  From the press on, a guest
 * that asks to reboot is halted instead (status 0): the machine is going
 * down, a fresh boot would only be cut off.
 */
#include "vmm.h"

void power_button(void)
{
    if (vmm.power_off_asked)
        return;                          /* told once: the guest is on its way */
    vmm.power_off_asked = 1;
    long err = uk_signal(SLOT_POWER_EV);
    if (err)
        vmm_say("vmm-server: power button: the guest was not told (error %ld)", err);
    else
        vmm_say("vmm-server: power button: asking the guest to power off");
}
