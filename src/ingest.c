/* ingest.c: from input records to events, and events in time order.
 *
 * Each record (a JSON line or a CSV row) is read once: only the slots the
 * script uses are kept, in an event store whose memory is one arena.  The
 * store is sorted by time when the input is out of order (process-mining
 * exports are grouped by case), ties keeping input order, and then run.
 * A record that cannot become an event is rejected with its reason.
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "source.h"
#include "timeutil.h"
#include "vm.h"

void store_init(struct store *st, const struct prog *p)
{
	memset(st, 0, sizeof *st);
	st->prog = p;
	st->proj = json_proj_new();
	for (int i = 0; i < p->nslots; i++)
		json_proj_add(st->proj, p->slots[i].segs, p->slots[i].lens, p->slots[i].nseg, i);
	st->sorted = 1;
	st->empty = arena_mark(&st->data);
}

void store_free(struct store *st)
{
	json_proj_free(st->proj);
	buf_free(&st->why);
	mem_free(st->evs);
	arena_free(&st->data);
	memset(st, 0, sizeof *st);
}

static struct val *new_slots(struct store *st)
{
	int n = st->prog->nslots;
	struct val *slots = arena_alloc(&st->data, sizeof *slots * (size_t)n);
	memset(slots, 0, sizeof *slots * (size_t)n);
	return slots;
}

static const char *slot_name(const struct prog *p, int slot) { return p->slots[slot].path; }

/* Key, time and type from slots 0-2; on a problem, the reason text. */
static const char *make_event(struct engine *e, struct store *st, struct event *ev, struct buf *why)
{
	const struct prog *p = st->prog;
	struct val *k = &ev->slots[SLOT_KEY], *t = &ev->slots[SLOT_TIME], *ty = &ev->slots[SLOT_TYPE];
	char num[64];
	const char *key;
	size_t keylen;
	buf_clear(why);
	switch (k->kind) {
	case V_STR:
		if (k->len == 0) {
			buf_printf(why, "empty key field '%s'", slot_name(p, SLOT_KEY));
			return why->p;
		}
		key = k->u.s;
		keylen = k->len;
		break;
	case V_INT:
		keylen = (size_t)snprintf(num, sizeof num, "%lld", (long long)k->u.i);
		key = num;
		break;
	case V_NULL:
		buf_printf(why, "missing key field '%s'", slot_name(p, SLOT_KEY));
		return why->p;
	default:
		buf_printf(why, "key field '%s' must be a string or a whole number", slot_name(p, SLOT_KEY));
		return why->p;
	}
	const char *msg;
	struct val number;
	if (t->kind == V_STR && (t->flags & VF_DATA) && val_as_number(t, &number))
		t = &number; /* a CSV cell of epoch seconds or ms */
	switch (t->kind) {
	case V_STR:
		if (time_parse(t->u.s, t->len, 0, &ev->time, &msg) < 0) {
			buf_printf(why, "bad timestamp in field '%s': ", slot_name(p, SLOT_TIME));
			json_write_str(why, t->u.s, t->len > 80 ? 80 : t->len);
			buf_printf(why, ": %s", msg);
			return why->p;
		}
		break;
	case V_INT:
	case V_FLOAT:
		if (time_from_epoch(t->kind == V_INT ? (double)t->u.i : t->u.f, &ev->time, &msg) < 0) {
			buf_printf(why, "bad epoch time in field '%s': %s", slot_name(p, SLOT_TIME), msg);
			return why->p;
		}
		break;
	case V_NULL:
		buf_printf(why, "missing time field '%s'", slot_name(p, SLOT_TIME));
		return why->p;
	default:
		buf_printf(why, "time field '%s' must be a timestamp text or epoch number", slot_name(p, SLOT_TIME));
		return why->p;
	}
	ev->type = -1;
	ev->type_name = val_null();
	if (ty->kind == V_STR) {
		ev->type = prog_type_find(p, ty->u.s, ty->len);
		ev->type_name = *ty;
		ev->type_name.flags = 0;
	} else if (ty->kind != V_NULL) {
		buf_printf(why, "type field '%s' must be a string", slot_name(p, SLOT_TYPE));
		return why->p;
	}
	if (!prog_type_matters(p, ev->type)) {
		/* No rule, stage, history or measure reads this type: only its
		 * time matters (timers due before it fire first), so no customer
		 * is looked up and, read whole, it is not even stored. */
		ev->cust = EVENT_UNREAD;
		if (!st->sink) {
			e->events++;
			if (ev->time > e->last_time || e->events == 1)
				e->last_time = ev->time;
		}
		return NULL;
	}
	ev->cust = engine_customer(e, key, keylen);
	return NULL;
}

/* Returns 0; -2 when a run for the events beyond --memory could not be
 * written. */
static int store_add(struct engine *e, struct store *st, const struct event *ev, const char *raw, size_t rawlen)
{
	if (ev->cust == EVENT_UNREAD && !st->sink) {
		arena_reset(&st->data, st->mark); /* counted by make_event */
		return 0;
	}
	if (st->sink) {
		/* Streaming: the sink copies what it keeps; the arena is reused. */
		st->sink(st->sink_ud, ev, raw, rawlen);
		arena_reset(&st->data, st->empty);
		return 0;
	}
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 4096;
		st->evs = mem_realloc(st->evs, sizeof *st->evs * st->cap);
	}
	if (st->n && ev->time < st->evs[st->n - 1].time)
		st->sorted = 0;
	st->evs[st->n++] = *ev;
	if (st->spill && st->data.bytes + st->n * sizeof *st->evs > st->limit)
		return spill_store(st->spill, st, e->diag) < 0 ? -2 : 0;
	return 0;
}

/* Returns 0, or -1 when --strict stops the run. */
static int reject(struct engine *e, struct store *st, uint32_t file, uint64_t line, size_t col, const char *why,
		  const char *raw, size_t rawlen)
{
	engine_reject(e, file, line, col, why, raw, rawlen);
	return st->strict ? -1 : 0;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int store_read_json_line(struct engine *e, struct store *st, uint32_t file, uint64_t lineno, const char *line,
			 size_t len)
{
	if (blank(line, len))
		return 0;
	struct event ev = {0};
	ev.file = file;
	ev.line = lineno;
	struct arena_mark mark = arena_mark(&st->data);
	st->mark = mark;
	ev.slots = new_slots(st);
	struct json_error err;
	const char *problem;
	size_t col = 0;
	if (json_scan_event(st->proj, line, len, ev.slots, &st->data, &err) < 0) {
		buf_clear(&st->why);
		buf_adds(&st->why, err.msg);
		problem = st->why.p;
		col = err.col;
	} else {
		problem = make_event(e, st, &ev, &st->why);
	}
	if (problem) {
		arena_reset(&st->data, mark);
		return reject(e, st, file, lineno, col, problem, line, len);
	}
	return store_add(e, st, &ev, line, len);
}

static int ingest_jsonl(struct engine *e, struct store *st, struct source *src, uint32_t file)
{
	const char *line;
	size_t len;
	uint64_t lineno;
	int got;
	while ((got = src_line(src, &line, &len, &lineno)) > 0)
		if (store_read_json_line(e, st, file, lineno, line, len) < 0)
			return -1;
	if (got < 0) {
		diag_plain(e->diag, "cxr: %s: read error: %s", e->files[file], src_error(src));
		return -2;
	}
	return 0;
}

static int ingest_csv(struct engine *e, struct store *st, struct source *src, uint32_t file)
{
	const struct prog *p = st->prog;
	struct csv_record rec;
	int got = src_csv(src, &rec);
	if (got <= 0) {
		if (got < 0)
			diag_plain(e->diag, "cxr: %s: read error: %s", e->files[file], src_error(src));
		return got < 0 ? -2 : 0; /* an empty file has no events */
	}
	if (rec.error) {
		diag_plain(e->diag, "%s:%llu: error: bad CSV header: %s", e->files[file], (unsigned long long)rec.line,
			   rec.error);
		return -2;
	}
	/* The header maps columns to slots. */
	size_t ncols = rec.ncells;
	int *col_slot = mem_alloc(sizeof *col_slot * (ncols + 1));
	int found[3] = {0, 0, 0};
	for (size_t c = 0; c < ncols; c++) {
		col_slot[c] = -1;
		for (int s = 0; s < p->nslots; s++) {
			if (strlen(p->slots[s].path) == rec.cells[c].len &&
			    memcmp(p->slots[s].path, rec.cells[c].p, rec.cells[c].len) == 0) {
				col_slot[c] = s;
				if (s < 3)
					found[s] = 1;
			}
		}
	}
	static const char *const role[] = {"customer key", "event time", "event type"};
	static const char *const setting[] = {"key", "time", "type"};
	int bad = 0;
	for (int s = 0; s < 3; s++) {
		if (found[s])
			continue;
		struct suggest sg;
		struct buf hint = {0}, cols = {0};
		suggest_init(&sg, p->slots[s].path, strlen(p->slots[s].path));
		for (size_t c = 0; c < ncols; c++) {
			suggest_try(&sg, rec.cells[c].p, rec.cells[c].len);
			if (c < 12) {
				buf_adds(&cols, c ? ", " : "");
				buf_add(&cols, rec.cells[c].p, rec.cells[c].len);
			}
		}
		if (ncols > 12)
			buf_adds(&cols, ", ...");
		diag_plain(e->diag, "%s:1: %s: no column '%s' for the %s%s (columns: %s; input { %s = ... } names the column)",
			   e->files[file], s == SLOT_TYPE ? "warning" : "error", p->slots[s].path, role[s],
			   suggest_hint(&sg, &hint), cols.p ? cols.p : "none", setting[s]);
		buf_free(&hint);
		buf_free(&cols);
		if (s != SLOT_TYPE)
			bad = 1;
	}
	if (bad) {
		mem_free(col_slot);
		return -2;
	}
	struct buf why = {0};
	int rc = 0;
	while ((got = src_csv(src, &rec)) > 0) {
		if (rec.error) {
			if (reject(e, st, file, rec.line, rec.error_col, rec.error, rec.raw, rec.rawlen) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (rec.ncells != ncols) {
			buf_clear(&why);
			buf_printf(&why, "expected %zu fields as in the header, found %zu", ncols, rec.ncells);
			if (reject(e, st, file, rec.line, 0, why.p, rec.raw, rec.rawlen) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		struct event ev = {0};
		ev.file = file;
		ev.line = rec.line;
		struct arena_mark mark = arena_mark(&st->data);
		st->mark = mark;
		ev.slots = new_slots(st);
		for (size_t c = 0; c < ncols; c++) {
			int s = col_slot[c];
			if (s < 0 || (rec.cells[c].len == 0 && !rec.cells[c].quoted))
				continue; /* an empty cell is null */
			struct val v = val_str(rec.cells[c].p, rec.cells[c].len);
			v.flags = VF_DATA;
			ev.slots[s] = v;
		}
		const char *problem = make_event(e, st, &ev, &why);
		/* The cells point into the reader's buffer: an event that is
		 * kept gets its own copies (unread ones and streamed ones need
		 * none: the sink copies what it keeps). */
		if (!problem && !st->sink && ev.cust != EVENT_UNREAD) {
			for (int s = 0; s < p->nslots; s++)
				if (ev.slots[s].kind == V_STR)
					ev.slots[s].u.s = arena_strndup(&st->data, ev.slots[s].u.s, ev.slots[s].len);
			if (ev.type_name.kind == V_STR)
				ev.type_name.u.s = ev.slots[SLOT_TYPE].u.s;
		}
		if (problem) {
			arena_reset(&st->data, mark);
			if (reject(e, st, file, rec.line, 0, problem, rec.raw, rec.rawlen) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (store_add(e, st, &ev, rec.raw, rec.rawlen) < 0) {
			rc = -2;
			break;
		}
	}
	if (got < 0) {
		diag_plain(e->diag, "cxr: %s: read error: %s", e->files[file], src_error(src));
		rc = -2;
	}
	mem_free(col_slot);
	buf_free(&why);
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int store_read(struct engine *e, struct store *st, const char *path)
{
	char err[256];
	struct source *src = src_open(path, err, sizeof err);
	if (!src) {
		diag_plain(e->diag, "cxr: cannot open %s: %s", path, err);
		return -2;
	}
	uint32_t file = engine_file(e, strcmp(path, "-") == 0 ? "<stdin>" : path);
	enum input_format fmt = st->prog->format;
	if (fmt == FMT_AUTO)
		fmt = ends_with(path, ".csv") || ends_with(path, ".CSV") || ends_with(path, ".tsv") ? FMT_CSV : FMT_JSONL;
	int rc;
	if (fmt == FMT_CSV) {
		src_csv_delim(src, ends_with(path, ".tsv") && st->prog->delim == ',' ? '\t' : st->prog->delim);
		rc = ingest_csv(e, st, src, file);
	} else {
		rc = ingest_jsonl(e, st, src, file);
	}
	src_close(src);
	return rc;
}

static int cmp_events(const void *pa, const void *pb)
{
	const struct event *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

void store_sort(struct store *st)
{
	if (!st->sorted)
		qsort(st->evs, st->n, sizeof *st->evs, cmp_events);
	st->sorted = 1;
}
