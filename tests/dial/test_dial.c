/* test_dial.c -- the pure parts of dial/: phone numbers to E.164 (cases in
 * tests/data/dial/phone.tsv), SIP URIs from a template, the netstring
 * framing of ctrl_tcp (whole, split at every byte, glued, broken), the
 * baresip message decoder and leg tokens, SIP reasons to causes, calling
 * hours (UTC, over midnight, a zone with an offset), and what follows an
 * attempt (keep, retry after the delay inside the hours, abandon). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "core/tz.h"
#include "dial/dial.h"
#include "tests/analyzer/tsv.h"

static void test_phone_table(void **state)
{
    (void)state;
    struct tsv t = tsv_read("tests/data/dial/phone.tsv");
    assert_true(t.n >= 20);
    for (size_t i = 0; i < t.n; i++) {
        const struct tsv_row *r = &t.rows[i];
        if (r->n != 3)
            fail_msg("phone.tsv:%d: 3 fields wanted", r->line);
        char out[DIAL_E164_LEN], why[200] = "";
        const char *cc = strcmp(r->f[1], "-") ? r->f[1] : NULL;
        ctx_err e = dial_phone_e164(r->f[0], cc, out, why, sizeof why);
        if (r->f[2][0] == '!') {
            if (e != CTX_EINVAL || !strstr(why, r->f[2] + 1))
                fail_msg("phone.tsv:%d: \"%s\": want an error with \"%s\", got %d \"%s\" / \"%s\"",
                         r->line, r->f[0], r->f[2] + 1, e, out, why);
            assert_string_equal(out, "");
        } else if (e != CTX_OK || strcmp(out, r->f[2])) {
            fail_msg("phone.tsv:%d: \"%s\": want %s, got %d \"%s\" (%s)", r->line, r->f[0],
                     r->f[2], e, out, why);
        }
    }
    tsv_free(&t);
}

static void test_uri(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(dial_uri("sip:{digits}@pbx.example.com", "+74951234567", out, sizeof out),
                     CTX_OK);
    assert_string_equal(out, "sip:74951234567@pbx.example.com");
    assert_int_equal(dial_uri("sip:{e164}@trunk;user=phone", "+4930", out, sizeof out), CTX_OK);
    assert_string_equal(out, "sip:+4930@trunk;user=phone");
    assert_int_equal(dial_uri("sip:{digits}{digits}@x", "+12", out, sizeof out), CTX_OK);
    assert_string_equal(out, "sip:1212@x");
    /* "sip:74951234567@0123456789" is 26 bytes and its NUL */
    assert_int_equal(dial_uri("sip:{digits}@0123456789", "+74951234567", out, 26), CTX_ETOOBIG);
    assert_int_equal(dial_uri("sip:{digits}@0123456789", "+74951234567", out, 27), CTX_OK);
    assert_int_equal(dial_uri("sip:{digits}", "+74951234567", out, 5), CTX_ETOOBIG);
}

/* ---- netstrings ---- */

static void test_netstring_put(void **state)
{
    (void)state;
    struct buf b = {0};
    dial_netstring_put(&b, "{\"a\":1}", 7);
    dial_netstring_put(&b, "", 0);
    assert_string_equal(buf_str(&b), "7:{\"a\":1},0:,");
    buf_free(&b);
}

static void test_netstring_get(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int want;               /* 1 frame, 0 more needed, -1 broken */
        const char *payload;
        size_t used;
    } cases[] = {
        {"5:hello,", 1, "hello", 8},
        {"5:hello,3:abc,", 1, "hello", 8},
        {"0:,", 1, "", 3},
        {"12:hello world!,x", 1, "hello world!", 16},
        {"", 0, NULL, 0},
        {"5", 0, NULL, 0},
        {"5:hel", 0, NULL, 0},
        {"5:hello", 0, NULL, 0},
        {"5:hello;", -1, NULL, 0},
        {"05:hello,", -1, NULL, 0},
        {":hello,", -1, NULL, 0},
        {"x:", -1, NULL, 0},
        {"5x", -1, NULL, 0},
        {"2000000:", -1, NULL, 0},          /* over the cap */
        {"99999999999999999999999:", -1, NULL, 0},
        {"-1:", -1, NULL, 0},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        const char *p = NULL;
        size_t n = 0, used = 0;
        int r = dial_netstring_get(cases[i].in, strlen(cases[i].in), 1 << 20, &p, &n, &used);
        if (r != cases[i].want)
            fail_msg("\"%s\": %d, want %d", cases[i].in, r, cases[i].want);
        if (r == 1 && (n != strlen(cases[i].payload) || memcmp(p, cases[i].payload, n) ||
                       used != cases[i].used))
            fail_msg("\"%s\": \"%.*s\" used %zu", cases[i].in, (int)n, p, used);
    }
}

/* A stream of frames cut anywhere: every frame comes out whole, in order. */
static void test_netstring_split(void **state)
{
    (void)state;
    const char *frames[] = {"{\"event\":true}", "", "x", "{\"response\":true,\"data\":\"1:2,\"}"};
    struct buf all = {0};
    for (size_t i = 0; i < CTX_ARRAY_LEN(frames); i++)
        dial_netstring_put(&all, frames[i], strlen(frames[i]));
    for (size_t cut = 0; cut <= buf_len(&all); cut++) {
        struct buf rx = {0};
        size_t got = 0;
        for (int part = 0; part < 2; part++) {
            size_t from = part ? cut : 0, to = part ? buf_len(&all) : cut;
            buf_append(&rx, buf_str(&all) + from, to - from);
            size_t off = 0;
            for (;;) {
                const char *p;
                size_t n, used;
                int r = dial_netstring_get(buf_str(&rx) + off, buf_len(&rx) - off, 1 << 20, &p,
                                           &n, &used);
                assert_true(r >= 0);
                if (r == 0)
                    break;
                assert_true(got < CTX_ARRAY_LEN(frames));
                assert_int_equal(n, strlen(frames[got]));
                assert_memory_equal(p, frames[got], n);
                got++;
                off += used;
            }
            size_t rest = buf_len(&rx) - off;
            memmove(rx.p, rx.p + off, rest);
            buf_truncate(&rx, rest);
        }
        assert_int_equal(got, CTX_ARRAY_LEN(frames));
        buf_free(&rx);
    }
    buf_free(&all);
}

/* ---- baresip's messages ---- */

static void test_bs_decode(void **state)
{
    (void)state;
    struct dial_bs_msg m;
    json_t *root;
    const char *ev = "{\"event\":true,\"type\":\"CALL_CLOSED\",\"class\":\"call\","
                     "\"accountaor\":\"sip:ctxd@127.0.0.1\",\"direction\":\"outgoing\","
                     "\"peeruri\":\"sip:74951234567@127.0.0.1:5070;ctxleg=1a2b3ca\","
                     "\"id\":\"d41a4b85eb74adc6\",\"param\":\"486 Busy Here\"}";
    assert_int_equal(dial_bs_decode(ev, strlen(ev), &m, &root), CTX_OK);
    assert_int_equal(m.kind, BS_EVENT);
    assert_true(m.call_event);
    assert_int_equal(m.state, LEG_CLOSED);
    assert_string_equal(m.call_id, "d41a4b85eb74adc6");
    assert_string_equal(m.param, "486 Busy Here");
    char tok[64];
    assert_int_equal(dial_leg_token(m.peer, tok, sizeof tok), 1);
    assert_string_equal(tok, "1a2b3ca");
    assert_int_equal(dial_cause_parse(m.param), CAUSE_BUSY);
    json_decref(root);

    const char *rsp = "{\"response\":true,\"ok\":false,\"data\":\"Invalid argument\","
                      "\"token\":\"d:1a2b3ca\"}";
    assert_int_equal(dial_bs_decode(rsp, strlen(rsp), &m, &root), CTX_OK);
    assert_int_equal(m.kind, BS_RESPONSE);
    assert_false(m.ok);
    assert_string_equal(m.token, "d:1a2b3ca");
    assert_string_equal(m.data, "Invalid argument");
    json_decref(root);

    /* an event about no call leg (SDP, registration) */
    const char *sdp = "{\"event\":true,\"type\":\"CALL_LOCAL_SDP\",\"class\":\"other\","
                      "\"peeruri\":\"sip:x@y\",\"param\":\"offer\"}";
    assert_int_equal(dial_bs_decode(sdp, strlen(sdp), &m, &root), CTX_OK);
    assert_false(m.call_event);
    json_decref(root);
    const char *est = "{\"event\":true,\"type\":\"CALL_ESTABLISHED\",\"id\":\"x\"}";
    assert_int_equal(dial_bs_decode(est, strlen(est), &m, &root), CTX_OK);
    assert_false(m.call_event);             /* no peeruri: no leg to find */
    json_decref(root);
    static const char *const bad[] = {"", "[]", "\"x\"", "{", "nul"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(bad); i++) {
        root = (json_t *)1;
        assert_int_equal(dial_bs_decode(bad[i], strlen(bad[i]), &m, &root), CTX_EPARSE);
        assert_null(root);
    }
    assert_int_equal(dial_leg_token("sip:x@y", tok, sizeof tok), 0);
    assert_int_equal(dial_leg_token("sip:x@y;ctxleg=", tok, sizeof tok), 0);
    assert_int_equal(dial_leg_token("<sip:x@y;ctxleg=ab;transport=udp>", tok, sizeof tok), 1);
    assert_string_equal(tok, "ab");
    assert_int_equal(dial_leg_token("sip:x@y;ctxleg=abcdef", tok, 4), 0);   /* too long */
}

/* baresip 1.0's answers to "reginfo" and "uanew", as it prints them. */
static void test_bs_accounts(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool listed;
        const char *first;
    } cases[] = {
        {"\n--- User Agents (1) ---\n> sip:ctxd@127.0.0.1:54853                  \n\n", false,
         "sip:ctxd@127.0.0.1:54853"},
        {"Creating UA for <sip:ctxd-audio@127.0.0.1>;regint=0 ...\n\n--- User Agents (2) ---\n"
         "> sip:ctxd@127.0.0.1:54853                  \n  sip:ctxd-audio@127.0.0.1    \n\n",
         true, "sip:ctxd@127.0.0.1:54853"},
        /* the audio account current (a ctxd stopped mid-dial), a status after the AOR */
        {"--- User Agents (2) ---\n> sip:ctxd-audio@127.0.0.1\n  sips:cb@pbx.example.com  OK\n",
         true, "sips:cb@pbx.example.com"},
        {"--- User Agents (0) ---\n", false, ""},
        {"", false, ""},
        {"> sip:ctxd-audio@127.0.0.1.example\n", false, "sip:ctxd-audio@127.0.0.1.example"},
    };
    char first[64];
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++) {
        assert_int_equal(dial_bs_accounts(cases[i].text, "sip:ctxd-audio@127.0.0.1", first,
                                          sizeof first), cases[i].listed);
        assert_string_equal(first, cases[i].first);
    }
    assert_false(dial_bs_accounts("> sip:a-very-long-user@host\n", "x", first, 8));
    assert_string_equal(first, "");         /* does not fit: none */
}

static void test_causes(void **state)
{
    (void)state;
    static const struct { const char *reason; enum dial_cause c; } cases[] = {
        {"486 Busy Here", CAUSE_BUSY}, {"600 Busy Everywhere", CAUSE_BUSY},
        {"480 Temporarily Unavailable", CAUSE_NO_ANSWER}, {"408 Request Timeout", CAUSE_NO_ANSWER},
        {"487 Request Terminated", CAUSE_NO_ANSWER}, {"603 Decline", CAUSE_REJECTED},
        {"403 Forbidden", CAUSE_REJECTED}, {"404 Not Found", CAUSE_FAILED},
        {"503 Service Unavailable", CAUSE_FAILED}, {"Connection reset by user", CAUSE_NORMAL},
        {"Connection reset by peer", CAUSE_NORMAL},     /* the far end's BYE */
        {"", CAUSE_NORMAL}, {NULL, CAUSE_NORMAL}, {"Connection timed out", CAUSE_NO_ANSWER},
        {"dialer engine went away", CAUSE_FAILED}, {"4861 odd", CAUSE_FAILED},
    };
    for (size_t i = 0; i < CTX_ARRAY_LEN(cases); i++)
        if (dial_cause_parse(cases[i].reason) != cases[i].c)
            fail_msg("\"%s\": %s", cases[i].reason ? cases[i].reason : "(null)",
                     dial_cause_name(dial_cause_parse(cases[i].reason)));
    assert_int_equal(dial_outcome_of(CAUSE_BUSY), OUT_BUSY);
    assert_string_equal(dial_outcome_name(OUT_NO_ANSWER), "no_answer");
}

/* ---- calling hours and retries ---- */

#define MS(h, m) (((long long)(h) * 3600 + (long long)(m) * 60) * 1000)
static const long long DAY0 = 1796256000000LL;     /* 2026-12-03T00:00:00Z */

static void test_hours(void **state)
{
    (void)state;
    int o, c;
    assert_int_equal(dial_hours_parse("09:00-20:00", &o, &c), 0);
    assert_int_equal(o, 540);
    assert_int_equal(c, 1200);
    assert_int_equal(dial_hours_parse(NULL, &o, &c), 0);
    assert_int_equal(o, 0);
    assert_int_equal(c, 1440);
    assert_int_equal(dial_hours_parse("22:00-06:30", &o, &c), 0);
    assert_int_equal(dial_hours_parse("00:00-24:00", &o, &c), 0);
    static const char *const bad[] = {"9:00-20:00", "09:00-09:00", "09:60-10:00", "25:00-26:00",
                                      "09:00 20:00", "09:00-20:00x", "24:00-06:00", "x"};
    for (size_t i = 0; i < CTX_ARRAY_LEN(bad); i++)
        if (dial_hours_parse(bad[i], &o, &c) == 0)
            fail_msg("\"%s\" taken", bad[i]);
    dial_hours_parse("09:00-20:00", &o, &c);
    assert_int_equal(dial_hours_next(o, c, NULL, DAY0 + MS(10, 0)), DAY0 + MS(10, 0));
    assert_int_equal(dial_hours_next(o, c, NULL, DAY0 + MS(7, 15)), DAY0 + MS(9, 0));
    assert_int_equal(dial_hours_next(o, c, NULL, DAY0 + MS(20, 0)), DAY0 + MS(24 + 9, 0));
    assert_int_equal(dial_hours_next(o, c, NULL, DAY0 + MS(19, 59)), DAY0 + MS(19, 59));
    dial_hours_parse("22:00-06:00", &o, &c);
    assert_int_equal(dial_hours_next(o, c, NULL, DAY0 + MS(23, 0)), DAY0 + MS(23, 0));
    assert_int_equal(dial_hours_next(o, c, NULL, DAY0 + MS(5, 0)), DAY0 + MS(5, 0));
    assert_int_equal(dial_hours_next(o, c, NULL, DAY0 + MS(12, 0)), DAY0 + MS(22, 0));
    /* Moscow is UTC+3: 09:00 there is 06:00Z */
    struct tz *msk;
    assert_int_equal(tz_load(NULL, "Europe/Moscow", &msk), CTX_OK);
    dial_hours_parse("09:00-20:00", &o, &c);
    assert_int_equal(dial_hours_next(o, c, msk, DAY0 + MS(5, 0)), DAY0 + MS(6, 0));
    assert_int_equal(dial_hours_next(o, c, msk, DAY0 + MS(16, 59)), DAY0 + MS(16, 59));
    assert_int_equal(dial_hours_next(o, c, msk, DAY0 + MS(17, 0)), DAY0 + MS(24 + 6, 0));
    tz_free(msk);
}

static void test_next(void **state)
{
    (void)state;
    const double delays[] = {60, 600};
    struct dial_policy p = {.attempts = 3, .delays = delays, .ndelays = 2, .open = 0,
                            .close = 1440};
    long long nb, now = DAY0 + MS(12, 0);
    assert_int_equal(dial_next(&p, OUT_ANSWERED, 1, now, &nb), ACT_KEEP);
    assert_int_equal(nb, 0);
    assert_int_equal(dial_next(&p, OUT_REJECTED, 1, now, &nb), ACT_KEEP);
    assert_int_equal(dial_next(&p, OUT_FAILED, 1, now, &nb), ACT_KEEP);
    assert_int_equal(dial_next(&p, OUT_CANCELLED, 1, now, &nb), ACT_KEEP);
    assert_int_equal(dial_next(&p, OUT_BUSY, 1, now, &nb), ACT_RETRY);
    assert_int_equal(nb, now + 60000);
    assert_int_equal(dial_next(&p, OUT_NO_ANSWER, 2, now, &nb), ACT_RETRY);
    assert_int_equal(nb, now + 600000);
    assert_int_equal(dial_next(&p, OUT_NO_ANSWER, 3, now, &nb), ACT_ABANDON);
    p.attempts = 5;
    assert_int_equal(dial_next(&p, OUT_BUSY, 4, now, &nb), ACT_RETRY);
    assert_int_equal(nb, now + 600000);         /* the last delay repeats */
    /* a retry that would fall after hours waits for the next opening */
    dial_hours_parse("09:00-12:05", &p.open, &p.close);
    assert_int_equal(dial_next(&p, OUT_BUSY, 2, now, &nb), ACT_RETRY);
    assert_int_equal(nb, DAY0 + MS(24 + 9, 0));
    p.ndelays = 0;
    assert_int_equal(dial_next(&p, OUT_BUSY, 1, now, &nb), ACT_RETRY);
    assert_int_equal(nb, now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_table),   cmocka_unit_test(test_uri),
        cmocka_unit_test(test_netstring_put), cmocka_unit_test(test_netstring_get),
        cmocka_unit_test(test_netstring_split), cmocka_unit_test(test_bs_decode),
        cmocka_unit_test(test_bs_accounts),
        cmocka_unit_test(test_causes),        cmocka_unit_test(test_hours),
        cmocka_unit_test(test_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
