/* json.c: strict RFC 8259 scanning with key-path projection (see json.h).
 *
 * Design.  An event line is scanned exactly once, left to right, with no
 * token stream and no tree.  Only the members that a projection names are
 * converted to values; everything else goes through skip_value, a
 * validating skipper that is as strict as the converting path, so that
 * whether a line is accepted never depends on which keys a script uses.
 *
 * - The projection is a trie of keys.  Each node hashes its children by
 *   (length, first byte, last byte), so an unprojected key costs one probe
 *   and usually no memcmp.
 * - Strings are scanned 8 bytes at a time (SWAR) for the bytes that need
 *   attention: '"', '\\', controls and non-ASCII.  UTF-8 is checked
 *   strictly (no overlongs, no encoded surrogates, nothing past U+10FFFF).
 * - skip_value is iterative, with the container kinds in a 512-bit stack,
 *   so nesting costs no C stack.  The converting path recurses only along
 *   the trie, whose depth is the longest projected path.
 * - Decoded strings go to the caller's arena; a string without escapes is
 *   one memcpy.  Nothing is malloc'ed per event.
 *
 * Decisions (documented in the README):
 * - A \u escape of a lone surrogate is an error ("lone surrogate in \u
 *   escape"), so every decoded string is valid UTF-8.
 * - Numbers that overflow a double are accepted and read as +-inf (the text
 *   is valid JSON, and validity must not depend on the projection);
 *   underflow reads as 0 or a subnormal, as strtod gives.
 * - "-0" is integral text and reads as V_INT 0; "-0.0" reads as V_FLOAT -0.
 * - A UTF-8 byte order mark is an error with its own message; the reader
 *   may strip it from the first line if it wants to.
 * - Number conversion uses strtod and the writer uses printf, so both
 *   assume LC_NUMERIC is "C" (cxr never calls setlocale for it).
 */
#include "json.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 512

/* ---- projection trie ---- */

struct jnode {
	char *key;            /* this node's key (owned), NULL at the root */
	size_t len;           /* key bytes */
	int *slots;           /* slots that receive this node's value */
	int nslots;
	struct jnode **kids;  /* child keys */
	int nkids;
	uint32_t *hash;       /* open addressing: kid index + 1, 0 = empty */
	uint32_t hmask;       /* hash table size - 1 */
};

struct json_proj {
	struct jnode root; /* its kids are the top-level keys */
};

static inline uint32_t key_hash(const char *k, size_t len)
{
	/* Length and the two end bytes separate typical field names well
	 * ("customer_id" vs "customer") and cost no loop. */
	if (len == 0)
		return 0;
	uint32_t h = (uint32_t)len * 0x9E3779B1u;
	h ^= (uint32_t)(unsigned char)k[0] * 0x85EBCA77u;
	h ^= (uint32_t)(unsigned char)k[len - 1] * 0xC2B2AE3Du;
	return h ^ (h >> 15);
}

static void jnode_rehash(struct jnode *n)
{
	uint32_t size = 8;
	while (size < 2 * (uint32_t)n->nkids)
		size *= 2;
	mem_free(n->hash);
	n->hash = mem_alloc(size * sizeof *n->hash);
	n->hmask = size - 1;
	for (int i = 0; i < n->nkids; i++) {
		uint32_t h = key_hash(n->kids[i]->key, n->kids[i]->len) & n->hmask;
		while (n->hash[h])
			h = (h + 1) & n->hmask;
		n->hash[h] = (uint32_t)i + 1;
	}
}

static inline const struct jnode *jnode_find(const struct jnode *n, const char *k, size_t len)
{
	uint32_t h = key_hash(k, len) & n->hmask;
	for (;;) {
		uint32_t i = n->hash[h];
		if (!i)
			return NULL;
		const struct jnode *kid = n->kids[i - 1];
		if (kid->len == len && memcmp(kid->key, k, len) == 0)
			return kid;
		h = (h + 1) & n->hmask;
	}
}

static void jnode_free(struct jnode *n)
{
	for (int i = 0; i < n->nkids; i++) {
		jnode_free(n->kids[i]);
		mem_free(n->kids[i]);
	}
	mem_free(n->kids);
	mem_free(n->hash);
	mem_free(n->slots);
	mem_free(n->key);
}

struct json_proj *json_proj_new(void)
{
	return mem_alloc(sizeof(struct json_proj));
}

void json_proj_free(struct json_proj *p)
{
	if (!p)
		return;
	jnode_free(&p->root);
	mem_free(p);
}

void json_proj_add(struct json_proj *p, const char *const *segs, const size_t *lens, int nseg, int slot)
{
	struct jnode *n = &p->root;
	for (int i = 0; i < nseg; i++) {
		const struct jnode *found = n->nkids ? jnode_find(n, segs[i], lens[i]) : NULL;
		if (!found) {
			struct jnode *kid = mem_alloc(sizeof *kid);
			kid->key = mem_strndup(segs[i], lens[i]);
			kid->len = lens[i];
			n->kids = mem_realloc(n->kids, (size_t)(n->nkids + 1) * sizeof *n->kids);
			n->kids[n->nkids++] = kid;
			jnode_rehash(n);
			found = kid;
		}
		n = (struct jnode *)found;
	}
	if (n == &p->root)
		return; /* an empty path names nothing */
	n->slots = mem_realloc(n->slots, (size_t)(n->nslots + 1) * sizeof *n->slots);
	n->slots[n->nslots++] = slot;
}

/* ---- scanner state and errors ---- */

struct scan {
	const char *s;          /* start of the text: columns count from here */
	const char *end;        /* one past the last byte */
	struct arena *a;        /* decoded strings; NULL when only validating */
	struct json_error *err; /* where failures are reported */
};

/* Report msg at p exactly as given. */
static const char *fail_here(struct scan *sc, const char *p, const char *msg)
{
	sc->err->msg = msg;
	sc->err->col = utf8_chars(sc->s, (size_t)(p - sc->s)) + 1; /* in characters, as cxr counts columns */
	return NULL;
}

/* Report msg at p, unless the real problem at p is the end of the input
 * or a NUL byte: "expected ':'" would then mislead. */
static const char *fail(struct scan *sc, const char *p, const char *msg)
{
	if (p >= sc->end)
		msg = "unexpected end of input";
	else if (*p == 0)
		msg = "NUL byte in input";
	return fail_here(sc, p, msg);
}

static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline bool is_digit(char c) { return (unsigned char)(c - '0') < 10; }

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0.  The
 * ranges are those of RFC 3629: no overlongs, no surrogates, <= U+10FFFF. */
static inline int utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t avail = (size_t)(end - p);
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/* Bytes of the invalid sequence at p that one U+FFFD replaces: the
 * "maximal subpart" of Unicode's recommended practice (at least 1). */
static size_t utf8_bad_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t need;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 1;
	}
	size_t i = 1;
	while (i <= need && p + i < end && p[i] >= lo && p[i] <= hi) {
		lo = 0x80;
		hi = 0xBF;
		i++;
	}
	return i;
}

size_t utf8_check(const char *s, size_t n, int *nul)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		/* ASCII without NUL eight bytes at a time: the common case */
		while (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if ((w & 0x8080808080808080ull) || ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
				break;
			p += 8;
		}
		if (p == end)
			break;
		if (*p == 0) {
			*nul = 1;
			return (size_t)(p - (const unsigned char *)s);
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		int len = utf8_len(p, end);
		if (!len) {
			*nul = 0;
			return (size_t)(p - (const unsigned char *)s);
		}
		p += len;
	}
	return n;
}

size_t utf8_chars(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t chars = 0;
	while (p < end) {
		if (*p < 0x80)
			p++;
		else {
			int len = utf8_len(p, end);
			p += len ? (size_t)len : utf8_bad_len(p, end);
		}
		chars++;
	}
	return chars;
}

static inline char *utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* ---- strings ---- */

/* The value of 4 hex digits at p, or -1 (also when fewer than 4 remain). */
static inline int32_t hex4(const char *p, const char *end)
{
	if (end - p < 4)
		return -1;
	int32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)p[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Check the escape at p (p[0] == '\\', p[1] exists); return what follows. */
static const char *esc_check(struct scan *sc, const char *p)
{
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return p + 2;
	case 'u':
		break;
	default:
		return fail(sc, p + 1, "invalid escape in string");
	}
	int32_t u = hex4(p + 2, sc->end);
	if (u < 0)
		return fail_here(sc, p, "invalid \\u escape in string");
	if (u >= 0xD800 && u <= 0xDBFF) {
		if (sc->end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
			int32_t lo = hex4(p + 8, sc->end);
			if (lo >= 0xDC00 && lo <= 0xDFFF)
				return p + 12;
		}
		return fail_here(sc, p, "lone surrogate in \\u escape");
	}
	if (u >= 0xDC00 && u <= 0xDFFF)
		return fail_here(sc, p, "lone surrogate in \\u escape");
	return p + 6;
}

/* Bytes that stop the fast string loop: '"', '\\', controls, non-ASCII. */
static const unsigned char str_stop[256] = {
	[0 ... 0x1F] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xFF] = 1,
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_SWAR 1
#define B8(x) (0x0101010101010101ULL * (x))
/* High bit set in each byte of w that is '"', '\\', < 0x20 or >= 0x80.
 * Borrows may flag bytes above a true hit but never below one, so the
 * lowest flag is exact: that is all the caller uses. */
static inline uint64_t swar_stops(uint64_t w)
{
	uint64_t q = w ^ B8('"'), b = w ^ B8('\\');
	return (((q - B8(1)) & ~q) | ((b - B8(1)) & ~b) | (w - B8(0x20)) | w) & B8(0x80);
}
#endif

/* Scan the string whose opening quote is at p; return the closing quote.
 * *esc is set when the string holds an escape (it then needs decoding). */
static const char *str_scan(struct scan *sc, const char *p, bool *esc)
{
	const char *q0 = p, *end = sc->end;
	p++;
	for (;;) {
#ifdef JSON_SWAR
		while (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			uint64_t m = swar_stops(w);
			if (m) {
				p += __builtin_ctzll(m) >> 3;
				goto stop;
			}
			p += 8;
		}
#endif
		while (p < end && !str_stop[(unsigned char)*p])
			p++;
		if (p >= end)
			return fail_here(sc, q0, "unterminated string");
#ifdef JSON_SWAR
	stop:;
#endif
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p;
		if (c == '\\') {
			if (end - p < 2)
				return fail_here(sc, q0, "unterminated string");
			p = esc_check(sc, p);
			if (!p)
				return NULL;
			*esc = true;
		} else if (c < 0x20) {
			return fail_here(sc, p, c ? "unescaped control character in string"
						  : "NUL byte in input");
		} else {
			int n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
			if (!n)
				return fail_here(sc, p, "invalid UTF-8 in string");
			p += n;
		}
	}
}

/* Decode the checked string body [p, q) into o; return the end of o.
 * Decoded text is never longer than its source. */
static char *str_decode(const char *p, const char *q, char *o)
{
	while (p < q) {
		const char *bs = memchr(p, '\\', (size_t)(q - p));
		if (!bs)
			bs = q;
		memcpy(o, p, (size_t)(bs - p));
		o += bs - p;
		p = bs;
		if (p == q)
			break;
		char c = p[1];
		p += 2;
		switch (c) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			uint32_t cp = (uint32_t)hex4(p, q);
			p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo = (uint32_t)hex4(p + 2, q);
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			o = utf8_put(o, cp);
			break;
		}
		default: *o++ = c; break; /* '"', '\\', '/' */
		}
	}
	return o;
}

/* Copy [p, q) into the arena as a string value: the decoded body of a
 * JSON string (flags VF_DATA) or raw JSON text (flags VF_JSON). */
static const char *str_store(struct scan *sc, const char *p, const char *q, bool esc, uint8_t flags,
			     struct val *v)
{
	size_t len = (size_t)(q - p);
	if (len > UINT32_MAX)
		return fail_here(sc, p, "string too long");
	char *o = arena_alloc(sc->a, len + 1);
	char *e = o + len;
	if (esc)
		e = str_decode(p, q, o);
	else if (len)
		memcpy(o, p, len);
	*e = 0;
	*v = val_str(o, (size_t)(e - o));
	v->flags = flags;
	return q;
}

/* ---- numbers ---- */

/* Bytes that may not directly follow a number: they would make "1.2.3"
 * or "0x1" report a confusing structural error instead. */
static const unsigned char num_tail[256] = {
	['0' ... '9'] = 1, ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['.'] = 1, ['+'] = 1, ['-'] = 1,
};

/* Check the number at p; return what follows. */
static const char *num_skip(struct scan *sc, const char *p)
{
	const char *end = sc->end;
	if (*p == '-' && (++p >= end || !is_digit(*p)))
		return fail(sc, p, "expected digit after '-'");
	if (*p == '0') {
		p++;
		if (p < end && is_digit(*p))
			return fail_here(sc, p - 1, "leading zeros are not allowed");
	} else {
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && *p == '.') {
		if (++p >= end || !is_digit(*p))
			return fail(sc, p, "expected digit after '.'");
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p | 0x20) == 'e') {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return fail(sc, p, "expected digit in exponent");
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && num_tail[(unsigned char)*p])
		return fail_here(sc, p, "unexpected character after number");
	return p;
}

/* Convert the checked number [p, q).  Integral text within int64 is
 * V_INT; the rest is V_FLOAT, exact by Clinger's fast path when the
 * digits fit 53 bits and the power of ten is exact, else strtod. */
static struct val num_load(struct scan *sc, const char *p, const char *q)
{
	static const double pow10[] = {
		1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
	};
	const char *d = p;
	bool neg = *d == '-';
	d += neg;
	uint64_t m = 0;   /* first 19 significant digits */
	int nd = 0;       /* digits in m, leading zeros excluded */
	int64_t e10 = 0;  /* value = m * 10^e10, unless truncated */
	bool trunc = false, integral = true;
	for (; d < q && is_digit(*d); d++) {
		if (nd < 19) {
			m = m * 10 + (uint64_t)(*d - '0');
			nd += m != 0;
		} else {
			trunc = true;
			e10++;
		}
	}
	if (d < q && *d == '.') {
		integral = false;
		for (d++; d < q && is_digit(*d); d++) {
			if (nd < 19) {
				m = m * 10 + (uint64_t)(*d - '0');
				nd += m != 0;
				e10--;
			} else {
				trunc = true;
			}
		}
	}
	if (d < q) { /* exponent */
		integral = false;
		d++;
		bool eneg = *d == '-';
		d += *d == '-' || *d == '+';
		int64_t e = 0;
		for (; d < q; d++)
			if (e < 100000000)
				e = e * 10 + (*d - '0');
		e10 += eneg ? -e : e;
	}
	if (integral && !trunc) {
		if (!neg && m <= (uint64_t)INT64_MAX)
			return val_int((int64_t)m);
		if (neg && m <= (uint64_t)INT64_MAX)
			return val_int(-(int64_t)m);
		if (neg && m == (uint64_t)INT64_MAX + 1)
			return val_int(INT64_MIN);
	}
	if (m == 0) /* all digits zero, whatever the exponent */
		return val_float(neg ? -0.0 : 0.0);
#if FLT_EVAL_METHOD == 0
	if (!trunc && m <= (1ULL << 53) && e10 >= -22 && e10 <= 22) {
		double f = (double)m;
		f = e10 < 0 ? f / pow10[-e10] : f * pow10[e10];
		return val_float(neg ? -f : f);
	}
#else
	(void)pow10;
#endif
	/* strtod wants a NUL-terminated copy: a short one on the stack, a
	 * long one (any length is valid JSON) briefly in the arena. */
	size_t len = (size_t)(q - p);
	double f;
	if (len < 64) {
		char tmp[64];
		memcpy(tmp, p, len);
		tmp[len] = 0;
		f = strtod(tmp, NULL);
	} else {
		struct arena_mark mk = arena_mark(sc->a);
		f = strtod(arena_strndup(sc->a, p, len), NULL);
		arena_reset(sc->a, mk);
	}
	return val_float(f);
}

/* ---- skipping ---- */

static const char *lit_check(struct scan *sc, const char *p, const char *word, size_t n)
{
	if ((size_t)(sc->end - p) < n || memcmp(p, word, n) != 0)
		return fail(sc, p, "invalid literal");
	return p + n;
}

/* Check the value at p, nested inside depth open containers; return what
 * follows.  Iterative: the kinds of the open containers are bits. */
static const char *skip_value(struct scan *sc, const char *p, int depth)
{
	const char *end = sc->end;
	uint64_t objs[JSON_MAX_DEPTH / 64]; /* bit i: the i-th container opened here is an object */
	int top = 0;                        /* containers opened here and still open */
	bool esc;

value:
	p = skip_ws(p, end);
	if (p >= end)
		return fail(sc, p, "expected a JSON value");
	switch (*p) {
	case '"':
		p = str_scan(sc, p, &esc);
		if (!p)
			return NULL;
		p++;
		goto next;
	case '{':
		if (depth + top >= JSON_MAX_DEPTH)
			return fail_here(sc, p, "nesting deeper than 512 levels");
		objs[top / 64] |= 1ULL << (top % 64);
		top++;
		p = skip_ws(p + 1, end);
		if (p < end && *p == '}') {
			p++;
			top--;
			goto next;
		}
		goto key;
	case '[':
		if (depth + top >= JSON_MAX_DEPTH)
			return fail_here(sc, p, "nesting deeper than 512 levels");
		objs[top / 64] &= ~(1ULL << (top % 64));
		top++;
		p = skip_ws(p + 1, end);
		if (p < end && *p == ']') {
			p++;
			top--;
			goto next;
		}
		goto value;
	case 't':
		p = lit_check(sc, p, "true", 4);
		break;
	case 'f':
		p = lit_check(sc, p, "false", 5);
		break;
	case 'n':
		p = lit_check(sc, p, "null", 4);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		p = num_skip(sc, p);
		break;
	default:
		return fail(sc, p, "expected a JSON value");
	}
	if (!p)
		return NULL;
	goto next;

key:
	if (p >= end || *p != '"')
		return fail(sc, p, "expected string as object key");
	p = str_scan(sc, p, &esc);
	if (!p)
		return NULL;
	p = skip_ws(p + 1, end);
	if (p >= end || *p != ':')
		return fail(sc, p, "expected ':' after object key");
	p++;
	goto value;

next:
	if (top == 0)
		return p;
	p = skip_ws(p, end);
	if (objs[(top - 1) / 64] & (1ULL << ((top - 1) % 64))) {
		if (p < end && *p == ',') {
			const char *comma = p;
			p = skip_ws(p + 1, end);
			if (p < end && *p == '}')
				return fail_here(sc, comma, "trailing comma in object");
			goto key;
		}
		if (p < end && *p == '}') {
			p++;
			top--;
			goto next;
		}
		return fail(sc, p, "expected ',' or '}' after object member");
	}
	if (p < end && *p == ',') {
		const char *comma = p;
		p = skip_ws(p + 1, end);
		if (p < end && *p == ']')
			return fail_here(sc, comma, "trailing comma in array");
		goto value;
	}
	if (p < end && *p == ']') {
		p++;
		top--;
		goto next;
	}
	return fail(sc, p, "expected ',' or ']' after array element");
}

/* ---- converting ---- */

/* Check and convert the value at p (not whitespace), nested inside depth
 * containers: scalars as json.h says, objects and arrays as raw text. */
static const char *value_load(struct scan *sc, const char *p, int depth, struct val *v)
{
	const char *q;
	bool esc = false;
	switch (*p) {
	case '"':
		q = str_scan(sc, p, &esc);
		if (!q || !str_store(sc, p + 1, q, esc, VF_DATA, v))
			return NULL;
		return q + 1;
	case '{':
	case '[':
		q = skip_value(sc, p, depth);
		if (!q || !str_store(sc, p, q, false, VF_JSON, v))
			return NULL;
		return q;
	case 't':
		*v = val_bool(1);
		return lit_check(sc, p, "true", 4);
	case 'f':
		*v = val_bool(0);
		return lit_check(sc, p, "false", 5);
	case 'n':
		*v = val_null();
		return lit_check(sc, p, "null", 4);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		q = num_skip(sc, p);
		if (q)
			*v = num_load(sc, p, q);
		return q;
	default:
		return fail(sc, p, "expected a JSON value");
	}
}

/* Null the slots below n: a later duplicate of n's key replaces the whole
 * value, so paths through the earlier one must not survive. */
static void jnode_clear(const struct jnode *n, struct val *slots)
{
	for (int i = 0; i < n->nkids; i++) {
		const struct jnode *k = n->kids[i];
		for (int j = 0; j < k->nslots; j++)
			slots[k->slots[j]] = val_null();
		jnode_clear(k, slots);
	}
}

static const char *proj_object(struct scan *sc, const char *p, const struct jnode *n, int depth,
			       struct val *slots);

/* The value at p (after whitespace) of a projected key n. */
static const char *proj_value(struct scan *sc, const char *p, const struct jnode *n, int depth,
			      struct val *slots)
{
	const char *q;
	struct val v;
	if (n->nkids)
		jnode_clear(n, slots);
	if (p < sc->end && *p == '{' && n->nkids) {
		if (depth >= JSON_MAX_DEPTH)
			return fail_here(sc, p, "nesting deeper than 512 levels");
		q = proj_object(sc, p + 1, n, depth + 1, slots);
		if (!q || (n->nslots && !str_store(sc, p, q, false, VF_JSON, &v)))
			return NULL;
	} else if (n->nslots) {
		if (p >= sc->end)
			return fail(sc, p, "expected a JSON value");
		q = value_load(sc, p, depth, &v);
		if (!q)
			return NULL;
	} else {
		return skip_value(sc, p, depth);
	}
	for (int i = 0; i < n->nslots; i++)
		slots[n->slots[i]] = v;
	return q;
}

/* Members of the object whose '{' is just before p, projected through n
 * (which has kids); depth counts this object.  Returns what follows '}'.
 * Recursion follows the trie only, so its depth is the longest path. */
static const char *proj_object(struct scan *sc, const char *p, const struct jnode *n, int depth,
			       struct val *slots)
{
	const char *end = sc->end;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= end || *p != '"')
			return fail(sc, p, "expected string as object key");
		bool esc = false;
		const char *k = p + 1, *q = str_scan(sc, p, &esc);
		if (!q)
			return NULL;
		const struct jnode *kid;
		if (!esc) {
			kid = jnode_find(n, k, (size_t)(q - k));
		} else {
			/* Rare: compare the decoded key, then give its copy back
			 * (the arena may be one that keeps the event's values). */
			struct arena_mark mk = arena_mark(sc->a);
			char *dk = arena_alloc(sc->a, (size_t)(q - k) + 1);
			kid = jnode_find(n, dk, (size_t)(str_decode(k, q, dk) - dk));
			arena_reset(sc->a, mk);
		}
		p = skip_ws(q + 1, end);
		if (p >= end || *p != ':')
			return fail(sc, p, "expected ':' after object key");
		p = skip_ws(p + 1, end);
		if (kid) {
			p = proj_value(sc, p, kid, depth, slots);
		} else if (p < end && *p == '"') {
			/* The common unprojected value, without skip_value's setup. */
			p = str_scan(sc, p, &esc);
			p = p ? p + 1 : NULL;
		} else {
			p = skip_value(sc, p, depth);
		}
		if (!p)
			return NULL;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			const char *comma = p;
			p = skip_ws(p + 1, end);
			if (p < end && *p == '}')
				return fail_here(sc, comma, "trailing comma in object");
			continue;
		}
		if (p < end && *p == '}')
			return p + 1;
		return fail(sc, p, "expected ',' or '}' after object member");
	}
}

/* ---- entry points ---- */

/* Common start: no BOM, then the first non-space byte. */
static const char *text_start(struct scan *sc)
{
	const char *p = sc->s;
	if (sc->end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		return fail_here(sc, p, "UTF-8 byte order mark is not allowed");
	return skip_ws(p, sc->end);
}

static int text_end(struct scan *sc, const char *p)
{
	if (!p)
		return -1;
	p = skip_ws(p, sc->end);
	if (p != sc->end) {
		fail(sc, p, "trailing characters after JSON value");
		return -1;
	}
	return 0;
}

/* Start an object text: its '{', or NULL with the error set. */
static const char *object_start(struct scan *sc)
{
	const char *p = text_start(sc);
	if (p && (p >= sc->end || *p != '{'))
		return fail_here(sc, p, "expected a JSON object");
	return p;
}

int json_scan_event(const struct json_proj *p, const char *s, size_t n, struct val *slots,
		    struct arena *a, struct json_error *err)
{
	struct json_error dummy;
	struct scan sc = {s, s + n, a, err ? err : &dummy};
	const char *q = object_start(&sc);
	if (!q)
		return -1;
	if (p && p->root.nkids)
		q = proj_object(&sc, q + 1, &p->root, 1, slots);
	else
		q = skip_value(&sc, q, 0);
	return text_end(&sc, q);
}

int json_scan_members(const char *s, size_t n, json_member_fn cb, void *ud, struct arena *a,
		      struct json_error *err)
{
	struct json_error dummy;
	struct scan sc = {s, s + n, a, err ? err : &dummy};
	const char *p = object_start(&sc);
	/* Validate first, so that cb never sees a member of a rejected line. */
	if (!p || text_end(&sc, skip_value(&sc, p, 0)) < 0)
		return -1;
	/* Second pass over a valid text: only a string over 4 GiB can fail. */
	const char *end = sc.end;
	p = skip_ws(p + 1, end);
	if (*p == '}')
		return 0;
	for (;;) {
		bool esc = false;
		const char *k = p + 1, *q = str_scan(&sc, p, &esc);
		struct val key, v;
		if (!str_store(&sc, k, q, esc, 0, &key))
			return -1;
		p = skip_ws(skip_ws(q + 1, end) + 1, end); /* past ':' */
		p = value_load(&sc, p, 1, &v);
		if (!p)
			return -1;
		cb(ud, key.u.s, key.len, &v);
		p = skip_ws(p, end);
		if (*p == '}')
			return 0;
		p = skip_ws(p + 1, end); /* past ',' */
	}
}

int json_validate(const char *s, size_t n, struct json_error *err)
{
	struct json_error dummy;
	struct scan sc = {s, s + n, NULL, err ? err : &dummy};
	const char *p = text_start(&sc);
	if (!p)
		return -1;
	return text_end(&sc, skip_value(&sc, p, 0));
}

/* ---- writing ---- */

void json_write_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	buf_reserve(b, n + 2);
	buf_addc(b, '"');
	while (p < end) {
		unsigned c = *p;
		if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
			p++;
			continue;
		}
		if (c >= 0x80) {
			int len = utf8_len(p, end);
			/* U+2028 and U+2029 end lines in JavaScript: escape them so
			 * the output can be pasted into a script. */
			if (len == 3 && c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
				buf_add(b, run, (size_t)(p - run));
				buf_add(b, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
				p += 3;
				run = p;
			} else if (len) {
				p += len;
			} else {
				buf_add(b, run, (size_t)(p - run));
				buf_add(b, "\xEF\xBF\xBD", 3);
				p += utf8_bad_len(p, end);
				run = p;
			}
			continue;
		}
		buf_add(b, run, (size_t)(p - run));
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default: { /* other controls and DEL */
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_add(b, u, 6);
		}
		}
		p++;
		run = p;
	}
	buf_add(b, run, (size_t)(p - run));
	buf_addc(b, '"');
}

void json_write_num(struct buf *b, double d)
{
	if (!isfinite(d)) {
		buf_adds(b, "null");
		return;
	}
	/* Integral values in int64 range print like the V_INT of the same
	 * value: every digit, no point, no exponent ("-0" keeps its sign). */
	if (d >= -0x1p63 && d < 0x1p63 && d == (double)(int64_t)d) {
		buf_printf(b, "%.0f", d);
		return;
	}
	size_t start = b->len;
	for (int prec = 15;; prec++) {
		b->len = start;
		buf_printf(b, "%.*g", prec, d);
		if (prec == 17 || strtod(b->p + start, NULL) == d)
			return;
	}
}
