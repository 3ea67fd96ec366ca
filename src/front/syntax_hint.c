/* syntax_hint.c: what the analyst most likely meant, after a syntax error.
 *
 * bison knows which token it did not expect; the mistakes analysts make
 * first are about names that are not identifiers (`e.org:resource`, an
 * event type with a space), keywords used as names, and a rule left
 * without its `end`.  Each is recognised from the error's token and the
 * text of its line, and told as a note under the error, with the fix
 * written out.
 */
#include <string.h>

#include "parse.h"

static int word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       (unsigned char)c >= 0x80;
}

/* Words that start a top-level form: an error there inside an open rule
 * most often means its `end` is missing. */
static int starts_a_form(const char *got)
{
	static const char *const forms[] = {"rule", "test", "const", "import", "input", "event",
					    "fn", "journey", "metric", "sla", "goal", "budget", NULL};
	for (int i = 0; forms[i]; i++)
		if (!strcmp(got, forms[i]))
			return 1;
	return 0;
}

/* A keyword, as bison names it: a word that is not a class of tokens
 * ("name", "string", ...). */
static int is_keyword(const char *got)
{
	static const char *const classes[] = {"integer", "duration", "time", "number", "percentage",
					      "string", "regex", "name", NULL};
	if (!*got)
		return 0;
	for (const char *p = got; *p; p++)
		if (*p < 'a' || *p > 'z')
			return 0;
	for (int i = 0; classes[i]; i++)
		if (!strcmp(got, classes[i]))
			return 0;
	return 1;
}

static void note(struct parse_ctx *ctx, struct loc at, const struct buf *b)
{
	diag_report(ctx->diag, DIAG_NOTE, at, "%s", b->p);
}

/* `e.org:resource` or `key = case:concept:name`: a name with ':' in it. */
static int colon_in_name(struct parse_ctx *ctx, struct loc at, const char *line, size_t len)
{
	size_t colon = (size_t)(at.first_column - 1);
	if (colon >= len || line[colon] != ':' || colon == 0 || !word_char(line[colon - 1]))
		return 0;
	size_t from = colon;
	while (from > 0 && (word_char(line[from - 1]) || line[from - 1] == '.' || line[from - 1] == ':'))
		from--;
	size_t to = colon;
	while (to < len && (word_char(line[to]) || line[to] == ':' || line[to] == '-'))
		to++;
	const char *dot = memchr(line + from, '.', colon - from);
	struct buf b = {0};
	if (dot) {
		/* The name after the last dot is the field. */
		size_t last = colon;
		while (last > from && line[last - 1] != '.')
			last--;
		buf_printf(&b, "a field whose name is not a word is written in brackets: %.*s[\"%.*s\"]",
			   (int)(last - 1 - from), line + from, (int)(to - last), line + last);
	} else {
		buf_printf(&b, "a name that is not a word is quoted: \"%.*s\"", (int)(to - from), line + from);
	}
	note(ctx, at, &b);
	buf_free(&b);
	return 1;
}

/* `on W_Nabellen offertes as w`: an event type of several words. */
static int spaced_type(struct parse_ctx *ctx, struct loc at, const char *line, size_t len)
{
	size_t here = (size_t)(at.first_column - 1);
	if (here >= len || !word_char(line[here]) || here < 2 || line[here - 1] != ' ')
		return 0;
	/* The word before, and what introduced it. */
	size_t end = here;
	while (end > 0 && line[end - 1] == ' ')
		end--;
	size_t begin = end;
	while (begin > 0 && word_char(line[begin - 1]))
		begin--;
	if (begin == end)
		return 0;
	size_t k = begin;
	while (k > 0 && line[k - 1] == ' ')
		k--;
	static const char *const intro[] = {"on", "then", "no", "|", "->", ":", ",", "count(", "sum(", "distinct(",
					    "last(", "first(", "since(", NULL};
	int introduced = 0;
	for (int i = 0; intro[i] && !introduced; i++) {
		size_t n = strlen(intro[i]);
		introduced = k >= n && memcmp(line + k - n, intro[i], n) == 0 &&
			     (k == n || !word_char(line[k - n - 1]) || !word_char(intro[i][0]));
	}
	if (!introduced)
		return 0;
	/* The name runs on to a keyword that may follow a type, or the end. */
	static const char *const stops[] = {" as ", " within ", " where ", " then ", " |", " ->", ",", NULL};
	size_t stop = len;
	for (int i = 0; stops[i]; i++) {
		const char *s = strstr(line + here, stops[i]);
		if (s && s < line + stop)
			stop = (size_t)(s - line);
	}
	while (stop > here && line[stop - 1] == ' ')
		stop--;
	struct buf b = {0};
	buf_printf(&b, "an event type of several words is quoted: \"%.*s\"", (int)(stop - begin), line + begin);
	note(ctx, at, &b);
	buf_free(&b);
	return 1;
}

/* `metric m: p50 by a.g`: the key belongs to `observe`, the label here. */
static int metric_by_path(struct parse_ctx *ctx, struct loc at, const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < 7 || memcmp(line + i, "metric ", 7) != 0)
		return 0;
	const char *by = strstr(line + i, " by ");
	if (!by || (size_t)(by - line) >= (size_t)(at.first_column - 1))
		return 0;
	struct buf b = {0};
	buf_adds(&b, "a metric's `by` is a label (a name) for its groups; the key itself is given where a rule "
		     "observes it: observe NAME value by a.g");
	note(ctx, at, &b);
	buf_free(&b);
	return 1;
}

void parse_syntax_hints(struct parse_ctx *ctx, struct loc at, const char *got, int expects_end, int expects_name)
{
	size_t len = 0;
	const char *line = diag_line(ctx->diag, at.file, at.first_line, &len);
	if (line && !strcmp(got, "'.'") && metric_by_path(ctx, at, line, len))
		return;
	if (line && !strcmp(got, "':'") && colon_in_name(ctx, at, line, len))
		return;
	if (line && (!strcmp(got, "name") || is_keyword(got)) && spaced_type(ctx, at, line, len))
		return;
	if (expects_end && ctx->open_kind && (!*got || starts_a_form(got))) {
		struct buf b = {0};
		buf_printf(&b, "the %s '%.*s' that begins here has no 'end'", ctx->open_kind, (int)ctx->open_name.len,
			   ctx->open_name.s ? ctx->open_name.s : "");
		note(ctx, ctx->open_loc, &b);
		buf_free(&b);
		return;
	}
	/* A keyword where a name was expected, not at the start of its line
	 * (where it begins a clause) and not one that only joins or ends. */
	static const char *const joins[] = {"end", "when", "unless", "let", "then", "within", "where", "and",
					    "or", "not", "as", "in", "has", "per", NULL};
	/* (columns count characters: the token's byte offset in its line) */
	size_t token = line ? diag_column_offset(line, len, at.first_column) : 0;
	int first = 1;
	for (size_t i = 0; i < token; i++)
		first &= line[i] == ' ' || line[i] == '\t';
	/* ... unless the word before it names what comes: `rule when`. */
	static const char *const namers[] = {"rule", "emit", "const", "fn", "event", "journey", "metric", "sla", "goal",
					     "budget", "stage", "spend", "observe", "given", "expect", NULL};
	size_t word_end = token;
	while (word_end > 0 && (line[word_end - 1] == ' ' || line[word_end - 1] == '\t'))
		word_end--;
	size_t word = word_end;
	while (word > 0 && line[word - 1] != ' ' && line[word - 1] != '\t')
		word--;
	int named = 0;
	for (int i = 0; namers[i] && word < word_end; i++)
		named |= word_end - word == strlen(namers[i]) && !memcmp(line + word, namers[i], word_end - word);
	named &= strcmp(got, "end") != 0; /* `emit end`: the name is missing */
	for (int i = 0; joins[i] && !first && !named; i++)
		first = !strcmp(got, joins[i]);
	if (expects_name && is_keyword(got) && !first) {
		struct buf b = {0};
		buf_printf(&b, "'%s' is a keyword; as a name it is quoted: \"%s\"", got, got);
		note(ctx, at, &b);
		buf_free(&b);
	}
}
