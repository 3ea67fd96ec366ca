/* diag.h: compile diagnostics with source lines and carets.
 *
 * A diag keeps the text of every source file it has seen, so that any
 * later stage (parser, checker, code generator, VM) can point at a
 * location: "rules.cxr:5:12: error: ...", the source line, a caret.
 */
#ifndef CXR_DIAG_H
#define CXR_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#include "mem.h"

struct srcfile {
	char *name; /* as given: "rules.cxr", "<stdlib/cx>" */
	char *text; /* NUL-terminated copy */
	size_t len;
	size_t *line_at; /* where each line starts, built when first needed */
	int nlines;
	int line_shift; /* shown as line - line_shift: an expression typed at a
			   prompt, compiled after the script it sees, is shown
			   as the command it was */
};

/* Where a piece of a script is: the parser gives one to every node. */
struct loc {
	int first_line, first_column; /* 1-based */
	int last_line, last_column;   /* inclusive end */
	int file;                     /* index into the program's source files */
};

typedef void (*diag_fn)(void *ud, const char *msg, size_t len);

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
	struct srcfile *files;
	int nfiles;
	int errors, warnings;
	diag_fn sink; /* where finished messages go */
	void *ud;
	int color;    /* use ANSI colours */
	/* Errors shown before the rest are only counted (0: all); one
	 * mistake can cause thousands, and nobody reads past the first. */
	int max_shown;
	int shown;      /* errors and warnings shown since diag_restart */
	int suppressed; /* and counted only */
	struct buf msg;
	int next_line_shift; /* for the next file added, then 0 */
};

#define DIAG_MAX_SHOWN 100

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* A new compile begins: its messages are shown up to max_shown again. */
void diag_restart(struct diag *d);
int diag_add_file(struct diag *d, const char *name, const char *text, size_t len);
void diag_report(struct diag *d, enum diag_level level, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_vreport(struct diag *d, enum diag_level level, struct loc loc, const char *fmt, va_list ap);
/* The text of a line of a file (without its line end), or NULL. */
const char *diag_line(const struct diag *d, int file, int line, size_t *len);
/* The byte offset in line (n bytes) of column col: columns count
 * characters (UTF-8), from 1. */
size_t diag_column_offset(const char *line, size_t n, int col);
/* A message with no source location ("cxr: ..."). */
void diag_plain(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The file name and line of a location, "rules.cxr:12". */
void diag_where(struct diag *d, struct buf *b, struct loc loc);

/* "Did you mean": feed candidates, keep the closest one. */
struct suggest {
	const char *want;
	size_t wantlen;
	const char *best;
	size_t bestlen;
	int dist;
};
void suggest_init(struct suggest *sg, const char *want, size_t wantlen);
void suggest_try(struct suggest *sg, const char *cand, size_t len);
/* "; did you mean 'x'?" or "" */
const char *suggest_hint(struct suggest *sg, struct buf *b);

/* The few closest names, for "did you mean 'c1', 'c10' or 'c11'?". */
#define SUGGEST_MAX 3
struct suggest_list {
	const char *want;
	size_t wantlen;
	const char *best[SUGGEST_MAX]; /* closest first */
	size_t len[SUGGEST_MAX];
	int dist[SUGGEST_MAX];
	int n;
};
void suggest_list_init(struct suggest_list *sl, const char *want, size_t wantlen);
void suggest_list_try(struct suggest_list *sl, const char *cand, size_t len);
/* "; did you mean 'a' or 'b'?" or "" */
const char *suggest_list_hint(const struct suggest_list *sl, struct buf *b);

#endif
