/* measure.c: metrics, SLAs, goals and budgets.
 *
 * Metrics and SLA latencies are aggregates that merge exactly across
 * partitions: counts and sums add up, percentiles come from mergeable
 * sketches (sketch.h).  SLA clocks and goal watches are per customer, with
 * event-time timers like the patterns'.  Budgets are the one state shared
 * by all customers: a sliding window of spend times per budget.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "base/json.h"
#include "base/sketch.h"
#include "base/timeutil.h"
#include "vm/vm.h"

#define SKETCH_ALPHA 0.01

void agg_add(struct agg_state *a, double v, int need_quantiles)
{
	if (a->n == 0 || v < a->min)
		a->min = v;
	if (a->n == 0 || v > a->max)
		a->max = v;
	a->n++;
	a->sum += v;
	if (!need_quantiles)
		return;
	if (a->sketch) {
		sketch_add(a->sketch, v);
	} else if (a->n <= AGG_EXACT) {
		/* The values themselves, in an array that doubles as it fills. */
		a->exact = mem_grow(a->exact, a->n - 1, sizeof *a->exact);
		a->exact[a->n - 1] = v;
	} else {
		a->sketch = sketch_new(SKETCH_ALPHA);
		for (int i = 0; i < AGG_EXACT; i++)
			sketch_add(a->sketch, a->exact[i]);
		sketch_add(a->sketch, v);
		mem_free(a->exact);
		a->exact = NULL;
	}
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* The nearest-rank percentile: the smallest value with at least q of the
 * values at or below it. */
double agg_quantile(const struct agg_state *a, double q)
{
	if (a->sketch) {
		/* The sketch ranks by floor(q (n - 1)); ask it for the nearest rank. */
		uint64_t n = sketch_count(a->sketch), k = (uint64_t)ceil(q * (double)n);
		double qq = n > 1 ? ((double)(k ? k - 1 : 0) + 0.5) / (double)(n - 1) : 0;
		return sketch_quantile(a->sketch, qq > 1 ? 1 : qq);
	}
	if (!a->exact || a->n == 0)
		return NAN;
	double *v = mem_alloc(sizeof *v * a->n);
	memcpy(v, a->exact, sizeof *v * a->n);
	qsort(v, a->n, sizeof *v, cmp_double);
	uint64_t rank = (uint64_t)ceil(q * (double)a->n);
	double r = v[rank ? rank - 1 : 0];
	mem_free(v);
	return r;
}

static void groups_rehash(struct groups *g)
{
	g->mask = g->mask ? g->mask * 2 + 1 : 15;
	mem_free(g->index);
	g->index = mem_alloc(sizeof *g->index * (g->mask + 1));
	for (uint32_t i = 0; i < g->n; i++) {
		uint32_t slot = (uint32_t)mem_hash(g->keys[i], g->lens[i]) & g->mask;
		while (g->index[slot])
			slot = (slot + 1) & g->mask;
		g->index[slot] = i + 1;
	}
}

/* A group by its key: a customer per group is as cheap as a channel. */
struct agg_state *groups_get(struct groups *g, const char *key, size_t len, uint32_t *index)
{
	if (!g->index)
		groups_rehash(g);
	uint32_t slot = (uint32_t)mem_hash(key, len) & g->mask;
	for (uint32_t k; (k = g->index[slot]) != 0; slot = (slot + 1) & g->mask)
		if (g->lens[k - 1] == len && memcmp(g->keys[k - 1], key, len) == 0) {
			if (index)
				*index = k - 1;
			return &g->aggs[k - 1];
		}
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		g->keys = mem_realloc(g->keys, sizeof *g->keys * g->cap);
		g->lens = mem_realloc(g->lens, sizeof *g->lens * g->cap);
		g->aggs = mem_realloc(g->aggs, sizeof *g->aggs * g->cap);
	}
	uint32_t i = g->n++;
	g->keys[i] = mem_strndup(key, len);
	g->lens[i] = (uint32_t)len;
	memset(&g->aggs[i], 0, sizeof g->aggs[i]);
	g->index[slot] = i + 1;
	if (g->n * 2 > g->mask)
		groups_rehash(g);
	if (index)
		*index = i;
	return &g->aggs[i];
}

static int cmp_group_keys(const void *pa, const void *pb, void *ud)
{
	const struct groups *g = ud;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	uint32_t la = g->lens[a], lb = g->lens[b];
	int c = memcmp(g->keys[a], g->keys[b], la < lb ? la : lb);
	return c ? c : la < lb ? -1 : la > lb;
}

uint32_t *groups_sorted(const struct groups *g)
{
	uint32_t *order = mem_alloc(sizeof *order * (g->n + 1));
	for (uint32_t i = 0; i < g->n; i++)
		order[i] = i;
	qsort_r(order, g->n, sizeof *order, cmp_group_keys, (void *)g);
	return order;
}

static void groups_free(struct groups *g)
{
	for (uint32_t i = 0; i < g->n; i++) {
		mem_free(g->keys[i]);
		sketch_free(g->aggs[i].sketch);
		mem_free(g->aggs[i].exact);
	}
	mem_free(g->keys);
	mem_free(g->lens);
	mem_free(g->index);
	mem_free(g->aggs);
}

void measure_init(struct engine *e)
{
	const struct prog *p = e->prog;
	e->metric_groups = mem_alloc(sizeof *e->metric_groups * (size_t)(p->nmetrics + 1));
	e->sla_groups = mem_alloc(sizeof *e->sla_groups * (size_t)(p->nslas + 1));
	e->goal_stats = mem_alloc(sizeof *e->goal_stats * (size_t)(p->nrules * p->ngoals + 1));
	e->budget_spent = mem_alloc(sizeof *e->budget_spent * (size_t)(p->nbudgets + 1));
	e->budget_n = mem_alloc(sizeof *e->budget_n * (size_t)(p->nbudgets + 1));
	e->budget_head = mem_alloc(sizeof *e->budget_head * (size_t)(p->nbudgets + 1));
	e->sla_errors = mem_alloc(sizeof *e->sla_errors * (size_t)(p->nslas + 1));
	e->metric_errors = mem_alloc(sizeof *e->metric_errors * (size_t)(p->nmetrics + 1));
	for (int b = 0; b < p->nbudgets; b++)
		e->budget_spent[b] = mem_alloc(sizeof **e->budget_spent * (size_t)(p->budgets[b].amount + 1));
	e->journey_reached = mem_alloc(sizeof *e->journey_reached * (size_t)(p->njourneys + 1));
	e->journey_dwell = mem_alloc(sizeof *e->journey_dwell * (size_t)(p->njourneys + 1));
	for (int j = 0; j < p->njourneys; j++) {
		int n = p->journeys[j].nstages;
		e->journey_reached[j] = mem_alloc(sizeof **e->journey_reached * (size_t)n);
		e->journey_dwell[j] = mem_alloc(sizeof **e->journey_dwell * (size_t)n);
	}
}

/* ---- metrics ---- */

/* A value as a number for a metric: numbers, data strings that read as
 * numbers, durations (kept in ns, shown as durations), booleans (1 or 0). */
static int metric_number(const struct val *v, double *out, int *is_dur)
{
	struct val n = *v;
	*is_dur = 0;
	if (n.kind == V_STR && !val_as_number(&n, &n)) {
		int64_t ns;
		const char *why;
		if (dur_parse(v->u.s, v->len, &ns, &why) < 0)
			return 0;
		n = val_dur(ns); /* a data string such as "4m" */
	}
	switch (n.kind) {
	case V_INT: *out = (double)n.u.i; return 1;
	case V_FLOAT: *out = n.u.f; return isfinite(n.u.f);
	case V_DUR: *out = (double)n.u.i; *is_dur = 1; return 1;
	case V_BOOL: *out = (double)n.u.i; return 1;
	default: return 0;
	}
}

/* What an observation adds to a metric, once checked: a value worked out
 * the same way on any thread, so that it can be added later (parallel.c). */
static int observation_of(const struct metric_info *m, const struct val *v, struct observation *o)
{
	o->truthy = val_truthy(v);
	o->x = 0;
	o->is_dur = 0;
	switch (m->agg) {
	case AGG_COUNT:
	case AGG_RATE:
		return 0;
	case AGG_NPS:
		return metric_number(v, &o->x, &o->is_dur) && o->x >= 0 && o->x <= 10 ? 0 : -1;
	case AGG_CSAT:
		return metric_number(v, &o->x, &o->is_dur) && o->x >= 1 && o->x <= 5 ? 0 : -1;
	default:
		return metric_number(v, &o->x, &o->is_dur) ? 0 : -1;
	}
}

void measure_add(struct engine *e, int metric, const char *key, size_t keylen, const struct observation *o)
{
	const struct metric_info *m = &e->prog->metrics[metric];
	struct agg_state *a = groups_get(&e->metric_groups[metric], key, keylen, NULL);
	switch (m->agg) {
	case AGG_COUNT:
		a->n++;
		break;
	case AGG_RATE:
		a->n++;
		a->hits += o->truthy;
		break;
	case AGG_NPS:
		a->n++;
		a->hits += o->x >= 9;
		a->misses += o->x <= 6;
		break;
	case AGG_CSAT:
		a->n++;
		a->hits += o->x >= 4;
		break;
	default:
		if (a->n && a->durations != o->is_dur) {
			/* 3 and 5m have no sum, no order: the value is not observed,
			 * and that is told as a runtime error of the run. */
			a->mixed++;
			e->runtime_errors++;
			if (++e->metric_errors[metric] <= 5) {
				struct buf v = {0};
				if (o->is_dur)
					dur_format(&v, dur_from_double(o->x));
				else
					json_write_num(&v, o->x);
				diag_plain(e->diag, "warning: metric %s%s%.*s: %s (%s) observed where it has observed %s; not "
						    "observed (a metric's values are all numbers or all durations)",
					   m->name, keylen ? ", group " : "", (int)keylen, key, v.p,
					   o->is_dur ? "a duration" : "a number", a->durations ? "durations" : "numbers");
				buf_free(&v);
			} else if (e->metric_errors[metric] == 6)
				diag_plain(e->diag, "note: metric %s: more values mixed, counted in the summary", m->name);
			break;
		}
		a->durations |= o->is_dur;
		agg_add(a, o->x, m->agg == AGG_P50 || m->agg == AGG_P90 || m->agg == AGG_P99);
		break;
	}
}

/* Returns 0, or -1 when the value cannot be observed (a runtime error). */
int measure_observe(struct engine *e, int metric, const struct val *v, const struct val *key)
{
	struct observation o;
	if (v->kind == V_NULL)
		return 0; /* nothing to observe */
	if (observation_of(&e->prog->metrics[metric], v, &o) < 0)
		return -1;
	struct buf k = {0};
	if (key && key->kind != V_NULL)
		val_render_text(&k, key);
	if (e->sink)
		e->sink->observation(e->sink->ud, metric, k.p ? k.p : "", k.len, &o);
	else
		measure_add(e, metric, k.p ? k.p : "", k.len, &o);
	buf_free(&k);
	return 0;
}

/* ---- SLAs ---- */

static int has_type(const int *types, int n, int type)
{
	for (int i = 0; i < n; i++)
		if (types[i] == type)
			return 1;
	return 0;
}

/* A runtime error in an SLA's condition or key: told as a rule's are (the
 * first five, then counted), and the clock does not match. */
static void sla_error(struct engine *e, int s, const char *what, const struct event *ev)
{
	struct vm *vm = e->vm;
	e->runtime_errors++;
	if (++e->sla_errors[s] > 5) {
		if (e->sla_errors[s] == 6)
			diag_plain(e->diag, "note: sla %s: more runtime errors, counted in the summary", e->prog->slas[s].name);
		return;
	}
	struct buf where = {0};
	diag_where(e->diag, &where, e->prog->lines[vm->err_pc]);
	diag_plain(e->diag, "%s: error: runtime error in sla %s (%s): %s (event %s:%llu)", where.p, e->prog->slas[s].name, what,
		   vm->err.u.s, ev->file < e->nfiles ? e->files[ev->file] : "-", (unsigned long long)ev->line);
	buf_free(&where);
}

static int sla_where(struct engine *e, int s, const struct sla_clock *c, const struct event *ev)
{
	const struct sla_info *sla = &e->prog->slas[s];
	if (sla->to.where == NO_CODE)
		return 1;
	struct vm *vm = e->vm;
	vm->bind[0] = c->from;
	vm->bind[1] = ev;
	vm->cust = &e->custs[c->cust];
	vm->now = ev->time;
	vm->rule = -1;
	if (vm->trace)
		engine_trace_start(e, c->cust, ev, "sla %s, where", sla->name);
	struct val v;
	if (vm_eval(vm, sla->to.where, &v) != VM_FIRED) {
		sla_error(e, s, "its where", ev);
		return 0;
	}
	return val_truthy(&v);
}

static void sla_open(struct engine *e, int s, const struct event *ev)
{
	const struct sla_info *sla = &e->prog->slas[s];
	struct sla_clock *c = mem_alloc(sizeof *c);
	timer_init(&c->timer, TIMER_SLA);
	c->cust = ev->cust;
	c->sla = s;
	c->from = event_clone(ev, e->prog->nslots);
	struct buf key = {0};
	if (sla->by != NO_CODE) {
		struct vm *vm = e->vm;
		vm->bind[0] = c->from;
		vm->cust = &e->custs[ev->cust];
		vm->now = ev->time;
		vm->rule = -1;
		if (vm->trace)
			engine_trace_start(e, ev->cust, ev, "sla %s, by", sla->name);
		struct val v;
		if (vm_eval(vm, sla->by, &v) != VM_FIRED)
			sla_error(e, s, "its by key", ev); /* the clock is still started, in the group of no key */
		else if (v.kind != V_NULL)
			val_render_text(&key, &v);
	}
	uint32_t g;
	struct agg_state *a = groups_get(&e->sla_groups[s], key.p ? key.p : "", key.len, &g);
	buf_free(&key);
	c->group = (int)g;
	a->started++;
	/* One answer closes every clock it matches, so their order does not
	 * matter: prepend, in constant time. */
	struct customer_rare *r = cust_rare_new(&e->custs[ev->cust]);
	c->next = r->clocks;
	r->clocks = c;
	timer_set(e, &c->timer, time_plus(ev->time, sla->to.within));
}

static void sla_close(struct engine *e, struct sla_clock *c, int64_t at)
{
	struct agg_state *lat = &e->sla_groups[c->sla].aggs[c->group];
	if (c->breached)
		lat->late++;
	else
		lat->met++;
	agg_add(lat, (double)time_since(at, c->from->time), 1);
	lat->durations = 1;
	timer_cancel(e, &c->timer);
	mem_free(c->from);
	mem_free(c);
}

/* ---- goals ---- */

static void goal_close(struct engine *e, struct goal_watch *w, int converted)
{
	struct goal_stats *gs = &e->goal_stats[w->rule * e->prog->ngoals + w->goal];
	if (converted) {
		if (w->held_out)
			gs->held_converted++;
		else
			gs->treated_converted++;
	}
	timer_cancel(e, &w->timer);
	mem_free(w);
}

/* A rule fired (or was held out) for a customer: its first firing starts
 * a watch for every goal. */
void measure_fired(struct engine *e, int rule, uint32_t cust, int64_t now, int held_out)
{
	const struct prog *p = e->prog;
	if (!p->ngoals || !p->rules[rule].emits)
		return; /* goals follow responses to the customer */
	struct rule_state *rs = engine_rule_state(e, cust, rule);
	if (rs->goals_watched)
		return;
	rs->goals_watched = 1;
	for (int g = 0; g < p->ngoals; g++) {
		struct goal_watch *w = mem_alloc(sizeof *w);
		timer_init(&w->timer, TIMER_GOAL);
		w->cust = cust;
		w->rule = rule;
		w->goal = g;
		w->held_out = held_out;
		struct customer_rare *r = cust_rare_new(&e->custs[cust]);
		w->next = r->watches;
		r->watches = w;
		struct goal_stats *gs = &e->goal_stats[rule * p->ngoals + g];
		if (held_out)
			gs->held++;
		else
			gs->treated++;
		timer_set(e, &w->timer, time_plus(now, p->goals[g].within));
	}
}

/* An event closes the SLA clocks it answers and the goals it reaches,
 * then may start a clock of its own. */
void measure_event(struct engine *e, const struct event *ev)
{
	const struct prog *p = e->prog;
	struct customer_rare *cu = e->custs[ev->cust].rare;
	if (ev->type < 0)
		return;
	for (struct goal_watch **w = cu ? &cu->watches : NULL; w && *w;) {
		struct goal_watch *x = *w;
		const struct goal_info *g = &p->goals[x->goal];
		if (has_type(g->types, g->ntypes, ev->type) && ev->time <= x->timer.deadline) {
			*w = x->next;
			goal_close(e, x, 1);
		} else {
			w = &x->next;
		}
	}
	for (int s = 0; s < p->nslas; s++) {
		const struct sla_info *sla = &p->slas[s];
		if (has_type(sla->to.types, sla->to.ntypes, ev->type)) {
			for (struct sla_clock **c = cu ? &cu->clocks : NULL; c && *c;) {
				struct sla_clock *x = *c;
				if (x->sla == s && sla_where(e, s, x, ev)) {
					*c = x->next;
					sla_close(e, x, ev->time);
				} else {
					c = &x->next;
				}
			}
		}
		if (has_type(sla->from.types, sla->from.ntypes, ev->type))
			sla_open(e, s, ev);
	}
}

void measure_timer(struct engine *e, struct timer *t)
{
	if (t->kind == TIMER_GOAL) {
		struct goal_watch *w = (struct goal_watch *)(void *)t;
		for (struct goal_watch **p = &e->custs[w->cust].rare->watches; *p; p = &(*p)->next)
			if (*p == w) {
				*p = w->next;
				break;
			}
		goal_close(e, w, 0);
		return;
	}
	/* An SLA deadline: the clock stays open to measure the late answer. */
	struct sla_clock *c = (struct sla_clock *)(void *)t;
	const struct sla_info *sla = &e->prog->slas[c->sla];
	c->breached = 1;
	e->sla_groups[c->sla].aggs[c->group].breached++;
	for (int i = 0; i < sla->nbreach_rules; i++) {
		const struct event *bound[1] = {c->from};
		engine_fire_rule(e, sla->breach_rules[i], c->cust, bound, 1, t->deadline, c->from);
	}
}

/* ---- budgets ---- */

int measure_budget_ok(struct engine *e, int rule, uint32_t cust, int budget, int64_t now)
{
	const struct budget_info *b = &e->prog->budgets[budget];
	uint32_t n = e->budget_n[budget];
	/* The ring holds the last `amount` spends; full and all inside the
	 * window (its edge included: a spend exactly D ago counts) means spent. */
	int spent = b->amount == 0 ||
		    (n == (uint32_t)b->amount && e->budget_spent[budget][e->budget_head[budget]] >= time_minus(now, b->per));
	if (!spent)
		return 1;
	e->stats[rule].budget_exhausted++;
	if (e->audit) {
		struct buf line = {0};
		const struct customer *c = &e->custs[cust];
		buf_adds(&line, "{\"rule\":");
		json_write_str(&line, e->prog->rules[rule].name, strlen(e->prog->rules[rule].name));
		buf_adds(&line, ",\"customer\":");
		json_write_str(&line, cust_key(c), c->keylen);
		buf_adds(&line, ",\"at\":\"");
		time_format(&line, now);
		buf_adds(&line, "\",\"budget\":");
		json_write_str(&line, b->name, strlen(b->name));
		buf_adds(&line, ",\"budget_exhausted\":true}\n");
		e->audit(e->audit_ud, line.p, line.len);
		buf_free(&line);
	}
	return 0;
}

void measure_spend(struct engine *e, int budget, int64_t now)
{
	uint32_t amount = (uint32_t)e->prog->budgets[budget].amount;
	if (!amount)
		return;
	if (e->budget_n[budget] < amount) {
		e->budget_spent[budget][(e->budget_head[budget] + e->budget_n[budget]) % amount] = now;
		e->budget_n[budget]++;
	} else {
		e->budget_spent[budget][e->budget_head[budget]] = now;
		e->budget_head[budget] = (e->budget_head[budget] + 1) % amount;
	}
}

void measure_free(struct engine *e)
{
	const struct prog *p = e->prog;
	for (uint32_t i = 0; i < e->ncusts; i++) {
		struct customer_rare *c = e->custs[i].rare;
		if (!c)
			continue;
		while (c->clocks) {
			struct sla_clock *x = c->clocks;
			c->clocks = x->next;
			timer_cancel(e, &x->timer);
			mem_free(x->from);
			mem_free(x);
		}
		while (c->watches) {
			struct goal_watch *x = c->watches;
			c->watches = x->next;
			timer_cancel(e, &x->timer);
			mem_free(x);
		}
	}
	for (int m = 0; m < p->nmetrics; m++)
		groups_free(&e->metric_groups[m]);
	for (int s = 0; s < p->nslas; s++)
		groups_free(&e->sla_groups[s]);
	for (int b = 0; b < p->nbudgets; b++)
		mem_free(e->budget_spent[b]);
	for (int j = 0; j < p->njourneys; j++) {
		for (int s = 0; s < p->journeys[j].nstages; s++) {
			sketch_free(e->journey_dwell[j][s].sketch);
			mem_free(e->journey_dwell[j][s].exact);
		}
		mem_free(e->journey_dwell[j]);
		mem_free(e->journey_reached[j]);
	}
	mem_free(e->journey_dwell);
	mem_free(e->journey_reached);
	mem_free(e->metric_groups);
	mem_free(e->sla_groups);
	mem_free(e->goal_stats);
	mem_free(e->budget_spent);
	mem_free(e->budget_n);
	mem_free(e->budget_head);
	mem_free(e->sla_errors);
	mem_free(e->metric_errors);
}
