/* pack.c: varints, doubles and byte strings (pack.h). */
#include <string.h>

#include "pack.h"

void pack_u64(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	int n = 0;
	do {
		unsigned char byte = v & 0x7f;
		v >>= 7;
		tmp[n++] = byte | (v ? 0x80 : 0);
	} while (v);
	buf_add(b, tmp, (size_t)n);
}

void pack_i64(struct buf *b, int64_t v) { pack_u64(b, ((uint64_t)v << 1) ^ (uint64_t)-(int64_t)((uint64_t)v >> 63)); }

void pack_f64(struct buf *b, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	unsigned char tmp[8];
	for (int i = 0; i < 8; i++)
		tmp[i] = (unsigned char)(bits >> (8 * i));
	buf_add(b, tmp, 8);
}

void pack_bytes(struct buf *b, const void *p, size_t n)
{
	pack_u64(b, n);
	if (n)
		buf_add(b, p, n);
}

uint64_t unpack_u64(struct unpack *u)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (u->p >= u->end) {
			u->bad = 1;
			return 0;
		}
		unsigned char byte = *u->p++;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	u->bad = 1; /* more than ten bytes: no varint of ours */
	return 0;
}

int64_t unpack_i64(struct unpack *u)
{
	uint64_t z = unpack_u64(u);
	return (int64_t)((z >> 1) ^ (uint64_t)-(int64_t)(z & 1));
}

double unpack_f64(struct unpack *u)
{
	if (u->end - u->p < 8) {
		u->bad = 1;
		u->p = u->end;
		return 0;
	}
	uint64_t bits = 0;
	for (int i = 0; i < 8; i++)
		bits |= (uint64_t)u->p[i] << (8 * i);
	u->p += 8;
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

uint32_t unpack_count(struct unpack *u, size_t min_size)
{
	uint64_t n = unpack_u64(u);
	size_t left = (size_t)(u->end - u->p);
	if (u->bad || n > UINT32_MAX || (min_size && n > left / min_size)) {
		u->bad = 1;
		return 0;
	}
	return (uint32_t)n;
}

const char *unpack_bytes(struct unpack *u, size_t *n)
{
	uint64_t len = unpack_u64(u);
	if (u->bad || len > (uint64_t)(u->end - u->p)) {
		u->bad = 1;
		*n = 0;
		return "";
	}
	const char *p = (const char *)u->p;
	u->p += len;
	*n = (size_t)len;
	return p;
}
