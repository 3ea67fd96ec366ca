/* fuzz_fmt.c: any bytes as a script to format.  Properties: a script fmt
 * formats compiles with as many errors as before, and formatting it
 * again changes nothing. */
#include "fuzz.h"

struct text {
	char *p;
	size_t n, cap;
};

static void to_text(void *ud, const char *p, size_t n)
{
	struct text *t = ud;
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		if (!t->p)
			abort();
	}
	memcpy(t->p + t->n, p, n);
	t->n += n;
}

static int errors_of(const char *p, size_t n)
{
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, fuzz_sink, NULL);
	int errors = cxr_compile_string(h, "fuzz.cxr", p, n);
	cxr_free(h);
	return errors;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct text once = {0}, twice = {0};
	if (cxr_fmt("fuzz.cxr", (const char *)data, size, to_text, &once, fuzz_sink, NULL) == 0) {
		FUZZ_ASSERT(errors_of((const char *)data, size) == errors_of(once.p ? once.p : "", once.n),
			    "formatting changed the number of compile errors");
		FUZZ_ASSERT(cxr_fmt("fuzz.cxr", once.p ? once.p : "", once.n, to_text, &twice, fuzz_sink, NULL) == 0 &&
				    twice.n == once.n && (once.n == 0 || memcmp(once.p, twice.p, once.n) == 0),
			    "fmt is not idempotent");
	}
	free(once.p);
	free(twice.p);
	return 0;
}
