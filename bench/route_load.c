/* route_load.c -- a routing load generator that is not the bottleneck: the
 * agents are simulated inside Redis's own protocol, one hiredis connection,
 * everything pipelined.
 *
 *   route_load populate PORT AGENTS CAPACITY TASKS
 *       AGENTS agents (a0..), available, no skills, CAPACITY social tasks
 *       each, in the agents set; TASKS social tasks queued in queue "q"
 *       with the real task_new.lua (the script ctxd embeds), which keeps the
 *       queue's arrivals and live counts (marked built).
 *   route_load accept PORT TASKS TIMEOUT_S
 *       Follows the agent events stream from its start and accepts every
 *       offer with the real accept.lua (its keys as store_accept() passes
 *       them), pipelined (one round trip per batch
 *       read), until TASKS tasks are accepted or nothing new came for
 *       TIMEOUT_S seconds. Prints the offers seen, the span from the first
 *       offer to the last in Redis's clock (the stream ids' ms), decisions/s
 *       over it, and this process's own CPU time.
 *
 * The routers (ctxd --roles route) are started by bench/routing_load.py
 * between the two steps. No agent ever finishes a task: CAPACITY is large
 * enough for the backlog, so what is measured is offer + accept per task.
 *
 * Build (after make):
 *   cc -O2 -std=gnu11 -I. -Ibuild/gen bench/route_load.c build/libctx.a \
 *      $(pkg-config --cflags --libs libcurl jansson libwebsockets libpcre2-8 hiredis libuv) -lm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <hiredis/hiredis.h>
#include "store/store.h"
#include "store_scripts.h"

static redisContext *connect_to(int port)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        fprintf(stderr, "route_load: redis: %s\n", c ? c->errstr : "no memory");
        exit(1);
    }
    return c;
}

static void load(redisContext *c, int script, char sha[41])
{
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", store_scripts[script].body);
    if (!r || r->type != REDIS_REPLY_STRING) {
        fprintf(stderr, "route_load: SCRIPT LOAD %s: %s\n", store_scripts[script].name,
                r && r->str ? r->str : c->errstr);
        exit(1);
    }
    snprintf(sha, 41, "%s", r->str);
    freeReplyObject(r);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* read n pipelined replies; count errors */
static int drain(redisContext *c, int n, int *errors)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r;
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            fprintf(stderr, "route_load: %s\n", c->errstr);
            exit(1);
        }
        if (r->type == REDIS_REPLY_ERROR) {
            if (*errors < 3)
                fprintf(stderr, "route_load: %s\n", r->str);
            (*errors)++;
        } else {
            ok++;
        }
        freeReplyObject(r);
    }
    return ok;
}

static int populate(int port, int agents, int cap, int tasks)
{
    redisContext *c = connect_to(port);
    char sha[41], akey[STORE_KEY_LEN], tkey[STORE_KEY_LEN], wkey[STORE_KEY_LEN],
        skey[STORE_KEY_LEN], arkey[STORE_KEY_LEN];
    load(c, SCRIPT_TASK_NEW, sha);
    int errors = 0, pending = 0;
    for (int i = 0; i < agents; i++) {
        char id[32];
        snprintf(id, sizeof id, "a%d", i);
        redisAppendCommand(c, "HSET %s id %s name %s token_sha - skills {} langs [] "
                              "cap:social %d cap:chat 0 cap:callback 0 role agent "
                              "callback_blocks_chat 0 state available offers 0 load:social 0 "
                              "load:chat 0 load:callback 0 handled 0 idle_since 0 last_offer 0",
                           store_key_agent(akey, sizeof akey, id), id, id, cap);
        redisAppendCommand(c, "SADD %s %s", KEY_AGENTS, id);
        pending += 2;
        if (pending >= 2000) {
            drain(c, pending, &errors);
            pending = 0;
        }
    }
    long long now = now_ms();
    store_key_queue_waiting(wkey, sizeof wkey, "q");
    store_key_queue_stats(skey, sizeof skey, "q");
    store_key_queue_arrivals(arkey, sizeof arkey, "q");
    for (int i = 0; i < tasks; i++) {
        char id[32], nows[32], order[32], due[32];
        snprintf(id, sizeof id, "t%07d", i);
        snprintf(nows, sizeof nows, "%lld", now);
        snprintf(order, sizeof order, "%lld", now + i);
        snprintf(due, sizeof due, "%lld", now + 3600000);
        redisAppendCommand(c, "EVALSHA %s 5 %s %s %s %s %s %s social q 0 %s %s %s "
                              "2026-01-01T00:00:00Z 0 {} 0",
                           sha, store_key_task(tkey, sizeof tkey, id), wkey, KEY_ROUTING_EVENTS,
                           skey, arkey, id, nows, order, due);
        if (++pending >= 2000) {
            drain(c, pending, &errors);
            pending = 0;
        }
    }
    /* task_new.lua kept the arrivals and the live counts: say so, as a Redis
     * written by this ctxd would, or the routers' start would count them again
     * from every task (route_index.lua) inside the measured run */
    redisAppendCommand(c, "HSET %s _built 1", KEY_QUEUES_LIVE);
    drain(c, pending + 1, &errors);
    redisFree(c);
    if (errors)
        fprintf(stderr, "route_load: populate: %d errors\n", errors);
    return errors ? 1 : 0;
}

static const char *field(const redisReply *h, const char *name)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->str && strcmp(h->element[i]->str, name) == 0)
            return h->element[i + 1]->str;
    return NULL;
}

static int accept_all(int port, int tasks, int timeout_s)
{
    redisContext *c = connect_to(port);
    char sha[41], last[64] = "0";
    char tkey[STORE_KEY_LEN], akey[STORE_KEY_LEN], skey[STORE_KEY_LEN];
    load(c, SCRIPT_ACCEPT, sha);
    store_key_queue_stats(skey, sizeof skey, "q");
    long long first = 0, lastms = 0, idle_since = now_ms();
    int offers = 0, accepted = 0, errors = 0, reads = 0;
    while (accepted < tasks && now_ms() - idle_since < timeout_s * 1000LL) {
        redisReply *r = redisCommand(c, "XREAD COUNT 5000 BLOCK 200 STREAMS %s %s",
                                     KEY_AGENT_EVENTS, last);
        if (!r) {
            fprintf(stderr, "route_load: %s\n", c->errstr);
            return 1;
        }
        reads++;
        int n = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
            const redisReply *es = r->element[0]->element[1];
            for (size_t i = 0; i < es->elements; i++) {
                const redisReply *e = es->element[i];
                snprintf(last, sizeof last, "%s", e->element[0]->str);
                const char *type = field(e->element[1], "type");
                if (!type || strcmp(type, "offer") != 0)
                    continue;
                const char *task = field(e->element[1], "task"),
                           *agent = field(e->element[1], "agent");
                long long ms = atoll(e->element[0]->str);
                if (!first)
                    first = ms;
                lastms = ms;
                offers++;
                char nows[32];
                snprintf(nows, sizeof nows, "%lld", now_ms());
                redisAppendCommand(c, "EVALSHA %s 10 %s %s %s %s %s %s %s %s %s %s %s %s %s %s",
                                   sha, store_key_task(tkey, sizeof tkey, task),
                                   store_key_agent(akey, sizeof akey, agent), KEY_OFFERS,
                                   KEY_ROUTING_EVENTS, KEY_AGENT_EVENTS, skey, KEY_CHAT_EVENTS,
                                   KEY_AGENTS_READY, KEY_AGENTS, KEY_QUEUES_LIVE, task, agent,
                                   nows, agent);
                n++;
            }
        }
        freeReplyObject(r);
        if (n) {
            accepted += drain(c, n, &errors);
            idle_since = now_ms();
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double span = (double)(lastms - first) / 1000.0;
    printf("offers %d accepted %d errors %d span_s %.3f decisions_per_s %.0f "
           "gen_cpu_s %.2f reads %d\n",
           offers, accepted, errors, span, span > 0 ? offers / span : 0.0,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6,
           reads);
    redisFree(c);
    return accepted == tasks ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "populate") == 0)
        return populate(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc == 5 && strcmp(argv[1], "accept") == 0)
        return accept_all(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: route_load populate PORT AGENTS CAPACITY TASKS\n"
                    "       route_load accept PORT TASKS TIMEOUT_S\n");
    return 64;
}
