/* progress.c: telling a cxr_progress_fn how far a read is (progress.h). */
#include "progress.h"

#include <string.h>
#include <time.h>

#include "source.h"

/* A clock that costs no system call, to a few milliseconds. */
static int64_t coarse_now(void)
{
	struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void progress_begin(struct progress *pg, cxr_progress_fn fn, void *ud)
{
	memset(pg, 0, sizeof *pg);
	pg->fn = fn;
	pg->ud = ud;
	pg->countdown = PROGRESS_EVERY;
	if (fn)
		pg->started = pg->last = coarse_now();
}

void progress_source(struct progress *pg, const struct source *src)
{
	if (pg)
		pg->src = src;
}

void progress_source_end(struct progress *pg)
{
	if (!pg || !pg->src)
		return;
	pg->done_bytes += src_bytes_read(pg->src);
	pg->src = NULL;
}

static void tell(struct progress *pg, int64_t now)
{
	pg->at.bytes = pg->done_bytes + (pg->src ? src_bytes_read(pg->src) : 0);
	pg->at.elapsed_ns = now - pg->started;
	pg->last = now;
	pg->fn(pg->ud, &pg->at);
}

void progress_tick(struct progress *pg)
{
	pg->countdown = PROGRESS_EVERY;
	if (!pg->fn)
		return;
	int64_t now = coarse_now();
	if (now - pg->last >= PROGRESS_PERIOD_NS)
		tell(pg, now);
}

void progress_add(struct progress *pg, uint64_t bytes, uint64_t events, int64_t latest)
{
	if (!pg || !pg->fn)
		return;
	pg->done_bytes += bytes;
	if (events && (!pg->at.timed || latest > pg->at.log_time))
		pg->at.log_time = latest;
	pg->at.timed |= events > 0;
	pg->at.events += events;
	progress_tick(pg);
}

void progress_read(struct progress *pg)
{
	if (!pg || !pg->fn)
		return;
	progress_source_end(pg);
	pg->at.running = 1;
	pg->read_latest = pg->at.log_time;
}

void progress_end(struct progress *pg)
{
	if (!pg || !pg->fn)
		return;
	progress_source_end(pg);
	if (pg->at.running)
		pg->at.log_time = pg->read_latest; /* in time order, the rules ended there */
	pg->at.done = 1;
	tell(pg, coarse_now());
}
