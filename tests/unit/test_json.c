/* test_json.c: unit tests of the JSON scanner and writer (src/base/json.c).
 *
 * The conformance suite (tests/conformance/json_suite.sh) covers the
 * accept/reject verdicts on JSONTestSuite; these tests cover what it
 * cannot see: projected values, error columns and messages, number
 * conversion, the writer, and the nesting limit.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/json.h"
#include "base/mem.h"

#define NSLOTS 16

/* One test's projection, arena and slots. */
struct fix {
	struct json_proj *p;
	struct arena a;
	struct val slots[NSLOTS];
	struct json_error err;
};

/* Project the dotted path (no dots inside keys here) into slot. */
static void proj(struct fix *f, const char *path, int slot)
{
	const char *segs[16];
	size_t lens[16];
	int n = 0;
	for (const char *s = path;;) {
		const char *dot = strchr(s, '.');
		segs[n] = s;
		lens[n] = dot ? (size_t)(dot - s) : strlen(s);
		n++;
		if (!dot)
			break;
		s = dot + 1;
	}
	json_proj_add(f->p, segs, lens, n, slot);
}

static void fix_init(struct fix *f)
{
	memset(f, 0, sizeof *f);
	f->p = json_proj_new();
}

static void fix_free(struct fix *f)
{
	json_proj_free(f->p);
	arena_free(&f->a);
}

/* Scan s (strlen) with the fixture's projection; slots reset first. */
static int scan_n(struct fix *f, const char *s, size_t n)
{
	for (int i = 0; i < NSLOTS; i++)
		f->slots[i] = val_null();
	f->err.msg = NULL;
	f->err.col = 0;
	return json_scan_event(f->p, s, n, f->slots, &f->a, &f->err);
}

static int scan(struct fix *f, const char *s) { return scan_n(f, s, strlen(s)); }

static int is_str(struct val v, const char *want, size_t n)
{
	return v.kind == V_STR && v.len == n && memcmp(v.u.s, want, n) == 0;
}

#define CHECK_SLOT_STR(f, k, want)                                                   \
	CHECK(is_str((f)->slots[k], (want), strlen(want)) && (f)->slots[k].flags == VF_DATA, \
	      "slot %d: kind %d len %u '%.*s', want string '%s'", (k), (f)->slots[k].kind,  \
	      (f)->slots[k].len, (f)->slots[k].kind == V_STR ? (int)(f)->slots[k].len : 0,  \
	      (f)->slots[k].kind == V_STR ? (f)->slots[k].u.s : "", (want))
#define CHECK_SLOT_RAW(f, k, want)                                                   \
	CHECK(is_str((f)->slots[k], (want), strlen(want)) && (f)->slots[k].flags == VF_JSON,   \
	      "slot %d: kind %d '%.*s', want raw '%s'", (k), (f)->slots[k].kind,             \
	      (f)->slots[k].kind == V_STR ? (int)(f)->slots[k].len : 0,                     \
	      (f)->slots[k].kind == V_STR ? (f)->slots[k].u.s : "", (want))
#define CHECK_SLOT_INT(f, k, want)                                                   \
	CHECK((f)->slots[k].kind == V_INT && (f)->slots[k].u.i == (want),              \
	      "slot %d: kind %d, want int %lld", (k), (f)->slots[k].kind, (long long)(want))
#define CHECK_SLOT_NULL(f, k)                                                        \
	CHECK((f)->slots[k].kind == V_NULL, "slot %d: kind %d, want null", (k), (f)->slots[k].kind)

static void test_projection(void)
{
	struct fix f;
	fix_init(&f);
	proj(&f, "customer_id", 0);
	proj(&f, "event_type", 1);
	proj(&f, "n", 2);
	proj(&f, "ok", 3);
	proj(&f, "missing", 4);
	proj(&f, "nil", 5);
	proj(&f, "f", 6);
	CHECK(scan(&f, " {\"customer_id\": \"Case 1\", \"other\": [1, {\"x\": null}], \"event_type\":\"Open\","
		       "\"n\": 42, \"ok\": true, \"nil\": null, \"f\": false}\t ") == 0,
	      "%s", f.err.msg);
	CHECK_SLOT_STR(&f, 0, "Case 1");
	CHECK_SLOT_STR(&f, 1, "Open");
	CHECK_SLOT_INT(&f, 2, 42);
	CHECK(f.slots[3].kind == V_BOOL && f.slots[3].u.i == 1, "ok");
	CHECK_SLOT_NULL(&f, 4);
	CHECK_SLOT_NULL(&f, 5);
	CHECK(f.slots[6].kind == V_BOOL && f.slots[6].u.i == 0, "f");
	/* Decoded strings are NUL-terminated copies, not pointers into the line. */
	char line[] = "{\"customer_id\":\"abc\"}";
	CHECK(scan(&f, line) == 0, "%s", f.err.msg);
	CHECK(f.slots[0].u.s < line || f.slots[0].u.s >= line + sizeof line, "copied");
	CHECK(f.slots[0].u.s[3] == 0, "NUL-terminated");
	/* Keys are compared whole: prefixes and extensions do not match. */
	CHECK(scan(&f, "{\"customer\":\"x\",\"customer_idx\":\"y\",\"customer_i\":1}") == 0, "%s", f.err.msg);
	CHECK_SLOT_NULL(&f, 0);
	/* Empty object, empty key. */
	CHECK(scan(&f, "{}") == 0, "%s", f.err.msg);
	CHECK(scan(&f, "{\"\":1}") == 0, "%s", f.err.msg);
	fix_free(&f);

	/* An empty key can be projected too. */
	fix_init(&f);
	proj(&f, "", 0);
	CHECK(scan(&f, "{\"a\":1,\"\":2}") == 0, "%s", f.err.msg);
	CHECK_SLOT_INT(&f, 0, 2);
	fix_free(&f);

	/* No projection at all: pure validation of an object. */
	CHECK(json_scan_event(NULL, "{\"a\":[1,2]}", 11, NULL, NULL, NULL) == 0, "null proj");
	struct json_error err;
	CHECK(json_scan_event(NULL, "{\"a\":[1,2}", 10, NULL, NULL, &err) == -1 && err.col == 10, "null proj err");

	/* Many keys: the per-node hash table grows. */
	fix_init(&f);
	struct buf line2 = {0};
	buf_addc(&line2, '{');
	for (int i = 0; i < 100; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		if (i % 7 == 0 && i / 7 < NSLOTS)
			proj(&f, key, i / 7);
		buf_printf(&line2, "%s\"%s\":%d", i ? "," : "", key, i);
	}
	buf_addc(&line2, '}');
	CHECK(scan(&f, line2.p) == 0, "%s", f.err.msg);
	for (int i = 0; i < 100; i += 7)
		if (i / 7 < NSLOTS)
			CHECK_SLOT_INT(&f, i / 7, i);
	buf_free(&line2);
	fix_free(&f);
}

static void test_nested(void)
{
	struct fix f;
	fix_init(&f);
	proj(&f, "a.b.c", 0);
	proj(&f, "a.b", 1);
	proj(&f, "a", 2);
	proj(&f, "a.x", 3);
	proj(&f, "arr", 4);
	proj(&f, "arr.0", 5);
	proj(&f, "s.t", 6);
	CHECK(scan(&f, "{\"a\": {\"b\": {\"c\": \"deep\", \"d\": 1}, \"x\": -7}, \"arr\": [ {\"0\":1} ], \"s\": \"str\"}") == 0,
	      "%s", f.err.msg);
	CHECK_SLOT_STR(&f, 0, "deep");
	CHECK_SLOT_RAW(&f, 1, "{\"c\": \"deep\", \"d\": 1}");
	CHECK_SLOT_RAW(&f, 2, "{\"b\": {\"c\": \"deep\", \"d\": 1}, \"x\": -7}");
	CHECK_SLOT_INT(&f, 3, -7);
	/* Paths go through objects only: an array or a string leaves null. */
	CHECK_SLOT_RAW(&f, 4, "[ {\"0\":1} ]");
	CHECK_SLOT_NULL(&f, 5);
	CHECK_SLOT_NULL(&f, 6);
	/* A path through a scalar is null, the scalar itself is not. */
	CHECK(scan(&f, "{\"a\": 5}") == 0, "%s", f.err.msg);
	CHECK_SLOT_NULL(&f, 0);
	CHECK_SLOT_NULL(&f, 1);
	CHECK_SLOT_INT(&f, 2, 5);
	/* Errors inside a projected object are still found. */
	CHECK(scan(&f, "{\"a\": {\"b\": {\"c\": 1,}}}") == -1, "trailing comma inside");
	CHECK_STR(f.err.msg, "trailing comma in object");
	CHECK(f.err.col == 20, "col %zu", f.err.col);
	CHECK(scan(&f, "{\"a\": {\"b\" 1}}") == -1, "missing colon inside");
	CHECK_STR(f.err.msg, "expected ':' after object key");
	CHECK(f.err.col == 12, "col %zu", f.err.col);
	fix_free(&f);
}

static void test_duplicates(void)
{
	struct fix f;
	fix_init(&f);
	proj(&f, "a", 0);
	proj(&f, "b.c", 1);
	proj(&f, "b.d", 2);
	CHECK(scan(&f, "{\"a\":1,\"a\":\"two\"}") == 0, "%s", f.err.msg);
	CHECK_SLOT_STR(&f, 0, "two");
	/* The later "b" replaces the whole earlier object. */
	CHECK(scan(&f, "{\"b\":{\"c\":1},\"b\":{\"d\":2}}") == 0, "%s", f.err.msg);
	CHECK_SLOT_NULL(&f, 1);
	CHECK_SLOT_INT(&f, 2, 2);
	CHECK(scan(&f, "{\"b\":{\"c\":1,\"d\":2},\"b\":3}") == 0, "%s", f.err.msg);
	CHECK_SLOT_NULL(&f, 1);
	CHECK_SLOT_NULL(&f, 2);
	CHECK(scan(&f, "{\"b\":{\"c\":1,\"c\":2}}") == 0, "%s", f.err.msg);
	CHECK_SLOT_INT(&f, 1, 2);
	fix_free(&f);

	/* Two slots on one path both receive the value. */
	fix_init(&f);
	proj(&f, "k", 0);
	proj(&f, "k", 3);
	CHECK(scan(&f, "{\"k\":9}") == 0, "%s", f.err.msg);
	CHECK_SLOT_INT(&f, 0, 9);
	CHECK_SLOT_INT(&f, 3, 9);
	fix_free(&f);
}

static void test_strings(void)
{
	struct fix f;
	fix_init(&f);
	proj(&f, "s", 0);
	proj(&f, "cat", 1);
	proj(&f, "q\"k", 2);
	CHECK(scan(&f, "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}") == 0, "%s", f.err.msg);
	CHECK_SLOT_STR(&f, 0, "\"\\/\b\f\n\r\t");
	CHECK(scan(&f, "{\"s\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00x\"}") == 0, "%s", f.err.msg);
	CHECK_SLOT_STR(&f, 0, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80x");
	/* Raw UTF-8 is kept as is, at every length. */
	CHECK(scan(&f, "{\"s\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF\"}") == 0, "%s",
	      f.err.msg);
	CHECK_SLOT_STR(&f, 0, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF");
	/* \u0000 decodes to a NUL inside the string. */
	CHECK(scan(&f, "{\"s\":\"a\\u0000b\"}") == 0, "%s", f.err.msg);
	CHECK(is_str(f.slots[0], "a\0b", 3), "embedded NUL");
	/* Keys are compared after unescaping. */
	CHECK(scan(&f, "{\"c\\u0061t\":1,\"q\\\"k\":2}") == 0, "%s", f.err.msg);
	CHECK_SLOT_INT(&f, 1, 1);
	CHECK_SLOT_INT(&f, 2, 2);
	/* Long strings with specials at every offset (the 8-byte loop). */
	for (int len = 0; len < 40; len++) {
		for (int at = 0; at < len; at++) {
			struct buf b = {0};
			buf_adds(&b, "{\"s\":\"");
			for (int i = 0; i < len; i++)
				buf_adds(&b, i == at ? "\\n" : "x");
			buf_adds(&b, "\"}");
			CHECK(scan(&f, b.p) == 0, "len %d at %d: %s", len, at, f.err.msg);
			CHECK(f.slots[0].kind == V_STR && f.slots[0].len == (uint32_t)len &&
				      f.slots[0].u.s[at] == '\n',
			      "len %d at %d", len, at);
			/* The same position holding a raw control byte is an error there. */
			b.p[6 + at] = '\x01';
			b.p[7 + at] = 'x';
			CHECK(scan(&f, b.p) == -1 && f.err.col == (size_t)(7 + at), "ctrl at %d: col %zu", at,
			      f.err.col);
			buf_free(&b);
		}
	}
	fix_free(&f);
}

struct num_case {
	const char *text;
	int kind;
	int64_t i;
	double d;
};

static void test_numbers(void)
{
	static const struct num_case cases[] = {
		{"0", V_INT, 0, 0},
		{"-0", V_INT, 0, 0},
		{"7", V_INT, 7, 0},
		{"-123", V_INT, -123, 0},
		{"9223372036854775807", V_INT, INT64_MAX, 0},
		{"-9223372036854775808", V_INT, INT64_MIN, 0},
		{"9223372036854775808", V_FLOAT, 0, 9223372036854775808.0},
		{"-9223372036854775809", V_FLOAT, 0, -9223372036854775809.0},
		{"18446744073709551616", V_FLOAT, 0, 18446744073709551616.0},
		{"100000000000000000000000", V_FLOAT, 0, 1e23},
		{"1.0", V_FLOAT, 0, 1.0},
		{"1.5", V_FLOAT, 0, 1.5},
		{"-2.25", V_FLOAT, 0, -2.25},
		{"0.1", V_FLOAT, 0, 0.1},
		{"1e2", V_FLOAT, 0, 100.0},
		{"1E+2", V_FLOAT, 0, 100.0},
		{"25e-1", V_FLOAT, 0, 2.5},
		{"0.000001234", V_FLOAT, 0, 0.000001234},
		{"123456789012345678901234567890e-10", V_FLOAT, 0, 12345678901234567890.1234567890},
		{"3.141592653589793238462643383279", V_FLOAT, 0, 3.141592653589793},
		{"2.2250738585072014e-308", V_FLOAT, 0, 2.2250738585072014e-308},
		{"1.7976931348623157e308", V_FLOAT, 0, 1.7976931348623157e308},
		{"4.9e-324", V_FLOAT, 0, 4.9e-324},
		{"1e400", V_FLOAT, 0, INFINITY},
		{"-1e400", V_FLOAT, 0, -INFINITY},
		{"1e-400", V_FLOAT, 0, 0.0},
		{"0e99999999999999999999", V_FLOAT, 0, 0.0},
		{"1e-99999999999999999999", V_FLOAT, 0, 0.0},
	};
	struct fix f;
	fix_init(&f);
	proj(&f, "n", 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct num_case *c = &cases[i];
		struct buf b = {0};
		buf_printf(&b, "{\"n\":%s}", c->text);
		CHECK(scan(&f, b.p) == 0, "%s: %s", c->text, f.err.msg);
		struct val v = f.slots[0];
		if (c->kind == V_INT)
			CHECK(v.kind == V_INT && v.u.i == c->i, "%s: kind %d %lld", c->text, v.kind,
			      (long long)v.u.i);
		else
			CHECK(v.kind == V_FLOAT && v.u.f == c->d, "%s: kind %d %.17g want %.17g", c->text,
			      v.kind, v.u.f, c->d);
		buf_free(&b);
	}
	/* -0.0 keeps its sign as a float. */
	CHECK(scan(&f, "{\"n\":-0.0}") == 0 && f.slots[0].kind == V_FLOAT && signbit(f.slots[0].u.f),
	      "-0.0");
	/* Very long numbers (no fixed buffer): 10000 digits. */
	struct buf b = {0};
	buf_adds(&b, "{\"n\":1");
	for (int i = 0; i < 9999; i++)
		buf_addc(&b, '0');
	buf_adds(&b, "}");
	CHECK(scan(&f, b.p) == 0 && f.slots[0].kind == V_FLOAT && isinf(f.slots[0].u.f), "1e9999 long");
	buf_clear(&b);
	buf_adds(&b, "{\"n\":1.5");
	for (int i = 0; i < 9999; i++)
		buf_addc(&b, '0');
	buf_adds(&b, "1}");
	CHECK(scan(&f, b.p) == 0 && f.slots[0].kind == V_FLOAT && f.slots[0].u.f == 1.5,
	      "1.5000...01 long: %g", f.slots[0].u.f);
	buf_free(&b);

	/* The fast path agrees with strtod on many random decimal texts. */
	uint64_t seed = 88172645463325252ULL;
	int bad = 0;
	for (int i = 0; i < 200000; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		char text[64];
		int digits = 1 + (int)(seed % 20);
		int point = (int)((seed >> 8) % (uint64_t)(digits + 1));
		int exp = (int)((seed >> 16) % 61) - 30;
		int use_exp = (seed >> 24) & 1, k = 0;
		uint64_t r = seed >> 28;
		if ((seed >> 25) & 1)
			text[k++] = '-';
		for (int d = 0; d < digits; d++) {
			int dig = (int)(r % 10);
			r = r / 10 ^ (r << 7);
			if (d == 0 && dig == 0 && digits > 1)
				dig = 1 + d;
			if (d == point && d > 0)
				text[k++] = '.';
			text[k++] = (char)('0' + dig);
		}
		if (digits == 1 && text[k - 1] == '0' && point)
			point = 0;
		if (use_exp)
			k += snprintf(text + k, sizeof text - (size_t)k, "e%d", exp);
		text[k] = 0;
		struct buf line = {0};
		buf_printf(&line, "{\"n\":%s}", text);
		if (scan(&f, line.p) != 0) {
			if (bad++ < 5)
				CHECK(0, "%s: %s", text, f.err.msg);
		} else {
			struct val v = f.slots[0];
			double want = strtod(text, NULL);
			double got = v.kind == V_INT ? (double)v.u.i : v.u.f;
			if (got != want && bad++ < 5)
				CHECK(0, "%s: got %.17g want %.17g", text, got, want);
		}
		buf_free(&line);
		arena_free(&f.a);
	}
	CHECK(bad == 0, "%d random numbers differ from strtod", bad);
	fix_free(&f);
}

struct err_case {
	const char *text;
	const char *msg;
	size_t col;
};

static void test_errors(void)
{
	static const struct err_case cases[] = {
		{"", "expected a JSON object", 1},
		{"   ", "expected a JSON object", 4},
		{"[1]", "expected a JSON object", 1},
		{"\"s\"", "expected a JSON object", 1},
		{"{", "unexpected end of input", 2},
		{"{\"a\"", "unexpected end of input", 5},
		{"{\"a\" 1}", "expected ':' after object key", 6},
		{"{\"a\":1 \"b\":2}", "expected ',' or '}' after object member", 8},
		{"{\"a\":1,}", "trailing comma in object", 7},
		{"{\"a\":[1,]}", "trailing comma in array", 8},
		{"{\"a\":[1 2]}", "expected ',' or ']' after array element", 9},
		{"{\"a\":1} x", "trailing characters after JSON value", 9},
		{"{\"a\":1}{}", "trailing characters after JSON value", 8},
		{"{\"a\":\"abc}", "unterminated string", 6},
		{"{\"a\":\"abc\\", "unterminated string", 6},
		{"{\"abc", "unterminated string", 2},
		{"{\"a\":\"x\ty\"}", "unescaped control character in string", 8},
		{"{\"a\":\"\\x\"}", "invalid escape in string", 8},
		{"{\"a\":\"\\u12G4\"}", "invalid \\u escape in string", 7},
		{"{\"a\":\"\\u12\"}", "invalid \\u escape in string", 7},
		{"{\"a\":\"\\ud800\"}", "lone surrogate in \\u escape", 7},
		{"{\"a\":\"\\ud800\\u0041\"}", "lone surrogate in \\u escape", 7},
		{"{\"a\":\"\\udc00\"}", "lone surrogate in \\u escape", 7},
		{"{\"a\":\"\xC3\"}", "invalid UTF-8 in string", 7},
		{"{\"a\":\"\xC0\xAF\"}", "invalid UTF-8 in string", 7},         /* overlong '/' */
		{"{\"a\":\"\xE0\x80\xAF\"}", "invalid UTF-8 in string", 7},     /* overlong */
		{"{\"a\":\"\xED\xA0\x80\"}", "invalid UTF-8 in string", 7},     /* U+D800 */
		{"{\"a\":\"\xF4\x90\x80\x80\"}", "invalid UTF-8 in string", 7}, /* > U+10FFFF */
		{"{\"a\":\"\xF8\x88\x80\x80\x80\"}", "invalid UTF-8 in string", 7},
		{"{\"a\":\"\x80\"}", "invalid UTF-8 in string", 7},
		{"{\"a\":\"ok\xE2\x82", "invalid UTF-8 in string", 9}, /* truncated at the end */
		{"{\"\xFF\":1}", "invalid UTF-8 in string", 3},
		{"{\"a\":\xC3\xA9}", "expected a JSON value", 6},
		{"{\"a\":01}", "leading zeros are not allowed", 6},
		{"{\"a\":-}", "expected digit after '-'", 7},
		{"{\"a\":-a}", "expected digit after '-'", 7},
		{"{\"a\":1.}", "expected digit after '.'", 8},
		{"{\"a\":.5}", "expected a JSON value", 6},
		{"{\"a\":1e}", "expected digit in exponent", 8},
		{"{\"a\":1e+}", "expected digit in exponent", 9},
		{"{\"a\":1.2.3}", "unexpected character after number", 9},
		{"{\"a\":0x10}", "unexpected character after number", 7},
		{"{\"a\":NaN}", "expected a JSON value", 6},
		{"{\"a\":-Infinity}", "expected digit after '-'", 7},
		{"{\"a\":tru}", "invalid literal", 6},
		{"{\"a\":nul", "invalid literal", 6},
		{"{\"a\":True}", "expected a JSON value", 6},
		{"{'a':1}", "expected string as object key", 2},
		{"{\"a\":'x'}", "expected a JSON value", 6},
		{"{a:1}", "expected string as object key", 2},
		{"{\"a\":1,,}", "expected string as object key", 8},
		{"{\"a\"::1}", "expected a JSON value", 6},
		{"\f{}", "expected a JSON object", 1},
		{"{\"a\":\v1}", "expected a JSON value", 6},
		{"\xEF\xBB\xBF{}", "UTF-8 byte order mark is not allowed", 1},
		{"{\"a\":1}\xC2\xA0", "trailing characters after JSON value", 8},
	};
	struct fix f;
	fix_init(&f);
	proj(&f, "a", 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct err_case *c = &cases[i];
		int rc = scan(&f, c->text);
		CHECK(rc == -1, "'%s' accepted", c->text);
		if (rc == -1) {
			CHECK(strcmp(f.err.msg, c->msg) == 0 && f.err.col == c->col,
			      "'%s': got %zu: %s, want %zu: %s", c->text, f.err.col, f.err.msg, c->col, c->msg);
		}
	}
	/* The same texts fail the same way when nothing is projected: the
	 * skipper is as strict as the converting path. */
	struct json_proj *none = json_proj_new();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct err_case *c = &cases[i];
		struct json_error err = {0};
		int rc = json_scan_event(none, c->text, strlen(c->text), f.slots, &f.a, &err);
		CHECK(rc == -1 && err.col == c->col && strcmp(err.msg, c->msg) == 0,
		      "unprojected '%s': got %zu: %s", c->text, err.col, rc ? err.msg : "accept");
	}
	json_proj_free(none);

	/* NUL bytes: n is the length, the text is not NUL-terminated. */
	static const char nul1[] = "{\"a\":1}\0";
	CHECK(scan_n(&f, nul1, sizeof nul1 - 1) == -1, "NUL after object");
	CHECK_STR(f.err.msg, "NUL byte in input");
	CHECK(f.err.col == 8, "col %zu", f.err.col);
	static const char nul2[] = "{\"a\":\"x\0y\"}";
	CHECK(scan_n(&f, nul2, sizeof nul2 - 1) == -1 && f.err.col == 8, "NUL in string");
	CHECK_STR(f.err.msg, "NUL byte in input");
	static const char nul3[] = "{\"a\":1,\0\"b\":2}";
	CHECK(scan_n(&f, nul3, sizeof nul3 - 1) == -1 && f.err.col == 8, "NUL between members");
	CHECK_STR(f.err.msg, "NUL byte in input");
	/* A text cut short is not read past n. */
	const char *full = "{\"a\":\"abcdefghijklmnop\"}";
	for (size_t n = 0; n < strlen(full); n++) {
		char *cut = mem_alloc(n ? n : 1); /* exact size: ASan sees overreads */
		memcpy(cut, full, n);
		CHECK(scan_n(&f, cut, n) == -1, "prefix %zu accepted", n);
		mem_free(cut);
	}
	fix_free(&f);

	/* json_validate takes any value. */
	struct json_error err;
	CHECK(json_validate("1", 1, &err) == 0, "1");
	CHECK(json_validate(" \"x\" ", 5, &err) == 0, "string");
	CHECK(json_validate("\r\n[null, true, false, -1.5e3, {}, []]\t", 38, &err) == 0, "%s", err.msg);
	CHECK(json_validate("", 0, &err) == -1 && err.col == 1, "empty");
	CHECK_STR(err.msg, "unexpected end of input");
	CHECK(json_validate("1 2", 3, &err) == -1 && err.col == 3, "two values");
	CHECK(json_validate("[1,\n2,\n3]", 9, &err) == 0, "newlines");
}

static void test_nesting(void)
{
	struct json_error err;
	/* 100000 '[' must be refused at level 513, without deep recursion. */
	size_t n = 100000;
	char *s = mem_alloc(n);
	memset(s, '[', n);
	CHECK(json_validate(s, n, &err) == -1, "deep accepted");
	CHECK_STR(err.msg, "nesting deeper than 512 levels");
	CHECK(err.col == 513, "col %zu", err.col);
	mem_free(s);

	/* Exactly 512 levels is fine, 513 is not; objects count too. */
	for (int levels = 511; levels <= 513; levels++) {
		struct buf b = {0};
		for (int i = 0; i < levels; i++)
			buf_adds(&b, i % 2 ? "[" : "{\"k\":");
		buf_adds(&b, "0");
		for (int i = levels - 1; i >= 0; i--)
			buf_adds(&b, i % 2 ? "]" : "}");
		int rc = json_validate(b.p, b.len, &err);
		CHECK(rc == (levels <= 512 ? 0 : -1), "%d levels: %d", levels, rc);

		/* Through the event path, with a projection along the chain. */
		struct fix f;
		fix_init(&f);
		const char *segs[600];
		size_t lens[600];
		for (int i = 0; i < 600; i++) {
			segs[i] = "k";
			lens[i] = 1;
		}
		json_proj_add(f.p, segs, lens, 1, 0);
		json_proj_add(f.p, segs, lens, 2, 1);
		rc = scan_n(&f, b.p, b.len);
		CHECK(rc == (levels <= 512 ? 0 : -1), "event %d levels: %d %s", levels, rc, f.err.msg);
		fix_free(&f);
		buf_free(&b);
	}

	/* A projected path 600 keys long over objects 600 deep: the limit
	 * holds on the converting path as well. */
	struct fix f;
	fix_init(&f);
	const char *segs[600];
	size_t lens[600];
	for (int i = 0; i < 600; i++) {
		segs[i] = "k";
		lens[i] = 1;
	}
	json_proj_add(f.p, segs, lens, 600, 0);
	json_proj_add(f.p, segs, lens, 511, 1);
	json_proj_add(f.p, segs, lens, 512, 2);
	for (int levels = 511; levels <= 600; levels += 89) {
		struct buf b = {0};
		for (int i = 0; i < levels; i++)
			buf_adds(&b, "{\"k\":");
		buf_adds(&b, "7");
		for (int i = 0; i < levels; i++)
			buf_addc(&b, '}');
		int rc = scan_n(&f, b.p, b.len);
		if (levels == 511) {
			CHECK(rc == 0, "511: %s", f.err.msg);
			CHECK_SLOT_INT(&f, 1, 7);
			CHECK_SLOT_NULL(&f, 2);
		} else {
			CHECK(rc == -1 && f.err.col == 5 * 512 + 1, "600: col %zu", f.err.col);
			CHECK_STR(f.err.msg, "nesting deeper than 512 levels");
		}
		buf_free(&b);
	}
	fix_free(&f);
}

/* ---- json_scan_members ---- */

struct members {
	struct buf out; /* "key=value;" per member */
};

static void on_member(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct members *m = ud;
	buf_add(&m->out, key, keylen);
	buf_addc(&m->out, '=');
	switch (v->kind) {
	case V_NULL: buf_adds(&m->out, "null"); break;
	case V_BOOL: buf_adds(&m->out, v->u.i ? "true" : "false"); break;
	case V_INT: buf_printf(&m->out, "i%lld", (long long)v->u.i); break;
	case V_FLOAT: buf_printf(&m->out, "f%g", v->u.f); break;
	case V_STR:
		buf_adds(&m->out, v->flags & VF_DATA ? "s" : "raw");
		buf_add(&m->out, v->u.s, v->len);
		break;
	default: buf_adds(&m->out, "?"); break;
	}
	buf_addc(&m->out, ';');
}

static void test_members(void)
{
	struct arena a = {0};
	struct members m = {{0}};
	struct json_error err;
	const char *s = " { \"a\" : 1 , \"b\\n\":\"x\\ty\", \"c\": [1, 2], \"d\": {\"e\": null}, \"f\": 2.5,"
			" \"g\": true, \"h\": null, \"a\": -3 } ";
	CHECK(json_scan_members(s, strlen(s), on_member, &m, &a, &err) == 0, "%s", err.msg);
	CHECK_STR(m.out.p ? m.out.p : "",
		  "a=i1;b\n=sx\ty;c=raw[1, 2];d=raw{\"e\": null};f=f2.5;g=true;h=null;a=i-3;");
	buf_clear(&m.out);
	CHECK(json_scan_members("{}", 2, on_member, &m, &a, &err) == 0 && m.out.len == 0, "empty object");
	/* A rejected line calls nothing, even for its valid first members. */
	CHECK(json_scan_members("{\"a\":1,\"b\":}", 12, on_member, &m, &a, &err) == -1, "bad accepted");
	CHECK(m.out.len == 0, "callback ran on a rejected line: %s", m.out.p);
	CHECK(err.col == 12, "col %zu", err.col);
	CHECK(json_scan_members("[1]", 3, on_member, &m, &a, &err) == -1, "array accepted");
	CHECK_STR(err.msg, "expected a JSON object");
	buf_free(&m.out);
	arena_free(&a);
}

/* ---- writer ---- */

static void check_write_str(const char *in, size_t n, const char *want)
{
	struct buf b = {0};
	json_write_str(&b, in, n);
	CHECK(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0, "got %s, want %s", b.p, want);
	struct json_error err;
	CHECK(json_validate(b.p, b.len, &err) == 0, "output %s invalid: %s", b.p, err.msg);
	buf_free(&b);
}

static void test_write_str(void)
{
	check_write_str("", 0, "\"\"");
	check_write_str("plain", 5, "\"plain\"");
	check_write_str("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
	check_write_str("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
	check_write_str("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	check_write_str("a\0b", 3, "\"a\\u0000b\"");
	check_write_str("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
	check_write_str("\xE2\x80\xA8|\xE2\x80\xA9", 7, "\"\\u2028|\\u2029\"");
	/* Invalid UTF-8: one U+FFFD per maximal subpart. */
	check_write_str("a\xFF" "b", 3, "\"a\xEF\xBF\xBD" "b\"");
	check_write_str("\xE2\x82" "A", 3, "\"\xEF\xBF\xBD" "A\"");
	check_write_str("\xE2\x82", 2, "\"\xEF\xBF\xBD\"");
	check_write_str("\xF0\x80\x80", 3, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
	check_write_str("\xED\xA0\x80", 3, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
	check_write_str("\xC0\xAF", 2, "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
	check_write_str("\xF4\x90\x80\x80", 4, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
	check_write_str("\xF0\x9F\x98", 3, "\"\xEF\xBF\xBD\"");

	/* Round trips: write then scan gives the bytes back (valid UTF-8 in),
	 * and the output is always valid JSON (any bytes in). */
	struct fix f;
	fix_init(&f);
	proj(&f, "s", 0);
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	static const char *const pieces[] = {"a", "\"", "\\", "\n", "\x01", "\x7f", "\xC3\xA9", "\xE2\x82\xAC",
					     "\xF0\x9F\x98\x80", "\xE2\x80\xA8", "/", "\xEF\xBF\xBF", " "};
	int bad = 0;
	for (int i = 0; i < 5000; i++) {
		struct buf in = {0}, line = {0};
		buf_adds(&in, "");
		int k = (int)(i % 30);
		for (int j = 0; j < k; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			buf_adds(&in, pieces[(seed >> 33) % (sizeof pieces / sizeof pieces[0])]);
		}
		buf_adds(&line, "{\"s\":");
		json_write_str(&line, in.p, in.len);
		buf_addc(&line, '}');
		if (scan_n(&f, line.p, line.len) != 0 || !is_str(f.slots[0], in.p, in.len))
			bad++;
		/* Random bytes: output valid, and stable when written again. */
		buf_clear(&in);
		for (int j = 0; j < k; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			buf_addc(&in, (char)(seed >> 56));
		}
		buf_clear(&line);
		buf_adds(&line, "{\"s\":");
		json_write_str(&line, in.p, in.len);
		buf_addc(&line, '}');
		if (scan_n(&f, line.p, line.len) != 0) {
			bad++;
		} else {
			struct buf again = {0};
			buf_adds(&again, "{\"s\":");
			json_write_str(&again, f.slots[0].u.s, f.slots[0].len);
			buf_addc(&again, '}');
			if (again.len != line.len || memcmp(again.p, line.p, line.len) != 0)
				bad++;
			buf_free(&again);
		}
		buf_free(&in);
		buf_free(&line);
		arena_free(&f.a);
	}
	CHECK(bad == 0, "%d writer round trips failed", bad);
	fix_free(&f);
}

static void check_write_num(double d, const char *want)
{
	struct buf b = {0};
	buf_adds(&b, "<");
	json_write_num(&b, d);
	CHECK(strcmp(b.p + 1, want) == 0, "%.17g: got %s, want %s", d, b.p + 1, want);
	buf_free(&b);
}

static void test_write_num(void)
{
	check_write_num(13, "13");
	check_write_num(13.5, "13.5");
	check_write_num(0.1, "0.1");
	check_write_num(1e300, "1e+300");
	check_write_num(-0.0, "-0");
	check_write_num(0.0, "0");
	check_write_num(1e17, "100000000000000000");
	check_write_num(-42, "-42");
	check_write_num(1.0 / 3, "0.3333333333333333");
	check_write_num(0.1 + 0.2, "0.30000000000000004");
	check_write_num(9007199254740993.0, "9007199254740992");
	check_write_num(-9223372036854775808.0, "-9223372036854775808");
	check_write_num(9223372036854775808.0, "9.223372036854776e+18");
	check_write_num(1e19, "1e+19");
	check_write_num(1.5e-7, "1.5e-07");
	check_write_num(5e-324, "4.94065645841247e-324");
	check_write_num(1.7976931348623157e308, "1.7976931348623157e+308");
	check_write_num(INFINITY, "null");
	check_write_num(-INFINITY, "null");
	check_write_num(NAN, "null");

	/* Output reads back to the same double. */
	uint64_t seed = 1;
	int bad = 0;
	for (int i = 0; i < 100000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		double d;
		uint64_t bits = seed;
		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d))
			continue;
		struct buf b = {0};
		json_write_num(&b, d);
		struct json_error err;
		if (strtod(b.p, NULL) != d || json_validate(b.p, b.len, &err) != 0)
			bad++;
		buf_free(&b);
	}
	CHECK(bad == 0, "%d numbers did not round-trip", bad);
}

int main(void)
{
	test_projection();
	test_nested();
	test_duplicates();
	test_strings();
	test_numbers();
	test_errors();
	test_nesting();
	test_members();
	test_write_str();
	test_write_num();
	return check_summary("json");
}
