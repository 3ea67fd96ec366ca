/* explain.c: `cxr explain`, why a rule did or did not fire for a customer.
 *
 * The run is the ordinary one; for the customer asked about, the engine
 * reports every handler it ran and every step a pattern took, and the VM
 * keeps a trail of what the conditions saw (struct vm_mark).  This file
 * turns them into notes: fired, or stopped by which guard, each part of it
 * (the operands of its `and`s and `or`s) true, false or not evaluated,
 * with the values on both sides of each comparison and how far they were
 * from flipping it; a dedupe with its key and when that key first fired; a
 * cap, a budget, a holdout; a pattern's near misses, a step or an absence
 * whose event came after the deadline (and how late), and what was still
 * pending at the end.
 *
 * Each note is written twice from the same facts: as text, and as JSON
 * members for `--format json` (numbers as numbers, durations and
 * differences of times in seconds), so that the two agree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"

#include "engine/engine.h"
#include "base/json.h"
#include "base/nametab.h"
#include "base/timeutil.h"
#include "vm/vm.h"

/* A note being written: its text and its JSON members, each member after
 * a comma (`,"step":1`). */
struct story {
	struct buf text, json;
};

struct note {
	int rule;
	int64_t at;
	uint64_t seq;
	int fired;
	const char *outcome; /* one word, as README lists them */
	char *event;         /* "type (file:line)", or NULL for a timer */
	char *event_json;    /* the event's members (type, file, line, time), or NULL */
	struct story story;
};

/* A pattern step whose deadline passed while it waited (a step that
 * expired, an absence that fired): the first later event that would have
 * matched it came too late, and how late is worth telling. */
struct overdue {
	int rule, step;
	uint32_t cust;
	int64_t deadline;
	struct event **bound; /* copies of the events before the step, for its `where` */
	int note;             /* an absence's firing note, which the late event extends; -1: one of its own */
	int absence;
	int next;             /* the customer's next open overdue step, or -1 */
};

/* The overdue steps a customer keeps open at most. */
#define OVERDUE_MAX 16

struct explain {
	struct engine_hooks hooks; /* what the engine calls: ud is this explain */
	const struct prog *p;
	struct diag *d;
	char *customer;
	int rule;           /* -1: every rule */
	struct note *notes;
	int n, cap;
	uint64_t seq;
	struct overdue *overdue;
	int noverdue, capoverdue;
	int *overdue_head;  /* per customer index: its first open overdue step, or -1 */
	uint32_t nheads;
	/* When each dedupe key first fired: rule, customer and key text (the
	 * engine's) to an index of fired_at. */
	struct nametab fired_keys;
	char **fired_key;
	int64_t *fired_at;
	int nfired;
	struct buf tmp;
	/* The source line source_text read last, and where each of its
	 * characters starts unless it is ASCII: a generated guard of a
	 * thousand parts on one line is walked once, not once per part. */
	struct {
		int file, line;
		const char *text;
		size_t len;
		size_t *at; /* byte offset of column c at at[c - 1]; NULL: ASCII */
		size_t ncols;
	} src;
	void (*stream)(void *ud, const char *p, size_t n); /* notes as they come (`:watch`), or NULL */
	void *stream_ud;
	uint8_t *only;      /* the rules explained (a failed `expect` of cxr test), or NULL: x->rule says */
	int64_t test_clock; /* cxr test: the test's clock, that pending timers are told against */
	int in_test;
};

void explain_stream(struct explain *x, void (*fn)(void *ud, const char *p, size_t n), void *ud)
{
	x->stream = fn;
	x->stream_ud = ud;
}

/* Only the rules set in mask (prog->nrules bytes): those that emit the
 * action a failed `expect` wanted. */
void explain_only(struct explain *x, const uint8_t *mask)
{
	mem_free(x->only);
	x->only = mem_alloc((size_t)x->p->nrules + 1);
	memcpy(x->only, mask, (size_t)x->p->nrules);
}

/* In a test, "pending at the end of input" is pending at the test's step,
 * and an `advance` (not --flush) fires it. */
void explain_test_clock(struct explain *x, int64_t now)
{
	x->in_test = 1;
	x->test_clock = now;
}

static int explain_wants(void *ud, const struct engine *e, uint32_t cust, int rule);
static void explain_event(void *ud, struct engine *e, const struct event *ev);
static void explain_handler(void *ud, struct engine *e, int rule, const struct event *cause, int64_t now, int r,
			    int held_out);
static void explain_pattern(void *ud, struct engine *e, int rule, enum engine_note what, const struct instance *in,
			    const struct event *ev, int64_t at);
static void explain_absence_fired(void *ud, struct engine *e, const struct instance *in);
static void explain_repeat(void *ud, struct engine *e, int rule, const struct event *ev, uint32_t inside);

struct explain *explain_new(const struct prog *p, struct diag *d, const char *customer, int rule)
{
	struct explain *x = mem_alloc(sizeof *x);
	x->hooks = (struct engine_hooks){.ud = x,
					 .wants = explain_wants,
					 .event = explain_event,
					 .handler = explain_handler,
					 .pattern = explain_pattern,
					 .absence_fired = explain_absence_fired,
					 .repeat = explain_repeat};
	x->p = p;
	x->d = d;
	x->customer = customer ? mem_strndup(customer, strlen(customer)) : NULL; /* NULL: everyone */
	x->rule = rule;
	return x;
}

static void story_free(struct story *s)
{
	buf_free(&s->text);
	buf_free(&s->json);
}

static void overdue_close(struct overdue *o)
{
	for (int i = 0; o->bound && i < o->step; i++)
		mem_free(o->bound[i]);
	mem_free(o->bound);
	o->bound = NULL;
}

const struct engine_hooks *explain_hooks(const struct explain *x) { return &x->hooks; }

/* The explain being told: the engine reaches this file only through the
 * hooks explain_hooks gave it, whose ud is the explain. */
static struct explain *explain_of(const struct engine *e) { return e->hooks->ud; }

void explain_free(struct explain *x)
{
	if (!x)
		return;
	for (int i = 0; i < x->n; i++) {
		mem_free(x->notes[i].event);
		mem_free(x->notes[i].event_json);
		story_free(&x->notes[i].story);
	}
	mem_free(x->notes);
	for (int i = 0; i < x->noverdue; i++)
		overdue_close(&x->overdue[i]);
	mem_free(x->overdue);
	mem_free(x->overdue_head);
	for (int i = 0; i < x->nfired; i++)
		mem_free(x->fired_key[i]);
	mem_free(x->fired_key);
	mem_free(x->fired_at);
	nametab_free(&x->fired_keys);
	mem_free(x->src.at);
	mem_free(x->only);
	mem_free(x->customer);
	buf_free(&x->tmp);
	mem_free(x);
}

/* Is this the customer and rule being explained? */
static int explain_wants(void *ud, const struct engine *e, uint32_t cust, int rule)
{
	const struct explain *x = ud;
	if ((x->rule >= 0 && rule >= 0 && rule != x->rule) || (x->only && rule >= 0 && !x->only[rule]))
		return 0;
	const struct customer *c = &e->custs[cust];
	return !x->customer || (c->keylen == strlen(x->customer) && memcmp(cust_key(c), x->customer, c->keylen) == 0);
}

/* ---- words and JSON ---- */

static const char *file_of(const struct engine *e, const struct event *ev)
{
	return ev->file < e->nfiles ? e->files[ev->file] : "-";
}

static void type_text(struct buf *b, const struct event *ev)
{
	if (ev->type_name.kind == V_STR)
		buf_add(b, ev->type_name.u.s, ev->type_name.len);
	else
		buf_adds(b, "(no type)");
}

/* ,"key": */
static void jkey(struct buf *j, const char *key) { buf_printf(j, ",\"%s\":", key); }

static void jstr(struct buf *j, const char *key, const char *s)
{
	jkey(j, key);
	json_write_str(j, s, strlen(s));
}

static void jtime(struct buf *j, const char *key, int64_t t)
{
	struct buf b = {0};
	time_format(&b, t);
	jstr(j, key, b.p);
	buf_free(&b);
}

/* Durations go out in seconds (a JSON number, fractions for less). */
static void seconds_json(struct buf *j, int64_t ns) { json_write_num(j, (double)ns / 1e9); }

static void jseconds(struct buf *j, const char *key, int64_t ns)
{
	jkey(j, key);
	seconds_json(j, ns);
}

/* The event's own members: type, file, line and time. */
static void event_members(const struct engine *e, const struct event *ev, struct buf *j)
{
	struct buf t = {0};
	type_text(&t, ev);
	jstr(j, "type", t.p);
	jstr(j, "file", file_of(e, ev));
	buf_printf(j, ",\"line\":%llu", (unsigned long long)ev->line);
	jtime(j, "time", ev->time);
	buf_free(&t);
}

static void value_text(struct buf *b, const struct val *v)
{
	if (v->kind == V_STR && !(v->flags & VF_JSON))
		json_write_str(b, v->u.s, v->len);
	else
		val_render_text(b, v);
}

static void value_json(struct buf *j, const struct val *v)
{
	if (v->kind == V_DUR)
		seconds_json(j, v->u.i);
	else
		val_render_json(j, v);
}

static void step_desc(const struct prog *p, const struct pattern_step *st, struct buf *b)
{
	for (int i = 0; i < st->ntypes; i++)
		buf_printf(b, "%s%s", i ? " | " : "", p->types[st->types[i]].name);
}

static void step_types_json(const struct prog *p, const struct pattern_step *st, struct buf *j)
{
	jkey(j, "waits_for");
	buf_addc(j, '[');
	for (int i = 0; i < st->ntypes; i++) {
		buf_adds(j, i ? "," : "");
		json_write_str(j, p->types[st->types[i]].name, strlen(p->types[st->types[i]].name));
	}
	buf_addc(j, ']');
}

/* Where a comment begins in line[from, to), outside strings: a line that
 * a condition goes on after may end with one. */
static size_t before_comment(const char *line, size_t from, size_t to)
{
	int quoted = 0;
	for (size_t i = from; i < to; i++) {
		if (quoted && line[i] == '\\')
			i++;
		else if (line[i] == '"')
			quoted = !quoted;
		else if (!quoted && line[i] == '#')
			return i;
	}
	return to;
}

/* A line of the script, through the explain's one-line cache. */
static const char *source_line(struct engine *e, int file, int line, size_t *len)
{
	struct explain *x = explain_of(e);
	if (!x->src.text || x->src.file != file || x->src.line != line) {
		mem_free(x->src.at);
		x->src.at = NULL;
		x->src.text = diag_line(e->diag, file, line, &x->src.len);
		x->src.file = file;
		x->src.line = line;
		size_t ascii = 0;
		while (x->src.text && ascii < x->src.len && !(x->src.text[ascii] & 0x80))
			ascii++;
		if (x->src.text && ascii < x->src.len) {
			x->src.at = mem_alloc(sizeof *x->src.at * (x->src.len + 1));
			x->src.ncols = 0;
			for (size_t i = 0; i < x->src.len; i++)
				if ((x->src.text[i] & 0xC0) != 0x80)
					x->src.at[x->src.ncols++] = i;
		}
	}
	*len = x->src.len;
	return x->src.text;
}

/* The byte offset of column col (from 1) in the cached line. */
static size_t source_column(const struct explain *x, int col)
{
	if (col < 1)
		return 0;
	if (!x->src.at)
		return (size_t)col - 1 < x->src.len ? (size_t)col - 1 : x->src.len;
	return (size_t)col - 1 < x->src.ncols ? x->src.at[col - 1] : x->src.len;
}

/* The source text of a location, "`f.x - f.y` is 9m"; a condition laid
 * out on several lines (as fmt breaks a long one) reads as one line. */
static void source_text(struct engine *e, struct loc loc, struct buf *out)
{
	struct buf t = {0};
	for (int l = loc.first_line; l <= loc.last_line; l++) {
		size_t n;
		const char *line = source_line(e, loc.file, l, &n);
		if (!line) {
			buf_clear(&t);
			break;
		}
		size_t from = l == loc.first_line ? source_column(explain_of(e), loc.first_column) : 0;
		size_t to = l == loc.last_line ? source_column(explain_of(e), loc.last_column + 1) : n;
		if (l != loc.last_line)
			to = before_comment(line, from, to);
		while (l != loc.first_line && from < to && (line[from] == ' ' || line[from] == '\t'))
			from++;
		while (l != loc.last_line && to > from && (line[to - 1] == ' ' || line[to - 1] == '\t'))
			to--;
		if (from >= to)
			continue;
		if (t.len)
			buf_addc(&t, ' ');
		buf_add(&t, line + from, to - from);
	}
	if (t.len)
		buf_add(out, t.p, t.len);
	else
		buf_adds(out, "the value");
	buf_free(&t);
}

/* ---- notes ---- */

/* Keep a note (its story is taken), or with `:watch` say it now. */
static void add_note(struct engine *e, int rule, uint32_t cust, int64_t at, const struct event *ev, int fired,
		     const char *outcome, struct story *s)
{
	struct explain *x = explain_of(e);
	if (x->stream) {
		/* `:watch`: say it now, with the customer, instead of keeping it. */
		struct buf b = {0};
		buf_adds(&b, "  ");
		time_format(&b, at);
		buf_printf(&b, "  %s [%.*s]", e->prog->rules[rule].name, (int)e->custs[cust].keylen, cust_key(&e->custs[cust]));
		buf_printf(&b, ": %s\n", s->text.p ? s->text.p : "");
		x->stream(x->stream_ud, b.p, b.len);
		buf_free(&b);
		story_free(s);
		return;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 32;
		x->notes = mem_realloc(x->notes, sizeof *x->notes * (size_t)x->cap);
	}
	struct note *n = &x->notes[x->n];
	*n = (struct note){rule, at, x->seq++, fired, outcome, NULL, NULL, *s};
	*s = (struct story){0};
	if (ev) {
		struct buf b = {0}, j = {0};
		type_text(&b, ev);
		buf_printf(&b, " (%s:%llu)", file_of(e, ev), (unsigned long long)ev->line);
		n->event = b.p;
		event_members(e, ev, &j);
		n->event_json = j.p;
	}
	x->n++;
}

/* ---- conditions, part by part ---- */

/* The trail's mark of the instruction at pc, or NULL: it did not run.  The
 * code only jumps forward and each instruction runs once in a handler, so
 * the trail is in the order of pcs. */
static const struct vm_mark *mark_at(const struct vm *vm, uint32_t pc)
{
	int lo = 0, hi = vm->nmarks;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (vm->marks[mid].pc < pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < vm->nmarks && vm->marks[lo].pc == pc ? &vm->marks[lo] : NULL;
}

/* What a run saw of one part of a condition. */
struct seen {
	int truth;                  /* 1, 0, or -1: not evaluated (an `and` or `or` before it decided) */
	const struct vm_mark *test; /* the value its `and` or `or` tested, or NULL */
	const struct vm_mark *cmp;  /* its comparison, when it is one and ran */
};

/* whole: the value of the whole condition, which a condition of one part
 * has no test of its own for. */
static struct seen part_seen(const struct vm *vm, const struct guard_part *gp, int whole)
{
	struct seen s = {-1, NULL, NULL};
	if (gp->test_pc == NO_CODE)
		s.truth = whole;
	else if ((s.test = mark_at(vm, gp->test_pc)))
		s.truth = s.test->truth;
	if (s.truth >= 0 && gp->cmp_pc != NO_CODE && (s.cmp = mark_at(vm, gp->cmp_pc)))
		s.truth = s.cmp->truth;
	return s;
}

/* One side of a comparison: its text, its value, and whether it is a
 * literal (which says its value itself). */
struct side {
	struct buf text, value;
	int literal;
};

static void side_init(struct engine *e, struct loc loc, const struct val *v, struct side *s)
{
	*s = (struct side){0};
	source_text(e, loc, &s->text);
	value_text(&s->value, v);
	if (!s->value.p) { /* nothing written: an empty text, never NULL */
		buf_addc(&s->value, 0);
		s->value.len = 0;
	}
	s->literal = strcmp(s->text.p, s->value.p) == 0;
}

static void side_free(struct side *s)
{
	buf_free(&s->text);
	buf_free(&s->value);
}

/* How far the left side of a comparison is from the right: numbers,
 * durations and times have a difference. */
enum margin_kind { M_NONE, M_NUMBER, M_DURATION, M_TIME };
struct margin {
	enum margin_kind kind;
	int sign;     /* of left - right */
	double num;   /* left - right, numbers */
	int64_t ns;   /* left - right, durations and times (held at the ends of int64) */
};

static struct margin margin_of(const struct val *a, const struct val *b)
{
	struct margin m = {M_NONE, 0, 0, 0};
	int na = a->kind == V_INT || a->kind == V_FLOAT, nb = b->kind == V_INT || b->kind == V_FLOAT;
	int64_t d;
	if (a->kind == V_INT && b->kind == V_INT && !__builtin_sub_overflow(a->u.i, b->u.i, &d)) {
		m = (struct margin){M_NUMBER, (d > 0) - (d < 0), (double)d, d};
	} else if (na && nb) {
		double x = a->kind == V_INT ? (double)a->u.i : a->u.f, y = b->kind == V_INT ? (double)b->u.i : b->u.f;
		if (isfinite(x - y)) {
			/* To the 15 digits of the larger side that a double holds:
			 * 100 - 99.9 is 0.1, not 0.09999999999999432. */
			double big = fabs(x) > fabs(y) ? fabs(x) : fabs(y);
			double unit = big > 0 ? pow(10, floor(log10(big)) - 14) : 0;
			double diff = unit > 0 && isfinite(unit) ? round((x - y) / unit) * unit : x - y;
			char t[40];
			snprintf(t, sizeof t, "%.15g", diff);
			m = (struct margin){M_NUMBER, (x > y) - (x < y), strtod(t, NULL), 0};
		}
	} else if ((a->kind == V_DUR || a->kind == V_TIME) && a->kind == b->kind) {
		d = time_since(a->u.i, b->u.i);
		m = (struct margin){a->kind == V_DUR ? M_DURATION : M_TIME, (d > 0) - (d < 0), 0, d};
	}
	return m;
}

/* |difference| as the language writes it: 5, 0.5, 1d18h46m35s. */
static void margin_amount(const struct margin *m, struct buf *b)
{
	if (m->kind == M_NUMBER) {
		if (m->num == floor(m->num) && fabs(m->num) < 9e15)
			buf_printf(b, "%lld", (long long)fabs(m->num));
		else
			json_write_num(b, fabs(m->num));
	} else {
		dur_format(b, m->ns == INT64_MIN ? INT64_MAX : m->ns < 0 ? -m->ns : m->ns);
	}
}

/* "5 short of 100", "1d18h46m35s short of SLOW 7d", "2h before o.promised
 * 2026-03-01T12:00:00Z": where the subject of a comparison (its left side,
 * unless that is the literal) stands against the other side. */
static void margin_words(const struct side *l, const struct side *r, const struct margin *m, struct buf *b)
{
	static const char *const words[2][3] = {{"short of", "equal to", "over"}, {"before", "the same time as", "after"}};
	int flip = l->literal && !r->literal;
	const struct side *other = flip ? l : r;
	int sign = flip ? -m->sign : m->sign;
	if (sign)
		margin_amount(m, b);
	buf_printf(b, "%s%s ", sign ? " " : "", words[m->kind == M_TIME][sign + 1]);
	if (!other->literal && strcmp(other->text.p, "the value") != 0)
		buf_printf(b, "%s ", other->text.p);
	buf_adds(b, other->value.p ? other->value.p : "");
}

static const char *const op_text[] = {[OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<",
				      [OP_LE] = "<=", [OP_GT] = ">",  [OP_GE] = ">="};

/* The sides of a comparison that ran, told after "EXPR is false": each
 * side's value (a literal says it itself) or, when the part counts
 * against the firing and the sides have a difference, how far the
 * subject is from the other side. */
static void comparison_text(struct engine *e, const struct guard_part *gp, const struct vm_mark *mk, int against,
			    struct buf *b)
{
	struct side l, r;
	side_init(e, gp->left, &mk->a, &l);
	side_init(e, gp->right, &mk->b, &r);
	struct margin m = margin_of(&mk->a, &mk->b);
	int equality = gp->op == OP_EQ || gp->op == OP_NE;
	if (against && m.kind != M_NONE && !(m.sign == 0 && equality)) {
		const struct side *subject = l.literal && !r.literal ? &r : &l;
		buf_adds(b, ": ");
		if (!subject->literal)
			buf_printf(b, "%s is %s, ", subject->text.p, subject->value.p);
		margin_words(&l, &r, &m, b);
	} else {
		const char *sep = ": ";
		for (const struct side *s = &l; s; s = s == &l ? &r : NULL) {
			if (s->literal)
				continue;
			buf_printf(b, "%s%s is %s", sep, s->text.p, s->value.p);
			sep = ", ";
		}
	}
	side_free(&l);
	side_free(&r);
}

static void side_json(struct engine *e, struct loc loc, const struct val *v, struct buf *j)
{
	struct buf t = {0};
	source_text(e, loc, &t);
	buf_adds(j, "{\"expr\":");
	json_write_str(j, t.p, t.len);
	buf_printf(j, ",\"type\":\"%s\",\"value\":", val_kind_name(v));
	value_json(j, v);
	buf_clear(&t);
	val_render_text(&t, v);
	buf_adds(j, ",\"text\":");
	json_write_str(j, t.p ? t.p : "", t.len);
	buf_addc(j, '}');
	buf_free(&t);
}

/* {"expr","evaluated","value","op","left","right","difference","margin",
 * "unit","margin_text"}: the last four when the sides have a difference
 * (left - right; in seconds for durations and times). */
static void part_json(struct engine *e, const struct guard_part *gp, const struct seen *s, struct buf *j)
{
	struct buf t = {0};
	source_text(e, gp->expr, &t);
	buf_adds(j, "{\"expr\":");
	json_write_str(j, t.p, t.len);
	buf_printf(j, ",\"evaluated\":%s", s->truth >= 0 ? "true" : "false");
	if (s->truth >= 0)
		buf_printf(j, ",\"value\":%s", s->truth ? "true" : "false");
	if (gp->op)
		jstr(j, "op", op_text[gp->op]);
	if (s->cmp) {
		jkey(j, "left");
		side_json(e, gp->left, &s->cmp->a, j);
		jkey(j, "right");
		side_json(e, gp->right, &s->cmp->b, j);
		struct margin m = margin_of(&s->cmp->a, &s->cmp->b);
		if (m.kind != M_NONE) {
			jkey(j, "difference");
			if (m.kind == M_NUMBER)
				json_write_num(j, m.num);
			else
				seconds_json(j, m.ns);
			jkey(j, "margin");
			if (m.kind == M_NUMBER)
				json_write_num(j, fabs(m.num));
			else
				seconds_json(j, m.ns == INT64_MIN ? INT64_MAX : m.ns < 0 ? -m.ns : m.ns);
			jstr(j, "unit", m.kind == M_NUMBER ? "number" : "seconds");
			struct side l, r;
			side_init(e, gp->left, &s->cmp->a, &l);
			side_init(e, gp->right, &s->cmp->b, &r);
			buf_clear(&t);
			margin_words(&l, &r, &m, &t);
			jstr(j, "margin_text", t.p);
			side_free(&l);
			side_free(&r);
		}
	}
	buf_addc(j, '}');
	buf_free(&t);
}

/* A part that ran, after "; ": "o.total > 100 is true: o.total is 120". */
static void part_text(struct engine *e, const struct guard_part *gp, const struct seen *s, int whole, struct buf *b)
{
	source_text(e, gp->expr, b);
	if (s->test && !s->cmp && s->test->a.kind != V_BOOL) {
		buf_adds(b, " is ");
		value_text(b, &s->test->a);
		buf_adds(b, s->truth ? ", so true" : ", so false");
		return;
	}
	buf_adds(b, s->truth ? " is true" : " is false");
	if (s->cmp)
		comparison_text(e, gp, s->cmp, s->truth == whole, b);
}

/* Parts from..to-1 that were not evaluated, named (a few) or counted. */
static void unevaluated_text(struct engine *e, const struct guard_info *g, int from, int to, struct buf *b)
{
	if (to - from > 3) {
		buf_printf(b, "the next %d parts were not evaluated", to - from);
		return;
	}
	for (int i = from; i < to; i++) {
		buf_adds(b, i == from ? "" : i == to - 1 ? " and " : ", ");
		source_text(e, g->parts[i].expr, b);
	}
	buf_adds(b, to - from == 1 ? " was not evaluated" : " were not evaluated");
}

/* A condition (kind: "when", "unless", "where") whose value was whole,
 * told after the words before it: "EXPR is false: PART; PART". */
static void condition_story(struct engine *e, const struct guard_info *g, const char *kind, int whole, struct story *s)
{
	const struct vm *vm = e->vm;
	source_text(e, g->expr, &s->text);
	buf_adds(&s->text, whole ? " is true" : " is false");
	struct buf *j = &s->json;
	buf_printf(j, ",\"condition\":{\"kind\":\"%s\"", kind);
	struct buf t = {0};
	diag_where(e->diag, &t, g->expr);
	jstr(j, "at", t.p);
	buf_clear(&t);
	source_text(e, g->expr, &t);
	jstr(j, "expr", t.p);
	buf_printf(j, ",\"value\":%s,\"parts\":[", whole ? "true" : "false");
	buf_free(&t);
	struct seen *seen = mem_alloc(sizeof *seen * (size_t)(g->nparts + 1));
	for (int i = 0; i < g->nparts; i++) {
		seen[i] = part_seen(vm, &g->parts[i], whole);
		buf_adds(j, i ? "," : "");
		part_json(e, &g->parts[i], &seen[i], j);
	}
	buf_adds(j, "]}");
	if (g->nparts == 1 && seen[0].cmp)
		comparison_text(e, &g->parts[0], seen[0].cmp, seen[0].truth == whole, &s->text);
	for (int i = 0; g->nparts > 1 && i < g->nparts; i++) {
		buf_adds(&s->text, i ? "; " : ": ");
		if (seen[i].truth >= 0) {
			part_text(e, &g->parts[i], &seen[i], whole, &s->text);
			continue;
		}
		int to = i + 1;
		while (to < g->nparts && seen[to].truth < 0)
			to++;
		unevaluated_text(e, g, i, to, &s->text);
		i = to - 1;
	}
	mem_free(seen);
}

/* ---- dedupe keys ---- */

/* The table's key: the rule, the customer and the engine's key text. */
static void fired_key(struct explain *x, int rule, uint32_t cust, const struct val *key)
{
	struct buf k = {0};
	engine_key_text(&k, key);
	buf_clear(&x->tmp);
	buf_add(&x->tmp, &rule, sizeof rule);
	buf_add(&x->tmp, &cust, sizeof cust);
	buf_add(&x->tmp, k.p, k.len);
	buf_free(&k);
}

/* The key of the rule's `once`, as its ONCE instruction saw it. */
static const struct vm_mark *once_mark(const struct engine *e)
{
	const struct vm *vm = e->vm;
	for (int i = vm->nmarks - 1; i >= 0; i--)
		if (INSN_OP(e->prog->code[vm->marks[i].pc]) == OPC_ONCE)
			return &vm->marks[i];
	return NULL;
}

/* A firing: its dedupe key fired first now, unless it did before. */
static void remember_key(struct engine *e, int rule, uint32_t cust, int64_t now)
{
	struct explain *x = explain_of(e);
	const struct vm_mark *m = e->prog->rules[rule].once ? once_mark(e) : NULL;
	if (!m)
		return;
	fired_key(x, rule, cust, &m->a);
	if (nametab_get(&x->fired_keys, x->tmp.p, x->tmp.len) >= 0)
		return;
	x->fired_key = mem_grow(x->fired_key, (size_t)x->nfired, sizeof *x->fired_key);
	x->fired_at = mem_grow(x->fired_at, (size_t)x->nfired, sizeof *x->fired_at);
	x->fired_key[x->nfired] = mem_strndup(x->tmp.p, x->tmp.len); /* the table borrows it */
	x->fired_at[x->nfired] = now;
	nametab_put(&x->fired_keys, x->fired_key[x->nfired], x->tmp.len, x->nfired);
	x->nfired++;
}

/* "once per f.session: it already fired for "s9" at T" (the time when
 * the explain saw that firing: not in a `:watch` begun after it). */
static void dedupe_story(struct engine *e, int rule, uint32_t cust, struct story *s)
{
	struct explain *x = explain_of(e);
	const struct rule_info *ri = &e->prog->rules[rule];
	const struct vm_mark *m = mark_at(e->vm, e->vm->stop_pc);
	struct buf *j = &s->json;
	buf_adds(&s->text, "not fired: once");
	buf_adds(j, ",\"dedupe\":{\"key_expr\":");
	if (ri->once_keyed) {
		struct buf t = {0};
		source_text(e, ri->once_key, &t);
		buf_printf(&s->text, " per %s", t.p);
		json_write_str(j, t.p, t.len);
		buf_free(&t);
	} else {
		buf_adds(j, "null");
	}
	buf_adds(&s->text, ": it already fired for ");
	jkey(j, "key");
	if (m && ri->once_keyed) {
		value_text(&s->text, &m->a);
		value_json(j, &m->a);
	} else {
		buf_adds(&s->text, ri->once_keyed ? "this key" : "this customer");
		buf_adds(j, "null");
	}
	int at = -1;
	if (m) {
		fired_key(x, rule, cust, &m->a);
		at = nametab_get(&x->fired_keys, x->tmp.p, x->tmp.len);
	}
	if (at >= 0) {
		buf_adds(&s->text, " at ");
		time_format(&s->text, x->fired_at[at]);
		jtime(j, "first_fired", x->fired_at[at]);
	} else {
		buf_adds(j, ",\"first_fired\":null");
	}
	buf_addc(j, '}');
}

/* ---- handlers ---- */

/* What stopped a handler, from where the VM stopped; the outcome's word. */
static const char *stop_reason(struct engine *e, uint32_t cust, struct story *s)
{
	const struct prog *p = e->prog;
	struct vm *vm = e->vm;
	uint32_t w = p->code[vm->stop_pc];
	const struct rule_info *ri = &p->rules[vm->rule];
	switch (INSN_OP(w)) {
	case OPC_GUARD: {
		const struct guard_info *g = &p->guards[INSN_A(w)];
		struct buf where = {0};
		diag_where(e->diag, &where, g->expr);
		buf_printf(&s->text, "not fired: the guard at %s, ", where.p);
		buf_free(&where);
		condition_story(e, g, g->unless ? "unless" : "when", g->unless, s);
		return "guard";
	}
	case OPC_ONCE:
		dedupe_story(e, vm->rule, cust, s);
		return "dedupe";
	case OPC_LIMIT: {
		struct buf d = {0};
		dur_format(&d, ri->limit_per);
		buf_printf(&s->text, "not fired: limit %lld per customer per %s reached", (long long)ri->limit_n, d.p);
		buf_printf(&s->json, ",\"limit\":{\"n\":%lld", (long long)ri->limit_n);
		jseconds(&s->json, "per_seconds", ri->limit_per);
		buf_addc(&s->json, '}');
		buf_free(&d);
		return "limit";
	}
	case OPC_BUDGET:
		buf_printf(&s->text, "not fired: budget %s is spent", p->budgets[INSN_A(w)].name);
		jstr(&s->json, "budget", p->budgets[INSN_A(w)].name);
		return "budget";
	default:
		buf_adds(&s->text, "not fired");
		return "not_fired";
	}
}

static void explain_handler(void *ud, struct engine *e, int rule, const struct event *cause, int64_t now, int r,
			    int held_out)
{
	(void)ud; /* explain_of(e) is ud, for what this calls */
	struct story s = {0};
	uint32_t cust = (uint32_t)(e->vm->cust - e->custs);
	const char *outcome;
	if (cause && now != cause->time) {
		buf_adds(&s.text, "at its deadline: "); /* an absence, fired by its timer */
		buf_adds(&s.json, ",\"at_deadline\":true");
	}
	if (r == VM_FIRED) {
		buf_adds(&s.text, held_out ? "fired, but held out: the customer is in the holdout group" : "fired");
		outcome = held_out ? "held_out" : "fired";
		remember_key(e, rule, cust, now);
	} else if (r == VM_ERROR) {
		buf_printf(&s.text, "stopped by a runtime error: %s", e->vm->err.u.s);
		jstr(&s.json, "error", e->vm->err.u.s);
		outcome = "error";
	} else {
		outcome = stop_reason(e, cust, &s);
	}
	add_note(e, rule, cust, now, cause, r == VM_FIRED && !held_out, outcome, &s);
}

/* ---- patterns ---- */

/* A step waits past its deadline for the event that came too late. */
static void watch_overdue(struct engine *e, const struct instance *in, int note, int absence)
{
	struct explain *x = explain_of(e);
	if (x->noverdue == x->capoverdue) {
		x->capoverdue = x->capoverdue ? x->capoverdue * 2 : 8;
		x->overdue = mem_realloc(x->overdue, sizeof *x->overdue * (size_t)x->capoverdue);
	}
	int at = x->noverdue++;
	struct overdue *o = &x->overdue[at];
	*o = (struct overdue){in->rule, in->step, in->cust, in->timer.deadline, NULL, note, absence, -1};
	o->bound = mem_alloc(sizeof *o->bound * (size_t)(in->step + 1));
	for (int i = 0; i < in->step; i++)
		o->bound[i] = event_clone(in->bound[i], e->prog->nslots);
	if (in->cust >= x->nheads) {
		uint32_t n = in->cust + 1 > 2 * x->nheads ? in->cust + 1 : 2 * x->nheads;
		x->overdue_head = mem_realloc(x->overdue_head, sizeof *x->overdue_head * n);
		for (uint32_t i = x->nheads; i < n; i++)
			x->overdue_head[i] = -1;
		x->nheads = n;
	}
	int *link = &x->overdue_head[in->cust], open = 0;
	while (*link >= 0) {
		link = &x->overdue[*link].next; /* oldest first */
		open++;
	}
	*link = at;
	if (open == OVERDUE_MAX) { /* every event of the customer looks at them all: let the oldest go */
		int oldest = x->overdue_head[in->cust];
		x->overdue_head[in->cust] = x->overdue[oldest].next;
		overdue_close(&x->overdue[oldest]);
	}
}

/* The first B that comes later is told with how late it came. */
static void explain_absence_fired(void *ud, struct engine *e, const struct instance *in)
{
	struct explain *x = ud;
	/* Its firing's note: the latest of the rule (the enter and exit
	 * rules of a `move` it made may have come after it). */
	int note = -1;
	for (int i = x->n - 1; !x->stream && i >= 0 && note < 0; i--)
		if (x->notes[i].rule == in->rule)
			note = i;
	watch_overdue(e, in, note, 1);
}

static void explain_pattern(void *ud, struct engine *e, int rule, enum engine_note what, const struct instance *in,
			    const struct event *ev, int64_t at)
{
	struct explain *x = ud;
	const struct prog *p = e->prog;
	const struct rule_info *ri = &p->rules[rule];
	int step = in->step < ri->nsteps ? in->step : ri->nsteps - 1;
	const struct pattern_step *st = &ri->steps[step];
	struct story s = {0};
	struct buf d = {0}, t = {0}, *b = &s.text, *j = &s.json;
	const char *outcome = "pending";
	dur_format(&d, st->within);
	time_format(&t, in->timer.deadline);
	switch (what) {
	case NOTE_STARTED:
		outcome = "started";
		buf_adds(b, st->negated ? "started: fires at " : "started: waiting for ");
		if (st->negated) {
			buf_printf(b, "%s unless ", t.p);
			step_desc(p, st, b);
			buf_adds(b, " comes first");
		} else {
			step_desc(p, st, b);
			buf_printf(b, " until %s (within %s)", t.p, d.p);
		}
		buf_printf(j, ",\"absence\":%s", st->negated ? "true" : "false");
		break;
	case NOTE_STEP:
		outcome = "step";
		buf_printf(b, "step %d matched; now waiting for ", in->step - 1);
		step_desc(p, st, b);
		buf_printf(b, " until %s", t.p);
		buf_printf(j, ",\"matched_step\":%d", in->step - 1);
		break;
	case NOTE_WHERE_FALSE:
		outcome = "near_miss";
		buf_printf(b, "near miss at step %d: ", in->step);
		if (st->where_guard >= 0)
			condition_story(e, &p->guards[st->where_guard], "where", 0, &s);
		else
			buf_adds(b, "its condition is false");
		break;
	case NOTE_CANCELLED:
		outcome = "cancelled";
		buf_adds(b, "not fired: it came in time, so there is no absence");
		break;
	case NOTE_EXPIRED:
		outcome = "expired";
		buf_printf(b, "not fired: no ");
		step_desc(p, st, b);
		buf_printf(b, " by the deadline %s (within %s)", t.p, d.p);
		break;
	case NOTE_PENDING:
		if (x->in_test) {
			struct buf left = {0};
			dur_format(&left, time_since(in->timer.deadline, x->test_clock));
			if (st->negated) {
				buf_printf(b, "still pending at this step: fires at %s, %s after the test's clock (advance %s fires it)",
					   t.p, left.p, left.p);
			} else {
				buf_adds(b, "still pending at this step: waits for ");
				step_desc(p, st, b);
				buf_printf(b, " until %s", t.p);
			}
			buf_free(&left);
			break;
		}
		buf_printf(b, "still pending at the end of input: %s ", st->negated ? "fires at" : "waits until");
		buf_adds(b, t.p);
		buf_adds(b, ", after the last event (--flush fires due timers)");
		break;
	}
	buf_printf(j, ",\"step\":%d", step);
	step_types_json(p, st, j);
	jtime(j, "deadline", in->timer.deadline);
	jseconds(j, "within_seconds", st->within);
	add_note(e, rule, in->cust, at, ev, 0, outcome, &s);
	if (what == NOTE_EXPIRED)
		watch_overdue(e, in, -1, 0);
	buf_free(&d);
	buf_free(&t);
}

/* "agent_reply at log.jsonl:4 came 2m after the 5m deadline". */
static void tell_late(struct engine *e, const struct overdue *o, const struct event *ev)
{
	struct explain *x = explain_of(e);
	const struct pattern_step *st = &e->prog->rules[o->rule].steps[o->step];
	int64_t late = time_since(ev->time, o->deadline);
	struct story s = {0};
	struct buf t = {0}, within = {0};
	dur_format(&t, late);
	dur_format(&within, st->within);
	if (o->absence) {
		type_text(&s.text, ev);
		buf_printf(&s.text, " at %s:%llu came %s after the %s deadline", file_of(e, ev),
			   (unsigned long long)ev->line, t.p, within.p);
		buf_adds(&s.json, ",\"late\":{\"event\":");
		struct buf label = {0};
		type_text(&label, ev);
		buf_printf(&label, " (%s:%llu)", file_of(e, ev), (unsigned long long)ev->line);
		json_write_str(&s.json, label.p, label.len);
		buf_free(&label);
		event_members(e, ev, &s.json);
		jseconds(&s.json, "after_deadline_seconds", late);
		jseconds(&s.json, "within_seconds", st->within);
		buf_addc(&s.json, '}');
		if (o->note >= 0) {
			/* The firing's own note says it: "fired; agent_reply ... came 2m after". */
			struct note *n = &x->notes[o->note];
			buf_printf(&n->story.text, "; %s", s.text.p);
			buf_add(&n->story.json, s.json.p, s.json.len);
			story_free(&s);
		} else {
			buf_adds(&s.text, " (the absence had fired)");
			add_note(e, o->rule, o->cust, ev->time, ev, 0, "late", &s);
		}
	} else {
		buf_printf(&s.text, "the nearest candidate for step %d came %s after the %s deadline", o->step, t.p, within.p);
		buf_printf(&s.json, ",\"step\":%d", o->step);
		jseconds(&s.json, "after_deadline_seconds", late);
		jseconds(&s.json, "within_seconds", st->within);
		add_note(e, o->rule, o->cust, ev->time, ev, 0, "late_candidate", &s);
	}
	buf_free(&t);
	buf_free(&within);
}

/* Every event of the customer: is it what an overdue step waited for? */
static void explain_event(void *ud, struct engine *e, const struct event *ev)
{
	struct explain *x = ud;
	if (ev->cust >= x->nheads)
		return;
	int *link = &x->overdue_head[ev->cust];
	while (*link >= 0) {
		int at = *link;
		struct overdue *o = &x->overdue[at];
		if (ev->time <= o->deadline || !pattern_would_match(e, o->rule, o->step, o->bound, o->cust, ev)) {
			link = &o->next;
			continue;
		}
		*link = o->next;
		tell_late(e, o, ev);
		overdue_close(&x->overdue[at]);
	}
}

static void explain_repeat(void *ud, struct engine *e, int rule, const struct event *ev, uint32_t inside)
{
	(void)ud;
	const struct rule_info *ri = &e->prog->rules[rule];
	struct story s = {0};
	struct buf d = {0};
	dur_format(&d, ri->repeat_within);
	if (inside < (uint32_t)ri->repeat_n)
		buf_printf(&s.text, "counted: %u of %lld within %s (it fires on the %lld%s)", inside, (long long)ri->repeat_n,
			   d.p, (long long)ri->repeat_n,
			   ri->repeat_n % 10 == 1 && ri->repeat_n % 100 != 11   ? "st"
			   : ri->repeat_n % 10 == 2 && ri->repeat_n % 100 != 12 ? "nd"
			   : ri->repeat_n % 10 == 3 && ri->repeat_n % 100 != 13 ? "rd"
										: "th");
	else
		buf_printf(&s.text, "not fired: %u within %s, more than %lld: it fires when the count reaches %lld", inside,
			   d.p, (long long)ri->repeat_n, (long long)ri->repeat_n);
	buf_printf(&s.json, ",\"count\":%u,\"of\":%lld", inside, (long long)ri->repeat_n);
	jseconds(&s.json, "within_seconds", ri->repeat_within);
	add_note(e, rule, ev->cust, ev->time, ev, 0, inside < (uint32_t)ri->repeat_n ? "counted" : "over_count", &s);
	buf_free(&d);
}

/* ---- the customer asked about ---- */

/* " (the customers are 'a' and 'b')", for a key that is none of them. */
static void some_customers(const struct engine *e, struct buf *b)
{
	uint32_t show = e->ncusts < 3 ? e->ncusts : 3;
	if (e->ncusts == 1)
		buf_adds(b, " (the only customer is ");
	else if (e->ncusts == show)
		buf_adds(b, " (the customers are ");
	else
		buf_printf(b, " (the %u customers include ", e->ncusts);
	for (uint32_t i = 0; i < show; i++)
		buf_printf(b, "%s'%.*s'", i == 0 ? "" : i == show - 1 && e->ncusts == show ? " and " : ", ",
			   (int)e->custs[i].keylen, cust_key(&e->custs[i]));
	buf_adds(b, e->ncusts > show ? ", ...)" : ")");
}

int explain_check_customer(const struct explain *x, const struct engine *e)
{
	if (!x || !x->customer)
		return 0;
	size_t n = strlen(x->customer);
	for (uint32_t c = 0; c < e->ncusts; c++)
		if (e->custs[c].keylen == n && memcmp(cust_key(&e->custs[c]), x->customer, n) == 0)
			return 0;
	struct suggest_list sl;
	suggest_list_init(&sl, x->customer, n);
	for (uint32_t c = 0; c < e->ncusts; c++)
		suggest_list_try(&sl, cust_key(&e->custs[c]), e->custs[c].keylen);
	struct buf hint = {0};
	if (sl.n)
		suggest_list_hint(&sl, &hint);
	else if (e->ncusts)
		some_customers(e, &hint);
	else
		buf_adds(&hint, " (no event was read)");
	diag_plain(x->d, "error: customer '%s' has no events%s", x->customer, hint.p);
	buf_free(&hint);
	return -1;
}

/* ---- rendering ---- */

static int cmp_notes(const void *pa, const void *pb)
{
	const struct note *a = pa, *b = pb;
	if (a->rule != b->rule)
		return a->rule < b->rule ? -1 : 1;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* {"rule","at","outcome","fired","event", the event's type, file, line
 * and time, the details, "why"}. */
static void note_json(const struct prog *p, const struct note *n, struct buf *out)
{
	buf_adds(out, "{\"rule\":");
	json_write_str(out, p->rules[n->rule].name, strlen(p->rules[n->rule].name));
	jtime(out, "at", n->at);
	jstr(out, "outcome", n->outcome);
	buf_printf(out, ",\"fired\":%s,\"event\":", n->fired ? "true" : "false");
	if (n->event) {
		json_write_str(out, n->event, strlen(n->event));
		buf_adds(out, n->event_json);
	} else {
		buf_adds(out, "null");
	}
	if (n->story.json.len)
		buf_add(out, n->story.json.p, n->story.json.len);
	jstr(out, "why", n->story.text.p ? n->story.text.p : "");
	buf_addc(out, '}');
}

/* The notes, rule by rule: as JSON, or as text with each line after the
 * customer's indented by indent (the customer's line only with header). */
static void render(struct explain *x, const struct engine *e, struct buf *out, int json, const char *indent,
		   int header)
{
	const struct prog *p = e->prog;
	if (x->n) /* (qsort of NULL is undefined, even of nothing) */
		qsort(x->notes, (size_t)x->n, sizeof *x->notes, cmp_notes);
	for (int i = 0; i < x->noverdue; i++)
		x->overdue[i].note = -1; /* the notes moved: a late event now has a note of its own */
	if (json) {
		buf_adds(out, "{\"customer\":");
		if (x->customer)
			json_write_str(out, x->customer, strlen(x->customer));
		else
			buf_adds(out, "null");
		buf_adds(out, ",\"rules\":{");
	} else if (header) {
		buf_printf(out, "customer %s:\n", x->customer ? x->customer : "(all)");
	}
	int first_rule = 1;
	int next = 0; /* the notes are sorted by rule: one pass over them */
	for (int r = 0; r < p->nrules; r++) {
		while (next < x->n && x->notes[next].rule < r)
			next++;
		if ((x->rule >= 0 && r != x->rule) || (x->only && !x->only[r]))
			continue;
		if (json) {
			buf_adds(out, first_rule ? "" : ",");
			json_write_str(out, p->rules[r].name, strlen(p->rules[r].name));
			buf_adds(out, ":[");
		} else {
			buf_printf(out, "%srule %s:\n", indent, p->rules[r].name);
		}
		first_rule = 0;
		int any = 0;
		for (; next < x->n && x->notes[next].rule == r; next++) {
			const struct note *n = &x->notes[next];
			if (json) {
				buf_adds(out, any ? "," : "");
				note_json(p, n, out);
			} else {
				struct buf t = {0};
				time_format(&t, n->at);
				buf_printf(out, "%s  %s  %s: %s\n", indent, t.p, n->event ? n->event : "timer",
					   n->story.text.p ? n->story.text.p : "");
				buf_free(&t);
			}
			any = 1;
		}
		if (json)
			buf_addc(out, ']');
		else if (!any)
			buf_printf(out, "%s  no event of this customer reached it\n", indent);
	}
	if (json)
		buf_adds(out, "}}\n");
}

void explain_render(struct explain *x, const struct engine *e, struct buf *out, int json)
{
	render(x, e, out, json, "", 1);
}

void explain_render_indented(struct explain *x, const struct engine *e, struct buf *out, const char *indent)
{
	render(x, e, out, 0, indent, 0);
}
