/* ws_fanout.c -- many /ws/monitor sockets in one process: the websocket
 * fan-out of one serve node measured without one client process per socket.
 *
 *   ws_fanout PORT REDIS_PORT SOCKETS CTXD_PID [LAT_ITEMS RATE BURST_ITEMS]
 *
 * Opens SOCKETS websockets to 127.0.0.1:PORT/ws/monitor (subprotocol
 * ctx.monitor.v1), non-blocking, on one epoll, at most 256 handshakes at a
 * time, and sends each the filter frame a monitor page sends (everything).
 * Then, through its own Redis connection, it XADDs tagged items to
 * ctx:{i}:items:tagged, as the analyzer would, in two phases:
 *   1. latency: LAT_ITEMS items (40), RATE a second (20); for each, the time from XADD (this
 *      process's monotonic clock) to the frame at the last of the SOCKETS
 *      sockets to get it: p50, p99, max;
 *   2. throughput: BURST_ITEMS items (200) at once; frames delivered to all sockets per
 *      second, from the first XADD to the last frame.
 * ctxd's RSS (from /proc/CTXD_PID/status) before the sockets and with them
 * all open gives memory per socket. Frames are read and their item's number
 * found (the item ids are "fanout:<n>"); server pings are answered.
 * Output: one "key value" pair per token, on one line.
 *
 * Build (after make):
 *   cc -O2 -std=gnu11 bench/ws_fanout.c $(pkg-config --cflags --libs hiredis) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

#define MAX_ITEMS 1024
#define INFLIGHT 256

struct conn {
    int fd;
    int state;                  /* 0 connecting, 1 upgrading, 2 open, 3 dead */
    unsigned char *buf;
    size_t len, cap;
    unsigned got;               /* items received */
};

static struct conn *conns;
static int nconns, epfd;
static double xadd_at[MAX_ITEMS], last_at[MAX_ITEMS];
static unsigned got[MAX_ITEMS];
static unsigned long long frames;
static int opened, dead;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

static void conn_kill(struct conn *c)
{
    if (c->state == 3)
        return;
    if (c->state == 2)
        opened--;
    c->state = 3;
    dead++;
    close(c->fd);
}

static int start_connect(struct conn *c, int port)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->state = 0;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* a masked client frame */
static void send_frame(struct conn *c, int opcode, const char *p, size_t n)
{
    unsigned char f[256];
    if (n > 125)
        return;
    f[0] = 0x80 | opcode;
    f[1] = 0x80 | (unsigned char)n;
    memset(f + 2, 0, 4);        /* a zero mask: payload as is */
    memcpy(f + 6, p, n);
    if (write(c->fd, f, 6 + n) < 0)
        conn_kill(c);
}

static void on_writable(struct conn *c)
{
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
        conn_kill(c);
        return;
    }
    static const char req[] = "GET /ws/monitor HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Protocol: ctx.monitor.v1\r\n\r\n";
    if (write(c->fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        conn_kill(c);
        return;
    }
    c->state = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_frame(struct conn *c, int opcode, const unsigned char *p, size_t n)
{
    if (opcode == 0x9) {        /* ping: pong */
        send_frame(c, 0xA, (const char *)p, n);
        return;
    }
    if (opcode != 0x1)
        return;
    frames++;
    const unsigned char *k = memmem(p, n, "\"fanout:", 8);
    if (!k)
        return;
    int i = atoi((const char *)k + 8);
    if (i < 0 || i >= MAX_ITEMS)
        return;
    c->got++;
    got[i]++;
    last_at[i] = now_s();
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->cap - c->len < 4096) {
            c->cap = c->cap ? c->cap * 2 : 8192;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            conn_kill(c);
            return;
        }
        if (r < 0)
            break;
        c->len += r;
    }
    size_t off = 0;
    if (c->state == 1) {
        unsigned char *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!e)
            return;
        if (c->len < 12 || memcmp(c->buf + 9, "101", 3) != 0) {
            conn_kill(c);
            return;
        }
        off = e + 4 - c->buf;
        c->state = 2;
        opened++;
        send_frame(c, 0x1, "{\"type\":\"filter\"}", 17);
    }
    while (c->len - off >= 2) {
        unsigned char *h = c->buf + off;
        size_t n = h[1] & 0x7f, hl = 2;
        if (n == 126) {
            if (c->len - off < 4)
                break;
            n = (size_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (n == 127) {
            if (c->len - off < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | h[2 + i];
            hl = 10;
        }
        if (c->len - off < hl + n)
            break;
        on_frame(c, h[0] & 0x0f, h + hl, n);
        off += hl + n;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    if (c->len == 0 && c->cap > 65536) {    /* a burst is over: give the memory back */
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
    }
}

static void poll_for(double secs)
{
    struct epoll_event ev[512];
    double end = now_s() + secs;
    for (;;) {
        double left = end - now_s();
        if (left <= 0)
            return;
        int n = epoll_wait(epfd, ev, 512, (int)(left * 1000) + 1);
        for (int i = 0; i < n; i++) {
            struct conn *c = ev[i].data.ptr;
            if (c->state == 3)
                continue;
            if (c->state == 0 && (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                on_writable(c);
            else if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(c);
        }
    }
}

static void xadd(redisContext *rc, int i)
{
    char item[512];
    snprintf(item, sizeof item,
             "{\"id\":\"fanout:%d\",\"source\":\"bench\",\"kind\":\"social\","
             "\"text\":\"the fan-out bench, item %d: an ordinary mention of acme, about "
             "the size of a short post on a social network, with a link\","
             "\"lang\":\"en\",\"tags\":{\"sentiment\":{\"score\":-0.4,\"label\":\"negative\"},"
             "\"topics\":[\"outage\"],\"brands\":[\"acme\"],\"urgent\":false}}",
             i, i);
    xadd_at[i] = now_s();
    redisReply *r = redisCommand(rc, "XADD ctx:{i}:items:tagged MAXLEN ~ 100000 * id fanout:%d "
                                     "item %s", i, item);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "ws_fanout: XADD: %s\n", r ? r->str : rc->errstr);
        exit(1);
    }
    freeReplyObject(r);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 8) {
        fprintf(stderr, "usage: ws_fanout PORT REDIS_PORT SOCKETS CTXD_PID "
                        "[LAT_ITEMS RATE BURST_ITEMS]\n");
        return 64;
    }
    int LAT_ITEMS = argc == 8 ? atoi(argv[5]) : 40, BURST_ITEMS = argc == 8 ? atoi(argv[7]) : 200;
    double rate = argc == 8 ? atof(argv[6]) : 20;
    if (LAT_ITEMS < 1 || BURST_ITEMS < 1 || LAT_ITEMS + BURST_ITEMS > MAX_ITEMS || rate <= 0) {
        fprintf(stderr, "ws_fanout: at most %d items in all\n", MAX_ITEMS);
        return 64;
    }
    int port = atoi(argv[1]), rport = atoi(argv[2]), pid = atoi(argv[4]);
    nconns = atoi(argv[3]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)nconns + 64 > rl.rlim_cur) {
        fprintf(stderr, "ws_fanout: %d sockets need a higher ulimit -n than %llu\n", nconns,
                (unsigned long long)rl.rlim_cur);
        return 1;
    }
    redisContext *rc = redisConnect("127.0.0.1", rport);
    if (!rc || rc->err) {
        fprintf(stderr, "ws_fanout: redis: %s\n", rc ? rc->errstr : "no memory");
        return 1;
    }
    epfd = epoll_create1(0);
    conns = calloc(nconns, sizeof *conns);
    long rss0 = rss_kb(pid);
    double t0 = now_s();
    int started = 0;
    while ((opened + dead < nconns) && now_s() - t0 < 60) {
        while (started < nconns && started - opened - dead < INFLIGHT) {
            if (start_connect(&conns[started], port) < 0) {
                conns[started].state = 3;
                dead++;
            }
            started++;
        }
        poll_for(0.01);
    }
    double t_open = now_s() - t0;
    poll_for(1.5);              /* every session live (the monitor's tick) */
    long rss1 = rss_kb(pid);

    /* 1. latency at `rate` items a second */
    for (int i = 0; i < LAT_ITEMS; i++) {
        xadd(rc, i);
        poll_for(1.0 / rate);
    }
    poll_for(2.0);
    double lat[MAX_ITEMS];
    int complete = 0;
    for (int i = 0; i < LAT_ITEMS; i++) {
        if (got[i] == (unsigned)opened)
            lat[complete++] = (last_at[i] - xadd_at[i]) * 1000;
    }
    qsort(lat, complete, sizeof *lat, cmp_d);

    /* 2. a burst */
    unsigned long long f0 = frames;
    double b0 = now_s();
    for (int i = LAT_ITEMS; i < LAT_ITEMS + BURST_ITEMS; i++)
        xadd(rc, i);
    double deadline = now_s() + 60;
    for (;;) {
        poll_for(0.05);
        int done = 1;
        for (int i = LAT_ITEMS; i < LAT_ITEMS + BURST_ITEMS; i++)
            if (got[i] < (unsigned)opened)
                done = 0;
        if (done || now_s() > deadline)
            break;
    }
    double b_last = 0;
    unsigned b_min = ~0u;
    for (int i = LAT_ITEMS; i < LAT_ITEMS + BURST_ITEMS; i++) {
        if (last_at[i] > b_last)
            b_last = last_at[i];
        if (got[i] < b_min)
            b_min = got[i];
    }
    double b_span = b_last - b0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("sockets %d open %d dead %d open_s %.2f rss0_kb %ld rss1_kb %ld per_socket_kb %.1f "
           "lat_rate %g lat_items %d lat_p50_ms %.1f lat_p99_ms %.1f lat_max_ms %.1f "
           "burst_items %d burst_min_got %u burst_s %.3f burst_frames %llu frames_per_s %.0f "
           "items_per_s %.1f client_cpu_s %.2f\n",
           nconns, opened, dead, t_open, rss0, rss1,
           opened ? (double)(rss1 - rss0) / opened : 0.0, rate, complete,
           complete ? lat[complete / 2] : -1.0,
           complete ? lat[(int)(complete * 0.99 + 0.5) - 1 < complete - 1
                              ? (int)(complete * 0.99 + 0.5) - 1 : complete - 1] : -1.0,
           complete ? lat[complete - 1] : -1.0, BURST_ITEMS, b_min, b_span, frames - f0,
           b_span > 0 ? (frames - f0) / b_span : 0.0,
           b_span > 0 ? BURST_ITEMS / b_span : 0.0,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6);
    redisFree(rc);
    return opened == nconns && complete == LAT_ITEMS ? 0 : 2;
}
