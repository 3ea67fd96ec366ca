/* vm.h: the bytecode interpreter.
 *
 * A handler runs on a value stack with the rule's locals; it reads the
 * events bound to it, and asks its host (host.h) for the customer.  Runtime errors are values
 * (V_ERR) until they reach a guard or a response, where they stop the
 * handler and are reported with the rule, its source line and the event.
 */
#ifndef CXR_VM_H
#define CXR_VM_H

#include "base/diag.h"
#include "base/tzone.h"
#include "event.h"
#include "host.h"
#include "prog.h"

struct engine;
struct customer;

struct vm {
	const struct prog *p;
	const struct vm_host *host;  /* NULL when evaluating constants */
	struct engine *eng;          /* the host's state, which the VM does not read */
	struct val *stack;
	struct val *locals;
	struct arena *scratch;       /* strings made while running */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	const struct event *bind[MAX_BINDS]; /* the rule's events (bind[0]: `on E as x`) */
	int64_t now;                 /* event time of the firing: the response's `at` */
	struct customer *cust;       /* the host's customer, set by the host before a run */
	int rule;                    /* rule being run */
	uint32_t err_pc;             /* where a runtime error stopped the handler */
	struct val err;              /* the error, or null */
	struct buf tmp;
	struct diag *trace;          /* where --trace writes each instruction, or NULL */
	struct tz_cache *tz;         /* time zones loaded by date(), hour()... on first use */
	uint8_t *covered;            /* `cxr test --coverage`: instructions run, or NULL */
	uint32_t stop_pc;            /* where a handler that did not fire stopped */
	int explain;                 /* `cxr explain`: keep a trail of what the conditions saw */
	struct vm_mark *marks;       /* that trail, for the running handler (each pc runs once in it) */
	int nmarks, capmarks;
};

/* What `cxr explain` is told of one instruction that ran: a comparison
 * with its operands as compared, the value an `and`/`or` tested (ANDJ,
 * ORJ, TRUTH), or the key a dedupe looked up (ONCE). */
struct vm_mark {
	uint32_t pc;
	struct val a, b; /* a comparison's sides; else a: the value tested or the key */
	int truth;       /* the comparison's result, the truth of the value tested */
};

enum vm_result { VM_FIRED, VM_SKIPPED, VM_ERROR };

struct vm *vm_new(const struct prog *p, const struct vm_host *host, struct engine *eng, struct arena *scratch);
void vm_free(struct vm *vm);
/* Run one rule's handler on the events in vm->bind, for vm->cust. */
enum vm_result vm_run_rule(struct vm *vm, int rule);
/* Run code from entry to HALT and return the value left on the stack
 * (constant folding and the REPL's expressions). */
enum vm_result vm_eval(struct vm *vm, uint32_t entry, struct val *out);
/* The same for code of a rule (a step's `where`): --trace names its
 * events as the rule does. */
enum vm_result vm_eval_of(struct vm *vm, int rule, uint32_t entry, struct val *out);

/* Helpers shared with the builtins. */
struct val vm_error(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct val vm_string(struct vm *vm, const char *s, size_t n);

#endif
