/* session.c: the library's side of interactive use (the REPL).
 *
 * A clock that moves with events and `:advance`, expressions evaluated
 * against a script's constants and functions, descriptions of rules,
 * stages and customers, names for completion, explanations streamed as
 * events play, and logs read whole as JSON records in time order so that
 * they can be replayed one event at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "cxr.h"
#include "engine/engine.h"
#include "io/ingest.h"
#include "base/json.h"
#include "front/keywords.h"
#include "front/parse.h"
#include "base/source.h"
#include "base/timeutil.h"
#include "vm/vm.h"

/* The parts of struct cxr this file needs (cxr.c owns the rest). */
struct prog *cxr_prog_of(cxr *h);
struct engine *cxr_engine_of(cxr *h);
struct diag *cxr_diag_of(cxr *h);
int cxr_roots_of(cxr *h, const char *const **roots);

int cxr_parse_time(const char *s, size_t n, int64_t *ns)
{
	const char *why;
	return time_parse(s, n, 1, ns, &why);
}

int cxr_parse_duration(const char *s, size_t n, int64_t *ns)
{
	const char *why;
	return dur_parse(s, n, ns, &why);
}

void cxr_format_time(int64_t ns, cxr_write_fn out, void *ud)
{
	struct buf b = {0};
	time_format(&b, ns);
	out(ud, b.p, b.len);
	buf_free(&b);
}

int cxr_clock(cxr *h, int64_t *ns)
{
	struct engine *e = cxr_engine_of(h);
	if (!e || (!e->events && !e->clock_set))
		return 0;
	*ns = e->clock_set && e->clock > e->last_time ? e->clock : e->last_time;
	return 1;
}

void cxr_advance_to(cxr *h, int64_t ns)
{
	struct engine *e = cxr_engine_of(h);
	if (!e)
		return;
	cxr_flush_input(h); /* time passes for the events held back too */
	engine_timers_until(e, ns, 1);
	e->clock = ns;
	e->clock_set = 1;
}

/* "5m (duration)": the expression is compiled as a constant of the
 * session's script, so it sees its constants and functions. */
static int eval_in(const char *const *roots, int nroots, const char *script, size_t len, const char *expr,
		   int line, cxr_write_fn out, void *ud, cxr_write_fn diag, void *diag_ud)
{
	struct buf text = {0};
	buf_add(&text, script, len);
	/* On its own line so that errors point into the expression, shown
	 * as line `line` of <input>. */
	buf_adds(&text, "\nconst __value__ =\n");
	int expr_line = 1;
	for (size_t i = 0; i < text.len; i++)
		expr_line += text.p[i] == '\n';
	buf_adds(&text, expr);
	buf_addc(&text, '\n');
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, diag, diag_ud);
	cxr_set_growing(h, 1);
	if (nroots)
		cxr_set_import_roots(h, roots, nroots);
	cxr_diag_of(h)->next_line_shift = line > 0 ? expr_line - line : 0;
	int errors = cxr_compile_string(h, "<input>", text.p, text.len);
	if (!errors) {
		const struct prog *p = cxr_prog_of(h);
		for (int i = 0; i < p->nnamed; i++) {
			if (strcmp(p->named[i].name, "__value__"))
				continue;
			struct buf b = {0};
			const struct val *v = &p->named[i].value;
			if (v->kind == V_STR)
				json_write_str(&b, v->u.s, v->len);
			else
				val_render_text(&b, v);
			buf_printf(&b, "  (%s)\n", val_kind_name(v));
			out(ud, b.p, b.len);
			buf_free(&b);
		}
	}
	cxr_free(h);
	buf_free(&text);
	return errors ? -1 : 0;
}

int cxr_eval(const char *script, size_t len, const char *expr, cxr_write_fn out, void *ud, cxr_write_fn diag,
	     void *diag_ud)
{
	return eval_in(NULL, 0, script, len, expr, 0, out, ud, diag, diag_ud);
}

int cxr_eval_in(cxr *h, const char *script, size_t len, const char *expr, int line, cxr_write_fn out, void *ud)
{
	const char *const *roots;
	int n = cxr_roots_of(h, &roots);
	struct diag *d = cxr_diag_of(h);
	return eval_in(roots, n, script, len, expr, line, out, ud, d->sink, d->ud);
}

/* Parsed as a script and as an expression: unfinished when neither
 * parses and one of them failed first where the text ends. */
int cxr_input_unfinished(const char *text, size_t len)
{
	int unfinished = 0;
	for (int as_expr = 0; as_expr < 2; as_expr++) {
		struct diag d;
		diag_init(&d); /* no sink: the messages are not wanted here */
		struct arena arena = {0};
		struct ast_script script = {0};
		struct parse_ctx ctx = {0};
		ctx.arena = &arena;
		ctx.diag = &d;
		ctx.file = diag_add_file(&d, "<input>", text, len);
		ctx.script = &script;
		int errors = as_expr ? parse_expr(&ctx, d.files[ctx.file].text, len)
				     : parse_script(&ctx, d.files[ctx.file].text, len);
		unfinished |= errors && ctx.ended_early;
		arena_free(&arena);
		diag_free(&d);
		if (!errors)
			return 0;
	}
	return unfinished;
}

static void describe_rules(const struct engine *e, struct buf *b)
{
	static const char *const triggers[] = {"on", "on any", "repeat", "on enter", "on exit", "on stuck", "on breach"};
	const struct prog *p = e->prog;
	for (int r = 0; r < p->nrules; r++) {
		const struct rule_info *ri = &p->rules[r];
		buf_printf(b, "%s  (line %d, %s", ri->name, ri->loc.first_line,
			   ri->nsteps > 1 ? "pattern" : triggers[ri->trigger]);
		for (int s = 0; s < ri->nsteps; s++)
			for (int t = 0; t < ri->steps[s].ntypes; t++)
				buf_printf(b, "%s%s", t ? " | " : s ? " then " : " ", p->types[ri->steps[s].types[t]].name);
		const struct rule_stats *st = &e->stats[r];
		buf_printf(b, "): fired %llu time%s for %llu customer%s", (unsigned long long)st->fired,
			   st->fired == 1 ? "" : "s", (unsigned long long)st->customers, st->customers == 1 ? "" : "s");
		/* what kept it from firing, when anything did */
		const struct {
			const char *what;
			uint64_t n;
		} kept[] = {{"deduped", st->deduped}, {"capped", st->capped}, {"held out", st->held_out},
			    {"over budget", st->budget_exhausted}, {"runtime errors", st->errors}};
		for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++)
			if (kept[k].n)
				buf_printf(b, ", %s %llu", kept[k].what, (unsigned long long)kept[k].n);
		if (ri->doc)
			buf_printf(b, "\n    %s", ri->doc);
		buf_addc(b, '\n');
	}
	if (!p->nrules)
		buf_adds(b, "no rules yet\n");
}

/* Each stage with the customers in it now and those who ever reached it. */
static void describe_stages(const struct engine *e, struct buf *b)
{
	const struct prog *p = e->prog;
	for (int j = 0; j < p->njourneys; j++) {
		const struct journey_info *ji = &p->journeys[j];
		buf_printf(b, "journey %s:", ji->name);
		for (int s = 0; s < ji->nstages; s++) {
			uint64_t now = 0;
			for (uint32_t c = 0; c < e->ncusts; c++) {
				const struct jstate *js = cust_rare(&e->custs[c])->journeys;
				now += js && js[j].stage == s;
			}
			buf_printf(b, "%s%s (%llu now, %llu reached)", s ? " -> " : " ", ji->stages[s],
				   (unsigned long long)now,
				   (unsigned long long)(e->journey_reached ? e->journey_reached[j][s] : 0));
		}
		buf_addc(b, '\n');
	}
	if (!p->njourneys)
		buf_adds(b, "no journeys\n");
}

static void describe_customer(struct engine *e, const char *id, struct buf *b)
{
	const struct prog *p = e->prog;
	uint32_t c;
	for (c = 0; c < e->ncusts; c++)
		if (e->custs[c].keylen == strlen(id) && memcmp(cust_key(&e->custs[c]), id, e->custs[c].keylen) == 0)
			break;
	if (c == e->ncusts) {
		buf_printf(b, "no customer '%s' yet\n", id);
		return;
	}
	const struct customer *cu = &e->custs[c];
	buf_printf(b, "customer %s\n", id);
	for (int j = 0; j < p->njourneys; j++) {
		const struct jstate *js = cust_rare(cu)->journeys ? &cust_rare(cu)->journeys[j] : NULL;
		buf_printf(b, "  stage %s: ", p->journeys[j].name);
		if (js && js->stage >= 0) {
			buf_printf(b, "%s since ", p->journeys[j].stages[js->stage]);
			time_format(b, js->entered);
		} else {
			buf_adds(b, "not in the journey");
		}
		buf_addc(b, '\n');
	}
	for (int v = 0; v < p->nvars; v++) {
		buf_printf(b, "  customer.%s = ", p->vars[v]);
		if (cu->vars)
			val_render_json(b, &cu->vars[v].v);
		else
			buf_adds(b, "null");
		buf_addc(b, '\n');
	}
	buf_adds(b, "  tags:");
	const struct customer_rare *r = cust_rare(cu);
	for (uint32_t t = 0; t < r->ntags; t++)
		buf_printf(b, " %s", r->tags[t]);
	buf_adds(b, r->ntags ? "\n" : " none\n");
	int pending = 0;
	for (const struct instance *in = cu->pending; in; in = in->next, pending++) {
		const struct rule_info *ri = &p->rules[in->rule];
		buf_printf(b, "  pending: rule %s, step %d (%s", ri->name, in->step,
			   ri->steps[in->step].negated ? "fires at " : "waits until ");
		time_format(b, in->timer.deadline);
		buf_adds(b, ")\n");
	}
	for (const struct sla_clock *k = r->clocks; k; k = k->next, pending++) {
		buf_printf(b, "  pending: sla %s clock%s, due ", p->slas[k->sla].name, k->breached ? " (breached)" : "");
		time_format(b, k->timer.deadline);
		buf_addc(b, '\n');
	}
	for (const struct goal_watch *w = r->watches; w; w = w->next, pending++) {
		buf_printf(b, "  pending: goal %s after rule %s (%s), watched until ", p->goals[w->goal].name,
			   p->rules[w->rule].name, w->held_out ? "held out" : "responded");
		time_format(b, w->timer.deadline);
		buf_addc(b, '\n');
	}
	pending += journey_describe_stuck(e, c, b);
	if (!pending)
		buf_adds(b, "  pending timers: none\n");
}

void cxr_describe(cxr *h, const char *what, const char *arg, cxr_write_fn out, void *ud)
{
	const struct prog *p = cxr_prog_of(h);
	struct engine *e = cxr_engine_of(h);
	struct buf b = {0};
	if (!p || !e)
		buf_adds(&b, "no script compiled\n");
	else if (!strcmp(what, "rules"))
		describe_rules(e, &b);
	else if (!strcmp(what, "stages"))
		describe_stages(e, &b);
	else if (!strcmp(what, "customer"))
		describe_customer(e, arg ? arg : "", &b);
	out(ud, b.p ? b.p : "", b.len);
	buf_free(&b);
}

int cxr_starts_form(const char *text)
{
	size_t n = 0;
	while ((text[n] >= 'a' && text[n] <= 'z'))
		n++;
	const struct keyword *k = keyword_find(text, n);
	return k && k->role == KW_FORM && (text[n] == 0 || text[n] == ' ' || text[n] == '\t' || text[n] == '\n');
}

void cxr_names(cxr *h, enum cxr_name_kind kind, cxr_write_fn each, void *ud)
{
	if (kind == CXR_NAMES_KEYWORDS) {
		for (int i = 0; i < nkeywords; i++)
			each(ud, keywords[i].word, strlen(keywords[i].word));
		return;
	}
	const struct prog *p = cxr_prog_of(h);
	struct engine *e = cxr_engine_of(h);
	if (!p)
		return;
	switch (kind) {
	case CXR_NAMES_TYPES:
		for (int i = 0; i < p->ntypes; i++)
			each(ud, p->types[i].name, p->types[i].len);
		break;
	case CXR_NAMES_FIELDS:
		for (int i = SLOT_FIRST_FIELD; i < p->nslots; i++)
			each(ud, p->slots[i].path, strlen(p->slots[i].path));
		for (int i = 0; i < p->ntypes; i++)
			for (int k = 0; k < p->types[i].nfields; k++)
				each(ud, p->types[i].fields[k].name, strlen(p->types[i].fields[k].name));
		break;
	case CXR_NAMES_ACTIONS:
		for (int i = 0; i < p->nemits; i++)
			each(ud, p->emits[i].action, strlen(p->emits[i].action));
		break;
	case CXR_NAMES_RULES:
		for (int i = 0; i < p->nrules; i++)
			each(ud, p->rules[i].name, strlen(p->rules[i].name));
		break;
	case CXR_NAMES_CUSTOMERS:
		for (uint32_t i = 0; e && i < e->ncusts; i++)
			each(ud, cust_key(&e->custs[i]), e->custs[i].keylen);
		break;
	case CXR_NAMES_FUNCTIONS:
		for (int i = 0; i < nbuiltins; i++)
			each(ud, builtins[i].name, strlen(builtins[i].name));
		for (int i = 0; i < p->nfn_names; i++)
			each(ud, p->fn_names[i], strlen(p->fn_names[i]));
		break;
	case CXR_NAMES_KEYWORDS:
		break; /* above */
	}
}

/* ---- logs as records, for replay ---- */

struct cxr_log {
	char **text;    /* each record as a JSON object */
	int64_t *time;
	uint64_t *line;
	size_t n, cap;
	size_t *order;  /* indexes in time order, ties in file order */
};

static void log_add(struct cxr_log *l, const char *p, size_t n, int64_t t, uint64_t line)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->text = mem_realloc(l->text, sizeof *l->text * l->cap);
		l->time = mem_realloc(l->time, sizeof *l->time * l->cap);
		l->line = mem_realloc(l->line, sizeof *l->line * l->cap);
	}
	l->text[l->n] = mem_strndup(p, n);
	l->time[l->n] = t;
	l->line[l->n] = line;
	l->n++;
}

struct time_pick {
	const char *field;
	struct val v;
	int found;
};

static void pick_time(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct time_pick *tp = ud;
	if (strlen(tp->field) == keylen && memcmp(tp->field, key, keylen) == 0) {
		tp->v = *v;
		tp->found = 1;
	}
}

static int record_time(const char *field, const char *p, size_t n, int64_t *t, struct arena *a)
{
	struct time_pick tp = {field, {0}, 0};
	struct json_error err;
	const char *why;
	if (json_scan_members(p, n, pick_time, &tp, a, &err) < 0 || !tp.found)
		return -1;
	if (tp.v.kind == V_STR)
		return time_parse(tp.v.u.s, tp.v.len, 0, t, &why);
	if (tp.v.kind == V_INT || tp.v.kind == V_FLOAT)
		return time_from_epoch(tp.v.kind == V_INT ? (double)tp.v.u.i : tp.v.u.f, t, &why);
	return -1;
}

int cxr_record_time(cxr *h, const char *json, size_t len, int64_t *ns)
{
	const struct prog *p = cxr_prog_of(h);
	struct arena a = {0};
	int r = record_time(p ? p->slots[SLOT_TIME].path : "ts", json, len, ns, &a);
	arena_free(&a);
	return r < 0 ? -1 : 0;
}

void cxr_input_fields(cxr *h, const char **key, const char **time, const char **type)
{
	const struct prog *p = cxr_prog_of(h);
	*key = p ? p->slots[SLOT_KEY].path : "customer";
	*time = p ? p->slots[SLOT_TIME].path : "ts";
	*type = p ? p->slots[SLOT_TYPE].path : "type";
}

static int cmp_log(const void *a, const void *b, void *ud)
{
	const struct cxr_log *l = ud;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (l->time[x] != l->time[y])
		return l->time[x] < l->time[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

cxr_log *cxr_log_read(cxr *h, const char *path)
{
	const struct prog *p = cxr_prog_of(h);
	struct diag *d = cxr_diag_of(h);
	char err[256];
	struct source *src = src_open(path, err, sizeof err);
	if (!src) {
		diag_plain(d, "error: cannot open %s: %s", path, err);
		return NULL;
	}
	struct cxr_log *l = mem_alloc(sizeof *l);
	struct arena a = {0};
	const char *tf = p ? p->slots[SLOT_TIME].path : "ts";
	size_t plen = strlen(path);
	int csv = plen > 4 && (!strcmp(path + plen - 4, ".csv") || !strcmp(path + plen - 4, ".tsv"));
	uint64_t skipped = 0;
	if (csv) {
		struct csv_record rec;
		char **header = NULL;
		size_t nheader = 0;
		struct buf json = {0};
		while (src_csv(src, &rec) > 0) {
			if (rec.error) {
				skipped++;
				continue;
			}
			if (!header) {
				nheader = rec.ncells;
				header = mem_alloc(sizeof *header * (nheader + 1));
				for (size_t c = 0; c < nheader; c++)
					header[c] = mem_strndup(rec.cells[c].p, rec.cells[c].len);
				continue;
			}
			buf_clear(&json);
			buf_addc(&json, '{');
			int first = 1;
			for (size_t c = 0; c < rec.ncells && c < nheader; c++) {
				if (!rec.cells[c].len && !rec.cells[c].quoted)
					continue; /* an empty cell is null */
				buf_adds(&json, first ? "" : ",");
				first = 0;
				json_write_str(&json, header[c], strlen(header[c]));
				buf_addc(&json, ':');
				json_write_str(&json, rec.cells[c].p, rec.cells[c].len);
			}
			buf_addc(&json, '}');
			int64_t t;
			if (record_time(tf, json.p, json.len, &t, &a) < 0) {
				skipped++;
				continue;
			}
			log_add(l, json.p, json.len, t, rec.line);
			arena_reset(&a, (struct arena_mark){0});
		}
		for (size_t c = 0; c < nheader; c++)
			mem_free(header[c]);
		mem_free(header);
		buf_free(&json);
	} else {
		const char *line;
		size_t len;
		uint64_t lineno;
		while (src_line(src, &line, &len, &lineno) > 0) {
			int64_t t;
			if (!len)
				continue;
			if (record_time(tf, line, len, &t, &a) < 0) {
				skipped++;
				continue;
			}
			log_add(l, line, len, t, lineno);
			arena_reset(&a, (struct arena_mark){0});
		}
	}
	src_close(src);
	arena_free(&a);
	if (skipped)
		diag_plain(d, "warning: %s: %llu records without a readable time were left out of the replay", path,
			   (unsigned long long)skipped);
	l->order = mem_alloc(sizeof *l->order * (l->n + 1));
	for (size_t i = 0; i < l->n; i++)
		l->order[i] = i;
	qsort_r(l->order, l->n, sizeof *l->order, cmp_log, l);
	return l;
}

size_t cxr_log_count(const cxr_log *l) { return l ? l->n : 0; }

const char *cxr_log_record(const cxr_log *l, size_t i, int64_t *time, uint64_t *line)
{
	size_t k = l->order[i];
	*time = l->time[k];
	*line = l->line[k];
	return l->text[k];
}

void cxr_log_free(cxr_log *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		mem_free(l->text[i]);
	mem_free(l->text);
	mem_free(l->time);
	mem_free(l->line);
	mem_free(l->order);
	mem_free(l);
}
