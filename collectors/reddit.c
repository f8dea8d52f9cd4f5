/* reddit.c -- the `reddit` source kind: new posts of a subreddit or a search,
 * and replies posted as comments.
 *
 * Reading. mode "new" reads /r/<sub>/new.json, mode "search" reads
 * /search.json?sort=new (or /r/<sub>/search.json?restrict_sr=1 when a
 * subreddit is given too). Without a token the public www.reddit.com JSON is
 * read; with one (an OAuth bearer token) https://oauth.reddit.com. raw_json=1
 * asks for text without HTML entity escaping.
 *
 * Paging. A listing pages with `before`: before=<fullname> returns the
 * entries just newer than that one, newest first. The cursor is
 * "before=<fullname of the newest entry seen>"; each poll takes the next page
 * after it, so a burst bigger than a page is read over several polls without
 * a gap. The first poll sends no `before` and takes the newest page. One trap:
 * when the anchor entry is deleted or removed, `before` returns nothing for
 * ever. So the cursor also counts empty answers ("&empty=N") and after
 * REDDIT_REANCHOR empty polls in a row the next poll leaves `before` out and
 * re-anchors on the newest page (what it re-reads is deduplicated by id).
 *
 * Ids are "reddit:<fullname>" (t3_... for posts, t1_... for comments), the
 * fullname also being what a reply needs (thing_id).
 *
 * Replying. POST /api/comment (form-encoded thing_id and text, api_type=json)
 * with the bearer token. Reddit reports most failures with HTTP 200 and a
 * json.errors list ([code, message, field]); RATELIMIT is a retry later, the
 * rest are final. Reddit has no idempotency key: a reply whose answer is lost
 * can be posted twice when retried. */
#include "collectors/social_internal.h"

#define REDDIT_LIMIT    "100"
#define REDDIT_REANCHOR 5
#define REDDIT_WWW      "https://www.reddit.com"
#define REDDIT_OAUTH    "https://oauth.reddit.com"

static const char *reddit_mode(const struct config_source *src)
{
    if (src->mode)
        return src->mode;
    return src->query ? "search" : "new";
}

/* "r/foo", "/r/foo/" and "foo" all name foo. */
static void reddit_sub(const char *s, char *out, size_t len)
{
    while (*s == '/')
        s++;
    if ((s[0] == 'r' || s[0] == 'R') && s[1] == '/')
        s += 2;
    size_t n = strcspn(s, "/");
    if (n >= len)
        n = len - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static ctx_err reddit_validate(const struct config_source *src, char *err, size_t errlen)
{
    ctx_err e = sv_keys(src, "reddit", SV_URL | SV_QUERY | SV_SUBREDDIT | SV_MODE | SV_TOKEN,
                        err, errlen);
    if (e)
        return e;
    if (src->subreddit) {
        char sub[128];
        reddit_sub(src->subreddit, sub, sizeof sub);
        bool ok = *sub && strlen(sub) < 100;
        for (const char *p = sub; *p && ok; p++)
            ok = isalnum((unsigned char)*p) || *p == '_' || *p == '+';
        if (!ok) {
            snprintf(err, errlen, "subreddit: \"%s\" is not a subreddit name", src->subreddit);
            return CTX_ECONFIG;
        }
    }
    const char *mode = reddit_mode(src);
    if (strcmp(mode, "new") == 0) {
        if (!src->subreddit)
            return sv_missing("subreddit", "mode new reads a subreddit's new posts", err, errlen);
        if (src->query) {
            snprintf(err, errlen, "query: not used in mode new (use mode search)");
            return CTX_ECONFIG;
        }
    } else if (strcmp(mode, "search") == 0) {
        if (!src->query || !*src->query)
            return sv_missing("query", "mode search needs search terms", err, errlen);
    } else {
        snprintf(err, errlen, "mode: \"%s\" is not a reddit mode (new or search)", mode);
        return CTX_ECONFIG;
    }
    return CTX_OK;
}

static ctx_err reddit_next_request(const struct config_source *src, const char *cursor,
                                   struct source_request *q)
{
    struct buf url = {0};
    char sub[128] = "";
    if (src->subreddit)
        reddit_sub(src->subreddit, sub, sizeof sub);
    su_base(src, src->token ? REDDIT_OAUTH : REDDIT_WWW, &url);
    bool search = strcmp(reddit_mode(src), "search") == 0;
    if (*sub)
        buf_printf(&url, "/r/%s", sub);
    buf_puts(&url, search ? "/search.json" : "/new.json");
    if (search) {
        su_param(&url, "q", src->query ? src->query : "");
        su_param(&url, "sort", "new");
        if (*sub)
            su_param(&url, "restrict_sr", "1");
    }
    su_param(&url, "limit", REDDIT_LIMIT);
    su_param(&url, "raw_json", "1");
    char before[128];
    long long empty = 0;
    sc_get_ll(cursor, "empty", &empty);
    if (sc_get(cursor, "before", before, sizeof before) && *before && empty < REDDIT_REANCHOR)
        su_param(&url, "before", before);
    return sq_finish(q, NULL, &url, NULL, src->token);
}

/* The entry's fullname into name ("" when it is not a post or a comment). */
static void reddit_entry(const struct config_source *src, const json_t *child,
                         const char *fetched, struct parse_result *r, char *name, size_t nlen)
{
    const char *kind = sj_str(child, "kind");
    const json_t *d = json_object_get(child, "data");
    name[0] = '\0';
    if (!kind || !json_is_object(d) || (strcmp(kind, "t3") != 0 && strcmp(kind, "t1") != 0))
        return;                 /* "more" stubs and the like */
    if (!sj_id(d, "name", name, nlen)) {
        char id[64];
        if (!sj_id(d, "id", id, sizeof id)) {
            si_skip(r, "reddit: an entry without a name was skipped");
            return;
        }
        snprintf(name, nlen, "%s_%s", kind, id);
    }
    struct item it;
    if (!si_new(r, &it, "reddit:%s", name))
        return;
    si_author(&it, "u/", sj_nstr(d, "author"), NULL, -1);
    const char *permalink = sj_nstr(d, "permalink");
    const char *link = sj_nstr(d, "link_id");
    char id[64];
    if (permalink && (permalink[0] == '/' || su_is_http(permalink))) {
        size_t n = strcspn(permalink, "?#");    /* "?ref=search_posts" and the like */
        si_setf(&it.url, "%s%.*s", permalink[0] == '/' ? REDDIT_WWW : "", (int)n, permalink);
    } else if (kind[1] == '1' && link && strncmp(link, "t3_", 3) == 0
               && sj_id(d, "id", id, sizeof id)) {  /* old comments have no permalink */
        si_setf(&it.url, REDDIT_WWW "/comments/%s/_/%s", link + 3, id);
    }
    if (kind[1] == '3') {
        si_plain(&it.title, sj_str(d, "title"));
        si_plain(&it.text, sj_str(d, "selftext"));
        if (!it.text)
            item_set(&it.text, it.title);
    } else {
        si_plain(&it.title, sj_str(d, "link_title"));
        si_plain(&it.text, sj_str(d, "body"));
    }
    si_published_num(&it, d, "created_utc", fetched);
    si_reply(&it, "reddit", "%s", name);
    si_take(r, &it, src, "social", fetched);
}

static ctx_err reddit_parse(const struct config_source *src, const char *cursor,
                            const struct http_response *resp, const char *fetched,
                            struct parse_result *r)
{
    json_t *root = sj_load("reddit", resp, r);
    if (!root)
        return CTX_EPARSE;
    const json_t *data = json_object_get(root, "data");
    const json_t *children = json_object_get(data, "children");
    if (!json_is_array(children)) {
        const char *msg = json_is_object(root) ? sj_nstr(root, "message") : NULL;
        long long code = 0;
        bool coded = json_is_object(root) && sj_int(root, "error", &code);
        if (msg || coded)
            return sj_fail(r, root, CTX_EHTTP, "reddit: error %lld: %s", code,
                           msg ? msg : "(no message)");
        return sj_fail(r, root, CTX_EPARSE, "reddit: expected a Listing");
    }
    char first[128] = "";
    size_t i;
    json_t *child;
    json_array_foreach(children, i, child) {
        if (i >= SOCIAL_MAX_ITEMS) {
            si_skip(r, "reddit: more than %d entries, the rest skipped", SOCIAL_MAX_ITEMS);
            break;
        }
        char name[128];
        reddit_entry(src, child, fetched, r, name, sizeof name);
        if (!first[0] && name[0])
            strcpy(first, name);
    }
    /* the newest entry anchors the next poll; with none, the anchor stays and
     * the empty answers are counted (see the top of the file) */
    struct buf c = {0};
    char before[128];
    long long empty = 0;
    if (first[0]) {
        sc_put(&c, "before", first);
    } else if (sc_get(cursor, "before", before, sizeof before) && *before) {
        sc_get_ll(cursor, "empty", &empty);
        sc_put(&c, "before", before);
        sc_put_ll(&c, "empty", empty < REDDIT_REANCHOR ? empty + 1 : REDDIT_REANCHOR);
    }
    sc_finish(&c, r);
    buf_free(&c);
    json_decref(root);
    return CTX_OK;
}

static ctx_err reddit_reply_request(const struct config_source *src, const struct reply *rep,
                                    struct source_request *q)
{
    if (!src->token)
        return CTX_ECONFIG;
    if (!rep->ref || strncmp(rep->ref, "t", 1) != 0 || !strchr(rep->ref, '_') || !rep->text)
        return CTX_EINVAL;
    struct buf url = {0};
    su_base(src, REDDIT_OAUTH, &url);
    buf_puts(&url, "/api/comment");
    su_form(&q->body, "api_type", "json");
    su_form(&q->body, "thing_id", rep->ref);
    su_form(&q->body, "text", rep->text);
    return sq_finish(q, "POST", &url, SQ_FORM, src->token);
}

/* "... try again in 5 minutes." / "in 9 seconds" -> seconds, 0 when not said. */
static double reddit_wait(const char *msg)
{
    const char *p = msg ? strstr(msg, " in ") : NULL;
    if (!p)
        return 0;
    char *end;
    double n = strtod(p + 4, &end);
    if (end == p + 4 || n <= 0 || n > 86400)
        return 0;
    while (*end == ' ')
        end++;
    if (strncmp(end, "minute", 6) == 0)
        n *= 60;
    else if (strncmp(end, "hour", 4) == 0)
        n *= 3600;
    else if (strncmp(end, "millisecond", 11) == 0)
        n /= 1000;
    return n;
}

static void reddit_reply_result(const struct http_response *resp, struct reply_outcome *out)
{
    json_t *root = so_load(resp, out);
    const json_t *j = json_object_get(root, "json");
    const json_t *errors = json_object_get(j, "errors");
    const json_t *first = json_array_get(errors, 0);
    if (resp->status >= 200 && resp->status < 300 && json_is_object(j)) {
        if (first) {
            const char *code = json_string_value(json_array_get(first, 0));
            const char *msg = json_string_value(json_array_get(first, 1));
            bool limit = code && strcmp(code, "RATELIMIT") == 0;
            so_set(out, limit ? REPLY_RETRY : REPLY_FAILED, "reddit: %s: %s",
                   code ? code : "error", msg ? msg : "");
            double ra;
            if (limit)
                out->retry_after = sj_num(j, "ratelimit", &ra) && ra > 0 && ra < 86400
                                       ? ra : reddit_wait(msg);
        } else {
            const json_t *thing = json_array_get(
                json_object_get(json_object_get(j, "data"), "things"), 0);
            char name[128];
            so_set(out, REPLY_POSTED, NULL);
            if (sj_id(json_object_get(thing, "data"), "name", name, sizeof name))
                snprintf(out->ref, sizeof out->ref, "%s", name);
        }
    } else if (resp->status >= 200 && resp->status < 300) {
        char snip[128];
        so_snippet(resp, snip, sizeof snip);
        so_set(out, REPLY_FAILED, "reddit: unexpected answer: %s", snip);
    } else {
        so_http(out, "reddit", resp, json_is_object(root) ? sj_nstr(root, "message") : NULL);
    }
    json_decref(root);
}

const struct source_ops reddit_source_ops = {
    .kind = "reddit",
    .item_kind = "social",
    .validate = reddit_validate,
    .next_request = reddit_next_request,
    .parse = reddit_parse,
    .reply_request = reddit_reply_request,
    .reply_result = reddit_reply_result,
};
