/* listen.h - listening sockets: bound by the master, inherited across reloads. */
#ifndef VIAL_SERVER_LISTEN_H
#define VIAL_SERVER_LISTEN_H

#include <stddef.h>

#include "server/worker.h"

/* Binds one listening socket (SO_REUSEPORT, non-blocking, close-on-exec) to
 * host:port; port 0 takes a free one. The bound address goes to *addr.
 * Returns the fd, or -1 with a message in err. */
int vial_listen_bind(const char *host, int port, int backlog, vial_sockaddr *addr, char *err, size_t errlen);
/* The address a socket is bound to; -1 when fd is not a listening TCP socket. */
int vial_listen_address(int fd, vial_sockaddr *addr);
/* Writes "http://127.0.0.1:5000" (IPv6 in brackets). */
void vial_listen_url(const vial_sockaddr *addr, char *out, size_t n);
/* The port of an address. */
int vial_listen_port(const vial_sockaddr *addr);

#endif
