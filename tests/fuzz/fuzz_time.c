/* fuzz_time.c: any bytes as a time and as a duration.  Property: what
 * parses formats to text that parses to the same instant (duration). */
#include "fuzz.h"

struct text {
	char p[256];
	size_t n;
};

static void to_text(void *ud, const char *p, size_t n)
{
	struct text *t = ud;
	if (t->n + n < sizeof t->p) {
		memcpy(t->p + t->n, p, n);
		t->n += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t ns, again;
	if (cxr_parse_time((const char *)data, size, &ns) == 0) {
		struct text t = {{0}, 0};
		cxr_format_time(ns, to_text, &t);
		FUZZ_ASSERT(cxr_parse_time(t.p, t.n, &again) == 0 && again == ns, "time %.*s -> %.*s", (int)size,
			    (const char *)data, (int)t.n, t.p);
	}
	cxr_parse_duration((const char *)data, size, &ns);
	return 0;
}
