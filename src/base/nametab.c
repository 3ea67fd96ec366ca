/* nametab.c: open addressing, linear probing, grown at half full (see
 * nametab.h). */
#include "nametab.h"

#include <string.h>

#include "mem.h"

static struct nametab_slot *find_slot(const struct nametab *t, const char *key, size_t len, uint32_t hash)
{
	for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		struct nametab_slot *s = &t->slots[i];
		if (!s->key || (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0))
			return s;
	}
}

int nametab_get(const struct nametab *t, const char *key, size_t len)
{
	if (!t->slots)
		return -1;
	const struct nametab_slot *s = find_slot(t, key, len, (uint32_t)mem_hash(key, len));
	return s->key ? s->value : -1;
}

void nametab_put(struct nametab *t, const char *key, size_t len, int value)
{
	if ((t->count + 1) * 2 > (t->slots ? t->mask + 1 : 0)) {
		struct nametab old = *t;
		uint32_t cap = old.slots ? (old.mask + 1) * 2 : 16;
		t->slots = mem_alloc(sizeof *t->slots * cap);
		t->mask = cap - 1;
		for (uint32_t i = 0; old.slots && i <= old.mask; i++)
			if (old.slots[i].key)
				*find_slot(t, old.slots[i].key, old.slots[i].len, old.slots[i].hash) = old.slots[i];
		mem_free(old.slots);
	}
	uint32_t hash = (uint32_t)mem_hash(key, len);
	struct nametab_slot *s = find_slot(t, key, len, hash);
	if (!s->key)
		t->count++;
	*s = (struct nametab_slot){key, (uint32_t)len, hash, value};
}

void nametab_free(struct nametab *t)
{
	mem_free(t->slots);
	memset(t, 0, sizeof *t);
}
