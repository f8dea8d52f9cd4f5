/* utf8.h -- the one UTF-8 codec: what the collectors (charsets, entities,
 * the sanitizer) and the analyzer (tokens, PCRE2's NO_UTF_CHECK) share.
 * Valid means what PCRE2 accepts: shortest forms, no surrogates, nothing
 * past U+10FFFF. No locale, no state. */
#ifndef CTX_UTF8_H
#define CTX_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"

#define CTX_UTF8_REPLACEMENT 0xFFFDu

/* Length (1..4) of the valid sequence at s (len > 0 bytes available), or 0
 * when it is invalid or truncated. */
size_t ctx_utf8_seq_len(const unsigned char *s, size_t len);

/* Decode one sequence at s (len > 0): the code point, its length in *adv;
 * an invalid or truncated sequence is U+FFFD with *adv 1 (tell it from a
 * real U+FFFD by s[0] >= 0x80 && *adv == 1). */
uint32_t ctx_utf8_decode(const unsigned char *s, size_t len, size_t *adv);

/* Length of the longest valid prefix of s (== len when all valid). */
size_t ctx_utf8_valid_prefix(const char *s, size_t len);

/* A malloc'd, NUL-terminated copy of s with every byte that is not part of
 * a valid sequence replaced by U+FFFD; its length in *outlen. Never NULL. */
char *ctx_utf8_repair(const char *s, size_t len, size_t *outlen);

/* Append the encoding of cp; surrogates and values past U+10FFFF are
 * written as U+FFFD. */
ctx_err ctx_utf8_put(struct buf *b, uint32_t cp);

/* Copy s into out with every invalid sequence and every NUL byte replaced
 * by U+FFFD. *bad says whether anything was replaced. */
ctx_err ctx_utf8_sanitize(const char *s, size_t len, struct buf *out, bool *bad);

#endif
