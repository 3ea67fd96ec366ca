/* repl_commands.c: the meta-commands of `cxr repl` (:load, :why, :step...).
 *
 * One table, metas[], has a row per command: its name and alias, its
 * usage, its help, what its argument completes to, and its handler.
 * Dispatch (meta_run), :help and the terminal's completion all read
 * it, so that a command is added in one place.  A handler checks its
 * argument (a rule that does not exist is named with the nearest one)
 * and asks the session (repl_session.c) for any change; what it shows of
 * the handle (rules, stages, a customer, bytecode) it asks of cxr.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxr.h"
#include "repl.h"

#define STEP_LISTED 10   /* events :step lists, one line each */

/* ---- the table: dispatch, :help and completion read it ---- */

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

const struct meta *meta_find(const char *name, size_t n)
{
	for (size_t i = 0; i < NMETAS; i++)
		if ((strlen(metas[i].name) == n && !strncmp(metas[i].name, name, n)) ||
		    (metas[i].alias && strlen(metas[i].alias) == n && !strncmp(metas[i].alias, name, n)))
			return &metas[i];
	return NULL;
}

void meta_names(struct names *nm, size_t skip)
{
	for (size_t i = 0; i < NMETAS; i++)
		name_add(nm, metas[i].name + skip, strlen(metas[i].name) - skip);
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

void meta_help(FILE *out)
{
	fputs(help_intro, out);
	for (size_t i = 0; i < NMETAS; i++) {
		char head[64];
		snprintf(head, sizeof head, "%s%s%s", metas[i].name, *metas[i].usage ? " " : "", metas[i].usage);
		fprintf(out, "  %-28s %s\n", head, metas[i].help);
	}
	fputs("  :help COMMAND tells more about one.\n", out);
}

/* ---- names: rules and customers, for checks and completion ---- */

void name_add(void *ud, const char *p, size_t n)
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

void names_clear(struct names *nm)
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
		session_fail(r, "%s: no rule named '%s'%s", command, s, did_you_mean(&nm, s, hint, sizeof hint));
	}
	names_clear(&nm);
	free(nm.v);
	return ok;
}

/* ---- arguments ---- */

static void add_raw(void *ud, const char *p, size_t n) { text_add(ud, p, n); }

static void print_time(struct repl *r)
{
	struct text t = {0};
	cxr_format_time(session_clock(r), add_raw, &t);
	printf("  %s%s\n", t.p, r->clock_set ? "" : " (no event yet)");
	free(t.p);
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

/* ---- the commands, in the table's order ---- */

static void cmd_load(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg) {
		session_fail(r, ":load needs a file (:load rules.cxr)");
		return;
	}
	session_load(r, arg, 0);
}

static void cmd_reload(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	(void)arg;
	if (!r->loaded) {
		session_fail(r, "nothing loaded to reload (:load FILE first)");
		return;
	}
	char *path = strdup(r->loaded); /* session_load replaces r->loaded */
	session_load(r, path, 1);
	free(path);
}

static void cmd_rules(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	cxr_describe(r->h, "rules", NULL, session_to_stdout, NULL);
}

static void cmd_stages(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	cxr_describe(r->h, "stages", NULL, session_to_stdout, NULL);
}

static void cmd_customer(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg)
		session_fail(r, ":customer needs a customer key");
	else
		cxr_describe(r->h, "customer", unquote(arg), session_to_stdout, NULL);
}

static void cmd_why(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg) {
		session_fail(r, ":why needs a customer and, if you like, a rule");
		return;
	}
	char *id, *rule;
	split_customer_rule(r, arg, &id, &rule);
	/* (an unknown customer is the explanation's to tell: it knows every
	 * key the events named, read by a rule or not) */
	if (!rule || known_rule(r, ":why", rule))
		session_explain(r, id, rule);
}

static void cmd_watch(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (*arg && !known_rule(r, ":watch", arg))
		return;
	session_watch(r, *arg ? arg : NULL);
}

static void cmd_advance(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	int64_t d, to, next;
	if (cxr_parse_duration(arg, strlen(arg), &d) < 0 || d < 0) {
		session_fail(r, ":advance takes a duration such as 5m");
		return;
	}
	if (__builtin_add_overflow(session_clock(r), d, &to)) {
		session_fail(r, ":advance %s goes past the last time cxr holds (2262-04-11T23:47:16.854775807Z)", arg);
		return;
	}
	/* Time cannot pass over the log's own events: they are played first. */
	if (session_next_log_time(r, &next) && next <= to) {
		session_replay_begin(r);
		size_t played = session_play_until_time(r, to);
		int stopped = repl_interrupted;
		printf("  played the log's %zu events up to then first\n", played);
		session_replay_end(r);
		if (stopped)
			return;
	}
	/* an empty event list still has a clock: remember it by advancing */
	session_advance_clock(r, to);
	print_time(r);
}

static void cmd_time(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	print_time(r);
}

static void cmd_open(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg) {
		session_fail(r, ":open needs a log file (:open events.jsonl)");
		return;
	}
	session_open_log(r, arg);
}

static void cmd_step(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	char *end = arg;
	errno = 0;
	long long n = *arg ? strtoll(arg, &end, 10) : 1;
	if (*end || n <= 0 || errno) {
		session_fail(r, ":step takes a number of events, 1 or more (got '%s')", arg);
		return;
	}
	if (!r->log) {
		session_fail(r, "no log open: :open FILE first");
		return;
	}
	session_replay_begin(r);
	long long played = 0;
	while (played < n && session_play_next(r, played < STEP_LISTED))
		played++;
	if (played > STEP_LISTED)
		printf("  (and %lld more events, not listed)\n", played - STEP_LISTED);
	session_replay_end(r);
}

static void cmd_until(struct repl *r, char *arg, const struct meta *m)
{
	int64_t until = 0;
	if (!*arg) {
		session_fail(r, ":until takes a time (@2026-03-01T12:00Z) or a rule");
		return;
	}
	if (*arg == '@') {
		if (cxr_parse_time(arg + 1, strlen(arg + 1), &until) < 0) {
			session_fail(r, ":until: '%s' is not a time (write @2026-03-01T12:00Z)", arg);
			return;
		}
	} else if (!known_rule(r, m->name, arg)) {
		return;
	}
	if (!r->log) {
		session_fail(r, "no log open: :open FILE first");
		return;
	}
	session_replay_begin(r);
	if (*arg == '@') {
		session_play_until_time(r, until);
		if (!repl_interrupted && until > session_clock(r))
			session_advance_clock(r, until);
	} else if (!session_play_until_fired(r, arg) && !repl_interrupted) {
		printf("  the log ended without %s firing\n", arg);
	}
	session_replay_end(r);
}

static void cmd_rewind(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	int64_t d, to;
	if (cxr_parse_duration(arg, strlen(arg), &d) < 0 || d < 0) {
		session_fail(r, ":rewind takes a duration such as 5m");
		return;
	}
	if (__builtin_sub_overflow(session_clock(r), d, &to)) {
		session_fail(r, ":rewind %s goes before the first time cxr holds (1677-09-21T00:12:43.145224192Z)", arg);
		return;
	}
	session_rewind(r, to);
	print_time(r);
}

static void cmd_disasm(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg)
		cxr_disasm(r->h, session_to_stdout, NULL);
	else if (known_rule(r, ":disasm", arg))
		cxr_disasm(r->h, disasm_filter, arg);
}

static void cmd_reset(struct repl *r, char *arg, const struct meta *m)
{
	(void)arg;
	(void)m;
	session_reset(r);
}

static void cmd_save(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg)
		session_fail(r, ":save needs a file name (:save session.cxr)");
	else
		session_save(r, arg);
}

static void cmd_help(struct repl *r, char *arg, const struct meta *m)
{
	(void)m;
	if (!*arg) {
		meta_help(stdout);
		return;
	}
	char name[64];
	snprintf(name, sizeof name, "%s%s", *arg == ':' ? "" : ":", arg);
	const struct meta *c = meta_find(name, strlen(name));
	if (!c) {
		session_fail(r, ":help: no command %s (:help lists them)", name);
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

/* ":name argument": the argument without the blanks around it. */
void meta_run(struct repl *r, char *line)
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
	meta_names(&nm, 0);
	char hint[300];
	did_you_mean(&nm, line, hint, sizeof hint);
	names_clear(&nm);
	free(nm.v);
	session_fail(r, "unknown command %s%s (:help lists them)", line, hint);
}
