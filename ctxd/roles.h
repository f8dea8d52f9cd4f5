/* roles.h -- the roles ctxd runs besides serve (ws/): each starts on the
 * shared loop and store and stops cleanly. The collectors' parsers and
 * source kinds are pure (collectors/); their I/O edge is here. */
#ifndef CTX_ROLES_H
#define CTX_ROLES_H

#include <uv.h>
#include "analyzer/analyzer.h"
#include "core/config.h"
#include "store/store.h"

/* The collect role (collect.c): polls every source on its schedule. */
struct collector;
ctx_err collector_start(uv_loop_t *loop, const struct config *cfg,
                        struct store *st, struct collector **out);
void collector_stop(struct collector *c);
/* A clean stop's first step: poll no more and give back the sources' leases
 * this collector holds, so that another collector takes them over at its next
 * poll, not 2 polls + 5 s later. done(arg) is called once every answer came;
 * returns how many were asked (0: done is not called). */
int collector_release(struct collector *c, void (*done)(void *), void *arg);

/* Posting agents' replies (outbox.c), run with the collect role. */
struct outbox;
ctx_err outbox_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                     struct outbox **out);
void outbox_stop(struct outbox *ob);

/* The analyze role tags with *an; a rules reload replaces *an between two
 * batches (the loop is single-threaded, so no tag is ever in flight). */
struct analyze_role;
ctx_err analyze_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                           analyzer *const *an, struct analyze_role **out);
void analyze_role_stop(struct analyze_role *r);

/* The route role: routing passes (route.c), escalation (escalate.c), offer
 * timeouts, wrap-up ends, presence grace (route_timers.c). */
struct route_role;
ctx_err route_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                         struct route_role **out);
void route_role_stop(struct route_role *r);

/* The retention sweeper (retention.c), run with the analyze or route role:
 * trims indexes, seen-sets and streams by age, one process at a time. */
struct retention;
ctx_err retention_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                        struct retention **out);
void retention_stop(struct retention *r);

/* Spike alerts (alerts.c), run with the analyze role: one process judges
 * at a time (a lease in Redis). Nothing is started when alerts are off. */
struct alerts;
ctx_err alerts_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                     struct alerts **out);
void alerts_stop(struct alerts *a);

/* The dial role (dial.c): places the calls of voice callbacks through the
 * dialer engine of cfg->dialer (docs/voice.md). */
struct dial_role;
ctx_err dial_role_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                        struct dial_role **out);
void dial_role_stop(struct dial_role *r);

/* Commands to every ctxd (control.c): cb gets each command's name. */
typedef void (*control_cb)(const char *cmd, void *priv);
struct control;
ctx_err control_start(struct store *st, control_cb cb, void *priv, struct control **out);
void control_stop(struct control *c);

#endif
