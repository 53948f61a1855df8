/*
 * libFuzzer: the guest page-table walker on fuzzed control registers,
 * addresses and page tables. The input after a fixed header is the guest
 * RAM; GPAs wrap around it (so random entries often hit tables) unless bit
 * 40 is set, which models memory outside guest RAM.
 */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/gwalk.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define OUTSIDE_RAM (1ull << 40)

struct ram {
	const uint8_t *mem;
	size_t size;
	bool walking; /* page-table reads only: 4 or 8 aligned bytes */
};

static int read_gpa(void *ctx, u64 gpa, void *buf, unsigned len)
{
	struct ram *r = ctx;
	u8 *out = buf;

	if (r->walking)
		CHECK((len == 4 || len == 8) && gpa % len == 0);
	CHECK(len <= 4096);
	if ((gpa & OUTSIDE_RAM) || !r->size)
		return -1;
	for (unsigned i = 0; i < len; i++)
		out[i] = r->mem[(gpa + i) % r->size];
	return 0;
}

static u64 take64(const uint8_t **p)
{
	u64 v;

	memcpy(&v, *p, 8);
	*p += 8;
	return v;
}

/* Header: cr0, cr3, cr4, efer, la (8 bytes each), access, maxphyaddr, len. */
#define HDR (5 * 8 + 3)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	struct gwalk_cpu cpu;
	struct gwalk_result res;
	struct ram ram;
	u8 buf[32];
	unsigned access, len, got;
	u64 la;
	int st;

	if (size < HDR)
		return 0;
	cpu.cr0 = take64(&p);
	cpu.cr3 = take64(&p);
	cpu.cr4 = take64(&p);
	cpu.efer = take64(&p);
	la = take64(&p);
	access = *p++ & (GWALK_WRITE | GWALK_USER | GWALK_FETCH);
	cpu.maxphyaddr = *p++;
	len = *p++ % 16;
	ram = (struct ram){.mem = p, .size = size - HDR, .walking = true};

	st = gwalk_translate(&cpu, la, access, read_gpa, &ram, &res);
	CHECK(st >= GWALK_OK && st <= GWALK_UNSUPPORTED && st != GWALK_BAD_GPA);
	if (st == GWALK_OK) {
		u64 ps = res.page_size;

		CHECK(ps == 0 || ps == 1ull << 12 || ps == 1ull << 21 || ps == 1ull << 22 ||
		      ps == 1ull << 30);
		if (ps)
			CHECK((res.gpa & (ps - 1)) == (la & (ps - 1)));
		else
			CHECK(res.gpa == (la & 0xffffffffull));
		CHECK(res.gpa < (1ull << 52));
	} else if (st == GWALK_NOT_PRESENT) {
		CHECK(!(res.pfec & GWALK_PFEC_PRESENT));
	} else if (st == GWALK_RESERVED) {
		CHECK(res.pfec & GWALK_PFEC_RSVD);
	}

	ram.walking = false;
	memset(buf, 0, sizeof(buf));
	got = gwalk_fetch(&cpu, la, access, read_gpa, &ram, buf, len, &st, NULL);
	CHECK(got <= len && (st == GWALK_OK) == (got == len));
	for (unsigned i = len; i < sizeof(buf); i++)
		CHECK(buf[i] == 0);
	return 0;
}
