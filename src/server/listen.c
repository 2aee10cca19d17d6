/* listen.c - the listening sockets.
 *
 * The master binds one socket per worker slot, all to the same address with
 * SO_REUSEPORT, so the kernel hands each new connection to one worker's
 * socket without a shared accept lock. The master keeps every socket open
 * for the life of the server: a worker that dies or is replaced loses no
 * queued connection (its slot's queue waits for the next worker), and the
 * reuseport group never changes size, which would rehash connections in
 * flight. A reload passes the same sockets to the re-executed binary. */
#include "server/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int vial_listen_bind(const char *host, int port, int backlog, vial_sockaddr *addr, char *err, size_t errlen) {
    if (!host || !*host) host = "127.0.0.1";
    if (port < 0 || port > 65535) {
        snprintf(err, errlen, "port %d is out of range", port);
        return -1;
    }
    /* "[::1]" as in a URL */
    char name[256];
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof name) {
        memcpy(name, host + 1, hl - 2);
        name[hl - 2] = '\0';
    } else {
        snprintf(name, sizeof name, "%s", host);
    }
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(name, service, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
            last_errno = errno;
            close(fd);
            fd = -1;
            continue;
        }
        break;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s", host, port,
                 last_errno ? strerror(last_errno) : "no IPv4/IPv6 address");
        return -1;
    }
    if (vial_listen_address(fd, addr) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int vial_listen_address(int fd, vial_sockaddr *addr) {
    int listening = 0;
    socklen_t optlen = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || !listening) return -1;
    socklen_t len = sizeof *addr;
    memset(addr, 0, sizeof *addr);
    if (getsockname(fd, &addr->sa, &len) != 0) return -1;
    if (addr->sa.sa_family != AF_INET && addr->sa.sa_family != AF_INET6) return -1;
    return 0;
}

int vial_listen_port(const vial_sockaddr *addr) {
    return ntohs(addr->sa.sa_family == AF_INET6 ? addr->in6.sin6_port : addr->in.sin_port);
}

void vial_listen_url(const vial_sockaddr *addr, char *out, size_t n) {
    char ip[INET6_ADDRSTRLEN] = "?";
    if (addr->sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &addr->in6.sin6_addr, ip, sizeof ip);
        snprintf(out, n, "http://[%s]:%d", ip, vial_listen_port(addr));
    } else {
        inet_ntop(AF_INET, &addr->in.sin_addr, ip, sizeof ip);
        snprintf(out, n, "http://%s:%d", ip, vial_listen_port(addr));
    }
}
