/* mem.c: allocation funnel, buffers and arenas (see mem.h). */
#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Out of memory is the one condition cxr does not report as a value: no
 * caller could do more than give up, and every allocation would need an
 * error path that is never taken.  The process says so and exits with
 * status 2 (as for any input it cannot run); files the command line was
 * writing are removed by its exit handler.  tests/props/oom_check.py fails each
 * allocation of a compile and run in turn to check that this is all that
 * happens: no crash, no half-written output, no sanitizer report. */
static void mem_fail(size_t n)
{
	fprintf(stderr, "cxr: out of memory (asked for %zu bytes)\n", n);
	exit(2); /* stdio is flushed, atexit handlers run */
}

#ifdef CXR_FAULT_INJECTION
/* A test build (make sanitize): CXR_FAIL_ALLOC=N makes the N-th
 * allocation through mem_alloc or mem_realloc fail. */
#include <stdatomic.h>
static atomic_ulong allocations;
static unsigned long fail_at = (unsigned long)-1;
static int fail_read;

static int injected_failure(void)
{
	if (!fail_read) {
		const char *v = getenv("CXR_FAIL_ALLOC");
		fail_at = v && *v ? strtoul(v, NULL, 10) : (unsigned long)-1;
		fail_read = 1;
	}
	return atomic_fetch_add(&allocations, 1) + 1 == fail_at;
}
#else
static int injected_failure(void) { return 0; }
#endif

void *mem_alloc(size_t n)
{
	void *p = injected_failure() ? NULL : calloc(1, n ? n : 1);
	if (!p)
		mem_fail(n);
	return p;
}

void *mem_realloc(void *p, size_t n)
{
	void *q = injected_failure() ? NULL : realloc(p, n ? n : 1);
	if (!q)
		mem_fail(n);
	return q;
}

void mem_free(void *p) { free(p); }

void *mem_grow(void *p, size_t n, size_t elem)
{
	enum { FIRST = 8 };
	if (p && (n < FIRST ? n != 0 : (n & (n - 1)) != 0))
		return p; /* not at a power of two: there is room */
	return mem_realloc(p, elem * (n < FIRST ? FIRST : 2 * n));
}

char *mem_strndup(const char *s, size_t n)
{
	char *p = mem_alloc(n + 1);
	memcpy(p, s, n);
	return p;
}

void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->p = mem_realloc(b->p, cap);
	b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

void buf_addc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = 0;
}

void buf_adds(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_free(struct buf *b)
{
	mem_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *mem_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	int failed = ferror(f);
	int saved = errno;
	fclose(f);
	if (failed) {
		buf_free(&b);
		errno = saved ? saved : EIO;
		return NULL;
	}
	if (!b.p)
		buf_add(&b, "", 0);
	*len = b.len;
	return b.p;
}

struct arena_chunk {
	struct arena_chunk *next; /* older chunk */
	size_t size;              /* usable bytes after the header */
	char *data;
};

#define ARENA_MIN_CHUNK (64 * 1024)
#define ARENA_FIRST_CHUNK 512

void arena_expect(struct arena *a, size_t n)
{
	a->chunk = n < ARENA_FIRST_CHUNK ? ARENA_FIRST_CHUNK : n < ARENA_MIN_CHUNK ? (n + 7) & ~(size_t)7 : 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if ((size_t)(a->end - a->cur) < n || !a->cur) {
		size_t chunk = a->chunk ? a->chunk : ARENA_MIN_CHUNK;
		if (a->chunk)
			a->chunk = a->chunk * 2 < ARENA_MIN_CHUNK ? a->chunk * 2 : 0;
		size_t size = n > chunk ? n : chunk;
		struct arena_chunk *c = mem_alloc(sizeof *c + size + 8);
		c->size = size;
		c->data = (char *)(((uintptr_t)(c + 1) + 7) & ~(uintptr_t)7);
		c->next = a->head;
		a->head = c;
		a->cur = c->data;
		a->end = c->data + size;
		a->bytes += size;
	}
	void *p = a->cur;
	a->cur += n;
	return p;
}

void arena_adopt(struct arena *a, struct arena *from)
{
	if (!from->head)
		return;
	if (!a->head) {
		a->head = from->head;
		a->cur = from->cur;
		a->end = from->end;
	} else {
		struct arena_chunk *last = from->head;
		while (last->next)
			last = last->next;
		last->next = a->head->next;
		a->head->next = from->head;
	}
	a->bytes += from->bytes;
	from->head = NULL;
	from->cur = from->end = NULL;
	from->bytes = 0;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

struct arena_mark arena_mark(struct arena *a)
{
	struct arena_mark m = {a->head, a->cur};
	return m;
}

void arena_reset(struct arena *a, struct arena_mark m)
{
	/* A mark taken on an empty arena keeps the oldest chunk: an arena
	 * reset after every event must not free and zero a chunk each time. */
	while (a->head && a->head != m.head && (m.head || a->head->next)) {
		struct arena_chunk *c = a->head;
		a->head = c->next;
		a->bytes -= c->size;
		mem_free(c);
	}
	if (a->head) {
		a->cur = m.head ? m.cur : a->head->data;
		a->end = a->head->data + a->head->size;
	} else {
		a->cur = a->end = NULL;
	}
}

void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_chunk *c = a->head;
		a->head = c->next;
		mem_free(c);
	}
	a->cur = a->end = NULL;
	a->bytes = 0;
}

uint64_t mem_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	/* FNV leaves the low bits, which pick the slot, poorly mixed for keys
	 * that differ in their last bytes (c000001, c000002...): finish with
	 * the MurmurHash3 mixer. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}
