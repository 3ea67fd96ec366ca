/* snapshot_decode.c: the snapshot's records into the plain structs of
 * snapshot_int.h, in the order snapshot.c writes them. */
#include <string.h>

#include "snapshot_int.h"

/* Values nest; a record of ours never nests this deep. */
#define MAX_DEPTH 64

static struct val get_val(struct unpack *u, struct arena *a, int depth)
{
	struct val v = {0};
	uint64_t kind = unpack_u64(u);
	v.flags = (uint8_t)unpack_u64(u);
	if (kind > V_ERR || depth > MAX_DEPTH) {
		u->bad = 1;
		return val_null();
	}
	v.kind = (uint8_t)kind;
	size_t n;
	switch (v.kind) {
	case V_BOOL:
	case V_INT:
	case V_TIME:
	case V_DUR: v.u.i = unpack_i64(u); break;
	case V_FLOAT: v.u.f = unpack_f64(u); break;
	case V_STR:
	case V_ERR:
		v.u.s = unpack_bytes(u, &n);
		if (v.kind == V_ERR) {
			char *z = arena_alloc(a, n + 1); /* an error message is NUL-terminated */
			memcpy(z, v.u.s, n);
			z[n] = 0;
			v.u.s = z;
		}
		v.len = (uint32_t)n;
		break;
	case V_LIST: {
		uint32_t len = unpack_count(u, 2);
		struct val *items = ALLOC(a, len, struct val);
		for (uint32_t i = 0; i < len; i++)
			items[i] = get_val(u, a, depth + 1);
		v.u.items = items;
		v.len = len;
		break;
	}
	}
	return v;
}

static void get_event(struct unpack *u, struct arena *a, struct snap_event *ev)
{
	ev->time = unpack_i64(u);
	ev->type = unpack_i64(u);
	ev->type_name = get_val(u, a, 0);
	ev->file = (uint32_t)unpack_u64(u);
	ev->line = unpack_u64(u);
	ev->nfields = unpack_count(u, 3);
	ev->fields = ALLOC(a, ev->nfields, uint32_t);
	ev->vals = ALLOC(a, ev->nfields, struct val);
	for (uint32_t i = 0; i < ev->nfields; i++) {
		ev->fields[i] = (uint32_t)unpack_u64(u);
		ev->vals[i] = get_val(u, a, 0);
	}
}

static void get_timer(struct unpack *u, struct snap_timer *t)
{
	t->deadline = unpack_i64(u);
	t->seq = unpack_u64(u);
	t->armed = unpack_u64(u) != 0;
}

static int64_t *get_ring(struct unpack *u, struct arena *a, uint32_t *n)
{
	*n = unpack_count(u, 1);
	int64_t *v = ALLOC(a, *n, int64_t);
	for (uint32_t i = 0; i < *n; i++)
		v[i] = unpack_i64(u);
	return v;
}

int decode_customer(struct unpack *u, struct arena *a, struct snap_cust *c)
{
	memset(c, 0, sizeof *c);
	if (unpack_u64(u) != SNAP_RECORD_VERSION)
		return -1;
	c->nvars = unpack_count(u, 3);
	c->var = ALLOC(a, c->nvars, uint32_t);
	c->vals = ALLOC(a, c->nvars, struct val);
	for (uint32_t i = 0; i < c->nvars; i++) {
		c->var[i] = (uint32_t)unpack_u64(u);
		c->vals[i] = get_val(u, a, 0);
	}
	c->ntags = unpack_count(u, 1);
	c->tags = ALLOC(a, c->ntags, struct val);
	for (uint32_t i = 0; i < c->ntags; i++) {
		size_t n;
		const char *t = unpack_bytes(u, &n);
		c->tags[i] = val_str(t, n);
	}
	c->nrules = unpack_count(u, 6);
	c->rules = ALLOC(a, c->nrules, struct snap_rule_state);
	for (uint32_t i = 0; i < c->nrules; i++) {
		struct snap_rule_state *rs = &c->rules[i];
		rs->rule = (uint32_t)unpack_u64(u);
		rs->nkeys = unpack_count(u, 1);
		rs->keys = ALLOC(a, rs->nkeys, const char *);
		rs->keylens = ALLOC(a, rs->nkeys, size_t);
		for (uint32_t k = 0; k < rs->nkeys; k++)
			rs->keys[k] = unpack_bytes(u, &rs->keylens[k]);
		rs->fired = get_ring(u, a, &rs->nfired);
		rs->window = get_ring(u, a, &rs->nwin);
		rs->goals_watched = unpack_u64(u) != 0;
		rs->counted = unpack_u64(u) != 0;
	}
	c->njourneys = unpack_count(u, 5);
	c->journeys = ALLOC(a, c->njourneys, struct snap_jstate);
	for (uint32_t i = 0; i < c->njourneys; i++) {
		struct snap_jstate *js = &c->journeys[i];
		js->journey = (uint32_t)unpack_u64(u);
		js->stage = unpack_i64(u);
		js->entered = unpack_i64(u);
		js->entry_seq = unpack_u64(u);
		js->reached = unpack_u64(u);
	}
	c->ninstances = unpack_count(u, 4);
	c->instances = ALLOC(a, c->ninstances, struct snap_instance);
	for (uint32_t i = 0; i < c->ninstances && !u->bad; i++) {
		struct snap_instance *in = &c->instances[i];
		in->rule = (uint32_t)unpack_u64(u);
		in->step = (uint32_t)unpack_u64(u);
		get_timer(u, &in->timer);
		if (in->step == 0 || in->step > MAX_BINDS) {
			u->bad = 1;
			break;
		}
		in->bound = ALLOC(a, in->step, struct snap_event);
		for (uint32_t k = 0; k < in->step; k++)
			get_event(u, a, &in->bound[k]);
	}
	c->nclocks = unpack_count(u, 5);
	c->clocks = ALLOC(a, c->nclocks, struct snap_clock);
	for (uint32_t i = 0; i < c->nclocks; i++) {
		struct snap_clock *k = &c->clocks[i];
		k->sla = (uint32_t)unpack_u64(u);
		k->breached = unpack_u64(u) != 0;
		k->group = unpack_bytes(u, &k->grouplen);
		get_timer(u, &k->timer);
		k->has_from = unpack_u64(u) != 0;
		if (k->has_from)
			get_event(u, a, &k->from);
	}
	c->nwatches = unpack_count(u, 5);
	c->watches = ALLOC(a, c->nwatches, struct snap_watch);
	for (uint32_t i = 0; i < c->nwatches; i++) {
		struct snap_watch *w = &c->watches[i];
		w->rule = (uint32_t)unpack_u64(u);
		w->goal = (uint32_t)unpack_u64(u);
		w->held_out = unpack_u64(u) != 0;
		get_timer(u, &w->timer);
	}
	c->nstuck = unpack_count(u, 5);
	c->stuck = ALLOC(a, c->nstuck, struct snap_stuck);
	for (uint32_t i = 0; i < c->nstuck; i++) {
		struct snap_stuck *st = &c->stuck[i];
		st->rule = (uint32_t)unpack_u64(u);
		st->journey = (uint32_t)unpack_u64(u);
		st->entry_seq = unpack_u64(u);
		get_timer(u, &st->timer);
	}
	c->nhist = unpack_count(u, 6);
	c->hist = ALLOC(a, c->nhist, struct snap_hist);
	for (uint32_t i = 0; i < c->nhist && !u->bad; i++) {
		struct snap_hist *h = &c->hist[i];
		h->spec = (uint32_t)unpack_u64(u);
		h->nsum = (uint32_t)unpack_u64(u);
		h->n = unpack_count(u, 1);
		h->has_events = unpack_u64(u) != 0;
		if (h->nsum > 64) {
			u->bad = 1;
			break;
		}
		h->times = ALLOC(a, h->n, int64_t);
		h->sums = ALLOC(a, (size_t)h->n * h->nsum, double);
		h->evs = ALLOC(a, h->has_events ? h->n : 0, struct snap_event);
		for (uint32_t k = 0; k < h->n && !u->bad; k++) {
			h->times[k] = unpack_i64(u);
			for (uint32_t x = 0; x < h->nsum; x++)
				h->sums[(size_t)k * h->nsum + x] = unpack_f64(u);
			if (h->has_events)
				get_event(u, a, &h->evs[k]);
		}
		if ((h->has_last = unpack_u64(u) != 0))
			get_event(u, a, &h->last);
		if ((h->has_first = unpack_u64(u) != 0))
			get_event(u, a, &h->first);
	}
	return unpack_done(u) ? 0 : -1;
}

static void get_agg(struct unpack *u, struct arena *a, struct snap_agg *s)
{
	memset(s, 0, sizeof *s);
	s->a.n = unpack_u64(u);
	s->a.sum = unpack_f64(u);
	s->a.min = unpack_f64(u);
	s->a.max = unpack_f64(u);
	s->a.hits = unpack_u64(u);
	s->a.misses = unpack_u64(u);
	s->a.started = unpack_u64(u);
	s->a.met = unpack_u64(u);
	s->a.late = unpack_u64(u);
	s->a.breached = unpack_u64(u);
	s->a.mixed = unpack_u64(u);
	s->a.durations = unpack_u64(u) != 0;
	s->nexact = unpack_count(u, 8);
	if (s->nexact && s->nexact != s->a.n)
		u->bad = 1;
	s->exact = ALLOC(a, s->nexact, double);
	for (uint32_t i = 0; i < s->nexact; i++)
		s->exact[i] = unpack_f64(u);
	s->sketch = unpack_bytes(u, &s->sketchlen);
}

static void get_groups(struct unpack *u, struct arena *a, struct snap_groups *g)
{
	g->id = (uint32_t)unpack_u64(u);
	g->errors = unpack_u64(u);
	g->n = unpack_count(u, 20);
	g->g = ALLOC(a, g->n, struct snap_group);
	for (uint32_t i = 0; i < g->n; i++) {
		g->g[i].key = unpack_bytes(u, &g->g[i].keylen);
		get_agg(u, a, &g->g[i].agg);
	}
}

int decode_run(struct unpack *u, struct arena *a, struct snap_run *r)
{
	memset(r, 0, sizeof *r);
	if (unpack_u64(u) != SNAP_RECORD_VERSION)
		return -1;
	r->events = unpack_u64(u);
	r->rejected = unpack_u64(u);
	r->rejected_lines = unpack_u64(u);
	r->responses = unpack_u64(u);
	r->runtime_errors = unpack_u64(u);
	r->late = unpack_u64(u);
	r->last_time = unpack_i64(u);
	r->timer_seq = unpack_u64(u);
	r->entry_seq = unpack_u64(u);
	uint32_t nk = unpack_count(u, 1);
	for (uint32_t k = 0; k < nk; k++) {
		uint64_t v = unpack_u64(u);
		if (k < REJECT__COUNT)
			r->tally[k] = v;
	}
	r->late_by = unpack_i64(u);
	r->nrules = unpack_count(u, 8);
	r->rules = arena_alloc(a, sizeof *r->rules * (r->nrules + 1));
	for (uint32_t i = 0; i < r->nrules; i++) {
		r->rules[i].rule = (uint32_t)unpack_u64(u);
		struct rule_stats *s = &r->rules[i].s;
		s->fired = unpack_u64(u);
		s->deduped = unpack_u64(u);
		s->capped = unpack_u64(u);
		s->held_out = unpack_u64(u);
		s->budget_exhausted = unpack_u64(u);
		s->errors = unpack_u64(u);
		s->customers = unpack_u64(u);
	}
	r->nstages = unpack_count(u, 20);
	r->stages = arena_alloc(a, sizeof *r->stages * (r->nstages + 1));
	for (uint32_t i = 0; i < r->nstages; i++) {
		r->stages[i].journey = (uint32_t)unpack_u64(u);
		r->stages[i].stage = (uint32_t)unpack_u64(u);
		r->stages[i].reached = unpack_u64(u);
		get_agg(u, a, &r->stages[i].dwell);
	}
	r->nmetrics = unpack_count(u, 3);
	r->metrics = ALLOC(a, r->nmetrics, struct snap_groups);
	for (uint32_t i = 0; i < r->nmetrics; i++)
		get_groups(u, a, &r->metrics[i]);
	r->nslas = unpack_count(u, 3);
	r->slas = ALLOC(a, r->nslas, struct snap_groups);
	for (uint32_t i = 0; i < r->nslas; i++)
		get_groups(u, a, &r->slas[i]);
	r->ngoals = unpack_count(u, 6);
	r->goals = arena_alloc(a, sizeof *r->goals * (r->ngoals + 1));
	for (uint32_t i = 0; i < r->ngoals; i++) {
		r->goals[i].rule = (uint32_t)unpack_u64(u);
		r->goals[i].goal = (uint32_t)unpack_u64(u);
		r->goals[i].s.treated = unpack_u64(u);
		r->goals[i].s.treated_converted = unpack_u64(u);
		r->goals[i].s.held = unpack_u64(u);
		r->goals[i].s.held_converted = unpack_u64(u);
	}
	r->nbudgets = unpack_count(u, 2);
	r->budgets = arena_alloc(a, sizeof *r->budgets * (r->nbudgets + 1));
	for (uint32_t i = 0; i < r->nbudgets; i++) {
		r->budgets[i].budget = (uint32_t)unpack_u64(u);
		r->budgets[i].times = get_ring(u, a, &r->budgets[i].n);
	}
	return unpack_done(u) ? 0 : -1;
}

const char *old_name_of(const struct snap_names *ns, int kind, int32_t parent, uint64_t idx)
{
	for (uint32_t i = 0; i < ns->n; i++)
		if (ns->v[i].kind == kind && ns->v[i].idx == idx && ns->v[i].parent == parent)
			return ns->v[i].name;
	return "?";
}
