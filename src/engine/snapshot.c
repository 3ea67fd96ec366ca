/* snapshot.c: a run's state by name (snapshot.h): the table of names,
 * and the records written.  Reading them is snapshot_decode.c (into the
 * plain structs of snapshot_int.h), snapshot_load.c (into an engine) and
 * snapshot_describe.c (for `cxr state`).  Writing and decoding follow the
 * same order, field by field: keep them side by side when a field is
 * added, and bump SNAP_RECORD_VERSION.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/pack.h"
#include "base/sketch.h"
#include "base/timeutil.h"
#include "engine_int.h"
#include "snapshot_int.h"

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
