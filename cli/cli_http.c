/* cli_http.c -- how ctxctl asks ctxd's HTTP API: one blocking libcurl
 * request to the config's listen address, and the one place its failures
 * are printed ("is ctxd running?", the API's error code and message, an
 * answer that is not JSON). With "auth": true in ctxd's config the token is
 * taken from the CTX_TOKEN environment variable. */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "cli/cli.h"

/* The answer, capped (buf_set_max): over it, curl fails the transfer. */
static size_t collect(char *d, size_t sz, size_t n, void *userp)
{
    return buf_append(userp, d, sz * n) ? 0 : sz * n;
}

/* A non-2xx answer: the API's {"error","message"}, or the body as it came. */
static void print_refusal(long status, const struct buf *answer)
{
    json_t *j = json_loads(buf_str(answer), 0, NULL);
    const char *code = json_string_value(json_object_get(j, "error"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (code) {
        fprintf(stderr, "ctxctl: HTTP %ld: %s: %s%s\n", status, code, msg ? msg : "",
                status == 401 || status == 403
                    ? " (set CTX_TOKEN to a token: ctxctl agent add ID --role viewer)"
                    : "");
    } else {
        size_t n = buf_len(answer);
        fprintf(stderr, "ctxctl: HTTP %ld: %s%s", status, buf_str(answer),
                n && buf_str(answer)[n - 1] == '\n' ? "" : "\n");
    }
    json_decref(j);
}

int cli_api(const char *path, const char *post, struct buf *answer, json_t **json)
{
    if (json)
        *json = NULL;
    struct config *cfg = load_config();
    if (!cfg)
        return 2;
    struct buf url = {0};
    buf_set_max(answer, 64 * 1024 * 1024);     /* ws/api.c's own cap */
    buf_printf(&url, "http://%s%s", cfg->listen, path);
    config_free(cfg);
    CURL *e = curl_easy_init();
    struct curl_slist *h = NULL;
    const char *tok = getenv("CTX_TOKEN");
    if (tok && *tok) {
        struct buf a = {0};
        buf_printf(&a, "Authorization: Bearer %s", tok);
        h = curl_slist_append(h, buf_str(&a));
        buf_free(&a);
    }
    if (post) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
    }
    curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    CURLcode cc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    int rc = 1;
    if (cc != CURLE_OK)
        fprintf(stderr, "ctxctl: %s: %s (is ctxd running?)\n", buf_str(&url),
                curl_easy_strerror(cc));
    else if (status / 100 != 2)
        print_refusal(status, answer);
    else if (json && !(*json = json_loads(buf_str(answer), 0, NULL)))
        fprintf(stderr, "ctxctl: ctxd answered what is not JSON: %.200s\n", buf_str(answer));
    else
        rc = 0;
    buf_free(&url);
    return rc;
}
