/* timeutil.c: event-time parsing and formatting, durations (see timeutil.h).
 *
 * time_parse runs once per event, so it reads the fixed RFC 3339 layout by
 * position with hand-written digit checks: no sscanf, no strtol, no
 * allocation, no locale.  Only ASCII digits count as digits, so a UTF-8
 * digit from another script is rejected rather than misread.
 *
 * Calendar arithmetic uses Howard Hinnant's days_from_civil and
 * civil_from_days (http://howardhinnant.github.io/date_algorithms.html):
 * exact for the proleptic Gregorian calendar, no tables, no loops.  Every
 * division of a possibly negative number is a floor division, so times
 * before 1970 land on the right day and second.
 *
 * Decisions the header leaves open (the README and
 * tests/conformance/rfc3339.py list them too):
 *  - offsets are Z, z, +hh:mm, -hh:mm and also +hhmm/-hhmm, which
 *    strftime's %z and many web-server logs write; +hh alone is rejected,
 *    as RFC 3339 does; -00:00 ("offset unknown") is read as UTC;
 *  - a leap second :60 is valid only where one can be, at 23:59:60 UTC
 *    (after the offset is applied); the day is not checked against the
 *    leap-second table;
 *  - no white space is trimmed: " 2026-03-01" is an error, readers trim;
 *  - an epoch number is rounded to the nearest microsecond, because a
 *    double carries about 16 significant digits and below that an epoch in
 *    seconds is noise (1700000000.123 is stored as 1700000000.1229999065).
 */
#include "timeutil.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define NS_PER_US INT64_C(1000)
#define NS_PER_SEC INT64_C(1000000000)
#define SEC_PER_DAY INT64_C(86400)
#define NS_PER_DAY (SEC_PER_DAY * NS_PER_SEC)

/* The years holding at least one instant that int64 nanoseconds can hold;
 * the first and last are only partly representable. */
#define TIME_YEAR_MIN 1677
#define TIME_YEAR_MAX 2262

static const char time_err_year[] =
	"year out of range for nanosecond times (1677-2262)";
static const char time_err_range[] =
	"time out of range for nanosecond times "
	"(1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)";

static int time_fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

static inline int time_is_digit(char c) { return (unsigned)(c - '0') < 10; }

/* Two ASCII digits at p as a number, or -1. */
static inline int time_dig2(const char *p)
{
	unsigned a = (unsigned)(p[0] - '0'), b = (unsigned)(p[1] - '0');
	if (a > 9 || b > 9)
		return -1;
	return (int)(a * 10 + b);
}

static inline int64_t time_floor_mod(int64_t a, int64_t m)
{
	int64_t r = a % m;
	return r < 0 ? r + m : r;
}

static int time_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned time_month_days(int64_t y, unsigned m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && time_is_leap(y) ? 29 : days[m - 1];
}

/* whole * unit + part for 0 <= part < unit, or -1 on overflow.  A negative
 * whole is joined as (whole + 1) * unit - (unit - part): the earliest
 * instant, 1677-09-21T00:12:43.145224192Z, fits although its whole seconds
 * times 1e9 alone do not. */
static int time_join(int64_t whole, int64_t unit, int64_t part, int64_t *ns)
{
	int64_t r;
	if (whole < 0 && part > 0) {
		whole++;
		part -= unit;
	}
	if (__builtin_mul_overflow(whole, unit, &r) || __builtin_add_overflow(r, part, &r))
		return -1;
	*ns = r;
	return 0;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Hinnant: count years from March, so the leap day is the last day of
	 * the "year" and the month lengths follow the 153/5 pattern. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);                   /* [0, 399] */
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;       /* [0, 146096] */
	return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil (Hinnant's civil_from_days). */
static void time_civil_from_days(int64_t z, int *year, int *month, int *day)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11], 0 = March */
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)m;
	*year = (int)((int64_t)yoe + era * 400 + (m <= 2));
}

void time_to_civil(int64_t ns, struct civil *c)
{
	int64_t days = ns / NS_PER_DAY, rem = ns % NS_PER_DAY;
	if (rem < 0) {
		days--;
		rem += NS_PER_DAY;
	}
	time_civil_from_days(days, &c->year, &c->month, &c->day);
	int64_t secs = rem / NS_PER_SEC;
	c->nanos = (int32_t)(rem % NS_PER_SEC);
	c->hour = (int)(secs / 3600);
	c->minute = (int)(secs / 60 % 60);
	c->second = (int)(secs % 60);
	c->weekday = (int)time_floor_mod(days + 3, 7) + 1; /* 1970-01-01 was a Thursday */
	c->yday = (int)(days - days_from_civil(c->year, 1, 1)) + 1;
}

/* full-date [("T" / "t" / " ") partial-time [time-offset]]
 * partial-time = hh ":" mm [":" ss ["." 1*DIGIT]]   (no seconds only if allow_short)
 * time-offset  = "Z" / "z" / ("+" / "-") hh [":"] mm */
int time_parse(const char *s, size_t n, int allow_short, int64_t *ns, const char **why)
{
	const char *p = s, *end = s + n;
	int hour = 0, minute = 0, second = 0;
	int64_t frac = 0, off = 0;

	if (n == 0)
		return time_fail(why, "empty timestamp");
	if (n < 10 || p[4] != '-' || p[7] != '-')
		return time_fail(why, "expected a date YYYY-MM-DD");
	int yhi = time_dig2(p), ylo = time_dig2(p + 2), month = time_dig2(p + 5), day = time_dig2(p + 8);
	if (yhi < 0 || ylo < 0 || month < 0 || day < 0)
		return time_fail(why, "expected a date YYYY-MM-DD");
	int year = yhi * 100 + ylo;
	if (month < 1 || month > 12)
		return time_fail(why, "month out of range");
	if (day < 1 || (unsigned)day > time_month_days(year, (unsigned)month))
		return time_fail(why, "day out of range for the month");
	p += 10;

	if (p < end) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return time_fail(why, "expected 'T' or a space after the date");
		p++;
		if (end - p < 5 || p[2] != ':' || (hour = time_dig2(p)) < 0 || (minute = time_dig2(p + 3)) < 0)
			return time_fail(why, "expected a time hh:mm:ss");
		if (hour > 23)
			return time_fail(why, "hour out of range");
		if (minute > 59)
			return time_fail(why, "minute out of range");
		p += 5;
		if (p < end && *p == ':') {
			if (end - p < 3 || (second = time_dig2(p + 1)) < 0)
				return time_fail(why, "expected two digits of seconds after hh:mm:");
			if (second > 60)
				return time_fail(why, "second out of range");
			p += 3;
			if (p < end && *p == '.') {
				int digits = 0;
				for (p++; p < end && time_is_digit(*p); p++) {
					if (digits < 9) /* the rest is below a nanosecond: truncated */
						frac = frac * 10 + (*p - '0');
					digits++;
				}
				if (digits == 0)
					return time_fail(why, "expected digits after the '.' of the seconds");
				for (; digits < 9; digits++)
					frac *= 10;
			}
		} else if (!allow_short) {
			return time_fail(why, "time needs seconds (hh:mm:ss)");
		}

		if (p < end && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < end && (*p == '+' || *p == '-')) {
			int neg = *p++ == '-', oh, om;
			if (end - p < 2 || (oh = time_dig2(p)) < 0)
				return time_fail(why, "expected an offset +hh:mm or -hh:mm");
			p += 2;
			if (p < end && *p == ':')
				p++;
			if (end - p < 2 || (om = time_dig2(p)) < 0)
				return time_fail(why, "offset needs minutes (+hh:mm)");
			p += 2;
			if (oh > 23)
				return time_fail(why, "offset hour out of range");
			if (om > 59)
				return time_fail(why, "offset minute out of range");
			off = (int64_t)(oh * 3600 + om * 60);
			if (neg)
				off = -off;
		}
	}
	if (p != end)
		return time_fail(why, "unexpected characters after the timestamp");
	if (year < TIME_YEAR_MIN || year > TIME_YEAR_MAX)
		return time_fail(why, time_err_year);

	/* A second of 60 simply counts on into the next minute's :00. */
	int64_t secs = days_from_civil(year, (unsigned)month, (unsigned)day) * SEC_PER_DAY +
		       hour * 3600 + minute * 60 + second - off;
	if (second == 60 && time_floor_mod(secs - 1, SEC_PER_DAY) != SEC_PER_DAY - 1)
		return time_fail(why, "leap second :60 is only valid at 23:59:60 UTC");
	if (time_join(secs, NS_PER_SEC, frac, ns) < 0)
		return time_fail(why, time_err_range);
	return 0;
}

int time_from_epoch(double x, int64_t *ns, const char **why)
{
	if (isnan(x) || isinf(x))
		return time_fail(why, "epoch time is not a finite number");
	int is_ms = x >= 1e11 || x <= -1e11;
	int64_t unit = is_ms ? INT64_C(1000000) : NS_PER_SEC; /* ns per unit of x */
	int64_t sub = unit / NS_PER_US;                       /* us per unit of x */
	const char *range = is_ms ? "epoch milliseconds out of range (1677-09-21 to 2262-04-11)"
				  : "epoch seconds out of range (1677-09-21 to 2262-04-11; "
				    "numbers of 1e11 and more are read as milliseconds)";

	/* Coarse bound first so that the conversion to int64 is defined. */
	if (x >= 1e13 || x <= -1e13)
		return time_fail(why, range);
	int64_t whole = (int64_t)x; /* truncates toward zero: make it a floor */
	if ((double)whole > x)
		whole--;
	int64_t us = (int64_t)((x - (double)whole) * (double)sub + 0.5);
	if (us >= sub) {
		whole++;
		us -= sub;
	}
	if (time_join(whole, unit, us * NS_PER_US, ns) < 0)
		return time_fail(why, range);
	return 0;
}

/* Writes v as exactly width decimal digits ending just before q. */
static void time_put_digits(char *q, int64_t v, int width)
{
	while (width-- > 0) {
		*--q = (char)('0' + v % 10);
		v /= 10;
	}
}

void time_format(struct buf *b, int64_t ns)
{
	struct civil c;
	time_to_civil(ns, &c);

	/* YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ is 30 bytes and the years of int64
	 * nanoseconds always have 4 digits. */
	buf_reserve(b, 30);
	char *q = b->p + b->len;
	time_put_digits(q + 4, c.year, 4);
	q[4] = '-';
	time_put_digits(q + 7, c.month, 2);
	q[7] = '-';
	time_put_digits(q + 10, c.day, 2);
	q[10] = 'T';
	time_put_digits(q + 13, c.hour, 2);
	q[13] = ':';
	time_put_digits(q + 16, c.minute, 2);
	q[16] = ':';
	time_put_digits(q + 19, c.second, 2);
	size_t len = 19;
	if (c.nanos) {
		int digits = 9;
		int64_t f = c.nanos;
		if (f % 1000000 == 0) {
			digits = 3;
			f /= 1000000;
		} else if (f % 1000 == 0) {
			digits = 6;
			f /= 1000;
		}
		q[len++] = '.';
		time_put_digits(q + len + (size_t)digits, f, digits);
		len += (size_t)digits;
	}
	q[len++] = 'Z';
	b->len += len;
	b->p[b->len] = 0;
}

/* The duration units, largest first: the order dur_parse demands and
 * dur_format writes. */
static const struct dur_unit {
	const char *name; /* as written after the number */
	size_t len;       /* strlen(name) */
	uint64_t ns;      /* nanoseconds in one */
	int output;       /* used by dur_format (weeks are not: 7d stays 7d) */
} dur_units[] = {
	{ "w", 1, UINT64_C(604800000000000), 0 },
	{ "d", 1, UINT64_C(86400000000000), 1 },
	{ "h", 1, UINT64_C(3600000000000), 1 },
	{ "m", 1, UINT64_C(60000000000), 1 },
	{ "s", 1, UINT64_C(1000000000), 1 },
	{ "ms", 2, UINT64_C(1000000), 1 },
	{ "us", 2, UINT64_C(1000), 1 },
	{ "ns", 2, UINT64_C(1), 1 },
};
#define DUR_NUNITS (sizeof dur_units / sizeof dur_units[0])

/* duration = ["-"] 1*(1*DIGIT unit), units strictly decreasing */
int dur_parse(const char *s, size_t n, int64_t *ns, const char **why)
{
	const char *p = s, *end = s + n;
	int neg = 0;
	size_t next = 0; /* index of the largest unit still allowed */
	uint64_t total = 0;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	/* The magnitude of INT64_MIN is one more than INT64_MAX. */
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (p == end)
		return time_fail(why, "empty duration");
	while (p < end) {
		if (!time_is_digit(*p))
			return time_fail(why, "expected a number (durations look like 1h30m)");
		uint64_t v = 0;
		for (; p < end && time_is_digit(*p); p++) {
			if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
				return time_fail(why, "duration out of range (about 292 years at most)");
		}
		if (p < end && (*p == '.' || *p == ','))
			return time_fail(why, "fractions are not allowed in durations (write 1h30m, not 1.5h)");
		const char *u = p;
		while (p < end && *p >= 'a' && *p <= 'z')
			p++;
		if (u == p)
			return time_fail(why, "a number needs a unit (w d h m s ms us ns)");
		size_t i;
		for (i = 0; i < DUR_NUNITS; i++) {
			if ((size_t)(p - u) == dur_units[i].len && memcmp(u, dur_units[i].name, dur_units[i].len) == 0)
				break;
		}
		if (i == DUR_NUNITS)
			return time_fail(why, "unknown duration unit (use w d h m s ms us ns)");
		if (i < next)
			return time_fail(why, "duration units go largest first, each once (1h30m, not 30m1h)");
		next = i + 1;
		uint64_t part;
		if (__builtin_mul_overflow(v, dur_units[i].ns, &part) || __builtin_add_overflow(total, part, &total) ||
		    total > limit)
			return time_fail(why, "duration out of range (about 292 years at most)");
	}
	if (!neg)
		*ns = (int64_t)total;
	else if (total == limit)
		*ns = INT64_MIN;
	else
		*ns = -(int64_t)total;
	return 0;
}

void time_span_format(struct buf *b, int64_t earlier, int64_t later)
{
	int64_t span;
	if (__builtin_sub_overflow(later, earlier, &span)) {
		buf_adds(b, "more than ");
		span = later > earlier ? INT64_MAX : INT64_MIN;
	}
	dur_format(b, span);
}

void dur_format(struct buf *b, int64_t ns)
{
	if (ns == 0) {
		buf_adds(b, "0s");
		return;
	}
	/* Unsigned negation: INT64_MIN has no positive int64 counterpart. */
	uint64_t mag = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
	if (ns < 0)
		buf_addc(b, '-');
	for (size_t i = 0; i < DUR_NUNITS && mag; i++) {
		if (!dur_units[i].output || mag < dur_units[i].ns)
			continue;
		buf_printf(b, "%" PRIu64 "%s", mag / dur_units[i].ns, dur_units[i].name);
		mag %= dur_units[i].ns;
	}
}
