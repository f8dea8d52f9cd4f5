/* clock.h -- the one clock of the daemon and its tools.
 *
 * Wall-clock time, in milliseconds or seconds since the epoch. Only the
 * edges read it (roles, websocket handlers, ctxctl): the pure modules
 * (analyzer, routing strategies, parsers) take a `now` from their caller, so
 * that tests and the simulator can run them on a virtual clock. */
#ifndef CTX_CLOCK_H
#define CTX_CLOCK_H

#include <time.h>

static inline long long ctx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long ctx_now_s(void)
{
    return (long long)time(NULL);
}

#endif
