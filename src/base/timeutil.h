/* timeutil.h: event-time parsing and formatting, durations.
 *
 * Times are int64 nanoseconds since the Unix epoch, UTC: the range is
 * 1677-09-21 to 2262-04-11; a time outside it is rejected, not wrapped.
 * Durations are int64 nanoseconds.
 */
#ifndef CXR_TIMEUTIL_H
#define CXR_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* A time and a duration, or two times, can leave the range: 2262 plus a
 * window of a year, 1700 minus one.  Deadlines and window edges are held
 * at the ends of time instead of wrapping: a deadline past the last time
 * is one no event reaches (only --flush fires it, at the last time), a
 * window that starts before the first time reaches back to it.  Values in
 * a script do not saturate: there the VM says "time out of range". */
#define TIME_FIRST INT64_MIN
#define TIME_LAST INT64_MAX

static inline int64_t time_plus(int64_t t, int64_t d)
{
	int64_t r;
	return __builtin_add_overflow(t, d, &r) ? (d > 0 ? TIME_LAST : TIME_FIRST) : r;
}

static inline int64_t time_minus(int64_t t, int64_t d)
{
	int64_t r;
	return __builtin_sub_overflow(t, d, &r) ? (d > 0 ? TIME_FIRST : TIME_LAST) : r;
}

/* A duration computed in double (an average, a percentile) back to
 * nanoseconds, rounded, held inside int64: (int64_t) of 2^63 or more is
 * undefined, and it printed as a negative number of days. */
static inline int64_t dur_from_double(double ns)
{
	const double last = 9223372036854774784.0; /* the largest double below 2^63 */
	if (ns != ns)
		return 0;
	if (ns >= last)
		return INT64_MAX;
	if (ns <= -last)
		return INT64_MIN;
	return (int64_t)(ns < 0 ? ns - 0.5 : ns + 0.5);
}

/* The span from earlier to later as a duration; times are apart by up to
 * 584 years, more than a duration holds (292): "more than 106751d...". */
void time_span_format(struct buf *b, int64_t earlier, int64_t later);

/* later - earlier as a duration, held at the largest one. */
static inline int64_t time_since(int64_t later, int64_t earlier)
{
	int64_t r;
	return __builtin_sub_overflow(later, earlier, &r) ? (later > earlier ? INT64_MAX : INT64_MIN) : r;
}

/* Parse a timestamp: RFC 3339 (2026-03-01T19:13:00Z, lower-case t/z too),
 * a space instead of the T, fractions of 1 to 9 digits (more digits are
 * accepted and truncated to nanoseconds), offsets +hh:mm / -hh:mm / Z,
 * and naive times (no offset) taken as UTC.  Also a bare date (2026-03-01,
 * midnight UTC) and, when allow_short is set (script literals), a time
 * without seconds (2026-03-01T19:13Z).  Leap second :60 is accepted as :59
 * plus one second (i.e. the next minute's :00).  Returns 0 and sets *ns, or
 * -1 and sets *why to a static message such as "month out of range". */
int time_parse(const char *s, size_t n, int allow_short, int64_t *ns, const char **why);

/* A number read as an epoch time: seconds, or milliseconds when its
 * magnitude is 1e11 or more (1e11 seconds is the year 5138). */
int time_from_epoch(double x, int64_t *ns, const char **why);

/* RFC 3339 UTC: 2026-03-01T19:13:00Z; a fraction only when non-zero, with
 * 3, 6 or 9 digits (the fewest that are exact). */
void time_format(struct buf *b, int64_t ns);

/* Civil fields of a time in UTC (year, month 1-12, day 1-31, hour, minute,
 * second, weekday 1=Monday..7=Sunday, day of year 1-366). */
struct civil {
	int year, month, day, hour, minute, second, weekday, yday;
	int32_t nanos;
};
void time_to_civil(int64_t ns, struct civil *c);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/* Parse a duration literal: one or more <integer><unit> parts, units
 * w d h m s ms us ns, largest first (1h30m, 250ms, 1d12h); a leading '-'
 * is allowed.  Returns 0 and sets *ns, or -1 with *why. */
int dur_parse(const char *s, size_t n, int64_t *ns, const char **why);

/* Largest exact units, largest first: 5m, 1h30m, 250ms, 1d2h, 0s, -5m.
 * Weeks are not used on output (7d stays 7d). */
void dur_format(struct buf *b, int64_t ns);

#endif
