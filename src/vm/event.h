/* event.h: one input event, as the VM reads it and the engine keeps it.
 *
 * Only the fields the prog reads are there (its slots, prog.h); where the
 * bytes of a string slot live is the ownership rule of base/value.h.
 */
#ifndef CXR_EVENT_H
#define CXR_EVENT_H

#include <stdint.h>

#include "base/value.h"

/* The customer of an event whose type nothing reads: it only moves time. */
#define EVENT_UNREAD UINT32_MAX
/* The customer of a streamed event, made only once the stream accepts the
 * event (store_event_customer), so that a late reject makes no customer. */
#define EVENT_CUSTOMER_LATER (UINT32_MAX - 1)

struct event {
	int64_t time;          /* ns */
	uint32_t cust;         /* customer index (the engine's) */
	int32_t type;          /* index into prog types, or -1 */
	struct val type_name;  /* the type as written (null when absent) */
	struct val *slots;     /* prog->nslots values */
	uint32_t file;         /* index into the engine's file names */
	uint64_t line;         /* line where the record starts */
};

#endif
