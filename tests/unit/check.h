/* check.h: the assertions of the unit tests.
 *
 * Each test program counts its checks and ends with the line
 * "NAME: N passed, N failed", which tests/run.sh adds up; it exits 1 when
 * any check failed.
 */
#ifndef CXR_CHECK_H
#define CXR_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (cond) {                                                     \
			check_passed++;                                         \
		} else {                                                        \
			check_failed++;                                         \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
		}                                                               \
	} while (0)

#define CHECK_STR(got, want)                                                    \
	CHECK(strcmp((got), (want)) == 0, "got '%s', want '%s'", (got), (want))

static inline int check_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
