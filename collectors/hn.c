/* hn.c -- the `hn` source kind: Hacker News stories and comments through the
 * Algolia search API (search_by_date), read only.
 *
 * Paging. search_by_date returns the newest hits first; numericFilters bound
 * them by created_at_i. The cursor, written like a query string, is
 *
 *   after=<N>                        every hit up to created_at_i N is read;
 *   after=<N>&until=<U>&top=<M>      catching up: a poll found more hits newer
 *                                    than N than one page holds, so the window
 *                                    (N, U] is still to be read; M is the
 *                                    newest seen and becomes `after` when done.
 *
 * A poll asks for created_at_i>N (and <=U while catching up); a page that
 * says more hits match (nbHits) moves U down to the oldest hit of the page.
 * The window overlaps the previous page by one second so that hits sharing
 * that second are not lost (they are deduplicated by id); if a whole page
 * shares one second, U moves below it to make progress. The first poll has
 * no filter and takes the newest page. Times are capped at the fetch time.
 *
 * Ids are "hn:<objectID>" (the HN item id); the url is the HN discussion.
 * There is no reply: the console offers the link. */
#include "collectors/social_internal.h"

#define HN_BASE  "https://hn.algolia.com"
#define HN_LIMIT "100"

static const char *hn_tags(const struct config_source *src)
{
    if (src->mode && strcmp(src->mode, "story") == 0)
        return "story";
    if (src->mode && strcmp(src->mode, "comment") == 0)
        return "comment";
    return "(story,comment)";
}

static ctx_err hn_validate(const struct config_source *src, char *err, size_t errlen)
{
    ctx_err e = sv_keys(src, "hn", SV_URL | SV_QUERY | SV_MODE, err, errlen);
    if (e)
        return e;
    if (src->mode && strcmp(src->mode, "all") != 0 && strcmp(src->mode, "story") != 0
        && strcmp(src->mode, "comment") != 0) {
        snprintf(err, errlen, "mode: \"%s\" is not an hn mode (all, story or comment)",
                 src->mode);
        return CTX_ECONFIG;
    }
    if (!src->query || !*src->query)
        return sv_missing("query", "hn reads a search", err, errlen);
    return CTX_OK;
}

static ctx_err hn_next_request(const struct config_source *src, const char *cursor,
                               struct source_request *q)
{
    struct buf url = {0};
    ctx_err e = su_base(src, HN_BASE, &url);
    if (!e)
        e = buf_puts(&url, "/api/v1/search_by_date");
    if (!e)
        e = su_param(&url, "query", src->query ? src->query : "");
    if (!e)
        e = su_param(&url, "tags", hn_tags(src));
    if (!e)
        e = su_param(&url, "hitsPerPage", HN_LIMIT);
    long long after, until;
    if (!e && sc_get_ll(cursor, "after", &after)) {
        if (sc_get_ll(cursor, "until", &until))
            e = su_paramf(&url, "numericFilters", "created_at_i>%lld,created_at_i<=%lld",
                          after, until);
        else
            e = su_paramf(&url, "numericFilters", "created_at_i>%lld", after);
    }
    if (!e)
        e = sq_url(q, &url);
    if (!e)
        e = source_request_header(q, "Accept: application/json");
    buf_free(&url);
    return e;
}

static ctx_err hn_hit(const struct config_source *src, const json_t *hit, const char *fetched,
                      struct parse_result *r)
{
    char oid[64];
    if (!sj_id(hit, "objectID", oid, sizeof oid)) {
        si_skip(r, "hn: a hit without an objectID was skipped");
        return CTX_OK;
    }
    struct item it;
    item_init(&it);
    ctx_err e = si_setf(&it.id, "hn:%s", oid);
    if (e || si_seen(r, it.id)) {
        item_clear(&it);
        return e;
    }
    e = si_setf(&it.url, "https://news.ycombinator.com/item?id=%s", oid);
    if (!e)
        e = item_set(&it.author.handle, sj_nstr(hit, "author"));
    if (!e)
        e = si_html(&it.title, sj_str(hit, "title"));
    const char *body = sj_nstr(hit, "comment_text");
    if (!body)
        body = sj_nstr(hit, "story_text");
    if (!e)
        e = si_html(&it.text, body);
    if (!e && !it.text)
        e = item_set(&it.text, it.title);
    double t;
    if (!e)
        e = sj_num(hit, "created_at_i", &t) ? si_published_epoch(&it, t, fetched)
                                            : si_published_str(&it, sj_str(hit, "created_at"),
                                                               fetched);
    if (e) {
        item_clear(&it);
        return e;
    }
    return si_take(r, &it, src, "forum", fetched);
}

static ctx_err hn_parse(const struct config_source *src, const char *cursor,
                        const struct http_response *resp, const char *fetched,
                        struct parse_result *r)
{
    json_t *root = sj_load("hn", resp, r);
    if (!root)
        return CTX_EPARSE;
    const json_t *hits = json_object_get(root, "hits");
    if (!json_is_array(hits)) {
        const char *msg = sj_nstr(root, "message");
        if (msg)
            snprintf(r->error, sizeof r->error, "hn: %s", msg);
        else
            snprintf(r->error, sizeof r->error, "hn: expected {\"hits\": [...]}");
        json_decref(root);
        return msg ? CTX_EHTTP : CTX_EPARSE;
    }
    long long cap = SOCIAL_MAX_TIME, newest = -1, oldest = -1;
    si_date(fetched, &cap);
    ctx_err e = CTX_OK;
    size_t i, n = json_array_size(hits);
    json_t *hit;
    json_array_foreach(hits, i, hit) {
        if (i >= SOCIAL_MAX_ITEMS) {
            si_skip(r, "hn: more than %d hits, the rest skipped", SOCIAL_MAX_ITEMS);
            break;
        }
        if (!json_is_object(hit)) {
            si_skip(r, "hn: hits[%zu] is not an object", i);
            continue;
        }
        long long t;
        if (sj_int(hit, "created_at_i", &t) && t >= 0) {
            if (t > cap)
                t = cap;
            if (t > newest)
                newest = t;
            if (oldest < 0 || t < oldest)
                oldest = t;
        }
        if ((e = hn_hit(src, hit, fetched, r)))
            break;
    }
    long long nbhits = 0, nbpages = 0, after = -1, until = -1, top = -1;
    sj_int(root, "nbHits", &nbhits);
    sj_int(root, "nbPages", &nbpages);
    bool more = n > 0 && oldest >= 0 && (nbhits > (long long)n || nbpages > 1);
    bool have_after = sc_get_ll(cursor, "after", &after);
    bool have_until = have_after && sc_get_ll(cursor, "until", &until);
    if (have_after)
        top = after;
    long long t;
    if (sc_get_ll(cursor, "top", &t) && t > top)
        top = t;
    if (newest > top)
        top = newest;
    struct buf c = {0};
    long long nu = oldest;
    if (have_until && nu >= until)
        nu = until - 1;                 /* a page of one second: step below it */
    if (!e && have_after && more && nu > after) {
        e = sc_put_ll(&c, "after", after);
        if (!e)
            e = sc_put_ll(&c, "until", nu);
        if (!e)
            e = sc_put_ll(&c, "top", top);
    } else if (!e && top >= 0) {
        e = sc_put_ll(&c, "after", top);
    }
    if (!e && buf_len(&c))
        e = sc_finish(&c, r);
    buf_free(&c);
    json_decref(root);
    if (e)
        parse_result_clear(r);
    return e;
}

const struct source_ops hn_source_ops = {
    .kind = "hn",
    .item_kind = "forum",
    .validate = hn_validate,
    .next_request = hn_next_request,
    .parse = hn_parse,
};
