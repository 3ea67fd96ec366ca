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
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cxr.h"

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
};

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

/* Compile the session's script and play every event again, quietly. */
static int rebuild(struct repl *r, int report)
{
	cxr *h = session_handle(r);
	int quiet = r->quiet_feed;
	r->quiet_feed = !report;
	/* Line numbers are the file's until something is typed in. */
	int errors = cxr_compile_string(h, r->loaded && !r->typed ? r->loaded : "<session>",
					r->script.p ? r->script.p : "", r->script.len);
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
	text_adds(json, "{\"type\":");
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
		have_time |= (klen == 2 && !memcmp(k, "ts", 2));
	}
	if (!have_time) {
		text_adds(json, ",\"ts\":");
		cxr_format_time(clock_now(r), add_time, json);
	}
	text_adds(json, "}");
	return 0;
}

/* ---- definitions ---- */

static const char *const starters[] = {"rule", "const", "fn", "event", "journey", "metric", "sla", "goal",
				       "budget", "input", "import", "test", NULL};

static int starts_definition(const char *s)
{
	for (int i = 0; starters[i]; i++) {
		size_t n = strlen(starters[i]);
		if (!strncmp(s, starters[i], n) && (s[n] == ' ' || s[n] == 0 || s[n] == '\n'))
			return 1;
	}
	return 0;
}

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
	if (at < r->nchunks) {
		old = r->chunks[at].body;
		r->chunks[at].body = strdup(text);
		free(key);
	} else {
		chunk_add(r, key, text, strlen(text));
	}
	r->typed++;
	join_chunks(r);
	if (rebuild(r, 1) < 0) {
		if (old) {
			free(r->chunks[at].body);
			r->chunks[at].body = old;
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

/* ---- commands ---- */

static const char *const meta[] = {":load", ":reload", ":rules", ":stages", ":customer", ":why", ":disasm",
				    ":reset", ":save", ":help", ":quit", ":advance", ":time", ":open", ":step",
				    ":until", ":rewind", ":watch", NULL};

static const char help_text[] =
	"Type events, expressions and definitions; see what fires.\n"
	"  film_started customer=c1 session=s9 scheduled=@2026-03-01T19:00Z started=@2026-03-01T19:13Z\n"
	"  {\"type\":\"support_request\",\"customer\":\"c2\",\"ts\":\"2026-03-01T10:00:00Z\",\"ticket\":\"t1\"}\n"
	"  3m + 2m                      an expression: 5m  (duration)\n"
	"  rule ... end, const, fn, event, journey, metric, sla, goal, budget: defined live\n"
	"Events without a time take the clock's; the clock follows event times.\n"
	"  :advance 6m                  move the clock, fire due timers     :time   show it\n"
	"  :load FILE  :reload          load a script; reload it keeping the events (and so the state)\n"
	"  :rules  :stages              what is defined\n"
	"  :customer ID                 stage, variables, tags, pending timers\n"
	"  :why ID RULE                 for each event, why RULE did or did not fire\n"
	"  :disasm [RULE]               bytecode\n"
	"  :open FILE                   replay a log: :step [N], :until TIME|RULE, :rewind D\n"
	"  :watch [RULE]                print each firing and near miss of RULE as events play (none: off)\n"
	"  :reset                       forget events and state, keep definitions\n"
	"  :save FILE                   this session as FILE (the script) and FILE's .jsonl (the events)\n"
	"  :quit\n";


static void add_raw(void *ud, const char *p, size_t n) { text_add(ud, p, n); }

static void print_time(struct repl *r)
{
	struct text t = {0};
	cxr_format_time(clock_now(r), add_raw, &t);
	printf("  %s%s\n", t.p, r->clock_set ? "" : " (no event yet)");
	free(t.p);
}

static void step_log(struct repl *r, size_t n)
{
	for (size_t i = 0; i < n && r->cursor < cxr_log_count(r->log); i++) {
		int64_t t;
		uint64_t line;
		const char *rec = cxr_log_record(r->log, r->cursor++, &t, &line);
		remember(r, rec, t, r->log_path, line);
	}
}

static int save(struct repl *r, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	struct text all = {0};
	join_chunks_into(r, &all, 1);
	fwrite(all.p ? all.p : "", 1, all.len, f);
	free(all.p);
	fclose(f);
	struct text logp = {0};
	size_t n = strlen(path);
	text_add(&logp, path, n > 4 && !strcmp(path + n - 4, ".cxr") ? n - 4 : n);
	text_adds(&logp, ".jsonl");
	f = fopen(logp.p, "w");
	if (!f) {
		free(logp.p);
		return -1;
	}
	for (size_t i = 0; i < r->nevents; i++)
		fprintf(f, "%s\n", r->events[i].json);
	fclose(f);
	printf("  saved %s and %s\n", path, logp.p);
	free(logp.p);
	return 0;
}

static void why(struct repl *r, const char *id, const char *rule)
{
	cxr *h = session_handle(r);
	if (cxr_compile_string(h, "<session>", r->script.p ? r->script.p : "", r->script.len) ||
	    cxr_explain_begin(h, id, rule, NULL, NULL) != CXR_OK) {
		cxr_free(h);
		r->failures++;
		return;
	}
	for (size_t i = 0; i < r->nevents; i++)
		cxr_feed_json(h, r->events[i].json, strlen(r->events[i].json), r->events[i].source, r->events[i].line);
	if (r->clock_set)
		cxr_advance_to(h, r->clock);
	cxr_explain_end(h, 0, to_stdout, NULL);
	cxr_free(h);
}

static void disasm_filter(void *ud, const char *p, size_t n)
{
	const char *rule = ud;
	/* print the block of one rule: from "rule NAME (" to the next "rule " */
	char head[300];
	snprintf(head, sizeof head, "rule %s (", rule);
	const char *s = memmem(p, n, head, strlen(head));
	if (!s) {
		printf("error: no rule named %s\n", rule);
		return;
	}
	const char *e = s + 1;
	const char *next_rule = memmem(e, (size_t)(p + n - e), "\nrule ", 6);
	const char *indexes = memmem(e, (size_t)(p + n - e), "\nindex ", 7);
	e = next_rule && (!indexes || next_rule < indexes) ? next_rule : indexes;
	fwrite(s, 1, e ? (size_t)(e - s + 1) : (size_t)(p + n - s), stdout);
}

static void command(struct repl *r, char *line)
{
	char *arg = line + strcspn(line, " ");
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ')
		arg++;
	char *end = arg + strlen(arg);
	while (end > arg && end[-1] == ' ')
		*--end = 0;
	if (!strcmp(line, ":quit") || !strcmp(line, ":q")) {
		r->quit = 1;
	} else if (!strcmp(line, ":help")) {
		fputs(help_text, stdout);
	} else if (!strcmp(line, ":load") || !strcmp(line, ":reload")) {
		const char *given = line[1] == 'l' ? arg : r->loaded;
		if (!given || !*given) {
			fail(r, "%s", line[1] == 'l' ? ":load needs a file" : "nothing loaded to reload");
			return;
		}
		char path[4096];
		snprintf(path, sizeof path, "%s", given); /* r->loaded is replaced below */
		FILE *f = fopen(path, "r");
		if (!f) {
			fail(r, "cannot read %s: %s", path, strerror(errno));
			return;
		}
		struct text file = {0};
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			text_add(&file, buf, n);
		fclose(f);
		/* keep the old session to go back to if the file does not compile */
		struct text saved = {0};
		text_adds(&saved, r->script.p ? r->script.p : "");
		char *saved_loaded = r->loaded;
		r->loaded = strdup(path);
		split_script(r, file.p ? file.p : "");
		free(file.p);
		r->typed = 0;
		if (rebuild(r, 1) < 0) {
			free(r->loaded);
			r->loaded = saved_loaded;
			split_script(r, saved.p);
			rebuild(r, 0);
			free(saved.p);
			r->failures++;
			return;
		}
		free(saved.p);
		free(saved_loaded);
		printf("  loaded %s\n", path);
	} else if (!strcmp(line, ":rules") || !strcmp(line, ":stages")) {
		cxr_describe(r->h, line + 1, NULL, to_stdout, NULL);
	} else if (!strcmp(line, ":customer")) {
		if (!*arg)
			fail(r, ":customer needs a customer key");
		else
			cxr_describe(r->h, "customer", arg, to_stdout, NULL);
	} else if (!strcmp(line, ":why")) {
		char *rule = arg + strcspn(arg, " ");
		if (*rule)
			*rule++ = 0;
		if (!*arg)
			fail(r, ":why needs a customer and, if you like, a rule");
		else
			why(r, arg, *rule ? rule : NULL);
	} else if (!strcmp(line, ":disasm")) {
		if (*arg)
			cxr_disasm(r->h, disasm_filter, arg);
		else
			cxr_disasm(r->h, to_stdout, NULL);
	} else if (!strcmp(line, ":reset")) {
		for (size_t i = 0; i < r->nevents; i++) {
			free(r->events[i].json);
			free(r->events[i].source);
		}
		r->nevents = 0;
		r->clock_set = 0;
		r->cursor = 0;
		rebuild(r, 0);
		printf("  events and state forgotten\n");
	} else if (!strcmp(line, ":save")) {
		if (!*arg || save(r, arg) < 0)
			fail(r, "cannot save %s", *arg ? arg : "(no file given)");
	} else if (!strcmp(line, ":time")) {
		print_time(r);
	} else if (!strcmp(line, ":advance")) {
		int64_t d;
		if (cxr_parse_duration(arg, strlen(arg), &d) < 0 || d < 0) {
			fail(r, ":advance takes a duration such as 5m");
			return;
		}
		int64_t to;
		if (__builtin_add_overflow(clock_now(r), d, &to)) {
			fail(r, ":advance %s goes past the last time cxr holds (2262-04-11T23:47:16.854775807Z)", arg);
			return;
		}
		r->clock = to;
		r->clock_set = 1;
		/* an empty event list still has a clock: remember it by advancing */
		cxr_advance_to(r->h, r->clock);
		print_time(r);
	} else if (!strcmp(line, ":open")) {
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
	} else if (!strcmp(line, ":step") || !strcmp(line, ":until")) {
		if (!r->log) {
			fail(r, "no log open: :open FILE first");
			return;
		}
		if (line[1] == 's') {
			long n = *arg ? strtol(arg, NULL, 10) : 1;
			step_log(r, n > 0 ? (size_t)n : 1);
		} else if (*arg == '@') {
			int64_t until;
			if (cxr_parse_time(arg + 1, strlen(arg + 1), &until) < 0) {
				fail(r, ":until takes a time (@2026-03-01T12:00Z) or a rule");
				return;
			}
			while (r->cursor < cxr_log_count(r->log)) {
				int64_t t;
				uint64_t ln;
				cxr_log_record(r->log, r->cursor, &t, &ln);
				if (t > until)
					break;
				step_log(r, 1);
			}
			if (until > clock_now(r)) {
				r->clock = until;
				r->clock_set = 1;
				cxr_advance_to(r->h, until);
			}
		} else {
			r->fired_rule = arg;
			r->fired = 0;
			while (!r->fired && r->cursor < cxr_log_count(r->log))
				step_log(r, 1);
			r->fired_rule = NULL;
			if (!r->fired)
				printf("  the log ended without %s firing\n", arg);
		}
		printf("  %zu of %zu events played\n", r->cursor, cxr_log_count(r->log));
	} else if (!strcmp(line, ":rewind")) {
		int64_t d;
		if (cxr_parse_duration(arg, strlen(arg), &d) < 0 || d < 0) {
			fail(r, ":rewind takes a duration such as 5m");
			return;
		}
		int64_t target = clock_now(r) - d;
		/* keep the events up to the target and play them again */
		size_t keep = 0;
		while (keep < r->nevents && r->events[keep].time <= target)
			keep++;
		for (size_t i = keep; i < r->nevents; i++) {
			free(r->events[i].json);
			free(r->events[i].source);
		}
		r->nevents = keep;
		if (r->log) {
			r->cursor = 0;
			while (r->cursor < cxr_log_count(r->log)) {
				int64_t t;
				uint64_t ln;
				cxr_log_record(r->log, r->cursor, &t, &ln);
				if (t > target)
					break;
				r->cursor++;
			}
		}
		r->clock = target;
		r->clock_set = 1;
		rebuild(r, 0);
		print_time(r);
	} else if (!strcmp(line, ":watch")) {
		free(r->watch);
		r->watch = *arg ? strdup(arg) : NULL;
		if (r->watch && cxr_explain_begin(r->h, NULL, r->watch, watch_note, r) != CXR_OK) {
			free(r->watch);
			r->watch = NULL;
			r->failures++;
		} else if (!r->watch) {
			cxr_explain_end(r->h, 0, NULL, NULL);
			printf("  watch off\n");
		}
	} else {
		const char *best = NULL;
		for (int i = 0; meta[i]; i++)
			if (strncmp(meta[i], line, 3) == 0)
				best = meta[i];
		if (best)
			fail(r, "unknown command %s; did you mean %s? (:help lists them)", line, best);
		else
			fail(r, "unknown command %s (:help lists them)", line);
	}
}



/* What is still open in a definition typed over several lines: braces,
 * brackets, parentheses and a string.  Fed one line at a time, so that a
 * long definition costs one pass over its text, not one per line. */
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

/* Is the definition s (len bytes, balance b) complete: nothing open, and
 * a `rule` or `test` closed by `end` as its last word? */
static int balanced_complete(const struct balance *b, const char *s, size_t len)
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

static int complete(const char *s)
{
	struct balance b = {0};
	balance_feed(&b, s);
	return balanced_complete(&b, s, strlen(s));
}

static void input(struct repl *r, const char *line)
{
	const char *s = line;
	while (*s == ' ' || *s == '\t')
		s++;
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
		struct text j = {0};
		text_adds(&j, s);
		/* no time: the clock's */
		if (!strstr(s, "\"ts\"")) {
			j.len--;
			text_adds(&j, ",\"ts\":");
			cxr_format_time(clock_now(r), add_time, &j);
			text_adds(&j, "}");
		}
		remember(r, j.p, clock_now(r), "<input>", 0);
		free(j.p);
		return;
	}
	/* An event `TYPE k=v ...`, unless it reads as an expression. */
	struct text j = {0};
	const char *why = NULL;
	int looks_event = strchr(s, '=') && !strstr(s, "==") && !strstr(s, "!=") && !strstr(s, "<=") &&
			  !strstr(s, ">=") && !strstr(s, "=~");
	if (looks_event || (*s == '"' && strchr(s, '='))) {
		if (event_line(r, s, &j, &why) == 0) {
			remember(r, j.p, clock_now(r), "<input>", 0);
			free(j.p);
			return;
		}
		free(j.p);
		if (strcmp(why, "not an event")) {
			fail(r, "%s", why);
			return;
		}
	} else {
		free(j.p);
	}
	int quiet = r->quiet_feed;
	cxr *h = session_handle(r);
	int bad = cxr_eval_in(h, r->script.p ? r->script.p : "", r->script.len, s, to_stdout, NULL) < 0;
	cxr_free(h);
	if (bad)
		r->failures++;
	r->quiet_feed = quiet;
}

/* ---- readline ---- */

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

static char **complete_line(const char *text, int start, int end)
{
	(void)end;
	for (size_t k = 0; k < completions.n; k++)
		free(completions.v[k]);
	completions.n = 0;
	if (start == 0 && text[0] == ':') {
		for (int k = 0; meta[k]; k++)
			name_add(&completions, meta[k], strlen(meta[k]));
	} else {
		static const char *const kw[] = {"rule", "end", "on", "as", "when", "unless", "let", "emit", "set",
						 "tag", "untag", "once", "per", "limit", "priority", "holdout",
						 "then", "no", "within", "where", "const", "fn", "event", "journey",
						 "stage", "metric", "sla", "goal", "budget", "spend", "move", "to",
						 "observe", "by", "customer", NULL};
		for (int k = 0; kw[k]; k++)
			name_add(&completions, kw[k], strlen(kw[k]));
		cxr_names(R->h, CXR_NAMES_TYPES, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_FIELDS, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_RULES, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_CUSTOMERS, name_add, &completions);
	}
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, complete_next);
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
			printf("usage: cxr repl [--strict] [RULES.cxr]\n%s", help_text);
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
	r.tty = isatty(0) && isatty(1);
	r.color = cli_want_color(1);
	rebuild(&r, 1);
	if (script) {
		char cmd[4096];
		snprintf(cmd, sizeof cmd, ":load %s", script);
		input(&r, cmd);
	}
	char history[4096] = "";
	if (r.tty) {
		const char *home = getenv("HOME");
		if (home)
			snprintf(history, sizeof history, "%s/.cxr_history", home);
		if (*history)
			read_history(history);
		rl_attempted_completion_function = complete_line;
		printf("cxr repl: :help for help, :quit to leave\n");
	}
	struct text pending = {0};
	struct balance open = {0}; /* of pending */
	while (!r.quit) {
		char *line;
		if (r.tty) {
			line = readline(pending.len ? "..> " : "cx> ");
			if (!line)
				break;
			if (*line)
				add_history(line);
		} else {
			char *buf = NULL;
			size_t cap = 0;
			ssize_t n = getline(&buf, &cap, stdin);
			if (n < 0) {
				free(buf);
				break;
			}
			while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
				buf[--n] = 0;
			line = buf;
		}
		/* a definition, or anything with an open brace or string, goes on */
		const char *first = line + strspn(line, " \t");
		if (pending.len || starts_definition(first) || (*first && *first != ':' && !complete(first))) {
			text_adds(&pending, line);
			text_adds(&pending, "\n");
			balance_feed(&open, line);
			if (balanced_complete(&open, pending.p, pending.len)) {
				char *def = strdup(pending.p);
				text_clear(&pending);
				open = (struct balance){0};
				input(&r, def);
				count_runtime_errors(&r);
				free(def);
			}
		} else {
			input(&r, line);
			count_runtime_errors(&r);
		}
		free(line);
	}
	if (pending.len)
		fail(&r, "the input ended inside a definition");
	if (r.tty && *history)
		write_history(history);
	free(pending.p);
	for (size_t i = 0; i < r.nevents; i++) {
		free(r.events[i].json);
		free(r.events[i].source);
	}
	free(r.events);
	cxr_free(r.h);
	cxr_log_free(r.log);
	free(r.log_path);
	free(r.watch);
	free(r.loaded);
	free(r.script.p);
	chunks_free(&r);
	free(r.chunks);
	for (size_t k = 0; k < completions.n; k++)
		free(completions.v[k]);
	free(completions.v);
	return r.strict && r.failures ? 1 : 0;
}
