/* nametab.h: the compiler's table from a name to a number.
 *
 * A script may hold tens of thousands of rules, constants, fields or event
 * types; every mention of one looks it up, so each concept's names are
 * found through a hash table rather than a scan (a scan made compiling
 * 40,000 rules take half a minute).  Keys are borrowed: they must outlive
 * the table (the script's text, the program's arena).
 */
#ifndef CXR_NAMETAB_H
#define CXR_NAMETAB_H

#include <stddef.h>
#include <stdint.h>

struct nametab_slot {
	const char *key; /* NULL: empty */
	uint32_t len;
	uint32_t hash;
	int value;
};

struct nametab {
	struct nametab_slot *slots;
	uint32_t mask; /* capacity - 1, a power of two */
	uint32_t count;
};

/* The value of key, or -1. */
int nametab_get(const struct nametab *t, const char *key, size_t len);
/* Set key's value (added, or replaced). */
void nametab_put(struct nametab *t, const char *key, size_t len, int value);
void nametab_free(struct nametab *t);

#endif
