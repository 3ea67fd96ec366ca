/* summary.c: the run summary, as text (stderr) or JSON (--summary FILE).
 *
 * Everything here is computed from merged aggregates, so that a summary
 * of a partitioned run is the same as that of a single one.
 */
#include <math.h>
#include <string.h>

#include "inspect.h"
#include "base/json.h"
#include "base/sketch.h"
#include "base/timeutil.h"


#define PLURAL(n) ((n) == 1 ? "" : "s")

/* How a value of the summary is shown. */
enum {
	PV_DUR = 1,   /* a duration (ns) */
	PV_JSON = 2,  /* for the JSON summary */
	PV_EXACT = 4, /* a value of the data (a count, sum, min, max, exact percentile): shown as it is */
};

/* A number or a duration: a value of the data exactly as it is; a
 * derived one (an average, a share, a sketch's estimate) rounded, to the
 * millisecond or to six decimals. */
static void put_value(struct buf *b, double v, int how)
{
	int json = how & PV_JSON, exact = how & PV_EXACT;
	if (!isfinite(v)) {
		buf_adds(b, json ? "null" : "-");
		return;
	}
	if (how & PV_DUR) {
		if (json)
			buf_addc(b, '"');
		dur_format(b, dur_from_double(exact ? v : round(v / 1e6) * 1e6));
		if (json)
			buf_addc(b, '"');
		return;
	}
	json_write_num(b, exact ? v : round(v * 1e6) / 1e6);
}

/* A percentile as text: "~" in front when it comes from the sketch
 * (within 1%) rather than from the values themselves. */
static void put_quantile(struct buf *b, const struct agg_state *a, double v, int json)
{
	if (a->sketch && isfinite(v) && !json)
		buf_addc(b, '~');
	put_value(b, v, PV_DUR | (json ? PV_JSON : 0) | (a->sketch ? 0 : PV_EXACT));
}

/* A group's name in the text summary, padded to 16 characters (not
 * bytes): "(all)" without `by`, "(no key)" for the events whose key was
 * null or empty. */
static void group_label(struct buf *b, const char *key, int grouped)
{
	const char *s = key[0] ? key : grouped ? "(no key)" : "(all)";
	buf_adds(b, "  ");
	buf_adds(b, s);
	int chars = 0;
	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	for (; chars < 16; chars++)
		buf_addc(b, ' ');
	buf_addc(b, ' ');
}

static void put_key(struct buf *b, const char *s)
{
	json_write_str(b, s, strlen(s));
	buf_addc(b, ':');
}


/* A metric's value is one of the data's (or their count or sum), not an
 * estimate or a ratio. */
static int metric_exact(enum agg agg, const struct agg_state *a)
{
	switch (agg) {
	case AGG_COUNT: case AGG_SUM: case AGG_MIN: case AGG_MAX: return 1;
	case AGG_P50: case AGG_P90: case AGG_P99: return !a->sketch;
	default: return 0;
	}
}

/* The value of a metric group, by its aggregate. */
static double metric_value(enum agg agg, const struct agg_state *a)
{
	if (a->n == 0)
		return agg == AGG_COUNT ? 0 : NAN;
	switch (agg) {
	case AGG_COUNT: return (double)a->n;
	case AGG_SUM: return a->sum;
	case AGG_AVG: return a->sum / (double)a->n;
	case AGG_MIN: return a->min;
	case AGG_MAX: return a->max;
	case AGG_P50: return agg_quantile(a, 0.5);
	case AGG_P90: return agg_quantile(a, 0.9);
	case AGG_P99: return agg_quantile(a, 0.99);
	case AGG_NPS: return 100.0 * ((double)a->hits - (double)a->misses) / (double)a->n;
	case AGG_CSAT: return 100.0 * (double)a->hits / (double)a->n;
	case AGG_RATE: return 100.0 * (double)a->hits / (double)a->n;
	case AGG__COUNT: break;
	}
	return NAN;
}

static void rules_part(struct engine *e, struct buf *b, int json)
{
	const struct prog *p = e->prog;
	if (json)
		buf_adds(b, ",\"rules\":{");
	for (int r = 0; r < p->nrules; r++) {
		const struct rule_stats *s = &e->stats[r];
		if (json) {
			if (r)
				buf_addc(b, ',');
			put_key(b, p->rules[r].name);
			buf_printf(b, "{\"fired\":%llu,\"deduped\":%llu,\"capped\":%llu,\"held_out\":%llu,"
				      "\"budget_exhausted\":%llu,\"runtime_errors\":%llu}",
				   (unsigned long long)s->fired, (unsigned long long)s->deduped,
				   (unsigned long long)s->capped, (unsigned long long)s->held_out,
				   (unsigned long long)s->budget_exhausted, (unsigned long long)s->errors);
			continue;
		}
		buf_printf(b, "  rule %s: %llu fired", p->rules[r].name, (unsigned long long)s->fired);
		if (s->deduped)
			buf_printf(b, ", %llu deduped", (unsigned long long)s->deduped);
		if (s->capped)
			buf_printf(b, ", %llu capped", (unsigned long long)s->capped);
		if (s->held_out)
			buf_printf(b, ", %llu held out", (unsigned long long)s->held_out);
		if (s->budget_exhausted)
			buf_printf(b, ", %llu over budget", (unsigned long long)s->budget_exhausted);
		if (s->errors)
			buf_printf(b, ", %llu runtime error%s", (unsigned long long)s->errors, s->errors == 1 ? "" : "s");
		buf_addc(b, '\n');
	}
	if (json)
		buf_addc(b, '}');
}

static void journeys_part(struct engine *e, struct buf *b, int json)
{
	const struct prog *p = e->prog;
	if (json)
		buf_adds(b, ",\"journeys\":{");
	for (int j = 0; j < p->njourneys; j++) {
		const struct journey_info *ji = &p->journeys[j];
		uint64_t *now = mem_alloc(sizeof *now * (size_t)ji->nstages);
		uint64_t *next = mem_alloc(sizeof *next * (size_t)ji->nstages);
		uint64_t in_journey = 0;
		for (uint32_t c = 0; c < e->ncusts; c++) {
			const struct jstate *js = cust_rare(&e->custs[c])->journeys ? &cust_rare(&e->custs[c])->journeys[j] : NULL;
			if (!js || js->stage < 0)
				continue;
			now[js->stage]++;
			in_journey++;
			/* Converted: reached a stage and the one after it. */
			for (int s = 0; s + 1 < ji->nstages && s + 1 < 64; s++)
				next[s] += (js->reached >> s & 3) == 3;
		}
		if (json) {
			if (j)
				buf_addc(b, ',');
			put_key(b, ji->name);
			buf_printf(b, "{\"customers\":%llu,\"stages\":[", (unsigned long long)in_journey);
		} else {
			buf_printf(b, "journey %s: %llu customers\n", ji->name, (unsigned long long)in_journey);
			buf_printf(b, "  %-16s %9s %9s %9s %10s %10s\n", "stage", "reached", "last", "to next",
				   "dwell p50", "dwell p90");
		}
		for (int s = 0; s < ji->nstages; s++) {
			uint64_t reached = e->journey_reached[j][s];
			double conv = s + 1 < ji->nstages && reached ? (double)next[s] / (double)reached : NAN;
			double p50 = agg_quantile(&e->journey_dwell[j][s], 0.5);
			double p90 = agg_quantile(&e->journey_dwell[j][s], 0.9);
			if (json) {
				if (s)
					buf_addc(b, ',');
				buf_adds(b, "{\"stage\":");
				json_write_str(b, ji->stages[s], strlen(ji->stages[s]));
				buf_printf(b, ",\"reached\":%llu,\"last_stage_of\":%llu,\"conversion_to_next\":",
					   (unsigned long long)reached, (unsigned long long)now[s]);
				put_value(b, conv, PV_JSON);
				buf_adds(b, ",\"dwell_p50\":");
				put_quantile(b, &e->journey_dwell[j][s], p50, 1);
				buf_adds(b, ",\"dwell_p90\":");
				put_quantile(b, &e->journey_dwell[j][s], p90, 1);
				buf_printf(b, ",\"dwell_exact\":%s}", e->journey_dwell[j][s].sketch ? "false" : "true");
				continue;
			}
			struct buf c = {0}, d50 = {0}, d90 = {0};
			if (isfinite(conv))
				buf_printf(&c, "%.1f%%", 100 * conv);
			else
				buf_adds(&c, "-");
			put_quantile(&d50, &e->journey_dwell[j][s], p50, 0);
			put_quantile(&d90, &e->journey_dwell[j][s], p90, 0);
			buf_printf(b, "  %-16s %9llu %9llu %9s %10s %10s\n", ji->stages[s], (unsigned long long)reached,
				   (unsigned long long)now[s], c.p, d50.p, d90.p);
			buf_free(&c);
			buf_free(&d50);
			buf_free(&d90);
		}
		if (json)
			buf_adds(b, "]}");
		mem_free(now);
		mem_free(next);
	}
	if (json)
		buf_addc(b, '}');
}

static void metrics_part(struct engine *e, struct buf *b, int json)
{
	const struct prog *p = e->prog;
	if (json)
		buf_adds(b, ",\"metrics\":{");
	for (int m = 0; m < p->nmetrics; m++) {
		const struct metric_info *mi = &p->metrics[m];
		const struct groups *g = &e->metric_groups[m];
		if (json) {
			if (m)
				buf_addc(b, ',');
			put_key(b, mi->name);
			buf_printf(b, "{\"aggregate\":\"%s\",\"by\":", agg_names[mi->agg]);
			if (mi->by)
				json_write_str(b, mi->by, strlen(mi->by));
			else
				buf_adds(b, "null");
			buf_adds(b, ",\"groups\":{");
		} else {
			buf_printf(b, "metric %s (%s%s%s):", mi->name, agg_names[mi->agg], mi->by ? " by " : "",
				   mi->by ? mi->by : "");
			if (!g->n)
				buf_adds(b, " nothing observed");
			buf_addc(b, '\n');
		}
		int quantile = mi->agg == AGG_P50 || mi->agg == AGG_P90 || mi->agg == AGG_P99;
		uint32_t *order = groups_sorted(g);
		for (uint32_t k = 0; k < g->n; k++) {
			uint32_t i = order[k];
			const struct agg_state *a = &g->aggs[i];
			double v = metric_value(mi->agg, a);
			int dur = a->durations && mi->agg != AGG_COUNT;
			if (json) {
				if (k)
					buf_addc(b, ',');
				put_key(b, g->keys[i]);
				buf_printf(b, "{\"n\":%llu,\"value\":", (unsigned long long)a->n);
				put_value(b, v, (dur ? PV_DUR : 0) | PV_JSON | (metric_exact(mi->agg, a) ? PV_EXACT : 0));
				if (quantile)
					buf_printf(b, ",\"exact\":%s", a->sketch ? "false" : "true");
				if (a->mixed)
					buf_printf(b, ",\"not_observed\":%llu", (unsigned long long)a->mixed);
				buf_addc(b, '}');
			} else {
				struct buf t = {0};
				if (quantile && a->sketch && isfinite(v))
					buf_addc(&t, '~');
				put_value(&t, v, (dur ? PV_DUR : 0) | (metric_exact(mi->agg, a) ? PV_EXACT : 0));
				group_label(b, g->keys[i], mi->by != NULL);
				buf_printf(b, "%s (n=%llu%s", t.p, (unsigned long long)a->n,
					   !quantile ? "" : a->sketch ? ", from a sketch: within 1%" : ", exact");
				if (a->mixed)
					buf_printf(b, "; %llu not observed: numbers and durations mixed",
						   (unsigned long long)a->mixed);
				buf_adds(b, ")\n");
				buf_free(&t);
			}
		}
		mem_free(order);
		if (json)
			buf_adds(b, "}}");
	}
	if (json)
		buf_addc(b, '}');
}

static void slas_part(struct engine *e, struct buf *b, int json)
{
	const struct prog *p = e->prog;
	if (json)
		buf_adds(b, ",\"slas\":{");
	for (int s = 0; s < p->nslas; s++) {
		const struct sla_info *si = &p->slas[s];
		const struct groups *g = &e->sla_groups[s];
		struct buf within = {0};
		dur_format(&within, si->to.within);
		if (json) {
			if (s)
				buf_addc(b, ',');
			put_key(b, si->name);
			buf_printf(b, "{\"within\":\"%s\",\"target\":", within.p);
			json_write_num(b, si->target);
			buf_adds(b, ",\"groups\":{");
		} else {
			buf_printf(b, "sla %s (within %s, target %g%%):%s\n", si->name, within.p, si->target * 100,
				   g->n ? "" : " no clock started");
		}
		uint32_t *order = groups_sorted(g);
		for (uint32_t k = 0; k < g->n; k++) {
			uint32_t i = order[k];
			const struct agg_state *a = &g->aggs[i];
			/* Each clock is one of met (answered in time), breached (its
			 * deadline passed first, answered late or not at all) or
			 * pending (not yet due): the three add up to those started. */
			uint64_t due = a->met + a->breached;
			double compliance = due ? (double)a->met / (double)due : NAN;
			uint64_t pending = a->started - due;
			double p50 = agg_quantile(a, 0.5), p90 = agg_quantile(a, 0.9);
			int ok = isfinite(compliance) && compliance >= si->target;
			if (json) {
				if (k)
					buf_addc(b, ',');
				put_key(b, g->keys[i]);
				buf_printf(b, "{\"started\":%llu,\"met\":%llu,\"breached\":%llu,\"pending\":%llu,"
					      "\"answered_late\":%llu,\"compliance\":",
					   (unsigned long long)a->started, (unsigned long long)a->met,
					   (unsigned long long)a->breached, (unsigned long long)pending,
					   (unsigned long long)a->late);
				put_value(b, compliance, PV_JSON);
				buf_adds(b, ",\"latency_p50\":");
				put_quantile(b, a, p50, 1);
				buf_adds(b, ",\"latency_p90\":");
				put_quantile(b, a, p90, 1);
				buf_printf(b, ",\"latency_exact\":%s", a->sketch ? "false" : "true");
				buf_printf(b, ",\"target_met\":%s}", isfinite(compliance) ? (ok ? "true" : "false") : "null");
				continue;
			}
			struct buf t50 = {0}, t90 = {0};
			put_quantile(&t50, a, p50, 0);
			put_quantile(&t90, a, p90, 0);
			group_label(b, g->keys[i], si->by != NO_CODE);
			if (isfinite(compliance))
				buf_printf(b, "%.1f%% met", 100 * compliance);
			else
				buf_adds(b, "nothing due yet");
			buf_printf(b, " (%llu of %llu due), %llu breached", (unsigned long long)a->met,
				   (unsigned long long)due, (unsigned long long)a->breached);
			if (a->late)
				buf_printf(b, " (%llu answered late)", (unsigned long long)a->late);
			buf_printf(b, ", %llu pending, latency p50 %s p90 %s%s\n", (unsigned long long)pending, t50.p,
				   t90.p, isfinite(compliance) ? (ok ? ": target met" : ": TARGET MISSED") : "");
			buf_free(&t50);
			buf_free(&t90);
		}
		mem_free(order);
		buf_free(&within);
		if (json)
			buf_adds(b, "}}");
	}
	if (json)
		buf_addc(b, '}');
}

/* Groups smaller than this get no interval: the normal approximation
 * behind it does not hold for them. */
#define CI_MIN_GROUP 10

/* Difference of two proportions with a normal-approximation 95% interval. */
static void uplift(const struct goal_stats *g, double *diff, double *lo, double *hi)
{
	double pt = g->treated ? (double)g->treated_converted / (double)g->treated : NAN;
	double ph = g->held ? (double)g->held_converted / (double)g->held : NAN;
	*diff = pt - ph;
	*lo = *hi = NAN;
	if (g->treated < CI_MIN_GROUP || g->held < CI_MIN_GROUP)
		return;
	double se = sqrt(pt * (1 - pt) / (double)g->treated + ph * (1 - ph) / (double)g->held);
	*lo = *diff - 1.96 * se;
	*hi = *diff + 1.96 * se;
}

static void goals_part(struct engine *e, struct buf *b, int json)
{
	const struct prog *p = e->prog;
	if (json)
		buf_adds(b, ",\"goals\":{");
	for (int g = 0; g < p->ngoals; g++) {
		struct buf within = {0};
		dur_format(&within, p->goals[g].within);
		if (json) {
			if (g)
				buf_addc(b, ',');
			put_key(b, p->goals[g].name);
			buf_printf(b, "{\"within\":\"%s\",\"rules\":{", within.p);
		} else {
			buf_printf(b, "goal %s (within %s of a rule's first firing for a customer):\n", p->goals[g].name,
				   within.p);
		}
		int first = 1;
		for (int r = 0; r < p->nrules; r++) {
			const struct goal_stats *gs = &e->goal_stats[r * p->ngoals + g];
			if (!gs->treated && !gs->held)
				continue;
			double d, lo, hi;
			uplift(gs, &d, &lo, &hi);
			if (json) {
				if (!first)
					buf_addc(b, ',');
				first = 0;
				put_key(b, p->rules[r].name);
				buf_printf(b, "{\"treated\":%llu,\"treated_converted\":%llu,\"held_out\":%llu,"
					      "\"held_out_converted\":%llu,\"uplift\":",
					   (unsigned long long)gs->treated, (unsigned long long)gs->treated_converted,
					   (unsigned long long)gs->held, (unsigned long long)gs->held_converted);
				put_value(b, d, PV_JSON);
				buf_adds(b, ",\"ci95\":");
				if (isfinite(lo) && isfinite(hi)) {
					buf_addc(b, '[');
					put_value(b, lo, PV_JSON);
					buf_addc(b, ',');
					put_value(b, hi, PV_JSON);
					buf_addc(b, ']');
				} else {
					buf_adds(b, "null");
				}
				buf_addc(b, '}');
				continue;
			}
			buf_printf(b, "  after %s: %llu of %llu responded customers reached it", p->rules[r].name,
				   (unsigned long long)gs->treated_converted, (unsigned long long)gs->treated);
			if (gs->held) {
				buf_printf(b, ", %llu of %llu held out", (unsigned long long)gs->held_converted,
					   (unsigned long long)gs->held);
				if (isfinite(d) && isfinite(lo))
					buf_printf(b, "; uplift %+.1f points (95%% CI %+.1f to %+.1f)", 100 * d, 100 * lo,
						   100 * hi);
				else if (isfinite(d))
					buf_printf(b, "; uplift %+.1f points (too few customers for an interval: %d per group needed)",
						   100 * d, CI_MIN_GROUP);
			}
			buf_addc(b, '\n');
		}
		buf_free(&within);
		if (json)
			buf_adds(b, "}}");
	}
	if (json)
		buf_addc(b, '}');
}

void summary_render(struct engine *e, struct buf *b, int json)
{
	if (json) {
		buf_printf(b, "{\"events\":%llu,\"inputs\":%u,\"rejected\":%llu,\"rejected_lines\":%llu,\"customers\":%u,"
			      "\"responses\":%llu,\"runtime_errors\":%llu",
			   (unsigned long long)e->events, e->nfiles, (unsigned long long)e->rejected,
			   (unsigned long long)e->rejected_lines, e->ncusts, (unsigned long long)e->responses,
			   (unsigned long long)e->runtime_errors);
		buf_printf(b, ",\"late\":%llu", (unsigned long long)e->late);
		if (e->spilled_runs)
			buf_printf(b, ",\"sorted_runs\":%u,\"sorted_run_bytes\":%llu", e->spilled_runs,
				   (unsigned long long)e->spilled_bytes);
	} else {
		buf_printf(b, "cxr: %llu event%s from %u input%s, %llu rejected", (unsigned long long)e->events,
			   PLURAL(e->events), e->nfiles, PLURAL(e->nfiles), (unsigned long long)e->rejected);
		if (e->rejected_lines != e->rejected)
			buf_printf(b, " (holding %llu lines)", (unsigned long long)e->rejected_lines);
		buf_printf(b, ", %u customer%s, %llu response%s", e->ncusts, PLURAL(e->ncusts),
			   (unsigned long long)e->responses, PLURAL(e->responses));
		if (e->runtime_errors)
			buf_printf(b, ", %llu runtime error%s", (unsigned long long)e->runtime_errors,
				   e->runtime_errors == 1 ? "" : "s");
		if (e->late)
			buf_printf(b, ", %llu late (beyond lateness, %s)", (unsigned long long)e->late,
				   e->prog->late == LATE_PROCESS ? "processed" : "rejected");
		if (e->spilled_runs)
			buf_printf(b, ", larger than --memory: sorted in %u run%s on disk (%.1f %s)", e->spilled_runs,
				   e->spilled_runs == 1 ? "" : "s",
				   (double)e->spilled_bytes / (e->spilled_bytes < 1000000 ? 1e3 : 1e6),
				   e->spilled_bytes < 1000000 ? "kB" : "MB");
		buf_addc(b, '\n');
	}
	rules_part(e, b, json);
	journeys_part(e, b, json);
	metrics_part(e, b, json);
	slas_part(e, b, json);
	goals_part(e, b, json);
	if (json)
		buf_adds(b, "}\n");
}
