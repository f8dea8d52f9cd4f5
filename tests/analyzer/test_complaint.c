/* test_complaint.c -- the complaint tag and what carries no sentiment, case
 * by case from tests/data/analyzer/complaint.tsv (text, complaint label,
 * reasons it must include, sentiment label, words it must skip with why),
 * with the shipped lexicons and cues and the brand rules and operator cues
 * of tests/data/analyzer/rules-complaint; and the errors of the cue
 * language from cues_errors.tsv (a file's text, the message it must give).
 * Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>
#include "analyzer/analyzer.h"
#include "tests/analyzer/tsv.h"

#define LEXICONS "etc/lexicons"
#define DATA     "tests/data/analyzer"

static int setup(void **state)
{
    char err[512];
    analyzer *a = analyzer_new(LEXICONS, DATA "/rules-complaint", err, sizeof err);
    if (!a) {
        fprintf(stderr, "analyzer_new: %s\n", err);
        return -1;
    }
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    analyzer_free(*state);
    return 0;
}

/* Is every comma-separated name of want in the array of strings have? */
static int has_all(const char *want, const json_t *have, char *missing, size_t n)
{
    if (strcmp(want, "-") == 0)
        return 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", want);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int found = 0;
        size_t i;
        json_t *v;
        json_array_foreach(have, i, v)
            found |= json_is_string(v) && strcmp(json_string_value(v), w) == 0;
        if (!found) {
            snprintf(missing, n, "%s", w);
            return 0;
        }
    }
    return 1;
}

static void test_cases(void **state)
{
    const analyzer *a = *state;
    struct tsv t = tsv_read(DATA "/complaint.tsv");
    int failed = 0;
    assert_true(t.n >= 30);
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        if (r->n != 5) {
            print_error("complaint.tsv:%d: expected 5 fields, got %d\n", r->line, r->n);
            failed++;
            continue;
        }
        struct item it;
        item_init(&it);
        it.text = r->f[0];
        json_t *ex = NULL;
        assert_int_equal(analyzer_explain(a, &it, &ex), CTX_OK);
        const json_t *tags = json_object_get(ex, "tags");
        const json_t *c = json_object_get(tags, "complaint");
        int label = json_is_true(json_object_get(c, "label"));
        const char *sent =
            json_string_value(json_object_get(json_object_get(tags, "sentiment"), "label"));
        /* the skipped words as "word=as" */
        json_t *skipped = json_array();
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(json_object_get(ex, "sentiment"), "skipped"), k, v) {
            char w[512];
            snprintf(w, sizeof w, "%s=%s", json_string_value(json_object_get(v, "word")),
                     json_string_value(json_object_get(v, "as")));
            json_array_append_new(skipped, json_string(w));
        }
        char missing[512] = "";
        const char *why = NULL;
        if (label != (strcmp(r->f[1], "true") == 0))
            why = "complaint label";
        else if (!has_all(r->f[2], json_object_get(c, "reasons"), missing, sizeof missing))
            why = "reason";
        else if (strcmp(r->f[3], "*") != 0 && strcmp(r->f[3], sent) != 0)
            why = "sentiment label";
        else if (!has_all(r->f[4], skipped, missing, sizeof missing))
            why = "skipped word";
        if (why) {
            char *tj = json_dumps(tags, JSON_COMPACT), *sj = json_dumps(skipped, JSON_COMPACT);
            print_error("complaint.tsv:%d: \"%s\": wrong %s %s: tags %s skipped %s\n", r->line,
                        r->f[0], why, missing, tj, sj);
            free(tj);
            free(sj);
            failed++;
        }
        json_decref(skipped);
        json_decref(ex);
    }
    tsv_free(&t);
    assert_int_equal(failed, 0);
}

/* A cue file with an error is refused by analyzer_rules_check() (and so by
 * `ctxctl rules check`, ctxd's start and its reloads) with file:line:col. */
static void test_errors(void **state)
{
    (void)state;
    struct tsv t = tsv_read(DATA "/cues_errors.tsv");
    int failed = 0;
    assert_true(t.n >= 8);
    char dir[] = "/tmp/ctx-cues-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/x.cues", dir);
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(r->f[0], 1, r->len[0], f);
        fclose(f);
        char err[512] = "";
        ctx_err rc = analyzer_rules_check(dir, err, sizeof err);
        if (rc == CTX_OK || !strstr(err, r->f[1])) {
            print_error("cues_errors.tsv:%d: want \"%s\", got %d \"%s\"\n", r->line, r->f[1],
                        rc, err);
            failed++;
        }
    }
    unlink(path);
    rmdir(dir);
    tsv_free(&t);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
