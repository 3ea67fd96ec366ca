/* parser.y: the grammar of cxr scripts.
 *
 * Each action is one call to a named constructor (ast.c); no logic lives
 * here.  Error recovery resynchronises at `end` of a rule or at the next
 * top-level keyword, so that one run reports several syntax errors.
 */
%define api.pure full
%define api.prefix {cxr_yy}
%define api.location.type {struct loc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%lex-param {void *scanner}
%parse-param {void *scanner} {struct parse_ctx *ctx}

%code requires {
#include "front/parse.h"
}

%code provides {
/* The library exports only cxr_*: bison's and flex's names carry the prefix. */
int cxr_yylex(CXR_YYSTYPE *lval, CXR_YYLTYPE *lloc, void *scanner);
void cxr_yyerror(CXR_YYLTYPE *loc, void *scanner, struct parse_ctx *ctx, const char *msg);
}

%code {
#include <string.h>
/* The parser's stack: how many brackets, operators and blocks may be open
 * at once (yyerror words the message when it is full). */
#define YYMAXDEPTH 10000
#define YYMAXDEPTH_TEXT "10000"
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                        \
	do {                                                               \
		if (N) {                                                   \
			(Cur).first_line = YYRHSLOC(Rhs, 1).first_line;    \
			(Cur).first_column = YYRHSLOC(Rhs, 1).first_column; \
			(Cur).last_line = YYRHSLOC(Rhs, N).last_line;      \
			(Cur).last_column = YYRHSLOC(Rhs, N).last_column;  \
		} else {                                                   \
			(Cur).first_line = (Cur).last_line = YYRHSLOC(Rhs, 0).last_line; \
			(Cur).first_column = (Cur).last_column = YYRHSLOC(Rhs, 0).last_column; \
		}                                                          \
		(Cur).file = ctx->file;                                    \
	} while (0)
}

%union {
	int64_t i;
	double f;
	struct str_lit str;
	struct ast_name name;
	struct ast *ast;
	struct ast_name *names;
	struct ast_rule *rule;
	struct ast_clause *clause;
	struct ast_field_init *fields;
	struct ast_event *event;
	struct ast_test *test;
	struct ast_test_step *step;
	struct ast_journey *journey;
	struct ast_decl *decl;
}

%token START_SCRIPT START_EXPR
%token <i> INT "integer" DURATION "duration" TIME "time"
%token <f> FLOAT "number" PERCENT "percentage"
%token <str> STRING "string" REGEX "regex"
%token <name> IDENT "name"
%token EQ "==" NE "!=" LE "<=" GE ">=" MATCH "=~" NMATCH "!~" COALESCE "??" ARROW "->"
%token AFTER "after" ADVANCE "advance" AND "and" ANY "any" AS "as" AT "at"
%token CONST "const" CUSTOMER "customer" EMIT "emit" END "end" EVENT "event"
%token EXPECT "expect" FALSE "false" FN "fn" GIVEN "given" HAS "has" IMPORT "import"
%token IN "in" INPUT "input" LET "let" LIMIT "limit" NO "no" NOT "not" NUL "null"
%token ON "on" ONCE "once" OR "or" PER "per" PRIORITY "priority" HOLDOUT "holdout"
%token RULE "rule" SET "set" STAGE "stage" TAG "tag" TEST "test" TRUE "true"
%token UNLESS "unless" UNTAG "untag" WHEN "when"
%token THEN "then" WITHIN "within" WHERE "where" ENTER "enter" EXIT "exit" STUCK "stuck" FOR "for"
%token BREACH "breach" JOURNEY "journey" MOVE "move" TO "to" OBSERVE "observe" BY "by"
%token METRIC "metric" SLA "sla" GOAL "goal" BUDGET "budget" SPEND "spend" DISTINCT "distinct"

%type <ast> expr primary postfix args opt_args list_items hist_where opt_hist_where
%type <name> name opt_as soft_keyword
%type <names> types params opt_params stage_types
%type <i> opt_no
%type <ast> opt_where opt_by_expr
%type <rule> rule rule_head rule_body
%type <clause> clause
%type <fields> field_inits opt_field_inits
%type <event> event_decl schema_fields
%type <test> test test_body
%type <journey> journey_body
%type <decl> decl
%type <step> step

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE MATCH NMATCH IN HAS
%left COALESCE
%left '+' '-'
%left '*' '/' '%'
%precedence UNARY

%%

start:
	  START_SCRIPT script
	| START_EXPR expr            { ctx->expr = $2; }
	;

script:
	  %empty
	| script toplevel
	;

toplevel:
	  IMPORT STRING                      { ast_script_import(ctx, @$, $2); }
	| INPUT '{' settings '}'
	| CONST name '=' expr                { ast_script_const(ctx, $2, $4); }
	| event_decl                         { ast_script_event(ctx, $1); }
	| FN name '(' opt_params ')' '=' expr { ast_script_fn(ctx, $2, $4, $7); }
	| rule                               { ast_script_rule(ctx, $1); }
	| test                               { ast_script_test(ctx, $1); }
	| JOURNEY name '{' journey_body '}'  { $4->name = $2; ast_script_journey(ctx, $4); }
	| decl                               { ast_script_decl(ctx, $1); }
	| error END
	| error '}'
	;

settings:
	  %empty
	| settings name '=' expr             { ast_script_setting(ctx, $2, $4); }
	;

event_decl:
	  EVENT name '{' schema_fields '}'  { $$ = $4; $$->name = $2; }
	;

schema_fields:
	  %empty                            { $$ = ast_event_new(ctx, (struct ast_name){0}); }
	| schema_fields name ':' name opt_comma { $$ = $1; ast_event_field(ctx, $$, $2, $4); }
	;

opt_comma: %empty | ',' ;

opt_params:
	  %empty                            { $$ = NULL; }
	| params
	;

params:
	  name                              { $$ = ast_name_chain(ctx, NULL, $1); }
	| params ',' name                   { $$ = ast_name_chain(ctx, $1, $3); }
	;

journey_body:
	  %empty                             { $$ = ast_journey_new(ctx, (struct ast_name){0}); }
	| journey_body STAGE name ON stage_types { $$ = $1; ast_journey_stage(ctx, $$, $3, $5); }
	;

stage_types:
	  name                               { $$ = ast_name_chain(ctx, NULL, $1); }
	| stage_types ',' name               { $$ = ast_name_chain(ctx, $1, $3); }
	;

decl:
	  METRIC name ':' name               { $$ = ast_decl_new(ctx, @$, D_METRIC, $2); $$->agg = $4; }
	| METRIC name ':' name BY name       { $$ = ast_decl_new(ctx, @$, D_METRIC, $2); $$->agg = $4; $$->by = $6; }
	| SLA name ':' types opt_as ARROW types opt_as opt_where WITHIN expr FOR expr opt_by_expr
	                                     { $$ = ast_decl_new(ctx, @$, D_SLA, $2);
	                                       $$->from = ast_decl_step(ctx, $4, $5, NULL, NULL);
	                                       $$->to = ast_decl_step(ctx, $7, $8, $9, $11);
	                                       $$->target = $13; $$->by_expr = $14; }
	| GOAL name ':' types WITHIN expr    { $$ = ast_decl_new(ctx, @$, D_GOAL, $2);
	                                       $$->to = ast_decl_step(ctx, $4, (struct ast_name){0}, NULL, $6); }
	| BUDGET name ':' expr PER expr      { $$ = ast_decl_new(ctx, @$, D_BUDGET, $2); $$->amount = $4; $$->per = $6; }
	;

opt_by_expr:
	  %empty                             { $$ = NULL; }
	| BY expr                            { $$ = $2; }
	;

rule:
	  rule_body END
	;

rule_head:
	  RULE name                          { $$ = ast_rule_new(ctx, @$, $2); }
	| RULE name STRING                   { $$ = ast_rule_new(ctx, @$, $2); ast_rule_doc(ctx, $$, $3); }
	;

rule_body:
	  rule_head ON types opt_as          { $$ = $1; ast_rule_on_types(ctx, $$, $3, $4); }
	| rule_head ON ANY opt_as            { $$ = $1; ast_rule_on_any(ctx, $$, $4); }
	| rule_head ON INT types opt_as WITHIN expr { $$ = $1; ast_rule_on_repeat(ctx, $$, ast_int(ctx, @3, $3), $4, $5, $7); }
	| rule_head ON ENTER name '.' name   { $$ = $1; ast_rule_on_stage(ctx, $$, T_ENTER, $4, $6, NULL); }
	| rule_head ON EXIT name '.' name    { $$ = $1; ast_rule_on_stage(ctx, $$, T_EXIT, $4, $6, NULL); }
	| rule_head ON STUCK name '.' name FOR expr { $$ = $1; ast_rule_on_stage(ctx, $$, T_STUCK, $4, $6, $8); }
	| rule_head ON BREACH name           { $$ = $1; ast_rule_on_stage(ctx, $$, T_BREACH, $4, (struct ast_name){0}, NULL); }
	| rule_body THEN opt_no types opt_as opt_where WITHIN expr
	                                     { $$ = $1; ast_rule_then(ctx, $$, @2, (int)$3, $4, $5, $6, $8); }
	| rule_body clause                   { $$ = $1; ast_rule_clause(ctx, $$, $2); }
	| rule_body ONCE                     { $$ = $1; ast_rule_once(ctx, $$, @2, NULL); }
	| rule_body ONCE PER expr            { $$ = $1; ast_rule_once(ctx, $$, @2, $4); }
	| rule_body LIMIT expr PER CUSTOMER PER expr { $$ = $1; ast_rule_limit(ctx, $$, @2, $3, $7); }
	| rule_body PRIORITY expr            { $$ = $1; ast_rule_priority(ctx, $$, @2, $3); }
	| rule_body HOLDOUT expr             { $$ = $1; ast_rule_holdout(ctx, $$, @2, $3); }
	| rule_body HOLDOUT expr STRING      { $$ = $1; ast_rule_holdout(ctx, $$, @2, $3); ast_rule_salt(ctx, $$, $4); }
	;

opt_no:
	  %empty                             { $$ = 0; }
	| NO                                 { $$ = 1; }
	;

opt_where:
	  %empty                             { $$ = NULL; }
	| WHERE expr                         { $$ = $2; }
	;

types:
	  name                               { $$ = ast_name_chain(ctx, NULL, $1); }
	| types '|' name                     { $$ = ast_name_chain(ctx, $1, $3); }
	;

opt_as:
	  %empty                             { $$ = (struct ast_name){0}; }
	| AS name                            { $$ = $2; }
	;

clause:
	  WHEN expr                          { $$ = ast_clause_new(ctx, @$, C_WHEN, (struct ast_name){0}, $2); }
	| UNLESS expr                        { $$ = ast_clause_new(ctx, @$, C_UNLESS, (struct ast_name){0}, $2); }
	| LET name '=' expr                  { $$ = ast_clause_new(ctx, @$, C_LET, $2, $4); }
	| EMIT name opt_field_inits          { $$ = ast_clause_emit(ctx, @$, $2, $3); }
	| SET CUSTOMER '.' name '=' expr     { $$ = ast_clause_new(ctx, @$, C_SET, $4, $6); }
	| TAG expr                           { $$ = ast_clause_new(ctx, @$, C_TAG, (struct ast_name){0}, $2); }
	| UNTAG expr                         { $$ = ast_clause_new(ctx, @$, C_UNTAG, (struct ast_name){0}, $2); }
	| MOVE name TO name                  { $$ = ast_clause_new(ctx, @$, C_MOVE, $2, NULL); $$->name2 = $4; }
	| OBSERVE name expr opt_by_expr      { $$ = ast_clause_new(ctx, @$, C_OBSERVE, $2, $3); $$->expr2 = $4; }
	| SPEND name                         { $$ = ast_clause_new(ctx, @$, C_SPEND, $2, NULL); }
	;

opt_field_inits:
	  %empty                             { $$ = NULL; }
	| '{' '}'                            { $$ = NULL; }
	| '{' field_inits opt_comma '}'      { $$ = $2; }
	;

field_inits:
	  name ':' expr                      { $$ = ast_field_chain(ctx, NULL, $1, $3); }
	| field_inits ',' name ':' expr      { $$ = ast_field_chain(ctx, $1, $3, $5); }
	;

test:
	  test_body END
	;

test_body:
	  TEST STRING                        { $$ = ast_test_new(ctx, @$, $2); }
	| test_body step                     { $$ = $1; ast_test_step(ctx, $$, $2); }
	;

step:
	  GIVEN name opt_field_inits         { $$ = ast_step_new(ctx, @$, TS_GIVEN); $$->name = $2; $$->fields = $3; }
	| GIVEN name opt_field_inits AT expr { $$ = ast_step_new(ctx, @$, TS_GIVEN); $$->name = $2; $$->fields = $3; $$->at = $5; }
	| GIVEN name opt_field_inits AFTER expr { $$ = ast_step_new(ctx, @$, TS_GIVEN); $$->name = $2; $$->fields = $3; $$->after = $5; }
	| ADVANCE expr                       { $$ = ast_step_new(ctx, @$, TS_ADVANCE); $$->expr = $2; }
	| EXPECT name opt_field_inits        { $$ = ast_step_new(ctx, @$, TS_EXPECT); $$->name = $2; $$->fields = $3; }
	| EXPECT NO name opt_field_inits     { $$ = ast_step_new(ctx, @$, TS_EXPECT_NO); $$->name = $3; $$->fields = $4; }
	| EXPECT STAGE name '=' name         { $$ = ast_step_new(ctx, @$, TS_EXPECT_STAGE); $$->name = $3; $$->name2 = $5; }
	| EXPECT STAGE name EQ name          { $$ = ast_step_new(ctx, @$, TS_EXPECT_STAGE); $$->name = $3; $$->name2 = $5; }
	| EXPECT CUSTOMER '.' name EQ expr   { $$ = ast_step_new(ctx, @$, TS_EXPECT_EXPR); $$->name = $4; $$->expr = $6; }
	;

name:
	  IDENT
	| STRING                             { $$ = ast_str_to_name(ctx, @1, $1); }
	| soft_keyword
	;

/* Keywords that read as names where a name is expected: `stage after`,
 * `rule breach`, `emit stuck { ... }`, a field `on:`.  The others (when,
 * emit, then, ...) would make a rule's clauses ambiguous. */
soft_keyword:
	  AFTER                              { $$ = keyword_name(ctx, @1, "after"); }
	| AT                                 { $$ = keyword_name(ctx, @1, "at"); }
	| BY                                 { $$ = keyword_name(ctx, @1, "by"); }
	| FOR                                { $$ = keyword_name(ctx, @1, "for"); }
	| TO                                 { $$ = keyword_name(ctx, @1, "to"); }
	| ENTER                              { $$ = keyword_name(ctx, @1, "enter"); }
	| EXIT                               { $$ = keyword_name(ctx, @1, "exit"); }
	| STAGE                              { $$ = keyword_name(ctx, @1, "stage"); }
	| GOAL                               { $$ = keyword_name(ctx, @1, "goal"); }
	| BUDGET                             { $$ = keyword_name(ctx, @1, "budget"); }
	| METRIC                             { $$ = keyword_name(ctx, @1, "metric"); }
	| SLA                                { $$ = keyword_name(ctx, @1, "sla"); }
	| DISTINCT                           { $$ = keyword_name(ctx, @1, "distinct"); }
	| BREACH                             { $$ = keyword_name(ctx, @1, "breach"); }
	| STUCK                              { $$ = keyword_name(ctx, @1, "stuck"); }
	| JOURNEY                            { $$ = keyword_name(ctx, @1, "journey"); }
	| INPUT                              { $$ = keyword_name(ctx, @1, "input"); }
	| EVENT                              { $$ = keyword_name(ctx, @1, "event"); }
	| PER                                { $$ = keyword_name(ctx, @1, "per"); }
	| WHERE                              { $$ = keyword_name(ctx, @1, "where"); }
	| WITHIN                             { $$ = keyword_name(ctx, @1, "within"); }
	| IMPORT                             { $$ = keyword_name(ctx, @1, "import"); }
	| TEST                               { $$ = keyword_name(ctx, @1, "test"); }
	| RULE                               { $$ = keyword_name(ctx, @1, "rule"); }
	| CUSTOMER                           { $$ = keyword_name(ctx, @1, "customer"); }
	| CONST                              { $$ = keyword_name(ctx, @1, "const"); }
	| FN                                 { $$ = keyword_name(ctx, @1, "fn"); }
	| ON                                 { $$ = keyword_name(ctx, @1, "on"); }
	;

expr:
	  postfix
	| expr OR expr                       { $$ = ast_binop(ctx, @$, OP_OR, $1, $3); }
	| expr AND expr                      { $$ = ast_binop(ctx, @$, OP_AND, $1, $3); }
	| NOT expr                           { $$ = ast_unop(ctx, @$, OP_NOT, $2); }
	| expr EQ expr                       { $$ = ast_binop(ctx, @$, OP_EQ, $1, $3); }
	| expr NE expr                       { $$ = ast_binop(ctx, @$, OP_NE, $1, $3); }
	| expr '<' expr                      { $$ = ast_binop(ctx, @$, OP_LT, $1, $3); }
	| expr LE expr                       { $$ = ast_binop(ctx, @$, OP_LE, $1, $3); }
	| expr '>' expr                      { $$ = ast_binop(ctx, @$, OP_GT, $1, $3); }
	| expr GE expr                       { $$ = ast_binop(ctx, @$, OP_GE, $1, $3); }
	| expr IN expr                       { $$ = ast_binop(ctx, @$, OP_IN, $1, $3); }
	| expr HAS expr                      { $$ = ast_binop(ctx, @$, OP_HAS, $1, $3); }
	| expr MATCH REGEX                   { $$ = ast_match(ctx, @$, 0, $1, $3); }
	| expr NMATCH REGEX                  { $$ = ast_match(ctx, @$, 1, $1, $3); }
	| expr COALESCE expr                 { $$ = ast_binop(ctx, @$, OP_COALESCE, $1, $3); }
	| expr '+' expr                      { $$ = ast_binop(ctx, @$, OP_ADD, $1, $3); }
	| expr '-' expr                      { $$ = ast_binop(ctx, @$, OP_SUB, $1, $3); }
	| expr '*' expr                      { $$ = ast_binop(ctx, @$, OP_MUL, $1, $3); }
	| expr '/' expr                      { $$ = ast_binop(ctx, @$, OP_DIV, $1, $3); }
	| expr '%' expr                      { $$ = ast_binop(ctx, @$, OP_MOD, $1, $3); }
	| '-' expr %prec UNARY               { $$ = ast_unop(ctx, @$, OP_NEG, $2); }
	;

postfix:
	  primary
	| postfix '.' IDENT                  { $$ = ast_field(ctx, @$, $1, $3); }
	| postfix '[' expr ']'               { $$ = ast_subscript(ctx, @$, $1, $3); }
	| IDENT '(' opt_args ')'             { $$ = ast_call(ctx, @$, $1, $3); }
	| IDENT '(' expr WITHIN expr ')'     { $$ = ast_history(ctx, @$, $1, $3, NULL, 0, $5); }
	| IDENT '(' expr hist_where WITHIN expr ')' { $$ = ast_history(ctx, @$, $1, $3, $4, 0, $6); }
	| IDENT '(' DISTINCT expr opt_hist_where WITHIN expr ')' { $$ = ast_history(ctx, @$, $1, $4, $5, 1, $7); }
	| DISTINCT '(' expr opt_hist_where WITHIN expr ')' { $$ = ast_history(ctx, @$, keyword_name(ctx, @1, "distinct"), $3, $4, 1, $6); }
	;

/* count(E as x where cond within D): which past events count. */
hist_where:
	  WHERE expr                         { $$ = ast_filter(ctx, @$, (struct ast_name){0}, $2); }
	| AS name WHERE expr                 { $$ = ast_filter(ctx, @$, $2, $4); }
	;

opt_hist_where:
	  %empty                             { $$ = NULL; }
	| hist_where
	;

primary:
	  INT                                { $$ = ast_int(ctx, @$, $1); }
	| FLOAT                              { $$ = ast_float(ctx, @$, $1); }
	| PERCENT                            { $$ = ast_float(ctx, @$, $1); }
	| DURATION                           { $$ = ast_dur(ctx, @$, $1); }
	| TIME                               { $$ = ast_time(ctx, @$, $1); }
	| STRING                             { $$ = ast_string(ctx, @$, $1); }
	| TRUE                               { $$ = ast_bool(ctx, @$, 1); }
	| FALSE                              { $$ = ast_bool(ctx, @$, 0); }
	| NUL                                { $$ = ast_new(ctx, A_NULL, @$); }
	| IDENT                              { $$ = ast_name(ctx, @$, $1); }
	| CUSTOMER                           { $$ = ast_new(ctx, A_CUSTOMER, @$); }
	| EVENT                              { $$ = ast_new(ctx, A_EVENT, @$); }
	| ANY                                { $$ = ast_new(ctx, A_ANY, @$); }
	| '(' expr ')'                       { $$ = $2; }
	| '[' ']'                            { $$ = ast_list(ctx, @$, NULL); }
	| '[' list_items opt_comma ']'       { $$ = ast_list(ctx, @$, $2); }
	;

list_items:
	  expr                               { $$ = ast_chain(NULL, $1); }
	| list_items ',' expr                { $$ = ast_chain($1, $3); }
	;

opt_args:
	  %empty                             { $$ = NULL; }
	| args
	;

args:
	  expr                               { $$ = ast_chain(NULL, $1); }
	| args ',' expr                      { $$ = ast_chain($1, $3); }
	;

%%

/* "unexpected 'emit', expected an expression": token names come from
 * the %token aliases; a long list that holds expression starters is said
 * as "an expression". */
static int yyreport_syntax_error(const yypcontext_t *pctx, void *scanner, struct parse_ctx *ctx)
{
	(void)scanner;
	enum { MAX = YYNTOKENS };
	yysymbol_kind_t expected[MAX];
	int n = yypcontext_expected_tokens(pctx, expected, MAX);
	yysymbol_kind_t got = yypcontext_token(pctx);
	/* An unterminated string already said why the script ended early. */
	if (got == YYSYMBOL_YYEOF && ctx->errors)
		return 0;
	struct buf msg = {0};
	if (got == YYSYMBOL_YYEOF && !ctx->errors)
		ctx->ended_early = 1;
	if (got == YYSYMBOL_YYEOF)
		buf_adds(&msg, "unexpected end of script");
	else
	{
		buf_adds(&msg, "unexpected ");
		parse_token_name(&msg, yysymbol_name(got), 0);
	}
	int expr = 0, end = 0, name = 0;
	for (int i = 0; i < n && n > 0; i++) {
		expr |= expected[i] == YYSYMBOL_INT;
		end |= expected[i] == YYSYMBOL_END;
		name |= expected[i] == YYSYMBOL_IDENT;
	}
	/* A long list is said by its closers: what usually went missing. */
	if (n > 6 && !expr) {
		int k = 0;
		for (int i = 0; i < n; i++)
			if (expected[i] == YYSYMBOL_END || expected[i] == YYSYMBOL_YYEOF ||
			    strchr(",)]}", yysymbol_name(expected[i])[1]))
				expected[k++] = expected[i];
		n = k;
	}
	if (expr) {
		buf_adds(&msg, ", expected an expression");
	} else if (n > 0 && n <= 6) {
		buf_adds(&msg, ", expected ");
		for (int i = 0; i < n; i++) {
			buf_adds(&msg, i == 0 ? "" : i == n - 1 ? " or " : ", ");
			parse_token_name(&msg, yysymbol_name(expected[i]), 1);
		}
	}
	diag_report(ctx->diag, DIAG_ERROR, *yypcontext_location(pctx), "%s", msg.p);
	ctx->errors++;
	buf_free(&msg);
	parse_syntax_hints(ctx, *yypcontext_location(pctx), got == YYSYMBOL_YYEOF ? "" : yysymbol_name(got), end, name);
	return 0;
}

void cxr_yyerror(YYLTYPE *loc, void *scanner, struct parse_ctx *ctx, const char *msg)
{
	(void)scanner;
	/* Bison's own words when its stack (YYMAXDEPTH entries) is full:
	 * that many brackets or operators are open at once. */
	if (!strcmp(msg, "memory exhausted"))
		msg = "this nests too deeply: more than " YYMAXDEPTH_TEXT " brackets, operators or blocks are open "
		      "here (compute parts of it with let first)";
	diag_report(ctx->diag, DIAG_ERROR, *loc, "%s", msg);
	ctx->errors++;
}
