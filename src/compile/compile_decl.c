/* compile_decl.c: journeys, metrics, SLAs, goals and budgets.
 *
 * These declarations name event types, stages and aggregates that rules
 * then refer to (`on enter J.S`, `move J to S`, `observe M v`,
 * `on breach SLA`, `spend B`); every reference is checked here, with a
 * "did you mean" when the name is close to a declared one.
 */
#include <string.h>

#include "comp.h"

#include <stdlib.h>

#include "base/timeutil.h"

static int journey_find(struct comp *c, const struct ast_name *n)
{
	return nametab_get(&c->journey_names, n->s, n->len);
}

static int stage_find(const struct journey_info *j, const struct ast_name *n)
{
	for (int s = 0; s < j->nstages; s++)
		if (comp_names_equal(j->stages[s], strlen(j->stages[s]), n->s, n->len))
			return s;
	return -1;
}

/* Resolve J and S of `J.S`, or report what is wrong; returns 0 or -1. */
static int resolve_stage(struct comp *c, const struct ast_name *jn, const struct ast_name *sn, int *jout, int *sout)
{
	struct prog *p = c->p;
	struct suggest sg;
	int j = journey_find(c, jn);
	if (j < 0) {
		suggest_init(&sg, jn->s, jn->len);
		for (int k = 0; k < p->njourneys; k++)
			suggest_try(&sg, p->journeys[k].name, strlen(p->journeys[k].name));
		comp_error(c, jn->loc, "unknown journey '%.*s'%s", (int)jn->len, jn->s, suggest_hint(&sg, &c->tmp));
		return -1;
	}
	int s = stage_find(&p->journeys[j], sn);
	if (s < 0) {
		suggest_init(&sg, sn->s, sn->len);
		for (int k = 0; k < p->journeys[j].nstages; k++)
			suggest_try(&sg, p->journeys[j].stages[k], strlen(p->journeys[j].stages[k]));
		comp_error(c, sn->loc, "journey %s has no stage '%.*s'%s", p->journeys[j].name, (int)sn->len, sn->s,
			   suggest_hint(&sg, &c->tmp));
		return -1;
	}
	*jout = j;
	*sout = s;
	return 0;
}

static int *intern_types(struct comp *c, const struct ast_name *names, int n)
{
	int *types = arena_alloc(&c->p->arena, sizeof *types * (size_t)(n + 1));
	for (int i = 0; i < n; i++)
		types[i] = comp_type_named(c, names[i].s, names[i].len, names[i].loc, TYPE_USE_STEP);
	return types;
}

/* journey NAME { stage S on E1, E2 ... } */
void comp_journeys(struct comp *c)
{
	struct prog *p = c->p;
	for (struct ast_journey *aj = c->script.journeys; aj; aj = aj->next) {
		if (journey_find(c, &aj->name) >= 0) {
			comp_error(c, aj->name.loc, "journey '%.*s' is declared twice", (int)aj->name.len, aj->name.s);
			continue;
		}
		if (aj->nstages == 0) {
			comp_error(c, aj->name.loc, "journey '%.*s' has no stage", (int)aj->name.len, aj->name.s);
			continue;
		}
		if (aj->nstages > MAX_STAGES) {
			comp_error(c, aj->name.loc, "a journey has at most %d stages", MAX_STAGES);
			continue;
		}
		p->journeys = mem_grow(p->journeys, (size_t)p->njourneys, sizeof *p->journeys);
		struct journey_info *j = &p->journeys[p->njourneys];
		int jx = p->njourneys++;
		j->name = arena_strndup(&p->arena, aj->name.s, aj->name.len);
		nametab_put(&c->journey_names, j->name, aj->name.len, jx);
		j->nstages = aj->nstages;
		j->stages = arena_alloc(&p->arena, sizeof *j->stages * (size_t)aj->nstages);
		j->rules = arena_zalloc(&p->arena, sizeof *j->rules * (size_t)aj->nstages);
		for (int s = 0; s < aj->nstages; s++) {
			struct ast_stage *st = &aj->stages[s];
			j->stages[s] = arena_strndup(&p->arena, st->name.s, st->name.len);
			for (int k = 0; k < s; k++)
				if (strcmp(j->stages[k], j->stages[s]) == 0)
					comp_error(c, st->name.loc, "stage '%s' is named twice in journey %s", j->stages[s],
						   j->name);
			for (int i = 0; i < st->ntypes; i++) {
				int t = comp_type_named(c, st->types[i].s, st->types[i].len, st->types[i].loc, TYPE_USE_STEP);
				struct evtype *et = &p->types[t];
				int clash = 0;
				for (int k = 0; k < et->nstage_refs; k++)
					if (et->stage_refs[k].journey == jx) {
						comp_error(c, st->types[i].loc, "event %s already moves journey %s to stage %s",
							   et->name, j->name, j->stages[et->stage_refs[k].stage]);
						clash = 1;
					}
				if (clash)
					continue;
				et->stage_refs = mem_realloc(et->stage_refs, sizeof *et->stage_refs * (size_t)(et->nstage_refs + 1));
				et->stage_refs[et->nstage_refs].journey = jx;
				et->stage_refs[et->nstage_refs].stage = s;
				et->nstage_refs++;
			}
		}
	}
}

static int64_t decl_duration(struct comp *c, struct ast *e, const char *what)
{
	struct val v;
	enum ty t;
	if (comp_eval_now(c, e, &v, &t) < 0)
		return 0;
	if (v.kind != V_DUR || v.u.i <= 0) {
		comp_error(c, e->loc, "%s takes a positive duration such as 5m", what);
		return 0;
	}
	return v.u.i;
}

static void comp_metric(struct comp *c, struct ast_decl *d)
{
	struct prog *p = c->p;
	if (nametab_get(&c->metric_names, d->name.s, d->name.len) >= 0) {
		comp_error(c, d->name.loc, "metric '%.*s' is declared twice", (int)d->name.len, d->name.s);
		return;
	}
	int found = -1;
	for (int i = 0; i < AGG__COUNT; i++)
		if (comp_name_is(&d->agg, agg_names[i]))
			found = i;
	if (found < 0) {
		struct suggest sg;
		suggest_init(&sg, d->agg.s, d->agg.len);
		for (int i = 0; i < AGG__COUNT; i++)
			suggest_try(&sg, agg_names[i], strlen(agg_names[i]));
		comp_error(c, d->agg.loc, "unknown aggregate '%.*s' (count sum avg min max p50 p90 p99 nps csat rate)%s",
			   (int)d->agg.len, d->agg.s, suggest_hint(&sg, &c->tmp));
		return;
	}
	p->metrics = mem_grow(p->metrics, (size_t)p->nmetrics, sizeof *p->metrics);
	struct metric_info *m = &p->metrics[p->nmetrics];
	m->name = arena_strndup(&p->arena, d->name.s, d->name.len);
	nametab_put(&c->metric_names, m->name, d->name.len, p->nmetrics++);
	m->agg = (enum agg)found;
	m->by = d->by.s ? arena_strndup(&p->arena, d->by.s, d->by.len) : NULL;
}

/* An SLA's event reads like a rule's: named by `as`, or by its type. */
static struct ast_name sla_binding(const struct ast_step *st)
{
	if (st->as.s || st->ntypes != 1)
		return st->as;
	return st->types[0];
}

static void comp_sla(struct comp *c, struct ast_decl *d)
{
	struct prog *p = c->p;
	if (nametab_get(&c->sla_names, d->name.s, d->name.len) >= 0) {
		comp_error(c, d->name.loc, "sla '%.*s' is declared twice", (int)d->name.len, d->name.s);
		return;
	}
	struct sla_info sla = {0};
	sla.name = arena_strndup(&p->arena, d->name.s, d->name.len);
	sla.from.types = intern_types(c, d->from.types, d->from.ntypes);
	sla.from.ntypes = d->from.ntypes;
	sla.to.types = intern_types(c, d->to.types, d->to.ntypes);
	sla.to.ntypes = d->to.ntypes;
	sla.to.within = decl_duration(c, d->to.within, "within");
	sla.from.where = sla.to.where = sla.by = NO_CODE;
	struct val v;
	enum ty t;
	if (comp_eval_now(c, d->target, &v, &t) == 0) {
		double f = v.kind == V_FLOAT ? v.u.f : v.kind == V_INT ? (double)v.u.i : -1;
		if (f < 0 || f > 1)
			comp_error(c, d->target->loc, "an SLA's target is a percentage such as 95%%");
		else
			sla.target = f;
	}
	/* The condition reads both events, the grouping the first. */
	struct ast_name from = sla_binding(&d->from), to = sla_binding(&d->to);
	sla.from_name = from.s ? arena_strndup(&p->arena, from.s, from.len) : NULL;
	sla.to_name = to.s ? arena_strndup(&p->arena, to.s, to.len) : NULL;
	c->binds[0] = (struct binding){from, sla.from.types, sla.from.ntypes, 0};
	c->binds[1] = (struct binding){to, sla.to.types, sla.to.ntypes, 0};
	c->nlocals = 0;
	c->nscope = 0;
	if (d->to.where) {
		c->nbinds = 2;
		c->event_bind = 1;
		sla.to.where = c->p->ncode;
		comp_expr(c, d->to.where);
		comp_op(c, OPC_HALT, 0, d->to.where->loc);
	}
	if (d->by_expr) {
		c->nbinds = 1;
		c->event_bind = 0;
		sla.by = c->p->ncode;
		comp_expr(c, d->by_expr);
		comp_op(c, OPC_HALT, 0, d->by_expr->loc);
	}
	c->nbinds = 0;
	p = c->p;
	p->slas = mem_grow(p->slas, (size_t)p->nslas, sizeof *p->slas);
	nametab_put(&c->sla_names, sla.name, d->name.len, p->nslas);
	p->slas[p->nslas++] = sla;
}

static void comp_goal(struct comp *c, struct ast_decl *d)
{
	struct prog *p = c->p;
	if (nametab_get(&c->goal_names, d->name.s, d->name.len) >= 0) {
		comp_error(c, d->name.loc, "goal '%.*s' is declared twice", (int)d->name.len, d->name.s);
		return;
	}
	struct goal_info g = {0};
	g.name = arena_strndup(&p->arena, d->name.s, d->name.len);
	g.types = intern_types(c, d->to.types, d->to.ntypes);
	g.ntypes = d->to.ntypes;
	g.within = decl_duration(c, d->to.within, "within");
	p = c->p;
	p->goals = mem_grow(p->goals, (size_t)p->ngoals, sizeof *p->goals);
	nametab_put(&c->goal_names, g.name, d->name.len, p->ngoals);
	p->goals[p->ngoals++] = g;
}

static void comp_budget(struct comp *c, struct ast_decl *d)
{
	struct prog *p = c->p;
	if (nametab_get(&c->budget_names, d->name.s, d->name.len) >= 0) {
		comp_error(c, d->name.loc, "budget '%.*s' is declared twice", (int)d->name.len, d->name.s);
		return;
	}
	struct budget_info b = {0};
	b.name = arena_strndup(&p->arena, d->name.s, d->name.len);
	struct val v;
	enum ty t;
	if (comp_eval_now(c, d->amount, &v, &t) == 0) {
		if (v.kind != V_INT || v.u.i < 0 || v.u.i > 100000000)
			comp_error(c, d->amount->loc, "a budget is a whole number of responses (0 to 100000000)");
		else
			b.amount = v.u.i;
	}
	b.per = decl_duration(c, d->per, "a budget's period");
	p->budgets = mem_grow(p->budgets, (size_t)p->nbudgets, sizeof *p->budgets);
	nametab_put(&c->budget_names, b.name, d->name.len, p->nbudgets);
	p->budgets[p->nbudgets++] = b;
}

void comp_decls(struct comp *c)
{
	for (struct ast_decl *d = c->script.decls; d; d = d->next) {
		switch (d->kind) {
		case D_METRIC: comp_metric(c, d); break;
		case D_SLA: comp_sla(c, d); break;
		case D_GOAL: comp_goal(c, d); break;
		case D_BUDGET: comp_budget(c, d); break;
		}
	}
}

/* on enter J.S | on exit J.S | on stuck J.S for D | on breach SLA */
void comp_stage_trigger(struct comp *c, struct ast_rule *r, struct rule_info *ri)
{
	struct prog *p = c->p;
	c->nbinds = 1;
	c->event_bind = 0;
	c->binds[0] = (struct binding){{0}, NULL, 0, 0};
	ri->nbinds = 1;
	ri->journey = ri->stage = ri->sla = -1;
	if (r->trigger == T_BREACH) {
		ri->sla = nametab_get(&c->sla_names, r->journey.s, r->journey.len);
		if (ri->sla < 0) {
			struct suggest sg;
			suggest_init(&sg, r->journey.s, r->journey.len);
			for (int i = 0; i < p->nslas; i++)
				suggest_try(&sg, p->slas[i].name, strlen(p->slas[i].name));
			comp_error(c, r->journey.loc, "unknown sla '%.*s'%s", (int)r->journey.len, r->journey.s,
				   suggest_hint(&sg, &c->tmp));
			return;
		}
		/* A breach reads the event that started the clock, by its name. */
		const struct sla_info *sla = &p->slas[ri->sla];
		c->binds[0].name.s = sla->from_name;
		c->binds[0].name.len = sla->from_name ? (uint32_t)strlen(sla->from_name) : 0;
		c->binds[0].types = sla->from.types;
		c->binds[0].ntypes = sla->from.ntypes;
		return;
	}
	if (resolve_stage(c, &r->journey, &r->stage, &ri->journey, &ri->stage) < 0)
		return;
	if (r->trigger == T_STUCK) {
		/* Stuck means nothing happened: there is no event to read. */
		c->nbinds = 0;
		c->event_bind = -1;
		ri->nbinds = 0;
		struct val v;
		enum ty t;
		if (comp_eval_now(c, r->stuck_for, &v, &t) == 0 && (v.kind != V_DUR || v.u.i <= 0))
			comp_error(c, r->stuck_for->loc, "stuck ... for takes a positive duration such as 2d");
		else
			ri->stuck_for = v.u.i;
	}
}

static void add_rule(int **list, int *n, int rule)
{
	*list = mem_realloc(*list, sizeof **list * (size_t)(*n + 1));
	(*list)[(*n)++] = rule;
}

/* Register stage and breach rules where the engine looks for them. */
void comp_decl_dispatch(struct comp *c, int index)
{
	struct prog *p = c->p;
	const struct rule_info *ri = &p->rules[index];
	if (ri->trigger == T_BREACH && ri->sla >= 0) {
		add_rule(&p->slas[ri->sla].breach_rules, &p->slas[ri->sla].nbreach_rules, index);
		return;
	}
	if (ri->journey < 0)
		return;
	struct stage_rules *sr = &p->journeys[ri->journey].rules[ri->stage];
	if (ri->trigger == T_ENTER)
		add_rule(&sr->enter, &sr->nenter, index);
	else if (ri->trigger == T_EXIT)
		add_rule(&sr->exit, &sr->nexit, index);
	else if (ri->trigger == T_STUCK)
		add_rule(&sr->stuck, &sr->nstuck, index);
}

/* move J to S */
void comp_move(struct comp *c, struct ast_clause *cl)
{
	int j, s;
	if (resolve_stage(c, &cl->name, &cl->name2, &j, &s) == 0)
		comp_op(c, OPC_MOVE, STAGE_OPERAND(j, s), cl->loc);
}

/* observe M value [by key] */
void comp_observe(struct comp *c, struct ast_clause *cl)
{
	struct prog *p = c->p;
	int m = nametab_get(&c->metric_names, cl->name.s, cl->name.len);
	if (m < 0) {
		struct suggest sg;
		suggest_init(&sg, cl->name.s, cl->name.len);
		for (int i = 0; i < p->nmetrics; i++)
			suggest_try(&sg, p->metrics[i].name, strlen(p->metrics[i].name));
		comp_error(c, cl->name.loc, "unknown metric '%.*s' (declare it with metric NAME: AGG)%s", (int)cl->name.len,
			   cl->name.s, suggest_hint(&sg, &c->tmp));
		return;
	}
	enum ty t = comp_expr(c, cl->expr);
	if (t == TY_STR || t == TY_LIST || t == TY_TIME)
		comp_error(c, cl->expr->loc, "a metric observes numbers, durations or conditions, not %s", ty_name[t]);
	if (cl->expr2)
		comp_expr(c, cl->expr2);
	else
		comp_op(c, OPC_NUL, 0, cl->loc);
	if (cl->expr2 && !p->metrics[m].by)
		comp_warning(c, cl->expr2->loc, "metric %s is not declared with `by`: the grouping still applies",
			     p->metrics[m].name);
	comp_op(c, OPC_OBSERVE, (uint32_t)m, cl->loc);
}

/* spend B: resolved to a budget index, or -1 after an error */
int comp_budget_ref(struct comp *c, const struct ast_name *n)
{
	struct prog *p = c->p;
	int found = nametab_get(&c->budget_names, n->s, n->len);
	if (found >= 0)
		return found;
	struct suggest sg;
	suggest_init(&sg, n->s, n->len);
	for (int i = 0; i < p->nbudgets; i++)
		suggest_try(&sg, p->budgets[i].name, strlen(p->budgets[i].name));
	comp_error(c, n->loc, "unknown budget '%.*s' (declare it with budget NAME: N per D)%s", (int)n->len, n->s,
		   suggest_hint(&sg, &c->tmp));
	return -1;
}

/* ---- history: count(E within D), sum(E.f within D), last, first, since ---- */

static int history_spec(struct comp *c, int type)
{
	struct prog *p = c->p;
	int *owner = type >= 0 ? &p->types[type].history : &p->any_history;
	if (*owner >= 0)
		return *owner;
	p->hspecs = mem_realloc(p->hspecs, sizeof *p->hspecs * (size_t)(p->nhspecs + 1));
	struct history_spec *hs = &p->hspecs[p->nhspecs];
	memset(hs, 0, sizeof *hs);
	hs->type = type;
	*owner = p->nhspecs;
	return p->nhspecs++;
}

static uint32_t history_query(struct comp *c, struct history_query q)
{
	struct prog *p = c->p;
	p->hqueries = mem_realloc(p->hqueries, sizeof *p->hqueries * (size_t)(p->nhqueries + 1));
	p->hqueries[p->nhqueries] = q;
	return (uint32_t)p->nhqueries++;
}

/* The event type a history function names: a word or a quoted name that
 * is not a let, a constant or one of the rule's events. */
static int history_type(struct comp *c, struct ast *e)
{
	if (e->kind == A_STR || (e->kind == A_NAME && !comp_scope_find(c, e->s, e->len) &&
				 !comp_const_find(c, e->s, e->len)))
		return comp_type_named(c, e->s, e->len, e->loc, TYPE_USE_HISTORY);
	return -1;
}

static const char *history_names[] = {"count", "sum", "last", "first", "since"};

int comp_is_history_call(struct comp *c, struct ast *e)
{
	if (e->kind == A_HISTORY)
		return 1;
	if (e->kind != A_CALL || e->nkids != 1)
		return 0;
	for (int i = 2; i < 5; i++)
		if (comp_name_is(&(struct ast_name){e->s, e->len, e->loc}, history_names[i]))
			return e->kids[0]->kind == A_STR || e->kids[0]->kind == A_ANY ||
			       (e->kids[0]->kind == A_NAME && !comp_scope_find(c, e->kids[0]->s, e->kids[0]->len) &&
				!comp_const_find(c, e->kids[0]->s, e->kids[0]->len));
	return 0;
}

/* The windowed forms: count(E within D), sum(E.f within D),
 * count(distinct E.f within D), distinct(E.f within D), each with an
 * optional `[as x] where cond`, and count(any within D). */
static enum ty history_window(struct comp *c, struct ast *e, struct history_query *q)
{
	struct ast_name fn = {e->s, e->len, e->loc};
	int is_count = comp_name_is(&fn, "count"), is_sum = comp_name_is(&fn, "sum");
	int is_distinct = comp_name_is(&fn, "distinct");
	if (!is_count && !is_sum && !is_distinct) {
		comp_error(c, e->loc, "only count(E within D), sum(E.f within D) and distinct(E.f within D) take a window");
		return TY_ANY;
	}
	if (e->op && is_sum) {
		comp_error(c, e->loc, "sum() adds every value: count(distinct E.f within D) counts different ones");
		return TY_ANY;
	}
	struct val w;
	enum ty wt;
	if (comp_eval_now(c, e->b, &w, &wt) < 0)
		return TY_ANY;
	if (w.kind != V_DUR || w.u.i <= 0) {
		comp_error(c, e->b->loc, "within takes a positive duration such as 7d");
		return TY_ANY;
	}
	q->window = w.u.i;
	struct ast *what = e->a;
	struct ast_name seg = {0};
	int wants_field = is_sum || e->op;
	if (wants_field) {
		if (what->kind != A_FIELD || (what->a->kind != A_NAME && what->a->kind != A_STR && what->a->kind != A_ANY)) {
			comp_error(c, what->loc, "%s",
				   is_sum ? "sum() adds up a field of past events: sum(E.f within D)"
				   : is_distinct ? "distinct() lists the values of a field of past events: distinct(E.f within D)"
						 : "count(distinct ...) counts the values of a field of past events: "
						   "count(distinct E.f within D)");
			return TY_ANY;
		}
		seg = (struct ast_name){what->s, what->len, what->v.name};
		what = what->a;
	}
	int any = what->kind == A_ANY; /* every event of the customer */
	int type = any ? -1 : history_type(c, what);
	if (!any && type < 0) {
		comp_error(c, what->loc, "%.*s() counts past events of a type, such as %.*s(support_request within 7d)",
			   (int)fn.len, fn.s, (int)fn.len, fn.s);
		return TY_ANY;
	}
	q->spec = history_spec(c, type);
	struct history_spec *hs = &c->p->hspecs[q->spec];
	if (hs->window < q->window)
		hs->window = q->window;
	q->kind = is_sum ? H_SUM : is_distinct ? H_DISTINCT_LIST : e->op ? H_DISTINCT_COUNT : H_COUNT;
	if (wants_field) {
		q->slot = comp_slot(c, &seg, 1);
		comp_field_use(c, type, q->slot, seg.loc);
	}
	if (is_sum) {
		q->sum = -1;
		for (int i = 0; i < hs->nsum; i++)
			if (hs->sum_slots[i] == q->slot)
				q->sum = i;
		if (q->sum < 0) {
			hs->sum_slots = mem_realloc(hs->sum_slots, sizeof *hs->sum_slots * (size_t)(hs->nsum + 1));
			hs->sum_slots[hs->nsum] = q->slot;
			q->sum = hs->nsum++;
		}
	}
	if (e->op || e->nkids)
		hs->keep_events = 1; /* filtered or distinct: the events themselves */
	uint32_t qi = history_query(c, *q);
	if (e->nkids) {
		/* The condition is compiled once the rule's code is done. */
		if (!c->rule || c->nbinds >= MAX_BINDS) {
			comp_error(c, e->kids[0]->loc, c->rule ? "too many events named here for a history condition"
							     : "a history condition is read in a rule");
			return TY_ANY;
		}
		c->p->hqueries[qi].rule = c->rule_index;
		c->filters = mem_grow(c->filters, (size_t)c->nfilters, sizeof *c->filters);
		c->filters[c->nfilters++] = (struct pending_filter){e->kids[0], (int)qi, type, c->nbinds};
	}
	comp_op(c, OPC_HIST, qi, e->loc);
	return q->kind == H_COUNT || q->kind == H_DISTINCT_COUNT ? TY_INT : q->kind == H_SUM ? TY_FLOAT : TY_LIST;
}

/* count(E within D) | sum(E.f within D) | last(E) | first(E) | since(E),
 * the same with `any` for E, and last(E).f / first(E).f when field is
 * given. */
enum ty comp_history(struct comp *c, struct ast *e, const struct ast_name *field)
{
	struct ast_name fn = {e->s, e->len, e->loc};
	struct history_query q = {0};
	q.slot = -1;
	q.where = NO_CODE;
	if (c->in_const) {
		comp_error(c, e->loc, "a constant cannot read a customer's history");
		return TY_ANY;
	}
	if (e->kind == A_HISTORY && e->b) {
		if (field) {
			comp_error(c, e->loc, "a count or a sum has no fields; last(E).f reads a field of the last E");
			return TY_ANY;
		}
		return history_window(c, e, &q);
	}
	int type = e->kids[0]->kind == A_ANY ? -1 : history_type(c, e->kids[0]);
	q.spec = history_spec(c, type);
	struct history_spec *hs = &c->p->hspecs[q.spec];
	int first = comp_name_is(&fn, "first");
	if (first)
		hs->keep_first = 1;
	else
		hs->keep_last = 1;
	if (field) {
		if (comp_name_is(&fn, "since")) {
			comp_error(c, e->loc, "since(E) is a duration; last(E).%.*s reads a field", (int)field->len, field->s);
			return TY_ANY;
		}
		q.kind = first ? H_FIRST_FIELD : H_LAST_FIELD;
		q.slot = comp_slot(c, field, 1);
		comp_field_use(c, type, q.slot, field->loc);
		comp_op(c, OPC_HIST, history_query(c, q), e->loc);
		return TY_ANY;
	}
	q.kind = first ? H_FIRST : comp_name_is(&fn, "since") ? H_SINCE : H_LAST;
	comp_op(c, OPC_HIST, history_query(c, q), e->loc);
	return q.kind == H_SINCE ? TY_DUR : TY_TIME;
}

/* Each `[as x] where cond` of the rule's history queries: code of its own
 * after the rule's, run for each past event with the rule's events bound
 * as they are where the query is, and the past event after them (named
 * x, or by its type).  The rule's lets are not visible: the condition is
 * about events. */
void comp_history_filters(struct comp *c)
{
	int nbinds = c->nbinds, event_bind = c->event_bind, nscope = c->nscope;
	struct binding binds[MAX_BINDS];
	memcpy(binds, c->binds, sizeof binds);
	for (int i = 0; i < c->nfilters; i++) {
		struct pending_filter *f = &c->filters[i];
		struct ast *filter = f->filter;
		struct binding *b = &c->binds[f->nbinds];
		memset(b, 0, sizeof *b);
		if (filter->s)
			b->name = (struct ast_name){filter->s, filter->len, filter->loc};
		else if (f->type >= 0)
			b->name = (struct ast_name){c->p->types[f->type].name, c->p->types[f->type].len, filter->loc};
		if (f->type >= 0) {
			b->types = arena_alloc(&c->p->arena, sizeof *b->types);
			b->types[0] = f->type;
			b->ntypes = 1;
		}
		c->nbinds = f->nbinds + 1;
		c->event_bind = f->nbinds;
		c->hidden_scope = nscope;
		c->nscope = 0;
		struct history_query *q = &c->p->hqueries[f->query];
		q->where = c->p->ncode;
		q->nbinds = f->nbinds + 1;
		enum ty t = comp_expr(c, filter->a);
		if (t != TY_BOOL && t != TY_ANY && t != TY_NULL)
			comp_warning(c, filter->a->loc, "this condition is %s, not true or false", ty_name[t]);
		comp_op(c, OPC_HALT, 0, filter->loc);
	}
	c->nfilters = 0;
	c->hidden_scope = 0;
	memcpy(c->binds, binds, sizeof binds);
	c->nbinds = nbinds;
	c->event_bind = event_bind;
	c->nscope = nscope;
}

/* ---- test blocks ---- */

static int64_t test_duration(struct comp *c, struct ast *e, const char *what)
{
	struct val v;
	enum ty t;
	if (comp_eval_now(c, e, &v, &t) < 0)
		return 0;
	if (v.kind != V_DUR || v.u.i < 0) {
		comp_error(c, e->loc, "%s takes a duration such as 5m", what);
		return 0;
	}
	return v.u.i;
}

/* The emits of each action: c->emit_first by name, then c->emit_next,
 * for test blocks' expectations (built once, when they are compiled). */
static void index_emits(struct comp *c)
{
	const struct prog *p = c->p;
	c->emit_next = mem_alloc(sizeof *c->emit_next * (size_t)(p->nemits ? p->nemits : 1));
	for (int i = p->nemits - 1; i >= 0; i--) {
		const char *action = p->emits[i].action;
		c->emit_next[i] = nametab_get(&c->emit_first, action, strlen(action));
		nametab_put(&c->emit_first, action, strlen(action), i);
	}
}

static int action_known(struct comp *c, const struct ast_name *n, struct suggest *sg)
{
	const struct prog *p = c->p;
	suggest_init(sg, n->s, n->len);
	if (nametab_get(&c->emit_first, n->s, n->len) >= 0)
		return 1;
	for (int i = 0; i < p->nemits; i++)
		suggest_try(sg, p->emits[i].action, strlen(p->emits[i].action));
	return 0;
}

/* given E { f: v }: with a schema for E, each field is one of it (or the
 * input's key, time or type field) and its value of the field's type. */
static void given_fields(struct comp *c, const struct ast_test_step *s, const struct test_step *ts)
{
	const struct prog *p = c->p;
	int t = comp_type_find(c, s->name.s, s->name.len);
	if (t < 0 || !p->types[t].declared)
		return;
	const struct evtype *et = &p->types[t];
	for (int f = 0; f < s->nfields; f++) {
		const struct ast_name *n = &s->fields[f].name;
		int role = 0;
		for (int k = 0; k < SLOT_FIRST_FIELD; k++)
			role |= comp_names_equal(p->slots[k].path, strlen(p->slots[k].path), n->s, n->len);
		const struct schema_field *sf = NULL;
		for (int k = 0; k < et->nfields && !sf; k++)
			if (comp_names_equal(et->fields[k].name, strlen(et->fields[k].name), n->s, n->len))
				sf = &et->fields[k];
		if (!sf && !role) {
			struct suggest sg;
			suggest_init(&sg, n->s, n->len);
			for (int k = 0; k < et->nfields; k++)
				suggest_try(&sg, et->fields[k].name, strlen(et->fields[k].name));
			comp_error(c, n->loc, "event %s has no field '%.*s'%s", et->name, (int)n->len, n->s,
				   suggest_hint(&sg, &c->tmp));
			continue;
		}
		if (!sf)
			continue;
		/* Text that reads as the field's type is what a log gives: it is
		 * read so when the event is (`"2017-02-21T00:00:00"` for a time). */
		const struct val *v = &ts->fields[f].value;
		int ok = v->kind == V_NULL || sf->type == TY_ANY;
		int64_t ns;
		const char *why;
		char *end = NULL;
		char text[64] = "";
		if (v->kind == V_STR && v->len < sizeof text)
			memcpy(text, v->u.s, v->len);
		switch (sf->type) {
		case TY_STR: ok |= v->kind == V_STR; break;
		case TY_INT:
			ok |= v->kind == V_INT || (v->kind == V_STR && *text && (strtoll(text, &end, 10), !*end));
			break;
		case TY_FLOAT:
			ok |= v->kind == V_INT || v->kind == V_FLOAT || (v->kind == V_STR && *text && (strtod(text, &end), !*end));
			break;
		case TY_BOOL: ok |= v->kind == V_BOOL || (v->kind == V_STR && (!strcmp(text, "true") || !strcmp(text, "false"))); break;
		case TY_TIME: ok |= v->kind == V_TIME || (v->kind == V_STR && time_parse(v->u.s, v->len, 0, &ns, &why) == 0); break;
		case TY_DUR: ok |= v->kind == V_DUR || (v->kind == V_STR && dur_parse(v->u.s, v->len, &ns, &why) == 0); break;
		default: ok = 1; break;
		}
		static const char *const kinds[] = {"null", "bool", "int", "float", "string", "time", "duration",
						    "list", "error"};
		if (ok)
			continue;
		if (v->kind == V_STR)
			comp_error(c, s->fields[f].value->loc, "field %.*s of event %s is %s; \"%.*s\" does not read as one",
				   (int)n->len, n->s, et->name, ty_name[sf->type], (int)(v->len > 40 ? 40 : v->len), v->u.s);
		else
			comp_error(c, s->fields[f].value->loc, "field %.*s of event %s is %s, not %s", (int)n->len, n->s,
				   et->name, ty_name[sf->type], kinds[v->kind]);
	}
}

/* expect NAME { f: v }: each field is one an `emit NAME` has, or one
 * every response has. */
static void expect_fields(struct comp *c, const struct ast_test_step *s)
{
	const struct prog *p = c->p;
	static const char *const reserved[] = {"action", "rule", "customer", "at"};
	for (int f = 0; f < s->nfields; f++) {
		const struct ast_name *n = &s->fields[f].name;
		int found = 0;
		struct suggest sg;
		suggest_init(&sg, n->s, n->len);
		for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++) {
			found |= comp_names_equal(reserved[k], strlen(reserved[k]), n->s, n->len);
			suggest_try(&sg, reserved[k], strlen(reserved[k]));
		}
		for (int e = nametab_get(&c->emit_first, s->name.s, s->name.len); e >= 0 && !found; e = c->emit_next[e]) {
			const struct emit_desc *d = &p->emits[e];
			for (int k = 0; k < d->nfields && !found; k++) {
				found = comp_names_equal(d->names[k], strlen(d->names[k]), n->s, n->len);
				suggest_try(&sg, d->names[k], strlen(d->names[k]));
			}
		}
		if (!found)
			comp_error(c, n->loc, "no emit %.*s has a field '%.*s'%s", (int)s->name.len, s->name.s, (int)n->len,
				   n->s, suggest_hint(&sg, &c->tmp));
	}
}

/* Evaluate the values of the main script's test blocks now: they are
 * constants, and a mistake in them is a compile error like any other. */
void comp_tests(struct comp *c, int file)
{
	struct prog *p = c->p;
	index_emits(c);
	int n = 0;
	for (struct ast_test *t = c->script.tests; t; t = t->next)
		n += t->loc.file == file;
	p->tests = arena_zalloc(&p->arena, sizeof *p->tests * (size_t)(n + 1));
	for (struct ast_test *t = c->script.tests; t; t = t->next) {
		if (t->loc.file != file)
			continue;
		struct test_info *ti = &p->tests[p->ntests++];
		ti->name = t->name ? t->name : "";
		ti->loc = t->loc;
		c->in_test = ti->name;
		c->test_broken = 0;
		for (struct ast_test_step *s = t->steps; s; s = s->next)
			ti->nsteps++;
		ti->steps = arena_zalloc(&p->arena, sizeof *ti->steps * (size_t)(ti->nsteps + 1));
		int k = 0;
		for (struct ast_test_step *s = t->steps; s; s = s->next, k++) {
			struct test_step *ts = &ti->steps[k];
			ts->kind = s->kind;
			ts->loc = s->loc;
			ts->name = s->name.s ? arena_strndup(&p->arena, s->name.s, s->name.len) : NULL;
			ts->nfields = s->nfields;
			ts->fields = arena_zalloc(&p->arena, sizeof *ts->fields * (size_t)(s->nfields + 1));
			for (int f = 0; f < s->nfields; f++) {
				enum ty ty;
				ts->fields[f].name = arena_strndup(&p->arena, s->fields[f].name.s, s->fields[f].name.len);
				if (comp_eval_now(c, s->fields[f].value, &ts->fields[f].value, &ty) < 0)
					ts->fields[f].value = val_null();
			}
			if (s->at) {
				struct val v;
				enum ty ty;
				ts->has_at = 1;
				if (comp_eval_now(c, s->at, &v, &ty) == 0 && v.kind == V_TIME)
					ts->at = v.u.i;
				else
					comp_error(c, s->at->loc, "at takes a time such as @2026-03-01T10:00:00Z");
			}
			if (s->after) {
				ts->has_after = 1;
				ts->after = test_duration(c, s->after, "after");
			}
			struct suggest sg;
			switch (s->kind) {
			case TS_GIVEN:
				given_fields(c, s, ts);
				break;
			case TS_ADVANCE:
				ts->after = test_duration(c, s->expr, "advance");
				break;
			case TS_EXPECT:
			case TS_EXPECT_NO:
				if (!action_known(c, &s->name, &sg))
					comp_error(c, s->name.loc, "no rule emits '%.*s'%s", (int)s->name.len, s->name.s,
						   suggest_hint(&sg, &c->tmp));
				else
					expect_fields(c, s);
				break;
			case TS_EXPECT_STAGE: {
				struct ast_name stage = s->name2;
				resolve_stage(c, &s->name, &stage, &ts->journey, &ts->stage);
				break;
			}
			case TS_EXPECT_EXPR: {
				enum ty ty;
				if (comp_eval_now(c, s->expr, &ts->value, &ty) < 0)
					ts->value = val_null();
				break;
			}
			}
		}
		ti->broken = c->test_broken;
		c->in_test = NULL;
	}
}
