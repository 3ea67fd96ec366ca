/* diff.c: `cxr diff OLD.cxr NEW.cxr EVENTS`, a backtest of a change.
 *
 * Both versions run over the same events through the public interface;
 * their responses are compared as multisets of lines, so that a response
 * both give (same action, customer, time and fields) is no difference,
 * whatever the order.  What NEW adds and removes is grouped by rule and
 * action, with the customers affected and, with --cost, the money.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxr.h"
#include "json.h"
#include "mem.h"

struct lines {
	char **v;
	size_t n, cap;
};

static void collect(void *ud, const char *p, size_t n)
{
	struct lines *l = ud;
	/* the output callback may hand over several lines at once */
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 256;
			l->v = mem_realloc(l->v, sizeof *l->v * l->cap);
		}
		l->v[l->n++] = mem_strndup(p, len);
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		mem_free(l->v[i]);
	mem_free(l->v);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A top-level string member of a response line, e.g. "rule". */
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

struct group {
	char *rule, *action;
	size_t added, removed;
	char *examples[6]; /* up to 3 added, then up to 3 removed */
	int nadded_ex, nremoved_ex;
	char **customers;
	size_t ncust, capcust;
};

struct report {
	struct group *g;
	size_t n, cap;
	struct arena scratch;
};

static struct group *group_for(struct report *r, const char *rule, const char *action)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->g[i].rule, rule) && !strcmp(r->g[i].action, action))
			return &r->g[i];
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->g = mem_realloc(r->g, sizeof *r->g * r->cap);
	}
	struct group *g = &r->g[r->n++];
	memset(g, 0, sizeof *g);
	g->rule = mem_strndup(rule, strlen(rule));
	g->action = mem_strndup(action, strlen(action));
	return g;
}

static void add_customer(struct group *g, const char *c)
{
	for (size_t i = 0; i < g->ncust; i++)
		if (!strcmp(g->customers[i], c))
			return;
	if (g->ncust == g->capcust) {
		g->capcust = g->capcust ? g->capcust * 2 : 8;
		g->customers = mem_realloc(g->customers, sizeof *g->customers * g->capcust);
	}
	g->customers[g->ncust++] = mem_strndup(c, strlen(c));
}

static void note(struct report *r, const char *line, int added)
{
	struct buf rule = {0}, action = {0}, cust = {0};
	member(line, "rule", &rule, &r->scratch);
	member(line, "action", &action, &r->scratch);
	member(line, "customer", &cust, &r->scratch);
	struct group *g = group_for(r, rule.p, action.p);
	if (added) {
		g->added++;
		if (g->nadded_ex < 3)
			g->examples[g->nadded_ex++] = mem_strndup(line, strlen(line));
	} else {
		g->removed++;
		if (g->nremoved_ex < 3)
			g->examples[3 + g->nremoved_ex++] = mem_strndup(line, strlen(line));
	}
	add_customer(g, cust.p);
	buf_free(&rule);
	buf_free(&action);
	buf_free(&cust);
	arena_reset(&r->scratch, (struct arena_mark){0});
}

static int run_version(const char *script, const char *const *paths, int n, struct lines *out, cxr_write_fn diag,
		       void *diag_ud)
{
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, diag, diag_ud);
	cxr_on_output(h, collect, out);
	int status = cxr_compile_file(h, script) ? CXR_INPUT_ERROR : cxr_run_files(h, paths, n);
	cxr_free(h);
	return status;
}

static double cost_of(const struct cxr_cost *costs, int ncosts, const char *action, int *known)
{
	for (int i = 0; i < ncosts; i++)
		if (!strcmp(costs[i].action, action)) {
			*known = 1;
			return costs[i].amount;
		}
	*known = 0;
	return 0;
}

int cxr_diff(const char *old_script, const char *new_script, const char *const *paths, int npaths,
	     const struct cxr_cost *costs, int ncosts, cxr_write_fn out, void *out_ud, cxr_write_fn diag, void *diag_ud)
{
	for (int c = 0; c < ncosts; c++)
		if (!isfinite(costs[c].amount)) {
			/* the same rule as the CLI's --cost, for an embedding program */
			char msg[300];
			int n = snprintf(msg, sizeof msg, "cxr: the cost of %.200s is not a finite number\n", costs[c].action);
			if (diag)
				diag(diag_ud, msg, (size_t)n);
			return CXR_INPUT_ERROR;
		}
	struct lines a = {0}, b = {0};
	int sa = run_version(old_script, paths, npaths, &a, diag, diag_ud);
	int sb = sa == CXR_INPUT_ERROR ? sa : run_version(new_script, paths, npaths, &b, diag, diag_ud);
	if (sa == CXR_INPUT_ERROR || sb == CXR_INPUT_ERROR) {
		lines_free(&a);
		lines_free(&b);
		return CXR_INPUT_ERROR;
	}
	qsort(a.v, a.n, sizeof *a.v, cmp_str);
	qsort(b.v, b.n, sizeof *b.v, cmp_str);
	struct report r = {0};
	size_t i = 0, k = 0, same = 0;
	/* A merge of the two sorted multisets. */
	while (i < a.n || k < b.n) {
		int c = i >= a.n ? 1 : k >= b.n ? -1 : strcmp(a.v[i], b.v[k]);
		if (c == 0) {
			same++;
			i++;
			k++;
		} else if (c < 0) {
			note(&r, a.v[i++], 0);
		} else {
			note(&r, b.v[k++], 1);
		}
	}
	struct buf o = {0};
	buf_printf(&o, "old: %s, %zu responses\nnew: %s, %zu responses\n%zu the same", old_script, a.n, new_script, b.n,
		   same);
	size_t added = 0, removed = 0;
	for (size_t g = 0; g < r.n; g++) {
		added += r.g[g].added;
		removed += r.g[g].removed;
	}
	buf_printf(&o, ", %zu added, %zu removed\n", added, removed);
	double money = 0;
	int priced = 0;
	for (size_t g = 0; g < r.n; g++) {
		struct group *gr = &r.g[g];
		buf_printf(&o, "\nrule %s, action %s: +%zu -%zu, %zu customer%s affected", gr->rule, gr->action, gr->added,
			   gr->removed, gr->ncust, gr->ncust == 1 ? "" : "s");
		int known;
		double each = cost_of(costs, ncosts, gr->action, &known);
		if (known) {
			double net = each * ((double)gr->added - (double)gr->removed);
			buf_printf(&o, ", cost %+.2f", net);
			money += net;
			priced = 1;
		}
		buf_addc(&o, '\n');
		for (int e = 0; e < gr->nadded_ex; e++)
			buf_printf(&o, "  + %s\n", gr->examples[e]);
		for (int e = 0; e < gr->nremoved_ex; e++)
			buf_printf(&o, "  - %s\n", gr->examples[3 + e]);
		if (gr->added > (size_t)gr->nadded_ex || gr->removed > (size_t)gr->nremoved_ex)
			buf_adds(&o, "  ...\n");
	}
	if (priced)
		buf_printf(&o, "\ncost of the change: %+.2f\n", money);
	out(out_ud, o.p, o.len);
	buf_free(&o);
	for (size_t g = 0; g < r.n; g++) {
		struct group *gr = &r.g[g];
		for (int e = 0; e < gr->nadded_ex; e++)
			mem_free(gr->examples[e]);
		for (int e = 0; e < gr->nremoved_ex; e++)
			mem_free(gr->examples[3 + e]);
		for (size_t c = 0; c < gr->ncust; c++)
			mem_free(gr->customers[c]);
		mem_free(gr->customers);
		mem_free(gr->rule);
		mem_free(gr->action);
	}
	mem_free(r.g);
	arena_free(&r.scratch);
	lines_free(&a);
	lines_free(&b);
	return added || removed ? CXR_RULE_FAILURES : CXR_OK;
}
