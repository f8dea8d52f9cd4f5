/* url.c -- URLs: resolving a reference against a base (url_resolve) and
 * feedparser's URI checks (url_safe, url_safe_absolute).
 *
 * The feed walk (feed.c), the JSON Feed reader (jsonfeed.c) and the
 * sanitizer (sanitize.c) all resolve links against xml:base, the
 * Content-Location or the document URL, and all must refuse the same
 * schemes, so both live here. */
#include <stdlib.h>
#include <string.h>
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

/* RFC 3986 remove_dot_segments for an absolute path, appended to out. Each
 * output byte is removed at most once, so this is linear. */
static ctx_err append_path(struct buf *out, const char *path, size_t len)
{
    size_t root = out->len;
    ctx_err e = CTX_OK;
    size_t i = 0;
    while (i < len && !e) {
        size_t j = i + 1;
        while (j < len && path[j] != '/')
            j++;
        const char *seg = path + i + 1;
        size_t slen = j - i - 1;
        if (slen == 1 && seg[0] == '.') {
            if (j == len)
                e = buf_putc(out, '/');
        } else if (slen == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out->len > root && out->p[out->len - 1] != '/')
                out->len--;
            if (out->len > root)
                out->len--;
            out->p[out->len] = '\0';
            if (j == len)
                e = buf_putc(out, '/');
        } else {
            if (!(e = buf_putc(out, '/')))
                e = buf_append(out, seg, slen);
        }
        i = j;
    }
    if (!e && out->len == root)
        e = buf_putc(out, '/');
    return e;
}

char *url_resolve(const char *base, const char *ref)
{
    if (!ref)
        return NULL;
    if (scheme_len(ref) || !base || !scheme_len(base))
        return strdup(ref);
    size_t sl = scheme_len(base);
    const char *auth = base + sl, *auth_end = auth;
    if (auth[0] == '/' && auth[1] == '/') {
        auth_end = auth + 2;
        while (*auth_end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
            auth_end++;
    } else if (ref[0] != '#' && ref[0] != '\0') {
        return strdup(ref);          /* "mailto:", "urn:": nothing to join */
    }
    const char *path = auth_end, *path_end = path;
    while (*path_end && *path_end != '?' && *path_end != '#')
        path_end++;
    const char *query_end = path_end;
    while (*query_end && *query_end != '#')
        query_end++;

    struct buf b = {0};
    ctx_err e = CTX_OK;
    if (ref[0] == '/' && ref[1] == '/') {
        e = buf_append(&b, base, sl);
        if (!e)
            e = buf_puts(&b, ref);
    } else if (ref[0] == '\0' || ref[0] == '#') {
        e = buf_append(&b, base, (size_t)(query_end - base));
        if (!e)
            e = buf_puts(&b, ref);
    } else if (ref[0] == '?') {
        e = buf_append(&b, base, (size_t)(path_end - base));
        if (!e)
            e = buf_puts(&b, ref);
    } else {
        size_t rp = strcspn(ref, "?#");
        e = buf_append(&b, base, (size_t)(auth_end - base));
        if (!e && ref[0] == '/') {
            e = append_path(&b, ref, rp);
        } else if (!e) {
            /* merge: the base path up to its last '/', then ref */
            struct buf m = {0};
            const char *slash = path_end;
            while (slash > path && slash[-1] != '/')
                slash--;
            if (slash == path)
                e = buf_putc(&m, '/');
            else
                e = buf_append(&m, path, (size_t)(slash - path));
            if (!e)
                e = buf_append(&m, ref, rp);
            if (!e)
                e = append_path(&b, m.p, m.len);
            buf_free(&m);
        }
        if (!e)
            e = buf_puts(&b, ref + rp);
    }
    if (e) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
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
        return strdup(url_safe(ref) ? ref : "");
    char *u = url_resolve(base, ref);
    if (!u)
        return NULL;
    const char *p = u + strspn(u, " \t\n\v\f\r\x1c\x1d\x1e\x1f");   /* Python's \\s */
    size_t n = strcspn(p, ":");
    if (!p[n] || !scheme_ok(p, n)) {
        free(u);
        return strdup("");
    }
    return u;
}
