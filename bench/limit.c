/* limit - the ceiling for bench/run: a minimal epoll loop that answers every
 * request with a canned response, and does nothing else.
 *
 * No parser (a request ends at the first empty line; bodies are not
 * supported), no timers, no coroutines, no allocation per request: read,
 * count complete requests, write that many canned responses in one write.
 * Pipelined requests are batched the same way vial batches them. The Date
 * header is formatted once per second, as a real server must. What a
 * framework spends above this loop is its own overhead.
 *
 *   limit [port]       (default 8081; 127.0.0.1 only; one process, one thread) */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 512
#define BUF 16384

typedef struct client {
    int fd;
    size_t have;        /* bytes of an incomplete request kept from the last read */
    char buf[BUF];
} client;

static char plain[256], json[256];
static size_t plain_len, json_len;
static time_t formatted_at = -1;

static void format_responses(void) {
    time_t now = time(NULL);
    if (now == formatted_at) return;
    formatted_at = now;
    char date[64];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    plain_len = (size_t)snprintf(plain, sizeof plain,
                                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: %s\r\nServer: limit\r\n"
                                 "Content-Length: 13\r\n\r\nHello, World!",
                                 date);
    json_len = (size_t)snprintf(json, sizeof json,
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: %s\r\nServer: limit\r\n"
                                "Content-Length: 27\r\n\r\n{\"message\":\"Hello, World!\"}",
                                date);
}

static void drop(int ep, client *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* One read per readiness (level-triggered: more is reported again), every
 * complete request answered in one write. */
static void serve(int ep, client *c) {
    static char out[BUF / 16 * 256];
    ssize_t n = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(ep, c);
        return;
    }
    if (n < 0) return;
    size_t len = c->have + (size_t)n, start = 0, out_len = 0;
    format_responses();
    for (;;) {
        char *end = memmem(c->buf + start, len - start, "\r\n\r\n", 4);
        if (!end) break;
        bool is_json = len - start > 9 && memcmp(c->buf + start, "GET /json", 9) == 0;
        const char *r = is_json ? json : plain;
        size_t rl = is_json ? json_len : plain_len;
        if (out_len + rl > sizeof out) break;
        memcpy(out + out_len, r, rl);
        out_len += rl;
        start = (size_t)(end - c->buf) + 4;
    }
    if (start == 0 && len == sizeof c->buf) { /* a head larger than the buffer */
        drop(ep, c);
        return;
    }
    memmove(c->buf, c->buf + start, len - start);
    c->have = len - start;
    if (out_len && write(c->fd, out, out_len) != (ssize_t)out_len) /* a benchmark client always reads */
        drop(ep, c);
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8081;
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 4096) != 0) {
        perror("limit: bind/listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    fprintf(stderr, "limit: listening on http://127.0.0.1:%d\n", port);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            client *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    client *nc = malloc(sizeof *nc);
                    nc->fd = fd;
                    nc->have = 0;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            serve(ep, c);
        }
    }
}
