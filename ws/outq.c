/* outq.c -- the outgoing frames of one websocket session: queued by the
 * logic, written one per SERVER_WRITEABLE callback (STYLE.md 8). A session
 * more than `max` frames behind is marked for closing, so a stuck client
 * costs bounded memory. */
#include <stdlib.h>
#include <string.h>
#include "core/item.h"
#include "core/mem.h"
#include "ws/ws_internal.h"

struct frame {
    struct frame *next;
    size_t len;
    unsigned char data[];       /* LWS_PRE bytes, then the text */
};

void outq_text(struct outq *q, struct lws *wsi, const char *text, size_t len)
{
    if (q->overflow)
        return;
    if (q->n >= q->max) {
        q->overflow = true;
        lws_callback_on_writable(wsi);
        return;
    }
    struct frame *f = ctx_malloc(sizeof *f + LWS_PRE + len);
    f->next = NULL;
    f->len = len;
    memcpy(f->data + LWS_PRE, text, len);
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

int outq_write(struct outq *q, struct lws *wsi)
{
    if (q->overflow) {
        static const char why[] = "too far behind";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why,
                         sizeof why - 1);
        return -1;
    }
    struct frame *f = q->head;
    if (!f) {
        if (!q->close_when_sent)
            return 0;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"auth", 4);
        return -1;
    }
    if (lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
        return -1;
    q->head = f->next;
    if (!q->head)
        q->tail = NULL;
    q->n--;
    free(f);
    if (q->head || q->close_when_sent)
        lws_callback_on_writable(wsi);
    return 0;
}

void outq_clear(struct outq *q)
{
    while (q->head) {
        struct frame *f = q->head;
        q->head = f->next;
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
