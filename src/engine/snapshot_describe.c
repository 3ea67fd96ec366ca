/* snapshot_describe.c: a snapshot's records as text a person reads
 * (`cxr state`), with the names of its own table: no script needed. */
#include <string.h>

#include "base/timeutil.h"
#include "snapshot_int.h"

static void describe_time(struct buf *b, int64_t t)
{
	time_format(b, t);
}

static void describe_event(struct buf *b, const struct snap_names *ns, const struct snap_event *ev)
{
	buf_adds(b, ev->type >= 0 ? old_name_of(ns, SNAP_TYPE, -1, (uint64_t)ev->type) : "(untyped)");
	buf_adds(b, " at ");
	describe_time(b, ev->time);
	buf_printf(b, " (%s:%llu)", old_name_of(ns, SNAP_FILE, -1, ev->file), (unsigned long long)ev->line);
}

int snap_describe_customer(const struct snap_names *ns, const char *p, size_t n, struct buf *b)
{
	struct arena a = {0};
	struct unpack u;
	unpack_init(&u, p, n);
	struct snap_cust s;
	if (decode_customer(&u, &a, &s) < 0) {
		arena_free(&a);
		return -1;
	}
	for (uint32_t j = 0; j < s.njourneys; j++) {
		const struct snap_jstate *js = &s.journeys[j];
		const char *jn = old_name_of(ns, SNAP_JOURNEY, -1, js->journey);
		if (js->stage < 0) {
			buf_printf(b, "  journey %s: left\n", jn);
			continue;
		}
		buf_printf(b, "  stage %s.%s since ", jn, old_name_of(ns, SNAP_STAGE, (int32_t)js->journey, (uint64_t)js->stage));
		describe_time(b, js->entered);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < s.nvars; i++) {
		buf_printf(b, "  customer.%s = ", old_name_of(ns, SNAP_VAR, -1, s.var[i]));
		val_render_typed(b, &s.vals[i]);
		buf_addc(b, '\n');
	}
	if (s.ntags) {
		buf_adds(b, "  tags:");
		for (uint32_t i = 0; i < s.ntags; i++)
			buf_printf(b, " %.*s", (int)s.tags[i].len, s.tags[i].u.s);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < s.nrules; i++) {
		const struct snap_rule_state *rs = &s.rules[i];
		const char *rn = old_name_of(ns, SNAP_RULE, -1, rs->rule);
		for (uint32_t k = 0; k < rs->nkeys; k++) {
			/* The key's first byte is its kind (engine_key_text); the rest is JSON. */
			size_t kl = rs->keylens[k];
			if (kl == 5 && memcmp(rs->keys[k] + 1, "null", 4) == 0)
				buf_printf(b, "  rule %s: once\n", rn); /* `once`: per customer, no key */
			else
				buf_printf(b, "  rule %s: once per %.*s\n", rn, kl ? (int)(kl - 1) : 0, kl ? rs->keys[k] + 1 : "");
		}
		if (rs->nfired) {
			buf_printf(b, "  rule %s: fired %u time%s in its cap's window, last at ", rn, rs->nfired,
				   rs->nfired == 1 ? "" : "s");
			describe_time(b, rs->fired[rs->nfired - 1]);
			buf_addc(b, '\n');
		}
		if (rs->nwin)
			buf_printf(b, "  rule %s: %u recent events counted for its repeat\n", rn, rs->nwin);
	}
	for (uint32_t i = 0; i < s.ninstances; i++) {
		const struct snap_instance *in = &s.instances[i];
		buf_printf(b, "  pending: rule %s, step %u, after ", old_name_of(ns, SNAP_RULE, -1, in->rule), in->step + 1);
		describe_event(b, ns, &in->bound[in->step - 1]);
		buf_adds(b, "; deadline ");
		describe_time(b, in->timer.deadline);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < s.nclocks; i++) {
		const struct snap_clock *k = &s.clocks[i];
		buf_printf(b, "  pending: sla %s clock", old_name_of(ns, SNAP_SLA, -1, k->sla));
		if (k->grouplen)
			buf_printf(b, " of group %.*s", (int)k->grouplen, k->group);
		buf_adds(b, ", started by ");
		if (k->has_from)
			describe_event(b, ns, &k->from);
		buf_printf(b, "; %s ", k->breached ? "breached at" : "deadline");
		describe_time(b, k->timer.deadline);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < s.nwatches; i++) {
		const struct snap_watch *w = &s.watches[i];
		buf_printf(b, "  pending: goal %s after rule %s%s, until ", old_name_of(ns, SNAP_GOAL, -1, w->goal),
			   old_name_of(ns, SNAP_RULE, -1, w->rule), w->held_out ? " (held out)" : "");
		describe_time(b, w->timer.deadline);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < s.nstuck; i++) {
		const struct snap_stuck *st = &s.stuck[i];
		buf_printf(b, "  pending: rule %s, stuck in journey %s, fires at ", old_name_of(ns, SNAP_RULE, -1, st->rule),
			   old_name_of(ns, SNAP_JOURNEY, -1, st->journey));
		describe_time(b, st->timer.deadline);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < s.nhist; i++) {
		const struct snap_hist *h = &s.hist[i];
		if (!h->n && !h->has_last && !h->has_first)
			continue;
		buf_printf(b, "  history %s: %u event%s in its window", old_name_of(ns, SNAP_HISTORY, -1, h->spec), h->n,
			   h->n == 1 ? "" : "s");
		if (h->has_last) {
			buf_adds(b, ", last ");
			describe_event(b, ns, &h->last);
		}
		buf_addc(b, '\n');
	}
	arena_free(&a);
	return 0;
}

static void earliest(int64_t *next, int *any, int64_t t)
{
	if (!*any || t < *next)
		*next = t;
	*any = 1;
}

int snap_count_timers(const char *p, size_t n, int64_t *next)
{
	struct arena a = {0};
	struct unpack u;
	unpack_init(&u, p, n);
	struct snap_cust s;
	int count = -1, any = 0;
	if (decode_customer(&u, &a, &s) == 0) {
		for (uint32_t i = 0; i < s.ninstances; i++)
			earliest(next, &any, s.instances[i].timer.deadline);
		for (uint32_t i = 0; i < s.nclocks; i++)
			if (!s.clocks[i].breached)
				earliest(next, &any, s.clocks[i].timer.deadline);
		for (uint32_t i = 0; i < s.nwatches; i++)
			earliest(next, &any, s.watches[i].timer.deadline);
		for (uint32_t i = 0; i < s.nstuck; i++)
			earliest(next, &any, s.stuck[i].timer.deadline);
		count = (int)(s.ninstances + s.nwatches + s.nstuck);
		for (uint32_t i = 0; i < s.nclocks; i++)
			count += !s.clocks[i].breached;
	}
	arena_free(&a);
	return count;
}

static void describe_agg_count(struct buf *b, const struct snap_groups *g)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < g->n; i++)
		n += g->g[i].agg.a.n + g->g[i].agg.a.started;
	buf_printf(b, "%u group%s, %llu value%s", g->n, g->n == 1 ? "" : "s", (unsigned long long)n, n == 1 ? "" : "s");
}

int snap_describe_run(const struct snap_names *ns, const char *p, size_t n, struct buf *b)
{
	struct arena a = {0};
	struct unpack u;
	unpack_init(&u, p, n);
	struct snap_run r;
	if (decode_run(&u, &a, &r) < 0) {
		arena_free(&a);
		return -1;
	}
	buf_printf(b, "events: %llu, rejected: %llu, late: %llu, responses: %llu, runtime errors: %llu\n",
		   (unsigned long long)r.events, (unsigned long long)r.rejected, (unsigned long long)r.late,
		   (unsigned long long)r.responses, (unsigned long long)r.runtime_errors);
	if (r.events) {
		buf_adds(b, "event time reached: ");
		describe_time(b, r.last_time);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < r.nrules; i++) {
		const struct rule_stats *s = &r.rules[i].s;
		buf_printf(b, "rule %s: fired %llu", old_name_of(ns, SNAP_RULE, -1, r.rules[i].rule),
			   (unsigned long long)s->fired);
		if (s->deduped)
			buf_printf(b, ", deduped %llu", (unsigned long long)s->deduped);
		if (s->capped)
			buf_printf(b, ", capped %llu", (unsigned long long)s->capped);
		if (s->held_out)
			buf_printf(b, ", held out %llu", (unsigned long long)s->held_out);
		if (s->budget_exhausted)
			buf_printf(b, ", over budget %llu", (unsigned long long)s->budget_exhausted);
		if (s->errors)
			buf_printf(b, ", errors %llu", (unsigned long long)s->errors);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < r.nstages; i++)
		buf_printf(b, "stage %s.%s: entered by %llu customer%s\n", old_name_of(ns, SNAP_JOURNEY, -1, r.stages[i].journey),
			   old_name_of(ns, SNAP_STAGE, (int32_t)r.stages[i].journey, r.stages[i].stage),
			   (unsigned long long)r.stages[i].reached, r.stages[i].reached == 1 ? "" : "s");
	for (uint32_t i = 0; i < r.nmetrics; i++) {
		buf_printf(b, "metric %s: ", old_name_of(ns, SNAP_METRIC, -1, r.metrics[i].id));
		describe_agg_count(b, &r.metrics[i]);
		buf_addc(b, '\n');
	}
	for (uint32_t i = 0; i < r.nslas; i++) {
		buf_printf(b, "sla %s: ", old_name_of(ns, SNAP_SLA, -1, r.slas[i].id));
		uint64_t started = 0, met = 0, breached = 0;
		for (uint32_t k = 0; k < r.slas[i].n; k++) {
			started += r.slas[i].g[k].agg.a.started;
			met += r.slas[i].g[k].agg.a.met;
			breached += r.slas[i].g[k].agg.a.breached;
		}
		buf_printf(b, "%llu started, %llu met, %llu breached\n", (unsigned long long)started, (unsigned long long)met,
			   (unsigned long long)breached);
	}
	for (uint32_t i = 0; i < r.ngoals; i++)
		if (r.goals[i].s.treated || r.goals[i].s.held)
			buf_printf(b, "goal %s after rule %s: %llu of %llu treated converted, %llu of %llu held out\n",
				   old_name_of(ns, SNAP_GOAL, -1, r.goals[i].goal), old_name_of(ns, SNAP_RULE, -1, r.goals[i].rule),
				   (unsigned long long)r.goals[i].s.treated_converted,
				   (unsigned long long)r.goals[i].s.treated, (unsigned long long)r.goals[i].s.held_converted,
				   (unsigned long long)r.goals[i].s.held);
	for (uint32_t i = 0; i < r.nbudgets; i++)
		buf_printf(b, "budget %s: %u spent in its window\n", old_name_of(ns, SNAP_BUDGET, -1, r.budgets[i].budget),
			   r.budgets[i].n);
	arena_free(&a);
	return 0;
}
