/* tzone.c: IANA time zones from TZif files (see tzone.h).
 *
 * A zone is loaded once per cache: the file is read whole, every count is
 * checked against its length before anything is read (RFC 8536), and what
 * is kept is what a lookup needs: the transition instants, the UT offset
 * in force after each, and the footer's POSIX TZ rule for instants after
 * the last transition.  Leap-second records are skipped: cxr's times are
 * UTC without leap seconds, so the "right/" zones would be wrong here.
 *
 * A lookup is a binary search over the transitions, or an evaluation of
 * the footer rule for three calendar years around the instant.  Either
 * way the answer holds for a whole interval, which the zone remembers, so
 * the usual case (events in time order, one zone) costs two compares.
 * The cache also remembers the last zone asked for by name, and keeps the
 * rest in a small open-addressing hash table.
 *
 * Decisions the header leaves open:
 *  - the file is found as $TZDIR/name (TZDIR read once, when the cache is
 *    made) or /usr/share/zoneinfo/name; a name is 1-255 bytes of
 *    [A-Za-z0-9_+-] in non-empty segments separated by '/', so it cannot
 *    leave the directory (no '.', no leading '/', no "//");
 *  - "UTC", "GMT" and "Z" are offset 0 without a file; a name that starts
 *    with '+' or '-' must be a fixed offset +hh, +hhmm or +hh:mm (hours
 *    0-23, minutes 0-59) and never touches the disk;
 *  - a missing file or a directory is "unknown time zone 'x'"; a regular
 *    file that is not a valid TZif file (any version 1-4, truncated,
 *    counts that do not fit, a bad footer) is "bad time zone file for 'x'";
 *  - both failures are remembered per name, so a bad name coming with
 *    every event reads the disk once; past TZ_FAILED_MAX remembered
 *    failures new ones are reported but not kept, which bounds the memory
 *    a stream of made-up names can take;
 *  - instants before the first transition take time type 0 (RFC 8536);
 *    after the last, the footer rule, or the last type if the footer is
 *    empty; a footer "std offset dst" without a rule uses the US rule
 *    M3.2.0,M11.1.0, as tzcode does.
 */
#include "tzone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 255         /* bytes in a zone name */
#define TZ_FILE_MAX (1 << 20)   /* real TZif files are under 4 KiB */
#define TZ_FAILED_MAX 256       /* failed names remembered per cache */
#define TZ_SHOW_MAX 64          /* bytes of a name quoted in a message */
#define TZ_HEADER_SIZE 44
#define TZ_NS INT64_C(1000000000)
#define TZ_DAY INT64_C(86400)

/* RFC 8536 3.2: a UT offset is more than -25 h and less than 26 h. */
#define TZ_UTOFF_MIN (-89999)
#define TZ_UTOFF_MAX 93599

enum tz_err { TZ_OK, TZ_UNKNOWN, TZ_BAD };

/* One transition date of a POSIX TZ rule. */
struct tz_rule_date {
	char kind;    /* 'J' Jn (1-365, Feb 29 never counted), 'D' n (0-365), 'M' Mm.w.d */
	int month;    /* M: 1-12 */
	int week;     /* M: 1-5, 5 meaning the last */
	int day;      /* J: 1-365; D: 0-365; M: weekday 0-6, 0 = Sunday */
	int32_t time; /* seconds after local midnight, -167 h to 167 h (RFC 8536 v3) */
};

/* A POSIX TZ rule, from a TZif footer. */
struct tz_rule {
	int32_t std_off;           /* standard UT offset, seconds east */
	int32_t dst_off;           /* daylight UT offset, seconds east */
	int has_dst;               /* 0: std_off all year */
	struct tz_rule_date start; /* standard to daylight, in standard local time */
	struct tz_rule_date end;   /* daylight to standard, in daylight local time */
};

struct tz_zone {
	char *name;               /* NUL-terminated copy of the name asked for */
	size_t name_len;          /* its length */
	uint64_t hash;            /* of the name, for the table */
	char *err;                /* why the zone did not load, or NULL */
	int64_t *trans;           /* transition instants, UTC seconds, strictly ascending */
	uint8_t *trans_type;      /* local time type after each transition */
	size_t ntrans;            /* transitions */
	int32_t *type_off;        /* UT offset of each local time type, seconds east */
	size_t ntypes;            /* local time types, at least 1 when loaded */
	int has_rule;             /* the footer rule governs after the last transition */
	struct tz_rule rule;      /* the footer rule, when has_rule */
	int64_t memo_lo, memo_hi; /* the last answer holds for UTC seconds [lo, hi) */
	int32_t memo_off;         /* the last answer */
};

struct tz_cache {
	char *dir;              /* the zoneinfo directory, without a trailing '/' */
	struct tz_zone **slot;  /* open addressing, power-of-two size, NULL when free */
	size_t nslot;           /* slots */
	size_t nzone;           /* zones in the table */
	size_t nfailed;         /* of which failed to load */
	struct tz_zone *last;   /* the zone of the previous call: usually the next one too */
	struct buf why;         /* the message of a failure not kept in a zone */
};

/* ---- cache ---- */

struct tz_cache *tz_cache_new(void)
{
	struct tz_cache *c = mem_alloc(sizeof *c);
	const char *dir = getenv("TZDIR");
	if (!dir || !*dir)
		dir = TZ_DEFAULT_DIR;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	c->dir = mem_strndup(dir, n);
	return c;
}

static void tz_zone_free(struct tz_zone *z)
{
	mem_free(z->name);
	mem_free(z->err);
	mem_free(z->trans);
	mem_free(z->trans_type);
	mem_free(z->type_off);
	mem_free(z);
}

void tz_cache_free(struct tz_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslot; i++)
		if (c->slot[i])
			tz_zone_free(c->slot[i]);
	mem_free(c->slot);
	mem_free(c->dir);
	buf_free(&c->why);
	mem_free(c);
}

/* FNV-1a: names are short and few, anything spreading them will do. */
static uint64_t tz_hash(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static struct tz_zone *tz_find(const struct tz_cache *c, const char *name, size_t len, uint64_t h)
{
	if (!c->nslot)
		return NULL;
	size_t mask = c->nslot - 1;
	for (size_t i = (size_t)h & mask; c->slot[i]; i = (i + 1) & mask) {
		struct tz_zone *z = c->slot[i];
		if (z->hash == h && z->name_len == len && memcmp(z->name, name, len) == 0)
			return z;
	}
	return NULL;
}

static void tz_put(struct tz_zone **slot, size_t nslot, struct tz_zone *z)
{
	size_t mask = nslot - 1, i = (size_t)z->hash & mask;
	while (slot[i])
		i = (i + 1) & mask;
	slot[i] = z;
}

static void tz_insert(struct tz_cache *c, struct tz_zone *z)
{
	/* Keep the table at most half full so probe runs stay short. */
	if ((c->nzone + 1) * 2 > c->nslot) {
		size_t nslot = c->nslot ? c->nslot * 2 : 16;
		struct tz_zone **slot = mem_alloc(nslot * sizeof *slot);
		for (size_t i = 0; i < c->nslot; i++)
			if (c->slot[i])
				tz_put(slot, nslot, c->slot[i]);
		mem_free(c->slot);
		c->slot = slot;
		c->nslot = nslot;
	}
	tz_put(c->slot, c->nslot, z);
	c->nzone++;
}

/* ---- names and messages ---- */

/* The message for a failed name, into b.  The name may come from event
 * data, so it is cut short and its unprintable bytes are escaped. */
static void tz_message(struct buf *b, enum tz_err err, const char *name, size_t len)
{
	buf_clear(b);
	buf_adds(b, err == TZ_BAD ? "bad time zone file for '" : "unknown time zone '");
	size_t show = len > TZ_SHOW_MAX ? TZ_SHOW_MAX : len;
	for (size_t i = 0; i < show; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch < 0x20 || ch > 0x7e || ch == '\\')
			buf_printf(b, "\\x%02x", ch);
		else
			buf_addc(b, (char)ch);
	}
	if (show < len)
		buf_adds(b, "...");
	buf_addc(b, '\'');
}

static int tz_fail(struct tz_cache *c, enum tz_err err, const char *name, size_t len,
		   const char **why)
{
	tz_message(&c->why, err, name, len);
	*why = c->why.p;
	return -1;
}

/* Two ASCII digits as a number, or -1. */
static int tz_dig2(const char *p)
{
	unsigned a = (unsigned)(p[0] - '0'), b = (unsigned)(p[1] - '0');
	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/* A zone that needs no file: 1 and *off (seconds east), 0 when the name
 * is not of that form, -1 when it starts like an offset but is not one. */
static int tz_fixed(const char *s, size_t n, int32_t *off)
{
	if ((n == 3 && (memcmp(s, "UTC", 3) == 0 || memcmp(s, "GMT", 3) == 0)) ||
	    (n == 1 && s[0] == 'Z')) {
		*off = 0;
		return 1;
	}
	if (n == 0 || (s[0] != '+' && s[0] != '-'))
		return 0;
	/* +hh, +hhmm, +hh:mm */
	int h = n >= 3 ? tz_dig2(s + 1) : -1, m = 0;
	if (n == 5)
		m = tz_dig2(s + 3);
	else if (n == 6)
		m = s[3] == ':' ? tz_dig2(s + 4) : -1;
	else if (n != 3)
		return -1;
	if (h < 0 || m < 0 || h > 23 || m > 59)
		return -1;
	*off = (int32_t)(h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
	return 1;
}

/* Whether name can be looked up under the zoneinfo directory without
 * leaving it: segments of [A-Za-z0-9_+-], none empty.  Without '.' there
 * is no "." or ".." segment to worry about. */
static int tz_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > TZ_NAME_MAX)
		return 0;
	size_t seg = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '/') {
			if (seg == 0)
				return 0;
			seg = 0;
			continue;
		}
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '+' || ch == '-'))
			return 0;
		seg++;
	}
	return seg > 0;
}

/* ---- calendar ---- */

/* Howard Hinnant's days_from_civil / civil_from_days (as in timeutil.c,
 * repeated so this file stands alone): floor divisions throughout. */
static int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t tz_year_from_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

static int64_t tz_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int tz_is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static int tz_month_days(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return days[m - 1] + (m == 2 && tz_is_leap(y));
}

/* ---- POSIX TZ rules ---- */

/* Local seconds since the epoch (as if local time were UTC) at which date
 * d falls in year y. */
static int64_t tz_rule_when(const struct tz_rule_date *d, int64_t y)
{
	int64_t days;
	switch (d->kind) {
	case 'J':
		days = tz_days_from_civil(y, 1, 1) + d->day - 1 + (tz_is_leap(y) && d->day >= 60);
		break;
	case 'D':
		days = tz_days_from_civil(y, 1, 1) + d->day;
		break;
	default: {
		int64_t first = tz_days_from_civil(y, d->month, 1);
		/* 1970-01-01 was a Thursday, weekday 4 counting Sunday as 0. */
		int wd1 = (int)(((first % 7) + 11) % 7);
		int mday = (d->day - wd1 + 7) % 7 + 7 * (d->week - 1);
		while (mday >= tz_month_days(y, d->month))
			mday -= 7;
		days = first + mday;
		break;
	}
	}
	return days * TZ_DAY + d->time;
}

/* The offset rule r gives at UTC second t, and the interval [*lo, *hi)
 * around t that it holds for.  The transitions of the years before, of
 * and after t's are enough: a rule time is within a week of its date, so
 * the latest of them at or before t is the one in force.  On a tie the
 * later in the rule wins, which makes "all year daylight time" rules
 * (EST5EDT,0/0,J365/25) come out as daylight time. */
static int32_t tz_rule_offset(const struct tz_rule *r, int64_t t, int64_t *lo, int64_t *hi)
{
	if (!r->has_dst) {
		*lo = INT64_MIN;
		*hi = INT64_MAX;
		return r->std_off;
	}
	int64_t year = tz_year_from_days(tz_floor_div(t + r->std_off, TZ_DAY));
	int64_t when[6];
	for (int k = 0; k < 3; k++) {
		when[2 * k] = tz_rule_when(&r->start, year - 1 + k) - r->std_off;
		when[2 * k + 1] = tz_rule_when(&r->end, year - 1 + k) - r->dst_off;
	}
	int best = -1;
	*hi = INT64_MAX;
	for (int i = 0; i < 6; i++) {
		if (when[i] <= t) {
			if (best < 0 || when[i] >= when[best])
				best = i;
		} else if (when[i] < *hi) {
			*hi = when[i];
		}
	}
	if (*hi == INT64_MAX)
		*hi = t + 1;
	if (best < 0) {
		*lo = t;
		return r->std_off;
	}
	*lo = when[best];
	return best % 2 == 0 ? r->dst_off : r->std_off;
}

static int tz_is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* std and dst: three or more letters, or <three or more of [A-Za-z0-9+-]>. */
static const char *tz_rule_name(const char *p, const char *end)
{
	const char *s;
	if (p < end && *p == '<') {
		s = ++p;
		while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
				   tz_is_digit(*p) || *p == '+' || *p == '-'))
			p++;
		if (p - s < 3 || p == end || *p != '>')
			return NULL;
		return p + 1;
	}
	s = p;
	while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		p++;
	return p - s < 3 ? NULL : p;
}

/* A decimal number in [min, max]. */
static const char *tz_rule_num(const char *p, const char *end, int min, int max, int *v)
{
	const char *s = p;
	int n = 0;
	while (p < end && tz_is_digit(*p)) {
		n = n * 10 + (*p++ - '0');
		if (n > max)
			return NULL;
	}
	if (p == s || n < min)
		return NULL;
	*v = n;
	return p;
}

/* [+-]hh[:mm[:ss]], hours at most max_hours, as seconds. */
static const char *tz_rule_secs(const char *p, const char *end, int max_hours, int32_t *secs)
{
	int neg = 0, h, m = 0, s = 0;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (!(p = tz_rule_num(p, end, 0, max_hours, &h)))
		return NULL;
	if (p < end && *p == ':') {
		if (!(p = tz_rule_num(p + 1, end, 0, 59, &m)))
			return NULL;
		if (p < end && *p == ':' && !(p = tz_rule_num(p + 1, end, 0, 59, &s)))
			return NULL;
	}
	*secs = (int32_t)(h * 3600 + m * 60 + s) * (neg ? -1 : 1);
	return p;
}

/* date [/time]   date = Jn | n | Mm.w.d */
static const char *tz_rule_date(const char *p, const char *end, struct tz_rule_date *d)
{
	if (p < end && *p == 'J') {
		d->kind = 'J';
		p = tz_rule_num(p + 1, end, 1, 365, &d->day);
	} else if (p < end && *p == 'M') {
		d->kind = 'M';
		p = tz_rule_num(p + 1, end, 1, 12, &d->month);
		if (p && p < end && *p == '.')
			p = tz_rule_num(p + 1, end, 1, 5, &d->week);
		else
			p = NULL;
		if (p && p < end && *p == '.')
			p = tz_rule_num(p + 1, end, 0, 6, &d->day);
		else
			p = NULL;
	} else {
		d->kind = 'D';
		p = tz_rule_num(p, end, 0, 365, &d->day);
	}
	if (!p)
		return NULL;
	d->time = 2 * 3600;
	if (p < end && *p == '/')
		p = tz_rule_secs(p + 1, end, 167, &d->time);
	return p;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]
 * Offsets count hours west, as POSIX has it; they are stored east. */
static int tz_rule_parse(struct tz_rule *r, const char *p, const char *end)
{
	int32_t off;
	memset(r, 0, sizeof *r);
	if (!(p = tz_rule_name(p, end)) || !(p = tz_rule_secs(p, end, 24, &off)))
		return -1;
	r->std_off = -off;
	if (p == end)
		return 0;
	if (!(p = tz_rule_name(p, end)))
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (p < end && *p != ',') {
		if (!(p = tz_rule_secs(p, end, 24, &off)))
			return -1;
		r->dst_off = -off;
	}
	if (p == end) {
		r->start = (struct tz_rule_date){'M', 3, 2, 0, 2 * 3600};
		r->end = (struct tz_rule_date){'M', 11, 1, 0, 2 * 3600};
		return 0;
	}
	if (*p != ',' || !(p = tz_rule_date(p + 1, end, &r->start)))
		return -1;
	if (p == end || *p != ',' || !(p = tz_rule_date(p + 1, end, &r->end)))
		return -1;
	return p == end ? 0 : -1;
}

/* ---- TZif files (RFC 8536) ---- */

/* The counts of one header. */
struct tz_counts {
	unsigned version; /* 0 for version 1, else '2', '3', '4'... */
	uint64_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t tz_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t tz_be64(const unsigned char *p)
{
	return (uint64_t)tz_be32(p) << 32 | tz_be32(p + 4);
}

static int tz_header(const unsigned char *p, size_t len, size_t *pos, struct tz_counts *h)
{
	if (len - *pos < TZ_HEADER_SIZE)
		return -1;
	const unsigned char *q = p + *pos;
	if (memcmp(q, "TZif", 4) != 0)
		return -1;
	/* Later versions only add to the footer, so any digit from 2 up is
	 * read as version 2 is. */
	h->version = q[4];
	if (h->version != 0 && (h->version < '2' || h->version > '9'))
		return -1;
	h->isutcnt = tz_be32(q + 20);
	h->isstdcnt = tz_be32(q + 24);
	h->leapcnt = tz_be32(q + 28);
	h->timecnt = tz_be32(q + 32);
	h->typecnt = tz_be32(q + 36);
	h->charcnt = tz_be32(q + 40);
	*pos += TZ_HEADER_SIZE;
	/* Type indices are one byte; isut and isstd are per type or absent. */
	if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return -1;
	return 0;
}

/* Bytes of the data block after header h, with times of tsize bytes.
 * Each count is below 2^32, so the sum cannot overflow 64 bits. */
static uint64_t tz_block_size(const struct tz_counts *h, unsigned tsize)
{
	return h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt + h->leapcnt * (tsize + 4) +
	       h->isstdcnt + h->isutcnt;
}

/* Read the data block at *pos into z; the caller has checked its size. */
static int tz_block(struct tz_zone *z, const unsigned char *p, size_t *pos,
		   const struct tz_counts *h, unsigned tsize)
{
	const unsigned char *times = p + *pos;
	const unsigned char *idx = times + h->timecnt * tsize;
	const unsigned char *types = idx + h->timecnt;
	const unsigned char *chars = types + h->typecnt * 6;
	const unsigned char *leaps = chars + h->charcnt;
	const unsigned char *isstd = leaps + h->leapcnt * (tsize + 4);
	const unsigned char *isut = isstd + h->isstdcnt;

	z->ntrans = (size_t)h->timecnt;
	z->ntypes = (size_t)h->typecnt;
	z->trans = mem_alloc(z->ntrans * sizeof *z->trans);
	z->trans_type = mem_alloc(z->ntrans);
	z->type_off = mem_alloc(z->ntypes * sizeof *z->type_off);
	for (size_t i = 0; i < z->ntrans; i++) {
		z->trans[i] = tsize == 8 ? (int64_t)tz_be64(times + 8 * i)
					 : (int64_t)(int32_t)tz_be32(times + 4 * i);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return -1;
		if (idx[i] >= z->ntypes)
			return -1;
		z->trans_type[i] = idx[i];
	}
	for (size_t i = 0; i < z->ntypes; i++) {
		const unsigned char *t = types + 6 * i;
		int32_t utoff = (int32_t)tz_be32(t);
		if (utoff < TZ_UTOFF_MIN || utoff > TZ_UTOFF_MAX || t[4] > 1 || t[5] >= h->charcnt)
			return -1;
		z->type_off[i] = utoff;
	}
	/* Designations are NUL-terminated strings; only their bounds matter. */
	if (chars[h->charcnt - 1] != 0)
		return -1;
	for (uint64_t i = 0; i < h->isstdcnt; i++)
		if (isstd[i] > 1 || (h->isutcnt && isut[i] > isstd[i]))
			return -1;
	for (uint64_t i = 0; i < h->isutcnt; i++)
		if (isut[i] > 1)
			return -1;
	*pos += (size_t)tz_block_size(h, tsize);
	return 0;
}

/* A whole TZif file into z. */
static int tz_parse(struct tz_zone *z, const unsigned char *p, size_t len)
{
	struct tz_counts h;
	size_t pos = 0;
	if (tz_header(p, len, &pos, &h) != 0)
		return -1;
	if (h.version == 0) {
		/* Version 1: 32-bit times, no footer. */
		if (tz_block_size(&h, 4) > len - pos || tz_block(z, p, &pos, &h, 4) != 0)
			return -1;
		return pos == len ? 0 : -1;
	}
	/* Version 2 and up: skip the 32-bit block for the 64-bit one. */
	if (tz_block_size(&h, 4) > len - pos)
		return -1;
	pos += (size_t)tz_block_size(&h, 4);
	if (tz_header(p, len, &pos, &h) != 0 || h.version == 0)
		return -1;
	if (tz_block_size(&h, 8) > len - pos || tz_block(z, p, &pos, &h, 8) != 0)
		return -1;
	/* Footer: "\n" TZ string "\n", ending the file. */
	if (len - pos < 2 || p[pos] != '\n' || p[len - 1] != '\n')
		return -1;
	const char *s = (const char *)p + pos + 1, *end = (const char *)p + len - 1;
	if (memchr(s, '\n', (size_t)(end - s)))
		return -1;
	if (s == end)
		return 0;
	if (tz_rule_parse(&z->rule, s, end) != 0)
		return -1;
	z->has_rule = 1;
	return 0;
}

/* Read dir/name whole into b. */
static enum tz_err tz_read(const struct tz_cache *c, const char *name, size_t len, struct buf *b)
{
	struct buf path = {0};
	buf_adds(&path, c->dir);
	buf_addc(&path, '/');
	buf_add(&path, name, len);
	FILE *f = fopen(path.p, "rb");
	buf_free(&path);
	if (!f)
		return TZ_UNKNOWN;
	/* A directory opens fine on Linux but is not a zone; a FIFO could
	 * block the run.  Only regular files are read. */
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return TZ_UNKNOWN;
	}
	enum tz_err err = TZ_OK;
	for (;;) {
		buf_reserve(b, 4096);
		size_t got = fread(b->p + b->len, 1, b->cap - b->len - 1, f);
		b->len += got;
		if (got == 0)
			break;
		if (b->len > TZ_FILE_MAX) {
			err = TZ_BAD;
			break;
		}
	}
	if (ferror(f))
		err = TZ_BAD;
	fclose(f);
	return err;
}

static enum tz_err tz_load(const struct tz_cache *c, struct tz_zone *z)
{
	struct buf file = {0};
	enum tz_err err = tz_read(c, z->name, z->name_len, &file);
	if (err == TZ_OK && tz_parse(z, (const unsigned char *)file.p, file.len) != 0)
		err = TZ_BAD;
	buf_free(&file);
	return err;
}

/* ---- lookup ---- */

/* The UT offset of loaded zone z at UTC second t. */
static int32_t tz_zone_offset(struct tz_zone *z, int64_t t)
{
	if (t >= z->memo_lo && t < z->memo_hi)
		return z->memo_off;
	int64_t lo, hi;
	int32_t off;
	size_t n = z->ntrans;
	if (n == 0 && z->has_rule) {
		off = tz_rule_offset(&z->rule, t, &lo, &hi);
	} else if (n == 0 || t < z->trans[0]) {
		off = z->type_off[0];
		lo = INT64_MIN;
		hi = n ? z->trans[0] : INT64_MAX;
	} else if (t >= z->trans[n - 1] && z->has_rule) {
		off = tz_rule_offset(&z->rule, t, &lo, &hi);
		if (lo < z->trans[n - 1])
			lo = z->trans[n - 1];
	} else {
		/* The last transition at or before t: trans[a] <= t < trans[b]. */
		size_t a = 0, b = n;
		while (b - a > 1) {
			size_t m = a + (b - a) / 2;
			if (z->trans[m] <= t)
				a = m;
			else
				b = m;
		}
		off = z->type_off[z->trans_type[a]];
		lo = z->trans[a];
		hi = b < n ? z->trans[b] : INT64_MAX;
	}
	z->memo_lo = lo;
	z->memo_hi = hi;
	z->memo_off = off;
	return off;
}

int tz_offset(struct tz_cache *c, const char *name, size_t len, int64_t utc_ns, int64_t *offset_ns,
	      const char **why)
{
	struct tz_zone *z = c->last;
	if (!z || z->name_len != len || memcmp(z->name, name, len) != 0) {
		int32_t off;
		int fixed = tz_fixed(name, len, &off);
		if (fixed > 0) {
			*offset_ns = off * TZ_NS;
			return 0;
		}
		if (fixed < 0 || !tz_name_ok(name, len))
			return tz_fail(c, TZ_UNKNOWN, name, len, why);
		uint64_t h = tz_hash(name, len);
		z = tz_find(c, name, len, h);
		if (!z) {
			z = mem_alloc(sizeof *z);
			z->name = mem_strndup(name, len);
			z->name_len = len;
			z->hash = h;
			z->memo_lo = INT64_MAX;
			z->memo_hi = INT64_MIN;
			enum tz_err err = tz_load(c, z);
			if (err != TZ_OK) {
				if (c->nfailed >= TZ_FAILED_MAX) {
					tz_zone_free(z);
					return tz_fail(c, err, name, len, why);
				}
				/* Keep the name and message, not a half-read file. */
				mem_free(z->trans);
				mem_free(z->trans_type);
				mem_free(z->type_off);
				z->trans = NULL;
				z->trans_type = NULL;
				z->type_off = NULL;
				tz_message(&c->why, err, name, len);
				z->err = mem_strndup(c->why.p, c->why.len);
				c->nfailed++;
			}
			tz_insert(c, z);
		}
		c->last = z;
	}
	if (z->err) {
		*why = z->err;
		return -1;
	}
	*offset_ns = tz_zone_offset(z, tz_floor_div(utc_ns, TZ_NS)) * TZ_NS;
	return 0;
}
