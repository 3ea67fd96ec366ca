/* compile_expr.c: checking and compiling expressions (see comp.h).
 *
 * Each expression is compiled once, post-order, and returns its static
 * type: TY_ANY where only the data will tell.  Type errors are reported
 * where both sides are known, with a note on how to write it instead.
 */
#include <stdlib.h>
#include <string.h>

#include "comp.h"
#include "base/tzone.h"

/* ---- scopes ---- */

struct local *comp_scope_find(struct comp *c, const char *s, size_t n)
{
	for (int i = c->nscope - 1; i >= 0; i--)
		if (comp_names_equal(c->scope[i].name.s, c->scope[i].name.len, s, n))
			return &c->scope[i];
	return NULL;
}

struct local *comp_scope_add(struct comp *c, struct ast_name name, enum ty type, int is_param)
{
	if (c->nscope == c->capscope) {
		c->capscope = c->capscope ? c->capscope * 2 : 16;
		c->scope = mem_realloc(c->scope, sizeof *c->scope * (size_t)c->capscope);
	}
	struct local *l = &c->scope[c->nscope++];
	l->name = name;
	l->slot = c->nlocals++;
	l->type = type;
	l->used = 0;
	l->is_param = is_param;
	return l;
}

static struct named_const *const_compiled(struct comp *c, const char *s, size_t n)
{
	int i = nametab_get(&c->const_names, s, n);
	return i >= 0 ? &c->consts[i] : NULL;
}

void comp_const_add(struct comp *c, struct named_const nc)
{
	c->consts = mem_grow(c->consts, (size_t)c->nconsts, sizeof *c->consts);
	nametab_put(&c->const_names, nc.name.s, nc.name.len, c->nconsts);
	c->consts[c->nconsts++] = nc;
}

/* A constant by name, compiled when first needed: one may use another
 * defined later, or in a file it imports. */
struct named_const *comp_const_find(struct comp *c, const char *s, size_t n)
{
	struct named_const *k = const_compiled(c, s, n);
	if (k)
		return k;
	/* Not compiled yet: its first declaration (a later one with the same
	 * name is "defined twice" when its turn comes). */
	int d = nametab_get(&c->const_decls, s, n);
	struct ast_const *a = d >= 0 ? c->const_asts[d] : NULL;
	if (!a || a->state == 2)
		return NULL;
	if (a->state == 1) {
		/* Told once; then it is null, so that nothing else cascades. */
		comp_error(c, a->name.loc, "constant '%.*s' is defined in terms of itself", (int)n, s);
		a->state = 2;
		comp_const_add(c, (struct named_const){a->name, val_null(), TY_ANY, 1, 0});
		return &c->consts[c->nconsts - 1];
	}
	comp_const(c, a);
	return const_compiled(c, s, n);
}

struct named_fn *comp_fn_find(struct comp *c, const char *s, size_t n)
{
	int i = nametab_get(&c->fn_names, s, n);
	return i >= 0 ? &c->fns[i] : NULL;
}

int comp_builtin_find(const char *s, size_t n)
{
	for (int i = 0; i < nbuiltins; i++)
		if (comp_names_equal(builtins[i].name, strlen(builtins[i].name), s, n))
			return i;
	return -1;
}

/* ---- expressions ---- */


/* The static type of a binary operation, or -1 when the types cannot go
 * together (an error the user must see at compile time). */
static int binop_type(int op, enum ty a, enum ty b)
{
	if (a == TY_ANY || b == TY_ANY || a == TY_NULL || b == TY_NULL) {
		switch (op) {
		case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MOD:
			if ((a == TY_TIME && b == TY_DUR) || (a == TY_DUR && b == TY_TIME))
				return TY_TIME;
			return TY_ANY;
		default:
			return TY_BOOL;
		}
	}
	switch (op) {
	case OP_ADD:
		if (ty_is_num(a) && ty_is_num(b))
			return a == TY_INT && b == TY_INT ? TY_INT : TY_FLOAT;
		if ((a == TY_TIME && b == TY_DUR) || (a == TY_DUR && b == TY_TIME))
			return TY_TIME;
		if (a == TY_DUR && b == TY_DUR)
			return TY_DUR;
		if (a == TY_STR && b == TY_STR)
			return TY_STR;
		if (a == TY_LIST && b == TY_LIST)
			return TY_LIST;
		return -1;
	case OP_SUB:
		if (ty_is_num(a) && ty_is_num(b))
			return a == TY_INT && b == TY_INT ? TY_INT : TY_FLOAT;
		if (a == TY_TIME && b == TY_TIME)
			return TY_DUR;
		if (a == TY_TIME && b == TY_DUR)
			return TY_TIME;
		if (a == TY_DUR && b == TY_DUR)
			return TY_DUR;
		return -1;
	case OP_MUL:
		if (ty_is_num(a) && ty_is_num(b))
			return a == TY_INT && b == TY_INT ? TY_INT : TY_FLOAT;
		if ((a == TY_DUR && ty_is_num(b)) || (ty_is_num(a) && b == TY_DUR))
			return TY_DUR;
		return -1;
	case OP_DIV:
		if (ty_is_num(a) && ty_is_num(b))
			return TY_FLOAT;
		if (a == TY_DUR && ty_is_num(b))
			return TY_DUR;
		if (a == TY_DUR && b == TY_DUR)
			return TY_FLOAT;
		return -1;
	case OP_MOD:
		if (ty_is_num(a) && ty_is_num(b))
			return a == TY_INT && b == TY_INT ? TY_INT : TY_FLOAT;
		if (a == TY_DUR && b == TY_DUR)
			return TY_DUR;
		return -1;
	case OP_EQ: case OP_NE:
		if (a == b || (ty_is_num(a) && ty_is_num(b)))
			return TY_BOOL;
		return -1;
	case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		if ((a == b && a != TY_BOOL && a != TY_LIST) || (ty_is_num(a) && ty_is_num(b)))
			return TY_BOOL;
		return -1;
	case OP_IN:
		return b == TY_LIST ? TY_BOOL : -1;
	case OP_HAS:
		return a == TY_LIST ? TY_BOOL : -1;
	}
	return -1;
}

static const char *op_text(int op)
{
	static const char *const text[] = {
		[OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_DIV] = "/", [OP_MOD] = "%",
		[OP_EQ] = "==", [OP_NE] = "!=", [OP_LT] = "<", [OP_LE] = "<=", [OP_GT] = ">",
		[OP_GE] = ">=", [OP_IN] = "in", [OP_HAS] = "has",
	};
	return text[op] ? text[op] : "?";
}

static void binop_error(struct comp *c, struct ast *e, enum ty a, enum ty b)
{
	const char *hint = NULL;
	if ((a == TY_DUR && ty_is_num(b)) || (ty_is_num(a) && b == TY_DUR))
		hint = "write a duration with its unit, such as 10m";
	else if ((a == TY_TIME && ty_is_num(b)) || (ty_is_num(a) && b == TY_TIME))
		hint = "a time compares with a time, and moves by a duration such as 10m";
	else if (a == TY_TIME && b == TY_TIME && e->op == OP_ADD)
		hint = "subtracting two times gives a duration";
	else if (e->op == OP_IN)
		hint = "'in' looks for an item in a list; contains() looks inside text";
	switch (e->op) {
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		comp_error(c, e->loc, "type error: cannot compare %s with %s using '%s'", ty_name[a], ty_name[b],
		      op_text(e->op));
		break;
	default:
		comp_error(c, e->loc, "type error: cannot apply '%s' to %s and %s", op_text(e->op), ty_name[a], ty_name[b]);
	}
	if (hint)
		diag_report(c->d, DIAG_NOTE, e->loc, "%s", hint);
}

static const enum opcode binop_opcode[] = {
	[OP_ADD] = OPC_ADD, [OP_SUB] = OPC_SUB, [OP_MUL] = OPC_MUL, [OP_DIV] = OPC_DIV, [OP_MOD] = OPC_MOD,
	[OP_EQ] = OPC_EQ, [OP_NE] = OPC_NE, [OP_LT] = OPC_LT, [OP_LE] = OPC_LE, [OP_GT] = OPC_GT,
	[OP_GE] = OPC_GE, [OP_IN] = OPC_IN, [OP_HAS] = OPC_HAS,
};

static void unknown_name(struct comp *c, struct ast *e)
{
	for (int i = 0; i < c->hidden_scope; i++)
		if (comp_names_equal(c->scope[i].name.s, c->scope[i].name.len, e->s, e->len)) {
			comp_error(c, e->loc, "'%.*s' is a let of the rule: a history condition sees only events (the "
					      "rule's and the past one) and constants", (int)e->len, e->s);
			return;
		}
	struct suggest sg;
	suggest_init(&sg, e->s, e->len);
	for (int i = 0; i < c->nscope; i++)
		suggest_try(&sg, c->scope[i].name.s, c->scope[i].name.len);
	for (int i = 0; i < c->nconsts; i++)
		suggest_try(&sg, c->consts[i].name.s, c->consts[i].name.len);
	for (int i = 0; i < c->nbinds; i++)
		if (c->binds[i].name.s)
			suggest_try(&sg, c->binds[i].name.s, c->binds[i].name.len);
	comp_error(c, e->loc, "unknown name '%.*s'%s", (int)e->len, e->s, suggest_hint(&sg, &c->tmp));
}

/* The visible binding of that name (a later step's name hides an earlier one). */
static int binding_find(struct comp *c, const char *s, size_t n)
{
	for (int i = c->nbinds - 1; i >= 0; i--)
		if (c->binds[i].name.s && comp_names_equal(c->binds[i].name.s, c->binds[i].name.len, s, n))
			return i;
	return -1;
}

/* The schema type of field `name` on the trigger's event types: TY_ANY
 * when any of them has no schema; -1 (after an error) when every type is
 * declared and none has the field. */
static int schema_field_type(struct comp *c, int bind, const struct ast_name *segs, int nseg)
{
	const struct binding *b = &c->binds[bind];
	if (b->ntypes == 0 || nseg != 1)
		return TY_ANY;
	int found = -2;
	for (int i = 0; i < b->ntypes; i++) {
		struct evtype *t = &c->p->types[b->types[i]];
		if (!t->declared)
			return TY_ANY;
		for (int k = 0; k < t->nfields; k++) {
			if (comp_names_equal(t->fields[k].name, strlen(t->fields[k].name), segs[0].s, segs[0].len)) {
				int ft = (int)t->fields[k].type;
				found = found == -2 || found == ft ? ft : TY_ANY;
			}
		}
	}
	if (found != -2)
		return found;
	struct suggest sg;
	suggest_init(&sg, segs[0].s, segs[0].len);
	for (int i = 0; i < b->ntypes; i++) {
		struct evtype *t = &c->p->types[b->types[i]];
		for (int k = 0; k < t->nfields; k++)
			suggest_try(&sg, t->fields[k].name, strlen(t->fields[k].name));
	}
	suggest_try(&sg, "time", 4);
	suggest_try(&sg, "type", 4);
	suggest_try(&sg, "customer", 8);
	struct evtype *t0 = &c->p->types[b->types[0]];
	comp_error(c, segs[0].loc, "unknown field '%.*s' of event %s%s", (int)segs[0].len, segs[0].s, t0->name,
	      suggest_hint(&sg, &c->tmp));
	return -1;
}

/* field: (binding | event) ('.' name | '[' "name" ']')+ */
static enum ty comp_field(struct comp *c, struct ast *e)
{
	struct ast_name segs[32];
	int nseg = 0;
	struct ast *root = e;
	int quoted = 0;
	while (root->kind == A_FIELD) {
		if (nseg == 32) {
			comp_error(c, e->loc, "field path is deeper than 32 levels");
			return TY_ANY;
		}
		segs[nseg].s = root->s;
		segs[nseg].len = root->len;
		segs[nseg].loc = root->v.name;
		quoted = root->flags != NULL;
		nseg++;
		root = root->a;
	}
	/* segs were collected from the outside in */
	for (int i = 0; i < nseg / 2; i++) {
		struct ast_name t = segs[i];
		segs[i] = segs[nseg - 1 - i];
		segs[nseg - 1 - i] = t;
	}
	if ((root->kind == A_CALL || root->kind == A_HISTORY) && nseg == 1 && comp_is_history_call(c, root))
		return comp_history(c, root, &segs[0]); /* last(E).f */
	if (c->in_const) {
		comp_error(c, e->loc, "a constant cannot read an event");
		return TY_ANY;
	}
	int bind = -1;
	if (root->kind == A_EVENT)
		bind = c->event_bind;
	else if (root->kind == A_NAME && !comp_scope_find(c, root->s, root->len))
		bind = binding_find(c, root->s, root->len);
	if (bind < 0) {
		struct local *l = root->kind == A_NAME ? comp_scope_find(c, root->s, root->len) : NULL;
		if (root->kind == A_EVENT) {
			comp_error(c, e->loc, "there is no event here to read");
		} else if (root->kind == A_NAME && !l && !comp_const_find(c, root->s, root->len)) {
			unknown_name(c, root);
		} else if (root->kind == A_CUSTVAR || l || root->kind == A_LIST || root->kind == A_NAME) {
			/* A value, not an event: its items are indexed, not named. */
			if (l)
				l->used = 1;
			buf_clear(&c->tmp);
			if (root->kind == A_CUSTVAR)
				buf_printf(&c->tmp, "customer.%.*s is a customer variable", (int)root->len, root->s);
			else if (root->kind == A_LIST)
				buf_adds(&c->tmp, "[...] is a list");
			else
				buf_printf(&c->tmp, "'%.*s' is %s", (int)root->len, root->s, l ? "a let" : "a constant");
			comp_error(c, e->loc, "only events have fields: %s; x.f and x[\"name\"] read a field of one of the "
					      "rule's events, and a list's items are indexed with a number, such as x[0]",
				   c->tmp.p);
		} else {
			comp_error(c, e->loc, "only events have fields: '%.*s' is not one of the rule's events%s",
				   (int)root->len, root->s ? root->s : "",
				   c->nbinds && c->binds[0].name.s ? "" : " (name it with 'as')");
		}
		return TY_ANY;
	}
	if (c->binds[bind].absent) {
		comp_error(c, e->loc, "'%.*s' is an event that must not happen: it has no fields when the rule fires",
			   (int)root->len, root->s);
		return TY_ANY;
	}
	if (nseg == 1 && !quoted) {
		if (comp_name_is(&segs[0], "time")) {
			comp_op(c, OPC_EVTIME, (uint32_t)bind, e->loc);
			return TY_TIME;
		}
		if (comp_name_is(&segs[0], "type")) {
			comp_op(c, OPC_EVTYPE, (uint32_t)bind, e->loc);
			return TY_STR;
		}
		if (comp_name_is(&segs[0], "customer")) {
			comp_op(c, OPC_EVKEY, 0, e->loc);
			return TY_STR;
		}
	}
	int ft = schema_field_type(c, bind, segs, nseg);
	int slot = comp_slot(c, segs, nseg);
	/* Messages about the field point at its name: user.id of e.user.id. */
	struct loc name = segs[0].loc;
	name.last_line = segs[nseg - 1].loc.last_line;
	name.last_column = segs[nseg - 1].loc.last_column;
	for (int i = 0; i < c->binds[bind].ntypes; i++)
		comp_field_use(c, c->binds[bind].types[i], slot, name);
	if (!c->binds[bind].ntypes)
		comp_field_use(c, -1, slot, name); /* on any */
	comp_op(c, OPC_FIELD, FIELD_OPERAND(bind, slot), e->loc);
	if (ft < 0)
		return TY_ANY;
	if (ft != TY_ANY && ft != TY_STR)
		comp_op(c, OPC_CONV, (uint32_t)ft, e->loc);
	return (enum ty)ft;
}

/* Builtin argument signatures: one letter per argument (see builtins.c). */
static int arg_fits(char want, enum ty got)
{
	switch (want) {
	case 'd': return got == TY_ANY || got == TY_NULL || got == TY_DUR;
	case 't': return got == TY_ANY || got == TY_NULL || got == TY_TIME;
	case 'n': return got == TY_ANY || got == TY_NULL || ty_is_num(got);
	case 's': return got == TY_ANY || got == TY_NULL || got == TY_STR;
	case 'l': return got == TY_ANY || got == TY_NULL || got == TY_LIST;
	case 'z': return got == TY_ANY || got == TY_NULL || got == TY_STR;
	default: return 1;
	}
}

static const char *sig_name(char want)
{
	switch (want) {
	case 'd': return "a duration";
	case 't': return "a time";
	case 'n': return "a number";
	case 's': return "a string";
	case 'l': return "a list";
	case 'z': return "a time zone";
	default: return "a value";
	}
}

static enum ty comp_call(struct comp *c, struct ast *e)
{
	if (comp_is_history_call(c, e))
		return comp_history(c, e, NULL);
	struct named_fn *f = comp_fn_find(c, e->s, e->len);
	if (f) {
		struct ast_fn *fn = f->fn;
		f->used = 1;
		if (f->broken)
			return TY_ANY; /* said where it is defined */
		if (e->nkids != fn->nparams) {
			comp_error(c, e->loc, "%.*s() takes %d argument%s, %d given", (int)e->len, e->s, fn->nparams,
			      fn->nparams == 1 ? "" : "s", e->nkids);
			return TY_ANY;
		}
		if (f->active) {
			comp_error(c, e->loc, "%.*s() calls itself; functions cannot recurse", (int)e->len, e->s);
			return TY_ANY;
		}
		/* A call expands the body inline, its parameters bound to locals
		 * that hide every outer name but constants. */
		int slots[64];
		if (fn->nparams > 64) {
			comp_error(c, e->loc, "too many parameters");
			return TY_ANY;
		}
		enum ty types[64];
		for (int i = 0; i < fn->nparams; i++) {
			types[i] = comp_expr(c, e->kids[i]);
			slots[i] = c->nlocals++;
		}
		for (int i = fn->nparams - 1; i >= 0; i--)
			comp_op(c, OPC_SETLOCAL, (uint32_t)slots[i], e->loc);
		int saved_nscope = c->nscope;
		struct ast_rule *saved_rule = c->rule;
		int saved_nbinds = c->nbinds, saved_event = c->event_bind;
		/* Inside a function only its parameters and constants are visible. */
		struct local *saved_scope = c->scope;
		int saved_cap = c->capscope;
		c->scope = NULL;
		c->nscope = c->capscope = 0;
		c->rule = NULL;
		c->nbinds = 0;
		c->event_bind = -1;
		for (int i = 0; i < fn->nparams; i++) {
			struct local *l = comp_scope_add(c, fn->params[i], types[i], 1);
			c->nlocals--;
			l->slot = slots[i];
		}
		f->active = 1;
		int saved_const = c->in_const;
		int errors = c->d->errors;
		c->in_const = 0;
		enum ty t = comp_expr(c, fn->body);
		c->in_const = saved_const;
		f->active = 0;
		if (c->d->errors > errors && !c->too_deep)
			diag_report(c->d, DIAG_NOTE, e->loc, "in this call of %.*s()", (int)e->len, e->s);
		mem_free(c->scope);
		c->scope = saved_scope;
		c->capscope = saved_cap;
		c->nscope = saved_nscope;
		c->rule = saved_rule;
		c->nbinds = saved_nbinds;
		c->event_bind = saved_event;
		return t;
	}
	int b = comp_builtin_find(e->s, e->len);
	if (b < 0) {
		struct suggest sg;
		suggest_init(&sg, e->s, e->len);
		for (int i = 0; i < nbuiltins; i++)
			suggest_try(&sg, builtins[i].name, strlen(builtins[i].name));
		for (int i = 0; i < c->nfns; i++)
			suggest_try(&sg, c->fns[i].fn->name.s, c->fns[i].fn->name.len);
		comp_error(c, e->loc, "unknown function '%.*s'%s", (int)e->len, e->s, suggest_hint(&sg, &c->tmp));
		return TY_ANY;
	}
	const struct builtin *bi = &builtins[b];
	if (e->nkids < bi->min_args || (bi->max_args >= 0 && e->nkids > bi->max_args)) {
		if (bi->min_args == bi->max_args)
			comp_error(c, e->loc, "%s() takes %d argument%s, %d given", bi->name, bi->min_args,
			      bi->min_args == 1 ? "" : "s", e->nkids);
		else if (bi->max_args < 0)
			comp_error(c, e->loc, "%s() takes at least %d arguments, %d given", bi->name, bi->min_args, e->nkids);
		else
			comp_error(c, e->loc, "%s() takes %d to %d arguments, %d given", bi->name, bi->min_args,
			      bi->max_args, e->nkids);
		return bi->result;
	}
	const char *sig = bi->args;
	for (int i = 0; i < e->nkids; i++) {
		enum ty t = comp_expr(c, e->kids[i]);
		size_t siglen = strlen(sig);
		char want = siglen ? sig[(size_t)i < siglen ? (size_t)i : siglen - 1] : 'a';
		if (!arg_fits(want, t))
			comp_error(c, e->kids[i]->loc, "%s() takes %s, not %s", bi->name, sig_name(want), ty_name[t]);
		if (want == 'z' && e->kids[i]->kind == A_STR) {
			/* A zone written in the script is checked now, not per event. */
			int64_t off;
			const char *why;
			if (!c->tz)
				c->tz = tz_cache_new();
			if (tz_offset(c->tz, e->kids[i]->s, e->kids[i]->len, 0, &off, &why) < 0)
				comp_error(c, e->kids[i]->loc, "%s", why);
		}
	}
	if (e->nkids > 255) {
		comp_error(c, e->loc, "too many arguments");
		return TY_ANY;
	}
	comp_op(c, OPC_CALL, CALL_OPERAND(b, e->nkids), e->loc);
	return bi->result;
}

static enum ty comp_match(struct comp *c, struct ast *e)
{
	enum ty t = comp_expr(c, e->a);
	if (t != TY_ANY && t != TY_STR && t != TY_NULL)
		comp_error(c, e->a->loc, "=~ matches text, not %s", ty_name[t]);
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	for (const char *f = e->flags; *f; f++) {
		switch (*f) {
		case 'i': opts |= PCRE2_CASELESS; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'x': opts |= PCRE2_EXTENDED; break;
		default: comp_error(c, e->loc, "unknown regex flag '%c' (flags: i m s x)", *f);
		}
	}
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)e->s, e->len, opts, &errcode, &erroff, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(errcode, msg, sizeof msg);
		comp_error(c, e->loc, "bad regex /%.*s/: %s at offset %zu", (int)e->len, e->s, (char *)msg, (size_t)erroff);
		return TY_BOOL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* best effort: interpreted when JIT is unavailable */
	struct prog *p = c->p;
	p->regex = mem_grow(p->regex, (size_t)p->nregex, sizeof *p->regex);
	p->regex[p->nregex] = re;
	comp_op(c, OPC_MATCH, (uint32_t)p->nregex++, e->loc);
	if (e->op == OP_NOT)
		comp_op(c, OPC_NOT, 0, e->loc);
	return TY_BOOL;
}

/* The instruction at pc tests the value of e (see comp_guard_info). */
static void test_mark(struct comp *c, const struct ast *e, uint32_t pc)
{
	if (!c->marking)
		return;
	c->marks = mem_grow(c->marks, c->nmarks, sizeof *c->marks);
	c->marks[c->nmarks++] = (struct test_mark){e, pc};
}

/* The operator of e, once its left operand is on the stack (of type a). */
static enum ty comp_binop_rest(struct comp *c, struct ast *e, enum ty a)
{
	if (e->op == OP_AND || e->op == OP_OR) {
		uint32_t j = comp_op(c, e->op == OP_AND ? OPC_ANDJ : OPC_ORJ, 0, e->loc);
		test_mark(c, e->a, j);
		comp_expr(c, e->b);
		test_mark(c, e->b, comp_op(c, OPC_TRUTH, 0, e->loc));
		comp_patch(c, j);
		return TY_BOOL;
	}
	if (e->op == OP_COALESCE) {
		uint32_t j = comp_op(c, OPC_COALJ, 0, e->loc);
		enum ty b = comp_expr(c, e->b);
		comp_patch(c, j);
		return a == b ? a : a == TY_NULL ? b : TY_ANY;
	}
	enum ty b = comp_expr(c, e->b);
	int t = binop_type(e->op, a, b);
	if (t < 0) {
		binop_error(c, e, a, b);
		t = TY_ANY;
	}
	comp_op(c, binop_opcode[e->op], 0, e->loc);
	return (enum ty)t;
}

/* a + b + c ... is a tree as deep as the chain is long, down its left
 * side: walk that side with a loop, so that a chain of any length takes
 * no more C stack than one operator (the parser bounds the rest of the
 * nesting, AST_MAX_NESTING). */
static enum ty comp_binop_chain(struct comp *c, struct ast *e)
{
	struct ast **spine = NULL;
	size_t n = 0;
	for (struct ast *x = e; x->kind == A_BINOP; x = x->a) {
		spine = mem_grow(spine, n, sizeof *spine);
		spine[n++] = x;
	}
	enum ty t = comp_expr(c, spine[n - 1]->a);
	while (n > 0)
		t = comp_binop_rest(c, spine[--n], t);
	mem_free(spine);
	return t;
}

static enum ty comp_node(struct comp *c, struct ast *e);

enum ty comp_expr(struct comp *c, struct ast *e)
{
	if (c->too_large)
		return TY_ANY;
	if (c->expr_depth >= COMP_MAX_DEPTH) {
		if (!c->too_deep)
			comp_error(c, e->loc, "this nests too deeply once constants and functions are expanded: more "
					      "than %d levels", COMP_MAX_DEPTH);
		c->too_deep = 1;
		return TY_ANY;
	}
	c->expr_depth++;
	enum ty t = comp_node(c, e);
	c->expr_depth--;
	return t;
}

static enum ty comp_node(struct comp *c, struct ast *e)
{
	switch (e->kind) {
	case A_NULL:
		comp_op(c, OPC_NUL, 0, e->loc);
		return TY_NULL;
	case A_BOOL:
		comp_op(c, OPC_CONST, comp_konst(c, val_bool((int)e->v.i)), e->loc);
		return TY_BOOL;
	case A_INT:
		comp_op(c, OPC_CONST, comp_konst(c, val_int(e->v.i)), e->loc);
		return TY_INT;
	case A_FLOAT:
		comp_op(c, OPC_CONST, comp_konst(c, val_float(e->v.f)), e->loc);
		return TY_FLOAT;
	case A_STR:
		comp_op(c, OPC_CONST, comp_konst(c, val_str(e->s, e->len)), e->loc);
		return TY_STR;
	case A_TIME:
		comp_op(c, OPC_CONST, comp_konst(c, val_time(e->v.i)), e->loc);
		return TY_TIME;
	case A_DUR:
		comp_op(c, OPC_CONST, comp_konst(c, val_dur(e->v.i)), e->loc);
		return TY_DUR;
	case A_INTERP:
		for (int i = 0; i < e->nkids; i++)
			comp_expr(c, e->kids[i]);
		comp_op(c, OPC_CONCAT, (uint32_t)e->nkids, e->loc);
		return TY_STR;
	case A_LIST:
		for (int i = 0; i < e->nkids; i++)
			comp_expr(c, e->kids[i]);
		comp_op(c, OPC_LIST, (uint32_t)e->nkids, e->loc);
		return TY_LIST;
	case A_NAME: {
		struct local *l = comp_scope_find(c, e->s, e->len);
		if (l) {
			l->used = 1;
			comp_op(c, OPC_LOCAL, (uint32_t)l->slot, e->loc);
			return l->type;
		}
		struct named_const *k = comp_const_find(c, e->s, e->len);
		if (k) {
			k->used = 1;
			comp_op(c, OPC_CONST, comp_konst(c, k->value), e->loc);
			return k->type;
		}
		if (binding_find(c, e->s, e->len) >= 0) {
			comp_error(c, e->loc, "'%.*s' is the whole event; name one of its fields, such as %.*s.time",
			      (int)e->len, e->s, (int)e->len, e->s);
			return TY_ANY;
		}
		if (comp_fn_find(c, e->s, e->len) || comp_builtin_find(e->s, e->len) >= 0) {
			comp_error(c, e->loc, "'%.*s' is a function; call it with ()", (int)e->len, e->s);
			return TY_ANY;
		}
		unknown_name(c, e);
		return TY_ANY;
	}
	case A_FIELD:
		return comp_field(c, e);
	case A_CUSTVAR:
		if (c->in_const) {
			comp_error(c, e->loc, "a constant cannot read customer state");
			return TY_ANY;
		}
		if (e->len == 4 && memcmp(e->s, "tags", 4) == 0) {
			comp_op(c, OPC_TAGS, 0, e->loc);
			return TY_LIST;
		}
		comp_op(c, OPC_VAR, (uint32_t)comp_var(c, e->s, e->len, e->loc, 0), e->loc);
		return TY_ANY;
	case A_CUSTOMER:
		if (c->in_const) {
			comp_error(c, e->loc, "a constant cannot read the customer");
			return TY_ANY;
		}
		comp_op(c, OPC_EVKEY, 0, e->loc);
		return TY_STR;
	case A_EVENT:
		comp_error(c, e->loc, "'event' is the whole event; name one of its fields, such as event.time");
		return TY_ANY;
	case A_ANY:
		comp_error(c, e->loc, "'any' stands for every event of the customer in a history function: first(any), "
				      "last(any).f, count(any within D), count(distinct any.f within D)");
		return TY_ANY;
	case A_CALL:
		return comp_call(c, e);
	case A_MATCH:
		return comp_match(c, e);
	case A_HISTORY:
		return comp_history(c, e, NULL);
	case A_INDEX: {
		enum ty a = comp_expr(c, e->a), b = comp_expr(c, e->b);
		if (a != TY_ANY && a != TY_NULL && a != TY_LIST)
			comp_error(c, e->loc, "type error: [ ] takes an item of a list, not of %s%s", ty_name[a],
				   e->a->kind == A_NAME || e->a->kind == A_FIELD ? " (a field with a name that is not a word is "
										 "x[\"name\"])" : "");
		else if (b != TY_ANY && b != TY_NULL && b != TY_INT)
			comp_error(c, e->b->loc, "type error: a list index is a whole number, not %s", ty_name[b]);
		comp_op(c, OPC_INDEX, 0, e->loc);
		return TY_ANY;
	}
	case A_UNOP: {
		enum ty t = comp_expr(c, e->a);
		if (e->op == OP_NOT) {
			comp_op(c, OPC_NOT, 0, e->loc);
			return TY_BOOL;
		}
		if (t != TY_ANY && t != TY_NULL && !ty_is_num(t) && t != TY_DUR)
			comp_error(c, e->loc, "type error: cannot negate %s", ty_name[t]);
		comp_op(c, OPC_NEG, 0, e->loc);
		return t;
	}
	case A_BINOP:
		return comp_binop_chain(c, e);
	}
	return TY_ANY;
}

/* ---- guards, as `cxr explain` tells them ---- */

enum ty comp_condition(struct comp *c, struct ast *x)
{
	c->marking = 1;
	c->nmarks = 0;
	enum ty t = comp_expr(c, x);
	c->marking = 0;
	return t;
}

static int is_logic(const struct ast *x) { return x->kind == A_BINOP && (x->op == OP_AND || x->op == OP_OR); }
static int is_comparison(const struct ast *x) { return x->kind == A_BINOP && x->op >= OP_EQ && x->op <= OP_GE; }

/* The parts of x in source order: the operands of its `and`s and `or`s
 * that are neither (without recursion: a chain of a thousand `and`s is one
 * guard).  The marks were made in the order the code was emitted, which is
 * the parts' order, with those of inner `and`s (in a function called,
 * say) between them: one pass over both finds each part's test. */
static void guard_parts(struct comp *c, struct ast *x, uint32_t end, struct guard_info *g)
{
	struct ast **todo = NULL, **parts = NULL;
	size_t ntodo = 0, nparts = 0;
	todo = mem_grow(todo, ntodo, sizeof *todo);
	todo[ntodo++] = x;
	while (ntodo) {
		struct ast *n = todo[--ntodo];
		if (is_logic(n)) {
			todo = mem_grow(todo, ntodo, sizeof *todo);
			todo[ntodo++] = n->b;
			todo = mem_grow(todo, ntodo, sizeof *todo);
			todo[ntodo++] = n->a;
		} else {
			parts = mem_grow(parts, nparts, sizeof *parts);
			parts[nparts++] = n;
		}
	}
	g->parts = arena_zalloc(&c->p->arena, sizeof *g->parts * nparts);
	g->nparts = (int)nparts;
	size_t m = 0;
	for (size_t i = 0; i < nparts; i++) {
		struct ast *n = parts[i];
		struct guard_part *gp = &g->parts[i];
		gp->test_pc = NO_CODE;
		if (n != x) {
			size_t k = m;
			while (k < c->nmarks && c->marks[k].node != n)
				k++;
			if (k < c->nmarks) {
				gp->test_pc = c->marks[k].pc;
				m = k + 1;
			}
		}
		/* A comparison's instruction ends its code, which ends where
		 * its test (or the whole condition) begins. */
		uint32_t after = n == x ? end : gp->test_pc;
		gp->cmp_pc = is_comparison(n) && after != NO_CODE && after > 0 ? after - 1 : NO_CODE;
		gp->op = is_comparison(n) ? n->op : 0;
		gp->expr = n->loc;
		gp->left = n->a ? n->a->loc : n->loc;
		gp->right = n->b ? n->b->loc : n->loc;
	}
	mem_free(todo);
	mem_free(parts);
}

int comp_guard_info(struct comp *c, int rule, struct ast *x, uint32_t end, int unless)
{
	struct prog *p = c->p;
	p->guards = mem_grow(p->guards, (size_t)p->nguards, sizeof *p->guards);
	struct guard_info *g = &p->guards[p->nguards];
	*g = (struct guard_info){rule, x->loc, unless, NULL, 0};
	if (!c->too_large && !c->too_deep) /* else parts have no code: the program never runs */
		guard_parts(c, x, end, g);
	return p->nguards++;
}
