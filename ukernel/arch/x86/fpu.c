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

static struct thread *fpu_owner;
static bool ts_set = true;

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

void fpu_switch(struct thread *next)
{
    bool want_ts = next != fpu_owner;
    if (want_ts == ts_set)
        return;
    if (want_ts)
        stts();
    else
        clts();
    ts_set = want_ts;
}

void fpu_trap(void)
{
    clts();
    ts_set = false;
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
