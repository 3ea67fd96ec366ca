/* fuzz_json.c: libFuzzer entry point for the JSON scanner and writer.
 *
 * Not part of the test run.  Build and run (seeded from JSONTestSuite):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *       src/base/mem.c src/base/json.c tests/unit/fuzz_json.c -o /tmp/fuzz_json
 *   mkdir -p /tmp/fuzz_corpus
 *   /tmp/fuzz_json /tmp/fuzz_corpus ../shared/data/json_test_suite/test_parsing
 *
 * Besides "no crash", it checks properties that hold for every input:
 * - validity does not depend on the projection: the event path with and
 *   without projected keys, json_scan_members and json_validate agree on
 *   accept/reject, and on the error column and message;
 * - json_write_str always produces valid JSON, and writing what was read
 *   back gives the same text;
 * - json_write_num reads back to the same double.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"

#define FUZZ_ASSERT(c)          \
	do {                    \
		if (!(c))       \
			abort(); \
	} while (0)

static void on_member(void *ud, const char *key, size_t keylen, const struct val *v)
{
	size_t *count = ud;
	(void)key;
	(void)keylen;
	(void)v;
	(*count)++;
}

static struct json_proj *make_proj(void)
{
	static const char *const keys[] = {"a", "b", "c", "customer_id", "", "\xC3\xA9"};
	struct json_proj *p = json_proj_new();
	for (int i = 0; i < 6; i++) {
		size_t len = strlen(keys[i]);
		json_proj_add(p, &keys[i], &len, 1, i);
	}
	const char *const path[] = {"a", "b", "c", "a"};
	const size_t lens[] = {1, 1, 1, 1};
	for (int n = 2; n <= 4; n++)
		json_proj_add(p, path, lens, n, 4 + n);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct arena a = {0};
	struct val slots[9];
	for (int i = 0; i < 9; i++)
		slots[i] = val_null();

	/* Validity and error reports agree across the entry points. */
	struct json_proj *p = make_proj(), *none = json_proj_new();
	struct json_error e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0};
	int r1 = json_scan_event(p, s, size, slots, &a, &e1);
	int r2 = json_scan_event(none, s, size, slots, &a, &e2);
	size_t count = 0;
	int r3 = json_scan_members(s, size, on_member, &count, &a, &e3);
	int r4 = json_validate(s, size, &e4);
	FUZZ_ASSERT(r1 == r2 && r2 == r3);
	if (r1 < 0) {
		FUZZ_ASSERT(e1.col == e2.col && strcmp(e1.msg, e2.msg) == 0);
		FUZZ_ASSERT(e2.col == e3.col && strcmp(e2.msg, e3.msg) == 0);
		FUZZ_ASSERT(e1.col >= 1 && e1.col <= size + 1);
	}
	if (r1 == 0)
		FUZZ_ASSERT(r4 == 0);
	if (r4 < 0)
		FUZZ_ASSERT(e4.col >= 1 && e4.col <= size + 1);
	/* Projected values: raw JSON is valid on its own, decoded strings
	 * are valid UTF-8 (they survive writing and reading unchanged). */
	for (int i = 0; r1 == 0 && i < 9; i++) {
		struct val v = slots[i];
		if (v.kind != V_STR)
			continue;
		if (!(v.flags & VF_DATA)) {
			FUZZ_ASSERT(json_validate(v.u.s, v.len, NULL) == 0);
			continue;
		}
		struct buf w = {0};
		struct val back[9];
		buf_adds(&w, "{\"a\":");
		json_write_str(&w, v.u.s, v.len);
		buf_addc(&w, '}');
		FUZZ_ASSERT(json_scan_event(p, w.p, w.len, back, &a, NULL) == 0);
		FUZZ_ASSERT(back[0].kind == V_STR && back[0].len == v.len &&
			    memcmp(back[0].u.s, v.u.s, v.len) == 0);
		buf_free(&w);
	}
	json_proj_free(p);
	json_proj_free(none);

	/* The writer: valid output, stable through a read-back. */
	struct buf b = {0}, b2 = {0};
	buf_adds(&b, "{\"a\":");
	json_write_str(&b, s, size);
	buf_addc(&b, '}');
	struct json_proj *pa = make_proj();
	struct json_error err;
	FUZZ_ASSERT(json_scan_event(pa, b.p, b.len, slots, &a, &err) == 0);
	FUZZ_ASSERT(slots[0].kind == V_STR);
	buf_adds(&b2, "{\"a\":");
	json_write_str(&b2, slots[0].u.s, slots[0].len);
	buf_addc(&b2, '}');
	FUZZ_ASSERT(b.len == b2.len && memcmp(b.p, b2.p, b.len) == 0);
	json_proj_free(pa);

	/* Numbers: the first 8 bytes as a double. */
	if (size >= 8) {
		double d;
		memcpy(&d, data, sizeof d);
		buf_clear(&b);
		json_write_num(&b, d);
		if (isfinite(d))
			FUZZ_ASSERT(strtod(b.p, NULL) == d && json_validate(b.p, b.len, NULL) == 0);
		else
			FUZZ_ASSERT(strcmp(b.p, "null") == 0);
	}
	buf_free(&b);
	buf_free(&b2);
	arena_free(&a);
	return 0;
}
