/* outfile.c: the command line's output files, written so that nothing is
 * lost or left half done.
 *
 * - An output is written to a temporary file beside its final name and
 *   renamed over it only when the command succeeded, so that an error, a
 *   full disk or Ctrl-C part way never leaves a file cut in the middle of
 *   a response, nor destroys the file that was there.
 * - Every write is checked, and the final flush, sync and close: the first
 *   failure is kept with its errno and reported by outfile_close.
 * - Before anything is opened, outputs_check refuses an output that is
 *   the same file as an input, the script or another output (by device
 *   and inode, or by path when it does not exist yet), which would
 *   truncate the log before it is read.
 * A signal that ends the process removes the temporary files first, and
 * so does an exit before they are renamed (out of memory).
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary files a signal must remove: the command line owns them,
 * and a handler can reach nothing else. */
#define MAX_TEMPS 16
static char *volatile temps[MAX_TEMPS];

static void on_signal(int sig)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (temps[i])
			unlink(temps[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The library exits when memory runs out (mem.c): the files go too. */
static void at_exit(void)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (temps[i])
			unlink(temps[i]);
}

static void watch_temp(char *path)
{
	static int installed;
	if (!installed) {
		installed = 1;
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		atexit(at_exit);
	}
	for (int i = 0; i < MAX_TEMPS; i++)
		if (!temps[i]) {
			temps[i] = path;
			return;
		}
}

static void unwatch_temp(const char *path)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (temps[i] == path)
			temps[i] = NULL;
}

int outfile_open(struct outfile *o, const char *path)
{
	memset(o, 0, sizeof *o);
	o->path = path;
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		o->path = NULL;
		return 0;
	}
	/* A device, a pipe or a FIFO is written as it is: only a regular
	 * file can be replaced (renaming over /dev/null would replace it). */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (!(o->f = fopen(path, "w"))) {
			fprintf(stderr, "cxr: cannot write %s: %s\n", path, strerror(errno));
			return -1;
		}
		o->direct = 1;
		return 0;
	}
	/* A symbolic link stays one: its target is what is replaced (made,
	 * when the link dangles). */
	char *real = realpath(path, NULL);
	char link[PATH_MAX];
	ssize_t nlink;
	if (!real && (nlink = readlink(path, link, sizeof link - 1)) > 0) {
		link[nlink] = 0;
		const char *slash = strrchr(path, '/');
		size_t dir = link[0] == '/' || !slash ? 0 : (size_t)(slash - path + 1);
		if ((real = malloc(dir + (size_t)nlink + 1)) != NULL) {
			memcpy(real, path, dir);
			memcpy(real + dir, link, (size_t)nlink + 1);
		}
	}
	o->target = real ? real : strdup(path);
	size_t n = strlen(o->target) + sizeof ".cxr-XXXXXX";
	o->tmp = malloc(n);
	if (!o->tmp || !o->target) {
		fprintf(stderr, "cxr: cannot write %s: %s\n", path, strerror(ENOMEM));
		free(o->tmp);
		free(o->target);
		return -1;
	}
	/* Beside the final name, so that the rename stays on one file system. */
	snprintf(o->tmp, n, "%s.cxr-XXXXXX", o->target);
	int fd = mkstemp(o->tmp);
	if (fd < 0) {
		fprintf(stderr, "cxr: cannot write %s: %s\n", path, strerror(errno));
		free(o->tmp);
		free(o->target);
		o->tmp = o->target = NULL;
		return -1;
	}
	/* An existing file keeps its permissions; a new one gets the usual. */
	mode_t mode = 0666;
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	else {
		mode_t mask = umask(0);
		umask(mask);
		mode &= ~mask;
	}
	if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "cxr: cannot write %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return -1;
	}
	watch_temp(o->tmp);
	return 0;
}

int outfile_open_at(struct outfile *o, const char *path, int64_t keep)
{
	memset(o, 0, sizeof *o);
	o->path = path;
	o->direct = 1;
	if (!path || !strcmp(path, "-")) {
		o->f = stdout; /* a stream cannot be cut back: its consumer drops duplicates by id */
		o->path = NULL;
		o->direct = 0;
		o->length = keep > 0 ? (uint64_t)keep : 0;
		return 0;
	}
	struct stat st;
	int regular = stat(path, &st) != 0 || S_ISREG(st.st_mode);
	if (keep == OUTFILE_AS_IT_IS)
		keep = regular && stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
	if (keep >= 0 && regular && (stat(path, &st) != 0 || (uint64_t)st.st_size < (uint64_t)keep)) {
		fprintf(stderr,
			"cxr: cannot go on with %s: it held %lld bytes at the last checkpoint and has %s now; "
			"restore it, or start anew with another state file\n",
			path, (long long)keep, stat(path, &st) != 0 ? "gone" : "fewer");
		return -1;
	}
	o->f = fopen(path, keep >= 0 && regular ? "r+" : "w");
	if (!o->f || (keep >= 0 && regular && (ftruncate(fileno(o->f), (off_t)keep) != 0 || fseeko(o->f, 0, SEEK_END) != 0))) {
		fprintf(stderr, "cxr: cannot write %s: %s\n", path, strerror(errno));
		if (o->f)
			fclose(o->f);
		o->f = NULL;
		return -1;
	}
	o->length = keep > 0 && regular ? (uint64_t)keep : 0;
	return 0;
}

int outfile_flush(struct outfile *o)
{
	if (!o->f)
		return 0;
	if (!o->err && fflush(o->f) != 0)
		o->err = errno ? errno : EIO;
	if (o->err) {
		fprintf(stderr, "cxr: cannot write %s: %s\n", o->path ? o->path : "the output", strerror(o->err));
		return -1;
	}
	return 0;
}

void outfile_write(void *ud, const char *p, size_t n)
{
	struct outfile *o = ud;
	if (o->err)
		return; /* what follows a failed write is lost anyway: say it once */
	if (fwrite(p, 1, n, o->f) != n)
		o->err = errno ? errno : EIO;
	else
		o->length += n;
}

int outfile_close(struct outfile *o, int commit)
{
	if (!o->f)
		return 0;
	const char *name = o->path ? o->path : "the output";
	int err = o->err;
	if (!err && fflush(o->f) != 0)
		err = errno ? errno : EIO;
	if (!err && ferror(o->f))
		err = EIO;
	if (o->f == stdout || o->direct) {
		if (o->direct && fclose(o->f) != 0 && !err)
			err = errno ? errno : EIO;
		o->f = NULL;
		if (err) {
			fprintf(stderr, "cxr: cannot write %s: %s\n", name, strerror(err));
			return -1;
		}
		return 0;
	}
	if (!err && commit && fsync(fileno(o->f)) != 0 && errno != EINVAL)
		err = errno;
	if (fclose(o->f) != 0 && !err)
		err = errno ? errno : EIO;
	o->f = NULL;
	if (!err && commit && rename(o->tmp, o->target) != 0)
		err = errno;
	if (err || !commit)
		unlink(o->tmp);
	unwatch_temp(o->tmp);
	free(o->tmp);
	free(o->target);
	o->tmp = o->target = NULL;
	if (err) {
		fprintf(stderr, "cxr: cannot write %s: %s%s\n", name, strerror(err),
			commit ? "; it is left as it was" : "");
		return -1;
	}
	return 0;
}

/* The identity of a path: its device and inode when it exists, else the
 * absolute path it would have (its folder resolved), for comparison. */
struct ident {
	int exists;
	dev_t dev;
	ino_t ino;
	char *path; /* malloc'd, when it does not exist: ten thousand inputs are
		       not ten thousand buffers of PATH_MAX */
};

static void identify(const char *path, struct ident *id)
{
	struct stat st;
	memset(id, 0, sizeof *id);
	if (!strcmp(path, "-") ? fstat(0, &st) == 0 : stat(path, &st) == 0) {
		id->exists = 1;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		return;
	}
	/* Not there yet: the resolved folder and the name. */
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash) {
		size_t n = (size_t)(slash - path);
		if (n >= sizeof dir)
			n = sizeof dir - 1;
		memcpy(dir, path, n ? n : 1);
		dir[n ? n : 1] = 0;
	} else {
		strcpy(dir, ".");
	}
	char real[PATH_MAX];
	if (!realpath(dir, real))
		snprintf(real, sizeof real, "%s", dir);
	size_t n = strlen(real) + strlen(base) + 2;
	id->path = malloc(n);
	if (id->path)
		snprintf(id->path, n, "%s/%s", real, base);
}

static int same(const struct ident *a, const struct ident *b)
{
	if (a->exists && b->exists)
		return a->dev == b->dev && a->ino == b->ino;
	return !a->exists && !b->exists && a->path && b->path && !strcmp(a->path, b->path);
}

int same_file(const char *a, const char *b)
{
	struct ident ia, ib;
	identify(a, &ia);
	identify(b, &ib);
	int r = same(&ia, &ib);
	free(ia.path);
	free(ib.path);
	return r;
}

int outputs_check(const struct named_path *outs, int nouts, const struct named_path *ins, int nins)
{
	struct ident *o = calloc((size_t)nouts + 1, sizeof *o);
	struct ident *in = calloc((size_t)nins + 1, sizeof *in);
	int bad = !o || !in;
	for (int i = 0; i < nouts && !bad; i++)
		identify(outs[i].path, &o[i]);
	for (int i = 0; i < nins && !bad; i++)
		identify(ins[i].path, &in[i]);
	/* stdout redirected into an input grows the log while it is read. */
	struct stat st;
	struct ident out1 = {0};
	if (fstat(1, &st) == 0 && S_ISREG(st.st_mode)) {
		out1.exists = 1;
		out1.dev = st.st_dev;
		out1.ino = st.st_ino;
	}
	for (int i = 0; i < nouts && !bad; i++) {
		for (int k = 0; k < nins && !bad; k++)
			if (same(&o[i], &in[k])) {
				fprintf(stderr, "cxr: %s %s is also the %s %s: writing it would destroy it before it is "
						"read; choose another file\n",
					outs[i].role, outs[i].path, ins[k].role, ins[k].path);
				bad = 1;
			}
		for (int k = 0; k < i && !bad; k++)
			if (same(&o[i], &o[k])) {
				fprintf(stderr, "cxr: %s %s is also the %s: each output needs a file of its own\n",
					outs[i].role, outs[i].path, outs[k].role);
				bad = 1;
			}
	}
	for (int k = 0; k < nins && !bad && out1.exists; k++)
		if (in[k].exists && same(&out1, &in[k])) {
			fprintf(stderr, "cxr: the standard output is the %s %s: the responses would be written into "
					"what is being read; redirect them elsewhere or use -o\n",
				ins[k].role, ins[k].path);
			bad = 1;
		}
	for (int i = 0; o && i < nouts; i++)
		free(o[i].path);
	for (int i = 0; in && i < nins; i++)
		free(in[i].path);
	free(o);
	free(in);
	return bad ? -1 : 0;
}
