/* mastodon.c -- the `mastodon` source kind: a hashtag timeline or a status
 * search on one instance, and replies posted as statuses.
 *
 * Reading. mode "tag" reads GET /api/v1/timelines/tag/:tag, mode "search"
 * reads GET /api/v2/search?type=statuses (most instances answer status
 * searches only with an access token). Both page with min_id: the cursor is
 * the newest status id seen, and min_id=<cursor> returns the statuses
 * immediately newer than it, so however many arrive between two polls each
 * poll takes the next page and nothing is skipped. The first poll sends no
 * min_id and takes the newest page. Statuses come newest first, which is the
 * order items are handed over in.
 *
 * Ids. A status id is only meaningful on the instance that answered, so an
 * item is "mastodon:<instance host>:<status id>" -- the same id that replies
 * need (in_reply_to_id). A reblog stands for the status it reblogs: the
 * item is that status (one item however many times it is reblogged), while
 * the paging cursor still follows the timeline's own ids.
 *
 * Replying. POST /api/v1/statuses with in_reply_to_id and an
 * Idempotency-Key (the reply id): Mastodon answers a repeated key with the
 * status it already made, so a retry after a lost answer never doubles. */
#include "collectors/social_internal.h"

#define MASTODON_LIMIT "40"     /* the most a timeline or search page gives */

static const char *mastodon_mode(const struct config_source *src)
{
    if (src->mode)
        return src->mode;
    return src->tag ? "tag" : "search";
}

static ctx_err mastodon_validate(const struct config_source *src, char *err, size_t errlen)
{
    ctx_err e = sv_keys(src, "mastodon", SV_URL | SV_QUERY | SV_TAG | SV_MODE | SV_TOKEN,
                        err, errlen);
    if (e)
        return e;
    if (!src->url)
        return sv_missing("url", "the instance's base URL, such as https://mastodon.social",
                          err, errlen);
    const char *mode = mastodon_mode(src);
    if (strcmp(mode, "tag") == 0) {
        const char *tag = src->tag && src->tag[0] == '#' ? src->tag + 1 : src->tag;
        if (!tag || !*tag)
            return sv_missing("tag", "mode tag reads a hashtag timeline", err, errlen);
        for (const char *p = tag; *p; p++)
            if ((unsigned char)*p <= ' ' || strchr("#/?&%", *p)) {
                snprintf(err, errlen, "tag: \"%s\" is not a hashtag", src->tag);
                return CTX_ECONFIG;
            }
    } else if (strcmp(mode, "search") == 0) {
        if (!src->query || !*src->query)
            return sv_missing("query", "mode search needs search terms", err, errlen);
    } else {
        snprintf(err, errlen, "mode: \"%s\" is not a mastodon mode (tag or search)", mode);
        return CTX_ECONFIG;
    }
    return CTX_OK;
}

static ctx_err mastodon_next_request(const struct config_source *src, const char *cursor,
                                     struct source_request *q)
{
    struct buf url = {0};
    su_base(src, "", &url);
    if (strcmp(mastodon_mode(src), "tag") == 0) {
        const char *tag = src->tag && src->tag[0] == '#' ? src->tag + 1 : src->tag;
        buf_puts(&url, "/api/v1/timelines/tag/");
        su_escape(&url, tag ? tag : "");
    } else {
        buf_puts(&url, "/api/v2/search");
        su_param(&url, "q", src->query ? src->query : "");
        su_param(&url, "type", "statuses");
        su_param(&url, "resolve", "false");
    }
    su_param(&url, "limit", MASTODON_LIMIT);
    if (cursor && *cursor)
        su_param(&url, "min_id", cursor);
    return sq_finish(q, NULL, &url, NULL, src->token);
}

/* "@user@host": acct lacks the domain for the instance's own users. The
 * display name is kept as the instance gives it. */
static void mastodon_author(struct item *it, const json_t *acc, const char *host)
{
    const char *acct = sj_nstr(acc, "acct");
    if (!acct)
        acct = sj_nstr(acc, "username");
    if (acct && strchr(acct, '@'))
        si_setf(&it->author.handle, "@%s", acct);
    else if (acct)
        si_setf(&it->author.handle, "@%s@%s", acct, host);
    const char *name = sj_nstr(acc, "display_name");
    item_set(&it->author.name, name ? name : sj_nstr(acc, "username"));
    long long f;
    if (sj_int(acc, "followers_count", &f))
        si_followers(it, f);
}

static void mastodon_status(const struct config_source *src, const json_t *st,
                            const char *host, const char *fetched, struct parse_result *r)
{
    char sid[128];
    struct item it;
    if (!sj_id(st, "id", sid, sizeof sid)) {
        si_skip(r, "mastodon: a status without an id was skipped");
        return;
    }
    if (!si_new(r, &it, "mastodon:%s:%s", host, sid))
        return;
    const json_t *acc = json_object_get(st, "account");
    if (json_is_object(acc))
        mastodon_author(&it, acc, host);
    const char *url = sj_nstr(st, "url");
    item_set(&it.url, url ? url : sj_nstr(st, "uri"));
    si_html(&it.text, sj_str(st, "content"));
    si_plain(&it.title, sj_str(st, "spoiler_text"));     /* the content warning */
    item_set(&it.lang, sj_nstr(st, "language"));
    si_published_str(&it, sj_str(st, "created_at"), fetched);
    si_reply(&it, "mastodon", "%s", sid);
    si_take(r, &it, src, "social", fetched);
}

static ctx_err mastodon_parse(const struct config_source *src, const char *cursor,
                              const struct http_response *resp, const char *fetched,
                              struct parse_result *r)
{
    json_t *root = sj_load("mastodon", resp, r);
    if (!root)
        return CTX_EPARSE;
    const json_t *list = json_is_array(root) ? root : json_object_get(root, "statuses");
    json_t *one = NULL;         /* one status (GET /api/v1/statuses/:id, saved by hand) */
    if (!list && json_is_object(root) && json_object_get(root, "id")
        && json_object_get(root, "content"))
        list = one = json_pack("[O]", root);
    if (!json_is_array(list)) {
        const char *err = json_is_object(root) ? sj_str(root, "error") : NULL;
        const char *desc = sj_nstr(root, "error_description");
        if (err)
            return sj_fail(r, root, CTX_EHTTP, "mastodon: %s%s%s", err, desc ? ": " : "",
                           desc ? desc : "");
        return sj_fail(r, root, CTX_EPARSE,
                       "mastodon: expected an array of statuses or {\"statuses\": [...]}");
    }
    char host[256];
    su_source_host(src, resp, host, sizeof host);
    char newest[128] = "";
    if (cursor && strlen(cursor) < sizeof newest)
        strcpy(newest, cursor);
    const json_t *st;
    for (size_t i = 0; (st = sj_next(r, list, &i, "mastodon", "statuses", "statuses"));) {
        char sid[128];
        if (sj_id(st, "id", sid, sizeof sid) && sj_idcmp(sid, newest) > 0)
            strcpy(newest, sid);
        const json_t *rb = json_object_get(st, "reblog");
        mastodon_status(src, json_is_object(rb) ? rb : st, host, fetched, r);
    }
    if (newest[0])
        r->cursor = ctx_strdup(newest);
    json_decref(one);
    json_decref(root);
    return CTX_OK;
}

static ctx_err mastodon_reply_request(const struct config_source *src, const struct reply *rep,
                                      struct source_request *q)
{
    if (!src->token || !src->url)
        return CTX_ECONFIG;
    if (!rep->ref || !*rep->ref || !rep->text || !rep->id)
        return CTX_EINVAL;
    ctx_err e = sq_json_body(q, json_pack("{s:s, s:s, s:s}", "status", rep->text,
                                          "in_reply_to_id", rep->ref, "visibility", "public"));
    if (e)
        return e;
    struct buf url = {0};
    su_base(src, "", &url);
    buf_puts(&url, "/api/v1/statuses");
    e = sq_finish(q, "POST", &url, SQ_JSON, src->token);
    if (!e && (e = source_request_header(q, "Idempotency-Key: %s", rep->id)))
        source_request_clear(q);
    return e;
}

static void mastodon_reply_result(const struct http_response *resp, struct reply_outcome *out)
{
    json_t *root = so_load(resp, out);
    char id[128];
    if (resp->status >= 200 && resp->status < 300 && json_is_object(root)
        && sj_id(root, "id", id, sizeof id)) {
        so_set(out, REPLY_POSTED, NULL);
        snprintf(out->ref, sizeof out->ref, "%s", id);
    } else if (resp->status >= 200 && resp->status < 300) {
        /* posted, most likely, but we cannot tell which status it is: a
         * retry with the same Idempotency-Key will tell without doubling */
        so_set(out, REPLY_RETRY, "mastodon: HTTP %ld without a status id", resp->status);
    } else {
        so_http(out, "mastodon", resp, json_is_object(root) ? sj_nstr(root, "error") : NULL);
    }
    json_decref(root);
}

const struct source_ops mastodon_source_ops = {
    .kind = "mastodon",
    .item_kind = "social",
    .validate = mastodon_validate,
    .next_request = mastodon_next_request,
    .parse = mastodon_parse,
    .reply_request = mastodon_reply_request,
    .reply_result = mastodon_reply_result,
};
