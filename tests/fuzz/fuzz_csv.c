/* fuzz_csv.c: any bytes as a CSV log file.  Property: every line of the
 * file is an event, a reject's line, a blank line or the header. */
#include "fuzz.h"

static const char script[] =
	"input { key = k  time = t  type = ty  max_field_lines = 5 }\n"
	"rule every\n"
	"  on any as e\n"
	"  emit seen { v: e.v, w: e.w }\n"
	"end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, ".csv");
	cxr *h = fuzz_handle(script, sizeof script - 1);
	cxr_set_threads(h, 1);
	const char *const paths[] = {path};
	cxr_run_files(h, paths, 1);
	cxr_summary_json(h, fuzz_sink, NULL);
	cxr_free(h);
	unlink(path);
	return 0;
}
