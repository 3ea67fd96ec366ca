/* pack.h: a compact binary encoding for state that outlives a run.
 *
 * Unsigned numbers are LEB128 varints, signed ones zigzag varints, doubles
 * their 8 bytes little-endian, byte strings a varint length then the
 * bytes.  A reader never reads past its end: a short or damaged record
 * sets `bad` and reads as zeros from then on, so a decoder checks once,
 * at the end, instead of after every field.
 */
#ifndef CXR_PACK_H
#define CXR_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

void pack_u64(struct buf *b, uint64_t v);
void pack_i64(struct buf *b, int64_t v);
void pack_f64(struct buf *b, double v);
void pack_bytes(struct buf *b, const void *p, size_t n);

struct unpack {
	const unsigned char *p, *end;
	int bad; /* read past the end, or a length beyond it */
};

static inline void unpack_init(struct unpack *u, const void *p, size_t n)
{
	u->p = p;
	u->end = u->p + n;
	u->bad = 0;
}

uint64_t unpack_u64(struct unpack *u);
int64_t unpack_i64(struct unpack *u);
double unpack_f64(struct unpack *u);
/* A count of items at least min_size bytes each: one beyond what is left
 * is damage (and reads as 0), so that no decoder allocates for a lie. */
uint32_t unpack_count(struct unpack *u, size_t min_size);
/* The bytes of a byte string, pointing into the record; *n its length. */
const char *unpack_bytes(struct unpack *u, size_t *n);
static inline int unpack_done(const struct unpack *u) { return !u->bad && u->p == u->end; }

#endif
