/* server.c -- the libwebsockets context of the serve role.
 *
 * One vhost on cfg->listen: static pages from cfg->www at "/" (and
 * Debian's Chart.js at /javascript/chart.js/, for /trends/), dynamic
 * routes (/api, /healthz, /metrics) through the "http" protocol's callback
 * (api.c), and the websocket protocols, chosen by subprotocol name and
 * checked against their path. lws runs on the process's uv loop as a
 * foreign loop; the process's own signal handling stops it.
 *
 * What a request may be is decided here, before lws or a route acts on it,
 * and a refusal is answered with its status (serve_http_admit(),
 * serve_ws_admit()): lws 4.1.6 itself closes without a word a request
 * whose headers overflow its buffer, waits 30 s for the body of a POST
 * without Content-Length, and upgrades a websocket that names no
 * subprotocol to the "http" protocol, which ignores it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/item.h"
#include "core/log.h"
#include "core/mem.h"
#include "ws/ws_internal.h"

/* lws' buffer for a request's headers; past it lws 4.1.6 hangs up without
 * an answer ("Ran out of header data space"), so it is kept well above
 * what is taken. */
#define HEADER_SPACE 16384
#define MAX_HEADERS  8192       /* request line and known headers: 431 past it */
#define MAX_PATH     511        /* no route is longer: 414 past it */
#define MAX_URI      2048       /* path and query: 414 past it */
#define CHARTJS_URL  "/javascript/chart.js"
#define CHARTJS_DIR  "/usr/share/javascript/chart.js"   /* Debian's libjs-chart.js */

static struct lws_protocols protocols[] = {
    {"http", api_callback, sizeof(struct http_pss), 0, 0, NULL, 0},
    {"ctx.monitor.v1", monitor_callback, 0, 65536, 0, NULL, 0},
    {"ctx.agent.v1", agent_callback, 0, 65536, 0, NULL, 0},
    {"ctx.chat.v1", chat_callback, 0, 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Each websocket endpoint and the subprotocol it speaks (protocols[]). */
static const struct { const char *path, *protocol; } ws_paths[] = {
    {"/ws/monitor", "ctx.monitor.v1"},
    {"/ws/agent", "ctx.agent.v1"},
    {"/ws/chat", "ctx.chat.v1"},
};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        log_error("lws: %.*s", (int)n, line);
    else if (level & LLL_WARN)
        log_warn("lws: %.*s", (int)n, line);
    else
        log_debug("lws: %.*s", (int)n, line);
}

/* lws on a foreign loop installs no signal handlers; ctxd's uv_signal
 * watchers stop the loop. This is only called if lws does catch one. */
static void lws_signal(void *handle, int signum)
{
    (void)signum;
    uv_stop(((uv_handle_t *)handle)->loop);
}

/* Websockets from browsers carry an Origin: it must be this server (same
 * host as the Host header) or one of the config's allowed_origins. Clients
 * that send no Origin (not browsers) are let through; one too long to
 * check (a page on a long host name) is not. */
bool serve_origin_ok(const struct serve *s, struct lws *wsi)
{
    char origin[256], host[256];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
        return true;
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0) {
        log_warn("serve: websocket from an origin of %d bytes refused",
                 lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN));
        return false;
    }
    if (s->cfg->allowed_origins) {
        const char *p = s->cfg->allowed_origins;
        size_t ol = strlen(origin);
        while (*p) {
            size_t n = strcspn(p, ", ");
            if (n == ol && strncmp(p, origin, n) == 0)
                return true;
            p += n;
            p += strspn(p, ", ");
        }
    }
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
        return false;
    const char *o = strstr(origin, "://");
    o = o ? o + 3 : origin;
    if (strcmp(o, host) == 0)
        return true;
    log_warn("serve: websocket from origin %s refused", origin);
    return false;
}

/* Answer a refused request at once: a JSON error, then the connection
 * closes (the caller returns non-zero to lws). */
static int serve_refuse(struct lws *wsi, unsigned status, const char *code, const char *msg)
{
    json_t *j = json_pack("{s:s,s:s}", "error", code, "message", msg);
    char *txt = j ? json_dumps(j, CTX_JSON_FLAGS) : NULL;
    json_decref(j);
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                  *end = hdr + sizeof hdr - 1;
    unsigned char body[LWS_PRE + 512];
    int n = snprintf((char *)body + LWS_PRE, sizeof body - LWS_PRE, "%s\n", txt ? txt : "{}");
    free(txt);
    if (n < 0 || (size_t)n >= sizeof body - LWS_PRE ||
        lws_add_http_common_headers(wsi, status, "application/json", (lws_filepos_t)n, &p,
                                    end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
                                     5, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                     (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end) ||
        lws_write(wsi, body + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_FINAL) != n)
        return -1;
    return 0;
}

static int hdr_len(struct lws *wsi, enum lws_token_indexes t)
{
    int n = lws_hdr_total_length(wsi, t);
    return n > 0 ? n : 0;
}

/* At LWS_CALLBACK_FILTER_HTTP_CONNECTION, for every HTTP request: its
 * size, and a body's length. 0 = go on, 1 = refused (answered). */
int serve_http_admit(struct lws *wsi)
{
    static const enum lws_token_indexes methods[] = {
        WSI_TOKEN_GET_URI, WSI_TOKEN_POST_URI, WSI_TOKEN_HEAD_URI, WSI_TOKEN_OPTIONS_URI,
        WSI_TOKEN_PUT_URI, WSI_TOKEN_PATCH_URI, WSI_TOKEN_DELETE_URI,
    };
    int path = 0, all = 0;
    for (size_t i = 0; i < CTX_ARRAY_LEN(methods); i++)
        path += hdr_len(wsi, methods[i]);
    for (int t = 0; t < WSI_TOKEN_COUNT; t++)
        all += hdr_len(wsi, (enum lws_token_indexes)t);
    const char *why = NULL;
    unsigned status = 0;
    if (path > MAX_PATH || path + hdr_len(wsi, WSI_TOKEN_HTTP_URI_ARGS) > MAX_URI) {
        status = 414;
        why = "the URI is too long (a path is at most 511 bytes, with its query 2 KiB)";
    } else if (all > MAX_HEADERS) {
        status = 431;
        why = "the request's headers are too large (at most 8 KiB)";
    }
    if (status)
        return serve_refuse(wsi, status, status == 414 ? "uri_too_long" : "headers_too_large",
                            why) ? -1 : 1;
    bool body = hdr_len(wsi, WSI_TOKEN_POST_URI) || hdr_len(wsi, WSI_TOKEN_PUT_URI) ||
                hdr_len(wsi, WSI_TOKEN_PATCH_URI);
    bool cl = hdr_len(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    char te[32] = "";
    if (hdr_len(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) &&
        lws_hdr_copy(wsi, te, sizeof te, WSI_TOKEN_HTTP_TRANSFER_ENCODING) < 0)
        snprintf(te, sizeof te, "?");
    if (te[0] && cl)        /* which one ends the body? (RFC 9112 6.1: smuggling) */
        return serve_refuse(wsi, 400, "bad_length",
                            "send Content-Length or Transfer-Encoding, not both") ? -1 : 1;
    if (te[0] && strcasecmp(te, "chunked") != 0)
        return serve_refuse(wsi, 501, "transfer_encoding",
                            "of transfer codings only chunked is taken") ? -1 : 1;
    if (body && !cl && !te[0])
        return serve_refuse(wsi, 411, "length_required",
                            "send the body's Content-Length (or send it chunked)") ? -1 : 1;
    return 0;
}

/* At LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: a websocket must be opened on one
 * of ws_paths, naming that path's subprotocol (the first the client names
 * that this server knows is the one lws picks), from an allowed Origin.
 * 0 = go on, 1 = refused (answered). */
int serve_ws_admit(struct serve *s, struct lws *wsi)
{
    char uri[64], list[256], msg[128];
    const char *want = NULL;
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) > 0)
        for (size_t i = 0; i < CTX_ARRAY_LEN(ws_paths); i++)
            if (strcmp(uri, ws_paths[i].path) == 0)
                want = ws_paths[i].protocol;
    if (!want)
        return serve_refuse(wsi, 404, "not_found", "no websocket is served here") ? -1 : 1;
    bool ok = false;
    if (lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL) > 0) {
        char *save = NULL;
        for (char *t = strtok_r(list, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
            if (lws_vhost_name_to_protocol(lws_get_vhost(wsi), t)) {
                ok = strcmp(t, want) == 0;
                break;
            }
    }
    if (!ok) {
        snprintf(msg, sizeof msg, "this endpoint speaks the subprotocol %s", want);
        return serve_refuse(wsi, 400, "subprotocol", msg) ? -1 : 1;
    }
    if (!serve_origin_ok(s, wsi))
        return serve_refuse(wsi, 403, "origin", "websockets from this origin are refused") ? -1
                                                                                          : 1;
    return 0;
}

ctx_err serve_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
                    analyzer *const *an, struct serve **out)
{
    struct serve *s = ctx_calloc(1, sizeof *s);
    s->an = an;
    s->loop = loop;
    s->cfg = cfg;
    s->st = st;
    protocols[1].per_session_data_size = monitor_pss_size();
    protocols[2].per_session_data_size = agent_pss_size();
    protocols[3].per_session_data_size = chat_pss_size();

    ctx_err e = store_conn_new(st, "serve", NULL, NULL, &s->cmd);
    if (!e)
        store_conn_acknowledging(st, s->cmd);
    if (!e)
        e = monitor_new(s, &s->mon);
    if (!e)
        e = agents_new(s, &s->agents);
    if (!e)
        e = chats_new(s, &s->chats);
    if (e) {
        serve_stop(s);
        serve_free(s);
        return e;
    }

    static struct lws_http_mount m_files, m_chartjs, m_api, m_health, m_metrics;
    m_files = (struct lws_http_mount){
        .mountpoint = "/", .mountpoint_len = 1, .origin = cfg->www, .def = "index.html",
        .origin_protocol = LWSMPRO_FILE, .cache_max_age = 0,
    };
    /* Chart.js for /trends/, from Debian's libjs-chart.js (make deps): no CDN */
    m_chartjs = (struct lws_http_mount){
        .mount_next = &m_files, .mountpoint = CHARTJS_URL, .mountpoint_len = sizeof CHARTJS_URL - 1,
        .origin = CHARTJS_DIR, .origin_protocol = LWSMPRO_FILE, .cache_max_age = 86400,
        .cache_reusable = 1, .cache_revalidate = 1,
    };
    m_api = (struct lws_http_mount){
        .mount_next = &m_chartjs, .mountpoint = "/api", .mountpoint_len = 4,
        .origin = "http", .origin_protocol = LWSMPRO_CALLBACK,
    };
    m_health = (struct lws_http_mount){
        .mount_next = &m_api, .mountpoint = "/healthz", .mountpoint_len = 8,
        .origin = "http", .origin_protocol = LWSMPRO_CALLBACK,
    };
    m_metrics = (struct lws_http_mount){
        .mount_next = &m_health, .mountpoint = "/metrics", .mountpoint_len = 8,
        .origin = "http", .origin_protocol = LWSMPRO_CALLBACK,
    };

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    void *foreign[1] = {loop};
    info.foreign_loops = foreign;
    info.options = LWS_SERVER_OPTION_LIBUV |
                   LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
                   LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.signal_cb = lws_signal;
    info.port = cfg->listen_port;
    info.iface = cfg->listen_host;
    info.protocols = protocols;
    info.mounts = &m_metrics;
    info.user = s;
    info.max_http_header_data = HEADER_SPACE;
    info.timeout_secs = 30;
    /* an idle keep-alive connection is closed after a minute, not lws'
     * 5 s: a client whose pool reuses it at 4 s (Node's fetch) raced the
     * close under load and got a reset instead of an answer */
    info.keepalive_timeout = 60;
    info.ka_time = 0;
    info.vhost_name = "ctxd";
    info.pcontext = &s->lws;
    /* ping idle websockets; a peer silent for 30 s more is gone */
    static const lws_retry_bo_t idle = {.secs_since_valid_ping = 15,
                                        .secs_since_valid_hangup = 45};
    info.retry_and_idle_policy = &idle;
    s->lws = lws_create_context(&info);
    if (!s->lws) {
        log_error("serve: cannot listen on %s", cfg->listen);
        serve_stop(s);
        serve_free(s);
        return CTX_EIO;
    }
    log_info("serve: http://%s/ (pages from %s)", cfg->listen, cfg->www);
    *out = s;
    return CTX_OK;
}

void serve_stop(struct serve *s)
{
    if (!s)
        return;
    if (s->lws)
        lws_context_destroy(s->lws);   /* closes connections: callbacks run now */
    monitor_free(s->mon);
    s->mon = NULL;
    agents_free(s->agents);
    s->agents = NULL;
    chats_free(s->chats);
    s->chats = NULL;
    rconn_free(s->cmd);
    s->cmd = NULL;
}

void serve_free(struct serve *s)
{
    if (!s)
        return;
    /* On a foreign loop the first destroy only starts closing lws' handles;
     * once the loop has run them down, a second call frees the context
     * (lws clears s->lws through info.pcontext when it is gone). */
    if (s->lws)
        lws_context_destroy(s->lws);
    free(s);
}
