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
#include "stats.h"
#include "base/timeutil.h"

const struct kind_info stats_kinds[NKIND] = {
	{"int", "int"},   {"float", "float"},       {"bool", "bool"},   {"string", "string"},
	{"time", "time"}, {"duration", "duration"}, {"json", "string"},
};

const char *const stats_role_name[NROLES] = {"key", "time", "type"};
const char *const stats_role_option[NROLES] = {"--key", "--time", "--type"};
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

void stats_strtab_free(struct strtab *t)
{
	mem_free(t->e);
	memset(t, 0, sizeof *t);
}

/* n bytes of s cut to at most max bytes at a UTF-8 character boundary. */
size_t stats_cut_utf8(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static void keep(struct arena *a, struct kept *k, const char *s, size_t n, int kind)
{
	size_t m = stats_cut_utf8(s, n, STATS_VALUE_BYTES);
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
	size_t m = stats_cut_utf8(t, n, STATS_VALUE_BYTES);
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
				int64_t back = time_since(s->prev_time, ns); /* 2262 back to 1700 holds no duration */
				if (back > s->max_back)
					s->max_back = back;
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

/* A key candidate over the held records: how many distinct values, and
 * whether each value is one run of consecutive records (a log grouped by
 * case is grouped by its key, not by an attribute of the case). */
static void key_shape(struct stats *s, int64_t f, uint32_t *distinct, uint8_t *grouped)
{
	struct buf *vals = mem_alloc(sizeof *vals * (s->nheld + 1));
	size_t n = 0;
	for (size_t h = 0; h < s->nheld; h++)
		for (size_t i = 0; i < s->held[h].n; i++)
			if (s->held[h].m[i].fid == f && filled(&s->held[h].m[i].v)) {
				val_render_text(&vals[n], &s->held[h].m[i].v);
				n++;
				break;
			}
	uint32_t d = 0, runs = 0;
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(vals[i].p, vals[j].p);
		d += !seen;
		runs += i == 0 || strcmp(vals[i].p, vals[i - 1].p) != 0;
	}
	for (size_t i = 0; i < n; i++)
		buf_free(&vals[i]);
	mem_free(vals);
	*distinct = d;
	*grouped = n > 1 && runs == d && d > 1;
}

/* The key among the candidates present: the one the records are grouped
 * by, then the one with the most distinct values, then the table's order;
 * the rest follow in that order (the runner-up first). */
static void rank_key(struct stats *s, struct role *r)
{
	int64_t cand[9];
	int n = 0;
	if (r->fid >= 0)
		cand[n++] = r->fid;
	for (int i = 0; r->also[i] >= 0 && n < 9; i++)
		cand[n++] = r->also[i];
	uint32_t distinct[9];
	uint8_t grouped[9];
	for (int i = 0; i < n; i++)
		key_shape(s, cand[i], &distinct[i], &grouped[i]);
	/* insertion sort: stable, so the table's order breaks ties */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && (grouped[j] > grouped[j - 1] ||
					  (grouped[j] == grouped[j - 1] && distinct[j] > distinct[j - 1])); j--) {
			int64_t c = cand[j];
			cand[j] = cand[j - 1];
			cand[j - 1] = c;
			uint32_t d = distinct[j];
			distinct[j] = distinct[j - 1];
			distinct[j - 1] = d;
			uint8_t g = grouped[j];
			grouped[j] = grouped[j - 1];
			grouped[j - 1] = g;
		}
	r->fid = cand[0];
	r->name = s->fields[cand[0]].name;
	r->len = s->fields[cand[0]].len;
	for (int i = 0; i < n; i++) {
		r->distinct[i] = distinct[i];
		r->grouped[i] = grouped[i];
		if (i)
			r->also[i - 1] = cand[i];
	}
	r->also[n - 1] = -1;
	r->ranked = (int)s->nheld;
}

/* Settle the roles the options left open, from the held records; then
 * profile those records. */
void stats_guess_roles(struct stats *s)
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
		for (int c = 0; src_field_names[k][c]; c++) {
			const char *cand = src_field_names[k][c];
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
		if (k == R_KEY && r->guessed && r->fid >= 0 && na > 0)
			rank_key(s, r);
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
		stats_guess_roles(s);
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

/* A record read, with the latest time so far once the time field is known. */
static void stats_progress(struct stats *s)
{
	if (s->timed)
		progress_event(s->progress, s->tmax);
	else
		progress_record(s->progress);
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
		stats_progress(s);
	}
	if (got < 0) {
		say(s, "cxr: %s: read error: %s", s->inputs[file].name, src_error(src));
		return -1;
	}
	return 0;
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
	char d = may_sniff ? src_csv_sniff_delim(&rec) : 0;
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
		size_t bad_col;
		const char *bad_text = src_csv_text_problem(&rec, &bad_col);
		if (bad_text) {
			reject(s, file, rec.line, bad_col, bad_text);
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
		stats_progress(s);
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

/* What stdin holds, from its first line: a JSON object, or a CSV header
 * and its delimiter (the one it has most of). */
static void sniff_stdin(struct source *src, struct input *in)
{
	const char *p;
	size_t n;
	if (src_peek(src, 65536, &p, &n) < 0)
		return;
	size_t i = n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3) ? 3 : 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i >= n || p[i] == '{')
		return;
	static const char cands[] = ",;\t|";
	size_t most = 0;
	for (const char *c = cands; *c; c++) {
		size_t k = 0;
		for (size_t j = i; j < n && p[j] != '\n'; j++)
			k += p[j] == *c;
		if (k > most) {
			most = k;
			in->delim = *c;
		}
	}
	if (most) {
		in->csv = 1;
		in->sniffed = in->delim != ',';
	}
}

int stats_read_input(struct stats *s, const char *path, const char *format)
{
	uint32_t file = (uint32_t)s->ninputs++;
	struct input *in = &s->inputs[file];
	in->name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	in->csv = format ? !strcmp(format, "csv")
			 : ends_with(path, ".csv") || ends_with(path, ".CSV") || ends_with(path, ".tsv") ||
				   ends_with(path, ".TSV");
	in->delim = ends_with(path, ".tsv") || ends_with(path, ".TSV") ? '\t' : ',';
	for (;;) {
		char err[256];
		struct source *src = src_open(path, err, sizeof err);
		if (!src) {
			say(s, "cxr: cannot open %s: %s", path, err);
			return -1;
		}
		if (!format && !strcmp(path, "-"))
			sniff_stdin(src, in); /* stdin has no name to go by */
		int rc;
		progress_source(s->progress, src);
		if (in->csv) {
			src_csv_delim(src, in->delim);
			/* stdin cannot be read twice: no second guess there */
			rc = read_csv(s, src, file, !in->sniffed && in->delim == ',' && strcmp(path, "-") != 0);
		} else {
			rc = read_jsonl(s, src, file);
		}
		progress_source_end(s->progress);
		src_close(src);
		if (rc <= 0)
			return rc;
		in->delim = (char)rc;
		in->sniffed = 1;
	}
}

