/* discourse.c -- the `discourse` source kind: a Discourse forum's search
 * (posts) or its latest topics, read only.
 *
 * mode "search" reads /search.json?q=<query> order:latest -- matching posts,
 * newest first, 50 a page, with grouped_search_result.more_posts saying
 * whether another page exists. mode "latest" reads
 * /latest.json?order=created -- topics, newest created first, 30 a page, with
 * topic_list.more_topics_url when there are more. (Ordering by creation
 * rather than by last activity means a topic being replied to does not push
 * new topics off the page.)
 *
 * Paging. Post and topic ids grow with creation. The cursor, written like a
 * query string, is
 *
 *   id=<N>                    everything up to id N is read;
 *   id=<N>&top=<M>&page=<P>   catching up: a whole page was newer than N and
 *                             another page exists, so page P is next (search
 *                             pages count from 1, latest.json's from 0); M is
 *                             the newest id seen and becomes `id` when done.
 *
 * Every poll reads from the first page (or page P while catching up); what it
 * reads twice is deduplicated by id downstream, so nothing is filtered here
 * (a post indexed late is still taken). The first poll takes the first page.
 *
 * Ids are "discourse:<forum host>:<post id>" for posts and
 * "discourse:<forum host>:topic:<topic id>" for topics; items are "forum"
 * items; there is no reply (the console offers the link). */
#include "collectors/social_internal.h"

#define DISCOURSE_MAX_PAGE 50   /* how far a catch-up may go before giving up */

static const char *discourse_mode(const struct config_source *src)
{
    if (src->mode)
        return src->mode;
    return src->query ? "search" : "latest";
}

static ctx_err discourse_validate(const struct config_source *src, char *err, size_t errlen)
{
    ctx_err e = sv_keys(src, "discourse", SV_URL | SV_QUERY | SV_MODE, err, errlen);
    if (e)
        return e;
    if (!src->url)
        return sv_missing("url", "the forum's base URL, such as https://meta.discourse.org",
                          err, errlen);
    const char *mode = discourse_mode(src);
    if (strcmp(mode, "search") == 0) {
        if (!src->query || !*src->query)
            return sv_missing("query", "mode search needs search terms", err, errlen);
    } else if (strcmp(mode, "latest") == 0) {
        if (src->query) {
            snprintf(err, errlen, "query: not used in mode latest (use mode search)");
            return CTX_ECONFIG;
        }
    } else {
        snprintf(err, errlen, "mode: \"%s\" is not a discourse mode (search or latest)", mode);
        return CTX_ECONFIG;
    }
    return CTX_OK;
}

static ctx_err discourse_next_request(const struct config_source *src, const char *cursor,
                                      struct source_request *q)
{
    struct buf url = {0};
    su_base(src, "", &url);
    if (strcmp(discourse_mode(src), "search") == 0) {
        buf_puts(&url, "/search.json");
        su_paramf(&url, "q", "%s order:latest", src->query ? src->query : "");
    } else {
        buf_puts(&url, "/latest.json");
        su_param(&url, "order", "created");
    }
    long long page;
    if (sc_get_ll(cursor, "page", &page) && page > 0)
        su_paramf(&url, "page", "%lld", page);
    return sq_finish(q, NULL, &url, NULL, NULL);
}

/* <base>/t/<slug>/<topic>[/<post number>] */
static void discourse_url(struct item *it, const struct config_source *src,
                          const char *slug, long long topic, long long number)
{
    if (!src->url || !su_is_http(src->url))
        return;                 /* ctxctl parse on a file: no forum to link to */
    struct buf u = {0};
    su_base(src, "", &u);
    buf_puts(&u, "/t/");
    su_escape(&u, slug && *slug ? slug : "-");
    buf_printf(&u, "/%lld", topic);
    if (number > 0)
        buf_printf(&u, "/%lld", number);
    free(it->url);
    it->url = buf_detach(&u);
}

static const json_t *discourse_find(const json_t *list, const char *key, long long id)
{
    size_t i;
    json_t *o;
    long long got;
    json_array_foreach(list, i, o) {
        if (i >= SOCIAL_MAX_ITEMS)
            break;
        if (sj_int(o, key, &got) && got == id)
            return o;
    }
    return NULL;
}

/* A post of a search; *id is its id, -1 when it has none. */
static void discourse_post(const struct config_source *src,
                           const json_t *root, const json_t *post, const char *host,
                           const char *fetched, struct parse_result *r, long long *id)
{
    long long topic = 0, number = 0;
    struct item it;
    if (!sj_int(post, "id", id)) {
        si_skip(r, "discourse: a post without an id was skipped");
        *id = -1;
        return;
    }
    if (!si_new(r, &it, "discourse:%s:%lld", host, *id))
        return;
    sj_int(post, "topic_id", &topic);
    sj_int(post, "post_number", &number);
    const json_t *t = discourse_find(json_object_get(root, "topics"), "id", topic);
    si_author(&it, "@", sj_nstr(post, "username"), sj_str(post, "name"), -1);
    si_html(&it.title, sj_str(t, "title"));
    si_html(&it.text, sj_str(post, "blurb"));
    if (topic > 0)
        discourse_url(&it, src, sj_str(t, "slug"), topic, number);
    si_published_str(&it, sj_str(post, "created_at"), fetched);
    si_take(r, &it, src, "forum", fetched);
}

/* A topic of the latest list; *id is its id, -1 when it has none. */
static void discourse_topic(const struct config_source *src,
                            const json_t *root, const json_t *topic, const char *host,
                            const char *fetched, struct parse_result *r, long long *id)
{
    struct item it;
    if (!sj_int(topic, "id", id)) {
        si_skip(r, "discourse: a topic without an id was skipped");
        *id = -1;
        return;
    }
    if (!si_new(r, &it, "discourse:%s:topic:%lld", host, *id))
        return;
    /* the original poster: the poster described so, else the first one */
    const json_t *posters = json_object_get(topic, "posters"), *op = json_array_get(posters, 0);
    size_t i;
    json_t *p;
    json_array_foreach(posters, i, p) {
        const char *d = sj_str(p, "description");
        if (d && strstr(d, "Original Poster")) {
            op = p;
            break;
        }
    }
    long long uid;
    const json_t *user = sj_int(op, "user_id", &uid)
                         ? discourse_find(json_object_get(root, "users"), "id", uid) : NULL;
    if (user)
        si_author(&it, "@", sj_nstr(user, "username"), sj_str(user, "name"), -1);
    si_html(&it.title, sj_str(topic, "title"));
    si_html(&it.text, sj_str(topic, "excerpt"));
    if (!it.text)
        item_set(&it.text, it.title);
    discourse_url(&it, src, sj_str(topic, "slug"), *id, 0);
    si_published_str(&it, sj_str(topic, "created_at"), fetched);
    si_take(r, &it, src, "forum", fetched);
}

static ctx_err discourse_parse(const struct config_source *src, const char *cursor,
                               const struct http_response *resp, const char *fetched,
                               struct parse_result *r)
{
    json_t *root = sj_load("discourse", resp, r);
    if (!root)
        return CTX_EPARSE;
    const json_t *tl = json_object_get(root, "topic_list");
    const json_t *list = json_object_get(root, "posts");
    bool topics = !json_is_array(list) && json_is_array(json_object_get(tl, "topics"));
    if (topics)
        list = json_object_get(tl, "topics");
    if (!json_is_array(list)) {
        const json_t *errs = json_object_get(root, "errors");
        const char *msg = json_string_value(json_array_get(errs, 0));
        bool empty_search = json_is_object(json_object_get(root, "grouped_search_result"));
        if (empty_search && !msg) {     /* a search with no result has no "posts" */
            json_decref(root);
            if (cursor)
                r->cursor = ctx_strdup(cursor);
            return CTX_OK;
        }
        if (msg)
            return sj_fail(r, root, CTX_EHTTP, "discourse: %s", msg);
        return sj_fail(r, root, CTX_EPARSE, "discourse: expected search results or a topic list");
    }
    char host[256];
    su_source_host(src, resp, host, sizeof host);
    long long have, top, page, oldest = -1;
    bool have_id = sc_window_read(cursor, "id", &have, &top);
    long long first = topics ? 0 : 1;    /* latest.json counts pages from 0, search from 1 */
    if (!sc_get_ll(cursor, "page", &page) || page < first)
        page = first;
    size_t i = 0, n = 0;
    const json_t *o;
    while ((o = sj_next(r, list, &i, "discourse", "entries", topics ? "topics" : "posts"))) {
        long long id;
        if (topics)
            discourse_topic(src, root, o, host, fetched, r, &id);
        else
            discourse_post(src, root, o, host, fetched, r, &id);
        if (id < 0 || (topics && json_is_true(json_object_get(o, "pinned"))))
            continue;           /* pinned topics sit on top whatever their age */
        n++;
        if (id > top)
            top = id;
        if (oldest < 0 || id < oldest)
            oldest = id;
    }
    bool more = topics ? sj_nstr(tl, "more_topics_url") != NULL
                       : json_is_true(json_object_get(
                             json_object_get(root, "grouped_search_result"), "more_posts"));
    more = more && have_id && n > 0 && oldest > have && page < DISCOURSE_MAX_PAGE - 1;
    char next[32];
    snprintf(next, sizeof next, "%lld", more ? page + 1 : page);
    sc_window(r, more, "id", have, top, "page", next);
    json_decref(root);
    return CTX_OK;
}

const struct source_ops discourse_source_ops = {
    .kind = "discourse",
    .item_kind = "forum",
    .validate = discourse_validate,
    .next_request = discourse_next_request,
    .parse = discourse_parse,
};
