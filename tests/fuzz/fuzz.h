/* fuzz.h: what the libFuzzer harnesses share.  They use include/cxr.h
 * alone, as any program that embeds cxr does. */
#ifndef CXR_FUZZ_H
#define CXR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxr.h"

/* Output nobody reads; its length is checked so nothing is optimised away. */
static size_t fuzz_sink_bytes;
static void fuzz_sink(void *ud, const char *p, size_t n)
{
	(void)ud;
	(void)p;
	fuzz_sink_bytes += n;
}

/* A handle whose output goes nowhere, with the harness's own script
 * compiled (it must compile: a failure is the harness's bug). */
static inline cxr *fuzz_handle(const char *script, size_t len)
{
	cxr *h = cxr_new();
	cxr_on_diagnostic(h, fuzz_sink, NULL);
	cxr_on_output(h, fuzz_sink, NULL);
	cxr_on_reject(h, fuzz_sink, NULL);
	if (cxr_compile_string(h, "fuzz.cxr", script, len) != 0)
		abort();
	return h;
}

/* A failed property is a crash libFuzzer keeps the input of. */
#define FUZZ_ASSERT(cond, ...)                                         \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "property failed: " __VA_ARGS__); \
			fputc('\n', stderr);                           \
			abort();                                       \
		}                                                      \
	} while (0)

/* The input as a file with this suffix (".csv", ".jsonl"), for the
 * entry points that read files: in /dev/shm when it is there. */
static const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
	static char path[256];
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(path, sizeof path, "%s/cxr-fuzz-%d%s", dir, (int)getpid(), suffix);
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	return path;
}

#endif
