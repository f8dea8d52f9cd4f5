/* vk.c -- the `vk` source kind: VK's newsfeed.search, and replies posted as
 * wall comments (wall.createComment).
 *
 * Paging. newsfeed.search returns posts newest first; start_time bounds them
 * from below (inclusive) and start_from (the next_from of the previous answer)
 * pages further into the past. The cursor, written like a query string, is
 *
 *   since=<N>                       every post up to date N is read;
 *   since=<N>&top=<M>&from=<F>      catching up: the answer had a next page
 *                                   (next_from F), so older posts down to N are
 *                                   still to be read; M is the newest seen and
 *                                   becomes `since` when done.
 *
 * Each poll asks for start_time=N (plus start_from=F while catching up); the
 * post dated N itself is read again and deduplicated by id. The first poll has
 * no start_time (VK then searches the last day) and takes only the newest page.
 * Dates are capped at the fetch time.
 *
 * Errors. VK answers errors with HTTP 200 and {"error": {error_code,
 * error_msg}}: parse returns CTX_EHTTP with "vk: error N: message" so that the
 * scheduler backs off (code 6, too many requests per second, and 29, rate
 * limit reached, are the usual ones), and the cursor is left as it was.
 *
 * Ids are "vk:<owner_id>_<post_id>" (the owner is negative for communities),
 * which is also the wall post's name in its URL, and reply_to.ref is
 * "<owner_id>_<post_id>". The token (a user or service access token) goes in
 * the query string, as VK wants it; it is never logged. Replies send it in
 * the POST body, with guid = the reply id so VK drops a repeated comment. */
#include <limits.h>
#include "collectors/social_internal.h"

#define VK_BASE    "https://api.vk.com"
#define VK_VERSION "5.199"
#define VK_COUNT   "200"

static const char *vk_version(const struct config_source *src)
{
    return src->api_version ? src->api_version : VK_VERSION;
}

static ctx_err vk_validate(const struct config_source *src, char *err, size_t errlen)
{
    ctx_err e = sv_keys(src, "vk", SV_URL | SV_QUERY | SV_MODE | SV_TOKEN | SV_API_VERSION,
                        err, errlen);
    if (e)
        return e;
    if (src->mode && strcmp(src->mode, "search") != 0) {
        snprintf(err, errlen, "mode: \"%s\" is not a vk mode (search)", src->mode);
        return CTX_ECONFIG;
    }
    if (!src->query || !*src->query)
        return sv_missing("query", "vk reads newsfeed.search", err, errlen);
    if (!src->token)
        return sv_missing("token", "newsfeed.search needs a user or service access token; "
                          "or set token_env", err, errlen);
    if (src->api_version) {
        const char *p = src->api_version;
        bool ok = isdigit((unsigned char)*p);
        while (isdigit((unsigned char)*p))
            p++;
        ok = ok && *p == '.' && isdigit((unsigned char)p[1]);
        for (p++; ok && *p; p++)
            ok = isdigit((unsigned char)*p);
        if (!ok) {
            snprintf(err, errlen, "api_version: \"%s\" is not a VK API version such as "
                     VK_VERSION, src->api_version);
            return CTX_ECONFIG;
        }
    }
    return CTX_OK;
}

static ctx_err vk_next_request(const struct config_source *src, const char *cursor,
                               struct source_request *q)
{
    struct buf url = {0};
    su_base(src, VK_BASE, &url);
    buf_puts(&url, "/method/newsfeed.search");
    su_param(&url, "q", src->query ? src->query : "");
    su_param(&url, "extended", "1");
    su_param(&url, "count", VK_COUNT);
    su_param(&url, "fields", "screen_name,followers_count,members_count");
    long long since;
    if (sc_get_ll(cursor, "since", &since))
        su_paramf(&url, "start_time", "%lld", since);
    char from[256];
    if (sc_get(cursor, "from", from, sizeof from) && *from)
        su_param(&url, "start_from", from);
    su_param(&url, "v", vk_version(src));
    su_param(&url, "access_token", src->token ? src->token : "");
    return sq_finish(q, NULL, &url, NULL, NULL);
}

/* The profile (id > 0) or community (id < 0) in the extended answer. */
static const json_t *vk_owner(const json_t *resp, long long id)
{
    const json_t *list = json_object_get(resp, id < 0 ? "groups" : "profiles");
    long long want = id < 0 ? -id : id, got;
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o) {
        if (i >= SOCIAL_MAX_ITEMS)
            break;
        if (sj_int(o, "id", &got) && got == want)
            return o;
    }
    return NULL;
}

/* The author: a profile (id >= 0) or a community (id < 0), as the extended
 * answer describes it; without a screen name, "id<N>" or "club<N>". */
static void vk_author(struct item *it, const json_t *resp, long long id)
{
    const json_t *o = vk_owner(resp, id);
    char handle[32];
    snprintf(handle, sizeof handle, id < 0 ? "club%lld" : "id%lld", id < 0 ? -id : id);
    const char *screen = sj_nstr(o, "screen_name");
    long long f = -1;
    sj_int(o, id < 0 ? "members_count" : "followers_count", &f);
    si_author(it, "", screen ? screen : handle, id < 0 ? sj_str(o, "name") : NULL, f);
    if (id >= 0 && o)
        si_full_name(it, sj_str(o, "first_name"), sj_str(o, "last_name"));
}

/* A VK mention at p ("[id1|Pavel]", "[club1|VK]", "[public1|Page]"): its
 * text and where it ends. Bounded scans, so text full of '[' stays linear. */
static bool vk_mention(const char *p, const char **name, size_t *nlen, const char **end)
{
    static const char *const kinds[] = {"id", "club", "public"};
    const char *q = NULL;
    for (size_t k = 0; k < CTX_ARRAY_LEN(kinds) && !q; k++)
        if (strncmp(p + 1, kinds[k], strlen(kinds[k])) == 0)
            q = p + 1 + strlen(kinds[k]);
    if (!q)
        return false;
    size_t i = 0;
    while (i < 64 && (isalnum((unsigned char)q[i]) || q[i] == '_' || q[i] == '.'))
        i++;
    if (q[i] != '|')
        return false;
    const char *n = q + i + 1;
    size_t j = 0;
    while (j < 256 && n[j] && n[j] != ']' && n[j] != '[' && n[j] != '\n')
        j++;
    if (n[j] != ']')
        return false;
    *name = n;
    *nlen = j;
    *end = n + j + 1;
    return true;
}

/* Post text with mentions read as their text. */
static void vk_text(char **field, const char *s)
{
    struct buf b = {0};
    for (const char *p = s; p && *p;) {
        const char *name, *end;
        size_t n;
        if (*p == '[' && vk_mention(p, &name, &n, &end)) {
            buf_append(&b, name, n);
            p = end;
        } else {
            buf_putc(&b, *p++);
        }
    }
    si_plain(field, s ? buf_str(&b) : NULL);
    buf_free(&b);
}

static void vk_post(const struct config_source *src, const json_t *resp, const json_t *post,
                    const char *fetched, struct parse_result *r)
{
    long long owner, pid, from;
    struct item it;
    if (!sj_int(post, "owner_id", &owner) || !sj_int(post, "id", &pid) || owner == LLONG_MIN) {
        si_skip(r, "vk: a post without owner_id and id was skipped");
        return;
    }
    if (!si_new(r, &it, "vk:%lld_%lld", owner, pid))
        return;
    if (!sj_int(post, "from_id", &from) || from == 0 || from == LLONG_MIN)
        from = owner;
    vk_author(&it, resp, from);
    si_setf(&it.url, "https://vk.com/wall%lld_%lld", owner, pid);
    vk_text(&it.text, sj_str(post, "text"));
    if (!it.text) {             /* a repost without a comment: the reposted text */
        const json_t *copy = json_array_get(json_object_get(post, "copy_history"), 0);
        vk_text(&it.text, sj_str(copy, "text"));
    }
    si_published_num(&it, post, "date", fetched);
    si_reply(&it, "vk", "%lld_%lld", owner, pid);
    si_take(r, &it, src, "social", fetched);
}

/* {"error": {...}} into r->error; true when the body is one. */
static bool vk_error(const json_t *root, char *out, size_t len, long long *code)
{
    const json_t *err = json_object_get(root, "error");
    if (!json_is_object(err))
        return false;
    *code = 0;
    sj_int(err, "error_code", code);
    const char *msg = sj_nstr(err, "error_msg");
    snprintf(out, len, "vk: error %lld: %s", *code, msg ? msg : "(no message)");
    return true;
}

static ctx_err vk_parse(const struct config_source *src, const char *cursor,
                        const struct http_response *resp, const char *fetched,
                        struct parse_result *r)
{
    json_t *root = sj_load("vk", resp, r);
    if (!root)
        return CTX_EPARSE;
    long long code;
    if (vk_error(root, r->error, sizeof r->error, &code)) {
        json_decref(root);
        return CTX_EHTTP;
    }
    const json_t *res = json_object_get(root, "response");
    const json_t *items = json_object_get(res, "items");
    if (!json_is_array(items))
        return sj_fail(r, root, CTX_EPARSE, "vk: expected {\"response\": {\"items\": [...]}}");
    long long cap = si_cap(fetched), since, top, t;
    bool have_since = sc_window_read(cursor, "since", &since, &top);
    size_t i = 0;
    const json_t *post;
    while ((post = sj_next(r, items, &i, "vk", "posts", "items"))) {
        if (sj_int(post, "date", &t) && t >= 0) {
            if (t > cap)
                t = cap;
            if (t > top)
                top = t;
        }
        vk_post(src, res, post, fetched, r);
    }
    const char *next = sj_nstr(res, "next_from");
    sc_window(r, have_since && next && json_array_size(items) > 0, "since", since, top, "from",
              next);
    json_decref(root);
    return CTX_OK;
}

static ctx_err vk_reply_request(const struct config_source *src, const struct reply *rep,
                                struct source_request *q)
{
    if (!src->token)
        return CTX_ECONFIG;
    long long owner, pid;
    char extra;
    if (!rep->ref || !rep->text || !rep->id
        || sscanf(rep->ref, "%lld_%lld%c", &owner, &pid, &extra) != 2)
        return CTX_EINVAL;
    char o[32], p[32];
    snprintf(o, sizeof o, "%lld", owner);
    snprintf(p, sizeof p, "%lld", pid);
    struct buf url = {0};
    su_base(src, VK_BASE, &url);
    buf_puts(&url, "/method/wall.createComment");
    su_form(&q->body, "owner_id", o);
    su_form(&q->body, "post_id", p);
    su_form(&q->body, "message", rep->text);
    su_form(&q->body, "guid", rep->id);
    su_form(&q->body, "v", vk_version(src));
    su_form(&q->body, "access_token", src->token);    /* VK wants it here, not as a header */
    return sq_finish(q, "POST", &url, SQ_FORM, NULL);
}

static void vk_reply_result(const struct http_response *resp, struct reply_outcome *out)
{
    json_t *root = so_load(resp, out);
    long long code, id;
    if (resp->status < 200 || resp->status >= 300) {
        so_http(out, "vk", resp, NULL);
    } else if (vk_error(root, out->error, sizeof out->error, &code)) {
        /* 6: too many requests per second, 9: flood control, 10: internal
         * error, 29: rate limit reached -- worth a later try; the rest
         * (5 authorization, 15 access denied, 100 bad parameter, 213 comments
         * closed, ...) will not get better */
        out->status = code == 6 || code == 9 || code == 10 || code == 29 ? REPLY_RETRY
                                                                         : REPLY_FAILED;
    } else if (sj_int(json_object_get(root, "response"), "comment_id", &id)) {
        so_set(out, REPLY_POSTED, NULL);
        snprintf(out->ref, sizeof out->ref, "%lld", id);
    } else {
        char snip[128];
        so_snippet(resp, snip, sizeof snip);
        /* the guid makes a retry safe */
        so_set(out, REPLY_RETRY, "vk: unexpected answer: %s", snip);
    }
    json_decref(root);
}

const struct source_ops vk_source_ops = {
    .kind = "vk",
    .item_kind = "social",
    .validate = vk_validate,
    .next_request = vk_next_request,
    .parse = vk_parse,
    .reply_request = vk_reply_request,
    .reply_result = vk_reply_result,
};
