/* stats.c: `cxr stats`, a profile of event logs before rules are written.
 *
 * One pass over every input, in input order, with the readers that `cxr
 * run` uses (src/source.c, src/json.c), so that a record stats rejects as
 * malformed is one that run rejects too; records that run would reject
 * for a missing or bad key or time are counted apart.  The report says which
 * fields hold the key, the time and the type, how many events of each
 * type there are and what their fields hold, how many customers, the time
 * span, the timestamp formats and the order of the input, and ends with
 * an `input { ... }` block and `event` schemas to paste into a script.
 *
 * Design notes:
 * - Fields that the options leave out are guessed from the first records
 *   (STATS_GUESS records are held back, copied, until the guess is made;
 *   then they are profiled like the others), so a guess never depends on
 *   how big the log is.
 * - State per field is bounded whatever the log's size: counts per kind,
 *   a numeric range, the first few distinct values.  Field names and
 *   profiled types are capped too, so a log whose every record has new
 *   keys cannot exhaust memory.  Only customers grow with the input: a
 *   hash table of key strings with an event count each (the median of
 *   events per customer sorts those counts).
 * - Values are classified the way a script would read them: a CSV cell or
 *   a JSON string "12" is an int, "2012-10-09T14:50:17+00:00" a time, "5m"
 *   a duration; an empty cell, "" and null are empty (not filled).
 * - A name in the suggested script is written bare only when the compiler
 *   itself reads it as that name (checked by compiling a one-line script),
 *   so the keywords of the language are not listed twice.
 * - The report is deterministic: sorted, no pointers, no timings.
 */
#include "cxr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "source.h"
#include "timeutil.h"
#include "value.h"
#include "vm.h"

enum {
	STATS_GUESS = 100,       /* records looked at to guess key, time and type */
	STATS_MAX_FIELDS = 1000, /* field names profiled; values of later names are counted only */
	STATS_MAX_TYPES = 1000,  /* event types with field profiles */
	STATS_TEXT_TYPES = 50,   /* types the text report details (JSON has them all) */
	STATS_VALUES = 8,        /* distinct values kept per field, for small value sets */
	STATS_VALUE_BYTES = 40,  /* longest value kept as an example */
	STATS_PROBLEMS = 5,      /* reasons listed for each kind of problem */
};

/* What a value holds, as a script would read it: one table for the
 * report's names and the schema type each suggests. */
enum kind { K_INT, K_FLOAT, K_BOOL, K_STRING, K_TIME, K_DUR, K_JSON, NKIND };
static const struct {
	const char *name;   /* in the report */
	const char *schema; /* in a suggested `event` schema */
} kinds[NKIND] = {
	{"int", "int"},   {"float", "float"},       {"bool", "bool"},   {"string", "string"},
	{"time", "time"}, {"duration", "duration"}, {"json", "string"},
};

/* Features of a timestamp; a format is a combination of them. */
enum {
	TF_Z = 1,        /* ends in Z */
	TF_OFFSET = 2,   /* ends in +hh:mm or -hh:mm */
	TF_SPACE = 4,    /* a space between date and time */
	TF_FRAC = 8,     /* fractional seconds */
	TF_DATE = 16,    /* a bare date */
	TF_EPOCH_S = 32, /* a number of seconds */
	TF_EPOCH_MS = 64, /* a number of milliseconds */
	TF_COMBOS = 128,
};

/* The roles of fields; the order of struct cxr_stats_options. */
enum { R_KEY, R_TIME, R_TYPE, NROLES };
static const char *const role_name[NROLES] = {"key", "time", "type"};
static const char *const role_option[NROLES] = {"--key", "--time", "--type"};
/* The names each role is guessed from, in order of preference. */
static const char *const role_guess[NROLES][8] = {
	{"customer", "customer_id", "case:concept:name", "user_id", "user", "client_id", "account_id", NULL},
	{"ts", "timestamp", "time", "time:timestamp", "event_time", "created_at", NULL},
	{"type", "event_type", "concept:name", "event", "activity", "action", NULL},
};

/* An open-addressing table of strings (field names, types, customers):
 * each string gets an index in insertion order. */
struct sent {
	const char *s; /* NULL: free slot */
	uint32_t len;
	uint32_t idx;
	uint64_t hash;
};
struct strtab {
	struct sent *e;
	size_t cap; /* a power of two, or 0 */
	uint32_t n;
};

/* One value kept for a field: an example, and a count while the field's
 * values are few. */
struct kept {
	const char *s; /* text, at most STATS_VALUE_BYTES */
	uint32_t len;
	uint8_t kind;  /* enum kind */
	uint8_t cut;   /* the value was longer and cut */
	uint64_t n;    /* times seen (exact while the profile has not overflowed) */
};

/* A field within the events of one type. */
struct fprof {
	uint64_t seen;          /* events holding the field, empty or not */
	uint64_t filled;        /* ... with a value that is not empty or null */
	uint64_t kinds[NKIND];  /* filled values of each kind */
	double lo, hi;          /* range of the numbers (kinds int, float) */
	struct kept vals[STATS_VALUES]; /* distinct values in first-seen order */
	int nvals;
	int overflow;           /* more than STATS_VALUES distinct values, or a long one */
	struct kept kind_ex[NKIND]; /* the first value of each kind, for mixed fields */
};

struct etype {
	const char *name; /* NULL: events without a type */
	uint32_t len;
	uint64_t count;
	int profiled;        /* fields are profiled (the first STATS_MAX_TYPES types) */
	struct fprof **prof; /* by field index; NULL where the field never appeared */
	uint32_t nprof;
};

struct field {
	const char *name;
	uint32_t len;
	int seen; /* in some record (a given role's name is interned before) */
};

/* Which field plays a role, and how often it held a usable value. */
struct role {
	const char *name; /* NULL: none found */
	size_t len;
	int guessed;
	int64_t fid;            /* field index, -1 */
	struct json_proj *proj; /* a given dotted name as a path into nested objects */
	uint64_t nested;        /* values found through that path */
	uint64_t present;       /* records where the value was usable */
	int64_t also[8];        /* other candidate names present (field indexes, -1 ends) */
};

/* One member of a record: its field and value. */
struct member {
	int64_t fid; /* -1: not profiled (over the cap) or overridden by a later duplicate */
	struct val v;
};

/* A record held back until the roles are guessed. */
struct held {
	uint32_t file;
	uint64_t line;
	struct member *m; /* in the hold arena */
	size_t n;
};

/* A problem with a record, for the first few lines of each list. */
struct problem {
	uint32_t file;
	uint64_t line;
	size_t col; /* 0: no column */
	const char *reason;
};

struct input {
	const char *name; /* "<stdin>" for "-" */
	int csv;
	char delim;
	int sniffed; /* the delimiter was found from the header */
	uint64_t records, rejected;
};

struct stats {
	struct arena pool; /* names, keys, examples: kept to the end */
	struct arena rec;  /* one JSON record's decoded strings */
	struct arena hold; /* the records held back for the guess */
	struct buf tmp;

	struct strtab fieldtab;
	struct field *fields;
	uint32_t capfields;
	uint64_t unprofiled; /* values of fields beyond STATS_MAX_FIELDS names */

	struct strtab typetab;
	struct etype *types;
	uint32_t captypes;
	struct etype untyped;

	struct strtab custtab;
	uint32_t *cust_n; /* events per customer, by index */
	uint32_t capcust;

	struct role role[NROLES];
	struct held *held;
	size_t nheld, capheld;
	int guessed; /* the roles are settled */

	struct member *m; /* the record being collected */
	size_t nm, capm;
	uint64_t *stamp; /* by field index: the record number that last held it */
	size_t *slot;    /* by field index: its member in that record */
	uint32_t capstamp;
	uint64_t recno;

	struct input *inputs;
	int ninputs;
	uint64_t records, rejected, unusable;
	struct problem rejects[STATS_PROBLEMS], unusables[STATS_PROBLEMS];

	uint64_t timed;
	int64_t tmin, tmax;
	uint64_t fmt_count[TF_COMBOS];
	struct kept fmt_ex[TF_COMBOS];
	uint64_t backward; /* records earlier than the one before them in their file */
	int64_t max_back;
	uint64_t runs;     /* runs of consecutive records of one customer */
	int64_t cur_file;  /* file of the previous record processed, -1 */
	int have_prev_time;
	int64_t prev_time;
	int64_t prev_cust;

	cxr_write_fn diag;
	void *diag_ud;
};

/* ---- strings ---- */

static uint64_t stats_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct sent *strtab_slot(const struct strtab *t, const char *s, size_t n, uint64_t h)
{
	size_t mask = t->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct sent *e = &t->e[i];
		if (!e->s || (e->hash == h && e->len == n && memcmp(e->s, s, n) == 0))
			return e;
	}
}

static int64_t strtab_find(const struct strtab *t, const char *s, size_t n)
{
	if (!t->cap)
		return -1;
	struct sent *e = strtab_slot(t, s, n, stats_hash(s, n));
	return e->s ? (int64_t)e->idx : -1;
}

/* The index of s, adding a copy (in a) as index t->n when it is new. */
static uint32_t strtab_intern(struct strtab *t, struct arena *a, const char *s, size_t n, const char **copy)
{
	if ((size_t)t->n * 2 + 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct sent *ne = mem_alloc(sizeof *ne * ncap);
		struct strtab bigger = {ne, ncap, t->n};
		for (size_t i = 0; i < t->cap; i++)
			if (t->e[i].s)
				*strtab_slot(&bigger, t->e[i].s, t->e[i].len, t->e[i].hash) = t->e[i];
		mem_free(t->e);
		*t = bigger;
	}
	uint64_t h = stats_hash(s, n);
	struct sent *e = strtab_slot(t, s, n, h);
	if (!e->s) {
		e->s = n ? arena_strndup(a, s, n) : "";
		e->len = (uint32_t)n;
		e->hash = h;
		e->idx = t->n++;
	}
	if (copy)
		*copy = e->s;
	return e->idx;
}

static void strtab_free(struct strtab *t)
{
	mem_free(t->e);
	memset(t, 0, sizeof *t);
}

/* n bytes of s cut to at most max bytes at a UTF-8 character boundary. */
static size_t cut_utf8(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static void keep(struct arena *a, struct kept *k, const char *s, size_t n, int kind)
{
	size_t m = cut_utf8(s, n, STATS_VALUE_BYTES);
	k->s = arena_strndup(a, s, m);
	k->len = (uint32_t)m;
	k->kind = (uint8_t)kind;
	k->cut = m < n;
	k->n = 1;
}

/* ---- fields, types, customers ---- */

/* The index of a field name, or -1 when the cap is reached. */
static int64_t field_index(struct stats *s, const char *name, size_t len)
{
	int64_t f = strtab_find(&s->fieldtab, name, len);
	if (f >= 0)
		return f;
	struct role *given = NULL;
	for (int k = 0; k < NROLES; k++)
		if (!s->role[k].guessed && s->role[k].len == len && memcmp(s->role[k].name, name, len) == 0)
			given = &s->role[k];
	if (s->fieldtab.n >= STATS_MAX_FIELDS && !given)
		return -1;
	const char *copy;
	uint32_t i = strtab_intern(&s->fieldtab, &s->pool, name, len, &copy);
	if (i >= s->capfields) {
		s->capfields = s->capfields ? s->capfields * 2 : 32;
		s->fields = mem_realloc(s->fields, sizeof *s->fields * s->capfields);
	}
	s->fields[i] = (struct field){copy, (uint32_t)len, 0};
	if (given)
		given->fid = i; /* a role's field gets its index when it first appears */
	return i;
}

static struct etype *type_of(struct stats *s, const char *name, size_t len)
{
	const char *copy;
	uint32_t before = s->typetab.n;
	uint32_t i = strtab_intern(&s->typetab, &s->pool, name, len, &copy);
	if (i == before) {
		if (i >= s->captypes) {
			s->captypes = s->captypes ? s->captypes * 2 : 32;
			s->types = mem_realloc(s->types, sizeof *s->types * s->captypes);
		}
		s->types[i] = (struct etype){copy, (uint32_t)len, 0, i < STATS_MAX_TYPES, NULL, 0};
	}
	return &s->types[i];
}

static struct fprof *prof_of(struct stats *s, struct etype *t, int64_t fid)
{
	if ((uint64_t)fid >= t->nprof) {
		uint32_t n = t->nprof ? t->nprof : 8;
		while (n <= (uint64_t)fid)
			n *= 2;
		t->prof = mem_realloc(t->prof, sizeof *t->prof * n);
		memset(t->prof + t->nprof, 0, sizeof *t->prof * (n - t->nprof));
		t->nprof = n;
	}
	if (!t->prof[fid])
		t->prof[fid] = arena_zalloc(&s->pool, sizeof **t->prof);
	return t->prof[fid];
}

static uint32_t customer_of(struct stats *s, const char *key, size_t len)
{
	uint32_t i = strtab_intern(&s->custtab, &s->pool, key, len, NULL);
	if (i >= s->capcust) {
		uint32_t n = s->capcust ? s->capcust * 2 : 1024;
		s->cust_n = mem_realloc(s->cust_n, sizeof *s->cust_n * n);
		memset(s->cust_n + s->capcust, 0, sizeof *s->cust_n * (n - s->capcust));
		s->capcust = n;
	}
	return i;
}

/* ---- values ---- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A number written plainly: an int (no leading zero: "007" is a code, not
 * a number; at most 18 digits: longer ones are ids) or a float. */
static int number_kind(const char *p, size_t n, double *num)
{
	size_t i = 0, digits = 0;
	if (i < n && p[i] == '-')
		i++;
	size_t first = i;
	while (i < n && is_digit(p[i]))
		i++, digits++;
	if (!digits || (digits > 1 && p[first] == '0'))
		return -1;
	int kind = K_INT;
	if (i < n && p[i] == '.') {
		size_t d = 0;
		for (i++; i < n && is_digit(p[i]); i++)
			d++;
		if (!d)
			return -1;
		kind = K_FLOAT;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		size_t d = 0;
		for (; i < n && is_digit(p[i]); i++)
			d++;
		if (!d)
			return -1;
		kind = K_FLOAT;
	}
	if (i != n || (kind == K_INT && digits > 18))
		return -1;
	/* strtod needs a terminated copy; plain numbers are short */
	char small[64];
	char *copy = n < sizeof small ? small : mem_alloc(n + 1);
	memcpy(copy, p, n);
	copy[n] = 0;
	*num = strtod(copy, NULL);
	if (copy != small)
		mem_free(copy);
	return kind;
}

/* The kind of a value, or -1 when it is empty (null, "", an empty cell). */
static int classify(const struct val *v, double *num)
{
	const char *why;
	int64_t ns;
	switch (v->kind) {
	case V_BOOL:
		return K_BOOL;
	case V_INT:
		*num = (double)v->u.i;
		return K_INT;
	case V_FLOAT:
		*num = v->u.f;
		return K_FLOAT;
	case V_STR:
		break;
	default:
		return -1;
	}
	if (v->flags & VF_JSON)
		return K_JSON;
	const char *p = v->u.s;
	size_t n = v->len;
	if (n == 0)
		return -1;
	int k = number_kind(p, n, num);
	if (k >= 0)
		return k;
	if ((n == 4 && memcmp(p, "true", 4) == 0) || (n == 5 && memcmp(p, "false", 5) == 0))
		return K_BOOL;
	if (n >= 10 && p[4] == '-' && time_parse(p, n, 0, &ns, &why) == 0)
		return K_TIME;
	if ((is_digit(p[0]) || p[0] == '-') && dur_parse(p, n, &ns, &why) == 0)
		return K_DUR;
	return K_STRING;
}

/* The text of a value, as the report shows it. */
static void value_text(struct buf *b, const struct val *v)
{
	buf_clear(b);
	switch (v->kind) {
	case V_BOOL: buf_adds(b, v->u.i ? "true" : "false"); break;
	case V_INT: buf_printf(b, "%lld", (long long)v->u.i); break;
	case V_FLOAT: json_write_num(b, v->u.f); break;
	case V_STR: buf_add(b, v->u.s, v->len); break;
	default: break;
	}
	if (!b->p)
		buf_adds(b, "");
}

static void prof_add(struct stats *s, struct fprof *p, const struct val *v)
{
	double num = 0;
	p->seen++;
	int k = classify(v, &num);
	if (k < 0)
		return;
	if (k == K_INT || k == K_FLOAT) {
		int first = p->kinds[K_INT] + p->kinds[K_FLOAT] == 0;
		if (first || num < p->lo)
			p->lo = num;
		if (first || num > p->hi)
			p->hi = num;
	}
	p->filled++;
	p->kinds[k]++;
	int want_ex = !p->kind_ex[k].s;
	int want_val = !p->overflow || p->nvals < 2;
	if (!want_ex && !want_val)
		return;
	value_text(&s->tmp, v);
	const char *t = s->tmp.p;
	size_t n = s->tmp.len;
	if (want_ex)
		keep(&s->pool, &p->kind_ex[k], t, n, k);
	if (!want_val)
		return;
	size_t m = cut_utf8(t, n, STATS_VALUE_BYTES);
	for (int i = 0; i < p->nvals; i++) {
		struct kept *e = &p->vals[i];
		if (e->kind == k && e->len == m && e->cut == (m < n) && memcmp(e->s, t, m) == 0) {
			e->n++;
			return;
		}
	}
	if (p->nvals < STATS_VALUES) {
		keep(&s->pool, &p->vals[p->nvals++], t, n, k);
		if (m < n)
			p->overflow = 1;
	} else {
		p->overflow = 1;
	}
}

/* ---- records ---- */

static void add_problem(struct stats *s, struct problem *list, uint64_t count, uint32_t file, uint64_t line,
			size_t col, const char *reason)
{
	if (count >= STATS_PROBLEMS)
		return;
	list[count] = (struct problem){file, line, col, arena_strndup(&s->pool, reason, strlen(reason))};
}

static void reject(struct stats *s, uint32_t file, uint64_t line, size_t col, const char *reason)
{
	add_problem(s, s->rejects, s->rejected, file, line, col, reason);
	s->rejected++;
	s->inputs[file].rejected++;
}

/* The record's member for a field (the last one on duplicates), or NULL. */
static const struct val *member_val(struct stats *s, int64_t fid)
{
	if (fid < 0 || (uint64_t)fid >= s->capstamp || s->stamp[fid] != s->recno)
		return NULL;
	return &s->m[s->slot[fid]].v;
}

/* A key as `cxr run` takes it: a non-empty string or a whole number.
 * Returns its text in s->tmp, or the reason it is not usable. */
static const char *key_text(struct stats *s, const struct val *k, struct buf *why)
{
	const char *f = s->role[R_KEY].name;
	buf_clear(why);
	if (!k || k->kind == V_NULL)
		buf_printf(why, "missing key field '%s'", f);
	else if (k->kind == V_STR && k->len == 0)
		buf_printf(why, "empty key field '%s'", f);
	else if (k->kind != V_STR && k->kind != V_INT)
		buf_printf(why, "key field '%s' must be a string or a whole number", f);
	else {
		value_text(&s->tmp, k);
		return NULL;
	}
	return why->p;
}

/* Classify a timestamp text that time_parse accepted. */
static int text_format(const char *p, size_t n)
{
	if (n < 19)
		return TF_DATE; /* time_parse took it, so it is a bare date */
	int f = p[10] == ' ' ? TF_SPACE : 0;
	if (n > 19 && p[19] == '.')
		f |= TF_FRAC;
	if (p[n - 1] == 'Z' || p[n - 1] == 'z')
		f |= TF_Z;
	else if (memchr(p + 16, '+', n - 16) || memchr(p + 16, '-', n - 16))
		f |= TF_OFFSET;
	return f;
}

/* The time as `cxr run` reads it, with its format; or the reason not. */
static const char *time_value(struct stats *s, const struct val *t, int64_t *ns, int *fmt, struct buf *why)
{
	const char *f = s->role[R_TIME].name, *msg;
	struct val number;
	buf_clear(why);
	if (t && t->kind == V_STR && (t->flags & VF_DATA) && val_as_number(t, &number))
		t = &number; /* a cell of epoch seconds or ms */
	if (!t || t->kind == V_NULL) {
		buf_printf(why, "missing time field '%s'", f);
		return why->p;
	}
	if (t->kind == V_STR) {
		if (time_parse(t->u.s, t->len, 0, ns, &msg) < 0) {
			buf_printf(why, "bad timestamp in field '%s': ", f);
			json_write_str(why, t->u.s, t->len > 80 ? 80 : t->len);
			buf_printf(why, ": %s", msg);
			return why->p;
		}
		*fmt = text_format(t->u.s, t->len);
		return NULL;
	}
	if (t->kind == V_INT || t->kind == V_FLOAT) {
		double x = t->kind == V_INT ? (double)t->u.i : t->u.f;
		if (time_from_epoch(x, ns, &msg) < 0) {
			buf_printf(why, "bad epoch time in field '%s': %s", f, msg);
			return why->p;
		}
		*fmt = x >= 1e11 || x <= -1e11 ? TF_EPOCH_MS : TF_EPOCH_S;
		return NULL;
	}
	buf_printf(why, "time field '%s' must be a timestamp text or epoch number", f);
	return why->p;
}

static void grow_stamps(struct stats *s)
{
	if (s->fieldtab.n <= s->capstamp)
		return;
	uint32_t n = s->capstamp ? s->capstamp : 64;
	while (n < s->fieldtab.n)
		n *= 2;
	s->stamp = mem_realloc(s->stamp, sizeof *s->stamp * n);
	s->slot = mem_realloc(s->slot, sizeof *s->slot * n);
	memset(s->stamp + s->capstamp, 0, sizeof *s->stamp * (n - s->capstamp));
	s->capstamp = n;
}

static void add_member(struct stats *s, int64_t fid, const struct val *v)
{
	if (s->nm == s->capm) {
		s->capm = s->capm ? s->capm * 2 : 32;
		s->m = mem_realloc(s->m, sizeof *s->m * s->capm);
	}
	s->m[s->nm].fid = fid;
	s->m[s->nm].v = *v;
	s->nm++;
}

/* Profile one record (s->m[0..nm)) once the roles are settled. */
static void stats_record(struct stats *s, uint32_t file, uint64_t line)
{
	struct buf why = {0};
	s->recno++;
	s->records++;
	s->inputs[file].records++;
	grow_stamps(s);
	for (size_t i = 0; i < s->nm; i++) {
		int64_t f = s->m[i].fid;
		if (f < 0) {
			s->unprofiled++;
			continue;
		}
		s->fields[f].seen = 1;
		if (s->stamp[f] == s->recno)
			s->m[s->slot[f]].fid = -1; /* a duplicate key: the last one wins */
		s->stamp[f] = s->recno;
		s->slot[f] = i;
	}
	if ((int64_t)file != s->cur_file) {
		s->cur_file = file;
		s->have_prev_time = 0;
		s->prev_cust = -1;
	}
	const char *problem = NULL;

	struct role *r = &s->role[R_KEY];
	if (r->name) { /* given or found: a record without it is a problem */
		problem = key_text(s, member_val(s, r->fid), &why);
		if (!problem) {
			r->present++;
			uint32_t c = customer_of(s, s->tmp.p, s->tmp.len);
			s->cust_n[c]++;
			if ((int64_t)c != s->prev_cust)
				s->runs++;
			s->prev_cust = c;
		}
	}

	r = &s->role[R_TIME];
	if (r->name) {
		int64_t ns;
		int fmt = 0;
		struct buf tw = {0};
		const char *bad = time_value(s, member_val(s, r->fid), &ns, &fmt, &tw);
		if (!bad) {
			r->present++;
			if (!s->timed || ns < s->tmin)
				s->tmin = ns;
			if (!s->timed || ns > s->tmax)
				s->tmax = ns;
			s->timed++;
			if (s->have_prev_time && ns < s->prev_time) {
				s->backward++;
				if (s->prev_time - ns > s->max_back)
					s->max_back = s->prev_time - ns;
			}
			s->have_prev_time = 1;
			s->prev_time = ns;
			if (!s->fmt_count[fmt]++) {
				const struct val *t = member_val(s, r->fid);
				value_text(&s->tmp, t);
				keep(&s->pool, &s->fmt_ex[fmt], s->tmp.p, s->tmp.len, K_TIME);
			}
		} else if (!problem) {
			buf_clear(&why);
			buf_add(&why, tw.p, tw.len);
			problem = why.p;
		}
		buf_free(&tw);
	}

	r = &s->role[R_TYPE];
	struct etype *t = &s->untyped;
	if (r->fid >= 0) {
		const struct val *v = member_val(s, r->fid);
		if (v && v->kind == V_STR && v->len) { /* as `cxr run` takes it, JSON text included */
			r->present++;
			t = type_of(s, v->u.s, v->len);
		} else if (v && v->kind != V_NULL && !(v->kind == V_STR && v->len == 0) && !problem) {
			buf_clear(&why);
			buf_printf(&why, "type field '%s' must be a string", r->name);
			problem = why.p;
		}
	}
	t->count++;
	if (problem) {
		add_problem(s, s->unusables, s->unusable, file, line, 0, problem);
		s->unusable++;
	}
	if (t->profiled) {
		for (size_t i = 0; i < s->nm; i++) {
			int64_t f = s->m[i].fid;
			if (f < 0 || f == s->role[R_KEY].fid || f == s->role[R_TIME].fid || f == s->role[R_TYPE].fid)
				continue;
			prof_add(s, prof_of(s, t, f), &s->m[i].v);
		}
	}
	buf_free(&why);
}

/* A value is there for the guess: not null, not empty. */
static int filled(const struct val *v) { return v->kind != V_NULL && !(v->kind == V_STR && v->len == 0); }

/* Settle the roles the options left open, from the held records; then
 * profile those records. */
static void guess_roles(struct stats *s)
{
	s->guessed = 1;
	char *present = mem_alloc(s->fieldtab.n + 1);
	for (size_t h = 0; h < s->nheld; h++)
		for (size_t i = 0; i < s->held[h].n; i++)
			if (s->held[h].m[i].fid >= 0 && filled(&s->held[h].m[i].v))
				present[s->held[h].m[i].fid] = 1;
	for (int k = 0; k < NROLES; k++) {
		struct role *r = &s->role[k];
		int na = 0;
		for (int c = 0; role_guess[k][c]; c++) {
			const char *cand = role_guess[k][c];
			int64_t f = strtab_find(&s->fieldtab, cand, strlen(cand));
			int taken = 0;
			for (int o = 0; o < NROLES; o++)
				taken |= s->role[o].fid == f;
			if (f < 0 || !present[f] || taken)
				continue;
			if (r->guessed && !r->name) {
				r->name = s->fields[f].name;
				r->len = s->fields[f].len;
				r->fid = f;
			} else {
				r->also[na++] = f;
			}
		}
		r->also[na] = -1;
	}
	mem_free(present);
	for (size_t h = 0; h < s->nheld; h++) {
		s->nm = 0;
		for (size_t i = 0; i < s->held[h].n; i++)
			add_member(s, s->held[h].m[i].fid, &s->held[h].m[i].v);
		stats_record(s, s->held[h].file, s->held[h].line);
	}
	s->nheld = 0;
	arena_free(&s->hold);
}

/* A record is collected in s->m: hold it back for the guess, or profile it. */
static void record_done(struct stats *s, uint32_t file, uint64_t line)
{
	if (s->guessed) {
		stats_record(s, file, line);
		return;
	}
	if (s->nheld == s->capheld) {
		s->capheld = s->capheld ? s->capheld * 2 : 16;
		s->held = mem_realloc(s->held, sizeof *s->held * s->capheld);
	}
	struct held *h = &s->held[s->nheld++];
	h->file = file;
	h->line = line;
	h->n = s->nm;
	h->m = arena_alloc(&s->hold, sizeof *h->m * (s->nm ? s->nm : 1));
	for (size_t i = 0; i < s->nm; i++) {
		h->m[i] = s->m[i];
		if (s->m[i].v.kind == V_STR)
			h->m[i].v.u.s = arena_strndup(&s->hold, s->m[i].v.u.s, s->m[i].v.len);
	}
	if (s->nheld == STATS_GUESS)
		guess_roles(s);
}

static void on_member(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct stats *s = ud;
	add_member(s, field_index(s, key, keylen), v);
}

/* A message for the diagnostics callback (an error that stops the run). */
static void say(struct stats *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct stats *s, const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_addc(&b, '\n');
	if (s->diag)
		s->diag(s->diag_ud, b.p, b.len);
	buf_free(&b);
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* A given role name with dots that no top-level member holds is read as
 * a path into nested objects, as `cxr run` reads `key = user.id`. */
static void nested_roles(struct stats *s, const char *line, size_t len)
{
	for (int k = 0; k < NROLES; k++) {
		struct role *r = &s->role[k];
		if (!r->proj)
			continue;
		int there = 0;
		for (size_t i = 0; i < s->nm && !there; i++)
			there = r->fid >= 0 && s->m[i].fid == r->fid;
		if (there)
			continue;
		struct val v = val_null();
		struct json_error err;
		if (json_scan_event(r->proj, line, len, &v, &s->rec, &err) == 0 && v.kind != V_NULL) {
			if (r->fid < 0)
				field_index(s, r->name, r->len);
			r->nested++;
			add_member(s, r->fid, &v);
		}
	}
}

static int read_jsonl(struct stats *s, struct source *src, uint32_t file)
{
	const char *line;
	size_t len;
	uint64_t lineno;
	int got;
	struct arena_mark mark = arena_mark(&s->rec);
	while ((got = src_line(src, &line, &len, &lineno)) > 0) {
		if (blank(line, len))
			continue;
		arena_reset(&s->rec, mark);
		s->nm = 0;
		struct json_error err;
		if (json_scan_members(line, len, on_member, s, &s->rec, &err) < 0) {
			reject(s, file, lineno, err.col, err.msg);
			continue;
		}
		nested_roles(s, line, len);
		record_done(s, file, lineno);
	}
	if (got < 0) {
		say(s, "cxr: %s: read error: %s", s->inputs[file].name, src_error(src));
		return -1;
	}
	return 0;
}

/* The delimiter a one-cell header seems to use instead of a comma. */
static char sniff_delim(const struct csv_record *rec)
{
	static const char cands[] = ";\t|";
	if (rec->ncells != 1)
		return 0;
	char best = 0;
	size_t most = 0;
	for (const char *c = cands; *c; c++) {
		size_t n = 0;
		for (size_t i = 0; i < rec->cells[0].len; i++)
			n += rec->cells[0].p[i] == *c;
		if (n > most) {
			most = n;
			best = *c;
		}
	}
	return best;
}

/* Returns 0, -1 on an error (reported), or a delimiter to read the file
 * again with (its header had one cell holding ';', tab or '|'). */
static int read_csv(struct stats *s, struct source *src, uint32_t file, int may_sniff)
{
	struct csv_record rec;
	int got = src_csv(src, &rec);
	if (got == 0)
		return 0;
	if (got < 0) {
		say(s, "cxr: %s: read error: %s", s->inputs[file].name, src_error(src));
		return -1;
	}
	if (rec.error) {
		say(s, "%s:%llu: error: bad CSV header: %s", s->inputs[file].name, (unsigned long long)rec.line,
		    rec.error);
		return -1;
	}
	char d = may_sniff ? sniff_delim(&rec) : 0;
	if (d)
		return d;
	size_t ncols = rec.ncells;
	int64_t *col_fid = mem_alloc(sizeof *col_fid * (ncols + 1));
	for (size_t c = 0; c < ncols; c++)
		col_fid[c] = field_index(s, rec.cells[c].p, rec.cells[c].len);
	int rc = 0;
	struct buf b = {0};
	while ((got = src_csv(src, &rec)) > 0) {
		if (rec.error) {
			reject(s, file, rec.line, rec.error_col, rec.error);
			continue;
		}
		if (rec.ncells != ncols) {
			buf_clear(&b);
			buf_printf(&b, "expected %zu fields as in the header, found %zu", ncols, rec.ncells);
			reject(s, file, rec.line, 0, b.p);
			continue;
		}
		s->nm = 0;
		for (size_t c = 0; c < ncols; c++) {
			struct val v = val_null();
			if (rec.cells[c].len || rec.cells[c].quoted) { /* an empty cell is null */
				v = val_str(rec.cells[c].p, rec.cells[c].len);
				v.flags = VF_DATA;
			}
			add_member(s, col_fid[c], &v);
		}
		record_done(s, file, rec.line);
	}
	if (got < 0) {
		say(s, "cxr: %s: read error: %s", s->inputs[file].name, src_error(src));
		rc = -1;
	}
	mem_free(col_fid);
	buf_free(&b);
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int read_input(struct stats *s, const char *path)
{
	uint32_t file = (uint32_t)s->ninputs++;
	struct input *in = &s->inputs[file];
	in->name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	in->csv = ends_with(path, ".csv") || ends_with(path, ".CSV") || ends_with(path, ".tsv") ||
		  ends_with(path, ".TSV");
	in->delim = ends_with(path, ".tsv") || ends_with(path, ".TSV") ? '\t' : ',';
	for (;;) {
		char err[256];
		struct source *src = src_open(path, err, sizeof err);
		if (!src) {
			say(s, "cxr: cannot open %s: %s", path, err);
			return -1;
		}
		int rc;
		if (in->csv) {
			src_csv_delim(src, in->delim);
			/* stdin cannot be read twice: no second guess there */
			rc = read_csv(s, src, file, !in->sniffed && in->delim == ',' && strcmp(path, "-") != 0);
		} else {
			rc = read_jsonl(s, src, file);
		}
		src_close(src);
		if (rc <= 0)
			return rc;
		in->delim = (char)rc;
		in->sniffed = 1;
	}
}

/* ---- the report ---- */

/* A name as the text report shows it: bare when printable, else quoted;
 * a very long one cut. */
static void put_name(struct buf *b, const char *p, size_t n)
{
	size_t m = cut_utf8(p, n, 2 * STATS_VALUE_BYTES);
	int plain = n > 0;
	for (size_t i = 0; i < m && plain; i++)
		plain = (unsigned char)p[i] >= 0x20 && p[i] != 0x7f;
	if (plain)
		buf_add(b, p, m);
	else
		json_write_str(b, p, m);
	if (m < n)
		buf_adds(b, "...");
}

/* Display width in characters (UTF-8 code points). */
static size_t width(const char *p, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)p[i] & 0xC0) != 0x80;
	return w;
}

static void pad(struct buf *b, size_t have, size_t want)
{
	for (; have < want; have++)
		buf_addc(b, ' ');
}

static void pct(struct buf *b, uint64_t part, uint64_t whole)
{
	buf_printf(b, "%.1f%%", whole ? 100.0 * (double)part / (double)whole : 0.0);
}

/* A value kept as an example: in text, numbers, booleans and JSON bare,
 * the rest quoted; in JSON, always a string. */
static void put_kept(struct buf *b, const struct kept *k, int as_json)
{
	if (!as_json && !k->cut && (k->kind == K_INT || k->kind == K_FLOAT || k->kind == K_BOOL || k->kind == K_JSON)) {
		buf_add(b, k->s, k->len);
		return;
	}
	struct buf t = {0};
	buf_add(&t, k->s, k->len);
	if (k->cut)
		buf_adds(&t, "...");
	json_write_str(b, t.p, t.len);
	buf_free(&t);
}

static const char *fmt_label(struct buf *b, int f)
{
	buf_clear(b);
	if (f & TF_EPOCH_S)
		buf_adds(b, "epoch seconds");
	else if (f & TF_EPOCH_MS)
		buf_adds(b, "epoch ms");
	else if (f & TF_DATE)
		buf_adds(b, "date only");
	else {
		buf_adds(b, f & TF_Z ? "RFC 3339 with Z" : f & TF_OFFSET ? "RFC 3339 with offset" : "naive (no zone)");
		if (f & TF_SPACE)
			buf_adds(b, ", space separator");
		if (f & TF_FRAC)
			buf_adds(b, ", fractional seconds");
	}
	return b->p;
}

/* The inferred type of a profiled field: a kind, "mixed" or "empty". */
static const char *prof_type(const struct fprof *p, int *kind)
{
	int n = 0, only = -1;
	for (int k = 0; k < NKIND; k++)
		if (p->kinds[k]) {
			n++;
			only = k;
		}
	*kind = only;
	if (n == 0)
		return "empty";
	if (n == 1)
		return kinds[only].name;
	if (n == 2 && p->kinds[K_INT] && p->kinds[K_FLOAT]) {
		*kind = K_FLOAT;
		return "float";
	}
	*kind = -1;
	return "mixed";
}

/* Kinds of a mixed field, most common first. */
static int kinds_by_count(const struct fprof *p, int *order)
{
	int n = 0;
	for (int k = 0; k < NKIND; k++)
		if (p->kinds[k])
			order[n++] = k;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && p->kinds[order[j]] > p->kinds[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	return n;
}

/* The field's values are few and repeat: list them with their counts. */
static int small_set(const struct fprof *p, int kind)
{
	return !p->overflow && p->nvals > 0 && p->filled > (uint64_t)p->nvals &&
	       (kind == K_STRING || kind == K_INT || kind == K_BOOL);
}

static int cmp_kept(const void *a, const void *b)
{
	const struct kept *x = *(const struct kept *const *)a, *y = *(const struct kept *const *)b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, m);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int sorted_vals(const struct fprof *p, const struct kept **out)
{
	for (int i = 0; i < p->nvals; i++)
		out[i] = &p->vals[i];
	qsort(out, (size_t)p->nvals, sizeof *out, cmp_kept);
	return p->nvals;
}

static int cmp_types(const void *a, const void *b)
{
	const struct etype *x = *(const struct etype *const *)a, *y = *(const struct etype *const *)b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (!x->name || !y->name)
		return !x->name - !y->name; /* events without a type last among equals */
	size_t m = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, m);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Everything the report needs, computed once for both forms. */
struct summary {
	struct etype **types; /* sorted: count desc, then name; untyped included when it has events */
	int ntypes;
	uint64_t customers;
	uint32_t cmin, cmax;
	double cmedian;
	int fmts[TF_COMBOS]; /* format masks seen, by count desc then label */
	int nfmts;
	char *script; /* the suggested input block and schemas */
};

static int is_identifier(const char *p, size_t n)
{
	if (n == 0 || !((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z') || p[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') || p[i] == '_' || is_digit(p[i])))
			return 0;
	return 1;
}

/* A name as a cxr string literal: quotes, and \ " { } and control
 * characters escaped. */
static void quote_name(struct buf *b, const char *p, size_t n)
{
	buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		switch (c) {
		case '"': case '\\': case '{': case '}': buf_addc(b, '\\'); buf_addc(b, (char)c); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\r': buf_adds(b, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(b, "\\u%04x", c);
			else
				buf_addc(b, (char)c);
		}
	}
	buf_addc(b, '"');
}

/* Whether the compiler reads `name` bare in this place of a script
 * (prefix NAME suffix compiles): an identifier that is no keyword. */
static int bare_ok(cxr *h, const char *prefix, const char *name, size_t n, const char *suffix)
{
	if (!is_identifier(name, n))
		return 0;
	struct buf t = {0};
	buf_adds(&t, prefix);
	buf_add(&t, name, n);
	buf_adds(&t, suffix);
	int ok = cxr_compile_string(h, "<stats>", t.p, t.len) == 0;
	buf_free(&t);
	return ok;
}

static void script_name(struct buf *b, cxr *h, const char *prefix, const char *name, size_t n, const char *suffix)
{
	if (bare_ok(h, prefix, name, n, suffix))
		buf_add(b, name, n);
	else
		quote_name(b, name, n);
}

/* A given dotted name read as a path: written as a path when every part
 * is a plain name. */
static void script_path(struct buf *b, cxr *h, const struct role *r)
{
	const char *p = r->name, *end = r->name + r->len;
	struct buf t = {0};
	int ok = 1;
	while (ok) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
		ok = bare_ok(h, "input { key = ", p, n, " }");
		if (t.len)
			buf_addc(&t, '.');
		buf_add(&t, p, n);
		if (!dot)
			break;
		p = dot + 1;
	}
	if (ok)
		buf_add(b, t.p, t.len);
	else
		quote_name(b, r->name, r->len);
	buf_free(&t);
}

static void suggest_script(struct stats *s, struct summary *sum, int ntypes)
{
	struct buf b = {0};
	cxr *h = cxr_new();
	buf_adds(&b, "input {\n");
	for (int k = 0; k < NROLES; k++) {
		const struct role *r = &s->role[k];
		if (!r->name) {
			buf_printf(&b, "  # %s = ...   (no %s field found)\n", role_name[k], role_name[k]);
			continue;
		}
		buf_printf(&b, "  %-4s = ", role_name[k]);
		if (r->nested && r->nested == r->present)
			script_path(&b, h, r);
		else
			script_name(&b, h, "input { key = ", r->name, r->len, " }");
		buf_addc(&b, '\n');
	}
	for (int i = 0; i < s->ninputs; i++)
		if (s->inputs[i].sniffed) {
			buf_adds(&b, "  delimiter = ");
			quote_name(&b, &s->inputs[i].delim, 1);
			buf_addc(&b, '\n');
			break;
		}
	buf_adds(&b, "}\n");
	for (int i = 0; i < ntypes; i++) {
		const struct etype *t = sum->types[i];
		if (!t->name || !t->profiled)
			continue;
		buf_adds(&b, "\nevent ");
		script_name(&b, h, "event ", t->name, t->len, " {}");
		buf_adds(&b, " {\n");
		for (uint32_t f = 0; f < t->nprof; f++) {
			const struct fprof *p = t->prof[f];
			if (!p)
				continue;
			const struct field *fd = &s->fields[f];
			int kind;
			const char *ty = prof_type(p, &kind);
			if (fd->len == 0) {
				buf_adds(&b, "  # a field with an empty name cannot be declared\n");
				continue;
			}
			buf_adds(&b, "  ");
			if (is_identifier(fd->name, fd->len))
				buf_add(&b, fd->name, fd->len);
			else
				quote_name(&b, fd->name, fd->len);
			buf_printf(&b, ": %s", kind >= 0 ? kinds[kind].schema : "string");
			if (kind == K_JSON)
				buf_adds(&b, "   # JSON text");
			else if (!strcmp(ty, "empty"))
				buf_adds(&b, "   # always empty");
			else if (!strcmp(ty, "mixed")) {
				int order[NKIND], n = kinds_by_count(p, order);
				buf_adds(&b, "   # mixed:");
				for (int k = 0; k < n; k++) {
					buf_printf(&b, "%s %s ", k ? "," : "", kinds[order[k]].name);
					pct(&b, p->kinds[order[k]], p->filled);
				}
			}
			static const char *const own[] = {"customer", "time", "type"};
			for (int k = 0; k < 3; k++)
				if (fd->len == strlen(own[k]) && !memcmp(fd->name, own[k], fd->len))
					buf_printf(&b, "   # x.%s is the event's %s; this field reads as x[\"%s\"]", own[k],
						   k == 0 ? "key" : own[k], own[k]);
			buf_addc(&b, '\n');
		}
		buf_adds(&b, "}\n");
	}
	cxr_free(h);
	sum->script = b.p ? b.p : mem_strndup("", 0);
}

static void summarize(struct stats *s, struct summary *sum, int as_json)
{
	memset(sum, 0, sizeof *sum);
	sum->types = mem_alloc(sizeof *sum->types * (s->typetab.n + 1));
	for (uint32_t i = 0; i < s->typetab.n; i++)
		sum->types[sum->ntypes++] = &s->types[i];
	if (s->untyped.count)
		sum->types[sum->ntypes++] = &s->untyped;
	qsort(sum->types, (size_t)sum->ntypes, sizeof *sum->types, cmp_types);

	sum->customers = s->custtab.n;
	if (sum->customers) {
		uint32_t *c = mem_alloc(sizeof *c * sum->customers);
		memcpy(c, s->cust_n, sizeof *c * sum->customers);
		qsort(c, sum->customers, sizeof *c, cmp_u32);
		size_t n = sum->customers;
		sum->cmin = c[0];
		sum->cmax = c[n - 1];
		sum->cmedian = n % 2 ? c[n / 2] : (c[n / 2 - 1] + (double)c[n / 2]) / 2;
		mem_free(c);
	}

	struct buf la = {0}, lb = {0};
	for (int f = 0; f < TF_COMBOS; f++)
		if (s->fmt_count[f])
			sum->fmts[sum->nfmts++] = f;
	for (int i = 1; i < sum->nfmts; i++)
		for (int j = i; j > 0; j--) {
			int a = sum->fmts[j - 1], b = sum->fmts[j];
			int swap = s->fmt_count[b] > s->fmt_count[a] ||
				   (s->fmt_count[b] == s->fmt_count[a] && strcmp(fmt_label(&lb, b), fmt_label(&la, a)) < 0);
			if (!swap)
				break;
			sum->fmts[j - 1] = b;
			sum->fmts[j] = a;
		}
	buf_free(&la);
	buf_free(&lb);
	suggest_script(s, sum, as_json || sum->ntypes < STATS_TEXT_TYPES ? sum->ntypes : STATS_TEXT_TYPES);
}

/* Field names seen, for a role that was not found. */
static void fields_seen(struct stats *s, struct buf *b, int as_json)
{
	int n = 0;
	for (uint32_t f = 0; f < s->fieldtab.n; f++) {
		if (!s->fields[f].seen)
			continue;
		if (as_json) {
			buf_adds(b, n ? "," : "");
			json_write_str(b, s->fields[f].name, s->fields[f].len);
		} else {
			buf_adds(b, n ? ", " : "");
			put_name(b, s->fields[f].name, s->fields[f].len);
		}
		n++;
	}
	if (!as_json && !n)
		buf_adds(b, "none");
}

static void text_problems(struct stats *s, struct buf *b, const struct problem *list, uint64_t count)
{
	for (uint64_t i = 0; i < count && i < STATS_PROBLEMS; i++) {
		const struct problem *p = &list[i];
		buf_printf(b, "  %s:%llu", s->inputs[p->file].name, (unsigned long long)p->line);
		if (p->col)
			buf_printf(b, ":%zu", p->col);
		buf_printf(b, ": %s\n", p->reason);
	}
	if (count > STATS_PROBLEMS)
		buf_printf(b, "  ... and %llu more\n", (unsigned long long)(count - STATS_PROBLEMS));
}

static void text_role(struct stats *s, struct buf *b, int k)
{
	const struct role *r = &s->role[k];
	buf_printf(b, "%s:%s", role_name[k], k == R_KEY ? "  " : " ");
	if (!r->name) {
		buf_adds(b, "none found (looked for ");
		for (int c = 0; role_guess[k][c]; c++)
			buf_printf(b, "%s%s", c ? ", " : "", role_guess[k][c]);
		buf_adds(b, "); fields seen: ");
		fields_seen(s, b, 0);
		buf_printf(b, "; name it with %s FIELD\n", role_option[k]);
		return;
	}
	put_name(b, r->name, r->len);
	buf_adds(b, r->guessed ? " (guessed" : " (given");
	if (r->nested)
		buf_adds(b, ", a path into nested objects");
	for (int i = 0; r->also[i] >= 0; i++) {
		buf_adds(b, i ? ", " : "; also present: ");
		put_name(b, s->fields[r->also[i]].name, s->fields[r->also[i]].len);
	}
	buf_addc(b, ')');
	if (r->fid < 0 || !s->fields[r->fid].seen) {
		struct suggest sg;
		struct buf hint = {0};
		suggest_init(&sg, r->name, r->len);
		for (uint32_t f = 0; f < s->fieldtab.n; f++)
			if (s->fields[f].seen)
				suggest_try(&sg, s->fields[f].name, s->fields[f].len);
		buf_printf(b, " is in no record%s (fields seen: ", suggest_hint(&sg, &hint));
		fields_seen(s, b, 0);
		buf_adds(b, ")\n");
		buf_free(&hint);
		return;
	}
	buf_printf(b, ": usable in %llu of %llu records (", (unsigned long long)r->present,
		   (unsigned long long)s->records);
	pct(b, r->present, s->records);
	buf_adds(b, ")\n");
}

static void text_value_list(struct buf *b, const struct fprof *p, int kind)
{
	if (small_set(p, kind)) {
		const struct kept *v[STATS_VALUES];
		int n = sorted_vals(p, v);
		buf_adds(b, "values: ");
		for (int i = 0; i < n; i++) {
			buf_adds(b, i ? ", " : "");
			put_kept(b, v[i], 0);
			buf_printf(b, " (%llu)", (unsigned long long)v[i]->n);
		}
		return;
	}
	buf_adds(b, "e.g. ");
	if (kind < 0) { /* mixed: one value of each of the two commonest kinds */
		int order[NKIND], n = kinds_by_count(p, order);
		for (int i = 0; i < n && i < 2; i++) {
			buf_adds(b, i ? ", " : "");
			put_kept(b, &p->kind_ex[order[i]], 0);
		}
		return;
	}
	for (int i = 0; i < p->nvals && i < 2; i++) {
		buf_adds(b, i ? ", " : "");
		put_kept(b, &p->vals[i], 0);
	}
	if ((kind == K_INT || kind == K_FLOAT) && p->lo < p->hi) {
		buf_adds(b, "; range ");
		json_write_num(b, p->lo);
		buf_adds(b, " to ");
		json_write_num(b, p->hi);
	}
}

/* Text in aligned columns: cells are added row by row, then each is
 * padded to the widest of its column (`align` has an l or r per column). */
struct cols {
	struct buf text; /* the cells, each ended by a NUL */
	size_t *at;      /* where each cell starts */
	int n, cap;
	const char *align;
};

static void col_add(struct cols *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void col_add(struct cols *c, const char *fmt, ...)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->at = mem_realloc(c->at, sizeof *c->at * (size_t)c->cap);
	}
	c->at[c->n++] = c->text.len;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&c->text, fmt, ap);
	va_end(ap);
	buf_addc(&c->text, 0);
}

/* Print the rows, two spaces before each, and free the cells. */
static void cols_print(struct cols *c, struct buf *b)
{
	int ncol = (int)strlen(c->align);
	size_t w[8] = {0};
	for (int i = 0; i < c->n; i++) {
		const char *cell = c->text.p + c->at[i];
		size_t x = width(cell, strlen(cell));
		w[i % ncol] = x > w[i % ncol] ? x : w[i % ncol];
	}
	for (int i = 0; i < c->n; i++) {
		int col = i % ncol;
		const char *cell = c->text.p + c->at[i];
		size_t x = width(cell, strlen(cell));
		buf_adds(b, "  ");
		if (c->align[col] == 'r')
			pad(b, x, w[col]);
		buf_adds(b, cell);
		if (col == ncol - 1)
			buf_addc(b, '\n');
		else if (c->align[col] != 'r')
			pad(b, x, w[col]);
	}
	buf_free(&c->text);
	mem_free(c->at);
}

static void text_type_fields(struct stats *s, struct buf *b, const struct etype *t)
{
	buf_adds(b, "\nfields of ");
	if (t->name && is_identifier(t->name, t->len)) {
		put_name(b, t->name, t->len);
	} else if (t->name) { /* quoted as in a script, and cut like put_name */
		size_t m = cut_utf8(t->name, t->len, 2 * STATS_VALUE_BYTES);
		json_write_str(b, t->name, m);
		buf_adds(b, m < t->len ? "..." : "");
	} else
		buf_adds(b, "events without a type");
	buf_printf(b, " (%llu event%s):\n", (unsigned long long)t->count, t->count == 1 ? "" : "s");
	struct cols c = {.align = "llrl"};
	struct buf cell = {0};
	for (uint32_t f = 0; f < t->nprof; f++) {
		const struct fprof *p = t->prof[f];
		if (!p)
			continue;
		int kind;
		buf_clear(&cell);
		put_name(&cell, s->fields[f].name, s->fields[f].len);
		col_add(&c, "%s", cell.p);
		col_add(&c, "%s", prof_type(p, &kind));
		buf_clear(&cell);
		pct(&cell, p->filled, t->count);
		col_add(&c, "%s", cell.p);
		buf_clear(&cell);
		if (p->filled && kind < 0) {
			int order[NKIND], n = kinds_by_count(p, order);
			for (int k = 0; k < n; k++) {
				buf_printf(&cell, "%s%s ", k ? ", " : "(", kinds[order[k]].name);
				pct(&cell, p->kinds[order[k]], p->filled);
			}
			buf_adds(&cell, ") ");
		}
		if (p->filled)
			text_value_list(&cell, p, kind);
		col_add(&c, "%s", cell.p ? cell.p : "");
	}
	if (!c.n)
		buf_adds(b, "  (none besides key, time and type)\n");
	cols_print(&c, b);
	buf_free(&cell);
}

static void text_report(struct stats *s, struct summary *sum, struct buf *b)
{
	struct buf t = {0};
	for (int i = 0; i < s->ninputs; i++) {
		const struct input *in = &s->inputs[i];
		buf_printf(b, "input %s: %s", in->name, in->csv ? "csv" : "jsonl");
		if (in->csv && in->delim != ',') {
			buf_adds(b, ", delimiter ");
			quote_name(b, &in->delim, 1);
			if (in->sniffed)
				buf_adds(b, " (detected)");
		}
		buf_printf(b, ", %llu record%s, %llu rejected\n", (unsigned long long)in->records,
			   in->records == 1 ? "" : "s", (unsigned long long)in->rejected);
	}
	if (s->ninputs > 1)
		buf_printf(b, "total: %llu records, %llu rejected\n", (unsigned long long)s->records,
			   (unsigned long long)s->rejected);
	if (s->rejected) {
		buf_printf(b, "rejected (malformed):\n");
		text_problems(s, b, s->rejects, s->rejected);
	}
	for (int k = 0; k < NROLES; k++)
		text_role(s, b, k);
	if (s->unusable) {
		buf_printf(b, "cxr run would reject %llu record%s:\n", (unsigned long long)s->unusable,
			   s->unusable == 1 ? "" : "s");
		text_problems(s, b, s->unusables, s->unusable);
	}
	if (s->unprofiled)
		buf_printf(b, "note: only the first %d field names are profiled (%llu values of others skipped)\n",
			   STATS_MAX_FIELDS, (unsigned long long)s->unprofiled);

	if (s->role[R_KEY].fid >= 0 && sum->customers) {
		buf_printf(b, "customers: %llu (events per customer: min %u, median ", (unsigned long long)sum->customers,
			   sum->cmin);
		json_write_num(b, sum->cmedian);
		buf_printf(b, ", max %u)\n", sum->cmax);
		if (s->runs == sum->customers)
			buf_adds(b, "grouped by customer: yes (each customer's records are consecutive)\n");
		else
			buf_printf(b, "grouped by customer: no (%llu runs of consecutive records for %llu customers)\n",
				   (unsigned long long)s->runs, (unsigned long long)sum->customers);
	} else {
		buf_adds(b, "customers: unknown (no usable key)\n");
	}

	if (s->timed) {
		buf_adds(b, "time span: ");
		time_format(b, s->tmin);
		buf_adds(b, " to ");
		time_format(b, s->tmax);
		buf_adds(b, " (");
		dur_format(b, s->tmax - s->tmin);
		buf_adds(b, ")\ntime formats:\n");
		struct cols c = {.align = "rll"};
		for (int i = 0; i < sum->nfmts; i++) {
			int f = sum->fmts[i];
			col_add(&c, "%llu", (unsigned long long)s->fmt_count[f]);
			col_add(&c, "%s", fmt_label(&t, f));
			buf_clear(&t);
			put_name(&t, s->fmt_ex[f].s, s->fmt_ex[f].len);
			col_add(&c, "e.g. %s", t.p);
		}
		cols_print(&c, b);
		buf_printf(b, "order: %llu of %llu timed records (", (unsigned long long)s->backward,
			   (unsigned long long)s->timed);
		pct(b, s->backward, s->timed);
		buf_adds(b, ") are earlier than the record before them in their file");
		if (s->backward) {
			buf_adds(b, ", by up to ");
			dur_format(b, s->max_back);
		}
		buf_addc(b, '\n');
	} else {
		buf_adds(b, "time span: unknown (no usable time)\n");
	}

	uint64_t typed = s->records - s->untyped.count;
	buf_printf(b, "types: %u (%llu record%s with a type", s->typetab.n, (unsigned long long)typed,
		   typed == 1 ? "" : "s");
	if (s->untyped.count)
		buf_printf(b, ", %llu without", (unsigned long long)s->untyped.count);
	buf_adds(b, ")\n");
	int shown = sum->ntypes < STATS_TEXT_TYPES ? sum->ntypes : STATS_TEXT_TYPES;
	struct cols c = {.align = "lrr"};
	for (int i = 0; i < shown; i++) {
		const struct etype *ty = sum->types[i];
		buf_clear(&t);
		if (ty->name)
			put_name(&t, ty->name, ty->len);
		else
			buf_adds(&t, "(no type)");
		col_add(&c, "%s", t.p);
		col_add(&c, "%llu", (unsigned long long)ty->count);
		buf_clear(&t);
		pct(&t, ty->count, s->records);
		col_add(&c, "%s", t.p);
	}
	cols_print(&c, b);
	if (sum->ntypes > shown)
		buf_printf(b, "  ... and %d more types (--json lists them all)\n", sum->ntypes - shown);
	for (int i = 0; i < shown; i++)
		if (sum->types[i]->profiled)
			text_type_fields(s, b, sum->types[i]);
	buf_adds(b, "\nsuggested script (paste into a .cxr file):\n\n");
	buf_adds(b, sum->script);
	buf_free(&t);
}

static void json_problems(struct stats *s, struct buf *b, const struct problem *list, uint64_t count)
{
	buf_addc(b, '[');
	for (uint64_t i = 0; i < count && i < STATS_PROBLEMS; i++) {
		const struct problem *p = &list[i];
		buf_adds(b, i ? ",{\"file\":" : "{\"file\":");
		json_write_str(b, s->inputs[p->file].name, strlen(s->inputs[p->file].name));
		buf_printf(b, ",\"line\":%llu", (unsigned long long)p->line);
		if (p->col)
			buf_printf(b, ",\"col\":%zu", p->col);
		buf_adds(b, ",\"reason\":");
		json_write_str(b, p->reason, strlen(p->reason));
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

static void json_role(struct stats *s, struct buf *b, int k)
{
	const struct role *r = &s->role[k];
	buf_printf(b, ",\"%s\":{\"field\":", role_name[k]);
	if (r->name)
		json_write_str(b, r->name, r->len);
	else
		buf_adds(b, "null");
	buf_printf(b, ",\"guessed\":%s,\"found\":%s,\"present\":%llu", r->guessed ? "true" : "false",
		   r->fid >= 0 && s->fields[r->fid].seen ? "true" : "false", (unsigned long long)r->present);
	if (r->proj)
		buf_printf(b, ",\"nested\":%llu", (unsigned long long)r->nested);
	buf_adds(b, ",\"also\":[");
	for (int i = 0; r->also[i] >= 0; i++) {
		buf_adds(b, i ? "," : "");
		json_write_str(b, s->fields[r->also[i]].name, s->fields[r->also[i]].len);
	}
	buf_addc(b, ']');
	if (r->guessed && !r->name) {
		buf_adds(b, ",\"tried\":[");
		for (int c = 0; role_guess[k][c]; c++) {
			buf_adds(b, c ? "," : "");
			json_write_str(b, role_guess[k][c], strlen(role_guess[k][c]));
		}
		buf_addc(b, ']');
	}
	buf_addc(b, '}');
}

static void json_field(struct stats *s, struct buf *b, const struct etype *t, uint32_t f)
{
	const struct fprof *p = t->prof[f];
	int kind;
	const char *ty = prof_type(p, &kind);
	buf_adds(b, "{\"field\":");
	json_write_str(b, s->fields[f].name, s->fields[f].len);
	buf_printf(b, ",\"type\":\"%s\",\"seen\":%llu,\"filled\":%llu,\"fill\":", ty, (unsigned long long)p->seen,
		   (unsigned long long)p->filled);
	json_write_num(b, t->count ? (double)p->filled / (double)t->count : 0);
	buf_adds(b, ",\"kinds\":{");
	int n = 0;
	for (int k = 0; k < NKIND; k++)
		if (p->kinds[k])
			buf_printf(b, "%s\"%s\":%llu", n++ ? "," : "", kinds[k].name, (unsigned long long)p->kinds[k]);
	buf_addc(b, '}');
	if (p->kinds[K_INT] + p->kinds[K_FLOAT]) {
		buf_adds(b, ",\"min\":");
		json_write_num(b, p->lo);
		buf_adds(b, ",\"max\":");
		json_write_num(b, p->hi);
	}
	if (small_set(p, kind)) {
		const struct kept *v[STATS_VALUES];
		int nv = sorted_vals(p, v);
		buf_adds(b, ",\"values\":[");
		for (int i = 0; i < nv; i++) {
			buf_adds(b, i ? ",{\"value\":" : "{\"value\":");
			put_kept(b, v[i], 1);
			buf_printf(b, ",\"count\":%llu}", (unsigned long long)v[i]->n);
		}
		buf_addc(b, ']');
	}
	buf_adds(b, ",\"examples\":[");
	n = 0;
	if (kind < 0 && p->filled) {
		int order[NKIND], nk = kinds_by_count(p, order);
		for (int i = 0; i < nk; i++) {
			buf_adds(b, n++ ? "," : "");
			put_kept(b, &p->kind_ex[order[i]], 1);
		}
	} else {
		for (int i = 0; i < p->nvals && i < 2; i++) {
			buf_adds(b, n++ ? "," : "");
			put_kept(b, &p->vals[i], 1);
		}
	}
	buf_adds(b, "]}");
}

static void json_report(struct stats *s, struct summary *sum, struct buf *b)
{
	struct buf t = {0};
	buf_adds(b, "{\"inputs\":[");
	for (int i = 0; i < s->ninputs; i++) {
		const struct input *in = &s->inputs[i];
		buf_adds(b, i ? ",{\"file\":" : "{\"file\":");
		json_write_str(b, in->name, strlen(in->name));
		buf_printf(b, ",\"format\":\"%s\"", in->csv ? "csv" : "jsonl");
		if (in->csv) {
			buf_adds(b, ",\"delimiter\":");
			json_write_str(b, &in->delim, 1);
		}
		buf_printf(b, ",\"records\":%llu,\"rejected\":%llu}", (unsigned long long)in->records,
			   (unsigned long long)in->rejected);
	}
	buf_printf(b, "],\"records\":%llu,\"rejected\":%llu,\"rejects\":", (unsigned long long)s->records,
		   (unsigned long long)s->rejected);
	json_problems(s, b, s->rejects, s->rejected);
	for (int k = 0; k < NROLES; k++)
		json_role(s, b, k);
	buf_adds(b, ",\"fields\":[");
	fields_seen(s, b, 1);
	buf_printf(b, "],\"unprofiled_values\":%llu,\"unusable\":%llu,\"unusable_reasons\":",
		   (unsigned long long)s->unprofiled, (unsigned long long)s->unusable);
	json_problems(s, b, s->unusables, s->unusable);
	buf_printf(b, ",\"customers\":%llu,\"events_per_customer\":", (unsigned long long)sum->customers);
	if (sum->customers) {
		buf_printf(b, "{\"min\":%u,\"median\":", sum->cmin);
		json_write_num(b, sum->cmedian);
		buf_printf(b, ",\"max\":%u}", sum->cmax);
	} else {
		buf_adds(b, "null");
	}
	buf_printf(b, ",\"runs\":%llu,\"grouped_by_customer\":%s,\"timed\":%llu", (unsigned long long)s->runs,
		   sum->customers && s->runs == sum->customers ? "true" : "false", (unsigned long long)s->timed);
	if (s->timed) {
		buf_adds(b, ",\"first\":\"");
		time_format(b, s->tmin);
		buf_adds(b, "\",\"last\":\"");
		time_format(b, s->tmax);
		buf_adds(b, "\",\"span\":\"");
		dur_format(b, s->tmax - s->tmin);
		buf_addc(b, '"');
	} else {
		buf_adds(b, ",\"first\":null,\"last\":null,\"span\":null");
	}
	buf_adds(b, ",\"time_formats\":[");
	for (int i = 0; i < sum->nfmts; i++) {
		int f = sum->fmts[i];
		buf_adds(b, i ? ",{\"format\":" : "{\"format\":");
		fmt_label(&t, f);
		json_write_str(b, t.p, t.len);
		buf_printf(b, ",\"count\":%llu,\"example\":", (unsigned long long)s->fmt_count[f]);
		put_kept(b, &s->fmt_ex[f], 1);
		buf_addc(b, '}');
	}
	buf_printf(b, "],\"out_of_order\":%llu,\"out_of_order_share\":", (unsigned long long)s->backward);
	json_write_num(b, s->timed ? (double)s->backward / (double)s->timed : 0);
	buf_adds(b, ",\"max_back\":");
	if (s->backward) {
		buf_clear(&t);
		dur_format(&t, s->max_back);
		json_write_str(b, t.p, t.len);
	} else {
		buf_adds(b, "null");
	}
	buf_adds(b, ",\"types\":[");
	for (int i = 0; i < sum->ntypes; i++) {
		const struct etype *ty = sum->types[i];
		buf_adds(b, i ? ",{\"type\":" : "{\"type\":");
		if (ty->name)
			json_write_str(b, ty->name, ty->len);
		else
			buf_adds(b, "null");
		buf_printf(b, ",\"count\":%llu,\"share\":", (unsigned long long)ty->count);
		json_write_num(b, s->records ? (double)ty->count / (double)s->records : 0);
		buf_printf(b, ",\"profiled\":%s,\"fields\":[", ty->profiled ? "true" : "false");
		int n = 0;
		for (uint32_t f = 0; f < ty->nprof; f++)
			if (ty->prof[f]) {
				buf_adds(b, n++ ? "," : "");
				json_field(s, b, ty, f);
			}
		buf_adds(b, "]}");
	}
	buf_adds(b, "],\"suggestion\":");
	json_write_str(b, sum->script, strlen(sum->script));
	buf_adds(b, "}\n");
	buf_free(&t);
}

/* ---- the entry point ---- */

static void stats_free(struct stats *s)
{
	for (uint32_t i = 0; i < s->typetab.n; i++)
		mem_free(s->types[i].prof);
	mem_free(s->untyped.prof);
	mem_free(s->types);
	mem_free(s->fields);
	mem_free(s->cust_n);
	mem_free(s->held);
	mem_free(s->m);
	mem_free(s->stamp);
	mem_free(s->slot);
	mem_free(s->inputs);
	for (int k = 0; k < NROLES; k++)
		json_proj_free(s->role[k].proj);
	strtab_free(&s->fieldtab);
	strtab_free(&s->typetab);
	strtab_free(&s->custtab);
	arena_free(&s->pool);
	arena_free(&s->rec);
	arena_free(&s->hold);
	buf_free(&s->tmp);
}

/* A role named by the options; a dotted name may be a path into nested
 * objects. */
static void given_role(struct stats *s, int k, const char *name)
{
	struct role *r = &s->role[k];
	r->len = strlen(name);
	r->name = arena_strndup(&s->pool, name, r->len);
	if (memchr(name, '.', r->len)) {
		const char *segs[32];
		size_t lens[32];
		int n = 0;
		const char *p = r->name, *end = r->name + r->len;
		while (n < 32) {
			const char *dot = memchr(p, '.', (size_t)(end - p));
			segs[n] = p;
			lens[n++] = dot ? (size_t)(dot - p) : (size_t)(end - p);
			if (!dot)
				break;
			p = dot + 1;
		}
		r->proj = json_proj_new();
		json_proj_add(r->proj, segs, lens, n, 0);
	}
}

int cxr_stats(const char *const *paths, int npaths, const struct cxr_stats_options *opt, cxr_write_fn out,
	      void *out_ud, cxr_write_fn diag, void *diag_ud)
{
	static const char *const stdin_only[] = {"-"};
	struct cxr_stats_options none = {0};
	struct stats s;
	memset(&s, 0, sizeof s);
	if (!opt)
		opt = &none;
	if (npaths <= 0) {
		paths = stdin_only;
		npaths = 1;
	}
	s.inputs = mem_alloc(sizeof *s.inputs * (size_t)npaths);
	s.cur_file = -1;
	s.diag = diag;
	s.diag_ud = diag_ud;
	s.untyped.profiled = 1;
	s.prev_cust = -1;
	const char *given[NROLES] = {opt->key, opt->time, opt->type};
	for (int k = 0; k < NROLES; k++) {
		s.role[k].fid = -1;
		s.role[k].also[0] = -1;
		if (given[k] && *given[k])
			given_role(&s, k, given[k]);
		else
			s.role[k].guessed = 1;
	}
	int status = CXR_OK;
	for (int i = 0; i < npaths && status == CXR_OK; i++)
		if (read_input(&s, paths[i]) < 0)
			status = CXR_INPUT_ERROR;
	if (status == CXR_OK) {
		if (!s.guessed)
			guess_roles(&s);
		struct summary sum;
		summarize(&s, &sum, opt->as_json);
		struct buf b = {0};
		if (opt->as_json)
			json_report(&s, &sum, &b);
		else
			text_report(&s, &sum, &b);
		out(out_ud, b.p, b.len);
		buf_free(&b);
		mem_free(sum.types);
		mem_free(sum.script);
	}
	stats_free(&s);
	return status;
}
