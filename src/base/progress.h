/* progress.h: how far a run is, told to a cxr_progress_fn.
 *
 * The reading loops call progress_event for each event read, and the
 * loops that run the rules over the events read whole call progress_run
 * for each: a count and a countdown.  Every PROGRESS_EVERY events the
 * countdown reads a coarse clock (no system call: the vDSO), and the
 * hook is called when PROGRESS_PERIOD_NS has passed since the last call,
 * so that a display costs nothing next to reading a record.  Bytes come
 * from the sources, which count what they read.
 */
#ifndef CXR_PROGRESS_H
#define CXR_PROGRESS_H

#include <stdint.h>

#include "cxr.h"

#define PROGRESS_EVERY 1024
#define PROGRESS_PERIOD_NS 250000000LL

struct source;

struct progress {
	cxr_progress_fn fn;        /* NULL: nothing is told */
	void *ud;
	struct cxr_progress at;    /* what is told */
	uint64_t done_bytes;       /* of the sources read to their end */
	const struct source *src;  /* the source being read, or NULL */
	uint32_t countdown;        /* events before the clock is read */
	int64_t started, last;     /* the coarse clock when reading began, and at the last call */
	int64_t read_latest;       /* the latest time read: where the rules end, at done */
};

/* A read begins (fn NULL: a progress that tells nothing). */
void progress_begin(struct progress *pg, cxr_progress_fn fn, void *ud);
/* Reading src begins, and ends (its bytes are counted in). */
void progress_source(struct progress *pg, const struct source *src);
void progress_source_end(struct progress *pg);
/* Read the clock, and tell when the period has passed. */
void progress_tick(struct progress *pg);
/* What a part read on another thread adds, once it is taken. */
void progress_add(struct progress *pg, uint64_t bytes, uint64_t events, int64_t latest);
/* The reading is over: the rules run over the events read (progress_run). */
void progress_read(struct progress *pg);
/* The run has ended: told once more, with done set. */
void progress_end(struct progress *pg);

/* One event read, its time not known (yet). */
static inline void progress_record(struct progress *pg)
{
	if (!pg || !pg->fn)
		return;
	pg->at.events++;
	if (--pg->countdown == 0)
		progress_tick(pg);
}

/* One event read, at time t. */
static inline void progress_event(struct progress *pg, int64_t t)
{
	if (!pg || !pg->fn)
		return;
	if (!pg->at.timed || t > pg->at.log_time)
		pg->at.log_time = t;
	pg->at.timed = 1;
	progress_record(pg);
}

/* The rules ran over one more event read whole, at time t. */
static inline void progress_run(struct progress *pg, int64_t t)
{
	if (!pg || !pg->fn)
		return;
	pg->at.ran++;
	if (--pg->countdown == 0) {
		pg->at.log_time = t;
		progress_tick(pg);
	}
}

#endif
