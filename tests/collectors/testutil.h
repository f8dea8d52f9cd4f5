/* testutil.h -- helpers shared by the collectors' test runners: read a file,
 * walk a TSV table, compare JSON as a subset, check UTF-8, a seeded random
 * sequence. Header-only (each runner is one .c file).
 *
 * TSV tables: one case per line, columns separated by a tab; blank lines and
 * lines starting with '#' are skipped. Inside a column, \t \n \r \\ and \xHH
 * stand for the byte they name, so any input can be written on one line. */
#ifndef CTX_TESTS_COLLECTORS_TESTUTIL_H
#define CTX_TESTS_COLLECTORS_TESTUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "collectors/collectors_internal.h"

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static inline char *tu_read(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!b)
        return NULL;
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

static inline int tu_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the escapes of s in place; returns the decoded length. */
static inline size_t tu_unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *o++ = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 't': *o++ = '\t'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case '\\': *o++ = '\\'; break;
        case 'x':
            if (tu_hex(p[1]) >= 0 && tu_hex(p[2]) >= 0) {
                *o++ = (char)(tu_hex(p[1]) * 16 + tu_hex(p[2]));
                p += 2;
                break;
            }
            /* fall through */
        default:
            *o++ = '\\';
            *o++ = *p;
        }
    }
    *o = '\0';
    return (size_t)(o - s);
}

struct tu_row {
    int line;
    int ncols;
    char *col[8];
    size_t len[8];     /* decoded lengths (columns may hold NUL bytes) */
};

/* Call fn for every row of the table at path; returns the number of rows.
 * Fails the test when the file is missing or a row has fewer than mincols
 * columns. */
static inline int tu_tsv(const char *path, int mincols, void (*fn)(const struct tu_row *, void *),
                  void *arg)
{
    char *text = tu_read(path, NULL);
    if (!text)
        fail_msg("cannot read %s (run the tests from the repository root)", path);
    int rows = 0, line = 0;
    char *save = NULL;
    for (char *l = text; l; l = save) {
        save = strchr(l, '\n');
        if (save)
            *save++ = '\0';
        line++;
        if (!*l || *l == '#')
            continue;
        struct tu_row r = {.line = line};
        for (char *c = l; c && r.ncols < 8;) {
            char *tab = strchr(c, '\t');
            if (tab)
                *tab = '\0';
            r.col[r.ncols] = c;
            r.len[r.ncols] = tu_unescape(c);
            r.ncols++;
            c = tab ? tab + 1 : NULL;
        }
        if (r.ncols < mincols)
            fail_msg("%s:%d: %d columns, want %d", path, line, r.ncols, mincols);
        fn(&r, arg);
        rows++;
    }
    free(text);
    return rows;
}

/* Whether want is a subset of got: every member want names is in got with a
 * matching value, recursively; arrays match element by element and in
 * length. On a mismatch path (which starts as the name of what is compared)
 * says where: "items[2].author.name", "extra.entries[length]". */
static inline bool tu_json_subset(const json_t *want, const json_t *got, char *path, size_t cap)
{
    size_t n = strlen(path);
    if (json_is_object(want)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v) {
            snprintf(path + n, cap - n, ".%s", k);
            if (!json_is_object(got) || !tu_json_subset(v, json_object_get(got, k), path, cap))
                return false;
        }
        path[n] = '\0';
        return true;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(got) != json_array_size(want)) {
            snprintf(path + n, cap - n, "[length]");
            return false;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            snprintf(path + n, cap - n, "[%zu]", i);
            if (!tu_json_subset(json_array_get(want, i), json_array_get(got, i), path, cap))
                return false;
        }
        path[n] = '\0';
        return true;
    }
    return got && json_equal((json_t *)want, (json_t *)got);
}

/* Whether s[0..n) is valid UTF-8, as the collectors decode it. */
static inline bool tu_valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        bool bad;
        i += utf8_decode((const unsigned char *)s + i, n - i, &cp, &bad);
        if (bad)
            return false;
    }
    return true;
}

/* The next number of a xorshift sequence: fixed seeds make the mutated
 * inputs of a run the same every time. */
static inline uint64_t tu_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

#endif
