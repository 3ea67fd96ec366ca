/* test_source.c: the block reader, line splitter and CSV parser.
 *
 * Most cases run each input several ways: from memory, and from a temp
 * file read in blocks of 1, 2, 3, 5, 16 bytes and the default size.  The
 * tiny blocks make lines and records straddle block ends at every
 * possible offset, which exercises compaction and growth of the buffer;
 * every way must give the same dump.
 */
#include "check.h"
#include "base/mem.h"
#include "base/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Scratch files live in one temp directory made by main. */
struct fixture {
	char dir[64]; /* mkdtemp template, then the directory */
	int nfiles;   /* files written so far, to name the next one */
};

/* Write n bytes to a new file in the fixture directory; the path goes to
 * *path (caller frees with buf_free). */
static void write_file(struct fixture *fx, const char *p, size_t n, struct buf *path)
{
	buf_clear(path);
	buf_printf(path, "%s/f%d", fx->dir, fx->nfiles++);
	int fd = open(path->p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path->p);
		exit(2);
	}
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			perror("write");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

/* Printable form of bytes: what is not plain ASCII, quotes, and the characters
 * the dumps use as separators, become \xHH. */
static void dump_bytes(struct buf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"' || c == '|' || c == '\'' || c == '[' || c == ']')
			buf_printf(out, "\\x%02x", c);
		else
			buf_addc(out, (char)c);
	}
}

/* Lines as "LINENO:bytes\n"; a read error as "ERROR:text\n". */
static void dump_lines(struct source *s, struct buf *out)
{
	const char *line;
	size_t len;
	uint64_t no;
	int r;
	while ((r = src_line(s, &line, &len, &no)) == 1) {
		buf_printf(out, "%llu:", (unsigned long long)no);
		dump_bytes(out, line, len);
		buf_addc(out, '\n');
	}
	if (r < 0)
		buf_printf(out, "ERROR:%s\n", src_error(s));
}

/* Records as "LINE:cell|cell\n" with quoted cells in '...'; a malformed
 * record as "LINE!error@col[raw]\n", "LINE-LAST!..." when it spans lines. */
static void dump_csv(struct source *s, struct buf *out)
{
	struct csv_record rec;
	int r;
	while ((r = src_csv(s, &rec)) == 1) {
		if (rec.error) {
			buf_printf(out, "%llu", (unsigned long long)rec.line);
			if (rec.last_line != rec.line)
				buf_printf(out, "-%llu", (unsigned long long)rec.last_line);
			buf_printf(out, "!%s@%zu[", rec.error, rec.error_col);
			dump_bytes(out, rec.raw, rec.rawlen);
			buf_adds(out, "]\n");
			continue;
		}
		buf_printf(out, "%llu:", (unsigned long long)rec.line);
		for (size_t i = 0; i < rec.ncells; i++) {
			if (i)
				buf_addc(out, '|');
			if (rec.cells[i].quoted)
				buf_addc(out, '\'');
			dump_bytes(out, rec.cells[i].p, rec.cells[i].len);
			if (rec.cells[i].quoted)
				buf_addc(out, '\'');
		}
		buf_addc(out, '\n');
	}
	if (r < 0)
		buf_printf(out, "ERROR:%s\n", src_error(s));
}

static const size_t blocks[] = {1, 2, 3, 5, 16, 0}; /* 0: the default */

/* Dump the input from memory and from a file with each block size and
 * compare every dump with want. */
static void check_ways(struct fixture *fx, const char *name, const char *in, size_t n, char delim,
		       int csv, const char *want)
{
	struct buf got = {0}, path = {0};
	struct source *s = src_open_mem(in, n);
	src_csv_delim(s, delim);
	buf_clear(&got);
	(csv ? dump_csv : dump_lines)(s, &got);
	src_close(s);
	CHECK(strcmp(got.p ? got.p : "", want) == 0, "%s (memory):\ngot:\n%swant:\n%s", name,
	      got.p ? got.p : "", want);

	write_file(fx, in, n, &path);
	for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
		char err[128];
		s = src_open(path.p, err, sizeof err);
		CHECK(s != NULL, "%s: open: %s", name, err);
		if (!s)
			continue;
		if (blocks[b])
			src_set_block(s, blocks[b]);
		src_csv_delim(s, delim);
		buf_clear(&got);
		(csv ? dump_csv : dump_lines)(s, &got);
		src_close(s);
		CHECK(strcmp(got.p ? got.p : "", want) == 0, "%s (file, block %zu):\ngot:\n%swant:\n%s", name,
		      blocks[b], got.p ? got.p : "", want);
	}
	buf_free(&got);
	buf_free(&path);
}

#define LINES(fx, name, in, want) check_ways(fx, name, in, sizeof in - 1, ',', 0, want)
#define CSV(fx, name, in, want) check_ways(fx, name, in, sizeof in - 1, ',', 1, want)
#define CSV_DELIM(fx, name, delim, in, want) check_ways(fx, name, in, sizeof in - 1, delim, 1, want)

static void test_lines(struct fixture *fx)
{
	LINES(fx, "lf", "a\nbb\nccc\n", "1:a\n2:bb\n3:ccc\n");
	LINES(fx, "crlf", "a\r\nbb\r\n", "1:a\n2:bb\n");
	LINES(fx, "mixed endings", "a\r\nb\nc\r\n", "1:a\n2:b\n3:c\n");
	LINES(fx, "no final newline", "a\nlast", "1:a\n2:last\n");
	LINES(fx, "empty input", "", "");
	LINES(fx, "one newline", "\n", "1:\n");
	LINES(fx, "empty lines are lines", "\n\na\n\r\n", "1:\n2:\n3:a\n4:\n");
	LINES(fx, "lone cr is data", "a\rb\nc\r", "1:a\\x0db\n2:c\\x0d\n");
	/* No LF in the first 64 KB, but a CR: the lines end in CR alone. */
	LINES(fx, "cr-only line ends", "a\rb\rc", "1:a\n2:b\n3:c\n");
	LINES(fx, "cr-only, a final cr", "a\rb\r", "1:a\n2:b\n");
	LINES(fx, "nul bytes", "a\0b\n\0\n", "1:a\\x00b\n2:\\x00\n");
	LINES(fx, "binary junk", "\xff\xfe\x01\n\x80", "1:\\xff\\xfe\\x01\n2:\\x80\n");
	LINES(fx, "bom kept by src_line", "\xEF\xBB\xBFx\n", "1:\\xef\\xbb\\xbfx\n");
}

static void test_csv_basic(struct fixture *fx)
{
	CSV(fx, "simple", "a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
	CSV(fx, "crlf", "a,b\r\n1,2\r\n", "1:a|b\n2:1|2\n");
	CSV(fx, "no final newline", "a,b\n1,2", "1:a|b\n2:1|2\n");
	CSV(fx, "empty input", "", "");
	CSV(fx, "only newlines", "\n\r\n\n", "");
	CSV(fx, "empty lines skipped, numbers kept", "\na\n\r\n\nb\n\n", "2:a\n5:b\n");
	CSV(fx, "blank line is a record", " \n", "1: \n");
	CSV(fx, "whitespace kept", " a , b ,\tc\t\n", "1: a | b |\\x09c\\x09\n");
	CSV(fx, "empty cells", ",,\na,\n,a\n", "1:||\n2:a|\n3:|a\n");
	CSV(fx, "quoted empty vs empty", ",\"\",\n\"\"\n", "1:|''|\n2:''\n");
	CSV(fx, "quoted cells", "\"a\",b,\"c\"\n", "1:'a'|b|'c'\n");
	CSV(fx, "quoted delimiter", "\"a,b\",c\n", "1:'a,b'|c\n");
	CSV(fx, "escaped quotes", "\"a\"\"b\",\"\"\"\",\"x\"\"\"\"\"\n",
	    "1:'a\\x22b'|'\\x22'|'x\\x22\\x22'\n");
	CSV(fx, "escape at cell edges", "\"\"\"B\"\"\",C\n", "1:'\\x22B\\x22'|C\n");
	CSV(fx, "quoted cell last, no newline", "a,\"b\"", "1:a|'b'\n");
	CSV(fx, "quoted empty at end", "a,\"\"", "1:a|''\n");
	CSV(fx, "quoted crlf after", "\"a\"\r\n\"b\",\"c\"\r\nd\r\n", "1:'a'\n2:'b'|'c'\n3:d\n");
	CSV(fx, "lone cr is data", "a\rb,c\n\"x\ry\"\n", "1:a\\x0db|c\n2:'x\\x0dy'\n");
	CSV(fx, "cr at end of input, no lf: a line end", "a,b\r", "1:a|b\n");
	CSV(fx, "cr-only records", "h,i\r1,\"x\ry\"\r2,z\r", "1:h|i\n2:1|'x\\x0ay'\n4:2|z\n");
	CSV(fx, "nul bytes", "a\0b,\"c\0\"\"d\"\n\0\n", "1:a\\x00b|'c\\x00\\x22d'\n2:\\x00\n");
	CSV(fx, "binary junk", "\xff,\"\x80\"\n", "1:\\xff|'\\x80'\n");
	CSV(fx, "utf-8", "\xca\xa4,\xc3\xa9\n", "1:\\xca\\xa4|\\xc3\\xa9\n");
}

static void test_csv_multiline(struct fixture *fx)
{
	CSV(fx, "newline in quotes", "a,\"x\ny\nz\",b\nc,d\n", "1:a|'x\\x0ay\\x0az'|b\n4:c|d\n");
	CSV(fx, "crlf in quotes", "\"a\r\nb\",c\r\nd\r\n", "1:'a\\x0d\\x0ab'|c\n3:d\n");
	CSV(fx, "two multiline cells", "\"B\nB\",\"C\nC\nC\"\nx\n", "1:'B\\x0aB'|'C\\x0aC\\x0aC'\n5:x\n");
	CSV(fx, "empty line inside quotes", "\"a\n\nb\"\n\nc\n", "1:'a\\x0a\\x0ab'\n5:c\n");
	CSV(fx, "escapes across lines", "\"ha\n\"\"ha\"\"\nha\",x\n3,4\n",
	    "1:'ha\\x0a\\x22ha\\x22\\x0aha'|x\n4:3|4\n");
	CSV(fx, "multiline at end, no newline", "x\n\"a\nb\"", "1:x\n2:'a\\x0ab'\n");
}

static void test_csv_bom(struct fixture *fx)
{
	CSV(fx, "bom skipped", "\xEF\xBB\xBF" "a,b\n1,2\n", "1:a|b\n2:1|2\n");
	CSV(fx, "bom then quoted", "\xEF\xBB\xBF\"a\",b\n", "1:'a'|b\n");
	CSV(fx, "bom only", "\xEF\xBB\xBF", "");
	CSV(fx, "bom then empty line", "\xEF\xBB\xBF\r\na\n", "2:a\n");
	CSV(fx, "bom later is data", "a\n\xEF\xBB\xBF" "b\n", "1:a\n2:\\xef\\xbb\\xbfb\n");
	CSV(fx, "half a bom is data", "\xEF\xBB", "1:\\xef\\xbb\n");
}

/* src_csv_first_line_only after a record that spans lines, with reads
 * of every size: the buffer moves while the record is read. */
static void test_csv_first_line_only(struct fixture *fx)
{
	const char *in = "h1,h2\nx,\"a\nb\nc\",y\nnext,1\nlast,2\n";
	struct buf path = {0};
	write_file(fx, in, strlen(in), &path);
	for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
		char err[128];
		struct source *s = src_open(path.p, err, sizeof err);
		if (blocks[b])
			src_set_block(s, blocks[b]);
		struct csv_record rec;
		src_csv(s, &rec);
		int r = src_csv(s, &rec);
		CHECK(r == 1 && rec.line == 2 && rec.last_line == 4 && rec.ncells == 3, "first line only, block %zu: "
		      "the record of three cells over lines 2-4 (%d, %llu-%llu)", blocks[b], r,
		      (unsigned long long)rec.line, (unsigned long long)rec.last_line);
		src_csv_first_line_only(s, &rec);
		CHECK(rec.rawlen == 4 && memcmp(rec.raw, "x,\"a", 4) == 0 && rec.last_line == 2,
		      "first line only, block %zu: the reject is line 2 alone", blocks[b]);
		r = src_csv(s, &rec);
		CHECK(r == 1 && rec.line == 3 && rec.ncells == 1 && rec.cells[0].len == 1 && rec.cells[0].p[0] == 'b',
		      "first line only, block %zu: reading goes on at line 3 (%llu)", blocks[b],
		      (unsigned long long)rec.line);
		src_close(s);
	}
	buf_free(&path);
}

static void test_csv_errors(struct fixture *fx)
{
	CSV(fx, "quote in unquoted cell", "a\"b,c\nd,e\n",
	    "1!quote inside an unquoted field@2[a\\x22b,c]\n2:d|e\n");
	CSV(fx, "quote after blank", "A, \"B\" ,C\r\nx\r\n",
	    "1!quote inside an unquoted field@4[A, \\x22B\\x22 ,C]\n2:x\n");
	CSV(fx, "text after closing quote", "\"a\"b,c\nd\n",
	    "1!unexpected character after closing quote@4[\\x22a\\x22b,c]\n2:d\n");
	CSV(fx, "blank after closing quote", "x,\"a\" ,c\nd\n",
	    "1!unexpected character after closing quote@6[x,\\x22a\\x22 ,c]\n2:d\n");
	CSV(fx, "cr without lf after closing quote", "\"a\"\rb\nc\n",
	    "1!unexpected character after closing quote@4[\\x22a\\x22\\x0db]\n2:c\n");
	CSV(fx, "quote left open", "x\n\"abc\ndef",
	    "1:x\n2!quoted field opened at 2:1 is not closed before end of input@1[\\x22abc]\n3:def\n");
	CSV(fx, "quote left open, final newline", "a,\"b\r\nc\r\n",
	    "1!quoted field opened at 1:3 is not closed before end of input@3[a,\\x22b]\n2:c\n");
	CSV(fx, "lone quote", "\"", "1!quoted field not closed before end of input@1[\\x22]\n");
	/* Found on the second line of a record: column 0, resume after it. */
	CSV(fx, "error on a later line", "\"a\nb\"x,c\nd\n",
	    "1!unexpected character after the closing quote on line 2 of the field opened at 1:1@0[\\x22a]\n"
	    "2!quote inside an unquoted field@2[b\\x22x,c]\n3:d\n");
	CSV(fx, "stray quote after multiline cell", "\"a\nb\",c\"d\ne\n",
	    "1!quote inside an unquoted field on line 2, after a quoted field that spans lines@0[\\x22a]\n"
	    "2!quote inside an unquoted field@2[b\\x22,c\\x22d]\n3:e\n");
	CSV(fx, "open quote on a later line", "\"a\nb\",\"c\n",
	    "1!the record that begins here runs on over lines, and its quoted field opened at 2:4 is not closed before "
	    "end of input@0[\\x22a]\n"
	    "2!quote inside an unquoted field@2[b\\x22,\\x22c]\n");
	CSV(fx, "error on last line, no newline", "a,b\nc\"d", "1:a|b\n2!quote inside an unquoted field@2[c\\x22d]\n");
	CSV(fx, "errors in a row", "a\"\nb\"\n\"c\"d\ne\n",
	    "1!quote inside an unquoted field@2[a\\x22]\n2!quote inside an unquoted field@2[b\\x22]\n"
	    "3!unexpected character after closing quote@4[\\x22c\\x22d]\n4:e\n");
	/* The PapaParse cases where lenient parsers accept the input. */
	CSV(fx, "trailing quote malformed", "\"a,\"b,c\"\nd,e,f",
	    "1!unexpected character after closing quote@5[\\x22a,\\x22b,c\\x22]\n2:d|e|f\n");
	CSV(fx, "invalid quote after newline", "a,\"b,c\nd\"e,f,g",
	    "1!unexpected character after the closing quote on line 2 of the field opened at 1:3@0[a,\\x22b,c]\n"
	    "2!quote inside an unquoted field@2[d\\x22e,f,g]\n");
}

static void test_csv_delim(struct fixture *fx)
{
	CSV_DELIM(fx, "semicolon", ';', "a;\"b;c\";d,e\n;\n", "1:a|'b;c'|d,e\n2:|\n");
	CSV_DELIM(fx, "semicolon errors", ';', "a;b\"\nc\n", "1!quote inside an unquoted field@4[a;b\\x22]\n2:c\n");
	CSV_DELIM(fx, "tab", '\t', "a\tb c\t\"d\te\"\n", "1:a|b c|'d\\x09e'\n");
}

/* Lines and cells larger than the buffer, one of them of several MB. */
static void test_huge(struct fixture *fx)
{
	size_t big = 5u << 20;
	struct buf in = {0}, path = {0};
	char *mid = mem_alloc(big);
	for (size_t i = 0; i < big; i++)
		mid[i] = (char)("ab\0\r,x"[i % 6]); /* NUL, CR and delimiters, no LF or quote */
	buf_adds(&in, "head\n");
	buf_add(&in, mid, big);
	buf_adds(&in, "\ntail");
	write_file(fx, in.p, in.len, &path);

	size_t sizes[] = {0, 4096, 7};
	for (int way = 0; way < 4; way++) {
		struct source *s;
		if (way == 0) {
			s = src_open_mem(in.p, in.len);
		} else {
			char err[128];
			s = src_open(path.p, err, sizeof err);
			if (!s) {
				CHECK(0, "open %s: %s", path.p, err);
				continue;
			}
			if (sizes[way - 1])
				src_set_block(s, sizes[way - 1]);
		}
		const char *line;
		size_t len;
		uint64_t no;
		CHECK(src_line(s, &line, &len, &no) == 1 && len == 4 && no == 1, "huge way %d: head", way);
		int r = src_line(s, &line, &len, &no);
		CHECK(r == 1 && len == big && no == 2 && memcmp(line, mid, big) == 0,
		      "huge way %d: the big line (len %zu)", way, len);
		r = src_line(s, &line, &len, &no);
		CHECK(r == 1 && len == 4 && no == 3 && memcmp(line, "tail", 4) == 0, "huge way %d: tail", way);
		CHECK(src_line(s, &line, &len, &no) == 0, "huge way %d: end", way);
		src_close(s);
	}

	/* The same bytes as CSV: one record of many cells. */
	{
		char err[128];
		struct source *s = src_open(path.p, err, sizeof err);
		src_set_block(s, 4096);
		struct csv_record rec;
		CHECK(src_csv(s, &rec) == 1 && rec.ncells == 1 && rec.line == 1, "huge csv head");
		int r = src_csv(s, &rec);
		CHECK(r == 1 && !rec.error && rec.line == 2 && rec.ncells == big / 6 + 1 && rec.rawlen == big &&
			      memcmp(rec.raw, mid, big) == 0,
		      "huge csv record: %zu cells", rec.ncells);
		if (r == 1 && rec.ncells > 2)
			CHECK(rec.cells[1].len == 5 && memcmp(rec.cells[1].p, "x" "ab\0\r", 5) == 0,
			      "huge csv cell 1");
		CHECK(src_csv(s, &rec) == 1 && rec.line == 3 && rec.ncells == 1, "huge csv tail");
		CHECK(src_csv(s, &rec) == 0, "huge csv end");
		src_close(s);
	}

	/* A quoted cell of several MB holding LFs and "" escapes, first
	 * plain then decoded, read with a small block: every escape and
	 * every line end falls somewhere on a block boundary. */
	buf_clear(&in);
	buf_adds(&in, "k,\"");
	size_t nlf = 0, nq = 0;
	struct buf want = {0};
	for (size_t i = 0; want.len < big; i++) {
		const char *piece = i % 5 == 4 ? "\"\"" : i % 7 == 6 ? "\n" : "0123456789";
		buf_adds(&in, piece);
		if (piece[0] == '"') {
			buf_addc(&want, '"');
			nq++;
		} else {
			buf_adds(&want, piece);
			nlf += piece[0] == '\n';
		}
	}
	buf_adds(&in, "\",v\r\nnext,\"plain\nquoted\"\n");
	write_file(fx, in.p, in.len, &path);
	for (int way = 0; way < 3; way++) {
		struct source *s;
		if (way == 0) {
			s = src_open_mem(in.p, in.len);
		} else {
			char err[128];
			s = src_open(path.p, err, sizeof err);
			src_set_block(s, way == 1 ? 3 : 65536);
		}
		src_csv_max_lines(s, (uint32_t)nlf + 1); /* the cell may span all its lines */
		struct csv_record rec;
		int r = src_csv(s, &rec);
		CHECK(r == 1 && !rec.error && rec.line == 1 && rec.ncells == 3 && rec.cells[1].quoted &&
			      rec.cells[1].len == want.len && memcmp(rec.cells[1].p, want.p, want.len) == 0 &&
			      rec.cells[2].len == 1 && rec.rawlen == in.len - 2 - 20,
		      "huge quoted way %d (%zu LFs, %zu escapes): r %d, %zu cells", way, nlf, nq, r, rec.ncells);
		r = src_csv(s, &rec);
		CHECK(r == 1 && rec.line == 2 + nlf && rec.ncells == 2 && rec.cells[1].len == 12 &&
			      memcmp(rec.cells[1].p, "plain\nquoted", 12) == 0,
		      "huge quoted way %d: next record at line %llu", way, (unsigned long long)rec.line);
		CHECK(src_csv(s, &rec) == 0, "huge quoted way %d: end", way);
		src_close(s);
		/* One line fewer than the cell spans: its first line is rejected
		 * alone, and the next record starts on its second line. */
		s = src_open_mem(in.p, in.len);
		src_csv_max_lines(s, (uint32_t)nlf);
		r = src_csv(s, &rec);
		CHECK(r == 1 && rec.error && rec.line == 1 && rec.last_line == 1 && strstr(rec.error, "max_field_lines") &&
			      memchr(rec.raw, '\n', rec.rawlen) == NULL,
		      "huge quoted past the limit: %s", rec.error ? rec.error : "no error");
		r = src_csv(s, &rec);
		CHECK(r == 1 && rec.line == 2, "huge quoted past the limit: next at line %llu", (unsigned long long)rec.line);
		src_close(s);
	}
	buf_free(&want);
	buf_free(&in);
	buf_free(&path);
	mem_free(mid);
}

/* raw and the cells' storage of good records. */
static void test_raw(void)
{
	static const char in[] = "a,\"b\"\"c\",\"d\"\r\n\"x\ny\",z\n";
	struct source *s = src_open_mem(in, sizeof in - 1);
	struct csv_record rec;
	CHECK(src_csv(s, &rec) == 1 && rec.rawlen == 12 && memcmp(rec.raw, in, 12) == 0, "raw of a crlf record");
	/* A plain quoted cell points into the input, a decoded one does not. */
	CHECK(rec.cells[2].p == in + 10 && rec.cells[2].len == 1, "plain quoted cell is zero-copy");
	CHECK(rec.cells[0].p == in, "unquoted cell is zero-copy");
	CHECK(rec.cells[1].len == 3 && memcmp(rec.cells[1].p, "b\"c", 3) == 0, "decoded cell");
	CHECK(src_csv(s, &rec) == 1 && rec.rawlen == 7 && memcmp(rec.raw, "\"x\ny\",z", 7) == 0 && rec.line == 2,
	      "raw of a multiline record");
	CHECK(src_csv(s, &rec) == 0, "raw: end");
	CHECK(src_csv(s, &rec) == 0, "raw: end stays end");
	src_close(s);
}

/* The scratch buffer and cell array are reused: once warmed up, records
 * of the same shape land at the same addresses (no per-record malloc). */
static void test_reuse(void)
{
	static const char in[] = "\"a\"\"\",b,c\n\"d\"\"\",e,f\n\"g\"\"\",h,i\n";
	struct source *s = src_open_mem(in, sizeof in - 1);
	struct csv_record r1, r2;
	src_csv(s, &r1);
	const char *scratch = r1.cells[0].p;
	struct csv_cell *cells = r1.cells;
	src_csv(s, &r2);
	CHECK(r2.cells == cells && r2.cells[0].p == scratch, "scratch and cells reused");
	CHECK(r2.cells[0].len == 2 && memcmp(r2.cells[0].p, "d\"", 2) == 0, "reused scratch holds the new cell");
	src_close(s);
}

static void test_open_errors(struct fixture *fx)
{
	char err[128] = "";
	struct buf path = {0};
	buf_printf(&path, "%s/does-not-exist", fx->dir);
	CHECK(src_open(path.p, err, sizeof err) == NULL, "missing file opens");
	CHECK_STR(err, "No such file or directory");

	/* A tiny errbuf is cut, not overrun. */
	char small[4];
	CHECK(src_open(path.p, small, sizeof small) == NULL && strcmp(small, "No ") == 0, "errbuf cut: '%s'", small);

	/* A directory is refused when it is opened, by name. */
	struct source *s = src_open(fx->dir, err, sizeof err);
	CHECK(s == NULL && strcmp(err, "it is a folder, not a log") == 0, "a directory is refused: %s", err);
	src_close(s);
	s = src_open_mem("", 0);
	CHECK_STR(src_error(s), "no error");
	src_close(s);
	buf_free(&path);
}

/* "-" reads standard input and leaves it open. */
static void test_stdin(struct fixture *fx)
{
	struct buf path = {0};
	static const char in[] = "x,\"y\"\n";
	write_file(fx, in, sizeof in - 1, &path);
	int saved = dup(STDIN_FILENO);
	int fd = open(path.p, O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	char err[128];
	struct source *s = src_open("-", err, sizeof err);
	struct csv_record rec;
	CHECK(s && src_csv(s, &rec) == 1 && rec.ncells == 2 && rec.cells[1].quoted, "stdin record");
	CHECK(src_csv(s, &rec) == 0, "stdin end");
	src_close(s);
	CHECK(fcntl(STDIN_FILENO, F_GETFD) != -1, "stdin left open");
	dup2(saved, STDIN_FILENO);
	close(saved);
	buf_free(&path);
}

/* Remove the fixture's files and directory. */
static void fixture_clean(struct fixture *fx)
{
	struct buf path = {0};
	for (int i = 0; i < fx->nfiles; i++) {
		buf_clear(&path);
		buf_printf(&path, "%s/f%d", fx->dir, i);
		unlink(path.p);
	}
	rmdir(fx->dir);
	buf_free(&path);
}

int main(void)
{
	struct fixture fx = {.nfiles = 0};
	const char *tmp = getenv("TMPDIR");
	snprintf(fx.dir, sizeof fx.dir, "%s/test_source.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(fx.dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_lines(&fx);
	test_csv_basic(&fx);
	test_csv_multiline(&fx);
	test_csv_bom(&fx);
	test_csv_errors(&fx);
	test_csv_first_line_only(&fx);
	test_csv_delim(&fx);
	test_huge(&fx);
	test_raw();
	test_reuse();
	test_open_errors(&fx);
	test_stdin(&fx);
	fixture_clean(&fx);
	return check_summary("source");
}
