/* snapshot.c: a run's state by name, out and back in (snapshot.h).
 *
 * One decoder reads a record into plain structs that still hold the old
 * indexes (struct snap_cust, struct snap_run); the loader maps them onto
 * the engine, and `cxr state` renders them with the old names.  Writing
 * and reading follow the same order, field by field: keep them side by
 * side when a field is added, and bump SNAP_RECORD_VERSION.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/pack.h"
#include "base/sketch.h"
#include "base/timeutil.h"
#include "engine_int.h"
#include "snapshot.h"

/* The layout of the records; a record of another version is damage
 * (the state file's own version, state/, refuses newer files first). */
#define SNAP_RECORD_VERSION 1

const char *const snap_kind_names[SNAP__COUNT] = {
	"rule", "variable", "journey", "stage", "metric", "sla", "goal", "budget", "type", "field", "history", "file",
};

/* ---- the table of names ---- */

void snap_names_add(struct snap_names *ns, int kind, int parent, uint32_t idx, const char *name, const char *sig)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 64;
		ns->v = mem_realloc(ns->v, sizeof *ns->v * ns->cap);
	}
	size_t ln = strlen(name), ls = strlen(sig ? sig : "");
	char *t = arena_alloc(&ns->text, ln + ls + 2);
	memcpy(t, name, ln + 1);
	memcpy(t + ln + 1, sig ? sig : "", ls + 1);
	ns->v[ns->n++] = (struct snap_name){(uint8_t)kind, parent, idx, t, t + ln + 1};
}

void snap_names_free(struct snap_names *ns)
{
	mem_free(ns->v);
	arena_free(&ns->text);
	memset(ns, 0, sizeof *ns);
}

int snap_names_equal(const struct snap_names *a, const struct snap_names *b)
{
	if (a->n != b->n)
		return 0;
	for (uint32_t i = 0; i < a->n; i++) {
		const struct snap_name *x = &a->v[i], *y = &b->v[i];
		if (x->kind != y->kind || x->parent != y->parent || x->idx != y->idx || strcmp(x->name, y->name) != 0 ||
		    strcmp(x->sig, y->sig) != 0)
			return 0;
	}
	return 1;
}

static void add_types(struct buf *b, const struct prog *p, const int *types, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			buf_addc(b, '|');
		buf_adds(b, types[i] >= 0 ? p->types[types[i]].name : "?");
	}
}

static void add_dur(struct buf *b, const char *word, int64_t d)
{
	buf_printf(b, " %s ", word);
	dur_format(b, d);
}

/* A rule's trigger as text: when it changes, pending instances started
 * under the old one cannot go on. */
static void rule_sig(struct buf *b, const struct prog *p, const struct rule_info *ri)
{
	buf_clear(b);
	switch (ri->trigger) {
	case T_EVENTS:
		for (int s = 0; s < ri->nsteps; s++) {
			buf_adds(b, s ? " then " : "on ");
			if (ri->steps[s].negated)
				buf_adds(b, "no ");
			add_types(b, p, ri->steps[s].types, ri->steps[s].ntypes);
			if (s)
				add_dur(b, "within", ri->steps[s].within);
		}
		break;
	case T_ANY: buf_adds(b, "on any"); break;
	case T_REPEAT:
		buf_printf(b, "on %lld ", (long long)ri->repeat_n);
		add_types(b, p, ri->steps[0].types, ri->steps[0].ntypes);
		add_dur(b, "within", ri->repeat_within);
		break;
	case T_ENTER:
	case T_EXIT:
	case T_STUCK:
		buf_printf(b, "on %s %s.%s", ri->trigger == T_ENTER ? "enter" : ri->trigger == T_EXIT ? "exit" : "stuck",
			   p->journeys[ri->journey].name, p->journeys[ri->journey].stages[ri->stage]);
		if (ri->trigger == T_STUCK)
			add_dur(b, "for", ri->stuck_for);
		break;
	case T_BREACH: buf_printf(b, "on breach %s", p->slas[ri->sla].name); break;
	}
	if (ri->limit_n > 0) {
		buf_printf(b, " limit %lld", (long long)ri->limit_n);
		add_dur(b, "per", ri->limit_per);
	}
}

/* What a history spec keeps, as text: two specs that keep the same
 * things can take each other's past. */
static void history_name(struct buf *b, const struct prog *p, const struct history_spec *hs)
{
	buf_clear(b);
	buf_adds(b, hs->type >= 0 ? p->types[hs->type].name : "any");
	if (hs->window > 0)
		add_dur(b, "within", hs->window);
	for (int i = 0; i < hs->nsum; i++)
		buf_printf(b, "%ssum %s", i ? ", " : " ", p->slots[hs->sum_slots[i]].path);
	if (hs->keep_last)
		buf_adds(b, " last");
	if (hs->keep_first)
		buf_adds(b, " first");
	if (hs->keep_events)
		buf_adds(b, " events");
}

static const char *const fixed_fields[SLOT_FIRST_FIELD] = {"(key)", "(time)", "(type)"};

void snap_names_of(const struct engine *e, struct snap_names *out)
{
	const struct prog *p = e->prog;
	struct buf b = {0};
	memset(out, 0, sizeof *out);
	for (int i = 0; i < p->nrules; i++) {
		rule_sig(&b, p, &p->rules[i]);
		snap_names_add(out, SNAP_RULE, -1, (uint32_t)i, p->rules[i].name, b.p);
	}
	for (int i = 0; i < p->nvars; i++)
		snap_names_add(out, SNAP_VAR, -1, (uint32_t)i, p->vars[i], "");
	for (int j = 0; j < p->njourneys; j++) {
		snap_names_add(out, SNAP_JOURNEY, -1, (uint32_t)j, p->journeys[j].name, "");
		for (int s = 0; s < p->journeys[j].nstages; s++)
			snap_names_add(out, SNAP_STAGE, j, (uint32_t)s, p->journeys[j].stages[s], "");
	}
	for (int i = 0; i < p->nmetrics; i++) {
		buf_clear(&b);
		buf_adds(&b, agg_names[p->metrics[i].agg]);
		if (p->metrics[i].by)
			buf_printf(&b, " by %s", p->metrics[i].by);
		snap_names_add(out, SNAP_METRIC, -1, (uint32_t)i, p->metrics[i].name, b.p);
	}
	for (int i = 0; i < p->nslas; i++) {
		const struct sla_info *s = &p->slas[i];
		buf_clear(&b);
		add_types(&b, p, s->from.types, s->from.ntypes);
		buf_adds(&b, " -> ");
		add_types(&b, p, s->to.types, s->to.ntypes);
		add_dur(&b, "within", s->to.within);
		snap_names_add(out, SNAP_SLA, -1, (uint32_t)i, s->name, b.p);
	}
	for (int i = 0; i < p->ngoals; i++) {
		buf_clear(&b);
		add_types(&b, p, p->goals[i].types, p->goals[i].ntypes);
		add_dur(&b, "within", p->goals[i].within);
		snap_names_add(out, SNAP_GOAL, -1, (uint32_t)i, p->goals[i].name, b.p);
	}
	for (int i = 0; i < p->nbudgets; i++) {
		buf_clear(&b);
		buf_printf(&b, "%lld", (long long)p->budgets[i].amount);
		add_dur(&b, "per", p->budgets[i].per);
		snap_names_add(out, SNAP_BUDGET, -1, (uint32_t)i, p->budgets[i].name, b.p);
	}
	for (int i = 0; i < p->ntypes; i++)
		snap_names_add(out, SNAP_TYPE, -1, (uint32_t)i, p->types[i].name, "");
	for (int i = 0; i < p->nslots; i++)
		snap_names_add(out, SNAP_FIELD, -1, (uint32_t)i, i < SLOT_FIRST_FIELD ? fixed_fields[i] : p->slots[i].path,
			       "");
	for (int i = 0; i < p->nhspecs; i++) {
		history_name(&b, p, &p->hspecs[i]);
		snap_names_add(out, SNAP_HISTORY, -1, (uint32_t)i, b.p, "");
	}
	for (uint32_t i = 0; i < e->nfiles; i++)
		snap_names_add(out, SNAP_FILE, -1, i, e->files[i], "");
	buf_free(&b);
}

/* ---- writing ---- */

static void put_val(struct buf *b, const struct val *v)
{
	pack_u64(b, v->kind);
	pack_u64(b, v->flags);
	switch (v->kind) {
	case V_BOOL:
	case V_INT:
	case V_TIME:
	case V_DUR: pack_i64(b, v->u.i); break;
	case V_FLOAT: pack_f64(b, v->u.f); break;
	case V_STR:
	case V_ERR: pack_bytes(b, v->u.s, v->len); break;
	case V_LIST:
		pack_u64(b, v->len);
		for (uint32_t i = 0; i < v->len; i++)
			put_val(b, &v->u.items[i]);
		break;
	}
}

static void put_event(struct buf *b, const struct event *ev, int nslots)
{
	pack_i64(b, ev->time);
	pack_i64(b, ev->type);
	put_val(b, &ev->type_name);
	pack_u64(b, ev->file);
	pack_u64(b, ev->line);
	uint32_t n = 0;
	for (int i = 0; i < nslots; i++)
		n += ev->slots[i].kind != V_NULL;
	pack_u64(b, n);
	for (int i = 0; i < nslots; i++)
		if (ev->slots[i].kind != V_NULL) {
			pack_u64(b, (uint64_t)i);
			put_val(b, &ev->slots[i]);
		}
}

static void put_opt_event(struct buf *b, const struct event *ev, int nslots)
{
	pack_u64(b, ev != NULL);
	if (ev)
		put_event(b, ev, nslots);
}

static void put_timer(struct buf *b, const struct timer *t)
{
	pack_i64(b, t->deadline);
	pack_u64(b, t->seq);
	pack_u64(b, t->heap_at != TIMER_IDLE); /* a breached SLA clock stays, disarmed */
}

static void put_ring(struct buf *b, const int64_t *ring, uint32_t n, uint32_t head, uint32_t size)
{
	pack_u64(b, n);
	for (uint32_t i = 0; i < n; i++)
		pack_i64(b, ring[(head + i) % size]);
}

static void put_agg(struct buf *b, const struct agg_state *a)
{
	pack_u64(b, a->n);
	pack_f64(b, a->sum);
	pack_f64(b, a->min);
	pack_f64(b, a->max);
	pack_u64(b, a->hits);
	pack_u64(b, a->misses);
	pack_u64(b, a->started);
	pack_u64(b, a->met);
	pack_u64(b, a->late);
	pack_u64(b, a->breached);
	pack_u64(b, a->mixed);
	pack_u64(b, (uint64_t)a->durations);
	uint64_t nexact = a->exact ? a->n : 0;
	pack_u64(b, nexact);
	for (uint64_t i = 0; i < nexact; i++)
		pack_f64(b, a->exact[i]);
	struct buf sk = {0};
	if (a->sketch)
		sketch_write(a->sketch, &sk);
	pack_bytes(b, sk.p, sk.len);
	buf_free(&sk);
}

static void put_groups(struct buf *b, const struct groups *g)
{
	pack_u64(b, g->n);
	for (uint32_t i = 0; i < g->n; i++) {
		pack_bytes(b, g->keys[i], g->lens[i]);
		put_agg(b, &g->aggs[i]);
	}
}

struct snap_saver {
	struct engine *e;
	/* stuck timers, which only the heap holds, by customer */
	struct stuck_timer **stuck;
	uint32_t *stuck_from; /* per customer + 1: its first in stuck[] */
};

static int stuck_by_customer(const void *a, const void *b)
{
	const struct stuck_timer *x = *(struct stuck_timer *const *)a, *y = *(struct stuck_timer *const *)b;
	if (x->cust != y->cust)
		return x->cust < y->cust ? -1 : 1;
	return x->timer.seq < y->timer.seq ? -1 : x->timer.seq > y->timer.seq;
}

struct snap_saver *snap_saver_new(struct engine *e)
{
	struct snap_saver *s = mem_alloc(sizeof *s);
	s->e = e;
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->nheap; i++)
		n += e->heap[i]->kind == TIMER_STUCK;
	s->stuck = mem_alloc(sizeof *s->stuck * (n + 1));
	n = 0;
	for (uint32_t i = 0; i < e->nheap; i++)
		if (e->heap[i]->kind == TIMER_STUCK)
			s->stuck[n++] = (struct stuck_timer *)(void *)e->heap[i];
	qsort(s->stuck, n, sizeof *s->stuck, stuck_by_customer);
	s->stuck_from = mem_alloc(sizeof *s->stuck_from * (e->ncusts + 1));
	for (uint32_t i = 0, c = 0; c <= e->ncusts; c++) {
		while (i < n && s->stuck[i]->cust < c)
			i++;
		s->stuck_from[c] = i;
	}
	return s;
}

void snap_saver_free(struct snap_saver *s)
{
	if (!s)
		return;
	mem_free(s->stuck);
	mem_free(s->stuck_from);
	mem_free(s);
}

void snap_save_run(struct snap_saver *s, struct buf *b)
{
	const struct engine *e = s->e;
	const struct prog *p = e->prog;
	pack_u64(b, SNAP_RECORD_VERSION);
	pack_u64(b, e->events);
	pack_u64(b, e->rejected);
	pack_u64(b, e->rejected_lines);
	pack_u64(b, e->responses);
	pack_u64(b, e->runtime_errors);
	pack_u64(b, e->late);
	pack_i64(b, e->last_time);
	pack_u64(b, e->timer_seq);
	pack_u64(b, e->entry_seq);
	pack_u64(b, REJECT__COUNT);
	for (int k = 0; k < REJECT__COUNT; k++)
		pack_u64(b, e->tally.n[k]);
	pack_i64(b, e->tally.late_by);
	pack_u64(b, (uint64_t)p->nrules);
	for (int r = 0; r < p->nrules; r++) {
		const struct rule_stats *st = &e->stats[r];
		pack_u64(b, (uint64_t)r);
		pack_u64(b, st->fired);
		pack_u64(b, st->deduped);
		pack_u64(b, st->capped);
		pack_u64(b, st->held_out);
		pack_u64(b, st->budget_exhausted);
		pack_u64(b, st->errors);
		pack_u64(b, st->customers);
	}
	uint64_t nstages = 0;
	for (int j = 0; j < p->njourneys; j++)
		nstages += (uint64_t)p->journeys[j].nstages;
	pack_u64(b, nstages);
	for (int j = 0; j < p->njourneys; j++)
		for (int st = 0; st < p->journeys[j].nstages; st++) {
			pack_u64(b, (uint64_t)j);
			pack_u64(b, (uint64_t)st);
			pack_u64(b, e->journey_reached[j][st]);
			put_agg(b, &e->journey_dwell[j][st]);
		}
	pack_u64(b, (uint64_t)p->nmetrics);
	for (int m = 0; m < p->nmetrics; m++) {
		pack_u64(b, (uint64_t)m);
		pack_u64(b, e->metric_errors[m]);
		put_groups(b, &e->metric_groups[m]);
	}
	pack_u64(b, (uint64_t)p->nslas);
	for (int m = 0; m < p->nslas; m++) {
		pack_u64(b, (uint64_t)m);
		pack_u64(b, e->sla_errors[m]);
		put_groups(b, &e->sla_groups[m]);
	}
	pack_u64(b, (uint64_t)(p->nrules * p->ngoals));
	for (int r = 0; r < p->nrules; r++)
		for (int g = 0; g < p->ngoals; g++) {
			const struct goal_stats *gs = &e->goal_stats[r * p->ngoals + g];
			pack_u64(b, (uint64_t)r);
			pack_u64(b, (uint64_t)g);
			pack_u64(b, gs->treated);
			pack_u64(b, gs->treated_converted);
			pack_u64(b, gs->held);
			pack_u64(b, gs->held_converted);
		}
	pack_u64(b, (uint64_t)p->nbudgets);
	for (int k = 0; k < p->nbudgets; k++) {
		pack_u64(b, (uint64_t)k);
		put_ring(b, e->budget_spent[k], e->budget_n[k], e->budget_head[k], (uint32_t)p->budgets[k].amount);
	}
}

void snap_save_customer(struct snap_saver *s, uint32_t cust, struct buf *b)
{
	const struct engine *e = s->e;
	const struct prog *p = e->prog;
	const struct customer *c = &e->custs[cust];
	const struct customer_rare *r = cust_rare(c);
	pack_u64(b, SNAP_RECORD_VERSION);
	uint32_t nvars = 0;
	for (int v = 0; c->vars && v < p->nvars; v++)
		nvars += c->vars[v].v.kind != V_NULL;
	pack_u64(b, nvars);
	for (int v = 0; c->vars && v < p->nvars; v++)
		if (c->vars[v].v.kind != V_NULL) {
			pack_u64(b, (uint64_t)v);
			put_val(b, &c->vars[v].v);
		}
	pack_u64(b, r->ntags);
	for (uint32_t i = 0; i < r->ntags; i++)
		pack_bytes(b, r->tags[i], strlen(r->tags[i]));
	uint32_t n = 0;
	for (const struct rule_state *rs = r->rules; rs; rs = rs->next)
		n++;
	pack_u64(b, n);
	for (const struct rule_state *rs = r->rules; rs; rs = rs->next) {
		const struct rule_info *ri = &p->rules[rs->rule];
		pack_u64(b, (uint64_t)rs->rule);
		pack_u64(b, rs->nkeys);
		for (uint32_t i = 0; i < rs->nkeys; i++)
			pack_bytes(b, rs->keys[i], strlen(rs->keys[i]));
		put_ring(b, rs->fired, rs->nfired, rs->head, ri->limit_n > 0 ? (uint32_t)ri->limit_n : 1);
		put_ring(b, rs->window, rs->nwin, rs->win_head, (uint32_t)ri->repeat_n + 1);
		pack_u64(b, (uint64_t)rs->goals_watched);
		pack_u64(b, (uint64_t)rs->counted);
	}
	n = 0;
	for (int j = 0; r->journeys && j < p->njourneys; j++)
		n += r->journeys[j].stage >= 0 || r->journeys[j].reached;
	pack_u64(b, n);
	for (int j = 0; r->journeys && j < p->njourneys; j++) {
		const struct jstate *js = &r->journeys[j];
		if (js->stage < 0 && !js->reached)
			continue;
		pack_u64(b, (uint64_t)j);
		pack_i64(b, js->stage);
		pack_i64(b, js->entered);
		pack_u64(b, js->entry_seq);
		pack_u64(b, js->reached);
	}
	n = 0;
	for (const struct instance *in = c->pending; in; in = in->next)
		n++;
	pack_u64(b, n);
	for (const struct instance *in = c->pending; in; in = in->next) {
		pack_u64(b, (uint64_t)in->rule);
		pack_u64(b, (uint64_t)in->step);
		put_timer(b, &in->timer);
		for (int i = 0; i < in->step; i++)
			put_event(b, in->bound[i], p->nslots);
	}
	n = 0;
	for (const struct sla_clock *k = r->clocks; k; k = k->next)
		n++;
	pack_u64(b, n);
	for (const struct sla_clock *k = r->clocks; k; k = k->next) {
		const struct groups *g = &e->sla_groups[k->sla];
		pack_u64(b, (uint64_t)k->sla);
		pack_u64(b, (uint64_t)k->breached);
		if (k->group >= 0 && (uint32_t)k->group < g->n)
			pack_bytes(b, g->keys[k->group], g->lens[k->group]);
		else
			pack_bytes(b, "", 0);
		put_timer(b, &k->timer);
		put_opt_event(b, k->from, p->nslots);
	}
	n = 0;
	for (const struct goal_watch *w = r->watches; w; w = w->next)
		n++;
	pack_u64(b, n);
	for (const struct goal_watch *w = r->watches; w; w = w->next) {
		pack_u64(b, (uint64_t)w->rule);
		pack_u64(b, (uint64_t)w->goal);
		pack_u64(b, (uint64_t)w->held_out);
		put_timer(b, &w->timer);
	}
	uint32_t from = s->stuck_from[cust], to = s->stuck_from[cust + 1];
	pack_u64(b, to - from);
	for (uint32_t i = from; i < to; i++) {
		const struct stuck_timer *st = s->stuck[i];
		pack_u64(b, (uint64_t)st->rule);
		pack_u64(b, (uint64_t)st->journey);
		pack_u64(b, st->entry_seq);
		put_timer(b, &st->timer);
	}
	pack_u64(b, r->hist ? (uint64_t)p->nhspecs : 0);
	for (int k = 0; r->hist && k < p->nhspecs; k++) {
		const struct hist *h = &r->hist[k];
		int nsum = p->hspecs[k].nsum < 64 ? p->hspecs[k].nsum : 64;
		pack_u64(b, (uint64_t)k);
		pack_u64(b, (uint64_t)(h->sums ? nsum : 0));
		pack_u64(b, h->n);
		pack_u64(b, h->evs != NULL);
		for (uint32_t i = 0; i < h->n; i++) {
			uint32_t at = (h->head + i) % h->cap;
			pack_i64(b, h->times[at]);
			for (int x = 0; h->sums && x < nsum; x++)
				pack_f64(b, h->sums[(size_t)at * (size_t)nsum + (size_t)x]);
			if (h->evs)
				put_event(b, h->evs[at], p->nslots);
		}
		put_opt_event(b, h->last, p->nslots);
		put_opt_event(b, h->first, p->nslots);
	}
}

/* ---- reading: records into plain structs, old indexes kept ---- */

struct snap_event {
	int64_t time;
	int64_t type;
	struct val type_name;
	uint32_t file;
	uint64_t line;
	uint32_t nfields;
	uint32_t *fields;
	struct val *vals;
};

struct snap_timer {
	int64_t deadline;
	uint64_t seq;
	int armed;
};

struct snap_rule_state {
	uint32_t rule, nkeys, nfired, nwin;
	const char **keys;
	size_t *keylens;
	int64_t *fired, *window;
	int goals_watched, counted;
};

struct snap_jstate {
	uint32_t journey;
	int64_t stage, entered;
	uint64_t entry_seq, reached;
};

struct snap_instance {
	uint32_t rule, step;
	struct snap_timer timer;
	struct snap_event *bound;
};

struct snap_clock {
	uint32_t sla;
	int breached;
	const char *group;
	size_t grouplen;
	struct snap_timer timer;
	int has_from;
	struct snap_event from;
};

struct snap_watch {
	uint32_t rule, goal;
	int held_out;
	struct snap_timer timer;
};

struct snap_stuck {
	uint32_t rule, journey;
	uint64_t entry_seq;
	struct snap_timer timer;
};

struct snap_hist {
	uint32_t spec, nsum, n;
	int has_events, has_last, has_first;
	int64_t *times;
	double *sums;
	struct snap_event *evs, last, first;
};

struct snap_cust {
	uint32_t nvars, ntags, nrules, njourneys, ninstances, nclocks, nwatches, nstuck, nhist;
	uint32_t *var;
	struct val *vals;
	struct val *tags;
	struct snap_rule_state *rules;
	struct snap_jstate *journeys;
	struct snap_instance *instances;
	struct snap_clock *clocks;
	struct snap_watch *watches;
	struct snap_stuck *stuck;
	struct snap_hist *hist;
};

#define ALLOC(a, n, type) ((type *)arena_alloc((a), sizeof(type) * ((size_t)(n) + 1)))

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

static int decode_customer(struct unpack *u, struct arena *a, struct snap_cust *c)
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

struct snap_agg {
	struct agg_state a; /* exact and sketch not set */
	uint32_t nexact;
	double *exact;
	const char *sketch;
	size_t sketchlen;
};

struct snap_group {
	const char *key;
	size_t keylen;
	struct snap_agg agg;
};

struct snap_groups {
	uint32_t id;
	uint64_t errors;
	uint32_t n;
	struct snap_group *g;
};

struct snap_run {
	uint64_t events, rejected, rejected_lines, responses, runtime_errors, late, timer_seq, entry_seq;
	int64_t last_time, late_by;
	uint64_t tally[REJECT__COUNT];
	uint32_t nrules, nstages, nmetrics, nslas, ngoals, nbudgets;
	struct {
		uint32_t rule;
		struct rule_stats s;
	} *rules;
	struct {
		uint32_t journey, stage;
		uint64_t reached;
		struct snap_agg dwell;
	} *stages;
	struct snap_groups *metrics, *slas;
	struct {
		uint32_t rule, goal;
		struct goal_stats s;
	} *goals;
	struct {
		uint32_t budget, n;
		int64_t *times;
	} *budgets;
};

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

static int decode_run(struct unpack *u, struct arena *a, struct snap_run *r)
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

/* ---- the loader: old indexes onto the engine's ---- */

static const char *old_name_of(const struct snap_names *ns, int kind, int32_t parent, uint64_t idx)
{
	for (uint32_t i = 0; i < ns->n; i++)
		if (ns->v[i].kind == kind && ns->v[i].idx == idx && ns->v[i].parent == parent)
			return ns->v[i].name;
	return "?";
}

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

/* ---- describing, for `cxr state` ---- */

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
