/* policy.c -- when a customer may be called, and what happens after an
 * attempt.
 *
 * Calling hours are a daily window in the queue's zone ("09:00-20:00",
 * or "22:00-06:00" over midnight). A retry waits the configured delay
 * (the i-th delay before the i-th retry, the last repeated) and is then
 * pushed to the next opening if it falls outside the hours. Busy and no
 * answer are retried until the attempts are spent, then the task is
 * abandoned; an answered, rejected or failed call stays with its agent,
 * who decides (call again, or done). Pure: the clock and the zone are
 * passed in. */
#include <stdio.h>
#include <string.h>
#include "core/tz.h"
#include "dial/dial.h"

static int hhmm(const char *s, int *min)
{
    if (strlen(s) < 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m))
        return -1;
    *min = h * 60 + m;
    return 0;
}

int dial_hours_parse(const char *s, int *open, int *close)
{
    *open = 0;
    *close = 1440;
    if (!s || !*s)
        return 0;
    if (strlen(s) != 11 || s[5] != '-' || hhmm(s, open) || hhmm(s + 6, close) ||
        *open == *close || *open == 1440)
        return -1;
    return 0;
}

static bool open_at(int open, int close, int minute)
{
    if (open < close)
        return minute >= open && minute < close;
    return minute >= open || minute < close;    /* over midnight */
}

long long dial_hours_next(int open, int close, const struct tz *tz, long long t)
{
    if (open == 0 && close == 1440)
        return t;
    long long s = t / 1000;
    long long day = tz_day_start(tz, s);
    int minute = (int)((s - day) / 60);
    if (open_at(open, close, minute))
        return t;
    /* closed: the opening today if it is still ahead, else tomorrow's */
    long long at = day + (long long)open * 60;
    if (at * 1000 <= t)
        at = tz_day_next(tz, s) + (long long)open * 60;
    return at * 1000;
}

static const char *const outcome_names[OUT_COUNT] = {
    [OUT_ANSWERED] = "answered", [OUT_BUSY] = "busy", [OUT_NO_ANSWER] = "no_answer",
    [OUT_REJECTED] = "rejected", [OUT_FAILED] = "failed", [OUT_AGENT_FAILED] = "agent_failed",
    [OUT_CANCELLED] = "cancelled",
};

const char *dial_outcome_name(enum dial_outcome o)
{
    return (unsigned)o < OUT_COUNT ? outcome_names[o] : "failed";
}

enum dial_outcome dial_outcome_of(enum dial_cause c)
{
    switch (c) {
    case CAUSE_BUSY: return OUT_BUSY;
    case CAUSE_NO_ANSWER: return OUT_NO_ANSWER;
    case CAUSE_REJECTED: return OUT_REJECTED;
    case CAUSE_NORMAL: return OUT_CANCELLED;     /* closed before it was answered */
    default: return OUT_FAILED;
    }
}

enum dial_action dial_next(const struct dial_policy *p, enum dial_outcome o, int attempts_made,
                           long long now, long long *not_before)
{
    *not_before = 0;
    if (o != OUT_BUSY && o != OUT_NO_ANSWER)
        return ACT_KEEP;
    if (attempts_made >= p->attempts)
        return ACT_ABANDON;
    double delay = 0;
    if (p->ndelays) {
        size_t i = attempts_made >= 1 ? (size_t)attempts_made - 1 : 0;
        delay = p->delays[i < p->ndelays ? i : p->ndelays - 1];
    }
    *not_before = dial_hours_next(p->open, p->close, p->tz, now + (long long)(delay * 1000));
    return ACT_RETRY;
}
