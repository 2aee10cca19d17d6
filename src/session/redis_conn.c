/* redis_conn.c - Redis commands for the session store, without blocking the worker.
 *
 * hiredis builds the commands and parses the replies; the socket is ours to
 * drive: connected non-blocking, and every wait (connect, write, read) goes
 * through vial_wait_fd, which parks the request's coroutine on the worker's
 * loop, so a slow or stopped Redis delays only the requests that need it.
 * Each command has one deadline (SESSION_REDIS_TIMEOUT); past it, or on any
 * I/O error, the connection is dropped (its replies would arrive out of
 * turn) and the next command connects again.
 *
 * Connections are per worker process: normally one, kept idle between
 * requests; a second request needing Redis while the first one's command is
 * in flight opens another (a connection carries one command at a time),
 * up to MAX_CONNECTIONS, past which it waits for one to come back. A
 * connection inherited across fork() is never used by the child.
 *
 * Replies are read into a static buffer rather than through
 * redisBufferRead's 16 KiB stack buffer: request coroutines have small
 * stacks. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "session/session_req.h"

#define MAX_CONNECTIONS 32
#define MAX_IDLE 4
#define READ_CHUNK 16384

typedef struct redis_conn {
    redisContext *ctx;
    char *url;
    struct redis_conn *next;
} redis_conn;

static struct {
    pid_t pid;
    redis_conn *idle;
    size_t idle_count;
    size_t open_count;
} pool;

static char read_buf[READ_CHUNK];

typedef struct redis_url {
    char host[256];
    int port;
    char unix_path[256];
    char user[128];
    char password[256];
    int db;
} redis_url;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int remaining_ms(uint64_t deadline) {
    uint64_t now = now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* Decodes %XX in a URL part (a password may hold '@' or ':'). */
static void copy_unquoted(char *out, size_t size, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        if (s[i] == '%' && i + 2 < n) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            char *end;
            long v = strtol(hex, &end, 16);
            if (*end == '\0') {
                out[o++] = (char)v;
                i += 2;
                continue;
            }
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
}

/* redis://[[user]:password@]host[:port][/db] and unix://[[user]:password@]/path[?db=N], as redis-py reads them. */
static int parse_url(const char *url, redis_url *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->port = 6379;
    const char *rest;
    bool is_unix = false;
    if (strncmp(url, "redis://", 8) == 0) rest = url + 8;
    else if (strncmp(url, "unix://", 7) == 0) rest = url + 7, is_unix = true;
    else {
        snprintf(err, errlen, "SESSION_REDIS_URL must start with redis:// or unix:// (got '%s')", url);
        return -1;
    }
    const char *at = strrchr(rest, '@');
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        if (colon) {
            copy_unquoted(out->user, sizeof out->user, rest, (size_t)(colon - rest));
            copy_unquoted(out->password, sizeof out->password, colon + 1, (size_t)(at - colon - 1));
        } else {
            copy_unquoted(out->password, sizeof out->password, rest, (size_t)(at - rest));
        }
        rest = at + 1;
    }
    const char *query = strchr(rest, '?');
    size_t main_len = query ? (size_t)(query - rest) : strlen(rest);
    if (query) {
        const char *db = strstr(query, "db=");
        if (db) out->db = atoi(db + 3);
    }
    if (is_unix) {
        if (main_len == 0 || main_len >= sizeof out->unix_path || rest[0] != '/') {
            snprintf(err, errlen, "SESSION_REDIS_URL '%s': a unix:// URL needs an absolute socket path", url);
            return -1;
        }
        memcpy(out->unix_path, rest, main_len);
        return 0;
    }
    const char *slash = memchr(rest, '/', main_len);
    size_t hostport_len = slash ? (size_t)(slash - rest) : main_len;
    if (slash && slash + 1 < rest + main_len) {
        char *end;
        long db = strtol(slash + 1, &end, 10);
        if (end != rest + main_len || db < 0 || db > 1000000) {
            snprintf(err, errlen, "SESSION_REDIS_URL '%s': the database must be a number", url);
            return -1;
        }
        out->db = (int)db;
    }
    const char *host = rest;
    size_t host_len = hostport_len;
    const char *port_sep = NULL;
    if (host_len && host[0] == '[') { /* [::1]:6379 */
        const char *close = memchr(host, ']', host_len);
        if (!close) {
            snprintf(err, errlen, "SESSION_REDIS_URL '%s': unclosed '['", url);
            return -1;
        }
        if (close + 1 < host + host_len && close[1] == ':') port_sep = close + 1;
        host_len = (size_t)(close - host) - 1;
        host++;
    } else {
        port_sep = memchr(host, ':', host_len);
        if (port_sep) host_len = (size_t)(port_sep - host);
    }
    if (port_sep) {
        char *end;
        long port = strtol(port_sep + 1, &end, 10);
        if (end != rest + hostport_len || port <= 0 || port > 65535) {
            snprintf(err, errlen, "SESSION_REDIS_URL '%s': bad port", url);
            return -1;
        }
        out->port = (int)port;
    }
    if (host_len == 0) host = "127.0.0.1", host_len = 9;
    if (host_len >= sizeof out->host) {
        snprintf(err, errlen, "SESSION_REDIS_URL '%s': host name too long", url);
        return -1;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    return 0;
}

static void conn_free(redis_conn *c) {
    if (!c) return;
    if (c->ctx) redisFree(c->ctx);
    free(c->url);
    free(c);
    if (pool.open_count) pool.open_count--;
}

/* Forgets connections made by another process (before fork): they are the parent's. */
static void pool_check_owner(void) {
    pid_t me = getpid();
    if (pool.pid == me) return;
    redis_conn *c = pool.idle;
    while (c) {
        redis_conn *next = c->next;
        /* the socket is a copy of the parent's: closing ours leaves theirs open */
        redisFree(c->ctx);
        free(c->url);
        free(c);
        c = next;
    }
    pool.idle = NULL;
    pool.idle_count = 0;
    pool.open_count = 0;
    pool.pid = me;
}

void session_redis_close_all(void) {
    pool_check_owner();
    while (pool.idle) {
        redis_conn *c = pool.idle;
        pool.idle = c->next;
        conn_free(c);
    }
    pool.idle_count = 0;
}

static void conn_release(redis_conn *c) {
    if (pool.idle_count >= MAX_IDLE) {
        conn_free(c);
        return;
    }
    c->next = pool.idle;
    pool.idle = c;
    pool.idle_count++;
}

/* Sends what hiredis has buffered and reads until one reply is complete. */
static int exchange(redis_conn *c, uint64_t deadline, redisReply **reply_out, char *err, size_t errlen) {
    redisContext *ctx = c->ctx;
    int done = 0;
    while (!done) {
        if (redisBufferWrite(ctx, &done) != REDIS_OK) {
            snprintf(err, errlen, "write: %s", ctx->errstr[0] ? ctx->errstr : strerror(errno));
            return -1;
        }
        if (done) break;
        int rc = vial_wait_fd(ctx->fd, VIAL_WAIT_WRITE, remaining_ms(deadline));
        if (rc == 0) {
            snprintf(err, errlen, "timed out writing the command");
            return -1;
        }
        if (rc < 0) {
            snprintf(err, errlen, "write: %s", strerror(errno));
            return -1;
        }
    }
    for (;;) {
        void *reply = NULL;
        if (redisGetReplyFromReader(ctx, &reply) != REDIS_OK) {
            snprintf(err, errlen, "bad reply: %s", ctx->errstr);
            return -1;
        }
        if (reply) {
            *reply_out = reply;
            return 0;
        }
        ssize_t n = read(ctx->fd, read_buf, sizeof read_buf);
        if (n > 0) {
            if (redisReaderFeed(ctx->reader, read_buf, (size_t)n) != REDIS_OK) {
                snprintf(err, errlen, "bad reply: %s", ctx->reader->errstr);
                return -1;
            }
            continue;
        }
        if (n == 0) {
            snprintf(err, errlen, "Redis closed the connection");
            return -1;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "read: %s", strerror(errno));
            return -1;
        }
        int rc = vial_wait_fd(ctx->fd, VIAL_WAIT_READ, remaining_ms(deadline));
        if (rc == 0) {
            snprintf(err, errlen, "timed out waiting for the reply");
            return -1;
        }
        if (rc < 0) {
            snprintf(err, errlen, "read: %s", strerror(errno));
            return -1;
        }
    }
}

/* One command on an open connection; an error reply is returned as a reply, not a failure. */
static int run_command(redis_conn *c, int argc, const char **argv, const size_t *argvlen, uint64_t deadline,
                       redisReply **reply, char *err, size_t errlen) {
    if (redisAppendCommandArgv(c->ctx, argc, argv, argvlen) != REDIS_OK) {
        snprintf(err, errlen, "cannot build the command: %s", c->ctx->errstr);
        return -1;
    }
    return exchange(c, deadline, reply, err, errlen);
}

/* AUTH / SELECT after connecting; -1 with err on an error reply. */
static int setup_command(redis_conn *c, int argc, const char **argv, uint64_t deadline, char *err, size_t errlen) {
    redisReply *reply = NULL;
    if (run_command(c, argc, argv, NULL, deadline, &reply, err, errlen) != 0) return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%s: %s", argv[0], reply->str);
        rc = -1;
    }
    freeReplyObject(reply);
    return rc;
}

static redis_conn *conn_open(const char *url, uint64_t deadline, char *err, size_t errlen) {
    redis_url u;
    if (parse_url(url, &u, err, errlen) != 0) return NULL;
    redis_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(url))) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pool.open_count++;
    c->ctx = u.unix_path[0] ? redisConnectUnixNonBlock(u.unix_path) : redisConnectNonBlock(u.host, u.port);
    if (!c->ctx) {
        snprintf(err, errlen, "connect: out of memory");
        conn_free(c);
        return NULL;
    }
    if (c->ctx->err) {
        snprintf(err, errlen, "connect: %s", c->ctx->errstr);
        conn_free(c);
        return NULL;
    }
    /* A non-blocking connect completes when the socket turns writable; SO_ERROR says how. */
    int rc = vial_wait_fd(c->ctx->fd, VIAL_WAIT_WRITE, remaining_ms(deadline));
    if (rc <= 0) {
        snprintf(err, errlen, "connect: %s", rc == 0 ? "timed out" : strerror(errno));
        conn_free(c);
        return NULL;
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (getsockopt(c->ctx->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
    if (so_error) {
        snprintf(err, errlen, "connect: %s", strerror(so_error));
        conn_free(c);
        return NULL;
    }
    if (u.password[0]) {
        const char *auth_user[] = {"AUTH", u.user, u.password};
        const char *auth[] = {"AUTH", u.password};
        int failed = u.user[0] ? setup_command(c, 3, auth_user, deadline, err, errlen)
                               : setup_command(c, 2, auth, deadline, err, errlen);
        if (failed) {
            conn_free(c);
            return NULL;
        }
    }
    if (u.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", u.db);
        const char *select[] = {"SELECT", db};
        if (setup_command(c, 2, select, deadline, err, errlen) != 0) {
            conn_free(c);
            return NULL;
        }
    }
    return c;
}

/* An idle connection to url, a new one, or (all busy) the first one given back before the deadline. */
static redis_conn *conn_acquire(const char *url, uint64_t deadline, bool *reused, char *err, size_t errlen) {
    pool_check_owner();
    for (;;) {
        for (redis_conn **p = &pool.idle; *p; p = &(*p)->next) {
            if (strcmp((*p)->url, url) == 0) {
                redis_conn *c = *p;
                *p = c->next;
                pool.idle_count--;
                *reused = true;
                return c;
            }
        }
        *reused = false;
        if (pool.open_count < MAX_CONNECTIONS) return conn_open(url, deadline, err, errlen);
        if (remaining_ms(deadline) == 0) {
            snprintf(err, errlen, "all %d connections of this worker are busy", MAX_CONNECTIONS);
            return NULL;
        }
        vial_sleep_ms(2);
    }
}

static void convert_reply(vial_arena *a, const redisReply *r, redis_result *out) {
    memset(out, 0, sizeof *out);
    switch (r->type) {
    case REDIS_REPLY_NIL: out->kind = REDIS_RESULT_NIL; break;
    case REDIS_REPLY_INTEGER:
        out->kind = REDIS_RESULT_INTEGER;
        out->integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out->kind = r->type == REDIS_REPLY_STRING   ? REDIS_RESULT_STRING
                    : r->type == REDIS_REPLY_STATUS ? REDIS_RESULT_STATUS
                                                    : REDIS_RESULT_ERROR;
        out->str.ptr = vial_arena_strndup(a, r->str, r->len);
        out->str.len = out->str.ptr ? r->len : 0;
        if (!out->str.ptr) out->str.ptr = "";
        break;
    default: out->kind = REDIS_RESULT_OTHER; break;
    }
}

int session_redis_command(vial_arena *a, const char *url, int timeout_ms, int argc, const char **argv,
                          const size_t *argvlen, redis_result *out, char *err, size_t errlen) {
    if (timeout_ms <= 0) timeout_ms = 1;
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = false;
        redis_conn *c = conn_acquire(url, deadline, &reused, err, errlen);
        if (!c) return -1;
        redisReply *reply = NULL;
        if (run_command(c, argc, argv, argvlen, deadline, &reply, err, errlen) == 0) {
            convert_reply(a, reply, out);
            freeReplyObject(reply);
            conn_release(c);
            return 0;
        }
        conn_free(c);
        /* An idle connection may have died since (Redis restarted, idle timeout):
         * the commands here are idempotent, so one retry on a new connection is safe.
         * A timeout is not retried: Redis is there, but slow. */
        if (!reused || strstr(err, "timed out")) return -1;
    }
    return -1;
}
