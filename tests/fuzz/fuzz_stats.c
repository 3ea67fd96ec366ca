/* fuzz_stats.c: any bytes as a log for `cxr stats`, as JSON Lines and as CSV. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const suffixes[] = {".jsonl", ".csv"};
	for (int i = 0; i < 2; i++) {
		const char *path = fuzz_file(data, size, suffixes[i]);
		const char *const paths[] = {path};
		struct cxr_stats_options opt = {0};
		opt.as_json = i;
		cxr_stats(paths, 1, &opt, fuzz_sink, NULL, fuzz_sink, NULL);
		unlink(path);
	}
	return 0;
}
