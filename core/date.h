/* date.h -- dates, read and written, in one place.
 *
 * Reading: what feeds, APIs and people write (RFC 822 and its broken
 * variants, RFC 3339, ISO 8601, W3C-DTF, Russian month names) to seconds
 * since the epoch, UTC (date.c). Writing: RFC 3339 UTC, the one form the
 * store and the API use. Neither reads the clock (core/clock.h does) nor
 * the process's time zone. */
#ifndef CTX_DATE_H
#define CTX_DATE_H

/* s to seconds since the epoch, UTC, in *out: 0 ok, -1 unparseable. */
int ctx_date_parse(const char *s, long long *out);

/* RFC 3339 UTC ("2026-11-22T10:00:03Z") of a time_t into out; years are
 * clamped to 0000..9999. */
#define CTX_TIME_LEN 32
void ctx_time_format(long long t, char out[CTX_TIME_LEN]);

#endif
