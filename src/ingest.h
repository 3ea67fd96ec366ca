/* ingest.h: input files to a time-ordered store of events. */
#ifndef CXR_INGEST_H
#define CXR_INGEST_H

#include <stddef.h>

#include "engine.h"
#include "prog.h"

struct json_proj;

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
};

void store_init(struct store *st, const struct prog *p);
void store_free(struct store *st);
/* Read a file ("-": stdin) into the store.  Returns 0; -1 when --strict
 * stopped at a rejected record; -2 when the file cannot be read at all. */
int store_read(struct engine *e, struct store *st, const char *path);
/* One JSON text as an event record of `file` (REPL, embedding). */
int store_read_json_line(struct engine *e, struct store *st, uint32_t file, uint64_t lineno, const char *line,
			 size_t len);
/* Order by time, ties in input order. */
void store_sort(struct store *st);

#endif
