/* test_api.c: the library as an embedding program uses it, through
 * include/cxr.h only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cxr.h"

struct sink {
	char text[8192];
	size_t len;
	int calls;
};

static void collect(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;
	size_t room = sizeof s->text - 1 - s->len;
	if (n > room)
		n = room;
	memcpy(s->text + s->len, p, n);
	s->len += n;
	s->text[s->len] = 0;
	s->calls++;
}

static const char rules[] =
	"event film_started { scheduled: time  started: time  session: string }\n"
	"rule late\n"
	"  on film_started as f\n"
	"  when f.started - f.scheduled >= 10m\n"
	"  emit voucher { session: f.session, late: f.started - f.scheduled }\n"
	"  once per f.session\n"
	"end\n";

static void test_feed(void)
{
	struct sink out = {0}, diag = {0};
	cxr *h = cxr_new();
	cxr_on_output(h, collect, &out);
	cxr_on_diagnostic(h, collect, &diag);
	CHECK(cxr_compile_string(h, "inline.cxr", rules, strlen(rules)) == 0, "%s", diag.text);
	const char *ev = "{\"customer\":\"c1\",\"ts\":\"2026-03-01T19:13:00Z\",\"type\":\"film_started\","
			 "\"session\":\"s1\",\"scheduled\":\"2026-03-01T19:00:00Z\",\"started\":\"2026-03-01T19:13:00Z\"}";
	CHECK(cxr_feed_json(h, ev, strlen(ev), "feed", 1) == 0, "feed");
	CHECK(cxr_feed_json(h, ev, strlen(ev), "feed", 2) == 0, "feed again");
	CHECK_STR(out.text, "{\"action\":\"voucher\",\"rule\":\"late\",\"customer\":\"c1\",\"at\":\"2026-03-01T19:13:00Z\","
			    "\"session\":\"s1\",\"late\":\"13m\"}\n");
	CHECK(out.calls == 1, "once per session: %d responses", out.calls);

	/* A bad record is a reject, named by the source and line given. */
	CHECK(cxr_feed_json(h, "{\"customer\":", 12, "feed", 3) == 0, "a reject is not a failure");
	CHECK(strstr(diag.text, "feed:3:13: reject: unexpected end of input") != NULL, "diag: %s", diag.text);
	struct cxr_counts n;
	cxr_counts(h, &n);
	CHECK(n.events == 2 && n.rejected == 1 && n.responses == 1 && n.customers == 1,
	      "counts %llu %llu %llu %llu", (unsigned long long)n.events, (unsigned long long)n.rejected,
	      (unsigned long long)n.responses, (unsigned long long)n.customers);
	cxr_free(h);
}

static void test_compile_errors(void)
{
	struct sink diag = {0};
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, collect, &diag);
	const char *bad = "rule r\n  on x as e\n  emit y { a: e.n + }\nend\nrule q on x emit z { b: nope } end\n";
	CHECK(cxr_compile_string(h, "bad.cxr", bad, strlen(bad)) == 2, "two errors: %s", diag.text);
	CHECK(strstr(diag.text, "bad.cxr:3:21: error: unexpected '}', expected an expression") != NULL, "%s",
	      diag.text);
	CHECK(strstr(diag.text, "bad.cxr:5:25: error: unknown name 'nope'") != NULL, "%s", diag.text);
	/* Running an uncompiled handle is an input error, not a crash. */
	const char *none[] = {"/nonexistent"};
	CHECK(cxr_run_files(h, none, 1) == CXR_INPUT_ERROR, "run without a program");
	CHECK(cxr_feed_json(h, "{}", 2, "x", 1) == CXR_INPUT_ERROR, "feed without a program");
	cxr_free(h);
}

static void test_run_files_and_csv(void)
{
	char dir[] = "/tmp/cxr_api_XXXXXX";
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	char a[256], b[256];
	snprintf(a, sizeof a, "%s/a.csv", dir);
	snprintf(b, sizeof b, "%s/b.jsonl", dir);
	FILE *f = fopen(a, "w");
	fputs("customer,ts,type,session,scheduled,started\n"
	      "c2,2026-03-01T20:30:00Z,film_started,s2,2026-03-01T20:00:00Z,2026-03-01T20:30:00Z\n", f);
	fclose(f);
	f = fopen(b, "w");
	fputs("{\"customer\":\"c1\",\"ts\":\"2026-03-01T19:13:00Z\",\"type\":\"film_started\",\"session\":\"s1\","
	      "\"scheduled\":\"2026-03-01T19:00:00Z\",\"started\":\"2026-03-01T19:13:00Z\"}\n", f);
	fclose(f);
	struct sink out = {0}, diag = {0};
	cxr *h = cxr_new();
	cxr_on_output(h, collect, &out);
	cxr_on_diagnostic(h, collect, &diag);
	cxr_set_format(h, CXR_CSV);
	CHECK(cxr_compile_string(h, "inline.cxr", rules, strlen(rules)) == 0, "%s", diag.text);
	const char *paths[] = {a, b};
	CHECK(cxr_run_files(h, paths, 2) == CXR_OK, "%s", diag.text);
	/* Merged by time: b's event (19:13) comes before a's (20:30). */
	CHECK_STR(out.text, "action,rule,customer,at,session,late\n"
			    "voucher,late,c1,2026-03-01T19:13:00Z,s1,13m\n"
			    "voucher,late,c2,2026-03-01T20:30:00Z,s2,30m\n");
	struct sink dis = {0};
	cxr_disasm(h, collect, &dis);
	CHECK(strstr(dis.text, "rule late (line 2, 0 locals)") && strstr(dis.text, "CONV      to time"), "%s",
	      dis.text);
	cxr_free(h);
	unlink(a);
	unlink(b);
	rmdir(dir);
}

/* The progress hook: what the reading loop and the rules' loop tell,
 * whichever way a file is read (whole on one thread, in parts on two, a
 * CSV file), ending with one call with done set and the whole file told. */
struct seen_progress {
	int calls, done_calls, after_done;
	struct cxr_progress last;
};

static void on_progress(void *ud, const struct cxr_progress *p)
{
	struct seen_progress *s = ud;
	s->calls++;
	s->after_done += s->done_calls > 0;
	s->done_calls += p->done;
	s->last = *p;
}

static void test_progress(void)
{
	char dir[] = "/tmp/cxr_api_XXXXXX";
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	char jsonl[256], csv[256];
	snprintf(jsonl, sizeof jsonl, "%s/log.jsonl", dir);
	snprintf(csv, sizeof csv, "%s/log.csv", dir);
	FILE *j = fopen(jsonl, "w"), *c = fopen(csv, "w");
	fputs("customer,ts,type,session,scheduled,started\n", c);
	enum { N = 100000 };
	for (int i = 0; i < N; i++) {
		/* out of order, so that the latest time is not the last line's */
		int t = i == 10 ? 2 * N : i;
		fprintf(j, "{\"customer\":\"c%d\",\"ts\":%d,\"type\":\"film_started\"}\n", i % 97, t);
		fprintf(c, "c%d,%d,film_started,s,,\n", i % 97, t);
	}
	long jsize = ftell(j), csize = ftell(c);
	fclose(j);
	fclose(c);
	const char *const files[] = {jsonl, jsonl, csv};
	const long sizes[] = {jsize, jsize, csize};
	for (int k = 0; k < 3; k++) {
		struct sink diag = {0};
		struct seen_progress seen = {0};
		cxr *h = cxr_new();
		cxr_on_diagnostic(h, collect, &diag);
		cxr_on_progress(h, on_progress, &seen);
		cxr_set_threads(h, k == 1 ? 2 : 1);
		CHECK(cxr_compile_string(h, "inline.cxr", rules, strlen(rules)) == 0, "%s", diag.text);
		CHECK(cxr_run_files(h, &files[k], 1) == CXR_OK, "%s", diag.text);
		CHECK(seen.done_calls == 1 && seen.after_done == 0, "%s: one last call with done: %d, then %d",
		      files[k], seen.done_calls, seen.after_done);
		CHECK(seen.last.bytes == (uint64_t)sizes[k] && seen.last.events == N, "%s: told %llu bytes, %llu events",
		      files[k], (unsigned long long)seen.last.bytes, (unsigned long long)seen.last.events);
		CHECK(seen.last.timed && seen.last.log_time == 2LL * N * 1000000000LL, "%s: log time %lld", files[k],
		      (long long)seen.last.log_time);
		CHECK(seen.last.running && seen.last.ran == N, "%s: the rules ran over %llu", files[k],
		      (unsigned long long)seen.last.ran);
		cxr_free(h);
	}
	/* cxr stats tells its reading too. */
	struct seen_progress told = {0};
	struct cxr_stats_options so = {0};
	struct sink out = {0};
	so.progress = on_progress;
	so.progress_ud = &told;
	CHECK(cxr_stats(&files[0], 1, &so, collect, &out, collect, &out) == CXR_OK, "stats");
	CHECK(told.done_calls == 1 && told.last.events == N && told.last.bytes == (uint64_t)jsize,
	      "stats told %d, %llu events", told.done_calls, (unsigned long long)told.last.events);
	unlink(jsonl);
	unlink(csv);
	rmdir(dir);
}

static void test_two_handles(void)
{
	/* No global state: two handles with different scripts run side by side. */
	struct sink o1 = {0}, o2 = {0};
	cxr *h1 = cxr_new(), *h2 = cxr_new();
	cxr_on_output(h1, collect, &o1);
	cxr_on_output(h2, collect, &o2);
	const char *r1 = "rule one on x emit a end\n", *r2 = "rule two on x emit b end\n";
	CHECK(cxr_compile_string(h1, "1.cxr", r1, strlen(r1)) == 0, "h1");
	CHECK(cxr_compile_string(h2, "2.cxr", r2, strlen(r2)) == 0, "h2");
	const char *ev = "{\"customer\":\"c\",\"ts\":0,\"type\":\"x\"}";
	cxr_feed_json(h1, ev, strlen(ev), "e", 1);
	cxr_feed_json(h2, ev, strlen(ev), "e", 1);
	CHECK_STR(o1.text, "{\"action\":\"a\",\"rule\":\"one\",\"customer\":\"c\",\"at\":\"1970-01-01T00:00:00Z\"}\n");
	CHECK_STR(o2.text, "{\"action\":\"b\",\"rule\":\"two\",\"customer\":\"c\",\"at\":\"1970-01-01T00:00:00Z\"}\n");
	cxr_free(h1);
	cxr_free(h2);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL, "write %s", path);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Imports through the API: a script given as a string imports only the
 * stdlib unless the embedding program names the folders; inside them, a
 * link that leads out (to /etc/passwd, /dev/zero, /proc/self/environ) is
 * refused, and its target is never read nor quoted. */
static void test_import_roots(void)
{
	char dir[] = "/tmp/cxr_api_XXXXXX";
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	char path[256];
	snprintf(path, sizeof path, "%s/lib.cxr", dir);
	write_text(path, "const FROM_LIB = 7\n");
	static const char *const leads[][2] = {{"passwd.cxr", "/etc/passwd"}, {"zero.cxr", "/dev/zero"},
					       {"environ.cxr", "/proc/self/environ"}};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, leads[i][0]);
		CHECK(symlink(leads[i][1], path) == 0, "symlink %s", path);
	}
	const char script[] = "import \"lib.cxr\"\nrule r\n  on x\n  emit y { v: FROM_LIB }\nend\n";
	struct sink diag = {0};
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, collect, &diag);
	CHECK(cxr_compile_string(h, "<embedded>", script, strlen(script)) == 2 &&
		      strstr(diag.text, "this script is not a file, so it imports only the stdlib"),
	      "no folder, no file imports: %s", diag.text);
	const char *const roots[] = {dir};
	CHECK(cxr_set_import_roots(h, roots, 1) == 0, "roots");
	snprintf(path, sizeof path, "%s/main.cxr", dir);
	memset(&diag, 0, sizeof diag);
	CHECK(cxr_compile_string(h, path, script, strlen(script)) == 0, "inside the folder set: %s", diag.text);
	for (int i = 0; i < 3; i++) {
		char text[256];
		snprintf(text, sizeof text, "import \"%s\"\nrule r\n  on x\n  emit y {}\nend\n", leads[i][0]);
		memset(&diag, 0, sizeof diag);
		CHECK(cxr_compile_string(h, path, text, strlen(text)) == 1 && strstr(diag.text, "leads outside the folder") &&
			      !strstr(diag.text, "root:") && !strstr(diag.text, "PATH="),
		      "%s is refused unread: %s", leads[i][1], diag.text);
	}
	const char *const bad[] = {"/no/such/folder"};
	memset(&diag, 0, sizeof diag);
	CHECK(cxr_set_import_roots(h, bad, 1) == -1 && strstr(diag.text, "/no/such/folder"), "a root that is no folder");
	cxr_free(h);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, leads[i][0]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/lib.cxr", dir);
	unlink(path);
	rmdir(dir);
}

/* Explaining while feeding (the REPL's :why): the notes of a customer fed,
 * and an error with the nearest keys for a customer no event names. */
static void test_explain_finish(void)
{
	const char *ev = "{\"customer\":\"c1\",\"ts\":\"2026-03-01T19:13:00Z\",\"type\":\"film_started\","
			 "\"session\":\"s1\",\"scheduled\":\"2026-03-01T19:00:00Z\",\"started\":\"2026-03-01T19:05:00Z\"}";
	for (int known = 0; known < 2; known++) {
		struct sink out = {0}, diag = {0};
		cxr *h = cxr_new();
		cxr_on_diagnostic(h, collect, &diag);
		CHECK(cxr_compile_string(h, "inline.cxr", rules, strlen(rules)) == 0, "%s", diag.text);
		CHECK(cxr_explain_begin(h, known ? "c1" : "c2", "late", NULL, NULL) == CXR_OK, "begin: %s", diag.text);
		CHECK(cxr_feed_json(h, ev, strlen(ev), "feed", 1) == 0, "feed");
		cxr_finish(h);
		int status = cxr_explain_finish(h, 0, collect, &out);
		if (known) {
			CHECK(status == CXR_OK && strstr(out.text, "f.started - f.scheduled is 5m, 5m short of 10m"),
			      "%d %s", status, out.text);
		} else {
			CHECK(status == CXR_INPUT_ERROR && out.len == 0, "unknown customer: %d %s", status, out.text);
			CHECK(strstr(diag.text, "error: customer 'c2' has no events; did you mean 'c1'?") != NULL, "%s",
			      diag.text);
		}
		cxr_free(h);
	}
}

/* A prompt reads on only when the text is cut short, as Lua decides. */
static void test_input_unfinished(void)
{
	static const char *const unfinished[] = {
		"rule r", "rule r\n  on x as e\n", "rule r\n  on x as e\n  emit a {", "1 +", "(1 + 2",
		"[1, 2,", "\"abc", "\"a {1 +", "const X =", "fn f(x) =", "journey j {", "3m + 2m *", NULL};
	static const char *const finished[] = {
		"1 + 2", "\"abc\" == \"abc\"", "rule r on x emit a end", "const X = 5", "this is not valid (",
		"1 + + )", "rule r\n  on x as e\n  emit a { v: ) }", "fn f(x) = x * 2", "", "end", NULL};
	for (int i = 0; unfinished[i]; i++)
		CHECK(cxr_input_unfinished(unfinished[i], strlen(unfinished[i])) == 1, "unfinished: %s", unfinished[i]);
	for (int i = 0; finished[i]; i++)
		CHECK(cxr_input_unfinished(finished[i], strlen(finished[i])) == 0, "not unfinished: %s", finished[i]);
}

int main(void)
{
	test_input_unfinished();
	test_import_roots();
	test_feed();
	test_compile_errors();
	test_run_files_and_csv();
	test_two_handles();
	test_progress();
	test_explain_finish();
	return check_summary("api");
}
