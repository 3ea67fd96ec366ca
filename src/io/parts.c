/* parts.c: one file read in parts on threads, the parts taken in order.
 *
 * A regular JSON Lines file is cut at line ends (src_split_lines) into
 * parts that worker threads read into stores of their own (the events
 * keep their key's hash; no customer is made off the calling thread);
 * the calling thread takes each finished part in file order, as if it had
 * read it itself, so that the result is byte for byte that of one thread.
 * The other half of reading, one record at a time, is ingest.c.
 */
#include "ingest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/progress.h"
#include "base/source.h"

/* Bytes [from, to) of a file as a store of its own, on any thread: events
 * keep their key's hash (no customer yet), lines count from the part's
 * start, and rejects and read errors wait in st.  A CSV file is read
 * whole (a cell may hold a newline), as the only part of its file: on
 * the calling thread, which may speak of its header through e. */
static void store_read_part(struct engine *e, struct store *st, const char *path, uint32_t file, uint64_t from,
			    uint64_t to)
{
	char err[256];
	st->part = 1;
	int csv = store_format_of(st->prog, path) == FMT_CSV;
	struct source *src = csv ? src_open(path, err, sizeof err) : src_open_range(path, from, to, err, sizeof err);
	if (!src)
		buf_adds(&st->read_error, err);
	else if (store_ingest(csv ? e : NULL, st, src, file, path) == -2 && csv)
		st->failed = 1; /* said already (a CSV read error too) */
}

/* Take a part's events into st, in order, as if just read: its lines
 * move by line_offset, its rejects are reported, its customers made, and
 * its bytes and events told to st's progress (unless the part told them
 * as it read).  The part must outlive st.  Returns -1 when --strict
 * stops at a reject. */
static int store_adopt(struct engine *e, struct store *st, struct store *part, uint64_t line_offset, uint64_t bytes)
{
	for (size_t i = 0; i < part->nrejects; i++) {
		const struct part_reject *r = &part->rejects[i];
		if (store_reject(e, st, r->kind, r->file, r->line + line_offset, r->last_line + line_offset, r->col, r->why, r->raw, r->rawlen) < 0)
			return -1;
	}
	census_merge(&st->census, &part->census, st->prog->ntypes);
	if (part->unread) {
		e->events += part->unread;
		if (part->unread_last > e->last_time || e->events == part->unread)
			e->last_time = part->unread_last;
	}
	/* The first part's array becomes st's: no copy, nor twice the memory. */
	const struct event *from = part->evs;
	size_t n = part->n;
	if (!st->n) {
		mem_free(st->evs);
		st->evs = part->evs;
		st->cap = part->cap;
		part->evs = NULL;
	}
	enum { AHEAD = 16 };
	int64_t latest = part->unread ? part->unread_last : INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		if (from[i].time > latest)
			latest = from[i].time;
		/* The customer table is read at random: fetch ahead. */
		if (i + AHEAD < n)
			engine_customer_prefetch(e, from[i + AHEAD].cust, 0);
		if (i + AHEAD / 2 < n)
			engine_customer_prefetch(e, from[i + AHEAD / 2].cust, 1);
		struct event ev = from[i];
		char num[64];
		const char *key = "";
		size_t keylen = 0;
		store_event_key(&ev.slots[SLOT_KEY], num, &key, &keylen); /* make_event checked it */
		ev.cust = engine_customer_hashed(e, key, keylen, ev.cust);
		ev.line += line_offset;
		store_push(st, &ev); /* in place, or after what st had */
	}
	if (!part->progress)
		progress_add(st->progress, bytes, n + part->unread, latest);
	/* The events are st's now; their values stay in the part's arena. */
	mem_free(part->evs);
	part->evs = NULL;
	part->n = part->cap = 0;
	return 0;
}

struct part_job {
	struct engine *e;   /* for a CSV file's one part only */
	struct store *st;
	const char *path;
	uint32_t file;
	uint64_t from, to;
};

static void *part_main(void *arg)
{
	struct part_job *job = arg;
	store_read_part(job->e, job->st, job->path, job->file, job->from, job->to);
	return NULL;
}

/* The parts of one file: handed out in order to whoever is free (the
 * worker threads, and this thread between taking parts), and taken in
 * order by this thread only.  Parts are read at most `ahead` beyond the
 * last one taken, which bounds the memory of parts read but not taken. */
struct queue {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct part_job *jobs;
	int *state;  /* per part: 0 waiting, 1 being read, 2 read */
	int n, next, taken, ahead;
	int stop;    /* a part failed: hand out no more */
};

/* The next part to read, or -1 when there is none (now, unless wait). */
static int queue_take(struct queue *q, int wait)
{
	int k = -1;
	pthread_mutex_lock(&q->lock);
	while (!q->stop && q->next < q->n) {
		if (q->next < q->taken + q->ahead) {
			k = q->next++;
			q->state[k] = 1;
			break;
		}
		if (!wait)
			break;
		pthread_cond_wait(&q->changed, &q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return k;
}

static void queue_set(struct queue *q, int *field, int value)
{
	pthread_mutex_lock(&q->lock);
	*field = value;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

static void queue_read(struct queue *q, int k)
{
	part_main(&q->jobs[k]);
	queue_set(q, &q->state[k], 2);
}

static void *queue_worker(void *arg)
{
	struct queue *q = arg;
	int k;
	while ((k = queue_take(q, 1)) >= 0)
		queue_read(q, k);
	return NULL;
}

/* Wait until part k is read, reading others meanwhile. */
static void queue_wait(struct queue *q, int k)
{
	for (;;) {
		pthread_mutex_lock(&q->lock);
		int ready = q->state[k] == 2;
		pthread_mutex_unlock(&q->lock);
		if (ready)
			return;
		int other = queue_take(q, 0);
		if (other >= 0) {
			queue_read(q, other);
			continue;
		}
		/* Part k is being read by a worker: nothing else to do. */
		pthread_mutex_lock(&q->lock);
		while (q->state[k] != 2)
			pthread_cond_wait(&q->changed, &q->lock);
		pthread_mutex_unlock(&q->lock);
		return;
	}
}

/* A file's parts read on `threads` threads and taken in order: each
 * part's events and values become st's as it is taken.  When st outgrows
 * --memory it goes to a run on disk. */
static int read_in_parts(struct engine *e, struct store *st, const char *path, const uint64_t *cuts, int n,
			 int threads, uint64_t line0, uint64_t *lines_out)
{
	uint32_t file = engine_file(e, path);
	struct store *mine = mem_alloc(sizeof *mine * (size_t)n);
	struct queue q = {.n = n, .ahead = 2 * threads};
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.changed, NULL);
	q.jobs = mem_alloc(sizeof *q.jobs * (size_t)n);
	q.state = mem_alloc(sizeof *q.state * (size_t)n);
	for (int k = 0; k < n; k++) {
		store_init(&mine[k], st->prog);
		/* a part's values take about as many bytes as its text */
		arena_expect(&mine[k].data, (size_t)(cuts[k + 1] - cuts[k]) + 256);
		mine[k].strict = st->strict;
		int csv = n == 1 && store_format_of(st->prog, path) == FMT_CSV;
		q.jobs[k] = (struct part_job){csv ? e : NULL, &mine[k], path, file, cuts[k], cuts[k + 1]};
		if (csv)
			mine[k].progress = st->progress; /* read on this thread: told as it goes */
	}
	pthread_t *tids = mem_alloc(sizeof *tids * (size_t)threads);
	int workers = 0;
	for (int t = 1; t < threads && t < n; t++)
		if (pthread_create(&tids[workers], NULL, queue_worker, &q) == 0)
			workers++;
	int rc = 0;
	uint64_t lines = line0;
	while (q.taken < n && rc == 0) {
		int k = q.taken;
		queue_wait(&q, k);
		if (mine[k].failed) {
			rc = -2;
		} else if (mine[k].read_error.len) {
			diag_plain(e->diag, "cxr: %s: read error: %s", path, mine[k].read_error.p);
			rc = -2;
		} else if (store_adopt(e, st, &mine[k], lines, cuts[k + 1] - cuts[k]) < 0) {
			rc = -1;
		}
		lines += mine[k].lines;
		/* The part's values are st's now, and so goes the part: ten
		 * thousand small files are not ten thousand stores. */
		arena_adopt(&st->data, &mine[k].data);
		store_free(&mine[k]);
		if (rc == 0 && st->spill && st->data.bytes + st->n * sizeof *st->evs > st->limit &&
		    spill_store(st->spill, st, e->diag) < 0)
			rc = -2;
		queue_set(&q, &q.taken, k + 1);
	}
	if (lines_out)
		*lines_out = lines;
	queue_set(&q, &q.stop, 1);
	for (int t = 0; t < workers; t++)
		pthread_join(tids[t], NULL);
	pthread_mutex_destroy(&q.lock);
	pthread_cond_destroy(&q.changed);
	mem_free(q.jobs);
	mem_free(q.state);
	mem_free(tids);
	for (int k = q.taken; k < n; k++)
		store_free(&mine[k]); /* after an error: parts read but not taken */
	mem_free(mine);
	return rc;
}

int store_read_threads(struct engine *e, struct store *st, const char *const *paths, int npaths, int threads,
		       uint64_t min_part)
{
	int rc = 0;
	for (int i = 0; i < npaths && rc == 0; i++) {
		int n = 1;
		struct stat sb;
		/* A pipe, a FIFO or a device is opened once and read through:
		 * only a regular file can be cut into parts. */
		int regular = strcmp(paths[i], "-") && stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode);
		uint64_t size = regular ? (uint64_t)sb.st_size : 0;
		/* A CSV file is one part (a quoted cell may hold a newline), so
		 * one larger than a quarter of --memory is read as a stream is. */
		int csv = store_format_of(st->prog, paths[i]) == FMT_CSV;
		uint64_t quarter = st->limit / 4 ? st->limit / 4 : 1;
		/* Parts read ahead stay within a quarter of --memory: about
		 * 2 * threads of them, each up to quarter / (16 * threads). */
		uint64_t per = 1 + size / quarter;
		int most = csv ? 1 : 16 * threads * (int)(per < (1u << 14) ? per : (1u << 14));
		uint64_t *cuts = mem_alloc(sizeof *cuts * (size_t)(most + 1));
		if (!regular || (csv && size > quarter) ||
		    src_split_lines(paths[i], most, min_part < quarter ? min_part : quarter, cuts, &n) < 0)
			rc = store_read(e, st, paths[i]);
		else
			rc = read_in_parts(e, st, paths[i], cuts, n, threads, 0, NULL);
		mem_free(cuts);
	}
	return rc;
}


int store_read_range(struct engine *e, struct store *st, const char *path, uint64_t from, uint64_t to, uint64_t line0,
		     uint64_t *lines)
{
	uint64_t cuts[2] = {from, to};
	return read_in_parts(e, st, path, cuts, 1, 1, line0, lines);
}
