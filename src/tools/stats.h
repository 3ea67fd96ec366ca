/* stats.h: what the two halves of `cxr stats` share: the profile that
 * stats.c builds while it reads, and stats_report.c turns into a report. */
#ifndef CXR_STATS_H
#define CXR_STATS_H

#include "cxr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "base/mem.h"
#include "base/progress.h"
#include "base/source.h"
#include "base/timeutil.h"
#include "base/diag.h"
#include "base/value.h"
#include "base/diag.h"
#include "base/value.h"

enum {
	STATS_GUESS = 100,       /* records looked at to guess key, time and type */
	STATS_MAX_FIELDS = 1000, /* field names profiled; values of later names are counted only */
	STATS_MAX_TYPES = 1000,  /* event types with field profiles */
	STATS_TEXT_TYPES = 50,   /* types the text report details (JSON has them all) */
	STATS_VALUES = 8,        /* distinct values kept per field, for small value sets */
	STATS_VALUE_BYTES = 40,  /* longest value kept as an example */
	STATS_PROBLEMS = 5,      /* reasons listed for each kind of problem */
};

/* What a value holds, as a script would read it: one table for the
 * report's names and the schema type each suggests. */
enum kind { K_INT, K_FLOAT, K_BOOL, K_STRING, K_TIME, K_DUR, K_JSON, NKIND };
struct kind_info {
	const char *name;   /* in the report */
	const char *schema; /* in a suggested `event` schema */
};
extern const struct kind_info stats_kinds[NKIND];

/* Features of a timestamp; a format is a combination of them. */
enum {
	TF_Z = 1,        /* ends in Z */
	TF_OFFSET = 2,   /* ends in +hh:mm or -hh:mm */
	TF_SPACE = 4,    /* a space between date and time */
	TF_FRAC = 8,     /* fractional seconds */
	TF_DATE = 16,    /* a bare date */
	TF_EPOCH_S = 32, /* a number of seconds */
	TF_EPOCH_MS = 64, /* a number of milliseconds */
	TF_COMBOS = 128,
};

/* The roles of fields; the order of struct cxr_stats_options. */
enum { R_KEY, R_TIME, R_TYPE, NROLES };
extern const char *const stats_role_name[NROLES];
extern const char *const stats_role_option[NROLES];

/* An open-addressing table of strings (field names, types, customers):
 * each string gets an index in insertion order. */
struct sent {
	const char *s; /* NULL: free slot */
	uint32_t len;
	uint32_t idx;
	uint64_t hash;
};
struct strtab {
	struct sent *e;
	size_t cap; /* a power of two, or 0 */
	uint32_t n;
};

/* One value kept for a field: an example, and a count while the field's
 * values are few. */
struct kept {
	const char *s; /* text, at most STATS_VALUE_BYTES */
	uint32_t len;
	uint8_t kind;  /* enum kind */
	uint8_t cut;   /* the value was longer and cut */
	uint64_t n;    /* times seen (exact while the profile has not overflowed) */
};

/* A field within the events of one type. */
struct fprof {
	uint64_t seen;          /* events holding the field, empty or not */
	uint64_t filled;        /* ... with a value that is not empty or null */
	uint64_t kinds[NKIND];  /* filled values of each kind */
	double lo, hi;          /* range of the numbers (kinds int, float) */
	struct kept vals[STATS_VALUES]; /* distinct values in first-seen order */
	int nvals;
	int overflow;           /* more than STATS_VALUES distinct values, or a long one */
	struct kept kind_ex[NKIND]; /* the first value of each kind, for mixed fields */
};

struct etype {
	const char *name; /* NULL: events without a type */
	uint32_t len;
	uint64_t count;
	int profiled;        /* fields are profiled (the first STATS_MAX_TYPES types) */
	struct fprof **prof; /* by field index; NULL where the field never appeared */
	uint32_t nprof;
};

struct field {
	const char *name;
	uint32_t len;
	int seen; /* in some record (a given role's name is interned before) */
};

/* Which field plays a role, and how often it held a usable value. */
struct role {
	const char *name; /* NULL: none found */
	size_t len;
	int guessed;
	int64_t fid;            /* field index, -1 */
	struct json_proj *proj; /* a given dotted name as a path into nested objects */
	uint64_t nested;        /* values found through that path */
	uint64_t present;       /* records where the value was usable */
	int64_t also[8];        /* other candidate names present (field indexes, -1 ends) */
	/* The key's guess, for it and each of also[]: distinct values in the
	 * first records, and whether those records are grouped by it. */
	uint32_t distinct[9];
	uint8_t grouped[9];
	int ranked;             /* the key's candidates were ranked so, over this many records */
};

/* One member of a record: its field and value. */
struct member {
	int64_t fid; /* -1: not profiled (over the cap) or overridden by a later duplicate */
	struct val v;
};

/* A record held back until the roles are guessed. */
struct held {
	uint32_t file;
	uint64_t line;
	struct member *m; /* in the hold arena */
	size_t n;
};

/* A problem with a record, for the first few lines of each list. */
struct problem {
	uint32_t file;
	uint64_t line;
	size_t col; /* 0: no column */
	const char *reason;
};

struct input {
	const char *name; /* "<stdin>" for "-" */
	int csv;
	char delim;
	int sniffed; /* the delimiter was found from the header */
	uint64_t records, rejected;
};

struct stats {
	struct arena pool; /* names, keys, examples: kept to the end */
	struct arena rec;  /* one JSON record's decoded strings */
	struct arena hold; /* the records held back for the guess */
	struct buf tmp;

	struct strtab fieldtab;
	struct field *fields;
	uint32_t capfields;
	uint64_t unprofiled; /* values of fields beyond STATS_MAX_FIELDS names */

	struct strtab typetab;
	struct etype *types;
	uint32_t captypes;
	struct etype untyped;

	struct strtab custtab;
	uint32_t *cust_n; /* events per customer, by index */
	uint32_t capcust;

	struct role role[NROLES];
	struct held *held;
	size_t nheld, capheld;
	int guessed; /* the roles are settled */

	struct member *m; /* the record being collected */
	size_t nm, capm;
	uint64_t *stamp; /* by field index: the record number that last held it */
	size_t *slot;    /* by field index: its member in that record */
	uint32_t capstamp;
	uint64_t recno;

	struct input *inputs;
	int ninputs;
	uint64_t records, rejected, unusable;
	struct problem rejects[STATS_PROBLEMS], unusables[STATS_PROBLEMS];

	uint64_t timed;
	int64_t tmin, tmax;
	uint64_t fmt_count[TF_COMBOS];
	struct kept fmt_ex[TF_COMBOS];
	uint64_t backward; /* records earlier than the one before them in their file */
	int64_t max_back;
	uint64_t runs;     /* runs of consecutive records of one customer */
	int64_t cur_file;  /* file of the previous record processed, -1 */
	int have_prev_time;
	int64_t prev_time;
	int64_t prev_cust;

	cxr_write_fn diag;
	void *diag_ud;
	struct progress *progress; /* told of each record read, or NULL */
};

int stats_read_input(struct stats *s, const char *path, const char *format);
void stats_guess_roles(struct stats *s);
void stats_strtab_free(struct strtab *t);
/* n bytes of s cut to at most max bytes at a UTF-8 character boundary. */
size_t stats_cut_utf8(const char *s, size_t n, size_t max);
static inline int is_digit(char c) { return c >= '0' && c <= '9'; }

#endif
