/* item.h -- the item and its tags: what every module passes around.
 *
 * An item is one post, entry or message, as in DESIGN.md's interface
 * contract. All strings are owned by the item (malloc'd, NUL-terminated
 * UTF-8) and freed by item_clear(); NULL means "absent" (serialised as JSON
 * null). item_to_json() and item_from_json() are exact inverses for every
 * field of the contract. */
#ifndef CTX_ITEM_H
#define CTX_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "core/date.h"
#include "core/ctx.h"

/* A small owned list of strings (topics, brands). Adding cannot fail (out
 * of memory aborts, core/mem.h): the ctx_err is always CTX_OK. The pointers
 * and the strings share one allocation (v, cap pointers, then the strings):
 * a list is one malloc and one free however many strings it holds, which
 * the analyzer, tagging a firehose, notices. A struct strlist may be copied
 * by value to move it. */
struct strlist {
    char **v;
    size_t n, cap;
    size_t used, room;          /* bytes of strings after the pointers: used, there */
};

ctx_err strlist_add(struct strlist *l, const char *s);       /* copies s */
ctx_err strlist_add_unique(struct strlist *l, const char *s); /* no-op if present */
bool strlist_has(const struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);

struct author {
    char *handle;     /* "@ann@mastodon.social", or a feed's author string */
    char *name;       /* display name */
    long followers;   /* -1 when the network does not say */
};

/* Sentiment labels: positive when score >= 0.05, negative when <= -0.05. */
enum sentiment_label { SENT_NEUTRAL = 0, SENT_POSITIVE, SENT_NEGATIVE };
const char *sentiment_label_name(enum sentiment_label l);
int sentiment_label_parse(const char *s, enum sentiment_label *out);
enum sentiment_label sentiment_label_of(double score);

struct tags {
    double score;                 /* VADER-style compound in [-1, 1] */
    enum sentiment_label label;
    struct strlist topics;
    struct strlist brands;
    bool urgent;
    char *lang;                   /* detected language ("en"), or NULL */
    char *duplicate_of;           /* id of an earlier near-identical item, or NULL */
    /* does the post say reality fell short of what its writer expected
     * from the brand, and why (docs/analyzer.md, "Complaints") */
    double complaint_score;       /* 0..1 */
    bool complaint;               /* complaint_score >= 0.5 */
    struct strlist reasons;       /* "delay", "money", ...; strongest first */
};

/* Set t->lang (NULL or not owned before: it is not freed) to language code
 * code: a copy, or the one shared copy of a common code; either way
 * tags_clear() frees it right, and it is never written through. */
void tags_set_lang(struct tags *t, const char *code);
void tags_clear(struct tags *t);
json_t *tags_to_json(const struct tags *t);   /* new reference */
/* The inverse of tags_to_json() (what a consumer of tagged items needs:
 * sentiment, complaint, topics, brands, urgent; lang and duplicate_of too).
 * Scores outside [-1, 1] (sentiment) and [0, 1] (complaint) are clamped.
 * j may be NULL or not an object: then *t is left zeroed. *t must be zeroed
 * or cleared; the caller frees it with tags_clear(). Cannot fail. */
void tags_from_json(const json_t *j, struct tags *t);

struct item {
    char *id;         /* stable and unique across networks: "feed:acme-blog:<guid>" */
    char *source;     /* the configured source's name */
    char *kind;       /* blog, forum, social, messaging */
    char *url;
    struct author author;
    char *title;
    char *text;       /* plain text, HTML stripped, entities decoded */
    char *lang;
    char *published;  /* RFC 3339 UTC */
    char *fetched;    /* RFC 3339 UTC */
    char *reply_network; /* reply_to.network, or NULL when replies are impossible */
    char *reply_ref;     /* reply_to.ref */
    char *conversation;  /* "private" for a one-to-one conversation (a Telegram private
                            chat: routed as a chat, not as a mention), else NULL */
};

void item_init(struct item *it);   /* zero it, followers = -1 */
void item_clear(struct item *it);  /* frees every field, then item_init() */

/* json_dumps() flags for items on the wire and in Redis: compact, and
 * reals with 6 significant digits (0.6433, not 0.64329999999999998). */
#define CTX_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(6))

/* Serialise; tags may be NULL (then "tags" is absent). New reference. */
json_t *item_to_json(const struct item *it, const struct tags *tags);
/* Parse an item (ignoring "tags"); on error *it is left cleared. */
ctx_err item_from_json(const json_t *j, struct item *it);

/* Set *field to a copy of s (or NULL), freeing the old value. */
void item_set(char **field, const char *s);


#endif
