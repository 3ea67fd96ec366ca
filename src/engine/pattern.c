/* pattern.c: event-time timers, sequences, absences and repeats.
 *
 * A sequence `on A as a then B as b within D` keeps, per customer, one
 * pending instance per A: the events bound so far and a timer at the
 * step's deadline.  A matching B completes the instance (the rule fires);
 * the deadline frees it, or, for `then no B`, fires the rule at the
 * deadline.  Timers live in one binary heap ordered by (deadline, creation
 * order) and fire before any event later than their deadline, so the
 * output does not depend on how the input was split or batched.
 */
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "engine_int.h"
#include "vm/vm.h"


/* ---- the timer heap ---- */

static int timer_before(const struct timer *a, const struct timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void heap_place(struct engine *e, uint32_t at, struct timer *t)
{
	e->heap[at] = t;
	t->heap_at = at;
}

static void sift_up(struct engine *e, uint32_t at)
{
	struct timer *t = e->heap[at];
	while (at > 0) {
		uint32_t parent = (at - 1) / 2;
		if (!timer_before(t, e->heap[parent]))
			break;
		heap_place(e, at, e->heap[parent]);
		at = parent;
	}
	heap_place(e, at, t);
}

static void sift_down(struct engine *e, uint32_t at)
{
	struct timer *t = e->heap[at];
	for (;;) {
		uint32_t child = 2 * at + 1;
		if (child >= e->nheap)
			break;
		if (child + 1 < e->nheap && timer_before(e->heap[child + 1], e->heap[child]))
			child++;
		if (!timer_before(e->heap[child], t))
			break;
		heap_place(e, at, e->heap[child]);
		at = child;
	}
	heap_place(e, at, t);
}

void timer_cancel(struct engine *e, struct timer *t)
{
	uint32_t at = t->heap_at;
	if (at == TIMER_IDLE)
		return;
	t->heap_at = TIMER_IDLE;
	struct timer *last = e->heap[--e->nheap];
	if (at == e->nheap)
		return;
	heap_place(e, at, last);
	sift_up(e, at);
	sift_down(e, last->heap_at);
}

void timer_set(struct engine *e, struct timer *t, int64_t deadline)
{
	timer_cancel(e, t);
	t->deadline = deadline;
	t->seq = ++e->timer_seq;
	if (e->sink)
		e->sink->timer_set(e->sink->ud, t->seq);
	if (e->nheap == e->capheap) {
		e->capheap = e->capheap ? e->capheap * 2 : 256;
		e->heap = mem_realloc(e->heap, sizeof *e->heap * e->capheap);
	}
	heap_place(e, e->nheap++, t);
	sift_up(e, t->heap_at);
}

void timer_restore(struct engine *e, struct timer *t, int64_t deadline, uint64_t seq)
{
	t->deadline = deadline;
	t->seq = seq;
	if (e->nheap == e->capheap) {
		e->capheap = e->capheap ? e->capheap * 2 : 256;
		e->heap = mem_realloc(e->heap, sizeof *e->heap * e->capheap);
	}
	heap_place(e, e->nheap++, t);
	sift_up(e, t->heap_at);
}

void timer_init(struct timer *t, uint8_t kind)
{
	memset(t, 0, sizeof *t);
	t->heap_at = TIMER_IDLE;
	t->kind = kind;
}

/* ---- bound events ---- */

/* A copy of an event that outlives it: one allocation holding the slots
 * and their strings. */
struct event *event_clone(const struct event *ev, int nslots)
{
	size_t size = sizeof *ev + sizeof *ev->slots * (size_t)nslots + val_copy_size(&ev->type_name);
	for (int i = 0; i < nslots; i++)
		size += val_copy_size(&ev->slots[i]);
	struct event *copy = mem_alloc(size);
	*copy = *ev;
	copy->slots = (struct val *)(copy + 1);
	char *mem = (char *)(copy->slots + nslots);
	for (int i = 0; i < nslots; i++)
		copy->slots[i] = val_copy_into(&ev->slots[i], &mem);
	copy->type_name = val_copy_into(&ev->type_name, &mem);
	return copy;
}

/* ---- running a handler ---- */

int engine_fire_rule(struct engine *e, int rule, uint32_t cust, const struct event *const *bound, int nbound,
		     int64_t now, const struct event *cause)
{
	struct vm *vm = e->vm;
	for (int i = 0; i < MAX_BINDS; i++)
		vm->bind[i] = i < nbound ? bound[i] : NULL;
	vm->cust = &e->custs[cust];
	vm->now = now;
	e->has_once_key = 0;
	int explained = engine_watching(e, cust, rule);
	vm->explain = explained;
	if (vm->trace)
		engine_trace_start(e, cust, cause, "rule %s", e->prog->rules[rule].name);
	enum vm_result r = vm_run_rule(vm, rule);
	if (r == VM_ERROR)
		engine_runtime_error(e, rule, cause);
	if (explained)
		e->hooks->handler(e->hooks->ud, e, rule, cause, now, r, r == VM_FIRED && engine_held_out(e, rule, cust));
	vm->explain = 0;
	engine_release_retired(e);
	journey_drain(e); /* the enter and exit rules of a `move` */
	return r;
}

/* Run a step's `where` for a candidate, after the events bound before it. */
static enum vm_result where_run(struct engine *e, int rule, const struct pattern_step *st, struct event *const *bound,
				int nbound, uint32_t cust, const struct event *cand, struct val *v)
{
	struct vm *vm = e->vm;
	for (int i = 0; i < nbound; i++)
		vm->bind[i] = bound[i];
	vm->bind[nbound] = cand;
	vm->cust = &e->custs[cust];
	vm->now = cand->time;
	vm->rule = rule;
	vm->nmarks = 0;
	return vm_eval_of(vm, rule, st->where, v); /* a trace names the rule's events */
}

/* A step's `where`: does this candidate match, given the events so far? */
static int where_holds(struct engine *e, int rule, const struct pattern_step *st, struct instance *in,
		       const struct event *cand)
{
	if (st->where == NO_CODE)
		return 1;
	struct vm *vm = e->vm;
	int explained = engine_watching(e, in->cust, rule);
	vm->explain = explained;
	if (vm->trace)
		engine_trace_start(e, in->cust, cand, "rule %s, where of step %d", e->prog->rules[rule].name, in->step);
	struct val v;
	enum vm_result r = where_run(e, rule, st, in->bound, in->step, in->cust, cand, &v);
	vm->explain = 0;
	if (r != VM_FIRED) {
		engine_runtime_error(e, rule, cand);
		return 0;
	}
	int holds = val_truthy(&v);
	if (!holds && explained)
		e->hooks->pattern(e->hooks->ud, e, rule, NOTE_WHERE_FALSE, in, cand, cand->time);
	return holds;
}

int pattern_would_match(struct engine *e, int rule, int step, struct event *const *bound, uint32_t cust,
			const struct event *cand)
{
	const struct pattern_step *st = &e->prog->rules[rule].steps[step];
	int typed = 0;
	for (int i = 0; i < st->ntypes; i++)
		typed |= st->types[i] == cand->type;
	if (!typed || st->where == NO_CODE)
		return typed;
	struct arena_mark mark = arena_mark(&e->scratch);
	struct val v;
	int holds = where_run(e, rule, st, bound, step, cust, cand, &v) == VM_FIRED && val_truthy(&v);
	arena_reset(&e->scratch, mark);
	return holds;
}

/* ---- instances ---- */

static void instance_unlink(struct engine *e, struct instance *in)
{
	struct customer *c = &e->custs[in->cust];
	if (in->prev)
		in->prev->next = in->next;
	else
		c->pending = in->next;
	if (in->next)
		in->next->prev = in->prev;
	else
		c->pending_tail = in->prev;
}

/* Free an instance that is no longer in its customer's list. */
static void instance_release(struct engine *e, struct instance *in)
{
	timer_cancel(e, &in->timer);
	for (int i = 0; i < in->step; i++)
		mem_free(in->bound[i]);
	mem_free(in);
	e->pending--;
}

static void instance_free(struct engine *e, struct instance *in)
{
	instance_unlink(e, in);
	instance_release(e, in);
}

static void step_hit(struct engine *e, int rule, int step)
{
	if (e->hooks && e->hooks->step)
		e->hooks->step(e->hooks->ud, rule, step);
}

void instance_link(struct engine *e, struct instance *in)
{
	struct customer *c = &e->custs[in->cust];
	in->prev = c->pending_tail;
	if (c->pending_tail)
		c->pending_tail->next = in;
	else
		c->pending = in;
	c->pending_tail = in;
	e->pending++;
}

static void instance_start(struct engine *e, int rule, const struct event *ev)
{
	step_hit(e, rule, 0);
	const struct rule_info *ri = &e->prog->rules[rule];
	struct instance *in = mem_alloc(sizeof *in + sizeof *in->bound * (size_t)ri->nsteps);
	timer_init(&in->timer, TIMER_PATTERN);
	in->cust = ev->cust;
	in->rule = rule;
	in->bound[0] = event_clone(ev, e->prog->nslots);
	in->step = 1;
	instance_link(e, in);
	timer_set(e, &in->timer, time_plus(ev->time, ri->steps[1].within));
	if (engine_watching(e, ev->cust, rule))
		e->hooks->pattern(e->hooks->ud, e, rule, NOTE_STARTED, in, ev, ev->time);
}

static int step_has_type(const struct pattern_step *st, int type)
{
	for (int i = 0; i < st->ntypes; i++)
		if (st->types[i] == type)
			return 1;
	return 0;
}

/* An event of a type a sequence rule names: first it moves the pending
 * instances (oldest first), then it may start a new one, so that an event
 * never completes the instance it started. */
void pattern_event(struct engine *e, int rule, const struct event *ev)
{
	const struct rule_info *ri = &e->prog->rules[rule];
	struct customer *c = &e->custs[ev->cust];
	int later = 0;
	for (int s = 1; s < ri->nsteps && !later; s++)
		later = step_has_type(&ri->steps[s], ev->type);
	/* Only an event that a later step names looks at the pending ones. */
	for (struct instance *in = later ? c->pending : NULL, *next; in; in = next) {
		next = in->next;
		if (in->rule != rule)
			continue;
		const struct pattern_step *st = &ri->steps[in->step];
		if (!step_has_type(st, ev->type) || ev->time > in->timer.deadline || !where_holds(e, rule, st, in, ev))
			continue;
		step_hit(e, rule, in->step);
		if (st->negated) {
			if (engine_watching(e, in->cust, rule))
				e->hooks->pattern(e->hooks->ud, e, rule, NOTE_CANCELLED, in, ev, ev->time);
			instance_free(e, in); /* it came in time: no absence */
			continue;
		}
		if (in->step == ri->nsteps - 1) {
			const struct event *bound[MAX_BINDS];
			for (int i = 0; i < in->step; i++)
				bound[i] = in->bound[i];
			bound[in->step] = ev;
			/* A handler starts no instance and frees none, so `next`
			 * stays valid while it runs. */
			instance_unlink(e, in);
			engine_fire_rule(e, rule, in->cust, bound, ri->nsteps, ev->time, ev);
			instance_release(e, in);
			continue;
		}
		in->bound[in->step++] = event_clone(ev, e->prog->nslots);
		timer_set(e, &in->timer, time_plus(ev->time, ri->steps[in->step].within));
		if (engine_watching(e, in->cust, rule))
			e->hooks->pattern(e->hooks->ud, e, rule, NOTE_STEP, in, ev, ev->time);
	}
	if (step_has_type(&ri->steps[0], ev->type))
		instance_start(e, rule, ev);
}

/* A pattern's deadline: an absence fires, anything else expires. */
static void instance_deadline(struct engine *e, struct instance *in)
{
	const struct rule_info *ri = &e->prog->rules[in->rule];
	if (ri->steps[in->step].negated) {
		step_hit(e, in->rule, in->step);
		const struct event *bound[MAX_BINDS];
		for (int i = 0; i < in->step; i++)
			bound[i] = in->bound[i];
		instance_unlink(e, in);
		int r = engine_fire_rule(e, in->rule, in->cust, bound, in->step, in->timer.deadline, bound[0]);
		if (r == VM_FIRED && engine_watching(e, in->cust, in->rule))
			e->hooks->absence_fired(e->hooks->ud, e, in); /* a B that comes late is worth telling */
		instance_release(e, in);
		return;
	}
	if (engine_watching(e, in->cust, in->rule))
		e->hooks->pattern(e->hooks->ud, e, in->rule, NOTE_EXPIRED, in, NULL, in->timer.deadline);
	instance_free(e, in);
}

/* ---- repeats: on N E within D ---- */

/* The rule fires on the event that makes the count inside the window
 * reach N; the window holds the events at most D before the newest. */
void repeat_event(struct engine *e, int rule, const struct event *ev)
{
	const struct rule_info *ri = &e->prog->rules[rule];
	struct rule_state *rs = engine_rule_state(e, ev->cust, rule);
	uint32_t keep = (uint32_t)ri->repeat_n + 1; /* N + 1 times tell "exactly N" */
	if (!rs->window)
		rs->window = mem_alloc(sizeof *rs->window * keep);
	rs->window[(rs->win_head + rs->nwin) % keep] = ev->time;
	if (rs->nwin < keep)
		rs->nwin++;
	else
		rs->win_head = (rs->win_head + 1) % keep;
	int64_t from = time_minus(ev->time, ri->repeat_within);
	uint32_t inside = 0;
	for (uint32_t i = 0; i < rs->nwin; i++)
		inside += rs->window[(rs->win_head + i) % keep] >= from;
	if (inside == (uint32_t)ri->repeat_n) {
		const struct event *bound[1] = {ev};
		engine_fire_rule(e, rule, ev->cust, bound, 1, ev->time, ev);
	} else if (engine_watching(e, ev->cust, rule)) {
		e->hooks->repeat(e->hooks->ud, e, rule, ev, inside);
	}
}

/* ---- firing timers ---- */

/* The customer a timer is of (each kind's struct starts with its timer). */
static uint32_t timer_customer(struct timer *t)
{
	switch (t->kind) {
	case TIMER_PATTERN: return ((struct instance *)(void *)t)->cust;
	case TIMER_STUCK: return ((struct stuck_timer *)(void *)t)->cust;
	case TIMER_SLA: return ((struct sla_clock *)(void *)t)->cust;
	default: return ((struct goal_watch *)(void *)t)->cust;
	}
}

/* Fire every timer due before `t` (or at `t` too, when `inclusive`), in
 * deadline order. */
void engine_timers_until(struct engine *e, int64_t t, int inclusive)
{
	while (e->nheap) {
		struct timer *top = e->heap[0];
		if (top->deadline > t || (!inclusive && top->deadline == t))
			break;
		timer_cancel(e, top);
		if (e->sink)
			e->sink->timer_step(e->sink->ud, top->deadline, top->seq);
		struct arena_mark mark = arena_mark(&e->scratch);
		e->timer_running.active = 1;
		e->timer_running.kind = top->kind;
		e->timer_running.deadline = top->deadline;
		e->timer_running.seq = top->seq;
		if (e->dirty)
			engine_touch(e, timer_customer(top));
		switch (top->kind) {
		case TIMER_PATTERN:
			instance_deadline(e, (struct instance *)(void *)top);
			break;
		case TIMER_STUCK:
			journey_stuck(e, top);
			break;
		case TIMER_SLA:
		case TIMER_GOAL:
			measure_timer(e, top);
			break;
		}
		e->timer_running.active = 0;
		arena_reset(&e->scratch, mark);
	}
}

void engine_finish(struct engine *e, int flush)
{
	if (flush)
		engine_timers_until(e, INT64_MAX, 1);
	else if (e->events)
		engine_timers_until(e, e->last_time, 1);
	engine_note_pending(e);
}

void engine_note_pending(struct engine *e)
{
	if (!e->hooks || !e->hooks->wants)
		return;
	for (uint32_t c = 0; c < e->ncusts; c++)
		for (struct instance *in = e->custs[c].pending; in; in = in->next)
			if (engine_watching(e, c, in->rule))
				e->hooks->pattern(e->hooks->ud, e, in->rule, NOTE_PENDING, in, NULL, in->timer.deadline);
}

void engine_free_pending(struct engine *e, uint32_t cust)
{
	while (e->custs[cust].pending)
		instance_free(e, e->custs[cust].pending);
}

void engine_free_patterns(struct engine *e)
{
	for (uint32_t i = 0; i < e->ncusts; i++)
		while (e->custs[i].pending)
			instance_free(e, e->custs[i].pending);
	/* What is left are stuck timers (SLA clocks and goal watches went with
	 * their customers, in measure_free). */
	while (e->nheap) {
		struct timer *t = e->heap[0];
		timer_cancel(e, t);
		mem_free(t);
	}
	mem_free(e->heap);
	e->heap = NULL;
	e->nheap = e->capheap = 0;
}
