/* tz.h -- time zones from the system's TZif files, without the process's
 * TZ (setenv("TZ") would change every thread's idea of local time, and
 * localtime_r() reads files behind our back).
 *
 * tz_parse() reads a TZif file's bytes (RFC 8536: versions 1 to 4; the
 * 64-bit block when there is one, and the footer's POSIX TZ rule for
 * instants after the last transition); it is pure. tz_load() validates a
 * zone name ("Europe/Moscow": no "..", no leading "/", only the characters
 * zone names use) and reads /usr/share/zoneinfo/<name> (or dir/<name>).
 * A NULL zone is UTC everywhere below. */
#ifndef CTX_TZ_H
#define CTX_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include "core/ctx.h"
#include "core/date.h"

struct tz;

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 64

/* name is a zone name one may look up: 1..64 bytes of A-Z a-z 0-9 _ + -
 * in '/'-separated parts, none empty, none starting with '.'. */
bool tz_name_ok(const char *name);

/* The zone of TZif bytes, or CTX_EINVAL (not TZif, truncated, counts out
 * of bounds). *out is the caller's, freed with tz_free(). */
ctx_err tz_parse(const unsigned char *data, size_t len, struct tz **out);
/* Read dir/name (dir NULL: TZ_DIR): CTX_EINVAL for a bad name or a file
 * that is not TZif, CTX_ENOTFOUND when there is no such zone. */
ctx_err tz_load(const char *dir, const char *name, struct tz **out);
void tz_free(struct tz *tz);

/* Seconds east of UTC in force at instant t (s since the epoch). */
int tz_offset(const struct tz *tz, long long t);
/* The instant (s) the local day holding instant t starts: local midnight,
 * or the first instant of that local date when midnight is skipped. */
long long tz_day_start(const struct tz *tz, long long t);
/* The instant the next local day starts after the one holding t. */
long long tz_day_next(const struct tz *tz, long long t);
/* RFC 3339 of instant t in local time with its offset
 * ("2026-12-03T00:00:00+03:00"); zone NULL: "...Z". */
void tz_format(const struct tz *tz, long long t, char out[CTX_TIME_LEN]);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
long long tz_days_from_civil(long long y, unsigned m, unsigned d);
void tz_civil_from_days(long long z, long long *y, unsigned *m, unsigned *d);

#endif
