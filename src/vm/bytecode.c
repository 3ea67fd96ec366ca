/* bytecode.c: the instruction table (opcodes.h) and what reads it
 * whole: the verifier and the disassembler.
 *
 * `cxr disasm` prints one line per instruction: address, source line, opcode, operand, then
 * what the operand names (a constant's value with its type, a field, a
 * builtin) and the instruction's effect from opcodes.h.  --trace shows
 * each instruction it runs with the same prog_insn_text, so that a trace
 * reads like the listing.
 */
#include <string.h>

#include "base/timeutil.h"
#include "prog.h"

const char *const ty_name[] = {"any", "null", "bool", "int", "float", "string", "time", "duration", "list"};

const char *const agg_names[AGG__COUNT] = {
	[AGG_COUNT] = "count", [AGG_SUM] = "sum", [AGG_AVG] = "avg",   [AGG_MIN] = "min",   [AGG_MAX] = "max",
	[AGG_P50] = "p50",     [AGG_P90] = "p90", [AGG_P99] = "p99",   [AGG_NPS] = "nps",   [AGG_CSAT] = "csat",
	[AGG_RATE] = "rate",
};

const struct op_info op_info[OPC__COUNT] = {
#define OP(name, operand, pops, pushes, effect) {#name, OPND_##operand, pops, pushes, effect},
#include "opcodes.h"
#undef OP
};

/* ---- the verifier ---- */

/* A handler puts back only the entries of depth_at it touched. */
int bytecode_verify(struct prog *p, uint32_t entry, int nbinds, struct bytecode_scratch *s, uint32_t *bad)
{
	if (s->cap < p->ncode + 1) {
		uint32_t cap = s->cap ? s->cap : 256;
		while (cap < p->ncode + 1)
			cap *= 2;
		s->depth_at = mem_realloc(s->depth_at, sizeof *s->depth_at * cap);
		for (uint32_t i = s->cap; i < cap; i++)
			s->depth_at[i] = -1;
		s->cap = cap;
	}
	int *depth_at = s->depth_at;
	uint32_t touched = entry; /* the last entry of depth_at set */
	int depth = 0, ok = 1;
	uint32_t pc;
	for (pc = entry; pc < p->ncode && ok; pc++) {
		uint32_t w = p->code[pc];
		unsigned op = INSN_OP(w);
		uint32_t a = INSN_A(w);
		if (op >= OPC__COUNT) {
			ok = 0;
			break;
		}
		if (depth_at[pc] >= 0 && depth_at[pc] != depth && pc != entry) {
			/* A jump lands here: both paths must agree. */
			ok = 0;
			break;
		}
		const struct op_info *oi = &op_info[op];
		int pops = oi->pops;
		switch (oi->operand) {
		case OPND_NONE: break;
		case OPND_CONST: ok = a < (uint32_t)p->nconsts; break;
		case OPND_LOCAL: ok = a < (uint32_t)p->max_locals; break;
		case OPND_FIELD: ok = FIELD_SLOT(a) < (uint32_t)p->nslots && FIELD_BIND(a) < (uint32_t)nbinds; break;
		case OPND_BIND: ok = a < (uint32_t)nbinds; break;
		case OPND_VAR: ok = a < (uint32_t)p->nvars; break;
		case OPND_JUMP: ok = a > pc && a <= p->ncode; break;
		case OPND_CALL:
			ok = CALL_BUILTIN(a) < (uint32_t)nbuiltins;
			pops = (int)CALL_ARGC(a);
			break;
		case OPND_COUNT: pops = (int)a; break;
		case OPND_GUARD: ok = a < (uint32_t)p->nguards; break;
		case OPND_METRIC: ok = a < (uint32_t)p->nmetrics; break;
		case OPND_BUDGET: ok = a < (uint32_t)p->nbudgets; break;
		case OPND_REGEX: ok = a < (uint32_t)p->nregex; break;
		case OPND_EMIT:
			ok = a < (uint32_t)p->nemits;
			pops = ok ? p->emits[a].nfields : 0;
			break;
		case OPND_TYPE: ok = a <= TY_LIST; break;
		case OPND_QUERY: ok = a < (uint32_t)p->nhqueries; break;
		case OPND_STAGE:
			ok = STAGE_JOURNEY(a) < (uint32_t)p->njourneys &&
			     STAGE_STAGE(a) < (uint32_t)p->journeys[STAGE_JOURNEY(a)].nstages;
			break;
		}
		if (!ok)
			break;
		depth -= pops;
		if (depth < 0) {
			ok = 0;
			break;
		}
		if (oi->operand == OPND_JUMP) {
			/* ANDJ, ORJ, COALJ pop when they fall through and jump with
			 * their operand still on the stack. */
			int at_target = op == OPC_JUMP ? depth : depth + 1;
			if (depth_at[a] >= 0 && depth_at[a] != at_target) {
				ok = 0;
				break;
			}
			depth_at[a] = at_target;
			if (a > touched)
				touched = a;
		}
		depth += oi->pushes;
		if (depth > p->max_stack)
			p->max_stack = depth;
		if (op == OPC_HALT)
			break;
	}
	*bad = pc;
	if (pc > touched)
		touched = pc;
	for (uint32_t i = entry; i <= touched && i <= p->ncode; i++)
		depth_at[i] = -1;
	return ok ? 0 : -1;
}


void bytecode_scratch_free(struct bytecode_scratch *s)
{
	mem_free(s->depth_at);
	s->depth_at = NULL;
	s->cap = 0;
}

/* ---- the disassembler ---- */

/* Which of the rule's events: its name, or its step number. */
static void bind_text(const struct rule_info *ri, uint32_t bind, struct buf *b)
{
	if (ri && (int)bind < ri->nbinds && ri->bind_names[bind])
		buf_adds(b, ri->bind_names[bind]);
	else
		buf_printf(b, "#%u", bind);
}

static void operand_text(const struct prog *p, const struct rule_info *ri, uint32_t w, struct buf *b)
{
	uint32_t a = INSN_A(w);
	switch (op_info[INSN_OP(w)].operand) {
	case OPND_CONST:
		val_render_typed(b, &p->consts[a]); /* 5m (duration), not "5m" */
		break;
	case OPND_FIELD:
		bind_text(ri, FIELD_BIND(a), b);
		buf_printf(b, ".%s", p->slots[FIELD_SLOT(a)].path);
		break;
	case OPND_BIND:
		bind_text(ri, a, b);
		break;
	case OPND_VAR:
		buf_printf(b, "customer.%s", p->vars[a]);
		break;
	case OPND_CALL:
		buf_printf(b, "%s/%u", builtins[CALL_BUILTIN(a)].name, CALL_ARGC(a));
		break;
	case OPND_EMIT:
		buf_printf(b, "%s {", p->emits[a].action);
		for (int i = 0; i < p->emits[a].nfields; i++)
			buf_printf(b, "%s%s", i ? ", " : "", p->emits[a].names[i]);
		buf_adds(b, "}");
		break;
	case OPND_JUMP:
		buf_printf(b, "-> %04u", a);
		break;
	case OPND_TYPE:
		buf_printf(b, "to %s", ty_name[a]);
		break;
	case OPND_LOCAL:
		buf_printf(b, "local %u", a);
		break;
	case OPND_METRIC:
		buf_printf(b, "metric %s", p->metrics[a].name);
		break;
	case OPND_BUDGET:
		buf_printf(b, "budget %s", p->budgets[a].name);
		break;
	case OPND_COUNT:
	case OPND_GUARD:
		buf_printf(b, "%u", a);
		break;
	case OPND_REGEX:
		buf_printf(b, "regex %u", a);
		break;
	case OPND_STAGE:
		buf_printf(b, "%s to %s", p->journeys[STAGE_JOURNEY(a)].name,
			   p->journeys[STAGE_JOURNEY(a)].stages[STAGE_STAGE(a)]);
		break;
	case OPND_QUERY: {
		static const char *const kinds[] = {"count", "sum", "last", "first", "since", "last", "first", "count",
						    "distinct"};
		const struct history_query *q = &p->hqueries[a];
		int type = p->hspecs[q->spec].type;
		int windowed = q->kind == H_COUNT || q->kind == H_SUM || q->kind >= H_DISTINCT_COUNT;
		buf_printf(b, "%s(%s%s", kinds[q->kind], q->kind == H_DISTINCT_COUNT ? "distinct " : "",
			   type >= 0 ? p->types[type].name : "any");
		if (q->kind == H_SUM)
			buf_printf(b, ".%s", p->slots[p->hspecs[q->spec].sum_slots[q->sum]].path);
		if (q->kind >= H_DISTINCT_COUNT)
			buf_printf(b, ".%s", p->slots[q->slot].path);
		if (q->where != NO_CODE)
			buf_printf(b, " where Q%u", a);
		if (windowed) {
			buf_adds(b, " within ");
			dur_format(b, q->window);
		}
		buf_addc(b, ')');
		if (q->slot >= 0 && !windowed)
			buf_printf(b, ".%s", p->slots[q->slot].path);
		break;
	}
	case OPND_NONE:
		break;
	}
}

void prog_insn_text(const struct prog *p, const struct rule_info *ri, uint32_t pc, struct buf *out)
{
	uint32_t w = p->code[pc];
	buf_printf(out, "%04u %4d  %-9s ", pc, p->lines[pc].first_line, op_info[INSN_OP(w)].name);
	size_t operand = out->len;
	operand_text(p, ri, w, out);
	/* The operand column is 28 wide: what follows lines up. */
	for (size_t n = out->len - operand; n < 28; n++)
		buf_addc(out, ' ');
}

static void code_text(const struct prog *p, const struct rule_info *ri, uint32_t entry, struct buf *out)
{
	for (uint32_t pc = entry; pc < p->ncode; pc++) {
		buf_adds(out, "  ");
		prog_insn_text(p, ri, pc, out);
		buf_printf(out, " ; %s\n", op_info[INSN_OP(p->code[pc])].effect);
		if (INSN_OP(p->code[pc]) == OPC_HALT)
			break;
	}
}

void prog_disasm(const struct prog *p, struct buf *out)
{
	struct buf d = {0};
	for (int r = 0; r < p->nrules; r++) {
		const struct rule_info *ri = &p->rules[r];
		buf_printf(out, "rule %s (line %d, %d local%s)", ri->name, ri->loc.first_line, ri->nlocals,
			   ri->nlocals == 1 ? "" : "s");
		if (ri->priority)
			buf_printf(out, " priority %lld", (long long)ri->priority);
		buf_addc(out, '\n');
		/* A pattern's steps, each with its window and its condition. */
		for (int s = 0; s < ri->nsteps && (ri->nsteps > 1 || ri->trigger == T_REPEAT); s++) {
			const struct pattern_step *st = &ri->steps[s];
			buf_printf(out, "  step %d: %s", s, s == 0 ? (ri->trigger == T_REPEAT ? "repeat" : "on") :
								st->negated ? "then no" : "then");
			for (int i = 0; i < st->ntypes; i++)
				buf_printf(out, "%s%s", i ? " | " : " ", p->types[st->types[i]].name);
			if (ri->bind_names[s])
				buf_printf(out, " as %s", ri->bind_names[s]);
			if (st->within) {
				buf_clear(&d);
				dur_format(&d, st->within);
				buf_printf(out, " within %s", d.p);
			}
			if (ri->trigger == T_REPEAT)
				buf_printf(out, " (the %lld-th)", (long long)ri->repeat_n);
			buf_addc(out, '\n');
			if (st->where != NO_CODE) {
				buf_adds(out, "  where:\n");
				code_text(p, ri, st->where, out);
			}
		}
		code_text(p, ri, ri->entry, out);
		/* The conditions of its history queries, after its code. */
		for (int q = 0; q < p->nhqueries; q++)
			if (p->hqueries[q].where != NO_CODE && p->hqueries[q].rule == r) {
				buf_printf(out, "  where Q%d (the past event is event %d):\n", q, p->hqueries[q].nbinds - 1);
				code_text(p, ri, p->hqueries[q].where, out);
			}
	}
	/* Guard indexes (dispatch.c): which rules an event finds by a value. */
	for (int t = 0; t < p->ntypes; t++) {
		const struct evtype *et = &p->types[t];
		if (!et->nindexes)
			continue;
		buf_printf(out, "index %s:", et->name);
		for (int i = 0; i < et->nindexes; i++) {
			const struct guard_index *x = &et->indexes[i];
			int rules = 0, values = 0;
			for (uint32_t k = 0; k <= x->mask; k++) {
				rules += x->buckets[k].n;
				values += x->buckets[k].text != NULL;
			}
			buf_printf(out, " %d rules by %s (%d value%s),", rules,
				   x->slot < 0 ? "customer" : p->slots[x->slot].path, values, values == 1 ? "" : "s");
		}
		buf_printf(out, " %d for every event\n", et->nunindexed);
	}
	buf_free(&d);
}
