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
    ctx_err e = su_base(src, "", &url);
    if (!e && strcmp(mastodon_mode(src), "tag") == 0) {
        const char *tag = src->tag && src->tag[0] == '#' ? src->tag + 1 : src->tag;
        e = buf_puts(&url, "/api/v1/timelines/tag/");
        if (!e)
            e = su_escape(&url, tag ? tag : "");
    } else if (!e) {
        e = buf_puts(&url, "/api/v2/search");
        if (!e)
            e = su_param(&url, "q", src->query ? src->query : "");
        if (!e)
            e = su_param(&url, "type", "statuses");
        if (!e)
            e = su_param(&url, "resolve", "false");
    }
    if (!e)
        e = su_param(&url, "limit", MASTODON_LIMIT);
    if (!e && cursor && *cursor)
        e = su_param(&url, "min_id", cursor);
    if (!e)
        e = sq_url(q, &url);
    if (!e)
        e = source_request_header(q, "Accept: application/json");
    if (!e && src->token)
        e = source_request_header(q, "Authorization: Bearer %s", src->token);
    buf_free(&url);
    return e;
}

/* "@user@host": acct lacks the domain for the instance's own users. */
static ctx_err mastodon_author(struct item *it, const json_t *acc, const char *host)
{
    const char *acct = sj_nstr(acc, "acct");
    if (!acct)
        acct = sj_nstr(acc, "username");
    ctx_err e = CTX_OK;
    if (acct)
        e = strchr(acct, '@') ? si_setf(&it->author.handle, "@%s", acct)
                              : si_setf(&it->author.handle, "@%s@%s", acct, host);
    const char *name = sj_nstr(acc, "display_name");
    if (!e)
        e = item_set(&it->author.name, name ? name : sj_nstr(acc, "username"));
    long long f;
    if (sj_int(acc, "followers_count", &f))
        si_followers(it, f);
    return e;
}

static ctx_err mastodon_status(const struct config_source *src, const json_t *st,
                               const char *host, const char *fetched, struct parse_result *r)
{
    char sid[128];
    if (!sj_id(st, "id", sid, sizeof sid)) {
        si_skip(r, "mastodon: a status without an id was skipped");
        return CTX_OK;
    }
    struct item it;
    item_init(&it);
    ctx_err e = si_setf(&it.id, "mastodon:%s:%s", host, sid);
    if (e || si_seen(r, it.id)) {
        item_clear(&it);
        return e;
    }
    const json_t *acc = json_object_get(st, "account");
    if (json_is_object(acc))
        e = mastodon_author(&it, acc, host);
    const char *url = sj_nstr(st, "url");
    if (!e)
        e = item_set(&it.url, url ? url : sj_nstr(st, "uri"));
    if (!e)
        e = si_html(&it.text, sj_str(st, "content"));
    if (!e)
        e = si_plain(&it.title, sj_str(st, "spoiler_text"));  /* the content warning */
    if (!e)
        e = item_set(&it.lang, sj_nstr(st, "language"));
    if (!e)
        e = si_published_str(&it, sj_str(st, "created_at"), fetched);
    if (!e)
        e = item_set(&it.reply_network, "mastodon");
    if (!e)
        e = item_set(&it.reply_ref, sid);
    if (e) {
        item_clear(&it);
        return e;
    }
    return si_take(r, &it, src, "social", fetched);
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
        ctx_err rc = err ? CTX_EHTTP : CTX_EPARSE;
        if (err) {
            const char *desc = sj_nstr(root, "error_description");
            snprintf(r->error, sizeof r->error, "mastodon: %s%s%s", err, desc ? ": " : "",
                     desc ? desc : "");
        } else {
            snprintf(r->error, sizeof r->error,
                     "mastodon: expected an array of statuses or {\"statuses\": [...]}");
        }
        json_decref(root);
        return rc;
    }
    char host[256];
    su_source_host(src, resp, host, sizeof host);
    char newest[128] = "";
    if (cursor && strlen(cursor) < sizeof newest)
        strcpy(newest, cursor);
    ctx_err e = CTX_OK;
    size_t i;
    json_t *st;
    json_array_foreach(list, i, st) {
        if (i >= SOCIAL_MAX_ITEMS) {
            si_skip(r, "mastodon: more than %d statuses, the rest skipped", SOCIAL_MAX_ITEMS);
            break;
        }
        if (!json_is_object(st)) {
            si_skip(r, "mastodon: statuses[%zu] is not an object", i);
            continue;
        }
        char sid[128];
        if (sj_id(st, "id", sid, sizeof sid) && sj_idcmp(sid, newest) > 0)
            strcpy(newest, sid);
        const json_t *rb = json_object_get(st, "reblog");
        if ((e = mastodon_status(src, json_is_object(rb) ? rb : st, host, fetched, r)))
            break;
    }
    if (!e && newest[0])
        r->cursor = ctx_strdup(newest);
    json_decref(one);
    json_decref(root);
    if (e)
        parse_result_clear(r);
    return e;
}

static ctx_err mastodon_reply_request(const struct config_source *src, const struct reply *rep,
                                      struct source_request *q)
{
    if (!src->token || !src->url || !rep->ref || !*rep->ref || !rep->text || !rep->id)
        return !src->token || !src->url ? CTX_ECONFIG : CTX_EINVAL;
    struct buf url = {0};
    ctx_err e = su_base(src, "", &url);
    if (!e)
        e = buf_puts(&url, "/api/v1/statuses");
    if (!e)
        e = sq_url(q, &url);
    buf_free(&url);
    json_t *body = json_pack("{s:s, s:s, s:s}", "status", rep->text, "in_reply_to_id", rep->ref,
                             "visibility", "public");
    if (!e)
        e = sq_json_body(q, body);
    else
        json_decref(body);
    q->method = "POST";
    if (!e)
        e = source_request_header(q, "Accept: application/json");
    if (!e)
        e = source_request_header(q, "Authorization: Bearer %s", src->token);
    if (!e)
        e = source_request_header(q, "Idempotency-Key: %s", rep->id);
    if (e)
        source_request_clear(q);
    return e;
}

static void mastodon_reply_result(const struct http_response *resp, struct reply_outcome *out)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = resp->body && resp->len ? json_loadb(resp->body, resp->len, 0, &je) : NULL;
    if (resp->status >= 200 && resp->status < 300) {
        char id[128];
        if (json_is_object(root) && sj_id(root, "id", id, sizeof id)) {
            so_set(out, REPLY_POSTED, NULL);
            snprintf(out->ref, sizeof out->ref, "%s", id);
        } else {
            /* posted, most likely, but we cannot tell which status it is: a
             * retry with the same Idempotency-Key will tell without doubling */
            so_set(out, REPLY_RETRY, "mastodon: HTTP %ld without a status id", resp->status);
        }
        json_decref(root);
        return;
    }
    const char *err = json_is_object(root) ? sj_nstr(root, "error") : NULL;
    char snip[128];
    so_snippet(resp, snip, sizeof snip);
    so_set(out, so_by_status(resp->status), "mastodon: HTTP %ld: %s", resp->status,
           err ? err : snip);
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
