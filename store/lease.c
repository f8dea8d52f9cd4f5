/* lease.c -- one process at a time: the jobs every process could do but one
 * should (the retention sweep, the alerts judge) are guarded by a lease, a
 * string holding its holder's name with an expiry, taken or renewed by
 * lease.lua. A holder that stops renewing loses it when it expires, and the
 * next process to ask takes over. Each job has its typed call
 * (store_retain_lease(), store_alerts_lease(), store_source_lease()) naming
 * its key; this is what they share. Collectors hold one per source, so that
 * several of them split the sources and never poll one twice. */
#include <stdio.h>
#include "store/store_internal.h"

ctx_err store_lease(struct rconn *rc, struct store *st, const char *key, const char *owner,
                    long long ms, rconn_reply_cb cb, void *priv)
{
    char mss[STORE_NUM_LEN];
    const char *keys[] = {key};
    const char *args[] = {owner, store_lld(mss, ms)};
    return STORE_EVAL(rc, st, SCRIPT_LEASE, cb, priv, keys, args);
}

ctx_err store_source_lease(struct rconn *rc, struct store *st, const char *source,
                           const char *owner, long long ms, rconn_reply_cb cb, void *priv)
{
    char what[STORE_KEY_LEN], key[STORE_KEY_LEN];
    snprintf(what, sizeof what, "source:%s", source);
    return store_lease(rc, st, store_key_lease(key, sizeof key, what), owner, ms, cb, priv);
}

ctx_err store_source_lease_release(struct rconn *rc, struct store *st, const char *source,
                                   const char *owner, rconn_reply_cb cb, void *priv)
{
    char what[STORE_KEY_LEN], key[STORE_KEY_LEN];
    snprintf(what, sizeof what, "source:%s", source);
    const char *keys[] = {store_key_lease(key, sizeof key, what)};
    const char *args[] = {owner};
    return STORE_EVAL(rc, st, SCRIPT_LEASE_RELEASE, cb, priv, keys, args);
}
