/*
 * Lines are `key = value`; `#` starts a comment anywhere on a line; keys and
 * values are trimmed of blanks (DESIGN.md, "Configuration").
 */
#include "boot/scan.h"

static const char *const scan_file_keys[] = {"image", "kernel", "initrd"};

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

/* No libc in the loader: a key matches a NUL-terminated word exactly. */
static bool key_is(const char *key, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len && word[i]; i++)
		if (key[i] != word[i])
			return false;
	return i == len && !word[i];
}

static bool is_file_key(const char *key, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(scan_file_keys); i++)
		if (key_is(key, len, scan_file_keys[i]))
			return true;
	return false;
}

static void scan_line(const char *s, const char *e, scan_found_fn found, void *ctx)
{
	const char *eq, *key = s, *key_end, *val, *val_end = e;

	for (const char *p = s; p < e; p++) {
		if (*p == '#') {
			val_end = p;
			break;
		}
	}
	for (eq = s; eq < val_end && *eq != '='; eq++)
		;
	if (eq == val_end)
		return;
	key_end = eq;
	val = eq + 1;
	trim(&key, &key_end);
	trim(&val, &val_end);
	if (val < val_end && is_file_key(key, key_end - key))
		found(ctx, val, val_end - val);
}

void scan_config_files(const char *text, size_t len, scan_found_fn found, void *ctx)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = text;

		while (nl < end && *nl != '\n')
			nl++;
		scan_line(text, nl, found, ctx);
		if (nl == end)
			break;
		text = nl + 1;
	}
}
