/* opcodes.h: the one table of VM instructions.
 *
 * OP(name,     operand, pops, pushes, effect)
 *   operand: what the 24-bit operand names (enum operand_kind in prog.h):
 *     NONE; CONST, a constant; LOCAL, a local; FIELD, a binding and an
 *     event slot (FIELD_OPERAND); BIND, which of the rule's events; VAR, a
 *     customer variable; JUMP, a target address; CALL, a builtin and its
 *     argument count (CALL_OPERAND); COUNT, how many values; GUARD, a
 *     guard's number; METRIC, BUDGET, REGEX, EMIT (a response), QUERY (a
 *     history query): an index into the prog's table of that name; TYPE,
 *     a static type; STAGE, a journey and a stage (STAGE_OPERAND).
 *   pops/pushes: stack effect; -1 means "the operand says" (CALL's
 *     argument count, COUNT, or the fields of EMIT's response)
 *   effect: what it does, in the notation disasm prints.
 * This table generates the enum, the names, the disassembler's operand
 * printing and the verifier's checks (bytecode.c).
 */
OP(HALT,     NONE,    0, 0, "end of handler")
OP(CONST,    CONST,   0, 1, "push(K[a])")
OP(NUL,      NONE,    0, 1, "push(null)")
OP(POP,      NONE,    1, 0, "pop()")
OP(LOCAL,    LOCAL,   0, 1, "push(L[a])")
OP(SETLOCAL, LOCAL,   1, 0, "L[a] := pop()")
OP(FIELD,    FIELD,   0, 1, "push(E[bind].slot[s])")
OP(EVTIME,   BIND,    0, 1, "push(E[a].time)")
OP(EVTYPE,   BIND,    0, 1, "push(E[a].type)")
OP(EVKEY,    NONE,    0, 1, "push(event.customer)")
OP(VAR,      VAR,     0, 1, "push(customer.var[a])")
OP(SETVAR,   VAR,     1, 0, "customer.var[a] := pop()")
OP(TAGS,     NONE,    0, 1, "push(customer.tags)")
OP(HIST,     QUERY,   0, 1, "push(history query Q[a] over the customer's past events)")
OP(CONV,     TYPE,    1, 1, "push(convert(pop(), type a))")
OP(ADD,      NONE,    2, 1, "b := pop(); a := pop(); push(a + b)")
OP(SUB,      NONE,    2, 1, "push(a - b)")
OP(MUL,      NONE,    2, 1, "push(a * b)")
OP(DIV,      NONE,    2, 1, "push(a / b)")
OP(MOD,      NONE,    2, 1, "push(a % b)")
OP(NEG,      NONE,    1, 1, "push(-pop())")
OP(NOT,      NONE,    1, 1, "push(!truthy(pop()))")
OP(EQ,       NONE,    2, 1, "push(a == b)")
OP(NE,       NONE,    2, 1, "push(a != b)")
OP(LT,       NONE,    2, 1, "push(a < b)")
OP(LE,       NONE,    2, 1, "push(a <= b)")
OP(GT,       NONE,    2, 1, "push(a > b)")
OP(GE,       NONE,    2, 1, "push(a >= b)")
OP(IN,       NONE,    2, 1, "push(a is an item of list b)")
OP(HAS,      NONE,    2, 1, "push(list a has item b)")
OP(INDEX,    NONE,    2, 1, "push(a[b]: item b of list a, from the end when negative; null when out of range)")
OP(MATCH,    REGEX,   1, 1, "push(pop() matches regex R[a])")
OP(TRUTH,    NONE,    1, 1, "push(truthy(pop()))")
OP(JUMP,     JUMP,    0, 0, "pc := a")
OP(ANDJ,     JUMP,    1, 0, "if !truthy(top): top := false, pc := a; else pop()")
OP(ORJ,      JUMP,    1, 0, "if truthy(top): top := true, pc := a; else pop()")
OP(COALJ,    JUMP,    1, 0, "if top != null: pc := a; else pop()")
OP(GUARD,    GUARD,   1, 0, "if !truthy(pop()): stop, guard a failed")
OP(CALL,     CALL,   -1, 1, "push(builtin(args))")
OP(LIST,     COUNT,  -1, 1, "push([n popped values])")
OP(CONCAT,   COUNT,  -1, 1, "push(text of n popped values, joined)")
OP(ONCE,     NONE,    1, 0, "stop if pop() is already this rule's dedupe key for the customer")
OP(LIMIT,    NONE,    0, 0, "stop if the rule's frequency cap is reached")
OP(EMIT,     EMIT,   -1, 0, "emit response E[a] with its fields popped")
OP(TAG,      NONE,    1, 0, "add tag pop() to the customer")
OP(UNTAG,    NONE,    1, 0, "remove tag pop() from the customer")
OP(MOVE,     STAGE,   0, 0, "move the customer in journey a>>12 to stage a&4095")
OP(OBSERVE,  METRIC,  2, 0, "b := pop(); v := pop(); observe v in metric a, grouped by b")
OP(BUDGET,   BUDGET,  0, 0, "stop if budget a is spent (the firing is audited as budget_exhausted)")
OP(FIRE,     NONE,    0, 0, "record the firing: dedupe key, cap, spend, counters")
