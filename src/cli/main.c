/* main.c: the cxr command line, over the library in include/cxr.h.
 *
 * One table of subcommands; each parses its own options.  Exit codes:
 * 0 success, 1 rule failures, 2 usage, script or input errors.
 */
#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "cxr.h"
#include "outfile.h"

/* The first errno of a failed write to stdout (reported when the command
 * ends: a full disk must not look like success). */
static int stdout_error;

/* ---- the progress line ----
 *
 * A long run shows how far it is on one line of stderr, redrawn from
 * the library's progress hook (which calls it a quarter of a second
 * apart at most): while reading, "  412 MB  2.31M events  1.93M/s  log
 * at 2017-06-03T12:00Z"; then, for files read whole, "  412 MB  2.31M
 * events  rules at 45%  log at ...".  Only on a terminal, only once the command has
 * run for a second, never with --quiet (nor --trace, nor when events are
 * typed at the terminal).  Anything else written to that terminal clears
 * it first, and so does the end of the reading's command. */
static struct meter {
	int on;           /* draw at all */
	int stdout_tty;   /* responses share the terminal: clear before them */
	double start;     /* when the command began (seconds, monotonic) */
	size_t shown;     /* characters of the line on the screen; 0: none */
	size_t width;     /* the terminal's columns */
} meter;

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void meter_begin(int quiet)
{
	struct winsize ws;
	meter.on = !quiet && isatty(2);
	meter.stdout_tty = isatty(1);
	meter.start = now_seconds();
	meter.width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80;
}

static void meter_clear(void)
{
	if (!meter.shown)
		return;
	fprintf(stderr, "\r%*s\r", (int)meter.shown, "");
	meter.shown = 0;
}

/* x with three significant digits and a unit of powers of 1000:
 * 412, 23.4k, 2.31M. */
static void human(char *out, size_t n, double x, const char *const units[5])
{
	int u = 0;
	while (x >= 999.5 && u < 4) {
		x /= 1000;
		u++;
	}
	snprintf(out, n, u == 0 || x >= 99.95 ? "%.0f%s" : x >= 9.995 ? "%.1f%s" : "%.2f%s", x, units[u]);
}

static void text_append(void *ud, const char *p, size_t n)
{
	char *t = ud;
	size_t len = strlen(t);
	if (len + n < 40) {
		memcpy(t + len, p, n);
		t[len + n] = 0;
	}
}

static void meter_draw(void *ud, const struct cxr_progress *p)
{
	(void)ud;
	if (!meter.on || now_seconds() - meter.start < 1.0)
		return;
	static const char *const bytes[5] = {" B", " kB", " MB", " GB", " TB"};
	static const char *const counts[5] = {"", "k", "M", "G", "T"};
	char b[32], ev[32], rate[32], when[40] = "", line[160];
	human(b, sizeof b, (double)p->bytes, bytes);
	human(ev, sizeof ev, (double)p->events, counts);
	double secs = (double)p->elapsed_ns / 1e9;
	human(rate, sizeof rate, secs > 0 ? (double)p->events / secs : 0, counts);
	if (p->timed) {
		cxr_format_time(p->log_time, text_append, when);
		if (strlen(when) >= 16)
			strcpy(when + 16, "Z"); /* to the minute: 2017-06-03T12:00Z */
	}
	int len;
	if (p->running) /* the files are read: the rules run over their events */
		len = snprintf(line, sizeof line, "  %s  %s events  rules at %d%%%s%s", b, ev,
			       p->events ? (int)(100.0 * (double)p->ran / (double)p->events) : 100,
			       p->timed ? "  log at " : "", when);
	else
		len = snprintf(line, sizeof line, "  %s  %s events  %s/s%s%s", b, ev, rate, p->timed ? "  log at " : "",
			       when);
	size_t n = len < 0 ? 0 : (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
	if (n > meter.width - 1)
		n = meter.width - 1; /* a line that wraps could not be redrawn in place */
	fprintf(stderr, "\r%.*s%*s", (int)n, line, meter.shown > n ? (int)(meter.shown - n) : 0, "");
	if (meter.shown > n)
		fprintf(stderr, "\r%.*s", (int)n, line);
	meter.shown = n;
}

static void write_file(void *ud, const char *p, size_t n)
{
	if ((FILE *)ud == stderr || meter.stdout_tty)
		meter_clear();
	if (fwrite(p, 1, n, (FILE *)ud) != n && (FILE *)ud == stdout && !stdout_error)
		stdout_error = errno ? errno : EIO;
}

/* The responses of cxr run: on the terminal, after the progress line is
 * cleared. */
static void write_output(void *ud, const char *p, size_t n)
{
	if (meter.stdout_tty && ((struct outfile *)ud)->f == stdout)
		meter_clear();
	outfile_write(ud, p, n);
}

/* Every command's output is checked at its end, flush included. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 && !stdout_error)
		stdout_error = errno ? errno : EIO;
	if (!stdout_error && ferror(stdout))
		stdout_error = EIO;
	if (!stdout_error)
		return status;
	fprintf(stderr, "cxr: cannot write the output: %s\n", strerror(stdout_error));
	return CXR_INPUT_ERROR;
}

/* The command being run, for its usage errors: "cxr run --help". */
static const char *command_name;

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "cxr: ");
	fprintf(stderr, fmt, arg);
	if (command_name)
		fprintf(stderr, "\n(cxr %s --help tells its options)\n", command_name);
	else
		fprintf(stderr, "\n(cxr --help lists the commands)\n");
	return CXR_INPUT_ERROR;
}

/* Colour only on a terminal, never with NO_COLOR set nor on TERM=dumb
 * (the REPL asks the same). */
int cli_want_color(int fd)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	return isatty(fd) && !(no && *no) && !(term && !strcmp(term, "dumb"));
}

/* One part of a JSON Lines file per core (the output never depends on it). */
static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static cxr *open_handle(void)
{
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, write_file, stderr);
	cxr_set_color(h, cli_want_color(2));
	cxr_set_threads(h, default_threads());
	return h;
}

static int compile_or_report(cxr *h, const char *script)
{
	int errors = cxr_compile_file(h, script);
	if (errors) {
		fprintf(stderr, "cxr: %s: %d error%s\n", script, errors, errors == 1 ? "" : "s");
		return CXR_INPUT_ERROR;
	}
	return CXR_OK;
}

/* A size: a whole number with an optional k, M, G or T (powers of 1024)
 * and an optional B.  At least 1k. */
static int parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return 0;
	const char *units = "kMGT";
	unsigned shift = 0;
	if (*end && strchr(units, *end)) {
		shift = 10 * (unsigned)(strchr(units, *end) - units + 1);
		end++;
	} else if (*end == 'K') {
		shift = 10;
		end++;
	}
	if (*end == 'B' || (*end == 'i' && end[1] == 'B'))
		end += *end == 'B' ? 1 : 2;
	if (*end || n > (~0ULL >> shift) || (n << shift) < 1024)
		return 0;
	*out = (size_t)(n << shift);
	return 1;
}

static int parse_threads(const char *s, long *out)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s || *end || n < 1 || n > 256)
		return 0;
	*out = n;
	return 1;
}

static const char run_help[] =
	"usage: cxr run RULES.cxr [EVENTS...|-] [options]\n"
	"  Run the rules over event logs (JSON Lines or CSV, by extension; - or none\n"
	"  reads stdin) in time order, and write the responses as JSON Lines.\n"
	"  -o, --output FILE     write responses to FILE instead of stdout\n"
	"  --format jsonl|csv    response format (default jsonl)\n"
	"  --rejects FILE        write rejected input records there, as JSON Lines\n"
	"  --audit FILE          write held-out responses and firings over budget there\n"
	"  --summary FILE        write the run summary there as JSON (journeys, metrics,\n"
	"                        SLAs, goals); the text summary goes to stderr\n"
	"  --state FILE          keep the run's state in FILE (SQLite; created when\n"
	"                        missing): the next run goes on where this one ended,\n"
	"                        and an input read to its end before is skipped\n"
	"  --reset RULE          with --state: start RULE's state anew (repeatable)\n"
	"  --checkpoint-every N|D  with --state: save a checkpoint every N events or D of\n"
	"                        wall time (default 100000 events or 5s); a run killed\n"
	"                        goes on from its last checkpoint when run again, and\n"
	"                        SIGTERM or SIGINT stops it cleanly at one\n"
	"  --follow              read the one input (a JSON Lines file, or stdin) as it\n"
	"                        grows, as tail -F does (rotation by rename and by\n"
	"                        truncation), until SIGTERM or SIGINT; the outputs are\n"
	"                        written as responses come; SIGHUP reads RULES.cxr again\n"
	"                        (kept when it compiles, with the state so far)\n"
	"  --clock event|wall    with --follow: what moves time while the input is idle:\n"
	"                        only events (default), or also the wall clock, less\n"
	"                        `lateness`, so that an absence fires on time\n"
	"  --strict              stop at the first rejected record (exit 2)\n"
	"  --sort                read stdin whole and sort it by time, as files are (by\n"
	"                        default stdin is a stream, re-ordered within `lateness`)\n"
	"  --flush               at the end, fire every pending timer, not only those due\n"
	"                        by the last event's time\n"
	"  --threads N           read JSON Lines files, and run rules (without journeys,\n"
	"                        SLAs, goals or budgets), on N threads (default: the\n"
	"                        number of cores); the output does not depend on N\n"
	"  --memory SIZE         keep the events read whole below SIZE (e.g. 512M, 4G;\n"
	"                        default half the machine's memory); a larger log is\n"
	"                        sorted in runs on disk in $TMPDIR, with the same result\n"
	"  --trace               on stderr: for each handler run, its rule and the event\n"
	"                        (type, customer, file:line) or timer (kind, deadline)\n"
	"                        that started it, then each instruction as cxr disasm\n"
	"                        lists it, with the stack's depth and top value (typed)\n"
	"  --quiet               no summary on stderr, and no progress line (on a\n"
	"                        terminal, a run longer than a second shows on stderr\n"
	"                        the bytes and events read, events per second and the\n"
	"                        time reached in the log, cleared at the end)\n";

/* A state run stops at its next checkpoint on SIGTERM or SIGINT, and
 * a live one (--follow) then too; SIGHUP makes a live run read its
 * rules again. */
static cxr *volatile stopping;
static struct outfile *checkpoint_outs[3];

static void stop_at_checkpoint(int sig)
{
	if (stopping && sig == SIGHUP)
		cxr_reload(stopping);
	else if (stopping)
		cxr_stop(stopping);
}

static void catch_signal(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = stop_at_checkpoint;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* The outputs of a state run, flushed at a checkpoint, and their lengths. */
static int flush_outputs(void *ud, uint64_t lengths[3])
{
	struct outfile **o = ud;
	for (int i = 0; i < 3; i++) {
		if (outfile_flush(o[i]) < 0)
			return -1;
		lengths[i] = o[i]->length;
	}
	return 0;
}

/* --checkpoint-every: a number of events, or a duration. */
static int parse_every(const char *v, uint64_t *events, double *seconds)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (end != v && !*end && !errno && v[0] != '-') {
		*events = n;
		*seconds = 0;
		return 1;
	}
	int64_t ns;
	if (cxr_parse_duration(v, strlen(v), &ns) == 0 && ns > 0) {
		*events = 0;
		*seconds = (double)ns / 1e9;
		return 1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	const char *script = NULL, *out_path = NULL, *rejects_path = NULL, *format = "jsonl";
	const char *audit_path = NULL, *summary_path = NULL, *state_path = NULL;
	size_t memory = 0;
	uint64_t every_events = 0;
	double every_seconds = 0;
	int every_set = 0;
	long threads = default_threads();
	int strict = 0, quiet = 0, trace = 0, flush = 0, sort = 0, follow = 0;
	const char *clock = NULL;
	const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
	const char **resets = calloc((size_t)argc + 1, sizeof *resets);
	int ninputs = 0, nresets = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(run_help, stdout);
			free(inputs);
			free(resets);
			return CXR_OK;
		} else if (!strcmp(a, "--state") || !strcmp(a, "--reset") || !strcmp(a, "--checkpoint-every")) {
			if (i + 1 >= argc) {
				free(inputs);
				free(resets);
				return usage_error("%s needs a value", a);
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--state"))
				state_path = v;
			else if (!strcmp(a, "--reset"))
				resets[nresets++] = v;
			else if (!parse_every(v, &every_events, &every_seconds)) {
				free(inputs);
				free(resets);
				return usage_error("--checkpoint-every takes a number of events (100000) or a duration (5s), not '%s'", v);
			} else
				every_set = 1;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--format") ||
			   !strcmp(a, "--rejects") || !strcmp(a, "--audit") || !strcmp(a, "--summary") ||
			   !strcmp(a, "--memory") || !strcmp(a, "--threads")) {
			if (i + 1 >= argc) {
				free(inputs);
				free(resets);
				return usage_error("%s needs a value", a);
			}
			const char *v = argv[++i];
			if (a[1] == 'o' || !strcmp(a, "--output"))
				out_path = v;
			else if (!strcmp(a, "--format"))
				format = v;
			else if (!strcmp(a, "--audit"))
				audit_path = v;
			else if (!strcmp(a, "--summary"))
				summary_path = v;
			else if (!strcmp(a, "--memory") && !parse_size(v, &memory)) {
				free(inputs);
				free(resets);
				return usage_error("--memory takes a size such as 64k, 512M or 4G, not '%s'", v);
			}
			else if (!strcmp(a, "--threads") && !parse_threads(v, &threads)) {
				free(inputs);
				free(resets);
				return usage_error("--threads takes a number from 1 to 256, not '%s'", v);
			} else if (strcmp(a, "--memory") && strcmp(a, "--threads"))
				rejects_path = v;
		} else if (!strcmp(a, "--strict")) {
			strict = 1;
		} else if (!strcmp(a, "--trace")) {
			trace = 1;
		} else if (!strcmp(a, "--flush")) {
			flush = 1;
		} else if (!strcmp(a, "--sort")) {
			sort = 1;
		} else if (!strcmp(a, "--follow") || !strcmp(a, "-f")) {
			follow = 1;
		} else if (!strcmp(a, "--clock")) {
			if (i + 1 >= argc || (strcmp(argv[i + 1], "wall") && strcmp(argv[i + 1], "event"))) {
				free(inputs);
				free(resets);
				return usage_error("--clock takes event or wall, not '%s'", i + 1 < argc ? argv[i + 1] : "");
			}
			clock = argv[++i];
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			free(inputs);
			free(resets);
			return usage_error("unknown option %s for run", a);
		} else if (!script) {
			script = a;
		} else {
			inputs[ninputs++] = a;
		}
	}
	if (!script) {
		free(inputs);
		free(resets);
		fputs(run_help, stderr);
		return CXR_INPUT_ERROR;
	}
	if (strcmp(format, "jsonl") && strcmp(format, "csv")) {
		free(inputs);
		free(resets);
		return usage_error("--format takes jsonl or csv, not %s", format);
	}
	if (nresets && !state_path) {
		int rc = usage_error("--reset %s: a rule's state is reset in a state file: give --state FILE", resets[0]);
		free(inputs);
		free(resets);
		return rc;
	}
	const char *conflict = clock && !follow ? "--clock needs --follow: time moves by the wall clock only while a "
						   "followed input waits"
			       : follow && sort ? "--follow reads the input as it comes; --sort waits for its end"
			       : follow && ninputs > 1 ? "--follow reads one input (a file or -)"
			       : NULL;
	if (conflict) {
		free(inputs);
		free(resets);
		return usage_error("%s", conflict);
	}
	if (!ninputs)
		inputs[ninputs++] = "-";
	/* Before anything is opened: no output may be an input or the script. */
	struct named_path outs[5], *ins = calloc((size_t)ninputs + 1, sizeof *ins);
	int nouts = 0, nins = 0;
	const char *const out_paths[5] = {out_path, rejects_path, audit_path, summary_path, state_path};
	static const char *const out_roles[5] = {"output", "rejects file", "audit file", "summary file", "state file"};
	for (int i = 0; i < 5; i++)
		if (out_paths[i] && strcmp(out_paths[i], "-"))
			outs[nouts++] = (struct named_path){out_roles[i], out_paths[i]};
	ins[nins++] = (struct named_path){"script", script};
	for (int i = 0; i < ninputs; i++)
		ins[nins++] = (struct named_path){"log", inputs[i]};
	int clash = outputs_check(outs, nouts, ins, nins) < 0;
	free(ins);
	if (clash) {
		free(inputs);
		free(resets);
		return CXR_INPUT_ERROR;
	}
	cxr *h = open_handle();
	int status = compile_or_report(h, script);
	if (status == CXR_OK && state_path)
		status = cxr_state_open(h, state_path, resets, nresets);
	struct outfile out = {0}, rejects = {0}, audit = {0}, summary = {0};
	if ((state_path || follow) && status == CXR_OK) {
		/* A state run writes in place: a resume cuts each output back to
		 * what it held at the last checkpoint, and goes on.  So does a
		 * live run, whose reader sees each response as it comes. */
		uint64_t len[3];
		int resume = state_path ? cxr_state_resume(h, inputs, ninputs, len) : 0;
		for (int k = 0; k < 3; k++) /* 2: nothing to do, the outputs stay as they are */
			len[k] = resume == 2 ? (uint64_t)OUTFILE_AS_IT_IS : len[k];
		if (outfile_open_at(&out, out_path, resume ? (int64_t)len[0] : -1) < 0 ||
		    (rejects_path && outfile_open_at(&rejects, rejects_path, resume ? (int64_t)len[1] : -1) < 0) ||
		    (audit_path && outfile_open_at(&audit, audit_path, resume ? (int64_t)len[2] : -1) < 0))
			status = CXR_INPUT_ERROR;
		struct outfile *outs[3] = {&out, &rejects, &audit};
		memcpy(checkpoint_outs, outs, sizeof outs);
		cxr_on_checkpoint(h, flush_outputs, checkpoint_outs);
		if (every_set)
			cxr_set_checkpoint_every(h, every_events, every_seconds);
		stopping = h;
		catch_signal(SIGTERM);
		catch_signal(SIGINT);
		if (follow)
			catch_signal(SIGHUP);
		cxr_set_follow(h, follow);
		cxr_set_clock(h, clock && !strcmp(clock, "wall") ? CXR_CLOCK_WALL : CXR_CLOCK_EVENT);
	}
	int in_place = state_path || follow;
	if (status == CXR_OK && !in_place && outfile_open(&out, out_path) < 0)
		status = CXR_INPUT_ERROR;
	if (status == CXR_OK && !in_place && rejects_path && outfile_open(&rejects, rejects_path) < 0)
		status = CXR_INPUT_ERROR;
	if (status == CXR_OK && !in_place && audit_path && outfile_open(&audit, audit_path) < 0)
		status = CXR_INPUT_ERROR;
	if (status == CXR_OK && summary_path && outfile_open(&summary, summary_path) < 0)
		status = CXR_INPUT_ERROR;
	if (status == CXR_OK) {
		cxr_on_output(h, write_output, &out);
		if (audit.f)
			cxr_on_audit(h, outfile_write, &audit);
		if (rejects.f)
			cxr_on_reject(h, outfile_write, &rejects);
		cxr_set_format(h, !strcmp(format, "csv") ? CXR_CSV : CXR_JSONL);
		cxr_set_strict(h, strict);
		cxr_set_trace(h, trace);
		cxr_set_flush(h, flush);
		cxr_set_sort(h, sort);
		cxr_set_memory(h, memory);
		cxr_set_threads(h, (int)threads);
		int typed = ninputs == 1 && !strcmp(inputs[0], "-") && isatty(0) && !follow;
		if (typed)
			fputs("cxr: reading events from the terminal (Ctrl-D ends)\n", stderr);
		meter_begin(quiet || trace || typed);
		cxr_on_progress(h, meter_draw, NULL);
		status = cxr_run_files(h, inputs, ninputs);
		meter_clear();
		if (!quiet && status != CXR_INPUT_ERROR && status != CXR_STOPPED)
			cxr_summary(h, write_file, stderr);
		if (summary.f)
			cxr_summary_json(h, outfile_write, &summary);
	}
	/* The responses and the audit take the place of the old files only
	 * when the run succeeded; the rejects and the summary tell why not. */
	int done = status != CXR_INPUT_ERROR;
	if (outfile_close(&out, done) < 0)
		status = CXR_INPUT_ERROR;
	if (outfile_close(&audit, done) < 0)
		status = CXR_INPUT_ERROR;
	if (outfile_close(&rejects, 1) < 0)
		status = CXR_INPUT_ERROR;
	if (outfile_close(&summary, 1) < 0)
		status = CXR_INPUT_ERROR;
	stopping = NULL;
	cxr_free(h);
	free(inputs);
	free(resets);
	/* Stopped by SIGTERM or SIGINT after a checkpoint: a clean end. */
	return status == CXR_STOPPED ? CXR_OK : status;
}

static const char state_help[] =
	"usage: cxr state FILE [--customer ID]\n"
	"  What a state file written by `cxr run --state FILE` holds: its customers,\n"
	"  pending timers, the time it has reached, each rule's counts, journeys,\n"
	"  metrics, SLAs, goals, budgets, the inputs read and the checkpoints.\n"
	"  --customer ID         one customer's state: stages, variables, tags, dedupe\n"
	"                        keys, caps, pending sequences, absences and timers\n";

static int cmd_state(int argc, char **argv)
{
	const char *path = NULL, *customer = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(state_help, stdout);
			return CXR_OK;
		} else if (!strcmp(a, "--customer")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			customer = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option %s for state", a);
		} else if (!path) {
			path = a;
		} else {
			return usage_error("state reads one file, not also %s", a);
		}
	}
	if (!path) {
		fputs(state_help, stderr);
		return CXR_INPUT_ERROR;
	}
	cxr *h = open_handle();
	int status = cxr_state_describe(h, path, customer, write_file, stdout);
	cxr_free(h);
	return status;
}

static int one_script(int argc, char **argv, const char *help, const char **script)
{
	*script = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(help, stdout);
			return -1;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			usage_error("unknown option %s", argv[i]);
			return CXR_INPUT_ERROR;
		}
		if (*script) {
			usage_error("one script at a time (got %s too)", argv[i]);
			return CXR_INPUT_ERROR;
		}
		*script = argv[i];
	}
	if (!*script) {
		fputs(help, stderr);
		return CXR_INPUT_ERROR;
	}
	return CXR_OK;
}

static const char check_help[] =
	"usage: cxr check [--werror] RULES.cxr [--against EVENTS...]\n"
	"  Compile the rules; print errors and warnings as FILE:LINE:COL with the\n"
	"  source line.  With --against, also warn about event types and fields the\n"
	"  rules name but the logs never have, with \"did you mean\" from the logs;\n"
	"  each caret spans the name a warning is about (an event type at the rule's\n"
	"  `on`, a field's name, the input block's field).  A folder is not a log:\n"
	"  name the files in it (exit 2).\n"
	"  Exit 0 when the script compiles, 2 when it does not.  --werror: warnings\n"
	"  fail too (exit 2), for use in CI.\n";

static int cmd_check(int argc, char **argv)
{
	const char *script = NULL;
	const char **logs = calloc((size_t)argc + 1, sizeof *logs);
	int nlogs = 0, against = 0, werror = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(check_help, stdout);
			free(logs);
			return CXR_OK;
		} else if (!strcmp(argv[i], "--against")) {
			against = 1;
		} else if (!strcmp(argv[i], "--werror")) {
			werror = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			free(logs);
			return usage_error("unknown option %s for check", argv[i]);
		} else if (against) {
			logs[nlogs++] = argv[i];
		} else if (!script) {
			script = argv[i];
		} else {
			free(logs);
			return usage_error("one script at a time (got %s too)", argv[i]);
		}
	}
	if (!script || (against && !nlogs)) {
		fputs(check_help, stderr);
		free(logs);
		return CXR_INPUT_ERROR;
	}
	cxr *h = open_handle();
	int status = compile_or_report(h, script);
	if (status == CXR_OK && nlogs && cxr_check_against(h, logs, nlogs) < 0)
		status = CXR_INPUT_ERROR;
	int warnings = cxr_warnings(h);
	if (status == CXR_OK && werror && warnings) {
		fprintf(stderr, "cxr: %s: %d warning%s, and --werror makes them fail\n", script, warnings,
			warnings == 1 ? "" : "s");
		status = CXR_INPUT_ERROR;
	} else if (status == CXR_OK) {
		fprintf(stderr, "cxr: %s: ok%s\n", script, warnings ? " (with warnings)" : "");
	}
	cxr_free(h);
	free(logs);
	return status;
}

/* A text that grows in memory: a formatted script, a script's test report. */
struct text {
	char *p;
	size_t len, cap;
};

static void text_add(void *ud, const char *p, size_t n)
{
	struct text *t = ud;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *q = realloc(t->p, cap);
		if (!q) {
			fputs("cxr: out of memory\n", stderr);
			exit(CXR_INPUT_ERROR);
		}
		t->p = q;
		t->cap = cap;
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
}

static const char test_help[] =
	"usage: cxr test [--coverage] [-k TEXT] RULES.cxr...\n"
	"  Run the test blocks of each script (test \"name\" ... end): one line per\n"
	"  test, each failure with its step, what was expected, what fired instead\n"
	"  and the events given.  A failed `expect ACTION {fields}` shows the nearest\n"
	"  response field by field (tier: expected \"silver\", got \"gold\"), and when\n"
	"  no rule emitted ACTION, why not for the test's customer, as cxr explain\n"
	"  tells it (the failing guard and its values, a dedupe, a pending timer).\n"
	"  The run ends with the failed tests (FILE:LINE: NAME), then\n"
	"  \"N passed, N failed\".\n"
	"  Exit 0 when every test passes, 1 when one fails, 2 when a script does not\n"
	"  compile, 5 when no test ran (no script has test blocks, or -k selected none).\n"
	"  --coverage   list the rules, guards and pattern steps no test exercised\n"
	"  -k TEXT      run only the tests whose name contains TEXT (case-sensitive);\n"
	"               the others are counted as deselected\n";

static int cmd_test(int argc, char **argv)
{
	int coverage = 0, broken = 0, nfiles = 0, empty = 0;
	const char *select = NULL;
	const char **files = calloc((size_t)argc + 1, sizeof *files);
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(test_help, stdout);
			free(files);
			return CXR_OK;
		}
		if (!strcmp(argv[i], "--coverage")) {
			coverage = 1;
		} else if (!strcmp(argv[i], "-k")) {
			if (i + 1 >= argc) {
				free(files);
				return usage_error("%s needs a text: the tests whose name contains it run", argv[i]);
			}
			select = argv[++i];
		} else if (argv[i][0] == '-') {
			free(files);
			return usage_error("unknown option %s for test", argv[i]);
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (!nfiles) {
		fputs(test_help, stderr);
		free(files);
		return CXR_INPUT_ERROR;
	}
	struct cxr_test_counts n = {0};
	struct text failures = {0}, out = {0};
	struct cxr_test_options opt = {coverage, select, text_add, &failures};
	for (int i = 0; i < nfiles; i++) {
		cxr *h = open_handle();
		cxr_set_testing(h, 1);
		if (compile_or_report(h, files[i]) != CXR_OK) {
			broken++;
		} else {
			struct cxr_test_counts before = n;
			out.len = 0;
			cxr_test_run(h, &opt, &n, text_add, &out);
			int ran = n.passed + n.failed - before.passed - before.failed;
			if (ran) {
				printf("%s:\n", files[i]);
				write_file(stdout, out.p, out.len);
			} else if (n.deselected == before.deselected) {
				empty++;
				if (nfiles > 1)
					printf("%s: no test blocks\n", files[i]);
			}
		}
		cxr_free(h);
	}
	free(out.p);
	int ran = n.passed + n.failed;
	if (failures.len) {
		fputs("failed:\n", stdout);
		for (size_t at = 0; at < failures.len;) {
			const char *nl = memchr(failures.p + at, '\n', failures.len - at);
			size_t len = nl ? (size_t)(nl - failures.p - at) + 1 : failures.len - at;
			printf("  %.*s", (int)len, failures.p + at);
			at += len;
		}
	}
	free(failures.p);
	char deselected[64] = "";
	if (n.deselected)
		snprintf(deselected, sizeof deselected, ", %d deselected", n.deselected);
	int status;
	if (broken) {
		printf("%d passed, %d failed%s; %d script%s did not compile, so %s tests did not run\n", n.passed, n.failed,
		       deselected, broken, broken == 1 ? "" : "s", broken == 1 ? "its" : "their");
		status = CXR_INPUT_ERROR;
	} else if (empty == nfiles) {
		if (nfiles == 1)
			fprintf(stderr, "cxr: %s has no test blocks", files[0]);
		else
			fprintf(stderr, "cxr: none of the %d scripts has test blocks", nfiles);
		fputs(" (write test \"name\" ... end; see cxr test --help)\n", stderr);
		status = CXR_NO_TESTS;
	} else if (!ran) {
		fprintf(stderr, "cxr: no test name contains '%s' (%d test%s deselected)\n", select ? select : "",
			n.deselected, n.deselected == 1 ? "" : "s");
		status = CXR_NO_TESTS;
	} else {
		printf("%d passed, %d failed%s\n", n.passed, n.failed, deselected);
		status = n.failed ? CXR_RULE_FAILURES : CXR_OK;
	}
	free(files);
	return status;
}

static const char explain_help[] =
	"usage: cxr explain RULES.cxr EVENTS... --customer ID [--rule R] [--format text|json] [--quiet]\n"
	"  Why a rule did or did not fire for a customer: for each rule (or the one\n"
	"  named) and each of the customer's events that reached it, whether it\n"
	"  fired, and if not what stopped it:\n"
	"  - a guard: each part of its `and`s and `or`s true, false or not evaluated,\n"
	"    the values on both sides of each comparison and, for numbers, durations\n"
	"    and times, how far from flipping (o.total is 95, 5 short of 100);\n"
	"  - a dedupe (once per KEY): the key, its value and when it first fired;\n"
	"  - a cap, a budget, a holdout;\n"
	"  - a pattern: when it started and what it waits for, near misses, a step\n"
	"    that found nothing by its deadline and the candidate that came after it,\n"
	"    an absence that fired and the event that came too late (and how late),\n"
	"    a timer still pending at the end.\n"
	"  Exit 2 when no event names the customer (with the nearest keys seen) or\n"
	"  no rule is named R.\n"
	"  --format json  one object: per rule, each note with its event's type,\n"
	"                 file, line and time, its outcome, and for each condition\n"
	"                 its parts: expression, both values, operator and margin;\n"
	"                 durations and margins of durations and times in seconds\n"
	"  --threads N    read JSON Lines files in N parts at once, as `run` does\n"
	"  --quiet        no progress line (on a terminal, a read longer than a second\n"
	"                 shows on stderr how far it is, as `run` does)\n";

static int cmd_explain(int argc, char **argv)
{
	const char *script = NULL, *customer = NULL, *rule = NULL, *format = "text";
	long threads = default_threads();
	const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
	int ninputs = 0, quiet = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(explain_help, stdout);
			free(inputs);
			return CXR_OK;
		} else if (!strcmp(a, "--customer") || !strcmp(a, "--rule") || !strcmp(a, "--format") ||
			   !strcmp(a, "--threads")) {
			if (i + 1 >= argc) {
				free(inputs);
				return usage_error("%s needs a value", a);
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--customer"))
				customer = v;
			else if (!strcmp(a, "--rule"))
				rule = v;
			else if (!strcmp(a, "--format"))
				format = v;
			else if (!parse_threads(v, &threads)) {
				free(inputs);
				return usage_error("--threads takes a number from 1 to 256, not '%s'", v);
			}
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			free(inputs);
			return usage_error("unknown option %s for explain", a);
		} else if (!script) {
			script = a;
		} else {
			inputs[ninputs++] = a;
		}
	}
	if (!script || !customer || !ninputs) {
		fputs(explain_help, stderr);
		free(inputs);
		return CXR_INPUT_ERROR;
	}
	if (strcmp(format, "text") && strcmp(format, "json")) {
		free(inputs);
		return usage_error("--format takes text or json, not %s", format);
	}
	cxr *h = open_handle();
	cxr_set_threads(h, (int)threads);
	int status = compile_or_report(h, script);
	if (status == CXR_OK) {
		meter_begin(quiet);
		cxr_on_progress(h, meter_draw, NULL);
		status = cxr_explain(h, inputs, ninputs, customer, rule, !strcmp(format, "json"), write_file, stdout);
		meter_clear();
	}
	cxr_free(h);
	free(inputs);
	return status;
}

static const char diff_help[] =
	"usage: cxr diff OLD.cxr NEW.cxr EVENTS... [--cost ACTION=AMOUNT]... [--format text|json] [--quiet]\n"
	"  Backtest a change: run both versions over the same events and report, per\n"
	"  rule and action, the responses NEW changes, adds and removes, with counts,\n"
	"  the first examples and the customers affected.  A response both versions\n"
	"  give to the same trigger (same rule, action and customer, same first event\n"
	"  of the rule) but not alike is changed: its time moved or fields differ\n"
	"  (~ c1 voucher: at 2026-03-01T10:00:00Z -> 10:05:00Z, delay: 12 -> 7).\n"
	"  --cost voucher=9.50 (repeatable) turns the counts of an action into money;\n"
	"  an action no rule of either version emits is an error.\n"
	"  --format json   the report as one JSON object: counts, every customer\n"
	"                  affected, and per rule and action every response added,\n"
	"                  removed and changed\n"
	"  --quiet         no progress line (on a terminal, reading each version's\n"
	"                  logs for longer than a second shows how far it is, as\n"
	"                  `run` does)\n"
	"  Exit 0 when the versions agree, 1 when they differ (so it can guard a\n"
	"  change in CI), 2 on errors.\n";

static int cmd_diff(int argc, char **argv)
{
	const char *scripts[2] = {NULL, NULL};
	const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
	struct cxr_cost *costs = calloc((size_t)argc + 1, sizeof *costs);
	int ninputs = 0, ncosts = 0, status = CXR_OK, json = 0, quiet = 0;
	for (int i = 0; i < argc && status == CXR_OK; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(diff_help, stdout);
			free(inputs);
			free(costs);
			return CXR_OK;
		} else if (!strcmp(a, "--cost")) {
			const char *v = i + 1 < argc ? argv[++i] : NULL;
			const char *eq = v ? strchr(v, '=') : NULL;
			char *end = NULL;
			double amount = eq ? strtod(eq + 1, &end) : 0;
			if (!eq || eq == v || !end || *end || end == eq + 1) {
				status = usage_error("--cost takes ACTION=AMOUNT, such as voucher=9.50, not %s", v ? v : "nothing");
				break;
			}
			if (!isfinite(amount)) { /* nan, inf, 1e400: no sum of costs means anything then */
				status = usage_error("--cost %s: the amount must be a finite number, such as 9.50", v);
				break;
			}
			costs[ncosts].action = strndup(v, (size_t)(eq - v));
			costs[ncosts++].amount = amount;
		} else if (!strcmp(a, "--format")) {
			const char *v = i + 1 < argc ? argv[++i] : NULL;
			if (!v || (strcmp(v, "text") && strcmp(v, "json")))
				status = usage_error("--format takes text or json, not %s", v ? v : "nothing");
			else
				json = !strcmp(v, "json");
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			status = usage_error("unknown option %s for diff", a);
		} else if (!scripts[0]) {
			scripts[0] = a;
		} else if (!scripts[1]) {
			scripts[1] = a;
		} else {
			inputs[ninputs++] = a;
		}
	}
	if (status == CXR_OK && (!scripts[1] || !ninputs)) {
		fputs(diff_help, stderr);
		status = CXR_INPUT_ERROR;
	}
	if (status == CXR_OK) {
		struct cxr_diff_options opt = {costs, ncosts, json, meter_draw, NULL};
		meter_begin(quiet);
		status = cxr_diff_run(scripts[0], scripts[1], inputs, ninputs, &opt, write_file, stdout, write_file, stderr);
		meter_clear();
	}
	for (int i = 0; i < ncosts; i++)
		free((char *)costs[i].action);
	free(costs);
	free(inputs);
	return status;
}

static const char disasm_help[] =
	"usage: cxr disasm RULES.cxr\n"
	"  Print the bytecode of every rule: address, source line, instruction,\n"
	"  operand and what the instruction does.  A constant is shown as a script\n"
	"  writes it, with its type: 5m (duration), @2026-03-01T19:13:00Z (time).\n";

static int cmd_disasm(int argc, char **argv)
{
	const char *script;
	int rc = one_script(argc, argv, disasm_help, &script);
	if (rc)
		return rc < 0 ? CXR_OK : rc;
	cxr *h = open_handle();
	int status = compile_or_report(h, script);
	if (status == CXR_OK)
		cxr_disasm(h, write_file, stdout);
	cxr_free(h);
	return status;
}

static const char stats_help[] =
	"usage: cxr stats [--key F] [--time F] [--type F] [--format csv|jsonl] [--json] [--quiet] [EVENTS...|-]\n"
	"  Profile event logs before writing rules for them (JSON Lines or CSV, by\n"
	"  extension; - or none reads stdin): event types and their counts, the\n"
	"  fields of each type with their type, fill rate and examples, customers\n"
	"  and events per customer, time span, timestamp formats, order; then an\n"
	"  input block and event schemas to paste into a script.\n"
	"  --key F, --time F, --type F   the fields that hold the customer key, the\n"
	"                                event time and the event type (default:\n"
	"                                guessed from common names in the first records)\n"
	"  --format csv|jsonl            how to read the logs (default: by their name;\n"
	"                                stdin by its first line)\n"
	"  --json                        the report as one JSON object\n"
	"  --quiet                       no progress line (on a terminal, a read longer\n"
	"                                than a second shows how far it is, as `run`\n"
	"                                does)\n";

static int cmd_stats(int argc, char **argv)
{
	struct cxr_stats_options opt = {0};
	const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
	int ninputs = 0, quiet = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(stats_help, stdout);
			free(inputs);
			return CXR_OK;
		} else if (!strcmp(a, "--key") || !strcmp(a, "--time") || !strcmp(a, "--type")) {
			if (i + 1 >= argc) {
				free(inputs);
				return usage_error("%s needs a field name", a);
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--key"))
				opt.key = v;
			else if (!strcmp(a, "--time"))
				opt.time = v;
			else
				opt.type = v;
		} else if (!strcmp(a, "--json")) {
			opt.as_json = 1;
		} else if (!strcmp(a, "--format")) {
			if (i + 1 >= argc || (strcmp(argv[i + 1], "csv") && strcmp(argv[i + 1], "jsonl"))) {
				free(inputs);
				return usage_error("--format takes csv or jsonl, not %s", i + 1 < argc ? argv[i + 1] : "nothing");
			}
			opt.format = argv[++i];
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			quiet = 1;
		} else if (a[0] == '-' && a[1]) {
			free(inputs);
			return usage_error("unknown option %s for stats", a);
		} else {
			inputs[ninputs++] = a;
		}
	}
	if (!ninputs)
		inputs[ninputs++] = "-";
	int typed = ninputs == 1 && !strcmp(inputs[0], "-") && isatty(0);
	if (typed)
		fputs("cxr: reading events from the terminal (Ctrl-D ends)\n", stderr);
	meter_begin(quiet || typed);
	opt.progress = meter_draw;
	int status = cxr_stats(inputs, ninputs, &opt, write_file, stdout, write_file, stderr);
	meter_clear();
	free(inputs);
	return status;
}

int repl_main(int argc, char **argv);

/* A whole file, or stdin for "-"; 0 on success, -1 with errno set. */
static int read_text(const char *path, struct text *t)
{
	FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!in)
		return -1;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
		text_add(t, chunk, n);
	int bad = ferror(in);
	if (in != stdin)
		fclose(in);
	if (bad)
		errno = EIO;
	return bad ? -1 : 0;
}

/* Replace a file atomically: write a temporary file beside it, with the
 * same permissions, and rename it over the file.  0, or -1 with errno. */
static int replace_file(const char *path, const struct text *t)
{
	size_t n = strlen(path) + sizeof ".fmt-XXXXXX";
	char *tmp = malloc(n);
	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.fmt-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	struct stat st;
	int ok = !(stat(path, &st) == 0 && fchmod(fd, st.st_mode & 07777) != 0);
	FILE *out = fdopen(fd, "wb");
	if (!out) {
		close(fd);
		ok = 0;
	} else {
		ok &= fwrite(t->p, 1, t->len, out) == t->len;
		ok &= fflush(out) == 0 && fsync(fd) == 0;
		ok &= fclose(out) == 0;
	}
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		int e = errno;
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return ok ? 0 : -1;
}

static const char fmt_help[] =
	"usage: cxr fmt [--check] FILE...\n"
	"  Rewrite scripts in the canonical layout, comments kept; each file that\n"
	"  changes is named on stderr.  - formats stdin to stdout.  A script that\n"
	"  does not parse is left as it is, with its errors (exit 2).\n"
	"  --check   change nothing: name the files that are not formatted and exit 1\n"
	"            when there is one\n";

static int cmd_fmt(int argc, char **argv)
{
	int check = 0, nfiles = 0, status = CXR_OK, unformatted = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(fmt_help, stdout);
			return CXR_OK;
		} else if (!strcmp(argv[i], "--check")) {
			check = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error("unknown option %s for fmt", argv[i]);
		} else {
			nfiles++;
		}
	}
	if (!nfiles) {
		fputs(fmt_help, stderr);
		return CXR_INPUT_ERROR;
	}
	for (int i = 0; i < argc; i++) {
		const char *path = argv[i];
		if (!strcmp(path, "--check"))
			continue;
		int std = !strcmp(path, "-");
		const char *name = std ? "<stdin>" : path;
		struct text src = {0}, out = {0};
		int errors;
		if (read_text(path, &src) != 0) {
			fprintf(stderr, "cxr: cannot read %s: %s\n", name, strerror(errno));
			status = CXR_INPUT_ERROR;
		} else if ((errors = cxr_fmt(name, src.p ? src.p : "", src.len, text_add, &out, write_file, stderr))) {
			fprintf(stderr, "cxr: %s: %d error%s; left as it is\n", name, errors, errors == 1 ? "" : "s");
			status = CXR_INPUT_ERROR;
		} else {
			int changed = out.len != src.len || (out.len && memcmp(out.p, src.p, out.len) != 0);
			if (check) {
				if (changed)
					fprintf(stderr, "cxr: %s: not formatted\n", name);
				unformatted |= changed;
			} else if (std) {
				write_file(stdout, out.p ? out.p : "", out.len);
			} else if (changed && replace_file(path, &out) != 0) {
				fprintf(stderr, "cxr: cannot write %s: %s\n", path, strerror(errno));
				status = CXR_INPUT_ERROR;
			} else if (changed) {
				fprintf(stderr, "cxr: %s: formatted\n", name);
			}
		}
		free(src.p);
		free(out.p);
	}
	/* --check: 1 when a file would change, as a test that fails. */
	return status != CXR_OK ? status : unformatted ? CXR_RULE_FAILURES : CXR_OK;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"run", cmd_run, "run RULES.cxr [EVENTS...|-]   run rules over event logs"},
	{"check", cmd_check, "check [--werror] RULES.cxr [--against EVENTS...]  compile only: errors and warnings"},
	{"test", cmd_test, "test [--coverage] [-k TEXT] RULES.cxr...  run the test blocks inside scripts"},
	{"explain", cmd_explain, "explain RULES.cxr EVENTS --customer ID [--rule R]  why a rule did or did not fire"},
	{"fmt", cmd_fmt, "fmt [--check] FILE...|-       the canonical layout of scripts, comments kept"},
	{"diff", cmd_diff, "diff OLD.cxr NEW.cxr EVENTS   backtest: the responses a change changes, adds and removes"},
	{"disasm", cmd_disasm, "disasm RULES.cxr              the bytecode of every rule"},
	{"repl", repl_main, "repl [--strict] [RULES.cxr]   interactive: type events and expressions, see what fires"},
	{"stats", cmd_stats, "stats [EVENTS...|-]           profile a log: types, fields, customers, time span"},
	{"state", cmd_state, "state FILE [--customer ID]    what a state file (run --state) holds"},
};

static void help(FILE *f)
{
	fputs("cxr: customer-experience rules over event logs\n\nusage:\n", f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  cxr %s\n", commands[i].summary);
	fputs("  cxr --version\n"
	      "\n`cxr COMMAND --help` tells more.  Exit codes: 0 success, 1 rule failures,\n"
	      "2 usage, script or input errors.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return CXR_INPUT_ERROR;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		help(stdout);
		return finish_stdout(CXR_OK);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") || !strcmp(argv[1], "version")) {
		printf("cxr %s\n", CXR_VERSION);
		return finish_stdout(CXR_OK);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			command_name = commands[i].name;
			return finish_stdout(commands[i].fn(argc - 2, argv + 2));
		}
	const char *best = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (argv[1][0] == commands[i].name[0])
			best = commands[i].name;
	fprintf(stderr, "cxr: unknown command '%s'", argv[1]);
	if (best)
		fprintf(stderr, "; did you mean '%s'?", best);
	fputc('\n', stderr);
	help(stderr);
	return CXR_INPUT_ERROR;
}
