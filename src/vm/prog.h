/* prog.h: a compiled script, as the VM runs it.
 *
 * The compiler (compile.c) fills a prog from the AST; after that the prog
 * is read-only, so that one prog can serve several engines (threads, the
 * REPL's replays).  Runtime state lives in struct engine (engine.h).
 */
#ifndef CXR_PROG_H
#define CXR_PROG_H

#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "front/ast.h"
#include "base/diag.h"
#include "base/mem.h"
#include "base/value.h"

enum opcode {
#define OP(name, operand, pops, pushes, effect) OPC_##name,
#include "opcodes.h"
#undef OP
	OPC__COUNT
};

/* What an instruction's operand names (the operand column of opcodes.h). */
enum operand_kind {
	OPND_NONE, OPND_CONST, OPND_LOCAL, OPND_FIELD, OPND_BIND, OPND_VAR, OPND_JUMP, OPND_CALL, OPND_COUNT,
	OPND_GUARD, OPND_METRIC, OPND_BUDGET, OPND_REGEX, OPND_EMIT, OPND_TYPE, OPND_STAGE, OPND_QUERY
};

struct op_info {
	const char *name;
	enum operand_kind operand;
	int pops, pushes; /* -1: given by the operand */
	const char *effect;
};
extern const struct op_info op_info[OPC__COUNT]; /* bytecode.c */

/* An instruction is one word: the opcode in the low 8 bits, the operand
 * in the high 24. */
#define INSN(op, a) ((uint32_t)(op) | ((uint32_t)(a) << 8))
#define INSN_OP(w) ((w) & 0xFF)
#define INSN_A(w) ((w) >> 8)
#define OPERAND_MAX 0xFFFFFF
/* FIELD packs the binding (which of the rule's events) and the slot. */
#define FIELD_OPERAND(bind, slot) (((uint32_t)(bind) << 20) | (uint32_t)(slot))
#define FIELD_BIND(a) ((a) >> 20)
#define FIELD_SLOT(a) ((a) & 0xFFFFF)
#define MAX_BINDS 16
/* CALL packs the builtin and its argument count. */
#define CALL_OPERAND(id, argc) (((uint32_t)(id) << 8) | (uint32_t)(argc))
#define CALL_BUILTIN(a) ((a) >> 8)
#define CALL_ARGC(a) ((a) & 0xFF)
/* MOVE packs the journey and the stage: 12 bits of stage. */
#define STAGE_OPERAND(journey, stage) (((uint32_t)(journey) << 12) | (uint32_t)(stage))
#define STAGE_JOURNEY(a) ((a) >> 12)
#define STAGE_STAGE(a) ((a) & 4095)
#define MAX_STAGES 4095

/* Static types: what the compiler knows of a value. */
enum ty { TY_ANY, TY_NULL, TY_BOOL, TY_INT, TY_FLOAT, TY_STR, TY_TIME, TY_DUR, TY_LIST };
extern const char *const ty_name[]; /* bytecode.c */

/* A field read from events: key path segments, e.g. a.b or "org:resource". */
struct slot {
	const char **segs;
	size_t *lens;
	int nseg;
	char *path; /* segments joined with '.', NUL-terminated: the CSV column */
};

/* Slots 0-2 are always the key, the time and the type. */
enum { SLOT_KEY, SLOT_TIME, SLOT_TYPE, SLOT_FIRST_FIELD };

struct schema_field {
	const char *name;
	enum ty type;
};

/* A stage that an event type puts a customer in. */
struct stage_ref {
	int journey, stage;
};

/* Rules of one event type whose guard begins with `x.f == "text"` (or
 * the customer key), found by that text instead of each running its guard:
 * with a thousand such rules an event runs the one or two that can fire. */
struct guard_bucket {
	const char *text;  /* the constant; NULL: an empty bucket */
	uint32_t len;
	int first, n;      /* the rules' positions, in index->positions */
};

struct guard_index {
	int slot;          /* the event slot compared, or -1: the customer key */
	uint32_t mask;     /* buckets - 1 */
	struct guard_bucket *buckets;
	int *positions;    /* into the type's rules[], ascending per bucket */
};

/* The bucket of text s (hash: mem_hash(s, len), of which the customer
 * table keeps the low bits), or the empty one where it would go. */
static inline struct guard_bucket *guard_bucket_find(const struct guard_index *x, const char *s, uint32_t len,
						     uint32_t hash)
{
	uint32_t i = hash & x->mask;
	for (;; i = (i + 1) & x->mask) {
		struct guard_bucket *b = &x->buckets[i];
		if (!b->text || (b->len == len && memcmp(b->text, s, len) == 0))
			return b;
	}
}

struct evtype {
	const char *name;
	uint32_t len;
	struct stage_ref *stage_refs; /* one per journey that names this type */
	int nstage_refs;
	int history;                  /* index of its history_spec, or -1 */
	struct schema_field *fields; /* from an `event` declaration, or NULL */
	int nfields;
	int declared;
	int *rules;                  /* handlers, in firing order */
	int nrules;
	int *unindexed;              /* positions in rules[] of those no index holds */
	int nunindexed;
	struct guard_index *indexes; /* NULL when no rule of the type is indexed */
	int nindexes;
};

#define NO_CODE UINT32_MAX

/* A step of a pattern: `then [no] B as b where cond within D`. */
struct pattern_step {
	int negated;          /* then no: an absence */
	int64_t within;       /* ns after the step before */
	uint32_t where;       /* entry of the condition's code, or NO_CODE */
	int where_guard;      /* its guard_info (for `cxr explain`), or -1 */
	int *types;           /* event types that can match */
	int ntypes;
};

struct rule_info {
	const char *name;
	const char *doc;
	struct loc loc;
	uint8_t trigger;      /* enum trigger_kind (ast.h) */
	struct pattern_step *steps; /* T_EVENTS with `then`: steps[0] is the `on` part */
	int nsteps;
	int nbinds;           /* events the handler reads: one per step */
	const char **bind_names; /* for messages and disasm; NULL when unnamed */
	int journey, stage;   /* T_ENTER, T_EXIT, T_STUCK */
	int64_t stuck_for;    /* T_STUCK */
	int sla;              /* T_BREACH */
	int emits;            /* has an `emit`: a response the customer sees */
	int *budgets;         /* budgets the rule spends from */
	int nbudgets;
	int64_t repeat_n;     /* T_REPEAT: the N-th event ... */
	int64_t repeat_within; /* ... inside this window (ns) */
	uint32_t entry;       /* first instruction */
	int64_t priority;
	int nlocals;
	int once;             /* has a dedupe key */
	int once_keyed;       /* `once per KEY`, not `once` (per customer) */
	struct loc once_key;  /* KEY, for `cxr explain` */
	int64_t limit_n;      /* firings allowed per window (with a LIMIT instruction) */
	int64_t limit_per;    /* ns */
	double holdout;
	const char *salt;     /* mixed into the holdout hash; default: the rule's name */
};

struct emit_desc {
	const char *action;
	int nfields;
	const char **names;
	int *cols; /* column of each field in CSV output */
	/* JSON rendered once when compiled, not per response:
	 * `{"action":"A","rule":"R","customer":` and `,"name":` per field. */
	const char *json_head;
	const char **json_keys;
};

/* A builtin function: one row per function in builtins.c. */
struct vm;
typedef struct val (*builtin_fn)(struct vm *vm, struct val *args, int n);
struct builtin {
	const char *name;
	int min_args, max_args;
	enum ty result;
	const char *args; /* each argument's kind, for the compiler (builtins.c) */
	builtin_fn fn;
	const char *doc;
};
extern const struct builtin builtins[];
extern const int nbuiltins;

/* The rules a stage starts: `on enter J.S`, `on exit J.S`, `on stuck J.S for D`. */
struct stage_rules {
	int *enter, *exit, *stuck;
	int nenter, nexit, nstuck;
};

struct journey_info {
	const char *name;
	const char **stages;      /* in funnel order */
	int nstages;
	struct stage_rules *rules; /* per stage */
};

enum agg { AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX, AGG_P50, AGG_P90, AGG_P99, AGG_NPS, AGG_CSAT, AGG_RATE, AGG__COUNT };
/* As scripts write them: "count", "p90", ... (bytecode.c). */
extern const char *const agg_names[AGG__COUNT];

struct metric_info {
	const char *name;
	enum agg agg;
	const char *by;           /* the grouping's label, or NULL */
};

/* sla NAME: A -> B [where cond] within D for P% [by expr] */
struct sla_info {
	const char *name;
	struct pattern_step from, to; /* to.within is D; to.where sees (from, to) */
	const char *from_name, *to_name;
	double target;            /* P as a fraction */
	uint32_t by;              /* code of the grouping key over `from`, or NO_CODE */
	int *breach_rules;
	int nbreach_rules;
};

/* goal NAME: E within D, measured after every rule's first firing per customer */
struct goal_info {
	const char *name;
	int *types;
	int ntypes;
	int64_t within;
};

/* budget NAME: N per D, shared by the rules that `spend NAME` */
struct budget_info {
	const char *name;
	int64_t amount;
	int64_t per;
};

/* Per-customer history: what a script asks of an event type's past. */
enum hist_kind {
	H_COUNT, H_SUM, H_LAST, H_FIRST, H_SINCE, H_LAST_FIELD, H_FIRST_FIELD,
	H_DISTINCT_COUNT, /* count(distinct E.f within D) */
	H_DISTINCT_LIST,  /* distinct(E.f within D) */
};

struct history_spec {
	int type;          /* -1: `any`, every event of the customer */
	int64_t window;    /* the longest count/sum window: how long times are kept */
	int *sum_slots;    /* fields that a sum() reads, kept beside the times */
	int nsum;
	int keep_last, keep_first;
	int keep_events;   /* a query filters (where) or counts distinct values: the events are kept */
};

struct history_query {
	uint8_t kind;      /* enum hist_kind */
	int spec;
	int64_t window;    /* count, sum, distinct */
	int sum;           /* sum: index into the spec's sum_slots */
	int slot;          /* last(E).f, first(E).f, distinct(E.f) */
	uint32_t where;    /* the filter's code (sees the rule's events and the past one), or NO_CODE */
	int nbinds;        /* ... with this many events bound, the past one last */
	int rule;          /* ... in this rule's code (for disasm) */
};

/* A test block, its values evaluated when the script compiles. */
struct test_field {
	const char *name;
	struct val value;
};

struct test_step {
	int kind;                 /* enum test_step_kind (ast.h) */
	struct loc loc;
	const char *name;         /* given/expect: the event type or action; stage: the journey; customer.x */
	int journey, stage;       /* expect stage J = S */
	struct test_field *fields;
	int nfields;
	int has_at, has_after;
	int64_t at, after;        /* given ... at T | after D; advance D (in after) */
	struct val value;         /* expect customer.x == value */
};

struct test_info {
	const char *name;
	struct loc loc;
	int broken;               /* it did not compile (a warning outside `cxr test`) */
	struct test_step *steps;
	int nsteps;
};

/* A part of a guard, for `cxr explain`: the guard `a and (b or c)` has
 * the parts a, b and c, in source order, each with the instruction that
 * tests its value (absent from the trail of a run: it was not evaluated)
 * and, when it is a comparison, the one that compares and both sides. */
struct guard_part {
	struct loc expr, left, right;
	uint32_t test_pc;         /* the ANDJ, ORJ or TRUTH that tests it; NO_CODE: it is the whole guard */
	uint32_t cmp_pc;          /* its comparison's instruction, or NO_CODE */
	uint8_t op;               /* OP_EQ .. OP_GE when it is a comparison */
};

/* A guard (`when`, `unless`, a step's `where`), for `cxr explain`. */
struct guard_info {
	int rule;
	struct loc expr;
	int unless;
	struct guard_part *parts; /* in the program's arena */
	int nparts;
};

/* Where a rule reads a field of an event type (for `check --against` and
 * the warnings at the end of a run); type -1: of any event (`on any`). */
struct field_use {
	int type;
	int slot;
	struct loc loc;
};

/* Where the script names an event type it reads, in the order a
 * message about the type prefers: the type after a rule's `on` is where
 * a reader looks for it, then a later step, an SLA, a goal or a stage,
 * then a history function. */
enum type_use_kind { TYPE_USE_HISTORY, TYPE_USE_STEP, TYPE_USE_ON };

struct type_use {
	int type;
	struct loc loc;  /* the type's name */
	uint8_t kind;    /* enum type_use_kind */
};

enum late_policy { LATE_REJECT, LATE_PROCESS };
enum input_format { FMT_AUTO, FMT_JSONL, FMT_CSV };

struct prog {
	struct arena arena;
	struct diag *diag;       /* not owned */
	int growing;             /* cxr_set_growing: unused names are not warned about */
	int testing;             /* cxr_set_testing: a problem in a test block is an error */
	const char *const *import_roots; /* resolved folders scripts may import from (not owned) */
	int nimport_roots;

	/* input block */
	struct loc input_loc[3]; /* where it names the key, time and type fields (line 0: the default) */
	enum input_format format;
	char delim;
	uint32_t max_field_lines; /* lines a quoted CSV cell may span; 0: SRC_CSV_MAX_LINES */
	int64_t lateness;
	enum late_policy late;

	struct slot *slots;
	int nslots;

	struct evtype *types;    /* interned event types named by the script */
	int ntypes;
	uint32_t *type_index;    /* hash of type names: index + 1, 0 is empty */
	uint8_t *type_matters;   /* per type: something reads its events */
	int any_matters;         /* `on any`: every event matters, typed or not */
	uint32_t type_mask;
	int *any_rules;          /* `on any` handlers, in firing order */
	int nany_rules;

	struct rule_info *rules;
	int nrules;

	struct journey_info *journeys;
	int njourneys;
	struct metric_info *metrics;
	int nmetrics;
	struct sla_info *slas;
	int nslas;
	struct goal_info *goals;
	int ngoals;
	struct budget_info *budgets;
	int nbudgets;
	struct history_spec *hspecs;
	int nhspecs;
	struct history_query *hqueries;
	int nhqueries;
	int any_history;         /* the history spec of first(any), last(any) ..., or -1 */

	uint32_t *code;
	struct loc *lines;       /* the source location of each instruction */
	uint32_t ncode, capcode;

	struct val *consts;
	int nconsts;
	pcre2_code **regex;
	int nregex;
	struct emit_desc *emits;
	int nemits;
	const char **vars;       /* customer variable names */
	int nvars;
	const char **columns;    /* CSV output columns after action,rule,customer,at */
	int ncolumns;

	int max_stack;
	int max_locals;
	struct named_value {
		const char *name;
		struct val value;
	} *named;                /* the script's constants (the REPL evaluates through them) */
	int nnamed;
	char **fn_names;         /* the script's and the stdlib's functions (completion) */
	int nfn_names;
	struct guard_info *guards; /* indexed by GUARD's operand */
	int nguards;
	struct field_use *uses;  /* fields read, per event type */
	int nuses;
	struct type_use *type_uses; /* event types named, where */
	int ntype_uses;
	struct test_info *tests; /* the test blocks of the main script (`cxr test`) */
	int ntests;
};

struct prog *prog_new(struct diag *diag);
void prog_free(struct prog *p);
/* The guard indexes of each type (compile/guard_index.c), once its rules
 * are final. */
void dispatch_build(struct prog *p);
void dispatch_free(struct prog *p);
/* Compile a script (and its imports) into p; returns the error count. */
int prog_compile(struct prog *p, const char *name, const char *text, size_t len);
int prog_type_find(const struct prog *p, const char *s, size_t n);
/* Does anything (a rule, a stage, history, an SLA or goal) read events of
 * this type (-1: unknown or untyped)? */
static inline int prog_type_matters(const struct prog *p, int type)
{
	return p->any_matters || (type >= 0 && p->type_matters[type]);
}
/* bytecode.c: the verifier and the disassembler.
 *
 * Walk the handler at entry (nbinds events bound) once: operands in
 * range, the stack depth the same on every path to an instruction and
 * never negative; raises p->max_stack to the deepest.  0, or -1 with the
 * failing instruction in *bad.  The scratch keeps one depth per
 * instruction across calls, so verifying every handler of a prog costs
 * the size of its code once. */
struct bytecode_scratch {
	int *depth_at; /* -1 where not seen */
	uint32_t cap;
};
int bytecode_verify(struct prog *p, uint32_t entry, int nbinds, struct bytecode_scratch *s, uint32_t *bad);
void bytecode_scratch_free(struct bytecode_scratch *s);
void prog_disasm(const struct prog *p, struct buf *out);
/* One instruction as disasm lists it and --trace shows it: address,
 * source line, opcode and what its operand names, padded to one width
 * (ri names the rule's events; NULL: by number). */
void prog_insn_text(const struct prog *p, const struct rule_info *ri, uint32_t pc, struct buf *out);

#endif
