/* host.c: the engine as the VM's host (vm/host.h).
 *
 * The table points at the engine's effects of a handler; the few that
 * take the engine's own arguments (the customer's index, the time of the
 * firing, the event that caused it) get them from the VM here.
 */
#include "engine_int.h"
#include "vm/vm.h"

static uint32_t customer_index(const struct vm *vm)
{
	return (uint32_t)(vm->cust - vm->eng->custs);
}

static struct val customer_key(struct vm *vm)
{
	return val_str(cust_key(vm->cust), vm->cust->keylen);
}

static void move(struct vm *vm, int journey, int stage)
{
	journey_move(vm->eng, customer_index(vm), journey, stage, vm->now, vm->bind[0]);
}

static int observe(struct vm *vm, int metric, const struct val *v, const struct val *by)
{
	return measure_observe(vm->eng, metric, v, by);
}

static int budget_ok(struct vm *vm, int budget)
{
	return measure_budget_ok(vm->eng, vm->rule, customer_index(vm), budget, vm->now);
}

const struct vm_host engine_vm_host = {
	.customer_key = customer_key,
	.getvar = engine_getvar,
	.setvar = engine_setvar,
	.tags = engine_tags,
	.tag = engine_tag,
	.history = history_query,
	.once = engine_once,
	.limit = engine_limit,
	.budget_ok = budget_ok,
	.emit = engine_emit,
	.move = move,
	.observe = observe,
	.fire = engine_fire,
};
