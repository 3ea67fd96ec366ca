/* snapshot_load.c: a snapshot read back into a fresh engine, each old
 * name mapped onto the engine's (snapshot.h), and the report of what a
 * changed script drops. */
#include <string.h>

#include "base/sketch.h"
#include "snapshot_int.h"

/* What the new script drops of one old name, by kind of thing. */
enum drop_kind {
	DROP_VALUES, DROP_RULE_STATE, DROP_PENDING, DROP_CLOCKS, DROP_WATCHES, DROP_STUCK, DROP_STAGES, DROP_LEFT,
	DROP_REACHED, DROP_GROUPS, DROP_HISTORY, DROP__COUNT
};

/* Each as "one|many", for the report. */
static const char *const drop_names[DROP__COUNT] = {
	"customer's value|customers' values",
	"customer's dedupe keys and caps|customers' dedupe keys and caps",
	"pending sequence or absence|pending sequences and absences",
	"open clock|open clocks",
	"goal watch|goal watches",
	"stuck timer|stuck timers",
	"customer's stage|customers' stages",
	"customer who was in it (it leaves the journey)|customers who were in them (they leave the journey)",
	"stage's counts|stages' counts",
	"group|groups",
	"customer's history|customers' histories",
};

struct dropped {
	uint64_t n[DROP__COUNT];
};

struct snap_loader {
	struct engine *e;
	const struct snap_names *old;
	int32_t *to[SNAP__COUNT];     /* old idx -> new idx, or -1 */
	uint32_t n[SNAP__COUNT];      /* old names of each kind */
	uint8_t *changed[SNAP__COUNT]; /* its signature differs */
	uint8_t *reset;               /* per old rule: --reset */
	const struct snap_name **name[SNAP__COUNT];
	int32_t **stage_to;           /* per old journey, old stage -> new stage of the journey it maps to */
	uint32_t *nstages;
	struct dropped *drops[SNAP__COUNT];
	struct snap_names now;        /* the engine's names, to map onto */
	struct arena scratch;         /* one record's decoding */
	uint64_t lost_fields;         /* values of stored events that no field of the new script reads */
};

/* The new name of an old one: the same kind and name (a stage: in the
 * journey its journey maps to), or NULL. */
static const struct snap_name *new_name(const struct snap_loader *l, const struct snap_name *n, int32_t parent_to)
{
	for (uint32_t i = 0; i < l->now.n; i++) {
		const struct snap_name *x = &l->now.v[i];
		if (x->kind == n->kind && strcmp(x->name, n->name) == 0 &&
		    (n->kind != SNAP_STAGE || (parent_to >= 0 && x->parent == parent_to)))
			return x;
	}
	return NULL;
}

struct snap_loader *snap_loader_new(struct engine *e, const struct snap_names *old)
{
	struct snap_loader *l = mem_alloc(sizeof *l);
	l->e = e;
	l->old = old;
	snap_names_of(e, &l->now);
	for (uint32_t i = 0; i < old->n; i++) {
		const struct snap_name *n = &old->v[i];
		if (n->kind < SNAP__COUNT && n->kind != SNAP_STAGE && n->idx + 1 > l->n[n->kind])
			l->n[n->kind] = n->idx + 1;
	}
	for (int k = 0; k < SNAP__COUNT; k++) {
		l->to[k] = mem_alloc(sizeof *l->to[k] * (l->n[k] + 1));
		l->changed[k] = mem_alloc(l->n[k] + 1);
		l->name[k] = mem_alloc(sizeof *l->name[k] * (l->n[k] + 1));
		l->drops[k] = mem_alloc(sizeof *l->drops[k] * (l->n[k] + 1));
		for (uint32_t i = 0; i < l->n[k]; i++)
			l->to[k][i] = -1;
	}
	l->reset = mem_alloc(l->n[SNAP_RULE] + 1);
	uint32_t nj = l->n[SNAP_JOURNEY];
	l->stage_to = mem_alloc(sizeof *l->stage_to * (nj + 1));
	l->nstages = mem_alloc(sizeof *l->nstages * (nj + 1));
	for (uint32_t i = 0; i < old->n; i++) {
		const struct snap_name *n = &old->v[i];
		if (n->kind == SNAP_STAGE && n->parent >= 0 && (uint32_t)n->parent < nj && n->idx + 1 > l->nstages[n->parent])
			l->nstages[n->parent] = n->idx + 1;
	}
	for (uint32_t j = 0; j < nj; j++) {
		l->stage_to[j] = mem_alloc(sizeof **l->stage_to * (l->nstages[j] + 1));
		for (uint32_t s = 0; s < l->nstages[j]; s++)
			l->stage_to[j][s] = -1;
	}
	for (uint32_t i = 0; i < old->n; i++) {
		const struct snap_name *n = &old->v[i];
		if (n->kind >= SNAP__COUNT || n->kind == SNAP_STAGE)
			continue;
		const struct snap_name *x = n->kind == SNAP_FILE ? NULL : new_name(l, n, -1);
		l->to[n->kind][n->idx] = n->kind == SNAP_FILE ? (int32_t)engine_file(e, n->name) : x ? (int32_t)x->idx : -1;
		l->name[n->kind][n->idx] = n;
		l->changed[n->kind][n->idx] = x && strcmp(x->sig, n->sig) != 0;
	}
	for (uint32_t i = 0; i < old->n; i++) {
		const struct snap_name *n = &old->v[i];
		if (n->kind != SNAP_STAGE || n->parent < 0 || (uint32_t)n->parent >= nj)
			continue;
		const struct snap_name *x = new_name(l, n, l->to[SNAP_JOURNEY][n->parent]);
		l->stage_to[n->parent][n->idx] = x ? (int32_t)x->idx : -1;
	}
	return l;
}

int snap_loader_reset(struct snap_loader *l, const char *rule)
{
	for (uint32_t i = 0; i < l->n[SNAP_RULE]; i++)
		if (l->name[SNAP_RULE][i] && strcmp(l->name[SNAP_RULE][i]->name, rule) == 0) {
			l->reset[i] = 1;
			l->to[SNAP_RULE][i] = -1;
			return 0;
		}
	return -1;
}

void snap_loader_free(struct snap_loader *l)
{
	if (!l)
		return;
	for (int k = 0; k < SNAP__COUNT; k++) {
		mem_free(l->to[k]);
		mem_free(l->changed[k]);
		mem_free(l->name[k]);
		mem_free(l->drops[k]);
	}
	for (uint32_t j = 0; j < l->n[SNAP_JOURNEY]; j++)
		mem_free(l->stage_to[j]);
	mem_free(l->stage_to);
	mem_free(l->nstages);
	mem_free(l->reset);
	arena_free(&l->scratch);
	snap_names_free(&l->now);
	mem_free(l);
}

/* The new index of an old one, or -1 (counting what is dropped). */
static int32_t map(struct snap_loader *l, int kind, uint32_t old, int what)
{
	if (old >= l->n[kind])
		return -2; /* no such name: damage */
	int32_t to = l->to[kind][old];
	if (to < 0 && what >= 0)
		l->drops[kind][old].n[what]++;
	return to;
}

static void drop(struct snap_loader *l, int kind, uint32_t old, int what, uint64_t n)
{
	if (old < l->n[kind])
		l->drops[kind][old].n[what] += n;
}

static int32_t map_stage(struct snap_loader *l, uint32_t journey, int64_t stage)
{
	if (journey >= l->n[SNAP_JOURNEY] || stage < 0 || (uint64_t)stage >= l->nstages[journey])
		return -2;
	return l->stage_to[journey][stage];
}

/* A stored event as the new prog reads it: its fields by name. */
static struct event *make_event(struct snap_loader *l, const struct snap_event *se, int *bad)
{
	const struct prog *p = l->e->prog;
	struct event ev = {0};
	struct val *slots = arena_alloc(&l->scratch, sizeof *slots * (size_t)(p->nslots + 1));
	memset(slots, 0, sizeof *slots * (size_t)(p->nslots + 1));
	ev.time = se->time;
	ev.type = se->type >= 0 && (uint64_t)se->type < l->n[SNAP_TYPE] ? l->to[SNAP_TYPE][se->type] : -1;
	if (se->type >= (int64_t)l->n[SNAP_TYPE])
		*bad = 1;
	ev.type_name = se->type_name;
	ev.slots = slots;
	ev.file = se->file < l->n[SNAP_FILE] && l->to[SNAP_FILE][se->file] >= 0 ? (uint32_t)l->to[SNAP_FILE][se->file] : 0;
	ev.line = se->line;
	for (uint32_t i = 0; i < se->nfields; i++) {
		if (se->fields[i] >= l->n[SNAP_FIELD]) {
			*bad = 1;
			continue;
		}
		int32_t to = l->to[SNAP_FIELD][se->fields[i]];
		if (to >= 0)
			slots[to] = se->vals[i];
		else
			l->lost_fields++;
	}
	return event_clone(&ev, p->nslots);
}

static void restore_agg(struct agg_state *dst, const struct snap_agg *s)
{
	*dst = s->a;
	dst->exact = NULL;
	dst->sketch = NULL;
	if (s->nexact) {
		size_t cap = 8;
		while (cap < s->nexact)
			cap *= 2;
		dst->exact = mem_alloc(sizeof *dst->exact * cap);
		memcpy(dst->exact, s->exact, sizeof *dst->exact * s->nexact);
	}
	if (s->sketchlen)
		dst->sketch = sketch_read(s->sketch, s->sketchlen);
}

static void restore_groups(struct snap_loader *l, struct groups *g, const struct snap_groups *s)
{
	(void)l;
	for (uint32_t i = 0; i < s->n; i++) {
		struct agg_state *a = groups_get(g, s->g[i].key, s->g[i].keylen, NULL);
		mem_free(a->exact);
		sketch_free(a->sketch);
		restore_agg(a, &s->g[i].agg);
	}
}

/* The newest n of a ring's times (oldest first) into a ring of size cap. */
static void restore_ring(int64_t **ring, uint32_t *n, uint32_t *head, uint32_t cap, const int64_t *times, uint32_t nt)
{
	if (!cap)
		return;
	uint32_t skip = nt > cap ? nt - cap : 0;
	if (!*ring)
		*ring = mem_alloc(sizeof **ring * cap);
	*n = nt - skip;
	*head = 0;
	for (uint32_t i = 0; i < *n; i++)
		(*ring)[i] = times[skip + i];
}

int snap_load_run(struct snap_loader *l, const char *p, size_t n)
{
	struct engine *e = l->e;
	const struct prog *pr = e->prog;
	struct arena_mark m = arena_mark(&l->scratch);
	struct unpack u;
	unpack_init(&u, p, n);
	struct snap_run r;
	int status = decode_run(&u, &l->scratch, &r);
	if (status == 0) {
		e->events = r.events;
		e->rejected = r.rejected;
		e->rejected_lines = r.rejected_lines;
		e->responses = r.responses;
		e->runtime_errors = r.runtime_errors;
		e->late = r.late;
		e->last_time = r.last_time;
		e->timer_seq = r.timer_seq;
		e->entry_seq = r.entry_seq;
		memcpy(e->tally.n, r.tally, sizeof r.tally);
		e->tally.late_by = r.late_by;
		for (uint32_t i = 0; i < r.nrules; i++) {
			int32_t to = map(l, SNAP_RULE, r.rules[i].rule, -1);
			if (to >= 0)
				e->stats[to] = r.rules[i].s;
		}
		for (uint32_t i = 0; i < r.nstages; i++) {
			int32_t j = r.stages[i].journey < l->n[SNAP_JOURNEY] ? l->to[SNAP_JOURNEY][r.stages[i].journey] : -1;
			int32_t st = map_stage(l, r.stages[i].journey, r.stages[i].stage);
			if (j < 0 || st < 0) {
				if (r.stages[i].reached)
					drop(l, SNAP_JOURNEY, r.stages[i].journey, DROP_REACHED, 1);
				continue;
			}
			e->journey_reached[j][st] = r.stages[i].reached;
			restore_agg(&e->journey_dwell[j][st], &r.stages[i].dwell);
		}
		for (uint32_t i = 0; i < r.nmetrics; i++) {
			int32_t to = map(l, SNAP_METRIC, r.metrics[i].id, -1);
			if (to >= 0 && l->changed[SNAP_METRIC][r.metrics[i].id])
				to = -1;
			if (to < 0) {
				drop(l, SNAP_METRIC, r.metrics[i].id, DROP_GROUPS, r.metrics[i].n);
				continue;
			}
			e->metric_errors[to] = r.metrics[i].errors;
			restore_groups(l, &e->metric_groups[to], &r.metrics[i]);
		}
		for (uint32_t i = 0; i < r.nslas; i++) {
			int32_t to = map(l, SNAP_SLA, r.slas[i].id, -1);
			if (to < 0) {
				drop(l, SNAP_SLA, r.slas[i].id, DROP_GROUPS, r.slas[i].n);
				continue;
			}
			e->sla_errors[to] = r.slas[i].errors;
			restore_groups(l, &e->sla_groups[to], &r.slas[i]);
		}
		for (uint32_t i = 0; i < r.ngoals; i++) {
			int32_t rule = map(l, SNAP_RULE, r.goals[i].rule, -1);
			int32_t goal = map(l, SNAP_GOAL, r.goals[i].goal, -1);
			if (rule >= 0 && goal >= 0)
				e->goal_stats[rule * pr->ngoals + goal] = r.goals[i].s;
		}
		for (uint32_t i = 0; i < r.nbudgets; i++) {
			int32_t to = map(l, SNAP_BUDGET, r.budgets[i].budget, -1);
			if (to >= 0)
				restore_ring(&e->budget_spent[to], &e->budget_n[to], &e->budget_head[to],
					     (uint32_t)pr->budgets[to].amount, r.budgets[i].times, r.budgets[i].n);
		}
	}
	arena_reset(&l->scratch, m);
	return status;
}

static void timer_back(struct engine *e, struct timer *t, const struct snap_timer *st)
{
	if (st->armed)
		timer_restore(e, t, st->deadline, st->seq);
	else
		t->deadline = st->deadline;
}

/* The customer's list of pending instances, SLA clocks or goal watches
 * is rebuilt in its saved order, each appended at its end. */
static void restore_customer(struct snap_loader *l, uint32_t cust, const struct snap_cust *s, int *bad)
{
	struct engine *e = l->e;
	const struct prog *p = e->prog;
	struct customer *c = &e->custs[cust];
	for (uint32_t i = 0; i < s->nvars; i++) {
		int32_t to = map(l, SNAP_VAR, s->var[i], DROP_VALUES);
		if (to == -2)
			*bad = 1;
		if (to < 0)
			continue;
		if (!c->vars)
			c->vars = mem_alloc(sizeof *c->vars * (size_t)p->nvars);
		size_t n = val_copy_size(&s->vals[i]);
		struct owned *o = &c->vars[to];
		mem_free(o->mem);
		o->mem = NULL;
		o->v = s->vals[i];
		if (n) {
			o->mem = mem_alloc(n);
			char *mem = o->mem;
			o->v = val_copy_into(&s->vals[i], &mem);
		}
	}
	if (s->ntags) {
		struct customer_rare *r = cust_rare_new(c);
		r->tags = mem_alloc(sizeof *r->tags * s->ntags);
		for (uint32_t i = 0; i < s->ntags; i++)
			r->tags[i] = mem_strndup(s->tags[i].u.s, s->tags[i].len);
		r->ntags = s->ntags;
	}
	/* Rule states: prepended as they were made, so restored last first. */
	for (uint32_t i = s->nrules; i-- > 0;) {
		const struct snap_rule_state *sr = &s->rules[i];
		int32_t to = map(l, SNAP_RULE, sr->rule, DROP_RULE_STATE);
		if (to == -2)
			*bad = 1;
		if (to < 0)
			continue;
		const struct rule_info *ri = &p->rules[to];
		struct rule_state *rs = engine_rule_state(e, cust, to);
		if (sr->nkeys) {
			rs->keys = mem_alloc(sizeof *rs->keys * sr->nkeys);
			for (uint32_t k = 0; k < sr->nkeys; k++)
				rs->keys[k] = mem_strndup(sr->keys[k], sr->keylens[k]);
			rs->nkeys = rs->capkeys = sr->nkeys;
		}
		if (ri->limit_n > 0)
			restore_ring(&rs->fired, &rs->nfired, &rs->head, (uint32_t)ri->limit_n, sr->fired, sr->nfired);
		if (ri->trigger == T_REPEAT && sr->nwin)
			restore_ring(&rs->window, &rs->nwin, &rs->win_head, (uint32_t)ri->repeat_n + 1, sr->window,
				     sr->nwin);
		rs->goals_watched = sr->goals_watched;
		rs->counted = sr->counted;
	}
	for (uint32_t i = 0; i < s->njourneys; i++) {
		const struct snap_jstate *sj = &s->journeys[i];
		int32_t j = map(l, SNAP_JOURNEY, sj->journey, DROP_STAGES);
		if (j == -2)
			*bad = 1;
		if (j < 0)
			continue;
		int32_t st = sj->stage >= 0 ? map_stage(l, sj->journey, sj->stage) : -1;
		if (st == -2) {
			*bad = 1;
			continue;
		}
		struct customer_rare *r = cust_rare_new(c);
		if (!r->journeys) {
			r->journeys = mem_alloc(sizeof *r->journeys * (size_t)p->njourneys);
			for (int k = 0; k < p->njourneys; k++)
				r->journeys[k].stage = -1;
		}
		if (sj->stage >= 0 && st < 0) /* its stage is gone: the customer leaves the journey */
			drop(l, SNAP_JOURNEY, sj->journey, DROP_LEFT, 1);
		struct jstate *js = &r->journeys[j];
		js->stage = st;
		js->entered = sj->entered;
		js->entry_seq = sj->entry_seq;
		js->reached = 0;
		for (uint32_t b = 0; b < 64 && b < l->nstages[sj->journey]; b++) {
			int32_t to = l->stage_to[sj->journey][b];
			if ((sj->reached >> b & 1) && to >= 0 && to < 64)
				js->reached |= 1ULL << to;
		}
	}
	for (uint32_t i = 0; i < s->ninstances; i++) {
		const struct snap_instance *si = &s->instances[i];
		int32_t to = map(l, SNAP_RULE, si->rule, DROP_PENDING);
		if (to == -2)
			*bad = 1;
		if (to < 0)
			continue;
		const struct rule_info *ri = &p->rules[to];
		if (l->changed[SNAP_RULE][si->rule] || ri->trigger != T_EVENTS || si->step >= (uint32_t)ri->nsteps) {
			drop(l, SNAP_RULE, si->rule, DROP_PENDING, 1);
			continue;
		}
		struct instance *in = mem_alloc(sizeof *in + sizeof *in->bound * (size_t)ri->nsteps);
		timer_init(&in->timer, TIMER_PATTERN);
		in->cust = cust;
		in->rule = to;
		in->step = (int)si->step;
		for (uint32_t k = 0; k < si->step; k++)
			in->bound[k] = make_event(l, &si->bound[k], bad);
		instance_link(e, in);
		timer_back(e, &in->timer, &si->timer);
	}
	struct sla_clock **clock_tail = c->rare ? &c->rare->clocks : NULL;
	for (uint32_t i = 0; i < s->nclocks; i++) {
		const struct snap_clock *sc = &s->clocks[i];
		int32_t to = map(l, SNAP_SLA, sc->sla, DROP_CLOCKS);
		if (to == -2)
			*bad = 1;
		if (to < 0)
			continue;
		if (l->changed[SNAP_SLA][sc->sla]) {
			drop(l, SNAP_SLA, sc->sla, DROP_CLOCKS, 1);
			continue;
		}
		struct sla_clock *k = mem_alloc(sizeof *k);
		timer_init(&k->timer, TIMER_SLA);
		k->cust = cust;
		k->sla = to;
		k->breached = sc->breached;
		uint32_t gi = 0;
		groups_get(&e->sla_groups[to], sc->group, sc->grouplen, &gi);
		k->group = (int)gi;
		k->from = sc->has_from ? make_event(l, &sc->from, bad) : NULL;
		if (!clock_tail)
			clock_tail = &cust_rare_new(c)->clocks;
		while (*clock_tail)
			clock_tail = &(*clock_tail)->next;
		*clock_tail = k;
		timer_back(e, &k->timer, &sc->timer);
	}
	for (uint32_t i = 0; i < s->nwatches; i++) {
		const struct snap_watch *sw = &s->watches[i];
		int32_t rule = map(l, SNAP_RULE, sw->rule, DROP_WATCHES);
		int32_t goal = map(l, SNAP_GOAL, sw->goal, DROP_WATCHES);
		if (rule == -2 || goal == -2)
			*bad = 1;
		if (rule < 0 || goal < 0)
			continue;
		struct goal_watch *w = mem_alloc(sizeof *w);
		timer_init(&w->timer, TIMER_GOAL);
		w->cust = cust;
		w->rule = rule;
		w->goal = goal;
		w->held_out = sw->held_out;
		struct goal_watch **tail = &cust_rare_new(c)->watches;
		while (*tail)
			tail = &(*tail)->next;
		*tail = w;
		timer_back(e, &w->timer, &sw->timer);
	}
	for (uint32_t i = 0; i < s->nstuck; i++) {
		const struct snap_stuck *ss = &s->stuck[i];
		int32_t rule = map(l, SNAP_RULE, ss->rule, DROP_STUCK);
		int32_t j = map(l, SNAP_JOURNEY, ss->journey, DROP_STUCK);
		if (rule == -2 || j == -2)
			*bad = 1;
		if (rule < 0 || j < 0)
			continue;
		if (l->changed[SNAP_RULE][ss->rule] || p->rules[rule].trigger != T_STUCK) {
			drop(l, SNAP_RULE, ss->rule, DROP_STUCK, 1);
			continue;
		}
		struct stuck_timer *st = mem_alloc(sizeof *st);
		timer_init(&st->timer, TIMER_STUCK);
		st->cust = cust;
		st->rule = rule;
		st->journey = j;
		st->entry_seq = ss->entry_seq;
		timer_back(e, &st->timer, &ss->timer);
	}
	for (uint32_t i = 0; i < s->nhist; i++) {
		const struct snap_hist *sh = &s->hist[i];
		int32_t to = map(l, SNAP_HISTORY, sh->spec, DROP_HISTORY);
		if (to == -2)
			*bad = 1;
		if (to < 0)
			continue;
		const struct history_spec *hs = &p->hspecs[to];
		struct customer_rare *r = cust_rare_new(c);
		if (!r->hist)
			r->hist = mem_alloc(sizeof *r->hist * (size_t)p->nhspecs);
		struct hist *h = &r->hist[to];
		int nsum = hs->nsum < 64 ? hs->nsum : 64;
		if ((uint32_t)nsum != sh->nsum && sh->n) {
			*bad = 1; /* the same name keeps the same sums */
			continue;
		}
		for (uint32_t k = 0; k < sh->n; k++)
			hist_push(h, nsum, sh->times[k], sh->sums + (size_t)k * sh->nsum,
				  sh->has_events ? make_event(l, &sh->evs[k], bad) : NULL);
		if (sh->has_last)
			h->last = make_event(l, &sh->last, bad);
		if (sh->has_first)
			h->first = make_event(l, &sh->first, bad);
	}
}

int snap_load_customer(struct snap_loader *l, const char *key, size_t keylen, const char *p, size_t n)
{
	struct arena_mark m = arena_mark(&l->scratch);
	struct unpack u;
	unpack_init(&u, p, n);
	struct snap_cust s;
	int status = decode_customer(&u, &l->scratch, &s);
	if (status == 0) {
		int bad = 0;
		uint32_t cust = engine_customer(l->e, key, keylen);
		restore_customer(l, cust, &s, &bad);
		status = bad ? -1 : 0;
	}
	arena_reset(&l->scratch, m);
	return status;
}

/* "dropped 1 open clock, 3 goal watches" */
static void add_drops(struct buf *out, const struct dropped *d)
{
	int first = 1;
	for (int k = 0; k < DROP__COUNT; k++) {
		if (!d->n[k])
			continue;
		const char *bar = strchr(drop_names[k], '|');
		buf_printf(out, "%s%llu ", first ? "dropped " : ", ", (unsigned long long)d->n[k]);
		if (d->n[k] == 1)
			buf_add(out, drop_names[k], (size_t)(bar - drop_names[k]));
		else
			buf_adds(out, bar + 1);
		first = 0;
	}
}

static int any_drops(const struct dropped *d)
{
	for (int k = 0; k < DROP__COUNT; k++)
		if (d->n[k])
			return 1;
	return 0;
}

void snap_loader_report(const struct snap_loader *l, const char *prefix, struct buf *out)
{
	static const int kinds[] = {SNAP_RULE, SNAP_VAR, SNAP_JOURNEY, SNAP_METRIC, SNAP_SLA, SNAP_GOAL, SNAP_BUDGET,
				    SNAP_HISTORY};
	const struct snap_names *now = &l->now;
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		int kind = kinds[k];
		for (uint32_t i = 0; i < l->n[kind]; i++) {
			const struct snap_name *n = l->name[kind][i];
			const struct dropped *d = &l->drops[kind][i];
			if (!n)
				continue;
			const char *kn = snap_kind_names[kind];
			if (kind == SNAP_RULE && l->reset[i]) {
				buf_printf(out, "%srule '%s' reset (--reset): its state starts anew\n", prefix, n->name);
				continue;
			}
			if (!any_drops(d))
				continue;
			buf_adds(out, prefix);
			if (kind == SNAP_VAR)
				buf_printf(out, "variable customer.%s", n->name);
			else if (kind == SNAP_HISTORY)
				buf_printf(out, "the history of %s", n->name);
			else
				buf_printf(out, "%s '%s'", kn, n->name);
			if (l->to[kind][i] < 0) {
				buf_adds(out, kind == SNAP_HISTORY ? " is no longer kept: " : " is no longer in the script: ");
			} else if (kind == SNAP_JOURNEY) {
				buf_adds(out, " no longer has its stage");
				int many = 0;
				for (uint32_t st = 0; st < l->nstages[i]; st++)
					many += l->stage_to[i][st] < 0;
				buf_adds(out, many > 1 ? "s" : "");
				for (uint32_t st = 0, c = 0; st < l->nstages[i]; st++)
					if (l->stage_to[i][st] < 0)
						buf_printf(out, "%s%s", c++ ? ", " : " ", old_name_of(l->old, SNAP_STAGE, (int32_t)i, st));
				buf_adds(out, ": ");
			} else {
				const char *sig = "";
				for (uint32_t x = 0; x < now->n; x++)
					if (now->v[x].kind == kind && now->v[x].idx == (uint32_t)l->to[kind][i])
						sig = now->v[x].sig;
				buf_printf(out, " changed (was: %s; now: %s): ", n->sig, sig);
			}
			add_drops(out, d);
			buf_addc(out, '\n');
		}
	}
	if (l->lost_fields)
		buf_printf(out, "%s%llu value%s of stored events %s in fields the script no longer reads: dropped\n", prefix,
			   (unsigned long long)l->lost_fields, l->lost_fields == 1 ? "" : "s",
			   l->lost_fields == 1 ? "is" : "are");
}

int snap_carry(struct engine *from, struct engine *to, struct buf *report)
{
	struct snap_names names;
	snap_names_of(from, &names);
	struct snap_saver *sv = snap_saver_new(from);
	struct snap_loader *l = snap_loader_new(to, &names);
	struct buf b = {0};
	snap_save_run(sv, &b);
	int rc = snap_load_run(l, b.p, b.len);
	for (uint32_t c = 0; rc == 0 && c < from->ncusts; c++) {
		buf_clear(&b);
		snap_save_customer(sv, c, &b);
		rc = snap_load_customer(l, cust_key(&from->custs[c]), from->custs[c].keylen, b.p, b.len);
	}
	if (rc == 0)
		snap_loader_report(l, "", report);
	buf_free(&b);
	snap_loader_free(l);
	snap_saver_free(sv);
	snap_names_free(&names);
	return rc;
}
