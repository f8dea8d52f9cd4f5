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
    su_base(src, HN_BASE, &url);
    buf_puts(&url, "/api/v1/search_by_date");
    su_param(&url, "query", src->query ? src->query : "");
    su_param(&url, "tags", hn_tags(src));
    su_param(&url, "hitsPerPage", HN_LIMIT);
    long long after, until;
    if (sc_get_ll(cursor, "after", &after)) {
        if (sc_get_ll(cursor, "until", &until))
            su_paramf(&url, "numericFilters", "created_at_i>%lld,created_at_i<=%lld", after,
                      until);
        else
            su_paramf(&url, "numericFilters", "created_at_i>%lld", after);
    }
    return sq_finish(q, NULL, &url, NULL, NULL);
}

static void hn_hit(const struct config_source *src, const json_t *hit, const char *fetched,
                   struct parse_result *r)
{
    char oid[64];
    struct item it;
    if (!sj_id(hit, "objectID", oid, sizeof oid)) {
        si_skip(r, "hn: a hit without an objectID was skipped");
        return;
    }
    if (!si_new(r, &it, "hn:%s", oid))
        return;
    si_setf(&it.url, "https://news.ycombinator.com/item?id=%s", oid);
    item_set(&it.author.handle, sj_nstr(hit, "author"));
    si_html(&it.title, sj_str(hit, "title"));
    const char *body = sj_nstr(hit, "comment_text");
    si_html(&it.text, body ? body : sj_nstr(hit, "story_text"));
    if (!it.text)
        item_set(&it.text, it.title);
    double t;
    if (sj_num(hit, "created_at_i", &t))
        si_published_epoch(&it, t, fetched);
    else
        si_published_str(&it, sj_str(hit, "created_at"), fetched);
    si_take(r, &it, src, "forum", fetched);
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
            return sj_fail(r, root, CTX_EHTTP, "hn: %s", msg);
        return sj_fail(r, root, CTX_EPARSE, "hn: expected {\"hits\": [...]}");
    }
    long long cap = si_cap(fetched), newest = -1, oldest = -1, t;
    size_t i = 0, n = json_array_size(hits);
    const json_t *hit;
    while ((hit = sj_next(r, hits, &i, "hn", "hits", "hits"))) {
        if (sj_int(hit, "created_at_i", &t) && t >= 0) {
            if (t > cap)
                t = cap;
            if (t > newest)
                newest = t;
            if (oldest < 0 || t < oldest)
                oldest = t;
        }
        hn_hit(src, hit, fetched, r);
    }
    long long nbhits = 0, nbpages = 0, after, until = -1, top;
    sj_int(root, "nbHits", &nbhits);
    sj_int(root, "nbPages", &nbpages);
    bool more = n > 0 && oldest >= 0 && (nbhits > (long long)n || nbpages > 1);
    bool have_after = sc_window_read(cursor, "after", &after, &top);
    bool have_until = have_after && sc_get_ll(cursor, "until", &until);
    if (newest > top)
        top = newest;
    long long nu = oldest;
    if (have_until && nu >= until)
        nu = until - 1;                 /* a page of one second: step below it */
    /* the window's order is after, until, top (not sc_window's) */
    struct buf c = {0};
    if (have_after && more && nu > after) {
        sc_put_ll(&c, "after", after);
        sc_put_ll(&c, "until", nu);
        sc_put_ll(&c, "top", top);
    } else if (top >= 0) {
        sc_put_ll(&c, "after", top);
    }
    sc_finish(&c, r);
    buf_free(&c);
    json_decref(root);
    return CTX_OK;
}

const struct source_ops hn_source_ops = {
    .kind = "hn",
    .item_kind = "forum",
    .validate = hn_validate,
    .next_request = hn_next_request,
    .parse = hn_parse,
};
