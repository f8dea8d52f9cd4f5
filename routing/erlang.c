/* erlang.c -- what queueing theory says a queue should cost: Erlang C for
 * the M/M/n queue (Poisson arrivals, exponential handling, n agents, an
 * unbounded line served first come first served).
 *
 * The textbook formula, a^n/n! * n/(n-a) over sum_{k<n} a^k/k! + the same,
 * overflows a double near n = 170 and loses precision long before. So
 * Erlang B comes first, by its recurrence
 *     B(0) = 1,  B(k) = a B(k-1) / (k + a B(k-1)),
 * whose every step is a ratio in [0, 1] (no overflow, no cancellation),
 * then C = n B / (n - a (1 - B)). This is O(n) and good to n in the tens of
 * thousands. From C:
 *     ASA = C / (n mu - lambda)
 *     SL(t) = 1 - C exp(-(n mu - lambda) t)     (share answered within t)
 * A queue at or over capacity (a >= n) waits always and for ever. */
#include <math.h>
#include "routing/routing.h"

double erlang_c(int n, double a)
{
    if (isnan(a))
        return NAN;
    if (a <= 0)
        return 0.0;
    if (n < 1 || a >= n)
        return 1.0;
    double b = 1.0;
    for (int k = 1; k <= n; k++)
        b = a * b / (k + a * b);
    double c = n * b / (n - a * (1.0 - b));
    return c > 1.0 ? 1.0 : c;
}

/* Unstable or meaningless parameters answer "never": infinite wait. */
double erlang_asa(int n, double lambda, double mu)
{
    if (!(lambda > 0))
        return 0.0;
    if (!(mu > 0) || n < 1 || n * mu <= lambda)
        return INFINITY;
    return erlang_c(n, lambda / mu) / (n * mu - lambda);
}

double erlang_service_level(int n, double lambda, double mu, double target)
{
    if (!(lambda > 0))
        return 1.0;
    if (!(mu > 0) || n < 1 || n * mu <= lambda || !(target >= 0))
        return 0.0;
    return 1.0 - erlang_c(n, lambda / mu) * exp(-(n * mu - lambda) * target);
}
