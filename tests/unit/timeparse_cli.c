/* timeparse_cli.c: a driver that runs time_parse over lines of stdin, for
 * the RFC 3339 conformance script (tests/conformance/rfc3339.py) and for
 * trying timestamps by hand.
 *
 * usage: timeparse_cli [-s] [-x]
 *   -s  allow the short form without seconds (as script literals do)
 *   -x  each line is the timestamp's bytes in hex, so that vectors holding
 *       a newline, a NUL or any other byte pass through unchanged
 *
 * Prints one line per input line: "ok <RFC 3339 UTC>" or "error <why>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/timeutil.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex in place; returns the byte count, or -1 if it is not hex. */
static long unhex(char *s, size_t n)
{
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		s[i / 2] = (char)(hi * 16 + lo);
	}
	return (long)(n / 2);
}

int main(int argc, char **argv)
{
	int allow_short = 0, hex = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0) {
			allow_short = 1;
		} else if (strcmp(argv[i], "-x") == 0) {
			hex = 1;
		} else {
			fprintf(stderr, "usage: timeparse_cli [-s] [-x] < lines\n");
			return 2;
		}
	}

	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	struct buf out = { 0 };
	while ((got = getline(&line, &cap, stdin)) >= 0) {
		size_t n = (size_t)got;
		if (n && line[n - 1] == '\n')
			n--;
		if (hex) {
			long m = unhex(line, n);
			if (m < 0) {
				printf("error driver: line is not hex\n");
				continue;
			}
			n = (size_t)m;
		}
		int64_t ns;
		const char *why;
		buf_clear(&out);
		if (time_parse(line, n, allow_short, &ns, &why) == 0) {
			buf_adds(&out, "ok ");
			time_format(&out, ns);
		} else {
			buf_adds(&out, "error ");
			buf_adds(&out, why);
		}
		buf_addc(&out, '\n');
		fwrite(out.p, 1, out.len, stdout);
	}
	free(line);
	buf_free(&out);
	return ferror(stdout) ? 1 : 0;
}
