/* jsoncheck.c: a command-line driver for the JSON scanner, for the
 * conformance suite (tests/conformance/json_suite.sh) and by hand.
 *
 *   jsoncheck FILE...           one verdict per file, by json_validate:
 *                               "FILE accept" or "FILE reject COL: MSG"
 *   jsoncheck --lines FILE...   one verdict per line, by json_scan_event
 *                               with a few keys projected, as the event
 *                               reader uses it: "FILE:LINE accept|reject ..."
 *   jsoncheck --bench N FILE    scan FILE's lines N times with 3 projected
 *                               keys and print the throughput
 *
 * Verdicts go to stdout and the exit status is 0 whatever they are: a
 * non-zero status means the driver itself failed (or crashed), which is
 * what the suite checks for.  Exit 2: usage or I/O error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "base/mem.h"

/* Read all of path into b (which may then hold NUL bytes). */
static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	b->len = 0;
	for (;;) {
		buf_reserve(b, 65536);
		size_t got = fread(b->p + b->len, 1, b->cap - b->len - 1, f);
		b->len += got;
		if (got == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		perror(path);
		return -1;
	}
	b->p[b->len] = 0;
	return 0;
}

/* The projection of --lines and --bench: the keys of the event logs in
 * ../shared/data/logs, and one nested path so that descent is exercised. */
static struct json_proj *make_proj(int *nslots)
{
	static const char *const keys[] = {"customer_id", "event_type", "timestamp"};
	struct json_proj *p = json_proj_new();
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(keys[i]);
		json_proj_add(p, &keys[i], &len, 1, i);
	}
	const char *const nested[] = {"a", "b"};
	const size_t nested_lens[] = {1, 1};
	json_proj_add(p, nested, nested_lens, 2, 3);
	*nslots = 4;
	return p;
}

static void check_whole(const char *path, const struct buf *b)
{
	struct json_error err;
	if (json_validate(b->p, b->len, &err) == 0)
		printf("%s accept\n", path);
	else
		printf("%s reject %zu: %s\n", path, err.col, err.msg);
}

static void check_lines(const char *path, const struct buf *b, const struct json_proj *p, int nslots)
{
	struct arena a = {0};
	/* Mark after the first chunk exists: resetting to the mark of an
	 * empty arena frees every chunk, and each event would then malloc
	 * (and zero) a fresh one. */
	arena_alloc(&a, 1);
	struct arena_mark mk = arena_mark(&a);
	struct val slots[8];
	const char *s = b->p, *end = b->p + b->len;
	for (size_t line = 1; s < end; line++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		for (int i = 0; i < nslots; i++)
			slots[i] = val_null();
		struct json_error err;
		if (json_scan_event(p, s, (size_t)(e - s), slots, &a, &err) == 0)
			printf("%s:%zu accept\n", path, line);
		else
			printf("%s:%zu reject %zu: %s\n", path, line, err.col, err.msg);
		arena_reset(&a, mk);
		s = nl ? nl + 1 : end;
	}
	arena_free(&a);
}

static int bench(const char *path, const struct buf *b, const struct json_proj *p, int nslots, long reps)
{
	struct arena a = {0};
	/* Mark after the first chunk exists: resetting to the mark of an
	 * empty arena frees every chunk, and each event would then malloc
	 * (and zero) a fresh one. */
	arena_alloc(&a, 1);
	struct arena_mark mk = arena_mark(&a);
	struct val slots[8];
	size_t events = 0, rejects = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long r = 0; r < reps; r++) {
		const char *s = b->p, *end = b->p + b->len;
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			const char *e = nl ? nl : end;
			for (int i = 0; i < nslots; i++)
				slots[i] = val_null();
			struct json_error err;
			if (json_scan_event(p, s, (size_t)(e - s), slots, &a, &err) < 0)
				rejects++;
			events++;
			arena_reset(&a, mk);
			s = nl ? nl + 1 : end;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	arena_free(&a);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double mb = (double)b->len * (double)reps / 1e6;
	printf("%s: %zu events (%zu rejected), %.1f MB in %.3f s: %.0f MB/s, %.0f ns/event\n", path,
	       events, rejects, mb, secs, mb / secs, secs * 1e9 / (double)(events ? events : 1));
	return 0;
}

int main(int argc, char **argv)
{
	int lines = 0, first = 1;
	long reps = 0;
	if (argc > 1 && strcmp(argv[1], "--lines") == 0) {
		lines = 1;
		first = 2;
	} else if (argc > 2 && strcmp(argv[1], "--bench") == 0) {
		reps = strtol(argv[2], NULL, 10);
		first = 3;
	}
	if (first >= argc || (reps < 0) || (first == 3 && reps == 0)) {
		fprintf(stderr, "usage: jsoncheck [--lines | --bench N] FILE...\n");
		return 2;
	}
	int nslots;
	struct json_proj *p = make_proj(&nslots);
	struct buf b = {0};
	int status = 0;
	for (int i = first; i < argc; i++) {
		if (read_file(argv[i], &b) < 0) {
			status = 2;
			continue;
		}
		if (reps)
			bench(argv[i], &b, p, nslots, reps);
		else if (lines)
			check_lines(argv[i], &b, p, nslots);
		else
			check_whole(argv[i], &b);
	}
	buf_free(&b);
	json_proj_free(p);
	return status;
}
