/*
 * The configuration key the VMBus server owns (kernel/config.h, CFG_KEY):
 * `vmbus = ic, echo` in a partition names the VSPs offered to it, in that
 * order (each name once; names unknown to this build are refused when the
 * partition is created, vmbus/vsp.c).
 */
#include "kernel/config.h"

CFG_KEY(vmbus_key) = {
    .k = CFG_KEY_HEAD(CFG_KEY_LIST, "partition", "vmbus"),
    .noun = "VSP",
    .example = "ic, echo",
};
