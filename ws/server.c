/* server.c -- the libwebsockets context of the serve role.
 *
 * One vhost on cfg->listen: static pages from cfg->www at "/", dynamic
 * routes (/api, /healthz, /metrics) through the "http" protocol's callback
 * (api.c), and the websocket protocols, chosen by subprotocol name and
 * checked against their path. lws runs on the process's uv loop as a
 * foreign loop; the process's own signal handling stops it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/mem.h"
#include "ws/ws_internal.h"

static struct lws_protocols protocols[] = {
    {"http", api_callback, sizeof(struct http_pss), 0, 0, NULL, 0},
    {"ctx.monitor.v1", monitor_callback, 0, 65536, 0, NULL, 0},
    {"ctx.agent.v1", agent_callback, 0, 65536, 0, NULL, 0},
    {"ctx.chat.v1", chat_callback, 0, 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
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
 * that send no Origin (not browsers) are let through. */
bool serve_origin_ok(const struct serve *s, struct lws *wsi)
{
    char origin[256], host[256];
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
        return true;
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

    static struct lws_http_mount m_files, m_api, m_health, m_metrics;
    m_files = (struct lws_http_mount){
        .mountpoint = "/", .mountpoint_len = 1, .origin = cfg->www, .def = "index.html",
        .origin_protocol = LWSMPRO_FILE, .cache_max_age = 0,
    };
    m_api = (struct lws_http_mount){
        .mount_next = &m_files, .mountpoint = "/api", .mountpoint_len = 4,
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
    info.timeout_secs = 30;
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
