/* source.c: block reader, line splitter and CSV record parser (see source.h).
 *
 * Design.  Input is read with read(2) into one buffer, a block at a time
 * (1 MiB by default).  Lines and records are handed out as pointers into
 * that buffer, so the run loop never allocates per line.  When a record
 * straddles the end of the buffer, the unfinished tail is moved to the
 * front (compaction) and the next block is read behind it; when a single
 * record is larger than the whole buffer, the buffer doubles.  Because the
 * buffer may move while a record is being parsed, the CSV parser keeps
 * offsets relative to the record start and turns them into pointers only
 * once the record is complete.
 *
 * CSV cells are zero-copy whenever possible: an unquoted cell, and a
 * quoted cell without "" escapes, point straight into the block buffer.
 * Only a quoted cell that contains "" is decoded, into a scratch buffer
 * owned by the source that is reused for every record.
 *
 * Decisions (RFC 4180 leaves these open or does not cover them):
 *  - lines end at LF or CRLF; a lone CR is data, also at end of input;
 *  - src_line returns the bytes as they are (a BOM included); src_csv
 *    skips a UTF-8 BOM at the start of input;
 *  - src_csv skips empty lines (no bytes before the LF/CRLF); a line of
 *    blanks is a record with one cell of blanks;
 *  - blanks around cells are kept; a quote must be the first byte of a
 *    cell to open a quoted cell;
 *  - after a malformed record, parsing resumes at the line after the one
 *    on which the error was found; a quote still open at end of input
 *    makes the rest of the input one malformed record;
 *  - cells are not NUL-terminated and may hold NUL bytes.
 */
#include "json.h"
#include "source.h"

#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SRC_BLOCK (1u << 17)

/* Where a cell's bytes are while its record is still being parsed. */
struct src_span {
	size_t off;     /* from the record start, or from the scratch start */
	size_t len;
	int in_scratch; /* decoded into s->scratch (the cell held "") */
	int quoted;
};

struct source {
	int fd;            /* -1 for a memory source */
	int owns_fd;       /* close fd in src_close (not for stdin) */
	const char *data;  /* the bytes: own, or the caller's memory */
	char *own;         /* block buffer of a file source */
	size_t cap;        /* bytes allocated in own */
	size_t start;      /* first byte not yet handed out */
	size_t end;        /* bytes of data that are valid */
	size_t block;      /* wanted size of one read */
	int eof;           /* read returned 0, or a memory source */
	uint64_t left;     /* bytes still to read of a range; UINT64_MAX: to the end */
	int failed;        /* a read error happened: every later call fails */
	int bom_done;      /* the BOM check of src_csv has run */
	uint64_t lineno;   /* lines consumed so far */
	char delim;        /* CSV delimiter */
	struct buf scratch;         /* decoded quoted cells of the current record */
	struct csv_cell *cells;     /* cells of the current record */
	struct src_span *spans;     /* the same cells as offsets, while parsing */
	size_t ncap;                /* entries allocated in cells and spans */
	struct buf err;             /* text of the last read error */
	char why[200];              /* a malformed record's reason, when it names a place */
	uint32_t max_lines;         /* lines a quoted cell may span (src_csv_max_lines) */
	int line_ends;              /* 0 not known yet; '\n': LF or CRLF; '\r': CR alone (old exports) */
	size_t sniffed;             /* bytes of the input looked at for its line ends */
	int cr_seen;                /* ... and a CR was among them */
	size_t rec_at;              /* where the record src_csv returned last starts, in data */
	uint64_t bytes_read;        /* by read(2) so far (a progress display tells it) */
	uint64_t at;                /* offset in the file of the next byte read(2) gives */
	/* Following (src_follow): at the end of input, wait and read on. */
	src_wait_fn wait;
	void *wait_ud;
	char *follow_path;          /* the path watched for a replacement (NULL: a stream) */
	int follow_regular;         /* the fd is a regular file (else poll(2) before reading) */
	int follow_ended;           /* wait said the input ends: the unfinished tail stays unread */
	int replace_pending;        /* the file was replaced: switch once its last line is out */
};

static const char src_err_quote_in_field[] = "quote inside an unquoted field";
static const char src_err_after_quote[] = "unexpected character after closing quote";
static const char src_err_open_quote[] = "quoted field not closed before end of input";

/* Line ends, decided once from the first SNIFF_BYTES of the input (the
 * same whatever the size of the reads): LF (and CRLF) when an LF is among
 * them, else CR alone when a CR is (old exports), whose every CR is then
 * read as an LF so that the file is not one line.  Until that is known
 * the input is read on; a CR that is the last byte seen may be half of a
 * CRLF and does not count. */
#define SNIFF_BYTES 65536

static void cr_to_lf(char *p, size_t n)
{
	for (char *cr = p; (cr = memchr(cr, '\r', (size_t)(p + n - cr))) != NULL; cr++)
		*cr = '\n';
}

static struct source *src_new(void)
{
	struct source *s = mem_alloc(sizeof *s);
	s->fd = -1;
	s->data = ""; /* never NULL: NULL + 0 is undefined behaviour */
	s->block = SRC_BLOCK;
	s->delim = ',';
	s->left = UINT64_MAX;
	s->max_lines = SRC_CSV_MAX_LINES;
	return s;
}

struct source *src_open(const char *path, char *errbuf, size_t errlen)
{
	int fd;
	int owns = 1;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
		owns = 0;
	} else {
		do
			fd = open(path, O_RDONLY | O_CLOEXEC);
		while (fd < 0 && errno == EINTR);
		if (fd < 0) {
			if (errbuf && errlen)
				snprintf(errbuf, errlen, "%s", strerror(errno));
			return NULL;
		}
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (errbuf && errlen)
				snprintf(errbuf, errlen, "it is a folder, not a log");
			close(fd);
			return NULL;
		}
		/* Only a hint: the kernel may read ahead more eagerly. */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	struct source *s = src_new();
	s->fd = fd;
	s->owns_fd = owns;
	return s;
}

struct source *src_open_range(const char *path, uint64_t from, uint64_t to, char *errbuf, size_t errlen)
{
	struct source *s = src_open(path, errbuf, errlen);
	if (s && lseek(s->fd, (off_t)from, SEEK_SET) < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", strerror(errno));
		src_close(s);
		return NULL;
	}
	if (s) {
		s->left = to - from;
		s->at = from;
	}
	return s;
}

int src_split_lines(const char *path, int n, uint64_t min_part, uint64_t *cuts, int *nparts)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (min_part && size / min_part < (uint64_t)n)
		n = (int)(size / min_part);
	if (n < 1)
		n = 1;
	char window[4096];
	int k = 0;
	cuts[k++] = 0;
	for (int i = 1; i < n; i++) {
		/* The part starts after the first newline at or past its share. */
		uint64_t at = size / (uint64_t)n * (uint64_t)i;
		if (at <= cuts[k - 1])
			continue;
		uint64_t cut = size;
		for (;;) {
			ssize_t got = pread(fd, window, sizeof window, (off_t)(at - 1));
			if (got <= 0)
				break;
			const char *lf = memchr(window, '\n', (size_t)got);
			if (lf) {
				cut = at + (uint64_t)(lf - window);
				break;
			}
			at += (uint64_t)got;
		}
		if (cut >= size)
			break;
		cuts[k++] = cut;
	}
	cuts[k] = size;
	*nparts = k;
	close(fd);
	return 0;
}

struct source *src_open_mem(const char *p, size_t n)
{
	struct source *s = src_new();
	if (p)
		s->data = p;
	s->end = p ? n : 0;
	s->eof = 1;
	/* The same line ends as a file of these bytes: CR alone means a copy
	 * whose CRs are LFs (the caller's memory is not ours to change). */
	size_t look = n < SNIFF_BYTES ? n : SNIFF_BYTES;
	if (p && !memchr(p, '\n', look) && memchr(p, '\r', look)) {
		s->own = mem_alloc(n + 1);
		memcpy(s->own, p, n);
		cr_to_lf(s->own, n);
		s->data = s->own;
		s->cap = n + 1;
	}
	s->line_ends = '\n';
	return s;
}

void src_close(struct source *s)
{
	if (!s)
		return;
	if (s->owns_fd && s->fd >= 0)
		close(s->fd);
	mem_free(s->follow_path);
	mem_free(s->own);
	mem_free(s->cells);
	mem_free(s->spans);
	buf_free(&s->scratch);
	buf_free(&s->err);
	mem_free(s);
}

void src_csv_delim(struct source *s, char delim) { s->delim = delim; }
void src_csv_max_lines(struct source *s, uint32_t lines) { s->max_lines = lines ? lines : 1; }

void src_set_block(struct source *s, size_t n) { s->block = n ? n : 1; }

const char *src_error(const struct source *s)
{
	return s->err.p ? s->err.p : "no error";
}

static void decide_line_ends(struct source *s)
{
	s->line_ends = s->cr_seen ? '\r' : '\n';
	if (s->cr_seen)
		cr_to_lf(s->own + s->start, s->end - s->start); /* nothing is consumed yet: no LF came */
}

static void sniff_line_ends(struct source *s, const char *got, size_t n)
{
	size_t look = s->sniffed + n > SNIFF_BYTES ? SNIFF_BYTES - s->sniffed : n;
	if (memchr(got, '\n', look)) {
		s->line_ends = '\n';
		return;
	}
	s->cr_seen |= memchr(got, '\r', look) != NULL;
	s->sniffed += look;
	if (s->sniffed >= SNIFF_BYTES)
		decide_line_ends(s);
}

/* Read more bytes behind s->end: 1 if some came, 0 at end of input, -1 on
 * a read error.  Moves the unconsumed bytes to the front first, so the
 * offsets of anything not yet consumed, taken from s->start, stay valid. */
static int src_fill_once(struct source *s);

/* src_fill_once, read on until the input's line ends are known: no byte
 * goes out before they are, since CR alone changes every one of them. */
static int src_fill(struct source *s)
{
	int r, came = 0;
	while ((r = src_fill_once(s)) == 1) {
		came = 1;
		if (s->line_ends)
			break;
	}
	return r < 0 ? -1 : came; /* at the end of input, what came before it */
}

/* Following: how long an idle input waits before looking again. */
#define FOLLOW_POLL_MS 100

/* Open the file now at the watched path in place of the one read so far. */
static int follow_switch(struct source *s)
{
	int fd = open(s->follow_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (s->owns_fd)
		close(s->fd);
	s->fd = fd;
	s->owns_fd = 1;
	s->at = 0;
	s->lineno = 0;
	s->replace_pending = 0;
	return 0;
}

/* read(2) for a followed input: at its end, wait for more the way
 * `tail -F` does.  A regular file is looked at again every
 * FOLLOW_POLL_MS: when another file has taken its path (rotation by
 * rename) the new one is read from its start, once the old one's last
 * line is out; when it is shorter than what was read (truncated) it is
 * read again from its start.  A pipe or a terminal is polled, and ends
 * when its writer closes it.  Between looks, wait() runs (the caller's
 * idle work); when it returns nonzero the input ends here.  Returns
 * the bytes read, 0 at the end, -1 on an error, -2 when the last line
 * of a replaced file was ended with a newline instead. */
static ssize_t follow_read(struct source *s, size_t room)
{
	for (;;) {
		if (s->replace_pending && follow_switch(s) == 0)
			s->wait(s->wait_ud, SRC_REPLACED);
		if (!s->follow_regular) {
			struct pollfd p = {s->fd, POLLIN, 0};
			int k = poll(&p, 1, FOLLOW_POLL_MS);
			if (k < 0 && errno != EINTR)
				return -1;
			if (k <= 0) {
				if (s->wait(s->wait_ud, SRC_IDLE))
					break;
				continue;
			}
		}
		ssize_t n;
		do
			n = room ? read(s->fd, s->own + s->end, room) : 0;
		while (n < 0 && errno == EINTR);
		if (n != 0 || !room)
			return n;
		if (!s->follow_regular)
			return 0; /* the writer closed the pipe: nothing more can come */
		struct stat now, path;
		if (s->follow_path && stat(s->follow_path, &path) == 0 && fstat(s->fd, &now) == 0 &&
		    (path.st_ino != now.st_ino || path.st_dev != now.st_dev)) {
			if (s->end > s->start) { /* the old file's last line had no newline */
				s->own[s->end++] = '\n';
				s->replace_pending = 1;
				return -2;
			}
			if (follow_switch(s) == 0)
				s->wait(s->wait_ud, SRC_REPLACED);
			continue;
		}
		if (fstat(s->fd, &now) == 0 && (uint64_t)now.st_size < s->at) {
			if (lseek(s->fd, 0, SEEK_SET) < 0)
				return -1;
			s->at = 0;
			s->lineno = 0;
			s->end = s->start; /* an unfinished line of what was cut away */
			s->wait(s->wait_ud, SRC_TRUNCATED);
			continue;
		}
		(void)poll(NULL, 0, FOLLOW_POLL_MS);
		if (s->wait(s->wait_ud, SRC_IDLE))
			break;
	}
	s->follow_ended = 1;
	return 0;
}

int src_follow(struct source *s, const char *path, src_wait_fn wait, void *ud)
{
	struct stat st;
	if (s->fd < 0 || fstat(s->fd, &st) != 0)
		return -1;
	s->wait = wait;
	s->wait_ud = ud;
	s->follow_regular = S_ISREG(st.st_mode);
	mem_free(s->follow_path);
	s->follow_path = s->follow_regular && path ? mem_strndup(path, strlen(path)) : NULL;
	return 0;
}

void src_follow_again(struct source *s)
{
	s->eof = 0;
	s->follow_ended = 0;
}

uint64_t src_offset(const struct source *s) { return s->at - (s->end - s->start); }
uint64_t src_lines(const struct source *s) { return s->lineno; }
void src_set_lines(struct source *s, uint64_t lines) { s->lineno = lines; }

int src_identity(const struct source *s, uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	if (s->fd < 0 || fstat(s->fd, &st) != 0)
		return -1;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

static int src_fill_once(struct source *s)
{
	if (s->failed)
		return -1;
	if (s->eof)
		return 0;
	if (s->start > 0) {
		size_t keep = s->end - s->start;
		if (keep)
			memmove(s->own, s->own + s->start, keep);
		s->start = 0;
		s->end = keep;
	}
	size_t room = s->cap - s->end;
	if (room == 0 || room < s->block / 2) {
		/* The unfinished record fills the buffer: grow it, doubling so
		 * that a record of n bytes costs O(n) copying in all. */
		size_t cap = s->cap * 2;
		if (cap < s->end + s->block)
			cap = s->end + s->block;
		s->own = mem_realloc(s->own, cap);
		s->cap = cap;
		s->data = s->own;
		room = cap - s->end;
	}
	if (room > s->left)
		room = (size_t)s->left;
	ssize_t n = 0;
	if (s->wait) {
		n = follow_read(s, room);
		if (n == -2)
			return 1; /* the replaced file's unfinished last line was ended */
	} else {
		do
			n = room ? read(s->fd, s->own + s->end, room) : 0;
		while (n < 0 && errno == EINTR);
	}
	if (n < 0) {
		buf_clear(&s->err);
		buf_adds(&s->err, strerror(errno));
		s->failed = 1;
		return -1;
	}
	if (n == 0) {
		s->eof = 1;
		if (!s->line_ends)
			decide_line_ends(s);
		return 0;
	}
	char *got = s->own + s->end;
	s->end += (size_t)n;
	s->bytes_read += (uint64_t)n;
	s->at += (uint64_t)n;
	if (s->line_ends == '\r')
		cr_to_lf(got, (size_t)n);
	else if (!s->line_ends)
		sniff_line_ends(s, got, (size_t)n);
	if (s->left != UINT64_MAX)
		s->left -= (uint64_t)n;
	return 1;
}

/* Make the byte at offset i from s->start available: 1 if it is, 0 if the
 * input ends before it, -1 on a read error. */
static int src_need(struct source *s, size_t i)
{
	while (s->end - s->start <= i) {
		int r = src_fill(s);
		if (r <= 0)
			return r;
	}
	return 1;
}

/* Find the next LF at or after offset from (from s->start).  Returns 1
 * with its offset in *at, 0 at end of input with *at the number of bytes
 * left, -1 on a read error.  Bytes already searched are not searched
 * again after a read, so a huge line costs one pass. */
static int src_find_lf(struct source *s, size_t from, size_t *at)
{
	for (;;) {
		const char *p = s->data + s->start;
		size_t avail = s->end - s->start;
		if (from < avail) {
			const char *lf = memchr(p + from, '\n', avail - from);
			if (lf) {
				*at = (size_t)(lf - p);
				return 1;
			}
			from = avail;
		}
		int r = src_fill(s);
		if (r < 0)
			return -1;
		if (r == 0) {
			*at = s->end - s->start;
			return 0;
		}
	}
}

int src_line(struct source *s, const char **line, size_t *len, uint64_t *lineno)
{
	size_t at;
	int r = src_find_lf(s, 0, &at);
	if (r < 0)
		return -1;
	if (r == 0 && (at == 0 || s->follow_ended))
		return 0; /* a followed input's unfinished line waits for its end */
	const char *p = s->data + s->start;
	size_t n = at;
	if (r == 1) {
		if (n > 0 && p[n - 1] == '\r')
			n--;
		s->start += at + 1;
	} else {
		s->start += at; /* the last line, without a newline */
	}
	*line = p;
	*len = n;
	*lineno = ++s->lineno;
	return 1;
}

/* Room for cell number i in cells and spans. */
static void src_cell_room(struct source *s, size_t i)
{
	if (i < s->ncap)
		return;
	size_t cap = s->ncap ? s->ncap * 2 : 32;
	s->cells = mem_realloc(s->cells, cap * sizeof *s->cells);
	s->spans = mem_realloc(s->spans, cap * sizeof *s->spans);
	s->ncap = cap;
}

/* The common record: one line without any quote.  Its cells point into
 * the buffer; the line is complete in the buffer, so nothing moves. */
static void src_csv_plain(struct source *s, const char *p, size_t n, struct csv_record *rec)
{
	const char *e = p + n;
	size_t nc = 0;
	for (;;) {
		const char *d = memchr(p, s->delim, (size_t)(e - p));
		src_cell_room(s, nc);
		struct csv_cell *c = &s->cells[nc++];
		c->p = p;
		c->len = (size_t)((d ? d : e) - p);
		c->quoted = 0;
		if (!d)
			break;
		p = d + 1;
	}
	rec->cells = s->cells;
	rec->ncells = nc;
}

/* Count the LFs in p[0..n). */
static uint64_t src_count_lf(const char *p, size_t n)
{
	uint64_t k = 0;
	const char *e = p + n;
	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

/* The general record: quoted cells, possibly spanning lines.  All
 * positions are offsets from s->start because src_need may move the
 * buffer.  Returns 1 (rec filled, error or not) or -1 on a read error. */
static int src_csv_quoted(struct source *s, struct csv_record *rec)
{
	const char delim = s->delim;
	size_t i = 0;        /* parse position */
	uint64_t lfs = 0;    /* LFs passed inside quoted cells */
	size_t nc = 0;
	size_t rawlen, used; /* bytes of the record without / with its terminator */
	const char *error = NULL;
	size_t error_at = 0;   /* offset of the error */
	uint64_t error_lf = 0; /* LFs before the error: 0 means the first line */
	int too_long = 0;      /* a quoted cell ran past max_lines */
	int r;

	buf_clear(&s->scratch);
	for (;;) {
		/* One cell per turn; i is at its first byte. */
		src_cell_room(s, nc);
		struct src_span *sp = &s->spans[nc];
		if ((r = src_need(s, i)) < 0)
			return -1;
		if (r == 1 && s->data[s->start + i] == '"') {
			size_t open = i++;
			uint64_t open_lf = lfs;
			size_t content = i;
			int copying = 0;
			sp->quoted = 1;
			sp->in_scratch = 0;
			for (;;) {
				if ((r = src_need(s, i)) < 0)
					return -1;
				if (r == 0) {
					error = src_err_open_quote;
					error_at = open;
					error_lf = open_lf;
					if (lfs > 0)
						goto first_line_only;
					goto open_at_end;
				}
				const char *p = s->data + s->start;
				size_t avail = s->end - s->start;
				const char *q = memchr(p + i, '"', avail - i);
				size_t stop = q ? (size_t)(q - p) : avail;
				lfs += src_count_lf(p + i, stop - i);
				if (copying)
					buf_add(&s->scratch, p + i, stop - i);
				i = stop;
				if (lfs - open_lf >= s->max_lines) {
					/* Longer than a cell may be: a stray quote, most
					 * likely.  The record's first line goes alone. */
					error = src_err_open_quote;
					error_at = open;
					error_lf = open_lf;
					too_long = 1;
					goto first_line_only;
				}
				if (!q)
					continue;
				if ((r = src_need(s, i + 1)) < 0)
					return -1;
				if (r == 1 && s->data[s->start + i + 1] == '"') {
					/* "" is one quote: from here on the cell
					 * is no longer a plain run of the input. */
					if (!copying) {
						copying = 1;
						sp->in_scratch = 1;
						sp->off = s->scratch.len;
						buf_add(&s->scratch, s->data + s->start + content, i - content);
					}
					buf_addc(&s->scratch, '"');
					i += 2;
					continue;
				}
				break; /* the closing quote */
			}
			if (copying) {
				sp->len = s->scratch.len - sp->off;
			} else {
				sp->off = content;
				sp->len = i - content;
			}
			i++;
			nc++;
			/* Only a delimiter or the end of the record may follow. */
			if ((r = src_need(s, i)) < 0)
				return -1;
			if (r == 0) {
				rawlen = used = i;
				break;
			}
			char c = s->data[s->start + i];
			if (c == delim) {
				i++;
				continue;
			}
			if (c == '\n') {
				rawlen = i;
				used = i + 1;
				break;
			}
			if (c == '\r') {
				if ((r = src_need(s, i + 1)) < 0)
					return -1;
				if (r == 1 && s->data[s->start + i + 1] == '\n') {
					rawlen = i;
					used = i + 2;
					break;
				}
			}
			error = src_err_after_quote;
			error_at = i;
			error_lf = lfs;
			if (lfs > 0) {
				/* Found lines after the record began: the quote that
				 * opened the span was most likely a stray one. */
				size_t bol = open;
				while (bol > 0 && s->data[s->start + bol - 1] != '\n')
					bol--;
				snprintf(s->why, sizeof s->why,
					 "unexpected character after the closing quote on line %llu of the field opened at "
					 "%llu:%zu",
					 (unsigned long long)(rec->line + lfs), (unsigned long long)(rec->line + open_lf),
					 open - bol + 1);
				error = s->why;
				goto first_line_only;
			}
			goto skip_line;
		}
		/* An unquoted cell runs to a delimiter, LF or end of input. */
		size_t begin = i;
		int stop = 0; /* what ended the cell: 0 end of input, else the byte */
		for (;;) {
			if ((r = src_need(s, i)) < 0)
				return -1;
			if (r == 0)
				break;
			const char *p = s->data + s->start;
			size_t avail = s->end - s->start;
			while (i < avail && p[i] != delim && p[i] != '\n' && p[i] != '"')
				i++;
			if (i < avail) {
				stop = (unsigned char)p[i];
				break;
			}
		}
		if (stop == '"') {
			error = src_err_quote_in_field;
			error_at = i;
			error_lf = lfs;
			if (lfs > 0) {
				snprintf(s->why, sizeof s->why, "quote inside an unquoted field on line %llu, after a quoted "
								"field that spans lines",
					 (unsigned long long)(rec->line + lfs));
				error = s->why;
				goto first_line_only;
			}
			goto skip_line;
		}
		sp->quoted = 0;
		sp->in_scratch = 0;
		sp->off = begin;
		sp->len = i - begin;
		nc++;
		if (stop == 0) {
			rawlen = used = i;
			break;
		}
		if (stop == '\n') {
			/* CRLF: the CR is the terminator's, not the cell's. */
			if (i > begin && s->data[s->start + i - 1] == '\r')
				sp->len--;
			rawlen = sp->off + sp->len;
			used = i + 1;
			break;
		}
		i++; /* the delimiter */
	}

	/* A complete record: offsets become pointers (nothing moves now). */
	for (size_t k = 0; k < nc; k++) {
		const struct src_span *sp = &s->spans[k];
		s->cells[k].p = (sp->in_scratch ? s->scratch.p : s->data + s->start) + sp->off;
		s->cells[k].len = sp->len;
		s->cells[k].quoted = sp->quoted;
	}
	rec->cells = s->cells;
	rec->ncells = nc;
	rec->raw = s->data + s->start;
	rec->rawlen = rawlen;
	s->rec_at = s->start; /* reading may have moved the record: where it is now */
	s->start += used;
	s->lineno += lfs + 1;
	rec->last_line = s->lineno;
	return 1;

skip_line:
	/* Resume at the line after the one where the error was found. */
	{
		size_t lf;
		if ((r = src_find_lf(s, error_at, &lf)) < 0)
			return -1;
		rawlen = lf;
		used = lf;
		if (r == 1) {
			used = lf + 1;
			if (lf > 0 && s->data[s->start + lf - 1] == '\r')
				rawlen--;
		}
		lfs += 1;
	}
	goto malformed;

first_line_only:
	/* A malformed record that spans lines is rejected as its first line
	 * alone, and reading goes on at its second: a stray quote costs one
	 * line, not every record behind it. */
	{
		size_t lf;
		if ((r = src_find_lf(s, 0, &lf)) < 0)
			return -1;
		if (error == src_err_open_quote) {
			size_t bol = error_at;
			while (bol > 0 && s->data[s->start + bol - 1] != '\n')
				bol--;
			if (too_long)
				snprintf(s->why, sizeof s->why,
					 "quoted field opened at %llu:%zu is not closed within %u lines (max_field_lines)",
					 (unsigned long long)(rec->line + error_lf), error_at - bol + 1, s->max_lines);
			else if (error_lf == 0)
				snprintf(s->why, sizeof s->why, "quoted field opened at %llu:%zu is not closed before end of input",
					 (unsigned long long)(rec->line + error_lf), error_at - bol + 1);
			else
				snprintf(s->why, sizeof s->why,
					 "the record that begins here runs on over lines, and its quoted field opened at "
					 "%llu:%zu is not closed before end of input",
					 (unsigned long long)(rec->line + error_lf), error_at - bol + 1);
			error = s->why;
		}
		rawlen = used = lf;
		if (r == 1) {
			used = lf + 1;
			if (lf > 0 && s->data[s->start + lf - 1] == '\r')
				rawlen--;
		}
		lfs = 1;
	}
	goto malformed;

open_at_end:
	/* Everything up to the end of input belongs to the open quote. */
	rawlen = used = s->end - s->start;
	if (rawlen > 0 && s->data[s->start + rawlen - 1] == '\n') {
		rawlen--;
		if (rawlen > 0 && s->data[s->start + rawlen - 1] == '\r')
			rawlen--;
	} else {
		lfs += 1; /* the last line had no LF of its own */
	}

malformed:
	rec->cells = s->cells;
	rec->ncells = 0;
	rec->raw = s->data + s->start;
	rec->rawlen = rawlen;
	rec->error = error;
	/* The column is on the record's first line; 0 when the error lies on
	 * a later line of a record that spans lines. */
	rec->error_col = error_lf == 0 ? utf8_chars(rec->raw, error_at) + 1 : 0; /* in characters */
	s->rec_at = s->start;
	s->start += used;
	s->lineno += lfs;
	rec->last_line = s->lineno;
	return 1;
}

int src_csv(struct source *s, struct csv_record *rec)
{
	int r;
	rec->error = NULL;
	rec->error_col = 0;
	if (!s->bom_done) {
		s->bom_done = 1;
		if (s->lineno == 0) {
			if ((r = src_need(s, 2)) < 0)
				return -1;
			if (r == 1 && memcmp(s->data + s->start, "\xEF\xBB\xBF", 3) == 0)
				s->start += 3;
		}
	}
	for (;;) {
		size_t lf;
		if ((r = src_find_lf(s, 0, &lf)) < 0)
			return -1;
		if (r == 0 && lf == 0)
			return 0;
		const char *p = s->data + s->start;
		size_t n = lf;
		if (r == 1 && n > 0 && p[n - 1] == '\r')
			n--;
		if (r == 1 && n == 0) {
			/* An empty line is no record (not one empty cell). */
			s->start += lf + 1;
			s->lineno++;
			continue;
		}
		rec->line = s->lineno + 1;
		s->rec_at = s->start;
		if (memchr(p, '"', n) != NULL)
			return src_csv_quoted(s, rec);
		src_csv_plain(s, p, n, rec);
		rec->raw = p;
		rec->rawlen = n;
		s->start += r == 1 ? lf + 1 : lf;
		s->lineno++;
		rec->last_line = rec->line;
		return 1;
	}
}

void src_csv_first_line_only(struct source *s, struct csv_record *rec)
{
	if (rec->last_line <= rec->line)
		return;
	/* The record's bytes are still in the buffer: nothing was read since. */
	const char *p = s->data + s->rec_at;
	const char *lf = memchr(p, '\n', s->start - s->rec_at);
	if (!lf)
		return;
	size_t n = (size_t)(lf - p);
	s->start = s->rec_at + n + 1;
	s->lineno = rec->line;
	rec->raw = p;
	rec->rawlen = n && p[n - 1] == '\r' ? n - 1 : n;
	rec->last_line = rec->line;
	rec->ncells = 0;
}

int src_peek(struct source *s, size_t want, const char **p, size_t *n)
{
	if (want && src_need(s, want - 1) < 0)
		return -1;
	*p = s->data + s->start;
	*n = s->end - s->start < want ? s->end - s->start : want;
	return 0;
}

/* The names each role is guessed from, in order of preference. */
const char *const src_field_names[3][8] = {
	{"customer", "customer_id", "case:concept:name", "user_id", "user", "client_id", "account_id", NULL},
	{"ts", "timestamp", "time", "time:timestamp", "event_time", "created_at", NULL},
	{"type", "event_type", "concept:name", "event", "activity", "action", NULL},
};

const char *src_csv_text_problem(const struct csv_record *rec, size_t *col)
{
	int nul = 0;
	size_t at = utf8_check(rec->raw, rec->rawlen, &nul);
	if (at == rec->rawlen)
		return NULL;
	const char *line_start = rec->raw + at;
	while (line_start > rec->raw && line_start[-1] != '\n')
		line_start--;
	*col = line_start == rec->raw ? utf8_chars(rec->raw, at) + 1 : 0;
	return nul ? "NUL byte in a field"
			   : "invalid UTF-8 in a field (is the file in another encoding? convert it: iconv -f latin1 -t utf-8)";
}

/* The delimiter a one-cell header seems to use instead of a comma. */
char src_csv_sniff_delim(const struct csv_record *rec)
{
	static const char cands[] = ";\t|";
	if (rec->ncells != 1)
		return 0;
	char best = 0;
	size_t most = 0;
	for (const char *c = cands; *c; c++) {
		size_t n = 0;
		for (size_t i = 0; i < rec->cells[0].len; i++)
			n += rec->cells[0].p[i] == *c;
		if (n > most) {
			most = n;
			best = *c;
		}
	}
	return best;
}

uint64_t src_bytes_read(const struct source *s) { return s->fd < 0 ? s->end : s->bytes_read; }
