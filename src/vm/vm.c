/* vm.c: the bytecode interpreter and the value semantics it implements.
 *
 * Values follow awk where data is concerned (a string read from input
 * compares and computes as a number, or as a time, when it reads as one)
 * and are strict where the script is concerned (the compiler rejects
 * `5m + 3`).  What only the data can reveal becomes an error value that
 * stops the handler when it reaches a guard or a response.
 */
#include "vm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/timeutil.h"

struct vm *vm_new(const struct prog *p, const struct vm_host *host, struct engine *eng, struct arena *scratch)
{
	struct vm *vm = mem_alloc(sizeof *vm);
	vm->p = p;
	vm->host = host;
	vm->eng = eng;
	vm->stack = mem_alloc(sizeof *vm->stack * (size_t)(p->max_stack + 1));
	vm->locals = mem_alloc(sizeof *vm->locals * (size_t)(p->max_locals + 1));
	vm->scratch = scratch;
	vm->md = pcre2_match_data_create(1, NULL);
	vm->mctx = pcre2_match_context_create(NULL);
	/* Bounds that keep a pathological pattern from hanging a run. */
	pcre2_set_match_limit(vm->mctx, 1000000);
	pcre2_set_depth_limit(vm->mctx, 10000);
	return vm;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	tz_cache_free(vm->tz);
	pcre2_match_data_free(vm->md);
	pcre2_match_context_free(vm->mctx);
	mem_free(vm->stack);
	mem_free(vm->locals);
	mem_free(vm->marks);
	buf_free(&vm->tmp);
	mem_free(vm);
}

struct val vm_error(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_clear(&vm->tmp);
	buf_vprintf(&vm->tmp, fmt, ap);
	va_end(ap);
	struct val v = {0};
	v.kind = V_ERR;
	v.u.s = arena_strndup(vm->scratch, vm->tmp.p, vm->tmp.len);
	return v;
}

struct val vm_string(struct vm *vm, const char *s, size_t n)
{
	return val_str(arena_strndup(vm->scratch, s, n), n);
}

static int as_time(const struct val *v, struct val *out)
{
	int64_t ns;
	const char *why;
	if (v->kind == V_STR && time_parse(v->u.s, v->len, 0, &ns, &why) == 0) {
		*out = val_time(ns);
		return 1;
	}
	return 0;
}

/* Bring data strings to the kind of the other operand (awk's rule,
 * extended to times and durations). */
static void coerce(struct val *a, struct val *b)
{
	struct val t;
	int da = a->kind == V_STR && (a->flags & VF_DATA);
	int db = b->kind == V_STR && (b->flags & VF_DATA);
	if (!da && !db)
		return;
	if (da && db) {
		struct val x, y;
		if (val_as_number(a, &x) && val_as_number(b, &y)) {
			*a = x;
			*b = y;
		} else if (as_time(a, &x) && as_time(b, &y)) {
			*a = x;
			*b = y;
		}
		return;
	}
	struct val *s = da ? a : b, *o = da ? b : a;
	switch (o->kind) {
	case V_INT:
	case V_FLOAT:
		if (val_as_number(s, &t))
			*s = t;
		break;
	case V_TIME:
		if (as_time(s, &t))
			*s = t;
		break;
	case V_DUR: {
		int64_t ns;
		const char *why;
		if (dur_parse(s->u.s, s->len, &ns, &why) == 0)
			*s = val_dur(ns);
		break;
	}
	default:
		break;
	}
}

static double num(const struct val *v) { return v->kind == V_INT ? (double)v->u.i : v->u.f; }
static int is_number(const struct val *v) { return v->kind == V_INT || v->kind == V_FLOAT; }

static struct val type_error(struct vm *vm, const char *op, const struct val *a, const struct val *b)
{
	return vm_error(vm, "cannot compute %s %s %s", val_kind_name(a), op, val_kind_name(b));
}

static struct val arith(struct vm *vm, enum opcode op, struct val a, struct val b)
{
	if (a.kind == V_ERR)
		return a;
	if (b.kind == V_ERR)
		return b;
	coerce(&a, &b);
	if (a.kind == V_NULL || b.kind == V_NULL)
		return val_null();
	int64_t r;
	switch (op) {
	case OPC_ADD:
		if (a.kind == V_INT && b.kind == V_INT)
			return __builtin_add_overflow(a.u.i, b.u.i, &r) ? val_float((double)a.u.i + (double)b.u.i) : val_int(r);
		if (is_number(&a) && is_number(&b))
			return val_float(num(&a) + num(&b));
		if ((a.kind == V_TIME && b.kind == V_DUR) || (a.kind == V_DUR && b.kind == V_TIME))
			return __builtin_add_overflow(a.u.i, b.u.i, &r) ? vm_error(vm, "time out of range") : val_time(r);
		if (a.kind == V_DUR && b.kind == V_DUR)
			return __builtin_add_overflow(a.u.i, b.u.i, &r) ? vm_error(vm, "duration out of range") : val_dur(r);
		if (a.kind == V_STR && b.kind == V_STR) {
			char *s = arena_alloc(vm->scratch, (size_t)a.len + b.len + 1);
			memcpy(s, a.u.s, a.len);
			memcpy(s + a.len, b.u.s, b.len);
			return val_str(s, (size_t)a.len + b.len);
		}
		if (a.kind == V_LIST && b.kind == V_LIST) {
			struct val *items = arena_alloc(vm->scratch, sizeof *items * ((size_t)a.len + b.len + 1));
			memcpy(items, a.u.items, sizeof *items * a.len);
			memcpy(items + a.len, b.u.items, sizeof *items * b.len);
			struct val v = {0};
			v.kind = V_LIST;
			v.len = a.len + b.len;
			v.u.items = items;
			return v;
		}
		return type_error(vm, "+", &a, &b);
	case OPC_SUB:
		if (a.kind == V_INT && b.kind == V_INT)
			return __builtin_sub_overflow(a.u.i, b.u.i, &r) ? val_float((double)a.u.i - (double)b.u.i) : val_int(r);
		if (is_number(&a) && is_number(&b))
			return val_float(num(&a) - num(&b));
		if (a.kind == V_TIME && b.kind == V_TIME)
			return __builtin_sub_overflow(a.u.i, b.u.i, &r) ? vm_error(vm, "duration out of range") : val_dur(r);
		if (a.kind == V_TIME && b.kind == V_DUR)
			return __builtin_sub_overflow(a.u.i, b.u.i, &r) ? vm_error(vm, "time out of range") : val_time(r);
		if (a.kind == V_DUR && b.kind == V_DUR)
			return __builtin_sub_overflow(a.u.i, b.u.i, &r) ? vm_error(vm, "duration out of range") : val_dur(r);
		return type_error(vm, "-", &a, &b);
	case OPC_MUL:
		if (a.kind == V_INT && b.kind == V_INT)
			return __builtin_mul_overflow(a.u.i, b.u.i, &r) ? val_float((double)a.u.i * (double)b.u.i) : val_int(r);
		if (is_number(&a) && is_number(&b))
			return val_float(num(&a) * num(&b));
		if (a.kind == V_DUR && is_number(&b)) {
			double d = (double)a.u.i * num(&b);
			return fabs(d) < 9.2e18 ? val_dur((int64_t)llround(d)) : vm_error(vm, "duration out of range");
		}
		if (is_number(&a) && b.kind == V_DUR)
			return arith(vm, op, b, a);
		return type_error(vm, "*", &a, &b);
	case OPC_DIV:
		if (is_number(&a) && is_number(&b)) {
			if (num(&b) == 0)
				return vm_error(vm, "division by zero");
			return val_float(num(&a) / num(&b));
		}
		if (a.kind == V_DUR && is_number(&b)) {
			if (num(&b) == 0)
				return vm_error(vm, "division by zero");
			double q = (double)a.u.i / num(&b);
			return fabs(q) < 9.2e18 ? val_dur((int64_t)llround(q)) : vm_error(vm, "duration out of range");
		}
		if (a.kind == V_DUR && b.kind == V_DUR) {
			if (b.u.i == 0)
				return vm_error(vm, "division by a zero duration");
			return val_float((double)a.u.i / (double)b.u.i);
		}
		return type_error(vm, "/", &a, &b);
	case OPC_MOD:
		if (a.kind == V_INT && b.kind == V_INT) {
			if (b.u.i == 0)
				return vm_error(vm, "modulo by zero");
			if (b.u.i == -1)
				return val_int(0);
			return val_int(a.u.i % b.u.i);
		}
		if (is_number(&a) && is_number(&b)) {
			if (num(&b) == 0)
				return vm_error(vm, "modulo by zero");
			return val_float(fmod(num(&a), num(&b)));
		}
		if (a.kind == V_DUR && b.kind == V_DUR) {
			if (b.u.i == 0)
				return vm_error(vm, "modulo by a zero duration");
			return val_dur(a.u.i % b.u.i);
		}
		return type_error(vm, "%", &a, &b);
	default:
		return vm_error(vm, "bad arithmetic operator");
	}
}

static int str_cmp(const struct val *a, const struct val *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->u.s, b->u.s, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Order two values (after coercion, into a and b): 1 when ordered; 0
 * when there is no order but that is the data's answer (null, NaN): the
 * comparison is false; -1 when the kinds cannot be ordered (`70 > 10m`,
 * `true < false`): an error, never a silent false. */
static int val_order(struct val *a, struct val *b, int *out)
{
	coerce(a, b);
	if (a->kind == V_NULL || b->kind == V_NULL)
		return 0;
	if (is_number(a) && is_number(b)) {
		if (a->kind == V_INT && b->kind == V_INT)
			*out = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
		else {
			double x = num(a), y = num(b);
			if (isnan(x) || isnan(y))
				return 0;
			*out = x < y ? -1 : x > y;
		}
		return 1;
	}
	if (a->kind != b->kind)
		return -1;
	switch (a->kind) {
	case V_TIME:
	case V_DUR:
		*out = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
		return 1;
	case V_STR:
		*out = str_cmp(a, b);
		return 1;
	default:
		return -1;
	}
}

/* Kinds that are never equal and whose mix is a mistake of units, not
 * data: a number against a duration or a time, a time against a duration. */
static int units_mixed(const struct val *a, const struct val *b)
{
	int ta = is_number(a) ? 1 : a->kind == V_DUR ? 2 : a->kind == V_TIME ? 3 : 0;
	int tb = is_number(b) ? 1 : b->kind == V_DUR ? 2 : b->kind == V_TIME ? 3 : 0;
	return ta && tb && ta != tb;
}

/* "cannot compare 70 (int) with 10m (duration) using '>'", and what to
 * write instead. */
static struct val compare_error(struct vm *vm, const struct val *a, const struct val *b, enum opcode op)
{
	static const char *const text[] = {[OPC_EQ] = "==", [OPC_NE] = "!=", [OPC_LT] = "<", [OPC_LE] = "<=",
					   [OPC_GT] = ">", [OPC_GE] = ">=", [OPC_IN] = "in", [OPC_HAS] = "has"};
	struct buf x = {0}, y = {0};
	/* Text is quoted, so that "10" reads apart from 10. */
	(a->kind == V_STR ? val_render_json : val_render_text)(&x, a);
	(b->kind == V_STR ? val_render_json : val_render_text)(&y, b);
	const char *hint = "", *kind = "";
	if ((is_number(a) && b->kind == V_DUR) || (a->kind == V_DUR && is_number(b)))
		hint = ": a duration compares with a duration (10m, or duration(x) for x seconds; minutes(d) is a "
		       "number)";
	else if ((is_number(a) && b->kind == V_TIME) || (a->kind == V_TIME && is_number(b)))
		hint = ": a time compares with a time (time(x) reads epoch seconds)";
	else if ((a->kind == V_STR) != (b->kind == V_STR)) {
		hint = ": the text is not ";
		kind = a->kind == V_STR ? val_kind_name(b) : val_kind_name(a);
		kind = strcmp(kind, "int") == 0 || strcmp(kind, "float") == 0 ? "a number" : strcmp(kind, "time") == 0 ? "a time"
		       : strcmp(kind, "duration") == 0 ? "a duration" : kind;
	}
	struct val e = vm_error(vm, "cannot compare %.80s (%s) with %.80s (%s) using '%s'%s%s", x.p, val_kind_name(a),
				y.p, val_kind_name(b), text[op], hint, kind);
	buf_free(&x);
	buf_free(&y);
	return e;
}

static int val_equal(struct val a, struct val b)
{
	coerce(&a, &b);
	if (is_number(&a) && is_number(&b))
		return a.kind == V_INT && b.kind == V_INT ? a.u.i == b.u.i : num(&a) == num(&b);
	if (a.kind != b.kind)
		return 0;
	switch (a.kind) {
	case V_NULL:
		return 1;
	case V_BOOL:
	case V_TIME:
	case V_DUR:
		return a.u.i == b.u.i;
	case V_STR:
		return a.len == b.len && memcmp(a.u.s, b.u.s, a.len) == 0;
	case V_LIST:
		if (a.len != b.len)
			return 0;
		for (uint32_t i = 0; i < a.len; i++)
			if (!val_equal(a.u.items[i], b.u.items[i]))
				return 0;
		return 1;
	default:
		return 0;
	}
}

/* `item in list`: as == tells, so that `60 in [1m]` is an error (a
 * number and a duration), not a silent false. */
static struct val list_has(struct vm *vm, const struct val *list, const struct val *item, enum opcode op)
{
	for (uint32_t i = 0; i < list->len; i++) {
		struct val x = list->u.items[i], y = *item;
		coerce(&x, &y);
		if (units_mixed(&x, &y))
			return compare_error(vm, &y, &x, op);
		if (val_equal(x, y))
			return val_bool(1);
	}
	return val_bool(0);
}

/* list[i]: from the front from 0, from the end from -1; null beyond. */
static struct val list_index(struct vm *vm, struct val list, struct val i)
{
	if (list.kind == V_ERR)
		return list;
	if (i.kind == V_ERR)
		return i;
	if (i.kind == V_STR && (i.flags & VF_DATA))
		val_as_number(&i, &i);
	if (list.kind == V_NULL || i.kind == V_NULL)
		return val_null();
	if (list.kind != V_LIST)
		return vm_error(vm, "[ ] takes an item of a list, not of %s", val_kind_name(&list));
	if (i.kind != V_INT)
		return vm_error(vm, "a list index is a whole number, not %s", val_kind_name(&i));
	int64_t k = i.u.i < 0 ? (int64_t)list.len + i.u.i : i.u.i;
	return k >= 0 && k < (int64_t)list.len ? list.u.items[k] : val_null();
}

/* Convert a data value to a schema type (CONV). */
static struct val convert(struct vm *vm, struct val v, enum ty to)
{
	struct val out;
	const char *why;
	int64_t ns;
	if (v.kind == V_NULL || v.kind == V_ERR)
		return v;
	switch (to) {
	case TY_TIME:
		if (v.kind == V_TIME)
			return v;
		if (v.kind == V_STR) {
			if (time_parse(v.u.s, v.len, 0, &ns, &why) == 0)
				return val_time(ns);
			return vm_error(vm, "'%.*s' is not a time: %s", (int)(v.len > 60 ? 60 : v.len), v.u.s, why);
		}
		if (is_number(&v)) {
			if (time_from_epoch(num(&v), &ns, &why) == 0)
				return val_time(ns);
			return vm_error(vm, "%g is not an epoch time: %s", num(&v), why);
		}
		break;
	case TY_DUR:
		if (v.kind == V_DUR)
			return v;
		if (v.kind == V_STR) {
			if (dur_parse(v.u.s, v.len, &ns, &why) == 0)
				return val_dur(ns);
			if (val_as_number(&v, &out) && fabs(num(&out) * 1e9) < 9.2e18)
				return val_dur((int64_t)llround(num(&out) * 1e9));
			return vm_error(vm, "'%.*s' is not a duration: %s", (int)(v.len > 60 ? 60 : v.len), v.u.s, why);
		}
		if (is_number(&v) && fabs(num(&v) * 1e9) < 9.2e18)
			return val_dur((int64_t)llround(num(&v) * 1e9)); /* seconds */
		break;
	case TY_INT:
	case TY_FLOAT:
		if (is_number(&v))
			return to == TY_INT && v.kind == V_FLOAT && v.u.f == floor(v.u.f) && fabs(v.u.f) < 9e18
				       ? val_int((int64_t)v.u.f) : v;
		if (v.kind == V_STR && val_as_number(&v, &out))
			return out;
		if (v.kind == V_STR)
			return vm_error(vm, "'%.*s' is not a number", (int)(v.len > 60 ? 60 : v.len), v.u.s);
		break;
	case TY_BOOL:
		if (v.kind == V_BOOL)
			return v;
		if (v.kind == V_STR && v.len == 4 && memcmp(v.u.s, "true", 4) == 0)
			return val_bool(1);
		if (v.kind == V_STR && v.len == 5 && memcmp(v.u.s, "false", 5) == 0)
			return val_bool(0);
		break;
	default:
		return v;
	}
	return vm_error(vm, "%s is not a %s", val_kind_name(&v), ty_name[to]);
}

static struct val concat(struct vm *vm, struct val *vals, int n)
{
	buf_clear(&vm->tmp);
	for (int i = 0; i < n; i++) {
		if (vals[i].kind == V_ERR)
			return vals[i];
		val_render_text(&vm->tmp, &vals[i]);
	}
	return vm_string(vm, vm->tmp.p ? vm->tmp.p : "", vm->tmp.len);
}

static struct val regex_match(struct vm *vm, struct val v, uint32_t r)
{
	if (v.kind == V_ERR)
		return v;
	if (v.kind == V_NULL)
		return val_bool(0);
	if (v.kind != V_STR) {
		buf_clear(&vm->tmp);
		val_render_text(&vm->tmp, &v);
		v = vm_string(vm, vm->tmp.p, vm->tmp.len);
	}
	int rc = pcre2_match(vm->p->regex[r], (PCRE2_SPTR)v.u.s, v.len, 0, 0, vm->md, vm->mctx);
	if (rc >= 0)
		return val_bool(1);
	if (rc == PCRE2_ERROR_NOMATCH)
		return val_bool(0);
	PCRE2_UCHAR msg[120];
	pcre2_get_error_message(rc, msg, sizeof msg);
	return vm_error(vm, "regex match failed: %s", (char *)msg);
}

/* --trace: one line per instruction as disasm lists it, with the stack
 * as the instruction finds it (its top with its type). */
static void trace_insn(struct vm *vm, uint32_t pc, const struct val *sp)
{
	const struct prog *p = vm->p;
	struct buf *b = &vm->trace->msg;
	buf_clear(b);
	buf_adds(b, "trace:   ");
	prog_insn_text(p, vm->rule >= 0 ? &p->rules[vm->rule] : NULL, pc, b);
	buf_printf(b, " ; before: depth %d", (int)(sp - vm->stack));
	if (sp > vm->stack) {
		buf_adds(b, ", top ");
		val_render_typed(b, &sp[-1]);
	}
	buf_addc(b, '\n');
	if (vm->trace->sink)
		vm->trace->sink(vm->trace->ud, b->p, b->len);
}

/* `cxr explain`: what the instruction at pc saw (see struct vm_mark). */
static void mark(struct vm *vm, uint32_t pc, struct val a, struct val b, int truth)
{
	if (vm->nmarks == vm->capmarks) {
		vm->capmarks = vm->capmarks ? vm->capmarks * 2 : 16;
		vm->marks = mem_realloc(vm->marks, sizeof *vm->marks * (size_t)vm->capmarks);
	}
	vm->marks[vm->nmarks++] = (struct vm_mark){pc, a, b, truth};
}

static enum vm_result run(struct vm *vm, uint32_t pc, struct val *result)
{
	const struct prog *p = vm->p;
	const uint32_t *code = p->code;
	struct val *sp = vm->stack; /* next free slot */
	struct val *L = vm->locals;
	vm->err = val_null();

#define STOP_IF_ERR(v)                                                          \
	do {                                                                    \
		if ((v).kind == V_ERR) {                                        \
			vm->err = (v);                                          \
			vm->err_pc = pc - 1;                                    \
			return VM_ERROR;                                        \
		}                                                               \
	} while (0)

	for (;;) {
		if (__builtin_expect(vm->trace != NULL || vm->covered != NULL, 0)) {
			if (vm->covered)
				vm->covered[pc] = 1;
			if (vm->trace)
				trace_insn(vm, pc, sp);
		}
		uint32_t w = code[pc++];
		uint32_t a = INSN_A(w);
		switch ((enum opcode)INSN_OP(w)) {
		case OPC_HALT:
			if (result)
				*result = sp > vm->stack ? sp[-1] : val_null();
			/* A condition or a key that is an error value is an error:
			 * `where a.n > r.n` with a.n = "abc" must not match. */
			if (result && result->kind == V_ERR) {
				vm->err = *result;
				vm->err_pc = pc - 1;
				return VM_ERROR;
			}
			return VM_FIRED;
		case OPC_CONST:
			*sp++ = p->consts[a];
			break;
		case OPC_NUL:
			*sp++ = val_null();
			break;
		case OPC_POP:
			sp--;
			break;
		case OPC_LOCAL:
			*sp++ = L[a];
			break;
		case OPC_SETLOCAL:
			L[a] = *--sp;
			break;
		case OPC_FIELD:
			*sp++ = vm->bind[FIELD_BIND(a)]->slots[FIELD_SLOT(a)];
			break;
		case OPC_EVTIME:
			*sp++ = val_time(vm->bind[a]->time);
			break;
		case OPC_EVTYPE:
			*sp++ = vm->bind[a]->type_name;
			break;
		case OPC_EVKEY:
			*sp++ = vm->host->customer_key(vm);
			break;
		case OPC_VAR:
			*sp++ = vm->host->getvar(vm, (int)a);
			break;
		case OPC_SETVAR:
			--sp;
			STOP_IF_ERR(*sp);
			vm->host->setvar(vm, (int)a, *sp);
			break;
		case OPC_TAGS:
			*sp++ = vm->host->tags(vm);
			break;
		case OPC_HIST:
			*sp++ = vm->host->history(vm, (int)a);
			break;
		case OPC_CONV:
			sp[-1] = convert(vm, sp[-1], (enum ty)a);
			break;
		case OPC_ADD:
		case OPC_SUB:
		case OPC_MUL:
		case OPC_DIV:
		case OPC_MOD:
			sp--;
			sp[-1] = arith(vm, (enum opcode)INSN_OP(w), sp[-1], sp[0]);
			break;
		case OPC_NEG: {
			struct val v = sp[-1];
			if (v.kind == V_STR && (v.flags & VF_DATA))
				val_as_number(&v, &v);
			if (v.kind == V_INT && v.u.i != INT64_MIN)
				sp[-1] = val_int(-v.u.i);
			else if (v.kind == V_INT || v.kind == V_FLOAT)
				sp[-1] = val_float(-num(&v));
			else if (v.kind == V_DUR)
				sp[-1] = val_dur(-v.u.i);
			else if (v.kind != V_NULL && v.kind != V_ERR)
				sp[-1] = vm_error(vm, "cannot negate %s", val_kind_name(&v));
			break;
		}
		case OPC_NOT:
			if (sp[-1].kind != V_ERR)
				sp[-1] = val_bool(!val_truthy(&sp[-1]));
			break;
		case OPC_EQ:
		case OPC_NE:
		case OPC_LT:
		case OPC_LE:
		case OPC_GT:
		case OPC_GE: {
			sp--;
			if (sp[-1].kind == V_ERR || sp[0].kind == V_ERR) {
				sp[-1] = sp[-1].kind == V_ERR ? sp[-1] : sp[0];
				break;
			}
			enum opcode op = (enum opcode)INSN_OP(w);
			struct val x = sp[-1], y = sp[0];
			int c = 0, r;
			if (op == OPC_EQ || op == OPC_NE) {
				coerce(&x, &y);
				if (units_mixed(&x, &y)) {
					sp[-1] = compare_error(vm, &x, &y, op);
					break;
				}
				r = val_equal(x, y) == (op == OPC_EQ);
			} else {
				int ordered = val_order(&x, &y, &c);
				if (ordered < 0) {
					sp[-1] = compare_error(vm, &x, &y, op);
					break;
				}
				/* with null (or NaN) there is no order: false */
				r = ordered && (op == OPC_LT ? c < 0 : op == OPC_LE ? c <= 0 : op == OPC_GT ? c > 0 : c >= 0);
			}
			if (__builtin_expect(vm->explain, 0))
				mark(vm, pc - 1, x, y, r); /* the sides as compared: a data string read as a number */
			sp[-1] = val_bool(r);
			break;
		}
		case OPC_IN:
		case OPC_HAS: {
			sp--;
			struct val list = INSN_OP(w) == OPC_IN ? sp[0] : sp[-1];
			struct val item = INSN_OP(w) == OPC_IN ? sp[-1] : sp[0];
			if (list.kind == V_ERR || item.kind == V_ERR)
				sp[-1] = list.kind == V_ERR ? list : item;
			else if (list.kind == V_LIST)
				sp[-1] = list_has(vm, &list, &item, (enum opcode)INSN_OP(w));
			else if (list.kind == V_NULL)
				sp[-1] = val_bool(0);
			else
				sp[-1] = vm_error(vm, "'%s' needs a list, not %s", INSN_OP(w) == OPC_IN ? "in" : "has",
						  val_kind_name(&list));
			break;
		}
		case OPC_INDEX:
			sp--;
			sp[-1] = list_index(vm, sp[-1], sp[0]);
			break;
		case OPC_MATCH:
			sp[-1] = regex_match(vm, sp[-1], a);
			break;
		case OPC_TRUTH:
			if (sp[-1].kind != V_ERR) {
				if (__builtin_expect(vm->explain, 0))
					mark(vm, pc - 1, sp[-1], val_null(), val_truthy(&sp[-1]));
				sp[-1] = val_bool(val_truthy(&sp[-1]));
			}
			break;
		case OPC_JUMP:
			pc = a;
			break;
		case OPC_ANDJ:
			if (__builtin_expect(vm->explain, 0) && sp[-1].kind != V_ERR)
				mark(vm, pc - 1, sp[-1], val_null(), val_truthy(&sp[-1]));
			if (sp[-1].kind == V_ERR) {
				pc = a;
			} else if (!val_truthy(&sp[-1])) {
				sp[-1] = val_bool(0);
				pc = a;
			} else {
				sp--;
			}
			break;
		case OPC_ORJ:
			if (__builtin_expect(vm->explain, 0) && sp[-1].kind != V_ERR)
				mark(vm, pc - 1, sp[-1], val_null(), val_truthy(&sp[-1]));
			if (sp[-1].kind == V_ERR) {
				pc = a;
			} else if (val_truthy(&sp[-1])) {
				sp[-1] = val_bool(1);
				pc = a;
			} else {
				sp--;
			}
			break;
		case OPC_COALJ:
			if (sp[-1].kind != V_NULL)
				pc = a;
			else
				sp--;
			break;
		case OPC_GUARD:
			--sp;
			STOP_IF_ERR(*sp);
			if (!val_truthy(sp)) {
				vm->stop_pc = pc - 1;
				return VM_SKIPPED;
			}
			break;
		case OPC_CALL: {
			int argc = (int)CALL_ARGC(a);
			sp -= argc;
			struct val r = builtins[CALL_BUILTIN(a)].fn(vm, sp, argc);
			*sp++ = r;
			break;
		}
		case OPC_LIST: {
			sp -= a;
			struct val v = {0};
			struct val *items = arena_alloc(vm->scratch, sizeof *items * (a ? a : 1));
			for (uint32_t i = 0; i < a; i++) {
				items[i] = sp[i];
				if (sp[i].kind == V_ERR)
					v = sp[i];
			}
			if (v.kind != V_ERR) {
				v.kind = V_LIST;
				v.len = a;
				v.u.items = items;
			}
			*sp++ = v;
			break;
		}
		case OPC_CONCAT:
			sp -= a;
			sp[0] = concat(vm, sp, (int)a);
			sp++;
			break;
		case OPC_ONCE:
			--sp;
			STOP_IF_ERR(*sp);
			if (__builtin_expect(vm->explain, 0))
				mark(vm, pc - 1, *sp, val_null(), 1);
			if (!vm->host->once(vm, *sp)) {
				vm->stop_pc = pc - 1;
				return VM_SKIPPED;
			}
			break;
		case OPC_LIMIT:
			if (!vm->host->limit(vm)) {
				vm->stop_pc = pc - 1;
				return VM_SKIPPED;
			}
			break;
		case OPC_EMIT: {
			int n = p->emits[a].nfields;
			sp -= n;
			for (int i = 0; i < n; i++)
				STOP_IF_ERR(sp[i]);
			vm->host->emit(vm, (int)a, sp);
			break;
		}
		case OPC_TAG:
		case OPC_UNTAG:
			--sp;
			STOP_IF_ERR(*sp);
			vm->host->tag(vm, *sp, INSN_OP(w) == OPC_TAG);
			break;
		case OPC_MOVE:
			vm->host->move(vm, (int)STAGE_JOURNEY(a), (int)STAGE_STAGE(a));
			break;
		case OPC_OBSERVE:
			sp -= 2;
			STOP_IF_ERR(sp[0]);
			STOP_IF_ERR(sp[1]);
			if (vm->host->observe(vm, (int)a, &sp[0], &sp[1]) < 0) {
				vm->err = vm_error(vm, "metric %s cannot observe %s", p->metrics[a].name, val_kind_name(&sp[0]));
				vm->err_pc = pc - 1;
				return VM_ERROR;
			}
			break;
		case OPC_BUDGET:
			if (!vm->host->budget_ok(vm, (int)a)) {
				vm->stop_pc = pc - 1;
				return VM_SKIPPED;
			}
			break;
		case OPC_FIRE:
			vm->host->fire(vm);
			break;
		case OPC__COUNT:
			return VM_ERROR;
		}
	}
#undef STOP_IF_ERR
}

enum vm_result vm_run_rule(struct vm *vm, int rule)
{
	vm->rule = rule;
	vm->nmarks = 0;
	return run(vm, vm->p->rules[rule].entry, NULL);
}

enum vm_result vm_eval_of(struct vm *vm, int rule, uint32_t entry, struct val *out)
{
	vm->rule = rule;
	enum vm_result r = run(vm, entry, out);
	if (r == VM_ERROR)
		*out = vm->err;
	return r;
}

enum vm_result vm_eval(struct vm *vm, uint32_t entry, struct val *out) { return vm_eval_of(vm, -1, entry, out); }
