/* replies.c -- POST /api/replies and GET /api/replies/<id>.
 *
 * POST {"item": "<item id>", "text": "...", "id": "<optional client id>",
 * "agent": "<optional>"} queues a reply for posting back to the item's
 * network (ctxd/outbox.c posts it) and answers 202 with the reply.
 * The reply id is the idempotency key all the way to the network: a
 * client that retries its POST with the same "id" gets the same reply,
 * never a second one. 404 when the item is unknown; 409 with the item's
 * link when its network takes no replies (the console offers the link). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/item.h"
#include "core/mem.h"
#include "store/store.h"
#include "ws/ws_internal.h"

struct reply_ctx {
    struct api_req *r;
    char id[128];
    char item[512];
};

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100)
        return false;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
            *s != '-' && *s != '_' && *s != '.' && *s != ':')
            return false;
    return true;
}

static void reply_json(struct api_req *r, int status, const char *id, const redisReply *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
        const char *k = h->element[i]->str, *v = h->element[i + 1]->str;
        if (!k || !v || strcmp(k, "id") == 0)
            continue;
        if (strcmp(k, "attempts") == 0)
            json_object_set_new(o, k, json_integer(atoll(v)));
        else if (*v)
            json_object_set_new(o, k, json_string(v));
    }
    respond_json(r, status, json_pack("{s:o}", "reply", o));
}

static void on_loaded(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct reply_ctx *c = priv;
    struct api_req *r = c->r;
    if (api_reply_usable(r, rep, REDIS_REPLY_ARRAY)) {
        if (rep->elements == 0)
            respond_error(r, 404, "not_found", "no such reply");
        else
            reply_json(r, c->item[0] ? 202 : 200, c->id, rep);
    }
    free(c);
}

void replies_get(struct api_req *r, const char *id)
{
    if (!valid_id(id)) {
        respond_error(r, 404, "not_found", "no such reply");
        return;
    }
    struct reply_ctx *c = ctx_calloc(1, sizeof *c);
    c->r = r;
    snprintf(c->id, sizeof c->id, "%s", id);
    r->waiting = true;
    if (store_read(r->s->cmd, r->s->st, STORE_REPLY, id, on_loaded, c)) {
        r->waiting = false;
        free(c);
        respond_error(r, 503, "redis", "redis is away");
    }
}

static void on_enqueued(struct rconn *rc, redisReply *rep, void *priv)
{
    struct reply_ctx *c = priv;
    struct api_req *r = c->r;
    if (!r->wsi || !rep || rep->type == REDIS_REPLY_ERROR) {
        r->waiting = false;
        if (!r->wsi)
            req_free(r);
        else if (!rep)
            respond_error(r, 503, "redis", "redis is away");
        else if (strncmp(rep->str, "NOITEM", 6) == 0)
            respond_error(r, 404, "no_item", "no such item");
        else if (strncmp(rep->str, "NOREPLY", 7) == 0)
            respond_json(r, 409, json_pack("{s:s,s:s,s:s}", "error", "no_replies", "message",
                                           "this network takes no replies: answer at the link",
                                           "link", rep->str + (rep->str[7] ? 8 : 7)));
        else
            respond_error(r, 500, "redis", rep->str);
        free(c);
        return;
    }
    /* queued (or queued before): answer with the reply as stored */
    if (store_read(rc, r->s->st, STORE_REPLY, c->id, on_loaded, c)) {
        r->waiting = false;
        respond_error(r, 503, "redis", "redis is away");
        free(c);
    }
}

void replies_post(struct api_req *r)
{
    json_error_t je;
    json_t *j = json_loadb(buf_str(&r->req_body), buf_len(&r->req_body), 0, &je);
    const char *item = json_string_value(json_object_get(j, "item"));
    const char *text = json_string_value(json_object_get(j, "text"));
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *agent = json_string_value(json_object_get(j, "agent"));
    if (!j) {
        respond_error(r, 400, "bad_json", je.text);
    } else if (!item || !*item || strlen(item) > 400) {
        respond_error(r, 400, "bad_item", "\"item\" must be an item id");
    } else if (!text || !*text || strlen(text) > 10000) {
        respond_error(r, 400, "bad_text", "\"text\" must be 1 to 10000 bytes");
    } else if (id && !valid_id(id)) {
        respond_error(r, 400, "bad_id", "\"id\" must be 1-100 of letters, digits, -_.:");
    } else {
        struct reply_ctx *c = ctx_calloc(1, sizeof *c);
        c->r = r;
        snprintf(c->item, sizeof c->item, "%s", item);
        if (id) {
            snprintf(c->id, sizeof c->id, "%s", id);
        } else if (store_reply_id(c->id, sizeof c->id) != CTX_OK) {
            free(c);
            respond_error(r, 503, "random", "no randomness for a reply id; try again");
            json_decref(j);
            return;
        }
        r->waiting = true;
        if (store_reply_enqueue(r->s->cmd, r->s->st, c->id, item, text, agent, on_enqueued, c)) {
            r->waiting = false;
            free(c);
            respond_error(r, 503, "redis", "redis is away");
        }
    }
    json_decref(j);
}
