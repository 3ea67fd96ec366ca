/* parallel.h: the rules on several threads, with the output of one
 * (parallel.c, a client of the engine's output sink, engine/hooks.h). */
#ifndef CXR_PARALLEL_H
#define CXR_PARALLEL_H

#include <stddef.h>

#include "engine/engine.h"

/* Can the rules run on threads with the output of one ?  Not
 * with journeys, SLAs, goals or budgets (counted across customers), nor
 * when tracing or watched (explain, coverage: hooks.h). */
int parallel_ok(const struct engine *e);
/* engine_events with customers spread over `threads` worker engines;
 * the responses, audit lines, runtime errors and metric observations are
 * then given out in the order one thread gives them. */
void parallel_run_events(struct engine *e, const struct event *evs, size_t n, int threads, int flush);

#endif
