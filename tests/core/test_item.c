/* test_item.c -- core/item.h's string lists: strings kept as added however
 * the list grows, and the first blocks that strlist_clear() keeps for the
 * thread's next lists handed out clean (a thread that ends frees them: the
 * sanitized build's leak check sees it). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "core/item.h"

/* n strings into l, string k "<prefix>-k", each of len bytes or more. */
static void fill(struct strlist *l, const char *prefix, int n, size_t len)
{
    for (int k = 0; k < n; k++) {
        char s[300];
        int w = snprintf(s, sizeof s, "%s-%d", prefix, k);
        while ((size_t)w < len && (size_t)w + 1 < sizeof s)
            s[w++] = 'x';
        s[w] = '\0';
        strlist_add(l, s);
    }
}

static void check(const struct strlist *l, const char *prefix, int n, size_t len)
{
    assert_int_equal(l->n, n);
    for (int k = 0; k < n; k++) {
        char s[300];
        int w = snprintf(s, sizeof s, "%s-%d", prefix, k);
        assert_int_equal(strncmp(l->v[k], s, (size_t)w), 0);
        assert_true(strlen(l->v[k]) >= len || strlen(l->v[k]) == (size_t)w);
    }
}

/* Lists of each size, cleared in turn and filled again: each keeps its own
 * strings, whether its block is new, kept from a cleared list, or grown. */
static void test_lists(void **state)
{
    (void)state;
    static const struct {
        int n;
        size_t len;
    } shapes[] = {{1, 0}, {3, 0}, {8, 0}, {9, 0}, {2, 100}, {1, 200}, {40, 30}, {0, 0}};
    struct strlist a = {0}, b = {0}, c = {0};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
            size_t j = (i + 1) % (sizeof shapes / sizeof *shapes);
            fill(&a, "a", shapes[i].n, shapes[i].len);
            fill(&b, "b", shapes[j].n, shapes[j].len);
            fill(&c, "c", 2, 0);
            check(&a, "a", shapes[i].n, shapes[i].len);
            check(&b, "b", shapes[j].n, shapes[j].len);
            check(&c, "c", 2, 0);
            assert_true(strlist_has(&c, "c-1"));
            assert_false(strlist_has(&c, "a-0"));
            strlist_add_unique(&c, "c-0");
            assert_int_equal(c.n, 2);
            strlist_clear(&b);
            strlist_clear(&a);
            strlist_clear(&c);
            assert_int_equal(a.n, 0);
            assert_null(a.v);
        }
    }
}

static void *lists_in_thread(void *unused)
{
    (void)unused;
    test_lists(NULL);
    return NULL;
}

static void test_lists_in_threads(void **state)
{
    (void)state;
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, lists_in_thread, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
}

static void test_tags_clear(void **state)
{
    (void)state;
    struct tags t = {0};
    t.score = 0.5;
    t.urgent = true;
    strlist_add(&t.topics, "billing");
    strlist_add(&t.reasons, "delay");
    tags_set_lang(&t, "en");
    tags_clear(&t);
    assert_true(t.score == 0.0);
    assert_false(t.urgent);
    assert_null(t.topics.v);
    assert_null(t.reasons.v);
    assert_null(t.lang);
    strlist_add(&t.topics, "refunds");
    assert_string_equal(t.topics.v[0], "refunds");
    tags_set_lang(&t, "xx-long");
    assert_string_equal(t.lang, "xx-long");
    tags_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_lists_in_threads),
        cmocka_unit_test(test_tags_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
