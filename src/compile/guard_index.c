/* guard_index.c: the guard indexes of each event type, built with the
 * prog once its rules are final (engine/dispatch.c reads them).
 *
 * A rule whose code begins by comparing one field of its event (or the
 * customer key) with a string constant, and stops when they differ, can
 * only fire for events carrying that text.  Such rules are indexed by
 * the text, per field, so that an event looks its value up once instead of
 * running every guard.  The guard itself still runs for the rules found:
 * the index only leaves out rules that would have stopped at their first
 * comparison, before any effect.
 */
#include <string.h>

#include "vm/prog.h"

/* The first comparison of a rule's code, when it has the indexable shape:
 * FIELD/EVKEY and a string CONST in either order, EQ, then GUARD (or ANDJ
 * to a GUARD: a false first conjunct fails the guard).  Returns its slot
 * (-1: the customer key) and the constant, or 0. */
static int indexable(const struct prog *p, const struct rule_info *ri, int *slot, const struct val **text)
{
	if (ri->trigger != T_EVENTS || ri->nsteps > 1 || ri->entry + 4 > p->ncode)
		return 0;
	const uint32_t *code = &p->code[ri->entry];
	int field = -2;
	const struct val *k = NULL;
	for (int i = 0; i < 2; i++) {
		uint32_t w = code[i];
		if (INSN_OP(w) == OPC_FIELD && FIELD_BIND(INSN_A(w)) == 0)
			field = (int)FIELD_SLOT(INSN_A(w));
		else if (INSN_OP(w) == OPC_EVKEY)
			field = -1;
		else if (INSN_OP(w) == OPC_CONST)
			k = &p->consts[INSN_A(w)];
	}
	/* A constant marked as data would be compared as a number or a time. */
	if (field == -2 || !k || k->kind != V_STR || (k->flags & VF_DATA) || INSN_OP(code[2]) != OPC_EQ)
		return 0;
	uint32_t pc = ri->entry + 3;
	while (pc < p->ncode && INSN_OP(p->code[pc]) == OPC_ANDJ && INSN_A(p->code[pc]) > pc)
		pc = INSN_A(p->code[pc]);
	if (pc >= p->ncode || INSN_OP(p->code[pc]) != OPC_GUARD)
		return 0;
	*slot = field;
	*text = k;
	return 1;
}

/* The index of one type over one slot: `positions` lists (position, text)
 * of its rules, ascending by position. */
static void index_build(struct guard_index *x, int slot, const int *pos, const struct val *const *texts, int n)
{
	x->slot = slot;
	uint32_t size = 8;
	while (size < (uint32_t)n * 2)
		size *= 2;
	x->mask = size - 1;
	x->buckets = mem_alloc(sizeof *x->buckets * size);
	x->positions = mem_alloc(sizeof *x->positions * (size_t)n);
	/* Count per text, lay the buckets out, then fill them in order. */
	for (int i = 0; i < n; i++) {
		struct guard_bucket *b = guard_bucket_find(x, texts[i]->u.s, texts[i]->len,
							       (uint32_t)mem_hash(texts[i]->u.s, texts[i]->len));
		b->text = texts[i]->u.s;
		b->len = texts[i]->len;
		b->n++;
	}
	int at = 0;
	for (uint32_t i = 0; i < size; i++)
		if (x->buckets[i].text) {
			x->buckets[i].first = at;
			at += x->buckets[i].n;
			x->buckets[i].n = 0;
		}
	for (int i = 0; i < n; i++) {
		struct guard_bucket *b = guard_bucket_find(x, texts[i]->u.s, texts[i]->len,
							       (uint32_t)mem_hash(texts[i]->u.s, texts[i]->len));
		x->positions[b->first + b->n++] = pos[i];
	}
}

void dispatch_free(struct prog *p)
{
	for (int t = 0; t < p->ntypes; t++) {
		struct evtype *et = &p->types[t];
		for (int i = 0; i < et->nindexes; i++) {
			mem_free(et->indexes[i].buckets);
			mem_free(et->indexes[i].positions);
		}
		mem_free(et->indexes);
		mem_free(et->unindexed);
		et->indexes = NULL;
		et->unindexed = NULL;
		et->nindexes = et->nunindexed = 0;
	}
}

/* An index pays for itself only when it leaves out several rules. */
#define INDEX_MIN_RULES 4

void dispatch_build(struct prog *p)
{
	dispatch_free(p);
	int *pos = NULL, *slots = NULL;
	const struct val **texts = NULL;
	for (int t = 0; t < p->ntypes; t++) {
		struct evtype *et = &p->types[t];
		pos = mem_realloc(pos, sizeof *pos * (size_t)(et->nrules + 1));
		slots = mem_realloc(slots, sizeof *slots * (size_t)(et->nrules + 1));
		texts = mem_realloc(texts, sizeof *texts * (size_t)(et->nrules + 1));
		for (int i = 0; i < et->nrules; i++)
			if (!indexable(p, &p->rules[et->rules[i]], &slots[i], &texts[i]))
				slots[i] = -2;
		/* One index per slot that enough rules compare. */
		for (int i = 0; i < et->nrules; i++) {
			int slot = slots[i], n = 0;
			if (slot < -1)
				continue; /* not indexable, or indexed already */
			for (int j = i; j < et->nrules; j++)
				n += slots[j] == slot;
			if (n < INDEX_MIN_RULES) {
				for (int j = i; j < et->nrules; j++)
					if (slots[j] == slot)
						slots[j] = -2;
				continue;
			}
			n = 0;
			const struct val **mine = mem_alloc(sizeof *mine * (size_t)et->nrules);
			for (int j = i; j < et->nrules; j++)
				if (slots[j] == slot) {
					pos[n] = j;
					mine[n++] = texts[j];
					slots[j] = -3; /* indexed */
				}
			et->indexes = mem_realloc(et->indexes, sizeof *et->indexes * (size_t)(et->nindexes + 1));
			index_build(&et->indexes[et->nindexes++], slot, pos, mine, n);
			mem_free(mine);
		}
		if (!et->nindexes)
			continue;
		et->unindexed = mem_alloc(sizeof *et->unindexed * (size_t)(et->nrules + 1));
		for (int i = 0; i < et->nrules; i++)
			if (slots[i] != -3)
				et->unindexed[et->nunindexed++] = i;
	}
	mem_free(pos);
	mem_free(slots);
	mem_free(texts);
}
