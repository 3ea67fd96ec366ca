/* test_time.c: unit tests of timeutil (timestamps, epochs, civil fields,
 * durations).
 *
 * Every string is handed to the parsers in a heap block of exactly its
 * length, without a terminating NUL, so that ASan catches any read past n.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "base/mem.h"
#include "base/timeutil.h"

#define SEC INT64_C(1000000000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* time_parse on an exact-size copy of s[0..n). */
static int parse_n(const char *s, size_t n, int allow_short, int64_t *ns, const char **why)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, s, n);
	*why = NULL;
	int r = time_parse(copy, n, allow_short, ns, why);
	free(copy);
	return r;
}

static int dur_parse_s(const char *s, int64_t *ns, const char **why)
{
	size_t n = strlen(s);
	char *copy = malloc(n ? n : 1);
	memcpy(copy, s, n);
	*why = NULL;
	int r = dur_parse(copy, n, ns, why);
	free(copy);
	return r;
}

/* Parses s (events: allow_short off) and checks its formatted form. */
static void ok_fmt(int line, const char *s, int allow_short, const char *want)
{
	int64_t ns = 0;
	const char *why;
	struct buf b = { 0 };
	if (parse_n(s, strlen(s), allow_short, &ns, &why) < 0) {
		CHECK(0, "line %d: '%s' rejected: %s", line, s, why);
		return;
	}
	time_format(&b, ns);
	CHECK(strcmp(b.p, want) == 0, "line %d: '%s' -> '%s', want '%s'", line, s, b.p, want);
	buf_free(&b);
}

static void ok_ns(int line, const char *s, int allow_short, int64_t want)
{
	int64_t ns = 0;
	const char *why;
	int r = parse_n(s, strlen(s), allow_short, &ns, &why);
	CHECK(r == 0 && ns == want, "line %d: '%s' -> %d %" PRId64 " (%s), want %" PRId64, line, s, r, ns,
	      r ? why : "ok", want);
}

/* Rejected, with a reason containing want_why. */
static void bad_n(int line, const char *s, size_t n, int allow_short, const char *want_why)
{
	int64_t ns = 12345;
	const char *why;
	int r = parse_n(s, n, allow_short, &ns, &why);
	CHECK(r < 0 && why && strstr(why, want_why) && ns == 12345, "line %d: '%.*s' -> %d (%s), want error '%s'",
	      line, (int)n, s, r, why ? why : "no reason", want_why);
}
#define OK(s, want) ok_fmt(__LINE__, s, 0, want)
#define OK_SHORT(s, want) ok_fmt(__LINE__, s, 1, want)
#define OK_NS(s, want) ok_ns(__LINE__, s, 0, want)
#define BAD(s, why) bad_n(__LINE__, s, strlen(s), 0, why)
#define BAD_SHORT(s, why) bad_n(__LINE__, s, strlen(s), 1, why)
#define BAD_N(s, n, why) bad_n(__LINE__, s, n, 0, why) /* s may hold NUL bytes */

static void test_accepted(void)
{
	OK("2026-03-01T19:13:00Z", "2026-03-01T19:13:00Z");
	OK_NS("2026-03-01T19:13:00Z", INT64_C(1772392380000000000));
	OK_NS("1970-01-01T00:00:00Z", 0);
	OK_NS("1970-01-01", 0);
	OK_NS("1970-01-01T00:00:00.000000001Z", 1);
	OK_NS("1969-12-31T23:59:59.999999999Z", -1);
	OK_NS("1969-12-31T23:59:59Z", -SEC);
	OK_NS("1969-12-31T23:59:59.5Z", -SEC / 2);

	/* separators, case, naive times */
	OK("2026-03-01t19:13:00z", "2026-03-01T19:13:00Z");
	OK("2026-03-01 19:13:00", "2026-03-01T19:13:00Z");
	OK("2026-03-01 19:13:00Z", "2026-03-01T19:13:00Z");
	OK("2026-03-01T19:13:00", "2026-03-01T19:13:00Z");
	OK("2026-03-01", "2026-03-01T00:00:00Z");

	/* fractions: 1 to 9 digits, more truncated */
	OK("2026-03-01T19:13:00.1Z", "2026-03-01T19:13:00.100Z");
	OK("2026-03-01T19:13:00.12Z", "2026-03-01T19:13:00.120Z");
	OK("2026-03-01T19:13:00.123456Z", "2026-03-01T19:13:00.123456Z");
	OK("2026-03-01T19:13:00.1234567Z", "2026-03-01T19:13:00.123456700Z");
	OK("2026-03-01T19:13:00.123456789Z", "2026-03-01T19:13:00.123456789Z");
	OK("2026-03-01T19:13:00.1234567891Z", "2026-03-01T19:13:00.123456789Z");
	OK("1985-04-12T00:59:59.999999999999999Z", "1985-04-12T00:59:59.999999999Z");
	OK("2026-03-01T19:13:00.000Z", "2026-03-01T19:13:00Z");
	OK("2026-03-01T19:13:00.000001", "2026-03-01T19:13:00.000001Z");
	OK("2026-03-01 19:13:00.250+00:00", "2026-03-01T19:13:00.250Z");

	/* offsets, including across day, month, year and leap-day boundaries */
	OK("2026-03-01T19:13:00+01:00", "2026-03-01T18:13:00Z");
	OK("2026-03-01T19:13:00-08:00", "2026-03-02T03:13:00Z");
	OK("2026-03-01T19:13:00+0530", "2026-03-01T13:43:00Z");
	OK("2026-03-01T19:13:00-0000", "2026-03-01T19:13:00Z");
	OK("2026-03-01T19:13:00-00:00", "2026-03-01T19:13:00Z");
	OK("1937-01-01T12:00:27.87+00:20", "1937-01-01T11:40:27.870Z");
	OK("2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z");
	OK("2023-03-01T00:30:00+01:00", "2023-02-28T23:30:00Z");
	OK("2023-12-31T23:30:00-01:00", "2024-01-01T00:30:00Z");
	OK("2024-01-01T00:00:00+23:59", "2023-12-31T00:01:00Z");
	OK("2000-03-01T00:00:00+14:00", "2000-02-29T10:00:00Z");
	OK("1970-01-01T00:00:00+01:00", "1969-12-31T23:00:00Z");

	/* leap years and month ends */
	OK("2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z");
	OK("2024-02-29", "2024-02-29T00:00:00Z");
	OK("1904-02-29", "1904-02-29T00:00:00Z");
	OK("2023-02-28", "2023-02-28T00:00:00Z");
	OK("1900-02-28", "1900-02-28T00:00:00Z");
	OK("2026-04-30", "2026-04-30T00:00:00Z");
	OK("2026-01-31", "2026-01-31T00:00:00Z");
	OK("2024-12-31T23:59:59.999999999Z", "2024-12-31T23:59:59.999999999Z");
	OK("1999-12-31T23:59:59.999999999Z", "1999-12-31T23:59:59.999999999Z");
	OK("1969-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z");
	OK("1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z");
	OK("1800-06-15T08:09:10.5-03:30", "1800-06-15T11:39:10.500Z");

	/* leap seconds: only at 23:59:60 UTC, counted as the next :00 */
	OK("1998-12-31T23:59:60Z", "1999-01-01T00:00:00Z");
	OK("1998-12-31T15:59:60.123-08:00", "1999-01-01T00:00:00.123Z");
	OK("2017-01-01T00:59:60+01:00", "2017-01-01T00:00:00Z");
	OK("2016-12-31 23:59:60", "2017-01-01T00:00:00Z");
	OK("2015-06-30T23:59:60.5Z", "2015-07-01T00:00:00.500Z");

	/* the edges of int64 nanoseconds */
	OK_NS("1677-09-21T00:12:43.145224192Z", INT64_MIN);
	OK_NS("2262-04-11T23:47:16.854775807Z", INT64_MAX);
	OK_NS("1677-09-21T00:13:43.145224192+00:01", INT64_MIN);
	OK_NS("2262-04-11T22:47:16.854775807-01:00", INT64_MAX);
	OK("1678-01-01", "1678-01-01T00:00:00Z");
	OK("2261-12-31T23:59:59.999999999Z", "2261-12-31T23:59:59.999999999Z");
	OK("2262-04-12T00:00:00+01:00", "2262-04-11T23:00:00Z");

	/* short form, for script literals only */
	OK_SHORT("2026-03-01T19:13Z", "2026-03-01T19:13:00Z");
	OK_SHORT("2026-03-01T19:13", "2026-03-01T19:13:00Z");
	OK_SHORT("2026-03-01 19:13+02:00", "2026-03-01T17:13:00Z");
	OK_SHORT("2026-03-01T19:13:05Z", "2026-03-01T19:13:05Z");
	OK_SHORT("2026-03-01", "2026-03-01T00:00:00Z");

	/* only the first n bytes are read */
	int64_t ns;
	const char *why;
	CHECK(parse_n("2026-03-01T19:13:00Zjunk", 20, 0, &ns, &why) == 0 && ns == INT64_C(1772392380000000000),
	      "prefix of length n");
	CHECK(parse_n("2026-03-01T19:13:00Z", 10, 0, &ns, &why) == 0 && ns == INT64_C(1772323200000000000),
	      "date prefix of length n");
}

static void test_rejected(void)
{
	BAD("", "empty");
	BAD("2026", "expected a date");
	BAD("2026-03", "expected a date");
	BAD("2026-3-01", "expected a date");
	BAD("2026-03-1", "expected a date");
	BAD("2026-3-1T00:00:00Z", "expected a date");
	BAD("2026/03/01", "expected a date");
	BAD("20260301", "expected a date");
	BAD("2026-W01", "expected a date");
	BAD("2013-350T01:01:01", "expected a date");
	BAD("+2026-03-01", "expected a date");
	BAD("-2026-03-01", "expected a date");
	BAD("12026-03-01", "expected a date");
	BAD(" 2026-03-01", "expected a date");
	BAD("YYYY-MM-DD", "expected a date");
	BAD("2026-0a-01", "expected a date");
	BAD("06/19/1963 08:30:06 PST", "expected a date");
	BAD("2026-01-0:", "expected a date");
	BAD("1963-06-1\xe0\xa7\xaaT00:00:00Z", "expected a date"); /* a Bengali 4 */

	BAD("2026-13-01", "month out of range");
	BAD("2026-00-01", "month out of range");
	BAD("2026-01-00", "day out of range");
	BAD("2026-01-32", "day out of range");
	BAD("2026-04-31", "day out of range");
	BAD("2026-06-31", "day out of range");
	BAD("2026-09-31", "day out of range");
	BAD("2026-11-31", "day out of range");
	BAD("2023-02-29", "day out of range");
	BAD("1900-02-29", "day out of range");
	BAD("2100-02-29", "day out of range");
	BAD("2024-02-30", "day out of range");
	BAD("1990-02-31T15:59:59.123-08:00", "day out of range");

	BAD("2026-03-01 ", "expected a time");
	BAD("2026-03-01T", "expected a time");
	BAD("2026-03-01T19", "expected a time");
	BAD("2026-03-01T1:13:00Z", "expected a time");
	BAD("2026-03-01T19:1:00Z", "expected a time");
	BAD("2026-03-01T19-13-00Z", "expected a time");
	BAD("2026-03-01  19:13:00", "expected a time");
	BAD("2026-03-01T0\xe0\xa7\xaa:00:00Z", "expected a time");
	BAD("2026-03-01x19:13:00", "expected 'T' or a space");
	BAD("2026-03-01Z", "expected 'T' or a space");
	BAD("2026-03-01_19:13:00", "expected 'T' or a space");

	BAD("2026-03-01T24:00:00Z", "hour out of range");
	BAD("2016-12-31T24:59:60+01:00", "hour out of range");
	BAD("2026-03-01T23:60:00Z", "minute out of range");
	BAD("2026-03-01T23:59:61Z", "second out of range");
	BAD("2026-03-01T23:59:99Z", "second out of range");
	BAD("2026-03-01T19:13:0Z", "seconds");
	BAD("2026-03-01T19:13:", "seconds");
	BAD("1998-12-31T23:58:60Z", "leap second");
	BAD("1998-12-31T22:59:60Z", "leap second");
	BAD("1998-12-31T23:59:60+01:00", "leap second");
	BAD("2026-03-01T12:59:60", "leap second");

	BAD("2026-03-01T19:13Z", "needs seconds");
	BAD("2026-03-01T19:13", "needs seconds");
	BAD("2026-03-01T19:13+01:00", "needs seconds");
	BAD_SHORT("2026-03-01T19:13.5Z", "unexpected characters");
	BAD_SHORT("2026-03-01T19Z", "expected a time");

	BAD("2026-03-01T19:13:00.Z", "digits after the '.'");
	BAD("2026-03-01T19:13:00.", "digits after the '.'");
	BAD("2026-03-01T19:13:00,5Z", "unexpected characters");
	BAD("2026-03-01T19:13:00.5.5Z", "unexpected characters");

	BAD("2026-03-01T19:13:00+24:00", "offset hour out of range");
	BAD("1990-12-31T15:59:59-24:00", "offset hour out of range");
	BAD("2026-03-01T19:13:00+01:60", "offset minute out of range");
	BAD("2026-03-01T19:13:00+01", "offset needs minutes");
	BAD("1985-04-12T23:20:50+01", "offset needs minutes");
	BAD("2026-03-01T19:13:00+01:0", "offset needs minutes");
	BAD("2026-03-01T19:13:00+0100:", "unexpected characters");
	BAD("2026-03-01T19:13:00+1:00", "expected an offset");
	BAD("2026-03-01T19:13:00+", "expected an offset");
	BAD("2026-03-01T19:13:00-", "expected an offset");
	BAD("2026-03-01T19:13:00+01::00", "offset needs minutes");

	BAD("2026-03-01T19:13:00ZZ", "unexpected characters");
	BAD("2026-03-01T19:13:00Z ", "unexpected characters");
	BAD("2026-03-01T19:13:00Z\n", "unexpected characters");
	BAD("2026-03-01T19:13:00 Z", "unexpected characters");
	BAD("2026-03-01T19:13:00 PST", "unexpected characters");
	BAD("2026-03-01T19:13:00+01:00Z", "unexpected characters");
	BAD("1963-06-19T08:30:06.28123+01:00Z", "unexpected characters");
	BAD("2026-03-01T19:13:00z+01:00", "unexpected characters");
	BAD("2026-03-01T19:13:00X", "unexpected characters");
	BAD("2026-03-01 ", "expected a time");
	BAD_N("2026-03-01\0", 11, "expected 'T' or a space");
	BAD_N("2026-03-01T19:13:00Z\0", 21, "unexpected characters");
	BAD_N("2026-03\0-01", 10, "expected a date");

	/* range of int64 nanoseconds */
	BAD("1676-12-31T23:59:59Z", "year out of range");
	BAD("2263-01-01", "year out of range");
	BAD("0001-01-01", "year out of range");
	BAD("9999-12-31T23:59:59Z", "year out of range");
	BAD("1677-01-01", "time out of range");
	BAD("1677-09-21T00:12:43.145224191Z", "time out of range");
	BAD("1677-09-21T00:12:43.145224192+00:01", "time out of range");
	BAD("2262-04-11T23:47:16.854775808Z", "time out of range");
	BAD("2262-04-11T23:47:16.854775807-00:01", "time out of range");
	BAD("2262-12-31", "time out of range");
}

/* Formats ns and parses the result back: 1 if it is the same instant.
 * Used in loops, so it reports a failure itself and the loop checks once. */
static int round_trip(int64_t ns)
{
	struct buf b = { 0 };
	int64_t back = 0;
	const char *why;
	time_format(&b, ns);
	int r = parse_n(b.p, b.len, 0, &back, &why);
	int ok = r == 0 && back == ns;
	if (!ok)
		fprintf(stderr, "round trip: %" PRId64 " -> '%s' -> %d %" PRId64 " (%s)\n", ns, b.p, r, back,
			r ? why : "ok");
	buf_free(&b);
	return ok;
}

/* A small deterministic generator, local to the test. */
static uint64_t next_rand(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	uint64_t x = *state;
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static void test_format(void)
{
	struct buf b = { 0 };
	static const struct {
		int64_t ns;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1, "1970-01-01T00:00:00.000000001Z" },
		{ -1, "1969-12-31T23:59:59.999999999Z" },
		{ -SEC, "1969-12-31T23:59:59Z" },
		{ -SEC - 1000000, "1969-12-31T23:59:58.999Z" },
		{ -DAY, "1969-12-31T00:00:00Z" },
		{ -DAY - 1, "1969-12-30T23:59:59.999999999Z" },
		{ 1000, "1970-01-01T00:00:00.000001Z" },
		{ 1000000, "1970-01-01T00:00:00.001Z" },
		{ 1001000, "1970-01-01T00:00:00.001001Z" },
		{ 1000001, "1970-01-01T00:00:00.001000001Z" },
		{ 500000000, "1970-01-01T00:00:00.500Z" },
		{ INT64_C(1772392380000000000), "2026-03-01T19:13:00Z" },
		{ INT64_C(1700000000123000000), "2023-11-14T22:13:20.123Z" },
		{ INT64_MIN, "1677-09-21T00:12:43.145224192Z" },
		{ INT64_MAX, "2262-04-11T23:47:16.854775807Z" },
		{ INT64_C(951782400) * SEC, "2000-02-29T00:00:00Z" },
		{ INT64_C(-2208988800) * SEC, "1900-01-01T00:00:00Z" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_clear(&b);
		time_format(&b, cases[i].ns);
		CHECK(strcmp(b.p, cases[i].want) == 0, "format %" PRId64 ": '%s', want '%s'", cases[i].ns, b.p,
		      cases[i].want);
	}
	/* appends, does not overwrite */
	buf_clear(&b);
	buf_adds(&b, "at ");
	time_format(&b, 0);
	CHECK_STR(b.p, "at 1970-01-01T00:00:00Z");
	CHECK(b.len == strlen(b.p), "buf len %zu", b.len);
	buf_free(&b);

	static const int64_t edges[] = { 0, -1, 1, INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1 };
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		CHECK(round_trip(edges[i]), "round trip of %" PRId64, edges[i]);
	uint64_t state = 42;
	int fails = 0;
	for (int i = 0; i < 20000; i++) {
		uint64_t r = next_rand(&state);
		int64_t ns = (int64_t)r;
		/* also whole seconds and whole milliseconds, which format shorter */
		if (i % 3 == 1)
			ns -= ns % SEC;
		else if (i % 3 == 2)
			ns -= ns % 1000000;
		fails += !round_trip(ns);
	}
	CHECK(fails == 0, "%d of 20000 random time round trips failed", fails);
}

static void test_civil(void)
{
	static const struct {
		int y, m, d;
		int64_t days;
		int weekday, yday;
	} cases[] = {
		{ 1970, 1, 1, 0, 4, 1 },        { 1969, 12, 31, -1, 3, 365 },    { 2000, 1, 1, 10957, 6, 1 },
		{ 2000, 3, 1, 11017, 3, 61 },   { 2024, 2, 29, 19782, 4, 60 },  { 2024, 12, 31, 20088, 2, 366 },
		{ 1900, 3, 1, -25508, 4, 60 },  { 1677, 9, 21, -106752, 2, 264 }, { 2262, 4, 11, 106751, 5, 101 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t days = days_from_civil(cases[i].y, (unsigned)cases[i].m, (unsigned)cases[i].d);
		CHECK(days == cases[i].days, "days_from_civil(%d-%d-%d) = %" PRId64 ", want %" PRId64, cases[i].y,
		      cases[i].m, cases[i].d, days, cases[i].days);
		if (cases[i].y < 1678 || cases[i].y > 2261)
			continue; /* a whole day at the edges does not fit: checked below */
		struct civil c;
		time_to_civil(days * DAY + 12 * HOUR, &c);
		CHECK(c.year == cases[i].y && c.month == cases[i].m && c.day == cases[i].d && c.hour == 12 &&
			      c.weekday == cases[i].weekday && c.yday == cases[i].yday,
		      "civil of %d-%d-%d: %d-%d-%d wd %d yd %d", cases[i].y, cases[i].m, cases[i].d, c.year, c.month,
		      c.day, c.weekday, c.yday);
	}
	/* days_from_civil far outside the nanosecond range, proleptic Gregorian */
	CHECK(days_from_civil(1600, 1, 1) == -135140, "1600-01-01");
	CHECK(days_from_civil(1, 1, 1) == -719162, "0001-01-01");
	CHECK(days_from_civil(0, 3, 1) == -719468, "0000-03-01");
	CHECK(days_from_civil(-1, 12, 31) == -719529, "-0001-12-31");
	CHECK(days_from_civil(10000, 1, 1) == 2932897, "10000-01-01");

	struct civil c;
	time_to_civil(INT64_MIN, &c);
	CHECK(c.year == 1677 && c.month == 9 && c.day == 21 && c.hour == 0 && c.minute == 12 && c.second == 43 &&
		      c.nanos == 145224192 && c.weekday == 2 && c.yday == 264,
	      "INT64_MIN civil");
	time_to_civil(INT64_MAX, &c);
	CHECK(c.year == 2262 && c.month == 4 && c.day == 11 && c.hour == 23 && c.minute == 47 && c.second == 16 &&
		      c.nanos == 854775807 && c.weekday == 5 && c.yday == 101,
	      "INT64_MAX civil");
	time_to_civil(-1, &c);
	CHECK(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 && c.minute == 59 && c.second == 59 &&
		      c.nanos == 999999999 && c.weekday == 3 && c.yday == 365,
	      "-1 civil");

	/* Walk every day of 1678-2261: each is the day after the previous one,
	 * weekdays cycle, yday restarts on 1 January, and days_from_civil
	 * inverts time_to_civil.  Day-by-day bugs cannot hide from this. */
	int64_t first = days_from_civil(1678, 1, 1), last = days_from_civil(2261, 12, 31);
	struct civil prev;
	time_to_civil(first * DAY, &prev);
	int bad = 0;
	for (int64_t d = first + 1; d <= last; d++) {
		time_to_civil(d * DAY - 1, &c); /* the last nanosecond of the previous day */
		int ok = c.year == prev.year && c.month == prev.month && c.day == prev.day && c.hour == 23;
		time_to_civil(d * DAY, &c);
		int next_ok = (c.day == prev.day + 1 && c.month == prev.month && c.year == prev.year) ||
			      (c.day == 1 && c.month == prev.month + 1 && c.year == prev.year) ||
			      (c.day == 1 && c.month == 1 && prev.month == 12 && prev.day == 31 && c.year == prev.year + 1);
		ok = ok && next_ok && c.weekday == prev.weekday % 7 + 1 &&
		     c.yday == (c.year == prev.year ? prev.yday + 1 : 1) && c.hour == 0 && c.nanos == 0 &&
		     days_from_civil(c.year, (unsigned)c.month, (unsigned)c.day) == d;
		if (!ok && bad++ < 5)
			fprintf(stderr, "day walk: day %" PRId64 " is %d-%d-%d wd %d yd %d after %d-%d-%d\n", d, c.year,
				c.month, c.day, c.weekday, c.yday, prev.year, prev.month, prev.day);
		prev = c;
	}
	CHECK(bad == 0, "%d days of 1678-2261 wrong", bad);
	CHECK(prev.year == 2261 && prev.month == 12 && prev.day == 31, "walk ended on %d-%d-%d", prev.year,
	      prev.month, prev.day);
}

static void epoch_ok(int line, double x, int64_t want)
{
	int64_t ns = 0;
	const char *why = NULL;
	int r = time_from_epoch(x, &ns, &why);
	CHECK(r == 0 && ns == want, "line %d: epoch %.17g -> %d %" PRId64 " (%s), want %" PRId64, line, x, r, ns,
	      r ? why : "ok", want);
}

static void epoch_bad(int line, double x, const char *want_why)
{
	int64_t ns = 12345;
	const char *why = NULL;
	int r = time_from_epoch(x, &ns, &why);
	CHECK(r < 0 && why && strstr(why, want_why) && ns == 12345, "line %d: epoch %.17g -> %d (%s), want '%s'",
	      line, x, r, why ? why : "no reason", want_why);
}
#define EPOCH_OK(x, want) epoch_ok(__LINE__, x, want)
#define EPOCH_BAD(x, why) epoch_bad(__LINE__, x, why)

static void test_epoch(void)
{
	EPOCH_OK(0, 0);
	EPOCH_OK(1, SEC);
	EPOCH_OK(-1, -SEC);
	EPOCH_OK(-1.5, -3 * SEC / 2);
	EPOCH_OK(0.25, SEC / 4);
	EPOCH_OK(1700000000, INT64_C(1700000000) * SEC);
	EPOCH_OK(1700000000.123, INT64_C(1700000000123000000));
	EPOCH_OK(1700000000.123456, INT64_C(1700000000123456000));
	EPOCH_OK(-1700000000.123, INT64_C(-1700000000123000000));
	EPOCH_OK(1700000000.9999999, INT64_C(1700000001) * SEC); /* rounds up across the second */
	EPOCH_OK(1772392380, INT64_C(1772392380000000000));
	/* milliseconds from 1e11 on */
	EPOCH_OK(1700000000123.0, INT64_C(1700000000123000000));
	EPOCH_OK(1700000000123.5, INT64_C(1700000000123500000));
	EPOCH_OK(-1700000000123.0, INT64_C(-1700000000123000000));
	EPOCH_OK(1e11, INT64_C(100000000) * SEC);   /* 1973-03-03T09:46:40Z */
	EPOCH_OK(-1e11, INT64_C(-100000000) * SEC); /* 1966-10-31T14:13:20Z */
	EPOCH_OK(9223372036.0, INT64_C(9223372036) * SEC);
	EPOCH_OK(-9223372036.0, INT64_C(-9223372036) * SEC);
	EPOCH_OK(-9223372036.854775, INT64_C(-9223372036854774000)); /* the double is ...854774475 */
	EPOCH_OK(9223372036854.0, INT64_C(9223372036854000000));
	EPOCH_OK(-9223372036854.0, INT64_C(-9223372036854000000));

	EPOCH_BAD(NAN, "not a finite number");
	EPOCH_BAD(INFINITY, "not a finite number");
	EPOCH_BAD(-INFINITY, "not a finite number");
	EPOCH_BAD(9223372037.0, "epoch seconds out of range");
	EPOCH_BAD(-9223372037.0, "epoch seconds out of range");
	EPOCH_BAD(99999999999.0, "epoch seconds out of range"); /* year 5138, still seconds */
	EPOCH_BAD(9223372036855.0, "epoch milliseconds out of range");
	EPOCH_BAD(-9223372036855.0, "epoch milliseconds out of range");
	EPOCH_BAD(1e13, "out of range");
	EPOCH_BAD(1e300, "out of range");
	EPOCH_BAD(-1e300, "out of range");

	/* an epoch and its RFC 3339 spelling are the same instant */
	int64_t a = 0, b = 0;
	const char *why;
	CHECK(time_from_epoch(1700000000.123, &a, &why) == 0 &&
		      parse_n("2023-11-14T22:13:20.123Z", 24, 0, &b, &why) == 0 && a == b,
	      "epoch vs parse: %" PRId64 " %" PRId64, a, b);
}

static void dur_ok(int line, const char *s, int64_t want)
{
	int64_t ns = 0;
	const char *why;
	int r = dur_parse_s(s, &ns, &why);
	CHECK(r == 0 && ns == want, "line %d: '%s' -> %d %" PRId64 " (%s), want %" PRId64, line, s, r, ns,
	      r ? why : "ok", want);
}

static void dur_bad(int line, const char *s, const char *want_why)
{
	int64_t ns = 12345;
	const char *why;
	int r = dur_parse_s(s, &ns, &why);
	CHECK(r < 0 && why && strstr(why, want_why) && ns == 12345, "line %d: '%s' -> %d (%s), want '%s'", line, s,
	      r, why ? why : "no reason", want_why);
}

static void dur_fmt(int line, int64_t ns, const char *want)
{
	struct buf b = { 0 };
	int64_t back = 0;
	const char *why;
	dur_format(&b, ns);
	CHECK(strcmp(b.p, want) == 0, "line %d: %" PRId64 " -> '%s', want '%s'", line, ns, b.p, want);
	int r = dur_parse_s(b.p, &back, &why);
	CHECK(r == 0 && back == ns, "line %d: '%s' parses back to %" PRId64, line, b.p, back);
	buf_free(&b);
}
#define DUR_OK(s, want) dur_ok(__LINE__, s, want)
#define DUR_BAD(s, why) dur_bad(__LINE__, s, why)
#define DUR_FMT(ns, want) dur_fmt(__LINE__, ns, want)

static void test_duration(void)
{
	DUR_OK("1w", 7 * DAY);
	DUR_OK("3d", 3 * DAY);
	DUR_OK("2h", 2 * HOUR);
	DUR_OK("5m", 5 * MIN);
	DUR_OK("90s", 90 * SEC);
	DUR_OK("250ms", 250000000);
	DUR_OK("10us", 10000);
	DUR_OK("5ns", 5);
	DUR_OK("1h30m", 90 * MIN);
	DUR_OK("1d12h", 36 * HOUR);
	DUR_OK("1m1ms", MIN + 1000000);
	DUR_OK("1s1ms", SEC + 1000000);
	DUR_OK("1w2d3h4m5s6ms7us8ns", 9 * DAY + 3 * HOUR + 4 * MIN + 5 * SEC + 6000000 + 7000 + 8);
	DUR_OK("0s", 0);
	DUR_OK("-0s", 0);
	DUR_OK("-5m", -5 * MIN);
	DUR_OK("-1h30m", -90 * MIN);
	DUR_OK("00010s", 10 * SEC);
	DUR_OK("1h0m", HOUR);
	DUR_OK("9223372036854775807ns", INT64_MAX);
	DUR_OK("-9223372036854775808ns", INT64_MIN);
	DUR_OK("106751d23h47m16s854ms775us807ns", INT64_MAX);
	DUR_OK("-106751d23h47m16s854ms775us808ns", INT64_MIN);
	DUR_OK("15250w", INT64_C(15250) * 7 * DAY);

	DUR_BAD("", "empty duration");
	DUR_BAD("-", "empty duration");
	DUR_BAD("5", "needs a unit");
	DUR_BAD("1h30", "needs a unit");
	DUR_BAD("m", "expected a number");
	DUR_BAD("+1h", "expected a number");
	DUR_BAD("--1h", "expected a number");
	DUR_BAD("1h 30m", "expected a number");
	DUR_BAD(" 1h", "expected a number");
	DUR_BAD("1h-30m", "expected a number");
	DUR_BAD("1.5h", "fractions");
	DUR_BAD("1,5h", "fractions");
	DUR_BAD("1H", "needs a unit");
	DUR_BAD("1hr", "unknown duration unit");
	DUR_BAD("1y", "unknown duration unit");
	DUR_BAD("1mo", "unknown duration unit");
	DUR_BAD("1sec", "unknown duration unit");
	DUR_BAD("1\xc2\xb5s", "needs a unit"); /* µs */
	DUR_BAD("1h1h", "largest first");
	DUR_BAD("30m1h", "largest first");
	DUR_BAD("1ms1s", "largest first");
	DUR_BAD("1ms1m", "largest first");
	DUR_BAD("5ns1us", "largest first");
	DUR_BAD("1d1w", "largest first");
	DUR_BAD("9223372036854775808ns", "out of range");
	DUR_BAD("-9223372036854775809ns", "out of range");
	DUR_BAD("106752d", "out of range");
	DUR_BAD("15251w", "out of range");
	DUR_BAD("106751d23h47m16s854ms775us808ns", "out of range");
	DUR_BAD("99999999999999999999s", "out of range");
	DUR_BAD("18446744073709551616ns", "out of range");

	DUR_FMT(0, "0s");
	DUR_FMT(1, "1ns");
	DUR_FMT(-1, "-1ns");
	DUR_FMT(90 * SEC, "1m30s");
	DUR_FMT(5400 * SEC, "1h30m");
	DUR_FMT(250000000, "250ms");
	DUR_FMT(1500000000, "1s500ms");
	DUR_FMT(-5 * MIN, "-5m");
	DUR_FMT(36 * HOUR, "1d12h");
	DUR_FMT(7 * DAY, "7d");
	DUR_FMT(26 * HOUR, "1d2h");
	DUR_FMT(DAY + SEC, "1d1s");
	DUR_FMT(1001000, "1ms1us");
	DUR_FMT(1500, "1us500ns");
	DUR_FMT(5 * MIN, "5m");
	DUR_FMT(INT64_MAX, "106751d23h47m16s854ms775us807ns");
	DUR_FMT(INT64_MIN, "-106751d23h47m16s854ms775us808ns");

	/* round trips over the whole int64 range and over "round" values */
	uint64_t state = 7;
	int fails = 0;
	for (int i = 0; i < 20000; i++) {
		int64_t ns = (int64_t)next_rand(&state);
		if (i % 4 == 1)
			ns %= 1000 * DAY;
		else if (i % 4 == 2)
			ns = ns % (1000 * HOUR) / MIN * MIN;
		else if (i % 4 == 3)
			ns = ns % (100 * SEC) / 1000000 * 1000000;
		struct buf b = { 0 };
		int64_t back = 0;
		const char *why;
		dur_format(&b, ns);
		int r = dur_parse_s(b.p, &back, &why);
		if (r < 0 || back != ns) {
			if (fails++ < 5)
				fprintf(stderr, "dur round trip: %" PRId64 " -> '%s' -> %" PRId64 "\n", ns, b.p, back);
		}
		buf_free(&b);
	}
	CHECK(fails == 0, "%d of 20000 random duration round trips failed", fails);
	struct buf b = { 0 };
	buf_adds(&b, "wait ");
	dur_format(&b, 90 * MIN);
	CHECK_STR(b.p, "wait 1h30m");
	buf_free(&b);
}

int main(void)
{
	test_accepted();
	test_rejected();
	test_format();
	test_civil();
	test_epoch();
	test_duration();
	return check_summary("time");
}
