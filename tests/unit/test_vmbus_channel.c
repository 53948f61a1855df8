/*
 * The VMBus channel management protocol (vmbus/channel.c, vmbus/bus.c) on
 * the host: every guest message type in every connection and channel state
 * gets the protocol's answer or is dropped with a log line; version
 * negotiation as Linux 6.1 drives it; offers, rescinds, open and close, the
 * message queue, UNLOAD and reset. The guest is test_vmbus_fake.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_vmbus_fake.h"
#include "kernel/hv_defs.h"

#define RING_GPADL 0xe1e10
#define BUF_GPADL  0xe1e11
#define RING_FIRST 8 /* fake RAM pages of the ring: 8 pages, split at 4 */
#define RING_PAGES 8
#define RING_SPLIT 4

static struct vmbus_host host;
static struct vmb_bus *bus;
static struct vmb_channel *ch1, *ch2;
static unsigned opened, closed, started, suspended;
static vmb_status open_answer;

static const struct vmb_guid TYPE1 =
    VMB_GUID(0x57164f39, 0x9115, 0x4e78, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d);
static const struct vmb_guid INST1 =
    VMB_GUID(0xfd149e91, 0x82e0, 0x4a7d, 0xaf, 0xa6, 0x2a, 0x41, 0x66, 0xcb, 0xd7, 0xc0);
static const struct vmb_guid TYPE2 =
    VMB_GUID(0xb1c0e000, 0x0ec0, 0x4b48, 0x90, 0, 0, 0, 0, 0, 0, 1);

static vmb_status cb_opened(struct vmb_channel *c)
{
	opened++;
	return open_answer;
}

static void cb_closed(struct vmb_channel *c)
{
	closed++;
}

static void cb_started(struct vmb_channel *c)
{
	started++;
}

static void cb_suspended(struct vmb_channel *c)
{
	suspended++;
}

static const struct vmb_state_callbacks callbacks = {cb_opened, cb_closed, cb_suspended, cb_started,
						     NULL};

static struct vmb_channel *make_channel(const struct vmb_guid *type, const struct vmb_guid *inst,
					const char *name)
{
	struct vmb_channel *c;

	assert_int_equal(vmb_channel_allocate(bus, &c), 0);
	assert_int_equal(vmb_server_channel_init_set_target_interface_id(c, type, inst), 0);
	assert_int_equal(vmb_channel_init_set_friendly_name(c, name), 0);
	assert_int_equal(vmb_channel_init_set_state_change_callbacks(c, &callbacks), 0);
	assert_int_equal(vmb_server_channel_init_set_mmio_megabytes(c, 3), 0);
	assert_int_equal(
	    vmb_server_channel_init_set_flags(c, VMBUS_OFFER_ENUMERATE_DEVICE_INTERFACE), 0);
	assert_int_equal(vmb_channel_enable(c), 0);
	return c;
}

static int setup(void **state)
{
	fh.quiet = true;
	fake_reset();
	host = fake_vmbus_host();
	bus = vmbus_create(&host, "linux");
	opened = closed = started = suspended = 0;
	open_answer = VMB_STATUS_SUCCESS;
	ch1 = make_channel(&TYPE1, &INST1, "heartbeat");
	ch2 = make_channel(&TYPE2, &INST1, "echo");
	return 0;
}

static int teardown(void **state)
{
	vmbus_destroy(bus);
	/* Everything the bus took from its pool went back. */
	assert_int_equal(fake_pool.used, 0);
	return 0;
}

static const char *state_of(unsigned index)
{
	struct vmbus_channel_info ci;

	assert_int_equal(vmbus_channel_info(bus, index, &ci), 0);
	return ci.state;
}

/* ---- states ---- */

enum state { S_DISCONNECTED, S_CONNECTED, S_OFFERED, S_OPEN, S_RESCINDED, S_COUNT };

static void enter(enum state s)
{
	struct guest_chan gc;

	if (s == S_DISCONNECTED)
		return;
	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_3), 1);
	if (s == S_CONNECTED)
		return;
	guest_request_offers(bus);
	assert_int_equal(guest_gpadl(bus, 1, BUF_GPADL, 40, 2), 0);
	if (s == S_OFFERED) {
		assert_int_equal(guest_gpadl(bus, 1, RING_GPADL, RING_FIRST, RING_PAGES), 0);
		return;
	}
	if (s == S_OPEN) {
		assert_int_equal(
		    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT),
		    0);
		return;
	}
	assert_int_equal(vmb_channel_disable(ch1), 0); /* S_RESCINDED */
	assert_int_equal(fake_last_type(), VMBUS_MSG_RESCIND_CHANNELOFFER);
}

/* ---- one message of each type, as a guest would send it ---- */

static u32 build(u32 type, u8 *buf)
{
	memset(buf, 0, VMBUS_MSG_MAX);
	((struct vmbus_msg_header *)buf)->type = type;
	switch (type) {
	case VMBUS_MSG_OPENCHANNEL: {
		struct vmbus_msg_open *o = (void *)buf;

		o->child_relid = o->open_id = 1;
		o->ring_gpadl = RING_GPADL;
		o->downstream_page_offset = RING_SPLIT;
		guest_rings(&(struct guest_chan){0}, RING_FIRST, RING_PAGES, RING_SPLIT);
		return sizeof(*o);
	}
	case VMBUS_MSG_CLOSECHANNEL:
	case VMBUS_MSG_RELID_RELEASED:
	case VMBUS_MSG_RESCIND_CHANNELOFFER:
		((struct vmbus_msg_relid *)buf)->child_relid = 1;
		return sizeof(struct vmbus_msg_relid);
	case VMBUS_MSG_GPADL_HEADER: {
		struct vmbus_msg_gpadl_header *h = (void *)buf;
		u64 w[2] = {PAGE_SIZE, fake_pfn(50)};

		h->child_relid = 1;
		h->gpadl = 0x77;
		h->range_count = 1;
		h->range_buflen = 16;
		memcpy(h + 1, w, sizeof(w));
		return sizeof(*h) + sizeof(w);
	}
	case VMBUS_MSG_GPADL_BODY: {
		struct vmbus_msg_gpadl_body *b = (void *)buf;
		u64 pfn = fake_pfn(51);

		b->gpadl = 0x77;
		memcpy(b + 1, &pfn, sizeof(pfn));
		return sizeof(*b) + sizeof(pfn);
	}
	case VMBUS_MSG_GPADL_TEARDOWN: {
		struct vmbus_msg_gpadl_teardown *t = (void *)buf;

		t->child_relid = 1;
		t->gpadl = BUF_GPADL;
		return sizeof(*t);
	}
	case VMBUS_MSG_INITIATE_CONTACT: {
		struct vmbus_msg_initiate_contact *m = (void *)buf;

		m->version = VMBUS_VERSION_V5_3;
		m->msg_sint = VMBUS_SINT;
		return sizeof(*m);
	}
	case VMBUS_MSG_TL_CONNECT_REQUEST:
		return sizeof(struct vmbus_msg_tl_connect);
	case VMBUS_MSG_MODIFYCHANNEL:
		((struct vmbus_msg_modify *)buf)->child_relid = 1;
		return sizeof(struct vmbus_msg_modify);
	default:
		return 24; /* header and a little more: enough for every host -> guest type */
	}
}

#define DROP   0xffffu	/* no message back, a log line */
#define SILENT 0xfffeu	/* no message back, no log line (the protocol has no answer) */
#define FAIL   0x10000u /* flag: the answer carries a failure status */

/* What each guest message gets, per state (D, C, O, P, R). */
static u32 expected(u32 type, enum state s)
{
	static const u32 answers[][S_COUNT] = {
	    [VMBUS_MSG_REQUESTOFFERS] = {DROP, VMBUS_MSG_ALLOFFERS_DELIVERED,
					 VMBUS_MSG_ALLOFFERS_DELIVERED,
					 VMBUS_MSG_ALLOFFERS_DELIVERED,
					 VMBUS_MSG_ALLOFFERS_DELIVERED},
	    [VMBUS_MSG_OPENCHANNEL] = {DROP, VMBUS_MSG_OPENCHANNEL_RESULT | FAIL,
				       VMBUS_MSG_OPENCHANNEL_RESULT,
				       VMBUS_MSG_OPENCHANNEL_RESULT | FAIL,
				       VMBUS_MSG_OPENCHANNEL_RESULT | FAIL},
	    [VMBUS_MSG_CLOSECHANNEL] = {DROP, DROP, DROP, SILENT, DROP},
	    [VMBUS_MSG_GPADL_HEADER] = {DROP, VMBUS_MSG_GPADL_CREATED | FAIL,
					VMBUS_MSG_GPADL_CREATED, VMBUS_MSG_GPADL_CREATED,
					VMBUS_MSG_GPADL_CREATED | FAIL},
	    [VMBUS_MSG_GPADL_BODY] = {DROP, DROP, DROP, DROP, DROP},
	    [VMBUS_MSG_GPADL_TEARDOWN] = {DROP, DROP, VMBUS_MSG_GPADL_TORNDOWN,
					  VMBUS_MSG_GPADL_TORNDOWN, VMBUS_MSG_GPADL_TORNDOWN},
	    [VMBUS_MSG_RELID_RELEASED] = {SILENT, DROP, DROP, DROP, SILENT},
	    [VMBUS_MSG_INITIATE_CONTACT] = {VMBUS_MSG_VERSION_RESPONSE, VMBUS_MSG_VERSION_RESPONSE,
					    VMBUS_MSG_VERSION_RESPONSE, VMBUS_MSG_VERSION_RESPONSE,
					    VMBUS_MSG_VERSION_RESPONSE},
	    [VMBUS_MSG_UNLOAD] = {VMBUS_MSG_UNLOAD_RESPONSE, VMBUS_MSG_UNLOAD_RESPONSE,
				  VMBUS_MSG_UNLOAD_RESPONSE, VMBUS_MSG_UNLOAD_RESPONSE,
				  VMBUS_MSG_UNLOAD_RESPONSE},
	    [VMBUS_MSG_MODIFYCHANNEL] = {DROP, VMBUS_MSG_MODIFYCHANNEL_RESPONSE | FAIL,
					 VMBUS_MSG_MODIFYCHANNEL_RESPONSE,
					 VMBUS_MSG_MODIFYCHANNEL_RESPONSE,
					 VMBUS_MSG_MODIFYCHANNEL_RESPONSE | FAIL},
	};

	if (type < ARRAY_SIZE(answers) && answers[type][0])
		return answers[type][s];
	return DROP; /* host -> guest types, reserved and unknown ones, TL_CONNECT_REQUEST */
}

static u32 answer_status(const void *msg)
{
	switch (((const struct vmbus_msg_header *)msg)->type) {
	case VMBUS_MSG_OPENCHANNEL_RESULT:
		return ((const struct vmbus_msg_open_result *)msg)->status;
	case VMBUS_MSG_GPADL_CREATED:
		return ((const struct vmbus_msg_gpadl_created *)msg)->status;
	case VMBUS_MSG_MODIFYCHANNEL_RESPONSE:
		return ((const struct vmbus_msg_modify_response *)msg)->status;
	case VMBUS_MSG_VERSION_RESPONSE:
		return !((const struct vmbus_msg_version_response *)msg)->version_supported;
	default:
		return 0;
	}
}

#define CASE_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_error("state %s, message type 0x%x: %s\n", names[s], t, #cond);      \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

static void test_every_message_in_every_state(void **state)
{
	static const char *const names[S_COUNT] = {"disconnected", "connected", "offered", "open",
						   "rescinded"};
	u8 buf[VMBUS_MSG_MAX];

	for (enum state s = 0; s < S_COUNT; s++) {
		for (u32 type = 0; type <= VMBUS_MSG_COUNT + 1; type++) {
			u32 t = type == VMBUS_MSG_COUNT + 1 ? 0x12345678 : type;
			u32 want = expected(t, s), size;
			unsigned msgs, logs;

			setup(state);
			enter(s);
			size = build(t, buf);
			msgs = fh.nr_msgs;
			logs = fh.nr_logs;
			CASE_CHECK(guest_post(bus, buf, size) == HV_STATUS_SUCCESS);
			if (want == DROP || want == SILENT) {
				CASE_CHECK(fh.nr_msgs == msgs);
				CASE_CHECK(want == DROP ? fh.nr_logs > logs : fh.nr_logs == logs);
			} else {
				CASE_CHECK(fh.nr_msgs > msgs);
				CASE_CHECK(fake_last_type() == (want & ~FAIL));
				CASE_CHECK((answer_status(fake_last()) != 0) == !!(want & FAIL));
			}
			teardown(state);
		}
	}
}

/* ---- connection ---- */

static void test_versions_linux_offers(void **state)
{
	static const u32 accepted[] = {
	    VMBUS_VERSION_V5_3,	   VMBUS_VERSION_V5_2,	VMBUS_VERSION_V5_1,   VMBUS_VERSION_V5,
	    VMBUS_VERSION_WIN10_1, VMBUS_VERSION_WIN10, VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8};
	const struct vmbus_msg_version_response *r;

	for (unsigned i = 0; i < ARRAY_SIZE(accepted); i++) {
		assert_int_equal(guest_connect(bus, accepted[i]), 1);
		r = fake_last();
		assert_int_equal(r->header.type, VMBUS_MSG_VERSION_RESPONSE);
		assert_int_equal(r->connection_state, VMBUS_CONNECTION_SUCCESSFUL);
		/* From 5.0 the guest posts to the connection id the response names. */
		assert_int_equal(r->msg_conn_id, accepted[i] >= VMBUS_VERSION_V5
						     ? VMBUS_CONN_MESSAGE_4
						     : VMBUS_CONN_MESSAGE);
		assert_int_equal(vmbus_version(bus), accepted[i]);
		assert_int_equal(guest_post_hdr(bus, VMBUS_MSG_UNLOAD), 0);
		assert_int_equal(vmbus_version(bus), 0);
	}
}

static void test_unknown_versions_refused_then_next_accepted(void **state)
{
	/* WS2008 (0.13) and WIN7 (1.1): Linux 6.1 no longer asks; 5.4 and 6.0 do not exist. */
	static const u32 refused[] = {0x0000000d, 0x00010001, 0x00050004, 0x00060000, 0};

	for (unsigned i = 0; i < ARRAY_SIZE(refused); i++) {
		assert_int_equal(guest_connect(bus, refused[i]), 0);
		assert_int_equal(vmbus_version(bus), 0);
	}
	/* Nothing but INITIATE_CONTACT and UNLOAD works until one is accepted. */
	guest_request_offers(bus);
	assert_int_equal(fake_count(VMBUS_MSG_OFFERCHANNEL), 0);
	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_2), 1);
	guest_request_offers(bus);
	assert_int_equal(fake_count(VMBUS_MSG_OFFERCHANNEL), 2);
}

static void test_initiate_contact_fields(void **state)
{
	struct vmbus_msg_initiate_contact m;

	memset(&m, 0, sizeof(m));
	m.header.type = VMBUS_MSG_INITIATE_CONTACT;
	m.version = VMBUS_VERSION_V5_3;
	m.msg_sint = 5; /* the guest's choice, honoured from 5.0 */
	assert_int_equal(guest_post(bus, &m, sizeof(m)), 0);
	assert_int_equal(vmbus_version(bus), VMBUS_VERSION_V5_3);
	assert_int_equal(vmbus_message_sint(bus), 5);
	m.msg_sint = HV_SINT_COUNT; /* no such SINT */
	assert_int_equal(guest_post(bus, &m, sizeof(m)), 0);
	assert_int_equal(vmbus_version(bus), 0);
	assert_int_equal(vmbus_message_sint(bus), VMBUS_SINT);
	m.msg_sint = VMBUS_SINT;
	m.msg_vtl = 1; /* no VTL 1 */
	assert_int_equal(guest_post(bus, &m, sizeof(m)), 0);
	assert_int_equal(vmbus_version(bus), 0);
	m.msg_vtl = 0;
	m.target_vcpu = 1; /* one VP */
	assert_int_equal(guest_post(bus, &m, sizeof(m)), 0);
	assert_int_equal(vmbus_version(bus), 0);
	/* Before 5.0 the field is the interrupt page: any value, SINT 2. */
	m.target_vcpu = 0;
	m.version = VMBUS_VERSION_WIN10;
	m.interrupt_page = fake_gpa(3) | 0x7;
	assert_int_equal(guest_post(bus, &m, sizeof(m)), 0);
	assert_int_equal(vmbus_version(bus), VMBUS_VERSION_WIN10);
	assert_int_equal(vmbus_message_sint(bus), VMBUS_SINT);
	/* Too short. */
	assert_int_equal(guest_post_hdr(bus, VMBUS_MSG_UNLOAD), 0);
	assert_int_equal(guest_post(bus, &m, sizeof(m) - 1), 0);
	assert_int_equal(vmbus_version(bus), 0);
}

static void test_post_entry_checks(void **state)
{
	struct vmbus_msg_header h = {VMBUS_MSG_UNLOAD, 0};
	u8 big[VMBUS_MSG_MAX + 8] = {0};

	assert_int_equal(vmbus_guest_post(bus, VMBUS_CONN_MESSAGE, VMBUS_HV_MESSAGE_TYPE, &h, 8),
			 0);
	assert_int_equal(fake_last_type(), VMBUS_MSG_UNLOAD_RESPONSE);
	assert_int_equal(vmbus_guest_post(bus, 2, VMBUS_HV_MESSAGE_TYPE, &h, 8),
			 HV_STATUS_INVALID_CONNECTION_ID);
	assert_int_equal(vmbus_guest_post(bus, VMBUS_CONN_MESSAGE_4, 2, &h, 8),
			 HV_STATUS_INVALID_PARAMETER);
	assert_int_equal(
	    vmbus_guest_post(bus, VMBUS_CONN_MESSAGE_4, VMBUS_HV_MESSAGE_TYPE, big, sizeof(big)),
	    HV_STATUS_INVALID_PARAMETER);
	assert_int_equal(vmbus_guest_post(bus, VMBUS_CONN_MESSAGE_4, VMBUS_HV_MESSAGE_TYPE, &h, 4),
			 0); /* shorter than a header: dropped */
	assert_int_equal(fake_count(VMBUS_MSG_UNLOAD_RESPONSE), 1);
	/* Signals: only for offered channels' connection ids. */
	assert_int_equal(guest_signal(bus, 1), HV_STATUS_INVALID_CONNECTION_ID);
	assert_int_equal(vmbus_guest_signal(bus, VMBUS_CONN_CHANNEL_BASE, 0),
			 HV_STATUS_INVALID_CONNECTION_ID);
	assert_int_equal(vmbus_guest_signal(bus, 3, 0), HV_STATUS_INVALID_CONNECTION_ID);
	assert_int_equal(guest_signal(bus, VMBUS_MAX_CHANNELS + 1),
			 HV_STATUS_INVALID_CONNECTION_ID);
	enter(S_OFFERED);
	assert_int_equal(guest_signal(bus, 1), HV_STATUS_SUCCESS);
	assert_int_equal(guest_signal(bus, 3), HV_STATUS_INVALID_CONNECTION_ID);
}

/* ---- offers ---- */

static void test_offers_carry_the_channels_identity(void **state)
{
	const struct vmbus_msg_offer *o;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	assert_int_equal(fh.nr_msgs, 4);	/* version response, two offers, all delivered */
	assert_int_equal(fh.msgs[1].size, 196); /* Linux needs the whole struct */
	o = fake_find(VMBUS_MSG_OFFERCHANNEL, 0);
	assert_memory_equal(&o->type, &TYPE1, 16);
	assert_memory_equal(&o->instance, &INST1, 16);
	assert_int_equal(o->child_relid, 1);
	assert_int_equal(o->connection_id, VMBUS_CONN_CHANNEL_BASE + 1);
	assert_int_equal(o->is_dedicated_interrupt, 1);
	assert_int_equal(o->monitor_allocated, 0);
	assert_int_equal(o->mmio_megabytes, 3);
	assert_int_equal(o->flags, VMBUS_OFFER_ENUMERATE_DEVICE_INTERFACE);
	assert_int_equal(o->sub_channel_index, 0);
	o = fake_find(VMBUS_MSG_OFFERCHANNEL, 1);
	assert_int_equal(o->child_relid, 2);
	assert_memory_equal(&o->type, &TYPE2, 16);
	assert_int_equal(fake_last_type(), VMBUS_MSG_ALLOFFERS_DELIVERED);
}

static void test_hot_add_rescind_and_relid_reuse(void **state)
{
	struct vmb_channel *c3;
	const struct vmb_guid t3 = VMB_GUID(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3);
	const struct vmbus_msg_relid *r;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	/* Enabled before the guest asked: offered with the others. */
	c3 = make_channel(&t3, &INST1, "third");
	assert_int_equal(fake_count(VMBUS_MSG_OFFERCHANNEL), 0);
	guest_request_offers(bus);
	assert_int_equal(fake_count(VMBUS_MSG_OFFERCHANNEL), 3);
	/* Rescind, release, and the relid comes back for the next channel. */
	assert_int_equal(vmb_channel_disable(c3), 0);
	r = fake_last();
	assert_int_equal(r->header.type, VMBUS_MSG_RESCIND_CHANNELOFFER);
	assert_int_equal(r->child_relid, 3);
	assert_int_equal(vmb_channel_disable(c3), VMB_STATUS_INVALID_DEVICE_STATE);
	assert_int_equal(vmb_channel_enable(c3), VMB_STATUS_INVALID_DEVICE_STATE); /* not yet */
	guest_release(bus, 3);
	assert_null(vmbus_relid_channel(bus, 3));
	assert_int_equal(vmb_channel_enable(c3), 0); /* hot add */
	assert_int_equal(fake_count(VMBUS_MSG_OFFERCHANNEL), 4);
	assert_int_equal(((const struct vmbus_msg_offer *)fake_last())->child_relid, 3);
	/* Cleanup of an offered channel: rescinded, and its relid waits for the release. */
	vmb_channel_cleanup(c3);
	assert_int_equal(fake_last_type(), VMBUS_MSG_RESCIND_CHANNELOFFER);
	c3 = make_channel(&t3, &INST1, "fourth");
	assert_int_equal(((const struct vmbus_msg_offer *)fake_last())->child_relid, 4);
	guest_release(bus, 3);
	assert_int_equal(vmb_channel_disable(c3), 0);
	guest_release(bus, 4);
	assert_int_equal(vmb_channel_enable(c3), 0);
	assert_int_equal(((const struct vmbus_msg_offer *)fake_last())->child_relid, 3);
}

/* ---- open and close ---- */

static void test_open_refuses_bad_rings(void **state)
{
	u64 pfns[8];

	enter(S_OFFERED);
	/* Split leaves a ring without a data page, or outside the GPADL. */
	assert_int_equal(guest_open(bus, 1, RING_GPADL, 1), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(guest_open(bus, 1, RING_GPADL, 0), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(guest_open(bus, 1, RING_GPADL, RING_PAGES - 1), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(guest_open(bus, 1, RING_GPADL, 100), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(guest_open(bus, 1, 0x999, RING_SPLIT), (int)VMBUS_STATUS_FAILED);
	/* A GPADL of part pages cannot be a ring. */
	for (unsigned i = 0; i < 8; i++)
		pfns[i] = fake_pfn(60 + i);
	assert_int_equal(guest_gpadl_pfns(bus, 1, 0x55, pfns, 4, 8, 3 * PAGE_SIZE), 0);
	assert_int_equal(guest_open(bus, 1, 0x55, 2), (int)VMBUS_STATUS_FAILED);
	/* Indices the guest left broken. */
	guest_rings(&(struct guest_chan){0}, RING_FIRST, RING_PAGES, RING_SPLIT);
	((struct vmbus_ring_control *)fake_page_ptr(RING_FIRST))->read_index = 3;
	assert_int_equal(guest_open(bus, 1, RING_GPADL, RING_SPLIT), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(opened, 0);
	/* The VSP says no. */
	guest_rings(&(struct guest_chan){0}, RING_FIRST, RING_PAGES, RING_SPLIT);
	open_answer = VMB_STATUS_INSUFFICIENT_RESOURCES;
	assert_int_equal(guest_open(bus, 1, RING_GPADL, RING_SPLIT), (int)VMBUS_STATUS_FAILED);
	assert_int_equal(opened, 1);
	assert_false(ch1->open);
	assert_int_equal(vmbus_find_gpadl(ch1, RING_GPADL)->users, 0);
	/* Then yes; the result echoes relid and open id. */
	open_answer = VMB_STATUS_SUCCESS;
	assert_int_equal(guest_open(bus, 1, RING_GPADL, RING_SPLIT), 0);
	assert_int_equal(((const struct vmbus_msg_open_result *)fake_last())->open_id, 1);
	assert_true(ch1->open);
	assert_int_equal(started, 1);
	assert_int_equal(ch1->in.size, 3 * PAGE_SIZE);
	assert_int_equal(ch1->out.size, 3 * PAGE_SIZE);
}

static void test_close_and_reopen(void **state)
{
	struct guest_chan gc;

	enter(S_OPEN);
	guest_close(bus, 1);
	assert_int_equal(closed, 1);
	assert_false(ch1->open);
	guest_close(bus, 1); /* again: dropped */
	assert_int_equal(closed, 1);
	assert_int_equal(guest_teardown(bus, 1, RING_GPADL), 1);
	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL + 5, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	assert_int_equal(opened, 2);
}

static void test_teardown_of_the_open_ring_waits_for_close(void **state)
{
	enter(S_OPEN);
	assert_int_equal(guest_teardown(bus, 1, RING_GPADL), 0); /* in use: deferred */
	assert_int_equal(guest_teardown(bus, 1, RING_GPADL), 0); /* asked twice: dropped */
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_TORNDOWN), 0);
	guest_close(bus, 1);
	assert_int_equal(fake_count(VMBUS_MSG_GPADL_TORNDOWN), 1);
	assert_int_equal(((const struct vmbus_msg_gpadl_torndown *)fake_last())->gpadl, RING_GPADL);
	assert_null(vmbus_find_gpadl(ch1, RING_GPADL));
}

static void test_rescind_while_open(void **state)
{
	enter(S_OPEN);
	assert_int_equal(vmb_channel_disable(ch1), 0);
	assert_int_equal(fake_last_type(), VMBUS_MSG_RESCIND_CHANNELOFFER);
	/* Racing requests for the rescinded channel fail cleanly. */
	assert_int_equal(guest_gpadl(bus, 1, 0x300, 70, 2), (int)VMBUS_STATUS_FAILED);
	assert_string_equal(state_of(0), "rescinded");
	/* Linux closes (no teardown: the channel is rescinded), then releases. */
	guest_close(bus, 1);
	assert_int_equal(closed, 1);
	guest_release(bus, 1);
	assert_null(vmbus_relid_channel(bus, 1));
	assert_null(ch1->gpadls);
	assert_int_equal(ch1->relid, 0);
	assert_string_equal(state_of(0), "disabled");
}

static void test_release_closes_what_the_guest_left_open(void **state)
{
	enter(S_OPEN);
	assert_int_equal(vmb_channel_disable(ch1), 0);
	guest_release(bus, 1);
	assert_int_equal(closed, 1);
	assert_false(ch1->open);
	assert_null(ch1->gpadls);
}

/* ---- UNLOAD and reset ---- */

static void test_unload_forgets_the_guest_and_offers_again(void **state)
{
	const struct vmbus_msg_offer *o;

	enter(S_OPEN);
	assert_int_equal(vmb_channel_disable(ch2), 0); /* rescinding when the guest unloads */
	assert_int_equal(guest_post_hdr(bus, VMBUS_MSG_UNLOAD), 0);
	assert_int_equal(fake_last_type(), VMBUS_MSG_UNLOAD_RESPONSE);
	assert_int_equal(closed, 1);
	assert_null(ch1->gpadls);
	assert_int_equal(vmbus_version(bus), 0);
	assert_null(vmbus_relid_channel(bus, 2)); /* ch2 is now simply disabled */
	assert_int_equal(vmb_channel_enable(ch2), 0);
	/* A new driver instance connects: the same channels, relids as before. */
	fh.nr_msgs = 0;
	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_3), 1);
	guest_request_offers(bus);
	assert_int_equal(fake_count(VMBUS_MSG_OFFERCHANNEL), 2);
	o = fake_find(VMBUS_MSG_OFFERCHANNEL, 0);
	assert_int_equal(o->child_relid, 1);
}

static void test_reset_and_reconnect_without_unload(void **state)
{
	struct guest_chan gc;

	enter(S_OPEN);
	vmbus_reset(bus);
	assert_int_equal(closed, 1);
	assert_int_equal(vmbus_version(bus), 0);
	fake_reset();
	assert_int_equal(
	    guest_open_channel(bus, &gc, 1, RING_GPADL, RING_FIRST, RING_PAGES, RING_SPLIT), 0);
	/* kexec: a new kernel contacts a host that still thinks it is connected. */
	assert_int_equal(guest_connect(bus, VMBUS_VERSION_V5_3), 1);
	assert_int_equal(closed, 2);
	assert_int_equal(fh.last_log[0] != 0, 1);
}

/* ---- the message queue ---- */

static void test_full_synic_queue_holds_messages_in_order(void **state)
{
	const struct vmbus_msg_offer *o;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	fh.post_status = HV_STATUS_INSUFFICIENT_BUFFERS; /* the guest's SINT queue is full */
	guest_request_offers(bus);
	assert_int_equal(fh.nr_msgs, 1);
	vmbus_poll(bus);
	assert_int_equal(fh.nr_msgs, 1);
	fh.post_status = HV_STATUS_SUCCESS;
	vmbus_poll(bus);
	assert_int_equal(fh.nr_msgs, 4);
	o = fake_find(VMBUS_MSG_OFFERCHANNEL, 0);
	assert_int_equal(o->child_relid, 1);
	o = fake_find(VMBUS_MSG_OFFERCHANNEL, 1);
	assert_int_equal(o->child_relid, 2);
	assert_int_equal(fake_last_type(), VMBUS_MSG_ALLOFFERS_DELIVERED);
}

static void test_undeliverable_message_does_not_block_the_queue(void **state)
{
	unsigned logs;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	fh.post_status = HV_STATUS_INVALID_PARAMETER; /* e.g. no such SINT: never deliverable */
	logs = fh.nr_logs;
	guest_request_offers(bus);
	assert_int_equal(fh.nr_logs, logs + 3);
	assert_int_equal(bus->q_count, 0);
	fh.post_status = HV_STATUS_SUCCESS;
	guest_request_offers(bus);
	assert_int_equal(fake_last_type(), VMBUS_MSG_ALLOFFERS_DELIVERED);
}

static void test_guest_waits_when_the_queue_is_full(void **state)
{
	unsigned n = 0;

	guest_connect(bus, VMBUS_VERSION_V5_3);
	guest_request_offers(bus);
	fh.post_status = HV_STATUS_INSUFFICIENT_BUFFERS;
	/* Each MODIFYCHANNEL wants an answer; the queue keeps room for a worst case. */
	while (n < 1000) {
		struct vmbus_msg_modify m = {{VMBUS_MSG_MODIFYCHANNEL, 0}, 1, 0};

		if (guest_post(bus, &m, sizeof(m)) == HV_STATUS_INSUFFICIENT_BUFFERS)
			break;
		n++;
	}
	assert_int_equal(n, VMBUS_MSG_QUEUE - VMBUS_MAX_CHANNELS - 1);
	fh.post_status = HV_STATUS_SUCCESS;
	vmbus_poll(bus);
	assert_int_equal(fake_count(VMBUS_MSG_MODIFYCHANNEL_RESPONSE), n);
	assert_int_equal(guest_post_hdr(bus, VMBUS_MSG_REQUESTOFFERS), 0);
}

static void test_modify_channel_before_5_3_has_no_answer(void **state)
{
	struct vmbus_msg_modify m = {{VMBUS_MSG_MODIFYCHANNEL, 0}, 1, 0};

	guest_connect(bus, VMBUS_VERSION_V5_2);
	guest_request_offers(bus);
	fh.nr_msgs = 0;
	assert_int_equal(guest_post(bus, &m, sizeof(m)), 0);
	assert_int_equal(fh.nr_msgs, 0);
}

static void test_log_is_rate_limited(void **state)
{
	for (unsigned i = 0; i < 10000; i++)
		guest_post_hdr(bus, VMBUS_MSG_OFFERCHANNEL);
	assert_true(fh.nr_logs <= VMBUS_LOG_BURST + 10000 / VMBUS_LOG_EVERY + 1);
	assert_true(fh.nr_logs >= VMBUS_LOG_BURST);
	assert_non_null(strstr(fh.last_log, "suppressed"));
}

static void test_console_info(void **state)
{
	struct vmbus_channel_info ci;

	assert_int_equal(vmbus_nr_channels(bus), 2);
	assert_int_equal(vmbus_channel_info(bus, 0, &ci), 0);
	assert_string_equal(ci.state, "enabled");
	assert_string_equal(ci.name, "heartbeat");
	enter(S_OPEN);
	assert_int_equal(vmbus_channel_info(bus, 0, &ci), 0);
	assert_int_equal(ci.relid, 1);
	assert_string_equal(ci.state, "open");
	assert_int_equal(ci.in_size, 3 * PAGE_SIZE);
	assert_int_equal(ci.out_used, 0);
	assert_int_equal(vmbus_channel_info(bus, 1, &ci), 0);
	assert_string_equal(ci.state, "offered");
	assert_int_equal(vmbus_channel_info(bus, 2, &ci), -1);
	assert_int_equal(vmb_channel_pause(ch1), 0);
	assert_int_equal(vmbus_channel_info(bus, 0, &ci), 0);
	assert_string_equal(ci.state, "paused");
	assert_string_equal(vmbus_name(bus), "linux");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_message_in_every_state),
	    cmocka_unit_test_setup_teardown(test_versions_linux_offers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_versions_refused_then_next_accepted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_initiate_contact_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_entry_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offers_carry_the_channels_identity, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_hot_add_rescind_and_relid_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_refuses_bad_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_teardown_of_the_open_ring_waits_for_close, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rescind_while_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_closes_what_the_guest_left_open, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_unload_forgets_the_guest_and_offers_again, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reset_and_reconnect_without_unload, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_full_synic_queue_holds_messages_in_order, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_undeliverable_message_does_not_block_the_queue,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_guest_waits_when_the_queue_is_full, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_modify_channel_before_5_3_has_no_answer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_log_is_rate_limited, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_info, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
