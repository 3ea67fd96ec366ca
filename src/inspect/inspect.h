/* inspect.h: the run summary, the test blocks, and the script checked
 * against logs (summary.c, testrun.c, against.c); `cxr explain` is
 * explain.h.  These watch a run from above the engine. */
#ifndef CXR_INSPECT_H
#define CXR_INSPECT_H

#include "engine/engine.h"
#include "io/ingest.h"

/* testrun.c: the tests whose name contains select (NULL: all) run; each
 * failed one is added to failures as "FILE:LINE: NAME" (when not NULL). */
struct test_options {
	int coverage;
	const char *select;
	struct buf *failures;
};
struct test_counts {
	int passed, failed, deselected;
};
void testrun_run(const struct prog *p, struct diag *d, const struct test_options *o, struct buf *out,
		    struct test_counts *n);

/* summary.c: the run summary, as text or JSON. */
void summary_render(struct engine *e, struct buf *out, int json);

/* against.c: warn about event types and fields the rules name but the
 * logs never have; returns the number of warnings, or -1 when a log
 * cannot be read. */
int against_check(const struct prog *p, struct diag *d, const char *const *paths, int npaths);
/* The census of a run's store, after reading: warn (through d) about the
 * event types and fields the rules name that the logs never had, with
 * "did you mean" from the logs (files are read again for it, only then).
 * Returns the number of warnings. */
int census_warnings(const struct prog *p, struct diag *d, const struct census *c, const char *const *paths,
		    int npaths);

#endif
