/*
 * Time: the clock source is the TSC scaled by the frequency the vmm-server
 * measured (uk_guest_info.tsc_hz); clock events are the vmm-server's timer
 * (UK_VDEV_TIMER_SET, expiries as UK_VDEV_EVENT_TIMER); the boot wall time
 * is UK_VDEV_CLOCK_GET; idle is a receive on our event notification.
 */
#include <errno.h>
#include <os.h>
#include "ukvm.h"

#define NSEC_PER_SEC 1000000000ull

unsigned long long ukvm_tsc_to_ns(unsigned long long tsc)
{
	/* 128-bit product: no overflow for centuries of uptime */
	return (unsigned long long)((unsigned __int128)tsc * NSEC_PER_SEC / ukvm_gi->tsc_hz);
}

long long os_nsecs(void)
{
	return (long long)ukvm_tsc_to_ns(uk_rdtsc());
}

long long os_persistent_clock_emulation(void)
{
	uk_word_t out[UK_MSG_REG_WORDS];
	if (ukvm_vdev_call(UK_VDEV_CLOCK_GET, 0, 0, out) != 0 || !out[3])
		return 0;
	unsigned long long now = uk_rdtsc();
	unsigned long long since = now > out[2] ? now - out[2] : 0;
	return (long long)(out[1] + (unsigned long long)((unsigned __int128)since *
							  NSEC_PER_SEC / out[3]));
}

int os_timer_create(void)
{
	return 0;
}

int os_timer_set_interval(unsigned long long nsecs)
{
	return ukvm_timer_set(nsecs, nsecs) ? -EINVAL : 0;
}

int os_timer_one_shot(unsigned long long nsecs)
{
	return ukvm_timer_set(nsecs ? nsecs : 1, 0) ? -EINVAL : 0;
}

void os_timer_disable(void)
{
	ukvm_timer_set(0, 0);
}

void os_idle_sleep(void)
{
	ukvm_wait_for_events();
}
