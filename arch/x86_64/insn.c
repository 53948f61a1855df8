/*
 * x86 instruction decoder for MMIO emulation (SDM Vol.2 chapter 2: format,
 * prefixes, ModRM/SIB; appendix A: opcode maps). It finds the length of any
 * instruction it can, but fills in operands only for the moves a guest uses
 * on device registers; everything else is INSN_ERR_UNSUPPORTED with a length.
 */
#include "arch/x86_64/insn.h"
#include "arch/x86_64/cpu.h"

#include <string.h>

/* Legacy prefixes (SDM Vol.2 2.1.1) and the escape bytes of other maps. */
#define PFX_ES	     0x26
#define PFX_CS	     0x2e
#define PFX_SS	     0x36
#define PFX_DS	     0x3e
#define PFX_FS	     0x64
#define PFX_GS	     0x65
#define PFX_OPSIZE   0x66
#define PFX_ADDRSIZE 0x67
#define PFX_LOCK     0xf0
#define PFX_REPNE    0xf2
#define PFX_REP	     0xf3
#define REX_FIRST    0x40 /* 40-4f in 64-bit mode (SDM Vol.2 2.2.1) */
#define REX_LAST     0x4f
#define REX_W	     0x08
#define REX_R	     0x04
#define REX_X	     0x02
#define REX_B	     0x01
#define ESC_0F	     0x0f
#define ESC_0F38     0x38
#define ESC_0F3A     0x3a
#define ESC_VEX3     0xc4 /* SDM Vol.2 2.3.5 */
#define ESC_VEX2     0xc5
#define ESC_EVEX     0x62 /* SDM Vol.2 2.7.1 */
#define ESC_XOP	     0x8f /* AMD APM Vol.3 1.8 */

/* Opcodes given operands here (SDM Vol.2 chapters 3-4, MOV, MOVZX, ...). */
#define OP_MOVSXD	0x63
#define OP_XCHG_EB_GB	0x86
#define OP_XCHG_EV_GV	0x87
#define OP_MOV_EB_GB	0x88
#define OP_MOV_EV_GV	0x89
#define OP_MOV_GB_EB	0x8a
#define OP_MOV_GV_EV	0x8b
#define OP_MOV_AL_MOFFS 0xa0
#define OP_MOV_AX_MOFFS 0xa1
#define OP_MOV_MOFFS_AL 0xa2
#define OP_MOV_MOFFS_AX 0xa3
#define OP_MOV_EB_IB	0xc6
#define OP_MOV_EV_IZ	0xc7
#define OP_0F_MOVZX_B	0x0fb6
#define OP_0F_MOVZX_W	0x0fb7
#define OP_0F_MOVSX_B	0x0fbe
#define OP_0F_MOVSX_W	0x0fbf
#define OP_0F_EXTRQ	0x78 /* AMD SSE4a: 66/f2 0f 78 carry two imm8 */
#define MODRM_XBEGIN	0xf8 /* c6 f8 XABORT, c7 f8 XBEGIN */

/* ModRM and SIB fields (SDM Vol.2 2.1.5). */
#define MODRM_MOD(b) ((b) >> 6)
#define MODRM_REG(b) (((b) >> 3) & 7)
#define MODRM_RM(b)  ((b)&7)
#define MOD_REG	     3 /* register operand, no memory */
#define RM_SIB	     4
#define RM_DISP32    5 /* with mod 0: disp32 (RIP-relative in 64-bit mode) */
#define RM16_DISP16  6 /* with mod 0 in 16-bit addressing: disp16 */
#define SIB_NO_INDEX 4
#define SIB_NO_BASE  5 /* with mod 0 */

/* Per-opcode properties for the length decode (SDM Vol.2 A.2 operand codes). */
#define F_M    0x001  /* ModRM follows */
#define F_I8   0x002  /* Ib */
#define F_I16  0x004  /* Iw */
#define F_IZ   0x008  /* Iz: 16 or 32 bits by operand size */
#define F_IV   0x010  /* Iv: 16, 32 or 64 bits (MOV r, imm) */
#define F_MO   0x020  /* moffs: address-size offset */
#define F_AP   0x040  /* Ap: far pointer 16:16 or 16:32 */
#define F_JZ   0x080  /* Jz: like Iz, but always 32 bits in 64-bit mode */
#define F_I64  0x100  /* invalid in 64-bit mode */
#define F_UD   0x200  /* invalid everywhere (#UD) */
#define F_GRP3 0x400  /* f6/f7: TEST (/0, /1) carries Ib/Iz */
#define F_PFX  0x800  /* prefix or escape: handled before the table */
#define F_I32  0x1000 /* Id (XOP map 0a) */
#define F_MREG 0x2000 /* ModRM names registers only, whatever mod says (MOV CR/DR) */

#define M   F_M
#define MI8 (F_M | F_I8)
#define MIZ (F_M | F_IZ)
#define I8  F_I8
#define IZ  F_IZ
#define X   F_I64
#define P   F_PFX
#define UD  F_UD
#define MR  (F_M | F_MREG)

/* One-byte opcode map (SDM Vol.2 table A-2). */
/* clang-format off */
static const u16 map1[256] = {
    /* 00 */ M, M, M, M, I8, IZ, X, X, M, M, M, M, I8, IZ, X, P,
    /* 10 */ M, M, M, M, I8, IZ, X, X, M, M, M, M, I8, IZ, X, X,
    /* 20 */ M, M, M, M, I8, IZ, P, X, M, M, M, M, I8, IZ, P, X,
    /* 30 */ M, M, M, M, I8, IZ, P, X, M, M, M, M, I8, IZ, P, X,
    /* 40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 60 */ X, X, M | X, M, P, P, P, P, IZ, MIZ, I8, MI8, 0, 0, 0, 0,
    /* 70 */ I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8,
    /* 80 */ MI8, MIZ, MI8 | X, MI8, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 90 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, F_AP | X, 0, 0, 0, 0, 0,
    /* a0 */ F_MO, F_MO, F_MO, F_MO, 0, 0, 0, 0, I8, IZ, 0, 0, 0, 0, 0, 0,
    /* b0 */ I8, I8, I8, I8, I8, I8, I8, I8, F_IV, F_IV, F_IV, F_IV, F_IV, F_IV, F_IV, F_IV,
    /* c0 */ MI8, MI8, F_I16, 0, M | X, M | X, MI8, MIZ, F_I16 | I8, 0, F_I16, 0, 0, I8, X, 0,
    /* d0 */ M, M, M, M, I8 | X, I8 | X, X, 0, M, M, M, M, M, M, M, M,
    /* e0 */ I8, I8, I8, I8, I8, I8, I8, I8, F_JZ, F_JZ, F_AP | X, I8, 0, 0, 0, 0,
    /* f0 */ P, 0, P, P, 0, 0, M | F_GRP3, M | F_GRP3, 0, 0, 0, 0, 0, 0, M, M,
};

/* Two-byte opcode map, 0f xx (SDM Vol.2 table A-3). */
static const u16 map0f[256] = {
    /* 00 */ M, M, M, M, UD, 0, 0, 0, 0, 0, UD, UD, UD, M, 0, MI8,
    /* 10 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 20 */ MR, MR, MR, MR, UD, UD, UD, UD, M, M, M, M, M, M, M, M,
    /* 30 */ 0, 0, 0, 0, 0, 0, UD, 0, P, UD, P, UD, UD, UD, UD, UD,
    /* 40 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 50 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 60 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 70 */ MI8, MI8, MI8, MI8, M, M, M, 0, M, M, UD, UD, M, M, M, M,
    /* 80 */ F_JZ, F_JZ, F_JZ, F_JZ, F_JZ, F_JZ, F_JZ, F_JZ,
    /* 88 */ F_JZ, F_JZ, F_JZ, F_JZ, F_JZ, F_JZ, F_JZ, F_JZ,
    /* 90 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* a0 */ 0, 0, 0, M, MI8, M, UD, UD, 0, 0, 0, M, MI8, M, M, M,
    /* b0 */ M, M, M, M, M, M, M, M, M, M | UD, MI8, M, M, M, M, M,
    /* c0 */ M, M, MI8, M, MI8, MI8, MI8, M, 0, 0, 0, 0, 0, 0, 0, 0,
    /* d0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* e0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* f0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M | UD,
};
/* clang-format on */

#undef M
#undef MI8
#undef MIZ
#undef I8
#undef IZ
#undef X
#undef P
#undef UD
#undef MR

/* VEX/EVEX/XOP map numbers (mmmmm / mmm fields). */
#define VEX_MAP_0F   1
#define VEX_MAP_0F38 2
#define VEX_MAP_0F3A 3
#define EVEX_MAP_5   5 /* AVX512-FP16 */
#define EVEX_MAP_6   6
#define XOP_MAP_8    8	  /* AMD APM Vol.3 1.8: imm8 */
#define XOP_MAP_9    9	  /* no immediate */
#define XOP_MAP_A    10	  /* imm32 */
#define NOT_VEX	     (-1) /* read_vex: a legacy opcode after all */

/* A read cursor over the instruction bytes that enforces both limits. */
struct cursor {
	const u8 *buf;
	unsigned n;
	unsigned pos;
};

/* Everything the prefixes and mode decide. */
struct pfx {
	enum insn_mode mode;
	u8 rex; /* 0 if none, or it was cancelled by a later legacy prefix */
	u8 seg; /* override prefix byte, 0 if none */
	bool opsize, addrsize, lock, rep, repne;
	unsigned op_size;   /* effective operand size in bytes: 2, 4, 8 */
	unsigned addr_size; /* 2, 4, 8 */
};

static int next_byte(struct cursor *c, u8 *b)
{
	if (c->pos >= INSN_MAX_LEN)
		return INSN_ERR_TOO_LONG;
	if (c->pos >= c->n)
		return INSN_ERR_TRUNCATED;
	*b = c->buf[c->pos++];
	return INSN_OK;
}

static int peek_byte(struct cursor *c, u8 *b)
{
	int st = next_byte(c, b);

	if (st == INSN_OK)
		c->pos--;
	return st;
}

/* Read a little-endian field of 1, 2, 4 or 8 bytes. */
static int next_le(struct cursor *c, unsigned bytes, u64 *v)
{
	u64 r = 0;

	for (unsigned i = 0; i < bytes; i++) {
		u8 b;
		int st = next_byte(c, &b);

		if (st)
			return st;
		r |= (u64)b << (8 * i);
	}
	*v = r;
	return INSN_OK;
}

static u64 truncate(u64 v, unsigned size)
{
	return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static u64 sign_extend(u64 v, unsigned size)
{
	unsigned shift = 64 - 8 * size;

	return size >= 8 ? v : (u64)((s64)(v << shift) >> shift);
}

static bool is_seg_prefix(u8 b)
{
	return b == PFX_ES || b == PFX_CS || b == PFX_SS || b == PFX_DS || b == PFX_FS ||
	       b == PFX_GS;
}

/* Consume prefixes; returns with *op the first opcode byte (SDM Vol.2 2.1.1, 2.2.1). */
static int read_prefixes(struct cursor *c, struct pfx *p, u8 *op)
{
	for (;;) {
		u8 b;
		int st = next_byte(c, &b);

		if (st)
			return st;
		if (p->mode == INSN_MODE_64 && b >= REX_FIRST && b <= REX_LAST) {
			p->rex = b; /* only the last REX before the opcode counts */
			continue;
		}
		if (is_seg_prefix(b))
			p->seg = b;
		else if (b == PFX_OPSIZE)
			p->opsize = true;
		else if (b == PFX_ADDRSIZE)
			p->addrsize = true;
		else if (b == PFX_LOCK)
			p->lock = true;
		else if (b == PFX_REP)
			p->rep = true;
		else if (b == PFX_REPNE)
			p->repne = true;
		else {
			*op = b;
			return INSN_OK;
		}
		p->rex = 0; /* a REX not directly before the opcode is ignored */
	}
}

/* Operand and address sizes (SDM Vol.2 tables 2-1 and 2-4, Vol.1 3.6.1). */
static void set_sizes(struct pfx *p)
{
	switch (p->mode) {
	case INSN_MODE_64:
		p->op_size = (p->rex & REX_W) ? 8 : p->opsize ? 2 : 4;
		p->addr_size = p->addrsize ? 4 : 8;
		break;
	case INSN_MODE_32:
		p->op_size = p->opsize ? 2 : 4;
		p->addr_size = p->addrsize ? 2 : 4;
		break;
	default:
		p->op_size = p->opsize ? 4 : 2;
		p->addr_size = p->addrsize ? 4 : 2;
		break;
	}
}

static u8 seg_of_prefix(u8 b)
{
	switch (b) {
	case PFX_ES:
		return INSN_SEG_ES;
	case PFX_CS:
		return INSN_SEG_CS;
	case PFX_SS:
		return INSN_SEG_SS;
	case PFX_FS:
		return INSN_SEG_FS;
	case PFX_GS:
		return INSN_SEG_GS;
	default:
		return INSN_SEG_DS;
	}
}

/* Effective segment: override, else SS for BP/SP-based forms, else DS (SDM Vol.1 3.7.4). */
static u8 mem_segment(const struct pfx *p, bool stack_base)
{
	if (p->seg && (p->mode != INSN_MODE_64 || p->seg == PFX_FS || p->seg == PFX_GS))
		return seg_of_prefix(p->seg); /* 64-bit mode ignores ES/CS/SS/DS (Vol.1 3.7.4.1) */
	return stack_base ? INSN_SEG_SS : INSN_SEG_DS;
}

/* 16-bit ModRM memory forms (SDM Vol.2 table 2-1). */
static int modrm16(struct cursor *c, const struct pfx *p, u8 modrm, struct insn_mem *m)
{
	static const u8 base16[8] = {REG_RBX, REG_RBX, REG_RBP, REG_RBP,
				     REG_RSI, REG_RDI, REG_RBP, REG_RBX};
	static const u8 index16[8] = {REG_RSI,	   REG_RDI,	REG_RSI,     REG_RDI,
				      INSN_NO_REG, INSN_NO_REG, INSN_NO_REG, INSN_NO_REG};
	unsigned mod = MODRM_MOD(modrm), rm = MODRM_RM(modrm);
	u64 disp = 0;
	int st = INSN_OK;

	m->base = base16[rm];
	m->index = index16[rm];
	if (mod == 0 && rm == RM16_DISP16) {
		m->base = INSN_NO_REG;
		st = next_le(c, 2, &disp);
		disp = sign_extend(disp, 2);
	} else if (mod == 1) {
		st = next_le(c, 1, &disp);
		disp = sign_extend(disp, 1);
	} else if (mod == 2) {
		st = next_le(c, 2, &disp);
		disp = sign_extend(disp, 2);
	}
	m->disp = (s64)disp;
	m->seg = mem_segment(p, m->base == REG_RBP);
	return st;
}

/* 32/64-bit ModRM and SIB memory forms (SDM Vol.2 tables 2-2, 2-3, 2-5; 2.2.1.6). */
static int modrm32(struct cursor *c, const struct pfx *p, u8 modrm, struct insn_mem *m)
{
	unsigned mod = MODRM_MOD(modrm), rm = MODRM_RM(modrm);
	bool stack_base = false;
	u64 disp = 0;
	int st;

	if (rm == RM_SIB) {
		u8 sib;
		unsigned index, base;

		st = next_byte(c, &sib);
		if (st)
			return st;
		index = MODRM_REG(sib) | ((p->rex & REX_X) ? 8 : 0);
		base = MODRM_RM(sib);
		m->scale = (u8)(1u << MODRM_MOD(sib));
		m->index = index == SIB_NO_INDEX ? INSN_NO_REG : (u8)index;
		if (mod == 0 && base == SIB_NO_BASE) {
			m->base = INSN_NO_REG; /* disp32, whatever REX.B says */
			mod = 2;
		} else {
			stack_base = base == REG_RSP || base == REG_RBP;
			m->base = (u8)(base | ((p->rex & REX_B) ? 8 : 0));
			stack_base = stack_base && m->base < 8;
		}
	} else if (mod == 0 && rm == RM_DISP32) {
		m->base = INSN_NO_REG;
		m->rip_rel = p->mode == INSN_MODE_64;
		mod = 2;
	} else {
		m->base = (u8)(rm | ((p->rex & REX_B) ? 8 : 0));
		stack_base = m->base == REG_RBP;
	}
	if (mod == 1) {
		st = next_le(c, 1, &disp);
		disp = sign_extend(disp, 1);
	} else if (mod == 2) {
		st = next_le(c, 4, &disp);
		disp = sign_extend(disp, 4);
	} else {
		st = INSN_OK;
	}
	m->disp = (s64)disp;
	m->seg = mem_segment(p, stack_base);
	return st;
}

/* The bytes after the opcode that a ModRM's memory form adds. */
static int read_modrm_mem(struct cursor *c, const struct pfx *p, u8 modrm, struct insn_mem *m)
{
	m->kind = INSN_MEM_MODRM;
	m->addr_size = (u8)p->addr_size;
	m->scale = 1;
	m->index = INSN_NO_REG;
	if (MODRM_MOD(modrm) == MOD_REG) {
		m->kind = INSN_MEM_NONE;
		m->base = INSN_NO_REG;
		return INSN_OK;
	}
	if (p->addr_size == 2)
		return modrm16(c, p, modrm, m);
	return modrm32(c, p, modrm, m);
}

/* Where an opcode lives, and its table flags. */
struct opcode {
	u32 id; /* insn.opcode */
	unsigned flags;
	bool legacy; /* one-byte or 0f map without VEX/EVEX/XOP */
};

/* Immediate (or moffs / far pointer) length in bytes (SDM Vol.2 A.2.2). */
static unsigned imm_len(const struct pfx *p, const struct opcode *o, u8 modrm)
{
	unsigned z = p->op_size == 2 ? 2 : 4;
	unsigned f = o->flags, n = 0;

	if (f & F_I8)
		n += 1;
	if (f & F_I16)
		n += 2;
	if (f & F_I32)
		n += 4;
	if (f & F_IZ)
		n += z;
	if (f & F_IV)
		n += p->op_size;
	if (f & F_MO)
		n += p->addr_size;
	if (f & F_AP)
		n += z + 2;
	/* Near branches are rel32 in 64-bit mode whatever 66 says (Intel, SDM Vol.2 2.2.1.7). */
	if (f & F_JZ)
		n += p->mode == INSN_MODE_64 ? 4 : z;
	if ((f & F_GRP3) && MODRM_REG(modrm) < 2)
		n += (o->id & 1) ? z : 1; /* TEST Eb,Ib / Ev,Iz */
	if (o->legacy && o->id == (0x0f00u | OP_0F_EXTRQ) && (p->opsize || p->repne))
		n += 2; /* EXTRQ/INSERTQ xmm, imm8, imm8 */
	return n;
}

/*
 * VEX (c4/c5), EVEX (62) and XOP (8f) escapes: in 32/16-bit mode c4/c5/62
 * are LES/LDS/BOUND unless the next byte has mod = 11 (SDM Vol.2 2.3.5,
 * 2.7.1); 8f is XOP when its map field is 8 or more (APM Vol.3 1.8).
 * Returns NOT_VEX if b was not such an escape.
 */
static int read_vex(struct cursor *c, const struct pfx *p, u8 b, struct opcode *o)
{
	u8 nb, pb, op;
	unsigned map;
	int st;

	if (b != ESC_VEX3 && b != ESC_VEX2 && b != ESC_EVEX && b != ESC_XOP)
		return NOT_VEX;
	st = peek_byte(c, &nb);
	if (st)
		return st;
	if (b == ESC_XOP && (nb & 0x1f) < XOP_MAP_8)
		return NOT_VEX;
	if (b != ESC_XOP && p->mode != INSN_MODE_64 && MODRM_MOD(nb) != MOD_REG)
		return NOT_VEX;
	if (p->rex || p->opsize || p->lock || p->rep || p->repne)
		return INSN_ERR_INVALID; /* #UD with these prefixes (SDM Vol.2 2.3.2) */
	c->pos++;
	if (b == ESC_VEX2) {
		map = VEX_MAP_0F;
	} else {
		map = b == ESC_EVEX ? (nb & 7u) : (nb & 0x1fu);
		/* The second payload byte; EVEX has a third. */
		st = next_byte(c, &pb);
		if (!st && b == ESC_EVEX)
			st = next_byte(c, &pb);
		if (st)
			return st;
	}
	st = next_byte(c, &op);
	if (st)
		return st;
	o->id = ((u32)b << 16) | (map << 8) | op;
	o->legacy = false;
	switch (map) {
	case VEX_MAP_0F:
		if (b == ESC_XOP)
			return INSN_ERR_INVALID;
		o->flags = map0f[op] & (F_M | F_I8); /* same ModRM/imm8 layout as 0f xx */
		return INSN_OK;
	case VEX_MAP_0F38:
	case EVEX_MAP_5:
	case EVEX_MAP_6:
	case XOP_MAP_9:
		o->flags = F_M;
		break;
	case VEX_MAP_0F3A:
	case XOP_MAP_8:
		o->flags = F_M | F_I8;
		break;
	case XOP_MAP_A:
		o->flags = F_M | F_I32;
		break;
	default:
		return INSN_ERR_INVALID;
	}
	if ((map == XOP_MAP_8 || map == XOP_MAP_9 || map == XOP_MAP_A) != (b == ESC_XOP))
		return INSN_ERR_INVALID;
	if ((map == EVEX_MAP_5 || map == EVEX_MAP_6) && b != ESC_EVEX)
		return INSN_ERR_INVALID;
	return INSN_OK;
}

/* Opcode bytes after the prefixes: one-byte, 0f, 0f 38, 0f 3a, or VEX-like. */
static int read_opcode(struct cursor *c, const struct pfx *p, u8 b, struct opcode *o)
{
	u8 b2, b3;
	int st = read_vex(c, p, b, o);

	if (st != NOT_VEX)
		return st;
	o->legacy = true;
	if (b != ESC_0F) {
		o->id = b;
		o->flags = map1[b];
		return INSN_OK;
	}
	st = next_byte(c, &b2);
	if (st)
		return st;
	if (b2 != ESC_0F38 && b2 != ESC_0F3A) {
		o->id = 0x0f00u | b2;
		o->flags = map0f[b2];
		return INSN_OK;
	}
	st = next_byte(c, &b3);
	if (st)
		return st;
	o->id = 0x0f0000u | ((u32)b2 << 8) | b3;
	o->flags = b2 == ESC_0F3A ? F_M | F_I8 : F_M; /* SDM Vol.2 tables */
	return INSN_OK;
}

/* Register operand from ModRM.reg with REX.R; AH-BH (SDM Vol.2 2.2.1.2, table 3-1). */
static void set_reg(struct insn *in, const struct pfx *p, unsigned num, unsigned size)
{
	if (size == 1 && !p->rex && num >= 4 && num < 8) {
		in->reg = (u8)(num - 4);
		in->reg_high = true;
		return;
	}
	in->reg = (u8)num;
	in->reg_high = false;
}

/* Operands of the supported moves; anything else is unsupported (its length is known). */
static int decode_move(struct insn *in, const struct pfx *p, const struct opcode *o, u8 modrm,
		       u64 imm)
{
	unsigned regnum = MODRM_REG(modrm) | ((p->rex & REX_R) ? 8 : 0);
	bool reg_form = MODRM_MOD(modrm) == MOD_REG;
	unsigned size = p->op_size, src = 0;

	in->op = INSN_OP_NONE;
	in->reg = INSN_NO_REG;
	switch (o->id) {
	case OP_MOV_EB_GB:
	case OP_MOV_GB_EB:
	case OP_XCHG_EB_GB:
	case OP_MOV_EB_IB:
		size = 1;
		break;
	case OP_MOV_AL_MOFFS:
	case OP_MOV_MOFFS_AL:
		size = 1;
		reg_form = false;
		break;
	case OP_MOV_AX_MOFFS:
	case OP_MOV_MOFFS_AX:
		reg_form = false;
		break;
	case OP_MOV_EV_GV:
	case OP_MOV_GV_EV:
	case OP_XCHG_EV_GV:
	case OP_MOV_EV_IZ:
		break;
	case OP_0F_MOVZX_B:
	case OP_0F_MOVSX_B:
		src = 1;
		break;
	case OP_0F_MOVZX_W:
	case OP_0F_MOVSX_W:
		src = 2;
		break;
	case OP_MOVSXD:
		if (p->mode != INSN_MODE_64)
			return INSN_ERR_UNSUPPORTED; /* ARPL */
		src = p->op_size == 8 ? 4 : p->op_size;
		break;
	default:
		return INSN_ERR_UNSUPPORTED;
	}
	if (!o->legacy)
		return INSN_ERR_UNSUPPORTED;
	if ((o->id == OP_MOV_EB_IB || o->id == OP_MOV_EV_IZ) && MODRM_REG(modrm) != 0)
		return modrm == MODRM_XBEGIN ? INSN_ERR_UNSUPPORTED : INSN_ERR_INVALID;
	if (reg_form)
		return p->lock ? INSN_ERR_INVALID : INSN_ERR_UNSUPPORTED;
	/* LOCK is #UD on MOV (SDM Vol.2 LOCK); REP/XACQUIRE/XRELEASE forms are not emulated. */
	if (p->lock && o->id != OP_XCHG_EB_GB && o->id != OP_XCHG_EV_GV)
		return INSN_ERR_INVALID;
	if (p->rep || p->repne)
		return INSN_ERR_UNSUPPORTED;

	in->size = (u8)(src ? src : size);
	in->dst_size = (u8)size;
	in->ext = INSN_EXT_NONE;
	switch (o->id) {
	case OP_MOV_EB_GB:
	case OP_MOV_EV_GV:
		in->op = INSN_OP_STORE;
		set_reg(in, p, regnum, size);
		break;
	case OP_MOV_GB_EB:
	case OP_MOV_GV_EV:
		in->op = INSN_OP_LOAD;
		set_reg(in, p, regnum, size);
		break;
	case OP_XCHG_EB_GB:
	case OP_XCHG_EV_GV:
		in->op = INSN_OP_XCHG;
		in->lock = true; /* XCHG with memory always locks */
		set_reg(in, p, regnum, size);
		break;
	case OP_MOV_EB_IB:
	case OP_MOV_EV_IZ:
		in->op = INSN_OP_STORE;
		in->has_imm = true;
		in->imm = sign_extend(imm, size == 8 ? 4 : size);
		break;
	case OP_MOV_AL_MOFFS:
	case OP_MOV_AX_MOFFS:
		in->op = INSN_OP_LOAD;
		in->reg = REG_RAX;
		break;
	case OP_MOV_MOFFS_AL:
	case OP_MOV_MOFFS_AX:
		in->op = INSN_OP_STORE;
		in->reg = REG_RAX;
		break;
	default: /* MOVZX, MOVSX, MOVSXD */
		in->op = INSN_OP_LOAD;
		in->ext = (o->id == OP_0F_MOVZX_B || o->id == OP_0F_MOVZX_W) ? INSN_EXT_ZERO
			  : src < size					     ? INSN_EXT_SIGN
									     : INSN_EXT_NONE;
		set_reg(in, p, regnum, size);
		break;
	}
	return INSN_OK;
}

static void clear(struct insn *in)
{
	memset(in, 0, sizeof(*in));
	in->reg = INSN_NO_REG;
	in->mem.base = INSN_NO_REG;
	in->mem.index = INSN_NO_REG;
}

int insn_decode(const u8 *bytes, unsigned n, enum insn_mode mode, struct insn *in)
{
	struct cursor c = {.buf = bytes, .n = n, .pos = 0};
	struct pfx p = {.mode = mode};
	struct opcode o;
	struct insn_mem mem = {0};
	u8 b, modrm = 0;
	u64 imm = 0;
	unsigned ilen;
	int st;

	clear(in);
	if ((unsigned)mode > INSN_MODE_64)
		return INSN_ERR_INVALID;
	if (!bytes)
		c.n = 0;
	st = read_prefixes(&c, &p, &b);
	if (st)
		return st;
	set_sizes(&p);
	st = read_opcode(&c, &p, b, &o);
	if (st)
		return st;
	if ((o.flags & F_UD) || ((o.flags & F_I64) && mode == INSN_MODE_64))
		return INSN_ERR_INVALID;
	if (o.flags & F_M) {
		st = next_byte(&c, &modrm);
		if (!st && !(o.flags & F_MREG))
			st = read_modrm_mem(&c, &p, modrm, &mem);
		if (st)
			return st;
	}
	ilen = imm_len(&p, &o, modrm);
	st = next_le(&c, ilen, &imm);
	if (o.flags & F_MO) {
		mem.kind = INSN_MEM_MOFFS;
		mem.addr_size = (u8)p.addr_size;
		mem.base = mem.index = INSN_NO_REG;
		mem.scale = 1;
		mem.disp = (s64)imm;
		mem.seg = mem_segment(&p, false);
	}
	if (st)
		return st;
	in->len = (u8)c.pos;
	in->opcode = o.id;
	st = decode_move(in, &p, &o, modrm, imm);
	if (st == INSN_ERR_INVALID) {
		in->len = 0;
		return st;
	}
	in->lock = in->lock || p.lock;
	if (st == INSN_OK)
		in->mem = mem;
	return st;
}

enum insn_mode insn_mode_of(const struct vp_sregs *s, u64 rflags)
{
	/* Real and virtual-8086 mode are 16-bit whatever the CS cache says (SDM Vol.3B 20.1). */
	if (!(s->cr0 & CR0_PE) || (rflags & RFLAGS_VM))
		return INSN_MODE_16;
	if ((s->efer & EFER_LMA) && (s->cs.attr & SEG_ATTR_L))
		return INSN_MODE_64;
	return (s->cs.attr & SEG_ATTR_D) ? INSN_MODE_32 : INSN_MODE_16;
}

const char *insn_status_str(int status)
{
	switch (status) {
	case INSN_OK:
		return "ok";
	case INSN_ERR_TRUNCATED:
		return "truncated instruction";
	case INSN_ERR_TOO_LONG:
		return "instruction longer than 15 bytes";
	case INSN_ERR_INVALID:
		return "invalid instruction";
	case INSN_ERR_UNSUPPORTED:
		return "unsupported instruction";
	default:
		return "unknown decode status";
	}
}

void insn_apply_load(const struct insn *in, u64 value, u64 gpr[VP_NR_GPRS])
{
	u64 v, *r;

	if ((in->op != INSN_OP_LOAD && in->op != INSN_OP_XCHG) || in->reg >= VP_NR_GPRS)
		return;
	r = &gpr[in->reg];
	v = truncate(value, in->size);
	if (in->ext == INSN_EXT_SIGN)
		v = sign_extend(v, in->size);
	switch (in->dst_size) {
	case 1:
		if (in->reg_high)
			*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
		else
			*r = (*r & ~0xffull) | (v & 0xff);
		break;
	case 2:
		*r = (*r & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		*r = v & 0xffffffffull; /* 32-bit results zero-extend (SDM Vol.1 3.4.1.1) */
		break;
	case 8:
		*r = v;
		break;
	}
}

u64 insn_store_value(const struct insn *in, const u64 gpr[VP_NR_GPRS])
{
	u64 v;

	if (in->has_imm)
		v = in->imm;
	else if (in->reg < VP_NR_GPRS)
		v = in->reg_high ? gpr[in->reg] >> 8 : gpr[in->reg];
	else
		v = 0;
	return truncate(v, in->size);
}

u64 insn_mem_offset(const struct insn *in, const u64 gpr[VP_NR_GPRS], u64 rip)
{
	const struct insn_mem *m = &in->mem;
	u64 ea = (u64)m->disp;

	if (m->kind == INSN_MEM_MODRM) {
		if (m->base < VP_NR_GPRS)
			ea += gpr[m->base];
		if (m->index < VP_NR_GPRS)
			ea += gpr[m->index] * m->scale;
		if (m->rip_rel)
			ea += rip + in->len;
	}
	return truncate(ea, m->addr_size);
}
