/* stream.c: a stream of events, re-ordered within `lateness`.
 *
 * stdin (and events fed one by one) cannot be sorted whole without
 * waiting for the end, so a stream holds events back in a small heap
 * until no event still allowed to arrive could come before them: an event
 * is late when it is older than the newest event seen minus `lateness`.
 * Held-back events are released in (time, arrival) order, the order a
 * full sort gives; a late event is rejected or processed as it comes
 * (`late = reject | process`), and counted either way.
 */
#include <string.h>

#include "stream.h"

#include "ingest.h"
#include "base/timeutil.h"

static int before(const struct stream_item *a, const struct stream_item *b)
{
	return a->ev->time < b->ev->time || (a->ev->time == b->ev->time && a->seq < b->seq);
}

static void push(struct stream *s, struct event *ev, const char *raw, size_t rawlen)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->heap = mem_realloc(s->heap, sizeof *s->heap * s->cap);
	}
	struct stream_item it = {ev, s->seq++, NULL, 0};
	if (s->keep_raw) {
		it.raw = raw ? mem_strndup(raw, rawlen) : NULL;
		it.rawlen = rawlen;
	}
	size_t at = s->n++;
	while (at > 0) {
		size_t parent = (at - 1) / 2;
		if (!before(&it, &s->heap[parent]))
			break;
		s->heap[at] = s->heap[parent];
		at = parent;
	}
	s->heap[at] = it;
}

static struct event *pop(struct stream *s)
{
	struct event *top = s->heap[0].ev;
	mem_free(s->heap[0].raw);
	struct stream_item last = s->heap[--s->n];
	size_t at = 0;
	for (;;) {
		size_t child = 2 * at + 1;
		if (child >= s->n)
			break;
		if (child + 1 < s->n && before(&s->heap[child + 1], &s->heap[child]))
			child++;
		if (!before(&s->heap[child], &last))
			break;
		s->heap[at] = s->heap[child];
		at = child;
	}
	if (s->n)
		s->heap[at] = last;
	return top;
}

static void release(struct stream *s, int64_t upto, int all)
{
	while (s->n && (all || s->heap[0].ev->time <= upto)) {
		struct event *ev = pop(s);
		engine_event(s->engine, ev);
		mem_free(ev);
	}
}

void stream_init(struct stream *s, struct engine *e, int64_t lateness, enum late_policy late)
{
	memset(s, 0, sizeof *s);
	s->engine = e;
	s->lateness = lateness;
	s->late = late;
}

void stream_event(void *ud, const struct event *ev, const char *raw, size_t rawlen)
{
	struct stream *s = ud;
	struct engine *e = s->engine;
	if (s->seen && ev->time < time_minus(s->newest, s->lateness)) {
		e->late++;
		if (s->late == LATE_PROCESS) {
			struct event taken = *ev;
			store_event_customer(e, &taken);
			engine_event(e, &taken); /* in arrival order: its own time, after later events */
			return;
		}
		struct buf why = {0}, by = {0}, limit = {0};
		time_span_format(&by, ev->time, s->newest);
		dur_format(&limit, s->lateness);
		buf_printf(&why, "late: %s older than %s (lateness is %s; late = process keeps it)", by.p,
			   s->by_wall ? "the wall clock had reached (--clock wall)" : "an event already read", limit.p);
		int64_t late_by = time_since(s->newest, ev->time);
		if (late_by > e->tally.late_by)
			e->tally.late_by = late_by;
		engine_reject(e, REJECT_LATE, ev->file, ev->line, ev->line, 0, why.p, raw, rawlen);
		buf_free(&why);
		buf_free(&by);
		buf_free(&limit);
		return;
	}
	if (!s->seen || ev->time > s->newest) {
		s->newest = ev->time;
		s->by_wall = 0;
	}
	s->seen = 1;
	struct event taken = *ev;
	store_event_customer(e, &taken);
	if (s->n == 0 && ev->time >= time_minus(s->newest, s->lateness) && s->lateness == 0) {
		engine_event(e, &taken); /* in order and nothing held back: no copy */
		return;
	}
	push(s, event_clone(&taken, e->prog->nslots), raw, rawlen);
	release(s, time_minus(s->newest, s->lateness), 0);
}

void stream_flush(struct stream *s)
{
	release(s, 0, 1);
}

void stream_advance(struct stream *s, int64_t t)
{
	if (!s->seen || t > s->newest) {
		s->newest = t;
		s->by_wall = 1;
	}
	s->seen = 1;
	release(s, time_minus(s->newest, s->lateness), 0);
}

void stream_drop(struct stream *s)
{
	for (size_t i = 0; i < s->n; i++) {
		mem_free(s->heap[i].ev);
		mem_free(s->heap[i].raw);
	}
	s->n = 0;
}

void stream_finish(struct stream *s)
{
	release(s, 0, 1);
	mem_free(s->heap);
	s->heap = NULL;
	s->n = s->cap = 0;
}
