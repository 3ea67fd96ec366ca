/* measure.c: run one command, report its wall time and its own peak RSS.
 *
 *   measure [-i IN] [-o OUT] [-e ERR] -- COMMAND [ARG...]
 *
 * prints "SECONDS MAXRSS_KB EXIT" on stdout, where EXIT is the exit code, or
 * 128 + the signal that ended the command.  stdin, stdout and stderr of the
 * command come from IN and go to OUT and ERR (default /dev/null for all
 * three).
 *
 * Why not time from Python: ru_maxrss keeps the high-water mark of the
 * memory a process had before exec, and a child forked (or vforked) by the
 * benchmark's Python is born with Python's 30 MB, so every tool would seem
 * to need at least that.  Forked from this small program, a command's peak
 * RSS is its own.  run.py builds this file with cc into the bench folder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0644);
	if (fd < 0) {
		perror(path);
		exit(127);
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *in = "/dev/null", *out = "/dev/null", *err = "/dev/null";
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "usage: measure [-i IN] [-o OUT] [-e ERR] -- COMMAND [ARG...]\n");
			return 2;
		}
		if (strcmp(argv[i], "-i") == 0)
			in = argv[++i];
		else if (strcmp(argv[i], "-o") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "-e") == 0)
			err = argv[++i];
		else {
			fprintf(stderr, "measure: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "measure: no command\n");
		return 2;
	}
	int fin = open_or_die(in, O_RDONLY);
	int fout = open_or_die(out, O_WRONLY | O_CREAT | O_TRUNC);
	int ferr = open_or_die(err, O_WRONLY | O_CREAT | O_TRUNC);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 127;
	}
	if (pid == 0) {
		dup2(fin, 0);
		dup2(fout, 1);
		dup2(ferr, 2);
		execvp(argv[i], argv + i);
		dprintf(2, "measure: %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 127;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("%.6f %ld %d\n", s, ru.ru_maxrss, code);
	return 0;
}
