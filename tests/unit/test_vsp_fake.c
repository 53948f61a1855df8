/*
 * The fake VMBus server library and kernel services of test_vsp_fake.h.
 * Not a model of the real server: just enough of the kmcl.h contract, kept
 * strictly, to drive a VSP from a test and catch it breaking the rules.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_vsp_fake.h"

#define FAKE_MAX_BUSES	  4
#define FAKE_MAX_CHANNELS 16
#define FAKE_MAX_PACKETS  64
#define FAKE_QUEUE	  32 /* guest packets waiting per channel */
#define FAKE_MAX_SAVED	  16
#define FAKE_CONTEXT_MAX  256
#define FAKE_LIB_MAGIC	  0x4b4c4946u /* "FILK": the fake library's part of a saved packet */

#define FAKE_MAX_VSPS	  8
#define FAKE_MAX_GPADLS	  4
#define FAKE_MAX_MAPPINGS 16

struct fake_gpadl {
	u32 id;
	u8 *buf;
	u64 size;
};
#define FAKE_MAX_CONFIG 4

struct fake_config {
	const char *key, *text;
	const void *data; /* a file key's file */
	u64 size;
};

struct vmb_bus {
	bool used;
	char name[24]; /* the partition's */
};

struct vsp {
	bool used;
	const struct vsp_type *type;
	struct vmb_bus *bus;
	void *state;
	bool deferred, timer_on;
	u64 timer_at_ns;
	enum vsp_run_state run_state;
	size_t bytes; /* held through vsp_alloc */
	struct fake_config config[FAKE_MAX_CONFIG];
};

extern const struct vsp_type __start_vsp_types[] __attribute__((weak));
extern const struct vsp_type __stop_vsp_types[] __attribute__((weak));
extern const struct vsp_command __start_vsp_cmds[] __attribute__((weak));
extern const struct vsp_command __stop_vsp_cmds[] __attribute__((weak));

struct fake_guest_packet {
	u32 len, flags;
	struct fake_ext ext;
	u8 data[FAKE_MAX_DATA];
};

struct vmb_channel {
	bool used, enabled, opened, paused, delivering;
	struct vmb_bus *bus, *handle;
	bool has_ids;
	struct vmb_guid type, instance;
	char name[32];
	u32 max_packet, max_external, context_size;
	u8 context[FAKE_CONTEXT_MAX];
	vmb_process_packet_fn process;
	vmb_processing_complete_fn processing_complete;
	struct vmb_state_callbacks cb;
	vmb_save_packet_fn save_packet;
	vmb_restore_packet_fn restore_packet;
	vmb_check_packet_fn check_packet;
	struct fake_guest_packet queue[FAKE_QUEUE];
	unsigned q_head, q_count;
	struct fake_gpadl gpadls[FAKE_MAX_GPADLS];
	unsigned nr_gpadls;
	const u8 *ring;
	u64 ring_size;
	u8 vtl;
	u16 offer_flags, mmio_megabytes;
	u32 channel_flags;
};

struct vmb_packet {
	bool used;
	unsigned gen; /* bumped at each allocation, to tell reuse from the same packet */
	u64 seq;      /* arrival order of an incoming packet */
	struct vmb_channel *channel;
	bool incoming; /* the guest's (else allocated by the VSP to send) */
	bool deferred;
	bool waiting; /* sent with a completion requested, not yet completed */
	u32 flags;
	struct fake_ext ext;
	struct vmb_gpa_range ranges[FAKE_MAX_RANGES];
	u64 pfns[FAKE_MAX_RANGES];
	u8 context[VMB_PACKET_CONTEXT_SIZE];
	vmb_completion_fn completion;
};

struct fake_lib_saved {
	u32 magic;
	u32 flags;
	/* A packet the VSP sent that waits for the guest's completion: its record (fake_sent). */
	u32 waiting;
	u32 record;
};

struct fake_saved {
	struct fake_lib_saved lib;
	u32 len;
	u8 vsp[FAKE_MAX_DATA + 64];
};

struct fake_record fake_sent[FAKE_MAX_SENT];
unsigned fake_nr_sent;
int fake_ring_room = FAKE_RING_UNLIMITED;
bool fake_alloc_fails;
unsigned fake_violations;
bool fake_abort_on_violation;
u64 fake_bytes_read;
u64 fake_now_ns;
u64 fake_ref_time;
char fake_console[16384];
char fake_log[16384];

struct pool fake_vsp_pool;
static u8 vsp_pool_mem[1u << 20] __attribute__((aligned(POOL_ALIGN)));
static struct vmb_bus buses[FAKE_MAX_BUSES];
static struct vsp vsps[FAKE_MAX_VSPS];
static struct fake_config preset[FAKE_MAX_CONFIG]; /* for the next fake_vsp_create */

struct vmb_gpadl_mapping {
	bool used;
	struct vmb_channel *channel;
	u32 id;
	u8 *buf;
	u64 size;
};

static struct vmb_gpadl_mapping mappings[FAKE_MAX_MAPPINGS];

/* Inside fake_restore only: the mappings fake_save saw, handed back in order. */
static u32 saved_maps[FAKE_MAX_MAPPINGS];
static unsigned nr_saved_maps, next_saved_map;
static struct vmb_channel *restoring;

static struct vmb_channel channels[FAKE_MAX_CHANNELS];
static struct vmb_packet packets[FAKE_MAX_PACKETS];
static struct fake_saved saved[FAKE_MAX_SAVED];
static unsigned nr_saved;
static u64 next_seq;
static u8 delivery_buf[FAKE_MAX_DATA];

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
	va_list ap;

	fake_violations++;
	fprintf(stderr, "fake kmcl: VSP broke the contract: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (fake_abort_on_violation)
		abort();
}

static void append(char *out, size_t size, const char *fmt, va_list ap)
{
	size_t used = strlen(out);

	if (used + 1 < size)
		vsnprintf(out + used, size - used, fmt, ap);
}

void fake_reset(void)
{
	/* What the instances held goes with the pool. */
	pool_init(&fake_vsp_pool, vsp_pool_mem, sizeof(vsp_pool_mem));
	memset(vsps, 0, sizeof(vsps));
	memset(buses, 0, sizeof(buses));
	memset(channels, 0, sizeof(channels));
	memset(packets, 0, sizeof(packets));
	memset(mappings, 0, sizeof(mappings));
	fake_now_ns = fake_ref_time = 0;
	fake_clear();
}

void fake_clear(void)
{
	fake_nr_sent = 0;
	fake_ring_room = FAKE_RING_UNLIMITED;
	fake_alloc_fails = false;
	fake_bytes_read = 0;
	fake_violations = 0;
	fake_abort_on_violation = false;
	fake_console[0] = fake_log[0] = 0;
	nr_saved = 0;
}

/* ---- the VSP door (vmbus/vsp.h) ---- */

static const struct vsp_type *type_named(const char *name)
{
	for (const struct vsp_type *t = __start_vsp_types; t < __stop_vsp_types; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static struct vmb_bus *bus_named(const char *name, bool make)
{
	for (unsigned i = 0; i < FAKE_MAX_BUSES; i++)
		if (buses[i].used && !strcmp(buses[i].name, name))
			return &buses[i];
	for (unsigned i = 0; make && i < FAKE_MAX_BUSES; i++) {
		if (!buses[i].used) {
			buses[i].used = true;
			snprintf(buses[i].name, sizeof(buses[i].name), "%s", name);
			return &buses[i];
		}
	}
	return NULL;
}

void fake_partition(const char *name)
{
	if (!bus_named(name, true))
		violation("more than %u fake partitions", FAKE_MAX_BUSES);
}

struct vsp *fake_vsp_create(const char *type, const char *partition, char *err, size_t errlen)
{
	const struct vsp_type *t = type_named(type);
	struct vmb_bus *bus = bus_named(partition, true);
	struct vsp *v = NULL;

	for (unsigned i = 0; i < FAKE_MAX_VSPS && !v; i++)
		if (!vsps[i].used)
			v = &vsps[i];
	if (!t || !bus || !v) {
		snprintf(err, errlen, "fake: no VSP type '%s' or no room", type);
		return NULL;
	}
	memset(v, 0, sizeof(*v));
	v->used = true;
	v->type = t;
	v->bus = bus;
	memcpy(v->config, preset, sizeof(preset)); /* what create may read */
	memset(preset, 0, sizeof(preset));
	v->state = pool_zalloc(&fake_vsp_pool, t->state_size ? t->state_size : 1);
	if (!v->state) {
		snprintf(err, errlen, "fake: out of device memory");
		v->used = false;
		return NULL;
	}
	if (t->create(v, err, errlen)) {
		pool_free(&fake_vsp_pool, v->state);
		v->used = false;
		return NULL;
	}
	return v;
}

void fake_vsp_destroy(struct vsp *v)
{
	if (v->type->destroy)
		v->type->destroy(v);
	pool_free(&fake_vsp_pool, v->state);
	v->used = false;
}

void fake_pass(void)
{
	for (unsigned i = 0; i < FAKE_MAX_VSPS; i++) {
		struct vsp *v = &vsps[i];

		if (!v->used)
			continue;
		if (v->timer_on && fake_now_ns >= v->timer_at_ns) {
			v->timer_on = false;
			v->deferred = true;
		}
		if (!v->deferred)
			continue;
		v->deferred = false;
		if (v->type->work)
			v->type->work(v);
	}
}

bool fake_timer(const struct vsp *v, u64 *at_ns)
{
	if (v->timer_on && at_ns)
		*at_ns = v->timer_at_ns;
	return v->timer_on;
}

bool fake_deferred(const struct vsp *v)
{
	return v->deferred;
}

void fake_set_run_state(struct vsp *v, enum vsp_run_state s)
{
	v->run_state = s;
}

size_t fake_vsp_bytes(const struct vsp *v)
{
	return v->bytes;
}

vmb_status fake_vsp_save(struct vsp *v, void *buf, u32 size, u32 *needed)
{
	*needed = 0;
	return v->type->save ? v->type->save(v, buf, size, needed) : VMB_STATUS_SUCCESS;
}

vmb_status fake_vsp_check(struct vsp *v, const void *buf, u32 size)
{
	return v->type->check ? v->type->check(v, buf, size) : VMB_STATUS_SUCCESS;
}

vmb_status fake_vsp_restore(struct vsp *v, const void *buf, u32 size)
{
	return v->type->restore ? v->type->restore(v, buf, size) : VMB_STATUS_SUCCESS;
}

const char *fake_command(const char *line)
{
	char buf[256], *argv[8];
	int argc = 0;
	const struct vsp_command *c = NULL;
	struct vmb_bus *bus;
	struct vsp *v = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	fake_console[0] = 0;
	for (const struct vsp_command *k = __start_vsp_cmds; argc && k < __stop_vsp_cmds; k++)
		if (!strcmp(k->name, argv[0]))
			c = k;
	if (!c) {
		violation("no console command '%s'", argc ? argv[0] : "");
		return fake_console;
	}
	if (argc < 2 || argc - 2 > c->max_args) {
		vsp_printf("error: usage: %s\n", c->usage);
		return fake_console;
	}
	bus = bus_named(argv[1], false);
	if (!bus) {
		vsp_printf("error: no partition named '%s' (see 'list')\n", argv[1]);
		return fake_console;
	}
	for (unsigned i = 0; i < FAKE_MAX_VSPS && !v; i++)
		if (vsps[i].used && vsps[i].bus == bus && !strcmp(vsps[i].type->name, c->vsp))
			v = &vsps[i];
	if (!v) {
		const struct vsp_type *t = type_named(c->vsp);

		if (t && t->when_key)
			vsp_printf("error: partition %s has no %s (its section sets no `%s =`)\n",
				   argv[1], c->device, t->when_key);
		else
			vsp_printf("error: partition %s has no %s (add `%s` to its vmbus list)\n",
				   argv[1], c->device, c->vsp);
		return fake_console;
	}
	c->fn(v, argc, argv);
	return fake_console;
}

void fake_preset_config(const char *key, const char *text)
{
	for (unsigned i = 0; i < FAKE_MAX_CONFIG; i++) {
		if (!preset[i].key) {
			preset[i] = (struct fake_config){key, text, NULL, 0};
			return;
		}
	}
	violation("more than %u preset config keys", FAKE_MAX_CONFIG);
}

void fake_set_config(struct vsp *v, const char *key, const char *text, const void *data, u64 size)
{
	struct fake_config *c = NULL;

	for (unsigned i = 0; i < FAKE_MAX_CONFIG && !c; i++)
		if (!v->config[i].key || !strcmp(v->config[i].key, key))
			c = &v->config[i];
	if (!c) {
		violation("more than %u config keys", FAKE_MAX_CONFIG);
		return;
	}
	*c = (struct fake_config){key, text, data, size};
}

static const struct fake_config *config_of(const struct vsp *v, const char *key)
{
	for (unsigned i = 0; i < FAKE_MAX_CONFIG; i++)
		if (v->config[i].key && !strcmp(v->config[i].key, key))
			return &v->config[i];
	return NULL;
}

const char *vsp_config(const struct vsp *v, const char *key)
{
	const struct fake_config *c = config_of(v, key);

	return c ? c->text : NULL;
}

const void *vsp_file(const struct vsp *v, const char *key, u64 *size)
{
	const struct fake_config *c = config_of(v, key);

	*size = c && c->data ? c->size : 0;
	return c ? c->data : NULL;
}

void *vsp_state(struct vsp *v)
{
	return v->state;
}

struct vmb_bus *vsp_bus(struct vsp *v)
{
	return v->bus;
}

const char *vsp_partition_name(const struct vsp *v)
{
	return v->bus->name;
}

unsigned vsp_partition_index(const struct vsp *v)
{
	return (unsigned)(v->bus - buses); /* buses are made in the order partitions are named */
}

struct fake_block {
	size_t size;
	u8 data[] __aligned(16);
};

void *vsp_alloc(struct vsp *v, size_t size)
{
	struct fake_block *b = pool_zalloc(&fake_vsp_pool, sizeof(*b) + size);

	if (!b)
		return NULL;
	b->size = size;
	v->bytes += size;
	return b->data;
}

void vsp_free(struct vsp *v, void *ptr)
{
	struct fake_block *b;

	if (!ptr)
		return;
	b = (struct fake_block *)((u8 *)ptr - offsetof(struct fake_block, data));
	v->bytes -= b->size;
	pool_free(&fake_vsp_pool, b);
}

u64 vsp_now_ns(void)
{
	return fake_now_ns;
}

u64 vsp_ref_time(const struct vsp *v)
{
	return fake_ref_time;
}

void vsp_timer_at(struct vsp *v, u64 at_ns)
{
	v->timer_on = true;
	v->timer_at_ns = at_ns;
}

void vsp_defer(struct vsp *v)
{
	v->deferred = true;
}

enum vsp_run_state vsp_run_state(const struct vsp *v)
{
	return v->run_state;
}

void vsp_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append(fake_console, sizeof(fake_console), fmt, ap);
	va_end(ap);
}

void vsp_log(const struct vsp *v, const char *fmt, ...)
{
	size_t used = strlen(fake_log);
	va_list ap;

	if (used + 1 < sizeof(fake_log))
		snprintf(fake_log + used, sizeof(fake_log) - used,
			 "%s: partition %s: ", v->type->name, v->bus->name);
	va_start(ap, fmt);
	append(fake_log, sizeof(fake_log), fmt, ap);
	va_end(ap);
	used = strlen(fake_log);
	if (used + 1 < sizeof(fake_log))
		snprintf(fake_log + used, sizeof(fake_log) - used, "\n");
}

/* ---- channels ---- */

static bool channel_ok(struct vmb_channel *ch, const char *what)
{
	if (ch >= channels && ch < channels + FAKE_MAX_CHANNELS && ch->used)
		return true;
	violation("%s on a channel that is not allocated", what);
	return false;
}

vmb_status vmb_channel_allocate(struct vmb_bus *bus, struct vmb_channel **channel)
{
	for (unsigned i = 0; i < FAKE_MAX_CHANNELS; i++) {
		if (!channels[i].used) {
			memset(&channels[i], 0, sizeof(channels[i]));
			channels[i].used = true;
			channels[i].bus = bus;
			*channel = &channels[i];
			return VMB_STATUS_SUCCESS;
		}
	}
	return VMB_STATUS_INSUFFICIENT_RESOURCES;
}

void vmb_channel_cleanup(struct vmb_channel *channel)
{
	if (!channel_ok(channel, "cleanup"))
		return;
	if (channel->enabled)
		violation("cleanup of an enabled channel");
	channel->used = false;
}

/* Init setters: refused once enabled, like the real library. */
#define SETTER_GUARD(ch)                                                                           \
	do {                                                                                       \
		if (!channel_ok(ch, __func__))                                                     \
			return VMB_STATUS_INVALID_PARAMETER;                                       \
		if ((ch)->enabled)                                                                 \
			return VMB_STATUS_INVALID_DEVICE_STATE;                                    \
	} while (0)

vmb_status vmb_server_channel_init_set_target_vtl(struct vmb_channel *channel, u8 vtl)
{
	SETTER_GUARD(channel);
	channel->vtl = vtl;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_flags(struct vmb_channel *channel, u16 offer_flags)
{
	SETTER_GUARD(channel);
	channel->offer_flags = offer_flags;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_mmio_megabytes(struct vmb_channel *channel, u16 megabytes)
{
	SETTER_GUARD(channel);
	channel->mmio_megabytes = megabytes;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_flags(struct vmb_channel *channel, u32 flags)
{
	SETTER_GUARD(channel);
	channel->channel_flags = flags;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_vmbus_handle(struct vmb_channel *channel,
						    struct vmb_bus *bus)
{
	SETTER_GUARD(channel);
	channel->handle = bus;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_target_interface_id(struct vmb_channel *channel,
							   const struct vmb_guid *type,
							   const struct vmb_guid *instance)
{
	SETTER_GUARD(channel);
	channel->type = *type;
	channel->instance = *instance;
	channel->has_ids = true;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_friendly_name(struct vmb_channel *channel, const char *name)
{
	SETTER_GUARD(channel);
	snprintf(channel->name, sizeof(channel->name), "%s", name);
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_maximum_packet_size(struct vmb_channel *channel, u32 bytes)
{
	SETTER_GUARD(channel);
	channel->max_packet = bytes;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_maximum_external_data(struct vmb_channel *channel, u32 bytes)
{
	SETTER_GUARD(channel);
	channel->max_external = bytes;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_client_context_size(struct vmb_channel *channel, u32 bytes)
{
	SETTER_GUARD(channel);
	if (bytes > FAKE_CONTEXT_MAX)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	channel->context_size = bytes;
	return VMB_STATUS_SUCCESS;
}

void *vmb_channel_get_pointer(struct vmb_channel *channel)
{
	return channel_ok(channel, "get_pointer") ? channel->context : NULL;
}

vmb_status
vmb_channel_init_set_process_packet_callbacks(struct vmb_channel *channel,
					      vmb_process_packet_fn process_packet,
					      vmb_processing_complete_fn processing_complete)
{
	SETTER_GUARD(channel);
	channel->process = process_packet;
	channel->processing_complete = processing_complete;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_init_set_state_change_callbacks(struct vmb_channel *channel,
						       const struct vmb_state_callbacks *callbacks)
{
	SETTER_GUARD(channel);
	channel->cb = *callbacks;
	return VMB_STATUS_SUCCESS;
}

vmb_status
vmb_server_channel_init_set_save_restore_packet_callbacks(struct vmb_channel *channel,
							  vmb_save_packet_fn save_packet,
							  vmb_restore_packet_fn restore_packet)
{
	SETTER_GUARD(channel);
	channel->save_packet = save_packet;
	channel->restore_packet = restore_packet;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_server_channel_init_set_check_packet_callback(struct vmb_channel *channel,
							     vmb_check_packet_fn check_packet)
{
	SETTER_GUARD(channel);
	channel->check_packet = check_packet;
	return VMB_STATUS_SUCCESS;
}

static bool same_guid(const struct vmb_guid *a, const struct vmb_guid *b)
{
	return !memcmp(a, b, sizeof(*a));
}

vmb_status vmb_channel_enable(struct vmb_channel *channel)
{
	if (!channel_ok(channel, "enable"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (channel->enabled)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (!channel->has_ids || channel->handle != channel->bus || !channel->process)
		return VMB_STATUS_INVALID_PARAMETER;
	for (unsigned i = 0; i < FAKE_MAX_CHANNELS; i++) {
		struct vmb_channel *o = &channels[i];

		if (o != channel && o->used && o->enabled && o->bus == channel->bus &&
		    same_guid(&o->type, &channel->type) &&
		    same_guid(&o->instance, &channel->instance))
			return VMB_STATUS_INVALID_PARAMETER;
	}
	channel->enabled = true;
	return VMB_STATUS_SUCCESS;
}

static void drop_packets(struct vmb_channel *ch)
{
	for (unsigned i = 0; i < FAKE_MAX_PACKETS; i++)
		if (packets[i].used && packets[i].channel == ch)
			packets[i].used = false;
}

vmb_status vmb_channel_disable(struct vmb_channel *channel)
{
	if (!channel_ok(channel, "disable"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (channel->opened)
		fake_close(channel);
	channel->enabled = false;
	return VMB_STATUS_SUCCESS;
}

static void pump(struct vmb_channel *ch);

vmb_status vmb_channel_pause(struct vmb_channel *channel)
{
	if (!channel_ok(channel, "pause"))
		return VMB_STATUS_INVALID_PARAMETER;
	channel->paused = true;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_start(struct vmb_channel *channel)
{
	if (!channel_ok(channel, "start"))
		return VMB_STATUS_INVALID_PARAMETER;
	channel->paused = false;
	pump(channel);
	return VMB_STATUS_SUCCESS;
}

void vmb_channel_get_interface_instance(struct vmb_channel *channel, struct vmb_guid *type,
					struct vmb_guid *instance)
{
	*type = channel->type;
	*instance = channel->instance;
}

/* ---- GPADL mappings: buffers the test describes as the guest's GPADLs ---- */

static struct fake_gpadl *gpadl_of(struct vmb_channel *ch, u32 id)
{
	for (unsigned i = 0; i < ch->nr_gpadls; i++)
		if (ch->gpadls[i].id == id)
			return &ch->gpadls[i];
	return NULL;
}

void fake_add_gpadl(struct vmb_channel *ch, u32 id, void *buf, u64 size)
{
	if (!channel_ok(ch, "fake_add_gpadl") || ch->nr_gpadls == FAKE_MAX_GPADLS ||
	    gpadl_of(ch, id)) {
		violation("fake_add_gpadl: no room, or GPADL %u twice", id);
		return;
	}
	ch->gpadls[ch->nr_gpadls++] = (struct fake_gpadl){id, buf, size};
}

unsigned fake_mappings(struct vmb_channel *ch)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_MAX_MAPPINGS; i++)
		n += mappings[i].used && mappings[i].channel == ch;
	return n;
}

static vmb_status map_one(struct vmb_channel *ch, u32 id, struct vmb_gpadl_mapping **out)
{
	struct fake_gpadl *g = gpadl_of(ch, id);

	if (!g)
		return VMB_STATUS_INVALID_PARAMETER;
	for (unsigned i = 0; i < FAKE_MAX_MAPPINGS; i++) {
		if (!mappings[i].used) {
			mappings[i] = (struct vmb_gpadl_mapping){true, ch, id, g->buf, g->size};
			*out = &mappings[i];
			return VMB_STATUS_SUCCESS;
		}
	}
	return VMB_STATUS_INSUFFICIENT_RESOURCES;
}

vmb_status vmb_channel_map_gpadl(struct vmb_channel *channel, u32 gpadl_id,
				 struct vmb_gpadl_mapping **mapping)
{
	if (!channel_ok(channel, "map_gpadl"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (!channel->opened)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	return map_one(channel, gpadl_id, mapping);
}

static bool mapping_ok(const struct vmb_gpadl_mapping *m, const char *what)
{
	if (m >= mappings && m < mappings + FAKE_MAX_MAPPINGS && m->used)
		return true;
	violation("%s on a mapping that is not mapped", what);
	return false;
}

void vmb_channel_unmap_gpadl(struct vmb_channel *channel, struct vmb_gpadl_mapping *mapping)
{
	if (!mapping_ok(mapping, "unmap_gpadl"))
		return;
	if (mapping->channel != channel)
		violation("unmap_gpadl of another channel's mapping");
	mapping->used = false;
}

u64 vmb_gpadl_mapping_size(const struct vmb_gpadl_mapping *mapping)
{
	return mapping_ok(mapping, "gpadl_mapping_size") ? mapping->size : 0;
}

vmb_status vmb_gpadl_read(const struct vmb_gpadl_mapping *mapping, u64 offset, void *buf, u64 len)
{
	if (!mapping_ok(mapping, "gpadl_read"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (offset > mapping->size || len > mapping->size - offset)
		return VMB_STATUS_INVALID_PARAMETER;
	fake_bytes_read += len;
	memcpy(buf, mapping->buf + offset, len);
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_gpadl_write(const struct vmb_gpadl_mapping *mapping, u64 offset, const void *buf,
			   u64 len)
{
	if (!mapping_ok(mapping, "gpadl_write"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (offset > mapping->size || len > mapping->size - offset)
		return VMB_STATUS_INVALID_PARAMETER;
	memcpy(mapping->buf + offset, buf, len);
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_restored_mapping(struct vmb_channel *channel, u32 *gpadl_id,
					struct vmb_gpadl_mapping **mapping)
{
	if (!channel_ok(channel, "restored_mapping"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (channel != restoring)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (next_saved_map == nr_saved_maps)
		return VMB_STATUS_NO_MORE_ENTRIES;
	*gpadl_id = saved_maps[next_saved_map++];
	return map_one(channel, *gpadl_id, mapping);
}

/* ---- packets ---- */

static bool packet_ok(struct vmb_packet *p, const char *what)
{
	if (p >= packets && p < packets + FAKE_MAX_PACKETS && p->used)
		return true;
	violation("%s of a packet that is not in use (freed, completed or never allocated)", what);
	return false;
}

static struct vmb_packet *packet_new(struct vmb_channel *ch)
{
	for (unsigned i = 0; i < FAKE_MAX_PACKETS; i++) {
		struct vmb_packet *p = &packets[i];

		if (!p->used) {
			unsigned gen = p->gen + 1;

			memset(p, 0, sizeof(*p));
			p->used = true;
			p->gen = gen;
			p->channel = ch;
			return p;
		}
	}
	return NULL;
}

vmb_status vmb_packet_allocate(struct vmb_channel *channel, struct vmb_packet **packet)
{
	struct vmb_packet *p;

	if (!channel_ok(channel, "packet_allocate"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (fake_alloc_fails)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	p = packet_new(channel);
	if (!p)
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	*packet = p;
	return VMB_STATUS_SUCCESS;
}

void vmb_packet_free(struct vmb_packet *packet)
{
	if (!packet_ok(packet, "free"))
		return;
	if (packet->incoming)
		violation("free of a guest packet (complete or fail it)");
	packet->used = false;
}

struct vmb_channel *vmb_packet_get_channel(struct vmb_packet *packet)
{
	return packet->channel;
}

void *vmb_packet_get_context(struct vmb_packet *packet)
{
	return packet->context;
}

vmb_status vmb_packet_set_completion_routine(struct vmb_packet *packet,
					     vmb_completion_fn completion)
{
	if (!packet_ok(packet, "set_completion_routine"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (packet->incoming) /* as the library (vmbus/packet.c): a send's, not a guest's packet */
		return VMB_STATUS_INVALID_DEVICE_STATE;
	packet->completion = completion;
	return VMB_STATUS_SUCCESS;
}

static struct fake_record *record(struct vmb_channel *ch, enum fake_kind kind, const void *data,
				  u32 len, u32 flags)
{
	struct fake_record *r;

	if (fake_nr_sent == FAKE_MAX_SENT) {
		violation("more than %u packets sent (test too long?)", FAKE_MAX_SENT);
		return NULL;
	}
	if (len > FAKE_MAX_DATA) {
		violation("a %u-byte packet, more than the fake keeps", len);
		return NULL;
	}
	r = &fake_sent[fake_nr_sent++];
	/* A slot is reused after fake_clear: nothing of an earlier record may stay. */
	*r = (struct fake_record){.channel = ch, .kind = kind, .flags = flags, .len = len};
	if (len)
		memcpy(r->data, data, len);
	return r;
}

/* One packet's worth of host->guest ring space. */
static bool take_room(void)
{
	if (fake_ring_room == 0)
		return false;
	if (fake_ring_room > 0)
		fake_ring_room--;
	return true;
}

vmb_status vmb_packet_send(struct vmb_packet *packet, const void *buffer, u32 len,
			   const struct vmb_external_data *ext, u32 flags)
{
	struct fake_record *r;

	if (!packet_ok(packet, "send"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (packet->incoming) {
		violation("send of a guest packet");
		return VMB_STATUS_INVALID_PARAMETER;
	}
	if (!packet->channel->opened)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (!take_room())
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	r = record(packet->channel, FAKE_SENT, buffer, len, flags);
	if (r) {
		r->packet = packet;
		r->gen = packet->gen;
	}
	if (!(flags & VMB_SEND_COMPLETION_REQUESTED))
		packet->used = false; /* consumed */
	else
		packet->waiting = true;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_packet_send_transfer_pages(struct vmb_packet *packet, u16 pageset_id,
					  const struct vmb_transfer_range *ranges, u32 nr_ranges,
					  const void *buffer, u32 len, u32 flags)
{
	struct fake_record *r;

	if (!packet_ok(packet, "send_transfer_pages"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (packet->incoming || packet->waiting) {
		violation("transfer-page send of a guest packet or of one already sent");
		return VMB_STATUS_INVALID_PARAMETER;
	}
	if (!nr_ranges || nr_ranges > VMB_MAX_TRANSFER_RANGES || !ranges)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!packet->channel->opened)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	if (!take_room())
		return VMB_STATUS_INSUFFICIENT_RESOURCES;
	r = record(packet->channel, FAKE_SENT, buffer, len, flags);
	if (r) {
		r->packet = packet;
		r->gen = packet->gen;
		r->xfer = true;
		r->xfer_id = pageset_id;
		r->nr_xfer = nr_ranges < FAKE_MAX_RANGES ? nr_ranges : FAKE_MAX_RANGES;
		memcpy(r->xfer_ranges, ranges, r->nr_xfer * sizeof(*ranges));
	}
	if (!(flags & VMB_SEND_COMPLETION_REQUESTED))
		packet->used = false;
	else
		packet->waiting = true;
	return VMB_STATUS_SUCCESS;
}

vmb_status fake_complete_sent(const struct fake_record *r, vmb_status status, const void *reply,
			      u32 len)
{
	struct vmb_packet *p = r ? r->packet : NULL;

	if (!p || !p->used || p->gen != r->gen || !p->waiting)
		return VMB_STATUS_INVALID_PARAMETER;
	p->waiting = false;
	if (p->completion)
		p->completion(p, status, reply, len);
	if (!p->waiting)
		p->used = false; /* unless the routine sent it again */
	return VMB_STATUS_SUCCESS;
}

unsigned fake_waiting(struct vmb_channel *ch)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_MAX_PACKETS; i++)
		n += packets[i].used && packets[i].channel == ch && packets[i].waiting;
	return n;
}

void fake_set_ring(struct vmb_channel *ch, const void *buf, u64 size)
{
	ch->ring = buf;
	ch->ring_size = size;
}

bool vmb_gpadl_mapping_overlaps_ring(struct vmb_channel *channel,
				     const struct vmb_gpadl_mapping *mapping)
{
	if (!mapping_ok(mapping, "gpadl_mapping_overlaps_ring") || !channel->ring)
		return false;
	return mapping->buf < channel->ring + channel->ring_size &&
	       channel->ring < mapping->buf + mapping->size;
}

static vmb_status finish_incoming(struct vmb_packet *packet, const char *what)
{
	if (!packet_ok(packet, what))
		return VMB_STATUS_INVALID_PARAMETER;
	if (!packet->incoming) {
		violation("%s of a packet the VSP allocated", what);
		return VMB_STATUS_INVALID_PARAMETER;
	}
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_packet_complete(struct vmb_packet *packet, const void *reply, u32 len)
{
	vmb_status st = finish_incoming(packet, "complete");

	if (st != VMB_STATUS_SUCCESS)
		return st;
	if (packet->flags & VMB_PACKET_COMPLETION_REQUESTED) {
		if (!take_room())
			return VMB_STATUS_INSUFFICIENT_RESOURCES; /* still in use: complete again */
		record(packet->channel, FAKE_COMPLETION, reply, len, 0);
	}
	packet->used = false;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_packet_fail(struct vmb_packet *packet)
{
	vmb_status st = finish_incoming(packet, "fail");

	if (st != VMB_STATUS_SUCCESS)
		return st;
	record(packet->channel, FAKE_FAILED, NULL, 0, 0);
	packet->used = false;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_channel_packet_defer(struct vmb_packet *packet)
{
	if (!packet_ok(packet, "defer"))
		return VMB_STATUS_INVALID_PARAMETER;
	/* As the library (vmbus/packet.c): only a guest's packet; a restore may ask (netvsp). */
	if (!packet->incoming)
		return VMB_STATUS_INVALID_DEVICE_STATE;
	packet->deferred = true;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_packet_get_external_data(struct vmb_packet *packet, struct vmb_external_data *ext)
{
	if (finish_incoming(packet, "get_external_data") != VMB_STATUS_SUCCESS)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!(packet->flags & VMB_PACKET_EXTERNAL_DATA))
		return VMB_STATUS_INVALID_PARAMETER;
	for (unsigned i = 0; i < packet->ext.nr_ranges; i++) {
		packet->pfns[i] = 0x1000 + i;
		packet->ranges[i] =
		    (struct vmb_gpa_range){packet->ext.len[i], 0, 1, &packet->pfns[i]};
	}
	ext->nr_ranges = packet->ext.nr_ranges;
	ext->ranges = packet->ranges;
	return VMB_STATUS_SUCCESS;
}

/* Writes into guest memory are not kept: the fake's external data is the test's, read-only. */
vmb_status vmb_packet_write_external(struct vmb_packet *packet, u32 range, u32 offset,
				     const void *buf, u32 len)
{
	if (finish_incoming(packet, "write_external") != VMB_STATUS_SUCCESS)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!(packet->flags & VMB_PACKET_EXTERNAL_DATA) || range >= packet->ext.nr_ranges ||
	    !packet->ext.data[range] || offset > packet->ext.len[range] ||
	    len > packet->ext.len[range] - offset)
		return VMB_STATUS_INVALID_PARAMETER;
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_packet_read_external(struct vmb_packet *packet, u32 range, u32 offset, void *buf,
				    u32 len)
{
	if (finish_incoming(packet, "read_external") != VMB_STATUS_SUCCESS)
		return VMB_STATUS_INVALID_PARAMETER;
	if (!(packet->flags & VMB_PACKET_EXTERNAL_DATA) || range >= packet->ext.nr_ranges ||
	    !packet->ext.data[range] || offset > packet->ext.len[range] ||
	    len > packet->ext.len[range] - offset)
		return VMB_STATUS_INVALID_PARAMETER;
	fake_bytes_read += len;
	memcpy(buf, packet->ext.data[range] + offset, len);
	return VMB_STATUS_SUCCESS;
}

vmb_status vmb_packet_restore(struct vmb_packet *packet, const void *lib_buf, u32 lib_buf_size)
{
	struct fake_lib_saved lib;

	if (!packet_ok(packet, "restore"))
		return VMB_STATUS_INVALID_PARAMETER;
	if (lib_buf_size != sizeof(lib))
		return VMB_STATUS_DATA_ERROR;
	memcpy(&lib, lib_buf, sizeof(lib));
	if (lib.magic != FAKE_LIB_MAGIC || (lib.waiting && lib.record >= fake_nr_sent))
		return VMB_STATUS_DATA_ERROR;
	packet->flags = lib.flags;
	if (lib.waiting) {
		/* The test completes it through its old record, which now names this packet. */
		packet->waiting = true;
		fake_sent[lib.record].packet = packet;
		fake_sent[lib.record].gen = packet->gen;
		return VMB_STATUS_SUCCESS;
	}
	packet->incoming = true;
	packet->deferred = true;
	packet->seq = ++next_seq;
	return VMB_STATUS_SUCCESS;
}

/* ---- the guest side ---- */

struct vmb_channel *fake_channel(struct vmb_bus *bus, const struct vmb_guid *type)
{
	for (unsigned i = 0; i < FAKE_MAX_CHANNELS; i++)
		if (channels[i].used && channels[i].bus == bus &&
		    same_guid(&channels[i].type, type))
			return &channels[i];
	return NULL;
}

struct vmb_channel *fake_channel_nth(struct vmb_bus *bus, const struct vmb_guid *type, unsigned n)
{
	for (unsigned i = 0; i < FAKE_MAX_CHANNELS; i++)
		if (channels[i].used && channels[i].bus == bus &&
		    same_guid(&channels[i].type, type) && !n--)
			return &channels[i];
	return NULL;
}

bool fake_enabled(struct vmb_channel *ch)
{
	return ch->enabled;
}

void fake_channel_ids(struct vmb_channel *ch, struct vmb_guid *type, struct vmb_guid *instance)
{
	*type = ch->type;
	*instance = ch->instance;
}

const char *fake_friendly_name(struct vmb_channel *ch)
{
	return ch->name;
}

u32 fake_max_packet(struct vmb_channel *ch)
{
	return ch->max_packet;
}

bool fake_paused(struct vmb_channel *ch)
{
	return ch->paused;
}

bool fake_is_open(struct vmb_channel *ch)
{
	return ch->opened;
}

vmb_status fake_open(struct vmb_channel *ch)
{
	vmb_status st = VMB_STATUS_SUCCESS;

	if (!ch->enabled)
		abort();
	if (ch->cb.opened)
		st = ch->cb.opened(ch);
	if (st != VMB_STATUS_SUCCESS)
		return st;
	ch->opened = true;
	if (ch->cb.started)
		ch->cb.started(ch);
	pump(ch);
	return VMB_STATUS_SUCCESS;
}

void fake_close(struct vmb_channel *ch)
{
	ch->opened = false;
	ch->q_count = 0;
	drop_packets(ch);
	if (ch->cb.closed)
		ch->cb.closed(ch);
}

/* Hand queued guest packets to the VSP while it takes them. */
static void pump(struct vmb_channel *ch)
{
	u32 delivered = 0;

	if (ch->delivering)
		return; /* vmb_channel_start from inside a callback: the outer loop goes on */
	ch->delivering = true;
	while (ch->q_count && ch->opened && !ch->paused) {
		struct fake_guest_packet *g = &ch->queue[ch->q_head];
		struct vmb_packet *p = packet_new(ch);
		unsigned gen;

		if (!p) {
			violation("the VSP holds all %u packets", FAKE_MAX_PACKETS);
			break;
		}
		ch->q_head = (ch->q_head + 1) % FAKE_QUEUE;
		ch->q_count--;
		p->incoming = true;
		p->flags = g->flags;
		p->ext = g->ext;
		p->seq = ++next_seq;
		gen = p->gen;
		memcpy(delivery_buf, g->data, g->len);
		ch->process(ch, p, delivery_buf, g->len, g->flags);
		/* The buffer is valid during the call only: catch a VSP that keeps it. */
		memset(delivery_buf, 0xdd, g->len);
		if (p->used && p->gen == gen && !p->deferred)
			violation(
			    "process_packet returned without completing, failing or deferring");
		delivered++;
	}
	ch->delivering = false;
	if (delivered && ch->processing_complete)
		ch->processing_complete(ch, delivered);
}

void fake_guest_send(struct vmb_channel *ch, const void *data, u32 len, u32 flags,
		     const struct fake_ext *ext)
{
	struct fake_guest_packet *g;

	if (ch->q_count == FAKE_QUEUE || len > FAKE_MAX_DATA)
		abort(); /* the test sent more than the fake holds */
	g = &ch->queue[(ch->q_head + ch->q_count) % FAKE_QUEUE];
	g->len = len;
	g->flags = flags;
	memcpy(g->data, data, len);
	if (ext)
		g->ext = *ext;
	else
		memset(&g->ext, 0, sizeof(g->ext));
	ch->q_count++;
	pump(ch);
}

unsigned fake_guest_queued(struct vmb_channel *ch)
{
	return ch->q_count;
}

unsigned fake_in_use(struct vmb_channel *ch)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_MAX_PACKETS; i++)
		if (packets[i].used && packets[i].channel == ch && packets[i].incoming)
			n++;
	return n;
}

const struct fake_record *fake_record(struct vmb_channel *ch, enum fake_kind kind, unsigned n)
{
	for (unsigned i = 0; i < fake_nr_sent; i++)
		if (fake_sent[i].channel == ch && fake_sent[i].kind == kind && !n--)
			return &fake_sent[i];
	return NULL;
}

unsigned fake_count(struct vmb_channel *ch, enum fake_kind kind)
{
	unsigned n = 0;

	while (fake_record(ch, kind, n))
		n++;
	return n;
}

/* ---- save and restore ---- */

/* In-use guest packets of ch in arrival order. */
static unsigned in_use_sorted(struct vmb_channel *ch, struct vmb_packet **out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FAKE_MAX_PACKETS && n < max; i++) {
		struct vmb_packet *p = &packets[i];
		unsigned j = n++;

		if (!p->used || p->channel != ch || !p->incoming) {
			n--;
			continue;
		}
		while (j && out[j - 1]->seq > p->seq) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = p;
	}
	return n;
}

/* The record of a packet sent and waiting for the guest's completion, or -1. */
static int record_of(const struct vmb_packet *p)
{
	for (unsigned i = fake_nr_sent; i--;)
		if (fake_sent[i].packet == p && fake_sent[i].gen == p->gen)
			return (int)i;
	return -1;
}

/* After the incoming ones, as the library's stream has them: the VSP's sends still waiting. */
static unsigned waiting_in_order(struct vmb_channel *ch, struct vmb_packet **out, unsigned max)
{
	unsigned n = 0;

	for (unsigned r = 0; r < fake_nr_sent && n < max; r++) {
		struct vmb_packet *p = fake_sent[r].packet;

		if (fake_sent[r].channel == ch && p && p->used && p->waiting &&
		    p->gen == fake_sent[r].gen && !p->incoming)
			out[n++] = p;
	}
	return n;
}

int fake_save(struct vmb_channel *ch)
{
	struct vmb_packet *list[FAKE_MAX_SAVED];
	unsigned n = in_use_sorted(ch, list, FAKE_MAX_SAVED);

	n += waiting_in_order(ch, list + n, FAKE_MAX_SAVED - n);
	nr_saved = 0;
	nr_saved_maps = 0;
	for (unsigned i = 0; i < FAKE_MAX_MAPPINGS; i++)
		if (mappings[i].used && mappings[i].channel == ch)
			saved_maps[nr_saved_maps++] = mappings[i].id;
	for (unsigned i = 0; i < n; i++) {
		struct fake_saved *s = &saved[nr_saved++];
		u32 need = 0, again = 0;
		vmb_status st;

		s->lib = (struct fake_lib_saved){.magic = FAKE_LIB_MAGIC, .flags = list[i]->flags};
		if (!list[i]->incoming) {
			s->lib.waiting = 1;
			s->lib.record = (u32)record_of(list[i]);
		}
		s->len = 0;
		if (!ch->save_packet)
			continue;
		st = ch->save_packet(ch, list[i], NULL, 0, &need);
		if (st == VMB_STATUS_SUCCESS && !need)
			continue;
		if (st != VMB_STATUS_BUFFER_TOO_SMALL || need > sizeof(s->vsp))
			return -1;
		st = ch->save_packet(ch, list[i], s->vsp, need, &again);
		if (st != VMB_STATUS_SUCCESS || again > need)
			return -1;
		s->len = again;
	}
	return (int)nr_saved;
}

const void *fake_saved_vsp(unsigned n, u32 *len)
{
	if (n >= nr_saved)
		return NULL;
	*len = saved[n].len;
	return saved[n].vsp;
}

vmb_status fake_check_one(struct vmb_channel *ch, u32 index, const void *vsp, u32 len)
{
	return ch->check_packet ? ch->check_packet(ch, index, vsp, len) : VMB_STATUS_SUCCESS;
}

vmb_status fake_restore_one(struct vmb_channel *ch, const void *vsp, u32 len)
{
	const struct fake_lib_saved lib = {.magic = FAKE_LIB_MAGIC,
					   .flags = VMB_PACKET_COMPLETION_REQUESTED};

	return ch->restore_packet(ch, &lib, sizeof(lib), vsp, len);
}

int fake_restore(struct vmb_channel *ch)
{
	int rc = (int)nr_saved;

	/* As the library does: every packet checked before anything changes. */
	for (unsigned i = 0; i < nr_saved; i++)
		if (fake_check_one(ch, i, saved[i].vsp, saved[i].len) != VMB_STATUS_SUCCESS)
			return -1;
	fake_close(ch);
	/* What the VSP had mapped is gone with the state it belonged to. */
	for (unsigned i = 0; i < FAKE_MAX_MAPPINGS; i++)
		if (mappings[i].used && mappings[i].channel == ch)
			mappings[i].used = false;
	restoring = ch;
	next_saved_map = 0;
	if (fake_open(ch) != VMB_STATUS_SUCCESS)
		rc = -1;
	for (unsigned i = 0; rc >= 0 && i < nr_saved; i++) {
		if (!ch->restore_packet ||
		    ch->restore_packet(ch, &saved[i].lib, sizeof(saved[i].lib), saved[i].vsp,
				       saved[i].len) != VMB_STATUS_SUCCESS)
			rc = -1;
	}
	restoring = NULL;
	return rc;
}
