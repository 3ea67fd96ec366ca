/* value.c: what every layer does with a value: copy it, read a data
 * string as a number, and write it as text, as JSON or as a script would.
 *
 * The ownership rule the copies serve is written once, in value.h.  A
 * copy is one allocation: the list items first, then the strings, so
 * that a list of strings kept by a customer costs one malloc and one free.
 */
#include "value.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "timeutil.h"

/* Lists hold struct val: what follows a string stays aligned for them. */
static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

size_t val_copy_size(const struct val *v)
{
	if (v->kind == V_STR)
		return align8((size_t)v->len + 1);
	if (v->kind != V_LIST)
		return 0;
	size_t n = sizeof(struct val) * v->len;
	for (uint32_t i = 0; i < v->len; i++)
		n += val_copy_size(&v->u.items[i]);
	return n;
}

struct val val_copy_into(const struct val *v, char **mem)
{
	struct val out = *v;
	if (v->kind == V_STR) {
		memcpy(*mem, v->u.s, v->len);
		(*mem)[v->len] = 0;
		out.u.s = *mem;
		*mem += align8((size_t)v->len + 1);
	} else if (v->kind == V_LIST) {
		struct val *items = (struct val *)(void *)*mem;
		*mem += sizeof(struct val) * v->len;
		for (uint32_t i = 0; i < v->len; i++)
			items[i] = val_copy_into(&v->u.items[i], mem);
		out.u.items = items;
	}
	return out;
}

const char *val_kind_name(const struct val *v)
{
	static const char *const names[] = {"null", "bool", "int", "float", "string", "time", "duration", "list", "error"};
	return names[v->kind];
}

int val_truthy(const struct val *v)
{
	/* As in jq: only null and false are false. */
	return !(v->kind == V_NULL || (v->kind == V_BOOL && !v->u.i));
}

/* A string as a number: optional blanks, a decimal integer or float. */
static int number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E' || c == ' ' ||
	       c == '\t';
}

int val_as_number(const struct val *v, struct val *out)
{
	if (v->kind != V_STR || v->len == 0 || v->len > 400)
		return 0;
	/* strtod would also read "inf", "nan" and hex: data like that is text.
	 * Checked before copying: most strings tried (times, names) are not
	 * numbers, and say so within a few bytes. */
	for (uint32_t i = 0; i < v->len; i++)
		if (!number_char(v->u.s[i]))
			return 0;
	char tmp[401];
	memcpy(tmp, v->u.s, v->len);
	tmp[v->len] = 0;
	const char *p = tmp;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return 0;
	char *end;
	int integral = !strpbrk(p, ".eE");
	if (integral) {
		errno = 0;
		long long i = strtoll(p, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (!*end && end != p && !errno) {
			*out = val_int(i);
			return 1;
		}
	}
	double d = strtod(p, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end || end == p)
		return 0;
	*out = val_float(d);
	return 1;
}

void val_render_text(struct buf *b, const struct val *v)
{
	switch (v->kind) {
	case V_NULL: buf_adds(b, "null"); break;
	case V_BOOL: buf_adds(b, v->u.i ? "true" : "false"); break;
	case V_INT: buf_printf(b, "%lld", (long long)v->u.i); break;
	case V_FLOAT: json_write_num(b, v->u.f); break;
	case V_STR: buf_add(b, v->u.s, v->len); break;
	case V_TIME: time_format(b, v->u.i); break;
	case V_DUR: dur_format(b, v->u.i); break;
	case V_LIST: val_render_json(b, v); break;
	case V_ERR: buf_adds(b, v->u.s); break;
	}
}

void val_render_json(struct buf *b, const struct val *v)
{
	switch (v->kind) {
	case V_STR:
		if (v->flags & VF_JSON)
			buf_add(b, v->u.s, v->len); /* an input object or array, as it was */
		else
			json_write_str(b, v->u.s, v->len);
		break;
	case V_TIME:
	case V_DUR: {
		struct buf t = {0};
		val_render_text(&t, v);
		json_write_str(b, t.p, t.len);
		buf_free(&t);
		break;
	}
	case V_LIST:
		buf_addc(b, '[');
		for (uint32_t i = 0; i < v->len; i++) {
			if (i)
				buf_addc(b, ',');
			val_render_json(b, &v->u.items[i]);
		}
		buf_addc(b, ']');
		break;
	case V_ERR:
		buf_adds(b, "null");
		break;
	default:
		val_render_text(b, v);
	}
}

/* A value as a script writes it: text quoted, a time after @, a list's
 * items the same way. */
static void val_render_literal(struct buf *b, const struct val *v)
{
	switch (v->kind) {
	case V_STR:
	case V_ERR:
		json_write_str(b, v->u.s, v->kind == V_STR ? v->len : strlen(v->u.s));
		break;
	case V_TIME:
		buf_addc(b, '@');
		time_format(b, v->u.i);
		break;
	case V_LIST:
		buf_addc(b, '[');
		for (uint32_t i = 0; i < v->len; i++) {
			if (i)
				buf_adds(b, ", ");
			val_render_literal(b, &v->u.items[i]);
		}
		buf_addc(b, ']');
		break;
	default:
		val_render_text(b, v);
	}
}

void val_render_typed(struct buf *b, const struct val *v)
{
	val_render_literal(b, v);
	buf_printf(b, " (%s)", val_kind_name(v));
}
