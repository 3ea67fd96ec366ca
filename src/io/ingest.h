/* ingest.h: input files to a time-ordered store of events. */
#ifndef CXR_INGEST_H
#define CXR_INGEST_H

#include <stddef.h>

#include "engine/engine.h"
#include "vm/prog.h"

struct json_proj;
struct source;
struct progress;

/* What the logs held of what the rules name, counted as records become
 * events, so that a run can say which event types and fields never came:
 * a typo gives no responses, and that must not look like an answer. */
#define CENSUS_OTHERS 256
struct census {
	uint64_t events;       /* records that became events (key and time valid) */
	uint64_t typed;        /* ... with a type */
	int type_told;         /* a CSV header without the type column was warned about */
	uint64_t *types;       /* per prog type: its events */
	int ntypes;            /* prog types; "type" ntypes below is any event (`on any` fields) */
	int *first;            /* per type and any, into slots[]: the fields its rules read ... */
	int *slots;            /* ... (distinct slots), up to first[type + 1] */
	uint8_t *seen;         /* per slots[] entry: an event of the type had a value there */
	int *unseen;           /* per type and any: entries not seen yet (0: nothing left to look for) */
	uint8_t *named;        /* per prog type: the script reads it (a trigger, an SLA, a stage...) */
	int missing;           /* named types not seen yet */
	int streaming;         /* a stream cannot be read again for the names it had: keep ... */
	char **others;         /* ... the type names the script does not name, the first
				* CENSUS_OTHERS, while a trigger type is missing */
	int nothers;
	uint32_t other_index[2 * CENSUS_OTHERS]; /* open addressing on their hash: index + 1 */
};

struct store {
	const struct prog *prog;
	struct json_proj *proj; /* the slots, as JSON key paths */
	struct event *evs;
	size_t n, cap;
	struct arena data;      /* slots and strings of every event */
	int sorted;             /* events so far are in time order */
	int strict;             /* stop at the first rejected record */
	struct buf why;         /* the reason of the record being rejected */
	/* Streaming: each event goes to the sink instead of the store. */
	void (*sink)(void *ud, const struct event *ev, const char *raw, size_t rawlen);
	void *sink_ud;
	struct arena_mark empty;
	struct arena_mark mark; /* before the record being read */
	/* Read whole: beyond `limit` bytes the events go to sorted runs. */
	struct spill *spill;
	size_t limit;
	/* A part of a file read on a thread of its own (store_read_part):
	 * no engine is touched; what it would have been told waits here. */
	int part;
	uint64_t unread;          /* events of types nothing reads ... */
	int64_t unread_last;      /* ... and the latest of their times */
	struct part_reject *rejects;
	size_t nrejects;
	struct buf read_error;    /* a read error, when the part failed */
	uint64_t lines;           /* lines in the part */
	int failed;               /* the part cannot be read: said already */
	struct census census;
	struct progress *progress; /* told of each event read (NULL: none; a part read on another
				    * thread has none: its events are told when it is taken) */
	int halt;                 /* set by the sink: store_follow returns after this record */
};

struct part_reject {
	enum reject_kind kind;
	uint32_t file;
	uint64_t line, last_line;
	size_t col;
	char *why, *raw;
	size_t rawlen;
};

void store_init(struct store *st, const struct prog *p);
void store_free(struct store *st);
/* Read a file ("-": stdin) into the store.  Returns 0; -1 when --strict
 * stopped at a rejected record; -2 when the file cannot be read at all. */
int store_read(struct engine *e, struct store *st, const char *path);
/* One JSON text as an event record of `file` (REPL, embedding). */
int store_read_json_line(struct engine *e, struct store *st, uint32_t file, uint64_t lineno, const char *line,
			 size_t len);
/* A streamed event comes to the sink with its customer not yet made
 * (EVENT_CUSTOMER_LATER): the sink makes it when it accepts the event. */
void store_event_customer(struct engine *e, struct event *ev);
/* Read the files with up to `threads` threads (parts of JSON Lines files
 * of at least min_part bytes), one file after another; what the parts
 * read becomes st's.  Returns as store_read. */
int store_read_threads(struct engine *e, struct store *st, const char *const *paths, int npaths, int threads,
		       uint64_t min_part);

/* Bytes [from, to) of a regular file, whose bytes before `from` held
 * line0 lines (a state run reads on where the last one stopped); *lines
 * gets the lines up to `to`.  A CSV file is read whole (from is 0).
 * Returns as store_read. */
int store_read_range(struct engine *e, struct store *st, const char *path, uint64_t from, uint64_t to, uint64_t line0,
		     uint64_t *lines);
/* The JSON Lines records of an open source (src_follow: one that grows),
 * which stays open: to its end, or until the sink sets st->halt.
 * Returns as store_read. */
int store_follow(struct engine *e, struct store *st, struct source *src, uint32_t file);
/* Order by time, ties in input order. */
void store_sort(struct store *st);

/* Shared by ingest.c and parts.c (io/ only). */
struct source;
/* The records of src (named path), which it closes, as CSV or JSON Lines. */
int store_ingest(struct engine *e, struct store *st, struct source *src, uint32_t file, const char *path);
enum input_format store_format_of(const struct prog *p, const char *path);
/* Tell and count a rejected record.  0, or -1 when --strict stops the run. */
int store_reject(struct engine *e, struct store *st, enum reject_kind kind, uint32_t file, uint64_t line,
		 uint64_t last_line, size_t col, const char *why, const char *raw, size_t rawlen);
/* The customer key of the key slot as text (num: room for a number);
 * 0 when it is none. */
int store_event_key(const struct val *k, char num[64], const char **key, size_t *keylen);
/* Append an event, noting whether the store is still in time order. */
void store_push(struct store *st, const struct event *ev);
void census_merge(struct census *into, const struct census *from, int ntypes);

/* Sorted runs on disk (spill.c), for logs larger than memory. */
struct spill *spill_new(void);
void spill_free(struct spill *sp);
/* Sort the store, write it as a run and empty it.  -1 (reported): the
 * run could not be written. */
int spill_store(struct spill *sp, struct store *st, struct diag *d);
/* Every run merged in (time, file, line) order into engine_event. */
int spill_merge(struct spill *sp, struct engine *e, int nslots);
int spill_runs(const struct spill *sp);
uint64_t spill_bytes(const struct spill *sp);

#endif
