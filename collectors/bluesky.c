/* bluesky.c -- the `bluesky` source kind: app.bsky.feed.searchPosts, and
 * replies posted as app.bsky.feed.post records.
 *
 * Paging. searchPosts with sort=latest returns the newest posts first and its
 * `cursor` leads further into the past, never towards new posts. New posts are
 * found with `since` (inclusive, compared with the post's sortAt, the earlier
 * of createdAt and indexedAt). So the state kept is time, in a cursor written
 * like a query string:
 *
 *   since=<epoch>                      everything up to that sortAt is read;
 *   since=<epoch>&top=<epoch>&page=C   catching up: a poll found a page of at
 *                                      least BSKY_FULL posts newer than `since`
 *                                      and a cursor, so older pages (the API
 *                                      cursor C) are still to be read down to
 *                                      `since`; `top` is the newest seen.
 *
 * A poll asks for since = <since> - BSKY_OVERLAP seconds (posts indexed late
 * carry an earlier sortAt than what was seen; what is read twice is
 * deduplicated by id), plus cursor=C while catching up. When a page is
 * smaller or has no cursor, the catch-up is over and since becomes top. The
 * first poll takes the newest page and starts from there. The newest time is
 * capped at the fetch time so that a post dated in the future cannot make the
 * source skip everything up to that date.
 *
 * Ids are "bluesky:<at-uri>", stable for the life of a post. Replies need a
 * strong ref (uri and cid) of the post answered and of its thread's root, so
 * reply_to.ref is "<uri>|<cid>" for a post that starts a thread and
 * "<uri>|<cid>|<root uri>|<root cid>" for a reply.
 *
 * Replying. com.atproto.repo.createRecord on the account's PDS with the
 * access JWT as bearer (`token`; creating a session from an app password is
 * not done here); the repo is the JWT's subject (the account's DID). The
 * record key is a TID made from the reply's creation time and its id, so a
 * retried reply targets the same record and cannot appear twice (the PDS
 * refuses a second create of one key). */
#include <stdint.h>
#include "collectors/social_internal.h"

#define BSKY_PUBLIC  "https://public.api.bsky.app"
#define BSKY_PDS     "https://bsky.social"
#define BSKY_LIMIT   100
#define BSKY_FULL    25     /* a page this big may have more behind it: the API's
                               default page size, the least a server will give */
#define BSKY_OVERLAP 60

static ctx_err bluesky_validate(const struct config_source *src, char *err, size_t errlen)
{
    ctx_err e = sv_keys(src, "bluesky", SV_URL | SV_QUERY | SV_MODE | SV_TOKEN, err, errlen);
    if (e)
        return e;
    if (src->mode && strcmp(src->mode, "search") != 0) {
        snprintf(err, errlen, "mode: \"%s\" is not a bluesky mode (search)", src->mode);
        return CTX_ECONFIG;
    }
    if (!src->query || !*src->query)
        return sv_missing("query", "bluesky reads a post search", err, errlen);
    return CTX_OK;
}

static ctx_err bluesky_next_request(const struct config_source *src, const char *cursor,
                                    struct source_request *q)
{
    struct buf url = {0};
    su_base(src, src->token ? BSKY_PDS : BSKY_PUBLIC, &url);
    buf_puts(&url, "/xrpc/app.bsky.feed.searchPosts");
    su_param(&url, "q", src->query ? src->query : "");
    su_param(&url, "sort", "latest");
    su_paramf(&url, "limit", "%d", BSKY_LIMIT);
    long long since;
    if (sc_get_ll(cursor, "since", &since)) {
        char t[CTX_TIME_LEN];
        ctx_time_format(since > BSKY_OVERLAP ? since - BSKY_OVERLAP : 0, t);
        su_param(&url, "since", t);
    }
    char page[512];
    if (sc_get(cursor, "page", page, sizeof page) && *page)
        su_param(&url, "cursor", page);
    return sq_finish(q, NULL, &url, NULL, src->token);
}

/* The post's sortAt: the earlier of createdAt and indexedAt. */
static bool bluesky_sort_at(const json_t *post, const json_t *rec, long long *out)
{
    long long c, i;
    bool hc = si_date(sj_str(rec, "createdAt"), &c);
    bool hi = si_date(sj_str(post, "indexedAt"), &i);
    if (hc && hi)
        *out = c < i ? c : i;
    else if (hc || hi)
        *out = hc ? c : i;
    return hc || hi;
}

/* https://bsky.app/profile/<did>/post/<rkey> for at://<did>/app.bsky.feed.post/<rkey>. */
static void bluesky_web_url(struct item *it, const char *uri)
{
    static const char coll[] = "/app.bsky.feed.post/";
    if (strncmp(uri, "at://", 5) != 0)
        return;
    const char *did = uri + 5, *c = strstr(did, coll);
    if (!c || c == did || !c[sizeof coll - 1] || strchr(c + sizeof coll - 1, '/'))
        return;
    si_setf(&it->url, "https://bsky.app/profile/%.*s/post/%s", (int)(c - did), did,
            c + sizeof coll - 1);
}

static bool bluesky_ref_ok(const char *s)
{
    return s && *s && !strchr(s, '|');
}

static void bluesky_post(const struct config_source *src, const json_t *post,
                         const char *fetched, struct parse_result *r)
{
    const char *uri = sj_nstr(post, "uri");
    struct item it;
    if (!bluesky_ref_ok(uri) || strncmp(uri, "at://", 5) != 0) {
        si_skip(r, "bluesky: a post without an at:// uri was skipped");
        return;
    }
    if (!si_new(r, &it, "bluesky:%s", uri))
        return;
    const json_t *author = json_object_get(post, "author");
    const json_t *rec = json_object_get(post, "record");
    long long f = -1, t;
    sj_int(author, "followersCount", &f);
    si_author(&it, "@", sj_nstr(author, "handle"), sj_str(author, "displayName"), f);
    bluesky_web_url(&it, uri);
    si_plain(&it.text, sj_str(rec, "text"));
    item_set(&it.lang, json_string_value(json_array_get(json_object_get(rec, "langs"), 0)));
    if (!si_date(sj_str(rec, "createdAt"), &t) && !si_date(sj_str(post, "indexedAt"), &t))
        t = -1;
    si_published_epoch(&it, (double)t, fetched);
    const char *cid = sj_nstr(post, "cid");
    const json_t *root = json_object_get(json_object_get(rec, "reply"), "root");
    const char *ruri = sj_nstr(root, "uri"), *rcid = sj_nstr(root, "cid");
    if (bluesky_ref_ok(cid) && bluesky_ref_ok(ruri) && bluesky_ref_ok(rcid)
        && strcmp(ruri, uri) != 0)
        si_reply(&it, "bluesky", "%s|%s|%s|%s", uri, cid, ruri, rcid);
    else if (bluesky_ref_ok(cid))
        si_reply(&it, "bluesky", "%s|%s", uri, cid);
    si_take(r, &it, src, "social", fetched);
}

static ctx_err bluesky_parse(const struct config_source *src, const char *cursor,
                             const struct http_response *resp, const char *fetched,
                             struct parse_result *r)
{
    json_t *root = sj_load("bluesky", resp, r);
    if (!root)
        return CTX_EPARSE;
    const json_t *posts = json_object_get(root, "posts");
    if (!json_is_array(posts)) {
        const char *err = sj_nstr(root, "error"), *msg = sj_nstr(root, "message");
        if (err || msg)
            return sj_fail(r, root, CTX_EHTTP, "bluesky: %s%s%s", err ? err : "error",
                           msg ? ": " : "", msg ? msg : "");
        return sj_fail(r, root, CTX_EPARSE, "bluesky: expected {\"posts\": [...]}");
    }
    long long cap = si_cap(fetched), since, top, t;
    bool have_since = sc_window_read(cursor, "since", &since, &top);
    size_t i = 0;
    const json_t *post;
    while ((post = sj_next(r, posts, &i, "bluesky", "posts", "posts"))) {
        if (bluesky_sort_at(post, json_object_get(post, "record"), &t)) {
            if (t > cap)
                t = cap;
            if (t > top)
                top = t;
        }
        bluesky_post(src, post, fetched, r);
    }
    /* a full page: older pages of the window still to read */
    const char *page = sj_nstr(root, "cursor");
    sc_window(r, have_since && page && json_array_size(posts) >= BSKY_FULL, "since", since, top,
              "page", page);
    json_decref(root);
    return CTX_OK;
}

/* ---- replies ------------------------------------------------------------------- */

/* Decode base64url (no padding needed) into out; -1 on a bad character. */
static long b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    unsigned v = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], d;
        if (c >= 'A' && c <= 'Z') d = c - 'A';
        else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
        else if (c >= '0' && c <= '9') d = c - '0' + 52;
        else if (c == '-' || c == '+') d = 62;
        else if (c == '_' || c == '/') d = 63;
        else if (c == '=') break;
        else return -1;
        v = (v << 6) | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return (long)o;
}

/* The subject (the account's DID) of an access JWT into out. */
static bool bluesky_jwt_sub(const char *jwt, char *out, size_t len)
{
    const char *p = strchr(jwt, '.');
    const char *q = p ? strchr(p + 1, '.') : NULL;
    if (!q)
        return false;
    unsigned char payload[4096];
    long n = b64url_decode(p + 1, (size_t)(q - p - 1), payload, sizeof payload);
    if (n <= 0)
        return false;
    json_error_t je;
    json_t *j = json_loadb((const char *)payload, (size_t)n, 0, &je);
    const char *sub = sj_nstr(j, "sub");
    bool ok = sub && strncmp(sub, "did:", 4) == 0 && strlen(sub) < len;
    if (ok)
        strcpy(out, sub);
    json_decref(j);
    return ok;
}

/* A TID (13 characters of base32-sortable: 53 bits of microseconds since the
 * epoch, 10 bits of clock id) from the reply's creation time, with the
 * microseconds and the clock id taken from a hash of the reply id. */
static void bluesky_tid(long long created, const char *reply_id, char out[14])
{
    static const char alpha[] = "234567abcdefghijklmnopqrstuvwxyz";
    uint64_t h = 1469598103934665603ULL;                  /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)reply_id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    uint64_t us = (uint64_t)created * 1000000u + h % 1000000u;
    uint64_t v = ((us & ((1ULL << 53) - 1)) << 10) | ((h >> 32) & 1023);
    for (int i = 12; i >= 0; i--) {
        out[i] = alpha[v & 31];
        v >>= 5;
    }
    out[13] = '\0';
}

static ctx_err bluesky_reply_request(const struct config_source *src, const struct reply *rep,
                                     struct source_request *q)
{
    char did[256];
    if (!src->token || !bluesky_jwt_sub(src->token, did, sizeof did))
        return CTX_ECONFIG;
    long long created;
    if (!rep->ref || !rep->text || !rep->id || !si_date(rep->created, &created))
        return CTX_EINVAL;
    size_t bars = 0;
    for (const char *p = rep->ref; *p; p++)
        bars += *p == '|';
    if (bars != 1 && bars != 3)
        return CTX_EINVAL;
    char *ref = ctx_strdup(rep->ref);
    char *parts[4];
    int n = 0;
    for (char *s = ref; s; n++) {       /* "uri|cid" or "uri|cid|root uri|root cid" */
        parts[n] = s;
        s = strchr(s, '|');
        if (s)
            *s++ = '\0';
    }
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = ok && *parts[i] != '\0';
    if (!ok) {
        free(ref);
        return CTX_EINVAL;
    }
    char tid[14], when[CTX_TIME_LEN];
    bluesky_tid(created, rep->id, tid);
    ctx_time_format(created, when);
    json_t *parent = json_pack("{s:s, s:s}", "uri", parts[0], "cid", parts[1]);
    json_t *root = n == 4 ? json_pack("{s:s, s:s}", "uri", parts[2], "cid", parts[3])
                          : json_deep_copy(parent);
    json_t *body = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:{s:o, s:o}}}",
                             "repo", did, "collection", "app.bsky.feed.post", "rkey", tid,
                             "record", "$type", "app.bsky.feed.post", "text", rep->text,
                             "createdAt", when, "reply", "root", root, "parent", parent);
    free(ref);
    ctx_err e = sq_json_body(q, body);
    if (e)
        return e;
    struct buf url = {0};
    su_base(src, BSKY_PDS, &url);
    buf_puts(&url, "/xrpc/com.atproto.repo.createRecord");
    return sq_finish(q, "POST", &url, SQ_JSON, src->token);
}

static void bluesky_reply_result(const struct http_response *resp, struct reply_outcome *out)
{
    json_t *root = so_load(resp, out);
    const char *uri = sj_nstr(root, "uri");
    const char *err = sj_nstr(root, "error"), *msg = sj_nstr(root, "message");
    if (resp->status >= 200 && resp->status < 300 && uri) {
        so_set(out, REPLY_POSTED, NULL);
        snprintf(out->ref, sizeof out->ref, "%s", uri);
    } else if (resp->status >= 200 && resp->status < 300) {
        /* the same record key on a retry: no double post */
        so_set(out, REPLY_RETRY, "bluesky: HTTP %ld without a record uri", resp->status);
    } else if (err || msg) {
        so_set(out, so_by_status(resp->status), "bluesky: HTTP %ld: %s%s%s", resp->status,
               err ? err : "", err && msg ? ": " : "", msg ? msg : "");
    } else {
        so_http(out, "bluesky", resp, NULL);
    }
    json_decref(root);
}

const struct source_ops bluesky_source_ops = {
    .kind = "bluesky",
    .item_kind = "social",
    .validate = bluesky_validate,
    .next_request = bluesky_next_request,
    .parse = bluesky_parse,
    .reply_request = bluesky_reply_request,
    .reply_result = bluesky_reply_result,
};
