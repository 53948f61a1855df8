/*
 * VMBus ring buffers (vmbus/ring.c) on the host: a control page and data
 * pages in scrambled host order (a GPADL need not be contiguous), the guest
 * played by this file following Linux's drivers/hv/ring_buffer.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "vmbus/ring.h"

#define DATA_PAGES 3
#define DATA_SIZE  (DATA_PAGES * (u32)PAGE_SIZE)

static u8 pages[DATA_PAGES + 1][PAGE_SIZE] __attribute__((aligned(4096)));
static u8 *data[DATA_PAGES];
static struct vmbus_ring_control *ctl;
static struct ring r;

static int setup(void **state)
{
	memset(pages, 0, sizeof(pages));
	ctl = (void *)pages[DATA_PAGES];
	/* Data page i is host page DATA_PAGES - 1 - i: the ring never assumes contiguity. */
	for (unsigned i = 0; i < DATA_PAGES; i++)
		data[i] = pages[DATA_PAGES - 1 - i];
	return 0;
}

/* ---- the guest's side, through the same page list ---- */

static u8 *at(u32 pos)
{
	return data[pos / PAGE_SIZE] + pos % PAGE_SIZE;
}

static void put(u32 *pos, const void *src, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		*at(*pos) = ((const u8 *)src)[i];
		*pos = (*pos + 1) % DATA_SIZE;
	}
}

static void get(u32 *pos, void *dst, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		((u8 *)dst)[i] = *at(*pos);
		*pos = (*pos + 1) % DATA_SIZE;
	}
}

/* Guest writes an in-band packet of len payload bytes (value fill); false if it does not fit. */
static bool guest_put(u32 len, u8 fill, u64 trans)
{
	struct vmbus_packet_desc d = {VMBUS_PKT_DATA_INBAND, 2, 0, 0, trans};
	u32 total = (u32)ALIGN_UP(16 + len, 8), w = ctl->write_index, start = w;
	u32 used = (w + DATA_SIZE - ctl->read_index) % DATA_SIZE;
	u8 payload[DATA_SIZE];
	u64 trailer = (u64)start << 32;

	if (DATA_SIZE - used <= total + 8)
		return false;
	d.len8 = (u16)(total / 8);
	memset(payload, fill, sizeof(payload));
	put(&w, &d, sizeof(d));
	put(&w, payload, total - 16);
	put(&w, &trailer, 8);
	ctl->write_index = w;
	return true;
}

/* Guest reads the next packet the host wrote: its payload length, -1 if empty. */
static int guest_get(struct vmbus_packet_desc *d, u8 *buf, u64 *trailer)
{
	u32 pos = ctl->read_index;

	if (pos == ctl->write_index)
		return -1;
	get(&pos, d, sizeof(*d));
	get(&pos, buf, d->len8 * 8u - d->offset8 * 8u);
	get(&pos, trailer, 8);
	ctl->read_index = pos;
	return d->len8 * 8 - d->offset8 * 8;
}

static enum ring_status host_send(u32 len, u8 fill, bool *signal)
{
	struct vmbus_packet_desc d = {VMBUS_PKT_DATA_INBAND, 2, 0, 0, 7};
	u8 payload[DATA_SIZE];
	struct ring_part parts[2] = {{&d, sizeof(d)}, {payload, len}};

	d.len8 = (u16)((16 + len) / 8);
	memset(payload, fill, len);
	return ring_write(&r, parts, 2, signal);
}

/* ---- tests ---- */

static void test_init_checks_the_guests_indices(void **state)
{
	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_OK);
	assert_int_equal(r.size, DATA_SIZE);
	ctl->read_index = DATA_SIZE; /* past the end */
	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_BAD);
	ctl->read_index = 12; /* not 8-aligned */
	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_BAD);
	assert_non_null(r.why);
	ctl->read_index = 0;
	ctl->write_index = 4;
	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, false), RING_BAD);
	ctl->write_index = 64;
	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, false), RING_OK);
	assert_int_equal(r.priv, 64);
	assert_int_equal(ring_init(&r, ctl, data, 0, true), RING_BAD);
}

static void test_read_packets_in_order(void **state)
{
	struct vmbus_packet_desc d;
	u8 buf[64];
	u32 len;

	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_OK);
	assert_int_equal(ring_peek(&r, &d, &len), RING_EMPTY);
	assert_true(guest_put(5, 0xaa, 1));
	assert_true(guest_put(16, 0xbb, 2));
	assert_int_equal(ring_used(&r), 24 + 8 + 32 + 8);

	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	assert_int_equal(len, 24);
	assert_int_equal(d.trans_id, 1);
	ring_copy_packet(&r, 16, buf, 5);
	assert_int_equal(buf[0], 0xaa);
	assert_int_equal(buf[4], 0xaa);
	assert_false(ring_consume(&r, len));
	assert_int_equal(ctl->read_index, 32);

	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	assert_int_equal(d.trans_id, 2);
	assert_int_equal(len, 32);
	ring_consume(&r, len);
	assert_int_equal(ring_peek(&r, &d, &len), RING_EMPTY);
	assert_int_equal(ring_used(&r), 0);
}

static void test_read_wraps_around(void **state)
{
	struct vmbus_packet_desc d;
	u8 buf[256];
	u32 len;

	/* Start 8 bytes before the end: even the descriptor straddles the wrap. */
	ctl->read_index = ctl->write_index = DATA_SIZE - 8;
	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_OK);
	assert_true(guest_put(200, 0x5c, 0x1234));
	assert_true(ctl->write_index < DATA_SIZE - 8);
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	assert_int_equal(d.trans_id, 0x1234);
	assert_int_equal(len, 216);
	ring_copy_packet(&r, 16, buf, 200);
	for (unsigned i = 0; i < 200; i++)
		assert_int_equal(buf[i], 0x5c);
	ring_consume(&r, len);
	assert_int_equal(ctl->read_index, ctl->write_index);
	/* Packets also straddle data-page boundaries (pages are not contiguous on the host). */
	ctl->read_index = ctl->write_index = PAGE_SIZE - 40;
	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_OK);
	assert_true(guest_put(100, 0x77, 9));
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	ring_copy_packet(&r, 16, buf, 100);
	assert_int_equal(buf[0], 0x77);
	assert_int_equal(buf[99], 0x77);
}

static void test_malformed_indices_and_descriptors(void **state)
{
	struct vmbus_packet_desc d;
	u32 pos, len;

	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_OK);
	ctl->write_index = DATA_SIZE + 8;
	assert_int_equal(ring_peek(&r, &d, &len), RING_BAD);
	ctl->write_index = 20;
	assert_int_equal(ring_peek(&r, &d, &len), RING_BAD); /* unaligned */
	ctl->write_index = 16;
	assert_int_equal(ring_peek(&r, &d, &len), RING_BAD); /* shorter than descriptor + trailer */

	/* A descriptor claiming more than was written. */
	d = (struct vmbus_packet_desc){VMBUS_PKT_DATA_INBAND, 2, 8, 0, 0};
	pos = 0;
	put(&pos, &d, sizeof(d));
	ctl->write_index = 32;
	assert_int_equal(ring_peek(&r, &d, &len), RING_BAD);
	/* Shorter than a descriptor. */
	d = (struct vmbus_packet_desc){VMBUS_PKT_DATA_INBAND, 2, 1, 0, 0};
	pos = 0;
	put(&pos, &d, sizeof(d));
	assert_int_equal(ring_peek(&r, &d, &len), RING_BAD);
	/* Data offset inside the descriptor, and past the packet's end. */
	d = (struct vmbus_packet_desc){VMBUS_PKT_DATA_INBAND, 1, 3, 0, 0};
	pos = 0;
	put(&pos, &d, sizeof(d));
	assert_int_equal(ring_peek(&r, &d, &len), RING_BAD);
	d = (struct vmbus_packet_desc){VMBUS_PKT_DATA_INBAND, 4, 3, 0, 0};
	pos = 0;
	put(&pos, &d, sizeof(d));
	assert_int_equal(ring_peek(&r, &d, &len), RING_BAD);
	/* Exactly right: 24 bytes + trailer. */
	d = (struct vmbus_packet_desc){VMBUS_PKT_DATA_INBAND, 2, 3, 0, 0};
	pos = 0;
	put(&pos, &d, sizeof(d));
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	assert_int_equal(len, 24);
	/* The host's read index is its own: the guest overwriting it changes nothing. */
	ctl->read_index = 8;
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	ring_consume(&r, len);
	assert_int_equal(ctl->read_index, 32);
}

static void test_write_full_empty_and_trailer(void **state)
{
	struct vmbus_packet_desc d;
	u8 buf[DATA_SIZE];
	u64 trailer;
	bool signal;
	unsigned n = 0;

	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, false), RING_OK);
	assert_int_equal(host_send(48, 1, &signal), RING_OK);
	assert_true(signal); /* empty -> non-empty, mask clear */
	assert_int_equal(host_send(48, 2, &signal), RING_OK);
	assert_false(signal); /* not empty before */
	assert_int_equal(ring_used(&r), 2 * (64 + 8));
	assert_int_equal(guest_get(&d, buf, &trailer), 48);
	assert_int_equal(buf[0], 1);
	assert_int_equal(trailer, 0); /* packet started at 0 */
	assert_int_equal(guest_get(&d, buf, &trailer), 48);
	assert_int_equal(trailer, (u64)72 << 32);
	assert_int_equal(guest_get(&d, buf, &trailer), -1);

	/* Fill: the ring never becomes completely full (free space must exceed the packet). */
	while (host_send(1000, 3, &signal) == RING_OK)
		n++;
	assert_int_equal(n, DATA_SIZE / 1024 - 1 + (DATA_SIZE % 1024 > 0));
	assert_true(DATA_SIZE - ring_used(&r) <= 1024);
	/* A blocked writer asks to be told when there is room for it. */
	assert_int_equal(ctl->pending_send_sz, 1024);
	assert_int_equal(host_send(1000, 3, &signal), RING_FULL);
	/* The guest reads; the host writes again, wrapping, and stops asking. */
	assert_int_equal(guest_get(&d, buf, &trailer), 1000);
	assert_int_equal(host_send(1000, 4, &signal), RING_OK);
	assert_int_equal(ctl->pending_send_sz, 0);
	/* A packet that can never fit is refused without touching the ring. */
	assert_int_equal(host_send(DATA_SIZE, 5, &signal), RING_FULL);
}

static void test_write_respects_interrupt_mask_and_bad_read_index(void **state)
{
	bool signal;

	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, false), RING_OK);
	ctl->interrupt_mask = 1; /* the guest is polling */
	assert_int_equal(host_send(8, 1, &signal), RING_OK);
	assert_false(signal);
	ctl->interrupt_mask = 0;
	ctl->read_index = ctl->write_index; /* drained */
	assert_int_equal(host_send(8, 1, &signal), RING_OK);
	assert_true(signal);
	ctl->read_index = 13;
	assert_int_equal(host_send(8, 1, &signal), RING_BAD);
	ctl->read_index = DATA_SIZE;
	assert_int_equal(host_send(8, 1, &signal), RING_BAD);
	/* The host's write index is its own. */
	ctl->read_index = 0;
	ctl->write_index = 8;
	assert_int_equal(host_send(8, 1, &signal), RING_OK);
	assert_int_equal(ctl->write_index, 3 * 32);
}

static void test_reader_signals_blocked_writer(void **state)
{
	struct vmbus_packet_desc d;
	u32 len, n = 0;

	assert_int_equal(ring_init(&r, ctl, data, DATA_PAGES, true), RING_OK);
	while (guest_put(1000, 9, n))
		n++;
	/* The guest needs 1024 + 8 bytes and says so (Linux hv_ringbuffer_write / set_pending). */
	ctl->pending_send_sz = 1032;
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	/* Free space goes from < 1032 to > 1032 with this packet: one signal. */
	assert_true(ring_consume(&r, len));
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	assert_false(ring_consume(&r, len)); /* already past it: no second signal */
	ctl->pending_send_sz = 0;
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	assert_false(ring_consume(&r, len)); /* nobody waits */
	/* A pending size beyond what can ever be free never signals. */
	ctl->pending_send_sz = DATA_SIZE;
	assert_int_equal(ring_peek(&r, &d, &len), RING_OK);
	assert_false(ring_consume(&r, len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_init_checks_the_guests_indices, setup),
	    cmocka_unit_test_setup(test_read_packets_in_order, setup),
	    cmocka_unit_test_setup(test_read_wraps_around, setup),
	    cmocka_unit_test_setup(test_malformed_indices_and_descriptors, setup),
	    cmocka_unit_test_setup(test_write_full_empty_and_trailer, setup),
	    cmocka_unit_test_setup(test_write_respects_interrupt_mask_and_bad_read_index, setup),
	    cmocka_unit_test_setup(test_reader_signals_blocked_writer, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
