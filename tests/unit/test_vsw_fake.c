/* The door's hypervisor-wide part, faked for the virtual switch's tests (test_vsw_fake.h). */
#include "tests/unit/test_vsw_fake.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct vsp_command __start_vsp_cmds[] __attribute__((weak));
extern const struct vsp_command __stop_vsp_cmds[] __attribute__((weak));

u64 fake_now_ns;
char fake_console[16384];
static struct cfg cfg;

u64 vsp_now_ns(void)
{
	return fake_now_ns;
}

void vsp_printf(const char *fmt, ...)
{
	size_t at = strlen(fake_console);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake_console + at, sizeof(fake_console) - at, fmt, ap);
	va_end(ap);
}

void fake_console_clear(void)
{
	fake_console[0] = 0;
}

const char *vsp_section_name(const char *word, unsigned i)
{
	for (unsigned k = 0; k < cfg.nr_sections; k++)
		if (!strcmp(cfg.sections[k].word, word) && !i--)
			return cfg.sections[k].name;
	return NULL;
}

const struct cfg_value *vsp_section_value(const char *word, const char *name, const char *key)
{
	for (unsigned k = 0; k < cfg.nr_sections; k++)
		if (!strcmp(cfg.sections[k].word, word) && !strcmp(cfg.sections[k].name, name))
			return cfg_get(&cfg.sections[k].values, key);
	return NULL;
}

int fake_boot(const char *text, char *err, size_t errlen)
{
	vsw_reset_all();
	memset(&cfg, 0, sizeof(cfg));
	if (cfg_parse(text, strlen(text), "bulkhead.cfg", &cfg, err, errlen))
		return -1;
	return vsw_boot(err, errlen);
}

const char *fake_command(const char *line)
{
	char buf[256], *argv[8];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	fake_console[0] = 0;
	for (const struct vsp_command *c = __start_vsp_cmds; argc && c < __stop_vsp_cmds; c++) {
		if (strcmp(c->name, argv[0]))
			continue;
		if (!c->global || argc < 2 || argc - 1 > c->max_args)
			vsp_printf("error: usage: %s\n", c->usage);
		else
			c->fn(NULL, argc, argv);
		return fake_console;
	}
	vsp_printf("no such command\n");
	return fake_console;
}

/* ---- fake NICs ---- */

struct fake_block {
	struct fake_nic *nic;
	size_t size;
	max_align_t data[];
};

static void *nic_alloc(void *ctx, size_t size)
{
	struct fake_nic *n = ctx;
	struct fake_block *b;

	if (n->held + size > n->budget)
		return NULL;
	b = calloc(1, sizeof(*b) + size);
	if (!b)
		return NULL;
	b->nic = n;
	b->size = size;
	n->held += size;
	n->allocs++;
	return b->data;
}

static void nic_free(void *ctx, void *ptr)
{
	struct fake_block *b = (struct fake_block *)((u8 *)ptr - offsetof(struct fake_block, data));
	struct fake_nic *n = ctx;

	if (b->nic != n)
		abort(); /* freed through another partition's endpoint */
	n->held -= b->size;
	free(b);
}

static void nic_kick(void *ctx)
{
	((struct fake_nic *)ctx)->kicks++;
}

int fake_nic_try_attach(struct fake_nic *n, const char *sw, const char *partition, u32 nic,
			const u8 mac[6], size_t budget, char *err, size_t errlen)
{
	struct vsw_port_info info = {.partition = partition, .nic = nic, .link_up = true};
	struct vsw_endpoint ep = {n, nic_alloc, nic_free, nic_kick};

	memset(n, 0, sizeof(*n));
	n->budget = budget;
	memcpy(info.mac, mac, 6);
	return vsw_port_attach(sw, &info, &ep, &n->port, err, errlen);
}

void fake_nic_attach(struct fake_nic *n, const char *sw, const char *partition, u32 nic,
		     const u8 mac[6], size_t budget)
{
	char err[CFG_ERR_MAX];

	if (fake_nic_try_attach(n, sw, partition, nic, mac, budget, err, sizeof(err))) {
		fprintf(stderr, "attach: %s\n", err);
		abort();
	}
}
