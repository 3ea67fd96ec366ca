/* engine.c: per-customer state, dispatch of events to handlers, output.
 *
 * Customers live in one array indexed through an open-addressing table on
 * the key's hash.  Their variables, tags, dedupe keys and caps are created
 * on first use, so that a customer no rule has touched costs one entry.
 */
#include "engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/progress.h"
#include "base/timeutil.h"
#include "vm/vm.h"

/* The holdout groups depend on this hash: it must never change, or the
 * same customers would land in other groups from one version to the next. */
static uint64_t holdout_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

struct engine *engine_new(const struct prog *p, struct diag *d)
{
	struct engine *e = mem_alloc(sizeof *e);
	e->prog = p;
	e->diag = d;
	e->stats = mem_alloc(sizeof *e->stats * (size_t)(p->nrules + 1));
	e->vm = vm_new(p, &engine_vm_host, e, &e->scratch);
	measure_init(e);
	e->cust_mask = 1023;
	e->cust_index = mem_alloc(sizeof *e->cust_index * (e->cust_mask + 1));
	int most = 0;
	for (int t = 0; t < p->ntypes; t++)
		most = p->types[t].nrules > most ? p->types[t].nrules : most;
	e->dispatched = mem_alloc(sizeof *e->dispatched * (size_t)(most + 1));
	return e;
}

static void rule_state_free(struct rule_state *rs)
{
	while (rs) {
		struct rule_state *next = rs->next;
		for (uint32_t i = 0; i < rs->nkeys; i++)
			mem_free(rs->keys[i]);
		mem_free(rs->keys);
		mem_free(rs->fired);
		mem_free(rs->window);
		mem_free(rs);
		rs = next;
	}
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	measure_free(e);
	history_free(e);
	engine_free_patterns(e);
	journey_free(e);
	for (uint32_t i = 0; i < e->ncusts; i++) {
		struct customer *c = &e->custs[i];
		if (c->vars) {
			for (int k = 0; k < e->prog->nvars; k++)
				mem_free(c->vars[k].mem);
			mem_free(c->vars);
		}
		if (c->rare) {
			for (uint32_t k = 0; k < c->rare->ntags; k++)
				mem_free(c->rare->tags[k]);
			mem_free(c->rare->tags);
			rule_state_free(c->rare->rules);
			mem_free(c->rare);
		}
	}
	engine_release_retired(e);
	mem_free(e->retired);
	mem_free(e->tally.first_raw);
	mem_free(e->tally.first_why);
	mem_free(e->custs);
	mem_free(e->cust_index);
	mem_free(e->dirty);
	mem_free(e->dispatched);
	arena_free(&e->keys);
	arena_free(&e->scratch);
	buf_free(&e->line);
	buf_free(&e->at);
	buf_free(&e->once_key);
	vm_free(e->vm);
	vm_free(e->hvm);
	mem_free(e->stats);
	for (uint32_t i = 0; i < e->nfiles; i++)
		mem_free((char *)e->files[i]);
	mem_free(e->files);
	mem_free(e);
}

void engine_touch_grow(struct engine *e, uint32_t cust)
{
	uint32_t words = e->dirty_words ? e->dirty_words : 64;
	while (cust >> 6 >= words)
		words *= 2;
	e->dirty = mem_realloc(e->dirty, sizeof *e->dirty * words);
	memset(e->dirty + e->dirty_words, 0, sizeof *e->dirty * (words - e->dirty_words));
	e->dirty_words = words;
}

void engine_track_changes(struct engine *e)
{
	if (!e->dirty)
		engine_touch_grow(e, 0);
	memset(e->dirty, 0, sizeof *e->dirty * e->dirty_words);
}

static void cust_grow(struct engine *e)
{
	uint32_t mask = e->cust_mask * 2 + 1;
	uint32_t *index = mem_alloc(sizeof *index * (mask + 1));
	for (uint32_t i = 0; i < e->ncusts; i++) {
		uint32_t slot = (uint32_t)e->custs[i].hash & mask;
		while (index[slot])
			slot = (slot + 1) & mask;
		index[slot] = i + 1;
	}
	mem_free(e->cust_index);
	e->cust_index = index;
	e->cust_mask = mask;
}

uint32_t engine_customer(struct engine *e, const char *key, size_t len)
{
	return engine_customer_hashed(e, key, len, (uint32_t)mem_hash(key, len));
}

void engine_customer_prefetch(const struct engine *e, uint32_t h, int stage)
{
	const uint32_t *slot = &e->cust_index[h & e->cust_mask];
	if (stage == 0)
		__builtin_prefetch(slot);
	else if (*slot)
		__builtin_prefetch(&e->custs[*slot - 1]);
}

uint32_t engine_customer_hashed(struct engine *e, const char *key, size_t len, uint32_t h)
{
	uint32_t slot = h & e->cust_mask;
	for (;;) {
		uint32_t i = e->cust_index[slot];
		if (!i)
			break;
		struct customer *c = &e->custs[i - 1];
		if (c->hash == h && c->keylen == len && memcmp(cust_key(c), key, len) == 0)
			return i - 1;
		slot = (slot + 1) & e->cust_mask;
	}
	if (e->ncusts == e->capcusts) {
		e->capcusts = e->capcusts ? e->capcusts * 2 : 1024;
		e->custs = mem_realloc(e->custs, sizeof *e->custs * e->capcusts);
	}
	struct customer *c = &e->custs[e->ncusts];
	memset(c, 0, sizeof *c);
	c->keylen = (uint32_t)len;
	if (len < sizeof c->key.text)
		memcpy(c->key.text, key, len); /* the memset left its NUL */
	else
		c->key.ptr = arena_strndup(&e->keys, key, len);
	c->hash = h;
	e->cust_index[slot] = ++e->ncusts;
	if (e->ncusts * 2 > e->cust_mask)
		cust_grow(e);
	return e->ncusts - 1;
}

uint32_t engine_file(struct engine *e, const char *name)
{
	for (uint32_t i = 0; i < e->nfiles; i++)
		if (strcmp(e->files[i], name) == 0)
			return i;
	e->files = mem_realloc(e->files, sizeof *e->files * (e->nfiles + 1));
	e->files[e->nfiles] = mem_strndup(name, strlen(name));
	return e->nfiles++;
}

/* ---- customer state used by the VM ---- */

const struct customer_rare cust_rare_none;
_Static_assert(sizeof(void *) != 8 || sizeof(struct customer) == 56,
	       "struct customer is what every customer costs: keep it small");

struct customer_rare *cust_rare_new(struct customer *c)
{
	if (!c->rare)
		c->rare = mem_alloc(sizeof *c->rare);
	return c->rare;
}

static struct rule_state *rule_state(struct customer *c, int rule, int create)
{
	for (struct rule_state *rs = cust_rare(c)->rules; rs; rs = rs->next)
		if (rs->rule == rule)
			return rs;
	if (!create)
		return NULL;
	struct customer_rare *r = cust_rare_new(c);
	struct rule_state *rs = mem_alloc(sizeof *rs);
	rs->rule = rule;
	rs->next = r->rules;
	r->rules = rs;
	return rs;
}

struct rule_state *engine_rule_state(struct engine *e, uint32_t cust, int rule)
{
	return rule_state(&e->custs[cust], rule, 1);
}

/* The dedupe key as text, with its kind, so that 1 and "1" differ. */
void engine_key_text(struct buf *b, const struct val *v)
{
	buf_clear(b);
	buf_addc(b, (char)('a' + v->kind));
	val_render_json(b, v);
}

static int key_find(const struct rule_state *rs, const char *k, uint32_t *at)
{
	uint32_t lo = 0, hi = rs->nkeys;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = strcmp(rs->keys[mid], k);
		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

/* `holdout P%`: a stable hash of the rule (or the salt) and the customer
 * puts a share P of customers in the control group, the same ones on
 * every run.  Rules with the same salt hold out the same customers. */
static int held_out(const struct rule_info *ri, const struct customer *c)
{
	if (ri->holdout <= 0)
		return 0;
	const char *salt = ri->salt ? ri->salt : ri->name;
	uint64_t h = holdout_hash(salt, strlen(salt));
	h ^= holdout_hash(cust_key(c), c->keylen) * 0x9E3779B97F4A7C15ULL;
	h ^= h >> 31;
	return (double)(h % 1000000) < ri->holdout * 1000000.0;
}

int engine_held_out(const struct engine *e, int rule, uint32_t cust)
{
	return held_out(&e->prog->rules[rule], &e->custs[cust]);
}

int engine_once(struct vm *vm, struct val key)
{
	struct engine *e = vm->eng;
	engine_key_text(&vm->tmp, &key);
	struct rule_state *rs = rule_state(vm->cust, vm->rule, 0);
	uint32_t at;
	if (rs && key_find(rs, vm->tmp.p, &at)) {
		e->stats[vm->rule].deduped++;
		return 0;
	}
	/* Remember the key until FIRE: a later cap may still stop the rule. */
	buf_clear(&e->once_key);
	buf_add(&e->once_key, vm->tmp.p, vm->tmp.len);
	e->has_once_key = 1;
	return 1;
}

int engine_limit(struct vm *vm)
{
	struct engine *e = vm->eng;
	const struct rule_info *ri = &e->prog->rules[vm->rule];
	struct rule_state *rs = rule_state(vm->cust, vm->rule, 0);
	if (ri->limit_n == 0) {
		e->stats[vm->rule].capped++; /* `limit 0`: never */
		return 0;
	}
	if (!rs || rs->nfired < (uint32_t)ri->limit_n)
		return 1;
	/* The ring is full: the oldest firing must have left the window,
	 * which includes its edge (a firing exactly D ago still counts). */
	int64_t oldest = rs->fired[rs->head];
	if (oldest >= time_minus(vm->now, ri->limit_per)) {
		e->stats[vm->rule].capped++;
		return 0;
	}
	return 1;
}

void engine_fire(struct vm *vm)
{
	struct engine *e = vm->eng;
	const struct rule_info *ri = &e->prog->rules[vm->rule];
	e->stats[vm->rule].fired++;
	int out = held_out(ri, vm->cust);
	if (out)
		e->stats[vm->rule].held_out++;
	uint32_t cust = (uint32_t)(vm->cust - e->custs);
	for (int b = 0; b < ri->nbudgets && !out; b++)
		measure_spend(e, ri->budgets[b], vm->now); /* a held-out customer got nothing */
	measure_fired(e, vm->rule, cust, vm->now, out);
	/* A session (the REPL's :rules) tells customers too; a run does not
	 * pay for it. */
	if (e->prog->growing) {
		struct rule_state *rs = rule_state(vm->cust, vm->rule, 1);
		e->stats[vm->rule].customers += !rs->counted;
		rs->counted = 1;
	}
	if (!e->has_once_key && !ri->limit_n)
		return;
	struct rule_state *rs = rule_state(vm->cust, vm->rule, 1);
	if (e->has_once_key) {
		uint32_t at;
		if (!key_find(rs, e->once_key.p, &at)) {
			if (rs->nkeys == rs->capkeys) {
				rs->capkeys = rs->capkeys ? rs->capkeys * 2 : 4;
				rs->keys = mem_realloc(rs->keys, sizeof *rs->keys * rs->capkeys);
			}
			memmove(rs->keys + at + 1, rs->keys + at, sizeof *rs->keys * (rs->nkeys - at));
			rs->keys[at] = mem_strndup(e->once_key.p, e->once_key.len);
			rs->nkeys++;
		}
		e->has_once_key = 0;
	}
	if (ri->limit_n > 0) {
		uint32_t n = (uint32_t)ri->limit_n;
		if (!rs->fired)
			rs->fired = mem_alloc(sizeof *rs->fired * n);
		if (rs->nfired < n) {
			rs->fired[(rs->head + rs->nfired) % n] = vm->now;
			rs->nfired++;
		} else {
			rs->fired[rs->head] = vm->now;
			rs->head = (rs->head + 1) % n;
		}
	}
}

/* The ownership rule (value.h): the new value is copied before the old
 * block goes, since it may be built from it, and the old block is kept
 * until the handler ends, since a local may still hold it. */
void engine_setvar(struct vm *vm, int var, struct val v)
{
	struct engine *e = vm->eng;
	struct customer *c = vm->cust;
	if (!c->vars)
		c->vars = mem_alloc(sizeof *c->vars * (size_t)vm->p->nvars);
	struct owned *o = &c->vars[var];
	void *old = o->mem;
	o->mem = NULL;
	size_t n = val_copy_size(&v);
	if (n) {
		o->mem = mem_alloc(n);
		char *p = o->mem;
		v = val_copy_into(&v, &p);
	}
	o->v = v;
	if (old) {
		if (e->nretired == e->capretired) {
			e->capretired = e->capretired ? 2 * e->capretired : 8;
			e->retired = mem_realloc(e->retired, sizeof *e->retired * e->capretired);
		}
		e->retired[e->nretired++] = old;
	}
}

void engine_release_retired(struct engine *e)
{
	for (uint32_t i = 0; i < e->nretired; i++)
		mem_free(e->retired[i]);
	e->nretired = 0;
}

struct val engine_getvar(struct vm *vm, int var)
{
	struct customer *c = vm->cust;
	return c->vars ? c->vars[var].v : val_null();
}

struct val engine_tags(struct vm *vm)
{
	const struct customer_rare *c = cust_rare(vm->cust);
	struct val v = {0};
	v.kind = V_LIST;
	v.len = c->ntags;
	struct val *items = arena_alloc(vm->scratch, sizeof *items * (c->ntags + 1));
	for (uint32_t i = 0; i < c->ntags; i++)
		items[i] = val_str(c->tags[i], strlen(c->tags[i]));
	v.u.items = items;
	return v;
}

void engine_tag(struct vm *vm, struct val tag, int add)
{
	if (!add && !vm->cust->rare)
		return;
	struct customer_rare *c = cust_rare_new(vm->cust);
	buf_clear(&vm->tmp);
	val_render_text(&vm->tmp, &tag);
	const char *t = vm->tmp.p ? vm->tmp.p : "";
	uint32_t at = 0;
	while (at < c->ntags && strcmp(c->tags[at], t) < 0)
		at++;
	int present = at < c->ntags && strcmp(c->tags[at], t) == 0;
	if (add && !present) {
		c->tags = mem_realloc(c->tags, sizeof *c->tags * (c->ntags + 1));
		memmove(c->tags + at + 1, c->tags + at, sizeof *c->tags * (c->ntags - at));
		c->tags[at] = mem_strndup(t, strlen(t));
		c->ntags++;
	} else if (!add && present) {
		mem_free(c->tags[at]);
		memmove(c->tags + at, c->tags + at + 1, sizeof *c->tags * (c->ntags - at - 1));
		c->ntags--;
	}
}

/* ---- output ---- */

/* A CSV cell: quoted when needed; a leading = + - @ (or tab, CR) gets a
 * ' in front, so that no spreadsheet runs the cell as a formula.  A plain
 * number such as -5 is left alone: it cannot be a formula. */
static void csv_cell(struct buf *b, const char *s, size_t n)
{
	struct val number, text = val_str(s, n);
	int guard = n && strchr("=+-@\t\r", s[0]) && !val_as_number(&text, &number);
	int quote = guard;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		buf_add(b, s, n);
		return;
	}
	buf_addc(b, '"');
	if (guard)
		buf_addc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(b, '"');
		buf_addc(b, s[i]);
	}
	buf_addc(b, '"');
}

static void csv_value(struct buf *b, struct buf *tmp, const struct val *v)
{
	if (v->kind == V_NULL)
		return;
	buf_clear(tmp);
	if (v->kind == V_LIST)
		val_render_json(tmp, v);
	else
		val_render_text(tmp, v);
	csv_cell(b, tmp->p ? tmp->p : "", tmp->len);
}

/* A response as one JSON object, without its closing brace. */
static void render_json(struct buf *b, const struct emit_desc *d, const struct customer *c, const struct buf *at,
			const struct val *fields)
{
	buf_adds(b, d->json_head);
	json_write_str(b, cust_key(c), c->keylen);
	buf_adds(b, ",\"at\":\"");
	buf_add(b, at->p, at->len);
	buf_addc(b, '"');
	for (int i = 0; i < d->nfields; i++) {
		buf_adds(b, d->json_keys[i]);
		val_render_json(b, &fields[i]);
	}
}

static void csv_header_text(struct engine *e, struct buf *b)
{
	const struct prog *p = e->prog;
	buf_adds(b, "action,rule,customer,at");
	for (int i = 0; i < p->ncolumns; i++) {
		buf_addc(b, ',');
		csv_cell(b, p->columns[i], strlen(p->columns[i]));
	}
	buf_addc(b, '\n');
	e->header_written = 1;
}

void engine_csv_header(struct engine *e)
{
	if (e->header_written)
		return;
	struct buf b = {0};
	csv_header_text(e, &b);
	if (e->out)
		e->out(e->out_ud, b.p, b.len);
	buf_free(&b);
}

static void render_csv(struct engine *e, struct buf *b, const struct emit_desc *d, const char *rule,
		       const struct customer *c, const struct buf *at, const struct val *fields, struct buf *tmp)
{
	const struct prog *p = e->prog;
	if (!e->header_written)
		csv_header_text(e, b);
	csv_cell(b, d->action, strlen(d->action));
	buf_addc(b, ',');
	csv_cell(b, rule, strlen(rule));
	buf_addc(b, ',');
	csv_cell(b, cust_key(c), c->keylen);
	buf_addc(b, ',');
	buf_add(b, at->p, at->len);
	for (int col = 0; col < p->ncolumns; col++) {
		buf_addc(b, ',');
		for (int i = 0; i < d->nfields; i++)
			if (d->cols[i] == col)
				csv_value(b, tmp, &fields[i]);
	}
}

/* `cxr diff` pairs the responses of two versions by what triggered them:
 * the rule's first event (its `on`), as "file:line", or null (a stuck
 * timer).  A member after the fields, which only the diff sees. */
static void trigger_id(const struct engine *e, const struct vm *vm, struct buf *b)
{
	const struct event *ev = vm->bind[0];
	buf_adds(b, ",\"@trigger\":");
	if (!ev) {
		buf_adds(b, "null");
		return;
	}
	struct buf id = {0};
	buf_printf(&id, "%s:%llu", ev->file < e->nfiles ? e->files[ev->file] : "-", (unsigned long long)ev->line);
	json_write_str(b, id.p, id.len);
	buf_free(&id);
}

/* A response's id: the same response of the same cause gets the same id
 * in any run (a resumed one, one split into parts), so that a consumer
 * drops a duplicate.  The cause: the rule, the customer, the emit, the
 * rule's events (each by file and line) and the timer firing, if one
 * is. */
static void response_id(const struct engine *e, const struct vm *vm, int desc, struct buf *b)
{
	const struct rule_info *ri = &e->prog->rules[vm->rule];
	uint64_t h = mem_hash(ri->name, strlen(ri->name));
	h = h * 0x100000001B3ULL ^ mem_hash(cust_key(vm->cust), vm->cust->keylen);
	h = h * 0x100000001B3ULL ^ (uint64_t)desc;
	for (int i = 0; i < ri->nbinds && i < MAX_BINDS; i++) {
		const struct event *ev = vm->bind[i];
		if (!ev)
			continue;
		const char *f = ev->file < e->nfiles ? e->files[ev->file] : "-";
		h = h * 0x100000001B3ULL ^ mem_hash(f, strlen(f));
		h = h * 0x100000001B3ULL ^ ev->line;
	}
	if (e->timer_running.active) {
		h = h * 0x100000001B3ULL ^ (uint64_t)e->timer_running.deadline;
		h = h * 0x100000001B3ULL ^ e->timer_running.seq;
	}
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 32;
	buf_printf(b, ",\"id\":\"%016llx\"", (unsigned long long)h);
}

void engine_emit(struct vm *vm, int desc, struct val *fields)
{
	struct engine *e = vm->eng;
	const struct emit_desc *d = &e->prog->emits[desc];
	const struct rule_info *ri = &e->prog->rules[vm->rule];
	int out = held_out(ri, vm->cust);
	if (out && !e->audit)
		return; /* the rule ran; the customer sees nothing */
	struct buf *b = &e->line;
	struct buf *at = &e->at;
	buf_clear(at);
	time_format(at, vm->now);
	buf_clear(b);
	if (out) {
		/* Held out: only the audit stream sees it, marked so, as JSON. */
		render_json(b, d, vm->cust, at, fields);
		if (e->response_ids)
			response_id(e, vm, desc, b);
		buf_adds(b, ",\"held_out\":true}\n");
		e->audit(e->audit_ud, b->p, b->len);
	} else {
		if (e->format == OUT_CSV) {
			render_csv(e, b, d, ri->name, vm->cust, at, fields, &vm->tmp);
			buf_addc(b, '\n');
		} else {
			render_json(b, d, vm->cust, at, fields);
			if (e->response_ids)
				response_id(e, vm, desc, b);
			if (e->trigger_ids)
				trigger_id(e, vm, b);
			buf_adds(b, "}\n");
		}
		e->responses++;
		if (e->out)
			e->out(e->out_ud, b->p, b->len);
	}
}

void engine_runtime_error(struct engine *e, int rule, const struct event *cause)
{
	struct vm *vm = e->vm;
	e->runtime_errors++;
	e->stats[rule].errors++;
	/* A worker tells every error: the merge keeps five per rule. */
	if (e->sink)
		e->sink->runtime_error(e->sink->ud, rule);
	else if (e->stats[rule].errors > 5 && !e->prog->growing) { /* a session limits each replay itself */
		if (e->stats[rule].errors == 6)
			diag_plain(e->diag, "note: rule %s: more runtime errors, counted in the summary",
				   e->prog->rules[rule].name);
		return;
	}
	struct buf where = {0}, at = {0};
	diag_where(e->diag, &where, e->prog->lines[vm->err_pc]);
	if (cause)
		buf_printf(&at, "event %s:%llu", cause->file < e->nfiles ? e->files[cause->file] : "-",
			   (unsigned long long)cause->line);
	else
		time_format(&at, vm->now);
	diag_plain(e->diag, "%s: error: runtime error in rule %s: %s (%s%s)", where.p, e->prog->rules[rule].name, vm->err.u.s,
		   cause ? "" : "timer at ", at.p);
	buf_free(&where);
	buf_free(&at);
}

void engine_trace_start(struct engine *e, uint32_t cust, const struct event *ev, const char *what, ...)
{
	static const char *const timer_names[] = {[TIMER_PATTERN] = "absence", [TIMER_STUCK] = "stuck",
						  [TIMER_SLA] = "sla breach", [TIMER_GOAL] = "goal"};
	struct buf b = {0};
	va_list ap;
	va_start(ap, what);
	buf_adds(&b, "trace: ");
	buf_vprintf(&b, what, ap);
	va_end(ap);
	buf_adds(&b, ": ");
	if (e->timer_running.active) {
		buf_printf(&b, "timer %s, deadline @", timer_names[e->timer_running.kind]);
		time_format(&b, e->timer_running.deadline);
	} else if (ev) {
		buf_adds(&b, "event ");
		if (ev->type_name.kind == V_STR)
			buf_add(&b, ev->type_name.u.s, ev->type_name.len);
		else
			buf_adds(&b, "(no type)");
	}
	if (cust < e->ncusts) {
		buf_adds(&b, ", customer ");
		json_write_str(&b, cust_key(&e->custs[cust]), e->custs[cust].keylen);
	}
	if (ev && !e->timer_running.active)
		buf_printf(&b, ", %s:%llu", ev->file < e->nfiles ? e->files[ev->file] : "-", (unsigned long long)ev->line);
	buf_addc(&b, '\n');
	if (e->vm->trace->sink)
		e->vm->trace->sink(e->vm->trace->ud, b.p, b.len);
	buf_free(&b);
}

/* Read whole, the events to come are known: their customers' records are
 * fetched from memory a few events ahead, the record first, then its
 * variables, so that a rule reading customer state seldom waits for them. */
void engine_events_of(struct engine *e, const struct event *evs, size_t n, uint32_t k, uint32_t nk)
{
	enum { AHEAD = 16 };
#define MINE(i) ((i) < n && evs[i].cust != EVENT_UNREAD && (nk == 1 || evs[i].cust % nk == k))
	for (size_t i = 0; i < n; i++) {
		progress_run(e->progress, evs[i].time); /* of all the events: one worker tells */
		if (MINE(i + AHEAD))
			__builtin_prefetch(&e->custs[evs[i + AHEAD].cust]);
		if (MINE(i + AHEAD / 2) && e->custs[evs[i + AHEAD / 2].cust].vars)
			__builtin_prefetch(e->custs[evs[i + AHEAD / 2].cust].vars);
		if (nk > 1 && !MINE(i))
			continue;
		if (e->pause && ++e->pause_count >= e->pause_every) {
			e->pause_count = 0;
			if (e->pause(e->pause_ud, i)) {
				e->paused = 1;
				e->paused_at = i;
				break;
			}
		}
		if (e->sink)
			e->sink->position(e->sink->ud, i);
		engine_event(e, &evs[i]);
	}
#undef MINE
}

void engine_events(struct engine *e, const struct event *evs, size_t n) { engine_events_of(e, evs, n, 0, 1); }

int engine_event(struct engine *e, const struct event *ev)
{
	const struct prog *p = e->prog;
	uint64_t errors = e->runtime_errors;
	/* Everything due before this event happens first. */
	engine_timers_until(e, ev->time, 0);
	if (e->sink)
		e->sink->event_step(e->sink->ud, ev->time);
	if (ev->cust == EVENT_UNREAD) {
		e->events++;
		if (ev->time > e->last_time || e->events == 1)
			e->last_time = ev->time;
		return 0;
	}
	if (engine_watching(e, ev->cust, -1))
		e->hooks->event(e->hooks->ud, e, ev);
	if (e->dirty)
		engine_touch(e, ev->cust);
	e->events++;
	if (ev->time > e->last_time || e->events == 1)
		e->last_time = ev->time;
	struct arena_mark mark = arena_mark(&e->scratch);
	/* The event moves journeys and answers SLAs and goals before its
	 * own rules run, so that they see the customer as it now is. */
	if (p->ngoals || p->nslas) /* spares a cache miss on the customer */
		measure_event(e, ev);
	journey_event(e, ev);
	const int *rules = p->any_rules;
	int nrules = p->nany_rules;
	/* Typed handlers are merged with `on any` ones by priority, then
	 * source order. */
	const int *typed = NULL;
	int ntyped = 0;
	if (ev->type >= 0) {
		const struct evtype *et = &p->types[ev->type];
		/* Explaining and coverage report every guard: run them all. */
		if (et->nindexes && !e->hooks && !e->vm->covered) {
			ntyped = dispatch_rules(et, ev, &e->custs[ev->cust], e->dispatched);
			typed = e->dispatched;
		} else {
			typed = et->rules;
			ntyped = et->nrules;
		}
	}
	int i = 0, k = 0;
	while (i < ntyped || k < nrules) {
		int r;
		if (k >= nrules || (i < ntyped && (p->rules[typed[i]].priority > p->rules[rules[k]].priority ||
						   (p->rules[typed[i]].priority == p->rules[rules[k]].priority &&
						    typed[i] < rules[k]))))
			r = typed[i++];
		else
			r = rules[k++];
		const struct rule_info *ri = &p->rules[r];
		if (ri->trigger == T_REPEAT) {
			repeat_event(e, r, ev);
		} else if (ri->nsteps > 1) {
			pattern_event(e, r, ev);
		} else {
			const struct event *bound[1] = {ev};
			engine_fire_rule(e, r, ev->cust, bound, 1, ev->time, ev);
		}
	}
	history_event(e, ev); /* after the rules: history is the past */
	arena_reset(&e->scratch, mark);
	return (int)(e->runtime_errors - errors);
}
