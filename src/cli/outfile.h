/* outfile.h: the command line's outputs (outfile.c): written beside their
 * name and renamed into place on success, every write checked. */
#ifndef CXR_OUTFILE_H
#define CXR_OUTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct outfile {
	const char *path; /* the final name; NULL: stdout */
	char *target;     /* the file the rename replaces (a symbolic link's target) */
	char *tmp;        /* the temporary file beside it */
	int direct;       /* not a regular file (a device, a FIFO): written in place */
	FILE *f;
	int err;          /* errno of the first failed write, or 0 */
	uint64_t length;  /* bytes in it: kept at the start (outfile_open_at), then written */
};

/* Open an output (NULL or "-": stdout).  -1 after a message. */
int outfile_open(struct outfile *o, const char *path);
/* A state run's output (cxr run --state): written in place, so that what
 * was written before a crash is there to be cut back to the last
 * checkpoint.  keep < 0: a new run, the file is emptied; else it is cut
 * to keep bytes (a resume), and must hold that many.  -1 after a message. */
int outfile_open_at(struct outfile *o, const char *path, int64_t keep);
/* keep: the file is left as it is (a run with nothing to do). */
#define OUTFILE_AS_IT_IS INT64_MAX
/* Flush it (a checkpoint): -1 after a message. */
int outfile_flush(struct outfile *o);
/* A cxr_write_fn writing to an outfile (ud). */
void outfile_write(void *ud, const char *p, size_t n);
/* Flush and close; with commit, sync and rename the file into place,
 * else remove it (the old file stays).  -1 after a message naming the
 * file and the reason. */
int outfile_close(struct outfile *o, int commit);

/* A path and what it is to the command ("output", "rejects file",
 * "log", "script"). */
struct named_path {
	const char *role;
	const char *path;
};

/* -1 after a message when an output is an input, or another output, or
 * standard output is a regular file that is an input. */
int outputs_check(const struct named_path *outs, int nouts, const struct named_path *ins, int nins);

/* 1 when the two paths name one file (by device and inode, or by the
 * path it would have when it does not exist yet). */
int same_file(const char *a, const char *b);

#endif
