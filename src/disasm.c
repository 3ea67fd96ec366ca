/* disasm.c: `cxr disasm`, printed from the opcode table.
 *
 * One line per instruction: address, source line, opcode, operand, then
 * what the operand names (a constant's value, a field, a builtin) and the
 * instruction's effect from opcodes.h.
 */
#include <string.h>

#include "engine.h"
#include "prog.h"

static void operand_text(const struct prog *p, uint32_t w, struct buf *b)
{
	uint32_t a = INSN_A(w);
	switch (op_info[INSN_OP(w)].operand) {
	case OPND_K:
		val_render_json(b, &p->consts[a]);
		break;
	case OPND_S:
		buf_printf(b, "field %s", p->slots[a].path);
		break;
	case OPND_V:
		buf_printf(b, "customer.%s", p->vars[a]);
		break;
	case OPND_B:
		buf_printf(b, "%s/%u", builtins[a >> 8].name, a & 0xFF);
		break;
	case OPND_E:
		buf_printf(b, "%s {", p->emits[a].action);
		for (int i = 0; i < p->emits[a].nfields; i++)
			buf_printf(b, "%s%s", i ? ", " : "", p->emits[a].names[i]);
		buf_adds(b, "}");
		break;
	case OPND_J:
		buf_printf(b, "-> %04u", a);
		break;
	case OPND_T:
		buf_printf(b, "to %s", ty_name[a]);
		break;
	case OPND_L:
		buf_printf(b, "local %u", a);
		break;
	case OPND_N:
		buf_printf(b, "%u", a);
		break;
	case OPND_R:
		buf_printf(b, "regex %u", a);
		break;
	case OPND_NONE:
		break;
	}
}

void prog_disasm(const struct prog *p, struct buf *out)
{
	struct buf operand = {0};
	for (int r = 0; r < p->nrules; r++) {
		const struct rule_info *ri = &p->rules[r];
		buf_printf(out, "rule %s (line %d, %d local%s)", ri->name, ri->loc.first_line, ri->nlocals,
			   ri->nlocals == 1 ? "" : "s");
		if (ri->priority)
			buf_printf(out, " priority %lld", (long long)ri->priority);
		buf_addc(out, '\n');
		for (uint32_t pc = ri->entry; pc < p->ncode; pc++) {
			uint32_t w = p->code[pc];
			const struct op_info *oi = &op_info[INSN_OP(w)];
			buf_clear(&operand);
			operand_text(p, w, &operand);
			buf_printf(out, "  %04u %4d  %-9s %-28s ; %s\n", pc, p->lines[pc].first_line, oi->name,
				   operand.p ? operand.p : "", oi->effect);
			if (INSN_OP(w) == OPC_HALT)
				break;
		}
	}
	buf_free(&operand);
}
