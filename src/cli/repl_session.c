/* repl_session.c: the session of `cxr repl`: its script, its events,
 * and the handle that has compiled the one and seen the other.
 *
 * The script is kept as chunks, one a top-level definition typed or read
 * from the file loaded, so that a definition typed again replaces the old
 * one by kind and name, :reload keeps what was typed, and :save writes it
 * all back.  The events are kept in the order given, typed or played from
 * the open log (which this file owns too, with its cursor).  Any change of
 * the script goes through session_rebuild(): a new handle, compiled and
 * fed every event again quietly, or the session as it was when the script
 * does not compile.  What a handle says (diagnostics, firings, watch
 * notes) is printed from here.  The commands and the terminal change the
 * session through the session_* functions (repl.h), not by hand.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cxr.h"
#include "outfile.h"
#include "repl.h"

#define TEST_EPOCH_NS (1767225600LL * 1000000000LL) /* the clock's start: 2026-01-01T00:00:00Z */
#define REPLAY_MESSAGES_SHOWN 3
#define PLAYED_SHOWN 120 /* bytes of an event listed */

/* ---- text that grows (repl.h) ---- */

void text_add(struct text *t, const char *p, size_t n)
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

void text_adds(struct text *t, const char *s) { text_add(t, s, strlen(s)); }
void text_clear(struct text *t)
{
	t->len = 0;
	if (t->p)
		t->p[0] = 0;
}

/* ---- what the session says ---- */

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

void session_fail(struct repl *r, const char *fmt, ...)
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
void session_count_runtime_errors(struct repl *r)
{
	struct cxr_counts c;
	cxr_counts(r->h, &c);
	/* (a handle rebuilt at the same address starts again from 0) */
	uint64_t before = r->h == r->counted_h && c.runtime_errors >= r->counted ? r->counted : 0;
	r->failures += (int)(c.runtime_errors - before);
	r->counted_h = r->h;
	r->counted = c.runtime_errors;
}

void session_to_stdout(void *ud, const char *p, size_t n)
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

/* ---- compiling the script and replaying the events ---- */

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
int session_rebuild(struct repl *r, int report)
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

void session_remember(struct repl *r, const char *json, int64_t t, const char *source, uint64_t line)
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

int64_t session_clock(struct repl *r) { return r->clock_set ? r->clock : TEST_EPOCH_NS; }

/* The clock to t, firing the timers due (an empty event list still has
 * a clock: the handle remembers it). */
void session_advance_clock(struct repl *r, int64_t t)
{
	r->clock = t;
	r->clock_set = 1;
	cxr_advance_to(r->h, t);
}

/* ---- the events given: forgotten, or kept up to a time ---- */

static void forget_events(struct repl *r, size_t keep)
{
	for (size_t i = keep; i < r->nevents; i++) {
		free(r->events[i].json);
		free(r->events[i].source);
	}
	r->nevents = keep;
}

/* :reset: no events, no clock, the log back at its start. */
void session_reset(struct repl *r)
{
	forget_events(r, 0);
	r->clock_set = 0;
	r->cursor = 0;
	session_rebuild(r, 0);
	printf("  events and state forgotten\n");
}

/* :rewind: keep the events up to the target, typed or played (typed ones
 * may be out of order), and play them again. */
void session_rewind(struct repl *r, int64_t target)
{
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
		while (session_next_log_time(r, &next) && next <= target)
			r->cursor++;
	}
	r->clock = target;
	r->clock_set = 1;
	session_rebuild(r, 0);
}

/* The watch is begun again on each handle session_rebuild() makes. */
void session_watch(struct repl *r, const char *rule)
{
	free(r->watch);
	r->watch = rule ? strdup(rule) : NULL;
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

/* :why: a handle of its own, compiled with the explanation on and fed
 * the events again. */
void session_explain(struct repl *r, const char *id, const char *rule)
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
	if (cxr_explain_finish(h, 0, session_to_stdout, NULL) != CXR_OK)
		r->failures++;
	cxr_free(h);
}

void session_eval(struct repl *r, const char *expr)
{
	cxr *h = session_handle(r);
	int bad = cxr_eval_in(h, r->script.p ? r->script.p : "", r->script.len, expr, (int)r->commands,
			      session_to_stdout, NULL) < 0;
	cxr_free(h);
	if (bad)
		r->failures++;
}

/* ---- the script: its definitions, as chunks ---- */

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
		if (line != start && cxr_starts_form(line)) {
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
				chunk_add(r, cxr_starts_form(start) ? def_key(start) : NULL, start, (size_t)(cut - start));
			start = cut;
		}
	}
	if (*start)
		chunk_add(r, cxr_starts_form(start) ? def_key(start) : NULL, start, strlen(start));
	join_chunks(r);
}

/* A definition typed at the prompt: it replaces one of the same kind and
 * name, or comes last.  A script that no longer compiles is rolled back. */
void session_define(struct repl *r, const char *text)
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
	if (session_rebuild(r, 1) < 0) {
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
		session_rebuild(r, 0);
		r->failures++;
		return;
	}
	printf("  %s\n", old ? "redefined" : "defined");
	free(old);
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
void session_load(struct repl *r, const char *path, int keep_typed)
{
	FILE *f = fopen(path, "r");
	struct stat sb;
	if (!f || (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode))) {
		session_fail(r, "cannot read %s: %s", path, f ? "it is a folder, not a script" : strerror(errno));
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
	if (session_rebuild(r, 1) < 0) {
		chunks_restore(r, &saved, 1);
		session_rebuild(r, 0);
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

/* :save writes two files; neither may be the log the session reads from
 * (it would be cut to the events played so far), nor may the events go
 * over the script loaded.  Checked before either file is opened. */
static int save_refused(struct repl *r, const char *path, const char *events_path)
{
	const char *outs[2][2] = {{"script", path}, {"events", events_path}};
	for (int i = 0; i < 2; i++) {
		if (r->log_path && same_file(outs[i][1], r->log_path)) {
			session_fail(r, "cannot save %s: it is the log opened with :open, and saving would replace it "
				     "with the %zu event%s played so far; choose another name",
				     outs[i][1], r->nevents, r->nevents == 1 ? "" : "s");
			return 1;
		}
	}
	if (r->loaded && same_file(events_path, r->loaded)) {
		session_fail(r, "cannot save %s: it is the script this session loaded; choose another name",
			     events_path);
		return 1;
	}
	return 0;
}

int session_save(struct repl *r, const char *path)
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
		session_fail(r, "cannot save %s: %s", path, strerror(errno));
		free(logp.p);
		return -1;
	}
	struct text all = {0};
	join_chunks_into(r, &all, 1);
	fwrite(all.p ? all.p : "", 1, all.len, f);
	free(all.p);
	if (fclose(f) != 0) {
		session_fail(r, "cannot save %s: %s", path, strerror(errno));
		free(logp.p);
		return -1;
	}
	f = fopen(logp.p, "w");
	if (!f) {
		session_fail(r, "cannot save %s: %s", logp.p, strerror(errno));
		free(logp.p);
		return -1;
	}
	for (size_t i = 0; i < r->nevents; i++)
		fprintf(f, "%s\n", r->events[i].json);
	if (fclose(f) != 0) {
		session_fail(r, "cannot save %s: %s", logp.p, strerror(errno));
		free(logp.p);
		return -1;
	}
	printf("  saved %s and %s\n", path, logp.p);
	free(logp.p);
	return 0;
}
/* ---- the open log, and its cursor ---- */

void session_open_log(struct repl *r, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		session_fail(r, "cannot open %s: %s", path, strerror(errno));
		return;
	}
	if (S_ISDIR(sb.st_mode)) {
		session_fail(r, "cannot open %s: it is a folder, not a log", path);
		return;
	}
	cxr_log *l = cxr_log_read(r->h, path);
	if (!l) {
		r->failures++;
		return;
	}
	cxr_log_free(r->log);
	free(r->log_path);
	r->log = l;
	r->log_path = strdup(path);
	r->cursor = 0;
	printf("  %zu events in %s; :step plays them\n", cxr_log_count(l), path);
}

/* A replay (:step, :until, :advance over an open log) shows the first
 * few messages of its events in full, counts the rest, and stops
 * between two events at Ctrl-C. */
void session_replay_begin(struct repl *r)
{
	r->replaying = 1;
	r->replay_shown = 0;
	r->replay_hidden = 0;
	repl_interrupted = 0;
}

void session_replay_end(struct repl *r)
{
	r->replaying = 0;
	if (r->replay_hidden)
		printf("  note: %llu more messages in this replay (the first %d are shown)\n",
		       (unsigned long long)r->replay_hidden, REPLAY_MESSAGES_SHOWN);
	if (repl_interrupted) {
		repl_interrupted = 0;
		printf("  interrupted (Ctrl-C)\n");
	}
	printf("  %zu of %zu events played\n", r->cursor, cxr_log_count(r->log));
}

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
int session_play_next(struct repl *r, int listed)
{
	if (repl_interrupted || r->cursor >= cxr_log_count(r->log))
		return 0;
	int64_t t;
	uint64_t line;
	const char *rec = cxr_log_record(r->log, r->cursor++, &t, &line);
	if (listed) {
		/* the timers due before it fire first, above its line */
		if (t > session_clock(r) && t > INT64_MIN)
			cxr_advance_to(r->h, t - 1);
		show_played(rec, r->log_path, line);
	}
	session_remember(r, rec, t, r->log_path, line);
	return 1;
}

/* The time of the next event of the open log, if there is one. */
int session_next_log_time(struct repl *r, int64_t *t)
{
	if (!r->log || r->cursor >= cxr_log_count(r->log))
		return 0;
	uint64_t line;
	cxr_log_record(r->log, r->cursor, t, &line);
	return 1;
}

/* Play the log's events up to time t: how many were played. */
size_t session_play_until_time(struct repl *r, int64_t t)
{
	size_t before = r->cursor;
	int64_t next;
	while (session_next_log_time(r, &next) && next <= t && session_play_next(r, 0))
		;
	return r->cursor - before;
}

/* Play the log until rule fires: 1 if it did. */
int session_play_until_fired(struct repl *r, const char *rule)
{
	r->fired_rule = rule;
	r->fired = 0;
	while (!r->fired && session_play_next(r, 0))
		;
	r->fired_rule = NULL;
	return r->fired;
}

void session_free(struct repl *r)
{
	forget_events(r, 0);
	free(r->events);
	cxr_free(r->h);
	cxr_log_free(r->log);
	free(r->log_path);
	free(r->watch);
	free(r->loaded);
	free(r->script.p);
	chunks_free(r);
	free(r->chunks);
}
