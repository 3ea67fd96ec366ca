/* repl_events.c: events typed at the prompt of `cxr repl`.
 *
 * Two ways to type an event: `TYPE key=value ...` with values as the
 * language writes them (@time, 5m, 42, "text", true), or a JSON record.
 * Either is made into a JSON record with the script's own input field
 * names (cxr_input_fields) and, when it names no time, the clock's, and
 * given to the session (session_remember), which feeds it to the handle.
 * This file owns that small syntax and nothing more: what a line is, and
 * what the session does with an event, are repl.c's and repl_session.c's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxr.h"
#include "repl.h"

/* `TYPE key=value ...` with TYPE a name or a quoted string: an event,
 * not an expression ("abc" == "abc", x >= 3). */
int event_looks_key_value(const char *s)
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
		cxr_format_time(session_clock(r), add_time, json);
	}
	text_adds(json, "}");
	return 0;
}

/* A `TYPE key=value ...` event typed, or the reason it is not one. */
void event_key_value(struct repl *r, const char *s)
{
	struct text j = {0};
	const char *why = NULL;
	int64_t t = session_clock(r);
	if (event_line(r, s, &j, &why) == 0) {
		if (cxr_record_time(r->h, j.p, j.len, &t) < 0)
			t = session_clock(r);
		session_remember(r, j.p, t, "<input>", r->commands);
	} else {
		session_fail(r, "%s", why);
	}
	free(j.p);
}

/* A JSON event typed: at the clock's time when it has none. */
void event_json(struct repl *r, const char *s)
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
			cxr_format_time(session_clock(r), add_time, &j);
			text_adds(&j, "}");
		}
		free(quoted.p);
		t = session_clock(r);
	}
	session_remember(r, j.p, t, "<input>", r->commands);
	free(j.p);
}

