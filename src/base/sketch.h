/* sketch.h: a mergeable quantile sketch with relative accuracy.
 *
 * Percentiles of latencies, dwell times and metric values must merge
 * exactly across partitions (threads, machines): a sketch of the union is
 * the merge of the sketches, whatever the split.  Values are counted in
 * logarithmic buckets (the DDSketch idea): any quantile is returned
 * within a relative error `alpha` of a true value of that rank.
 */
#ifndef CXR_SKETCH_H
#define CXR_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct sketch;

/* alpha: relative accuracy, e.g. 0.01 for 1%. */
struct sketch *sketch_new(double alpha);
void sketch_free(struct sketch *s);
void sketch_add(struct sketch *s, double v); /* any finite value, negative and zero included */
/* a += b; both must have the same alpha (returns -1 otherwise). */
int sketch_merge(struct sketch *a, const struct sketch *b);
uint64_t sketch_count(const struct sketch *s);
double sketch_min(const struct sketch *s); /* exact */
double sketch_max(const struct sketch *s); /* exact */
double sketch_sum(const struct sketch *s); /* exact up to floating-point addition order */
/* q in [0, 1]; NAN when empty.  The rank is q * (count - 1), lower
 * nearest rank; the value returned is within alpha of the value of that
 * rank (exact for min and max). */
double sketch_quantile(const struct sketch *s, double q);
/* Serialise and restore (for state files and merging across processes). */
void sketch_write(const struct sketch *s, struct buf *out);
struct sketch *sketch_read(const char *p, size_t n);

#endif
