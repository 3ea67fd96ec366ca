/* store.c: a run's state in a SQLite file (store.h).
 *
 * SQLite in WAL mode, one writer: a save is one transaction, so a crash
 * (even kill -9 in the middle of a save) leaves the last whole save.
 * synchronous=NORMAL: in WAL mode a power loss may lose the last saves
 * but never corrupts the file; a process crash loses nothing committed.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "engine/snapshot.h"
#include "store.h"

/* PRAGMA application_id: "cxr!" in ASCII, so that `file` and a reader
 * tell a cxr state from any other SQLite file. */
#define STATE_APPLICATION_ID 0x63787221

/* Each record is stored with a hash of its key and bytes: SQLite checks
 * its pages' structure, not what a blob holds, and a changed byte in a
 * record must be found before it is used. */
static int64_t record_sum(const void *key, size_t keylen, const void *p, size_t n)
{
	uint64_t h = mem_hash(p ? p : "", n);
	h ^= mem_hash(key ? key : "", keylen) * 0x9E3779B97F4A7C15ULL;
	return (int64_t)(h >> 1);
}

/* Input files are recognised by the hashes of a block at their start
 * and of the last block read. */
#define HASH_BLOCK 4096

struct input_rec {
	char *path;       /* the real path */
	uint64_t size, lines;
	uint64_t head, tail; /* hashes */
	int dirty;        /* to write at the next save */
};

struct state_file {
	sqlite3 *db;
	char *path;
	struct diag *diag;
	const char *version; /* of the cxr writing: the caller's (cxr.h is above this layer) */
	int empty;
	struct input_rec *inputs;
	uint32_t ninputs;
	/* Tests only: CXR_TEST_CRASH_IN_SAVE=N kills the process (SIGKILL) at
	 * the N-th SQLite statement of the saves, as a crash in the middle of
	 * a checkpoint would. */
	long crash_after;
	uint32_t saved_custs; /* customers the file holds, idx 0 .. saved_custs - 1 */
	int rewrite_all;      /* its records name things by another table: write them all anew */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS names(kind TEXT NOT NULL, parent INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" name TEXT NOT NULL, sig TEXT NOT NULL, PRIMARY KEY(kind, parent, idx));"
	"CREATE TABLE IF NOT EXISTS run(id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL, sum INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS customers(idx INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, state BLOB NOT NULL,"
	" sum INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS inputs(path TEXT PRIMARY KEY, size INTEGER NOT NULL, lines INTEGER NOT NULL,"
	" head_hash INTEGER NOT NULL, tail_hash INTEGER NOT NULL, read_at TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS checkpoints(seq INTEGER PRIMARY KEY, at TEXT NOT NULL, events INTEGER NOT NULL,"
	" log_time TEXT, customers INTEGER NOT NULL, bytes INTEGER NOT NULL, ms REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS progress(id INTEGER PRIMARY KEY CHECK (id = 1), plan TEXT NOT NULL,"
	" applied INTEGER NOT NULL, output INTEGER NOT NULL, rejects INTEGER NOT NULL, audit INTEGER NOT NULL,"
	" finished INTEGER NOT NULL);";

static void say(struct state_file *s, const char *fmt, const char *detail)
{
	struct buf b = {0};
	buf_printf(&b, fmt, detail);
	diag_plain(s->diag, "cxr: %s: %s", s->path, b.p);
	buf_free(&b);
}

static void say_sql(struct state_file *s, const char *doing)
{
	struct buf b = {0};
	buf_printf(&b, "%s: %s", doing, sqlite3_errmsg(s->db));
	say(s, "%s", b.p);
	buf_free(&b);
}

static void crash_point(struct state_file *s);

static int exec(struct state_file *s, const char *sql)
{
	char *err = NULL;
	crash_point(s);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		struct buf b = {0};
		buf_printf(&b, "%s", err ? err : sqlite3_errmsg(s->db));
		say(s, "%s", b.p);
		buf_free(&b);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int pragma_int(struct state_file *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static void state_free(struct state_file *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	for (uint32_t i = 0; i < s->ninputs; i++)
		free(s->inputs[i].path);
	mem_free(s->inputs);
	mem_free(s->path);
	mem_free(s);
}

void state_close(struct state_file *s) { state_free(s); }

/* Is this SQLite file a cxr state we can read?  0, or -1 (told). */
static int check_file(struct state_file *s)
{
	int64_t app = 0, version = 0, tables = 0;
	if (pragma_int(s, "PRAGMA application_id", &app) < 0) {
		int code = sqlite3_errcode(s->db);
		if (code == SQLITE_NOTADB)
			say(s, "%s", "not a cxr state file (not an SQLite database)");
		else if (code == SQLITE_CORRUPT)
			say(s, "%s", "damaged: SQLite says the database disk image is malformed; nothing of it is used");
		else
			say_sql(s, "cannot read the state");
		return -1;
	}
	pragma_int(s, "PRAGMA user_version", &version);
	pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables);
	if (app == 0 && tables == 0) {
		s->empty = 1; /* a new file, or an empty one: ours to fill */
		return 0;
	}
	if (app != STATE_APPLICATION_ID) {
		say(s, "%s", "not a cxr state file (an SQLite database of something else)");
		return -1;
	}
	if (version > STATE_FORMAT_VERSION) {
		char v[96];
		snprintf(v, sizeof v, "written by a newer cxr (state format %lld; this cxr %s reads format %d)",
			 (long long)version, s->version, STATE_FORMAT_VERSION);
		say(s, "%s", v);
		return -1;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
		say_sql(s, "damaged (SQLite's integrity check cannot run)");
		return -1;
	}
	int rc = sqlite3_step(st);
	const char *first = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (rc != SQLITE_ROW || !first || strcmp(first, "ok") != 0) {
		struct buf b = {0};
		buf_printf(&b, "damaged: SQLite's integrity check says: %s; nothing of it is used",
			   first ? first : sqlite3_errmsg(s->db));
		say(s, "%s", b.p);
		buf_free(&b);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	int64_t runs = 0;
	pragma_int(s, "SELECT count(*) FROM run", &runs);
	s->empty = runs == 0;
	return 0;
}

static struct state_file *state_new(const char *path, struct diag *d, const char *version)
{
	struct state_file *s = mem_alloc(sizeof *s);
	s->version = version;
	const char *crash = getenv("CXR_TEST_CRASH_IN_SAVE");
	s->crash_after = crash ? atol(crash) : 0;
	s->path = mem_strndup(path, strlen(path));
	s->diag = d;
	return s;
}

static int load_inputs(struct state_file *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT path, size, lines, head_hash, tail_hash FROM inputs", -1, &st, NULL) !=
	    SQLITE_OK)
		return s->empty ? 0 : (say_sql(s, "cannot read its inputs"), -1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		s->inputs = mem_realloc(s->inputs, sizeof *s->inputs * (s->ninputs + 1));
		struct input_rec *r = &s->inputs[s->ninputs++];
		const char *p = (const char *)sqlite3_column_text(st, 0);
		r->path = strdup(p ? p : "");
		r->size = (uint64_t)sqlite3_column_int64(st, 1);
		r->lines = (uint64_t)sqlite3_column_int64(st, 2);
		r->head = (uint64_t)sqlite3_column_int64(st, 3);
		r->tail = (uint64_t)sqlite3_column_int64(st, 4);
		r->dirty = 0;
	}
	sqlite3_finalize(st);
	return 0;
}

struct state_file *state_open(const char *path, struct diag *d, const char *version)
{
	struct state_file *s = state_new(path, d, version);
	struct stat sb;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		say(s, "%s", "not a regular file");
		state_free(s);
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		say_sql(s, "cannot open the state");
		state_free(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 2000);
	if (sqlite3_db_readonly(s->db, "main") == 1 || (access(path, F_OK) == 0 && access(path, W_OK) != 0)) {
		say(s, "%s", "cannot write the state: the file is read-only (cxr state reads it)");
		state_free(s);
		return NULL;
	}
	if (check_file(s) < 0) {
		state_free(s);
		return NULL;
	}
	/* A new file is marked as a cxr state with its schema, at once: a
	 * first run that fails before its save leaves a state, empty. */
	char mark[128];
	snprintf(mark, sizeof mark, "PRAGMA application_id=%d; PRAGMA user_version=%d;", STATE_APPLICATION_ID,
		 STATE_FORMAT_VERSION);
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL") < 0 || exec(s, "BEGIN IMMEDIATE") < 0 ||
	    (s->empty && exec(s, mark) < 0) || exec(s, schema) < 0 || exec(s, "COMMIT") < 0 || load_inputs(s) < 0) {
		state_free(s);
		return NULL;
	}
	return s;
}

struct state_file *state_open_read(const char *path, struct diag *d, const char *version)
{
	struct state_file *s = state_new(path, d, version);
	struct stat sb;
	if (stat(path, &sb) != 0) {
		say(s, "%s", strerror(errno));
		state_free(s);
		return NULL;
	}
	/* A file we may not write is read as it is: without its -shm beside
	 * it SQLite could not read a WAL file otherwise. */
	struct buf uri = {0};
	buf_adds(&uri, "file:");
	for (const char *c = path; *c; c++)
		if (*c == '%' || *c == '?' || *c == '#')
			buf_printf(&uri, "%%%02X", (unsigned char)*c);
		else
			buf_addc(&uri, *c);
	if (access(path, W_OK) != 0)
		buf_adds(&uri, "?immutable=1");
	int rc = S_ISREG(sb.st_mode) ? sqlite3_open_v2(uri.p, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) : -1;
	buf_free(&uri);
	if (rc != SQLITE_OK) {
		if (!S_ISREG(sb.st_mode))
			say(s, "%s", "not a regular file");
		else
			say_sql(s, "cannot open the state");
		state_free(s);
		return NULL;
	}
	if (check_file(s) < 0 || load_inputs(s) < 0) {
		state_free(s);
		return NULL;
	}
	if (s->empty && sb.st_size == 0) {
		say(s, "%s", "not a cxr state file (it is empty)");
		state_free(s);
		return NULL;
	}
	return s;
}

int state_is_empty(const struct state_file *s) { return s->empty; }

static int read_names(struct state_file *s, struct snap_names *ns)
{
	memset(ns, 0, sizeof *ns);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT kind, parent, idx, name, sig FROM names ORDER BY rowid", -1, &st, NULL) !=
	    SQLITE_OK) {
		say_sql(s, "cannot read its names");
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		int k = 0;
		while (k < SNAP__COUNT && strcmp(snap_kind_names[k], kind ? kind : "") != 0)
			k++;
		int64_t idx = sqlite3_column_int64(st, 2);
		if (k == SNAP__COUNT || idx < 0 || idx > INT32_MAX) {
			sqlite3_finalize(st);
			say(s, "damaged: a name of an unknown kind '%s'; nothing of it is used", kind ? kind : "");
			return -1;
		}
		const char *name = (const char *)sqlite3_column_text(st, 3);
		const char *sig = (const char *)sqlite3_column_text(st, 4);
		snap_names_add(ns, k, (int)sqlite3_column_int64(st, 1), (uint32_t)idx, name ? name : "", sig ? sig : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		say_sql(s, "cannot read its names");
		return -1;
	}
	return 0;
}

int state_load(struct state_file *s, struct engine *e, const char *const *resets, int nresets)
{
	engine_track_changes(e);
	if (s->empty) {
		for (int i = 0; i < nresets; i++)
			say(s, "--reset %s: the state is new, there is nothing to reset", resets[i]);
		return nresets ? -1 : 0;
	}
	struct snap_names ns;
	if (read_names(s, &ns) < 0)
		return -1;
	struct snap_loader *l = snap_loader_new(e, &ns);
	int status = 0;
	for (int i = 0; i < nresets && status == 0; i++)
		if (snap_loader_reset(l, resets[i]) < 0) {
			say(s, "--reset %s: the state has no rule of that name", resets[i]);
			status = -1;
		}
	sqlite3_stmt *st = NULL;
	if (status == 0 && sqlite3_prepare_v2(s->db, "SELECT state, sum FROM run WHERE id = 1", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (record_sum("", 0, p, n) != sqlite3_column_int64(st, 1) || snap_load_run(l, p, n) < 0) {
			say(s, "%s", "damaged: the run's record does not read; nothing of it is used");
			status = -1;
		}
	} else if (status == 0) {
		say_sql(s, "cannot read the run's record");
		status = -1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (status == 0 && sqlite3_prepare_v2(s->db, "SELECT key, state, sum FROM customers ORDER BY idx", -1, &st, NULL) !=
			       SQLITE_OK) {
		say_sql(s, "cannot read its customers");
		status = -1;
	}
	int rc = SQLITE_DONE;
	while (status == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = sqlite3_column_blob(st, 0);
		size_t keylen = (size_t)sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (record_sum(key, keylen, p, n) != sqlite3_column_int64(st, 2) ||
		    snap_load_customer(l, key ? key : "", keylen, p, n) < 0) {
			struct buf b = {0};
			buf_printf(&b, "damaged: the record of customer %.*s does not read; nothing of it is used",
				   (int)(keylen > 200 ? 200 : keylen), key ? key : "");
			say(s, "%s", b.p);
			buf_free(&b);
			status = -1;
		}
	}
	if (status == 0 && rc != SQLITE_DONE) {
		say_sql(s, "cannot read its customers");
		status = -1;
	}
	sqlite3_finalize(st);
	if (status == 0) {
		struct snap_names now;
		snap_names_of(e, &now);
		s->rewrite_all = !snap_names_equal(&ns, &now) || nresets > 0;
		snap_names_free(&now);
		s->saved_custs = e->ncusts;
		struct buf b = {0};
		snap_loader_report(l, "", &b);
		for (char *line = b.p, *nl; line && *line; line = nl + 1) {
			nl = strchr(line, '\n');
			*nl = 0;
			diag_plain(s->diag, "cxr: %s: note: %s", s->path, line);
		}
		buf_free(&b);
	}
	snap_loader_free(l);
	snap_names_free(&ns);
	return status;
}

void state_rules_changed(struct state_file *s) { s->rewrite_all = 1; }

/* ---- inputs ---- */

static uint64_t hash_block(int fd, uint64_t at, int *ok)
{
	char block[HASH_BLOCK];
	ssize_t n = pread(fd, block, sizeof block, (off_t)at);
	if (n < 0) {
		*ok = 0;
		return 0;
	}
	return mem_hash(block, (size_t)n);
}

/* The hashes of the block at the start and of the block that ends at size. */
static int file_hashes(const char *path, uint64_t size, uint64_t *head, uint64_t *tail)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ok = 1;
	*head = hash_block(fd, 0, &ok);
	if (size > HASH_BLOCK) {
		char block[HASH_BLOCK];
		ssize_t n = pread(fd, block, sizeof block, (off_t)(size - HASH_BLOCK));
		ok &= n == HASH_BLOCK;
		*tail = mem_hash(block, HASH_BLOCK);
	} else {
		char block[HASH_BLOCK];
		ssize_t n = pread(fd, block, (size_t)size, 0);
		ok &= n == (ssize_t)size;
		*tail = mem_hash(block, (size_t)size);
	}
	close(fd);
	return ok ? 0 : -1;
}

static struct input_rec *find_input(struct state_file *s, const char *real)
{
	for (uint32_t i = 0; i < s->ninputs; i++)
		if (strcmp(s->inputs[i].path, real) == 0)
			return &s->inputs[i];
	return NULL;
}

enum input_seen state_input(struct state_file *s, const char *path, uint64_t *offset, uint64_t *lines)
{
	*offset = *lines = 0;
	char *real = realpath(path, NULL);
	struct stat sb;
	if (!real || stat(real, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		free(real);
		return INPUT_NEW;
	}
	struct input_rec *r = find_input(s, real);
	free(real);
	if (!r || (uint64_t)sb.st_size < r->size)
		return INPUT_NEW;
	uint64_t head, tail;
	/* The start the state saw, and the block where it stopped. */
	if (file_hashes(path, r->size, &head, &tail) < 0 || head != r->head || tail != r->tail)
		return INPUT_NEW;
	*offset = r->size;
	*lines = r->lines;
	return (uint64_t)sb.st_size == r->size ? INPUT_CONSUMED : INPUT_GREW;
}

void state_input_read(struct state_file *s, const char *path, uint64_t size, uint64_t lines)
{
	char *real = realpath(path, NULL);
	if (!real)
		return;
	struct input_rec *r = find_input(s, real);
	if (!r) {
		s->inputs = mem_realloc(s->inputs, sizeof *s->inputs * (s->ninputs + 1));
		r = &s->inputs[s->ninputs++];
		memset(r, 0, sizeof *r);
		r->path = real;
	} else {
		free(real);
	}
	if (file_hashes(r->path, size, &r->head, &r->tail) < 0)
		return;
	r->size = size;
	r->lines = lines;
	r->dirty = 1;
}

/* ---- saving ---- */

static void now_text(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void crash_point(struct state_file *s)
{
	if (s->crash_after > 0 && --s->crash_after == 0)
		raise(SIGKILL);
}

static int step_done(struct state_file *s, sqlite3_stmt *st, const char *doing)
{
	crash_point(s);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		say_sql(s, doing);
		return -1;
	}
	return 0;
}

static int save_names(struct state_file *s, const struct snap_names *ns)
{
	if (exec(s, "DELETE FROM names") < 0)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO names(kind, parent, idx, name, sig) VALUES (?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK) {
		say_sql(s, "cannot save the state");
		return -1;
	}
	int status = 0;
	for (uint32_t i = 0; i < ns->n && status == 0; i++) {
		const struct snap_name *n = &ns->v[i];
		sqlite3_bind_text(st, 1, snap_kind_names[n->kind], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, n->parent);
		sqlite3_bind_int64(st, 3, n->idx);
		sqlite3_bind_text(st, 4, n->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, n->sig, -1, SQLITE_STATIC);
		status = step_done(s, st, "cannot save the state");
	}
	sqlite3_finalize(st);
	return status;
}

static int save_inputs(struct state_file *s, const char *at)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO inputs(path, size, lines, head_hash, tail_hash, read_at)"
			       " VALUES (?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		say_sql(s, "cannot save the state");
		return -1;
	}
	int status = 0;
	for (uint32_t i = 0; i < s->ninputs && status == 0; i++) {
		struct input_rec *r = &s->inputs[i];
		if (!r->dirty)
			continue;
		sqlite3_bind_text(st, 1, r->path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)r->size);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)r->lines);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)r->head);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)r->tail);
		sqlite3_bind_text(st, 6, at, -1, SQLITE_STATIC);
		status = step_done(s, st, "cannot save the state");
	}
	sqlite3_finalize(st);
	return status;
}

int state_unfinished(struct state_file *s, struct state_progress *p)
{
	memset(p, 0, sizeof *p);
	sqlite3_stmt *st;
	if (s->empty ||
	    sqlite3_prepare_v2(s->db, "SELECT plan, applied, output, rejects, audit, finished FROM progress WHERE id = 1", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		const char *plan = (const char *)sqlite3_column_text(st, 0);
		p->plan = mem_strndup(plan ? plan : "", plan ? strlen(plan) : 0);
		p->applied = (uint64_t)sqlite3_column_int64(st, 1);
		for (int i = 0; i < 3; i++)
			p->lengths[i] = (uint64_t)sqlite3_column_int64(st, 2 + i);
		p->finished = sqlite3_column_int(st, 5) != 0;
	}
	sqlite3_finalize(st);
	return found;
}

static int save_progress(struct state_file *s, const struct state_progress *p)
{
	if (!p)
		return exec(s, "DELETE FROM progress");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO progress(id, plan, applied, output, rejects, audit, finished)"
			       " VALUES (1, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK) {
		say_sql(s, "cannot save the state");
		return -1;
	}
	sqlite3_bind_text(st, 1, p->plan, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)p->applied);
	for (int i = 0; i < 3; i++)
		sqlite3_bind_int64(st, 3 + i, (sqlite3_int64)p->lengths[i]);
	sqlite3_bind_int(st, 6, p->finished);
	int status = step_done(s, st, "cannot save the state");
	sqlite3_finalize(st);
	return status;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int state_save(struct state_file *s, struct engine *e, const struct state_progress *progress)
{
	double began = now_ms();
	char at[32];
	now_text(at, sizeof at);
	if (exec(s, "BEGIN IMMEDIATE") < 0)
		return -1;
	int status = 0;
	struct snap_names ns;
	snap_names_of(e, &ns);
	struct snap_saver *sv = snap_saver_new(e);
	struct buf b = {0};
	sqlite3_stmt *st = NULL;
	uint64_t bytes = 0;
	/* Only the customers changed since the last save are written (and
	 * new ones), unless the table of names changed under the records. */
	if ((s->rewrite_all && exec(s, "DELETE FROM customers") < 0) || save_names(s, &ns) < 0)
		status = -1;
	if (status == 0 && sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO run(id, state, sum) VALUES (1, ?, ?)", -1, &st,
					      NULL) == SQLITE_OK) {
		snap_save_run(sv, &b);
		bytes += b.len;
		sqlite3_bind_blob(st, 1, b.p ? b.p : "", (int)b.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, record_sum("", 0, b.p, b.len));
		status = step_done(s, st, "cannot save the state");
	} else if (status == 0) {
		say_sql(s, "cannot save the state");
		status = -1;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (status == 0 &&
	    sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO customers(idx, key, state, sum) VALUES (?, ?, ?, ?)", -1,
			       &st, NULL) !=
		    SQLITE_OK) {
		say_sql(s, "cannot save the state");
		status = -1;
	}
	uint64_t written = 0;
	for (uint32_t c = 0; status == 0 && c < e->ncusts; c++) {
		if (!s->rewrite_all && c < s->saved_custs && !engine_dirty(e, c))
			continue;
		written++;
		buf_clear(&b);
		snap_save_customer(sv, c, &b);
		bytes += b.len;
		sqlite3_bind_int64(st, 1, c);
		sqlite3_bind_blob(st, 2, cust_key(&e->custs[c]), (int)e->custs[c].keylen, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, b.p ? b.p : "", (int)b.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, record_sum(cust_key(&e->custs[c]), e->custs[c].keylen, b.p, b.len));
		status = step_done(s, st, "cannot save the state");
	}
	sqlite3_finalize(st);
	st = NULL;
	if (status == 0 && (!progress || progress->finished))
		status = save_inputs(s, at);
	if (status == 0)
		status = save_progress(s, progress);
	if (status == 0 &&
	    sqlite3_prepare_v2(s->db,
			       "INSERT INTO checkpoints(at, events, log_time, customers, bytes, ms) VALUES (?, ?, ?, ?, ?, ?)", -1,
			       &st, NULL) == SQLITE_OK) {
		struct buf t = {0};
		if (e->events)
			time_format(&t, e->last_time);
		sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)e->events);
		if (t.p)
			sqlite3_bind_text(st, 3, t.p, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)written);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)bytes);
		sqlite3_bind_double(st, 6, now_ms() - began); /* the commit's fsyncs are not in it */
		status = step_done(s, st, "cannot save the state");
		buf_free(&t);
	} else if (status == 0) {
		say_sql(s, "cannot save the state");
		status = -1;
	}
	sqlite3_finalize(st);
	if (status == 0) {
		char v[256];
		snprintf(v, sizeof v,
			 "PRAGMA application_id=%d; PRAGMA user_version=%d;"
			 " INSERT OR REPLACE INTO meta VALUES ('format', 'cxr state')",
			 STATE_APPLICATION_ID, STATE_FORMAT_VERSION);
		status = exec(s, v);
	}
	if (status == 0) {
		struct buf m = {0};
		buf_printf(&m, "INSERT OR REPLACE INTO meta VALUES ('written_by', 'cxr %s');"
			       " INSERT OR REPLACE INTO meta VALUES ('saved_at', '%s');"
			       " INSERT OR IGNORE INTO meta VALUES ('created_at', '%s')",
			   s->version, at, at);
		status = exec(s, m.p);
		buf_free(&m);
	}
	if (status == 0 && exec(s, "COMMIT") < 0)
		status = -1;
	if (status < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	else {
		s->empty = 0;
		s->saved_custs = e->ncusts;
		s->rewrite_all = 0;
		engine_track_changes(e);
		for (uint32_t i = 0; (!progress || progress->finished) && i < s->ninputs; i++)
			s->inputs[i].dirty = 0;
	}
	buf_free(&b);
	snap_saver_free(sv);
	snap_names_free(&ns);
	return status;
}

/* ---- cxr state ---- */

static const char *meta(struct state_file *s, const char *key, struct buf *b)
{
	sqlite3_stmt *st;
	buf_clear(b);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return "?";
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		buf_adds(b, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return b->p ? b->p : "?";
}

int state_describe(struct state_file *s, const char *customer, struct buf *out)
{
	if (s->empty) {
		buf_printf(out, "%s: a cxr state with nothing saved yet\n", s->path);
		return 0;
	}
	struct snap_names ns;
	if (read_names(s, &ns) < 0)
		return -1;
	int status = 0;
	sqlite3_stmt *st = NULL;
	if (customer) {
		if (sqlite3_prepare_v2(s->db, "SELECT state, sum FROM customers WHERE key = ?", -1, &st, NULL) != SQLITE_OK) {
			say_sql(s, "cannot read its customers");
			snap_names_free(&ns);
			return -1;
		}
		sqlite3_bind_blob(st, 1, customer, (int)strlen(customer), SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			say(s, "no customer '%s' in the state", customer);
			status = -1;
		} else {
			size_t start = out->len;
			buf_printf(out, "customer %s\n", customer);
			size_t before = out->len;
			const void *p = sqlite3_column_blob(st, 0);
			size_t n = (size_t)sqlite3_column_bytes(st, 0);
			if (record_sum(customer, strlen(customer), p, n) != sqlite3_column_int64(st, 1) ||
			    snap_describe_customer(&ns, p, n, out) < 0) {
				say(s, "damaged: the record of customer %s does not read; nothing of it is used", customer);
				out->len = start;
				if (out->p)
					out->p[start] = 0;
				status = -1;
			} else if (out->len == before) {
				buf_adds(out, "  (no state: its events set nothing the rules keep)\n");
			}
		}
		sqlite3_finalize(st);
		snap_names_free(&ns);
		return status;
	}
	struct buf m = {0};
	buf_printf(out, "%s: cxr state, format %d, written by %s", s->path, STATE_FORMAT_VERSION,
		   meta(s, "written_by", &m));
	buf_printf(out, ", saved %s\n", meta(s, "saved_at", &m));
	buf_free(&m);
	/* Customers and their timers, counted from their records. */
	uint64_t ncust = 0, timers = 0;
	int64_t next = 0;
	int any = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT key, state, sum FROM customers ORDER BY idx", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			int64_t t = 0;
			const void *p = sqlite3_column_blob(st, 1);
			size_t len = (size_t)sqlite3_column_bytes(st, 1);
			int n = record_sum(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), p, len) ==
						sqlite3_column_int64(st, 2)
					? snap_count_timers(p, len, &t)
					: -1;
			ncust++;
			if (n < 0 && status == 0) {
				struct buf k = {0};
				int kl = sqlite3_column_bytes(st, 0);
				buf_printf(&k, "damaged: the record of customer %.*s does not read; nothing of it is used",
					   kl > 200 ? 200 : kl, (const char *)sqlite3_column_blob(st, 0));
				say(s, "%s", k.p);
				buf_free(&k);
			}
			if (n < 0) {
				status = -1;
				continue;
			}
			timers += (uint64_t)n;
			if (n > 0 && (!any || t < next)) {
				next = t;
				any = 1;
			}
		}
	}
	sqlite3_finalize(st);
	buf_printf(out, "customers: %llu\n", (unsigned long long)ncust);
	buf_printf(out, "pending timers: %llu", (unsigned long long)timers);
	if (any) {
		buf_adds(out, ", the next at ");
		time_format(out, next);
	}
	buf_addc(out, '\n');
	if (sqlite3_prepare_v2(s->db, "SELECT state, sum FROM run WHERE id = 1", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (record_sum("", 0, p, n) != sqlite3_column_int64(st, 1) || snap_describe_run(&ns, p, n, out) < 0)
			status = -1;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "SELECT path, size, lines, read_at FROM inputs ORDER BY read_at, path", -1, &st,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW)
			buf_printf(out, "input %s: %lld bytes, %lld lines read (%s)\n", sqlite3_column_text(st, 0),
				   (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2),
				   sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	int64_t nck = 0;
	pragma_int(s, "SELECT count(*) FROM checkpoints", &nck);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT at, events, log_time, customers, bytes, ms FROM checkpoints ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *lt = (const char *)sqlite3_column_text(st, 2);
		buf_printf(out,
			   "checkpoints: %lld, the last at %s: %lld events, log time %s, %lld customers written "
			   "(%lld bytes) in %.1f ms\n",
			   (long long)nck, sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1), lt ? lt : "-",
			   (long long)sqlite3_column_int64(st, 3), (long long)sqlite3_column_int64(st, 4),
			   sqlite3_column_double(st, 5));
	}
	sqlite3_finalize(st);
	struct state_progress pr;
	if (state_unfinished(s, &pr) && !pr.finished)
		buf_printf(out, "unfinished run: killed or stopped after %llu of its events; the same command goes on\n",
			   (unsigned long long)pr.applied);
	mem_free(pr.plan);
	if (status < 0) {
		out->len = 0; /* nothing of a damaged file is shown as if it were whole */
		if (out->p)
			out->p[0] = 0;
	}
	snap_names_free(&ns);
	return status;
}
