/* parallel.c: the rules on several threads, with the output of one.
 *
 * Customers are spread over worker engines by their index; each
 * worker runs every event of its customers, in time order, with their
 * timers, and keeps what it says (responses, audit lines, runtime errors,
 * metric observations) with the step that said it: an event, or a timer
 * firing.  One engine orders its steps so: by time; at one time, the
 * events (in log order) before the timers due then, since a timer fires
 * before the first later event; timers of one deadline in the order they
 * were set, which is the order of the steps that set them.  Each worker's
 * steps are already in that order, so merging the workers' steps by it
 * gives back, byte for byte, what one engine says; a step's place in the
 * merge (its ordinal) is known before any timer it set comes up, as a
 * timer is set before it fires.  Observations are added to the metrics in
 * that order too, so even floating-point sums come out the same.
 *
 * Journeys (stage counts over all customers), SLAs, goals and budgets
 * (shared by all customers) run on one thread (parallel_ok).  The
 * workers share the customer records, each touching only its own.
 */
#include <pthread.h>
#include <string.h>

#include "base/diag.h"
#include "parallel.h"
#include "vm/vm.h"

/* An event or a timer firing of one worker that said something or set a
 * timer: the ones that did neither do not matter to the order. */
struct step {
	int64_t time;         /* the event's, or the timer's deadline */
	int timer;            /* 0: an event, before timers at the same time */
	uint64_t pos;         /* an event's position in the log */
	uint32_t born;        /* a timer's: the step that set it */
	uint64_t ordinal;     /* its place in the merge, once merged */
};

enum piece_kind { PIECE_OUT, PIECE_AUDIT, PIECE_DIAG, PIECE_OBSERVE };

struct piece {
	uint32_t step;        /* the step that said it */
	enum piece_kind kind;
	int metric;           /* PIECE_OBSERVE; PIECE_DIAG: the rule of a runtime error, or -1 */
	struct observation o;
	size_t off, len;      /* its bytes in the capture's text (the key of an observation) */
};

/* A worker's engine_sink, and where its engine's out, audit and diag
 * write. */
struct capture {
	struct engine_sink sink;
	struct buf text;
	struct piece *pieces;
	size_t n;
	uint64_t pos;         /* the position of the worker's next event */
	int rule;             /* the rule of the runtime error being told, or -1 */
	struct step cur;      /* what runs now ... */
	int recorded;         /* ... and whether it is steps[nsteps - 1] */
	struct step *steps;
	uint32_t nsteps;
	uint32_t *born;       /* [seq]: the step that set the engine's seq-th timer */
	uint64_t nborn;
};

/* The step running, recorded on first need: it said something or set a
 * timer. */
static uint32_t capture_step(struct capture *c)
{
	if (!c->recorded) {
		c->steps = mem_grow(c->steps, c->nsteps, sizeof *c->steps);
		c->steps[c->nsteps++] = c->cur;
		c->recorded = 1;
	}
	return c->nsteps - 1;
}

static void capture_position(void *ud, uint64_t pos)
{
	struct capture *c = ud;
	c->pos = pos;
}

static void capture_event_step(void *ud, int64_t time)
{
	struct capture *c = ud;
	c->cur = (struct step){time, 0, c->pos, 0, 0};
	c->recorded = 0;
}

/* Which step set a timer is kept here, by the timer's seq (each setting
 * of a timer takes the next, from 1), rather than in struct timer: the
 * timers of a run on one thread stay as small as they were. */
static void capture_timer_set(void *ud, uint64_t seq)
{
	struct capture *c = ud;
	while (c->nborn <= seq) {
		c->born = mem_grow(c->born, c->nborn, sizeof *c->born);
		c->born[c->nborn++] = 0;
	}
	c->born[seq] = capture_step(c);
}

static void capture_timer_step(void *ud, int64_t deadline, uint64_t seq)
{
	struct capture *c = ud;
	c->cur = (struct step){deadline, 1, 0, c->born[seq], 0};
	c->recorded = 0;
}

static struct piece *piece_new(struct capture *c, enum piece_kind kind, const char *p, size_t n)
{
	c->pieces = mem_grow(c->pieces, c->n, sizeof *c->pieces);
	struct piece *x = &c->pieces[c->n++];
	memset(x, 0, sizeof *x);
	x->kind = kind;
	x->step = capture_step(c);
	x->off = c->text.len;
	x->len = n;
	buf_add(&c->text, p, n);
	return x;
}

static void capture_out(void *ud, const char *p, size_t n) { piece_new(ud, PIECE_OUT, p, n); }

static void capture_audit(void *ud, const char *p, size_t n) { piece_new(ud, PIECE_AUDIT, p, n); }

static void capture_observation(void *ud, int metric, const char *key, size_t keylen, const struct observation *o)
{
	struct piece *x = piece_new(ud, PIECE_OBSERVE, key, keylen);
	x->metric = metric;
	x->o = *o;
}

static void capture_rule(void *ud, int rule)
{
	struct capture *c = ud;
	c->rule = rule;
}

static void diag_to_capture(void *ud, const char *msg, size_t len)
{
	struct capture *c = ud;
	piece_new(c, PIECE_DIAG, msg, len)->metric = c->rule;
	c->rule = -1;
}

int parallel_ok(const struct engine *e)
{
	const struct prog *p = e->prog;
	if (p->njourneys || p->nslas || p->ngoals || p->nbudgets || e->hooks || e->vm->trace || e->vm->covered)
		return 0;
	for (int r = 0; r < p->nrules; r++)
		if (p->rules[r].trigger != T_REPEAT && p->rules[r].trigger != T_EVENTS)
			return 0;
	return 1;
}

struct worker {
	struct engine *e;
	struct diag diag;
	struct capture cap;
	const struct event *evs;
	size_t n;
	uint32_t k, nk;
	int64_t last_time;    /* of the whole log: timers due by then fire at the end */
	int flush;
	uint32_t at_step;     /* the merge: the next step, and its first piece */
	size_t at_piece;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	/* Customers go by their index: a worker never reads another's. */
	engine_events_of(w->e, w->evs, w->n, w->k, w->nk);
	if (w->e->events)
		w->e->last_time = w->last_time;
	engine_finish(w->e, w->flush);
	return NULL;
}

/* Does worker a's next step come before worker b's in one engine's order? */
static int step_before(const struct worker *a, const struct worker *b)
{
	const struct step *x = &a->cap.steps[a->at_step], *y = &b->cap.steps[b->at_step];
	if (x->time != y->time)
		return x->time < y->time;
	if (x->timer != y->timer)
		return !x->timer;
	if (!x->timer)
		return x->pos < y->pos;
	return a->cap.steps[x->born].ordinal < b->cap.steps[y->born].ordinal;
}

void parallel_run_events(struct engine *e, const struct event *evs, size_t n, int threads, int flush)
{
	int64_t last = n && (!e->events || evs[n - 1].time > e->last_time) ? evs[n - 1].time : e->last_time;
	struct worker *ws = mem_alloc(sizeof *ws * (size_t)threads);
	pthread_t *tids = mem_alloc(sizeof *tids * (size_t)threads);
	int *started = mem_alloc(sizeof *started * (size_t)threads);
	for (int k = 0; k < threads; k++) {
		struct worker *w = &ws[k];
		diag_init(&w->diag);
		w->diag.sink = diag_to_capture;
		w->diag.ud = &w->cap;
		w->diag.files = e->diag->files; /* to name the rules' lines; not the worker's */
		w->diag.nfiles = e->diag->nfiles;
		w->diag.color = e->diag->color;
		w->cap.rule = -1;
		w->cap.sink = (struct engine_sink){.ud = &w->cap,
						   .runtime_error = capture_rule,
						   .observation = capture_observation,
						   .position = capture_position,
						   .event_step = capture_event_step,
						   .timer_set = capture_timer_set,
						   .timer_step = capture_timer_step};
		struct engine *we = engine_new(e->prog, &w->diag);
		we->custs = e->custs; /* shared: each worker has its own customers */
		we->ncusts = e->ncusts;
		we->files = e->files;
		we->nfiles = e->nfiles;
		we->format = e->format;
		we->header_written = 1;
		we->out = capture_out; /* all kept: the merge tells them to e->out */
		we->out_ud = &w->cap;
		we->audit = e->audit ? capture_audit : NULL; /* NULL: held-out responses are not rendered */
		we->audit_ud = &w->cap;
		we->trigger_ids = e->trigger_ids;
		we->sink = &w->cap.sink;
		w->e = we;
		w->evs = evs;
		w->n = n;
		w->k = (uint32_t)k;
		w->nk = (uint32_t)threads;
		w->last_time = last;
		w->flush = flush;
	}
	ws[0].e->progress = e->progress; /* the worker on this thread tells how far the rules are */
	for (int k = 1; k < threads; k++)
		started[k] = pthread_create(&tids[k], NULL, worker_main, &ws[k]) == 0;
	worker_main(&ws[0]);
	for (int k = 1; k < threads; k++) {
		if (started[k])
			pthread_join(tids[k], NULL);
		else
			worker_main(&ws[k]);
	}
	/* Say it all in one engine's order, step by step. */
	uint64_t *told = mem_alloc(sizeof *told * (size_t)(e->prog->nrules + 1)); /* runtime errors per rule */
	uint64_t ordinal = 0;
	for (;;) {
		int next = -1;
		for (int k = 0; k < threads; k++)
			if (ws[k].at_step < ws[k].cap.nsteps && (next < 0 || step_before(&ws[k], &ws[next])))
				next = k;
		if (next < 0)
			break;
		struct worker *w = &ws[next];
		uint32_t step = w->at_step++;
		w->cap.steps[step].ordinal = ordinal++;
		for (; w->at_piece < w->cap.n && w->cap.pieces[w->at_piece].step == step; w->at_piece++) {
		const struct piece *x = &w->cap.pieces[w->at_piece];
		const char *text = w->cap.text.p + x->off;
		switch (x->kind) {
		case PIECE_OUT:
			if (e->format == OUT_CSV)
				engine_csv_header(e);
			if (e->out)
				e->out(e->out_ud, text, x->len);
			break;
		case PIECE_AUDIT:
			e->audit(e->audit_ud, text, x->len);
			break;
		case PIECE_DIAG:
			/* As one engine tells them: five per rule, then a line. */
			if (x->metric >= 0 && ++told[x->metric] > 5) {
				if (told[x->metric] == 6)
					diag_plain(e->diag, "note: rule %s: more runtime errors, counted in the summary",
						   e->prog->rules[x->metric].name);
				break;
			}
			if (e->diag->sink)
				e->diag->sink(e->diag->ud, text, x->len);
			break;
		case PIECE_OBSERVE:
			measure_add(e, x->metric, text, x->len, &x->o);
			break;
		}
		}
	}
	/* The counts are sums; the latest time is the latest of all. */
	int any = e->events > 0;
	for (int k = 0; k < threads; k++) {
		struct engine *we = ws[k].e;
		if (we->events) {
			if (!any || we->last_time > e->last_time)
				e->last_time = we->last_time;
			any = 1;
		}
		e->events += we->events;
		e->pending += we->pending;
		e->responses += we->responses;
		e->runtime_errors += we->runtime_errors;
		for (int r = 0; r < e->prog->nrules; r++) {
			struct rule_stats *a = &e->stats[r], *b = &we->stats[r];
			a->fired += b->fired;
			a->deduped += b->deduped;
			a->capped += b->capped;
			a->held_out += b->held_out;
			a->budget_exhausted += b->budget_exhausted;
			a->errors += b->errors;
		}
		/* Patterns still pending are in this worker's heap: free them here. */
		for (uint32_t c = (uint32_t)k; c < we->ncusts; c += (uint32_t)threads)
			engine_free_pending(we, c);
		we->custs = NULL; /* the main engine's, freed with it */
		we->ncusts = 0;
		we->files = NULL;
		we->nfiles = 0;
		engine_free(we);
		ws[k].diag.files = NULL;
		ws[k].diag.nfiles = 0;
		diag_free(&ws[k].diag);
		buf_free(&ws[k].cap.text);
		mem_free(ws[k].cap.pieces);
		mem_free(ws[k].cap.steps);
		mem_free(ws[k].cap.born);
	}
	mem_free(told);
	mem_free(ws);
	mem_free(tids);
	mem_free(started);
}
