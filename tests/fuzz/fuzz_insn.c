/*
 * libFuzzer: the MMIO instruction decoder on arbitrary bytes in each mode.
 * The first input byte picks the mode, the rest are the instruction bytes
 * (libFuzzer's buffer ends exactly there, so ASan catches any overread).
 */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/insn.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static bool is_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static bool is_reg_or_none(unsigned r)
{
	return r < VP_NR_GPRS || r == INSN_NO_REG;
}

static void check_ok(const struct insn *in, unsigned n)
{
	const struct insn_mem *m = &in->mem;

	CHECK(in->len >= 1 && in->len <= INSN_MAX_LEN && in->len <= n);
	CHECK(in->op == INSN_OP_LOAD || in->op == INSN_OP_STORE || in->op == INSN_OP_XCHG);
	CHECK(is_size(in->size) && is_size(in->dst_size) && in->dst_size >= in->size);
	CHECK(in->ext <= INSN_EXT_SIGN);
	CHECK(in->ext == INSN_EXT_NONE || in->dst_size > in->size || in->ext == INSN_EXT_ZERO);
	if (in->has_imm) {
		CHECK(in->op == INSN_OP_STORE && in->reg == INSN_NO_REG);
	} else {
		CHECK(in->reg < VP_NR_GPRS);
	}
	CHECK(!in->reg_high || (in->reg < 4 && in->size == 1 && in->dst_size == 1));
	CHECK(m->kind == INSN_MEM_MODRM || m->kind == INSN_MEM_MOFFS);
	CHECK(m->addr_size == 2 || m->addr_size == 4 || m->addr_size == 8);
	CHECK(is_reg_or_none(m->base) && is_reg_or_none(m->index));
	CHECK(is_size(m->scale) && m->seg <= INSN_SEG_GS);
	CHECK(!m->rip_rel || (m->base == INSN_NO_REG && m->index == INSN_NO_REG));
	CHECK(m->kind == INSN_MEM_MODRM || (m->base == INSN_NO_REG && m->index == INSN_NO_REG));
}

/* Write-back touches only the destination register, with x86 widths. */
static void check_helpers(const struct insn *in, const uint8_t *seed, size_t len)
{
	u64 gpr[VP_NR_GPRS], before[VP_NR_GPRS], value = 0, v;

	for (unsigned i = 0; i < VP_NR_GPRS; i++)
		gpr[i] = 0x0123456789abcdefull * (i + 1);
	memcpy(&value, seed, len < 8 ? len : 8);
	memcpy(before, gpr, sizeof(gpr));
	v = insn_store_value(in, gpr);
	CHECK(in->size == 8 || v >> (8 * in->size) == 0);
	(void)insn_mem_offset(in, gpr, value);
	insn_apply_load(in, value, gpr);
	for (unsigned i = 0; i < VP_NR_GPRS; i++)
		CHECK(i == in->reg || gpr[i] == before[i]);
	if (in->op == INSN_OP_STORE)
		CHECK(!memcmp(gpr, before, sizeof(gpr)));
	else if (in->dst_size == 4)
		CHECK(gpr[in->reg] >> 32 == 0);
	else if (in->dst_size == 2 || in->dst_size == 1)
		CHECK(gpr[in->reg] >> 16 == before[in->reg] >> 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct insn in, again;
	enum insn_mode mode;
	unsigned n;
	int st;

	if (size < 1)
		return 0;
	mode = (enum insn_mode)(data[0] % 4); /* 3 is out of range on purpose */
	data++;
	n = (unsigned)(size - 1);
	st = insn_decode(data, n, mode, &in);
	CHECK(st >= INSN_OK && st <= INSN_ERR_UNSUPPORTED);
	if (mode > INSN_MODE_64) {
		CHECK(st == INSN_ERR_INVALID);
		return 0;
	}
	if (st == INSN_ERR_TOO_LONG)
		CHECK(n >= INSN_MAX_LEN);
	if (st != INSN_OK && st != INSN_ERR_UNSUPPORTED)
		return 0;
	CHECK(in.len >= 1 && in.len <= INSN_MAX_LEN && in.len <= n);
	/* The length is self-consistent: exactly len bytes decode the same, one fewer is short. */
	CHECK(insn_decode(data, in.len, mode, &again) == st && again.len == in.len);
	CHECK(insn_decode(data, in.len - 1u, mode, &again) == INSN_ERR_TRUNCATED);
	if (st == INSN_OK) {
		check_ok(&in, n);
		check_helpers(&in, data, n);
	}
	return 0;
}
