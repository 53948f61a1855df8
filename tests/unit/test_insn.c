/*
 * MMIO instruction decoder: real encodings (checked against GNU as/objdump)
 * in each mode, lengths of instructions it does not emulate, the limits
 * (truncation, 15 bytes), and the register write-back rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/insn.h"

static struct insn in;

/* Decode exactly the listed bytes, from a heap copy so ASan sees overreads. */
static int dec_n(enum insn_mode mode, const u8 *b, unsigned n)
{
	u8 *copy = test_malloc(n ? n : 1);
	int st;

	memcpy(copy, b, n);
	memset(&in, 0xcc, sizeof(in)); /* decode must set every field */
	st = insn_decode(copy, n, mode, &in);
	test_free(copy);
	return st;
}

#define DEC(mode, ...) dec_n(mode, (const u8[]){__VA_ARGS__}, sizeof((const u8[]){__VA_ARGS__}))
#define D64(...)       DEC(INSN_MODE_64, __VA_ARGS__)
#define D32(...)       DEC(INSN_MODE_32, __VA_ARGS__)
#define D16(...)       DEC(INSN_MODE_16, __VA_ARGS__)

static void expect(unsigned len, unsigned op, unsigned size, unsigned reg)
{
	assert_int_equal(in.len, len);
	assert_int_equal(in.op, op);
	assert_int_equal(in.size, size);
	assert_int_equal(in.reg, reg);
}

static void expect_mem(unsigned base, unsigned index, unsigned scale, s64 disp)
{
	assert_int_equal(in.mem.kind, INSN_MEM_MODRM);
	assert_int_equal(in.mem.base, base);
	assert_int_equal(in.mem.index, index);
	assert_int_equal(in.mem.scale, scale);
	assert_int_equal(in.mem.disp, disp);
}

/* readl/writel as Linux compiles them. */
static void test_mov_basic_64(void **state)
{
	assert_int_equal(D64(0x8b, 0x00), INSN_OK); /* mov (%rax),%eax */
	expect(2, INSN_OP_LOAD, 4, REG_RAX);
	expect_mem(REG_RAX, INSN_NO_REG, 1, 0);
	assert_false(in.reg_high);
	assert_false(in.has_imm);
	assert_false(in.lock);
	assert_int_equal(in.dst_size, 4);
	assert_int_equal(in.ext, INSN_EXT_NONE);
	assert_int_equal(in.mem.addr_size, 8);
	assert_int_equal(in.mem.seg, INSN_SEG_DS);
	assert_false(in.mem.rip_rel);
	assert_int_equal(in.opcode, 0x8b);

	assert_int_equal(D64(0x89, 0x50, 0x10), INSN_OK); /* mov %edx,0x10(%rax) */
	expect(3, INSN_OP_STORE, 4, REG_RDX);
	expect_mem(REG_RAX, INSN_NO_REG, 1, 0x10);

	assert_int_equal(D64(0x8b, 0x8a, 0x00, 0x03, 0x00, 0x00),
			 INSN_OK); /* mov 0x300(%rdx),%ecx */
	expect(6, INSN_OP_LOAD, 4, REG_RCX);
	expect_mem(REG_RDX, INSN_NO_REG, 1, 0x300);

	assert_int_equal(D64(0x8b, 0x47, 0xf0), INSN_OK); /* mov -0x10(%rdi),%eax */
	expect(3, INSN_OP_LOAD, 4, REG_RAX);
	expect_mem(REG_RDI, INSN_NO_REG, 1, -0x10);

	assert_int_equal(D64(0x48, 0x89, 0x08), INSN_OK); /* mov %rcx,(%rax) */
	expect(3, INSN_OP_STORE, 8, REG_RCX);
}

static void test_rex(void **state)
{
	assert_int_equal(D64(0x44, 0x8b, 0x00), INSN_OK); /* mov (%rax),%r8d */
	expect(3, INSN_OP_LOAD, 4, REG_R8);
	expect_mem(REG_RAX, INSN_NO_REG, 1, 0);

	assert_int_equal(D64(0x41, 0x8b, 0x04, 0x24), INSN_OK); /* mov (%r12),%eax: SIB */
	expect(4, INSN_OP_LOAD, 4, REG_RAX);
	expect_mem(REG_R12, INSN_NO_REG, 1, 0);

	assert_int_equal(D64(0x41, 0x8b, 0x45, 0x00), INSN_OK); /* mov 0x0(%r13),%eax */
	expect(4, INSN_OP_LOAD, 4, REG_RAX);
	expect_mem(REG_R13, INSN_NO_REG, 1, 0);
	assert_int_equal(in.mem.seg, INSN_SEG_DS); /* r13 is not rbp */

	assert_int_equal(D64(0x4f, 0x89, 0x7c, 0xb5, 0x08),
			 INSN_OK); /* mov %r15,0x8(%r13,%r14,4) */
	expect(5, INSN_OP_STORE, 8, REG_R15);
	expect_mem(REG_R13, REG_R14, 4, 8);

	/* REX.X makes index 100 a real register (r12). */
	assert_int_equal(D64(0x42, 0x8b, 0x04, 0x20), INSN_OK); /* mov (%rax,%r12,1),%eax */
	expect_mem(REG_RAX, REG_R12, 1, 0);

	/* A REX not directly before the opcode is ignored; the last REX wins. */
	assert_int_equal(D64(0x48, 0x66, 0x8b, 0x00), INSN_OK);
	expect(4, INSN_OP_LOAD, 2, REG_RAX);
	assert_int_equal(D64(0x66, 0x48, 0x8b, 0x00), INSN_OK);
	expect(4, INSN_OP_LOAD, 8, REG_RAX);
	assert_int_equal(D64(0x4c, 0x40, 0x8b, 0x00), INSN_OK);
	expect(4, INSN_OP_LOAD, 4, REG_RAX);

	/* 40-4f are INC/DEC outside 64-bit mode. */
	assert_int_equal(D32(0x44, 0x8b, 0x00), INSN_ERR_UNSUPPORTED);
	assert_int_equal(in.len, 1);
}

static void test_sib_and_rip_relative(void **state)
{
	u64 gpr[VP_NR_GPRS] = {0};

	/* mov 0xfffffffffec00000,%rax: SIB without base, disp32 sign-extended. */
	assert_int_equal(D64(0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0xc0, 0xfe), INSN_OK);
	expect(8, INSN_OP_LOAD, 8, REG_RAX);
	expect_mem(INSN_NO_REG, INSN_NO_REG, 1, (int32_t)0xfec00000);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfffffffffec00000ull);
	/* Without the REX.W, in 32-bit mode: the same disp32 is the whole address. */
	assert_int_equal(D32(0x8b, 0x04, 0x25, 0x00, 0x00, 0xc0, 0xfe), INSN_OK);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfec00000);

	assert_int_equal(D64(0x8b, 0x44, 0x8b, 0x08), INSN_OK); /* mov 0x8(%rbx,%rcx,4),%eax */
	expect_mem(REG_RBX, REG_RCX, 4, 8);
	gpr[REG_RBX] = 0x1000;
	gpr[REG_RCX] = 3;
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0x1014);

	assert_int_equal(D64(0x8b, 0x44, 0x24, 0x10), INSN_OK); /* mov 0x10(%rsp),%eax */
	expect_mem(REG_RSP, INSN_NO_REG, 1, 0x10);
	assert_int_equal(in.mem.seg, INSN_SEG_SS);

	/* mov 0x10(%rip),%eax */
	assert_int_equal(D64(0x8b, 0x05, 0x10, 0x00, 0x00, 0x00), INSN_OK);
	expect(6, INSN_OP_LOAD, 4, REG_RAX);
	assert_true(in.mem.rip_rel);
	assert_int_equal(in.mem.base, INSN_NO_REG);
	assert_int_equal(insn_mem_offset(&in, gpr, 0xffffffff81000000ull), 0xffffffff81000016ull);
	/* REX.B does not turn RIP-relative into r13. */
	assert_int_equal(D64(0x41, 0x8b, 0x05, 0xfc, 0xff, 0xff, 0xff), INSN_OK);
	assert_true(in.mem.rip_rel);
	assert_int_equal(insn_mem_offset(&in, gpr, 0x2000), 0x2003);
	/* With 67 the result wraps to 32 bits (EIP-relative). */
	assert_int_equal(D64(0x67, 0x8b, 0x05, 0x00, 0x00, 0x00, 0x00), INSN_OK);
	assert_true(in.mem.rip_rel);
	assert_int_equal(in.mem.addr_size, 4);
	assert_int_equal(insn_mem_offset(&in, gpr, 0x1fffffff9ull), 0);

	/* In 32-bit mode, mod 00 rm 101 is an absolute disp32. */
	assert_int_equal(D32(0x8b, 0x05, 0x20, 0x03, 0xe0, 0xfe), INSN_OK);
	assert_false(in.mem.rip_rel);
	assert_int_equal(insn_mem_offset(&in, gpr, 0x1234), 0xfee00320);
}

static void test_sizes_and_byte_registers(void **state)
{
	assert_int_equal(D64(0x66, 0x89, 0x02), INSN_OK); /* mov %ax,(%rdx) */
	expect(3, INSN_OP_STORE, 2, REG_RAX);
	expect_mem(REG_RDX, INSN_NO_REG, 1, 0);

	assert_int_equal(D64(0x88, 0x08), INSN_OK); /* mov %cl,(%rax) */
	expect(2, INSN_OP_STORE, 1, REG_RCX);
	assert_false(in.reg_high);

	assert_int_equal(D64(0x8a, 0x27), INSN_OK); /* mov (%rdi),%ah */
	expect(2, INSN_OP_LOAD, 1, REG_RAX);
	assert_true(in.reg_high);
	expect_mem(REG_RDI, INSN_NO_REG, 1, 0);

	assert_int_equal(D64(0x88, 0x3e), INSN_OK); /* mov %bh,(%rsi) */
	expect(2, INSN_OP_STORE, 1, REG_RBX);
	assert_true(in.reg_high);

	assert_int_equal(D64(0x40, 0x8a, 0x27), INSN_OK); /* mov (%rdi),%spl */
	expect(3, INSN_OP_LOAD, 1, REG_RSP);
	assert_false(in.reg_high);

	assert_int_equal(D64(0x44, 0x88, 0x00), INSN_OK); /* mov %r8b,(%rax) */
	expect(3, INSN_OP_STORE, 1, REG_R8);
	assert_false(in.reg_high);

	/* 66 and REX.W in 16/32-bit mode. */
	assert_int_equal(D32(0x66, 0x8b, 0x00), INSN_OK);
	expect(3, INSN_OP_LOAD, 2, REG_RAX);
	assert_int_equal(D16(0x66, 0x8b, 0x07), INSN_OK); /* mov eax,[bx] */
	expect(3, INSN_OP_LOAD, 4, REG_RAX);
}

static void test_store_immediate(void **state)
{
	u64 gpr[VP_NR_GPRS] = {0};

	assert_int_equal(D64(0xc7, 0x00, 0x78, 0x56, 0x34, 0x12),
			 INSN_OK); /* movl $0x12345678,(%rax) */
	expect(6, INSN_OP_STORE, 4, INSN_NO_REG);
	assert_true(in.has_imm);
	assert_int_equal(in.imm, 0x12345678);
	assert_int_equal(insn_store_value(&in, gpr), 0x12345678);

	assert_int_equal(D64(0xc6, 0x00, 0xab), INSN_OK); /* movb $0xab,(%rax) */
	expect(3, INSN_OP_STORE, 1, INSN_NO_REG);
	assert_int_equal(insn_store_value(&in, gpr), 0xab);

	assert_int_equal(D64(0x66, 0xc7, 0x40, 0x04, 0x34, 0x12),
			 INSN_OK); /* movw $0x1234,4(%rax) */
	expect(6, INSN_OP_STORE, 2, INSN_NO_REG);
	expect_mem(REG_RAX, INSN_NO_REG, 1, 4);
	assert_int_equal(insn_store_value(&in, gpr), 0x1234);

	/* movq $-1,(%rax): imm32 sign-extended to 64 bits. */
	assert_int_equal(D64(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), INSN_OK);
	expect(7, INSN_OP_STORE, 8, INSN_NO_REG);
	assert_int_equal(insn_store_value(&in, gpr), ~0ull);

	/* RIP-relative with an immediate: the disp comes before the imm. */
	assert_int_equal(D64(0xc7, 0x05, 0x10, 0, 0, 0, 0x01, 0, 0, 0), INSN_OK);
	assert_int_equal(in.len, 10);
	assert_int_equal(in.mem.disp, 0x10);
	assert_int_equal(in.imm, 1);

	/* 16-bit mode: movw $0x1234,[bx+si+0x10] */
	assert_int_equal(D16(0xc7, 0x40, 0x10, 0x34, 0x12), INSN_OK);
	expect(5, INSN_OP_STORE, 2, INSN_NO_REG);
	expect_mem(REG_RBX, REG_RSI, 1, 0x10);

	/* c7 /1 with memory is #UD; c7 f8 is XBEGIN; c7 c0 is mov $imm,%eax. */
	assert_int_equal(D64(0xc7, 0x08, 0, 0, 0, 0), INSN_ERR_INVALID);
	assert_int_equal(D64(0xc7, 0xf8, 0, 0, 0, 0), INSN_ERR_UNSUPPORTED);
	assert_int_equal(in.len, 6);
	assert_int_equal(D64(0xc7, 0xc0, 1, 0, 0, 0), INSN_ERR_UNSUPPORTED);
	assert_int_equal(in.len, 6);
}

static void test_movzx_movsx(void **state)
{
	assert_int_equal(D64(0x0f, 0xb6, 0x00), INSN_OK); /* movzbl (%rax),%eax */
	expect(3, INSN_OP_LOAD, 1, REG_RAX);
	assert_int_equal(in.dst_size, 4);
	assert_int_equal(in.ext, INSN_EXT_ZERO);
	assert_false(in.reg_high);
	assert_int_equal(in.opcode, 0x0fb6);

	assert_int_equal(D64(0x0f, 0xb7, 0x4b, 0x02), INSN_OK); /* movzwl 0x2(%rbx),%ecx */
	expect(4, INSN_OP_LOAD, 2, REG_RCX);
	assert_int_equal(in.dst_size, 4);
	assert_int_equal(in.ext, INSN_EXT_ZERO);

	assert_int_equal(D64(0x0f, 0xbf, 0x00), INSN_OK); /* movswl (%rax),%eax */
	expect(3, INSN_OP_LOAD, 2, REG_RAX);
	assert_int_equal(in.dst_size, 4);
	assert_int_equal(in.ext, INSN_EXT_SIGN);

	assert_int_equal(D64(0x48, 0x0f, 0xbe, 0x00), INSN_OK); /* movsbq (%rax),%rax */
	expect(4, INSN_OP_LOAD, 1, REG_RAX);
	assert_int_equal(in.dst_size, 8);
	assert_int_equal(in.ext, INSN_EXT_SIGN);

	/* movzbl (%rax),%esp: no AH-BH rule for a 32-bit destination. */
	assert_int_equal(D64(0x0f, 0xb6, 0x20), INSN_OK);
	expect(3, INSN_OP_LOAD, 1, REG_RSP);
	assert_false(in.reg_high);

	assert_int_equal(D64(0x66, 0x0f, 0xb6, 0x00), INSN_OK); /* movzbw (%rax),%ax */
	assert_int_equal(in.dst_size, 2);

	assert_int_equal(D64(0x48, 0x63, 0x00), INSN_OK); /* movslq (%rax),%rax */
	expect(3, INSN_OP_LOAD, 4, REG_RAX);
	assert_int_equal(in.dst_size, 8);
	assert_int_equal(in.ext, INSN_EXT_SIGN);

	assert_int_equal(D32(0x63, 0x00), INSN_ERR_UNSUPPORTED); /* ARPL */
	assert_int_equal(in.len, 2);

	assert_int_equal(D16(0x0f, 0xb6, 0x07), INSN_OK); /* movzx ax,byte [bx] */
	expect(3, INSN_OP_LOAD, 1, REG_RAX);
	assert_int_equal(in.dst_size, 2);
}

static void test_moffs(void **state)
{
	u64 gpr[VP_NR_GPRS] = {0};

	/* movabs 0xfec00000,%eax: 8-byte offset in 64-bit mode. */
	assert_int_equal(D64(0xa1, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0), INSN_OK);
	expect(9, INSN_OP_LOAD, 4, REG_RAX);
	assert_int_equal(in.mem.kind, INSN_MEM_MOFFS);
	assert_int_equal(in.mem.addr_size, 8);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfec00000);

	assert_int_equal(D64(0x48, 0xa3, 0x10, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), INSN_OK);
	expect(10, INSN_OP_STORE, 8, REG_RAX);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfee00310);

	assert_int_equal(D64(0xa2, 1, 2, 3, 4, 5, 6, 7, 8), INSN_OK); /* movabs %al,moffs */
	expect(9, INSN_OP_STORE, 1, REG_RAX);
	assert_false(in.reg_high);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0x0807060504030201ull);

	assert_int_equal(D64(0x67, 0xa1, 0x00, 0x00, 0xc0, 0xfe), INSN_OK); /* addr32 */
	expect(6, INSN_OP_LOAD, 4, REG_RAX);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfec00000);

	assert_int_equal(D64(0xa1, 0x00, 0x00, 0xc0, 0xfe), INSN_ERR_TRUNCATED);

	assert_int_equal(D32(0xa1, 0x00, 0x00, 0xc0, 0xfe), INSN_OK);
	expect(5, INSN_OP_LOAD, 4, REG_RAX);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfec00000);
	assert_int_equal(D32(0xa0, 0x00, 0x00, 0xc0, 0xfe), INSN_OK);
	expect(5, INSN_OP_LOAD, 1, REG_RAX);
	assert_int_equal(D32(0x64, 0xa3, 0x10, 0, 0, 0), INSN_OK); /* mov %eax,%fs:0x10 */
	expect(6, INSN_OP_STORE, 4, REG_RAX);
	assert_int_equal(in.mem.seg, INSN_SEG_FS);

	assert_int_equal(D16(0xa1, 0x34, 0x12), INSN_OK); /* mov ax,[0x1234] */
	expect(3, INSN_OP_LOAD, 2, REG_RAX);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0x1234);
	assert_int_equal(D16(0x67, 0xa1, 0, 0, 0xc0, 0xfe), INSN_OK);
	expect(6, INSN_OP_LOAD, 2, REG_RAX);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfec00000);
}

static void test_16bit_addressing(void **state)
{
	u64 gpr[VP_NR_GPRS] = {0};

	assert_int_equal(D16(0x8b, 0x07), INSN_OK); /* mov ax,[bx] */
	expect(2, INSN_OP_LOAD, 2, REG_RAX);
	expect_mem(REG_RBX, INSN_NO_REG, 1, 0);
	assert_int_equal(in.mem.addr_size, 2);
	assert_int_equal(in.mem.seg, INSN_SEG_DS);

	assert_int_equal(D16(0x8b, 0x02), INSN_OK); /* mov ax,[bp+si] */
	expect_mem(REG_RBP, REG_RSI, 1, 0);
	assert_int_equal(in.mem.seg, INSN_SEG_SS);
	gpr[REG_RBP] = 0xfffe;
	gpr[REG_RSI] = 3;
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 1); /* wraps at 64K */

	assert_int_equal(D16(0x8b, 0x06, 0x34, 0x12), INSN_OK); /* mov ax,[0x1234] */
	expect(4, INSN_OP_LOAD, 2, REG_RAX);
	assert_int_equal(in.mem.base, INSN_NO_REG);
	assert_int_equal(in.mem.seg, INSN_SEG_DS);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0x1234);

	assert_int_equal(D16(0x8b, 0x46, 0x02), INSN_OK); /* mov ax,[bp+2] */
	expect(3, INSN_OP_LOAD, 2, REG_RAX);
	expect_mem(REG_RBP, INSN_NO_REG, 1, 2);
	assert_int_equal(in.mem.seg, INSN_SEG_SS);

	assert_int_equal(D16(0x89, 0x8d, 0x00, 0x80), INSN_OK); /* mov [di-0x8000],cx */
	expect(4, INSN_OP_STORE, 2, REG_RCX);
	expect_mem(REG_RDI, INSN_NO_REG, 1, -0x8000);

	assert_int_equal(D16(0x26, 0x88, 0x21), INSN_OK); /* mov es:[bx+di],ah */
	expect(3, INSN_OP_STORE, 1, REG_RAX);
	assert_true(in.reg_high);
	expect_mem(REG_RBX, REG_RDI, 1, 0);
	assert_int_equal(in.mem.seg, INSN_SEG_ES);

	/* 67 in 16-bit mode selects 32-bit addressing with SIB. */
	assert_int_equal(D16(0x67, 0x8b, 0x00), INSN_OK); /* mov ax,[eax] */
	expect(3, INSN_OP_LOAD, 2, REG_RAX);
	expect_mem(REG_RAX, INSN_NO_REG, 1, 0);
	assert_int_equal(in.mem.addr_size, 4);
	assert_int_equal(D16(0x67, 0x66, 0x8b, 0x05, 0x00, 0x00, 0xc0, 0xfe), INSN_OK);
	expect(8, INSN_OP_LOAD, 4, REG_RAX);
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfec00000);
	/* And 67 in 32-bit mode selects 16-bit addressing. */
	assert_int_equal(D32(0x67, 0x8b, 0x07), INSN_OK); /* mov eax,[bx] */
	expect(3, INSN_OP_LOAD, 4, REG_RAX);
	expect_mem(REG_RBX, INSN_NO_REG, 1, 0);
	assert_int_equal(D32(0x67, 0x8b, 0x06, 0x00, 0x10), INSN_OK); /* mov eax,[0x1000] */
	assert_int_equal(in.len, 5);
	/* 67 in 64-bit mode: 32-bit addressing. */
	assert_int_equal(D64(0x67, 0x8b, 0x00), INSN_OK); /* mov (%eax),%eax */
	assert_int_equal(in.mem.addr_size, 4);
	gpr[REG_RAX] = 0x1fec00000ull;
	assert_int_equal(insn_mem_offset(&in, gpr, 0), 0xfec00000);
}

static void test_segments(void **state)
{
	assert_int_equal(D64(0x64, 0x8b, 0x00), INSN_OK); /* mov %fs:(%rax),%eax */
	assert_int_equal(in.len, 3);
	assert_int_equal(in.mem.seg, INSN_SEG_FS);
	assert_int_equal(D64(0x65, 0x48, 0x8b, 0x00), INSN_OK);
	assert_int_equal(in.mem.seg, INSN_SEG_GS);
	assert_int_equal(in.size, 8);
	assert_int_equal(D64(0x2e, 0x8b, 0x00), INSN_OK); /* ignored in 64-bit mode */
	assert_int_equal(in.mem.seg, INSN_SEG_DS);
	assert_int_equal(D64(0x26, 0x8b, 0x45, 0x00), INSN_OK);
	assert_int_equal(in.mem.seg, INSN_SEG_SS);
	assert_int_equal(D32(0x26, 0x8b, 0x00), INSN_OK);
	assert_int_equal(in.mem.seg, INSN_SEG_ES);
	assert_int_equal(D32(0x8b, 0x45, 0x00), INSN_OK); /* [ebp+0] */
	assert_int_equal(in.mem.seg, INSN_SEG_SS);
	assert_int_equal(D32(0x8b, 0x04, 0x24), INSN_OK); /* [esp] */
	assert_int_equal(in.mem.seg, INSN_SEG_SS);
	assert_int_equal(D32(0x3e, 0x8b, 0x04, 0x24), INSN_OK); /* ds:[esp] */
	assert_int_equal(in.mem.seg, INSN_SEG_DS);
	assert_int_equal(D32(0x8b, 0x04, 0x25, 0, 0, 0, 0), INSN_OK); /* SIB, no base */
	assert_int_equal(in.mem.seg, INSN_SEG_DS);
	/* Repeated prefixes are legal; the last segment override wins. */
	assert_int_equal(D32(0x64, 0x65, 0x66, 0x66, 0x8b, 0x00), INSN_OK);
	assert_int_equal(in.mem.seg, INSN_SEG_GS);
	expect(6, INSN_OP_LOAD, 2, REG_RAX);
}

static void test_xchg_and_lock(void **state)
{
	assert_int_equal(D64(0x87, 0x00), INSN_OK); /* xchg %eax,(%rax) */
	expect(2, INSN_OP_XCHG, 4, REG_RAX);
	assert_true(in.lock);
	assert_int_equal(D64(0xf0, 0x87, 0x08), INSN_OK); /* lock xchg %ecx,(%rax) */
	expect(3, INSN_OP_XCHG, 4, REG_RCX);
	assert_int_equal(D64(0x86, 0x20), INSN_OK); /* xchg %ah,(%rax) */
	expect(2, INSN_OP_XCHG, 1, REG_RAX);
	assert_true(in.reg_high);
	assert_int_equal(D64(0x87, 0xc1), INSN_ERR_UNSUPPORTED); /* xchg %eax,%ecx */
	assert_int_equal(in.len, 2);

	/* LOCK on MOV, or on a register form, is #UD. */
	assert_int_equal(D64(0xf0, 0x89, 0x00), INSN_ERR_INVALID);
	assert_int_equal(in.len, 0);
	assert_int_equal(D64(0xf0, 0x87, 0xc1), INSN_ERR_INVALID);
}

static void test_rep_and_strings_unsupported(void **state)
{
	assert_int_equal(D64(0xf3, 0xa5), INSN_ERR_UNSUPPORTED); /* rep movsl */
	assert_int_equal(in.len, 2);
	assert_int_equal(D64(0xf3, 0x48, 0xab), INSN_ERR_UNSUPPORTED); /* rep stos %rax */
	assert_int_equal(in.len, 3);
	assert_int_equal(D64(0xa5), INSN_ERR_UNSUPPORTED); /* movsl */
	assert_int_equal(in.len, 1);
	assert_int_equal(D64(0xac), INSN_ERR_UNSUPPORTED); /* lodsb */
	assert_int_equal(in.len, 1);
	assert_int_equal(D64(0xf3, 0x8b, 0x00), INSN_ERR_UNSUPPORTED); /* rep on mov */
	assert_int_equal(in.len, 3);
	assert_int_equal(D64(0xf2, 0x89, 0x00), INSN_ERR_UNSUPPORTED); /* xacquire-style */
	assert_int_equal(in.len, 3);
	assert_int_equal(D64(0x8b, 0xc1), INSN_ERR_UNSUPPORTED); /* mov %ecx,%eax */
	assert_int_equal(in.len, 2);
}

/* Lengths of instructions outside the emulated set (objdump agrees). */
static void test_other_lengths(void **state)
{
	static const struct {
		enum insn_mode mode;
		u8 len;
		u8 bytes[INSN_MAX_LEN];
	} cases[] = {
	    {INSN_MODE_64, 2, {0x0f, 0xa2}},			      /* cpuid */
	    {INSN_MODE_64, 3, {0x0f, 0x01, 0xd9}},		      /* vmmcall */
	    {INSN_MODE_64, 1, {0xf4}},				      /* hlt */
	    {INSN_MODE_64, 5, {0xe8, 1, 2, 3, 4}},		      /* call rel32 */
	    {INSN_MODE_64, 6, {0x66, 0xe8, 1, 2, 3, 4}},	      /* 66 ignored (Intel) */
	    {INSN_MODE_32, 4, {0x66, 0xe8, 1, 2}},		      /* call rel16 */
	    {INSN_MODE_16, 3, {0xe8, 1, 2}},			      /* call rel16 */
	    {INSN_MODE_64, 6, {0x0f, 0x84, 1, 2, 3, 4}},	      /* je rel32 */
	    {INSN_MODE_64, 2, {0x74, 0xfe}},			      /* je rel8 */
	    {INSN_MODE_64, 10, {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}}, /* movabs $imm64 */
	    {INSN_MODE_64, 5, {0xb8, 1, 2, 3, 4}},		      /* mov $imm32,%eax */
	    {INSN_MODE_16, 3, {0xb8, 1, 2}},			      /* mov ax,imm16 */
	    {INSN_MODE_64, 3, {0xf6, 0x00, 0x12}},		      /* testb $imm,(%rax) */
	    {INSN_MODE_64, 6, {0xf7, 0x00, 1, 2, 3, 4}},	      /* testl $imm,(%rax) */
	    {INSN_MODE_64, 2, {0xf7, 0x10}},			      /* notl (%rax) */
	    {INSN_MODE_64, 7, {0x81, 0x40, 0x10, 1, 2, 3, 4}},	      /* addl $imm,0x10(%rax) */
	    {INSN_MODE_64, 4, {0x83, 0x48, 0x10, 1}},		      /* orl $imm8,0x10(%rax) */
	    {INSN_MODE_64, 4, {0xc8, 0x10, 0x00, 0x01}},	      /* enter */
	    {INSN_MODE_64, 3, {0xc2, 0x08, 0x00}},		      /* ret $8 */
	    {INSN_MODE_32, 7, {0xea, 1, 2, 3, 4, 5, 6}},	      /* ljmp ptr16:32 */
	    {INSN_MODE_16, 5, {0xea, 1, 2, 3, 4}},		      /* ljmp ptr16:16 */
	    {INSN_MODE_64, 3, {0xc5, 0xf8, 0x77}},		      /* vzeroupper */
	    {INSN_MODE_64, 5, {0xc4, 0xe2, 0x79, 0x18, 0x00}},	      /* vbroadcastss */
	    {INSN_MODE_64, 6, {0x62, 0xf1, 0x7c, 0x48, 0x10, 0x00}},  /* vmovups zmm */
	    {INSN_MODE_64, 6, {0xc4, 0xe3, 0xe9, 0x48, 0x18, 0x11}},  /* vpermil2ps */
	    {INSN_MODE_64, 6, {0x8f, 0xe8, 0xe8, 0xa2, 0x18, 0x10}},  /* vpcmov (XOP) */
	    {INSN_MODE_64, 9, {0x8f, 0xea, 0x78, 0x10, 0x00, 1, 2, 3, 4}}, /* bextr imm32 */
	    {INSN_MODE_64, 2, {0x8f, 0x00}},				   /* pop (%rax) */
	    {INSN_MODE_64, 6, {0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08}},	   /* palignr */
	    {INSN_MODE_64, 5, {0x66, 0x0f, 0x38, 0x00, 0xc1}},		   /* pshufb */
	    {INSN_MODE_64, 6, {0x66, 0x0f, 0x78, 0xc0, 0x02, 0x01}},	   /* extrq */
	    {INSN_MODE_64, 4, {0xf3, 0x0f, 0x1e, 0xfa}},		   /* endbr64 */
	    {INSN_MODE_64, 4, {0x0f, 0xba, 0x20, 0x03}},		   /* btl $3,(%rax) */
	    {INSN_MODE_32, 2, {0xc4, 0x00}},				   /* les eax,[eax] */
	    {INSN_MODE_32, 1, {0x06}},					   /* push es */
	    {INSN_MODE_64, 4, {0xd9, 0x44, 0x24, 0x08}},		   /* flds 8(%rsp) */
	    {INSN_MODE_64, 2, {0x48, 0xcf}},				   /* iretq */
	    {INSN_MODE_64, 3, {0x0f, 0x20, 0xc0}},			   /* mov %cr0,%rax */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		int st = dec_n(cases[i].mode, cases[i].bytes, cases[i].len);

		if (st != INSN_ERR_UNSUPPORTED || in.len != cases[i].len)
			fail_msg("case %u: status %d len %u, want len %u", i, st, in.len,
				 cases[i].len);
		/* One byte fewer is truncated. */
		assert_int_equal(dec_n(cases[i].mode, cases[i].bytes, cases[i].len - 1u),
				 INSN_ERR_TRUNCATED);
	}
}

static void test_invalid(void **state)
{
	assert_int_equal(D64(0x06), INSN_ERR_INVALID);			 /* push es */
	assert_int_equal(D64(0xea, 1, 2, 3, 4, 5, 6), INSN_ERR_INVALID); /* ljmp */
	assert_int_equal(D64(0xd5, 0x0a), INSN_ERR_INVALID);		 /* aad (REX2 on APX) */
	assert_int_equal(D64(0x0f, 0x0b), INSN_ERR_INVALID);		 /* ud2 */
	assert_int_equal(D64(0x0f, 0xff, 0x00), INSN_ERR_INVALID);	 /* ud0 */
	assert_int_equal(D64(0x0f, 0x04), INSN_ERR_INVALID);
	assert_int_equal(D64(0x66, 0xc5, 0xf8, 0x77), INSN_ERR_INVALID); /* 66 before VEX */
	assert_int_equal(D64(0x48, 0xc4, 0xe2, 0x79, 0x18, 0x00), INSN_ERR_INVALID);
	assert_int_equal(D64(0xc4, 0xe0, 0x79, 0x18, 0x00), INSN_ERR_INVALID); /* map 0 */
	assert_int_equal(D64(0xc6, 0x08, 0x00), INSN_ERR_INVALID);	       /* c6 /1 */
	assert_int_equal(DEC((enum insn_mode)7, 0x8b, 0x00), INSN_ERR_INVALID);
}

static void test_limits(void **state)
{
	u8 buf[32] = {0};

	assert_int_equal(dec_n(INSN_MODE_64, buf, 0), INSN_ERR_TRUNCATED);
	assert_int_equal(insn_decode(NULL, 0, INSN_MODE_64, &in), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0x8b), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0x66), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0x48), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0x0f), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0x0f, 0xb6), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0x8b, 0x04), INSN_ERR_TRUNCATED); /* SIB missing */
	assert_int_equal(D64(0x8b, 0x80, 0x00, 0x00), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0x8b, 0x05, 0x00, 0x00, 0x00), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0xc7, 0x00, 0x11, 0x22), INSN_ERR_TRUNCATED);
	assert_int_equal(D16(0x8b, 0x06, 0x34), INSN_ERR_TRUNCATED);
	assert_int_equal(D64(0xc4, 0xe2), INSN_ERR_TRUNCATED);
	assert_int_equal(D32(0xc5), INSN_ERR_TRUNCATED); /* LDS or VEX: needs the next byte */

	/* 16 bytes of prefixes, given in full or cut at 15. */
	memset(buf, 0x66, sizeof(buf));
	assert_int_equal(dec_n(INSN_MODE_64, buf, 16), INSN_ERR_TOO_LONG);
	assert_int_equal(dec_n(INSN_MODE_64, buf, 15), INSN_ERR_TOO_LONG);
	assert_int_equal(dec_n(INSN_MODE_64, buf, 14), INSN_ERR_TRUNCATED);

	/* Exactly 15 bytes is fine; one more prefix is #GP. */
	memset(buf, 0x3e, 4);
	memcpy(buf + 4, (u8[]){0x48, 0xc7, 0x80, 1, 2, 3, 4, 5, 6, 7, 8}, 11);
	assert_int_equal(dec_n(INSN_MODE_64, buf, 15), INSN_OK);
	assert_int_equal(in.len, 15);
	assert_int_equal(in.imm, 0x08070605);
	assert_int_equal(in.mem.disp, 0x04030201);
	assert_int_equal(dec_n(INSN_MODE_64, buf, 32), INSN_OK); /* extra bytes unread */
	assert_int_equal(in.len, 15);
	memmove(buf + 1, buf, 15);
	assert_int_equal(dec_n(INSN_MODE_64, buf, 16), INSN_ERR_TOO_LONG);
	assert_int_equal(dec_n(INSN_MODE_64, buf, 15), INSN_ERR_TOO_LONG);

	/* 14 prefixes + mov (%rax),%eax: the ModRM would be byte 16. */
	memset(buf, 0x2e, 14);
	buf[14] = 0x8b;
	buf[15] = 0x00;
	assert_int_equal(dec_n(INSN_MODE_64, buf, 16), INSN_ERR_TOO_LONG);
	memmove(buf, buf + 1, 15); /* 13 prefixes: 15 bytes */
	assert_int_equal(dec_n(INSN_MODE_64, buf, 15), INSN_OK);
	assert_int_equal(in.len, 15);

	assert_string_equal(insn_status_str(INSN_ERR_TOO_LONG), "instruction longer than 15 bytes");
	assert_string_equal(insn_status_str(99), "unknown decode status");
}

static void test_apply_load(void **state)
{
	u64 gpr[VP_NR_GPRS];

	for (unsigned i = 0; i < VP_NR_GPRS; i++)
		gpr[i] = 0x1111111111111111ull * (i + 1) | 0x8000000000000000ull;

	assert_int_equal(D64(0x8b, 0x00), INSN_OK); /* 32-bit: upper half zeroed */
	insn_apply_load(&in, 0xdeadbeefcafef00dull, gpr);
	assert_int_equal(gpr[REG_RAX], 0xcafef00d);

	assert_int_equal(D64(0x48, 0x8b, 0x08), INSN_OK); /* 64-bit */
	insn_apply_load(&in, 0xdeadbeefcafef00dull, gpr);
	assert_int_equal(gpr[REG_RCX], 0xdeadbeefcafef00dull);

	gpr[REG_RDX] = 0x0123456789abcdefull;
	assert_int_equal(D64(0x66, 0x8b, 0x10), INSN_OK); /* 16-bit merges */
	insn_apply_load(&in, 0xffff5555, gpr);
	assert_int_equal(gpr[REG_RDX], 0x0123456789ab5555ull);

	assert_int_equal(D64(0x8a, 0x10), INSN_OK); /* %dl merges */
	insn_apply_load(&in, 0x1234, gpr);
	assert_int_equal(gpr[REG_RDX], 0x0123456789ab5534ull);

	assert_int_equal(D64(0x8a, 0x30), INSN_OK); /* %dh */
	insn_apply_load(&in, 0x99, gpr);
	assert_int_equal(gpr[REG_RDX], 0x0123456789ab9934ull);

	gpr[REG_RSI] = 0x0123456789abcdefull;
	assert_int_equal(D64(0x40, 0x8a, 0x30), INSN_OK); /* %sil, not %dh */
	insn_apply_load(&in, 0x77, gpr);
	assert_int_equal(gpr[REG_RSI], 0x0123456789abcd77ull);

	gpr[REG_R9] = ~0ull;
	assert_int_equal(D64(0x44, 0x8a, 0x08), INSN_OK); /* %r9b */
	insn_apply_load(&in, 0, gpr);
	assert_int_equal(gpr[REG_R9], 0xffffffffffffff00ull);

	gpr[REG_RAX] = ~0ull;
	assert_int_equal(D64(0x0f, 0xb6, 0x00), INSN_OK); /* movzbl */
	insn_apply_load(&in, 0x1ff, gpr);
	assert_int_equal(gpr[REG_RAX], 0xff);

	gpr[REG_RAX] = ~0ull;
	assert_int_equal(D64(0x66, 0x0f, 0xb6, 0x00), INSN_OK); /* movzbw merges 16 */
	insn_apply_load(&in, 0x80, gpr);
	assert_int_equal(gpr[REG_RAX], 0xffffffffffff0080ull);

	assert_int_equal(D64(0x0f, 0xbe, 0x00), INSN_OK); /* movsbl */
	insn_apply_load(&in, 0x80, gpr);
	assert_int_equal(gpr[REG_RAX], 0xffffff80);

	assert_int_equal(D64(0x48, 0x0f, 0xbf, 0x00), INSN_OK); /* movswq */
	insn_apply_load(&in, 0x8001, gpr);
	assert_int_equal(gpr[REG_RAX], 0xffffffffffff8001ull);
	insn_apply_load(&in, 0x7001, gpr);
	assert_int_equal(gpr[REG_RAX], 0x7001);

	assert_int_equal(D64(0x48, 0x63, 0x00), INSN_OK); /* movslq */
	insn_apply_load(&in, 0x80000000, gpr);
	assert_int_equal(gpr[REG_RAX], 0xffffffff80000000ull);

	gpr[REG_RAX] = 0x1122334455667788ull;
	assert_int_equal(D64(0xa0, 0, 0, 0, 0, 0, 0, 0, 0), INSN_OK); /* mov moffs,%al */
	insn_apply_load(&in, 0xab, gpr);
	assert_int_equal(gpr[REG_RAX], 0x11223344556677abull);

	/* Stores leave the registers alone. */
	gpr[REG_RCX] = 5;
	assert_int_equal(D64(0x89, 0x08), INSN_OK);
	insn_apply_load(&in, 0x1234, gpr);
	assert_int_equal(gpr[REG_RCX], 5);
}

static void test_store_value(void **state)
{
	u64 gpr[VP_NR_GPRS] = {0};

	gpr[REG_RAX] = 0x1122334455667788ull;
	gpr[REG_RBX] = 0xa1a2a3a4a5a6a7a8ull;
	gpr[REG_R10] = 0xfedcba9876543210ull;
	assert_int_equal(D64(0x89, 0x00), INSN_OK);
	assert_int_equal(insn_store_value(&in, gpr), 0x55667788);
	assert_int_equal(D64(0x48, 0x89, 0x00), INSN_OK);
	assert_int_equal(insn_store_value(&in, gpr), 0x1122334455667788ull);
	assert_int_equal(D64(0x66, 0x89, 0x18), INSN_OK); /* %bx */
	assert_int_equal(insn_store_value(&in, gpr), 0xa7a8);
	assert_int_equal(D64(0x88, 0x18), INSN_OK); /* %bl */
	assert_int_equal(insn_store_value(&in, gpr), 0xa8);
	assert_int_equal(D64(0x88, 0x38), INSN_OK); /* %bh */
	assert_int_equal(insn_store_value(&in, gpr), 0xa7);
	assert_int_equal(D64(0x44, 0x89, 0x10), INSN_OK); /* %r10d */
	assert_int_equal(insn_store_value(&in, gpr), 0x76543210);
	assert_int_equal(D64(0xa2, 0, 0, 0, 0, 0, 0, 0, 0), INSN_OK); /* %al */
	assert_int_equal(insn_store_value(&in, gpr), 0x88);

	/* XCHG: the old register value goes out, the loaded value comes in. */
	assert_int_equal(D64(0x87, 0x18), INSN_OK); /* xchg %ebx,(%rax) */
	assert_int_equal(insn_store_value(&in, gpr), 0xa5a6a7a8);
	insn_apply_load(&in, 0x42, gpr);
	assert_int_equal(gpr[REG_RBX], 0x42);
}

static void test_mode_of(void **state)
{
	struct vp_sregs s = {0};

	assert_int_equal(insn_mode_of(&s, 0), INSN_MODE_16); /* real mode */
	s.cs.attr = 1u << 14;
	assert_int_equal(insn_mode_of(&s, 0), INSN_MODE_16); /* real mode ignores CS.D */
	s.cr0 = 1;					     /* PE */
	assert_int_equal(insn_mode_of(&s, 0), INSN_MODE_32);
	assert_int_equal(insn_mode_of(&s, 1ull << 17), INSN_MODE_16); /* virtual-8086 */
	s.cs.attr = 0;
	assert_int_equal(insn_mode_of(&s, 0), INSN_MODE_16);
	s.efer = 1ull << 10; /* LMA */
	s.cs.attr = 1u << 13;
	assert_int_equal(insn_mode_of(&s, 0), INSN_MODE_64);
	s.cs.attr = 1u << 14;
	assert_int_equal(insn_mode_of(&s, 0), INSN_MODE_32); /* compatibility mode */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mov_basic_64),
	    cmocka_unit_test(test_rex),
	    cmocka_unit_test(test_sib_and_rip_relative),
	    cmocka_unit_test(test_sizes_and_byte_registers),
	    cmocka_unit_test(test_store_immediate),
	    cmocka_unit_test(test_movzx_movsx),
	    cmocka_unit_test(test_moffs),
	    cmocka_unit_test(test_16bit_addressing),
	    cmocka_unit_test(test_segments),
	    cmocka_unit_test(test_xchg_and_lock),
	    cmocka_unit_test(test_rep_and_strings_unsupported),
	    cmocka_unit_test(test_other_lengths),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_apply_load),
	    cmocka_unit_test(test_store_value),
	    cmocka_unit_test(test_mode_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
