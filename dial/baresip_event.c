/* baresip_event.c -- what baresip's ctrl_tcp says, decoded, and why a call
 * leg ended, classified.
 *
 * ctrl_tcp sends two kinds of JSON objects: responses to our commands
 * ({"response":true,"ok":true,"data":"…","token":"…"}) and events
 * ({"event":true,"type":"CALL_RINGING","class":"call","id":"<call id>",
 * "peeruri":"sip:…","param":"…"}). The dial command's response carries no
 * call id in baresip 1.0, so ctxd marks each URI it dials with a parameter
 * (";ctxleg=<token>") that baresip repeats in every event's peeruri: that
 * is how an event finds its leg, even with many calls to one number.
 * CALL_CLOSED's param is the reason: a SIP status line ("486 Busy Here") or
 * baresip's words ("Connection reset by user"). Pure. */
#include <stdlib.h>
#include <string.h>
#include "dial/dial.h"

ctx_err dial_bs_decode(const char *json, size_t len, struct dial_bs_msg *out, json_t **root)
{
    memset(out, 0, sizeof *out);
    *root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return CTX_EPARSE;
    }
    json_t *o = *root;
    if (json_is_true(json_object_get(o, "response"))) {
        out->kind = BS_RESPONSE;
        out->ok = json_is_true(json_object_get(o, "ok"));
        out->token = json_string_value(json_object_get(o, "token"));
        out->data = json_string_value(json_object_get(o, "data"));
        return CTX_OK;
    }
    if (!json_is_true(json_object_get(o, "event")))
        return CTX_OK;
    out->kind = BS_EVENT;
    const char *type = json_string_value(json_object_get(o, "type"));
    out->call_id = json_string_value(json_object_get(o, "id"));
    out->peer = json_string_value(json_object_get(o, "peeruri"));
    out->param = json_string_value(json_object_get(o, "param"));
    static const struct { const char *type; enum dial_leg_state st; } types[] = {
        {"CALL_RINGING", LEG_RINGING}, {"CALL_PROGRESS", LEG_RINGING},
        {"CALL_ESTABLISHED", LEG_ANSWERED}, {"CALL_CLOSED", LEG_CLOSED},
    };
    for (size_t i = 0; type && i < CTX_ARRAY_LEN(types); i++)
        if (strcmp(type, types[i].type) == 0) {
            out->state = types[i].st;
            out->call_event = out->peer != NULL;
        }
    return CTX_OK;
}

int dial_leg_token(const char *peer, char *out, size_t outlen)
{
    const char *p = peer ? strstr(peer, ";ctxleg=") : NULL;
    if (!p || outlen == 0)
        return 0;
    p += 8;
    size_t n = strcspn(p, ";>?& ");
    if (n == 0 || n >= outlen)
        return 0;
    memcpy(out, p, n);
    out[n] = 0;
    return 1;
}

enum dial_cause dial_cause_parse(const char *reason)
{
    if (!reason || !*reason)
        return CAUSE_NORMAL;
    if (reason[0] >= '1' && reason[0] <= '6' && reason[1] >= '0' && reason[1] <= '9' &&
        reason[2] >= '0' && reason[2] <= '9' && (reason[3] == ' ' || !reason[3])) {
        int code = atoi(reason);
        switch (code) {
        case 486: case 600:
            return CAUSE_BUSY;
        case 408: case 480: case 487:
            return CAUSE_NO_ANSWER;
        case 403: case 603: case 607:
            return CAUSE_REJECTED;
        default:
            return code < 300 ? CAUSE_NORMAL : CAUSE_FAILED;
        }
    }
    if (strstr(reason, "reset by user") || strstr(reason, "reset by peer") ||
        strstr(reason, "Rejected by user") || strstr(reason, "Connection closed"))
        return CAUSE_NORMAL;      /* our own hangup ("by user"), the other side's BYE ("by peer") */
    if (strstr(reason, "imed out") || strstr(reason, "Timeout"))
        return CAUSE_NO_ANSWER;
    return CAUSE_FAILED;
}

const char *dial_cause_name(enum dial_cause c)
{
    static const char *const names[] = {"normal", "busy", "no_answer", "rejected", "failed"};
    return (unsigned)c < CTX_ARRAY_LEN(names) ? names[c] : "failed";
}

bool dial_bs_accounts(const char *text, const char *skip, char *first, size_t firstlen)
{
    bool listed = false;
    if (firstlen)
        first[0] = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t i = 0;
        while (i < len && (p[i] == ' ' || p[i] == '>'))
            i++;                /* "> " marks the current account */
        size_t n = 0;
        while (i + n < len && p[i + n] != ' ' && p[i + n] != '\t' && p[i + n] != '\r')
            n++;
        const char *aor = p + i;
        if (n > 4 && (strncmp(aor, "sip:", 4) == 0 || strncmp(aor, "sips:", 5) == 0)) {
            if (strlen(skip) == n && strncmp(aor, skip, n) == 0)
                listed = true;
            else if (firstlen && !first[0] && n < firstlen) {
                memcpy(first, aor, n);
                first[n] = 0;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    return listed;
}
