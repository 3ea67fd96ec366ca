/* diag.c: diagnostics and "did you mean" (see diag.h). */
#include "diag.h"

#include <string.h>

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof *d);
	d->max_shown = DIAG_MAX_SHOWN;
}

void diag_free(struct diag *d)
{
	for (int i = 0; i < d->nfiles; i++) {
		mem_free(d->files[i].name);
		mem_free(d->files[i].text);
		mem_free(d->files[i].line_at);
	}
	mem_free(d->files);
	buf_free(&d->msg);
	d->files = NULL;
	d->nfiles = 0;
}

void diag_restart(struct diag *d)
{
	d->shown = 0;
	d->suppressed = 0;
}

int diag_add_file(struct diag *d, const char *name, const char *text, size_t len)
{
	d->files = mem_realloc(d->files, sizeof *d->files * (size_t)(d->nfiles + 1));
	struct srcfile *f = &d->files[d->nfiles];
	f->name = mem_strndup(name, strlen(name));
	f->text = mem_strndup(text, len);
	f->len = len;
	f->line_at = NULL;
	f->nlines = 0;
	f->line_shift = d->next_line_shift;
	d->next_line_shift = 0;
	return d->nfiles++;
}

static const char *level_name[] = {"error", "warning", "note"};
static const char *level_color[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};

static int shown_line(const struct diag *d, struct loc loc)
{
	return loc.file >= 0 && loc.file < d->nfiles ? loc.first_line - d->files[loc.file].line_shift : loc.first_line;
}

void diag_where(struct diag *d, struct buf *b, struct loc loc)
{
	const char *name = loc.file >= 0 && loc.file < d->nfiles ? d->files[loc.file].name : "?";
	buf_printf(b, "%s:%d", name, shown_line(d, loc));
}

/* Where each line of f starts: one pass over the text, once, so that a
 * thousand messages about a long script cost a thousand lookups. */
static void index_lines(struct srcfile *f)
{
	size_t count = 1;
	for (const char *p = f->text, *end = f->text + f->len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		count++;
	f->line_at = mem_alloc(sizeof *f->line_at * count);
	f->nlines = 0;
	f->line_at[f->nlines++] = 0;
	for (const char *p = f->text, *end = f->text + f->len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		f->line_at[f->nlines++] = (size_t)(p + 1 - f->text);
}

const char *diag_line(const struct diag *d, int file, int line, size_t *len)
{
	if (file < 0 || file >= d->nfiles || line < 1)
		return NULL;
	struct srcfile *f = &d->files[file];
	if (!f->line_at)
		index_lines(f);
	if (line > f->nlines)
		return NULL;
	const char *p = f->text + f->line_at[line - 1], *end = f->text + f->len;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	size_t n = (size_t)(eol - p);
	if (n && p[n - 1] == '\r')
		n--;
	*len = n;
	return p;
}

/* A line longer than this is shown around the caret only. */
#define SHOWN_LINE_MAX 240
#define SHOWN_BEFORE 80

static int continuation(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

size_t diag_column_offset(const char *line, size_t n, int col)
{
	size_t i = 0;
	for (int c = 1; c < col && i < n; c++)
		while (++i < n && continuation(line[i]))
			;
	return i;
}

/* The characters of line between byte offsets from and to. */
static size_t chars_between(const char *line, size_t from, size_t to)
{
	size_t count = 0;
	for (size_t i = from; i < to; i++)
		count += !continuation(line[i]);
	return count;
}

/* Append the source line of loc and a caret line under the token; of a
 * very long line (a generated script, a minified one) the part around
 * the caret, with "..." where it is cut.  Columns count characters. */
static void show_line(struct diag *d, struct loc loc)
{
	size_t n;
	const char *p = diag_line(d, loc.file, loc.first_line, &n);
	if (!p)
		return;
	struct buf *b = &d->msg;
	int col = loc.first_column > 0 ? loc.first_column : 1;
	size_t at = diag_column_offset(p, n, col);
	size_t from = 0, to = n;
	if (chars_between(p, 0, n) > SHOWN_LINE_MAX) {
		int first = col > SHOWN_BEFORE ? col - SHOWN_BEFORE : 1;
		from = diag_column_offset(p, n, first);
		to = diag_column_offset(p, n, first + SHOWN_LINE_MAX);
	}
	buf_printf(b, "%5d | ", shown_line(d, loc));
	if (from)
		buf_adds(b, "...");
	buf_add(b, p + from, to - from);
	if (to < n)
		buf_adds(b, "...");
	buf_adds(b, "\n      | ");
	if (from)
		buf_adds(b, "   ");
	/* One space a character; tabs stay tabs so that the caret lines up. */
	for (size_t i = from; i < at && i < to; i++)
		if (!continuation(p[i]))
			buf_addc(b, p[i] == '\t' ? '\t' : ' ');
	size_t width = 1;
	if (loc.last_line == loc.first_line && loc.last_column >= col)
		width = (size_t)(loc.last_column - col + 1);
	size_t room = at < to ? chars_between(p, at, to) : 0;
	if (width > room)
		width = room ? room : 1;
	if (d->color)
		buf_adds(b, "\033[1;32m");
	buf_addc(b, '^');
	for (size_t i = 1; i < width; i++)
		buf_addc(b, '~');
	if (d->color)
		buf_adds(b, "\033[0m");
	buf_addc(b, '\n');
}

void diag_vreport(struct diag *d, enum diag_level level, struct loc loc, const char *fmt, va_list ap)
{
	if (level == DIAG_ERROR)
		d->errors++;
	else if (level == DIAG_WARNING)
		d->warnings++;
	if (level != DIAG_NOTE && !d->suppressed && d->max_shown && d->shown >= d->max_shown)
		d->suppressed = 1; /* this one is the first not shown */
	else if (level != DIAG_NOTE && !d->suppressed)
		d->shown++;
	if (d->suppressed) {
		/* Counted, not shown: say so once. */
		if (d->suppressed++ == 1 && d->sink) {
			buf_clear(&d->msg);
			buf_printf(&d->msg, "cxr: more than %d errors and warnings; the rest are counted, not shown\n",
				   d->max_shown);
			d->sink(d->ud, d->msg.p, d->msg.len);
		}
		return;
	}
	buf_clear(&d->msg);
	if (d->color)
		buf_adds(&d->msg, "\033[1m");
	if (loc.file >= 0 && loc.file < d->nfiles && loc.first_line <= 0)
		buf_printf(&d->msg, "%s: ", d->files[loc.file].name); /* the file as a whole: no line to show */
	else if (loc.file >= 0 && loc.file < d->nfiles)
		buf_printf(&d->msg, "%s:%d:%d: ", d->files[loc.file].name, shown_line(d, loc), loc.first_column);
	if (d->color)
		buf_printf(&d->msg, "%s%s:\033[0m\033[1m ", level_color[level], level_name[level]);
	else
		buf_printf(&d->msg, "%s: ", level_name[level]);
	buf_vprintf(&d->msg, fmt, ap);
	if (d->color)
		buf_adds(&d->msg, "\033[0m");
	buf_addc(&d->msg, '\n');
	show_line(d, loc);
	if (d->sink)
		d->sink(d->ud, d->msg.p, d->msg.len);
}

void diag_report(struct diag *d, enum diag_level level, struct loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vreport(d, level, loc, fmt, ap);
	va_end(ap);
}

void diag_plain(struct diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_clear(&d->msg);
	buf_vprintf(&d->msg, fmt, ap);
	buf_addc(&d->msg, '\n');
	va_end(ap);
	if (d->sink)
		d->sink(d->ud, d->msg.p, d->msg.len);
}

void suggest_init(struct suggest *sg, const char *want, size_t wantlen)
{
	sg->want = want;
	sg->wantlen = wantlen;
	sg->best = NULL;
	sg->bestlen = 0;
	sg->dist = 1 << 30;
}

/* Edit distance where swapping two neighbours counts as one edit (the
 * optimal string alignment variant of Damerau-Levenshtein): "delya" is one
 * step from "delay".  Names are compared on their first 63 bytes.  Past
 * limit the answer is only "more than limit" (limit + 1): a row whose
 * every entry is over it ends the work, as no later row is smaller. */
static int edit_distance(const char *a, size_t na, const char *b, size_t nb, int limit)
{
	int d[64][64];
	if (na > 63)
		na = 63;
	if (nb > 63)
		nb = 63;
	if ((na > nb ? na - nb : nb - na) > (size_t)limit)
		return limit + 1;
	for (size_t i = 0; i <= na; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= na; i++) {
		int row_min = d[i][0];
		for (size_t j = 1; j <= nb; j++) {
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
			if (best < row_min)
				row_min = best;
		}
		if (row_min > limit)
			return limit + 1;
	}
	return d[na][nb];
}

/* How far cand is from want, or -1 when too far to be a likely typo: more
 * than a third of the longer name's length. */
static int near_distance(const char *want, size_t wantlen, const char *cand, size_t len)
{
	int limit = (int)(wantlen > len ? wantlen : len) / 3;
	if (limit < 1)
		limit = 1;
	int d = edit_distance(want, wantlen, cand, len, limit);
	return d <= limit ? d : -1;
}

void suggest_try(struct suggest *sg, const char *cand, size_t len)
{
	if (!cand || (len == sg->wantlen && memcmp(cand, sg->want, len) == 0))
		return;
	int d = near_distance(sg->want, sg->wantlen, cand, len);
	if (d >= 0 && d < sg->dist) {
		sg->dist = d;
		sg->best = cand;
		sg->bestlen = len;
	}
}

void suggest_list_init(struct suggest_list *sl, const char *want, size_t wantlen)
{
	memset(sl, 0, sizeof *sl);
	sl->want = want;
	sl->wantlen = wantlen;
}

/* Kept closest first; of names as close, the first tried. */
void suggest_list_try(struct suggest_list *sl, const char *cand, size_t len)
{
	if (!cand || (len == sl->wantlen && memcmp(cand, sl->want, len) == 0))
		return;
	int d = near_distance(sl->want, sl->wantlen, cand, len);
	if (d < 0 || (sl->n == SUGGEST_MAX && d >= sl->dist[SUGGEST_MAX - 1]))
		return;
	int at = sl->n < SUGGEST_MAX ? sl->n++ : SUGGEST_MAX - 1;
	while (at > 0 && sl->dist[at - 1] > d) {
		sl->best[at] = sl->best[at - 1];
		sl->len[at] = sl->len[at - 1];
		sl->dist[at] = sl->dist[at - 1];
		at--;
	}
	sl->best[at] = cand;
	sl->len[at] = len;
	sl->dist[at] = d;
}

const char *suggest_list_hint(const struct suggest_list *sl, struct buf *b)
{
	buf_clear(b);
	for (int i = 0; i < sl->n; i++)
		buf_printf(b, "%s'%.*s'", i == 0 ? "; did you mean " : i == sl->n - 1 ? " or " : ", ", (int)sl->len[i],
			   sl->best[i]);
	if (sl->n)
		buf_addc(b, '?');
	else
		buf_adds(b, "");
	return b->p;
}

const char *suggest_hint(struct suggest *sg, struct buf *b)
{
	buf_clear(b);
	if (sg->best)
		buf_printf(b, "; did you mean '%.*s'?", (int)sg->bestlen, sg->best);
	else
		buf_adds(b, "");
	return b->p;
}
