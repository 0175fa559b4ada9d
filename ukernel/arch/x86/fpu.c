/*
 * Lazy FPU switching.  The FPU/SSE/AVX registers stay loaded for the last
 * thread that used them (fpu_owner); switching to any other thread sets
 * CR0.TS so its first FPU instruction traps (#NM), and only then are the
 * registers saved and reloaded.  IPC between threads that do not touch the
 * FPU never pays for it.
 */
#include "thread.h"
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

void fpu_trap(void)
{
    clts();
    fpu_ts_set = false;
    if (fpu_owner == current)
        return;
    if (fpu_owner)
        xsave(fpu_owner->fpu);
    xrstor(current->fpu);
    fpu_owner = current;
}

void fpu_release(struct thread *t)
{
    if (fpu_owner == t)
        fpu_owner = NULL;
}
