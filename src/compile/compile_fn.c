/* compile_fn.c: `fn` definitions, registered and checked where they are
 * defined: each call in a body names a built-in or a function, and none
 * leads back to itself (a call expands the body inline, so a cycle could
 * never end).  A refused function is marked broken: its calls are not
 * expanded, and its error is said once, here.
 */
#include <string.h>

#include "comp.h"

void comp_fn(struct comp *c, struct ast_fn *fn)
{
	if (comp_fn_find(c, fn->name.s, fn->name.len)) {
		comp_error(c, fn->name.loc, "function '%.*s' is defined twice", (int)fn->name.len, fn->name.s);
		return;
	}
	if (comp_builtin_find(fn->name.s, fn->name.len) >= 0) {
		comp_error(c, fn->name.loc, "'%.*s' is a built-in function; choose another name", (int)fn->name.len,
		      fn->name.s);
		return;
	}
	for (int i = 0; i < fn->nparams; i++)
		for (int k = 0; k < i; k++)
			if (comp_names_equal(fn->params[i].s, fn->params[i].len, fn->params[k].s, fn->params[k].len))
				comp_error(c, fn->params[i].loc, "parameter '%.*s' is named twice", (int)fn->params[i].len,
				      fn->params[i].s);
	nametab_put(&c->fn_names, fn->name.s, fn->name.len, c->nfns);
	c->fns = mem_grow(c->fns, (size_t)c->nfns, sizeof *c->fns);
	c->fns[c->nfns].fn = fn;
	c->fns[c->nfns].active = 0;
	c->fns[c->nfns].used = 0;
	c->fns[c->nfns].broken = 0;
	c->fns[c->nfns].visit = 0;
	c->fns[c->nfns].from_stdlib = comp_is_stdlib_file(c, fn->name.loc.file);
	c->nfns++;
}

static void check_fn(struct comp *c, struct named_fn *f);

static int is_history_name(const struct ast *e)
{
	static const char *const names[] = {"count", "sum", "last", "first", "since", "distinct"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == e->len && !memcmp(names[i], e->s, e->len))
			return 1;
	return 0;
}

/* Every call in fn's body names a built-in or a function; the calls to
 * functions are followed depth first, so that one that leads back to a
 * function on the path is a cycle, said once, at the call that closes it. */
static void check_calls(struct comp *c, struct named_fn *from, const struct ast *e)
{
	if (!e)
		return;
	if (e->kind == A_CALL && !is_history_name(e) && comp_builtin_find(e->s, e->len) < 0) {
		struct named_fn *to = comp_fn_find(c, e->s, e->len);
		if (!to) {
			struct suggest sg;
			suggest_init(&sg, e->s, e->len);
			for (int i = 0; i < nbuiltins; i++)
				suggest_try(&sg, builtins[i].name, strlen(builtins[i].name));
			for (int i = 0; i < c->nfns; i++)
				if (&c->fns[i] != from) /* itself would recurse */
					suggest_try(&sg, c->fns[i].fn->name.s, c->fns[i].fn->name.len);
			comp_error(c, e->loc, "unknown function '%.*s' in %.*s()%s", (int)e->len, e->s,
				   (int)from->fn->name.len, from->fn->name.s, suggest_hint(&sg, &c->tmp));
			from->broken = 1;
		} else if (to->visit == 1) {
			if (to == from)
				comp_error(c, e->loc, "%.*s() calls itself; functions cannot recurse", (int)e->len, e->s);
			else
				comp_error(c, e->loc, "%.*s() calls %.*s(), which leads back here; functions cannot recurse",
					   (int)from->fn->name.len, from->fn->name.s, (int)e->len, e->s);
			from->broken = to->broken = 1;
		} else if (to->visit == 0) {
			check_fn(c, to);
			from->broken |= to->broken;
		} else {
			from->broken |= to->broken;
		}
	}
	check_calls(c, from, e->a);
	check_calls(c, from, e->b);
	for (int i = 0; i < e->nkids; i++)
		check_calls(c, from, e->kids[i]);
}

static void check_fn(struct comp *c, struct named_fn *f)
{
	f->visit = 1;
	check_calls(c, f, f->fn->body);
	f->visit = 2;
}

void comp_check_fns(struct comp *c)
{
	for (int k = 0; k < c->nfns; k++)
		if (!c->fns[k].visit)
			check_fn(c, &c->fns[k]);
}
