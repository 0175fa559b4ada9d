/*
 * FPU switching: lazy until a thread uses the FPU, eager after.
 *
 * The FPU/SSE/AVX registers belong to one thread at a time (fpu_owner).
 * A thread that has never used them runs with CR0.TS set, so its first FPU
 * instruction traps (#NM, fpu_trap) and only then is the owner's state
 * saved and its own loaded: IPC between threads that never touch the FPU
 * (servers, drivers, the IPC benchmarks) never pays for it.
 *
 * From that first trap on the thread is an fpu_user and each switch to it
 * restores its registers at once (fpu_switch), instead of leaving TS set
 * and waiting for the trap.  Two reasons: such a thread will use them again
 * soon (a vCPU runs its guest's processes, which all do), and QEMU's TCG
 * does not raise #NM for XSAVE and XRSTOR under CR0.TS (it does for every
 * other FPU/SSE/AVX instruction).  A guest kernel saves and reloads its
 * processes' state with exactly those two: under TS they would have read
 * and written whichever thread's registers were loaded -- two Linux guests
 * then scribbled on each other's processes (tests/guest-linux, two guests).
 * A vCPU is an fpu_user from UK_SYS_VCPU_CONFIG on.  What is left under TCG
 * only: a thread whose very first FPU instruction is XSAVE or XRSTOR sees
 * the owner's registers; on hardware that instruction traps as it should.
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

/* #NM: the running thread's first FPU instruction since it was switched
 * to; from now on it is restored eagerly. */
void fpu_trap(void)
{
    current->fpu_user = true;
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
