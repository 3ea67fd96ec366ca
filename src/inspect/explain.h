/* explain.h: `cxr explain`, why a rule did or did not fire for a customer.
 *
 * An explain watches an engine through the hooks it gives (hooks.h):
 * e->hooks = explain_hooks(x) before the run, the story rendered after.
 * The engine does not own it: free it after the engine, or after taking
 * its hooks away.
 */
#ifndef CXR_INSPECT_EXPLAIN_H
#define CXR_INSPECT_EXPLAIN_H

#include <stdint.h>

#include "base/mem.h"
#include "engine/hooks.h"

struct diag;
struct explain;
struct prog;

/* The customer asked about (NULL: everyone), the rule (-1: every rule). */
struct explain *explain_new(const struct prog *p, struct diag *d, const char *customer, int rule);
void explain_free(struct explain *x);
/* What an engine calls to tell x what it does. */
const struct engine_hooks *explain_hooks(const struct explain *x);
/* Only the rules set in mask (prog->nrules bytes). */
void explain_only(struct explain *x, const uint8_t *mask);
/* In a test: pending patterns are told against the test's clock now. */
void explain_test_clock(struct explain *x, int64_t now);
/* Each note said to fn as it comes (`:watch`), instead of kept. */
void explain_stream(struct explain *x, void (*fn)(void *ud, const char *p, size_t n), void *ud);
/* The customer asked about has events in e: 0; else -1, with a message
 * that names the nearest keys seen (did you mean). */
int explain_check_customer(const struct explain *x, const struct engine *e);
/* The story of the run of e that x watched, as text or JSON. */
void explain_render(struct explain *x, const struct engine *e, struct buf *out, int json);
/* As text, without the customer's line, each line after indent. */
void explain_render_indented(struct explain *x, const struct engine *e, struct buf *out, const char *indent);

#endif
