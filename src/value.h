/* value.h: the values that flow through the VM.
 *
 * A value is 16 bytes and never owns memory by itself: strings and lists
 * point into an arena (per event, per program) or into memory owned by a
 * customer record.  Whoever keeps a value beyond the event copies it.
 */
#ifndef CXR_VALUE_H
#define CXR_VALUE_H

#include <stddef.h>
#include <stdint.h>

enum val_kind {
	V_NULL,
	V_BOOL,
	V_INT,   /* u.i */
	V_FLOAT, /* u.f */
	V_STR,   /* u.s, len bytes of UTF-8, not NUL-terminated */
	V_TIME,  /* u.i nanoseconds since 1970-01-01T00:00:00Z */
	V_DUR,   /* u.i nanoseconds */
	V_LIST,  /* u.items, len values */
	V_ERR,   /* u.s: a runtime error message (NUL-terminated) */
};

/* Flags on a value. */
enum {
	VF_DATA = 1, /* string read from input data: compares as a number when it is one (awk) */
	VF_JSON = 2, /* string holding the JSON text of an input object or array: output as JSON */
};

struct val {
	uint8_t kind;  /* enum val_kind */
	uint8_t flags; /* VF_* */
	uint32_t len;  /* string bytes or list length */
	union {
		int64_t i;
		double f;
		const char *s;
		const struct val *items;
	} u;
};

#define NS_PER_MS 1000000LL
#define NS_PER_SEC 1000000000LL

static inline struct val val_null(void) { struct val v = {0}; return v; }
static inline struct val val_bool(int b) { struct val v = {0}; v.kind = V_BOOL; v.u.i = !!b; return v; }
static inline struct val val_int(int64_t i) { struct val v = {0}; v.kind = V_INT; v.u.i = i; return v; }
static inline struct val val_float(double f) { struct val v = {0}; v.kind = V_FLOAT; v.u.f = f; return v; }
static inline struct val val_time(int64_t ns) { struct val v = {0}; v.kind = V_TIME; v.u.i = ns; return v; }
static inline struct val val_dur(int64_t ns) { struct val v = {0}; v.kind = V_DUR; v.u.i = ns; return v; }
static inline struct val val_str(const char *s, size_t n)
{
	struct val v = {0};
	v.kind = V_STR;
	v.len = (uint32_t)n;
	v.u.s = s;
	return v;
}

#endif
