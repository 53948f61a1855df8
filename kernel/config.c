/*
 * bulkhead.cfg parser: turns the INI-style text into struct cfg, or into one
 * "FILE:LINE: KEY: what is wrong" line (format: docs/architecture.md, "Interfaces users
 * and tests rely on", "Configuration"). Pure logic, no allocation, no I/O.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SECTION_WORD   "partition"
#define CFG_MEMORY_MAX (64ull << 30) /* more than any machine we boot on */
#define CFG_ENTRY_MAX  0xfffffull    /* real mode: CS = entry >> 4 must fit 16 bits */
#define SIZE_ALIGN     PAGE_SIZE
#define KIB_SHIFT      10
#define MIB_SHIFT      20
#define GIB_SHIFT      30
#define QUOTE_MAX      40 /* characters of a value quoted in a message */
#define QUOTE_BUF      (QUOTE_MAX + sizeof("..."))
#define DECIMAL	       10
#define HEX	       16

enum cfg_key {
	KEY_MEMORY,
	KEY_IMAGE,
	KEY_LOAD,
	KEY_ENTRY,
	KEY_KERNEL,
	KEY_INITRD,
	KEY_CMDLINE,
	KEY_DEVICE_MEMORY,
	NR_KEYS
};

enum num_status { NUM_OK, NUM_SYNTAX, NUM_OVERFLOW };
enum size_status { SIZE_OK, SIZE_SYNTAX, SIZE_ZERO, SIZE_UNALIGNED, SIZE_TOO_BIG };

struct parser {
	const char *file;
	char *err;
	size_t errlen;
	unsigned line;
	struct cfg *out;
	struct cfg_partition *cur;  /* the partition section we are in, or NULL */
	struct cfg_section *sec;    /* the extension section we are in, or NULL */
	unsigned key_line[NR_KEYS]; /* where each key of cur was set; 0: not yet */
};

typedef int (*key_setter)(struct parser *p, const char *key, const char *v, size_t len);

/* ---- characters and spans ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r'; /* '\r': CRLF files */
}

static bool is_print(char c)
{
	return (u8)c >= ' ' && (u8)c < 0x7f;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
}

static bool is_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
	       c == '_' || c == '/' || c == '-';
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

static bool span_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(s, word, len);
}

static bool valid_name(const char *s, size_t len, size_t max)
{
	if (!len || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

static void copy_span(char *dst, const char *s, size_t len)
{
	memcpy(dst, s, len);
	dst[len] = 0;
}

/* ---- messages ---- */

/* A value fit to quote: control and non-ASCII bytes as '?', long ones cut. */
static const char *quote(char buf[QUOTE_BUF], const char *s, size_t len)
{
	size_t n = MIN(len, QUOTE_MAX);

	for (size_t i = 0; i < n; i++)
		buf[i] = is_print(s[i]) ? s[i] : '?';
	if (len > QUOTE_MAX)
		memcpy(buf + n, "...", sizeof("..."));
	else
		buf[n] = 0;
	return buf;
}

__attribute__((format(printf, 4, 5))) static int fail(const struct parser *p, unsigned line,
						      const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%u: %s: ", p->file, line, key);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- numbers and sizes ---- */

static int digit_value(char c)
{
	c = to_lower(c);
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The longest decimal or 0x-hex number at the start of s; *used says how long. */
static enum num_status scan_number(const char *s, size_t len, u64 *out, size_t *used)
{
	unsigned base = DECIMAL;
	size_t i = 0, first;
	u64 v = 0;
	int d;

	if (len > 2 && s[0] == '0' && to_lower(s[1]) == 'x') {
		base = HEX;
		i = 2;
	}
	first = i;
	for (; i < len && (d = digit_value(s[i])) >= 0 && (unsigned)d < base; i++) {
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return NUM_OVERFLOW;
		v = v * base + (unsigned)d;
	}
	if (i == first)
		return NUM_SYNTAX;
	*out = v;
	*used = i;
	return NUM_OK;
}

static enum num_status parse_number(const char *s, size_t len, u64 *out)
{
	size_t used;
	u64 v;
	enum num_status st = scan_number(s, len, &v, &used);

	if (st != NUM_OK)
		return st;
	if (used != len)
		return NUM_SYNTAX;
	*out = v;
	return NUM_OK;
}

static int suffix_shift(char c)
{
	switch (to_lower(c)) {
	case 'k':
		return KIB_SHIFT;
	case 'm':
		return MIB_SHIFT;
	case 'g':
		return GIB_SHIFT;
	}
	return -1;
}

static enum size_status parse_size(const char *s, size_t len, u64 *out)
{
	size_t used;
	u64 v;
	int shift = 0;

	switch (scan_number(s, len, &v, &used)) {
	case NUM_SYNTAX:
		return SIZE_SYNTAX;
	case NUM_OVERFLOW:
		return SIZE_TOO_BIG;
	case NUM_OK:
		break;
	}
	if (used + 1 == len)
		shift = suffix_shift(s[used]);
	else if (used != len)
		return SIZE_SYNTAX;
	if (shift < 0)
		return SIZE_SYNTAX;
	if (!v)
		return SIZE_ZERO;
	if (v > CFG_MEMORY_MAX >> shift)
		return SIZE_TOO_BIG;
	v <<= shift;
	if (!IS_ALIGNED(v, SIZE_ALIGN))
		return SIZE_UNALIGNED;
	*out = v;
	return SIZE_OK;
}

int cfg_parse_size(const char *s, u64 *out)
{
	u64 v;

	if (!s || parse_size(s, strlen(s), &v) != SIZE_OK)
		return -1;
	*out = v;
	return 0;
}

/* ---- values of keys ---- */

static int set_size(struct parser *p, const char *key, const char *v, size_t len, u64 *out)
{
	char q[QUOTE_BUF];

	switch (parse_size(v, len, out)) {
	case SIZE_OK:
		if (p->cur->memory <= CFG_RAM_END)
			return 0;
		/* fall through */
	case SIZE_TOO_BIG:
		return fail(p, p->line, key,
			    "'%s' is more than %lluM (guest RAM must end below the I/O APIC at "
			    "0x%llx)",
			    quote(q, v, len), CFG_RAM_END >> 20, CFG_RAM_END);
	case SIZE_SYNTAX:
		break;
	case SIZE_ZERO:
		return fail(p, p->line, key, "'%s' is zero", quote(q, v, len));
	case SIZE_UNALIGNED:
		return fail(p, p->line, key, "'%s' is not a multiple of 4K", quote(q, v, len));
	}
	return fail(p, p->line, key, "'%s' is not a size (K/M/G suffix, multiple of 4K)",
		    quote(q, v, len));
}

static int set_memory(struct parser *p, const char *key, const char *v, size_t len)
{
	return set_size(p, key, v, len, &p->cur->memory);
}

static int set_device_memory(struct parser *p, const char *key, const char *v, size_t len)
{
	return set_size(p, key, v, len, &p->cur->device_memory);
}

static int set_number(struct parser *p, const char *key, const char *v, size_t len, u64 *out)
{
	char q[QUOTE_BUF];

	switch (parse_number(v, len, out)) {
	case NUM_OK:
		return 0;
	case NUM_OVERFLOW:
		return fail(p, p->line, key, "'%s' does not fit in 64 bits", quote(q, v, len));
	case NUM_SYNTAX:
		break;
	}
	return fail(p, p->line, key, "'%s' is not a number (decimal or 0x hex)", quote(q, v, len));
}

static int set_load(struct parser *p, const char *key, const char *v, size_t len)
{
	return set_number(p, key, v, len, &p->cur->load);
}

static int set_entry(struct parser *p, const char *key, const char *v, size_t len)
{
	char q[QUOTE_BUF];

	if (set_number(p, key, v, len, &p->cur->entry))
		return -1;
	if (p->cur->entry > CFG_ENTRY_MAX)
		return fail(p, p->line, key, "'%s' is above 0xfffff, out of real mode's reach",
			    quote(q, v, len));
	p->cur->has_entry = true;
	return 0;
}

/* Relative to the config file: no leading '/', no empty or ".." component. */
static bool path_is_relative(const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		if (i == start || span_is(s + start, i - start, ".."))
			return false;
		start = i + 1;
	}
	return true;
}

static int set_path(struct parser *p, const char *key, const char *v, size_t len,
		    struct cfg_path *out)
{
	char q[QUOTE_BUF];

	if (!len)
		return fail(p, p->line, key, "needs a file name");
	if (len > CFG_PATH_MAX)
		return fail(p, p->line, key, "'%s' is longer than %d characters", quote(q, v, len),
			    CFG_PATH_MAX);
	for (size_t i = 0; i < len; i++)
		if (!is_path_char(v[i]))
			return fail(p, p->line, key, "'%s' has a character outside [A-Za-z0-9._/-]",
				    quote(q, v, len));
	if (!path_is_relative(v, len))
		return fail(p, p->line, key,
			    "'%s' is not a path relative to the config file (no '..', no '//')",
			    quote(q, v, len));
	copy_span(out->path, v, len);
	out->line = p->line;
	return 0;
}

static int set_image(struct parser *p, const char *key, const char *v, size_t len)
{
	return set_path(p, key, v, len, &p->cur->image);
}

static int set_kernel(struct parser *p, const char *key, const char *v, size_t len)
{
	return set_path(p, key, v, len, &p->cur->kernel);
}

static int set_initrd(struct parser *p, const char *key, const char *v, size_t len)
{
	return set_path(p, key, v, len, &p->cur->initrd);
}

static int set_cmdline(struct parser *p, const char *key, const char *v, size_t len)
{
	char q[QUOTE_BUF];

	if (len > CFG_CMDLINE_MAX)
		return fail(p, p->line, key, "'%s' is longer than %d characters", quote(q, v, len),
			    CFG_CMDLINE_MAX);
	for (size_t i = 0; i < len; i++)
		if (!is_print(v[i]) && v[i] != '\t')
			return fail(p, p->line, key, "'%s' has a control or non-ASCII character",
				    quote(q, v, len));
	copy_span(p->cur->cmdline, v, len);
	return 0;
}

/* ---- keys extensions declared (CFG_KEY) ---- */

static const struct cfg_key_decl *find_declared(const char *word, const char *s, size_t len)
{
	for (const struct cfg_key_decl *d = __start_cfg_keys; d < __stop_cfg_keys; d++)
		if (!(d->k.flags & CFG_KEY_BUILTIN) && !strcmp(d->k.section, word) &&
		    span_is(s, len, d->k.name))
			return d;
	return NULL;
}

/* Is `word` the section word of some declared key? */
static bool declared_section(const char *s, size_t len)
{
	for (const struct cfg_key_decl *d = __start_cfg_keys; d < __stop_cfg_keys; d++)
		if (!(d->k.flags & CFG_KEY_BUILTIN) && strcmp(d->k.section, SECTION_WORD) &&
		    span_is(s, len, d->k.section))
			return true;
	return false;
}

const struct cfg_value *cfg_get(const struct cfg_values *vs, const char *key)
{
	for (unsigned i = 0; i < vs->nr; i++)
		if (!strcmp(vs->v[i].key->k.name, key))
			return &vs->v[i];
	return NULL;
}

/* A list of names split at commas, each trimmed: every one valid, none twice. */
static int set_list(struct parser *p, const char *key, const struct cfg_key_decl *d,
		    struct cfg_value *out, const char *v, size_t len)
{
	const char *s = v, *end = v + len;
	char q[QUOTE_BUF];

	if (!len)
		return fail(p, p->line, key, "needs a list of %s names, such as '%s'", d->noun,
			    d->example);
	for (;;) {
		const char *comma = memchr(s, ',', end - s);
		const char *ns = s, *ne = comma ? comma : end;

		trim(&ns, &ne);
		if (ns == ne)
			return fail(p, p->line, key, "'%s' has an empty %s name", quote(q, v, len),
				    d->noun);
		if (!valid_name(ns, ne - ns, CFG_ITEM_MAX))
			return fail(p, p->line, key, "'%s' is not a %s name (1-%d of [a-z0-9_-])",
				    quote(q, ns, ne - ns), d->noun, CFG_ITEM_MAX);
		for (unsigned i = 0; i < out->nr_items; i++)
			if (span_is(ns, ne - ns, out->items[i]))
				return fail(p, p->line, key, "'%s' is listed twice",
					    quote(q, ns, ne - ns));
		if (out->nr_items == CFG_LIST_MAX)
			return fail(p, p->line, key, "'%s' names more than %d %ss",
				    quote(q, v, len), CFG_LIST_MAX, d->noun);
		copy_span(out->items[out->nr_items++], ns, ne - ns);
		if (!comma)
			break;
		s = comma + 1;
	}
	return 0;
}

/* A declared key in the section [word name], whose values are vs. */
static int set_declared(struct parser *p, struct cfg_values *vs, const char *word, const char *name,
			const char *ks, size_t klen, const char *v, size_t len)
{
	const struct cfg_key_decl *d = find_declared(word, ks, klen);
	struct cfg_value *out;
	char q[QUOTE_BUF], why[CFG_ERR_MAX];
	const char *key;

	if (!d)
		return fail(p, p->line, quote(q, ks, klen), "unknown key");
	key = d->k.name;
	for (unsigned i = 0; i < vs->nr; i++)
		if (vs->v[i].key == d)
			return fail(p, p->line, key, "set twice in [%s %s] (first on line %u)",
				    word, name, vs->v[i].line);
	if (vs->nr == CFG_MAX_VALUES)
		return fail(p, p->line, key, "one key more than the %d [%s %s] may have",
			    CFG_MAX_VALUES, word, name);
	if (len > CFG_VALUE_MAX)
		return fail(p, p->line, key, "'%s' is longer than %d characters", quote(q, v, len),
			    CFG_VALUE_MAX);
	for (size_t i = 0; i < len; i++)
		if (!is_print(v[i]) && v[i] != '\t')
			return fail(p, p->line, key, "'%s' has a control or non-ASCII character",
				    quote(q, v, len));
	out = &vs->v[vs->nr];
	memset(out, 0, sizeof(*out));
	out->key = d;
	out->line = p->line;
	copy_span(out->text, v, len);
	if (d->k.flags & BOOT_CFG_KEY_FILE) {
		struct cfg_path path;

		if (set_path(p, key, v, len, &path))
			return -1;
	} else if (d->k.flags & CFG_KEY_LIST) {
		if (set_list(p, key, d, out, v, len))
			return -1;
	}
	why[0] = 0;
	if (d->check && d->check(out, why, sizeof(why)))
		return fail(p, p->line, key, "%s", why[0] ? why : "not a valid value");
	vs->nr++;
	return 0;
}

static const struct {
	const char *name;
	key_setter set;
} builtin_keys[NR_KEYS] = {
    [KEY_MEMORY] = {"memory", set_memory},    /* guest RAM from GPA 0 */
    [KEY_IMAGE] = {"image", set_image},	      /* flat binary ... */
    [KEY_LOAD] = {"load", set_load},	      /* ... loaded here */
    [KEY_ENTRY] = {"entry", set_entry},	      /* real-mode start; else reset vector */
    [KEY_KERNEL] = {"kernel", set_kernel},    /* Linux vmlinux through PVH ... */
    [KEY_INITRD] = {"initrd", set_initrd},    /* ... its initramfs ... */
    [KEY_CMDLINE] = {"cmdline", set_cmdline}, /* ... and its command line */
    /* What the hypervisor may allocate on the partition's behalf (kernel/pool.h). */
    [KEY_DEVICE_MEMORY] = {"device_memory", set_device_memory},
};

/* The partition's keys that name files, declared for the loader (kernel/boot_info.h). */
CFG_KEY(image_key) = {
    .k = CFG_KEY_HEAD(BOOT_CFG_KEY_FILE | CFG_KEY_BUILTIN, SECTION_WORD, "image")};
CFG_KEY(kernel_key) = {
    .k = CFG_KEY_HEAD(BOOT_CFG_KEY_FILE | CFG_KEY_BUILTIN, SECTION_WORD, "kernel")};
CFG_KEY(initrd_key) = {
    .k = CFG_KEY_HEAD(BOOT_CFG_KEY_FILE | CFG_KEY_BUILTIN, SECTION_WORD, "initrd")};

static int find_key(const char *s, size_t len)
{
	for (int k = 0; k < NR_KEYS; k++)
		if (span_is(s, len, builtin_keys[k].name))
			return k;
	return -1;
}

/* ---- sections ---- */

/* A key that only goes with another one ("initrd" with "kernel"). */
static int check_needs(const struct parser *p, enum cfg_key key, enum cfg_key needs)
{
	const struct cfg_partition *c = p->cur;

	if (!p->key_line[key] || p->key_line[needs])
		return 0;
	return fail(p, c->line, SECTION_WORD, "'%s': %s (line %u) goes only with %s = FILE",
		    c->name, builtin_keys[key].name, p->key_line[key], builtin_keys[needs].name);
}

/* Checks that need the whole section; reported at its header line. */
static int finish_partition(struct parser *p)
{
	const struct cfg_partition *c = p->cur;
	const unsigned *kl = p->key_line;

	p->sec = NULL;
	if (!c)
		return 0;
	if (!kl[KEY_MEMORY])
		return fail(p, c->line, SECTION_WORD, "'%s' has no memory = SIZE", c->name);
	if (!kl[KEY_DEVICE_MEMORY])
		p->cur->device_memory = CFG_DEVICE_MEMORY_DEFAULT;
	if (kl[KEY_IMAGE] && kl[KEY_KERNEL])
		return fail(p, c->line, SECTION_WORD,
			    "'%s' has both image (line %u) and kernel (line %u); choose one",
			    c->name, kl[KEY_IMAGE], kl[KEY_KERNEL]);
	if (!kl[KEY_IMAGE] && !kl[KEY_KERNEL])
		return fail(p, c->line, SECTION_WORD, "'%s' needs image = FILE or kernel = FILE",
			    c->name);
	if (check_needs(p, KEY_INITRD, KEY_KERNEL) || check_needs(p, KEY_CMDLINE, KEY_KERNEL) ||
	    check_needs(p, KEY_LOAD, KEY_IMAGE) || check_needs(p, KEY_ENTRY, KEY_IMAGE))
		return -1;
	p->cur = NULL;
	return 0;
}

static int start_partition(struct parser *p, const char *name, size_t len)
{
	struct cfg *out = p->out;
	char q[QUOTE_BUF];

	if (!valid_name(name, len, CFG_NAME_MAX))
		return fail(p, p->line, SECTION_WORD, "name '%s' is not 1-%d of [a-z0-9_-]",
			    quote(q, name, len), CFG_NAME_MAX);
	for (unsigned i = 0; i < out->nr; i++)
		if (span_is(name, len, out->part[i].name))
			return fail(p, p->line, SECTION_WORD,
				    "name '%s' is already used on line %u", quote(q, name, len),
				    out->part[i].line);
	if (out->nr == CFG_MAX_PARTITIONS)
		return fail(p, p->line, SECTION_WORD, "'%s' is one more than the %d allowed",
			    quote(q, name, len), CFG_MAX_PARTITIONS);
	p->cur = &out->part[out->nr++];
	copy_span(p->cur->name, name, len);
	p->cur->line = p->line;
	memset(p->key_line, 0, sizeof(p->key_line));
	return 0;
}

/* "[WORD NAME]" of a section an extension declared keys for. */
static int start_section(struct parser *p, const char *word, size_t word_len, const char *name,
			 size_t len)
{
	struct cfg *out = p->out;
	char w[BOOT_CFG_WORD_MAX + 1], q[QUOTE_BUF];

	copy_span(w, word, word_len);
	if (!valid_name(name, len, CFG_NAME_MAX))
		return fail(p, p->line, w, "name '%s' is not 1-%d of [a-z0-9_-]",
			    quote(q, name, len), CFG_NAME_MAX);
	for (unsigned i = 0; i < out->nr_sections; i++)
		if (!strcmp(out->sections[i].word, w) && span_is(name, len, out->sections[i].name))
			return fail(p, p->line, w, "name '%s' is already used on line %u",
				    quote(q, name, len), out->sections[i].line);
	if (out->nr_sections == CFG_MAX_SECTIONS)
		return fail(p, p->line, w, "'%s' is one more than the %d sections allowed",
			    quote(q, name, len), CFG_MAX_SECTIONS);
	p->sec = &out->sections[out->nr_sections++];
	snprintf(p->sec->word, sizeof(p->sec->word), "%s", w);
	copy_span(p->sec->name, name, len);
	p->sec->line = p->line;
	return 0;
}

/* "[partition NAME]" or "[WORD NAME]", blanks allowed around either word. */
static int parse_section(struct parser *p, const char *s, const char *e)
{
	const char *w = s + 1, *we = e - 1, *n;
	char q[QUOTE_BUF];

	if (finish_partition(p))
		return -1;
	if (e - s < 2 || e[-1] != ']')
		goto bad;
	trim(&w, &we);
	for (n = w; n < we && !is_blank(*n);)
		n++;
	if (n == we)
		goto bad;
	if (span_is(w, n - w, SECTION_WORD)) {
		trim(&n, &we);
		return start_partition(p, n, we - n);
	}
	if (n - w <= BOOT_CFG_WORD_MAX && declared_section(w, n - w)) {
		const char *word = w;
		size_t word_len = n - w;

		trim(&n, &we);
		return start_section(p, word, word_len, n, we - n);
	}
bad:
	return fail(p, p->line, "section", "expected [partition NAME], not '%s'",
		    quote(q, s, e - s));
}

/* "key = value" inside a section. */
static int parse_assignment(struct parser *p, const char *s, const char *e)
{
	const char *eq = memchr(s, '=', e - s);
	const char *ks = s, *ke = eq, *vs, *ve = e;
	char q[QUOTE_BUF];
	int k;

	if (!eq)
		return fail(p, p->line, "syntax",
			    "'%s' is neither KEY = VALUE nor [partition NAME]", quote(q, s, e - s));
	vs = eq + 1;
	trim(&ks, &ke);
	trim(&vs, &ve);
	if (ks == ke)
		return fail(p, p->line, "syntax", "'%s' has no key before '='", quote(q, s, e - s));
	if (p->sec)
		return set_declared(p, &p->sec->values, p->sec->word, p->sec->name, ks, ke - ks, vs,
				    ve - vs);
	k = find_key(ks, ke - ks);
	if (k < 0 && p->cur)
		return set_declared(p, &p->cur->values, SECTION_WORD, p->cur->name, ks, ke - ks, vs,
				    ve - vs);
	if (k < 0 && !find_declared(SECTION_WORD, ks, ke - ks))
		return fail(p, p->line, quote(q, ks, ke - ks), "unknown key");
	if (!p->cur)
		return fail(p, p->line, k < 0 ? quote(q, ks, ke - ks) : builtin_keys[k].name,
			    "comes before any [partition NAME]");
	if (p->key_line[k])
		return fail(p, p->line, builtin_keys[k].name,
			    "set twice in [partition %s] (first on line %u)", p->cur->name,
			    p->key_line[k]);
	p->key_line[k] = p->line;
	return builtin_keys[k].set(p, builtin_keys[k].name, vs, ve - vs);
}

static int parse_line(struct parser *p, const char *s, size_t len)
{
	const char *hash, *e;

	if (memchr(s, 0, len))
		return fail(p, p->line, "text", "NUL byte in the file (not a text file?)");
	hash = memchr(s, '#', len);
	e = hash ? hash : s + len;
	trim(&s, &e);
	if (s == e)
		return 0;
	if (*s == '[')
		return parse_section(p, s, e);
	return parse_assignment(p, s, e);
}

int cfg_parse(const char *text, size_t len, const char *file, struct cfg *out, char *err,
	      size_t errlen)
{
	struct parser p = {
	    .file = file ? file : "bulkhead.cfg", .err = err, .errlen = errlen, .out = out};
	size_t pos = 0;

	if (err && errlen)
		err[0] = 0;
	if (!out)
		return fail(&p, 0, "config", "nowhere to put the result");
	memset(out, 0, sizeof(*out));
	if (!text)
		len = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (parse_line(&p, text + pos, n))
			return -1;
		pos += n + 1;
	}
	if (finish_partition(&p))
		return -1;
	if (!out->nr)
		return fail(&p, 1, "section", "no [partition NAME] section");
	return 0;
}
