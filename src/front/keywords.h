/* keywords.h: the words of the language, one table.
 *
 * X(word, TOKEN, role) for each keyword: the lexer maps the word to its
 * token (declared in grammar/parser.y), `cxr fmt` knows it as a keyword
 * and breaks lines before the clause words, and the REPL completes the
 * words and reads a definition on when a line starts with a form word.
 * A new keyword is one line here and its %token in parser.y.
 */
#ifndef CXR_KEYWORDS_H
#define CXR_KEYWORDS_H

enum keyword_role {
	KW_WORD,   /* inside a form: and, as, within, true ... */
	KW_FORM,   /* starts a top-level form: rule, const, journey ... */
	KW_CLAUSE, /* starts a clause of a rule or a step of a test, and `end` */
};

#define CXR_KEYWORDS(X)                                                                                 \
	X("after", AFTER, KW_WORD) X("advance", ADVANCE, KW_CLAUSE) X("and", AND, KW_WORD)               \
	X("any", ANY, KW_WORD) X("as", AS, KW_WORD) X("at", AT, KW_WORD) X("const", CONST, KW_FORM)      \
	X("customer", CUSTOMER, KW_WORD) X("emit", EMIT, KW_CLAUSE) X("end", END, KW_CLAUSE)             \
	X("event", EVENT, KW_FORM) X("expect", EXPECT, KW_CLAUSE) X("false", FALSE, KW_WORD)             \
	X("fn", FN, KW_FORM) X("given", GIVEN, KW_CLAUSE) X("has", HAS, KW_WORD)                         \
	X("import", IMPORT, KW_FORM) X("in", IN, KW_WORD) X("input", INPUT, KW_FORM)                     \
	X("let", LET, KW_CLAUSE) X("limit", LIMIT, KW_CLAUSE) X("no", NO, KW_WORD) X("not", NOT, KW_WORD) \
	X("null", NUL, KW_WORD) X("on", ON, KW_CLAUSE) X("once", ONCE, KW_CLAUSE) X("or", OR, KW_WORD)   \
	X("per", PER, KW_WORD) X("priority", PRIORITY, KW_CLAUSE) X("holdout", HOLDOUT, KW_CLAUSE)       \
	X("rule", RULE, KW_FORM) X("set", SET, KW_CLAUSE) X("stage", STAGE, KW_WORD)                     \
	X("tag", TAG, KW_CLAUSE) X("test", TEST, KW_FORM) X("true", TRUE, KW_WORD)                       \
	X("unless", UNLESS, KW_CLAUSE) X("untag", UNTAG, KW_CLAUSE) X("when", WHEN, KW_CLAUSE)           \
	X("then", THEN, KW_CLAUSE) X("within", WITHIN, KW_WORD) X("where", WHERE, KW_WORD)               \
	X("enter", ENTER, KW_WORD) X("exit", EXIT, KW_WORD) X("stuck", STUCK, KW_WORD)                   \
	X("for", FOR, KW_WORD) X("breach", BREACH, KW_WORD) X("journey", JOURNEY, KW_FORM)               \
	X("move", MOVE, KW_CLAUSE) X("to", TO, KW_WORD) X("observe", OBSERVE, KW_CLAUSE)                 \
	X("by", BY, KW_WORD) X("metric", METRIC, KW_FORM) X("sla", SLA, KW_FORM)                         \
	X("goal", GOAL, KW_FORM) X("budget", BUDGET, KW_FORM) X("spend", SPEND, KW_CLAUSE)               \
	X("distinct", DISTINCT, KW_WORD)

/* The words with their roles, without the tokens (for what does not
 * include the parser's header). */
struct keyword {
	const char *word;
	enum keyword_role role;
};
extern const struct keyword keywords[];
extern const int nkeywords;

/* The keyword s (n bytes), or NULL. */
const struct keyword *keyword_find(const char *s, size_t n);

#endif
