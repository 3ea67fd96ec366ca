/* tzone.h: IANA time zones, read from the system's TZif files.
 *
 * date(t, "Europe/Warsaw") needs the zone's UTC offset at an instant.
 * Zones are loaded on first use from /usr/share/zoneinfo (or $TZDIR) and
 * kept in a cache owned by the caller (one per VM): no global state.
 */
#ifndef CXR_TZONE_H
#define CXR_TZONE_H

#include <stddef.h>
#include <stdint.h>

struct tz_cache;

struct tz_cache *tz_cache_new(void);
void tz_cache_free(struct tz_cache *c);

/* The offset from UTC (ns, east positive) of zone `name` at the UTC
 * instant `utc_ns`.  `name` is "UTC", "Z", a fixed offset ("+02:00",
 * "-0530") or an IANA name ("Europe/Warsaw", "America/New_York").
 * Returns 0, or -1 with *why ("unknown time zone 'Europe/Warsw'") for a
 * name that is neither; *why points into the cache and stays valid until
 * the next call. */
int tz_offset(struct tz_cache *c, const char *name, size_t len, int64_t utc_ns, int64_t *offset_ns,
	      const char **why);

#endif
