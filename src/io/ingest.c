/* ingest.c: from input records to events, and events in time order.
 *
 * Each record (a JSON line or a CSV row) is read once: only the slots the
 * script uses are kept, in an event store whose memory is one arena.  The
 * store is sorted by time when the input is out of order (process-mining
 * exports are grouped by case), ties keeping input order, and then run.
 * A record that cannot become an event is rejected with its reason.
 * Reading one file in parts on threads is parts.c.
 */
#include "ingest.h"

#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/progress.h"
#include "base/source.h"
#include "base/timeutil.h"
#include "vm/vm.h"

/* ---- the census: what the logs held of what the rules name ---- */

static void census_init(struct census *c, const struct prog *p)
{
	int nt = p->ntypes;
	c->ntypes = nt;
	c->types = mem_alloc(sizeof *c->types * (size_t)(nt + 1));
	c->named = mem_alloc((size_t)nt + 1);
	for (int i = 0; i < p->ntype_uses; i++)
		c->named[p->type_uses[i].type] = 1;
	for (int t = 0; t < nt; t++)
		c->missing += c->named[t];
	c->first = mem_alloc(sizeof *c->first * (size_t)(nt + 2));
	c->unseen = mem_alloc(sizeof *c->unseen * (size_t)(nt + 1));
	c->slots = mem_alloc(sizeof *c->slots * (size_t)(p->nuses + 1));
	c->seen = mem_alloc(sizeof *c->seen * (size_t)(p->nuses + 1));
	int n = 0;
	for (int t = 0; t <= nt; t++) {
		int want = t < nt ? t : -1; /* the last: fields of any event */
		c->first[t] = n;
		for (int u = 0; u < p->nuses; u++) {
			if (p->uses[u].type != want)
				continue;
			int dup = 0;
			for (int k = c->first[t]; k < n && !dup; k++)
				dup = c->slots[k] == p->uses[u].slot;
			if (!dup)
				c->slots[n++] = p->uses[u].slot;
		}
		c->unseen[t] = n - c->first[t];
	}
	c->first[nt + 1] = n;
}

static void census_free(struct census *c)
{
	mem_free(c->types);
	mem_free(c->named);
	mem_free(c->first);
	mem_free(c->unseen);
	mem_free(c->slots);
	mem_free(c->seen);
	for (int i = 0; i < c->nothers; i++)
		mem_free(c->others[i]);
	mem_free(c->others);
}

static void census_other(struct census *c, const char *s, size_t n)
{
	uint32_t mask = 2 * CENSUS_OTHERS - 1, slot = (uint32_t)mem_hash(s, n) & mask;
	for (uint32_t i; (i = c->other_index[slot]) != 0; slot = (slot + 1) & mask)
		if (strlen(c->others[i - 1]) == n && memcmp(c->others[i - 1], s, n) == 0)
			return;
	c->others = mem_grow(c->others, (size_t)c->nothers, sizeof *c->others);
	c->others[c->nothers++] = mem_strndup(s, n);
	c->other_index[slot] = (uint32_t)c->nothers;
}

/* An event made from a record: its type, and the fields its rules read
 * that have a value.  Once every field of a type was seen, an event of
 * it costs one test. */
static void census_slots(struct census *c, const struct event *ev, int t)
{
	for (int k = c->first[t]; k < c->first[t + 1]; k++)
		if (!c->seen[k] && ev->slots[c->slots[k]].kind != V_NULL) {
			c->seen[k] = 1;
			c->unseen[t]--;
		}
}

static void census_event(struct census *c, const struct event *ev)
{
	c->events++;
	if (c->unseen[c->ntypes])
		census_slots(c, ev, c->ntypes); /* fields of `on any` */
	if (ev->type < 0) {
		if (ev->type_name.kind == V_STR) {
			c->typed++;
			/* Names for a "did you mean", while one may be needed. */
			if (c->streaming && c->missing && c->nothers < CENSUS_OTHERS)
				census_other(c, ev->type_name.u.s, ev->type_name.len);
		}
		return;
	}
	c->typed++;
	if (c->types[ev->type]++ == 0 && c->named[ev->type])
		c->missing--;
	if (c->unseen[ev->type])
		census_slots(c, ev, ev->type);
}

/* A part's census into its file's. */
void census_merge(struct census *into, const struct census *from, int ntypes)
{
	into->events += from->events;
	into->typed += from->typed;
	into->type_told |= from->type_told;
	for (int t = 0; t <= ntypes; t++) {
		if (t < ntypes) {
			if (!into->types[t] && from->types[t] && into->named[t])
				into->missing--;
			into->types[t] += from->types[t];
		}
		for (int k = into->first[t]; k < into->first[t + 1]; k++)
			if (!into->seen[k] && from->seen[k]) {
				into->seen[k] = 1;
				into->unseen[t]--;
			}
	}
	for (int i = 0; i < from->nothers && into->nothers < CENSUS_OTHERS; i++)
		census_other(into, from->others[i], strlen(from->others[i]));
}

void store_init(struct store *st, const struct prog *p)
{
	memset(st, 0, sizeof *st);
	census_init(&st->census, p);
	st->prog = p;
	st->proj = json_proj_new();
	for (int i = 0; i < p->nslots; i++)
		json_proj_add(st->proj, p->slots[i].segs, p->slots[i].lens, p->slots[i].nseg, i);
	st->sorted = 1;
	st->empty = arena_mark(&st->data);
}

void store_free(struct store *st)
{
	census_free(&st->census);
	json_proj_free(st->proj);
	buf_free(&st->why);
	mem_free(st->evs);
	arena_free(&st->data);
	for (size_t i = 0; i < st->nrejects; i++) {
		mem_free(st->rejects[i].why);
		mem_free(st->rejects[i].raw);
	}
	mem_free(st->rejects);
	buf_free(&st->read_error);
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

/* The customer key of the key slot as text (num: room for a number);
 * 0 when it is none. */
int store_event_key(const struct val *k, char num[64], const char **key, size_t *keylen)
{
	if (k->kind == V_STR && k->len) {
		*key = k->u.s;
		*keylen = k->len;
		return 1;
	}
	if (k->kind == V_INT) {
		*keylen = (size_t)snprintf(num, 64, "%lld", (long long)k->u.i);
		*key = num;
		return 1;
	}
	return 0;
}

/* Key, time and type from slots 0-2; on a problem, the reason text. */
static const char *make_event(struct engine *e, struct store *st, struct event *ev, struct buf *why,
			      enum reject_kind *kind)
{
	const struct prog *p = st->prog;
	struct val *k = &ev->slots[SLOT_KEY], *t = &ev->slots[SLOT_TIME], *ty = &ev->slots[SLOT_TYPE];
	char num[64];
	const char *key;
	size_t keylen;
	buf_clear(why);
	*kind = REJECT_KEY;
	if (!store_event_key(k, num, &key, &keylen)) {
		if (k->kind == V_STR)
			buf_printf(why, "empty key field '%s'", slot_name(p, SLOT_KEY));
		else if (k->kind == V_NULL)
			buf_printf(why, "missing key field '%s'", slot_name(p, SLOT_KEY));
		else
			buf_printf(why, "key field '%s' must be a string or a whole number", slot_name(p, SLOT_KEY));
		return why->p;
	}
	const char *msg;
	struct val number;
	/* A timestamp text first: no number looks like YYYY-MM-DD, and most
	 * times are texts.  Then a text of epoch seconds or ms (a CSV cell). */
	int parsed = t->kind == V_STR && time_parse(t->u.s, t->len, 0, &ev->time, &msg) == 0;
	if (!parsed && t->kind == V_STR && (t->flags & VF_DATA) && val_as_number(t, &number))
		t = &number;
	*kind = REJECT_BAD_TIME;
	switch (parsed ? V_TIME : t->kind) {
	case V_TIME:
		break;
	case V_STR: /* time_parse said why */
		buf_printf(why, "bad timestamp in field '%s': ", slot_name(p, SLOT_TIME));
		json_write_str(why, t->u.s, t->len > 80 ? 80 : t->len);
		buf_printf(why, ": %s", msg);
		return why->p;
	case V_INT:
	case V_FLOAT:
		if (time_from_epoch(t->kind == V_INT ? (double)t->u.i : t->u.f, &ev->time, &msg) < 0) {
			buf_printf(why, "bad epoch time in field '%s': %s", slot_name(p, SLOT_TIME), msg);
			return why->p;
		}
		break;
	case V_NULL:
		*kind = REJECT_TIME;
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
		*kind = REJECT_TYPE;
		buf_printf(why, "type field '%s' must be a string", slot_name(p, SLOT_TYPE));
		return why->p;
	}
	census_event(&st->census, ev);
	if (!prog_type_matters(p, ev->type)) {
		/* No rule, stage, history or measure reads this type: only its
		 * time matters (timers due before it fire first), so no customer
		 * is looked up and, read whole, it is not even stored. */
		ev->cust = EVENT_UNREAD;
		if (st->part) {
			if (ev->time > st->unread_last || !st->unread)
				st->unread_last = ev->time;
			st->unread++;
		} else if (!st->sink) {
			e->events++;
			if (ev->time > e->last_time || e->events == 1)
				e->last_time = ev->time;
		}
		return NULL;
	}
	/* A part's customers are made by store_adopt: it gets the key's hash;
	 * a stream's by its sink, once it takes the event. */
	ev->cust = st->part ? (uint32_t)mem_hash(key, keylen)
		 : st->sink ? EVENT_CUSTOMER_LATER : engine_customer(e, key, keylen);
	return NULL;
}

void store_event_customer(struct engine *e, struct event *ev)
{
	if (ev->cust != EVENT_CUSTOMER_LATER)
		return;
	char num[64];
	const char *key = "";
	size_t keylen = 0;
	store_event_key(&ev->slots[SLOT_KEY], num, &key, &keylen); /* make_event checked it */
	ev->cust = engine_customer(e, key, keylen);
}

/* Append an event, noting whether the store is still in time order. */
void store_push(struct store *st, const struct event *ev)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 4096;
		st->evs = mem_realloc(st->evs, sizeof *st->evs * st->cap);
	}
	if (st->n && ev->time < st->evs[st->n - 1].time)
		st->sorted = 0;
	st->evs[st->n++] = *ev;
}

/* Returns 0; -2 when a run for the events beyond --memory could not be
 * written. */
static int store_add(struct engine *e, struct store *st, const struct event *ev, const char *raw, size_t rawlen)
{
	progress_event(st->progress, ev->time);
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
	store_push(st, ev);
	if (st->spill && st->data.bytes + st->n * sizeof *st->evs > st->limit)
		return spill_store(st->spill, st, e->diag) < 0 ? -2 : 0;
	return 0;
}

/* Returns 0, or -1 when --strict stops the run. */
int store_reject(struct engine *e, struct store *st, enum reject_kind kind, uint32_t file, uint64_t line,
		  uint64_t last_line, size_t col, const char *why, const char *raw, size_t rawlen)
{
	if (st->part) {
		st->rejects = mem_grow(st->rejects, st->nrejects, sizeof *st->rejects);
		struct part_reject *r = &st->rejects[st->nrejects++];
		r->kind = kind;
		r->file = file;
		r->line = line;
		r->last_line = last_line;
		r->col = col;
		r->why = mem_strndup(why, strlen(why));
		r->raw = mem_strndup(raw, rawlen);
		r->rawlen = rawlen;
		return st->strict ? -1 : 0;
	}
	engine_reject(e, kind, file, line, last_line, col, why, raw, rawlen);
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
	enum reject_kind kind = REJECT_JSON;
	if (json_scan_event(st->proj, line, len, ev.slots, &st->data, &err) < 0) {
		buf_clear(&st->why);
		buf_adds(&st->why, err.msg);
		problem = st->why.p;
		col = err.col;
	} else {
		problem = make_event(e, st, &ev, &st->why, &kind);
	}
	if (problem) {
		arena_reset(&st->data, mark);
		return store_reject(e, st, kind, file, lineno, lineno, col, problem, line, len);
	}
	return store_add(e, st, &ev, line, len);
}

static int ingest_jsonl(struct engine *e, struct store *st, struct source *src, uint32_t file)
{
	const char *line;
	size_t len;
	uint64_t lineno;
	int got = 0;
	while (!st->halt && (got = src_line(src, &line, &len, &lineno)) > 0)
		if (store_read_json_line(e, st, file, lineno, line, len) < 0)
			return -1; /* --strict: the first reject is all that is told */
	st->lines = src_lines(src); /* 0 for an empty input, whose loop sets no lineno */
	if (st->halt)
		return 0;
	if (got < 0 && st->part) {
		buf_adds(&st->read_error, src_error(src)); /* a worker thread: said by read_in_parts */
		return -2;
	}
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
	if (rec.error || (rec.ncells == 1 && rec.rawlen && rec.raw[0] == '{')) {
		/* A JSON object where a header should be: JSON Lines read as CSV. */
		int json = rec.rawlen && rec.raw[0] == '{';
		diag_plain(e->diag, "%s:%llu: error: %s%s%s", e->files[file], (unsigned long long)rec.line,
			   json ? "this is JSON Lines, not CSV" : "bad CSV header: ", json ? "" : rec.error,
			   !json ? ""
			   : p->format == FMT_CSV ? ": the input block says format = csv; write format = jsonl (or leave "
						    "format out: a file not named .csv is read as JSON Lines)"
						  : ": name the file .jsonl, or write format = jsonl in the input block");
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
	/* One column and no key: the file is most likely separated otherwise. */
	char delim = !found[SLOT_KEY] ? src_csv_sniff_delim(&rec) : 0;
	if (delim) {
		const char *d = delim == '\t' ? "\\t" : delim == ';' ? ";" : "|";
		diag_plain(e->diag,
			   "%s:1: error: the header is one column, '%.*s%s': the file is separated by %s, not commas; add "
			   "delimiter = \"%s\" to the input block",
			   e->files[file], (int)(rec.cells[0].len > 60 ? 60 : rec.cells[0].len), rec.cells[0].p,
			   rec.cells[0].len > 60 ? "..." : "", delim == ';' ? "semicolons" : delim == '\t' ? "tabs" : "bars", d);
		mem_free(col_slot);
		return -2;
	}
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
		else
			st->census.type_told = 1;
	}
	if (bad) {
		mem_free(col_slot);
		return -2;
	}
	struct buf why = {0};
	int rc = 0;
	while ((got = src_csv(src, &rec)) > 0) {
		if (rec.error) {
			if (store_reject(e, st, REJECT_CSV, file, rec.line, rec.last_line, rec.error_col, rec.error, rec.raw, rec.rawlen) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		size_t bad_col;
		const char *bad_text = src_csv_text_problem(&rec, &bad_col);
		if (bad_text) {
			/* One rule for every reader: JSON Lines rejects these too. */
			if (store_reject(e, st, REJECT_CSV, file, rec.line, rec.last_line, bad_col, bad_text, rec.raw, rec.rawlen) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (rec.ncells != ncols) {
			buf_clear(&why);
			buf_printf(&why, "expected %zu fields as in the header, found %zu", ncols, rec.ncells);
			if (rec.last_line > rec.line) {
				/* Spanning lines with the wrong count: a stray quote
				 * joined them, so the first line goes alone. */
				buf_printf(&why, " in lines %llu-%llu (a quoted field spans them)",
					   (unsigned long long)rec.line, (unsigned long long)rec.last_line);
				src_csv_first_line_only(src, &rec);
			}
			if (store_reject(e, st, REJECT_CELLS, file, rec.line, rec.last_line, 0, why.p, rec.raw, rec.rawlen) < 0) {
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
		enum reject_kind kind;
		const char *problem = make_event(e, st, &ev, &why, &kind);
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
			if (store_reject(e, st, kind, file, rec.line, rec.last_line, 0, problem, rec.raw, rec.rawlen) < 0) {
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

enum input_format store_format_of(const struct prog *p, const char *path)
{
	if (p->format != FMT_AUTO)
		return p->format;
	return ends_with(path, ".csv") || ends_with(path, ".CSV") || ends_with(path, ".tsv") ? FMT_CSV : FMT_JSONL;
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
	return store_ingest(e, st, src, file, path);
}

/* The records of src (named path), which it closes, as CSV or JSON Lines. */
int store_ingest(struct engine *e, struct store *st, struct source *src, uint32_t file, const char *path)
{
	int rc;
	progress_source(st->progress, src);
	if (store_format_of(st->prog, path) == FMT_CSV) {
		src_csv_delim(src, ends_with(path, ".tsv") && st->prog->delim == ',' ? '\t' : st->prog->delim);
		if (st->prog->max_field_lines)
			src_csv_max_lines(src, st->prog->max_field_lines);
		rc = ingest_csv(e, st, src, file);
	} else {
		rc = ingest_jsonl(e, st, src, file);
	}
	progress_source_end(st->progress);
	src_close(src);
	return rc;
}

int store_follow(struct engine *e, struct store *st, struct source *src, uint32_t file)
{
	st->halt = 0;
	return ingest_jsonl(e, st, src, file);
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
