/* sketch.c: a mergeable quantile sketch with relative accuracy (see sketch.h).
 *
 * Design (the DDSketch idea, Masson, Rim and Lee, VLDB 2019).  With
 * gamma = (1 + alpha) / (1 - alpha), a value v > 0 is counted in bucket
 * k = ceil(log(v) / log(gamma)), which holds the values in
 * (gamma^(k-1), gamma^k].  The bucket is reported as
 * 2 * gamma^k / (gamma + 1), which is within alpha of every value in it:
 * at both ends the relative error is (gamma - 1) / (gamma + 1) = alpha.
 * Negative values are counted by magnitude in a second, mirrored store;
 * values with |v| < SKETCH_ZERO are counted apart as zeros.  Count, min,
 * max and sum are kept exactly beside the buckets.
 *
 * Why it merges exactly: a value's bucket depends only on the value and
 * alpha, so the buckets of a union are the sums of the buckets of the
 * parts, whatever the split and the merge order.  Only the sum depends on
 * the order of floating-point additions.
 *
 * Each store is a dense array of counts over a range of keys, grown by
 * doubling towards the side that overflowed, so sketch_add is one log(),
 * one ceil() and one increment, amortised O(1).  Values in practice span
 * a few thousand buckets at alpha = 0.01 (latencies from 1 us to 1 h span
 * about 1100); the whole range of doubles is 70,000 buckets per sign.
 *
 * Decisions the header leaves open:
 *  - sketch_new accepts alpha in [1e-4, 1) and returns NULL otherwise:
 *    memory grows as 1 / alpha, and at 1e-4 a store spanning every double
 *    from 1e-300 to DBL_MAX is 7 million buckets (56 MB); at alpha = 0.01
 *    it is 70,000 (560 kB);
 *  - sketch_add ignores NaN and +-inf: they have no bucket, and one of them
 *    would make min, max or sum meaningless for every later value;
 *  - |v| < SKETCH_ZERO (1e-300) is counted as a zero and reported as 0, so
 *    the relative guarantee holds for |v| >= 1e-300 only (min and max stay
 *    exact whatever they are);
 *  - sketch_quantile returns NAN for q outside [0, 1] or NaN, and the value
 *    of rank 0 and rank count-1 is min and max exactly; every value is
 *    clamped to [min, max], which can only bring it closer to the truth;
 *  - sketch_min and sketch_max are NAN when empty, sketch_sum is 0; -0
 *    counts as below +0 for min and max;
 *  - sketch_merge also returns -1, leaving a unchanged, when the merged
 *    count would overflow uint64; it returns 0 otherwise.
 */
#include "sketch.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define SKETCH_ALPHA_MIN 1e-4
#define SKETCH_ZERO 1e-300 /* |v| below this is counted as zero */
#define SKETCH_VERSION 1
#define SKETCH_MIN_CAP 64 /* buckets allocated for a store's first value */

/* The buckets of one sign, by key. */
struct sketch_store {
	uint64_t *counts; /* counts[i] is the count of key offset + i */
	int32_t offset;   /* key of counts[0] */
	int32_t cap;      /* keys allocated */
	int32_t lo, hi;   /* lowest and highest non-empty key, when total > 0 */
	uint64_t total;   /* values counted here */
};

struct sketch {
	double alpha;             /* relative accuracy, as given to sketch_new */
	double log_gamma;         /* log(gamma) */
	double inv_log_gamma;     /* 1 / log(gamma): a multiply in sketch_add, not a divide */
	double rep_factor;        /* 2 / (gamma + 1): bucket k reports gamma^k times this */
	int32_t key_min, key_max; /* keys of SKETCH_ZERO and DBL_MAX */
	struct sketch_store neg;  /* negative values, keyed by magnitude */
	struct sketch_store pos;  /* positive values */
	uint64_t zeros;           /* values with |v| < SKETCH_ZERO */
	uint64_t count;           /* all values */
	double min, max;          /* +inf and -inf when empty */
	double sum;               /* in the order of additions and merges */
};

static inline int32_t sketch_key(const struct sketch *s, double mag)
{
	return (int32_t)ceil(log(mag) * s->inv_log_gamma);
}

static inline double sketch_rep(const struct sketch *s, int32_t key)
{
	/* exp of the product rather than pow(gamma, k): the error does not
	 * grow with k (about 1e-13 relative at the ends of the double range). */
	return exp((double)key * s->log_gamma) * s->rep_factor;
}

struct sketch *sketch_new(double alpha)
{
	if (!(alpha >= SKETCH_ALPHA_MIN && alpha < 1))
		return NULL;
	/* log(gamma) = log1p(2 alpha / (1 - alpha)), precise for small alpha. */
	double log_gamma = log1p(2 * alpha / (1 - alpha));
	if (!isfinite(log_gamma) || !(log_gamma > 0))
		return NULL;
	struct sketch *s = mem_alloc(sizeof *s);
	s->alpha = alpha;
	s->log_gamma = log_gamma;
	s->inv_log_gamma = 1 / log_gamma;
	s->rep_factor = 2 / (exp(log_gamma) + 1);
	s->key_min = sketch_key(s, SKETCH_ZERO);
	s->key_max = sketch_key(s, DBL_MAX);
	s->min = INFINITY;
	s->max = -INFINITY;
	return s;
}

void sketch_free(struct sketch *s)
{
	if (!s)
		return;
	mem_free(s->neg.counts);
	mem_free(s->pos.counts);
	mem_free(s);
}

/* Make keys lo..hi addressable in st.  A grown store at least doubles, on
 * the side that overflowed, so a run of adds costs amortised O(1); the
 * extra room stays within [key_min, key_max], but the asked range is always
 * covered, even outside it. */
static void sketch_store_reach(const struct sketch *s, struct sketch_store *st, int32_t lo, int32_t hi)
{
	int64_t old_lo = st->offset, old_hi = (int64_t)st->offset + st->cap - 1;
	if (st->cap && lo >= old_lo && hi <= old_hi)
		return;
	int64_t new_lo, new_hi;
	if (!st->cap) {
		new_lo = lo;
		new_hi = hi;
		int64_t extra = SKETCH_MIN_CAP - (new_hi - new_lo + 1);
		if (extra > 0) {
			/* Room on both sides: the next values may go either way. */
			new_lo -= extra / 2;
			new_hi += extra - extra / 2;
		}
	} else {
		new_lo = lo < old_lo ? lo : old_lo;
		new_hi = hi > old_hi ? hi : old_hi;
		int64_t extra = 2 * (int64_t)st->cap - (new_hi - new_lo + 1);
		if (extra > 0) {
			if (lo < old_lo)
				new_lo -= extra;
			else
				new_hi += extra;
		}
	}
	int64_t floor_key = lo < s->key_min ? lo : s->key_min;
	int64_t ceil_key = hi > s->key_max ? hi : s->key_max;
	if (new_lo < floor_key)
		new_lo = floor_key;
	if (new_hi > ceil_key)
		new_hi = ceil_key;
	int64_t cap = new_hi - new_lo + 1;
	uint64_t *counts = mem_alloc((size_t)cap * sizeof *counts);
	if (st->cap)
		memcpy(counts + (old_lo - new_lo), st->counts, (size_t)st->cap * sizeof *counts);
	mem_free(st->counts);
	st->counts = counts;
	st->offset = (int32_t)new_lo;
	st->cap = (int32_t)cap;
}

static inline void sketch_store_add(const struct sketch *s, struct sketch_store *st, int32_t key)
{
	if ((int64_t)key < st->offset || (int64_t)key >= (int64_t)st->offset + st->cap)
		sketch_store_reach(s, st, key, key);
	st->counts[key - st->offset]++;
	if (!st->total) {
		st->lo = st->hi = key;
	} else if (key < st->lo) {
		st->lo = key;
	} else if (key > st->hi) {
		st->hi = key;
	}
	st->total++;
}

/* Whether a comes before b, with -0 before +0: min and max then do not
 * depend on the order in which zeros of both signs arrive or merge, and
 * neither do the serialised bytes. */
static inline int sketch_before(double a, double b)
{
	return a < b || (a == b && signbit(a) && !signbit(b));
}

/* Non-finite values are ignored (see the top of the file). */
void sketch_add(struct sketch *s, double v)
{
	if (!isfinite(v))
		return;
	s->count++;
	s->sum += v;
	if (sketch_before(v, s->min))
		s->min = v;
	if (sketch_before(s->max, v))
		s->max = v;
	if (v >= SKETCH_ZERO)
		sketch_store_add(s, &s->pos, sketch_key(s, v));
	else if (v <= -SKETCH_ZERO)
		sketch_store_add(s, &s->neg, sketch_key(s, -v));
	else
		s->zeros++;
}

/* dst += src, bucket for bucket; dst and src may be the same store. */
static void sketch_store_merge(const struct sketch *s, struct sketch_store *dst, const struct sketch_store *src)
{
	if (!src->total)
		return;
	int32_t lo = src->lo, hi = src->hi;
	sketch_store_reach(s, dst, lo, hi);
	for (int32_t k = lo; k <= hi; k++)
		dst->counts[k - dst->offset] += src->counts[k - src->offset];
	if (!dst->total) {
		dst->lo = lo;
		dst->hi = hi;
	} else {
		if (lo < dst->lo)
			dst->lo = lo;
		if (hi > dst->hi)
			dst->hi = hi;
	}
	dst->total += src->total;
}

int sketch_merge(struct sketch *a, const struct sketch *b)
{
	if (a->alpha != b->alpha)
		return -1;
	if (b->count > UINT64_MAX - a->count)
		return -1;
	if (!b->count)
		return 0;
	sketch_store_merge(a, &a->neg, &b->neg);
	sketch_store_merge(a, &a->pos, &b->pos);
	a->zeros += b->zeros;
	a->count += b->count;
	a->sum += b->sum;
	if (sketch_before(b->min, a->min))
		a->min = b->min;
	if (sketch_before(a->max, b->max))
		a->max = b->max;
	return 0;
}

uint64_t sketch_count(const struct sketch *s) { return s->count; }
double sketch_min(const struct sketch *s) { return s->count ? s->min : NAN; }
double sketch_max(const struct sketch *s) { return s->count ? s->max : NAN; }
double sketch_sum(const struct sketch *s) { return s->sum; }

static inline double sketch_clamp(const struct sketch *s, double v)
{
	return v < s->min ? s->min : v > s->max ? s->max : v;
}

/* The key of the bucket holding the j-th value (from 0) of a store in
 * ascending key order.  The walk starts from the nearer end, which halves
 * the average walk over a wide store. */
static int32_t sketch_store_find(const struct sketch_store *st, uint64_t j)
{
	uint64_t seen = 0;
	if (j < st->total / 2) {
		for (int32_t k = st->lo; k < st->hi; k++) {
			seen += st->counts[k - st->offset];
			if (j < seen)
				return k;
		}
		return st->hi;
	}
	j = st->total - 1 - j;
	for (int32_t k = st->hi; k > st->lo; k--) {
		seen += st->counts[k - st->offset];
		if (j < seen)
			return k;
	}
	return st->lo;
}

double sketch_quantile(const struct sketch *s, double q)
{
	if (!s->count || !(q >= 0 && q <= 1))
		return NAN;
	uint64_t last = s->count - 1;
	double r = floor(q * (double)last);
	/* (double)last rounds up above 2^53, so the rank is clamped. */
	uint64_t rank = r >= (double)last ? last : (uint64_t)r;
	if (rank == 0)
		return s->min;
	if (rank == last)
		return s->max;
	/* Ascending order: negatives by decreasing magnitude, zeros, positives. */
	if (rank < s->neg.total)
		return sketch_clamp(s, -sketch_rep(s, sketch_store_find(&s->neg, s->neg.total - 1 - rank)));
	rank -= s->neg.total;
	if (rank < s->zeros)
		return sketch_clamp(s, 0);
	rank -= s->zeros;
	return sketch_clamp(s, sketch_rep(s, sketch_store_find(&s->pos, rank)));
}

/* ---- serialisation ----
 *
 * Version 1, little-endian; varints are unsigned LEB128 in their shortest
 * form, keys are zigzag-encoded:
 *
 *   "CXSK" u8 version  f64 alpha  f64 min  f64 max  f64 sum
 *   varint zeros
 *   store negative, then store positive:
 *     varint n   keys spanned, lowest to highest non-empty key; 0: empty
 *     varint zigzag lowest key  (when n > 0)
 *     entries covering the n keys: varint c > 0 is one bucket of count c;
 *       0 then varint r is a run of r + 1 empty buckets
 *
 * The first and last buckets are non-empty and runs are maximal (never
 * two in a row), so the bytes of a sketch are canonical.  Runs keep wide,
 * sparse data small: 60 values spread from 1e-300 to 1e300 take about
 * 300 bytes rather than one byte for each of 138,000 empty buckets.
 *
 * sketch_read checks everything: lengths before reading, the alpha, key
 * ranges, shortest varints, runs and ends, counts that add up without
 * overflow, that min and max lie in the lowest and highest non-empty
 * buckets, no trailing bytes.  A store is parsed once to validate it and
 * only then allocated, so a truncated or corrupt input allocates nothing
 * beyond what a valid sketch of the same span needs.
 */

static void sketch_put_varint(struct buf *out, uint64_t u)
{
	unsigned char b[10];
	size_t n = 0;
	do {
		b[n] = (unsigned char)(u & 0x7f);
		u >>= 7;
		if (u)
			b[n] |= 0x80;
		n++;
	} while (u);
	buf_add(out, b, n);
}

static void sketch_put_f64(struct buf *out, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	buf_add(out, b, sizeof b);
}

static void sketch_put_store(struct buf *out, const struct sketch_store *st)
{
	if (!st->total) {
		sketch_put_varint(out, 0);
		return;
	}
	sketch_put_varint(out, (uint64_t)((int64_t)st->hi - st->lo + 1));
	/* zigzag: small keys of either sign stay short */
	uint64_t z = ((uint64_t)(int64_t)st->lo << 1) ^ (uint64_t)((int64_t)st->lo >> 63);
	sketch_put_varint(out, z);
	const uint64_t *c = st->counts + (st->lo - st->offset); /* c[i] is key lo + i */
	int32_t n = st->hi - st->lo + 1;
	for (int32_t i = 0; i < n;) {
		if (c[i]) {
			sketch_put_varint(out, c[i++]);
			continue;
		}
		int32_t run = 0;
		while (!c[i + run]) /* stops before n: the last count is not 0 */
			run++;
		sketch_put_varint(out, 0);
		sketch_put_varint(out, (uint64_t)run - 1);
		i += run;
	}
}

void sketch_write(const struct sketch *s, struct buf *out)
{
	buf_add(out, "CXSK", 4);
	buf_addc(out, SKETCH_VERSION);
	sketch_put_f64(out, s->alpha);
	sketch_put_f64(out, s->min);
	sketch_put_f64(out, s->max);
	sketch_put_f64(out, s->sum);
	sketch_put_varint(out, s->zeros);
	sketch_put_store(out, &s->neg);
	sketch_put_store(out, &s->pos);
}

/* The unread part of the input. */
struct sketch_in {
	const unsigned char *p, *end;
};

static int sketch_get_f64(struct sketch_in *in, double *v)
{
	if (in->end - in->p < 8)
		return -1;
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)in->p[i] << (8 * i);
	in->p += 8;
	memcpy(v, &u, sizeof *v);
	return 0;
}

/* Only the shortest encoding of a value up to UINT64_MAX is accepted. */
static int sketch_get_varint(struct sketch_in *in, uint64_t *u)
{
	uint64_t v = 0;
	for (int i = 0; i < 10; i++) {
		if (in->p == in->end)
			return -1;
		unsigned c = *in->p++;
		if (i == 9 && c > 1)
			return -1; /* past 64 bits */
		v |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			if (c == 0 && i > 0)
				return -1; /* a longer form than needed */
			*u = v;
			return 0;
		}
	}
	return -1;
}

/* The entries of a store of n keys: validated when counts is NULL,
 * stored in counts[0..n) otherwise.  The total goes to *total. */
static int sketch_get_entries(struct sketch_in *in, uint64_t n, uint64_t *counts, uint64_t *total)
{
	uint64_t i = 0, sum = 0;
	while (i < n) {
		uint64_t c, r;
		if (sketch_get_varint(in, &c) < 0)
			return -1;
		if (c) {
			if (c > UINT64_MAX - sum)
				return -1;
			sum += c;
			if (counts)
				counts[i] = c;
			i++;
			continue;
		}
		/* A run is neither first, nor last, nor after another run. */
		if (i == 0)
			return -1;
		if (sketch_get_varint(in, &r) < 0 || r >= n - i - 1)
			return -1;
		i += r + 1;
		/* The next entry exists (r < n - i - 1) and must be a bucket: the
		 * only shortest encoding of 0 is a 0 byte. */
		if (in->p == in->end || *in->p == 0)
			return -1;
	}
	*total = sum;
	return 0;
}

static int sketch_get_store(struct sketch *s, struct sketch_store *st, struct sketch_in *in)
{
	uint64_t n, z, total, again;
	if (sketch_get_varint(in, &n) < 0)
		return -1;
	if (!n)
		return 0;
	if (sketch_get_varint(in, &z) < 0)
		return -1;
	int64_t lo = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	if (lo < s->key_min || lo > s->key_max || n - 1 > (uint64_t)(s->key_max - lo))
		return -1;
	struct sketch_in first = *in;
	if (sketch_get_entries(&first, n, NULL, &total) < 0)
		return -1;
	int32_t hi = (int32_t)(lo + (int64_t)(n - 1));
	sketch_store_reach(s, st, (int32_t)lo, hi);
	if (sketch_get_entries(in, n, st->counts + (lo - st->offset), &again) < 0 || again != total)
		return -1; /* cannot happen: the same bytes were accepted above */
	st->lo = (int32_t)lo;
	st->hi = hi;
	st->total = total;
	return 0;
}

/* The position of v's bucket in ascending order: negative buckets by
 * decreasing magnitude, then zeros (0), then positive buckets.  Keys fit
 * in 31 bits, so the three ranges do not overlap. */
static int64_t sketch_slot_neg(int32_t key) { return -(INT64_C(1) << 32) - key; }
static int64_t sketch_slot_pos(int32_t key) { return (INT64_C(1) << 32) + key; }

static int64_t sketch_slot(const struct sketch *s, double v)
{
	if (v >= SKETCH_ZERO)
		return sketch_slot_pos(sketch_key(s, v));
	if (v <= -SKETCH_ZERO)
		return sketch_slot_neg(sketch_key(s, -v));
	return 0;
}

/* Whether min and max are consistent with the counts: they must lie in
 * the lowest and highest non-empty buckets. */
static int sketch_check_bounds(const struct sketch *s)
{
	if (!s->count)
		return s->min == INFINITY && s->max == -INFINITY && s->sum == 0 ? 0 : -1;
	if (!isfinite(s->min) || !isfinite(s->max) || sketch_before(s->max, s->min))
		return -1;
	int64_t lowest = s->neg.total ? sketch_slot_neg(s->neg.hi)
			 : s->zeros   ? 0
				      : sketch_slot_pos(s->pos.lo);
	int64_t highest = s->pos.total ? sketch_slot_pos(s->pos.hi)
			  : s->zeros   ? 0
				       : sketch_slot_neg(s->neg.lo);
	return sketch_slot(s, s->min) == lowest && sketch_slot(s, s->max) == highest ? 0 : -1;
}

struct sketch *sketch_read(const char *p, size_t n)
{
	struct sketch_in in = {(const unsigned char *)p, (const unsigned char *)p + n};
	if (n < 5 || memcmp(p, "CXSK", 4) != 0 || p[4] != SKETCH_VERSION)
		return NULL;
	in.p += 5;
	double alpha, min, max, sum;
	if (sketch_get_f64(&in, &alpha) < 0)
		return NULL;
	struct sketch *s = sketch_new(alpha);
	if (!s)
		return NULL;
	if (sketch_get_f64(&in, &min) < 0 || sketch_get_f64(&in, &max) < 0 || sketch_get_f64(&in, &sum) < 0)
		goto fail;
	if (sketch_get_varint(&in, &s->zeros) < 0)
		goto fail;
	if (sketch_get_store(s, &s->neg, &in) < 0 || sketch_get_store(s, &s->pos, &in) < 0)
		goto fail;
	if (in.p != in.end)
		goto fail;
	if (s->neg.total > UINT64_MAX - s->zeros || s->pos.total > UINT64_MAX - s->zeros - s->neg.total)
		goto fail;
	s->count = s->zeros + s->neg.total + s->pos.total;
	s->min = min;
	s->max = max;
	s->sum = sum;
	if (sketch_check_bounds(s) < 0)
		goto fail;
	if (!s->count)
		s->sum = 0; /* -0.0 is accepted and stored as the writer would */
	return s;
fail:
	sketch_free(s);
	return NULL;
}
