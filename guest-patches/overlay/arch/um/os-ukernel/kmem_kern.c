// SPDX-License-Identifier: GPL-2.0
/*
 * The processes' kernel memory ran out, the kernel half.  A MAP into a
 * process's task is charged to the processes' account (process.c); when
 * it is spent (a fork bomb whose processes each fault in a page more,
 * after fork was refused them) the microkernel refuses with UK_E_NOMEM,
 * and arch/um (tlb.c: fix_range_common, flush_tlb_page) would kill the
 * process whose page it was mapping, whoever it is: the shell at its
 * next page fault, or init -- a guest panic.  Instead mem.c's map() asks
 * us between its tries: we kill the youngest process (the last started:
 * a fork bomb's newest, never init, never one sharing the faulting mm)
 * and let it go, so that its address space and what it was charged are
 * given back; while the last one we killed is still on its way out with
 * its mm, we only wait for a process task to be destroyed.  When the
 * faulting process is itself the youngest, we say no: arch/um kills it,
 * as before.  The youngest, not the biggest (Linux's OOM killer): the
 * shell and init are older than any bomb and bigger than its processes.
 */
#include <linux/mm_types.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/wait.h>
#include "kmem.h"

/* The last process we killed, until its address space is gone: while it
 * goes, a refused map waits for a process task to be destroyed (room_wq,
 * woken by process.c) instead of looking for another victim -- a fork
 * bomb's hundreds of refused maps must neither kill hundreds of processes
 * at once nor each walk the process list every tick. */
static struct task_struct *going;
static DECLARE_WAIT_QUEUE_HEAD(room_wq);

void ukvm_kmem_given_back(void)
{
	wake_up_all(&room_wq);
}

static bool still_going(void)
{
	if (going && READ_ONCE(going->mm))
		return true;
	if (going) {
		put_task_struct(going);
		going = NULL;
	}
	return false;
}

/* Returns 1 if the map is worth trying again (we waited for room to come). */
int ukvm_kmem_reclaim(struct mm_id *mm_idp)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 5);
	struct task_struct *p, *victim = NULL;

	/* only for a page of the current process's own, where we may sleep */
	if (in_atomic() || irqs_disabled() || (current->flags & PF_KTHREAD) ||
	    !current->mm || &current->mm->context.id != mm_idp ||
	    fatal_signal_pending(current))
		return 0;
	if (!still_going()) {
		rcu_read_lock();
		for_each_process(p) {
			if ((p->flags & (PF_KTHREAD | PF_EXITING)) || !p->mm ||
			    is_global_init(p) || p->mm == current->mm ||
			    (p->signal->flags & SIGNAL_GROUP_EXIT))
				continue;   /* init, ours, or on its way out already */
			if (!victim || p->start_time > victim->start_time)
				victim = p;
		}
		/* the youngest is us (none is younger than current but another
		 * thread of ours, skipped): then arch/um kills us */
		if (victim && victim->start_time < current->group_leader->start_time)
			victim = NULL;
		if (victim)
			get_task_struct(victim);
		rcu_read_unlock();
		if (!victim)
			return 0;
		if (__ratelimit(&rs))
			pr_warn("ukvm: processes' kernel memory spent: killing the youngest process, %d (%s), for %d (%s)\n",
				task_tgid_nr(victim), victim->comm, task_tgid_nr(current), current->comm);
		do_send_sig_info(SIGKILL, SEND_SIG_PRIV, victim, PIDTYPE_TGID);
		going = victim;
	}
	/* until a process task is destroyed (ours or any), at most a tenth of a second */
	wait_event_killable_timeout(room_wq, !READ_ONCE(going) || !READ_ONCE(going->mm), HZ / 10);
	return 1;
}
