/*
 * FPU switching: lazy, but eager for vCPUs.
 *
 * The FPU/SSE/AVX registers belong to one thread at a time (fpu_owner).
 * Switching to another thread sets CR0.TS, so its first FPU instruction
 * traps (#NM, fpu_trap) and only then is the owner's state saved and its
 * own loaded: IPC between threads that do not touch the FPU never pays
 * for it, even if they used it once (the IPC benchmarks' threads do).
 *
 * A vCPU thread (fpu_eager, from UK_SYS_VCPU_CONFIG on) has its registers
 * loaded at every switch to it instead (fpu_switch, from the scheduler's
 * switch_to; the IPC fast path leaves such a switch to the slow path, so
 * its inline switch has no call in it).  Its guest kernel
 * saves and restores its processes' state with XSAVE and XRSTOR, and
 * QEMU's TCG does not raise #NM for those two under CR0.TS (it does for
 * every other FPU/SSE/AVX instruction): lazily, they read and wrote
 * whichever thread's registers were loaded, and two Linux guests
 * scribbled on each other's processes.  Switches between a vCPU and its
 * (FPU-free) vmm-server stay free: the vCPU remains the owner.  What is
 * left, under TCG only: another thread's XSAVE or XRSTOR right after a
 * switch sees the owner's registers; on hardware it traps as it should.
 */
#include "thread.h"
#include "stats.h"
#include "log.h"
#include "arch/arch.h"
#include "arch/cpu.h"

struct thread *fpu_owner;
bool fpu_ts_set = true;

static void xsave(void *area)
{
    __asm__ volatile("xsave64 (%0)" :: "r"(area), "a"((u32)xsave_features),
                     "d"((u32)(xsave_features >> 32)) : "memory");
}

static void xrstor(void *area)
{
    __asm__ volatile("xrstor64 (%0)" :: "r"(area), "a"((u32)xsave_features),
                     "d"((u32)(xsave_features >> 32)) : "memory");
}

/* next's registers into the FPU (it is not the owner), with TS clear. */
void fpu_switch(struct thread *next)
{
    if (fpu_ts_set) {
        clts();
        fpu_ts_set = false;
    }
    if (fpu_owner)
        xsave(fpu_owner->fpu);
    xrstor(next->fpu);
    fpu_owner = next;
    kstats.fpu_switches++;
}

/* #NM: the running thread's first FPU instruction since it was switched to. */
void fpu_trap(void)
{
    if (fpu_owner == current) {
        clts();
        fpu_ts_set = false;
        return;
    }
    fpu_switch(current);
}

void fpu_release(struct thread *t)
{
    if (fpu_owner == t)
        fpu_owner = NULL;
}
