/* stream.h: events re-ordered within `lateness` as they arrive (stdin,
 * events fed one by one). */
#ifndef CXR_STREAM_H
#define CXR_STREAM_H

#include "engine/engine.h"

struct stream_item {
	struct event *ev; /* owned copy */
	uint64_t seq;     /* arrival order: ties keep it */
	char *raw;        /* keep_raw: the record as read (owned), to be read again */
	size_t rawlen;
};

struct stream {
	struct engine *engine;
	int64_t lateness;
	enum late_policy late;
	struct stream_item *heap; /* events held back, earliest first */
	size_t n, cap;
	uint64_t seq;
	int64_t newest;           /* the latest event time read so far */
	int seen;
	int by_wall;              /* newest is the wall clock's (stream_advance), not an event's */
	int keep_raw;             /* held events keep their records: a checkpoint saves them,
				   * and a reload reads them again with the new rules */
};

void stream_init(struct stream *s, struct engine *e, int64_t lateness, enum late_policy late);
/* A store sink (ingest.h): take one event, release what is safe. */
void stream_event(void *ud, const struct event *ev, const char *raw, size_t rawlen);
/* End of the stream: release everything held back. */
void stream_finish(struct stream *s);
/* Process every event held back now, as at the stream's end; the stream
 * goes on (an older event is late, as before). */
void stream_flush(struct stream *s);
/* Time has come to t though no event says so (`--clock wall`): events
 * held back up to t - lateness go, and older ones are late from now. */
void stream_advance(struct stream *s, int64_t t);
/* Drop what is held back without processing it (its records are read
 * again: keep_raw). */
void stream_drop(struct stream *s);

#endif
