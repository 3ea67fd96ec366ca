/* diff.c: `cxr diff OLD.cxr NEW.cxr EVENTS`, a backtest of a change.
 *
 * Both versions run over the same events; their responses are compared
 * as multisets of lines, so that a response both give (same action,
 * customer, time and fields) is no difference, whatever the order.  Of
 * the others, a response of OLD and one of NEW to the same trigger (same
 * rule, action and customer, and the same first event of the rule: the
 * engine tells it in a member only the diff asks for, "@trigger") are
 * one response changed: its time moved or its fields differ.  What is
 * left NEW adds or removes.  All of it is grouped by rule and action,
 * with the customers affected and, with costs, the money; as text or as
 * one JSON object.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxr.h"
#include "base/diag.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/value.h"

/* Customers named in the text report; all of them in JSON. */
#define CUSTOMERS_SHOWN 20
/* Examples of each kind per group in the text report. */
#define EXAMPLES 3

/* One response of one version. */
struct resp {
	char *line;     /* the response as `cxr run` writes it */
	char *key;      /* rule, action, customer and trigger, for pairing */
	char *customer;
	char *trigger;  /* the trigger's "file:line" as JSON, or "null" */
	size_t order;   /* its place in the version's output */
	int group;      /* the rule and action's group, once it differs */
	int matched;    /* the other version gives the same line */
	long pair;      /* the other version's response to the same trigger, or -1 */
};

struct version {
	struct resp *v;
	size_t n, cap;
	struct arena scratch;
};

/* A top-level string member of a response, e.g. "rule"; "" when absent. */
struct pick {
	const char *key;
	struct buf *out;
};

static void pick_member(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct pick *pk = ud;
	if (strlen(pk->key) == keylen && memcmp(pk->key, key, keylen) == 0 && v->kind == V_STR)
		buf_add(pk->out, v->u.s, v->len);
}

static void member(const char *line, const char *key, struct buf *out, struct arena *a)
{
	struct pick pk = {key, out};
	struct json_error err;
	buf_clear(out);
	json_scan_members(line, strlen(line), pick_member, &pk, a, &err);
	if (!out->p)
		buf_adds(out, "");
}

/* A response line, with its trigger after the fields: the trigger is
 * taken off, the line is what `cxr run` writes. */
static void add_response(struct version *ver, const char *p, size_t len)
{
	static const char mark[] = ",\"@trigger\":";
	const char *trig = NULL;
	for (const char *q = p + len; q >= p + sizeof mark - 1; q--)
		if (memcmp(q - (sizeof mark - 1), mark, sizeof mark - 1) == 0) {
			trig = q;
			break;
		}
	if (ver->n == ver->cap) {
		ver->cap = ver->cap ? ver->cap * 2 : 256;
		ver->v = mem_realloc(ver->v, sizeof *ver->v * ver->cap);
	}
	struct resp *r = &ver->v[ver->n];
	memset(r, 0, sizeof *r);
	r->order = ver->n++;
	r->pair = -1;
	if (trig && len && p[len - 1] == '}') {
		size_t head = (size_t)(trig - p) - (sizeof mark - 1);
		r->trigger = mem_strndup(trig, (size_t)(p + len - 1 - trig));
		r->line = mem_alloc(head + 2);
		memcpy(r->line, p, head);
		r->line[head] = '}';
	} else {
		r->trigger = mem_strndup("null", 4);
		r->line = mem_strndup(p, len);
	}
	struct buf rule = {0}, action = {0}, cust = {0}, key = {0};
	member(r->line, "rule", &rule, &ver->scratch);
	member(r->line, "action", &action, &ver->scratch);
	member(r->line, "customer", &cust, &ver->scratch);
	/* JSON strings, comma-separated: no two keys read alike */
	json_write_str(&key, rule.p, rule.len);
	buf_addc(&key, ',');
	json_write_str(&key, action.p, action.len);
	buf_addc(&key, ',');
	json_write_str(&key, cust.p, cust.len);
	buf_addc(&key, ',');
	buf_adds(&key, r->trigger);
	r->key = key.p;
	key.p = NULL;
	r->customer = mem_strndup(cust.p, cust.len);
	buf_free(&rule);
	buf_free(&action);
	buf_free(&cust);
	arena_reset(&ver->scratch, (struct arena_mark){0});
}

static void collect(void *ud, const char *p, size_t n)
{
	/* the output callback may hand over several lines at once */
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		add_response(ud, p, len);
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
}

static void version_free(struct version *ver)
{
	for (size_t i = 0; i < ver->n; i++) {
		mem_free(ver->v[i].line);
		mem_free(ver->v[i].key);
		mem_free(ver->v[i].customer);
		mem_free(ver->v[i].trigger);
	}
	mem_free(ver->v);
	arena_free(&ver->scratch);
}

/* By line, then output order: the order of the text report's examples. */
static int cmp_line(const void *pa, const void *pb)
{
	const struct resp *a = pa, *b = pb;
	int c = strcmp(a->line, b->line);
	return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

/* Responses (by index into base) sorted by key, then output order, for
 * pairing. */
static int cmp_key(const void *pa, const void *pb, void *base)
{
	const struct resp *a = (const struct resp *)base + *(const size_t *)pa;
	const struct resp *b = (const struct resp *)base + *(const size_t *)pb;
	int c = strcmp(a->key, b->key);
	return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

struct group {
	char *rule, *action;
	size_t added, removed, changed;
	char **customers; /* sorted when reported */
	size_t ncust, capcust;
};

struct report {
	struct group *g;
	int n, cap;
	char **customers; /* every customer affected, with repeats until sorted */
	size_t ncust, capcust;
	struct arena scratch;
};

static int group_for(struct report *r, const char *line)
{
	struct buf rule = {0}, action = {0};
	member(line, "rule", &rule, &r->scratch);
	member(line, "action", &action, &r->scratch);
	int found = -1;
	for (int i = 0; i < r->n && found < 0; i++)
		if (!strcmp(r->g[i].rule, rule.p) && !strcmp(r->g[i].action, action.p))
			found = i;
	if (found < 0) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 8;
			r->g = mem_realloc(r->g, sizeof *r->g * (size_t)r->cap);
		}
		struct group *g = &r->g[r->n];
		memset(g, 0, sizeof *g);
		g->rule = mem_strndup(rule.p, rule.len);
		g->action = mem_strndup(action.p, action.len);
		found = r->n++;
	}
	buf_free(&rule);
	buf_free(&action);
	arena_reset(&r->scratch, (struct arena_mark){0});
	return found;
}

static void push_customer(char ***v, size_t *n, size_t *cap, const char *c)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = mem_realloc(*v, sizeof **v * *cap);
	}
	(*v)[(*n)++] = mem_strndup(c, strlen(c));
}

/* Sort and drop repeats. */
static void unique(char **v, size_t *n)
{
	if (!*n)
		return;
	qsort(v, *n, sizeof *v, cmp_str);
	size_t k = 1;
	for (size_t i = 1; i < *n; i++) {
		if (strcmp(v[i], v[k - 1]) == 0)
			mem_free(v[i]);
		else
			v[k++] = v[i];
	}
	*n = k;
}

static void affected(struct report *r, int group, const char *customer)
{
	struct group *g = &r->g[group];
	push_customer(&g->customers, &g->ncust, &g->capcust, customer);
	push_customer(&r->customers, &r->ncust, &r->capcust, customer);
}

/* ---- what changed between two responses to one trigger ---- */

struct members {
	char **keys, **values; /* values rendered as JSON */
	int n, cap;
};

static void add_member(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct members *m = ud;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->keys = mem_realloc(m->keys, sizeof *m->keys * (size_t)m->cap);
		m->values = mem_realloc(m->values, sizeof *m->values * (size_t)m->cap);
	}
	struct buf b = {0};
	val_render_json(&b, v);
	m->keys[m->n] = mem_strndup(key, keylen);
	m->values[m->n++] = b.p ? b.p : mem_strndup("null", 4);
}

static void members_of(const char *line, struct members *m, struct arena *a)
{
	struct json_error err;
	memset(m, 0, sizeof *m);
	json_scan_members(line, strlen(line), add_member, m, a, &err);
}

static void members_free(struct members *m)
{
	for (int i = 0; i < m->n; i++) {
		mem_free(m->keys[i]);
		mem_free(m->values[i]);
	}
	mem_free(m->keys);
	mem_free(m->values);
}

static const char *member_value(const struct members *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->keys[i], key))
			return m->values[i];
	return NULL;
}

/* One field that differs: its name and both values (NULL: absent). */
struct change {
	const char *name, *old, *new;
};

/* The fields of two responses that differ: `at` first, then OLD's order,
 * then the fields only NEW has.  Returns how many; *out to free. */
static int changes(const struct members *a, const struct members *b, struct change **out)
{
	struct change *c = mem_alloc(sizeof *c * (size_t)(a->n + b->n + 1));
	int n = 0;
	const char *at_a = member_value(a, "at"), *at_b = member_value(b, "at");
	if (at_a && at_b && strcmp(at_a, at_b))
		c[n++] = (struct change){"at", at_a, at_b};
	for (int i = 0; i < a->n; i++) {
		if (!strcmp(a->keys[i], "at"))
			continue;
		const char *v = member_value(b, a->keys[i]);
		if (!v || strcmp(v, a->values[i]))
			c[n++] = (struct change){a->keys[i], a->values[i], v};
	}
	for (int i = 0; i < b->n; i++)
		if (!member_value(a, b->keys[i]))
			c[n++] = (struct change){b->keys[i], NULL, b->values[i]};
	*out = c;
	return n;
}

/* "at 2026-03-01T10:00:00Z -> 10:05:00Z" (the date once when it is the
 * same), "delay: 12 -> 7", "store: (none) -> "Main St"". */
static void change_text(struct buf *o, const struct change *c)
{
	if (!strcmp(c->name, "at") && c->old && c->new && strlen(c->old) > 13 && strlen(c->new) > 13 &&
	    c->old[0] == '"' && c->new[0] == '"') {
		size_t lo = strlen(c->old), ln = strlen(c->new);
		int same_day = memcmp(c->old, c->new, 12) == 0; /* "YYYY-MM-DDT */
		buf_printf(o, "at %.*s -> %.*s", (int)(lo - 2), c->old + 1, (int)(same_day ? ln - 13 : ln - 2),
			   c->new + (same_day ? 12 : 1));
		return;
	}
	buf_printf(o, "%s: %s -> %s", c->name, c->old ? c->old : "(none)", c->new ? c->new : "(none)");
}

/* ---- running the versions ---- */

static cxr *load(const char *script, struct version *ver, cxr_write_fn diag, void *diag_ud)
{
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, diag, diag_ud);
	cxr_on_output(h, collect, ver);
	if (cxr_compile_file(h, script)) {
		cxr_free(h);
		return NULL;
	}
	cxr_set_trigger_ids(h, 1);
	return h;
}

static void say(cxr_write_fn diag, void *diag_ud, struct buf *b)
{
	if (diag)
		diag(diag_ud, b->p, b->len);
}

/* Is an action given a cost one that a rule emits?  (cxr_names) */
struct action_search {
	const char *action;
	int known;
	struct suggest sg;
};

static void action_seen(void *ud, const char *name, size_t len)
{
	struct action_search *as = ud;
	as->known |= strlen(as->action) == len && !memcmp(name, as->action, len);
	suggest_try(&as->sg, name, len);
}

/* Every action given a cost is one a rule of either version emits. */
static int costs_known(cxr *ha, cxr *hb, const char *old_script, const char *new_script,
		       const struct cxr_diff_options *opt, cxr_write_fn diag, void *diag_ud)
{
	for (int c = 0; c < opt->ncosts; c++) {
		struct action_search as = {opt->costs[c].action, 0, {0}};
		suggest_init(&as.sg, as.action, strlen(as.action));
		cxr_names(ha, CXR_NAMES_ACTIONS, action_seen, &as);
		cxr_names(hb, CXR_NAMES_ACTIONS, action_seen, &as);
		if (as.known)
			continue;
		struct buf msg = {0}, hint = {0};
		buf_printf(&msg, "cxr: a cost is given for '%s', an action no rule of %s or %s emits%s\n", as.action,
			   old_script, new_script, suggest_hint(&as.sg, &hint));
		say(diag, diag_ud, &msg);
		buf_free(&msg);
		buf_free(&hint);
		return 0;
	}
	return 1;
}

static double cost_of(const struct cxr_diff_options *opt, const char *action, int *known)
{
	for (int i = 0; i < opt->ncosts; i++)
		if (!strcmp(opt->costs[i].action, action)) {
			*known = 1;
			return opt->costs[i].amount;
		}
	*known = 0;
	return 0;
}

/* ---- the report ---- */

static void json_str(struct buf *o, const char *s) { json_write_str(o, s, strlen(s)); }

static void json_customers(struct buf *o, char **v, size_t n)
{
	buf_addc(o, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(o, ',');
		json_str(o, v[i]);
	}
	buf_addc(o, ']');
}

static void text_customers(struct buf *o, char **v, size_t n)
{
	for (size_t i = 0; i < n && i < CUSTOMERS_SHOWN; i++)
		buf_printf(o, "%s%s", i ? ", " : "", v[i]);
	if (n > CUSTOMERS_SHOWN)
		buf_printf(o, " and %zu more", n - CUSTOMERS_SHOWN);
}

struct diff {
	struct version a, b;
	struct report r;
	size_t same, added, removed, changed;
	const struct cxr_diff_options *opt;
	const char *old_script, *new_script;
};

/* The changed pair of OLD's response i, as text or JSON. */
static void pair_out(struct diff *df, const struct resp *ra, struct buf *o, int json)
{
	const struct resp *rb = &df->b.v[ra->pair];
	struct members ma, mb;
	members_of(ra->line, &ma, &df->r.scratch);
	members_of(rb->line, &mb, &df->r.scratch);
	struct change *c;
	int n = changes(&ma, &mb, &c);
	if (json) {
		buf_adds(o, "{\"customer\":");
		json_str(o, ra->customer);
		buf_printf(o, ",\"trigger\":%s,\"old\":%s,\"new\":%s,\"fields\":[", ra->trigger, ra->line, rb->line);
		for (int i = 0; i < n; i++) {
			buf_adds(o, i ? ",{\"field\":" : "{\"field\":");
			json_str(o, c[i].name);
			if (c[i].old)
				buf_printf(o, ",\"old\":%s", c[i].old);
			if (c[i].new)
				buf_printf(o, ",\"new\":%s", c[i].new);
			buf_addc(o, '}');
		}
		buf_adds(o, "]}");
	} else {
		struct buf action = {0};
		member(ra->line, "action", &action, &df->r.scratch);
		buf_printf(o, "  ~ %s %s: ", ra->customer, action.p);
		for (int i = 0; i < n; i++) {
			if (i)
				buf_adds(o, ", ");
			change_text(o, &c[i]);
		}
		buf_addc(o, '\n');
		buf_free(&action);
	}
	mem_free(c);
	members_free(&ma);
	members_free(&mb);
	arena_reset(&df->r.scratch, (struct arena_mark){0});
}

static void report_text(struct diff *df, struct buf *o)
{
	struct report *r = &df->r;
	buf_printf(o, "old: %s, %zu responses\nnew: %s, %zu responses\n", df->old_script, df->a.n, df->new_script,
		   df->b.n);
	buf_printf(o, "%zu the same, %zu changed, %zu added, %zu removed\n", df->same, df->changed, df->added,
		   df->removed);
	if (r->ncust) {
		buf_printf(o, "%zu customer%s affected: ", r->ncust, r->ncust == 1 ? "" : "s");
		text_customers(o, r->customers, r->ncust);
		buf_addc(o, '\n');
	}
	double money = 0;
	int priced = 0;
	for (int g = 0; g < r->n; g++) {
		struct group *gr = &r->g[g];
		buf_printf(o, "\nrule %s, action %s: +%zu -%zu ~%zu, %zu customer%s affected", gr->rule, gr->action,
			   gr->added, gr->removed, gr->changed, gr->ncust, gr->ncust == 1 ? "" : "s");
		int known;
		double each = cost_of(df->opt, gr->action, &known);
		if (known) {
			double net = each * ((double)gr->added - (double)gr->removed);
			buf_printf(o, ", cost %+.2f", net);
			money += net;
			priced = 1;
		}
		buf_addc(o, '\n');
		size_t shown[3] = {0, 0, 0};
		for (size_t i = 0; i < df->b.n; i++) {
			const struct resp *rb = &df->b.v[i];
			if (!rb->matched && rb->pair < 0 && rb->group == g && shown[0]++ < EXAMPLES)
				buf_printf(o, "  + %s\n", rb->line);
		}
		for (size_t i = 0; i < df->a.n; i++) {
			const struct resp *ra = &df->a.v[i];
			if (!ra->matched && ra->pair < 0 && ra->group == g && shown[1]++ < EXAMPLES)
				buf_printf(o, "  - %s\n", ra->line);
		}
		for (size_t i = 0; i < df->a.n; i++) {
			const struct resp *ra = &df->a.v[i];
			if (ra->pair >= 0 && ra->group == g && shown[2]++ < EXAMPLES)
				pair_out(df, ra, o, 0);
		}
		if (gr->added > EXAMPLES || gr->removed > EXAMPLES || gr->changed > EXAMPLES)
			buf_adds(o, "  ...\n");
	}
	if (priced)
		buf_printf(o, "\ncost of the change: %+.2f\n", money);
}

static void report_json(struct diff *df, struct buf *o)
{
	struct report *r = &df->r;
	buf_adds(o, "{\"old\":{\"script\":");
	json_str(o, df->old_script);
	buf_printf(o, ",\"responses\":%zu},\"new\":{\"script\":", df->a.n);
	json_str(o, df->new_script);
	buf_printf(o, ",\"responses\":%zu},\"same\":%zu,\"changed\":%zu,\"added\":%zu,\"removed\":%zu,\"customers\":",
		   df->b.n, df->same, df->changed, df->added, df->removed);
	json_customers(o, r->customers, r->ncust);
	buf_adds(o, ",\"groups\":[");
	double money = 0;
	int priced = 0;
	for (int g = 0; g < r->n; g++) {
		struct group *gr = &r->g[g];
		buf_adds(o, g ? ",{\"rule\":" : "{\"rule\":");
		json_str(o, gr->rule);
		buf_adds(o, ",\"action\":");
		json_str(o, gr->action);
		buf_printf(o, ",\"added\":%zu,\"removed\":%zu,\"changed\":%zu,\"cost\":", gr->added, gr->removed,
			   gr->changed);
		int known;
		double each = cost_of(df->opt, gr->action, &known);
		if (known) {
			double net = each * ((double)gr->added - (double)gr->removed);
			buf_printf(o, "%.2f", net);
			money += net;
			priced = 1;
		} else {
			buf_adds(o, "null");
		}
		buf_adds(o, ",\"customers\":");
		json_customers(o, gr->customers, gr->ncust);
		buf_adds(o, ",\"added_responses\":[");
		int first = 1;
		for (size_t i = 0; i < df->b.n; i++) {
			const struct resp *rb = &df->b.v[i];
			if (!rb->matched && rb->pair < 0 && rb->group == g) {
				buf_printf(o, "%s%s", first ? "" : ",", rb->line);
				first = 0;
			}
		}
		buf_adds(o, "],\"removed_responses\":[");
		first = 1;
		for (size_t i = 0; i < df->a.n; i++) {
			const struct resp *ra = &df->a.v[i];
			if (!ra->matched && ra->pair < 0 && ra->group == g) {
				buf_printf(o, "%s%s", first ? "" : ",", ra->line);
				first = 0;
			}
		}
		buf_adds(o, "],\"changed_responses\":[");
		first = 1;
		for (size_t i = 0; i < df->a.n; i++) {
			const struct resp *ra = &df->a.v[i];
			if (ra->pair >= 0 && ra->group == g) {
				if (!first)
					buf_addc(o, ',');
				pair_out(df, ra, o, 1);
				first = 0;
			}
		}
		buf_adds(o, "]}");
	}
	buf_adds(o, "],\"cost\":");
	if (priced)
		buf_printf(o, "%.2f", money);
	else
		buf_adds(o, "null");
	buf_adds(o, "}\n");
}

/* Pair the responses neither version gives as the other does: the same
 * key (rule, action, customer, trigger), in output order. */
static void pair_up(struct diff *df)
{
	size_t *ia = mem_alloc(sizeof *ia * (df->a.n + 1)), *ib = mem_alloc(sizeof *ib * (df->b.n + 1));
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < df->a.n; i++)
		if (!df->a.v[i].matched)
			ia[na++] = i;
	for (size_t i = 0; i < df->b.n; i++)
		if (!df->b.v[i].matched)
			ib[nb++] = i;
	qsort_r(ia, na, sizeof *ia, cmp_key, df->a.v);
	qsort_r(ib, nb, sizeof *ib, cmp_key, df->b.v);
	size_t i = 0, k = 0;
	while (i < na && k < nb) {
		int c = strcmp(df->a.v[ia[i]].key, df->b.v[ib[k]].key);
		if (c == 0) {
			df->a.v[ia[i]].pair = (long)ib[k];
			df->b.v[ib[k]].pair = (long)ia[i];
			i++;
			k++;
		} else if (c < 0) {
			i++;
		} else {
			k++;
		}
	}
	mem_free(ia);
	mem_free(ib);
}

int cxr_diff_run(const char *old_script, const char *new_script, const char *const *paths, int npaths,
		 const struct cxr_diff_options *opt, cxr_write_fn out, void *out_ud, cxr_write_fn diag, void *diag_ud)
{
	for (int c = 0; c < opt->ncosts; c++)
		if (!isfinite(opt->costs[c].amount)) {
			/* the same rule as the CLI's --cost, for an embedding program */
			struct buf msg = {0};
			buf_printf(&msg, "cxr: the cost of %.200s is not a finite number\n", opt->costs[c].action);
			say(diag, diag_ud, &msg);
			buf_free(&msg);
			return CXR_INPUT_ERROR;
		}
	struct diff df = {0};
	df.opt = opt;
	df.old_script = old_script;
	df.new_script = new_script;
	cxr *ha = load(old_script, &df.a, diag, diag_ud);
	cxr *hb = ha ? load(new_script, &df.b, diag, diag_ud) : NULL;
	int status = ha && hb && costs_known(ha, hb, old_script, new_script, opt, diag, diag_ud) ? CXR_OK
											     : CXR_INPUT_ERROR;
	if (status == CXR_OK && opt->progress) {
		cxr_on_progress(ha, opt->progress, opt->progress_ud);
		cxr_on_progress(hb, opt->progress, opt->progress_ud);
	}
	if (status == CXR_OK && cxr_run_files(ha, paths, npaths) == CXR_INPUT_ERROR)
		status = CXR_INPUT_ERROR;
	if (status == CXR_OK && cxr_run_files(hb, paths, npaths) == CXR_INPUT_ERROR)
		status = CXR_INPUT_ERROR;
	cxr_free(ha);
	cxr_free(hb);
	if (status != CXR_OK) {
		version_free(&df.a);
		version_free(&df.b);
		return status;
	}
	if (df.a.n) /* a version without responses has no array (qsort wants one) */
		qsort(df.a.v, df.a.n, sizeof *df.a.v, cmp_line);
	if (df.b.n)
		qsort(df.b.v, df.b.n, sizeof *df.b.v, cmp_line);
	/* A merge of the two sorted multisets: the responses both give. */
	for (size_t i = 0, k = 0; i < df.a.n && k < df.b.n;) {
		int c = strcmp(df.a.v[i].line, df.b.v[k].line);
		if (c == 0) {
			df.a.v[i++].matched = df.b.v[k++].matched = 1;
			df.same++;
		} else if (c < 0) {
			i++;
		} else {
			k++;
		}
	}
	pair_up(&df);
	/* Groups in the order of the lines that differ, as they sort. */
	for (size_t i = 0, k = 0; i < df.a.n || k < df.b.n;) {
		int from_a = k >= df.b.n || (i < df.a.n && strcmp(df.a.v[i].line, df.b.v[k].line) <= 0);
		struct resp *rs = from_a ? &df.a.v[i++] : &df.b.v[k++];
		if (rs->matched)
			continue;
		rs->group = group_for(&df.r, rs->line);
		struct group *g = &df.r.g[rs->group];
		if (rs->pair < 0) {
			if (from_a) {
				g->removed++;
				df.removed++;
			} else {
				g->added++;
				df.added++;
			}
		} else if (from_a) {
			g->changed++;
			df.changed++;
		}
		affected(&df.r, rs->group, rs->customer);
	}
	for (int g = 0; g < df.r.n; g++)
		unique(df.r.g[g].customers, &df.r.g[g].ncust);
	unique(df.r.customers, &df.r.ncust);
	struct buf o = {0};
	if (opt->json)
		report_json(&df, &o);
	else
		report_text(&df, &o);
	out(out_ud, o.p, o.len);
	buf_free(&o);
	for (int g = 0; g < df.r.n; g++) {
		struct group *gr = &df.r.g[g];
		for (size_t c = 0; c < gr->ncust; c++)
			mem_free(gr->customers[c]);
		mem_free(gr->customers);
		mem_free(gr->rule);
		mem_free(gr->action);
	}
	for (size_t c = 0; c < df.r.ncust; c++)
		mem_free(df.r.customers[c]);
	mem_free(df.r.customers);
	mem_free(df.r.g);
	arena_free(&df.r.scratch);
	version_free(&df.a);
	version_free(&df.b);
	return df.added || df.removed || df.changed ? CXR_RULE_FAILURES : CXR_OK;
}

int cxr_diff(const char *old_script, const char *new_script, const char *const *paths, int npaths,
	     const struct cxr_cost *costs, int ncosts, cxr_write_fn out, void *out_ud, cxr_write_fn diag, void *diag_ud)
{
	struct cxr_diff_options opt = {costs, ncosts, 0, NULL, NULL};
	return cxr_diff_run(old_script, new_script, paths, npaths, &opt, out, out_ud, diag, diag_ud);
}
