/* sources.c -- the table of source kinds. Adding a network is adding its
 * file and one line here. */
#include <string.h>
#include "collectors/collectors.h"
#include "collectors/social_internal.h"

static const struct source_ops *const kinds[] = {
    &feed_source_ops,
    &mastodon_source_ops,
    &reddit_source_ops,
    &bluesky_source_ops,
    &hn_source_ops,
    &vk_source_ops,
    &discourse_source_ops,
    &telegram_source_ops,
};

const struct source_ops *source_ops_find(const char *kind)
{
    for (size_t i = 0; i < CTX_ARRAY_LEN(kinds); i++)
        if (strcmp(kinds[i]->kind, kind) == 0)
            return kinds[i];
    return NULL;
}
