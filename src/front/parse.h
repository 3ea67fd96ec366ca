/* parse.h: the parser's context, shared by grammar/lexer.l and
 * grammar/parser.y, and the entry points to parse a script or an
 * expression.
 */
#ifndef CXR_PARSE_H
#define CXR_PARSE_H

#include "ast.h"
#include "base/diag.h"

/* A string literal as the lexer found it: literal pieces and the source
 * of {expr} pieces, with the location where each piece starts. */
struct str_part {
	int is_expr;
	const char *s; /* literal: unescaped text; expr: source text */
	uint32_t len;
	struct loc loc;
};

struct str_lit {
	struct str_part *parts;
	int nparts;
};

struct parse_ctx {
	struct arena *arena;
	struct diag *diag;
	int file;                    /* source file index in diag */
	int start_token;             /* first token handed to the parser */
	int start_line, start_col;   /* where the text starts in its file */
	struct ast_script *script;   /* what a script parse builds */
	struct ast *expr;            /* what an expression parse builds */
	int last_token;              /* for the lexer: names after '.' */
	int regex_next;              /* for the lexer: a regex follows =~ or !~ */
	int errors;                  /* syntax errors in this parse */
	int ended_early;             /* the first error is where the text ends: it is
					unfinished, not wrong (a prompt reads on) */
	/* The rule or test block being parsed, for "has no 'end'". */
	const char *open_kind;       /* "rule", "test", or NULL */
	struct ast_name open_name;
	struct loc open_loc;
	/* How many strings this expression is inside, through {}: each level
	 * is a parser of its own on the C stack, so it is bounded. */
	int string_depth;
};

#define PARSE_MAX_STRING_NESTING 16

/* Parse a whole script into ctx->script; returns the number of errors. */
int parse_script(struct parse_ctx *ctx, const char *text, size_t len);
/* Parse one expression (an interpolation part, a REPL line). */
int parse_expr(struct parse_ctx *ctx, const char *text, size_t len);

/* After a syntax error at `at` (token `got`, as bison names it): the notes
 * that say what the analyst most likely meant (syntax_hint.c). */
void parse_syntax_hints(struct parse_ctx *ctx, struct loc at, const char *got, int expects_end, int expects_name);

/* Append a token's name as users read it: 'emit', '{', a name. */
void parse_token_name(struct buf *out, const char *bison_name, int article);

/* AST constructors called from grammar actions (ast.c). */
struct ast *ast_new(struct parse_ctx *c, int kind, struct loc loc);
struct ast *ast_int(struct parse_ctx *c, struct loc loc, int64_t i);
struct ast *ast_float(struct parse_ctx *c, struct loc loc, double f);
struct ast *ast_bool(struct parse_ctx *c, struct loc loc, int b);
struct ast *ast_time(struct parse_ctx *c, struct loc loc, int64_t ns);
struct ast *ast_dur(struct parse_ctx *c, struct loc loc, int64_t ns);
struct ast *ast_string(struct parse_ctx *c, struct loc loc, struct str_lit lit);
struct ast *ast_name(struct parse_ctx *c, struct loc loc, struct ast_name n);
struct ast *ast_field(struct parse_ctx *c, struct loc loc, struct ast *obj, struct ast_name n);
struct ast *ast_quoted_field(struct parse_ctx *c, struct loc loc, struct ast *obj, struct ast_name n);
/* x["name"] is a field (a name that is not a word); x[i] an item of a list. */
struct ast *ast_subscript(struct parse_ctx *c, struct loc loc, struct ast *obj, struct ast *sub);
struct ast *ast_custvar(struct parse_ctx *c, struct loc loc, struct ast_name n);
struct ast *ast_call(struct parse_ctx *c, struct loc loc, struct ast_name n, struct ast *args);
struct ast *ast_history(struct parse_ctx *c, struct loc loc, struct ast_name fn, struct ast *what, struct ast *filter,
			int distinct, struct ast *window);
struct ast *ast_filter(struct parse_ctx *c, struct loc loc, struct ast_name as, struct ast *cond);
struct ast *ast_unop(struct parse_ctx *c, struct loc loc, int op, struct ast *a);
struct ast *ast_binop(struct parse_ctx *c, struct loc loc, int op, struct ast *a, struct ast *b);
struct ast *ast_match(struct parse_ctx *c, struct loc loc, int negate, struct ast *a, struct str_lit re);
/* Argument and list items are chained through ->next while parsing;
 * ast_list and ast_call turn the chain into kids[]. */
struct ast *ast_chain(struct ast *list, struct ast *item);
struct ast *ast_list(struct parse_ctx *c, struct loc loc, struct ast *chain);

struct ast_name ast_str_to_name(struct parse_ctx *c, struct loc loc, struct str_lit lit);
struct ast_name keyword_name(struct parse_ctx *c, struct loc loc, const char *word);

struct ast_rule *ast_rule_new(struct parse_ctx *c, struct loc loc, struct ast_name name);
void ast_rule_doc(struct parse_ctx *c, struct ast_rule *r, struct str_lit doc);
void ast_rule_on_types(struct parse_ctx *c, struct ast_rule *r, struct ast_name *types, struct ast_name as);
void ast_rule_on_any(struct parse_ctx *c, struct ast_rule *r, struct ast_name as);
void ast_rule_on_repeat(struct parse_ctx *c, struct ast_rule *r, struct ast *n, struct ast_name *types, struct ast_name as,
		    struct ast *within);
void ast_rule_on_stage(struct parse_ctx *c, struct ast_rule *r, int kind, struct ast_name journey, struct ast_name stage,
		   struct ast *stuck_for);
void ast_rule_then(struct parse_ctx *c, struct ast_rule *r, struct loc loc, int negated, struct ast_name *types,
	       struct ast_name as, struct ast *where, struct ast *within);
struct ast_journey *ast_journey_new(struct parse_ctx *c, struct ast_name name);
void ast_journey_stage(struct parse_ctx *c, struct ast_journey *j, struct ast_name name, struct ast_name *types);
void ast_script_journey(struct parse_ctx *c, struct ast_journey *j);
struct ast_decl *ast_decl_new(struct parse_ctx *c, struct loc loc, int kind, struct ast_name name);
struct ast_step ast_decl_step(struct parse_ctx *c, struct ast_name *types, struct ast_name as, struct ast *where,
			  struct ast *within);
void ast_script_decl(struct parse_ctx *c, struct ast_decl *d);
struct ast_name *ast_name_chain(struct parse_ctx *c, struct ast_name *list, struct ast_name n);
void ast_rule_clause(struct parse_ctx *c, struct ast_rule *r, struct ast_clause *cl);
struct ast_clause *ast_clause_new(struct parse_ctx *c, struct loc loc, int kind, struct ast_name name, struct ast *e);
struct ast_clause *ast_clause_emit(struct parse_ctx *c, struct loc loc, struct ast_name name, struct ast_field_init *fields);
struct ast_field_init *ast_field_chain(struct parse_ctx *c, struct ast_field_init *list, struct ast_name n, struct ast *value);
void ast_rule_once(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *key);
void ast_rule_limit(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *n, struct ast *per);
void ast_rule_priority(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *n);
void ast_rule_holdout(struct parse_ctx *c, struct ast_rule *r, struct loc loc, struct ast *pct);
void ast_rule_salt(struct parse_ctx *c, struct ast_rule *r, struct str_lit salt);
void ast_script_rule(struct parse_ctx *c, struct ast_rule *r);
void ast_script_import(struct parse_ctx *c, struct loc loc, struct str_lit path);
void ast_script_setting(struct parse_ctx *c, struct ast_name name, struct ast *value);
void ast_script_const(struct parse_ctx *c, struct ast_name name, struct ast *value);
struct ast_event *ast_event_new(struct parse_ctx *c, struct ast_name name);
void ast_event_field(struct parse_ctx *c, struct ast_event *e, struct ast_name field, struct ast_name type);
void ast_script_event(struct parse_ctx *c, struct ast_event *e);
void ast_script_fn(struct parse_ctx *c, struct ast_name name, struct ast_name *params, struct ast *body);
struct ast_test *ast_test_new(struct parse_ctx *c, struct loc loc, struct str_lit name);
struct ast_test_step *ast_step_new(struct parse_ctx *c, struct loc loc, int kind);
void ast_test_step(struct parse_ctx *c, struct ast_test *t, struct ast_test_step *s);
void ast_script_test(struct parse_ctx *c, struct ast_test *t);

#endif
