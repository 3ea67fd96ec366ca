/* comp.h: what the compiler's files share.
 *
 * compile.c handles the top-level forms, rules, imports and the driver
 * (the verifier it runs is vm/bytecode.c's); compile_fn.c the functions
 * (checked where they are defined); compile_decl.c the declarations
 * (journeys, metrics, SLAs, goals, budgets, history); compile_expr.c
 * checks and compiles expressions; guard_index.c indexes the rules by
 * their first comparison once they are final.  All work on a struct
 * comp, which lives only while one script compiles.
 */
#ifndef CXR_COMP_H
#define CXR_COMP_H

#include "front/parse.h"
#include "base/nametab.h"
#include "vm/prog.h"

struct named_const {
	struct ast_name name;
	struct val value;
	enum ty type;
	int used;
	int from_stdlib;
};

struct named_fn {
	struct ast_fn *fn;
	int active; /* being expanded: a call now would recurse */
	int used;
	int from_stdlib;
	int broken; /* its definition was refused (an unknown callee, a cycle): calls are not expanded */
	int visit;  /* for the cycle check: 0 new, 1 on the path, 2 done */
};

struct local {
	struct ast_name name;
	int slot;
	enum ty type;
	int used;
	int is_param;
};

/* An event a rule can read: the one of `on A as a`, `then B as b`... */
struct binding {
	struct ast_name name; /* s == NULL when unnamed */
	int *types;           /* its possible event types, for schemas */
	int ntypes;           /* 0: any type */
	int absent;           /* `then no B as b`: b exists only in its own `where` */
};

struct comp {
	struct prog *p;
	struct diag *d;
	struct ast_script script;
	int *stdlib_files; /* file indexes that are stdlib scripts */
	int nstdlib_files;
	struct bytecode_scratch verify_scratch; /* the verifier's stack depths */
	/* Each concept's names, to its index (nametab.h): a script with many
	 * rules compiles in time proportional to its size. */
	struct nametab rule_names, type_names, slot_names, var_names, column_names;
	struct nametab const_names;  /* compiled constants, into consts */
	struct nametab const_decls;  /* a constant's first declaration, into const_asts */
	struct ast_const **const_asts;
	struct nametab fn_names, metric_names, sla_names, goal_names, budget_names, journey_names;
	struct nametab konst_strings, konst_scalars; /* p->consts, to share one per value */
	struct nametab emit_first; /* an action's first emit (test blocks) */
	int *emit_next;            /* the next emit of the same action, or -1 */
	struct named_const *consts;
	int nconsts;
	struct named_fn *fns;
	int nfns;
	/* the rule being compiled */
	struct ast_rule *rule;
	int rule_index;
	struct binding binds[MAX_BINDS]; /* the events a rule names, one per trigger step */
	int nbinds;    /* bindings visible now (a step's `where` sees those before it) */
	int event_bind; /* what `event` means: the binding of the event that fires, or -1 */
	struct local *scope;
	int nscope, capscope;
	int nlocals;
	int guards;
	int in_const; /* compiling a constant: no event, no customer */
	const char *in_test; /* the test block being compiled: its errors are warnings unless p->testing */
	struct pending_filter {
		struct ast *filter; /* `[as x] where cond` of a history query */
		int query;          /* into p->hqueries */
		int type;           /* the past events' type, or -1 */
		int nbinds;         /* the rule's events visible where the query is */
	} *filters;           /* compiled after the rule's code (comp_history_filters) */
	int nfilters;
	int hidden_scope;     /* compiling a filter: the rule's lets, c->scope[0..hidden_scope), are out of sight */
	int main_file;        /* the diag's index of the script compiled (imports are inside its folder) */
	int test_broken;     /* ... and one was found */
	struct var_use {
		struct loc read; /* the first read */
		int is_read, is_set;
	} *var_uses;  /* per customer variable (p->vars): warns of one read but never set */
	struct buf tmp;
	struct buf key; /* a field path as a key (comp_slot) */
	int expr_depth;  /* comp_expr calls open now, see COMP_MAX_DEPTH */
	int too_deep;    /* ... and the error about it was given */
	int too_large;   /* the code reached CODE_MAX: nothing more is compiled */
	int ndeclared;   /* event types declared with a schema */
	struct tz_cache *tz; /* for checking the time zones a script names */
	/* While a guard compiles, the instruction that tests each operand of
	 * an `and` or `or` (comp_guard_info reads them for `cxr explain`). */
	struct test_mark {
		const struct ast *node;
		uint32_t pc;
	} *marks;
	size_t nmarks;
	int marking;
};

/* How deep comp_expr may recurse: an expression's own nesting is bounded
 * by the parser (AST_MAX_NESTING), but constants and functions expand
 * inside it, and a chain of them must not exhaust the C stack. */
#define COMP_MAX_DEPTH 1000
/* The most instructions a program holds.  Functions are expanded where
 * they are called, so a few lines that call functions calling others
 * twice would otherwise grow without bound. */
#define CODE_MAX (1u << 22)

void comp_error(struct comp *c, struct loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void comp_warning(struct comp *c, struct loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int comp_name_is(const struct ast_name *n, const char *s);
int comp_names_equal(const char *a, size_t na, const char *b, size_t nb);
int comp_is_stdlib_file(struct comp *c, int file);
/* compile_fn.c: register a `fn`; then check every function's calls. */
void comp_fn(struct comp *c, struct ast_fn *fn);
void comp_check_fns(struct comp *c);

/* code */
uint32_t comp_op(struct comp *c, enum opcode op, uint32_t a, struct loc loc);
void comp_patch(struct comp *c, uint32_t at); /* the jump at `at` lands here */
uint32_t comp_konst(struct comp *c, struct val v);

/* names */
int comp_slot(struct comp *c, const struct ast_name *segs, int nseg);
/* A customer variable, read or set at loc. */
int comp_var(struct comp *c, const char *s, size_t n, struct loc loc, int set);
int comp_type_intern(struct comp *c, const char *s, size_t n);
/* An event type the script names, or -1 (while compiling: prog_type_find
 * serves the engine afterwards). */
int comp_type_find(struct comp *c, const char *s, size_t n);
/* An event type the script reads, by name: interned, and the place
 * noted (the logs are checked for it). */
int comp_type_named(struct comp *c, const char *s, size_t n, struct loc loc, enum type_use_kind kind);
/* A field read of an event type (-1: any), noted for the same check. */
void comp_field_use(struct comp *c, int type, int slot, struct loc loc);
struct local *comp_scope_find(struct comp *c, const char *s, size_t n);
struct local *comp_scope_add(struct comp *c, struct ast_name name, enum ty type, int is_param);
struct named_const *comp_const_find(struct comp *c, const char *s, size_t n);
/* Record a compiled constant (found by name from then on). */
void comp_const_add(struct comp *c, struct named_const nc);
/* Compile a constant (once: later calls do nothing). */
void comp_const(struct comp *c, struct ast_const *k);
struct named_fn *comp_fn_find(struct comp *c, const char *s, size_t n);
int comp_builtin_find(const char *s, size_t n);

/* Evaluate an expression now (constants, settings, windows). */
int comp_eval_now(struct comp *c, struct ast *e, struct val *out, enum ty *type);

/* Declarations (compile_decl.c). */
void comp_journeys(struct comp *c);
void comp_decls(struct comp *c);
void comp_stage_trigger(struct comp *c, struct ast_rule *r, struct rule_info *ri);
void comp_decl_dispatch(struct comp *c, int index);
void comp_move(struct comp *c, struct ast_clause *cl);
void comp_observe(struct comp *c, struct ast_clause *cl);
int comp_budget_ref(struct comp *c, const struct ast_name *n);
int comp_is_history_call(struct comp *c, struct ast *e);
void comp_tests(struct comp *c, int file);
enum ty comp_history(struct comp *c, struct ast *e, const struct ast_name *field);
/* The conditions of the rule's history queries, as code after the rule's. */
void comp_history_filters(struct comp *c);

/* Compile an expression; returns its static type. */
enum ty comp_expr(struct comp *c, struct ast *e);
/* Compile a guard's condition (`when`, `unless`, a step's `where`) and
 * describe it for `cxr explain`: its parts (the operands of its `and`s and
 * `or`s) and the instructions that test and compare them.  end is where
 * the condition's code ends (c->p->ncode after comp_condition).  Returns
 * the guard's index in p->guards. */
enum ty comp_condition(struct comp *c, struct ast *x);
int comp_guard_info(struct comp *c, int rule, struct ast *x, uint32_t end, int unless);
static inline int ty_is_num(enum ty t) { return t == TY_INT || t == TY_FLOAT; }

#endif
