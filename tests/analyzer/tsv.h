/* tsv.h -- the case tables of the analyzer tests (the .tsv files of
 * tests/data/analyzer).
 *
 * One case per line, fields separated by tabs; lines starting with '#' and
 * blank lines are skipped. Fields may use the escapes \t, \n, \r, \\ and
 * \xNN (any byte, so invalid UTF-8 can be written down). Header-only: each
 * test program is one file linked against libctx.a. */
#ifndef CTX_TESTS_ANALYZER_TSV_H
#define CTX_TESTS_ANALYZER_TSV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"

#define TSV_MAX_FIELDS 8

struct tsv_row {
    char *f[TSV_MAX_FIELDS];   /* unescaped, NUL-terminated */
    size_t len[TSV_MAX_FIELDS];
    int n;                     /* fields present */
    int line;
};

struct tsv {
    struct tsv_row *rows;
    size_t n;
};

static int tsv_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Unescape s in place; returns the new length (a \x00 stays a byte). */
static size_t tsv_unescape(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
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
            if (tsv_hex(p[1]) >= 0 && tsv_hex(p[2]) >= 0) {
                *o++ = (char)(tsv_hex(p[1]) * 16 + tsv_hex(p[2]));
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

/* Read path; exits the test program on I/O errors (a missing table is a
 * broken test, not a failed case). */
static struct tsv tsv_read(const char *path)
{
    struct tsv t = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    char *line = NULL;
    size_t cap = 0, rcap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (t.n == rcap) {
            rcap = rcap ? rcap * 2 : 32;
            t.rows = ctx_realloc(t.rows, rcap * sizeof *t.rows);
        }
        struct tsv_row *r = &t.rows[t.n++];
        memset(r, 0, sizeof *r);
        r->line = lineno;
        char *s = line;
        for (;;) {
            char *tab = strchr(s, '\t');
            if (tab)
                *tab = '\0';
            if (r->n < TSV_MAX_FIELDS) {
                r->f[r->n] = ctx_strdup(s);
                r->len[r->n] = tsv_unescape(r->f[r->n]);
                r->n++;
            }
            if (!tab)
                break;
            s = tab + 1;
        }
    }
    free(line);
    fclose(f);
    return t;
}

static void tsv_free(struct tsv *t)
{
    for (size_t i = 0; i < t->n; i++)
        for (int k = 0; k < t->rows[i].n; k++)
            free(t->rows[i].f[k]);
    free(t->rows);
    memset(t, 0, sizeof *t);
}

#endif
