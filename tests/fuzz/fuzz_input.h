/*
 * What a harness reads its operations from, a little-endian field at a time
 * (zeros past the end), and its one assertion: a broken invariant traps, so
 * libFuzzer keeps the input. Each harness includes it once, before its code.
 */
#ifndef BULKHEAD_FUZZ_INPUT_H
#define BULKHEAD_FUZZ_INPUT_H

#include <stdbool.h>

#include "kernel/types.h"

static const u8 *cur, *end;

static inline void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static inline u64 take(unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n && cur < end; i++)
		v |= (u64)*cur++ << (8 * i);
	return v;
}

#endif
