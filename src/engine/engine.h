/* engine.h: runtime state of a run: customers, the event store, output.
 *
 * An engine runs one prog over events in time order.  All state lives
 * here (nothing global), per customer where the language says so.  This
 * is the engine's interface to the layers above it (io, inspect, api);
 * what only the engine's own files share is in engine_int.h, and how a
 * tool watches a run is hooks.h.
 */
#ifndef CXR_ENGINE_H
#define CXR_ENGINE_H

#include <stdint.h>

#include "base/mem.h"
#include "vm/event.h"
#include "vm/prog.h"
#include "base/value.h"
#include "engine/hooks.h"

/* A string or list owned by a customer record (copied out of the event). */
struct owned {
	struct val v;
	void *mem;
};

/* Dedupe keys, frequency caps and repeat windows of one rule for one customer. */
struct rule_state {
	int rule;
	char **keys;      /* `once per` keys seen, as canonical text */
	uint32_t nkeys, capkeys;
	int64_t *fired;   /* ring of the last limit_n firing times */
	uint32_t nfired, head;
	int64_t *window;  /* `on N E within D`: ring of the last N + 1 event times */
	uint32_t nwin, win_head;
	int goals_watched; /* goals are watched after the rule's first firing only */
	int counted;       /* in a session (the REPL): this customer counted in the rule's customers */
	struct rule_state *next;
};

/* A point in event time at which something must happen. */
enum timer_kind { TIMER_PATTERN, TIMER_STUCK, TIMER_SLA, TIMER_GOAL };

struct timer {
	int64_t deadline; /* ns */
	uint64_t seq;     /* creation order: ties fire oldest first */
	uint32_t heap_at; /* position in the engine's heap */
	uint8_t kind;     /* enum timer_kind */
};

/* A sequence or absence waiting for its next step. */
struct instance {
	struct timer timer;           /* first: a timer is its instance */
	struct instance *prev, *next; /* the customer's pending instances, oldest first */
	uint32_t cust;
	int rule;
	int step;                     /* the next step to match */
	struct event *bound[];        /* owned copies of the events matched so far */
};

/* Where a customer is in one journey. */
struct jstate {
	int32_t stage;       /* -1: not in the journey yet */
	int64_t entered;     /* when the current stage was entered */
	uint64_t entry_seq;  /* tells one stay in a stage from the next */
	uint64_t reached;    /* stages ever entered, as bits (the first 64 stages) */
};

/* An SLA clock: started by A, stopped by the first matching B. */
struct sla_clock {
	struct timer timer;  /* first: the deadline */
	struct sla_clock *next;
	uint32_t cust;
	int sla;
	int breached;
	int group;           /* index of the `by` group */
	struct event *from;  /* owned copy of A */
};

/* A goal being watched after a rule's first firing for a customer. */
struct goal_watch {
	struct timer timer;  /* first: the deadline */
	struct goal_watch *next;
	uint32_t cust;
	int rule, goal;
	int held_out;
};

/* What few customers have: kept out of struct customer, which every event
 * touches, and allocated on first use (cust_rare_new). */
struct customer_rare {
	char **tags;              /* sorted, owned */
	uint32_t ntags;
	struct rule_state *rules; /* created on first firing of a capped or deduped rule */
	struct jstate *journeys;  /* per journey, once any stage event is seen */
	struct sla_clock *clocks; /* open SLA clocks, oldest first */
	struct goal_watch *watches;
	struct hist *hist;        /* per history_spec, once the customer has such an event */
};

/* 56 bytes: a customer no rule keeps state for costs this, a slot of the
 * index and its key when longer than 15 bytes. */
struct customer {
	uint32_t hash;            /* of the key: compared before the key itself */
	uint32_t keylen;
	union {
		char text[16];    /* keys shorter than 16 bytes, NUL-terminated */
		const char *ptr;  /* longer ones, in the engine's key arena */
	} key;
	struct owned *vars;       /* prog->nvars, allocated on first `set` */
	struct instance *pending, *pending_tail; /* patterns waiting for a step */
	struct customer_rare *rare;
};

extern const struct customer_rare cust_rare_none;

static inline const char *cust_key(const struct customer *c)
{
	return c->keylen < sizeof c->key.text ? c->key.text : c->key.ptr;
}

/* For reading: a customer without rare state reads as having none. */
static inline const struct customer_rare *cust_rare(const struct customer *c)
{
	return c->rare ? c->rare : &cust_rare_none;
}

/* Aggregates of one metric group, one SLA group, one journey stage. */
struct agg_state {
	uint64_t n;
	double sum, min, max;
	uint64_t hits, misses; /* nps: promoters/detractors; csat: satisfied; rate: true */
	uint64_t started, met, late, breached; /* SLA clocks of the group (latency: n, sketch) */
	uint64_t mixed;        /* values not observed: a number among durations, or the reverse */
	int durations;         /* values were durations (ns), shown as such */
	double *exact;         /* percentiles: the values themselves, up to AGG_EXACT ... */
	struct sketch *sketch; /* ... then a mergeable sketch of them all */
};

/* Up to this many values per group, percentiles are exact: the
 * nearest-rank value, one of the data's own; beyond, they come from a
 * sketch, within 1%.  The switch depends only on the count, so a run
 * split into parts agrees with one run. */
#define AGG_EXACT 100000

/* Groups of a metric or an SLA by their key's text, in the order they
 * came (the summary prints them sorted by key: groups_sorted). */
struct groups {
	char **keys;
	uint32_t *lens;
	struct agg_state *aggs;
	uint32_t n, cap;
	uint32_t *index;       /* open addressing on the key's hash: index + 1 */
	uint32_t mask;
};

struct goal_stats {
	uint64_t treated, treated_converted, held, held_converted;
};

struct rule_stats {
	uint64_t fired, deduped, capped, held_out, budget_exhausted, errors;
	uint64_t customers; /* distinct customers it fired for: kept in a session (growing) only */
};

typedef void (*write_fn)(void *ud, const char *p, size_t n);

/* Why a record was rejected, as a kind: a run most of whose records are
 * rejected for one kind of reason ends with one message that names the
 * fix (engine_reject_verdict). */
enum reject_kind {
	REJECT_JSON,     /* not a JSON object */
	REJECT_CSV,      /* bad CSV quoting */
	REJECT_CELLS,    /* not the header's number of cells */
	REJECT_KEY,      /* no usable customer key */
	REJECT_TIME,     /* no time field */
	REJECT_BAD_TIME, /* a time that does not parse */
	REJECT_TYPE,     /* a type that is not text */
	REJECT_LATE,     /* beyond `lateness` in a stream */
	REJECT__COUNT
};

/* The rejects of a run, by kind, with the first one kept whole enough to
 * say what the records look like. */
struct reject_tally {
	uint64_t n[REJECT__COUNT];
	char *first_raw, *first_why; /* the first reject: its text (up to 64 KB) and reason */
	size_t first_rawlen;
	uint32_t first_file;
	uint64_t first_line;
	int64_t late_by;             /* the most a late record was out of order (ns) */
};

/* A metric observation, checked and reduced to what it adds (measure.c). */
struct observation {
	int truthy, is_dur;
	double x;
};

struct progress;

enum out_format { OUT_JSONL, OUT_CSV };

struct engine {
	const struct prog *prog;
	struct diag *diag;

	int *dispatched;              /* an event's rules, when its type has guard indexes */
	/* customers: open addressing on key hash -> index in custs */
	struct customer *custs;
	uint32_t ncusts, capcusts;
	uint32_t *cust_index;    /* slots hold index + 1; 0 is empty */
	uint32_t cust_mask;
	struct arena keys;       /* customer key bytes */

	/* output */
	enum out_format format;
	write_fn out;
	void *out_ud;
	int header_written;
	write_fn rejects;
	void *rejects_ud;
	struct buf line;         /* the response being rendered */
	struct buf at;           /* its time, as text */
	struct buf once_key;     /* dedupe key of the running handler, recorded when it fires */
	int has_once_key;

	/* per-run statistics */
	uint64_t events, rejected, responses, runtime_errors;
	uint64_t rejected_lines;      /* lines the rejected records hold (a CSV record may hold many) */
	struct reject_tally tally;
	uint32_t spilled_runs;        /* the log was larger than --memory: sorted in runs */
	uint64_t spilled_bytes;
	uint64_t late;           /* events beyond `lateness` in a stream */
	struct rule_stats *stats;

	/* event time */
	struct timer **heap;     /* timers, a binary heap on (deadline, seq) */
	uint32_t nheap, capheap;
	uint64_t timer_seq;
	uint64_t pending;        /* pattern instances alive */
	int64_t last_time;       /* the latest event time processed */
	int64_t clock;           /* the REPL's clock, moved by `:advance` */
	int clock_set;

	/* journeys, measurement */
	uint64_t entry_seq;
	uint64_t **journey_reached;   /* per journey, per stage: customers who ever entered */
	struct agg_state **journey_dwell; /* per journey, per stage: completed stays (ns) */
	struct stage_firing *queue;   /* enter/exit rules waiting for the handler that moved */
	uint32_t nqueue, capqueue;
	int draining;
	struct groups *metric_groups; /* per metric */
	struct groups *sla_groups;    /* per sla: latency in agg_state */
	uint64_t *sla_errors;         /* per sla: runtime errors in its where or by (five are told) */
	uint64_t *metric_errors;      /* per metric: values not observed, numbers mixed with durations */
	struct goal_stats *goal_stats;  /* [rule * ngoals + goal] */
	int64_t **budget_spent;       /* per budget: ring of spend times */
	uint32_t *budget_n, *budget_head;
	write_fn audit;
	void *audit_ud;
	int trigger_ids;              /* `cxr diff`: each response ends with "@trigger", its first event's file:line */
	int response_ids;             /* each response has an "id" (a state run): the same for the same cause */
	/* A state run's checkpoints (api/): engine_events calls this before
	 * its event `next` every `pause_every` events; nonzero stops it there
	 * (paused set, next in paused_at). */
	int (*pause)(void *ud, size_t next);
	void *pause_ud;
	uint32_t pause_every, pause_count;
	int paused;
	size_t paused_at;
	/* A state run's customers changed since the last save, as bits (NULL:
	 * not kept): a checkpoint writes only those (engine_touch). */
	uint64_t *dirty;
	uint32_t dirty_words;
	const struct engine_hooks *hooks; /* a watcher (`cxr explain`, `cxr test --coverage`), or NULL */
	const struct engine_sink *sink;   /* a worker of parallel_run_events: what it says is kept there, or NULL */
	struct progress *progress;    /* told of each event the rules run over when read whole, or NULL */
	struct {
		int active;           /* engine_timers_until is firing a timer ... */
		uint8_t kind;         /* ... of this enum timer_kind ... */
		int64_t deadline;     /* ... due then (else an event runs) */
		uint64_t seq;         /* ... and set in this order */
	} timer_running;              /* for --trace: what started the handlers running now */

	/* the VM's working memory, sized from the prog */
	struct vm *vm;
	struct vm *hvm;          /* the history conditions' VM (history.c), made on first use */
	struct arena scratch;    /* reset after every event */
	void **retired;          /* customer blocks replaced by the running handler (value.h) */
	uint32_t nretired, capretired;

	const char **files;      /* input names for messages */
	uint32_t nfiles;
};

/* Mark a customer changed (its event ran, a timer of it fired). */
void engine_touch_grow(struct engine *e, uint32_t cust);
static inline void engine_touch(struct engine *e, uint32_t cust)
{
	if (cust >> 6 >= e->dirty_words)
		engine_touch_grow(e, cust);
	e->dirty[cust >> 6] |= 1ULL << (cust & 63);
}
static inline int engine_dirty(const struct engine *e, uint32_t cust)
{
	return cust >> 6 < e->dirty_words && (e->dirty[cust >> 6] >> (cust & 63) & 1);
}
/* Keep track of changed customers from now on, none changed yet. */
void engine_track_changes(struct engine *e);

struct engine *engine_new(const struct prog *p, struct diag *d);
void engine_free(struct engine *e);
uint32_t engine_customer(struct engine *e, const char *key, size_t len);
/* The same with the key's hash known: (uint32_t)mem_hash(key, len). */
uint32_t engine_customer_hashed(struct engine *e, const char *key, size_t len, uint32_t hash);
/* Fetch ahead what engine_customer_hashed will read: the index slot
 * (stage 0), then, a little later, the record it names (stage 1). */
void engine_customer_prefetch(const struct engine *e, uint32_t hash, int stage);
uint32_t engine_file(struct engine *e, const char *name);
/* Run every handler of the event's type; returns the number of runtime
 * errors it caused. */
int engine_event(struct engine *e, const struct event *ev);
/* engine_event for each of n events in time order. */
void engine_events(struct engine *e, const struct event *evs, size_t n);
/* The same for the events of customers whose index is k modulo nk (a
 * worker's share, parallel.c). */
void engine_events_of(struct engine *e, const struct event *evs, size_t n, uint32_t k, uint32_t nk);
/* Free a customer's pending patterns (their timers are in e's heap). */
void engine_free_pending(struct engine *e, uint32_t cust);
/* The CSV header, when it has not been written. */
void engine_csv_header(struct engine *e);
void measure_add(struct engine *e, int metric, const char *key, size_t keylen, const struct observation *o);
/* A record of lines [line, last_line] of a file is rejected. */
void engine_reject(struct engine *e, enum reject_kind kind, uint32_t file, uint64_t line, uint64_t last_line,
		   size_t col, const char *reason, const char *raw, size_t rawlen);
/* After a run: when half the records or more were rejected, all for one
 * kind of reason, say so in one message that names the fix, and return 1
 * (the run is an input error); else 0.  stream: stdin was read as one. */
int engine_reject_verdict(struct engine *e, int stream);

/* Fire every timer due before t (or at t too, when inclusive). */
void engine_timers_until(struct engine *e, int64_t t, int inclusive);
/* End of input: timers due by the last event's time fire; all with flush. */
void engine_finish(struct engine *e, int flush);

/* "  pending: rule R, stuck in J.S (fires at T)" for each live stuck
 * timer of a customer (the REPL's :customer); how many. */
int journey_describe_stuck(const struct engine *e, uint32_t cust, struct buf *b);

/* measure.c: a quantile of an aggregate, the groups of a metric in key order. */
double agg_quantile(const struct agg_state *a, double q);
/* The groups' indexes in the order of their keys (bytewise; the empty key
 * first), for the caller to free. */
uint32_t *groups_sorted(const struct groups *g);

/* Tell the watcher (NOTE_PENDING) of each pattern still pending for the
 * customers it wants (pattern.c); engine_finish does. */
void engine_note_pending(struct engine *e);
/* A dedupe key as the engine keeps it: its kind and its JSON. */
void engine_key_text(struct buf *b, const struct val *v);

/* Would cand match step `step` of rule (its types, its `where`), after
 * the events bound?  Quietly: an error is no match, and no note is
 * taken.  For `cxr explain`'s candidates that came after a deadline. */
int pattern_would_match(struct engine *e, int rule, int step, struct event *const *bound, uint32_t cust,
			const struct event *cand);
void timer_set(struct engine *e, struct timer *t, int64_t deadline);
struct event *event_clone(const struct event *ev, int nslots);

#endif
