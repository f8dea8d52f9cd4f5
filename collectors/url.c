/* url.c -- URLs: a reference resolved against a base (url_resolve), a
 * URL's host (url_host), and feedparser's URI checks (url_safe,
 * url_safe_absolute).
 *
 * The feed walk (feed.c), the JSON Feed reader (jsonfeed.c) and the
 * sanitizer (sanitize.c) resolve links against xml:base, Content-Location or
 * the document URL, and must refuse the same schemes; the poll scheduler
 * (collect.c) and the social kinds (social_internal.h) need hosts. So all of
 * it is here, and the parsing is libcurl's URL API (curl_url_set with
 * CURLU_NON_SUPPORT_SCHEME, CURLUPART_HOST), the parser that fetches them.
 *
 * What curl cannot do the way feedparser's tests expect is mended around
 * it, each with its reason where it is done: references that name their
 * host and the empty or fragment-only ones are string operations; a base's
 * fragment is dropped and a digit-led "2026:" segment gets "./" before curl
 * sees them; spaces and non-ASCII bytes, which curl 7.88 percent-encodes,
 * travel through it as placeholders. url_safe reads a scheme the way
 * Python's urlsplit does, on references curl would not take at all
 * (relative ones). Everything is linear in the URL's length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "collectors/collectors_internal.h"

/* The schemes feedparser accepts in a URI it keeps. */
static const char *const schemes[] = {
    "aim", "callto", "cvs", "facetime", "feed", "file", "ftp", "git", "gopher", "gtalk",
    "h323", "hdl", "http", "https", "imap", "irc", "irc6", "ircs", "itms", "magnet", "mailto",
    "mms", "msnim", "news", "nntp", "prospero", "rsync", "rtsp", "rtspu", "sftp", "shttp",
    "sip", "sips", "skype", "smb", "snews", "ssh", "svn", "svn+ssh", "telnet", "wais", "ymsg",
};

static bool scheme_known(const char *sch)
{
    for (size_t i = 0; i < CTX_ARRAY_LEN(schemes); i++)
        if (!strcmp(sch, schemes[i]))
            return true;
    return false;
}

/* Length of a URI's scheme including ':' or 0 when it has none. */
static size_t scheme_len(const char *s)
{
    size_t i = 0;
    if (!((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return 0;
    while (s[i] && s[i] != ':') {
        char c = s[i];
        if (!(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9')
              || c == '+' || c == '-' || c == '.'))
            return 0;
        i++;
    }
    return s[i] == ':' ? i + 1 : 0;
}

/* curl's flags for feed URLs: any scheme (feeds link to ftp:, gopher:,
 * feed:...), and spaces tolerated (people type them; curl encodes them). */
#define URL_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_ALLOW_SPACE)

/* Whether curl rewrites byte c of a reference it joins (7.88 percent-encodes
 * spaces and non-ASCII bytes: "\xC3\x80" -> "%c3%80", " " -> "%20" or "+"). */
static bool curl_rewrites(unsigned char c)
{
    return c == ' ' || c >= 0x80;
}

/* curl's URL API allocates with its own malloc; when it says that failed,
 * we abort as core/mem.h does for ours. */
static CURLU *curl_url_new(void)
{
    CURLU *u = curl_url();
    if (!u)
        ctx_oom(0);
    return u;
}

static CURLUcode curl_checked(CURLUcode rc)
{
    if (rc == CURLUE_OUT_OF_MEMORY)
        ctx_oom(0);
    return rc;
}

/* base and ref joined by curl, malloc'd; NULL when curl refuses. */
static char *curl_join(const char *base, const char *ref)
{
    CURLU *u = curl_url_new();
    char *joined = NULL, *out = NULL;
    CURLUcode rc = curl_checked(curl_url_set(u, CURLUPART_URL, base, URL_FLAGS));
    if (!rc)
        rc = curl_checked(curl_url_set(u, CURLUPART_URL, ref, URL_FLAGS));
    if (!rc)
        rc = curl_checked(curl_url_get(u, CURLUPART_URL, &joined, 0));
    curl_url_cleanup(u);
    if (!rc)
        out = ctx_strdup(joined);
    curl_free(joined);
    return out;
}

/* The fallback curl needs for feedparser's behaviour: feedparser keeps a
 * reference's spaces and non-ASCII characters as written (its tests resolve
 * "\xC3\x80" to "http://any.test/\xC3\x80"), curl percent-encodes them. So each
 * run of such bytes goes to curl as a numbered placeholder ("~0~", of a
 * character found in neither URL) and is put back in what curl returns.
 * Placeholders never make a "." or ".." segment, so curl resolves the same
 * structure it would have resolved with the bytes themselves. Linear: one
 * pass to substitute, one to put back. */
static char *curl_join_verbatim(const char *base, const char *ref)
{
    static const char marks[] = "~!*'$,;@";
    const char *m = marks;
    while (*m && (strchr(base, *m) || strchr(ref, *m)))
        m++;
    if (!*m)
        return curl_join(base, ref);     /* no free mark: curl's encoding */
    size_t n = strlen(ref), nrun = 0;
    for (size_t i = 0; i < n; i++)
        nrun += curl_rewrites((unsigned char)ref[i])
                && (i == 0 || !curl_rewrites((unsigned char)ref[i - 1]));
    size_t *runs = ctx_malloc(nrun * sizeof *runs);      /* where each run starts */
    nrun = 0;
    struct buf r = {0}, out = {0};
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool odd = curl_rewrites((unsigned char)ref[i]);
        while (j < n && curl_rewrites((unsigned char)ref[j]) == odd)
            j++;
        if (odd) {
            runs[nrun] = i;
            buf_printf(&r, "%c%zu%c", *m, nrun++, *m);
        } else {
            buf_append(&r, ref + i, j - i);
        }
        i = j;
    }
    char *joined = curl_join(base, buf_str(&r));
    buf_free(&r);
    for (const char *p = joined; p;) {
        const char *q = strchr(p, *m);
        char *end = NULL;
        size_t k = q ? strtoul(q + 1, &end, 10) : 0;
        if (!q || *end != *m || k >= nrun) {
            buf_puts(&out, p);
            break;
        }
        size_t from = runs[k], to = from;
        while (to < n && curl_rewrites((unsigned char)ref[to]))
            to++;
        buf_append(&out, p, (size_t)(q - p));
        buf_append(&out, ref + from, to - from);
        p = end + 1;
    }
    free(runs);
    if (!joined)
        return NULL;
    free(joined);
    return buf_detach(&out);
}

/* a[0..alen) then b, malloc'd. */
static char *concat(const char *a, size_t alen, const char *b)
{
    struct buf o = {0};
    buf_append(&o, a, alen);
    buf_puts(&o, b);
    return buf_detach(&o);
}

char *url_resolve(const char *base, const char *ref)
{
    if (!ref)
        return NULL;
    /* A reference that names its host is used as written (with the base's
     * scheme when it has none): curl would normalise it ("http://h" ->
     * "http://h/"), feedparser does not. A base without a scheme (a relative
     * xml:base with no document URL) resolves nothing. */
    if (scheme_len(ref) || !base || !scheme_len(base))
        return ctx_strdup(ref);
    if (ref[0] == '/' && ref[1] == '/')
        return concat(base, scheme_len(base), ref);
    /* A fallback curl needs: 7.88 resolves "" and "#frag" like
     * "./" (the base's last segment and query dropped), where RFC 3986
     * 5.2.2 keeps the base up to its fragment -- and feeds link to
     * "#anchor" in the same document. A string operation, which also works
     * for bases curl cannot take ("urn:", "mailto:"). */
    if (!*ref || *ref == '#')
        return concat(base, strcspn(base, "#"), ref);
    /* Two more things 7.88 gets wrong, mended in what it is given: it joins
     * a path to a base's fragment ("http://h/a#f/g" + "c" -> "http://h/a#f/c"),
     * and it reads a first segment with a colon ("2026-11-22T08:00:00Z") as a
     * scheme even when that starts with a digit. The base's fragment never
     * matters here, and "./" before such a segment is RFC 3986 section 4.2's
     * own way of writing it. */
    char *b = ctx_strndup(base, strcspn(base, "#"));
    char *r = concat("./", memchr(ref, ':', strcspn(ref, "/?#")) ? 2 : 0, ref);
    bool verbatim = false;
    for (const char *p = ref; *p && !verbatim; p++)
        verbatim = curl_rewrites((unsigned char)*p);
    char *joined = verbatim ? curl_join_verbatim(b, r) : curl_join(b, r);
    free(b);
    free(r);
    /* NULL: a base curl refuses (no authority: "mailto:", "urn:"; a broken
     * host) or a reference it cannot join: nothing to resolve against */
    return joined ? joined : ctx_strdup(ref);
}

bool url_host(const char *url, bool port, char *out, size_t len)
{
    if (!url)
        return false;
    CURLU *u = curl_url_new();
    char *host = NULL, *pt = NULL;
    bool ok = false;
    if (!curl_checked(curl_url_set(u, CURLUPART_URL, url, URL_FLAGS))
        && !curl_checked(curl_url_get(u, CURLUPART_HOST, &host, 0))) {
        if (port)       /* CURLUE_NO_PORT leaves pt NULL */
            curl_checked(curl_url_get(u, CURLUPART_PORT, &pt, 0));
        int n = snprintf(out, len, "%s%s%s", host, pt ? ":" : "", pt ? pt : "");
        ok = n > 0 && (size_t)n < len;
        for (char *p = out; ok && *p; p++)
            *p = (char)((*p >= 'A' && *p <= 'Z') ? *p | 0x20 : *p);
    }
    curl_free(host);
    curl_free(pt);
    curl_url_cleanup(u);
    return ok;
}

static bool scheme_ok(const char *s, size_t n)
{
    char sch[16];
    if (n == 0 || n >= sizeof sch)
        return n == 0;
    memcpy(sch, s, n);
    sch[n] = '\0';
    return scheme_known(sch);
}

bool url_safe(const char *u)
{
    /* as urlsplit reads a scheme: leading C0 controls and spaces stripped,
     * tabs and line ends removed, then letters, digits, "+-." up to ':' */
    char sch[16];
    size_t n = 0;
    const char *p = u;
    while (*p && (unsigned char)*p <= ' ')
        p++;
    for (; *p && *p != ':'; p++) {
        if (*p == '\t' || *p == '\r' || *p == '\n')
            continue;
        if (!(ascii_alnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))
            return true;             /* no scheme: a relative reference */
        if (n == sizeof sch - 1)
            return false;            /* no scheme we accept is that long */
        sch[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p | 0x20 : *p);
    }
    sch[n] = '\0';
    if (*p != ':' || !n || !ascii_alpha((unsigned char)sch[0]))
        return true;
    return scheme_known(sch);
}

char *url_safe_absolute(const char *base, const char *ref)
{
    if (!base || !*base)
        return ctx_strdup(url_safe(ref) ? ref : "");
    char *u = url_resolve(base, ref);
    const char *p = u + strspn(u, " \t\n\v\f\r\x1c\x1d\x1e\x1f");   /* Python's \s */
    size_t n = strcspn(p, ":");
    if (!p[n] || !scheme_ok(p, n)) {
        free(u);
        return ctx_strdup("");
    }
    return u;
}
