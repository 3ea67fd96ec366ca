/* history.c: each customer's past events, as much as the script asks.
 *
 * For an event type named by count(), sum(), last(), first() or since(),
 * a customer keeps the times of its events inside the longest window (and
 * the fields a sum reads), and copies of the first and last one.  History
 * is updated after an event's rules have run, so that it holds the past:
 * in a rule on E, count(E within 7d) counts the E events before this one.
 */
#include <math.h>
#include <string.h>

#include "engine.h"
#include "vm.h"

struct hist {
	int64_t *times;   /* ring of event times inside the window, oldest first */
	double *sums;     /* nsum values per time */
	uint32_t n, cap, head;
	struct event *last, *first;
};

static struct hist *hist_of(struct engine *e, struct customer *c, int spec)
{
	struct customer_rare *r = cust_rare_new(c);
	if (!r->hist)
		r->hist = mem_alloc(sizeof *r->hist * (size_t)e->prog->nhspecs);
	return &r->hist[spec];
}

static int64_t ring_time(const struct hist *h, uint32_t i) { return h->times[(h->head + i) % h->cap]; }

static void ring_push(struct hist *h, int nsum, int64_t t, const double *vals)
{
	if (h->n == h->cap) {
		/* Grow by unrolling the ring into a new one twice the size. */
		uint32_t cap = h->cap ? h->cap * 2 : 8;
		int64_t *times = mem_alloc(sizeof *times * cap);
		double *sums = nsum ? mem_alloc(sizeof *sums * cap * (size_t)nsum) : NULL;
		for (uint32_t i = 0; i < h->n; i++) {
			uint32_t from = (h->head + i) % h->cap;
			times[i] = h->times[from];
			if (nsum)
				memcpy(sums + (size_t)i * (size_t)nsum, h->sums + (size_t)from * (size_t)nsum,
				       sizeof *sums * (size_t)nsum);
		}
		mem_free(h->times);
		mem_free(h->sums);
		h->times = times;
		h->sums = sums;
		h->cap = cap;
		h->head = 0;
	}
	uint32_t at = (h->head + h->n) % h->cap;
	h->times[at] = t;
	if (nsum)
		memcpy(h->sums + (size_t)at * (size_t)nsum, vals, sizeof *vals * (size_t)nsum);
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

void history_event(struct engine *e, const struct event *ev)
{
	const struct prog *p = e->prog;
	if (ev->type < 0 || p->types[ev->type].history < 0)
		return;
	int spec = p->types[ev->type].history;
	const struct history_spec *hs = &p->hspecs[spec];
	struct hist *h = hist_of(e, &e->custs[ev->cust], spec);
	if (hs->window > 0) {
		/* Forget what no window can reach any more. */
		while (h->n && ring_time(h, 0) < ev->time - hs->window) {
			h->head = (h->head + 1) % h->cap;
			h->n--;
		}
		double vals[64];
		int nsum = hs->nsum < 64 ? hs->nsum : 64;
		for (int i = 0; i < nsum; i++)
			vals[i] = sum_value(&ev->slots[hs->sum_slots[i]]);
		ring_push(h, nsum, ev->time, vals);
	}
	if (hs->keep_last) {
		mem_free(h->last);
		h->last = event_clone(ev, p->nslots);
	}
	if (hs->keep_first && !h->first)
		h->first = event_clone(ev, p->nslots);
}

struct val history_query(struct vm *vm, int query)
{
	const struct prog *p = vm->p;
	const struct history_query *q = &p->hqueries[query];
	const struct history_spec *hs = &p->hspecs[q->spec];
	struct customer *c = vm->cust;
	const struct hist *h = cust_rare(c)->hist ? &cust_rare(c)->hist[q->spec] : NULL;
	switch (q->kind) {
	case H_COUNT:
	case H_SUM: {
		int64_t count = 0;
		double sum = 0;
		for (uint32_t i = 0; h && i < h->n; i++) {
			uint32_t at = (h->head + i) % h->cap;
			if (h->times[at] < vm->now - q->window || h->times[at] > vm->now)
				continue;
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
			mem_free(c->hist[s].times);
			mem_free(c->hist[s].sums);
			mem_free(c->hist[s].last);
			mem_free(c->hist[s].first);
		}
		mem_free(c->hist);
	}
}
