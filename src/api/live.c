/* live.c: a run over an input that grows (`cxr run --follow`).
 *
 * A batch run reads its files whole and sorts them; a live run cannot
 * wait for an end, so its one input (a file followed the way `tail -F`
 * follows it, or stdin) is a stream, re-ordered within `lateness`
 * (io/stream.c), and the source waits at its end (base/source.c,
 * follow_read).  While it waits, live_wait does the idle work: time
 * moves on with the wall clock (`--clock wall`), outputs are flushed so
 * that a reader sees each response soon after its moment, and a state
 * run takes its checkpoints.
 *
 * A checkpoint of a live run records where the input was read to (the
 * file's device, inode, offset and lines) and the records still held
 * back for re-ordering (they have not run yet), so that a resume after
 * a kill reads them again and then goes on from the offset: the outputs
 * then are those of an uninterrupted run.  SIGHUP (cxr_reload) compiles
 * the script again; when it compiles, the state goes over to the new
 * rules by name (snap_carry) and the held records are read again with
 * them; when it does not, its errors are told and the old rules go on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "handle_int.h"

#include "base/source.h"
#include "base/timeutil.h"
#include "engine/snapshot.h"
#include "vm/prog.h"

struct held_record {
	uint64_t line;
	char *raw;
	size_t len;
};

struct live {
	cxr *h;
	const char *path;      /* as given; "-" is stdin */
	struct source *src;
	struct store st;
	struct stream stream;
	uint32_t file;
	uint64_t since;        /* events since the last checkpoint */
	uint64_t saved_offset; /* of the input at the last checkpoint */
	int64_t last_ns;       /* its monotonic time */
	int moved;             /* the clock fired timers since then */
	int failed;            /* a checkpoint could not be saved: the run ends */
};

/* ---- the plan a checkpoint records ---- */

/* "live\tdev\tino\toffset\tlines\tnewest\tseen\tpath\n", then a line
 * "held\tline\trecord\n" per record held back, in arrival order. */
static char *live_plan(struct live *L)
{
	uint64_t dev = 0, ino = 0;
	if (strcmp(L->path, "-") != 0)
		(void)src_identity(L->src, &dev, &ino);
	struct buf b = {0};
	buf_printf(&b, "live\t%llu\t%llu\t%llu\t%llu\t%lld\t%d\t", (unsigned long long)dev, (unsigned long long)ino,
		   (unsigned long long)src_offset(L->src), (unsigned long long)src_lines(L->src),
		   (long long)L->stream.newest, L->stream.seen);
	plan_escape(&b, L->path, strlen(L->path));
	buf_addc(&b, '\n');
	/* The heap's order is not arrival order: seq is. */
	size_t n = L->stream.n;
	const struct stream_item **by = mem_alloc(sizeof *by * (n + 1));
	for (size_t i = 0; i < n; i++)
		by[i] = &L->stream.heap[i];
	for (size_t i = 1; i < n; i++) /* few, and nearly in order: insertion */
		for (size_t j = i; j > 0 && by[j - 1]->seq > by[j]->seq; j--) {
			const struct stream_item *t = by[j];
			by[j] = by[j - 1];
			by[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "held\t%llu\t", (unsigned long long)by[i]->ev->line);
		plan_escape(&b, by[i]->raw ? by[i]->raw : "", by[i]->rawlen);
		buf_addc(&b, '\n');
	}
	mem_free(by);
	buf_addc(&b, 0);
	return b.p;
}

struct live_position {
	uint64_t dev, ino, offset, lines;
	int64_t newest;
	int seen;
	struct held_record *held;
	size_t nheld;
};

static void free_held(struct held_record *held, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mem_free(held[i].raw);
	mem_free(held);
}

/* Parse a live plan for path: 0, or -1 when it is not one of path. */
static int live_plan_parse(const char *plan, const char *path, struct live_position *pos)
{
	memset(pos, 0, sizeof *pos);
	unsigned long long dev, ino, offset, lines, line;
	long long newest;
	int seen, used = 0;
	const char *nl = strchr(plan, '\n');
	if (!nl || sscanf(plan, "live\t%llu\t%llu\t%llu\t%llu\t%lld\t%d\t%n", &dev, &ino, &offset, &lines, &newest, &seen,
			  &used) != 6 || !used)
		return -1;
	struct buf p = {0};
	plan_unescape(&p, plan + used, (size_t)(nl - plan - used));
	int same = strcmp(p.p ? p.p : "", path) == 0;
	buf_free(&p);
	if (!same)
		return -1;
	*pos = (struct live_position){dev, ino, offset, lines, newest, seen, NULL, 0};
	size_t cap = 0;
	for (const char *at = nl + 1; *at; at = nl + 1) {
		nl = strchr(at, '\n');
		if (!nl || sscanf(at, "held\t%llu\t%n", &line, &used) != 1 || !used) {
			free_held(pos->held, pos->nheld);
			return -1;
		}
		if (pos->nheld == cap) {
			cap = cap ? cap * 2 : 16;
			pos->held = mem_realloc(pos->held, sizeof *pos->held * cap);
		}
		struct buf raw = {0};
		plan_unescape(&raw, at + used, (size_t)(nl - at - used));
		pos->held[pos->nheld++] = (struct held_record){line, raw.p ? raw.p : mem_strndup("", 0), raw.len};
	}
	return 0;
}

int live_plan_is(const char *plan, const char *path)
{
	struct live_position pos;
	if (live_plan_parse(plan, path, &pos) < 0)
		return 0;
	free_held(pos.held, pos.nheld);
	return 1;
}

/* ---- checkpoints, the idle work ---- */

/* clock: look at the wall clock too (per event only every 256: it is
 * the hot path). */
static int checkpoint_due(struct live *L, int clock)
{
	cxr *h = L->h;
	uint64_t every = h->every_set ? h->every_events : 100000;
	int64_t every_ns = h->every_set ? h->every_ns : 5 * NS_PER_SEC;
	int changed = L->since || L->moved || src_offset(L->src) != L->saved_offset;
	return changed && ((every && L->since >= every) || (clock && every_ns && wall_ns() - L->last_ns >= every_ns));
}

static int live_checkpoint(struct live *L, int finished)
{
	cxr *h = L->h;
	struct state_progress p = {live_plan(L), h->engine->events, {0, 0, 0}, finished};
	int rc = 0;
	if ((h->flush_outputs && h->flush_outputs(h->flush_ud, p.lengths) < 0) || state_save(h->state, h->engine, &p) < 0)
		rc = -1;
	mem_free(p.plan);
	L->since = 0;
	L->moved = 0;
	L->saved_offset = src_offset(L->src);
	L->last_ns = wall_ns();
	if (rc < 0)
		L->failed = 1;
	return rc;
}

/* After each event: stop reading for a stop or a reload, or checkpoint. */
static void live_event(void *ud, const struct event *ev, const char *raw, size_t rawlen)
{
	struct live *L = ud;
	cxr *h = L->h;
	stream_event(&L->stream, ev, raw, rawlen);
	L->since++;
	if (h->stop || h->reload)
		L->st.halt = 1;
	else if (h->state && checkpoint_due(L, L->since % 256 == 0) && live_checkpoint(L, 0) < 0)
		L->st.halt = 1;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* --clock wall: the input is idle, and time goes on all the same; what
 * might still come is at most `lateness` old. */
static void wall_clock(struct live *L)
{
	struct engine *e = L->h->engine;
	int64_t now = realtime_ns();
	uint64_t before = e->responses;
	stream_advance(&L->stream, now);
	int64_t t = time_minus(now, L->stream.lateness);
	engine_timers_until(e, t, 0);
	if (!e->clock_set || t > e->clock) {
		e->clock = t;
		e->clock_set = 1;
	}
	L->moved |= e->responses != before;
}

static int live_wait(void *ud, enum src_news news)
{
	struct live *L = ud;
	cxr *h = L->h;
	if (news == SRC_REPLACED)
		diag_plain(&h->diag, "cxr: %s: another file has its name now (rotated): reading that one from its start",
			   L->path);
	if (news == SRC_TRUNCATED)
		diag_plain(&h->diag, "cxr: %s: truncated: reading it again from its start", L->path);
	if (news != SRC_IDLE)
		return 0;
	if (h->stop || h->reload || L->failed)
		return 1;
	if (h->clock_wall)
		wall_clock(L);
	if (h->state && checkpoint_due(L, 1))
		return live_checkpoint(L, 0) < 0;
	uint64_t lengths[3];
	if (h->flush_outputs && h->flush_outputs(h->flush_ud, lengths) < 0) {
		L->failed = 1; /* told by the hook */
		return 1;
	}
	return 0;
}

/* ---- reading ---- */

/* Set up the store and the stream for the engine now running, and read
 * the held records again (a resume, a reload). */
static void live_begin(struct live *L, int64_t newest, int seen, struct held_record *held, size_t nheld)
{
	cxr *h = L->h;
	store_init(&L->st, h->prog);
	L->st.strict = h->strict;
	L->st.sink = live_event;
	L->st.sink_ud = L;
	stream_init(&L->stream, h->engine, h->prog->lateness, h->prog->late);
	L->stream.keep_raw = 1;
	L->stream.newest = newest;
	L->stream.seen = seen;
	L->file = engine_file(h->engine, strcmp(L->path, "-") == 0 ? "<stdin>" : L->path);
	uint64_t since = L->since;
	for (size_t i = 0; i < nheld; i++)
		store_read_json_line(h->engine, &L->st, L->file, held[i].line, held[i].raw, held[i].len);
	L->since = since; /* read before */
}

/* The records held back now, in arrival order (for the caller to free). */
static struct held_record *take_held(struct live *L, size_t *n)
{
	struct live_position pos;
	char *plan = live_plan(L);
	int rc = live_plan_parse(plan, L->path, &pos);
	mem_free(plan);
	*n = rc == 0 ? pos.nheld : 0;
	return rc == 0 ? pos.held : NULL;
}

static void say_lines(cxr *h, const char *prefix, const struct buf *b)
{
	for (const char *line = b->p, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		diag_plain(&h->diag, "%s%.*s", prefix, (int)(nl - line), line);
	}
}

/* SIGHUP: the script compiled again takes over, with the state, or the
 * old rules go on. */
static void live_reload(struct live *L)
{
	cxr *h = L->h;
	if (!h->script) {
		diag_plain(&h->diag, "cxr: reload: the rules were not read from a file: nothing to read again");
		return;
	}
	size_t len;
	char *text = mem_read_file(h->script, &len);
	if (!text) {
		diag_plain(&h->diag, "cxr: reload: cannot read %s: %s; the rules loaded before keep running", h->script,
			   strerror(errno));
		return;
	}
	int errors;
	struct prog *p = compile_prog(h, h->script, text, len, &errors);
	mem_free(text);
	if (errors) {
		diag_plain(&h->diag, "cxr: reload: %s has %d error%s (above): the rules loaded before keep running", h->script,
			   errors, errors == 1 ? "" : "s");
		prog_free(p);
		return;
	}
	struct engine *next = engine_new(p, &h->diag);
	struct buf report = {0};
	if (snap_carry(h->engine, next, &report) < 0) {
		diag_plain(&h->diag, "cxr: reload: the state does not go over to the new rules: the rules loaded before "
				     "keep running");
		buf_free(&report);
		engine_free(next);
		prog_free(p);
		return;
	}
	struct buf prefix = {0};
	buf_printf(&prefix, "cxr: reload: %s: note: ", h->script);
	say_lines(h, prefix.p, &report);
	buf_free(&prefix);
	buf_free(&report);
	size_t nheld;
	struct held_record *held = take_held(L, &nheld);
	int64_t newest = L->stream.newest;
	int seen = L->stream.seen;
	stream_drop(&L->stream);
	stream_finish(&L->stream);
	store_free(&L->st);
	next->response_ids = h->engine->response_ids;
	engine_free(h->engine);
	prog_free(h->prog);
	h->prog = p;
	h->engine = next;
	engine_setup(h);
	if (h->state) {
		state_rules_changed(h->state);
		engine_track_changes(next);
	}
	live_begin(L, newest, seen, held, nheld);
	free_held(held, nheld);
	diag_plain(&h->diag, "cxr: reload: %s: %d rule%s running, with the state so far", h->script, p->nrules,
		   p->nrules == 1 ? "" : "s");
}

/* Open the input where the state's unfinished run left it, or at its
 * start. */
static struct source *live_open(struct live *L, const struct live_position *pos, int resuming)
{
	cxr *h = L->h;
	char err[256];
	if (strcmp(L->path, "-") == 0)
		return src_open("-", err, sizeof err);
	struct source *src = NULL;
	struct stat sb;
	if (resuming && pos->offset && stat(L->path, &sb) == 0 && (uint64_t)sb.st_dev == pos->dev &&
	    (uint64_t)sb.st_ino == pos->ino && (uint64_t)sb.st_size >= pos->offset) {
		src = src_open_range(L->path, pos->offset, UINT64_MAX, err, sizeof err);
		if (src)
			src_set_lines(src, pos->lines);
	} else {
		if (resuming && pos->offset)
			diag_plain(&h->diag,
				   "cxr: %s: not the file the run was reading (replaced or cut since): reading it from its start",
				   L->path);
		src = src_open(L->path, err, sizeof err);
	}
	if (!src)
		diag_plain(&h->diag, "cxr: cannot open %s: %s", L->path, err);
	return src;
}

int live_run(cxr *h, const char *path)
{
	if (store_format_of(h->prog, path) == FMT_CSV) {
		diag_plain(&h->diag, "cxr: --follow reads JSON Lines; %s is CSV", strcmp(path, "-") ? path : "stdin");
		return CXR_INPUT_ERROR;
	}
	struct live L;
	memset(&L, 0, sizeof L);
	L.h = h;
	L.path = path;
	struct live_position pos;
	memset(&pos, 0, sizeof pos);
	int resuming = h->state && h->resume.plan && !h->resume.finished;
	if (resuming && live_plan_parse(h->resume.plan, path, &pos) < 0) {
		diag_plain(&h->diag, "cxr: the state holds a run that did not finish (killed or stopped after %llu events): "
				     "give the same inputs, in the same order, to go on with it",
			   (unsigned long long)h->resume.applied);
		return CXR_INPUT_ERROR;
	}
	if (!resuming && h->state && h->engine->events) { /* the stream goes on from where the state is */
		pos.newest = h->engine->last_time;
		pos.seen = 1;
	}
	L.src = live_open(&L, &pos, resuming);
	if (!L.src) {
		free_held(pos.held, pos.nheld);
		return CXR_INPUT_ERROR;
	}
	if (resuming)
		diag_plain(&h->diag, "cxr: going on with the run the state did not finish, after %llu events",
			   (unsigned long long)h->resume.applied);
	src_follow(L.src, path, live_wait, &L);
	L.saved_offset = src_offset(L.src);
	L.last_ns = wall_ns();
	live_begin(&L, pos.newest, pos.seen, pos.held, pos.nheld);
	free_held(pos.held, pos.nheld);
	int status = CXR_OK;
	for (;;) {
		if (store_follow(h->engine, &L.st, L.src, L.file) < 0 || L.failed) {
			status = CXR_INPUT_ERROR;
			break;
		}
		if (!h->reload || h->stop)
			break;
		h->reload = 0;
		live_reload(&L);
		src_follow_again(L.src);
	}
	if (status == CXR_OK && h->stop && h->state) {
		status = live_checkpoint(&L, 0) < 0 ? CXR_INPUT_ERROR : CXR_STOPPED;
		if (status == CXR_STOPPED)
			diag_plain(&h->diag, "cxr: stopped at a checkpoint: the same command goes on from there");
	} else if (status == CXR_OK) {
		/* The end of the input (its writer closed it), or a stop with
		 * no state to go on from: what is held back runs now. */
		stream_flush(&L.stream);
		engine_finish(h->engine, h->flush);
		if (h->engine->runtime_errors)
			status = CXR_RULE_FAILURES;
		if (engine_reject_verdict(h->engine, 0))
			status = CXR_INPUT_ERROR;
		if (h->state && status != CXR_INPUT_ERROR && live_checkpoint(&L, 1) < 0)
			status = CXR_INPUT_ERROR;
	}
	stream_finish(&L.stream);
	store_free(&L.st);
	src_close(L.src);
	return status;
}
