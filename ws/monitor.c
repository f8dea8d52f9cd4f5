/* monitor.c -- /ws/monitor (subprotocol ctx.monitor.v1): tagged items, live.
 *
 * One reader per process (store/follow.c) follows ctx:{i}:items:tagged with
 * XREAD from the last id it has seen, so a Redis restart resumes without a
 * gap. Each session has a cursor, the last stream id it was shown or
 * skipped. A live session takes every broadcast entry past its cursor. A
 * session that asked for `since` first catches up with XRANGE from its
 * cursor on the command connection, page by page, and becomes live only
 * once its cursor has reached the reader's last id: entries it broadcast while a
 * page was in flight are then found by the next page, so none is missed
 * and none is sent twice (the cursor only moves forward).
 *
 * Callbacks only move data (STYLE.md 8): RECEIVE decodes and applies a
 * message, frames are queued (outq.c), SERVER_WRITEABLE writes one frame. A
 * client that falls 4096 frames behind is closed; it can resume with
 * `since`.
 *
 * With item_shards (store/KEYS.md "Item shards") each shard has its tagged
 * stream, its reader and, per session, its own cursor: every shard's entries
 * reach a session in that shard's order, and `since` (one stream id) starts
 * every shard's catch-up. Stream ids of different shards come from different
 * masters' clocks, and the shards' readers hand entries over independently,
 * so an entry of one shard with an id below one a client saw from another
 * could be missed on resume: with several shards the catch-up starts
 * SINCE_MARGIN_MS before `since`, and a client skips what it already has by
 * item id (the page does: docs/monitor.md).
 *
 * `since` moves the cursors back, past entries the session may have been
 * sent already: a client that connects is live at once, and an entry can
 * reach it before its first message (filter and since) does. The session
 * keeps the entries it was sent since it connected or last asked `since`
 * (up to SENT_KEPT), and its catch-up does not send those again; one that
 * was sent more (live a while, then `since`) may get some twice, as with
 * several shards. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/hash.h"
#include "core/item.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/store.h"
#include "ws/ws_internal.h"

#define MAX_QUEUE   4096
#define MAX_RX      65536
#define PAGE        200
#define SINCE_MARGIN_MS 5000    /* several shards: a resume replays this much before since */
#define SENT_KEPT   32          /* entries sent, kept until the next `since` */

struct msess;

/* An entry a session was sent: its shard's stream id. */
struct sent {
    struct sid sid;
    unsigned shard;
};

/* A catch-up page in flight; sess is NULLed if the session closes. */
struct catchup {
    struct msess *sess;
    unsigned shard;
};

struct msess {
    struct lws *wsi;
    struct monitor *m;
    struct msess *prev, *next;
    struct strlist brands, topics;
    int label;                  /* -1 = any */
    bool live[STORE_SHARDS_MAX];        /* per shard; else catching up */
    bool from_now;              /* no cursor yet: start at the readers' last ids when known */
    struct sid cursor[STORE_SHARDS_MAX];
    struct catchup *cu[STORE_SHARDS_MAX];
    struct sent sent[SENT_KEPT];        /* since the connection or the last `since` */
    unsigned nsent;                     /* SENT_KEPT + 1: more were sent */
    struct sent *skip;                  /* sent before the last `since`: not again */
    unsigned nskip;
    struct outq q;
    struct wref *ref;           /* for the token lookup, which may outlive the session */
    bool authed;                /* may receive items (always, when auth is off) */
    bool authing;
    json_t *early_filter;       /* a filter sent before the welcome: applied after it */
    struct buf rx;
    bool rx_too_big;
};

/* A shard's reader hands its entries over with this as priv. */
struct mshard {
    struct monitor *m;
    unsigned shard;
};

struct monitor {
    struct serve *s;
    unsigned nshards;
    struct follower *f[STORE_SHARDS_MAX];  /* each shard's tagged stream, from the start */
    struct mshard sh[STORE_SHARDS_MAX];
    struct follower *alerts;    /* ctx:{i}:alerts: spike alerts, to every session */
    struct msess *sessions;
    unsigned nclients;
    uv_timer_t *tick;
};

/* A Redis stream id, "ms" or "ms-seq", digits only: strtoull alone would
 * also take " 5" and "5- -3" (a negative sequence wrapped around). */
int sid_parse(const char *s, struct sid *out)
{
    char *end;
    if (!s || (unsigned)(*s - '0') > 9u)
        return -1;
    errno = 0;
    out->ms = strtoull(s, &end, 10);
    if (errno)
        return -1;
    out->seq = 0;
    if (*end == '-') {
        const char *q = end + 1;
        if ((unsigned)(*q - '0') > 9u)
            return -1;
        out->seq = strtoull(q, &end, 10);
        if (errno)
            return -1;
    }
    return *end ? -1 : 0;
}

int sid_cmp(struct sid a, struct sid b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

size_t monitor_pss_size(void)
{
    return sizeof(struct msess);
}

unsigned monitor_clients(const struct monitor *m)
{
    return m ? m->nclients : 0;
}

static void send_json(struct msess *ss, json_t *j)
{
    outq_json(&ss->q, ss->wsi, j);
}

static void send_error(struct msess *ss, const char *code, const char *msg)
{
    outq_error(&ss->q, ss->wsi, code, msg);
}

/* One tagged entry, decoded once and offered to every session. */
struct entry {
    struct sid sid;
    const char *sid_s;
    json_t *item;               /* parsed, for filtering */
    struct outq_text_buf *frame;  /* the "item" message, built on first use, shared */
    const char *raw;
    size_t rawlen;
};

static bool list_hit(const struct strlist *want, const json_t *have)
{
    if (want->n == 0)
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(have, i, v) {
        const char *s = json_string_value(v);
        if (s && strlist_has(want, s))
            return true;
    }
    return false;
}

static bool matches(const struct msess *ss, const struct entry *e)
{
    json_t *tags = json_object_get(e->item, "tags");
    if (!list_hit(&ss->brands, json_object_get(tags, "brands")))
        return false;
    if (!list_hit(&ss->topics, json_object_get(tags, "topics")))
        return false;
    if (ss->label >= 0) {
        const char *l = json_string_value(
            json_object_get(json_object_get(tags, "sentiment"), "label"));
        if (!l || strcmp(l, sentiment_label_name((enum sentiment_label)ss->label)) != 0)
            return false;
    }
    return true;
}

/* Decode a stream entry: its id and [field, value...]; 0 ok. */
static int entry_decode(struct entry *e, const char *id, const redisReply *f)
{
    memset(e, 0, sizeof *e);
    if (!id || sid_parse(id, &e->sid))
        return -1;
    e->sid_s = id;
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->str && strcmp(f->element[i]->str, "item") == 0) {
            e->raw = f->element[i + 1]->str;
            e->rawlen = f->element[i + 1]->len;
        }
    if (e->raw)
        e->item = json_loadb(e->raw, e->rawlen, 0, NULL);
    return 0;   /* an entry without a readable item still moves cursors */
}

/* The same from an XRANGE entry [id, [field, value...]]. */
static int entry_init(struct entry *e, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        memset(e, 0, sizeof *e);
        return -1;
    }
    return entry_decode(e, r->element[0]->str, r->element[1]);
}

/* The last id a shard's process-wide reader has seen; false until it knows. */
static bool known_last(const struct monitor *m, unsigned shard, struct sid *out)
{
    return follower_ready(m->f[shard]) && sid_parse(follower_last(m->f[shard]), out) == 0;
}

/* Every shard's last id, into out[]; false until every reader knows. */
static bool known_lasts(const struct monitor *m, struct sid *out)
{
    for (unsigned i = 0; i < m->nshards; i++)
        if (!known_last(m, i, &out[i]))
            return false;
    return true;
}

static void entry_clear(struct entry *e)
{
    json_decref(e->item);
    outq_text_unref(e->frame);
}

static bool was_sent(const struct msess *ss, unsigned shard, struct sid sid)
{
    for (unsigned i = 0; i < ss->nskip; i++)
        if (ss->skip[i].shard == shard && sid_cmp(ss->skip[i].sid, sid) == 0)
            return true;
    return false;
}

/* `since` is applied: what was sent since the last one is not sent again
 * by the catch-up that follows, nor what that one kept (when all fit). */
static void keep_sent(struct msess *ss)
{
    if (ss->nsent > SENT_KEPT || ss->nskip + ss->nsent > 4 * SENT_KEPT) {
        free(ss->skip);
        ss->skip = NULL;
        ss->nskip = 0;
    } else if (ss->nsent) {
        ss->skip = ctx_realloc(ss->skip, (ss->nskip + ss->nsent) * sizeof *ss->skip);
        memcpy(ss->skip + ss->nskip, ss->sent, ss->nsent * sizeof *ss->skip);
        ss->nskip += ss->nsent;
    }
    ss->nsent = 0;
}

/* Offer an entry to one session: advance its cursor, send if it matches. */
static void offer(struct msess *ss, unsigned shard, struct entry *e)
{
    if (!ss->authed || sid_cmp(e->sid, ss->cursor[shard]) <= 0)
        return;
    ss->cursor[shard] = e->sid;
    if (!e->item || !matches(ss, e) || (ss->nskip && was_sent(ss, shard, e->sid)))
        return;
    if (ss->nsent < SENT_KEPT)
        ss->sent[ss->nsent] = (struct sent){e->sid, shard};
    if (ss->nsent <= SENT_KEPT)
        ss->nsent++;
    if (!e->frame) {
        struct buf b = {0};
        buf_printf(&b, "{\"type\":\"item\",\"id\":\"%s\",\"item\":", e->sid_s);
        buf_append(&b, e->raw, e->rawlen);
        buf_putc(&b, '}');
        e->frame = outq_text_new(buf_str(&b), buf_len(&b));
        buf_free(&b);
    }
    outq_shared(&ss->q, ss->wsi, e->frame);
}

static void catchup_next(struct msess *ss, unsigned shard);

static void on_page(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct catchup *cu = priv;
    struct msess *ss = cu->sess;
    unsigned sh = cu->shard;
    free(cu);
    if (!ss)
        return;                 /* closed meanwhile */
    ss->cu[sh] = NULL;
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
        return;                 /* Redis away: the tick retries */
    for (size_t i = 0; i < rep->elements; i++) {
        struct entry e;
        if (entry_init(&e, rep->element[i]) == 0)
            offer(ss, sh, &e);
        entry_clear(&e);
    }
    struct sid last;
    bool known = known_last(ss->m, sh, &last);
    if (rep->elements == PAGE || (known && sid_cmp(last, ss->cursor[sh]) > 0))
        catchup_next(ss, sh);
    else if (known)
        ss->live[sh] = true;    /* the tick retries until the reader knows its last id */
}

static void catchup_next(struct msess *ss, unsigned shard)
{
    if (ss->cu[shard] || ss->live[shard])
        return;
    struct catchup *cu = ctx_malloc(sizeof *cu);
    cu->sess = ss;
    cu->shard = shard;
    char from[64];
    snprintf(from, sizeof from, "(%llu-%llu", ss->cursor[shard].ms, ss->cursor[shard].seq);
    if (store_tagged_page(ss->m->s->cmd, ss->m->s->st, shard, from, PAGE, on_page, cu)) {
        free(cu);
        return;
    }
    ss->cu[shard] = cu;
}

/* ---- the process-wide reader ---- */

/* The process-wide reader (store/follow.c) hands over each new entry. */
static void on_entry(const char *id, const redisReply *fields, void *priv)
{
    struct mshard *sh = priv;
    struct monitor *m = sh->m;
    struct entry e;
    if (entry_decode(&e, id, fields) == 0)
        for (struct msess *ss = m->sessions; ss; ss = ss->next)
            if (ss->live[sh->shard])
                offer(ss, sh->shard, &e);
    entry_clear(&e);
}

/* A new spike alert (ws/alerts.c): to every session, whatever its filter. */
static void on_alert(const char *id, const redisReply *fields, void *priv)
{
    struct monitor *m = priv;
    json_t *a = alert_json(id, fields);
    if (!a)
        return;
    json_t *frame = json_pack("{s:s,s:s,s:o}", "type", "alert", "id", id, "alert", a);
    char *text = frame ? json_dumps(frame, JSON_COMPACT) : NULL;
    struct outq_text_buf *b = text ? outq_text_new(text, strlen(text)) : NULL;
    for (struct msess *ss = m->sessions; b && ss; ss = ss->next)
        if (ss->authed)
            outq_shared(&ss->q, ss->wsi, b);
    outq_text_unref(b);
    free(text);
    json_decref(frame);
}

static void tick(uv_timer_t *t)
{
    struct monitor *m = t->data;
    struct sid last[STORE_SHARDS_MAX];
    if (!known_lasts(m, last))
        return;
    for (struct msess *ss = m->sessions; ss; ss = ss->next) {
        if (ss->from_now) {
            ss->from_now = false;
            for (unsigned i = 0; i < m->nshards; i++) {
                ss->cursor[i] = last[i];
                ss->live[i] = true;
            }
            continue;
        }
        for (unsigned i = 0; i < m->nshards; i++)
            if (!ss->live[i] && !ss->cu[i])
                catchup_next(ss, i);
    }
}

ctx_err monitor_new(struct serve *s, struct monitor **out)
{
    struct monitor *m = ctx_calloc(1, sizeof *m);
    m->tick = ctx_malloc(sizeof *m->tick);
    m->s = s;
    uv_timer_init(s->loop, m->tick);
    m->tick->data = m;
    uv_timer_start(m->tick, tick, 250, 250);
    m->nshards = store_shards(s->st);
    ctx_err e = CTX_OK;
    for (unsigned i = 0; !e && i < m->nshards; i++) {
        char key[STORE_KEY_LEN];
        m->sh[i] = (struct mshard){m, i};
        e = follower_start(s->st, store_key_sharded(key, sizeof key, i, KEYN_TAGGED), on_entry,
                           &m->sh[i], &m->f[i]);
    }
    if (!e)
        e = follower_start(s->st, KEY_ALERTS, on_alert, m, &m->alerts);
    if (e) {
        monitor_free(m);
        return e;
    }
    *out = m;
    return CTX_OK;
}

static void handle_free(uv_handle_t *h)
{
    free(h);
}

void monitor_free(struct monitor *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->nshards; i++)
        follower_stop(m->f[i]);
    follower_stop(m->alerts);
    uv_close((uv_handle_t *)m->tick, handle_free);
    free(m);
}

/* ---- the protocol ---- */

static int read_list(const json_t *v, struct strlist *out)
{
    strlist_clear(out);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > 100)
        return -1;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x))
            return -1;
        strlist_add(out, json_string_value(x));
    }
    return 0;
}

static void apply_filter(struct msess *ss, const json_t *msg)
{
    struct strlist brands = {0}, topics = {0};
    int label = -1;
    const json_t *sent = json_object_get(msg, "sentiment");
    const json_t *since = json_object_get(msg, "since");
    struct sid from;
    enum sentiment_label l;
    if (read_list(json_object_get(msg, "brands"), &brands) ||
        read_list(json_object_get(msg, "topics"), &topics)) {
        strlist_clear(&brands);
        strlist_clear(&topics);
        send_error(ss, "bad_filter", "brands and topics must be arrays of strings");
        return;
    }
    if (sent && !json_is_null(sent) && !(json_is_string(sent) && !*json_string_value(sent))) {
        if (!json_is_string(sent) || sentiment_label_parse(json_string_value(sent), &l)) {
            strlist_clear(&brands);
            strlist_clear(&topics);
            send_error(ss, "bad_filter", "sentiment must be positive, negative or neutral");
            return;
        }
        label = (int)l;
    }
    if (since && !json_is_null(since) &&
        (!json_is_string(since) || sid_parse(json_string_value(since), &from))) {
        strlist_clear(&brands);
        strlist_clear(&topics);
        send_error(ss, "bad_since", "since must be a stream id such as 1700000000000-0");
        return;
    }
    strlist_clear(&ss->brands);
    strlist_clear(&ss->topics);
    ss->brands = brands;
    ss->topics = topics;
    ss->label = label;
    if (since && !json_is_null(since)) {
        ss->from_now = false;
        keep_sent(ss);
        unsigned n = ss->m->nshards;
        if (n > 1)              /* the shards' clocks and readers differ: see the top */
            from = (struct sid){from.ms > SINCE_MARGIN_MS ? from.ms - SINCE_MARGIN_MS : 0, 0};
        for (unsigned i = 0; i < n; i++) {
            ss->cursor[i] = from;
            ss->live[i] = false;
            if (ss->cu[i]) {    /* a page for the old cursor is in flight: drop it */
                ss->cu[i]->sess = NULL;
                ss->cu[i] = NULL;
            }
            catchup_next(ss, i);
        }
    }
}

static void on_token(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct msess *ss = wref_drop(priv);
    if (!ss)
        return;
    ss->authing = false;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 || !rep->element[1]->str) {
        outq_error(&ss->q, ss->wsi, rep ? "auth" : "unavailable",
                   rep ? "unknown token" : "redis is away; try again");
        if (rep)
            ss->q.close_when_sent = true;
        return;
    }
    ss->authed = true;
    send_json(ss, json_pack("{s:s,s:s}", "type", "welcome", "role", rep->element[1]->str));
    if (ss->early_filter) {
        json_t *f = ss->early_filter;
        ss->early_filter = NULL;
        apply_filter(ss, f);
        json_decref(f);
    }
}

/* {"type":"hello","token":…}: required first when auth is on; accepted
 * (and answered) when it is off, so pages can always send it. */
static void hello(struct msess *ss, const json_t *msg)
{
    const char *token = json_string_value(json_object_get(msg, "token"));
    struct serve *s = ss->m->s;
    if (!s->cfg->auth) {
        send_json(ss, json_pack("{s:s,s:s}", "type", "welcome", "role", "anonymous"));
        return;
    }
    if (!token || !*token || strlen(token) > 256) {
        outq_error(&ss->q, ss->wsi, "auth", "hello needs a token");
        ss->q.close_when_sent = true;
        return;
    }
    ss->authing = true;
    if (store_token_role(s->cmd, s->st, token, on_token, wref_take(ss->ref))) {
        wref_drop(ss->ref);
        ss->authing = false;
        outq_error(&ss->q, ss->wsi, "unavailable", "redis is away; try again");
    }
}

static void handle_message(struct msess *ss, const char *text, size_t len)
{
    json_error_t je;
    json_t *msg = json_loadb(text, len, 0, &je);
    if (!msg) {
        send_error(ss, "bad_json", je.text);
        return;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!json_is_object(msg) || !type)
        send_error(ss, "bad_message", "a message is a JSON object with a \"type\"");
    else if (strcmp(type, "hello") == 0)
        hello(ss, msg);
    else if (!ss->authed && !ss->authing) {
        outq_error(&ss->q, ss->wsi, "auth", "say hello with a token first");
        ss->q.close_when_sent = true;
    } else if (strcmp(type, "filter") == 0 && !ss->authed) {
        json_decref(ss->early_filter);          /* the last one counts */
        ss->early_filter = json_incref(msg);
    } else if (strcmp(type, "filter") == 0)
        apply_filter(ss, msg);
    else if (strcmp(type, "ping") == 0)
        send_json(ss, json_pack("{s:s}", "type", "pong"));
    else
        send_error(ss, "unknown_type", "this protocol knows filter and ping");
    json_decref(msg);
}

static void session_close(struct msess *ss)
{
    struct monitor *m = ss->m;
    if (!m)
        return;
    if (ss->prev)
        ss->prev->next = ss->next;
    else
        m->sessions = ss->next;
    if (ss->next)
        ss->next->prev = ss->prev;
    m->nclients--;
    for (unsigned i = 0; i < STORE_SHARDS_MAX; i++)
        if (ss->cu[i])
            ss->cu[i]->sess = NULL;
    outq_clear(&ss->q);
    wref_close(ss->ref);
    json_decref(ss->early_filter);
    free(ss->skip);
    strlist_clear(&ss->brands);
    strlist_clear(&ss->topics);
    buf_free(&ss->rx);
    ss->m = NULL;
}

int monitor_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    struct msess *ss = user;
    struct serve *s = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 ||
            strcmp(uri, "/ws/monitor") != 0)
            return 1;           /* this subprotocol lives at /ws/monitor only */
        /* as /ws/agent and /ws/chat: with auth off, a page of another site
         * must not read the stream from a visitor's browser */
        return serve_origin_ok(s, wsi) ? 0 : 1;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        struct monitor *m = s->mon;
        memset(ss, 0, sizeof *ss);
        ss->wsi = wsi;
        ss->m = m;
        ss->label = -1;
        buf_set_max(&ss->rx, MAX_RX);
        ss->q.max = MAX_QUEUE;
        ss->authed = !s->cfg->auth;
        ss->ref = wref_new(ss);
        if (known_lasts(m, ss->cursor)) {
            for (unsigned i = 0; i < m->nshards; i++)
                ss->live[i] = true;
        } else {
            ss->from_now = true;
        }
        ss->next = m->sessions;
        if (m->sessions)
            m->sessions->prev = ss;
        m->sessions = ss;
        m->nclients++;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        if (!ss->m)
            return -1;
        if (ss->q.closing)      /* our close frame is out: nothing more is taken */
            return 0;
        int r = rx_take(&ss->rx, &ss->rx_too_big, wsi, in, len);
        if (r == 1)
            handle_message(ss, buf_str(&ss->rx), buf_len(&ss->rx));
        else if (r < 0)
            send_error(ss, "too_large", "messages are limited to 64 KiB");
        if (r) {
            buf_reset(&ss->rx);
            ss->rx_too_big = false;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!ss->m)
            return -1;
        if (ss->q.overflow)
            log_warn("monitor: a client is %u frames behind; closing it (it may resume with "
                     "since)", ss->q.n);
        return outq_write(&ss->q, wsi);
    case LWS_CALLBACK_TIMER:
        return ss->m ? outq_close_due(&ss->q) : -1;
    case LWS_CALLBACK_CLOSED:
        session_close(ss);
        return 0;
    default:
        break;
    }
    return 0;
}
