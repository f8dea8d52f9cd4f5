/* alerts.c -- spike alerts for people: GET /api/alerts?since=&limit= lists
 * them newest first from the ctx:{i}:alerts stream (ctxd/alerts.c raises
 * them), and the frame pushed to /ws/monitor for each new one
 * (monitor.c follows the stream on every serve node). */
#include <stdlib.h>
#include <string.h>
#include "core/date.h"
#include "store/store.h"
#include "ws/ws_internal.h"

/* {"id":"<stream id>", ...the alert} of a stream entry's fields, or NULL. */
json_t *alert_json(const char *id, const redisReply *fields)
{
    const char *aj = stream_field(fields, "alert");
    json_t *a = aj ? json_loads(aj, 0, NULL) : NULL;
    if (!json_is_object(a)) {
        json_decref(a);
        return NULL;
    }
    json_object_set_new(a, "id", json_string(id));
    return a;
}

static void on_list(struct rconn *rc, redisReply *rep, void *priv)
{
    (void)rc;
    struct api_req *r = priv;
    if (!api_reply_usable(r, rep, REDIS_REPLY_ARRAY))
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || !e->element[0]->str)
            continue;
        json_t *a = alert_json(e->element[0]->str, e->element[1]);
        if (a)
            json_array_append_new(list, a);
    }
    respond_json(r, 200, json_pack("{s:o}", "alerts", list));
}

void alerts_get(struct api_req *r)
{
    char since[64], limit_s[16];
    if (query_arg(r->wsi, "since", since, sizeof since) ||
        query_arg(r->wsi, "limit", limit_s, sizeof limit_s)) {
        respond_error(r, 400, "bad_query", "since or limit is too long");
        return;
    }
    long long from = 0;
    if (since[0] && ctx_date_parse(since, &from)) {
        respond_error(r, 400, "bad_since", "since must be an RFC 3339 time");
        return;
    }
    char *end;
    long limit = limit_s[0] ? strtol(limit_s, &end, 10) : 100;
    if (limit_s[0] && (*end || limit < 1 || limit > 1000)) {
        respond_error(r, 400, "bad_limit", "limit must be 1 to 1000");
        return;
    }
    r->waiting = true;
    if (store_alerts_list(r->s->cmd, r->s->st, from * 1000, (int)limit, on_list, r)) {
        r->waiting = false;
        respond_error(r, 503, "redis", "redis is away");
    }
}
