/* repl.h: `cxr repl`, an analyst's workbench, in four files that share
 * this header (private to cli/; main.c calls repl_main only):
 *
 *   repl.c           the terminal: lines read with readline or from a pipe,
 *                    Ctrl-C, the history file, completion, input that goes
 *                    on over lines, what a line is; repl_main
 *   repl_commands.c  the meta-commands (:load, :why, :step, ...): one table
 *                    that dispatch, :help and completion all read, and the
 *                    handlers, which check their arguments and call the session
 *   repl_session.c   the session: its script (the definitions typed or
 *                    loaded), the events given, compiling and replaying them
 *                    through cxr.h, the open log and its cursor
 *   repl_events.c    events typed at the prompt (TYPE key=value ..., or
 *                    JSON) made into the records the session remembers
 *
 * The session is a script and the list of events given so far.  Any
 * change of the script recompiles it and plays the events again,
 * silently, so that customer state always is what the current rules make
 * of the events: that is how `:reload` keeps state and `:rewind` goes
 * back.  Everything here reaches the library through include/cxr.h only.
 */
#ifndef CXR_CLI_REPL_H
#define CXR_CLI_REPL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cxr.h"

/* ---- text that grows ---- */

struct text {
	char *p;
	size_t len, cap;
};

/* Defined in repl_session.c, their main user. */
void text_add(struct text *t, const char *p, size_t n);
void text_adds(struct text *t, const char *s);
void text_clear(struct text *t);

/* ---- the session (repl_session.c) ---- */

/* An event given: typed at the prompt or played from the open log. */
struct given {
	char *json;
	int64_t time;
	char *source;
	uint64_t line;
};

/* A top-level definition of the session: `rule late_film`, `const LATE`... */
struct chunk {
	char *key;  /* its kind and name, so that a new one replaces it; NULL for loose text */
	char *body;
	int typed;  /* typed at the prompt, not read from the file loaded */
};

struct repl {
	/* the script */
	struct text script;   /* the session's definitions, joined from chunks */
	struct chunk *chunks;
	size_t nchunks, capchunks;
	char *loaded;         /* the file of :load, for :reload */
	int typed;            /* definitions typed since the last :load */
	/* the events, and the handle that has seen them */
	struct given *events; /* every event given, in order */
	size_t nevents, capevents;
	cxr *h;
	int64_t clock;
	int clock_set;
	char *watch;          /* :watch RULE */
	/* the open log */
	cxr_log *log;         /* :open */
	char *log_path;
	size_t cursor;
	/* A replay shows its first few messages in full and counts the rest. */
	int replaying, replay_shown;
	uint64_t replay_hidden;
	const char *fired_rule; /* :until RULE: stop when it fires */
	int fired;
	/* output, and what failed */
	int color, quiet_feed, failures;
	const cxr *counted_h;   /* the handle whose runtime errors are counted in failures ... */
	uint64_t counted;       /* ... and how many of them */
	/* the terminal's */
	int tty, quit;
	uint64_t commands;    /* inputs taken: a typed event is <input>:N */
};

/* "error: ..." in red, counted in failures. */
void session_fail(struct repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Counts in failures the runtime errors since the last command. */
void session_count_runtime_errors(struct repl *r);
/* A cxr_write_fn to stdout. */
void session_to_stdout(void *ud, const char *p, size_t n);

/* Compile the script and play every event again, quietly; with report,
 * the compiler's messages are shown.  -1 (the session as it was) when
 * the script does not compile. */
int session_rebuild(struct repl *r, int report);
/* Take an event: remembered, and fed to the handle. */
void session_remember(struct repl *r, const char *json, int64_t t, const char *source, uint64_t line);
/* The clock: the last event's time or :advance's, else 2026-01-01. */
int64_t session_clock(struct repl *r);
/* The clock to t, firing the timers due. */
void session_advance_clock(struct repl *r, int64_t t);
/* Forget every event (the definitions stay): :reset. */
void session_reset(struct repl *r);
/* Forget the events after target and go back to it: :rewind. */
void session_rewind(struct repl *r, int64_t target);
/* :watch RULE, or NULL for none. */
void session_watch(struct repl *r, const char *rule);
/* :why: the explanation of one customer's events, for a rule or each. */
void session_explain(struct repl *r, const char *id, const char *rule);
/* An expression, evaluated with the script's definitions. */
void session_eval(struct repl *r, const char *expr);
/* Free all the session holds. */
void session_free(struct repl *r);

/* A definition typed at the prompt: it replaces one of the same kind and
 * name, or comes last. */
void session_define(struct repl *r, const char *text);
/* :load FILE, and :reload (keep_typed). */
void session_load(struct repl *r, const char *path, int keep_typed);
/* :save FILE: the script to FILE, the events to FILE's .jsonl.  -1 after a message. */
int session_save(struct repl *r, const char *path);

/* :open FILE: the log to replay, its cursor at the start. */
void session_open_log(struct repl *r, const char *path);
/* A replay of the open log (:step, :until, :advance) shows the first few
 * messages of its events in full, counts the rest, and stops between two
 * events at Ctrl-C: session_replay_begin and session_replay_end go
 * around it. */
void session_replay_begin(struct repl *r);
void session_replay_end(struct repl *r);
/* Play the next event of the open log, listed or not: 0 when it has
 * ended or Ctrl-C stopped the replay. */
int session_play_next(struct repl *r, int listed);
/* The time of the next event of the open log, if there is one. */
int session_next_log_time(struct repl *r, int64_t *t);
/* Play the log's events up to time t: how many were played. */
size_t session_play_until_time(struct repl *r, int64_t t);
/* Play the log until rule fires: 1 if it did. */
int session_play_until_fired(struct repl *r, const char *rule);

/* ---- events typed at the prompt (repl_events.c) ---- */

/* `TYPE key=value ...`: an event, not an expression? */
int event_looks_key_value(const char *s);
/* A typed event, `TYPE key=value ...` or JSON, given to the session. */
void event_key_value(struct repl *r, const char *s);
void event_json(struct repl *r, const char *s);

/* ---- the meta-commands (repl_commands.c) ---- */

struct meta;
typedef void meta_fn(struct repl *r, char *arg, const struct meta *m);

/* What a command's argument completes to. */
enum completes { COMPLETE_NOTHING, COMPLETE_FILES, COMPLETE_RULES, COMPLETE_CUSTOMERS, COMPLETE_COMMANDS };

/* One row per meta-command: :help, completion and dispatch read it. */
struct meta {
	const char *name, *alias;
	const char *usage; /* its arguments */
	const char *help;  /* one line */
	const char *more;  /* :help NAME adds this, or NULL */
	enum completes completes;
	meta_fn *run;
};

/* Names (of rules, customers, commands): a list of strings. */
struct names {
	char **v;
	size_t n, cap;
};

void name_add(void *ud, const char *p, size_t n); /* a cxr_write_fn to a struct names */
void names_clear(struct names *nm);

/* The command of that name or alias, or NULL. */
const struct meta *meta_find(const char *name, size_t n);
/* Every command's name, each from byte skip on. */
void meta_names(struct names *nm, size_t skip);
/* The introduction and the list of commands. */
void meta_help(FILE *out);
/* A line that starts with ':' (which the command may change). */
void meta_run(struct repl *r, char *line);

/* ---- the terminal (repl.c) ---- */

/* Ctrl-C: set by the signal, taken by whoever is waiting (the prompt
 * cancels its line, a replay stops between events). */
extern volatile sig_atomic_t repl_interrupted;

int repl_main(int argc, char **argv);

#endif
