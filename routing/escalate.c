/* escalate.c -- which tagged items need a person: the config's escalation
 * rules, tried in order, the first match wins. Pure: the item's tags and
 * facts in, a rule index out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/item.h"
#include "routing/routing.h"

static bool any_of(const struct strlist *want, const struct strlist *have)
{
    if (want->n == 0)
        return true;
    for (size_t i = 0; i < want->n; i++)
        if (strlist_has(have, want->v[i]))
            return true;
    return false;
}

static bool lang_match(const char *want, const char *have)
{
    if (!want)
        return true;
    if (!have)
        return false;
    size_t n = strcspn(want, "-_");
    return strncasecmp(want, have, n) == 0 && (have[n] == '\0' || have[n] == '-' ||
                                                have[n] == '_');
}

int escalation_match(const struct config *cfg, const struct tags *tags, const char *lang,
                     long followers, bool duplicate)
{
    for (size_t i = 0; i < cfg->nescalation; i++) {
        const struct config_escalation *r = &cfg->escalation[i];
        enum sentiment_label l;
        if (r->on && strcmp(r->on, "alert") == 0)
            continue;           /* a rule for spike alerts (escalation_match_alert) */
        if (r->sentiment && (sentiment_label_parse(r->sentiment, &l) || l != tags->label))
            continue;
        if (r->max_score < 2 && tags->score > r->max_score)
            continue;
        if (!any_of(&r->topics, &tags->topics) || !any_of(&r->brands, &tags->brands))
            continue;
        if (r->urgent >= 0 && (r->urgent != 0) != tags->urgent)
            continue;
        if (r->complaint >= 0 && (r->complaint != 0) != tags->complaint)
            continue;
        if (!any_of(&r->reasons, &tags->reasons))
            continue;
        if (!lang_match(r->lang, lang ? lang : tags->lang))
            continue;
        if (r->min_followers > 0 && followers < r->min_followers)
            continue;
        if (r->duplicates >= 0 && (r->duplicates != 0) != duplicate)
            continue;
        return (int)i;
    }
    return -1;
}

int escalation_match_alert(const struct config *cfg, const char *series)
{
    for (size_t i = 0; i < cfg->nescalation; i++) {
        const struct config_escalation *r = &cfg->escalation[i];
        if (!r->on || strcmp(r->on, "alert") != 0)
            continue;
        for (size_t k = 0; k < r->series.n; k++) {
            const char *m = r->series.v[k];
            size_t n = strlen(m);
            if (n && m[n - 1] == '*' ? strncmp(series, m, n - 1) == 0 : strcmp(series, m) == 0)
                return (int)i;
        }
    }
    return -1;
}

void routing_queue_from_config(const struct config_queue *qc, struct rt_queue *q,
                               char names[RT_MAX_SKILLS][64])
{
    memset(q, 0, sizeof *q);
    q->name = qc->name;
    q->strategy = strategy_find(qc->strategy ? qc->strategy : "longest-idle");
    q->lang = qc->lang;
    q->offer_timeout = qc->offer_timeout;
    q->wrapup = qc->wrapup;
    q->sla = qc->sla;
    q->aging = qc->aging;
    for (size_t i = 0; i < qc->skills.n && q->nskills < RT_MAX_SKILLS; i++) {
        const char *s = qc->skills.v[i], *colon = strchr(s, ':');
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        snprintf(names[q->nskills], 64, "%.*s", (int)n, s);
        q->skills[q->nskills].name = names[q->nskills];
        q->skills[q->nskills].level = colon ? atoi(colon + 1) : 0;
        q->nskills++;
    }
}
