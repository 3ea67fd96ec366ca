/* repl.c: `cxr repl`, the terminal side (repl.h tells the four files).
 *
 * Lines are edited with GNU readline when the input is a terminal, through
 * its callback interface so that Ctrl-C cancels only the line; otherwise
 * commands are read from stdin without prompts, so that sessions can be
 * scripted and tested.  This file owns what is about the terminal: the
 * SIGINT handler, the history file, completion (from the command table
 * and the handle's names), input that goes on over several lines, a paste
 * split into its lines, and what a complete input is: a command for
 * repl_commands.c, a definition, an event or an expression for the session.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cxr.h"
#include "repl.h"

int cli_want_color(int fd); /* main.c: NO_COLOR, TERM=dumb, a terminal */

/* Ctrl-C (repl.h): the handler only sets the flag. */
volatile sig_atomic_t repl_interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	repl_interrupted = 1;
}

/* readline's completion callbacks take no context: the one session of the
 * process is reached from here (the CLI's, not the library's, state). */
static struct repl *R;

static char history_file[4096]; /* ~/.cxr_history, "" for none */

/* ---- what a line is ---- */

/* One complete input: a command, a definition, an event or an expression. */
static void input(struct repl *r, const char *line)
{
	const char *s = line + strspn(line, " \t");
	if (!*s || *s == '#')
		return;
	if (*s == ':') {
		char *copy = strdup(s);
		meta_run(r, copy);
		free(copy);
		return;
	}
	if (cxr_starts_form(s)) {
		session_define(r, s);
		return;
	}
	if (*s == '{') {
		event_json(r, s);
		return;
	}
	if (event_looks_key_value(s)) {
		event_key_value(r, s);
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
	session_eval(r, s);
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
	if (*history_file)
		append_history(1, history_file); /* now: a crash loses no command */
	free(entry);
}

static void submit(struct repl *r, const char *text)
{
	r->commands++;
	add_to_history(r, text);
	input(r, text);
	session_count_runtime_errors(r);
}

/* A line as typed (or one line of a paste): the Lua rule decides whether
 * it completes the input, which then runs, or is read on. */
static void take_line(struct repl *r, struct unfinished *u, const char *line, int pasted)
{
	const char *s = line + strspn(line, " \t");
	if (!u->text.len) {
		if (!*s || *s == '#')
			return;
		if (*s == ':' || (!cxr_starts_form(s) && event_looks_key_value(s))) {
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
	repl_interrupted = 0;
	rl_callback_handler_install(prompt, tty_line_read);
	while (!tty_done) {
		if (repl_interrupted) {
			repl_interrupted = 0;
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
		if (errno == EINTR && repl_interrupted) {
			repl_interrupted = 0;
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
			meta_names(&completions, *text != ':');
			break;
		case COMPLETE_NOTHING:
			break;
		}
	} else if (start == 0 && text[0] == ':') {
		meta_names(&completions, 0);
	} else if (line[0] != ':') {
		cxr_names(R->h, CXR_NAMES_KEYWORDS, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_TYPES, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_FIELDS, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_RULES, name_add, &completions);
		cxr_names(R->h, CXR_NAMES_FUNCTIONS, name_add, &completions);
	}
	return rl_completion_matches(text, complete_next);
}

/* ---- the history file ---- */

static void history_open(void)
{
	const char *home = getenv("HOME");
	if (!home)
		return;
	snprintf(history_file, sizeof history_file, "%s/.cxr_history", home);
	/* Entries of several lines are kept whole: readline separates
	 * entries by their timestamp lines. */
	history_comment_char = '#'; /* a timestamp line is "#SECONDS" */
	history_write_timestamps = 1;
	history_multiline_entries = 1;
	int fd = open(history_file, O_WRONLY | O_CREAT | O_APPEND, 0600); /* append_history needs it to exist */
	if (fd < 0) {
		*history_file = 0;
		return;
	}
	close(fd);
	read_history(history_file);
	stifle_history(1000);
}

int repl_main(int argc, char **argv)
{
	struct repl r = {0};
	R = &r;
	const char *script = NULL;
	int strict = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--strict"))
			strict = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: cxr repl [--strict] [RULES.cxr]\n"
			       "  --strict   exit 1 when a command failed or an event met a runtime error\n");
			meta_help(stdout);
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
	session_rebuild(&r, 1);
	if (script)
		session_load(&r, script, 0);
	if (r.tty) {
		history_open();
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
		session_fail(&r, "the input ended inside a definition");
	if (r.tty && *history_file)
		write_history(history_file); /* the last 1000 entries */
	free(u.text.p);
	session_free(&r);
	names_clear(&completions);
	free(completions.v);
	return strict && r.failures ? 1 : 0;
}
