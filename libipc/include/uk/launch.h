/*
 * What the root task and a vmm-server agree on beyond uk/abi.h: the
 * vmm-server's priority, and the words for the ways it ends.  The shared
 * numbers themselves -- its slots (UK_VMM_SLOT_*: console, input, root),
 * the ending message (UK_VMM_MSG_ENDED) and its reasons (enum uk_vmm_end)
 * -- are in abi.h, next to struct uk_vmm_info.
 *
 * The root gives each vmm-server a send-only cap of the root's endpoint,
 * badged with the guest's index, in UK_VMM_SLOT_ROOT.  A vmm-server that is
 * done sends one message (label UK_VMM_MSG_ENDED, w0 = enum uk_vmm_end, w1 =
 * the guest's exit status, UK_VMM_STATUS_*) and suspends itself; the root reports it and destroys the vmm-server's task,
 * which takes the guest's tasks with it.  The vmm-server's thread has the
 * same endpoint (same badge) as its fault endpoint, so a crash of the
 * vmm-server itself reaches the root too (flag UK_MSGF_FAULT).
 */
#ifndef UK_LAUNCH_H
#define UK_LAUNCH_H

#include <uk/abi.h>

#define VMM_PRIO        200u      /* a vmm-server's threads (its guest's vCPU: lower) */

static inline const char *vmm_end_str(uk_word_t why)
{
    switch (why) {
    case UK_VMM_END_HALTED:      return "guest halted";
    case UK_VMM_END_LOAD_FAILED: return "guest kernel not loaded";
    case UK_VMM_END_GUEST_FAULT: return "guest kernel faulted";
    case UK_VMM_END_BAD_INFO:    return "bad vmm info";
    default:                     return "unknown reason";
    }
}

#endif
