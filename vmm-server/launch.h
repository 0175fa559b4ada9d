/*
 * What the root task and a vmm-server agree on beyond uk/abi.h (struct
 * uk_vmm_info, UK_VMM_SLOT_*): how a vmm-server tells the root that it has
 * ended.  Candidates for abi.h once the console server settles its slots.
 *
 * The root gives each vmm-server a send-only cap of the root's endpoint,
 * badged with the guest's index, in VMM_SLOT_ROOT.  A vmm-server that is
 * done sends one message (label VMM_MSG_ENDED, w0 = enum vmm_end) and
 * suspends itself; the root reports it and destroys the vmm-server's task,
 * which takes the guest's tasks with it.  The vmm-server's thread has the
 * same endpoint (same badge) as its fault endpoint, so a crash of the
 * vmm-server itself reaches the root too (flag UK_MSGF_FAULT).
 */
#ifndef VMM_LAUNCH_H
#define VMM_LAUNCH_H

#include <uk/abi.h>

#define VMM_SLOT_ROOT   10u       /* in the vmm-server's table: endpoint to the root */
#define VMM_MSG_ENDED   0x200u    /* vmm-server -> root: w0 = enum vmm_end */
#define VMM_PRIO        200u      /* a vmm-server's threads (its guest's vCPU: lower) */

enum vmm_end {
    VMM_END_HALTED = 0,           /* the guest powered off */
    VMM_END_LOAD_FAILED,          /* the guest kernel could not be loaded or started */
    VMM_END_GUEST_FAULT,          /* the guest kernel faulted: stopped */
    VMM_END_BAD_INFO,             /* struct uk_vmm_info unusable */
};

static inline const char *vmm_end_str(uk_word_t why)
{
    switch (why) {
    case VMM_END_HALTED:      return "guest halted";
    case VMM_END_LOAD_FAILED: return "guest kernel not loaded";
    case VMM_END_GUEST_FAULT: return "guest kernel faulted";
    case VMM_END_BAD_INFO:    return "bad vmm info";
    default:                  return "unknown reason";
    }
}

#endif
