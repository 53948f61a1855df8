/*
 * Decoder for the memory-access instructions a guest aims at MMIO pages
 * (IOAPIC, LAPIC, device BARs), and the register write-back of their
 * results. Needed on both back ends: SVM under QEMU has no decode assists
 * and no NRIP save, so the length and the operands come from here. Pure
 * code: bytes in, struct insn out (SDM Vol.2 chapter 2, appendices A and B).
 */
#ifndef BULKHEAD_INSN_H
#define BULKHEAD_INSN_H

#include "kernel/types.h"
#include "kernel/vp.h"

/* Architectural limit on an instruction's length (SDM Vol.2 2.3.11). */
#define INSN_MAX_LEN 15

/* Default operand/address size of the code segment (SDM Vol.1 3.6). */
enum insn_mode {
	INSN_MODE_16, /* real mode, virtual-8086, 16-bit protected (CS.D = 0) */
	INSN_MODE_32, /* 32-bit protected or compatibility mode (CS.D = 1) */
	INSN_MODE_64, /* 64-bit mode (EFER.LMA = 1 and CS.L = 1) */
};

enum insn_status {
	INSN_OK = 0,
	INSN_ERR_TRUNCATED,   /* the instruction runs past the bytes given */
	INSN_ERR_TOO_LONG,    /* more than 15 bytes: #GP on hardware */
	INSN_ERR_INVALID,     /* an encoding that raises #UD */
	INSN_ERR_UNSUPPORTED, /* valid, but not a memory access emulated here; len is set */
};

enum insn_op {
	INSN_OP_NONE,
	INSN_OP_LOAD,  /* memory -> register: MOV, MOVZX, MOVSX, MOVSXD */
	INSN_OP_STORE, /* register or immediate -> memory: MOV */
	INSN_OP_XCHG,  /* XCHG: load into the register, store its old value */
};

/* How a loaded value is widened to dst_size. */
enum insn_ext {
	INSN_EXT_NONE,
	INSN_EXT_ZERO, /* MOVZX */
	INSN_EXT_SIGN, /* MOVSX, MOVSXD */
};

enum insn_mem_kind {
	INSN_MEM_NONE,
	INSN_MEM_MODRM, /* ModRM (+SIB, disp) operand: the only memory operand */
	INSN_MEM_MOFFS, /* A0-A3 absolute offset in mem.disp: also the only operand */
};

/* Segment register numbers (sreg3 encoding, SDM Vol.2 B.1.4.8). */
enum insn_seg {
	INSN_SEG_ES,
	INSN_SEG_CS,
	INSN_SEG_SS,
	INSN_SEG_DS,
	INSN_SEG_FS,
	INSN_SEG_GS,
};

#define INSN_NO_REG 0xff

/* The memory operand: enough to recompute its effective address. */
struct insn_mem {
	u8 kind;      /* enum insn_mem_kind */
	u8 seg;	      /* enum insn_seg: override, or DS/SS default */
	u8 addr_size; /* 2, 4 or 8 */
	u8 base;      /* GPR number or INSN_NO_REG */
	u8 index;     /* GPR number or INSN_NO_REG */
	u8 scale;     /* 1, 2, 4 or 8 */
	bool rip_rel; /* 64-bit mode RIP-relative: next RIP + disp */
	s64 disp;     /* sign-extended displacement; the offset for moffs */
};

/*
 * One decoded instruction. On INSN_OK every field is set; on
 * INSN_ERR_UNSUPPORTED only len and opcode are meaningful.
 */
struct insn {
	u8 len;	     /* 1-15 bytes, prefixes included */
	u8 op;	     /* enum insn_op */
	u8 size;     /* bytes accessed in memory: 1, 2, 4 or 8 */
	u8 dst_size; /* register width a load writes (differs for MOVZX/MOVSX) */
	u8 ext;	     /* enum insn_ext */
	/*
	 * Register operand, 0-15 in enum vp_reg order with REX applied. For
	 * AH/CH/DH/BH (byte operand, no REX, encodings 4-7) reg is the full
	 * register 0-3 and reg_high says bits 15:8.
	 */
	u8 reg;
	bool reg_high;
	bool has_imm; /* a store of imm, not of reg (reg is INSN_NO_REG) */
	bool lock;    /* LOCK prefix, or XCHG's implicit lock */
	u64 imm;      /* the immediate, sign-extended to 64 bits */
	struct insn_mem mem;
	u32 opcode; /* for messages: 0x8b, 0x0fb6, 0x0f3800; VEX-like: escape:map:op, 0xc50177 */
};

/* Mode of the code segment from the guest's registers (SDM Vol.3A 2.2, Vol.1 3.6). */
enum insn_mode insn_mode_of(const struct vp_sregs *s, u64 rflags);

/*
 * Decode the instruction at bytes[0..n) (n may exceed 15; at most 15 are
 * read). Returns an enum insn_status; never reads past bytes[n - 1].
 */
int insn_decode(const u8 *bytes, unsigned n, enum insn_mode mode, struct insn *in);

/* Short text for an enum insn_status, for console messages. */
const char *insn_status_str(int status);

/*
 * Write a value loaded from memory to in->reg with x86 semantics (SDM Vol.1
 * 3.4.1.1): 32-bit writes zero bits 63:32, 8/16-bit writes merge, AH-BH
 * write bits 15:8, MOVZX/MOVSX widen to dst_size. For LOAD and XCHG.
 */
void insn_apply_load(const struct insn *in, u64 value, u64 gpr[VP_NR_GPRS]);

/* The value a STORE or XCHG writes to memory, truncated to in->size. */
u64 insn_store_value(const struct insn *in, const u64 gpr[VP_NR_GPRS]);

/*
 * The memory operand's offset within its segment, wrapped to the address
 * size; rip is the address of the instruction itself.
 */
u64 insn_mem_offset(const struct insn *in, const u64 gpr[VP_NR_GPRS], u64 rip);

#endif
