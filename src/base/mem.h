/* mem.h: the one allocation funnel, a growable byte buffer and an arena.
 *
 * Every allocation in cxr goes through mem_alloc/mem_realloc so that
 * running out of memory has exactly one (fatal) outcome.  Arenas hand out
 * memory that is released all at once: the AST and compiler use one per
 * program, the run loop resets one per event, so the hot path never calls
 * malloc.
 */
#ifndef CXR_MEM_H
#define CXR_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *mem_alloc(size_t n);            /* zeroed; never returns NULL */
void *mem_realloc(void *p, size_t n); /* never returns NULL */
void mem_free(void *p);
/* An array grown one element at a time, with room for element n: its
 * capacity doubles and is implied by the count, so n appends cost O(n).
 * Every append to the array must go through it. */
void *mem_grow(void *p, size_t n, size_t elem);
char *mem_strndup(const char *s, size_t n);
/* A well-mixed hash of n bytes (FNV-1a with a final mixer), for tables. */
uint64_t mem_hash(const char *s, size_t n);
/* A whole file, NUL-terminated, in one allocation; NULL with errno set. */
char *mem_read_file(const char *path, size_t *len);

/* A growable byte buffer; always NUL-terminated after the first write. */
struct buf {
	char *p;    /* bytes */
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
};

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_free(struct buf *b);
static inline void buf_clear(struct buf *b) { b->len = 0; if (b->p) b->p[0] = 0; }

/* A chunked bump allocator: pointers stay valid until reset or free. */
struct arena_chunk;
struct arena {
	struct arena_chunk *head; /* newest chunk first */
	char *cur, *end;          /* free space in the head chunk */
	size_t bytes;             /* total allocated in chunks, for statistics */
	size_t chunk;             /* the next chunk's size: 0 is ARENA_MIN_CHUNK; a
				     smaller one (arena_expect) doubles up to it */
};

/* An arena that expects to hold about n bytes in all starts with a chunk
 * of that size, not ARENA_MIN_CHUNK: ten thousand small files read as
 * ten thousand parts cost ten thousand small chunks, not 64 KB each. */
void arena_expect(struct arena *a, size_t n);

struct arena_mark {
	struct arena_chunk *head;
	char *cur;
};

void *arena_alloc(struct arena *a, size_t n); /* 8-aligned, not zeroed */
/* The chunks of from become a's (behind its newest one, so that a's free
 * space stays where it is); from is left empty. */
void arena_adopt(struct arena *a, struct arena *from);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n); /* NUL-terminated copy */
struct arena_mark arena_mark(struct arena *a);
void arena_reset(struct arena *a, struct arena_mark m); /* frees chunks newer than m */
void arena_free(struct arena *a);

#endif
