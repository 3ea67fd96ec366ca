/* test_tzone.c: unit tests of tzone (TZif files, POSIX TZ footers, fixed
 * offsets, names, the cache).
 *
 * Real zones come from the system's tzdata; their expected offsets were
 * taken from Python's zoneinfo and are written out here.  Made-up zones
 * are built byte by byte by tzif_build into a temp directory that TZDIR
 * points at while a cache is made, and so are the damaged copies of
 * Europe/Warsaw: every truncation and many one-byte changes must give an
 * error or an answer, never a crash or a read past the data (run under
 * ASan and valgrind).
 *
 * Every name is handed to tz_offset in a heap block of exactly its length,
 * without a terminating NUL, so that ASan catches any read past len.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "base/mem.h"
#include "base/tzone.h"

#define SEC INT64_C(1000000000)
#define HOUR INT64_C(3600)

/* UTC seconds of a civil time (Hinnant's days_from_civil). */
static int64_t utc(int64_t y, int m, int d, int hh, int mm, int ss)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	return days * 86400 + hh * 3600 + mm * 60 + ss;
}

/* tz_offset on an exact-size copy of name[0..n); *off in ns. */
static int lookup_ns(struct tz_cache *c, const char *name, size_t n, int64_t ns, int64_t *off,
		     const char **why)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, name, n);
	*off = INT64_MIN;
	*why = NULL;
	int r = tz_offset(c, copy, n, ns, off, why);
	free(copy);
	return r;
}

/* The offset of zone name at UTC second t, in seconds, or a check failure. */
#define EXPECT_OFF(c, name, t, want)                                                     \
	do {                                                                             \
		int64_t o_;                                                              \
		const char *w_;                                                          \
		int r_ = lookup_ns((c), (name), strlen(name), (t) * SEC, &o_, &w_);      \
		CHECK(r_ == 0 && o_ == (int64_t)(want) * SEC,                            \
		      "%s at %s: rc %d, offset %" PRId64 "s (%s), want %" PRId64 "s",     \
		      (name), #t, r_, r_ ? 0 : o_ / SEC, r_ ? w_ : "-", (int64_t)(want)); \
	} while (0)

/* tz_offset must fail for name[0..n) with message msg. */
#define EXPECT_ERR_N(c, name, n, msg)                                            \
	do {                                                                     \
		int64_t o_;                                                      \
		const char *w_;                                                  \
		int r_ = lookup_ns((c), (name), (n), 0, &o_, &w_);               \
		CHECK(r_ == -1 && w_ && strcmp(w_, (msg)) == 0,                  \
		      "%s: rc %d, why '%s', want '%s'", #name, r_, w_ ? w_ : "(null)", (msg)); \
	} while (0)
#define EXPECT_ERR(c, name, msg) EXPECT_ERR_N(c, name, strlen(name), msg)

/* ---- the temp directory ---- */

struct fixture {
	char dir[64];   /* mkdtemp template, then the directory */
	char *made[64]; /* relative paths created, removed in reverse order */
	int nmade;
};

static void fx_path(const struct fixture *fx, const char *rel, struct buf *path)
{
	buf_clear(path);
	buf_printf(path, "%s/%s", fx->dir, rel);
}

static void fx_remember(struct fixture *fx, const char *rel)
{
	for (int i = 0; i < fx->nmade; i++)
		if (strcmp(fx->made[i], rel) == 0)
			return;
	if (fx->nmade < (int)(sizeof fx->made / sizeof fx->made[0]))
		fx->made[fx->nmade++] = mem_strndup(rel, strlen(rel));
}

static void fx_mkdir(struct fixture *fx, const char *rel)
{
	struct buf path = {0};
	fx_path(fx, rel, &path);
	mkdir(path.p, 0700);
	buf_free(&path);
	fx_remember(fx, rel);
}

static void fx_write(struct fixture *fx, const char *rel, const void *p, size_t n)
{
	struct buf path = {0};
	fx_path(fx, rel, &path);
	FILE *f = fopen(path.p, "wb");
	if (!f) {
		perror(path.p);
		exit(2);
	}
	if (n)
		fwrite(p, 1, n, f);
	fclose(f);
	buf_free(&path);
	fx_remember(fx, rel);
}

static void fx_cleanup(struct fixture *fx)
{
	struct buf path = {0};
	for (int i = fx->nmade - 1; i >= 0; i--) {
		fx_path(fx, fx->made[i], &path);
		if (unlink(path.p) != 0)
			rmdir(path.p);
		mem_free(fx->made[i]);
	}
	buf_free(&path);
	rmdir(fx->dir);
}

/* A cache made while TZDIR names dir; TZDIR is restored afterwards, which
 * also checks that the cache keeps the directory it was made with. */
static struct tz_cache *cache_in(const char *dir)
{
	const char *old = getenv("TZDIR");
	char *saved = old ? mem_strndup(old, strlen(old)) : NULL;
	setenv("TZDIR", dir, 1);
	struct tz_cache *c = tz_cache_new();
	if (saved)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	mem_free(saved);
	return c;
}

/* The whole of a file, or exit. */
static void read_all(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(b, chunk, n);
	fclose(f);
}

/* ---- TZif files built by hand ---- */

struct tzif {
	char version;          /* 0 for version 1, else '2', '3', '4' */
	size_t ntrans;         /* transitions */
	const int64_t *trans;  /* their instants */
	const uint8_t *idx;    /* their types */
	size_t ntypes;         /* local time types */
	const int32_t *off;    /* UT offset of each type */
	const uint8_t *isdst;  /* NULL: none is daylight time */
	const char *chars;     /* designations, NULs included */
	size_t nchars;         /* their bytes */
	size_t nleaps;         /* leap-second records to add (to be skipped) */
	const char *footer;    /* version 2+: the TZ string; NULL for "" */
};

static void put32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	buf_add(b, p, 4);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

static void tzif_header(struct buf *b, char version, size_t nleaps, size_t ntrans, size_t ntypes,
			size_t nchars)
{
	buf_add(b, "TZif", 4);
	buf_addc(b, version);
	for (int i = 0; i < 15; i++)
		buf_addc(b, 0);
	put32(b, 0); /* isutcnt */
	put32(b, 0); /* isstdcnt */
	put32(b, (uint32_t)nleaps);
	put32(b, (uint32_t)ntrans);
	put32(b, (uint32_t)ntypes);
	put32(b, (uint32_t)nchars);
}

static void tzif_block(struct buf *b, const struct tzif *z, int tsize)
{
	for (size_t i = 0; i < z->ntrans; i++) {
		if (tsize == 8)
			put64(b, (uint64_t)z->trans[i]);
		else
			put32(b, (uint32_t)(int32_t)z->trans[i]);
	}
	buf_add(b, z->idx, z->ntrans);
	for (size_t i = 0; i < z->ntypes; i++) {
		put32(b, (uint32_t)z->off[i]);
		buf_addc(b, (char)(z->isdst ? z->isdst[i] : 0));
		buf_addc(b, 0);
	}
	buf_add(b, z->chars, z->nchars);
	for (size_t i = 0; i < z->nleaps; i++) {
		int64_t when = 78796800 + (int64_t)i * 31536000; /* 1972-07-01, then yearly */
		if (tsize == 8)
			put64(b, (uint64_t)when);
		else
			put32(b, (uint32_t)when);
		put32(b, (uint32_t)(i + 1));
	}
}

static void tzif_build(struct buf *b, const struct tzif *z)
{
	buf_clear(b);
	if (z->version == 0) {
		tzif_header(b, 0, z->nleaps, z->ntrans, z->ntypes, z->nchars);
		tzif_block(b, z, 4);
		return;
	}
	/* A minimal version 1 block, as zic -b slim writes: one type. */
	tzif_header(b, z->version, 0, 0, 1, 1);
	put32(b, 0);
	buf_addc(b, 0);
	buf_addc(b, 0);
	buf_addc(b, 0);
	tzif_header(b, z->version, z->nleaps, z->ntrans, z->ntypes, z->nchars);
	tzif_block(b, z, 8);
	buf_addc(b, '\n');
	buf_adds(b, z->footer ? z->footer : "");
	buf_addc(b, '\n');
}

/* A zone of one type (offset off) and no transitions, governed by its
 * footer, written as rel. */
static void write_footer_zone(struct fixture *fx, const char *rel, char version, int32_t off,
			      const char *footer)
{
	static const uint8_t no_idx[1] = {0};
	static const int64_t no_trans[1] = {0};
	struct tzif z = {.version = version, .trans = no_trans, .idx = no_idx, .ntypes = 1,
			 .off = &off, .chars = "XXX", .nchars = 4, .footer = footer};
	struct buf b = {0};
	tzif_build(&b, &z);
	fx_write(fx, rel, b.p, b.len);
	buf_free(&b);
}

/* ---- tests ---- */

static void test_real_zones(struct tz_cache *c)
{
	/* Europe/Warsaw: CET +1, CEST +2, switching at 01:00 UTC. */
	EXPECT_OFF(c, "Europe/Warsaw", utc(2026, 1, 15, 12, 0, 0), HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2026, 7, 15, 12, 0, 0), 2 * HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2026, 3, 29, 0, 59, 59), HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2026, 3, 29, 1, 0, 0), 2 * HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2026, 10, 25, 0, 59, 59), 2 * HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2026, 10, 25, 1, 0, 0), HOUR);

	/* One nanosecond before a switch is still before it (floor, not
	 * truncation, of the nanoseconds to seconds). */
	int64_t off;
	const char *why;
	int64_t sw = utc(2026, 3, 29, 1, 0, 0) * SEC;
	CHECK(lookup_ns(c, "Europe/Warsaw", 13, sw - 1, &off, &why) == 0 && off == HOUR * SEC,
	      "1ns before the switch: %" PRId64, off);
	CHECK(lookup_ns(c, "Europe/Warsaw", 13, sw, &off, &why) == 0 && off == 2 * HOUR * SEC,
	      "at the switch: %" PRId64, off);
	/* The same before 1970, where truncation would round up. */
	sw = utc(1969, 4, 27, 7, 0, 0) * SEC;
	CHECK(lookup_ns(c, "America/New_York", 16, sw - 1, &off, &why) == 0 && off == -5 * HOUR * SEC,
	      "1ns before the 1969 switch: %" PRId64, off);
	CHECK(lookup_ns(c, "America/New_York", 16, sw, &off, &why) == 0 && off == -4 * HOUR * SEC,
	      "at the 1969 switch: %" PRId64, off);

	/* America/New_York: EST -5, EDT -4. */
	EXPECT_OFF(c, "America/New_York", utc(2026, 1, 15, 12, 0, 0), -5 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2026, 7, 15, 12, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2026, 3, 8, 6, 59, 59), -5 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2026, 3, 8, 7, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2026, 11, 1, 5, 59, 59), -4 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2026, 11, 1, 6, 0, 0), -5 * HOUR);

	/* Australia/Lord_Howe: +10:30, and +11 in (southern) summer. */
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2026, 1, 15, 0, 0, 0), 39600);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2026, 7, 15, 0, 0, 0), 37800);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2026, 4, 4, 14, 59, 59), 39600);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2026, 4, 4, 15, 0, 0), 37800);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2026, 10, 3, 15, 29, 59), 37800);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2026, 10, 3, 15, 30, 0), 39600);

	/* Asia/Kolkata: +5:30 now, Howrah Mean Time +5:21:10 in 1900. */
	EXPECT_OFF(c, "Asia/Kolkata", utc(2026, 7, 15, 0, 0, 0), 19800);
	EXPECT_OFF(c, "Asia/Kolkata", utc(1900, 1, 1, 0, 0, 0), 19270);
}

/* After the last transition of the file the footer rule decides. */
static void test_far_future(struct tz_cache *c)
{
	EXPECT_OFF(c, "Europe/Warsaw", utc(2100, 1, 1, 0, 0, 0), HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2100, 7, 1, 0, 0, 0), 2 * HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2100, 3, 28, 0, 59, 59), HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2100, 3, 28, 1, 0, 0), 2 * HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2100, 10, 31, 0, 59, 59), 2 * HOUR);
	EXPECT_OFF(c, "Europe/Warsaw", utc(2100, 10, 31, 1, 0, 0), HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2100, 7, 1, 0, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2100, 3, 14, 6, 59, 59), -5 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2100, 3, 14, 7, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2100, 11, 7, 5, 59, 59), -4 * HOUR);
	EXPECT_OFF(c, "America/New_York", utc(2100, 11, 7, 6, 0, 0), -5 * HOUR);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2100, 4, 3, 14, 59, 59), 39600);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2100, 4, 3, 15, 0, 0), 37800);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2100, 10, 2, 15, 29, 59), 37800);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(2100, 10, 2, 15, 30, 0), 39600);

	/* Footers that use the v3 extensions: rule times past 24:00 and
	 * below 00:00.  Jerusalem: IST-2IDT,M3.4.4/26,M10.5.0 */
	EXPECT_OFF(c, "Asia/Jerusalem", utc(2100, 3, 25, 23, 59, 59), 2 * HOUR);
	EXPECT_OFF(c, "Asia/Jerusalem", utc(2100, 3, 26, 0, 0, 0), 3 * HOUR);
	EXPECT_OFF(c, "Asia/Jerusalem", utc(2100, 10, 30, 22, 59, 59), 3 * HOUR);
	EXPECT_OFF(c, "Asia/Jerusalem", utc(2100, 10, 30, 23, 0, 0), 2 * HOUR);
	/* Nuuk: <-02>2<-01>,M3.5.0/-1,M10.5.0/0 */
	EXPECT_OFF(c, "America/Nuuk", utc(2100, 3, 28, 0, 59, 59), -2 * HOUR);
	EXPECT_OFF(c, "America/Nuuk", utc(2100, 3, 28, 1, 0, 0), -1 * HOUR);
	EXPECT_OFF(c, "America/Nuuk", utc(2100, 10, 31, 0, 59, 59), -1 * HOUR);
	EXPECT_OFF(c, "America/Nuuk", utc(2100, 10, 31, 1, 0, 0), -2 * HOUR);
	/* Santiago: <-04>4<-03>,M9.1.6/24,M4.1.6/24 (southern, 24:00) */
	EXPECT_OFF(c, "America/Santiago", utc(2100, 4, 4, 2, 59, 59), -3 * HOUR);
	EXPECT_OFF(c, "America/Santiago", utc(2100, 4, 4, 3, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "America/Santiago", utc(2100, 9, 5, 3, 59, 59), -4 * HOUR);
	EXPECT_OFF(c, "America/Santiago", utc(2100, 9, 5, 4, 0, 0), -3 * HOUR);
	/* Chatham: <+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45 */
	EXPECT_OFF(c, "Pacific/Chatham", utc(2100, 4, 3, 13, 59, 59), 49500);
	EXPECT_OFF(c, "Pacific/Chatham", utc(2100, 4, 3, 14, 0, 0), 45900);
	EXPECT_OFF(c, "Pacific/Chatham", utc(2100, 9, 25, 13, 59, 59), 45900);
	EXPECT_OFF(c, "Pacific/Chatham", utc(2100, 9, 25, 14, 0, 0), 49500);

	/* The last representable instant, 2262-04-11T23:47:16Z. */
	int64_t off;
	const char *why;
	CHECK(lookup_ns(c, "Europe/Warsaw", 13, INT64_MAX, &off, &why) == 0 && off == 2 * HOUR * SEC,
	      "INT64_MAX: %" PRId64, off);
	CHECK(lookup_ns(c, "America/New_York", 16, INT64_MAX, &off, &why) == 0 &&
		      off == -4 * HOUR * SEC,
	      "INT64_MAX: %" PRId64, off);
}

/* Before the first transition: the zone's first type (local mean time). */
static void test_far_past(struct tz_cache *c)
{
	EXPECT_OFF(c, "Europe/Warsaw", utc(1900, 1, 1, 0, 0, 0), 5040);
	EXPECT_OFF(c, "America/New_York", utc(1900, 1, 1, 0, 0, 0), -5 * HOUR);
	EXPECT_OFF(c, "Australia/Lord_Howe", utc(1900, 1, 1, 0, 0, 0), 36000);
	EXPECT_OFF(c, "Asia/Kolkata", utc(1850, 1, 1, 0, 0, 0), 21208);
	int64_t off;
	const char *why;
	CHECK(lookup_ns(c, "Europe/Warsaw", 13, INT64_MIN, &off, &why) == 0 && off == 5040 * SEC,
	      "INT64_MIN: %" PRId64, off);
	CHECK(lookup_ns(c, "America/New_York", 16, INT64_MIN, &off, &why) == 0 && off == -17762 * SEC,
	      "INT64_MIN: %" PRId64, off);
}

static void test_fixed(struct tz_cache *c)
{
	int64_t t = utc(2026, 7, 1, 0, 0, 0);
	EXPECT_OFF(c, "UTC", t, 0);
	EXPECT_OFF(c, "Z", t, 0);
	EXPECT_OFF(c, "GMT", t, 0);
	EXPECT_OFF(c, "Etc/UTC", t, 0);
	EXPECT_OFF(c, "+02:00", t, 2 * HOUR);
	EXPECT_OFF(c, "-05:30", t, -19800);
	EXPECT_OFF(c, "+0530", t, 19800);
	EXPECT_OFF(c, "-0800", t, -8 * HOUR);
	EXPECT_OFF(c, "+05", t, 5 * HOUR);
	EXPECT_OFF(c, "-03", t, -3 * HOUR);
	EXPECT_OFF(c, "-00:00", t, 0);
	EXPECT_OFF(c, "+00", t, 0);
	EXPECT_OFF(c, "+23:59", t, 86340);
	EXPECT_OFF(c, "-23:59", INT64_MIN / SEC, -86340);
	/* Etc/GMT+5 is a file, five hours west (POSIX sign). */
	EXPECT_OFF(c, "Etc/GMT+5", t, -5 * HOUR);

	static const char *bad[] = {"+24:00", "+02:60", "+2", "+2:00", "+02:0", "+02:000", "+020",
				    "+02-00", "+", "-", "+0a", "++02", "+02:00Z", "+ 2:00", "-0:30"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf want = {0};
		buf_printf(&want, "unknown time zone '%s'", bad[i]);
		EXPECT_ERR(c, bad[i], want.p);
		buf_free(&want);
	}
}

static void test_bad_names(struct tz_cache *c)
{
	EXPECT_ERR(c, "Europe/Warsw", "unknown time zone 'Europe/Warsw'");
	EXPECT_ERR(c, "../etc/passwd", "unknown time zone '../etc/passwd'");
	EXPECT_ERR(c, "/etc/localtime", "unknown time zone '/etc/localtime'");
	EXPECT_ERR(c, "Nope/Nowhere", "unknown time zone 'Nope/Nowhere'");
	EXPECT_ERR(c, "", "unknown time zone ''");
	EXPECT_ERR(c, "Europe", "unknown time zone 'Europe'"); /* a directory */
	EXPECT_ERR(c, "Europe/", "unknown time zone 'Europe/'");
	EXPECT_ERR(c, "Europe//Warsaw", "unknown time zone 'Europe//Warsaw'");
	EXPECT_ERR(c, "Europe/./Warsaw", "unknown time zone 'Europe/./Warsaw'");
	EXPECT_ERR(c, "./Europe/Warsaw", "unknown time zone './Europe/Warsaw'");
	EXPECT_ERR(c, "Europe/../Europe/Warsaw", "unknown time zone 'Europe/../Europe/Warsaw'");
	EXPECT_ERR(c, "Europe/Warsaw ", "unknown time zone 'Europe/Warsaw '");
	EXPECT_ERR(c, " Europe/Warsaw", "unknown time zone ' Europe/Warsaw'");
	EXPECT_ERR(c, "Europe\\Warsaw", "unknown time zone 'Europe\\x5cWarsaw'");
	EXPECT_ERR(c, "europe/warsaw", "unknown time zone 'europe/warsaw'");
	EXPECT_ERR(c, "zone.tab", "unknown time zone 'zone.tab'");
	/* An embedded NUL must not cut the name short to a real zone. */
	EXPECT_ERR_N(c, "Europe/Warsaw\0x", 15, "unknown time zone 'Europe/Warsaw\\x00x'");
	EXPECT_ERR_N(c, "Europe/Warsaw\n", 14, "unknown time zone 'Europe/Warsaw\\x0a'");
	EXPECT_ERR(c, "Europe/Warsaw\xc5\x82", "unknown time zone 'Europe/Warsaw\\xc5\\x82'");

	/* Long names: 256 bytes is too long; the message shows 64 bytes. */
	char name[300];
	memset(name, 'A', sizeof name);
	struct buf want = {0};
	buf_adds(&want, "unknown time zone '");
	buf_add(&want, name, 64);
	buf_adds(&want, "...'");
	EXPECT_ERR_N(c, name, 256, want.p);
	EXPECT_ERR_N(c, name, 255, want.p);
	EXPECT_ERR_N(c, name, sizeof name, want.p);
	buf_free(&want);

	/* A failed name is remembered: the same message again, and the good
	 * zone beside it still works. */
	EXPECT_ERR(c, "Nope/Nowhere", "unknown time zone 'Nope/Nowhere'");
	EXPECT_OFF(c, "Europe/Warsaw", utc(2026, 1, 1, 0, 0, 0), HOUR);
	EXPECT_ERR(c, "Nope/Nowhere", "unknown time zone 'Nope/Nowhere'");
}

/* The same answers however lookups are interleaved: against a fresh cache
 * for every lookup, over 2026 in both directions and mixed zones. */
static void test_cache(struct tz_cache *c)
{
	static const char *zones[] = {"Europe/Warsaw", "America/New_York", "Australia/Lord_Howe",
				      "UTC", "Asia/Kolkata", "+02:00", "Nope/Nowhere"};
	enum { NZ = sizeof zones / sizeof zones[0], NT = 60 };
	int64_t times[NT];
	int64_t t0 = utc(2026, 1, 1, 0, 0, 0);
	for (int i = 0; i < NT; i++)
		times[i] = t0 + (int64_t)i * 6 * 86400 + i * 3607; /* across both switches */
	times[NT - 2] = utc(2026, 3, 29, 1, 0, 0);
	times[NT - 1] = utc(2100, 3, 28, 1, 0, 0);

	int64_t want[NZ][NT];
	int want_rc[NZ][NT];
	for (int z = 0; z < NZ; z++)
		for (int i = 0; i < NT; i++) {
			struct tz_cache *fresh = tz_cache_new();
			const char *why;
			want_rc[z][i] = lookup_ns(fresh, zones[z], strlen(zones[z]), times[i] * SEC,
						  &want[z][i], &why);
			tz_cache_free(fresh);
		}

	int bad = 0;
	unsigned seed = 12345;
	for (int round = 0; round < 4; round++)
		for (int k = 0; k < NT * NZ; k++) {
			int z, i;
			if (round == 0) { /* forward, zone by zone */
				z = k / NT;
				i = k % NT;
			} else if (round == 1) { /* backward */
				z = k / NT;
				i = NT - 1 - k % NT;
			} else if (round == 2) { /* zones interleaved */
				z = k % NZ;
				i = k / NZ;
			} else { /* scattered */
				seed = seed * 1103515245 + 12345;
				z = (int)((seed >> 8) % NZ);
				seed = seed * 1103515245 + 12345;
				i = (int)((seed >> 8) % NT);
			}
			int64_t off;
			const char *why;
			int rc = lookup_ns(c, zones[z], strlen(zones[z]), times[i] * SEC, &off, &why);
			if (rc != want_rc[z][i] || (rc == 0 && off != want[z][i])) {
				if (bad++ < 5)
					fprintf(stderr, "cache round %d: %s at %" PRId64 ": %" PRId64
						" want %" PRId64 "\n", round, zones[z], times[i], off,
						want[z][i]);
			}
		}
	CHECK(bad == 0, "%d cached lookups differ from fresh ones", bad);
	CHECK(want_rc[0][0] == 0 && want[0][0] == HOUR * SEC, "Warsaw fresh: %" PRId64, want[0][0]);
	CHECK(want_rc[NZ - 1][0] == -1, "Nope/Nowhere fresh: %d", want_rc[NZ - 1][0]);
}

/* TZDIR is read when the cache is made; a name that failed is not looked
 * for again in that cache; past the limit of remembered failures the
 * messages are still right. */
static void test_tzdir(struct fixture *fx, const struct buf *warsaw)
{
	fx_mkdir(fx, "My");
	fx_write(fx, "My/Zone", warsaw->p, warsaw->len);
	struct tz_cache *c = cache_in(fx->dir);
	EXPECT_OFF(c, "My/Zone", utc(2026, 7, 1, 0, 0, 0), 2 * HOUR);
	EXPECT_ERR(c, "Europe/Warsaw", "unknown time zone 'Europe/Warsaw'");
	EXPECT_OFF(c, "UTC", 0, 0);
	EXPECT_OFF(c, "+01:00", 0, HOUR);

	EXPECT_ERR(c, "Later", "unknown time zone 'Later'");
	fx_write(fx, "Later", warsaw->p, warsaw->len);
	EXPECT_ERR(c, "Later", "unknown time zone 'Later'");
	struct tz_cache *c2 = cache_in(fx->dir);
	EXPECT_OFF(c2, "Later", utc(2026, 7, 1, 0, 0, 0), 2 * HOUR);
	tz_cache_free(c2);

	int bad = 0;
	struct buf name = {0}, want = {0};
	for (int i = 0; i < 600; i++) {
		buf_clear(&name);
		buf_printf(&name, "Missing%d", i % 400);
		buf_clear(&want);
		buf_printf(&want, "unknown time zone '%s'", name.p);
		int64_t off;
		const char *why;
		if (lookup_ns(c, name.p, name.len, 0, &off, &why) != -1 || strcmp(why, want.p) != 0)
			bad++;
	}
	CHECK(bad == 0, "%d of 600 missing names gave the wrong answer", bad);
	EXPECT_OFF(c, "My/Zone", utc(2026, 1, 1, 0, 0, 0), HOUR);
	buf_free(&name);
	buf_free(&want);
	tz_cache_free(c);
}

/* Every proper prefix of a real file is an error; so is each made-up
 * file below that breaks a rule of RFC 8536. */
static void test_truncated(struct fixture *fx, const struct buf *warsaw)
{
	int bad = 0, first_bad = -1;
	for (size_t n = 0; n < warsaw->len; n++) {
		fx_write(fx, "Cut", warsaw->p, n);
		struct tz_cache *c = cache_in(fx->dir);
		int64_t off;
		const char *why;
		int rc = lookup_ns(c, "Cut", 3, utc(2026, 7, 1, 0, 0, 0) * SEC, &off, &why);
		if (rc != -1 || strcmp(why, "bad time zone file for 'Cut'") != 0) {
			if (bad++ == 0)
				first_bad = (int)n;
		}
		tz_cache_free(c);
	}
	CHECK(bad == 0, "%d truncations of %zu bytes were accepted, the first at %d", bad,
	      warsaw->len, first_bad);
	fx_write(fx, "Cut", warsaw->p, warsaw->len);
	struct tz_cache *c = cache_in(fx->dir);
	EXPECT_OFF(c, "Cut", utc(2026, 7, 1, 0, 0, 0), 2 * HOUR);
	tz_cache_free(c);
}

/* One-byte changes anywhere in a real file: an answer in range or an
 * error, and nothing for ASan or valgrind to see. */
static void test_mutated(struct fixture *fx, const struct buf *warsaw)
{
	static const int64_t when[] = {INT64_MIN, -2208988800 * SEC, 0, 1782864000 * SEC,
				       4102444800 * SEC, INT64_MAX};
	struct buf b = {0};
	buf_add(&b, warsaw->p, warsaw->len);
	int weird = 0, ok = 0, failed = 0;
	for (size_t i = 0; i < warsaw->len; i++) {
		unsigned char orig = (unsigned char)warsaw->p[i];
		unsigned char vals[3] = {0x00, 0xff, (unsigned char)(orig + 1)};
		for (int v = 0; v < 3; v++) {
			if (vals[v] == orig)
				continue;
			b.p[i] = (char)vals[v];
			fx_write(fx, "Mut", b.p, b.len);
			struct tz_cache *c = cache_in(fx->dir);
			for (size_t k = 0; k < sizeof when / sizeof when[0]; k++) {
				int64_t off;
				const char *why;
				int rc = lookup_ns(c, "Mut", 3, when[k], &off, &why);
				if (rc == 0 && off > -90000 * SEC && off < 93600 * SEC)
					ok++;
				else if (rc == -1 && strcmp(why, "bad time zone file for 'Mut'") == 0)
					failed++;
				else
					weird++;
			}
			tz_cache_free(c);
		}
		b.p[i] = (char)orig;
	}
	CHECK(weird == 0, "%d lookups in mutated files were neither an answer nor an error", weird);
	CHECK(ok > 0 && failed > 0, "mutations: %d answers, %d errors", ok, failed);
	buf_free(&b);
}

static void test_built(struct fixture *fx)
{
	struct buf b = {0};
	struct tz_cache *c;

	/* Version 1: 32-bit times, no footer; type 0 before the first
	 * transition, the last transition's type after it. */
	static const int64_t v1_trans[] = {1000000000, 1010000000};
	static const uint8_t v1_idx[] = {1, 0};
	static const int32_t v1_off[] = {3600, 7200};
	static const uint8_t v1_dst[] = {0, 1};
	struct tzif v1 = {.version = 0, .ntrans = 2, .trans = v1_trans, .idx = v1_idx, .ntypes = 2,
			  .off = v1_off, .isdst = v1_dst, .chars = "AAA\0BBB", .nchars = 8};
	tzif_build(&b, &v1);
	fx_write(fx, "V1", b.p, b.len);
	/* The same with two leap-second records, which are skipped. */
	v1.nleaps = 2;
	tzif_build(&b, &v1);
	fx_write(fx, "V1leap", b.p, b.len);
	/* Version 2 with an empty footer: the last type stays. */
	struct tzif v2 = v1;
	v2.version = '2';
	v2.footer = "";
	tzif_build(&b, &v2);
	fx_write(fx, "V2empty", b.p, b.len);
	v2.version = '3';
	v2.footer = "AAA-1";
	tzif_build(&b, &v2);
	fx_write(fx, "V3", b.p, b.len);
	v2.version = '4';
	v2.footer = "<+03>-3";
	v2.nleaps = 3;
	tzif_build(&b, &v2);
	fx_write(fx, "V4", b.p, b.len);
	v2.version = '1'; /* there is no version '1' */
	tzif_build(&b, &v2);
	fx_write(fx, "Vbad", b.p, b.len);

	/* Footer rules with no transitions at all: the rule holds throughout. */
	write_footer_zone(fx, "AllDst", '3', -4 * 3600, "EST5EDT,0/0,J365/25");
	write_footer_zone(fx, "Julian", '2', 3 * 3600, "XXX-3YYY,J60/2,J300/2");
	write_footer_zone(fx, "ZeroBased", '2', 3 * 3600, "XXX-3YYY,59/2,299/2");
	write_footer_zone(fx, "NoRule", '2', -5 * 3600, "EST5EDT");
	write_footer_zone(fx, "Fixed", '4', 19800, "<+0530>-5:30");
	write_footer_zone(fx, "Seconds", '2', 0,
			  "<-001530>0:15:30<+003030>-0:30:30,M3.5.0/1:02:03,M10.5.0/1:02:03");

	c = cache_in(fx->dir);
	EXPECT_OFF(c, "V1", 0, 3600);
	EXPECT_OFF(c, "V1", -3000000000, 3600);
	EXPECT_OFF(c, "V1", 999999999, 3600);
	EXPECT_OFF(c, "V1", 1000000000, 7200);
	EXPECT_OFF(c, "V1", 1009999999, 7200);
	EXPECT_OFF(c, "V1", 1010000000, 3600);
	EXPECT_OFF(c, "V1", 4000000000, 3600);
	EXPECT_OFF(c, "V1leap", 1000000000, 7200);
	EXPECT_OFF(c, "V1leap", 1010000000, 3600);
	EXPECT_OFF(c, "V2empty", 1000000000, 7200);
	EXPECT_OFF(c, "V2empty", 4102444800, 3600);
	EXPECT_OFF(c, "V3", 1000000000, 7200);
	EXPECT_OFF(c, "V3", 4102444800, 3600);
	EXPECT_OFF(c, "V4", 999999999, 3600);
	EXPECT_OFF(c, "V4", 1010000000, 10800); /* from the last transition on, the footer */
	EXPECT_OFF(c, "V4", 4102444800, 10800);
	EXPECT_ERR(c, "Vbad", "bad time zone file for 'Vbad'");

	/* Daylight time all year: the end (Dec 31 25:00) meets the next
	 * start (Jan 1 00:00). */
	EXPECT_OFF(c, "AllDst", 0, -4 * HOUR);
	EXPECT_OFF(c, "AllDst", -1000000000, -4 * HOUR);
	EXPECT_OFF(c, "AllDst", utc(2100, 1, 1, 0, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "AllDst", utc(2100, 1, 1, 4, 59, 59), -4 * HOUR);
	EXPECT_OFF(c, "AllDst", utc(2100, 1, 1, 5, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "AllDst", utc(2100, 12, 31, 23, 59, 59), -4 * HOUR);

	/* Jn never counts Feb 29: J60 is March 1 in every year. */
	EXPECT_OFF(c, "Julian", utc(2027, 2, 28, 22, 59, 59), 3 * HOUR);
	EXPECT_OFF(c, "Julian", utc(2027, 2, 28, 23, 0, 0), 4 * HOUR);
	EXPECT_OFF(c, "Julian", utc(2028, 2, 28, 23, 0, 0), 3 * HOUR);
	EXPECT_OFF(c, "Julian", utc(2028, 2, 29, 22, 59, 59), 3 * HOUR);
	EXPECT_OFF(c, "Julian", utc(2028, 2, 29, 23, 0, 0), 4 * HOUR);
	EXPECT_OFF(c, "Julian", utc(2028, 10, 25, 22, 0, 0), 4 * HOUR);
	EXPECT_OFF(c, "Julian", utc(2028, 10, 26, 21, 59, 59), 4 * HOUR);
	EXPECT_OFF(c, "Julian", utc(2028, 10, 26, 22, 0, 0), 3 * HOUR);

	/* n counts from 0 and counts Feb 29: day 59 is March 1, or Feb 29 in
	 * a leap year.  (glibc agrees; Python 3.11's zoneinfo is a day
	 * early for this form.) */
	EXPECT_OFF(c, "ZeroBased", utc(2027, 2, 28, 22, 59, 59), 3 * HOUR);
	EXPECT_OFF(c, "ZeroBased", utc(2027, 2, 28, 23, 0, 0), 4 * HOUR);
	EXPECT_OFF(c, "ZeroBased", utc(2028, 2, 27, 23, 0, 0), 3 * HOUR);
	EXPECT_OFF(c, "ZeroBased", utc(2028, 2, 28, 22, 59, 59), 3 * HOUR);
	EXPECT_OFF(c, "ZeroBased", utc(2028, 2, 28, 23, 0, 0), 4 * HOUR);
	EXPECT_OFF(c, "ZeroBased", utc(2028, 10, 25, 21, 59, 59), 4 * HOUR);
	EXPECT_OFF(c, "ZeroBased", utc(2028, 10, 25, 22, 0, 0), 3 * HOUR);

	/* "std offset dst" without a rule takes the US rule, as tzcode does. */
	EXPECT_OFF(c, "NoRule", utc(2026, 3, 8, 6, 59, 59), -5 * HOUR);
	EXPECT_OFF(c, "NoRule", utc(2026, 3, 8, 7, 0, 0), -4 * HOUR);
	EXPECT_OFF(c, "NoRule", utc(2026, 11, 1, 5, 59, 59), -4 * HOUR);
	EXPECT_OFF(c, "NoRule", utc(2026, 11, 1, 6, 0, 0), -5 * HOUR);

	EXPECT_OFF(c, "Fixed", utc(1900, 1, 1, 0, 0, 0), 19800);
	EXPECT_OFF(c, "Fixed", utc(2200, 1, 1, 0, 0, 0), 19800);

	/* Offsets and rule times with seconds: std -0:15:30, dst +0:30:30;
	 * the start is 01:02:03 std local on 2026-03-29 (01:17:33 UTC), the
	 * end 01:02:03 dst local on 2026-10-25 (00:31:33 UTC). */
	EXPECT_OFF(c, "Seconds", utc(2026, 1, 1, 0, 0, 0), -930);
	EXPECT_OFF(c, "Seconds", utc(2026, 3, 29, 1, 17, 32), -930);
	EXPECT_OFF(c, "Seconds", utc(2026, 3, 29, 1, 17, 33), 1830);
	EXPECT_OFF(c, "Seconds", utc(2026, 10, 25, 0, 31, 32), 1830);
	EXPECT_OFF(c, "Seconds", utc(2026, 10, 25, 0, 31, 33), -930);
	tz_cache_free(c);

	/* Footers that are not POSIX TZ strings. */
	static const char *bad_footers[] = {
		"CET-1CEST,M3.5.0",            /* no end */
		"CET-1CEST,M13.5.0,M10.5.0",   /* month 13 */
		"CET-1CEST,M3.6.0,M10.5.0",    /* week 6 */
		"CET-1CEST,M3.5.7,M10.5.0",    /* weekday 7 */
		"CET-1CEST,M3.5,M10.5.0",      /* no weekday */
		"CET-1CEST,M3.5.0/168,M10.5.0", /* past 167 hours */
		"CET-1CEST,M3.5.0/2:60,M10.5.0",
		"CET-1CEST,M3.5.0,M10.5.0,",   /* trailing comma */
		"CET-1CEST,J0,J300",           /* J counts from 1 */
		"CET-1CEST,366,300",           /* n is at most 365 */
		"CET-1CEST;M3.5.0,M10.5.0",
		"CET-1CEST,,M10.5.0",
		"CE-1",                        /* names have 3 letters or more */
		"<AB>-1",
		"<ABC-1",
		"CET",                         /* no offset */
		"CET-25",                      /* offset past 24 hours */
		"CET-1:60",
		"CET-1CEST-25",
		"CET-1 ",
		"CET-1\nCEST",
		"-1",
		"1CET",
	};
	for (size_t i = 0; i < sizeof bad_footers / sizeof bad_footers[0]; i++) {
		write_footer_zone(fx, "BadFooter", '2', 3600, bad_footers[i]);
		c = cache_in(fx->dir);
		int64_t off;
		const char *why;
		int rc = lookup_ns(c, "BadFooter", 9, 0, &off, &why);
		CHECK(rc == -1 && strcmp(why, "bad time zone file for 'BadFooter'") == 0,
		      "footer '%s' accepted (rc %d)", bad_footers[i], rc);
		tz_cache_free(c);
	}

	/* Data blocks that break the rules. */
	static const int64_t down[] = {1010000000, 1000000000};
	static const int64_t same[] = {1000000000, 1000000000};
	static const uint8_t idx_far[] = {1, 2};
	static const int32_t off_low[] = {3600, -90000};
	static const int32_t off_high[] = {3600, 93600};
	static const int32_t off_edge[] = {-89999, 93599};
	static const uint8_t dst_2[] = {0, 2};
	struct tzif cases[] = {
		{.version = '2', .ntrans = 2, .trans = down, .idx = v1_idx, .ntypes = 2, .off = v1_off,
		 .chars = "AAA", .nchars = 4},
		{.version = '2', .ntrans = 2, .trans = same, .idx = v1_idx, .ntypes = 2, .off = v1_off,
		 .chars = "AAA", .nchars = 4},
		{.version = '2', .ntrans = 2, .trans = v1_trans, .idx = idx_far, .ntypes = 2,
		 .off = v1_off, .chars = "AAA", .nchars = 4},
		{.version = '2', .ntrans = 2, .trans = v1_trans, .idx = v1_idx, .ntypes = 2,
		 .off = off_low, .chars = "AAA", .nchars = 4},
		{.version = '2', .ntrans = 2, .trans = v1_trans, .idx = v1_idx, .ntypes = 2,
		 .off = off_high, .chars = "AAA", .nchars = 4},
		{.version = '2', .ntrans = 2, .trans = v1_trans, .idx = v1_idx, .ntypes = 2,
		 .off = v1_off, .isdst = dst_2, .chars = "AAA", .nchars = 4},
		{.version = '2', .ntrans = 0, .trans = v1_trans, .idx = v1_idx, .ntypes = 0,
		 .off = v1_off, .chars = "AAA", .nchars = 4},
		{.version = '2', .ntrans = 2, .trans = v1_trans, .idx = v1_idx, .ntypes = 2,
		 .off = v1_off, .chars = "AAA", .nchars = 0},
		{.version = '2', .ntrans = 2, .trans = v1_trans, .idx = v1_idx, .ntypes = 2,
		 .off = v1_off, .chars = "AAA", .nchars = 3}, /* designation not terminated */
		{.version = 0, .ntrans = 2, .trans = down, .idx = v1_idx, .ntypes = 2, .off = v1_off,
		 .chars = "AAA", .nchars = 4},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tzif_build(&b, &cases[i]);
		fx_write(fx, "BadData", b.p, b.len);
		c = cache_in(fx->dir);
		EXPECT_ERR(c, "BadData", "bad time zone file for 'BadData'");
		tz_cache_free(c);
	}

	/* The offsets at the limits RFC 8536 allows are fine. */
	struct tzif edge = {.version = '2', .ntrans = 2, .trans = v1_trans, .idx = v1_idx,
			    .ntypes = 2, .off = off_edge, .chars = "AAA", .nchars = 4};
	tzif_build(&b, &edge);
	fx_write(fx, "Edge", b.p, b.len);
	/* Bytes after the footer, and a footer without its first newline. */
	v2.version = '2';
	v2.nleaps = 0;
	v2.footer = "AAA-1";
	tzif_build(&b, &v2);
	buf_addc(&b, 'x');
	fx_write(fx, "Trailing", b.p, b.len);
	tzif_build(&b, &v2);
	b.p[b.len - 7] = 'X';
	fx_write(fx, "NoNewline", b.p, b.len);
	tzif_build(&b, &v1);
	buf_addc(&b, 0);
	fx_write(fx, "V1trailing", b.p, b.len);
	fx_write(fx, "Empty", "", 0);
	fx_write(fx, "Text", "hello\n", 6);
	c = cache_in(fx->dir);
	EXPECT_OFF(c, "Edge", 1000000000, 93599);
	EXPECT_OFF(c, "Edge", 0, -89999);
	EXPECT_ERR(c, "Trailing", "bad time zone file for 'Trailing'");
	EXPECT_ERR(c, "NoNewline", "bad time zone file for 'NoNewline'");
	EXPECT_ERR(c, "V1trailing", "bad time zone file for 'V1trailing'");
	EXPECT_ERR(c, "Empty", "bad time zone file for 'Empty'");
	EXPECT_ERR(c, "Text", "bad time zone file for 'Text'");
	tz_cache_free(c);
	buf_free(&b);
}

int main(void)
{
	struct fixture fx = {.dir = "/tmp/cxr-tzone-XXXXXX"};
	if (!mkdtemp(fx.dir)) {
		perror("mkdtemp");
		return 2;
	}
	const char *sys = getenv("TZDIR");
	struct buf path = {0}, warsaw = {0};
	buf_printf(&path, "%s/Europe/Warsaw", sys && *sys ? sys : "/usr/share/zoneinfo");
	read_all(path.p, &warsaw);
	buf_free(&path);

	struct tz_cache *c = tz_cache_new();
	tz_cache_free(NULL);
	test_real_zones(c);
	test_far_future(c);
	test_far_past(c);
	test_fixed(c);
	test_bad_names(c);
	test_cache(c);
	tz_cache_free(c);

	test_tzdir(&fx, &warsaw);
	test_built(&fx);
	test_truncated(&fx, &warsaw);
	test_mutated(&fx, &warsaw);

	buf_free(&warsaw);
	fx_cleanup(&fx);
	return check_summary("tzone");
}
