/* rejects.c: rejected records, one by one and as a whole.
 *
 * Each reject is told (the first ten on stderr, all in --rejects FILE)
 * and counted by kind.  A run most of whose records were rejected for one
 * kind of reason did not do what its author meant: the key field is named
 * otherwise, a log grouped by case came through stdin, a CSV was read as
 * JSON.  Rather than let a handful of responses look like an answer, such
 * a run ends with one message that names the fix, and exit 2.
 */
#include <string.h>

#include "engine_int.h"
#include "base/json.h"
#include "base/source.h"
#include "base/timeutil.h"

/* As reject records name them ("kind"). */
static const char *const reject_kind_name[REJECT__COUNT] = {
	[REJECT_JSON] = "json",         [REJECT_CSV] = "csv",   [REJECT_CELLS] = "cells", [REJECT_KEY] = "key",
	[REJECT_TIME] = "time",         [REJECT_BAD_TIME] = "bad_time", [REJECT_TYPE] = "type", [REJECT_LATE] = "late",
};

void engine_reject(struct engine *e, enum reject_kind kind, uint32_t file, uint64_t line, uint64_t last_line,
		   size_t col, const char *reason, const char *raw, size_t rawlen)
{
	e->rejected++;
	if (last_line < line)
		last_line = line;
	e->rejected_lines += last_line - line + 1;
	struct reject_tally *t = &e->tally;
	t->n[kind]++;
	if (!t->first_why) {
		t->first_why = mem_strndup(reason, strlen(reason));
		t->first_rawlen = raw ? (rawlen < 65536 ? rawlen : 65536) : 0;
		t->first_raw = mem_strndup(raw ? raw : "", t->first_rawlen);
		t->first_file = file;
		t->first_line = line;
	}
	const char *name = file < e->nfiles ? e->files[file] : "-";
	if (e->rejected <= 10) {
		if (last_line > line)
			diag_plain(e->diag, "%s:%llu-%llu: reject: %s (%llu lines)", name, (unsigned long long)line,
				   (unsigned long long)last_line, reason, (unsigned long long)(last_line - line + 1));
		else if (col)
			diag_plain(e->diag, "%s:%llu:%zu: reject: %s", name, (unsigned long long)line, col, reason);
		else
			diag_plain(e->diag, "%s:%llu: reject: %s", name, (unsigned long long)line, reason);
	} else if (e->rejected == 11) {
		diag_plain(e->diag, "note: more rejected records: the count is in the summary%s",
			   e->rejects ? ", each one in the rejects file" : "; --rejects FILE keeps them all");
	}
	if (!e->rejects)
		return;
	struct buf b = {0};
	buf_adds(&b, "{\"file\":");
	json_write_str(&b, name, strlen(name));
	buf_printf(&b, ",\"line\":%llu", (unsigned long long)line);
	if (last_line > line)
		buf_printf(&b, ",\"last_line\":%llu", (unsigned long long)last_line);
	if (col)
		buf_printf(&b, ",\"col\":%zu", col);
	buf_printf(&b, ",\"kind\":\"%s\"", reject_kind_name[kind]);
	buf_adds(&b, ",\"reason\":");
	json_write_str(&b, reason, strlen(reason));
	buf_adds(&b, ",\"raw\":");
	/* A huge record is kept whole: nothing is dropped without a trace. */
	json_write_str(&b, raw ? raw : "", raw ? rawlen : 0);
	buf_adds(&b, "}\n");
	e->rejects(e->rejects_ud, b.p, b.len);
	buf_free(&b);
}

/* ---- the verdict ---- */

/* "3y", "5d", "2h": a span said by its largest unit, rounded. */
static void span_text(struct buf *b, int64_t ns)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {{"y", 365 * 86400 * NS_PER_SEC}, {"d", 86400 * NS_PER_SEC}, {"h", 3600 * NS_PER_SEC},
		     {"m", 60 * NS_PER_SEC}, {"s", NS_PER_SEC}};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (ns >= units[i].ns) {
			buf_printf(b, "%lld%s", (long long)(ns / units[i].ns + (ns % units[i].ns >= units[i].ns / 2)), units[i].unit);
			return;
		}
	dur_format(b, ns);
}

struct keys {
	char **names;
	int n;
};

static void add_key(void *ud, const char *key, size_t keylen, const struct val *v)
{
	(void)v;
	struct keys *k = ud;
	if (k->n < 64) {
		k->names = mem_grow(k->names, (size_t)k->n, sizeof *k->names);
		k->names[k->n++] = mem_strndup(key, keylen);
	}
}

static int has_key(const struct keys *k, const char *name)
{
	for (int i = 0; i < k->n; i++)
		if (!strcmp(k->names[i], name))
			return 1;
	return 0;
}

/* A field that the name looked for begins with, or that begins with it
 * (`cust` for `customer`): a shortening no edit distance finds. */
static const char *prefix_of(const struct keys *k, const char *want)
{
	size_t wn = strlen(want);
	for (int i = 0; i < k->n; i++) {
		size_t n = strlen(k->names[i]);
		size_t m = n < wn ? n : wn;
		if (m >= 3 && n != wn && !strncmp(k->names[i], want, m))
			return k->names[i];
	}
	return NULL;
}

/* A field name as the input block writes it: quoted unless a word. */
static void setting_name(struct buf *b, const char *name)
{
	int word = *name != 0;
	for (const char *p = name; *p; p++)
		word &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (p > name && *p >= '0' && *p <= '9');
	if (word)
		buf_adds(b, name);
	else
		json_write_str(b, name, strlen(name));
}

/* The key or time field is missing: the fields the record does have, the
 * closest to the name looked for, and an input block that would read them. */
static void missing_field_fix(const struct engine *e, struct buf *b, int role)
{
	const struct prog *p = e->prog;
	const struct reject_tally *t = &e->tally;
	struct keys k = {0};
	struct arena a = {0};
	struct json_error err;
	if (json_scan_members(t->first_raw, t->first_rawlen, add_key, &k, &a, &err) < 0 || !k.n) {
		arena_free(&a);
		return;
	}
	buf_adds(b, "\n  the records have the fields ");
	for (int i = 0; i < k.n && i < 12; i++)
		buf_printf(b, "%s%s", i ? ", " : "", k.names[i]);
	buf_adds(b, k.n > 12 ? ", ..." : "");
	struct suggest sg;
	const char *want = p->slots[role].path;
	suggest_init(&sg, want, strlen(want));
	for (int i = 0; i < k.n; i++)
		suggest_try(&sg, k.names[i], strlen(k.names[i]));
	struct buf hint = {0};
	const char *near = sg.best ? NULL : prefix_of(&k, want);
	if (near)
		buf_printf(b, "; did you mean '%s'?", near);
	else
		buf_adds(b, suggest_hint(&sg, &hint));
	buf_free(&hint);
	/* Each role: the name the script gives it if the records have it, a
	 * common name they have, or the closest one. */
	static const char *const setting[3] = {"key", "time", "type"};
	struct buf block = {0};
	int changed = 0;
	for (int r = 0; r < 3; r++) {
		const char *name = p->slots[r].path;
		/* The default key `customer`, when the records have it, may be an
		 * attribute of theirs: an id-like field is looked for anyway. */
		int weak = r == SLOT_KEY && !strcmp(name, src_field_names[SLOT_KEY][0]) && has_key(&k, name);
		if (has_key(&k, name) && !weak)
			continue;
		/* For the key, a name that says "id" first: `customer` is often
		 * an attribute where `customer_id` is the key. */
		const char *common = NULL;
		for (int pass = r == SLOT_KEY ? 0 : 1; pass < 2 && !common; pass++)
			for (int c = 0; src_field_names[r][c] && !common; c++)
				if (has_key(&k, src_field_names[r][c]) &&
				    (pass || strstr(src_field_names[r][c], "id") || strstr(src_field_names[r][c], "case:")))
					common = src_field_names[r][c];
		suggest_init(&sg, name, strlen(name));
		for (int i = 0; i < k.n && !common; i++)
			suggest_try(&sg, k.names[i], strlen(k.names[i]));
		struct buf found = {0};
		const char *near = prefix_of(&k, name);
		if (common)
			buf_adds(&found, common);
		else if (sg.best && !weak)
			buf_add(&found, sg.best, sg.bestlen);
		else if (near && !weak)
			buf_adds(&found, near);
		if (weak && found.len && !strcmp(found.p, name))
			buf_clear(&found);
		if (found.len) {
			changed |= r == role;
			buf_printf(&block, "%s%s = ", block.len ? "  " : "", setting[r]);
			setting_name(&block, found.p);
		}
		buf_free(&found);
	}
	if (changed)
		buf_printf(b, "\n  name them in the script, for example: input { %s }  (cxr stats guesses from the whole log)",
			   block.p);
	buf_free(&block);
	for (int i = 0; i < k.n; i++)
		mem_free(k.names[i]);
	mem_free(k.names);
	arena_free(&a);
}

/* A record that is not JSON but has the shape of a CSV line. */
static char csv_shaped(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++, n--;
	if (!n || *s == '{' || *s == '[')
		return 0;
	static const char cands[] = ",;\t|";
	char best = 0;
	size_t most = 0;
	for (const char *c = cands; *c; c++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			k += s[i] == *c;
		if (k > most) {
			most = k;
			best = *c;
		}
	}
	return best;
}

int engine_reject_verdict(struct engine *e, int stream)
{
	const struct reject_tally *t = &e->tally;
	uint64_t records = e->rejected + e->events;
	/* Lines, not records: one reject may hold many lines of a CSV. */
	if (!e->rejected || e->rejected_lines * 2 < e->rejected_lines + e->events)
		return 0;
	int kind = -1;
	for (int k = 0; k < REJECT__COUNT; k++)
		if (t->n[k] == e->rejected)
			kind = k;
	if (kind < 0)
		return 0; /* mixed reasons: the rejects themselves tell them */
	struct buf b = {0};
	const char *file = t->first_file < e->nfiles ? e->files[t->first_file] : "-";
	if (e->events)
		buf_printf(&b, "cxr: error: %llu of %llu records (%d%%) were rejected, all for one reason",
			   (unsigned long long)e->rejected, (unsigned long long)records,
			   (int)(100 * e->rejected / records));
	else if (e->rejected == 1)
		buf_adds(&b, "cxr: error: the only record was rejected");
	else
		buf_printf(&b, "cxr: error: all %llu records were rejected, for one reason", (unsigned long long)e->rejected);
	if (e->rejected_lines != e->rejected)
		buf_printf(&b, ", and they hold %llu lines", (unsigned long long)e->rejected_lines);
	buf_printf(&b, " (%s%s:%llu: %s)", e->rejected == 1 ? "" : "the first, ", file, (unsigned long long)t->first_line,
		   t->first_why);
	const struct prog *p = e->prog;
	switch (kind) {
	case REJECT_KEY:
	case REJECT_TIME:
		missing_field_fix(e, &b, kind == REJECT_KEY ? SLOT_KEY : SLOT_TIME);
		break;
	case REJECT_LATE: {
		struct buf by = {0}, late = {0};
		span_text(&by, t->late_by);
		dur_format(&late, p->lateness);
		buf_printf(&b, "\n  %s is a stream, re-ordered within `lateness` (%s); this log is out of order by %s",
			   stream ? "stdin" : "the input", late.p, by.p);
		buf_adds(&b, stream ? ": pass --sort, or give the file (a file is sorted whole)"
				    : ": raise `lateness` in the input block");
		buf_free(&by);
		buf_free(&late);
		break;
	}
	case REJECT_JSON: {
		char d = csv_shaped(t->first_raw, t->first_rawlen);
		if (!d)
			break;
		if (p->format == FMT_JSONL)
			buf_adds(&b, "\n  this looks like CSV, but the input block says format = jsonl: write format = csv"
				     " (or leave format out: a file named .csv is read as CSV)");
		else
			buf_printf(&b, "\n  this looks like CSV, read as JSON Lines: add format = csv to the input block%s",
				   stream ? "" : ", or name the file .csv");
		if (d != ',')
			buf_printf(&b, "; its delimiter is \"%s\": add delimiter = \"%s\" too",
				   d == '\t' ? "\\t" : d == ';' ? ";" : "|", d == '\t' ? "\\t" : d == ';' ? ";" : "|");
		break;
	}
	case REJECT_BAD_TIME:
		buf_printf(&b, "\n  the field '%s' holds no time cxr reads: RFC 3339 (2026-03-01T19:13:00Z, a space for T, "
			       "with or without a zone) or epoch seconds or milliseconds; input { time = ... } names "
			       "another field",
			   p->slots[SLOT_TIME].path);
		break;
	default:
		break;
	}
	diag_plain(e->diag, "%s", b.p);
	buf_free(&b);
	return 1;
}
