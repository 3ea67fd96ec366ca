/* against.c: `cxr check RULES --against EVENTS`.
 *
 * A script can compile and still never fire because the log calls things
 * differently: `film_strated`, `startd`, `customer` for `customer_id`.
 * This reads the logs (the event types and the top-level fields each type
 * carries) and warns, at the script's location, about every type and field
 * the rules name that the logs never have, suggesting the closest name the
 * logs do have.
 */
#include <string.h>
#include <sys/stat.h>

#include "base/diag.h"
#include "base/json.h"
#include "inspect.h"
#include "io/ingest.h"
#include "base/source.h"

struct seen_type {
	char *name;
	char **fields;
	int nfields, cap;
	uint64_t count;
};

struct seen {
	struct seen_type *t;
	int n, cap;
	char **keys;       /* every top-level field, whatever the type */
	int nkeys, capkeys;
	uint64_t records;
};

static int add_name(char ***list, int *n, int *cap, const char *s, size_t len)
{
	for (int i = 0; i < *n; i++)
		if (strlen((*list)[i]) == len && memcmp((*list)[i], s, len) == 0)
			return i;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*list = mem_realloc(*list, sizeof **list * (size_t)*cap);
	}
	(*list)[*n] = mem_strndup(s, len);
	return (*n)++;
}

static struct seen_type *seen_type(struct seen *s, const char *name, size_t len)
{
	for (int i = 0; i < s->n; i++)
		if (strlen(s->t[i].name) == len && memcmp(s->t[i].name, name, len) == 0)
			return &s->t[i];
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->t = mem_realloc(s->t, sizeof *s->t * (size_t)s->cap);
	}
	struct seen_type *t = &s->t[s->n++];
	memset(t, 0, sizeof *t);
	t->name = mem_strndup(name, len);
	return t;
}

/* One record: its type, then its fields under that type. */
struct record {
	const char *type_field;
	struct buf type;
	const char **keys;
	size_t *lens;
	int n, cap;
};

static void member(void *ud, const char *key, size_t keylen, const struct val *v)
{
	struct record *r = ud;
	if (strlen(r->type_field) == keylen && memcmp(r->type_field, key, keylen) == 0 && v->kind == V_STR)
		buf_add(&r->type, v->u.s, v->len);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->keys = mem_realloc(r->keys, sizeof *r->keys * (size_t)r->cap);
		r->lens = mem_realloc(r->lens, sizeof *r->lens * (size_t)r->cap);
	}
	r->keys[r->n] = key;
	r->lens[r->n++] = keylen;
}

static void record_done(struct seen *s, struct record *r)
{
	s->records++;
	struct seen_type *t = seen_type(s, r->type.p ? r->type.p : "", r->type.len);
	t->count++;
	for (int i = 0; i < r->n; i++) {
		if (r->lens[i] == 0)
			continue; /* an empty CSV cell */
		add_name(&t->fields, &t->nfields, &t->cap, r->keys[i], r->lens[i]);
		add_name(&s->keys, &s->nkeys, &s->capkeys, r->keys[i], r->lens[i]);
	}
	buf_clear(&r->type);
	r->n = 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int read_log(const struct prog *p, struct diag *d, const char *path, struct seen *s)
{
	char err[256];
	struct source *src = src_open(path, err, sizeof err);
	if (!src) {
		diag_plain(d, "cxr: cannot open %s: %s", path, err);
		return -1;
	}
	struct record r = {p->slots[SLOT_TYPE].path, {0}, NULL, NULL, 0, 0};
	struct arena a = {0};
	int csv = p->format == FMT_CSV || (p->format == FMT_AUTO && (ends_with(path, ".csv") || ends_with(path, ".tsv")));
	if (csv) {
		src_csv_delim(src, p->delim);
		struct csv_record rec;
		char **header = NULL;
		int nheader = 0, cap = 0, first = 1;
		while (src_csv(src, &rec) > 0) {
			if (rec.error)
				continue;
			if (first) {
				for (size_t c = 0; c < rec.ncells; c++)
					add_name(&header, &nheader, &cap, rec.cells[c].p, rec.cells[c].len);
				first = 0;
				continue;
			}
			/* A CSV row has every column; an empty cell counts as absent. */
			for (size_t c = 0; c < rec.ncells && (int)c < nheader; c++) {
				struct val v = val_str(rec.cells[c].p, rec.cells[c].len);
				if (rec.cells[c].len || rec.cells[c].quoted)
					member(&r, header[c], strlen(header[c]), &v);
				else if (!strcmp(header[c], r.type_field))
					member(&r, header[c], strlen(header[c]), &v);
			}
			record_done(s, &r);
		}
		for (int i = 0; i < nheader; i++)
			mem_free(header[i]);
		mem_free(header);
	} else {
		const char *line;
		size_t len;
		uint64_t lineno;
		struct json_error jerr;
		while (src_line(src, &line, &len, &lineno) > 0) {
			if (json_scan_members(line, len, member, &r, &a, &jerr) == 0)
				record_done(s, &r);
			else
				r.n = 0;
			buf_clear(&r.type);
			arena_reset(&a, (struct arena_mark){0});
		}
	}
	src_close(src);
	arena_free(&a);
	buf_free(&r.type);
	mem_free(r.keys);
	mem_free(r.lens);
	return 0;
}

static struct seen_type *find_seen(struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->t[i].name, name))
			return &s->t[i];
	return NULL;
}

static void seen_free(struct seen *s)
{
	for (int i = 0; i < s->n; i++) {
		for (int k = 0; k < s->t[i].nfields; k++)
			mem_free(s->t[i].fields[k]);
		mem_free(s->t[i].fields);
		mem_free(s->t[i].name);
	}
	mem_free(s->t);
	for (int i = 0; i < s->nkeys; i++)
		mem_free(s->keys[i]);
	mem_free(s->keys);
}

/* told_type: a missing type column was warned about already. */
static int report(const struct prog *p, struct diag *d, struct seen *s, int told_type);

static int check_against(const struct prog *p, struct diag *d, const char *const *paths, int npaths, int told_type)
{
	struct seen s = {0};
	int rc = 0;
	for (int i = 0; i < npaths && rc == 0; i++)
		rc = read_log(p, d, paths[i], &s);
	if (rc == 0)
		rc = report(p, d, &s, told_type);
	seen_free(&s);
	return rc;
}

int against_check(const struct prog *p, struct diag *d, const char *const *paths, int npaths)
{
	return check_against(p, d, paths, npaths, 0);
}

/* Does the census of a run lack anything the rules name? */
static int census_lacks(const struct prog *p, const struct census *c)
{
	if (!c->typed && p->ntypes && !c->type_told)
		return 1;
	if (c->missing || c->unseen[c->ntypes])
		return 1;
	for (int t = 0; t < p->ntypes; t++)
		if (c->types[t] && c->unseen[t])
			return 1;
	return 0;
}

int census_warnings(const struct prog *p, struct diag *d, const struct census *c, const char *const *paths,
		    int npaths)
{
	if (!c->events || !census_lacks(p, c))
		return 0;
	/* Files can be read again for the names they do have: the warnings of
	 * `check --against`, word for word.  A pipe or a FIFO cannot. */
	int files = 1;
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		files &= strcmp(paths[i], "-") != 0 && stat(paths[i], &st) == 0 && S_ISREG(st.st_mode);
	}
	if (files && npaths) {
		int n = check_against(p, d, paths, npaths, c->type_told);
		return n < 0 ? 0 : n;
	}
	/* A stream is gone: what the census kept is what can be said. */
	struct seen s = {0};
	s.records = c->events;
	for (int k = 0; k < 3; k++)
		if (k != SLOT_TYPE || c->typed)
			add_name(&s.keys, &s.nkeys, &s.capkeys, p->slots[k].path, strlen(p->slots[k].path));
	for (int t = 0; t < p->ntypes; t++) {
		if (!c->types[t])
			continue;
		struct seen_type *st = seen_type(&s, p->types[t].name, p->types[t].len);
		st->count = c->types[t];
		for (int k = c->first[t]; k < c->first[t + 1]; k++) {
			if (!c->seen[k])
				continue;
			const char *path = p->slots[c->slots[k]].path;
			add_name(&st->fields, &st->nfields, &st->cap, path, strlen(path));
			add_name(&s.keys, &s.nkeys, &s.capkeys, path, strlen(path));
		}
	}
	for (int k = c->first[c->ntypes]; k < c->first[c->ntypes + 1]; k++)
		if (c->seen[k])
			add_name(&s.keys, &s.nkeys, &s.capkeys, p->slots[c->slots[k]].path,
				 strlen(p->slots[c->slots[k]].path));
	for (int i = 0; i < c->nothers; i++)
		seen_type(&s, c->others[i], strlen(c->others[i]));
	int n = report(p, d, &s, c->type_told);
	seen_free(&s);
	return n;
}

/* Of the places that name the type of use u (its first), the one of the
 * highest kind (a rule's `on` first), the earliest among those. */
static struct loc preferred_use(const struct prog *p, int u)
{
	const struct type_use *best = &p->type_uses[u];
	for (int v = u + 1; v < p->ntype_uses; v++)
		if (p->type_uses[v].type == best->type && p->type_uses[v].kind > best->kind)
			best = &p->type_uses[v];
	return best->loc;
}

/* The warnings, from what the logs were seen to have. */
static int report(const struct prog *p, struct diag *d, struct seen *s, int told_type)
{
	int warnings = d->warnings;
	struct buf hint = {0};
	struct suggest sg;
	/* The input block's own fields. */
	static const char *const role[] = {"customer key", "event time", "event type"};
	int type_field_missing = 0;
	for (int k = 0; k < 3 && s->records; k++) {
		if (k == SLOT_TYPE && (!p->ntypes || told_type)) {
			type_field_missing |= told_type; /* then every type is missing: moot */
			continue; /* `on any` alone reads no type */
		}
		int found = 0;
		for (int i = 0; i < s->nkeys; i++)
			found |= !strcmp(s->keys[i], p->slots[k].path) || (p->slots[k].nseg > 1 && !strcmp(s->keys[i], p->slots[k].segs[0]));
		if (found)
			continue;
		suggest_init(&sg, p->slots[k].path, strlen(p->slots[k].path));
		for (int i = 0; i < s->nkeys; i++)
			suggest_try(&sg, s->keys[i], strlen(s->keys[i]));
		if (!sg.best) {
			/* No close name: say what the logs do have. */
			buf_clear(&hint);
			buf_adds(&hint, "; they have ");
			for (int i = 0; i < s->nkeys && i < 8; i++)
				buf_printf(&hint, "%s%s", i ? ", " : "", s->keys[i]);
			buf_adds(&hint, s->nkeys > 8 ? ", ..." : "");
		} else {
			suggest_hint(&sg, &hint);
		}
		/* On the field's name in the input block; a default is no
		 * token of the script: the message names the script only. */
		static const char *const setting[] = {"key", "time", "type"};
		struct loc at = p->input_loc[k];
		if (at.first_line <= 0)
			diag_report(d, DIAG_WARNING, at,
				    "the logs have no field '%s' for the %s (the default; input { %s = F } names "
				    "another)%s",
				    p->slots[k].path, role[k], setting[k], hint.p);
		else
			diag_report(d, DIAG_WARNING, at, "the logs have no field '%s' for the %s%s", p->slots[k].path,
				    role[k], hint.p);
		type_field_missing |= k == SLOT_TYPE;
	}
	/* Event types the script reads: triggers and steps, SLAs, goals,
	 * stages, history (moot without a type field), each once, in the
	 * order first named, each on the name a reader looks for: after a
	 * rule's `on` if one names it (prefer_use). */
	for (int u = 0; u < p->ntype_uses && !type_field_missing; u++) {
		int type = p->type_uses[u].type, dup = 0;
		for (int v = 0; v < u && !dup; v++)
			dup = p->type_uses[v].type == type;
		const char *name = p->types[type].name;
		if (dup || find_seen(s, name))
			continue;
		suggest_init(&sg, name, strlen(name));
		for (int k = 0; k < s->n; k++)
			suggest_try(&sg, s->t[k].name, strlen(s->t[k].name));
		diag_report(d, DIAG_WARNING, preferred_use(p, u), "event type '%s' never appears in the logs%s", name,
			    suggest_hint(&sg, &hint));
	}
	/* Fields the rules read, on the types that do appear, or on any event. */
	for (int u = 0; u < p->nuses; u++) {
		const struct field_use *fu = &p->uses[u];
		struct seen_type *t = fu->type >= 0 ? find_seen(s, p->types[fu->type].name) : NULL;
		if (fu->type >= 0 && !t)
			continue;
		char **fields = t ? t->fields : s->keys;
		int nfields = t ? t->nfields : s->nkeys;
		const struct slot *sl = &p->slots[fu->slot];
		int found = 0;
		for (int i = 0; i < nfields && !found; i++)
			found = !strcmp(fields[i], sl->path) || !strcmp(fields[i], sl->segs[0]);
		if (found)
			continue;
		int dup = 0;
		for (int v = 0; v < u && !dup; v++)
			dup = p->uses[v].type == fu->type && p->uses[v].slot == fu->slot;
		if (dup)
			continue;
		suggest_init(&sg, sl->path, strlen(sl->path));
		for (int i = 0; i < nfields; i++)
			suggest_try(&sg, fields[i], strlen(fields[i]));
		if (t)
			diag_report(d, DIAG_WARNING, fu->loc, "field '%s' never appears on event %s in the logs%s", sl->path,
				    t->name, suggest_hint(&sg, &hint));
		else
			diag_report(d, DIAG_WARNING, fu->loc, "field '%s' never appears on any event in the logs%s",
				    sl->path, suggest_hint(&sg, &hint));
	}
	buf_free(&hint);
	return d->warnings - warnings;
}
