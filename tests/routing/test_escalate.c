/* test_escalate.c -- escalation_match() against tests/data/routing/escalate.tsv:
 * sets of rules, each followed by tagged items (JSON as the tagged stream
 * carries them) and the rule each must match. The items are read as the
 * route role reads them (item_from_json, then tags_from_json on "tags"), so
 * the table checks the JSON of the tags as well as the conditions. Run from
 * the repository root. */
#define _GNU_SOURCE     /* mkstemps */
#include <unistd.h>
#include <jansson.h>
#include "core/config.h"
#include "tests/routing/cases.h"

#define DATA "tests/data/routing"

/* Load {"queues":[q, support],"escalation":RULES} through a temporary file. */
static struct config *load_rules(const char *rules, const char *where)
{
    char path[] = "/tmp/ctx-escalate-XXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "{\"queues\":[{\"name\":\"q\"},{\"name\":\"support\"}],\"escalation\":%s}", rules);
    fclose(f);
    struct config *cfg = NULL;
    char err[512];
    if (config_load(path, &cfg, err, sizeof err) != CTX_OK)
        fail_msg("%s: the rules do not load: %s", where, err);
    unlink(path);
    return cfg;
}

/* The name of the rule the item matches, "-" for none, or NULL if the item
 * is not an item. */
static const char *match(const struct config *cfg, const char *doc)
{
    json_t *j = json_loads(doc, 0, NULL);
    struct item it;
    struct tags tags = {0};
    const char *got = NULL;
    if (j && item_from_json(j, &it) == CTX_OK) {
        tags_from_json(json_object_get(j, "tags"), &tags);
        int rule = escalation_match(cfg, &tags, it.lang, it.author.followers,
                                    tags.duplicate_of != NULL);
        got = rule < 0 ? "-" : cfg->escalation[rule].name ? cfg->escalation[rule].name : "?";
        item_clear(&it);
    }
    tags_clear(&tags);
    json_decref(j);
    return got;
}

static void test_table(void **state)
{
    (void)state;
    const char *path = DATA "/escalate.tsv";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rows = 0, sets = 0, failed = 0;
    struct config *cfg = NULL;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t'), where[300];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!tab)
            fail_msg("%s: expected WANT<tab>JSON", where);
        *tab = '\0';
        const char *want = line, *doc = tab + 1;
        if (strcmp(want, "rules") == 0) {
            config_free(cfg);
            cfg = load_rules(doc, where);
            sets++;
            continue;
        }
        if (!cfg)
            fail_msg("%s: a case before any rules line", where);
        const char *got = match(cfg, doc);
        rows++;
        if (!got || strcmp(got, want) != 0) {
            print_error("%s: want rule %s, got %s\n", where, want, got ? got : "(not an item)");
            failed++;
        }
    }
    config_free(cfg);
    free(line);
    fclose(f);
    assert_true(sets >= 4);
    assert_true(rows >= 25);
    assert_int_equal(failed, 0);
}

/* The tags the route role reads are the tags the analyzer wrote:
 * tags_to_json() then tags_from_json() keeps every field a rule looks at. */
static void test_tags_round_trip(void **state)
{
    (void)state;
    struct tags t = {0}, back = {0};
    t.score = -0.62;
    t.label = SENT_NEGATIVE;
    t.urgent = true;
    t.complaint_score = 0.91;
    t.complaint = true;
    assert_int_equal(strlist_add(&t.reasons, "delay"), CTX_OK);
    assert_int_equal(strlist_add(&t.reasons, "money"), CTX_OK);
    assert_int_equal(strlist_add(&t.topics, "outage"), CTX_OK);
    assert_int_equal(strlist_add(&t.brands, "acme"), CTX_OK);
    item_set(&t.duplicate_of, "feed:x:1");
    json_t *j = tags_to_json(&t);
    assert_non_null(j);
    tags_from_json(j, &back);
    assert_true(back.score > -0.6201 && back.score < -0.6199);
    assert_int_equal(back.label, SENT_NEGATIVE);
    assert_true(back.urgent);
    assert_true(back.complaint);
    assert_true(back.complaint_score > 0.9099 && back.complaint_score < 0.9101);
    assert_int_equal(back.reasons.n, 2);
    assert_string_equal(back.reasons.v[0], "delay");
    assert_string_equal(back.reasons.v[1], "money");
    assert_true(strlist_has(&back.topics, "outage"));
    assert_true(strlist_has(&back.brands, "acme"));
    assert_string_equal(back.duplicate_of, "feed:x:1");
    json_decref(j);
    tags_clear(&t);
    tags_clear(&back);
    /* no tags at all: zeroed, not an error */
    tags_from_json(NULL, &back);
    assert_false(back.complaint);
    assert_int_equal(back.reasons.n, 0);
    tags_clear(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_tags_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
