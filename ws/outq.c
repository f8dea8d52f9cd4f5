/* outq.c -- the outgoing frames of one websocket session: queued by the
 * logic, written at SERVER_WRITEABLE callbacks (STYLE.md 8; up to
 * WRITE_BURST frames in one while the socket takes them). A session
 * more than `max` frames behind is marked for closing, so a stuck client
 * costs bounded memory.
 *
 * A frame's text is a reference-counted outq_text_buf, so one text sent to
 * many sessions (a monitor item to 10,000 sockets) is held once, and a
 * queued frame costs a list node. lws_write() writes the websocket header
 * into the LWS_PRE bytes before the text and sends (or copies what the
 * socket did not take) before it returns: sessions writing one buffer one
 * after another on the one loop thread do not disturb each other, as in
 * lws' minimal-ws-server-ring. */
#include <stdlib.h>
#include <string.h>
#include "core/item.h"
#include "core/mem.h"
#include "ws/ws_internal.h"

#define WRITE_BURST 16

struct outq_text_buf {
    unsigned refs;
    size_t len;
    unsigned char data[];       /* LWS_PRE bytes, then the text */
};

struct frame {
    struct frame *next;
    struct outq_text_buf *text;
};

struct outq_text_buf *outq_text_new(const char *text, size_t len)
{
    struct outq_text_buf *b = ctx_malloc(sizeof *b + LWS_PRE + len);
    b->refs = 1;
    b->len = len;
    memcpy(b->data + LWS_PRE, text, len);
    return b;
}

void outq_text_unref(struct outq_text_buf *b)
{
    if (b && --b->refs == 0)
        free(b);
}

void outq_text(struct outq *q, struct lws *wsi, const char *text, size_t len)
{
    if (q->overflow || q->closing)
        return;
    struct outq_text_buf *b = outq_text_new(text, len);
    outq_shared(q, wsi, b);
    outq_text_unref(b);
}

void outq_shared(struct outq *q, struct lws *wsi, struct outq_text_buf *b)
{
    if (q->overflow || q->closing)
        return;
    if (q->n >= q->max) {
        q->overflow = true;
        lws_callback_on_writable(wsi);
        return;
    }
    struct frame *f = ctx_malloc(sizeof *f);
    f->next = NULL;
    f->text = b;
    b->refs++;
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
    q->n++;
    lws_callback_on_writable(wsi);
}

void outq_json(struct outq *q, struct lws *wsi, json_t *j)
{
    char *t = j ? json_dumps(j, CTX_JSON_FLAGS) : NULL;
    if (j && !t)
        ctx_oom(0);     /* a value always dumps: only memory can fail it */
    json_decref(j);
    if (t)
        outq_text(q, wsi, t, strlen(t));
    free(t);
}

void outq_error(struct outq *q, struct lws *wsi, const char *code, const char *msg)
{
    outq_json(q, wsi, json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message", msg));
}

/* Close with a close frame (1008 and why). lws 4.1.6 sends none when the
 * close comes from a SERVER_WRITEABLE callback returning -1, even after
 * lws_close_reason() (it takes a failed writeable callback for a dead
 * socket, and the peer sees 1006); a close from LWS_CALLBACK_TIMER is
 * done properly: close frame, then the peer's answer. So the close is
 * left to the session's next timer callback (outq_close_due()). */
static int close_with(struct outq *q, struct lws *wsi, const char *why)
{
    q->closing = true;
    outq_clear(q);
    lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
    lws_set_timer_usecs(wsi, 1);
    return 0;
}

int outq_close_due(const struct outq *q)
{
    return q->closing ? -1 : 0;
}

int outq_write(struct outq *q, struct lws *wsi)
{
    if (q->closing)
        return 0;
    if (q->overflow)
        return close_with(q, wsi, "too far behind");
    if (!q->head)
        return q->close_when_sent ? close_with(q, wsi, "auth") : 0;
    /* Up to WRITE_BURST frames while the socket takes them: a session that
     * is behind (a burst of items to 10,000 monitors) catches up with one
     * writable round (two epoll_ctl and a wake-up) per burst, not per frame.
     * lws_send_pipe_choked() is false only with no partial write pending
     * and the socket writable, which is when lws_write() may be called
     * again in the same callback. */
    for (int i = 0; q->head && i < WRITE_BURST; i++) {
        struct frame *f = q->head;
        if (i && lws_send_pipe_choked(wsi))
            break;
        if (lws_write(wsi, f->text->data + LWS_PRE, f->text->len, LWS_WRITE_TEXT) <
            (int)f->text->len)
            return -1;
        q->head = f->next;
        if (!q->head)
            q->tail = NULL;
        q->n--;
        outq_text_unref(f->text);
        free(f);
    }
    if (q->head || q->close_when_sent)
        lws_callback_on_writable(wsi);
    return 0;
}

void outq_clear(struct outq *q)
{
    while (q->head) {
        struct frame *f = q->head;
        q->head = f->next;
        outq_text_unref(f->text);
        free(f);
    }
    q->tail = NULL;
    q->n = 0;
}

int rx_take(struct buf *rx, bool *too_big, struct lws *wsi, const void *in, size_t len)
{
    if (!*too_big && buf_append(rx, in, len))
        *too_big = true;
    if (!lws_is_final_fragment(wsi))
        return 0;
    return *too_big ? -1 : 1;
}

struct wref *wref_new(void *p)
{
    struct wref *w = ctx_malloc(sizeof *w);
    w->p = p;
    w->refs = 1;
    return w;
}

struct wref *wref_take(struct wref *w)
{
    w->refs++;
    return w;
}

void *wref_drop(struct wref *w)
{
    void *p = w->p;
    if (--w->refs == 0)
        free(w);
    return p;
}

void wref_close(struct wref *w)
{
    if (!w)
        return;
    w->p = NULL;
    wref_drop(w);
}
