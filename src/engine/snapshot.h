/* snapshot.h: a run's state written out by name, and read back into an
 * engine running the same script or a changed one.
 *
 * The engine numbers everything (rules, variables, stages, fields) by its
 * index in the prog, and an index means nothing to the next version of a
 * script.  So a snapshot comes with its names: a table of (kind, index,
 * name, signature), and the records (one per customer, one for the rest
 * of the run) hold indexes into that table.  Reading them back maps each
 * old name to the new prog's index of the same name; what no longer has
 * a match (a rule removed, a pattern whose steps changed) is dropped,
 * counted, and told once (snap_loader_report).  Where the bytes go (a
 * SQLite file, state/) is not the engine's business.
 */
#ifndef CXR_SNAPSHOT_H
#define CXR_SNAPSHOT_H

#include "engine/engine.h"

/* What a name in the table names. */
enum snap_kind {
	SNAP_RULE,     /* signature: its trigger, as text */
	SNAP_VAR,      /* customer.NAME */
	SNAP_JOURNEY,
	SNAP_STAGE,    /* parent: its journey; idx: its place in the journey */
	SNAP_METRIC,   /* signature: its aggregate and grouping */
	SNAP_SLA,      /* signature: A -> B within D */
	SNAP_GOAL,     /* signature: E within D */
	SNAP_BUDGET,   /* signature: N per D */
	SNAP_TYPE,     /* an event type */
	SNAP_FIELD,    /* an event field a rule reads (key, time and type first) */
	SNAP_HISTORY,  /* what is kept of an event type's past, as text */
	SNAP_FILE,     /* an input's name (responses' @file:line, messages) */
	SNAP__COUNT
};
extern const char *const snap_kind_names[SNAP__COUNT];

struct snap_name {
	uint8_t kind;   /* enum snap_kind */
	int32_t parent; /* SNAP_STAGE: the journey's idx; else -1 */
	uint32_t idx;
	const char *name, *sig; /* sig: "" when the kind has none */
};

struct snap_names {
	struct snap_name *v;
	uint32_t n, cap;
	struct arena text;
};

/* The names of the engine's prog (and of its input files so far). */
void snap_names_of(const struct engine *e, struct snap_names *out);
void snap_names_add(struct snap_names *ns, int kind, int parent, uint32_t idx, const char *name, const char *sig);
/* Are two tables the same (in order)?  Then records need no rewriting. */
int snap_names_equal(const struct snap_names *a, const struct snap_names *b);
void snap_names_free(struct snap_names *ns);

/* Writing: the run's record (counters, rule statistics, journeys'
 * stage counts, metrics, SLAs, goals, budgets), and one record per
 * customer (variables, tags, dedupe keys, caps, stages, pending
 * sequences and absences, SLA clocks, goal watches, stuck timers,
 * history).  A saver indexes the timers that only the heap holds. */
struct snap_saver;
struct snap_saver *snap_saver_new(struct engine *e);
void snap_save_run(struct snap_saver *s, struct buf *out);
void snap_save_customer(struct snap_saver *s, uint32_t cust, struct buf *out);
void snap_saver_free(struct snap_saver *s);

/* Reading into a fresh engine (no event run yet): the run's record first,
 * then each customer in the order they were saved.  Each returns 0, or
 * -1 when the record is damaged (nothing of it is used then). */
struct snap_loader;
struct snap_loader *snap_loader_new(struct engine *e, const struct snap_names *old);
/* --reset RULE: drop the rule's state as if it were new; -1 when the
 * state has no rule of that name. */
int snap_loader_reset(struct snap_loader *l, const char *rule);
int snap_load_run(struct snap_loader *l, const char *p, size_t n);
int snap_load_customer(struct snap_loader *l, const char *key, size_t keylen, const char *p, size_t n);
/* One line per thing the new script dropped, and why; empty when the
 * script still matches the state.  Each line starts with prefix. */
void snap_loader_report(const struct snap_loader *l, const char *prefix, struct buf *out);
void snap_loader_free(struct snap_loader *l);

/* A changed script takes over a running one (SIGHUP): everything of
 * `from` that `to` (fresh) still has a name for goes over, as a save and
 * a load would carry it; what it drops is told in report, a line each.
 * 0, or -1 (nothing of it should be used). */
int snap_carry(struct engine *from, struct engine *to, struct buf *report);
/* For `cxr state`, with no script: a customer's record, or the run's, as
 * text a person reads, with the names of the table; -1: damaged. */
int snap_describe_customer(const struct snap_names *names, const char *p, size_t n, struct buf *out);
/* The run's record: counters and one line per rule, stage, metric, SLA,
 * goal and budget (timers are in the customers' records:
 * snap_count_timers). */
int snap_describe_run(const struct snap_names *names, const char *p, size_t n, struct buf *out);
/* Pending timers in a customer's record (-1: damaged), and the earliest
 * deadline among them in *next (unchanged when none). */
int snap_count_timers(const char *p, size_t n, int64_t *next);

#endif
