/* fmt.c: `cxr fmt`, the canonical layout of a script.
 *
 * The flex scanner drops comments, so fmt has a tokenizer of its own that
 * recognises exactly the tokens of grammar/lexer.l (keywords from src/front/keywords.h, by the same
 * rules: a word after '.' or before ':' is a name) and keeps comments and
 * the newlines between tokens.  The printer knows only the outline of the
 * grammar: top-level forms, the clauses of a rule and the steps of a test
 * (each starts with its keyword), the entries of input, event and journey
 * blocks, and `{ name: expr, ... }` field lists.  Within a clause the
 * spacing follows from the tokens themselves (binary operators spaced,
 * unary minus, calls and field access tight), so a construct fmt does not
 * know in detail still prints sensibly.  A clause longer than 100 columns
 * is broken at fixed places, the flat form being tried first.
 *
 * Nothing is ever mangled: the script must parse before fmt touches it,
 * and the result must give the same tokens and comments when tokenized
 * again (less the optional commas fmt leaves out) and parse again;
 * otherwise fmt reports an internal error and writes nothing.
 */
#include "cxr.h"

#include <string.h>

#include "front/parse.h"
#include "front/keywords.h"

enum { WIDTH = 100 }; /* columns a line may take before fmt breaks it */

/* ---- tokens ---- */

enum tk { TK_EOF, TK_WORD, TK_KW, TK_STRING, TK_REGEX, TK_NUM, TK_TIME, TK_PUNCT, TK_COMMENT, TK_BAD };

struct tok {
	enum tk kind;
	const char *s;  /* the text in the source, printed as it is */
	uint32_t len;   /* comments: without trailing white space */
	int nl;         /* newlines between the token or comment before and this one */
	int line, col;  /* where it starts, for messages */
	int dropped;    /* an optional comma that fmt leaves out */
};

struct toks {
	struct tok *v;
	int n, cap;
};

static int is_keyword(const char *s, size_t n) { return keyword_find(s, n) != NULL; }

/* Words that start a clause of a rule or a step of a test, and `end`. */
static int is_clause_word(const char *s, size_t n)
{
	const struct keyword *k = keyword_find(s, n);
	return k && k->role == KW_CLAUSE;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_alnum(char c) { return is_alpha(c) || is_digit(c); }

static size_t digits(const char *s, size_t i, size_t len)
{
	while (i < len && is_digit(s[i]))
		i++;
	return i;
}

/* A number, duration or percentage at s[i] (a digit): the end of the
 * longest match of lexer.l's rules, the earlier rule winning a tie, as in
 * flex.  *bad is set when the winner is the "bad number" rule. */
static size_t lex_number(const char *s, size_t i, size_t len, int *bad)
{
	size_t d = digits(s, i, len), best = 0, k = i;
	*bad = 0;
	for (;;) { /* {DIGITS}{UNIT}({DIGITS}{UNIT})* */
		size_t a = digits(s, k, len), u = 0;
		if (a == k || a >= len)
			break;
		if (a + 1 < len && s[a + 1] == 's' && (s[a] == 'm' || s[a] == 'u' || s[a] == 'n'))
			u = 2;
		else if (s[a] && strchr("wdhms", s[a]))
			u = 1;
		if (!u)
			break;
		k = a + u;
		best = k;
	}
	if (d < len && s[d] == '%' && d + 1 > best) /* {DIGITS}"%" */
		best = d + 1;
	if (d + 1 < len && s[d] == '.' && is_digit(s[d + 1])) { /* {DIGITS}"."{DIGITS}"%" */
		size_t e = digits(s, d + 1, len);
		if (e < len && s[e] == '%' && e + 1 > best)
			best = e + 1;
	}
	if (d > best) /* {DIGITS} */
		best = d;
	size_t fl = 0; /* {DIGITS}"."{DIGITS}([eE][+-]?{DIGITS})? | {DIGITS}[eE][+-]?{DIGITS} */
	size_t e = d;
	if (d + 1 < len && s[d] == '.' && is_digit(s[d + 1]))
		fl = e = digits(s, d + 1, len);
	if (e < len && (s[e] == 'e' || s[e] == 'E')) {
		size_t x = e + 1;
		if (x < len && (s[x] == '+' || s[x] == '-'))
			x++;
		size_t y = digits(s, x, len);
		if (y > x)
			fl = y;
	}
	if (fl > best)
		best = fl;
	if (d < len && is_alpha(s[d])) { /* {DIGITS}[A-Za-z_][A-Za-z0-9_]* */
		size_t b = d;
		while (b < len && is_alnum(s[b]))
			b++;
		if (b > best) {
			best = b;
			*bad = 1;
		}
	}
	return best;
}

/* A string at s[i] (the opening quote), scanned as lex_string does, with
 * {expr} interpolations that may hold strings; 0 when unterminated. */
static size_t lex_string(const char *s, size_t i, size_t len)
{
	size_t j = i + 1;
	for (;;) {
		if (j >= len)
			return 0;
		char ch = s[j++];
		if (ch == '"')
			return j;
		if (ch == '\\') {
			if (j >= len)
				return 0;
			if (s[j++] == 'u')
				for (int k = 0; k < 4 && j < len; k++) {
					char h = s[j++];
					if (!is_digit(h) && !((h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
						break;
				}
			continue;
		}
		if (ch != '{')
			continue;
		int depth = 0, in_str = 0;
		for (;;) {
			if (j >= len)
				return 0;
			char x = s[j++];
			if (in_str) {
				if (x == '\\') {
					if (j < len)
						j++;
				} else if (x == '"') {
					in_str = 0;
				}
			} else if (x == '"') {
				in_str = 1;
			} else if (x == '{') {
				depth++;
			} else if (x == '}' && depth-- == 0) {
				break;
			}
		}
	}
}

/* A regex at s[i] (the opening slash) and its flags, as lex_regex scans
 * it; 0 when unterminated. */
static size_t lex_regex(const char *s, size_t i, size_t len)
{
	size_t j = i + 1;
	for (;;) {
		if (j >= len || s[j] == '\n')
			return 0;
		char ch = s[j++];
		if (ch == '/')
			break;
		if (ch == '\\' && j < len)
			j++;
	}
	while (j < len && s[j] >= 'a' && s[j] <= 'z')
		j++;
	return j;
}

static int tok_is(const struct tok *t, const char *w)
{
	return t->kind != TK_STRING && t->kind != TK_COMMENT && strlen(w) == t->len && memcmp(t->s, w, t->len) == 0;
}

static int punct(const struct tok *t, const char *p) { return t->kind == TK_PUNCT && tok_is(t, p); }
static int kw(const struct tok *t, const char *w) { return t->kind == TK_KW && tok_is(t, w); }

static void toks_push(struct toks *v, struct tok t)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->v = mem_realloc(v->v, sizeof *v->v * (size_t)v->cap);
	}
	v->v[v->n++] = t;
}

/* Split text into tokens and comments, ending with TK_EOF.  Returns the
 * number of TK_BAD tokens (text the lexer would refuse). */
static int fmt_lex(const char *s, size_t len, struct toks *out)
{
	static const char *const two[] = {"==", "!=", "<=", ">=", "=~", "!~", "??", "->"};
	size_t i = 0, line_start = 0;
	int nl = 0, line = 1, last = -1, bad = 0;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
			if (s[i] == '\n') {
				nl++;
				line++;
				line_start = i + 1;
			}
			i++;
		}
		struct tok t = {TK_EOF, s + i, 0, nl, line, (int)(i - line_start) + 1, 0};
		if (i >= len) {
			toks_push(out, t);
			return bad;
		}
		size_t j = i + 1;
		char c = s[i];
		const struct tok *prev = last >= 0 ? &out->v[last] : NULL;
		if (c == '#') {
			while (j < len && s[j] != '\n')
				j++;
			t.kind = TK_COMMENT;
		} else if (is_digit(c)) {
			int is_bad;
			j = lex_number(s, i, len, &is_bad);
			t.kind = is_bad ? TK_BAD : TK_NUM;
		} else if (c == '@' && j < len && is_digit(s[j])) {
			while (j < len && s[j] != '_' && s[j] && (is_alnum(s[j]) || strchr(":.+-", s[j])))
				j++;
			t.kind = TK_TIME;
		} else if (is_alpha(c)) {
			while (j < len && is_alnum(s[j]))
				j++;
			size_t k = j;
			while (k < len && (s[k] == ' ' || s[k] == '\t'))
				k++;
			int name = (prev && punct(prev, ".")) || (k < len && s[k] == ':');
			t.kind = !name && is_keyword(s + i, j - i) ? TK_KW : TK_WORD;
		} else if (c == '"') {
			j = lex_string(s, i, len);
			t.kind = j ? TK_STRING : TK_BAD;
		} else if (c == '/' && prev && (punct(prev, "=~") || punct(prev, "!~"))) {
			j = lex_regex(s, i, len);
			t.kind = j ? TK_REGEX : TK_BAD;
		} else {
			t.kind = c && strchr("-+*%<>=(){}[],.:|/", c) ? TK_PUNCT : TK_BAD;
			for (size_t k = 0; k < sizeof two / sizeof *two; k++)
				if (j < len && c == two[k][0] && s[j] == two[k][1]) {
					t.kind = TK_PUNCT;
					j++;
				}
		}
		if (!j)
			j = len;
		bad += t.kind == TK_BAD;
		t.len = (uint32_t)(j - i);
		if (t.kind == TK_COMMENT)
			while (t.len > 1 && (t.s[t.len - 1] == ' ' || t.s[t.len - 1] == '\t' || t.s[t.len - 1] == '\r'))
				t.len--;
		for (size_t k = i; k < j; k++)
			if (s[k] == '\n') {
				line++;
				line_start = k + 1;
			}
		if (t.kind != TK_COMMENT)
			last = out->n;
		toks_push(out, t);
		i = j;
		nl = 0;
	}
}

/* ---- the printer ---- */

struct fmt {
	struct tok *t;      /* tokens and comments, the last one TK_EOF */
	int pos;            /* the next token or comment to print */
	int prev;           /* the token printed last, -1 before the first */
	int prev_unary;     /* it was a unary minus */
	struct buf out;     /* the item being printed */
	int pending;        /* a line break is due before the next token */
	int indent;         /* the next line's indent */
	int cindent;        /* the indent of comments on their own lines before it */
	int blank_ok;       /* an author's blank line may stay there */
	int cont;           /* the indent of a line that a comment breaks */
	int need_break;     /* the line ends in a comment */
	int comments;       /* comments printed so far */
	int err;            /* 1 + index of a token the layout did not expect */
	int brk_fields;     /* field lists one entry a line */
	int brk_andor;      /* break before `and` and `or` outside brackets */
	int brk_where;      /* break before `where` */
	int brk_within;     /* break before `within` */
};

/* What an attempt at a layout may have to undo. */
struct snap {
	size_t len;
	int pos, prev, prev_unary, pending, indent, cindent, blank_ok, cont, need_break, comments;
};

static struct snap snap_take(const struct fmt *f)
{
	return (struct snap){f->out.len, f->pos, f->prev, f->prev_unary, f->pending, f->indent,
			     f->cindent, f->blank_ok, f->cont, f->need_break, f->comments};
}

static void snap_restore(struct fmt *f, const struct snap *s)
{
	f->out.len = s->len;
	if (f->out.p)
		f->out.p[s->len] = 0;
	f->pos = s->pos;
	f->prev = s->prev;
	f->prev_unary = s->prev_unary;
	f->pending = s->pending;
	f->indent = s->indent;
	f->cindent = s->cindent;
	f->blank_ok = s->blank_ok;
	f->cont = s->cont;
	f->need_break = s->need_break;
	f->comments = s->comments;
}

/* Columns of UTF-8 text: code points, as the lexer counts columns. */
static int width(const char *s, size_t n)
{
	int w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xC0) != 0x80;
	return w;
}

/* The layout since s is good: every line within WIDTH, no comment. */
static int fits(const struct fmt *f, const struct snap *s)
{
	if (f->comments != s->comments || f->err)
		return 0;
	size_t start = s->len;
	while (start > 0 && f->out.p[start - 1] != '\n')
		start--;
	for (size_t i = start; i <= f->out.len; i++)
		if (i == f->out.len || f->out.p[i] == '\n') {
			if (width(f->out.p + start, i - start) > WIDTH)
				return 0;
			start = i + 1;
		}
	return 1;
}

/* Comments and the commas left out are not tokens to the layout. */
static int hidden(const struct tok *t) { return t->kind == TK_COMMENT || t->dropped; }

/* The next token to print. */
static int next(const struct fmt *f)
{
	int i = f->pos;
	while (hidden(&f->t[i]))
		i++;
	return i;
}

/* The token after token i. */
static int after(const struct fmt *f, int i)
{
	if (f->t[i].kind == TK_EOF)
		return i;
	do
		i++;
	while (hidden(&f->t[i]));
	return i;
}

static int is_name(const struct tok *t) { return t->kind == TK_WORD || t->kind == TK_KW || t->kind == TK_STRING; }

/* A token that can end an operand: a minus after it subtracts, a '['
 * after it indexes. */
static int operand_end(const struct tok *t)
{
	switch (t->kind) {
	case TK_WORD: case TK_STRING: case TK_REGEX: case TK_NUM: case TK_TIME:
		return 1;
	case TK_KW:
		return tok_is(t, "true") || tok_is(t, "false") || tok_is(t, "null") || tok_is(t, "customer") ||
		       tok_is(t, "event");
	case TK_PUNCT:
		return tok_is(t, ")") || tok_is(t, "]");
	default:
		return 0;
	}
}

static void spaces(struct fmt *f, int n)
{
	for (int i = 0; i < n; i++)
		buf_addc(&f->out, ' ');
}

static void newline(struct fmt *f, int indent, int blank)
{
	if (f->out.len) {
		buf_addc(&f->out, '\n');
		if (blank)
			buf_addc(&f->out, '\n');
	}
	spaces(f, indent);
}

/* A comment stays at the end of the line of the token before it, or on a
 * line of its own at the indent of what follows.  (A line may already end
 * in a comment when the comma between the two was left out.) */
static void comment(struct fmt *f, const struct tok *c)
{
	if (c->nl == 0 && f->prev >= 0 && f->out.len && !f->need_break) {
		buf_adds(&f->out, "  ");
		buf_add(&f->out, c->s, c->len);
		f->need_break = 1;
	} else {
		if (!f->pending) {
			f->pending = 1;
			f->indent = f->cindent = f->cont;
			f->blank_ok = 0;
		}
		newline(f, f->cindent, f->blank_ok && c->nl >= 2);
		buf_add(&f->out, c->s, c->len);
		f->need_break = 1;
	}
	f->comments++;
}

static void comments_before(struct fmt *f, int i)
{
	for (; f->pos < i; f->pos++)
		if (f->t[f->pos].kind == TK_COMMENT)
			comment(f, &f->t[f->pos]);
}

/* Print token i (the next one), after the comments before it: on a new
 * line when one is due, else after n spaces. */
static void put_at(struct fmt *f, int i, int n)
{
	comments_before(f, i);
	const struct tok *t = &f->t[i];
	if (f->pending)
		newline(f, f->indent, f->blank_ok && t->nl >= 2);
	else if (f->need_break)
		newline(f, f->cont, 0);
	else if (f->out.len)
		spaces(f, n);
	buf_add(&f->out, t->s, t->len);
	f->prev_unary = punct(t, "-") && !(f->prev >= 0 && operand_end(&f->t[f->prev]));
	f->pending = f->need_break = 0;
	f->prev = i;
	f->pos = i + 1;
}

/* Leave out token i (an optional comma).  The comments around it are
 * printed with the next token, as if it had never been there: so is the
 * formatted text read the next time. */
static void drop(struct fmt *f, int i) { f->t[i].dropped = 1; }

static void brk(struct fmt *f, int indent, int blank_ok)
{
	f->pending = 1;
	f->indent = f->cindent = indent;
	f->blank_ok = blank_ok;
}

/* Before the `end` or '}' of a block: comments stay at the inner indent. */
static void brk_close(struct fmt *f, int indent)
{
	f->pending = 1;
	f->indent = indent;
	f->cindent = indent + 2;
	f->blank_ok = 0;
}

/* Spaces between the token printed last and token i inside a phrase. */
static int gap(const struct fmt *f, int i)
{
	if (f->prev < 0)
		return 0;
	const struct tok *p = &f->t[f->prev], *c = &f->t[i];
	if (punct(c, "."))
		return p->kind == TK_TIME; /* @2026-03-01T10:00Z.x would be one token */
	if (punct(c, ",") || punct(c, ")") || punct(c, "]") || punct(c, ":"))
		return 0;
	if (punct(p, "(") || punct(p, "[") || punct(p, ".") || f->prev_unary)
		return 0;
	if (punct(c, "(") && (p->kind == TK_WORD || (p->kind == TK_KW && p->len == 8 && !memcmp(p->s, "distinct", 8))))
		return 0; /* a call, and distinct(E.f within D) */
	if (punct(c, "[") && operand_end(p))
		return 0;
	return 1;
}

typedef int (*stop_fn)(const struct fmt *f, int i);

static void phrase(struct fmt *f, stop_fn stop, int indent, int first_gap);

static int stop_entry(const struct fmt *f, int i) { return punct(&f->t[i], ",") || punct(&f->t[i], "}"); }

/* Find the '}' that closes the '{' at open; EOF when there is none. */
static int closing(const struct fmt *f, int open)
{
	int depth = 0, i = open;
	for (;; i = after(f, i)) {
		const struct tok *t = &f->t[i];
		if (t->kind == TK_EOF)
			return i;
		if (punct(t, "{"))
			depth++;
		else if (punct(t, "}") && --depth == 0)
			return i;
	}
}

/* The widest entry name of a field list, with its ':'. */
static int names_width(const struct fmt *f, int open, int close)
{
	int w = 0, depth = 0, start = 1;
	for (int i = after(f, open); i < close; i = after(f, i)) {
		const struct tok *t = &f->t[i];
		if (depth == 0 && start && punct(&f->t[after(f, i)], ":") && width(t->s, t->len) + 1 > w)
			w = width(t->s, t->len) + 1;
		start = depth == 0 && punct(t, ",");
		if (punct(t, "(") || punct(t, "["))
			depth++;
		else if (punct(t, ")") || punct(t, "]"))
			depth--;
	}
	return w;
}

/* field_list: '{' [entry (',' entry)* [',']] '}', an entry `name: expr`
 * (or any tokens up to ',' or '}').  Flat: `{ a: 1, b: 2 }`, `{}`.
 * Broken: one entry a line at indent + 2, values aligned, '}' at indent.
 * A trailing comma is left out. */
static void fields(struct fmt *f, int indent)
{
	int open = next(f), close = closing(f, open);
	int w = f->brk_fields ? names_width(f, open, close) : 0;
	int andor = f->brk_andor;
	f->brk_andor = 0;
	put_at(f, open, gap(f, open));
	int inner = f->brk_fields ? indent + 2 : indent;
	for (int first = 1;; first = 0) {
		int i = next(f);
		const struct tok *t = &f->t[i];
		if (t->kind == TK_EOF) {
			f->err = i + 1;
			break;
		}
		if (punct(t, "}")) {
			if (f->brk_fields && (!first || i > f->pos))
				brk_close(f, indent);
			put_at(f, i, first ? 0 : 1);
			break;
		}
		if (f->brk_fields)
			brk(f, indent + 2, !first);
		if (is_name(t) && punct(&f->t[after(f, i)], ":")) {
			put_at(f, i, 1);
			put_at(f, next(f), 0);
			phrase(f, stop_entry, inner, f->brk_fields ? w - width(t->s, t->len) : 1);
		} else {
			phrase(f, stop_entry, inner, 1);
		}
		if (f->err)
			break;
		i = next(f);
		if (punct(&f->t[i], ",")) {
			if (punct(&f->t[after(f, i)], "}"))
				drop(f, i);
			else
				put_at(f, i, 0);
		}
	}
	f->brk_andor = andor;
}

/* Print tokens up to the first one at bracket depth 0 for which stop()
 * holds, or EOF.  first_gap >= 0 sets the spaces before the first token. */
static void phrase(struct fmt *f, stop_fn stop, int indent, int first_gap)
{
	int depth = 0, cont = f->cont;
	f->cont = indent + 2;
	for (int first = 1; !f->err; first = 0) {
		int i = next(f);
		const struct tok *t = &f->t[i];
		if (t->kind == TK_EOF || (depth == 0 && stop(f, i)))
			break;
		if (punct(t, "{")) {
			fields(f, indent);
			continue;
		}
		if (punct(t, "}") || (depth == 0 && (punct(t, ")") || punct(t, "]")))) {
			f->err = i + 1;
			break;
		}
		if (depth > 0 && punct(t, ",") && punct(&f->t[after(f, i)], "]")) {
			drop(f, i); /* [1, 2,] */
			continue;
		}
		if (depth == 0 && !first &&
		    ((f->brk_andor && (kw(t, "and") || kw(t, "or"))) || (f->brk_where && kw(t, "where")) ||
		     (f->brk_within && kw(t, "within"))))
			brk(f, indent + 2, 0);
		put_at(f, i, first && first_gap >= 0 ? first_gap : gap(f, i));
		if (punct(t, "(") || punct(t, "["))
			depth++;
		else if (punct(t, ")") || punct(t, "]"))
			depth--;
	}
	f->cont = cont;
}

/* Whether the phrase that starts at the next token has a `where` at
 * bracket depth 0. */
static int has_where(const struct fmt *f, stop_fn stop)
{
	int depth = 0;
	for (int i = next(f); f->t[i].kind != TK_EOF; i = after(f, i)) {
		const struct tok *t = &f->t[i];
		if (depth == 0 && stop(f, i))
			return 0;
		if (depth == 0 && kw(t, "where"))
			return 1;
		if (punct(t, "(") || punct(t, "[") || punct(t, "{"))
			depth++;
		else if (punct(t, ")") || punct(t, "]") || punct(t, "}"))
			depth--;
	}
	return 0;
}

/* The rest of a clause or a one-line form, its keyword printed: flat if
 * it fits.  Else a phrase with `where` breaks before it, then before
 * `within` too (`then` steps, `sla`); any other breaks its field lists
 * one entry a line and its expression before each `and` and `or`. */
static void line(struct fmt *f, stop_fn stop, int indent)
{
	struct snap s = snap_take(f);
	int where = has_where(f, stop), levels = where ? 3 : 2;
	for (int l = 0; l < levels; l++) {
		if (l)
			snap_restore(f, &s);
		f->brk_fields = f->brk_andor = !where && l >= 1;
		f->brk_where = where && l >= 1;
		f->brk_within = where && l >= 2;
		phrase(f, stop, indent, -1);
		if (f->err || fits(f, &s))
			break;
	}
	f->brk_fields = f->brk_andor = f->brk_where = f->brk_within = 0;
}

static int stop_clause(const struct fmt *f, int i)
{
	const struct tok *t = &f->t[i];
	return t->kind == TK_KW && is_clause_word(t->s, t->len);
}

/* Whether token i starts a top-level form. */
static int stop_top(const struct fmt *f, int i)
{
	const struct tok *t = &f->t[i];
	if (t->kind != TK_KW)
		return 0;
	const struct tok *n1 = &f->t[after(f, i)], *n2 = &f->t[after(f, after(f, i))];
	if (kw(t, "import") || kw(t, "test"))
		return n1->kind == TK_STRING;
	if (kw(t, "input"))
		return punct(n1, "{");
	if (kw(t, "rule"))
		return is_name(n1);
	if (kw(t, "const"))
		return is_name(n1) && punct(n2, "=");
	if (kw(t, "event") || kw(t, "journey"))
		return is_name(n1) && punct(n2, "{");
	if (kw(t, "fn"))
		return is_name(n1) && punct(n2, "(");
	if (kw(t, "metric") || kw(t, "sla") || kw(t, "goal") || kw(t, "budget"))
		return is_name(n1) && punct(n2, ":");
	return 0;
}

/* rule: 'rule' name ["doc"] clause... 'end'; test: 'test' "name" step... 'end'.
 * The doc goes on the line after the name; clauses and steps one a line
 * at indent 2, an author's blank line between two kept. */
static void body(struct fmt *f)
{
	int is_rule = kw(&f->t[next(f)], "rule");
	put_at(f, next(f), 0);
	for (int k = 0; !f->err; k++) {
		int i = next(f);
		const struct tok *t = &f->t[i];
		if (t->kind == TK_EOF || stop_clause(f, i))
			break;
		if (is_rule && k == 1 && t->kind == TK_STRING)
			brk(f, 2, 0);
		put_at(f, i, gap(f, i));
	}
	for (int first = 1; !f->err; first = 0) {
		int i = next(f);
		if (f->t[i].kind == TK_EOF || !stop_clause(f, i)) {
			f->err = i + 1;
			return;
		}
		if (kw(&f->t[i], "end")) {
			brk_close(f, 0);
			put_at(f, i, 0);
			return;
		}
		brk(f, 2, !first);
		put_at(f, i, 0);
		f->cont = 4;
		line(f, stop_clause, 2);
	}
}

/* The next input setting: a name before '='. */
static int stop_setting(const struct fmt *f, int i)
{
	return punct(&f->t[i], "}") || punct(&f->t[after(f, i)], "=");
}

/* The next journey stage: `stage NAME on`. */
static int stop_stage(const struct fmt *f, int i)
{
	return punct(&f->t[i], "}") ||
	       (kw(&f->t[i], "stage") && is_name(&f->t[after(f, i)]) && kw(&f->t[after(f, after(f, i))], "on"));
}

/* input { name = expr ... }, event NAME { field: type ... },
 * journey NAME { stage S on E, ... }: one entry a line at indent 2, the
 * '=', the types and the `on` aligned; commas between schema fields are
 * left out.  An empty block is `{}`. */
static void block(struct fmt *f)
{
	const struct tok *head = &f->t[next(f)];
	int input = kw(head, "input"), event = kw(head, "event");
	put_at(f, next(f), 0);
	while (!f->err && !punct(&f->t[next(f)], "{")) {
		if (f->t[next(f)].kind == TK_EOF) {
			f->err = next(f) + 1;
			return;
		}
		put_at(f, next(f), 1);
	}
	int open = next(f), close = closing(f, open);
	/* The widest name: before '=' or ':', or after `stage`. */
	int w = 0;
	for (int i = after(f, open); i < close; i = after(f, i)) {
		const struct tok *nx = &f->t[after(f, i)];
		int named = input ? punct(nx, "=") : event ? punct(nx, ":") : kw(&f->t[i], "stage") && stop_stage(f, i);
		if (named) {
			const struct tok *n = input || event ? &f->t[i] : nx;
			int nw = width(n->s, n->len) + (event ? 1 : 0);
			w = nw > w ? nw : w;
		}
	}
	put_at(f, open, 1);
	for (int first = 1; !f->err; first = 0) {
		int i = next(f);
		const struct tok *t = &f->t[i];
		if (t->kind == TK_EOF) {
			f->err = i + 1;
			return;
		}
		if (punct(t, "}")) {
			if (!first || i > f->pos)
				brk_close(f, 0);
			put_at(f, i, 0);
			return;
		}
		brk(f, 2, !first);
		f->cont = 4;
		if (input) { /* name '=' expr */
			put_at(f, i, 0);
			put_at(f, next(f), w - width(t->s, t->len) + 1);
			phrase(f, stop_setting, 2, 1);
		} else if (event) { /* name ':' type [','] */
			put_at(f, i, 0);
			if (!punct(&f->t[next(f)], ":")) {
				f->err = next(f) + 1;
				return;
			}
			put_at(f, next(f), 0);
			put_at(f, next(f), w - width(t->s, t->len));
			if (punct(&f->t[next(f)], ","))
				drop(f, next(f));
		} else { /* 'stage' name 'on' names */
			put_at(f, i, 0);
			const struct tok *n = &f->t[next(f)];
			put_at(f, next(f), 1);
			put_at(f, next(f), w - width(n->s, n->len) + 1);
			phrase(f, stop_stage, 2, 1);
		}
	}
}

/* Consume the comments on the line of the token printed last. */
static void trailing(struct fmt *f)
{
	while (f->t[f->pos].kind == TK_COMMENT && f->t[f->pos].nl == 0)
		comment(f, &f->t[f->pos++]);
}

static void form(struct fmt *f)
{
	int i = next(f);
	const struct tok *t = &f->t[i];
	if (kw(t, "rule") || kw(t, "test")) {
		body(f);
	} else if (kw(t, "input") || kw(t, "event") || kw(t, "journey")) {
		block(f);
	} else if (stop_top(f, i)) {
		put_at(f, i, 0);
		f->cont = 2;
		line(f, stop_top, 0);
	} else {
		f->err = i + 1;
	}
}

/* The whole script: top-level forms and comments, with one blank line
 * around a form of several lines; between one-line forms and comments the
 * author's blank line (at most one) is kept. */
static void fmt_script(struct fmt *f, struct buf *doc)
{
	int prev_form = 0, prev_multi = 0, items = 0;
	while (!f->err && f->t[f->pos].kind != TK_EOF) {
		const struct tok *t = &f->t[f->pos];
		int blank = t->nl >= 2, is_form = t->kind != TK_COMMENT;
		buf_clear(&f->out);
		f->pending = f->need_break = 0;
		f->cont = 4;
		if (is_form) {
			form(f);
			trailing(f);
		} else {
			buf_add(&f->out, t->s, t->len);
			f->comments++;
			f->pos++;
		}
		int multi = f->out.len && memchr(f->out.p, '\n', f->out.len) != NULL;
		if (items++) {
			buf_addc(doc, '\n');
			if (blank || (prev_form && prev_multi) || (is_form && multi && prev_form))
				buf_addc(doc, '\n');
		}
		buf_add(doc, f->out.p ? f->out.p : "", f->out.len);
		prev_form = is_form;
		prev_multi = multi;
	}
	if (items)
		buf_addc(doc, '\n');
}

/* ---- checks and the entry point ---- */

static int parse_errors(struct diag *d, int file)
{
	struct arena arena = {0};
	struct ast_script script = {0};
	struct parse_ctx ctx = {0};
	ctx.arena = &arena;
	ctx.diag = d;
	ctx.file = file;
	ctx.script = &script;
	int errors = parse_script(&ctx, d->files[file].text, d->files[file].len);
	arena_free(&arena);
	return errors;
}

/* The formatted text has the tokens and comments of the script, less the
 * commas fmt left out. */
static int same_tokens(const struct toks *a, const struct toks *b)
{
	int i = 0, j = 0;
	for (;; i++, j++) {
		while (i < a->n && a->v[i].dropped)
			i++;
		if (i >= a->n || j >= b->n)
			return i >= a->n && j >= b->n;
		const struct tok *x = &a->v[i], *y = &b->v[j];
		/* Keyword or name: only a name position reads either way. */
		int kx = x->kind == TK_KW ? TK_WORD : x->kind, ky = y->kind == TK_KW ? TK_WORD : y->kind;
		if (kx != ky || x->len != y->len || memcmp(x->s, y->s, x->len) != 0)
			return 0;
	}
}

static void sink(void *ud, const char *p, size_t n) { buf_add(ud, p, n); }

int cxr_fmt(const char *name, const char *text, size_t len, cxr_write_fn out, void *out_ud, cxr_write_fn diag_fn,
	    void *diag_ud)
{
	struct diag d;
	diag_init(&d);
	d.sink = diag_fn;
	d.ud = diag_ud;
	int file = diag_add_file(&d, name, text, len);
	int errors = parse_errors(&d, file);
	if (errors) {
		diag_free(&d);
		return errors;
	}
	const char *src = d.files[file].text;
	struct toks in = {0}, again = {0};
	struct fmt f = {0};
	struct buf doc = {0};
	fmt_lex(src, len, &in);
	f.t = in.v;
	f.prev = -1;
	fmt_script(&f, &doc);
	if (f.err) {
		const struct tok *t = &in.v[f.err - 1];
		struct loc loc = {t->line, t->col, t->line, t->col + width(t->s, t->len) - 1, file};
		if (t->kind == TK_EOF)
			diag_report(&d, DIAG_ERROR, loc, "cxr fmt cannot lay out the end of the script here yet");
		else
			diag_report(&d, DIAG_ERROR, loc, "cxr fmt cannot lay out '%.*s' here yet", (int)t->len, t->s);
		errors = 1;
	} else {
		/* The result must read as the same script. */
		struct diag quiet;
		diag_init(&quiet);
		struct buf lost = {0};
		quiet.sink = sink;
		quiet.ud = &lost;
		int qf = diag_add_file(&quiet, name, doc.p ? doc.p : "", doc.len);
		if (fmt_lex(doc.p ? doc.p : "", doc.len, &again) || !same_tokens(&in, &again) || parse_errors(&quiet, qf)) {
			diag_plain(&d, "%s: internal error: cxr fmt would change what the script means; "
				       "the file is left as it is (please report this)", name);
			errors = 1;
		}
		diag_free(&quiet);
		buf_free(&lost);
	}
	if (!errors && out)
		out(out_ud, doc.p ? doc.p : "", doc.len);
	buf_free(&doc);
	buf_free(&f.out);
	mem_free(in.v);
	mem_free(again.v);
	diag_free(&d);
	return errors;
}
