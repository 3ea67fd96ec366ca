/* handle_int.h: the handle behind include/cxr.h, shared by the files of
 * api/ (cxr.c the batch runs, live.c the runs that follow a growing
 * input, session.c the REPL's part). */
#ifndef CXR_API_HANDLE_INT_H
#define CXR_API_HANDLE_INT_H

#include <signal.h>

#include "cxr.h"
#include "base/diag.h"
#include "io/ingest.h"
#include "io/stream.h"
#include "state/store.h"

struct cxr {
	struct diag diag;
	struct prog *prog;
	struct engine *engine;
	struct explain *explain; /* cxr_explain_begin's, watching the engine, or NULL */
	struct store store;   /* for cxr_feed_json: the projection */
	struct stream stream; /* for cxr_feed_json: re-ordering within lateness */
	int store_ready;
	int sort;
	size_t memory; /* --memory: bytes of events read whole; 0: default_memory() */
	int threads;   /* parts of JSON Lines files read at once */
	cxr_write_fn out, rejects, audit;
	void *out_ud, *rejects_ud, *audit_ud;
	enum cxr_format format;
	int strict;
	int growing; /* cxr_set_growing */
	int testing; /* cxr_set_testing */
	int trigger_ids; /* cxr_set_trigger_ids */
	char **roots; /* cxr_set_import_roots, resolved; NULL: the script's folder */
	int nroots;
	int trace;
	cxr_progress_fn progress; /* cxr_on_progress */
	void *progress_ud;
	int flush;
	int compiled;
	struct state_file *state; /* cxr_state_open's, or NULL */
	struct state_progress resume; /* of the run the state did not finish (resume.plan set) */
	cxr_flush_fn flush_outputs;   /* cxr_on_checkpoint */
	void *flush_ud;
	uint64_t every_events;        /* checkpoints: 0 is the default */
	int64_t every_ns;
	int every_set;
	volatile sig_atomic_t stop;   /* cxr_stop */
	volatile sig_atomic_t reload; /* cxr_reload */
	int follow;                   /* cxr_set_follow */
	int clock_wall;               /* cxr_set_clock */
	char *script;                 /* the file cxr_compile_file compiled, for a reload */
};

/* Monotonic time, for the checkpoints' intervals. */
int64_t wall_ns(void);
/* Compile text as a new prog (imports from the handle's folders, or the
 * script's own); *errors gets the count.  The handle is not touched. */
struct prog *compile_prog(cxr *h, const char *name, const char *text, size_t len, int *errors);
/* Point the engine's outputs and settings at the handle's. */
void engine_setup(cxr *h);
/* `cxr run --follow` (live.c): the one input read as it grows, until
 * cxr_stop or the end of a pipe.  Returns a cxr_status. */
int live_run(cxr *h, const char *path);
/* A path or a record in a plan's text (a line of tab-separated fields):
 * %, tab, CR, LF and NUL as %XX. */
void plan_escape(struct buf *b, const char *p, size_t n);
void plan_unescape(struct buf *b, const char *p, size_t n);

#endif
