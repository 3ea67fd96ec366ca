/* fuzz_jsonl.c: any bytes as a JSON Lines stream, through a script that
 * reads fields of every kind, keeps state and history, and measures. */
#include "fuzz.h"

static const char script[] =
	"input { lateness = 5m }\n"
	"metric m: p50 by g\n"
	"rule every\n"
	"  on any as e\n"
	"  set customer.seen = (customer.seen ?? []) + [e.s]\n"
	"  observe m e.n by e.s\n"
	"  emit seen { s: e.s, n: e.n, nested: e.a.b, q: e[\"q:x\"], c: count(any within 1h), l: len(customer.seen) }\n"
	"end\n"
	"rule later\n"
	"  on x as a then no y within 10m\n"
	"  emit missing { n: a.n }\n"
	"end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cxr *h = fuzz_handle(script, sizeof script - 1);
	const char *p = (const char *)data, *end = p + size;
	uint64_t line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cxr_feed_json(h, p, n, "fuzz", ++line);
		p += n + (nl != NULL);
	}
	cxr_finish(h);
	cxr_summary(h, fuzz_sink, NULL);
	cxr_free(h);
	return 0;
}
