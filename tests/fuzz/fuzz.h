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
