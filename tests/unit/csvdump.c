/* csvdump.c: print the CSV records of a file as a JSON array of arrays.
 *
 * A test driver for the CSV reader (tests/conformance/csv_suite.py): it
 * shows exactly what src_csv returned, nothing more.  Malformed records
 * are left out of the array and reported on stderr as "line N: error";
 * the exit status is then 1.  Usage: csvdump [--delim C] FILE ("-" is
 * stdin).  Exit 2 on a usage, open or read error.
 */
#include "base/mem.h"
#include "base/source.h"

#include <stdio.h>
#include <string.h>

/* A JSON string.  Bytes >= 0x80 are copied as they are: the suite reads
 * them as UTF-8 and compares, so invalid UTF-8 shows up as a mismatch. */
static void json_string(struct buf *out, const char *p, size_t n)
{
	buf_addc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		switch (c) {
		case '"': buf_adds(out, "\\\""); break;
		case '\\': buf_adds(out, "\\\\"); break;
		case '\n': buf_adds(out, "\\n"); break;
		case '\r': buf_adds(out, "\\r"); break;
		case '\t': buf_adds(out, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(out, "\\u%04x", c);
			else
				buf_addc(out, (char)c);
		}
	}
	buf_addc(out, '"');
}

static int usage(void)
{
	fputs("usage: csvdump [--delim C] FILE\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	char delim = ',';
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--delim") == 0 && i + 1 < argc) {
			const char *d = argv[++i];
			if (strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0)
				delim = '\t';
			else if (strlen(d) == 1)
				delim = d[0];
			else
				return usage();
		} else if (!path) {
			path = argv[i];
		} else {
			return usage();
		}
	}
	if (!path)
		return usage();

	char err[256];
	struct source *s = src_open(path, err, sizeof err);
	if (!s) {
		fprintf(stderr, "csvdump: %s: %s\n", path, err);
		return 2;
	}
	src_csv_delim(s, delim);

	struct buf out = {0};
	struct csv_record rec;
	int r, bad = 0, first = 1;
	buf_addc(&out, '[');
	while ((r = src_csv(s, &rec)) == 1) {
		if (rec.error) {
			fprintf(stderr, "line %llu: %s\n", (unsigned long long)rec.line, rec.error);
			bad = 1;
			continue;
		}
		buf_adds(&out, first ? "\n[" : ",\n[");
		first = 0;
		for (size_t i = 0; i < rec.ncells; i++) {
			if (i)
				buf_addc(&out, ',');
			json_string(&out, rec.cells[i].p, rec.cells[i].len);
		}
		buf_addc(&out, ']');
		/* Flush now and then so a big file needs no big buffer. */
		if (out.len > (1u << 16)) {
			fwrite(out.p, 1, out.len, stdout);
			buf_clear(&out);
		}
	}
	if (r < 0) {
		fprintf(stderr, "csvdump: %s: %s\n", path, src_error(s));
		src_close(s);
		buf_free(&out);
		return 2;
	}
	buf_adds(&out, "\n]\n");
	fwrite(out.p, 1, out.len, stdout);
	buf_free(&out);
	src_close(s);
	if (fflush(stdout) != 0)
		return 2;
	return bad;
}
