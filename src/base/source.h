/* source.h: reading input files in large blocks, as lines or CSV records.
 *
 * A source wraps a file descriptor (a file or stdin) and hands out records
 * that stay valid until the next call.  Lines and records may be of any
 * size (the buffer grows) and may hold any bytes, NUL included.
 */
#ifndef CXR_SOURCE_H
#define CXR_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct source;

/* Open a file by path ("-" is stdin).  Returns NULL and fills errbuf
 * (strerror text) when it cannot be opened. */
struct source *src_open(const char *path, char *errbuf, size_t errlen);
/* Bytes [from, to) of a regular file, as if they were the whole file. */
struct source *src_open_range(const char *path, uint64_t from, uint64_t to, char *errbuf, size_t errlen);
/* Cut a regular file into at most n parts of at least min_part bytes,
 * each starting at a line: cuts[0..*nparts] are the offsets, cuts[0] = 0
 * and cuts[*nparts] = the size (cuts has room for n + 1).  -1 when path
 * is not a regular file. */
int src_split_lines(const char *path, int n, uint64_t min_part, uint64_t *cuts, int *nparts);
/* A source over bytes in memory (not copied; they must outlive it). */
struct source *src_open_mem(const char *p, size_t n);
void src_close(struct source *s);

/* Next line without its "\n" or "\r\n".  Returns 1 with *line, *len and
 * *lineno (1-based), or 0 at end of input, or -1 on a read error (errbuf).
 * A final line without a newline is returned as a line. */
int src_line(struct source *s, const char **line, size_t *len, uint64_t *lineno);

/* CSV (RFC 4180). */
struct csv_cell {
	const char *p; /* decoded bytes (quotes removed, "" turned into ") */
	size_t len;
	int quoted; /* the cell was written in quotes: "" is an empty string, not a missing value */
};

struct csv_record {
	struct csv_cell *cells;
	size_t ncells;
	uint64_t line;    /* line where the record starts (1-based) ... */
	uint64_t last_line; /* ... and where it ends (a quoted cell may hold newlines) */
	const char *raw;  /* the record's raw bytes, for reject records */
	size_t rawlen;
	const char *error; /* NULL, or why the record is malformed (static text) */
	size_t error_col;  /* 1-based column of the error on the record's first line */
};

/* Set the delimiter (default ','). */
void src_csv_delim(struct source *s, char delim);
/* The lines a quoted cell may span (default SRC_CSV_MAX_LINES): a quote
 * left open longer is a stray one, and its record's first line is
 * rejected alone. */
#define SRC_CSV_MAX_LINES 200
void src_csv_max_lines(struct source *s, uint32_t lines);
/* Right after src_csv returned rec, which spans lines: take back all but
 * its first line, which rec now is alone; the next record starts on its
 * second line.  For a record that proves malformed only once read (the
 * wrong number of cells), so that it costs one line, not the lines after. */
void src_csv_first_line_only(struct source *s, struct csv_record *rec);

/* Next CSV record.  A leading UTF-8 BOM is skipped; CRLF and LF both end
 * records; a quoted cell may hold delimiters, quotes ("") and newlines;
 * the last record needs no final newline; an empty line is skipped.  A
 * malformed record (a quote inside an unquoted cell, text after a closing
 * quote, a quote left open at end of input) is returned with rec->error
 * set and reading resumes at the next line.  Returns 1, 0 at end, -1 on a
 * read error. */
int src_csv(struct source *s, struct csv_record *rec);

/* Why the text of a well-formed record is refused, or NULL: a NUL byte
 * or invalid UTF-8, which the JSON Lines reader refuses too (one rule for
 * both readers); *col is its column on the record's first line (1-based,
 * in characters), or 0 when it is on a later line. */
const char *src_csv_text_problem(const struct csv_record *rec, size_t *col);

/* The delimiter a one-cell header seems to use instead of a comma
 * (';', tab or '|'), or 0. */
char src_csv_sniff_delim(const struct csv_record *rec);

/* What logs commonly call the customer key, the event time and the event
 * type, in order of preference (`cxr stats` guesses from them). */
extern const char *const src_field_names[3][8];

/* The first bytes not yet read, up to want of them (fewer at the end of
 * input): *p and *n.  -1 on a read error.  Nothing is consumed. */
int src_peek(struct source *s, size_t want, const char **p, size_t *n);

/* The bytes read from the file so far (of a memory source: all). */
uint64_t src_bytes_read(const struct source *s);

/* Following an input as it grows (`cxr run --follow`): at its end the
 * source waits and reads on, the way `tail -F` does (source.c,
 * follow_read: a file replaced at its path, by rotation, is read from
 * its start, and so is a file truncated; a pipe ends when its writer
 * closes it).  While it waits, wait(ud, news) is called every 100 ms
 * with SRC_IDLE, and once with the news of a replacement or a
 * truncation; a nonzero return ends the input there: an unfinished last
 * line (no newline yet) is not handed out, and src_offset stays before
 * it.  path: the file's path, watched for a replacement. */
enum src_news { SRC_IDLE, SRC_REPLACED, SRC_TRUNCATED };
typedef int (*src_wait_fn)(void *ud, enum src_news news);
int src_follow(struct source *s, const char *path, src_wait_fn wait, void *ud);
/* After wait ended the input: read on from where it stopped. */
void src_follow_again(struct source *s);
/* The offset in the file of the first byte not yet handed out, and the
 * lines handed out (a range source counts from its start: set them). */
uint64_t src_offset(const struct source *s);
uint64_t src_lines(const struct source *s);
void src_set_lines(struct source *s, uint64_t lines);
/* The device and inode of the file being read; -1 when there is none. */
int src_identity(const struct source *s, uint64_t *dev, uint64_t *ino);

/* The last read error as text. */
const char *src_error(const struct source *s);

/* For tests: the size of each read(2) (default 1 MiB).  A block of a few
 * bytes makes nearly every line and record straddle a block boundary, so
 * the buffer's compaction and growth run on small inputs. */
void src_set_block(struct source *s, size_t n);

#endif
