/* dispatch.c: which of an event type's rules an event runs.
 *
 * The type's guard indexes (built with the prog, compile/guard_index.c)
 * give the rules whose first comparison the event's value can pass; they
 * are merged, in firing order, with the rules no index holds.
 */
#include <string.h>

#include "engine_int.h"

/* Merge the ascending list b into the ascending list a (n items, room for
 * n + nb): positions are distinct across lists. */
static int merge(int *a, int n, const int *b, int nb)
{
	int i = n - 1, j = nb - 1, k = n + nb - 1;
	while (j >= 0) {
		if (i >= 0 && a[i] > b[j])
			a[k--] = a[i--];
		else
			a[k--] = b[j--];
	}
	return n + nb;
}

int dispatch_rules(const struct evtype *et, const struct event *ev, const struct customer *c, int *out)
{
	int n = et->nunindexed;
	memcpy(out, et->unindexed, sizeof *out * (size_t)n);
	for (int i = 0; i < et->nindexes; i++) {
		const struct guard_index *x = &et->indexes[i];
		const struct guard_bucket *b;
		if (x->slot < 0) {
			b = guard_bucket_find(x, cust_key(c), c->keylen, c->hash);
		} else {
			const struct val *v = &ev->slots[x->slot];
			if (v->kind != V_STR)
				continue; /* == with a string constant is false */
			b = guard_bucket_find(x, v->u.s, v->len, (uint32_t)mem_hash(v->u.s, v->len));
		}
		if (b->text)
			n = merge(out, n, x->positions + b->first, b->n);
	}
	for (int i = 0; i < n; i++)
		out[i] = et->rules[out[i]];
	return n;
}
