/* ast.h: the syntax tree of a cxr script.
 *
 * The parser builds it with one constructor call per grammar action; the
 * checker and code generator (compile.c) walk it.  Every node lives in the
 * program's arena and carries a source location.
 */
#ifndef CXR_AST_H
#define CXR_AST_H

#include <stdint.h>

#include "base/diag.h"
#include "base/mem.h"

enum ast_kind {
	A_NULL,
	A_BOOL,     /* i */
	A_INT,      /* i */
	A_FLOAT,    /* f */
	A_STR,      /* s, len */
	A_INTERP,   /* kids: parts, strings and expressions, concatenated */
	A_TIME,     /* i: ns */
	A_DUR,      /* i: ns */
	A_LIST,     /* kids */
	A_NAME,     /* s: a let, const, binding, fn parameter */
	A_FIELD,    /* a.s: field s of a (a may be a binding, `event` or a field) */
	A_CUSTVAR,  /* customer.s */
	A_CUSTOMER, /* the current customer key */
	A_EVENT,    /* the current event */
	A_CALL,     /* s(kids) */
	A_UNOP,     /* op a */
	A_BINOP,    /* a op b */
	A_MATCH,    /* a =~ /s/flags (op is '~' or '!') */
	A_HISTORY,  /* s(a [kids[0]] within b): count(E within D), sum(E.f within D); op 1: distinct */
	A_FILTER,   /* `[as s] where a` of a history function */
	A_INDEX,    /* a[b]: an item of a list */
	A_ANY,      /* `any`, every event of the customer: in history functions */
};

/* Operators of A_UNOP and A_BINOP. */
enum ast_op {
	OP_NONE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG, OP_NOT,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_AND, OP_OR, OP_COALESCE, OP_IN, OP_HAS,
};

/* How deep an expression may nest (brackets, calls, operands on the right
 * of an operator, strings inside {}): the compiler walks the tree
 * recursively, and a script must not be able to exhaust its stack.  The
 * left operand of a binary operator does not count, because chains such as
 * a + b + c ... (left-deep trees) are compiled with a loop. */
#define AST_MAX_NESTING 256

struct ast {
	uint8_t kind;        /* enum ast_kind */
	uint8_t op;          /* enum ast_op */
	uint16_t nest;       /* nesting depth as AST_MAX_NESTING counts it */
	struct loc loc;
	struct ast *a, *b;   /* operands */
	struct ast *next;    /* chains list items and arguments while parsing */
	struct ast **kids;   /* list items, call arguments, interpolation parts */
	int nkids;
	const char *s;       /* name, string value or regex source */
	uint32_t len;
	const char *flags;   /* regex flags */
	union {
		int64_t i;
		double f;
		struct loc name; /* A_FIELD: where the field's name is written (x.name, x["name"]) */
	} v;
};

/* A name with its location: rule names, event types, bindings. */
struct ast_name {
	const char *s;
	uint32_t len;
	struct loc loc;
};

enum clause_kind {
	C_WHEN,    /* expr */
	C_UNLESS,  /* expr */
	C_LET,     /* name = expr */
	C_EMIT,    /* name { fields } */
	C_SET,     /* customer.name = expr */
	C_TAG,     /* expr */
	C_UNTAG,   /* expr */
	C_MOVE,    /* move name to name2 */
	C_OBSERVE, /* observe name expr [by expr2] */
	C_SPEND,   /* spend name */
};

struct ast_field_init {
	struct ast_name name;
	struct ast *value;
};

struct ast_clause {
	uint8_t kind; /* enum clause_kind */
	struct loc loc;
	struct ast_name name;          /* let, emit, set, move (journey), observe, spend */
	struct ast_name name2;         /* move: the stage */
	struct ast *expr;              /* when, unless, let, set, tag, untag, observe */
	struct ast *expr2;             /* observe: the `by` key */
	struct ast_field_init *fields; /* emit */
	int nfields;
	struct ast_clause *next;
};

enum trigger_kind {
	T_EVENTS,   /* on A | B ... [then ...] */
	T_ANY,      /* on any */
	T_REPEAT,   /* on N E within D */
	T_ENTER,    /* on enter J.S */
	T_EXIT,     /* on exit J.S */
	T_STUCK,    /* on stuck J.S for D */
	T_BREACH,   /* on breach SLA */
};

/* One step of a trigger: `on A as a`, then `then [no] B as b where c within D`. */
struct ast_step {
	int negated;              /* then no */
	struct ast_name *types;   /* NULL-terminated */
	int ntypes;
	struct ast_name as;       /* binding name; s == NULL when absent */
	struct ast *where;        /* a condition on the candidate event, or NULL */
	struct ast *within;       /* the time bound after the step before */
	struct loc loc;
};

struct ast_rule {
	struct ast_name name;
	const char *doc;
	struct loc loc;
	uint8_t trigger;          /* enum trigger_kind */
	struct ast_step *steps;   /* steps[0] is the `on` part */
	int nsteps;
	struct ast *repeat_n;     /* T_REPEAT: how many (steps[0].within: the window) */
	struct ast_name journey, stage; /* T_ENTER, T_EXIT, T_STUCK; T_BREACH names the sla in journey */
	struct ast *stuck_for;    /* T_STUCK */
	struct ast_clause *clauses;
	/* modifiers */
	int has_once;
	struct ast *once_key;     /* NULL: once per customer */
	struct loc once_loc;
	int has_limit;
	int64_t limit_n;
	int64_t limit_per;        /* ns */
	struct loc limit_loc;
	int has_priority;
	int64_t priority;
	int has_holdout;
	double holdout;           /* fraction 0..1 */
	const char *salt;         /* holdout P% "salt": another draw of the groups */
	struct ast_rule *next;
};

struct ast_schema_field {
	struct ast_name name;
	struct ast_name type;
};

struct ast_event {
	struct ast_name name;
	struct ast_schema_field *fields;
	int nfields;
	struct ast_event *next;
};

struct ast_const {
	struct ast_name name;
	struct ast *value;
	struct ast_const *next;
	int state;            /* compiling it: 0 not yet, 1 under way, 2 done */
};

struct ast_fn {
	struct ast_name name;
	struct ast_name *params;
	int nparams;
	struct ast *body;
	struct ast_fn *next;
};

struct ast_setting {
	struct ast_name name; /* key, time, type, lateness, late, delimiter, format */
	struct ast *value;
	struct ast_setting *next;
};

/* journey NAME { stage S on E1, E2 ... } */
struct ast_stage {
	struct ast_name name;
	struct ast_name *types;   /* NULL-terminated */
	int ntypes;
};

struct ast_journey {
	struct ast_name name;
	struct ast_stage *stages;
	int nstages;
	struct ast_journey *next;
};

/* metric, sla, goal and budget declarations */
enum decl_kind { D_METRIC, D_SLA, D_GOAL, D_BUDGET };

struct ast_decl {
	uint8_t kind;
	struct ast_name name;
	struct loc loc;
	struct ast_name agg;      /* metric: the aggregate */
	struct ast_name by;       /* metric: the label of the grouping */
	struct ast_step from, to; /* sla: A -> B [where] within D; goal: `to` only */
	struct ast *target;       /* sla: for P% */
	struct ast *by_expr;      /* sla: by expr */
	struct ast *amount, *per; /* budget: N per D */
	struct ast_decl *next;
};

struct ast_import {
	const char *path;
	uint32_t len;
	struct loc loc;
	struct ast_import *next;
};

enum test_step_kind {
	TS_GIVEN,   /* name {fields} [at expr | after expr] */
	TS_ADVANCE, /* expr */
	TS_EXPECT,  /* name {fields} */
	TS_EXPECT_NO,
	TS_EXPECT_STAGE, /* journey.stage */
	TS_EXPECT_EXPR,  /* expr */
};

struct ast_test_step {
	uint8_t kind;
	struct loc loc;
	struct ast_name name, name2;
	struct ast_field_init *fields;
	int nfields;
	struct ast *at, *after, *expr;
	struct ast_test_step *next;
};

struct ast_test {
	const char *name;
	struct loc loc;
	struct ast_test_step *steps;
	struct ast_test *next;
};

/* A parsed script: lists kept in source order. */
struct ast_script {
	struct ast_import *imports, **imports_tail;
	struct ast_setting *settings, **settings_tail;
	struct ast_const *consts, **consts_tail;
	struct ast_event *events, **events_tail;
	struct ast_fn *fns, **fns_tail;
	struct ast_rule *rules, **rules_tail;
	struct ast_test *tests, **tests_tail;
	struct ast_journey *journeys, **journeys_tail;
	struct ast_decl *decls, **decls_tail;
};

#endif
