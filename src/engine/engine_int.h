/* engine_int.h: what the engine's own files share, and nothing above
 * them sees (SQLite's vdbeInt.h beside vdbe.h): the triggers that run
 * handlers (pattern, journey, measure), the VM's host (host.c), the
 * customer's rarely used state, the guard dispatch, timers and history.
 */
#ifndef CXR_ENGINE_INT_H
#define CXR_ENGINE_INT_H

#include "engine.h"
#include "hooks.h"

struct vm;

struct customer_rare *cust_rare_new(struct customer *c);

/* The rules of type et that ev runs, in firing order, into out (room for
 * et->nrules): those of its guard indexes that match, and the others. */
int dispatch_rules(const struct evtype *et, const struct event *ev, const struct customer *c, int *out);

/* Does a watcher want the notes of this customer's rule (-1: of its
 * events)?  One test when nobody watches. */
static inline int engine_watching(const struct engine *e, uint32_t cust, int rule)
{
	return e->hooks && e->hooks->wants && e->hooks->wants(e->hooks->ud, e, cust, rule);
}

/* history.c: what a customer keeps of one history_spec. */
struct hist {
	int64_t *times;   /* ring of event times inside the window, oldest first */
	double *sums;     /* nsum values per time */
	struct event **evs; /* the events themselves, when a query filters them (owned) */
	uint32_t n, cap, head;
	struct event *last, *first;
};
/* Append one time (its sums, its event when kept: owned) to the ring. */
void hist_push(struct hist *h, int nsum, int64_t t, const double *vals, struct event *ev);

/* journey.c: the timer of an `on stuck` rule for one stay in a stage. */
struct stuck_timer {
	struct timer timer; /* first: a timer is its stuck_timer */
	uint32_t cust;
	int rule, journey;
	uint64_t entry_seq;
};

/* journey.c */
struct stage_firing {
	int rule;
	uint32_t cust;
	int64_t now;
	const struct event *cause;
};
void journey_event(struct engine *e, const struct event *ev);
void journey_move(struct engine *e, uint32_t cust, int journey, int stage, int64_t now, const struct event *cause);
void journey_drain(struct engine *e);
void journey_stuck(struct engine *e, struct timer *t);

void journey_free(struct engine *e);

/* measure.c */
void measure_init(struct engine *e);
void measure_event(struct engine *e, const struct event *ev);
void measure_fired(struct engine *e, int rule, uint32_t cust, int64_t now, int held_out);
int measure_observe(struct engine *e, int metric, const struct val *v, const struct val *key);
int measure_budget_ok(struct engine *e, int rule, uint32_t cust, int budget, int64_t now);
void measure_spend(struct engine *e, int budget, int64_t now);
void measure_timer(struct engine *e, struct timer *t);
void measure_free(struct engine *e);
void agg_add(struct agg_state *a, double v, int need_quantiles);

struct agg_state *groups_get(struct groups *g, const char *key, size_t len, uint32_t *index);

/* history.c */
struct vm;
void history_event(struct engine *e, const struct event *ev);
struct val history_query(struct vm *vm, int query);

/* The VM's host (host.c, vm/host.h): the effects of a handler on its
 * customer and the run, defined in engine.c. */
extern const struct vm_host engine_vm_host;
int engine_once(struct vm *vm, struct val key);
int engine_limit(struct vm *vm);
void engine_emit(struct vm *vm, int response, struct val *fields);
void engine_setvar(struct vm *vm, int var, struct val v);
struct val engine_getvar(struct vm *vm, int var);
struct val engine_tags(struct vm *vm);
void engine_tag(struct vm *vm, struct val tag, int add);
void engine_fire(struct vm *vm);
void history_free(struct engine *e);

int engine_held_out(const struct engine *e, int rule, uint32_t cust);

/* For the triggers (pattern.c, journey.c, measure.c): running handlers
 * and telling their runtime errors. */
/* Run a rule's handler; returns its enum vm_result. */
int engine_fire_rule(struct engine *e, int rule, uint32_t cust, const struct event *const *bound, int nbound,
		     int64_t now, const struct event *cause);
void engine_runtime_error(struct engine *e, int rule, const struct event *cause);
/* --trace: the line that starts a run of code, naming what runs (a
 * format: "rule %s", "rule %s, where of step %d") and what started it: the timer firing
 * now, else the event ev, for the customer cust. */
void engine_trace_start(struct engine *e, uint32_t cust, const struct event *ev, const char *what, ...)
	__attribute__((format(printf, 4, 5)));
/* Free what the handler that ended let go of (value.h's rule). */
void engine_release_retired(struct engine *e);
struct rule_state *engine_rule_state(struct engine *e, uint32_t cust, int rule);
void pattern_event(struct engine *e, int rule, const struct event *ev);

void repeat_event(struct engine *e, int rule, const struct event *ev);
/* Add a pending instance at the end of its customer's list (oldest first). */
void instance_link(struct engine *e, struct instance *in);
void engine_free_patterns(struct engine *e);
void timer_init(struct timer *t, uint8_t kind);
/* A timer is in the heap unless its heap_at is this. */
#define TIMER_IDLE UINT32_MAX
/* Put back a timer read from a snapshot: its deadline and creation
 * order as they were (timer_set would take a new one). */
void timer_restore(struct engine *e, struct timer *t, int64_t deadline, uint64_t seq);

void timer_cancel(struct engine *e, struct timer *t);

#endif
