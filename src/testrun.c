/* testrun.c: `cxr test`, the test blocks of a script.
 *
 * Each test runs on a fresh engine with a virtual clock: `given` feeds an
 * event at the clock's time (`at T` sets the clock, `after D` moves it),
 * `advance D` moves the clock and fires the timers due by then, `expect`
 * checks the responses so far.  A failure shows the step, what was
 * expected, what fired instead and the events given.
 */
#include <string.h>

#include "engine.h"
#include "ingest.h"
#include "json.h"
#include "timeutil.h"
#include "vm.h"

/* A test's clock starts here when no `given ... at` says otherwise. */
#define TEST_EPOCH 1767225600LL /* 2026-01-01T00:00:00Z */

struct response {
	char *text;  /* the JSON line */
	int used;    /* matched by an `expect` */
};

struct test_run {
	const struct prog *p;
	struct engine *e;
	struct response *resp;
	int nresp, capresp;
	struct buf given;     /* the events given, for failure reports */
	struct buf why;       /* the failure of the current test */
	const char *customer; /* of the latest `given` */
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
	buf_printf(&t->given, "      %s\n", json.p);
	store_read_json_line(t->e, st, 0, line, json.p, json.len);
	buf_free(&json);
}

/* Run one test; 1 when it passes, with the failure in t->why otherwise. */
static int run_test(struct test_run *t, const struct test_info *ti, struct diag *d, uint8_t *covered,
		    uint8_t *steps_hit)
{
	const struct prog *p = t->p;
	t->e = engine_new(p, d);
	t->e->out = capture;
	t->e->out_ud = t;
	t->e->vm->covered = covered;
	t->e->steps_hit = steps_hit;
	engine_file(t->e, d->files[ti->loc.file].name);
	struct store st;
	store_init(&st, p);
	st.sink = to_engine;
	st.sink_ud = t->e;
	t->customer = "test-customer";
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
		case TS_GIVEN: {
			int64_t at = s->has_at ? s->at : now;
			if (!s->has_at && s->has_after && __builtin_add_overflow(now, s->after, &at)) {
				buf_printf(&t->why, "  %s: given after a time past the last one cxr holds (2262-04-11)\n", where.p);
				ok = 0;
				break;
			}
			if (at < now && started) {
				buf_printf(&t->why, "  %s: given goes back in time; a test's events are in time order\n", where.p);
				ok = 0;
				break;
			}
			now = at;
			started = 1;
			given(t, &st, s, now, (uint64_t)s->loc.first_line);
			break;
		}
		case TS_ADVANCE:
			started = 1;
			if (__builtin_add_overflow(now, s->after, &now)) {
				buf_printf(&t->why, "  %s: advance past the last time cxr holds (2262-04-11)\n", where.p);
				ok = 0;
				break;
			}
			engine_timers_until(t->e, now, 1);
			break;
		case TS_EXPECT: {
			int found = 0;
			for (int i = 0; i < t->nresp && !found; i++)
				if (!t->resp[i].used && response_matches(t->resp[i].text, s, &a))
					found = t->resp[i].used = 1;
			if (!found) {
				buf_clear(&text);
				step_text(&text, s);
				buf_printf(&t->why, "  %s: %s\n    no such response\n", where.p, text.p);
				list_responses(t);
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

void prog_run_tests(const struct prog *p, struct diag *d, int coverage, struct buf *out, int *passed, int *failed)
{
	struct test_run t = {0};
	t.p = p;
	uint8_t *covered = coverage ? mem_alloc(p->ncode + 1) : NULL;
	uint8_t *steps_hit = coverage ? mem_alloc((size_t)(p->nrules + 1) * MAX_BINDS) : NULL;
	for (int i = 0; i < p->ntests; i++) {
		const struct test_info *ti = &p->tests[i];
		buf_clear(&t.why);
		struct buf where = {0};
		diag_where(d, &where, ti->loc);
		if (ti->broken) {
			(*failed)++; /* compiled without cxr_set_testing: its problems were warnings */
			buf_printf(out, "FAIL  %s (%s)\n  the test does not compile (see the warnings)\n", ti->name, where.p);
		} else if (run_test(&t, ti, d, covered, steps_hit)) {
			(*passed)++;
			buf_printf(out, "ok    %s (%s)\n", ti->name, where.p);
		} else {
			(*failed)++;
			buf_printf(out, "FAIL  %s (%s)\n%s", ti->name, where.p, t.why.p ? t.why.p : "");
		}
		buf_free(&where);
	}
	if (coverage)
		coverage_report(p, d, covered, steps_hit, out);
	mem_free(covered);
	mem_free(steps_hit);
	mem_free(t.resp);
	buf_free(&t.given);
	buf_free(&t.why);
}
