/* hooks.h: what an engine tells those who watch it or keep its output.
 *
 * The engine knows nothing of the tools built on it (`cxr explain`, the
 * coverage of `cxr test`, the workers of a run on threads): they install
 * a table here, as Lua's debug library is a client of lua_sethook, and the
 * engine calls through it.  A table's ud is given back to each of its
 * functions.  An engine nobody watches has NULL tables, and pays one NULL
 * test where it would tell something.  The engine does not own a table
 * nor its ud: whoever installs one frees it, once the engine is freed or
 * the table taken away.
 */
#ifndef CXR_ENGINE_HOOKS_H
#define CXR_ENGINE_HOOKS_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct event;
struct instance;
struct observation;

/* What a pattern did, for its customer. */
enum engine_note {
	NOTE_STARTED,     /* its first event came: an instance waits for the next step */
	NOTE_STEP,        /* a step matched; it waits for the next */
	NOTE_WHERE_FALSE, /* an event of the step's type, but the step's `where` is false */
	NOTE_CANCELLED,   /* the event an absence waited for came in time */
	NOTE_EXPIRED,     /* the deadline passed with no event for the step */
	NOTE_PENDING      /* still waiting at the end (engine_note_pending) */
};

/* A watcher: the story of what the engine did (explain.c), or which
 * pattern steps were reached (testrun.c's coverage). */
struct engine_hooks {
	void *ud;
	/* Is the watcher told of this customer's rule (rule -1: of its
	 * events)?  Asked before each note below but step, for the rule the
	 * note is of.  NULL: no note is told; else each note's member is
	 * set.  While a handler or a `where` it wants runs, the VM keeps the
	 * trail of what it saw (vm->explain, vm->marks), for the note. */
	int (*wants)(void *ud, const struct engine *e, uint32_t cust, int rule);
	/* An event of a customer wanted, before its rules run. */
	void (*event)(void *ud, struct engine *e, const struct event *ev);
	/* A handler ran (result: its enum vm_result; held_out: it fired for a
	 * customer of the holdout group), because of cause at now. */
	void (*handler)(void *ud, struct engine *e, int rule, const struct event *cause, int64_t now, int result,
			int held_out);
	/* A pattern's instance did what; ev is the event that made it (or
	 * NULL: its deadline or the end did), at the time at. */
	void (*pattern)(void *ud, struct engine *e, int rule, enum engine_note what, const struct instance *in,
			const struct event *ev, int64_t at);
	/* An absence fired at its deadline (in: its instance, still whole). */
	void (*absence_fired)(void *ud, struct engine *e, const struct instance *in);
	/* `on N E within D`: an event that made the count `inside`, not N. */
	void (*repeat)(void *ud, struct engine *e, int rule, const struct event *ev, uint32_t inside);
	/* Step `step` of a pattern rule was reached (0: an instance started;
	 * a `then no` step: its event came in time, or its absence fired).
	 * Told whatever wants says. */
	void (*step)(void *ud, int rule, int step);
};

/* Where a worker of a run on threads keeps what its engine says, to be
 * said later in one engine's order (parallel.c).  The responses and audit
 * lines go to the engine's out and audit as always, and the runtime
 * errors to its diag: the worker points them at its keeping too.  Every
 * member is set. */
struct engine_sink {
	void *ud;
	/* The next message to the diag is a runtime error of this rule.  The
	 * engine then tells every one (the merge keeps five per rule). */
	void (*runtime_error)(void *ud, int rule);
	/* A metric's observation, kept instead of added to the metrics. */
	void (*observation)(void *ud, int metric, const char *key, size_t keylen, const struct observation *o);
	/* What the engine says is said in steps, an event or a timer firing:
	 * the position in the log of the next event (engine_events_of) ... */
	void (*position)(void *ud, uint64_t pos);
	/* ... that event's step begins, at its time ... */
	void (*event_step)(void *ud, int64_t time);
	/* ... the step running set a timer, the engine's seq-th ... */
	void (*timer_set)(void *ud, uint64_t seq);
	/* ... a timer's step begins: the seq-th, due at deadline. */
	void (*timer_step)(void *ud, int64_t deadline, uint64_t seq);
};

#endif
