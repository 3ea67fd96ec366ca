/* cxr.c: the public interface (include/cxr.h) over prog, engine and
 * ingest.  Nothing here is global: every piece of state hangs off the
 * handle. */
#include "cxr.h"

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "handle_int.h"
#include "parallel.h"
#include "inspect/explain.h"
#include "inspect/inspect.h"
#include "io/ingest.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "vm/prog.h"
#include "base/progress.h"
#include "io/stream.h"
#include "state/store.h"
#include "vm/vm.h"


static void free_roots(cxr *h);

cxr *cxr_new(void)
{
	cxr *h = mem_alloc(sizeof *h);
	diag_init(&h->diag);
	return h;
}

void cxr_free(cxr *h)
{
	if (!h)
		return;
	if (h->store_ready) {
		stream_finish(&h->stream);
		store_free(&h->store);
	}
	state_close(h->state);
	mem_free(h->resume.plan);
	engine_free(h->engine);
	explain_free(h->explain);
	prog_free(h->prog);
	diag_free(&h->diag);
	free_roots(h);
	mem_free(h->script);
	mem_free(h);
}

void cxr_on_diagnostic(cxr *h, cxr_write_fn fn, void *ud)
{
	h->diag.sink = fn;
	h->diag.ud = ud;
}

void engine_setup(cxr *h)
{
	struct engine *e = h->engine;
	if (!e)
		return;
	e->out = h->out;
	e->out_ud = h->out_ud;
	e->rejects = h->rejects;
	e->rejects_ud = h->rejects_ud;
	e->audit = h->audit;
	e->audit_ud = h->audit_ud;
	e->format = h->format == CXR_CSV ? OUT_CSV : OUT_JSONL;
	e->vm->trace = h->trace ? &h->diag : NULL;
	e->trigger_ids = h->trigger_ids;
}

void cxr_on_output(cxr *h, cxr_write_fn fn, void *ud)
{
	h->out = fn;
	h->out_ud = ud;
	engine_setup(h);
}

void cxr_on_reject(cxr *h, cxr_write_fn fn, void *ud)
{
	h->rejects = fn;
	h->rejects_ud = ud;
	engine_setup(h);
}

void cxr_on_audit(cxr *h, cxr_write_fn fn, void *ud)
{
	h->audit = fn;
	h->audit_ud = ud;
	engine_setup(h);
}

void cxr_set_format(cxr *h, enum cxr_format f)
{
	h->format = f;
	engine_setup(h);
}

void cxr_set_color(cxr *h, int on) { h->diag.color = on; }

void cxr_on_progress(cxr *h, cxr_progress_fn fn, void *ud)
{
	h->progress = fn;
	h->progress_ud = ud;
}
void cxr_set_strict(cxr *h, int on) { h->strict = on; }

void cxr_set_growing(cxr *h, int on) { h->growing = on; }
void cxr_set_testing(cxr *h, int on) { h->testing = on; }

static void free_roots(cxr *h)
{
	for (int i = 0; i < h->nroots; i++)
		free(h->roots[i]);
	mem_free(h->roots);
	h->roots = NULL;
	h->nroots = 0;
}

int cxr_set_import_roots(cxr *h, const char *const *dirs, int n)
{
	free_roots(h);
	h->roots = mem_alloc(sizeof *h->roots * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		char *real = realpath(dirs[i], NULL);
		struct stat st;
		if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
			diag_plain(&h->diag, "cxr: import folder %s: %s", dirs[i], real ? "not a folder" : strerror(errno));
			free(real);
			free_roots(h);
			return -1;
		}
		h->roots[h->nroots++] = real;
	}
	return 0;
}

void cxr_set_flush(cxr *h, int on) { h->flush = on; }

void cxr_set_sort(cxr *h, int on) { h->sort = on; }
void cxr_set_memory(cxr *h, size_t bytes) { h->memory = bytes; }

void cxr_set_threads(cxr *h, int n) { h->threads = n; }

/* Parts smaller than this are not worth a thread. */
#define PART_MIN ((uint64_t)64 << 10)

/* Half of the machine's memory: the events read whole stay below it. */
static size_t default_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || size <= 0)
		return (size_t)1 << 30;
	return (size_t)pages / 2 * (size_t)size;
}

void cxr_finish(cxr *h)
{
	if (h->store_ready)
		stream_finish(&h->stream);
	if (h->engine)
		engine_finish(h->engine, h->flush);
}

void cxr_flush_input(cxr *h)
{
	if (h->store_ready)
		stream_flush(&h->stream);
}

void cxr_set_trigger_ids(cxr *h, int on)
{
	h->trigger_ids = on;
	engine_setup(h);
}

void cxr_set_trace(cxr *h, int on)
{
	h->trace = on;
	engine_setup(h);
}

struct prog *compile_prog(cxr *h, const char *name, const char *text, size_t len, int *errors)
{
	struct prog *p = prog_new(&h->diag);
	p->growing = h->growing;
	p->testing = h->testing;
	/* Imports stay inside the folders set, or the script's own. */
	char *own = NULL;
	struct stat st;
	if (h->nroots) {
		p->import_roots = (const char *const *)h->roots;
		p->nimport_roots = h->nroots;
	} else if (name && name[0] != '<' && stat(name, &st) == 0 && S_ISREG(st.st_mode) &&
		   (own = realpath(name, NULL)) != NULL) {
		char *slash = strrchr(own, '/');
		if (slash)
			slash[slash == own] = 0; /* "/x.cxr" keeps "/" */
		p->import_roots = (const char *const *)&own;
		p->nimport_roots = 1;
	}
	h->diag.warnings = 0;
	*errors = prog_compile(p, name, text, len);
	p->import_roots = NULL; /* own dies here */
	p->nimport_roots = 0;
	free(own);
	return p;
}

int cxr_compile_string(cxr *h, const char *name, const char *text, size_t len)
{
	if (h->store_ready) {
		stream_finish(&h->stream);
		store_free(&h->store);
		h->store_ready = 0;
	}
	state_close(h->state); /* it was read into the run that goes now */
	h->state = NULL;
	mem_free(h->resume.plan);
	h->resume.plan = NULL;
	engine_free(h->engine);
	explain_free(h->explain); /* it watched the rules going now */
	h->explain = NULL;
	prog_free(h->prog);
	h->engine = NULL;
	mem_free(h->script);
	h->script = NULL;
	int errors;
	h->prog = compile_prog(h, name, text, len, &errors);
	h->compiled = errors == 0;
	if (h->compiled) {
		h->engine = engine_new(h->prog, &h->diag);
		engine_setup(h);
	}
	return errors;
}

int cxr_compile_file(cxr *h, const char *path)
{
	size_t len;
	char *text = mem_read_file(path, &len);
	if (!text) {
		diag_plain(&h->diag, "cxr: cannot read %s: %s", path, strerror(errno));
		return 1;
	}
	int errors = cxr_compile_string(h, path, text, len);
	mem_free(text);
	mem_free(h->script);
	h->script = mem_strndup(path, strlen(path)); /* a reload (cxr_reload) reads it again */
	return errors;
}

int cxr_warnings(const cxr *h) { return h->diag.warnings; }

int cxr_check_against(cxr *h, const char *const *paths, int npaths)
{
	return h->compiled ? against_check(h->prog, &h->diag, paths, npaths) : -1;
}

/* What a state run reads of one input. */
struct state_read {
	const char *path;
	int regular;        /* a regular file: read [from, to), recorded by the save */
	uint64_t from, to, line0, lines;
};

/* Which inputs a state run reads, and from where: a file read to its end
 * before is skipped, one that grew is read on from where it stopped.
 * Returns how many are left in *out (for the caller to free), or -1
 * (told) when one cannot be read on. */
static int state_plan(cxr *h, const char *const *paths, int npaths, struct state_read **out)
{
	struct state_read *r = mem_alloc(sizeof *r * (size_t)(npaths + 1));
	int n = 0;
	for (int i = 0; i < npaths; i++) {
		struct stat sb;
		struct state_read x = {paths[i], 0, 0, 0, 0, 0};
		x.regular = strcmp(paths[i], "-") != 0 && stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode);
		if (x.regular) {
			x.to = (uint64_t)sb.st_size;
			uint64_t offset, lines;
			enum input_seen seen = state_input(h->state, paths[i], &offset, &lines);
			if (seen == INPUT_CONSUMED) {
				diag_plain(&h->diag, "cxr: %s: already read into the state (%llu bytes, %llu lines): skipped",
					   paths[i], (unsigned long long)offset, (unsigned long long)lines);
				continue;
			}
			if (seen == INPUT_GREW && store_format_of(h->prog, paths[i]) == FMT_CSV) {
				diag_plain(&h->diag,
					   "cxr: %s: this CSV file grew since it was read into the state; cxr reads on in a grown "
					   "JSON Lines file only: give the new rows as a file of their own (with the header)",
					   paths[i]);
				mem_free(r);
				return -1;
			}
			if (seen == INPUT_GREW) {
				diag_plain(&h->diag, "cxr: %s: read into the state up to line %llu: reading on from there",
					   paths[i], (unsigned long long)lines);
				x.from = offset;
				x.line0 = lines;
			}
		}
		r[n++] = x;
	}
	*out = r;
	return n;
}

void plan_escape(struct buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '%' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' || p[i] == 0)
			buf_printf(b, "%%%02X", (unsigned char)p[i]);
		else
			buf_addc(b, p[i]);
}

void plan_unescape(struct buf *b, const char *p, size_t n)
{
	buf_clear(b);
	for (size_t i = 0; i < n; i++) {
		unsigned x;
		if (p[i] == '%' && i + 2 < n && sscanf(p + i + 1, "%2x", &x) == 1) {
			buf_addc(b, (char)x);
			i += 2;
		} else {
			buf_addc(b, p[i]);
		}
	}
	buf_addc(b, 0);
	b->len--;
}

/* A run's plan as text, for its checkpoints: a line per input, "regular
 * from to line0 path", the path escaped (plan_escape). */
static char *plan_text(const struct state_read *r, int n)
{
	struct buf b = {0};
	for (int i = 0; i < n; i++) {
		buf_printf(&b, "%d\t%llu\t%llu\t%llu\t", r[i].regular, (unsigned long long)r[i].from,
			   (unsigned long long)r[i].to, (unsigned long long)r[i].line0);
		plan_escape(&b, r[i].path, strlen(r[i].path));
		buf_addc(&b, '\n');
	}
	buf_addc(&b, 0);
	return b.p;
}

/* The plan of the state's last run, if it was over these paths (in
 * order): its entries in *out (for the caller to free) and their count,
 * or -1. */
static int plan_parse(const char *plan, const char *const *paths, int npaths, struct state_read **out)
{
	struct state_read *r = mem_alloc(sizeof *r * (size_t)(npaths + 1));
	int n = 0, ok = 1;
	struct buf path = {0};
	for (const char *line = plan; ok && *line;) {
		const char *nl = strchr(line, '\n');
		unsigned long long from, to, line0;
		int regular, used = 0;
		if (!nl || sscanf(line, "%d\t%llu\t%llu\t%llu\t%n", &regular, &from, &to, &line0, &used) != 4 || !used) {
			ok = 0;
			break;
		}
		plan_unescape(&path, line + used, (size_t)(nl - line - used));
		if (n >= npaths || strcmp(paths[n], path.p ? path.p : "") != 0)
			ok = 0;
		else {
			r[n] = (struct state_read){paths[n], regular, from, to, line0, 0};
			n++;
		}
		line = nl + 1;
	}
	buf_free(&path);
	if (!ok || n != npaths) {
		mem_free(r);
		return -1;
	}
	*out = r;
	return n;
}

/* Did the state's last run end over these very inputs, unchanged since?
 * Then running the command again has nothing to do, and its outputs stay
 * as that run wrote them (a kill after its last save, before its exit). */
static int last_run_again(cxr *h, const char *const *paths, int npaths)
{
	struct state_read *r;
	if (!h->state || !h->resume.plan || !h->resume.finished)
		return 0;
	int n = plan_parse(h->resume.plan, paths, npaths, &r);
	int same = n > 0;
	for (int i = 0; i < n && same; i++) {
		uint64_t offset, lines;
		same = r[i].regular && state_input(h->state, r[i].path, &offset, &lines) == INPUT_CONSUMED;
	}
	if (n >= 0)
		mem_free(r);
	return same;
}

/* The plan of an unfinished run, for the paths given again: -1 (told)
 * when they are not the inputs it was reading. */
static int plan_resume(cxr *h, const char *const *paths, int npaths, struct state_read **out)
{
	struct state_read *r;
	int n = plan_parse(h->resume.plan, paths, npaths, &r);
	if (n < 0) {
		diag_plain(&h->diag,
			   "cxr: the state holds a run that did not finish (killed or stopped after %llu events): give the same "
			   "inputs, in the same order, to go on with it",
			   (unsigned long long)h->resume.applied);
		return -1;
	}
	struct stat sb;
	for (int i = 0; i < n; i++)
		if (r[i].regular && (stat(r[i].path, &sb) != 0 || (uint64_t)sb.st_size < r[i].to)) {
			diag_plain(&h->diag, "cxr: %s: it is shorter than when the run that the state did not finish read it; "
					     "the run cannot go on",
				   r[i].path);
			mem_free(r);
			return -1;
		}
	*out = r;
	return n;
}

/* A state run's checkpoints, from the engine's pause hook. */
struct checkpointing {
	cxr *h;
	char *plan;
	size_t base;          /* index in the sorted events of the events run from */
	uint64_t since;       /* events since the last checkpoint */
	int64_t last_ns;      /* its wall time */
	int failed;
};

int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Save the state as it is before sorted event `applied`; 0, or -1. */
static int checkpoint(cxr *h, struct checkpointing *ck, uint64_t applied)
{
	struct state_progress p = {ck->plan, applied, {0, 0, 0}, 0};
	if (h->flush_outputs && h->flush_outputs(h->flush_ud, p.lengths) < 0)
		return -1;
	if (state_save(h->state, h->engine, &p) < 0)
		return -1;
	ck->since = 0;
	ck->last_ns = wall_ns();
	return 0;
}

static int checkpoint_pause(void *ud, size_t next)
{
	struct checkpointing *ck = ud;
	cxr *h = ck->h;
	ck->since += h->engine->pause_every;
	uint64_t every = h->every_set ? h->every_events : 100000;
	int64_t every_ns = h->every_set ? h->every_ns : 5 * NS_PER_SEC;
	if (!h->stop && !(every && ck->since >= every) && !(every_ns && wall_ns() - ck->last_ns >= every_ns))
		return 0;
	if (checkpoint(h, ck, ck->base + next) < 0) {
		ck->failed = 1;
		return 1;
	}
	return h->stop != 0;
}

/* Events of a state run older than the time the state has reached, by
 * more than `lateness`, came too late: their moment has passed in an
 * earlier run.  As in a stream, `late = reject` rejects them and
 * `late = process` runs them (both count them).  They come first in the
 * sorted events; the number of them is returned. */
static size_t state_late(cxr *h, const struct event *evs, size_t n, int64_t reached)
{
	struct engine *e = h->engine;
	int64_t edge = time_minus(reached, h->prog->lateness);
	size_t k = 0;
	while (k < n && evs[k].time < edge)
		k++;
	e->late += k;
	for (size_t i = 0; i < k && h->prog->late == LATE_REJECT; i++) {
		struct buf why = {0}, by = {0}, limit = {0};
		time_span_format(&by, evs[i].time, reached);
		dur_format(&limit, h->prog->lateness);
		buf_printf(&why,
			   "late: %s older than the time the state has reached (lateness is %s; late = process keeps it)",
			   by.p, limit.p);
		int64_t late_by = time_since(reached, evs[i].time);
		if (late_by > e->tally.late_by)
			e->tally.late_by = late_by;
		engine_reject(e, REJECT_LATE, evs[i].file, evs[i].line, evs[i].line, 0, why.p, "", 0);
		buf_free(&why);
		buf_free(&by);
		buf_free(&limit);
	}
	if (h->prog->late == LATE_PROCESS)
		engine_events(e, evs, k);
	return k;
}

/* The end of a state run that read everything: the inputs are recorded
 * and the state saved, in one transaction. */
static int state_end(cxr *h, const struct state_read *r, int n, int status)
{
	if (status == CXR_INPUT_ERROR)
		return status; /* the output is not kept (cxr run): nor is the state */
	for (int i = 0; i < n; i++)
		if (r[i].regular)
			state_input_read(h->state, r[i].path, r[i].to, r[i].lines);
	/* The outputs reach their files before the state says they are done. */
	struct state_progress p = {plan_text(r, n), 0, {0, 0, 0}, 1};
	if ((h->flush_outputs && h->flush_outputs(h->flush_ud, p.lengths) < 0) || state_save(h->state, h->engine, &p) < 0) {
		mem_free(p.plan);
		return CXR_INPUT_ERROR;
	}
	mem_free(h->resume.plan);
	h->resume = p; /* the same command again has nothing to do */
	return status;
}

int cxr_run_files(cxr *h, const char *const *paths, int npaths)
{
	if (!h->compiled)
		return CXR_INPUT_ERROR;
	if (h->follow && npaths != 1) {
		diag_plain(&h->diag, "cxr: --follow reads one input (a file or stdin), not %d", npaths);
		return CXR_INPUT_ERROR;
	}
	if (h->follow)
		return live_run(h, paths[0]);
	struct state_read *plan = NULL;
	int nplan = 0;
	int64_t reached = h->engine->last_time; /* by the state read, when one was */
	int restored = h->state && h->engine->events > 0;
	if (last_run_again(h, paths, npaths)) {
		diag_plain(&h->diag, "cxr: the state's last run, over these same inputs, has ended: nothing to do (its "
				     "outputs stay as it wrote them)");
		return CXR_OK;
	}
	int resuming = h->state && h->resume.plan && !h->resume.finished;
	if (resuming) {
		nplan = plan_resume(h, paths, npaths, &plan);
		if (nplan < 0)
			return CXR_INPUT_ERROR;
		diag_plain(&h->diag, "cxr: going on with the run the state did not finish, after %llu events",
			   (unsigned long long)h->resume.applied);
	} else if (h->state) {
		nplan = state_plan(h, paths, npaths, &plan);
		if (nplan < 0)
			return CXR_INPUT_ERROR;
		if (nplan == 0) {
			mem_free(plan);
			return state_end(h, NULL, 0, CXR_OK); /* nothing new: the state stays as it is */
		}
	}
	struct store st;
	store_init(&st, h->prog);
	st.strict = h->strict;
	for (int i = 0; i < npaths; i++) {
		struct stat sb; /* stdin, a pipe, a FIFO cannot be read again */
		st.census.streaming |= strcmp(paths[i], "-") == 0 || stat(paths[i], &sb) != 0 || !S_ISREG(sb.st_mode);
	}
	int status = CXR_OK;
	struct progress pg;
	progress_begin(&pg, h->progress, h->progress_ud);
	st.progress = h->progress ? &pg : NULL;
	struct stat sb;
	if (npaths == 1 && !h->sort &&
	    (strcmp(paths[0], "-") == 0 || (stat(paths[0], &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)))) {
		/* stdin alone is a stream: re-ordered within lateness, not whole;
		 * so is a pipe, a FIFO or a device given alone.  A state run over
		 * one takes checkpoints as it goes, as a followed input does. */
		if (h->state && store_format_of(h->prog, paths[0]) != FMT_CSV) {
			store_free(&st);
			progress_end(st.progress);
			mem_free(plan);
			return live_run(h, paths[0]);
		}
		struct stream s;
		stream_init(&s, h->engine, h->prog->lateness, h->prog->late);
		if (restored) { /* the stream goes on from where the state is */
			s.seen = 1;
			s.newest = reached;
		}
		st.sink = stream_event;
		st.sink_ud = &s;
		if (store_read(h->engine, &st, paths[0]) < 0)
			status = CXR_INPUT_ERROR;
		stream_finish(&s);
		if (status == CXR_OK) {
			engine_finish(h->engine, h->flush);
			if (h->engine->runtime_errors)
				status = CXR_RULE_FAILURES;
			if (engine_reject_verdict(h->engine, 1))
				status = CXR_INPUT_ERROR;
			else
				census_warnings(h->prog, &h->diag, &st.census, paths, npaths);
			if (h->state)
				status = state_end(h, plan, nplan, status);
		}
		progress_end(st.progress);
		store_free(&st);
		mem_free(plan);
		return status;
	}
	st.spill = spill_new();
	st.limit = h->memory ? h->memory : default_memory();
	struct engine *e = h->engine;
	/* Going on with a run: its inputs are read again, but what reading
	 * them did (rejects, counts) is in the state already. */
	uint64_t kept[6] = {e->events, e->rejected, e->rejected_lines, e->late, (uint64_t)e->last_time,
			    (uint64_t)e->tally.late_by};
	uint64_t kept_tally[REJECT__COUNT];
	memcpy(kept_tally, e->tally.n, sizeof kept_tally);
	write_fn kept_rejects = e->rejects;
	if (resuming)
		e->rejects = NULL;
	if (h->state) {
		/* Each file up to the size it has now, so that the state records
		 * exactly what was read (a file being written to grows on). */
		for (int i = 0; i < nplan && status == CXR_OK; i++) {
			int rc = plan[i].regular ? store_read_range(h->engine, &st, plan[i].path, plan[i].from, plan[i].to,
								    plan[i].line0, &plan[i].lines)
						 : store_read(h->engine, &st, plan[i].path);
			if (rc < 0)
				status = CXR_INPUT_ERROR;
		}
	} else {
		/* Files are read in parts (on threads, or one on this thread: their
		 * customers are made after reading, with the table fetched ahead). */
		int threads = h->threads > 1 ? h->threads : 1;
		if (store_read_threads(h->engine, &st, paths, npaths, threads, PART_MIN) < 0)
			status = CXR_INPUT_ERROR;
	}
	if (resuming) {
		e->rejects = kept_rejects;
		e->events = kept[0];
		e->rejected = kept[1];
		e->rejected_lines = kept[2];
		e->late = kept[3];
		e->last_time = (int64_t)kept[4];
		e->tally.late_by = (int64_t)kept[5];
		memcpy(e->tally.n, kept_tally, sizeof kept_tally);
	}
	progress_read(&pg);
	h->engine->progress = st.progress;
	if (status == CXR_OK && spill_runs(st.spill)) {
		/* Larger than memory: the rest is a run too, then all are merged. */
		if (spill_store(st.spill, &st, &h->diag) < 0 || spill_merge(st.spill, h->engine, h->prog->nslots) < 0)
			status = CXR_INPUT_ERROR;
		h->engine->spilled_runs = (uint32_t)spill_runs(st.spill);
		h->engine->spilled_bytes = spill_bytes(st.spill);
	} else if (status == CXR_OK) {
		store_sort(&st);
		size_t start = resuming ? (size_t)h->resume.applied : restored ? state_late(h, st.evs, st.n, reached) : 0;
		if (start > st.n)
			start = st.n;
		/* Below a few thousand events, threads cost more than they save;
		 * a state run keeps every timer of one engine (the workers'
		 * would end with them). */
		if (h->threads > 1 && st.n >= 4096 && !h->state && parallel_ok(h->engine)) {
			parallel_run_events(h->engine, st.evs, st.n, h->threads, h->flush);
		} else if (h->state) {
			struct checkpointing ck = {h, plan_text(plan, nplan), start, 0, wall_ns(), 0};
			e->pause = checkpoint_pause;
			e->pause_ud = &ck;
			e->pause_every = 1024;
			e->pause_count = 0;
			e->paused = 0;
			engine_events(e, st.evs + start, st.n - start);
			e->pause = NULL;
			mem_free(ck.plan);
			if (ck.failed)
				status = CXR_INPUT_ERROR;
			else if (e->paused)
				status = CXR_STOPPED;
		} else {
			engine_events(h->engine, st.evs, st.n);
		}
	}
	h->engine->progress = NULL;
	if (status == CXR_STOPPED)
		diag_plain(&h->diag, "cxr: stopped at a checkpoint: the same command goes on from there");
	if (status == CXR_OK) {
		engine_finish(h->engine, h->flush);
		if (h->engine->runtime_errors)
			status = CXR_RULE_FAILURES;
		if (engine_reject_verdict(h->engine, 0))
			status = CXR_INPUT_ERROR;
		else
			census_warnings(h->prog, &h->diag, &st.census, paths, npaths);
		if (h->state)
			status = state_end(h, plan, nplan, status);
	}
	progress_end(st.progress);
	spill_free(st.spill);
	store_free(&st);
	mem_free(plan);
	return status;
}

int cxr_state_open(cxr *h, const char *path, const char *const *resets, int nresets)
{
	if (!h->compiled)
		return CXR_INPUT_ERROR;
	state_close(h->state);
	h->state = state_open(path, &h->diag, CXR_VERSION);
	if (!h->state)
		return CXR_INPUT_ERROR;
	if (state_load(h->state, h->engine, resets, nresets) < 0) {
		state_close(h->state);
		h->state = NULL;
		/* Nothing of a state that did not read whole may be used. */
		engine_free(h->engine);
		h->engine = engine_new(h->prog, &h->diag);
		engine_setup(h);
		return CXR_INPUT_ERROR;
	}
	mem_free(h->resume.plan);
	h->resume.plan = NULL;
	state_unfinished(h->state, &h->resume);
	h->engine->response_ids = 1; /* a consumer drops what a resume says again */
	return CXR_OK;
}

int cxr_state_resume(cxr *h, const char *const *paths, int npaths, uint64_t lengths[3])
{
	if (!h->state || !h->resume.plan || (h->resume.finished && !last_run_again(h, paths, npaths)))
		return 0;
	if (h->resume.finished)
		return 2;
	memcpy(lengths, h->resume.lengths, sizeof h->resume.lengths);
	return 1;
}

void cxr_on_checkpoint(cxr *h, cxr_flush_fn fn, void *ud)
{
	h->flush_outputs = fn;
	h->flush_ud = ud;
}

void cxr_set_checkpoint_every(cxr *h, uint64_t events, double seconds)
{
	h->every_set = 1;
	h->every_events = events;
	h->every_ns = seconds > 0 ? (int64_t)(seconds * 1e9) : 0;
}

void cxr_stop(cxr *h) { h->stop = 1; }
void cxr_reload(cxr *h) { h->reload = 1; }
void cxr_set_follow(cxr *h, int on) { h->follow = on; }
void cxr_set_clock(cxr *h, enum cxr_clock clock) { h->clock_wall = clock == CXR_CLOCK_WALL; }

int cxr_state_save(cxr *h)
{
	if (!h->state || !h->engine)
		return CXR_INPUT_ERROR;
	return state_save(h->state, h->engine, NULL) < 0 ? CXR_INPUT_ERROR : CXR_OK;
}

int cxr_state_describe(cxr *h, const char *path, const char *customer, cxr_write_fn out, void *ud)
{
	struct state_file *s = state_open_read(path, &h->diag, CXR_VERSION);
	if (!s)
		return CXR_INPUT_ERROR;
	struct buf b = {0};
	int rc = state_describe(s, customer, &b);
	if (b.len)
		out(ud, b.p, b.len);
	buf_free(&b);
	state_close(s);
	return rc < 0 ? CXR_INPUT_ERROR : CXR_OK;
}

int cxr_feed_json(cxr *h, const char *json, size_t len, const char *source, uint64_t line)
{
	if (!h->compiled)
		return CXR_INPUT_ERROR;
	if (!h->store_ready) {
		store_init(&h->store, h->prog);
		stream_init(&h->stream, h->engine, h->prog->lateness, h->prog->late);
		h->store.sink = stream_event;
		h->store.sink_ud = &h->stream;
		h->store_ready = 1;
	}
	struct engine *e = h->engine;
	uint32_t file = engine_file(e, source ? source : "<input>");
	return store_read_json_line(e, &h->store, file, line, json, len);
}

int cxr_explain(cxr *h, const char *const *paths, int npaths, const char *customer, const char *rule, int json,
		cxr_write_fn out, void *ud)
{
	if (!h->compiled)
		return CXR_INPUT_ERROR;
	int r = -1;
	if (rule) {
		struct suggest sg;
		struct buf hint = {0};
		suggest_init(&sg, rule, strlen(rule));
		for (int i = 0; i < h->prog->nrules; i++) {
			if (strcmp(h->prog->rules[i].name, rule) == 0)
				r = i;
			suggest_try(&sg, h->prog->rules[i].name, strlen(h->prog->rules[i].name));
		}
		if (r < 0) {
			diag_plain(&h->diag, "cxr: no rule named '%s'%s", rule, suggest_hint(&sg, &hint));
			buf_free(&hint);
			return CXR_INPUT_ERROR;
		}
		buf_free(&hint);
	}
	struct explain *x = explain_new(h->prog, &h->diag, customer, r);
	const struct engine_hooks *watcher = h->engine->hooks;
	h->engine->hooks = explain_hooks(x);
	cxr_write_fn saved = h->out;
	void *saved_ud = h->out_ud;
	cxr_on_output(h, NULL, NULL); /* the story, not the responses */
	int status = cxr_run_files(h, paths, npaths);
	if (explain_check_customer(x, h->engine) < 0) {
		status = CXR_INPUT_ERROR; /* a mistyped key is no story of "no event reached it" */
	} else {
		struct buf b = {0};
		explain_render(x, h->engine, &b, json);
		out(ud, b.p ? b.p : "", b.len);
		buf_free(&b);
	}
	h->engine->hooks = watcher;
	explain_free(x);
	cxr_on_output(h, saved, saved_ud);
	return status;
}

void cxr_test_run(cxr *h, const struct cxr_test_options *opt, struct cxr_test_counts *counts, cxr_write_fn out,
		  void *ud)
{
	if (!h->compiled)
		return;
	struct buf b = {0}, failures = {0};
	struct test_options o = {opt->coverage, opt->select, opt->failed ? &failures : NULL};
	struct test_counts n = {0};
	testrun_run(h->prog, &h->diag, &o, &b, &n);
	out(ud, b.p ? b.p : "", b.len);
	if (opt->failed && failures.len)
		opt->failed(opt->failed_ud, failures.p, failures.len);
	counts->passed += n.passed;
	counts->failed += n.failed;
	counts->deselected += n.deselected;
	buf_free(&b);
	buf_free(&failures);
}

void cxr_run_tests(cxr *h, int coverage, cxr_write_fn out, void *ud, int *passed, int *failed)
{
	struct cxr_test_options o = {coverage, NULL, NULL, NULL};
	struct cxr_test_counts n = {0};
	cxr_test_run(h, &o, &n, out, ud);
	*passed += n.passed;
	*failed += n.failed;
}

void cxr_disasm(cxr *h, cxr_write_fn fn, void *ud)
{
	if (!h->prog)
		return;
	struct buf b = {0};
	prog_disasm(h->prog, &b);
	fn(ud, b.p ? b.p : "", b.len);
	buf_free(&b);
}

void cxr_counts(const cxr *h, struct cxr_counts *out)
{
	memset(out, 0, sizeof *out);
	if (!h->engine)
		return;
	out->events = h->engine->events;
	out->rejected = h->engine->rejected;
	out->responses = h->engine->responses;
	out->runtime_errors = h->engine->runtime_errors;
	out->customers = h->engine->ncusts;
}

static void summary(cxr *h, cxr_write_fn fn, void *ud, int json)
{
	if (!h->engine)
		return;
	struct buf b = {0};
	summary_render(h->engine, &b, json);
	fn(ud, b.p ? b.p : "", b.len);
	buf_free(&b);
}

void cxr_summary(cxr *h, cxr_write_fn fn, void *ud) { summary(h, fn, ud, 0); }
void cxr_summary_json(cxr *h, cxr_write_fn fn, void *ud) { summary(h, fn, ud, 1); }

/* For session.c, which implements the interactive part of cxr.h. */
struct prog *cxr_prog_of(cxr *h) { return h->compiled ? h->prog : NULL; }
struct engine *cxr_engine_of(cxr *h) { return h->engine; }
struct diag *cxr_diag_of(cxr *h) { return &h->diag; }
int cxr_roots_of(cxr *h, const char *const **roots)
{
	*roots = (const char *const *)h->roots;
	return h->nroots;
}

int cxr_explain_begin(cxr *h, const char *customer, const char *rule, cxr_write_fn stream, void *ud)
{
	if (!h->compiled)
		return CXR_INPUT_ERROR;
	int r = -1;
	for (int i = 0; rule && i < h->prog->nrules; i++)
		if (strcmp(h->prog->rules[i].name, rule) == 0)
			r = i;
	if (rule && r < 0) {
		diag_plain(&h->diag, "cxr: no rule named '%s'", rule);
		return CXR_INPUT_ERROR;
	}
	explain_free(h->explain);
	h->explain = explain_new(h->prog, &h->diag, customer, r);
	explain_stream(h->explain, stream, ud);
	h->engine->hooks = explain_hooks(h->explain);
	return CXR_OK;
}

int cxr_explain_finish(cxr *h, int json, cxr_write_fn out, void *ud)
{
	if (!h->engine || !h->explain)
		return CXR_OK;
	int status = CXR_OK;
	if (out && explain_check_customer(h->explain, h->engine) < 0) {
		status = CXR_INPUT_ERROR;
	} else if (out) {
		struct buf b = {0};
		explain_render(h->explain, h->engine, &b, json);
		out(ud, b.p ? b.p : "", b.len);
		buf_free(&b);
	}
	h->engine->hooks = NULL;
	explain_free(h->explain);
	h->explain = NULL;
	return status;
}

void cxr_explain_end(cxr *h, int json, cxr_write_fn out, void *ud) { cxr_explain_finish(h, json, out, ud); }
