/* spike.h -- spike detection on per-minute counts of a trend series (pure).
 *
 * For the minute being judged, each of a few trailing windows (1 to 60
 * minutes) is compared with what the same clock window looked like on
 * reference days (yesterday .. a week ago, and the same weekday 2, 3 and 4
 * weeks ago): a robust baseline (medians, and the MAD for the spread) with a
 * Poisson floor on the spread, so small counts are not noise-driven. A
 * minimum count and ratio keep "3 -> 9 posts" quiet, and hysteresis makes one
 * spike one alert: raise at `raise`, clear once the score stayed under `clear`
 * for clear_minutes. No I/O and no clock: the caller passes the counts, the
 * reference days and the minute (ctxd/alerts.c from Redis, bench/spikes.c
 * from a generator). docs/alerts.md explains the choices. */
#ifndef CTX_SPIKE_H
#define CTX_SPIKE_H

#include <stdbool.h>
#include <stddef.h>

#define SPIKE_CUR 60            /* minutes of current counts given: cur[59] = the minute judged */
#define SPIKE_REF_BEFORE 75     /* minutes of each reference day before the judged minute... */
#define SPIKE_REF_AFTER 20      /* ...and after it */
#define SPIKE_REF_LEN (SPIKE_REF_BEFORE + 1 + SPIKE_REF_AFTER)
#define SPIKE_REF_DAYS 10
#define SPIKE_WINDOWS 6

/* Days back of each reference day: 1..7, 14, 21, 28. */
extern const int spike_ref_days[SPIKE_REF_DAYS];
/* The trailing windows judged, in minutes. */
extern const int spike_windows[SPIKE_WINDOWS];

struct spike_params {
    double min_count;           /* posts in the window at least (default 10) */
    double min_ratio;           /* window count / baseline at least (default 2) */
    double raise;               /* score that raises an alert (default 5) */
    double spread;              /* day-to-day spread of the rate at least this share of it
                                   (default 0.25): traffic is burstier than Poisson */
    double clear;               /* score under which it may clear (default 2) */
    int clear_minutes;          /* minutes under `clear` before it clears (default 15) */
    int min_ref_days;           /* reference days needed to judge at all (default 3) */
};
void spike_params_default(struct spike_params *p);

/* What the detector is given for one series and one minute. ref[j][k] is
 * the rate (posts per minute) on reference day j (spike_ref_days[j] days
 * back) at minute k - SPIKE_REF_BEFORE relative to the judged minute; a day
 * with have[j] false is unknown (not counted yet, expired). Rates, not
 * counts: a day known only by hour buckets gives count/60 for each minute. */
struct spike_input {
    double cur[SPIKE_CUR];
    double ref[SPIKE_REF_DAYS][SPIKE_REF_LEN];
    bool have[SPIKE_REF_DAYS];
};

/* The judgement of one minute: the window with the highest score. */
struct spike_eval {
    double score;               /* a z-score; 0 when no window passes min_count, min_ratio */
    int window;                 /* its length in minutes (0: none) */
    double count;               /* posts in it */
    double expected;            /* the baseline for it */
    int ref_days;               /* reference days known */
};

/* Hysteresis state, kept between minutes (by ctxd in Redis). */
struct spike_state {
    bool active;
    int below;                  /* minutes in a row under `clear` while active */
    long long since;            /* minute the alert was raised */
    long long last;             /* last minute judged; -1: none */
    double peak;                /* highest score while active */
};
void spike_state_init(struct spike_state *s);
/* As text ("a b since last peak"), for storing; parse returns 0, -1 on bad text. */
void spike_state_format(const struct spike_state *s, char *buf, size_t len);
int spike_state_parse(const char *text, struct spike_state *out);

enum spike_event { SPIKE_NONE, SPIKE_RAISE, SPIKE_CLEAR };

/* The score of the minute alone (no state). */
void spike_score(const struct spike_params *p, const struct spike_input *in,
                 struct spike_eval *out);
/* Judge `minute` and move the state: SPIKE_RAISE once per spike. A minute
 * not after st->last is ignored (SPIKE_NONE, state untouched). */
enum spike_event spike_step(const struct spike_params *p, struct spike_state *st,
                            const struct spike_input *in, long long minute,
                            struct spike_eval *out);

#endif
