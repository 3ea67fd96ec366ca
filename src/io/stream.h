/* stream.h: events re-ordered within `lateness` as they arrive (stdin,
 * events fed one by one). */
#ifndef CXR_STREAM_H
#define CXR_STREAM_H

#include "engine/engine.h"

struct stream_item {
	struct event *ev; /* owned copy */
	uint64_t seq;     /* arrival order: ties keep it */
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
};

void stream_init(struct stream *s, struct engine *e, int64_t lateness, enum late_policy late);
/* A store sink (ingest.h): take one event, release what is safe. */
void stream_event(void *ud, const struct event *ev, const char *raw, size_t rawlen);
/* End of the stream: release everything held back. */
void stream_finish(struct stream *s);
/* Process every event held back now, as at the stream's end; the stream
 * goes on (an older event is late, as before). */
void stream_flush(struct stream *s);

#endif
