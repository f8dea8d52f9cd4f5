/* escalate.c -- the route role's intake: tagged items become tasks.
 *
 * It reads ctx:{i}:items:tagged through the consumer group "route" (a group
 * reader, store/group.c; with item_shards, a reader per shard's tagged
 * stream, a "lane") and, for each item:
 * - a message of a private conversation on a network (a Telegram chat)
 *   joins that conversation's open chat task or opens one in the chat
 *   queue (chat_inbound.lua);
 * - any other item is matched against the escalation rules
 *   (escalation_match(), pure, routing/escalate.c); the first that holds
 *   makes a social task keyed "social:<item id>", so an item seen twice is
 *   escalated once (task_new.lua).
 * An entry is acknowledged once its task script answered (a task made, or
 * there already): on a cluster the task ({r}) and the entry ({i}) are on
 * two masters, so queueing both on one connection would not keep them in
 * order, and an error reply must not lose the escalation. An entry whose
 * script failed or was not sent stays pending and is read again after a
 * back-off (2 s doubling to 30 s); the scripts are idempotent by the item
 * (task_new.lua by the task id, chat_inbound.lua by the open task's last
 * item). The next batch is read once every task of this one is answered.
 *
 * It does not route: a new task wakes the routing pass (route.c) through
 * the routing events the scripts append. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/clock.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "ctxd/route_internal.h"
#include "routing/routing.h"

/* One shard's tagged stream: its reader and the tasks of its batch. */
struct escalate_lane {
    struct route_role *r;
    unsigned shard;
    struct group_reader *g;
    unsigned inflight;          /* tasks of the batch being created */
    char stream[STORE_KEY_LEN], dead[STORE_KEY_LEN];
};

/* An entry whose task script is in flight: acked when it answers. */
struct escalating {
    struct escalate_lane *l;
    char sid[48];
};

static void batch_step(struct escalate_lane *l)
{
    if (--l->inflight || l->r->stopping)
        return;
    group_reader_done(l->g);
}

static void on_task_made(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct escalating *e = priv;
    struct escalate_lane *l = e->l;
    struct route_role *r = l->r;
    if (r->stopping) {
        /* the command connection freed with this script in flight: the
         * readers are gone, the entry stays pending for the next router */
    } else if (!rep || rep->type == REDIS_REPLY_ERROR) {
        log_warn("route: task for %s not created (%s); the entry stays pending", e->sid,
                 rep ? rep->str : "connection lost");
        group_reader_left_pending(l->g);
    } else {
        if ((rep->type == REDIS_REPLY_INTEGER && rep->integer == 1) ||
            (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
             rep->element[1]->integer == 1))
            r->tasks_created++;
        store_tagged_ack(r->cmd, r->st, l->shard, e->sid);
    }
    free(e);
    batch_step(l);
}

/* The entry sid's task script was sent (true: on_task_made() acks it), or
 * could not be: it stays pending. */
static struct escalating *escalating_new(struct escalate_lane *l, const char *sid)
{
    struct escalating *e = ctx_malloc(sizeof *e);
    e->l = l;
    snprintf(e->sid, sizeof e->sid, "%s", sid);
    l->inflight++;
    return e;
}

static void not_sent(struct escalating *e)
{
    group_reader_left_pending(e->l->g);
    e->l->inflight--;
    free(e);
}

/* A message of a one-to-one conversation on a network: it joins the
 * conversation's open chat task or opens one (chat_inbound.lua). */
static bool conversation_message(struct escalate_lane *l, const char *sid,
                                 const struct item *it, const char *lang)
{
    struct route_role *r = l->r;
    const char *queue = config_chat_queue(r->cfg);
    const struct config_queue *qc = queue ? route_queue_cfg(r->cfg, queue) : NULL;
    if (!qc || !it->reply_network || !it->reply_ref) {
        log_warn("route: %s is a private conversation but no queue takes chats", it->id);
        return false;
    }
    long long now = ctx_now_ms();
    size_t chat_len = strcspn(it->reply_ref, ":");     /* ref is "<chat>:<message>" */
    char id[200], created[CTX_TIME_LEN];
    snprintf(id, sizeof id, "chat:%s:%.*s:%lld", it->reply_network, (int)chat_len, it->reply_ref,
             now);
    struct rt_queue q = {.aging = qc->aging};
    struct rt_task t = {.enqueued = now};
    ctx_time_format(now / 1000, created);
    const char *name = it->author.name ? it->author.name : it->author.handle;
    json_t *m = json_pack("{s:s,s:s?,s:s,s:s?}", "from", "customer", "name", name, "text",
                          it->text ? it->text : "", "at", it->published);
    char *mj = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    struct store_inbound in = {
        .network = it->reply_network, .chat = it->reply_ref, .chat_len = chat_len, .task = id,
        .queue = qc->name, .now = now, .sla_due = now + (long long)(qc->sla * 1000),
        .order = routing_order(&q, &t), .created = created, .item = it->id,
        .message = mj ? mj : "{}", .name = name, .lang = lang};
    struct escalating *e = escalating_new(l, sid);
    if (store_chat_inbound(r->cmd, r->st, &in, on_task_made, e))
        not_sent(e);
    free(mj);
    return true;
}

static void escalate_entry(struct escalate_lane *l, const redisReply *e)
{
    struct route_role *r = l->r;
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
        return;
    const char *sid = e->element[0]->str, *payload = NULL;
    const redisReply *f = e->element[1];
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->str && strcmp(f->element[i]->str, "item") == 0)
            payload = f->element[i + 1]->str;
    json_t *j = payload ? json_loads(payload, 0, NULL) : NULL;
    struct item it;
    struct tags tags = {0};
    int rule = -1;
    bool sent = false;          /* a script acks it when it answers */
    if (j && item_from_json(j, &it) == CTX_OK) {
        tags_from_json(json_object_get(j, "tags"), &tags);
        if (it.conversation && strcmp(it.conversation, "private") == 0)
            sent = conversation_message(l, sid, &it, it.lang);
        else
            rule = escalation_match(r->cfg, &tags, it.lang, it.author.followers,
                                    tags.duplicate_of != NULL);
        if (rule >= 0) {
            const struct config_escalation *esc = &r->cfg->escalation[rule];
            char id[600];
            snprintf(id, sizeof id, "social:%s", it.id);
            json_t *extra = json_pack("{s:s,s:s?,s:s?}", "item", it.id, "lang", it.lang,
                                      "rule", esc->name);
            struct escalating *x = escalating_new(l, sid);
            if (store_task_new(r->cmd, r->st, r->cfg, id, "social", esc->queue, esc->priority,
                               extra, on_task_made, x))
                not_sent(x);
            sent = true;
            json_decref(extra);
        }
        item_clear(&it);
    }
    tags_clear(&tags);
    json_decref(j);
    if (!sent)                  /* nothing to escalate: done with it */
        store_tagged_ack(r->cmd, r->st, l->shard, sid);
}

static void on_tagged(const redisReply *entries, void *priv)
{
    struct escalate_lane *l = priv;
    l->inflight = 1;            /* held while the batch is being sent */
    for (size_t i = 0; i < entries->elements; i++)
        escalate_entry(l, entries->element[i]);
    batch_step(l);
}

ctx_err escalate_start(struct route_role *r)
{
    unsigned n = store_shards(r->st);
    r->lanes = ctx_calloc(n, sizeof *r->lanes);
    for (unsigned i = 0; i < n; i++) {
        struct escalate_lane *l = &r->lanes[i];
        l->r = r;
        l->shard = i;
        store_key_sharded(l->stream, sizeof l->stream, i, KEYN_TAGGED);
        store_key_sharded(l->dead, sizeof l->dead, i, KEYN_TAGGED_DEAD);
        /* "$": items tagged before routing was ever configured stay monitored only
         * (the analyze role creates the group too, before its first tagged item). */
        const struct group_opts o = {
            .name = "route", .stream = l->stream, .group = GROUP_ROUTE, .start_id = "$",
            .count = 64, .dead = l->dead,
        };
        ctx_err e = group_reader_start(r->st, &o, on_tagged, l, &l->g);
        if (e) {
            escalate_free(r);
            return e;
        }
    }
    r->tagged = r->lanes[0].g;  /* the tick pokes it */
    return CTX_OK;
}

/* The readers stop; the lanes stay until escalate_free(), for the task
 * scripts still in flight on the command connection (on_task_made() is
 * called back, with NULL, when that connection is freed after this). */
void escalate_stop(struct route_role *r)
{
    for (unsigned i = 0; r->lanes && i < store_shards(r->st); i++) {
        group_reader_stop(r->lanes[i].g);
        r->lanes[i].g = NULL;
    }
    r->tagged = NULL;
}

void escalate_free(struct route_role *r)
{
    escalate_stop(r);
    free(r->lanes);
    r->lanes = NULL;
}
