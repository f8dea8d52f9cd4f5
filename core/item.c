/* item.c -- the item model and its JSON form (DESIGN.md, "Item").
 * item_to_json() writes every field of the contract, absent ones as null,
 * so consumers never have to guess whether a key exists. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/item.h"
#include "core/mem.h"

/* A list's first block: FIRST_CAP pointers and FIRST_ROOM bytes. */
#define FIRST_CAP 8
#define FIRST_ROOM 128

/* First blocks of cleared lists, kept by each thread for its next lists:
 * a tagger fills and clears one or two lists a text, and a malloc() and a
 * free() cost more than the rest of adding a tag. The thread's end frees
 * them (spare_key's destructor: TLS is still there while it runs). */
#define SPARES 2
static __thread char **spare[SPARES];
static __thread unsigned nspare;
static __thread bool spare_watched;    /* spare_key set for this thread */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_key_ok;

static void spare_drop(void *unused)
{
    (void)unused;
    while (nspare)
        free(spare[--nspare]);
}

static void spare_key_create(void)
{
    spare_key_ok = pthread_key_create(&spare_key, spare_drop) == 0;
}

/* Keep first block v for the thread's next list; false: free it. */
static bool spare_keep(char **v)
{
    if (nspare == SPARES)
        return false;
    if (!spare_watched) {
        pthread_once(&spare_once, spare_key_create);
        if (!spare_key_ok || pthread_setspecific(spare_key, &spare) != 0)
            return false;
        spare_watched = true;
    }
    spare[nspare++] = v;
    return true;
}

ctx_err strlist_add(struct strlist *l, const char *s)
{
    size_t len = strlen(s) + 1;
    if (l->n == l->cap || l->used + len > l->room) {
        /* a new block: the pointers moved along with their strings */
        size_t cap = l->n < l->cap ? l->cap : l->cap ? l->cap * 2 : FIRST_CAP;
        size_t room = l->room ? l->room : FIRST_ROOM;
        while (room < l->used + len)
            room *= 2;
        char **v = cap == FIRST_CAP && room == FIRST_ROOM && nspare
                       ? spare[--nspare]
                       : ctx_malloc(cap * sizeof *v + room);
        char *to = (char *)(v + cap);
        if (l->v) {             /* (an empty list has no block to offset from) */
            char *from = (char *)(l->v + l->cap);
            memcpy(to, from, l->used);
            for (size_t i = 0; i < l->n; i++)
                v[i] = to + (l->v[i] - from);
            free(l->v);
        }
        l->v = v;
        l->cap = cap;
        l->room = room;
    }
    char *at = (char *)(l->v + l->cap) + l->used;
    memcpy(at, s, len);
    l->used += len;
    l->v[l->n++] = at;
    return CTX_OK;
}

bool strlist_has(const struct strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

ctx_err strlist_add_unique(struct strlist *l, const char *s)
{
    return strlist_has(l, s) ? CTX_OK : strlist_add(l, s);
}

void strlist_clear(struct strlist *l)
{
    /* (a list has a cap only with a block) */
    if (!(l->cap == FIRST_CAP && l->room == FIRST_ROOM && spare_keep(l->v)))
        free(l->v);
    memset(l, 0, sizeof *l);
}

static const char *const label_names[] = {"neutral", "positive", "negative"};

const char *sentiment_label_name(enum sentiment_label l)
{
    return label_names[l];
}

int sentiment_label_parse(const char *s, enum sentiment_label *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, label_names[i]) == 0) {
            *out = (enum sentiment_label)i;
            return 0;
        }
    return -1;
}

enum sentiment_label sentiment_label_of(double score)
{
    if (score >= 0.05)
        return SENT_POSITIVE;
    if (score <= -0.05)
        return SENT_NEGATIVE;
    return SENT_NEUTRAL;
}

/* The language codes tags name most (those the analyzer tells apart), one
 * copy of each for every tags: tags_set_lang() points at it instead of
 * allocating a copy per item, and tags_clear() frees a lang only when it is
 * not one of these. */
static const char known_langs[][4] = {"en", "ru", "uk", "de", "fr", "es"};

static bool lang_owned(const char *lang)
{
    uintptr_t p = (uintptr_t)lang, k = (uintptr_t)known_langs;
    return p - k >= sizeof known_langs;
}

void tags_set_lang(struct tags *t, const char *code)
{
    for (size_t i = 0; i < sizeof known_langs / sizeof *known_langs; i++) {
        const char *k = known_langs[i];
        if (code[0] == k[0] && code[0] && code[1] == k[1] && code[2] == k[2]) {
            t->lang = (char *)k;        /* (never written through) */
            return;
        }
    }
    t->lang = ctx_strdup(code);
}

void tags_clear(struct tags *t)
{
    strlist_clear(&t->topics);
    strlist_clear(&t->brands);
    strlist_clear(&t->reasons);
    if (lang_owned(t->lang))
        free(t->lang);
    free(t->duplicate_of);
    /* a copy of a zeroed one, not memset(): GCC makes that a `rep stos`,
     * slow to start for a struct this small, and the analyzer's callers
     * clear one tags per text */
    static const struct tags none;
    *t = none;
}

static json_t *strlist_json(const struct strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

json_t *tags_to_json(const struct tags *t)
{
    /* four decimals, as VADER prints; keeps JSON short and stable */
    double score = round(t->score * 10000.0) / 10000.0;
    json_t *j = json_pack("{s:{s:f,s:s},s:o,s:o,s:b}",
                          "sentiment", "score", score, "label", sentiment_label_name(t->label),
                          "topics", strlist_json(&t->topics),
                          "brands", strlist_json(&t->brands),
                          "urgent", t->urgent);
    if (j)
        json_object_set_new(j, "complaint",
                            json_pack("{s:f,s:b,s:o}", "score",
                                      round(t->complaint_score * 100.0) / 100.0, "label",
                                      t->complaint, "reasons", strlist_json(&t->reasons)));
    if (j && t->duplicate_of)
        json_object_set_new(j, "duplicate_of", json_string(t->duplicate_of));
    return j;
}

static void strlist_from_json(const json_t *a, struct strlist *l)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (json_is_string(v))
            strlist_add(l, json_string_value(v));
}

void tags_from_json(const json_t *j, struct tags *t)
{
    if (!json_is_object(j))
        return;
    const json_t *sent = json_object_get(j, "sentiment");
    /* scores in their ranges: out of them, tags_to_json() could not write
     * them back (score * 10000 overflows to inf) and the label would lie */
    t->score = fmin(1.0, fmax(-1.0, json_number_value(json_object_get(sent, "score"))));
    const char *lbl = json_string_value(json_object_get(sent, "label"));
    if (!lbl || sentiment_label_parse(lbl, &t->label))
        t->label = sentiment_label_of(t->score);
    const json_t *c = json_object_get(j, "complaint");
    t->complaint_score = fmin(1.0, fmax(0.0, json_number_value(json_object_get(c, "score"))));
    t->complaint = json_is_true(json_object_get(c, "label"));
    t->urgent = json_is_true(json_object_get(j, "urgent"));
    strlist_from_json(json_object_get(j, "topics"), &t->topics);
    strlist_from_json(json_object_get(j, "brands"), &t->brands);
    strlist_from_json(json_object_get(c, "reasons"), &t->reasons);
    const char *lang = json_string_value(json_object_get(j, "lang"));
    const char *dup = json_string_value(json_object_get(j, "duplicate_of"));
    if (lang)
        tags_set_lang(t, lang);
    if (dup)
        t->duplicate_of = ctx_strdup(dup);
}

void item_init(struct item *it)
{
    memset(it, 0, sizeof *it);
    it->author.followers = -1;
}

void item_clear(struct item *it)
{
    char **fields[] = {&it->id, &it->source, &it->kind, &it->url, &it->title,
                       &it->text, &it->lang, &it->published, &it->fetched,
                       &it->reply_network, &it->reply_ref, &it->conversation,
                       &it->author.handle, &it->author.name};
    for (size_t i = 0; i < CTX_ARRAY_LEN(fields); i++)
        free(*fields[i]);
    item_init(it);
}

void item_set(char **field, const char *s)
{
    char *c = s ? ctx_strdup(s) : NULL;
    free(*field);
    *field = c;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *item_to_json(const struct item *it, const struct tags *tags)
{
    json_t *author = json_pack("{s:o,s:o,s:o}",
                               "handle", str_or_null(it->author.handle),
                               "name", str_or_null(it->author.name),
                               "followers", it->author.followers >= 0
                                   ? json_integer(it->author.followers) : json_null());
    json_t *reply = it->reply_network
        ? json_pack("{s:s,s:o}", "network", it->reply_network, "ref", str_or_null(it->reply_ref))
        : json_null();
    json_t *j = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
                          "id", str_or_null(it->id),
                          "source", str_or_null(it->source),
                          "kind", str_or_null(it->kind),
                          "url", str_or_null(it->url),
                          "author", author,
                          "title", str_or_null(it->title),
                          "text", str_or_null(it->text),
                          "lang", str_or_null(it->lang),
                          "published", str_or_null(it->published),
                          "fetched", str_or_null(it->fetched),
                          "reply_to", reply);
    if (j && it->conversation)
        json_object_set_new(j, "conversation", json_string(it->conversation));
    if (j && tags)
        json_object_set_new(j, "tags", tags_to_json(tags));
    return j;
}

static ctx_err get_str(const json_t *obj, const char *key, char **field)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return CTX_OK;
    if (!json_is_string(v))
        return CTX_EPARSE;
    item_set(field, json_string_value(v));
    return CTX_OK;
}

ctx_err item_from_json(const json_t *j, struct item *it)
{
    item_init(it);
    if (!json_is_object(j))
        return CTX_EPARSE;
    struct { const char *key; char **field; } map[] = {
        {"id", &it->id}, {"source", &it->source}, {"kind", &it->kind},
        {"url", &it->url}, {"title", &it->title}, {"text", &it->text},
        {"lang", &it->lang}, {"published", &it->published}, {"fetched", &it->fetched},
        {"conversation", &it->conversation},
    };
    ctx_err e = CTX_OK;
    for (size_t i = 0; !e && i < CTX_ARRAY_LEN(map); i++)
        e = get_str(j, map[i].key, map[i].field);
    const json_t *a = json_object_get(j, "author");
    if (!e && json_is_object(a)) {
        e = get_str(a, "handle", &it->author.handle);
        if (!e)
            e = get_str(a, "name", &it->author.name);
        const json_t *f = json_object_get(a, "followers");
        if (json_is_integer(f))
            it->author.followers = (long)json_integer_value(f);
    }
    const json_t *r = json_object_get(j, "reply_to");
    if (!e && json_is_object(r)) {
        e = get_str(r, "network", &it->reply_network);
        if (!e)
            e = get_str(r, "ref", &it->reply_ref);
    }
    if (!e && !it->id)
        e = CTX_EPARSE;
    if (e)
        item_clear(it);
    return e;
}
