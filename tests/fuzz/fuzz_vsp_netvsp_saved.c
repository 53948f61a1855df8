/*
 * libFuzzer: netvsp's saved state (vsp/netvsp/save.c) as a hostile image
 * gives it. A NIC is brought up as Linux 6.1 does, the input's first ops
 * (fuzz_netvsp.h's common ones) put it in some state, and netvsp saves its
 * record; the input then corrupts that record (and may cut or extend it)
 * and hands it to check and restore, and a packet's VSP part to the
 * packet check and restore; and maybe a whole round trip (round_trip).
 * Checks: check and restore agree; a refused record changes nothing of the
 * NIC; an accepted one leaves the NIC's
 * bounds intact (busy sections within the buffer, the queue within its
 * bound) and the device working (fuzz_netvsp.h's checks of what it sends).
 *
 *   { u8 nr_ops, ops..., u8 nr_flips, { u16 at, u8 xor }..., u16 new_len,
 *     u16 part_len, u8 part[part_len], u8 round_trip, u8 packet,
 *     u8 nr_flips, { u8 at, u8 xor }... }
 */
#include <stdlib.h>

#include "tests/fuzz/fuzz_netvsp.h"

#define REC_MAX 8192

static void round_trip(void);

struct nic_view {
	u32 ready, version, filter, rx_sections, rx_busy, rx_hint, q_count;
};

static struct nic_view view(void)
{
	return (struct nic_view){netvsp_ready(nic), nic->version, nic->filter, nic->rx_sections,
				 nic->rx_busy,	    nic->rx_hint, nic->q_count};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 rec[REC_MAX];
	u8 part[56];
	u32 len = 0, want, part_len;
	unsigned nr;
	struct nic_view before;
	vmb_status checked, restored;

	cur = data;
	end = data + size;
	fresh();
	device_up();
	nr = (unsigned)take(1) % 8;
	for (unsigned i = 0; i < nr; i++)
		common_op((unsigned)take(1) % 5); /* not 5: a close and open */
	if (fake_vsp_save(inst, NULL, 0, &len) != VMB_STATUS_BUFFER_TOO_SMALL || len > REC_MAX)
		return 0;
	check(fake_vsp_save(inst, rec, len, &len) == VMB_STATUS_SUCCESS);
	check(fake_vsp_check(inst, rec, len) == VMB_STATUS_SUCCESS);
	nr = (unsigned)take(1) % 8;
	for (unsigned i = 0; i < nr; i++) {
		u32 at = (u32)take(2);
		u8 x = (u8)take(1);

		if (len)
			rec[at % len] ^= x;
	}
	want = (u32)take(2);
	if (want && want <= REC_MAX) {
		if (want > len)
			memset(rec + len, (int)want, want - len);
		len = want;
	}
	before = view();
	checked = fake_vsp_check(inst, rec, len);
	restored = fake_vsp_restore(inst, rec, len);
	check(checked == restored);
	if (checked != VMB_STATUS_SUCCESS) {
		struct nic_view after = view();

		check(!memcmp(&before, &after, sizeof(before)));
	}
	check(nic->rx_busy <= nic->rx_sections && nic->q_count <= NETVSP_RX_QUEUE);
	check(!nic->rx_sections || nic->rx_hint < nic->rx_sections);
	/* A packet's part: its check and its restore agree. */
	part_len = (u32)take_bytes(part, sizeof(part));
	checked = fake_check_one(ch, 0, part, part_len);
	if (checked != VMB_STATUS_SUCCESS)
		check(fake_restore_one(ch, part, part_len) == checked);
	look(true);
	common_op(0); /* a frame from the wire still goes through or is dropped cleanly */
	fake_pass();
	look(false);
	if (take(1) & 1)
		round_trip();
	look(true);
	return 0;
}

/*
 * The whole snapshot as the library and the door run it: the record and the
 * channel's packets saved, one packet's part corrupted (up to 3 bytes),
 * every part checked (the fake stops there, nothing changed, if one is
 * refused), the channel rebuilt with its mappings and packets, then the
 * record. The guest then answers every section it holds: none may stay
 * busy.
 */
static void round_trip(void)
{
	static u8 rec[REC_MAX];
	struct nic_view before;
	u32 len = 0, part_len;
	int nr;

	if (fake_vsp_save(inst, NULL, 0, &len) != VMB_STATUS_BUFFER_TOO_SMALL || len > REC_MAX)
		return;
	check(fake_vsp_save(inst, rec, len, &len) == VMB_STATUS_SUCCESS);
	nr = fake_save(ch);
	check(nr >= 0);
	if (nr > 0) {
		u8 *part = (u8 *)fake_saved_vsp((unsigned)take(1) % (unsigned)nr, &part_len);
		unsigned flips = (unsigned)take(1) % 4;

		for (unsigned i = 0; i < flips; i++) {
			u8 at = (u8)take(1), x = (u8)take(1);

			if (part && part_len)
				part[at % part_len] ^= x;
		}
	}
	before = view();
	if (fake_restore(ch) < 0) {
		struct nic_view after = view();

		check(!memcmp(&before, &after, sizeof(before))); /* refused at the check */
		return;
	}
	check(fake_vsp_check(inst, rec, len) == VMB_STATUS_SUCCESS);
	check(fake_vsp_restore(inst, rec, len) == VMB_STATUS_SUCCESS);
	check(nic->rx_busy <= nic->rx_sections && nic->nr_restored == 0);
	look(true);
	check(nic->rx_busy == 0);
	fake_pass();
}
