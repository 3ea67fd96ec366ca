/* testrun.c: `cxr test`, the test blocks of a script.
 *
 * Each test runs on a fresh engine with a virtual clock: `given` feeds an
 * event at the clock's time (`at T` sets the clock, `after D` moves it),
 * `advance D` moves the clock and fires the timers due by then, `expect`
 * checks the responses so far.  A failure shows the step, what was
 * expected, what fired instead and the events given; a failed `expect
 * ACTION {fields}` also shows, field by field, the response nearest to
 * it, and when no rule emitted the action (or none left that no expect
 * matched before), why not: the test is played
 * again up to that step with the engine's explain (explain.c) on, for
 * the rules that emit it and the test's customer.
 */
#include <string.h>

#include "explain.h"
#include "inspect.h"

#include "engine/engine.h"
#include "io/ingest.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "vm/vm.h"

/* A test's clock starts here when no `given ... at` says otherwise. */
#define TEST_EPOCH 1767225600LL /* 2026-01-01T00:00:00Z */

struct response {
	char *text;  /* the JSON line */
	int used;    /* the line of the `expect` that matched it, or 0 */
};

struct test_run {
	const struct prog *p;
	struct engine *e;
	struct response *resp;
	int nresp, capresp;
	struct buf given;     /* the events given, for failure reports */
	struct buf why;       /* the failure of the current test */
	const char *customer; /* of the latest `given` */
	int replaying;        /* played again for explain: no event log */
};

static void capture(void *ud, const char *p, size_t n)
{
	struct test_run *t = ud;
	if (t->nresp == t->capresp) {
		t->capresp = t->capresp ? t->capresp * 2 : 16;
		t->resp = mem_realloc(t->resp, sizeof *t->resp * (size_t)t->capresp);
	}
	while (n && (p[n - 1] == '\n'))
		n--;
	t->resp[t->nresp].text = mem_strndup(p, n);
	t->resp[t->nresp].used = 0;
	t->nresp++;
}

static void to_engine(void *ud, const struct event *ev, const char *raw, size_t rawlen)
{
	(void)raw;
	(void)rawlen;
	struct event taken = *ev;
	store_event_customer(ud, &taken);
	engine_event(ud, &taken);
}

/* The member `key` of a response, rendered as JSON, or NULL. */
struct member_find {
	const char *key;
	struct buf *out;
	int found;
};

static void find_member(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct member_find *m = ud;
	if (strlen(m->key) == keylen && memcmp(m->key, key, keylen) == 0) {
		buf_clear(m->out);
		val_render_json(m->out, v);
		m->found = 1;
	}
}

static int response_field(const char *text, const char *key, struct buf *out, struct arena *a)
{
	struct member_find m = {key, out, 0};
	struct json_error err;
	if (json_scan_members(text, strlen(text), find_member, &m, a, &err) < 0)
		return 0;
	return m.found;
}

/* A member of a response that is a string, as it is (not as JSON). */
struct str_find {
	const char *key;
	struct buf *out;
};

static void find_str(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct str_find *m = ud;
	if (strlen(m->key) == keylen && memcmp(m->key, key, keylen) == 0 && v->kind == V_STR) {
		buf_clear(m->out);
		buf_add(m->out, v->u.s, v->len);
	}
}

static const char *response_str(const char *text, const char *key, struct buf *out, struct arena *a)
{
	struct str_find m = {key, out};
	struct json_error err;
	buf_clear(out);
	json_scan_members(text, strlen(text), find_str, &m, a, &err);
	return out->p ? out->p : "?";
}

/* Does a response have this action and every expected field? */
static int response_matches(const char *text, const struct test_step *st, struct arena *a)
{
	struct buf got = {0}, want = {0};
	int ok = response_field(text, "action", &got, a);
	if (ok) {
		json_write_str(&want, st->name, strlen(st->name));
		ok = strcmp(got.p, want.p) == 0;
	}
	for (int f = 0; f < st->nfields && ok; f++) {
		buf_clear(&want);
		val_render_json(&want, &st->fields[f].value);
		ok = response_field(text, st->fields[f].name, &got, a) && strcmp(got.p, want.p) == 0;
	}
	buf_free(&got);
	buf_free(&want);
	return ok;
}

static void step_text(struct buf *b, const struct test_step *st)
{
	switch (st->kind) {
	case TS_EXPECT:
	case TS_EXPECT_NO:
	case TS_GIVEN:
		buf_printf(b, "%s %s", st->kind == TS_EXPECT ? "expect" : st->kind == TS_EXPECT_NO ? "expect no" : "given",
			   st->name);
		if (st->nfields) {
			buf_adds(b, " {");
			for (int f = 0; f < st->nfields; f++) {
				buf_printf(b, "%s%s: ", f ? ", " : " ", st->fields[f].name);
				val_render_json(b, &st->fields[f].value);
			}
			buf_adds(b, " }");
		}
		break;
	default:
		break;
	}
}

static void list_responses(struct test_run *t)
{
	if (!t->nresp) {
		buf_adds(&t->why, "    responses so far: none\n");
		return;
	}
	buf_adds(&t->why, "    responses so far:\n");
	for (int i = 0; i < t->nresp; i++)
		buf_printf(&t->why, "      %s%s\n", t->resp[i].text, t->resp[i].used ? "  (matched before)" : "");
}

static const char *key_field(const struct prog *p) { return p->slots[SLOT_KEY].path; }

/* given E {fields} [at T | after D]: an input record, as the log would hold it. */
static void given(struct test_run *t, struct store *st, const struct test_step *s, int64_t now, uint64_t line)
{
	const struct prog *p = t->p;
	struct buf json = {0};
	const char *customer = NULL;
	for (int f = 0; f < s->nfields; f++)
		if (strcmp(s->fields[f].name, key_field(p)) == 0 && s->fields[f].value.kind == V_STR)
			customer = s->fields[f].value.u.s;
	if (customer)
		t->customer = customer;
	buf_addc(&json, '{');
	json_write_str(&json, p->slots[SLOT_TYPE].path, strlen(p->slots[SLOT_TYPE].path));
	buf_addc(&json, ':');
	json_write_str(&json, s->name, strlen(s->name));
	buf_addc(&json, ',');
	json_write_str(&json, p->slots[SLOT_TIME].path, strlen(p->slots[SLOT_TIME].path));
	buf_adds(&json, ":\"");
	time_format(&json, now);
	buf_addc(&json, '"');
	if (!customer) {
		buf_addc(&json, ',');
		json_write_str(&json, key_field(p), strlen(key_field(p)));
		buf_addc(&json, ':');
		json_write_str(&json, t->customer, strlen(t->customer));
	}
	for (int f = 0; f < s->nfields; f++) {
		buf_addc(&json, ',');
		json_write_str(&json, s->fields[f].name, strlen(s->fields[f].name));
		buf_addc(&json, ':');
		val_render_json(&json, &s->fields[f].value);
	}
	buf_addc(&json, '}');
	if (!t->replaying)
		buf_printf(&t->given, "      %s\n", json.p);
	store_read_json_line(t->e, st, 0, line, json.p, json.len);
	buf_free(&json);
}

/* The nearest response to a failed `expect ACTION {fields}`: of that
 * action if there is one, else any; the one that matches the most
 * expected fields, one not matched before, the first.  Then each field
 * that differs, "tier: expected "silver", got "gold"". */
static void nearest_response(struct test_run *t, const struct test_step *s, struct diag *d, struct arena *a)
{
	int best = -1, best_action = 0, best_match = -1;
	struct buf got = {0}, want = {0}, action = {0};
	json_write_str(&action, s->name, strlen(s->name));
	for (int i = 0; i < t->nresp; i++) {
		int same_action = response_field(t->resp[i].text, "action", &got, a) && strcmp(got.p, action.p) == 0;
		int match = 0;
		for (int f = 0; f < s->nfields; f++) {
			buf_clear(&want);
			val_render_json(&want, &s->fields[f].value);
			match += response_field(t->resp[i].text, s->fields[f].name, &got, a) && strcmp(got.p, want.p) == 0;
		}
		int better = best < 0 || same_action > best_action ||
			     (same_action == best_action &&
			      (match > best_match || (match == best_match && t->resp[best].used && !t->resp[i].used)));
		if (better) {
			best = i;
			best_action = same_action;
			best_match = match;
		}
	}
	if (best < 0) {
		buf_adds(&t->why, "    no such response\n");
	} else {
		const char *text = t->resp[best].text;
		struct buf id = {0}, tmp = {0};
		buf_printf(&id, "%s", response_str(text, "action", &tmp, a));
		buf_printf(&id, " for %s", response_str(text, "customer", &tmp, a));
		buf_printf(&id, " at %s", response_str(text, "at", &tmp, a));
		buf_printf(&id, " (rule %s)", response_str(text, "rule", &tmp, a));
		buf_printf(&t->why, "    no such response; the nearest is %s", id.p);
		if (t->resp[best].used) {
			struct buf where = {0};
			diag_where(d, &where, (struct loc){.file = s->loc.file, .first_line = t->resp[best].used});
			buf_printf(&t->why, ", which the expect at %s matched before", where.p);
			buf_free(&where);
		}
		buf_adds(&t->why, best_action && best_match == s->nfields ? "\n" : ":\n");
		if (!best_action) {
			response_field(text, "action", &got, a);
			buf_printf(&t->why, "    action: expected %s, got %s\n", action.p, got.p);
		}
		for (int f = 0; f < s->nfields; f++) {
			buf_clear(&want);
			val_render_json(&want, &s->fields[f].value);
			if (!response_field(text, s->fields[f].name, &got, a))
				buf_printf(&t->why, "    %s: expected %s, missing\n", s->fields[f].name, want.p);
			else if (strcmp(got.p, want.p) != 0)
				buf_printf(&t->why, "    %s: expected %s, got %s\n", s->fields[f].name, want.p, got.p);
		}
		buf_free(&id);
		buf_free(&tmp);
	}
	buf_free(&got);
	buf_free(&want);
	buf_free(&action);
}

/* The engine of one test (or of its replay): responses to capture, the
 * script's file as the events' file, each given line as the event's. */
static struct engine *test_engine(struct test_run *t, const struct test_info *ti, struct diag *d, struct store *st)
{
	struct engine *e = engine_new(t->p, d);
	e->out = capture;
	e->out_ud = t;
	engine_file(e, d->files[ti->loc.file].name);
	store_init(st, t->p);
	st->sink = to_engine;
	st->sink_ud = e;
	t->customer = "test-customer";
	return e;
}

/* A given or an advance: it moves the test's clock and feeds the engine.
 * 0, with the reason in why, when it cannot. */
static int feed_step(struct test_run *t, struct store *st, const struct test_step *s, int64_t *now, int *started,
		     const char *where, struct buf *why)
{
	if (s->kind == TS_GIVEN) {
		int64_t at = s->has_at ? s->at : *now;
		if (!s->has_at && s->has_after && __builtin_add_overflow(*now, s->after, &at)) {
			buf_printf(why, "  %s: given after a time past the last one cxr holds (2262-04-11)\n", where);
			return 0;
		}
		if (at < *now && *started) {
			buf_printf(why, "  %s: given goes back in time; a test's events are in time order\n", where);
			return 0;
		}
		*now = at;
		*started = 1;
		given(t, st, s, *now, (uint64_t)s->loc.first_line);
	} else if (s->kind == TS_ADVANCE) {
		*started = 1;
		if (__builtin_add_overflow(*now, s->after, now)) {
			buf_printf(why, "  %s: advance past the last time cxr holds (2262-04-11)\n", where);
			return 0;
		}
		engine_timers_until(t->e, *now, 1);
	}
	return 1;
}

/* Why no rule emitted the action of a failed `expect` (step upto): the
 * test played again to that step, quietly (its runtime errors were told
 * the first time), with explain on for the rules that emit the action
 * and the customer expected. */
static void explain_missing(struct test_run *t, const struct test_info *ti, struct diag *d, int upto,
			    const char *customer, int fired_before)
{
	const struct prog *p = t->p;
	const char *action = ti->steps[upto].name;
	uint8_t *mask = mem_alloc((size_t)p->nrules + 1);
	int emitters = 0;
	for (int r = 0; r < p->nrules; r++)
		for (uint32_t pc = p->rules[r].entry; pc < p->ncode && INSN_OP(p->code[pc]) != OPC_HALT; pc++)
			if (INSN_OP(p->code[pc]) == OPC_EMIT && strcmp(p->emits[INSN_A(p->code[pc])].action, action) == 0 &&
			    !mask[r]) {
				mask[r] = 1;
				emitters++;
			}
	if (!emitters) {
		mem_free(mask);
		return;
	}
	struct engine *outer = t->e;
	const char *outer_customer = t->customer;
	struct store st;
	t->e = test_engine(t, ti, d, &st);
	t->e->out = NULL; /* the responses are known */
	t->replaying = 1;
	struct explain *x = explain_new(p, d, customer, -1);
	explain_only(x, mask);
	t->e->hooks = explain_hooks(x);
	diag_fn sink = d->sink;
	d->sink = NULL;
	int64_t now = TEST_EPOCH * NS_PER_SEC;
	int started = 0;
	struct buf ignored = {0}; /* the steps ran before: they cannot fail now */
	for (int k = 0; k < upto; k++)
		feed_step(t, &st, &ti->steps[k], &now, &started, "", &ignored);
	buf_free(&ignored);
	d->sink = sink;
	explain_test_clock(x, now);
	engine_note_pending(t->e);
	buf_printf(&t->why, "    why no %s %s for customer %s:\n", fired_before ? "other" : "rule emitted", action, customer);
	explain_render_indented(x, t->e, &t->why, "    ");
	store_free(&st);
	engine_free(t->e);
	explain_free(x);
	t->e = outer;
	t->customer = outer_customer;
	t->replaying = 0;
	mem_free(mask);
}

/* The responses of this action so far: 2 when one is left that no
 * `expect` matched before, 1 when all were, 0 when there is none. */
static int action_fired(struct test_run *t, const char *action, struct arena *a)
{
	struct buf got = {0}, want = {0};
	json_write_str(&want, action, strlen(action));
	int found = 0;
	for (int i = 0; i < t->nresp && found < 2; i++)
		if (response_field(t->resp[i].text, "action", &got, a) && strcmp(got.p, want.p) == 0)
			found = t->resp[i].used ? 1 : 2;
	buf_free(&got);
	buf_free(&want);
	return found;
}

/* `cxr test --coverage`: steps_hit[rule * MAX_BINDS + step]. */
static void step_covered(void *ud, int rule, int step)
{
	uint8_t *steps_hit = ud;
	steps_hit[rule * MAX_BINDS + step] = 1;
}

/* Run one test; 1 when it passes, with the failure in t->why otherwise. */
static int run_test(struct test_run *t, const struct test_info *ti, struct diag *d, uint8_t *covered,
		    uint8_t *steps_hit)
{
	const struct prog *p = t->p;
	struct store st;
	t->e = test_engine(t, ti, d, &st);
	t->e->vm->covered = covered;
	const struct engine_hooks coverage = {.ud = steps_hit, .step = step_covered};
	t->e->hooks = steps_hit ? &coverage : NULL;
	int64_t now = TEST_EPOCH * NS_PER_SEC;
	int started = 0; /* the first `at` may set the clock anywhere */
	int ok = 1;
	struct arena a = {0};
	struct buf where = {0}, text = {0};
	for (int k = 0; k < ti->nsteps && ok; k++) {
		const struct test_step *s = &ti->steps[k];
		buf_clear(&where);
		diag_where(d, &where, s->loc);
		switch (s->kind) {
		case TS_GIVEN:
		case TS_ADVANCE:
			ok = feed_step(t, &st, s, &now, &started, where.p, &t->why);
			break;
		case TS_EXPECT: {
			int found = 0;
			for (int i = 0; i < t->nresp && !found; i++)
				if (!t->resp[i].used && response_matches(t->resp[i].text, s, &a)) {
					t->resp[i].used = s->loc.first_line > 0 ? s->loc.first_line : 1;
					found = 1;
				}
			if (!found) {
				buf_clear(&text);
				step_text(&text, s);
				buf_printf(&t->why, "  %s: %s\n", where.p, text.p);
				nearest_response(t, s, d, &a);
				list_responses(t);
				int fired = action_fired(t, s->name, &a);
				if (fired < 2) {
					const char *customer = t->customer;
					for (int f = 0; f < s->nfields; f++)
						if (strcmp(s->fields[f].name, "customer") == 0 && s->fields[f].value.kind == V_STR)
							customer = s->fields[f].value.u.s;
					explain_missing(t, ti, d, k, customer, fired);
				}
				ok = 0;
			}
			break;
		}
		case TS_EXPECT_NO:
			for (int i = 0; i < t->nresp && ok; i++)
				if (response_matches(t->resp[i].text, s, &a)) {
					buf_clear(&text);
					step_text(&text, s);
					buf_printf(&t->why, "  %s: %s\n    but it fired: %s\n", where.p, text.p, t->resp[i].text);
					ok = 0;
				}
			break;
		case TS_EXPECT_STAGE: {
			uint32_t c = engine_customer(t->e, t->customer, strlen(t->customer));
			const struct jstate *js = cust_rare(&t->e->custs[c])->journeys ? &cust_rare(&t->e->custs[c])->journeys[s->journey] : NULL;
			int stage = js ? js->stage : -1;
			if (stage != s->stage) {
				const struct journey_info *j = &p->journeys[s->journey];
				buf_printf(&t->why, "  %s: expect stage %s = %s\n    customer %s is %s%s\n", where.p, j->name,
					   j->stages[s->stage], t->customer, stage < 0 ? "not in the journey" : "in ",
					   stage < 0 ? "" : j->stages[stage]);
				ok = 0;
			}
			break;
		}
		case TS_EXPECT_EXPR: {
			uint32_t c = engine_customer(t->e, t->customer, strlen(t->customer));
			struct val got = val_null();
			for (int v = 0; v < p->nvars; v++)
				if (strcmp(p->vars[v], s->name) == 0 && t->e->custs[c].vars)
					got = t->e->custs[c].vars[v].v;
			struct buf g = {0}, w = {0};
			val_render_json(&g, &got);
			val_render_json(&w, &s->value);
			if (strcmp(g.p, w.p) != 0) {
				buf_printf(&t->why, "  %s: expect customer.%s == %s\n    customer %s has %s\n", where.p, s->name,
					   w.p, t->customer, g.p);
				ok = 0;
			}
			buf_free(&g);
			buf_free(&w);
			break;
		}
		}
	}
	if (ok && t->e->runtime_errors) {
		buf_printf(&t->why, "  runtime errors (above) stopped %llu handler%s\n",
			   (unsigned long long)t->e->runtime_errors, t->e->runtime_errors == 1 ? "" : "s");
		ok = 0;
	}
	if (!ok && t->given.len)
		buf_printf(&t->why, "    events given:\n%s", t->given.p);
	store_free(&st);
	engine_free(t->e);
	for (int i = 0; i < t->nresp; i++)
		mem_free(t->resp[i].text);
	t->nresp = 0;
	buf_clear(&t->given);
	arena_free(&a);
	buf_free(&where);
	buf_free(&text);
	return ok;
}

/* What no test exercised: rules never run, guards never reached, pattern
 * steps never matched. */
static void coverage_report(const struct prog *p, struct diag *d, const uint8_t *covered, const uint8_t *steps_hit,
			    struct buf *out)
{
	int rules = 0, rules_hit = 0, guards = 0, guards_hit = 0, steps = 0, steps_done = 0;
	struct buf missed = {0}, where = {0};
	for (int r = 0; r < p->nrules; r++) {
		const struct rule_info *ri = &p->rules[r];
		rules++;
		if (covered[ri->entry]) {
			rules_hit++;
		} else {
			buf_clear(&where);
			diag_where(d, &where, ri->loc);
			buf_printf(&missed, "  %s: rule %s never fired\n", where.p, ri->name);
		}
		for (uint32_t pc = ri->entry; pc < p->ncode; pc++) {
			if (INSN_OP(p->code[pc]) == OPC_GUARD) {
				guards++;
				if (covered[pc]) {
					guards_hit++;
				} else {
					buf_clear(&where);
					diag_where(d, &where, p->lines[pc]);
					buf_printf(&missed, "  %s: a guard of rule %s was never reached\n", where.p, ri->name);
				}
			}
			if (INSN_OP(p->code[pc]) == OPC_HALT)
				break;
		}
		for (int s = 0; s < ri->nsteps && ri->nsteps > 1; s++) {
			steps++;
			if (steps_hit[r * MAX_BINDS + s]) {
				steps_done++;
			} else {
				buf_clear(&where);
				diag_where(d, &where, ri->loc);
				buf_printf(&missed, "  %s: step %d of rule %s never matched\n", where.p, s, ri->name);
			}
		}
	}
	buf_printf(out, "coverage: %d of %d rules, %d of %d guards, %d of %d pattern steps exercised\n", rules_hit,
		   rules, guards_hit, guards, steps_done, steps);
	if (missed.len)
		buf_add(out, missed.p, missed.len);
	buf_free(&missed);
	buf_free(&where);
}

void testrun_run(const struct prog *p, struct diag *d, const struct test_options *o, struct buf *out,
		    struct test_counts *n)
{
	struct test_run t = {0};
	t.p = p;
	uint8_t *covered = o->coverage ? mem_alloc(p->ncode + 1) : NULL;
	uint8_t *steps_hit = o->coverage ? mem_alloc((size_t)(p->nrules + 1) * MAX_BINDS) : NULL;
	int ran = 0;
	for (int i = 0; i < p->ntests; i++) {
		const struct test_info *ti = &p->tests[i];
		if (o->select && !strstr(ti->name, o->select)) {
			n->deselected++;
			continue;
		}
		ran++;
		buf_clear(&t.why);
		struct buf where = {0};
		diag_where(d, &where, ti->loc);
		int ok = 0;
		if (ti->broken) {
			/* compiled without cxr_set_testing: its problems were warnings */
			buf_printf(out, "FAIL  %s (%s)\n  the test does not compile (see the warnings)\n", ti->name, where.p);
		} else if (run_test(&t, ti, d, covered, steps_hit)) {
			ok = 1;
			buf_printf(out, "ok    %s (%s)\n", ti->name, where.p);
		} else {
			buf_printf(out, "FAIL  %s (%s)\n%s", ti->name, where.p, t.why.p ? t.why.p : "");
		}
		if (ok) {
			n->passed++;
		} else {
			n->failed++;
			if (o->failures)
				buf_printf(o->failures, "%s: %s\n", where.p, ti->name);
		}
		buf_free(&where);
	}
	if (o->coverage && ran)
		coverage_report(p, d, covered, steps_hit, out);
	mem_free(covered);
	mem_free(steps_hit);
	mem_free(t.resp);
	buf_free(&t.given);
	buf_free(&t.why);
}
