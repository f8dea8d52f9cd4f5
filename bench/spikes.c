/* spikes.c -- the spike detector (trends/spike.c) on a synthetic month.
 *
 * 100 series, 31 days of minute counts. Each series has its own base rate
 * (log-uniform 0.2..50 posts/min), a daily cycle (amplitude 0.3..0.9, its
 * peak hour anywhere 10..22 UTC, plus a second harmonic), a weekend factor
 * (0.5..1.4), a linear trend over the month (0.8..1.25), day-to-day level
 * noise (lognormal, sigma 0.1) and 15-minute block noise (lognormal, sigma
 * 0.15, so counts are overdispersed against Poisson). 30 of them also have
 * a harmless daily peak (every day, 1.5..4x, 20..90 min, onset jittered
 * by N(0, 5 min)) that must not alert. Three spikes per series are
 * injected on days 8..30 (factor log-uniform 2..10x, 10..120 min, half of
 * them a step, half a 5-minute ramp). Counts are Poisson draws of the rate.
 *
 * The detector is fed as ctxd feeds it: the last 60 minutes of minute
 * counts; the reference days 1 and 2 back at minute resolution (the minute
 * buckets), older ones only by their hour buckets (count/60 a minute). It
 * judges every minute of days 8..30 (the first week is its history).
 *
 * An alert within a spike (onset .. end + 60 min) is a true positive, the
 * first one only: a second alert for the same spike counts as a false one,
 * as does any alert elsewhere. Recall is over spikes of >= 3x (and shown
 * for 2..3x), and by base rate; the delay is from the spike's first minute
 * to the end of the minute that raised the alert (1 = the onset minute).
 *
 *   spikes [-q] [SEED...]     default: seed 1 (the reported figure), then 2..6
 *
 * Build (after make):
 *   cc -O2 -std=gnu11 -I. bench/spikes.c build/libctx.a -lm */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trends/spike.h"

#define NSERIES 100
#define DAYS 31
#define MIN_DAY 1440
#define NMIN (DAYS * MIN_DAY)
#define FIRST_DAY 8
#define SPIKES 3
#define PEAKS 30

static uint64_t rng_s;
static double urand(void)
{
    rng_s += 0x9e3779b97f4a7c15ULL;
    uint64_t z = rng_s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) / 9007199254740992.0;
}
static double nrand(void)
{
    return sqrt(-2 * log(urand())) * cos(2 * M_PI * urand());
}
static double uni(double a, double b)
{
    return a + (b - a) * urand();
}
static int poisson(double l)
{
    if (l <= 0)
        return 0;
    if (l > 30) {
        double v = floor(l + sqrt(l) * nrand() + 0.5);
        return v < 0 ? 0 : (int)v;
    }
    double L = exp(-l), p = 1;
    int k = 0;
    do {
        k++;
        p *= urand();
    } while (p > L);
    return k - 1;
}

struct spike {
    int series, onset, dur;
    double factor;
    bool ramp;
    int alerts, first;          /* alerts inside it, minute of the first */
};

struct series {
    double base;
    int *count;                 /* NMIN minute counts */
    int hour[NMIN / 60];
};

static struct series S[NSERIES];
static struct spike SP[NSERIES * SPIKES];
static int nspikes;

static void generate(uint64_t seed)
{
    rng_s = seed * 0x2545F4914F6CDD1DULL + 12345;
    nspikes = 0;
    for (int s = 0; s < NSERIES; s++) {
        struct series *se = &S[s];
        se->base = 0.2 * pow(250.0, urand());
        double amp = uni(0.3, 0.9), amp2 = uni(0, 0.3), peak_h = uni(10, 22), ph2 = uni(0, 24);
        double weekend = uni(0.5, 1.4), trend = uni(0.8, 1.25);
        bool has_peak = s < PEAKS;
        double pk_at = uni(0, MIN_DAY), pk_dur = uni(20, 90), pk_f = uni(1.5, 4);
        /* spikes: days FIRST_DAY.., at least 6 h apart */
        for (int k = 0; k < SPIKES; k++) {
            struct spike *sp = &SP[nspikes];
            for (int tries = 0; tries < 100; tries++) {
                sp->onset = (int)uni(FIRST_DAY * MIN_DAY, NMIN - 200);
                bool ok = true;
                for (int q = nspikes - k; q < nspikes; q++)
                    ok &= abs(SP[q].onset - sp->onset) > 360;
                if (ok)
                    break;
            }
            sp->series = s;
            sp->dur = (int)uni(10, 121);
            sp->factor = 2 * pow(5.0, urand());
            sp->ramp = urand() < 0.5;
            sp->alerts = 0;
            sp->first = -1;
            nspikes++;
        }
        double day_noise = 1, block_noise = 1, peak_start = 0;
        memset(se->hour, 0, sizeof se->hour);
        for (int t = 0; t < NMIN; t++) {
            int day = t / MIN_DAY, tod = t % MIN_DAY;
            if (tod == 0) {
                day_noise = exp(0.1 * nrand());
                peak_start = pk_at + 5 * nrand();
            }
            if (t % 15 == 0)
                block_noise = exp(0.15 * nrand() - 0.15 * 0.15 / 2);
            double h = tod / 60.0;
            double daily = 1 + amp * cos(2 * M_PI * (h - peak_h) / 24) +
                           amp2 * cos(4 * M_PI * (h - ph2) / 24);
            double wk = (day % 7 >= 5) ? weekend : 1;       /* day 0 is a Monday */
            double tr = 1 + (trend - 1) * t / NMIN;
            double l = se->base * daily * wk * tr * day_noise * block_noise;
            if (has_peak) {
                double u = (tod - peak_start) / pk_dur;     /* raised cosine bump */
                if (u > 0 && u < 1)
                    l *= 1 + (pk_f - 1) * 0.5 * (1 - cos(2 * M_PI * u)) * (u < 0.5 ? 1 : 1);
            }
            for (int k = nspikes - SPIKES; k < nspikes; k++) {
                const struct spike *sp = &SP[k];
                if (t >= sp->onset && t < sp->onset + sp->dur) {
                    double f = sp->factor;
                    if (sp->ramp && t - sp->onset < 5)
                        f = 1 + (f - 1) * (t - sp->onset + 1) / 5.0;
                    l *= f;
                }
            }
            se->count[t] = poisson(l);
            se->hour[t / 60] += se->count[t];
        }
    }
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

struct result {
    int alerts, tp, fp, fp_peak, repeat;
    int big, big_hit, mid, mid_hit;
    int by_rate[3], by_rate_hit[3];
    int delays[NSERIES * SPIKES], nd;
    int kind_n[6], kind_fast[6];    /* spikes >= 3x by [step, ramp] x base rate; within 2 min */
    int kdelay[6][NSERIES * SPIKES], knd[6];   /* their delays, by kind */
    int reach[NSERIES * SPIKES], nreach;       /* delay past the first minute min_count allows */
};

static void run(const struct spike_params *p, struct result *r)
{
    memset(r, 0, sizeof *r);
    static struct spike_input in;
    for (int s = 0; s < NSERIES; s++) {
        struct spike_state st;
        spike_state_init(&st);
        const int *c = S[s].count;
        for (int t = FIRST_DAY * MIN_DAY - 1; t < NMIN; t++) {
            for (int m = 0; m < SPIKE_CUR; m++)
                in.cur[m] = c[t - SPIKE_CUR + 1 + m];
            for (int j = 0; j < SPIKE_REF_DAYS; j++) {
                int at = t - spike_ref_days[j] * MIN_DAY;
                in.have[j] = at - SPIKE_REF_BEFORE >= 0;
                if (!in.have[j])
                    continue;
                for (int k = 0; k < SPIKE_REF_LEN; k++) {
                    int m = at - SPIKE_REF_BEFORE + k;
                    in.ref[j][k] = spike_ref_days[j] <= 2 ? c[m] : S[s].hour[m / 60] / 60.0;
                }
            }
            struct spike_eval ev;
            if (spike_step(p, &st, &in, t, &ev) != SPIKE_RAISE)
                continue;
            r->alerts++;
            struct spike *hit = NULL;
            for (int k = s * SPIKES; k < (s + 1) * SPIKES; k++)
                if (t >= SP[k].onset && t < SP[k].onset + SP[k].dur + 60)
                    hit = &SP[k];
            if (hit && hit->alerts++ == 0) {
                r->tp++;
                hit->first = t;
            } else {
                if (getenv("SPIKES_DEBUG"))
                    fprintf(stderr, "fp s%d base %.2f day %d tod %d w %d x %.0f e %.1f z %.1f%s\n", s,
                            S[s].base, t / MIN_DAY, t % MIN_DAY, ev.window, ev.count,
                            ev.expected, ev.score, hit ? " repeat" : "");
                r->fp++;
                if (hit)
                    r->repeat++;
                else if (s < PEAKS)
                    r->fp_peak++;
            }
        }
    }
    for (int k = 0; k < nspikes; k++) {
        const struct spike *sp = &SP[k];
        double b = S[sp->series].base;
        bool got = sp->first >= 0;
        if (sp->factor >= 3) {
            int rb = b < 1 ? 0 : b < 5 ? 1 : 2;
            r->big++;
            r->big_hit += got;
            r->by_rate[rb]++;
            r->by_rate_hit[rb] += got;
            if (got)
                r->delays[r->nd++] = sp->first - sp->onset + 1;
            int kind = (sp->ramp ? 3 : 0) + rb;
            r->kind_n[kind]++;
            r->kind_fast[kind] += got && sp->first - sp->onset + 1 <= 2;
            if (got) {
                r->kdelay[kind][r->knd[kind]++] = sp->first - sp->onset + 1;
                /* the earliest minute a detector held to min_count could
                 * alert: when the posts since the onset reach it */
                int early = 0;
                for (double sum = 0; early < sp->dur && sum < p->min_count; early++)
                    sum += S[sp->series].count[sp->onset + early];
                r->reach[r->nreach++] = sp->first - sp->onset + 1 - early;
            }
        } else {
            r->mid++;
            r->mid_hit += got;
        }
    }
    qsort(r->delays, (size_t)r->nd, sizeof(int), cmp_int);
    for (int k = 0; k < 6; k++)
        qsort(r->kdelay[k], (size_t)r->knd[k], sizeof(int), cmp_int);
    qsort(r->reach, (size_t)r->nreach, sizeof(int), cmp_int);
}

static int median(const int *v, int n)
{
    return n ? v[n / 2] : -1;
}

static double frac(int a, int b)
{
    return b ? (double)a / b : 0;
}

int main(int argc, char **argv)
{
    uint64_t seeds[16] = {1, 2, 3, 4, 5, 6};
    int nseeds = 6, ai = 1;
    if (ai < argc && strcmp(argv[ai], "-q") == 0) {
        nseeds = 2;
        ai++;
    }
    if (ai < argc)
        for (nseeds = 0; ai < argc && nseeds < 16; ai++)
            seeds[nseeds++] = strtoull(argv[ai], NULL, 10);
    for (int s = 0; s < NSERIES; s++)
        S[s].count = malloc(sizeof(int) * NMIN);
    struct spike_params p;
    spike_params_default(&p);
    printf("  detector defaults: min_count %.0f, min_ratio %.1f, raise %.1f, clear %.1f for %d "
           "min; windows 1,2,4,10,30,60 min\n", p.min_count, p.min_ratio, p.raise, p.clear,
           p.clear_minutes);
    printf("  %d series x %d days, %d spikes/series on days %d..%d, %d series with daily peaks\n",
           NSERIES, DAYS, SPIKES, FIRST_DAY, DAYS - 1, PEAKS);
    printf("  seed alerts precision (fp: peak/repeat/other) recall>=3x [rate<1 1-5 >=5/min] "
           "recall2-3x delay med/p90 <=2min\n");
    for (int i = 0; i < nseeds; i++) {
        generate(seeds[i]);
        struct result r;
        run(&p, &r);
        int within2 = 0;
        for (int k = 0; k < r.nd; k++)
            within2 += r.delays[k] <= 2;
        printf("  %4llu %6d %9.3f (%d: %d/%d/%d) %10.3f [%.2f %.2f %.2f] %10.3f %6d/%-4d %5.2f%s\n",
               (unsigned long long)seeds[i], r.alerts, frac(r.tp, r.alerts), r.fp, r.fp_peak,
               r.repeat, r.fp - r.fp_peak - r.repeat, frac(r.big_hit, r.big),
               frac(r.by_rate_hit[0], r.by_rate[0]), frac(r.by_rate_hit[1], r.by_rate[1]),
               frac(r.by_rate_hit[2], r.by_rate[2]), frac(r.mid_hit, r.mid),
               r.nd ? r.delays[r.nd / 2] : -1, r.nd ? r.delays[(r.nd * 9) / 10] : -1,
               frac(within2, r.nd), i == 0 ? "   <- reported" : "");
        printf("       alerted within 2 min, spikes >= 3x: steps %d/%d %d/%d %d/%d, 5-min ramps "
               "%d/%d %d/%d %d/%d (base rate <1, 1-5, >=5/min)\n", r.kind_fast[0], r.kind_n[0],
               r.kind_fast[1], r.kind_n[1], r.kind_fast[2], r.kind_n[2], r.kind_fast[3],
               r.kind_n[3], r.kind_fast[4], r.kind_n[4], r.kind_fast[5], r.kind_n[5]);
        printf("       median delay, min: steps %d %d %d, 5-min ramps %d %d %d (base rate <1, 1-5, "
               ">=5/min); past the minute the posts since the onset reach min_count: median %d, "
               "p90 %d\n", median(r.kdelay[0], r.knd[0]), median(r.kdelay[1], r.knd[1]),
               median(r.kdelay[2], r.knd[2]), median(r.kdelay[3], r.knd[3]),
               median(r.kdelay[4], r.knd[4]), median(r.kdelay[5], r.knd[5]),
               median(r.reach, r.nreach), r.nreach ? r.reach[(r.nreach * 9) / 10] : -1);
    }
    for (int s = 0; s < NSERIES; s++)
        free(S[s].count);
    return 0;
}
