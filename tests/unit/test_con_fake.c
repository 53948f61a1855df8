/* The world of kernel/con.c, faked for its unit test (test_con_fake.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/arch.h"
#include "kernel/log.h"
#include "tests/unit/test_con_fake.h"

#define FAKE_TSC_HZ 1000000000ull

char fake_out[FAKE_OUT_MAX];
size_t fake_out_len;
unsigned fake_resets, fake_stops;
struct partition *fake_last_reset, *fake_last_stop;
char fake_stop_reason[96];
struct vp_state fake_vp_state;
struct vp_sregs fake_sregs;
jmp_buf *fake_poweroff_jmp;

static u8 in_queue[FAKE_IN_MAX];
static size_t in_head, in_tail;

struct partition partitions[PART_MAX];
unsigned nr_partitions;

static void out_append(const char *s, size_t len)
{
	len = MIN(len, sizeof(fake_out) - 1 - fake_out_len);
	memcpy(fake_out + fake_out_len, s, len);
	fake_out_len += len;
	fake_out[fake_out_len] = 0;
}

void fake_out_clear(void)
{
	fake_out_len = 0;
	fake_out[0] = 0;
}

void fake_con_reset(void)
{
	memset(partitions, 0, sizeof(partitions));
	nr_partitions = 0;
	fake_resets = fake_stops = 0;
	fake_last_reset = fake_last_stop = NULL;
	fake_stop_reason[0] = 0;
	memset(&fake_vp_state, 0, sizeof(fake_vp_state));
	memset(&fake_sregs, 0, sizeof(fake_sregs));
	fake_poweroff_jmp = NULL;
	in_head = in_tail = 0;
	fake_out_clear();
}

struct partition *fake_add_partition(const char *name, enum part_state s)
{
	struct partition *p = &partitions[nr_partitions];

	if (nr_partitions == PART_MAX)
		abort();
	memset(p, 0, sizeof(*p));
	p->id = nr_partitions++;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->state = s;
	p->vp.part = p;
	vlapic_init(&p->lapic, 0, FAKE_TSC_HZ, NULL, NULL);
	uart_init(&p->uart, NULL, NULL, NULL);
	return p;
}

void fake_type(const char *keys, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (in_tail - in_head == sizeof(in_queue))
			abort();
		in_queue[in_tail++ % sizeof(in_queue)] = (u8)keys[i];
	}
}

/* ---- log.h ---- */

static void (*before_print)(void);

void log_set_before_print(void (*fn)(void))
{
	before_print = fn;
}

/* Like kernel/log.c: the hook first (not from inside itself), then the line. */
void kvprintf(const char *fmt, va_list ap)
{
	static bool in_hook;
	char buf[1024];
	int n;

	if (before_print && !in_hook) {
		in_hook = true;
		before_print();
		in_hook = false;
	}
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n > 0)
		out_append(buf, MIN((size_t)n, sizeof(buf) - 1));
}

void serial_write(const char *buf, size_t len)
{
	out_append(buf, len);
}

int serial_getc(void)
{
	if (in_head == in_tail)
		return -1;
	return in_queue[in_head++ % sizeof(in_queue)];
}

/* ---- arch.h ---- */

u64 arch_rdtsc(void)
{
	return 5 * FAKE_TSC_HZ;
}

void arch_poweroff(void)
{
	if (!fake_poweroff_jmp)
		abort();
	longjmp(*fake_poweroff_jmp, 1);
}

/* ---- part.h: the contract of kernel/part.c, reset and stop only recorded ---- */

const char *part_state_name(enum part_state s)
{
	static const char *const names[] = {"running", "paused", "stopped", "halted"};

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

struct partition *part_find(const char *name)
{
	for (unsigned i = 0; i < nr_partitions; i++)
		if (!strcmp(partitions[i].name, name))
			return &partitions[i];
	return NULL;
}

int part_reset(struct partition *p)
{
	fake_resets++;
	fake_last_reset = p;
	p->state = PART_RUNNING;
	return 0;
}

void part_stop(struct partition *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake_stop_reason, sizeof(fake_stop_reason), fmt, ap);
	va_end(ap);
	fake_stops++;
	fake_last_stop = p;
	p->state = PART_STOPPED;
}

/* ---- vp.h ---- */

static void fake_vp_save(struct vp *vp, struct vp_state *s)
{
	*s = fake_vp_state;
}

static void fake_get_sregs(struct vp *vp, struct vp_sregs *s)
{
	*s = fake_sregs;
}

static const struct vp_ops fake_ops = {
    .name = "fake",
    .vp_save = fake_vp_save,
    .vp_get_sregs = fake_get_sregs,
};
const struct vp_ops *vp_ops = &fake_ops;
