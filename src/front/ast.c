/* ast.c: constructors called from the grammar actions (see parse.h).
 *
 * They only build nodes and lists; checks that need the whole script
 * (names, types) are left to compile.c.
 */
#include <string.h>

#include "parse.h"

struct ast *ast_new(struct parse_ctx *c, int kind, struct loc loc)
{
	struct ast *n = arena_zalloc(c->arena, sizeof *n);
	n->kind = (uint8_t)kind;
	n->loc = loc;
	return n;
}

/* Give n its nesting depth, from the deepest of its operands (kids_max,
 * as counted) and the depth it adds; past AST_MAX_NESTING the whole
 * expression becomes one null node, reported once, where it first
 * crosses the limit, so that no later pass walks the deep tree. */
static struct ast *nested(struct parse_ctx *c, struct ast *n, int depth, int kids_max)
{
	if (depth <= AST_MAX_NESTING) {
		n->nest = (uint16_t)depth;
		return n;
	}
	if (kids_max <= AST_MAX_NESTING) {
		diag_report(c->diag, DIAG_ERROR, n->loc,
			    "this expression nests too deeply: more than %d levels of brackets, calls or operands "
			    "(compute parts of it with let first)",
			    AST_MAX_NESTING);
		c->errors++;
	}
	struct ast *poison = ast_new(c, A_NULL, n->loc);
	poison->nest = AST_MAX_NESTING + 1;
	return poison;
}

static int nest_of(const struct ast *n)
{
	return n ? n->nest : 0;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* One level below the deepest of an operand list. */
static struct ast *nested_kids(struct parse_ctx *c, struct ast *n)
{
	int deepest = 0;
	for (int i = 0; i < n->nkids; i++)
		deepest = max_int(deepest, nest_of(n->kids[i]));
	return nested(c, n, deepest + 1, deepest);
}

struct ast *ast_int(struct parse_ctx *c, struct loc loc, int64_t i)
{
	struct ast *n = ast_new(c, A_INT, loc);
	n->v.i = i;
	return n;
}

struct ast *ast_float(struct parse_ctx *c, struct loc loc, double f)
{
	struct ast *n = ast_new(c, A_FLOAT, loc);
	n->v.f = f;
	return n;
}

struct ast *ast_bool(struct parse_ctx *c, struct loc loc, int b)
{
	struct ast *n = ast_new(c, A_BOOL, loc);
	n->v.i = b;
	return n;
}

struct ast *ast_time(struct parse_ctx *c, struct loc loc, int64_t ns)
{
	struct ast *n = ast_new(c, A_TIME, loc);
	n->v.i = ns;
	return n;
}

struct ast *ast_dur(struct parse_ctx *c, struct loc loc, int64_t ns)
{
	struct ast *n = ast_new(c, A_DUR, loc);
	n->v.i = ns;
	return n;
}

static struct ast *str_node(struct parse_ctx *c, struct loc loc, const char *s, uint32_t len)
{
	struct ast *n = ast_new(c, A_STR, loc);
	n->s = s;
	n->len = len;
	return n;
}

/* A string literal: plain text, or an interpolation whose {expr} parts
 * are parsed here by a nested parser positioned at the part's location. */
struct ast *ast_string(struct parse_ctx *c, struct loc loc, struct str_lit lit)
{
	if (lit.nparts == 1 && !lit.parts[0].is_expr)
		return str_node(c, loc, lit.parts[0].s, lit.parts[0].len);
	struct ast *n = ast_new(c, A_INTERP, loc);
	n->kids = arena_alloc(c->arena, sizeof *n->kids * (size_t)lit.nparts);
	for (int i = 0; i < lit.nparts; i++) {
		struct str_part *p = &lit.parts[i];
		struct ast *kid;
		if (!p->is_expr) {
			kid = str_node(c, p->loc, p->s, p->len);
		} else {
			struct parse_ctx sub = *c;
			sub.expr = NULL;
			sub.errors = 0;
			sub.start_line = p->loc.first_line;
			sub.start_col = p->loc.first_column;
			sub.string_depth = c->string_depth + 1;
			if (p->len == 0) {
				diag_report(c->diag, DIAG_ERROR, p->loc, "empty {} in string (write \\{ for a brace)");
				c->errors++;
				kid = str_node(c, p->loc, "", 0);
			} else if (sub.string_depth > PARSE_MAX_STRING_NESTING) {
				diag_report(c->diag, DIAG_ERROR, p->loc,
					    "strings nest too deeply: more than %d strings inside {} here",
					    PARSE_MAX_STRING_NESTING);
				c->errors++;
				/* Once: the strings around this one are cut here. */
				return nested(c, n, AST_MAX_NESTING + 1, AST_MAX_NESTING + 1);
			} else if (parse_expr(&sub, p->s, p->len) || !sub.expr) {
				c->errors += sub.errors ? sub.errors : 1;
				kid = str_node(c, p->loc, "", 0);
			} else {
				kid = sub.expr;
			}
		}
		n->kids[n->nkids++] = kid;
	}
	return nested_kids(c, n);
}

struct ast_name ast_str_to_name(struct parse_ctx *c, struct loc loc, struct str_lit lit)
{
	struct ast_name n = {"", 0, loc};
	if (lit.nparts == 1 && !lit.parts[0].is_expr) {
		n.s = lit.parts[0].s;
		n.len = lit.parts[0].len;
	} else {
		diag_report(c->diag, DIAG_ERROR, loc, "a quoted name cannot hold {expressions}");
		c->errors++;
	}
	return n;
}

struct ast *ast_name(struct parse_ctx *c, struct loc loc, struct ast_name nm)
{
	struct ast *n = ast_new(c, A_NAME, loc);
	n->s = nm.s;
	n->len = nm.len;
	return n;
}

struct ast *ast_custvar(struct parse_ctx *c, struct loc loc, struct ast_name nm)
{
	struct ast *n = ast_new(c, A_CUSTVAR, loc);
	n->s = nm.s;
	n->len = nm.len;
	return n;
}

struct ast *ast_field(struct parse_ctx *c, struct loc loc, struct ast *obj, struct ast_name nm)
{
	if (obj->kind == A_CUSTOMER)
		return ast_custvar(c, loc, nm);
	struct ast *n = ast_new(c, A_FIELD, loc);
	n->a = obj;
	n->s = nm.s;
	n->len = nm.len;
	n->v.name = nm.loc;
	/* A path a.b.c is compiled with a loop: it adds no depth. */
	return nested(c, n, nest_of(obj), nest_of(obj));
}

struct ast *ast_chain(struct ast *list, struct ast *item)
{
	/* Chained newest first; close_chain reverses. */
	item->next = list;
	return item;
}

static void close_chain(struct parse_ctx *c, struct ast *n, struct ast *chain)
{
	int count = 0;
	for (struct ast *p = chain; p; p = p->next)
		count++;
	n->kids = arena_alloc(c->arena, sizeof *n->kids * (size_t)(count ? count : 1));
	n->nkids = count;
	int i = count;
	for (struct ast *p = chain, *next; p; p = next) {
		next = p->next;
		p->next = NULL;
		n->kids[--i] = p;
	}
}

struct ast *ast_list(struct parse_ctx *c, struct loc loc, struct ast *chain)
{
	struct ast *n = ast_new(c, A_LIST, loc);
	close_chain(c, n, chain);
	return nested_kids(c, n);
}

struct ast *ast_call(struct parse_ctx *c, struct loc loc, struct ast_name nm, struct ast *args)
{
	struct ast *n = ast_new(c, A_CALL, loc);
	n->s = nm.s;
	n->len = nm.len;
	close_chain(c, n, args);
	return nested_kids(c, n);
}

struct ast *ast_unop(struct parse_ctx *c, struct loc loc, int op, struct ast *a)
{
	struct ast *n = ast_new(c, A_UNOP, loc);
	n->op = (uint8_t)op;
	n->a = a;
	return nested(c, n, nest_of(a) + 1, nest_of(a));
}

struct ast *ast_binop(struct parse_ctx *c, struct loc loc, int op, struct ast *a, struct ast *b)
{
	struct ast *n = ast_new(c, A_BINOP, loc);
	n->op = (uint8_t)op;
	n->a = a;
	n->b = b;
	return nested(c, n, max_int(nest_of(a), nest_of(b) + 1), max_int(nest_of(a), nest_of(b)));
}

struct ast *ast_match(struct parse_ctx *c, struct loc loc, int negate, struct ast *a, struct str_lit re)
{
	struct ast *n = ast_new(c, A_MATCH, loc);
	n->op = negate ? OP_NOT : OP_NONE;
	n->a = a;
	n->s = re.parts[0].s;
	n->len = re.parts[0].len;
	n->flags = re.nparts > 1 ? re.parts[1].s : "";
	return nested(c, n, nest_of(a) + 1, nest_of(a));
}

/* The parser builds lists one element at a time, and never looks at a
 * list again once it has grown it, so a list grows in place while its
 * capacity (a power of two) lasts: n appends cost O(n), not O(n^2).  The
 * list is a zero-terminated array; the header before it holds the count. */
struct list_head {
	size_t count, cap;
};

/* Room for one more element in list (elements of size elem); *index is
 * where it goes.  The slot after it stays zero: the terminator. */
static void *list_push(struct parse_ctx *c, void *list, size_t elem, size_t *index)
{
	struct list_head *h = list ? (struct list_head *)list - 1 : NULL;
	size_t count = h ? h->count : 0;
	if (!h || count + 2 > h->cap) {
		size_t cap = h ? h->cap * 2 : 4;
		struct list_head *grown = arena_zalloc(c->arena, sizeof *grown + elem * cap);
		if (count)
			memcpy(grown + 1, list, elem * count);
		grown->cap = cap;
		h = grown;
	}
	h->count = count + 1;
	*index = count;
	return h + 1;
}

struct ast_name *ast_name_chain(struct parse_ctx *c, struct ast_name *list, struct ast_name n)
{
	size_t i;
	struct ast_name *out = list_push(c, list, sizeof *out, &i);
	out[i] = n;
	return out;
}

static int names_count(const struct ast_name *list)
{
	int count = 0;
	while (list && list[count].s)
		count++;
	return count;
}

struct ast_rule *ast_rule_new(struct parse_ctx *c, struct loc loc, struct ast_name name)
{
	struct ast_rule *r = arena_zalloc(c->arena, sizeof *r);
	r->name = name;
	r->loc = loc;
	c->open_kind = "rule";
	c->open_name = name;
	c->open_loc = loc;
	return r;
}

void ast_rule_doc(struct parse_ctx *c, struct ast_rule *r, struct str_lit doc)
{
	struct ast_name n = ast_str_to_name(c, r->loc, doc);
	r->doc = n.s;
}

static struct ast_step *rule_add_step(struct parse_ctx *c, struct ast_rule *r)
{
	struct ast_step *steps = arena_zalloc(c->arena, sizeof *steps * (size_t)(r->nsteps + 1));
	if (r->nsteps)
		memcpy(steps, r->steps, sizeof *steps * (size_t)r->nsteps);
	r->steps = steps;
	return &r->steps[r->nsteps++];
}

void ast_rule_on_types(struct parse_ctx *c, struct ast_rule *r, struct ast_name *types, struct ast_name as)
{
	r->trigger = T_EVENTS;
	struct ast_step *st = rule_add_step(c, r);
	st->types = types;
	st->ntypes = names_count(types);
	st->as = as;
	st->loc = types[0].loc;
}

void ast_rule_on_any(struct parse_ctx *c, struct ast_rule *r, struct ast_name as)
{
	r->trigger = T_ANY;
	struct ast_step *st = rule_add_step(c, r);
	st->as = as;
	st->loc = r->loc;
}

void ast_rule_on_repeat(struct parse_ctx *c, struct ast_rule *r, struct ast *n, struct ast_name *types, struct ast_name as,
		    struct ast *within)
{
	ast_rule_on_types(c, r, types, as);
	r->trigger = T_REPEAT;
	r->repeat_n = n;
	r->steps[0].within = within;
}

void ast_rule_on_stage(struct parse_ctx *c, struct ast_rule *r, int kind, struct ast_name journey, struct ast_name stage,
		   struct ast *stuck_for)
{
	struct ast_step *st = rule_add_step(c, r);
	st->loc = journey.loc;
	r->trigger = (uint8_t)kind;
	r->journey = journey;
	r->stage = stage;
	r->stuck_for = stuck_for;
}

void ast_rule_then(struct parse_ctx *c, struct ast_rule *r, struct loc loc, int negated, struct ast_name *types,
	       struct ast_name as, struct ast *where, struct ast *within)
{
	if (r->clauses) {
		diag_report(c->diag, DIAG_ERROR, loc, "'then' continues the trigger: it comes before the guards and responses");
		c->errors++;
	} else if (r->trigger != T_EVENTS) {
		diag_report(c->diag, DIAG_ERROR, loc, "'then' follows a trigger on named events (on A as a then B ...)");
		c->errors++;
	} else if (r->nsteps && r->steps[r->nsteps - 1].negated) {
		diag_report(c->diag, DIAG_ERROR, loc, "nothing can follow a 'then no' step: an absence ends the pattern");
		c->errors++;
	}
	struct ast_step *st = rule_add_step(c, r);
	st->negated = negated;
	st->types = types;
	st->ntypes = names_count(types);
	st->as = as;
	st->where = where;
	st->within = within;
	st->loc = loc;
}

struct ast_clause *ast_clause_new(struct parse_ctx *c, struct loc loc, int kind, struct ast_name name, struct ast *e)
{
	struct ast_clause *cl = arena_zalloc(c->arena, sizeof *cl);
	cl->kind = (uint8_t)kind;
	cl->loc = loc;
	cl->name = name;
	cl->expr = e;
	return cl;
}

struct ast_field_init *ast_field_chain(struct parse_ctx *c, struct ast_field_init *list, struct ast_name n, struct ast *value)
{
	size_t i;
	struct ast_field_init *out = list_push(c, list, sizeof *out, &i);
	out[i].name = n;
	out[i].value = value;
	return out;
}

struct ast_clause *ast_clause_emit(struct parse_ctx *c, struct loc loc, struct ast_name name, struct ast_field_init *fields)
{
	struct ast_clause *cl = ast_clause_new(c, loc, C_EMIT, name, NULL);
	cl->fields = fields;
	while (fields && fields[cl->nfields].name.s)
		cl->nfields++;
	return cl;
}

void ast_rule_clause(struct parse_ctx *c, struct ast_rule *r, struct ast_clause *cl)
{
	(void)c;
	struct ast_clause **p = &r->clauses;
	while (*p)
		p = &(*p)->next;
	*p = cl;
}

static void modifier_twice(struct parse_ctx *c, struct loc loc, const char *what)
{
	diag_report(c->diag, DIAG_ERROR, loc, "'%s' is given twice in this rule", what);
	c->errors++;
}

void ast_rule_once(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *key)
{
	if (r->has_once)
		modifier_twice(c, loc, "once");
	r->has_once = 1;
	r->once_key = key;
	r->once_loc = loc;
}

/* Modifiers take constant numbers; anything else is reported here, with
 * the location of the offending expression. */
static int const_int(struct parse_ctx *c, struct ast *e, const char *what, int64_t *out)
{
	if (e->kind == A_INT) {
		*out = e->v.i;
		return 0;
	}
	diag_report(c->diag, DIAG_ERROR, e->loc, "%s must be a whole number written in the rule", what);
	c->errors++;
	return -1;
}

void ast_rule_limit(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *n, struct ast *per)
{
	if (r->has_limit)
		modifier_twice(c, loc, "limit");
	r->has_limit = 1;
	r->limit_loc = loc;
	if (const_int(c, n, "the limit", &r->limit_n) < 0)
		r->limit_n = -1; /* reported; no second message about it */
	if (per->kind == A_DUR && per->v.i > 0) {
		r->limit_per = per->v.i;
	} else {
		diag_report(c->diag, DIAG_ERROR, per->loc, "the limit's window must be a positive duration such as 7d");
		c->errors++;
	}
}

void ast_rule_priority(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *n)
{
	if (r->has_priority)
		modifier_twice(c, loc, "priority");
	r->has_priority = 1;
	if (n->kind == A_UNOP && n->op == OP_NEG && n->a->kind == A_INT) {
		r->priority = -n->a->v.i;
		return;
	}
	const_int(c, n, "the priority", &r->priority);
}

void ast_rule_holdout(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *pct)
{
	if (r->has_holdout)
		modifier_twice(c, loc, "holdout");
	r->has_holdout = 1;
	if (pct->kind == A_FLOAT && pct->v.f >= 0 && pct->v.f <= 1) {
		r->holdout = pct->v.f;
	} else {
		diag_report(c->diag, DIAG_ERROR, pct->loc, "holdout takes a percentage from 0%% to 100%%, such as 10%%");
		c->errors++;
	}
}

#define APPEND(list, item)                                                    \
	do {                                                                  \
		struct ast_script *s_ = c->script;                            \
		if (!s_->list##_tail)                                         \
			s_->list##_tail = &s_->list;                          \
		*s_->list##_tail = (item);                                    \
		s_->list##_tail = &(item)->next;                              \
	} while (0)

void ast_script_rule(struct parse_ctx *c, struct ast_rule *r)
{
	c->open_kind = NULL;
	APPEND(rules, r);
}

void ast_script_import(struct parse_ctx *c, struct loc loc, struct str_lit path)
{
	struct ast_name n = ast_str_to_name(c, loc, path);
	struct ast_import *im = arena_zalloc(c->arena, sizeof *im);
	im->path = n.s;
	im->len = n.len;
	im->loc = loc;
	APPEND(imports, im);
}

void ast_script_setting(struct parse_ctx *c, struct ast_name name, struct ast *value)
{
	struct ast_setting *st = arena_zalloc(c->arena, sizeof *st);
	st->name = name;
	st->value = value;
	APPEND(settings, st);
}

void ast_script_const(struct parse_ctx *c, struct ast_name name, struct ast *value)
{
	struct ast_const *k = arena_zalloc(c->arena, sizeof *k);
	k->name = name;
	k->value = value;
	APPEND(consts, k);
}

struct ast_event *ast_event_new(struct parse_ctx *c, struct ast_name name)
{
	struct ast_event *e = arena_zalloc(c->arena, sizeof *e);
	e->name = name;
	return e;
}

void ast_event_field(struct parse_ctx *c, struct ast_event *e, struct ast_name field, struct ast_name type)
{
	/* Grow by doubling at 4, 8, 16...: a long schema costs O(n). */
	int n = e->nfields;
	if (n == 0 || (n >= 4 && !(n & (n - 1)))) {
		struct ast_schema_field *grown = arena_alloc(c->arena, sizeof *grown * (size_t)(n ? 2 * n : 4));
		if (n)
			memcpy(grown, e->fields, sizeof *grown * (size_t)n);
		e->fields = grown;
	}
	struct ast_schema_field *f = e->fields;
	f[e->nfields].name = field;
	f[e->nfields].type = type;
	e->nfields++;
}

void ast_script_event(struct parse_ctx *c, struct ast_event *e) { APPEND(events, e); }

void ast_script_fn(struct parse_ctx *c, struct ast_name name, struct ast_name *params, struct ast *body)
{
	struct ast_fn *f = arena_zalloc(c->arena, sizeof *f);
	f->name = name;
	f->params = params;
	f->nparams = names_count(params);
	f->body = body;
	APPEND(fns, f);
}

struct ast_test *ast_test_new(struct parse_ctx *c, struct loc loc, struct str_lit name)
{
	struct ast_test *t = arena_zalloc(c->arena, sizeof *t);
	struct ast_name n = ast_str_to_name(c, loc, name);
	t->name = n.s;
	t->loc = loc;
	c->open_kind = "test";
	c->open_name = n;
	c->open_loc = loc;
	return t;
}

struct ast_test_step *ast_step_new(struct parse_ctx *c, struct loc loc, int kind)
{
	struct ast_test_step *s = arena_zalloc(c->arena, sizeof *s);
	s->kind = (uint8_t)kind;
	s->loc = loc;
	return s;
}

void ast_test_step(struct parse_ctx *c, struct ast_test *t, struct ast_test_step *s)
{
	(void)c;
	struct ast_test_step **p = &t->steps;
	while (*p)
		p = &(*p)->next;
	*p = s;
	for (struct ast_field_init *f = s->fields; f && f->name.s; f++)
		s->nfields++;
}

void ast_script_test(struct parse_ctx *c, struct ast_test *t)
{
	c->open_kind = NULL;
	APPEND(tests, t);
}

struct ast_journey *ast_journey_new(struct parse_ctx *c, struct ast_name name)
{
	struct ast_journey *j = arena_zalloc(c->arena, sizeof *j);
	j->name = name;
	return j;
}

void ast_journey_stage(struct parse_ctx *c, struct ast_journey *j, struct ast_name name, struct ast_name *types)
{
	struct ast_stage *st = arena_zalloc(c->arena, sizeof *st * (size_t)(j->nstages + 1));
	if (j->nstages)
		memcpy(st, j->stages, sizeof *st * (size_t)j->nstages);
	st[j->nstages].name = name;
	st[j->nstages].types = types;
	st[j->nstages].ntypes = names_count(types);
	j->stages = st;
	j->nstages++;
}

void ast_script_journey(struct parse_ctx *c, struct ast_journey *j) { APPEND(journeys, j); }

struct ast_decl *ast_decl_new(struct parse_ctx *c, struct loc loc, int kind, struct ast_name name)
{
	struct ast_decl *d = arena_zalloc(c->arena, sizeof *d);
	d->kind = (uint8_t)kind;
	d->loc = loc;
	d->name = name;
	return d;
}

struct ast_step ast_decl_step(struct parse_ctx *c, struct ast_name *types, struct ast_name as, struct ast *where,
			  struct ast *within)
{
	(void)c;
	struct ast_step st = {0};
	st.types = types;
	st.ntypes = names_count(types);
	st.as = as;
	st.where = where;
	st.within = within;
	st.loc = types[0].loc;
	return st;
}

void ast_script_decl(struct parse_ctx *c, struct ast_decl *d) { APPEND(decls, d); }

/* x["name"]: always a data field, even when the name is time, type or
 * customer, which x.name reserves for the event's own properties. */
struct ast *ast_quoted_field(struct parse_ctx *c, struct loc loc, struct ast *obj, struct ast_name nm)
{
	struct ast *n = ast_field(c, loc, obj, nm);
	n->flags = "quoted";
	return n;
}

struct ast *ast_subscript(struct parse_ctx *c, struct loc loc, struct ast *obj, struct ast *sub)
{
	if (sub->kind == A_STR)
		return ast_quoted_field(c, loc, obj, (struct ast_name){sub->s, sub->len, sub->loc});
	struct ast *n = ast_new(c, A_INDEX, loc);
	n->a = obj;
	n->b = sub;
	int deepest = max_int(nest_of(obj), nest_of(sub));
	return nested(c, n, deepest + 1, deepest);
}

/* Bison's names for tokens, as a user reads them: keywords and
 * punctuation in quotes ('emit', '{'), classes as words ("a name" when
 * article is set, else "name"). */
void parse_token_name(struct buf *out, const char *name, int article)
{
	static const struct {
		const char *bison, *user;
	} classes[] = {
		{"integer", "a number"}, {"number", "a number"}, {"duration", "a duration"},
		{"time", "a time"}, {"percentage", "a percentage"}, {"string", "a string"},
		{"regex", "a regex"}, {"name", "a name"},
	};
	size_t n = strlen(name);
	if (n >= 2 && name[0] == '"') {
		name++;
		n -= 2;
	}
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
		if (strlen(classes[i].bison) == n && memcmp(name, classes[i].bison, n) == 0) {
			buf_adds(out, classes[i].user + (article ? 0 : 2));
			return;
		}
	}
	if (name[0] == '\'')
		buf_add(out, name, n);
	else
		buf_printf(out, "'%.*s'", (int)n, name);
}

struct ast_name keyword_name(struct parse_ctx *c, struct loc loc, const char *word)
{
	(void)c;
	struct ast_name n = {word, (uint32_t)strlen(word), loc};
	return n;
}

struct ast *ast_history(struct parse_ctx *c, struct loc loc, struct ast_name fn, struct ast *what, struct ast *filter,
			int distinct, struct ast *window)
{
	struct ast *n = ast_new(c, A_HISTORY, loc);
	n->s = fn.s;
	n->len = fn.len;
	n->a = what;
	n->b = window;
	n->op = (uint8_t)distinct;
	if (filter) {
		n->kids = arena_alloc(c->arena, sizeof *n->kids);
		n->kids[0] = filter;
		n->nkids = 1;
	}
	int deepest = max_int(max_int(nest_of(what), nest_of(window)), nest_of(filter));
	return nested(c, n, deepest + 1, deepest);
}

struct ast *ast_filter(struct parse_ctx *c, struct loc loc, struct ast_name as, struct ast *cond)
{
	struct ast *n = ast_new(c, A_FILTER, loc);
	n->s = as.s;
	n->len = as.len;
	n->a = cond;
	return nested(c, n, nest_of(cond) + 1, nest_of(cond));
}

void ast_rule_salt(struct parse_ctx *c, struct ast_rule *r, struct str_lit salt)
{
	r->salt = ast_str_to_name(c, r->loc, salt).s;
}
