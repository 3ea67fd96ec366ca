/* fuzz_parts.c: any bytes as a JSON Lines file, read on one thread, on
 * two (in parts) and sorted in runs on disk (a tiny --memory).
 * Properties: the three agree on events, rejects, responses and
 * customers; events + rejects = the lines that are not blank. */
#include "fuzz.h"

static const char script[] =
	"rule every\n"
	"  on any as e\n"
	"  emit seen { v: e.v }\n"
	"end\n";

static void count_run(const char *path, int threads, size_t memory, struct cxr_counts *c)
{
	cxr *h = fuzz_handle(script, sizeof script - 1);
	cxr_set_threads(h, threads);
	if (memory)
		cxr_set_memory(h, memory);
	const char *const paths[] = {path};
	cxr_run_files(h, paths, 1);
	cxr_counts(h, c);
	cxr_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, ".jsonl");
	struct cxr_counts one, two, spilled;
	count_run(path, 1, 0, &one);
	count_run(path, 2, 0, &two);
	count_run(path, 1, 4096, &spilled);
	unlink(path);
	FUZZ_ASSERT(one.events == two.events && one.rejected == two.rejected && one.responses == two.responses &&
			    one.customers == two.customers,
		    "1 and 2 threads disagree");
	FUZZ_ASSERT(one.events == spilled.events && one.rejected == spilled.rejected &&
			    one.responses == spilled.responses,
		    "sorting in runs disagrees");
	/* Every line with something in it is an event or a reject.  With no
	 * LF in its first 64 KB (all of it here) and a CR, an input's line
	 * ends are CR alone. */
	int eol = !memchr(data, '\n', size) && memchr(data, '\r', size) ? '\r' : '\n';
	uint64_t lines = 0;
	const uint8_t *p = data, *end = data + size;
	while (p < end) {
		const uint8_t *nl = memchr(p, eol, (size_t)(end - p));
		const uint8_t *stop = nl ? nl : end;
		int blank = 1;
		for (const uint8_t *q = p; q < stop && blank; q++)
			blank = *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n';
		lines += !blank;
		p = nl ? nl + 1 : end;
	}
	FUZZ_ASSERT(one.events + one.rejected == lines, "%llu events + %llu rejects for %llu lines",
		    (unsigned long long)one.events, (unsigned long long)one.rejected, (unsigned long long)lines);
	return 0;
}
