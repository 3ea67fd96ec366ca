/* store.h: a run's state in a SQLite file (`cxr run --state FILE`).
 *
 * The file holds what the engine's snapshot writes (engine/snapshot.h):
 * the table of names, the run's record and one record per customer, and
 * beside them the inputs consumed so far (so that a file is not read
 * twice) and the checkpoints taken.  Everything of one save is written in
 * one transaction: a file is always the state after some whole save.
 * A file that is not SQLite, is SQLite of something else, was written by
 * a newer format, or fails SQLite's integrity check is refused before
 * anything of it is used.
 */
#ifndef CXR_STATE_STORE_H
#define CXR_STATE_STORE_H

#include <stdint.h>

#include "base/diag.h"
#include "engine/engine.h"

/* The version of the file's layout (PRAGMA user_version): a file of a
 * higher one is refused, one of a lower one is upgraded when written. */
#define STATE_FORMAT_VERSION 1

struct state_file;

/* Open a state file for a run, creating it when missing; NULL (told to d)
 * when it is refused.  version: of the cxr writing it (CXR_VERSION),
 * recorded in the file and named when a newer file is refused. */
struct state_file *state_open(const char *path, struct diag *d, const char *version);
/* Open for reading only (`cxr state`): never created. */
struct state_file *state_open_read(const char *path, struct diag *d, const char *version);
void state_close(struct state_file *s);

/* Is the file new (nothing saved yet)? */
int state_is_empty(const struct state_file *s);
/* Read the state into a fresh engine running its script; rules named in
 * resets start anew.  What the script no longer matches is told once, as
 * notes.  0, or -1 (told) when the file's records are damaged or a reset
 * names no rule of the state. */
int state_load(struct state_file *s, struct engine *e, const char *const *resets, int nresets);

/* An input file, as the state knows it. */
enum input_seen {
	INPUT_NEW,      /* not read before (or another file now has its path) */
	INPUT_CONSUMED, /* read to its end, and unchanged since */
	INPUT_GREW,     /* read to *offset, and it has grown since: read on from there */
};
/* What the state knows of the file at path, by its real path, size and
 * the hashes of its first and last blocks read.  *offset and *lines: how
 * far it was read. */
enum input_seen state_input(struct state_file *s, const char *path, uint64_t *offset, uint64_t *lines);
/* The file was read to its end (size bytes, lines lines): recorded by the
 * next save. */
void state_input_read(struct state_file *s, const char *path, uint64_t size, uint64_t lines);

/* A run in progress, as a checkpoint records it: the inputs it reads
 * (its plan, as text the api makes), how many of their sorted events have
 * run, and the bytes of each output (responses, rejects, audit) written
 * by then, which a resume cuts them back to. */
struct state_progress {
	char *plan;
	uint64_t applied;
	uint64_t lengths[3];
	int finished;        /* the run ended (its outputs are whole at these lengths) */
};

/* Save the engine's state in one transaction: with progress, as a
 * checkpoint of a run that goes on, or (progress->finished) as its end,
 * with the inputs read; NULL: the end of a run that has no plan (a fed
 * stream).  0, or -1 (told): the previous save is intact. */
int state_save(struct state_file *s, struct engine *e, const struct state_progress *progress);
/* The progress of the last run (finished, or killed, or stopped by a
 * signal after a checkpoint): 1 and *p filled (free p->plan), or 0. */
int state_unfinished(struct state_file *s, struct state_progress *p);

/* The engine saved from now on runs another script (a reload): the next
 * save rewrites every record, by the new names. */
void state_rules_changed(struct state_file *s);

/* `cxr state FILE [--customer K]`: what the file holds, as text. */
int state_describe(struct state_file *s, const char *customer, struct buf *out);

#endif
