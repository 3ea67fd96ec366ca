/* fuzz_compile.c: any bytes as a script.  When it compiles: disassemble
 * it, run its test blocks, and feed it a few events. */
#include "fuzz.h"

static const char *const events[] = {
	"{\"customer\":\"c1\",\"ts\":\"2026-03-01T10:00:00Z\",\"type\":\"x\",\"n\":5,\"s\":\"a\"}",
	"{\"customer\":\"c1\",\"ts\":\"2026-03-01T10:05:00Z\",\"type\":\"y\",\"n\":\"7\",\"s\":\"b\"}",
	"{\"customer\":\"c2\",\"ts\":\"2026-03-01T10:06:00Z\",\"type\":\"x\",\"n\":null}",
	"{\"customer\":\"c1\",\"ts\":\"2026-03-02T10:06:00Z\",\"type\":\"z\",\"n\":[1,2]}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, fuzz_sink, NULL);
	cxr_on_output(h, fuzz_sink, NULL);
	if (cxr_compile_string(h, "fuzz.cxr", (const char *)data, size) == 0) {
		cxr_disasm(h, fuzz_sink, NULL);
		int passed = 0, failed = 0;
		cxr_run_tests(h, 1, fuzz_sink, NULL, &passed, &failed);
		for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
			cxr_feed_json(h, events[i], strlen(events[i]), "fuzz", i + 1);
		cxr_finish(h);
		cxr_summary(h, fuzz_sink, NULL);
		cxr_summary_json(h, fuzz_sink, NULL);
	}
	cxr_free(h);
	return 0;
}
