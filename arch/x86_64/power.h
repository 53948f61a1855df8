/* Machine power-off through ACPI S5 (host firmware's tables). */
#ifndef BULKHEAD_POWER_H
#define BULKHEAD_POWER_H

#include "kernel/types.h"

void power_init(u64 rsdp);

#endif
