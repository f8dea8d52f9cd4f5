/* telegram.c -- the `telegram` source kind: the brand's bot, through the Bot
 * API's getUpdates long polling, and replies through sendMessage.
 *
 * Reading. GET /bot<token>/getUpdates?offset=<cursor>&timeout=25 waits up to
 * 25 s for updates; the request's own timeout is 35 s so that the long poll
 * ends on Telegram's side first. The cursor is the last update_id + 1:
 * asking with that offset also confirms everything before it to Telegram,
 * and since the scheduler saves the cursor only once the items are stored, a
 * crash in between fetches the same updates again (deduplicated by id)
 * rather than losing them. `every` can be tiny: the wait happens on
 * Telegram's side.
 *
 * Messages (to the bot in private, in groups the bot is in, and posts in
 * channels it administers) become `messaging` items, id
 * "telegram:<chat_id>:<message_id>", reply_to.ref "<chat_id>:<message_id>".
 * Other updates (callback queries, member changes, ...) and service messages
 * only move the cursor. Updates come oldest first; items are handed over
 * newest first like every other kind. A message from a private chat has
 * conversation "private" (routing makes it a chat, not a mention); r->extra
 * also lists every item's chat type for `ctxctl parse`
 * ({"chats": {"<item id>": "private" | "group" | "supergroup" | "channel"}}).
 *
 * The token is part of every URL (/bot<token>/...): those URLs must never be
 * logged, and no error built here contains one. */
#include "collectors/social_internal.h"

#define TG_BASE       "https://api.telegram.org"
#define TG_WAIT       "25"
#define TG_TIMEOUT    35.0
#define TG_ALLOWED    "[\"message\",\"channel_post\"]"

static ctx_err telegram_validate(const struct config_source *src, char *err, size_t errlen)
{
    ctx_err e = sv_keys(src, "telegram", SV_URL | SV_TOKEN, err, errlen);
    if (e)
        return e;
    if (!src->token || !*src->token)
        return sv_missing("token", "the bot's token from @BotFather; or set token_env",
                          err, errlen);
    for (const char *p = src->token; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != ':' && *p != '_' && *p != '-') {
            snprintf(err, errlen, "token: not a bot token (digits, ':' and letters)");
            return CTX_ECONFIG;
        }
    return CTX_OK;
}

static void telegram_url(const struct config_source *src, const char *method, struct buf *url)
{
    su_base(src, TG_BASE, url);
    buf_printf(url, "/bot%s/%s", src->token ? src->token : "", method);
}

/* The cursor: the next update_id wanted, a plain number. */
static bool telegram_offset(const char *cursor, long long *out)
{
    if (!cursor || !*cursor)
        return false;
    char *end;
    long long v = strtoll(cursor, &end, 10);
    if (*end || v < 0)
        return false;
    *out = v;
    return true;
}

static ctx_err telegram_next_request(const struct config_source *src, const char *cursor,
                                     struct source_request *q)
{
    struct buf url = {0};
    telegram_url(src, "getUpdates", &url);
    long long offset;
    if (telegram_offset(cursor, &offset))
        su_paramf(&url, "offset", "%lld", offset);
    su_param(&url, "timeout", TG_WAIT);
    su_param(&url, "allowed_updates", TG_ALLOWED);
    q->timeout = TG_TIMEOUT;
    return sq_finish(q, NULL, &url, NULL, NULL);
}

/* What a message without text holds, for its item text. */
static const char *telegram_media(const json_t *m)
{
    static const struct { const char *key, *text; } kinds[] = {
        {"photo", "[photo]"}, {"video", "[video]"}, {"voice", "[voice message]"},
        {"video_note", "[video message]"}, {"audio", "[audio]"}, {"document", "[file]"},
        {"sticker", "[sticker]"}, {"animation", "[animation]"}, {"contact", "[contact]"},
        {"location", "[location]"}, {"poll", "[poll]"},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(kinds); i++)
        if (json_object_get(m, kinds[i].key))
            return kinds[i].text;
    return NULL;
}

/* The author: the user who wrote, or the channel or chat a post was made on
 * behalf of. */
static void telegram_author(struct item *it, const json_t *m, const json_t *chat)
{
    const json_t *from = json_object_get(m, "from");
    const json_t *sender = json_object_get(m, "sender_chat");
    if (json_is_object(from) && !json_is_object(sender)) {
        const char *user = sj_nstr(from, "username");
        long long uid;
        if (user)
            si_author(it, "@", user, NULL, -1);
        else if (sj_int(from, "id", &uid))
            si_setf(&it->author.handle, "tg:%lld", uid);
        si_full_name(it, sj_str(from, "first_name"), sj_str(from, "last_name"));
    } else {                    /* a channel post, or sent on behalf of a chat */
        const json_t *sc = json_is_object(sender) ? sender : chat;
        si_author(it, "@", sj_nstr(sc, "username"), sj_str(sc, "title"), -1);
    }
}

static void telegram_message(const struct config_source *src, const json_t *m,
                             const char *fetched, struct parse_result *r, json_t *chats)
{
    const json_t *chat = json_object_get(m, "chat");
    long long cid, mid;
    struct item it;
    if (!sj_int(chat, "id", &cid) || !sj_int(m, "message_id", &mid)) {
        si_skip(r, "telegram: a message without chat.id or message_id was skipped");
        return;
    }
    const char *text = sj_nstr(m, "text");
    if (!text)
        text = sj_nstr(m, "caption");
    const char *media = telegram_media(m);
    if (!text && !media)
        return;                 /* service message: joins, pins, title changes */
    if (!si_new(r, &it, "telegram:%lld:%lld", cid, mid))
        return;
    const char *type = sj_nstr(chat, "type");
    bool private = type && strcmp(type, "private") == 0;
    telegram_author(&it, m, chat);
    const char *chat_user = sj_nstr(chat, "username");
    if (chat_user && !private)
        si_setf(&it.url, "https://t.me/%s/%lld", chat_user, mid);
    if (!private)
        si_plain(&it.title, sj_str(chat, "title"));
    si_plain(&it.text, text ? text : media);
    si_published_num(&it, m, "date", fetched);
    si_reply(&it, "telegram", "%lld:%lld", cid, mid);
    if (private)
        item_set(&it.conversation, "private");
    json_object_set_new(chats, it.id, json_string(type ? type : "unknown"));
    si_take(r, &it, src, "messaging", fetched);
}

static ctx_err telegram_parse(const struct config_source *src, const char *cursor,
                              const struct http_response *resp, const char *fetched,
                              struct parse_result *r)
{
    json_t *root = sj_load("telegram", resp, r);
    if (!root)
        return CTX_EPARSE;
    const json_t *list = json_object_get(root, "result");
    if (!json_is_true(json_object_get(root, "ok")) || !json_is_array(list)) {
        const char *desc = sj_nstr(root, "description");
        long long code = 0;
        sj_int(root, "error_code", &code);
        if (json_is_false(json_object_get(root, "ok")))
            return sj_fail(r, root, CTX_EHTTP, "telegram: error %lld: %s", code,
                           desc ? desc : "(no description)");
        return sj_fail(r, root, CTX_EPARSE, "telegram: expected {\"ok\": true, \"result\": [...]}");
    }
    json_t *chats = json_object();
    long long next = -1, u;
    telegram_offset(cursor, &next);
    size_t n = json_array_size(list);
    if (n > SOCIAL_MAX_ITEMS) {
        si_skip(r, "telegram: more than %d updates, the rest left for the next poll",
                SOCIAL_MAX_ITEMS);
        n = SOCIAL_MAX_ITEMS;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *up = json_array_get(list, i);
        if (!sj_int(up, "update_id", &u)) {
            si_skip(r, "telegram: result[%zu] has no update_id", i);
            continue;
        }
        if (u >= next && u < 0x7fffffffffffffffLL)
            next = u + 1;
    }
    /* newest first */
    for (size_t i = n; i-- > 0;) {
        const json_t *up = json_array_get(list, i);
        const json_t *m = json_object_get(up, "message");
        if (!json_is_object(m))
            m = json_object_get(up, "channel_post");
        if (json_is_object(m))
            telegram_message(src, m, fetched, r, chats);
    }
    if (next >= 0) {
        char c[32];
        snprintf(c, sizeof c, "%lld", next);
        r->cursor = ctx_strdup(c);
    }
    r->extra = json_pack("{s:o}", "chats", chats);
    json_decref(root);
    return CTX_OK;
}

static ctx_err telegram_reply_request(const struct config_source *src, const struct reply *rep,
                                      struct source_request *q)
{
    if (!src->token || !*src->token)
        return CTX_ECONFIG;
    long long cid, mid;
    char extra;
    if (!rep->ref || !rep->text || sscanf(rep->ref, "%lld:%lld%c", &cid, &mid, &extra) != 2)
        return CTX_EINVAL;
    json_t *body = json_pack("{s:I, s:s, s:I, s:b}", "chat_id", (json_int_t)cid, "text",
                             rep->text, "reply_to_message_id", (json_int_t)mid,
                             "allow_sending_without_reply", 1);
    ctx_err e = sq_json_body(q, body);
    if (e)
        return e;
    struct buf url = {0};
    telegram_url(src, "sendMessage", &url);
    return sq_finish(q, "POST", &url, SQ_JSON, NULL);
}

static void telegram_reply_result(const struct http_response *resp, struct reply_outcome *out)
{
    json_t *root = so_load(resp, out);
    const json_t *res = json_object_get(root, "result");
    long long cid, mid, code = resp->status;
    if (json_is_true(json_object_get(root, "ok")) && sj_int(res, "message_id", &mid)) {
        so_set(out, REPLY_POSTED, NULL);
        if (sj_int(json_object_get(res, "chat"), "id", &cid))
            snprintf(out->ref, sizeof out->ref, "%lld:%lld", cid, mid);
        else
            snprintf(out->ref, sizeof out->ref, "%lld", mid);
    } else if (json_is_false(json_object_get(root, "ok"))) {
        const char *desc = sj_nstr(root, "description");
        sj_int(root, "error_code", &code);
        so_set(out, so_by_status((long)code), "telegram: error %lld: %s", code,
               desc ? desc : "(no description)");
        double ra;
        if (sj_num(json_object_get(root, "parameters"), "retry_after", &ra) && ra > 0
            && ra < 86400) {
            out->status = REPLY_RETRY;
            out->retry_after = ra;
        }
    } else {
        char snip[128];
        so_snippet(resp, snip, sizeof snip);
        so_set(out, resp->status >= 200 && resp->status < 300 ? REPLY_FAILED
                                                              : so_by_status(resp->status),
               "telegram: HTTP %ld: %s", resp->status, snip);
    }
    json_decref(root);
}

const struct source_ops telegram_source_ops = {
    .kind = "telegram",
    .item_kind = "messaging",
    .validate = telegram_validate,
    .next_request = telegram_next_request,
    .parse = telegram_parse,
    .reply_request = telegram_reply_request,
    .reply_result = telegram_reply_result,
};
