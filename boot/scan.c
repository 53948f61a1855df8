/*
 * Lines are `key = value` or a `[WORD NAME]` section header; `#` starts a
 * comment anywhere on a line; keys and values are trimmed of blanks
 * (docs/architecture.md, "Configuration"). A key names a file when the
 * image declares it so (BOOT_CFG_KEY_FILE) for the section word it is in.
 */
#include "boot/scan.h"

struct scan {
	const u8 *keys;
	u64 keys_len;
	char word[BOOT_CFG_WORD_MAX]; /* of the section we are in; none before any */
	size_t word_len;
	scan_found_fn found;
	void *ctx;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

/* No libc in the loader: a span matches a field of `max` bytes, NUL-terminated in it. */
static bool span_is_field(const char *s, size_t len, const char *field, size_t max)
{
	size_t i;

	for (i = 0; i < len && i < max && field[i]; i++)
		if (s[i] != field[i])
			return false;
	return i == len && i < max && !field[i];
}

static bool is_file_key(const struct scan *sc, const char *key, size_t len)
{
	for (u64 at = 0; at + sizeof(struct boot_cfg_key) <= sc->keys_len;
	     at += BOOT_CFG_KEY_SIZE) {
		struct boot_cfg_key k;

		__builtin_memcpy(&k, sc->keys + at, sizeof(k));
		if (k.magic != BOOT_CFG_KEY_MAGIC || !(k.flags & BOOT_CFG_KEY_FILE))
			continue;
		if (span_is_field(key, len, k.name, sizeof(k.name)) &&
		    span_is_field(sc->word, sc->word_len, k.section, sizeof(k.section)))
			return true;
	}
	return false;
}

/* "[WORD NAME]": remember WORD ("" when it is too long to be declared). */
static void scan_section(struct scan *sc, const char *s, const char *e)
{
	size_t n = 0;

	for (s++; s < e && is_blank(*s); s++)
		;
	while (s + n < e && !is_blank(s[n]) && s[n] != ']')
		n++;
	if (n > BOOT_CFG_WORD_MAX)
		n = 0;
	for (size_t i = 0; i < n; i++)
		sc->word[i] = s[i];
	sc->word_len = n;
}

static void scan_line(struct scan *sc, const char *s, const char *e)
{
	const char *eq, *key, *key_end, *val, *val_end = e;

	for (const char *p = s; p < e; p++) {
		if (*p == '#') {
			val_end = p;
			break;
		}
	}
	trim(&s, &val_end);
	if (s < val_end && *s == '[') {
		scan_section(sc, s, val_end);
		return;
	}
	for (eq = s; eq < val_end && *eq != '='; eq++)
		;
	if (eq == val_end)
		return;
	key = s;
	key_end = eq;
	val = eq + 1;
	trim(&key, &key_end);
	trim(&val, &val_end);
	if (val < val_end && is_file_key(sc, key, key_end - key))
		sc->found(sc->ctx, val, val_end - val);
}

void scan_config_files(const char *text, size_t len, const void *keys, u64 keys_len,
		       scan_found_fn found, void *ctx)
{
	struct scan sc = {.keys = keys, .keys_len = keys_len, .found = found, .ctx = ctx};
	const char *end = text + len;

	while (text < end) {
		const char *nl = text;

		while (nl < end && *nl != '\n')
			nl++;
		scan_line(&sc, text, nl);
		if (nl == end)
			break;
		text = nl + 1;
	}
}
