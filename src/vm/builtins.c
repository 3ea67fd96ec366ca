/* builtins.c: the built-in functions, one table row each.
 *
 * A row gives the name, the argument counts, the static result type, each
 * argument's expected kind for the compiler's checks (one letter per
 * argument, the last letter repeats: a any, n number, s string, t time,
 * d duration, l list, z a time zone, checked when the script writes it
 * out), the implementation and a line of help.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/timeutil.h"
#include "base/tzone.h"
#include "vm.h"

static int is_num(const struct val *v) { return v->kind == V_INT || v->kind == V_FLOAT; }
static double num(const struct val *v) { return v->kind == V_INT ? (double)v->u.i : v->u.f; }

/* Arguments: errors pass through, data strings read as numbers. */
#define PASS_ERRORS(args, n)                                  \
	do {                                                  \
		for (int i_ = 0; i_ < (n); i_++)              \
			if ((args)[i_].kind == V_ERR)         \
				return (args)[i_];            \
	} while (0)

static int number_arg(struct val *v)
{
	if (is_num(v))
		return 1;
	struct val n;
	if (v->kind == V_STR && val_as_number(v, &n)) {
		*v = n;
		return 1;
	}
	return 0;
}

static struct val text_of(struct vm *vm, const struct val *v)
{
	if (v->kind == V_STR)
		return *v;
	buf_clear(&vm->tmp);
	val_render_text(&vm->tmp, v);
	return vm_string(vm, vm->tmp.p, vm->tmp.len);
}

static struct val bi_time(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	int64_t ns;
	const char *why;
	switch (a[0].kind) {
	case V_NULL:
	case V_TIME:
		return a[0];
	case V_STR:
		if (time_parse(a[0].u.s, a[0].len, 1, &ns, &why) == 0)
			return val_time(ns);
		return vm_error(vm, "time(\"%.*s\"): %s", (int)(a[0].len > 60 ? 60 : a[0].len), a[0].u.s, why);
	case V_INT:
	case V_FLOAT:
		if (time_from_epoch(num(&a[0]), &ns, &why) == 0)
			return val_time(ns);
		return vm_error(vm, "time(%g): %s", num(&a[0]), why);
	default:
		return vm_error(vm, "time() cannot read %s", val_kind_name(&a[0]));
	}
}

static struct val bi_duration(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	int64_t ns;
	const char *why;
	if (a[0].kind == V_NULL || a[0].kind == V_DUR)
		return a[0];
	if (a[0].kind == V_STR && dur_parse(a[0].u.s, a[0].len, &ns, &why) == 0)
		return val_dur(ns);
	if (number_arg(&a[0])) {
		double s = num(&a[0]) * 1e9;
		if (fabs(s) < 9.2e18)
			return val_dur((int64_t)llround(s));
		return vm_error(vm, "duration(%g): out of range", num(&a[0]));
	}
	return vm_error(vm, "duration() cannot read %s", val_kind_name(&a[0]));
}

static struct val bi_int(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return a[0];
	if (a[0].kind == V_BOOL)
		return val_int(a[0].u.i);
	if (number_arg(&a[0])) {
		if (a[0].kind == V_INT)
			return a[0];
		double d = trunc(a[0].u.f);
		if (isfinite(d) && fabs(d) < 9.2e18)
			return val_int((int64_t)d);
		return vm_error(vm, "int(%g): out of range", a[0].u.f);
	}
	return vm_error(vm, "int() cannot read %s", val_kind_name(&a[0]));
}

static struct val bi_float(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return a[0];
	if (number_arg(&a[0]))
		return val_float(num(&a[0]));
	return vm_error(vm, "float() cannot read %s", val_kind_name(&a[0]));
}

static struct val bi_string(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	struct val v = text_of(vm, &a[0]);
	v.flags = 0;
	return v;
}

static struct val dur_in(struct vm *vm, struct val *a, double unit, const char *name)
{
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return a[0];
	if (a[0].kind != V_DUR)
		return vm_error(vm, "%s() takes a duration, not %s", name, val_kind_name(&a[0]));
	return val_float((double)a[0].u.i / unit);
}

static struct val bi_seconds(struct vm *vm, struct val *a, int n) { (void)n; return dur_in(vm, a, 1e9, "seconds"); }
static struct val bi_minutes(struct vm *vm, struct val *a, int n) { (void)n; return dur_in(vm, a, 60e9, "minutes"); }
static struct val bi_hours(struct vm *vm, struct val *a, int n) { (void)n; return dur_in(vm, a, 3600e9, "hours"); }
static struct val bi_days(struct vm *vm, struct val *a, int n) { (void)n; return dur_in(vm, a, 86400e9, "days"); }

/* The offset of a zone argument at instant t: "UTC", a fixed offset
 * ("+02:00") or an IANA name ("Europe/Warsaw"), through the VM's cache. */
static int zone_offset(struct vm *vm, const struct val *z, int64_t t, int64_t *off, const char **why)
{
	*off = 0;
	if (!z || z->kind == V_NULL)
		return 0;
	if (z->kind != V_STR) {
		*why = "a time zone is a string such as \"Europe/Warsaw\" or \"+02:00\"";
		return -1;
	}
	if (!vm->tz)
		vm->tz = tz_cache_new();
	return tz_offset(vm->tz, z->u.s, z->len, t, off, why);
}

static struct val civil_of(struct vm *vm, struct val *a, int n, struct civil *c, const char *name)
{
	int64_t off;
	const char *why;
	if (a[0].kind != V_TIME)
		return vm_error(vm, "%s() takes a time, not %s", name, val_kind_name(&a[0]));
	if (zone_offset(vm, n > 1 ? &a[1] : NULL, a[0].u.i, &off, &why) < 0)
		return vm_error(vm, "%s(): %s", name, why);
	time_to_civil(a[0].u.i + off, c);
	return val_bool(1);
}

static struct val bi_date(struct vm *vm, struct val *a, int n)
{
	PASS_ERRORS(a, n);
	if (a[0].kind == V_NULL)
		return a[0];
	struct civil c;
	struct val ok = civil_of(vm, a, n, &c, "date");
	if (ok.kind == V_ERR)
		return ok;
	char out[32];
	int len = snprintf(out, sizeof out, "%04d-%02d-%02d", c.year, c.month, c.day);
	return vm_string(vm, out, (size_t)len);
}

static struct val bi_hour(struct vm *vm, struct val *a, int n)
{
	PASS_ERRORS(a, n);
	if (a[0].kind == V_NULL)
		return a[0];
	struct civil c;
	struct val ok = civil_of(vm, a, n, &c, "hour");
	return ok.kind == V_ERR ? ok : val_int(c.hour);
}

static struct val bi_weekday(struct vm *vm, struct val *a, int n)
{
	PASS_ERRORS(a, n);
	if (a[0].kind == V_NULL)
		return a[0];
	struct civil c;
	struct val ok = civil_of(vm, a, n, &c, "weekday");
	return ok.kind == V_ERR ? ok : val_int(c.weekday);
}

static struct val map_ascii(struct vm *vm, struct val *a, int upper)
{
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return a[0];
	struct val s = text_of(vm, &a[0]);
	char *out = arena_alloc(vm->scratch, s.len + 1);
	for (uint32_t i = 0; i < s.len; i++) {
		char ch = s.u.s[i];
		if (upper && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		else if (!upper && ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + 32);
		out[i] = ch;
	}
	return val_str(out, s.len);
}

static struct val bi_lower(struct vm *vm, struct val *a, int n) { (void)n; return map_ascii(vm, a, 0); }
static struct val bi_upper(struct vm *vm, struct val *a, int n) { (void)n; return map_ascii(vm, a, 1); }

static struct val bi_trim(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return a[0];
	struct val s = text_of(vm, &a[0]);
	const char *p = s.u.s, *e = s.u.s + s.len;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	struct val v = val_str(p, (size_t)(e - p));
	v.flags = s.flags;
	return v;
}

static struct val bi_len(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return val_int(0);
	if (a[0].kind == V_LIST)
		return val_int(a[0].len);
	struct val s = text_of(vm, &a[0]);
	return val_int((int64_t)utf8_chars(s.u.s, s.len)); /* as it prints */
}

static struct val str_test(struct vm *vm, struct val *a, int how)
{
	PASS_ERRORS(a, 2);
	if (a[0].kind == V_NULL || a[1].kind == V_NULL)
		return val_bool(0);
	struct val s = text_of(vm, &a[0]);
	struct val t = text_of(vm, &a[1]);
	if (t.len > s.len)
		return val_bool(0);
	switch (how) {
	case 0:
		return val_bool(t.len == 0 || memmem(s.u.s, s.len, t.u.s, t.len) != NULL);
	case 1:
		return val_bool(memcmp(s.u.s, t.u.s, t.len) == 0);
	default:
		return val_bool(memcmp(s.u.s + s.len - t.len, t.u.s, t.len) == 0);
	}
}

static struct val bi_contains(struct vm *vm, struct val *a, int n) { (void)n; return str_test(vm, a, 0); }
static struct val bi_starts_with(struct vm *vm, struct val *a, int n) { (void)n; return str_test(vm, a, 1); }
static struct val bi_ends_with(struct vm *vm, struct val *a, int n) { (void)n; return str_test(vm, a, 2); }

static struct val rounding(struct vm *vm, struct val *a, double (*f)(double), const char *name)
{
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return a[0];
	if (!number_arg(&a[0]))
		return vm_error(vm, "%s() takes a number, not %s", name, val_kind_name(&a[0]));
	if (a[0].kind == V_INT)
		return a[0];
	double d = f(a[0].u.f);
	if (isfinite(d) && fabs(d) < 9.2e18)
		return val_int((int64_t)d);
	return val_float(d);
}

static struct val bi_round(struct vm *vm, struct val *a, int n) { (void)n; return rounding(vm, a, round, "round"); }
static struct val bi_floor(struct vm *vm, struct val *a, int n) { (void)n; return rounding(vm, a, floor, "floor"); }
static struct val bi_ceil(struct vm *vm, struct val *a, int n) { (void)n; return rounding(vm, a, ceil, "ceil"); }

static struct val bi_abs(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	if (a[0].kind == V_NULL)
		return a[0];
	if (a[0].kind == V_DUR)
		return val_dur(a[0].u.i < 0 ? -a[0].u.i : a[0].u.i);
	if (!number_arg(&a[0]))
		return vm_error(vm, "abs() takes a number or a duration, not %s", val_kind_name(&a[0]));
	if (a[0].kind == V_INT)
		return a[0].u.i == INT64_MIN ? val_float(-(double)INT64_MIN) : val_int(a[0].u.i < 0 ? -a[0].u.i : a[0].u.i);
	return val_float(fabs(a[0].u.f));
}

/* min and max over numbers, durations or times; nulls are skipped. */
static struct val extreme(struct vm *vm, struct val *a, int n, int want_max)
{
	PASS_ERRORS(a, n);
	struct val best = val_null();
	for (int i = 0; i < n; i++) {
		struct val v = a[i];
		if (v.kind == V_NULL)
			continue;
		if (v.kind == V_STR)
			number_arg(&v);
		if (best.kind == V_NULL) {
			best = v;
			continue;
		}
		int better;
		if (is_num(&v) && is_num(&best))
			better = want_max ? num(&v) > num(&best) : num(&v) < num(&best);
		else if (v.kind == best.kind && (v.kind == V_DUR || v.kind == V_TIME))
			better = want_max ? v.u.i > best.u.i : v.u.i < best.u.i;
		else
			return vm_error(vm, "%s() cannot compare %s with %s", want_max ? "max" : "min",
					val_kind_name(&best), val_kind_name(&v));
		if (better)
			best = v;
	}
	return best;
}

static struct val bi_min(struct vm *vm, struct val *a, int n) { return extreme(vm, a, n, 0); }
static struct val bi_max(struct vm *vm, struct val *a, int n) { return extreme(vm, a, n, 1); }

static struct val bi_hash(struct vm *vm, struct val *a, int n)
{
	(void)n;
	PASS_ERRORS(a, 1);
	struct val s = text_of(vm, &a[0]);
	/* FNV-1a: stable across runs and machines, so holdouts are reproducible. */
	uint64_t h = 1469598103934665603ULL;
	for (uint32_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.u.s[i];
		h *= 1099511628211ULL;
	}
	return val_int((int64_t)(h >> 1));
}

static struct val bi_coalesce(struct vm *vm, struct val *a, int n)
{
	(void)vm;
	for (int i = 0; i < n; i++)
		if (a[i].kind != V_NULL)
			return a[i];
	return val_null();
}

/* format(number, decimals) or format(time, "%Y-%m-%d %H:%M" [, zone]). */
static struct val bi_format(struct vm *vm, struct val *a, int n)
{
	PASS_ERRORS(a, n);
	if (a[0].kind == V_NULL)
		return a[0];
	buf_clear(&vm->tmp);
	if (a[0].kind == V_TIME) {
		if (a[1].kind != V_STR)
			return vm_error(vm, "format(time, pattern): the pattern is a string such as \"%%Y-%%m-%%d\"");
		int64_t off;
		const char *why;
		if (zone_offset(vm, n > 2 ? &a[2] : NULL, a[0].u.i, &off, &why) < 0)
			return vm_error(vm, "format(): %s", why);
		struct civil c;
		time_to_civil(a[0].u.i + off, &c);
		static const char *const wd[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
		static const char *const mon[] = {"", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
						  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
		for (uint32_t i = 0; i < a[1].len; i++) {
			char ch = a[1].u.s[i];
			if (ch != '%' || i + 1 == a[1].len) {
				buf_addc(&vm->tmp, ch);
				continue;
			}
			switch (a[1].u.s[++i]) {
			case 'Y': buf_printf(&vm->tmp, "%04d", c.year); break;
			case 'm': buf_printf(&vm->tmp, "%02d", c.month); break;
			case 'd': buf_printf(&vm->tmp, "%02d", c.day); break;
			case 'H': buf_printf(&vm->tmp, "%02d", c.hour); break;
			case 'M': buf_printf(&vm->tmp, "%02d", c.minute); break;
			case 'S': buf_printf(&vm->tmp, "%02d", c.second); break;
			case 'j': buf_printf(&vm->tmp, "%03d", c.yday); break;
			case 'a': buf_adds(&vm->tmp, wd[c.weekday]); break;
			case 'b': buf_adds(&vm->tmp, mon[c.month]); break;
			case '%': buf_addc(&vm->tmp, '%'); break;
			default:
				return vm_error(vm, "format(): unknown pattern %%%c (known: %%Y %%m %%d %%H %%M %%S %%j %%a %%b %%%%)",
						a[1].u.s[i]);
			}
		}
		return vm_string(vm, vm->tmp.p ? vm->tmp.p : "", vm->tmp.len);
	}
	if (number_arg(&a[0])) {
		struct val d = a[1];
		if (!number_arg(&d) || d.kind != V_INT || d.u.i < 0 || d.u.i > 17)
			return vm_error(vm, "format(number, decimals): decimals is a whole number from 0 to 17");
		buf_printf(&vm->tmp, "%.*f", (int)d.u.i, num(&a[0]));
		return vm_string(vm, vm->tmp.p, vm->tmp.len);
	}
	return vm_error(vm, "format() takes a number or a time, not %s", val_kind_name(&a[0]));
}

const struct builtin builtins[] = {
	{"time", 1, 1, TY_TIME, "a", bi_time, "time(x): text (RFC 3339) or epoch seconds/ms as a time"},
	{"duration", 1, 1, TY_DUR, "a", bi_duration, "duration(x): text such as \"5m\", or seconds, as a duration"},
	{"int", 1, 1, TY_INT, "a", bi_int, "int(x): a whole number (truncates)"},
	{"float", 1, 1, TY_FLOAT, "a", bi_float, "float(x): a number"},
	{"string", 1, 1, TY_STR, "a", bi_string, "string(x): x as text"},
	{"seconds", 1, 1, TY_FLOAT, "d", bi_seconds, "seconds(d): a duration in seconds"},
	{"minutes", 1, 1, TY_FLOAT, "d", bi_minutes, "minutes(d): a duration in minutes (13m gives 13)"},
	{"hours", 1, 1, TY_FLOAT, "d", bi_hours, "hours(d): a duration in hours"},
	{"days", 1, 1, TY_FLOAT, "d", bi_days, "days(d): a duration in days"},
	{"date", 1, 2, TY_STR, "tz", bi_date, "date(t [, zone]): \"YYYY-MM-DD\""},
	{"hour", 1, 2, TY_INT, "tz", bi_hour, "hour(t [, zone]): 0-23"},
	{"weekday", 1, 2, TY_INT, "tz", bi_weekday, "weekday(t [, zone]): 1 (Monday) to 7 (Sunday)"},
	{"lower", 1, 1, TY_STR, "a", bi_lower, "lower(s): ASCII letters in lower case"},
	{"upper", 1, 1, TY_STR, "a", bi_upper, "upper(s): ASCII letters in upper case"},
	{"trim", 1, 1, TY_STR, "a", bi_trim, "trim(s): without surrounding blanks"},
	{"len", 1, 1, TY_INT, "a", bi_len, "len(x): characters of a string, items of a list"},
	{"contains", 2, 2, TY_BOOL, "aa", bi_contains, "contains(s, part)"},
	{"starts_with", 2, 2, TY_BOOL, "aa", bi_starts_with, "starts_with(s, prefix)"},
	{"ends_with", 2, 2, TY_BOOL, "aa", bi_ends_with, "ends_with(s, suffix)"},
	{"round", 1, 1, TY_ANY, "n", bi_round, "round(x): nearest whole number"},
	{"floor", 1, 1, TY_ANY, "n", bi_floor, "floor(x)"},
	{"ceil", 1, 1, TY_ANY, "n", bi_ceil, "ceil(x)"},
	{"abs", 1, 1, TY_ANY, "a", bi_abs, "abs(x): of a number or a duration"},
	{"min", 1, -1, TY_ANY, "a", bi_min, "min(a, b, ...): of numbers, durations or times; nulls skipped"},
	{"max", 1, -1, TY_ANY, "a", bi_max, "max(a, b, ...)"},
	{"hash", 1, 1, TY_INT, "a", bi_hash, "hash(x): a stable non-negative 63-bit hash of x's text"},
	{"coalesce", 1, -1, TY_ANY, "a", bi_coalesce, "coalesce(a, b, ...): the first that is not null"},
	{"format", 2, 3, TY_STR, "aaz", bi_format, "format(n, decimals) or format(t, \"%Y-%m-%d\" [, zone])"},
};
const int nbuiltins = sizeof builtins / sizeof builtins[0];

