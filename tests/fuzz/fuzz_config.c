/* libFuzzer: the bulkhead.cfg parser (kernel/config.c) on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "kernel/config.h"

#define FUZZ_FILE "fuzz.cfg"

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static bool is_terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static bool valid_name(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (!len || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

static void check_path(const struct cfg_path *p)
{
	check(is_terminated(p->path, sizeof(p->path)));
	check(!p->path[0] || p->line);
	check(!strchr(p->path, ' ') && p->path[0] != '/' && !strstr(p->path, "//"));
}

static void check_values(const struct cfg_values *vs)
{
	check(vs->nr <= CFG_MAX_VALUES);
	for (unsigned i = 0; i < vs->nr; i++) {
		const struct cfg_value *v = &vs->v[i];

		check(v->key && v->line && is_terminated(v->text, sizeof(v->text)));
		for (unsigned j = 0; j < i; j++)
			check(vs->v[j].key != v->key);
		check(v->nr_items <= CFG_LIST_MAX);
		check(!v->nr_items || (v->key->k.flags & CFG_KEY_LIST));
		for (unsigned n = 0; n < v->nr_items; n++) {
			check(is_terminated(v->items[n], sizeof(v->items[n])));
			check(valid_name(v->items[n], CFG_ITEM_MAX));
			for (unsigned m = 0; m < n; m++)
				check(strcmp(v->items[m], v->items[n]) != 0);
		}
	}
}

static void check_partition(const struct cfg *c, unsigned i)
{
	const struct cfg_partition *p = &c->part[i];

	check(is_terminated(p->name, sizeof(p->name)) && valid_name(p->name, CFG_NAME_MAX));
	for (unsigned j = 0; j < i; j++)
		check(strcmp(c->part[j].name, p->name) != 0);
	check(p->line > 0);
	check(p->memory && p->memory % 4096 == 0);
	check_path(&p->image);
	check_path(&p->kernel);
	check_path(&p->initrd);
	check(!p->image.path[0] != !p->kernel.path[0]); /* exactly one of them */
	check(p->kernel.path[0] || (!p->initrd.path[0] && !p->cmdline[0]));
	check(p->image.path[0] || (!p->load && !p->has_entry));
	check(!p->has_entry || p->entry <= 0xfffff);
	check(is_terminated(p->cmdline, sizeof(p->cmdline)));
	check_values(&p->values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg cfg;
	char err[CFG_ERR_MAX];

	memset(err, 'E', sizeof(err));
	if (cfg_parse((const char *)data, size, FUZZ_FILE, &cfg, err, sizeof(err))) {
		check(is_terminated(err, sizeof(err)));
		check(err[0] && !strchr(err, '\n') && !strncmp(err, FUZZ_FILE ":", 9));
		for (const char *s = err; *s; s++)
			check((unsigned char)*s >= ' ' && (unsigned char)*s < 0x7f);
		return 0;
	}
	check(cfg.nr >= 1 && cfg.nr <= CFG_MAX_PARTITIONS);
	for (unsigned i = 0; i < cfg.nr; i++)
		check_partition(&cfg, i);
	check(cfg.nr_sections <= CFG_MAX_SECTIONS);
	for (unsigned i = 0; i < cfg.nr_sections; i++) {
		check(valid_name(cfg.sections[i].name, CFG_NAME_MAX));
		check_values(&cfg.sections[i].values);
	}
	return 0;
}
