/* repl.c: `cxr repl`, an analyst's workbench, over include/cxr.h.
 *
 * The session is a script (the definitions typed or loaded) and the list
 * of events given so far.  Any change of the script recompiles it and
 * plays the events again, silently, so that customer state always is what
 * the current rules make of the events: that is how `:reload` keeps state
 * and `:rewind` goes back.  Lines are edited with GNU readline when the
 * input is a terminal; otherwise commands are read from stdin without
 * prompts, so sessions can be scripted and tested.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cxr.h"
#include "outfile.h"

int cli_want_color(int fd); /* main.c: NO_COLOR, TERM=dumb, a terminal */

#define TEST_EPOCH_NS (1767225600LL * 1000000000LL) /* the clock's start: 2026-01-01T00:00:00Z */

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const char *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
	t->p[t->len] = 0;
}

static void text_adds(struct text *t, const char *s) { text_add(t, s, strlen(s)); }
static void text_clear(struct text *t)
{
	t->len = 0;
	if (t->p)
		t->p[0] = 0;
}

struct given {
	char *json;
	int64_t time;
	char *source;
	uint64_t line;
};

/* A top-level definition of the session: `rule late_film`, `const LATE`... */
struct chunk {
	char *key;  /* its kind and name, so that a new one replaces it; NULL for loose text */
	char *body;
	int typed;  /* typed at the prompt, not read from the file loaded */
};

struct repl {
	struct text script;   /* the session's definitions, joined from chunks */
	struct chunk *chunks;
	size_t nchunks, capchunks;
	char *loaded;         /* the file of :load, for :reload */
	struct given *events; /* every event given, in order */
	size_t nevents, capevents;
	cxr *h;
	int64_t clock;
	int clock_set;
	cxr_log *log;         /* :open */
	char *log_path;
	size_t cursor;
	char *watch;          /* :watch RULE */
	int typed;            /* definitions typed since the last :load */
	int quit;
	int tty, color, strict, failures, quiet_feed;
	const cxr *counted_h;   /* the handle whose runtime errors are counted in failures ... */
	uint64_t counted;       /* ... and how many of them */
	char *fired_rule;     /* :until RULE: stop when it fires */
	int fired;
	uint64_t commands;    /* inputs taken: a typed event is <input>:N */
	char history[4096];   /* the history file, "" for none */
	/* A replay shows its first few messages in full and counts the rest. */
	int replaying, replay_shown;
	uint64_t replay_hidden;
};

#define REPLAY_MESSAGES_SHOWN 3

/* Ctrl-C: set by the signal, taken by whoever is waiting (the prompt
 * cancels its line, a replay stops between events). */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* readline's completion callbacks take no context: the one session of the
 * process is reached from here (the CLI's, not the library's, state). */
static struct repl *R;

static void say(struct repl *r, const char *color, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct repl *r, const char *color, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (r->color && color)
		fputs(color, stdout);
	vprintf(fmt, ap);
	if (r->color && color)
		fputs("\033[0m", stdout);
	va_end(ap);
	fflush(stdout);
}

static void fail(struct repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct repl *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (r->color)
		fputs("\033[1;31m", stdout);
	fputs("error: ", stdout);
	vprintf(fmt, ap);
	if (r->color)
		fputs("\033[0m", stdout);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	r->failures++;
}

/* A runtime error is a failure of the session (--strict exits 1): the
 * handle's count since the last command (a rebuilt handle counts its own,
 * replayed events included). */
static void count_runtime_errors(struct repl *r)
{
	struct cxr_counts c;
	cxr_counts(r->h, &c);
	/* (a handle rebuilt at the same address starts again from 0) */
	uint64_t before = r->h == r->counted_h && c.runtime_errors >= r->counted ? r->counted : 0;
	r->failures += (int)(c.runtime_errors - before);
	r->counted_h = r->h;
	r->counted = c.runtime_errors;
}

static void to_stdout(void *ud, const char *p, size_t n)
{
	(void)ud;
	fwrite(p, 1, n, stdout);
	fflush(stdout);
}

/* Diagnostics go to stdout too, so that a transcript shows them in place. */
static void diag_out(void *ud, const char *p, size_t n)
{
	struct repl *r = ud;
	if (r->quiet_feed)
		return;
	if (r->replaying && r->replay_shown >= REPLAY_MESSAGES_SHOWN) {
		r->replay_hidden++;
		return;
	}
	r->replay_shown += r->replaying;
	fwrite(p, 1, n, stdout);
	fflush(stdout);
}

/* A response line, printed as `rule @at -> action {fields}`. */
static void firing(void *ud, const char *p, size_t n)
{
	struct repl *r = ud;
	if (r->fired_rule) {
		char needle[300];
		snprintf(needle, sizeof needle, "\"rule\":\"%s\"", r->fired_rule);
		if (memmem(p, n, needle, strlen(needle)))
			r->fired = 1;
	}
	if (r->quiet_feed)
		return;
	/* The line is {"action":A,"rule":R,"customer":C,"at":T,...}: pick the
	 * first four by their known order and keep the rest as written. */
	struct text t = {0};
	text_add(&t, p, n);
	while (t.len && t.p[t.len - 1] == '\n')
		t.p[--t.len] = 0;
	char action[256] = "", rule[256] = "", at[64] = "";
	const char *rest = t.p;
	if (sscanf(t.p, "{\"action\":\"%255[^\"]\",\"rule\":\"%255[^\"]\"", action, rule) == 2) {
		const char *c = strstr(t.p, ",\"customer\":");
		const char *a = strstr(t.p, ",\"at\":\"");
		if (a)
			sscanf(a, ",\"at\":\"%63[^\"]\"", at);
		const char *after_at = a ? strchr(a + 7, '"') : NULL;
		say(r, "\033[1;32m", "  %s @%s -> %s {", rule, at, action);
		if (c && a) {
			printf("customer: %.*s", (int)(a - c - 12), c + 12);
			if (after_at && after_at[1] == ',')
				printf(", ");
			rest = after_at ? after_at + 2 : "";
		}
		/* the emitted fields: "k":v,... -> k: v, ... */
		for (const char *q = rest; *q && *q != '}';) {
			if (*q == '"') {
				const char *e = strchr(q + 1, '"');
				if (!e)
					break;
				printf("%.*s: ", (int)(e - q - 1), q + 1);
				q = e + 2;
				int depth = 0, str = 0;
				const char *v = q;
				for (; *q; q++) {
					if (str) {
						if (*q == '\\' && q[1])
							q++;
						else if (*q == '"')
							str = 0;
					} else if (*q == '"') {
						str = 1;
					} else if (*q == '{' || *q == '[') {
						depth++;
					} else if (*q == '}' || *q == ']') {
						if (depth-- == 0)
							break;
					} else if (*q == ',' && depth == 0) {
						break;
					}
				}
				printf("%.*s", (int)(q - v), v);
				if (*q == ',') {
					printf(", ");
					q++;
				}
			} else {
				q++;
			}
		}
		say(r, "\033[1;32m", "}\n");
	} else {
		printf("  %s\n", t.p);
	}
	free(t.p);
}

static void watch_note(void *ud, const char *p, size_t n)
{
	struct repl *r = ud;
	if (r->quiet_feed)
		return;
	if (r->color)
		fputs("\033[33m", stdout);
	fwrite(p, 1, n, stdout);
	if (r->color)
		fputs("\033[0m", stdout);
	fflush(stdout);
}

static int feed(struct repl *r, const struct given *g)
{
	int status = cxr_feed_json(r->h, g->json, strlen(g->json), g->source, g->line);
	/* The session is the stream's end after each event: what lateness
	 * holds back is processed now, its firings shown under it.  (A log
	 * replayed is in time order already.) */
	cxr_flush_input(r->h);
	int64_t now;
	if (cxr_clock(r->h, &now)) {
		r->clock = now;
		r->clock_set = 1;
	}
	return status;
}

/* A handle for the session's script: it grows a piece at a time, and its
 * imports come from the folder of the file loaded (or the current one). */
static cxr *session_handle(struct repl *r)
{
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, diag_out, r);
	cxr_set_growing(h, 1);
	char dir[4096] = ".";
	const char *slash = r->loaded ? strrchr(r->loaded, '/') : NULL;
	if (slash && (size_t)(slash - r->loaded) < sizeof dir) {
		memcpy(dir, r->loaded, (size_t)(slash - r->loaded));
		dir[slash == r->loaded ? 1 : slash - r->loaded] = 0;
	}
	const char *const roots[] = {dir};
	cxr_set_import_roots(h, roots, 1);
	return h;
}

/* The name messages give the session's script: the file's until
 * something is typed in (then its lines are the session's). */
static const char *script_name(const struct repl *r)
{
	return r->loaded && !r->typed ? r->loaded : "<session>";
}

/* Compile the session's script and play every event again, quietly. */
static int rebuild(struct repl *r, int report)
{
	cxr *h = session_handle(r);
	int quiet = r->quiet_feed;
	r->quiet_feed = !report;
	int errors = cxr_compile_string(h, script_name(r), r->script.p ? r->script.p : "", r->script.len);
	r->quiet_feed = quiet;
	if (errors) {
		cxr_free(h);
		return -1;
	}
	cxr_on_output(h, firing, r);
	cxr *old = r->h;
	r->h = h;
	r->quiet_feed = 1;
	int64_t clock = r->clock;
	int clock_set = r->clock_set;
	for (size_t i = 0; i < r->nevents; i++)
		feed(r, &r->events[i]);
	if (clock_set)
		cxr_advance_to(h, clock);
	r->clock = clock;
	r->clock_set = clock_set;
	r->quiet_feed = 0;
	if (r->watch && cxr_explain_begin(h, NULL, r->watch, watch_note, r) != CXR_OK) {
		free(r->watch);
		r->watch = NULL;
	}
	cxr_free(old);
	return 0;
}

static void remember(struct repl *r, const char *json, int64_t t, const char *source, uint64_t line)
{
	if (r->nevents == r->capevents) {
		r->capevents = r->capevents ? r->capevents * 2 : 64;
		r->events = realloc(r->events, sizeof *r->events * r->capevents);
		if (!r->events)
			abort();
	}
	struct given *g = &r->events[r->nevents++];
	g->json = strdup(json);
	g->time = t;
	g->source = strdup(source);
	g->line = line;
	feed(r, g);
}

static int64_t clock_now(struct repl *r) { return r->clock_set ? r->clock : TEST_EPOCH_NS; }

/* ---- events typed at the prompt ---- */

static int is_word(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

static void json_str(struct text *t, const char *s, size_t n)
{
	text_adds(t, "\"");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '"' || c == '\\') {
			text_add(t, "\\", 1);
			text_add(t, &c, 1);
		} else if ((unsigned char)c < 0x20) {
			char esc[8];
			snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)c);
			text_adds(t, esc);
		} else {
			text_add(t, &c, 1);
		}
	}
	text_adds(t, "\"");
}

static void add_time(void *ud, const char *p, size_t n)
{
	struct text *t = ud;
	json_str(t, p, n);
}

/* A value as the language writes it: @time, 5m, 42, "text", true, word. */
static int add_value(struct text *t, const char *v, size_t n)
{
	int64_t ns;
	char *end;
	if (n && v[0] == '@') {
		if (cxr_parse_time(v + 1, n - 1, &ns) < 0)
			return -1;
		cxr_format_time(ns, add_time, t);
		return 0;
	}
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		json_str(t, v + 1, n - 2);
		return 0;
	}
	if ((n == 4 && !memcmp(v, "true", 4)) || (n == 5 && !memcmp(v, "false", 5)) || (n == 4 && !memcmp(v, "null", 4))) {
		text_add(t, v, n);
		return 0;
	}
	char tmp[128];
	if (n < sizeof tmp) {
		memcpy(tmp, v, n);
		tmp[n] = 0;
		strtod(tmp, &end);
		if (*end == 0 && n) {
			text_add(t, v, n);
			return 0;
		}
	}
	json_str(t, v, n); /* a duration such as 5m, or a bare word: text */
	return 0;
}

/* TYPE key=value ... -> a JSON record with the clock's time. */
static int event_line(struct repl *r, const char *line, struct text *json, const char **why)
{
	const char *p = line;
	while (*p == ' ')
		p++;
	const char *type = p;
	size_t tlen;
	if (*p == '"') {
		const char *e = strchr(p + 1, '"');
		if (!e) {
			*why = "unterminated quoted event type";
			return -1;
		}
		type = p + 1;
		tlen = (size_t)(e - p - 1);
		p = e + 1;
	} else {
		while (*p && *p != ' ')
			p++;
		tlen = (size_t)(p - type);
		if (!is_word(type, tlen)) {
			*why = "not an event";
			return -1;
		}
	}
	const char *key_field, *time_field, *type_field;
	cxr_input_fields(r->h, &key_field, &time_field, &type_field);
	text_adds(json, "{");
	json_str(json, type_field, strlen(type_field));
	text_adds(json, ":");
	json_str(json, type, tlen);
	int have_time = 0;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		if (*p != '=' || p == k) {
			*why = "expected key=value after the event type";
			return -1;
		}
		size_t klen = (size_t)(p - k);
		p++;
		const char *v = p;
		if (*p == '"') {
			p++;
			while (*p && *p != '"')
				p += *p == '\\' && p[1] ? 2 : 1;
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ' ')
				p++;
		}
		text_adds(json, ",");
		json_str(json, k, klen);
		text_adds(json, ":");
		if (add_value(json, v, (size_t)(p - v)) < 0) {
			*why = "bad time value (write @2026-03-01T19:00Z)";
			return -1;
		}
		have_time |= klen == strlen(time_field) && !memcmp(k, time_field, klen);
	}
	(void)key_field;
	if (!have_time) {
		text_adds(json, ",");
		json_str(json, time_field, strlen(time_field));
		text_adds(json, ":");
		cxr_format_time(clock_now(r), add_time, json);
	}
	text_adds(json, "}");
	return 0;
}

/* ---- definitions ---- */

/* `rule ...`, `const ...`: the library knows the words that start a form. */
static int starts_definition(const char *s) { return cxr_starts_form(s); }

/* "rule late_film": the kind and the name of a definition. */
static char *def_key(const char *s)
{
	s += strspn(s, " \t");
	const char *kind_end = s + strcspn(s, " \t\n{(");
	const char *name = kind_end + strspn(kind_end, " \t");
	const char *name_end = name;
	if (*name == '"') {
		name_end = strchr(name + 1, '"');
		name_end = name_end ? name_end + 1 : name + strlen(name);
	} else {
		name_end = name + strcspn(name, " \t\n{(=:");
	}
	size_t n = (size_t)(kind_end - s) + 1 + (size_t)(name_end - name);
	char *key = malloc(n + 1);
	if (!key)
		abort();
	snprintf(key, n + 1, "%.*s %.*s", (int)(kind_end - s), s, (int)(name_end - name), name);
	return key;
}

static void chunk_add(struct repl *r, char *key, const char *body, size_t n)
{
	if (r->nchunks == r->capchunks) {
		r->capchunks = r->capchunks ? r->capchunks * 2 : 32;
		r->chunks = realloc(r->chunks, sizeof *r->chunks * r->capchunks);
		if (!r->chunks)
			abort();
	}
	r->chunks[r->nchunks].key = key;
	r->chunks[r->nchunks].body = strndup(body, n);
	r->chunks[r->nchunks].typed = 0;
	r->nchunks++;
}

static void chunks_free(struct repl *r)
{
	for (size_t i = 0; i < r->nchunks; i++) {
		free(r->chunks[i].key);
		free(r->chunks[i].body);
	}
	r->nchunks = 0;
}

/* The script the session compiles: every chunk but the test blocks, which
 * `cxr test` runs and which a live redefinition would only break.
 * (:save writes them back.) */
static void join_chunks_into(struct repl *r, struct text *out, int with_tests)
{
	text_clear(out);
	for (size_t i = 0; i < r->nchunks; i++) {
		if (!with_tests && r->chunks[i].key && !strncmp(r->chunks[i].key, "test ", 5))
			continue;
		text_adds(out, r->chunks[i].body);
		if (out->len && out->p[out->len - 1] != '\n')
			text_adds(out, "\n");
	}
}

static void join_chunks(struct repl *r)
{
	join_chunks_into(r, &r->script, 0);
}

/* A script's top-level forms: each starts at the beginning of a line with
 * a keyword; comments and blank lines before one belong to it. */
static void split_script(struct repl *r, const char *text)
{
	chunks_free(r);
	const char *start = text, *p = text;
	while (*p) {
		const char *line = p;
		p += strcspn(p, "\n");
		if (*p)
			p++;
		if (line != start && starts_definition(line)) {
			/* the comments just above the form go with it */
			const char *cut = line;
			while (cut > start) {
				const char *prev = cut - 1;
				while (prev > start && prev[-1] != '\n')
					prev--;
				const char *q = prev + strspn(prev, " \t");
				if (*q != '#')
					break;
				cut = prev;
			}
			if (cut > start)
				chunk_add(r, starts_definition(start) ? def_key(start) : NULL, start, (size_t)(cut - start));
			start = cut;
		}
	}
	if (*start)
		chunk_add(r, starts_definition(start) ? def_key(start) : NULL, start, strlen(start));
	join_chunks(r);
}

/* A definition typed at the prompt: it replaces one of the same kind and
 * name, or comes last.  A script that no longer compiles is rolled back. */
static void define(struct repl *r, const char *text)
{
	char *key = def_key(text);
	size_t at = r->nchunks;
	for (size_t i = 0; i < r->nchunks; i++)
		if (r->chunks[i].key && !strcmp(r->chunks[i].key, key))
			at = i;
	char *old = NULL;
	int old_typed = 0;
	if (at < r->nchunks) {
		old = r->chunks[at].body;
		old_typed = r->chunks[at].typed;
		r->chunks[at].body = strdup(text);
		free(key);
	} else {
		chunk_add(r, key, text, strlen(text));
	}
	r->chunks[at].typed = 1;
	r->typed++;
	join_chunks(r);
	if (rebuild(r, 1) < 0) {
		if (old) {
			free(r->chunks[at].body);
			r->chunks[at].body = old;
			r->chunks[at].typed = old_typed;
		} else {
			r->nchunks--;
			free(r->chunks[r->nchunks].key);
			free(r->chunks[r->nchunks].body);
		}
		join_chunks(r);
		rebuild(r, 0);
		r->failures++;
		return;
	}
	printf("  %s\n", old ? "redefined" : "defined");
	free(old);
}

/* ---- names: rules and customers, for checks and completion ---- */

struct names {
	char **v;
	size_t n, cap;
};

static void name_add(void *ud, const char *p, size_t n)
{
	struct names *nm = ud;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		nm->v = realloc(nm->v, sizeof *nm->v * nm->cap);
		if (!nm->v)
			abort();
	}
	nm->v[nm->n++] = strndup(p, n);
}

static void names_clear(struct names *nm)
{
	for (size_t k = 0; k < nm->n; k++)
		free(nm->v[k]);
	nm->n = 0;
}

static void names_of(struct repl *r, enum cxr_name_kind kind, struct names *nm)
{
	names_clear(nm);
	cxr_names(r->h, kind, name_add, nm);
}

static int names_has(const struct names *nm, const char *s)
{
	for (size_t k = 0; k < nm->n; k++)
		if (!strcmp(nm->v[k], s))
			return 1;
	return 0;
}

/* Edits (insert, delete, replace) that turn a into b, up to 32 bytes. */
static size_t edits(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 32 || m > 32)
		return (size_t)-1;
	size_t row[33];
	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[m];
}

/* "; did you mean 'x'?" for the name nearest to s, if near enough. */
static const char *did_you_mean(const struct names *nm, const char *s, char *out, size_t size)
{
	const char *best = NULL;
	size_t best_d = strlen(s) / 3 + 1;
	for (size_t k = 0; k < nm->n; k++) {
		size_t d = edits(s, nm->v[k]);
		if (d <= best_d && (!best || d < best_d)) {
			best = nm->v[k];
			best_d = d;
		}
	}
	if (best)
		snprintf(out, size, "; did you mean '%s'?", best);
	else
		*out = 0;
	return out;
}

/* Is there a rule named s?  If not, say so (with the nearest) and fail. */
static int known_rule(struct repl *r, const char *command, const char *s)
{
	struct names nm = {0};
	names_of(r, CXR_NAMES_RULES, &nm);
	int ok = names_has(&nm, s);
	if (!ok) {
		char hint[300];
		fail(r, "%s: no rule named '%s'%s", command, s, did_you_mean(&nm, s, hint, sizeof hint));
	}
	names_clear(&nm);
	free(nm.v);
	return ok;
}

/* ---- commands ---- */

static void add_raw(void *ud, const char *p, size_t n) { text_add(ud, p, n); }

static void print_time(struct repl *r)
{
	struct text t = {0};
	cxr_format_time(clock_now(r), add_raw, &t);
	printf("  %s%s\n", t.p, r->clock_set ? "" : " (no event yet)");
	free(t.p);
}

/* A replay (:step, :until, :advance over an open log) shows the first
 * few messages of its events in full, counts the rest, and stops
 * between two events at Ctrl-C. */
static void replay_begin(struct repl *r)
{
	r->replaying = 1;
	r->replay_shown = 0;
	r->replay_hidden = 0;
	interrupted = 0;
}

static void replay_end(struct repl *r)
{
	r->replaying = 0;
	if (r->replay_hidden)
		printf("  note: %llu more messages in this replay (the first %d are shown)\n",
		       (unsigned long long)r->replay_hidden, REPLAY_MESSAGES_SHOWN);
	if (interrupted) {
		interrupted = 0;
		printf("  interrupted (Ctrl-C)\n");
	}
	printf("  %zu of %zu events played\n", r->cursor, cxr_log_count(r->log));
}

#define STEP_LISTED 10   /* events :step lists, one line each */
#define PLAYED_SHOWN 120 /* bytes of an event listed */

/* "  > log.jsonl:12  {...}": the event about to be played. */
static void show_played(const char *rec, const char *source, uint64_t line)
{
	size_t n = strlen(rec);
	if (n > PLAYED_SHOWN) {
		n = PLAYED_SHOWN;
		while (n && ((unsigned char)rec[n] & 0xC0) == 0x80)
			n--; /* not inside a character */
	}
	printf("  > %s:%llu  %.*s%s\n", source, (unsigned long long)line, (int)n, rec, rec[n] ? "..." : "");
	fflush(stdout);
}

/* Play the next event of the open log: 0 when it has ended or Ctrl-C
 * stopped the replay. */
static int play_next(struct repl *r, int listed)
{
	if (interrupted || r->cursor >= cxr_log_count(r->log))
		return 0;
	int64_t t;
	uint64_t line;
	const char *rec = cxr_log_record(r->log, r->cursor++, &t, &line);
	if (listed) {
		/* the timers due before it fire first, above its line */
		if (t > clock_now(r) && t > INT64_MIN)
			cxr_advance_to(r->h, t - 1);
		show_played(rec, r->log_path, line);
	}
	remember(r, rec, t, r->log_path, line);
	return 1;
}

/* The time of the next event of the open log, if there is one. */
static int next_log_time(struct repl *r, int64_t *t)
{
	if (!r->log || r->cursor >= cxr_log_count(r->log))
		return 0;
	uint64_t line;
	cxr_log_record(r->log, r->cursor, t, &line);
	return 1;
}

/* :save writes two files; neither may be the log the session reads from
 * (it would be cut to the events played so far), nor may the events go
 * over the script loaded.  Checked before either file is opened. */
static int save_refused(struct repl *r, const char *path, const char *events_path)
{
	const char *outs[2][2] = {{"script", path}, {"events", events_path}};
	for (int i = 0; i < 2; i++) {
		if (r->log_path && same_file(outs[i][1], r->log_path)) {
			fail(r, "cannot save %s: it is the log opened with :open, and saving would replace it with the "
				"%zu event%s played so far; choose another name",
			     outs[i][1], r->nevents, r->nevents == 1 ? "" : "s");
			return 1;
		}
	}
	if (r->loaded && same_file(events_path, r->loaded)) {
		fail(r, "cannot save %s: it is the script this session loaded; choose another name", events_path);
		return 1;
	}
	return 0;
}

static int save(struct repl *r, const char *path)
{
	struct text logp = {0};
	size_t n = strlen(path);
	text_add(&logp, path, n > 4 && !strcmp(path + n - 4, ".cxr") ? n - 4 : n);
	text_adds(&logp, ".jsonl");
	if (save_refused(r, path, logp.p)) {
		free(logp.p);
		return -1;
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		fail(r, "cannot save %s: %s", path, strerror(errno));
		free(logp.p);
		return -1;
	}
	struct text all = {0};
	join_chunks_into(r, &all, 1);
	fwrite(all.p ? all.p : "", 1, all.len, f);
	free(all.p);
	if (fclose(f) != 0) {
		fail(r, "cannot save %s: %s", path, strerror(errno));
		free(logp.p);
		return -1;
	}
	f = fopen(logp.p, "w");
	if (!f) {
		fail(r, "cannot save %s: %s", logp.p, strerror(errno));
		free(logp.p);
		return -1;
	}
	for (size_t i = 0; i < r->nevents; i++)
		fprintf(f, "%s\n", r->events[i].json);
	if (fclose(f) != 0) {
		fail(r, "cannot save %s: %s", logp.p, strerror(errno));
		free(logp.p);
		return -1;
	}
	printf("  saved %s and %s\n", path, logp.p);
	free(logp.p);
	return 0;
}

static void why(struct repl *r, const char *id, const char *rule)
{
	cxr *h = session_handle(r);
	if (cxr_compile_string(h, script_name(r), r->script.p ? r->script.p : "", r->script.len) ||
	    cxr_explain_begin(h, id, rule, NULL, NULL) != CXR_OK) {
		cxr_free(h);
		r->failures++;
		return;
	}
	/* The events again, for their notes: their runtime errors were shown
	 * when they were given. */
	int quiet = r->quiet_feed;
	r->quiet_feed = 1;
	for (size_t i = 0; i < r->nevents; i++) {
		cxr_feed_json(h, r->events[i].json, strlen(r->events[i].json), r->events[i].source, r->events[i].line);
		cxr_flush_input(h);
	}
	if (r->clock_set)
		cxr_advance_to(h, r->clock);
	r->quiet_feed = quiet;
	if (cxr_explain_finish(h, 0, to_stdout, NULL) != CXR_OK)
		r->failures++;
	cxr_free(h);
}

static void disasm_filter(void *ud, const char *p, size_t n)
{
	const char *rule = ud;
	/* print the block of one rule: from "rule NAME (" to the next "rule " */
	char head[300];
	snprintf(head, sizeof head, "rule %s (", rule);
	const char *s = memmem(p, n, head, strlen(head));
	if (!s)
		return;
	const char *e = s + 1;
	const char *next_rule = memmem(e, (size_t)(p + n - e), "\nrule ", 6);
	const char *indexes = memmem(e, (size_t)(p + n - e), "\nindex ", 7);
	e = next_rule && (!indexes || next_rule < indexes) ? next_rule : indexes;
	fwrite(s, 1, e ? (size_t)(e - s + 1) : (size_t)(p + n - s), stdout);
}

/* A customer id as typed: quoted ("Case 1907") or the rest of the line. */
static char *unquote(char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = 0;
		return s + 1;
	}
	return s;
}

/* :why ID [RULE], where ID may hold spaces: quoted, or the longest run
 * of words that is a customer of the session; the rest is the rule. */
static void split_customer_rule(struct repl *r, char *arg, char **id, char **rule)
{
	*id = arg;
	*rule = NULL;
	if (*arg == '"') {
		char *close = strchr(arg + 1, '"');
		if (close) {
			*close = 0;
			*id = arg + 1;
			char *rest = close + 1 + strspn(close + 1, " ");
			*rule = *rest ? rest : NULL;
		}
		return;
	}
	struct names nm = {0};
	names_of(r, CXR_NAMES_CUSTOMERS, &nm);
	char *cut = NULL; /* the space after the longest known id */
	for (char *sp = arg; (sp = strchr(sp, ' ')); sp++) {
		*sp = 0;
		if (names_has(&nm, arg))
			cut = sp;
		*sp = ' ';
	}
	if (!names_has(&nm, arg)) {
		if (!cut) { /* nobody known: the last word is the rule if it names one */
			cut = strrchr(arg, ' ');
			names_of(r, CXR_NAMES_RULES, &nm);
			if (cut && !names_has(&nm, cut + 1))
				cut = NULL;
		}
		if (cut) {
			*cut = 0;
			*rule = cut + 1 + strspn(cut + 1, " ");
		}
	}
	names_clear(&nm);
	free(nm.v);
}

struct meta;
typedef void meta_fn(struct repl *r, char *arg, const struct meta *m);

/* What a command's argument completes to. */
enum completes { COMPLETE_NOTHING, COMPLETE_FILES, COMPLETE_RULES, COMPLETE_CUSTOMERS, COMPLETE_COMMANDS };

/* One row per meta-command: :help, completion and dispatch read it. */
struct meta {
	const char *name, *alias;
	const char *usage; /* its arguments */
	const char *help;  /* one line */
	const char *more;  /* :help NAME adds this, or NULL */
	enum completes completes;
	meta_fn *run;
};

static meta_fn cmd_load, cmd_reload, cmd_rules, cmd_stages, cmd_customer, cmd_why, cmd_watch, cmd_advance,
	cmd_time, cmd_open, cmd_step, cmd_until, cmd_rewind, cmd_disasm, cmd_reset, cmd_save, cmd_help, cmd_quit;

static const struct meta metas[] = {
	{":load", NULL, "FILE", "load a script; the events stay, definitions typed before are dropped",
	 "  The events given so far are played again through the new script, so the state\n"
	 "  is what it makes of them.  A script that does not compile leaves the session as it was.\n",
	 COMPLETE_FILES, cmd_load},
	{":reload", NULL, "", "read the loaded script again; events and typed definitions stay",
	 "  A definition typed at the prompt replaces the file's of the same kind and name.\n",
	 COMPLETE_NOTHING, cmd_reload},
	{":rules", NULL, "", "the rules, with their firings and customers so far", NULL, COMPLETE_NOTHING, cmd_rules},
	{":stages", NULL, "", "the journeys' stages, with the customers in each", NULL, COMPLETE_NOTHING, cmd_stages},
	{":customer", NULL, "ID", "one customer: stages, variables, tags, pending timers",
	 "  An id with spaces is written as it is or quoted: :customer Case 1907\n", COMPLETE_CUSTOMERS,
	 cmd_customer},
	{":why", NULL, "ID [RULE]", "for each event of a customer, why RULE (or each rule) fired or not",
	 "  :why c1 late_film_voucher     :why \"Case 1907\" escalate\n", COMPLETE_CUSTOMERS, cmd_why},
	{":watch", NULL, "[RULE]", "print each firing and near miss of RULE as events play (none: off)", NULL,
	 COMPLETE_RULES, cmd_watch},
	{":advance", NULL, "DURATION", "move the clock and fire the timers due",
	 "  With a log open, its events up to the new time are played first.\n", COMPLETE_NOTHING, cmd_advance},
	{":time", NULL, "", "show the clock", NULL, COMPLETE_NOTHING, cmd_time},
	{":open", NULL, "FILE", "open a log (JSON Lines or CSV) to replay, in time order",
	 "  :step, :until and :advance play it; firings show under the events that cause them.\n",
	 COMPLETE_FILES, cmd_open},
	{":step", NULL, "[N]", "play the next N events of the log (1), listing them",
	 "  The first " "10" " are listed one line each; Ctrl-C stops between two events.\n", COMPLETE_NOTHING,
	 cmd_step},
	{":until", NULL, "@TIME|RULE", "play the log up to a time, or until RULE fires",
	 "  :until @2026-03-01T12:00Z     :until late_film_voucher     (Ctrl-C stops it)\n", COMPLETE_RULES,
	 cmd_until},
	{":rewind", NULL, "DURATION", "go back: events after the new clock are forgotten",
	 "  Typed events up to the new clock are played again; the log's later events\n"
	 "  are played again by :step.\n",
	 COMPLETE_NOTHING, cmd_rewind},
	{":disasm", NULL, "[RULE]", "the bytecode of the script, or of one rule", NULL, COMPLETE_RULES, cmd_disasm},
	{":reset", NULL, "", "forget events and state, keep the definitions", NULL, COMPLETE_NOTHING, cmd_reset},
	{":save", NULL, "FILE", "write the session: its script to FILE, its events to FILE's .jsonl", NULL,
	 COMPLETE_FILES, cmd_save},
	{":help", ":h", "[COMMAND]", "this list, or more about one command", NULL, COMPLETE_COMMANDS, cmd_help},
	{":quit", ":q", "", "leave (Ctrl-D too)", NULL, COMPLETE_NOTHING, cmd_quit},
};

#define NMETAS (sizeof metas / sizeof metas[0])

static const struct meta *meta_find(const char *name, size_t n)
{
	for (size_t i = 0; i < NMETAS; i++)
		if ((strlen(metas[i].name) == n && !strncmp(metas[i].name, name, n)) ||
		    (metas[i].alias && strlen(metas[i].alias) == n && !strncmp(metas[i].alias, name, n)))
			return &metas[i];
	return NULL;
}

static const char help_intro[] =
	"Type events, expressions and definitions; see what fires.\n"
	"  film_started customer=c1 session=s9 scheduled=@2026-03-01T19:00Z started=@2026-03-01T19:13Z\n"
	"  {\"type\":\"support_request\",\"customer\":\"c2\",\"ts\":\"2026-03-01T10:00:00Z\",\"ticket\":\"t1\"}\n"
	"  3m + 2m                      an expression: 5m  (duration)\n"
	"  rule ... end, const, fn, event, journey, metric, sla, goal, budget: defined live\n"
	"Events use the script's input field names and, without a time, the clock's;\n"
	"the clock follows event times.  Unfinished input goes on at ..>; an empty line\n"
	"or Ctrl-C cancels it.\n";

static void print_help(FILE *out)
{
	fputs(help_intro, out);
	for (size_t i = 0; i < NMETAS; i++) {
		char head[64];
		snprintf(head, sizeof head, "%s%s%s", metas[i].name, *metas[i].usage ? " " : "", metas[i].usage);
		fprintf(out, "  %-28s %s\n", head, metas[i].help);
	}
	fputs("  :help COMMAND tells more about one.\n", out);
}

static void cmd_help(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg) {
		print_help(stdout);
		return;
	}
	char name[64];
	snprintf(name, sizeof name, "%s%s", *arg == ':' ? "" : ":", arg);
	const struct meta *c = meta_find(name, strlen(name));
	if (!c) {
		fail(r, ":help: no command %s (:help lists them)", name);
		return;
	}
	printf("  %s%s%s\n  %s%s%s%s\n", c->name, *c->usage ? " " : "", c->usage, c->help,
	       c->alias ? " (also " : "", c->alias ? c->alias : "", c->alias ? ")" : "");
	if (c->more)
		fputs(c->more, stdout);
}

static void cmd_quit(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	r->quit = 1;
}

/* A copy of the session's definitions, to go back to. */
struct chunks_saved {
	struct chunk *v;
	size_t n;
	char *loaded;
	int typed;
};

static void chunks_save(struct repl *r, struct chunks_saved *s)
{
	s->v = malloc(sizeof *s->v * (r->nchunks + 1));
	if (!s->v)
		abort();
	for (size_t i = 0; i < r->nchunks; i++) {
		s->v[i] = r->chunks[i];
		s->v[i].key = r->chunks[i].key ? strdup(r->chunks[i].key) : NULL;
		s->v[i].body = strdup(r->chunks[i].body);
	}
	s->n = r->nchunks;
	s->loaded = r->loaded ? strdup(r->loaded) : NULL;
	s->typed = r->typed;
}

/* Back to a saved copy (restore) or not (drop): the copy is freed. */
static void chunks_restore(struct repl *r, struct chunks_saved *s, int restore)
{
	if (restore) {
		chunks_free(r);
		for (size_t i = 0; i < s->n; i++) {
			chunk_add(r, s->v[i].key, s->v[i].body, strlen(s->v[i].body));
			r->chunks[i].typed = s->v[i].typed;
		}
		free(r->loaded);
		r->loaded = s->loaded;
		r->typed = s->typed;
		join_chunks(r);
	} else {
		for (size_t i = 0; i < s->n; i++)
			free(s->v[i].key);
		free(s->loaded);
	}
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].body);
	free(s->v);
}

/* "rule a, const B": the definitions typed in the session. */
static int typed_names(struct repl *r, struct text *out)
{
	int n = 0;
	for (size_t i = 0; i < r->nchunks; i++)
		if (r->chunks[i].typed) {
			text_adds(out, n++ ? ", " : "");
			text_adds(out, r->chunks[i].key ? r->chunks[i].key : "(text)");
		}
	return n;
}

/* :load FILE, and :reload (keep_typed): the file's definitions, then
 * those typed in the session over them when kept. */
static void load_file(struct repl *r, const char *path, int keep_typed)
{
	FILE *f = fopen(path, "r");
	struct stat sb;
	if (!f || (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode))) {
		fail(r, "cannot read %s: %s", path, f ? "it is a folder, not a script" : strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	struct text file = {0};
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		text_add(&file, buf, n);
	fclose(f);
	struct chunks_saved saved;
	chunks_save(r, &saved);
	struct text typed = {0};
	int ntyped = typed_names(r, &typed);
	split_script(r, file.p ? file.p : "");
	free(file.p);
	free(r->loaded);
	r->loaded = strdup(path);
	r->typed = 0;
	for (size_t i = 0; keep_typed && i < saved.n; i++) {
		if (!saved.v[i].typed)
			continue;
		size_t at = r->nchunks;
		for (size_t k = 0; saved.v[i].key && k < r->nchunks; k++)
			if (r->chunks[k].key && !strcmp(r->chunks[k].key, saved.v[i].key))
				at = k;
		if (at < r->nchunks) {
			free(r->chunks[at].body);
			r->chunks[at].body = strdup(saved.v[i].body);
		} else {
			chunk_add(r, saved.v[i].key ? strdup(saved.v[i].key) : NULL, saved.v[i].body,
				  strlen(saved.v[i].body));
		}
		r->chunks[at].typed = 1;
		r->typed++;
	}
	join_chunks(r);
	if (rebuild(r, 1) < 0) {
		chunks_restore(r, &saved, 1);
		rebuild(r, 0);
		r->failures++;
		free(typed.p);
		return;
	}
	chunks_restore(r, &saved, 0);
	printf("  %s %s\n", keep_typed ? "reloaded" : "loaded", path);
	if (ntyped)
		printf("  %s %d definition%s typed in this session: %s\n", keep_typed ? "kept" : "dropped", ntyped,
		       ntyped == 1 ? "" : "s", typed.p);
	free(typed.p);
}

static void cmd_load(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg) {
		fail(r, ":load needs a file (:load rules.cxr)");
		return;
	}
	load_file(r, arg, 0);
}

static void cmd_reload(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	(void)arg;
	if (!r->loaded) {
		fail(r, "nothing loaded to reload (:load FILE first)");
		return;
	}
	char *path = strdup(r->loaded); /* load_file replaces r->loaded */
	load_file(r, path, 1);
	free(path);
}

static void cmd_rules(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	cxr_describe(r->h, "rules", NULL, to_stdout, NULL);
}

static void cmd_stages(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	cxr_describe(r->h, "stages", NULL, to_stdout, NULL);
}

static void cmd_customer(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg)
		fail(r, ":customer needs a customer key");
	else
		cxr_describe(r->h, "customer", unquote(arg), to_stdout, NULL);
}

static void cmd_why(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg) {
		fail(r, ":why needs a customer and, if you like, a rule");
		return;
	}
	char *id, *rule;
	split_customer_rule(r, arg, &id, &rule);
	/* (an unknown customer is the explanation's to tell: it knows every
	 * key the events named, read by a rule or not) */
	if (!rule || known_rule(r, ":why", rule))
		why(r, id, rule);
}

static void cmd_disasm(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg)
		cxr_disasm(r->h, to_stdout, NULL);
	else if (known_rule(r, ":disasm", arg))
		cxr_disasm(r->h, disasm_filter, arg);
}

static void cmd_watch(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (*arg && !known_rule(r, ":watch", arg))
		return;
	free(r->watch);
	r->watch = *arg ? strdup(arg) : NULL;
	if (r->watch && cxr_explain_begin(r->h, NULL, r->watch, watch_note, r) != CXR_OK) {
		free(r->watch);
		r->watch = NULL;
		r->failures++;
	} else if (!r->watch) {
		cxr_explain_end(r->h, 0, NULL, NULL);
		printf("  watch off\n");
	} else {
		printf("  watching %s\n", r->watch);
	}
}

static void forget_events(struct repl *r, size_t keep)
{
	for (size_t i = keep; i < r->nevents; i++) {
		free(r->events[i].json);
		free(r->events[i].source);
	}
	r->nevents = keep;
}

static void cmd_reset(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	forget_events(r, 0);
	r->clock_set = 0;
	r->cursor = 0;
	rebuild(r, 0);
	printf("  events and state forgotten\n");
}

static void cmd_save(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg)
		fail(r, ":save needs a file name (:save session.cxr)");
	else
		save(r, arg);
}

static void cmd_time(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	print_time(r);
}

static void cmd_advance(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	int64_t d, to, next;
	if (cxr_parse_duration(arg, strlen(arg), &d) < 0 || d < 0) {
		fail(r, ":advance takes a duration such as 5m");
		return;
	}
	if (__builtin_add_overflow(clock_now(r), d, &to)) {
		fail(r, ":advance %s goes past the last time cxr holds (2262-04-11T23:47:16.854775807Z)", arg);
		return;
	}
	/* Time cannot pass over the log's own events: they are played first. */
	if (next_log_time(r, &next) && next <= to) {
		size_t before = r->cursor;
		replay_begin(r);
		while (next_log_time(r, &next) && next <= to && play_next(r, 0))
			;
		int stopped = interrupted;
		printf("  played the log's %zu events up to then first\n", r->cursor - before);
		replay_end(r);
		if (stopped)
			return;
	}
	r->clock = to;
	r->clock_set = 1;
	/* an empty event list still has a clock: remember it by advancing */
	cxr_advance_to(r->h, r->clock);
	print_time(r);
}

static void cmd_open(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	struct stat sb;
	if (!*arg) {
		fail(r, ":open needs a log file (:open events.jsonl)");
		return;
	}
	if (stat(arg, &sb) < 0) {
		fail(r, "cannot open %s: %s", arg, strerror(errno));
		return;
	}
	if (S_ISDIR(sb.st_mode)) {
		fail(r, "cannot open %s: it is a folder, not a log", arg);
		return;
	}
	cxr_log *l = cxr_log_read(r->h, arg);
	if (!l) {
		r->failures++;
		return;
	}
	cxr_log_free(r->log);
	free(r->log_path);
	r->log = l;
	r->log_path = strdup(arg);
	r->cursor = 0;
	printf("  %zu events in %s; :step plays them\n", cxr_log_count(l), arg);
}

static void cmd_step(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	char *end = arg;
	errno = 0;
	long long n = *arg ? strtoll(arg, &end, 10) : 1;
	if (*end || n <= 0 || errno) {
		fail(r, ":step takes a number of events, 1 or more (got '%s')", arg);
		return;
	}
	if (!r->log) {
		fail(r, "no log open: :open FILE first");
		return;
	}
	replay_begin(r);
	long long played = 0;
	while (played < n && play_next(r, played < STEP_LISTED))
		played++;
	if (played > STEP_LISTED)
		printf("  (and %lld more events, not listed)\n", played - STEP_LISTED);
	replay_end(r);
}

static void cmd_until(struct repl *r, char *arg, const struct meta *m)
{
	int64_t until = 0;
	if (!*arg) {
		fail(r, ":until takes a time (@2026-03-01T12:00Z) or a rule");
		return;
	}
	if (*arg == '@') {
		if (cxr_parse_time(arg + 1, strlen(arg + 1), &until) < 0) {
			fail(r, ":until: '%s' is not a time (write @2026-03-01T12:00Z)", arg);
			return;
		}
	} else if (!known_rule(r, m->name, arg)) {
		return;
	}
	if (!r->log) {
		fail(r, "no log open: :open FILE first");
		return;
	}
	replay_begin(r);
	if (*arg == '@') {
		int64_t next;
		while (next_log_time(r, &next) && next <= until && play_next(r, 0))
			;
		if (!interrupted && until > clock_now(r)) {
			r->clock = until;
			r->clock_set = 1;
			cxr_advance_to(r->h, until);
		}
	} else {
		r->fired_rule = arg;
		r->fired = 0;
		while (!r->fired && play_next(r, 0))
			;
		r->fired_rule = NULL;
		if (!r->fired && !interrupted)
			printf("  the log ended without %s firing\n", arg);
	}
	replay_end(r);
}

static void cmd_rewind(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	int64_t d;
	if (cxr_parse_duration(arg, strlen(arg), &d) < 0 || d < 0) {
		fail(r, ":rewind takes a duration such as 5m");
		return;
	}
	int64_t target = clock_now(r) - d;
	/* keep the events up to the target, typed or played (typed ones may
	 * be out of order), and play them again */
	size_t keep = 0;
	for (size_t i = 0; i < r->nevents; i++) {
		if (r->events[i].time <= target) {
			r->events[keep++] = r->events[i];
		} else {
			free(r->events[i].json);
			free(r->events[i].source);
		}
	}
	r->nevents = keep;
	if (r->log) {
		r->cursor = 0;
		int64_t next;
		while (next_log_time(r, &next) && next <= target)
			r->cursor++;
	}
	r->clock = target;
	r->clock_set = 1;
	rebuild(r, 0);
	print_time(r);
}

static void command(struct repl *r, char *line)
{
	char *arg = line + strcspn(line, " \t");
	if (*arg)
		*arg++ = 0;
	arg += strspn(arg, " \t");
	char *end = arg + strlen(arg);
	while (end > arg && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = 0;
	const struct meta *m = meta_find(line, strlen(line));
	if (m) {
		m->run(r, arg, m);
		return;
	}
	struct names nm = {0};
	for (size_t i = 0; i < NMETAS; i++)
		name_add(&nm, metas[i].name, strlen(metas[i].name));
	char hint[300];
	did_you_mean(&nm, line, hint, sizeof hint);
	names_clear(&nm);
	free(nm.v);
	fail(r, "unknown command %s%s (:help lists them)", line, hint);
}

/* ---- what a line is ---- */

/* `TYPE key=value ...` with TYPE a name or a quoted string: an event,
 * not an expression ("abc" == "abc", x >= 3). */
static int looks_event(const char *s)
{
	const char *p = s;
	if (*p == '"') {
		p = strchr(p + 1, '"');
		if (!p)
			return 0;
		p++;
	} else {
		if (!(isalpha((unsigned char)*p) || *p == '_'))
			return 0;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
	}
	if (*p != ' ' && *p != '\t')
		return 0;
	p += strspn(p, " \t");
	const char *k = p;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == ':' || *p == '-')
		p++;
	return p > k && *p == '=' && p[1] != '=' && p[1] != '~';
}

/* A JSON event typed: at the clock's time when it has none. */
static void json_event(struct repl *r, const char *s)
{
	const char *key_field, *time_field, *type_field;
	cxr_input_fields(r->h, &key_field, &time_field, &type_field);
	struct text j = {0};
	text_adds(&j, s);
	while (j.len && isspace((unsigned char)j.p[j.len - 1]))
		j.p[--j.len] = 0;
	int64_t t;
	if (cxr_record_time(r->h, j.p, j.len, &t) < 0) {
		struct text quoted = {0};
		json_str(&quoted, time_field, strlen(time_field));
		if (!strstr(j.p, quoted.p) && j.len && j.p[j.len - 1] == '}') {
			/* no time: the clock's */
			j.p[--j.len] = 0;
			const char *q = j.p + j.len;
			while (q > j.p && isspace((unsigned char)q[-1]))
				q--;
			text_adds(&j, q > j.p && q[-1] == '{' ? "" : ",");
			text_adds(&j, quoted.p);
			text_adds(&j, ":");
			cxr_format_time(clock_now(r), add_time, &j);
			text_adds(&j, "}");
		}
		free(quoted.p);
		t = clock_now(r);
	}
	remember(r, j.p, t, "<input>", r->commands);
	free(j.p);
}

/* One complete input: a command, a definition, an event or an expression. */
static void input(struct repl *r, const char *line)
{
	const char *s = line + strspn(line, " \t");
	if (!*s || *s == '#')
		return;
	if (*s == ':') {
		char *copy = strdup(s);
		command(r, copy);
		free(copy);
		return;
	}
	if (starts_definition(s)) {
		define(r, s);
		return;
	}
	if (*s == '{') {
		json_event(r, s);
		return;
	}
	if (looks_event(s)) {
		struct text j = {0};
		const char *why = NULL;
		int64_t t = clock_now(r);
		if (event_line(r, s, &j, &why) == 0) {
			if (cxr_record_time(r->h, j.p, j.len, &t) < 0)
				t = clock_now(r);
			remember(r, j.p, t, "<input>", r->commands);
		} else {
			fail(r, "%s", why);
		}
		free(j.p);
		return;
	}
	/* Words that other shells know: a hint, not "unknown name". */
	size_t n = strcspn(s, " \t\n");
	if (!s[n + strspn(s + n, " \t\n")]) {
		if ((n == 4 && !strncmp(s, "quit", 4)) || (n == 4 && !strncmp(s, "exit", 4))) {
			printf("  :quit leaves (or Ctrl-D)\n");
			return;
		}
		if (n == 4 && !strncmp(s, "help", 4)) {
			printf("  :help lists the commands\n");
			return;
		}
	}
	cxr *h = session_handle(r);
	int bad = cxr_eval_in(h, r->script.p ? r->script.p : "", r->script.len, s, (int)r->commands, to_stdout,
			      NULL) < 0;
	cxr_free(h);
	if (bad)
		r->failures++;
}

/* ---- input over several lines ---- */

/* What is still open in JSON typed over several lines (braces, brackets
 * and a string), fed one line at a time so that a long event costs one
 * pass over its text.  For definitions it is only a cheap first look. */
struct balance {
	long depth;
	int in_string;
};

static void balance_feed(struct balance *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (b->in_string) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				b->in_string = 0;
		} else if (*p == '#') {
			while (p[1] && p[1] != '\n')
				p++; /* a comment runs to the end of its line */
		} else if (*p == '"') {
			b->in_string = 1;
		} else if (*p == '{' || *p == '(' || *p == '[') {
			b->depth++;
		} else if (*p == '}' || *p == ')' || *p == ']') {
			b->depth--;
		}
	}
}

/* Could the text be complete: nothing open, and a `rule` or `test`
 * closed by `end` as its last word? */
static int might_be_complete(const struct balance *b, const char *s, size_t len)
{
	if (b->in_string || b->depth > 0)
		return 0;
	const char *e = s + len;
	s += strspn(s, " \t");
	if (!strncmp(s, "rule", 4) || !strncmp(s, "test", 4)) {
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		return e - s >= 3 && !strncmp(e - 3, "end", 3) && (e - 3 == s || isspace((unsigned char)e[-4]));
	}
	return 1;
}

/* Input that goes on over lines, at the ..> prompt. */
struct unfinished {
	struct text text;
	struct balance open;
	int json;                   /* a JSON event, else a definition or an expression */
	size_t lines, parsed_lines; /* lines taken; lines when last parsed */
};

/* Parsed at every line up to this many; after, when the text might be
 * complete or has doubled: a pasted definition of n lines costs
 * O(n log n), not O(n^2). */
#define PARSE_EVERY_LINE 256

static void unfinished_clear(struct unfinished *u)
{
	text_clear(&u->text);
	u->open = (struct balance){0};
	u->json = 0;
	u->lines = u->parsed_lines = 0;
}

static void add_to_history(struct repl *r, const char *text)
{
	size_t n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	if (!r->tty || !n)
		return;
	char *entry = strndup(text, n);
	add_history(entry); /* a definition of several lines is one entry */
	if (*r->history)
		append_history(1, r->history); /* now: a crash loses no command */
	free(entry);
}

static void submit(struct repl *r, const char *text)
{
	r->commands++;
	add_to_history(r, text);
	input(r, text);
	count_runtime_errors(r);
}

/* A line as typed (or one line of a paste): the Lua rule decides whether
 * it completes the input, which then runs, or is read on. */
static void take_line(struct repl *r, struct unfinished *u, const char *line, int pasted)
{
	const char *s = line + strspn(line, " \t");
	if (!u->text.len) {
		if (!*s || *s == '#')
			return;
		if (*s == ':' || (!starts_definition(s) && looks_event(s))) {
			submit(r, s);
			return;
		}
		u->json = *s == '{';
	} else if (!*s && !pasted) {
		printf("  (cancelled: an empty line ends unfinished input)\n");
		unfinished_clear(u);
		return;
	} else if (*s == ':') {
		/* No form goes on with a command: the input before it is
		 * taken as it is (and says what it lacks), then the command. */
		char *text = strdup(u->text.p);
		unfinished_clear(u);
		submit(r, text);
		free(text);
		submit(r, s);
		return;
	}
	text_adds(&u->text, line);
	text_adds(&u->text, "\n");
	u->lines++;
	balance_feed(&u->open, line);
	int done;
	if (u->json) {
		done = !u->open.in_string && u->open.depth <= 0;
	} else if (might_be_complete(&u->open, u->text.p, u->text.len) || u->lines <= PARSE_EVERY_LINE ||
		   u->lines >= 2 * u->parsed_lines) {
		u->parsed_lines = u->lines;
		done = !cxr_input_unfinished(u->text.p, u->text.len);
	} else {
		done = 0;
	}
	if (done) {
		char *text = strdup(u->text.p);
		unfinished_clear(u);
		submit(r, text);
		free(text);
	}
}

/* ---- reading lines ---- */

static char *tty_line;
static int tty_done;

static void tty_line_read(char *line)
{
	tty_line = line;
	tty_done = 1;
	/* Removed before anything runs: readline would show the prompt
	 * again above the command's output. */
	rl_callback_handler_remove();
}

/* A line from the terminal, through readline's callback interface so
 * that Ctrl-C (a signal, seen here as EINTR) cancels only the line. */
static char *read_tty(const char *prompt, int *cancelled)
{
	tty_line = NULL;
	tty_done = 0;
	interrupted = 0;
	rl_callback_handler_install(prompt, tty_line_read);
	while (!tty_done) {
		if (interrupted) {
			interrupted = 0;
			rl_free_line_state();
			rl_callback_sigcleanup();
			rl_cleanup_after_signal();
			rl_callback_handler_remove();
			fputs("^C\n", stdout);
			fflush(stdout);
			*cancelled = 1;
			return NULL;
		}
		fd_set fds;
		FD_ZERO(&fds);
		FD_SET(0, &fds);
		int n = select(1, &fds, NULL, NULL, NULL);
		if (n > 0)
			rl_callback_read_char();
		else if (n < 0 && errno != EINTR)
			break;
	}
	if (!tty_done)
		rl_callback_handler_remove();
	if (!tty_line)
		putchar('\n'); /* Ctrl-D: the shell's prompt on a line of its own */
	return tty_line;
}

static char *read_pipe(int *cancelled)
{
	char *buf = NULL;
	size_t cap = 0;
	errno = 0;
	ssize_t n = getline(&buf, &cap, stdin);
	if (n < 0) {
		free(buf);
		if (errno == EINTR && interrupted) {
			interrupted = 0;
			clearerr(stdin);
			*cancelled = 1;
		}
		return NULL;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	return buf;
}

/* ---- completion ---- */

static struct names completions;

static char *complete_next(const char *text, int state)
{
	static size_t i;
	if (!state)
		i = 0;
	while (i < completions.n) {
		const char *c = completions.v[i++];
		if (!strncmp(c, text, strlen(text)))
			return strdup(c);
	}
	return NULL;
}

/* Customers whose id starts with what is typed from `arg` to the cursor;
 * an id with spaces is offered from the word being completed on. */
static int complete_customers(const char *arg, int start)
{
	const char *line = rl_line_buffer;
	int quoted = *arg == '"';
	const char *typed = arg + quoted;
	size_t len = (size_t)(line + rl_point - typed);
	long off = (long)(line + start - typed);
	if (off < 0)
		off = 0;
	struct names all = {0};
	cxr_names(R->h, CXR_NAMES_CUSTOMERS, name_add, &all);
	int after_id = 0;
	for (size_t k = 0; k < all.n; k++) {
		size_t n = strlen(all.v[k]);
		if (len > n && !strncmp(all.v[k], typed, n) && typed[n] == (quoted ? '"' : ' '))
			after_id = 1; /* a whole id and more: :why's rule comes next */
		else if (!strncmp(all.v[k], typed, len) && (size_t)off <= n)
			name_add(&completions, all.v[k] + off, n - (size_t)off);
	}
	names_clear(&all);
	free(all.v);
	return after_id;
}

static char **complete_line(const char *text, int start, int end)
{
	(void)end;
	names_clear(&completions);
	rl_attempted_completion_over = 1;
	const char *line = rl_line_buffer;
	size_t cmdlen = strcspn(line, " \t");
	const struct meta *m = line[0] == ':' && (size_t)start > cmdlen ? meta_find(line, cmdlen) : NULL;
	if (m) {
		const char *arg = line + cmdlen + strspn(line + cmdlen, " \t");
		switch (m->completes) {
		case COMPLETE_FILES:
			rl_attempted_completion_over = 0; /* readline's own: file names */
			return NULL;
		case COMPLETE_CUSTOMERS:
			if (!complete_customers(arg, start) || strcmp(m->name, ":why"))
				break;
			names_clear(&completions); /* the rule after the customer of :why */
			__attribute__((fallthrough));
		case COMPLETE_RULES:
			cxr_names(R->h, CXR_NAMES_RULES, name_add, &completions);
			break;
		case COMPLETE_COMMANDS:
			for (size_t k = 0; k < NMETAS; k++)
				name_add(&completions, metas[k].name + (*text != ':'), strlen(metas[k].name) - (*text != ':'));
			break;
		case COMPLETE_NOTHING:
			break;
		}
	} else if (start == 0 && text[0] == ':') {
		for (size_t k = 0; k < NMETAS; k++)
			name_add(&completions, metas[k].name, strlen(metas[k].name));
	} else if (line[0] != ':') {
		cxr_names(R->h, CXR_NAMES_KEYWORDS, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_TYPES, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_FIELDS, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_RULES, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_FUNCTIONS, name_add, &completions);
	}
	return rl_completion_matches(text, complete_next);
}

/* ---- the session ---- */

static void history_open(struct repl *r)
{
	const char *home = getenv("HOME");
	if (!home)
		return;
	snprintf(r->history, sizeof r->history, "%s/.cxr_history", home);
	/* Entries of several lines are kept whole: readline separates
	 * entries by their timestamp lines. */
	history_comment_char = '#'; /* a timestamp line is "#SECONDS" */
	history_write_timestamps = 1;
	history_multiline_entries = 1;
	int fd = open(r->history, O_WRONLY | O_CREAT | O_APPEND, 0600); /* append_history needs it to exist */
	if (fd < 0) {
		*r->history = 0;
		return;
	}
	close(fd);
	read_history(r->history);
	stifle_history(1000);
}

int repl_main(int argc, char **argv)
{
	struct repl r = {0};
	R = &r;
	const char *script = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--strict"))
			r.strict = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: cxr repl [--strict] [RULES.cxr]\n"
			       "  --strict   exit 1 when a command failed or an event met a runtime error\n");
			print_help(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "cxr: unknown option %s for repl\n(cxr repl --help tells its options)\n", argv[i]);
			return 2;
		} else if (script) {
			fprintf(stderr, "cxr: one script at a time (got %s too)\n(cxr repl --help tells its options)\n",
				argv[i]);
			return 2;
		} else {
			script = argv[i];
		}
	}
	/* A script that cannot be read ends a scripted session before it
	 * starts, with exit 2, as `cxr run` does; a later :load only says so. */
	struct stat sb;
	FILE *probe = script ? fopen(script, "r") : NULL;
	if (script && (!probe || (fstat(fileno(probe), &sb) == 0 && S_ISDIR(sb.st_mode)))) {
		fprintf(stderr, "cxr: cannot read %s: %s\n", script, probe ? "it is a folder, not a script" : strerror(errno));
		if (probe)
			fclose(probe);
		return 2;
	}
	if (probe)
		fclose(probe);
	/* Ctrl-C interrupts what waits (no SA_RESTART): the prompt, a replay. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	r.tty = isatty(0) && isatty(1);
	r.color = cli_want_color(1);
	rebuild(&r, 1);
	if (script)
		load_file(&r, script, 0);
	if (r.tty) {
		history_open(&r);
		rl_catch_signals = 0; /* ours: see read_tty */
		rl_attempted_completion_function = complete_line;
		printf("cxr repl: :help for help, :quit to leave\n");
	}
	struct unfinished u = {0};
	while (!r.quit) {
		int cancelled = 0;
		char *line = r.tty ? read_tty(u.text.len ? "..> " : "cx> ", &cancelled) : read_pipe(&cancelled);
		if (cancelled) {
			unfinished_clear(&u);
			continue;
		}
		if (!line)
			break;
		/* A paste, or a definition recalled from history, holds lines:
		 * each is taken as if typed. */
		int pasted = strchr(line, '\n') != NULL;
		for (char *p = line, *nl; p && !r.quit; p = nl ? nl + 1 : NULL) {
			nl = strchr(p, '\n');
			if (nl)
				*nl = 0;
			size_t n = strlen(p);
			if (n && p[n - 1] == '\r')
				p[n - 1] = 0;
			if (nl || *p || !pasted)
				take_line(&r, &u, p, pasted);
		}
		free(line);
	}
	if (u.text.len)
		fail(&r, "the input ended inside a definition");
	if (r.tty && *r.history)
		write_history(r.history); /* the last 1000 entries */
	free(u.text.p);
	forget_events(&r, 0);
	free(r.events);
	cxr_free(r.h);
	cxr_log_free(r.log);
	free(r.log_path);
	free(r.watch);
	free(r.loaded);
	free(r.script.p);
	chunks_free(&r);
	free(r.chunks);
	names_clear(&completions);
	free(completions.v);
	return r.strict && r.failures ? 1 : 0;
}
