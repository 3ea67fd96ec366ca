/* json.h: a strict JSON (RFC 8259) scanner for event records.
 *
 * An event line is scanned once, validated completely (syntax and UTF-8),
 * and only the fields the script uses are extracted: a projection maps
 * key paths to slots.  Nothing is allocated per event except decoded
 * strings, which go into the caller's arena.
 */
#ifndef CXR_JSON_H
#define CXR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "value.h"

struct json_proj; /* the set of key paths to extract */

struct json_proj *json_proj_new(void);
void json_proj_free(struct json_proj *p);
/* Extract the value at segs[0].segs[1]...segs[nseg-1] (keys of nested
 * objects) into slots[slot].  Keys are compared byte for byte after
 * unescaping. */
void json_proj_add(struct json_proj *p, const char *const *segs, const size_t *lens, int nseg, int slot);

struct json_error {
	const char *msg; /* static text: "expected ',' or '}' after object member" */
	size_t col;      /* 1-based byte column of the problem */
};

/* Scan one JSON text s[0..n) (no trailing newline; surrounding
 * whitespace allowed).  The top level must be an object.  Slots named by
 * the projection are set (the caller sets every slot to null first):
 * null, true/false as V_BOOL, numbers as V_INT when integral and within
 * int64 (no fraction or exponent) else V_FLOAT, strings as V_STR with
 * flags VF_DATA, decoded into the arena.  An object or array that a
 * projection names is stored as V_STR (flags VF_JSON) holding its raw
 * JSON text.  On a
 * duplicate key the last one wins.  Nesting deeper than 512 levels is an
 * error.  Returns 0, or -1 and fills *err. */
int json_scan_event(const struct json_proj *p, const char *s, size_t n, struct val *slots,
		    struct arena *a, struct json_error *err);

/* Validate and visit every top-level member of an object (for tools that
 * need all fields: stats, the REPL).  cb gets the decoded key and the
 * value as json_scan_event would store it.  Returns 0 or -1 with *err. */
typedef void (*json_member_fn)(void *ud, const char *key, size_t keylen, const struct val *v);
int json_scan_members(const char *s, size_t n, json_member_fn cb, void *ud, struct arena *a,
		      struct json_error *err);

/* Validate any JSON text (any top-level value, surrounding whitespace
 * allowed): for conformance tests and for tools.  Returns 0 or -1. */
int json_validate(const char *s, size_t n, struct json_error *err);

/* Text as every reader takes it: UTF-8 (RFC 3629) without NUL bytes.
 * The offset of the first byte that breaks the rule (*nul says whether it
 * is a NUL byte or invalid UTF-8), or n when there is none.  The JSON
 * reader checks its strings so; the CSV reader its records. */
size_t utf8_check(const char *s, size_t n, int *nul);

/* Characters of s as they print: a valid sequence is one, and so is each
 * invalid run that json_write_str replaces by one U+FFFD. */
size_t utf8_chars(const char *s, size_t n);

/* Append s as a JSON string literal (quotes included).  Invalid UTF-8 is
 * written as U+FFFD; control characters as \n \t ... or \u00XX. */
void json_write_str(struct buf *b, const char *s, size_t n);

/* Append a double the way jq prints numbers: integral values without a
 * decimal point (13, not 13.0), otherwise the shortest text that reads back
 * to the same double; non-finite values as null. */
void json_write_num(struct buf *b, double d);

#endif
