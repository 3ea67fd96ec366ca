/* compile.c: from the AST to bytecode, checking names and types.
 *
 * One pass per rule: each clause is checked and its code emitted at once,
 * with the static type of every expression (TY_ANY where only the data
 * will tell).  Errors are reported and compilation goes on, so that one
 * run lists every problem.  Constants are evaluated here by the VM itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "comp.h"
#include "base/json.h"
#include "front/stdlib_scripts.h"
#include "base/tzone.h"
#include "vm/vm.h"

void comp_error(struct comp *c, struct loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void comp_error(struct comp *c, struct loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (c->in_test && !c->p->testing) {
		/* run and check ignore test blocks: a stale one is a warning
		 * there, and an error only where tests run. */
		struct buf msg = {0};
		buf_vprintf(&msg, fmt, ap);
		diag_report(c->d, DIAG_WARNING, loc, "%s (in test \"%s\": run and check ignore it; cxr test fails on it)", msg.p,
			    c->in_test);
		buf_free(&msg);
		c->test_broken = 1;
	} else {
		diag_vreport(c->d, DIAG_ERROR, loc, fmt, ap);
	}
	va_end(ap);
}

void comp_warning(struct comp *c, struct loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void comp_warning(struct comp *c, struct loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vreport(c->d, DIAG_WARNING, loc, fmt, ap);
	va_end(ap);
}

int comp_name_is(const struct ast_name *n, const char *s)
{
	return n->len == strlen(s) && memcmp(n->s, s, n->len) == 0;
}

int comp_names_equal(const char *a, size_t na, const char *b, size_t nb)
{
	return na == nb && memcmp(a, b, na) == 0;
}

int comp_is_stdlib_file(struct comp *c, int file)
{
	for (int i = 0; i < c->nstdlib_files; i++)
		if (c->stdlib_files[i] == file)
			return 1;
	return 0;
}

/* ---- code emission ---- */

uint32_t comp_op(struct comp *c, enum opcode op, uint32_t a, struct loc loc)
{
	struct prog *p = c->p;
	if (a > OPERAND_MAX) {
		comp_error(c, loc, "script too large: operand %u out of range", a);
		a = 0;
	}
	if (p->ncode >= CODE_MAX || c->too_large) {
		if (!c->too_large)
			comp_error(c, loc, "the script is too large: more than %u instructions (a function is expanded "
					   "wherever it is called, and so are the functions it calls)", CODE_MAX);
		c->too_large = 1;
		return p->ncode ? p->ncode - 1 : 0;
	}
	if (p->ncode == p->capcode) {
		p->capcode = p->capcode ? p->capcode * 2 : 256;
		p->code = mem_realloc(p->code, sizeof *p->code * p->capcode);
		p->lines = mem_realloc(p->lines, sizeof *p->lines * p->capcode);
	}
	p->code[p->ncode] = INSN(op, a);
	p->lines[p->ncode] = loc;
	return p->ncode++;
}

void comp_patch(struct comp *c, uint32_t at)
{
	c->p->code[at] = INSN(INSN_OP(c->p->code[at]), c->p->ncode);
}

/* A scalar constant as the bytes of a key: kind, flags, payload. */
struct konst_key {
	uint8_t kind, flags;
	uint8_t payload[8];
};

/* The index of v among the program's constants, added if new: one copy of
 * each string and scalar (lists are not shared). */
uint32_t comp_konst(struct comp *c, struct val v)
{
	struct prog *p = c->p;
	struct konst_key key = {v.kind, v.flags, {0}};
	struct nametab *table = v.kind == V_STR ? &c->konst_strings : v.kind == V_LIST ? NULL : &c->konst_scalars;
	if (v.kind != V_STR)
		memcpy(key.payload, &v.u.i, sizeof key.payload);
	if (table) {
		int i = v.kind == V_STR ? nametab_get(table, v.u.s, v.len) : nametab_get(table, (const char *)&key, sizeof key);
		if (i >= 0 && p->consts[i].kind == v.kind && p->consts[i].flags == v.flags)
			return (uint32_t)i;
	}
	p->consts = mem_grow(p->consts, (size_t)p->nconsts, sizeof *p->consts);
	if (v.kind == V_STR)
		v.u.s = arena_strndup(&p->arena, v.u.s, v.len);
	p->consts[p->nconsts] = v;
	if (v.kind == V_STR)
		nametab_put(table, v.u.s, v.len, p->nconsts);
	else if (table)
		nametab_put(table, memcpy(arena_alloc(&p->arena, sizeof key), &key, sizeof key), sizeof key, p->nconsts);
	return (uint32_t)p->nconsts++;
}

/* Copy a value (strings, lists) into the prog's arena. */
static struct val keep_value(struct comp *c, struct val v)
{
	if (v.kind == V_STR || v.kind == V_ERR) {
		v.u.s = arena_strndup(&c->p->arena, v.u.s, v.kind == V_STR ? v.len : strlen(v.u.s));
	} else if (v.kind == V_LIST) {
		struct val *items = arena_alloc(&c->p->arena, sizeof *items * (v.len ? v.len : 1));
		for (uint32_t i = 0; i < v.len; i++)
			items[i] = keep_value(c, v.u.items[i]);
		v.u.items = items;
	}
	return v;
}

/* ---- names: slots, types, variables ---- */

/* A field path as one key: each name with its length before it, so that
 * a name holding a dot ("a.b" quoted) is not two names. */
static void slot_key(struct buf *key, const struct ast_name *segs, int nseg)
{
	buf_clear(key);
	for (int k = 0; k < nseg; k++) {
		buf_add(key, &segs[k].len, sizeof segs[k].len);
		buf_add(key, segs[k].s, segs[k].len);
	}
}

int comp_slot(struct comp *c, const struct ast_name *segs, int nseg)
{
	struct prog *p = c->p;
	slot_key(&c->key, segs, nseg);
	int found = nametab_get(&c->slot_names, c->key.p, c->key.len);
	if (found >= 0)
		return found;
	nametab_put(&c->slot_names, arena_strndup(&p->arena, c->key.p, c->key.len), c->key.len, p->nslots);
	p->slots = mem_grow(p->slots, (size_t)p->nslots, sizeof *p->slots);
	struct slot *s = &p->slots[p->nslots];
	s->nseg = nseg;
	s->segs = arena_alloc(&p->arena, sizeof *s->segs * (size_t)nseg);
	s->lens = arena_alloc(&p->arena, sizeof *s->lens * (size_t)nseg);
	struct buf path = {0};
	for (int k = 0; k < nseg; k++) {
		s->segs[k] = arena_strndup(&p->arena, segs[k].s, segs[k].len);
		s->lens[k] = segs[k].len;
		if (k)
			buf_addc(&path, '.');
		buf_add(&path, segs[k].s, segs[k].len);
	}
	s->path = arena_strndup(&p->arena, path.p, path.len);
	buf_free(&path);
	return p->nslots++;
}

static uint32_t type_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* After compilation, event types are found through an open-addressing
 * table: every input event looks its type up once. */
static void type_index_build(struct prog *p)
{
	uint32_t size = 16;
	while (size < (uint32_t)p->ntypes * 2)
		size *= 2;
	p->type_mask = size - 1;
	p->type_index = mem_alloc(sizeof *p->type_index * size);
	for (int i = 0; i < p->ntypes; i++) {
		uint32_t slot = type_hash(p->types[i].name, p->types[i].len) & p->type_mask;
		while (p->type_index[slot])
			slot = (slot + 1) & p->type_mask;
		p->type_index[slot] = (uint32_t)i + 1;
	}
}

static void mark_types(uint8_t *m, const int *types, int n)
{
	for (int i = 0; i < n; i++)
		m[types[i]] = 1;
}

/* Which event types anything reads: the others are skipped on input. */
static void type_matters_build(struct prog *p)
{
	p->type_matters = mem_alloc((size_t)p->ntypes + 1);
	p->any_matters = p->nany_rules > 0 || p->any_history >= 0; /* last(any) keeps every event */
	for (int t = 0; t < p->ntypes; t++)
		p->type_matters[t] = p->types[t].nrules || p->types[t].nstage_refs || p->types[t].history >= 0;
	for (int s = 0; s < p->nslas; s++) {
		mark_types(p->type_matters, p->slas[s].from.types, p->slas[s].from.ntypes);
		mark_types(p->type_matters, p->slas[s].to.types, p->slas[s].to.ntypes);
	}
	for (int g = 0; g < p->ngoals; g++)
		mark_types(p->type_matters, p->goals[g].types, p->goals[g].ntypes);
}

int prog_type_find(const struct prog *p, const char *s, size_t n)
{
	if (p->type_index) {
		uint32_t slot = type_hash(s, n) & p->type_mask;
		for (uint32_t i; (i = p->type_index[slot]) != 0; slot = (slot + 1) & p->type_mask)
			if (comp_names_equal(p->types[i - 1].name, p->types[i - 1].len, s, n))
				return (int)i - 1;
		return -1;
	}
	for (int i = 0; i < p->ntypes; i++)
		if (comp_names_equal(p->types[i].name, p->types[i].len, s, n))
			return i;
	return -1;
}

int comp_type_find(struct comp *c, const char *s, size_t n)
{
	return nametab_get(&c->type_names, s, n);
}

int comp_type_intern(struct comp *c, const char *s, size_t n)
{
	struct prog *p = c->p;
	int i = comp_type_find(c, s, n);
	if (i >= 0)
		return i;
	p->types = mem_grow(p->types, (size_t)p->ntypes, sizeof *p->types);
	struct evtype *t = &p->types[p->ntypes];
	memset(t, 0, sizeof *t);
	t->history = -1;
	t->name = arena_strndup(&p->arena, s, n);
	t->len = (uint32_t)n;
	nametab_put(&c->type_names, t->name, n, p->ntypes);
	return p->ntypes++;
}

int comp_type_named(struct comp *c, const char *s, size_t n, struct loc loc, enum type_use_kind kind)
{
	int t = comp_type_intern(c, s, n);
	struct prog *p = c->p;
	p->type_uses = mem_grow(p->type_uses, (size_t)p->ntype_uses, sizeof *p->type_uses);
	p->type_uses[p->ntype_uses++] = (struct type_use){t, loc, (uint8_t)kind};
	return t;
}

void comp_field_use(struct comp *c, int type, int slot, struct loc loc)
{
	struct prog *p = c->p;
	p->uses = mem_grow(p->uses, (size_t)p->nuses, sizeof *p->uses);
	p->uses[p->nuses++] = (struct field_use){type, slot, loc};
}

int comp_var(struct comp *c, const char *s, size_t n, struct loc loc, int set)
{
	struct prog *p = c->p;
	int i = nametab_get(&c->var_names, s, n);
	if (i < 0) {
		i = p->nvars;
		p->vars = mem_grow(p->vars, (size_t)p->nvars, sizeof *p->vars);
		c->var_uses = mem_grow(c->var_uses, (size_t)p->nvars, sizeof *c->var_uses);
		memset(&c->var_uses[i], 0, sizeof c->var_uses[i]);
		p->vars[p->nvars++] = arena_strndup(&p->arena, s, n);
		nametab_put(&c->var_names, p->vars[i], n, i);
	}
	struct var_use *u = &c->var_uses[i];
	if (set) {
		u->is_set = 1;
	} else if (!u->is_read) {
		u->is_read = 1;
		u->read = loc;
	}
	return i;
}

/* A variable that rules read and none sets is always null: most likely a
 * typo of one that is set. */
static void warn_vars_never_set(struct comp *c)
{
	const struct prog *p = c->p;
	for (int i = 0; i < p->nvars; i++) {
		const struct var_use *u = &c->var_uses[i];
		if (!u->is_read || u->is_set)
			continue;
		struct suggest sg;
		suggest_init(&sg, p->vars[i], strlen(p->vars[i]));
		for (int k = 0; k < p->nvars; k++)
			if (c->var_uses[k].is_set)
				suggest_try(&sg, p->vars[k], strlen(p->vars[k]));
		buf_clear(&c->tmp);
		if (sg.best)
			buf_printf(&c->tmp, "; did you mean customer.%.*s?", (int)sg.bestlen, sg.best);
		comp_warning(c, u->read, "customer.%s is read but no rule sets it: it is always null%s", p->vars[i],
			     c->tmp.p ? c->tmp.p : "");
	}
}

static int column_for(struct comp *c, const char *s, size_t n)
{
	struct prog *p = c->p;
	int i = nametab_get(&c->column_names, s, n);
	if (i >= 0)
		return i;
	p->columns = mem_grow(p->columns, (size_t)p->ncolumns, sizeof *p->columns);
	p->columns[p->ncolumns] = arena_strndup(&p->arena, s, n);
	nametab_put(&c->column_names, p->columns[p->ncolumns], n, p->ncolumns);
	return p->ncolumns++;
}

static const struct {
	const char *name;
	enum ty type;
} schema_types[] = {
	{"string", TY_STR}, {"int", TY_INT},       {"float", TY_FLOAT},   {"bool", TY_BOOL},
	{"time", TY_TIME},  {"duration", TY_DUR},  {"number", TY_FLOAT},
};

/* ---- top-level forms ---- */

static enum ty ty_of_value(const struct val *v)
{
	switch (v->kind) {
	case V_NULL: return TY_NULL;
	case V_BOOL: return TY_BOOL;
	case V_INT: return TY_INT;
	case V_FLOAT: return TY_FLOAT;
	case V_STR: return TY_STR;
	case V_TIME: return TY_TIME;
	case V_DUR: return TY_DUR;
	case V_LIST: return TY_LIST;
	default: return TY_ANY;
	}
}

static int verify(struct comp *c, uint32_t entry, int nbinds);

/* Evaluate an expression now, with the VM, for a const or a setting. */
int comp_eval_now(struct comp *c, struct ast *e, struct val *out, enum ty *type)
{
	int errors = c->d->errors;
	uint32_t entry = c->p->ncode;
	int saved_locals = c->nlocals, saved_in_const = c->in_const;
	c->in_const = 1;
	enum ty t = comp_expr(c, e);
	c->in_const = saved_in_const;
	comp_op(c, OPC_HALT, 0, e->loc);
	int ok = c->d->errors == errors;
	if (ok) {
		/* The verifier sizes the stack: a long list literal is deep. */
		c->p->max_locals = c->p->max_locals < c->nlocals + 1 ? c->nlocals + 1 : c->p->max_locals;
		ok = verify(c, entry, 0) == 0;
	}
	if (ok) {
		struct arena scratch = {0};
		struct vm *vm = vm_new(c->p, NULL, NULL, &scratch);
		struct val v;
		if (vm_eval(vm, entry, &v) != VM_FIRED || v.kind == V_ERR) {
			comp_error(c, e->loc, "%s", v.kind == V_ERR ? v.u.s : "cannot evaluate this constant");
			ok = 0;
		} else {
			*out = keep_value(c, v);
			*type = t == TY_ANY ? ty_of_value(out) : t;
		}
		vm_free(vm);
		arena_free(&scratch);
	}
	c->p->ncode = entry; /* the code served once */
	c->nlocals = saved_locals;
	return ok ? 0 : -1;
}

void comp_const(struct comp *c, struct ast_const *k)
{
	if (k->state)
		return;
	k->state = 1;
	if (nametab_get(&c->const_names, k->name.s, k->name.len) >= 0) {
		comp_error(c, k->name.loc, "constant '%.*s' is defined twice", (int)k->name.len, k->name.s);
		k->state = 2;
		return;
	}
	struct named_const nc = {k->name, val_null(), TY_NULL, 0, comp_is_stdlib_file(c, k->name.loc.file)};
	if (comp_eval_now(c, k->value, &nc.value, &nc.type) < 0)
		nc.type = TY_ANY;
	if (k->state == 2)
		return; /* it was found to be defined in terms of itself */
	k->state = 2;
	comp_const_add(c, nc);
}

/* A field named in the input block: a word, a "quoted name" (taken
 * whole, dots included) or a dotted path into nested objects. */
static int setting_field(struct comp *c, struct ast_setting *st, struct ast_name *segs, int *nseg)
{
	struct ast *v = st->value;
	int n = 0;
	while (v->kind == A_FIELD && n < 31) {
		segs[n].s = v->s;
		segs[n].len = v->len;
		segs[n].loc = v->loc;
		n++;
		v = v->a;
	}
	if (v->kind == A_NAME || v->kind == A_STR || v->kind == A_CUSTOMER) {
		segs[n].s = v->kind == A_CUSTOMER ? "customer" : v->s;
		segs[n].len = v->kind == A_CUSTOMER ? 8 : v->len;
		segs[n].loc = v->loc;
		n++;
		for (int i = 0; i < n / 2; i++) {
			struct ast_name t = segs[i];
			segs[i] = segs[n - 1 - i];
			segs[n - 1 - i] = t;
		}
		*nseg = n;
		return 0;
	}
	comp_error(c, st->value->loc, "'%.*s' takes a field name: a word, a \"quoted name\" or a path such as user.id",
	      (int)st->name.len, st->name.s);
	return -1;
}

/* One word of the input block: late = reject, format = csv. */
static int setting_word(struct ast_setting *st, const char *word)
{
	struct ast *v = st->value;
	return (v->kind == A_NAME || v->kind == A_STR) && v->len == strlen(word) && memcmp(v->s, word, v->len) == 0;
}

static void field_slot(struct comp *c, int slot, const struct ast_name *segs, int nseg)
{
	struct slot *s = &c->p->slots[slot];
	struct buf path = {0};
	s->nseg = nseg;
	s->segs = arena_alloc(&c->p->arena, sizeof *s->segs * (size_t)nseg);
	s->lens = arena_alloc(&c->p->arena, sizeof *s->lens * (size_t)nseg);
	for (int k = 0; k < nseg; k++) {
		s->segs[k] = arena_strndup(&c->p->arena, segs[k].s, segs[k].len);
		s->lens[k] = segs[k].len;
		if (k)
			buf_addc(&path, '.');
		buf_add(&path, segs[k].s, segs[k].len);
	}
	s->path = arena_strndup(&c->p->arena, path.p, path.len);
	buf_free(&path);
	slot_key(&c->key, segs, nseg);
	if (nametab_get(&c->slot_names, c->key.p, c->key.len) < 0)
		nametab_put(&c->slot_names, arena_strndup(&c->p->arena, c->key.p, c->key.len), c->key.len, slot);
}

static void comp_settings(struct comp *c)
{
	static const char *const known[] = {"key", "time", "type", "lateness", "late", "format", "delimiter",
					    "max_field_lines"};
	static const char *const field_default[] = {"customer", "ts", "type"};
	struct ast_name fields[3][32];
	int nfields[3] = {1, 1, 1};
	for (int i = 0; i < 3; i++) {
		fields[i][0].s = field_default[i];
		fields[i][0].len = (uint32_t)strlen(field_default[i]);
		c->p->input_loc[i] = (struct loc){.file = c->main_file}; /* line 0: the default, no token */
	}
	for (struct ast_setting *s = c->script.settings; s; s = s->next) {
		int which = comp_name_is(&s->name, "key") ? SLOT_KEY : comp_name_is(&s->name, "time") ? SLOT_TIME
			    : comp_name_is(&s->name, "type") ? SLOT_TYPE : -1;
		if (which >= 0) {
			int n;
			if (setting_field(c, s, fields[which], &n) == 0) {
				nfields[which] = n;
				c->p->input_loc[which] = s->value->loc;
			}
		} else if (comp_name_is(&s->name, "lateness")) {
			if (s->value->kind == A_DUR && s->value->v.i >= 0)
				c->p->lateness = s->value->v.i;
			else
				comp_error(c, s->value->loc, "lateness takes a duration such as 2m");
		} else if (comp_name_is(&s->name, "late")) {
			if (setting_word(s, "reject"))
				c->p->late = LATE_REJECT;
			else if (setting_word(s, "process"))
				c->p->late = LATE_PROCESS;
			else
				comp_error(c, s->value->loc, "late takes reject or process");
		} else if (comp_name_is(&s->name, "format")) {
			if (setting_word(s, "csv"))
				c->p->format = FMT_CSV;
			else if (setting_word(s, "jsonl") || setting_word(s, "json"))
				c->p->format = FMT_JSONL;
			else
				comp_error(c, s->value->loc, "format takes jsonl or csv");
		} else if (comp_name_is(&s->name, "max_field_lines")) {
			if (s->value->kind == A_INT && s->value->v.i >= 1 && s->value->v.i <= 10000000)
				c->p->max_field_lines = (uint32_t)s->value->v.i;
			else
				comp_error(c, s->value->loc, "max_field_lines takes the lines a quoted CSV cell may span, "
							     "from 1 to 10000000");
		} else if (comp_name_is(&s->name, "delimiter")) {
			if (s->value->kind == A_STR && s->value->len == 1 && !strchr("\"\r\n", s->value->s[0]))
				c->p->delim = s->value->s[0];
			else
				comp_error(c, s->value->loc, "delimiter takes one character in quotes, such as \";\"");
		} else {
			struct suggest sg;
			suggest_init(&sg, s->name.s, s->name.len);
			for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
				suggest_try(&sg, known[i], strlen(known[i]));
			comp_error(c, s->name.loc, "unknown input setting '%.*s'%s", (int)s->name.len, s->name.s,
			      suggest_hint(&sg, &c->tmp));
		}
	}
	for (int i = 0; i < 3; i++)
		field_slot(c, i, fields[i], nfields[i]);
}
static void comp_event(struct comp *c, struct ast_event *ev)
{
	int t = comp_type_intern(c, ev->name.s, ev->name.len);
	struct evtype *et = &c->p->types[t];
	if (et->declared) {
		comp_error(c, ev->name.loc, "event %s is declared twice", et->name);
		return;
	}
	et->declared = 1;
	c->ndeclared++;
	et->fields = arena_zalloc(&c->p->arena, sizeof *et->fields * (size_t)(ev->nfields ? ev->nfields : 1));
	for (int i = 0; i < ev->nfields; i++) {
		struct ast_schema_field *f = &ev->fields[i];
		int found = -1;
		for (size_t k = 0; k < sizeof schema_types / sizeof schema_types[0]; k++)
			if (comp_name_is(&f->type, schema_types[k].name))
				found = (int)k;
		if (found < 0) {
			struct suggest sg;
			suggest_init(&sg, f->type.s, f->type.len);
			for (size_t k = 0; k < sizeof schema_types / sizeof schema_types[0]; k++)
				suggest_try(&sg, schema_types[k].name, strlen(schema_types[k].name));
			comp_error(c, f->type.loc, "unknown type '%.*s' (types: string int float bool time duration)%s",
			      (int)f->type.len, f->type.s, suggest_hint(&sg, &c->tmp));
			continue;
		}
		for (int k = 0; k < et->nfields; k++)
			if (comp_names_equal(et->fields[k].name, strlen(et->fields[k].name), f->name.s, f->name.len))
				comp_error(c, f->name.loc, "field '%.*s' is declared twice", (int)f->name.len, f->name.s);
		et->fields[et->nfields].name = arena_strndup(&c->p->arena, f->name.s, f->name.len);
		et->fields[et->nfields].type = schema_types[found].type;
		et->nfields++;
	}
}

static int is_response(int kind)
{
	return kind == C_EMIT || kind == C_SET || kind == C_TAG || kind == C_UNTAG || kind == C_MOVE ||
	       kind == C_OBSERVE || kind == C_SPEND;
}

static void comp_emit(struct comp *c, struct ast_clause *cl)
{
	static const char *const reserved[] = {"action", "rule", "customer", "at"};
	struct prog *p = c->p;
	struct emit_desc d = {0};
	d.action = arena_strndup(&p->arena, cl->name.s, cl->name.len);
	d.nfields = cl->nfields;
	d.names = arena_alloc(&p->arena, sizeof *d.names * (size_t)(cl->nfields + 1));
	d.cols = arena_alloc(&p->arena, sizeof *d.cols * (size_t)(cl->nfields + 1));
	for (int i = 0; i < cl->nfields; i++) {
		struct ast_field_init *f = &cl->fields[i];
		for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
			if (comp_name_is(&f->name, reserved[k]))
				comp_error(c, f->name.loc, "'%s' is set by cxr on every response; choose another field name",
				      reserved[k]);
		for (int k = 0; k < i; k++)
			if (comp_names_equal(d.names[k], strlen(d.names[k]), f->name.s, f->name.len))
				comp_error(c, f->name.loc, "field '%.*s' is given twice", (int)f->name.len, f->name.s);
		d.names[i] = arena_strndup(&p->arena, f->name.s, f->name.len);
		d.cols[i] = column_for(c, f->name.s, f->name.len);
		comp_expr(c, f->value);
	}
	struct buf json = {0};
	buf_adds(&json, "{\"action\":");
	json_write_str(&json, cl->name.s, cl->name.len);
	buf_adds(&json, ",\"rule\":");
	json_write_str(&json, c->rule->name.s, c->rule->name.len);
	buf_adds(&json, ",\"customer\":");
	d.json_head = arena_strndup(&p->arena, json.p, json.len);
	d.json_keys = arena_alloc(&p->arena, sizeof *d.json_keys * (size_t)(cl->nfields + 1));
	for (int i = 0; i < cl->nfields; i++) {
		buf_clear(&json);
		buf_addc(&json, ',');
		json_write_str(&json, cl->fields[i].name.s, cl->fields[i].name.len);
		buf_addc(&json, ':');
		d.json_keys[i] = arena_strndup(&p->arena, json.p, json.len);
	}
	buf_free(&json);
	p->emits = mem_grow(p->emits, (size_t)p->nemits, sizeof *p->emits);
	p->emits[p->nemits] = d;
	comp_op(c, OPC_EMIT, (uint32_t)p->nemits++, cl->loc);
}

/* The event types a step names, interned; a warning for a name close
 * to a declared type but not declared itself. */
static int *step_types(struct comp *c, const struct ast_name *names, int n, enum type_use_kind kind)
{
	struct prog *p = c->p;
	int any_declared = c->ndeclared > 0;
	int *types = arena_alloc(&p->arena, sizeof *types * (size_t)(n + 1));
	for (int i = 0; i < n; i++) {
		int t = comp_type_named(c, names[i].s, names[i].len, names[i].loc, kind);
		p = c->p;
		types[i] = t;
		if (any_declared && !p->types[t].declared) {
			struct suggest sg;
			suggest_init(&sg, names[i].s, names[i].len);
			for (int k = 0; k < p->ntypes; k++)
				if (p->types[k].declared)
					suggest_try(&sg, p->types[k].name, p->types[k].len);
			if (sg.best)
				comp_warning(c, names[i].loc, "event type '%.*s' is not declared%s", (int)names[i].len,
					     names[i].s, suggest_hint(&sg, &c->tmp));
		}
	}
	return types;
}

/* A duration the script writes as a constant: `within 1h`, `within SLA`. */
static int64_t const_duration(struct comp *c, struct ast *e, const char *what)
{
	struct val v;
	enum ty t;
	if (comp_eval_now(c, e, &v, &t) < 0)
		return 0;
	if (v.kind != V_DUR || v.u.i <= 0) {
		comp_error(c, e->loc, "%s takes a positive duration such as 10m", what);
		return 0;
	}
	return v.u.i;
}

/* trigger: on E | on any | on N E within D | on A as a (then [no] B as b [where c] within D)* */
static void comp_trigger(struct comp *c, struct ast_rule *r, int index)
{
	struct prog *p = c->p;
	struct rule_info *ri = &p->rules[index];
	ri->trigger = r->trigger;
	c->nbinds = 0;
	c->event_bind = 0;
	if (r->nsteps > MAX_BINDS) {
		comp_error(c, r->steps[MAX_BINDS].loc, "a pattern has at most %d steps", MAX_BINDS);
		r->nsteps = MAX_BINDS;
	}
	struct pattern_step *steps = arena_zalloc(&p->arena, sizeof *steps * (size_t)(r->nsteps + 1));
	const char **names = arena_zalloc(&p->arena, sizeof *names * (size_t)(r->nsteps + 1));
	for (int i = 0; i < r->nsteps; i++) {
		struct ast_step *st = &r->steps[i];
		struct binding *b = &c->binds[i];
		b->name = st->as;
		b->absent = 0;
		b->ntypes = st->ntypes;
		b->types = st->ntypes ? step_types(c, st->types, st->ntypes, i ? TYPE_USE_STEP : TYPE_USE_ON) : NULL;
		steps[i].types = b->types;
		steps[i].ntypes = b->ntypes;
		steps[i].negated = st->negated;
		steps[i].where = NO_CODE;
		steps[i].where_guard = -1;
		names[i] = st->as.s ? arena_strndup(&p->arena, st->as.s, st->as.len) : NULL;
		for (int k = 0; k < i && st->as.s; k++)
			if (c->binds[k].name.s && comp_names_equal(c->binds[k].name.s, c->binds[k].name.len, st->as.s, st->as.len))
				comp_error(c, st->as.loc, "'%.*s' already names an earlier step's event", (int)st->as.len,
					   st->as.s);
		if (i > 0 || r->trigger == T_REPEAT)
			steps[i].within = const_duration(c, st->within, "within");
		if (st->where) {
			/* A step's condition sees the events before it and its own. */
			c->nbinds = i + 1;
			c->event_bind = i;
			steps[i].where = p->ncode;
			enum ty t = comp_condition(c, st->where);
			if (t != TY_BOOL && t != TY_ANY && t != TY_NULL)
				comp_warning(c, st->where->loc, "this condition is %s, not true or false", ty_name[t]);
			steps[i].where_guard = comp_guard_info(c, index, st->where, c->p->ncode, 0);
			comp_op(c, OPC_HALT, 0, st->where->loc);
			p = c->p;
		}
	}
	for (int i = 0; i < r->nsteps; i++)
		c->binds[i].absent = steps[i].negated;
	ri = &p->rules[index];
	ri->steps = steps;
	ri->nsteps = r->nsteps;
	ri->nbinds = r->nsteps;
	ri->bind_names = names;
	c->nbinds = r->nsteps;
	/* `event` is the event that fires the rule: the last one matched. */
	c->event_bind = r->nsteps - 1;
	while (c->event_bind > 0 && steps[c->event_bind].negated)
		c->event_bind--;
	if (r->trigger == T_REPEAT) {
		struct val v;
		enum ty t;
		if (comp_eval_now(c, r->repeat_n, &v, &t) == 0 && (v.kind != V_INT || v.u.i < 1 || v.u.i > 100000))
			comp_error(c, r->repeat_n->loc, "a repeat counts from 1 to 100000 events");
		else
			ri->repeat_n = v.u.i;
		ri->repeat_within = steps[0].within;
	}
	if (r->trigger == T_ENTER || r->trigger == T_EXIT || r->trigger == T_STUCK || r->trigger == T_BREACH) {
		ri->steps = NULL;
		ri->nsteps = 0;
		comp_stage_trigger(c, r, ri);
	}
}

/* Register the rule with every event type that moves it: the types of
 * its steps, or every type for `on any`. */
static void comp_dispatch(struct comp *c, int index)
{
	struct prog *p = c->p;
	const struct rule_info *ri = &p->rules[index];
	if (ri->trigger >= T_ENTER) {
		comp_decl_dispatch(c, index);
		return;
	}
	if (ri->trigger == T_ANY) {
		p->any_rules = mem_grow(p->any_rules, (size_t)p->nany_rules, sizeof *p->any_rules);
		p->any_rules[p->nany_rules++] = index;
		return;
	}
	for (int s = 0; s < ri->nsteps; s++) {
		for (int i = 0; i < ri->steps[s].ntypes; i++) {
			struct evtype *t = &p->types[ri->steps[s].types[i]];
			/* Rules register in order: a type this rule names twice
			 * (on A then A) has it last already. */
			if (t->nrules && t->rules[t->nrules - 1] == index)
				continue;
			t->rules = mem_grow(t->rules, (size_t)t->nrules, sizeof *t->rules);
			t->rules[t->nrules++] = index;
		}
	}
}

/* rule: name trigger (guard | let)* modifiers-check response+ FIRE */
static void comp_rule(struct comp *c, struct ast_rule *r, int index)
{
	struct prog *p = c->p;
	struct rule_info *ri = &p->rules[index];
	memset(ri, 0, sizeof *ri);
	ri->name = arena_strndup(&p->arena, r->name.s, r->name.len);
	ri->doc = r->doc;
	ri->loc = r->loc;
	ri->priority = r->priority;
	ri->once = r->has_once;
	ri->once_keyed = r->has_once && r->once_key;
	if (ri->once_keyed)
		ri->once_key = r->once_key->loc;
	ri->limit_n = r->has_limit && r->limit_n > 0 ? r->limit_n : 0; /* LIMIT is only emitted with a limit */
	ri->limit_per = r->limit_per;
	ri->holdout = r->holdout;
	ri->salt = r->salt;
	int first = nametab_get(&c->rule_names, ri->name, r->name.len);
	if (first >= 0)
		comp_error(c, r->name.loc, "rule '%s' is defined twice (first at line %d)", ri->name,
			   p->rules[first].loc.first_line);
	else
		nametab_put(&c->rule_names, ri->name, r->name.len, index);

	c->rule = r;
	c->rule_index = index;
	c->nscope = 0;
	c->nlocals = 0;
	c->guards = 0;
	comp_trigger(c, r, index);
	p = c->p;
	ri = &p->rules[index];
	ri->entry = p->ncode;

	int responded = 0;
	for (struct ast_clause *cl = r->clauses; cl; cl = cl->next) {
		if (!is_response(cl->kind) && responded) {
			comp_error(c, cl->loc, "guards and lets come before the responses (emit, set, tag, untag, move, observe)");
			continue;
		}
		if (is_response(cl->kind) && !responded) {
			responded = 1;
			/* The caps are checked once the guards have passed. */
			if (r->has_once) {
				if (r->once_key)
					comp_expr(c, r->once_key);
				else
					comp_op(c, OPC_NUL, 0, r->once_loc);
				comp_op(c, OPC_ONCE, 0, r->once_loc);
			}
			if (r->has_limit)
				comp_op(c, OPC_LIMIT, 0, r->limit_loc);
			/* A budget is spent only by a firing that nothing else stopped. */
			for (struct ast_clause *sp = cl; sp; sp = sp->next) {
				if (sp->kind != C_SPEND)
					continue;
				int b = comp_budget_ref(c, &sp->name);
				if (b < 0)
					continue;
				ri = &c->p->rules[index];
				int *list = arena_alloc(&c->p->arena, sizeof *list * (size_t)(ri->nbudgets + 1));
				if (ri->nbudgets)
					memcpy(list, ri->budgets, sizeof *list * (size_t)ri->nbudgets);
				list[ri->nbudgets++] = b;
				ri->budgets = list;
				comp_op(c, OPC_BUDGET, (uint32_t)b, sp->loc);
			}
		}
		switch (cl->kind) {
		case C_WHEN:
		case C_UNLESS: {
			enum ty t = comp_condition(c, cl->expr);
			uint32_t end = c->p->ncode;
			if (t != TY_BOOL && t != TY_ANY && t != TY_NULL)
				comp_warning(c, cl->expr->loc, "this guard is %s, not a condition: it always holds",
					ty_name[t]);
			if (cl->kind == C_UNLESS)
				comp_op(c, OPC_NOT, 0, cl->loc);
			if (cl->expr->kind == A_BOOL && cl->expr->v.i == (cl->kind == C_UNLESS))
				comp_warning(c, cl->loc, "rule '%s' can never fire: this guard is always false", ri->name);
			int g = comp_guard_info(c, index, cl->expr, end, cl->kind == C_UNLESS);
			comp_op(c, OPC_GUARD, (uint32_t)g, cl->loc);
			break;
		}
		case C_LET: {
			enum ty t = comp_expr(c, cl->expr);
			if (comp_scope_find(c, cl->name.s, cl->name.len))
				comp_error(c, cl->name.loc, "'%.*s' is already defined in this rule", (int)cl->name.len,
				      cl->name.s);
			struct local *l = comp_scope_add(c, cl->name, t, 0);
			comp_op(c, OPC_SETLOCAL, (uint32_t)l->slot, cl->loc);
			break;
		}
		case C_EMIT:
			c->p->rules[index].emits = 1;
			comp_emit(c, cl);
			break;
		case C_SET:
			if (comp_name_is(&cl->name, "tags")) {
				comp_error(c, cl->name.loc, "customer.tags changes with tag and untag");
				break;
			}
			comp_expr(c, cl->expr);
			comp_op(c, OPC_SETVAR, (uint32_t)comp_var(c, cl->name.s, cl->name.len, cl->name.loc, 1), cl->loc);
			break;
		case C_MOVE:
			comp_move(c, cl);
			break;
		case C_OBSERVE:
			comp_observe(c, cl);
			break;
		case C_SPEND:
			break; /* checked with the caps, recorded by FIRE */
		case C_TAG:
		case C_UNTAG: {
			enum ty t = comp_expr(c, cl->expr);
			if (t != TY_ANY && t != TY_STR)
				comp_error(c, cl->expr->loc, "a tag is a string, not %s", ty_name[t]);
			comp_op(c, cl->kind == C_TAG ? OPC_TAG : OPC_UNTAG, 0, cl->loc);
			break;
		}
		}
	}
	if (!responded)
		comp_error(c, r->name.loc, "rule '%s' has no response (emit, set, tag, untag, move or observe)", ri->name);
	if (r->has_limit && r->limit_n == 0 && r->limit_per > 0)
		comp_warning(c, r->limit_loc, "rule '%s' can never fire: its limit is 0", ri->name);
	comp_op(c, OPC_FIRE, 0, r->loc);
	comp_op(c, OPC_HALT, 0, r->loc);
	comp_history_filters(c);
	p = c->p;
	for (int i = 0; i < c->nscope; i++)
		if (!c->scope[i].used && !c->scope[i].is_param)
			comp_warning(c, c->scope[i].name.loc, "'%.*s' is never used", (int)c->scope[i].name.len,
				c->scope[i].name.s);
	p->rules[index].nlocals = c->nlocals;
	if (c->nlocals > p->max_locals)
		p->max_locals = c->nlocals;
	comp_dispatch(c, index);
	c->rule = NULL;
}

/* The verifier (bytecode.c) on one handler; a failure is the compiler's
 * own mistake, told at the instruction's line. */
static int verify(struct comp *c, uint32_t entry, int nbinds)
{
	uint32_t bad;
	if (bytecode_verify(c->p, entry, nbinds, &c->verify_scratch, &bad) == 0)
		return 0;
	diag_report(c->d, DIAG_ERROR, bad < c->p->ncode ? c->p->lines[bad] : (struct loc){0},
		    "internal error: bytecode check failed at instruction %u", bad);
	return -1;
}

/* ---- driver ---- */

static int load_script(struct comp *c, const char *name, const char *text, size_t len, int stdlib)
{
	int file = diag_add_file(c->d, name, text, len);
	if (stdlib) {
		c->stdlib_files = mem_realloc(c->stdlib_files, sizeof(int) * (size_t)(c->nstdlib_files + 1));
		c->stdlib_files[c->nstdlib_files++] = file;
	}
	struct parse_ctx ctx = {0};
	ctx.arena = &c->p->arena;
	ctx.diag = c->d;
	ctx.file = file;
	ctx.script = &c->script;
	/* Parse from the diag's copy: the AST points into it. */
	return parse_script(&ctx, c->d->files[file].text, len);
}

/* ---- imports ---- */

/* A script file loaded, by what it is on disk (device and inode), with
 * the file that imported it: "y.cxr" and "./y.cxr" are one file, and a
 * file that imports one of its importers is a cycle. */
struct loaded {
	dev_t dev;
	ino_t ino;
	int file;   /* its index in the diag */
	int parent; /* the loaded entry that imported it, or -1 */
};

#define IMPORT_MAX_BYTES (4u << 20)

/* Is real (a resolved path) inside one of the allowed folders? */
static int inside_roots(const struct prog *p, const char *real)
{
	for (int i = 0; i < p->nimport_roots; i++) {
		size_t n = strlen(p->import_roots[i]);
		if (!strncmp(real, p->import_roots[i], n) && (real[n] == '/' || (n == 1 && real[0] == '/')))
			return 1;
	}
	return 0;
}

/* Text a script can be: UTF-8 without NUL bytes or other controls than
 * tab, line ends and form feed. */
static int script_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
			return 0;
		size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!k || i + k > n || (k == 2 && c < 0xC2))
			return 0;
		for (size_t j = 1; j < k; j++)
			if (((unsigned char)s[i + j] & 0xC0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

/* The text of an import, or NULL after an error at the import: only a
 * .cxr regular file inside the allowed folders (the main script's, or
 * those an embedding program set), relative to the importing script,
 * links resolved, of a script's size and a script's bytes. */
static char *import_file(struct comp *c, struct ast_import *im, struct loaded **loaded, int *nloaded, int parent,
			 size_t *len)
{
	const char *from = c->d->files[im->loc.file].name;
	if (im->path[0] == '/') {
		comp_error(c, im->loc, "cannot import \"%s\": an import is a path relative to the importing script", im->path);
		return NULL;
	}
	size_t n = strlen(im->path);
	if (n < 5 || strcmp(im->path + n - 4, ".cxr") != 0) {
		struct suggest sg;
		suggest_init(&sg, im->path, im->len);
		for (int i = 0; stdlib_scripts[i].name; i++)
			suggest_try(&sg, stdlib_scripts[i].name, strlen(stdlib_scripts[i].name));
		comp_error(c, im->loc, "cannot import \"%s\": no stdlib script of that name, and a script file ends in .cxr%s",
			   im->path, suggest_hint(&sg, &c->tmp));
		return NULL;
	}
	if (!c->p->nimport_roots) {
		comp_error(c, im->loc, "cannot import \"%s\": this script is not a file, so it imports only the stdlib",
			   im->path);
		return NULL;
	}
	/* Relative to the importing script, or, for a script that is not a
	 * file (a REPL session), to the first import folder. */
	struct buf path = {0};
	const char *slash = strrchr(from, '/');
	if (from[0] == '<')
		buf_printf(&path, "%s/", c->p->import_roots[0]);
	else if (slash)
		buf_add(&path, from, (size_t)(slash - from + 1));
	buf_adds(&path, im->path);
	char *real = realpath(path.p, NULL);
	char *text = NULL;
	struct stat st;
	if (!real) {
		comp_error(c, im->loc, "cannot import \"%s\": %s: %s", im->path, path.p, strerror(errno));
	} else if (!inside_roots(c->p, real)) {
		comp_error(c, im->loc, "cannot import \"%s\": %s %s outside the folder of %s (imports stay inside it)",
			   im->path, path.p, strcmp(real, path.p) && lstat(path.p, &st) == 0 && S_ISLNK(st.st_mode) ? "leads"
											     : "is",
			   c->d->files[c->main_file].name);
	} else if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
		comp_error(c, im->loc, "cannot import \"%s\": %s is not a regular file", im->path, path.p);
	} else if ((uint64_t)st.st_size > IMPORT_MAX_BYTES) {
		comp_error(c, im->loc, "cannot import \"%s\": %s is larger than a script may be (%u MB)", im->path, path.p,
			   IMPORT_MAX_BYTES >> 20);
	} else {
		for (int i = 0; i < *nloaded; i++) {
			if ((*loaded)[i].dev != st.st_dev || (*loaded)[i].ino != st.st_ino)
				continue;
			/* Loaded already: once is enough, unless it imports itself. */
			int cycle = 0;
			for (int a = parent; a >= 0 && !cycle; a = (*loaded)[a].parent)
				cycle = a == i;
			if (cycle) {
				/* The files of the cycle, in the order they import. */
				int path_of[64], depth = 0;
				for (int a = parent; a >= 0 && a != i && depth < 64; a = (*loaded)[a].parent)
					path_of[depth++] = a;
				struct buf chain = {0};
				buf_adds(&chain, c->d->files[(*loaded)[i].file].name);
				while (depth-- > 0)
					buf_printf(&chain, " -> %s", c->d->files[(*loaded)[path_of[depth]].file].name);
				buf_printf(&chain, " -> %s", c->d->files[(*loaded)[i].file].name);
				comp_error(c, im->loc, "import cycle: %s", chain.p);
				buf_free(&chain);
			}
			free(real);
			buf_free(&path);
			return NULL;
		}
		text = mem_read_file(real, len);
		if (!text)
			comp_error(c, im->loc, "cannot import \"%s\": %s: %s", im->path, path.p, strerror(errno));
		else if (!script_text(text, *len)) {
			/* Never quoted: what is not a script stays unread. */
			comp_error(c, im->loc, "cannot import \"%s\": %s is not a script (binary bytes or not UTF-8)", im->path,
				   path.p);
			mem_free(text);
			text = NULL;
		} else {
			*loaded = mem_grow(*loaded, (size_t)*nloaded, sizeof **loaded);
			(*loaded)[(*nloaded)++] = (struct loaded){st.st_dev, st.st_ino, c->d->nfiles, parent};
		}
	}
	if (text) {
		/* Named as the importer names it, from its folder. */
		load_script(c, path.p, text, *len, 0);
		mem_free(text);
		text = (char *)1; /* loaded */
	}
	free(real);
	buf_free(&path);
	return text;
}

static void comp_imports(struct comp *c, int main_file)
{
	c->main_file = main_file;
	struct loaded *loaded = NULL;
	int nloaded = 0;
	/* The main script is loaded: importing it is a cycle. */
	struct stat st;
	if (c->d->files[main_file].name[0] != '<' && stat(c->d->files[main_file].name, &st) == 0) {
		loaded = mem_grow(loaded, 0, sizeof *loaded);
		loaded[nloaded++] = (struct loaded){st.st_dev, st.st_ino, main_file, -1};
	}
	const char **stdlib_done = NULL;
	int nstdlib = 0;
	for (struct ast_import *im = c->script.imports; im; im = im->next) {
		const struct stdlib_script *s = stdlib_find(im->path);
		if (s) {
			int seen = 0;
			for (int i = 0; i < nstdlib; i++)
				seen |= stdlib_done[i] == s->name;
			if (seen)
				continue;
			stdlib_done = mem_grow(stdlib_done, (size_t)nstdlib, sizeof *stdlib_done);
			stdlib_done[nstdlib++] = s->name;
			struct buf name = {0};
			buf_printf(&name, "<stdlib/%s>", s->name);
			load_script(c, name.p, s->text, strlen(s->text), 1);
			buf_free(&name);
			continue;
		}
		/* The entry of the file this import is written in. */
		int parent = -1;
		for (int i = 0; i < nloaded; i++)
			if (loaded[i].file == im->loc.file)
				parent = i;
		size_t len;
		import_file(c, im, &loaded, &nloaded, parent, &len);
	}
	mem_free(loaded);
	mem_free(stdlib_done);
}

/* Firing order on one event: higher priority first, then source order. */
struct handler_order {
	int64_t priority;
	int rule;
};

/* Higher priority first; among equals, the order of the script. */
static int handler_cmp(const void *a, const void *b)
{
	const struct handler_order *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

/* The handlers of one event type in the order they run.  The list holds
 * rules in script order; sorting on (priority, position) keeps that
 * order among equals, in n log n whatever the priorities. */
static void sort_handlers(struct prog *p, int *list, int n)
{
	if (n < 2)
		return;
	struct handler_order *order = mem_alloc(sizeof *order * (size_t)n);
	for (int i = 0; i < n; i++)
		order[i] = (struct handler_order){p->rules[list[i]].priority, list[i]};
	qsort(order, (size_t)n, sizeof *order, handler_cmp);
	for (int i = 0; i < n; i++)
		list[i] = order[i].rule;
	mem_free(order);
}

/* Each constant's first declaration, by name (comp_const_find). */
static void index_const_decls(struct comp *c)
{
	int n = 0;
	for (struct ast_const *k = c->script.consts; k; k = k->next)
		n++;
	c->const_asts = mem_alloc(sizeof *c->const_asts * (size_t)(n ? n : 1));
	n = 0;
	for (struct ast_const *k = c->script.consts; k; k = k->next) {
		if (nametab_get(&c->const_decls, k->name.s, k->name.len) < 0)
			nametab_put(&c->const_decls, k->name.s, k->name.len, n);
		c->const_asts[n++] = k;
	}
}

static void free_tables(struct comp *c)
{
	struct nametab *tables[] = {&c->rule_names,   &c->type_names,	&c->slot_names,	  &c->var_names,
				    &c->column_names, &c->const_names,	&c->const_decls,  &c->fn_names,
				    &c->metric_names, &c->sla_names,	&c->goal_names,	  &c->budget_names,
				    &c->journey_names, &c->konst_strings, &c->konst_scalars, &c->emit_first};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		nametab_free(tables[i]);
	mem_free(c->const_asts);
	mem_free(c->emit_next);
	mem_free(c->marks);
	buf_free(&c->key);
}

int prog_compile(struct prog *p, const char *name, const char *text, size_t len)
{
	struct comp c = {0};
	c.p = p;
	c.d = p->diag;
	int errors0 = c.d->errors;
	diag_restart(c.d);
	int main_file = c.d->nfiles;
	load_script(&c, name, text, len, 0);
	comp_imports(&c, main_file);
	index_const_decls(&c);
	/* Syntax errors drop the broken forms; the rest is still checked, so
	 * one run reports every problem. */

	/* slots 0-2: key, time, type */
	mem_free(p->slots); /* grown by mem_grow from here: its capacity is implied by the count */
	p->slots = mem_grow(NULL, 0, sizeof *p->slots);
	memset(p->slots, 0, sizeof *p->slots * SLOT_FIRST_FIELD);
	p->nslots = SLOT_FIRST_FIELD;
	comp_settings(&c);
	for (struct ast_event *e = c.script.events; e; e = e->next)
		comp_event(&c, e);
	for (struct ast_fn *f = c.script.fns; f; f = f->next)
		comp_fn(&c, f);
	comp_check_fns(&c);
	for (struct ast_const *k = c.script.consts; k; k = k->next)
		comp_const(&c, k);
	comp_journeys(&c);
	comp_decls(&c);
	int nrules = 0;
	for (struct ast_rule *r = c.script.rules; r; r = r->next)
		nrules++;
	p->rules = mem_alloc(sizeof *p->rules * (size_t)(nrules ? nrules : 1));
	p->nrules = nrules;
	int i = 0;
	for (struct ast_rule *r = c.script.rules; r; r = r->next)
		comp_rule(&c, r, i++);
	comp_tests(&c, main_file);
	p->named = arena_alloc(&p->arena, sizeof *p->named * (size_t)(c.nconsts + 1));
	for (int k = 0; k < c.nconsts; k++) {
		p->named[k].name = arena_strndup(&p->arena, c.consts[k].name.s, c.consts[k].name.len);
		p->named[k].value = c.consts[k].value;
	}
	p->nnamed = c.nconsts;
	p->fn_names = arena_alloc(&p->arena, sizeof *p->fn_names * (size_t)(c.nfns + 1));
	for (int k = 0; k < c.nfns; k++)
		p->fn_names[k] = arena_strndup(&p->arena, c.fns[k].fn->name.s, c.fns[k].fn->name.len);
	p->nfn_names = c.nfns;
	/* Cut short, some are not reached: "never used" would be wrong. */
	int all_seen = !p->growing && !c.too_deep && !c.too_large;
	for (int k = 0; k < c.nconsts && all_seen; k++)
		if (!c.consts[k].used && !c.consts[k].from_stdlib && strcmp(p->named[k].name, "__value__"))
			comp_warning(&c, c.consts[k].name.loc, "constant '%.*s' is never used", (int)c.consts[k].name.len,
				c.consts[k].name.s);
	for (int k = 0; k < c.nfns && all_seen; k++)
		if (!c.fns[k].used && !c.fns[k].from_stdlib && !c.fns[k].broken)
			comp_warning(&c, c.fns[k].fn->name.loc, "function '%.*s' is never used",
				(int)c.fns[k].fn->name.len, c.fns[k].fn->name.s);
	if (all_seen)
		warn_vars_never_set(&c);
	if (c.d->errors > errors0)
		goto done;
	for (int t = 0; t < p->ntypes; t++)
		sort_handlers(p, p->types[t].rules, p->types[t].nrules);
	sort_handlers(p, p->any_rules, p->nany_rules);
	type_index_build(p);
	type_matters_build(p);
	dispatch_build(p);
	for (int r = 0; r < p->nrules; r++) {
		const struct rule_info *ri = &p->rules[r];
		int ok = verify(&c, ri->entry, ri->nbinds) == 0;
		for (int s = 0; s < ri->nsteps && ok; s++)
			if (ri->steps[s].where != NO_CODE)
				ok = verify(&c, ri->steps[s].where, s + 1) == 0;
		if (!ok)
			break;
	}
	for (int q = 0; q < p->nhqueries; q++) {
		if (p->hqueries[q].where != NO_CODE && verify(&c, p->hqueries[q].where, p->hqueries[q].nbinds) < 0)
			break;
	}
	for (int i = 0; i < p->nslas; i++) {
		if (p->slas[i].to.where != NO_CODE && verify(&c, p->slas[i].to.where, 2) < 0)
			break;
		if (p->slas[i].by != NO_CODE && verify(&c, p->slas[i].by, 1) < 0)
			break;
	}
done:
	free_tables(&c);
	bytecode_scratch_free(&c.verify_scratch);
	mem_free(c.consts);
	mem_free(c.var_uses);
	mem_free(c.filters);
	mem_free(c.fns);
	mem_free(c.scope);
	mem_free(c.stdlib_files);
	buf_free(&c.tmp);
	tz_cache_free(c.tz);
	return c.d->errors - errors0;
}

struct prog *prog_new(struct diag *diag)
{
	struct prog *p = mem_alloc(sizeof *p);
	p->diag = diag;
	p->delim = ',';
	p->late = LATE_REJECT;
	p->any_history = -1;
	return p;
}

void prog_free(struct prog *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nregex; i++)
		pcre2_code_free(p->regex[i]);
	dispatch_free(p);
	for (int i = 0; i < p->ntypes; i++) {
		mem_free(p->types[i].rules);
		mem_free(p->types[i].stage_refs);
	}
	for (int j = 0; j < p->njourneys; j++)
		for (int s = 0; s < p->journeys[j].nstages; s++) {
			mem_free(p->journeys[j].rules[s].enter);
			mem_free(p->journeys[j].rules[s].exit);
			mem_free(p->journeys[j].rules[s].stuck);
		}
	for (int i = 0; i < p->nslas; i++)
		mem_free(p->slas[i].breach_rules);
	for (int i = 0; i < p->nhspecs; i++)
		mem_free(p->hspecs[i].sum_slots);
	mem_free(p->hspecs);
	mem_free(p->hqueries);
	mem_free(p->uses);
	mem_free(p->type_uses);
	mem_free(p->guards);
	mem_free(p->journeys);
	mem_free(p->metrics);
	mem_free(p->slas);
	mem_free(p->goals);
	mem_free(p->budgets);
	mem_free(p->regex);
	mem_free(p->types);
	mem_free(p->type_index);
	mem_free(p->type_matters);
	mem_free(p->any_rules);
	mem_free(p->rules);
	mem_free(p->code);
	mem_free(p->lines);
	mem_free(p->consts);
	mem_free(p->emits);
	mem_free(p->vars);
	mem_free(p->columns);
	mem_free(p->slots);
	arena_free(&p->arena);
	mem_free(p);
}
