/* cxr.h: run customer-experience rules over event logs.
 *
 * The whole public interface of the cxr library.  A handle holds one
 * compiled script and the state of one run; there is no global state, so
 * a program may hold several handles (in different threads too).
 *
 *   cxr *h = cxr_new();
 *   cxr_on_output(h, write_fn, ud);           // responses, as JSON Lines
 *   if (cxr_compile_file(h, "rules.cxr") == 0)
 *       cxr_run_files(h, paths, npaths);      // read, order by time, run
 *   cxr_summary(h, write_fn, ud);
 *   cxr_free(h);
 *
 * Messages (compile errors, runtime errors, rejected input) go to the
 * diagnostics callback, stderr-ready text with file:line:col.
 */
#ifndef CXR_H
#define CXR_H

#include <stddef.h>
#include <stdint.h>

/* The version of the library and of the command line (`cxr --version`). */
#define CXR_VERSION "0.3.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden: what this header
 * declares is all that libcxr.so exports. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

typedef struct cxr cxr;

/* Where text goes: p[0..n) is not NUL-terminated. */
typedef void (*cxr_write_fn)(void *ud, const char *p, size_t n);

enum cxr_format { CXR_JSONL, CXR_CSV };

/* Exit statuses, as the command line uses them.  CXR_NO_TESTS: `cxr
 * test` ran no test (no script has test blocks, or -k selected none), as
 * pytest's 5. */
enum cxr_status { CXR_OK = 0, CXR_RULE_FAILURES = 1, CXR_INPUT_ERROR = 2, CXR_STOPPED = 3, CXR_NO_TESTS = 5 };

cxr *cxr_new(void);
void cxr_free(cxr *h);

void cxr_on_diagnostic(cxr *h, cxr_write_fn fn, void *ud);
void cxr_on_output(cxr *h, cxr_write_fn fn, void *ud);
void cxr_on_reject(cxr *h, cxr_write_fn fn, void *ud);
/* Held-out responses ("held_out": true) and firings a budget stopped
 * ("budget_exhausted": true), as JSON Lines: nothing is invisible. */
void cxr_on_audit(cxr *h, cxr_write_fn fn, void *ud);
void cxr_set_format(cxr *h, enum cxr_format f);
void cxr_set_color(cxr *h, int on);
/* At the end of input, fire every pending timer (absences, expiries),
 * not only those due by the last event's time. */
void cxr_set_flush(cxr *h, int on);
/* End each response with "@FILE:LINE", the input record of the first
 * event that caused it (what `cxr diff` pairs responses by). */
void cxr_set_trigger_ids(cxr *h, int on);
/* Write every VM instruction executed to the diagnostics callback. */
void cxr_set_trace(cxr *h, int on);
/* How far a long run has come, for a display (the command line draws
 * one on a terminal; the library itself prints nothing).  The hook is
 * called on the calling thread from the reading loop, and for files read
 * whole then from the loop that runs the rules over them: the loops read
 * a coarse clock every thousand events or so (no system call per event)
 * and call the hook when a quarter of a second has passed since the last
 * call; once more with done set at the end. */
struct cxr_progress {
	uint64_t bytes;     /* bytes of input read so far, every file */
	uint64_t events;    /* records read that are events (rejects not counted) */
	int64_t log_time;   /* the time reached in the log, ns since 1970: the latest
			     * event time read, or, running, of the event the rules are at ... */
	int timed;          /* ... when this is set (an event time has been read) */
	int64_t elapsed_ns; /* since the reading began */
	int running;        /* the files are read: the rules run over their events ... */
	uint64_t ran;       /* ... and are this far, of events */
	int done;           /* the last call: the run (or the read of cxr_stats) is over */
};
typedef void (*cxr_progress_fn)(void *ud, const struct cxr_progress *p);
/* For cxr_run_files and cxr_explain (NULL: none). */
void cxr_on_progress(cxr *h, cxr_progress_fn fn, void *ud);
/* Stop at the first rejected record (the run then returns CXR_INPUT_ERROR). */
void cxr_set_strict(cxr *h, int on);
/* A script that grows a piece at a time (the REPL): no warnings about
 * constants and functions that nothing uses yet. */
void cxr_set_growing(cxr *h, int on);
/* Compile for running the test blocks (`cxr test`): a problem in a test
 * block (an action no rule emits, an unknown stage) is an error.  By
 * default it is a warning: running the rules ignores the tests. */
void cxr_set_testing(cxr *h, int on);

/* The folders a script may import files from (besides the embedded
 * stdlib), for scripts compiled after; -1 (with a message) when one is
 * not a folder.  By default, the folder of the script compiled
 * (cxr_compile_file, or cxr_compile_string with the name of a file);
 * a script compiled from a string with another name imports only the
 * stdlib. */
int cxr_set_import_roots(cxr *h, const char *const *dirs, int n);
/* Compile a script; imports are resolved against its folder and the
 * embedded stdlib: a .cxr regular file inside the import folders, links
 * resolved; a file imported twice (by any path) is read once, and an
 * import cycle is an error naming its files.  Returns the number of
 * errors (0: ready to run). */
int cxr_compile_file(cxr *h, const char *path);
int cxr_compile_string(cxr *h, const char *name, const char *text, size_t len);
int cxr_warnings(const cxr *h);
/* Warn (through the diagnostics) about event types and fields that the
 * compiled rules name but these logs never have, with "did you mean"
 * taken from the logs.  Returns the number of warnings, -1 when a log
 * cannot be read. */
int cxr_check_against(cxr *h, const char *const *paths, int npaths);

/* Read every file ("-" is stdin), order the events by time (ties keep
 * input order), run the rules and write the responses.  Files are read
 * whole and sorted when out of order; stdin alone is a stream, re-ordered
 * within the script's `lateness` (see cxr_set_sort).  Returns a
 * cxr_status. */
int cxr_run_files(cxr *h, const char *const *paths, int npaths);

/* Durable state (README "State"): keep the run's state in a SQLite file.
 * The state the file holds is read now into the compiled script's run
 * (the file is created when missing); cxr_run_files then skips the input
 * files it has read to their end before, reads a file that grew from
 * where it stopped, and saves the state when it ends.  State is kept by
 * name: what a changed script no longer has is dropped and told once.
 * resets: rules whose state starts anew.  A file that is not a cxr
 * state, was written by a newer cxr, is damaged or read-only is refused.
 * Returns a cxr_status. */
int cxr_state_open(cxr *h, const char *path, const char *const *resets, int nresets);
/* Save the state now (a stream fed with cxr_feed_json, after cxr_finish). */
int cxr_state_save(cxr *h);
/* Checkpoints of a state run: every `events` events or `seconds` of
 * wall time, whichever comes first (0: never by that measure; the
 * defaults are 100000 events and 5 s), and at the end.  A checkpoint
 * saves, in one transaction, the state, how far the run's inputs have
 * run and the length of each output, which the hook gives after flushing
 * them: lengths[0] the responses, [1] the rejects, [2] the audit (0 for
 * one not written).  It returns 0, or -1 when the outputs cannot be
 * flushed (the run stops with CXR_INPUT_ERROR, the last checkpoint
 * intact). */
typedef int (*cxr_flush_fn)(void *ud, uint64_t lengths[3]);
void cxr_on_checkpoint(cxr *h, cxr_flush_fn fn, void *ud);
void cxr_set_checkpoint_every(cxr *h, uint64_t events, double seconds);
/* After cxr_state_open, for the inputs cxr_run_files will be given: 1
 * when each output must first be cut back to lengths[i] bytes and then
 * written on: the state holds a run over them that did not end (killed,
 * or stopped), which goes on from its last checkpoint; 2 when its last
 * run over them ended (perhaps killed after its last save, before its
 * process ended): cxr_run_files has nothing to do, and the outputs are
 * left as they are; 0 for a new run, whose outputs start empty. */
int cxr_state_resume(cxr *h, const char *const *paths, int npaths, uint64_t lengths[3]);
/* Stop a state run at its next checkpoint, which it takes (from a signal
 * handler: it only sets a flag); cxr_run_files then returns CXR_STOPPED. */
void cxr_stop(cxr *h);
/* Live input (README "Live input"): cxr_run_files reads its one input
 * (a JSON Lines file or stdin) as it grows, the way `tail -F` does (a
 * file replaced at its path, by rotation, or truncated is read from its
 * start), re-ordered within `lateness` as stdin is, until cxr_stop, or
 * the end of a pipe.  Outputs are flushed (cxr_on_checkpoint's hook)
 * while the input is idle.  A state run takes its checkpoints as it
 * goes and resumes where the last one was. */
void cxr_set_follow(cxr *h, int on);
/* What moves time: the events' own times (CXR_CLOCK_EVENT, the default),
 * or also the wall clock while a followed input is idle
 * (CXR_CLOCK_WALL): time then reaches now minus `lateness`, so that an
 * absence fires when its moment has passed even if no event comes. */
enum cxr_clock { CXR_CLOCK_EVENT, CXR_CLOCK_WALL };
void cxr_set_clock(cxr *h, enum cxr_clock clock);
/* Compile the script file again at the next moment a followed input is
 * read between records (from a signal handler: it only sets a flag):
 * when it compiles, its rules take over with the state so far (what they
 * no longer name is dropped and told); when not, the errors are told and
 * the rules go on as they were. */
void cxr_reload(cxr *h);
/* `cxr state`: what a state file holds, or one customer's state, as text;
 * messages go to h's diagnostics.  Needs no script.  Returns a cxr_status. */
int cxr_state_describe(cxr *h, const char *path, const char *customer, cxr_write_fn out, void *ud);

/* Feed one JSON object as an event of a stream, re-ordered within the
 * script's `lateness`; `source` and `line` name it in messages.  Call
 * cxr_finish at the end of the stream. */
int cxr_feed_json(cxr *h, const char *json, size_t len, const char *source, uint64_t line);

/* Read stdin whole and sort it, as files are, instead of streaming it
 * with the script's `lateness`. */
void cxr_set_sort(cxr *h, int on);
/* Events read whole are kept below this many bytes (0, the default: half
 * the machine's memory); beyond it they are sorted in runs on disk, in
 * $TMPDIR, and merged. */
void cxr_set_memory(cxr *h, size_t bytes);
/* Read JSON Lines files in parts on n threads (default 1), and run the
 * rules of scripts without journeys, SLAs, goals or budgets on n threads,
 * customers spread over them.  The output is the same, byte for byte,
 * whatever n is. */
void cxr_set_threads(cxr *h, int n);
/* End of a fed stream: fire the timers due by the last event's time (all
 * of them with cxr_set_flush). */
void cxr_finish(cxr *h);

/* `cxr explain`: run the compiled script over the files and tell, for one
 * customer and every rule (or the one named), each candidate event and
 * whether the rule fired; if not, what stopped it: the guard, each part of
 * its `and`s and `or`s (or that it was not evaluated) with the values it
 * compared and how far they were from flipping it, the pattern step that
 * found no match and the candidate that came after its deadline, a dedupe
 * key and when it first fired, a cap, a budget, a holdout, or a timer
 * still pending at the end; an absence that fired, with the event that
 * came too late.  Text, or JSON with json set (README: the members; times
 * as RFC 3339 text, durations and margins of durations and times in
 * seconds).  A customer no event names is an error (CXR_INPUT_ERROR,
 * with the nearest keys seen), and so is an unknown rule.  Returns a
 * cxr_status. */
int cxr_explain(cxr *h, const char *const *paths, int npaths, const char *customer, const char *rule, int json,
		cxr_write_fn out, void *ud);

/* Run the test blocks of the compiled script (`cxr test`): one line per
 * test, the failures in full, and with coverage what no test exercised.
 * Adds to *passed and *failed. */
void cxr_run_tests(cxr *h, int coverage, cxr_write_fn out, void *ud, int *passed, int *failed);
/* The same with a selection: only the tests whose name contains select
 * (case-sensitive; NULL: all) run, the others are counted as deselected;
 * each failed test is told to failed, when set, as "FILE:LINE: NAME\n".
 * Adds to the counts. */
struct cxr_test_options {
	int coverage;
	const char *select;
	cxr_write_fn failed;
	void *failed_ud;
};
struct cxr_test_counts {
	int passed, failed, deselected;
};
void cxr_test_run(cxr *h, const struct cxr_test_options *opt, struct cxr_test_counts *counts, cxr_write_fn out,
		  void *ud);

/* The bytecode of every rule, with the effect of each instruction. */
void cxr_disasm(cxr *h, cxr_write_fn fn, void *ud);

/* The run summary: events, rejects, responses per rule, journeys,
 * metrics, SLAs, goals.  As text, or as one JSON object. */
void cxr_summary(cxr *h, cxr_write_fn fn, void *ud);
void cxr_summary_json(cxr *h, cxr_write_fn fn, void *ud);

struct cxr_counts {
	uint64_t events;         /* accepted events */
	uint64_t rejected;       /* records rejected */
	uint64_t responses;      /* responses written */
	uint64_t runtime_errors; /* handlers stopped by a runtime error */
	uint64_t customers;
};
void cxr_counts(const cxr *h, struct cxr_counts *out);

/* `cxr stats`: profile event logs before writing rules for them (types,
 * fields with their types and fill rate, customers, time span, formats,
 * order) and suggest an input block and event schemas.  Needs no script.
 * Writes a text report (or JSON with as_json) and returns a cxr_status. */
struct cxr_stats_options {
	const char *key, *time, *type; /* field names; NULL: guess from the log */
	int as_json;
	const char *format; /* "csv" or "jsonl"; NULL: by the file's name, and for
			     * stdin by its first line */
	cxr_progress_fn progress; /* how far the reading is (see cxr_on_progress); NULL: not told */
	void *progress_ud;
};
int cxr_stats(const char *const *paths, int npaths, const struct cxr_stats_options *opt, cxr_write_fn out,
	      void *out_ud, cxr_write_fn diag, void *diag_ud);

/* `cxr fmt`: the canonical layout of a script, comments kept (the layout
 * is described in README.md).  name is used in messages only.  The
 * formatted text goes to out.  A script that does not parse is not
 * formatted: its errors go to diag and nothing to out.  Returns the
 * number of errors (0: formatted). */
int cxr_fmt(const char *name, const char *text, size_t len, cxr_write_fn out, void *out_ud, cxr_write_fn diag,
	    void *diag_ud);

/* `cxr diff`: run two versions of a script over the same events and
 * report the responses NEW changes, adds and removes, per rule and
 * action, with the customers affected and, for the actions given a cost,
 * the money.
 * Returns CXR_OK when they agree, CXR_RULE_FAILURES (1) when they differ,
 * CXR_INPUT_ERROR when either cannot run. */
struct cxr_cost {
	const char *action;
	double amount;
};
int cxr_diff(const char *old_script, const char *new_script, const char *const *paths, int npaths,
	     const struct cxr_cost *costs, int ncosts, cxr_write_fn out, void *out_ud, cxr_write_fn diag, void *diag_ud);
/* The same with options.  A response OLD and NEW both give to one
 * trigger (the same rule, action and customer, and the same first event
 * of the rule) but not alike is one changed, with the fields that differ;
 * the report then counts responses the same, changed, added and removed,
 * and names the customers affected (20 of them in text).  An action given
 * a cost that no rule of either version emits is an error.  json: the
 * report as one JSON object (counts, customers, and per rule and action
 * the counts, customers, cost and every response added, removed and
 * changed). */
struct cxr_diff_options {
	const struct cxr_cost *costs;
	int ncosts;
	int json;
	cxr_progress_fn progress; /* each version's read, one after the other (see cxr_on_progress) */
	void *progress_ud;
};
int cxr_diff_run(const char *old_script, const char *new_script, const char *const *paths, int npaths,
		 const struct cxr_diff_options *opt, cxr_write_fn out, void *out_ud, cxr_write_fn diag, void *diag_ud);

/* ---- interactive use (the REPL) ---- */

/* The session's clock: the latest event time or `advance`; 0 when unset. */
int cxr_clock(cxr *h, int64_t *ns);
/* Process the events that cxr_feed_json holds back for `lateness` now,
 * as at the end of a stream; feeding goes on (an event older than the
 * newest is late, as before).  A prompt calls it after each command. */
void cxr_flush_input(cxr *h);
/* The field names of the script's input block: the customer key, the
 * event time and the type (customer, ts and type by default). */
void cxr_input_fields(cxr *h, const char **key, const char **time, const char **type);
/* A JSON record's event time, read as the input block says: 0, or -1
 * when it has no time field that reads as one. */
int cxr_record_time(cxr *h, const char *json, size_t len, int64_t *ns);
/* Move the clock and fire the timers due by then, inclusive
 * (after the events held back, which it processes first). */
void cxr_advance_to(cxr *h, int64_t ns);
/* Evaluate an expression against a script's constants and functions and
 * write "value  (type)"; errors go to diag.  Returns 0 or -1. */
int cxr_eval(const char *script, size_t len, const char *expr, cxr_write_fn out, void *ud, cxr_write_fn diag,
	     void *diag_ud);
/* cxr_eval with h's import folders and diagnostics callback; the
 * expression's messages name it <input>:LINE (its first line), as the
 * REPL numbers what was typed. */
int cxr_eval_in(cxr *h, const char *script, size_t len, const char *expr, int line, cxr_write_fn out, void *ud);
/* Does text start with a keyword that begins a top-level form (rule,
 * const, journey, test ...)?  A prompt reads such a line as a definition. */
int cxr_starts_form(const char *text);
/* Typed at a prompt, does text stop before its end: a definition or an
 * expression that parses up to where the text ends and needs more (an
 * open rule, bracket or string, a trailing operator such as `1 +`)?  1
 * then (read another line); 0 when it parses or is wrong before its end
 * (compile it to hear why).  Lua's rule for its prompt. */
int cxr_input_unfinished(const char *text, size_t len);
/* "rules", "stages", or "customer" with arg = its key: a description. */
void cxr_describe(cxr *h, const char *what, const char *arg, cxr_write_fn out, void *ud);
enum cxr_name_kind {
	CXR_NAMES_TYPES,
	CXR_NAMES_FIELDS,
	CXR_NAMES_RULES,
	CXR_NAMES_CUSTOMERS,
	CXR_NAMES_FUNCTIONS, /* built-in, stdlib and the script's */
	CXR_NAMES_KEYWORDS,  /* of the language (h may be NULL) */
	CXR_NAMES_ACTIONS,   /* of the responses the rules emit */
};
/* Each name of a kind, for completion. */
void cxr_names(cxr *h, enum cxr_name_kind kind, cxr_write_fn each, void *ud);
/* Explain while feeding: for a customer (NULL: all) and a rule (NULL:
 * all); with stream set, each note is written as it happens; else
 * cxr_explain_finish renders them to out (NULL: stop explaining, say
 * nothing).  A customer that none of the events fed names is an error:
 * nothing is rendered, the diagnostics say so with the nearest keys, and
 * cxr_explain_finish returns CXR_INPUT_ERROR (else CXR_OK).
 * cxr_explain_end is the same without the status. */
int cxr_explain_begin(cxr *h, const char *customer, const char *rule, cxr_write_fn stream, void *ud);
int cxr_explain_finish(cxr *h, int json, cxr_write_fn out, void *ud);
void cxr_explain_end(cxr *h, int json, cxr_write_fn out, void *ud);
/* Times and durations as the language writes them. */
int cxr_parse_time(const char *s, size_t n, int64_t *ns);
int cxr_parse_duration(const char *s, size_t n, int64_t *ns);
void cxr_format_time(int64_t ns, cxr_write_fn out, void *ud);
/* A log read whole, each record as a JSON object, in time order by the
 * compiled script's time field (ties in file order), for replay. */
typedef struct cxr_log cxr_log;
cxr_log *cxr_log_read(cxr *h, const char *path);
size_t cxr_log_count(const cxr_log *l);
const char *cxr_log_record(const cxr_log *l, size_t i, int64_t *time, uint64_t *line);
void cxr_log_free(cxr_log *l);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
