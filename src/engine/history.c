/* history.c: each customer's past events, as much as the script asks.
 *
 * For an event type named by count(), sum(), last(), first() or since(),
 * a customer keeps the times of its events inside the longest window (and
 * the fields a sum reads), and copies of the first and last one.  When a
 * query filters the past events (`count(E as x where cond within D)`) or
 * counts distinct values (`count(distinct E.f within D)`), the events of
 * the window are kept whole, and the query looks at each.  `any` stands
 * for every event of the customer.  History is updated after an event's
 * rules have run, so that it holds the past: in a rule on E,
 * count(E within 7d) counts the E events before this one.
 */
#include <math.h>
#include <string.h>

#include "base/timeutil.h"
#include "engine_int.h"
#include "vm/vm.h"


static struct hist *hist_of(struct engine *e, struct customer *c, int spec)
{
	struct customer_rare *r = cust_rare_new(c);
	if (!r->hist)
		r->hist = mem_alloc(sizeof *r->hist * (size_t)e->prog->nhspecs);
	return &r->hist[spec];
}

static int64_t ring_time(const struct hist *h, uint32_t i) { return h->times[(h->head + i) % h->cap]; }

void hist_push(struct hist *h, int nsum, int64_t t, const double *vals, struct event *ev)
{
	if (h->n == h->cap) {
		/* Grow by unrolling the ring into a new one twice the size. */
		uint32_t cap = h->cap ? h->cap * 2 : 8;
		int64_t *times = mem_alloc(sizeof *times * cap);
		double *sums = nsum ? mem_alloc(sizeof *sums * cap * (size_t)nsum) : NULL;
		struct event **evs = ev ? mem_alloc(sizeof *evs * cap) : NULL;
		for (uint32_t i = 0; i < h->n; i++) {
			uint32_t from = (h->head + i) % h->cap;
			times[i] = h->times[from];
			if (nsum)
				memcpy(sums + (size_t)i * (size_t)nsum, h->sums + (size_t)from * (size_t)nsum,
				       sizeof *sums * (size_t)nsum);
			if (evs)
				evs[i] = h->evs[from];
		}
		mem_free(h->times);
		mem_free(h->sums);
		mem_free(h->evs);
		h->times = times;
		h->sums = sums;
		h->evs = evs;
		h->cap = cap;
		h->head = 0;
	}
	uint32_t at = (h->head + h->n) % h->cap;
	h->times[at] = t;
	if (nsum)
		memcpy(h->sums + (size_t)at * (size_t)nsum, vals, sizeof *vals * (size_t)nsum);
	if (ev)
		h->evs[at] = ev;
	h->n++;
}

/* The number a sum adds for one event: numbers, data strings read as
 * numbers; anything else adds nothing. */
static double sum_value(const struct val *v)
{
	struct val n = *v;
	if (n.kind == V_STR && !val_as_number(&n, &n))
		return 0;
	if (n.kind == V_INT)
		return (double)n.u.i;
	if (n.kind == V_FLOAT && isfinite(n.u.f))
		return n.u.f;
	return 0;
}

static void history_keep(struct engine *e, const struct event *ev, int spec)
{
	const struct prog *p = e->prog;
	const struct history_spec *hs = &p->hspecs[spec];
	struct hist *h = hist_of(e, &e->custs[ev->cust], spec);
	if (hs->window > 0) {
		/* Forget what no window can reach any more. */
		while (h->n && ring_time(h, 0) < time_minus(ev->time, hs->window)) {
			if (h->evs)
				mem_free(h->evs[h->head]);
			h->head = (h->head + 1) % h->cap;
			h->n--;
		}
		double vals[64];
		int nsum = hs->nsum < 64 ? hs->nsum : 64;
		for (int i = 0; i < nsum; i++)
			vals[i] = sum_value(&ev->slots[hs->sum_slots[i]]);
		hist_push(h, nsum, ev->time, vals, hs->keep_events ? event_clone(ev, p->nslots) : NULL);
	}
	if (hs->keep_last) {
		mem_free(h->last);
		h->last = event_clone(ev, p->nslots);
	}
	if (hs->keep_first && !h->first)
		h->first = event_clone(ev, p->nslots);
}

void history_event(struct engine *e, const struct event *ev)
{
	const struct prog *p = e->prog;
	if (ev->type >= 0 && p->types[ev->type].history >= 0)
		history_keep(e, ev, p->types[ev->type].history);
	if (p->any_history >= 0)
		history_keep(e, ev, p->any_history);
}

/* Does a past event pass the query's `where`?  The condition runs on the
 * engine's second VM (the first is in the middle of the rule), with the
 * rule's events bound as they are now and the past one after them.  An
 * error in it is the query's value. */
static int filter_holds(struct vm *vm, const struct history_query *q, const struct event *past, struct val *err)
{
	if (q->where == NO_CODE)
		return 1;
	struct engine *e = vm->eng;
	if (!e->hvm)
		e->hvm = vm_new(vm->p, &engine_vm_host, e, vm->scratch);
	struct vm *h = e->hvm;
	for (int i = 0; i < MAX_BINDS; i++)
		h->bind[i] = i < q->nbinds - 1 ? vm->bind[i] : NULL;
	h->bind[q->nbinds - 1] = past;
	h->cust = vm->cust;
	h->now = vm->now;
	struct val v;
	if (vm_eval(h, q->where, &v) != VM_FIRED || v.kind == V_ERR) {
		*err = vm_error(vm, "in the history condition: %s", v.u.s);
		return 0;
	}
	return val_truthy(&v);
}

/* count(distinct E.f ...) and distinct(E.f ...): the different values of
 * a field (as dedupe keys tell them apart: 1 and "1" differ), in the
 * order they first came. */
static struct val distinct_values(struct vm *vm, const struct hist *h, const struct history_query *q)
{
	struct val *items = arena_alloc(vm->scratch, sizeof *items * (h ? h->n + 1 : 1));
	uint32_t n = 0;
	struct buf key = {0}, other = {0};
	for (uint32_t i = 0; h && i < h->n; i++) {
		uint32_t at = (h->head + i) % h->cap;
		if (h->times[at] < time_minus(vm->now, q->window) || h->times[at] > vm->now)
			continue;
		struct val err = val_null();
		if (!filter_holds(vm, q, h->evs[at], &err)) {
			if (err.kind == V_ERR) {
				buf_free(&key);
				buf_free(&other);
				return err;
			}
			continue;
		}
		const struct val *v = &h->evs[at]->slots[q->slot];
		if (v->kind == V_NULL)
			continue;
		buf_clear(&key);
		buf_addc(&key, (char)('a' + v->kind));
		val_render_json(&key, v);
		int seen = 0;
		for (uint32_t k = 0; k < n && !seen; k++) {
			buf_clear(&other);
			buf_addc(&other, (char)('a' + items[k].kind));
			val_render_json(&other, &items[k]);
			seen = other.len == key.len && memcmp(other.p, key.p, key.len) == 0;
		}
		if (!seen)
			items[n++] = *v;
	}
	buf_free(&key);
	buf_free(&other);
	if (q->kind == H_DISTINCT_COUNT)
		return val_int(n);
	struct val list = {0};
	list.kind = V_LIST;
	list.len = n;
	list.u.items = items;
	return list;
}

struct val history_query(struct vm *vm, int query)
{
	const struct prog *p = vm->p;
	const struct history_query *q = &p->hqueries[query];
	const struct history_spec *hs = &p->hspecs[q->spec];
	struct customer *c = vm->cust;
	const struct hist *h = cust_rare(c)->hist ? &cust_rare(c)->hist[q->spec] : NULL;
	switch (q->kind) {
	case H_DISTINCT_COUNT:
	case H_DISTINCT_LIST:
		return distinct_values(vm, h, q);
	case H_COUNT:
	case H_SUM: {
		int64_t count = 0;
		double sum = 0;
		for (uint32_t i = 0; h && i < h->n; i++) {
			uint32_t at = (h->head + i) % h->cap;
			if (h->times[at] < time_minus(vm->now, q->window) || h->times[at] > vm->now)
				continue;
			struct val err = val_null();
			if (!filter_holds(vm, q, h->evs ? h->evs[at] : NULL, &err)) {
				if (err.kind == V_ERR)
					return err;
				continue;
			}
			count++;
			if (q->kind == H_SUM)
				sum += h->sums[(size_t)at * (size_t)hs->nsum + (size_t)q->sum];
		}
		return q->kind == H_COUNT ? val_int(count) : val_float(sum);
	}
	case H_LAST:
		return h && h->last ? val_time(h->last->time) : val_null();
	case H_FIRST:
		return h && h->first ? val_time(h->first->time) : val_null();
	case H_SINCE:
		return h && h->last ? val_dur(vm->now - h->last->time) : val_null();
	case H_LAST_FIELD:
		return h && h->last ? h->last->slots[q->slot] : val_null();
	case H_FIRST_FIELD:
		return h && h->first ? h->first->slots[q->slot] : val_null();
	}
	return val_null();
}

void history_free(struct engine *e)
{
	for (uint32_t i = 0; i < e->ncusts; i++) {
		struct customer_rare *c = e->custs[i].rare;
		if (!c || !c->hist)
			continue;
		for (int s = 0; s < e->prog->nhspecs; s++) {
			for (uint32_t i = 0; c->hist[s].evs && i < c->hist[s].n; i++)
				mem_free(c->hist[s].evs[(c->hist[s].head + i) % c->hist[s].cap]);
			mem_free(c->hist[s].evs);
			mem_free(c->hist[s].times);
			mem_free(c->hist[s].sums);
			mem_free(c->hist[s].last);
			mem_free(c->hist[s].first);
		}
		mem_free(c->hist);
	}
}
