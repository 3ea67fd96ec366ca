/* stats_report.c: the report of `cxr stats`, as text or JSON, and the
 * suggested script (see stats.c for what is measured and how). */
#include "stats.h"

/* ---- the report ---- */

/* A name as the text report shows it: bare when printable, else quoted;
 * a very long one cut. */
static void put_name(struct buf *b, const char *p, size_t n)
{
	size_t m = stats_cut_utf8(p, n, 2 * STATS_VALUE_BYTES);
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
		return stats_kinds[only].name;
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
			buf_printf(&b, "  # %s = ...   (no %s field found)\n", stats_role_name[k], stats_role_name[k]);
			continue;
		}
		buf_printf(&b, "  %-4s = ", stats_role_name[k]);
		if (r->nested && r->nested == r->present)
			script_path(&b, h, r);
		else
			script_name(&b, h, "input { key = ", r->name, r->len, " }");
		buf_addc(&b, '\n');
	}
	/* CSV whose name does not say so (stdin, log.txt): `run` needs the format. */
	for (int i = 0; i < s->ninputs; i++) {
		const char *name = s->inputs[i].name, *dot = strrchr(name, '.');
		int by_name = dot && (!strcasecmp(dot, ".csv") || !strcasecmp(dot, ".tsv"));
		if (s->inputs[i].csv && !by_name) {
			buf_adds(&b, "  format = csv\n");
			break;
		}
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
			buf_printf(&b, ": %s", kind >= 0 ? stats_kinds[kind].schema : "string");
			if (kind == K_JSON)
				buf_adds(&b, "   # JSON text");
			else if (!strcmp(ty, "empty"))
				buf_adds(&b, "   # always empty");
			else if (!strcmp(ty, "mixed")) {
				int order[NKIND], n = kinds_by_count(p, order);
				buf_adds(&b, "   # mixed:");
				for (int k = 0; k < n; k++) {
					buf_printf(&b, "%s %s ", k ? "," : "", stats_kinds[order[k]].name);
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
	buf_printf(b, "%s:%s", stats_role_name[k], k == R_KEY ? "  " : " ");
	if (!r->name) {
		buf_adds(b, "none found (looked for ");
		for (int c = 0; src_field_names[k][c]; c++)
			buf_printf(b, "%s%s", c ? ", " : "", src_field_names[k][c]);
		buf_adds(b, "); fields seen: ");
		fields_seen(s, b, 0);
		buf_printf(b, "; name it with %s FIELD\n", stats_role_option[k]);
		return;
	}
	put_name(b, r->name, r->len);
	buf_adds(b, r->guessed ? " (guessed" : " (given");
	if (r->nested)
		buf_adds(b, ", a path into nested objects");
	if (r->ranked) {
		/* Why this key: its shape in the first records, and the runner-up's. */
		buf_printf(b, ": %u distinct values in the first %d records%s; runner-up ", r->distinct[0], r->ranked,
			   r->grouped[0] ? ", which are grouped by it" : "");
		put_name(b, s->fields[r->also[0]].name, s->fields[r->also[0]].len);
		buf_printf(b, " with %u%s", r->distinct[1], r->grouped[1] ? ", grouped" : "");
		for (int i = 1; r->also[i] >= 0; i++) {
			buf_adds(b, i > 1 ? ", " : "; also present: ");
			put_name(b, s->fields[r->also[i]].name, s->fields[r->also[i]].len);
		}
	} else {
		for (int i = 0; r->also[i] >= 0; i++) {
			buf_adds(b, i ? ", " : "; also present: ");
			put_name(b, s->fields[r->also[i]].name, s->fields[r->also[i]].len);
		}
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
		size_t m = stats_cut_utf8(t->name, t->len, 2 * STATS_VALUE_BYTES);
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
				buf_printf(&cell, "%s%s ", k ? ", " : "(", stats_kinds[order[k]].name);
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
		time_span_format(b, s->tmin, s->tmax);
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
	buf_printf(b, ",\"%s\":{\"field\":", stats_role_name[k]);
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
	if (r->ranked) {
		/* The guess's grounds, the chosen field first, then also[] in order. */
		buf_adds(b, ",\"ranking\":[");
		for (int i = 0; i == 0 || r->also[i - 1] >= 0; i++)
			buf_printf(b, "%s{\"distinct\":%u,\"grouped\":%s}", i ? "," : "", r->distinct[i],
				   r->grouped[i] ? "true" : "false");
		buf_addc(b, ']');
	}
	if (r->guessed && !r->name) {
		buf_adds(b, ",\"tried\":[");
		for (int c = 0; src_field_names[k][c]; c++) {
			buf_adds(b, c ? "," : "");
			json_write_str(b, src_field_names[k][c], strlen(src_field_names[k][c]));
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
			buf_printf(b, "%s\"%s\":%llu", n++ ? "," : "", stats_kinds[k].name, (unsigned long long)p->kinds[k]);
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
		time_span_format(b, s->tmin, s->tmax);
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
	stats_strtab_free(&s->fieldtab);
	stats_strtab_free(&s->typetab);
	stats_strtab_free(&s->custtab);
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
	struct progress pg;
	progress_begin(&pg, opt->progress, opt->progress_ud);
	s.progress = opt->progress ? &pg : NULL;
	for (int i = 0; i < npaths && status == CXR_OK; i++)
		if (stats_read_input(&s, paths[i], opt->format) < 0)
			status = CXR_INPUT_ERROR;
	progress_end(s.progress);
	if (status == CXR_OK) {
		if (!s.guessed)
			stats_guess_roles(&s);
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
