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
 * given back; while a process we (or anyone) killed is still on its way
 * out with its mm, we only wait for it.  When the faulting process is
 * itself the youngest, we say no: arch/um kills it, as before.
 */
#include <linux/mm_types.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include "kmem.h"

/* Returns 1 if the map is worth trying again (we waited for room to come). */
int ukvm_kmem_reclaim(struct mm_id *mm_idp)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 5);
	struct task_struct *p, *victim = NULL;
	bool dying = false;

	/* only for a page of the current process's own, where we may sleep */
	if (in_atomic() || irqs_disabled() || (current->flags & PF_KTHREAD) ||
	    !current->mm || &current->mm->context.id != mm_idp ||
	    fatal_signal_pending(current))
		return 0;
	rcu_read_lock();
	for_each_process(p) {
		if ((p->flags & PF_KTHREAD) || !p->mm || is_global_init(p) ||
		    p->mm == current->mm)
			continue;           /* init, or ours: nothing to wait for or kill */
		if ((p->flags & PF_EXITING) || (p->signal->flags & SIGNAL_GROUP_EXIT) ||
		    fatal_signal_pending(p)) {
			dying = true;       /* its mm goes soon: wait for that */
			continue;
		}
		if (!victim || p->start_time > victim->start_time)
			victim = p;
	}
	/* the youngest is us (none is younger than current but another
	 * thread of ours, skipped): then arch/um kills us */
	if (victim && victim->start_time < current->group_leader->start_time)
		victim = NULL;
	if (!dying && victim)
		get_task_struct(victim);
	else
		victim = NULL;
	rcu_read_unlock();
	if (!dying && !victim)
		return 0;
	if (victim) {
		if (__ratelimit(&rs))
			pr_warn("ukvm: processes' kernel memory spent: killing the youngest process, %d (%s), for %d (%s)\n",
				task_tgid_nr(victim), victim->comm, task_tgid_nr(current), current->comm);
		do_send_sig_info(SIGKILL, SEND_SIG_PRIV, victim, PIDTYPE_TGID);
		put_task_struct(victim);
	}
	schedule_timeout_killable(1);       /* the victim runs, exits, its task goes */
	return 1;
}
