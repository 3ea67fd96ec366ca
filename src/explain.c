/* explain.c: `cxr explain`, why a rule did or did not fire for a customer.
 *
 * The run is the ordinary one; for the one customer asked about, the
 * engine reports every handler it ran and every step a pattern took, and
 * this file turns them into notes: fired, or stopped by which guard with
 * the values on both sides of its comparison, by a dedupe key, a cap, a
 * budget, a holdout; a pattern's near misses (a candidate whose `where`
 * was false, one that came after the deadline), and what was still
 * pending at the end.
 */
#include <string.h>

#include "engine.h"
#include "json.h"
#include "timeutil.h"
#include "vm.h"

struct note {
	int rule;
	int64_t at;
	uint64_t seq;
	int fired;
	char *event; /* "type (file:line)" or NULL */
	char *text;
};

/* A pattern that expired: the next event of the missing step's types is
 * its nearest candidate, however late. */
struct missed {
	int rule, step;
	int64_t deadline;
	int open;
};

struct explain {
	const struct prog *p;
	struct diag *d;
	char *customer;
	int rule;           /* -1: every rule */
	struct note *notes;
	int n, cap;
	uint64_t seq;
	struct missed *missed;
	int nmissed, capmissed;
	struct buf tmp;
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

struct explain *explain_new(const struct prog *p, struct diag *d, const char *customer, int rule)
{
	struct explain *x = mem_alloc(sizeof *x);
	x->p = p;
	x->d = d;
	x->customer = customer ? mem_strndup(customer, strlen(customer)) : NULL; /* NULL: everyone */
	x->rule = rule;
	return x;
}

void explain_free(struct explain *x)
{
	if (!x)
		return;
	for (int i = 0; i < x->n; i++) {
		mem_free(x->notes[i].event);
		mem_free(x->notes[i].text);
	}
	mem_free(x->notes);
	mem_free(x->missed);
	mem_free(x->only);
	mem_free(x->customer);
	buf_free(&x->tmp);
	mem_free(x);
}

/* Is this the customer and rule being explained? */
int explain_wants(const struct engine *e, uint32_t cust, int rule)
{
	const struct explain *x = e->explain;
	if (!x || (x->rule >= 0 && rule >= 0 && rule != x->rule) || (x->only && rule >= 0 && !x->only[rule]))
		return 0;
	const struct customer *c = &e->custs[cust];
	return !x->customer || (c->keylen == strlen(x->customer) && memcmp(cust_key(c), x->customer, c->keylen) == 0);
}

static void add_note(struct engine *e, int rule, int64_t at, const struct event *ev, int fired, const char *text)
{
	struct explain *x = e->explain;
	if (x->stream) {
		/* `:watch`: say it now, with the customer, instead of keeping it. */
		struct buf b = {0};
		buf_adds(&b, "  ");
		time_format(&b, at);
		buf_printf(&b, "  %s", e->prog->rules[rule].name);
		if (ev)
			buf_printf(&b, " [%.*s]", (int)e->custs[ev->cust].keylen, cust_key(&e->custs[ev->cust]));
		buf_printf(&b, ": %s\n", text);
		x->stream(x->stream_ud, b.p, b.len);
		buf_free(&b);
		return;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 32;
		x->notes = mem_realloc(x->notes, sizeof *x->notes * (size_t)x->cap);
	}
	struct note *n = &x->notes[x->n++];
	n->rule = rule;
	n->at = at;
	n->seq = x->seq++;
	n->fired = fired;
	n->event = NULL;
	if (ev) {
		struct buf b = {0};
		if (ev->type_name.kind == V_STR)
			buf_add(&b, ev->type_name.u.s, ev->type_name.len);
		else
			buf_adds(&b, "(no type)");
		buf_printf(&b, " (%s:%llu)", ev->file < e->nfiles ? e->files[ev->file] : "-", (unsigned long long)ev->line);
		n->event = b.p;
	}
	n->text = mem_strndup(text, strlen(text));
}

/* The source text of a location (on one line), for "`f.x - f.y` is 9m". */
static void source_text(struct diag *d, struct loc loc, struct buf *out)
{
	size_t n;
	const char *line = loc.first_line == loc.last_line ? diag_line(d, loc.file, loc.first_line, &n) : NULL;
	size_t from = line ? diag_column_offset(line, n, loc.first_column) : 0;
	size_t to = line ? diag_column_offset(line, n, loc.last_column + 1) : 0;
	if (!line || from >= to) {
		buf_adds(out, "the value");
		return;
	}
	buf_add(out, line + from, to - from);
}

static void value_text(struct buf *b, const struct val *v)
{
	if (v->kind == V_STR && !(v->flags & VF_JSON))
		json_write_str(b, v->u.s, v->len);
	else
		val_render_text(b, v);
}

/* "f.delay is 9"; nothing for a literal, which says its value itself. */
static void side(struct engine *e, struct loc loc, const struct val *v, struct buf *b)
{
	struct buf text = {0}, value = {0};
	source_text(e->diag, loc, &text);
	value_text(&value, v);
	if (!text.p || !value.p || strcmp(text.p, value.p) != 0)
		buf_printf(b, "%s is %s", text.p ? text.p : "", value.p ? value.p : "");
	buf_free(&text);
	buf_free(&value);
}

/* A false condition and, for a comparison, the values on both sides. */
static void condition_text(struct engine *e, const struct guard_info *g, struct buf *b)
{
	struct vm *vm = e->vm;
	source_text(e->diag, g->expr, b);
	buf_adds(b, g->unless ? " is true" : " is false");
	for (int i = vm->ncmps - 1; i >= 0 && g->cmp_pc != NO_CODE; i--) {
		if (vm->cmps[i].pc != g->cmp_pc)
			continue;
		buf_adds(b, ": ");
		side(e, g->left, &vm->cmps[i].a, b);
		struct buf right = {0};
		side(e, g->right, &vm->cmps[i].b, &right);
		if (right.len) {
			buf_adds(b, ", ");
			buf_add(b, right.p, right.len);
		}
		buf_free(&right);
		return;
	}
}

/* What stopped a handler, from where the VM stopped. */
static void stop_reason(struct engine *e, struct buf *b)
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
		buf_printf(b, "not fired: the guard at %s, ", where.p);
		buf_free(&where);
		condition_text(e, g, b);
		break;
	}
	case OPC_ONCE:
		buf_adds(b, "not fired: once: it already fired for this dedupe key");
		break;
	case OPC_LIMIT: {
		struct buf d = {0};
		dur_format(&d, ri->limit_per);
		buf_printf(b, "not fired: limit %lld per customer per %s reached", (long long)ri->limit_n, d.p);
		buf_free(&d);
		break;
	}
	case OPC_BUDGET:
		buf_printf(b, "not fired: budget %s is spent", p->budgets[INSN_A(w)].name);
		break;
	default:
		buf_adds(b, "not fired");
	}
}

void explain_handler(struct engine *e, int rule, const struct event *cause, int64_t now, int r, int held_out)
{
	struct buf b = {0};
	if (cause && now != cause->time)
		buf_adds(&b, "at its deadline: "); /* an absence, fired by its timer */
	if (r == VM_FIRED) {
		buf_adds(&b, held_out ? "fired, but held out: the customer is in the holdout group" : "fired");
	} else if (r == VM_ERROR) {
		buf_printf(&b, "stopped by a runtime error: %s", e->vm->err.u.s);
	} else {
		stop_reason(e, &b);
	}
	add_note(e, rule, now, cause, r == VM_FIRED && !held_out, b.p);
	buf_free(&b);
}

static void step_desc(const struct prog *p, const struct pattern_step *st, struct buf *b)
{
	for (int i = 0; i < st->ntypes; i++)
		buf_printf(b, "%s%s", i ? " | " : "", p->types[st->types[i]].name);
}

void explain_pattern(struct engine *e, int rule, enum explain_what what, const struct instance *in,
		     const struct event *ev, int64_t at)
{
	const struct prog *p = e->prog;
	const struct rule_info *ri = &p->rules[rule];
	const struct pattern_step *st = &ri->steps[in->step < ri->nsteps ? in->step : ri->nsteps - 1];
	struct buf b = {0}, d = {0}, t = {0};
	dur_format(&d, st->within);
	time_format(&t, in->timer.deadline);
	switch (what) {
	case EX_STARTED:
		buf_adds(&b, st->negated ? "started: fires at " : "started: waiting for ");
		if (st->negated) {
			buf_printf(&b, "%s unless ", t.p);
			step_desc(p, st, &b);
			buf_adds(&b, " comes first");
		} else {
			step_desc(p, st, &b);
			buf_printf(&b, " until %s (within %s)", t.p, d.p);
		}
		break;
	case EX_STEP:
		buf_printf(&b, "step %d matched; now waiting for ", in->step - 1);
		step_desc(p, st, &b);
		buf_printf(&b, " until %s", t.p);
		break;
	case EX_WHERE_FALSE:
		buf_printf(&b, "near miss at step %d: ", in->step);
		if (st->where_guard >= 0)
			condition_text(e, &p->guards[st->where_guard], &b);
		else
			buf_adds(&b, "its condition is false");
		break;
	case EX_CANCELLED:
		buf_adds(&b, "not fired: it came in time, so there is no absence");
		break;
	case EX_EXPIRED:
		buf_printf(&b, "not fired: no ");
		step_desc(p, st, &b);
		buf_printf(&b, " by the deadline %s (within %s)", t.p, d.p);
		break;
	case EX_PENDING:
		if (e->explain->in_test) {
			struct buf left = {0};
			dur_format(&left, time_since(in->timer.deadline, e->explain->test_clock));
			if (st->negated) {
				buf_printf(&b, "still pending at this step: fires at %s, %s after the test's clock (advance %s fires it)",
					   t.p, left.p, left.p);
			} else {
				buf_adds(&b, "still pending at this step: waits for ");
				step_desc(p, st, &b);
				buf_printf(&b, " until %s", t.p);
			}
			buf_free(&left);
			break;
		}
		buf_printf(&b, "still pending at the end of input: %s ", st->negated ? "fires at" : "waits until");
		buf_adds(&b, t.p);
		buf_adds(&b, ", after the last event (--flush fires due timers)");
		break;
	}
	add_note(e, rule, at, ev, 0, b.p);
	if (what == EX_EXPIRED) {
		struct explain *x = e->explain;
		if (x->nmissed == x->capmissed) {
			x->capmissed = x->capmissed ? x->capmissed * 2 : 8;
			x->missed = mem_realloc(x->missed, sizeof *x->missed * (size_t)x->capmissed);
		}
		x->missed[x->nmissed++] = (struct missed){rule, in->step, in->timer.deadline, 1};
	}
	buf_free(&b);
	buf_free(&d);
	buf_free(&t);
}

void explain_repeat(struct engine *e, int rule, const struct event *ev, uint32_t inside)
{
	const struct rule_info *ri = &e->prog->rules[rule];
	struct buf b = {0}, d = {0};
	dur_format(&d, ri->repeat_within);
	if (inside < (uint32_t)ri->repeat_n)
		buf_printf(&b, "counted: %u of %lld within %s (it fires on the %lld%s)", inside, (long long)ri->repeat_n,
			   d.p, (long long)ri->repeat_n,
			   ri->repeat_n % 10 == 1 && ri->repeat_n % 100 != 11   ? "st"
			   : ri->repeat_n % 10 == 2 && ri->repeat_n % 100 != 12 ? "nd"
			   : ri->repeat_n % 10 == 3 && ri->repeat_n % 100 != 13 ? "rd"
										: "th");
	else
		buf_printf(&b, "not fired: %u within %s, more than %lld: it fires when the count reaches %lld", inside, d.p,
			   (long long)ri->repeat_n, (long long)ri->repeat_n);
	add_note(e, rule, ev->time, ev, 0, b.p);
	buf_free(&b);
	buf_free(&d);
}

/* Every event of the customer: the nearest late candidate of an expired
 * pattern. */
void explain_event(struct engine *e, const struct event *ev)
{
	struct explain *x = e->explain;
	for (int i = 0; i < x->nmissed; i++) {
		struct missed *m = &x->missed[i];
		const struct pattern_step *st = &e->prog->rules[m->rule].steps[m->step];
		int match = 0;
		for (int k = 0; k < st->ntypes; k++)
			match |= st->types[k] == ev->type;
		if (!m->open || !match)
			continue;
		m->open = 0;
		struct buf b = {0}, late = {0};
		dur_format(&late, time_since(ev->time, m->deadline));
		buf_printf(&b, "the nearest candidate for step %d came %s after the deadline", m->step, late.p);
		add_note(e, m->rule, ev->time, ev, 0, b.p);
		buf_free(&b);
		buf_free(&late);
	}
}

static int cmp_notes(const void *pa, const void *pb)
{
	const struct note *a = pa, *b = pb;
	if (a->rule != b->rule)
		return a->rule < b->rule ? -1 : 1;
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The notes, rule by rule: as JSON, or as text with each line after the
 * customer's indented by indent (the customer's line only with header). */
static void render(struct engine *e, struct buf *out, int json, const char *indent, int header)
{
	struct explain *x = e->explain;
	const struct prog *p = e->prog;
	if (x->n) /* (qsort of NULL is undefined, even of nothing) */
		qsort(x->notes, (size_t)x->n, sizeof *x->notes, cmp_notes);
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
			struct buf t = {0};
			time_format(&t, n->at);
			if (json) {
				buf_adds(out, any ? "," : "");
				buf_printf(out, "{\"at\":\"%s\",\"event\":", t.p);
				if (n->event)
					json_write_str(out, n->event, strlen(n->event));
				else
					buf_adds(out, "null");
				buf_printf(out, ",\"fired\":%s,\"why\":", n->fired ? "true" : "false");
				json_write_str(out, n->text, strlen(n->text));
				buf_addc(out, '}');
			} else {
				buf_printf(out, "%s  %s  %s: %s\n", indent, t.p, n->event ? n->event : "timer", n->text);
			}
			buf_free(&t);
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

void explain_render(struct engine *e, struct buf *out, int json) { render(e, out, json, "", 1); }

void explain_render_indented(struct engine *e, struct buf *out, const char *indent) { render(e, out, 0, indent, 0); }
