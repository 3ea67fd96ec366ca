/* test_sketch.c: unit tests of the quantile sketch (sketch.h).
 *
 * Accuracy is checked against the exact value of each rank, found by
 * sorting a copy of the data; merges are checked against one sketch of
 * all the data, for equality of every answer and of the serialised bytes
 * (all but the sum, whose rounding depends on the order of additions).
 * Data comes from a splitmix64 generator carried in a struct, so every
 * run sees the same values.  Serialised sketches are handed to sketch_read
 * in heap blocks of exactly their length, so ASan catches any over-read.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "base/mem.h"
#include "base/sketch.h"

/* The serialised layout, as sketch.c documents it: magic, version, alpha,
 * min, max, then the sum at this offset. */
#define SUM_AT 29
#define SUM_END 37

/* Slack on the relative error bound for the rounding of log() and exp()
 * (the measured excess is about 1e-13). */
#define ROUNDING 1e-9

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so log() of it is finite. */
static double rng_unit(struct rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) * 0x1p-53; }

static double rng_range(struct rng *r, double lo, double hi) { return lo + (hi - lo) * rng_unit(r); }

static double rng_normal(struct rng *r)
{
	return sqrt(-2 * log(rng_unit(r))) * cos(2 * M_PI * rng_unit(r));
}

enum dist { D_UNIFORM, D_EXP, D_LOGNORMAL, D_DUPS, D_MIXED_SIGN, D_ZEROS, D_WIDE, D_COUNT };

static const char *const dist_name[D_COUNT] = {
	"uniform 1..1e6", "exponential", "lognormal", "duplicates", "mixed sign", "zeros", "wide",
};

static double dist_draw(struct rng *r, enum dist d)
{
	static const double dups[] = {1, 2, 3, 5, 8, 1000, 1e6, -7, 0.125};
	switch (d) {
	case D_UNIFORM:
		return rng_range(r, 1, 1e6);
	case D_EXP:
		return -100 * log(rng_unit(r));
	case D_LOGNORMAL:
		return exp(3 + 2 * rng_normal(r));
	case D_DUPS:
		return dups[rng_next(r) % (sizeof dups / sizeof dups[0])];
	case D_MIXED_SIGN:
		return 1000 * rng_normal(r);
	case D_ZEROS: {
		uint64_t k = rng_next(r) % 3;
		double v = exp(rng_normal(r) * 3);
		return k == 0 ? 0 : k == 1 ? v : -v;
	}
	case D_WIDE: {
		/* every magnitude from 1e-300 to 1e300, both signs */
		double v = exp(rng_range(r, -690, 690));
		return rng_next(r) & 1 ? v : -v;
	}
	default:
		return 0;
	}
}

static double *dist_fill(struct rng *r, enum dist d, size_t n)
{
	double *v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = dist_draw(r, d);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double *sorted_copy(const double *v, size_t n)
{
	double *c = malloc(n * sizeof *c);
	memcpy(c, v, n * sizeof *c);
	qsort(c, n, sizeof *c, cmp_double);
	return c;
}

/* The value of rank floor(q * (n - 1)), as sketch.h defines it. */
static double exact_quantile(const double *sorted, size_t n, double q)
{
	double r = floor(q * (double)(n - 1));
	size_t rank = r >= (double)(n - 1) ? n - 1 : (size_t)r;
	return sorted[rank];
}

static struct sketch *sketch_of(double alpha, const double *v, size_t n)
{
	struct sketch *s = sketch_new(alpha);
	for (size_t i = 0; i < n; i++)
		sketch_add(s, v[i]);
	return s;
}

static struct sketch *sketch_copy(const struct sketch *s, double alpha)
{
	struct sketch *c = sketch_new(alpha);
	sketch_merge(c, s);
	return c;
}

static const double qs[] = {0, .01, .1, .25, .5, .75, .9, .99, .999, 1};
#define NQS (sizeof qs / sizeof qs[0])

/* The worst |error| / (alpha |exact|) seen, printed at the end. */
struct accuracy {
	double worst;
};

static int within(struct accuracy *acc, double got, double want, double alpha)
{
	if (want == 0)
		return got == 0;
	double rel = fabs(got - want) / (alpha * fabs(want));
	if (rel > acc->worst)
		acc->worst = rel;
	return rel <= 1 + ROUNDING;
}

/* Quantiles at qs and at every 1/400, each within alpha of the exact
 * value of its rank; also monotone in q and exact at 0 and 1. */
static void check_accuracy(struct accuracy *acc, const char *what, double alpha, const double *v, size_t n)
{
	struct sketch *s = sketch_of(alpha, v, n);
	double *sorted = sorted_copy(v, n);
	CHECK(sketch_count(s) == n, "%s: count %" PRIu64, what, sketch_count(s));
	CHECK(sketch_min(s) == sorted[0], "%s: min %.17g, want %.17g", what, sketch_min(s), sorted[0]);
	CHECK(sketch_max(s) == sorted[n - 1], "%s: max %.17g, want %.17g", what, sketch_max(s), sorted[n - 1]);
	CHECK(sketch_quantile(s, 0) == sorted[0], "%s: q=0 is not min", what);
	CHECK(sketch_quantile(s, 1) == sorted[n - 1], "%s: q=1 is not max", what);
	for (size_t i = 0; i < NQS; i++) {
		double got = sketch_quantile(s, qs[i]), want = exact_quantile(sorted, n, qs[i]);
		CHECK(within(acc, got, want, alpha), "%s alpha %g: q=%g: got %.17g, exact %.17g", what, alpha,
		      qs[i], got, want);
	}
	int bad = 0, nonmono = 0;
	double prev = -INFINITY;
	for (int i = 0; i <= 400; i++) {
		double q = i / 400.0;
		double got = sketch_quantile(s, q), want = exact_quantile(sorted, n, q);
		if (!within(acc, got, want, alpha)) {
			if (!bad++)
				fprintf(stderr, "%s alpha %g: q=%g: got %.17g, exact %.17g\n", what, alpha, q, got,
					want);
		}
		if (got < prev)
			nonmono++;
		prev = got;
	}
	CHECK(bad == 0, "%s alpha %g: %d of 401 quantiles off", what, alpha, bad);
	CHECK(nonmono == 0, "%s alpha %g: quantiles not monotone in %d places", what, alpha, nonmono);
	free(sorted);
	sketch_free(s);
}

static void test_accuracy(struct accuracy *acc)
{
	struct rng r = {1};
	for (int d = 0; d < D_COUNT; d++) {
		size_t n = 20000;
		double *v = dist_fill(&r, d, n);
		check_accuracy(acc, dist_name[d], 0.01, v, n);
		/* sorted input grows the stores one way, then the other */
		double *up = sorted_copy(v, n);
		check_accuracy(acc, dist_name[d], 0.01, up, n);
		for (size_t i = 0; i < n / 2; i++) {
			double t = up[i];
			up[i] = up[n - 1 - i];
			up[n - 1 - i] = t;
		}
		check_accuracy(acc, dist_name[d], 0.01, up, n);
		free(up);
		/* small data sets, where the ranks fall between buckets */
		check_accuracy(acc, dist_name[d], 0.01, v, 7);
		check_accuracy(acc, dist_name[d], 0.01, v, 101);
		free(v);
	}
	/* other accuracies */
	static const double alphas[] = {1e-4, 0.001, 0.05, 0.2, 0.5, 0.9};
	for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++) {
		for (int d = 0; d < D_COUNT; d++) {
			if (d == D_WIDE && alphas[a] < 0.001)
				continue; /* 7 million buckets: right, but slow under ASan */
			double *v = dist_fill(&r, d, 5000);
			check_accuracy(acc, dist_name[d], alphas[a], v, 5000);
			free(v);
		}
	}
	/* the extremes of the double range */
	double ext[] = {DBL_MAX, -DBL_MAX, 1e-300, -1e-300, 1e300, -1e300, 1, -1, 0, 2, 0.5,
			DBL_MAX / 3, 1.0000001e-300, 1e308, -1e308};
	check_accuracy(acc, "extremes", 0.01, ext, sizeof ext / sizeof ext[0]);
	check_accuracy(acc, "extremes", 0.5, ext, sizeof ext / sizeof ext[0]);
}

/* ---- merges ---- */

/* Equal answers: count, min, max, zeros and every bucket (compared as the
 * serialised bytes without the sum), 51 quantiles, and the sum up to
 * rounding, relative to the sum of magnitudes (abs_sum). */
static void check_same(const char *what, const struct sketch *got, const struct sketch *want, double abs_sum)
{
	CHECK(sketch_count(got) == sketch_count(want), "%s: count %" PRIu64 ", want %" PRIu64, what,
	      sketch_count(got), sketch_count(want));
	if (sketch_count(want)) {
		CHECK(sketch_min(got) == sketch_min(want), "%s: min %.17g, want %.17g", what, sketch_min(got),
		      sketch_min(want));
		CHECK(sketch_max(got) == sketch_max(want), "%s: max %.17g, want %.17g", what, sketch_max(got),
		      sketch_max(want));
	}
	CHECK(fabs(sketch_sum(got) - sketch_sum(want)) <= 1e-9 * abs_sum, "%s: sum %.17g, want %.17g", what,
	      sketch_sum(got), sketch_sum(want));
	int diff = 0;
	for (int i = 0; i <= 40; i++) {
		double q = i / 40.0;
		double a = sketch_quantile(got, q), b = sketch_quantile(want, q);
		if (!(a == b || (isnan(a) && isnan(b))))
			diff++;
	}
	for (size_t i = 0; i < NQS; i++) {
		double a = sketch_quantile(got, qs[i]), b = sketch_quantile(want, qs[i]);
		CHECK(a == b || (isnan(a) && isnan(b)), "%s: q=%g: %.17g, want %.17g", what, qs[i], a, b);
	}
	CHECK(diff == 0, "%s: %d of 41 quantiles differ", what, diff);
	struct buf ga = {0}, wa = {0};
	sketch_write(got, &ga);
	sketch_write(want, &wa);
	CHECK(ga.len == wa.len && memcmp(ga.p, wa.p, SUM_AT) == 0 &&
		      memcmp(ga.p + SUM_END, wa.p + SUM_END, ga.len - SUM_END) == 0,
	      "%s: buckets differ (%zu bytes, want %zu)", what, ga.len, wa.len);
	buf_free(&ga);
	buf_free(&wa);
}

enum split { SPLIT_CONTIGUOUS, SPLIT_ROUND_ROBIN, SPLIT_RANDOM, SPLIT_COUNT };
static const char *const split_name[SPLIT_COUNT] = {"contiguous", "round-robin", "random"};

enum order { ORDER_FORWARD, ORDER_BACKWARD, ORDER_TREE, ORDER_INTO_PART, ORDER_COUNT };
static const char *const order_name[ORDER_COUNT] = {"forward", "backward", "tree", "into a part"};

static void test_merge_splits(void)
{
	const double alpha = 0.01;
	struct rng r = {2};
	size_t n = 30000;
	/* a bit of everything: every distribution in turn */
	double *v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = dist_draw(&r, (enum dist)(i % D_COUNT));
	double abs_sum = 0;
	for (size_t i = 0; i < n; i++)
		abs_sum += fabs(v[i]);
	double *sorted = sorted_copy(v, n);
	struct sketch *all = sketch_of(alpha, v, n);

	static const int ks[] = {2, 3, 5, 16};
	for (int pass = 0; pass < 2; pass++) {
		/* sorted data split contiguously gives parts with disjoint ranges */
		const double *data = pass ? sorted : v;
		for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
			int k = ks[ki];
			for (int sp = 0; sp < SPLIT_COUNT; sp++) {
				for (int ord = 0; ord < ORDER_COUNT; ord++) {
					struct sketch *part[16];
					for (int i = 0; i < k; i++)
						part[i] = sketch_new(alpha);
					for (size_t i = 0; i < n; i++) {
						size_t p = sp == SPLIT_CONTIGUOUS ? i * (size_t)k / n
							   : sp == SPLIT_ROUND_ROBIN ? i % (size_t)k
										     : rng_next(&r) % (size_t)k;
						sketch_add(part[p], data[i]);
					}
					struct sketch *m = NULL;
					int rc = 0;
					if (ord == ORDER_FORWARD) {
						m = sketch_new(alpha);
						for (int i = 0; i < k; i++)
							rc |= sketch_merge(m, part[i]);
					} else if (ord == ORDER_BACKWARD) {
						m = sketch_new(alpha);
						for (int i = k - 1; i >= 0; i--)
							rc |= sketch_merge(m, part[i]);
					} else if (ord == ORDER_TREE) {
						struct sketch *t[16] = {0};
						for (int i = 0; i < k; i++)
							t[i] = sketch_copy(part[i], alpha);
						for (int w = 1; w < k; w *= 2)
							for (int i = 0; i + w < k; i += 2 * w)
								rc |= sketch_merge(t[i], t[i + w]);
						m = t[0];
						for (int i = 1; i < k; i++)
							sketch_free(t[i]);
					} else {
						/* into the last part, the others in a shuffled order */
						int idx[16];
						for (int i = 0; i < k - 1; i++)
							idx[i] = i;
						for (int i = k - 2; i > 0; i--) {
							int j = (int)(rng_next(&r) % (uint64_t)(i + 1));
							int t = idx[i];
							idx[i] = idx[j];
							idx[j] = t;
						}
						m = part[k - 1];
						part[k - 1] = NULL;
						for (int i = 0; i < k - 1; i++)
							rc |= sketch_merge(m, part[idx[i]]);
					}
					char what[128];
					snprintf(what, sizeof what, "%s data, %d parts %s, merged %s",
						 pass ? "sorted" : "shuffled", k, split_name[sp], order_name[ord]);
					CHECK(rc == 0, "%s: merge returned %d", what, rc);
					check_same(what, m, all, abs_sum);
					sketch_free(m);
					for (int i = 0; i < k; i++)
						sketch_free(part[i]);
				}
			}
		}
	}

	/* a += a is the sketch of every value twice */
	struct sketch *twice = sketch_of(alpha, v, n);
	for (size_t i = 0; i < n; i++)
		sketch_add(twice, v[i]);
	struct sketch *self = sketch_of(alpha, v, n);
	CHECK(sketch_merge(self, self) == 0, "self merge failed");
	check_same("self merge", self, twice, 2 * abs_sum);
	sketch_free(self);
	sketch_free(twice);

	/* merging with empty sketches changes nothing */
	struct sketch *e = sketch_new(alpha), *c = sketch_copy(all, alpha);
	CHECK(sketch_merge(c, e) == 0, "merge of an empty sketch failed");
	check_same("merge of an empty sketch", c, all, abs_sum);
	CHECK(sketch_merge(e, all) == 0, "merge into an empty sketch failed");
	check_same("merge into an empty sketch", e, all, abs_sum);
	sketch_free(e);
	sketch_free(c);
	struct sketch *e1 = sketch_new(alpha), *e2 = sketch_new(alpha);
	CHECK(sketch_merge(e1, e2) == 0, "merge of empties failed");
	CHECK(sketch_count(e1) == 0 && isnan(sketch_quantile(e1, 0.5)), "merge of empties is not empty");
	sketch_free(e1);
	sketch_free(e2);

	sketch_free(all);
	free(sorted);
	free(v);
}

static void test_merge_mismatch(void)
{
	struct sketch *a = sketch_new(0.01), *b = sketch_new(0.02);
	for (int i = 1; i <= 100; i++) {
		sketch_add(a, i);
		sketch_add(b, -i);
	}
	struct buf before = {0}, after = {0};
	sketch_write(a, &before);
	CHECK(sketch_merge(a, b) == -1, "merge of different alphas succeeded");
	sketch_write(a, &after);
	CHECK(before.len == after.len && memcmp(before.p, after.p, before.len) == 0,
	      "failed merge changed the sketch");
	/* nearly equal is not equal */
	struct sketch *c = sketch_new(nextafter(0.01, 1));
	CHECK(sketch_merge(a, c) == -1, "merge of alphas one ulp apart succeeded");
	buf_free(&before);
	buf_free(&after);
	sketch_free(a);
	sketch_free(b);
	sketch_free(c);
}

/* ---- small cases ---- */

static void test_empty(void)
{
	struct sketch *s = sketch_new(0.01);
	CHECK(s != NULL, "sketch_new(0.01) is NULL");
	CHECK(sketch_count(s) == 0, "count %" PRIu64, sketch_count(s));
	for (size_t i = 0; i < NQS; i++)
		CHECK(isnan(sketch_quantile(s, qs[i])), "empty q=%g is %g", qs[i], sketch_quantile(s, qs[i]));
	CHECK(isnan(sketch_min(s)) && isnan(sketch_max(s)), "empty min/max %g %g", sketch_min(s), sketch_max(s));
	CHECK(sketch_sum(s) == 0, "empty sum %g", sketch_sum(s));
	/* non-finite values are ignored */
	sketch_add(s, NAN);
	sketch_add(s, INFINITY);
	sketch_add(s, -INFINITY);
	CHECK(sketch_count(s) == 0, "non-finite values counted: %" PRIu64, sketch_count(s));
	CHECK(sketch_sum(s) == 0, "non-finite values summed: %g", sketch_sum(s));
	sketch_free(s);
	sketch_free(NULL);
}

static void test_alpha(void)
{
	static const double bad[] = {0, -0.01, 1, 1.5, 1e-7, 9.9e-5, 0.99999999999999999};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sketch *s = sketch_new(bad[i]);
		CHECK(s == NULL, "sketch_new(%.17g) accepted", bad[i]);
		sketch_free(s);
	}
	CHECK(sketch_new(NAN) == NULL, "sketch_new(NAN) accepted");
	CHECK(sketch_new(INFINITY) == NULL, "sketch_new(INFINITY) accepted");
	static const double good[] = {1e-4, 0.001, 0.5, 0.999};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct sketch *s = sketch_new(good[i]);
		CHECK(s != NULL, "sketch_new(%g) refused", good[i]);
		if (!s)
			continue;
		/* nearby values: the finest alpha stays within a small store */
		for (int j = 0; j < 1000; j++)
			sketch_add(s, 100 + j * 0.01);
		double got = sketch_quantile(s, 0.5), want = 100 + 499 * 0.01;
		CHECK(fabs(got - want) <= good[i] * want * (1 + ROUNDING), "alpha %g: median %.17g, want %.17g",
		      good[i], got, want);
		sketch_free(s);
	}
}

static void test_single(void)
{
	static const double vals[] = {42.5, -3.25, 0, -0.0, 1e-310, -1e-310, 1e-300, DBL_MIN, DBL_MAX, -DBL_MAX, 1, 7e-5};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		double v = vals[i];
		struct sketch *s = sketch_new(0.01);
		sketch_add(s, v);
		CHECK(sketch_count(s) == 1, "single %g: count %" PRIu64, v, sketch_count(s));
		CHECK(sketch_min(s) == v && sketch_max(s) == v, "single %g: min %g max %g", v, sketch_min(s),
		      sketch_max(s));
		CHECK(sketch_sum(s) == v, "single %g: sum %g", v, sketch_sum(s));
		for (size_t j = 0; j < NQS; j++)
			CHECK(sketch_quantile(s, qs[j]) == v, "single %g: q=%g is %.17g", v, qs[j],
			      sketch_quantile(s, qs[j]));
		CHECK(isnan(sketch_quantile(s, -0.1)) && isnan(sketch_quantile(s, 1.1)) &&
			      isnan(sketch_quantile(s, NAN)),
		      "single %g: q outside [0, 1] is not NAN", v);
		sketch_free(s);
	}
	/* lower nearest rank: with two values, every q < 1 is the first */
	struct sketch *s = sketch_new(0.01);
	sketch_add(s, 1000);
	sketch_add(s, 1);
	CHECK(sketch_quantile(s, 0.5) == 1, "two values: median %g", sketch_quantile(s, 0.5));
	CHECK(sketch_quantile(s, 0.999) == 1, "two values: q=.999 %g", sketch_quantile(s, 0.999));
	CHECK(sketch_quantile(s, 1) == 1000, "two values: q=1 %g", sketch_quantile(s, 1));
	/* three values: the middle one is reported from its bucket */
	sketch_add(s, 10);
	double mid = sketch_quantile(s, 0.5);
	CHECK(fabs(mid - 10) <= 0.01 * 10 * (1 + ROUNDING), "three values: median %.17g", mid);
	sketch_free(s);
	/* zeros of both signs: -0 is the min and +0 the max, in any order */
	{
		struct sketch *x = sketch_new(0.01), *y = sketch_new(0.01);
		sketch_add(x, -0.0);
		sketch_add(x, 0.0);
		sketch_add(y, 0.0);
		sketch_add(y, -0.0);
		struct buf bx = {0}, by = {0};
		sketch_write(x, &bx);
		sketch_write(y, &by);
		CHECK(bx.len == by.len && memcmp(bx.p, by.p, bx.len) == 0, "signed zeros: order changed the bytes");
		CHECK(signbit(sketch_min(x)) && !signbit(sketch_max(x)), "signed zeros: min %g max %g",
		      sketch_min(x), sketch_max(x));
		struct sketch *m = sketch_new(0.01), *p = sketch_new(0.01), *n = sketch_new(0.01);
		sketch_add(p, 0.0);
		sketch_add(n, -0.0);
		sketch_merge(m, p);
		sketch_merge(m, n);
		struct buf bm = {0};
		sketch_write(m, &bm);
		CHECK(bm.len == bx.len && memcmp(bm.p, bx.p, bx.len) == 0, "signed zeros: merge changed the bytes");
		buf_free(&bx);
		buf_free(&by);
		buf_free(&bm);
		sketch_free(x);
		sketch_free(y);
		sketch_free(m);
		sketch_free(p);
		sketch_free(n);
	}
	/* tiny values count as zeros (documented), min and max stay exact */
	s = sketch_new(0.01);
	sketch_add(s, -1e-310);
	sketch_add(s, 1e-320);
	sketch_add(s, 0);
	sketch_add(s, 1e-305);
	CHECK(sketch_quantile(s, 0.5) == 0, "tiny values: median %g", sketch_quantile(s, 0.5));
	CHECK(sketch_min(s) == -1e-310 && sketch_max(s) == 1e-305, "tiny values: min %g max %g", sketch_min(s),
	      sketch_max(s));
	sketch_free(s);
	/* non-finite values leave a sketch as it was */
	s = sketch_new(0.01);
	for (int i = -50; i <= 50; i++)
		sketch_add(s, i * 1.5);
	struct buf before = {0}, after = {0};
	sketch_write(s, &before);
	sketch_add(s, NAN);
	sketch_add(s, -NAN);
	sketch_add(s, INFINITY);
	sketch_add(s, -INFINITY);
	sketch_write(s, &after);
	CHECK(before.len == after.len && memcmp(before.p, after.p, before.len) == 0,
	      "non-finite values changed the sketch");
	buf_free(&before);
	buf_free(&after);
	sketch_free(s);
}

/* ---- serialisation ---- */

/* sketch_read of an exact-size heap copy of p[0..n). */
static struct sketch *read_n(const char *p, size_t n)
{
	char *copy = malloc(n ? n : 1);
	if (n)
		memcpy(copy, p, n);
	struct sketch *s = sketch_read(copy, n);
	free(copy);
	return s;
}

/* What any sketch that sketch_read accepts must satisfy. */
static int sane(const struct sketch *s)
{
	uint64_t n = sketch_count(s);
	if (!n)
		return isnan(sketch_quantile(s, 0.5)) && isnan(sketch_min(s));
	double min = sketch_min(s), max = sketch_max(s);
	if (!(min <= max) || sketch_quantile(s, 0) != min || sketch_quantile(s, 1) != max)
		return 0;
	double prev = min;
	for (int i = 0; i <= 40; i++) {
		double v = sketch_quantile(s, i / 40.0);
		if (!(v >= prev && v <= max))
			return 0;
		prev = v;
	}
	/* accepted bytes are canonical: they write back the same way */
	struct buf a = {0}, b = {0};
	sketch_write(s, &a);
	struct sketch *t = read_n(a.p, a.len);
	int ok = t != NULL;
	if (t) {
		sketch_write(t, &b);
		ok = a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
	}
	sketch_free(t);
	buf_free(&a);
	buf_free(&b);
	return ok;
}

static void check_round_trip(const char *what, const struct sketch *s)
{
	struct buf a = {0}, b = {0};
	sketch_write(s, &a);
	struct sketch *t = read_n(a.p, a.len);
	CHECK(t != NULL, "%s: round trip refused (%zu bytes)", what, a.len);
	if (!t) {
		buf_free(&a);
		return;
	}
	sketch_write(t, &b);
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "%s: bytes differ after round trip", what);
	CHECK(sketch_count(t) == sketch_count(s), "%s: count", what);
	CHECK(memcmp(&(double){sketch_sum(t)}, &(double){sketch_sum(s)}, sizeof(double)) == 0, "%s: sum", what);
	if (sketch_count(s))
		CHECK(sketch_min(t) == sketch_min(s) && sketch_max(t) == sketch_max(s), "%s: min/max", what);
	int diff = 0;
	for (int i = 0; i <= 200; i++) {
		double x = sketch_quantile(t, i / 200.0), y = sketch_quantile(s, i / 200.0);
		if (!(x == y || (isnan(x) && isnan(y))))
			diff++;
	}
	CHECK(diff == 0, "%s: %d quantiles differ after round trip", what, diff);
	/* merging a restored sketch is as good as merging the original */
	struct sketch *m1 = sketch_new(0.01), *m2 = sketch_new(0.01);
	int r1 = sketch_merge(m1, s), r2 = sketch_merge(m2, t);
	CHECK(r1 == r2, "%s: merge of restored sketch returned %d, original %d", what, r2, r1);
	sketch_free(m1);
	sketch_free(m2);
	sketch_free(t);
	buf_free(&a);
	buf_free(&b);
}

/* Every proper prefix must be refused: all of them when all is set,
 * else the first 64 and about 200 more. */
static void check_truncations(const char *what, const struct sketch *s, int all)
{
	struct buf a = {0};
	sketch_write(s, &a);
	size_t stride = all || a.len < 200 ? 1 : a.len / 200;
	int accepted = 0;
	for (size_t n = 0; n < a.len; n += (n < 64 ? 1 : stride)) {
		struct sketch *t = read_n(a.p, n);
		if (t)
			accepted++;
		sketch_free(t);
	}
	CHECK(accepted == 0, "%s: %d truncations accepted", what, accepted);
	/* and one byte more */
	buf_addc(&a, 0);
	struct sketch *t = read_n(a.p, a.len);
	CHECK(t == NULL, "%s: trailing byte accepted", what);
	sketch_free(t);
	buf_free(&a);
}

static void check_corruptions(const char *what, const struct sketch *s, struct rng *r, int trials, int *accepted)
{
	struct buf a = {0};
	sketch_write(s, &a);
	char *copy = malloc(a.len);
	int insane = 0;
	for (int i = 0; i < trials; i++) {
		memcpy(copy, a.p, a.len);
		int flips = 1 + (int)(rng_next(r) % 3);
		for (int f = 0; f < flips; f++) {
			size_t at = rng_next(r) % a.len;
			if (rng_next(r) & 1)
				copy[at] ^= (char)(1u << (rng_next(r) % 8));
			else
				copy[at] = (char)rng_next(r);
		}
		/* sometimes cut as well */
		size_t n = rng_next(r) % 4 == 0 ? rng_next(r) % a.len : a.len;
		struct sketch *t = read_n(copy, n);
		if (t) {
			(*accepted)++;
			if (!sane(t))
				insane++;
		}
		sketch_free(t);
	}
	CHECK(insane == 0, "%s: %d corrupted inputs gave inconsistent sketches", what, insane);
	free(copy);
	buf_free(&a);
}

static void put_varint(struct buf *b, uint64_t u)
{
	do {
		buf_addc(b, (char)((u & 0x7f) | (u >> 7 ? 0x80 : 0)));
		u >>= 7;
	} while (u);
}

static void put_f64(struct buf *b, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	for (int i = 0; i < 8; i++)
		buf_addc(b, (char)(u >> (8 * i)));
}

static void put_head(struct buf *b, double alpha, double min, double max, double sum)
{
	buf_add(b, "CXSK\1", 5);
	put_f64(b, alpha);
	put_f64(b, min);
	put_f64(b, max);
	put_f64(b, sum);
}

/* Hand-made inputs, each either valid (want != 0) or not. */
static void check_bytes(const char *what, const struct buf *b, int want)
{
	struct sketch *s = read_n(b->p, b->len);
	CHECK((s != NULL) == want, "%s: %s", what, s ? "accepted" : "refused");
	if (s)
		CHECK(sane(s), "%s: accepted but inconsistent", what);
	sketch_free(s);
}

static void test_handmade(void)
{
	struct buf b = {0};
	/* 3 zeros */
	put_head(&b, 0.01, 0, 0, 0);
	put_varint(&b, 3);
	put_varint(&b, 0);
	put_varint(&b, 0);
	check_bytes("three zeros", &b, 1);
	buf_clear(&b);
	/* a count near 2^64: the rank arithmetic must stay in range */
	put_head(&b, 0.01, -1, 1, 0);
	put_varint(&b, UINT64_MAX - 2);
	put_varint(&b, 1);
	put_varint(&b, 0); /* key of 1 is 0 */
	put_varint(&b, 1);
	put_varint(&b, 1);
	put_varint(&b, 0);
	put_varint(&b, 1);
	{
		struct sketch *s = read_n(b.p, b.len);
		CHECK(s != NULL, "count 2^64-1 refused");
		if (s) {
			CHECK(sketch_count(s) == UINT64_MAX, "count %" PRIu64, sketch_count(s));
			CHECK(sketch_quantile(s, 1) == 1 && sketch_quantile(s, 0) == -1,
			      "huge count: q=0 %g q=1 %g", sketch_quantile(s, 0), sketch_quantile(s, 1));
			CHECK(sketch_quantile(s, 0.5) == 0, "huge count: median %g", sketch_quantile(s, 0.5));
			struct sketch *one = sketch_new(0.01);
			sketch_add(one, 5);
			CHECK(sketch_merge(s, one) == -1, "merge past 2^64 values succeeded");
			CHECK(sketch_count(s) == UINT64_MAX, "failed merge changed the count");
			sketch_free(one);
			sketch_free(s);
		}
	}
	buf_clear(&b);
	/* zero count overflowing with the stores */
	put_head(&b, 0.01, 0, 1, 0);
	put_varint(&b, UINT64_MAX);
	put_varint(&b, 0);
	put_varint(&b, 1);
	put_varint(&b, 0);
	put_varint(&b, 1);
	check_bytes("count overflow", &b, 0);
	buf_clear(&b);
	/* bad magic, version, alpha */
	buf_add(&b, "CXSk\1", 5);
	check_bytes("bad magic", &b, 0);
	buf_clear(&b);
	buf_add(&b, "CXSK\2", 5);
	put_f64(&b, 0.01);
	put_f64(&b, INFINITY);
	put_f64(&b, -INFINITY);
	put_f64(&b, 0);
	buf_add(&b, "\0\0\0", 3);
	check_bytes("version 2", &b, 0);
	static const double alphas[] = {0, -1, 1, 2, 1e-9};
	for (size_t i = 0; i < sizeof alphas / sizeof alphas[0]; i++) {
		buf_clear(&b);
		put_head(&b, alphas[i], INFINITY, -INFINITY, 0);
		buf_add(&b, "\0\0\0", 3);
		check_bytes("bad alpha", &b, 0);
	}
	buf_clear(&b);
	put_head(&b, NAN, INFINITY, -INFINITY, 0);
	buf_add(&b, "\0\0\0", 3);
	check_bytes("alpha NAN", &b, 0);
	/* empty: only +inf, -inf, 0 */
	buf_clear(&b);
	put_head(&b, 0.01, INFINITY, -INFINITY, 0);
	buf_add(&b, "\0\0\0", 3);
	check_bytes("empty", &b, 1);
	buf_clear(&b);
	put_head(&b, 0.01, 0, 0, 0);
	buf_add(&b, "\0\0\0", 3);
	check_bytes("empty with min 0", &b, 0);
	/* a varint longer than needed */
	buf_clear(&b);
	put_head(&b, 0.01, 0, 0, 0);
	buf_add(&b, "\x81\x00\0\0", 4);
	check_bytes("long varint", &b, 0);
	/* a varint past 64 bits */
	buf_clear(&b);
	put_head(&b, 0.01, 0, 0, 0);
	buf_add(&b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02\0\0", 12);
	check_bytes("varint past 64 bits", &b, 0);
	/* a store that claims more buckets than there are bytes */
	buf_clear(&b);
	put_head(&b, 0.01, 1, 1, 1);
	put_varint(&b, 0);
	put_varint(&b, 0);
	put_varint(&b, UINT64_C(1) << 40);
	put_varint(&b, 0);
	put_varint(&b, 1);
	check_bytes("huge bucket count", &b, 0);
	/* keys outside the range of doubles */
	buf_clear(&b);
	put_head(&b, 0.01, 1, 1, 1);
	put_varint(&b, 0);
	put_varint(&b, 0);
	put_varint(&b, 1);
	put_varint(&b, 2 * 40000); /* zigzag of key 40000, past DBL_MAX's 35,488 */
	put_varint(&b, 1);
	check_bytes("key too large", &b, 0);
	/* empty buckets at the ends of a store */
	buf_clear(&b);
	put_head(&b, 0.01, 1, 1, 1);
	put_varint(&b, 0);
	put_varint(&b, 0);
	put_varint(&b, 2);
	put_varint(&b, 0);
	put_varint(&b, 1);
	put_varint(&b, 0);
	check_bytes("empty end bucket", &b, 0);
	/* runs of empty buckets: 1 and 1000 are keys 0 and 346 */
	static const struct {
		const char *what;
		uint64_t n, entries[6];
		int nent, want;
	} runs[] = {
		{"a run", 347, {1, 0, 344, 1}, 4, 1},
		{"no run", 347, {1, 0, 344, 1, 1}, 5, 0},
		{"a run too long", 347, {1, 0, 345, 1}, 4, 0},
		{"a run too short", 347, {1, 0, 343, 1}, 4, 0},
		{"two runs in a row", 347, {1, 0, 100, 0, 243, 1}, 6, 0},
		{"a run first", 347, {0, 0, 1, 0, 343, 1}, 6, 0},
		{"a run last", 347, {1, 0, 345}, 3, 0},
	};
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		buf_clear(&b);
		put_head(&b, 0.01, 1, 1000, 1001);
		put_varint(&b, 0);
		put_varint(&b, 0);
		put_varint(&b, runs[i].n);
		put_varint(&b, 0);
		for (int j = 0; j < runs[i].nent; j++)
			put_varint(&b, runs[i].entries[j]);
		check_bytes(runs[i].what, &b, runs[i].want);
	}
	{
		struct sketch *s = sketch_new(0.01);
		sketch_add(s, 1);
		sketch_add(s, 1000);
		struct buf w = {0};
		sketch_write(s, &w);
		buf_clear(&b);
		put_head(&b, 0.01, 1, 1000, 1001);
		put_varint(&b, 0);
		put_varint(&b, 0);
		put_varint(&b, 347);
		put_varint(&b, 0);
		put_varint(&b, 1);
		put_varint(&b, 0);
		put_varint(&b, 344);
		put_varint(&b, 1);
		CHECK(w.len == b.len && memcmp(w.p, b.p, b.len) == 0, "1 and 1000 not written as documented");
		buf_free(&w);
		sketch_free(s);
	}
	/* min and max must lie in the end buckets */
	buf_clear(&b);
	put_head(&b, 0.01, 1, 1, 1);
	put_varint(&b, 0);
	put_varint(&b, 0);
	put_varint(&b, 1);
	put_varint(&b, 0);
	put_varint(&b, 1);
	check_bytes("one at key 0", &b, 1);
	buf_clear(&b);
	put_head(&b, 0.01, 2, 2, 2);
	put_varint(&b, 0);
	put_varint(&b, 0);
	put_varint(&b, 1);
	put_varint(&b, 0);
	put_varint(&b, 1);
	check_bytes("min outside its bucket", &b, 0);
	buf_clear(&b);
	put_head(&b, 0.01, 1, NAN, 1);
	put_varint(&b, 0);
	put_varint(&b, 0);
	put_varint(&b, 1);
	put_varint(&b, 0);
	put_varint(&b, 1);
	check_bytes("max NAN", &b, 0);
	buf_clear(&b);
	put_head(&b, 0.01, 0, 1, 1);
	put_varint(&b, 1);
	put_varint(&b, 0);
	put_varint(&b, 0);
	check_bytes("max with no positive bucket", &b, 0);
	buf_clear(&b);
	put_head(&b, 0.01, 0.0, -0.0, 0);
	put_varint(&b, 2);
	put_varint(&b, 0);
	put_varint(&b, 0);
	check_bytes("min +0 above max -0", &b, 0);
	buf_clear(&b);
	put_head(&b, 0.01, -0.0, 0.0, 0);
	put_varint(&b, 2);
	put_varint(&b, 0);
	put_varint(&b, 0);
	check_bytes("min -0, max +0", &b, 1);
	buf_free(&b);
}

static void test_serialise(void)
{
	struct rng r = {3};
	int accepted = 0;
	struct sketch *e = sketch_new(0.01);
	check_round_trip("empty", e);
	check_truncations("empty", e, 1);
	check_corruptions("empty", e, &r, 2000, &accepted);
	sketch_free(e);
	for (int d = 0; d < D_COUNT; d++) {
		double *v = dist_fill(&r, d, 20000);
		struct sketch *s = sketch_of(0.01, v, 20000);
		check_round_trip(dist_name[d], s);
		check_truncations(dist_name[d], s, 0);
		sketch_free(s);
		/* small sketches: every truncation, many corruptions */
		s = sketch_of(0.01, v, 60);
		check_round_trip(dist_name[d], s);
		check_truncations(dist_name[d], s, 1);
		check_corruptions(dist_name[d], s, &r, 5000, &accepted);
		sketch_free(s);
		s = sketch_of(0.01, v, 3);
		check_truncations(dist_name[d], s, 1);
		check_corruptions(dist_name[d], s, &r, 2000, &accepted);
		sketch_free(s);
		free(v);
	}
	printf("sketch: %d corrupted inputs accepted as consistent sketches\n", accepted);
	test_handmade();
}

int main(void)
{
	struct accuracy acc = {0};
	test_empty();
	test_alpha();
	test_single();
	test_accuracy(&acc);
	test_merge_splits();
	test_merge_mismatch();
	test_serialise();
	printf("sketch: worst quantile error %.12f of alpha\n", acc.worst);
	return check_summary("sketch");
}
