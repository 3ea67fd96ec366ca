/* journey.c: per-customer stage machines.
 *
 * A customer's stage in a journey is the stage of the latest event that
 * names one (or of the latest `move`).  A change of stage queues the
 * `on exit` rules of the old stage and the `on enter` rules of the new
 * one; they run as soon as the handler or event that moved the customer
 * is done, so that a handler never runs inside another.  Entering a stage
 * arms a timer for each `on stuck` rule of it; the timer fires only if the
 * customer is still in the same stay of that stage.
 */
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "engine_int.h"
#include "base/sketch.h"
#include "vm/vm.h"

/* Moves that trigger moves must settle: a longer chain is a loop. */
#define MAX_CASCADE 1000


static struct jstate *jstate_of(struct engine *e, uint32_t cust, int journey)
{
	struct customer_rare *c = cust_rare_new(&e->custs[cust]);
	if (!c->journeys) {
		int n = e->prog->njourneys;
		c->journeys = mem_alloc(sizeof *c->journeys * (size_t)n);
		for (int j = 0; j < n; j++)
			c->journeys[j].stage = -1;
	}
	return &c->journeys[journey];
}

static void queue_rules(struct engine *e, const int *rules, int n, uint32_t cust, int64_t now,
			const struct event *cause)
{
	for (int i = 0; i < n; i++) {
		if (e->nqueue == e->capqueue) {
			e->capqueue = e->capqueue ? e->capqueue * 2 : 16;
			e->queue = mem_realloc(e->queue, sizeof *e->queue * e->capqueue);
		}
		e->queue[e->nqueue++] = (struct stage_firing){rules[i], cust, now, cause};
	}
}

void journey_move(struct engine *e, uint32_t cust, int journey, int stage, int64_t now, const struct event *cause)
{
	const struct journey_info *j = &e->prog->journeys[journey];
	struct jstate *js = jstate_of(e, cust, journey);
	if (js->stage == stage)
		return; /* staying in a stage moves nothing (and keeps its stuck timers) */
	if (js->stage >= 0) {
		double dwell = (double)time_since(now, js->entered);
		agg_add(&e->journey_dwell[journey][js->stage], dwell < 0 ? 0 : dwell, 1);
		const struct stage_rules *old = &j->rules[js->stage];
		queue_rules(e, old->exit, old->nexit, cust, now, cause);
	}
	js->stage = stage;
	js->entered = now;
	js->entry_seq = ++e->entry_seq;
	if (stage < 64 && !(js->reached & (1ULL << stage))) {
		js->reached |= 1ULL << stage;
		e->journey_reached[journey][stage]++;
	} else if (stage >= 64) {
		e->journey_reached[journey][stage]++; /* counted per entry beyond 64 stages */
	}
	const struct stage_rules *sr = &j->rules[stage];
	queue_rules(e, sr->enter, sr->nenter, cust, now, cause);
	for (int i = 0; i < sr->nstuck; i++) {
		struct stuck_timer *st = mem_alloc(sizeof *st);
		timer_init(&st->timer, TIMER_STUCK);
		st->cust = cust;
		st->rule = sr->stuck[i];
		st->journey = journey;
		st->entry_seq = js->entry_seq;
		timer_set(e, &st->timer, time_plus(now, e->prog->rules[st->rule].stuck_for));
	}
}

/* Run the queued enter and exit rules, and those they cause in turn. */
void journey_drain(struct engine *e)
{
	if (e->draining)
		return;
	e->draining = 1;
	uint32_t done = 0;
	while (done < e->nqueue) {
		if (done >= MAX_CASCADE) {
			struct stage_firing *f = &e->queue[done];
			e->runtime_errors++;
			e->stats[f->rule].errors++;
			diag_plain(e->diag, "warning: rule %s: journey moves do not settle after %d steps (a loop of move and "
					    "on enter?); the rest are dropped for this event", e->prog->rules[f->rule].name,
				   MAX_CASCADE);
			break;
		}
		struct stage_firing f = e->queue[done++];
		const struct event *bound[1] = {f.cause};
		engine_fire_rule(e, f.rule, f.cust, bound, f.cause ? 1 : 0, f.now, f.cause);
	}
	e->nqueue = 0;
	e->draining = 0;
}

/* An event that names a stage moves the customer there, before the
 * event's own rules run. */
void journey_event(struct engine *e, const struct event *ev)
{
	if (ev->type < 0)
		return;
	const struct evtype *t = &e->prog->types[ev->type];
	for (int i = 0; i < t->nstage_refs; i++)
		journey_move(e, ev->cust, t->stage_refs[i].journey, t->stage_refs[i].stage, ev->time, ev);
	journey_drain(e);
}

int journey_describe_stuck(const struct engine *e, uint32_t cust, struct buf *b)
{
	int n = 0;
	for (uint32_t i = 0; i < e->nheap; i++) {
		if (e->heap[i]->kind != TIMER_STUCK)
			continue;
		const struct stuck_timer *st = (const struct stuck_timer *)(const void *)e->heap[i];
		const struct rule_info *ri = &e->prog->rules[st->rule];
		const struct jstate *js = cust_rare(&e->custs[st->cust])->journeys;
		/* a stay that has ended leaves its timer behind, stale */
		if (st->cust != cust || !js || js[st->journey].stage != ri->stage ||
		    js[st->journey].entry_seq != st->entry_seq)
			continue;
		buf_printf(b, "  pending: rule %s, stuck in %s.%s (fires at ", ri->name, e->prog->journeys[st->journey].name,
			   e->prog->journeys[st->journey].stages[ri->stage]);
		time_format(b, st->timer.deadline);
		buf_adds(b, ")\n");
		n++;
	}
	return n;
}

void journey_stuck(struct engine *e, struct timer *t)
{
	struct stuck_timer *st = (struct stuck_timer *)(void *)t;
	const struct rule_info *ri = &e->prog->rules[st->rule];
	struct jstate *js = jstate_of(e, st->cust, st->journey);
	if (js->stage == ri->stage && js->entry_seq == st->entry_seq) {
		engine_fire_rule(e, st->rule, st->cust, NULL, 0, t->deadline, NULL);
		journey_drain(e);
	}
	mem_free(st);
}

void journey_free(struct engine *e)
{
	for (uint32_t i = 0; i < e->ncusts; i++)
		if (e->custs[i].rare)
			mem_free(e->custs[i].rare->journeys);
	mem_free(e->queue);
}
