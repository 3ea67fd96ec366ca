/* value.h: the values that flow through the VM, and who owns their bytes.
 *
 * OWNERSHIP, the one rule for every value in cxr:
 *
 * A struct val is 16 bytes and never owns what it points to.  A string's
 * bytes and a list's items live in exactly one of these places, each with
 * its lifetime:
 *
 *   the prog's arena     constants, test values       as long as the prog
 *   an event's slots     the store, or an owned clone  as long as that event
 *   the engine's scratch anything a handler computes  to the end of the step
 *                        (concatenation, lists, ...)   (the event or timer run)
 *   a block that state   customer variables, bound     until the state lets
 *   owns                 events of a pattern, history, go of it, and never
 *                        an SLA clock, a stream buffer before the end of the
 *                                                      handler that did so
 *
 * So a value may be read and passed around freely within a step.  Whatever
 * keeps one beyond the step stores a deep copy (val_copy_size, then
 * val_copy_into; event_clone for a whole event), and lets go of what it
 * held only after the copy is made and the handler has ended: the new
 * value may be built from the old one (`set customer.x = customer.x + [y]`),
 * and a local may still hold it (`let old = customer.x`).  engine_setvar
 * shows the pattern.  What is kept as text (dedupe keys, tags, metric and
 * SLA group keys) is copied as text.
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

struct buf;

/* Bytes a deep copy of v needs (0: v holds no pointer). */
size_t val_copy_size(const struct val *v);
/* A deep copy of v into *mem, which has val_copy_size(v) bytes, 8-aligned
 * (lists hold struct val); *mem moves past what was used. */
struct val val_copy_into(const struct val *v, char **mem);

/* Only null and false are false, as in jq. */
int val_truthy(const struct val *v);
/* A data string as a number, when it reads as one (blanks around a
 * decimal integer or float; not "inf", "nan" or hex). */
int val_as_number(const struct val *v, struct val *out);
/* "null", "int", "duration", ...: the kind's name in messages. */
const char *val_kind_name(const struct val *v);

/* Rendering shared by responses, the REPL, tests and the tools: text
 * (strings bare), JSON (times and durations as strings, input objects as
 * they were), and typed: as a script writes it, with its type, 13m
 * (duration), "s9" (string), @2026-03-01T19:13:00Z (time), what disasm and
 * --trace show. */
void val_render_text(struct buf *b, const struct val *v);
void val_render_json(struct buf *b, const struct val *v);
void val_render_typed(struct buf *b, const struct val *v);

#endif
