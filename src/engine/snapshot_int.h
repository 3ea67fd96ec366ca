/* snapshot_int.h: what the snapshot's files share (snapshot.c writes,
 * snapshot_decode.c reads into these structs, snapshot_load.c and
 * snapshot_describe.c use them): records decoded into plain structs that
 * still hold the old indexes of the table of names. */
#ifndef CXR_SNAPSHOT_INT_H
#define CXR_SNAPSHOT_INT_H

#include "base/pack.h"
#include "engine_int.h"
#include "snapshot.h"

/* The layout of the records; a record of another version is damage
 * (the state file's own version, state/, refuses newer files first). */
#define SNAP_RECORD_VERSION 1

struct snap_event {
	int64_t time;
	int64_t type;
	struct val type_name;
	uint32_t file;
	uint64_t line;
	uint32_t nfields;
	uint32_t *fields;
	struct val *vals;
};

struct snap_timer {
	int64_t deadline;
	uint64_t seq;
	int armed;
};

struct snap_rule_state {
	uint32_t rule, nkeys, nfired, nwin;
	const char **keys;
	size_t *keylens;
	int64_t *fired, *window;
	int goals_watched, counted;
};

struct snap_jstate {
	uint32_t journey;
	int64_t stage, entered;
	uint64_t entry_seq, reached;
};

struct snap_instance {
	uint32_t rule, step;
	struct snap_timer timer;
	struct snap_event *bound;
};

struct snap_clock {
	uint32_t sla;
	int breached;
	const char *group;
	size_t grouplen;
	struct snap_timer timer;
	int has_from;
	struct snap_event from;
};

struct snap_watch {
	uint32_t rule, goal;
	int held_out;
	struct snap_timer timer;
};

struct snap_stuck {
	uint32_t rule, journey;
	uint64_t entry_seq;
	struct snap_timer timer;
};

struct snap_hist {
	uint32_t spec, nsum, n;
	int has_events, has_last, has_first;
	int64_t *times;
	double *sums;
	struct snap_event *evs, last, first;
};

struct snap_cust {
	uint32_t nvars, ntags, nrules, njourneys, ninstances, nclocks, nwatches, nstuck, nhist;
	uint32_t *var;
	struct val *vals;
	struct val *tags;
	struct snap_rule_state *rules;
	struct snap_jstate *journeys;
	struct snap_instance *instances;
	struct snap_clock *clocks;
	struct snap_watch *watches;
	struct snap_stuck *stuck;
	struct snap_hist *hist;
};

struct snap_agg {
	struct agg_state a; /* exact and sketch not set */
	uint32_t nexact;
	double *exact;
	const char *sketch;
	size_t sketchlen;
};

struct snap_group {
	const char *key;
	size_t keylen;
	struct snap_agg agg;
};

struct snap_groups {
	uint32_t id;
	uint64_t errors;
	uint32_t n;
	struct snap_group *g;
};

struct snap_run {
	uint64_t events, rejected, rejected_lines, responses, runtime_errors, late, timer_seq, entry_seq;
	int64_t last_time, late_by;
	uint64_t tally[REJECT__COUNT];
	uint32_t nrules, nstages, nmetrics, nslas, ngoals, nbudgets;
	struct {
		uint32_t rule;
		struct rule_stats s;
	} *rules;
	struct {
		uint32_t journey, stage;
		uint64_t reached;
		struct snap_agg dwell;
	} *stages;
	struct snap_groups *metrics, *slas;
	struct {
		uint32_t rule, goal;
		struct goal_stats s;
	} *goals;
	struct {
		uint32_t budget, n;
		int64_t *times;
	} *budgets;
};

#define ALLOC(a, n, type) ((type *)arena_alloc((a), sizeof(type) * ((size_t)(n) + 1)))

/* A record into *c or *r, its arrays and strings in a (strings may
 * point into the record): 0, or -1 when it is damaged. */
int decode_customer(struct unpack *u, struct arena *a, struct snap_cust *c);
int decode_run(struct unpack *u, struct arena *a, struct snap_run *r);
/* The name of an old index, "?" when the table has none. */
const char *old_name_of(const struct snap_names *ns, int kind, int32_t parent, uint64_t idx);

#endif
