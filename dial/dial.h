/* dial.h -- voice callbacks: the dialer engines and the pure decisions
 * about calls (docs/voice.md).
 *
 * A dialer engine is a `const struct dialer_ops` (the pattern of the
 * source kinds and routing strategies, STYLE.md rule 6): it places a call
 * leg to a SIP URI, hangs a leg up, and reports what happens to each leg
 * through the callbacks of struct dialer_cb. The first engine drives
 * baresip over its ctrl_tcp module (baresip.c: netstring-framed JSON on a
 * TCP connection on the uv loop). An Asterisk ARI or FreeSWITCH ESL engine
 * is one more file and one row of dialer_engines[].
 *
 * The rest is pure and tested without sockets: phone numbers to E.164
 * (phone.c), the netstring framing and the baresip event decoder
 * (netstring.c, baresip_event.c), calling hours and what to do after an
 * attempt (policy.c). Times are ms since the epoch, passed in. */
#ifndef CTX_DIAL_H
#define CTX_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <uv.h>
#include "core/buf.h"
#include "core/ctx.h"

/* ---- phone numbers ---- */

#define DIAL_E164_LEN 17        /* "+" 15 digits, NUL */

/* Normalise a phone number as people write it ("+7 495 123-45-67",
 * "(0049) 30 1234567", "00 44 20 7946 0958") to E.164 ("+74951234567") in
 * out. Spaces, dashes, dots, slashes and parentheses are dropped; "00"
 * stands for "+". Without either, the number is national: with a non-empty
 * country_code ("7"), one leading trunk '0' (or '8' when the country code
 * is 7) is dropped and the country code put in front; without one it is an
 * error. On error returns CTX_EINVAL with a sentence for the customer in
 * why ("the number has 4 digits; a full number has 8 to 15"). */
ctx_err dial_phone_e164(const char *in, const char *country_code, char out[DIAL_E164_LEN],
                        char *why, size_t whylen);

/* The SIP URI of a number from a template: {digits} is the E.164 number
 * without '+', {e164} with it ("sip:{digits}@pbx.example.com"). Other text
 * is copied. CTX_ETOOBIG if it does not fit. */
ctx_err dial_uri(const char *tmpl, const char *e164, char *out, size_t outlen);

/* ---- netstrings (ctrl_tcp's framing): "<len>:<bytes>," ---- */

/* Append one frame holding data to out. */
void dial_netstring_put(struct buf *out, const char *data, size_t len);
/* The first complete frame of in[0..len): 1 with its payload at
 * *payload (*plen bytes, not NUL-terminated) and *used bytes consumed; 0
 * when more bytes are needed; -1 when the bytes are not a netstring (a
 * length that is not digits, a leading zero, over max, or no ',' after the
 * payload: the connection should be dropped). */
int dial_netstring_get(const char *in, size_t len, size_t max, const char **payload,
                       size_t *plen, size_t *used);

/* ---- what an engine reports about a leg ---- */

enum dial_leg_state { LEG_RINGING, LEG_ANSWERED, LEG_CLOSED };

/* Why a leg closed, from the engine's words ("486 Busy Here",
 * "Connection reset by user", "408 Request Timeout"...). */
enum dial_cause {
    CAUSE_NORMAL,               /* hung up (by either side) */
    CAUSE_BUSY,                 /* 486, 600 */
    CAUSE_NO_ANSWER,            /* 408, 480, 487 after our CANCEL, or the ring timeout */
    CAUSE_REJECTED,             /* 603, 403 */
    CAUSE_FAILED,               /* anything else: 404, 5xx, the engine went away */
};
enum dial_cause dial_cause_parse(const char *reason);
const char *dial_cause_name(enum dial_cause c);     /* "normal", "busy", ... */

/* A baresip ctrl_tcp message, decoded (baresip_event.c). The strings
 * point into the JSON the decoder was given and live as long as it. */
struct dial_bs_msg {
    enum { BS_OTHER, BS_EVENT, BS_RESPONSE } kind;
    enum dial_leg_state state;  /* events: RINGING, ESTABLISHED, CLOSED */
    bool call_event;            /* an event about a call leg we care for */
    const char *call_id;        /* baresip's id of the call ("id") */
    const char *peer;           /* the URI dialled ("peeruri") */
    const char *param;          /* the reason of CALL_CLOSED */
    bool ok;                    /* responses */
    const char *token, *data;   /* responses */
};
/* Decode one message (the payload of a netstring): CTX_OK, or CTX_EPARSE
 * when it is not a JSON object. *root holds the JSON (json_decref it). */
ctx_err dial_bs_decode(const char *json, size_t len, struct dial_bs_msg *out, json_t **root);
/* The leg token ctxd puts in the URI it dials (";ctxleg=<token>") to know
 * its events, found in peer: copied to out (1), or 0 if none. */
int dial_leg_token(const char *peer, char *out, size_t outlen);

/* The accounts (user agents) baresip lists in the answer to "reginfo" or
 * "uanew" ("--- User Agents (2) ---\n> sip:ctxd@10.0.0.5   OK\n  sip:…").
 * The first one that is not skip is copied to first ("" if none, or if it
 * does not fit); returns whether skip is listed. */
bool dial_bs_accounts(const char *text, const char *skip, char *first, size_t firstlen);

/* ---- engines ---- */

struct dialer;

/* What an engine tells its owner. token is the owner's name for the leg,
 * given to dial(). */
struct dialer_cb {
    void (*leg)(const char *token, enum dial_leg_state st, enum dial_cause cause,
                const char *reason, void *priv);
    /* the engine's connection came up (true) or went away (false); every
     * leg in progress is reported LEG_CLOSED/CAUSE_FAILED before a down */
    void (*engine)(bool up, void *priv);
    void *priv;
};

struct dialer_opts {
    const char *address;        /* the engine's control address, host:port */
};

struct dialer_ops {
    const char *name;           /* "baresip" */
    ctx_err (*start)(uv_loop_t *loop, const struct dialer_opts *o, const struct dialer_cb *cb,
                     struct dialer **out);
    bool (*up)(const struct dialer *d);
    /* Place a leg to uri, known as token from now on. With join, the
     * token of a leg placed before, the two legs hear each other once both
     * are answered (the agent's and the customer's); join NULL: the first
     * leg of a call. CTX_EIO when the engine is away (nothing was sent, no
     * callback will come). */
    ctx_err (*dial)(struct dialer *d, const char *token, const char *uri, const char *join);
    /* Hang the leg up (ringing: cancel); its LEG_CLOSED follows. */
    void (*hangup)(struct dialer *d, const char *token);
    /* Legs in progress are dropped without callbacks; handles close. */
    void (*stop)(struct dialer *d);
};

extern const struct dialer_ops dialer_baresip;
/* The engine called name, or NULL. */
const struct dialer_ops *dialer_ops_find(const char *name);

/* ---- calling hours and retries (policy.c) ---- */

/* "09:00-20:00" (local, minutes) -> [open, close) in minutes of the day;
 * close may be below open ("22:00-06:00": over midnight). "" or NULL:
 * always open (0, 1440). 0 ok, -1 bad. */
int dial_hours_parse(const char *s, int *open, int *close);
struct tz;
/* The first instant at or after t (ms) inside the hours, in zone tz (NULL:
 * UTC). */
long long dial_hours_next(int open, int close, const struct tz *tz, long long t);

enum dial_outcome {
    OUT_ANSWERED,               /* the customer answered */
    OUT_BUSY,
    OUT_NO_ANSWER,
    OUT_REJECTED,
    OUT_FAILED,                 /* the network or the engine failed */
    OUT_AGENT_FAILED,           /* the agent's phone did not answer or failed */
    OUT_CANCELLED,              /* hung up by the agent before the customer answered */
    OUT_COUNT
};
const char *dial_outcome_name(enum dial_outcome o);   /* "answered", "no_answer", ... */
enum dial_outcome dial_outcome_of(enum dial_cause customer_leg_cause);

/* After an attempt: the task stays with the agent (KEEP: answered,
 * rejected, failed... the agent decides, then done), goes back to its queue
 * at its place to be called again at not_before (RETRY: busy, no answer),
 * or ends abandoned (ABANDON: busy or no answer on the last attempt). */
enum dial_action { ACT_KEEP, ACT_RETRY, ACT_ABANDON };
struct dial_policy {
    int attempts;               /* calls to the customer at most */
    const double *delays;       /* s before retry i (1-based: delays[i-1]; the last repeats) */
    size_t ndelays;
    int open, close;            /* calling hours (dial_hours_parse) */
    const struct tz *tz;
};
/* attempts_made counts the one that just ended. */
enum dial_action dial_next(const struct dial_policy *p, enum dial_outcome o, int attempts_made,
                           long long now, long long *not_before);

#endif
