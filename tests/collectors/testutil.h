/* testutil.h -- helpers shared by the collectors' test runners: read a file,
 * walk a TSV table. Header-only (each runner is one .c file).
 *
 * TSV tables: one case per line, columns separated by a tab; blank lines and
 * lines starting with '#' are skipped. Inside a column, \t \n \r \\ and \xHH
 * stand for the byte they name, so any input can be written on one line. */
#ifndef CTX_TESTS_COLLECTORS_TESTUTIL_H
#define CTX_TESTS_COLLECTORS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static char *tu_read(const char *path, size_t *len)
{
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

static int tu_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the escapes of s in place; returns the decoded length. */
static size_t tu_unescape(char *s)
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
static int tu_tsv(const char *path, int mincols, void (*fn)(const struct tu_row *, void *),
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

#endif
