/* value.c: deep copies of values, for state that outlives a step.
 *
 * The ownership rule they serve is written once, in value.h.  A copy is
 * one allocation: the list items first, then the strings, so that a list
 * of strings kept by a customer costs one malloc and one free.
 */
#include "value.h"

#include <string.h>

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
