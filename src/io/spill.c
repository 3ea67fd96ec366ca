/* spill.c: sorting logs larger than memory.
 *
 * When the events read so far outgrow the store's budget (--memory), they
 * are sorted and written to a temporary file as one run, and the store
 * starts again empty.  At the end every run is merged by (time, file,
 * line), the order the store itself sorts by, so that the rules see
 * exactly what they would see had everything fitted.
 *
 * A run holds records: a length, the event's header, then its type name
 * and slots as tagged values.  Strings are read back in place from the
 * record's buffer; customers stay the indexes the engine gave them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "ingest.h"
#include "base/progress.h"

struct run {
	FILE *f;
	struct buf rec;     /* the current record */
	struct event ev;    /* decoded from rec */
	struct val *slots;
	struct arena items; /* list items of the current record */
};

struct spill {
	struct run *runs;
	int nruns;          /* open */
	int written;        /* runs of the store written, for the summary */
	uint64_t bytes;
	struct buf out;     /* one record being encoded */
	const char *dir;
};

/* Runs open at once; more are merged into one first. */
#define SPILL_FAN_IN 64

struct rec_head {
	int64_t time;
	uint64_t line;
	uint32_t cust, file;
	int32_t type;
	uint32_t pad;
};

struct spill *spill_new(void)
{
	struct spill *sp = mem_alloc(sizeof *sp);
	const char *dir = getenv("TMPDIR");
	sp->dir = dir && *dir ? dir : "/tmp";
	return sp;
}

static void runs_close(struct spill *sp);

void spill_free(struct spill *sp)
{
	if (!sp)
		return;
	runs_close(sp);
	mem_free(sp->runs);
	buf_free(&sp->out);
	mem_free(sp);
}

int spill_runs(const struct spill *sp) { return sp ? sp->written : 0; }
uint64_t spill_bytes(const struct spill *sp) { return sp ? sp->bytes : 0; }

static void put_val(struct buf *b, const struct val *v)
{
	uint8_t tag[2] = {v->kind, v->flags};
	buf_add(b, tag, 2);
	switch (v->kind) {
	case V_NULL:
		break;
	case V_STR:
	case V_ERR: {
		uint32_t n = v->kind == V_ERR ? (uint32_t)strlen(v->u.s) : v->len;
		buf_add(b, &n, sizeof n);
		buf_add(b, v->u.s, n);
		break;
	}
	case V_LIST:
		buf_add(b, &v->len, sizeof v->len);
		for (uint32_t i = 0; i < v->len; i++)
			put_val(b, &v->u.items[i]);
		break;
	default: /* bool, int, float, time, duration: the 8 bytes of u */
		buf_add(b, &v->u.i, sizeof v->u.i);
		break;
	}
}

/* Decode a value at *p (the record was written by put_val: it is whole). */
static void get_val(const char **p, struct val *v, struct arena *items)
{
	memset(v, 0, sizeof *v);
	v->kind = (uint8_t)(*p)[0];
	v->flags = (uint8_t)(*p)[1];
	*p += 2;
	switch (v->kind) {
	case V_NULL:
		break;
	case V_STR:
	case V_ERR:
		memcpy(&v->len, *p, sizeof v->len);
		*p += sizeof v->len;
		v->u.s = *p; /* V_ERR texts are followed by the next tag: copy them */
		if (v->kind == V_ERR)
			v->u.s = arena_strndup(items, *p, v->len);
		*p += v->len;
		break;
	case V_LIST: {
		memcpy(&v->len, *p, sizeof v->len);
		*p += sizeof v->len;
		struct val *list = arena_alloc(items, sizeof *list * (v->len + 1));
		for (uint32_t i = 0; i < v->len; i++)
			get_val(p, &list[i], items);
		v->u.items = list;
		break;
	}
	default:
		memcpy(&v->u.i, *p, sizeof v->u.i);
		*p += sizeof v->u.i;
		break;
	}
}

static int write_failed(struct diag *d, const struct spill *sp, FILE *f)
{
	diag_plain(d, "cxr: cannot write a sorted run to %s (the log is larger than --memory): %s", sp->dir,
		   strerror(errno));
	if (f)
		fclose(f);
	return -1;
}

/* A temporary file that no one else can open and that goes away with us. */
static FILE *temp_file(const struct spill *sp)
{
	struct buf path = {0};
	buf_printf(&path, "%s/cxr-run-XXXXXX", sp->dir);
	int fd = mkstemp(path.p);
	FILE *f = NULL;
	if (fd >= 0) {
		unlink(path.p);
		f = fdopen(fd, "w+b");
		if (!f)
			close(fd);
	}
	buf_free(&path);
	return f;
}

static void add_run(struct spill *sp, FILE *f, int nslots)
{
	sp->runs = mem_realloc(sp->runs, sizeof *sp->runs * (size_t)(sp->nruns + 1));
	struct run *r = &sp->runs[sp->nruns++];
	memset(r, 0, sizeof *r);
	r->f = f;
	r->slots = mem_alloc(sizeof *r->slots * (size_t)(nslots + 1));
}

static int compact(struct spill *sp, int nslots, struct diag *d);

int spill_store(struct spill *sp, struct store *st, struct diag *d)
{
	if (!st->n)
		return 0;
	store_sort(st);
	FILE *f = temp_file(sp);
	if (!f)
		return write_failed(d, sp, NULL);
	int nslots = st->prog->nslots;
	for (size_t i = 0; i < st->n; i++) {
		const struct event *ev = &st->evs[i];
		struct rec_head h = {ev->time, ev->line, ev->cust, ev->file, ev->type, 0};
		buf_clear(&sp->out);
		uint32_t len = 0;
		buf_add(&sp->out, &len, sizeof len);
		buf_add(&sp->out, &h, sizeof h);
		put_val(&sp->out, &ev->type_name);
		for (int s = 0; s < nslots; s++)
			put_val(&sp->out, &ev->slots[s]);
		len = (uint32_t)(sp->out.len - sizeof len);
		memcpy(sp->out.p, &len, sizeof len);
		if (fwrite(sp->out.p, 1, sp->out.len, f) != sp->out.len)
			return write_failed(d, sp, f);
		sp->bytes += sp->out.len;
	}
	if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)
		return write_failed(d, sp, f);
	add_run(sp, f, nslots);
	sp->written++;
	/* The store starts again, empty but for the chunk it keeps. */
	st->n = 0;
	st->sorted = 1;
	arena_reset(&st->data, st->empty);
	return sp->nruns < SPILL_FAN_IN ? 0 : compact(sp, nslots, d);
}

/* The run's next event into r->ev; 0 at its end, -1 on a read error. */
static int run_next(struct run *r, int nslots)
{
	uint32_t len;
	size_t got = fread(&len, 1, sizeof len, r->f);
	if (got == 0 && feof(r->f))
		return 0;
	if (got != sizeof len || len < sizeof(struct rec_head))
		return -1;
	buf_clear(&r->rec);
	buf_reserve(&r->rec, len);
	if (fread(r->rec.p, 1, len, r->f) != len)
		return -1;
	r->rec.len = len;
	struct rec_head h;
	memcpy(&h, r->rec.p, sizeof h);
	const char *p = r->rec.p + sizeof h;
	arena_reset(&r->items, (struct arena_mark){0});
	r->ev.time = h.time;
	r->ev.line = h.line;
	r->ev.cust = h.cust;
	r->ev.file = h.file;
	r->ev.type = h.type;
	get_val(&p, &r->ev.type_name, &r->items);
	for (int s = 0; s < nslots; s++)
		get_val(&p, &r->slots[s], &r->items);
	r->ev.slots = r->slots;
	return 1;
}

static int run_before(const struct run *a, const struct run *b)
{
	if (a->ev.time != b->ev.time)
		return a->ev.time < b->ev.time;
	if (a->ev.file != b->ev.file)
		return a->ev.file < b->ev.file;
	return a->ev.line < b->ev.line;
}

static void sift_down(struct run **heap, int n, int i)
{
	for (;;) {
		int least = i, l = 2 * i + 1, r = l + 1;
		if (l < n && run_before(heap[l], heap[least]))
			least = l;
		if (r < n && run_before(heap[r], heap[least]))
			least = r;
		if (least == i)
			return;
		struct run *t = heap[i];
		heap[i] = heap[least];
		heap[least] = t;
		i = least;
	}
}

/* Pop every run's events in order into fn; -1 when fn or a read fails. */
static int merge_runs(struct spill *sp, int nslots, int (*fn)(void *ud, const struct run *r), void *ud)
{
	struct run **heap = mem_alloc(sizeof *heap * (size_t)(sp->nruns + 1));
	int n = 0, rc = 0;
	for (int i = 0; i < sp->nruns && rc == 0; i++) {
		int got = run_next(&sp->runs[i], nslots);
		if (got < 0)
			rc = -1;
		else if (got)
			heap[n++] = &sp->runs[i];
	}
	for (int i = n / 2 - 1; i >= 0; i--)
		sift_down(heap, n, i);
	while (n > 0 && rc == 0) {
		struct run *r = heap[0];
		if (fn(ud, r) < 0) {
			rc = -1;
			break;
		}
		int got = run_next(r, nslots);
		if (got < 0)
			rc = -1;
		else if (!got)
			heap[0] = heap[--n];
		sift_down(heap, n, 0);
	}
	mem_free(heap);
	return rc;
}

static int to_engine(void *ud, const struct run *r)
{
	struct engine *e = ud;
	progress_run(e->progress, r->ev.time);
	engine_event(e, &r->ev);
	return 0;
}

static int to_file(void *ud, const struct run *r)
{
	FILE *f = ud;
	uint32_t len = (uint32_t)r->rec.len;
	return fwrite(&len, sizeof len, 1, f) == 1 && fwrite(r->rec.p, 1, len, f) == len ? 0 : -1;
}

static void runs_close(struct spill *sp)
{
	for (int i = 0; i < sp->nruns; i++) {
		fclose(sp->runs[i].f);
		buf_free(&sp->runs[i].rec);
		mem_free(sp->runs[i].slots);
		arena_free(&sp->runs[i].items);
	}
	sp->nruns = 0;
}

/* Too many runs to keep open: merge them into one. */
static int compact(struct spill *sp, int nslots, struct diag *d)
{
	FILE *f = temp_file(sp);
	if (!f)
		return write_failed(d, sp, NULL);
	if (merge_runs(sp, nslots, to_file, f) < 0 || fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)
		return write_failed(d, sp, f);
	runs_close(sp);
	add_run(sp, f, nslots);
	return 0;
}

int spill_merge(struct spill *sp, struct engine *e, int nslots)
{
	errno = 0;
	int rc = merge_runs(sp, nslots, to_engine, e);
	if (rc < 0)
		diag_plain(e->diag, "cxr: cannot read back a sorted run from %s: %s", sp->dir,
			   errno ? strerror(errno) : "truncated");
	return rc;
}
