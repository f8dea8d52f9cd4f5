/* spike.c -- is this minute of a series a spike? (trends/spike.h)
 *
 * Each trailing window w of the current counts (x posts) is set against a
 * baseline rate mu, taken from the same clock window on the reference days:
 * - per reference day, the mean rate over the window, widened to at least
 *   10 minutes so a few-posts-a-minute series is not judged on one noisy
 *   minute of history;
 * - the median over the last 7 days, the median over the same weekday 1-4
 *   weeks back, and the lower of yesterday and the day before: the highest
 *   of the three, so a weekend that is busier than the week, or a daily peak
 *   seen on both of the last two days, is the baseline and not a spike;
 * - all that at a few shifts of the clock (-15..+15 min) and the highest
 *   kept, so a daily peak that comes a few minutes early does not alert.
 * The spread is the MAD of the reference days' rates (robust to a past
 * spike), with the Poisson variance as its floor:
 *   z = (x - e) / sqrt(e + (w * 1.4826 * MAD)^2),   e = w * mu,
 * and, since small Poisson counts have a heavier upper tail than a normal
 * z admits, never more than the Wilson-Hilferty z of P(X >= x | e). A
 * window counts only with x >= min_count and x >= min_ratio * e. The score
 * is the best window's. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "trends/spike.h"

const int spike_ref_days[SPIKE_REF_DAYS] = {1, 2, 3, 4, 5, 6, 7, 14, 21, 28};
const int spike_windows[SPIKE_WINDOWS] = {1, 2, 4, 10, 30, 60};

#define MIN_SPAN 10             /* minutes of history a baseline rate is averaged over */
#define RATE_FLOOR 0.002        /* posts/min assumed when history shows none */

static const int shifts[] = {-15, -10, -5, 0, 5, 10, 15};
#define NSHIFTS ((int)(sizeof shifts / sizeof shifts[0]))

void spike_params_default(struct spike_params *p)
{
    p->min_count = 10;
    p->min_ratio = 2;
    p->raise = 5;
    p->spread = 0.25;
    p->clear = 2;
    p->clear_minutes = 15;
    p->min_ref_days = 3;
}

void spike_state_init(struct spike_state *s)
{
    memset(s, 0, sizeof *s);
    s->last = -1;
}

void spike_state_format(const struct spike_state *s, char *buf, size_t len)
{
    snprintf(buf, len, "%d %d %lld %lld %.4g", s->active ? 1 : 0, s->below, s->since, s->last,
             s->peak);
}

int spike_state_parse(const char *text, struct spike_state *out)
{
    int a, b, n = 0;
    long long since, last;
    double peak;
    spike_state_init(out);
    if (!text || sscanf(text, "%d %d %lld %lld %lf%n", &a, &b, &since, &last, &peak, &n) != 5 ||
        text[n] || (a != 0 && a != 1) || b < 0 || !isfinite(peak))
        return -1;
    *out = (struct spike_state){a == 1, b, since, last, peak};
    return 0;
}

static void sort(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

static double median(double *v, int n)
{
    if (n == 0)
        return 0;
    sort(v, n);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* P(X >= x) for X ~ Poisson(lambda), as a normal z (Wilson-Hilferty). */
static double poisson_z(double x, double lambda)
{
    if (x <= 0)
        return 0;
    return 3 * sqrt(x) * (1 - 1 / (9 * x) - cbrt(lambda / x));
}

void spike_score(const struct spike_params *p, const struct spike_input *in,
                 struct spike_eval *out)
{
    memset(out, 0, sizeof *out);
    double all = 0;
    for (int m = 0; m < SPIKE_CUR; m++)
        all += in->cur[m] > 0 ? in->cur[m] : 0;
    if (all < p->min_count)
        return;                 /* no window can pass min_count: skip the history */
    /* prefix sums of each known reference day */
    double pre[SPIKE_REF_DAYS][SPIKE_REF_LEN + 1];
    int days[SPIKE_REF_DAYS], nd = 0;
    for (int j = 0; j < SPIKE_REF_DAYS; j++) {
        if (!in->have[j])
            continue;
        days[nd++] = j;
        pre[j][0] = 0;
        for (int k = 0; k < SPIKE_REF_LEN; k++)
            pre[j][k + 1] = pre[j][k] + (in->ref[j][k] > 0 ? in->ref[j][k] : 0);
    }
    out->ref_days = nd;
    if (nd < p->min_ref_days)
        return;
    double x = 0;
    int wi = 0;
    for (int m = 1; m <= SPIKE_CUR && wi < SPIKE_WINDOWS; m++) {
        x += in->cur[SPIKE_CUR - m] > 0 ? in->cur[SPIKE_CUR - m] : 0;
        if (m != spike_windows[wi])
            continue;
        int w = spike_windows[wi++];
        if (x < p->min_count)
            continue;
        int span = w < MIN_SPAN ? MIN_SPAN : w, pad_lo = (span - w + 1) / 2,
            pad_hi = span - w - pad_lo;
        /* per day: the busiest this clock window got within the shifts */
        double rate[SPIKE_REF_DAYS], rates0[SPIKE_REF_DAYS];
        for (int i = 0; i < nd; i++) {
            int j = days[i];
            rate[i] = 0;
            for (int si = 0; si < NSHIFTS; si++) {
                int lo = SPIKE_REF_BEFORE + shifts[si] - w + 1 - pad_lo,
                    hi = SPIKE_REF_BEFORE + shifts[si] + pad_hi;   /* inclusive */
                double r = (pre[j][hi + 1] - pre[j][lo]) / span;
                if (shifts[si] == 0)
                    rates0[i] = r;
                if (r > rate[i])
                    rate[i] = r;
            }
        }
        double recent[SPIKE_REF_DAYS], weekly[SPIKE_REF_DAYS], d1 = -1, d2 = -1;
        int nr = 0, nw = 0;
        for (int i = 0; i < nd; i++) {
            int back = spike_ref_days[days[i]];
            if (back <= 7)
                recent[nr++] = rate[i];
            if (back % 7 == 0)
                weekly[nw++] = rate[i];
            if (back == 1)
                d1 = rate[i];
            if (back == 2)
                d2 = rate[i];
        }
        double m1 = median(recent, nr), m2 = median(weekly, nw);
        double mu = m1 > m2 ? m1 : m2;
        if (d1 >= 0 && d2 >= 0 && (d1 < d2 ? d1 : d2) > mu)
            mu = d1 < d2 ? d1 : d2;
        double med0 = median(rates0, nd), dev[SPIKE_REF_DAYS];
        for (int i = 0; i < nd; i++)
            dev[i] = fabs(rates0[i] - med0);
        double sigma = 1.4826 * median(dev, nd);
        if (mu < RATE_FLOOR)
            mu = RATE_FLOOR;
        if (sigma < p->spread * mu)
            sigma = p->spread * mu;
        double e = w * mu;
        if (x < p->min_ratio * e)
            continue;
        double z = (x - e) / sqrt(e + (w * sigma) * (w * sigma));
        double zp = poisson_z(x, e);
        if (zp < z)
            z = zp;
        if (z > out->score) {
            out->score = z;
            out->window = w;
            out->count = x;
            out->expected = e;
        }
    }
}

enum spike_event spike_step(const struct spike_params *p, struct spike_state *st,
                            const struct spike_input *in, long long minute,
                            struct spike_eval *out)
{
    spike_score(p, in, out);
    if (st->last >= 0 && minute <= st->last)
        return SPIKE_NONE;
    st->last = minute;
    if (!st->active) {
        if (out->score < p->raise)
            return SPIKE_NONE;
        st->active = true;
        st->below = 0;
        st->since = minute;
        st->peak = out->score;
        return SPIKE_RAISE;
    }
    if (out->score > st->peak)
        st->peak = out->score;
    if (out->score >= p->clear) {
        st->below = 0;
        return SPIKE_NONE;
    }
    if (++st->below < p->clear_minutes)
        return SPIKE_NONE;
    st->active = false;
    st->below = 0;
    return SPIKE_CLEAR;
}
