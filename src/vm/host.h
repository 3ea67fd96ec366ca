/* host.h: what the VM asks of whoever runs it.
 *
 * The VM computes; the customer's state (variables, tags, dedupe keys,
 * caps, journeys, metrics, budgets, history) and the responses belong to
 * its host, the engine, which fills in this table (engine/engine.c) and
 * gives its own state as vm->eng, which the VM never reads.  Constant
 * folding runs with no host: the compiler lets no such instruction into
 * a constant.  Each function gets the VM, for vm->eng, vm->cust, vm->rule,
 * vm->now and vm->bind.
 */
#ifndef CXR_HOST_H
#define CXR_HOST_H

#include "base/value.h"

struct vm;

struct vm_host {
	struct val (*customer_key)(struct vm *vm);              /* EVKEY */
	struct val (*getvar)(struct vm *vm, int var);           /* VAR */
	void (*setvar)(struct vm *vm, int var, struct val v);   /* SETVAR: the host copies v */
	struct val (*tags)(struct vm *vm);                      /* TAGS */
	void (*tag)(struct vm *vm, struct val tag, int add);    /* TAG, UNTAG */
	struct val (*history)(struct vm *vm, int query);        /* HIST */
	int (*once)(struct vm *vm, struct val key);             /* ONCE: 0 when the key was seen */
	int (*limit)(struct vm *vm);                            /* LIMIT: 0 when the cap is reached */
	int (*budget_ok)(struct vm *vm, int budget);            /* BUDGET: 0 when it is spent */
	void (*emit)(struct vm *vm, int response, struct val *fields); /* EMIT */
	void (*move)(struct vm *vm, int journey, int stage);    /* MOVE */
	/* OBSERVE: -1 when the metric cannot take the value's kind. */
	int (*observe)(struct vm *vm, int metric, const struct val *v, const struct val *by);
	void (*fire)(struct vm *vm);                            /* FIRE */
};

#endif
